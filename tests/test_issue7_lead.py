"""Fuzzer classes fixed by the lead in the 2026-12-02 session (issue 7), each against PyTorch
(``torch_ref``) and against values written out here."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd


def _prod_grad(lib, data, whole):
    x = lib.tensor(data, dtype=lib.float64, requires_grad=True)
    v = x * 1
    p = v.prod() if whole else v.prod(-1, keepdim=True)
    (g,) = lib.autograd.grad(p, [x], lib.ones_like(p), create_graph=True)
    return g.detach().numpy(), g.requires_grad


PROD_CASES = [([0.0], False), ([[0.0], [2.0]], False), ([[0.0]], True), ([0.0, 3.0], True),
              ([-2.0], True)]


@pytest.mark.parametrize("data,whole", PROD_CASES)
def test_prod_of_a_lone_zero_passes_grad_without_a_graph(torch_ref, data, whole):
    mine, theirs = _prod_grad(retrograd, data, whole), _prod_grad(torch_ref, data, whole)
    np.testing.assert_array_equal(mine[0], theirs[0])
    assert mine[1] == theirs[1]


def test_prod_of_a_lone_zero_values():
    g, needs = _prod_grad(retrograd, [[0.0], [2.0]], False)
    np.testing.assert_array_equal(g, [[1.0], [1.0]])  # each slice holds one element
    assert not needs
    g, needs = _prod_grad(retrograd, [0.0, 3.0], True)
    np.testing.assert_array_equal(g, [3.0, 0.0])
    assert needs  # two elements: the others' product is a function of x


def _cat_empty_grad(lib):
    x0 = lib.zeros(0, dtype=lib.float64)
    x2 = lib.zeros(0, dtype=lib.float64, requires_grad=True)
    v = lib.cat([x0, x2], 0).sigmoid().sum()
    (g,) = lib.autograd.grad(v, [x2], create_graph=True)
    return g.shape, g.requires_grad


def test_cat_gives_a_1d_empty_input_a_fresh_gradient(torch_ref):
    assert _cat_empty_grad(retrograd) == (retrograd.Size([0]), False)
    assert tuple(_cat_empty_grad(torch_ref)[0]) == (0,)
    assert _cat_empty_grad(torch_ref)[1] is False


def test_cat_of_nonempty_inputs_keeps_the_graph():
    a = retrograd.tensor([1.0, 2.0], dtype=retrograd.float64, requires_grad=True)
    b = retrograd.zeros(0, dtype=retrograd.float64)
    (g,) = retrograd.autograd.grad((retrograd.cat([a, b]) ** 2).sum(), [a], create_graph=True)
    assert g.requires_grad
    np.testing.assert_array_equal(g.detach().numpy(), [2.0, 4.0])


def _unbatched_losses(lib):
    x = lib.tensor([2.0], dtype=lib.float64)
    t = lib.tensor(0)
    F = lib.nn.functional
    return [float(1 / F.cross_entropy(x, t, reduction="none")),
            float(1 / F.nll_loss(F.log_softmax(x, -1), t, reduction="none")),
            float(1 / F.cross_entropy(x[None], t[None], reduction="none")[0])]


def test_unbatched_class_loss_of_zero_is_positive_zero(torch_ref):
    assert _unbatched_losses(retrograd) == [np.inf, np.inf, -np.inf]
    assert _unbatched_losses(torch_ref) == _unbatched_losses(retrograd)


def _overlap_outcomes(lib):
    def attempt(f):
        try:
            f()
            return "ok"
        except RuntimeError:
            return "RuntimeError"

    def same_memory_other_strides():
        x = lib.tensor([-0.0], dtype=lib.float64)
        x.add_(x[None, -1])  # the same element, through a view with another stride

    def index_put_itself_empty():
        x = lib.zeros(2, 0, dtype=lib.float64)
        x[:, lib.tensor([], dtype=lib.long)] = x

    def index_put_view_empty():
        x = lib.zeros(2, 0, dtype=lib.float64)
        x[:, lib.tensor([], dtype=lib.long)] = x[:]

    def mask_put_itself_empty():
        v = lib.tensor([-0.0], dtype=lib.float64)[..., :0]
        v[v < 0.5] = v

    return [attempt(f) for f in (same_memory_other_strides, index_put_itself_empty,
                                 index_put_view_empty, mask_put_itself_empty)]


def test_overlap_checks_as_pytorch(torch_ref):
    assert _overlap_outcomes(retrograd) == ["ok", "RuntimeError", "ok", "RuntimeError"]
    assert _overlap_outcomes(torch_ref) == _overlap_outcomes(retrograd)


def _more_outcomes(lib):
    def attempt(f):
        try:
            f()
            return "ok"
        except (RuntimeError, IndexError) as e:
            return type(e).__name__

    x1 = lib.tensor(1.0, dtype=lib.float64)
    empty = lib.zeros(2, 0, dtype=lib.float64)
    return [attempt(lambda: x1[None].copy_(x1)),  # same memory, another number of dims
            attempt(lambda: x1.view(1).copy_(x1.view(1))),
            attempt(lambda: empty.index_select(0, lib.tensor([2]))),
            attempt(lambda: lib.zeros(2, 1).index_select(0, lib.tensor([2])))]


def test_copy_overlap_and_index_select_errors_as_pytorch(torch_ref):
    assert _more_outcomes(retrograd) == ["RuntimeError", "ok", "RuntimeError", "IndexError"]
    assert _more_outcomes(torch_ref) == _more_outcomes(retrograd)


@pytest.mark.parametrize("dims", [1, 2])
def test_convolution_backward_over_an_empty_batch(torch_ref, dims):
    def grads(lib):
        conv = lib.nn.functional.conv1d if dims == 1 else lib.nn.functional.conv2d
        x = lib.zeros((0, 2) + (5,) * dims, dtype=lib.float64, requires_grad=True)
        w = lib.ones((3, 2) + (2,) * dims, dtype=lib.float64, requires_grad=True)
        conv(x, w, stride=2).sum().backward()
        return tuple(x.grad.shape), w.grad.detach().numpy()

    (xs, gw), (xs_t, gw_t) = grads(retrograd), grads(torch_ref)
    assert xs == tuple(xs_t) == (0, 2) + (5,) * dims
    np.testing.assert_array_equal(gw, gw_t)
    assert not gw.any()


def test_copy_of_a_tensor_onto_itself_does_nothing(torch_ref):
    for lib in (retrograd, torch_ref):
        x = lib.tensor(2.0, dtype=lib.float64).expand(1, 3, 2)
        version = x._version
        assert x.copy_(x) is x  # an expanded tensor too: no overlap error
        assert x._version == version + 1  # still counted as a write


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_of_a_transposed_input_is_contiguous(torch_ref, fn):
    for lib in (retrograd, torch_ref):
        x = lib.tensor([[1.0, -1.0], [-1.0, -1.0]], dtype=lib.float64).mT
        out = getattr(x, fn)(1)
        assert out.is_contiguous()
        assert out.view(-1).shape == (4,)  # (view needs the contiguous layout)
