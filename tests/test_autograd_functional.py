"""autograd.functional (vjp, jvp, jacobian, hessian, hvp, vhp) and autograd.grad's
is_grads_batched, against PyTorch on the same float64 data (values, the nesting of tuples,
shapes, requires_grad) and against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
from retrograd.autograd import functional as AF

A = np.random.default_rng(0).standard_normal(3)
B = np.random.default_rng(1).standard_normal((2, 3))
S = np.array(0.7)


def _t(lib, a, requires_grad=False):
    return lib.tensor(np.array(a), dtype=lib.float64, requires_grad=requires_grad)


def assert_same(r, t, *, flags=True, atol=1e-10) -> None:
    """The same nesting of tuples (never a tuple where the other has a Tensor), the same shapes
    and values, and (with ``flags``) the same requires_grad."""
    if isinstance(t, (tuple, list)):
        assert type(r) is type(t) and len(r) == len(t), (type(r), type(t), len(t))
        for a, b in zip(r, t):
            assert_same(a, b, flags=flags, atol=atol)
        return
    assert isinstance(r, retrograd.Tensor), type(r)
    assert tuple(r.shape) == tuple(t.shape)
    np.testing.assert_allclose(r.detach().numpy(), t.detach().numpy(), atol=atol, rtol=1e-8)
    if flags:
        assert r.requires_grad == t.requires_grad


def f_one(lib):
    return lambda x: (x.sin() * x).exp()


def f_two(lib):
    def f(x, y):
        return (x.sin() * y).sum(1), x.exp() * y[0], (y * y).sum()
    return f


def f_scalar(lib):
    return lambda x, y: (x.sin() * y * y).sum() + (x ** 3).sum()


def f_scalar_one(lib):
    return lambda x: (x.sin() ** 3).sum() * x.sum()


def inputs(lib, which, requires_grad=False):
    if which == "one":
        return _t(lib, A, requires_grad)
    return _t(lib, A, requires_grad), _t(lib, B, requires_grad)


CASES = [
    ("vjp", f_one, "one", lambda lib: _t(lib, A[::-1].copy())),
    ("vjp", f_two, "two", lambda lib: (_t(lib, [1.0, -2.0]), _t(lib, A), _t(lib, 0.5))),
    ("vjp", f_scalar_one, "one", lambda lib: None),
    ("jvp", f_one, "one", lambda lib: _t(lib, A[::-1].copy())),
    ("jvp", f_two, "two", lambda lib: (_t(lib, A[::-1].copy()), _t(lib, B * 2))),
    ("hvp", f_scalar_one, "one", lambda lib: _t(lib, A[::-1].copy())),
    ("hvp", f_scalar, "two", lambda lib: (_t(lib, A[::-1].copy()), _t(lib, B * 2))),
    ("vhp", f_scalar_one, "one", lambda lib: _t(lib, A[::-1].copy())),
    ("vhp", f_scalar, "two", lambda lib: (_t(lib, A[::-1].copy()), _t(lib, B * 2))),
]


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name,func,which,v", CASES)
def test_products_match_torch(torch_ref, name, func, which, v, create_graph):
    results = []
    for lib in (retrograd, torch_ref):
        fn = getattr(lib.autograd.functional, name)
        x = inputs(lib, which, requires_grad=create_graph)
        results.append(fn(func(lib), x, v(lib), create_graph=create_graph))
    assert_same(*results)


def _partial(f, y):
    return lambda x: f(x, y)


@pytest.mark.parametrize("vectorize", [False, True])
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("func,which", [(f_one, "one"), (f_two, "two"), (f_two, "one_of_two")])
def test_jacobian_matches_torch(torch_ref, func, which, create_graph, vectorize):
    results = []
    for lib in (retrograd, torch_ref):
        x = inputs(lib, "one" if which == "one" else "two", requires_grad=create_graph)
        f = func(lib)
        if which == "one_of_two":  # a tuple of outputs from a single input tensor
            f, x = _partial(f, _t(lib, B)), x[0]
        results.append(lib.autograd.functional.jacobian(f, x, create_graph=create_graph,
                                                        vectorize=vectorize))
    assert_same(*results)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("vectorize", [False, True])
@pytest.mark.parametrize("func,which", [(f_scalar_one, "one"), (f_scalar, "two")])
def test_hessian_matches_torch(torch_ref, func, which, vectorize, create_graph):
    results = [lib.autograd.functional.hessian(func(lib), inputs(lib, which, create_graph),
                                               vectorize=vectorize, create_graph=create_graph)
               for lib in (retrograd, torch_ref)]
    assert_same(*results)


def test_create_graph_results_differentiate_like_torch(torch_ref):
    """With create_graph=True the results are differentiable w.r.t. the caller's inputs."""
    grads = []
    for lib in (retrograd, torch_ref):
        x = inputs(lib, "one", requires_grad=True)
        jac = lib.autograd.functional.jacobian(f_one(lib), x, create_graph=True)
        _, hv = lib.autograd.functional.hvp(f_scalar_one(lib), x, x * 1, create_graph=True)
        grads.append(lib.autograd.grad((jac ** 2).sum() + hv.sum(), x))
    assert_same(*grads)


def test_results_detached_without_create_graph():
    x = inputs(retrograd, "one", requires_grad=True)
    out, vj = AF.vjp(f_one(retrograd), x, x * 1)
    assert not out.requires_grad and not vj.requires_grad
    assert not AF.jacobian(f_one(retrograd), x).requires_grad


def _fd_jacobian(f, x: np.ndarray, eps=1e-6) -> np.ndarray:
    cols = []
    for k in range(x.size):
        d = np.zeros_like(x)
        d.flat[k] = eps
        cols.append((f(x + d) - f(x - d)) / (2 * eps))
    return np.stack(cols, -1).reshape(np.shape(f(x)) + x.shape)


def test_jacobian_and_hessian_against_finite_differences():
    f = f_one(retrograd)
    num = _fd_jacobian(lambda a: f(_t(retrograd, a)).numpy(), A)
    np.testing.assert_allclose(AF.jacobian(f, _t(retrograd, A)).numpy(), num, atol=1e-7)
    g = f_scalar_one(retrograd)

    def gradient(a):
        return AF.vjp(g, _t(retrograd, a))[1].numpy()
    np.testing.assert_allclose(AF.hessian(g, _t(retrograd, A)).numpy(), _fd_jacobian(gradient, A),
                               atol=1e-6)
    v = np.array([0.3, -1.0, 2.0])
    _, hv = AF.hvp(g, _t(retrograd, A), _t(retrograd, v))
    np.testing.assert_allclose(hv.numpy(), _fd_jacobian(gradient, A) @ v, atol=1e-6)
    _, jv = AF.jvp(f, _t(retrograd, A), _t(retrograd, v))
    np.testing.assert_allclose(jv.numpy(), num @ v, atol=1e-7)


def test_unused_input_gives_zeros_like_torch(torch_ref):
    results = []
    for lib in (retrograd, torch_ref):
        x, y = inputs(lib, "two")
        F = lib.autograd.functional
        results.append((F.jacobian(lambda a, b: a * 2, (x, y)),
                        F.vjp(lambda a, b: a.sum(), (x, y))[1],
                        F.jvp(lambda a, b: (a * 2, b.detach()), (x, y), (x, y))[1],
                        F.hessian(lambda a, b: (a * a).sum(), (x, y))))
    assert_same(*results)


def test_forward_mode_strategy():
    x = inputs(retrograd, "one")
    with pytest.raises(NotImplementedError):
        AF.jacobian(f_one(retrograd), x, strategy="forward-mode", create_graph=True)
    with pytest.raises(NotImplementedError):
        AF.jacobian(f_one(retrograd), x, strategy="forward-mode")  # vectorize=False
    with pytest.raises(RuntimeError):
        AF.jacobian(f_one(retrograd), x, strategy="forward-mode", strict=True, vectorize=True)
    with pytest.raises(AssertionError):
        AF.jacobian(f_one(retrograd), x, strategy="sideways")
    with pytest.raises(AssertionError):
        AF.hessian(f_scalar_one(retrograd), x, outer_jacobian_strategy="sideways")
    try:
        from retrograd.autograd import forward_ad  # noqa: F401
    except ImportError:
        with pytest.raises(NotImplementedError, match="forward_ad"):
            AF.jacobian(f_one(retrograd), x, strategy="forward-mode", vectorize=True)
        return
    for func, which in ((f_one, "one"), (f_two, "two")):
        fwd = AF.jacobian(func(retrograd), inputs(retrograd, which), strategy="forward-mode",
                          vectorize=True)
        rev = AF.jacobian(func(retrograd), inputs(retrograd, which))
        if which == "two":  # forward mode gives lists where reverse mode gives tuples
            assert isinstance(fwd, list) and all(isinstance(row, list) for row in fwd)
            fwd = tuple(tuple(row) for row in fwd)
        assert_same(fwd, rev)


FORWARD = [(f_one, "one"), (f_two, "two"), (lambda lib: lambda x, y: x.exp(), "two"),
           (lambda lib: lambda x: (x.exp(), x * 2), "one")]


@pytest.mark.parametrize("func,which", FORWARD)
def test_forward_mode_matches_torch_when_available(torch_ref, func, which):
    """Lists where PyTorch's forward mode returns lists (tuple outputs or tuple inputs)."""
    pytest.importorskip("retrograd.autograd.forward_ad")
    results = [lib.autograd.functional.jacobian(func(lib), inputs(lib, which),
                                                strategy="forward-mode", vectorize=True)
               for lib in (retrograd, torch_ref)]
    assert_same(*results)


@pytest.mark.parametrize("func,which", [(f_scalar_one, "one"), (f_scalar, "two")])
def test_forward_over_reverse_hessian_when_available(torch_ref, func, which):
    pytest.importorskip("retrograd.autograd.forward_ad")
    results = [lib.autograd.functional.hessian(func(lib), inputs(lib, which), vectorize=True,
                                               outer_jacobian_strategy="forward-mode")
               for lib in (retrograd, torch_ref)]
    assert_same(*results)


# ---- errors: same type as PyTorch --------------------------------------------------------

def _both_raise(torch_ref, exc, call) -> None:
    for lib in (retrograd, torch_ref):
        with pytest.raises(exc):
            call(lib)


def _const(lib):
    return lambda x, y: (x * 2, y.detach() * 3)  # output 1 does not depend on x, nor y at all


ERRORS = [
    ("func returns a number", TypeError,
     lambda lib: lib.autograd.functional.vjp(lambda x: 3.0, inputs(lib, "one"))),
    ("func returns a list", TypeError,
     lambda lib: lib.autograd.functional.jacobian(lambda x: [x], inputs(lib, "one"))),
    ("jvp func returns a number", TypeError,
     lambda lib: lib.autograd.functional.jvp(lambda x: 3.0, inputs(lib, "one"),
                                             inputs(lib, "one"))),
    ("inputs not tensors", TypeError,
     lambda lib: lib.autograd.functional.jacobian(f_one(lib), [1.0, 2.0])),
    ("an input in the tuple not a tensor", TypeError,
     lambda lib: lib.autograd.functional.hessian(f_scalar(lib), (inputs(lib, "one"), 2))),
    ("v not a tensor", TypeError,
     lambda lib: lib.autograd.functional.vjp(f_one(lib), inputs(lib, "one"), [1, 2, 3])),
    ("v of the wrong shape", RuntimeError,
     lambda lib: lib.autograd.functional.vjp(f_one(lib), inputs(lib, "one"), _t(lib, B))),
    ("v of the wrong shape in a tuple", RuntimeError,
     lambda lib: lib.autograd.functional.jvp(f_two(lib), inputs(lib, "two"),
                                             (_t(lib, A), _t(lib, A)))),
    ("v tuple of the wrong length", RuntimeError,
     lambda lib: lib.autograd.functional.hvp(f_scalar(lib), inputs(lib, "two"),
                                             (_t(lib, A),))),
    ("v tuple for a single tensor", RuntimeError,
     lambda lib: lib.autograd.functional.vhp(f_scalar_one(lib), inputs(lib, "one"),
                                             (_t(lib, A), _t(lib, A)))),
    ("v None for a non-scalar output", RuntimeError,
     lambda lib: lib.autograd.functional.vjp(f_one(lib), inputs(lib, "one"))),
    ("v None for a non-scalar input", RuntimeError,
     lambda lib: lib.autograd.functional.jvp(f_one(lib), inputs(lib, "one"))),
    ("hessian of a non-scalar", RuntimeError,
     lambda lib: lib.autograd.functional.hessian(f_one(lib), inputs(lib, "one"))),
    ("hvp of a tuple", RuntimeError,
     lambda lib: lib.autograd.functional.hvp(lambda x: (x.sum(),), inputs(lib, "one"),
                                             inputs(lib, "one"))),
    ("strict: output independent of an input", RuntimeError,
     lambda lib: lib.autograd.functional.jacobian(_const(lib), inputs(lib, "two"),
                                                  strict=True)),
    ("strict: vjp output independent of an input", RuntimeError,
     lambda lib: lib.autograd.functional.vjp(lambda x, y: x * 2, inputs(lib, "two"),
                                             _t(lib, A), strict=True)),
    ("strict: output does not require grad", RuntimeError,
     lambda lib: lib.autograd.functional.vjp(lambda x: x.detach(), inputs(lib, "one"),
                                             _t(lib, A), strict=True)),
    ("strict: linear function has no hessian", RuntimeError,
     lambda lib: lib.autograd.functional.hessian(lambda x: x.sum() * 2, inputs(lib, "one"),
                                                 strict=True)),
    ("strict: hvp of a linear function", RuntimeError,
     lambda lib: lib.autograd.functional.hvp(lambda x: x.sum() * 2, inputs(lib, "one"),
                                             inputs(lib, "one"), strict=True)),
    ("strict and vectorize", RuntimeError,
     lambda lib: lib.autograd.functional.jacobian(f_one(lib), inputs(lib, "one"), strict=True,
                                                  vectorize=True)),
    ("strict with create_graph: constant Jacobian", RuntimeError,
     lambda lib: lib.autograd.functional.jacobian(lambda x: x * 2, inputs(lib, "one"),
                                                  strict=True, create_graph=True)),
    ("forward-mode with create_graph", NotImplementedError,
     lambda lib: lib.autograd.functional.jacobian(f_one(lib), inputs(lib, "one"),
                                                  strategy="forward-mode", create_graph=True)),
    ("forward-mode without vectorize", NotImplementedError,
     lambda lib: lib.autograd.functional.jacobian(f_one(lib), inputs(lib, "one"),
                                                  strategy="forward-mode")),
    ("unknown strategy", AssertionError,
     lambda lib: lib.autograd.functional.jacobian(f_one(lib), inputs(lib, "one"),
                                                  strategy="backward")),
]


@pytest.mark.parametrize("what,exc,call", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(torch_ref, what, exc, call):
    _both_raise(torch_ref, exc, call)


def test_non_strict_twins_of_the_strict_errors_succeed():
    x2 = inputs(retrograd, "two")
    jac = AF.jacobian(_const(retrograd), x2)
    assert float(jac[1][0].abs().sum()) == 0 and float(jac[1][1].abs().sum()) == 0
    assert float(AF.hessian(lambda x: x.sum() * 2, inputs(retrograd, "one")).abs().sum()) == 0


# ---- autograd.grad(is_grads_batched=True) --------------------------------------------------

def test_is_grads_batched_matches_torch(torch_ref):
    results = []
    for lib in (retrograd, torch_ref):
        x, y = inputs(lib, "two", requires_grad=True)
        out1, out2 = (x.sin() * y).sum(1), (x * x).sum()
        v1 = _t(lib, np.arange(8.0).reshape(4, 2))
        v2 = _t(lib, [1.0, -1.0, 2.0, 0.5])
        unused = _t(lib, A, requires_grad=True)
        results.append(lib.autograd.grad((out1, out2), (x, y, unused), (v1, v2),
                                         is_grads_batched=True, allow_unused=True))
    assert results[0][2] is None and results[1][2] is None
    assert_same(results[0][:2], results[1][:2])


def test_is_grads_batched_create_graph_and_errors(torch_ref):
    x = _t(retrograd, A, requires_grad=True)
    (g,) = retrograd.autograd.grad((x ** 3,), (x,), (_t(retrograd, np.eye(3)),),
                                   is_grads_batched=True, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), np.diag(3 * A ** 2))
    (gg,) = retrograd.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * A)
    for lib in (retrograd, torch_ref):
        x = _t(lib, A, requires_grad=True)
        y = x ** 2
        with pytest.raises(RuntimeError):  # the rest of the shape must be the output's
            lib.autograd.grad(y, x, _t(lib, np.ones((3, 2))), is_grads_batched=True,
                              retain_graph=True)
        with pytest.raises(ValueError):  # every grad_output the same batch size
            lib.autograd.grad((y, x * 2), x, (_t(lib, np.ones((4, 3))), _t(lib, np.ones((5, 3)))),
                              is_grads_batched=True)
