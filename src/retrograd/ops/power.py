"""Powers: ``x ** p`` for a number p (``x ** 2`` as its own op, the most common), ``x ** y`` for
a tensor y and ``c ** y`` for a number c, with their derivatives."""

from __future__ import annotations

import functools

import numpy as np

from .. import dtypes as _dt
from ..autograd.forward_ad import elementwise_jvp
from ..autograd.function import Function
from ..backend import quiet
from ..tensor import Tensor
from ._registry import expose
from .elementwise import _OPERAND, where
from .promotion import binary_forward
from .unary import _ElementwiseGrad, zeros_of


def _tensor_power(a, b):
    # NOTE: NumPy treats a 0-d exponent as a number and computes x ** 0.5 by sqrt (NaN at
    # -inf); PyTorch's tensor ** tensor is C's pow everywhere ((-inf) ** 0.5 is inf).
    out = np.power(a, b)
    if getattr(b, "ndim", 1) == 0 and b == 0.5 and out.dtype.kind == "f":
        out = np.where(np.isneginf(a), np.inf, out) + 0.0  # (+ 0.0: pow(-0.0, 0.5) is +0.0)
    return out


_power = binary_forward(functools.partial(quiet, _tensor_power))


class SquareGrad(_ElementwiseGrad):
    """out = grad * 2x (the derivative of x**2) as one op;  dgrad = gg * 2x,  dx = gg * 2 grad"""

    node_name = "MulBackward0"  # PyTorch computes it as a product: that node on top

    @staticmethod
    def kernel(g: np.ndarray, x: np.ndarray) -> np.ndarray:
        return g * (x * 2)

    @staticmethod
    def backward(ctx, gg):
        grad, x = ctx.saved_tensors
        need_grad, need_x = ctx.needs_input_grad
        return (SquareGrad.apply(gg, x) if need_grad else None,
                SquareGrad.apply(gg, grad) if need_x else None)

    jvp = elementwise_jvp


class Square(Function):
    """out = x ** 2 (the most common power, without the exponent bookkeeping);  dx = grad * 2x"""

    node_name = "PowBackward0"
    saved_names = ('self',)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        a = x._data
        return a * a

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return SquareGrad.apply(grad, x)

    jvp = elementwise_jvp

    fast_backward = SquareGrad.fast


# NOTE: PyTorch computes these powers by other functions, which differ from pow in the last
# bit and at -0.0 (rsqrt(-0.0) is -inf, pow(-0.0, -0.5) is inf); the derivative of x ** 0.5
# uses x ** -0.5, so this shows in gradients too.
_SPECIAL_POWERS = {
    0.5: np.sqrt, -0.5: lambda a: 1 / np.sqrt(a), 3: lambda a: a * a * a,
    -1: lambda a: 1 / a, -2: lambda a: 1 / (a * a),
}


class PowScalar(Function):
    """out = x ** p (p a number);  dx = grad * p * x ** (p - 1)"""

    node_name = "PowBackward0"
    saved_names = ('self',)
    saved_attrs = {'exponent': 'exponent'}

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
        if a.dtype.kind == "f" and p in _SPECIAL_POWERS:
            return quiet(_SPECIAL_POWERS[p], a)
        return quiet(np.power, a, np.asarray(p, dtype=a.dtype) if a.dtype.kind == "f" else p)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0:
            return zeros_of(grad), None
        if p == 2:
            return grad * (x * 2.0), None
        return grad * (x ** (p - 1) * p), None

    jvp = elementwise_jvp


class Pow(Function):
    """out = x ** y;  dx = grad * y * x ** (y - 1),  dy = grad * out * log(x)"""

    node_name = "PowBackward1"
    saved_names = ('self', 'exponent', 'result')

    @staticmethod
    def forward(ctx, x, y):
        out = _power(ctx, x, y)
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
            # NOTE: d/dy x**y at x == 0 is taken as 0 for y >= 0 (PyTorch's choice), and grad
            # multiplies the selection, as PyTorch's (an infinite grad gives NaN there)
            gy = grad * where((x == 0) & (y >= 0), 0.0, out * x.log())
        return gx, gy

    jvp = elementwise_jvp


class RPowScalar(Function):
    """out = c ** y (c a number);  dy = grad * out * log(c)"""

    node_name = "PowBackward2"
    saved_names = ('result', 'exponent')

    @staticmethod
    def forward(ctx, c, y):
        b = y._data
        base = np.asarray(c, dtype=_dt.scalar_dtype(c, _dt.FROM_NUMPY[b.dtype]).np)
        out = quiet(np.power, base, b)
        if out.dtype != b.dtype and b.dtype.kind == "f":
            out = out.astype(b.dtype)
        ctx.base = c
        ctx.save_for_backward(out, y)  # y for its version check only, as PyTorch saves it
        return out

    @staticmethod
    def backward(ctx, grad):
        out, _ = ctx.saved_tensors
        c = ctx.base
        if c == 0:
            # NOTE: d/dy 0 ** y is taken as 0 for y >= 0, where out is 0 or 1 (PyTorch's choice)
            return None, grad * where(out <= 1, 0.0, out * float("-inf"))
        return None, grad * out * float(np.log(c))

    jvp = elementwise_jvp


# ---- the functions users call ----------------------------------------------------------------


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


def square(x: Tensor) -> Tensor:
    return pow(x, 2)


def _pow_method(self, exponent):
    if not isinstance(exponent, _OPERAND):
        return NotImplemented
    return pow(self, exponent)


def _rpow(self, other):
    if not isinstance(other, (bool, int, float)):
        return NotImplemented
    return pow(other, self)


expose({"pow": pow, "square": square})
expose({"__pow__": _pow_method, "__rpow__": _rpow}, function=False)
