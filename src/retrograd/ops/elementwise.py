"""Elementwise ops: arithmetic, powers and the usual math functions, with their derivatives.

Binary ops broadcast like NumPy; Python scalars are lifted to zero-dim tensors of the dtype
PyTorch would give them (``lift``), and mixed dtypes are promoted by PyTorch's rules inside
forward. Gradients come back in the promoted dtype and the engine casts them to each input's.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..autograd.function import Function, recording
from ..backend import quiet
from ..tensor import Tensor, _wrap

_from_np = _dt.FROM_NUMPY


_constants: dict = {}
_default_dtype = _dt._DefaultDtype  # part of the key: int tensor * 0.5 follows the default


def lift(value, like: Tensor) -> Tensor:
    """A Python scalar (or array-like) as a constant tensor to combine with ``like``.

    Scalars are cached per (type, value, dtype): the same few constants (1, 2, 0.5, ...) recur
    in every step of a training loop. Constants never reach users and are never written to.
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float)):
        np_dtype = like._data.dtype
        key = (value.__class__, value, np_dtype, _default_dtype.value)
        t = _constants.get(key)
        if t is not None and (value or value.__class__ is not float):
            return t  # (0.0 and -0.0 compare equal: zeros are never served from the cache)
        dt = _dt.scalar_dtype(value, _from_np[np_dtype])
        t = _wrap(np.array(value, dtype=dt.np))
        if len(_constants) > 4096:
            _constants.clear()
        _constants[key] = t
        return t
    if isinstance(value, np.ndarray):
        return _wrap(value)
    if isinstance(value, np.generic):
        return lift(value.item(), like)
    raise TypeError(
        f"unsupported operand type: expected a Tensor or a number, got {type(value).__name__}")


def promote(x: Tensor, y: Tensor):
    """The arrays of ``x`` and ``y`` converted to their common dtype (PyTorch's promotion)."""
    a, b = x._data, y._data
    if a.dtype == b.dtype:
        return a, b
    dt = _dt.result_type(_from_np[a.dtype], a.ndim == 0, _from_np[b.dtype], b.ndim == 0).np
    return a.astype(dt, copy=False), b.astype(dt, copy=False)


def broadcast_error(a_shape: tuple, b_shape: tuple) -> RuntimeError:
    """PyTorch's message for shapes that do not broadcast, naming the offending dimension."""
    n = max(len(a_shape), len(b_shape))
    pa = (1,) * (n - len(a_shape)) + tuple(a_shape)
    pb = (1,) * (n - len(b_shape)) + tuple(b_shape)
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            return RuntimeError(
                f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                f"non-singleton dimension {i}: shapes {list(a_shape)} and {list(b_shape)} do "
                "not broadcast.")
    return RuntimeError(f"shapes {list(a_shape)} and {list(b_shape)} do not broadcast")


def _float_result(arr: np.ndarray) -> np.ndarray:
    """Integer inputs to float-valued functions give the default float dtype, as in PyTorch."""
    return arr if arr.dtype.kind == "f" else arr.astype(_dt.get_default_dtype().np)


# ---- binary arithmetic ---------------------------------------------------------------------


class Add(Function):
    """out = x + y;  dx = grad,  dy = grad"""

    node_name = "AddBackward0"
    _builtin = True

    @staticmethod
    def forward(ctx, x, y):
        a = x._data
        b = y._data
        if a.dtype is not b.dtype:
            a, b = promote(x, y)
        try:
            return a + b
        except ValueError:
            raise broadcast_error(a.shape, b.shape) from None

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """out = x - y;  dx = grad,  dy = -grad"""

    node_name = "SubBackward0"
    _builtin = True

    @staticmethod
    def forward(ctx, x, y):
        a = x._data
        b = y._data
        if a.dtype is not b.dtype:
            a, b = promote(x, y)
        if a.dtype.kind == "b":
            raise RuntimeError(
                "Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
                "`^` or `logical_xor()` operator instead.")
        try:
            return a - b
        except ValueError:
            raise broadcast_error(a.shape, b.shape) from None

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """out = x * y;  dx = grad * y,  dy = grad * x"""

    node_name = "MulBackward0"
    saved_names = ('self', 'other')
    _builtin = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        a = x._data
        b = y._data
        if a.dtype is not b.dtype:
            a, b = promote(x, y)
        try:
            return a * b
        except ValueError:
            raise broadcast_error(a.shape, b.shape) from None

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        g, a, b = grad._data, x._data, y._data
        if not recording() and g.dtype is a.dtype and a.dtype is b.dtype:
            # see Note [First-order fast path]
            return (_wrap(g * b) if need_x else None), (_wrap(g * a) if need_y else None)
        return (grad * y if need_x else None), (grad * x if need_y else None)


class Div(Function):
    """out = x / y;  dx = grad / y,  dy = -grad * x / y**2"""

    node_name = "DivBackward0"
    saved_names = ('self', 'other')
    _builtin = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        a, b = promote(x, y)
        try:
            out = quiet(np.true_divide, a, b)
        except ValueError:
            raise broadcast_error(a.shape, b.shape) from None
        if a.dtype.kind != "f":  # integer / integer gives the default float dtype
            return out.astype(_dt.get_default_dtype().np)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        g, a, b = grad._data, x._data, y._data
        if not recording() and g.dtype is a.dtype and a.dtype is b.dtype:
            # see Note [First-order fast path]
            return (_wrap(g / b) if need_x else None,
                    _wrap(-g * a / (b * b)) if need_y else None)
        gx = grad / y if need_x else None
        gy = -grad * x / (y * y) if need_y else None
        return gx, gy


class RsubScalar(Function):
    """out = c - x (c a number);  dx = -grad"""

    node_name = "RsubBackward1"
    _builtin = True

    @staticmethod
    def forward(ctx, x, c):
        return lift(c, x)._data - x._data if x._data.dtype.kind != "b" else Sub.forward(
            ctx, lift(c, x), x)

    @staticmethod
    def backward(ctx, grad):
        return -grad, None


class Reciprocal(Function):
    """out = 1 / x;  dx = -grad * out**2"""

    node_name = "ReciprocalBackward0"
    saved_names = ('result',)
    _builtin = True

    @staticmethod
    def forward(ctx, x):
        out = quiet(np.reciprocal, _float_result(x._data))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return -grad * (out * out)


class Neg(Function):
    """out = -x;  dx = -grad"""

    node_name = "NegBackward0"
    _builtin = True

    @staticmethod
    def forward(ctx, x):
        if x._data.dtype.kind == "b":
            raise RuntimeError(
                "Negation, the `-` operator, on a bool tensor is not supported. Use the `~` or "
                "`logical_not()` operator instead.")
        return np.negative(x._data)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class PowScalar(Function):
    """out = x ** p (p a number);  dx = grad * p * x ** (p - 1)"""

    node_name = "PowBackward0"
    saved_names = ('self',)
    saved_attrs = {'exponent': 'exponent'}
    _builtin = True

    @staticmethod
    def forward(ctx, x, p):
        ctx.save_for_backward(x)
        ctx.exponent = p
        a = x._data
        if a.dtype.kind != "f" and isinstance(p, float):
            a = a.astype(_dt.get_default_dtype().np)
        elif a.dtype.kind in "iu" and p < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if p == 2:
            return a * a
        return quiet(np.power, a, np.asarray(p, dtype=a.dtype) if a.dtype.kind == "f" else p)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0:
            return grad * 0, None
        if p == 2:
            return grad * (x * 2.0), None
        return grad * (x ** (p - 1) * p), None


class Square(Function):
    """out = x ** 2 (the most common power, without the exponent bookkeeping);  dx = grad * 2x"""

    node_name = "PowBackward0"
    saved_names = ('self',)
    _builtin = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        a = x._data
        return a * a

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if not recording() and grad._data.dtype is x._data.dtype:  # Note [First-order fast path]
            return _wrap(grad._data * (x._data * 2))
        return SquareGrad.apply(grad, x)


class SquareGrad(Function):
    """out = grad * 2x (the derivative of x**2) as one op;  dgrad = gg * 2x,  dx = gg * 2 grad"""

    node_name = "MulBackward0"  # PyTorch computes it as a product: that node on top
    _builtin = True

    @staticmethod
    def forward(ctx, grad, x):
        ctx.save_for_backward(grad, x)
        return grad._data * (x._data * 2)

    @staticmethod
    def backward(ctx, gg):
        grad, x = ctx.saved_tensors
        need_grad, need_x = ctx.needs_input_grad
        return (SquareGrad.apply(gg, x) if need_grad else None,
                SquareGrad.apply(gg, grad) if need_x else None)


class Pow(Function):
    """out = x ** y;  dx = grad * y * x ** (y - 1),  dy = grad * out * log(x)"""

    node_name = "PowBackward1"
    saved_names = ('self', 'exponent', 'result')
    _builtin = True

    @staticmethod
    def forward(ctx, x, y):
        a, b = promote(x, y)
        try:
            out = quiet(np.power, a, b)
        except ValueError:
            raise broadcast_error(a.shape, b.shape) from None
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y, out = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        gx = gy = None
        if need_x:
            gx = where(y == 0, 0.0, grad * y * x ** (y - 1))
        if need_y:
            # NOTE: d/dy x**y at x == 0 is taken as 0 for y >= 0 (PyTorch's choice)
            gy = where((x == 0) & (y >= 0), 0.0, grad * out * x.log())
        return gx, gy


class RPowScalar(Function):
    """out = c ** y (c a number);  dy = grad * out * log(c)"""

    node_name = "PowBackward2"
    saved_names = ('result',)
    _builtin = True

    @staticmethod
    def forward(ctx, c, y):
        b = y._data
        base = np.asarray(c, dtype=_dt.scalar_dtype(c, _from_np[b.dtype]).np)
        out = quiet(np.power, base, b)
        if out.dtype != b.dtype and b.dtype.kind == "f":
            out = out.astype(b.dtype)
        ctx.base = c
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        c = ctx.base
        if c == 0:
            return None, where(out == 0, 0.0, grad * out * float("-inf"))
        return None, grad * out * float(np.log(c))


# ---- unary math ----------------------------------------------------------------------------


def _unary(name: str, node_name: str, np_fn, backward_fn, saves: str, doc: str,
           can_warn: bool = True):
    """Build a one-input Function; ``saves`` is "x" (the input) or "out" (the result).

    ``can_warn``: the NumPy function may warn (overflow, log of 0, ...); PyTorch doesn't.
    """

    def forward(ctx, x):
        a = x._data
        if a.dtype.kind != "f":
            a = _float_result(a)
        out = quiet(np_fn, a) if can_warn else np_fn(a)
        ctx.save_for_backward(x if saves == "x" else out)
        return out

    def backward(ctx, grad):
        (saved,) = ctx.saved_tensors
        return backward_fn(grad, saved)

    cls = type(name, (Function,), {
        "node_name": node_name, "_builtin": True, "__doc__": doc,
        "saved_names": ("self",) if saves == "x" else ("result",),
        "forward": staticmethod(forward), "backward": staticmethod(backward),
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
class TanhGrad(Function):
    """out = grad * (1 - y**2), tanh's derivative from its output y, as one op"""

    node_name = "TanhBackwardBackward0"
    _builtin = True

    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(grad, y)
        yd = y._data
        return grad._data * (1 - yd * yd)

    @staticmethod
    def backward(ctx, gg):
        grad, y = ctx.saved_tensors
        need_grad, need_y = ctx.needs_input_grad
        return (TanhGrad.apply(gg, y) if need_grad else None,
                gg * grad * y * -2.0 if need_y else None)


class SigmoidGrad(Function):
    """out = grad * y * (1 - y), sigmoid's derivative from its output y, as one op"""

    node_name = "SigmoidBackwardBackward0"
    _builtin = True

    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(grad, y)
        yd = y._data
        return grad._data * (yd * (1 - yd))

    @staticmethod
    def backward(ctx, gg):
        grad, y = ctx.saved_tensors
        need_grad, need_y = ctx.needs_input_grad
        return (SigmoidGrad.apply(gg, y) if need_grad else None,
                gg * grad * (1 - 2.0 * y) if need_y else None)


class ThresholdGrad(Function):
    """out = grad where y > 0 else 0 (relu's derivative from its output y), as one op"""

    node_name = "ThresholdBackwardBackward0"
    _builtin = True

    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(y)
        return grad._data * (y._data > 0)

    @staticmethod
    def backward(ctx, gg):
        (y,) = ctx.saved_tensors
        return ThresholdGrad.apply(gg, y) if ctx.needs_input_grad[0] else None, None


def _tanh_backward(grad: Tensor, out: Tensor) -> Tensor:
    if not recording() and grad._data.dtype is out._data.dtype:  # Note [First-order fast path]
        y = out._data
        return _wrap(grad._data * (1 - y * y))
    return TanhGrad.apply(grad, out)


def _sigmoid_backward(grad: Tensor, out: Tensor) -> Tensor:
    if not recording() and grad._data.dtype is out._data.dtype:  # Note [First-order fast path]
        y = out._data
        return _wrap(grad._data * (y * (1 - y)))
    return SigmoidGrad.apply(grad, out)


Tanh = _unary("Tanh", "TanhBackward0", np.tanh, _tanh_backward, "out",
              "out = tanh(x);  dx = grad * (1 - out**2)", can_warn=False)


def _sigmoid_array(a: np.ndarray) -> np.ndarray:
    # NOTE: exp of -|a| never overflows; the two branches give 1/(1+e^-a) for either sign
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


Sigmoid = _unary("Sigmoid", "SigmoidBackward0", _sigmoid_array, _sigmoid_backward, "out",
                 "out = 1 / (1 + exp(-x));  dx = grad * out * (1 - out)", can_warn=False)


_zeros = {np.dtype(t): np.dtype(t).type(0) for t in
          (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8)}


class Relu(Function):
    """out = max(x, 0);  dx = grad where out > 0, else 0 (so relu'(0) = 0)"""

    node_name = "ReluBackward0"
    saved_names = ('result',)
    _builtin = True

    @staticmethod
    def forward(ctx, x):
        a = x._data
        out = np.maximum(a, _zeros[a.dtype]) if a.dtype.kind != "b" else a.copy()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        if not recording():  # see Note [First-order fast path]
            return _wrap(grad._data * (out._data > 0))
        return ThresholdGrad.apply(grad, out)


class Abs(Function):
    """out = |x|;  dx = grad * sign(x) (so abs'(0) = 0)"""

    node_name = "AbsBackward0"
    saved_names = ('self',)
    _builtin = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sign()


class _ZeroGrad(Function):
    """Piecewise-constant functions: their derivative is zero wherever it exists."""

    _builtin = True
    np_fn = None

    @classmethod
    def forward(cls, ctx, x):
        ctx.shape = x._data.shape
        return cls.np_fn(x._data)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0


class Sign(_ZeroGrad):
    """out = sign(x);  dx = 0"""

    node_name = "SignBackward0"
    np_fn = staticmethod(np.sign)


class Floor(_ZeroGrad):
    """out = floor(x);  dx = 0"""

    node_name = "FloorBackward0"
    np_fn = staticmethod(np.floor)


class Ceil(_ZeroGrad):
    """out = ceil(x);  dx = 0"""

    node_name = "CeilBackward0"
    np_fn = staticmethod(np.ceil)


class Round(_ZeroGrad):
    """out = round(x) (halves to even, like PyTorch);  dx = 0"""

    node_name = "RoundBackward0"
    np_fn = staticmethod(np.round)


class Trunc(_ZeroGrad):
    """out = trunc(x);  dx = 0"""

    node_name = "TruncBackward0"
    np_fn = staticmethod(np.trunc)


class Clamp(Function):
    """out = min(max(x, lo), hi) (numbers);  dx = grad where lo <= x <= hi, else 0"""

    node_name = "ClampBackward1"
    saved_names = ('self',)
    _builtin = True

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        a = x._data
        if a.dtype.kind != "f" and (isinstance(lo, float) or isinstance(hi, float)):
            a = a.astype(_dt.get_default_dtype().np)
        out = a
        if lo is not None:
            out = np.maximum(out, np.asarray(lo, dtype=a.dtype))
        if hi is not None:
            out = np.minimum(out, np.asarray(hi, dtype=a.dtype))
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
        return grad * mask, None, None


class ClampTensor(Function):
    """out = min(max(x, lo), hi) with tensor bounds (either may be None);
    dx = grad where lo <= x <= hi,  dlo = grad where x < lo <= hi,
    dhi = grad where max(x, lo) > hi"""

    node_name = "ClampBackward0"
    _builtin = True

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        out = x._data
        if lo is not None:
            out = np.maximum(out, lo._data.astype(out.dtype, copy=False))
        if hi is not None:
            out = np.minimum(out, hi._data.astype(out.dtype, copy=False))
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
            gx = grad * mask
        if need_lo:
            mask = x < lo
            glo = grad * (mask if hi is None else mask & (lo <= hi))
        if need_hi:
            top = x if lo is None else maximum(x, lo)
            ghi = grad * (top > hi)
        return gx, glo, ghi


class RoundDecimals(Function):
    """out = x rounded to ``decimals`` places (halves to even);  dx = 0"""

    node_name = "RoundBackward1"
    _builtin = True

    @staticmethod
    def forward(ctx, x, decimals):
        return np.round(x._data, decimals)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0, None


class Maximum(Function):
    """out = max(x, y);  ties send half the gradient to each side (PyTorch's choice)"""

    node_name = "MaximumBackward0"
    saved_names = ('self', 'other')
    _builtin = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        a, b = promote(x, y)
        try:
            return np.maximum(a, b)
        except ValueError:
            raise broadcast_error(a.shape, b.shape) from None

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        # NOTE: at ties each input gets grad / 2
        wx = (x > y) + (x == y) * 0.5
        return grad * wx, grad * (1 - wx)


class Minimum(Function):
    """out = min(x, y);  ties send half the gradient to each side (PyTorch's choice)"""

    node_name = "MinimumBackward0"
    saved_names = ('self', 'other')
    _builtin = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        a, b = promote(x, y)
        try:
            return np.minimum(a, b)
        except ValueError:
            raise broadcast_error(a.shape, b.shape) from None

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        wx = (x < y) + (x == y) * 0.5
        return grad * wx, grad * (1 - wx)


class Where(Function):
    """out = x where cond else y;  dx = grad where cond,  dy = grad where not cond"""

    node_name = "WhereBackward0"
    saved_names = ('condition',)
    _builtin = True

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.save_for_backward(cond)
        a, b = promote(x, y)
        try:
            return np.where(cond._data, a, b)
        except ValueError:
            raise broadcast_error(a.shape, b.shape) from None

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad[1:]
        zero = grad * 0 if (need_x or need_y) else None
        return (None,
                where(cond, grad, zero) if need_x else None,
                where(cond, zero, grad) if need_y else None)


# ---- the functions users call ----------------------------------------------------------------

# What a binary op accepts besides a Tensor; anything else gives NotImplemented, so Python
# can try the other operand's reflected method (and raises TypeError if there is none).
_OPERAND = (Tensor, bool, int, float, np.ndarray, np.generic)


def add(x, y, *, alpha=1) -> Tensor:
    """x + alpha * y, broadcasting."""
    if y.__class__ is not Tensor:
        if not isinstance(y, _OPERAND):
            return NotImplemented
        if not isinstance(y, Tensor):
            y = lift(y, x)
    if x.__class__ is not Tensor and not isinstance(x, Tensor):
        x = lift(x, y)
    if alpha != 1:
        y = mul(y, alpha)
    return Add.apply(x, y)


def sub(x, y, *, alpha=1) -> Tensor:
    """x - alpha * y, broadcasting."""
    if y.__class__ is not Tensor:
        if not isinstance(y, _OPERAND):
            return NotImplemented
        if not isinstance(y, Tensor):
            y = lift(y, x)
    if x.__class__ is not Tensor and not isinstance(x, Tensor):
        x = lift(x, y)
    if alpha != 1:
        y = mul(y, alpha)
    return Sub.apply(x, y)


def mul(x, y) -> Tensor:
    """x * y, broadcasting."""
    if y.__class__ is not Tensor:
        if not isinstance(y, _OPERAND):
            return NotImplemented
        if not isinstance(y, Tensor):
            y = lift(y, x)
    if x.__class__ is not Tensor and not isinstance(x, Tensor):
        x = lift(x, y)
    return Mul.apply(x, y)


def div(x, y, *, rounding_mode=None) -> Tensor:
    """x / y (true division; ``rounding_mode`` "trunc" or "floor" gives no gradient)."""
    if y.__class__ is not Tensor:
        if not isinstance(y, _OPERAND):
            return NotImplemented
        if not isinstance(y, Tensor):
            y = lift(y, x)
    if x.__class__ is not Tensor and not isinstance(x, Tensor):
        x = lift(x, y)
    if rounding_mode is None:
        return Div.apply(x, y)
    q = Div.apply(x, y)
    if rounding_mode == "trunc":
        out = q.trunc()
    elif rounding_mode == "floor":
        out = q.floor()
    else:
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'")
    if x._data.dtype.kind in "iu" and y._data.dtype.kind in "iu":
        out = out.to(_from_np[np.result_type(x._data.dtype, y._data.dtype)])
    return out


def neg(x: Tensor) -> Tensor:
    return Neg.apply(x)


def reciprocal(x: Tensor) -> Tensor:
    return Reciprocal.apply(x)


def pow(x, exponent) -> Tensor:  # noqa: A001 - PyTorch's name
    """x ** exponent; either side may be a number."""
    if not isinstance(x, Tensor):
        return RPowScalar.apply(x, exponent)
    if isinstance(exponent, Tensor):
        return Pow.apply(x, exponent)
    if isinstance(exponent, bool) or not isinstance(exponent, (int, float)):
        raise TypeError(
            f"pow() exponent must be a number or a Tensor, got {type(exponent).__name__}")
    if exponent == 2 and x._data.dtype.kind != "b":
        return Square.apply(x)
    return PowScalar.apply(x, exponent)


def where(condition, x, y) -> Tensor:
    """Elements of x where condition is true, else of y (either may be a number)."""
    if not isinstance(condition, Tensor):
        condition = _wrap(np.asarray(condition, dtype=bool))
    elif condition._data.dtype.kind != "b":
        condition = _wrap(condition._data.astype(bool))
    if not isinstance(x, Tensor):
        if not isinstance(y, Tensor):
            raise TypeError("where() needs x or y to be a Tensor")
        x = lift(x, y)
    if not isinstance(y, Tensor):
        y = lift(y, x)
    return Where.apply(condition, x, y)


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


def maximum(x: Tensor, y: Tensor) -> Tensor:
    return Maximum.apply(x, y if isinstance(y, Tensor) else lift(y, x))


def minimum(x: Tensor, y: Tensor) -> Tensor:
    return Minimum.apply(x, y if isinstance(y, Tensor) else lift(y, x))


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
