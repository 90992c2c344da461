"""retrograd.func (grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, functional_call)
against torch.func on the same float64 data: values, the pytree structure of the results,
shapes, requires_grad, nesting, has_aux and argnums, and the type of every error."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import retrograd
from retrograd import func as rf
from retrograd.func._pytree import tree_flatten, tree_map, tree_unflatten

A = np.random.default_rng(0).standard_normal(3)
B = np.random.default_rng(1).standard_normal((2, 3))
Pair = namedtuple("Pair", "a b")


def _t(lib, a, requires_grad=False):
    return lib.tensor(np.array(a), dtype=lib.float64, requires_grad=requires_grad)


def assert_same(r, t, *, atol=1e-10) -> None:
    """The same containers (type, length, dict keys in order), shapes, values, requires_grad."""
    if isinstance(t, (tuple, list)):
        assert type(r) is type(t) and len(r) == len(t), (type(r), type(t))
        for a, b in zip(r, t):
            assert_same(a, b, atol=atol)
        return
    if isinstance(t, dict):
        assert type(r) is type(t) and list(r) == list(t), (r.keys(), t.keys())
        for k in t:
            assert_same(r[k], t[k], atol=atol)
        return
    if not hasattr(t, "shape"):
        assert r == t
        return
    assert isinstance(r, retrograd.Tensor), type(r)
    assert tuple(r.shape) == tuple(t.shape)
    np.testing.assert_allclose(r.detach().numpy(), t.detach().numpy(), atol=atol, rtol=1e-8)
    assert r.requires_grad == t.requires_grad, (r.requires_grad, t.requires_grad)


def both(torch_ref, build):
    """``build(lib)`` on retrograd and on torch, compared."""
    assert_same(build(retrograd), build(torch_ref))


def f2(x, y):
    return (x.sin() * y).sum() + (x ** 3).sum()


def fdict(d):
    return {"o": (d["x"].exp() * d["y"]).sum(0), "p": [d["x"] * 2, d["y"].sum()]}


def xy(lib, requires_grad=False):
    return _t(lib, A, requires_grad), _t(lib, B, requires_grad)


# ---- values and structure against torch.func ----------------------------------------------

CASES = {
    "grad": lambda lib: lib.func.grad(f2)(*xy(lib)),
    "grad argnums=1": lambda lib: lib.func.grad(f2, argnums=1)(*xy(lib)),
    "grad argnums=-1": lambda lib: lib.func.grad(f2, argnums=-1)(*xy(lib)),
    "grad argnums tuple": lambda lib: lib.func.grad(f2, argnums=(1, 0))(*xy(lib)),
    "grad dict input": lambda lib: lib.func.grad(
        lambda d, s: (fdict(d)["o"] * s).sum())({"y": _t(lib, B), "x": _t(lib, A)}, 2.0),
    "grad kwargs": lambda lib: lib.func.grad(lambda x, *, k: (x * k).sum())(
        _t(lib, A), k=_t(lib, A)),
    "grad has_aux": lambda lib: lib.func.grad(
        lambda x: (f2(x, _t(lib, B)), {"a": x * 2, "n": (x.sum(),)}), has_aux=True)(_t(lib, A)),
    "grad unused input": lambda lib: lib.func.grad(lambda x, y: (x * 2).sum(), (0, 1))(
        *xy(lib)),
    "grad_and_value": lambda lib: lib.func.grad_and_value(f2, argnums=(0, 1))(*xy(lib)),
    "grad_and_value has_aux": lambda lib: lib.func.grad_and_value(
        lambda x: (x.sum() ** 2, [x.exp()]), has_aux=True)(_t(lib, A)),
    "vjp": lambda lib: (lambda r: (r[0], r[1]((_t(lib, B), _t(lib, A)))))(
        lib.func.vjp(lambda x, y: (x * y, x.exp()), *xy(lib))),
    "vjp single": lambda lib: (lambda r: (r[0], r[1](_t(lib, A))))(
        lib.func.vjp(lambda x: x.sin() * 2, _t(lib, A))),
    "vjp dict has_aux": lambda lib: (lambda r: (r[0], r[1](
        {"o": _t(lib, A), "p": [_t(lib, A), _t(lib, 1.5)]}), r[2]))(
        lib.func.vjp(lambda d: (fdict(d), d["x"].sum()), {"x": _t(lib, A), "y": _t(lib, B)},
                     has_aux=True)),
    "jvp": lambda lib: lib.func.jvp(lambda x, y: (x * y, x.exp().sum()), xy(lib),
                                    (_t(lib, A[::-1].copy()), _t(lib, B * 2))),
    "jvp has_aux": lambda lib: lib.func.jvp(lambda x: (x.sin(), x * 3), (_t(lib, A),),
                                            (_t(lib, A),), has_aux=True),
    "jvp constant output": lambda lib: lib.func.jvp(lambda x: (x * 2, _t(lib, B)),
                                                    (_t(lib, A),), (_t(lib, A),)),
    "jacrev": lambda lib: lib.func.jacrev(lambda x: x.sin() * x.sum())(_t(lib, A)),
    "jacrev argnums tuple": lambda lib: lib.func.jacrev(
        lambda x, y: (x * y).sum(1), argnums=(0, 1))(*xy(lib)),
    "jacrev dict in and out": lambda lib: lib.func.jacrev(fdict)(
        {"x": _t(lib, A), "y": _t(lib, B)}),
    "jacrev has_aux": lambda lib: lib.func.jacrev(lambda x: (x.exp(), x.sum()),
                                                  has_aux=True)(_t(lib, A)),
    "jacrev scalar": lambda lib: lib.func.jacrev(lambda x: (x * x).sum())(_t(lib, A)),
    "jacfwd": lambda lib: lib.func.jacfwd(lambda x: x.sin() * x.sum())(_t(lib, A)),
    "jacfwd argnums tuple": lambda lib: lib.func.jacfwd(
        lambda x, y: (x * y).sum(1), argnums=(0, 1))(*xy(lib)),
    "jacfwd dict in and out": lambda lib: lib.func.jacfwd(fdict)(
        {"x": _t(lib, A), "y": _t(lib, B)}),
    "jacfwd has_aux": lambda lib: lib.func.jacfwd(lambda x: (x.exp(), x.sum()),
                                                  has_aux=True)(_t(lib, A)),
    "hessian": lambda lib: lib.func.hessian(lambda x: (x.sin() ** 3).sum())(_t(lib, A)),
    "hessian argnums tuple": lambda lib: lib.func.hessian(f2, argnums=(0, 1))(*xy(lib)),
    "hessian of a matrix input": lambda lib: lib.func.hessian(f2, argnums=1)(*xy(lib)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch_func(torch_ref, name):
    both(torch_ref, CASES[name])


# ---- nesting and requires_grad -------------------------------------------------------------

NESTED = {
    "grad(grad(f))": lambda lib: lib.func.grad(lib.func.grad(lambda x: (x ** 3).sin()))(
        _t(lib, 0.7)),
    "grad(grad(grad(f)))": lambda lib: lib.func.grad(lib.func.grad(lib.func.grad(
        lambda x: x.exp() * x.sin())))(_t(lib, 0.7)),
    "perturbation confusion": lambda lib: lib.func.grad(
        lambda x: lib.func.grad(lambda y: x * y)(x))(_t(lib, 0.7)),
    "inner over a closure": lambda lib: lib.func.grad(
        lambda x: lib.func.grad(lambda y: (x * y ** 2).sum())(_t(lib, A)).sum())(_t(lib, 0.7)),
    "jacrev(jacrev(f))": lambda lib: lib.func.jacrev(lib.func.jacrev(
        lambda x: x.sin() * x.sum()))(_t(lib, A)),
    "jacfwd(jacfwd(f))": lambda lib: lib.func.jacfwd(lib.func.jacfwd(
        lambda x: x.sin() * x.sum()))(_t(lib, A)),
    "jacrev(grad(f)) dict": lambda lib: lib.func.jacrev(lib.func.grad(
        lambda d: (d["a"].exp() * d["b"]).sum()))({"a": _t(lib, A), "b": _t(lib, A * 2)}),
    "grad of vjp": lambda lib: lib.func.grad(lambda v: lib.func.vjp(
        lambda x: x.sin() * x, _t(lib, A))[1](v)[0].pow(2).sum())(_t(lib, A)),
    "grad of jvp": lambda lib: lib.func.grad(lambda x: lib.func.jvp(
        lambda z: z.exp() * z, (x,), (_t(lib, A),))[1].sum())(_t(lib, A)),
    "requires_grad input stays attached": lambda lib: lib.func.grad(
        lambda x: (x ** 3).sum())(_t(lib, A, True)),
    "closure over a leaf stays attached": lambda lib: lib.func.grad(
        lambda y: (_W[lib] * y ** 2).sum())(_t(lib, A)),
    "grad under no_grad": lambda lib: _under_no_grad(lib, lambda: lib.func.grad(
        lambda x: (x ** 3).sum())(_t(lib, A, True))),
}
_W: dict = {}


def _under_no_grad(lib, fn):
    with lib.no_grad():
        return fn()


@pytest.mark.parametrize("name", list(NESTED))
def test_nesting_matches_torch_func(torch_ref, name):
    _W.update({retrograd: _t(retrograd, B[0], True), torch_ref: _t(torch_ref, B[0], True)})
    both(torch_ref, NESTED[name])


def test_attached_results_differentiate_like_torch(torch_ref):
    results = []
    for lib in (retrograd, torch_ref):
        x = _t(lib, A, True)
        w = _t(lib, B[0], True)
        g = lib.func.grad(lambda y, w=w: (w * y.sin() ** 2).sum())(x)
        jac = lib.func.jacrev(lambda y, w=w: w * y.exp())(x)
        results.append(lib.autograd.grad((g * g).sum() + jac.sum(), (x, w)))
    assert_same(*results)


def _fd(f, x: np.ndarray, eps=1e-6) -> np.ndarray:
    cols = []
    for k in range(x.size):
        d = np.zeros_like(x)
        d.flat[k] = eps
        cols.append((f(x + d) - f(x - d)) / (2 * eps))
    return np.stack(cols, -1).reshape(np.shape(f(x)) + x.shape)


def test_against_finite_differences():
    def f(x):
        return (x.sin() ** 3 * x.sum()).sum()

    def num(fn):
        return lambda a: fn(_t(retrograd, a)).detach().numpy()
    x = _t(retrograd, A)
    grad = rf.grad(f)
    np.testing.assert_allclose(grad(x).numpy(), _fd(num(f), A), atol=1e-7)
    np.testing.assert_allclose(rf.jacrev(grad)(x).numpy(), _fd(num(grad), A), atol=1e-6)
    np.testing.assert_allclose(rf.jacfwd(grad)(x).numpy(), _fd(num(grad), A), atol=1e-6)
    np.testing.assert_allclose(rf.hessian(f)(x).numpy(), _fd(num(grad), A), atol=1e-6)
    d2 = rf.grad(rf.grad(lambda s: (s ** 3).sin()))
    np.testing.assert_allclose(
        float(rf.grad(d2)(_t(retrograd, 0.7))),
        _fd(lambda a: d2(_t(retrograd, a)).numpy(), np.array(0.7)), atol=1e-6)
    v = np.array([0.3, -1.0, 2.0])
    _, jv = rf.jvp(grad, (x,), (_t(retrograd, v),))
    np.testing.assert_allclose(jv.numpy(), _fd(num(grad), A) @ v, atol=1e-6)


def test_vjp_fn_can_be_called_again_and_checks_structure():
    out, fn = rf.vjp(lambda x: (x * 2, x.exp()), _t(retrograd, A))
    c = (_t(retrograd, A), _t(retrograd, A))
    first, second = fn(c), fn(c)
    assert isinstance(first, tuple) and len(first) == 1
    np.testing.assert_allclose(first[0].numpy(), second[0].numpy())
    np.testing.assert_allclose(first[0].numpy(), A * 2 + np.exp(A) * A)


# ---- errors: same type as torch.func --------------------------------------------------------

ERRORS = [
    ("grad of a non-scalar", RuntimeError, lambda lib: lib.func.grad(lambda x: x * 2)(_t(lib, A))),
    ("grad of a one-element 1-d output", RuntimeError,
     lambda lib: lib.func.grad(lambda x: x.sum().reshape(1))(_t(lib, A))),
    ("grad of a number", RuntimeError, lambda lib: lib.func.grad(lambda x: 3.0)(_t(lib, A))),
    ("has_aux without a pair", RuntimeError,
     lambda lib: lib.func.grad(lambda x: x.sum(), has_aux=True)(_t(lib, A))),
    ("argnums out of range", RuntimeError,
     lambda lib: lib.func.grad(f2, argnums=2)(*xy(lib))),
    ("argnums negative out of range", RuntimeError,
     lambda lib: lib.func.grad(f2, argnums=-3)(*xy(lib))),
    ("argnums empty", RuntimeError, lambda lib: lib.func.grad(f2, argnums=())(*xy(lib))),
    ("argnums repeated", RuntimeError, lambda lib: lib.func.grad(f2, argnums=(0, 0))(*xy(lib))),
    ("argnums a list", RuntimeError, lambda lib: lib.func.grad(f2, argnums=[0, 1])(*xy(lib))),
    ("argnums a float", RuntimeError, lambda lib: lib.func.grad(f2, argnums=(0.0,))(*xy(lib))),
    ("differentiating a number", ValueError, lambda lib: lib.func.grad(lambda s: s * 2)(2.0)),
    ("a number inside a dict", ValueError,
     lambda lib: lib.func.jacrev(lambda d: d["x"] * 2)({"x": _t(lib, A), "n": 3})),
    ("aux holding a number", RuntimeError,
     lambda lib: lib.func.grad(lambda x: (x.sum(), [x, 3]), has_aux=True)(_t(lib, A))),
    ("differentiating an integer tensor", RuntimeError,
     lambda lib: lib.func.grad(lambda x: x.sum())(lib.tensor([1, 2]))),
    ("jacrev of an integer output", RuntimeError,
     lambda lib: lib.func.jacrev(lambda x: (x > 0).long())(_t(lib, A))),
    ("vjp of a number", RuntimeError, lambda lib: lib.func.vjp(lambda x: 3.0, _t(lib, A))),
    ("vjp has_aux without a pair", RuntimeError,
     lambda lib: lib.func.vjp(lambda x: x * 2, _t(lib, A), has_aux=True)),
    ("vjp of an integer output", RuntimeError,
     lambda lib: lib.func.vjp(lambda x: (x > 0).long(), _t(lib, A))),
    ("vjp_fn cotangent structure", RuntimeError,
     lambda lib: lib.func.vjp(lambda x: (x, x * 2), _t(lib, A))[1](_t(lib, A))),
    ("vjp_fn cotangent shape", RuntimeError,
     lambda lib: lib.func.vjp(lambda x: x * 2, _t(lib, A))[1](_t(lib, B))),
    ("jvp primals not a tuple", RuntimeError,
     lambda lib: lib.func.jvp(lambda x: x * 2, _t(lib, A), _t(lib, A))),
    ("jvp structure mismatch", RuntimeError,
     lambda lib: lib.func.jvp(f2, xy(lib), (_t(lib, A),))),
    ("jvp tangent shape", RuntimeError,
     lambda lib: lib.func.jvp(lambda x: x * 2, (_t(lib, A),), (_t(lib, B),))),
    ("jvp non-tensor primal", RuntimeError,
     lambda lib: lib.func.jvp(lambda x: x * 2, (2.0,), (1.0,))),
    ("jvp empty primals", RuntimeError, lambda lib: lib.func.jvp(lambda: 2, (), ())),
    ("jvp of a number", RuntimeError,
     lambda lib: lib.func.jvp(lambda x: 3.0, (_t(lib, A),), (_t(lib, A),))),
    ("jvp strict, output independent", RuntimeError,
     lambda lib: lib.func.jvp(lambda x: _t(lib, B), (_t(lib, A),), (_t(lib, A),),
                              strict=True)),
    ("jacrev chunk_size 0", ValueError, lambda lib: lib.func.jacrev(f2, chunk_size=0)),
    ("jacrev of a string", RuntimeError, lambda lib: lib.func.jacrev(lambda x: "x")(_t(lib, A))),
    ("jacfwd randomness", RuntimeError,
     lambda lib: lib.func.jacfwd(lambda x: x, randomness="sometimes")(_t(lib, A))),
    ("jacfwd has_aux without a pair", RuntimeError,
     lambda lib: lib.func.jacfwd(lambda x: x * 2, has_aux=True)(_t(lib, A))),
]


@pytest.mark.parametrize("what,exc,call", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(torch_ref, what, exc, call):
    for lib in (retrograd, torch_ref):
        with pytest.raises(exc):
            call(lib)


def test_grad_without_torch_reports_what_is_wrong():
    with pytest.raises(RuntimeError, match="scalar"):
        rf.grad(lambda x: x * 2)(_t(retrograd, A))
    with pytest.raises(RuntimeError, match="only 2 positional"):
        rf.grad(f2, argnums=2)(*xy(retrograd))


# ---- functional_call ---------------------------------------------------------------------

def _model(lib):
    lib.manual_seed(0)
    m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2)).double()
    m.register_buffer("scale", _t(lib, 2.0))
    return m


def _params(lib):
    rng = np.random.default_rng(5)
    shapes = {"0.weight": (4, 3), "0.bias": (4,), "2.weight": (2, 4), "2.bias": (2,)}
    return {k: _t(lib, rng.standard_normal(s)) for k, s in shapes.items()}


def test_functional_call_uses_given_tensors_and_restores(torch_ref):
    results = []
    for lib in (retrograd, torch_ref):
        m = _model(lib)
        before = {**dict(m.named_parameters()), **dict(m.named_buffers())}
        params = _params(lib)
        out = lib.func.functional_call(m, params, (_t(lib, B),))
        out2 = lib.func.functional_call(m, [dict(list(params.items())[:2]),
                                            dict(list(params.items())[2:])], _t(lib, B))
        g = lib.func.grad(lambda p, x, m=m, fc=lib.func.functional_call:
                          fc(m, p, (x,)).pow(2).sum())(params, _t(lib, B))
        after = {**dict(m.named_parameters()), **dict(m.named_buffers())}
        assert list(after) == list(before) and all(after[k] is before[k] for k in before)
        results.append((out, out2, g))
        assert isinstance(m[0].weight, lib.nn.Parameter)
    assert_same(*results)


def test_functional_call_restores_after_an_error():
    m = _model(retrograd)
    w = m[0].weight
    with pytest.raises(RuntimeError):
        rf.functional_call(m, {"0.weight": _t(retrograd, np.ones((4, 5)))}, (_t(retrograd, B),))
    assert m[0].weight is w and isinstance(m[0]._parameters["weight"], retrograd.nn.Parameter)
    with pytest.raises(TypeError):  # the third value is not a tensor: the first two go back
        rf.functional_call(m, {"0.weight": _t(retrograd, np.ones((4, 3))),
                               "0.bias": _t(retrograd, np.ones(4)), "2.bias": 1.0},
                           (_t(retrograd, B),))
    assert m[0].weight is w and m[0].bias is not None and isinstance(m[0].bias,
                                                                     retrograd.nn.Parameter)


def test_functional_call_kwargs_and_new_attribute():
    class Scaled(retrograd.nn.Module):
        def forward(self, x, *, k):
            return x * k * getattr(self, "extra", 1.0)

    m = Scaled()
    out = rf.functional_call(m, {"extra": _t(retrograd, 3.0)}, (_t(retrograd, A),),
                             {"k": _t(retrograd, 2.0)})
    np.testing.assert_allclose(out.numpy(), A * 6)
    assert not hasattr(m, "extra")


def _tied(lib):
    m = lib.nn.Sequential(lib.nn.Linear(3, 3, bias=False), lib.nn.Linear(3, 3, bias=False))
    m[0].weight = lib.nn.Parameter(_t(lib, B.T @ B))
    m[1].weight = m[0].weight
    return m


def test_functional_call_tie_weights(torch_ref):
    results = []
    for lib in (retrograd, torch_ref):
        m = _tied(lib)
        w = _t(lib, np.eye(3) * 2)
        x = (_t(lib, A),)
        tied = lib.func.functional_call(m, {"0.weight": w}, x)
        untied = lib.func.functional_call(m, {"0.weight": w}, x, tie_weights=False)
        same = lib.func.functional_call(m, {"0.weight": w, "1.weight": w}, x)
        with pytest.raises(ValueError):
            lib.func.functional_call(m, {"0.weight": w, "1.weight": w * 1}, x)
        results.append((tied, untied, same))
    assert_same(*results)
    np.testing.assert_allclose(results[0][0].numpy(), 4 * A)


FC_ERRORS = [
    ("strict: missing and unexpected keys", RuntimeError,
     lambda lib: lib.func.functional_call(_model(lib), {"0.weight": _t(lib, np.ones((4, 3))),
                                                        "nope": _t(lib, 1.0)},
                                          (_t(lib, B),), strict=True)),
    ("repeated key in two dicts", ValueError,
     lambda lib: lib.func.functional_call(_model(lib), [{"0.bias": _t(lib, np.ones(4))},
                                                        {"0.bias": _t(lib, np.ones(4))}],
                                          (_t(lib, B),))),
    ("not a dict", ValueError,
     lambda lib: lib.func.functional_call(_model(lib), 5, (_t(lib, B),))),
    ("a list holding a non-dict", ValueError,
     lambda lib: lib.func.functional_call(_model(lib), [{}, 5], (_t(lib, B),))),
    ("value not a tensor", TypeError,
     lambda lib: lib.func.functional_call(_model(lib), {"0.bias": 3}, (_t(lib, B),))),
    ("no such submodule", AttributeError,
     lambda lib: lib.func.functional_call(_model(lib), {"9.bias": _t(lib, 1.0)},
                                          (_t(lib, B),))),
]


@pytest.mark.parametrize("what,exc,call", FC_ERRORS, ids=[e[0] for e in FC_ERRORS])
def test_functional_call_errors_match_torch(torch_ref, what, exc, call):
    for lib in (retrograd, torch_ref):
        with pytest.raises(exc):
            call(lib)


def test_strict_functional_call_accepts_exact_keys():
    m = _model(retrograd)
    full = {**_params(retrograd), "scale": _t(retrograd, 1.0)}
    assert rf.functional_call(m, full, (_t(retrograd, B),), strict=True).shape == (2, 2)


# ---- pytrees -------------------------------------------------------------------------------

def test_pytree_round_trip_and_structure():
    tree = ({"x": 1, "y": [2, (3,)]}, Pair(4, None), 5)
    leaves, spec = tree_flatten(tree)
    assert leaves == [1, 2, 3, 4, 5]
    assert tree_unflatten(leaves, spec) == tree
    assert type(tree_unflatten(leaves, spec)[1]) is Pair
    assert tree_flatten(({"x": 0, "y": [0, (0,)]}, Pair(0, None), 0))[1] == spec
    assert tree_flatten(({"y": [0, (0,)], "x": 0}, Pair(0, None), 0))[1] != spec  # key order
    assert tree_flatten([1, 2])[1] != tree_flatten((1, 2))[1]
    assert tree_map(lambda v: v * 10, [1, {"a": 2}]) == [10, {"a": 20}]
    assert tree_flatten(7) == ([7], tree_flatten(8)[1])
    with pytest.raises(ValueError):
        tree_unflatten([1], spec)
    assert repr(spec) == "({'x': *, 'y': [*, (*,)]}, Pair(*, None), *)"


def test_vmap_is_exported_only_when_present():
    import importlib.util

    has_vmap = importlib.util.find_spec("retrograd.func._vmap") is not None
    assert hasattr(rf, "vmap") == has_vmap
    assert ("vmap" in rf.__all__) == has_vmap


@pytest.mark.parametrize("transform", ["grad", "jacrev", "jacfwd", "hessian"])
def test_vmap_of_transforms_matches_torch_when_present(torch_ref, transform):
    """Per-sample derivatives: vmap (from _vmap.py, when it is there) over each transform."""
    pytest.importorskip("retrograd.func._vmap")

    def build(lib):
        f = (lambda v: (v.sin() ** 2).sum()) if transform in ("grad", "hessian") else (
            lambda v: v.exp() * v.sum())
        return lib.func.vmap(getattr(lib.func, transform)(f))(_t(lib, B))
    both(torch_ref, build)


def test_transform_calls_do_not_keep_their_inputs_alive():
    """Each call's fresh leaves (and its level) are freed once the call's results are."""
    import gc
    import weakref

    from retrograd.func import _transforms

    x = retrograd.randn(50)
    before = len(_transforms._LEAVES)
    results = [rf.grad(lambda v: (v * v).sum())(x) for _ in range(20)]
    probe = weakref.ref(results[0])
    del results
    gc.collect()
    assert probe() is None
    assert len(_transforms._LEAVES) == before


# ---- jvp and jacfwd by forward mode (Note [Forward products]) ------------------------------

def _cube_fn(lib):
    """x ** 3 as a Function whose backward is once-differentiable and whose jvp is defined."""
    from torch.autograd.function import once_differentiable as once_torch

    from retrograd.autograd.function import once_differentiable as once_ours
    once = once_ours if lib is retrograd else once_torch

    class Cube(lib.autograd.Function):
        generate_vmap_rule = True  # (torch's jacfwd runs vmap)

        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)
            ctx.save_for_forward(*inputs)

        @staticmethod
        @once
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return t * 3 * x ** 2

    return Cube


FORWARD = {
    "jvp once-differentiable": lambda lib: lib.func.jvp(
        _cube_fn(lib).apply, (_t(lib, A),), (_t(lib, A * 2),)),
    "jacfwd once-differentiable": lambda lib: lib.func.jacfwd(
        lambda x: _cube_fn(lib).apply(x).sin())(_t(lib, A)),
    "jvp of jvp": lambda lib: lib.func.jvp(lambda x: lib.func.jvp(
        lambda z: z.sin() * z.sum(), (x,), (_t(lib, A),))[1], (_t(lib, A),),
        (_t(lib, A[::-1].copy()),)),
    "jvp of grad": lambda lib: lib.func.jvp(lib.func.grad(
        lambda x: (x.exp() * x).sum()), (_t(lib, A),), (_t(lib, A * 3),)),
    "jacfwd of jacrev": lambda lib: lib.func.jacfwd(lib.func.jacrev(
        lambda x: (x.tanh() * x.sum()).sum()))(_t(lib, A)),
    "jacfwd two args, aux": lambda lib: lib.func.jacfwd(
        lambda x, y: ((x * y).sum(0), y.sum()), argnums=(0, 1), has_aux=True)(
        _t(lib, B[0]), _t(lib, B)),
    "jvp of a layer_norm and an lstm cell": lambda lib: lib.func.jvp(
        lambda x, h: lib.lstm_cell(lib.nn.functional.layer_norm(x, (3,)), (h, h),
                                   _t(lib, np.ones((8, 3)) / 3), _t(lib, np.ones((8, 2)) / 4)),
        (_t(lib, B), _t(lib, B[:, :2])), (_t(lib, B * 2), _t(lib, B[:, 1:]))),
}


@pytest.mark.parametrize("name", list(FORWARD))
def test_forward_products_match_torch_func(torch_ref, name):
    both(torch_ref, FORWARD[name])


def test_jvp_runs_forward_mode_only():
    """A Function whose backward raises still works under jvp and jacfwd: only jvp rules run."""
    class NoBackward(retrograd.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(x)
            return x.exp()

        @staticmethod
        def backward(ctx, grad):
            raise AssertionError("backward must not run")

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return t * x.exp()

    x = _t(retrograd, A)
    out, tangent = rf.jvp(NoBackward.apply, (x,), (_t(retrograd, np.ones(3)),))
    np.testing.assert_allclose(tangent.numpy(), np.exp(A))
    np.testing.assert_allclose(rf.jacfwd(NoBackward.apply)(x).numpy(), np.diag(np.exp(A)))


def test_jacfwd_sees_the_same_random_draws_in_every_column():
    x = _t(retrograd, np.ones(6))
    retrograd.manual_seed(0)
    jac = rf.jacfwd(lambda t: retrograd.nn.functional.dropout(t, 0.5), randomness="same")(x)
    retrograd.manual_seed(0)
    out = retrograd.nn.functional.dropout(x, 0.5)
    np.testing.assert_allclose(jac.numpy(), np.diag(out.numpy()))
