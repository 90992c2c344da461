"""``autograd.functional``: Jacobian-vector products, Jacobians and Hessians of a function.

Each entry point takes ``func`` and its ``inputs`` (a Tensor or a tuple of Tensors), runs
``func`` on copies of the inputs that require grad, and differentiates with ``autograd.grad``.
Results follow PyTorch's structure: a Tensor where the inputs (outputs) were a single Tensor, a
tuple where they were a tuple, and for ``jacobian`` a tuple over outputs of tuples over inputs,
each of shape ``output.shape + input.shape``.

Note [The double-vjp trick]
    A vector-Jacobian product ``u -> J^T u`` is linear in ``u``. Computing it with
    ``create_graph=True`` for a dummy ``u`` that requires grad, and differentiating the result
    w.r.t. ``u`` in the direction ``v``, gives ``J v``: forward-mode products from two reverse
    passes. ``jvp`` and ``hvp`` use it, as PyTorch does.

Note [Inputs that already require grad]
    With ``create_graph=True`` an input that requires grad is passed to ``func`` as a view of
    itself, so the results stay differentiable w.r.t. the caller's tensor; otherwise ``func``
    sees a detached copy and the results are detached.
"""

from __future__ import annotations

import numpy as np

from .. import grad_mode
from ..ops.join import stack
from ..tensor import Tensor, _wrap
from .engine import grad as _grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ---- argument handling -----------------------------------------------------------------

def _as_tuple(value, arg_name: str, fn_name: str) -> tuple:
    """``(was_tuple, tuple of Tensors)``; anything else is a TypeError naming the culprit."""
    was_tuple = isinstance(value, tuple)
    items = value if was_tuple else (value,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f"element {i} has" if was_tuple else f"the given {arg_name} has"
            raise TypeError(
                f"{fn_name}: the {arg_name} must be a Tensor or a tuple of Tensors, but {where} "
                f"type {type(item)}.")
    return was_tuple, items


def _unpack(res, was_tuple):
    """Undo ``_as_tuple``: ``was_tuple`` is a bool, or (outputs_were_tuple, inputs_were_tuple)
    for the nested results of ``jacobian``/``hessian``."""
    if isinstance(was_tuple, tuple):
        outer, inner = was_tuple
        if not inner:
            res = tuple(row[0] for row in res)
        return res if outer else res[0]
    return res if was_tuple else res[0]


def _prepare(tensors: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """The tensors ``func`` sees (Note [Inputs that already require grad])."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad
                 else t.detach().requires_grad_(need_graph) for t in tensors)


def _finish(res, create_graph: bool):
    """Detach the results unless their graph was asked for (nested tuples too)."""
    if create_graph:
        return res
    return tuple(_finish(r, False) if isinstance(r, tuple) else r.detach() for r in res)


def _check_v(v: tuple, ref: tuple, ref_was_tuple: bool) -> None:
    if len(v) != len(ref):
        if ref_was_tuple:
            raise RuntimeError(
                f"v must have one Tensor per entry: expected a tuple of {len(ref)}, got "
                f"{len(v)}.")
        raise RuntimeError("v must be a single Tensor here (got a tuple of several).")
    for i, (a, b) in enumerate(zip(v, ref)):
        if a.shape != b.shape:
            entry = f"entry {i} of v" if ref_was_tuple else "v"
            raise RuntimeError(
                f"{entry} has shape {list(a.shape)} but must have the shape "
                f"{list(b.shape)} of the tensor it multiplies.")


_STRICT_MESSAGES = {
    "outputs": "output {i} of the user-provided function does not require grad: it was not "
               "computed from the inputs in a differentiable way, which strict mode forbids",
    "grad_inputs": "the gradient w.r.t. input {i} does not depend on the inputs of the "
                   "user-provided function, which strict mode forbids",
    "jacobian": "the Jacobian w.r.t. input {i} does not depend on the inputs (the function is "
                "linear in it?), so its Hessian is zero, which strict mode forbids; the "
                "function must be twice differentiable with a Jacobian that varies",
    "hessian": "the Hessian w.r.t. input {i} does not depend on the inputs, which strict mode "
               "forbids; the function must be thrice differentiable",
}


def _check_strict(tensors: tuple, kind: str, strict: bool) -> None:
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"the output of the user-provided function does not depend on "
                               f"input {i}, which strict mode forbids (pass strict=False to "
                               "get zeros).")
        if not t.requires_grad:
            raise RuntimeError(_STRICT_MESSAGES[kind].format(i=i) + " (pass strict=False to "
                               "allow it).")


def _vjps(outputs: tuple, inputs: tuple, grad_outputs=None, create_graph: bool = False,
          retain_graph=None) -> tuple:
    """``autograd.grad`` over the outputs that require grad; None for unused inputs."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, gouts = zip(*pairs)
    return _grad(outs, inputs, gouts, retain_graph=retain_graph, create_graph=create_graph,
                 allow_unused=True)


_ZERO_STRICT = {
    "back": "the output of the user-provided function does not depend on input {i}",
    "back_trick": "the gradient w.r.t. the inputs does not depend on entry {i} of the dummy "
                  "grad_outputs of the double-vjp trick",
    "double_back": "the Jacobian of the user-provided function does not depend on input {i}",
    "double_back_trick": "the Hessian of the user-provided function does not depend on entry "
                         "{i} of the dummy grad_jacobian of the double-vjp trick",
}


def _zeros_for_none(grads: tuple, refs: tuple, strict: bool, create_graph: bool,
                    stage: str) -> tuple:
    """Zeros where a gradient is None (unless strict), checking differentiability if strict."""
    out = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_ZERO_STRICT[stage].format(i=i) + ", which strict mode "
                                   "forbids (pass strict=False to get zeros).")
            g = _zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "Hessian" if "double" in stage else "Jacobian"
            raise RuntimeError(f"the {what} of the user-provided function does not depend on "
                               f"input {i}, so it cannot be differentiated further as "
                               "create_graph=True asks; strict mode forbids this.")
        out.append(g)
    return tuple(out)


def _zeros_like(t: Tensor) -> Tensor:
    return _wrap(np.zeros(t._data.shape, t._data.dtype))


def _call(func, inputs: tuple, fn_name: str, strict: bool) -> tuple:
    was_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                   fn_name)
    _check_strict(outputs, "outputs", strict)
    return was_tuple, outputs


def _take_v(v, ref: tuple, ref_was_tuple: bool, fn_name: str, create_graph: bool,
            what: str):
    if v is None:
        if len(ref) != 1 or ref[0].numel() != 1:
            raise RuntimeError(f"{fn_name}: v may be None only when the {what} is a single "
                               "Tensor with a single element; pass v.")
        return None
    v = _prepare(_as_tuple(v, "v", fn_name)[1], create_graph, need_graph=False)
    _check_v(v, ref, ref_was_tuple)
    return v


# ---- products ------------------------------------------------------------------------

def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product at ``inputs``."""
    with grad_mode.enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        out_tuple, outputs = _call(func, inputs, "vjp", strict)
        v = _take_v(v, outputs, out_tuple, "vjp", create_graph,
                    "output of the user-provided function")
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        res = _vjps(outputs, inputs, v, create_graph=create_graph)
        res = _zeros_for_none(res, inputs, strict, create_graph, "back")
    return (_unpack(_finish(outputs, create_graph), out_tuple),
            _unpack(_finish(res, create_graph), in_tuple))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), J v)``: the Jacobian-vector product (Note [The double-vjp trick])."""
    with grad_mode.enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _take_v(v, inputs, in_tuple, "jvp", create_graph, "input")
        out_tuple, outputs = _call(func, inputs, "jvp", strict)
        dummy = tuple(_zeros_like(o).requires_grad_() for o in outputs)
        grad_inputs = _vjps(outputs, inputs, dummy, create_graph=True)
        _check_strict(grad_inputs, "grad_inputs", strict)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        res = _vjps(grad_inputs, dummy, v, create_graph=create_graph)
        res = _zeros_for_none(res, outputs, strict, create_graph, "back_trick")
    return (_unpack(_finish(outputs, create_graph), out_tuple),
            _unpack(_finish(res, create_graph), out_tuple))


def _single_scalar_output(func, fn_name: str, strict: bool):
    """``func`` checked to return one Tensor of one element (for hessian, hvp, vhp)."""
    def wrapped(*inputs):
        out = func(*inputs)
        was_tuple, outs = _as_tuple(out, "outputs of the user-provided function", fn_name)
        _check_strict(outs, "outputs", strict)
        if was_tuple:
            raise RuntimeError(f"the function given to {fn_name} must return a single Tensor, "
                               "not a tuple.")
        if out.numel() != 1:
            raise RuntimeError(f"the Tensor returned by the function given to {fn_name} must "
                               f"have a single element, got shape {list(out.shape)}.")
        return out
    return wrapped


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), v^T H)`` for a scalar function: the vector-Hessian product."""
    with grad_mode.enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _take_v(v, inputs, in_tuple, "vhp", create_graph, "input")
        out = _single_scalar_output(func, "vhp", strict)(*inputs)
        jac = _vjps((out,), inputs, create_graph=True)
        _check_strict(jac, "jacobian", strict)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        res = _vjps(jac, inputs, v, create_graph=create_graph)
        res = _zeros_for_none(res, inputs, strict, create_graph, "double_back")
    return (_finish((out,), create_graph)[0], _unpack(_finish(res, create_graph), in_tuple))


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), H v)`` for a scalar function, by the double-vjp trick."""
    with grad_mode.enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _take_v(v, inputs, in_tuple, "hvp", create_graph, "input")
        out = _single_scalar_output(func, "hvp", strict)(*inputs)
        jac = _vjps((out,), inputs, create_graph=True)
        _check_strict(jac, "jacobian", strict)
        dummy = tuple(_zeros_like(t).requires_grad_() for t in inputs)
        double_back = _vjps(jac, inputs, dummy, create_graph=True)
        _check_strict(jac, "hessian", strict)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        res = _vjps(double_back, dummy, v, create_graph=create_graph)
        res = _zeros_for_none(res, inputs, strict, create_graph, "double_back_trick")
    return (_finish((out,), create_graph)[0], _unpack(_finish(res, create_graph), in_tuple))


# ---- Jacobians and Hessians ------------------------------------------------------------

def _basis(numels: tuple, ref: tuple) -> tuple:
    """One-hot rows over all entries: block ``j`` is ``(sum(numels), numels[j])``."""
    total, start, out = sum(numels), 0, []
    for n, t in zip(numels, ref):
        block = np.zeros((total, n), t._data.dtype)
        block[np.arange(start, start + n), np.arange(n)] = 1
        out.append(_wrap(block))
        start += n
    return tuple(out)


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: entry ``[i][j]`` has shape
    ``outputs[i].shape + inputs[j].shape`` (unnested where inputs/outputs were single Tensors).

    ``vectorize=True`` computes all rows with one ``autograd.grad(..., is_grads_batched=True)``
    call (which retrograd runs as one backward per row, see _batched_grad.py).
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('strategy must be "forward-mode" or "reverse-mode" ("forward-mode" '
                             "is usually faster when the function has more outputs than inputs, "
                             f'"reverse-mode" otherwise), got {strategy!r}.')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                'jacobian: strategy="forward-mode" does not support create_graph=True yet; use '
                'create_graph=False or strategy="reverse-mode".')
        return _jacobian_forward(func, inputs, strict, vectorize)
    with grad_mode.enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        out_tuple, outputs = _call(func, inputs, "jacobian", strict)
        if vectorize and strict:
            raise RuntimeError('jacobian: strict=True and vectorize=True cannot be used together; '
                               "set one of them to False.")
        flat = tuple(o.reshape(-1) for o in outputs)
        if vectorize:
            jac = _jacobian_batched(flat, outputs, inputs, create_graph)
        else:
            jac = tuple(_jacobian_rows(i, out, inputs, create_graph, strict)
                        for i, out in enumerate(flat))
        jac = tuple(tuple(j.reshape(tuple(out.shape) + tuple(inp.shape))
                          for j, inp in zip(row, inputs)) for row, out in zip(jac, outputs))
        return _unpack(_finish(jac, create_graph), (out_tuple, in_tuple))


def _jacobian_batched(flat: tuple, outputs: tuple, inputs: tuple, create_graph: bool) -> tuple:
    """All rows in one ``autograd.grad(..., is_grads_batched=True)``, split by output."""
    numels = tuple(o.numel() for o in flat)
    total = sum(numels)
    live = [(o, b) for o, b in zip(flat, _basis(numels, flat)) if o.requires_grad]
    res = (None,) * len(inputs)
    if live and total:
        outs, gouts = zip(*live)
        res = _grad(outs, inputs, gouts, create_graph=create_graph, allow_unused=True,
                    is_grads_batched=True)
    rows = [_wrap(np.zeros((total,) + tuple(t.shape), t._data.dtype)) if r is None else r
            for r, t in zip(res, inputs)]
    starts = np.cumsum((0,) + numels[:-1])
    return tuple(tuple(r[start:start + n] for r in rows) for start, n in zip(starts, numels))


def _jacobian_rows(i: int, out: Tensor, inputs: tuple, create_graph: bool,
                   strict: bool) -> tuple:
    """The rows of output ``i`` (flattened) w.r.t. each input, one backward per row."""
    per_input = [[] for _ in inputs]
    eye = np.eye(out.numel(), dtype=out._data.dtype)
    for k in range(out.numel()):
        vj = _vjps((out,), inputs, (_wrap(eye[k]),), create_graph=create_graph,
                   retain_graph=True)
        for j, (g, inp) in enumerate(zip(vj, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"output {i} of the user-provided function does not "
                                       f"depend on input {j}, which strict mode forbids "
                                       "(pass strict=False to get zeros).")
                g = _zeros_like(inp)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"the Jacobian of output {i} of the user-provided function "
                                   "does not depend on the inputs, so it cannot be "
                                   "differentiated as create_graph=True asks; strict mode "
                                   "forbids this.")
            per_input[j].append(g)
    return tuple(stack(rows) if rows else _wrap(np.zeros((0,) + tuple(t.shape), t._data.dtype))
                 for rows, t in zip(per_input, inputs))


def _jacobian_forward(func, inputs, strict: bool, vectorize: bool):
    """Jacobian by forward-mode AD, one column per input entry (retrograd.autograd.forward_ad)."""
    if strict:
        raise RuntimeError('jacobian: strict=True and strategy="forward-mode" cannot be used '
                           'together yet; use strict=False or strategy="reverse-mode".')
    in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    if not vectorize:
        raise NotImplementedError('jacobian: strategy="forward-mode" (and hessian\'s '
                                  'outer_jacobian_strategy="forward-mode") needs '
                                  "vectorize=True.")
    try:
        from . import forward_ad as fwad
    except ImportError:
        raise NotImplementedError(
            'jacobian: strategy="forward-mode" needs retrograd.autograd.forward_ad, which this '
            'build does not have; use strategy="reverse-mode".') from None
    columns = None  # columns[i][j]: the tangents of output i for each entry of input j
    out_tuple = False
    for j, inp in enumerate(inputs):
        for k in range(inp.numel()):
            tangent = np.zeros(inp._data.size, inp._data.dtype)
            tangent[k] = 1
            with fwad.dual_level():
                duals = tuple(fwad.make_dual(t, _wrap(tangent.reshape(t._data.shape)))
                              if m == j else t for m, t in enumerate(inputs))
                out_tuple, outs = _as_tuple(func(*duals), "outputs of the user-provided "
                                            "function", "jacobian")
                if columns is None:
                    columns = [[[] for _ in inputs] for _ in outs]
                    primals = outs
                for i, o in enumerate(outs):
                    primal, tan = fwad.unpack_dual(o)
                    columns[i][j].append(_zeros_like(primal) if tan is None else tan)
    # NOTE: lists, not tuples, where PyTorch's forward-mode jacobian returns lists; and, as
    # there, nothing is detached (hessian's forward-over-reverse results require grad)
    jac = [[stack(columns[i][j], dim=-1).reshape(tuple(o.shape) + tuple(inp.shape))
            if columns[i][j] else _wrap(np.zeros(tuple(o.shape) + tuple(inp.shape),
                                                 o._data.dtype))
            for j, inp in enumerate(inputs)]
           for i, o in enumerate(primals)]
    return _unpack(jac, (out_tuple, in_tuple))


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar ``func``: entry ``[i][j]`` has shape
    ``inputs[i].shape + inputs[j].shape`` (a single Tensor for a single input)."""
    in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('outer_jacobian_strategy must be "forward-mode" or '
                             f'"reverse-mode", got {outer_jacobian_strategy!r}.')
    scalar = _single_scalar_output(func, "hessian", strict)

    def gradient(*args):
        if outer_jacobian_strategy == "forward-mode":
            args = tuple(t.requires_grad_(True) for t in args)
        g = jacobian(lambda *a: scalar(*a).reshape(()), args, create_graph=True)
        _check_strict(g, "jacobian", strict)
        return g

    res = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack(res, (in_tuple, in_tuple))
