"""Reductions built on sums of transformed elements: var, std, the vector norms, logsumexp,
and the running sum cumsum.

They keep their bookkeeping as the reductions in ``reduce.py`` do (Note [Reduction
bookkeeping]).
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import dtypes as _dt
from ..autograd.forward_ad import linear_jvp, reduction_jvp
from ..autograd.function import Function
from ..backend import quiet
from ..tensor import Tensor, _wrap
from ._registry import expose
from .elementwise import where
from .minmax import share_evenly
from .reduce import (
    MeanDim,
    kept,
    normalize_dims,
    one_dim,
    record_reduction,
    reduced_size,
    sum_dtype,
    type_name,
)

# ---- var, std ----------------------------------------------------------------------------


def _spread(ctx, x: Tensor, axes: tuple, correction, keepdim: bool, std: bool) -> np.ndarray:
    """The variance (or with ``std`` its square root) of x over ``axes``, recording on ctx what
    backward needs."""
    a = x._data
    record_reduction(ctx, a, axes, keepdim)
    ctx.dof = reduced_size(a.shape, axes) - correction
    np_fn = np.std if std else np.var
    if ctx.dof > 0:
        out = np.asarray(np_fn(a, axis=axes, ddof=correction, keepdims=keepdim))
    else:
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # we warn ourselves, below
            out = np.asarray(np_fn(a, axis=axes, ddof=correction, keepdims=keepdim))
        warnings.warn(
            f"{'std' if std else 'var'}(): degrees of freedom is <= 0: the correction must "
            "be smaller than the number of elements reduced, so the result is NaN or inf.",
            UserWarning, stacklevel=5)
    if out.dtype != a.dtype:  # NumPy computes float16 in float32
        out = out.astype(a.dtype)
    ctx.save_for_backward(*((x, out) if std else (x,)))
    return out


def _centered(x: Tensor, axes: tuple) -> Tensor:
    return x - MeanDim.apply(x, axes, True)


def _safe_div(num: float, den) -> float:
    return num / den if den > 0 else float("inf")


class Var(Function):
    """out = sum((x - mean)^2) / (N - correction);  dx = grad * 2 (x - mean) / (N - correction)"""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        ctx.whole = axes is None  # dim=None: everything (PyTorch's backward differs, below)
        if axes is None:
            axes = tuple(range(x.ndim))
        return _spread(ctx, x, axes, correction, keepdim, std=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        c = _centered(x, ctx.axes)
        if ctx.dof <= 0 and (ctx.whole or x.ndim == 0):
            # NOTE: PyTorch answers a whole-tensor variance with no degrees of freedom by grad
            # times a constant: NaN where x == mean(x), else inf (also where either is NaN)
            a = x._data
            on_mean = a == (a.mean() if a.size else np.nan)
            factor = np.where(on_mean, np.nan, np.inf).astype(a.dtype)
            return kept(ctx, grad) * _wrap(factor), None, None, None
        scale = 2.0 / ctx.dof if ctx.dof else float("inf")
        return kept(ctx, grad) * c * scale, None, None, None

    jvp = reduction_jvp


class Std(Function):
    """out = sqrt(var(x));  dx = grad * (x - mean) / ((N - correction) * out), 0 where out = 0"""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        return _spread(ctx, x, axes, correction, keepdim, std=True)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        o = kept(ctx, out)
        # NOTE: a constant slice has std 0 and gets gradient 0 there, as in PyTorch
        g = where(o == 0, 0.0, kept(ctx, grad) / o)
        return g * _centered(x, ctx.axes) * _safe_div(1.0, ctx.dof), None, None, None

    jvp = reduction_jvp


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
    return Var.apply(x, None if dim is None or isinstance(dim, bool) else axes, correction,
                     keepdim)


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
        record_reduction(ctx, a, axes, keepdim)
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
        p = ctx.p
        if p == 0:
            return None, None, None, None  # piecewise constant: no gradient, as in PyTorch
        return norm_grad(x, kept(ctx, grad), kept(ctx, out), p, ctx.axes), None, None, None

    jvp = reduction_jvp


def norm_grad(x: Tensor, g: Tensor, o: Tensor, p: float, axes) -> Tensor:
    """The gradient of ``o``, the p-norm (p != 0) of x over ``axes`` (kept as size 1), for
    the incoming ``g``: ``g * sign(x) |x|^(p-1) / o^(p-1)``. Also ``dist``'s."""
    if p == 2:
        # NOTE: the gradient at the zero vector is taken as 0, as in PyTorch (whose product
        # with g makes an infinite g NaN there)
        return g * where(o == 0, 0.0, x / o)
    if p == 1:
        return g * x.sign()
    if p in (float("inf"), float("-inf")):
        return x.sign() * share_evenly(g, x.abs(), o, axes)
    # PyTorch's three forms (their infinities and NaNs, in values and second derivatives)
    if p < 1:
        scaled = where(x == 0, 0.0, x.sign() * x.abs() ** (p - 1))
        return scaled * g * o ** (1 - p)
    scaled = x.sign() * x.abs() ** (p - 1) if p < 2 else x * x.abs() ** (p - 2)
    return scaled * where(o == 0, 0.0, g / o ** (p - 1))


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
    if ord < 0 or ord == float("inf"):  # no identity: the max, the min, 1 / sum(1 / ...)
        empty = [ax for ax in axes if a.shape[ax] == 0]
        if empty or (a.size == 0 and not axes):
            where_ = "an empty tensor" if dim is None else f"the empty dimension {empty[0]}"
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {ord:g} norm on {where_} because the "
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
        record_reduction(ctx, a, axes, keepdim)
        out = np.asarray(quiet(_logsumexp_array, a, axes, keepdim))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return kept(ctx, grad) * (x - kept(ctx, out)).exp(), None, None

    jvp = reduction_jvp


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
        dt = sum_dtype(a)
        if a.ndim == 0:
            return a.astype(dt or a.dtype)
        # NOTE: float16 sums run in float32 and each output is rounded once, as in PyTorch
        # (a float16 running sum stalls: 4096 x 0.1 would give 256, not 409.5)
        acc = np.float32 if a.dtype == np.float16 else dt
        if reverse:
            out = np.flip(np.cumsum(np.flip(a, axis), axis=axis, dtype=acc), axis)
        else:
            out = np.cumsum(a, axis=axis, dtype=acc)
        if out.dtype.kind in "fc":
            out += 0.0  # PyTorch's sums start from +0.0: a running sum of -0.0s is +0.0
        return out.astype(np.float16) if acc is np.float32 else out

    @staticmethod
    def backward(ctx, grad):
        return Cumsum.apply(grad, ctx.axis, not ctx.reverse), None, None

    jvp = linear_jvp


def cumsum(x: Tensor, dim, *, dtype=None) -> Tensor:
    """Cumulative sums along ``dim``."""
    if dtype is not None:
        x = x.to(_dt.to_dtype(dtype))
    return Cumsum.apply(x, one_dim(dim, x._data.ndim, "cumsum"), False)


expose({"var": var, "std": std, "norm": norm, "logsumexp": logsumexp, "cumsum": cumsum})
expose({"vector_norm": vector_norm}, method=False)
