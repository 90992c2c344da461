"""Categorical: a distribution over ``0, ..., K-1`` given by probabilities or by logits.

``log_prob`` and ``entropy`` are written with tensor ops (log of the normalized probabilities,
``gather``, sum), so they are differentiable to any order in ``probs`` or ``logits``; ``sample``
draws with ``multinomial`` and is not differentiable (there is no ``rsample``).
"""

from __future__ import annotations

import math

import numpy as np

from .. import grad_mode
from .._types import Size
from ..tensor import Tensor
from .distribution import Distribution

__all__ = ["Categorical"]


class Categorical(Distribution):
    """``P(X = i) = probs[..., i]``, with ``probs`` normalized along the last dimension, or
    ``probs = softmax(logits)``. Give exactly one of ``probs`` and ``logits``."""

    def __init__(self, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        param = probs if probs is not None else logits
        if not isinstance(param, Tensor) or param.dim() < 1:
            raise ValueError("`probs` or `logits` must be a tensor of at least one dimension "
                             "(the categories along the last one).")
        self._given = "probs" if probs is not None else "logits"
        if probs is not None:
            self._probs = probs / probs.sum(-1, keepdim=True)
            self._logits = None
        else:
            self._logits = logits - logits.logsumexp(dim=-1, keepdim=True)
            self._probs = None
        self._num_events = param.shape[-1]
        self._param_shape = Size(param.shape)
        super().__init__(param.shape[:-1], (), validate_args)
        if self._validate_args:
            self._check_parameter()

    def __repr__(self) -> str:
        shapes = [f"{name}: {getattr(self, '_' + name).shape}" for name in ("probs", "logits")
                  if getattr(self, "_" + name) is not None]
        return f"Categorical({', '.join(shapes)})"

    def _check_parameter(self) -> None:
        if self._given == "probs":
            p = self._probs.detach().numpy()
            ok = np.all(p >= 0, axis=-1) & (np.abs(p.sum(-1) - 1) < 1e-6)
            if not ok.all():
                raise self._invalid("parameter probs", p.shape, "Simplex()", self._probs.detach())
        elif np.isnan(self._logits.detach().numpy()).any():
            raise self._invalid("parameter logits", self._logits.shape,
                                "IndependentConstraint(Real(), 1)", self._logits.detach())

    # The parameter not given is derived on first use (and kept, as PyTorch's lazy_property).
    @property
    def probs(self) -> Tensor:
        if self._probs is None:
            self._probs = self._logits.softmax(-1)
        return self._probs

    @property
    def logits(self) -> Tensor:
        if self._logits is None:
            tiny = np.finfo(self._probs.detach().numpy().dtype).eps
            self._logits = self._probs.clamp(tiny, 1 - tiny).log()
        return self._logits

    @property
    def param_shape(self) -> Size:
        return self._param_shape

    @property
    def mean(self) -> Tensor:
        return self.probs.new_full(tuple(self.batch_shape), math.nan)

    @property
    def variance(self) -> Tensor:
        return self.probs.new_full(tuple(self.batch_shape), math.nan)

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    def sample(self, sample_shape=()) -> Tensor:
        """Indices of shape ``sample_shape + batch_shape``, drawn independently."""
        sample_shape = Size(sample_shape)
        n = math.prod(sample_shape)
        with grad_mode.no_grad():
            flat = self.probs.reshape(-1, self._num_events)
            drawn = flat.multinomial(n, True).T
        return drawn.reshape(tuple(sample_shape) + tuple(self.batch_shape))

    def log_prob(self, value: Tensor) -> Tensor:
        """``log P(X = value)``, broadcasting ``value`` against ``batch_shape``."""
        if self._validate_args:
            self._check_value(value)
        index = value.long().unsqueeze(-1)
        logits = self.logits
        shape = np.broadcast_shapes(tuple(index.shape[:-1]), tuple(logits.shape[:-1]))
        logits = logits.expand(*shape, self._num_events)
        index = index.expand(*shape, 1)
        return logits.gather(-1, index).squeeze(-1)

    def entropy(self) -> Tensor:
        """``-sum_i p_i log p_i`` (a zero probability contributes 0, not NaN)."""
        floor = np.finfo(self.logits.detach().numpy().dtype).min
        return -(self.logits.clamp(min=floor) * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        from ..creation import arange

        values = arange(self._num_events).reshape((-1,) + (1,) * len(self.batch_shape))
        if expand:
            values = values.expand(-1, *self.batch_shape)
        return values

    def _check_value(self, value) -> None:
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        v = value.detach().numpy()
        ok = (v == np.floor(v)) & (v >= 0) & (v <= self._num_events - 1)
        if not np.all(ok):
            raise ValueError(
                f"Expected value argument (Tensor of shape {tuple(value.shape)}) to be within the "
                f"support (IntegerInterval(lower_bound=0, upper_bound={self._num_events - 1})) of "
                f"the distribution {self!r}, but found invalid values:\n{value}")
