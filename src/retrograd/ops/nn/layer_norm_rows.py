"""Layer norm over the last dims on arrays, as rows: the kernels behind LayerNorm's forward and
fast backward when the input is a C-contiguous float array (nn.LayerNorm's usual case).

Note [Layer norm as rows]
    Normalizing over the last dims of a C-contiguous array is normalizing each row of its
    (R, K) reshape. NumPy reduces a short last axis row by row, about five times slower than
    BLAS does the same sums as a product with a vector of ones; per-row coefficients broadcast
    along rows. So the row sums (the mean, the variance from the centred rows, and in backward
    mean(g) and mean(g * xhat)) are matrix-vector products, the column sums of weight's and
    bias's gradients are (ones @ rows) and one einsum, and every full-size pass writes into a
    buffer it owns. The formulas are Note [Normalization backward]'s, unchanged: xhat from the
    centred input (no cancellation for inputs with a large mean), and
        dx = (g - mean(g) - xhat * mean(g * xhat)) * invstd,   g = grad * w.
    The sums differ from NumPy's pairwise ones only in rounding order.
"""

from __future__ import annotations

import math

import numpy as np


def rows_fit(a: np.ndarray, nd: int) -> bool:
    """Whether ``a`` can take the row kernels: a float array with rows to normalize."""
    return (a.__class__ is np.ndarray and a.dtype.kind == "f" and a.dtype.itemsize >= 4
            and a.flags.c_contiguous and a.size > 0 and nd <= a.ndim)


def _ones(n: int, dtype) -> np.ndarray:
    return np.ones(n, dtype=dtype)


def forward_rows(a: np.ndarray, w, b, nd: int, eps: float) -> tuple:
    """(out, xhat, mean, invstd) of layer norm over the last ``nd`` dims of ``a``; xhat as
    (R, K) rows, the statistics shaped to broadcast against ``a`` (size-1 normalized dims).
    ``w``, ``b``: arrays or None. ``out`` never shares memory with xhat."""
    k = math.prod(a.shape[a.ndim - nd:])
    x = a.reshape(-1, k)
    mean = x @ _ones(k, a.dtype)
    mean *= 1 / k
    xhat = np.subtract(x, mean[:, None])
    var = np.einsum("rk,rk->r", xhat, xhat)
    var *= 1 / k
    var += eps
    invstd = np.sqrt(var, out=var)
    np.divide(1, invstd, out=invstd)
    xhat *= invstd[:, None]
    out = np.multiply(xhat, w.reshape(k)) if w is not None else xhat.copy()
    if b is not None:
        out += b.reshape(k)
    stat_shape = a.shape[:a.ndim - nd] + (1,) * nd
    return out.reshape(a.shape), xhat, mean.reshape(stat_shape), invstd.reshape(stat_shape)


def backward_rows(grad: np.ndarray, xhat: np.ndarray, invstd: np.ndarray, w,
                  need: tuple) -> tuple:
    """(dx, dw, db) of layer norm from forward's xhat rows (Note [Layer norm as rows]), each
    None where ``need`` (x, w, b) says so; dx as (R, K) rows, dw and db flat. Nothing given
    is changed (a retained graph runs backward again). None when a row's sums are not finite
    (an infinite weight or gradient): then the caller takes PyTorch's kernel form, whose
    infinities and NaNs differ from this centred form's."""
    need_x, need_w, need_b = need
    k = xhat.shape[1]
    g2 = np.ascontiguousarray(grad).reshape(-1, k)
    dx = dw = db = None
    if need_w:
        dw = np.einsum("rk,rk->k", g2, xhat)
    if need_b:
        db = _ones(g2.shape[0], g2.dtype) @ g2
    if need_x:
        invstd = invstd.reshape(-1, 1)
        # gs = g invstd with g = grad * w; then dx = gs - xhat mean(gs xhat) - mean(gs)
        gs = g2 * (invstd * w.reshape(k) if w is not None else invstd)
        mg = gs @ _ones(k, gs.dtype)
        mg *= 1 / k
        mgx = np.einsum("rk,rk->r", gs, xhat)
        mgx *= 1 / k
        if not (np.isfinite(mg).all() and np.isfinite(mgx).all()):
            return None
        t = np.multiply(xhat, mgx[:, None])
        t += mg[:, None]
        gs -= t
        dx = gs
    return dx, dw, db
