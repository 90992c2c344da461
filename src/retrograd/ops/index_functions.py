"""The Functions of indexing: reading ``x[key]`` and writing ``x[key] = v`` through a parsed key
(a ``_Key``, see Note [Two-stage keys] in index_key.py), and the array kernels they run.

Note [Accumulating repeated indices]
    ``x[idx]`` with repeated indices sends several gradients to one element, so the backward
    of indexing adds into zeros with accumulation (``index_put(..., accumulate=True)``), never
    plain assignment. For many values it is done with ``np.bincount`` over linear indices,
    which is several times faster than ``np.add.at``; for a few values into a big tensor,
    ``np.add.at`` avoids touching every element.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from ..autograd.forward_ad import linear_jvp
from ..autograd.function import Function
from ..tensor import Tensor, _wrap

if TYPE_CHECKING:
    from .index_key import _Key

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
    """``a[key]``: a view for a basic key, a copy when there is an advanced part."""
    if key.basic is not None:
        a = a[key.basic]
    if key.adv is None:
        return a
    try:
        out = a[key.adv]
    except IndexError as e:
        raise _index_error(e, key) from None
    # (NumPy may lay the copy out in another order; PyTorch's is contiguous, so .view works)
    return out if out.flags.c_contiguous else out.copy(order="C")


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


# ---- reading: x[key] -------------------------------------------------------------------------


class _Read(Function):
    """out = x[key];  dx = zeros with grad put (added, where key repeats) at key"""

    @staticmethod
    def forward(ctx, x, key):
        a = x._data
        ctx.in_shape = a.shape
        ctx.key = key
        return _take(a, key)

    @staticmethod
    def backward(ctx, grad):
        if ctx.key.dense:
            return grad.reshape(ctx.in_shape), None
        return _PutIntoZeros.apply(grad, ctx.in_shape, ctx.key), None

    jvp = linear_jvp


class _BasicIndex(_Read):
    """out = x[key] for ints, slices and None (a view);  dx = zeros with grad put at key"""

    _is_view = True


class Select(_BasicIndex):
    """out = x[..., i, ...] (a view);  dx = zeros with grad at i"""


class Slice(_BasicIndex):
    """out = x[..., a:b:s, ...] (a view);  dx = zeros with grad in the slice"""


class IndexUnsqueeze(_BasicIndex):
    """out = x[..., None, ...] (a view);  dx = grad with the new dims dropped"""

    node_name = "UnsqueezeBackward0"


class Alias(_BasicIndex):
    """out = x[...] (a view of all of x);  dx = grad"""


class Index(_Read):
    """out = x[key] with index tensors or masks (a copy);  dx = zeros with grad added at key"""


def read(x: Tensor, key: _Key) -> Tensor:
    """``x[key]`` for an already parsed key, recorded with the key's Function."""
    return key.cls.apply(x, key)


# ---- writing: x[key] = v ---------------------------------------------------------------------


class _PutIntoZeros(Function):
    """out = zeros(shape) with v put at key (added up where key repeats);  dv = grad[key]"""

    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, v, shape, key):
        ctx.key = key
        data = v._data
        if data.__class__ is np.ndarray:
            out = np.zeros(shape, dtype=data.dtype)
        else:  # a vmap batch (func/_vmap.py): zeros for every sample
            out = np.zeros_like(data, shape=shape)
        _put(out, key, data, key.repeats)
        return out

    @staticmethod
    def backward(ctx, grad):
        return read(grad, ctx.key), None, None

    jvp = linear_jvp


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
        if need_x and ctx._function.overwrites_all and not ctx.accumulate:
            # NOTE: x is wholly overwritten: its gradient is constant zeros, as PyTorch's
            # (not grad * 0, which requires grad under create_graph and is NaN at inf)
            gx = _wrap(np.zeros_like(grad._data))
        elif need_x:
            gx = grad if ctx.accumulate else IndexPut.apply(grad, 0, key, False)
        if need_v:
            gv = read(grad, key)
            extra = ctx.v_ndim - gv._data.ndim
            if extra > 0:  # v had extra leading size-1 dims, which assignment drops
                gv = gv.reshape((1,) * extra + gv._data.shape)
        return gx, gv, None, None

    jvp = linear_jvp
    jvp_values = (1,)  # a number written (x[k] = 2.0) has tangent 0
    overwrites_all = False  # the key covers all of x (copy_, fill_, x[...] = v)


class IndexPutOnView(IndexPut):
    """out = x with v written at a key with a basic part (x[1:, 0] = v, x[0, idx] = v): PyTorch
    writes into a view of x, hence its node name;  as IndexPut"""

    node_name = "CopySlices"


class CopyWhole(IndexPut):
    """out = v broadcast to x's shape (x[...] = v);  as IndexPut"""

    node_name = "CopyBackwards"
    overwrites_all = True


class FillWhole(IndexPut):
    """out = a number or 0-dim v everywhere (x[...] = v);  as IndexPut"""

    node_name = "FillBackward3"
    overwrites_all = True


class FillScalar(IndexPut):
    """out = a number everywhere (x.fill_(c));  dx = zeros"""

    node_name = "FillBackward2"
    overwrites_all = True
