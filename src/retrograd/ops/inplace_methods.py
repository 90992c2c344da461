"""The in-place methods users call (``add_``, ``mul_``, ``exp_``, ``fill_``, ``copy_``, ...),
built on ``apply_inplace`` (ops/inplace.py, Note [In-place ops in the graph]): arithmetic
written straight into the tensor's memory when nothing needs recording, recorded through a
snapshot otherwise."""

from __future__ import annotations

import numpy as np

from .. import grad_mode
from ..autograd.forward_ad import linear_jvp
from ..autograd.function import Function
from ..tensor import Tensor, _wrap
from ._registry import expose
from .elementwise import add, div, mul, sub
from .index_functions import CopyWhole, FillScalar, FillWhole
from .index_key import parse_key
from .inplace import (
    apply_inplace,
    check_broadcasts_to,
    check_source_overlap,
    needs_record,
    torch_strides,
    writable_array,
)
from .power import pow as power
from .unary import clamp

_state = grad_mode.state


# ---- the in-place methods ------------------------------------------------------------------


def _arith_inplace(x: Tensor, ufunc, other) -> bool:
    """Do ``x op= other`` straight in x's memory when nothing needs recording.

    That is the optimizer's update (``p -= lr * g`` under no_grad): no temporary result, no
    copy back. Returns False when the op must be recorded (the general path then runs).
    """
    if needs_record(x, other):
        return False
    if isinstance(other, Tensor):
        operand = other._data
    elif isinstance(other, (bool, int, float)):
        operand = other
    else:
        return False
    dst = writable_array(x)
    try:
        ufunc(dst, operand, out=dst, casting="same_kind")
    except (TypeError, ValueError):
        # A float result for an integer tensor, or a broadcast shape that is not x's: NumPy
        # refuses before writing anything, and the general path raises PyTorch's error.
        return False
    x._bump_version()
    return True


def _check_operand(x: Tensor, other) -> None:
    """PyTorch's refusal of an operand that overlaps the destination unless it is the same
    memory laid out the same (``x.add_(x)`` is fine, ``x.add_(x[0])`` is not). NumPy points a
    view's ``base`` at the array owning the memory, so arrays with different owners are apart:
    that cheap test comes first."""
    if not isinstance(other, Tensor):
        return
    a, b = x._data, other._data
    owner_a = a if a.base is None else a.base
    owner_b = b if b.base is None else b.base
    if owner_a is owner_b or not isinstance(owner_a, np.ndarray) or not isinstance(
            owner_b, np.ndarray):
        same = a.shape == b.shape and torch_strides(a) == torch_strides(b)
        check_source_overlap(a, b, full_ok=same)


def add_(x: Tensor, other, *, alpha=1) -> Tensor:
    _check_operand(x, other)
    if alpha == 1 and _arith_inplace(x, np.add, other):
        return x
    return apply_inplace(x, lambda s, o: add(s, o, alpha=alpha), other)


def sub_(x: Tensor, other, *, alpha=1) -> Tensor:
    _check_operand(x, other)
    if alpha == 1 and _arith_inplace(x, np.subtract, other):
        return x
    return apply_inplace(x, lambda s, o: sub(s, o, alpha=alpha), other)


def mul_(x: Tensor, other) -> Tensor:
    _check_operand(x, other)
    if _arith_inplace(x, np.multiply, other):
        return x
    return apply_inplace(x, mul, other)


def div_(x: Tensor, other, *, rounding_mode=None) -> Tensor:
    _check_operand(x, other)
    if rounding_mode is None and x._data.dtype.kind == "f" and _arith_inplace(
            x, np.true_divide, other):
        return x
    return apply_inplace(x, lambda s, o: div(s, o, rounding_mode=rounding_mode), other)


def pow_(x: Tensor, exponent) -> Tensor:
    _check_operand(x, exponent)
    return apply_inplace(x, power, exponent)


def clamp_(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's names
    return apply_inplace(x, lambda s: clamp(s, min, max))


def neg_(x: Tensor) -> Tensor:
    return apply_inplace(x, lambda s: -s)


def _unary_inplace(name: str):
    def method(x: Tensor) -> Tensor:
        return apply_inplace(x, lambda s: getattr(s, name)())

    method.__name__ = name + "_"
    method.__doc__ = f"In-place {name}."
    return method


class Zero(Function):
    """out = zeros like x (x.zero_());  dx = 0"""

    @staticmethod
    def forward(ctx, x):
        return np.zeros_like(x._data)

    @staticmethod
    def backward(ctx, grad):
        return _wrap(np.zeros_like(grad._data))  # constant zeros, as PyTorch (no 0 * inf)

    jvp = linear_jvp


def zero_(x: Tensor) -> Tensor:
    """Fill with zeros, in place; returns x."""
    if _state.enabled and x._requires_grad and x.grad_fn is not None:
        return apply_inplace(x, Zero.apply, overlap_ok=True)
    return fill_(x, 0)


def fill_(x: Tensor, value) -> Tensor:
    """Fill with ``value`` (a number or a one-element tensor), in place; returns x."""
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value._data.ndim} dimensions.")
        if needs_record(x, value):
            key = parse_key(x, Ellipsis)
            return apply_inplace(x, lambda s, v: FillWhole.apply(s, v, key, False), value,
                                 overlap_ok=True)
        value = value.item()
    if needs_record(x, value):
        key = parse_key(x, Ellipsis)
        return apply_inplace(x, lambda s: FillScalar.apply(s, value, key, False),
                             overlap_ok=True)
    writable_array(x, overlap_ok=True).fill(value)
    x._bump_version()
    return x


def copy_(x: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copy the values of ``src`` (broadcast to x's shape) into x; returns x."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    check_broadcasts_to(src._data.shape, x._data.shape)
    # the same memory read back in another shape or layout (x[None].copy_(x)) is a partial
    # overlap: PyTorch compares shapes and strides as given (x[None] = x is allowed)
    a, b = x._data, src._data
    check_source_overlap(a, b, full_ok=a.shape == b.shape and torch_strides(a) == torch_strides(b))
    if needs_record(x, src):
        key = parse_key(x, Ellipsis)
        return apply_inplace(x, lambda s, v: CopyWhole.apply(s, v, key, False), src)
    if src is not x:  # x onto itself writes nothing (even when expanded); still a write
        np.copyto(writable_array(x), src._data, casting="unsafe")
    x._bump_version()
    return x


expose({
    "__iadd__": add_, "__isub__": sub_, "__imul__": mul_, "__itruediv__": div_, "__ipow__": pow_,
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "pow_": pow_, "clamp_": clamp_,
    "neg_": neg_, "zero_": zero_, "fill_": fill_, "copy_": copy_,
    "exp_": _unary_inplace("exp"), "log_": _unary_inplace("log"),
    "sqrt_": _unary_inplace("sqrt"), "tanh_": _unary_inplace("tanh"),
    "sigmoid_": _unary_inplace("sigmoid"), "relu_": _unary_inplace("relu"),
    "abs_": _unary_inplace("abs"),
}, function=False)
