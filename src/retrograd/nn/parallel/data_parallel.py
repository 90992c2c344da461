"""DataParallel: split a batch over several GPUs. retrograd has none, so it runs the module.

PyTorch's ``DataParallel`` with no GPU calls the wrapped module directly; programs wrap their
model when ``torch.cuda.device_count() > 1`` and otherwise use it as it is. Here the wrapper
keeps PyTorch's outward shape: the model is the ``module`` child (state dict keys start with
``module.``) and a forward is one call of it; ``device_ids`` are ignored, as PyTorch
ignores them when CUDA is not available.
"""

from __future__ import annotations

from ..module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    """Run ``module`` on the batch as it is (there are no GPUs to split it over)."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.device_ids: list = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
