"""``set_default_device`` / ``get_default_device``: retrograd computes on the CPU only.

Programs call ``torch.set_default_device(device)`` once with the device they picked (the CPU
when there is no accelerator). The CPU (or None, the default) is accepted; any other device
raises at once, with the error PyTorch gives when that backend is missing.
"""

from __future__ import annotations

from ._types import device
from .cuda import check_device

__all__ = ["get_default_device", "set_default_device"]


def set_default_device(device) -> None:  # noqa: F811 - PyTorch's parameter name
    """Accept the cpu (or None); raise for any other device: tensors here live on the cpu."""
    check_device(device)


def get_default_device() -> device:
    return device("cpu")
