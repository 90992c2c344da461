"""Deterministic weights for the client programs, so both libraries start from the same model
(their random generators differ)."""
import torch


def det_init(model, scale=0.5):
    """Overwrite every parameter with a fixed, varied pattern of values."""
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            n = p.numel()
            fan_in = p.shape[-1] if p.dim() > 1 else 4
            pattern = torch.arange(n, dtype=torch.float64).mul(0.7 + 0.13 * i).sin()
            p.copy_((pattern * scale / fan_in ** 0.5).reshape(p.shape).to(p.dtype))
    return model
