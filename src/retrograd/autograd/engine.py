"""The engine: runs the recorded graph backwards, from the outputs to the leaves.

Note [Order of execution]
    First an explicit stack walks every node reachable from the roots and counts, for each node,
    how many edges point at it (its dependencies). A node is ready when all the gradients that
    flow into it have arrived, i.e. its count drops to zero. Ready nodes run newest first (by
    the sequence number taken when they were recorded), which is a topological order. Nothing
    here recurses, so graphs of any depth work.

Note [Gradient buffers]
    Each node waiting to run has a buffer with one slot per output; gradients arriving on the
    same slot are summed. A buffer is popped when its node runs, so a gradient lives only as long
    as it is needed.

Note [One place for shapes and dtypes]
    Before a gradient enters a buffer it is summed to the shape of the tensor it belongs to
    (undoing broadcasting) and cast to that tensor's dtype. Backward formulas never do this.

Note [Freeing the graph]
    Unless retain_graph, each node drops what it saved as soon as it has run; a second backward
    that needs those tensors raises. Nodes own no references back to their outputs, so the graph
    is freed by reference counting alone, without the cycle collector.
"""

from __future__ import annotations

import heapq

from ..tensor import Tensor, _wrap
from .. import grad_mode
from .function import AccumulateGrad

_state = grad_mode.state


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _make_root_grads(outputs: tuple, grad_outputs: tuple, create_graph: bool) -> list:
    """The starting gradient of each output: given, or ones for a scalar output."""
    if len(grad_outputs) == 0:
        grad_outputs = (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"got {len(grad_outputs)} gradients for {len(outputs)} outputs; pass one gradient "
            "(or None) per output.")
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, Tensor):
            raise TypeError(f"outputs must be Tensors, got {type(out).__name__}")
        if not out._requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn; "
                "it was not computed from a tensor with requires_grad=True (or was computed "
                "under no_grad), so there is nothing to differentiate.")
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    "grad can be implicitly created only for scalar outputs; this output has "
                    f"shape {list(out.shape)}, so pass backward(gradient) with a tensor of that "
                    "shape (the vector of the vector-Jacobian product).")
            g = _wrap(_ones_like(out._data))
        else:
            if not isinstance(g, Tensor):
                raise TypeError(f"gradients must be Tensors or None, got {type(g).__name__}")
            if g._data.shape != out._data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and "
                    f"output[{i}] has a shape of {out.shape}; the gradient must have the "
                    "output's shape.")
            if g._data.dtype != out._data.dtype:
                g = _wrap(g._data.astype(out._data.dtype))
            elif not create_graph and g._requires_grad:
                g = g.detach()
        grads.append(g)
    return grads


def _ones_like(arr):
    out = arr.copy()
    out.fill(1)
    return out


def _collect(roots) -> dict:
    """Every node reachable from ``roots`` -> number of edges that point at it."""
    deps: dict = {}
    stack = []
    for node in roots:
        if node not in deps:
            deps[node] = 0
            stack.append(node)
    while stack:
        node = stack.pop()
        for edge in node._edges:
            if edge is None:
                continue
            nxt = edge[0]
            if nxt is None:
                continue
            if nxt in deps:
                deps[nxt] += 1
            else:
                deps[nxt] = 1
                stack.append(nxt)
    return deps


def _needed_nodes(deps: dict, targets: set) -> set:
    """Nodes from which some target node can be reached (only those must run)."""
    # Walk a topological order backwards: a node is needed when one of its next nodes is.
    remaining = dict(deps)
    ready = [n for n, c in remaining.items() if c == 0]
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        for edge in node._edges:
            if edge is None or edge[0] is None:
                continue
            nxt = edge[0]
            remaining[nxt] -= 1
            if remaining[nxt] == 0:
                ready.append(nxt)
    needed = set()
    for node in reversed(order):
        if node in targets:
            needed.add(node)
            continue
        for edge in node._edges:
            if edge is not None and edge[0] is not None and edge[0] in needed:
                needed.add(node)
                break
    return needed


def _sum_to(grad: Tensor, shape: tuple, node) -> Tensor:
    """Sum a broadcast gradient back to ``shape`` (see Note [One place for shapes and dtypes])."""
    gshape = grad._data.shape
    lead = len(gshape) - len(shape)
    if lead < 0:
        raise RuntimeError(
            f"Function {type(node).__name__} returned an invalid gradient: shape {list(gshape)} "
            f"cannot be summed to the input's shape {list(shape)}.")
    for i, s in enumerate(shape):
        if s != 1 and gshape[lead + i] != s:
            raise RuntimeError(
                f"Function {type(node).__name__} returned an invalid gradient: shape "
                f"{list(gshape)} cannot be summed to the input's shape {list(shape)}.")
    return grad.sum_to_size(shape)


def run_backward(outputs, grad_outputs, retain_graph: bool, create_graph: bool,
                 inputs: tuple = (), accumulate: bool = True, allow_unused: bool = True):
    """Backpropagate from ``outputs``; accumulate into leaves or return grads of ``inputs``."""
    outputs = _as_tuple(outputs)
    root_grads = _make_root_grads(outputs, _as_tuple(grad_outputs), create_graph)

    # A root that is itself a leaf (or an input) starts at its AccumulateGrad node.
    roots = []
    for out in outputs:
        fn = out.grad_fn
        roots.append((out._get_accumulator(), 0) if fn is None else (fn, out._output_nr))

    # Where each requested input's gradient is captured: its producing node and slot.
    captures = {}
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"inputs must be Tensors, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError(
                f"One of the differentiated Tensors (input {i}) does not require grad; "
                "set requires_grad=True on it or leave it out of inputs.")
        key = (t._get_accumulator(), 0) if t.grad_fn is None else (t.grad_fn, t._output_nr)
        captures.setdefault(key, []).append(i)
    captured = [None] * len(inputs)

    deps = _collect({node for node, _ in roots})
    needed = None
    if inputs:
        needed = _needed_nodes(deps, {node for node, _ in captures})

    buffers: dict = {}
    for (node, nr), g in zip(roots, root_grads):
        _add_to_buffer(buffers, node, nr, g)

    ready = [(-node._sequence_nr, id(node), node) for node, c in deps.items() if c == 0]
    heapq.heapify(ready)

    prev_mode = _state.enabled
    _state.enabled = create_graph
    try:
        while ready:
            node = heapq.heappop(ready)[2]
            grads = buffers.pop(node, None)
            if grads is None:
                grads = [None] * max(len(node._outputs_meta), 1)

            if node._tensor_hooks or node._retained or node._pre_hooks:
                grads = _run_pre_hooks(node, grads)

            if captures:
                for nr in range(len(grads)):
                    where = captures.get((node, nr))
                    if where is not None:
                        for i in where:
                            captured[i] = grads[nr]

            if needed is not None and node not in needed:
                _release_deps(node, deps, ready)
                continue

            if node.__class__ is AccumulateGrad:
                if accumulate:
                    _accumulate(node._variable(), grads[0], create_graph)
                    if node._post_hooks:
                        for hook in tuple(node._post_hooks.values()):
                            hook(node._variable())
                continue

            if all(g is None for g in grads):
                in_grads = (None,) * len(node._edges)
            else:
                if node.__dict__.get("_materialize_grads", True):
                    grads = _materialize(node, grads)
                in_grads = node._apply_backward(grads)
            if node._post_hooks:
                for hook in tuple(node._post_hooks.values()):
                    hook(in_grads, tuple(grads))

            for edge, g in zip(node._edges, in_grads):
                if edge is None:
                    continue
                nxt, nr = edge
                if nxt is None:
                    continue
                if g is not None:
                    if nxt.__class__ is AccumulateGrad:
                        v = nxt._variable()
                        meta = None if v is None else (v._data.shape, v._data.dtype)
                    else:
                        meta = nxt._outputs_meta[nr]
                    if meta is not None:
                        if g._data.shape != meta[0]:
                            g = _sum_to(g, meta[0], node)
                        if g._data.dtype != meta[1]:
                            g = g.to(_dtype_of(meta[1]))
                    _add_to_buffer(buffers, nxt, nr, g)
                c = deps[nxt] - 1
                deps[nxt] = c
                if c == 0:
                    heapq.heappush(ready, (-nxt._sequence_nr, id(nxt), nxt))
            if not retain_graph:
                node._release()
    finally:
        _state.enabled = prev_mode

    if inputs and not accumulate:
        if not allow_unused:
            for i, g in enumerate(captured):
                if g is None:
                    raise RuntimeError(
                        f"One of the differentiated Tensors (input {i}) appears to not have been "
                        "used in the graph. Set allow_unused=True if this is the desired "
                        "behavior.")
        return tuple(captured)
    return None


def _release_deps(node, deps, ready) -> None:
    for edge in node._edges:
        if edge is None or edge[0] is None:
            continue
        nxt = edge[0]
        deps[nxt] -= 1
        if deps[nxt] == 0:
            heapq.heappush(ready, (-nxt._sequence_nr, id(nxt), nxt))


def _dtype_of(np_dtype):
    from ..dtypes import FROM_NUMPY

    return FROM_NUMPY[np_dtype]


def _add_to_buffer(buffers: dict, node, nr: int, g: Tensor) -> None:
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = [None] * max(len(node._outputs_meta), 1)
    prev = buf[nr]
    buf[nr] = g if prev is None else prev + g


def _materialize(node, grads: list) -> list:
    """Replace missing output gradients by zeros, so backward formulas need no None checks."""
    if None not in grads:
        return grads
    out = []
    for g, (shape, dt) in zip(grads, node._outputs_meta):
        if g is None:
            import numpy as np

            g = _wrap(np.zeros(shape, dtype=dt))
        out.append(g)
    return out


def _run_pre_hooks(node, grads: list) -> list:
    """Tensor hooks (in registration order), then retain_grad, then node pre-hooks."""
    grads = list(grads)
    if node._tensor_hooks:
        for nr, hooks in node._tensor_hooks.items():
            for hook in tuple(hooks.values()):
                if grads[nr] is None:
                    break
                new = hook(grads[nr])
                if new is not None:
                    grads[nr] = _check_hook_result(new, grads[nr])
    if node._retained:
        for nr, ref in node._retained.items():
            t = ref()
            g = grads[nr]
            if t is None or g is None:
                continue
            if t._grad is None:
                t._grad = g if _state.enabled else _wrap(g._data.copy())
            else:
                t._grad = t._grad + g
    if node._pre_hooks:
        for hook in tuple(node._pre_hooks.values()):
            new = hook(tuple(grads))
            if new is not None:
                grads = list(new)
    return grads


def _check_hook_result(new, old: Tensor) -> Tensor:
    if not isinstance(new, Tensor):
        raise TypeError(f"a hook must return a Tensor or None, got {type(new).__name__}")
    if new._data.shape != old._data.shape:
        raise RuntimeError(
            f"hook returned a gradient of shape {list(new.shape)}, but the gradient it replaces "
            f"has shape {list(old.shape)}; hooks must keep the shape.")
    return new


def _accumulate(var: Tensor | None, g: Tensor | None, create_graph: bool) -> None:
    """Add ``g`` into ``var.grad``."""
    if var is None or g is None:
        return
    current = var._grad
    if current is None:
        # The first gradient stored is never an alias of an array someone else holds.
        var._grad = g if create_graph else _wrap(g._data.copy())
    elif create_graph or current._requires_grad:
        var._grad = current + g
    else:
        current._data += g._data
        current._version_counter[0] += 1


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
    grads = run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=inputs,
                         accumulate=False)
    for t, g in zip(inputs, grads):
        _accumulate(t, g, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         allow_unused: bool | None = None, materialize_grads: bool = False) -> tuple:
    """Return the gradients of ``outputs`` w.r.t. ``inputs`` without touching ``.grad``."""
    if retain_graph is None:
        retain_graph = create_graph
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("grad requires at least one input tensor to differentiate against.")
    if allow_unused is None:
        allow_unused = materialize_grads
    grads = run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs=inputs,
                         accumulate=False, allow_unused=allow_unused)
    out = []
    for t, g in zip(inputs, grads):
        if g is None and materialize_grads:
            g = _wrap(t._data * 0)
        elif g is not None and not create_graph and g._requires_grad:
            g = g.detach()
        out.append(g)
    return tuple(out)
