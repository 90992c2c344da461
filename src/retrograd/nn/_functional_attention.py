"""Attention, functional form: ``scaled_dot_product_attention`` (PyTorch's
``F.scaled_dot_product_attention``), built from differentiable ops (matmul, softmax, dropout).

    out = softmax(q @ k^T * scale + mask) @ v

A boolean ``attn_mask`` says where attention may go (True: allowed); a float mask is added to
the scores. ``is_causal`` allows each query position i the keys j <= i (aligned at the top
left). NOTE: a query that may attend to nothing gets zeros (not NaN), as PyTorch's CPU kernel
gives, and no gradient flows through it.
"""

from __future__ import annotations

import math

import numpy as np

from ..ops.activation import softmax
from ..ops.nn.attention import ScaledDotProductAttention
from ..tensor import Tensor, _wrap
from ._functional_layers import dropout

__all__ = ["multi_head_attention_forward", "scaled_dot_product_attention"]


def _masked_scores(scores: Tensor, attn_mask, is_causal: bool) -> Tensor:
    """The scores with the mask applied: -inf where attention is not allowed."""
    if is_causal:
        L, S = scores.shape[-2], scores.shape[-1]
        allowed = _wrap(np.tril(np.ones((L, S), dtype=bool)))
        return scores.masked_fill(allowed.logical_not(), -math.inf)
    if attn_mask is None:
        return scores
    if attn_mask.dtype.is_floating_point:
        return scores + attn_mask
    if attn_mask._data.dtype != np.bool_:
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query "
                           f"dtype, but got attn_mask.dtype: {attn_mask.dtype}")
    return scores.masked_fill(attn_mask.logical_not(), -math.inf)


def attention_weights(scores: Tensor) -> Tensor:
    """softmax over the last dim, with rows that allow nothing (all -inf) set to zero."""
    dead = np.isneginf(scores._data).all(-1, keepdims=True)
    if not dead.any():
        return softmax(scores, -1)
    dead_t = _wrap(dead)
    # uniform scores in the dead rows keep softmax (and its gradient) finite; zeroed after
    return softmax(scores.masked_fill(dead_t, 0.0), -1).masked_fill(dead_t, 0.0)


def _repeat_heads(t: Tensor, groups: int) -> Tensor:
    """(..., H, S, E) -> (..., H * groups, S, E), each head repeated ``groups`` times."""
    shape = tuple(t.shape)
    wide = t.unsqueeze(-3).expand(*shape[:-2], groups, *shape[-2:])
    return wide.reshape(*shape[:-3], shape[-3] * groups, *shape[-2:])


def _fusable(query: Tensor, key: Tensor, value: Tensor, attn_mask) -> bool:
    """Whether PyTorch's CPU kernel (one fused node) handles this call: 4-d float inputs of
    one dtype, the same batch dims, and a mask that is constant (bool, or float of their dtype)."""
    dtype = query._data.dtype
    if not (query.ndim == key.ndim == value.ndim == 4 and dtype.kind == "f"
            and key._data.dtype == dtype and value._data.dtype == dtype
            and query.shape[:-2] == key.shape[:-2] == value.shape[:-2]):
        return False
    return attn_mask is None or (not attn_mask.requires_grad and attn_mask._data.dtype in (
        np.bool_, dtype))


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False) -> Tensor:
    """softmax(query @ key^T * scale + mask) @ value over the last two dims (batched over the
    others); ``scale`` defaults to 1/sqrt(query.size(-1)); ``dropout_p`` drops attention
    weights (always applied when > 0, as in PyTorch: pass 0.0 when evaluating)."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' must be Tensor, "
                            f"not {type(t).__name__}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    if enable_gqa and query.shape[-3] != key.shape[-3]:
        groups = query.shape[-3] // key.shape[-3]
        key, value = _repeat_heads(key, groups), _repeat_heads(value, groups)
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    if dropout_p == 0.0 and _fusable(query, key, value, attn_mask):
        mask = attn_mask._data if attn_mask is not None else None
        if is_causal:
            mask = np.tril(np.ones((query.shape[-2], key.shape[-2]), dtype=bool))
        return ScaledDotProductAttention.apply(query, key, value, mask, s)
    scores = (query @ key.transpose(-2, -1)) * s
    weights = attention_weights(_masked_scores(scores, attn_mask, is_causal))
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return weights @ value


from ._functional_mha import multi_head_attention_forward  # noqa: E402 - uses the above
