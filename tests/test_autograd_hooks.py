"""Hooks on tensors and nodes, post-accumulate-grad hooks, and saved tensor hooks, run on both
libraries with the same code and compared (order of calls, values, errors)."""

import gc
import weakref

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd.graph import disable_saved_tensors_hooks, saved_tensors_hooks


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001  (the type and text are what is compared)
        return type(e), str(e)
    return None


def _both(torch_ref, scenario):
    return scenario(rg), scenario(torch_ref)


def _scale_function(lib):
    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            return x * x * k

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g, None

    return Scale


# ---- the order hooks run in -------------------------------------------------------------------


def test_hook_order_matches_pytorch(torch_ref):
    def scenario(lib):
        log = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = _scale_function(lib).apply(x, 2.0)
        y.register_hook(lambda g: log.append(("tensor", g.tolist())))
        y.grad_fn.register_prehook(lambda go: log.append(("node pre", len(go), go[0].tolist())))
        y.grad_fn.register_hook(lambda gi, go: log.append(
            ("node post", len(gi), len(go), [g.tolist() for g in gi])))
        y.retain_grad()
        acc = y.grad_fn.next_functions[0][0]
        acc.register_hook(lambda gi, go: log.append(("acc post", gi, [g.tolist() for g in go])))
        acc.register_prehook(lambda go: log.append(("acc pre", [g.tolist() for g in go])))
        x.register_post_accumulate_grad_hook(
            lambda t: log.append(("post accumulate", t is x, t.grad.tolist())))
        x.register_hook(lambda g: log.append(("leaf tensor", g.tolist())))
        y.sum().backward()
        return log, y.grad.tolist()

    ours, theirs = _both(torch_ref, scenario)
    assert ours == theirs
    assert [entry[0] for entry in ours[0]] == [
        "tensor", "node pre", "node post", "leaf tensor", "acc pre", "post accumulate",
        "acc post"]


def test_hooks_may_replace_gradients(torch_ref):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.grad_fn.register_hook(lambda gi, go: (gi[0] * 10, None))
        z = y * 1
        z.grad_fn.register_prehook(lambda go: (go[0] + 1,))
        z.register_hook(lambda g: g * 2)  # runs first: 2, then the pre-hook: 3
        z.sum().backward()
        return x.grad.tolist()

    ours, theirs = _both(torch_ref, scenario)
    assert ours == theirs == [90.0, 90.0]


@pytest.mark.parametrize("where", ["post count", "pre shape", "pre count"])
def test_hooks_returning_the_wrong_thing(torch_ref, where):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        if where == "post count":
            y.grad_fn.register_hook(lambda gi, go: (gi[0],) * 3)
        elif where == "pre shape":
            y.grad_fn.register_prehook(lambda go: (lib.ones(3),))
        else:
            y.grad_fn.register_prehook(lambda go: (go[0], go[0]))
        return _error(lambda: y.sum().backward()), x.grad

    (ours, ours_grad), (theirs, _) = _both(torch_ref, scenario)
    assert ours[0] is theirs[0] is RuntimeError
    assert ours[1].startswith(theirs[1])
    assert ours_grad is None


def test_post_accumulate_grad_hook(torch_ref):
    def scenario(lib):
        log = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)

        def hook(t):  # sees the accumulated .grad and may change it in place
            log.append(t.grad.tolist())
            with lib.no_grad():
                t.grad.mul_(0.5)

        h = x.register_post_accumulate_grad_hook(hook)
        (x * 3).sum().backward()
        (x * 3).sum().backward()
        h.remove()
        (x * 3).sum().backward()
        errs = (_error(lambda: lib.ones(2).register_post_accumulate_grad_hook(hook)),
                _error(lambda: (x * 2).register_post_accumulate_grad_hook(hook)))
        # autograd.grad does not accumulate, so the hook does not run
        x.register_post_accumulate_grad_hook(hook)
        lib.autograd.grad((x * 2).sum(), x)
        return log, x.grad.tolist(), errs

    ours, theirs = _both(torch_ref, scenario)
    assert ours == theirs


def test_removable_handles_and_hooks_registered_twice(torch_ref):
    def scenario(lib):
        log = []
        x = lib.tensor([1.0], requires_grad=True)
        y = x * 2
        h1 = y.grad_fn.register_prehook(lambda go: log.append("a"))
        y.grad_fn.register_prehook(lambda go: log.append("b"))
        with y.grad_fn.register_hook(lambda gi, go: log.append("c")):
            pass  # leaving the with block removes it
        h1.remove()
        h1.remove()  # twice is harmless
        y.backward()
        return log

    assert _both(torch_ref, scenario)[0] == _both(torch_ref, scenario)[1] == ["b"]


def test_ddp_style_hook_sees_every_parameter_once():
    model = rg.nn.Sequential(rg.nn.Linear(3, 4), rg.nn.Tanh(), rg.nn.Linear(4, 1))
    seen = []
    for p in model.parameters():
        p.register_post_accumulate_grad_hook(lambda t: seen.append(id(t)))
    model(rg.randn(5, 3)).sum().backward()
    assert sorted(seen) == sorted(id(p) for p in model.parameters())


# ---- saved tensor hooks -----------------------------------------------------------------------


def test_saved_tensors_hooks_pack_and_unpack(torch_ref):
    def scenario(lib):
        counts = {"pack": 0, "unpack": 0}

        def pack(t):
            counts["pack"] += 1
            return ("packed", t)

        def unpack(p):
            counts["unpack"] += 1
            return p[1]

        x = lib.tensor([0.5, 1.5], dtype=lib.float64, requires_grad=True)
        with saved_tensors_hooks(pack, unpack) if lib is rg else \
                lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            z = (x.exp() * x).sum()
        z.backward()
        return counts, x.grad.tolist()

    ours, theirs = _both(torch_ref, scenario)
    assert ours[0] == theirs[0] == {"pack": 3, "unpack": 3}  # exp's result; mul's two inputs
    np.testing.assert_allclose(ours[1], theirs[1])


def test_unpacked_values_are_what_backward_uses(torch_ref):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach() * 2, lambda t: t):
            y = (x * x).sum()
        y.backward()
        return x.grad.tolist()

    assert _both(torch_ref, scenario)[0] == _both(torch_ref, scenario)[1] == [4.0, 8.0]


def test_saved_tensors_hooks_errors_and_no_version_check(torch_ref):
    def scenario(lib):
        graph = lib.autograd.graph
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with graph.saved_tensors_hooks(lambda t: t, lambda t: 5):
            y = (x * x).sum()
        bad_unpack = _error(y.backward)

        def nested():
            with graph.disable_saved_tensors_hooks("no hooks here"):
                with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass

        x2 = lib.tensor([1.0, 2.0], requires_grad=True)
        with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            y2 = (x2 * x2).sum()
        with lib.no_grad():
            x2.mul_(2)  # hooked saved tensors are not version-checked (as in PyTorch)
        y2.backward()
        return bad_unpack, _error(nested), x2.grad.tolist()

    ours, theirs = _both(torch_ref, scenario)
    assert ours[0][0] is theirs[0][0] is TypeError
    assert ours[0][1].startswith(theirs[0][1])
    assert ours[1] == theirs[1] == (RuntimeError, "no hooks here")
    assert ours[2] == theirs[2]


def test_saved_tensor_hooks_cover_saved_outputs_and_attributes(torch_ref):
    def scenario(lib):
        x = lib.tensor([0.0, 1.0], dtype=lib.float64, requires_grad=True)
        with lib.autograd.graph.save_on_cpu():
            y = x.exp()
        saved = y.grad_fn._saved_result
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)  # the unpacked output is still in the graph
        return saved.tolist(), g.tolist(), gg.tolist()

    ours, theirs = _both(torch_ref, scenario)
    np.testing.assert_allclose(np.array(ours, dtype=object).tolist(), theirs, rtol=1e-12)


def test_saved_tensor_hooks_on_a_custom_function_and_a_leaf(torch_ref):
    def scenario(lib):
        kept = []
        x = lib.tensor([1.0, 3.0], requires_grad=True)

        def pack(t):
            kept.append(t.requires_grad)
            return t.detach().clone()

        with lib.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            y = _scale_function(lib).apply(x, 2.0).sum()
        y.backward()
        return kept, x.grad.tolist()

    assert _both(torch_ref, scenario)[0] == _both(torch_ref, scenario)[1]


def test_no_hooks_no_trace_and_saved_tensors_freed():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    assert y.grad_fn._packed[0] is x  # plain saved tensors, no wrapper, without hooks
    holder = []
    with saved_tensors_hooks(lambda t: holder.append(t.detach()) or len(holder) - 1,
                             lambda i: holder[i]):
        z = (x * 2).exp()
    ref = weakref.ref(z.grad_fn)
    z.sum().backward()
    assert z.grad_fn._packed is None  # what pack returned is dropped after backward
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(2 * x.detach().numpy()), rtol=1e-6)
    del z
    gc.collect()
    assert ref() is None  # the pack hook kept no reference to the node


def test_disable_saved_tensors_hooks_is_a_context_manager():
    with disable_saved_tensors_hooks("message"):
        with pytest.raises(RuntimeError, match="message"):
            saved_tensors_hooks(lambda t: t, lambda t: t).__enter__()
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        pass


def test_readme_example_prints_what_it_says(capsys):
    import pathlib

    readme = (pathlib.Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("### Custom Functions, hooks, checkpointing, anomaly mode", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    expected = [line[2:] for line in code.splitlines() if line.startswith("# ")]
    exec(compile(code, "README.md", "exec"), {"torch": rg})
    assert capsys.readouterr().out.splitlines() == expected
