"""Function: one class per differentiable operation, its forward and backward side by side.

``SomeOp.apply(*args)`` runs ``forward(ctx, *args)`` and, when grad mode is on and an input
requires grad, records a node in the graph. The node is an instance of the Function's
*backward class* (``AddBackward0`` for ``Add``), and it is also the ``ctx`` that forward saw:
what forward saved on it is what backward reads. Built-in ops and user-defined Functions take
exactly this path.

Note [Forward works on arrays]
    A built-in forward computes on the inputs' arrays (``x._data``) and returns an array (or a
    tuple of arrays); ``apply`` wraps the result. A user Function may instead compute with
    tensor ops and return tensors; ``apply`` runs it with grad mode off and unwraps them.

Note [Backward works on tensors]
    ``backward(ctx, *grads)`` receives and returns Tensors and is written with retrograd ops.
    The engine runs it with grad mode equal to ``create_graph``, so the same formula gives the
    first derivative cheaply and records a graph for higher derivatives when asked. Backward
    returns one gradient per forward argument (``None`` for arguments that are not tensors or
    need no gradient); the engine sums each gradient to its input's shape and dtype.

Note [First-order fast path]
    A handful of the hottest backward formulas (mul, div, matmul, tanh, sigmoid, relu, x**2,
    sum, mean)
    also compute directly on arrays when grad mode is off, i.e. during an ordinary backward
    without create_graph: the same formula, without the cost of recording-capable ops (about a
    microsecond each, which is most of the time for small tensors). With create_graph the
    tensor-op version below it runs, so higher derivatives are unaffected. The op table checks
    both paths (gradcheck runs the fast one, gradgradcheck the other).

Note [Saved outputs]
    A node that saved its own output must not hold the output tensor (the tensor holds the node
    in ``grad_fn``: a cycle). It keeps the output's array instead (the array itself when it is
    the only thing saved, else a ``SavedOutput``) and rebuilds a tensor with ``grad_fn`` = the
    node when unpacked; a version counter shared with the output notices in-place changes.
"""

from __future__ import annotations

import functools
import itertools
import weakref

from .. import backend, grad_mode
from ..tensor import Tensor, _wrap

_state = grad_mode.state
_sequence = itertools.count()


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    __slots__ = ("_hooks", "_key")

    def __init__(self, hooks: dict, key) -> None:
        self._hooks = hooks
        self._key = key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


_hook_ids = itertools.count()


class SavedOutput:
    """A node's own output saved for backward: its array, not the tensor.

    See Note [Saved outputs].
    """

    __slots__ = ("data", "output_nr", "version_counter")

    def __init__(self, data, output_nr: int, version_counter: list) -> None:
        self.data = data
        self.output_nr = output_nr
        self.version_counter = version_counter


class Node:
    """A recorded operation in the graph (``grad_fn``); also the ``ctx`` of its forward.

    ``next_functions`` pairs each tensor input with the node its gradient flows to next.
    """

    __slots__ = ("_edges", "_edge_nrs", "needs_input_grad", "_packed", "_packed_versions",
                 "_out_counter", "_outputs_meta", "_sequence_nr", "__dict__", "__weakref__")

    _function = None  # the Function class this node belongs to
    # Rarely used, so class-level defaults instead of per-node slots (set per node on use).
    _retained = None  # output_nr -> weakref of a tensor that called retain_grad()
    _pre_hooks = None
    _post_hooks = None
    _tensor_hooks = None  # output_nr -> {key: hook} from Tensor.register_hook
    _has_hooks = False  # any of the three above: one check in the engine's loop
    _ctx_arrays = ()  # ctx attributes holding arrays for backward: dropped with the saved tensors

    def __init__(self) -> None:
        self._edges = ()  # per forward argument: the node its gradient goes to, or None
        self._edge_nrs = ()  # per forward argument: that node's output slot (-1: not a tensor)
        self.needs_input_grad = ()
        self._packed = None
        self._packed_versions = None  # None: every saved tensor was at version 0
        self._outputs_meta = ()  # per output: (shape, NumPy dtype)
        self._sequence_nr = 0

    # ---- what users see ---------------------------------------------------------------

    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple:
        return tuple((node, nr) for node, nr in zip(self._edges, self._edge_nrs) if nr >= 0)

    @property
    def metadata(self) -> dict:
        """A free dict for tools (graph drawing, provenance) to annotate the node."""
        return self.__dict__.setdefault("_metadata", {})

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    # ---- saving tensors (forward) and reading them back (backward) --------------------

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (or the array forward returns, meaning its output) for backward."""
        self._packed = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self.__dict__["_non_differentiable"] = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.__dict__["_materialize_grads"] = value

    def mark_dirty(self, *tensors) -> None:
        self.__dict__["_dirty"] = tensors

    @property
    def saved_tensors(self) -> tuple:
        saved = self._packed
        if saved is None:
            raise RuntimeError(
                "Trying to backward through the graph a second time: the tensors "
                f"{type(self).__name__} saved were freed by the first backward. Pass "
                "retain_graph=True to the first backward (or autograd.grad) if you need to "
                "backward through the same graph again.")
        if saved.__class__ is _ndarray:  # just the output (exp, tanh, ...): see apply
            t = _wrap(saved, self, True)
            t._version_counter = counter = self._out_counter
            if counter[0]:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: the output of {type(self).__name__} (shape "
                    f"{list(t.shape)}) was saved at version 0 and is now at version "
                    f"{counter[0]}. Use an out-of-place op (or .clone() the tensor) before "
                    "changing it.")
            return (t,)
        versions = self._packed_versions
        out = []
        for i, s in enumerate(saved):
            if s.__class__ is SavedOutput:
                t = _wrap(s.data, self, True, s.output_nr)
                t._version_counter = s.version_counter
            else:
                t = s
            if t is not None:
                counter = t._version_counter
                if counter is not None and counter[0] != (0 if versions is None else versions[i]):
                    raise RuntimeError(
                        "one of the variables needed for gradient computation has been modified "
                        f"by an inplace operation: {type(self).__name__} saved a tensor of shape "
                        f"{list(t.shape)} at version {0 if versions is None else versions[i]}, "
                        f"and it is now at version {counter[0]}. Use an out-of-place op (or "
                        ".clone() the tensor) before changing it.")
            out.append(t)
        return tuple(out)

    def __getattr__(self, name: str):
        # PyTorch names what a node saved: ``y.grad_fn._saved_self``, ``_saved_result``, ...
        # A Function lists the names of what it saves in ``saved_names`` (tensors, in
        # save_for_backward order) and ``saved_attrs`` (other values kept on ctx).
        if name.startswith("_saved_"):
            key = name[7:]
            fn = type(self)._function
            names = getattr(fn, "saved_names", ())
            if key in names:
                return self.saved_tensors[names.index(key)]
            attrs = getattr(fn, "saved_attrs", {})
            if key in attrs:
                return self.__dict__[attrs[key]]
        if name in self._ctx_arrays:
            raise RuntimeError(
                f"Trying to backward through the graph a second time: {type(self).__name__} "
                "freed what it kept for backward after the first one. Pass retain_graph=True to "
                "the first backward if you need to backward through the same graph again.")
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __dir__(self):
        fn = type(self)._function
        extra = ["_saved_" + n for n in (*getattr(fn, "saved_names", ()),
                                          *getattr(fn, "saved_attrs", {}))]
        return sorted(set(super().__dir__()) | set(extra))

    # ---- hooks -------------------------------------------------------------------------

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node computed its gradients."""
        if self._post_hooks is None:
            self._post_hooks = {}
        key = next(_hook_ids)
        self._post_hooks[key] = fn
        return RemovableHandle(self._post_hooks, key)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node, and may return replacement gradients."""
        if self._pre_hooks is None:
            self._pre_hooks = {}
            self._has_hooks = True
        key = next(_hook_ids)
        self._pre_hooks[key] = fn
        return RemovableHandle(self._pre_hooks, key)

    def _add_tensor_pre_hook(self, output_nr: int, fn):
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
            self._has_hooks = True
        hooks = self._tensor_hooks.setdefault(output_nr, {})
        key = next(_hook_ids)
        hooks[key] = fn
        return RemovableHandle(hooks, key)

    def __lt__(self, other) -> bool:
        # Only the engine's heap compares nodes, and only on equal sequence numbers.
        return id(self) < id(other)


class AccumulateGrad(Node):
    """The node at a leaf that requires grad: adds the incoming gradient into ``.grad``."""

    __slots__ = ("_variable",)

    def __init__(self, variable: Tensor) -> None:
        Node.__init__(self)
        self._variable = weakref.ref(variable)
        self._outputs_meta = output_meta(variable._data)
        # Older than every node that uses the leaf (see the engine's Note [Order of execution]).
        self._sequence_nr = next(_sequence)

    @property
    def variable(self) -> Tensor:
        return self._variable()


class FunctionMeta(type):
    """Gives each Function subclass its backward node class (``AddBackward0`` for ``Add``)."""

    def __init__(cls, name, bases, attrs) -> None:
        super().__init__(name, bases, attrs)
        node_name = attrs.get("node_name") or f"{name}Backward"
        cls._backward_cls = type(node_name, (Node,), {
            "__slots__": (), "_function": cls, "__module__": cls.__module__,
            "_ctx_arrays": tuple(getattr(cls, "ctx_arrays", ())),
        })


class Function(metaclass=FunctionMeta):
    """Base class of differentiable operations, built-in and user-defined.

    Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)`` and call
    ``YourFunction.apply(*args)``.
    """

    # Built-in ops compute on arrays and skip the grad-mode switch around forward.
    _builtin = False
    # A view op's output shares memory (and the version counter) with its first input.
    _is_view = False

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("You must implement the forward function for a custom Function.")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("You must implement the backward function for a custom Function.")

    @classmethod
    def apply(cls, *args):
        """Run forward and, when grad mode is on and an input requires grad, record the node."""
        ctx = _new(cls._backward_cls)
        if not _state.enabled:
            if cls._builtin:
                # Nothing is recorded (e.g. backward formulas without create_graph): short path.
                out = cls.forward(ctx, *args)
                if out.__class__ is _ndarray and not cls._is_view:
                    t = _new(Tensor)
                    t._data = out
                    t._requires_grad = False
                    t.grad_fn = None
                    t._version_counter = None
                    return t
                if out.__class__ is tuple or cls._is_view:
                    return _wrap_outputs(out, None, cls, args)
                return _wrap(out)
            record = False
        elif len(args) == 1 and args[0].__class__ is Tensor:
            # One plain tensor (exp, tanh, sum, ...): no loop, no lookups.
            x = args[0]
            record = x._requires_grad
            if record:
                ctx._edges = (x.grad_fn or x._accumulator or x._get_accumulator(),)
                nr = x._output_nr
                ctx._edge_nrs, ctx.needs_input_grad = _ONE_SLOT if nr == 0 else ((nr,), (True,))
        elif len(args) == 2 and args[0].__class__ is Tensor and args[1].__class__ is Tensor:
            # The most common call, two plain tensors, without the general loop below.
            x, y = args
            if x._requires_grad:
                fx = x.grad_fn or x._accumulator or x._get_accumulator()
                cx = x._output_nr
            else:
                fx = None
                cx = -2
            if y._requires_grad:
                fy = y.grad_fn or y._accumulator or y._get_accumulator()
                cy = y._output_nr
            else:
                fy = None
                cy = -2
            record = fx is not None or fy is not None
            if record:
                ctx._edges = (fx, fy)
                if cx < 4 and cy < 4:
                    ctx._edge_nrs, ctx.needs_input_grad = _PAIR_SLOTS[cx + 2][cy + 2]
                else:
                    slots = _slots_cache.get((cx, cy)) or _slots_for((cx, cy))
                    ctx._edge_nrs, ctx.needs_input_grad = slots
        else:
            record = False
            edges = []
            codes = []  # per argument: its output slot, -1 not a tensor, -2 needs no grad
            for a in args:
                if isinstance(a, Tensor) and a._requires_grad:
                    fn = a.grad_fn
                    if fn is None:
                        fn = a._accumulator or a._get_accumulator()
                        codes.append(0)
                    else:
                        codes.append(a._output_nr)
                    edges.append(fn)
                    record = True
                else:
                    edges.append(None)
                    codes.append(-2 if isinstance(a, Tensor) else -1)
            if record:
                ctx._edges = tuple(edges)
                codes = tuple(codes)
                slots = _slots_cache.get(codes) or _slots_for(codes)
                ctx._edge_nrs, ctx.needs_input_grad = slots
        if record:
            ctx._sequence_nr = next(_sequence)
        else:
            ctx._edges = ()
            ctx.needs_input_grad = (False,) * len(args)
        ctx._packed = None
        if cls._builtin:
            out = cls.forward(ctx, *args)
        else:
            prev = _state.enabled
            _state.enabled = False
            try:
                out = cls.forward(ctx, *args)
            finally:
                _state.enabled = prev
        if out.__class__ is not _ndarray and isinstance(out, _np_scalar):
            # NumPy gives scalars for 0-d results; forward may have saved one as its output
            scalar, out = out, _asarray(out)
            if ctx._packed is not None:
                ctx._packed = tuple(out if s is scalar else s for s in ctx._packed)
        if out.__class__ is _ndarray and not cls._is_view:  # the common case, kept short
            if record and out.dtype.kind == "f":
                t = _new(Tensor)
                t._data = out
                t._requires_grad = True
                t.grad_fn = ctx
                t._version_counter = None
                key = (out.shape, out.dtype)
                meta = _meta_cache.get(key)
                if meta is None:
                    meta = _meta1(key)
                ctx._outputs_meta = meta
                saved = ctx._packed
                if saved is not None:
                    ctx._packed_versions = None
                    if len(saved) == 1 and saved[0] is out:
                        # Only the output is saved: keep its array, not a tensor (which would
                        # point back at ctx), and a counter to notice in-place changes to it.
                        ctx._packed = out
                        t._version_counter = ctx._out_counter = [0]
                    elif cls._builtin:
                        for s in saved:  # the usual case: tensors never changed in place
                            if s.__class__ is not Tensor or (s._version_counter is not None
                                                             and s._version_counter[0]):
                                _pack_saved(ctx, (out,), (t,))
                                break
                    else:
                        _pack_saved(ctx, (out,), (t,))
                return t
            return _wrap(out)
        return _wrap_outputs(out, ctx if record else None, cls, args)


# Note [Few long-lived objects per node]
#     A graph lives until backward, so every container a node keeps is scanned by Python's
#     cycle collector again and again while the graph grows (PyTorch keeps its graph in C++,
#     out of the collector's sight). Nodes therefore keep few containers: edges as one tuple of
#     nodes, and the small tuples that repeat across nodes (output slots, needs_input_grad,
#     output shapes and dtypes) shared from these caches instead of built anew per node.
_slots_cache: dict = {}  # argument codes -> (edge slots, needs_input_grad)
_meta_cache: dict = {}


def _slots_for(codes: tuple) -> tuple:
    nrs = tuple(0 if c == -2 else c for c in codes)
    needs = tuple(c >= 0 for c in codes)
    if len(_slots_cache) > 50_000:
        _slots_cache.clear()
    slots = _slots_cache[codes] = (nrs, needs)
    return slots


_ONE_SLOT = ((0,), (True,))
# (edge slots, needs_input_grad) for two-tensor calls, indexed by [code_x + 2][code_y + 2]
_PAIR_SLOTS = [[_slots_for((cx, cy)) for cy in range(-2, 4)] for cx in range(-2, 4)]


def _intern(cache: dict, value: tuple) -> tuple:
    if len(cache) > 50_000:
        cache.clear()
    cache[value] = value
    return value


def _meta1(key: tuple) -> tuple:
    if len(_meta_cache) > 50_000:
        _meta_cache.clear()
    meta = _meta_cache[key] = (key,)
    return meta


def output_meta(*arrays) -> tuple:
    """((shape, dtype), ...) of a node's outputs, shared between nodes with equal metadata."""
    key = tuple([(a.shape, a.dtype) for a in arrays])
    return _meta_cache.get(key) or _intern(_meta_cache, key)


_new = object.__new__
_ndarray = backend.ndarray
_np_scalar = backend.scalar_types
_asarray = backend.asarray


def recording() -> bool:
    """True when ops are recorded (grad mode on): backward formulas then need tensor ops."""
    return _state.enabled


def _wrap_outputs(out, ctx, cls, args):
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
        rest = args[1:]
        counter = parent._version_counter
        if counter is None:  # a view shares its base's counter, so it must exist now
            counter = parent._version_counter = [0]
        for i, t in enumerate(results):
            t._version_counter = counter
            t._base = root
            # how to make this view again from its parent (see ops/inplace.py, views)
            t._view_src = (cls, parent, rest, i)
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


def _pack_saved(ctx, outs: tuple, results: list) -> None:
    """Record the versions of saved tensors; a saved output becomes a ``SavedOutput``."""
    saved = ctx._packed
    versions = []
    packed = None
    for j, s in enumerate(saved):
        for i, o in enumerate(outs):
            if s is o:
                t = results[i]
                if packed is None:
                    packed = list(saved)
                if t._version_counter is None:  # the saved copy must see later changes
                    t._version_counter = [0]
                packed[j] = SavedOutput(t._data, i, t._version_counter)
                versions.append(0)
                break
        else:
            if isinstance(s, Tensor):
                counter = s._version_counter
                versions.append(0 if counter is None else counter[0])
                continue
            if s is None:
                versions.append(0)
                continue
            raise TypeError(
                "save_for_backward can only save tensors (or the output forward returns), "
                f"but got {type(s).__name__}; keep other values as attributes of ctx.")
    if packed is not None:
        ctx._packed = tuple(packed)
    ctx._packed_versions = tuple(versions) if any(versions) else None


class _DelayedError(Function):
    """A node that passes values through and raises when differentiated (see below)."""

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
        prev = _state.enabled
        _state.enabled = False
        try:
            result = backward(ctx, *grads)
        finally:
            _state.enabled = prev
        if not prev or not any(isinstance(g, Tensor) and g._requires_grad for g in grads):
            return result
        single = not isinstance(result, tuple)
        results = (result,) if single else result
        present = [r for r in results if r is not None]
        if not present:
            return result
        message = (f"{type(ctx).__name__}'s backward is marked once_differentiable: it cannot be "
                   "differentiated again (a graph built with create_graph=True reached it).")
        it = iter(_delayed(message, grads, present))
        out = tuple(next(it) if r is not None else None for r in results)
        return out[0] if single else out

    return wrapper


def _delayed(message: str, grads, present: list) -> tuple:
    """``present`` as outputs of an error node whose inputs are the incoming gradients."""
    inputs = [g for g in grads if isinstance(g, Tensor) and g._requires_grad]
    node = _DelayedError._backward_cls()
    node._edges = tuple(g.grad_fn or g._get_accumulator() for g in inputs)
    node._edge_nrs = tuple(g._output_nr for g in inputs)
    node.needs_input_grad = (True,) * len(inputs)
    node._packed = None
    node._packed_versions = None
    node._sequence_nr = next(_sequence)
    node.message = message
    outs = tuple(_wrap(r._data, node, True, i) for i, r in enumerate(present))
    node._outputs_meta = output_meta(*[t._data for t in outs])
    return outs
