"""Views whose base starts or stops requiring grad, round 2 (issue 7: the fuzzer's reproducers
for view / in-place requires_grad on seeds 1, 3-7, 10, and the cases round 1 left: ``detach_()``
on a base, ``requires_grad_()`` on a view). Each case runs on retrograd and (through the
``torch_ref`` fixture) on PyTorch, and checks the values PyTorch gives."""

from __future__ import annotations

import pytest

import retrograd as rt


@pytest.fixture(params=["retrograd", "torch"])
def L(request):
    """Runs on retrograd, and on PyTorch when it is installed: the expected values are PyTorch's."""
    return rt if request.param == "retrograd" else request.getfixturevalue("torch_ref")


def _t(L, values, grad=False):
    return L.tensor(values, dtype=L.float64, requires_grad=grad)


def _name(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


# ---- detach_() on a base: views with no node of their own stop requiring grad too ----------


def test_detach_of_a_leaf_base_resets_its_views(L):
    x = _t(L, [1.0, 2.0])
    v = x.view(2)
    x.requires_grad_()
    assert v.requires_grad
    x.detach_()
    assert not x.requires_grad and not v.requires_grad and v.grad_fn is None
    x.requires_grad_()  # and follows it again
    assert v.requires_grad


def test_detach_of_a_base_made_non_leaf_in_place_resets_its_views(L):
    x = _t(L, [1.0, 2.0])
    w = _t(L, [2.0, 3.0], True)
    v = x.view(2)
    x.mul_(w)
    assert v.requires_grad
    x.detach_()
    assert not v.requires_grad and v.grad_fn is None
    assert not v.sin().requires_grad


def test_detach_of_a_base_keeps_a_view_whose_node_was_read(L):
    x = _t(L, [1.0, 2.0])
    w = _t(L, [2.0, 3.0], True)
    v = x.view(2)
    x.mul_(w)
    assert _name(v) == "AsStridedBackward0"  # the node is now the view's own
    x.detach_()
    assert v.requires_grad and _name(v) == "AsStridedBackward0"


def test_detach_of_a_base_keeps_views_taken_while_it_required_grad(L):
    x = _t(L, [1.0, 2.0], True)
    v = x.view(2)
    x.detach_()
    assert v.requires_grad and _name(v) == "ViewBackward0"


# ---- requires_grad_() on a view of a base that needs no grad -------------------------------


def test_view_made_to_require_grad_stays_a_leaf_when_its_base_does(L):
    x = _t(L, [1.0, 2.0, 3.0])
    v = x.view(3)
    v.requires_grad_()
    x.requires_grad_()
    (v * 2).sum().backward()
    assert v.requires_grad and v.is_leaf and v.grad_fn is None
    assert x.grad is None


def test_view_made_to_require_grad_then_base_written_in_place(L):
    x = _t(L, [1.0, 2.0, 3.0])
    w = _t(L, [1.0, 1.0, 1.0], True)
    v = x.view(3)
    v.requires_grad_()
    x.mul_(w)
    (v * 2).sum().backward()
    assert v.requires_grad and not v.is_leaf and _name(v) == "AsStridedBackward0"
    assert w.grad.tolist() == [2.0, 4.0, 6.0]


def test_view_made_to_require_grad_accumulates_its_gradient_once_its_base_does(L):
    x = _t(L, [1.0, 2.0, 3.0])
    v = x.view(3)
    v.requires_grad_()
    x.requires_grad_()
    (v * 2).sum().backward()
    (v[1:] * 2).sum().backward()  # through a view of it too
    assert v.grad.tolist() == [2.0, 4.0, 4.0] and x.grad is None


@pytest.mark.parametrize("how", ["detach_", "requires_grad_(False)"])
def test_view_made_to_require_grad_keeps_it_when_its_base_stops(L, how):
    x = _t(L, [1.0, 2.0, 3.0])
    v = x.view(3)
    v.requires_grad_()
    x.requires_grad_()
    if how == "detach_":
        x.detach_()
    else:
        x.requires_grad_(False)
    assert v.requires_grad and v.is_leaf


def test_view_switched_off_follows_its_base(L):
    x = _t(L, [1.0, 2.0, 3.0])
    v = x.view(3)
    v.requires_grad_()
    v.requires_grad_(False)
    x.requires_grad_()
    assert v.requires_grad  # through its base
    v.requires_grad_(False)
    assert v.requires_grad  # still: its base requires grad


@pytest.mark.filterwarnings("ignore:The .grad")
def test_view_made_to_require_grad_takes_its_base_history_after_in_place(L):
    x = _t(L, [1.0, 2.0, 3.0])
    w = _t(L, [1.0, 1.0, 1.0], True)
    v = x.view(3)
    v.requires_grad_()
    (v * 2).sum().backward()
    x.mul_(w)
    y = v * 3
    assert _name(v) == "AsStridedBackward0"
    y.sum().backward()
    assert v.grad.tolist() == [2.0, 2.0, 2.0] and w.grad.tolist() == [3.0, 6.0, 9.0]


def test_view_made_to_require_grad_refuses_an_in_place_write(L):
    x = _t(L, [1.0, 2.0, 3.0])
    v = x.view(3)
    v.requires_grad_()
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        v.mul_(_t(L, [1.0, 1.0, 1.0], True))
    assert x.tolist() == [1.0, 2.0, 3.0]


# ---- the fuzzer's reproducers (each a view taken before its base started requiring grad) ----


def test_seed4_empty_view_divided_under_no_grad(L):
    x0 = L.zeros(0, dtype=L.float64, requires_grad=True)
    v1 = x0[-1:1]
    with L.no_grad():
        v1.div_(x0)
    y = v1.prod(-1, keepdim=True)
    g, = L.autograd.grad(y.sum(), x0, create_graph=True)
    assert y.requires_grad and not g.requires_grad and g.shape == (0,)


def test_seed5_copy_into_base_then_max_of_view(L):
    x0 = _t(L, [1.0, 5.0, 2.0])
    x1 = _t(L, [3.0, -1.0, 4.0], True)
    v0 = x0.view(1, 3)
    x0.copy_(x1)
    y = v0.max(-2, keepdim=True).values
    assert y.requires_grad and _name(y) == "MaxBackward0"
    y.sum().backward()
    assert x1.grad.tolist() == [1.0, 1.0, 1.0]


def test_seed6_scatter_into_base_then_sigmoid_of_view(L):
    x0 = _t(L, [0.0, 0.0, 0.0])
    x1 = _t(L, [1.0, 2.0], True)
    v0 = x0.unsqueeze(-1)
    x0.scatter_(0, L.tensor([2, 0]), x1)
    y = v0.sigmoid()
    assert y.requires_grad and _name(y) == "SigmoidBackward0"
    y.sum().backward()
    assert x1.grad[0].item() > 0.0 and x1.grad[1].item() > 0.0


def test_seed7_empty_narrow_then_slice_assignment(L):
    x1 = L.zeros(2, 4, dtype=L.float64)
    x3 = L.ones(2, 3, dtype=L.float64, requires_grad=True)
    v1 = x1.narrow(1, 1, 0)
    x1[..., -4:3] = x3
    y = v1.sin()
    assert y.requires_grad and _name(y) == "SinBackward0" and y.shape == (2, 0)


def test_seed7_empty_view_multiplied_under_no_grad_then_dot(L):
    x1 = L.zeros(0, dtype=L.float64, requires_grad=True)
    w = L.zeros(0, dtype=L.float64, requires_grad=True)
    v = x1.view(0)
    with L.no_grad():
        v.mul_(w)
    y = L.dot(v, w)
    g = L.autograd.grad(y, [x1, w], create_graph=True, allow_unused=True)
    assert y.requires_grad and _name(y) == "DotBackward0"
    assert [t.requires_grad for t in g] == [False, True]


def test_seed10_empty_slice_view_then_copy_into_base(L):
    x0 = L.zeros(2, 3, 4, dtype=L.float64)
    x2 = L.ones(2, 3, 4, dtype=L.float64, requires_grad=True)
    v0 = x0[1, -3:-5, :]
    x0.copy_(x2)
    y = L.nn.functional.silu(v0)
    assert y.requires_grad and _name(y) == "SiluBackward0" and y.shape == (0, 4)


def test_seed10_empty_index_assignment_then_relu_under_no_grad(L):
    x0 = L.zeros(2, 3, dtype=L.float64, requires_grad=True)
    x1 = L.ones(2, 0, dtype=L.float64, requires_grad=True)
    v0 = x0.reshape(-1)
    with L.no_grad():
        x0[:, L.tensor([], dtype=L.long)] = x1
        v0.relu_()
    assert v0.requires_grad and _name(v0) == "AsStridedBackward0"


def test_seed10_reshape_written_under_no_grad_then_log(L):
    x1 = _t(L, [[1.0, 2.0, 4.0]], True)
    x2 = _t(L, [1.0, 1.0, 1.0], True)
    with L.no_grad():
        x1.reshape(-1).add_(x2)
    y = x1.log()
    g, = L.autograd.grad(y.sum(), x1, create_graph=True)
    assert g.requires_grad and _name(g) == "DivBackward0"
    assert g.tolist() == [[0.5, 1 / 3, 0.2]]


def test_seed1_scatter_then_empty_narrow_fill_then_pow(L):
    x0 = _t(L, [0.0, 0.0, 0.0])
    x1 = _t(L, [1.0, 2.0], True)
    x0.scatter_(0, L.tensor([0, 1]), x1)
    x0.narrow(0, 0, 0).fill_(2.0)
    y = x0.pow(2)
    assert y.requires_grad and _name(y) == "PowBackward0"
    y.sum().backward()
    assert x1.grad.tolist() == [2.0, 4.0]


def test_seed3_transposed_view_assigned_after_base_divided(L):
    x1 = _t(L, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    x3 = _t(L, [[1.0, 2.0, 1.0], [2.0, 1.0, 2.0]], True)
    v0 = x1.t()
    x1.div_(x3)
    v0[::2] = 1.5
    assert v0.requires_grad and _name(v0) == "AsStridedBackward0"
    assert _name(x1) == "CopySlices"
    x1.sum().backward()
    assert x3.grad.tolist() == [[0.0, -0.5, 0.0], [0.0, -5.0, 0.0]]


# ---- copy_ from the same memory in another shape (seed 10, copy_:no-raise) -----------------


@pytest.mark.parametrize("case", ["unsqueezed", "row", "transposed"])
def test_copy_from_partly_overlapping_memory_raises(L, case):
    if case == "unsqueezed":
        x = _t(L, -0.0)
        dst, src = x[None], x
    elif case == "row":
        x = L.ones(1, 3, dtype=L.float64)
        dst, src = x, x[0]
    else:
        x = L.ones(3, 3, dtype=L.float64)
        dst, src = x, x.t()
    with pytest.raises(RuntimeError, match="refer to a single memory location"):
        dst.copy_(src)


def test_copy_from_the_same_memory_laid_out_the_same_is_allowed(L):
    x = _t(L, [1.0, 2.0, 3.0])
    assert x.copy_(x.view(3)).tolist() == [1.0, 2.0, 3.0]
    assert x.copy_(x).tolist() == [1.0, 2.0, 3.0]
