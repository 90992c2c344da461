"""Ordering along a dim: ``sort``, ``argsort`` and ``topk``.

``sort`` and ``topk`` return ``(values, indices)`` named like ``torch.return_types``; the values
are a gather of x at the indices, so the gradient goes back to the chosen places (a scatter of
grad into zeros), the rest of x getting zero.

NOTE: NaN sorts as larger than every number (last ascending, first descending), as in PyTorch.
The order of equal elements is stable (first index first); PyTorch guarantees that only with
``stable=True``, and its ``topk`` may pick another of several equal elements.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor, _wrap, _wrap_dim
from ._registry import expose
from .minmax import _ValuesIndices


def _result_type(name: str) -> type:
    return type(name, (_ValuesIndices,), {"__slots__": (), "__module__": __name__,
                                          "__qualname__": f"return_types.{name}"})


class return_types:  # noqa: N801 - PyTorch's name
    sort = _result_type("sort")
    topk = _result_type("topk")


def _order(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """The stable sorting permutation of ``a`` along ``axis`` (int64 indices)."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable").astype(np.int64, copy=False)
    # descending and stable: sort the reversed array ascending, reverse that order, and map the
    # positions back (equal elements keep increasing original indices; NaN comes first)
    n = a.shape[axis]
    rev = np.flip(np.argsort(np.flip(a, axis), axis=axis, kind="stable"), axis)
    return (n - 1 - rev).astype(np.int64, copy=False)


class Sort(Function):
    """(values, indices) = x ordered along ``axis``;  dx = grad scattered back to indices"""

    ctx_arrays = ("_saved_idx",)

    @staticmethod
    def forward(ctx, x, axis, descending, k):
        a = x._data
        ctx.axis, ctx.in_shape = axis, a.shape
        if a.ndim == 0:
            idx = np.zeros((), dtype=np.int64)
            ctx._saved_idx = idx
            return a.copy(), idx
        idx = _order(a, axis, descending)
        if k is not None:
            idx = np.take(idx, np.arange(k), axis=axis)
        ctx._saved_idx = idx
        return np.take_along_axis(a, idx, axis), idx

    @staticmethod
    def backward(ctx, grad, _grad_indices):
        idx = _wrap(ctx._saved_idx)
        if not ctx.in_shape:
            return grad, None, None, None
        zeros = _wrap(np.zeros(ctx.in_shape, dtype=grad._data.dtype))
        return zeros.scatter(ctx.axis, idx, grad), None, None, None

    @staticmethod
    def jvp(ctx, t, *_):  # the tangent's elements in the order forward picked
        if not ctx.in_shape:
            return t, None
        return t.gather(ctx.axis, _wrap(ctx._saved_idx)), None


class Topk(Sort):
    """(values, indices) = the k largest (or smallest) along ``axis``;  dx = grad scattered back"""


def _axis(x: Tensor, dim) -> int:
    return _wrap_dim(dim, x._data.ndim) if x._data.ndim else 0


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """``(values, indices)``: x sorted along ``dim`` (ascending unless ``descending``)."""
    values, indices = Sort.apply(x, _axis(x, dim), bool(descending), None)
    return return_types.sort(values, indices)


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort x along ``dim``."""
    a = x._data
    if a.ndim == 0:
        return _wrap(np.zeros((), dtype=np.int64))
    return _wrap(_order(a, _axis(x, dim), bool(descending)))


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) elements along
    ``dim``, largest first (smallest first). Always sorted, which ``sorted=False`` allows."""
    axis = _axis(x, dim)
    size = x._data.shape[axis] if x._data.ndim else 1
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"topk(): argument 'k' must be int, not {type(k).__name__}")
    if not 0 <= k <= size:
        raise RuntimeError(f"selected index k out of range: topk asked for k={k} elements of a "
                           f"dim of size {size}; k must be in [0, {size}].")
    values, indices = Topk.apply(x, axis, bool(largest), int(k))
    return return_types.topk(values, indices)


expose({"sort": sort, "argsort": argsort, "topk": topk})
