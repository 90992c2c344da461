"""The fast kernels of issue 11 give what the plain ones gave: in-place gradient sums never
write to arrays the engine did not make, the in-place GELU and normalization kernels match
PyTorch (0-d and half precision too), and the small-batch product is row-major."""

import numpy as np
import pytest

import retrograd
from retrograd.backend import matmul2d


def test_in_place_sums_leave_the_callers_gradient_alone():
    # x + x + x: Add's backward hands the incoming gradient (the caller's array) to both
    # inputs, so the first buffered value is the caller's own array; later sums must not
    # write into it.
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    g = retrograd.tensor([1.0, 10.0])
    before = g.numpy().copy()
    out = x + x + x + x
    out.backward(g)
    np.testing.assert_array_equal(g.numpy(), before)
    np.testing.assert_array_equal(x.grad.numpy(), 4 * before)
    assert not np.shares_memory(x.grad.numpy(), g.numpy())


def test_in_place_sums_across_a_loop_match_create_graph():
    w = retrograd.tensor([[0.5, -0.2], [0.1, 0.3]], requires_grad=True)
    h = retrograd.tensor([[1.0, 2.0]])
    for _ in range(6):  # w used at every step: its slot receives six gradients
        h = (h @ w).tanh()
    (gw_fast,) = retrograd.autograd.grad(h.sum(), w, retain_graph=True)
    (gw_graph,) = retrograd.autograd.grad(h.sum(), w, create_graph=True)
    np.testing.assert_allclose(gw_fast.numpy(), gw_graph.detach().numpy(), rtol=1e-6)


def test_a_saved_gradient_is_not_changed_by_later_sums():
    x = retrograd.tensor([1.0, -1.0], requires_grad=True)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()) or None)
    (y + y + y).sum().backward()
    np.testing.assert_array_equal(seen[0], [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])


@pytest.mark.parametrize("approximate", ["tanh", "none"])
@pytest.mark.parametrize("shape,dtype", [((), "float32"), ((5, 7), "float32"),
                                         ((4, 3), "float64"), ((6,), "float16")])
def test_gelu_kernels_match_torch(torch_ref, approximate, shape, dtype):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(shape) * 3).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    x = retrograd.tensor(a, requires_grad=True)
    tx = torch_ref.tensor(a, requires_grad=True)
    out = retrograd.nn.functional.gelu(x, approximate=approximate)
    tout = torch_ref.nn.functional.gelu(tx, approximate=approximate)
    out.backward(retrograd.tensor(g))
    tout.backward(torch_ref.tensor(g))
    tol = {"float16": 2e-3, "float32": 2e-6, "float64": 1e-12}[dtype]
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)


def test_layer_norm_matches_torch_with_and_without_affine(torch_ref):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 4, 8)).astype(np.float32)
    g = rng.standard_normal((3, 4, 8)).astype(np.float32)
    for affine in (True, False):
        ln, tln = retrograd.nn.LayerNorm(8, elementwise_affine=affine), \
            torch_ref.nn.LayerNorm(8, elementwise_affine=affine)
        if affine:
            w, b = rng.standard_normal(8).astype(np.float32), rng.standard_normal(8)
            with retrograd.no_grad():
                ln.weight.copy_(retrograd.tensor(w))
                ln.bias.copy_(retrograd.tensor(b.astype(np.float32)))
            with torch_ref.no_grad():
                tln.weight.copy_(torch_ref.tensor(w))
                tln.bias.copy_(torch_ref.tensor(b.astype(np.float32)))
        x = retrograd.tensor(a, requires_grad=True)
        tx = torch_ref.tensor(a, requires_grad=True)
        ln(x).backward(retrograd.tensor(g))
        tln(tx).backward(torch_ref.tensor(g))
        np.testing.assert_allclose(ln(x).detach().numpy(), tln(tx).detach().numpy(),
                                   rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
        if affine:
            np.testing.assert_allclose(ln.weight.grad.numpy(), tln.weight.grad.numpy(),
                                       rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("rows", [0, 1, 16, 64])
def test_small_batch_product_is_row_major_and_right(rows):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((rows, 40)).astype(np.float32)
    w = rng.standard_normal((300, 40)).astype(np.float32)
    out = matmul2d(a, w.T)
    assert out.shape == (rows, 300) and out.flags.c_contiguous
    np.testing.assert_allclose(out, a.astype(np.float64) @ w.T.astype(np.float64),
                               rtol=1e-4, atol=1e-4)
