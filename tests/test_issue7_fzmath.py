"""Regression tests for the fuzzer classes of issue 7 fixed in round 5 (nan-select, other-seeds
and what seeds 1-13 found): each a small program run on retrograd and on PyTorch from the same
float64 data (values, gradients, errors compared with ``_compare``), plus torch-free checks of
the values PyTorch gives.

Covered: smooth_l1/huber second derivatives (a product with the mask, NaN where the incoming
gradient is infinite or NaN); prod's gradient with zeros and infinities (exclusive products) and
cumprod's graph-free backward; what a batched matmul saves (a copy where PyTorch reshapes into
one); layer_norm, batch_norm and conv backward with an infinite weight, and batch_norm's forward
(x * alpha + beta); max_pool2d keeping the first zero's sign; scatter's shape checks in
PyTorch's order; version checks: cross_entropy (not x, its weights), pow(number, tensor) (the
exponent), batch_norm in training (the running statistics, not bumped by the update); a write
into a view whose CopySlices gets a non-contiguous gradient; embedding's padding rows skipped;
var without degrees of freedom; norm's gradient in PyTorch's three forms.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_issue7_formulas import _compare, _run

import retrograd

INF = float("inf")
NAN = float("nan")


def _t(L, values, grad=False):
    return L.tensor(values, dtype=L.float64, requires_grad=grad)


def _second(L, loss_of, inputs):
    """(first derivatives with a graph, their derivative) of ``loss_of(L, *leaves)``."""
    leaves = [_t(L, v, True) for v in inputs]
    out = loss_of(L, *leaves)
    gs = L.autograd.grad(out, leaves, L.ones_like(out), create_graph=True)
    second = L.autograd.grad(sum((g * 1.5).sum() for g in gs), leaves, allow_unused=True)
    return tuple(gs) + tuple(second)


# ---- 1. smooth_l1 / huber: PyTorch's backward op, differentiated with a mask product ---------


def _var_of_one(fn, reduction):
    def loss_of(L, x, y):
        loss = getattr(L.nn.functional, fn)(x, y, reduction=reduction)
        return (loss[:1] if reduction == "none" else loss.reshape(1)).var()  # NaN, and its grad
    return lambda L: _second(L, loss_of, ([3.0, 0.3], [0.0, 0.1]))


def _through_division(fn):
    def loss_of(L, x, y):  # x / 0: the gradient reaching the loss's backward is infinite
        return getattr(L.nn.functional, fn)(x / _t(L, 0.0), y, reduction="mean")
    return lambda L: _second(L, loss_of, (-1.0, -1.0))


REGRESSION = {f"{fn}-var-{r}": _var_of_one(fn, r)
              for fn in ("huber_loss", "smooth_l1_loss") for r in ("none", "sum", "mean")}
REGRESSION.update({f"{fn}-div0": _through_division(fn) for fn in ("huber_loss", "smooth_l1_loss")})
REGRESSION["huber-at-delta"] = lambda L: _second(  # |d| = delta: outside the mask (grad2 0)
    L, lambda L, x, y: L.nn.functional.huber_loss(x / x, y), (-0.4, 0.0))
REGRESSION["smooth_l1-infinite-target"] = lambda L: _second(
    L, lambda L, x, y: L.nn.functional.smooth_l1_loss(x, y, beta=0.5).square(),
    (-0.0, [-2.0, INF]))


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_loss_second_derivatives_match_torch(torch_ref, name):
    _compare(torch_ref, REGRESSION[name])


def test_regression_loss_second_derivative_is_nan_outside_the_mask():
    # var of one value is NaN, so is its gradient: grad * grad_out * mask is NaN at d = 3 too
    out = _run(retrograd, REGRESSION["huber_loss-var-none"])
    np.testing.assert_array_equal(np.isnan(out[2]), [True, False])
    assert np.signbit(out[1][1]) and out[1][1] == 0  # dy = huber_backward(g, y, x): -0.0
    x, y = _t(retrograd, [2.0, 0.1], True), _t(retrograd, [0.0, 0.0], True)
    gx, gy = retrograd.autograd.grad(retrograd.nn.functional.huber_loss(x, y), [x, y],
                                     create_graph=True)
    assert gx.grad_fn.name() == gy.grad_fn.name() == "HuberLossBackwardBackward0"
    np.testing.assert_allclose(gx.detach().numpy(), [0.5, 0.05])
    gx, _ = retrograd.autograd.grad(retrograd.nn.functional.smooth_l1_loss(x, y, beta=0.5),
                                    [x, y], create_graph=True)
    assert gx.grad_fn.name() == "SmoothL1LossBackwardBackward0"
    np.testing.assert_allclose(gx.detach().numpy(), [0.5, 0.1])


# ---- 2. prod with zeros: exclusive cumulative products; cumprod's graph-free backward ----------


def _prod_grads(values, dim):
    def program(L):
        x = _t(L, values, True)
        y = x.prod() if dim is None else x.prod(dim)
        (plain,) = L.autograd.grad(y.sum(), x, retain_graph=True)
        (g,) = L.autograd.grad(y.sum(), x, create_graph=True)
        w = L.arange(1.0, x.numel() + 1, dtype=L.float64).reshape(x.shape)
        (gg,) = L.autograd.grad((g * w).sum(), x)
        return plain, g, gg
    return program


PRODS = {f"{name}-{dim}": _prod_grads(v, dim) for name, v in {
    "zero-inf": [0.0, -INF], "zero-two-inf": [0.0, 2.0, INF], "zeros-inf": [0.0, 0.0, INF],
    "zeros": [0.0, 0.0, 3.0], "one-zero": [0.0, 3.0, 2.0], "inf": [INF, 2.0],
    "nan-zero": [NAN, 0.0, 2.0], "zeros-nan": [0.0, 0.0, NAN],
    "matrix": [[0.0, 2.0, 3.0], [1.0, 0.0, 0.0], [INF, 0.0, 1.0]],
}.items() for dim in (None, 0, -1)}


@pytest.mark.parametrize("name", PRODS)
def test_prod_gradients_with_zeros_and_infinities_match_torch(torch_ref, name):
    _compare(torch_ref, PRODS[name])


def test_prod_gradient_is_the_product_of_the_others():
    plain, g, _ = _run(retrograd, PRODS["zero-inf-0"])
    np.testing.assert_array_equal(plain, [-INF, 0.0])  # not inf / inf = NaN at the infinity
    plain, g, _ = _run(retrograd, PRODS["zeros-inf-None"])
    np.testing.assert_array_equal(plain, [0.0, 0.0, 0.0])  # two zeros, no graph: zeros
    np.testing.assert_array_equal(np.isnan(g), [True, True, False])  # with one: 0 * inf
    plain, _, gg = _run(retrograd, PRODS["one-zero-0"])
    np.testing.assert_array_equal(plain, [6.0, 0.0, 0.0])
    np.testing.assert_array_equal(gg, [13.0, 2.0, 3.0])  # sum_j w_j d2/dx_i dx_j


def _cumprod_program(values):
    return lambda L: _cumprod_grad(L, values)


CUMPRODS = {name: _cumprod_program(v) for name, v in {
    "zero-inf": [0.0, -INF], "two-zeros": [0.0, 0.0, INF], "zero-then": [0.0, 3.0, 2.0],
    "inf": [INF, 2.0], "nan-zero": [NAN, 0.0, 2.0], "mixed": [2.0, 0.0, 3.0, INF, 0.0, 5.0],
    "plain": [1.5, -2.0, 0.5],
}.items()}


def _cumprod_grad(L, values):
    x = _t(L, values, True)
    x.cumprod(0).backward(L.arange(1.0, len(values) + 1, dtype=L.float64))
    m = _t(L, [[0.0, 2.0, 3.0], [1.0, 0.0, 0.0], [INF, 0.0, 1.0], [2.0, 3.0, 4.0]], True)
    m.cumprod(1).backward(L.ones(4, 3, dtype=L.float64) * _t(L, [1.0, -2.0, 3.0]))
    return x.grad, m.grad


@pytest.mark.parametrize("name", CUMPRODS)
def test_cumprod_backward_without_graph_matches_torch(torch_ref, name):
    _compare(torch_ref, CUMPRODS[name])


def test_cumprod_backward_without_graph_stops_at_the_first_zero():
    gx, gm = _run(retrograd, CUMPRODS["mixed"])
    # before the first zero: sum_k out_k g_k / x_i; at it: out before it times the sums up to
    # the second zero (3 * inf = inf with g = 3, 4: NaN from inf * 0 past the zero); after: 0
    np.testing.assert_array_equal(gx[[0, 2, 3, 4, 5]], [1.0, 0.0, 0.0, 0.0, 0.0])
    assert np.isnan(gx[1])
    np.testing.assert_array_equal(gm[1], [1.0, -2.0, 0.0])


# ---- 3. what a batched matmul saves -------------------------------------------------------------


def _matmul_then_write(xs, ys, rx, ry, write, transpose=False):
    def program(L):
        x = L.linspace(-1, 1, int(np.prod(xs)), dtype=L.float64).reshape(xs).requires_grad_(rx)
        y = L.linspace(-2, 1, int(np.prod(ys)), dtype=L.float64).reshape(ys).requires_grad_(ry)
        a, b = x.clone(), y.clone()
        if transpose:
            a = a.transpose(0, 1)
        out = a @ b
        (a if write == "x" else b).mul_(2)
        out.pow(2).sum().backward()
        return x.grad, y.grad
    return program


MATMULS = {
    "1d-3d": _matmul_then_write((3,), (2, 3, 4), True, False, "y"),
    "1d-3d-both": _matmul_then_write((3,), (2, 3, 4), True, True, "y"),
    "2d-3d": _matmul_then_write((2, 3), (2, 3, 4), True, True, "y"),
    "1d-4d": _matmul_then_write((3,), (2, 2, 3, 4), True, False, "y"),
    "3d-1d-transposed": _matmul_then_write((3, 2, 4), (4,), False, True, "x", transpose=True),
    "3d-2d-transposed": _matmul_then_write((3, 2, 4), (4, 2), True, True, "x", transpose=True),
    "broadcast-x": _matmul_then_write((2, 1, 3, 4), (5, 4, 2), False, True, "x"),
    "broadcast-y": _matmul_then_write((2, 1, 3, 4), (5, 4, 2), True, True, "y"),
    # a view in PyTorch too: the write is refused
    "1d-3d-batch-1": _matmul_then_write((3,), (1, 3, 4), True, False, "y"),
    "3d-1d": _matmul_then_write((2, 3, 4), (4,), False, True, "x"),
    "same-batch": _matmul_then_write((2, 3, 4), (2, 4, 2), True, True, "x"),
}


@pytest.mark.parametrize("name", MATMULS)
def test_batched_matmul_saves_what_torch_saves(torch_ref, name):
    _compare(torch_ref, MATMULS[name])


def test_batched_matmul_operand_written_after_a_folding_copy():
    gx, gy = _run(retrograd, MATMULS["1d-3d-both"])  # no error: a copy was saved
    x = np.linspace(-1, 1, 3)
    y = np.linspace(-2, 1, 24).reshape(2, 3, 4)
    out = x @ y
    np.testing.assert_allclose(gx, np.einsum("bk,bjk->j", 2 * out, y))
    np.testing.assert_allclose(gy, np.einsum("j,bk->bjk", x, 2 * out))
    err, msg = _run(retrograd, MATMULS["1d-3d-batch-1"])
    assert err is RuntimeError and "modified by an inplace operation" in msg


def test_batched_matmul_copy_keeps_second_derivatives():
    x = retrograd.linspace(-1, 1, 3, dtype=retrograd.float64).requires_grad_()
    y = retrograd.linspace(-2, 1, 24, dtype=retrograd.float64).reshape(2, 3, 4).requires_grad_()
    assert retrograd.autograd.gradcheck(lambda a, b: (a @ b).pow(2).sum(), (x, y))
    assert retrograd.autograd.gradgradcheck(lambda a, b: (a @ b).pow(2).sum(), (x, y))


# ---- 4. normalization and convolution with an infinite weight ---------------------------------


def _layer_norm(L):
    x3 = _t(L, [0.0, 1.0, 2.0], True)
    v0 = L.nn.functional.linear(_t(L, [2.0]), _t(L, [[1.0], [-1.0], [-0.0]]), x3)
    y = L.nn.functional.layer_norm(v0, (3,), _t(L, [-INF, 2.0, 1.0]), _t(L, [-1.0, 0.0, -2.0]))
    y.backward(L.ones(3, dtype=L.float64))
    x = _t(L, [[0.5, -1.0, 2.0, 0.25], [1.0, 1.5, -0.5, 3.0]], True)
    w, b = _t(L, [1.5, -2.0, 0.5, 1.0], True), _t(L, [0.1, 0.2, 0.3, 0.4], True)
    L.nn.functional.layer_norm(x, (4,), w, b).backward(
        L.ones(2, 4, dtype=L.float64) * _t(L, [1.0, INF, 2.0, 0.0]))
    return x3.grad, x.grad, w.grad, b.grad


def _batch_norm(L):
    x = _t(L, [[-1.0, -0.0], [-1.0, -0.0]], True)
    y = L.nn.functional.batch_norm(x, _t(L, [-1.0, -0.0]), _t(L, [1.0, -1.0]),
                                   weight=_t(L, [-1.0, INF]), bias=_t(L, [-0.0, 2.0]),
                                   training=True, momentum=0.3)
    y.backward(_t(L, [[-0.87, -0.72], [0.25, 0.85]]))
    fw = L.nn.functional.batch_norm(_t(L, [[1.3, 0.3, -1.4], [-0.6, 0.4, -0.7]]), None, None,
                                    _t(L, [2.0, INF, -1.0]), _t(L, [2.0, -1.0, -1.0]),
                                    training=True)
    ev = L.nn.functional.batch_norm(_t(L, [[0.0, -1.0, -1.0]]), _t(L, [NAN, -0.8, 0.5]),
                                    _t(L, [2.1, 0.1, 0.1]), _t(L, [-2.0, INF, -1.0]),
                                    _t(L, [-2.0, -0.0, 0.0]), training=False)
    return x.grad, fw, ev


def _conv(L):
    x = _t(L, [[2.0, 0.0]], True)
    L.nn.functional.conv1d(x, _t(L, [[[INF, 1.0]]]), _t(L, [0.0])).backward(_t(L, [[1.0]]))
    x2 = _t(L, [[[[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [1.0, 1.0, 1.0]]]], True)
    L.nn.functional.conv2d(x2, _t(L, [[[[INF, 1.0], [2.0, -1.0]]]])).backward(
        L.ones(1, 1, 2, 2, dtype=L.float64))
    return x.grad, x2.grad


INFINITE_WEIGHTS = {"layer_norm": _layer_norm, "batch_norm": _batch_norm, "conv": _conv}


@pytest.mark.parametrize("name", INFINITE_WEIGHTS)
def test_infinite_weights_match_torch(torch_ref, name):
    _compare(torch_ref, INFINITE_WEIGHTS[name])


def test_infinite_weights_spread_as_pytorch_kernels_do():
    g3, gx, _, _ = _run(retrograd, _layer_norm)
    assert np.isnan(g3).all()  # an infinite g reaches the whole row through b and c
    assert np.isnan(gx).all()
    gx, fw, ev = _run(retrograd, _batch_norm)
    np.testing.assert_array_equal(gx[:, 1], [-INF, INF])  # (finite difference) * inf
    assert np.isnan(fw[:, 1]).all()  # x * inf + (b - mean * inf): inf - inf
    g1, g2 = _run(retrograd, _conv)
    np.testing.assert_array_equal(g1, [[INF, 1.0]])  # no zero column times inf
    np.testing.assert_array_equal(g2[0, 0, 2], [2.0, 1.0, -1.0])


def test_layer_norm_second_derivatives_unchanged():
    x = retrograd.tensor([[0.5, -1.0, 2.0, 0.25], [1.0, 1.5, -0.5, 3.0]], dtype=retrograd.float64,
                         requires_grad=True)
    w = retrograd.tensor([1.5, -2.0, 0.5, 1.0], dtype=retrograd.float64, requires_grad=True)
    b = retrograd.tensor([0.1, 0.2, 0.3, 0.4], dtype=retrograd.float64, requires_grad=True)

    def f(x, w, b):
        y = retrograd.nn.functional.layer_norm(x, (4,), w, b)
        return (y * y.sin()).sum()

    assert retrograd.autograd.gradcheck(f, (x, w, b))
    assert retrograd.autograd.gradgradcheck(f, (x, w, b))


# ---- 5. max_pool2d: the first maximum, with its zero's sign ---------------------------------


def _max_pool(L):
    v = L.nn.functional.max_pool2d(_t(L, [[[2.0, 1.0], [0.0, -0.0], [-1.0, 0.0]]]), 2, stride=2,
                                   padding=1)
    x = _t(L, [[[[-0.0, 0.0, 0.0, -0.0], [0.0, -0.0, -0.0, -0.0]]]])
    y, i = L.nn.functional.max_pool2d(x, 2, return_indices=True)
    return 2 / v, 1 / y, i


def test_max_pool_zero_sign_matches_torch(torch_ref):
    _compare(torch_ref, _max_pool)


def test_max_pool_keeps_the_first_zero():
    a, b, i = _run(retrograd, _max_pool)
    np.testing.assert_array_equal(a, [[[1.0, 2.0], [INF, -INF]]])
    np.testing.assert_array_equal(b, [[[[-INF, INF]]]])
    np.testing.assert_array_equal(i, [[[[0, 2]]]])


# ---- 6. scatter's shape checks in PyTorch's order ------------------------------------------------


def _scatter(fn, self_shape, index, src_shape, dim=0):
    def program(L):
        x = L.zeros(self_shape, dtype=L.float64)
        src = L.ones(src_shape, dtype=L.float64)
        idx = L.tensor(index, dtype=L.int64)
        if fn == "scatter_reduce":
            return L.scatter_reduce(x, dim, idx, src, "sum")
        return getattr(L, fn)(x, dim, idx, src)
    return program


SCATTERS = {
    "1d-src-reads-past-its-dims": _scatter("scatter_add", (1, 1), [[0]], (1,), dim=1),
    "1d-src-dim0": _scatter("scatter_add", (1, 1), [[0]], (1,)),
    "scatter-1d-src": _scatter("scatter", (2, 3), [[0, 1, 0]], (1,)),
    "reduce-1d-src": _scatter("scatter_reduce", (1, 1), [[0]], (1,), dim=1),
    "3d-src": _scatter("scatter_add", (2, 3), [[0]], (2, 2, 2), dim=1),
    "0d-src": _scatter("scatter_add", (2, 3), [[0]], (), dim=1),
    "too-large-then-src-dims": _scatter("scatter_add", (2, 3), [[0, 1, 0, 1]], (4,)),
    "empty-src-too-small": _scatter("scatter_add", (2, 3), [[0, 1, 0]], (0,)),
    "too-large-for-src": _scatter("scatter_add", (2, 3), [[0, 1]], (1, 1), dim=1),
    "empty-index": _scatter("scatter_add", (2, 3), np.zeros(0, dtype=np.int64), (3,), dim=1),
}


@pytest.mark.parametrize("name", SCATTERS)
def test_scatter_checks_match_torch(torch_ref, name):
    _compare(torch_ref, SCATTERS[name])


def test_scatter_reads_src_sizes_before_checking_its_dims():
    err, msg = _run(retrograd, SCATTERS["1d-src-reads-past-its-dims"])
    assert err is IndexError and "expected to be in range of [-1, 0], but got 1" in msg
    err, msg = _run(retrograd, SCATTERS["too-large-then-src-dims"])
    assert err is RuntimeError and "same number of dimensions as src" in msg
    (out,) = _run(retrograd, SCATTERS["empty-index"])
    np.testing.assert_array_equal(out, np.zeros((2, 3)))


# ---- 7. version checks of saved tensors ------------------------------------------------------


def _cross_entropy_input_written(create_graph):
    def program(L):
        x = _t(L, [[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]], True)
        y = x * 1
        loss = L.nn.functional.cross_entropy(y, L.tensor([2, 0]), weight=_t(L, [1.0, 2.0, 0.5]),
                                             label_smoothing=0.1)
        with L.no_grad():
            y.mul_(3)  # log_softmax saved its result, not y: no error, same gradient
        (g,) = L.autograd.grad(loss, x, create_graph=create_graph)
        return (g, L.autograd.grad((g * g).sum(), x)[0]) if create_graph else g
    return program


def _cross_entropy_weight_written(L):
    w = _t(L, [1.0, 2.0, 0.5])
    loss = L.nn.functional.cross_entropy(_t(L, [[0.5, -1.0, 2.0]], True), L.tensor([2]), weight=w)
    w.add_(1)
    loss.backward()


def _rpow_exponent_written(L):
    x = _t(L, 1.0, True)
    y = 2 ** x
    with L.no_grad():
        x.masked_fill_(x < 0, 0.0)
    y.abs().backward()


def _batch_norm_running_stats_written(L):
    x = _t(L, [[[-2.0, 2.0], [-1.0, -0.0], [0.0, 1.0]]], True)
    var = _t(L, [-0.0, 0.0, 2.0])
    y = L.nn.functional.batch_norm(x, _t(L, [-1.0, 2.0, 1.0]), var, training=True, momentum=0.3)
    var.div_(2)
    y.sum().backward()


def _batch_norm_training_steps(L):
    m = L.nn.BatchNorm1d(2).double()
    x = L.ones(4, 2, dtype=L.float64, requires_grad=True)
    (m(x).sum() + m(x * 2).sum()).backward()  # the second step's update is no write
    return x.grad, m.running_mean, L.tensor(float(m.running_mean._version))


SAVED = {
    "cross_entropy-x": _cross_entropy_input_written(False),
    "cross_entropy-x-create_graph": _cross_entropy_input_written(True),
    "cross_entropy-weight": _cross_entropy_weight_written,
    "rpow-exponent": _rpow_exponent_written,
    "batch_norm-running-var": _batch_norm_running_stats_written,
    "batch_norm-training-steps": _batch_norm_training_steps,
}


@pytest.mark.parametrize("name", SAVED)
def test_saved_tensor_version_checks_match_torch(torch_ref, name):
    _compare(torch_ref, SAVED[name])


def test_saved_tensor_version_checks():
    for name in ("cross_entropy-weight", "rpow-exponent", "batch_norm-running-var"):
        err, msg = _run(retrograd, SAVED[name])
        assert err is RuntimeError and "modified by an inplace operation" in msg, name
    g = _run(retrograd, SAVED["cross_entropy-x"])[0]
    x = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])
    p = np.exp(x) / np.exp(x).sum(1, keepdims=True)
    w = np.array([1.0, 2.0, 0.5])
    t = np.zeros((2, 3))
    t[0, 2], t[1, 0] = 0.9, 0.9
    t += 0.1 / 3
    t *= w
    np.testing.assert_allclose(g, (p * t.sum(1, keepdims=True) - t) / (0.5 + 1.0))
    _, _, version = _run(retrograd, SAVED["batch_norm-training-steps"])
    assert version == 0


# ---- 8. a write into a view whose CopySlices gets a non-contiguous gradient --------------------


def _write_into_reshaped_sum(L):
    x1 = _t(L, [[0.0], [INF], [-1.0], [-1.0]], True)
    v = (_t(L, [1.0, -1.0, 2.0]) + x1).reshape(2, 3, 2)
    y = v.add_(1).log1p()
    (g,) = L.autograd.grad(y, x1, L.ones(2, 3, 2, dtype=L.float64), create_graph=True)
    (g * 1).sum().backward()  # (g.sum() would send a contiguous gradient)
    return g, x1.grad


def test_copy_slices_backward_of_a_broadcast_gradient_matches_torch(torch_ref):
    _compare(torch_ref, _write_into_reshaped_sum)


def test_copy_slices_backward_of_a_broadcast_gradient():
    g, gg = _run(retrograd, _write_into_reshaped_sum)
    np.testing.assert_allclose(g[[0, 2]].ravel(), [1 / 3 + 1 + 1 / 4, INF])  # sum of 1 / (v + 2)
    assert np.isneginf(gg[2, 0])


# ---- 9. embedding's padding rows, var without degrees of freedom, norm's three forms ----------


def _embedding_padding(L):
    x = _t(L, [[0.0], [1.0], [1.0]], True)
    L.nn.functional.embedding(L.tensor([1, 0, 2]), x, padding_idx=0).sqrt_().backward(
        L.ones(3, 1, dtype=L.float64))  # the padding lookup's gradient is inf: skipped
    w = _t(L, [[0.5, 1.0], [2.0, -1.0], [1.0, 3.0]], True)
    gy = L.ones(2, 2, 2, dtype=L.float64, requires_grad=True)
    (g,) = L.autograd.grad(L.nn.functional.embedding(L.tensor([[1, 0], [2, 0]]), w, padding_idx=0),
                           w, gy, create_graph=True)
    (gg,) = L.autograd.grad((g * _t(L, [[1.0, 2.0], [INF, 1.0], [3.0, -1.0]])).sum(), gy)
    return x.grad, gg


def _var_no_dof(L):
    x0 = _t(L, [-0.3, 1.7], True)
    (x0 ** 0.5).mean(0).var(0, keepdim=True).backward()  # var of a NaN: grad * inf
    x = _t(L, [2.0, NAN], True)
    (g,) = L.autograd.grad(x.var(correction=2), x, _t(L, -2.0))
    return x0.grad, g


def _norm_forms(L):
    out = []
    for p in (-1.0, 0.5, 1.5, 3.0):
        for vals in ([-1.0, 0.0], [0.0, 0.0], [INF, 1.0], [2.0, -0.5]):
            x = _t(L, vals, True)
            (g,) = L.autograd.grad(x.norm(p), x, create_graph=True)
            (gg,) = L.autograd.grad((g * _t(L, [1.0, 2.0])).sum(), x, allow_unused=True)
            out += [g, gg]
    return tuple(out)


MORE = {"embedding-padding": _embedding_padding, "var-no-dof": _var_no_dof,
        "norm-forms": _norm_forms}


@pytest.mark.parametrize("name", MORE)
def test_more_selections_match_torch(torch_ref, name):
    _compare(torch_ref, MORE[name])


def test_more_selections():
    gx, gg = _run(retrograd, _embedding_padding)
    np.testing.assert_array_equal(gx.ravel(), [0.0, 0.5, 0.5])
    np.testing.assert_array_equal(gg[:, 1], 0.0)  # padding lookups: 0, not inf * 0
    g0, g = _run(retrograd, _var_no_dof)
    assert np.isnan(g0[0]) and g0[1] == INF
    np.testing.assert_array_equal(g, [-INF, -INF])
    out = _run(retrograd, _norm_forms)
    g, gg = out[0], out[1]  # p = -1 at [-1, 0]: norm 0, its gradient 0 and finite
    np.testing.assert_array_equal(g, [0.0, 0.0])
    assert np.isfinite(gg[0])
