"""retrograd.utils: helpers around training (``retrograd.utils.data``), the
``retrograd.utils.benchmark`` timer and DLPack (``retrograd.utils.dlpack``)."""

from . import benchmark, data, dlpack

__all__ = ["benchmark", "data", "dlpack"]
