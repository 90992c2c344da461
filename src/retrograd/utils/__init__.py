"""retrograd.utils: helpers around training (``retrograd.utils.data``) and DLPack
(``retrograd.utils.dlpack``)."""

from . import data, dlpack

__all__ = ["data", "dlpack"]
