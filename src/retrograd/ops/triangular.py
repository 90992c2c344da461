"""The triangular parts of matrices: ``tril`` and ``triu`` (the masks of causal attention).

Both act on the last two dims, batched over the others; ``diagonal`` shifts the border
(0: the main diagonal, > 0 above it, < 0 below it). Each is linear, so its gradient is the same
triangle of the incoming gradient.
"""

from __future__ import annotations

import numpy as np

from ..autograd.forward_ad import linear_jvp
from ..autograd.function import Function
from ..tensor import Tensor
from ._registry import expose
from .inplace import apply_inplace


class Tril(Function):
    """out = lower triangle of x (on and below ``diagonal``);  dx = tril(grad)"""

    _np_fn = staticmethod(np.tril)

    @classmethod
    def forward(cls, ctx, x, diagonal):
        ctx.diagonal = diagonal
        return cls._np_fn(x._data, diagonal)

    @classmethod
    def backward(cls, ctx, grad):
        return cls.apply(grad, ctx.diagonal), None

    jvp = linear_jvp


class Triu(Tril):
    """out = upper triangle of x (on and above ``diagonal``);  dx = triu(grad)"""

    _np_fn = staticmethod(np.triu)


def _check(x: Tensor, diagonal, fn: str) -> int:
    if x._data.ndim < 2:
        raise RuntimeError(f"{fn}: input tensor must have at least 2 dimensions (got "
                           f"{x._data.ndim}); reshape it to a matrix first.")
    if isinstance(diagonal, bool) or not isinstance(diagonal, (int, np.integer)):
        raise TypeError(f"{fn}(): argument 'diagonal' must be int, not "
                        f"{type(diagonal).__name__}")
    return int(diagonal)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims: elements above ``diagonal`` set to zero."""
    return Tril.apply(x, _check(x, diagonal, "tril"))


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims: elements below ``diagonal`` set to zero."""
    return Triu.apply(x, _check(x, diagonal, "triu"))


def tril_(x: Tensor, diagonal: int = 0) -> Tensor:
    return apply_inplace(x, tril, _check(x, diagonal, "tril_"))


def triu_(x: Tensor, diagonal: int = 0) -> Tensor:
    return apply_inplace(x, triu, _check(x, diagonal, "triu_"))


expose({"tril": tril, "triu": triu})
expose({"tril_": tril_, "triu_": triu_}, function=False)
