"""Full backward hooks of modules: identity nodes around a module's call whose incoming
gradients are the module's grad_input and grad_output (see ``Module.register_full_backward_hook``).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..autograd.function import Function
from ..tensor import Tensor

if TYPE_CHECKING:
    from .module import Module


class _BackwardHookFunction(Function):
    """Identity on the module's input (or output) tensors: a node whose incoming gradients are
    the module's grad_input (or grad_output), where the module's backward hooks run."""

    node_name = "BackwardHookFunctionBackward"

    @staticmethod
    def forward(ctx, *tensors):
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(*[t for t in tensors if not t._requires_grad])
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return grads


def _pack(slots: list, grads, n: int) -> tuple:
    """Gradients of the tensors at ``slots``, spread into a tuple of length n (None elsewhere)."""
    full = [None] * n
    for i, g in zip(slots, grads):
        full[i] = g
    return tuple(full)


def _returned_grads(res, n: int, hook_kind: str, grads_name: str) -> tuple:
    """What a hook returned as replacement gradients: a tuple of length n."""
    res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
    if len(res) != n:
        raise RuntimeError(f"{hook_kind} returned an invalid number of {grads_name}, got "
                           f"{len(res)}, but expected {n}")
    return res


class _BackwardHook:
    """One module call's full backward hooks: wraps inputs and outputs in identity nodes and
    runs the hooks from those nodes' pre-hooks (the outputs' node runs first, then the inputs')."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.n_inputs = 0
        self.input_slots = None  # positions of the tensor args that were wrapped
        self.grad_outputs = None

    @staticmethod
    def _wrap(values: tuple, on_grads: Callable):
        """Pass the tensors among ``values`` through one identity node; call ``on_grads(grads,
        slots, n)`` as that node's pre-hook. Returns (slots or None, new values)."""
        slots = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        if not any(values[i]._requires_grad for i in slots):
            return None, values
        outs = _BackwardHookFunction.apply(*[values[i] for i in slots])
        node = next(t.grad_fn for t in outs if t.grad_fn is not None)
        node.register_prehook(functools.partial(on_grads, slots=slots, n=len(values)))
        new = list(values)
        for i, t in zip(slots, outs):
            new[i] = t
        return slots, tuple(new)

    def wrap_inputs(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        self.input_slots, args = self._wrap(args, self._on_input_grads)
        return args

    def wrap_outputs(self, result):
        single = isinstance(result, Tensor)
        values = (result,) if single else result
        if not isinstance(values, tuple):
            return result
        slots, new = self._wrap(values, self._on_output_grads)
        if slots is None:
            return result
        return new[0] if single else new

    def _on_output_grads(self, grads: tuple, slots: list, n: int) -> tuple:
        module = self.module
        grad_outputs = _pack(slots, grads, n)
        for hook in tuple(module._backward_pre_hooks.values()):
            res = hook(module, grad_outputs)
            if res is not None:
                grad_outputs = _returned_grads(res, n, "Backward pre hook", "grad_output")
        self.grad_outputs = grad_outputs
        if self.input_slots is None and module._backward_hooks:
            # No input needs a gradient, so no input node will run: call the hooks now.
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to module "
                "outputs since no inputs require gradients; grad_input is all None.",
                UserWarning, stacklevel=2)
            grad_inputs = (None,) * self.n_inputs
            for hook in tuple(module._backward_hooks.values()):
                res = hook(module, grad_inputs, grad_outputs)
                if res is not None and any(r is not None for r in res):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should "
                        "always return None or None for all gradients.")
        return tuple(grad_outputs[i] for i in slots)

    def _on_input_grads(self, grads: tuple, slots: list, n: int) -> tuple:
        module = self.module
        grad_inputs = _pack(slots, grads, n)
        for hook in tuple(module._backward_hooks.values()):
            res = hook(module, grad_inputs, self.grad_outputs)
            if res is not None:
                grad_inputs = _returned_grads(res, n, "Backward hook", "grad_input")
        return tuple(grad_inputs[i] for i in slots)
