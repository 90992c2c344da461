"""retrograd.utils: helpers around training (so far: ``retrograd.utils.data``)."""

from . import data

__all__ = ["data"]
