"""``F.multi_head_attention_forward``: multi-head attention with PyTorch's signature, on
time-major inputs (L, N, E) (or unbatched (L, E)); ``nn.MultiheadAttention`` calls it.

The steps, in PyTorch's order (so that masks and extra keys line up the same way):
    1. project query, key, value (one packed (3E, E) weight, or three separate ones);
    2. ``bias_k`` / ``bias_v`` (1, 1, E) append one key and value position to every sequence
       (and a column of zeros, meaning "allowed", to the masks);
    3. split into heads: (N * H, L, D); ``static_k`` / ``static_v`` replace the keys / values;
    4. ``add_zero_attn`` appends an all-zero key and value position (masks padded again);
    5. the key padding mask (N, S), True (or -inf) where a key is padding, is merged into the
       attention mask (L, S) or (N * H, L, S), both turned into scores to add;
    6. softmax(q / sqrt(D) @ k^T + mask), dropout, @ v, output projection.
The weights (N, H, L, S) come back averaged over heads unless ``average_attn_weights=False``.
NOTE: a query whose keys are all masked gets zero weights (not PyTorch's NaN), as in
``scaled_dot_product_attention`` here.
"""

from __future__ import annotations

import math

import numpy as np

from .. import creation
from ..ops.join import cat
from ..tensor import Tensor, _wrap

__all__ = ["multi_head_attention_forward"]


def _float_mask(mask, name: str, dtype) -> Tensor | None:
    """A bool or float mask as scores to add (True -> -inf: not allowed)."""
    if mask is None:
        return None
    if mask._data.dtype == np.bool_:
        return creation.zeros(tuple(mask.shape), dtype=dtype).masked_fill(mask, -math.inf)
    if not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask


def _pad_last(mask: Tensor | None) -> Tensor | None:
    """One more key position, allowed (a zero score), at the end of the last dim."""
    if mask is None:
        return None
    zeros = mask.new_zeros(tuple(mask.shape[:-1]) + (1,))
    return cat([mask, zeros], -1)


def _in_projection(query, key, value, E, in_proj_weight, in_proj_bias, separate, wq, wk, wv):
    from .functional import linear

    b = in_proj_bias
    bq, bk, bv = (None,) * 3 if b is None else (b[:E], b[E:2 * E], b[2 * E:])
    if not separate:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        w = in_proj_weight
        wq, wk, wv = w[:E], w[E:2 * E], w[2 * E:]
    elif wq is None or wk is None or wv is None:
        raise AssertionError("use_separate_proj_weight is True but q_proj_weight, "
                             "k_proj_weight or v_proj_weight is None")
    return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn: bool, dropout_p: float,
        out_proj_weight: Tensor, out_proj_bias, training: bool = True, key_padding_mask=None,
        need_weights: bool = True, attn_mask=None, use_separate_proj_weight: bool = False,
        q_proj_weight=None, k_proj_weight=None, v_proj_weight=None, static_k=None,
        static_v=None, average_attn_weights: bool = True, is_causal: bool = False) -> tuple:
    """Multi-head attention on (L, N, E) query and (S, N, E_k), (S, N, E_v) key and value (or
    unbatched (L, E)); returns ``(output (L, N, E), weights or None)``."""
    from ._functional_attention import attention_weights
    from ._functional_layers import dropout
    from .functional import linear

    batched = query.dim() == 3
    if query.dim() not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                             f"{query.dim()}-D query tensor")
    if key.dim() != query.dim() or value.dim() != query.dim():
        raise AssertionError(f"For {'batched' if batched else 'unbatched'} "
                             f"{query.dim()}-D query, expected key and value to be "
                             f"{query.dim()}-D but found {key.dim()}-D and {value.dim()}-D "
                             "tensors respectively")
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    L, N, E = query.shape
    S = key.shape[0]
    H = num_heads
    if E != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {E}")
    D = E // H
    if D * H != E:
        raise AssertionError(f"embed_dim {E} not divisible by num_heads {H}")
    if key.shape[:2] != value.shape[:2]:
        raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not "
                             f"match value's {tuple(value.shape[:2])}")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    causal = is_causal and key_padding_mask is None and not need_weights
    if causal:  # PyTorch then trusts the hint and drops the mask
        attn_mask = None
    attn_mask = _float_mask(attn_mask, "attn_mask", query.dtype)
    key_padding_mask = _float_mask(key_padding_mask, "key_padding_mask", query.dtype)

    q, k, v = _in_projection(query, key, value, E, in_proj_weight, in_proj_bias,
                             use_separate_proj_weight, q_proj_weight, k_proj_weight,
                             v_proj_weight)
    if attn_mask is not None:
        want = (L, S) if attn_mask.dim() == 2 else (N * H, L, S)
        if attn_mask.dim() not in (2, 3):
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
        if tuple(attn_mask.shape) != want:
            raise RuntimeError(f"The shape of the {attn_mask.dim()}D attn_mask is "
                               f"{list(attn_mask.shape)}, but should be {want}.")
        if attn_mask.dim() == 2:
            attn_mask = attn_mask.unsqueeze(0)
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key or value.")
        k = cat([k, bias_k.expand(1, N, E)])
        v = cat([v, bias_v.expand(1, N, E)])
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    elif (bias_k is None) != (bias_v is None):
        raise AssertionError("bias_k and bias_v must both be given, or neither")

    q = q.reshape(L, N * H, D).transpose(0, 1)
    k = (k.reshape(k.shape[0], N * H, D).transpose(0, 1) if static_k is None else static_k)
    v = (v.reshape(v.shape[0], N * H, D).transpose(0, 1) if static_v is None else static_v)
    if add_zero_attn:
        k = cat([k, k.new_zeros((N * H, 1, D))], 1)
        v = cat([v, v.new_zeros((N * H, 1, D))], 1)
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    S = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (N, S):
            raise AssertionError(f"expecting key_padding_mask shape of {(N, S)}, but got "
                                 f"{tuple(key_padding_mask.shape)}")
        pad = key_padding_mask.reshape(N, 1, 1, S).expand(N, H, 1, S).reshape(N * H, 1, S)
        attn_mask = pad if attn_mask is None else attn_mask + pad

    scores = (q * math.sqrt(1.0 / D)) @ k.transpose(-2, -1)  # (N * H, L, S)
    if attn_mask is not None:
        scores = scores + attn_mask
    if causal:
        allowed = _wrap(np.tril(np.ones((L, S), dtype=bool)))
        scores = scores.masked_fill(allowed.logical_not(), -math.inf)
    weights = attention_weights(scores)
    if training and dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    out = (weights @ v).transpose(0, 1).reshape(L * N, E)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(L, N, E)
    if not batched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    weights = weights.reshape(N, H, L, S)
    if average_attn_weights:
        weights = weights.mean(1)
    return out, (weights if batched else weights.squeeze(0))
