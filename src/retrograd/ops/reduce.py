"""Reductions: sum, mean and prod with their derivatives, and the helpers every reduction uses.

``dim`` may be None (all dimensions), an int or a tuple of ints; ``keepdim`` keeps reduced
dimensions with size 1. Backward broadcasts the gradient back over the reduced dimensions.
max/min and friends live in ``minmax.py``; var, std, norms, logsumexp and cumsum in
``statistics.py``.

Note [Reduction bookkeeping]
    A reduction over ``axes`` records ``(in_shape, axes, keepdim)`` on ctx in forward
    (``record_reduction``); backward then calls ``kept(ctx, t)`` to give the result or the
    gradient its reduced dims back as size 1, so it broadcasts against ``x``.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .. import grad_mode
from ..autograd.forward_ad import linear_jvp, reduction_jvp
from ..autograd.function import Function
from ..backend import broadcast_view
from ..tensor import Tensor, _wrap, _wrap_dim
from ._registry import expose
from .shape import Expand

_state = grad_mode.state

# ---- helpers shared by all reductions ---------------------------------------------------------


def normalize_dims(dim, ndim: int) -> tuple:
    """``dim`` (None, int, or sequence) as a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        d = _wrap_dim(dim, ndim)
        return (d,) if ndim else ()  # a 0-d tensor accepts dim 0 or -1 and reduces nothing
    dims = tuple(_wrap_dim(d, ndim) for d in dim)
    if len(set(dims)) != len(dims):
        for i, d in enumerate(dims):
            if d in dims[:i]:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    if not dims or not ndim:  # PyTorch: an empty dim list means all dimensions
        return tuple(range(ndim))
    return tuple(sorted(dims))


def one_dim(dim, ndim: int, fn: str) -> int:
    """The wrapped ``dim`` of reductions that take exactly one (PyTorch rejects tuples there)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{fn}(): argument 'dim' must be int, not {type(dim).__name__}; "
                        f"{fn} reduces one dimension at a time.")
    return _wrap_dim(int(dim), ndim)


def reduced_size(shape: tuple, axes: tuple) -> int:
    """How many elements a reduction over ``axes`` combines into each result."""
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def record_reduction(ctx, a: np.ndarray, axes: tuple, keepdim: bool) -> None:
    """Keep what ``kept`` needs in backward (Note [Reduction bookkeeping])."""
    ctx.in_shape = a.shape
    ctx.axes = axes
    ctx.keepdim = keepdim


def kept(ctx, t: Tensor) -> Tensor:
    """A reduction's result (or its gradient) with the reduced dims restored as size 1.

    It then broadcasts against the input, so rules can combine it with ``x`` directly.
    """
    in_shape = ctx.in_shape
    if ctx.keepdim or not in_shape:
        return t
    shape = list(in_shape)
    for a in ctx.axes:
        shape[a] = 1
    return t.reshape(tuple(shape))


def expand_reduced(ctx, grad: Tensor) -> Tensor:
    """Broadcast a reduction's gradient back to the input's shape."""
    return Expand.apply(kept(ctx, grad), ctx.in_shape)


_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
               "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def type_name(arr: np.ndarray) -> str:
    """PyTorch's name for an array's element type, as its messages print it (``Float``)."""
    return _TYPE_NAMES.get(arr.dtype.name, arr.dtype.name)


def sum_dtype(arr: np.ndarray):
    """Sums, running sums and products of bool and integer tensors are int64, as in PyTorch."""
    return np.int64 if arr.dtype.kind in "biu" else None


# ---- sum, mean ----------------------------------------------------------------------------

_add_reduce = np.add.reduce


class Sum(Function):
    """out = sum of x over all elements;  dx = grad broadcast to x's shape"""

    @staticmethod
    def forward(ctx, x):
        a = x._data
        ctx.in_shape = a.shape
        if a.dtype.kind == "f":
            return _add_reduce(a, axis=None)
        return np.asarray(a.sum(dtype=sum_dtype(a)))

    @staticmethod
    def backward(ctx, grad):
        return Expand.apply(grad, ctx.in_shape)

    jvp = linear_jvp

    @staticmethod
    def fast_backward(ctx, grad):  # Expand's view, made directly
        return _wrap(broadcast_view(grad._data, ctx.in_shape))


class SumDim(Function):
    """out = sum of x over ``dims``;  dx = grad broadcast back over those dims"""

    node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        a = x._data
        record_reduction(ctx, a, axes, keepdim)
        return np.asarray(a.sum(axis=axes, keepdims=keepdim, dtype=sum_dtype(a)))

    @staticmethod
    def backward(ctx, grad):
        return expand_reduced(ctx, grad), None, None

    jvp = linear_jvp


class Mean(Function):
    """out = mean of all elements;  dx = grad / numel broadcast to x's shape"""

    @staticmethod
    def forward(ctx, x):
        a = x._data
        ctx.in_shape = a.shape
        ctx.count = n = a.size
        if a.dtype == np.float16:  # accumulate half precision in single, as PyTorch does
            return np.asarray(a.sum(dtype=np.float32) / n if n else np.nan, dtype=np.float16)
        # NOTE: sum / n rather than np.mean: the same pairwise sum, without np.mean's overhead
        return _add_reduce(a, axis=None) / n if n else np.asarray(np.nan, dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return Expand.apply(grad / ctx.count, ctx.in_shape)

    jvp = linear_jvp

    @staticmethod
    def fast_backward(ctx, grad):  # the same, on arrays
        return _wrap(broadcast_view(np.asarray(grad._data / ctx.count), ctx.in_shape))


class MeanDim(Function):
    """out = mean over ``dims``;  dx = grad / count broadcast back over those dims"""

    node_name = "MeanBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        a = x._data
        record_reduction(ctx, a, axes, keepdim)
        ctx.count = reduced_size(a.shape, axes)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(a.mean(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        return expand_reduced(ctx, grad / ctx.count), None, None

    jvp = linear_jvp


def sum(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001
    """Sum of the elements, over all or the given dimensions."""
    if dtype is not None:
        x = x.to(_dt.to_dtype(dtype))
    if dim is None and not keepdim:  # the full sum has its own Function (and node name)
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
    if dim is None and not keepdim:
        return Mean.apply(x)
    return MeanDim.apply(x, normalize_dims(dim, x._data.ndim), keepdim)


# ---- prod -----------------------------------------------------------------------------------


class ProdAll(Function):
    """out = product of all elements;  dx_i = grad * prod of the others (see _prod_grad)"""

    node_name = "ProdBackward0"

    @staticmethod
    def forward(ctx, x):
        a = x._data
        record_reduction(ctx, a, tuple(range(a.ndim)), False)
        out = np.asarray(a.prod(dtype=sum_dtype(a)))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        return _prod_grad(ctx, grad)

    jvp = reduction_jvp


class ProdDim(Function):
    """out = product over ``axes``;  dx_i = grad * prod of the others (see _prod_grad)"""

    node_name = "ProdBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        a = x._data
        record_reduction(ctx, a, axes, keepdim)
        out = np.asarray(a.prod(axis=axes, keepdims=keepdim, dtype=sum_dtype(a)))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        return _prod_grad(ctx, grad), None, None

    jvp = reduction_jvp


def _prod_grad(ctx, grad: Tensor) -> Tensor:
    """d prod / dx_i = product of the other elements of x_i's slice.

    Note [Products with zeros]
        Without zeros that is out / x_i. With zeros out / x_i is 0/0, so, as PyTorch does, each
        gradient is the product of the elements before x_i times the product of those after
        it (two cumulative products, no division: ``_others_prod``). That keeps the IEEE
        values of PyTorch where a slice holds both a zero and an infinity (0 * inf = NaN only
        where both are among the others), and differentiates through cumprod, whose own
        backward is exact at zeros, so second derivatives through zeros are exact too. Like
        PyTorch, the full product's gradient without a graph is plain zeros when two or more
        elements are zero (with a graph it is the products, NaN next to an infinity).
    """
    x, out = ctx.saved_tensors
    if x.ndim == 0:  # the product of one number is that number: grad, with no graph (PyTorch)
        return grad
    g = kept(ctx, grad)
    zeros = x._data == 0
    if not zeros.any():
        return g * (kept(ctx, out) / x)
    whole = type(ctx)._function is ProdAll
    if (x._data.size if whole else x.shape[ctx.axes[0]]) == 1:
        # a zero alone in its slice: the others' product is empty (1), so the gradient is
        # grad itself, with no graph (as PyTorch)
        return grad.reshape(x.shape) if whole else g
    if whole:
        if not _state.enabled and np.count_nonzero(zeros) > 1:
            return _wrap(np.zeros_like(x._data))
        return (grad * _others_prod(x.reshape(-1), 0)).view(x.shape)
    return g * _others_prod(x, ctx.axes[0])


def _others_prod(x: Tensor, axis: int) -> Tensor:
    """prod_{j != i} x_j along ``axis``: (prod_{j < i} x_j) * (prod_{j > i} x_j), each an
    exclusive cumulative product (see Note [Products with zeros])."""
    from .join import cat  # (join and scans import this module)
    from .scans import Cumprod

    n = x.shape[axis]
    shape = list(x.shape)
    shape[axis] = 1
    ones = _wrap(np.ones(shape, dtype=x._data.dtype))
    before = Cumprod.apply(cat([ones, x.narrow(axis, 0, n - 1)], axis), axis)
    after = Cumprod.apply(cat([ones, x.narrow(axis, 1, n - 1).flip(axis)], axis), axis)
    return before * after.flip(axis)


def prod(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product of all elements, or along ``dim``."""
    if dtype is not None:
        x = x.to(_dt.to_dtype(dtype))
    if dim is None:
        if keepdim:
            raise TypeError("prod() got keepdim=True without dim; pass the dim to reduce.")
        return ProdAll.apply(x)
    axis = one_dim(dim, x._data.ndim, "prod")
    return ProdDim.apply(x, (axis,) if x._data.ndim else (), keepdim)


expose({"sum": sum, "mean": mean, "prod": prod})
