"""Regression tests for the fuzzer's open classes of issue 7 fixed in its second round, each a
small program run on retrograd and on PyTorch from the same float64 data (values, gradients,
whether a gradient requires grad, and error types compared with ``_compare``).

Covered: whole writes (``fill_``, ``zero_``, ``copy_``, ``x[...] = v``) give constant zero
gradients; elu's derivative at NaN and -0.0 and its second derivative; binary_cross_entropy's
and pow's (at base 0) second derivatives; the full max()/min()
selecting its gradient; the 2-norm's gradient at 0; x / y twice at y = 0;
``div(rounding_mode="floor")`` with infinities; lstm_cell's o gate when only c' is used;
embedding with 0-wide weights; scatter with 0-d tensors; overlap checks of binary in-place ops
and of a masked write into a 0-d tensor; nll_loss's weight version check.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_issue7_formulas import _compare

import retrograd

INF = float("inf")
NAN = float("nan")


def _create_graph_grad(L, f, values, upstream=1.0):
    """The gradient (built with create_graph) of f(x) and whether it requires grad."""
    x = L.tensor(values, dtype=L.float64, requires_grad=True)
    out = f(L, x)
    (g,) = L.autograd.grad(out, x, L.full(out.shape, upstream, dtype=L.float64),
                           create_graph=True, allow_unused=True)
    return g, L.tensor(float(g.requires_grad))


def _whole_write(write):
    def program(L):
        def f(L, x):
            y = x * 2.5
            write(L, y)
            return y.sqrt()  # d/dy at y = 0 is inf: 0 * inf would be NaN

        return _create_graph_grad(L, f, [1.0, -2.0])

    return program


def _setitem_all(L, y):
    y[...] = L.zeros(2, dtype=L.float64)


WHOLE_WRITES = {
    "fill_": _whole_write(lambda L, y: y.fill_(0.0)),
    "fill_-tensor": _whole_write(lambda L, y: y.fill_(L.tensor(0.0, dtype=L.float64))),
    "zero_": _whole_write(lambda L, y: y.zero_()),
    "copy_": _whole_write(lambda L, y: y.copy_(L.zeros(2, dtype=L.float64))),
    "setitem-ellipsis": _whole_write(_setitem_all),
}


@pytest.mark.parametrize("name", WHOLE_WRITES)
def test_whole_writes_give_constant_zero_gradients(torch_ref, name):
    g, requires = _compare(torch_ref, WHOLE_WRITES[name])
    assert (g == 0).all() and requires == 0


def _elu_orders(L, alpha):
    x = L.tensor([-0.0, 0.0, -1.0, 2.0, NAN, -INF], dtype=L.float64, requires_grad=True)
    y = L.nn.functional.elu(x, alpha=alpha)
    (g,) = L.autograd.grad(y.sum(), x, create_graph=True)
    (gg,) = L.autograd.grad((g * 3).sum(), x)
    return y, g, gg


def _elu_then_sqrt(L):
    x = L.tensor([0.0, -2.0, -0.0], dtype=L.float64, requires_grad=True)
    (L.nn.functional.elu(x) ** 0.5).sum().backward()
    return x.grad


def _max_all_select(L):
    x = L.tensor([[1.0, -2.0], [1.0, 1.0]], dtype=L.float64, requires_grad=True)
    x.max().backward(L.tensor(INF, dtype=L.float64))
    y = L.tensor([1.0, -2.0], dtype=L.float64, requires_grad=True)
    y.min().std().backward()  # std of one value: NaN, which goes to the minimum only
    return x.grad, y.grad


def _norm_at_zero(L):
    x = L.tensor([-1.0, 0.0], dtype=L.float64, requires_grad=True)
    (x.amax().norm() ** 0.5).backward()  # inf * (0 / 0 masked to 0): NaN, as PyTorch
    z = L.zeros(3, dtype=L.float64, requires_grad=True)
    z.norm().backward()
    return x.grad, z.grad


def _div_twice(L):
    out = []
    for a, b in [(2.0, 0.0), (2.0, -0.0), (0.0, 0.0), (1.0, 3.0), (-1.0, INF)]:
        x = L.tensor(a, dtype=L.float64, requires_grad=True)
        y = L.tensor(b, dtype=L.float64, requires_grad=True)
        gx, gy = L.autograd.grad(x / y, [x, y], create_graph=True)
        out += [gx, gy, *L.autograd.grad(gy, [x, y])]
    return tuple(out)


def _floor_division(L):
    a = L.tensor([INF, -INF, 5.0, -5.0, 0.0, 3.0, INF, 1.0], dtype=L.float64)
    b = L.tensor([-1.0, 2.0, INF, INF, 0.0, 0.0, INF, -0.0], dtype=L.float64)
    x = L.tensor([INF, 0.0, 2.0], dtype=L.float64)
    y = L.tensor(-1.0, dtype=L.float64, requires_grad=True)
    (x % y).sum().backward()
    return a.div(b, rounding_mode="floor"), a // b, y.grad


def _lstm_cell_c_only(L, both):
    x = L.tensor([[-1.0, 1.0]], dtype=L.float64)
    h = L.tensor([[-1.0, 0.0]], dtype=L.float64)
    c = L.tensor([[-2.0, 2.0]], dtype=L.float64)
    w_ih = L.tensor([[1.0, -1.0], [-1.0, -1.0], [1.0, 1.0], [-1.0, 0.0], [-0.0, 2.0],
                     [-1.0, -0.0], [-2.0, 2.0], [1.0, -2.0]], dtype=L.float64)
    w_hh = L.tensor([[-1.0, -0.0], [-1.0, 1.0], [-2.0, -2.0], [-1.0, 0.0], [1.0, 1.0],
                     [-1.0, 2.0], [-0.0, NAN], [2.0, 0.0]], dtype=L.float64, requires_grad=True)
    hy, cy = L.lstm_cell(x, (h, c), w_ih, w_hh)
    (g,) = L.autograd.grad((hy.sum() + cy.sum()) if both else cy.sum(), w_hh, create_graph=True)
    return g + 0.0  # (the signs of zeros from the matrix product differ: rounding-level)


def _lstm_cell_nan_bias(L):
    b_ih = L.tensor(1.0, dtype=L.float64, requires_grad=True)
    b_hh = L.tensor([-1.0, -1.0, -0.0, NAN], dtype=L.float64)  # the o gate is NaN
    x = L.tensor([[-0.0, 2.0, -0.0]], dtype=L.float64)
    w_ih = L.tensor([[0.0, 0.0, -2.0], [-1.0, -1.0, -2.0], [-0.0, -2.0, -2.0], [1.0, 1.0, 1.0]],
                    dtype=L.float64)
    w_hh = L.tensor([[-1.0], [1.0], [-0.0], [-2.0]], dtype=L.float64)
    cy = L.lstm_cell(x, (L.tensor([[-2.0]], dtype=L.float64), L.tensor([[-1.0]],
                                                                        dtype=L.float64)),
                     w_ih, w_hh, b_ih, b_hh)[1]
    cy.backward(L.ones(1, 1, dtype=L.float64))
    return b_ih.grad + 0.0


def _embedding_0_wide(L):
    w = L.zeros(1, 0, dtype=L.float64, requires_grad=True)
    out = L.nn.functional.embedding(L.tensor([[0], [0]]), w, padding_idx=0)
    out.backward(L.zeros(2, 1, 0, dtype=L.float64))
    return w.grad


def _bce_second_order(L, reduction):
    x = L.tensor([[0.0859, -0.0422, 1.806], [0.3469, -1.9857, 0.4233]], dtype=L.float64,
                 requires_grad=True)
    t = L.tensor([[-2.0, 1.0, 0.0], [2.0, -1.0, 0.5]], dtype=L.float64, requires_grad=True)
    w = L.tensor([0.5, 2.0, 1.5], dtype=L.float64)
    p = x.reciprocal().sigmoid()  # within 1e-10 of 0 or 1 where x is small
    loss = L.nn.functional.binary_cross_entropy(p, t.sigmoid(), weight=w, reduction=reduction)
    gx, gt = L.autograd.grad(loss.sum(), [x, t], create_graph=True)
    return (gx, gt, *L.autograd.grad((gx * gx).sum() + gt.sum(), [x, t]))


def _bce_second_order_at_edges(L):
    p = L.tensor([0.0, 1.0, 1e-13, 0.3, 1 - 1e-13], dtype=L.float64, requires_grad=True)
    t = L.tensor([0.2, 0.7, 0.0, 1.0, 0.5], dtype=L.float64, requires_grad=True)
    (g,) = L.autograd.grad(L.nn.functional.binary_cross_entropy(p, t), p, create_graph=True)
    return L.autograd.grad(g.sum(), [p, t])


def _pow_exponent_at_base_0(L):
    x = L.tensor([2.0, 0.0], dtype=L.float64)
    y = L.tensor([[-1.0], [-1.0], [1.0], [0.0]], dtype=L.float64, requires_grad=True)
    (g,) = L.autograd.grad((x ** y).sum(), y, create_graph=True)
    a = L.tensor([0.0, 0.0, 2.0], dtype=L.float64, requires_grad=True)
    b = L.tensor([1.0, 2.0, 0.5], dtype=L.float64, requires_grad=True)
    (a ** b).backward(L.tensor([INF, 1.0, 1.0], dtype=L.float64))
    return (g, *L.autograd.grad(g.sum(), y), a.grad, b.grad)


FIXED = {
    "pow-exponent-at-base-0": _pow_exponent_at_base_0,
    "bce-second-order-mean": lambda L: _bce_second_order(L, "mean"),
    "bce-second-order-none": lambda L: _bce_second_order(L, "none"),
    "bce-second-order-edges": _bce_second_order_at_edges,
    "elu-alpha-1": lambda L: _elu_orders(L, 1.0),
    "elu-alpha-0.7": lambda L: _elu_orders(L, 0.7),
    "elu-then-sqrt": _elu_then_sqrt,
    "max-all-selects": _max_all_select,
    "norm-at-zero": _norm_at_zero,
    "div-twice": _div_twice,
    "floor-division": _floor_division,
    "lstm-cell-c-only": lambda L: _lstm_cell_c_only(L, False),
    "lstm-cell-h-and-c": lambda L: _lstm_cell_c_only(L, True),
    "lstm-cell-nan-bias": _lstm_cell_nan_bias,
    "embedding-0-wide": _embedding_0_wide,
}


@pytest.mark.parametrize("name", FIXED)
def test_fixed_formulas_match_torch(torch_ref, name):
    _compare(torch_ref, FIXED[name])


def test_elu_second_derivative_gradchecks():
    import retrograd as rt

    x = rt.tensor([-1.5, -0.3, 0.4, 2.0], dtype=rt.float64, requires_grad=True)
    assert rt.autograd.gradgradcheck(lambda t: rt.nn.functional.elu(t, alpha=0.7), (x,))


# ---- scatter with 0-d tensors: PyTorch counts them as 1-d of size 1 -----------------------

SCATTER_CASES = [((1,), 0, [1, 1], ()), ((1, 1, 1), -2, [[[0], [1]]], ()), ((), 0, [0], ()),
                 ((), 0, [0, 0], ()), ((), 0, [[0]], ()), ((), 0, 0, ()), ((), 0, 0, (1,)),
                 ((), 0, [0], (2,)), ((2,), 0, 0, ()), ((2,), 0, [1], (1,)), ((), 0, [], ()),
                 ((2,), 0, [], ()), ((2, 2), 1, [[0]], ()), ((), 0, [1], ()),
                 ((3,), 0, [[0]], ())]


def _scatter(L, op, xs, d, idx, ss):
    x = L.ones(xs, dtype=L.float64, requires_grad=True)
    src = L.full(ss, 2.0, dtype=L.float64, requires_grad=True)
    i = L.tensor(idx, dtype=L.long)
    out = x.scatter(d, i, 3.0) if op == "value" else getattr(x, op)(d, i, src)
    if xs == () and ss != ():  # PyTorch's backward refuses src's gradient shape there
        return out
    out.backward(L.full(out.shape, 5.0, dtype=L.float64))
    return out, x.grad, src.grad


@pytest.mark.parametrize("op", ["scatter", "scatter_add", "value"])
@pytest.mark.parametrize("case", range(len(SCATTER_CASES)))
def test_scatter_with_0d_tensors_matches_torch(torch_ref, op, case):
    _compare(torch_ref, lambda L: _scatter(L, op, *SCATTER_CASES[case]))


# ---- overlap and version checks ---------------------------------------------------------


def _write(write, shape=(6,)):
    def program(L):
        a = L.arange(6.0).reshape(shape)
        write(a)
        return a

    return program


def _mm_unbind_add(L):
    v = L.zeros(1, 0, dtype=L.float64).mm(L.zeros(0, 1, dtype=L.float64))
    return v.add_(v.unbind(0)[0])


def _masked_write(L, x, mask_of, value_of):
    mask = mask_of(x)
    x[mask] = value_of(x)
    return x


CHECKS = {
    "add_-shifted": _write(lambda a: a[1:].add_(a[:-1])),
    "mul_-disjoint": _write(lambda a: a[:3].mul_(a[3:])),
    "add_-same-view": _write(lambda a: a.view(2, 3).add_(a.view(2, 3))),
    "pow_-transposed": _write(lambda a: a.view(2, 3).pow_(a.view(3, 2).t())),
    "div_-element": _write(lambda a: a[:2].div_(a[1])),
    "sub_-row-of-itself": _write(lambda a: a.sub_(a[0]), (1, 6)),
    "add_-size-1-strides": _write(lambda a: a.view(1, 6).add_(a.view(6, 1).t())),
    "add_-mm-unbind": _mm_unbind_add,
    "mask-0d-into-itself": lambda L: _masked_write(L, L.tensor(1.0), lambda x: x < 5,
                                                   lambda x: x),
    "mask-0d-none-true": lambda L: _masked_write(L, L.tensor(1.0), lambda x: x > 5,
                                                 lambda x: x),
    "mask-1d-element": lambda L: _masked_write(L, L.tensor([1.0, 2.0]), lambda x: x < 5,
                                               lambda x: x[0]),
    "mask-1d-itself": lambda L: _masked_write(L, L.tensor([1.0]), lambda x: x < 5,
                                              lambda x: x),
}


@pytest.mark.parametrize("name", CHECKS)
def test_overlap_checks_match_torch(torch_ref, name):
    _compare(torch_ref, CHECKS[name])


def _nll_weight_changed(L):
    x = L.tensor([[2.0, 2.0]], dtype=L.float64, requires_grad=True)
    w = L.tensor([1.0, 0.0], dtype=L.float64)
    loss = L.nn.functional.nll_loss(x, L.tensor([1]), weight=w)
    w.sigmoid_()
    loss.backward()
    return x.grad


def test_nll_loss_checks_its_weight_version(torch_ref):
    err = _compare(torch_ref, _nll_weight_changed)
    assert err[0] is RuntimeError


def test_layer_norm_bias_written_in_place_before_backward_raises(torch_ref):
    """layer_norm saves its bias as PyTorch does, so an in-place write to it is reported."""
    for lib in (retrograd, torch_ref):
        x = lib.ones(2, 3, dtype=lib.float64, requires_grad=True)
        b = lib.zeros(3, dtype=lib.float64, requires_grad=True) * 1
        y = lib.nn.functional.layer_norm(x, (3,), lib.ones(3, dtype=lib.float64), b)
        with lib.no_grad():
            b.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_nll_loss_ignored_rows_are_zero_even_when_they_hold_nan(torch_ref):
    for reduction in ("sum", "mean", "none"):
        got = [lib.nn.functional.nll_loss(
            lib.tensor([[-1.0], [NAN], [2.0]], dtype=lib.float64), lib.tensor([0, 0, 0]),
            reduction=reduction, ignore_index=0) for lib in (retrograd, torch_ref)]
        # (mean over no counted row is 0 / 0 = NaN in both)
        np.testing.assert_array_equal(np.asarray(got[0].tolist()), np.asarray(got[1].tolist()))


def test_layer_norm_backward_of_an_empty_batch(torch_ref):
    for lib in (retrograd, torch_ref):
        x = lib.zeros(0, 3, dtype=lib.float64, requires_grad=True)
        lib.nn.functional.layer_norm(x, (3,)).backward(lib.zeros(0, 3, dtype=lib.float64))
        assert tuple(x.grad.shape) == (0, 3)


def test_layer_norm_over_an_empty_normalized_shape(torch_ref):
    for lib in (retrograd, torch_ref):
        x = lib.zeros(0, 3, 1, dtype=lib.float64, requires_grad=True)
        y = lib.nn.functional.layer_norm(x.logsumexp(-1), (0, 3))
        y.backward(lib.zeros(0, 3, dtype=lib.float64))
        assert tuple(x.grad.shape) == (0, 3, 1)


def test_gather_input_written_before_backward_raises(torch_ref):
    """gather saves its input, as PyTorch's does, so an in-place write to it is reported."""
    for lib in (retrograd, torch_ref):
        x = lib.tensor([[1.0], [2.0], [3.0]], dtype=lib.float64, requires_grad=True)
        h = x / 3
        out = h.gather(1, lib.tensor([[0], [0], [0]]))
        h.div_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def test_batch_norm_running_stats_written_before_backward_raise_in_eval(torch_ref):
    for lib in (retrograd, torch_ref):
        mean = lib.tensor([-2.0, -1.0], dtype=lib.float64)
        var = lib.tensor([1.0, 2.0], dtype=lib.float64)
        bias = lib.zeros(2, dtype=lib.float64, requires_grad=True)
        y = lib.nn.functional.batch_norm(lib.ones(3, 2, dtype=lib.float64), mean, var,
                                         bias=bias, training=False)
        mean.div_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        # training updates the running statistics without making backward refuse
        m = lib.nn.BatchNorm1d(2).double()
        x = lib.ones(4, 2, dtype=lib.float64, requires_grad=True)
        (m(x).sum() + m(x * 2).sum()).backward()
