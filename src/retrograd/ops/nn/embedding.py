"""Embedding lookup: rows of a weight matrix picked by integer indices, and its derivative.

The gradient of the weight adds each output row's gradient onto the row it was read from
(``EmbeddingDenseBackward``); rows at ``padding_idx`` get none. That scatter is linear in the
incoming gradient, and its own derivative gathers the rows back, so derivatives of any order
work.
"""

from __future__ import annotations

import numpy as np

from ...autograd.forward_ad import linear_jvp
from ...autograd.function import Function
from ...tensor import _wrap
from ..elementwise import where
from .row_sums import add_rows_at

__all__ = ["Embedding", "EmbeddingDenseBackward"]


class Embedding(Function):
    """out[...] = weight[indices[...]];  dweight = the rows of grad added at their indices"""

    ctx_arrays = ("idx",)

    @staticmethod
    def forward(ctx, weight, idx, padding_idx, scale_grad_by_freq):
        ctx.idx = idx
        ctx.options = (weight._data.shape[0], padding_idx, scale_grad_by_freq)
        return weight._data.take(idx, axis=0)

    @staticmethod
    def backward(ctx, grad):
        return EmbeddingDenseBackward.apply(grad, ctx.idx, *ctx.options), None, None, None

    jvp = linear_jvp


def _row_scale(idx: np.ndarray, num: int, padding_idx, scale_grad_by_freq: bool):
    """(scale, keep) per lookup: the factor its gradient row is added with, with
    scale_grad_by_freq 1 / (how often its index occurs in the batch), else None; and whether
    it is added at all (False at padding_idx; None if every lookup is)."""
    flat = idx.reshape(-1)
    scale = keep = None
    if scale_grad_by_freq:
        scale = 1.0 / np.bincount(flat, minlength=num)[flat]
    if padding_idx is not None:
        keep = flat != padding_idx
    return scale, keep


class EmbeddingDenseBackward(Function):
    """out = zeros(num, dim) with row idx[k] += g[k] * scale[k];  dg = grad[idx] * scale"""

    ctx_arrays = ("idx",)

    @staticmethod
    def forward(ctx, g, idx, num, padding_idx, scale_grad_by_freq):
        a = g._data
        dim = a.shape[-1]
        rows = a.reshape(idx.size, dim)  # (not -1: dim may be 0)
        scale, keep = _row_scale(idx, num, padding_idx, scale_grad_by_freq)
        if scale is not None:
            rows = rows * scale.astype(a.dtype)[:, None]
        ctx.idx = idx
        ctx.scale, ctx.keep = scale, keep
        out = np.zeros((num, dim), dtype=a.dtype)
        flat = idx.reshape(-1)
        if keep is not None:  # padding lookups are skipped (their rows may be inf or NaN)
            flat, rows = flat[keep], rows[keep]
        add_rows_at(out, flat, rows)  # Note [Rows added by levels]
        return out

    @staticmethod
    def backward(ctx, grad):
        picked = Embedding.apply(grad, ctx.idx, None, False)
        if ctx.scale is not None:
            picked = picked * _wrap(ctx.scale.astype(grad._data.dtype).reshape(
                ctx.idx.shape + (1,)))
        if ctx.keep is not None:  # a select, as PyTorch's masked_fill (no 0 * inf)
            picked = where(_wrap(ctx.keep.reshape(ctx.idx.shape + (1,))), picked, 0.0)
        return picked, None, None, None, None

    jvp = linear_jvp
