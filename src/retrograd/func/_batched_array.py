"""BatchedArray: a NumPy-array stand-in that holds a whole batch and shows one sample.

vmap (``_vmap.py``) puts one of these in a tensor's ``_data``. Its ``value`` is the physical
array, with the batch dim at position 0; everything it reports (``shape``, ``ndim``, ``size``)
and every NumPy call made on it (``np.exp(a)``, ``a.sum(axis=1)``, ``a @ b``, ``a[i]``) reads as
if it were one sample, and is carried out on ``value`` for all samples at once. The rules for
the calls retrograd's kernels make are in ``_batching_rules.py``: ufuncs broadcast with the
logical shapes right-aligned (an unbatched operand is the same for every sample), ``axis``
arguments move past the batch dim, products and ``einsum`` keep the batch dim as a leading
one. A NumPy function without a rule runs once per sample and the results are stacked
(correct, but a Python loop).

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


# the rules themselves (they need the class above)
from ._batching_rules import (  # noqa: E402
    _getitem,
    _matmul,
    _setitem,
    _ufunc_at,
    _ufunc_call,
)
