"""A small finite-difference checker for the reduction, product and activation tests.

``check_grads(fn, *arrays)`` compares, in float64, the vector-Jacobian product that backward
computes with central differences of the function, for a random upstream vector; with
``order=2`` it does the same for the gradient itself (a random projection of it), which runs
the backward formulas' own derivatives (``create_graph=True``).
"""

from __future__ import annotations

import numpy as np

import retrograd


def _as_outputs(out) -> tuple:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _projection(fn, vs):
    """x -> sum over outputs of <fn(x), v> (the outputs that are floating point)."""
    def scalar(*xs):
        outs = [o for o in _as_outputs(fn(*xs)) if o.is_floating_point()]
        total = None
        for o, v in zip(outs, vs):
            term = (o * v).sum()
            total = term if total is None else total + term
        return total

    return scalar


def _numerical_grads(scalar_fn, arrays, eps: float) -> list:
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a)
        flat = g.reshape(-1)
        for j in range(a.size):
            hi = [b.copy() for b in arrays]
            lo = [b.copy() for b in arrays]
            hi[i].reshape(-1)[j] += eps
            lo[i].reshape(-1)[j] -= eps
            f_hi = scalar_fn(*[retrograd.tensor(b) for b in hi]).item()
            f_lo = scalar_fn(*[retrograd.tensor(b) for b in lo]).item()
            flat[j] = (f_hi - f_lo) / (2 * eps)
        grads.append(g)
    return grads


def _analytical_grads(scalar_fn, arrays, create_graph: bool = False):
    xs = [retrograd.tensor(a, requires_grad=True) for a in arrays]
    out = scalar_fn(*xs)
    if not out.requires_grad:  # constant in x (e.g. the gradient of a linear function)
        return xs, [retrograd.zeros(x.shape, dtype=x.dtype) for x in xs]
    grads = retrograd.autograd.grad(out, xs, create_graph=create_graph, allow_unused=True)
    return xs, [g if g is not None else retrograd.zeros(x.shape, dtype=x.dtype)
                for g, x in zip(grads, xs)]


def check_grads(fn, *arrays, order: int = 2, eps: float = 1e-6, atol: float = 1e-6,
                rtol: float = 1e-5, seed: int = 0) -> None:
    """Assert that backward (and, for order 2, double backward) of ``fn`` match finite
    differences at float64 ``arrays``."""
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    probe = _as_outputs(fn(*[retrograd.tensor(a) for a in arrays]))
    vs = [retrograd.tensor(rng.standard_normal(tuple(o.shape)))
          for o in probe if o.is_floating_point()]
    first = _projection(fn, vs)

    _, analytic = _analytical_grads(first, arrays)
    numeric = _numerical_grads(first, arrays, eps)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        np.testing.assert_allclose(a.numpy(), n, atol=atol, rtol=rtol,
                                   err_msg=f"first derivative, input {i}")
    if order < 2:
        return

    ws = [retrograd.tensor(rng.standard_normal(a.shape)) for a in arrays]

    def second(*xs):
        """x -> <d first / dx, w>: its gradient is a Hessian-vector product."""
        xs = [x if x.requires_grad else x.detach().requires_grad_() for x in xs]
        with retrograd.enable_grad():
            grads = retrograd.autograd.grad(first(*xs), xs, create_graph=True,
                                            allow_unused=True)
        total = None
        for g, w in zip(grads, ws):
            if g is not None:
                term = (g * w).sum()
                total = term if total is None else total + term
        return total if total is not None else retrograd.tensor(0.0, dtype=retrograd.float64)

    _, analytic2 = _analytical_grads(second, arrays)
    numeric2 = _numerical_grads(second, arrays, eps)
    for i, (a, n) in enumerate(zip(analytic2, numeric2)):
        np.testing.assert_allclose(a.numpy(), n, atol=10 * atol, rtol=10 * rtol,
                                   err_msg=f"second derivative, input {i}")


# ---- projection checks of ``fn(lib, *tensors)`` (used by the shape and indexing tests) ----------


def _tuple(out) -> tuple:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _fd(f, inputs, eps: float = 1e-6, tol: float = 1e-6) -> None:
    """Central differences of a random projection of ``f``'s outputs vs its gradient."""
    outs = [o for o in _tuple(f(*inputs)) if o is not None]
    ws = [np.random.default_rng(1).standard_normal(o.shape) for o in outs]

    def value() -> float:
        res = [o for o in _tuple(f(*inputs)) if o is not None]
        return float(sum((o.detach().numpy() * w).sum() for o, w in zip(res, ws)))

    loss = sum((o * retrograd.tensor(w)).sum() for o, w in zip(outs, ws))
    grads = retrograd.autograd.grad(loss, inputs, allow_unused=True)
    for x, g in zip(inputs, grads):
        flat = x._data.reshape(-1)
        num = np.zeros(flat.size)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up = value()
            flat[i] = old - eps
            down = value()
            flat[i] = old
            num[i] = (up - down) / (2 * eps)
        got = np.zeros(flat.size) if g is None else g.detach().numpy().reshape(-1)
        np.testing.assert_allclose(got, num, atol=tol, rtol=tol)


def fd_check(fn, *shapes, seed: int = 0) -> None:
    """First and second order finite-difference checks of ``fn(retrograd, *tensors)`` in float64."""
    rng = np.random.default_rng(seed)
    xs = [retrograd.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    _fd(lambda *a: fn(retrograd, *a), xs)
    # Second order: differentiate the vector-Jacobian product w.r.t. inputs and upstream grads.
    outs = [o for o in _tuple(fn(retrograd, *xs)) if o.requires_grad]
    vs = [retrograd.tensor(rng.standard_normal(tuple(o.shape)), requires_grad=True) for o in outs]
    n = len(xs)

    def vjp(*args):
        outs = [o for o in _tuple(fn(retrograd, *args[:n])) if o.requires_grad]
        return retrograd.autograd.grad(outs, args[:n], args[n:], create_graph=True,
                                       allow_unused=True)

    _fd(vjp, xs + vs)
