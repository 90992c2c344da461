"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""

from __future__ import annotations

import numpy as np

from ..tensor import _wrap
from .optimizer import (
    Optimizer,
    _check_cpu_only_flags,
    _check_hyperparameters,
    _scalar,
    _step_grad,
    _step_tensor,
)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad``. With ``t`` the step count and gradient ``g``::

        s += g * g;   p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    ``s`` starts at ``initial_accumulator_value``.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        _check_cpu_only_flags(differentiable=differentiable, fused=fused)
        _check_hyperparameters(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                               initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:  # PyTorch makes the state up front
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group) -> dict:
        state = self.state[p]
        state["step"] = _step_tensor()
        state["sum"] = _wrap(np.full_like(p._data, group["initial_accumulator_value"]))
        return state

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            lr_decay, eps = group["lr_decay"], group["eps"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            for p, grad in self._with_grads(group):
                state = self.state[p] or self._init_state(p, group)
                x = p._data
                count = state["step"]._data
                count += 1
                d = _step_grad(grad, x, maximize, weight_decay)
                clr = lr / (1 + (float(count) - 1) * lr_decay)
                s = state["sum"]._data
                s += d * d
                std = np.sqrt(s)
                std += eps
                x += -clr * d / std
                p._bump_version()
        return loss
