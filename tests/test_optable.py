"""Tests driven by the op table (tests/optable.py), and the tests of gradcheck itself.

For every (op, variant) of the table: float64 gradcheck and gradgradcheck on retrograd, the
grad_fn name, forward values and input gradients against torch on the same data (also on the
op's kinks and ties, where it has them), float32 in -> float32 out, and the same gradients
with and without ``create_graph`` (Note [Fast backward]); for the binary elementwise ops,
hypothesis over broadcastable shapes; and a coverage test that fails when a Function of
``retrograd.ops`` is applied by no entry (forward or in a backward formula).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from optable import OPS, Variant, all_cases, make_inputs, sample_arrays, to_lib

import retrograd
import retrograd.ops
from retrograd.autograd import Function, gradcheck, gradgradcheck
from retrograd.autograd.gradcheck import GradcheckError

CASES = all_cases()
IDS = [case[0] for case in CASES]
GRADGRAD = [case for case in CASES if case[1].supports_gradgrad]


def _seed(case_id: str) -> int:
    return zlib.crc32(case_id.encode())


def _outputs(out) -> tuple:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _func(op, var):
    return lambda *args: op.fn(retrograd, *args, **var.kwargs)


# ---- (a) finite differences, first and second order --------------------------------------------


@pytest.mark.parametrize("case_id, op, var", CASES, ids=IDS)
def test_gradcheck(case_id, op, var):
    inputs = make_inputs(retrograd, op, var, seed=_seed(case_id))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the inputs are float64: no precision warning expected
        assert gradcheck(_func(op, var), inputs, **op.gradcheck_kwargs)


@pytest.mark.parametrize("case_id, op, var", GRADGRAD, ids=[c[0] for c in GRADGRAD])
@pytest.mark.filterwarnings("ignore:Input #.*not float64:UserWarning")  # float32 grad_outputs
def test_gradgradcheck(case_id, op, var):
    inputs = make_inputs(retrograd, op, var, seed=_seed(case_id))
    assert gradgradcheck(_func(op, var), inputs, **op.gradcheck_kwargs)


@pytest.mark.parametrize("case_id, op, var", CASES, ids=IDS)
def test_grad_fn_name(case_id, op, var):
    inputs = make_inputs(retrograd, op, var, seed=_seed(case_id))
    outs = _outputs(op.fn(retrograd, *inputs, **var.kwargs))
    first = next(o for o in outs if o.requires_grad)
    assert type(first.grad_fn).__name__ == op.expected_grad_fn(var)


# ---- (b) against torch on identical data --------------------------------------------------------


def _run(lib, op, var, arrays, upstream_seed: int, dtype: str = "float64"):
    """Outputs, differentiable inputs, and their gradients for a random upstream gradient."""
    inputs = to_lib(lib, var, arrays, dtype)
    outs = _outputs(op.fn(lib, *inputs, **var.kwargs))
    diff = [o for o in outs if o.requires_grad]
    wrt = [x for x in inputs if x.requires_grad]
    rng = np.random.default_rng(upstream_seed)
    upstream = [lib.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype) for o in diff]
    grads = lib.autograd.grad(diff, wrt, upstream, allow_unused=True)
    return outs, diff, wrt, grads


def _np(t) -> np.ndarray:
    return np.asarray(t.detach().numpy())


def _assert_same(got, want, what: str) -> None:
    assert str(got.dtype) == str(want.dtype), f"{what}: dtype {got.dtype} != torch's {want.dtype}"
    assert tuple(got.shape) == tuple(want.shape), f"{what}: shape {got.shape} != {want.shape}"
    np.testing.assert_allclose(_np(got), _np(want), rtol=1e-10, atol=1e-12, err_msg=what)


def _compare_with_torch(op, var, arrays, seed: int, torch) -> None:
    r_outs, r_diff, _, r_grads = _run(retrograd, op, var, arrays, seed)
    t_outs, t_diff, t_wrt, t_grads = _run(torch, op, var, arrays, seed)
    assert len(r_outs) == len(t_outs)
    for j, (r, t) in enumerate(zip(r_outs, t_outs)):
        _assert_same(r, t, f"output {j}")
        assert r.requires_grad == t.requires_grad, f"output {j}: requires_grad differs"
    t_name = type(t_diff[0].grad_fn).__name__
    assert op.expected_grad_fn(var) == t_name, "the table's grad_fn name is not torch's"
    assert type(r_diff[0].grad_fn).__name__ == t_name
    for i, (r, t, x) in enumerate(zip(r_grads, t_grads, t_wrt)):
        # a gradient that is None on one side must be zero on the other
        r = r if r is not None else retrograd.zeros(tuple(x.shape), dtype=retrograd.float64)
        t = t if t is not None else torch.zeros_like(x)
        _assert_same(r, t, f"gradient of input {i}")


@pytest.mark.parametrize("case_id, op, var", CASES, ids=IDS)
def test_matches_torch(case_id, op, var, torch_ref):
    arrays = sample_arrays(op, var, _seed(case_id))
    _compare_with_torch(op, var, arrays, _seed(case_id) + 1, torch_ref)


KINKS = [case for case in CASES if case[1].kinks is not None]


@pytest.mark.parametrize("case_id, op, var", KINKS, ids=[c[0] for c in KINKS])
def test_kinks_and_ties_match_torch(case_id, op, var, torch_ref):
    """At kinks and ties the gradient is a choice; retrograd must make PyTorch's."""
    arrays = op.kinks(np.random.default_rng(_seed(case_id)), var.float_shapes())
    _compare_with_torch(op, var, arrays, _seed(case_id) + 1, torch_ref)


# ---- (c) binary elementwise ops over broadcastable shapes ---------------------------------------

BINARY_OPS = {op.name: op for op in OPS if op.binary}


@pytest.mark.parametrize("name", list(BINARY_OPS))
@settings(max_examples=8, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1,
                                            max_side=3),
       seed=st.integers(0, 2**31))
def test_broadcasting_matches_torch(torch_ref, name, shapes, seed):
    op = BINARY_OPS[name]
    var = Variant("hypothesis", tuple(shapes.input_shapes))
    arrays = sample_arrays(op, var, seed)
    r_outs, _, _, r_grads = _run(retrograd, op, var, arrays, seed + 1)
    t_outs, _, _, t_grads = _run(torch_ref, op, var, arrays, seed + 1)
    _assert_same(r_outs[0], t_outs[0], "output")
    for i, (r, t) in enumerate(zip(r_grads, t_grads)):
        _assert_same(r, t, f"gradient of input {i}")


# ---- (d) the array fast backward agrees with the tensor backward --------------------------------


def _derivatives(op, var, arrays, seed: int, second_order: bool = False):
    """Gradients of the entry's inputs for a random upstream gradient, computed twice: without
    a graph of the backward (the engine then takes ``fast_backward`` where a Function has one,
    Note [Fast backward]) and with ``create_graph=True`` (always ``backward``, tensor ops).

    With ``second_order``, also backpropagates through the second result, as gradgradcheck
    does (the backward formulas' own backward, run without a graph).
    """
    inputs = to_lib(retrograd, var, arrays)
    outs = [o for o in _outputs(op.fn(retrograd, *inputs, **var.kwargs)) if o.requires_grad]
    wrt = [x for x in inputs if x.requires_grad]
    rng = np.random.default_rng(seed)
    upstream = [retrograd.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype,
                                 requires_grad=True) for o in outs]
    fast = retrograd.autograd.grad(outs, wrt, upstream, retain_graph=True, allow_unused=True)
    graph = retrograd.autograd.grad(outs, wrt, upstream, create_graph=True, allow_unused=True)
    if second_order:
        diff = [g for g in graph if g is not None and g.requires_grad]
        vs = [retrograd.tensor(rng.standard_normal(tuple(g.shape)), dtype=g.dtype) for g in diff]
        if diff:
            retrograd.autograd.grad(diff, wrt + upstream, vs, allow_unused=True)
    return fast, graph


def _arrays_to_check(op, var, case_id: str) -> list:
    """The sampled inputs, and the kinks and ties where the entry has them."""
    arrays = [sample_arrays(op, var, _seed(case_id))]
    if op.kinks is not None:
        arrays.append(op.kinks(np.random.default_rng(_seed(case_id)), var.float_shapes()))
    return arrays


def _fast_path_mismatch(fast, graph) -> str | None:
    for i, (f, g) in enumerate(zip(fast, graph)):
        if (f is None) != (g is None):
            return f"gradient of input {i} is None on one path only"
        if f is None:
            continue
        if f.dtype != g.dtype:
            return f"gradient of input {i}: dtype {f.dtype} without a graph, {g.dtype} with"
        a, b = _np(f), _np(g)
        if not np.allclose(a, b, rtol=1e-12, atol=1e-14, equal_nan=True):
            return (f"gradient of input {i} differs by up to {np.nanmax(np.abs(a - b)):.3g} "
                    f"without a graph:\n{a}\nand with one:\n{b}")
    return None


@functools.cache
def _run_every_entry() -> tuple:
    """Every entry (and its kinks) forward, through both backward paths and to second order,
    once for the two tests below. Returns the Function classes whose ``apply`` ran (forward or
    inside a backward formula) and the cases where the two backward paths disagree."""
    applied, mismatches = set(), []
    apply = vars(Function)["apply"]

    def recording_apply(cls, *args):
        applied.add(cls)
        return apply.__func__(cls, *args)

    Function.apply = classmethod(recording_apply)
    try:
        for case_id, op, var in CASES:
            for where, arrays in zip(("", " (on its kinks)"),
                                     _arrays_to_check(op, var, case_id)):
                fast, graph = _derivatives(op, var, arrays, _seed(case_id) + 2,
                                           second_order=op.supports_gradgrad)
                problem = _fast_path_mismatch(fast, graph)
                if problem:
                    mismatches.append(f"{case_id}{where}: {problem}")
    finally:
        Function.apply = apply
    return applied, mismatches


def test_fast_backward_matches_tensor_backward():
    """On every entry (and its kinks), gradients without create_graph (``fast_backward``
    where a Function has one) equal those of the tensor backward (``create_graph=True``)."""
    _, mismatches = _run_every_entry()
    assert not mismatches, "\n".join(mismatches)


# ---- (e) every Function of retrograd.ops is applied by some entry -------------------------------


def _op_functions() -> list:
    """Every Function subclass defined in a module of retrograd.ops (subpackages too)."""
    found = []
    for info in pkgutil.walk_packages(retrograd.ops.__path__, "retrograd.ops."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if (inspect.isclass(obj) and issubclass(obj, Function) and obj is not Function
                    and obj.__module__ == module.__name__):
                found.append(obj)
    return found


def test_every_op_function_is_applied_by_a_table_entry():
    """Each Function of ``retrograd.ops`` is applied while the entries run (forward, or in a
    backward formula to second order), so gradcheck, gradgradcheck and the torch comparisons
    above reach it."""
    applied, _ = _run_every_entry()
    functions = _op_functions()
    assert functions, "no Function subclasses found in retrograd.ops"
    # private classes other Functions extend (_ZeroGrad, ...) are shared code, never applied
    bases = {cls for cls in functions if cls.__name__.startswith("_")
             and any(sub is not cls and issubclass(sub, cls) for sub in functions)}
    missing = sorted(f"{cls.__module__}.{cls.__qualname__}" for cls in functions
                     if cls not in applied and cls not in bases)
    assert not missing, ("Functions that no entry of tests/optable.py applies (add entries that "
                         "reach them):\n  " + "\n  ".join(missing))


# ---- (f) float32 stays float32 -------------------------------------------------------------------


@pytest.mark.parametrize("case_id, op, var", CASES, ids=IDS)
def test_float32_stays_float32(case_id, op, var):
    arrays = sample_arrays(op, var, _seed(case_id))
    outs, diff, wrt, grads = _run(retrograd, op, var, arrays, 0, dtype="float32")
    for j, o in enumerate(outs):
        if o.is_floating_point():
            assert o.dtype == retrograd.float32, f"output {j} is {o.dtype}"
    for i, g in enumerate(grads):
        if g is not None:
            assert g.dtype == retrograd.float32, f"gradient of input {i} is {g.dtype}"


# ---- gradcheck itself ---------------------------------------------------------------------------


def _double(*shape, seed=0):
    arr = np.random.default_rng(seed).uniform(-1, 1, shape)
    return retrograd.tensor(arr, dtype=retrograd.float64, requires_grad=True)


class Cube(Function):
    """out = x**3 with a correct first derivative."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class CubeWrongBackward(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x * x  # should be 3 x**2


class CubeFirstOrderOnly(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * (x * x).detach()  # right values, but the graph to x is cut


class TwoOutputs(Function):
    """(x * y, x + y), with the gradient of the second output w.r.t. y wrong."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y, x + y

    @staticmethod
    def backward(ctx, g_mul, g_add):
        x, y = ctx.saved_tensors
        return g_mul * y + g_add, g_mul * x - g_add


class Noisy(Function):
    """out = 2 x, with a tiny random error in backward (not reentrant)."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        noise = retrograd.tensor(np.random.default_rng().normal(0, 1e-9, tuple(grad.shape)))
        return grad * (noise + 2)


def test_gradcheck_accepts_correct_functions():
    x, y = _double(3), _double(2, 3, seed=1)
    assert gradcheck(lambda a, b: (a * b).exp().sum(dim=0), (x, y))
    assert gradcheck(Cube.apply, (x,))
    assert gradcheck(Cube.apply, x)  # a single tensor for inputs
    assert gradgradcheck(Cube.apply, (x,))
    assert gradcheck(lambda a, b: (a * b).exp(), (x, y), fast_mode=True)
    assert gradgradcheck(lambda a, b: (a * b).exp(), (x, y), fast_mode=True)


def test_gradcheck_rejects_a_wrong_backward():
    x = _double(3)
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to "
                                             "input 0") as info:
        gradcheck(CubeWrongBackward.apply, (x,))
    assert "numerical" in str(info.value) and "analytical" in str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert gradcheck(CubeWrongBackward.apply, (x,), raise_exception=False) is False
    with pytest.raises(GradcheckError, match="fast mode"):
        gradcheck(CubeWrongBackward.apply, (x,), fast_mode=True)


def test_gradgradcheck_rejects_a_backward_that_is_right_only_at_first_order():
    x = _double(3)
    assert gradcheck(CubeFirstOrderOnly.apply, (x,))
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(CubeFirstOrderOnly.apply, (x,))
    assert gradgradcheck(CubeFirstOrderOnly.apply, (x,), raise_exception=False) is False


def test_gradcheck_names_the_output_and_input_that_differ():
    x, y = _double(2), _double(2, seed=1)
    with pytest.raises(GradcheckError, match="output 1 with respect to input 1"):
        gradcheck(TwoOutputs.apply, (x, y))


def test_gradcheck_skips_inputs_that_need_no_grad_and_non_tensor_args():
    x = _double(2, 3)
    fixed = retrograd.tensor(np.arange(6.0).reshape(2, 3))  # requires_grad=False
    assert gradcheck(lambda a, b, k: (a * b) ** k, (x, fixed, 3))
    # a wrong gradient w.r.t. the fixed input would go unnoticed, as in PyTorch: it is not checked
    assert gradcheck(lambda a, b: TwoOutputs.apply(a, b)[1], (x, fixed))


def test_gradcheck_leaves_the_inputs_unchanged():
    x, y = _double(2, 3), _double(3, seed=1)
    before = (x.detach().numpy().copy(), y.detach().numpy().copy())
    versions = (x._version, y._version)
    gradcheck(lambda a, b: (a * b).sum(dim=1), (x, y))
    gradgradcheck(lambda a, b: (a * b).sum(dim=1), (x, y))
    gradcheck(CubeWrongBackward.apply, (x,), raise_exception=False)
    for t, b in zip((x, y), before):
        assert t.detach().numpy().tobytes() == b.tobytes()
        assert t.grad is None
    assert (x._version, y._version) == versions


def test_gradcheck_restores_inputs_when_the_function_raises():
    x = _double(3)
    before = x.detach().numpy().copy()
    calls = []

    def fails_on_second_call(a):
        calls.append(1)
        if len(calls) > 1:
            raise ValueError("boom")
        return a * 2

    with pytest.raises(ValueError, match="boom"):
        gradcheck(fails_on_second_call, (x,))
    assert x.detach().numpy().tobytes() == before.tobytes()


def test_gradcheck_checks_the_inputs():
    with pytest.warns(UserWarning, match="not float64"):
        gradcheck(lambda a: a * 2, (retrograd.ones(3, requires_grad=True),), atol=1e-2,
                  rtol=1e-2, raise_exception=False)
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda a: a * 2, (retrograd.ones(3, dtype=retrograd.float64),))
    expanded = _double(1).expand(3)
    with pytest.raises(RuntimeError, match="stride 0"):
        gradcheck(lambda a: a * 2, (expanded,))


def test_gradcheck_accepts_empty_inputs():
    # NumPy gives empty arrays zero strides; they must not be taken for expanded inputs
    empty = retrograd.tensor(np.zeros((0, 3)), dtype=retrograd.float64, requires_grad=True)
    assert gradcheck(lambda a, b: retrograd.cat([a, b]), (empty, _double(2, 3)))
    assert gradgradcheck(lambda a, b: retrograd.cat([a, b]) * b.sum(), (empty, _double(2, 3)))


def test_gradcheck_outputs_that_do_not_require_grad():
    x = _double(3)
    assert gradcheck(lambda a: a.detach() * 0 + 1, (x,))  # constant: zero gradient is right
    with pytest.raises(GradcheckError, match="Numerical gradient for function expected to be zero"):
        gradcheck(lambda a: a.detach() * 2, (x,))


def test_gradcheck_unused_input_has_zero_jacobian():
    x, y = _double(3), _double(3, seed=1)
    assert gradcheck(lambda a, b: a.exp(), (x, y))


def test_gradcheck_nondeterministic_backward():
    x = _double(3)
    with pytest.raises(GradcheckError, match="not reentrant"):
        gradcheck(Noisy.apply, (x,))
    assert gradcheck(Noisy.apply, (x,), nondet_tol=1e-6)


def test_gradgradcheck_with_given_and_non_contiguous_grad_outputs():
    x = _double(2, 3)
    g = retrograd.tensor(np.ones((2, 3)), dtype=retrograd.float64, requires_grad=True)
    assert gradgradcheck(lambda a: (a * a).exp(), (x,), (g,))
    assert gradgradcheck(lambda a: (a * a).exp(), (x,), gen_non_contig_grad_outputs=True)


def test_gradcheck_unsupported_options_say_so():
    with pytest.raises(NotImplementedError, match="check_batched_forward_grad"):
        gradcheck(lambda a: a * 2, (_double(2),), check_batched_forward_grad=True)
    assert gradcheck(lambda a: a * 2, (_double(2),), check_forward_ad=True)
