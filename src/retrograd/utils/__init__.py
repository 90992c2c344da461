"""retrograd.utils: helpers around training (``retrograd.utils.data``), activation
checkpointing (``retrograd.utils.checkpoint``), the ``retrograd.utils.benchmark`` timer and
DLPack (``retrograd.utils.dlpack``)."""

from . import benchmark, checkpoint, data, dlpack

__all__ = ["benchmark", "checkpoint", "data", "dlpack"]
