"""Parsing ``x[key]``: a key of ints, slices, ``None``, ``...``, index tensors and masks becomes
a ``_Key`` that the Functions of ``index_functions.py`` read and write through.

Note [Two-stage keys]
    PyTorch applies the ints, slices and ``None``s of a key first, as views (select, slice,
    unsqueeze), and only then indexes the result with the index tensors and masks. NumPy mixes
    the two (``a[1, :, [0, 1]]`` puts the advanced dim first), so a key is parsed once into a
    ``_Key`` with a *basic* part (a NumPy key of ints, slices and ``None``s: a view) and an
    optional *advanced* part (arrays and full slices, applied to that view). ``_take`` reads
    through a key and ``_put`` writes through one (index_functions.py); every indexing Function
    uses those two.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..tensor import Tensor
from .index_functions import Alias, Index, IndexUnsqueeze, Select, Slice

_INT_TYPES = (int, np.integer)
_ZERO_DIM = ("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")


class _Key:
    """A parsed index: see Note [Two-stage keys]."""

    __slots__ = ("basic", "adv", "cls", "dense", "repeats", "dims")

    def __init__(self, basic, adv=None, cls=None, dense=False, repeats=False, dims=None) -> None:
        self.basic = basic  # NumPy key of ints/slices/None/Ellipsis (a view), or None
        self.adv = adv  # tuple of arrays and full slices, applied after ``basic``, or None
        self.cls = cls  # the Function that reads through this key (its node name)
        self.dense = dense  # reading keeps every element (only new dims): backward reshapes
        self.repeats = repeats  # the advanced part may hit one element twice
        self.dims = dims  # advanced axis -> dim of the input, for error messages


def _as_index_array(obj, arr: np.ndarray | None = None) -> np.ndarray:
    """A list, NumPy array or tensor used as an index, as an integer or bool array."""
    if arr is None:
        arr = np.asarray(obj)
        if arr.size == 0 and arr.dtype.kind == "f":  # x[[]]: an empty integer index
            arr = arr.astype(np.int64)
    kind = arr.dtype.kind
    if kind == "u" and arr.dtype.itemsize == 1:
        warnings.warn(
            "indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool "
            "instead.", UserWarning, stacklevel=4)
        return arr.astype(bool)
    if kind not in "iub":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return arr


def _as_tuple(key) -> tuple:
    """The items of ``key``; PyTorch still reads some lists as tuples (with a warning)."""
    if type(key) is tuple:
        return key
    if isinstance(key, list) and len(key) < 32:
        for k in key:
            if isinstance(k, (Tensor, list, tuple, np.ndarray, slice)) or k is None \
                    or k is Ellipsis:
                warnings.warn(
                    "Using a non-tuple sequence for multidimensional indexing is deprecated; "
                    "use x[tuple(seq)] instead of x[seq] (a list will be read as one index "
                    "tensor in a later PyTorch).", UserWarning, stacklevel=4)
                return tuple(key)
    return (key,)


def _classify(k):
    """One item of a key as ``(kind, value)``: int, slice, none, ellipsis, bool, array."""
    if k is None:
        return "none", None
    if k is Ellipsis:
        return "ellipsis", None
    if isinstance(k, slice):
        return "slice", k
    if isinstance(k, (bool, np.bool_)):
        return "bool", bool(k)
    if isinstance(k, _INT_TYPES):
        return "int", int(k)
    if isinstance(k, Tensor):
        arr = k._data
    elif isinstance(k, np.ndarray):
        arr = k
    elif isinstance(k, (list, tuple)):
        arr = None
    else:
        raise IndexError(
            "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
            f"valid indices (got {type(k).__name__})")
    arr = _as_index_array(k, arr)
    if arr.ndim == 0:
        if arr.dtype.kind == "b":
            return "bool", bool(arr)
        return "int", int(arr)
    return "array", arr


def _check_slice(k: slice) -> None:
    step = k.step
    if step is not None:
        step = int(step)
        if step == 0:
            raise ValueError("slice step cannot be zero")
        if step < 0:
            raise ValueError(
                "step must be greater than zero (negative steps are not supported; use "
                ".flip(dim) to reverse a dim)")


def _is_full(k: slice, size: int) -> bool:
    """Whether PyTorch skips this slice as a no-op (it compares the raw bounds: ``-n:`` is not
    skipped although it covers everything)."""
    return ((k.start is None or k.start == 0) and (k.stop is None or k.stop >= size)
            and (k.step is None or k.step == 1))


def _out_of_bounds(i: int, dim: int, size: int) -> IndexError:
    return IndexError(f"index {i} is out of bounds for dimension {dim} with size {size}")


def _parse_ints_and_slices(key: tuple, shape: tuple) -> _Key | None:
    """A key of only ints and slices (``x[:, 1]``), or None when it has anything else."""
    cls = Alias
    dense = True
    for d, k in enumerate(key):
        kt = type(k)
        if kt is int:
            size = shape[d]
            if not -size <= k < size:
                raise _out_of_bounds(k, d, size)
            cls, dense = Select, False
        elif kt is slice:
            _check_slice(k)
            if not _is_full(k, shape[d]):
                cls, dense = Slice, False
        else:
            return None
    return _Key(key + (Ellipsis,), cls=cls, dense=dense)


def parse_key(x: Tensor, key) -> _Key:
    """Parse ``key`` for ``x[key]`` into a ``_Key``; raise PyTorch's errors for bad keys."""
    shape = x._data.shape
    ndim = len(shape)
    # Fast paths for the common keys; anything unusual goes to the general parser below.
    kt = type(key)
    if kt is int:
        if ndim == 0:
            raise IndexError(_ZERO_DIM)
        if not -shape[0] <= key < shape[0]:
            raise _out_of_bounds(key, 0, shape[0])
        return _Key((key, Ellipsis), cls=Select)
    if kt is slice:
        if ndim == 0:
            raise IndexError(_ZERO_DIM)
        _check_slice(key)
        return _Key((key,), cls=Slice, dense=_is_full(key, shape[0]))
    if key is None:
        return _Key((None, Ellipsis), cls=IndexUnsqueeze, dense=True)
    if kt is tuple and len(key) <= ndim:
        fast = _parse_ints_and_slices(key, shape)
        if fast is not None:
            return fast
    elif kt is Tensor and ndim:
        arr = key._data
        kind = arr.dtype.kind
        if kind in "iu" and arr.ndim and arr.dtype != np.uint8:
            return _Key(None, (arr,), Index, repeats=True, dims=[0])
        if kind == "b" and arr.ndim and arr.shape == shape[:arr.ndim]:
            return _Key(None, (arr,), Index, dims=[0])

    items = [_classify(k) for k in _as_tuple(key)]
    used = 0
    n_ellipsis = 0
    for kind, v in items:
        if kind == "int" or kind == "slice":
            used += 1
        elif kind == "array":
            used += v.ndim if v.dtype.kind == "b" else 1
        elif kind == "ellipsis":
            n_ellipsis += 1
    if n_ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if used > ndim:
        if ndim == 0:
            raise IndexError(_ZERO_DIM)
        raise IndexError(f"too many indices for tensor of dimension {ndim}")

    basic = []
    adv = {}  # axis of the basic view -> array
    dims = {}  # that axis -> dim of x
    cls = Alias
    dense = True
    repeats = False
    d = 0  # current dim of x
    out_d = 0  # current dim of the basic view
    for kind, v in items:
        if kind == "int":
            size = shape[d]
            if not -size <= v < size:
                raise _out_of_bounds(v, d, size)
            basic.append(v)
            cls, dense = Select, False
            d += 1
        elif kind == "slice":
            _check_slice(v)
            basic.append(v)
            if not _is_full(v, shape[d]):
                cls, dense = Slice, False
            d += 1
            out_d += 1
        elif kind == "none":
            basic.append(None)
            cls = IndexUnsqueeze
            out_d += 1
        elif kind == "ellipsis":
            n = ndim - used
            basic.extend([slice(None)] * n)
            d += n
            out_d += n
        elif kind == "bool":  # a new size-1 dim, kept (True) or emptied (False)
            basic.append(None)
            cls = IndexUnsqueeze
            adv[out_d] = np.array([v])
            dims[out_d] = d
            out_d += 1
        else:
            k = v.ndim if v.dtype.kind == "b" else 1
            if v.dtype.kind == "b":
                want = shape[d:d + k]
                if v.shape != want:
                    j = next(i for i in range(k) if v.shape[i] != want[i])
                    raise IndexError(
                        f"The shape of the mask {list(v.shape)} at index {j} does not match the "
                        f"shape of the indexed tensor {list(shape)} at index {d + j}")
            else:
                repeats = True
            basic.extend([slice(None)] * k)
            adv[out_d] = v
            dims[out_d] = d
            d += k
            out_d += k

    if not adv:
        return _Key(tuple(basic) + (Ellipsis,), cls=cls, dense=dense)
    if len(adv) > 1:
        _check_broadcast(adv)
    last = max(adv)
    adv_key = tuple(adv.get(i, slice(None)) for i in range(last + 1))
    dim_map = [dims.get(i, i) for i in range(last + 1)]
    # No basic part when PyTorch would skip every item of it (setitem's node name depends on it).
    return _Key(None if cls is Alias else tuple(basic), adv_key, Index, repeats=repeats,
                dims=dim_map)


def _check_broadcast(adv: dict) -> None:
    # A mask stands for the 1-D array of its True positions.
    shapes = [(int(np.count_nonzero(v)),) if v.dtype.kind == "b" else v.shape
              for v in adv.values()]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError(
            "shape mismatch: indexing tensors could not be broadcast together with shapes "
            + ", ".join(str(list(s)) for s in shapes)) from None

