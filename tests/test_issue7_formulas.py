"""Regression tests for the formula defects of issue 7, each a small program run on retrograd and
on PyTorch from the same float64 data, comparing values, gradients and errors.

Covered: selections instead of mask products in backward (no 0 * inf NaN), saving only what the
needed gradients use (no false "modified by an inplace operation"), second derivatives through
relu, leaky_relu, relu6 and hardtanh, 0-d tensors in shape ops and softmax, and the small ones
(// and %, tensor() overflow, float16 cumsum, sign(nan), relu'(nan), the derivatives of 0 ** x
and x ** 0.5 at 0 and -0, adaptive_avg_pool2d with NaN, where's condition, contiguous advanced
indexing, index_select's errors, ``retrograd.datasets``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from optable import check_derivatives

import retrograd as rt

INF = float("inf")
NAN = float("nan")


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _same(a, b) -> bool:
    """Equal values (NaN equal to NaN, of either sign), equal shapes, and equal signs of zeros
    and infinities."""
    a, b = np.asarray(_np(a), dtype=np.float64), np.asarray(_np(b), dtype=np.float64)
    return (a.shape == b.shape and np.allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)
            and bool(np.all((np.signbit(a) == np.signbit(b)) | np.isnan(a))))


def _run(lib, program):
    """The program's results as a list of arrays, or (exception type, message)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = program(lib)
        except Exception as e:  # noqa: BLE001 - comparing which exception each library raises
            return type(e), str(e)
    return [None if o is None else _np(o) for o in (out if isinstance(out, tuple) else (out,))]


def _compare(torch, program):
    mine, theirs = _run(rt, program), _run(torch, program)
    if isinstance(theirs, tuple) or isinstance(mine, tuple):
        assert isinstance(mine, tuple) and isinstance(theirs, tuple), (mine, theirs)
        assert mine[0] is theirs[0], (mine, theirs)
        return mine
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        assert (a is None) == (b is None), (mine, theirs)
        if a is not None:
            assert _same(a, b), f"retrograd {a}\ntorch     {b}"
    return mine


def _grad(lib, f, values, dtype="float64"):
    x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
    f(lib, x).sum().backward()
    return x.grad


def _grad2(lib, f, values):
    """The first derivative (with a graph) and the second: torch gives zeros, not None."""
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    (g,) = lib.autograd.grad(f(lib, x).sum(), x, create_graph=True)
    (gg,) = lib.autograd.grad(g.sum(), x, allow_unused=True)
    return g, gg


# ---- 1. selections, not mask products: no NaN from 0 * inf -----------------------------------

SELECTIONS = {
    "pairwise-distance": lambda L: _grad(
        L, lambda L, x: (x - L.tensor([1.0, 1.0, 1.0], dtype=L.float64)).clamp(min=0).sqrt(),
        [0.5, 2.0, 1.0]),
    "relu-log": lambda L: _grad(L, lambda L, x: L.relu(x).log(), [-1.0, 2.0, 0.0]),
    "clamp-max-log": lambda L: _grad(L, lambda L, x: x.clamp(max=0).neg().log(), [1.0, -2.0]),
    "clamp-both-log": lambda L: _grad(L, lambda L, x: x.clamp(-1, 0.5).add(1).log(),
                                      [-3.0, 0.2, 2.0]),
    "clamp-tensor-lo": lambda L: _grad(
        L, lambda L, x: x.clamp(min=L.zeros(2, dtype=L.float64)).log(), [-1.0, 2.0]),
    "clamp-tensor-hi": lambda L: _grad(
        L, lambda L, x: x.clamp(max=L.zeros(2, dtype=L.float64)).neg().log(), [1.0, -2.0]),
    "clamp-tensor-bounds": lambda L: _clamp_bounds(L),
    "where-log": lambda L: _grad(
        L, lambda L, x: L.where(x > 0, x, L.tensor(0.0, dtype=L.float64)).log(), [-1.0, 2.0]),
    "maximum-log": lambda L: _grad(
        L, lambda L, x: L.maximum(x, L.zeros(2, dtype=L.float64)).log(), [-1.0, 2.0]),
    "minimum-log": lambda L: _grad(
        L, lambda L, x: L.minimum(x, L.zeros(2, dtype=L.float64)).neg().log(), [1.0, -2.0]),
    "maximum-nan-ties": lambda L: _extremum_grads(L, L.maximum),
    "minimum-nan-ties": lambda L: _extremum_grads(L, L.minimum),
    "round-times-inf": lambda L: _grad(L, lambda L, x: L.round(x) * INF, [1.2, -2.0]),
    "floor-times-inf": lambda L: _grad(L, lambda L, x: x.floor() * INF, [1.2, -2.0]),
    "sign-times-inf": lambda L: _grad(L, lambda L, x: x.sign() * INF, [1.2, 0.0]),
    "pow0-times-inf": lambda L: _grad(L, lambda L, x: x ** 0 * INF, [1.2, -2.0, 0.0]),
    "hardtanh-log": lambda L: _grad(L, lambda L, x: L.nn.functional.hardtanh(x, 0.0, 1.0).log(),
                                    [-1.0, 0.5]),
    "relu6-log": lambda L: _grad(L, lambda L, x: L.nn.functional.relu6(x).log(), [-1.0, 0.5]),
    "relu-grad-at-nan": lambda L: _grad(L, lambda L, x: L.relu(x), [NAN, 1.0, -1.0]),
    "relu-grad-at-nan-f32": lambda L: _grad(L, lambda L, x: L.relu(x), [NAN, 1.0], "float32"),
    "hardtanh-grad-at-nan": lambda L: _grad(L, lambda L, x: L.nn.functional.hardtanh(x),
                                            [NAN, 0.5, 3.0]),
}


def _clamp_bounds(L):
    x = L.tensor([-1.0, 0.5, 2.0, -1.0], dtype=L.float64)
    lo = L.tensor([0.0, 0.5, 0.0, 1.0], dtype=L.float64, requires_grad=True)
    hi = L.tensor([0.0, 0.5, 1.0, 0.0], dtype=L.float64, requires_grad=True)
    x.clamp(lo, hi).sum().backward()
    return lo.grad, hi.grad


def _extremum_grads(L, fn):
    x = L.tensor([NAN, 1.0, 2.0, 3.0], dtype=L.float64, requires_grad=True)
    y = L.tensor([1.0, NAN, 2.0, 0.0], dtype=L.float64, requires_grad=True)
    (fn(x, y) * L.tensor([1.0, 2.0, 3.0, INF], dtype=L.float64)).sum().backward()
    return x.grad, y.grad


@pytest.mark.parametrize("name", SELECTIONS)
def test_backward_selects_like_torch(torch_ref, name):
    _compare(torch_ref, SELECTIONS[name])


def test_pairwise_distances_have_finite_gradients():
    x = rt.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]], dtype=rt.float64, requires_grad=True)
    d2 = (x[:, None, :] - x[None, :, :]).pow(2).sum(-1)
    d2.clamp(min=1e-300).sqrt().sum().backward()  # a zero distance on the diagonal, and 0 <-> 2
    assert np.isfinite(x.grad.numpy()).all()


def test_selection_backwards_differentiate_again():
    check_derivatives(lambda x, y: rt.maximum(x, y) * rt.minimum(x, y).clamp(-0.5, 0.5),
                      [0.3, -1.2, 1.7], [-0.9, 0.1, 0.8])
    check_derivatives(lambda x: rt.where(x > 0, x * x, x * 3).clamp(min=-1.0), [0.3, -0.2, 1.7])


# ---- 2. save only what the needed gradients use ----------------------------------------------


def _b(L):
    a = L.tensor([1.0, -2.0, 3.0], dtype=L.float64, requires_grad=True)
    return a, a * 1


def _inplace_after_product(L, product):
    a, b = _b(L)
    y = product(L, b)
    with L.no_grad():
        b.add_(1)
    y.sum().backward()
    return a.grad


def _matmul_then_inplace(L, x_shape, w_shape, op=lambda L, h, w: h @ w):
    x = L.tensor(np.arange(1.0, 1.0 + np.prod(x_shape)).reshape(x_shape), dtype=L.float64,
                 requires_grad=True)
    w = L.tensor(np.arange(2.0, 2.0 + np.prod(w_shape)).reshape(w_shape), dtype=L.float64)
    h = x * 1
    y = op(L, h, w)
    with L.no_grad():
        h.add_(1)
    y.sum().backward()
    return x.grad


def _scalar_mul_then_add_(L):
    a, b = _b(L)
    y = b * 2
    b.add_(1)  # recorded: b now has AddBackward0, y's node kept only the 2
    y.sum().backward()
    return a.grad


def _add_alpha_self(L):
    a, b = _b(L)
    b.add_(b, alpha=2)
    b.sum().backward()
    return a.grad


SAVES = {
    "mul-scalar-then-add_": _scalar_mul_then_add_,
    "add_-self-alpha": _add_alpha_self,
    "rmul-scalar": lambda L: _inplace_after_product(L, lambda L, b: 2 * b),
    "div-scalar": lambda L: _inplace_after_product(L, lambda L, b: b / 2),
    "mul-const-tensor": lambda L: _inplace_after_product(
        L, lambda L, b: b * L.tensor([1.0, 2.0, 3.0], dtype=L.float64)),
    "mm-const": lambda L: _matmul_then_inplace(L, (1, 2), (2, 2)),
    "mv-const": lambda L: _matmul_then_inplace(L, (2,), (2, 2)),  # vector @ matrix
    "matmul-batch-const": lambda L: _matmul_then_inplace(L, (2, 1, 2), (2, 2)),
    "bmm-const": lambda L: _matmul_then_inplace(L, (2, 1, 2), (2, 2, 3),
                                                lambda L, h, w: L.bmm(h, w)),
    "dot-const": lambda L: _matmul_then_inplace(L, (2,), (2,), lambda L, h, w: h.dot(w)),
    "linear-const": lambda L: _matmul_then_inplace(
        L, (1, 2), (3, 2), lambda L, h, w: L.nn.functional.linear(h, w)),
    "linear-bias-const": lambda L: _matmul_then_inplace(
        L, (1, 2), (3, 2), lambda L, h, w: L.nn.functional.linear(h, w, w[:, 0])),
    "addmm-const": lambda L: _matmul_then_inplace(
        L, (1, 2), (2, 2), lambda L, h, w: L.addmm(w[0], h, w)),
    # still an error: the changed tensor is needed
    "mul-both-need-grad": lambda L: _inplace_after_product(
        L, lambda L, b: b * L.ones(3, dtype=L.float64, requires_grad=True)),
    "div-by-changed": lambda L: _inplace_after_product(L, lambda L, b: 2 / b),
    "matmul-weight-changed": lambda L: _matmul_then_inplace(
        L, (1, 2), (2, 2), lambda L, h, w: w.requires_grad_() @ h.t()),
}


@pytest.mark.parametrize("name", SAVES)
def test_saves_what_torch_saves(torch_ref, name):
    _compare(torch_ref, SAVES[name])


def test_mul_by_constant_saves_only_the_constant():
    x = rt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    assert y.grad_fn._saved_self is None
    assert float(y.grad_fn._saved_other) == 3.0
    z = x / rt.tensor([2.0, 4.0])
    assert z.grad_fn._saved_self is None and z.grad_fn._saved_other is not None


# ---- 3. second derivatives through the piecewise-linear activations -----------------------------

SECOND = {
    "relu": lambda L: _grad2(L, lambda L, x: L.relu(x), [-1.0, 0.5, 2.0]),
    "leaky_relu": lambda L: _grad2(L, lambda L, x: L.nn.functional.leaky_relu(x, 0.2),
                                   [-1.0, 0.5, 2.0]),
    "relu6": lambda L: _grad2(L, lambda L, x: L.nn.functional.relu6(x), [-1.0, 0.5, 7.0]),
    "hardtanh": lambda L: _grad2(L, lambda L, x: L.nn.functional.hardtanh(x), [-2.0, 0.5, 2.0]),
    "relu-times-x": lambda L: _grad2(L, lambda L, x: L.relu(x) * x, [-1.0, 0.5, 2.0]),
    "leaky-times-x": lambda L: _grad2(L, lambda L, x: L.nn.functional.leaky_relu(x) * x,
                                      [-1.0, 0.5, 2.0]),
}


@pytest.mark.parametrize("name", SECOND)
def test_second_derivatives_are_zeros_as_torch(torch_ref, name):
    _compare(torch_ref, SECOND[name])


def test_activation_backward_nodes_have_torch_names():
    x = rt.tensor([-1.0, 0.5], requires_grad=True)
    for fn, name in [(rt.nn.functional.leaky_relu, "LeakyReluBackwardBackward0"),
                     (rt.nn.functional.hardtanh, "HardtanhBackwardBackward0"),
                     (rt.nn.functional.relu6, "HardtanhBackwardBackward0"),
                     (rt.relu, "ThresholdBackwardBackward0")]:
        (g,) = rt.autograd.grad(fn(x).sum(), x, create_graph=True)
        assert g.grad_fn.name() == name


# ---- 4. 0-d tensors -------------------------------------------------------------------------


def _zero_d(L):
    return L.tensor(2.5, dtype=L.float64, requires_grad=True)


ZERO_D = {
    "permute-no-dims": lambda L: _zero_d(L).permute(),
    "permute-empty": lambda L: _zero_d(L).permute(()),
    "permute-one": lambda L: _zero_d(L).permute(0),
    "mT": lambda L: _zero_d(L).mT * 2,
    "mH": lambda L: _zero_d(L).mH * 2,
    "T": lambda L: _zero_d(L).T * 2,
    "adjoint": lambda L: _zero_d(L).adjoint() * 2,
    "transpose-neg": lambda L: _zero_d(L).transpose(-1, -1),
    "transpose-0-neg": lambda L: _zero_d(L).transpose(0, -1),
    "transpose-out": lambda L: _zero_d(L).transpose(0, 1),
    "flatten": lambda L: _zero_d(L).flatten(),
    "flatten-neg": lambda L: _zero_d(L).flatten(-1),
    "flatten-out": lambda L: _zero_d(L).flatten(1),
    "flatten-out-end": lambda L: _zero_d(L).flatten(0, 2),
    "softmax-0": lambda L: _zero_d(L).softmax(0),
    "softmax-neg": lambda L: _zero_d(L).softmax(-1),
    "softmax-1": lambda L: _zero_d(L).softmax(1),
    "softmax-neg2": lambda L: L.nn.functional.softmax(_zero_d(L), dim=-2),
    "log_softmax-1": lambda L: _zero_d(L).log_softmax(1),
    "unflatten": lambda L: _zero_d(L).unflatten(0, (1,)),
}


@pytest.mark.parametrize("name", ZERO_D)
def test_zero_d_shape_ops_match_torch(torch_ref, name):
    _compare(torch_ref, ZERO_D[name])


def test_zero_d_transposes_backpropagate():
    x = _zero_d(rt)
    with pytest.warns(UserWarning, match="0-D"):
        assert x.mT is x
    y = x.transpose(-1, -1) * 3
    y.backward()
    assert y.grad_fn.next_functions[0][0].name() == "TransposeBackward0" and x.grad.item() == 3


# ---- 5. small ones ---------------------------------------------------------------------------


def _xy(L):
    x = L.tensor([5.5, -5.5, 3.0, -3.0, 0.0], dtype=L.float64, requires_grad=True)
    y = L.tensor([2.0, 2.0, -2.0, 0.7, 3.0], dtype=L.float64, requires_grad=True)
    return x, y


def _mod_grads(L, fn):
    x, y = _xy(L)
    out = fn(L, x, y)
    out.sum().backward()
    return out, x.grad, y.grad


I, J = [7, -7, 7, -7, 0], [2, 2, -2, -3, 5]
DIVISION = {
    "floordiv": lambda L: _xy(L)[0] // _xy(L)[1],
    "floordiv-scalar": lambda L: _xy(L)[0] // 2,
    "rfloordiv": lambda L: 7 // _xy(L)[1],
    "floordiv-int": lambda L: L.tensor(I) // L.tensor(J),
    "floordiv-int-float": lambda L: L.tensor(I) // 2.5,
    "rfloordiv-int": lambda L: 7 // L.tensor(J),
    "floor_divide-fn": lambda L: L.floor_divide(L.tensor(I), L.tensor(J)),
    "floor_divide-method": lambda L: _xy(L)[0].floor_divide(2),
    "mod": lambda L: _xy(L)[0] % _xy(L)[1],
    "mod-int": lambda L: L.tensor(I) % L.tensor(J),
    "mod-int-float": lambda L: L.tensor(I) % 2.5,
    "rmod": lambda L: 7 % _xy(L)[1],
    "mod-signed-zeros": lambda L: L.tensor([-0.0, 0.0, -0.0, 4.0, -4.0]) % L.tensor(
        [2.0, -2.0, -2.0, 2.0, 2.0]),
    "rmod-float-int": lambda L: 7.5 % L.tensor(J),
    "remainder-fn-scalar-first": lambda L: L.remainder(2, L.tensor(J)),
    "fmod": lambda L: L.fmod(_xy(L)[0], _xy(L)[1]),
    "fmod-int": lambda L: L.tensor(I).fmod(L.tensor(J)),
    "fmod-int-float": lambda L: L.fmod(L.tensor(I), 2.5),
    "floordiv-by-zero-int": lambda L: L.tensor(I) // L.tensor([0, 1, 1, 1, 1]),
    "mod-by-zero-int": lambda L: L.tensor(I) % L.tensor([0, 1, 1, 1, 1]),
    "fmod-by-zero-int": lambda L: L.fmod(L.tensor(I), L.tensor([0, 1, 1, 1, 1])),
    "floordiv-by-zero-float": lambda L: L.tensor([1.0, -1.0, 0.0]) // 0.0,
    "mod-by-zero-float": lambda L: L.tensor([1.0, -1.0, 0.0]) % 0.0,
    "floordiv-bool": lambda L: L.tensor([True]) // L.tensor([True]),
    "mod-bool": lambda L: L.tensor([True]) % L.tensor([True]),
    "fmod-bool": lambda L: L.fmod(L.tensor([True]), L.tensor([True])),
    "bool-floordiv-int": lambda L: L.tensor([True, False]) // 2,
    "grad-remainder": lambda L: _mod_grads(L, lambda L, x, y: L.remainder(x, y)),
    "grad-mod-operator": lambda L: _mod_grads(L, lambda L, x, y: x % y),
    "grad-fmod": lambda L: _mod_grads(L, lambda L, x, y: L.fmod(x, y)),
    "grad-mod-scalar": lambda L: _mod_grads(L, lambda L, x, y: x % 2 + y),
    "grad-fmod-scalar": lambda L: _mod_grads(L, lambda L, x, y: x.fmod(-2) + y),
    "grad-floordiv-raises": lambda L: _mod_grads(L, lambda L, x, y: x // y),
    "grad-floordiv-scalar-raises": lambda L: _mod_grads(L, lambda L, x, y: (x // 2) * y),
    "grad-rmod-raises": lambda L: _mod_grads(L, lambda L, x, y: 7 % y + x),
}


@pytest.mark.parametrize("name", DIVISION)
def test_division_ops_match_torch(torch_ref, name):
    _compare(torch_ref, DIVISION[name])


def test_division_dtypes_and_node_names_match_torch(torch_ref):
    for lib_out, torch_out in [(rt.tensor(I) // 2.5, torch_ref.tensor(I) // 2.5),
                               (rt.tensor(I) % rt.tensor(J),
                                torch_ref.tensor(I) % torch_ref.tensor(J)),
                               (7.5 % rt.tensor(J), 7.5 % torch_ref.tensor(J))]:
        assert str(lib_out.dtype) == str(torch_out.dtype)
    x, y = _xy(rt)
    tx, ty = _xy(torch_ref)
    for f in (lambda x, y: x // y, lambda x, y: x % y, lambda x, y: x % 2, lambda x, y: 7 % y,
              lambda x, y: x.fmod(y), lambda x, y: x.fmod(2)):
        assert f(x, y).grad_fn.name() == type(f(tx, ty).grad_fn).__name__


def test_remainder_differentiates_twice():
    check_derivatives(lambda x, y: rt.remainder(x, y) * x + rt.fmod(y, x) * y,
                      [5.5, -5.3, 3.2], [2.0, 2.1, -1.3])


TENSOR_DATA = {
    "2**63": lambda L: L.tensor([2**63]),
    "2**63-0d": lambda L: L.tensor(2**63),
    "-2**63-1": lambda L: L.tensor([-2**63 - 1]),
    "int64-limits": lambda L: L.tensor([2**63 - 1, -2**63]),
    "nested-2**64": lambda L: L.tensor([[1, 2**64]]),
    "mixed-row": lambda L: L.tensor([[2**63, 1]]),
    "with-a-float": lambda L: L.tensor([1.5, 2**63]),
    "as-float64": lambda L: L.tensor([2**64], dtype=L.float64),
    "as-float32": lambda L: L.tensor([2**70], dtype=L.float32),
    "as-bool": lambda L: L.tensor([2**63], dtype=L.bool),
    "uint8-overflow": lambda L: L.tensor([300], dtype=L.uint8),
    "int8-overflow": lambda L: L.tensor([128], dtype=L.int8),
    "int32-overflow": lambda L: L.tensor([2**31], dtype=L.int32),
    "float-into-int64": lambda L: L.tensor([1e20], dtype=L.int64),
    "uint8-max": lambda L: L.tensor([255], dtype=L.uint8),
}


@pytest.mark.parametrize("name", TENSOR_DATA)
def test_tensor_from_wide_ints_matches_torch(torch_ref, name):
    _compare(torch_ref, TENSOR_DATA[name])


def test_tensor_overflow_message():
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        rt.tensor([2**63])


MISC = {
    "cumsum-float16": lambda L: L.full((4096,), 0.1, dtype=L.float16).cumsum(0)[-1:],
    "cumsum-float16-rows": lambda L: L.full((2, 3000), 0.1, dtype=L.float16).cumsum(1)[:, -3:],
    "cumsum-float16-grad": lambda L: _grad(L, lambda L, x: x.cumsum(0) * 0.5,
                                           [0.1] * 3000, "float16"),
    "relu-clamp-keep-x-at-ties": lambda L: tuple(
        f(L.tensor([-0.0, 0.0, -1.0, NAN])) for f in (
            L.relu, lambda t: t.clamp(min=0), lambda t: t.clamp(max=0), lambda t: t.clamp(0, 1),
            lambda t: t.clamp(min=-0.0), lambda t: t.clamp(min=L.tensor(0.0)))),
    "sign-nan": lambda L: L.sign(L.tensor([NAN, -0.0, 0.0, -2.0, INF])),
    "d-0**x": lambda L: _grad(L, lambda L, x: 0.0 ** x, [0.0, 1.0, -1.0, 2.0]),
    "d-x**0.5-at-zeros": lambda L: _grad(L, lambda L, x: x ** 0.5, [-0.0, 0.0, 1.0]),
    "d-x**-0.5-at-zeros": lambda L: _grad(L, lambda L, x: x ** -0.5, [-0.0, 0.0, 4.0]),
    "x**-0.5-at-zeros": lambda L: L.tensor([-0.0, 0.0, 4.0]) ** -0.5,
    "x**0.5-at-zeros": lambda L: L.tensor([-0.0, 0.0, 4.0]) ** 0.5,
    "d-x**tensor-at-zeros": lambda L: _grad(
        L, lambda L, x: x ** L.tensor([0.5, 0.5], dtype=L.float64), [-0.0, 0.0]),
    "x**0-at-zero": lambda L: _grad(L, lambda L, x: x ** 0, [0.0, INF]),
    "where-float-condition": lambda L: L.where(L.tensor([1.0, 0.0]), L.ones(2), L.zeros(2)),
    "where-int-condition": lambda L: L.where(L.tensor([1, 0]), L.ones(2), L.zeros(2)),
    "where-bool-condition": lambda L: L.where(L.tensor([True, False]), L.ones(2), 0.0),
    "index_select-dim1": lambda L: L.zeros(3, 4).index_select(1, L.tensor([0, 5])),
    "index_select-dim1-negative": lambda L: L.zeros(3, 4).index_select(1, L.tensor([-1])),
    "index_select-dim0": lambda L: L.zeros(3, 4).index_select(0, L.tensor([3])),
    "index_select-1d": lambda L: L.zeros(5).index_select(0, L.tensor([5])),
    "index_select-0d": lambda L: L.zeros(()).index_select(0, L.tensor([0, 7])),
}


@pytest.mark.parametrize("name", MISC)
def test_small_ones_match_torch(torch_ref, name):
    _compare(torch_ref, MISC[name])


def test_float16_cumsum_accumulates_in_float32():
    assert rt.full((4096,), 0.1, dtype=rt.float16).cumsum(0)[-1].item() == 409.5


def _pool_input(L):
    a = np.random.default_rng(0).normal(size=(2, 3, 7, 9))
    a[0, 1, 3, 4] = NAN
    a[1, 2, 0, 0] = INF
    return L.tensor(a, requires_grad=True)


@pytest.mark.parametrize("size", [(3, 4), (1, 1), (7, 9), (4, 2), (5, None)])
def test_adaptive_avg_pool2d_keeps_nan_local(torch_ref, size):
    def program(L):
        x = _pool_input(L)
        y = L.nn.functional.adaptive_avg_pool2d(x, size)
        g = np.random.default_rng(1).normal(size=tuple(y.shape))
        g[0, 0, 0, 0] = NAN
        y.backward(L.tensor(g))
        return y, x.grad

    out, _ = _compare(torch_ref, program)
    assert np.isfinite(out).mean() > 0.5  # not every output NaN


def test_advanced_indexing_results_are_contiguous(torch_ref):
    for key in [lambda L: (slice(None), L.tensor([0, 2])), lambda L: (slice(None), [0, 2]),
                lambda L: (slice(None), L.tensor([True, False, True, False]))]:
        _compare(torch_ref, lambda L, key=key: L.arange(12.0).reshape(3, 4)[key(L)].view(-1))
    for key in [(slice(None), [0, 1], slice(None)), (slice(None), slice(None), [0, 1]),
                (slice(None), [0, 1], [0, 1]), ([0, 1], slice(None), [0, 1])]:
        _compare(torch_ref, lambda L, key=key: L.arange(24.0).reshape(2, 3, 4)[key].view(-1))
    assert rt.arange(12.0).reshape(3, 4)[:, rt.tensor([0, 2])].is_contiguous()


def test_datasets_after_plain_import():
    import subprocess
    import sys

    code = "import retrograd; print(retrograd.datasets.load_digits.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "load_digits"


# ---- found by the differential fuzzer (tests/fuzz) -----------------------------------------


def _create_graph_grads(L, f, *leaves):
    """``autograd.grad`` with create_graph of f's sum: each gradient's values and whether it
    requires grad, then (when one does) the leaves' gradients of the gradients' sum."""
    xs = [L.tensor(v, dtype=L.float64, requires_grad=rg) for v, rg in leaves]
    need = [x for x in xs if x.requires_grad]
    gs = L.autograd.grad(f(L, *xs).sum(), need, create_graph=True)
    out = [g.detach() for g in gs] + [L.tensor(float(g.requires_grad)) for g in gs]
    again = [g.sum() for g in gs if g.requires_grad]
    if again:
        sum(again).backward()
        out += [L.tensor(-7.0) if x.grad is None else x.grad for x in need]
    return tuple(out)


_W22 = [[[[1.0, -2.0], [0.5, 3.0]]]]
FUZZ_FOUND = {
    # fused backwards: every gradient requires grad when any input of the fused op does
    "conv2d-input-only": lambda L: _create_graph_grads(
        L, lambda L, x, w: L.nn.functional.conv2d(x, w), ([[[[1.0, 2, 3], [4, 5, 6]]]], True),
        (_W22, False)),
    "conv2d-weight-only": lambda L: _create_graph_grads(
        L, lambda L, x, w, b: L.nn.functional.conv2d(x, w, b),
        ([[[[1.0, 2, 3], [4, 5, 6]]]], False), (_W22, True), ([0.5], True)),
    "layer_norm-bias-only": lambda L: _create_graph_grads(
        L, lambda L, x, b: L.nn.functional.layer_norm(x, (3,), None, b),
        ([[1.0, 2.0, 4.0]], False), ([0.1, 0.2, 0.3], True)),
    "batch_norm-bias-only": lambda L: _create_graph_grads(
        L, lambda L, x, b: L.nn.functional.batch_norm(x, None, None, None, b, training=True),
        ([[1.0, 2.0], [3.0, 5.0]], False), ([0.1, 0.2], True)),
    "batch_norm-weight-only": lambda L: _create_graph_grads(
        L, lambda L, x, w: L.nn.functional.batch_norm(x, None, None, w, training=True),
        ([[1.0, 2.0], [3.0, 5.0]], False), ([0.7, 0.2], True)),
    # var without degrees of freedom, prod of a 0-d tensor: PyTorch's backward has no graph
    "var-one-element": lambda L: _create_graph_grads(L, lambda L, x: x.var(), ([2.0], True)),
    "var-0d": lambda L: _create_graph_grads(L, lambda L, x: x.var(), (2.0, True)),
    "var-0d-dim": lambda L: _create_graph_grads(L, lambda L, x: x.var(0), (2.0, True)),
    "var-two-correction-2": lambda L: _create_graph_grads(
        L, lambda L, x: x.var(correction=2) * -1, ([0.0, 1.0], True)),
    "var-dim-correction-3": lambda L: _create_graph_grads(
        L, lambda L, x: x.var(0, correction=3), ([0.0, 1.0], True)),
    "var-one-element-then-exp": lambda L: _create_graph_grads(
        L, lambda L, x: x.var().exp(), ([2.0], True)),
    "var-empty-correction-0": lambda L: _create_graph_grads(
        L, lambda L, x: x.var(correction=0).log(), ([], True)),
    "prod-0d": lambda L: _create_graph_grads(L, lambda L, x: x.prod(0, keepdim=True), (3.0, True)),
    "prod-1-element": lambda L: _create_graph_grads(L, lambda L, x: x.prod(), ([3.0], True)),
    # 0.0 ** x: grad * where(...), so NaN in grad and the second derivative's 0 * inf show
    "0**x-second-order": lambda L: _create_graph_grads(
        L, lambda L, x: 0.0 ** x, ([-0.0, 0.0, 1.0, -1.0], True)),
    "0**x-nan-grad": lambda L: _grad(L, lambda L, x: (0.0 ** x).std(-1, keepdim=True), 1.0),
    # forward values
    "(-inf)**tensor(0.5)": lambda L: L.tensor([-INF, -0.0, 4.0]) ** L.tensor(0.5),
    "cumsum-of-negative-zeros": lambda L: L.tensor([[-0.0, -0.0], [-0.0, 1.0]]).cumsum(1),
    "norm-negative-p-of-empty": lambda L: L.zeros(0).norm(-2),
    "norm-negative-p-of-empty-dim": lambda L: L.zeros(0, 2).norm(-1, dim=0),
    "norm-negative-p-over-nonempty-dim": lambda L: L.zeros(0, 2).norm(-1, dim=1),
    # pooling and nll_loss: fused backwards whose double backward gives the input zeros
    "avg_pool2d-second-order": lambda L: _create_graph_grads(
        L, lambda L, x: L.nn.functional.avg_pool2d(x, 2), ([[[1.0, 2.0], [3.0, 4.0]]], True)),
    "max_pool2d-second-order": lambda L: _create_graph_grads(
        L, lambda L, x: L.nn.functional.max_pool2d(x, 2), ([[[1.0, 2.0], [3.0, 4.0]]], True)),
    "nll_loss-second-order": lambda L: _create_graph_grads(
        L, lambda L, x: L.nn.functional.nll_loss(x, L.tensor([1, 0])),
        ([[1.0, 2.0], [3.0, 4.0]], True)),
    # every row ignored: a mean of nothing (NaN), but the gradient is exactly 0
    "nll_loss-all-ignored": lambda L: _grad(
        L, lambda L, x: L.nn.functional.nll_loss(x, L.tensor([0, 0]), ignore_index=0),
        [[1.0, 2.0], [3.0, 4.0]]),
    "cross_entropy-all-ignored": lambda L: _create_graph_grads(
        L, lambda L, x: L.nn.functional.cross_entropy(x, L.tensor([0, 0]), ignore_index=0),
        ([[1.0, 2.0], [3.0, 4.0]], True)),
    "nll_loss-zero-total-weight": lambda L: _grad(
        L, lambda L, x: L.nn.functional.nll_loss(
            x, L.tensor([0, 1]), ignore_index=0, weight=L.tensor([1.0, 0.0], dtype=L.float64)),
        [[1.0, 2.0], [3.0, 4.0]]),
    "sum_to_size-0d": lambda L: _sum_to_size_0d(L),
    # writes whose source overlaps the destination: PyTorch refuses partial overlaps
    "copy_-partial-overlap": lambda L: _arange6(L, lambda x: x[1:].copy_(x[:5])),
    "copy_-same-memory": lambda L: _arange6(L, lambda x: x.copy_(x)),
    "copy_-disjoint-columns": lambda L: _arange6(
        L, lambda x: x.view(3, 2)[:, 0].copy_(x.view(3, 2)[:, 1])),
    "setitem-slice-partial-overlap": lambda L: _arange6(L, lambda x: x.__setitem__(
        slice(1, 3), x[:2])),
    "setitem-mask-from-itself": lambda L: _arange6(L, lambda x: x.__setitem__(
        L.tensor([True] * 6), x)),
    "setitem-index-from-own-memory": lambda L: _arange6(L, lambda x: x.__setitem__(
        L.tensor([0, 1]), x[4:])),
    "setitem-one-value-through-mask": lambda L: _arange6(L, lambda x: x.__setitem__(
        L.tensor([True] + [False] * 5), x[2:3])),
    "setitem-one-value-through-index": lambda L: _arange6(L, lambda x: x.__setitem__(
        L.tensor([0]), x[2:3])),
    "setitem-0d-into-itself": lambda L: _setitem_0d_into_itself(L),
    # backward from a view of a view that was made under no_grad: gradient dropped, no error
    "view-of-no-grad-view": lambda L: _no_grad_view_then_view(L),
}


def _no_grad_view_then_view(L):
    x = L.tensor([1.0, 2.0], dtype=L.float64, requires_grad=True)
    with L.no_grad():
        v = x[:1]
    w = v.view(1, 1)
    w.backward(L.ones(1, 1, dtype=L.float64))
    return L.tensor(float(w.requires_grad)), L.tensor(float(x.grad is None))


@pytest.mark.parametrize("name", FUZZ_FOUND)
def test_fuzzer_findings_match_torch(torch_ref, name):
    _compare(torch_ref, FUZZ_FOUND[name])


def _sum_to_size_0d(L):
    x = L.tensor(2.0, dtype=L.float64, requires_grad=True) * 1
    with L.no_grad():
        y = x.sum_to_size([])
    return y, L.tensor(float(y.requires_grad)), L.tensor(float(y is x))


def _arange6(L, write):
    x = L.arange(6.0)
    write(x)
    return x


def _setitem_0d_into_itself(L):
    x = L.tensor(-1.0, dtype=L.float64)
    x[None] = x
    return x
