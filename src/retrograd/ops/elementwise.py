"""Elementwise arithmetic of tensors and numbers (+ - * /, neg, max/min, where), with
derivatives (powers: power.py).

Binary ops broadcast like NumPy; Python scalars are lifted to zero-dim tensors of the dtype
PyTorch would give them (``lift``), and mixed dtypes are promoted by PyTorch's rules inside
forward (both in promotion.py). Gradients come back in the promoted dtype and the engine casts
them to each input's.
"""

from __future__ import annotations

import functools
import operator
import warnings

import numpy as np

from .. import dtypes as _dt
from ..autograd.forward_ad import elementwise_jvp, linear_jvp, multilinear_jvp
from ..autograd.function import Function
from ..backend import quiet
from ..tensor import Tensor, _wrap
from . import _parallel
from ._registry import expose
from .out_arg import write_out
from .promotion import binary_forward, float_result, lift, promote

_from_np = _dt.FROM_NUMPY


_SAME_WIDTH_INT = {np.dtype(np.float16): np.int16, np.dtype(np.float32): np.int32,
                   np.dtype(np.float64): np.int64}


def keep_where(g: np.ndarray, keep: np.ndarray, *, drop: bool = False) -> np.ndarray:
    """g where ``keep`` (a bool array of g's shape), else 0 (``drop=True``: 0 where the mask is
    true, g elsewhere). A selection, so an infinite or NaN g where not kept gives 0 (g * keep
    would give NaN there)."""
    if g.size < 256 or g.shape != keep.shape or g.dtype not in _SAME_WIDTH_INT:
        zero = g.dtype.type(0)
        return np.where(keep, zero, g) if drop else np.where(keep, g, zero)
    # NOTE: np.where is slow on irregular masks (10x a product); ANDing g's bits with a mask of
    # all ones or all zeros selects at the speed of a product
    ints = _SAME_WIDTH_INT[g.dtype]
    bits = keep.astype(ints)
    if drop:
        bits -= 1  # true -> 0, false -> -1 (every bit set)
    else:
        np.negative(bits, out=bits)  # true -> -1, false -> 0
    bits &= g.view(ints)  # (a view of the same item size: any strides will do)
    return bits.view(g.dtype)


# ---- binary arithmetic ---------------------------------------------------------------------
#
# Each forward is ``binary_forward(np_fn)`` (promotion.py): PyTorch's promotion and broadcast error.

_divide = binary_forward(functools.partial(quiet, np.true_divide))


class Add(Function):
    """out = x + y;  dx = grad,  dy = grad"""

    forward = staticmethod(binary_forward(np.add))

    @staticmethod
    def backward(ctx, grad):
        return grad, grad

    jvp = linear_jvp


def _check_sub(x: Tensor, y: Tensor) -> None:
    if x._data.dtype.kind == "b" and y._data.dtype.kind == "b":
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
            "`^` or `logical_xor()` operator instead.")


class Sub(Function):
    """out = x - y;  dx = grad,  dy = -grad"""

    forward = staticmethod(binary_forward(np.subtract))  # (bools are refused by _check_sub)

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)

    jvp = linear_jvp


class Mul(Function):
    """out = x * y;  dx = grad * y,  dy = grad * x"""

    saved_names = ('self', 'other')
    # Note [Save only what backward uses]: y is kept only if x needs a gradient, and x only if
    # y does, as PyTorch does; so ``b * 2`` keeps just the 2, and changing b in place later
    # does not break backward.
    forward = staticmethod(binary_forward(np.multiply, save_inputs="crossed"))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (Mul.apply(grad, y) if need_x else None), (Mul.apply(grad, x) if need_y else None)

    jvp = multilinear_jvp

    @staticmethod
    def fast_backward(ctx, grad):  # the same two products by Mul's own kernel, on the arrays
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        g = grad._data
        if need_x:
            b = y._data
            if b.dtype is not g.dtype:
                return Mul.backward(ctx, grad)  # (which promotes)
            gx = _wrap(g * b if g.size < _parallel.min_size
                       else _parallel.elementwise(np.multiply, g, b))
        else:
            gx = None
        if need_y:
            a = x._data
            if a.dtype is not g.dtype:
                return Mul.backward(ctx, grad)
            return gx, _wrap(g * a if g.size < _parallel.min_size
                             else _parallel.elementwise(np.multiply, g, a))
        return gx, None


class Div(Function):
    """out = x / y;  dx = grad / y,  dy = -grad * (x / y) / y"""

    saved_names = ('self', 'other')

    @staticmethod
    def forward(ctx, x, y):
        # Note [Save only what backward uses]: y always; x only if y needs a gradient
        if ctx.needs_input_grad[1]:
            ctx.save_for_backward(x, y)
        else:
            ctx.save_for_backward(None, y)
        out = _divide(ctx, x, y)
        if x._data.dtype.kind != "f" and y._data.dtype.kind != "f":
            return out.astype(_dt.get_default_dtype().np)  # int / int: the default float dtype
        return out

    @staticmethod
    def grads(grad, x, y, need: tuple) -> tuple:
        """The derivatives, written with operators: the same lines serve tensors (backward)
        and arrays (fast_backward)."""
        # NOTE: dy as PyTorch rounds it, -grad * ((x / y) / y) (also its infinities at y = 0)
        return (grad / y if need[0] else None), (-grad * (x / y / y) if need[1] else None)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return Div.grads(grad, x, y, ctx.needs_input_grad)

    jvp = elementwise_jvp

    @staticmethod
    def fast_backward(ctx, grad):
        x, y = ctx.saved_tensors
        g, b = grad._data, y._data
        if g.dtype is not b.dtype or (x is not None and x._data.dtype is not b.dtype):
            return Div.backward(ctx, grad)  # (which promotes)
        need = ctx.needs_input_grad
        if g.size < _parallel.min_size:
            gx, gy = Div.grads(g, None if x is None else x._data, b, need)
        elif x is None:  # (large: chunked over the threads)
            gx, gy = _parallel.elementwise(lambda g, b: Div.grads(g, None, b, need), g, b,
                                           any_kernel=True)
        else:
            gx, gy = _parallel.elementwise(lambda g, a, b: Div.grads(g, a, b, need),
                                           g, x._data, b, any_kernel=True)
        return (None if gx is None else _wrap(gx)), (None if gy is None else _wrap(gy))


class DivRounded(Function):
    """out = x / y rounded ("trunc" or "floor"; int / int stays int);  piecewise constant:
    dx = dy = 0 (PyTorch's choice: zeros, not a product that could meet 0 * inf)"""

    node_name = "DivBackward2"

    @staticmethod
    def forward(ctx, x, y, rounding_mode):
        a, b = promote(x, y)
        if rounding_mode == "floor" and a.dtype.kind == "f":
            # NOTE: PyTorch's floor division (as //): from fmod, so inf // -1 is NaN, 5 // inf 0
            return quiet(np.floor_divide, a, b)
        q = quiet(np.true_divide, a, b)
        q = np.floor(q) if rounding_mode == "floor" else np.trunc(q)
        if a.dtype.kind in "iu":  # int / int gives int, as PyTorch
            return q.astype(a.dtype)
        return q

    @staticmethod
    def backward(ctx, grad):
        need_x, need_y = ctx.needs_input_grad[:2]
        zeros = _wrap(np.zeros_like(grad._data))
        return (zeros if need_x else None), (zeros if need_y else None), None

    jvp = elementwise_jvp


class RsubScalar(Function):
    """out = c - x (c a number);  dx = -grad"""

    node_name = "RsubBackward1"

    @staticmethod
    def forward(ctx, x, c):
        c = lift(c, x)
        if x._data.dtype.kind != "b":
            return c._data - x._data
        _check_sub(c, x)
        return Sub.forward(ctx, c, x)

    @staticmethod
    def backward(ctx, grad):
        return -grad, None

    jvp = elementwise_jvp


class Reciprocal(Function):
    """out = 1 / x;  dx = -grad * out**2"""

    saved_names = ('result',)

    @staticmethod
    def forward(ctx, x):
        out = quiet(np.reciprocal, float_result(x._data))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return -grad * (out * out)

    jvp = elementwise_jvp


class Neg(Function):
    """out = -x;  dx = -grad"""

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

    jvp = linear_jvp


class _Extremum(Function):
    """Maximum and Minimum: the side that ``loses`` the comparison gets no gradient."""

    saved_names = ('self', 'other')

    @classmethod
    def backward(cls, ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        # NOTE: at ties each input gets grad / 2, and where x or y is NaN both get grad
        # (PyTorch's choices); selections, so an infinite grad gives no NaN
        shared = where(x == y, grad / 2, grad)
        return (where(cls.loses(x, y), 0.0, shared) if need_x else None,
                where(cls.loses(y, x), 0.0, shared) if need_y else None)

    jvp = elementwise_jvp


class Maximum(_Extremum):
    """out = max(x, y);  dx = grad where x > y,  dy = grad where y > x (half each at ties)"""

    forward = staticmethod(binary_forward(np.maximum, save_inputs=True))
    loses = staticmethod(operator.lt)


class Minimum(_Extremum):
    """out = min(x, y);  dx = grad where x < y,  dy = grad where y < x (half each at ties)"""

    forward = staticmethod(binary_forward(np.minimum, save_inputs=True))
    loses = staticmethod(operator.gt)


def _plus_zero(a: np.ndarray) -> bool:
    return a.dtype.kind == "f" and a == 0 and not np.signbit(a)


class Where(Function):
    """out = x where cond else y;  dx = grad where cond,  dy = grad where not cond"""

    saved_names = ('condition',)

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.save_for_backward(cond)
        c, a, b = cond._data, x._data, y._data
        # where(cond, g, 0) and where(cond, 0, g), as the selections in backward formulas are
        if b.ndim == 0 and a.shape == c.shape and a.dtype is b.dtype and _plus_zero(b):
            return keep_where(a, c)
        if a.ndim == 0 and b.shape == c.shape and a.dtype is b.dtype and _plus_zero(a):
            return keep_where(b, c, drop=True)
        return binary_forward(functools.partial(np.where, c))(ctx, x, y)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad[1:]
        return (None,
                where(cond, grad, 0.0) if need_x else None,
                where(cond, 0.0, grad) if need_y else None)

    jvp = linear_jvp


# ---- the functions users call ----------------------------------------------------------------

# What a binary op accepts besides a Tensor; anything else gives NotImplemented, so Python
# can try the other operand's reflected method (and raises TypeError if there is none).
_OPERAND = (Tensor, bool, int, float, np.ndarray, np.generic)


def _operands(x, y) -> tuple:
    """(x, y) as tensors, numbers lifted to constants; y is None if it is not an operand."""
    if not isinstance(y, Tensor):
        if not isinstance(y, _OPERAND):
            return x, None
        y = lift(y, x)
    if not isinstance(x, Tensor):
        x = lift(x, y)
    return x, y


def add(x, y, *, alpha=1, out=None) -> Tensor:
    """x + alpha * y, broadcasting."""
    if out is not None:
        return write_out(add, out, x, y, alpha=alpha)
    if x.__class__ is not Tensor or y.__class__ is not Tensor:
        x, y = _operands(x, y)
        if y is None:
            return NotImplemented
    if alpha != 1:
        y = mul(y, alpha)
    return Add.apply(x, y)


def sub(x, y, *, alpha=1, out=None) -> Tensor:
    """x - alpha * y, broadcasting."""
    if out is not None:
        return write_out(sub, out, x, y, alpha=alpha)
    if x.__class__ is not Tensor or y.__class__ is not Tensor:
        x, y = _operands(x, y)
        if y is None:
            return NotImplemented
    if alpha != 1:
        y = mul(y, alpha)
    if x._data.dtype.kind == "b":
        _check_sub(x, y)
    return Sub.apply(x, y)


def mul(x, y, *, out=None) -> Tensor:
    """x * y, broadcasting."""
    if out is not None:
        return write_out(mul, out, x, y)
    if x.__class__ is not Tensor or y.__class__ is not Tensor:
        x, y = _operands(x, y)
        if y is None:
            return NotImplemented
    return Mul.apply(x, y)


def div(x, y, *, rounding_mode=None, out=None) -> Tensor:
    """x / y (true division; ``rounding_mode`` "trunc" or "floor" gives no gradient)."""
    if out is not None:
        return write_out(div, out, x, y, rounding_mode=rounding_mode)
    if x.__class__ is not Tensor or y.__class__ is not Tensor:
        x, y = _operands(x, y)
        if y is None:
            return NotImplemented
    if rounding_mode is None:
        return Div.apply(x, y)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'")
    return DivRounded.apply(x, y, rounding_mode)


def neg(x: Tensor) -> Tensor:
    return Neg.apply(x)


def reciprocal(x: Tensor) -> Tensor:
    return Reciprocal.apply(x)


def where(condition, x, y) -> Tensor:
    """Elements of x where condition is true, else of y (either may be a number)."""
    if not isinstance(condition, Tensor):
        condition = _wrap(np.asarray(condition, dtype=bool))
    elif condition._data.dtype.kind != "b":
        if condition._data.dtype != np.uint8:
            from .reduce import type_name  # (reduce.py imports this module)
            raise RuntimeError(
                "where expected condition to be a boolean tensor, but got a tensor with dtype "
                f"{type_name(condition._data)}; compare it first "
                "(e.g. x > 0) or convert it with .bool().")
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated; "
                      "use a boolean condition instead.", UserWarning, stacklevel=2)
        condition = _wrap(condition._data.astype(bool))
    if not isinstance(x, Tensor):
        if not isinstance(y, Tensor):
            raise TypeError("where() needs x or y to be a Tensor")
        x = lift(x, y)
    if not isinstance(y, Tensor):
        y = lift(y, x)
    return Where.apply(condition, x, y)


def maximum(x: Tensor, y: Tensor) -> Tensor:
    return Maximum.apply(x, y if isinstance(y, Tensor) else lift(y, x))


def minimum(x: Tensor, y: Tensor) -> Tensor:
    return Minimum.apply(x, y if isinstance(y, Tensor) else lift(y, x))


# ---- operators: ``3 * x`` calls ``x.__rmul__(3)``, recorded as PyTorch does ----------------


def _commuted(fn):
    """The reflected operator of a commutative op: ``3 * x`` is ``mul(x, 3)``."""
    def method(self, other):
        if not isinstance(other, (Tensor, bool, int, float)):
            return NotImplemented
        return fn(self, other)

    return method


def _rsub(self, other):
    if not isinstance(other, (Tensor, bool, int, float)):
        return NotImplemented
    if isinstance(other, Tensor):
        return sub(other, self)
    return RsubScalar.apply(self, other)


def _rtruediv(self, other):
    if not isinstance(other, (Tensor, bool, int, float)):
        return NotImplemented
    if isinstance(other, Tensor):
        return div(other, self)
    return reciprocal(self) * other


expose({
    "add": add, "sub": sub, "subtract": sub, "mul": mul, "multiply": mul, "div": div,
    "divide": div, "true_divide": div, "neg": neg, "negative": neg,
    "reciprocal": reciprocal, "maximum": maximum, "minimum": minimum,
})
expose({"where": where}, method=False)
expose({
    "__add__": add, "__radd__": _commuted(add), "__sub__": sub, "__rsub__": _rsub,
    "__mul__": mul, "__rmul__": _commuted(mul), "__truediv__": div, "__rtruediv__": _rtruediv,
    "__neg__": neg, "__pos__": lambda x: x,
    "where": lambda x, condition, y: where(condition, x, y),
}, function=False)
