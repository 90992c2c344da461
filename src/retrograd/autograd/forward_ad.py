"""Forward-mode automatic differentiation: tensors that carry a tangent through every op.

PyTorch's ``torch.autograd.forward_ad``::

    with forward_ad.dual_level():
        x = forward_ad.make_dual(primal, tangent)
        y = f(x)
        value, jvp = forward_ad.unpack_dual(y)   # jvp = J_f(primal) @ tangent

Note [Forward-mode AD]
    A dual tensor is an ordinary tensor whose ``_fw_grad`` holds its tangent. While a dual
    level is active ``dual.level`` (function.py) is nonzero and ``Function.apply`` hands each
    call to ``_apply`` here: one check on the hot path, and nothing else runs when no level is
    active. ``_apply`` runs forward as apply does and, when an input carries a tangent, gets
    the outputs' tangents from the Function's ``jvp(ctx, *input_tangents)`` (None for an input
    without one), a rule written with retrograd ops next to ``backward``. Forward then sees
    ``needs_input_grad`` true for the inputs with a tangent, so it saves what the rule reads.
    Four shapes of rule are shared (as JAX's helpers for linear and bilinear rules):
      ``linear_jvp``       the op is linear in its float inputs together (views, shape ops,
                           sum, cat, indexing, ...): the op applied to the tangents (a number
                           written as a value, at a position in ``jvp_values``, becomes 0);
      ``multilinear_jvp``  linear in each float input (mul, the matrix products): the sum over
                           inputs with a tangent of the op with that input replaced by it;
      ``elementwise_jvp``  each output element depends only on the same element of each input
                           (after broadcasting), so each input's Jacobian is diagonal, equal to
                           its transpose: ``backward`` applied to the tangent is the jvp, and
                           the derivative stays written once;
      ``reduction_jvp``    each input element reaches one output element (prod, max, norm,
                           var, logsumexp over ``ctx.axes``; losses): backward of ones gives the
                           weights w, and the tangent is the sum of w * t over those axes.
    While a rule runs forward mode is off (a tangent of a tangent at one level means nothing),
    but grad mode is as the caller set it: tangents record a graph like any value, so
    reverse-over-forward works; and a backward run inside the level carries tangents too
    (forward-over-reverse: Hessian-vector products), for which the engine takes ``backward``,
    not ``fast_backward``, and a node keeps a saved dual output as the tensor. An output's
    tangent has the output's shape (a rule may return a broadcastable one) and, unless the op
    is a view, shares no memory with an input's.
    In-place ops update the tangent in place (Note [In-place dual] in ops/inplace.py; their
    recorded graph carries tangents, so Hessian-vector products through them work), so a view of
    a dual tensor, whose tangent is the same view of its base's tangent, follows. Leaving the
    level drops every tangent made in it.
"""

from __future__ import annotations

import functools
import weakref
from typing import NamedTuple

import numpy as np

from ..tensor import Tensor, _wrap
from .function import _apply_user, _scalar_output, _wrap_outputs, dual
from .graph import SavedOutput

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual",
           "unpack_dual", "dual_level"]

_current_level = -1
_with_tangent: list = []  # weak references to the tensors given a tangent at this level


# ---- the API -------------------------------------------------------------------------------------


def enter_dual_level() -> int:
    """Start the (single) forward-mode level; returns its index, 0."""
    global _current_level
    if _current_level >= 0:
        raise RuntimeError(
            "Nested forward mode AD is not supported at the moment: leave the active "
            "dual_level first (for higher-order forward derivatives, nest jvp calls from "
            "retrograd.autograd.functional instead).")
    _current_level = 0
    dual.level = 1
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """End the active level; every tangent made in it is dropped."""
    global _current_level
    if level is None:
        level = _current_level
    if level < 0:
        raise RuntimeError("Dual level must be a positive number. (No dual level is active: "
                           "exit_dual_level() pairs with an earlier enter_dual_level().)")
    if level != _current_level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    dual.level = 0
    _current_level = -1
    for ref in _with_tangent:
        t = ref()
        if t is not None:
            t.__dict__.pop("_fw_grad", None)
    _with_tangent.clear()


class dual_level:  # noqa: N801 - PyTorch's name
    """Context manager (or decorator) inside which dual tensors carry tangents."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc) -> None:
        exit_dual_level()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        return wrapper


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the primal and its tangent (None if it has none)."""

    primal: Tensor
    tangent: Tensor | None


def _check_level(level: int | None) -> int:
    if level is None:
        level = _current_level
    if level >= 0 and level != _current_level:
        raise RuntimeError(
            "Trying to access a forward AD level with an invalid index. This index was either "
            f"not created or is already deleted (the active level is {_current_level}).")
    return level


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A new tensor aliasing ``tensor``'s memory, with ``tangent`` as its tangent."""
    if _check_level(level) < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    for what, t in (("primal", tensor), ("tangent", tangent)):
        if not isinstance(t, Tensor):
            raise TypeError(f"make_dual(): the {what} must be a Tensor, not {type(t).__name__}")
        if t._data.dtype.kind != "f":
            raise ValueError(f"Expected {what} to be floating point or complex, but got: "
                             f"{t.dtype}")
    if tangent._data.shape != tensor._data.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}.")
    if tensor._fw_grad is not None:
        raise RuntimeError(
            "Making a dual Tensor based on a Tensor that already has a forward gradient at the "
            f"same level {_current_level} is not supported. Use unpack_dual(t).primal to get "
            "the value without its tangent first.")
    out = without_dual(tensor.view_as, tensor)
    if tangent._data.strides != tensor._data.strides:  # kept as is where the layouts agree
        tangent = without_dual(tangent.clone)
    set_tangent(out, tangent)
    return out


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)``: a view of ``tensor`` without the tangent, and the tangent."""
    if _check_level(level) < 0:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(without_dual(tensor.view_as, tensor), tensor._fw_grad)


# ---- tangents on tensors -------------------------------------------------------------------------


def set_tangent(t: Tensor, tangent: Tensor) -> None:
    """Give t a tangent for the active level (dropped when it ends)."""
    if t.__dict__.get("_fw_grad") is None:
        _with_tangent.append(weakref.ref(t))
    t._fw_grad = tangent


def without_dual(fn, *args, **kwargs):
    """``fn(*args)`` with forward mode off (what the rules and the bookkeeping run under)."""
    prev = dual.level
    dual.level = 0
    try:
        return fn(*args, **kwargs)
    finally:
        dual.level = prev


# ---- rules shared by many ops (Note [Forward-mode AD]) -------------------------------------------


def linear_jvp(ctx, *tangents):
    """Marker: the op is linear in its float inputs together (``_apply`` runs the rule)."""
    raise AssertionError("linear_jvp is run by forward_ad._apply")


def multilinear_jvp(ctx, *tangents):
    """Marker: the op is linear in each float input separately."""
    raise AssertionError("multilinear_jvp is run by forward_ad._apply")


def elementwise_jvp(ctx, *tangents):
    """Marker: each input's Jacobian is diagonal, so backward applied to its tangent is the jvp."""
    raise AssertionError("elementwise_jvp is run by forward_ad._apply")


def reduction_jvp(ctx, *tangents):
    """Marker: each input element reaches one output element, over ``ctx.axes`` (or the class's
    ``jvp_axes``); any op with a single 0-d output qualifies."""
    raise AssertionError("reduction_jvp is run by forward_ad._apply")


def _is_float_tensor(a) -> bool:
    return isinstance(a, Tensor) and a._data.dtype.kind == "f"


def _linear(cls, args: tuple, tangents: list):
    values = getattr(cls, "jvp_values", ())
    new = []
    for i, (a, t) in enumerate(zip(args, tangents)):
        if _is_float_tensor(a):
            a = t if t is not None else _wrap(np.zeros_like(a._data))
        elif i in values and not isinstance(a, Tensor):
            a = 0
        new.append(a)
    return cls.apply(*new)


def _multilinear(cls, args: tuple, tangents: list):
    total = None
    for i, t in enumerate(tangents):
        if t is not None:
            term = cls.apply(*args[:i], t, *args[i + 1:])
            total = term if total is None else total + term
    return total


def _elementwise(cls, ctx, tangents: list):
    total = None
    n = len(tangents)
    for i, t in enumerate(tangents):
        if t is not None:
            ctx.needs_input_grad = tuple(j == i for j in range(n))
            term = cls.backward(ctx, t)
            term = term[i] if isinstance(term, tuple) else term
            total = term if total is None else total + term
    return total


def _reduction(cls, ctx, outs: tuple, tangents: list):
    ctx.needs_input_grad = tuple(t is not None for t in tangents)
    weights = cls.backward(ctx, _wrap(np.ones_like(outs[0]._data)), *(None,) * (len(outs) - 1))
    weights = weights if isinstance(weights, tuple) else (weights,)
    total = None
    for w, t in zip(weights, tangents):
        if w is not None and t is not None:
            total = w * t if total is None else total + w * t
    shape = outs[0]._data.shape
    axes = ctx.__dict__.get("axes", getattr(cls, "jvp_axes", None))
    if total is None or total._data.shape == shape:
        pass
    elif not shape:  # one number out: the Jacobian is one row, whatever the op
        total = total.sum()
    elif axes is None:
        raise NotImplementedError(f"{cls.__name__}: reduction_jvp needs ctx.axes (or "
                                  "jvp_axes) to know the reduced dims")
    else:
        total = total.sum(axes, keepdim=ctx.__dict__.get("keepdim", False))
    return (total,) + (None,) * (len(outs) - 1)


# ---- Function.apply while a level is active ------------------------------------------------------


def _apply(cls, ctx, args: tuple, record: bool):
    """``Function.apply``'s work after the edges are linked, plus the outputs' tangents."""
    tangents = [a._fw_grad if isinstance(a, Tensor) else None for a in args]
    has_tangent = any(t is not None for t in tangents)
    needs = ctx.needs_input_grad
    widened = tuple(n or t is not None for n, t in zip(needs, tangents))
    dual.level = 0
    try:
        if has_tangent:
            ctx.needs_input_grad = widened
        if cls._builtin:
            out = cls.forward(ctx, *args)
            ctx.needs_input_grad = needs
            if out.__class__ is not np.ndarray and isinstance(out, np.generic):
                out = _scalar_output(ctx, out)
            results = _wrap_outputs(out, ctx if record else None, cls, args)
        else:  # (setup_context, mark_dirty, ... as apply runs them: Note [User Functions])
            out = None
            results = _apply_user(cls, ctx, args, record)
            ctx.needs_input_grad = needs
        if has_tangent:
            outs = results if isinstance(results, tuple) else (results,)
            if out is not None and not record and ctx._packed is not None:  # saved outputs
                arrays = out if isinstance(out, tuple) else (out,)
                ctx._packed = tuple(next((r for a, r in zip(arrays, outs) if s is a), s)
                                    for s in ctx._packed)
                ctx._packed_versions = tuple(
                    s._version_counter[0] if isinstance(s, Tensor) and s._version_counter
                    else 0 for s in ctx._packed)
            dirty = {id(x): x._fw_grad for x in ctx.__dict__.get("_dirty", ())}
            _attach(cls, outs, _run_rule(cls, ctx, args, outs, tangents, widened), tangents,
                    dirty)
            if record and ctx._packed is not None:
                _saved_outputs_keep_tangents(ctx, outs)
    finally:
        dual.level = 1
    return results


def _saved_outputs_keep_tangents(ctx, outs: tuple) -> None:
    """A recorded node that saved a dual output keeps the output tensor itself, so that a
    backward run inside the level (forward-over-reverse: Hessian-vector products) sees its
    tangent. That is a reference cycle (Note [Saved outputs]), broken when backward frees the
    saved tensors or by the garbage collector; only graphs recorded in a dual level have it."""
    ctx._packed = tuple(outs[s.output_nr] if s.__class__ is SavedOutput
                        and outs[s.output_nr]._fw_grad is not None else s for s in ctx._packed)


def _run_rule(cls, ctx, args: tuple, outs: tuple, tangents: list, widened: tuple):
    rule = cls.jvp
    if rule is None:
        if not cls._builtin:
            raise NotImplementedError(
                "You must implement the jvp function for custom autograd.Function to use it "
                f"with forward mode AD ({cls.__name__} has no jvp staticmethod).")
        name = cls._backward_cls.__name__.rsplit("Backward", 1)[0].lower()
        raise NotImplementedError(
            f"Trying to use forward AD with {name} that does not support it because it has not "
            "been implemented yet. Compute this derivative in reverse mode (backward or "
            "autograd.grad) instead.")
    if rule is linear_jvp:
        return _linear(cls, args, tangents)
    if rule is multilinear_jvp:
        return _multilinear(cls, args, tangents)
    needs = ctx.needs_input_grad
    try:
        if rule is elementwise_jvp:
            return _elementwise(cls, ctx, tangents)
        if rule is reduction_jvp:
            return _reduction(cls, ctx, outs, tangents)
        ctx.needs_input_grad = widened
        if cls._builtin:
            return rule(ctx, *tangents)
        return _custom_rule(rule, ctx, args, tangents)
    finally:
        ctx.needs_input_grad = needs


def _custom_rule(rule, ctx, args: tuple, tangents: list):
    """A user Function's jvp, as PyTorch calls it: zeros for tensors without a tangent, and
    ``ctx.saved_tensors`` giving what forward passed to ``ctx.save_for_forward``."""
    tangents = [_wrap(np.zeros_like(a._data)) if t is None and isinstance(a, Tensor) else t
                for a, t in zip(args, tangents)]
    packed, versions = ctx._packed, ctx.__dict__.get("_packed_versions")
    ctx._packed = ctx.__dict__.get("_fw_saved", ())
    ctx._packed_versions = None
    try:
        return rule(ctx, *tangents)
    finally:
        ctx._packed, ctx._packed_versions = packed, versions


def _attach(cls, outs: tuple, out_tangents, in_tangents: list, dirty: dict) -> None:
    """Give each float output its tangent, shaped like it and owning its memory. ``dirty``:
    id -> tangent before the call, of the inputs a user Function changed in place (mark_dirty),
    whose jvp must change their tangents in place too and return them, as in PyTorch."""
    if not isinstance(out_tangents, (tuple, list)):  # (a built-in's: its first output's)
        out_tangents = (out_tangents,) + (None,) * (len(outs) - 1 if cls._builtin else 0)
    if len(out_tangents) != len(outs):
        raise RuntimeError(f"{cls.__name__}.jvp returned {len(out_tangents)} tangents, but "
                           f"forward returned {len(outs)} outputs: return one per output.")
    for o, t in zip(outs, out_tangents):
        if t is None or o._data.dtype.kind != "f":
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"{cls.__name__}.jvp must return tensors (or None), not "
                            f"{type(t).__name__}")
        shape = o._data.shape
        if id(o) in dirty:
            before = dirty[id(o)]
            if before is None:
                set_tangent(o, t)
            elif t is not before:
                raise RuntimeError(
                    "An inplace custom Function is not modifying the forward mode gradients "
                    "inplace. If the forward is modifying an input inplace, then the jvp "
                    f"function must modify the corresponding gradient inplace ({cls.__name__}"
                    ".jvp: change the tangent in place, e.g. t.mul_(2), and return it).")
            continue
        if t._data.shape != shape:
            if t._data.size > o._data.size:
                raise RuntimeError(
                    f"{cls.__name__}.jvp returned a tangent of shape {list(t.shape)} for an "
                    f"output of shape {list(shape)}; they must match.")
            t = t.expand(shape).clone()
        elif not cls._is_view and any(
                s is not None and np.may_share_memory(t._data, s._data) for s in in_tangents):
            t = t.clone()  # an in-place change of the output's tangent must not reach the input
        set_tangent(o, t)


dual.apply = _apply
