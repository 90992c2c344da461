"""Batching rules for the NumPy calls retrograd's kernels make on a ``BatchedArray``
(``_batched_array.py``): ufuncs, ``matmul``, indexing, and the NumPy functions with a rule of
their own (``_RULES``); anything else runs once per sample (``_loop``)."""

from __future__ import annotations

import numpy as np

from ._batched_array import (
    _RULES,
    FLOW_MSG,
    INPLACE_MSG,
    BatchedArray,
    _axis,
    _full,
    _lnd,
    _loop,
    _phys,
    _wrap,
    is_batched,
)

# ---- elementwise -----------------------------------------------------------------------------


def _ufunc_call(ufunc, inputs, kwargs, level):
    nd = max(_lnd(x, level) for x in inputs)
    out = kwargs.get("out")
    if out is not None:
        outs = []
        for o in out:
            if o is None:
                outs.append(None)
                continue
            if not (is_batched(o) and o.level is level):
                raise RuntimeError(INPLACE_MSG.format(what=f"{ufunc.__name__}(out=...)"))
            outs.append(_phys(o, level, nd))
        kwargs = dict(kwargs, out=tuple(outs))
    where = kwargs.get("where")
    if where is not None and where is not True:
        nd = max(nd, _lnd(where, level))
        kwargs = dict(kwargs, where=_phys(where, level, nd))
    res = ufunc(*[_phys(x, level, nd) for x in inputs], **kwargs)
    if out is not None:
        return out[0] if len(out) == 1 else out
    if isinstance(res, tuple):
        return tuple(_wrap(r, level) for r in res)
    return _wrap(res, level)


def _matmul(a, b, level):
    """``a @ b`` per sample: leading (batch) dims of NumPy's matmul carry the samples."""
    ba = is_batched(a) and a.level is level
    bb = is_batched(b) and b.level is level
    na, nb = _lnd(a, level), _lnd(b, level)
    if na == 0 or nb == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    if ba and not bb and nb == 2 and na >= 2:  # the linear layer: one BLAS call over all rows
        v = a.value
        out = (v.reshape(-1, v.shape[-1]) @ b).reshape(v.shape[:-1] + (b.shape[-1],))
        return _wrap(out, level)
    if bb and not ba and na == 2 and nb == 1:  # matrix @ batched vectors: rows @ M^T
        return _wrap(b.value @ a.T, level)
    pa = _phys(a, level) if ba else a
    pb = _phys(b, level) if bb else b
    squeeze = []
    if na == 1:  # a vector on the left: a row matrix, dropped again after
        pa = pa[..., None, :]
        na = 2
        squeeze.append(-2)
    if nb == 1:
        pb = pb[..., :, None]
        nb = 2
        squeeze.append(-1)
    nd = max(na, nb)  # pad batched operands so that the batch dim lines up in front
    if ba:
        pa = _phys(_wrap(pa, level), level, nd)
    if bb:
        pb = _phys(_wrap(pb, level), level, nd)
    if pa.shape[-1] == 1 and pb.shape[-2] == 1:  # outer products (weight gradients): NumPy's
        out = np.multiply(pa, pb)  # batched matmul is slow at k = 1, a broadcast product is not
    else:
        out = np.matmul(pa, pb)
    for ax in squeeze:
        out = out.squeeze(ax if len(squeeze) == 1 else -1)
    return _wrap(out, level)


def _ufunc_at(ufunc, inputs, level):
    a, key = inputs[0], inputs[1]
    vals = inputs[2:]
    if not (is_batched(a) and a.level is level):
        raise RuntimeError(INPLACE_MSG.format(what=f"{ufunc.__name__}.at"))
    pkey, fix = _key(a, key, level)
    if vals:
        target = a.value[pkey].shape
        vals = (_align(vals[0], level, target, fix),)
    ufunc.at(a.value, pkey, *vals)


# ---- indexing --------------------------------------------------------------------------------


def _is_adv(k) -> bool:
    return isinstance(k, (list, np.ndarray, BatchedArray)) or (
        hasattr(k, "dtype") and hasattr(k, "shape") and not isinstance(k, slice))


def _dims_used(k) -> int:
    """How many dims of the indexed array key entry ``k`` consumes."""
    if k is None or k is Ellipsis:
        return 0
    if _is_adv(k) and (k.dtype if hasattr(k, "dtype") else np.asarray(k).dtype).kind == "b":
        return np.ndim(k)  # a mask covers as many dims as it has
    return 1


def _key(a, key, level):
    """The physical key for ``a[key]`` and, when the result's dims need reordering, a move
    ``(start, count, dest)`` of the advanced-index dims (see _getitem)."""
    if not isinstance(key, tuple):
        key = (key,)
    if not any(is_batched(k) and k.level is level for k in key):
        return (slice(None),) + key, None
    nd = a.value.ndim - 1
    used = sum(_dims_used(k) for k in key)
    full = []
    for k in key:
        if k is Ellipsis:
            full.extend([slice(None)] * (nd - used))
        elif k is None:
            raise IndexError("vmap: indexing with None together with a batched index tensor is "
                             "not supported; unsqueeze separately")
        else:
            if is_batched(k) and k.dtype == bool:
                raise RuntimeError(FLOW_MSG)
            full.append(k)
    adv = [i for i, k in enumerate(full) if _is_adv(k) or isinstance(k, (int, np.integer))]
    m = max(_lnd(full[i], level) for i in adv)
    pkey = [np.arange(level.size).reshape((level.size,) + (1,) * m)]
    for k in full:
        if is_batched(k) and k.level is level:
            pkey.append(_phys(k, level, m))
        else:
            pkey.append(k)
    fix = None
    contiguous = adv == list(range(adv[0], adv[-1] + 1))
    if contiguous and adv[0] > 0:  # NumPy puts the index dims first; per sample they sit at
        before = sum(1 for k in full[:adv[0]] if isinstance(k, slice))  # the first index
        fix = (1, m, 1 + before)
    return tuple(pkey), fix


def _getitem(a, key, level):
    pkey, fix = _key(a, key, level)
    out = a.value[pkey]
    if fix is not None:
        start, m, dest = fix
        out = np.moveaxis(out, list(range(start, start + m)), list(range(dest, dest + m)))
    return _wrap(out, level)


def _align(val, level, target: tuple, fix):
    """``val`` (one sample's value) as the physical values for a write into ``a.value[pkey]``,
    whose shape is ``target`` (NumPy's layout: see ``_key``'s ``fix``)."""
    batched = is_batched(val) and val.level is level
    if fix is None:  # the layouts agree: pad a batched value so it lines up after the batch dim
        return _phys(val, level, len(target) - 1) if batched else val
    v = _phys(val, level, len(target) - 1) if batched else val
    v = np.broadcast_to(v, (level.size,) + _logical_target(target, fix))
    start, m, dest = fix
    return np.moveaxis(v, list(range(dest, dest + m)), list(range(start, start + m)))


def _logical_target(target: tuple, fix) -> tuple:
    if fix is None:
        return target[1:]
    start, m, dest = fix
    rest = list(target[1:])
    moved = rest[start - 1:start - 1 + m]
    del rest[start - 1:start - 1 + m]
    rest[dest - 1:dest - 1] = moved
    return tuple(rest)


def _setitem(a, key, val, level) -> None:
    pkey, fix = _key(a, key, level)
    target = a.value[pkey].shape
    a.value[pkey] = _align(val, level, target, fix)


def _rule(*funcs):
    def register(fn):
        for f in funcs:
            _RULES[f] = fn
        return fn
    return register


def _method(name):
    def call(level, a, *args, **kwargs):
        if not (is_batched(a) and a.level is level):
            return getattr(np, name)(_full(a, level), *args, **kwargs)
        return getattr(a, name)(*args, **kwargs)
    return call


for _name in ("sum", "prod", "mean", "max", "min", "any", "all", "std", "var", "argmax", "argmin",
              "cumsum", "cumprod", "reshape", "transpose", "swapaxes", "squeeze", "ravel",
              "round", "clip"):
    _RULES[getattr(np, _name)] = _method(_name)
_RULES[np.amax] = _method("max")
_RULES[np.amin] = _method("min")


@_rule(np.where)
def _where(level, cond, *xy):
    if not xy:
        raise RuntimeError(FLOW_MSG)
    args = (cond,) + xy
    nd = max(_lnd(x, level) for x in args)
    return _wrap(np.where(*[_phys(x, level, nd) for x in args]), level)


@_rule(np.clip)
def _clip(level, a, a_min=None, a_max=None, **kw):
    nd = max(_lnd(x, level) for x in (a, a_min, a_max) if x is not None)
    lo = None if a_min is None else _phys(a_min, level, nd)
    hi = None if a_max is None else _phys(a_max, level, nd)
    return _wrap(np.clip(_phys(a, level, nd), lo, hi, **kw), level)


@_rule(np.isclose)
def _isclose(level, a, b, **kw):
    nd = max(_lnd(a, level), _lnd(b, level))
    return _wrap(np.isclose(_phys(a, level, nd), _phys(b, level, nd), **kw), level)


@_rule(np.concatenate)
def _concatenate(level, arrays, axis=0, **kw):
    nd = _lnd(arrays[0], level)
    if axis is None:
        return _wrap(np.concatenate([_full(x, level).reshape(level.size, -1) for x in arrays],
                                    axis=1, **kw), level)
    return _wrap(np.concatenate([_full(x, level) for x in arrays], axis=_axis(axis, nd), **kw),
                 level)


@_rule(np.stack)
def _stack(level, arrays, axis=0, **kw):
    nd = _lnd(arrays[0], level)
    return _wrap(np.stack([_full(x, level) for x in arrays], axis=_axis(axis, nd + 1), **kw),
                 level)


@_rule(np.broadcast_to)
def _broadcast_to(level, a, shape, subok=False):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return _wrap(np.broadcast_to(_phys(a, level, len(shape)), (level.size,) + shape), level)


@_rule(np.moveaxis)
def _moveaxis(level, a, source, destination):
    nd = _lnd(a, level)
    return _wrap(np.moveaxis(_full(a, level), _axis(source, nd) if isinstance(source, int) else
                             [_axis(s, nd) for s in source],
                             _axis(destination, nd) if isinstance(destination, int) else
                             [_axis(d, nd) for d in destination]), level)


@_rule(np.expand_dims)
def _expand_dims(level, a, axis):
    nd = _lnd(a, level)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return _wrap(np.expand_dims(_full(a, level), [_axis(x, nd + len(axes)) for x in axes]), level)


@_rule(np.flip)
def _flip(level, a, axis=None):
    nd = _lnd(a, level)
    return _wrap(np.flip(_full(a, level), _axis(axis, nd)), level)


def _tri_rule(np_fn):
    def rule(level, a, k=0):
        return _wrap(np_fn(_full(a, level), k), level)
    return rule


_RULES[np.tril] = _tri_rule(np.tril)
_RULES[np.triu] = _tri_rule(np.triu)


@_rule(np.copyto)
def _copyto(level, dst, src, casting="same_kind", where=True):
    if not (is_batched(dst) and dst.level is level):
        raise RuntimeError(INPLACE_MSG.format(what="copy_"))
    nd = dst.ndim
    if where is not True:
        where = _phys(where, level, nd)
    np.copyto(dst.value, _phys(src, level, nd), casting=casting, where=where)


def _like(np_fn):
    def rule(level, a, *args, shape=None, **kw):
        if shape is not None:
            shape = (level.size,) + ((shape,) if isinstance(shape, int) else tuple(shape))
        return _wrap(np_fn(_full(a, level), *args, shape=shape, **kw), level)
    return rule


for _f in (np.zeros_like, np.ones_like, np.empty_like, np.full_like):
    _RULES[_f] = _like(_f)


@_rule(np.result_type)
def _result_type(level, *args):
    return np.result_type(*[x.dtype if is_batched(x) else x for x in args])


@_rule(np.can_cast)
def _can_cast(level, from_, to, casting="safe"):
    return np.can_cast(from_.dtype if is_batched(from_) else from_, to, casting)


@_rule(np.shares_memory, np.may_share_memory)
def _shares(level, a, b, max_work=None):
    def base(x):
        while is_batched(x):
            x = x.value
        return x
    return np.may_share_memory(base(a), base(b))


@_rule(np.ndim)
def _ndim(level, a):
    return a.ndim


@_rule(np.shape)
def _shape(level, a):
    return a.shape


@_rule(np.size)
def _size(level, a, axis=None):
    return a.size if axis is None else a.shape[axis]


@_rule(np.take_along_axis)
def _take_along_axis(level, arr, indices, axis):
    if axis is None:
        return _wrap(np.take_along_axis(_full(arr, level).reshape(level.size, -1),
                                        _full(indices, level).reshape(level.size, -1), 1), level)
    nd = _lnd(arr, level)
    return _wrap(np.take_along_axis(_full(arr, level), _full(indices, level), _axis(axis, nd)),
                 level)


@_rule(np.dot)
def _dot(level, a, b, out=None):
    if out is None and 1 <= _lnd(a, level) <= 2 and 1 <= _lnd(b, level) <= 2:
        return _matmul(a, b, level)
    if out is None and (_lnd(a, level) == 0 or _lnd(b, level) == 0):
        return np.multiply(a, b)
    return _loop(np.dot, (a, b), {} if out is None else {"out": out}, level)


@_rule(np.outer)
def _outer(level, a, b, out=None):
    return np.multiply(a.reshape(-1, 1) if is_batched(a) else np.ravel(a)[:, None],
                       b.reshape(1, -1) if is_batched(b) else np.ravel(b)[None, :])


@_rule(np.einsum)
def _einsum(level, subscripts, *operands, **kw):
    if not isinstance(subscripts, str):
        return _loop(np.einsum, (subscripts,) + operands, kw, level)
    spec = subscripts.replace(" ", "")
    if "->" in spec:
        ins, out = spec.split("->")
    else:
        ins = spec
        letters = [c for c in ins if c.isalpha()]
        out = ("..." if "..." in ins else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    ins = ins.split(",")
    free = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
                if c not in spec)
    new_ins, ops = [], []
    for s, op in zip(ins, operands):
        if is_batched(op) and op.level is level:
            new_ins.append(free + s)
            ops.append(op.value)
        else:
            new_ins.append(s)
            ops.append(op)
    return _wrap(np.einsum(",".join(new_ins) + "->" + free + out, *ops, **kw), level)
