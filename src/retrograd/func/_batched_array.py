"""BatchedArray: a NumPy-array stand-in that holds a whole batch and shows one sample.

vmap (``_vmap.py``) puts one of these in a tensor's ``_data``. Its ``value`` is the physical
array, with the batch dim at position 0; everything it reports (``shape``, ``ndim``, ``size``)
and every NumPy call made on it (``np.exp(a)``, ``a.sum(axis=1)``, ``a @ b``, ``a[i]``) reads as
if it were one sample, and is carried out on ``value`` for all samples at once. Rules for the
calls retrograd's kernels make are below: ufuncs broadcast with the logical shapes right-aligned
(an unbatched operand is the same for every sample), ``axis`` arguments move past the batch
dim, products and ``einsum`` keep the batch dim as a leading one. A NumPy function without a
rule runs once per sample and the results are stacked (correct, but a Python loop).

A BatchedArray of a deeper vmap wraps the BatchedArray of the vmap around it (its ``value`` is
the outer one), so nesting needs nothing special: a rule handles the deepest level among its
arguments and passes the rest down as ordinary (unbatched) operands.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

# NOTE: messages PyTorch gives for the same mistakes
INPLACE_MSG = (
    "vmap: {what}: an in-place operation would write a value that differs per sample (it is "
    "batched) into a tensor that is the same for every sample (unbatched). Write into a "
    "batched tensor instead, e.g. use the out-of-place op or clone() a batched input first.")
ITEM_MSG = (
    "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over calling "
    ".item() on a Tensor, please try to rewrite what you're doing with other operations.")
FLOW_MSG = (
    "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow. "
    "We don't support that: the samples would take different paths. Use retrograd.where to "
    "select between both results instead.")


class BatchedToPlain(RuntimeError):
    """A kernel tried to turn a batched array into a plain one (``np.asarray`` it, index a plain
    array with it, write it into one). Inside ``Function.apply`` vmap then runs the Function
    once per sample instead (Note [Functions without a batching rule] in _vmap.py)."""


class Level:
    """One vmap call: its depth (1 for the outermost), batch size, and whether it is running."""

    __slots__ = ("depth", "size", "active", "__weakref__")

    def __init__(self, depth: int, size: int) -> None:
        self.depth = depth
        self.size = size
        self.active = True

    def __repr__(self) -> str:
        return f"Level(depth={self.depth}, size={self.size})"


def is_batched(x) -> bool:
    return x.__class__ is BatchedArray


def _top(args) -> Level | None:
    """The deepest level among the BatchedArrays in ``args`` (lists and tuples searched)."""
    best = None
    stack = list(args)
    while stack:
        a = stack.pop()
        if a.__class__ is BatchedArray:
            if best is None or a.level.depth > best.depth:
                best = a.level
        elif isinstance(a, (list, tuple)):
            stack.extend(a)
    return best


def _lnd(x, level) -> int:
    """The logical ndim of ``x`` at ``level``."""
    if x.__class__ is BatchedArray and x.level is level:
        return x.value.ndim - 1
    return np.ndim(x)


def _phys(x, level, nd: int | None = None):
    """``x``'s array at ``level``: batch dim first, and padded with size-1 dims after it to
    ``nd`` logical dims so that unbatched operands broadcast right-aligned."""
    if x.__class__ is BatchedArray and x.level is level:
        v = x.value
        if nd is not None and v.ndim - 1 < nd:
            v = v.reshape((v.shape[0],) + (1,) * (nd - v.ndim + 1) + v.shape[1:])
        return v
    return x


def _full(x, level):
    """``x`` with the batch dim at ``level`` made real (an unbatched operand repeated)."""
    if x.__class__ is BatchedArray and x.level is level:
        return x.value
    x = np.asarray(x) if not isinstance(x, (np.ndarray, BatchedArray)) else x
    return np.broadcast_to(x[None], (level.size,) + x.shape)


def _wrap(value, level: Level):
    return BatchedArray(value, level)


def _axis(axis, nd: int):
    """A logical axis (or tuple of them; None: all) as physical axes."""
    if axis is None:
        return tuple(range(1, nd + 1))
    if isinstance(axis, tuple):
        return tuple(_axis(a, nd) for a in axis)
    axis = int(axis)
    if not -max(nd, 1) <= axis < max(nd, 1):
        raise np.exceptions.AxisError(axis, nd)
    return (axis + nd if axis < 0 else axis) + 1


class _Flags:
    c_contiguous = False  # sends retrograd's fast paths on plain arrays (broadcast_view) away
    f_contiguous = False
    writeable = True


class BatchedArray(NDArrayOperatorsMixin):
    """A batch of arrays that NumPy calls treat as one sample (see the module docstring)."""

    __slots__ = ("value", "level")
    __array_priority__ = 1000

    def __init__(self, value, level: Level) -> None:
        self.value = value
        self.level = level

    # ---- what it looks like: one sample -------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.value.shape[1:]

    @property
    def ndim(self) -> int:
        return self.value.ndim - 1

    @property
    def size(self) -> int:
        n = 1
        for s in self.value.shape[1:]:
            n *= s
        return n

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def itemsize(self) -> int:
        return self.value.itemsize

    @property
    def strides(self) -> tuple:
        return self.value.strides[1:]

    @property
    def nbytes(self) -> int:
        return self.size * self.value.itemsize

    flags = _Flags()
    base = None

    def grad_for(self, grad, t, accumulate: bool):
        """The autograd engine's question: ``grad`` (holding this array) is for tensor ``t``;
        see Note [Gradients inside vmap] in _vmap.py."""
        from ._vmap import sum_batched_grad
        return sum_batched_grad(grad, t, accumulate)

    def __getattr__(self, name):  # an ndarray attribute with no rule here: per-sample fallback
        if hasattr(np.ndarray, name):
            raise BatchedToPlain(f"vmap: ndarray.{name} has no batching rule; " + INPLACE_MSG
                                 .format(what="a batched array needed as a plain one"))
        raise AttributeError(f"'BatchedArray' object has no attribute '{name}'")

    def batched_repr(self) -> str:
        """How a tensor holding this prints (as PyTorch prints a BatchedTensor)."""
        from ..tensor import _wrap as _tensor

        v = self.value
        inner = v.batched_repr() if is_batched(v) else repr(_tensor(v))
        inner = inner.replace("\n", "\n    ")
        return f"BatchedTensor(lvl={self.level.depth}, bdim=0, value=\n    {inner}\n)"

    def elementwise(self, fn):
        """``fn`` (an elementwise function of arrays) on every sample at once."""
        return _wrap(fn(self.value), self.level)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.value.shape[1]

    def __repr__(self) -> str:
        return f"BatchedArray(level={self.level.depth}, value={self.value!r})"

    # ---- values that must be the same for every sample ----------------------------------
    def __array__(self, dtype=None, copy=None):
        raise BatchedToPlain(INPLACE_MSG.format(what="a batched value was converted to a plain "
                                                "array (for example written into one)"))

    def _uniform(self, convert):
        v = self.value
        flat = np.asarray(v).reshape(v.shape[0], -1) if not is_batched(v) else None
        if flat is None or flat.shape[1] != 1:
            raise RuntimeError(FLOW_MSG)
        first = flat[0, 0]
        if not (flat == first).all():
            raise RuntimeError(FLOW_MSG)
        return convert(first)

    def __bool__(self) -> bool:  # NOTE: allowed where every sample agrees (kernels' fast paths)
        return self._uniform(bool)

    def __float__(self) -> float:
        return self._uniform(float)

    def __int__(self) -> int:
        return self._uniform(int)

    def __index__(self) -> int:
        return self._uniform(int)

    def item(self, *args):
        raise RuntimeError(ITEM_MSG)

    def tolist(self):
        raise RuntimeError(ITEM_MSG)

    # ---- NumPy protocols ----------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        level = _top(inputs + tuple(kwargs.get("out", ())))
        if method == "__call__":
            if ufunc is np.matmul and not kwargs:
                return _matmul(inputs[0], inputs[1], level)
            if ufunc.signature is None:
                return _ufunc_call(ufunc, inputs, kwargs, level)
        elif method == "reduce" and len(inputs) == 1 and "out" not in kwargs:
            a = inputs[0]
            nd = _lnd(a, level)
            axis = kwargs.pop("axis", 0)
            return _wrap(ufunc.reduce(_full(a, level), axis=_axis(axis, nd), **kwargs), level)
        elif method == "accumulate" and len(inputs) == 1 and "out" not in kwargs:
            a = inputs[0]
            axis = kwargs.pop("axis", 0)
            return _wrap(ufunc.accumulate(_full(a, level), axis=_axis(axis, _lnd(a, level)),
                                          **kwargs), level)
        elif method == "at":
            return _ufunc_at(ufunc, inputs, level)
        return _loop(getattr(ufunc, method), inputs, kwargs, level)

    def __array_function__(self, func, types, args, kwargs):
        rule = _RULES.get(func)
        level = _top(args + tuple(kwargs.values()))
        if rule is not None:
            return rule(level, *args, **kwargs)
        return _loop(func, args, kwargs, level)

    # ---- methods retrograd's kernels call ------------------------------------------------
    def _reduce(self, name, axis=None, keepdims=False, **kw):
        nd = self.ndim
        if kw.get("out") is not None:
            raise RuntimeError(INPLACE_MSG.format(what=f"{name}(out=...)"))
        kw.pop("out", None)
        return _wrap(getattr(self.value, name)(axis=_axis(axis, nd), keepdims=keepdims, **kw),
                     self.level)

    def sum(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return self._reduce("sum", axis, keepdims, dtype=dtype, out=out, **kw)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return self._reduce("prod", axis, keepdims, dtype=dtype, out=out, **kw)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return self._reduce("mean", axis, keepdims, dtype=dtype, out=out, **kw)

    def max(self, axis=None, out=None, keepdims=False, **kw):
        return self._reduce("max", axis, keepdims, out=out, **kw)

    def min(self, axis=None, out=None, keepdims=False, **kw):
        return self._reduce("min", axis, keepdims, out=out, **kw)

    def any(self, axis=None, out=None, keepdims=False, **kw):
        return self._reduce("any", axis, keepdims, out=out, **kw)

    def all(self, axis=None, out=None, keepdims=False, **kw):
        return self._reduce("all", axis, keepdims, out=out, **kw)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
        return self._reduce("std", axis, keepdims, dtype=dtype, out=out, ddof=ddof, **kw)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
        return self._reduce("var", axis, keepdims, dtype=dtype, out=out, ddof=ddof, **kw)

    def _arg(self, name, axis=None, keepdims=False):
        v = self.value
        if axis is None:
            out = getattr(v.reshape(v.shape[0], -1), name)(axis=1)
            if keepdims:
                out = out.reshape((v.shape[0],) + (1,) * self.ndim)
            return _wrap(out, self.level)
        return _wrap(getattr(v, name)(axis=_axis(axis, self.ndim), keepdims=keepdims),
                     self.level)

    def argmax(self, axis=None, out=None, keepdims=False):
        return self._arg("argmax", axis, keepdims)

    def argmin(self, axis=None, out=None, keepdims=False):
        return self._arg("argmin", axis, keepdims)

    def _scan(self, name, axis=None, dtype=None):
        v = self.value
        if axis is None:
            return _wrap(getattr(v.reshape(v.shape[0], -1), name)(axis=1, dtype=dtype),
                         self.level)
        return _wrap(getattr(v, name)(axis=_axis(axis, self.ndim), dtype=dtype), self.level)

    def cumsum(self, axis=None, dtype=None, out=None):
        return self._scan("cumsum", axis, dtype)

    def cumprod(self, axis=None, dtype=None, out=None):
        return self._scan("cumprod", axis, dtype)

    def reshape(self, *shape, order="C", copy=None):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        v = self.value
        kw = {} if copy is None else {"copy": copy}
        return _wrap(v.reshape((v.shape[0],) + tuple(shape), order=order, **kw), self.level)

    def ravel(self, order="C"):
        return self.reshape(-1, order=order)

    def flatten(self, order="C"):
        return self.reshape(-1, order=order).copy()

    def transpose(self, *axes):
        nd = self.ndim
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        if not axes:
            axes = tuple(range(nd - 1, -1, -1))
        return _wrap(self.value.transpose((0,) + tuple(_axis(a, nd) for a in axes)), self.level)

    @property
    def T(self):
        return self.transpose()

    @property
    def mT(self):
        return self.swapaxes(-1, -2)

    def swapaxes(self, a, b):
        nd = self.ndim
        return _wrap(self.value.swapaxes(_axis(a, nd), _axis(b, nd)), self.level)

    def squeeze(self, axis=None):
        v = self.value
        if axis is None:
            axis = tuple(i for i, s in enumerate(v.shape[1:]) if s == 1)
        return _wrap(v.squeeze(_axis(axis, self.ndim)), self.level)

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        return _wrap(self.value.astype(dtype, order=order, casting=casting, copy=copy),
                     self.level)

    def view(self, dtype=None, *args):
        if dtype is None:
            return _wrap(self.value.view(), self.level)
        return _wrap(self.value.view(dtype), self.level)

    def copy(self, order="C"):
        return _wrap(self.value.copy(order=order), self.level)

    def fill(self, value) -> None:
        if is_batched(value):
            raise RuntimeError(INPLACE_MSG.format(what="fill with a batched value"))
        self.value.fill(value)

    def clip(self, min=None, max=None, **kw):  # noqa: A002
        return np.clip(self, min, max, **kw)

    def round(self, decimals=0, out=None):
        return _wrap(self.value.round(decimals), self.level)

    def nonzero(self):
        raise RuntimeError(FLOW_MSG)

    def dot(self, b):
        return np.dot(self, b)

    def __getitem__(self, key):
        level = _top((self, key) if not isinstance(key, tuple) else (self,) + key)
        if level is not self.level:  # a batched index into a less deeply batched array
            return _getitem(BatchedArray(_full(self, level), level), key, level)
        return _getitem(self, key, level)

    def __setitem__(self, key, val) -> None:
        level = _top((self, val) + (key if isinstance(key, tuple) else (key,)))
        if level is not self.level:
            raise RuntimeError(INPLACE_MSG.format(what="index assignment"))
        _setitem(self, key, val, level)


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


# ---- NumPy functions -------------------------------------------------------------------------


def _loop(func, args, kwargs, level):
    """Run ``func`` once per sample and stack the results (functions without a rule)."""
    if level is None:
        return func(*args, **kwargs)

    def pick(x, i):
        if is_batched(x) and x.level is level:
            return x.value[i]
        if isinstance(x, (list, tuple)):
            return type(x)(pick(y, i) for y in x)
        return x

    outs = [func(*[pick(a, i) for a in args], **{k: pick(v, i) for k, v in kwargs.items()})
            for i in range(level.size)]
    return _stack_results(outs, level)


def _stack_results(outs, level):
    first = outs[0]
    if isinstance(first, tuple):
        return tuple(_stack_results([o[j] for o in outs], level) for j in range(len(first)))
    if isinstance(first, (np.ndarray, np.generic, BatchedArray)):
        return _wrap(np.stack([np.asarray(o) if not is_batched(o) else o for o in outs]), level)
    if first is None or all(o == first for o in outs[1:]):
        return first
    raise RuntimeError(FLOW_MSG)


_RULES: dict = {}


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
