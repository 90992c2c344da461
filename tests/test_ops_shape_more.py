"""Behaviour of the shape, selection, random and tensor-query ops of issue 8 (shape_more.py,
index_more.py, random_more.py, tensor_info.py) against PyTorch: views share memory and the
version counter, in-place shape changes, writes through strided views, integer results,
errors, and the answers a tensor gives about itself. Values and gradients are in the op
table (tests/optable_opsshape.py)."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rt


def _both(torch, fn):
    """fn(lib) on both libraries."""
    return fn(torch), fn(rt)


def _same(a, b) -> None:
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    assert tuple(a.shape) == tuple(b.shape)
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


# ---- integer results: compared exactly ----------------------------------------------------------

INTEGER_RESULTS = {
    "nonzero": lambda L: L.tensor([[0, 1, 0], [2, 0, 3]]).nonzero(),
    "nonzero-tuple": lambda L: L.nonzero(L.tensor([[0., 1], [2, 0]]), as_tuple=True),
    "nonzero-0d": lambda L: L.tensor(5.).nonzero(),
    "argwhere": lambda L: L.argwhere(L.tensor([0, 3, 0, 1])),
    "unique": lambda L: L.unique(L.tensor([3, 1, 2, 1, 3]), return_inverse=True,
                                 return_counts=True),
    "unique-2d-inverse": lambda L: L.tensor([[2, 1], [1, 5]]).unique(return_inverse=True),
    "unique-dim": lambda L: L.tensor([[1, 2], [0, 1], [1, 2]]).unique(
        dim=0, return_inverse=True, return_counts=True),
    "unique-dim1": lambda L: L.tensor([[1, 1, 0], [2, 2, 1]]).unique(dim=1),
    "unique_consecutive": lambda L: L.unique_consecutive(
        L.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True, return_counts=True),
    "unique_consecutive-dim": lambda L: L.tensor([[1, 1], [1, 1], [2, 3]]).unique_consecutive(
        return_counts=True, dim=0),
    "isin": lambda L: L.isin(L.tensor([[1, 2], [3, 4]]), L.tensor([2, 3])),
    "isin-invert-scalar": lambda L: L.isin(L.tensor([1, 2, 3]), 2, invert=True),
    "triu_indices": lambda L: L.triu_indices(3, 4, 1),
    "tril_indices": lambda L: L.tril_indices(4, 3, -1),
    "tril_indices-int32": lambda L: L.tril_indices(3, 3, dtype=L.int32),
    "repeat_interleave-counts": lambda L: L.repeat_interleave(L.tensor([1, 0, 3])),
    "repeat_interleave-int": lambda L: L.tensor([[1, 2], [3, 4]]).repeat_interleave(2, dim=0),
    "take-int": lambda L: L.arange(6).take(L.tensor([5, -6])),
    "roll-int": lambda L: L.arange(6).reshape(2, 3).roll(-1, 1),
    "scatter_reduce-int-mean": lambda L: L.tensor([1, 2, 3]).scatter_reduce(
        0, L.tensor([0, 0, 2]), L.tensor([4, 5, 7]), "mean"),
    "scatter_reduce-int-amax-noself": lambda L: L.zeros(3, dtype=L.int64).scatter_reduce(
        0, L.tensor([0, 0]), L.tensor([-4, -5]), "amax", include_self=False),
    "fill_diagonal-wrap": lambda L: L.zeros(7, 3).fill_diagonal_(5.0, wrap=True),
    "fill_diagonal-tall": lambda L: L.zeros(7, 3).fill_diagonal_(5.0),
    "fill_diagonal-3d": lambda L: L.zeros(2, 2, 2).fill_diagonal_(1.0),
    "index_fill-int": lambda L: L.zeros(2, 3, dtype=L.int64).index_fill(1, L.tensor([0, 2]), 7),
    "masked_select-broadcast": lambda L: L.masked_select(
        L.arange(3.), L.tensor([[True], [False]])),
    "combinations-r0": lambda L: L.combinations(L.arange(3.), 0),
    "atleast_1d-multi": lambda L: L.atleast_1d(L.tensor(1.), L.arange(2.)),
    "broadcast_shapes": lambda L: L.Size(L.broadcast_shapes((2, 1), (3,), 1)),
}


@pytest.mark.parametrize("name", sorted(INTEGER_RESULTS))
def test_results_match_torch(name, torch_ref):
    fn = INTEGER_RESULTS[name]
    want, got = _both(torch_ref, fn)
    if isinstance(want, tuple) and want and isinstance(want[0], int):  # a Size
        assert tuple(got) == tuple(want)
        return
    _same(want, got)


# ---- views share memory and the version counter ------------------------------------------------

VIEWS = {
    "unfold": lambda x: x.unfold(1, 2, 1),
    "as_strided": lambda x: x.as_strided((2, 2), (1, 4), 1),
    "tensor_split": lambda x: x.tensor_split(2, 1)[1],
    "hsplit": lambda x: x.hsplit([1])[1],
    "vsplit": lambda x: x.vsplit(3)[2],
    "broadcast_to": lambda x: x.broadcast_to(2, 3, 4),
}


@pytest.mark.parametrize("name", ["unfold", "as_strided", "tensor_split", "hsplit", "vsplit",
                                  "broadcast_to"])
def test_views_share_memory_and_version(name, torch_ref):
    for L in (torch_ref, rt):
        x = L.arange(12.).reshape(3, 4).clone()
        view = VIEWS[name](x)
        assert view._base is x
        before = view.clone()
        x.mul_(2)
        assert view._version == x._version == 1
        assert bool((view == before * 2).all())


def test_write_through_unfold_and_as_strided_views(torch_ref):
    def fn(L):
        h = L.arange(12., dtype=L.float64).reshape(3, 4).requires_grad_()
        y = h * 1
        w = y.as_strided((2, 2), (1, 4), 1)
        w.mul_(3)
        u = y.unfold(1, 2, 2)
        u[0, 0].add_(10)
        (y * L.arange(12., dtype=L.float64).reshape(3, 4)).sum().backward()
        return y, h.grad, y.grad_fn.name()

    (ty, tg, tn), (ry, rg, rn) = _both(torch_ref, fn)
    _same(ty, ry)
    _same(tg, rg)
    assert tn.split("::")[-1] == rn


def test_copies_do_not_share_memory(torch_ref):
    for L in (torch_ref, rt):
        x = L.arange(12.).reshape(3, 4)
        for out in (x.roll(1), x.rot90(), x.narrow_copy(1, 0, 2), x.repeat_interleave(2),
                    L.hstack([x, x]), x.take(L.tensor([0])), x.masked_select(x > 3)):
            before = out.clone()
            x.add_(1)
            assert bool((out == before).all())


# ---- in-place shape changes ---------------------------------------------------------------------

INPLACE_SHAPES = {
    "unsqueeze_": lambda t: t.unsqueeze_(1),
    "squeeze_": lambda t: t.unsqueeze_(0).squeeze_(),
    "squeeze_-dim": lambda t: t.unsqueeze_(2).squeeze_(-1),
    "transpose_": lambda t: t.transpose_(0, 1),
    "t_": lambda t: t.t_(),
}


@pytest.mark.parametrize("name", sorted(INPLACE_SHAPES))
def test_inplace_shape_changes(name, torch_ref):
    def fn(L):
        x = L.arange(6., dtype=L.float64).reshape(2, 3).requires_grad_()
        y = x * 2
        out = INPLACE_SHAPES[name](y)
        assert out is y
        z = L.zeros(2, 3)
        INPLACE_SHAPES[name](z)
        (y * L.arange(6., dtype=L.float64).reshape(y.shape)).sum().backward()
        return y, x.grad, y.grad_fn.name(), y._version, z.shape

    want, got = _both(torch_ref, fn)
    _same(want[:2], got[:2])
    assert want[2] == got[2]
    assert want[3] == got[3]
    assert tuple(want[4]) == tuple(got[4])


def test_inplace_shape_change_of_a_view(torch_ref):
    def fn(L):
        x = L.ones(2, 3, dtype=L.float64, requires_grad=True)
        h = x * 2
        w = h[0]
        w.unsqueeze_(0)
        shape, base, name = w.shape, w._base is h, w.grad_fn.name()
        w.mul_(3)
        h.sum().backward()
        return h, x.grad, (tuple(shape), base, name)

    want, got = _both(torch_ref, fn)
    _same(want[:2], got[:2])
    assert want[2] == got[2]


def test_inplace_shape_change_errors(torch_ref):
    for L in (torch_ref, rt):
        leaf = L.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable"):
            leaf.unsqueeze_(0)
        with L.no_grad():
            leaf.unsqueeze_(0)
        assert leaf.shape == (1, 3)
        with pytest.raises(RuntimeError):
            L.zeros(2, 2, 2).t_()


# ---- errors -------------------------------------------------------------------------------------

ERRORS = {
    "roll-dims": (lambda L: L.ones(2, 3).roll((1, 2), 0), RuntimeError),
    "rot90-1d": (lambda L: L.ones(3).rot90(), RuntimeError),
    "rot90-same-dims": (lambda L: L.ones(2, 3).rot90(1, (0, 0)), RuntimeError),
    "tensor_split-0d": (lambda L: L.tensor(1.).tensor_split(2), RuntimeError),
    "tensor_split-0": (lambda L: L.ones(3).tensor_split(0), RuntimeError),
    "hsplit-indivisible": (lambda L: L.ones(2, 5).hsplit(2), RuntimeError),
    "vsplit-1d": (lambda L: L.ones(4).vsplit(2), RuntimeError),
    "unfold-too-big": (lambda L: L.ones(2, 3).unfold(1, 4, 1), RuntimeError),
    "unfold-step": (lambda L: L.ones(2, 3).unfold(1, 2, 0), RuntimeError),
    "as_strided-oob": (lambda L: L.ones(2, 3).as_strided((3, 3), (3, 1)), RuntimeError),
    "repeat_interleave-neg": (lambda L: L.ones(3).repeat_interleave(-1), RuntimeError),
    "repeat_interleave-size": (
        lambda L: L.ones(3).repeat_interleave(L.tensor([1, 2]), dim=0), RuntimeError),
    "meshgrid-2d": (lambda L: L.meshgrid(L.ones(2, 2), indexing="ij"), RuntimeError),
    "meshgrid-indexing": (lambda L: L.meshgrid(L.ones(2), indexing="ji"), RuntimeError),
    "broadcast_shapes": (lambda L: L.broadcast_shapes((2,), (3,)), RuntimeError),
    "masked_select-int-mask": (lambda L: L.ones(3).masked_select(L.tensor([1, 0, 1])),
                               RuntimeError),
    "masked_scatter-short": (lambda L: L.ones(3).masked_scatter(
        L.tensor([True, True, False]), L.ones(1)), RuntimeError),
    "index_add-float-index": (lambda L: L.ones(3).index_add(0, L.tensor([0.]), L.ones(1)),
                              RuntimeError),
    "index_add-oob": (lambda L: L.ones(3).index_add(0, L.tensor([3]), L.ones(1)), IndexError),
    "index_copy-dtype": (lambda L: L.ones(3).index_copy(0, L.tensor([0]), L.ones(1).double()),
                         RuntimeError),
    "take-oob": (lambda L: L.ones(3).take(L.tensor([3])), IndexError),
    "put-size": (lambda L: L.ones(3).put(L.tensor([0, 1]), L.ones(1)), IndexError),
    "scatter_reduce-name": (lambda L: L.ones(3).scatter_reduce(
        0, L.tensor([0]), L.ones(1), "median"), RuntimeError),
    "fill_diagonal-1d": (lambda L: L.ones(3).fill_diagonal_(0), RuntimeError),
    "fill_diagonal-unequal": (lambda L: L.ones(2, 3, 3).fill_diagonal_(0), RuntimeError),
    "normal-negative-std": (lambda L: L.normal(L.zeros(2), -1.0), RuntimeError),
    "normal-tensor-std": (lambda L: L.normal(0.0, L.tensor([1.0, -1.0])), RuntimeError),
    "poisson-negative": (lambda L: L.poisson(L.tensor([-1.0])), RuntimeError),
    "random_-range": (lambda L: L.zeros(2).random_(3, 3), RuntimeError),
    "cauchy_-sigma": (lambda L: L.zeros(2).cauchy_(0., 0.), RuntimeError),
    "imag": (lambda L: L.zeros(2).imag, RuntimeError),
    "contains-str": (lambda L: "a" in L.zeros(2), RuntimeError),
    "resize_-grad": (lambda L: L.zeros(2, requires_grad=True).resize_(3), RuntimeError),
    "is_nonzero-many": (lambda L: L.zeros(2).is_nonzero(), RuntimeError),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_as_pytorch(name, torch_ref):
    fn, kind = ERRORS[name]
    with pytest.raises(kind):
        fn(torch_ref)
    with pytest.raises(kind):
        fn(rt)


def test_unique_values_carry_no_gradient():
    x = rt.tensor([2.0, 1.0, 2.0], requires_grad=True)
    values = x.unique()
    assert values.tolist() == [1.0, 2.0] and not values.requires_grad


# ---- random draws: shapes, dtypes, ranges, seeding ------------------------------------------


def test_normal_overloads_shapes_dtypes_and_zero_gradient(torch_ref):
    def fn(L):
        m = L.zeros(2, 1, dtype=L.float64, requires_grad=True)
        s = L.ones(3, dtype=L.float64, requires_grad=True)
        outs = (L.normal(m, 1.0), L.normal(0.0, s), L.normal(m, s), L.normal(0., 1., (4, 2)),
                L.normal(2.0, 3.0, size=(5,), dtype=L.float64))
        sum(o.sum() for o in outs[:3]).backward()
        return ([(tuple(o.shape), str(o.dtype), o.grad_fn.name() if o.grad_fn else None)
                 for o in outs], m.grad.tolist(), s.grad.tolist())

    want, got = _both(torch_ref, fn)
    assert want == got


def test_draws_follow_the_seed_and_their_ranges():
    rt.manual_seed(3)
    a = (rt.normal(0., 1., (50,)), rt.zeros(50).exponential_(), rt.zeros(50).random_(2, 9),
         rt.poisson(rt.full((50,), 4.0)))
    rt.manual_seed(3)
    b = (rt.normal(0., 1., (50,)), rt.zeros(50).exponential_(), rt.zeros(50).random_(2, 9),
         rt.poisson(rt.full((50,), 4.0)))
    for x, y in zip(a, b):
        assert bool((x == y).all())
    ints = a[2]
    assert ints.min().item() >= 2 and ints.max().item() <= 8
    assert bool((ints == ints.round()).all())
    assert a[1].min().item() >= 0
    geo = rt.zeros(200).geometric_(0.5)
    assert geo.min().item() >= 1 and bool((geo == geo.round()).all())
    assert rt.zeros(200).log_normal_().min().item() > 0
    assert set(rt.zeros(200).bernoulli_(0.5).tolist()) == {0.0, 1.0}
    assert rt.zeros(3, dtype=rt.int8).random_().dtype == rt.int8
    assert rt.zeros(3, dtype=rt.int64).random_(5).max().item() < 5


def test_random_fill_node_names(torch_ref):
    def fn(L):
        x = L.ones(3, requires_grad=True)
        fills = (lambda t: t.random_(), lambda t: t.random_(4), lambda t: t.random_(1, 4),
                 lambda t: t.exponential_(), lambda t: t.geometric_(0.5),
                 lambda t: t.cauchy_(), lambda t: t.log_normal_(), lambda t: t.bernoulli_(0.5),
                 lambda t: t.bernoulli_(L.full((3,), 0.5)))
        return [f(x * 1).grad_fn.name() for f in fills]

    want, got = _both(torch_ref, fn)
    assert want == got


def test_empty_strided(torch_ref):
    for L in (torch_ref, rt):
        s = L.empty_strided((2, 3), (1, 2))
        assert s.stride() == (1, 2) and tuple(s.shape) == (2, 3)
        n = L.ones(2, dtype=L.float64).new_empty_strided((2, 2), (2, 1))
        assert n.dtype == L.float64 and n.stride() == (2, 1)


# ---- what a tensor says about itself ----------------------------------------------------------


def test_tensor_queries(torch_ref):
    def fn(L):
        x = L.arange(12.).reshape(3, 4)
        v = x[1:, 2:]
        u8 = L.tensor([1], dtype=L.uint8)
        return (x.nbytes, x.itemsize, v.storage_offset(), x.storage_offset(), x.is_shared(),
                x.share_memory_() is x, x.is_complex(),
                L.is_complex(x), x.is_signed(), u8.is_signed(), x.is_inference(),
                x.is_nested, x.is_meta, x.is_quantized, x.is_sparse, str(x.layout),
                x.layout == L.strided, x.get_device(), x.real is x, x.conj() is x,
                x.resolve_conj() is x, x.is_conj(), 5. in x, 50 in x,
                L.tensor([[4., 5, 6, 7]]) in x,
                [t.tolist() for t in reversed(L.arange(3.))], L.tensor(2.).__reversed__().item(),
                str(x.char().dtype), str(x.byte().dtype), str(x.short().dtype),
                str(x.type_as(u8).dtype), L.tensor([3.]).is_nonzero())

    want, got = _both(torch_ref, fn)
    assert want == got


def test_bfloat16_is_refused_clearly_and_pinning_is_a_no_op():
    with pytest.raises(TypeError, match="bfloat16"):
        rt.zeros(2).bfloat16()
    x = rt.zeros(2)
    assert x.pin_memory() is x and x.is_pinned() is False


def test_resize_map_apply(torch_ref):
    def fn(L):
        r = L.arange(6.)
        v0 = r._version
        r.resize_(2, 2)
        a = r.tolist()
        r.resize_as_(L.zeros(3, 3))
        b = tuple(r.shape)
        m = L.arange(4.).map_(L.full((4,), 2.), lambda p, q: p * q + 1)
        ap = L.arange(3.).apply_(lambda p: p * 10)
        return a, b, r._version > v0, m.tolist(), ap.tolist()

    want, got = _both(torch_ref, fn)
    assert want == got
