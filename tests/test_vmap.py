"""retrograd.func.vmap against torch.func.vmap on the same float64 data: values and shapes over
the core ops, in_dims / out_dims / nesting / chunks / randomness, PyTorch's errors, and
per-sample gradients (vmap of autograd.grad) against a Python loop and against torch."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rt
import retrograd.nn.functional as RF
from retrograd.autograd import gradcheck, gradgradcheck
from retrograd.func import vmap

B = 3


@pytest.fixture(autouse=True, scope="module")
def _free_levels_after_module():
    """Tracebacks of the expected errors hold vmap levels in reference cycles; collect them so
    that NumPy's converters and Function.apply are the originals again for the next files."""
    yield
    import gc

    gc.collect()


def _both(torch, arrays):
    return ([rt.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays])


def _check(torch, fn, arrays, in_dims=0, out_dims=0, **kw):
    """vmap(fn) on retrograd and torch (fn gets the module and its functional namespace)."""
    ours, theirs = _both(torch, arrays)
    F_t = torch.nn.functional
    got = vmap(lambda *a: fn(rt, RF, *a), in_dims=in_dims, out_dims=out_dims, **kw)(*ours)
    want = torch.func.vmap(lambda *a: fn(torch, F_t, *a), in_dims=in_dims, out_dims=out_dims,
                           **kw)(*theirs)
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert tuple(g.shape) == tuple(w.shape)
        assert g.dtype.name == str(w.dtype).replace("torch.", "")
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)


def _arr(rng, *shape):
    return rng.standard_normal(shape)


# (name, fn(T, F, *inputs), input shapes, in_dims)
CASES = [
    ("sin", lambda T, F, x: T.sin(x), [(B, 4)], 0),
    ("exp_tanh_sigmoid", lambda T, F, x: T.exp(x).tanh() + T.sigmoid(x), [(B, 2, 3)], 0),
    ("relu_gelu", lambda T, F, x: F.relu(x) + F.gelu(x), [(B, 5)], 0),
    ("pow_abs_sqrt", lambda T, F, x: x ** 2 + x.abs().sqrt() - x ** 3, [(B, 4)], 0),
    ("log_softplus", lambda T, F, x: T.log(x.abs() + 1) + F.softplus(x), [(B, 4)], 0),
    ("add_both", lambda T, F, x, y: x + y * 2 - x / (y.abs() + 1), [(B, 4), (B, 4)], 0),
    ("mul_unbatched", lambda T, F, x, y: x * y, [(B, 4), (4,)], (0, None)),
    ("broadcast_lower_rank", lambda T, F, x, y: x + y, [(B, 4), (3, 4)], (0, None)),
    ("broadcast_rank_mix", lambda T, F, x, y: x - y, [(B, 3, 4), (B, 4)], 0),
    ("in_dim_1", lambda T, F, x: x.sum(0), [(4, B, 2)], 1),
    ("in_dim_neg", lambda T, F, x, y: x * y, [(4, B), (B,)], (-1, 0)),
    ("sum_all", lambda T, F, x: x.sum(), [(B, 3, 4)], 0),
    ("sum_dims", lambda T, F, x: x.sum(0) + x.sum(-1, keepdim=True).sum(0), [(B, 3, 4)], 0),
    ("mean_var_std", lambda T, F, x: x.mean(1) + x.var(1) + x.std(0).sum(), [(B, 3, 4)], 0),
    ("max_min", lambda T, F, x: x.max(1)[0] + x.amin(0).sum() + x.max(), [(B, 3, 4)], 0),
    ("argmax", lambda T, F, x: x.argmax(1).double() + x.argmax(), [(B, 3, 4)], 0),
    ("softmax", lambda T, F, x: T.softmax(x, -1) + F.log_softmax(x, 0), [(B, 3, 4)], 0),
    ("logsumexp", lambda T, F, x: T.logsumexp(x, 1), [(B, 3, 4)], 0),
    ("view_reshape", lambda T, F, x: x.view(-1) + x.reshape(2, -1).reshape(6), [(B, 3, 2)], 0),
    ("transpose_permute", lambda T, F, x: x.transpose(0, 1) + x.permute(1, 0).contiguous(),
     [(B, 3, 3)], 0),
    ("unsqueeze_squeeze", lambda T, F, x: x.unsqueeze(0).unsqueeze(-1).squeeze(), [(B, 3)], 0),
    ("flatten_t", lambda T, F, x: x.flatten() + x.t().flatten(), [(B, 2, 2)], 0),
    ("expand", lambda T, F, x: x.unsqueeze(0).expand(3, 4) * 1, [(B, 4)], 0),
    ("basic_index", lambda T, F, x: x[0] + x[:, 1].sum() + x[..., ::2].sum() + x[None, 1, 0],
     [(B, 3, 4)], 0),
    ("index_unbatched_tensor", lambda T, F, x, i: x[i], [(B, 5), None], (0, None)),
    ("index_batched_tensor", lambda T, F, x, i: x[i], [(B, 5), "idx"], 0),
    ("index_batched_2d", lambda T, F, x, i: x[:, i], [(B, 4, 5), "idx"], 0),
    ("mm_batched_left", lambda T, F, x, w: x @ w, [(B, 2, 4), (4, 3)], (0, None)),
    ("mm_batched_right", lambda T, F, w, x: w @ x, [(2, 4), (B, 4, 3)], (None, 0)),
    ("mm_both", lambda T, F, x, y: T.mm(x, y), [(B, 2, 4), (B, 4, 3)], 0),
    ("mv_dot", lambda T, F, m, v: T.mv(m, v) + T.dot(v, v), [(B, 3, 3), (B, 3)], 0),
    ("vec_mat", lambda T, F, v, m: v @ m, [(B, 4), (4, 3)], (0, None)),
    ("mat_vec_unbatched_mat", lambda T, F, m, v: m @ v, [(3, 4), (B, 4)], (None, 0)),
    ("matmul_3d", lambda T, F, x, y: T.matmul(x, y), [(B, 2, 3, 4), (4, 5)], (0, None)),
    ("bmm", lambda T, F, x, y: T.bmm(x, y), [(B, 2, 3, 4), (B, 2, 4, 2)], 0),
    ("linear", lambda T, F, x, w, b: F.linear(x, w, b), [(B, 4), (3, 4), (3,)],
     (0, None, None)),
    ("linear_batched_weight", lambda T, F, x, w: F.linear(x, w), [(B, 2, 4), (B, 3, 4)], 0),
    ("einsum", lambda T, F, x, y: T.einsum("ij,jk->ik", x, y), [(B, 2, 3), (3, 4)], (0, None)),
    ("cat_stack", lambda T, F, x, y: T.cat([x, y], 0) + T.stack([x, y], 1).sum(1).repeat(2),
     [(B, 3), (3,)], (0, None)),
    ("where_clamp", lambda T, F, x, y: T.where(x > 0, x, y).clamp(-0.5, 0.5), [(B, 4), (4,)],
     (0, None)),
    ("mse_loss", lambda T, F, x, y: F.mse_loss(x, y), [(B, 4), (B, 4)], 0),
    ("mse_loss_none", lambda T, F, x, y: F.mse_loss(x, y, reduction="none"), [(B, 4), (4,)],
     (0, None)),
    ("cross_entropy_per_sample", lambda T, F, x, t: F.cross_entropy(x, t), [(B, 5), "target0"],
     0),
    ("cross_entropy_rows", lambda T, F, x, t: F.cross_entropy(x, t), [(B, 2, 5), "target1"], 0),
    ("nll_log_softmax", lambda T, F, x, t: F.nll_loss(F.log_softmax(x, -1), t),
     [(B, 2, 5), "target1"], 0),
    ("layer_norm", lambda T, F, x: F.layer_norm(x, (4,)), [(B, 3, 4)], 0),
    ("clone_inplace_on_batched", lambda T, F, x: x.clone().mul_(2).add_(1), [(B, 4)], 0),
    ("setitem_on_batched", lambda T, F, x, v: _set(x.clone(), (slice(None), 1), v),
     [(B, 3, 4), (B, 3)], 0),
    ("cumsum_sort_topk", lambda T, F, x: x.cumsum(1) + x.sort(1)[0] + x.topk(4, 1)[0],
     [(B, 3, 4)], 0),
    ("gather", lambda T, F, x, i: x.gather(1, i), [(B, 4, 5), "idx3"], 0),
    ("masked_fill_index_select", lambda T, F, x: x.masked_fill(x > 0, 0.5).index_select(
        1, T.tensor([0, 2])), [(B, 3, 4)], 0),
    ("pooling", lambda T, F, x: F.max_pool2d(x, 2) + F.avg_pool2d(x, 2), [(B, 2, 4, 4)], 0),
    # no batching rule in the kernel: run once per sample (Note [Functions without a ...])
    ("conv2d_fallback", lambda T, F, x, w: F.conv2d(x, w, padding=1), [(B, 2, 5, 5), (3, 2, 3, 3)],
     (0, None)),
    ("embedding_fallback", lambda T, F, i, w: F.embedding(i, w), ["idx", (5, 3)], (0, None)),
]


def _set(x, key, v):
    x[key] = v
    return x


def _inputs(rng, shapes):
    out = []
    for s in shapes:
        if s is None:
            out.append(np.array([0, 2, 2, 4]))
        elif s == "idx":
            out.append(rng.integers(0, 5, (B, 2)))
        elif s == "idx3":
            out.append(rng.integers(0, 5, (B, 4, 2)))
        elif s == "target0":
            out.append(rng.integers(0, 5, (B,)))
        elif s == "target1":
            out.append(rng.integers(0, 5, (B, 2)))
        else:
            out.append(_arr(rng, *s))
    return out


@pytest.mark.parametrize("name,fn,shapes,in_dims", CASES, ids=[c[0] for c in CASES])
def test_ops_match_torch(torch_ref, rng, name, fn, shapes, in_dims):
    _check(torch_ref, fn, _inputs(rng, shapes), in_dims=in_dims)


def test_nested_in_dims_and_pytrees(torch_ref, rng):
    x, y = _arr(rng, B, 4), _arr(rng, 4)
    _check(torch_ref, lambda T, F, d, s: d["a"] * d["b"] + s[0].sum(),
           [], in_dims=None) if False else None
    ours = vmap(lambda d, s: d["a"] * d["b"] + s[0].sum(), in_dims=({"a": 0, "b": None}, (1,)))(
        {"a": rt.tensor(x), "b": rt.tensor(y)}, (rt.tensor(x.T),))
    theirs = torch_ref.func.vmap(lambda d, s: d["a"] * d["b"] + s[0].sum(),
                                 in_dims=({"a": 0, "b": None}, (1,)))(
        {"a": torch_ref.tensor(x), "b": torch_ref.tensor(y)}, (torch_ref.tensor(x.T),))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("out_dims", [1, -1, (0, 1), (None, 2)])
def test_out_dims(torch_ref, rng, out_dims):
    def fn(T, F, x, y):
        return (y * 2, x * y) if out_dims == (None, 2) else (x.exp(), x * y)
    x, y = _arr(rng, B, 2, 3), _arr(rng, 2, 3)
    _check(torch_ref, fn, [x, y], in_dims=(0, None), out_dims=out_dims)


def test_unbatched_output_is_repeated(torch_ref, rng):
    _check(torch_ref, lambda T, F, x, y: y + 1, [_arr(rng, B, 2), _arr(rng, 2)], in_dims=(0, None))


def test_nesting(torch_ref, rng):
    x, y = _arr(rng, B, 4), _arr(rng, 5, 4)
    # outer products of every pair of rows, and a doubly batched reduction
    f = vmap(vmap(lambda a, b: (a * b).sum(), in_dims=(None, 0)), in_dims=(0, None))
    tf = torch_ref.func.vmap(torch_ref.func.vmap(lambda a, b: (a * b).sum(), in_dims=(None, 0)),
                             in_dims=(0, None))
    np.testing.assert_allclose(f(rt.tensor(x), rt.tensor(y)).numpy(),
                               tf(torch_ref.tensor(x), torch_ref.tensor(y)).numpy(), rtol=1e-12)
    z = _arr(rng, B, 5, 2, 3)
    g = vmap(vmap(lambda a: a @ a.t(), in_dims=1), in_dims=0)
    tg = torch_ref.func.vmap(torch_ref.func.vmap(lambda a: a @ a.t(), in_dims=1), in_dims=0)
    got, want = g(rt.tensor(z).transpose(1, 2)), tg(torch_ref.tensor(z).transpose(1, 2))
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_chunk_size_gives_the_same(rng):
    x = rt.tensor(_arr(rng, 7, 3))
    w = rt.tensor(_arr(rng, 3, 2))
    full = vmap(lambda a: (a @ w).tanh())(x)
    for chunk in (1, 3, 7, 100):
        np.testing.assert_allclose(vmap(lambda a: (a @ w).tanh(), chunk_size=chunk)(x).numpy(),
                                   full.numpy())


def test_randomness():
    x = rt.zeros(4, 3)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda a: a + rt.randn(3))(x)
    same = vmap(lambda a: a + rt.randn(3), randomness="same")(x)
    assert np.allclose(same.numpy(), same.numpy()[0])
    diff = vmap(lambda a: a + rt.rand(3), randomness="different")(x)
    assert diff.shape == (4, 3) and not np.allclose(diff.numpy(), diff.numpy()[0])
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        vmap(lambda a: a, randomness="sometimes")(x)
    assert rt.randn(2).shape == (2,)  # the generator is back after vmap


# ---- errors: PyTorch's types (and the gist of its messages) ---------------------------------


ERRORS = [
    ("batch_sizes", lambda T, V: V(T.add)(T.ones(3, 4), T.ones(2, 4)), ValueError,
     "same size in the mapped dimension"),
    ("in_dim_too_big", lambda T, V: V(T.sin, in_dims=2)(T.ones(3, 4)), ValueError,
     "expected in_dim to satisfy -2 <= in_dim < 2"),
    ("in_dim_too_small", lambda T, V: V(T.sin, in_dims=-3)(T.ones(3, 4)), ValueError,
     "in_dim=-3"),
    ("in_dim_0d", lambda T, V: V(T.sin)(T.ones(())), ValueError, "dimensionality 0"),
    ("in_dims_structure", lambda T, V: V(T.add, in_dims=(0,))(T.ones(3), T.ones(3)), ValueError,
     "not compatible with the structure of `inputs`"),
    ("in_dims_list", lambda T, V: V(T.add, in_dims=[0, 0])(T.ones(3), T.ones(3)), ValueError,
     "expected `in_dims` to be int or a"),
    ("in_dim_float", lambda T, V: V(T.add, in_dims=(0.5, 0))(T.ones(3), T.ones(3)), ValueError,
     "must be either an integer dimension or None"),
    ("in_dim_non_tensor", lambda T, V: V(lambda a, b: a * b)(T.ones(3), 2.0), ValueError,
     "We cannot vmap over non-Tensor arguments"),
    ("no_inputs", lambda T, V: V(lambda: T.ones(3))(), ValueError, "got no inputs"),
    ("returns_number", lambda T, V: V(lambda a: 3)(T.ones(3)), ValueError,
     "must only return Tensors, got type <class 'int'>"),
    ("returns_tuple_with_number", lambda T, V: V(lambda a: (a, 3))(T.ones(3)), ValueError,
     "must only return Tensors"),
    ("out_dims_structure", lambda T, V: V(lambda a: (a, a), out_dims=(0, 0, 0))(T.ones(3)),
     ValueError, "out_dims is not compatible with the structure of `outputs`"),
    ("out_dims_type", lambda T, V: V(lambda a: a, out_dims=1.5)(T.ones(3)), ValueError,
     "`out_dims` must be an int, None or a python collection"),
    ("out_dim_range", lambda T, V: V(lambda a: a, out_dims=2)(T.ones(3, 4)), IndexError,
     "Dimension out of range"),
    ("inplace_into_unbatched", lambda T, V: V(lambda a: T.zeros(4).add_(a))(T.ones(3, 4)),
     RuntimeError, "in-place"),
    ("copy_into_unbatched", lambda T, V: V(lambda a: T.zeros(4).copy_(a))(T.ones(3, 4)),
     RuntimeError, "in-place|batched"),
    ("setitem_into_unbatched", lambda T, V: V(lambda a: T.zeros(4).__setitem__(0, a[0]))(
        T.ones(3, 4)), RuntimeError, "batched"),
    ("item", lambda T, V: V(lambda a: a.sum().item())(T.ones(3, 4)), RuntimeError, "item()"),
    ("control_flow", lambda T, V: V(lambda a: a if a.sum() > 0 else -a)(
        T.tensor([[1.0], [-1.0]])), RuntimeError, "vmap"),
    ("chunk_size_0", lambda T, V: V(T.sin, chunk_size=0)(T.ones(3)), ValueError,
     "chunk_size should be None or greater than 0"),
]


@pytest.mark.parametrize("name,call,exc,match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(name, call, exc, match):
    with pytest.raises(exc, match=match):
        call(rt, vmap)


@pytest.mark.parametrize("name,call,exc,match", ERRORS, ids=[e[0] for e in ERRORS])
def test_torch_raises_the_same_type(torch_ref, name, call, exc, match):
    with pytest.raises(exc):
        call(torch_ref, torch_ref.func.vmap)


def test_error_leaves_no_level_behind():
    import gc

    from retrograd.autograd.function import Function
    from retrograd.func import _vmap

    gc.collect()
    before = _vmap._live[0]
    with pytest.raises(ValueError):
        vmap(lambda a: 3)(rt.ones(3))
    gc.collect()  # (the traceback's frames held the level)
    assert _vmap._live[0] == before
    out = vmap(lambda a: a * 2)(rt.ones(3, requires_grad=True))
    assert _vmap._live[0] == before + 1  # kept alive by out's graph
    del out
    gc.collect()
    assert _vmap._live[0] == before and not _vmap._levels
    if before == 0:  # NumPy's converters and Function.apply are the originals again
        assert not hasattr(np.asarray, "__wrapped__")
        assert Function.__dict__["apply"].__func__.__name__ == "apply"


# ---- gradients -----------------------------------------------------------------------------


def _mlp_data(rng, n=6, d=5, h=7, c=4):
    shapes = [(h, d), (h,), (c, h), (c,)]
    params = [rng.standard_normal(s) * 0.5 for s in shapes]
    return params, rng.standard_normal((n, d)), rng.integers(0, c, n)


def _loss(T, F, p, x, y):
    h = F.relu(F.linear(x, p[0], p[1]))
    return F.cross_entropy(F.linear(h, p[2], p[3]), y)


def test_per_sample_grads_equal_a_python_loop(rng):
    params, x, y = _mlp_data(rng)
    p = [rt.tensor(a, requires_grad=True) for a in params]
    xs, ys = rt.tensor(x), rt.tensor(y)

    def per_sample(p, xb, yb):
        return rt.autograd.grad(_loss(rt, RF, p, xb, yb), p)

    got = vmap(per_sample, in_dims=(None, 0, 0))(p, xs, ys)
    for j, g in enumerate(got):
        want = np.stack([per_sample(p, xs[i], ys[i])[j].numpy() for i in range(len(x))])
        assert g.shape == want.shape
        np.testing.assert_allclose(g.numpy(), want, rtol=1e-10, atol=1e-12)
    assert all(t.grad is None for t in p)  # autograd.grad touched no .grad


def test_per_sample_grads_match_torch_func(torch_ref, rng):
    params, x, y = _mlp_data(rng)
    p = [rt.tensor(a, requires_grad=True) for a in params]
    got = vmap(lambda p, xb, yb: rt.autograd.grad(_loss(rt, RF, p, xb, yb), p),
               in_dims=(None, 0, 0))(p, rt.tensor(x), rt.tensor(y))
    tp = [torch_ref.tensor(a) for a in params]
    want = torch_ref.func.vmap(
        torch_ref.func.grad(lambda p, xb, yb: _loss(torch_ref, torch_ref.nn.functional, p, xb,
                                                    yb)), in_dims=(None, 0, 0))(
        tp, torch_ref.tensor(x), torch_ref.tensor(y))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-10, atol=1e-12)


def test_with_func_grad_when_present(rng):
    import retrograd.func as func

    if not hasattr(func, "grad"):
        pytest.skip("retrograd.func.grad is not in this branch")
    params, x, y = _mlp_data(rng)
    p = [rt.tensor(a) for a in params]
    got = vmap(func.grad(lambda p, xb, yb: _loss(rt, RF, p, xb, yb)), in_dims=(None, 0, 0))(
        p, rt.tensor(x), rt.tensor(y))
    for j, g in enumerate(got):
        want = np.stack([func.grad(lambda p, xb, yb: _loss(rt, RF, p, xb, yb))(
            p, rt.tensor(x[i]), rt.tensor(y[i]))[j].numpy() for i in range(len(x))])
        np.testing.assert_allclose(g.numpy(), want, rtol=1e-10, atol=1e-12)


def test_backward_after_vmap_sums_over_samples(torch_ref, rng):
    params, x, y = _mlp_data(rng)
    p = [rt.tensor(a, requires_grad=True) for a in params]
    xs = rt.tensor(x, requires_grad=True)
    out = vmap(lambda xb, yb: _loss(rt, RF, p, xb, yb))(xs, rt.tensor(y))
    (out * rt.arange(len(x), dtype=rt.float64)).sum().backward()
    tp = [torch_ref.tensor(a, requires_grad=True) for a in params]
    tx = torch_ref.tensor(x, requires_grad=True)
    tout = torch_ref.func.vmap(
        lambda xb, yb: _loss(torch_ref, torch_ref.nn.functional, tp, xb, yb))(
        tx, torch_ref.tensor(y))
    (tout * torch_ref.arange(len(x), dtype=torch_ref.float64)).sum().backward()
    for a, b in zip(p + [xs], tp + [tx]):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_backward_inside_vmap_into_shared_tensor_raises():
    w = rt.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="backward"):
        vmap(lambda a: (a * w).sum().backward())(rt.ones(2, 3))
    assert w.grad is None


def test_grad_w_r_t_batched_input_inside_vmap(rng):
    x = rt.tensor(_arr(rng, 4, 3))

    def f(a):
        a = a.detach().requires_grad_()
        return rt.autograd.grad((a.sin() * a).sum(), a)[0]

    want = (x.sin() + x * x.cos()).numpy()
    np.testing.assert_allclose(vmap(f)(x).numpy(), want, rtol=1e-12)


def test_vmapped_function_gradchecks(rng):
    w = rt.tensor(_arr(rng, 3, 2), requires_grad=True)
    x = rt.tensor(_arr(rng, 4, 3), requires_grad=True)

    def f(x, w):
        return vmap(lambda a: (a @ w).tanh().pow(2).sum() * a[0], in_dims=0)(x)

    assert gradcheck(f, (x, w))
    assert gradgradcheck(f, (x, w))


def test_per_sample_hessian_vector_product_with_create_graph(rng):
    w = rt.tensor(_arr(rng, 3), requires_grad=True)
    x = rt.tensor(_arr(rng, 4, 3))

    def f(a):
        g = rt.autograd.grad(((a * w).sum()) ** 3, w, create_graph=True)[0]
        return rt.autograd.grad(g.sum(), w)[0]

    got = vmap(f)(x).numpy()
    xn, wn = x.numpy(), w.detach().numpy()
    want = np.stack([6 * (r @ wn) * r * r.sum() for r in xn])
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_per_sample_grads_of_a_cnn_match_torch_func(torch_ref, rng):
    # conv2d has no batching rule: it runs per sample, and its gradients flow through that
    params = [rng.standard_normal(s) * 0.3 for s in [(3, 1, 3, 3), (3,), (4, 3), (4,)]]
    x, y = rng.standard_normal((4, 1, 4, 4)), rng.integers(0, 4, 4)

    def loss(T, F, p, xb, yb):
        h = F.max_pool2d(F.relu(F.conv2d(xb, p[0], p[1])), 2).reshape(-1)
        return F.cross_entropy(F.linear(h, p[2], p[3]), yb)

    p = [rt.tensor(a, requires_grad=True) for a in params]
    got = vmap(lambda p, xb, yb: rt.autograd.grad(loss(rt, RF, p, xb, yb), p),
               in_dims=(None, 0, 0))(p, rt.tensor(x), rt.tensor(y))
    want = torch_ref.func.vmap(torch_ref.func.grad(
        lambda p, xb, yb: loss(torch_ref, torch_ref.nn.functional, p, xb, yb)),
        in_dims=(None, 0, 0))([torch_ref.tensor(a) for a in params], torch_ref.tensor(x),
                              torch_ref.tensor(y))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-10, atol=1e-12)


def test_jacobian_rows_by_vmap_over_grad_outputs(torch_ref, rng):
    # the graph is recorded outside vmap; its backward formulas run on a batch of vectors
    xn = rng.standard_normal(4)
    x = rt.tensor(xn, requires_grad=True)
    y = (x.sin() * x.sum()).tanh()
    jac = vmap(lambda v: rt.autograd.grad(y, x, v, retain_graph=True)[0])(
        rt.eye(4, dtype=rt.float64))
    want = torch_ref.autograd.functional.jacobian(lambda a: (a.sin() * a.sum()).tanh(),
                                                  torch_ref.tensor(xn))
    np.testing.assert_allclose(jac.numpy(), want.numpy(), rtol=1e-12, atol=1e-14)


def test_nested_per_sample_grads(rng):
    w = rt.tensor(rng.standard_normal(3), requires_grad=True)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(5)
    inner = vmap(lambda a, b: rt.autograd.grad((a * w).sum() * b, w)[0], in_dims=(None, 0))
    got = vmap(inner, in_dims=(0, None))(rt.tensor(a), rt.tensor(b))
    np.testing.assert_allclose(got.numpy(), a[:, None, :] * b[None, :, None], rtol=1e-12)


def test_module_and_dropout(rng):
    model = rt.nn.Sequential(rt.nn.Linear(4, 8), rt.nn.ReLU(), rt.nn.Linear(8, 2)).double()
    xs = rt.tensor(rng.standard_normal((5, 4)))
    np.testing.assert_allclose(vmap(model)(xs).detach().numpy(), model(xs).detach().numpy(),
                               rtol=1e-12)
    drop = vmap(lambda a: RF.dropout(a, 0.5), randomness="different")(
        rt.ones(16, 32, dtype=rt.float64))
    kept = (drop.numpy() != 0).sum(1)
    assert set(np.unique(drop.numpy())) <= {0.0, 2.0} and len(set(kept.tolist())) > 1
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda a: RF.dropout(a, 0.5))(rt.ones(2, 3))
    bn = rt.nn.BatchNorm1d(4).double()  # training mode writes running stats: per sample, no
    with pytest.raises(RuntimeError):
        vmap(bn)(rt.tensor(rng.standard_normal((3, 5, 4))))


LOSSES = {
    "nll": lambda F, o, t, y: F.nll_loss(F.log_softmax(o, -1), t),
    "cross_entropy_smoothing": lambda F, o, t, y: F.cross_entropy(o, t, label_smoothing=0.1),
    "mse": lambda F, o, t, y: F.mse_loss(o, y),
    "bce_with_logits": lambda F, o, t, y: F.binary_cross_entropy_with_logits(o, y),
    "bce": lambda F, o, t, y: F.binary_cross_entropy(o.sigmoid(), y),
    "smooth_l1": lambda F, o, t, y: F.smooth_l1_loss(o, y),
    "huber": lambda F, o, t, y: F.huber_loss(o, y),
    "l1": lambda F, o, t, y: F.l1_loss(o, y),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_per_sample_grads_of_losses_match_torch(torch_ref, rng, name):
    lossf = LOSSES[name]
    xn, wn = rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    tn, yn = rng.integers(0, 4, 3), rng.random((3, 4))
    w = rt.tensor(wn, requires_grad=True)
    got = vmap(lambda x, t, y: rt.autograd.grad(lossf(RF, RF.linear(x, w), t, y), w)[0])(
        rt.tensor(xn), rt.tensor(tn), rt.tensor(yn))
    F = torch_ref.nn.functional
    per_sample = torch_ref.func.grad(lambda w, x, t, y: lossf(F, F.linear(x, w), t, y))
    want = torch_ref.func.vmap(per_sample, in_dims=(None, 0, 0, 0))(
        torch_ref.tensor(wn), torch_ref.tensor(xn), torch_ref.tensor(tn), torch_ref.tensor(yn))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)


def test_printing_inside_vmap_matches_torch(torch_ref):
    def printed(lib, v):
        seen = []
        v(lambda a: seen.append(repr(a)) or a)(lib.arange(6.0).reshape(2, 3))
        v(v(lambda a: seen.append(str(a)) or a))(lib.arange(4.0).reshape(2, 2))
        return seen

    assert printed(rt, vmap) == printed(torch_ref, torch_ref.func.vmap)
