"""Op-table entries for the fused kernels of issue 11 (performance): scaled dot-product
attention as one node (PyTorch's CPU kernel on 4-d inputs without dropout)."""

from __future__ import annotations

import numpy as np
from optable import Const, Fixed, OpInfo, v

Q = (2, 2, 3, 4)
KV = (2, 2, 5, 4)


def _sdpa(lib, q, k, val, *mask, **kw):
    if mask:
        kw["attn_mask"] = mask[0]
    return lib.nn.functional.scaled_dot_product_attention(q, k, val, **kw)


_ALLOWED = np.tril(np.ones((3, 5), dtype=bool), 1)
_NONE_ROW = _ALLOWED.copy()
_NONE_ROW[1] = False  # a query allowed nothing: zeros, no gradient

OPS = [
    OpInfo("sdpa", _sdpa,
           (v("plain", Q, KV, KV), v("causal", Q, Q, Q, is_causal=True),
            v("scale", Q, KV, KV, scale=0.7),
            v("large-scores", Q, KV, KV, Const(_NONE_ROW), scale=300.0),  # (row max shift)
            v("bool-mask", Q, KV, KV, Const(_ALLOWED)),
            v("dead-row", Q, KV, KV, Const(_NONE_ROW)),
            v("float-mask", Q, KV, KV, Fixed((3, 5))),
            v("v-only", Fixed(Q), Fixed(KV), KV),
            v("broadcast-batch", (1, 2, 3, 4), KV, KV, grad_fn="UnsafeViewBackward0")),
           "ScaledDotProductFlashAttentionForCpuBackward0"),
]
