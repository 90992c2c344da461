"""``retrograd.onnx``: present so programs that ``import torch.onnx`` load; exporting is not
supported (retrograd records no static graph that an ONNX exporter could serialise)."""

from __future__ import annotations


def export(model, args, f=None, *rest, **kwargs):
    """Not supported: raises NotImplementedError saying so."""
    raise NotImplementedError(
        "retrograd.onnx.export is not supported: retrograd has no ONNX exporter. Save the "
        "weights with retrograd.save(model.state_dict(), path) (or format='torch' for PyTorch) "
        "and export from PyTorch instead.")


def is_in_onnx_export() -> bool:
    """Always False: retrograd never traces for ONNX export."""
    return False
