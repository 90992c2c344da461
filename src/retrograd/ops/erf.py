"""erf, the error function, on arrays (``erf_array``, also behind GELU) and as an op.

NumPy has no erf, and GELU needs one accurate to the last bits of a float64. Near 0 the
Taylor series in x^2 converges fast. Elsewhere erf = 1 - exp(-x^2) h(x) with
h = exp(x^2) erfc(x), a smooth, slowly varying function; h is interpolated at Chebyshev points
in t = 2 / (2 + x) when the tables are first needed, from the standard library's math.erfc.
Past |x| = 6, erf is 1 to double precision.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial import chebyshev as _cheb

from ..autograd.forward_ad import elementwise_jvp
from ..autograd.function import Function
from ..tensor import Tensor
from ._registry import expose
from .erf_f32 import erf_f32
from .promotion import float_result

_ERF_SMALL = 0.5
_ERF_ONE = 6.0
_T_LO, _T_HI = 2 / (2 + _ERF_ONE), 2 / (2 + _ERF_SMALL)
_erf_tables: dict = {}


def _erf_coefficients(n_taylor: int, degree: int) -> tuple:
    taylor = [2 / math.sqrt(math.pi) * (-1) ** k / (math.factorial(k) * (2 * k + 1))
              for k in range(n_taylor)]

    def h(u):
        t = _T_LO + (u + 1) * (0.5 * (_T_HI - _T_LO))
        return np.array([math.exp(v * v) * math.erfc(v) for v in 2 / t - 2])

    poly = _cheb.cheb2poly(_cheb.chebinterpolate(h, degree))
    return taylor[::-1], list(poly[::-1])  # highest power first, for Horner's rule


def _horner(coefficients: np.ndarray, z: np.ndarray) -> np.ndarray:
    acc = z * coefficients[0]
    acc += coefficients[1]
    for c in coefficients[2:]:
        acc *= z
        acc += c
    return acc


def erf_array(a: np.ndarray) -> np.ndarray:
    """erf of a float array, elementwise, in its own precision (float16 via float32)."""
    if a.__class__ is not np.ndarray and hasattr(a, "elementwise"):  # a vmap batch (func/)
        return a.elementwise(erf_array)
    if a.dtype == np.float32:
        return erf_f32(a)  # Note [float32 erf]
    if a.dtype == np.float16:
        return erf_f32(a.astype(np.float32)).astype(np.float16)
    tables = _erf_tables.get(a.dtype)
    if tables is None:
        n_taylor, degree = (13, 18) if a.dtype == np.float64 else (7, 9)
        taylor, poly = _erf_coefficients(n_taylor, degree)
        tables = _erf_tables[a.dtype] = (np.array(taylor, a.dtype), np.array(poly, a.dtype))
    taylor, poly = tables
    flat = a.reshape(-1)
    out = np.empty_like(flat)
    small = np.abs(flat) < _ERF_SMALL
    # index arrays, not boolean masks: gathering through them is several times faster
    idx = np.flatnonzero(small)
    if idx.size:
        xs = flat.take(idx)
        out[idx] = _horner(taylor, xs * xs) * xs
    idx = np.flatnonzero(~small)  # NaN lands here and stays NaN
    if idx.size:
        xb = flat.take(idx)
        s = np.abs(xb)
        u = (2 / (2 + s) - _T_LO) * (2 / (_T_HI - _T_LO)) - 1
        with np.errstate(over="ignore", invalid="ignore"):
            r = 1 - np.exp(-s * s) * _horner(poly, u)
        r[s >= _ERF_ONE] = 1
        out[idx] = np.copysign(r, xb)
    return out.reshape(a.shape)


class Erf(Function):
    """out = erf(x);  dx = grad * 2 / sqrt(pi) * exp(-x^2)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(float_result(x._data))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ((x * x).neg().exp() * (2 / math.sqrt(math.pi)))

    jvp = elementwise_jvp


def erf(x: Tensor) -> Tensor:
    """The error function, 2 / sqrt(pi) * integral of exp(-t^2) from 0 to x."""
    return Erf.apply(x)


expose({"erf": erf})
