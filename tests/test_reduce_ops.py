"""Reductions beyond sum/mean: max/min (full and along a dim), amax/amin, argmax/argmin, prod,
var/std, norm, logsumexp, cumsum.

Each is checked against torch on the same data (values, gradients, grad_fn names, float32 and
float64), against finite differences in float64 up to second order, and at its hard points:
ties, NaNs, zeros in prod, empty dims, and the errors PyTorch raises.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from optable import check_derivatives

import retrograd as rg

R3 = (2, 3, 4)


def _distinct(rng, shape, spacing=0.3):
    """Values all different (also in |x|) and away from 0: no ties, no kinks."""
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n // 2 + 1 / 3) * spacing).reshape(shape)


def _nonzero(rng, shape):
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def _grad_fn(out) -> str | None:
    return None if out.grad_fn is None else type(out.grad_fn).__name__


def _run(lib, fn, arrays, dtype, upstream_seed=1):
    xs = [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True) for a in arrays]
    out = fn(lib, *xs)
    outs = tuple(out) if isinstance(out, tuple) else (out,)
    first = outs[0]
    rng = np.random.default_rng(upstream_seed)
    v = lib.tensor(rng.standard_normal(tuple(first.shape)), dtype=first.dtype)
    grads = lib.autograd.grad(first, xs, v, allow_unused=True)
    return outs, grads


def compare_with_torch(torch, fn, *arrays, dtype="float64", rtol=1e-10, atol=1e-12):
    """Run ``fn(lib, *tensors)`` on both libraries; assert equal outputs, grads and names."""
    r_outs, r_grads = _run(rg, fn, arrays, dtype)
    t_outs, t_grads = _run(torch, fn, arrays, dtype)
    assert len(r_outs) == len(t_outs)
    for r, t in zip(r_outs, t_outs):
        assert str(r.dtype) == str(t.dtype)
        assert tuple(r.shape) == tuple(t.shape)
        np.testing.assert_allclose(r.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)
        assert _grad_fn(r) == _grad_fn(t)
        assert r.requires_grad == t.requires_grad
    for r, t in zip(r_grads, t_grads):
        assert (r is None) == (t is None)
        if r is not None:
            assert str(r.dtype) == str(t.dtype)
            np.testing.assert_allclose(r.numpy(), t.numpy(), rtol=rtol, atol=atol)
    return r_outs, r_grads


# ---- the table: forward, backward and names vs torch; finite differences -------------------

CASES = [
    # name, fn(lib, x), shape, sampler
    ("max-all", lambda lib, x: x.max(), R3, _distinct),
    ("max-dim", lambda lib, x: x.max(1), R3, _distinct),
    ("max-dim-keepdim", lambda lib, x: x.max(dim=-1, keepdim=True), R3, _distinct),
    ("max-0d-dim", lambda lib, x: x.max(0), (), _distinct),
    ("min-all", lambda lib, x: x.min(), R3, _distinct),
    ("min-dim", lambda lib, x: lib.min(x, 2), R3, _distinct),
    ("amax-all", lambda lib, x: x.amax(), R3, _distinct),
    ("amax-dims", lambda lib, x: x.amax((0, 2)), R3, _distinct),
    ("amax-keepdim", lambda lib, x: lib.amax(x, -1, keepdim=True), R3, _distinct),
    ("amin-dims", lambda lib, x: x.amin([0, 1]), R3, _distinct),
    ("amax-0d", lambda lib, x: x.amax(), (), _distinct),
    ("prod-all", lambda lib, x: x.prod(), R3, _nonzero),
    ("prod-dim", lambda lib, x: x.prod(1), R3, _nonzero),
    ("prod-dim-keepdim", lambda lib, x: lib.prod(x, -1, keepdim=True), R3, _nonzero),
    ("prod-0d", lambda lib, x: x.prod(), (), _nonzero),
    ("var-all", lambda lib, x: x.var(), R3, _nonzero),
    ("var-dims-keepdim", lambda lib, x: x.var((0, 2), keepdim=True), R3, _nonzero),
    ("var-correction0", lambda lib, x: x.var(1, correction=0), R3, _nonzero),
    ("var-correction2", lambda lib, x: lib.var(x, -1, correction=2), R3, _nonzero),
    ("var-positional", lambda lib, x: x.var(1, False, True), R3, _nonzero),
    ("var-unbiased-only", lambda lib, x: x.var(False), R3, _nonzero),
    ("std-all", lambda lib, x: x.std(), R3, _nonzero),
    ("std-dim", lambda lib, x: lib.std(x, 2, keepdim=True), R3, _nonzero),
    ("std-unbiased-false", lambda lib, x: x.std(unbiased=False), R3, _nonzero),
    ("norm-all", lambda lib, x: x.norm(), R3, _nonzero),
    ("norm-dim", lambda lib, x: x.norm(dim=1), R3, _nonzero),
    ("norm-dims-keepdim", lambda lib, x: lib.norm(x, 2, (0, 2), True), R3, _nonzero),
    ("norm-fro", lambda lib, x: x.norm(p="fro", dim=(0, 1)), R3, _nonzero),
    ("norm-p1", lambda lib, x: x.norm(p=1), R3, _nonzero),
    ("norm-p3-dim", lambda lib, x: x.norm(3, 1), R3, _nonzero),
    ("norm-p0.5", lambda lib, x: x.norm(p=0.5, dim=-1), R3, _nonzero),
    ("norm-p-1", lambda lib, x: x.norm(p=-1.5), R3, _nonzero),
    ("norm-inf", lambda lib, x: x.norm(p=math.inf, dim=1), R3, _distinct),
    ("norm-neg-inf", lambda lib, x: x.norm(p=-math.inf), R3, _distinct),
    ("norm-0d", lambda lib, x: x.norm(), (), _nonzero),
    ("logsumexp-dim", lambda lib, x: x.logsumexp(1), R3, _nonzero),
    ("logsumexp-dims", lambda lib, x: lib.logsumexp(x, (0, 2)), R3, _nonzero),
    ("logsumexp-keepdim", lambda lib, x: x.logsumexp(-1, keepdim=True), R3, _nonzero),
    ("logsumexp-0d", lambda lib, x: x.logsumexp(0), (), _nonzero),
    ("cumsum-dim", lambda lib, x: x.cumsum(1), R3, _nonzero),
    ("cumsum-neg", lambda lib, x: lib.cumsum(x, -1), R3, _nonzero),
    ("cumsum-0d", lambda lib, x: x.cumsum(0), (), _nonzero),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name, fn, shape, sample", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matches_torch(torch_ref, name, fn, shape, sample, dtype):
    x = sample(np.random.default_rng(len(name)), shape)
    tol = {} if dtype == "float64" else {"rtol": 1e-5, "atol": 1e-6}
    compare_with_torch(torch_ref, fn, x, dtype=dtype, **tol)


@pytest.mark.parametrize("name, fn, shape, sample", CASES, ids=IDS)
def test_finite_differences(name, fn, shape, sample):
    x = sample(np.random.default_rng(len(name)), shape)
    order = 1 if name.startswith("norm-p0.5") else 2  # |x|^(p-1) near 0: FD too rough
    check_derivatives(lambda t: fn(rg, t), x, order=order)


# ---- ties and NaNs ------------------------------------------------------------------------

TIES = np.array([[1.0, 3.0, 3.0, -2.0], [2.0, 2.0, 0.0, 2.0], [-1.0, -1.0, -1.0, 5.0]])


@pytest.mark.parametrize("fn", [
    lambda lib, x: x.max(), lambda lib, x: x.min(),
    lambda lib, x: x.max(1), lambda lib, x: x.min(1), lambda lib, x: x.max(0),
    lambda lib, x: x.min(dim=0, keepdim=True),
    lambda lib, x: x.amax(1), lambda lib, x: x.amin(), lambda lib, x: x.amax((0, 1)),
    lambda lib, x: x.norm(p=math.inf, dim=1), lambda lib, x: x.norm(p=-math.inf),
    lambda lib, x: x.argmax(1), lambda lib, x: x.argmin(0), lambda lib, x: x.argmax(),
], ids=["max", "min", "max-dim1", "min-dim1", "max-dim0", "min-dim0-keepdim", "amax-dim1",
        "amin", "amax-all", "norm-inf", "norm-neg-inf", "argmax-dim1", "argmin-dim0", "argmax"])
def test_ties_follow_torch(torch_ref, fn):
    if not isinstance(fn(rg, rg.tensor(TIES)), tuple) and fn(rg, rg.tensor(TIES)).dtype == rg.int64:
        # argmax: values only
        np.testing.assert_array_equal(fn(rg, rg.tensor(TIES)).numpy(),
                                      fn(torch_ref, torch_ref.tensor(TIES)).numpy())
        return
    compare_with_torch(torch_ref, fn, TIES)


def test_tie_rules_spelled_out():
    x = rg.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], requires_grad=True)
    x.max().backward()  # full max: ties share the gradient evenly
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]]
    x.grad = None
    values, indices = x.max(1)  # along a dim: the first maximal element takes it all
    assert indices.tolist() == [1, 0]
    values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    x.grad = None
    x.amax(1).sum().backward()  # amax: ties share evenly
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]]


NAN = np.array([[1.0, np.nan, 3.0, np.nan], [0.5, 2.0, -1.0, 2.0]])


@pytest.mark.parametrize("fn", [
    lambda lib, x: x.max(), lambda lib, x: x.min(), lambda lib, x: x.max(1),
    lambda lib, x: x.min(1), lambda lib, x: x.amax(1), lambda lib, x: x.amax(),
], ids=["max", "min", "max-dim", "min-dim", "amax-dim", "amax"])
def test_nan_follows_torch(torch_ref, fn):
    r_outs, r_grads = _run(rg, fn, [NAN], "float64")
    t_outs, t_grads = _run(torch_ref, fn, [NAN], "float64")
    for r, t in zip(r_outs, t_outs):
        np.testing.assert_array_equal(r.detach().numpy(), t.detach().numpy())
    np.testing.assert_array_equal(r_grads[0].numpy(), t_grads[0].numpy())


def test_argmax_nan_and_first_occurrence(torch_ref):
    for data in ([1.0, np.nan, 3.0, np.nan], [3.0, 1.0, 3.0], [np.nan, 1.0]):
        for name in ("argmax", "argmin"):
            got = getattr(rg.tensor(data), name)()
            want = getattr(torch_ref.tensor(data), name)()
            assert got.item() == want.item() and got.dtype == rg.int64


# ---- prod with zeros ---------------------------------------------------------------------

ZEROS = np.array([[1.5, 0.0, 3.0, 0.5],     # one zero
                  [0.0, 0.0, 2.0, -1.0],    # two zeros
                  [0.0, 0.0, 0.0, 2.0],     # three zeros
                  [1.0, -2.0, 0.5, 3.0]])   # none


@pytest.mark.parametrize("fn, data", [
    (lambda lib, x: x.prod(1), ZEROS), (lambda lib, x: x.prod(0), ZEROS),
    (lambda lib, x: x.prod(), ZEROS), (lambda lib, x: x.prod(), ZEROS[0]),
    (lambda lib, x: x.prod(), ZEROS[1]), (lambda lib, x: x.prod(1), ZEROS[1:3]),
], ids=["rows", "cols", "all-many-zeros", "one-zero", "two-zeros", "rows-2-and-3-zeros"])
def test_prod_with_zeros_matches_torch_to_second_order(torch_ref, fn, data):
    compare_with_torch(torch_ref, fn, data)
    check_derivatives(lambda t: fn(rg, t), data)
    # the Hessian-vector product through the zero cases, against torch's
    w = np.random.default_rng(3).standard_normal(data.shape)
    hv = []
    for lib in (rg, torch_ref):
        x = lib.tensor(data, requires_grad=True)
        out = fn(lib, x)
        (g,) = lib.autograd.grad(out.sum(), x, create_graph=True)
        (h,) = lib.autograd.grad((g * lib.tensor(w)).sum(), x, allow_unused=True)
        hv.append(np.zeros_like(data) if h is None else h.numpy())
    np.testing.assert_allclose(hv[0], hv[1], rtol=1e-12, atol=1e-12)


def test_prod_single_zero_gradient_is_product_of_the_others():
    x = rg.tensor([2.0, 0.0, 3.0, -1.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, -6.0, 0.0, 0.0]


def test_prod_dtypes(torch_ref):
    for data, dt in (([1, 2, 3], "int32"), ([True, False], "bool"), ([2, 3], "int64")):
        got = rg.tensor(data, dtype=getattr(rg, dt)).prod()
        want = torch_ref.tensor(data, dtype=getattr(torch_ref, dt)).prod()
        assert str(got.dtype) == str(want.dtype) and got.item() == want.item()
    x = rg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.prod(1, dtype=rg.float64).dtype == rg.float64


# ---- dtype results ------------------------------------------------------------------------


def test_integer_inputs(torch_ref):
    data = [[3, -1, 4], [1, 5, -9]]
    for name, call in [("cumsum", lambda t: t.cumsum(1)), ("amax", lambda t: t.amax(0)),
                       ("max", lambda t: t.max()), ("max-dim", lambda t: t.max(1)[0]),
                       ("argmin", lambda t: t.argmin(1)), ("logsumexp", lambda t: t.logsumexp(1)),
                       ("prod", lambda t: t.prod(0))]:
        for dt in ("int32", "int64"):
            got = call(rg.tensor(data, dtype=getattr(rg, dt)))
            want = call(torch_ref.tensor(data, dtype=getattr(torch_ref, dt)))
            assert str(got.dtype) == str(want.dtype), name
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, err_msg=name)
    bools = rg.tensor([True, True, False])
    assert bools.cumsum(0).tolist() == [1, 2, 2] and bools.cumsum(0).dtype == rg.int64
    assert rg.tensor([1.0, 2.0]).cumsum(0, dtype=rg.float64).dtype == rg.float64


def test_argmax_shapes_and_no_grad(torch_ref):
    x = np.random.default_rng(0).standard_normal(R3)
    for kw in ({}, {"keepdim": True}, {"dim": 1}, {"dim": -1, "keepdim": True}):
        got = rg.tensor(x, requires_grad=True).argmax(**kw)
        want = torch_ref.tensor(x).argmax(**kw)
        assert got.tolist() == want.tolist() and tuple(got.shape) == tuple(want.shape)
        assert got.dtype == rg.int64 and not got.requires_grad and got.grad_fn is None
    assert rg.argmin(rg.tensor(5.0), 0).item() == 0


# ---- max/min results ---------------------------------------------------------------------


def test_max_dim_result_type(torch_ref):
    data = [[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]]
    got = rg.tensor(data, requires_grad=True).max(1)
    want = torch_ref.tensor(data, requires_grad=True).max(1)
    assert repr(got) == repr(want)
    values, indices = got
    assert values is got.values and indices is got.indices and got[1] is indices
    assert type(got).__name__ == "max" and isinstance(got, tuple) and len(got) == 2
    assert indices.dtype == rg.int64 and not indices.requires_grad
    assert type(rg.tensor(data).min(0)).__name__ == "min"


def test_max_with_other_tensor_is_elementwise():
    x = rg.tensor([1.0, 5.0, 2.0])
    y = rg.tensor([3.0, 0.0, 2.5])
    assert rg.max(x, y).tolist() == [3.0, 5.0, 2.5]
    assert x.min(y).tolist() == [1.0, 0.0, 2.0]
    assert rg.max(x, other=y).tolist() == [3.0, 5.0, 2.5]


# ---- var / std ----------------------------------------------------------------------------


def test_std_of_constant_has_zero_gradient(torch_ref):
    compare_with_torch(torch_ref, lambda lib, x: x.std(1), np.ones((2, 3)))
    compare_with_torch(torch_ref, lambda lib, x: x.std(), np.full((3,), 2.0))


def test_var_with_too_few_elements_warns(torch_ref):
    for fn in (lambda lib, x: x.var(correction=2), lambda lib, x: x.std(0, correction=3)):
        with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
            got = fn(rg, rg.tensor([1.0, 2.0]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = fn(torch_ref, torch_ref.tensor([1.0, 2.0]))
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert math.isnan(rg.tensor([3.0]).var().item())


def test_var_argument_errors():
    x = rg.tensor([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="either unbiased or correction"):
        x.var(0, unbiased=False, correction=0)
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        rg.tensor([1, 2, 3]).var()
    assert x.var(correction=1.5).item() == pytest.approx(2.0 / 1.5)


# ---- norm ---------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [2, 1, math.inf, -math.inf, 3, 0.5, -1, 0, 1.5])
def test_norm_gradient_at_zero_and_with_zeros(torch_ref, p):
    for data in (np.zeros(3), np.array([1.0, -2.0, 0.0, 2.0])):
        r_outs, r_grads = _run(rg, lambda lib, x: x.norm(p=p), [data], "float64")
        t_outs, t_grads = _run(torch_ref, lambda lib, x: x.norm(p=p), [data], "float64")
        np.testing.assert_allclose(r_outs[0].detach().numpy(), t_outs[0].detach().numpy(),
                                   rtol=1e-12)
        assert (r_grads[0] is None) == (t_grads[0] is None)  # p = 0: no gradient at all
        if r_grads[0] is not None:
            np.testing.assert_allclose(r_grads[0].numpy(), t_grads[0].numpy(), rtol=1e-12)


def test_vector_norm_and_dtype():
    x = rg.tensor([[3.0, 4.0]])
    assert rg.vector_norm(x, 2, dim=1).tolist() == [5.0]
    assert x.norm(dtype=rg.float64).dtype == rg.float64
    assert rg.norm(rg.tensor([1.0, 0.0, -2.0]), p=0).item() == 2.0


# ---- logsumexp ----------------------------------------------------------------------------


def test_logsumexp_is_stable_and_handles_infinities(torch_ref):
    big = np.array([[1000.0, 1000.0, -1000.0], [-1e308, 3.0, 2.0]])
    compare_with_torch(torch_ref, lambda lib, x: x.logsumexp(1), big)
    for data in ([-np.inf, -np.inf], [np.inf, 1.0], [-np.inf, 2.0]):
        r_outs, r_grads = _run(rg, lambda lib, x: x.logsumexp(0), [np.array(data)], "float64")
        t_outs, t_grads = _run(torch_ref, lambda lib, x: x.logsumexp(0), [np.array(data)],
                               "float64")
        np.testing.assert_array_equal(r_outs[0].detach().numpy(), t_outs[0].detach().numpy())
        np.testing.assert_array_equal(r_grads[0].numpy(), t_grads[0].numpy())


# ---- empty inputs -------------------------------------------------------------------------


def _same_result(torch, fn, shape):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = fn(rg.zeros(shape))
        want = fn(torch.zeros(shape))
    got = got[0] if isinstance(got, tuple) else got
    want = want[0] if isinstance(want, tuple) else want
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("fn", [
    lambda t: t.max(1), lambda t: t.min(dim=1, keepdim=True), lambda t: t.amax(1),
    lambda t: t.argmax(1), lambda t: t.prod(), lambda t: t.prod(0), lambda t: t.var(),
    lambda t: t.std(0), lambda t: t.norm(), lambda t: t.norm(p=math.inf, dim=1),
    lambda t: t.logsumexp(0), lambda t: t.logsumexp(1), lambda t: t.cumsum(0),
], ids=["max-dim", "min-keepdim", "amax", "argmax", "prod", "prod-dim", "var", "std",
        "norm", "norm-inf-dim", "logsumexp-empty-dim", "logsumexp", "cumsum"])
def test_empty_inputs_follow_torch(torch_ref, fn):
    _same_result(torch_ref, fn, (0, 3))


@pytest.mark.parametrize("call, exc, phrase", [
    (lambda t: t.max(), RuntimeError, "Expected reduction dim to be specified for input.numel"),
    (lambda t: t.min(), RuntimeError, "Expected reduction dim to be specified"),
    (lambda t: t.argmax(), IndexError, "Expected reduction dim to be specified"),
    (lambda t: t.max(0), IndexError, "max(): Expected reduction dim 0 to have non-zero size"),
    (lambda t: t.amax(0), IndexError, "amax(): Expected reduction dim 0 to have non-zero size"),
    (lambda t: t.amin(), RuntimeError, "amin(): Expected reduction dim to be specified"),
    (lambda t: t.argmin(0), IndexError, "Expected reduction dim 0 to have non-zero size"),
    (lambda t: t.norm(p=math.inf), RuntimeError, "cannot compute the inf norm"),
    (lambda t: t.norm(p=-math.inf, dim=0), RuntimeError, "cannot compute the -inf norm"),
], ids=["max", "min", "argmax", "max-dim", "amax-dim", "amin", "argmin", "inf-norm",
        "neg-inf-norm-dim"])
def test_empty_errors(torch_ref, call, exc, phrase):
    with pytest.raises(exc, match=phrase.replace("(", r"\(").replace(")", r"\)")):
        call(rg.zeros(0, 3))
    with pytest.raises(exc):
        call(torch_ref.zeros(0, 3))


# ---- argument errors ----------------------------------------------------------------------


ARG_ERRORS = [
    ("max-tuple", lambda t: t.max((0, 1)), TypeError),
    ("prod-tuple", lambda t: t.prod((0, 1)), TypeError),
    ("argmax-tuple", lambda t: t.argmax((0, 1)), TypeError),
    ("cumsum-tuple", lambda t: t.cumsum((0, 1)), TypeError),
    ("max-keepdim-only", lambda t: t.max(keepdim=True), TypeError),
    ("prod-keepdim-only", lambda t: t.prod(keepdim=True), TypeError),
    ("logsumexp-no-dim", lambda t: t.logsumexp(), TypeError),
    ("cumsum-no-dim", lambda t: t.cumsum(), TypeError),
    ("max-dim-range", lambda t: t.max(2), IndexError),
    ("amax-dim-range", lambda t: t.amax(-3), IndexError),
    ("cumsum-dim-range", lambda t: t.cumsum(5), IndexError),
    ("var-dim-range", lambda t: t.var(2), IndexError),
    ("amax-repeated-dim", lambda t: t.amax((0, 0)), RuntimeError),
    ("norm-repeated-dim", lambda t: t.norm(dim=(1, -1)), RuntimeError),
    ("norm-int", lambda t: t.long().norm(), RuntimeError),
    ("std-int", lambda t: t.long().std(), RuntimeError),
    ("argmax-bool", lambda t: t.bool().argmax(), RuntimeError),
    ("norm-fro-3-dims", lambda t: t.norm(p="fro", dim=(0, 1, 1)), RuntimeError),
]


@pytest.mark.parametrize("name, call, exc", ARG_ERRORS, ids=[e[0] for e in ARG_ERRORS])
def test_errors_match_torch_types(torch_ref, name, call, exc):
    data = np.arange(6.0).reshape(2, 3)
    with pytest.raises(exc):
        call(rg.tensor(data))
    with pytest.raises(exc):
        call(torch_ref.tensor(data))


def test_error_messages_name_the_problem():
    x = rg.zeros(2, 3)
    with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got 2"):
        x.max(2)
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        x.amax((0, -2))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as "
                                           "input. Got Long"):
        x.long().norm()
    with pytest.raises(RuntimeError, match="no nuclear norm"):  # torch has one (via an SVD)
        x.norm(p="nuc")


def test_bad_input_leaves_state_unchanged():
    x = rg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with pytest.raises(TypeError):
        x.prod((0, 1))
    with pytest.raises(IndexError):
        x.max(3)
    assert x.grad is None and x._version == 0 and x.tolist() == [[1.0, 2.0], [3.0, 4.0]]


# ---- bindings -----------------------------------------------------------------------------


def test_functions_and_methods_are_bound():
    for name in ("max", "min", "amax", "amin", "argmax", "argmin", "prod", "var", "std", "norm",
                 "logsumexp", "cumsum"):
        assert callable(getattr(rg, name)) and callable(getattr(rg.Tensor, name)), name
    x = rg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert rg.logsumexp(x, 1).tolist() == x.logsumexp(1).tolist()


def test_zero_dim_input_accepts_dim_0_and_minus_1(torch_ref):
    for fn in (lambda t: t.sum(0), lambda t: t.mean(-1), lambda t: t.amax(0),
               lambda t: t.prod(0), lambda t: t.logsumexp(-1), lambda t: t.norm(dim=0),
               lambda t: t.cumsum(-1), lambda t: t.max(0, keepdim=True)[0]):
        got, want = fn(rg.tensor(2.5)), fn(torch_ref.tensor(2.5))
        assert tuple(got.shape) == tuple(want.shape) and got.item() == want.item()
