"""In-place ops and views together: stale views get their history rebuilt, multi-output views
refuse in-place writes, version checks on outputs saved by in-place ops, writes into expanded
and empty views, and ``copy_``'s shape check (issue 7). Each case runs on retrograd and (through
the ``torch_ref`` fixture) on PyTorch, and checks the values PyTorch gives."""

from __future__ import annotations

import numpy as np
import pytest
from optable import check_derivatives

import retrograd as rt


@pytest.fixture(params=["retrograd", "torch"])
def L(request):
    """Each test taking ``L`` runs on retrograd, and on PyTorch when it is installed: the
    expected values in the tests are PyTorch's."""
    return rt if request.param == "retrograd" else request.getfixturevalue("torch_ref")


# ---- stale views: a view taken before an in-place op on its base or on a sibling view -------


def _relu_base(L, a):
    h = a * 1
    v = h[:2]
    h.relu_()
    return v


def _mul_base_view(L, a):
    h = a * 1
    v = h.view(2)
    h.mul_(10)
    return v


def _mul_sibling(L, a):
    h = a * 1
    v1, v2 = h[0:2], h[1:3]
    v1.mul_(10)
    return v2


def _exp_base_view_of_view(L, a):
    h = a * 1
    v = h.view(3, 1)[1:]
    h.exp_()
    return v


def _base_changed_under_no_grad(L, a):
    h = a * 1
    v = h[1:]
    with L.no_grad():
        h.mul_(3)
    return v


def _leaf_changed_under_no_grad(L, a):
    v = a[1:]
    with L.no_grad():
        a.mul_(3)
    return v


def _expanded_view_of_changed_base(L, a):
    h = a * 1
    v = h.expand(2, 3)
    h.mul_(2)
    return v


# name -> (program, leaf values, a.grad PyTorch gives for out.sum().backward(), grad_fn name)
STALE = {
    "relu_-base": (_relu_base, [1., -2., 3.], [1., 0., 0.], "AsStridedBackward0"),
    "mul_-base-view": (_mul_base_view, [1., -2.], [10., 10.], "AsStridedBackward0"),
    "mul_-sibling": (_mul_sibling, [1., -2., 3.], [0., 10., 1.], "AsStridedBackward0"),
    "exp_-base-view-of-view": (_exp_base_view_of_view, [0., 1., 2.],
                               [0., np.e, np.e ** 2], "AsStridedBackward0"),
    "no_grad-base": (_base_changed_under_no_grad, [1., -2., 3.], [0., 1., 1.],
                     "AsStridedBackward0"),
    "no_grad-leaf": (_leaf_changed_under_no_grad, [1., -2., 3.], [0., 1., 1.],
                     "AsStridedBackward0"),
    # NOTE: PyTorch names this node AsStridedBackward0; ours replays the expand (a deliberate
    # difference), because one node writing into the base can't sum the gradient over repeats.
    "expand-base": (_expanded_view_of_changed_base, [1., -2., 3.], [4., 4., 4.],
                    "ExpandBackward0"),
}


def _run(lib, program, values):
    a = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    out = program(lib, a)
    name = type(out.grad_fn).__name__
    out.sum().backward()
    return a.grad.numpy(), out.detach().numpy().copy(), name


@pytest.mark.parametrize("name", STALE)
def test_stale_view_gets_current_history(name):
    program, values, grad, node = STALE[name]
    got, _, got_node = _run(rt, program, values)
    np.testing.assert_allclose(got, grad, rtol=1e-12)
    assert got_node == node


@pytest.mark.parametrize("name", STALE)
def test_stale_view_matches_torch(torch_ref, name):
    program, values, _, node = STALE[name]
    want, want_out, want_node = _run(torch_ref, program, values)
    got, got_out, got_node = _run(rt, program, values)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(got_out, want_out, rtol=1e-12)
    assert got_node == node
    if name != "expand-base":
        assert got_node == want_node


@pytest.mark.parametrize("name", [n for n in STALE if not n.startswith("no_grad")])
def test_stale_view_derivatives(name):
    program, values = STALE[name][:2]
    check_derivatives(lambda a: program(rt, a), np.asarray(values) + 0.25)


def test_stale_view_repr_and_grad_mode(L):
    h = L.tensor([1., 2., 3.], requires_grad=True) * 1
    v = h[:2]
    h.mul_(2)
    with L.no_grad():  # rebuilt whatever the grad mode, as in PyTorch
        assert type(v.grad_fn).__name__ == "AsStridedBackward0"
    assert repr(v) == "tensor([2., 4.], grad_fn=<AsStridedBackward0>)"
    assert v.requires_grad and not v.is_leaf


def test_view_written_in_place_gets_view_history(L):
    h = L.tensor([1., 2., 3.], requires_grad=True) * 1
    v = h[1:]
    v.mul_(2)
    assert type(v.grad_fn).__name__ == "AsStridedBackward0"
    assert type(v.grad_fn.next_functions[0][0]).__name__ == "CopySlices"


def test_retain_grad_survives_rebuilt_history(L):
    a = L.tensor([1., 2., 3.], requires_grad=True)
    h = a * 1
    v = h[:2]
    v.retain_grad()
    h.mul_(2)
    (v * L.tensor([3., 5.])).sum().backward()
    assert v.grad.tolist() == [3., 5.]
    assert a.grad.tolist() == [6., 10., 0.]


def test_fresh_views_keep_their_node():
    h = rt.tensor([1., 2., 3.], requires_grad=True) * 1
    v = h[1:]
    fn = v.grad_fn
    assert v.grad_fn is fn and type(fn).__name__ == "SliceBackward0"
    w = rt.zeros(3)[1:]  # nothing requires grad: no history to rebuild
    w.mul_(2)
    assert w.grad_fn is None and not w.requires_grad


# ---- version checks: outputs saved by in-place ops -------------------------------------------

SAVES_OUTPUT = {
    "exp_": lambda b: b.exp_(),
    "tanh_": lambda b: b.tanh_(),
    "sigmoid_": lambda b: b.sigmoid_(),
    "exp_-view": lambda b: b[:2].exp_(),
}


@pytest.mark.parametrize("name", SAVES_OUTPUT)
def test_change_after_inplace_that_saved_its_output_raises(L, name):
    a = L.tensor([1., -2., 3.], requires_grad=True)
    b = a * 1
    SAVES_OUTPUT[name](b)
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()


@pytest.mark.parametrize("name", SAVES_OUTPUT)
def test_inplace_that_saved_its_output_alone_runs(L, name):
    a = L.tensor([1., -2., 3.], dtype=L.float64, requires_grad=True)
    b = a * 1
    SAVES_OUTPUT[name](b)
    (b * 2).sum().backward()
    x = np.array([1., -2., 3.])
    s = 1 / (1 + np.exp(-x))
    want = {"exp_": np.exp(x), "tanh_": 1 - np.tanh(x) ** 2, "sigmoid_": s * (1 - s),
            "exp_-view": np.r_[np.exp(x[:2]), 1.]}[name]
    np.testing.assert_allclose(a.grad.numpy(), 2 * want, rtol=1e-12)


# ---- in-place on outputs of functions that return several views ------------------------------

MULTI = {
    "split": (lambda b: b.split(2), 0, "Output 0 of Split is a view"),
    "chunk": (lambda b: b.chunk(2), 1, "Output 1 of Split is a view"),
    "split-sizes": (lambda b: b.split([1, 3]), 1, "Output 1 of SplitWithSizes is a view"),
    "unbind": (lambda b: b.unbind(), 2, "Output 2 of Unbind is a view"),
    "split-one-piece": (lambda b: b.split(4), 0, "Output 0 of Split is a view"),
}
MULTI_TAIL = ("This view is the output of a function that returns multiple views. Such functions "
              "do not allow the output views to be modified inplace. You should replace the "
              "inplace operation by an out-of-place one.")


@pytest.mark.parametrize("name", MULTI)
def test_inplace_on_multi_output_view_raises(L, name):
    make, i, head = MULTI[name]
    b = L.tensor([1., -2., 3., 4.], requires_grad=True) * 1
    with pytest.raises(RuntimeError) as err:
        make(b)[i].mul_(2)
    assert str(err.value) == f"{head} and is being modified inplace. {MULTI_TAIL}"
    assert b.tolist() == [1., -2., 3., 4.]  # nothing written
    for write in (lambda p: p.add_(1), lambda p: p.copy_(L.ones(p.shape)),
                  lambda p: p.zero_(), lambda p: p[...].mul_(2)):
        with pytest.raises(RuntimeError, match="returns multiple views"):
            write(make(b)[i])


@pytest.mark.parametrize("name", MULTI)
def test_multi_output_view_of_changed_base_raises(L, name):
    make, i, head = MULTI[name]
    b = L.tensor([1., -2., 3., 4.], requires_grad=True) * 1
    piece = make(b)[i]
    b.mul_(2)
    with pytest.raises(RuntimeError) as err:
        piece * 1
    assert str(err.value) == (f"{head} and its base or another view of its base has been "
                              f"modified inplace. {MULTI_TAIL}")
    assert repr(piece).endswith("grad_fn=<Invalid>)")


def test_multi_output_views_written_without_recording(L):
    b = L.tensor([1., -2., 3., 4.])  # nothing requires grad: allowed
    b.split(2)[0].mul_(2)
    assert b.tolist() == [2., -4., 3., 4.]
    a = L.tensor([1., -2., 3., 4.], requires_grad=True)
    b = a * 1
    with L.no_grad():  # not recorded: allowed
        b.chunk(2)[1].add_(1)
    assert b.tolist() == [1., -2., 4., 5.]


# ---- writes PyTorch allows: expanded views without overlap, empty views ----------------------


def test_inplace_on_expand_without_overlap(L):
    x = L.arange(4.)
    e = x.expand(1, 4)
    e.mul_(2)
    assert x.tolist() == [0., 2., 4., 6.] and e.tolist() == [[0., 2., 4., 6.]]
    s = L.tensor(3.)
    s.expand(1).add_(1)
    assert s.item() == 4.
    y = L.arange(4.)
    y.expand(1, 4)[0, 1] = 7
    assert y.tolist() == [0., 7., 2., 3.]


def test_inplace_on_empty_view(L):
    x = L.arange(4.)
    x[2:2].mul_(2)
    assert x.tolist() == [0., 1., 2., 3.]
    a = L.arange(4., requires_grad=True)
    h = a * 1
    h[2:2].mul_(2)
    h.sum().backward()
    assert a.grad.tolist() == [1., 1., 1., 1.]


def test_inplace_on_recorded_expand_without_overlap(L):
    a = L.arange(4., dtype=L.float64, requires_grad=True)
    h = a * 1
    e = h.expand(1, 4)
    e.mul_(L.tensor([1., 2., 3., 4.], dtype=L.float64))
    (h * h).sum().backward()
    assert h.tolist() == [0., 2., 6., 12.] and type(h.grad_fn).__name__ == "CopySlices"
    assert a.grad.tolist() == [0., 8., 36., 96.]


OVERLAPPING = {
    "mul_": lambda e, L: e.mul_(2),
    "add_-tensor": lambda e, L: e.add_(L.ones(2, 4)),
    "copy_": lambda e, L: e.copy_(L.ones(2, 4)),
}


@pytest.mark.parametrize("name", OVERLAPPING)
@pytest.mark.parametrize("recorded", [False, True])
def test_inplace_on_overlapping_expand_raises(L, name, recorded):
    x = L.arange(4., requires_grad=recorded)
    base = x * 1 if recorded else x
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor "
                                           "refers to a single memory location"):
        OVERLAPPING[name](base.expand(2, 4), L)
    assert base.tolist() == [0., 1., 2., 3.]


def test_fill_on_overlapping_expand_is_allowed(L):
    x = L.arange(4.)
    x.expand(2, 4).fill_(3)
    assert x.tolist() == [3.] * 4
    x.expand(3, 4).zero_()
    assert x.tolist() == [0.] * 4


def test_recorded_fill_on_overlapping_expand_raises_in_backward(L):
    a = L.arange(4., requires_grad=True)
    h = a * 1
    h.expand(2, 4).fill_(3)
    assert h.tolist() == [3.] * 4
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        h.sum().backward()


def test_views_made_under_no_grad_refuse_recorded_inplace(L):
    a = L.tensor([1., -2., 3.], requires_grad=True)
    b = a * 1
    with L.no_grad():
        v = b[:2]
        w = L.zeros(3)[1:]
    for write in (lambda: v.mul_(2), lambda: v.copy_(L.ones(2)), lambda: v.fill_(1),
                  lambda: w.mul_(L.ones(2, requires_grad=True))):
        with pytest.raises(RuntimeError, match="A view was created in no_grad mode and is being "
                                               "modified inplace with grad mode enabled"):
            write()
    assert b.tolist() == [1., -2., 3.]
    with L.no_grad():  # both under no_grad: allowed
        v.mul_(2)
    assert b.tolist() == [2., -4., 3.]
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode and its base or "
                                           "another view of its base has been modified"):
        _ = v.grad_fn


def test_view_made_under_no_grad_requires_grad_but_gets_none(L):
    a = L.tensor([1., -2., 3.], requires_grad=True)
    with L.no_grad():
        v = a[:2]
        assert repr(v) == "tensor([ 1., -2.], requires_grad=True)"
    assert v.requires_grad and v.is_leaf and v.grad_fn is None
    y = v * 2
    assert y.requires_grad
    y.sum().backward()
    assert a.grad is None and v.grad is None
    b = a * 1
    with L.no_grad():
        w = b[1:]
    b.mul_(2)
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode and its base"):
        w * 1


# ---- copy_ checks that the source broadcasts to the destination ------------------------------

COPY_SHAPES = {
    "[2]->[3]": ((3,), (2,)),
    "[2,3]->[3]": ((3,), (2, 3)),
    "[4]->[2,3]": ((2, 3), (4,)),
    "[1,1,3]->[2,3]": ((2, 3), (1, 1, 3)),
}


@pytest.mark.parametrize("name", COPY_SHAPES)
@pytest.mark.parametrize("src_requires_grad", [False, True])
def test_copy_refuses_a_source_that_does_not_broadcast(torch_ref, name, src_requires_grad):
    dst_shape, src_shape = COPY_SHAPES[name]
    messages = []
    for L in (torch_ref, rt):
        x = L.zeros(dst_shape)
        with pytest.raises(RuntimeError) as err:
            x.copy_(L.ones(src_shape, requires_grad=src_requires_grad))
        assert x.tolist() == L.zeros(dst_shape).tolist() and x._version == 0
        messages.append(str(err.value))
    assert messages[1].startswith(messages[0])  # PyTorch's message, perhaps with more after


def test_copy_broadcasts(L):
    x = L.zeros(2, 3)
    x.copy_(L.tensor([1., 2., 3.]))
    assert x.tolist() == [[1., 2., 3.]] * 2
