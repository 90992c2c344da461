"""Function: one class per differentiable operation, its forward and backward side by side.

``SomeOp.apply(*args)`` runs ``forward(ctx, *args)`` and, when grad mode is on and an input
requires grad, records a node in the graph. The node is an instance of the Function's
*backward class* (``AddBackward0`` for ``Add``; see graph.py), and it is also the ``ctx`` that
forward saw: what forward saved on it is what backward reads. Built-in ops and user-defined
Functions take exactly this path.

Note [Forward works on arrays]
    A built-in forward (any Function defined under ``retrograd.ops``) computes on the inputs'
    arrays (``x._data``) and returns an array (or a tuple of arrays); ``apply`` wraps the
    result. A user Function may instead compute with tensor ops and return tensors; ``apply``
    runs it with grad mode off and unwraps them.

Note [Backward works on tensors]
    ``backward(ctx, *grads)`` receives and returns Tensors and is written with retrograd ops.
    The engine runs it with grad mode equal to ``create_graph``, so the same formula gives the
    first derivative and records a graph for higher derivatives when asked. Backward returns
    one gradient per forward argument (``None`` for arguments that are not tensors or need no
    gradient); the engine sums each gradient to its input's shape and dtype.

Note [Fast backward]
    A Function may also define ``fast_backward(ctx, *grads)``: the same derivative computed
    on arrays, for a backward that records nothing (no ``create_graph``). The engine picks it
    then, and ``backward`` otherwise. It exists only where a measurement showed that going
    through ``apply`` for each term costs too much (the hottest small ops: mul, div, x**2, mm,
    tanh, sigmoid, relu, sum, mean; and the fused kernels: recurrent cells, cross-entropy,
    batch/layer norm), and it reuses the array ``kernel`` of the derivative's own primitive
    where there is one, so the formula stays written once. The op table checks that both give
    the same gradients on every entry.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import grad_mode
from .._base_views import follow_base, note_view
from ..tensor import Tensor, _wrap
from .graph import (
    HookedSaved,
    Node,
    SavedOutput,
    _meta1_cache,
    current_saved_hooks,
    output_meta,
    output_meta1,
    saved_hooks_stack,
    sequence,
)

_state = grad_mode.state
_OPS_PACKAGE = __name__.rsplit(".", 2)[0] + ".ops"  # "retrograd.ops": where built-ins live
_new = object.__new__
_ndarray = np.ndarray


class FunctionMeta(type):
    """Gives each Function subclass its node class (``node_name``; by default ``AddBackward0``
    for the built-in ``Add``) and decides whether its forward computes on arrays."""

    def __init__(cls, name, bases, attrs) -> None:
        super().__init__(name, bases, attrs)
        if "_builtin" not in attrs:  # see Note [Forward works on arrays]
            cls._builtin = cls.__module__.startswith(_OPS_PACKAGE)
        # PyTorch's names: ``MulBackward0`` for its own ops, ``MyFnBackward`` for user Functions
        node_name = attrs.get("node_name") or f"{name}Backward{'0' if cls._builtin else ''}"
        if not cls._builtin and bases:  # Note [User Functions]
            backward, vjp = cls.__dict__.get("backward"), cls.__dict__.get("vjp")
            if backward is not None and vjp is not None:
                raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function "
                                   "is not allowed. You should only implement one of them.")
            if vjp is not None:
                cls.backward = vjp
            cls._setup_ctx = cls.setup_context is not Function.setup_context
        cls._backward_cls = type(node_name, (Node,), {
            "__slots__": (), "_function": cls, "__module__": cls.__module__,
            "_ctx_arrays": tuple(getattr(cls, "ctx_arrays", ())),
        })


class Function(metaclass=FunctionMeta):
    """Base class of differentiable operations, built-in and user-defined.

    Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)`` and call
    ``YourFunction.apply(*args)``.
    """

    _is_view = False  # a view op's output shares memory (and the version counter) with args[0]
    fast_backward = None  # optional, see Note [Fast backward]
    jvp = None  # optional: jvp(ctx, *input_tangents) -> output tangents (forward_ad.py)

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("You must implement the forward function for a custom Function.")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    vjp = backward  # PyTorch's other name for backward

    @staticmethod
    def setup_context(ctx, inputs: tuple, output):
        """Optional: with it, ``forward(*args)`` takes no ctx, and this saves what backward
        needs from the ``inputs`` and the ``output`` forward returned."""
        raise NotImplementedError("setup_context is not implemented.")

    @classmethod
    def apply(cls, *args):
        """Run forward; when grad mode is on and an input requires grad, record the node."""
        ctx = _new(cls._backward_cls)
        ctx._packed = None
        ctx._edges = ()
        record = False
        if _state.enabled:  # link the node to the nodes its inputs' gradients go to
            edges = []
            slots = []  # per argument: its node's output slot; -2 needs no grad, -1 no tensor
            for a in args:
                if isinstance(a, Tensor) and a._requires_grad:
                    record = True
                    edges.append(a._grad_fn or a._accumulator or a._gradient_edge())
                    slots.append(a._output_nr)
                else:
                    edges.append(None)
                    slots.append(-2 if isinstance(a, Tensor) else -1)
            if record:
                ctx._edges = tuple(edges)
                slots = tuple(slots)
                ctx._edge_nrs, ctx.needs_input_grad = _slots_cache.get(slots) or _slots_for(slots)
                ctx._sequence_nr = next(sequence)
        if not record:
            n = len(args)
            ctx.needs_input_grad = _NO_GRADS[n] if n < 8 else (False,) * n
        if dual.level:  # forward-mode AD is on: Note [Forward-mode AD] in forward_ad.py
            return dual.apply(cls, ctx, args, record)
        if cls._builtin:
            out = cls.forward(ctx, *args)
        else:
            return _apply_user(cls, ctx, args, record)
        if out.__class__ is not _ndarray and isinstance(out, np.generic):
            out = _scalar_output(ctx, out)
        if out.__class__ is not _ndarray or cls._is_view:
            return _wrap_outputs(out, ctx if record else None, cls, args)
        # one array, the common case: a new tensor (made inline: this is the hottest path)
        t = _new(Tensor)
        t._data = out
        t._version_counter = None
        if not record or out.dtype.kind != "f":
            t._requires_grad = False
            t._grad_fn = None
            return t
        t._requires_grad = True
        t._grad_fn = ctx
        ctx._outputs_meta = _meta1_cache.get((out.shape, out.dtype)) or output_meta1(out)
        saved = ctx._packed
        if saved is not None:
            if saved_hooks_stack:  # Note [Saved tensor hooks] in graph.py
                _pack_saved(ctx, (out,), (t,))
                return t
            if len(saved) == 1 and saved[0] is out:  # only the output: Note [Saved outputs]
                ctx._packed = out
                t._version_counter = ctx._out_counter = [0]
                return t
            ctx._packed_versions = None
            for s in saved:  # usually plain tensors never changed in place (or None: unsaved)
                if s is not None and (s.__class__ is not Tensor or (
                        s._version_counter is not None and s._version_counter[0])):
                    _pack_saved(ctx, (out,), (t,))
                    break
        return t


class _DualState:
    """Forward-mode AD's switch (Note [Forward-mode AD] in forward_ad.py): ``level`` is nonzero
    while a dual level is active, and ``apply`` (set by forward_ad.py) then takes over."""

    __slots__ = ("level", "apply")  # (a slot, not a class attribute: the cheapest check)


dual = _DualState()
dual.level = 0


# (edge slots, needs_input_grad) shared between nodes: Note [Few long-lived objects per node]
_slots_cache: dict = {}
_NO_GRADS = tuple((False,) * n for n in range(8))  # needs_input_grad of an unrecorded op


def _slots_for(key: tuple) -> tuple:
    nrs = tuple(0 if c == -2 else c for c in key)
    needs = tuple(c >= 0 for c in key)
    if len(_slots_cache) > 50_000:
        _slots_cache.clear()
    slots = _slots_cache[key] = (nrs, needs)
    return slots


def _scalar_output(ctx: Node, scalar) -> np.ndarray:
    """NumPy gives scalars for 0-d results; make an array (also where forward saved it)."""
    out = np.asarray(scalar)
    if ctx._packed is not None:
        ctx._packed = tuple(out if s is scalar else s for s in ctx._packed)
    return out


def _wrap_outputs(out, ctx: Node | None, cls, args: tuple):
    """Wrap forward's result(s) as tensors; attach ``ctx`` as their ``grad_fn`` when recording."""
    single = out.__class__ is not tuple
    outs = (out,) if single else out
    results = []
    for i, o in enumerate(outs):
        data = o._data if isinstance(o, Tensor) else o
        if ctx is not None and data.dtype.kind == "f":
            results.append(_wrap(data, ctx, True, i))
        else:
            results.append(_wrap(data))
    if cls._is_view:
        parent = args[0]
        root = parent if parent._base is None else parent._base
        counter = parent._version_counter
        if counter is None:  # a view shares its base's counter, so it must exist now
            counter = parent._version_counter = [0]
        no_grad_view = not _state.enabled or parent._no_grad_view
        for i, t in enumerate(results):
            if no_grad_view:  # Note [Views made under no_grad] in ops/inplace.py
                t._no_grad_view = True
                if root._requires_grad and t._data.dtype.kind == "f":
                    t._requires_grad = True
            t._version_counter = counter
            t._base = root
            # how to make this view again from its parent (see ops/inplace.py, views)
            t._view_src = (cls, parent, args[1:], i)
            if t._grad_fn is not None:  # a view keeps its node apart: Note [Stale views]
                t._view_fn = t._grad_fn
                t._grad_fn = None
            t._fn_version = counter[0]
            if not root._requires_grad and t._data.dtype.kind == "f":
                note_view(root, t)  # Note [Views of a base that needs no grad]
    if ctx is not None:
        ctx._outputs_meta = output_meta(*[t._data for t in results])
        if ctx._packed is not None:
            _pack_saved(ctx, outs, results)
        nd = ctx.__dict__.get("_non_differentiable")
        if nd:
            ids = {id(x) for x in nd}
            for o, t in zip(outs, results):
                if id(o) in ids:
                    t.grad_fn = None
                    t._requires_grad = False
    return results[0] if single else tuple(results)


def _pack_saved(ctx: Node, outs: tuple, results) -> None:
    """Record the versions of saved tensors; a saved output becomes a ``SavedOutput``."""
    saved = ctx._packed
    versions = []
    packed = list(saved)
    hooks = current_saved_hooks() if saved_hooks_stack else None
    for j, s in enumerate(saved):
        i = next((i for i, o in enumerate(outs) if s is o), None)
        if hooks is not None and s is not None:  # Note [Saved tensor hooks] in graph.py
            if i is None and not isinstance(s, Tensor):
                raise _save_error(j, s)
            t = s if i is None else results[i]
            packed[j] = HookedSaved(t, i is not None, 0 if i is None else i, hooks)
            versions.append(0)
        elif i is not None:
            t = results[i]
            if t._version_counter is None:  # the saved copy must see later changes
                t._version_counter = [0]
            packed[j] = SavedOutput(t._data, i, t._version_counter)
            versions.append(t._version_counter[0])  # (not 0 for an input marked dirty)
        elif isinstance(s, Tensor):
            counter = s._version_counter
            versions.append(0 if counter is None else counter[0])
        elif s is None:
            versions.append(0)
        else:
            raise _save_error(j, s)
    ctx._packed = tuple(packed)
    ctx._packed_versions = tuple(versions) if any(versions) else None


def _save_error(j: int, s) -> TypeError:
    return TypeError(
        f"save_for_backward can only save variables, but argument {j} is of type "
        f"{type(s).__name__}; keep other values as attributes of ctx.")


# ---- user-defined Functions ------------------------------------------------------------------
#
# Note [User Functions]
#     A Function defined outside retrograd.ops computes on tensors, with grad mode off, in one
#     of two styles: ``forward(ctx, *args)``, or ``forward(*args)`` plus
#     ``setup_context(ctx, inputs, output)``. Its outputs may be tensors or any other value
#     (passed through as they are; backward gets None for them). ``ctx.mark_dirty(x)`` says x
#     was changed in place: x itself is returned, its version bumps and its history moves onto
#     this node (for a view, its base's history, as for a built-in in-place op). An input
#     returned unchanged comes back as a new tensor sharing its memory, with this node as
#     grad_fn. ``mark_non_differentiable`` outputs need no grad; backward still gets a (zero)
#     gradient for them unless ``set_materialize_grads(False)``.


def _apply_user(cls, ctx: Node, args: tuple, record: bool):
    prev = _state.enabled
    _state.enabled = False
    try:
        if cls._setup_ctx:
            out = cls.forward(*args)
            cls.setup_context(ctx, args, out)
        else:
            out = cls.forward(ctx, *args)
    finally:
        _state.enabled = prev
    single = out.__class__ is not tuple
    outs = (out,) if single else out
    dirty = ctx.__dict__.get("_dirty", ())
    if dirty:
        _check_dirty(ctx, dirty, args, outs, record)
    nd = ctx.__dict__.get("_non_differentiable", ())
    for x in (*dirty, *nd):
        if not isinstance(x, Tensor):
            raise TypeError(f"mark_dirty and mark_non_differentiable accept only tensors, "
                            f"but got {type(x).__name__}")
    nd_ids = {id(x) for x in nd}
    arg_ids = {id(a) for a in args if isinstance(a, Tensor)}
    dirty_ids = {id(x) for x in dirty}
    results = []
    metas = []
    for i, o in enumerate(outs):
        if isinstance(o, _ndarray):
            o = _wrap(o)
        if not isinstance(o, Tensor):  # any other value passes through
            results.append(o)
            metas.append(None)
            continue
        metas.append((o._data.shape, o._data.dtype))
        diff = record and o._data.dtype.kind == "f" and id(o) not in nd_ids
        if id(o) in dirty_ids:
            t = o
            o._bump_version()
            if diff:
                _rebase_dirty(o, ctx, i)
        elif id(o) in arg_ids:  # an input returned as it is: a new tensor on its memory
            if o._version_counter is None:
                o._version_counter = [0]
            t = _wrap(o._data, ctx, True, i) if diff else _wrap(o._data)
            t._version_counter = o._version_counter
        else:
            t = _wrap(o._data, ctx, True, i) if diff else _wrap(o._data)
            if o._version_counter is not None:
                t._version_counter = o._version_counter
        results.append(t)
    if record:
        ctx._outputs_meta = tuple(metas)
        if ctx._packed is not None:
            _pack_saved(ctx, outs, results)
    return results[0] if single else tuple(results)


def _check_dirty(ctx: Node, dirty: tuple, args: tuple, outs: tuple, record: bool) -> None:
    for x in dirty:
        if not any(x is a for a in args):
            raise RuntimeError(
                f"{type(ctx).__name__}: a tensor passed to mark_dirty is not an input of "
                "forward; mark only the inputs that forward changed in place.")
        if not any(x is o for o in outs):
            raise RuntimeError(
                f"{type(ctx).__name__}: some elements marked as dirty during the forward method "
                "were not returned as output. The inputs that are modified inplace must all be "
                "outputs of the Function.")
        if record and x._requires_grad and x.grad_fn is None and x._base is None:
            raise RuntimeError(
                "a leaf Variable that requires grad has been used in an in-place operation. "
                f"({type(ctx).__name__} marked it dirty.) Clone the leaf first, or do the "
                "update under `with torch.no_grad():`.")


def _rebase_dirty(x: Tensor, ctx: Node, i: int) -> None:
    """x was changed in place by the Function of ``ctx``: it becomes output i of that node."""
    if x._base is None:
        x.grad_fn = ctx
        x._output_nr = i
        x._requires_grad = True
        if x._views is not None:  # Note [Views of a base that needs no grad]
            follow_base(x)
        return
    from ..ops.inplace import _inplace_on_view  # the same history as a built-in in-place op

    out = _wrap(x._data, ctx, True, i)
    counter = x._version_counter
    before = counter[0]
    _inplace_on_view(x, lambda _view: out, (), False)
    counter[0] = before  # one bump for the whole op (done by the caller)


def recording() -> bool:
    """True when ops are recorded (grad mode on)."""
    return _state.enabled


# ---- once_differentiable ---------------------------------------------------------------------


class _DelayedError(Function):
    """Passes values through; raises if someone differentiates through it (see below)."""

    node_name = "Error"  # PyTorch's name for this node

    @staticmethod
    def forward(ctx, message, values, *grads):
        ctx.message = message
        return tuple(values)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(ctx.message)


def once_differentiable(backward):
    """Mark a backward that computes with raw arrays: it can't be differentiated again.

    The first derivative works as usual; a graph built through it with ``create_graph=True``
    raises when someone backpropagates through that graph.
    """

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        recording = _state.enabled
        with grad_mode.no_grad():
            result = backward(ctx, *grads)
        if not recording or not any(isinstance(g, Tensor) and g._requires_grad for g in grads):
            return result
        single = not isinstance(result, tuple)
        results = (result,) if single else result
        present = [r for r in results if r is not None]
        if not present:
            return result
        message = ("trying to differentiate twice a function that was marked with "
                   f"@once_differentiable ({type(ctx).__name__}; a graph built with "
                   "create_graph=True reached it).")
        # The results become outputs of an error node whose inputs are the incoming gradients.
        inputs = [g for g in grads if isinstance(g, Tensor) and g._requires_grad]
        it = iter(_DelayedError.apply(message, present, *inputs))
        out = tuple(next(it) if r is not None else None for r in results)
        return out[0] if single else out

    return wrapper
