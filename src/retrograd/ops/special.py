"""The gamma family: ``lgamma``, ``digamma`` and ``polygamma``, each the next one's integral, so
every derivative is the next function (lgamma' = digamma, digamma' = polygamma(1), ...).

The arrays are computed without SciPy: the recurrence psi^(n)(x) = psi^(n)(x + 1) +
(-1)^(n+1) n! / x^(n+1) moves every x up to at least ``_SHIFT``, where the asymptotic series in
1/x (with Bernoulli numbers) is accurate to about 1e-15; lgamma comes from the standard library.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.forward_ad import elementwise_jvp
from ..autograd.function import Function
from ..backend import quiet
from ..tensor import Tensor
from ._registry import expose
from .promotion import float_result

_SHIFT = 12.0
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _lgamma_one(v: float) -> float:
    try:
        return math.lgamma(v)
    except ValueError:  # a pole (0, -1, -2, ...)
        return math.inf


_lgamma_u = np.frompyfunc(_lgamma_one, 1, 1)


def _lgamma_array(a: np.ndarray) -> np.ndarray:
    return np.asarray(_lgamma_u(a), dtype=np.float64).astype(a.dtype, copy=False)


def _polygamma_array(n: int, a: np.ndarray) -> np.ndarray:
    """psi^(n)(a) (n = 0: digamma) for a float array: shift up, then the asymptotic series."""
    x = a.astype(np.float64)
    pole = (x <= 0) & (x == np.floor(x))
    x = np.where(pole | ~np.isfinite(x), _SHIFT, x)
    acc = np.zeros_like(x)
    sign = -1.0 if n == 0 else (-1.0) ** (n + 1) * math.factorial(n)
    steps = int(max(0.0, math.ceil(_SHIFT - float(x.min())))) if x.size else 0
    for _ in range(steps):
        low = x < _SHIFT
        acc += np.where(low, sign / x ** (n + 1), 0.0)
        x = np.where(low, x + 1, x)
    if n == 0:
        series = np.log(x) - 0.5 / x
        for k, b in enumerate(_BERNOULLI, start=1):
            series -= b / (2 * k * x ** (2 * k))
    else:
        s = (-1.0) ** (n + 1)
        series = math.factorial(n - 1) / x ** n + math.factorial(n) / (2 * x ** (n + 1))
        for k, b in enumerate(_BERNOULLI, start=1):
            series += b * math.factorial(2 * k + n - 1) / (math.factorial(2 * k) *
                                                          x ** (2 * k + n))
        series *= s
    out = acc + series
    raw = a.astype(np.float64)
    if n == 0:
        # NOTE: PyTorch's digamma: -inf at 0 (of either sign), NaN at the negative integers
        at_zero = np.where(np.signbit(raw), np.inf, -np.inf)
        out = np.where(pole, np.where(raw == 0, at_zero, np.nan), out)
        out = np.where(raw == np.inf, np.inf, out)
    else:
        out = np.where(pole, -np.inf if n % 2 == 0 else np.inf, out)
        out = np.where(raw == np.inf, 0.0, out)
    out = np.where(np.isnan(raw) | (raw == -np.inf), np.nan, out)
    return out.astype(a.dtype, copy=False)


class Lgamma(Function):
    """out = log |Gamma(x)|;  dx = grad * digamma(x)"""

    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _lgamma_array(float_result(x._data))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Digamma.apply(x)

    jvp = elementwise_jvp


class Digamma(Function):
    """out = psi(x) = Gamma'(x) / Gamma(x);  dx = grad * polygamma(1, x)"""

    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return quiet(_polygamma_array, 0, float_result(x._data))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Polygamma.apply(x, 1)

    jvp = elementwise_jvp


class Polygamma(Function):
    """out = psi^(n)(x), the n-th derivative of digamma;  dx = grad * polygamma(n + 1, x)"""

    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        return quiet(_polygamma_array, n, float_result(x._data))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Polygamma.apply(x, ctx.n + 1), None

    jvp = elementwise_jvp


def lgamma(x: Tensor) -> Tensor:
    """log |Gamma(x)|."""
    return Lgamma.apply(x)


def digamma(x: Tensor) -> Tensor:
    """The logarithmic derivative of Gamma."""
    return Digamma.apply(x)


def polygamma(n: int, x: Tensor) -> Tensor:
    """The n-th derivative of digamma (n = 0: digamma itself)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return Digamma.apply(x)
    return Polygamma.apply(x, n)


def _polygamma_method(x: Tensor, n: int) -> Tensor:
    return polygamma(n, x)


expose({"lgamma": lgamma, "digamma": digamma})
expose({"polygamma": polygamma}, method=False)
expose({"polygamma": _polygamma_method}, function=False)
