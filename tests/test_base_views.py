"""Views taken while their base needed no grad, once the base starts requiring grad (by an
in-place op with an operand that requires grad, or ``requires_grad_()``), and gradients through
empty views (issue 7, the fuzzer's classes stale-view-requires-grad, no-grad-view,
no-grad-inplace, double-backward-kinks and empty-edge-cases). Each case runs on retrograd and
(through the ``torch_ref`` fixture) on PyTorch, and checks the values PyTorch gives."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import retrograd as rt

LEAF = "a leaf Variable that requires grad is being used in an in-place operation"
VIEW_OF_LEAF = "a view of a leaf Variable that requires grad is being used in an in-place"
NO_GRAD_VIEW = "A view was created in no_grad mode"


@pytest.fixture(params=["retrograd", "torch"])
def L(request):
    """Each test taking ``L`` runs on retrograd, and on PyTorch when it is installed: the
    expected values in the tests are PyTorch's."""
    return rt if request.param == "retrograd" else request.getfixturevalue("torch_ref")


def _t(L, values, grad=False):
    return L.tensor(values, dtype=L.float64, requires_grad=grad)


def _stale(L, values=(1.0, 1.0)):
    """x0 needs no grad when v is taken; x0.mul_(w) then makes it require grad."""
    w = _t(L, [2.0, 3.0], True)
    x0 = _t(L, list(values))
    v = x0.view(1, 2)
    x0.mul_(w)
    return w, x0, v


# ---- the view follows its base into requiring grad ----------------------------------------


def test_view_requires_grad_once_its_base_does(L):
    w, x0, v = _stale(L)
    assert v.requires_grad
    assert type(v.grad_fn).__name__ == "AsStridedBackward0"
    assert not v.is_leaf


def test_gradient_reaches_the_base_through_a_stale_view(L):
    x0 = _t(L, [-0.3, 0.5])
    x1 = _t(L, 1.0, True)
    v3 = x0.view(-1, 2)
    x0.mul_(x1)
    L.maximum(x0, v3).backward(_t(L, [[1.0, 1.0]]))
    np.testing.assert_allclose(x1.grad.numpy(), 0.2)  # both operands carry x1 (0.1 before)


def test_views_of_views_follow_too(L):
    w = _t(L, [2.0, 3.0], True)
    x0 = _t(L, [1.0, 1.0, 1.0])
    v = x0[1:]
    vv = v.view(1, 2)
    x0[:2].mul_(w)
    assert v.requires_grad and vv.requires_grad
    (g,) = L.autograd.grad((vv * vv).sum(), w)
    np.testing.assert_allclose(g.numpy(), [0.0, 6.0])  # vv = [3, 1]: d(9)/dw1 = 2 * 3 * 1


def test_int_views_do_not_require_grad(L):
    x0 = L.ones(2, dtype=L.int64)
    v = x0.view(1, 2)
    x0.add_(1)
    assert not v.requires_grad


# ---- in-place ops on such a view: PyTorch's checks on the node as last set ------------------


def test_inplace_on_a_stale_view_is_an_inplace_on_a_leaf(L):
    w, x0, v = _stale(L)
    assert v.requires_grad  # (reading the flag does not rebuild the node)
    with pytest.raises(RuntimeError, match=LEAF):
        v.add_(1)
    np.testing.assert_array_equal(x0.detach().numpy(), [2.0, 3.0])  # nothing written


@pytest.mark.parametrize("read", ["grad_fn", "is_leaf", "use", "view"])
def test_inplace_on_a_stale_view_once_its_node_was_rebuilt(L, read):
    w, x0, v = _stale(L)
    if read == "grad_fn":
        _ = v.grad_fn
    elif read == "is_leaf":
        _ = v.is_leaf
    elif read == "use":
        v * 2
    else:
        v.view(2)
    v.mul_(w)
    assert type(v.grad_fn).__name__ == "AsStridedBackward0"
    (g,) = L.autograd.grad(x0.sum(), w)
    np.testing.assert_allclose(g.numpy(), [4.0, 6.0])  # x0 = w * w
    np.testing.assert_allclose(x0.detach().numpy(), [4.0, 9.0])


@pytest.mark.parametrize("key", ["none", "int", "int2", "none_ellipsis"])
def test_setitem_into_a_sub_view_of_a_stale_view(L, key):
    k = {"none": None, "int": 0, "int2": (0, 1), "none_ellipsis": (None, Ellipsis)}[key]
    w, x0, v = _stale(L)
    v[k] = 5.0
    assert type(x0.grad_fn).__name__ == "CopySlices"
    assert type(v.grad_fn).__name__ == "AsStridedBackward0"
    (g,) = L.autograd.grad(x0.sum(), w)
    want = [1.0, 0.0] if key == "int2" else [0.0, 0.0]
    np.testing.assert_allclose(g.numpy(), want)


@pytest.mark.parametrize("key", ["ellipsis", "slice", "empty", "full", "index", "mask"])
def test_setitem_on_a_stale_view_itself_is_an_inplace_on_a_leaf(L, key):
    k = {"ellipsis": Ellipsis, "slice": slice(None), "empty": (), "full": slice(0, 1),
         "index": L.tensor([0]), "mask": L.tensor([[True, False]])}[key]
    w, x0, v = _stale(L)
    with pytest.raises(RuntimeError, match=LEAF):
        v[k] = 5.0


def test_setitem_with_a_grad_value_leaves_the_view_node_unset(L):
    x0 = _t(L, 0.0)
    x1 = _t(L, 0.5, True)
    v3 = x0.view(())
    v3[None] = x1  # written through the view v3[None]: x0 requires grad, v3's node is unset
    assert v3.requires_grad and type(x0.grad_fn).__name__ == "CopySlices"
    with pytest.raises(RuntimeError, match=LEAF):
        v3.relu_()
    _ = v3.grad_fn  # (reading it rebuilds the node)
    v3.relu_()
    (g,) = L.autograd.grad(x0 * 3, x1)
    np.testing.assert_allclose(g.numpy(), 3.0)


def test_a_custom_function_marking_the_base_dirty(L):
    class AddW(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            x.add_(w)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    w = _t(L, [1.0, 2.0], True)
    x0 = _t(L, [0.0, 0.0])
    v = x0.view(1, 2)
    AddW.apply(x0, w)
    assert v.requires_grad
    (g,) = L.autograd.grad((v * v).sum(), w)
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])


@pytest.mark.parametrize("key", ["slice", "slice_past_end", "ellipsis"])
@pytest.mark.parametrize("value", ["scalar", "vector"])
def test_setitem_of_a_whole_slice_is_copy_or_fill(L, key, value):
    k = {"slice": slice(None), "slice_past_end": slice(0, 5), "ellipsis": Ellipsis}[key]
    x1 = _t(L, [[1.0, 2.0], [3.0, 4.0]], True)
    v0 = x1 * 2
    v0[k] = _t(L, [0.5, 1.5]) if value == "vector" else 0.5
    name = "CopyBackwards" if value == "vector" else "FillBackward3"
    assert type(v0.grad_fn).__name__ == name
    (g,) = L.autograd.grad((v0 * v0).sum(), x1, create_graph=True)
    assert not g.requires_grad  # x is wholly overwritten: constant zeros (seed 3's reproducer)
    np.testing.assert_array_equal(g.numpy(), np.zeros((2, 2)))


# ---- requires_grad_() on a leaf base ----------------------------------------------------------


def test_requires_grad_on_the_base_switches_its_views(L):
    x0 = _t(L, [1.0, 1.0])
    v = x0.view(1, 2)
    x0.requires_grad_()
    assert v.requires_grad and v.is_leaf and v.grad_fn is None
    (v * 2).sum().backward()  # the gradient reaching v has nowhere to go: dropped
    assert x0.grad is None and v.grad is None
    with pytest.raises(RuntimeError, match=VIEW_OF_LEAF):
        v.add_(1)
    x0.requires_grad_(False)
    assert not v.requires_grad


@pytest.mark.parametrize("how", ["backward", "grad_of_base", "grad_of_view"])
def test_a_view_without_node_is_no_root_nor_input(L, how):
    x0 = _t(L, [1.0, 1.0])
    v = x0.view(2)
    x0.requires_grad_()
    with pytest.raises(RuntimeError):
        if how == "backward":
            v.backward(_t(L, [1.0, 1.0]))  # "does not require grad and does not have a grad_fn"
        else:
            L.autograd.grad(v.sum(), x0 if how == "grad_of_base" else v)  # "not used"
    v.sum().backward()  # nothing reaches a leaf, and no AccumulateGrad was made for v
    assert x0.grad is None and v.grad is None


# ---- views made under no_grad ------------------------------------------------------------------


def test_no_grad_view_requires_grad_once_its_base_does(L):
    w = _t(L, [2.0, 3.0], True)
    x0 = _t(L, [1.0, 1.0])
    with L.no_grad():
        v = x0.view(1, 2)
    x0.mul_(w)
    assert v.requires_grad
    with L.no_grad():
        v.add_(1)
    assert v.requires_grad
    with pytest.raises(RuntimeError, match=NO_GRAD_VIEW):
        v * 2


# ---- empty views: the rebuilt node's backward gives plain zeros ----------------------------


def test_no_grad_inplace_on_an_empty_view_of_a_leaf(L):
    x1 = L.zeros(0, dtype=L.float64, requires_grad=True)
    x2 = L.zeros(0, dtype=L.float64, requires_grad=True)
    v1 = x1.view(0)
    with L.no_grad():
        v1.mul_(10)
    g1, g2 = L.autograd.grad(L.dot(v1, x2), [x1, x2], create_graph=True)
    assert not g1.requires_grad and g2.requires_grad
    assert g1.shape == (0,)


def test_relu_under_no_grad_on_an_empty_view_then_create_graph(L):
    x0 = L.zeros(1, 0, dtype=L.float64, requires_grad=True)
    v0 = x0.mT
    with L.no_grad():
        v0.relu_()
    (g,) = L.autograd.grad(L.nn.functional.silu(v0), [x0], L.zeros(0, 1, dtype=L.float64),
                           create_graph=True)
    assert not g.requires_grad and g.shape == (1, 0)


def test_fill_into_an_empty_view_then_create_graph(L):
    x2 = L.ones(3, 2, dtype=L.float64, requires_grad=True)
    x0 = L.zeros(3, 2, dtype=L.float64)
    x0.copy_(x2)
    v = x0.narrow(0, 2, 0).fill_(1.5)
    (g,) = L.autograd.grad(v ** 2, [x2], L.zeros(0, 2, dtype=L.float64), create_graph=True)
    assert not g.requires_grad
    np.testing.assert_array_equal(g.detach().numpy(), np.zeros((3, 2)))


def test_nonempty_view_keeps_its_graph(L):
    x2 = L.ones(3, 2, dtype=L.float64, requires_grad=True)
    x0 = L.zeros(3, 2, dtype=L.float64)
    x0.copy_(x2 * x2)
    v = x0.narrow(0, 2, 1).fill_(1.5)
    (g,) = L.autograd.grad((x0 * x0).sum() + (v ** 2).sum(), [x2], create_graph=True)
    assert g.requires_grad
    np.testing.assert_allclose(g.detach().numpy(), [[4.0, 4.0], [4.0, 4.0], [0.0, 0.0]])


# ---- retrograd's bookkeeping -------------------------------------------------------------------


def test_the_views_a_base_remembers_do_not_pile_up():
    x = rt.zeros(4, dtype=rt.float64)
    for _ in range(1000):
        x[1:3]
    gc.collect()
    assert len(x._views) < 64
    kept = [x[1:3] for _ in range(40)]
    x.mul_(rt.ones(4, dtype=rt.float64, requires_grad=True))
    assert all(v.requires_grad for v in kept)
    n = len(x._views)  # kept for detach_(), but views taken now have a node: not added
    more = [x[1:3] for _ in range(40)]
    assert all(v.grad_fn is not None for v in more) and len(x._views) == n
