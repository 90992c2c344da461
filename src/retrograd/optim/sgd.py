"""SGD: stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

import numpy as np

from ..tensor import _wrap
from .optimizer import Optimizer, _check_cpu_only_flags, _check_hyperparameters, _scalar, _step_grad

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), as ``torch.optim.SGD``.

    With gradient ``g`` (plus ``weight_decay * p``), momentum ``mu`` and dampening ``tau``::

        buf = g on the first step, else mu * buf + (1 - tau) * g
        p  -= lr * (g + mu * buf if nesterov else buf)      (p -= lr * g without momentum)
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        _check_cpu_only_flags(differentiable=differentiable, fused=fused)
        _check_hyperparameters(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and not (momentum > 0 and dampening == 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            momentum, dampening = group["momentum"], group["dampening"]
            weight_decay, nesterov = group["weight_decay"], group["nesterov"]
            maximize = group["maximize"]
            for p, grad in self._with_grads(group):
                x = p._data
                d = _step_grad(grad, x, maximize, weight_decay)
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = _wrap(np.array(d, copy=True))
                    else:
                        b = buf._data
                        b *= momentum
                        b += d if dampening == 0 else (1 - dampening) * d
                    d = d + momentum * buf._data if nesterov else buf._data
                x -= lr * d
                p._bump_version()
        return loss
