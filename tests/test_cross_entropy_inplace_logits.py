"""cross_entropy's logits written in place after forward (fuzzer seed 12, program 4308): the
second-order gradient flows through the logits' history as forward met it, not into what the
in-place write brought in (PyTorch's log_softmax saves its result, which keeps its own node)."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
import retrograd.nn.functional as F

X = np.array([[0.3, -1.2, 2.0], [1.5, 0.1, -0.7]])
TARGET = np.array([2, 0])


def _run(lib, index: list):
    x0 = lib.tensor(X, requires_grad=True)
    x2 = lib.tensor(-2.0, dtype=lib.float64, requires_grad=True)
    logits = x0 ** 2
    loss = lib.nn.functional.cross_entropy(logits, lib.tensor(TARGET), reduction="sum")
    logits[lib.tensor(index, dtype=lib.long)] = x2  # written after forward
    (g0, g2) = lib.autograd.grad(loss, [x0, x2], create_graph=True, allow_unused=True)
    (g0 * lib.tensor(X)).sum().backward()
    return g0.detach().numpy(), x0.grad.numpy(), x2.grad


@pytest.mark.parametrize("index", [[], [1]])
def test_second_order_ignores_the_write(index):
    g0, gg0, gg2 = _run(retrograd, index)
    assert gg2 is None  # nothing of the loss came from x2
    # first order, written out: d/dx0 of CE(x0**2) = 2 x0 (softmax(x0**2) - onehot)
    z = X ** 2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    onehot = np.eye(3)[TARGET]
    np.testing.assert_allclose(g0, 2 * X * (p - onehot), rtol=1e-12)
    # second order: the derivative of sum(X * g0) is nonzero and not NaN
    assert np.isfinite(gg0).all() and np.abs(gg0).sum() > 0


@pytest.mark.parametrize("index", [[], [1]])
def test_against_torch(torch_ref, index):
    mine = _run(retrograd, index)
    ref = _run(torch_ref, index)
    np.testing.assert_allclose(mine[0], ref[0], rtol=1e-12)
    np.testing.assert_allclose(mine[1], ref[1], rtol=1e-12)
    assert mine[2] is None and ref[2] is None


def test_unwritten_logits_keep_their_own_tensor():
    x = retrograd.tensor(X, requires_grad=True)
    logits = x * 1
    loss = F.cross_entropy(logits, retrograd.tensor(TARGET))
    (g,) = retrograd.autograd.grad(loss, [logits], create_graph=True)
    (g * g).sum().backward()  # second order through softmax of the same logits
    assert x.grad is not None and np.isfinite(x.grad.numpy()).all()
