"""gradcheck and gradgradcheck, slow and fast mode: the same verdicts as PyTorch on right and
wrong derivatives, PyTorch's signatures, and an error that names the worst mismatch."""

import inspect
import re

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd.gradcheck import GradcheckError


def _functions(lib):
    F = lib.autograd.Function

    class Right(F):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y.sin()

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * y.sin(), g * x * y.cos()

    class WrongElement(F):  # one entry of dy is off by 0.5
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            gy = (g * x).clone()
            gy[1, 2] = gy[1, 2] + 0.5
            return g * y, gy

    class WrongSecond(F):  # right first derivative, wrong second one
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * (x.detach() ** 2)  # detached: no second derivative through x

    return Right, WrongElement, WrongSecond


def _inputs(lib):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((2, 3)), dtype=lib.float64, requires_grad=True)
    y = lib.tensor(rng.standard_normal((2, 3)), dtype=lib.float64, requires_grad=True)
    return x, y


@pytest.mark.parametrize("fast_mode", [False, True])
def test_verdicts_match_pytorch(torch_ref, fast_mode):
    for lib in (rg, torch_ref):
        right, wrong, second = _functions(lib)
        x, y = _inputs(lib)
        check, check2 = lib.autograd.gradcheck, lib.autograd.gradgradcheck
        assert check(right.apply, (x, y), fast_mode=fast_mode)
        assert check2(right.apply, (x, y), fast_mode=fast_mode)
        assert not check(wrong.apply, (x, y), fast_mode=fast_mode, raise_exception=False)
        assert check(second.apply, (x,), fast_mode=fast_mode)
        assert not check2(second.apply, (x,), fast_mode=fast_mode, raise_exception=False)
        with pytest.raises(RuntimeError, match="Jacobian mismatch for output 0 with respect to "
                                               "input 1"):
            check(wrong.apply, (x, y), fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_error_names_the_worst_element(fast_mode):
    _, wrong, _ = _functions(rg)
    x, y = _inputs(rg)
    with pytest.raises(GradcheckError) as info:
        rg.autograd.gradcheck(wrong.apply, (x, y), fast_mode=fast_mode)
    text = str(info.value)
    found = re.search(r"The worst mismatch is d output 0\[(\d+), (\d+)\] / d input 1\[1, 2\]: "
                      r"numerical (\S+), analytical (\S+) ", text)
    assert found, text
    i, j, numerical, analytical = found.groups()
    # the numerical entry is d(x*y)[i, j] / dy[1, 2]: x[1, 2] on the diagonal, 0 elsewhere
    expected = x.detach().numpy()[1, 2] if (int(i), int(j)) == (1, 2) else 0.0
    assert abs(float(numerical) - expected) < 1e-6
    assert abs(float(analytical) - float(numerical) - 0.5) < 1e-6
    if fast_mode:
        assert "computed in fast mode" in text and "Element by element" in text


def test_fast_mode_finds_a_wrong_gradient_that_a_sum_would_hide():
    class Swap(rg.autograd.Function):  # right sum over the elements, wrong elements
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.flip(0) * 2

    x = rg.tensor([1.0, 2.0, 3.0], dtype=rg.float64, requires_grad=True)
    assert not rg.autograd.gradcheck(Swap.apply, (x,), fast_mode=True, raise_exception=False)


def test_signatures_match_pytorch(torch_ref):
    for name in ("gradcheck", "gradgradcheck"):
        ours = inspect.signature(getattr(rg.autograd, name)).parameters
        theirs = inspect.signature(getattr(torch_ref.autograd, name)).parameters
        assert list(ours) == list(theirs)
        for p in theirs:
            assert ours[p].default == theirs[p].default, p


def _forward_functions(lib):
    """Functions with a jvp: right, a wrong jvp (backward right), a wrong backward (jvp right)."""
    F = lib.autograd.Function

    def make(jvp_scale, backward_scale):
        class Cube(F):
            @staticmethod
            def forward(x):
                return x ** 3

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(*inputs)
                ctx.save_for_forward(*inputs)

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * backward_scale * x ** 2

            @staticmethod
            def jvp(ctx, t):
                (x,) = ctx.saved_tensors
                return t * jvp_scale * x ** 2

        return Cube.apply

    return {"right": make(3, 3), "wrong-jvp": make(2.5, 3), "wrong-backward": make(3, 2.5),
            "builtin": lambda x: (x.sin() * x).cumsum(0).softmax(-1)}


def _verdict(lib, name, fast_mode, **flags):
    x, _ = _inputs(lib)
    return lib.autograd.gradcheck(_forward_functions(lib)[name], (x,), fast_mode=fast_mode,
                                  raise_exception=False, **flags)


@pytest.mark.parametrize("fast_mode", [False, True])
@pytest.mark.parametrize("name", ["right", "wrong-jvp", "wrong-backward", "builtin"])
@pytest.mark.parametrize("flags", [
    {"check_forward_ad": True, "check_backward_ad": False},
    {"check_forward_ad": True},
    {"check_forward_ad": False},
    {"check_batched_grad": True},
], ids=["forward-only", "both", "backward-only", "batched"])
def test_forward_ad_and_batched_grad_verdicts_match_pytorch(torch_ref, name, fast_mode, flags):
    ours = _verdict(rg, name, fast_mode, **flags)
    theirs = _verdict(torch_ref, name, fast_mode, **flags)
    assert ours == theirs, (name, flags, ours, theirs)


def test_forward_ad_mismatch_names_the_mode_and_the_worst_element():
    x, _ = _inputs(rg)
    with pytest.raises(GradcheckError, match=r"(?s)Jacobian computed with forward mode "
                                             r"mismatch for output 0 with respect to input 0.*"
                                             r"The worst mismatch is"):
        rg.autograd.gradcheck(_forward_functions(rg)["wrong-jvp"], (x,), check_forward_ad=True)


def test_gradgradcheck_forward_over_reverse(torch_ref, monkeypatch):
    monkeypatch.setenv("PYTORCH_JIT", "0")  # (else torch first loads jit decompositions)
    for name in ("right", "wrong-backward", "builtin"):
        verdicts = []
        for lib in (rg, torch_ref):
            x, _ = _inputs(lib)
            verdicts.append(lib.autograd.gradgradcheck(
                _forward_functions(lib)[name], (x,), check_fwd_over_rev=True,
                check_rev_over_rev=False, check_undefined_grad=False, raise_exception=False))
        assert verdicts[0] == verdicts[1], (name, verdicts)
    x, _ = _inputs(rg)
    assert rg.autograd.gradgradcheck(lambda t: (t.sin() * t).softmax(-1), (x,),
                                     check_fwd_over_rev=True, check_batched_grad=True)
    with pytest.raises(AssertionError, match="requires check_rev_over_rev"):
        rg.autograd.gradgradcheck(lambda t: t * 2, (x,), check_fwd_over_rev=True,
                                  check_rev_over_rev=False)


def test_check_undefined_grad_and_nondet_tol():
    calls = []

    class Noisy(rg.autograd.Function):  # a backward that differs a little on every run
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            calls.append(1)
            return g * 2 + len(calls) * 1e-9

    x = rg.tensor([1.0, 2.0], dtype=rg.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="not reentrant"):
        rg.autograd.gradcheck(Noisy.apply, (x,), check_undefined_grad=False)
    assert rg.autograd.gradcheck(Noisy.apply, (x,), nondet_tol=1e-6, check_undefined_grad=False)
