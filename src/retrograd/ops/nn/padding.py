"""Padding: constant (``ConstantPadNd``) and the modes that copy input values outward
(reflect, replicate, circular) as one gather per padded dimension.

Note [Padding as a gather]
    A reflect, replicate or circular pad of the last k dims picks, along each padded axis, the
    input position ``src[j]`` for each output position j (positions may repeat), so the forward
    is one ``take`` per axis and the derivative sums the gradient back onto the positions it
    came from (``np.add.at``, in reverse axis order). The two are adjoint linear maps, so each
    is the other's backward and every order of derivative costs one gather or one scatter.
    Negative pads crop, in every mode, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from ...autograd.forward_ad import linear_jvp
from ...autograd.function import Function

__all__ = ["ConstantPadNd", "gather_pad", "gather_pair", "source_positions"]


def _constant_pad(a: np.ndarray, pads: tuple, value) -> np.ndarray:
    """a with ``pads`` ((lo, hi) for each of the last dims, the last dim first) added (value)
    or cropped (negative)."""
    k = len(pads)
    crop = [slice(None)] * (a.ndim - k)
    widths = [(0, 0)] * (a.ndim - k)
    for lo, hi in reversed(pads):
        crop.append(slice(max(-lo, 0), a.shape[len(crop)] - max(-hi, 0)))
        widths.append((max(lo, 0), max(hi, 0)))
    cropped = a[tuple(crop)]
    if not any(lo or hi for lo, hi in widths):
        return cropped.copy()
    return np.pad(cropped, widths, constant_values=np.asarray(value).astype(a.dtype))


class ConstantPadNd(Function):
    """out = x padded with ``value`` (cropped where a pad is negative);
    dx = grad cropped back (ConstantPadNd of grad with the pads negated, value 0)"""

    jvp_values = (2,)

    @staticmethod
    def forward(ctx, x, pads, value):
        ctx.pads = pads
        return _constant_pad(x._data, pads, value)

    @staticmethod
    def backward(ctx, grad):
        back = tuple((-lo, -hi) for lo, hi in ctx.pads)
        return ConstantPadNd.apply(grad, back, 0), None, None

    jvp = linear_jvp


def source_positions(mode: str, size: int, lo: int, hi: int) -> np.ndarray:
    """For each output position along one axis, the input position it copies (Note [Padding as
    a gather])."""
    if mode == "circular":  # NOTE: PyTorch crops first, then wraps around what is left
        start, stop = max(-lo, 0), size - max(-hi, 0)
        kept = stop - start
        return start + np.arange(-max(lo, 0), kept + max(hi, 0)) % kept
    i = np.arange(-lo, size + hi)
    if mode == "reflect":
        i = np.abs(i)
        return np.where(i >= size, 2 * (size - 1) - i, i)
    return np.clip(i, 0, size - 1)  # replicate


def _gather(a: np.ndarray, sources: tuple) -> np.ndarray:
    k = len(sources)
    for axis, src in zip(range(a.ndim - k, a.ndim), sources):
        a = np.take(a, src, axis=axis)
    return a


def _scatter(g: np.ndarray, sources: tuple, sizes: tuple) -> np.ndarray:
    k = len(sources)
    for axis, src, size in reversed(list(zip(range(g.ndim - k, g.ndim), sources, sizes))):
        moved = np.moveaxis(g, axis, 0)
        out = np.zeros((size,) + moved.shape[1:], dtype=g.dtype)
        np.add.at(out, src, moved)
        g = np.moveaxis(out, 0, axis)
    return g


class _GatherPad(Function):
    """out = x gathered along its last dims at ``sources`` (Note [Padding as a gather]);
    dx = the gradient summed back onto the source positions (``_ScatterPad``)"""

    @classmethod
    def forward(cls, ctx, x, sources):
        ctx.sources = sources
        ctx.sizes = x._data.shape[x._data.ndim - len(sources):]
        return _gather(x._data, sources)

    @classmethod
    def backward(cls, ctx, grad):
        return cls.grad_op.apply(grad, ctx.sources, ctx.sizes), None

    jvp = linear_jvp


class _ScatterPad(Function):
    """out = grad summed onto the source positions (a gather pad's derivative);
    dgrad = the gather pad of gg"""

    @classmethod
    def forward(cls, ctx, grad, sources, sizes):
        ctx.sources = sources
        return _scatter(grad._data, sources, sizes)

    @classmethod
    def backward(cls, ctx, gg):
        return cls.pad_op.apply(gg, ctx.sources), None, None

    jvp = linear_jvp


def gather_pair(name: str, module: str = __name__, grad_name: str | None = None,
                node_name: str | None = None) -> tuple:
    """A gather Function named ``name`` (node ``{name}Backward0``) and its scatter derivative
    (node ``{name}BackwardBackward0``), each the other's backward."""
    pad = type(name, (_GatherPad,), {"node_name": node_name or f"{name}Backward0",
                                      "__module__": module,
                                      "__doc__": _GatherPad.__doc__})
    grad = type(f"{name}Grad", (_ScatterPad,), {
        "node_name": grad_name or f"{name}BackwardBackward0", "__module__": module,
        "__doc__": _ScatterPad.__doc__})
    pad.grad_op, grad.pad_op = grad, pad
    return pad, grad


def _pair(mode_name: str, nd: int) -> tuple:
    return gather_pair(f"{mode_name}Pad{nd}D")


ReflectionPad1D, ReflectionPad1DGrad = _pair("Reflection", 1)
ReflectionPad2D, ReflectionPad2DGrad = _pair("Reflection", 2)
ReflectionPad3D, ReflectionPad3DGrad = _pair("Reflection", 3)
ReplicationPad1D, ReplicationPad1DGrad = _pair("Replication", 1)
ReplicationPad2D, ReplicationPad2DGrad = _pair("Replication", 2)
ReplicationPad3D, ReplicationPad3DGrad = _pair("Replication", 3)
# PyTorch builds a circular pad from slice copies, so its node is CopySlices
CircularPad, CircularPadGrad = gather_pair("CircularPad", grad_name="CircularPadGradBackward0",
                                           node_name="CopySlices")

_GATHER = {("reflect", 1): ReflectionPad1D, ("reflect", 2): ReflectionPad2D,
           ("reflect", 3): ReflectionPad3D, ("replicate", 1): ReplicationPad1D,
           ("replicate", 2): ReplicationPad2D, ("replicate", 3): ReplicationPad3D,
           ("circular", 1): CircularPad, ("circular", 2): CircularPad,
           ("circular", 3): CircularPad}


def gather_pad(x, mode: str, pads: tuple):
    """Pad the last len(pads) dims of x in ``mode``; ``pads`` as (lo, hi) per dim, last dim
    first (the caller has checked the sizes)."""
    shape = x._data.shape
    k = len(pads)
    sources = tuple(source_positions(mode, shape[x._data.ndim - k + i], lo, hi)
                    for i, (lo, hi) in enumerate(reversed(pads)))
    return _GATHER[mode, k].apply(x, sources)
