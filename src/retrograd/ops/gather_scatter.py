"""The gather/scatter family: ``index_select``, ``gather``, ``take_along_dim``, ``scatter``,
``scatter_add``, ``masked_fill`` and ``index_put``, with their in-place variants.

Each is a read or a write through an advanced key (index_key.py), built here from the dim and
index tensor instead of parsed from ``x[key]``; see Note [Accumulating repeated indices] in
index_functions.py for the backward of repeated indices.
"""

from __future__ import annotations

import numpy as np

from ..autograd.forward_ad import linear_jvp
from ..autograd.function import Function
from ..tensor import Tensor, _wrap, _wrap_dim
from ._registry import expose
from .index_functions import Index, IndexPut, Slice
from .index_key import _Key, parse_key
from .inplace import apply_inplace, broadcasts_to

# ---- the Functions -----------------------------------------------------------------------------


class Gather(Index):
    """out[i][j] = x[i][index[i][j]] (for dim 1; a copy);  dx = zeros with grad added at index"""

    @staticmethod
    def forward(ctx, x, key):
        ctx.save_for_backward(x)  # only for its version check: PyTorch's gather saves its input
        return Index.forward(ctx, x, key)

    @staticmethod
    def backward(ctx, grad):
        ctx.saved_tensors  # noqa: B018  (raises if x was modified in place since forward)
        return Index.backward(ctx, grad)


class IndexSelect(Index):
    """out = x.index_select(dim, index) (a copy);  dx = zeros with grad added at index"""


class Scatter(IndexPut):
    """out = x with src written at index along dim;  dx = grad zeroed there, dsrc = gather"""


class ScatterValue(IndexPut):
    """out = x with a number written at index along dim;  dx = grad zeroed there"""

    node_name = "ScatterBackward1"


class ScatterAdd(IndexPut):
    """out = x with src added at index along dim;  dx = grad,  dsrc = grad gathered at index"""


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

    jvp = linear_jvp
    jvp_values = (2,)  # a number filled in has tangent 0


class MaskedFillTensor(MaskedFill):
    """out = where(mask, value, x) for a 0-dim tensor value;  as MaskedFill"""

    node_name = "MaskedFillBackward1"


# ---- the functions -----------------------------------------------------------------------------


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
    if x._data.ndim == 0 and idx.size != 1:
        raise RuntimeError(
            f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
    if _out_of_range(idx, size):
        # NOTE: PyTorch's error depends on its kernel: along dim 1 of a tensor of 2 or more dims
        # a RuntimeError naming the first bad index, else an IndexError
        if x._data.ndim > 1 and d == 1 or x._data.size == 0:  # (an empty source: also)
            bad = int(idx[(idx < 0) | (idx >= size)][0])
            raise RuntimeError(
                f"INDICES element is out of DATA bounds, id={bad} axis_dim={size}: "
                f"index_select takes indices in [0, {size}) along dim {d}.")
        raise IndexError(
            f"index out of range in self: index_select takes indices in [0, {size}) along dim "
            f"{d}.")
    if x._data.ndim == 0:  # a 0-dim tensor: one index, a 0-dim result
        return IndexSelect.apply(x, _Key((Ellipsis,), (), IndexSelect))
    key = _Key(None, (slice(None),) * d + (idx,), IndexSelect, repeats=True)
    return IndexSelect.apply(x, key)


def _gather_key(x: Tensor, d: int, idx: np.ndarray, src_shape=None) -> _Key:
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
    return Gather.apply(x, _gather_key(x, d, idx))


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
    return Gather.apply(x, _gather_key(x, d, idx))


def _scatter_check(shape: tuple, d: int, idx: np.ndarray, src_shape) -> None:
    """PyTorch's shape checks of scatter, with 0-d tensors counted as 1-d of size 1 (none when
    index is empty)."""
    if idx.size == 0:
        return
    n = max(len(shape), 1)
    if max(idx.ndim, 1) != n:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    ishape, xs = idx.shape or (1,), shape or (1,)
    wrong = any(j != d and ishape[j] > xs[j] for j in range(n))
    # PyTorch's order: src's sizes are read (an IndexError past its last dim) before its
    # number of dims is checked, unless index was already found too large for self
    for j in range(n if src_shape is not None and not wrong else 0):
        if ishape[j] > (src_shape[_wrap_dim(j, len(src_shape))] if src_shape else 1):
            wrong = True
            break
    if src_shape is not None and max(len(src_shape), 1) != n:
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    if wrong:
        raise RuntimeError(
            f"Expected index {list(idx.shape)} to be no larger than self {list(shape)} apart "
            f"from dimension {d}" + (f" and to be no larger size than src {list(src_shape)}"
                                     if src_shape is not None else ""))


def _scatter_args(x: Tensor, dim: int, index: Tensor, src, fn: str):
    idx = _index_tensor(index, fn)
    d = _wrap_dim(dim, x._data.ndim)
    tensor_src = isinstance(src, Tensor)
    if tensor_src and src._data.dtype != x._data.dtype:
        raise RuntimeError(f"{fn}(): Expected self.dtype to be equal to src.dtype")
    _scatter_check(x._data.shape, d, idx, src._data.shape if tensor_src else None)
    if idx.size == 0:  # nothing written: an empty key of x's rank
        idx = np.zeros((0,) * max(x._data.ndim, 1), dtype=np.int64)
    if tensor_src and src._data.ndim == 0:  # counted as 1-d of size 1, as PyTorch
        src = src.reshape(1)
    idx = idx.reshape(idx.shape or (1,))
    if tensor_src and idx.size == 0 and src._data.ndim != idx.ndim:  # (unchecked: any src)
        src = src.reshape(-1)[:0].reshape(idx.shape)
    if tensor_src:
        key = _gather_key(x, d, idx, src._data.shape)
        if src._data.shape != idx.shape:  # only the part of src under index is used
            src = Slice.apply(src, _Key(tuple(slice(0, s) for s in idx.shape), cls=Slice))
    else:
        key = _gather_key(x, d, idx)
    return key, src


def _scatter_0d(cls, x: Tensor, dim: int, index: Tensor, src, fn: str, accumulate: bool):
    """Scatter into x; a 0-d x is scattered into as a 1-d tensor of size 1."""
    if x._data.ndim == 0:
        if isinstance(src, Tensor) and src._data.dtype == x._data.dtype:  # (dtype checked below)
            _scatter_check((), 0, _index_tensor(index, fn), src._data.shape)
        return _scatter_0d(cls, x.reshape(1), dim, index, src, fn, accumulate).reshape(())
    key, src = _scatter_args(x, dim, index, src, fn)
    if cls is None:
        cls = Scatter if isinstance(src, Tensor) else ScatterValue
    return cls.apply(x, src, key, accumulate)


def scatter(x: Tensor, dim: int, index: Tensor, src=None, *, value=None,
            reduce: str | None = None) -> Tensor:
    """A copy of x with ``src`` (a tensor or a number) written at ``index`` along ``dim``."""
    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is not supported; use scatter_add")
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() needs src (a tensor) or value (a number)")
    return _scatter_0d(None, x, dim, index, src, "scatter", False)


def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of x with ``src`` added at ``index`` along ``dim`` (repeats add up)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not {type(src).__name__}")
    return _scatter_0d(ScatterAdd, x, dim, index, src, "scatter_add", True)


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


def index_put_(x: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    return apply_inplace(x, lambda s, v: index_put(s, indices, v, accumulate), values)


def masked_fill_(x: Tensor, mask: Tensor, value) -> Tensor:
    if isinstance(mask, Tensor) and not broadcasts_to(mask._data.shape, x._data.shape):
        raise RuntimeError(
            f"masked_fill_: mask of shape {list(mask.shape)} cannot be broadcast to the tensor's "
            f"shape {list(x.shape)}")
    return apply_inplace(x, lambda s, v: masked_fill(s, mask, v), value)


def scatter_(x: Tensor, dim: int, index: Tensor, src=None, *, value=None,
             reduce: str | None = None) -> Tensor:
    return apply_inplace(x, lambda s, v: scatter(s, dim, index, v, reduce=reduce),
                         src if src is not None else value)


def scatter_add_(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    return apply_inplace(x, lambda s, v: scatter_add(s, dim, index, v), src)


expose({
    "index_select": index_select, "gather": gather, "take_along_dim": take_along_dim,
    "scatter": scatter, "scatter_add": scatter_add, "masked_fill": masked_fill,
    "index_put": index_put,
})
expose({
    "index_put_": index_put_, "masked_fill_": masked_fill_, "scatter_": scatter_,
    "scatter_add_": scatter_add_,
}, function=False)
