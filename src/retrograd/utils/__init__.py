"""retrograd.utils: helpers around training: ``retrograd.utils.data`` and the
``retrograd.utils.benchmark`` timer."""

from . import benchmark, data

__all__ = ["benchmark", "data"]
