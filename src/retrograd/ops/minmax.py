"""Reductions that select elements: max, min, amax, amin, argmax, argmin.

Their gradients follow PyTorch at ties: ``max(dim)``/``min(dim)`` send the gradient to the
one selected index, while the full ``max()``/``min()`` and ``amax``/``amin`` share it evenly
among all the elements equal to the result (see the NOTEs in each rule).
"""

from __future__ import annotations

import numpy as np

from ..autograd.forward_ad import reduction_jvp
from ..autograd.function import Function
from ..tensor import Tensor, _wrap
from ._registry import expose
from .elementwise import maximum, minimum, where
from .reduce import kept, normalize_dims, one_dim, record_reduction


def _check_nonzero_size(a: np.ndarray, axes: tuple, fn: str) -> None:
    """Reductions without an identity (max, amax, argmax) cannot reduce an empty dimension."""
    for ax in axes:
        if a.shape[ax] == 0:
            raise IndexError(
                f"{fn}(): Expected reduction dim {ax} to have non-zero size, because {fn} of "
                "nothing is undefined. Reduce another dim, or check the input is not empty.")


def _check_nonempty(a: np.ndarray, fn: str, exc=RuntimeError) -> None:
    if a.size == 0:
        raise exc(
            f"{fn}(): Expected reduction dim to be specified for input.numel() == 0; the "
            f"{fn} of an empty tensor is undefined. Specify the reduction dim with the 'dim' "
            "argument.")


def _one_axis(a: np.ndarray, dim, fn: str) -> int:
    """The wrapped single ``dim`` of max(dim)/argmax(dim), checked to be non-empty."""
    axis = one_dim(dim, a.ndim, fn)
    if a.ndim:
        _check_nonzero_size(a, (axis,), fn)
    return axis


class _ValuesIndices(tuple):
    """The ``(values, indices)`` pair of ``max(dim)``/``min(dim)``, like ``torch.return_types``.

    It unpacks and indexes like a tuple and names its fields ``.values`` and ``.indices``.
    """

    __slots__ = ()

    def __new__(cls, values: Tensor, indices: Tensor):
        return tuple.__new__(cls, (values, indices))

    @property
    def values(self) -> Tensor:
        return self[0]

    @property
    def indices(self) -> Tensor:
        return self[1]

    def __repr__(self) -> str:
        return (f"torch.return_types.{type(self).__name__}(\nvalues={self[0]!r},\n"
                f"indices={self[1]!r})")

    def __reduce__(self):
        return (type(self), tuple(self))


class return_types:  # noqa: N801 - PyTorch's name
    """The named result types, as ``torch.return_types.max`` etc."""

    max = type("max", (_ValuesIndices,), {"__slots__": (), "__module__": __name__,
                                          "__qualname__": "return_types.max"})
    min = type("min", (_ValuesIndices,), {"__slots__": (), "__module__": __name__,
                                          "__qualname__": "return_types.min"})


# ---- max, min, amax, amin -------------------------------------------------------------------


def share_evenly(grad: Tensor, x: Tensor, out: Tensor, axes=None, select: bool = False) -> Tensor:
    """The gradient of a max/min-like reduction: ``grad`` split evenly among the elements that
    equal the result (``out``, with reduced dims kept as size 1); ``select``: 0 elsewhere even
    for an infinite or NaN grad (PyTorch's full max/min), else a product with the mask."""
    mask = x == out
    if x._data.dtype.kind == "f" and np.isnan(out._data).any():
        # NOTE: a NaN result came from the NaNs in the input; they take the gradient
        mask = mask | (x.isnan() & out.isnan())
    count = mask.sum() if axes is None else mask.sum(axes, keepdim=True)
    if select:
        return where(mask, grad / count, 0.0)
    return (grad / count) * mask


class MaxAll(Function):
    """out = max of all elements;  dx = grad shared evenly among the elements equal to out"""

    node_name = "MaxBackward1"
    _np_fn = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx, x):
        out = np.asarray(cls._np_fn(x._data))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        # NOTE: ties split the gradient evenly, as PyTorch's full max/min does
        return share_evenly(grad, x, out, select=True)

    jvp = reduction_jvp


class MinAll(MaxAll):
    """out = min of all elements;  dx = grad shared evenly among the elements equal to out"""

    node_name = "MinBackward1"
    _np_fn = staticmethod(np.min)


class MaxDim(Function):
    """(values, indices) = max over ``axis``;  dx = grad at the selected index, 0 elsewhere"""

    node_name = "MaxBackward0"
    ctx_arrays = ("_saved_idx",)
    _arg_fn = staticmethod(np.argmax)

    @classmethod
    def forward(cls, ctx, x, axis, keepdim):
        a = x._data
        record_reduction(ctx, a, (axis,), keepdim)
        if a.ndim == 0:
            idx = np.zeros((), dtype=np.int64)
            ctx._saved_idx = idx
            return a.copy(), idx
        # NOTE: the first maximal element is selected (also the first NaN), like PyTorch on CPU
        idx = cls._arg_fn(a, axis=axis, keepdims=True)
        values = np.take_along_axis(a, idx, axis)
        idx = idx.astype(np.int64, copy=False)
        ctx._saved_idx = idx
        if not keepdim:
            values = values.squeeze(axis)
            idx = idx.squeeze(axis)
        return values, idx

    @staticmethod
    def backward(ctx, grad, _grad_indices):
        idx = ctx._saved_idx
        shape = ctx.in_shape
        if shape:
            (axis,) = ctx.axes
            positions = np.arange(shape[axis]).reshape((-1,) + (1,) * (len(shape) - axis - 1))
            mask = _wrap(positions == idx)
        else:
            mask = _wrap(np.ones((), dtype=bool))
        return where(mask, kept(ctx, grad), 0.0), None, None

    jvp = reduction_jvp


class MinDim(MaxDim):
    """(values, indices) = min over ``axis``;  dx = grad at the selected index, 0 elsewhere"""

    node_name = "MinBackward0"
    _arg_fn = staticmethod(np.argmin)


class Amax(Function):
    """out = max over ``axes``;  dx = grad shared evenly among the elements equal to out"""

    _np_fn = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx, x, axes, keepdim):
        a = x._data
        record_reduction(ctx, a, axes, keepdim)
        out = np.asarray(cls._np_fn(a, axis=axes, keepdims=keepdim))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        mask = x == kept(ctx, out)
        count = mask.sum(ctx.axes, keepdim=True)
        # NOTE: ties share the gradient evenly; a NaN result gives NaN gradients, as in PyTorch
        return (kept(ctx, grad) / count) * mask, None, None

    jvp = reduction_jvp


class Amin(Amax):
    """out = min over ``axes``;  dx = grad shared evenly among the elements equal to out"""

    node_name = "AminBackward0"
    _np_fn = staticmethod(np.min)


def _max_min(x: Tensor, dim, keepdim: bool, other, fn: str, all_cls, dim_cls, result_type,
             elementwise):
    if isinstance(dim, Tensor) or other is not None:
        return elementwise(x, dim if other is None else other)
    a = x._data
    if dim is None:
        if keepdim:
            raise TypeError(f"{fn}() got keepdim=True without dim; pass the dim to reduce "
                            f"(or use amax/amin, which accept keepdim alone).")
        _check_nonempty(a, fn)
        return all_cls.apply(x)
    values, indices = dim_cls.apply(x, _one_axis(a, dim, fn), keepdim)
    return result_type(values, indices)


def max(x: Tensor, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """The largest element; with ``dim``, ``(values, indices)`` along it; with a tensor,
    the elementwise maximum."""
    return _max_min(x, dim, keepdim, other, "max", MaxAll, MaxDim, return_types.max, maximum)


def min(x: Tensor, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """The smallest element; with ``dim``, ``(values, indices)`` along it; with a tensor,
    the elementwise minimum."""
    return _max_min(x, dim, keepdim, other, "min", MinAll, MinDim, return_types.min, minimum)


def _amax_amin(cls, x: Tensor, dim, keepdim: bool, fn: str) -> Tensor:
    a = x._data
    full = dim is None or (not isinstance(dim, int) and len(dim) == 0)
    if full:
        _check_nonempty(a, fn)
    axes = normalize_dims(None if full else dim, a.ndim)
    _check_nonzero_size(a, axes, fn)
    return cls.apply(x, axes, keepdim)


def amax(x: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """The largest elements over ``dim`` (all dims by default); ties share the gradient."""
    return _amax_amin(Amax, x, dim, keepdim, "amax")


def amin(x: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """The smallest elements over ``dim`` (all dims by default); ties share the gradient."""
    return _amax_amin(Amin, x, dim, keepdim, "amin")


# ---- argmax, argmin ---------------------------------------------------------------------------


def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the (first) largest element, in the flattened tensor or along ``dim``."""
    return _arg(x, dim, keepdim, "argmax", np.argmax)


def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the (first) smallest element, in the flattened tensor or along ``dim``."""
    return _arg(x, dim, keepdim, "argmin", np.argmin)


def _arg(x: Tensor, dim, keepdim: bool, fn: str, np_fn) -> Tensor:
    a = x._data
    if a.dtype.kind == "b":
        raise RuntimeError(f"{fn}(): does not support bool input; convert it first, e.g. with "
                           ".int().")
    if dim is None:
        _check_nonempty(a, fn, IndexError)
        out = np.asarray(np_fn(a, axis=None))
        if keepdim:
            out = out.reshape((1,) * a.ndim)
    else:
        axis = _one_axis(a, dim, fn)
        out = np_fn(a, axis=axis, keepdims=keepdim) if a.ndim else np.zeros((), dtype=np.int64)
    return _wrap(np.asarray(out, dtype=np.int64))


expose({"max": max, "min": min, "amax": amax, "amin": amin, "argmax": argmax, "argmin": argmin})
