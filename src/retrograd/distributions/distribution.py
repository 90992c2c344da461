"""The base of the distributions: shapes, argument checking and the shared error messages."""

from __future__ import annotations

from .._types import Size

__all__ = ["Distribution"]


class Distribution:
    """A family of probability distributions, batched over ``batch_shape``, each over values of
    shape ``event_shape``. Subclasses give ``sample``, ``log_prob`` and ``entropy``."""

    _validate_default = True

    def __init__(self, batch_shape=(), event_shape=(), validate_args: bool | None = None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        self._validate_args = (self._validate_default if validate_args is None
                               else bool(validate_args))

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        Distribution._validate_default = bool(value)

    @property
    def batch_shape(self) -> Size:
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        return self._event_shape

    def _extended_shape(self, sample_shape=()) -> Size:
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def rsample(self, sample_shape=()):
        raise NotImplementedError(
            f"{type(self).__name__} has no reparameterized sampling (rsample): its samples are "
            "discrete. Use sample() with log_prob() (the score-function estimator) instead.")

    def _invalid(self, what: str, shape, constraint: str, values) -> ValueError:
        return ValueError(
            f"Expected {what} (Tensor of shape {tuple(shape)}) of distribution {self!r} to satisfy "
            f"the constraint {constraint}, but found invalid values:\n{values}")
