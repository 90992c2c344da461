"""Activations: softmax, log_softmax and the nonlinearities behind ``nn.functional``.

softmax and log_softmax shift by the max before exponentiating, so large inputs cannot
overflow. Their backward, and GELU's, is one fused op (``SoftmaxGrad``, ``LogSoftmaxGrad``,
``GeluGrad``: one NumPy expression instead of several tensor ops) whose own backward is written
with tensor ops, so higher derivatives still work. The other activations save their input and
write the derivative with tensor ops.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import dtypes as _dt
from ..autograd.forward_ad import elementwise_jvp
from ..autograd.function import Function
from ..backend import quiet
from ..tensor import Tensor, _wrap, _wrap_dim
from . import gelu_tanh, softmax_rows
from ._registry import expose
from .elementwise import keep_where, where
from .erf import erf_array
from .erf_f32 import gelu_f32, gelu_grad_f32
from .reduce import type_name
from .unary import sigmoid, zeros_of


def _check_float(x: Tensor, fn: str) -> None:
    if x._data.dtype.kind != "f":
        raise NotImplementedError(
            f"\"{fn}\" not implemented for '{type_name(x._data)}'; convert the input with "
            ".float() first.")


# ---- softmax, log_softmax -----------------------------------------------------------------


def _softmax_array(a: np.ndarray, axis: int) -> np.ndarray:
    if a.size == 0 or a.ndim == 0:
        return np.asarray(np.exp(a - a))
    if softmax_rows.fits(a, axis):  # Note [Softmax rows]
        return softmax_rows.softmax_last(a)
    # NOTE: shifting by the max keeps exp from overflowing; it cancels in the ratio
    out = a - np.maximum.reduce(a, axis=axis, keepdims=True)
    np.exp(out, out=out)
    out *= np.reciprocal(np.add.reduce(out, axis=axis, keepdims=True))  # (one divide per row)
    return out


def _log_softmax_array(a: np.ndarray, axis: int) -> np.ndarray:
    if a.size == 0 or a.ndim == 0:
        return np.asarray(a - a)
    out = a - np.maximum.reduce(a, axis=axis, keepdims=True)
    out -= np.log(np.add.reduce(np.exp(out), axis=axis, keepdims=True))
    return out


def softmax_grad_array(g: np.ndarray, yd: np.ndarray, axis: int) -> np.ndarray:
    """SoftmaxGrad's kernel: y * (g - sum(g * y)) along ``axis``, in one buffer."""
    if (g.shape == yd.shape and g.dtype == yd.dtype and softmax_rows.fits(yd, axis)):
        return softmax_rows.softmax_grad_last(g, yd)
    gy = np.multiply(g, yd, out=np.empty(np.broadcast_shapes(g.shape, yd.shape), yd.dtype))
    total = gy.sum(axis=axis, keepdims=True) if yd.ndim else gy.copy()
    np.subtract(g, total, out=gy)
    gy *= yd
    return gy


class SoftmaxGrad(Function):
    """out = y * (grad - sum(grad * y)) (softmax's backward from its output y), as one op;
    dgrad = y * (gg - sum(gg * y)),  dy = gg * (grad - sum(grad * y)) - grad * sum(gg * y)"""

    node_name = "SoftmaxBackwardDataBackward0"

    @staticmethod
    def forward(ctx, grad, y, axis):
        ctx.save_for_backward(grad, y)
        ctx.axis = axis
        return softmax_grad_array(grad._data, y._data, axis)

    @staticmethod
    def backward(ctx, gg):
        grad, y = ctx.saved_tensors
        need_grad, need_y = ctx.needs_input_grad[:2]
        axis = ctx.axis
        g_grad = SoftmaxGrad.apply(gg, y, axis) if need_grad else None
        g_y = None
        if need_y:
            g_y = (gg * (grad - (grad * y).sum(axis, keepdim=True))
                   - grad * (gg * y).sum(axis, keepdim=True))
        return g_grad, g_y, None

    @staticmethod
    def jvp(ctx, t_grad, t_y, _):
        grad, y = ctx.saved_tensors
        axis = ctx.axis
        out = SoftmaxGrad.apply(t_grad, y, axis) if t_grad is not None else None
        if t_y is not None:
            term = t_y * (grad - (grad * y).sum(axis, keepdim=True)) - y * (grad * t_y).sum(
                axis, keepdim=True)
            out = term if out is None else out + term
        return out


class LogSoftmaxGrad(Function):
    """out = grad - exp(y) * sum(grad) (log_softmax's backward from its output y), as one op;
    dgrad = gg - sum(gg * exp(y)),  dy = -gg * exp(y) * sum(grad)"""

    node_name = "LogSoftmaxBackwardDataBackward0"

    @staticmethod
    def forward(ctx, grad, y, axis):
        ctx.save_for_backward(grad, y)
        ctx.axis = axis
        g = grad._data
        total = g.sum(axis=axis, keepdims=True) if g.ndim else g
        return g - np.exp(y._data) * total

    @staticmethod
    def backward(ctx, gg):
        grad, y = ctx.saved_tensors
        need_grad, need_y = ctx.needs_input_grad[:2]
        axis = ctx.axis
        e = y.exp()
        g_grad = gg - (gg * e).sum(axis, keepdim=True) if need_grad else None
        g_y = -gg * e * grad.sum(axis, keepdim=True) if need_y else None
        return g_grad, g_y, None

    @staticmethod
    def jvp(ctx, t_grad, t_y, _):
        grad, y = ctx.saved_tensors
        axis = ctx.axis
        out = LogSoftmaxGrad.apply(t_grad, y, axis) if t_grad is not None else None
        if t_y is not None:
            term = -(y.exp() * t_y * grad.sum(axis, keepdim=True))
            out = term if out is None else out + term
        return out


class _SoftmaxLike(Function):
    """Softmax and LogSoftmax: ``array_fn`` along ``axis``; the output is saved and the backward
    is the fused ``grad_op`` of (grad, out, axis)."""

    @classmethod
    def forward(cls, ctx, x, axis):
        ctx.axis = axis
        # PyTorch's softmax writes a contiguous result whatever the input's layout
        out = quiet(cls.array_fn, x._data, axis)
        if out.__class__ is np.ndarray and not out.flags.c_contiguous:
            out = out.copy()  # (C order; np.ascontiguousarray would make a 0-d result 1-d)
        ctx.save_for_backward(out)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        (out,) = ctx.saved_tensors
        return cls.grad_op.apply(grad, out, ctx.axis), None


class Softmax(_SoftmaxLike):
    """out = exp(x) / sum(exp(x)) along ``axis``;  dx = out * (grad - sum(grad * out))"""

    array_fn = staticmethod(_softmax_array)
    grad_op = SoftmaxGrad

    @staticmethod
    def jvp(ctx, t, _):  # the Jacobian diag(out) - out out^T is symmetric: backward's formula
        (out,) = ctx.saved_tensors
        return SoftmaxGrad.apply(t, out, ctx.axis)


class LogSoftmax(_SoftmaxLike):
    """out = x - log(sum(exp(x))) along ``axis``;  dx = grad - exp(out) * sum(grad)"""

    array_fn = staticmethod(_log_softmax_array)
    grad_op = LogSoftmaxGrad

    @staticmethod
    def jvp(ctx, t, _):  # the Jacobian is I - 1 softmax^T
        (out,) = ctx.saved_tensors
        return t - (t * out.exp()).sum(ctx.axis, keepdim=True)


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """The dim an old call without ``dim`` used: 0 for 0-, 1- and 3-d inputs, else 1."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated: pass dim=... explicitly "
        "(softmax over the wrong dim is a silent bug).", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_like(cls, name: str, x: Tensor, dim, dtype, stacklevel: int) -> Tensor:
    if dtype is not None:
        x = x.to(_dt.to_dtype(dtype))
    _check_float(x, name)
    ndim = x._data.ndim
    if dim is None:
        dim = _softmax_dim(name, ndim, stacklevel + 1)
    return cls.apply(x, _wrap_dim(dim, ndim))  # (a 0-d x takes dim 0 or -1)


def softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:  # noqa: A002
    """exp(x) / sum(exp(x)) along ``dim``: each slice becomes a probability distribution."""
    return _softmax_like(Softmax, "softmax", input, dim, dtype, _stacklevel)


def log_softmax(input: Tensor, dim=None, _stacklevel: int = 3,  # noqa: A002
                dtype=None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed without forming softmax (stable for large x)."""
    return _softmax_like(LogSoftmax, "log_softmax", input, dim, dtype, _stacklevel)


def _softmax_dim_required(input: Tensor, dim: int, dtype=None) -> Tensor:  # noqa: A002
    return _softmax_like(Softmax, "softmax", input, dim, dtype, 3)


def _log_softmax_dim_required(input: Tensor, dim: int, dtype=None) -> Tensor:  # noqa: A002
    return _softmax_like(LogSoftmax, "log_softmax", input, dim, dtype, 3)


# ---- pointwise activations ------------------------------------------------------------------


class LeakyReluGrad(Function):
    """out = grad if x > 0 else slope * grad (leaky_relu's derivative), as one op;
    dgrad = the same of gg,  dx = 0 (so second derivatives are zeros, as in PyTorch)"""

    node_name = "LeakyReluBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        g = grad._data
        return np.where(x._data > 0, g, g * np.asarray(slope, dtype=g.dtype))

    @staticmethod
    def backward(ctx, gg):
        (x,) = ctx.saved_tensors
        need_grad, need_x = ctx.needs_input_grad[:2]
        return (LeakyReluGrad.apply(gg, x, ctx.slope) if need_grad else None,
                zeros_of(gg) if need_x else None, None)

    jvp = elementwise_jvp


class LeakyRelu(Function):
    """out = x if x > 0 else slope * x;  dx = grad if x > 0 else slope * grad (slope at 0)"""

    @staticmethod
    def forward(ctx, x, slope):
        a = x._data
        ctx.save_for_backward(x)
        ctx.slope = slope
        return np.where(a > 0, a, a * np.asarray(slope, dtype=a.dtype))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return LeakyReluGrad.apply(grad, x, ctx.slope), None

    jvp = elementwise_jvp


_SQRT1_2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_TANH_K = math.sqrt(2 / math.pi)
_TANH_C = 0.044715


def _square(a: np.ndarray) -> np.ndarray:
    """a * a in a new array (an array even when a is 0-d, so it can be updated in place)."""
    return np.multiply(a, a, out=np.empty_like(a))


def _gelu_tanh_inner(a: np.ndarray) -> np.ndarray:
    """u = k (x + c x^3), the argument of tanh in GELU's tanh form (a new array)."""
    u = _square(a)
    u *= a
    u *= _TANH_C
    u += a
    u *= _TANH_K
    return u


class Gelu(Function):
    """out = x * Phi(x) (Phi the normal cdf; or its tanh approximation);
    dx = grad * (Phi(x) + x * phi(x)) (see GeluGrad)"""

    ctx_arrays = ("_saved_aux",)

    @staticmethod
    def forward(ctx, x, approximate):
        a = x._data
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh" and gelu_tanh.fits(a):
            out, aux = gelu_tanh.gelu_tanh(a)
        elif approximate == "tanh":
            aux = _gelu_tanh_inner(a)
            np.tanh(aux, out=aux)
            out = aux + 1
            out *= a
            out *= 0.5
        elif a.__class__ is np.ndarray and a.dtype == np.float32:
            out, aux = gelu_f32(a)  # Note [float32 erf]
        else:
            aux = erf_array(a * _SQRT1_2)
            aux += 1
            aux *= 0.5  # Phi(a)
            out = a * aux
        ctx._saved_aux = aux  # reused by backward, so erf runs once per step
        return out

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return GeluGrad.apply(grad, x, ctx.approximate, ctx._saved_aux), None

    jvp = elementwise_jvp


class GeluGrad(Function):
    """out = grad * gelu'(x), as one op;  dgrad = gg * gelu'(x),  dx = gg * grad * gelu''(x)

    ``aux`` is what the forward computed: Phi(x), or tanh(u) for the tanh approximation
    with u = k (x + c x^3). Then gelu' = Phi + x phi and gelu'' = phi (2 - x^2); or
    gelu' = (1 + t) / 2 + x (1 - t^2) u' / 2 and gelu'' = (1 - t^2) (u' - x t u'^2 + 3 k c x^2).
    """

    node_name = "GeluBackwardBackward0"
    ctx_arrays = ("_saved_aux",)

    @staticmethod
    def forward(ctx, grad, x, approximate, aux):
        ctx.save_for_backward(grad, x)
        ctx.approximate = approximate
        ctx._saved_aux = aux
        a = x._data
        if (approximate == "tanh" and gelu_tanh.fits(a) and aux.__class__ is np.ndarray
                and aux.dtype == a.dtype and grad._data.__class__ is np.ndarray):
            return gelu_tanh.gelu_tanh_grad(grad._data, a, aux)
        if approximate == "tanh":
            # NOTE: (1 + t) / 2 + x (1 - t^2) u' / 2 = (1 + t) (1 + x (1 - t) u') / 2, computed
            # in place in two buffers (the derivative is memory-bound: passes and fresh
            # allocations cost more than the arithmetic)
            slope = _square(a)
            slope *= 3 * _TANH_C * _TANH_K
            slope += _TANH_K  # u'
            slope *= a
            t = np.subtract(1, aux, out=np.empty_like(slope))
            slope *= t
            slope += 1
            np.add(aux, 1, out=t)
            slope *= t
            slope *= 0.5
            slope *= grad._data
            return slope
        if (a.__class__ is np.ndarray and aux.__class__ is np.ndarray
                and a.dtype == aux.dtype == np.float32 and grad._data.__class__ is np.ndarray):
            return gelu_grad_f32(grad._data, a, aux)
        slope = _square(a)
        slope *= -0.5
        np.exp(slope, out=slope)
        slope *= _INV_SQRT_2PI
        slope *= a
        slope += aux
        slope *= grad._data
        return slope

    @staticmethod
    def backward(ctx, gg):
        grad, x = ctx.saved_tensors
        need_grad, need_x = ctx.needs_input_grad[:2]
        g_grad = GeluGrad.apply(gg, x, ctx.approximate, ctx._saved_aux) if need_grad else None
        g_x = None
        if need_x:
            x2 = x * x
            if ctx.approximate == "tanh":
                t = ((x + x2 * x * _TANH_C) * _TANH_K).tanh()
                du = (x2 * (3 * _TANH_C) + 1) * _TANH_K
                second = (1 - t * t) * (du - x * t * du * du + x2 * (3 * _TANH_K * _TANH_C))
            else:
                second = (x2 * -0.5).exp() * _INV_SQRT_2PI * (2 - x2)
            g_x = gg * grad * second
        return g_grad, g_x, None, None

    jvp = elementwise_jvp


class Silu(Function):
    """out = x * sigmoid(x);  dx = grad * s * (1 + x * (1 - s)), s = sigmoid(x)"""

    @staticmethod
    def forward(ctx, x):
        a = x._data
        ctx.save_for_backward(x)
        # NOTE: exp(-|a|) cannot overflow; a * sigmoid(a) for either sign
        e = np.exp(-np.abs(a))
        return np.where(a >= 0, a / (1 + e), a * e / (1 + e))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = sigmoid(x)
        return grad * (s * (x * (1 - s) + 1))

    jvp = elementwise_jvp


class Softplus(Function):
    """out = log(1 + exp(beta x)) / beta (x itself where beta x > threshold);
    dx = grad * sigmoid(beta x) (grad where beta x > threshold)"""


    @staticmethod
    def forward(ctx, x, beta, threshold):
        a = x._data
        ctx.save_for_backward(x)
        ctx.beta = beta
        ctx.threshold = threshold
        bx = a * np.asarray(beta, dtype=a.dtype)
        out = np.logaddexp(0, bx)
        if beta != 1:
            out /= np.asarray(beta, dtype=a.dtype)
        return np.where(bx > threshold, a, out)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        bx = x * ctx.beta if ctx.beta != 1 else x
        return where(bx > ctx.threshold, grad, grad * sigmoid(bx)), None, None

    jvp = elementwise_jvp


class EluGrad(Function):
    """out = grad * alpha exp(x) where x <= 0, else grad (elu's derivative; NaN x passes grad),
    as one op;  dgrad = the same of gg,  dx = gg * grad * alpha exp(x) where x < 0, else 0
    (PyTorch's EluBackwardBackward0: the second derivative is 0 at the kink x = 0)"""

    node_name = "EluBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, x, alpha):
        ctx.save_for_backward(grad, x)
        ctx.alpha = alpha
        g, a = grad._data, x._data
        with np.errstate(invalid="ignore"):  # inf * 0: NaN, as PyTorch
            left = g * (np.exp(np.minimum(a, 0)) * np.asarray(alpha, dtype=a.dtype))
        return np.where(a <= 0, left, g)

    @staticmethod
    def backward(ctx, gg):
        grad, x = ctx.saved_tensors
        need_grad, need_x = ctx.needs_input_grad[:2]
        neg = _wrap(np.asarray(x._data < 0, dtype=x._data.dtype))  # a constant mask
        return (EluGrad.apply(gg, x, ctx.alpha) if need_grad else None,
                EluGrad.apply(gg * grad, x, ctx.alpha) * neg if need_x else None, None)

    jvp = elementwise_jvp


class Elu(Function):
    """out = x if x > 0 else alpha * (exp(x) - 1);  dx = grad if x > 0 else grad * alpha exp(x)
    (see EluGrad)"""

    @staticmethod
    def forward(ctx, x, alpha):
        a = x._data
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        neg = np.expm1(np.where(a > 0, 0, a))  # cannot overflow; elu(-0.0) is -0.0
        neg *= np.asarray(alpha, dtype=a.dtype)
        return np.where(a > 0, a, neg)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # NOTE: at x = 0 the left branch is taken: the slope there is alpha, as in PyTorch
        return EluGrad.apply(grad, x, ctx.alpha), None

    jvp = elementwise_jvp


class HardtanhGrad(Function):
    """out = 0 where x <= lo or x >= hi, else grad (hardtanh's derivative), as one op;
    dgrad = the same selection of gg,  dx = 0"""

    node_name = "HardtanhBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        g, a = grad._data, x._data
        # NOTE: a selection (an infinite grad gives no NaN); NaN in x passes grad, as in PyTorch
        return keep_where(g, (a <= lo) | (a >= hi), drop=True)

    @staticmethod
    def backward(ctx, gg):
        (x,) = ctx.saved_tensors
        need_grad, need_x = ctx.needs_input_grad[:2]
        return (HardtanhGrad.apply(gg, x, *ctx.bounds) if need_grad else None,
                zeros_of(gg) if need_x else None, None, None)

    jvp = elementwise_jvp


class Hardtanh(Function):
    """out = clamp(x, lo, hi);  dx = grad where lo < x < hi, else 0 (also at the corners)"""

    @staticmethod
    def forward(ctx, x, lo, hi):
        a = x._data
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        if a.dtype.kind != "f":
            return np.clip(a, math.ceil(lo), math.floor(hi)).astype(a.dtype)
        return np.clip(a, np.asarray(lo, dtype=a.dtype), np.asarray(hi, dtype=a.dtype))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return HardtanhGrad.apply(grad, x, *ctx.bounds), None, None

    jvp = elementwise_jvp


class LogSigmoid(Function):
    """out = log(sigmoid(x)) = -softplus(-x);  dx = grad * sigmoid(-x)"""

    @staticmethod
    def forward(ctx, x):
        a = x._data
        ctx.save_for_backward(x)
        return -np.logaddexp(0, -a)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * sigmoid(-x)

    jvp = elementwise_jvp


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    """x where x > 0, else negative_slope * x."""
    _check_float(input, "leaky_relu_cpu")
    return LeakyRelu.apply(input, float(negative_slope))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """x * Phi(x), Phi the standard normal cdf (exact, with erf), or its tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got "
                           f"{approximate!r}.")
    _check_float(input, "GeluKernelImpl")
    return Gelu.apply(input, approximate)


def silu(input: Tensor) -> Tensor:  # noqa: A002
    """x * sigmoid(x) (also called swish)."""
    _check_float(input, "silu_cpu")
    return Silu.apply(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + exp(beta x)) / beta, a smooth relu; linear where beta x > threshold."""
    _check_float(input, "softplus_cpu")
    return Softplus.apply(input, beta, threshold)


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """x where x > 0, else alpha * (exp(x) - 1)."""
    _check_float(input, "elu_cpu")
    return Elu.apply(input, float(alpha))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    """x clamped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError(f"min_val cannot be greater than max_val (got {min_val} > {max_val})")
    return Hardtanh.apply(input, min_val, max_val)


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """log(sigmoid(x)), computed without overflow."""
    _check_float(input, "log_sigmoid_cpu")
    return LogSigmoid.apply(input)


expose({
    "softmax": _softmax_dim_required, "log_softmax": _log_softmax_dim_required,
})
