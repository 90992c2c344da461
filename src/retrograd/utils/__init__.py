"""retrograd.utils: helpers around training (so far: ``retrograd.utils.data``)."""

from . import checkpoint, data

__all__ = ["checkpoint", "data"]
