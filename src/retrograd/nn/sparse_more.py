"""EmbeddingBag and ``F.embedding_bag``: the sum, mean or max of each bag's embeddings,
composed from ``embedding`` and a product with a (bags x lookups) weighting matrix (sum, mean)
or a max over each bag's rows."""

from __future__ import annotations

import numpy as np

from ..ops.join import stack
from ..tensor import Tensor, _wrap
from . import init
from ._functional_layers import embedding
from .module import Module
from .parameter import Parameter, _empty

__all__ = ["EmbeddingBag", "embedding_bag"]


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,  # noqa: A002
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """One row per bag: the sum, mean or max of the embeddings of its indices. A 2-D input is
    one bag per row; a 1-D input is split into bags at ``offsets``. Indices equal to
    padding_idx are left out (an empty bag gives zeros)."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    idx = np.asarray(input._data).astype(np.int64)
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences.")
        starts = np.arange(0, idx.size, max(idx.shape[1], 1))[: idx.shape[0]]
        idx = idx.reshape(-1)
        last = idx.size
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        starts = np.asarray(offsets._data).astype(np.int64).reshape(-1)
        last = idx.size
        if include_last_offset:  # the last offset ends the last bag
            starts, last = starts[:-1], int(starts[-1])
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{idx.ndim}")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    rows = embedding(_wrap(idx), weight, None, max_norm, norm_type, scale_grad_by_freq)
    ends = np.append(starts[1:], last)
    keep = idx != padding_idx if padding_idx is not None else np.ones(idx.size, bool)
    if mode == "max":
        empty = _wrap(np.zeros(weight.shape[1], weight._data.dtype))
        bags = []
        for s, e in zip(starts, ends):
            chosen = np.flatnonzero(keep[s:e]) + s
            bags.append(rows[_wrap(chosen)].amax(0) if chosen.size else empty)
        return stack(bags) if bags else rows[:0]
    mix = np.zeros((starts.size, idx.size), dtype=weight._data.dtype)
    for b, (s, e) in enumerate(zip(starts, ends)):
        count = keep[s:e].sum()
        if count:
            mix[b, s:e] = keep[s:e] / (count if mode == "mean" else 1)
    mix = _wrap(mix)
    if per_sample_weights is not None:
        mix = mix * per_sample_weights
    return mix @ rows


class EmbeddingBag(Module):
    """A table of embeddings reduced per bag (sum, mean or max); ``weight`` standard normal,
    the padding_idx row zero."""

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Tensor | None = None,
                 include_last_offset: bool = False, padding_idx: int | None = None,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, sparse
        self.include_last_offset = include_last_offset
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("padding_idx must be within num_embeddings")
            padding_idx = padding_idx % num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(_empty((num_embeddings, embedding_dim), dtype, device))
            self.reset_parameters()
        else:
            self.weight = Parameter(_weight)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input: Tensor, offsets: Tensor | None = None,  # noqa: A002
                per_sample_weights: Tensor | None = None) -> Tensor:
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.mode, self.sparse, per_sample_weights,
                             self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
