"""Dropout: during training, zero each element with probability p and scale the rest."""

from __future__ import annotations

from ..tensor import Tensor
from ._functional_layers import dropout
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Zero each element with probability p and scale the others by 1 / (1 - p) in training
    mode; the identity in eval mode. The masks come from retrograd's generator (manual_seed)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
