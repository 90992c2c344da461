"""Gradient clipping: rescale (``clip_grad_norm_``) or clamp (``clip_grad_value_``) the
gradients of parameters in place, between ``backward()`` and the optimizer step."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable

import numpy as np

from ... import grad_mode
from ...tensor import Tensor, _wrap

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p._grad for p in parameters if p._grad is not None]


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale the gradients so that their joint norm (as if concatenated) is at most max_norm.

    Returns the norm before clipping. ``foreach`` is accepted and ignored.
    """
    grads = _grads(parameters)
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if not grads:
        return _wrap(np.array(0.0, dtype=np.float32))
    dtype = grads[0]._data.dtype
    if norm_type == math.inf:
        norms = [np.abs(g._data).max(initial=0.0) for g in grads]
        total = max(norms)
    elif norm_type == -math.inf:
        total = min(np.abs(g._data).min(initial=math.inf) for g in grads)
    elif norm_type == 2.0:  # the common case: one BLAS dot per gradient
        total = math.sqrt(sum(float(np.dot(g._data.ravel(), g._data.ravel())) for g in grads))
    else:
        total = sum(float((np.abs(g._data.astype(np.float64)) ** norm_type).sum())
                    for g in grads) ** (1.0 / norm_type)
    total = float(total)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`")
    coef = max_norm / (total + 1e-6)
    if coef < 1.0 or math.isnan(coef):  # scaling by 1 would change nothing
        with grad_mode.no_grad():
            for g in grads:
                g.mul_(coef)
    return _wrap(np.array(total, dtype=dtype))


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Deprecated name of ``clip_grad_norm_``."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with grad_mode.no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)
