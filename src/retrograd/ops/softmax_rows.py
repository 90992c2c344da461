"""softmax over the last dim of a large C-contiguous float array, and its backward, as rows
processed in cache-sized blocks (activation.py's kernels call these; they keep the general
ones for other dims and small arrays).

Note [Softmax rows]
    softmax is shift-invariant: exp(x - c) / sum(exp(x - c)) is the same for any c per row,
    and the per-row max is only a guard against overflow. NumPy takes the max along a short
    last dim row by row, slowly (a third of the forward). When the whole array spans less
    than ``SPAN`` (max - min), shifting every row by the global max is as safe: each exp lies
    in [exp(-SPAN), 1], so nothing overflows and no row sums to zero or a subnormal. Otherwise
    (a -inf mask, a NaN, a wide range) each row gets its own max as before. Row sums are
    matrix-vector products with ones (BLAS), and the backward's row dot products sum(g * y)
    are one einsum, so no full-size temporary is made besides the result. Blocks of rows keep
    each pass's data in the cache.
"""

from __future__ import annotations

import numpy as np

MIN_SIZE = 16384  # below this, the general kernels (fewer calls) are as fast
BLOCK = 32768  # elements per block of rows
SPAN = 80.0  # exp(-80) ~ 1.8e-35 is a normal float32


def fits(a: np.ndarray, axis: int) -> bool:
    """Whether the row kernels apply: a large C-contiguous float32/64 array, the last dim."""
    return (a.size >= MIN_SIZE and axis % max(a.ndim, 1) == a.ndim - 1 and a.shape[-1] > 0
            and a.dtype in (np.float32, np.float64) and a.flags.c_contiguous)


def _blocks(rows: int, k: int):
    step = max(1, BLOCK // k)
    for lo in range(0, rows, step):
        yield lo, min(lo + step, rows)


def softmax_last(a: np.ndarray) -> np.ndarray:
    """softmax of ``a`` over its last dim (Note [Softmax rows]); ``fits(a, -1)`` must hold."""
    k = a.shape[-1]
    x = a.reshape(-1, k)
    out = np.empty_like(x)
    ones = np.ones(k, dtype=a.dtype)
    top = np.maximum.reduce(x, axis=None)
    shift = top if top - np.minimum.reduce(x, axis=None) < SPAN else None  # (False for NaN)
    for lo, hi in _blocks(x.shape[0], k):
        xb, ob = x[lo:hi], out[lo:hi]
        if shift is None:
            np.subtract(xb, np.maximum.reduce(xb, axis=1)[:, None], out=ob)
        else:
            np.subtract(xb, shift, out=ob)
        np.exp(ob, out=ob)
        total = ob @ ones
        np.divide(1, total, out=total)
        ob *= total[:, None]
    return out.reshape(a.shape)


def softmax_grad_last(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    """y * (g - sum(g * y)) over the last dim, ``g`` and ``y`` of one shape and dtype,
    ``fits(y, -1)``; g need not be contiguous."""
    k = y.shape[-1]
    y2 = y.reshape(-1, k)
    g2 = np.ascontiguousarray(g).reshape(-1, k)
    out = np.empty_like(y2)
    for lo, hi in _blocks(y2.shape[0], k):
        gb, yb, ob = g2[lo:hi], y2[lo:hi], out[lo:hi]
        dot = np.einsum("rk,rk->r", gb, yb)
        np.subtract(gb, dot[:, None], out=ob)
        ob *= yb
    return out.reshape(y.shape)


def row_sums(a: np.ndarray) -> np.ndarray:
    """The sums of ``a`` over its last dim, kept as a size-1 dim: a matrix-vector product
    with ones when ``a`` is a C-contiguous float32/64 array (BLAS: several times faster than
    NumPy's reduction along a short last dim), else NumPy's sum."""
    k = a.shape[-1] if a.ndim else 0
    if k and a.dtype in (np.float32, np.float64) and a.flags.c_contiguous:
        return (a.reshape(-1, k) @ np.ones(k, dtype=a.dtype)).reshape(a.shape[:-1] + (1,))
    return np.add.reduce(a, axis=-1, keepdims=True)


def log_softmax_rows(x: np.ndarray) -> np.ndarray:
    """log_softmax over the rows of a 2-d float array, as a new array: shifted by the global
    max when the span allows (Note [Softmax rows]), by each row's max otherwise; the sums of
    exponentials by ``row_sums``."""
    # (tiny: fewer calls win; a vmap batch: its global max would mix the samples)
    if x.__class__ is np.ndarray and x.size >= 256 and x.dtype in (np.float32, np.float64):
        top = np.maximum.reduce(x, axis=None)
        if top - np.minimum.reduce(x, axis=None) < SPAN:  # (False for NaN)
            out = np.subtract(x, top)
            out -= np.log(row_sums(np.exp(out)))
            return out
    out = x - x.max(axis=1, keepdims=True)
    out -= np.log(np.exp(out).sum(axis=1, keepdims=True))
    return out
