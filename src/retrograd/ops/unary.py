"""Math functions of one tensor (exp, log, tanh, relu, ...), clamp and rounding, with their
derivatives. Integer inputs give the default float dtype, as in PyTorch."""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..autograd.forward_ad import elementwise_jvp
from ..autograd.function import Function
from ..backend import quiet
from ..tensor import Tensor, _wrap
from . import _parallel
from ._registry import expose
from .elementwise import keep_where, where
from .promotion import broadcast_error, float_result, lift

_zeros = {np.dtype(t): np.dtype(t).type(0) for t in
          (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8)}


class _ElementwiseGrad(Function):
    """Base of derivatives computed as one op of (grad, saved): out = kernel(grad, saved).

    The op they differentiate uses ``fast`` as its fast backward (Note [Fast backward]): the
    same array ``kernel``, called directly, so the formula is written once.
    """

    @staticmethod
    def kernel(g: np.ndarray, saved: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx, grad, saved):
        ctx.save_for_backward(grad, saved)
        if grad._data.size >= _parallel.min_size:
            return _parallel.elementwise(cls.kernel, grad._data, saved._data, any_kernel=True)
        return cls.kernel(grad._data, saved._data)

    @classmethod
    def fast(cls, ctx, grad: Tensor) -> Tensor:
        (saved,) = ctx.saved_tensors
        if grad._data.dtype is not saved._data.dtype:
            return cls.apply(grad, saved)
        if grad._data.size >= _parallel.min_size:
            return _wrap(_parallel.elementwise(cls.kernel, grad._data, saved._data,
                                               any_kernel=True))
        return _wrap(cls.kernel(grad._data, saved._data))


class TanhGrad(_ElementwiseGrad):
    """out = grad * (1 - y**2), tanh's derivative from its output y, as one op"""

    node_name = "TanhBackwardBackward0"

    @staticmethod
    def kernel(g: np.ndarray, y: np.ndarray) -> np.ndarray:
        return g * (1 - y * y)

    @staticmethod
    def backward(ctx, gg):
        grad, y = ctx.saved_tensors
        need_grad, need_y = ctx.needs_input_grad
        return (TanhGrad.apply(gg, y) if need_grad else None,
                gg * grad * y * -2.0 if need_y else None)

    jvp = elementwise_jvp


class SigmoidGrad(_ElementwiseGrad):
    """out = grad * y * (1 - y), sigmoid's derivative from its output y, as one op"""

    node_name = "SigmoidBackwardBackward0"

    @staticmethod
    def kernel(g: np.ndarray, y: np.ndarray) -> np.ndarray:
        return g * (y * (1 - y))

    @staticmethod
    def backward(ctx, gg):
        grad, y = ctx.saved_tensors
        need_grad, need_y = ctx.needs_input_grad
        return (SigmoidGrad.apply(gg, y) if need_grad else None,
                gg * grad * (1 - 2.0 * y) if need_y else None)

    jvp = elementwise_jvp


class ThresholdGrad(_ElementwiseGrad):
    """out = 0 where y <= 0 else grad (relu's derivative from its output y), as one op;
    dgrad = the same selection of gg,  dy = 0"""

    node_name = "ThresholdBackwardBackward0"

    @staticmethod
    def kernel(g: np.ndarray, y: np.ndarray) -> np.ndarray:
        # NOTE: a selection, not g * mask: an infinite g stays out of the zeroed places
        # (0 * inf would be NaN), and a NaN y passes g, as in PyTorch
        return keep_where(g, y <= 0, drop=True)

    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(y)  # (backward needs only y)
        return ThresholdGrad.kernel(grad._data, y._data)

    @staticmethod
    def backward(ctx, gg):
        (y,) = ctx.saved_tensors
        need_grad, need_y = ctx.needs_input_grad
        return (ThresholdGrad.apply(gg, y) if need_grad else None,
                zeros_of(gg) if need_y else None)

    jvp = elementwise_jvp


def zeros_of(t: Tensor) -> Tensor:
    """A constant zero tensor shaped like t: the derivative of a selection with respect to the
    tensor that chose (PyTorch returns zeros there, so second derivatives are zeros, not None)."""
    return _wrap(np.zeros_like(t._data))


def _unary(name: str, node_name: str, np_fn, backward_fn, saves: str, doc: str,
           can_warn: bool = True):
    """Build a one-input Function; ``saves`` is "x" (the input) or "out" (the result).

    ``backward_fn(grad, saved)`` is the derivative, or a Function of (grad, saved) with an
    array ``kernel`` (then also the fast backward). ``can_warn``: the NumPy function may warn
    (overflow, log of 0, ...); PyTorch doesn't.
    """

    def forward(ctx, x):
        a = x._data
        if a.dtype.kind != "f":
            a = float_result(a)
        if a.size >= _parallel.min_size:  # (large: chunked over the threads)
            out = quiet(_parallel.elementwise, np_fn, a)
        else:
            out = quiet(np_fn, a) if can_warn else np_fn(a)
        ctx.save_for_backward(x if saves == "x" else out)
        return out

    grad_op = backward_fn if isinstance(backward_fn, type) else None

    def backward(ctx, grad):
        (saved,) = ctx.saved_tensors
        if grad_op is not None:
            return grad_op.apply(grad, saved)
        return backward_fn(grad, saved)

    cls = type(name, (Function,), {
        "node_name": node_name, "__doc__": doc,
        "saved_names": ("self",) if saves == "x" else ("result",),
        "forward": staticmethod(forward), "backward": staticmethod(backward),
        "fast_backward": grad_op.fast if grad_op is not None else None,
        "jvp": elementwise_jvp,  # (Note [Forward-mode AD]: backward of the tangent)
    })
    cls.__module__ = __name__
    return cls


Exp = _unary("Exp", "ExpBackward0", np.exp, lambda g, out: g * out, "out",
             "out = exp(x);  dx = grad * out")
Log = _unary("Log", "LogBackward0", np.log, lambda g, x: g / x, "x",
             "out = log(x);  dx = grad / x")
Log1p = _unary("Log1p", "Log1PBackward0", np.log1p, lambda g, x: g / (x + 1), "x",
               "out = log(1 + x);  dx = grad / (1 + x)")
Sqrt = _unary("Sqrt", "SqrtBackward0", np.sqrt, lambda g, out: g / (out * 2), "out",
              "out = sqrt(x);  dx = grad / (2 out)")
Rsqrt = _unary("Rsqrt", "RsqrtBackward0", lambda a: 1 / np.sqrt(a),
               lambda g, out: g * (out ** 3) * -0.5, "out",
               "out = 1 / sqrt(x);  dx = -grad * out**3 / 2")
Sin = _unary("Sin", "SinBackward0", np.sin, lambda g, x: g * x.cos(), "x",
             "out = sin(x);  dx = grad * cos(x)")
Cos = _unary("Cos", "CosBackward0", np.cos, lambda g, x: g * -x.sin(), "x",
             "out = cos(x);  dx = -grad * sin(x)")
Tan = _unary("Tan", "TanBackward0", np.tan, lambda g, out: g * (out * out + 1), "out",
             "out = tan(x);  dx = grad * (1 + out**2)")
Tanh = _unary("Tanh", "TanhBackward0", np.tanh, TanhGrad, "out",
              "out = tanh(x);  dx = grad * (1 - out**2)", can_warn=False)


def _sigmoid_array(a: np.ndarray) -> np.ndarray:
    # NOTE: exp of -|a| never overflows; the two branches give 1/(1+e^-a) for either sign
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


Sigmoid = _unary("Sigmoid", "SigmoidBackward0", _sigmoid_array, SigmoidGrad, "out",
                 "out = 1 / (1 + exp(-x));  dx = grad * out * (1 - out)", can_warn=False)


class Relu(Function):
    """out = max(x, 0);  dx = grad where out > 0, else 0 (so relu'(0) = 0)"""

    saved_names = ('result',)

    @staticmethod
    def forward(ctx, x):
        a = x._data
        # (the bound first: at ties NumPy returns the second argument, and PyTorch keeps x, so
        # relu(-0.0) is -0.0)
        out = np.maximum(_zeros[a.dtype], a) if a.dtype.kind != "b" else a.copy()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return ThresholdGrad.apply(grad, out)

    jvp = elementwise_jvp

    fast_backward = ThresholdGrad.fast


class Abs(Function):
    """out = |x|;  dx = grad * sign(x) (so abs'(0) = 0)"""

    saved_names = ('self',)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sign()

    jvp = elementwise_jvp


class _ZeroGrad(Function):
    """Piecewise-constant functions: their derivative is zero wherever it exists."""

    np_fn = None

    @classmethod
    def forward(cls, ctx, x):
        return cls.np_fn(x._data)

    @staticmethod
    def backward(ctx, grad):
        return zeros_of(grad)  # (not grad * 0, which is NaN where grad is infinite)

    jvp = elementwise_jvp


def _piecewise_constant(name: str, np_fn, doc: str):
    return type(name, (_ZeroGrad,), {
        "np_fn": staticmethod(np_fn), "__doc__": doc, "__module__": __name__})


def _sign_array(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "f":  # NOTE: sign(nan) is 0 in PyTorch
        return np.where(np.isnan(a), _zeros[a.dtype], np.sign(a))
    return np.sign(a)


Sign = _piecewise_constant("Sign", _sign_array, "out = sign(x) (0 at NaN);  dx = 0")
Floor = _piecewise_constant("Floor", np.floor, "out = floor(x);  dx = 0")
Ceil = _piecewise_constant("Ceil", np.ceil, "out = ceil(x);  dx = 0")
Round = _piecewise_constant("Round", np.round,
                            "out = round(x) (halves to even, like PyTorch);  dx = 0")
Trunc = _piecewise_constant("Trunc", np.trunc, "out = trunc(x);  dx = 0")


class Clamp(Function):
    """out = min(max(x, lo), hi) (numbers);  dx = grad where lo <= x <= hi, else 0"""

    node_name = "ClampBackward1"
    saved_names = ('self',)

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        a = x._data
        if a.dtype.kind != "f" and (isinstance(lo, float) or isinstance(hi, float)):
            a = a.astype(_dt.get_default_dtype().np)
        out = a
        # (bounds first: at ties x is kept, as in PyTorch, so clamp(-0.0, min=0) is -0.0)
        if lo is not None:
            out = np.maximum(np.asarray(lo, dtype=a.dtype), out)
        if hi is not None:
            out = np.minimum(np.asarray(hi, dtype=a.dtype), out)
        return out if out is not a else a.copy()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        mask = None
        if lo is not None:
            mask = x >= lo
        if hi is not None:
            mask = (x <= hi) if mask is None else mask & (x <= hi)
        return where(mask, grad, 0.0), None, None

    jvp = elementwise_jvp


class ClampTensor(Function):
    """out = min(max(x, lo), hi) with tensor bounds (either may be None);
    dx = grad where lo <= x <= hi,  dlo = grad where x < lo < hi,
    dhi = grad where x > hi or hi < lo"""

    node_name = "ClampBackward0"

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        out = x._data
        if lo is not None:  # (bounds first: at ties x is kept, as in PyTorch)
            out = np.maximum(lo._data.astype(out.dtype, copy=False), out)
        if hi is not None:
            out = np.minimum(hi._data.astype(out.dtype, copy=False), out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, lo, hi = ctx.saved_tensors
        need_x, need_lo, need_hi = ctx.needs_input_grad
        gx = glo = ghi = None
        if need_x:
            mask = (x >= lo) if lo is not None else None
            if hi is not None:
                mask = (x <= hi) if mask is None else mask & (x <= hi)
            gx = where(mask, grad, 0.0)
        # NOTE: where lo == hi and x is outside, neither bound gets the gradient (PyTorch's rule)
        if need_lo:
            mask = x < lo
            glo = where(mask if hi is None else mask & (lo < hi), grad, 0.0)
        if need_hi:
            mask = x > hi
            ghi = where(mask if lo is None else mask | (hi < lo), grad, 0.0)
        return gx, glo, ghi

    jvp = elementwise_jvp


class RoundDecimals(Function):
    """out = x rounded to ``decimals`` places (halves to even);  dx = 0"""

    node_name = "RoundBackward1"

    @staticmethod
    def forward(ctx, x, decimals):
        return np.round(x._data, decimals)

    @staticmethod
    def backward(ctx, grad):
        return zeros_of(grad), None

    jvp = elementwise_jvp


# ---- the functions users call ----------------------------------------------------------------


def clamp(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Limit x to [min, max]; bounds may be numbers or tensors."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lo = None if min is None else lift(min, x)
        hi = None if max is None else lift(max, x)
        try:
            return ClampTensor.apply(x, lo, hi)
        except ValueError:
            shapes = [t._data.shape for t in (x, lo, hi) if t is not None]
            raise broadcast_error(shapes[0], shapes[-1]) from None
    return Clamp.apply(x, min, max)


def exp(x: Tensor) -> Tensor:
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    return Log.apply(x)


def log1p(x: Tensor) -> Tensor:
    return Log1p.apply(x)


def sqrt(x: Tensor) -> Tensor:
    return Sqrt.apply(x)


def rsqrt(x: Tensor) -> Tensor:
    return Rsqrt.apply(x)


def sin(x: Tensor) -> Tensor:
    return Sin.apply(x)


def cos(x: Tensor) -> Tensor:
    return Cos.apply(x)


def tan(x: Tensor) -> Tensor:
    return Tan.apply(x)


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid.apply(x)


def relu(x: Tensor) -> Tensor:
    return Relu.apply(x)


def abs(x: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    return Abs.apply(x)


def sign(x: Tensor) -> Tensor:
    return Sign.apply(x)


def floor(x: Tensor) -> Tensor:
    return Floor.apply(x) if x._data.dtype.kind == "f" else x.clone()


def ceil(x: Tensor) -> Tensor:
    return Ceil.apply(x) if x._data.dtype.kind == "f" else x.clone()


def round(x: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001 - PyTorch's name
    if decimals:
        return RoundDecimals.apply(x, decimals)
    return Round.apply(x) if x._data.dtype.kind == "f" else x.clone()


def trunc(x: Tensor) -> Tensor:
    return Trunc.apply(x) if x._data.dtype.kind == "f" else x.clone()


expose({
    "exp": exp, "log": log, "log1p": log1p, "sqrt": sqrt, "rsqrt": rsqrt, "sin": sin,
    "cos": cos, "tan": tan, "tanh": tanh, "sigmoid": sigmoid, "relu": relu, "abs": abs,
    "absolute": abs, "sign": sign, "floor": floor, "ceil": ceil, "round": round, "trunc": trunc,
    "clamp": clamp, "clip": clamp,
})
expose({"__abs__": abs}, function=False)
