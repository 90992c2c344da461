"""retrograd.nn: neural-network building blocks (so far: the functional forms of the ops)."""

from . import functional  # noqa: F401
