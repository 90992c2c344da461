"""Reductions: sum, mean, and friends, with their derivatives.

``dim`` may be None (all dimensions), an int or a tuple of ints; ``keepdim`` keeps reduced
dimensions with size 1. Backward broadcasts the gradient back over the reduced dimensions.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import dtypes as _dt
from ..autograd.function import Function
from ..backend import broadcast_view, quiet
from ..tensor import Tensor, _wrap, _wrap_dim
from ._registry import expose
from .elementwise import maximum, minimum, where
from .shape import Expand


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


def expand_reduced(grad: Tensor, in_shape: tuple, axes: tuple, keepdim: bool) -> Tensor:
    """Broadcast a reduction's gradient back to the input's shape."""
    if not keepdim and in_shape:
        kept = list(in_shape)
        for a in axes:
            kept[a] = 1
        grad = grad.reshape(tuple(kept))
    return Expand.apply(grad, in_shape)


_add_reduce = np.add.reduce


def _sum_dtype(arr: np.ndarray):
    """Sums and products of bool and integer tensors are int64, as in PyTorch."""
    return np.int64 if arr.dtype.kind in "biu" else None


class Sum(Function):
    """out = sum of x over all elements;  dx = grad broadcast to x's shape"""

    @staticmethod
    def forward(ctx, x):
        a = x._data
        ctx.in_shape = a.shape
        if a.dtype.kind == "f":
            return _add_reduce(a, axis=None)
        return np.asarray(a.sum(dtype=_sum_dtype(a)))

    @staticmethod
    def backward(ctx, grad):
        return Expand.apply(grad, ctx.in_shape)

    @staticmethod
    def fast_backward(ctx, grad):  # Expand's view, made directly
        return _wrap(broadcast_view(grad._data, ctx.in_shape))


class SumDim(Function):
    """out = sum of x over ``dims``;  dx = grad broadcast back over those dims"""

    node_name = "SumBackward1"

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

    @staticmethod
    def fast_backward(ctx, grad):  # the same, on arrays
        return _wrap(broadcast_view(np.asarray(grad._data / ctx.count), ctx.in_shape))


class MeanDim(Function):
    """out = mean over ``dims``;  dx = grad / count broadcast back over those dims"""

    node_name = "MeanBackward1"

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


# ---- helpers shared by the reductions below ------------------------------------------------

_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
               "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def type_name(arr: np.ndarray) -> str:
    """PyTorch's name for an array's element type, as its messages print it (``Float``)."""
    return _TYPE_NAMES.get(arr.dtype.name, arr.dtype.name)


def kept(t: Tensor, in_shape: tuple, axes: tuple, keepdim: bool) -> Tensor:
    """A reduction's result (or its gradient) with the reduced dims restored as size 1.

    It then broadcasts against the input, so rules can combine it with ``x`` directly.
    """
    if keepdim or not in_shape:
        return t
    shape = list(in_shape)
    for a in axes:
        shape[a] = 1
    return t.reshape(tuple(shape))


def _count(shape: tuple, axes: tuple) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _int_dim(dim, fn: str) -> int:
    """The ``dim`` of reductions that take exactly one (PyTorch rejects tuples there)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{fn}(): argument 'dim' must be int, not {type(dim).__name__}; "
                        f"{fn} reduces one dimension at a time.")
    return int(dim)


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


def _share_evenly(grad: Tensor, x: Tensor, out: Tensor, axes=None) -> Tensor:
    """The gradient of a max/min-like reduction: ``grad`` split evenly among the elements that
    equal the result (``out``, with reduced dims kept as size 1)."""
    mask = x == out
    if x._data.dtype.kind == "f" and np.isnan(out._data).any():
        # NOTE: a NaN result came from the NaNs in the input; they take the gradient
        mask = mask | (x.isnan() & out.isnan())
    count = mask.sum() if axes is None else mask.sum(axes, keepdim=True)
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
        return _share_evenly(grad, x, out)


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
        ctx.in_shape = a.shape
        ctx.axis = axis
        ctx.keepdim = keepdim
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
            positions = np.arange(shape[ctx.axis]).reshape(
                (-1,) + (1,) * (len(shape) - ctx.axis - 1))
            mask = _wrap(positions == idx)
        else:
            mask = _wrap(np.ones((), dtype=bool))
        g = kept(grad, shape, (ctx.axis,), ctx.keepdim) if shape else grad
        return where(mask, g, 0.0), None, None


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
        ctx.in_shape = a.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        out = np.asarray(cls._np_fn(a, axis=axes, keepdims=keepdim))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        shape, axes, keepdim = ctx.in_shape, ctx.axes, ctx.keepdim
        mask = x == kept(out, shape, axes, keepdim)
        count = mask.sum(axes, keepdim=True)
        # NOTE: ties share the gradient evenly; a NaN result gives NaN gradients, as in PyTorch
        return (kept(grad, shape, axes, keepdim) / count) * mask, None, None


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
    axis = _wrap_dim(_int_dim(dim, fn), a.ndim)
    if a.ndim:
        _check_nonzero_size(a, (axis,), fn)
    values, indices = dim_cls.apply(x, axis, keepdim)
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
        axis = _wrap_dim(_int_dim(dim, fn), a.ndim)
        if a.ndim == 0:
            out = np.zeros((), dtype=np.int64)
        else:
            _check_nonzero_size(a, (axis,), fn)
            out = np_fn(a, axis=axis, keepdims=keepdim)
    return _wrap(np.asarray(out, dtype=np.int64))


# ---- prod -----------------------------------------------------------------------------------


class ProdAll(Function):
    """out = product of all elements;  dx_i = grad * prod of the others (see _prod_grad)"""

    node_name = "ProdBackward0"

    @staticmethod
    def forward(ctx, x):
        a = x._data
        ctx.in_shape = a.shape
        out = np.asarray(a.prod(dtype=_sum_dtype(a)))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        shape = ctx.in_shape
        return _prod_grad(grad, x, out, shape, tuple(range(len(shape))), False)


class ProdDim(Function):
    """out = product over ``axes``;  dx_i = grad * prod of the others (see _prod_grad)"""

    node_name = "ProdBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        a = x._data
        ctx.in_shape = a.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        out = np.asarray(a.prod(axis=axes, keepdims=keepdim, dtype=_sum_dtype(a)))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return _prod_grad(grad, x, out, ctx.in_shape, ctx.axes, ctx.keepdim), None, None


def _prod_grad(grad: Tensor, x: Tensor, out: Tensor, shape: tuple, axes: tuple,
               keepdim: bool) -> Tensor:
    """d prod / dx_i = product of the other elements of x_i's slice.

    Note [Products with zeros]
        Without zeros that is out / x_i. With zeros out / x_i is 0/0, so each slice is treated
        by its count c of zeros. Let P be the product of the slice's nonzero elements and T the
        sum of its zero elements (T is 0, but its derivative is 1 at each zero):
          c = 1:  at the zero P;  elsewhere P / x_i * T
          c = 2:  at a zero P * (T - x_i) (the other zero);  elsewhere 0
          c > 2:  0
        The factors T keep the values right (0) and also the derivatives of this gradient, so
        second derivatives through zeros are exact too.
    """
    g = kept(grad, shape, axes, keepdim)
    if not (x._data == 0).any():
        return g * (kept(out, shape, axes, keepdim) / x)
    z = x == 0
    c = z.sum(axes, keepdim=True)
    x_nz = where(z, 1.0, x)
    p = ProdDim.apply(x_nz, axes, True)
    t = where(z, x, 0.0).sum(axes, keepdim=True)
    weight = where(c == 0, 1.0,
                   where(c == 1, where(z, 1.0, t),
                         where((c == 2) & z, t - x, 0.0)))
    return g * (p / x_nz) * weight


def prod(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product of all elements, or along ``dim``."""
    if dtype is not None:
        x = x.to(_dt.to_dtype(dtype))
    if dim is None:
        if keepdim:
            raise TypeError("prod() got keepdim=True without dim; pass the dim to reduce.")
        return ProdAll.apply(x)
    axis = _wrap_dim(_int_dim(dim, "prod"), x._data.ndim)
    return ProdDim.apply(x, (axis,) if x._data.ndim else (), keepdim)


# ---- var, std ----------------------------------------------------------------------------


def _spread(ctx, a: np.ndarray, np_fn, axes: tuple, correction, keepdim: bool) -> np.ndarray:
    """np.var or np.std of ``a`` over ``axes``, recording on ctx what backward needs."""
    ctx.in_shape = a.shape
    ctx.axes = axes
    ctx.keepdim = keepdim
    ctx.dof = _count(a.shape, axes) - correction
    if ctx.dof > 0:
        return np.asarray(np_fn(a, axis=axes, ddof=correction, keepdims=keepdim))
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # we warn ourselves, in _finish_var
        return np.asarray(np_fn(a, axis=axes, ddof=correction, keepdims=keepdim))


class Var(Function):
    """out = sum((x - mean)^2) / (N - correction);  dx = grad * 2 (x - mean) / (N - correction)"""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        return _finish_var(ctx, x, _spread(ctx, x._data, np.var, axes, correction, keepdim))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        g = kept(grad, ctx.in_shape, ctx.axes, ctx.keepdim)
        return g * _centered(x, ctx.axes) * _safe_div(2.0, ctx.dof), None, None, None


class Std(Function):
    """out = sqrt(var(x));  dx = grad * (x - mean) / ((N - correction) * out), 0 where out = 0"""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        out = _spread(ctx, x._data, np.std, axes, correction, keepdim)
        return _finish_var(ctx, x, out, save_out=True)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        shape, axes, keepdim = ctx.in_shape, ctx.axes, ctx.keepdim
        o = kept(out, shape, axes, keepdim)
        # NOTE: a constant slice has std 0 and gets gradient 0 there, as in PyTorch
        g = where(o == 0, 0.0, kept(grad, shape, axes, keepdim) / o)
        return g * _centered(x, axes) * _safe_div(1.0, ctx.dof), None, None, None


def _finish_var(ctx, x: Tensor, out: np.ndarray, save_out: bool = False) -> np.ndarray:
    if out.dtype != x._data.dtype:  # NumPy computes float16 in float32
        out = out.astype(x._data.dtype)
    if ctx.dof <= 0:
        warnings.warn(
            f"{'std' if save_out else 'var'}(): degrees of freedom is <= 0: the correction must "
            "be smaller than the number of elements reduced, so the result is NaN or inf.",
            UserWarning, stacklevel=5)
    ctx.save_for_backward(*((x, out) if save_out else (x,)))
    return out


def _centered(x: Tensor, axes: tuple) -> Tensor:
    return x - MeanDim.apply(x, axes, True)


def _safe_div(num: float, den) -> float:
    return num / den if den > 0 else float("inf")


def _var_args(x: Tensor, dim, unbiased, correction, fn: str):
    """Sort out the overloads ``var(dim, unbiased, keepdim)``, ``var(unbiased)`` and
    ``var(dim, correction=c)``; return (axes, correction)."""
    if isinstance(dim, bool):  # var(True): the old positional ``unbiased``
        if unbiased is not None:
            raise TypeError(f"{fn}() got unbiased twice")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{fn}() takes either unbiased or correction, not both; unbiased=True "
                        "is correction=1 and unbiased=False is correction=0.")
    if correction is None:
        correction = 0 if unbiased is False else 1
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"std and var only support floating point and complex dtypes; {fn}() got "
            f"{type_name(x._data)}. Convert the tensor with .float() first.")
    return normalize_dims(dim, x._data.ndim), correction


def var(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Variance over ``dim`` (all by default), divided by N - correction (Bessel's by default)."""
    axes, correction = _var_args(x, dim, unbiased, correction, "var")
    return Var.apply(x, axes, correction, keepdim)


def std(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Standard deviation over ``dim`` (all by default); see ``var``."""
    axes, correction = _var_args(x, dim, unbiased, correction, "std")
    return Std.apply(x, axes, correction, keepdim)


# ---- norm -----------------------------------------------------------------------------------


def _p_norm(a: np.ndarray, p: float, axes: tuple, keepdim: bool) -> np.ndarray:
    return np.sum(np.abs(a) ** p, axis=axes, keepdims=keepdim) ** (1.0 / p)


class Norm(Function):
    """out = (sum |x|^p)^(1/p) over ``axes`` (p may be inf, -inf or 0);
    dx = grad * sign(x) |x|^(p-1) / out^(p-1)"""

    node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        a = x._data
        ctx.in_shape = a.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        ctx.p = p
        full = len(axes) == a.ndim and not keepdim
        if p == 2:
            if full and a.flags.c_contiguous:
                flat = a.reshape(-1)
                out = np.sqrt(np.asarray(np.dot(flat, flat)))  # BLAS, no temporary
            else:
                out = np.sqrt(np.sum(a * a, axis=axes, keepdims=keepdim))
        elif p == 1:
            out = np.sum(np.abs(a), axis=axes, keepdims=keepdim)
        elif p == float("inf"):
            out = np.max(np.abs(a), axis=axes, keepdims=keepdim)
        elif p == float("-inf"):
            out = np.min(np.abs(a), axis=axes, keepdims=keepdim)
        elif p == 0:
            out = np.count_nonzero(a, axis=axes, keepdims=keepdim).astype(a.dtype)
        else:
            out = quiet(_p_norm, a, p, axes, keepdim)
        out = np.asarray(out, dtype=a.dtype)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        p, shape, axes, keepdim = ctx.p, ctx.in_shape, ctx.axes, ctx.keepdim
        if p == 0:
            return None, None, None, None  # piecewise constant: no gradient, as in PyTorch
        g = kept(grad, shape, axes, keepdim)
        o = kept(out, shape, axes, keepdim)
        if p == 2:
            # NOTE: the gradient at the zero vector is taken as 0, as in PyTorch
            gx = where(o == 0, 0.0, g / o) * x
        elif p == 1:
            gx = g * x.sign()
        elif p in (float("inf"), float("-inf")):
            gx = x.sign() * _share_evenly(g, x.abs(), o, axes)
        else:
            scaled = g * x.sign() * x.abs() ** (p - 1) / o ** (p - 1)
            gx = where((x == 0) | (o == 0), 0.0, scaled)
        return gx, None, None, None


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *,  # noqa: A002
                dtype=None) -> Tensor:
    """The vector p-norm over ``dim`` (all dims by default): ``linalg.vector_norm``."""
    if dtype is not None:
        x = x.to(_dt.to_dtype(dtype))
    a = x._data
    if a.dtype.kind != "f":
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{type_name(a)}; convert it with .float() first.")
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise RuntimeError(f"linalg.vector_norm: Order {ord!r} is not a number; use a number, "
                           "inf or -inf.")
    axes = normalize_dims(None if dim == () else dim, a.ndim)
    if ord in (float("inf"), float("-inf")):
        empty = [ax for ax in axes if a.shape[ax] == 0]
        if empty or (a.size == 0 and not axes):
            where_ = "an empty tensor" if dim is None else f"the empty dimension {empty[0]}"
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {ord} norm on {where_} because the "
                "operation does not have an identity.")
    return Norm.apply(x, float(ord), axes, keepdim)


def norm(x: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """The p-norm of x (all elements, or over ``dim``); "fro" is the 2-norm."""
    if p is None or p == "fro":
        if dim is not None and not isinstance(dim, int) and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}; the "
                               "Frobenius norm reduces one or two dims.")
        p = 2
    elif isinstance(p, str):
        raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported; use a number or "
                           "'fro' (retrograd has no nuclear norm).")
    return vector_norm(x, p, dim, keepdim, dtype=dtype)


# ---- logsumexp, cumsum ----------------------------------------------------------------------


def _logsumexp_array(a: np.ndarray, axes: tuple, keepdim: bool) -> np.ndarray:
    if a.size == 0:
        return np.log(np.sum(np.exp(a), axis=axes, keepdims=keepdim))
    # NOTE: shift by the max so exp cannot overflow; an infinite max shifts by 0
    m = np.max(a, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(a - m), axis=axes, keepdims=True))
    out += m
    if not keepdim:
        out = out.reshape([n for i, n in enumerate(a.shape) if i not in axes])
    return out


class LogSumExp(Function):
    """out = log(sum(exp(x))) over ``axes``;  dx = grad * exp(x - out)"""

    node_name = "LogsumexpBackward0"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        a = x._data
        if a.dtype.kind != "f":
            a = a.astype(_dt.get_default_dtype().np)
        ctx.in_shape = a.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        out = np.asarray(quiet(_logsumexp_array, a, axes, keepdim))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        shape, axes, keepdim = ctx.in_shape, ctx.axes, ctx.keepdim
        return kept(grad, shape, axes, keepdim) * (x - kept(out, shape, axes, keepdim)).exp(), \
            None, None


def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, computed without overflow."""
    return LogSumExp.apply(x, normalize_dims(dim, x._data.ndim), keepdim)


class Cumsum(Function):
    """out_i = sum of x_j for j <= i along ``axis`` (j >= i when ``reverse``);
    dx = the cumulative sum of grad in the other direction"""


    @staticmethod
    def forward(ctx, x, axis, reverse):
        a = x._data
        ctx.axis = axis
        ctx.reverse = reverse
        dt = np.int64 if a.dtype.kind in "biu" else None
        if a.ndim == 0:
            return a.astype(dt or a.dtype)
        if reverse:
            flipped = np.flip(a, axis)
            return np.flip(np.cumsum(flipped, axis=axis, dtype=dt), axis)
        return np.cumsum(a, axis=axis, dtype=dt)

    @staticmethod
    def backward(ctx, grad):
        return Cumsum.apply(grad, ctx.axis, not ctx.reverse), None, None


def cumsum(x: Tensor, dim, *, dtype=None) -> Tensor:
    """Cumulative sums along ``dim``."""
    if dtype is not None:
        x = x.to(_dt.to_dtype(dtype))
    axis = _wrap_dim(_int_dim(dim, "cumsum"), x._data.ndim)
    return Cumsum.apply(x, axis, False)


expose({
    "sum": sum, "mean": mean, "max": max, "min": min, "amax": amax, "amin": amin,
    "argmax": argmax, "argmin": argmin,
    "prod": prod, "var": var, "std": std, "norm": norm, "logsumexp": logsumexp, "cumsum": cumsum,
})
expose({
    "vector_norm": vector_norm,
}, method=False)
