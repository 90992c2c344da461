"""Indexing: ``x[key]``, ``x[key] = v``, and the gather/scatter family, with their derivatives.

Note [Two-stage keys]
    PyTorch applies the ints, slices and ``None``s of a key first, as views (select, slice,
    unsqueeze), and only then indexes the result with the index tensors and masks. NumPy mixes
    the two (``a[1, :, [0, 1]]`` puts the advanced dim first), so a key is parsed once into a
    ``_Key`` with a *basic* part (a NumPy key of ints, slices and ``None``s: a view) and an
    optional *advanced* part (arrays and full slices, applied to that view). ``_take`` reads
    through a key and ``_put`` writes through one; every Function here uses those two.

Note [Accumulating repeated indices]
    ``x[idx]`` with repeated indices sends several gradients to one element, so the backward
    of indexing adds into zeros with accumulation (``index_put(..., accumulate=True)``), never
    plain assignment. For many values it is done with ``np.bincount`` over linear indices,
    which is several times faster than ``np.add.at``; for a few values into a big tensor,
    ``np.add.at`` avoids touching every element.
"""

from __future__ import annotations

import re
import warnings

import numpy as np

from .. import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor, _wrap, _wrap_dim
from . import inplace as _inplace
from ._registry import expose

_state = grad_mode.state
_INT_TYPES = (int, np.integer)


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


# ---- reading and writing through a key (arrays) ---------------------------------------------

_OOB = re.compile(r"index (-?\d+) is out of bounds for axis (\d+) with size (\d+)")


def _index_error(err: IndexError, key: _Key) -> IndexError:
    """NumPy's out-of-bounds message, with the dim numbered as in the input tensor."""
    m = _OOB.search(str(err))
    if m is None:
        return IndexError(str(err).replace("arrays", "tensors"))
    axis = int(m.group(2))
    if key.dims is not None and axis < len(key.dims):
        axis = key.dims[axis]
    return IndexError(f"index {m.group(1)} is out of bounds for dimension {axis} with size "
                      f"{m.group(3)}")


def _take(a: np.ndarray, key: _Key) -> np.ndarray:
    if key.basic is not None:
        a = a[key.basic]
    if key.adv is None:
        return a
    try:
        return a[key.adv]
    except IndexError as e:
        raise _index_error(e, key) from None


def _put(out: np.ndarray, key: _Key, values, accumulate: bool) -> None:
    """Write (or add, with ``accumulate``) ``values`` into ``out`` through ``key``, in place."""
    view = out[key.basic] if key.basic is not None else out
    try:
        if key.adv is None:
            if accumulate:
                view += values
            else:
                view[...] = values
        elif not accumulate:
            view[key.adv] = values
        elif not key.repeats:  # masks only: no element is hit twice
            view[key.adv] += values
        else:
            _add_at(view, key.adv, values)
    except IndexError as e:
        raise _index_error(e, key) from None
    except ValueError:
        raise _shape_error(view, key, values) from None


def _add_at(view: np.ndarray, adv: tuple, values) -> None:
    """``view[adv] += values`` with repeated indices adding up; see Note [Accumulating ...]."""
    # bincount touches every element of view; worth it only when many values come in.
    if view.dtype.kind == "f" and 0 < view.size <= 4 * np.size(values):
        lin = np.arange(view.size).reshape(view.shape)[adv]  # linear index of each value
        vals = np.broadcast_to(np.asarray(values), lin.shape).ravel()
        sums = np.bincount(lin.ravel(), weights=vals, minlength=view.size)
        view += sums.reshape(view.shape).astype(view.dtype, copy=False)
        return
    np.add.at(view, adv, values)


def _shape_error(view: np.ndarray, key: _Key, values) -> RuntimeError:
    target = view[key.adv].shape if key.adv is not None else view.shape
    vshape = list(np.shape(values))
    return RuntimeError(
        f"shape mismatch: value tensor of shape {vshape} cannot be broadcast to indexing result "
        f"of shape {list(target)}")


# ---- the Functions -----------------------------------------------------------------------------


class _BasicIndex(Function):
    """out = x[key] for ints, slices and None (a view);  dx = zeros with grad put at key"""

    _is_view = True

    @staticmethod
    def forward(ctx, x, key):
        a = x._data
        ctx.in_shape = a.shape
        ctx.key = key
        return a[key.basic]

    @staticmethod
    def backward(ctx, grad):
        if ctx.key.dense:
            return grad.reshape(ctx.in_shape), None
        return _PutIntoZeros.apply(grad, ctx.in_shape, ctx.key, False), None


class Select(_BasicIndex):
    """out = x[..., i, ...] (a view);  dx = zeros with grad at i"""

    node_name = "SelectBackward0"


class Slice(_BasicIndex):
    """out = x[..., a:b:s, ...] (a view);  dx = zeros with grad in the slice"""

    node_name = "SliceBackward0"


class IndexUnsqueeze(_BasicIndex):
    """out = x[..., None, ...] (a view);  dx = grad with the new dims dropped"""

    node_name = "UnsqueezeBackward0"


class Alias(_BasicIndex):
    """out = x[...] (a view of all of x);  dx = grad"""

    node_name = "AliasBackward0"


class Index(Function):
    """out = x[key] with index tensors or masks (a copy);  dx = zeros with grad added at key"""

    @staticmethod
    def forward(ctx, x, key):
        a = x._data
        ctx.in_shape = a.shape
        ctx.key = key
        return _take(a, key)

    @staticmethod
    def backward(ctx, grad):
        return _PutIntoZeros.apply(grad, ctx.in_shape, ctx.key, True), None


class Gather(Index):
    """out[i][j] = x[i][index[i][j]] (for dim 1; a copy);  dx = zeros with grad added at index"""

    node_name = "GatherBackward0"


class IndexSelect(Index):
    """out = x.index_select(dim, index) (a copy);  dx = zeros with grad added at index"""

    node_name = "IndexSelectBackward0"


class _PutIntoZeros(Function):
    """out = zeros(shape) with v written (or added) at key;  dv = grad[key]"""

    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, v, shape, key, accumulate):
        ctx.key = key
        out = np.zeros(shape, dtype=v._data.dtype)
        _put(out, key, v._data, accumulate)
        return out

    @staticmethod
    def backward(ctx, grad):
        return read(grad, ctx.key), None, None, None


class IndexPut(Function):
    """out = x with v written (or added, with accumulate) at key;
    dx = grad with the written places zeroed (or grad),  dv = grad[key]"""


    @staticmethod
    def forward(ctx, x, v, key, accumulate):
        out = x._data.copy()
        vals = v._data if isinstance(v, Tensor) else v
        _put(out, key, vals, accumulate)
        ctx.key = key
        ctx.accumulate = accumulate
        ctx.v_ndim = np.ndim(vals)
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, need_v = ctx.needs_input_grad[:2]
        key = ctx.key
        gx = gv = None
        if need_x:
            gx = grad if ctx.accumulate else IndexPut.apply(grad, 0, key, False)
        if need_v:
            gv = read(grad, key)
            extra = ctx.v_ndim - gv._data.ndim
            if extra > 0:  # v had extra leading size-1 dims, which assignment drops
                gv = gv.reshape((1,) * extra + gv._data.shape)
        return gx, gv, None, None


class CopySlices(IndexPut):
    """out = x with v written at a basic key (x[1:, 0] = v);  as IndexPut"""

    node_name = "CopySlices"


class CopyWhole(IndexPut):
    """out = v broadcast to x's shape (x[...] = v);  as IndexPut"""

    node_name = "CopyBackwards"


class FillWhole(IndexPut):
    """out = a number or 0-dim v everywhere (x[...] = v);  as IndexPut"""

    node_name = "FillBackward3"


class FillScalar(IndexPut):
    """out = a number everywhere (x.fill_(c));  dx = zeros"""

    node_name = "FillBackward2"


class Scatter(IndexPut):
    """out = x with src written at index along dim;  dx = grad zeroed there, dsrc = gather"""

    node_name = "ScatterBackward0"


class ScatterValue(IndexPut):
    """out = x with a number written at index along dim;  dx = grad zeroed there"""

    node_name = "ScatterBackward1"


class ScatterAdd(IndexPut):
    """out = x with src added at index along dim;  dx = grad,  dsrc = grad gathered at index"""

    node_name = "ScatterAddBackward0"


class MaskedFill(Function):
    """out = where(mask, value, x);  dx = grad where not mask,  dvalue = sum of grad at mask"""

    @staticmethod
    def forward(ctx, x, mask, value):
        a = x._data
        val = value._data if isinstance(value, Tensor) else value
        ctx.save_for_backward(mask)
        return np.where(mask._data, np.asarray(val, dtype=a.dtype), a)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        need_x = ctx.needs_input_grad[0]
        need_v = ctx.needs_input_grad[2]
        gx = MaskedFill.apply(grad, mask, 0) if need_x else None
        gv = None
        if need_v:
            gv = MaskedFill.apply(grad, _wrap(~mask._data), 0).sum()
        return gx, None, gv


class MaskedFillTensor(MaskedFill):
    """out = where(mask, value, x) for a 0-dim tensor value;  as MaskedFill"""

    node_name = "MaskedFillBackward1"


def read(x: Tensor, key: _Key) -> Tensor:
    """``x[key]`` for an already parsed key, recorded with the key's Function."""
    return key.cls.apply(x, key)


# ---- parsing a key ---------------------------------------------------------------------------


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


_ZERO_DIM = ("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")


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


# ---- x[key] and x[key] = value ---------------------------------------------------------------


def getitem(x: Tensor, key) -> Tensor:
    """``x[key]``: ints, slices, None and ``...`` give views; index tensors and masks copies."""
    k = parse_key(x, key)
    return k.cls.apply(x, k)


def setitem(x: Tensor, key, value) -> None:
    """``x[key] = value``: write ``value`` (a number or a broadcastable tensor) in place."""
    k = parse_key(x, key)
    if not isinstance(value, (Tensor, bool, int, float)):
        value = _wrap(np.asarray(value, dtype=x._data.dtype))
    if _state.enabled and (x._requires_grad or (isinstance(value, Tensor)
                                                 and value._requires_grad)):
        # PyTorch's node: copy_ on the whole tensor, index_put_ on it, or either on a view.
        if k.adv is None:
            if k.cls is not Alias:
                cls = CopySlices
            elif isinstance(value, Tensor) and value._data.ndim:
                cls = CopyWhole
            else:
                cls = FillWhole
        else:
            cls = IndexPut if k.basic is None else CopySlices
        _inplace.apply_inplace(x, lambda s, v: cls.apply(s, v, k, False), value)
        return
    # Nothing to record: write straight into x's memory (no snapshot, no copy of x).
    if _state.enabled:
        _inplace._check_leaf(x)
    if not x._data.flags.writeable:
        _inplace._write(x, x._data)  # raises the error for expanded tensors
    _put(x._data, k, value._data if isinstance(value, Tensor) else value, False)
    x._bump_version()


# ---- select, narrow and the gather/scatter family ------------------------------------------


def select(x: Tensor, dim: int, index: int) -> Tensor:
    """``x`` with dim ``dim`` fixed at ``index`` (a view with one dim fewer)."""
    if x._data.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, x._data.ndim)
    size = x._data.shape[d]
    index = int(index)
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(x._data.shape)} at "
            f"dimension {d}")
    return Select.apply(x, _Key((slice(None),) * d + (index, Ellipsis), cls=Select))


def narrow(x: Tensor, dim: int, start, length: int) -> Tensor:
    """Elements ``start`` to ``start + length`` of dim ``dim`` (a view)."""
    if x._data.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, x._data.ndim)
    size = x._data.shape[d]
    start = int(start)
    length = int(length)
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(
            f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    key = _Key((slice(None),) * d + (slice(start, start + length),), cls=Slice)
    return Slice.apply(x, key)


_UNSIGNED = {n: np.dtype(f"u{n}") for n in (1, 2, 4, 8)}


def _out_of_range(idx: np.ndarray, size: int) -> bool:
    """Whether some index is outside [0, size): one reduction, as negative integers read as
    unsigned are huge."""
    if not idx.size:
        return False
    if idx.dtype.kind == "i":
        idx = idx.view(_UNSIGNED[idx.dtype.itemsize])
    return bool(idx.max() >= size)


def _index_tensor(index, fn: str) -> np.ndarray:
    if not isinstance(index, Tensor):
        raise TypeError(f"{fn}(): argument 'index' must be Tensor, not {type(index).__name__}")
    arr = index._data
    if arr.dtype.kind not in "iu" or arr.dtype == np.uint8:
        raise RuntimeError(f"{fn}(): Expected dtype int32 or int64 for index")
    return arr


def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries of ``x`` at positions ``index`` (a 1-D integer tensor) along ``dim``."""
    idx = _index_tensor(index, "index_select")
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = _wrap_dim(dim, x._data.ndim)
    size = x._data.shape[d] if x._data.ndim else 1
    idx = idx.reshape(-1)
    if _out_of_range(idx, size):
        if idx.min() < 0:
            raise RuntimeError(
                f"index_select(): negative index {int(idx.min())} given; index_select takes "
                "indices in [0, size) only (INDICES element is out of DATA bounds).")
        raise IndexError("index out of range in self")
    if x._data.ndim == 0:  # a 0-dim tensor: one index, a 0-dim result
        if idx.size != 1:
            raise RuntimeError(
                f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
        return IndexSelect.apply(x, _Key((Ellipsis,), (), IndexSelect))
    key = _Key(None, (slice(None),) * d + (idx,), IndexSelect, repeats=True)
    return IndexSelect.apply(x, key)


def _gather_key(x: Tensor, d: int, idx: np.ndarray, fn: str, src_shape=None) -> _Key:
    """The advanced key reading ``x`` at ``idx`` along ``d`` (identity along other dims)."""
    shape = x._data.shape
    if idx.ndim != len(shape):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for j in range(len(shape)):
        too_big = j != d and idx.shape[j] > shape[j]
        if too_big or (src_shape is not None and idx.shape[j] > src_shape[j]):
            if src_shape is not None:
                raise RuntimeError(
                    f"Expected index {list(idx.shape)} to be no larger than self {list(shape)} "
                    f"apart from dimension {d} and to be no larger size than src "
                    f"{list(src_shape)}")
            raise RuntimeError(
                f"Size does not match at dimension {j} expected index {list(idx.shape)} to be no "
                f"larger than self {list(shape)} apart from dimension {d}")
    size = shape[d]
    if _out_of_range(idx, size):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {size}")
    n = len(shape)
    adv = tuple(idx if j == d else
                np.arange(idx.shape[j]).reshape((-1,) + (1,) * (n - 1 - j))
                for j in range(n))
    return _Key(None, adv, Gather, repeats=True)


def gather(x: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j] = x[i][index[i][j]]`` for dim 1 (and likewise for other dims)."""
    idx = _index_tensor(index, "gather")
    d = _wrap_dim(dim, x._data.ndim)
    if x._data.ndim == 0:  # a 0-dim tensor: a 0-dim index, which must be 0
        if idx.ndim:
            raise RuntimeError(
                "Index tensor must have the same number of dimensions as input tensor")
        if int(idx) != 0:
            raise RuntimeError(f"index {int(idx)} is out of bounds for dimension 0 with size 1")
        return Gather.apply(x, _Key((Ellipsis,), (), Gather))
    return Gather.apply(x, _gather_key(x, d, idx, "gather"))


def take_along_dim(x: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """Pick values of ``x`` at ``indices`` along ``dim`` (other dims broadcast)."""
    idx = _index_tensor(indices, "take_along_dim")
    if dim is None:
        return take_along_dim(x.reshape(-1), indices.reshape(-1), 0)
    a = x._data
    if idx.ndim != a.ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {a.ndim} dimensions for input, and {idx.ndim} dimensions for "
            "indices")
    d = _wrap_dim(dim, a.ndim)
    x_shape = list(a.shape)
    i_shape = list(idx.shape)
    x_shape[d] = i_shape[d] = 1
    try:
        common = np.broadcast_shapes(tuple(x_shape), tuple(i_shape))
    except ValueError:
        raise RuntimeError(
            f"take_along_dim(): shapes {list(a.shape)} and {list(idx.shape)} do not broadcast "
            f"apart from dimension {d}") from None
    xs = common[:d] + (a.shape[d],) + common[d + 1:]
    is_ = common[:d] + (idx.shape[d],) + common[d + 1:]
    if xs != a.shape:
        x = x.expand(xs)
    idx = np.broadcast_to(idx, is_)
    if idx.size and idx.dtype.kind == "i" and idx.min() < 0:  # wraps, unlike gather
        idx = np.where(idx < 0, idx + a.shape[d], idx)
    return Gather.apply(x, _gather_key(x, d, idx, "take_along_dim"))


def _scatter_args(x: Tensor, dim: int, index: Tensor, src, fn: str):
    idx = _index_tensor(index, fn)
    d = _wrap_dim(dim, x._data.ndim)
    if isinstance(src, Tensor):
        if src._data.dtype != x._data.dtype:
            raise RuntimeError(f"{fn}(): Expected self.dtype to be equal to src.dtype")
        key = _gather_key(x, d, idx, fn, src._data.shape)
        if src._data.shape != idx.shape:  # only the part of src under index is used
            src = Slice.apply(src, _Key(tuple(slice(0, s) for s in idx.shape), cls=Slice))
    else:
        key = _gather_key(x, d, idx, fn)
    return key, src


def scatter(x: Tensor, dim: int, index: Tensor, src=None, *, value=None,
            reduce: str | None = None) -> Tensor:
    """A copy of x with ``src`` (a tensor or a number) written at ``index`` along ``dim``."""
    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is not supported; use scatter_add")
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() needs src (a tensor) or value (a number)")
    key, src = _scatter_args(x, dim, index, src, "scatter")
    cls = Scatter if isinstance(src, Tensor) else ScatterValue
    return cls.apply(x, src, key, False)


def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of x with ``src`` added at ``index`` along ``dim`` (repeats add up)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not {type(src).__name__}")
    key, src = _scatter_args(x, dim, index, src, "scatter_add")
    return ScatterAdd.apply(x, src, key, True)


def masked_fill(x: Tensor, mask: Tensor, value) -> Tensor:
    """A copy of x (broadcast with mask) with ``value`` wherever ``mask`` is True."""
    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype {got}")
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s).")
        return MaskedFillTensor.apply(x, mask, value)
    return MaskedFill.apply(x, mask, value)


def index_put(x: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """A copy of x with ``values`` written (or added) at ``x[indices]``."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): argument 'indices' must be a tuple of Tensors")
    key = parse_key(x, tuple(indices))
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put(): argument 'values' must be Tensor, not "
                        f"{type(values).__name__}")
    if values._data.dtype != x._data.dtype:
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got {x.dtype} for "
            f"the destination and {values.dtype} for the source.")
    return IndexPut.apply(x, values, key, bool(accumulate))


# ---- in-place variants ------------------------------------------------------------------------


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def index_put_(x: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    return _inplace.apply_inplace(x, lambda s, v: index_put(s, indices, v, accumulate), values)


def masked_fill_(x: Tensor, mask: Tensor, value) -> Tensor:
    if isinstance(mask, Tensor) and not _broadcasts_to(mask._data.shape, x._data.shape):
        raise RuntimeError(
            f"masked_fill_: mask of shape {list(mask.shape)} cannot be broadcast to the tensor's "
            f"shape {list(x.shape)}")
    return _inplace.apply_inplace(x, lambda s, v: masked_fill(s, mask, v), value)


def scatter_(x: Tensor, dim: int, index: Tensor, src=None, *, value=None,
             reduce: str | None = None) -> Tensor:
    return _inplace.apply_inplace(
        x, lambda s, v: scatter(s, dim, index, v, reduce=reduce),
        src if src is not None else value)


def scatter_add_(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    return _inplace.apply_inplace(x, lambda s, v: scatter_add(s, dim, index, v), src)


expose({
    "select": select, "narrow": narrow, "index_select": index_select, "gather": gather,
    "take_along_dim": take_along_dim, "scatter": scatter, "scatter_add": scatter_add,
    "masked_fill": masked_fill, "index_put": index_put,
})
expose({
    "__getitem__": getitem, "__setitem__": setitem, "index_put_": index_put_,
    "masked_fill_": masked_fill_, "scatter_": scatter_, "scatter_add_": scatter_add_,
}, function=False)
