"""gru_cell's state written in place before backward (fuzzer seed 8): the fused cell keeps
h - n, not h, so like PyTorch's chain of ops it refuses only when the hidden product saved h
(w_hh needs a gradient), and its gradients are those of the state forward met, at first and
second order."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd


def _data():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((3, 4)), rng.standard_normal((3, 5)),
            rng.standard_normal((15, 4)), rng.standard_normal((15, 5)))


def _run(lib, write: bool, second_order: bool):
    xa, ha, wia, wha = _data()
    x = lib.tensor(xa, requires_grad=True)
    h0 = lib.tensor(ha, requires_grad=True)
    w_ih = lib.tensor(wia, requires_grad=True)
    w_hh = lib.tensor(wha)  # needs no gradient: the hidden product saves nothing
    h = h0 * 1
    out = lib.gru_cell(x, h, w_ih, w_hh)
    if write:
        h.mul_(2)
    if not second_order:
        out.sum().backward()
        return x.grad.numpy(), h0.grad.numpy(), w_ih.grad.numpy()
    gx, gh0 = lib.autograd.grad((out * out).sum(), [x, h0], create_graph=True)
    (gx.sum() + (gh0 * gh0).sum()).backward()
    return x.grad.numpy(), h0.grad.numpy(), w_ih.grad.numpy()


@pytest.mark.parametrize("second_order", [False, True])
def test_a_write_after_forward_changes_nothing(second_order):
    written = _run(retrograd, True, second_order)
    untouched = _run(retrograd, False, second_order)
    for a, b in zip(written, untouched):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("second_order", [False, True])
def test_against_torch(torch_ref, second_order):
    for mine, ref in zip(_run(retrograd, True, second_order), _run(torch_ref, True, second_order)):
        np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-12)


def test_first_order_against_finite_differences():
    xa, ha, wia, wha = _data()
    h0 = retrograd.tensor(ha, requires_grad=True)
    out = retrograd.gru_cell(retrograd.tensor(xa), h0, retrograd.tensor(wia),
                             retrograd.tensor(wha))
    out.sum().backward()

    def f(hv):
        return retrograd.gru_cell(retrograd.tensor(xa), retrograd.tensor(hv),
                                  retrograd.tensor(wia), retrograd.tensor(wha)).sum().item()
    numeric = np.zeros_like(ha)
    for idx in np.ndindex(ha.shape):
        step = np.zeros_like(ha)
        step[idx] = 1e-6
        numeric[idx] = (f(ha + step) - f(ha - step)) / 2e-6
    np.testing.assert_allclose(h0.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_refused_when_the_hidden_product_saved_the_state():
    xa, ha, wia, wha = _data()
    h = retrograd.tensor(ha, requires_grad=True) * 1
    w_hh = retrograd.tensor(wha, requires_grad=True)  # the product saves h for its gradient
    out = retrograd.gru_cell(retrograd.tensor(xa), h, retrograd.tensor(wia), w_hh)
    h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
