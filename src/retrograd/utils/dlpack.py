"""DLPack: tensors shared, without copying, with NumPy, PyTorch and other array libraries.

``retrograd.from_dlpack(x)`` makes a tensor over the memory of any object with
``__dlpack__`` (a NumPy array, a PyTorch CPU tensor, ...) or of a DLPack capsule, and
``np.from_dlpack(t)`` / ``torch.from_dlpack(t)`` do the reverse through ``Tensor.__dlpack__``;
writes through one are seen through the other. NumPy does the DLPack work on both sides.
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..tensor import Tensor, _wrap

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]


class DLDeviceType(enum.IntEnum):
    """The device codes of the DLPack specification."""

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14


class _Capsule:
    """Presents a bare DLPack capsule (``to_dlpack``'s result) as an exporter to NumPy."""

    def __init__(self, capsule) -> None:
        self.capsule = capsule

    def __dlpack__(self, **kwargs):
        capsule, self.capsule = self.capsule, None
        if capsule is None:
            raise BufferError("a DLPack capsule can be consumed only once")
        return capsule

    def __dlpack_device__(self) -> tuple:
        return (1, 0)


def from_dlpack(ext_tensor: Any, *, device=None, copy: bool | None = None) -> Tensor:
    """A tensor sharing the memory of ``ext_tensor`` (an object with ``__dlpack__``, or a
    DLPack capsule); ``copy=True`` copies instead. CPU memory only."""
    source = ext_tensor if hasattr(ext_tensor, "__dlpack__") else _Capsule(ext_tensor)
    kwargs = {} if copy is None else {"copy": copy}
    if device is not None and str(device) != "cpu":
        raise RuntimeError(f"retrograd tensors live on the CPU; can't import to {device}")
    arr = np.from_dlpack(source, **kwargs)
    if arr.dtype not in _dt.FROM_NUMPY:
        raise TypeError(f"from_dlpack: retrograd has no tensors of dtype {arr.dtype} (it has "
                        "float64, float32, float16, int64, int32, int16, int8, uint8 and bool)")
    return _wrap(arr)


def to_dlpack(tensor: Tensor):
    """A DLPack capsule of ``tensor`` (legacy interface: prefer ``from_dlpack(tensor)``)."""
    return tensor.__dlpack__()
