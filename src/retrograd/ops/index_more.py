"""More selection and indexed writes: nonzero/argwhere, masked_select/masked_scatter,
index_add/index_copy/index_fill, take/put, scatter_reduce, unique, isin and fill_diagonal_.

Writes along a dim (``index_add`` and friends) address the slices ``x.select(dim, index[i])``;
their backward reads those slices back with ``index_select``. Repeated indices add up in
``index_add`` and ``put(accumulate=True)``; elsewhere the last write wins, as on PyTorch's CPU.
"""

from __future__ import annotations

import numpy as np

from ..autograd.forward_ad import linear_jvp
from ..autograd.function import Function
from ..tensor import Tensor, _wrap, _wrap_dim
from ._registry import expose
from .gather_scatter import _index_tensor, _out_of_range, _scatter_check
from .inplace import apply_inplace

# ---- helpers ---------------------------------------------------------------------------------


def _along(a: np.ndarray, d: int) -> np.ndarray:
    """``a`` with dim d first (a view), or a 1-element view of a 0-d array."""
    return np.moveaxis(a, d, 0) if a.ndim else a.reshape(1)


def _dim_index(x: Tensor, dim: int, index: Tensor, fn: str) -> tuple:
    """The wrapped dim and the 1-D index array of an ``index_*`` op, checked."""
    idx = _index_tensor(index, fn)
    if idx.ndim > 1:
        raise IndexError(f"{fn}(): Index is supposed to be a vector")
    d = _wrap_dim(dim, x._data.ndim)
    size = x._data.shape[d] if x._data.ndim else 1
    idx = idx.reshape(-1)
    if _out_of_range(np.where(idx < 0, idx + size, idx) if idx.dtype.kind == "i" else idx,
                     size):
        bad = int(idx[(idx >= size) | (idx < -size)][0])
        raise IndexError(f"index out of range in self: {fn} got index {bad} for a dim of size "
                         f"{size}")
    return d, np.where(idx < 0, idx + size, idx).astype(np.int64)


def _source_check(x: Tensor, d: int, idx: np.ndarray, src: Tensor, fn: str) -> None:
    if not isinstance(src, Tensor):
        raise TypeError(f"{fn}(): argument 'source' must be Tensor, not {type(src).__name__}")
    xs, ss = x._data.shape, src._data.shape
    want = xs[:d] + (idx.size,) + xs[d + 1:] if xs else ((idx.size,) if ss else ())
    if ss != want and not (not xs and src._data.size == idx.size == 1):
        raise RuntimeError(
            f"{fn}(): source of shape {list(ss)} does not match the self shape {list(xs)} with "
            f"dim {d} of size {idx.size} (the number of indices); expected {list(want)}")
    if src._data.dtype != x._data.dtype:
        raise RuntimeError(f"{fn}_(): self ({x.dtype}) and source ({src.dtype}) must have the "
                           "same scalar type")


# ---- index_add / index_copy / index_fill ---------------------------------------------------------


class IndexAdd(Function):
    """out = x with alpha * source's slices added at ``index`` along d (repeats add up);
    dx = grad,  dsource = alpha * grad.index_select(d, index)"""

    @staticmethod
    def forward(ctx, x, d, idx, src, alpha):
        ctx.d, ctx.idx, ctx.alpha = d, idx, alpha
        out = x._data.copy()
        s = src._data if alpha == 1 else src._data * np.asarray(alpha, src._data.dtype)
        np.add.at(_along(out, d), idx, s.reshape(1) if out.ndim == 0 else _along(s, d))
        return out

    @staticmethod
    def backward(ctx, grad):
        gs = None
        if ctx.needs_input_grad[3]:
            gs = _select_rows(grad, ctx.d, ctx.idx)
            if ctx.alpha != 1:
                gs = gs * ctx.alpha
        return grad, None, None, gs, None

    jvp = linear_jvp


def _select_rows(grad: Tensor, d: int, idx: np.ndarray) -> Tensor:
    if grad._data.ndim == 0:
        return grad.reshape(1)[_wrap(idx)].reshape(()) if idx.size == 1 else grad
    return grad.index_select(d, _wrap(idx))


class IndexCopy(Function):
    """out = x with source's slices written at ``index`` along d;
    dx = grad with those slices zeroed,  dsource = grad.index_select(d, index)"""

    @staticmethod
    def forward(ctx, x, d, idx, src):
        ctx.d, ctx.idx = d, idx
        out = x._data.copy()
        s = src._data
        _along(out, d)[idx] = s.reshape(1) if out.ndim == 0 else _along(s, d)
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = IndexFill.apply(grad, ctx.d, ctx.idx, 0) if ctx.needs_input_grad[0] else None
        gs = _select_rows(grad, ctx.d, ctx.idx) if ctx.needs_input_grad[3] else None
        return gx, None, None, gs

    jvp = linear_jvp


class IndexFill(Function):
    """out = x with ``value`` in the slices at ``index`` along d;
    dx = grad with those slices zeroed,  dvalue = sum of grad there"""

    @staticmethod
    def forward(ctx, x, d, idx, value):
        ctx.d, ctx.idx = d, idx
        out = x._data.copy()
        v = value._data if isinstance(value, Tensor) else value
        _along(out, d)[idx] = np.asarray(v).astype(out.dtype)
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = IndexFill.apply(grad, ctx.d, ctx.idx, 0) if ctx.needs_input_grad[0] else None
        gv = None
        if ctx.needs_input_grad[3]:  # (each filled slice once, however often it is named)
            gv = _select_rows(grad, ctx.d, np.unique(ctx.idx)).sum()
        return gx, None, None, gv

    jvp = linear_jvp
    jvp_values = (3,)


class IndexFillTensor(IndexFill):
    """out = x with a 0-dim tensor ``value`` in the slices at ``index``;  as IndexFill"""

    node_name = "IndexFillBackward1"
    jvp_values = ()


def index_add(x: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of x with ``alpha * source`` added at ``index`` along ``dim``."""
    d, idx = _dim_index(x, dim, index, "index_add")
    _source_check(x, d, idx, source, "index_add")
    return IndexAdd.apply(x, d, idx, source, alpha)


def index_copy(x: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of x with source's slices written at ``index`` along ``dim``."""
    d, idx = _dim_index(x, dim, index, "index_copy")
    _source_check(x, d, idx, source, "index_copy")
    return IndexCopy.apply(x, d, idx, source)


def index_fill(x: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """A copy of x with ``value`` (a number or 0-dim tensor) at ``index`` along ``dim``."""
    d, idx = _dim_index(x, dim, index, "index_fill")
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                "index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s).")
        return IndexFillTensor.apply(x, d, idx, value)
    return IndexFill.apply(x, d, idx, value)


# ---- masks -------------------------------------------------------------------------------------


def _bool_mask(mask, fn: str) -> np.ndarray:
    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"{fn}: expected BoolTensor for mask, got {got}")
    return mask._data


class MaskedSelect(Function):
    """out = the elements of x (broadcast with mask) where mask is True, as a 1-D tensor;
    dx = zeros with grad scattered back to those places"""

    @staticmethod
    def forward(ctx, x, mask):
        shape = np.broadcast_shapes(x._data.shape, mask.shape)
        ctx.mask = np.broadcast_to(mask, shape)
        return np.broadcast_to(x._data, shape)[ctx.mask]

    @staticmethod
    def backward(ctx, grad):
        zeros = _wrap(np.zeros(ctx.mask.shape, grad._data.dtype))
        return MaskedScatter.apply(zeros, ctx.mask, grad), None

    jvp = linear_jvp


class MaskedScatter(Function):
    """out = x (broadcast with mask) with source's first elements written, in order, where
    mask is True;  dx = grad with those places zeroed,  dsource = grad there, then zeros"""

    @staticmethod
    def forward(ctx, x, mask, src):
        shape = np.broadcast_shapes(x._data.shape, mask.shape)
        mask = np.broadcast_to(mask, shape)
        count = int(mask.sum())
        if count > src._data.size:
            raise RuntimeError("masked_scatter: expected source to have at least as many "
                               f"elements as the ones in mask ({count}), got {src._data.size}")
        ctx.mask, ctx.count, ctx.src_shape = mask, count, src._data.shape
        out = np.array(np.broadcast_to(x._data, shape))
        out[mask] = src._data.reshape(-1)[:count]
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = grad.masked_fill(_wrap(ctx.mask), 0)
        if ctx.needs_input_grad[2]:
            picked = MaskedSelect.apply(grad, ctx.mask)
            n = int(np.prod(ctx.src_shape, dtype=np.int64))
            rest = _wrap(np.zeros(n - ctx.count, grad._data.dtype))
            from .join import cat

            gs = cat([picked, rest]).reshape(ctx.src_shape)
        return gx, None, gs

    jvp = linear_jvp


def masked_select(x: Tensor, mask: Tensor) -> Tensor:
    """The elements of x where ``mask`` (broadcast with x) is True, as a 1-D tensor."""
    m = _bool_mask(mask, "masked_select")
    try:
        np.broadcast_shapes(x._data.shape, m.shape)
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({list(x._data.shape)}) must match the size of "
                           f"tensor b ({list(m.shape)}); masked_select broadcasts the mask with "
                           "the tensor.") from None
    return MaskedSelect.apply(x, m)


def masked_scatter(x: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of x with source's elements written, in order, where ``mask`` is True."""
    m = _bool_mask(mask, "masked_scatter_")
    if not isinstance(source, Tensor):
        raise TypeError(f"masked_scatter(): argument 'source' must be Tensor, not "
                        f"{type(source).__name__}")
    if source._data.dtype != x._data.dtype:
        raise RuntimeError(f"masked_scatter_: expected self and source to have same dtypes but "
                           f"got {x.dtype} and {source.dtype}")
    return MaskedScatter.apply(x, m, source)


def masked_scatter_(x: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    return apply_inplace(x, lambda s, v: masked_scatter(s, mask, v), source)


# ---- nonzero, take and put ------------------------------------------------------------------


def nonzero(x: Tensor, *, as_tuple: bool = False):
    """The indices of the nonzero elements: an N x ndim int64 tensor, or (as_tuple) one 1-D
    tensor per dim."""
    a = x._data
    if as_tuple:
        return tuple(_wrap(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(a)))
    return _wrap(np.argwhere(a).astype(np.int64))


def argwhere(x: Tensor) -> Tensor:
    """The indices of the nonzero elements, as an N x ndim int64 tensor."""
    return nonzero(x)


def _flat_index(x: Tensor, index: Tensor, fn: str) -> np.ndarray:
    idx = _index_tensor(index, fn).astype(np.int64)
    n = x._data.size
    bad = (idx >= n) | (idx < -n)
    if bad.any():
        raise IndexError(f"out of range: tried to access index {int(idx[bad][0])} on a tensor "
                         f"of {n} elements.")
    return np.where(idx < 0, idx + n, idx)


class Take(Function):
    """out = x.flatten()[index] (shaped like index);  dx = zeros with grad added at index"""

    @staticmethod
    def forward(ctx, x, idx):
        ctx.idx, ctx.shape = idx, x._data.shape
        return x._data.reshape(-1)[idx]

    @staticmethod
    def backward(ctx, grad):
        zeros = _wrap(np.zeros(ctx.shape, grad._data.dtype))
        return Put.apply(zeros, ctx.idx, grad, True), None

    jvp = linear_jvp


class Put(Function):
    """out = x with source written (or added) at the flat positions index;
    dx = grad (with those places zeroed unless adding),  dsource = grad.take(index)"""

    @staticmethod
    def forward(ctx, x, idx, src, accumulate):
        ctx.idx, ctx.accumulate, ctx.src_shape = idx, accumulate, src._data.shape
        out = x._data.copy()
        flat = out.reshape(-1)
        s = src._data.reshape(-1)
        if accumulate:
            np.add.at(flat, idx.reshape(-1), s)
        else:
            flat[idx.reshape(-1)] = s
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = grad
            if not ctx.accumulate:
                zeros = _wrap(np.zeros(ctx.idx.shape, grad._data.dtype))
                gx = Put.apply(grad, ctx.idx, zeros, False)
        if ctx.needs_input_grad[2]:
            gs = Take.apply(grad, ctx.idx).reshape(ctx.src_shape)
        return gx, None, gs, None

    jvp = linear_jvp


def take(x: Tensor, index: Tensor) -> Tensor:
    """The elements of x, read as 1-D, at ``index`` (shaped like index)."""
    return Take.apply(x, _flat_index(x, index, "take"))


def put(x: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of x with source written (or added) at the flat positions ``index``."""
    idx = _flat_index(x, index, "put")
    if not isinstance(source, Tensor):
        raise TypeError(f"put(): argument 'source' must be Tensor, not {type(source).__name__}")
    if source._data.size != idx.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {source._data.size}, "
                           f"index.numel() = {idx.size}")
    if source._data.dtype != x._data.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {x.dtype} and source.dtype = {source.dtype}")
    return Put.apply(x, idx, source, bool(accumulate))


# ---- scatter_reduce ----------------------------------------------------------------------------

_IDENTITY = {"sum": 0, "mean": 0, "prod": 1, "amax": -np.inf, "amin": np.inf}
_UFUNC = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
          "amin": np.minimum}


def _scatter_positions(x_shape, d: int, idx: np.ndarray) -> tuple:
    n = idx.ndim
    return tuple(idx if j == d else np.arange(idx.shape[j]).reshape(
        (-1,) + (1,) * (n - 1 - j)) for j in range(n))


class ScatterReduce(Function):
    """out = x with src's elements combined (sum, prod, mean, amax, amin) into the places
    ``index`` names along d, x's own value included unless ``include_self`` is False;
    dx and dsrc follow each reduction (see backward)"""

    @staticmethod
    def forward(ctx, x, d, idx, src, reduce, include_self):
        a = x._data
        pos = _scatter_positions(a.shape, d, idx)
        s = src._data[tuple(slice(0, k) for k in idx.shape)]
        out = a.copy()
        hit = np.zeros(a.shape, np.int64)
        np.add.at(hit, pos, 1)
        if not include_self:
            ident = _IDENTITY[reduce]
            if a.dtype.kind != "f" and reduce in ("amax", "amin"):
                info = np.iinfo(a.dtype) if a.dtype.kind in "iu" else None
                ident = (info.min if reduce == "amax" else info.max) if info else ident
            out[hit > 0] = ident
        _UFUNC[reduce].at(out, pos, s)
        count = hit + (1 if include_self else 0)
        if reduce == "mean":
            c = np.maximum(count, 1)
            out = out / c if a.dtype.kind == "f" else out // c
            out = out.astype(a.dtype)
        ctx.args = (d, idx, reduce, include_self, pos, hit, count)
        ctx.save_for_backward(x, src)
        return out

    @staticmethod
    def backward(ctx, grad):
        d, idx, reduce, include_self, pos, hit, count = ctx.args
        x, src = ctx.saved_tensors
        from .gather_scatter import gather

        keep_x = _wrap(hit == 0) if not include_self else None
        g_idx = _wrap(idx)
        sub = tuple(slice(0, k) for k in idx.shape)
        if reduce == "sum":
            gx, gs = grad, gather(grad, d, g_idx)
        elif reduce == "mean":
            scaled = grad / _wrap(np.maximum(count, 1).astype(grad._data.dtype))
            gx = scaled if include_self else grad
            gs = gather(scaled, d, g_idx)
        elif reduce == "prod":
            gx, gs = _prod_grads(grad, x, src[sub], d, idx, pos, include_self, hit)
        else:  # amax / amin: the gradient is shared evenly among the values equal to out
            out = ScatterReduce.apply(x, d, idx, src, reduce, include_self).detach()
            s_eq = (src[sub] == gather(out, d, g_idx))._data
            x_eq = (x == out)._data & (include_self | (hit == 0))
            ties = x_eq.astype(np.int64)
            np.add.at(ties, pos, s_eq.astype(np.int64))
            share = grad / _wrap(np.maximum(ties, 1).astype(grad._data.dtype))
            gx = share * _wrap(x_eq.astype(grad._data.dtype))
            gs = gather(share, d, g_idx) * _wrap(s_eq.astype(grad._data.dtype))
        if keep_x is not None and reduce not in ("amax", "amin"):
            gx = gx * _wrap(keep_x._data.astype(grad._data.dtype))
        if gs is not None and gs._data.shape != src._data.shape:
            gs = _pad_to(gs, src._data.shape)
        return gx, None, None, gs, None, None

    @staticmethod
    def jvp(ctx, tx, _d, _idx, tsrc, *_):
        # each element of x and src reaches one place of out, so backward of ones gives its
        # weight d out / d element; out's tangent sums the weighted tangents into their places
        d, idx, reduce, include_self, pos, hit, count = ctx.args
        x = ctx.saved_tensors[0]
        gx, _, _, gs, _, _ = ScatterReduce.backward(ctx, _wrap(np.ones_like(x._data)))
        out = _wrap(np.zeros_like(x._data)) if tx is None else tx * gx
        if tsrc is not None:
            out = ScatterReduce.apply(out, d, idx, tsrc * gs, "sum", True)
        return out


def _prod_grads(grad, x, s, d, idx, pos, include_self, hit):
    """The gradients of a scatter product: each factor's is grad times the product of the
    other factors of its place. NOTE: zeros are handled apart (no division by them): with no
    zero at a place, that is out / factor; with one, only the zero factor gets the product of
    the others; with two or more, every factor gets 0."""
    from .elementwise import where
    from .gather_scatter import gather

    x_zero, s_zero = x._data == 0, s._data == 0
    zeros = (x_zero & (include_self | (hit == 0))).astype(np.int64)
    np.add.at(zeros, pos, s_zero.astype(np.int64))
    one = _wrap(np.ones((), x._data.dtype))
    x_nz, s_nz = where(_wrap(x_zero), one, x), where(_wrap(s_zero), one, s)
    rest = ScatterReduce.apply(x_nz, d, idx, s_nz, "prod", include_self)  # nonzero factors
    g_idx = _wrap(idx)
    none = _wrap(zeros == 0)
    gx = grad * where(none, rest / x_nz, rest * _wrap(((zeros == 1) & x_zero).astype(
        x._data.dtype)))
    at_s = gather(grad * rest, d, g_idx)
    s_none = _wrap(np.take_along_axis(zeros, idx, d) == 0) if idx.ndim else none
    s_one = (np.take_along_axis(zeros, idx, d) == 1) & s_zero
    gs = where(s_none, at_s / s_nz, at_s * _wrap(s_one.astype(s._data.dtype)))
    return gx, gs


def _pad_to(part: Tensor, shape: tuple) -> Tensor:
    """``part`` padded with zeros at the end of each dim up to ``shape`` (differentiable)."""
    from .join import cat

    out = part
    for j, n in enumerate(shape):
        extra = n - out._data.shape[j]
        if extra:
            pad = list(out._data.shape)
            pad[j] = extra
            out = cat([out, _wrap(np.zeros(pad, part._data.dtype))], j)
    return out


def scatter_reduce(x: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """A copy of x with src's elements reduced into the places ``index`` names along ``dim``
    (``reduce``: "sum", "prod", "mean", "amax" or "amin")."""
    if reduce not in _UFUNC:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    idx = _index_tensor(index, "scatter_reduce")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' must be Tensor, not "
                        f"{type(src).__name__}")
    if src._data.dtype != x._data.dtype:
        raise RuntimeError("scatter_reduce(): Expected self.dtype to be equal to src.dtype")
    a = x._data
    d = _wrap_dim(dim, a.ndim)
    _scatter_check(a.shape, d, idx, src._data.shape)  # (PyTorch's checks, in its order)
    if idx.ndim != a.ndim or idx.ndim != src._data.ndim:  # 0-d or empty ones it lets pass
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if _out_of_range(idx, a.shape[d] if a.ndim else 1):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size "
                           f"{a.shape[d]}")
    return ScatterReduce.apply(x, d, idx.astype(np.int64), src, reduce, bool(include_self))


# ---- in-place variants ------------------------------------------------------------------------


def index_add_(x, dim, index, source, *, alpha=1):
    return apply_inplace(x, lambda s, v: index_add(s, dim, index, v, alpha=alpha), source)


def index_copy_(x, dim, index, source):
    return apply_inplace(x, lambda s, v: index_copy(s, dim, index, v), source)


def index_fill_(x, dim, index, value):
    return apply_inplace(x, lambda s, v: index_fill(s, dim, index, v), value)


def put_(x, index, source, accumulate=False):
    return apply_inplace(x, lambda s, v: put(s, index, v, accumulate), source)


def scatter_reduce_(x, dim, index, src, reduce, *, include_self=True):
    return apply_inplace(
        x, lambda s, v: scatter_reduce(s, dim, index, v, reduce, include_self=include_self),
        src)


def fill_diagonal_(x: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """Write ``fill_value`` on the main diagonal (all indices equal), in place; with ``wrap``,
    a tall matrix's diagonal starts again after every ``cols + 1`` rows (as NumPy)."""
    a = x._data
    if a.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if a.ndim > 2 and len(set(a.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    n = min(a.shape)
    if a.ndim == 2 and wrap and a.shape[0] > a.shape[1] + 1:
        rows = [r for r in range(a.shape[0]) if r % (a.shape[1] + 1) < a.shape[1]]
        cols = [r % (a.shape[1] + 1) for r in rows]
        key = (_wrap(np.array(rows)), _wrap(np.array(cols)))
        return x.index_put_(key, _wrap(np.asarray(fill_value, a.dtype)))
    from .shape_more import as_strided

    step = sum(st // a.itemsize for st in a.strides)
    as_strided(x, (n,), (step,)).fill_(fill_value)
    return x


# ---- unique and isin -------------------------------------------------------------------------


# NOTE: PyTorch gives unique's values a grad_fn (Unique2Backward0, ...) whose backward raises;
# here they are plain tensors without history (the values carry no gradient either way).


def _results(x, values, inverse, counts, return_inverse, return_counts):
    out = _wrap(values)
    if not (return_inverse or return_counts):
        return out
    res = [out]
    if return_inverse:
        res.append(_wrap(inverse.astype(np.int64)))
    if return_counts:
        res.append(_wrap(counts.astype(np.int64)))
    return tuple(res)


def unique(x: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None):
    """The distinct values of x (or distinct slices along ``dim``), sorted; optionally the
    index of each element's value (``return_inverse``) and how often each occurs."""
    a = x._data
    if dim is None:
        vals, inv, cnt = np.unique(a.reshape(-1), return_inverse=True, return_counts=True)
        return _results(x, vals, inv.reshape(a.shape), cnt, return_inverse,
                        return_counts)
    d = _wrap_dim(dim, a.ndim)
    if a.shape[d] == 0 or a.size == 0:
        moved = np.moveaxis(a, d, 0)
        vals, inv, cnt = moved[:0], np.zeros(a.shape[d], np.int64), np.zeros(0, np.int64)
        return _results(x, np.moveaxis(vals, 0, d), inv, cnt, return_inverse,
                        return_counts)
    vals, inv, cnt = np.unique(a, return_inverse=True, return_counts=True, axis=d)
    return _results(x, vals, inv.reshape(-1), cnt, return_inverse, return_counts)


def unique_consecutive(x: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None):
    """x with each run of equal consecutive values (or slices along ``dim``) kept once."""
    a = x._data
    if dim is None:
        flat = a.reshape(-1)
        new = np.ones(flat.shape, bool)
        new[1:] = flat[1:] != flat[:-1]
        vals = flat[new]
        inv = (np.cumsum(new) - 1).reshape(a.shape)
    else:
        d = _wrap_dim(dim, a.ndim)
        moved = np.moveaxis(a, d, 0).reshape(a.shape[d], -1)
        new = np.ones(a.shape[d], bool)
        new[1:] = (moved[1:] != moved[:-1]).any(axis=1)
        vals = np.compress(new, a, axis=d)
        inv = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    cnt = np.diff(np.append(starts, new.size))
    return _results(x, vals, inv, cnt, return_inverse, return_counts)


def isin(elements, test_elements, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """A bool tensor shaped like ``elements``: True where the element occurs in
    ``test_elements`` (False there with ``invert``)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments: elements or "
                        "test_elements must be a Tensor")
    e = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return _wrap(np.isin(e, t, invert=invert))


expose({
    "nonzero": nonzero, "argwhere": argwhere, "masked_select": masked_select,
    "masked_scatter": masked_scatter, "index_add": index_add, "index_copy": index_copy,
    "index_fill": index_fill, "take": take, "put": put, "scatter_reduce": scatter_reduce,
    "unique": unique, "unique_consecutive": unique_consecutive, "isin": isin,
})
expose({
    "masked_scatter_": masked_scatter_, "index_add_": index_add_, "index_copy_": index_copy_,
    "index_fill_": index_fill_, "put_": put_, "scatter_reduce_": scatter_reduce_,
    "fill_diagonal_": fill_diagonal_,
}, function=False)
