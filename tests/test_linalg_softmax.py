"""Matrix products (matmul/@, mm, bmm, dot, mv, outer, addmm, linear), softmax/log_softmax,
erf and the activations behind nn.functional.

Checked against torch on the same data (values, gradients, grad_fn names, float32/float64),
against finite differences in float64 up to second order, at the activations' kinks, and for
the errors and messages PyTorch gives.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from optable import check_derivatives

import retrograd as rg
from retrograd.ops import activation as act
from retrograd.ops import linalg


def _grad_fn(out) -> str | None:
    return None if out.grad_fn is None else type(out.grad_fn).__name__


def _run(lib, fn, arrays, dtype, upstream_seed=1):
    xs = [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True) for a in arrays]
    out = fn(lib, *xs)
    rng = np.random.default_rng(upstream_seed)
    v = lib.tensor(rng.standard_normal(tuple(out.shape)), dtype=out.dtype)
    grads = lib.autograd.grad(out, xs, v, allow_unused=True)
    return out, grads


def compare_with_torch(torch, fn, *arrays, dtype="float64", rtol=1e-10, atol=1e-12,
                       name=True):
    r_out, r_grads = _run(rg, fn, arrays, dtype)
    t_out, t_grads = _run(torch, fn, arrays, dtype)
    assert str(r_out.dtype) == str(t_out.dtype)
    assert tuple(r_out.shape) == tuple(t_out.shape)
    np.testing.assert_allclose(r_out.detach().numpy(), t_out.detach().numpy(), rtol=rtol,
                               atol=atol)
    if name:
        assert _grad_fn(r_out) == _grad_fn(t_out)
    for i, (r, t) in enumerate(zip(r_grads, t_grads)):
        assert str(r.dtype) == str(t.dtype)
        np.testing.assert_allclose(r.numpy(), t.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i}")


def _arrays(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


# ---- matmul over every combination of dims ------------------------------------------------

MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
    ((5, 2, 3), (5, 3, 4)), ((5, 2, 3), (3, 4)), ((5, 2, 3), (3,)), ((3,), (5, 3, 4)),
    ((2, 3), (5, 3, 4)), ((1, 2, 3), (5, 3, 4)), ((5, 2, 3), (1, 3, 4)),
    ((4, 1, 2, 3), (5, 3, 4)), ((2, 1, 2, 3), (3, 3, 2)), ((4, 5, 2, 3), (3,)),
    ((0, 3), (3, 4)), ((2, 0), (0, 4)), ((0,), (0,)), ((2, 0, 3), (3, 4)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matmul_matches_torch(torch_ref, shapes, dtype):
    arrays = _arrays(0, *shapes)
    tol = {} if dtype == "float64" else {"rtol": 1e-5, "atol": 1e-5}
    # the outer node name follows torch's except where its chain ends in a clone
    name = shapes not in (((2, 3), (5, 3, 4)), ((1, 2, 3), (5, 3, 4)))
    compare_with_torch(torch_ref, lambda lib, a, b: a @ b, *arrays, dtype=dtype, name=name,
                       **tol)
    compare_with_torch(torch_ref, lambda lib, a, b: lib.matmul(a, b), *arrays, dtype=dtype,
                       name=name, **tol)


@pytest.mark.parametrize("shapes", [s for s in MATMUL_SHAPES if 0 not in s[0] + s[1]],
                         ids=lambda s: f"{s[0]}@{s[1]}")
def test_matmul_finite_differences(shapes):
    check_derivatives(lambda a, b: a @ b, *_arrays(1, *shapes))


def test_matmul_one_side_needs_grad(torch_ref):
    for shapes in (((5, 2, 3), (3, 4)), ((3,), (5, 3, 4)), ((2, 3), (3,))):
        a, b = _arrays(2, *shapes)
        for which in (0, 1):
            grads = []
            for lib in (rg, torch_ref):
                x, y = lib.tensor(a), lib.tensor(b)
                target = (x, y)[which].requires_grad_()
                (g,) = lib.autograd.grad((x @ y).sum(), target)
                grads.append(g.numpy())
            np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)


def test_integer_matmul(torch_ref):
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    for x, y in ((a, b), (a, b[:, 0]), (a[0], b[:, 0]), (np.stack([a, a]), b)):
        got = rg.tensor(x) @ rg.tensor(y)
        want = torch_ref.tensor(x) @ torch_ref.tensor(y)
        assert got.dtype == rg.int64 and got.tolist() == want.tolist()


def test_float32_products_stay_float32():
    a = rg.randn(4, 3, requires_grad=True)
    b = rg.randn(3, 2, requires_grad=True)
    for out in (a @ b, rg.mm(a, b), rg.addmm(rg.randn(2), a, b), a @ b[:, 0],
                rg.randn(2, 4, 3) @ b, act.softmax(a, 1)):
        assert out.dtype == rg.float32
    (a @ b).sum().backward()
    assert a.grad.dtype == rg.float32 and b.grad.dtype == rg.float32


# ---- mm, bmm, dot, mv, outer, addmm, linear ---------------------------------------------

PRODUCTS = [
    ("mm", lambda lib, a, b: lib.mm(a, b), [(2, 3), (3, 4)]),
    ("mm-method", lambda lib, a, b: a.mm(b), [(2, 3), (3, 4)]),
    ("bmm", lambda lib, a, b: lib.bmm(a, b), [(2, 2, 3), (2, 3, 4)]),
    ("dot", lambda lib, a, b: lib.dot(a, b), [(3,), (3,)]),
    ("mv", lambda lib, a, b: lib.mv(a, b), [(2, 3), (3,)]),
    ("outer", lambda lib, a, b: lib.outer(a, b), [(3,), (2,)]),
    ("addmm", lambda lib, c, a, b: lib.addmm(c, a, b), [(4,), (2, 3), (3, 4)]),
    ("addmm-full", lambda lib, c, a, b: c.addmm(a, b), [(2, 4), (2, 3), (3, 4)]),
    ("addmm-column", lambda lib, c, a, b: lib.addmm(c, a, b), [(2, 1), (2, 3), (3, 4)]),
    ("addmm-beta-alpha", lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=2.0),
     [(4,), (2, 3), (3, 4)]),
    ("addmm-beta0", lambda lib, c, a, b: lib.addmm(c, a, b, beta=0), [(4,), (2, 3), (3, 4)]),
]


def _linear(lib, *args):
    f = linalg.linear if lib is rg else lib.nn.functional.linear
    return f(*args)


LINEAR = [
    ("linear-2d", _linear, [(2, 3), (4, 3), (4,)]),
    ("linear-3d", _linear, [(2, 2, 3), (4, 3), (4,)]),
    ("linear-1d", _linear, [(3,), (4, 3), (4,)]),
    ("linear-no-bias", _linear, [(2, 3), (4, 3)]),
    ("linear-3d-no-bias", _linear, [(2, 5, 3), (4, 3)]),
    ("linear-1d-weight", _linear, [(2, 3), (3,)]),
]


@pytest.mark.parametrize("name, fn, shapes", PRODUCTS + LINEAR,
                         ids=[c[0] for c in PRODUCTS + LINEAR])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_products_match_torch(torch_ref, name, fn, shapes, dtype):
    tol = {} if dtype == "float64" else {"rtol": 1e-5, "atol": 1e-5}
    compare_with_torch(torch_ref, fn, *_arrays(3, *shapes), dtype=dtype, **tol)


@pytest.mark.parametrize("name, fn, shapes", PRODUCTS + LINEAR,
                         ids=[c[0] for c in PRODUCTS + LINEAR])
def test_products_finite_differences(name, fn, shapes):
    check_derivatives(lambda *ts: fn(rg, *ts), *_arrays(4, *shapes))


def test_addmm_beta0_ignores_nan_input():
    c = rg.tensor([np.nan, np.inf])
    out = rg.addmm(c, rg.ones(1, 3), rg.ones(3, 2), beta=0)
    assert out.tolist() == [[3.0, 3.0]]


# ---- errors: PyTorch's messages, naming the shapes --------------------------------------

ERRORS = [
    ("mm-shapes", lambda lib: lib.randn(2, 3) @ lib.randn(2, 3)),
    ("mm-fn-shapes", lambda lib: lib.mm(lib.randn(2, 3), lib.randn(2, 3))),
    ("mm-not-matrix", lambda lib: lib.mm(lib.randn(2, 3), lib.randn(3))),
    ("mm-self-not-matrix", lambda lib: lib.mm(lib.randn(2, 2, 3), lib.randn(3, 2))),
    ("dot-sizes", lambda lib: lib.randn(3) @ lib.randn(4)),
    ("dot-dims", lambda lib: lib.dot(lib.randn(2, 3), lib.randn(3))),
    ("dot-dtypes", lambda lib: lib.dot(lib.randn(3), lib.randn(3).double())),
    ("mv-sizes", lambda lib: lib.randn(2, 3) @ lib.randn(4)),
    ("vecmat-sizes", lambda lib: lib.randn(4) @ lib.randn(2, 3)),
    ("bmm-batch", lambda lib: lib.bmm(lib.randn(5, 2, 3), lib.randn(4, 3, 4))),
    ("bmm-inner", lambda lib: lib.bmm(lib.randn(5, 2, 3), lib.randn(5, 4, 4))),
    ("bmm-dims", lambda lib: lib.bmm(lib.randn(2, 3), lib.randn(3, 2))),
    ("batched-inner", lambda lib: lib.randn(5, 2, 3) @ lib.randn(5, 4, 4)),
    ("batched-broadcast", lambda lib: lib.randn(5, 2, 3) @ lib.randn(4, 3, 4)),
    ("folded-inner", lambda lib: lib.randn(5, 2, 3) @ lib.randn(4, 4)),
    ("folded-vec", lambda lib: lib.randn(5, 2, 3) @ lib.randn(4)),
    ("0d", lambda lib: lib.randn(2) @ lib.tensor(2.0)),
    ("mm-dtypes", lambda lib: lib.mm(lib.randn(2, 3), lib.randn(3, 2).double())),
    ("matmul-long-float", lambda lib: lib.arange(3) @ lib.randn(3, 4)),
    ("outer-dims", lambda lib: lib.outer(lib.randn(3), lib.randn(2, 3))),
    ("addmm-mat1", lambda lib: lib.addmm(lib.randn(4), lib.randn(3), lib.randn(3, 4))),
    ("addmm-shapes", lambda lib: lib.addmm(lib.randn(4), lib.randn(2, 3), lib.randn(2, 4))),
    ("addmm-bias", lambda lib: lib.addmm(lib.randn(5), lib.randn(2, 3), lib.randn(3, 4))),
    ("addmm-dtype", lambda lib: lib.addmm(lib.randn(2, 2).double(), lib.randn(2, 3),
                                          lib.randn(3, 2))),
]


@pytest.mark.parametrize("name, call", ERRORS, ids=[e[0] for e in ERRORS])
def test_error_messages_start_like_torch(torch_ref, name, call):
    with pytest.raises(Exception) as want:
        call(torch_ref)
    with pytest.raises(type(want.value)) as got:
        call(rg)
    torch_msg = str(want.value).split("\n")[0]
    assert str(got.value).startswith(torch_msg), (str(got.value), torch_msg)


def test_other_errors(torch_ref):
    for lib in (rg, torch_ref):
        with pytest.raises(TypeError):
            lib.randn(2) @ 2
        with pytest.raises(TypeError, match="must be Tensor, not int"):
            lib.matmul(lib.randn(2), 2)
        with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
            lib.ones(2, 3, dtype=lib.bool) @ lib.ones(3, 2, dtype=lib.bool)
        with pytest.raises(RuntimeError, match="must have the same dtype"):
            lib.mv(lib.randn(2, 3), lib.randn(3).double())
        with pytest.raises(RuntimeError, match="vector \\+ matrix @ vector expected"):
            lib.mv(lib.randn(3), lib.randn(3))
        with pytest.raises(RuntimeError, match="mat2 must be a matrix"):
            _linear(lib, lib.randn(2, 3), lib.randn(3), lib.randn(()))
        with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
            _linear(lib, lib.randn(2, 3), lib.randn(4, 2))
        with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype"):
            _linear(lib, lib.randn(2, 3), lib.randn(4, 3).double())


def test_rmatmul_and_errors_leave_inputs_alone():
    x = rg.randn(2, 3, requires_grad=True)
    y = rg.randn(3, 2)
    assert (y.__rmatmul__(x)).tolist() == (x @ y).tolist()
    with pytest.raises(RuntimeError):
        x @ x
    assert x.grad is None and x._version == 0


# ---- softmax, log_softmax ---------------------------------------------------------------

SOFTMAX = [
    ("softmax-dim1", lambda lib, x: x.softmax(1), (2, 3, 4)),
    ("softmax-neg", lambda lib, x: lib.softmax(x, -1), (2, 3, 4)),
    ("softmax-0d", lambda lib, x: x.softmax(0), ()),
    ("softmax-dtype", lambda lib, x: lib.softmax(x, 0, dtype=lib.float32), (3, 2)),
    ("log_softmax-dim0", lambda lib, x: x.log_softmax(0), (2, 3, 4)),
    ("log_softmax-neg", lambda lib, x: lib.log_softmax(x, -1), (2, 3)),
    ("log_softmax-0d", lambda lib, x: lib.log_softmax(x, 0), ()),
]


@pytest.mark.parametrize("name, fn, shape", SOFTMAX, ids=[c[0] for c in SOFTMAX])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_softmax_matches_torch(torch_ref, name, fn, shape, dtype):
    tol = {} if dtype == "float64" and "dtype" not in name else {"rtol": 1e-5, "atol": 1e-6}
    compare_with_torch(torch_ref, fn, *_arrays(5, shape), dtype=dtype, **tol)


@pytest.mark.parametrize("name, fn, shape", SOFTMAX, ids=[c[0] for c in SOFTMAX])
def test_softmax_finite_differences(name, fn, shape):
    if "dtype" in name:
        return  # float32 inside: too coarse for finite differences
    check_derivatives(lambda x: fn(rg, x), *_arrays(6, shape))


def test_softmax_is_stable_for_large_inputs(torch_ref):
    big = np.array([[1000.0, 999.0, -1000.0], [-1e300, 0.0, 1e300]])
    compare_with_torch(torch_ref, lambda lib, x: x.softmax(1), big)
    compare_with_torch(torch_ref, lambda lib, x: x.log_softmax(1), big[:1])
    for data in ([-np.inf, -np.inf], [np.inf, 1.0], [-np.inf, 1.0]):
        for fn in (lambda lib, x: x.softmax(0), lambda lib, x: x.log_softmax(0)):
            got = fn(rg, rg.tensor(data)).numpy()
            want = fn(torch_ref, torch_ref.tensor(data)).numpy()
            np.testing.assert_array_equal(got, want)


def test_softmax_implicit_dim_warns_and_follows_torch(torch_ref):
    for shape in ((3,), (2, 3), (2, 3, 4), (2, 3, 4, 5)):
        x = np.random.default_rng(0).standard_normal(shape)
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            got = act.softmax(rg.tensor(x))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = torch_ref.nn.functional.softmax(torch_ref.tensor(x))
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        act.log_softmax(rg.randn(2, 3))


def test_softmax_errors(torch_ref):
    for lib in (rg, torch_ref):
        with pytest.raises(TypeError):
            lib.softmax(lib.randn(2, 3))
        with pytest.raises(TypeError):
            lib.randn(2, 3).log_softmax()
        with pytest.raises(IndexError):
            lib.softmax(lib.randn(2, 3), 2)
        with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
            lib.softmax(lib.arange(3), 0)
    assert tuple(rg.softmax(rg.zeros(0, 3), 1).shape) == (0, 3)


# ---- erf and the activations --------------------------------------------------------------


def test_erf_is_accurate():
    grid = np.concatenate([np.linspace(-7, 7, 20001), np.geomspace(1e-300, 10, 2000),
                           -np.geomspace(1e-300, 10, 2000), [0.0, -0.0, np.inf, -np.inf]])
    want = np.array([math.erf(v) for v in grid])
    got = act.erf_array(grid)
    # absolute error at the last bit, and relative error near 0 (erf(x) ~ 2x/sqrt(pi))
    np.testing.assert_allclose(got, want, rtol=4e-15, atol=2e-16)
    got32 = act.erf_array(grid.astype(np.float32))
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, want.astype(np.float32), rtol=2e-6, atol=1e-7)
    assert np.isnan(act.erf_array(np.array([np.nan])))[0]
    assert act.erf_array(np.array([0.5], dtype=np.float16)).dtype == np.float16


def _functional(name, **kw):
    def fn(lib, x):
        f = getattr(act, name) if lib is rg else getattr(lib.nn.functional, name)
        return f(x, **kw)

    return fn


ACTIVATIONS = [
    ("erf", lambda lib, x: lib.erf(x)),
    ("erf-method", lambda lib, x: x.erf()),
    ("gelu", _functional("gelu")),
    ("gelu-tanh", _functional("gelu", approximate="tanh")),
    ("silu", _functional("silu")),
    ("softplus", _functional("softplus")),
    ("softplus-beta-threshold", _functional("softplus", beta=2.0, threshold=1.0)),
    ("elu", _functional("elu")),
    ("elu-alpha", _functional("elu", alpha=0.5)),
    ("leaky_relu", _functional("leaky_relu")),
    ("leaky_relu-slope", _functional("leaky_relu", negative_slope=0.2)),
    ("hardtanh", _functional("hardtanh")),
    ("hardtanh-bounds", _functional("hardtanh", min_val=-0.5, max_val=2.0)),
    ("logsigmoid", _functional("logsigmoid")),
]


def _away_from_kinks(seed, shape):
    """Values in [-3, 3] at least 0.05 from the kinks 0, +-1, -0.5, 2 and softplus's 0.5."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, shape)
    for k in (0.0, 1.0, -1.0, -0.5, 2.0, 0.5):
        near = np.abs(x - k) < 0.05
        x = np.where(near, k + 0.1, x)
    return x


@pytest.mark.parametrize("name, fn", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_activations_match_torch(torch_ref, name, fn, dtype):
    tol = {"rtol": 1e-12, "atol": 1e-14} if dtype == "float64" else {"rtol": 2e-6, "atol": 1e-6}
    for shape in ((4, 5), ()):
        compare_with_torch(torch_ref, fn, _away_from_kinks(7, shape), dtype=dtype, **tol)
    # large and tiny inputs: no overflow, same limits as torch
    extreme = np.array([-1000.0, -40.0, -1e-8, 1e-8, 40.0, 1000.0])
    compare_with_torch(torch_ref, fn, extreme, dtype=dtype, **tol)


@pytest.mark.parametrize("name, fn", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activations_finite_differences(name, fn):
    check_derivatives(lambda x: fn(rg, x), _away_from_kinks(8, (3, 4)))


@pytest.mark.parametrize("name, fn", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activations_at_kinks_follow_torch(torch_ref, name, fn):
    kinks = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 20.0])
    compare_with_torch(torch_ref, fn, kinks, rtol=1e-12, atol=1e-14)


def test_activation_errors(torch_ref):
    for lib, f in ((rg, act), (torch_ref, torch_ref.nn.functional)):
        with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
            f.gelu(lib.randn(3), approximate="foo")
        with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
            f.hardtanh(lib.randn(3), 2.0, 1.0)
        for name in ("gelu", "silu", "elu", "softplus", "logsigmoid", "leaky_relu"):
            with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
                getattr(f, name)(lib.arange(3))
        assert f.hardtanh(lib.arange(-2, 3)).tolist() == [-1, -1, 0, 1, 1]


def test_bindings():
    x = rg.randn(2, 3)
    assert rg.softmax(x, 1).tolist() == x.softmax(1).tolist()
    assert rg.log_softmax(x, 0).tolist() == x.log_softmax(dim=0).tolist()
    assert rg.erf(x).tolist() == x.erf().tolist()
    for name in ("matmul", "mm", "bmm", "dot", "mv", "outer", "addmm"):
        assert callable(getattr(rg, name)) and callable(getattr(rg.Tensor, name))
