"""User-defined autograd.Functions in every style PyTorch allows, run on both libraries.

Each scenario is written once as ``scenario(lib)`` for ``lib`` = retrograd or torch, so the same
code runs on both; the tests compare what comes back (values, node names, errors), and
gradcheck compares the gradients with finite differences.
"""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import gradcheck, gradgradcheck


def _classes(lib):
    F = lib.autograd.Function

    class Scale(F):  # the setup_context style: forward without ctx
        @staticmethod
        def forward(x, k):
            return x * x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, k = inputs
            ctx.save_for_backward(x)
            ctx.k = k

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g * ctx.k, None

    class Double_(F):  # in place, with mark_dirty
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class Split(F):  # two outputs, grads not materialized
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            e = x.exp()
            ctx.save_for_backward(e)
            return x * 2, e

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.seen = (g1 is None, g2 is None)
            out = None
            if g1 is not None:
                out = g1 * 2
            if g2 is not None:
                (e,) = ctx.saved_tensors
                out = g2 * e if out is None else out + g2 * e
            return out

    class ArgMax(F):  # non-differentiable and non-tensor outputs
        @staticmethod
        def forward(ctx, x):
            i = x.argmax()
            s = x.sort()[0]
            ctx.mark_non_differentiable(i, s)
            ctx.save_for_backward(x)
            return x.max(), i, s, "note", 3

        @staticmethod
        def backward(ctx, gv, gi, gs, gnote, gn):
            ctx.seen = (gi.tolist(), gs.abs().sum().item(), gnote, gn)
            (x,) = ctx.saved_tensors
            return gv * (x == x.max()).to(x.dtype)

    class SaveOut(F):  # saves its own output
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    class Ident(F):  # returns its input unchanged
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3

    class Once(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    class Vjp(F):  # ``vjp`` is PyTorch's other name for backward
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def vjp(ctx, g):
            return g * 5

    class Needs(F):
        @staticmethod
        def forward(ctx, x, y, k):
            ctx.needs = ctx.needs_input_grad
            return x * y * k

        @staticmethod
        def backward(ctx, g):
            return g, g, None

    return locals()


def _both(torch_ref, scenario):
    return scenario(rg, _classes(rg)), scenario(torch_ref, _classes(torch_ref))


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001  (the type and text are what is compared)
        return type(e), str(e)
    return None


# ---- the styles and the ctx API ---------------------------------------------------------------


def test_setup_context_style(torch_ref):
    def scenario(lib, c):
        x = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
        y = c["Scale"].apply(x, 3.0)
        y.sum().backward()
        return y.grad_fn.name(), y.tolist(), x.grad.tolist(), len(y.grad_fn.next_functions)

    ours, theirs = _both(torch_ref, scenario)
    assert ours[:3] == theirs[:3]
    x = rg.tensor([1.0, -2.0, 0.5], dtype=rg.float64, requires_grad=True)
    assert gradcheck(lambda t: _classes(rg)["Scale"].apply(t, 3.0), (x,))
    assert gradgradcheck(lambda t: _classes(rg)["Scale"].apply(t, 3.0), (x,))


def test_mark_dirty_rebases_history_and_bumps_version(torch_ref):
    def scenario(lib, c):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a * 1
        v0 = b._version
        out = c["Double_"].apply(b)
        facts = (out is b, b.grad_fn.name(), b._version - v0, b.tolist())
        (b * b).sum().backward()
        return facts, a.grad.tolist()

    assert _both(torch_ref, scenario)[0] == _both(torch_ref, scenario)[1]


def test_mark_dirty_on_a_view_rewrites_the_base_history(torch_ref):
    def scenario(lib, c):
        a = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        b = a * 1
        v = b[1:3]
        out = c["Double_"].apply(v)
        facts = (out is v, v.grad_fn.name(), b.grad_fn.name().split("::")[-1], b._version)
        (b * b).sum().backward()
        return facts, a.grad.tolist(), b.tolist()

    ours, theirs = _both(torch_ref, scenario)
    assert ours == theirs


def test_mark_dirty_on_a_leaf_that_requires_grad_raises(torch_ref):
    def scenario(lib, c):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        return _error(lambda: c["Double_"].apply(a)), a.tolist()

    (ours, ours_vals), (theirs, theirs_vals) = _both(torch_ref, scenario)
    assert ours[0] is RuntimeError and theirs[0] is RuntimeError
    assert ours[1].startswith(theirs[1].rstrip("."))
    assert ours_vals == [2.0, 4.0] and theirs_vals == ours_vals  # forward had run, as in torch


def test_materialize_grads_false_passes_none(torch_ref):
    def scenario(lib, c):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a, _ = c["Split"].apply(x)
        a.sum().backward()
        return a.grad_fn.seen, x.grad.tolist()

    ours, theirs = _both(torch_ref, scenario)
    assert ours == theirs == ((False, True), [2.0, 2.0])


def test_non_differentiable_and_non_tensor_outputs(torch_ref):
    def scenario(lib, c):
        x = lib.tensor([1.0, 5.0, 2.0, 0.0, -1.0, 3.0], requires_grad=True)
        v, i, s, note, n = c["ArgMax"].apply(x)
        facts = (v.requires_grad, i.requires_grad, s.requires_grad, i.grad_fn, s.grad_fn,
                 note, n, v.item(), i.item())
        v.backward()
        return facts, v.grad_fn.seen, x.grad.tolist()

    ours, theirs = _both(torch_ref, scenario)
    assert ours == theirs
    assert ours[1] == (0, 0.0, None, None)  # zeros for the marked outputs, None for the rest


def test_saving_the_output_and_reading_saved_tensors_after_free(torch_ref):
    def scenario(lib, c):
        x = lib.tensor([0.5, 1.5], dtype=lib.float64, requires_grad=True)
        y = c["SaveOut"].apply(x)
        y.sum().backward()
        return x.grad.tolist(), _error(lambda: y.grad_fn.saved_tensors)

    (ours, err), (theirs, terr) = _both(torch_ref, scenario)
    np.testing.assert_allclose(ours, theirs)
    assert err[0] is terr[0] is RuntimeError
    first = "Trying to backward through the graph a second time (or directly access saved tensors"
    assert err[1].startswith(first) and terr[1].startswith(first)
    x = rg.tensor([0.5, 1.5], dtype=rg.float64, requires_grad=True)
    assert gradgradcheck(_classes(rg)["SaveOut"].apply, (x,))  # the output saved is in the graph


def test_returning_an_input_gives_a_new_tensor(torch_ref):
    def scenario(lib, c):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = c["Ident"].apply(x)
        y.sum().backward()
        return y is x, y.grad_fn.name(), x.grad.tolist(), y.is_leaf

    assert _both(torch_ref, scenario)[0] == _both(torch_ref, scenario)[1]


def test_once_differentiable(torch_ref):
    def scenario(lib, c):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (g,) = lib.autograd.grad(c["Once"].apply(x).sum(), x, create_graph=True)
        err = _error(lambda: g.sum().backward())
        v = lib.ones(2, requires_grad=True)  # an upstream gradient in the graph
        (gv,) = lib.autograd.grad(c["Once"].apply(x), x, v, create_graph=True)
        err2 = _error(lambda: gv.sum().backward())
        return g.tolist(), g.requires_grad, err[0], gv.grad_fn.name().split("::")[-1], err2

    ours, theirs = _both(torch_ref, scenario)
    assert ours[:4] == theirs[:4]
    assert ours[4][0] is theirs[4][0] is RuntimeError
    assert ours[4][1].startswith(theirs[4][1])


def test_vjp_alias_needs_input_grad_and_no_grad(torch_ref):
    def scenario(lib, c):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        c["Vjp"].apply(x).sum().backward()
        y = lib.tensor([3.0, 4.0])
        z = c["Needs"].apply(x, y, 2.0)
        with lib.no_grad():
            w = c["Needs"].apply(x, y, 2.0)
        return x.grad.tolist(), z.grad_fn.needs, w.requires_grad, w.grad_fn

    assert _both(torch_ref, scenario)[0] == _both(torch_ref, scenario)[1]


def test_save_for_backward_refuses_non_tensors(torch_ref):
    def scenario(lib, c):
        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, None, 3)
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return g

        return _error(lambda: Bad.apply(lib.ones(2, requires_grad=True)))

    ours, theirs = _both(torch_ref, scenario)
    assert ours[0] is theirs[0] is TypeError
    assert ours[1].startswith(theirs[1])


# ---- a backward (or hook) that returns the wrong thing ----------------------------------------


def _bad_backward(lib, returns, n_args=1):
    class Wrong(lib.autograd.Function):
        @staticmethod
        def forward(ctx, *xs):
            return sum(xs[1:], xs[0] * 1)

        @staticmethod
        def backward(ctx, g):
            return returns(lib, g)

    x = lib.tensor([1.0, 2.0], requires_grad=True)
    return _error(lambda: Wrong.apply(*([x] * n_args)).sum().backward())


@pytest.mark.parametrize("returns, n_args", [
    (lambda lib, g: g, 2),  # one gradient for two inputs
    (lambda lib, g: lib.ones(3), 1),  # a shape that can't be summed to the input's
    (lambda lib, g: 3, 1),  # not a tensor
])
def test_wrong_gradients_name_the_function(torch_ref, returns, n_args):
    ours = _bad_backward(rg, returns, n_args)
    theirs = _bad_backward(torch_ref, returns, n_args)
    assert ours[0] is theirs[0] is RuntimeError
    assert ours[1].startswith(theirs[1]), (ours, theirs)


def test_hook_returning_a_wrong_shape(torch_ref):
    def scenario(lib, c):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.register_hook(lambda g: lib.ones(3))
        return _error(lambda: y.sum().backward())

    ours, theirs = _both(torch_ref, scenario)
    assert ours[0] is theirs[0] is RuntimeError
    assert ours[1].startswith(theirs[1])


def test_implementing_both_backward_and_vjp_is_refused():
    with pytest.raises(RuntimeError, match="both 'backward' and 'vjp'"):
        class Both(rg.autograd.Function):  # noqa: F841
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g

            @staticmethod
            def vjp(ctx, g):
                return g


def test_several_outputs_gradcheck_against_finite_differences():
    class Split2(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w, (x + w).sin()

        @staticmethod
        def backward(ctx, g1, g2):
            x, w = ctx.saved_tensors
            c2 = (x + w).cos() * g2
            return g1 * w + c2, g1 * x + c2

    x = rg.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    w = rg.tensor(np.linspace(0.5, 2, 5), requires_grad=True)
    assert gradcheck(Split2.apply, (x, w))
    assert gradgradcheck(Split2.apply, (x, w))


def test_mark_dirty_and_save_the_changed_input(torch_ref):
    def scenario(lib, c):
        class ExpInPlace(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.exp_()
                ctx.mark_dirty(x)
                ctx.save_for_backward(x)  # saved after the change: version check from here
                return x

            @staticmethod
            def backward(ctx, g):
                (y,) = ctx.saved_tensors
                return g * y

        a = lib.tensor([0.0, 1.0], dtype=lib.float64, requires_grad=True)
        b = a * 1
        out = ExpInPlace.apply(b)
        out.sum().backward(retain_graph=True)
        with lib.no_grad():
            b.add_(1)
        err = _error(lambda: out.sum().backward())
        return a.grad.tolist(), b._version, err[0], "modified by an inplace operation" in err[1]

    ours, theirs = _both(torch_ref, scenario)
    np.testing.assert_allclose(ours[0], theirs[0])
    assert ours[1:] == theirs[1:]
