"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

import numpy as np

from .optimizer import (
    Optimizer,
    _check_cpu_only_flags,
    _check_hyperparameters,
    _lerp_,
    _scalar,
    _step_grad,
    _step_tensor,
    _zeros_like,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop``. With gradient ``g``::

        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - mean_g**2) if centered else sqrt(v)     (mean_g: running mean of g)
        p -= lr * g / (avg + eps)          or, with momentum mu:
        buf = mu * buf + g / (avg + eps);  p -= lr * buf
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_cpu_only_flags(capturable, differentiable)
        _check_hyperparameters(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay,
                               alpha=alpha)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay,
                    "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            alpha, eps, momentum = group["alpha"], group["eps"], group["momentum"]
            weight_decay, centered = group["weight_decay"], group["centered"]
            maximize = group["maximize"]
            for p, grad in self._with_grads(group):
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if centered:
                        state["grad_avg"] = _zeros_like(p)
                x = p._data
                d = _step_grad(grad, x, maximize, weight_decay)
                count = state["step"]._data
                count += 1
                v = state["square_avg"]._data
                v *= alpha
                v += (1 - alpha) * d * d
                if centered:
                    mean = state["grad_avg"]._data
                    _lerp_(mean, d, 1 - alpha)
                    avg = np.sqrt(v - mean * mean)
                else:
                    avg = np.sqrt(v)
                avg += eps
                if momentum > 0:
                    buf = state["momentum_buffer"]._data
                    buf *= momentum
                    buf += d / avg
                    x -= lr * buf
                else:
                    x += -lr * d / avg
                p._bump_version()
        return loss
