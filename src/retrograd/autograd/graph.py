"""The recorded graph: nodes (``grad_fn``), the leaves' ``AccumulateGrad``, and saved tensors.

A ``Node`` is one recorded operation. It points at the nodes its inputs came from
(``next_functions``), keeps what forward saved for backward, and carries the metadata of its
outputs (shape and dtype), which is all the engine needs to sum and cast incoming gradients.
Every ``Function`` has its own node class (``MulBackward0`` for ``Mul``, see function.py).

Note [Saved outputs]
    A node that saved its own output must not hold the output tensor (the tensor holds the node
    in ``grad_fn``: a cycle). It keeps the output's array instead (the array itself when it is
    the only thing saved, else a ``SavedOutput``) and rebuilds a tensor with ``grad_fn`` = the
    node when unpacked; a version counter shared with the output notices in-place changes.

Note [Few long-lived objects per node]
    A graph lives until backward, so every container a node keeps is scanned by Python's cycle
    collector again and again while the graph grows (PyTorch keeps its graph in C++, out of the
    collector's sight). Nodes therefore keep few containers: edges as one tuple of nodes, and
    the small tuples that repeat across nodes (output slots, needs_input_grad, output shapes and
    dtypes) shared from caches instead of built anew per node.
"""

from __future__ import annotations

import itertools
import threading
import weakref

import numpy as np

from ..tensor import Tensor, _wrap

# Every node takes the next number when recorded (see the engine's Note [Order of execution]).
sequence = itertools.count()
_hook_ids = itertools.count()

# Set by retrograd.debug while provenance is recorded: error_note(kind, obj) -> extra lines that
# name where the node (or the cut, or the in-place change) was made. Read only on error paths.
error_note = None
_PROVENANCE_HINT = ("\nHint: retrograd.debug.set_provenance(True) records where each op is "
                    "created, and this message then names those lines.")


def provenance_note(kind: str, obj) -> str:
    """The lines an error adds about where things were made (or how to get them)."""
    return _PROVENANCE_HINT if error_note is None else error_note(kind, obj)


class RemovableHandle:
    """Returned by ``register_hook`` and friends; ``remove()`` unregisters the hook."""

    __slots__ = ("_hooks", "_key")

    def __init__(self, hooks: dict, key) -> None:
        self._hooks = hooks
        self._key = key

    @property
    def id(self) -> int:
        return self._key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def as_forward_met(ctx: Node, i: int, t: Tensor) -> Tensor:
    """Input ``i`` of ``ctx``'s forward, the tensor ``t``, with the place in the graph it had
    then: ``t`` itself, or, when ``t`` was written in place since (its node is another now), a
    tensor of t's data on forward's node (a leaf's: its accumulator). For inputs a Function
    does not save, and so does not version-check, because PyTorch's chain of ops does not save
    them either; the caller takes the values from what forward kept. (A node forward did not
    record, run for forward-mode AD, has no edges: ``t`` then.)"""
    if i >= len(ctx._edges):
        return t
    then, nr = ctx._edges[i], ctx._edge_nrs[i]
    if (t._grad_fn or t._accumulator or t._gradient_edge()) is then:
        return t
    if then.__class__ is AccumulateGrad:
        leaf = _wrap(t._data, None, True)
        leaf._accumulator = then
        return leaf
    return _wrap(t._data, then, True, nr)


class SavedOutput:
    """A node's own output saved for backward: its array, not the tensor (Note [Saved outputs])."""

    __slots__ = ("data", "output_nr", "version_counter")

    def __init__(self, data, output_nr: int, version_counter: list) -> None:
        self.data = data
        self.output_nr = output_nr
        self.version_counter = version_counter


class HookedSaved:
    """A tensor saved while ``saved_tensors_hooks`` were active: what its pack hook returned,
    the unpack hook, and the autograd identity of the saved tensor (Note [Saved tensor hooks])."""

    __slots__ = ("packed", "unpack_hook", "grad_fn", "output_nr", "requires_grad", "accumulator",
                 "is_output")

    def __init__(self, t: Tensor, is_output: bool, output_nr: int, hooks: tuple) -> None:
        pack, self.unpack_hook = hooks
        self.is_output = is_output
        if is_output:  # the node's own output: no reference to the node (no cycle)
            self.grad_fn, self.output_nr, self.requires_grad = None, output_nr, True
        else:
            self.grad_fn, self.output_nr = t.grad_fn, t._output_nr
            self.requires_grad = t._requires_grad
        self.accumulator = t._accumulator if self.grad_fn is None else None
        self.packed = pack(t)

    def unpack(self, node) -> Tensor:
        t = self.unpack_hook(self.packed)
        if not isinstance(t, Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got "
                            f"result of type {type(t).__name__}")
        fn = node if self.is_output else self.grad_fn
        if t.grad_fn is fn and t._requires_grad == self.requires_grad:
            return t  # the very tensor (or one with its place in the graph)
        out = _wrap(t._data, fn, self.requires_grad, self.output_nr)
        if fn is None and self.requires_grad:  # a leaf: its gradient goes to its accumulator
            out._accumulator = self.accumulator
        return out


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
        # (arguments that are not tensors have slot -1 and no entry)
        return tuple((node, nr) for node, nr in zip(self._edges, self._edge_nrs) if nr >= 0)

    @property
    def metadata(self) -> dict:
        """A free dict for tools (graph drawing, provenance) to annotate the node."""
        return self.__dict__.setdefault("_metadata", {})

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    # ---- what forward tells backward (the ``ctx`` API) ---------------------------------

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (or the array forward returns, meaning its output) for backward."""
        self._packed = tensors

    def save_for_forward(self, *tensors) -> None:
        """Keep tensors for a custom Function's ``jvp`` (its ``ctx.saved_tensors`` there)."""
        self.__dict__["_fw_saved"] = tensors

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
                "Trying to backward through the graph a second time (or directly access saved "
                f"tensors after they have already been freed): the tensors {type(self).__name__} "
                "saved were freed by the first backward. Pass retain_graph=True to the first "
                "backward (or autograd.grad) if you need to backward through the same graph "
                "again or to read saved tensors after it." + provenance_note("node", self))
        if saved.__class__ is np.ndarray:  # just the output (exp, tanh, ...): Note [Saved outputs]
            t = _wrap(saved, self, True)
            t._version_counter = counter = self._out_counter
            if counter[0]:
                raise self._modified(t, 0, counter[0])
            return (t,)
        versions = self._packed_versions
        out = []
        for i, s in enumerate(saved):
            if s.__class__ is SavedOutput:
                t = _wrap(s.data, self, True, s.output_nr)
                t._version_counter = s.version_counter
            elif s.__class__ is HookedSaved:  # Note [Saved tensor hooks]
                out.append(s.unpack(self))
                continue
            else:
                t = s
            if t is not None:
                counter = t._version_counter
                expected = 0 if versions is None else versions[i]
                if counter is not None and counter[0] != expected:
                    raise self._modified(t, expected, counter[0])
            out.append(t)
        return tuple(out)

    def _modified(self, t: Tensor, saved_at: int, now: int) -> RuntimeError:
        return RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: {type(self).__name__} saved a tensor of shape {list(t.shape)} "
            f"at version {saved_at}, and it is now at version {now}. Use an out-of-place op "
            "(or .clone() the tensor) before changing it." + provenance_note("modified", (self, t)))

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
                "the first backward if you need to backward through the same graph again."
                + provenance_note("node", self))
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __dir__(self):
        fn = type(self)._function
        extra = ["_saved_" + n for n in (*getattr(fn, "saved_names", ()),
                                          *getattr(fn, "saved_attrs", {}))]
        return sorted(set(super().__dir__()) | set(extra))

    # ---- hooks -------------------------------------------------------------------------

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node computed its gradients; it
        may return replacement ``grad_inputs`` (one per entry of ``next_functions``)."""
        return _add_hook(node_dict(self, "_post_hooks", has_hooks=False), fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node, and may return replacement gradients."""
        return _add_hook(node_dict(self, "_pre_hooks"), fn)

    def _add_tensor_pre_hook(self, output_nr: int, fn):
        return _add_hook(node_dict(self, "_tensor_hooks").setdefault(output_nr, {}), fn)

    def __lt__(self, other) -> bool:
        # Only the engine's heap compares nodes, and only on equal sequence numbers.
        return id(self) < id(other)


# Note [Threads] (engine.py): what threads may create at once on a node or a leaf (its hook
# dicts, its AccumulateGrad node) is created under this lock, so no registration is lost.
# Only creation takes it: reading, and adding to a dict that exists, are atomic already.
registration_lock = threading.Lock()


def node_dict(node, slot: str, has_hooks: bool = True) -> dict:
    """The dict in ``node``'s ``slot`` (``_pre_hooks``, ``_tensor_hooks``, ``_retained`` ...),
    made on first use; ``has_hooks`` also flags the node for the engine's hook pass."""
    d = getattr(node, slot)
    if d is None:
        with registration_lock:
            d = getattr(node, slot)
            if d is None:
                d = {}
                setattr(node, slot, d)
    if has_hooks:
        node._has_hooks = True
    return d


def _add_hook(hooks: dict, fn) -> RemovableHandle:
    key = next(_hook_ids)
    hooks[key] = fn
    return RemovableHandle(hooks, key)


class AccumulateGrad(Node):
    """The node at a leaf that requires grad: adds the incoming gradient into ``.grad``."""

    __slots__ = ("_variable",)

    def __init__(self, variable: Tensor) -> None:
        Node.__init__(self)
        self._variable = weakref.ref(variable)
        self._outputs_meta = output_meta(variable._data)
        # Older than every node that uses the leaf (see the engine's Note [Order of execution]).
        self._sequence_nr = next(sequence)

    _post_acc_hooks = None  # from Tensor.register_post_accumulate_grad_hook

    @property
    def variable(self) -> Tensor:
        return self._variable()

    def _add_post_accumulate_hook(self, fn):
        if self._post_acc_hooks is None:
            self._post_acc_hooks = {}
        return _add_hook(self._post_acc_hooks, fn)


# ---- shared small tuples (Note [Few long-lived objects per node]) ---------------------------

_meta_cache: dict = {}  # ((shape, dtype), ...) of a node's outputs
_meta1_cache: dict = {}  # (shape, dtype) -> ((shape, dtype),): the single-output case


def output_meta(*arrays) -> tuple:
    """((shape, dtype), ...) of a node's outputs, shared between nodes with equal metadata."""
    key = tuple([(a.shape, a.dtype) for a in arrays])
    meta = _meta_cache.get(key)
    if meta is None:
        if len(_meta_cache) > 50_000:
            _meta_cache.clear()
        meta = _meta_cache[key] = key
    return meta


def output_meta1(out: np.ndarray) -> tuple:
    """``output_meta(out)`` for the common single output, without building a list."""
    key = (out.shape, out.dtype)
    meta = _meta1_cache.get(key)
    if meta is None:
        if len(_meta1_cache) > 50_000:
            _meta1_cache.clear()
        meta = _meta1_cache[key] = (key,)
    return meta


# ---- saved tensor hooks --------------------------------------------------------------------
#
# Note [Saved tensor hooks]
#     Inside ``saved_tensors_hooks(pack, unpack)``, every tensor a recorded node saves (built-in
#     ops and user Functions alike: ``Function.apply`` is the one place saved tensors are
#     stored) is handed to ``pack`` at once, and the node keeps only what ``pack`` returned, in
#     a ``HookedSaved``; ``saved_tensors`` calls ``unpack`` on it when backward reads it, and
#     gives the result the saved tensor's place in the graph. The innermost pair of hooks
#     applies, and hooks apply only in the thread that entered them (as in PyTorch). Tensors
#     saved this way are not checked against in-place changes (nor are they in PyTorch).
#     ``apply`` looks at ``saved_hooks_stack`` once per node that saved something, so without
#     hooks nothing else happens.

saved_hooks_stack: list = []  # (pack, unpack, thread id), innermost last, of every thread
_hooks_disabled: list = []  # error messages of the active disable_saved_tensors_hooks


def current_saved_hooks():
    """The innermost (pack, unpack) this thread entered, or None."""
    me = threading.get_ident()
    for pack, unpack, thread in reversed(saved_hooks_stack):
        if thread == me:
            return pack, unpack
    return None


class saved_tensors_hooks:
    """Context manager: ``pack_hook(tensor)`` runs when an op saves a tensor for backward, and
    ``unpack_hook(packed)`` when backward needs it back (it must return a tensor with the same
    values). Use it to move, compress or recompute what the graph keeps."""

    def __init__(self, pack_hook, unpack_hook) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _hooks_disabled:
            raise RuntimeError(_hooks_disabled[-1])
        self._entry = (self.pack_hook, self.unpack_hook, threading.get_ident())
        saved_hooks_stack.append(self._entry)
        return self

    def __exit__(self, *exc) -> None:
        for i in range(len(saved_hooks_stack) - 1, -1, -1):  # (threads exit in any order)
            if saved_hooks_stack[i] is self._entry:
                del saved_hooks_stack[i]
                break


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are copied to the CPU when saved and back when used. retrograd computes on
    the CPU already, so this keeps a copy (``pin_memory`` is accepted and has no effect)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(lambda t: (t.device, t.detach().clone()), lambda p: p[1].to(p[0]))


class disable_saved_tensors_hooks:
    """Context manager: entering ``saved_tensors_hooks`` inside it raises ``RuntimeError`` with
    ``error_message`` (for code whose saved tensors must not be intercepted)."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self):
        _hooks_disabled.append(self.error_message)
        return self

    def __exit__(self, *exc) -> None:
        _hooks_disabled.pop()


def get_gradient_edge(tensor: Tensor) -> tuple:
    """The (node, output_nr) where gradients for ``tensor`` arrive."""
    if not tensor._requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does "
                           "not require gradients")
    fn = tensor.grad_fn
    return (tensor._get_accumulator(), 0) if fn is None else (fn, tensor._output_nr)
