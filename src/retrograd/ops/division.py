"""Integer-style division of tensors: ``floor_divide`` (``//``), ``remainder`` (``%``, the sign
of the divisor, as Python's) and ``fmod`` (the sign of the dividend, as C's), with PyTorch's
derivatives.

remainder(x, y) = x - floor(x / y) * y and fmod(x, y) = x - trunc(x / y) * y, with the quotient
taken as a constant (it is piecewise constant): dx = grad, dy = -grad * quotient. floor_divide
itself has no derivative in PyTorch: its node is ``NotImplemented`` and backward through it
raises; so does backward through ``number % tensor``.
"""

from __future__ import annotations

import numpy as np

from ..autograd.forward_ad import elementwise_jvp
from ..autograd.function import Function
from ..backend import quiet
from ..tensor import Tensor
from ._registry import expose
from .elementwise import _OPERAND, div
from .promotion import binary_forward, lift


def _integer_safe(np_fn, kernel_name: str):
    """``np_fn`` on promoted arrays, with PyTorch's errors: none of these ops takes two bools,
    and integer division by zero raises (NumPy would give 0 with a warning)."""

    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.dtype.kind == "b":  # (promotion leaves bool only when both are bool)
            raise NotImplementedError(
                f"\"{kernel_name}\" not implemented for 'Bool'; convert the tensors with "
                ".long() or .float() first.")
        if a.dtype.kind in "iu" and not b.all():
            raise RuntimeError(
                "ZeroDivisionError: integer division by zero; a float tensor gives inf or nan "
                "instead.")
        return quiet(np_fn, a, b)

    return kernel


def _remainder_array(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """fmod moved to the sign of b: as PyTorch computes it (NumPy's remainder differs at zeros:
    -0.0 % 2 is 0.0 there, -0.0 in PyTorch)."""
    if a.dtype.kind != "f":
        return np.remainder(a, b)
    m = np.fmod(a, b)
    return np.where((m != 0) & ((b < 0) != (m < 0)), m + b, m)


_floor_divide = binary_forward(_integer_safe(np.floor_divide, "div_floor_cpu"))
_remainder = binary_forward(_integer_safe(_remainder_array, "remainder_cpu"))
_fmod = binary_forward(_integer_safe(np.fmod, "fmod_cpu"))


class _NoDerivative(Function):
    """An op PyTorch records without a derivative: backward through it raises."""

    node_name = "NotImplemented"
    aten_name = ""

    @classmethod
    def backward(cls, ctx, grad):
        raise RuntimeError(
            f"derivative for aten::{cls.aten_name} is not implemented; the result is piecewise "
            "constant: detach() its inputs, or compute it under no_grad(), if no gradient is "
            "needed through it.")

    jvp = elementwise_jvp


class FloorDivide(_NoDerivative):
    """out = floor(x / y) (Python's //);  no derivative (PyTorch: NotImplemented)"""

    node_name = "NotImplemented"  # (node names are not inherited)
    aten_name = "floor_divide"
    forward = staticmethod(_floor_divide)


class RemainderRScalar(_NoDerivative):
    """out = c % y (c a number);  no derivative (PyTorch: NotImplemented)"""

    node_name = "NotImplemented"
    aten_name = "remainder"

    @staticmethod
    def forward(ctx, c, y):
        return _remainder(ctx, c, y)


class _Modulo(Function):
    """Remainder and Fmod of two tensors: dx = grad,  dy = -grad * quotient(x, y), the quotient
    rounded (piecewise constant, but recorded like PyTorch's, so create_graph gives a graph)."""

    rounding = None  # how the quotient is rounded: "floor" or "trunc"

    @classmethod
    def forward(cls, ctx, x, y):
        if ctx.needs_input_grad[1]:  # (only dy uses the inputs)
            ctx.save_for_backward(x, y)
        return cls.array_fn(ctx, x, y)

    @classmethod
    def backward(cls, ctx, grad):
        need_x, need_y = ctx.needs_input_grad
        gy = None
        if need_y:
            x, y = ctx.saved_tensors
            gy = -grad * div(x, y, rounding_mode=cls.rounding)
        return (grad if need_x else None), gy

    jvp = elementwise_jvp


class Remainder(_Modulo):
    """out = x - floor(x / y) * y (the sign of y);  dx = grad,  dy = -grad * floor(x / y)"""

    node_name = "RemainderBackward1"
    array_fn = staticmethod(_remainder)
    rounding = "floor"


class Fmod(_Modulo):
    """out = x - trunc(x / y) * y (the sign of x);  dx = grad,  dy = -grad * trunc(x / y)"""

    node_name = "FmodBackward1"
    array_fn = staticmethod(_fmod)
    rounding = "trunc"


class _ModuloScalar(Function):
    """x % c or fmod(x, c) with c a number: dx = grad (the quotient is constant)."""

    @staticmethod
    def backward(ctx, grad):
        return grad, None

    jvp = elementwise_jvp


class RemainderScalar(_ModuloScalar):
    """out = x % c (c a number);  dx = grad"""

    node_name = "RemainderBackward0"
    forward = staticmethod(_remainder)


class FmodScalar(_ModuloScalar):
    """out = fmod(x, c) (c a number);  dx = grad"""

    node_name = "FmodBackward0"
    forward = staticmethod(_fmod)


# ---- the functions users call ----------------------------------------------------------------


def _is_number(v) -> bool:
    return isinstance(v, (bool, int, float, np.generic))


def floor_divide(x, y) -> Tensor:
    """floor(x / y) elementwise, rounding toward -inf as Python's ``//``; no gradient."""
    if not isinstance(x, Tensor):
        x = lift(x, y)
    if not isinstance(y, Tensor):
        y = lift(y, x)
    return FloorDivide.apply(x, y)


def remainder(x, y) -> Tensor:
    """x - floor(x / y) * y: Python's ``%``, the result has the sign of y."""
    if not isinstance(x, Tensor):
        return RemainderRScalar.apply(lift(x, y), y)
    if _is_number(y):
        return RemainderScalar.apply(x, lift(y, x))
    return Remainder.apply(x, lift(y, x))


def fmod(x: Tensor, y) -> Tensor:
    """x - trunc(x / y) * y: C's fmod, the result has the sign of x."""
    if _is_number(y):
        return FmodScalar.apply(x, lift(y, x))
    return Fmod.apply(x, lift(y, x))


def _binary_operator(fn):
    def method(self, other):
        if not isinstance(other, _OPERAND):
            return NotImplemented
        return fn(self, other)

    return method


def _reflected(fn):
    def method(self, other):
        if not isinstance(other, (bool, int, float, np.generic)):
            return NotImplemented
        return fn(other, self)

    return method


expose({"floor_divide": floor_divide, "remainder": remainder, "fmod": fmod})
expose({
    "__floordiv__": _binary_operator(floor_divide), "__rfloordiv__": _reflected(floor_divide),
    "__mod__": _binary_operator(remainder), "__rmod__": _reflected(remainder),
}, function=False)
