"""Issue 11 kernels for embeddings, layer norm and the elementwise activations: each gives
what the plain kernel (or PyTorch) gives."""

import numpy as np
import pytest

import retrograd
from retrograd.ops.nn.row_sums import MAX_LEVELS, add_rows_at


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["random", "one-index", "positions", "many-repeats"])
def test_rows_added_by_levels_equal_np_add_at_bitwise(kind, dtype):
    rng = np.random.default_rng(3)
    num, n = 12, 70
    idx = {"random": rng.integers(0, num, n), "one-index": np.full(n, 4),
           "positions": np.tile(np.arange(7), 10),
           "many-repeats": np.concatenate([rng.integers(0, num, 20),
                                           np.full(3 * MAX_LEVELS, 2)])}[kind]
    rows = rng.standard_normal((idx.size, 8, 4)).astype(dtype)  # wide enough for levels
    rows[5, 0, 0] = np.inf
    rows[9, 1, 1] = -0.0
    rows[11, 2, 0] = np.nan
    want = np.zeros((num, 8, 4), dtype)
    np.add.at(want, idx, rows)
    got = np.zeros((num, 8, 4), dtype)
    add_rows_at(got, idx, rows)
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))


def test_embedding_gradient_with_repeats_matches_torch(torch_ref):
    rng = np.random.default_rng(4)
    w = rng.standard_normal((50, 16)).astype(np.float32)
    idx = rng.integers(0, 50, (6, 40))
    g = rng.standard_normal((6, 40, 16)).astype(np.float32)
    x = retrograd.tensor(w, requires_grad=True)
    tx = torch_ref.tensor(w, requires_grad=True)
    retrograd.nn.functional.embedding(retrograd.tensor(idx), x).backward(retrograd.tensor(g))
    torch_ref.nn.functional.embedding(torch_ref.tensor(idx), tx).backward(torch_ref.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_layer_norm_row_kernels_run_twice_under_retain_graph(torch_ref):
    # the fast backward reads forward's saved rows: a second backward must find them intact
    rng = np.random.default_rng(5)
    a = (rng.standard_normal((4, 5, 32)) * 3 + 100).astype(np.float32)  # a large mean
    g = rng.standard_normal((4, 5, 32)).astype(np.float32)
    ln, tln = retrograd.nn.LayerNorm(32), torch_ref.nn.LayerNorm(32)
    x = retrograd.tensor(a, requires_grad=True)
    tx = torch_ref.tensor(a, requires_grad=True)
    out, tout = ln(x), tln(tx)
    for _ in range(2):
        out.backward(retrograd.tensor(g), retain_graph=True)
        tout.backward(torch_ref.tensor(g), retain_graph=True)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    for p, tp in ((ln.weight, tln.weight), (ln.bias, tln.bias)):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-4)
    with pytest.raises(RuntimeError, match="second time"):
        y = ln(x)
        y.sum().backward()
        y.sum().backward()


def _erf64(x):
    from retrograd.ops.erf import erf_array
    return erf_array(np.asarray(x, dtype=np.float64))


def test_float32_erf_is_within_8_ulp_on_a_dense_grid_and_the_tails():
    from retrograd.ops.erf_f32 import erf_f32
    grid = np.concatenate([np.linspace(0, 6, 1_000_001, dtype=np.float32),
                           (10.0 ** np.linspace(-45, 0.7, 100_001)).astype(np.float32),
                           np.array([3.9199998, 3.92, 3.9200001, 10, 1e30], np.float32)])
    grid = np.concatenate([grid, -grid])
    ref = _erf64(grid)
    got = erf_f32(grid).astype(np.float64)
    ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    assert (np.abs(got - ref) / ulp).max() <= 8
    assert np.abs(got).max() <= 1
    special = erf_f32(np.array([np.nan, np.inf, -np.inf, -0.0, 0.0], np.float32))
    np.testing.assert_array_equal(special, [np.nan, 1, -1, 0, 0])
    assert np.signbit(special[3]) and not np.signbit(special[4])


@pytest.mark.parametrize("n", [1, 5, 100_003])
def test_float32_gelu_kernels_agree_with_float64(n):
    # chunked kernels: sizes below, at and across chunk boundaries
    rng = np.random.default_rng(n)
    a = (rng.standard_normal(n) * 3).astype(np.float32)
    g = rng.standard_normal(n).astype(np.float32)
    x = retrograd.tensor(a, requires_grad=True)
    x64 = retrograd.tensor(a.astype(np.float64), requires_grad=True)
    out = retrograd.nn.functional.gelu(x)
    out64 = retrograd.nn.functional.gelu(x64)
    out.backward(retrograd.tensor(g))
    out64.backward(retrograd.tensor(g.astype(np.float64)))
    assert out.dtype == retrograd.float32 and x.grad.dtype == retrograd.float32
    np.testing.assert_allclose(out.detach().numpy(), out64.detach().numpy(), rtol=1e-6,
                               atol=2e-6)
    np.testing.assert_allclose(x.grad.numpy(), x64.grad.numpy(), rtol=1e-6, atol=2e-6)
    # a broadcast incoming gradient (from sum) takes the scalar path
    y = retrograd.tensor(a, requires_grad=True)
    y64 = retrograd.tensor(a.astype(np.float64), requires_grad=True)
    retrograd.nn.functional.gelu(y).sum().backward()
    retrograd.nn.functional.gelu(y64).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), y64.grad.numpy(), rtol=1e-6, atol=2e-6)


def test_float32_gelu_matches_torch_on_many_values(torch_ref):
    rng = np.random.default_rng(6)
    a = (rng.standard_normal(70_000) * 4).astype(np.float32)
    a[:3] = [np.nan, -0.0, 1e-30]  # (PyTorch's float32 gelu(inf) is NaN; ours is inf)
    x = retrograd.tensor(a, requires_grad=True)
    tx = torch_ref.tensor(a, requires_grad=True)
    out = retrograd.nn.functional.gelu(x)
    tout = torch_ref.nn.functional.gelu(tx)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=2e-6,
                               atol=2e-6)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(retrograd.erf(x).detach().numpy(),
                               torch_ref.erf(tx).detach().numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("kind", ["narrow", "wide", "masked", "nan", "float64"])
def test_large_softmax_row_kernels_match_torch(torch_ref, kind):
    # above softmax_rows.MIN_SIZE, over the last dim: the global-shift path ("narrow",
    # "float64") and the per-row max path (a wide range, -inf masks, NaN)
    rng = np.random.default_rng(7)
    dtype = np.float64 if kind == "float64" else np.float32
    a = rng.standard_normal((8, 40, 64)).astype(dtype)
    if kind == "wide":
        a[3] *= 60
    elif kind == "masked":
        a[..., 50:] = -np.inf
        a[2, 5] = -np.inf  # a row of -inf only: NaN, as in PyTorch
    elif kind == "nan":
        a[1, 2, 3] = np.nan
    g = rng.standard_normal((8, 64, 40)).astype(dtype).transpose(0, 2, 1)  # not contiguous
    x = retrograd.tensor(a, requires_grad=True)
    tx = torch_ref.tensor(a, requires_grad=True)
    out = retrograd.softmax(x, -1)
    tout = torch_ref.softmax(tx, -1)
    out.backward(retrograd.tensor(g))
    tout.backward(torch_ref.tensor(g))
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=tol * 5,
                               atol=tol)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol * 5, atol=tol)


def test_large_attention_matches_torch(torch_ref):
    # (2, 2, 96, 96) scores: SDPA's fast backward takes the softmax row kernels
    rng = np.random.default_rng(8)
    q, k, v, g = (rng.standard_normal((2, 2, 96, 16)).astype(np.float32) for _ in range(4))
    ins = [retrograd.tensor(a, requires_grad=True) for a in (q, k, v)]
    tins = [torch_ref.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = retrograd.nn.functional.scaled_dot_product_attention(*ins, is_causal=True)
    tout = torch_ref.nn.functional.scaled_dot_product_attention(*tins, is_causal=True)
    out.backward(retrograd.tensor(g))
    tout.backward(torch_ref.tensor(g))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5,
                               atol=1e-5)
    for t, tt in zip(ins, tins):
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("spread", [1.0, 50.0])
def test_cross_entropy_log_softmax_rows_match_torch(torch_ref, spread):
    # spread 1: shifted by the global max; 50: the span is too wide, each row by its own max
    rng = np.random.default_rng(9)
    a = (rng.standard_normal((300, 40)) * spread).astype(np.float32)
    y = rng.integers(0, 40, 300)
    x = retrograd.tensor(a, requires_grad=True)
    tx = torch_ref.tensor(a, requires_grad=True)
    loss = retrograd.nn.functional.cross_entropy(x, retrograd.tensor(y), label_smoothing=0.1)
    tloss = torch_ref.nn.functional.cross_entropy(tx, torch_ref.tensor(y), label_smoothing=0.1)
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_chunked_gelu_tanh_matches_torch(torch_ref, dtype):
    from retrograd.ops.gelu_tanh import MIN_SIZE
    rng = np.random.default_rng(10)
    a = (rng.standard_normal(MIN_SIZE + 1001) * 3).astype(dtype)
    g = rng.standard_normal(a.size).astype(dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12  # (PyTorch's float32 is 3e-6 from exact)
    for grad in (g, None):  # a full incoming gradient, and sum's broadcast one
        x = retrograd.tensor(a, requires_grad=True)
        tx = torch_ref.tensor(a, requires_grad=True)
        out = retrograd.nn.functional.gelu(x, approximate="tanh")
        tout = torch_ref.nn.functional.gelu(tx, approximate="tanh")
        if grad is None:
            out.sum().backward()
            tout.sum().backward()
        else:
            out.backward(retrograd.tensor(grad))
            tout.backward(torch_ref.tensor(grad))
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=tol,
                                   atol=tol)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)


def test_row_kernels_leave_vmap_batches_to_their_rules():
    # a vmap batch never takes the global-shift or chunked paths (its max would mix samples)
    from retrograd.func import vmap
    rng = np.random.default_rng(11)
    x = retrograd.tensor((rng.standard_normal((3, 300, 40)) * [[[1]], [[30]], [[1]]])
                         .astype(np.float32))
    y = retrograd.tensor(rng.integers(0, 40, (3, 300)))
    got = vmap(retrograd.nn.functional.cross_entropy)(x, y).numpy()
    want = [retrograd.nn.functional.cross_entropy(x[i], y[i]).item() for i in range(3)]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    a = retrograd.tensor(rng.standard_normal((2, 140_000)).astype(np.float32))
    for approximate in ("none", "tanh"):
        got = vmap(lambda t, mode=approximate: retrograd.nn.functional.gelu(t, approximate=mode))(a)
        want = retrograd.nn.functional.gelu(a, approximate=approximate)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)
