"""``vmap``: run a function written for one sample on a whole batch at once.

Note [How vmap batches]
    retrograd's ops are Functions whose forwards compute on NumPy arrays, and backward formulas
    are written with those same ops. So vmap batches at the one layer everything goes through:
    the array in a tensor's ``_data``. Inside ``vmap(f)(x)``, ``f`` receives a tensor whose
    ``_data`` is a ``BatchedArray`` (``_batched_array.py``): it holds all samples (batch dim in
    front) but reports one sample's shape, and every NumPy call a kernel makes on it is carried
    out for all samples at once. Every op, ``nn.functional`` and user ``autograd.Function``
    therefore works unchanged, ops that read a tensor's shape see the logical one, and no op
    path pays anything while no vmap is alive (there is no dispatch check in
    ``Function.apply``; see the last two Notes for what changes while one is).

Note [Gradients inside vmap]
    Because the batching is below the ops, the graph recorded inside vmap is the per-sample
    graph: its nodes see one sample's shapes, and running it backwards evaluates the backward
    formulas on batched arrays. ``autograd.grad(loss, w)`` inside vmap, for a ``w`` shared by
    all samples, therefore returns the gradient of each sample's loss with respect to ``w``
    (a batched tensor): per-sample gradients without a loop, with ``retrograd.autograd.grad``
    or ``retrograd.func.grad``. The graph stays correct after vmap returns: the output is
    unwrapped by ``_RemoveBatchDim`` (whose backward wraps the incoming gradient again), the
    inputs were wrapped by ``_AddBatchDim`` (whose backward unwraps), and when a per-sample
    gradient reaches a tensor that is the same for every sample after its vmap has returned
    (``out = vmap(f)(x); out.sum().backward()`` into a shared weight), the engine asks
    ``sum_batched_grad`` to sum it over the samples. Calling ``.backward()`` inside vmap into
    such a tensor raises (``.grad`` of a shared tensor has one value); PyTorch refuses every
    ``.backward()`` inside vmap, and its ``autograd.grad`` there sees no graph at all.
    The cost of that backward: a shared weight's gradient is formed per sample and summed, so
    it takes memory of batch size times the weight's; call the model on the batch directly
    for plain training.

Note [NumPy's converters during vmap]
    Kernels call ``np.asarray`` (and ``np.ascontiguousarray``, ``np.array``) on their results,
    which NumPy does not let an array-like override. While a vmap level is alive (running, or
    kept by a graph that may still run backwards) those names in the ``numpy`` module are
    replaced by versions that pass a BatchedArray through; the originals come back when the
    last level is freed. Outside vmap nothing is replaced.

Note [Functions without a batching rule]
    Some kernels build a plain array and write the input into it (convolution's padded
    buffer, an embedding's ``weight.take(idx)``, a loss's one-hot target). A BatchedArray can't
    become a plain array, so NumPy's conversion raises ``BatchedToPlain``. For those, vmap runs
    the Function once per sample: while a level is alive ``Function.apply`` is wrapped (the way
    ``retrograd.debug`` wraps it for provenance) so that on ``BatchedToPlain`` it splits each
    batched tensor argument into its samples (``_Unbind``), applies the Function to each, and
    stacks the results (``_Stack``); both are differentiable, so the recorded graph is the
    per-sample one and gradients flow as usual. A shared argument that requires grad is first
    made a batched copy (``_Expand``, whose backward passes the gradient through), so that its
    per-sample gradients are not summed together. This is PyTorch's "vmap fallback": correct,
    as slow as a Python loop over that one op. Writes into a tensor that is the same for every
    sample happen outside Functions (``np.copyto``) and still raise.
"""

from __future__ import annotations

import functools
import threading
import weakref

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._batched_array import INPLACE_MSG, BatchedArray, BatchedToPlain, Level, is_batched
from ._in_dims import _broadcast_dims, _expand_prefix, _flatten, _spec_str, _unflatten

_levels: list = []  # active levels, innermost last
_lock = threading.Lock()
_live = [0]  # levels not yet freed (Note [NumPy's converters during vmap])
_orig = {}


# ---- Note [NumPy's converters during vmap] ---------------------------------------------------


def _patched(name: str):
    orig = getattr(np, name)

    def convert(a, dtype=None, *args, **kwargs):
        if a.__class__ is BatchedArray:
            if dtype is None:
                return a.copy() if name == "array" and kwargs.get("copy", True) else a
            return a.astype(dtype, copy=name == "array")
        return orig(a, dtype, *args, **kwargs)

    functools.update_wrapper(convert, orig)
    return orig, convert


def _level_born() -> None:
    with _lock:
        _live[0] += 1
        if _live[0] == 1:
            for name in ("asarray", "ascontiguousarray", "array", "asanyarray"):
                _orig[name], convert = _patched(name)
                setattr(np, name, convert)
        current = Function.__dict__["apply"]
        if current is not _orig.get("mine"):  # the first level, or apply was swapped since
            _orig["apply"] = current  # (e.g. by retrograd.debug): wrap what is there now
            Function.apply = _orig["mine"] = classmethod(_apply_or_loop(current.__func__))


def _level_freed() -> None:
    with _lock:
        _live[0] -= 1
        if _live[0] == 0:
            apply, mine = _orig.pop("apply"), _orig.pop("mine")
            if Function.__dict__["apply"] is mine:  # (unless someone wrapped it since)
                Function.apply = apply
            for name, fn in _orig.items():
                setattr(np, name, fn)
            _orig.clear()


# ---- Note [Functions without a batching rule] --------------------------------------------------


def _apply_or_loop(apply):
    def apply_or_loop(cls, *args):
        try:
            return apply(cls, *args)
        except BatchedToPlain:
            level = _top_level(args)
            if level is None or cls in (_Unbind, _Stack):
                raise
        samples = [_Unbind.apply(_Expand.apply(a, level) if not _at(a._data, level) else a,
                                 level) if isinstance(a, Tensor) and (
                       _at(a._data, level) or a._requires_grad) else
                   a.value if _at(a, level) else None for a in args]
        outs = []
        for i in range(level.size):
            outs.append(apply(cls, *[a if s is None else s[i] for a, s in zip(args, samples)]))
        if isinstance(outs[0], tuple):
            return tuple(_Stack.apply(level, *[o[j] for o in outs])
                         for j in range(len(outs[0])))
        return _Stack.apply(level, *outs)

    return apply_or_loop


def _at(a, level: Level) -> bool:
    return is_batched(a) and a.level is level


class _Expand(Function):
    """x, the same for every sample, as a batched tensor;  dx = grad (per sample, see Note
    [Gradients inside vmap]): a shared tensor that a Function without a batching rule uses
    is split into per-sample copies, so that its per-sample gradients stay apart."""

    _builtin = True

    @staticmethod
    def forward(ctx, x, level):
        data = x._data
        return BatchedArray(np.broadcast_to(data[None], (level.size,) + data.shape), level)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def _top_level(args) -> Level | None:
    best = None
    for a in args:
        if isinstance(a, Tensor):
            a = a._data
        if is_batched(a) and (best is None or a.level.depth > best.depth):
            best = a.level
    return best


class _Unbind(Function):
    """The samples of batched x, one tensor each;  dx = the samples' gradients stacked"""

    _builtin = True

    @staticmethod
    def forward(ctx, x, level):
        ctx.level = level
        ctx.meta = (x._data.shape, x._data.dtype)
        value = x._data.value
        return tuple(value[i] for i in range(level.size))

    @staticmethod
    def backward(ctx, *grads):
        shape, dtype = ctx.meta
        zero = None
        filled = []
        for g in grads:
            if g is None:
                if zero is None:
                    zero = _zeros(shape, dtype)
                g = zero
            filled.append(g)
        return _Stack.apply(ctx.level, *filled), None


def _zeros(shape, dtype) -> Tensor:
    from ..tensor import _wrap
    return _wrap(np.zeros(shape, dtype))


class _Stack(Function):
    """One batched tensor from the samples x_0 ... x_{n-1};  dx_i = sample i of grad"""

    _builtin = True

    @staticmethod
    def forward(ctx, level, *xs):
        ctx.level = level
        return BatchedArray(np.stack([x._data for x in xs]), level)

    @staticmethod
    def backward(ctx, grad):
        data = grad._data
        if is_batched(data) and data.level is ctx.level:
            return (None,) + _Unbind.apply(grad, ctx.level)
        return (None,) + (grad,) * ctx.level.size


def _new_level(size: int) -> Level:
    level = Level(len(_levels) + 1, size)
    _level_born()
    weakref.finalize(level, _level_freed)
    return level


# ---- moving between batched and physical tensors --------------------------------------------


class _AddBatchDim(Function):
    """The samples along ``dim`` of x become one batched tensor;  dx = grad unbatched"""

    _builtin = True

    @staticmethod
    def forward(ctx, x, dim, level):
        ctx.dim, ctx.level = dim, level
        data = x._data
        return BatchedArray(np.moveaxis(data, dim, 0) if dim else data, level)

    @staticmethod
    def backward(ctx, grad):
        return _RemoveBatchDim.apply(grad, ctx.level, ctx.dim), None, None


class _RemoveBatchDim(Function):
    """The batched tensor x as all its samples along ``dim``;  dx = grad batched again"""

    _builtin = True

    @staticmethod
    def forward(ctx, x, level, dim):
        ctx.dim, ctx.level = dim, level
        data = x._data
        if is_batched(data) and data.level is level:
            value = data.value
        else:  # the same for every sample: repeat it
            value = np.broadcast_to(data[None], (level.size,) + data.shape).copy()
        return np.moveaxis(value, 0, dim) if dim else value

    @staticmethod
    def backward(ctx, grad):
        return _AddBatchDim.apply(grad, ctx.dim, ctx.level), None, None


def sum_batched_grad(grad: Tensor, t: Tensor, accumulate: bool) -> Tensor:
    """The gradient for ``t`` from a per-sample ``grad`` (Note [Gradients inside vmap]): summed
    over each batch level that ``t`` is not batched at and whose vmap has returned."""
    own = set()
    d = t._data
    while is_batched(d):
        own.add(d.level)
        d = d.value
    data = grad._data
    while is_batched(data) and data.level not in own:
        level = data.level
        if level.active:
            if accumulate:
                raise RuntimeError(
                    "backward() called inside a vmap transform into a tensor that is the same "
                    "for every sample; its .grad cannot hold per-sample values. Use "
                    "retrograd.autograd.grad (or retrograd.func.grad) inside vmap, or call "
                    "backward() outside of it.")
            break
        grad = _RemoveBatchDim.apply(grad, level, 0).sum(0)
        data = grad._data
    return grad


# ---- vmap --------------------------------------------------------------------------------------


def _fn_name(func) -> str:
    return getattr(func, "__name__", repr(func))


def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """``func`` applied to every slice of its inputs along ``in_dims``, as one batched call.

    ``in_dims`` is an int (every input), None (not mapped) or a tuple matching the arguments
    (nested tuples, lists and dicts follow the arguments' structure); ``out_dims`` says where
    the batch dim goes in each output. Nests: ``vmap(vmap(f))``. With ``grad`` (or
    ``retrograd.autograd.grad``) inside, per-sample gradients (Note [Gradients inside vmap]).
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(
            "Only allowed values for randomness are 'error', 'different', or 'same'. "
            f"Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(
            f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        return _vmap_call(func, in_dims, out_dims, randomness, chunk_size, args, kwargs)

    return wrapped


def _vmap_call(func, in_dims, out_dims, randomness, chunk_size, args, kwargs):
    name = _fn_name(func)
    desc = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
    if not isinstance(in_dims, (int, tuple)) or isinstance(in_dims, bool):
        raise ValueError(
            f"{desc}: expected `in_dims` to be int or a (potentially nested) tuple matching the "
            f"structure of inputs, got: {type(in_dims)}.")
    if not args:
        raise ValueError(
            f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are "
            "trying to vmap over a function with no inputs. The latter is unsupported.")
    leaves: list = []
    spec = _flatten(tuple(args), leaves)
    dims = _broadcast_dims(in_dims, spec, "inputs", desc, "in_dims")
    sizes = []
    for x, d in zip(leaves, dims):
        if d is None:
            continue
        if not isinstance(d, int) or isinstance(d, bool):
            raise ValueError(
                f"{desc}: Got in_dim={d} for an input but in_dim must be either an integer "
                "dimension or None.")
        if not isinstance(x, Tensor):
            raise ValueError(
                f"{desc}: Got in_dim={d} for an input but the input is of type {type(x)}. We "
                "cannot vmap over non-Tensor arguments, please use None as the respective "
                "in_dim")
        nd = x.dim()
        if not -nd <= d < nd:
            raise ValueError(
                f"{desc}: Got in_dim={d} for some input, but that input is a Tensor of "
                f"dimensionality {nd} so expected in_dim to satisfy -{nd} <= in_dim < {nd}.")
        sizes.append(x.shape[d])
    if not sizes:
        raise ValueError(
            f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): at least one input must be "
            "mapped (have an in_dim that is not None); got in_dims that map none of them.")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(
            "vmap: Expected all tensors to have the same size in the mapped dimension, got "
            f"sizes {sizes} for the mapped dimension")
    size = sizes[0]
    if chunk_size is not None and chunk_size < size:
        return _chunked(func, dims, leaves, spec, out_dims, randomness, chunk_size, size,
                        kwargs)
    return _run(func, dims, leaves, spec, out_dims, randomness, size, kwargs)


def _chunked(func, dims, leaves, spec, out_dims, randomness, chunk_size, size, kwargs):
    from .. import cat  # (above this module)
    pieces = []
    for start in range(0, size, chunk_size):
        n = min(chunk_size, size - start)
        part = [x if d is None else x.narrow(d, start, n) for x, d in zip(leaves, dims)]
        pieces.append(_run(func, dims, part, spec, out_dims, randomness, n, kwargs))
    first_leaves: list = []
    out_spec = _flatten(pieces[0], first_leaves)
    per = [[] for _ in first_leaves]
    for p in pieces:
        got: list = []
        _flatten(p, got)
        for i, t in enumerate(got):
            per[i].append(t)
    odims = _out_dims_for(out_dims, out_spec, len(first_leaves))
    outs = [cat(ts, dim=d) if d is not None else ts[0] for ts, d in zip(per, odims)]
    return _unflatten(out_spec, outs)


def _out_dims_for(out_dims, out_spec, n: int):
    if isinstance(out_dims, (int, type(None))) and not isinstance(out_dims, bool):
        return [out_dims] * n
    return _expand_prefix(out_dims, out_spec)


def _run(func, dims, leaves, spec, out_dims, randomness, size, kwargs):
    name = _fn_name(func)
    if not (out_dims is None or isinstance(out_dims, (int, tuple, list))) or isinstance(
            out_dims, bool):
        raise ValueError(
            f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a "
            "python collection of ints representing where in the outputs the vmapped "
            "dimension should appear.")
    level = _new_level(size)
    _levels.append(level)
    restore = _set_randomness(randomness, level)
    try:
        batched = [x if d is None else _AddBatchDim.apply(x, d if d >= 0 else d + x.dim(), level)
                   for x, d in zip(leaves, dims)]
        result = func(*_unflatten(spec, batched), **kwargs)
    finally:
        restore()
        _levels.pop()
        level.active = False
    out_leaves: list = []
    out_spec = _flatten(result, out_leaves)
    odims = _out_dims_for(out_dims, out_spec, len(out_leaves))
    if odims is None:
        raise ValueError(
            f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with "
            f"the structure of `outputs`. out_dims has structure "
            f"{_spec_str(_flatten(out_dims, []))} but outputs has structure "
            f"{_spec_str(out_spec)}.")
    outs = []
    for t, d in zip(out_leaves, odims):
        if d is None:
            if isinstance(t, Tensor) and is_batched(t._data) and t._data.level is level:
                raise ValueError(
                    f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim "
                    "is None")
            outs.append(t)
            continue
        if not isinstance(t, Tensor):
            raise ValueError(
                f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(t)}. Did "
                "you mean to set out_dims= to None for output?")
        if not isinstance(d, int) or isinstance(d, bool):
            raise ValueError(
                f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a "
                "python collection of ints representing where in the outputs the vmapped "
                "dimension should appear.")
        nd = t.dim() + 1
        if not -nd <= d < nd:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got "
                f"{d})")
        outs.append(_RemoveBatchDim.apply(t, level, d + nd if d < 0 else d))
    return _unflatten(out_spec, outs)


# ---- randomness ------------------------------------------------------------------------------


class _RandomnessError:
    def __getattr__(self, name):
        raise RuntimeError(
            "vmap: called random operation while in randomness error mode. Please either use "
            "the 'same' or 'different' randomness flags on vmap or perform the randomness "
            "operation out of vmap")


class _PerSample:
    """Draws of a NumPy generator made once per sample (randomness='different')."""

    def __init__(self, gen, level: Level) -> None:
        self._gen = gen
        self._level = level

    def __getattr__(self, name):
        draw = getattr(self._gen, name)
        if name not in ("random", "standard_normal", "integers", "normal", "uniform",
                        "exponential", "bernoulli", "binomial"):
            return draw

        def batched(*args, size=None, **kwargs):
            if size is None and name in ("random", "standard_normal") and args:
                size, args = args[0], args[1:]
            if size is None:
                size = ()
            size = (size,) if isinstance(size, int) else tuple(size)
            return BatchedArray(draw(*args, size=(self._level.size,) + size, **kwargs),
                                self._level)

        return batched


def _set_randomness(randomness: str, level: Level):
    if randomness == "same":
        return lambda: None
    from ..creation import default_generator
    gen = default_generator.gen
    default_generator.gen = _RandomnessError() if randomness == "error" else _PerSample(
        gen, level)

    def restore() -> None:
        default_generator.gen = gen

    return restore


__all__ = ["vmap", "INPLACE_MSG"]
