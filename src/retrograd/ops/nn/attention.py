"""Scaled dot-product attention as one fused node (``F.scaled_dot_product_attention`` on 4-d
inputs without dropout, as PyTorch's CPU kernel).

    out = W @ v,  W = softmax(q @ k^T * scale + mask) over the last dim

A boolean mask says where attention may go (True: allowed; causal attention is the
lower-triangular one), a float mask is added to the scores. A row that allows nothing gets
zero weights (not NaN), as PyTorch's CPU kernel gives, and passes no gradient.

Note [Attention backward]
    With dW = grad @ v^T and dS = W * (dW - sum(dW * W)) (softmax's backward, SoftmaxGrad):
        dq = dS @ k * scale,   dk = dS^T @ q * scale,   dv = W^T @ grad.
    ``backward`` recomputes W from q and k with tensor ops (as layer norm recomputes its
    statistics), so the result can be differentiated again; ``fast_backward`` (Note [Fast
    backward]) uses forward's W and SoftmaxGrad's array kernel.
"""

from __future__ import annotations

import math

import numpy as np

from ...autograd.function import Function
from ...tensor import _wrap
from ..activation import SoftmaxGrad, softmax, softmax_grad_array
from ..softmax_rows import row_sums

__all__ = ["ScaledDotProductAttention"]


def _weights_array(q: np.ndarray, k: np.ndarray, mask, scale: float) -> np.ndarray:
    """W on arrays: one buffer for the scores, exponentials and weights."""
    s = np.matmul(q, np.swapaxes(k, -1, -2))
    s *= scale
    if mask is not None and mask.dtype != np.bool_:
        s = s + mask
    # NOTE: softmax is unchanged by a shift of each row; the row max keeps exp from
    # overflowing. When every score is already within +-bound (no exp overflows, no row's
    # sum underflows, and n terms cannot overflow their sum) the max over each row, slow in
    # NumPy along a short last dim, is skipped: two whole-array reductions decide it, taken
    # before a boolean mask sets scores to -inf (their exponentials are 0 either way).
    bound = np.log(np.finfo(s.dtype).max / max(s.shape[-1], 1)) - 1
    shift = not (s.size and -bound < s.min() and s.max() < bound)
    if mask is not None and mask.dtype == np.bool_:
        if s.shape == np.broadcast_shapes(s.shape, mask.shape):
            np.copyto(s, -np.inf, where=~mask)
        else:
            s = np.where(mask, s, -np.inf).astype(s.dtype, copy=False)
    if shift:
        top = np.maximum.reduce(s, axis=-1, keepdims=True)
        top[np.isneginf(top)] = 0  # a row allowing nothing: its exponentials are all 0
        s -= top
    np.exp(s, out=s)
    total = row_sums(s)
    total[total == 0] = 1
    s *= np.reciprocal(total)
    return s


def _weights(q, k, mask, scale: float):
    """W with tensor ops (for ``backward``), as ``_weights_array`` computes it."""
    s = (q @ k.transpose(-2, -1)) * scale
    if mask is not None:
        if mask.dtype == np.bool_:
            s = s.masked_fill(_wrap(~mask), -math.inf)
        else:
            s = s + _wrap(mask)
    dead = np.isneginf(s._data).all(-1, keepdims=True)
    if not dead.any():
        return softmax(s, -1)
    dead_t = _wrap(dead)
    return softmax(s.masked_fill(dead_t, 0.0), -1).masked_fill(dead_t, 0.0)


class ScaledDotProductAttention(Function):
    """out = softmax(q @ k^T * scale + mask) @ v;  see Note [Attention backward]"""

    node_name = "ScaledDotProductFlashAttentionForCpuBackward0"
    ctx_arrays = ("weights",)

    @staticmethod
    def forward(ctx, q, k, v, mask, scale):
        w = _weights_array(q._data, k._data, mask, scale)
        ctx.save_for_backward(q, k, v)
        ctx.mask, ctx.scale, ctx.weights = mask, scale, w
        return np.matmul(w, v._data)

    @staticmethod
    def backward(ctx, grad):
        q, k, v = ctx.saved_tensors
        need_q, need_k, need_v = ctx.needs_input_grad[:3]
        w = _weights(q, k, ctx.mask, ctx.scale)
        gq = gk = gv = None
        if need_v:
            gv = w.transpose(-2, -1) @ grad
        if need_q or need_k:
            gs = SoftmaxGrad.apply(grad @ v.transpose(-2, -1), w, -1)
            if need_q:
                gq = (gs @ k) * ctx.scale
            if need_k:
                gk = (gs.transpose(-2, -1) @ q) * ctx.scale
        return gq, gk, gv, None, None

    @staticmethod
    def fast_backward(ctx, grad):  # the same formulas on arrays, with forward's weights
        q, k, v = ctx.saved_tensors
        need_q, need_k, need_v = ctx.needs_input_grad[:3]
        w, g = ctx.weights, grad._data
        gq = gk = gv = None
        if need_v:
            gv = _wrap(np.matmul(np.swapaxes(w, -1, -2), g))
        if need_q or need_k:
            gs = softmax_grad_array(np.matmul(g, np.swapaxes(v._data, -1, -2)), w, -1)
            gs *= ctx.scale
            if need_q:
                gq = _wrap(np.matmul(gs, k._data))
            if need_k:
                gk = _wrap(np.matmul(np.swapaxes(gs, -1, -2), q._data))
        return gq, gk, gv, None, None

    @staticmethod
    def jvp(ctx, tq, tk, tv, *_):
        q, k, v = ctx.saved_tensors
        w = _wrap(ctx.weights)
        out = None
        if tq is not None or tk is not None:
            ds = None
            if tq is not None:
                ds = tq @ k.transpose(-2, -1)
            if tk is not None:
                term = q @ tk.transpose(-2, -1)
                ds = term if ds is None else ds + term
            # softmax's Jacobian is symmetric: its jvp is its backward's formula
            out = SoftmaxGrad.apply(ds * ctx.scale, w, -1) @ v
        if tv is not None:
            term = w @ tv
            out = term if out is None else out + term
        return out
