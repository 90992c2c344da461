"""Reductions: sum, mean, and friends, with their derivatives.

``dim`` may be None (all dimensions), an int or a tuple of ints; ``keepdim`` keeps reduced
dimensions with size 1. Backward broadcasts the gradient back over the reduced dimensions.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..autograd.function import Function
from ..tensor import Tensor, _wrap_dim


def normalize_dims(dim, ndim: int) -> tuple:
    """``dim`` (None, int, or sequence) as a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        return (_wrap_dim(dim, ndim),)
    dims = tuple(_wrap_dim(d, ndim) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims} appears multiple times in the list of dims")
    if not dims:  # PyTorch: an empty dim list means all dimensions
        return tuple(range(ndim))
    return tuple(sorted(dims))


def expand_reduced(grad: Tensor, in_shape: tuple, axes: tuple, keepdim: bool) -> Tensor:
    """Broadcast a reduction's gradient back to the input's shape."""
    if not keepdim and in_shape:
        kept = list(in_shape)
        for a in axes:
            kept[a] = 1
        grad = grad.reshape(tuple(kept))
    return grad.expand(in_shape)


def _sum_dtype(arr: np.ndarray):
    """Sums of bool and integer tensors are int64, as in PyTorch."""
    return np.int64 if arr.dtype.kind in "biu" else None


class Sum(Function):
    """out = sum of x over all elements;  dx = grad broadcast to x's shape"""

    node_name = "SumBackward0"
    _builtin = True

    @staticmethod
    def forward(ctx, x):
        a = x._data
        ctx.in_shape = a.shape
        return np.asarray(a.sum(dtype=_sum_dtype(a)))

    @staticmethod
    def backward(ctx, grad):
        return grad.expand(ctx.in_shape)


class SumDim(Function):
    """out = sum of x over ``dims``;  dx = grad broadcast back over those dims"""

    node_name = "SumBackward1"
    _builtin = True

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        a = x._data
        ctx.in_shape = a.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        return np.asarray(a.sum(axis=axes, keepdims=keepdim, dtype=_sum_dtype(a)))

    @staticmethod
    def backward(ctx, grad):
        return expand_reduced(grad, ctx.in_shape, ctx.axes, ctx.keepdim), None, None


class Mean(Function):
    """out = mean of all elements;  dx = grad / numel broadcast to x's shape"""

    node_name = "MeanBackward0"
    _builtin = True

    @staticmethod
    def forward(ctx, x):
        a = x._data
        ctx.in_shape = a.shape
        ctx.count = a.size
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(a.mean())

    @staticmethod
    def backward(ctx, grad):
        return (grad / ctx.count).expand(ctx.in_shape)


class MeanDim(Function):
    """out = mean over ``dims``;  dx = grad / count broadcast back over those dims"""

    node_name = "MeanBackward1"
    _builtin = True

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        a = x._data
        ctx.in_shape = a.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        count = 1
        for ax in axes:
            count *= a.shape[ax]
        ctx.count = count
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(a.mean(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        return expand_reduced(grad / ctx.count, ctx.in_shape, ctx.axes, ctx.keepdim), None, None


def sum(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001
    """Sum of the elements, over all or the given dimensions."""
    if dtype is not None:
        x = x.to(_dt.to_dtype(dtype))
    if dim is None:
        if keepdim:
            return SumDim.apply(x, tuple(range(x._data.ndim)), True)
        return Sum.apply(x)
    return SumDim.apply(x, normalize_dims(dim, x._data.ndim), keepdim)


def mean(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Arithmetic mean, over all or the given dimensions (floating-point tensors only)."""
    if dtype is not None:
        x = x.to(_dt.to_dtype(dtype))
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {x.dtype.name.capitalize()}. Convert it with .float() "
            "first.")
    if dim is None:
        if keepdim:
            return MeanDim.apply(x, tuple(range(x._data.ndim)), True)
        return Mean.apply(x)
    return MeanDim.apply(x, normalize_dims(dim, x._data.ndim), keepdim)
