"""Counting and searching (no gradient, as in PyTorch): ``histc``, ``bincount``, ``bucketize``,
``searchsorted``; and ``aminmax``, the smallest and largest elements together (with a gradient
shared among ties, like ``amin``/``amax``)."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor, _wrap
from ._registry import expose
from .reduce import kept, normalize_dims, record_reduction


def _dtype_name(t: Tensor) -> str:
    return str(t.dtype)[6:].title()


def histc(x: Tensor, bins: int = 100, min=0, max=0) -> Tensor:  # noqa: A002 - PyTorch's names
    """Counts of x's elements in ``bins`` equal bins over [min, max] (the data's range when both
    are 0); elements outside are ignored, the last bin includes max."""
    a = x._data
    if a.dtype.kind != "f":
        raise RuntimeError(f"\"histogram_cpu\" not implemented for '{_dtype_name(x)}'; histc "
                           "needs a floating-point tensor.")
    if bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for dimension 0")
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"torch.histc: max must be larger than min, got min {min} and max "
                           f"{max}")
    counts, _ = np.histogram(a[~np.isnan(a)], bins=bins, range=(lo, hi))
    return _wrap(counts.astype(a.dtype))


def bincount(x: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ... occurs in the 1-D int tensor x (or the sum of the
    ``weights`` at its places)."""
    a = x._data
    if a.ndim != 1 or a.dtype.kind not in "iub":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if a.size and a.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return _wrap(np.bincount(a, minlength=minlength).astype(np.int64))
    w = weights._data
    if w.shape != a.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dt = w.dtype if w.dtype.kind == "f" else np.float64
    return _wrap(np.bincount(a, weights=w, minlength=minlength).astype(dt))


def _side(right: bool, side: str | None) -> str:
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        return side
    return "right" if right else "left"


def searchsorted(sorted_sequence: Tensor, values, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter=None) -> Tensor:
    """Where each value would go in the sorted last dim of ``sorted_sequence`` to keep it
    sorted (``right``/``side='right'``: after equal elements)."""
    seq = sorted_sequence._data
    vals = values._data if isinstance(values, Tensor) else np.asarray(values)
    how = _side(right, side)
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter._data, -1)
    dt = np.int32 if out_int32 else np.int64
    if seq.ndim <= 1:
        return _wrap(np.searchsorted(seq, vals, side=how).astype(dt))
    if seq.shape[:-1] != vals.shape[:-1]:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(seq.shape)} and input value tensor {list(vals.shape)}")
    out = np.empty(vals.shape, dtype=dt)
    for i in np.ndindex(*seq.shape[:-1]):
        out[i] = np.searchsorted(seq[i], vals[i], side=how)
    return _wrap(out)


def bucketize(x, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The index of the bucket of each element of x: boundaries[i-1] < x <= boundaries[i]
    (``right=True``: boundaries[i-1] <= x < boundaries[i])."""
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries._data.ndim})")
    vals = x._data if isinstance(x, Tensor) else np.asarray(x)
    how = "right" if right else "left"
    return _wrap(np.searchsorted(boundaries._data, vals, side=how).astype(
        np.int32 if out_int32 else np.int64))


class _MinMax(tuple):
    __slots__ = ()

    min = property(lambda self: self[0])  # noqa: A003 - PyTorch's field names
    max = property(lambda self: self[1])  # noqa: A003

    def __repr__(self) -> str:
        return f"torch.return_types.aminmax(\nmin={self[0]!r},\nmax={self[1]!r})"


aminmax_result = type("aminmax", (_MinMax,), {"__slots__": (), "__module__": __name__})


class Aminmax(Function):
    """(min, max) over ``axes``;  dx = each grad shared evenly among the elements equal to its
    result"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        a = x._data
        record_reduction(ctx, a, axes, keepdim)
        lo = np.asarray(np.amin(a, axis=axes, keepdims=keepdim))
        hi = np.asarray(np.amax(a, axis=axes, keepdims=keepdim))
        ctx.save_for_backward(x, lo, hi)
        return lo, hi

    @staticmethod
    def backward(ctx, g_lo, g_hi):
        x, lo, hi = ctx.saved_tensors
        out = None
        for g, r in ((g_lo, lo), (g_hi, hi)):
            if g is None:
                continue
            hit = x == kept(ctx, r)
            term = kept(ctx, g) * hit / hit.sum(ctx.axes, keepdim=True)
            out = term if out is None else out + term
        return out, None, None

    @staticmethod
    def jvp(ctx, tx, *_):  # each result moves with the mean tangent of the elements equal to it
        x, lo, hi = ctx.saved_tensors
        outs = []
        for r in (lo, hi):
            hit = x == kept(ctx, r)
            share = (tx * hit).sum(ctx.axes, keepdim=True) / hit.sum(ctx.axes, keepdim=True)
            outs.append(share.reshape(r.shape))
        return tuple(outs)


def aminmax(x: Tensor, *, dim=None, keepdim: bool = False):
    """``(min, max)`` over ``dim`` (all elements by default)."""
    a = x._data
    if a.size == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    axes = normalize_dims(dim, a.ndim)
    return aminmax_result(Aminmax.apply(x, axes, keepdim))


expose({"histc": histc, "bincount": bincount, "aminmax": aminmax})
expose({"searchsorted": searchsorted, "bucketize": bucketize}, method=False)
