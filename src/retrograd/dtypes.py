"""dtypes: PyTorch's dtype objects over NumPy's, and PyTorch's type-promotion rules."""

from __future__ import annotations

import numpy as np

__all__ = ["dtype", "float32", "float64", "float16", "int64", "int32", "int16", "int8",
           "uint8", "bool", "get_default_dtype", "set_default_dtype", "promote_types"]

_builtin_bool = bool


class dtype:
    """A tensor element type, printed as ``torch.float32``; wraps a NumPy dtype."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_category")

    def __init__(self, name: str, np_dtype, category: int) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = category == _FLOAT
        self.is_signed = category != _BOOL and name != "uint8"
        self.itemsize = self.np.itemsize
        self._category = category

    @property
    def is_complex(self) -> _builtin_bool:
        return False

    def __repr__(self) -> str:
        return "torch." + self.name

    def __reduce__(self):
        return (_from_name, (self.name,))


# Promotion categories: bool < integer < floating point.
_BOOL, _INT, _FLOAT = 0, 1, 2

float32 = dtype("float32", np.float32, _FLOAT)
float64 = dtype("float64", np.float64, _FLOAT)
float16 = dtype("float16", np.float16, _FLOAT)
int64 = dtype("int64", np.int64, _INT)
int32 = dtype("int32", np.int32, _INT)
int16 = dtype("int16", np.int16, _INT)
int8 = dtype("int8", np.int8, _INT)
uint8 = dtype("uint8", np.uint8, _INT)
bool = dtype("bool", np.bool_, _BOOL)  # noqa: A001 - PyTorch's name

ALL = (float32, float64, float16, int64, int32, int16, int8, uint8, bool)
_BY_NAME = {d.name: d for d in ALL}
# NumPy dtype -> our dtype; NumPy dtypes hash and compare by value.
FROM_NUMPY = {d.np: d for d in ALL}


def _from_name(name: str) -> dtype:
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype) -> dtype:
    """Our dtype for a NumPy dtype; TypeError for types PyTorch has no tensor for."""
    try:
        return FROM_NUMPY[np_dtype]
    except KeyError:
        pass
    np_dtype = np.dtype(np_dtype)
    if np_dtype in FROM_NUMPY:
        return FROM_NUMPY[np_dtype]
    raise TypeError(
        f"can't convert np.ndarray of type {np_dtype}. The only supported types are: "
        "float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
    )


class _DefaultDtype:
    value = float32


def get_default_dtype() -> dtype:
    """The dtype Python floats become (float32 unless changed)."""
    return _DefaultDtype.value


def set_default_dtype(d: dtype) -> None:
    """Set the dtype Python floats become; only float32 and float64 are allowed."""
    if d not in (float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _DefaultDtype.value = d


def to_dtype(d) -> dtype:
    """Accept a retrograd dtype, a NumPy dtype or a Python type; return our dtype."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return get_default_dtype()
    if d is int:
        return int64
    if d is _builtin_bool:
        return bool
    return from_numpy_dtype(d)


_ORDER = {float16: 0, float32: 1, float64: 2, uint8: 0, int8: 0, int16: 1, int32: 2, int64: 3}


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` convert to (PyTorch's ``promote_types``)."""
    if a is b:
        return a
    if a._category != b._category:
        return a if a._category > b._category else b
    if a._category == _BOOL:
        return a
    if {a, b} == {uint8, int8}:
        return int16
    return a if _ORDER[a] >= _ORDER[b] else b


_result_cache: dict = {}


def result_type(a: dtype, a_is_scalar: _builtin_bool, b: dtype,
                b_is_scalar: _builtin_bool) -> dtype:
    """PyTorch's promotion of two tensor operands.

    Within the highest category present, dimensioned tensors decide over zero-dim ones
    (``float32 vector + float64 0-d`` stays float32); Python scalars are lifted to zero-dim
    tensors of the right dtype before this is called (see ``scalar_dtype``).
    """
    key = (a, a_is_scalar, b, b_is_scalar)
    hit = _result_cache.get(key)
    if hit is not None:
        return hit
    if a_is_scalar == b_is_scalar or a._category != b._category:
        if a._category != b._category:
            high = a if a._category > b._category else b
            # the winning category's dtype comes from whichever operand has it
            out = high
        else:
            out = promote_types(a, b)
    else:
        out = b if a_is_scalar else a
    _result_cache[key] = out
    return out


def scalar_dtype(value, tensor_dtype: dtype) -> dtype:
    """The dtype a Python scalar takes when combined with a tensor of ``tensor_dtype``."""
    if isinstance(value, _builtin_bool):
        cat, default = _BOOL, bool
    elif isinstance(value, int):
        cat, default = _INT, int64
    else:
        cat, default = _FLOAT, get_default_dtype()
    return tensor_dtype if cat <= tensor_dtype._category else default
