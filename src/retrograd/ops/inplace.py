"""In-place ops (``add_``, ``mul_``, ``x[i] = v``, ...) and the version counter.

Note [In-place ops in the graph]
    An in-place op writes its result into the tensor's own memory (so views see the change) and
    bumps the version counter shared by the tensor and its views; a node that saved the tensor
    earlier then refuses to run backward (see ``Node.saved_tensors``).
    When the op must be recorded, it is computed out of place on a snapshot of the old values,
    the result is written back, and the tensor takes the new node as its ``grad_fn``. The
    snapshot keeps the old values alive for backward formulas that need them (as PyTorch keeps
    ``original_self``).
    A leaf that requires grad may not be changed in place while grad mode is on: its ``.grad``
    would no longer describe the values it holds.
"""

from __future__ import annotations

import numpy as np

from .. import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor, _wrap
from ._registry import expose
from .elementwise import add, div, mul, sub
from .index_functions import CopyWhole, FillScalar, FillWhole
from .index_key import parse_key
from .power import pow as power
from .unary import clamp

_state = grad_mode.state


def _check_leaf(x: Tensor) -> None:
    if x.grad_fn is None and x._requires_grad:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation. Do the "
            "update under `with torch.no_grad():` (as optimizers do), or use an out-of-place "
            "op.")


def _write(x: Tensor, result: np.ndarray) -> None:
    """Copy ``result`` into x's memory, with PyTorch's shape and dtype checks."""
    dst = x._data
    if result.shape != dst.shape:
        try:
            full = np.broadcast_shapes(result.shape, dst.shape)
        except ValueError:
            full = result.shape
        if full != dst.shape:
            raise RuntimeError(
                f"output with shape {list(dst.shape)} doesn't match the broadcast shape "
                f"{list(full)}; an in-place op cannot change the shape of the tensor it writes "
                "to.")
    if result.dtype != dst.dtype and not np.can_cast(result.dtype, dst.dtype, "same_kind"):
        raise RuntimeError(
            f"result type {_type_name(result.dtype)} can't be cast to the desired output type "
            f"{_type_name(dst.dtype)}; convert the tensor first (e.g. .float()) or use an "
            "out-of-place op.")
    if not dst.flags.writeable:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location (it was made by expand()). Please clone() the tensor "
            "before performing the operation.")
    np.copyto(dst, result, casting="unsafe")


def broadcasts_to(shape: tuple, target: tuple) -> bool:
    """Whether ``shape`` broadcasts to exactly ``target`` (as an in-place write needs)."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def needs_record(x: Tensor, value) -> bool:
    """Whether writing ``value`` (a tensor or a number) into x must be recorded in the graph."""
    return _state.enabled and (x._requires_grad or (isinstance(value, Tensor)
                                                    and value._requires_grad))


def writable_array(x: Tensor) -> np.ndarray:
    """x's array, for a write that nothing records; raises PyTorch's error for an expanded x."""
    dst = x._data
    if not dst.flags.writeable:
        _write(x, dst)  # raises the error for expanded tensors
    return dst


def _type_name(np_dtype) -> str:
    names = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
             "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
    return names.get(np.dtype(np_dtype).name, str(np_dtype))


def apply_inplace(x: Tensor, fn, *args) -> Tensor:
    """Run the out-of-place ``fn(x, *args)`` and make its result x's new value (and history)."""
    record = False
    if _state.enabled:
        _check_leaf(x)
        record = x._requires_grad or any(
            isinstance(a, Tensor) and a._requires_grad for a in args)
    if not record:
        result = _without_grad(fn, x, *args)
        _write(x, result._data)
        x._bump_version()
        return x
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"an in-place op that needs a gradient can't write into a {x.dtype} tensor; "
            "convert it to a floating-point dtype first.")
    if x._base is not None:
        return _inplace_on_view(x, fn, args)
    snapshot = _snapshot(x)
    result = fn(snapshot, *args)
    _write(x, result._data)
    x._bump_version()
    _take_history(x, result)
    return x


def _without_grad(fn, *args):
    """``fn(*args)`` with grad mode off (what ``no_grad`` does, without a context object)."""
    prev = _state.enabled
    _state.enabled = False
    try:
        return fn(*args)
    finally:
        _state.enabled = prev


def _snapshot(x: Tensor) -> Tensor:
    """A copy of x's values that carries x's place in the graph (its grad_fn)."""
    return _wrap(x._data.copy(), x.grad_fn, x._requires_grad, x._output_nr)


def _take_history(x: Tensor, t: Tensor) -> None:
    """x takes t's place in the graph (x now holds t's values)."""
    x.grad_fn = t.grad_fn
    x._output_nr = t._output_nr
    x._requires_grad = t._requires_grad


# ---- in-place ops on views ---------------------------------------------------------------------
#
# Note [In-place on views]
#     Writing into a view changes its base too, so the base's history must change: the base
#     becomes CopyViewIntoBase(old base, new view values), whose node PyTorch names CopySlices.
#     Every view remembers how it was made from its parent (``_view_src``), so the same chain of
#     view ops can be replayed on a snapshot of the base (to compute the new values), on the
#     result array (to find the region to write) and on gradients (in CopyViewIntoBase's
#     backward).


def view_chain(view: Tensor) -> tuple:
    """The view ops that make ``view`` from its base, base first: (Function, args, output)."""
    chain = []
    t = view
    while t._view_src is not None:
        cls, parent, rest, i = t._view_src
        chain.append((cls, rest, i))
        t = parent
    return tuple(reversed(chain))


def replay(t: Tensor, chain: tuple) -> Tensor:
    """Apply the view ops of ``chain`` to ``t`` (recorded when grad mode is on)."""
    for cls, rest, i in chain:
        out = cls.apply(t, *rest)
        t = out[i] if isinstance(out, tuple) else out
    return t


class CopyViewIntoBase(Function):
    """out = base with the region given by a view chain replaced by v;
    dbase = grad with that region zeroed,  dv = grad's region"""

    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, v, chain):
        out = base._data.copy()
        region = _without_grad(replay, _wrap(out), chain)._data
        if not region.flags.writeable or not np.shares_memory(region, out):
            raise RuntimeError(
                "unsupported operation: this view can't be written to in place (it was made by "
                "expand() or by an op that copies). Please clone() the tensor before performing "
                "the operation.")
        np.copyto(region, v._data, casting="unsafe")
        ctx.chain = chain
        ctx.v_shape = v._data.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        need_base, need_v = ctx.needs_input_grad[:2]
        gbase = gv = None
        if need_base:
            region_shape = replay(grad.detach(), ctx.chain)._data.shape
            zeros = _wrap(np.zeros(region_shape, grad._data.dtype))
            gbase = CopyViewIntoBase.apply(grad, zeros, ctx.chain)
        if need_v:
            gv = replay(grad, ctx.chain)
        return gbase, gv, None


def _inplace_on_view(x: Tensor, fn, args) -> Tensor:
    """An in-place op on a view: the view's base gets the new history (Note [In-place on views])."""
    base = x._base
    if base.grad_fn is None and base._requires_grad:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place "
            "operation. Do the update under `with torch.no_grad():`, or clone() the leaf first.")
    chain = view_chain(x)
    base_snapshot = _snapshot(base)
    result = fn(replay(base_snapshot, chain), *args)
    if result._data.shape != x._data.shape:
        _write(x, result._data)  # raises the shape error
    new_base = CopyViewIntoBase.apply(base_snapshot, result, chain)
    np.copyto(base._data, new_base._data)
    base._bump_version()
    _take_history(base, new_base)
    _take_history(x, replay(base, chain))  # the view's new history: a view of the new base
    return x


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


def add_(x: Tensor, other, *, alpha=1) -> Tensor:
    if alpha == 1 and _arith_inplace(x, np.add, other):
        return x
    return apply_inplace(x, lambda s, o: add(s, o, alpha=alpha), other)


def sub_(x: Tensor, other, *, alpha=1) -> Tensor:
    if alpha == 1 and _arith_inplace(x, np.subtract, other):
        return x
    return apply_inplace(x, lambda s, o: sub(s, o, alpha=alpha), other)


def mul_(x: Tensor, other) -> Tensor:
    if _arith_inplace(x, np.multiply, other):
        return x
    return apply_inplace(x, mul, other)


def div_(x: Tensor, other, *, rounding_mode=None) -> Tensor:
    if rounding_mode is None and x._data.dtype.kind == "f" and _arith_inplace(
            x, np.true_divide, other):
        return x
    return apply_inplace(x, lambda s, o: div(s, o, rounding_mode=rounding_mode), other)


def pow_(x: Tensor, exponent) -> Tensor:
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
        return grad * 0


def zero_(x: Tensor) -> Tensor:
    """Fill with zeros, in place; returns x."""
    if _state.enabled and x._requires_grad and x.grad_fn is not None:
        return apply_inplace(x, Zero.apply)
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
            return apply_inplace(x, lambda s, v: FillWhole.apply(s, v, key, False), value)
        value = value.item()
    if needs_record(x, value):
        key = parse_key(x, Ellipsis)
        return apply_inplace(x, lambda s: FillScalar.apply(s, value, key, False))
    writable_array(x).fill(value)
    x._bump_version()
    return x


def copy_(x: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copy the values of ``src`` (broadcast to x's shape) into x; returns x."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    if needs_record(x, src):
        key = parse_key(x, Ellipsis)
        return apply_inplace(x, lambda s, v: CopyWhole.apply(s, v, key, False), src)
    src_data = src._data
    if not broadcasts_to(src_data.shape, x._data.shape):
        raise RuntimeError(
            f"The size of tensor a ({x._data.shape[-1] if x._data.ndim else 1}) must match "
            f"the size of tensor b ({src_data.shape[-1] if src_data.ndim else 1}): copy_ "
            f"cannot broadcast {list(src_data.shape)} to {list(x._data.shape)}.")
    np.copyto(writable_array(x), src_data, casting="unsafe")
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
