"""Shape ops: views and copies that rearrange elements without computing new values.

View ops (``_is_view = True``) return tensors sharing memory and the version counter with their
input, as PyTorch's views do; their backward rearranges the gradient back.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..autograd.function import Function
from ..tensor import Tensor, _wrap_dim


def _shape_arg(shape) -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` (and a Size)."""
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _infer_shape(shape: tuple, numel: int) -> tuple:
    """Resolve one -1 in ``shape``; RuntimeError (PyTorch's text) when it cannot fit."""
    known = 1
    unknown = None
    for i, s in enumerate(shape):
        if s == -1:
            if unknown is not None:
                raise RuntimeError("only one dimension can be inferred")
            unknown = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
        else:
            known *= s
    if unknown is not None:
        if known == 0 or numel % known:
            raise RuntimeError(
                f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:unknown] + (numel // known,) + shape[unknown + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class View(Function):
    """out = x with a new shape, sharing memory;  dx = grad reshaped back"""

    node_name = "ViewBackward0"
    _builtin = True
    _is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        a = x._data
        ctx.in_shape = a.shape
        shape = _infer_shape(shape, a.size)
        try:
            return np.reshape(a, shape, copy=False)
        except ValueError:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead "
                "of .view(...).") from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class Reshape(Function):
    """out = a copy of x with a new shape (when a view is impossible);  dx = grad reshaped"""

    node_name = "UnsafeViewBackward0"
    _builtin = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._data.shape
        return np.reshape(x._data, shape).copy()

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class Expand(Function):
    """out = x broadcast to ``shape`` (a read-only view);  dx = grad summed back to x's shape"""

    node_name = "ExpandBackward0"
    _builtin = True
    _is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        a = x._data
        ctx.in_shape = a.shape
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.sum_to_size(ctx.in_shape), None


class SumToSize(Function):
    """out = x summed down to ``shape`` (undoes broadcasting);  dx = grad expanded back"""

    node_name = "SumBackward1"
    _builtin = True

    @staticmethod
    def forward(ctx, x, shape):
        a = x._data
        ctx.in_shape = a.shape
        lead = a.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(shape) if s == 1 and a.shape[lead + i] != 1)
        out = a.sum(axis=axes, keepdims=True) if axes else a
        return np.asarray(out.reshape(shape) if lead else out)

    @staticmethod
    def backward(ctx, grad):
        return grad.expand(ctx.in_shape), None


class ToCopy(Function):
    """out = x converted to another dtype;  dx = grad converted back"""

    node_name = "ToCopyBackward0"
    _builtin = True

    @staticmethod
    def forward(ctx, x, np_dtype):
        ctx.in_dtype = _dt.FROM_NUMPY[x._data.dtype]
        return x._data.astype(np_dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.in_dtype), None


class Clone(Function):
    """out = a copy of x;  dx = grad"""

    node_name = "CloneBackward0"
    _builtin = True

    @staticmethod
    def forward(ctx, x):
        return x._data.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


# ---- the functions users call ----------------------------------------------------------------


def view(x: Tensor, *shape) -> Tensor:
    """The same memory with another shape (one size may be -1); errors if impossible."""
    if len(shape) == 1 and isinstance(shape[0], _dt.dtype):
        raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
    return View.apply(x, _shape_arg(shape))


def reshape(x: Tensor, *shape) -> Tensor:
    """Another shape for the same elements: a view when possible, else a copy."""
    shape = _infer_shape(_shape_arg(shape), x._data.size)
    if shape == x._data.shape:
        return View.apply(x, shape)
    try:
        np.reshape(x._data, shape, copy=False)
    except ValueError:
        return Reshape.apply(x, shape)
    return View.apply(x, shape)


def expand(x: Tensor, *shape) -> Tensor:
    """Broadcast x to a larger shape without copying (-1 keeps a size)."""
    shape = _shape_arg(shape)
    a = x._data
    lead = len(shape) - a.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(shape)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({a.ndim})")
    full = []
    for i, s in enumerate(shape):
        if s == -1:
            if i < lead:
                raise RuntimeError(
                    "expand: -1 is not allowed in a leading, non-existing dimension")
            s = a.shape[i - lead]
        elif i >= lead and a.shape[i - lead] != s and a.shape[i - lead] != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size "
                f"({a.shape[i - lead]}) at non-singleton dimension {i}.  Target sizes: "
                f"{list(shape)}.  Tensor sizes: {list(a.shape)}")
        full.append(s)
    return Expand.apply(x, tuple(full))


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    return expand(x, other._data.shape)


def view_as(x: Tensor, other: Tensor) -> Tensor:
    return view(x, other._data.shape)


def reshape_as(x: Tensor, other: Tensor) -> Tensor:
    return reshape(x, other._data.shape)


def sum_to_size(x: Tensor, *shape) -> Tensor:
    """Sum x down to ``shape``, which x must be broadcastable from."""
    shape = _shape_arg(shape)
    if shape == x._data.shape:
        return x
    a = x._data
    lead = a.ndim - len(shape)
    if lead < 0 or any(s != 1 and a.shape[lead + i] != s for i, s in enumerate(shape)):
        raise RuntimeError(
            f"size {list(shape)} is not expandable to size {list(a.shape)}; sum_to_size needs "
            "a shape the tensor could have been broadcast from.")
    return SumToSize.apply(x, shape)


def to(x: Tensor, *args, dtype=None, device=None, copy: bool = False, non_blocking=False):
    """Convert to a dtype (and/or device). Returns x itself when nothing changes."""
    from ..tensor import Tensor as _T

    for a in args:
        if isinstance(a, _dt.dtype) or a in (float, int, bool):
            dtype = a
        elif isinstance(a, _T):
            dtype = a.dtype
        elif isinstance(a, str) or hasattr(a, "type"):
            device = a
        else:
            dtype = a
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(f"device {device} is not available; retrograd runs on the cpu")
    if dtype is None:
        return clone(x) if copy else x
    np_dtype = _dt.to_dtype(dtype).np
    if x._data.dtype == np_dtype and not copy:
        return x
    return ToCopy.apply(x, np_dtype)


def clone(x: Tensor, *, memory_format=None) -> Tensor:
    return Clone.apply(x)


def contiguous(x: Tensor, memory_format=None) -> Tensor:
    return x if x._data.flags.c_contiguous else Clone.apply(x)


def flatten_dims(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one."""
    a = x._data
    if a.ndim == 0:
        return reshape(x, 1)
    s = _wrap_dim(start_dim, a.ndim)
    e = _wrap_dim(end_dim, a.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return x
    n = 1
    for d in a.shape[s:e + 1]:
        n *= d
    return reshape(x, a.shape[:s] + (n,) + a.shape[e + 1:])
