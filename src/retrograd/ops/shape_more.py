"""More shape ops real programs use: roll and rot90, strided views (as_strided, unfold), joins
built on cat (hstack, vstack, ...), splits built on slices (tensor_split, hsplit, ...),
broadcasting helpers, repeat_interleave, meshgrid and friends, and the in-place shape changes
(``squeeze_``, ``unsqueeze_``, ``transpose_``, ``t_``).

Most are compositions of existing differentiable ops, chosen so that values, gradients and
node names are PyTorch's; the rest are Functions here.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from .. import grad_mode
from .._types import Size
from ..autograd.forward_ad import linear_jvp
from ..autograd.function import Function
from ..tensor import Tensor, _wrap, _wrap_dim
from . import shape as _shape
from ._registry import expose
from .index_functions import Slice
from .index_key import _Key
from .join import cat, stack

_state = grad_mode.state


# ---- Functions -------------------------------------------------------------------------------


class Roll(Function):
    """out = x shifted cyclically by ``shifts`` along ``dims`` (a copy);  dx = grad rolled back"""

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        a = x._data
        if dims is None:
            return np.roll(a.reshape(-1), shifts[0]).reshape(a.shape)
        return np.roll(a, shifts, dims)

    @staticmethod
    def backward(ctx, grad):
        return Roll.apply(grad, tuple(-s for s in ctx.shifts), ctx.dims), None, None

    jvp = linear_jvp


class Rot90(Function):
    """out = x rotated k quarter turns in the plane ``dims`` (a copy);  dx = grad turned back"""

    @staticmethod
    def forward(ctx, x, k, dims):
        ctx.k, ctx.dims = k, dims
        return np.rot90(x._data, k, axes=dims).copy()

    @staticmethod
    def backward(ctx, grad):
        return Rot90.apply(grad, -ctx.k, ctx.dims), None, None

    jvp = linear_jvp


def _positions(shape: tuple) -> np.ndarray:
    return np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64).reshape(shape)


def _scatter_back(grad: Tensor, where: np.ndarray, shape: tuple) -> Tensor:
    """zeros(shape) with grad's elements added at the flat positions ``where`` (same shape as
    grad); built from differentiable ops, so higher derivatives follow."""
    from .index_more import index_add

    n = int(np.prod(shape, dtype=np.int64))
    zeros = _wrap(np.zeros(n, grad._data.dtype))
    return index_add(zeros, 0, _wrap(where.reshape(-1)), grad.reshape(-1)).reshape(shape)


class NarrowCopy(Function):
    """out = a copy of x[..., start:start + length, ...];  dx = zeros with grad in that slice"""

    @staticmethod
    def forward(ctx, x, d, start, length):
        ctx.args = (x._data.shape, d, start, length)
        key = (slice(None),) * d + (slice(start, start + length),)
        return x._data[key].copy()

    @staticmethod
    def backward(ctx, grad):
        shape, d, start, length = ctx.args
        where = _positions(shape)[(slice(None),) * d + (slice(start, start + length),)]
        return _scatter_back(grad, where, shape), None, None, None

    jvp = linear_jvp


class Unfold(Function):
    """out = the windows of ``size`` elements every ``step`` along dim d, in a new last dim (a
    view);  dx = zeros with each window's grad added back at its place"""

    _is_view = True

    @staticmethod
    def forward(ctx, x, d, size, step):
        ctx.args = (x._data.shape, d, size, step)
        return _unfold_array(x._data, d, size, step)

    @staticmethod
    def backward(ctx, grad):
        shape, d, size, step = ctx.args
        where = _unfold_array(_positions(shape), d, size, step)
        return _scatter_back(grad, where, shape), None, None, None

    jvp = linear_jvp


def _unfold_array(a: np.ndarray, d: int, size: int, step: int) -> np.ndarray:
    if a.ndim == 0:
        return a.reshape(1)
    n = (a.shape[d] - size) // step + 1
    shape = a.shape[:d] + (n,) + a.shape[d + 1:] + (size,)
    strides = a.strides[:d] + (a.strides[d] * step,) + a.strides[d + 1:] + (a.strides[d],)
    return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=a.flags.writeable)


def _root_array(x: Tensor) -> np.ndarray:
    """The array of the memory x lives in (its base's, for a view)."""
    return (x._base if x._base is not None else x)._data


def _offset(x: Tensor) -> int:
    root = _root_array(x)
    if x._data.size == 0 or root.size == 0:
        return 0
    ptr = x._data.__array_interface__["data"][0]
    return (ptr - root.__array_interface__["data"][0]) // x._data.itemsize


def _storage_view(root: np.ndarray, size: tuple, stride: tuple, offset: int) -> np.ndarray:
    item = root.itemsize
    span = max((root.size and root.nbytes) // item, 0)
    need = offset + 1 + sum((s - 1) * st for s, st in zip(size, stride)) if all(size) else 0
    if need > span:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
            f"and itemsize {item} requiring a storage size of {need * item} are out of bounds "
            f"for storage of size {span * item}")
    flat = np.lib.stride_tricks.as_strided(root, (span,), (item,),
                                           writeable=root.flags.writeable)
    return np.lib.stride_tricks.as_strided(flat[offset:], size, tuple(s * item for s in stride),
                                           writeable=root.flags.writeable)


class AsStrided(Function):
    """out = the elements of x's memory at ``offset + sum(i_k * stride_k)`` (a view);
    dx = zeros with grad added at the places each output element read"""

    _is_view = True

    @staticmethod
    def forward(ctx, x, size, stride, offset):
        root = _root_array(x)
        ctx.args = (x._data.shape, x._data.strides, x._data.itemsize, _offset(x), size, stride,
                    offset)
        return _storage_view(root, size, stride, offset)

    @staticmethod
    def backward(ctx, grad):
        shape, strides, item, x_off, size, stride, offset = ctx.args
        out_at = offset + sum(np.arange(s).reshape((-1,) + (1,) * (len(size) - 1 - k)) * st
                              for k, (s, st) in enumerate(zip(size, stride)))
        in_at = x_off + sum(np.arange(s).reshape((-1,) + (1,) * (len(shape) - 1 - k)) * (st // item)
                            for k, (s, st) in enumerate(zip(shape, strides)))
        out_at = np.broadcast_to(np.asarray(out_at, np.int64), size)
        in_at = np.broadcast_to(np.asarray(in_at, np.int64), shape)
        n = int(max(out_at.max(initial=0), in_at.max(initial=0))) + 1
        storage = _scatter_back(grad, out_at, (n,))
        return storage[_wrap(np.ascontiguousarray(in_at))], None, None, None

    jvp = linear_jvp


# ---- the functions users call ----------------------------------------------------------------


def roll(x: Tensor, shifts, dims=None) -> Tensor:
    """Shift the elements cyclically along ``dims`` (flattened when dims is None); a copy."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(
                f"roll: shifts must have one element when dims is not given, got {len(shifts)}")
        return Roll.apply(x, shifts, None)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    dims = tuple(_wrap_dim(d, x._data.ndim) for d in dims)
    return Roll.apply(x, shifts, dims)


def rot90(x: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by k * 90 degrees from the first toward the second of ``dims``; a copy."""
    dims = tuple(dims)
    n = x._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if n < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {n}")
    d0, d1 = _wrap_dim(dims[0], n), _wrap_dim(dims[1], n)
    if d0 == d1:
        raise RuntimeError(
            f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    return Rot90.apply(x, int(k) % 4, (d0, d1))


def narrow_copy(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """A copy of ``x.narrow(dim, start, length)``."""
    view = x.narrow(dim, start, length)  # (PyTorch's checks and errors)
    d = _wrap_dim(dim, x._data.ndim)
    start = int(start) + (x._data.shape[d] if int(start) < 0 else 0)
    del view
    return NarrowCopy.apply(x, d, start, int(length))


def unfold(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """All windows of ``size`` elements taken every ``step`` along ``dimension``, in a new last
    dim (a view)."""
    a = x._data
    d = _wrap_dim(dimension, a.ndim)
    n = a.shape[d] if a.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return Unfold.apply(x, d, int(size), int(step))


def as_strided(x: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """A view of x's memory with the given sizes and strides (in elements), starting
    ``storage_offset`` elements into it (x's own offset by default)."""
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: got {len(size)} sizes and "
                           f"{len(stride)} strides")
    if any(s < 0 for s in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    offset = _offset(x) if storage_offset is None else int(storage_offset)
    return AsStrided.apply(x, size, stride, offset)


def type_as(x: Tensor, other: Tensor) -> Tensor:
    """x converted to other's dtype (x itself when they match)."""
    return x.to(other.dtype)


# ---- joins and splits -----------------------------------------------------------------------


def _tensors(args, fn: str) -> tuple:
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        return tuple(args[0])
    return tuple(args)


def _atleast(args, fn):
    single = len(args) == 1 and isinstance(args[0], Tensor)
    outs = tuple(fn(t) for t in _tensors(args, ""))
    return outs[0] if single else outs


def _at1(t: Tensor) -> Tensor:
    return t.reshape(1) if t._data.ndim == 0 else t


def _at2(t: Tensor) -> Tensor:
    return t.reshape(1, -1) if t._data.ndim < 2 else t


def _at3(t: Tensor) -> Tensor:
    n = t._data.ndim
    if n == 0:
        return t.reshape(1, 1, 1)
    if n == 1:
        return t.unsqueeze(0).unsqueeze(-1)
    return t.unsqueeze(-1) if n == 2 else t


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (a 0-dim one becomes shape (1,))."""
    return _atleast(tensors, _at1)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims (new dims in front)."""
    return _atleast(tensors, _at2)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims (a matrix gains a last dim, as in NumPy)."""
    return _atleast(tensors, _at3)


def _seq(tensors, fn: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{fn}(): argument 'tensors' must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{fn} expects a non-empty TensorList")
    return list(tensors)


def hstack(tensors) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors)."""
    ts = [_at1(t) for t in _seq(tensors, "hstack")]
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Join along dim 0, after making each at least 2-D."""
    return cat([_at2(t) for t in _seq(tensors, "vstack")], 0)


def dstack(tensors) -> Tensor:
    """Join along dim 2, after making each at least 3-D."""
    return cat([_at3(t) for t in _seq(tensors, "dstack")], 2)


def column_stack(tensors) -> Tensor:
    """Join along dim 1; 0-D and 1-D tensors become columns."""
    ts = [t.reshape(-1, 1) if t._data.ndim <= 1 else t for t in _seq(tensors, "column_stack")]
    return cat(ts, 1)


def _slice(x: Tensor, d: int, start: int, stop: int) -> Tensor:
    key = _Key((slice(None),) * d + (slice(start, stop),), cls=Slice)
    return Slice.apply(x, key)


def tensor_split(x: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Split x along ``dim`` into n nearly equal views (the first ``size % n`` one longer), or
    at the given indices."""
    if x._data.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = _wrap_dim(dim, x._data.ndim)
    size = x._data.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios._data.dtype.kind not in "iu":
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have "
                               f"integral dtype, but got {ios.dtype}")
        if ios._data.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               f"zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {ios._data.ndim} dims")
        ios = int(ios._data) if ios._data.ndim == 0 else ios._data.tolist()
    if isinstance(ios, (int, np.integer)):
        n = int(ios)
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        q, r = divmod(size, n)
        bounds = [0]
        for i in range(n):
            bounds.append(bounds[-1] + q + (1 if i < r else 0))
    else:
        bounds = [0] + [int(i) for i in ios] + [size]
    outs = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        a = min(max(a + size if a < 0 else a, 0), size)
        b = min(max(b + size if b < 0 else b, 0), size)
        outs.append(_slice(x, d, a, max(a, b)))
    return tuple(outs)


def _split_at(x: Tensor, sections, dim: int, fn: str, need: int) -> tuple:
    if x._data.ndim < need:
        raise RuntimeError(
            f"torch.{fn} requires a tensor with at least {need} dimension, but got a tensor "
            f"with {x._data.ndim} dimensions!")
    if isinstance(sections, (int, np.integer)):
        size = x._data.shape[dim]
        if sections == 0 or size % sections:
            raise RuntimeError(
                f"torch.{fn} attempted to split along dimension {dim}, but the size of the "
                f"dimension {size} is not divisible by the split_size {sections}!")
    return tensor_split(x, sections, dim)


def hsplit(x: Tensor, sections) -> tuple:
    """Split along dim 1 (dim 0 for a 1-D tensor): into equal parts or at indices."""
    return _split_at(x, sections, 1 if x._data.ndim > 1 else 0, "hsplit", 1)


def vsplit(x: Tensor, sections) -> tuple:
    """Split along dim 0: into equal parts or at indices."""
    return _split_at(x, sections, 0, "vsplit", 2)


def dsplit(x: Tensor, sections) -> tuple:
    """Split along dim 2: into equal parts or at indices."""
    return _split_at(x, sections, 2, "dsplit", 3)


# ---- broadcasting ----------------------------------------------------------------------------


def broadcast_shapes(*shapes) -> Size:
    """The shape tensors of ``shapes`` broadcast to (RuntimeError if they cannot)."""
    norm = [(s,) if isinstance(s, int) else tuple(int(i) for i in s) for s in shapes]
    try:
        return Size(np.broadcast_shapes(*norm))
    except ValueError:
        raise RuntimeError(
            f"Shape mismatch: objects cannot be broadcast to a single shape: "
            f"{', '.join(str(list(s)) for s in norm)}") from None


def broadcast_to(x: Tensor, *size) -> Tensor:
    """x expanded to ``size`` (a view; -1 keeps a size)."""
    return _shape.expand(x, *size)


def broadcast_tensors(*tensors) -> tuple:
    """The tensors expanded to their common broadcast shape (views)."""
    ts = _tensors(tensors, "broadcast_tensors")
    shape = broadcast_shapes(*(t._data.shape for t in ts))
    return tuple(_shape.expand(t, shape) for t in ts)


# ---- repeats and grids ------------------------------------------------------------------------


def repeat_interleave(x, repeats=None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each element (or each slice along ``dim``) ``repeats`` times (an int, or one count
    per element); ``repeat_interleave(counts)`` alone repeats the indices 0, 1, ..."""
    if repeats is None:  # torch.repeat_interleave(repeats)
        counts = x
        if counts._data.ndim != 1 or counts._data.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if counts._data.size and counts._data.min() < 0:
            raise RuntimeError("repeats can not be negative")
        return _wrap(np.repeat(np.arange(counts._data.size, dtype=counts._data.dtype),
                               counts._data))
    if dim is None:
        x = x.reshape(-1)
        d = 0
    else:
        d = _wrap_dim(dim, x._data.ndim)
    if x._data.ndim == 0:
        x = x.reshape(1)
    n = x._data.shape[d]
    if isinstance(repeats, Tensor):
        r = repeats._data
        if r.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if r.dtype.kind not in "iu":
            raise RuntimeError("repeats has to be Long or Int tensor")
        if r.size == 1:
            repeats = int(r.reshape(()))
        else:
            if r.shape[0] != n:
                raise RuntimeError(
                    f"repeats must have the same size as input along dim, but got "
                    f"repeats.size(0) = {r.shape[0]} and input.size({d}) = {n}")
            if r.size and r.min() < 0:
                raise RuntimeError("repeats can not be negative")
            idx = np.repeat(np.arange(n, dtype=np.int64), r)
            return x.index_select(d, _wrap(idx))
    k = int(repeats)
    if k < 0:
        raise RuntimeError("repeats can not be negative")
    shape = x._data.shape
    out = x.unsqueeze(d + 1).expand(shape[:d + 1] + (k,) + shape[d + 1:]).contiguous()
    return out.view(shape[:d] + (n * k,) + shape[d + 1:])


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Grids of coordinates: output i varies along dim i with the values of tensor i ('ij'), or
    with the first two dims swapped ('xy', as NumPy)."""
    ts = _tensors(tensors, "meshgrid")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: '
                           f"{indexing}")
    if not ts:
        raise RuntimeError("torch.meshgrid expects a non-empty TensorList")
    for t in ts:
        if t._data.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {t}")
    sizes = [max(t._data.size, 1) if t._data.ndim == 0 else t._data.shape[0] for t in ts]
    pos = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        pos[0], pos[1] = 1, 0
    full = [0] * len(ts)
    for i, s in enumerate(sizes):
        full[pos[i]] = s
    outs = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[pos[i]] = -1
        outs.append(t.reshape(view).expand(full))
    return tuple(outs)


def cartesian_prod(*tensors) -> Tensor:
    """All tuples of one element from each 1-D tensor, as rows (the tensor itself for one)."""
    ts = _tensors(tensors, "cartesian_prod")
    for t in ts:
        if t._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._data.shape)}")
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def combinations(x: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """All length-r combinations of the elements of a 1-D tensor, as rows."""
    if x._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(x._data.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _wrap(np.zeros(0, x._data.dtype))
    make = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    rows = np.array(list(make(range(x._data.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return stack([x.index_select(0, _wrap(np.ascontiguousarray(rows[:, j])))
                  for j in range(r)], 1)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """The (row, col) indices of the upper triangle of a row x col matrix, as a 2 x N tensor."""
    return _tri_indices(np.triu_indices, row, col, offset, dtype)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """The (row, col) indices of the lower triangle of a row x col matrix, as a 2 x N tensor."""
    return _tri_indices(np.tril_indices, row, col, offset, dtype)


def _tri_indices(fn, row, col, offset, dtype) -> Tensor:
    from .. import dtypes as _dt

    np_dtype = np.int64 if dtype is None else _dt.to_dtype(dtype).np
    if row < 0 or col < 0:
        raise RuntimeError(f"row must be non-negative, got{row}" if row < 0
                           else f"col must be non-negative, got{col}")
    r, c = fn(row, offset, col)
    return _wrap(np.stack([r, c]).astype(np_dtype).reshape(2, -1))


# ---- in-place shape changes -------------------------------------------------------------------


class _UnsqueezeInplace(_shape.Unsqueeze):
    node_name = "UnsqueezeBackward1"


class _SqueezeInplace(_shape.Squeeze):
    node_name = "SqueezeBackward3"


class _SqueezeDimInplace(_shape.Squeeze):
    node_name = "SqueezeBackward4"


class _SqueezeDimsInplace(_shape.Squeeze):
    node_name = "SqueezeBackward5"


class _TransposeInplace(_shape.Transpose):
    node_name = "TransposeBackward1"


class _TInplace(_shape.T):
    node_name = "TBackward1"


_VIEW_ATTRS = ("_base", "_view_src", "_view_fn", "_fn_version", "_no_grad_view", "_output_nr")


def _reshape_inplace(x: Tensor, cls, *args) -> Tensor:
    """x takes the shape (and history) of ``cls(x, *args)``, a view of x: PyTorch's in-place
    shape changes, which keep x's memory and bump its version."""
    if _state.enabled and x.grad_fn is None and x._requires_grad:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation. Do the "
            "update under `with torch.no_grad():`, or use the out-of-place op.")
    old = Tensor.__new__(Tensor)
    old._data, old._requires_grad = x._data, x._requires_grad
    old._grad_fn, old._version_counter = x._grad_fn, x._version_counter
    old.__dict__.update(x.__dict__)
    if old._version_counter is None:
        old._version_counter = x._version_counter = [0]
    y = cls.apply(old, *args)
    x._data = y._data
    x._requires_grad = y._requires_grad
    if x._fw_grad is not None:  # the tangent changes shape with x
        x._fw_grad = y._fw_grad
    if x._base is None:  # x stays a base: it takes the node as its own grad_fn
        x._grad_fn = y.grad_fn
        x._output_nr = y._output_nr
    else:  # x stays a view of the same base, one view op further
        for name in _VIEW_ATTRS:
            if name in y.__dict__:
                setattr(x, name, y.__dict__[name])
        x._base = old._base
    x._bump_version()
    if x._base is not None:  # (its memory did not change: its grad_fn stays current)
        x._fn_version = x._version_counter[0]
    return x


def unsqueeze_(x: Tensor, dim: int) -> Tensor:
    return _reshape_inplace(x, _UnsqueezeInplace, _wrap_dim(dim, x._data.ndim + 1))


def squeeze_(x: Tensor, dim=None) -> Tensor:
    shape = x._data.shape
    if dim is None:
        return _reshape_inplace(x, _SqueezeInplace, tuple(i for i, s in enumerate(shape)
                                                          if s == 1))
    if isinstance(dim, int):
        d = _wrap_dim(dim, len(shape))
        return _reshape_inplace(x, _SqueezeDimInplace, (d,) if shape and shape[d] == 1 else ())
    dims = _shape.unique_dims(dim, len(shape))
    return _reshape_inplace(x, _SqueezeDimsInplace,
                            tuple(d for d in dims if shape and shape[d] == 1))


def transpose_(x: Tensor, dim0: int, dim1: int) -> Tensor:
    n = x._data.ndim
    return _reshape_inplace(x, _TransposeInplace, _wrap_dim(dim0, n), _wrap_dim(dim1, n))


def t_(x: Tensor) -> Tensor:
    if x._data.ndim > 2:
        raise RuntimeError(
            f"t_() expects a tensor with <= 2 dimensions, but self is {x._data.ndim}D")
    return _reshape_inplace(x, _TInplace)


expose({
    "roll": roll, "rot90": rot90, "narrow_copy": narrow_copy, "as_strided": as_strided,
    "tensor_split": tensor_split, "hsplit": hsplit, "vsplit": vsplit, "dsplit": dsplit,
    "broadcast_to": broadcast_to, "repeat_interleave": repeat_interleave,
})
expose({
    "atleast_1d": atleast_1d, "atleast_2d": atleast_2d, "atleast_3d": atleast_3d,
    "hstack": hstack, "vstack": vstack, "row_stack": vstack, "dstack": dstack,
    "column_stack": column_stack, "broadcast_shapes": broadcast_shapes,
    "broadcast_tensors": broadcast_tensors, "meshgrid": meshgrid,
    "cartesian_prod": cartesian_prod, "combinations": combinations,
    "triu_indices": triu_indices, "tril_indices": tril_indices,
}, method=False)
expose({
    "unfold": unfold, "type_as": type_as, "unsqueeze_": unsqueeze_, "squeeze_": squeeze_,
    "transpose_": transpose_, "t_": t_,
}, function=False)
