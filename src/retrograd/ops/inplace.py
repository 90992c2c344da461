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
from ..tensor import Tensor, _wrap

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
            np.broadcast_shapes(result.shape, dst.shape)
            ok = np.broadcast_shapes(result.shape, dst.shape) == dst.shape
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(
                f"output with shape {list(dst.shape)} doesn't match the broadcast shape "
                f"{list(np.broadcast_shapes(result.shape, dst.shape)) if _broadcasts(result.shape, dst.shape) else list(result.shape)}"
                "; an in-place op cannot change the shape of the tensor it writes to.")
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


def _broadcasts(a: tuple, b: tuple) -> bool:
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


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
        prev = _state.enabled
        _state.enabled = False
        try:
            result = fn(x, *args)
        finally:
            _state.enabled = prev
        _write(x, result._data)
        x._version_counter[0] += 1
        return x
    base = x._base
    if base is not None and base._requires_grad:
        raise RuntimeError(
            "in-place operations on a view of a tensor that requires grad are not supported; "
            "clone() the view first, or write through the base tensor (e.g. base[idx] = ...).")
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"an in-place op that needs a gradient can't write into a {x.dtype} tensor; "
            "convert it to a floating-point dtype first.")
    snapshot = _wrap(x._data.copy(), x.grad_fn, x._requires_grad, x._output_nr)
    if x.grad_fn is None and x._requires_grad:  # unreachable: leaves were refused above
        snapshot._accumulator = x._get_accumulator()
    result = fn(snapshot, *args)
    _write(x, result._data)
    x._version_counter[0] += 1
    x.grad_fn = result.grad_fn
    x._output_nr = result._output_nr
    x._requires_grad = result._requires_grad
    return x


# ---- the in-place methods ------------------------------------------------------------------


def add_(x: Tensor, other, *, alpha=1) -> Tensor:
    from .elementwise import add

    return apply_inplace(x, lambda s, o: add(s, o, alpha=alpha), other)


def sub_(x: Tensor, other, *, alpha=1) -> Tensor:
    from .elementwise import sub

    return apply_inplace(x, lambda s, o: sub(s, o, alpha=alpha), other)


def mul_(x: Tensor, other) -> Tensor:
    from .elementwise import mul

    return apply_inplace(x, mul, other)


def div_(x: Tensor, other, *, rounding_mode=None) -> Tensor:
    from .elementwise import div

    return apply_inplace(x, lambda s, o: div(s, o, rounding_mode=rounding_mode), other)


def pow_(x: Tensor, exponent) -> Tensor:
    from .elementwise import pow

    return apply_inplace(x, pow, exponent)


def clamp_(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's names
    from .elementwise import clamp

    return apply_inplace(x, lambda s: clamp(s, min, max))


def neg_(x: Tensor) -> Tensor:
    return apply_inplace(x, lambda s: -s)


def _unary_inplace(name: str):
    def method(x: Tensor) -> Tensor:
        return apply_inplace(x, lambda s: getattr(s, name)())

    method.__name__ = name + "_"
    method.__doc__ = f"In-place {name}."
    return method


def zero_(x: Tensor) -> Tensor:
    """Fill with zeros, in place; returns x."""
    return fill_(x, 0)


def fill_(x: Tensor, value) -> Tensor:
    """Fill with ``value`` (a number or a one-element tensor), in place; returns x."""
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value._data.ndim} dimensions.")
        if _state.enabled and (value._requires_grad or x._requires_grad):
            from .indexing import FillWhole, parse_key

            key = parse_key(x, Ellipsis)
            return apply_inplace(x, lambda s, v: FillWhole.apply(s, v, key, False), value)
        value = value.item()
    if _state.enabled:
        _check_leaf(x)
        if x._requires_grad:
            from .indexing import FillScalar, parse_key

            key = parse_key(x, Ellipsis)
            return apply_inplace(x, lambda s: FillScalar.apply(s, value, key, False))
    if not x._data.flags.writeable:
        _write(x, x._data)  # raises the expanded-tensor error
    x._data.fill(value)
    x._version_counter[0] += 1
    return x


def copy_(x: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copy the values of ``src`` (broadcast to x's shape) into x; returns x."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")

    if not (_state.enabled and (x._requires_grad or src._requires_grad)):
        if _state.enabled:
            _check_leaf(x)
        src_data = src._data
        if not _broadcasts(src_data.shape, x._data.shape) or np.broadcast_shapes(
                src_data.shape, x._data.shape) != x._data.shape:
            raise RuntimeError(
                f"The size of tensor a ({x._data.shape[-1] if x._data.ndim else 1}) must match "
                f"the size of tensor b ({src_data.shape[-1] if src_data.ndim else 1}): copy_ "
                f"cannot broadcast {list(src_data.shape)} to {list(x._data.shape)}.")
        if not x._data.flags.writeable:
            _write(x, x._data)
        np.copyto(x._data, src_data, casting="unsafe")
        x._version_counter[0] += 1
        return x
    from .indexing import CopyWhole, parse_key

    key = parse_key(x, Ellipsis)
    return apply_inplace(x, lambda s, v: CopyWhole.apply(s, v, key, False), src)

