"""The function transforms of ``retrograd.func``: grad, grad_and_value, vjp, jvp, jacrev, jacfwd,
hessian, as PyTorch's ``torch.func`` (functorch) has them, built on ``autograd.grad``.

Note [Levels without wrappers]
    functorch gives each transform call a level and wraps tensors per level, so that
    ``grad(grad(f))`` differentiates each level only w.r.t. its own inputs. Here a transform
    call differentiates w.r.t. fresh tensors of its own: a detached copy that requires grad,
    or, for an input that already requires grad (an outer transform's input, or a user's
    tensor), a view of it (``x.view_as(x)``), so the outer graph runs through. ``autograd.grad``
    w.r.t. that view collects only the gradient arriving at the view, never the outer one.

    Whether a call must record the graph of its own backward (``create_graph``) is decided by
    looking at what ``func`` computed: when grad mode was on at the call and the outputs'
    graph reaches a leaf that is not one of the call's own fresh tensors (an outer level's
    input, a model parameter, a tensor the user made), someone outside may differentiate the
    result, so the backward is recorded. The fresh tensors of calls that have returned (an
    inner grad's) are nobody's: no one can ask for a derivative w.r.t. them any more.
    Results are returned attached to the graph only when they themselves reach such a leaf,
    and detached otherwise, as functorch returns plain tensors when no outer level tracks
    them. ``grad(grad(f))(x)`` thus gives f''(x), and
    ``grad(f)(x)`` for ``x.requires_grad`` stays differentiable w.r.t. ``x``.

Note [Forward products]
    ``jvp`` and ``jacfwd`` use forward-mode AD (autograd/forward_ad.py), as functorch does:
    ``func`` runs inside a dual level on inputs carrying the tangents, so only the ops' ``jvp``
    rules are needed (an op whose backward is once-differentiable works), and ``jacfwd`` runs
    ``func`` once per input entry (a column of J), with the random state put back before each
    run so every column sees the same draws. ``jacrev`` takes one vector-Jacobian product per
    output entry (a row). Neither needs vmap: they loop.
    retrograd has one dual level, so a call made while one is active (``jacfwd(jacfwd(f))``,
    ``jvp`` inside ``jvp``) uses the double-vjp trick instead (Note [The double-vjp trick] in
    autograd/functional.py): with ``u`` a dummy cotangent that requires grad, ``g = J^T u``
    recorded, ``J t`` is the gradient of ``g`` w.r.t. ``u`` in the direction ``t``; the
    results are the same.
"""

from __future__ import annotations

import functools
import weakref

import numpy as np

from .. import grad_mode
from ..autograd import forward_ad as _fwad
from ..autograd.engine import grad as _autograd_grad
from ..autograd.graph import AccumulateGrad
from ..creation import default_generator
from ..ops.join import stack
from ..tensor import Tensor, _wrap
from ._pytree import tree_flatten, tree_unflatten

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian"]


# ---- argnums ---------------------------------------------------------------------------

def _check_argnum(i, n: int) -> int:
    if not isinstance(i, int) or isinstance(i, bool):
        raise RuntimeError(f"argnums must hold ints, got {type(i)}.")
    if -n <= i < n:
        return i % n
    raise RuntimeError(f"argnums asks for argument {i}, but the function was called with only "
                       f"{n} positional arguments.")


def _argnums(argnums, n: int):
    """``argnums`` checked and made non-negative: an int, or a tuple of distinct ints."""
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        return _check_argnum(argnums, n)
    if not isinstance(argnums, tuple):
        raise RuntimeError(f"argnums must be an int or a tuple of ints, got {type(argnums)}.")
    if not argnums:
        raise RuntimeError("argnums must not be empty: name at least one argument to "
                           "differentiate.")
    out = tuple(_check_argnum(i, n) for i in argnums)
    if len(set(out)) != len(out):
        raise RuntimeError(f"argnums must not repeat an argument, got {argnums}.")
    return out


def _diff_args(args: tuple, argnums) -> tuple:
    """The differentiated arguments, always as a tuple (one per entry of argnums)."""
    return (args[argnums],) if isinstance(argnums, int) else tuple(args[i] for i in argnums)


def _replace_args(args: tuple, argnums, new: tuple) -> tuple:
    picked = (argnums,) if isinstance(argnums, int) else argnums
    args = list(args)
    for i, value in zip(picked, new):
        args[i] = value
    return tuple(args)


# ---- one level of differentiation (Note [Levels without wrappers]) ---------------------

# Every leaf a transform call made, by id: (weak reference to it, weak reference to the call's
# level). An entry goes when its tensor dies, so a later tensor with the same id is never
# mistaken for it; both references are weak, or the table would keep every call's inputs (and
# the level, which holds them) alive for ever.
_LEAVES: dict = {}


class _Level:
    """The fresh tensors one transform call differentiates w.r.t., and what they reach.

    ``active`` is True until the call returns: a leaf of an active level is an outer level's
    input (someone may still differentiate w.r.t. it); a leaf of a finished level is nobody's.
    """

    def __init__(self, tree) -> None:
        flat, self.spec = tree_flatten(tree)
        for x in flat:
            if not isinstance(x, Tensor):
                raise ValueError(f"the arguments a transform differentiates must be Tensors "
                                 f"(or tuples, lists and dicts of Tensors), got {type(x)}.")
        self.outer_grad = grad_mode.is_grad_enabled()
        self.active = True
        with grad_mode.enable_grad():
            self.inputs = [x.view_as(x) if self.outer_grad and x.requires_grad
                           else self._own(x.detach().requires_grad_()) for x in flat]

    def __enter__(self) -> _Level:
        return self

    def __exit__(self, *exc) -> None:
        self.active = False

    def _own(self, t: Tensor) -> Tensor:
        key = id(t)
        # (the callback holds the dict itself: at interpreter exit module globals are None)
        _LEAVES[key] = (weakref.ref(t, lambda _, key=key, d=_LEAVES: d.pop(key, None)),
                        weakref.ref(self))
        return t

    def tree(self):
        return tree_unflatten(self.inputs, self.spec)

    def fresh(self, like: Tensor) -> Tensor:
        """A zero tensor of this level that requires grad (a dummy cotangent)."""
        return self._own(_zeros_like(like).requires_grad_())

    def _outside(self, leaf: Tensor) -> bool:
        """Whether someone outside this call may differentiate w.r.t. ``leaf``."""
        entry = _LEAVES.get(id(leaf))
        if entry is None or entry[0]() is not leaf:
            return True  # a user's tensor (a parameter, an input that required grad)
        level = entry[1]()  # None: that call has returned and is gone
        return level is not None and level is not self and level.active

    def reaches_outside(self, tensors) -> bool:
        """Whether the graph of any of ``tensors`` reaches a leaf someone outside may
        differentiate w.r.t. (Note [Levels without wrappers])."""
        if not self.outer_grad:
            return False
        stack_, seen = [], set()
        for t in tensors:
            if isinstance(t, Tensor) and t.requires_grad:
                if t.grad_fn is None:
                    if self._outside(t):
                        return True
                else:
                    stack_.append(t.grad_fn)
        while stack_:
            node = stack_.pop()
            if node.__class__ is AccumulateGrad:
                var = node._variable()
                if var is not None and self._outside(var):
                    return True
                continue
            for nxt in node._edges:
                if nxt is not None and nxt not in seen:
                    seen.add(nxt)
                    stack_.append(nxt)
        return False

    def release(self, t):
        """``t`` as the caller gets it: attached only where an outer level can use its graph."""
        if isinstance(t, Tensor) and t.requires_grad and not self.reaches_outside((t,)):
            return t.detach()
        return t

    def release_aux(self, tree):
        """``aux`` as the caller gets it; like functorch, it may hold only Tensors."""
        flat, spec = tree_flatten(tree)
        for t in flat:
            if not isinstance(t, Tensor):
                raise RuntimeError(f"has_aux=True: aux must be a Tensor or a tuple, list or dict "
                                   f"of Tensors, got a {type(t)} in it.")
        return tree_unflatten([self.release(t) for t in flat], spec)


def _zeros_like(t: Tensor) -> Tensor:
    return _wrap(np.zeros(t._data.shape, t._data.dtype))


def _vjp(outputs, inputs, cotangents, create_graph: bool, retain_graph: bool = True) -> list:
    """Gradients of the outputs that require grad w.r.t. ``inputs``; zeros where unused."""
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o is not None and o.requires_grad]
    grads = (None,) * len(inputs)
    if pairs:
        outs, cots = zip(*pairs)
        grads = _autograd_grad(outs, inputs, cots, retain_graph=retain_graph,
                               create_graph=create_graph, allow_unused=True)
    return [_zeros_like(x) if g is None else g for g, x in zip(grads, inputs)]


def _check_float(flat: list, api: str) -> None:
    for o in flat:
        if not o.is_floating_point():
            raise RuntimeError(f"{api}: every output must be a floating-point Tensor (only "
                               f"those have gradients), got one of dtype {o.dtype}.")


def _split_aux(out, has_aux: bool, api: str):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{api}: with has_aux=True the function must return a tuple "
                           "(output, aux).")
    return out


def _check_outputs(flat: list, api: str) -> None:
    if not flat:
        raise RuntimeError(f"{api}: the function must return at least one Tensor, got none.")
    for o in flat:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: the function must return Tensors (or tuples, lists and "
                               f"dicts of them), got {type(o)}.")


# ---- grad and vjp ----------------------------------------------------------------------

def grad_and_value(func, argnums=0, has_aux: bool = False):
    """``func`` transformed to return ``(gradient, value)`` (``(gradient, (value, aux))`` with
    has_aux). The gradient has the structure of the differentiated argument(s)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        api = "grad_and_value(f)(*args)"
        nums = _argnums(argnums, len(args))
        with _Level(_diff_args(args, nums)) as level:
            with grad_mode.enable_grad():
                out = func(*_replace_args(args, nums, level.tree()), **kwargs)
                out, aux = _split_aux(out, has_aux, api)
                if not isinstance(out, Tensor):
                    raise RuntimeError(f"{api}: the function must return a Tensor, got "
                                       f"{type(out)}.")
                if out.dim() != 0:
                    raise RuntimeError(
                        f"{api}: the function must return a scalar (0-dim) Tensor, got one with "
                        f"{out.dim()} dims. For Jacobians of non-scalar functions use vjp or "
                        "jacrev.")
                create = level.reaches_outside((out,))
                grads = _vjp((out,), level.inputs, (None,), create, retain_graph=create)
            gtree = tree_unflatten([level.release(g) for g in grads], level.spec)
            if isinstance(nums, int):
                gtree = gtree[0]
            value = level.release(out)
            if has_aux:
                return gtree, (value, level.release_aux(aux))
            return gtree, value
    return wrapper


def grad(func, argnums=0, has_aux: bool = False):
    """``func`` transformed to return the gradient of its scalar output w.r.t. argument
    ``argnums`` (``(gradient, aux)`` with has_aux)."""
    inner = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = inner(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func, *primals, has_aux: bool = False):
    """``(func(*primals), vjp_fn)`` (and ``aux`` with has_aux); ``vjp_fn(cotangents)`` returns
    the vector-Jacobian product as a tuple with one entry per primal."""
    api = "vjp(f, *primals)"
    with _Level(primals) as level:
        with grad_mode.enable_grad():
            out = func(*level.tree())
            out, aux = _split_aux(out, has_aux, api)
            flat_out, out_spec = tree_flatten(out)
            _check_outputs(flat_out, api)
            _check_float(flat_out, api)
            create = level.reaches_outside(flat_out)

        def vjp_fn(cotangents, retain_graph: bool = True, create_graph: bool | None = None):
            flat_ct, ct_spec = tree_flatten(cotangents)
            if ct_spec != out_spec:
                raise RuntimeError(f"vjp_fn: the cotangents must have the structure of the "
                                   f"function's output {out_spec!r}, got {ct_spec!r}.")
            if create_graph is None:
                create_graph = grad_mode.is_grad_enabled() and (
                    create or any(isinstance(c, Tensor) and c.requires_grad for c in flat_ct))
            grads = _vjp(flat_out, level.inputs, flat_ct, create_graph, retain_graph)
            return tree_unflatten([level.release(g) for g in grads], level.spec)

        result = (tree_unflatten([level.release(o) for o in flat_out], out_spec), vjp_fn)
        return result + (level.release_aux(aux),) if has_aux else result


# ---- forward products: jvp, jacfwd (Note [Forward products from reverse mode]) ---------

def jvp(func, primals, tangents, *, strict: bool = False, has_aux: bool = False):
    """``(func(*primals), J @ tangents)`` (and ``aux`` with has_aux); ``primals`` is a tuple of
    arguments and ``tangents`` has its structure."""
    api = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{api}: primals must be a tuple (the arguments, so that f(*primals) "
                           f"is the call), got {type(primals)}.")
    flat_p, p_spec = tree_flatten(primals)
    flat_t, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(f"{api}: tangents must have the structure of primals {p_spec!r}, "
                           f"got {t_spec!r}.")
    for name, flat in (("primals", flat_p), ("tangents", flat_t)):
        if not flat:
            raise RuntimeError(f"{api}: {name} must hold at least one Tensor.")
        for x in flat:
            if not isinstance(x, Tensor):
                raise RuntimeError(f"{api}: {name} must hold only Tensors, got {type(x)}.")
    for i, (p, t) in enumerate(zip(flat_p, flat_t)):
        if p.shape != t.shape:
            raise RuntimeError(f"{api}: tangent {i} has shape {list(t.shape)} but its primal "
                               f"has shape {list(p.shape)}; they must match.")
    with _Level(primals) as level:
        with grad_mode.enable_grad():
            if _fwad._current_level < 0:  # Note [Forward products]
                flat_out, out_spec, aux, columns = _forward(func, level, lambda tree: tree,
                                                            flat_t, has_aux, strict, api)
            else:
                out = func(*level.tree())
                out, aux = _split_aux(out, has_aux, api)
                flat_out, out_spec = tree_flatten(out)
                _check_outputs(flat_out, api)
                columns = _jvp_columns(level, flat_out, [flat_t], strict)[0]
        result = (tree_unflatten([level.release(o) for o in flat_out], out_spec),
                  tree_unflatten(columns, out_spec))
        return result + (level.release_aux(aux),) if has_aux else result


def _forward(func, level: _Level, call, tangents: list, has_aux: bool, strict: bool,
             api: str):
    """``func`` run once in a dual level, level's inputs carrying ``tangents`` (None: no
    tangent): (flat outputs, their spec, aux, the outputs' tangents, zeros where none).
    ``call(inputs_tree)`` gives func's arguments."""
    with _fwad.dual_level():
        duals = [x if t is None else _fwad.make_dual(x, t)
                 for x, t in zip(level.inputs, tangents)]
        out = func(*call(tree_unflatten(duals, level.spec)))
        out, aux = _split_aux(out, has_aux, api)
        flat_out, out_spec = tree_flatten(out)
        _check_outputs(flat_out, api)
        unpacked = [_fwad.unpack_dual(o) for o in flat_out]
        if has_aux:
            aux_flat, aux_spec = tree_flatten(aux)
            aux = tree_unflatten([_fwad.unpack_dual(a).primal if isinstance(a, Tensor) else a
                                  for a in aux_flat], aux_spec)
    if strict and any(u.tangent is None for u in unpacked):
        raise RuntimeError("jvp(f, primals, tangents, strict=True): an output of f does not "
                           "depend on the inputs, which strict=True forbids.")
    columns = [level.release(_zeros_like(o) if u.tangent is None else u.tangent)
               for u, o in zip(unpacked, flat_out)]
    return [u.primal for u in unpacked], out_spec, aux, columns


def _jvp_columns(level: _Level, flat_out: list, directions: list, strict: bool) -> list:
    """``J t`` for each ``t`` in ``directions`` (each a list with one tangent per input, None
    for a zero tangent)."""
    dummies = [level.fresh(o) for o in flat_out]
    g = _vjp(flat_out, level.inputs, dummies, create_graph=True)  # J^T u, linear in u
    result = []
    for tangents in directions:
        create = level.reaches_outside(flat_out) or any(
            t is not None and t.requires_grad for t in tangents)
        live = [(gi, t) for gi, t in zip(g, tangents) if t is not None and gi.requires_grad]
        cols = [None] * len(dummies)
        if live:
            cols = _autograd_grad([gi for gi, _ in live], dummies, [t for _, t in live],
                                  retain_graph=True, create_graph=create, allow_unused=True)
        if strict and any(c is None for c in cols):
            raise RuntimeError("jvp(f, primals, tangents, strict=True): an output of f does "
                               "not depend on the inputs, which strict=True forbids.")
        result.append([level.release(_zeros_like(o) if c is None else c)
                       for c, o in zip(cols, flat_out)])
    return result


def _check_randomness(randomness: str) -> None:
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"randomness must be 'error', 'different' or 'same', got "
                           f"{randomness!r}.")


def _assemble(per_output: list, level: _Level, out_spec, argnums):
    """``per_output[i][j]`` (output leaf i, input leaf j) nested as output tree of input trees."""
    rows = []
    for per_input in per_output:
        tree = tree_unflatten(per_input, level.spec)
        rows.append(tree[0] if isinstance(argnums, int) else tree)
    return tree_unflatten(rows, out_spec)


def jacfwd(func, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """``func`` transformed to return its Jacobian w.r.t. argument(s) ``argnums``, one column per
    input entry. ``randomness`` is checked but has no effect: retrograd runs ``func`` once."""
    _check_randomness(randomness)

    @functools.wraps(func)
    def wrapper(*args):
        nums = _argnums(argnums, len(args))
        with _Level(_diff_args(args, nums)) as level:
            with grad_mode.enable_grad():
                directions = []
                for j, x in enumerate(level.inputs):
                    eye = np.eye(x.numel(), dtype=x._data.dtype)
                    for k in range(x.numel()):
                        directions.append([_wrap(eye[k].reshape(x._data.shape)) if m == j
                                           else None for m in range(len(level.inputs))])
                if _fwad._current_level < 0:  # Note [Forward products]
                    flat_out, out_spec, aux, columns = _jacfwd_forward(
                        func, level, args, nums, directions, has_aux)
                else:
                    out = func(*_replace_args(args, nums, level.tree()))
                    out, aux = _split_aux(out, has_aux, "jacfwd(f)(*args)")
                    flat_out, out_spec = tree_flatten(out)
                    _check_outputs(flat_out, "jacfwd(f)(*args)")
                    columns = _jvp_columns(level, flat_out, directions, strict=False)
            per_output = []
            for i, o in enumerate(flat_out):
                per_input, start = [], 0
                for x in level.inputs:
                    n = x.numel()
                    cols = [c[i] for c in columns[start:start + n]]
                    shape = tuple(o.shape) + tuple(x.shape)
                    per_input.append(stack(cols, dim=-1).reshape(shape) if cols
                                     else _wrap(np.zeros(shape, o._data.dtype)))
                    start += n
                per_output.append(per_input)
            jac = _assemble(per_output, level, out_spec, nums)
            return (jac, level.release_aux(aux)) if has_aux else jac
    return wrapper


def _jacfwd_forward(func, level: _Level, args: tuple, nums, directions: list, has_aux: bool):
    """jacfwd's outputs, their spec, aux and one column per direction, by forward mode: func
    runs once per direction (and once without tangents when there are none), each run from
    the same random state (Note [Forward products])."""
    api = "jacfwd(f)(*args)"
    try:
        state = default_generator.get_state()
    except RuntimeError:  # inside vmap(randomness="error"), where no random op may run anyway
        state = None
    columns = []
    first = None
    for tangents in directions or [[None] * len(level.inputs)]:
        if state is not None:
            default_generator.set_state(state)
        run = _forward(func, level, lambda tree: _replace_args(args, nums, tree), tangents,
                       has_aux, False, api)
        first = first or run
        columns.append(run[3])
    if not directions:
        columns = []
    return first[0], first[1], first[2], columns


# ---- jacrev, hessian -------------------------------------------------------------------

def jacrev(func, argnums=0, *, has_aux: bool = False, chunk_size: int | None = None):
    """``func`` transformed to return its Jacobian w.r.t. argument(s) ``argnums``, one row (a
    vector-Jacobian product) per output entry. ``chunk_size`` is checked; rows are computed one
    at a time whatever its value."""
    if chunk_size is not None and not chunk_size > 0:
        raise ValueError("jacrev: chunk_size must be None or a positive int.")

    @functools.wraps(func)
    def wrapper(*args):
        nums = _argnums(argnums, len(args))
        with _Level(_diff_args(args, nums)) as level:
            with grad_mode.enable_grad():
                out = func(*_replace_args(args, nums, level.tree()))
                out, aux = _split_aux(out, has_aux, "jacrev(f)(*args)")
                flat_out, out_spec = tree_flatten(out)
                _check_outputs(flat_out, "vjp(f, *primals)")
                _check_float(flat_out, "vjp(f, *primals)")
                create = level.reaches_outside(flat_out)
                per_output = []
                for o in flat_out:
                    n = o.numel()
                    eye = np.eye(n, dtype=o._data.dtype)
                    rows = [_vjp((o,), level.inputs, (_wrap(eye[k].reshape(o._data.shape)),),
                                 create) for k in range(n)]
                    per_output.append([
                        level.release(stack([r[j] for r in rows]).reshape(tuple(o.shape)
                                                                          + tuple(x.shape)))
                        if rows else _wrap(np.zeros(tuple(o.shape) + tuple(x.shape),
                                                    x._data.dtype))
                        for j, x in enumerate(level.inputs)])
            jac = _assemble(per_output, level, out_spec, nums)
            return (jac, level.release_aux(aux)) if has_aux else jac
    return wrapper


def hessian(func, argnums=0):
    """The Hessian of a scalar ``func`` w.r.t. argument(s) ``argnums``: jacfwd of jacrev."""
    return jacfwd(jacrev(func, argnums), argnums)
