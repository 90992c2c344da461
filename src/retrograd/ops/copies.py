"""Shape ops that return new memory: dtype conversions (``to``, ``x.float()``, ...), clone and
contiguous, repeat/tile and flip."""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..autograd.forward_ad import linear_jvp
from ..autograd.function import Function
from ..cuda import check_device
from ..tensor import Tensor
from ._registry import expose
from .shape import int_args, unique_dims


class ToCopy(Function):
    """out = x converted to another dtype;  dx = grad converted back"""

    @staticmethod
    def forward(ctx, x, np_dtype):
        ctx.in_dtype = _dt.FROM_NUMPY[x._data.dtype]
        return x._data.astype(np_dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.in_dtype), None

    jvp = linear_jvp


class Clone(Function):
    """out = a copy of x;  dx = grad"""

    @staticmethod
    def forward(ctx, x):
        return x._data.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad

    jvp = linear_jvp


class Repeat(Function):
    """out = x tiled ``reps`` times along each dim;  dx = sum of grad over the tiles"""

    @staticmethod
    def forward(ctx, x, reps):
        a = x._data
        ctx.in_shape = a.shape
        ctx.reps = reps
        return np.tile(a, reps)

    @staticmethod
    def backward(ctx, grad):
        reps = ctx.reps
        padded = (1,) * (len(reps) - len(ctx.in_shape)) + ctx.in_shape
        # Split each dim into (tile, original) and sum over the tile axes.
        split = []
        for r, s in zip(reps, padded):
            split += (r, s)
        summed = grad.reshape(tuple(split)).sum(tuple(range(0, 2 * len(reps), 2)))
        return summed.reshape(ctx.in_shape), None

    jvp = linear_jvp


class Flip(Function):
    """out = a copy of x reversed along ``dims``;  dx = grad flipped back"""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        a = x._data
        return a[tuple(slice(None, None, -1) if i in dims else slice(None)
                       for i in range(a.ndim))].copy()

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, ctx.dims), None

    jvp = linear_jvp


# ---- the functions users call ----------------------------------------------------------------


def to(x: Tensor, *args, dtype=None, device=None, copy: bool = False, non_blocking=False):
    """Convert to a dtype (and/or device). Returns x itself when nothing changes."""
    for a in args:
        if isinstance(a, _dt.dtype) or a in (float, int, bool):
            dtype = a
        elif isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, str) or hasattr(a, "type"):
            device = a
        else:
            dtype = a
    check_device(device)
    if dtype is None:
        return clone(x) if copy else x
    np_dtype = _dt.to_dtype(dtype).np
    if x._data.dtype == np_dtype and not copy:
        return x
    return ToCopy.apply(x, np_dtype)


def _dtype_method(dtype_name: str):
    """``x.float()``, ``x.long()``, ...: a conversion to one dtype."""
    dt = getattr(_dt, dtype_name)

    def method(self, memory_format=None):
        return to(self, dt)

    method.__name__ = dtype_name
    return method


# The legacy class names ``Tensor.type()`` answers with, and accepts, for each dtype.
_LEGACY_TYPE_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
    "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
}


def type_(x: Tensor, dtype=None, non_blocking: bool = False, **kwargs):
    """``x.type()`` names x's legacy tensor type (``'torch.FloatTensor'``); ``x.type(dtype)``
    (a dtype or such a name) converts, returning x itself when nothing changes."""
    if dtype is None:
        return "torch." + _LEGACY_TYPE_NAMES.get(x.dtype.name, x.dtype.name)
    if isinstance(dtype, str):
        by_name = {"torch." + v: k for k, v in _LEGACY_TYPE_NAMES.items()}
        if dtype not in by_name:
            raise ValueError(f"invalid type: '{dtype}'. Pass a dtype such as torch.float32 or "
                             "a name such as 'torch.FloatTensor'.")
        dtype = getattr(_dt, by_name[dtype])
    dtype = getattr(dtype, "dtype", dtype)  # a legacy type such as retrograd.LongTensor
    if not isinstance(dtype, _dt.dtype):
        raise TypeError(f"type(): expected a dtype or a type name, got {type(dtype).__name__}")
    return to(x, dtype)


def clone(x: Tensor, *, memory_format=None) -> Tensor:
    return Clone.apply(x)


def contiguous(x: Tensor, memory_format=None) -> Tensor:
    return x if x._data.flags.c_contiguous else Clone.apply(x)


def repeat(x: Tensor, *sizes) -> Tensor:
    """Tile x ``sizes[i]`` times along dim i (extra leading sizes add new dims); a copy."""
    reps = int_args(sizes)
    n = x._data.ndim
    if len(reps) < n:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            f"of tensor (got {len(reps)} repeats for a {n}-D tensor).")
    for r in reps:
        if r < 0:
            padded = (1,) * (len(reps) - n) + x._data.shape
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {r}: "
                f"{[p * q for p, q in zip(padded, reps)]}")
    return Repeat.apply(x, reps)


def tile(x: Tensor, *dims) -> Tensor:
    """Like repeat, but fewer sizes than dims are padded with ones at the front."""
    reps = int_args(dims)
    n = x._data.ndim
    return repeat(x, (1,) * (n - len(reps)) + reps)


def flip(x: Tensor, *dims) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch)."""
    return Flip.apply(x, unique_dims(int_args(dims), x._data.ndim))


def fliplr(x: Tensor) -> Tensor:
    if x._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return Flip.apply(x, (1,))


def flipud(x: Tensor) -> Tensor:
    if x._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return Flip.apply(x, (0,))


expose({"clone": clone, "tile": tile, "flip": flip, "fliplr": fliplr, "flipud": flipud})
expose({
    "to": to, "contiguous": contiguous, "repeat": repeat,
    "float": _dtype_method("float32"), "double": _dtype_method("float64"),
    "half": _dtype_method("float16"), "long": _dtype_method("int64"),
    "int": _dtype_method("int32"), "bool": _dtype_method("bool"),
    "cpu": lambda x, memory_format=None: x, "type": type_,
}, function=False)
