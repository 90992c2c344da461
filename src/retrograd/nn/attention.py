"""``MultiheadAttention``: attention from each query position to the key positions, in
``num_heads`` subspaces of ``embed_dim // num_heads`` each, then one output projection.

Parameters carry PyTorch's names and shapes (``in_proj_weight`` (3E, E), ``in_proj_bias``,
``out_proj.weight``/``out_proj.bias``; ``q_proj_weight``/``k_proj_weight``/``v_proj_weight``
when the key or value size differs), so a PyTorch state dict loads as it is.

Masks follow PyTorch's conventions for this module: a boolean ``key_padding_mask`` (N, S) or
``attn_mask`` (L, S) or (N * num_heads, L, S) is True where attention is NOT allowed (the
opposite of ``scaled_dot_product_attention``); float masks are added to the scores.
"""

from __future__ import annotations

import math

import numpy as np

from .. import creation
from ..tensor import Tensor
from . import init
from ._functional_attention import attention_weights
from ._functional_layers import dropout
from .linear import Linear
from .module import Module
from .parameter import Parameter

__all__ = ["MultiheadAttention"]


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear; PyTorch gives ``MultiheadAttention.out_proj`` this class name."""


def _additive(mask, fn: str, dtype) -> Tensor | None:
    """A mask as scores to add: bool True -> -inf (not allowed), float as it is."""
    if mask is None:
        return None
    if mask._data.dtype == np.bool_:
        return creation.zeros(tuple(mask.shape), dtype=dtype).masked_fill(mask, -math.inf)
    if not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {fn} are supported")
    return mask


class MultiheadAttention(Module):
    """Multi-head attention: ``out, weights = mha(query, key, value)``.

    Inputs are (L, N, E) (or (N, L, E) with ``batch_first=True``, or (L, E) unbatched); the
    weights are averaged over the heads unless ``average_attn_weights=False``.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError(
                "MultiheadAttention(add_bias_kv=True or add_zero_attn=True) is not supported by "
                "retrograd yet; leave them False.")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        kw = {"dtype": dtype}
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(creation.empty(3 * embed_dim, embed_dim, **kw))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(creation.empty(embed_dim, embed_dim, **kw))
            self.k_proj_weight = Parameter(creation.empty(embed_dim, self.kdim, **kw))
            self.v_proj_weight = Parameter(creation.empty(embed_dim, self.vdim, **kw))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        dtype=dtype)
        self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def _projections(self, query: Tensor, key: Tensor, value: Tensor) -> tuple:
        E = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None,) * 3 if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            wq, wk, wv = w[:E], w[E:2 * E], w[2 * E:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        from .functional import linear

        return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask=None,
                need_weights: bool = True, attn_mask=None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple:
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use "
                               "the Transformer module method `generate_square_subsequent_mask`"
                               " to create this mask.")
        batched = query.dim() == 3
        if not batched:  # (L, E): one sequence
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:  # (L, N, E) -> (N, L, E)
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        N, L, E = query.shape
        S = key.shape[1]
        H, D = self.num_heads, self.head_dim
        if E != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but "
                                 f"got {E}")
        q, k, v = self._projections(query, key, value)
        q = q.reshape(N, L, H, D).transpose(1, 2)
        k = k.reshape(N, S, H, D).transpose(1, 2)
        v = v.reshape(N, S, H, D).transpose(1, 2)

        scores = (q * (1.0 / math.sqrt(D))) @ k.transpose(-2, -1)  # (N, H, L, S)
        mask = _additive(attn_mask, "attn_mask", query.dtype)
        if mask is not None:
            if mask.dim() == 3:  # (N * H, L, S)
                mask = mask.reshape(N, H, L, S)
            scores = scores + mask
        pad = _additive(key_padding_mask, "key_padding_mask", query.dtype)
        if pad is not None:
            scores = scores + pad.reshape(N, 1, 1, S)
        weights = attention_weights(scores)
        if self.training and self.dropout > 0.0:
            weights = dropout(weights, self.dropout, training=True)
        out = (weights @ v).transpose(1, 2).reshape(N, L, E)
        out = self.out_proj(out)
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(1)
        return out, (weights if batched else weights.squeeze(0))
