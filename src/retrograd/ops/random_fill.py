"""In-place random fills: ``x.uniform_(a, b)`` and ``x.normal_(mean, std)``.

They draw from retrograd's generator (``retrograd.manual_seed`` seeds it) in float64 and store
the values in x's dtype. The result does not depend on x's old values, so it carries no
gradient back to them.
"""

from __future__ import annotations

import numpy as np

from .. import grad_mode
from ..creation import _Rng
from ..tensor import Tensor, _wrap
from ._registry import expose
from .inplace_methods import copy_

_state = grad_mode.state


def _fill(x: Tensor, values: np.ndarray, fn: str) -> Tensor:
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"{fn} is only implemented for floating point tensors, not {x.dtype}; convert the "
            "tensor with .float() first.")
    return copy_(x, _wrap(values.astype(x._data.dtype, copy=False)))


def uniform_(x: Tensor, a: float = 0.0, b: float = 1.0, *, generator=None) -> Tensor:
    """Fill x in place with values drawn uniformly from [a, b); returns x."""
    a, b = float(a), float(b)
    if a > b:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    gen = _Rng.gen if generator is None else getattr(generator, "gen", generator)
    return _fill(x, gen.uniform(a, b, x._data.shape), "uniform_")


def normal_(x: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Fill x in place with values drawn from N(mean, std^2); returns x."""
    mean, std = float(mean), float(std)
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    gen = _Rng.gen if generator is None else getattr(generator, "gen", generator)
    return _fill(x, gen.normal(mean, std, x._data.shape), "normal_")


expose({
    "uniform_": uniform_, "normal_": normal_,
}, function=False)
