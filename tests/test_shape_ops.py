"""Shape ops (squeeze, permute, cat, split, ...) against PyTorch, and by finite differences."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optable import check_derivatives

import retrograd as rt

# ---- helpers -----------------------------------------------------------------------------------


def _tuple(out) -> tuple:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _name(t) -> str:
    return type(t.grad_fn).__name__


def compare(torch, fn, *shapes, seed: int = 0, names: bool = True):
    """Run ``fn(lib, *tensors)`` with torch and retrograd on the same float64 data; compare
    the outputs (values, shapes, node names) and the gradients of a random upstream gradient."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    xt = [torch.tensor(a, requires_grad=True) for a in arrays]
    xr = [rt.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ot = _tuple(fn(torch, *xt))
        orr = _tuple(fn(rt, *xr))
    assert len(ot) == len(orr)
    for a, b in zip(ot, orr):
        assert tuple(a.shape) == tuple(b.shape)
        assert a.dtype == torch.float64 and b.dtype == rt.float64
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        if names:
            assert _name(a) == _name(b)
    diff_t = [o for o in ot if o.requires_grad]
    diff_r = [o for o in orr if o.requires_grad]
    if diff_t:
        gs = [rng.standard_normal(tuple(o.shape)) for o in diff_t]
        torch.autograd.backward(diff_t, [torch.tensor(g) for g in gs])
        rt.autograd.backward(diff_r, [rt.tensor(g) for g in gs])
        for a, b in zip(xt, xr):
            assert (a.grad is None) == (b.grad is None)
            if a.grad is not None:
                np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-12, atol=1e-12)
    return ot, orr


# ---- squeeze, unsqueeze, transpose, permute --------------------------------------------------


SHAPE_CASES = [
    ("squeeze", lambda L, x: x.squeeze(), (2, 1, 3, 1)),
    ("squeeze_dim", lambda L, x: x.squeeze(1), (2, 1, 3, 1)),
    ("squeeze_dim_not_one", lambda L, x: x.squeeze(0), (2, 1, 3, 1)),
    ("squeeze_neg", lambda L, x: L.squeeze(x, -1), (2, 1, 3, 1)),
    ("squeeze_dims", lambda L, x: x.squeeze((0, 1, 3)), (2, 1, 3, 1)),
    ("squeeze_empty_dims", lambda L, x: x.squeeze(()), (2, 1, 3)),
    ("squeeze_0d", lambda L, x: x.squeeze(0), ()),
    ("unsqueeze", lambda L, x: x.unsqueeze(1), (2, 3)),
    ("unsqueeze_end", lambda L, x: L.unsqueeze(x, 2), (2, 3)),
    ("unsqueeze_neg", lambda L, x: x.unsqueeze(-1), (2, 3)),
    ("unsqueeze_0d", lambda L, x: x.unsqueeze(0), ()),
    ("transpose", lambda L, x: x.transpose(0, 2), (2, 3, 4)),
    ("transpose_same", lambda L, x: x.transpose(1, 1), (2, 3)),
    ("swapaxes", lambda L, x: L.swapaxes(x, -1, 0), (2, 3, 4)),
    ("swapdims", lambda L, x: x.swapdims(0, 1), (2, 3)),
    ("t", lambda L, x: x.t(), (2, 3)),
    ("t_1d", lambda L, x: L.t(x), (3,)),
    ("T", lambda L, x: x.T, (2, 3)),
    ("T_3d", lambda L, x: x.T, (2, 3, 4)),
    ("mT", lambda L, x: x.mT, (2, 3, 4)),
    ("mH", lambda L, x: x.mH, (3, 4)),
    ("adjoint", lambda L, x: x.adjoint(), (3, 4)),
    ("permute", lambda L, x: x.permute(2, 0, 1), (2, 3, 4)),
    ("permute_tuple", lambda L, x: x.permute((1, 0)), (2, 3)),
    ("permute_neg", lambda L, x: L.permute(x, [-1, 0, 1]), (2, 3, 4)),
    ("movedim", lambda L, x: x.movedim(0, 2), (2, 3, 4)),
    ("movedim_multi", lambda L, x: L.movedim(x, (0, 1), (2, 0)), (2, 3, 4)),
    ("movedim_neg", lambda L, x: x.moveaxis(-1, 0), (2, 3, 4)),
    ("repeat", lambda L, x: x.repeat(2, 3), (2, 3)),
    ("repeat_new_dims", lambda L, x: x.repeat(2, 1, 3), (2, 3)),
    ("repeat_tuple", lambda L, x: x.repeat((1, 2)), (2, 3)),
    ("repeat_zero", lambda L, x: x.repeat(0, 2), (2, 3)),
    ("repeat_0d", lambda L, x: x.repeat(3), ()),
    ("tile", lambda L, x: x.tile(2), (2, 3)),
    ("tile_fn", lambda L, x: L.tile(x, (2, 1, 1)), (2, 3)),
    ("flip", lambda L, x: x.flip(0), (2, 3, 4)),
    ("flip_many", lambda L, x: L.flip(x, (0, -1)), (2, 3, 4)),
    ("flip_varargs", lambda L, x: x.flip(1, 2), (2, 3, 4)),
    ("flip_none", lambda L, x: x.flip([]), (2, 3)),
    ("fliplr", lambda L, x: L.fliplr(x), (2, 3)),
    ("flipud", lambda L, x: x.flipud(), (2, 3)),
    ("unflatten", lambda L, x: x.unflatten(1, (2, 2)), (3, 4)),
    ("unflatten_infer", lambda L, x: L.unflatten(x, -1, (2, -1)), (3, 4)),
    ("flatten", lambda L, x: x.flatten(1), (2, 3, 4)),
]


@pytest.mark.parametrize("name,fn,shape", SHAPE_CASES, ids=[c[0] for c in SHAPE_CASES])
def test_shape_op_matches_torch(torch_ref, name, fn, shape):
    compare(torch_ref, fn, shape)


@pytest.mark.parametrize("name,fn,shape", SHAPE_CASES[::3], ids=[c[0] for c in SHAPE_CASES[::3]])
def test_shape_op_finite_differences(name, fn, shape):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_derivatives(lambda *xs: fn(rt, *xs), shape)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=0, max_size=4).flatmap(
    lambda shape: st.tuples(st.just(tuple(shape)), st.permutations(range(len(shape))))))
def test_permute_random(torch_ref, case):
    shape, perm = case
    compare(torch_ref, lambda L, x: x.permute(tuple(perm)), shape)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=4), st.data())
def test_transpose_and_movedim_random(torch_ref, shape, data):
    n = len(shape)
    d0 = data.draw(st.integers(-n, n - 1))
    d1 = data.draw(st.integers(-n, n - 1))
    compare(torch_ref, lambda L, x: x.transpose(d0, d1), tuple(shape))
    compare(torch_ref, lambda L, x: x.movedim(d0, d1), tuple(shape))


def test_T_warns_off_2d_and_is_identity_on_0d():
    x = rt.tensor(1.0, requires_grad=True)
    with pytest.warns(UserWarning, match="deprecated on 0-D tensors"):
        y = x.T  # a view with the values unchanged (PyTorch: PermuteBackward0)
    assert y.shape == () and y.item() == 1.0 and y.grad_fn.name() == "PermuteBackward0"
    with pytest.warns(UserWarning):
        assert rt.ones(3).T.shape == (3,)


def test_views_share_memory_and_version():
    x = rt.zeros(2, 3, 4)
    views = [x.transpose(0, 1), x.permute(2, 0, 1), x.unsqueeze(0), x[:1].squeeze(0), x.mT,
             x.unflatten(2, (2, 2))]
    x.add_(1)
    for v in views:
        assert v._base is x
        assert v._version == x._version == 1
        assert float(v.sum()) == v.numel()
    t2 = rt.zeros(2, 3)
    tv = t2.t()
    t2[0, 2] = 5.0
    assert tv[2, 0].item() == 5.0
    # repeat and flip are copies, as in PyTorch
    r, f = t2.repeat(1, 2), t2.flip(0)
    t2.fill_(7.0)
    assert r._base is None and f._base is None
    assert not np.any(r.numpy() == 7.0) and f[1, 2].item() == 5.0


def test_grad_flows_through_view_chain(torch_ref):
    x = rt.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    y = x.permute(2, 0, 1).unsqueeze(1).squeeze(1).transpose(0, 2).flip(1).repeat(1, 1, 2)
    (y * y).sum().backward()
    xt = torch_ref.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    yt = xt.permute(2, 0, 1).unsqueeze(1).squeeze(1).transpose(0, 2).flip(1).repeat(1, 1, 2)
    (yt * yt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())


def test_float32_stays_float32():
    x = rt.ones(2, 3, requires_grad=True)
    for y in (x.t(), x.permute(1, 0), x.repeat(2, 1), x.flip(0), x.unsqueeze(0),
              rt.cat([x, x]), rt.stack([x, x]), *x.split(1), *x.unbind(1)):
        assert y.dtype == rt.float32
    rt.cat([x, x]).sum().backward()
    assert x.grad.dtype == rt.float32


# ---- cat, stack, split, chunk, unbind -----------------------------------------------------------


JOIN_CASES = [
    ("cat", lambda L, x, y: L.cat([x, y]), (2, 3), (1, 3)),
    ("cat_dim1", lambda L, x, y: L.cat((x, y), 1), (2, 3), (2, 1)),
    ("cat_neg_dim", lambda L, x, y: L.cat([x, y, x], dim=-1), (2, 3), (2, 2)),
    ("concat", lambda L, x, y: L.concat([x, y], 0), (2, 3), (2, 3)),
    ("concatenate", lambda L, x, y: L.concatenate([x, y], axis=1), (2, 3), (2, 3)),
    ("cat_one", lambda L, x, y: L.cat([x]) * y.sum(), (2, 3), (1,)),
    ("cat_skips_empty_1d", lambda L, x, y: L.cat([x, y]), (2, 3), (0,)),
    ("cat_empty_first", lambda L, x, y: L.cat([y, x]), (2, 3), (0,)),
    ("cat_empty_rows", lambda L, x, y: L.cat([x, y]), (2, 3), (0, 3)),
    ("stack", lambda L, x, y: L.stack([x, y]), (2, 3), (2, 3)),
    ("stack_last", lambda L, x, y: L.stack((x, y, x), dim=2), (2, 3), (2, 3)),
    ("stack_neg", lambda L, x, y: L.stack([x, y], -3), (2, 3), (2, 3)),
    ("stack_0d", lambda L, x, y: L.stack([x, y]), (), ()),
]


@pytest.mark.parametrize("name,fn,s1,s2", JOIN_CASES, ids=[c[0] for c in JOIN_CASES])
def test_join_matches_torch(torch_ref, name, fn, s1, s2):
    compare(torch_ref, fn, s1, s2)


@pytest.mark.parametrize("name,fn,s1,s2", JOIN_CASES[::2], ids=[c[0] for c in JOIN_CASES[::2]])
def test_join_finite_differences(name, fn, s1, s2):
    check_derivatives(lambda *xs: fn(rt, *xs), s1, s2)


SPLIT_CASES = [
    ("split", lambda L, x: x.split(2), (5, 3)),
    ("split_exact", lambda L, x: L.split(x, 1, 1), (2, 3)),
    ("split_bigger", lambda L, x: x.split(7), (5, 3)),
    ("split_sizes", lambda L, x: x.split([1, 3, 1]), (5, 3)),
    ("split_sizes_zero", lambda L, x: L.split(x, [3, 0], dim=-1), (2, 3)),
    ("chunk", lambda L, x: x.chunk(2), (5, 3)),
    ("chunk_more_than_size", lambda L, x: L.chunk(x, 5, 1), (2, 3)),
    ("chunk_uneven", lambda L, x: x.chunk(3, 1), (2, 4)),
    ("unbind", lambda L, x: x.unbind(), (3, 2)),
    ("unbind_dim", lambda L, x: L.unbind(x, -1), (3, 2)),
    ("unbind_1d", lambda L, x: x.unbind(0), (3,)),
]


@pytest.mark.parametrize("name,fn,shape", SPLIT_CASES, ids=[c[0] for c in SPLIT_CASES])
def test_split_matches_torch(torch_ref, name, fn, shape):
    ot, orr = compare(torch_ref, fn, shape)
    for a, b in zip(ot, orr):
        assert b._output_nr == a.output_nr
        assert b._base is not None  # pieces are views


@pytest.mark.parametrize("name,fn,shape", SPLIT_CASES[::2], ids=[c[0] for c in SPLIT_CASES[::2]])
def test_split_finite_differences(name, fn, shape):
    check_derivatives(lambda *xs: fn(rt, *xs), shape)


def _one_piece_used(op: str):
    def fn(L, x):
        parts = {"split": lambda: x.split(2), "chunk": lambda: x.chunk(3),
                 "unbind": lambda: x.unbind(0)}[op]()
        return (parts[1] * 3).sum()

    return fn


@pytest.mark.parametrize("op", ["split", "chunk", "unbind"])
def test_multi_output_with_some_outputs_unused(torch_ref, op):
    compare(torch_ref, _one_piece_used(op), (5, 2))


@pytest.mark.parametrize("op", ["split", "chunk", "unbind"])
def test_multi_output_with_some_outputs_unused_finite_differences(op):
    check_derivatives(lambda x: _one_piece_used(op)(rt, x), (5, 2))


def test_split_pieces_share_memory():
    x = rt.zeros(4, 2)
    a, b = x.split(2)
    u0, *_ = x.unbind(1)
    x[3, 0] = 9.0
    assert b[1, 0].item() == 9.0 and u0[3].item() == 9.0
    assert a._version == b._version == x._version


def test_empty_splits_match_torch(torch_ref):
    for L in (torch_ref, rt):
        x = L.zeros(0, 3)
        assert [tuple(p.shape) for p in x.split(0)] == [(0, 3)]
        assert [tuple(p.shape) for p in x.chunk(2)] == [(0, 3), (0, 3)]
    assert tuple(rt.cat([rt.zeros(0), rt.zeros(0)]).shape) == (0,)


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float32", "int64"),
                                    ("int64", "bool"), ("int32", "int64")])
def test_cat_and_stack_promote_like_torch(torch_ref, dtypes):
    def make(L, name):
        return L.ones(2, 2, dtype=getattr(L, name))

    for fn in ("cat", "stack"):
        t = getattr(torch_ref, fn)([make(torch_ref, d) for d in dtypes])
        r = getattr(rt, fn)([make(rt, d) for d in dtypes])
        assert str(r.dtype) == str(t.dtype)


def test_cat_grad_reaches_each_input_and_casts_back():
    x = rt.ones(2, 2, requires_grad=True)
    y = rt.ones(1, 2, dtype=rt.float64, requires_grad=True)
    out = rt.cat([x, y])
    assert out.dtype == rt.float64
    (out * rt.arange(6.0).reshape(3, 2)).sum().backward()
    assert x.grad.dtype == rt.float32 and y.grad.dtype == rt.float64
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1], [2, 3]])
    np.testing.assert_array_equal(y.grad.numpy(), [[4, 5]])


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=4), st.integers(1, 3), st.data())
def test_cat_split_roundtrip_random(torch_ref, sizes, ndim, data):
    dim = data.draw(st.integers(0, ndim - 1))
    other = data.draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim))
    shapes = [tuple(other[:dim] + [s] + other[dim + 1:]) for s in sizes]
    compare(torch_ref, lambda L, *xs: L.cat(xs, dim).split(sizes, dim), *shapes)


# ---- errors ------------------------------------------------------------------------------------


ERROR_CASES = [
    ("squeeze_dim_range", lambda L, x: x.squeeze(2), (3, 4), "out of range"),
    ("squeeze_repeated", lambda L, x: x.squeeze((0, 0)), (1, 4), "multiple times"),
    ("unsqueeze_range", lambda L, x: x.unsqueeze(3), (3, 4), "out of range"),
    ("transpose_range", lambda L, x: x.transpose(0, 2), (3, 4), "out of range"),
    ("t_3d", lambda L, x: x.t(), (2, 3, 4), "<= 2 dimensions"),
    ("mT_1d", lambda L, x: x.mT, (3,), "matrices"),
    ("permute_len", lambda L, x: x.permute(0), (3, 4), "does not match the length"),
    ("permute_dup", lambda L, x: x.permute(0, 0), (3, 4), "duplicate dims"),
    ("permute_range", lambda L, x: x.permute(0, 2), (3, 4), "out of range"),
    ("movedim_len", lambda L, x: x.movedim((0, 1), (1,)), (3, 4), "same number of dims"),
    ("movedim_repeat", lambda L, x: x.movedim((0, 0), (1, 0)), (3, 4), "repeated dim"),
    ("repeat_few", lambda L, x: x.repeat(2), (3, 4), "can not be smaller"),
    ("repeat_negative", lambda L, x: x.repeat(2, -1), (3, 4), "negative dimension"),
    ("flip_repeat", lambda L, x: x.flip(0, 0), (3, 4), "multiple times"),
    ("unflatten_empty", lambda L, x: x.unflatten(1, ()), (3, 4), "non-empty"),
    ("unflatten_bad", lambda L, x: x.unflatten(1, (3, -1)), (3, 4), "multiply up"),
    ("cat_empty", lambda L, x: L.cat([]), (3, 4), "non-empty list"),
    ("cat_ndim", lambda L, x: L.cat([x, x[None]]), (3, 4), "same number of dimensions"),
    ("cat_sizes", lambda L, x: L.cat([x, x[:2, :3]]), (3, 4), "Sizes of tensors must match"),
    ("cat_0d", lambda L, x: L.cat([x[0, 0]]), (3, 4), "zero-dimensional"),
    ("cat_dim", lambda L, x: L.cat([x, x], 2), (3, 4), "out of range"),
    ("cat_tensor", lambda L, x: L.cat(x), (3, 4), "must be tuple of Tensors"),
    ("stack_empty", lambda L, x: L.stack([]), (3, 4), "non-empty"),
    ("stack_sizes", lambda L, x: L.stack([x, x[:2]]), (3, 4), "equal size"),
    ("stack_dim", lambda L, x: L.stack([x, x], 3), (3, 4), "out of range"),
    ("split_zero", lambda L, x: x.split(0), (3, 4), "split_size can only be 0"),
    ("split_sum", lambda L, x: x.split([1, 1]), (3, 4), "sum exactly to 3"),
    ("split_negative", lambda L, x: x.split([1, -1, 3]), (3, 4), "non-negative"),
    ("chunk_zero", lambda L, x: x.chunk(0), (3, 4), "greater than 0"),
    ("unbind_range", lambda L, x: x.unbind(2), (3, 4), "out of range"),
]


@pytest.mark.parametrize("name,fn,shape,phrase", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors_match_torch(torch_ref, name, fn, shape, phrase):
    with pytest.raises(Exception) as et:
        fn(torch_ref, torch_ref.zeros(shape))
    x = rt.zeros(shape)
    before = x.numpy().copy()
    with pytest.raises(et.type, match=phrase):
        fn(rt, x)
    np.testing.assert_array_equal(x.numpy(), before)
    assert x._version == 0
