"""``retrograd.accelerator``: what ``torch.accelerator`` says on a machine without one.

Programs written for any device start with
``device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available()
else "cpu"``. retrograd computes on the CPU only, so the answers are those of PyTorch on a
CPU-only machine: no accelerator is available, the current one is ``None``, and there are none.
"""

from __future__ import annotations

__all__ = ["current_accelerator", "device_count", "is_available"]


def is_available() -> bool:
    """False: retrograd has no accelerator (CUDA, MPS, XPU, ...)."""
    return False


def current_accelerator(check_available: bool = False):
    """None: there is no accelerator device (PyTorch answers the same on a CPU-only build)."""
    return None


def device_count() -> int:
    return 0
