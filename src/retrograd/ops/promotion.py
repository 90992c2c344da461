"""How two operands meet: Python scalars lifted to constant tensors, PyTorch's dtype promotion,
and PyTorch's error for shapes that do not broadcast. Every binary op goes through here
(arithmetic, comparisons, bitwise ops, max/min, where)."""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..tensor import Tensor, _wrap
from . import _parallel

_from_np = _dt.FROM_NUMPY

_constants: dict = {}
_default_dtype = _dt._DefaultDtype  # part of the key: int tensor * 0.5 follows the default


def lift(value, like: Tensor) -> Tensor:
    """A Python scalar (or array-like) as a constant tensor to combine with ``like``.

    Scalars are cached per (type, value, dtype): the same few constants (1, 2, 0.5, ...) recur
    in every step of a training loop. Constants never reach users and are never written to.
    """
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
    if isinstance(value, Tensor):
        return value
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


def binary_forward(np_fn, *, save_inputs: bool | str = False):
    """A Function's ``forward(ctx, x, y)``: ``np_fn`` on the arrays of x and y promoted to their
    common dtype, with PyTorch's error when their shapes do not broadcast. Add, Sub and Mul take
    it as their forward itself, with no call in between: they are the hottest ops of a step.

    ``save_inputs``: True saves (x, y); "crossed" saves y only if x needs a gradient and x only
    if y does (a product's derivatives: each uses the other factor)."""

    crossed = save_inputs == "crossed"

    def forward(ctx, x: Tensor, y: Tensor) -> np.ndarray:
        if crossed:
            need_x, need_y = ctx.needs_input_grad
            if need_x or need_y:
                ctx._packed = (x if need_y else None, y if need_x else None)
        elif save_inputs:
            ctx.save_for_backward(x, y)
        a = x._data
        b = y._data
        if a.dtype is not b.dtype:  # (identical dtypes, the common case, skip promote's call)
            a, b = promote(x, y)
        try:
            if a.size >= _parallel.min_size:  # (large: chunked over the threads)
                return _parallel.elementwise(np_fn, a, b)
            return np_fn(a, b)
        except ValueError:
            raise broadcast_error(a.shape, b.shape) from None

    return forward


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


def float_result(arr: np.ndarray) -> np.ndarray:
    """Integer inputs to float-valued functions give the default float dtype, as in PyTorch."""
    return arr if arr.dtype.kind == "f" else arr.astype(_dt.get_default_dtype().np)
