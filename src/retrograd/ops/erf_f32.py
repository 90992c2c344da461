"""erf and the normal cdf Phi for float32 arrays: one rational function, no branches,
evaluated in cache-sized chunks (erf.py's table method is for float64).

Note [float32 erf]
    For |x| <= 3.92,  erf(x) = x P(x^2) / Q(x^2)  with P of degree 6 and Q monic of degree 4;
    past 3.92 erf(x) rounds to +-1 in float32, so x is clamped there. We fitted P and Q for the
    least maximal relative error over [0, 3.92] (differential-correction linear programs on a
    dense grid, 7.5e-8 in exact arithmetic); evaluated in float32 with Horner's rule the result
    is within 8 ulp of erf (tests/test_perf_elem.py checks a dense grid and the tails), clipped
    to [-1, 1]. Clamping keeps NaN (it stays NaN), sends +-inf to +-1, and x * P / Q keeps the
    sign of -0.0. Phi(x) = (1 + erf(x / sqrt 2)) / 2 is the same function with the scale and
    the halving folded into the coefficients.

    Each step is a NumPy pass over the data, about two dozen in all: over a 1e6-element array
    most of their time is memory traffic, so the work runs over chunks of ``CHUNK`` elements,
    whose temporaries stay in the cache, about three times faster than whole-array passes.
"""

from __future__ import annotations

import math

import numpy as np

CHUNK = 32768
_CLAMP = 3.92
# erf(x) = x P(z) / Q(z), z = x^2; highest power first (Horner's rule), Q monic
_P = (1.9268401944684865e-05, -1.9365829849726903e-03, 1.4515252062794667e-01,
      3.8962504380778160e+00, 5.0713087048352484e+01, 2.0319613203346719e+02,
      1.1137104282337802e+03)
_Q = (1.0, 14.672042772438587, 115.94581954843457, 509.07600693221286, 987.0002360207905)


def _scaled(c: float) -> tuple:
    """(P, Q, clamp) of x -> erf(x / c) / (2 c) in the same form: z = x^2 stands for
    c^2 z', so the coefficient of z^k is divided by c^(2k) (Q kept monic)."""
    deg_p, deg_q = len(_P) - 1, len(_Q) - 1
    p = [a / c ** (2 * (deg_p - i)) for i, a in enumerate(_P)]
    q = [a / c ** (2 * (deg_q - i)) for i, a in enumerate(_Q)]
    lead = q[0]
    return ([a / lead / (2 * c) for a in p], [a / lead for a in q], _CLAMP * c)


_ERF = (list(_P), list(_Q), _CLAMP, 0.0, -1.0)
_PHI = (*_scaled(math.sqrt(2)), 0.5, 0.0)  # Phi(x) = 1/2 + erf(x / sqrt 2) / 2


def _rational(src: np.ndarray, out: np.ndarray, table: tuple, x: np.ndarray, z: np.ndarray,
              q: np.ndarray) -> None:
    """out = shift + x P(x^2) / Q(x^2), x = src clamped, clipped to [low, 1] (one chunk;
    ``x``, ``z``, ``q`` scratch of the chunk's size)."""
    p_coef, q_coef, clamp, shift, low = table
    np.clip(src, -clamp, clamp, out=x)
    np.multiply(x, x, out=z)
    np.multiply(z, p_coef[0], out=out)
    for c in p_coef[1:-1]:
        out += c
        out *= z
    out += p_coef[-1]
    np.add(z, q_coef[1], out=q)
    for c in q_coef[2:]:
        q *= z
        q += c
    out *= x
    out /= q
    if shift:
        out += shift
    np.clip(out, low, 1.0, out=out)


def _apply(a: np.ndarray, table: tuple, then=None) -> np.ndarray:
    """The rational ``table`` of a float32 array, chunk by chunk; ``then(lo, hi, chunk)`` runs
    on each result chunk while it is in the cache (to fuse what the caller does next)."""
    flat = np.ascontiguousarray(a, dtype=np.float32).reshape(-1)
    out = np.empty_like(flat)
    n = flat.size
    size = min(CHUNK, n)
    scratch = [np.empty(size, np.float32) for _ in range(3)]
    for lo in range(0, n, size):
        hi = min(lo + size, n)
        m = hi - lo
        _rational(flat[lo:hi], out[lo:hi], table, *(s[:m] for s in scratch))
        if then is not None:
            then(lo, hi, out[lo:hi])
    return out.reshape(a.shape)


def erf_f32(a: np.ndarray) -> np.ndarray:
    """erf of a float32 array (Note [float32 erf])."""
    return _apply(a, _ERF)


def gelu_f32(a: np.ndarray) -> tuple:
    """(x Phi(x), Phi(x)) of a float32 array, fused chunk by chunk (Note [float32 erf])."""
    flat = a.reshape(-1)
    out = np.empty(a.shape, np.float32)
    gelu = out.reshape(-1)

    def times_x(lo, hi, phi):
        np.multiply(flat[lo:hi], phi, out=gelu[lo:hi])

    return out, _apply(a, _PHI, times_x)


_LOG_INV_SQRT_2PI = -0.5 * math.log(2 * math.pi)


def _flat_or_scalar(g: np.ndarray, n: int):
    """``g`` as a flat array to slice, or as its one value when it is a broadcast scalar."""
    if g.flags.c_contiguous:
        return g.reshape(-1), False
    if not any(g.strides):
        return g.reshape(-1)[:1].copy(), True
    return np.ascontiguousarray(g).reshape(-1), False


def gelu_grad_f32(grad: np.ndarray, a: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """grad * (Phi(x) + x phi(x)), phi(x) = exp(-x^2 / 2) / sqrt(2 pi), of float32 arrays with
    forward's Phi, chunk by chunk (Note [float32 erf])."""
    xs, ps = a.reshape(-1), phi.reshape(-1)
    n = xs.size
    gs, scalar = _flat_or_scalar(np.broadcast_to(grad, a.shape), n)
    out = np.empty(n, np.result_type(grad.dtype, np.float32))
    size = max(1, min(CHUNK, n))
    for lo in range(0, n, size):
        hi = min(lo + size, n)
        s, x = out[lo:hi], xs[lo:hi]
        np.multiply(x, x, out=s)
        s *= -0.5
        s += _LOG_INV_SQRT_2PI
        np.exp(s, out=s)  # phi(x)
        s *= x
        s += ps[lo:hi]
        s *= gs if scalar else gs[lo:hi]
    return out.reshape(a.shape)
