"""Names real programs use that fit no other ops file (the API inventory of issue 8,
tests/data/api_inventory.json): ``dist``, ``bernoulli`` sampling and the ``Tensor.type``
conversion. (The matrix functions it found, ``det``, ``matrix_exp``, ``eigvalsh``, ... are in
``matrix_functions.py``.)
"""

from __future__ import annotations

import numpy as np

from ..autograd.forward_ad import reduction_jvp
from ..autograd.function import Function
from ..creation import _Rng
from ..tensor import Tensor, _wrap
from ._registry import expose
from .reduce import type_name
from .statistics import norm_grad, vector_norm
from .unary import zeros_of

# ---- dist: the p-norm of a difference --------------------------------------------------------


class Dist(Function):
    """out = ||x - y||_p over all elements (x, y broadcast);
    dx = grad * sign(d) |d|^(p-1) / out^(p-1) with d = x - y,  dy = -dx"""

    @staticmethod
    def forward(ctx, x, y, p):
        ctx.p = p
        d = np.subtract(x._data, y._data)
        out = vector_norm(_wrap(d), p)._data
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y, out = ctx.saved_tensors
        if ctx.p == 0:
            return None, None, None  # counts nonzeros: piecewise constant, as in PyTorch
        gd = norm_grad(x - y, grad, out, ctx.p, None)
        return (gd if ctx.needs_input_grad[0] else None,
                -gd if ctx.needs_input_grad[1] else None, None)

    jvp = reduction_jvp  # one number out


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:  # noqa: A002
    """The p-norm of ``input - other`` (broadcast), over all elements."""
    for t in (input, other):
        if t._data.dtype.kind != "f":
            raise RuntimeError(
                "norm(): input dtype should be either floating point or complex. Got "
                f"{type_name(t._data)} instead; convert the tensors with .float() first.")
    return Dist.apply(input, other, float(p))


# ---- bernoulli ---------------------------------------------------------------------------------


class Bernoulli(Function):
    """out = 1 with probability x, else 0 (a draw);  dx = 0"""

    @staticmethod
    def forward(ctx, x, gen):
        a = x._data
        return (gen.random(a.shape) < a).astype(a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return zeros_of(grad), None  # (not grad * 0, which is NaN where grad is infinite)

    @staticmethod
    def jvp(ctx, t, _):
        return zeros_of(t)


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:  # noqa: A002
    """Draw 0 or 1 for each element, 1 with probability ``input`` (or the number ``p``); the
    result has input's dtype, and its gradient is zero, as in PyTorch."""
    a = input._data
    if a.dtype.kind != "f":
        raise NotImplementedError(
            f"bernoulli is only implemented for floating point tensors, not {input.dtype}; "
            "convert the probabilities with .float() first.")
    probs = input if p is None else _wrap(np.full(a.shape, p, dtype=a.dtype))
    q = probs._data
    if q.size and not (np.all(q >= 0) and np.all(q <= 1)):
        raise RuntimeError("bernoulli: the probabilities must lie in [0, 1], but some do not "
                           "(clamp them, or apply sigmoid to logits first).")
    gen = _Rng.gen if generator is None else getattr(generator, "gen", generator)
    return Bernoulli.apply(probs, gen)


expose({"dist": dist, "bernoulli": bernoulli})
