"""Indexing: ``x[key]``, ``x[key] = v``, ``select`` and ``narrow``.

A key is parsed once (index_key.py, Note [Two-stage keys]) and then read or written by the
Functions of index_functions.py; the gather/scatter family lives in gather_scatter.py.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _wrap, _wrap_dim
from ._registry import expose
from .index_functions import (
    Alias,
    CopyWhole,
    FillWhole,
    IndexPut,
    IndexPutOnView,
    Select,
    Slice,
    _put,
)
from .index_key import _Key, parse_key
from .inplace import (
    apply_inplace,
    check_source_overlap,
    needs_record,
    overlap_error,
    writable_array,
)

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
    # PyTorch's copy_ (basic key) or index_put_ (advanced; one value through a mask is a fill,
    # unless x is 0-d)
    if isinstance(value, Tensor) and (k.adv is None or value._data.size != 1
                                      or not _has_mask(key) or x._data.ndim == 0):
        dst = x._data if k.basic is None else x._data[k.basic]
        if k.adv is not None and value is x:  # index_put_ of x into itself: PyTorch counts
            raise overlap_error()  # the same tensor as a full overlap, even an empty one
        check_source_overlap(dst, value._data, full_ok=k.adv is None)
    if needs_record(x, value):
        # PyTorch's node: copy_ on the whole tensor, index_put_ on it, or either on a view.
        # (x[...] and x[:] write into x itself, as copy_ and fill_ do.)
        whole = k.cls is Alias or (k.cls is Slice and k.dense)
        if k.adv is None:
            if not whole:
                cls = IndexPutOnView
            elif isinstance(value, Tensor) and value._data.ndim:
                cls = CopyWhole
            else:
                cls = FillWhole
        else:
            cls = IndexPut if k.basic is None else IndexPutOnView
        # PyTorch writes into the view x[key] unless that is x itself; making it reads (and
        # rebuilds, when stale) x's grad_fn, and x keeps that node, not the write's: a node
        # still unset stays so (Note [Views of a base that needs no grad]).
        sub = x._base is not None and not (k.basic is None or whole)
        unset = sub and x.grad_fn is None
        version = x._fn_version
        apply_inplace(x, lambda s, v: cls.apply(s, v, k, False), value)
        if unset:
            x._view_fn = None
            x._fn_version = version
        return
    # Nothing to record: write straight into x's memory (no snapshot, no copy of x).
    _put(writable_array(x), k, value._data if isinstance(value, Tensor) else value, False)
    x._bump_version()


def _has_mask(key) -> bool:
    parts = key if isinstance(key, tuple) else (key,)
    return any(isinstance(p, Tensor) and p._data.dtype == np.bool_ for p in parts)


# ---- select and narrow: views along one dim ------------------------------------------------


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


expose({"select": select, "narrow": narrow})
expose({"__getitem__": getitem, "__setitem__": setitem}, function=False)
