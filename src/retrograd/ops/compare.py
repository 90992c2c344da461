"""Comparisons and logical ops: they return bool tensors and carry no gradient."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _wrap
from ._registry import expose
from .promotion import binary_forward, lift


def _compare(np_fn):
    forward = binary_forward(np_fn)

    def op(x, y) -> Tensor:
        if not isinstance(y, Tensor):
            if y is None or not isinstance(y, (bool, int, float, np.ndarray, np.generic)):
                return NotImplemented
            y = lift(y, x)
        return _wrap(forward(None, x, y))

    op.__name__ = np_fn.__name__
    return op


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = _compare(np.less)
le = _compare(np.less_equal)
gt = _compare(np.greater)
ge = _compare(np.greater_equal)


def _logical(np_fn, name: str):
    forward = binary_forward(np_fn)

    def op(x, y) -> Tensor:
        if not isinstance(y, Tensor):
            y = lift(y, x)
        if x._data.dtype.kind == "f" or y._data.dtype.kind == "f":  # (so is their promotion)
            raise RuntimeError(f"\"{name}\" is not implemented for floating-point tensors; use "
                               "logical_and/logical_or/logical_xor or compare first")
        return _wrap(forward(None, x, y))

    op.__name__ = name
    return op


bitwise_and = _logical(np.bitwise_and, "bitwise_and")
bitwise_or = _logical(np.bitwise_or, "bitwise_or")
bitwise_xor = _logical(np.bitwise_xor, "bitwise_xor")


def bitwise_not(x: Tensor) -> Tensor:
    if x._data.dtype.kind == "f":
        raise RuntimeError("\"bitwise_not\" is not implemented for floating-point tensors")
    return _wrap(np.invert(x._data))


def logical_not(x: Tensor) -> Tensor:
    return _wrap(np.logical_not(x._data))


def logical_and(x: Tensor, y: Tensor) -> Tensor:
    return _wrap(np.logical_and(x._data, lift(y, x)._data))


def logical_or(x: Tensor, y: Tensor) -> Tensor:
    return _wrap(np.logical_or(x._data, lift(y, x)._data))


def logical_xor(x: Tensor, y: Tensor) -> Tensor:
    return _wrap(np.logical_xor(x._data, lift(y, x)._data))


def isnan(x: Tensor) -> Tensor:
    return _wrap(np.isnan(x._data))


def isinf(x: Tensor) -> Tensor:
    return _wrap(np.isinf(x._data))


def isfinite(x: Tensor) -> Tensor:
    return _wrap(np.isfinite(x._data))


def equal(x: Tensor, y: Tensor) -> bool:
    """True when both tensors have the same shape and elements."""
    return x._data.shape == y._data.shape and bool(np.array_equal(x._data, y._data))


def allclose(x: Tensor, y: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    return bool(np.allclose(x._data, y._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(x: Tensor, y: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    return _wrap(np.isclose(x._data, lift(y, x)._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def any(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _wrap(np.asarray(np.any(x._data, axis=dim, keepdims=keepdim)))


def all(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _wrap(np.asarray(np.all(x._data, axis=dim, keepdims=keepdim)))


expose({
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "logical_not": logical_not,
    "logical_and": logical_and, "logical_or": logical_or, "logical_xor": logical_xor,
    "isnan": isnan, "isinf": isinf, "isfinite": isfinite, "equal": equal, "allclose": allclose,
    "isclose": isclose, "any": any, "all": all,
})
expose({
    "__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge,
    "__and__": bitwise_and, "__or__": bitwise_or, "__xor__": bitwise_xor,
    "__invert__": bitwise_not,
}, function=False)
