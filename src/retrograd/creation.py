"""Making tensors: from data, filled with constants, ranges, and random numbers."""

from __future__ import annotations

import numpy as np

from . import dtypes as _dt
from ._types import Size
from .cuda import check_device, no_gpu_error
from .ops._registry import expose
from .tensor import Tensor, _wrap

_check_device = check_device  # cpu only; a cuda device raises PyTorch's error (cuda.py)


def _finish(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _np_dtype(dtype, default=None):
    if dtype is None:
        return default
    return _dt.to_dtype(dtype).np


def _array_from_data(data, dtype) -> np.ndarray:
    """NumPy array from Python data with PyTorch's dtype inference; always a fresh copy."""
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, (list, tuple)) and _contains_tensor(data):
        arr = np.array(_tensors_to_lists(data))
    else:
        arr = np.array(data)
        if arr.dtype == object or arr.dtype == np.uint64 or (
                arr.dtype.kind == "f" and arr.size and float(np.abs(arr).max()) >= 2.0**63):
            arr = _wide_ints(data, arr, dtype)  # Python ints beyond int64 (NumPy's guesses)
        if arr.dtype == object:
            raise TypeError(
                f"can't build a tensor from {type(data).__name__}: the data must be numbers or "
                "(nested) sequences of numbers with a regular shape")
        if arr.dtype.kind == "f" and dtype is None:
            arr = arr.astype(_dt.get_default_dtype().np)
        elif arr.dtype.kind in "iu" and dtype is None:
            arr = arr.astype(np.int64)
    if arr.dtype.kind in "USO":
        raise TypeError(f"can't convert data of dtype {arr.dtype} to a tensor; use numbers")
    if dtype is not None:
        target = _dt.to_dtype(dtype).np
        if (target.kind in "iu" and arr.dtype.kind in "iuf" and arr.size
                and not isinstance(data, (np.ndarray, Tensor))):
            _check_int_range(arr, target)
        return np.array(arr, dtype=target)
    _dt.from_numpy_dtype(arr.dtype)  # raises TypeError for dtypes PyTorch has no tensor for
    return np.array(arr, copy=True)


def _leaves(data):
    """The numbers of nested lists and tuples, without recursion."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        else:
            yield item


def _wide_ints(data, arr: np.ndarray, dtype) -> np.ndarray:
    """Python data where NumPy met an int outside int64 (and guessed uint64, float or object):
    as PyTorch, fine for a float or bool dtype, an overflow error for integer dtypes."""
    target = None if dtype is None else _dt.to_dtype(dtype).np
    wide = any(isinstance(v, int) and not isinstance(v, bool) and not -2**63 <= v < 2**63
               for v in _leaves(data))
    if not wide:
        return arr
    if target is not None and target.kind in "fb":
        with np.errstate(over="ignore"):  # (float16 gives inf, as in PyTorch)
            return np.array(data, dtype=target)
    if target is not None:
        raise RuntimeError(f"value cannot be converted to type {target.name} without overflow")
    floats = any(isinstance(v, float) for v in _leaves(data))
    if floats:  # (a float among the numbers: the tensor is float, the int fits there)
        return np.array(data, dtype=np.float64)
    raise ValueError(
        "Overflow when unpacking long long: a number does not fit in int64; pass "
        "dtype=torch.float64 (or use smaller numbers).")


def _check_int_range(arr: np.ndarray, target: np.dtype) -> None:
    info = np.iinfo(target)
    low = info.min if target.kind == "i" else -info.max  # (PyTorch wraps small negatives)
    if arr.max().item() > info.max or arr.min().item() < low:  # (exact: int or float)
        raise RuntimeError(
            f"value cannot be converted to type {target.name} without overflow")


def _contains_tensor(seq) -> bool:
    for item in seq:
        if isinstance(item, Tensor):
            return True
        if isinstance(item, (list, tuple)) and _contains_tensor(item):
            return True
    return False


def _tensors_to_lists(seq):
    return [x.tolist() if isinstance(x, Tensor) else
            _tensors_to_lists(x) if isinstance(x, (list, tuple)) else x for x in seq]


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (dtype inferred: float32, int64 or bool)."""
    _check_device(device)
    return _finish(_array_from_data(data, dtype), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or tensor when it can."""
    _check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or _dt.to_dtype(dtype).np == data.dtype):
        _dt.from_numpy_dtype(data.dtype)
        return _wrap(data)
    return tensor(data, dtype=dtype)


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with the NumPy array ``arr``."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    _dt.from_numpy_dtype(arr.dtype)
    return _wrap(arr)


class _LegacyTensorType(type):
    """The metaclass of ``FloatTensor``, ``LongTensor``, ...: PyTorch's old per-dtype tensor
    types. Calling one makes a tensor of its dtype (``LongTensor([1, 2])`` from data,
    ``FloatTensor(2, 3)`` of that size, zero-filled here), and ``isinstance(t, FloatTensor)``
    asks whether t is a float32 tensor."""

    def __call__(cls, *args, device=None) -> Tensor:
        _check_device(device)
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            if isinstance(args[0], Size):
                return _wrap(np.zeros(tuple(args[0]), dtype=cls.dtype.np))
            return tensor(args[0], dtype=cls.dtype)
        return _wrap(np.zeros(_size(args), dtype=cls.dtype.np))

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'torch.{cls.__name__}'>"


def _legacy(name: str, dtype) -> type:
    return _LegacyTensorType(name, (), {"dtype": dtype, "__module__": "retrograd"})


FloatTensor = _legacy("FloatTensor", _dt.float32)
DoubleTensor = _legacy("DoubleTensor", _dt.float64)
HalfTensor = _legacy("HalfTensor", _dt.float16)
LongTensor = _legacy("LongTensor", _dt.int64)
IntTensor = _legacy("IntTensor", _dt.int32)
ShortTensor = _legacy("ShortTensor", _dt.int16)
CharTensor = _legacy("CharTensor", _dt.int8)
ByteTensor = _legacy("ByteTensor", _dt.uint8)
BoolTensor = _legacy("BoolTensor", _dt.bool)


def _size(size) -> tuple:
    if len(size) == 1 and not isinstance(size[0], int):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)):
            raise TypeError(f"sizes must be ints, got {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return tuple(int(s) for s in size)


def _filled(size, value, dtype, requires_grad, device) -> Tensor:
    _check_device(device)
    np_dtype = _np_dtype(dtype, _dt.get_default_dtype().np)
    return _finish(np.full(_size(size), value, dtype=np_dtype), requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    """A tensor of zeros of the given shape."""
    return _filled(size, 0, dtype, requires_grad, device)


def ones(*size, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    """A tensor of ones of the given shape."""
    return _filled(size, 1, dtype, requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad: bool = False,
          memory_format=None) -> Tensor:
    """A tensor of the given shape with unspecified (here: zero) values."""
    return _filled(size, 0, dtype, requires_grad, device)


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of the given shape filled with ``fill_value`` (dtype inferred from it)."""
    if dtype is None:
        dtype = (_dt.bool if isinstance(fill_value, bool) else
                 _dt.int64 if isinstance(fill_value, int) else _dt.get_default_dtype())
    return _filled((size,) if isinstance(size, int) else tuple(size), fill_value, dtype,
                   requires_grad, device)


def eye(n: int, m: int | None = None, *, dtype=None, device=None,
        requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix."""
    _check_device(device)
    return _finish(np.eye(n, m, dtype=_np_dtype(dtype, _dt.get_default_dtype().np)),
                   requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Values from start (default 0) up to, not including, end, every step."""
    _check_device(device)
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        is_int = all(isinstance(v, int) for v in vals)
        dtype = _dt.int64 if is_int else _dt.get_default_dtype()
    np_dtype = _dt.to_dtype(dtype).np
    if np.dtype(np_dtype).kind == "f":
        # PyTorch computes the length as ceil((end - start) / step) in double precision
        n = int(np.ceil((vals[1] - vals[0]) / vals[2]))
        arr = (vals[0] + np.arange(max(n, 0), dtype=np.float64) * vals[2]).astype(np_dtype)
    else:
        arr = np.arange(vals[0], vals[1], vals[2], dtype=np_dtype)
    return _finish(arr, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from start to end inclusive."""
    _check_device(device)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    arr = np.linspace(start, end, steps, dtype=np.float64)
    return _finish(arr.astype(_np_dtype(dtype, _dt.get_default_dtype().np)), requires_grad)


# ---- *_like ------------------------------------------------------------------------------


def _like(x: Tensor, value, dtype, requires_grad) -> Tensor:
    np_dtype = x._data.dtype if dtype is None else _dt.to_dtype(dtype).np
    return _finish(np.full(x._data.shape, value, dtype=np_dtype), requires_grad)


def zeros_like(x: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    return _like(x, 0, dtype, requires_grad)


def ones_like(x: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    return _like(x, 1, dtype, requires_grad)


def empty_like(x: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    return _like(x, 0, dtype, requires_grad)


def full_like(x: Tensor, fill_value, *, dtype=None, device=None,
              requires_grad: bool = False, memory_format=None) -> Tensor:
    return _like(x, fill_value, dtype, requires_grad)


# ---- random numbers ----------------------------------------------------------------------


class Generator:
    """A source of random numbers (NumPy's PCG64 underneath; not bit-compatible with PyTorch).

    ``retrograd.manual_seed`` seeds the default one; pass your own as ``generator=`` to
    ``rand``, ``randn``, ``randint``, ``randperm``, ``DataLoader`` or ``random_split`` for a
    reproducible stream of its own.
    """

    def __init__(self, device="cpu") -> None:
        self._initial = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.gen = np.random.default_rng(self._initial)
        self.device = device

    def manual_seed(self, seed: int) -> Generator:
        self._initial = int(seed)
        self.gen = np.random.default_rng(self._initial)
        return self

    def seed(self) -> int:
        return self.manual_seed(int(np.random.SeedSequence().entropy % (2 ** 63)))._initial

    def initial_seed(self) -> int:
        return self._initial

    def get_state(self) -> dict:
        return self.gen.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        self.gen.bit_generator.state = state
        return self


default_generator = Generator()
_Rng = default_generator  # what the ops and nn.init draw from when given no generator


def _numpy_generator(generator):
    """The NumPy generator behind ``generator`` (a Generator, a NumPy one, or None)."""
    if generator is None:
        return default_generator.gen
    return getattr(generator, "gen", generator)


def manual_seed(seed: int) -> Generator:
    """Seed retrograd's default random number generator; returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from fresh entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def _float_dtype(dtype):
    np_dtype = _np_dtype(dtype, _dt.get_default_dtype().np)
    if np.dtype(np_dtype).kind != "f":
        raise RuntimeError(f"random floats need a floating-point dtype, got {dtype}")
    return np_dtype


def rand(*size, dtype=None, device=None, requires_grad: bool = False, generator=None) -> Tensor:
    """Uniform random numbers in [0, 1)."""
    _check_device(device)
    np_dtype = _float_dtype(dtype)
    return _finish(_numpy_generator(generator).random(_size(size)).astype(np_dtype),
                   requires_grad)


def randn(*size, dtype=None, device=None, requires_grad: bool = False, generator=None) -> Tensor:
    """Standard normal random numbers."""
    _check_device(device)
    np_dtype = _float_dtype(dtype)
    return _finish(_numpy_generator(generator).standard_normal(_size(size)).astype(np_dtype),
                   requires_grad)


def randint(low, high=None, size=None, *, dtype=None, device=None,
            requires_grad: bool = False, generator=None) -> Tensor:
    """Random integers in [low, high)."""
    _check_device(device)
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    arr = _numpy_generator(generator).integers(low, high, size=tuple(size)).astype(
        _np_dtype(dtype, np.int64))
    return _finish(arr, requires_grad)


def randperm(n: int, *, dtype=None, device=None, requires_grad: bool = False,
             generator=None) -> Tensor:
    """A random permutation of 0..n-1."""
    return _finish(_numpy_generator(generator).permutation(n).astype(_np_dtype(dtype, np.int64)),
                   requires_grad)


def rand_like(x: Tensor, *, dtype=None, requires_grad: bool = False) -> Tensor:
    return rand(*x._data.shape, dtype=dtype or x.dtype, requires_grad=requires_grad)


def randn_like(x: Tensor, *, dtype=None, requires_grad: bool = False) -> Tensor:
    return randn(*x._data.shape, dtype=dtype or x.dtype, requires_grad=requires_grad)


def randint_like(x: Tensor, low, high=None, *, dtype=None, requires_grad: bool = False) -> Tensor:
    return randint(low, high, x._data.shape, dtype=dtype or x.dtype, requires_grad=requires_grad)


# ---- x.new_*: tensors with x's dtype (unless given) --------------------------------------------


def _new_dtype(x: Tensor, dtype):
    return x.dtype if dtype is None else dtype


def new_ones(x: Tensor, *size, dtype=None, device=None, requires_grad: bool = False,
             layout=None, pin_memory: bool = False) -> Tensor:
    """Ones of shape ``size``, with x's dtype unless ``dtype`` is given."""
    return _filled(size, 1, _new_dtype(x, dtype), requires_grad, device)


def new_zeros(x: Tensor, *size, dtype=None, device=None, requires_grad: bool = False,
              layout=None, pin_memory: bool = False) -> Tensor:
    """Zeros of shape ``size``, with x's dtype unless ``dtype`` is given."""
    return _filled(size, 0, _new_dtype(x, dtype), requires_grad, device)


def new_empty(x: Tensor, *size, dtype=None, device=None, requires_grad: bool = False,
              layout=None, pin_memory: bool = False) -> Tensor:
    """A tensor of shape ``size`` (filled with zeros here), with x's dtype unless given."""
    return _filled(size, 0, _new_dtype(x, dtype), requires_grad, device)


def new_full(x: Tensor, size, fill_value, *, dtype=None, device=None,
             requires_grad: bool = False, layout=None, pin_memory: bool = False) -> Tensor:
    """``fill_value`` in every place of shape ``size``, with x's dtype unless given."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _filled((size,), fill_value, _new_dtype(x, dtype), requires_grad, device)


def new_tensor(x: Tensor, data, *, dtype=None, device=None, requires_grad: bool = False,
               layout=None, pin_memory: bool = False) -> Tensor:
    """A copy of ``data`` with x's dtype unless ``dtype`` is given (a leaf, detached)."""
    if isinstance(data, Tensor):
        import warnings

        warnings.warn(
            "To copy construct from a tensor, it is recommended to use "
            "sourceTensor.detach().clone() or sourceTensor.detach().clone().requires_grad_(True)"
            ", rather than tensor.new_tensor(sourceTensor).", UserWarning, stacklevel=2)
    return tensor(data, dtype=_new_dtype(x, dtype), device=device, requires_grad=requires_grad)


def new(x: Tensor, *args, device=None) -> Tensor:
    """The legacy ``x.new(...)``: like calling x's legacy type (``x.new(2, 3)`` a tensor of
    that size, ``x.new([1, 2])`` from data, ``x.new()`` empty), in x's dtype."""
    _check_device(device)
    if not args:
        return _wrap(np.zeros((0,), dtype=x.dtype.np))
    return _LegacyTensorType.__call__(_legacy("Tensor", x.dtype), *args)


def _cuda(x: Tensor, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
    raise no_gpu_error("Tensor.cuda()")


expose({"new_ones": new_ones, "new_zeros": new_zeros, "new_empty": new_empty,
        "new_full": new_full, "new_tensor": new_tensor, "new": new, "cuda": _cuda}, function=False)
