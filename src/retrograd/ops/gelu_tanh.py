"""GELU's tanh approximation and its derivative on float32/float64 arrays, chunk by chunk
(see Note [float32 erf] in erf_f32.py for why chunks: each formula is a dozen NumPy passes, and
over cache-sized chunks their temporaries never leave the cache).

    u = k (x + c x^3),  t = tanh(u),  gelu = x (1 + t) / 2,
    gelu' = (1 + t) / 2 + x (1 - t^2) u' / 2 = (1 + t) (1/2 + x (1 - t) (k/2 + 3 k c x^2 / 2))
"""

from __future__ import annotations

import math

import numpy as np

CHUNK = 32768
_K = math.sqrt(2 / math.pi)
_C = 0.044715


MIN_SIZE = 4 * CHUNK  # below this the whole-array passes stay in the cache anyway


def fits(a: np.ndarray) -> bool:
    return (a.__class__ is np.ndarray and a.dtype in (np.float32, np.float64)
            and a.size >= MIN_SIZE)  # (not a vmap batch: its own rules handle those)


def _chunks(n: int):
    size = max(1, min(CHUNK, n))
    for lo in range(0, n, size):
        yield lo, min(lo + size, n)


def gelu_tanh(a: np.ndarray) -> tuple:
    """(gelu, t) with t = tanh(u) (kept for the derivative), new arrays shaped like ``a``."""
    xs = np.ascontiguousarray(a).reshape(-1)
    out = np.empty_like(xs)
    t = np.empty_like(xs)
    for lo, hi in _chunks(xs.size):
        x, tc, oc = xs[lo:hi], t[lo:hi], out[lo:hi]
        np.multiply(x, x, out=tc)
        tc *= _K * _C
        tc += _K
        tc *= x
        np.tanh(tc, out=tc)
        np.add(tc, 1, out=oc)
        oc *= x
        oc *= 0.5
    return out.reshape(a.shape), t.reshape(a.shape)


def gelu_tanh_grad(grad: np.ndarray, a: np.ndarray, t: np.ndarray) -> np.ndarray:
    """grad * gelu'(x) from forward's t = tanh(u), a new array shaped like ``a``."""
    xs, ts = np.ascontiguousarray(a).reshape(-1), t.reshape(-1)
    g = np.broadcast_to(grad, a.shape)
    scalar = not any(g.strides)
    gs = g.reshape(-1)[:1].copy() if scalar else np.ascontiguousarray(g).reshape(-1)
    out = np.empty(xs.size, np.result_type(grad.dtype, a.dtype))
    size = max(1, min(CHUNK, xs.size))
    w = np.empty(size, a.dtype)
    for lo, hi in _chunks(xs.size):
        x, tc, s, wc = xs[lo:hi], ts[lo:hi], out[lo:hi], w[:hi - lo]
        np.multiply(x, x, out=s)
        s *= 1.5 * _K * _C
        s += 0.5 * _K
        s *= x
        np.subtract(1, tc, out=wc)
        s *= wc
        s += 0.5
        np.add(tc, 1, out=wc)
        s *= wc
        s *= gs if scalar else gs[lo:hi]
    return out.reshape(a.shape)
