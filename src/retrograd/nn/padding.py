"""Padding layers: constant (ConstantPad*, ZeroPad*), reflection, replication and circular,
each a Module around ``F.pad`` that stores the pads as PyTorch does (a tuple, last dim first)."""

from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module

__all__ = [
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
    "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
    "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]


def _pads(padding, nd: int) -> tuple:
    if isinstance(padding, int):
        return (padding,) * (2 * nd)
    return tuple(padding)


class _PadNd(Module):
    mode = "constant"
    nd = 1

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _pads(padding, self.nd)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


def _layer(name: str, base: type, nd: int, mode: str, what: str) -> type:
    doc = f"Pad the last {nd} dim{'s' if nd > 1 else ''} of the input {what}."
    return type(name, (base,), {"nd": nd, "mode": mode, "__doc__": doc, "__module__": __name__})


ConstantPad1d = _layer("ConstantPad1d", _ConstantPadNd, 1, "constant", "with a constant")
ConstantPad2d = _layer("ConstantPad2d", _ConstantPadNd, 2, "constant", "with a constant")
ConstantPad3d = _layer("ConstantPad3d", _ConstantPadNd, 3, "constant", "with a constant")
ZeroPad1d = _layer("ZeroPad1d", _ZeroPadNd, 1, "constant", "with zeros")
ZeroPad2d = _layer("ZeroPad2d", _ZeroPadNd, 2, "constant", "with zeros")
ZeroPad3d = _layer("ZeroPad3d", _ZeroPadNd, 3, "constant", "with zeros")
ReflectionPad1d = _layer("ReflectionPad1d", _PadNd, 1, "reflect", "with its reflection")
ReflectionPad2d = _layer("ReflectionPad2d", _PadNd, 2, "reflect", "with its reflection")
ReflectionPad3d = _layer("ReflectionPad3d", _PadNd, 3, "reflect", "with its reflection")
ReplicationPad1d = _layer("ReplicationPad1d", _PadNd, 1, "replicate", "with its edge values")
ReplicationPad2d = _layer("ReplicationPad2d", _PadNd, 2, "replicate", "with its edge values")
ReplicationPad3d = _layer("ReplicationPad3d", _PadNd, 3, "replicate", "with its edge values")
CircularPad1d = _layer("CircularPad1d", _PadNd, 1, "circular", "wrapping around")
CircularPad2d = _layer("CircularPad2d", _PadNd, 2, "circular", "wrapping around")
CircularPad3d = _layer("CircularPad3d", _PadNd, 3, "circular", "wrapping around")
