"""The engine: runs the recorded graph backwards, from the outputs to the leaves.

Note [Order of execution]
    Every node takes a sequence number when it is recorded, and a node's inputs were always
    recorded before it (so were leaves' AccumulateGrad nodes: they are made the first time the
    leaf is used). Every edge therefore points from a higher number to a lower one, and running
    nodes in decreasing sequence number is a topological order. The engine keeps a heap of the
    nodes that have received a gradient and always runs the newest: by then every node that can
    send it a gradient has run, so its buffer is complete. Nothing here recurses, so graphs of
    any depth work, and no separate pass over the graph is needed.

Note [Gradient buffers]
    Each node waiting to run has a buffer with one slot per output; gradients arriving on the
    same slot are summed. A buffer is popped when its node runs, so a gradient lives only as long
    as it is needed.

Note [Summing gradients in place]
    Without create_graph, the second gradient arriving on a slot is added to the first into a
    new array, which only the buffer holds; a third and later ones are added into that array
    in place (a parameter used at every step of a recurrent loop would otherwise cost a fresh
    array per step). Arrays the engine did not make itself (a gradient a backward returned
    may alias its input, a saved tensor or a user's array) are never written to.

Note [One place for shapes and dtypes]
    Before a gradient enters a buffer it is summed to the shape of the tensor it belongs to
    (undoing broadcasting) and cast to that tensor's dtype. Backward formulas never do this.

Note [Freeing the graph]
    Unless retain_graph, each node drops what it saved as soon as it has run; a second backward
    that needs those tensors raises. Nodes own no references back to their outputs, so the graph
    is freed by reference counting alone, without the cycle collector.

Note [Final callbacks]
    ``queue_callback(fn)``, called while a backward runs (from a hook), makes ``fn()`` run once
    after that backward's last node, then forgets it. DistributedDataParallel waits there for
    the gradient all-reduces its hooks started. Each backward has its own list, so a backward
    run inside a hook does not run the outer one's callbacks.

Note [Differentiating w.r.t. chosen inputs]
    ``autograd.grad`` and ``backward(inputs=...)`` capture the gradient arriving at each input's
    node and slot instead of accumulating it, and run only the nodes from which an input can be
    reached (found by one pass over the graph in sequence order), as PyTorch does.

Note [Threads]
    Several threads may run backward at once, through one graph or into the same leaves (a
    shared model). Everything the loop builds (buffers, heap, captures) is local to one call,
    and grad mode and NumPy's error state are per thread. What is shared is ``.grad``:
    adding into it reads and then writes, so two threads could both see ``None`` and one
    gradient would be lost. Every read-modify-write of a ``.grad`` (``_accumulate``, and
    ``retain_grad`` in ``_run_pre_hooks``) therefore holds the lock of its tensor, one of a
    fixed set chosen by the tensor's id (lock striping: no lock to create per leaf, and a
    leaf whose AccumulateGrad node was made twice by racing threads still has one lock). No
    user code runs while a lock is held, so hooks may call backward themselves. Hook dicts
    are copied to tuples before hooks run, so a hook registered meanwhile does not break the
    iteration. A leaf's AccumulateGrad node and a node's hook dicts are created under
    ``graph.registration_lock`` (checked again once it is held), so racing registrations
    (hooks, ``retain_grad``) all land in one place.
"""

from __future__ import annotations

import sys
import threading
from heapq import heappop, heappush

import numpy as np

from .. import grad_mode
from ..backend import quiet_begin, quiet_end
from ..dtypes import FROM_NUMPY
from ..ops import _parallel
from ..ops.shape import SumToSize, sum_to_array
from ..tensor import Tensor, _wrap
from . import anomaly_mode as _anomaly
from .function import dual
from .graph import AccumulateGrad, provenance_note

_state = grad_mode.state
_callbacks: list = []  # one list per running backward, innermost last (Note [Final callbacks])
_capturing: list = []  # per running backward: were ``inputs`` given (autograd.grad)?


def queue_callback(fn) -> None:
    """Run ``fn()`` once when the backward now running has finished (Note [Final callbacks])."""
    if not _callbacks:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    _callbacks[-1].append(fn)


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _root_grads(outputs: tuple, grad_outputs: tuple, create_graph: bool) -> list:
    """The starting gradient of each output: given, or ones for a one-element output."""
    if not grad_outputs:
        grad_outputs = (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"got {len(grad_outputs)} gradients for {len(outputs)} outputs; pass one gradient "
            "(or None) per output.")
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, Tensor):
            raise TypeError(f"outputs must be Tensors, got {type(out).__name__}")
        if not out._requires_grad or (  # a view whose gradient is dropped: Notes [Views made
                out._base is not None and out.grad_fn is None  # under no_grad], [Views of a
                and out._gradient_edge() is None):  # base that needs no grad]
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn; "
                "it was not computed from a tensor with requires_grad=True (or was computed "
                "under no_grad), so there is nothing to differentiate."
                + provenance_note("no_grad_output", out))
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    "grad can be implicitly created only for scalar outputs; this output has "
                    f"shape {list(out.shape)}, so pass backward(gradient) with a tensor of that "
                    "shape (the vector of the vector-Jacobian product).")
            shape, dtype = out._data.shape, out._data.dtype
            # (np.array for the usual 0-d loss: np.ones costs several times more)
            g = _wrap(np.ones(shape, dtype) if shape else np.array(1, dtype))
        else:
            if not isinstance(g, Tensor):
                raise TypeError(f"gradients must be Tensors or None, got {type(g).__name__}")
            if g._data.shape != out._data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and "
                    f"output[{i}] has a shape of {out.shape}; the gradient must have the "
                    "output's shape.")
            if g._data.dtype != out._data.dtype:
                g = g.to(FROM_NUMPY[out._data.dtype])
            if not create_graph and g._requires_grad:
                g = g.detach()
        grads.append(g)
    return grads


def _slot_of(t: Tensor) -> tuple:
    """The (node, output_nr) where gradients for ``t`` arrive."""
    fn = t.grad_fn
    if fn is not None:
        return fn, t._output_nr
    if t._base is not None and t._gradient_edge() is None:  # a view whose gradient is dropped:
        return AccumulateGrad(t), 0  # a node that no edge reaches (nor kept with the view)
    return t._get_accumulator(), 0


def _needed_nodes(roots, targets: set) -> set:
    """The nodes from which a target node can be reached (the only ones that must run)."""
    seen = set(roots)
    stack = list(roots)
    while stack:
        for nxt in stack.pop()._edges:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    needed = set()
    for node in sorted(seen, key=_seq):  # oldest first: next nodes are decided before a node
        if node in targets:
            needed.add(node)
            continue
        for nxt in node._edges:
            if nxt is not None and nxt in needed:
                needed.add(node)
                break
    return needed


def _seq(node) -> int:
    return node._sequence_nr


def _sum_to(grad: Tensor, shape: tuple, node, in_grads: tuple = (),
            arrays: bool = False) -> Tensor:
    """Sum a broadcast gradient back to ``shape`` (see Note [One place for shapes and dtypes]).

    ``arrays``: nothing is recorded (no create_graph, no forward-mode AD), so SumToSize's
    kernel runs on the array directly, without going through ``apply``."""
    gshape = grad._data.shape
    lead = len(gshape) - len(shape)
    if lead < 0 or (gshape[lead:] != shape and any(
            s != 1 and gshape[lead + i] != s for i, s in enumerate(shape))):
        index = next((i for i, g in enumerate(in_grads) if g is grad), 0)
        raise RuntimeError(
            f"Function {type(node).__name__} returned an invalid gradient at index {index} - got "
            f"{list(gshape)} but expected shape compatible with {list(shape)} (the gradient for "
            f"input {index} of forward must have that input's shape, or one that sums to it).")
    if arrays and grad._data.__class__ is np.ndarray:
        return _wrap(sum_to_array(grad._data, shape))
    return SumToSize.apply(grad, shape)


def run_backward(outputs, grad_outputs, retain_graph: bool, create_graph: bool,
                 inputs: tuple = (), allow_unused: bool = True):
    """Backpropagate from ``outputs``.

    Without ``inputs``, gradients are accumulated into the leaves' ``.grad``. With ``inputs``,
    the gradient of each input is returned instead and no ``.grad`` is touched.
    """
    outputs = _as_tuple(outputs)
    root_grads = _root_grads(outputs, _as_tuple(grad_outputs), create_graph)
    roots = [_slot_of(out) for out in outputs]

    captures: dict = {}  # (node, output_nr) -> positions in inputs
    needed = None
    if inputs:
        for i, t in enumerate(inputs):
            if not isinstance(t, Tensor):
                raise TypeError(f"inputs must be Tensors, got {type(t).__name__}")
            if not t._requires_grad:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {i}) does not require grad; "
                    "set requires_grad=True on it or leave it out of inputs.")
            captures.setdefault(_slot_of(t), []).append(i)
        needed = _needed_nodes([node for node, _ in roots], {node for node, _ in captures})
    captured = [None] * len(inputs)

    buffers: dict = {}  # node -> list of gradients, one per output
    owned: set = set()  # ids of buffered sums this loop made: Note [Summing gradients in place]
    ready: list = []  # heap of (-sequence_nr, node): the newest node runs first
    for (node, nr), g in zip(roots, root_grads):
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * len(node._outputs_meta)
            heappush(ready, (-node._sequence_nr, node))
        buf[nr] = g if buf[nr] is None else buf[nr] + g

    anomaly = _anomaly.state.enabled  # Note [Anomaly mode] in anomaly_mode.py
    prev_mode = _state.enabled
    _state.enabled = create_graph
    # Backward formulas meet inf * 0 and the like at kinks; PyTorch stays silent, so do we.
    quiet_token = quiet_begin()
    callbacks: list = []
    _callbacks.append(callbacks)
    _capturing.append(bool(inputs))
    node = None
    try:
        while ready:
            node = heappop(ready)[1]
            grads = buffers.pop(node)
            if owned:  # (an id may be reused once the gradient is gone)
                for g in grads:
                    owned.discard(id(g))
            if node._has_hooks:
                grads = _run_pre_hooks(node, grads)
            if needed is not None:
                for nr, g in enumerate(grads):
                    where = captures.get((node, nr))
                    if where is not None:
                        for i in where:
                            captured[i] = g
                if node not in needed or node.__class__ is AccumulateGrad:
                    continue
            if node.__class__ is AccumulateGrad:
                # (drop the loop's own references to gradients: Note [Stealing gradients])
                in_grads = g = prev = data = None
                _accumulate(node._variable(), grads[0], create_graph)
                if node._post_acc_hooks or node._post_hooks:
                    _run_accumulate_hooks(node, grads)
                continue

            for g in grads:
                if g is None:
                    if node.__dict__.get("_materialize_grads", True):
                        grads = _materialize(node, grads)
                    break
            fn = node._function  # Note [Fast backward] in function.py
            if create_graph or fn.fast_backward is None or dual.level:  # (arrays drop tangents)
                in_grads = fn.backward(node, *grads)
            else:
                in_grads = fn.fast_backward(node, *grads)
            if in_grads.__class__ is not tuple:
                in_grads = (in_grads,)
            if len(in_grads) != len(node._edges):
                in_grads = _check_count(node, in_grads)
            if not fn._builtin:
                _check_types(in_grads)
            if anomaly:
                _anomaly.check(node, in_grads)
            if node._post_hooks:
                in_grads = _run_post_hooks(node, in_grads, grads)
            if not retain_graph:
                node._packed = None
                if node._ctx_arrays:
                    _drop_ctx_arrays(node)

            for nxt, nr, g in zip(node._edges, node._edge_nrs, in_grads):
                if g is None or nxt is None:
                    continue
                shape, dtype = nxt._outputs_meta[nr]
                data = g._data
                if data.shape != shape:
                    g = _sum_to(g, shape, node, in_grads, not (create_graph or dual.level))
                if data.dtype is not dtype and data.dtype != dtype:
                    g = g.to(FROM_NUMPY[dtype])
                buf = buffers.get(nxt)
                if buf is None:
                    buf = buffers[nxt] = [None] * len(nxt._outputs_meta)
                    heappush(ready, (-nxt._sequence_nr, nxt))
                prev = buf[nr]
                if prev is None:
                    buf[nr] = g
                elif create_graph or dual.level:  # (a tangent rides on the sum)
                    buf[nr] = prev + g
                elif id(prev) in owned:  # Note [Summing gradients in place]
                    if prev._data.size < _parallel.min_size:
                        np.add(prev._data, g._data, out=prev._data)
                    else:  # (large: chunked over the threads)
                        _parallel.add_into(prev._data, g._data)
                else:
                    prev = buf[nr] = prev + g
                    owned.add(id(prev))
        for fn in callbacks:  # a callback may queue another: the loop sees it
            fn()
    except Exception:
        if anomaly:
            _anomaly.report(node)
        raise
    finally:
        _callbacks.pop()
        _capturing.pop()
        quiet_end(quiet_token)
        _state.enabled = prev_mode

    if not inputs:
        return None
    if not allow_unused:
        for i, g in enumerate(captured):
            if g is None:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {i}) appears to not have been "
                    "used in the graph. Set allow_unused=True if this is the desired behavior.")
    return tuple(captured)


def _drop_ctx_arrays(node) -> None:
    """Free the arrays a Function kept on ctx (its ``ctx_arrays``) once its node has run."""
    d = node.__dict__
    for name in node._ctx_arrays:
        d.pop(name, None)


def _check_count(node, in_grads: tuple) -> tuple:
    """Backward must return one gradient per forward argument (extra Nones are tolerated)."""
    n = len(node._edges)
    if len(in_grads) > n and all(g is None for g in in_grads[n:]):
        return in_grads[:n]
    raise RuntimeError(
        f"function {type(node).__name__} returned an incorrect number of gradients "
        f"(expected {n}, got {len(in_grads)}); backward must return one value per "
        "argument of forward, None for arguments that need no gradient.")


def _materialize(node, grads: list) -> list:
    """Replace missing output gradients by zeros, so backward formulas need no None checks
    (outputs that are not tensors, whose metadata is None, keep None)."""
    return [_wrap(np.zeros(*meta)) if g is None and meta is not None else g
            for g, meta in zip(grads, node._outputs_meta)]


def _check_types(in_grads: tuple) -> None:
    """A user Function's backward must return tensors (or None)."""
    for g in in_grads:
        if g is not None and not isinstance(g, Tensor):
            raise RuntimeError(f"expected Variable or None (got {type(g).__name__}); backward "
                               "must return a Tensor or None for each argument of forward.")


def _run_post_hooks(node, in_grads: tuple, grads: list) -> tuple:
    """Node hooks: ``hook(grad_inputs, grad_outputs)``, one grad_input per entry of
    next_functions (forward arguments that are not tensors have none); a hook may return
    replacements."""
    slots = [i for i, nr in enumerate(node._edge_nrs) if nr >= 0]
    grad_inputs = tuple(in_grads[i] for i in slots)
    for hook in tuple(node._post_hooks.values()):
        new = hook(grad_inputs, tuple(grads))
        if new is not None:
            grad_inputs = tuple(_replacements(
                hook, new, grad_inputs, "a node hook returns one gradient (or None) per entry "
                "of next_functions."))
    full = list(in_grads)
    for i, g in zip(slots, grad_inputs):
        full[i] = g
    return tuple(full)


def _run_accumulate_hooks(node, grads: list) -> None:
    """After ``.grad`` is set: post-accumulate-grad hooks (given the tensor), then the node's
    own hooks (``hook((), (grad,))``, as for any node)."""
    if node._post_acc_hooks:
        var = node._variable()
        if var is not None:
            for hook in tuple(node._post_acc_hooks.values()):
                hook(var)
    if node._post_hooks:
        for hook in tuple(node._post_hooks.values()):
            hook((), tuple(grads))


def _replacements(hook, new, old: list | tuple, rule: str) -> list:
    """The gradients a node hook returned in place of ``old``, checked one by one (count,
    shape, dtype); ``rule`` says what the hook should have returned."""
    new = list(new) if isinstance(new, (tuple, list)) else [new]
    if len(new) != len(old):
        raise RuntimeError(
            f"hook '{_hook_name(hook)}' has returned an incorrect number of values (got "
            f"{len(new)}, but expected {len(old)}); {rule}")
    for g, was in zip(new, old):
        if g is not None and was is not None:
            _check_hook_result(g, was, hook)
    return new


def _hook_name(hook) -> str:
    return getattr(hook, "__name__", type(hook).__name__)


def _run_pre_hooks(node, grads: list) -> list:
    """Tensor hooks (in registration order), then retain_grad, then node pre-hooks."""
    grads = list(grads)
    if node._tensor_hooks:
        for nr, hooks in tuple(node._tensor_hooks.items()):
            for hook in tuple(hooks.values()):
                if grads[nr] is None:
                    break
                new = hook(grads[nr])
                if new is not None:
                    grads[nr] = _check_hook_result(new, grads[nr], hook)
    if node._retained:
        for nr, ref in tuple(node._retained.items()):
            t = ref()
            g = grads[nr]
            if t is None or g is None:
                continue
            with _grad_lock(t):
                if t._grad is None:
                    t._grad = g if _state.enabled else _wrap(g._data.copy())
                else:
                    t._grad = t._grad + g
    if node._pre_hooks:
        for hook in tuple(node._pre_hooks.values()):
            new = hook(tuple(grads))
            if new is not None:
                grads = _replacements(hook, new, grads, "a pre-hook returns one gradient (or "
                                      "None) per output of the node.")
    return grads


def _check_hook_result(new, old: Tensor, hook=None) -> Tensor:
    if not isinstance(new, Tensor):
        raise TypeError(f"a hook must return a Tensor or None, got {type(new).__name__}")
    if new._data.shape != old._data.shape:
        raise RuntimeError(
            f"hook '{_hook_name(hook)}' has changed the size of value: it returned a gradient "
            f"of shape {list(new.shape)} for one of shape {list(old.shape)}; hooks must keep "
            "the shape.")
    return new


# Note [Threads]: a tensor's ``.grad`` is guarded by one of these, chosen by its id.
_GRAD_LOCKS = tuple(threading.Lock() for _ in range(64))


def _grad_lock(t: Tensor) -> threading.Lock:
    return _GRAD_LOCKS[(id(t) >> 4) & 63]  # ids are multiples of 16: skip the zero bits


def _from_vmap(g: Tensor, t: Tensor, accumulate: bool) -> Tensor:
    """A gradient computed per sample inside ``retrograd.func.vmap``, for tensor ``t``: vmap
    says what it adds up to (Note [Gradients inside vmap] in func/_vmap.py)."""
    fix = getattr(g._data, "grad_for", None)
    return g if fix is None else fix(g, t, accumulate)


def _accumulate(var: Tensor | None, g: Tensor | None, create_graph: bool) -> None:
    """Add ``g`` into ``var.grad``; the first gradient stored is never an alias of an array
    anyone else can reach (a fresh copy, or the engine's own: Note [Stealing gradients]).

    Atomic with respect to other threads accumulating into the same tensor (Note [Threads]).
    """
    if var is None or g is None:
        return
    if g._data.__class__ is not np.ndarray:
        g = _from_vmap(g, var, True)
        steal = False
    else:
        steal = not create_graph
    lock = _GRAD_LOCKS[(id(var) >> 4) & 63]  # (_grad_lock, inline)
    with lock:
        current = var._grad
        if current is None:
            if create_graph:
                var._grad = g
            elif steal and _unshared(g):
                var._grad = _wrap(g._data)
            else:
                var._grad = _wrap(g._data.copy())
        elif create_graph or current._requires_grad:
            var._grad = current + g
        else:
            current._data += g._data
            current._bump_version()


# Note [Stealing gradients]
#     The first gradient stored in a ``.grad`` must not be an array someone else can reach
#     (a later backward adds into it in place). Copying it is safe but costs a pass over every
#     parameter per step; PyTorch instead takes the gradient as it is when nothing else holds
#     it, and so do we: when the array owns its memory (no view, C-contiguous like a copy,
#     writable) and neither it nor its tensor is referenced by anything but the engine's
#     buffer, the new ``.grad`` wraps that very array. The references are counted with
#     ``sys.getrefcount``; what the engine itself holds at that point (the popped buffer, the
#     arguments on the way) is measured once at import by ``_calibrate``, so the test does not
#     depend on the interpreter's way of counting. Anything else holding the gradient (a hook
#     that kept it, another edge given the same tensor, a view, a saved tensor, ``autograd.grad``'s
#     results) adds a reference, and the gradient is copied as before.

_getrefcount = sys.getrefcount


def _unshared(g: Tensor) -> bool:
    """Only the engine's buffer holds ``g`` and only ``g`` holds its array (see above)."""
    data = g._data
    return (_getrefcount(g) <= _LONE_TENSOR and _getrefcount(data) <= _LONE_ARRAY
            and data.base is None and data.flags.c_contiguous and data.flags.writeable)


def _counts(g: Tensor) -> tuple:
    data = g._data
    return _getrefcount(g), _getrefcount(data)


def _calibrate() -> tuple:
    """The reference counts ``_unshared`` sees for a gradient held by nothing but a buffer,
    reached through the same calls as from the engine's loop (list item -> _accumulate's
    argument -> _unshared's argument)."""
    def accumulate(var, g, create_graph):
        return _counts(g)

    buffer = [_wrap(np.zeros(2))]
    return accumulate(None, buffer[0], False)


_LONE_TENSOR, _LONE_ARRAY = _calibrate()


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False,
             inputs=None) -> None:
    """Accumulate into ``.grad`` of the leaves the gradients of ``tensors``.

    With ``inputs``, only those tensors (leaves or not) get their ``.grad`` filled in.
    """
    if retain_graph is None:
        retain_graph = create_graph
    inputs = _as_tuple(inputs)
    if not inputs:
        run_backward(tensors, grad_tensors, retain_graph, create_graph)
        return
    grads = run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=inputs)
    for t, g in zip(inputs, grads):
        _accumulate(t, g, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         allow_unused: bool | None = None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple:
    """Return the gradients of ``outputs`` w.r.t. ``inputs`` without touching ``.grad``."""
    if is_grads_batched:  # one backward per row of grad_outputs (see _batched_grad.py)
        from ._batched_grad import grad_batched

        return grad_batched(grad, outputs, inputs, grad_outputs, retain_graph, create_graph,
                            allow_unused, materialize_grads)
    if retain_graph is None:
        retain_graph = create_graph
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("grad requires at least one input tensor to differentiate against.")
    if allow_unused is None:
        allow_unused = materialize_grads
    grads = run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs=inputs,
                         allow_unused=allow_unused)
    out = []
    for t, g in zip(inputs, grads):
        if g is not None and g._data.__class__ is not np.ndarray:
            g = _from_vmap(g, t, False)
        if g is None and materialize_grads:
            g = _wrap(np.zeros_like(t._data))
        elif g is not None and not create_graph and g._requires_grad:
            g = g.detach()
        out.append(g)
    return tuple(out)
