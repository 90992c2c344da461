"""Scans and order statistics: ``cumprod``, ``logcumsumexp``, ``cummax``/``cummin``,
``median``/``nanmedian``, ``kthvalue``, ``mode``, and the reductions ``nansum``, ``nanmean``,
``std_mean``/``var_mean``, ``count_nonzero``; ``diff``.

The order statistics along a dim pick one element per slice: their values are a gather of x at
the picked indices, and the gradient goes back there (a scatter-add of grad into zeros, so
``cummax``'s repeated indices add up).
"""

from __future__ import annotations

import numpy as np

from ..autograd.forward_ad import reduction_jvp
from ..autograd.function import Function
from ..tensor import Tensor, _wrap, _wrap_dim
from ._registry import expose
from .elementwise import where
from .join import cat
from .minmax import _ValuesIndices
from .reduce import kept, normalize_dims, one_dim, record_reduction, reduced_size
from .statistics import _var_args


def _result_type(name: str) -> type:
    return type(name, (_ValuesIndices,), {"__slots__": (), "__module__": __name__,
                                          "__qualname__": f"return_types.{name}"})


class return_types:  # noqa: N801 - PyTorch's name
    cummax = _result_type("cummax")
    cummin = _result_type("cummin")
    median = _result_type("median")
    nanmedian = _result_type("nanmedian")
    kthvalue = _result_type("kthvalue")
    mode = _result_type("mode")


# ---- cumulative products -----------------------------------------------------------------------


def _last(t: Tensor, axis: int) -> Tensor:
    return t if axis == t.ndim - 1 else t.movedim(axis, -1)


def _back(t: Tensor, axis: int) -> Tensor:
    return t if axis == t.ndim - 1 else t.movedim(-1, axis)


class Cumprod(Function):
    """out_k = prod_{j <= k} x_j along ``axis``;  dx_i = sum_{k >= i} grad_k prod_{j <= k,
    j != i} x_j (written without dividing by x, so zeros in x are exact, as in PyTorch)"""

    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x, axis):
        ctx.save_for_backward(x)
        ctx.axis = axis
        a = x._data
        if a.ndim == 0:
            return a.copy()
        return np.cumprod(a, axis=axis, dtype=a.dtype if a.dtype.kind == "f" else np.int64)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if x.ndim == 0:
            return grad, None
        axis = ctx.axis
        if not bool((x._data == 0).any()):  # no zeros: the reversed cumsum of grad * out, / x
            out = Cumprod.apply(x, axis)
            return (grad * out).flip(axis).cumsum(axis).flip(axis) / x, None
        # with zeros: the products that leave out x_i, one row per i (n^2 memory)
        xl, gl = _last(x, axis), _last(grad, axis)
        n = xl.shape[-1]
        eye = _wrap(np.eye(n, dtype=bool))
        rows = where(eye, 1.0, xl.unsqueeze(-2))  # rows[..., i, j] = x_j, 1 at j = i
        prods = Cumprod.apply(rows, rows.ndim - 1)  # prod over j <= k, j != i
        upper = _wrap(np.triu(np.ones((n, n), dtype=bool)))  # k >= i
        gx = where(upper, prods * gl.unsqueeze(-2), 0.0).sum(-1)
        return _back(gx, axis), None

    @staticmethod
    def fast_backward(ctx, grad):  # without a graph: O(n) even with zeros, as PyTorch
        (x,) = ctx.saved_tensors
        if x.ndim == 0:
            return grad, None
        return _wrap(_cumprod_grad(x._data, grad._data, ctx.axis)), None

    @staticmethod
    def jvp(ctx, t, _axis):  # sum_{j <= k} t_j prod_{i <= k, i != j} x_i, via the transpose
        (x,) = ctx.saved_tensors
        if x.ndim == 0:
            return t
        axis = ctx.axis
        xl, tl = _last(x, axis), _last(t, axis)
        n = xl.shape[-1]
        eye = _wrap(np.eye(n, dtype=bool))
        rows = where(eye, tl.unsqueeze(-2), xl.unsqueeze(-2))  # x with t_j in place j
        prods = Cumprod.apply(rows, rows.ndim - 1)  # [..., j, k]: the product with t_j
        lower = _wrap(np.triu(np.ones((n, n), dtype=bool)))  # j <= k
        return _back(where(lower, prods, 0.0).sum(-2), axis)


def _cumprod_grad(a: np.ndarray, g: np.ndarray, axis: int) -> np.ndarray:
    """Cumprod's gradient on arrays, the way PyTorch computes it without a graph (its values
    where the slice holds zeros and infinities are PyTorch's). Along each slice, with z the
    first zero: dx_i = sum_{i <= k < z} out_k grad_k / x_i before z; at z, out_{z-1} times
    sum_{z <= k < z'} grad_k prod_{z < j <= k} x_j (z' the second zero); 0 after z."""
    a = np.moveaxis(a, axis, -1)
    g = np.moveaxis(g, axis, -1)
    out = np.cumprod(a, axis=-1)
    w = out * g
    zero = a == 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if not zero.any():
            return np.moveaxis(np.flip(np.flip(w, -1).cumsum(-1), -1) / a, -1, axis)
        count = zero.cumsum(-1)
        before = count == 0
        gx = np.flip(np.flip(np.where(before, w, 0), -1).cumsum(-1), -1) / a
        gx[~before] = 0
        one = count == 1
        first = zero & one  # the first zero of each slice
        between = one & ~first
        s = (np.cumprod(np.where(between, a, 1), -1) * np.where(one, g, 0)).sum(-1, keepdims=True)
        z = first.argmax(-1)[..., None]
        prev = np.where(z == 0, 1, np.take_along_axis(out, np.maximum(z - 1, 0), -1))
        gx = np.where(first, s * prev, gx)
    return np.moveaxis(gx.astype(a.dtype, copy=False), -1, axis)


def cumprod(x: Tensor, dim, *, dtype=None) -> Tensor:
    """Cumulative products along ``dim``."""
    if dtype is not None:
        x = x.to(dtype)
    return Cumprod.apply(x, one_dim(dim, x._data.ndim, "cumprod") if x._data.ndim else 0)


class Logcumsumexp(Function):
    """out_k = log sum_{j <= k} exp(x_j);  dx_i = sum_{k >= i} grad_k exp(x_i - out_k)"""

    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x, axis):
        ctx.save_for_backward(x)
        ctx.axis = axis
        a = x._data
        if a.ndim == 0:
            return a.copy()
        return np.logaddexp.accumulate(a, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if x.ndim == 0:
            return grad, None
        axis = ctx.axis
        out = _last(Logcumsumexp.apply(x, axis), axis)
        xl, gl = _last(x, axis), _last(grad, axis)
        n = xl.shape[-1]
        upper = _wrap(np.triu(np.ones((n, n), dtype=bool)))  # [i, k]: k >= i
        diff = where(upper, xl.unsqueeze(-1) - out.unsqueeze(-2), float("-inf"))
        return _back((diff.exp() * gl.unsqueeze(-2)).sum(-1), axis), None

    @staticmethod
    def jvp(ctx, tx, _):
        # dout_k = sum_{j <= k} exp(x_j - out_k) t_j: backward's weights, transposed
        (x,) = ctx.saved_tensors
        if x.ndim == 0:
            return tx
        axis = ctx.axis
        out = _last(Logcumsumexp.apply(x, axis), axis)
        xl, tl = _last(x, axis), _last(tx, axis)
        n = xl.shape[-1]
        lower = _wrap(np.tril(np.ones((n, n), dtype=bool)))  # [k, j]: j <= k
        diff = where(lower, xl.unsqueeze(-2) - out.unsqueeze(-1), float("-inf"))
        return _back((diff.exp() * tl.unsqueeze(-2)).sum(-1), axis)


def logcumsumexp(x: Tensor, dim) -> Tensor:
    """log(cumsum(exp(x))) along ``dim``, without overflow."""
    return Logcumsumexp.apply(x, one_dim(dim, x._data.ndim, "logcumsumexp") if x._data.ndim
                              else 0)


# ---- picking one element per slice ------------------------------------------------------------


class _Picked(Function):
    """values = x at ``idx`` along ``axis``;  dx = grad scatter-added into zeros at idx"""

    @staticmethod
    def forward(ctx, x, axis, idx, keepdim):
        a = x._data
        ctx.axis, ctx.in_shape, ctx._idx, ctx.keepdim = axis, a.shape, idx, keepdim
        if a.ndim == 0:
            return a.copy()
        k = idx if idx.ndim == a.ndim else np.expand_dims(idx, axis)
        out = np.take_along_axis(a, k, axis)
        return out if idx.ndim == a.ndim or keepdim else np.squeeze(out, axis)

    @staticmethod
    def _full_idx(ctx):
        idx = ctx._idx
        return _wrap(idx if idx.ndim == len(ctx.in_shape) else np.expand_dims(idx, ctx.axis))

    @classmethod
    def backward(cls, ctx, grad):
        if not ctx.in_shape:
            return grad, None, None, None
        idx = cls._full_idx(ctx)
        if grad.ndim != len(ctx.in_shape):
            grad = grad.unsqueeze(ctx.axis)
        zeros = _wrap(np.zeros(ctx.in_shape, dtype=grad._data.dtype))
        return zeros.scatter_add(ctx.axis, idx, grad), None, None, None

    @classmethod
    def jvp(cls, ctx, t, *_):
        if not ctx.in_shape:
            return t
        out = t.gather(ctx.axis, cls._full_idx(ctx))
        return out if ctx._idx.ndim == len(ctx.in_shape) or ctx.keepdim else out.squeeze(ctx.axis)


class Cummax(_Picked):
    """values_k = max_{j <= k} x_j (the last index among ties);  dx = grad added at indices"""


class Cummin(_Picked):
    """values_k = min_{j <= k} x_j (the last index among ties);  dx = grad added at indices"""


class MedianDim(_Picked):
    """the lower median along ``axis``;  dx = grad at its index"""

    node_name = "MedianBackward1"


class NanmedianDim(_Picked):
    """the lower median of the non-NaN values along ``axis``;  dx = grad at its index"""

    node_name = "NanmedianBackward1"


class Kthvalue(_Picked):
    """the k-th smallest along ``axis``;  dx = grad at its index"""


class Mode(_Picked):
    """the most frequent value along ``axis``;  dx = grad at its index"""


def _cum_extreme(x: Tensor, dim, larger: bool, fn: str):
    a = x._data
    if a.ndim == 0:
        return a.copy(), np.zeros((), np.int64)
    axis = one_dim(dim, a.ndim, fn)
    al = np.moveaxis(a, axis, -1)
    n = al.shape[-1]
    pos = np.broadcast_to(np.arange(n), al.shape)
    if a.dtype.kind == "f":
        # NOTE: NaN wins from where it appears on (PyTorch's rule), so it ranks above everything
        key = np.where(np.isnan(al), np.inf if larger else -np.inf, al)
        nan = np.isnan(al)
    else:
        key, nan = al, np.zeros(al.shape, bool)
    best = np.maximum.accumulate(key, -1) if larger else np.minimum.accumulate(key, -1)
    hit = (key == best) if not nan.any() else (key == best) & (
        ~np.logical_or.accumulate(nan, -1) | nan)
    idx = np.maximum.accumulate(np.where(hit, pos, -1), -1)  # the last index reaching the best
    return axis, np.moveaxis(idx, -1, axis).astype(np.int64)


def cummax(x: Tensor, dim):
    """``(values, indices)``: the running maximum along ``dim`` and where it was attained."""
    axis, idx = _cum_extreme(x, dim, True, "cummax")
    if x._data.ndim == 0:
        return return_types.cummax(Cummax.apply(x, 0, idx, True), _wrap(idx))
    return return_types.cummax(Cummax.apply(x, axis, idx, True), _wrap(idx))


def cummin(x: Tensor, dim):
    """``(values, indices)``: the running minimum along ``dim`` and where it was attained."""
    axis, idx = _cum_extreme(x, dim, False, "cummin")
    if x._data.ndim == 0:
        return return_types.cummin(Cummin.apply(x, 0, idx, True), _wrap(idx))
    return return_types.cummin(Cummin.apply(x, axis, idx, True), _wrap(idx))


def _nth_index(a: np.ndarray, axis: int, k, ignore_nan: bool) -> np.ndarray:
    """Index along ``axis`` of the k-th smallest (``k``: an int or a per-slice array); NaN
    sorts last. ``k`` None: the lower median (of the non-NaN values if ``ignore_nan``, else NaN
    wins if any)."""
    order = np.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    if k is None:
        if a.dtype.kind == "f":
            nans = np.isnan(a).sum(axis, keepdims=True)
        else:
            nans = np.zeros([1 if i == axis else s for i, s in enumerate(a.shape)], np.int64)
        if ignore_nan:
            count = n - nans
            k = np.where(count > 0, (count - 1) // 2, 0)
        else:
            k = np.where(nans > 0, n - nans, (n - 1) // 2)  # the first NaN (NaN sorts last)
    else:
        k = np.full([1 if i == axis else s for i, s in enumerate(a.shape)], k)
    return np.take_along_axis(order, k.astype(np.int64), axis).squeeze(axis).astype(np.int64)


class MedianAll(Function):
    """out = the lower median of all elements (NaN if any is NaN);
    dx = grad shared evenly among the elements equal to out"""

    node_name = "MedianBackward0"
    saved_names = ("self", "result")

    @staticmethod
    def forward(ctx, x, ignore_nan):
        a = x._data
        flat = a.reshape(-1)
        idx = _nth_index(flat, 0, None, ignore_nan)
        out = flat[idx].copy() if flat.size else np.asarray(np.nan, a.dtype)
        ctx.save_for_backward(x)
        ctx.out = np.asarray(out)
        return np.asarray(out)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        out = _wrap(ctx.out)
        hit = (x == out) | (x.isnan() & out.isnan())
        return grad * hit / hit.sum(), None

    jvp = reduction_jvp


class NanmedianAll(MedianAll):
    node_name = "NanmedianBackward0"


def _median(x: Tensor, dim, keepdim: bool, ignore_nan: bool):
    name = "nanmedian" if ignore_nan else "median"
    a = x._data
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{name}() input tensor cannot be empty")
        return (NanmedianAll if ignore_nan else MedianAll).apply(x, ignore_nan)
    if a.ndim == 0:
        cls = NanmedianDim if ignore_nan else MedianDim
        idx = np.zeros((), np.int64)
        return getattr(return_types, name)(cls.apply(x, 0, idx, keepdim), _wrap(idx))
    axis = one_dim(dim, a.ndim, name)
    if a.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    idx = _nth_index(a, axis, None, ignore_nan)
    cls = NanmedianDim if ignore_nan else MedianDim
    values = cls.apply(x, axis, idx, keepdim)
    out_idx = np.expand_dims(idx, axis) if keepdim else idx
    return getattr(return_types, name)(values, _wrap(out_idx))


def median(x: Tensor, dim=None, keepdim: bool = False):
    """The lower median of all elements, or ``(values, indices)`` along ``dim``."""
    return _median(x, dim, keepdim, False)


def nanmedian(x: Tensor, dim=None, keepdim: bool = False):
    """``median`` ignoring NaN values."""
    return _median(x, dim, keepdim, True)


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """``(values, indices)`` of the k-th smallest element along ``dim``."""
    a = x._data
    axis = one_dim(dim, a.ndim, "kthvalue") if a.ndim else 0
    size = a.shape[axis] if a.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}: "
                           f"k={k} must be in [1, {size}].")
    idx = _nth_index(a, axis, k - 1, False) if a.ndim else np.zeros((), np.int64)
    values = Kthvalue.apply(x, axis, idx, keepdim)
    out_idx = np.expand_dims(idx, axis) if keepdim and a.ndim else idx
    return return_types.kthvalue(values, _wrap(out_idx))


def mode(x: Tensor, dim: int = -1, keepdim: bool = False):
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest among equally
    frequent ones) and the last index where it occurs."""
    a = x._data
    if a.ndim == 0:
        idx = np.zeros((), np.int64)
        return return_types.mode(Mode.apply(x, 0, idx, keepdim), _wrap(idx))
    axis = one_dim(dim, a.ndim, "mode")
    al = np.moveaxis(a, axis, -1)
    s = np.sort(al, -1)
    # counts[..., i, j] = how often the i-th sorted value occurs
    counts = (s[..., :, None] == s[..., None, :]).sum(-1)
    best = np.take_along_axis(s, counts.argmax(-1)[..., None], -1)  # first max: smallest value
    pos = np.where(al == best, np.arange(al.shape[-1]), -1).max(-1)
    idx = np.moveaxis(pos[..., None], -1, axis).squeeze(axis).astype(np.int64)
    values = Mode.apply(x, axis, idx, keepdim)
    out_idx = np.expand_dims(idx, axis) if keepdim else idx
    return return_types.mode(values, _wrap(out_idx))


# ---- reductions ------------------------------------------------------------------------------


class Nansum(Function):
    """out = sum of the non-NaN elements over ``axes``;  dx = grad * (x is not NaN) (a product,
    as PyTorch's: an infinite grad gives NaN at NaN places)"""

    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.save_for_backward(x)
        a = x._data
        record_reduction(ctx, a, axes, keepdim)
        dt = a.dtype if a.dtype.kind == "f" else np.int64
        return np.asarray(np.nansum(a, axis=axes, keepdims=keepdim, dtype=dt))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return kept(ctx, grad) * (~x.isnan()), None, None

    jvp = reduction_jvp


def nansum(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The sum over ``dim`` (all by default), NaN counted as zero."""
    if dtype is not None:
        x = x.to(dtype)
    return Nansum.apply(x, normalize_dims(dim, x._data.ndim), keepdim)


def nanmean(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The mean over ``dim`` of the non-NaN elements."""
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype "
                           f"but got {str(x.dtype)[6:].title()}")
    if dtype is not None:
        x = x.to(dtype)
    count = (~x.isnan()).sum(dim=dim, keepdim=keepdim) if dim is not None else (~x.isnan()).sum()
    return nansum(x, dim, keepdim) / count


class _SpreadMean(Function):
    """(spread, mean) over ``axes``: var (or std) and mean together"""

    std = False

    @classmethod
    def forward(cls, ctx, x, axes, correction, keepdim):
        a = x._data
        record_reduction(ctx, a, axes, keepdim)
        n = reduced_size(a.shape, axes)
        ctx.n, ctx.dof = n, n - correction
        with np.errstate(divide="ignore", invalid="ignore"):
            fn = np.std if cls.std else np.var
            spread = np.asarray(fn(a, axis=axes, ddof=correction, keepdims=keepdim), a.dtype)
            mean = np.asarray(np.mean(a, axis=axes, keepdims=keepdim), a.dtype)
        ctx.save_for_backward(x, spread)  # (the output itself: differentiable through it)
        return spread, mean

    @classmethod
    def backward(cls, ctx, gs, gm):
        x, spread = ctx.saved_tensors
        out = None
        if gs is not None:
            c = x - x.mean(ctx.axes, keepdim=True)
            if cls.std:
                o = kept(ctx, spread)
                g = where(o == 0, 0.0, kept(ctx, gs) / o)
                out = g * c * (1.0 / ctx.dof if ctx.dof > 0 else float("inf"))
            else:
                out = kept(ctx, gs) * c * (2.0 / ctx.dof if ctx.dof > 0 else float("inf"))
        if gm is not None:
            m = kept(ctx, gm).expand(x.shape) / ctx.n
            out = m if out is None else out + m
        return out, None, None, None


class StdMean(_SpreadMean):
    std = True


class VarMean(_SpreadMean):
    std = False


def std_mean(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(std, mean)`` over ``dim``, as a tuple."""
    axes, correction = _var_args(x, dim, unbiased, correction, "std_mean")
    return tuple(StdMean.apply(x, axes, correction, keepdim))


def var_mean(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(var, mean)`` over ``dim``, as a tuple."""
    axes, correction = _var_args(x, dim, unbiased, correction, "var_mean")
    return tuple(VarMean.apply(x, axes, correction, keepdim))


def count_nonzero(x: Tensor, dim=None) -> Tensor:
    """How many elements are nonzero, over ``dim`` (all by default)."""
    axes = normalize_dims(dim, x._data.ndim)
    return _wrap(np.asarray(np.count_nonzero(x._data, axis=axes), dtype=np.int64))


def diff(x: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """The n-th forward difference along ``dim`` (after ``prepend`` and ``append``)."""
    if x._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    axis = _wrap_dim(dim, x._data.ndim)
    if prepend is not None or append is not None:
        parts = [t for t in (prepend, x, append) if t is not None]
        x = cat(parts, axis)
    for _ in range(n):
        size = x.shape[axis]
        if size == 0:
            break
        x = x.narrow(axis, 1, size - 1) - x.narrow(axis, 0, size - 1)
    return x


# ---- quantiles -------------------------------------------------------------------------------

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(x: Tensor, q, dim, keepdim: bool, interpolation: str, ignore_nan: bool):
    fn = "nanquantile" if ignore_nan else "quantile"
    a = x._data
    if a.dtype.kind != "f":
        raise RuntimeError(f"{fn}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{fn}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest. Got {interpolation}")
    scalar_q = not isinstance(q, Tensor)
    qa = np.asarray(q if scalar_q else q._data, dtype=a.dtype).reshape(-1)
    if not isinstance(q, Tensor) or q._data.ndim == 0:
        scalar_q = True
    elif q._data.ndim > 1:
        raise RuntimeError(f"{fn}() q must be a scalar or 1D tensor")
    if ((qa < 0) | (qa > 1)).any():
        raise RuntimeError(f"{fn}() q values must be in the range [0, 1]")
    if a.size == 0:
        raise RuntimeError(f"{fn}() input tensor must be non-empty")
    if dim is None:
        flat = x.reshape(-1)
    else:
        axis = one_dim(dim, a.ndim, fn) if a.ndim else 0
        flat = x.movedim(axis, -1) if a.ndim else x.reshape(1)
    srt = flat.sort(-1).values  # NaN sorts last
    nan = np.isnan(flat._data)
    n = flat.shape[-1]
    count = (n - nan.sum(-1, keepdims=True)) if ignore_nan else np.full(nan.shape[:-1] + (1,), n)
    pos = qa * np.maximum(count - 1, 0)  # (..., Q)
    lo = np.floor(pos)
    hi = np.ceil(pos)
    if interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi
    elif interpolation == "nearest":
        lo = hi = np.round(pos)  # (halves to even, as PyTorch's round)
    weight = pos - lo if interpolation == "linear" else np.full(pos.shape, 0.5 if
                                                                 interpolation == "midpoint"
                                                                 else 0.0)
    below = srt.gather(-1, _wrap(lo.astype(np.int64)))
    above = srt.gather(-1, _wrap(hi.astype(np.int64)))
    out = below.lerp(above, _wrap(weight.astype(a.dtype)))
    if not ignore_nan and nan.any():
        out = where(_wrap(nan.any(-1, keepdims=True)), float("nan"), out)
    if keepdim:
        if dim is None:
            out = out.reshape((1,) * a.ndim + (qa.size,))
        elif a.ndim:
            out = out.unsqueeze(axis)
    out = out.movedim(-1, 0) if out.ndim > 1 else out
    return out.squeeze(0) if scalar_q else out


def quantile(x: Tensor, q, dim=None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The q-th quantiles of x (over ``dim``, or all elements); NaN if a slice holds NaN."""
    return _quantile(x, q, dim, keepdim, interpolation, False)


def nanquantile(x: Tensor, q, dim=None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """``quantile`` ignoring NaN values."""
    return _quantile(x, q, dim, keepdim, interpolation, True)


expose({
    "cumprod": cumprod, "logcumsumexp": logcumsumexp, "cummax": cummax, "cummin": cummin,
    "median": median, "nanmedian": nanmedian, "kthvalue": kthvalue, "mode": mode,
    "nansum": nansum, "nanmean": nanmean, "count_nonzero": count_nonzero, "diff": diff,
    "quantile": quantile, "nanquantile": nanquantile,
})
expose({"std_mean": std_mean, "var_mean": var_mean}, method=False)
