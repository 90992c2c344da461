"""Grad mode: whether operations are recorded for backward, per thread.

``no_grad``, ``enable_grad``, ``set_grad_enabled`` and ``inference_mode`` work as context
managers and as decorators, like PyTorch's.
"""

from __future__ import annotations

import functools
import threading


class _GradState(threading.local):
    enabled = True
    inference = False


state = _GradState()


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad are being recorded."""
    return state.enabled


def is_inference_mode_enabled() -> bool:
    return state.inference


class _Mode:
    """Base for the grad-mode switches: a context manager that is also a decorator."""

    def __call__(self, func):
        if isinstance(func, type):
            raise TypeError(f"{type(self).__name__} decorates functions, not classes")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper

    def clone(self):
        return type(self)()


class _BareDecoratable(_Mode):
    """A switch that may also decorate bare: ``@no_grad`` as well as ``@no_grad()``."""

    def __new__(cls, func=None):
        self = super().__new__(cls)
        if func is None:
            return self
        return self(func)


class _Switch(_BareDecoratable):
    """Sets grad mode to ``_enabled`` inside the block and restores the previous mode after."""

    _enabled: bool

    def __enter__(self) -> None:
        self.prev = state.enabled
        state.enabled = self._enabled

    def __exit__(self, *exc) -> None:
        state.enabled = self.prev


class no_grad(_Switch):
    """Context manager / decorator that turns recording of operations off."""

    _enabled = False


class enable_grad(_Switch):
    """Context manager / decorator that turns recording of operations on."""

    _enabled = True


class set_grad_enabled(_Mode):
    """Turn recording on or off; takes effect at once, and undoes itself as a context."""

    def __init__(self, mode: bool) -> None:
        self.prev = state.enabled
        self.mode = bool(mode)
        state.enabled = self.mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        state.enabled = self.prev

    def clone(self):
        return set_grad_enabled(self.mode)

    def __call__(self, func):
        # used as a decorator the switch must not stay on after decoration
        state.enabled = self.prev
        return super().__call__(func)


class inference_mode(_Mode):
    """Like ``no_grad`` (tensors made inside are never recorded); ``mode=False`` is a no-op."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        self.prev = (state.enabled, state.inference)
        if self.mode:
            state.enabled = False
            state.inference = True

    def __exit__(self, *exc) -> None:
        state.enabled, state.inference = self.prev

    def clone(self):
        return inference_mode(self.mode)
