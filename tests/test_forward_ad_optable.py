"""Forward-mode AD over the op table (tests/optable.py).

For every (entry, variant) whose Functions all have a ``jvp`` rule: the tangents that
``autograd.forward_ad`` gives (float64, random tangents on the inputs that require grad)
against central finite differences, and against torch's jvp on the same data (from its
reverse mode, or its forward AD: see ``FULL``). Entries
that apply a Function without a rule are listed by ``coverage()`` (run this file as a script
to print it) and skipped, except that the op categories issue 9 names (elementwise,
reductions, shape, indexing, matmul, softmax) must all have rules.
"""

from __future__ import annotations

import contextlib
import functools
import os
import zlib

import numpy as np
import pytest
from optable import Const, Fixed, all_cases, sample_arrays, to_lib

import retrograd
import retrograd.ops
from retrograd.autograd import Function

fwAD = retrograd.autograd.forward_ad
CASES = all_cases()
# torch's forward AD is slow (its first use imports torch._dynamo, seconds; then about 10 ms an
# op): by default torch's J t comes from its reverse mode (the transpose of the transpose), and
# with RETROGRAD_FORWARD_AD_FULL=1 from torch.autograd.forward_ad.
FULL = os.environ.get("RETROGRAD_FORWARD_AD_FULL") == "1"
IDS = [case[0] for case in CASES]

# The Functions of each category the issue names: each must have a jvp rule.
CATEGORIES = {
    "elementwise": "Add Sub Mul Div DivRounded RsubScalar Reciprocal Neg Maximum Minimum Where "
                   "Exp Log Log1p Sqrt Rsqrt Sin Cos Tan Tanh Sigmoid Relu Abs Sign Floor Ceil "
                   "Round Trunc Clamp ClampTensor Square PowScalar Pow RPowScalar Erf Remainder "
                   "Fmod LeakyRelu Gelu Silu Softplus Elu Hardtanh LogSigmoid",
    "reductions": "Sum SumDim Mean MeanDim ProdAll ProdDim MaxAll MinAll MaxDim MinDim Amax Amin "
                  "Var Std Norm LogSumExp Cumsum",
    "shape": "View Reshape Squeeze SqueezeDim SqueezeDims Unsqueeze Expand SumToSize Transpose T "
             "Permute Cat Stack Unbind Split SplitWithSizes Clone Repeat Flip Tril Triu ToCopy",
    "indexing": "Select Slice IndexUnsqueeze Alias Index IndexPut IndexPutOnView CopyWhole "
                "FillWhole FillScalar Gather IndexSelect Scatter ScatterValue ScatterAdd "
                "MaskedFill MaskedFillTensor Sort Topk",
    "matmul": "Dot Mv VecMat Mm MmNT MmTN Matmul Bmm Addmm Linear",
    "softmax": "Softmax LogSoftmax",
}


def _seed(case_id: str) -> int:
    return zlib.crc32(("fw" + case_id).encode())


def _outputs(out) -> tuple:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _op_classes() -> dict:
    """name -> Function subclass, for every Function defined under retrograd.ops."""
    import importlib
    import inspect
    import pkgutil

    found = {}
    for info in pkgutil.walk_packages(retrograd.ops.__path__, "retrograd.ops."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, Function) and obj.__module__ == info.name:
                found[name] = obj
    return found


@functools.cache
def _applied() -> dict:
    """case id -> the Function classes its forward applies."""
    apply = vars(Function)["apply"]
    seen: set = set()

    def recording_apply(cls, *args):
        seen.add(cls)
        return apply.__func__(cls, *args)

    result = {}
    Function.apply = classmethod(recording_apply)
    try:
        for case_id, op, var in CASES:
            seen.clear()
            inputs = to_lib(retrograd, var, sample_arrays(op, var, seed=_seed(case_id)))
            op.fn(retrograd, *inputs, **var.kwargs)
            result[case_id] = frozenset(seen)
    finally:
        Function.apply = apply
    return result


def _without_rule(case_id: str) -> list:
    return sorted(c.__name__ for c in _applied()[case_id] if c.jvp is None)


def coverage() -> list:
    """(case id, Functions without a jvp rule) for the entries the forward check skips."""
    return [(case_id, missing) for case_id, *_ in CASES if (missing := _without_rule(case_id))]


# ---- the check ---------------------------------------------------------------------------------


def _differentiable(var) -> list:
    """Per argument: True for the float inputs that require grad (they get tangents)."""
    return [not isinstance(a, (Fixed, Const)) for a in var.args]


def _tangents(lib, op, var, case_id: str):
    """Inputs, tangents (None where none), on ``lib``."""
    arrays = sample_arrays(op, var, seed=_seed(case_id))
    inputs = to_lib(lib, var, arrays)
    rng = np.random.default_rng(_seed(case_id) + 1)
    tangents = [lib.tensor(rng.standard_normal(tuple(x.shape)), dtype=lib.float64) if d else None
                for x, d in zip(inputs, _differentiable(var))]
    return inputs, tangents


@contextlib.contextmanager
def _no_jit_decompositions():
    """torch's make_dual first loads jit-scripted decompositions (seconds) unless PYTORCH_JIT
    is "0"; the table's ops don't need them (torch raises NotImplementedError where it would)."""
    old = os.environ.get("PYTORCH_JIT")
    os.environ["PYTORCH_JIT"] = "0"
    try:
        yield
    finally:
        if old is None:
            del os.environ["PYTORCH_JIT"]
        else:
            os.environ["PYTORCH_JIT"] = old


def _forward_ad(lib, op, var, inputs, tangents) -> list:
    ad = lib.autograd.forward_ad
    with ad.dual_level(), _no_jit_decompositions():
        duals = [x if t is None else ad.make_dual(x, t) for x, t in zip(inputs, tangents)]
        outs = _outputs(op.fn(lib, *duals, **var.kwargs))
        return [None if ad.unpack_dual(o).tangent is None
                else ad.unpack_dual(o).tangent.detach().numpy().copy()
                for o in outs if o.is_floating_point()]


def _torch_jvp_by_reverse_mode(torch, op, var, inputs, tangents) -> list:
    """torch's J t without its forward AD: J^T u is linear in u, so J t = d<J^T u, t>/du."""
    xs = [x.detach().requires_grad_() if t is not None else x for x, t in zip(inputs, tangents)]
    used = [(x, t) for x, t in zip(xs, tangents) if t is not None]
    outs = [o for o in _outputs(op.fn(torch, *xs, **var.kwargs)) if o.is_floating_point()]
    result = []
    for o in outs:
        u = torch.zeros_like(o, requires_grad=True)
        grads = torch.autograd.grad(o, [x for x, _ in used], u, create_graph=True,
                                    allow_unused=True) if o.requires_grad else ()
        inner = sum((g * t).sum() for g, (_, t) in zip(grads, used) if g is not None)
        jt = None
        if isinstance(inner, torch.Tensor) and inner.requires_grad:
            jt = torch.autograd.grad(inner, u, allow_unused=True)[0]
        result.append(np.zeros(o.shape) if jt is None else jt.detach().numpy().copy())
    return result


def _finite_differences(op, var, inputs, tangents, eps: float = 1e-6) -> list:
    def at(sign):
        with retrograd.no_grad():
            xs = [(x.detach() if t is None else x.detach() + sign * eps * t).requires_grad_(
                x.requires_grad) for x, t in zip(inputs, tangents)]
        # (grad mode on: some entries differentiate inside, as the fused-grad ties)
        return [o.detach().numpy().copy() for o in _outputs(op.fn(retrograd, *xs, **var.kwargs))
                if o.is_floating_point()]

    return [(p - m) / (2 * eps) if p.dtype == np.float64 else None
            for p, m in zip(at(1.0), at(-1.0))]


def _compare(got: list, want: list, what: str, atol: float, rtol: float) -> None:
    assert len(got) == len(want), what
    for i, (g, w) in enumerate(zip(got, want)):
        if w is None:  # (finite differences of a float32/float16 output: too coarse)
            continue
        g = np.zeros_like(w) if g is None else g  # no tangent: a zero tangent
        assert g.shape == w.shape, f"{what}: output {i} tangent shape {g.shape} != {w.shape}"
        np.testing.assert_allclose(g, w, atol=atol, rtol=rtol, err_msg=f"{what}: output {i}")


@pytest.mark.parametrize("case_id, op, var", CASES, ids=IDS)
def test_forward_ad_matches_finite_differences_and_torch(case_id, op, var, request):
    missing = _without_rule(case_id)
    if missing:
        pytest.skip(f"no jvp rule for {', '.join(missing)} (see coverage())")
    inputs, tangents = _tangents(retrograd, op, var, case_id)
    got = _forward_ad(retrograd, op, var, inputs, tangents)
    numeric = _finite_differences(op, var, inputs, tangents)
    _compare(got, numeric, "forward AD vs finite differences", atol=1e-5, rtol=1e-4)
    try:
        torch = request.getfixturevalue("torch_ref")
    except pytest.skip.Exception:
        return
    t_inputs, t_tangents = _tangents(torch, op, var, case_id)
    try:
        if FULL:
            want = _forward_ad(torch, op, var, t_inputs, t_tangents)
        else:
            want = _torch_jvp_by_reverse_mode(torch, op, var, t_inputs, t_tangents)
    except (NotImplementedError, RuntimeError) as e:  # torch can't: finite differences only
        pytest.skip(f"torch gives no jvp here: {e}")
    if not FULL and any(w is not None and np.isnan(w).any() and not np.isnan(g).any()
                        for g, w in zip(got, want) if g is not None):
        # (torch's logcumsumexp backward takes log(grad): NaN for the probes this route uses;
        # finite differences above agreed, and RETROGRAD_FORWARD_AD_FULL=1 asks torch directly)
        pytest.skip("torch's reverse-mode route gives NaN here; finite differences agreed")
    _compare(got, want, "forward AD vs torch", atol=1e-10, rtol=1e-7)


def _gradients(op, var, inputs, tangents, upstream, dual: bool) -> list:
    """The gradients of sum(upstream * outputs) with respect to the inputs with a tangent (as
    arrays), or, with ``dual``, their tangents: the forward-over-reverse product H t."""
    def run(xs):
        outs = [o for o in _outputs(op.fn(retrograd, *xs, **var.kwargs)) if o.requires_grad]
        total = sum((o * u).sum() for o, u in zip(outs, upstream))
        used = [x for x, t in zip(xs, tangents) if t is not None]
        return retrograd.autograd.grad(total, used, create_graph=True, allow_unused=True)

    if not dual:
        return [None if g is None else g.detach().numpy().copy() for g in run(inputs)]
    with fwAD.dual_level():
        grads = run([x if t is None else fwAD.make_dual(x, t) for x, t in zip(inputs, tangents)])
        return [None if g is None or fwAD.unpack_dual(g).tangent is None
                else fwAD.unpack_dual(g).tangent.detach().numpy().copy() for g in grads]


SECOND_ORDER = [case for case in CASES if case[1].supports_gradgrad]


@pytest.mark.parametrize("case_id, op, var", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_forward_over_reverse_matches_finite_differences(case_id, op, var):
    """The tangents of the gradients (backward run inside a dual level) against finite
    differences of the gradients: this reaches the jvp rules of the derivative Functions
    (TanhGrad, SoftmaxGrad, MaxPoolGrad, ...), which only backward formulas apply."""
    if _without_rule(case_id):
        pytest.skip("no jvp rule for the forward")
    inputs, tangents = _tangents(retrograd, op, var, case_id)
    rng = np.random.default_rng(_seed(case_id) + 2)
    outs = [o for o in _outputs(op.fn(retrograd, *inputs, **var.kwargs)) if o.requires_grad]
    upstream = [retrograd.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype)
                for o in outs]
    try:
        got = _gradients(op, var, inputs, tangents, upstream, dual=True)
    except NotImplementedError as e:
        pytest.skip(str(e).split(" because")[0])
    eps = 1e-6
    with retrograd.no_grad():
        shifted = [[x.detach() if t is None else (x.detach() + s * eps * t).requires_grad_()
                    for x, t in zip(inputs, tangents)] for s in (1.0, -1.0)]
    plus, minus = (_gradients(op, var, xs, tangents, upstream, dual=False) for xs in shifted)
    for i, (g, p, m) in enumerate(zip(got, plus, minus)):
        if p is None or p.dtype != np.float64:
            continue
        want = (p - m) / (2 * eps)
        np.testing.assert_allclose(np.zeros_like(want) if g is None else g, want, atol=1e-5,
                                   rtol=1e-4, err_msg=f"H t for input {i}")


def test_categories_of_issue_9_have_jvp_rules():
    classes = _op_classes()
    for category, names in CATEGORIES.items():
        unknown = [n for n in names.split() if n not in classes]
        assert not unknown, f"{category}: no Function named {unknown} under retrograd.ops"
        missing = [n for n in names.split() if classes[n].jvp is None]
        assert not missing, f"{category} Functions without a jvp rule: {missing}"


def test_most_table_entries_are_checked():
    """The coverage list stays a list of exceptions (nn kernels and the like)."""
    skipped = coverage()
    assert len(skipped) < len(CASES) / 3, skipped


if __name__ == "__main__":
    for case_id, missing in coverage():
        print(f"{case_id}: {', '.join(missing)}")
