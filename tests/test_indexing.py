"""Indexing (x[key], x[key] = v) and the gather/scatter family, against PyTorch and by finite
differences."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optable import check_derivatives

import retrograd as rt

A3 = np.random.default_rng(42).standard_normal((3, 4, 5))


# ---- helpers (as in test_shape_ops.py) --------------------------------------------------------


def _tuple(out) -> tuple:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _name(t) -> str:
    return type(t.grad_fn).__name__


def compare(torch, fn, *arrays, seed: int = 0, view: bool | None = None):
    """Run ``fn(lib, *tensors)`` on torch and retrograd with the same float64 data; compare
    values, shapes, node names, view-ness and the gradients of a random upstream gradient."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(a) if isinstance(a, tuple) else a for a in arrays]
    xt = [torch.tensor(a, requires_grad=True) for a in arrays]
    xr = [rt.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ot = _tuple(fn(torch, *xt))
        orr = _tuple(fn(rt, *xr))
    for a, b in zip(ot, orr):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-12, atol=1e-12)
        assert _name(b) == _name(a)
        assert (b._base is not None) == (a._base is not None), "view-ness differs"
    gs = [rng.standard_normal(tuple(o.shape)) for o in ot]
    torch.autograd.backward(ot, [torch.tensor(g) for g in gs])
    rt.autograd.backward(orr, [rt.tensor(g) for g in gs])
    for a, b in zip(xt, xr):
        assert (a.grad is None) == (b.grad is None)
        if a.grad is not None:
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-12, atol=1e-12)
    return ot, orr


# ---- x[key] -------------------------------------------------------------------------------------


def _mask(L, arr):
    return L.tensor(arr > 0)


GETITEM_KEYS = [
    ("int", lambda L: 0),
    ("int_neg", lambda L: -1),
    ("slice", lambda L: slice(1, None)),
    ("slice_step", lambda L: slice(None, None, 2)),
    ("slice_past_end", lambda L: slice(1, 10)),
    ("slice_empty", lambda L: slice(10, None)),
    ("full_slice", lambda L: slice(None)),
    ("int_int", lambda L: (0, 1)),
    ("int_int_int", lambda L: (2, 1, 3)),
    ("slice_int", lambda L: (slice(None), 1)),
    ("ellipsis_int", lambda L: (Ellipsis, 1)),
    ("none", lambda L: None),
    ("none_int", lambda L: (None, 0)),
    ("int_none", lambda L: (0, None)),
    ("slice_none_int", lambda L: (slice(None), None, 1)),
    ("ellipsis_none", lambda L: (Ellipsis, None)),
    ("empty_tuple", lambda L: ()),
    ("ellipsis", lambda L: Ellipsis),
    ("full_slices", lambda L: (slice(None), slice(None))),
    ("full_slices_bounds", lambda L: (slice(0, 3), slice(None, 10), slice(0, None, 1))),
    ("negative_start_slice", lambda L: (slice(-3, None), slice(None))),
    ("three_slices", lambda L: (slice(None), slice(1, 4, 2), slice(None, None, 3))),
    ("slice_int_slice", lambda L: (slice(1, 3), 2, slice(1, None))),
    ("zero_dim_int_tensor", lambda L: L.tensor(1)),
    ("numpy_int", lambda L: np.int64(2)),
    ("list_repeats", lambda L: [0, 0, 2]),
    ("tensor_repeats", lambda L: L.tensor([2, 0, 2, 2])),
    ("tensor_negative", lambda L: L.tensor([-1, 0])),
    ("int32_tensor", lambda L: L.tensor([0, 1], dtype=L.int32)),
    ("numpy_array", lambda L: np.array([2, 0])),
    ("empty_list", lambda L: []),
    ("index_2d", lambda L: L.tensor([[0, 1], [2, 2]])),
    ("slice_then_list", lambda L: (slice(None), [1, 1, 3])),
    ("two_lists", lambda L: ([0, 1, 1], [1, 2, 2])),
    ("lists_split_by_slice", lambda L: ([0, 1], slice(None), [1, 2])),
    ("int_slice_list", lambda L: (1, slice(None), [0, 1])),
    ("slice_int_list", lambda L: (slice(None), 1, [0, 1])),
    ("int_and_list", lambda L: (0, [0, 2])),
    ("list_and_int", lambda L: ([0, 2], 0)),
    ("broadcast_indices", lambda L: (L.tensor([[0, 1], [2, 2]]), L.tensor([1, 3]))),
    ("ints_as_indices", lambda L: ([2, 0], None, slice(1, 3), [[1], [3]])),
    ("none_list_none_int", lambda L: (None, [0, 1], None, 1)),
    ("ellipsis_list", lambda L: (Ellipsis, [0, 4, 4])),
    ("slice_list_step", lambda L: (slice(1, 3), [0, 2], slice(None, None, 2))),
    ("zero_dim_and_list", lambda L: (L.tensor(1), [1])),
    ("bool_true", lambda L: True),
    ("bool_false", lambda L: False),
    ("int_bool", lambda L: (0, True)),
    ("bool_tensor_0d", lambda L: L.tensor(True)),
    ("mask_2d", lambda L: _mask(L, A3[:, :, 0])),
    ("mask_full", lambda L: _mask(L, A3)),
    ("slice_mask", lambda L: (slice(None), _mask(L, A3[0]))),
    ("mask_list", lambda L: [True, False, True]),
    ("numpy_mask", lambda L: A3[:, 0, 0] > 0),
    ("mask_slice_list", lambda L: (_mask(L, A3[:, 0, 0]), slice(None), [1, 2])),
    ("list_of_lists_as_tuple", lambda L: [[0, 1], [2, 2]]),
    ("list_with_slice_as_tuple", lambda L: [0, slice(1, None)]),
]


@pytest.mark.parametrize("name,key", GETITEM_KEYS, ids=[k[0] for k in GETITEM_KEYS])
def test_getitem_matches_torch(torch_ref, name, key):
    compare(torch_ref, lambda L, x: x[key(L)], A3)


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("name,key", GETITEM_KEYS[::4], ids=[k[0] for k in GETITEM_KEYS[::4]])
def test_getitem_finite_differences(name, key):
    check_derivatives(lambda x: x[key(rt)], (3, 4, 5))


def _basic_item(draw, size: int):
    kind = draw(st.sampled_from(["int", "slice", "none", "full"]))
    if kind == "int":
        return draw(st.integers(-size, size - 1)), 1
    if kind == "none":
        return None, 0
    if kind == "full":
        return slice(None), 1
    lo = draw(st.one_of(st.none(), st.integers(-size - 2, size + 2)))
    hi = draw(st.one_of(st.none(), st.integers(-size - 2, size + 2)))
    step = draw(st.one_of(st.none(), st.integers(1, 3)))
    return slice(lo, hi, step), 1


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.data())
def test_getitem_random_basic_keys(torch_ref, shape, data):
    key, d = [], 0
    while d < len(shape) and data.draw(st.booleans()):
        item, used = _basic_item(data.draw, shape[d])
        key.append(item)
        d += used
    if data.draw(st.booleans()):  # "..." anywhere once all dims are named, else at the end
        where = data.draw(st.integers(0, len(key))) if d == len(shape) else len(key)
        key.insert(where, Ellipsis)
    compare(torch_ref, lambda L, x: x[tuple(key)], tuple(shape))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.data())
def test_getitem_random_index_tensors_accumulate(torch_ref, shape, data):
    """Repeated indices must add their gradients up (not overwrite)."""
    key = []
    for size in shape:
        choice = data.draw(st.sampled_from(["idx", "slice", "int"]))
        if choice == "idx":
            key.append(data.draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=5)))
        elif choice == "int":
            key.append(data.draw(st.integers(-size, size - 1)))
        else:
            key.append(slice(None))
    idx_lists = [k for k in key if isinstance(k, list)]
    if len({len(k) for k in idx_lists}) > 1:  # make the index lists broadcastable
        n = len(idx_lists[0])
        key = [(k * n)[:n] if isinstance(k, list) else k for k in key]
    compare(torch_ref,
            lambda L, x: x[tuple(L.tensor(k) if isinstance(k, list) else k for k in key)],
            tuple(shape))


@pytest.mark.parametrize("key", [[0, 0, 2], ([0, 0], slice(None), [1, 1]), (1, [3, 3, 0])])
def test_repeated_index_finite_differences(key):
    check_derivatives(lambda x: x[key], (3, 4, 5))


def test_repeated_index_grad_counts():
    x = rt.zeros(4, 2, requires_grad=True)
    x[rt.tensor([0, 0, 3, 0, 3])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[3, 3], [0, 0], [0, 0], [2, 2]])


@pytest.mark.parametrize("n_rows,n_idx", [(1000, 5), (5, 1000)])  # np.add.at path, bincount path
def test_repeated_index_grad_both_accumulation_paths(n_rows, n_idx):
    rng = np.random.default_rng(3)
    idx = rng.integers(0, n_rows, n_idx)
    g = rng.standard_normal((n_idx, 3)).astype(np.float32)
    x = rt.zeros(n_rows, 3, requires_grad=True)
    x[rt.tensor(idx)].backward(rt.tensor(g))
    want = np.zeros((n_rows, 3))
    np.add.at(want, idx, g.astype(np.float64))
    assert x.grad.dtype == rt.float32
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-5, atol=1e-5)


def test_basic_indexing_returns_views_sharing_memory():
    x = rt.zeros(3, 4)
    views = [x[0], x[1:], x[:, 2], x[None], x[...], x[0, 1], x[::2, 1:3]]
    x.fill_(2.0)
    for v in views:
        assert v._base is x
        assert v._version == x._version == 1
        assert np.all(v.numpy() == 2.0)
    row = x[1]
    row[2] = 7.0  # writing through a view changes the base
    assert x[1, 2].item() == 7.0 and x._version == row._version == 2
    copy = x[[1]]
    x[1, 2] = 9.0
    assert copy._base is None and copy[0, 2].item() == 7.0  # advanced indexing copies
    assert x[0, 0].shape == () and x[0, 0]._base is x  # a 0-d view, not a copy


def test_getitem_keeps_dtype_and_works_without_grad():
    x = rt.arange(12).reshape(3, 4)
    assert x[1].dtype == rt.int64 and x[x > 5].tolist() == list(range(6, 12))
    b = x > 5
    assert b[1:, 1].tolist() == [False, True]
    f = rt.ones(3, 4, requires_grad=True)
    with rt.no_grad():
        assert f[0].grad_fn is None
    assert f[[0, 0]].dtype == rt.float32
    f[[0, 0]].sum().backward()
    assert f.grad.dtype == rt.float32


def test_iteration_uses_select():
    x = rt.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert [_name(r) for r in rows] == ["SelectBackward0"] * 2
    (rows[0] * 2 + rows[1]).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 2], [1, 1]])


def test_sequence_as_tuple_warns():
    x = rt.zeros(3, 4)
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        assert x[[[0, 1], [1, 0]]].shape == (2,)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x[[0, 1]].shape == (2, 4)


GETITEM_ERRORS = [
    ("int_oob", lambda L: 5, "index 5 is out of bounds for dimension 0 with size 3"),
    ("int_oob_neg", lambda L: -4, "index -4 is out of bounds for dimension 0 with size 3"),
    ("int_oob_dim1", lambda L: (0, 4), "index 4 is out of bounds for dimension 1 with size 4"),
    ("slice_then_int_oob", lambda L: (slice(None), 7), "out of bounds for dimension 1"),
    ("too_many", lambda L: (0, 0, 0), "too many indices for tensor of dimension 2"),
    ("negative_step", lambda L: slice(None, None, -1), "step must be greater than zero"),
    ("zero_step", lambda L: slice(None, None, 0), "slice step cannot be zero"),
    ("float_tensor", lambda L: L.tensor([0.5]), "tensors used as indices must be long"),
    ("float", lambda L: 1.5, "only integers, slices"),
    ("list_oob", lambda L: [0, 5], "index 5 is out of bounds for dimension 0 with size 3"),
    ("list_oob_neg", lambda L: [0, -4], "index -4 is out of bounds"),
    ("tensor_oob", lambda L: L.tensor(5), "index 5 is out of bounds"),
    ("mask_shape", lambda L: L.tensor([True, False]), "The shape of the mask \\[2\\] at index 0"),
    ("mask_shape_2d", lambda L: L.tensor([[True, False, True]]), "shape of the mask \\[1, 3\\]"),
    ("no_broadcast", lambda L: ([0, 1], [0, 1, 2]), "shape mismatch: indexing tensors could not"),
]


@pytest.mark.parametrize("name,key,phrase", GETITEM_ERRORS, ids=[k[0] for k in GETITEM_ERRORS])
def test_getitem_errors_match_torch(torch_ref, name, key, phrase):
    a = np.arange(12.0).reshape(3, 4)
    with pytest.raises(Exception) as et:
        torch_ref.tensor(a)[key(torch_ref)]
    with pytest.raises(et.type, match=phrase):
        rt.tensor(a)[key(rt)]


def test_zero_dim_tensor_indexing():
    x = rt.tensor(3.0, requires_grad=True)
    assert x[None].shape == (1,) and x[...].shape == () and x[True].shape == (1,)
    with pytest.raises(IndexError, match="invalid index of a 0-dim tensor"):
        x[0]


# ---- x[key] = value -------------------------------------------------------------------------


SETITEM_CASES = [
    ("int_row", lambda L: 0, (4, 5)),
    ("int_broadcast", lambda L: 0, (5,)),
    ("int_number", lambda L: 0, 2.5),
    ("slice_col", lambda L: (slice(None), 1), (3, 1)),
    ("slices_step", lambda L: (slice(1, None), 1, slice(0, 4, 2)), (2,)),
    ("extra_leading_ones", lambda L: 1, (1, 1, 4, 5)),
    ("ellipsis", lambda L: Ellipsis, (1, 1, 5)),
    ("ellipsis_none", lambda L: (Ellipsis, None), (3, 4, 5, 1)),
    ("list_repeats", lambda L: [0, 0, 2], (5,)),
    ("lists_with_slice", lambda L: ([0, 0, 2], slice(None), [1, 1, 3]), (3, 4)),
    ("mask_0d_value", lambda L: _mask(L, A3), ()),
    ("mask_number", lambda L: _mask(L, A3), -1.0),
    ("slice_mask", lambda L: (slice(None), _mask(L, A3[0])), (1,)),
    ("int_then_list", lambda L: (0, [1, 2]), (1, 2, 5)),
    ("bool_key", lambda L: True, (3, 4, 5)),
]


@pytest.mark.parametrize("name,key,value", SETITEM_CASES, ids=[c[0] for c in SETITEM_CASES])
def test_setitem_matches_torch(torch_ref, name, key, value):
    arrays = [A3] + ([value] if isinstance(value, tuple) else [])

    def fn(L, x, *v):
        y = x * 1
        y[key(L)] = v[0] if v else value
        return y

    compare(torch_ref, fn, *arrays)


# Repeated indices in assignment keep one of the written values, so finite differences are not
# defined there; those cases are compared with torch above.
SETITEM_FD = [c for c in SETITEM_CASES if "repeats" not in c[0] and "lists" not in c[0]]


@pytest.mark.parametrize("name,key,value", SETITEM_FD, ids=[c[0] for c in SETITEM_FD])
def test_setitem_finite_differences(name, key, value):
    shapes = [(3, 4, 5)] + ([value] if isinstance(value, tuple) else [])

    def fn(L, x, *v):
        y = x * 1
        y[key(L)] = v[0] if v else value
        return y

    check_derivatives(lambda *xs: fn(rt, *xs), *shapes)


def test_setitem_clone_pattern_grads():
    x = rt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = rt.tensor(10.0, requires_grad=True)
    y = x.clone()
    y[1] = v * 2
    (y * rt.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 3.0])
    assert v.grad.item() == 4.0
    assert y.tolist() == [1.0, 20.0, 3.0] and _name(y) == "CopySlices"


def test_setitem_without_grad_matches_torch(torch_ref):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((4, 3))
    for key, value in [(1, 5.0), ((slice(None), 0), [1.0, 2.0, 3.0, 4.0]), ([0, 0, 3], 7.0),
                       ((a > 0), -1.0), ((0, [0, 2]), np.array([8.0, 9.0])), (Ellipsis, 1)]:
        t, r = torch_ref.tensor(a), rt.tensor(a)
        ver = r._version
        t[key] = torch_ref.tensor(value) if isinstance(value, (list, np.ndarray)) else value
        r[key] = value
        np.testing.assert_array_equal(r.numpy(), t.numpy())
        assert r._version == ver + 1 and r.grad_fn is None
    ints = rt.zeros(3, dtype=rt.int64)
    ints[rt.tensor([True, False, True])] = 4
    assert ints.tolist() == [4, 0, 4]


def test_setitem_on_leaf_requiring_grad_raises_and_no_grad_allows_it():
    x = rt.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 2.0
    assert x.tolist() == [1.0, 1.0, 1.0] and x._version == 0
    with rt.no_grad():
        x[0] = 2.0
    assert x.tolist() == [2.0, 1.0, 1.0] and x.grad_fn is None and x.requires_grad


def test_setitem_through_view_of_plain_tensor_writes_base():
    base = rt.zeros(2, 3)
    view = base[1]
    view[1:] = rt.tensor([5.0, 6.0])
    assert base.tolist() == [[0.0, 0.0, 0.0], [0.0, 5.0, 6.0]]
    assert base._version == view._version == 1


def test_setitem_bumps_version_and_invalidates_saved_tensors():
    x = rt.ones(3, requires_grad=True)
    y = x * 1
    z = y * y  # saves y
    y[0] = 5.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


SETITEM_ERRORS = [
    ("value_shape", lambda L: 0, lambda L: L.ones(3), RuntimeError),
    ("value_shape_adv", lambda L: [0, 1], lambda L: L.ones(3, 4), RuntimeError),
    ("mask_values", lambda L: L.tensor([True, False, True]), lambda L: L.ones(3, 4), RuntimeError),
    ("oob", lambda L: 7, lambda L: 1.0, IndexError),
    ("oob_list", lambda L: [0, 7], lambda L: 1.0, IndexError),
]


@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("name,key,value,exc", SETITEM_ERRORS, ids=[c[0] for c in SETITEM_ERRORS])
def test_setitem_errors_leave_tensor_unchanged(torch_ref, name, key, value, exc, grad):
    with pytest.raises(exc):
        torch_ref.zeros(3, 4)[key(torch_ref)] = value(torch_ref)
    x = rt.zeros(3, 4, requires_grad=grad) * 1 if grad else rt.zeros(3, 4)
    fn_before = x.grad_fn
    with pytest.raises(exc):
        x[key(rt)] = value(rt)
    assert x._version == 0 and x.grad_fn is fn_before
    assert not np.any(x.detach().numpy())


def test_setitem_into_expanded_tensor_raises():
    x = rt.zeros(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="clone"):
        x[0, 0] = 1.0


# ---- select, narrow, index_select, gather, scatter, masked_fill, take_along_dim, index_put ---


IDX = [[0, 2, 2], [1, 0, 1]]  # with repeats
UNIQUE = [[0, 2, 3], [1, 0, 2]]  # scatter keeps one of repeated writes: no finite differences


OP_CASES = [
    ("select", lambda L, x: x.select(1, -1), (3, 4)),
    ("select_fn", lambda L, x: L.select(x, 0, 2), (3, 4)),
    ("narrow", lambda L, x: x.narrow(1, 1, 2), (3, 4)),
    ("narrow_neg_start", lambda L, x: L.narrow(x, -1, -2, 2), (3, 4)),
    ("narrow_tensor_start", lambda L, x: x.narrow(0, L.tensor(1), 2), (3, 4)),
    ("index_select", lambda L, x: x.index_select(0, L.tensor([2, 0, 2])), (3, 4)),
    ("index_select_dim1", lambda L, x: L.index_select(x, -1, L.tensor([1, 1])), (3, 4)),
    ("index_select_0d_index", lambda L, x: x.index_select(1, L.tensor(3)), (3, 4)),
    ("index_select_0d", lambda L, x: x.index_select(0, L.tensor([0])), ()),
    ("gather_0d", lambda L, x: x.gather(0, L.tensor(0)), ()),
    ("index_select_int32", lambda L, x: x.index_select(0, L.tensor([1], dtype=L.int32)), (3, 4)),
    ("gather", lambda L, x: x.gather(1, L.tensor(IDX)), (2, 4)),
    ("gather_dim0", lambda L, x: L.gather(x, 0, L.tensor([[0, 1, 1, 0]])), (2, 4)),
    ("gather_smaller_index", lambda L, x: x.gather(1, L.tensor([[3], [3]])), (3, 4)),
    ("gather_wide_index", lambda L, x: x.gather(1, L.tensor([[0, 1, 2, 3, 0, 0]])), (3, 4)),
    ("gather_3d", lambda L, x: x.gather(-1, L.tensor([[[0, 1], [1, 1]]])), (2, 2, 3)),
    ("take_along_dim", lambda L, x: L.take_along_dim(x, L.tensor([[0], [2], [1]]), 1), (3, 4)),
    ("take_along_dim_flat", lambda L, x: x.take_along_dim(L.tensor([[5, 0], [11, 5]])), (3, 4)),
    ("take_along_dim_negative", lambda L, x: L.take_along_dim(x, L.tensor([[-1], [0], [-4]]), 1),
     (3, 4)),
    ("take_along_dim_broadcast", lambda L, x: L.take_along_dim(x, L.tensor([[0, 1]]), 1), (3, 4)),
    ("take_along_dim_bcast_x", lambda L, x: L.take_along_dim(x, L.tensor([[0], [1]]), 1), (1, 4)),
    ("scatter", lambda L, x, s: x.scatter(1, L.tensor(UNIQUE), s), (2, 4), (2, 3)),
    ("scatter_value", lambda L, x: x.scatter(1, L.tensor(UNIQUE), 5.0), (2, 4)),
    ("scatter_repeats", lambda L, x: x.scatter(1, L.tensor(IDX), 5.0), (2, 4)),
    ("scatter_add", lambda L, x, s: x.scatter_add(1, L.tensor(IDX), s), (2, 4), (2, 3)),
    ("scatter_add_fn", lambda L, x, s: L.scatter_add(x, 0, L.tensor([[1, 1, 0]]), s), (2, 4),
     (1, 3)),
    ("masked_fill", lambda L, x: x.masked_fill(L.tensor([True, False, True, False]), 2.0),
     (3, 4)),
    ("masked_fill_tensor", lambda L, x, v: L.masked_fill(x, L.tensor([[True], [False]]), v),
     (2, 3), ()),
    ("masked_fill_broadcast", lambda L, x: x.masked_fill(L.ones(2, 1, 3, dtype=L.bool), 1.0),
     (4, 3)),
    ("index_put", lambda L, x, v: x.index_put((L.tensor([2, 0]),), v), (3, 4), (4,)),
    ("index_put_repeats", lambda L, x, v: x.index_put((L.tensor([0, 0, 2]),), v), (3, 4), (4,)),
    ("index_put_accumulate", lambda L, x, v: L.index_put(x, (L.tensor([0, 0]), L.tensor([1, 1])),
                                                         v, accumulate=True), (3, 4), ()),
]


@pytest.mark.parametrize("name,fn,shapes", [(c[0], c[1], c[2:]) for c in OP_CASES],
                         ids=[c[0] for c in OP_CASES])
def test_indexing_op_matches_torch(torch_ref, name, fn, shapes):
    compare(torch_ref, fn, *shapes)


OP_FD = [(c[0], c[1], c[2:]) for c in OP_CASES[::2]
         + [c for c in OP_CASES[1::2] if c[0].startswith(("scatter", "index_put", "masked"))]
         if "repeats" not in c[0]]


@pytest.mark.parametrize("name,fn,shapes", OP_FD, ids=[c[0] for c in OP_FD])
def test_indexing_op_finite_differences(name, fn, shapes):
    check_derivatives(lambda *xs: fn(rt, *xs), *shapes)


def _scatter_part_of_src(op: str):
    def fn(L, x, s):
        return getattr(x, op)(0, L.tensor([[1, 0]]), s)

    return fn


_SCATTER_RNG = np.random.default_rng(0)
SCATTER_X, SCATTER_SRC = _SCATTER_RNG.standard_normal((2, 4)), _SCATTER_RNG.standard_normal((3, 3))


@pytest.mark.parametrize("op", ["scatter", "scatter_add"])
def test_scatter_src_bigger_than_index_matches_torch(torch_ref, op):
    """Only the part of src under index is used. (PyTorch computes the same forward but its
    backward rejects the gradient's shape, so only the forward is compared.)"""
    fn = _scatter_part_of_src(op)
    want = fn(torch_ref, torch_ref.tensor(SCATTER_X), torch_ref.tensor(SCATTER_SRC))
    np.testing.assert_allclose(fn(rt, rt.tensor(SCATTER_X), rt.tensor(SCATTER_SRC)).numpy(),
                               want.numpy())


@pytest.mark.parametrize("op", ["scatter", "scatter_add"])
def test_scatter_src_bigger_than_index_grads(op):
    """The gradient of src is zero outside the part under index."""
    fn = _scatter_part_of_src(op)
    xs = [rt.tensor(SCATTER_X, requires_grad=True), rt.tensor(SCATTER_SRC, requires_grad=True)]
    fn(rt, *xs).sum().backward()
    want_gs = np.zeros((3, 3))
    want_gs[0, :2] = 1.0
    np.testing.assert_array_equal(xs[1].grad.numpy(), want_gs)
    check_derivatives(lambda *xs: fn(rt, *xs), (2, 4), (3, 3))


def test_inplace_variants_match_torch(torch_ref):
    idx = [[0, 2], [1, 1]]

    def fn(L, x, s, v):
        y = x * 1
        y.masked_fill_(L.tensor([True, False, False]), v)
        y.scatter_(1, L.tensor(idx), s)
        y.scatter_add_(0, L.tensor(idx), s)
        y.index_put_((L.tensor([2]),), v * 3, accumulate=True)
        return y

    compare(torch_ref, fn, (3, 3), (2, 2), ())


def test_narrow_and_select_are_views():
    x = rt.zeros(3, 4)
    n, s = x.narrow(1, 1, 2), x.select(0, 1)
    x[1, 2] = 3.0
    assert n[1, 1].item() == 3.0 and s[2].item() == 3.0
    assert n._base is x and s._base is x


OP_ERRORS = [
    ("select_oob", lambda L, x: x.select(0, 3), "out of range"),
    ("narrow_length", lambda L, x: x.narrow(1, 2, 3), "exceeds dimension size"),
    ("narrow_start", lambda L, x: x.narrow(1, 5, 0), "start out of range"),
    ("narrow_negative", lambda L, x: x.narrow(1, 1, -1), "non-negative"),
    ("index_select_2d", lambda L, x: x.index_select(0, L.tensor([[0]])), "vector"),
    ("index_select_oob", lambda L, x: x.index_select(0, L.tensor([5])), "out of range"),
    ("index_select_float", lambda L, x: x.index_select(0, L.tensor([1.0])), "int32 or int64"),
    ("index_select_list", lambda L, x: x.index_select(0, [1]), "must be Tensor"),
    ("gather_ndim", lambda L, x: x.gather(1, L.tensor([0, 1])), "same number of dimensions"),
    ("gather_oob", lambda L, x: x.gather(1, L.tensor([[5]])), "index 5 is out of bounds"),
    ("gather_negative", lambda L, x: x.gather(1, L.tensor([[-1]])), "index -1 is out of bounds"),
    ("scatter_negative", lambda L, x: x.scatter(1, L.tensor([[-1]]), 1.0), "out of bounds"),
    ("index_select_negative", lambda L, x: x.index_select(1, L.tensor([-1])), "out of"),
    ("gather_size", lambda L, x: x.gather(0, L.tensor([[0, 1, 2, 3, 0]])), "Size does not match"),
    ("scatter_src_small", lambda L, x: x.scatter(1, L.tensor([[0], [1]]), L.ones(1, 1)),
     "no larger"),
    ("scatter_dtype", lambda L, x: x.scatter(1, L.tensor([[0]]), L.ones(1, 1, dtype=L.float64)),
     "dtype"),
    ("masked_fill_mask_dtype", lambda L, x: x.masked_fill(L.tensor([1, 0, 1, 0]), 1.0),
     "boolean masks"),
    ("masked_fill_value_dim", lambda L, x: x.masked_fill(L.ones(4, dtype=L.bool), L.ones(1)),
     "0-dimensional value"),
    ("take_along_dim_ndim", lambda L, x: L.take_along_dim(x, L.tensor([0, 1]), 0),
     "same number of dimensions"),
]


@pytest.mark.parametrize("name,fn,phrase", OP_ERRORS, ids=[c[0] for c in OP_ERRORS])
def test_indexing_op_errors_match_torch(torch_ref, name, fn, phrase):
    with pytest.raises(Exception) as et:
        fn(torch_ref, torch_ref.zeros(3, 4))
    with pytest.raises(et.type, match=phrase):
        fn(rt, rt.zeros(3, 4))
