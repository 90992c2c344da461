"""Function transforms (``torch.func``). vmap lives in _vmap.py; grad and the others are merged
in from their own branch, and this file then imports vmap from ._vmap beside them."""

from ._vmap import vmap

__all__ = ["vmap"]
