"""retrograd.debug on real graphs: why_no_grad, the leak detector, provenance, memory_report."""

import gc
import inspect
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import retrograd as torch
from retrograd import debug, nn
from retrograd.autograd import function as function_module
from retrograd.autograd.function import Function
from retrograd.debug import GraphLeakWarning, detect_leaks, memory_report, why_no_grad


@pytest.fixture
def provenance():
    debug.set_provenance(True)
    yield
    debug.set_provenance(False)


def here(offset: int = 0) -> str:
    """'file:line' of the caller's line plus ``offset``."""
    f = inspect.currentframe().f_back
    path = os.path.relpath(f.f_code.co_filename)  # messages show paths under the cwd relative
    if path.startswith(".."):
        path = f.f_code.co_filename
    return f"{path}:{f.f_lineno + offset}"


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))


# ---- the hot path is untouched while provenance is off -------------------------------------


def test_off_means_the_ordinary_apply():
    gc.collect()  # a vmap level left by an earlier test wraps apply until it is freed
    original = function_module.Function.__dict__["apply"].__func__
    assert not debug.is_provenance_enabled()
    debug.set_provenance(True)
    assert Function.__dict__["apply"].__func__ is not original
    assert debug.is_provenance_enabled()
    debug.set_provenance(False)
    assert Function.__dict__["apply"].__func__ is original
    assert torch.Tensor.detach.__module__ == "retrograd.tensor"
    y = torch.ones(2, requires_grad=True) * 2
    assert "_provenance" not in y.grad_fn.__dict__


# ---- why_no_grad: each cause -------------------------------------------------------------


def test_tutorial_non_leaf_and_backward(provenance):
    # seed 000: x1 = x + 2, x2 = x - 2, x3 = x1 * x2, y = x3.sum(), y.backward()
    x = torch.FloatTensor([[1, 2], [3, 4]]).requires_grad_(True)
    x1 = x + 2
    line = here()
    x2 = x - 2
    x3 = x1 * x2
    y = x3.sum()
    assert why_no_grad(x, y).cause == "no_backward"
    assert why_no_grad(x).cause == "no_backward"
    y.backward()
    assert why_no_grad(x, y).cause == "has_grad"
    r = why_no_grad(x1, y)
    assert r.cause == "non_leaf"
    assert "retain_grad()" in str(r) and "AddBackward0" in str(r)
    assert f"{line.rsplit(':', 1)[0]}:{int(line.rsplit(':', 1)[1]) - 1}" in str(r)
    x3.detach_()  # seed 000 cuts x3 from its graph in place
    r = why_no_grad(x3)
    assert r.cause == "detach" and "detach_()" in str(r)


def test_not_on_path():
    a = torch.ones(3, requires_grad=True)
    b = torch.ones(3, requires_grad=True)
    loss = (b * 2).sum()
    r = why_no_grad(a, loss)
    assert r.cause == "not_on_path"
    assert "set_provenance(True)" in str(r)  # without provenance it says how to learn more


def test_cut_by_detach_names_the_line(provenance):
    model = mlp()
    x = torch.randn(4, 6)
    h = model[0](x).detach()
    line = here()
    v = torch.ones(16, requires_grad=True)
    loss = (h * v).sum()
    loss.backward()
    r = why_no_grad(model[0].weight, loss)
    assert r.cause == "detach"
    assert f"{line.rsplit(':', 1)[0]}:{int(line.rsplit(':', 1)[1]) - 1}" in str(r)
    assert r.site[1] == int(line.rsplit(":", 1)[1]) - 1


def test_cut_by_data(provenance):
    w = torch.randn(3, requires_grad=True)
    h = (w * 2).data
    line = here(-1)
    r = why_no_grad(w, (h * torch.ones(3, requires_grad=True)).sum())
    assert r.cause == "detach" and ".data" in str(r) and line in str(r)


def test_cut_by_no_grad_and_created_under_no_grad(provenance):
    w = torch.randn(5, requires_grad=True)
    with torch.no_grad():
        h = w * 3
        line = here(-1)
    r = why_no_grad(h)
    assert r.cause == "created_under_no_grad" and line in str(r)
    g = h + 1  # computed later from h, with grad on
    assert why_no_grad(g).cause == "no_grad"
    v = torch.ones(5, requires_grad=True)
    loss = (g * v).sum()
    r = why_no_grad(w, loss)
    assert r.cause == "no_grad" and line in str(r)
    r = why_no_grad(w, g.sum())  # the loss itself has no grad_fn
    assert r.cause == "no_grad"


@pytest.mark.parametrize("convert", ["item", "tolist", "numpy"])
def test_cut_by_conversion_to_python(provenance, convert):
    w = torch.randn(3, requires_grad=True)
    s = (w * w).sum()
    kwargs = {"force": True} if convert == "numpy" else {}
    value = float(np.asarray(getattr(s, convert)(**kwargs)))
    line = here(-1)
    loss = torch.tensor(value)
    r = why_no_grad(w, loss)
    assert r.cause == "to_python", str(r)
    assert line in str(r)


def test_cut_by_integer_cast(provenance):
    w = torch.randn(4, requires_grad=True)
    k = (w * 10).long()
    line = here(-1)
    r = why_no_grad(k)
    assert r.cause == "integer_cast" and line in str(r) and "int64" in str(r)
    loss = (k.float() * torch.ones(4, requires_grad=True)).sum()
    r = why_no_grad(w, loss)
    assert r.cause == "integer_cast"


def test_non_differentiable_output(provenance):
    class Half(Function):
        @staticmethod
        def forward(ctx, x):
            out = x * 0.5
            ctx.mark_non_differentiable(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            return grad * 0.5

    w = torch.randn(2, requires_grad=True)
    assert why_no_grad(Half.apply(w)).cause == "non_differentiable"


def test_leaf_causes():
    assert why_no_grad(torch.ones(2)).cause == "requires_grad_false"
    assert why_no_grad(torch.arange(3)).cause == "integer_dtype"
    assert why_no_grad(torch.ones(2, requires_grad=True)).cause == "unused"
    r = why_no_grad(torch.ones(2, requires_grad=True), torch.ones(2).sum())
    assert r.cause == "loss_no_grad" and "grad_fn" in str(r)
    assert repr(r) == "<why_no_grad: loss_no_grad>"
    with pytest.raises(TypeError):
        why_no_grad([1.0])


def test_zero_grad_resets_to_none():
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(2, 6)).pow(2).mean()
    loss.backward()
    assert why_no_grad(model[2].bias, loss).cause == "has_grad"
    opt.zero_grad()
    r = why_no_grad(model[2].bias, loss)
    assert r.cause == "no_backward" and "zero_grad" in str(r)


def test_shared_weights_and_deep_rnn():
    torch.manual_seed(0)
    shared = nn.Linear(5, 5)
    x = torch.randn(3, 5)
    out = shared(torch.tanh(shared(x)))  # the same weight used twice
    assert why_no_grad(shared.weight, out.sum()).cause == "no_backward"
    cell = nn.RNNCell(5, 7)
    h = torch.zeros(3, 7)
    states = []
    for _ in range(100):
        h = cell(x, h)
        states.append(h)
    loss = h.pow(2).mean()
    assert why_no_grad(states[10], loss).cause == "non_leaf"
    assert why_no_grad(shared.weight, loss).cause == "not_on_path"
    report = memory_report(loss)
    assert sum(n.name == "TanhBackward0" for n in report.nodes) == 100
    # each step saves its tanh output (3x7 float32), held by the graph
    assert report.activation_bytes >= 100 * 3 * 7 * 4
    loss.backward()
    assert why_no_grad(cell.weight_hh, loss).cause == "has_grad"
    assert memory_report(loss).total_bytes == 0


def test_walks_are_iterative():
    x = torch.ones(2, requires_grad=True)
    y = x
    for _ in range(5_000):  # deeper than Python's recursion limit
        y = y * 1.0
    other = torch.ones(2, requires_grad=True)
    assert why_no_grad(other, y.sum()).cause == "not_on_path"
    assert why_no_grad(x, y.sum()).cause == "no_backward"
    assert len(memory_report(y.sum()).nodes) == 5_001


# ---- provenance in errors ----------------------------------------------------------------


def test_inplace_error_names_both_lines(provenance):
    w = torch.randn(3, requires_grad=True)
    a = w.exp()
    made = here(-1)
    a.add_(1)
    changed = here(-1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
        a.sum().backward()
    msg = str(info.value)
    assert "ExpBackward0" in msg and made in msg and changed in msg and ".clone()" in msg


def test_backward_twice_names_the_line(provenance):
    w = torch.randn(3, requires_grad=True)
    loss = (w * w).sum()
    made = here(-1)
    loss.backward()
    with pytest.raises(RuntimeError, match="second time") as info:
        loss.backward()
    assert made in str(info.value) and "retain_graph=True" in str(info.value)


def test_no_grad_error_names_the_cut(provenance):
    w = torch.randn(3, requires_grad=True)
    loss = (w * 2).detach().sum()
    line = here(-1)
    with pytest.raises(RuntimeError, match="does not require grad") as info:
        loss.backward()
    assert line in str(info.value) and "detach()" in str(info.value)


def test_errors_without_provenance_say_how_to_get_lines():
    w = torch.randn(3, requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time") as info:
        loss.backward()
    assert "set_provenance(True)" in str(info.value)


def test_nodes_made_inside_modules_point_at_user_code(provenance):
    model = mlp()
    out = model(torch.randn(2, 6))
    line = here(-1)
    assert out.grad_fn.__dict__["_provenance"][:2] == (__file__, int(line.rsplit(":", 1)[1]))


# ---- the leak detector -------------------------------------------------------------------


def _train(steps, body):
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(8, 6), torch.randn(8, 3)
    state = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with detect_leaks() as detector:
            for _ in range(steps):
                opt.zero_grad()
                loss = ((model(x) - y) ** 2).mean()
                loss.backward()
                opt.step()
                body(loss, state)
    return detector, [w for w in caught if issubclass(w.category, GraphLeakWarning)]


def test_correct_loop_is_silent():
    def body(loss, state):
        state["total"] = state.get("total", 0.0) + loss.item()
        state["last"] = loss.detach()

    detector, caught = _train(10, body)
    assert caught == [] and detector.warnings == []


def test_one_graph_kept_on_purpose_is_silent():
    def body(loss, state):
        if "first" not in state:
            state["first"] = loss  # one stale graph that does not grow

    _, caught = _train(8, body)
    assert caught == []


def test_two_backward_calls_per_iteration_sharing_a_graph_are_silent():
    torch.manual_seed(0)
    gen, disc = nn.Linear(3, 4), nn.Linear(4, 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with detect_leaks():
            for _ in range(6):
                fake = gen(torch.randn(5, 3))
                d_loss = disc(fake).mean()
                d_loss.backward(retain_graph=True)  # the generator's part is used again below
                g_loss = -disc(fake).mean()
                g_loss.backward()
    assert [w for w in caught if issubclass(w.category, GraphLeakWarning)] == []


def test_running_total_of_losses_is_caught():
    line = []

    def body(loss, state):
        state["total"] = state.get("total", 0) + loss
        line.append(here(-1))

    detector, caught = _train(6, body)
    assert caught, "total_loss += loss was not detected"
    msg = str(caught[0].message)
    assert line[0] in msg and "loss.item()" in msg
    assert caught[0].filename == __file__  # the warning points at the backward() call


def test_list_of_losses_is_caught():
    def body(loss, state):
        state.setdefault("losses", []).append(loss)

    _, caught = _train(6, body)
    assert caught and "detach()" in str(caught[0].message)


def test_growth_of_live_nodes_is_reported():
    def body(loss, state):
        state.setdefault("losses", []).append(loss)

    detector, _ = _train(8, body)
    assert any("grows at every backward" in m for m in detector.warnings)


def _rnn_loop(detach: bool, retain: bool, steps: int = 5):
    """Train an RNN cell, carrying the hidden state; returns (warnings, line, error)."""
    torch.manual_seed(0)
    cell = nn.RNNCell(4, 6)
    xs = torch.randn(steps, 2, 4)
    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with detect_leaks():
            h = torch.zeros(2, 6)
            for t in range(steps):
                if detach:
                    h = h.detach()
                cell.zero_grad()
                h = cell(xs[t], h)
                line = here(-1)
                try:
                    h.pow(2).mean().backward(retain_graph=retain)
                except RuntimeError as e:
                    error = e
                    break
    return [w for w in caught if issubclass(w.category, GraphLeakWarning)], line, error


def test_rnn_hidden_state_carried_is_caught_before_the_error():
    caught, line, error = _rnn_loop(detach=False, retain=False)
    assert "second time" in str(error)  # what the carried state leads to
    assert caught, "the carried hidden state was not detected"
    msg = str(caught[0].message)
    assert "hidden = hidden.detach()" in msg and line in msg


def test_rnn_hidden_state_carried_with_retain_graph_is_caught():
    caught, line, error = _rnn_loop(detach=False, retain=True)
    assert error is None and caught
    assert "hidden = hidden.detach()" in str(caught[0].message)


def test_rnn_with_detach_is_silent():
    caught, _, error = _rnn_loop(detach=True, retain=False, steps=8)
    assert error is None and caught == []


def test_environment_variable_turns_the_detector_on():
    code = ("import warnings, retrograd as torch\n"
            "warnings.simplefilter('error', torch.debug.GraphLeakWarning)\n"
            "w = torch.ones(3, requires_grad=True); total = 0\n"
            "try:\n"
            "    for _ in range(5):\n"
            "        loss = (w * w).sum(); loss.backward(); total = total + loss\n"
            "except torch.debug.GraphLeakWarning as e:\n"
            "    print('caught', e)\n")
    env = dict(os.environ, RETROGRAD_DETECT_LEAKS="1",
               PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.startswith("caught"), out.stdout + out.stderr


# ---- memory_report -----------------------------------------------------------------------


def test_memory_report_mlp(provenance):
    model = mlp()
    x = torch.randn(32, 6)
    loss = nn.functional.cross_entropy(model(x), torch.randint(0, 3, (32,)))
    line = here(-1)
    report = memory_report(loss)
    relu = [n for n in report.nodes if n.name == "ReluBackward0"]
    assert len(relu) == 1 and relu[0].nbytes == 32 * 16 * 4
    assert report.activation_bytes >= 32 * 16 * 4
    per_node = sum(n.nbytes for n in report.nodes)
    assert report.total_bytes <= per_node  # memory saved by two nodes counts once
    text = str(report)
    assert "ReluBackward0" in text and line in text and "checkpointing" in text
    best = memory_report(loss, model).checkpoint_candidates()[0]
    assert best["where"] == "1 (ReLU)" and best["cheap"] and best["bytes"] == 32 * 16 * 4
    loss.backward()
    assert memory_report(loss).total_bytes == 0  # backward freed everything


def test_memory_report_cnn_and_shared_weights():
    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(4 * 3 * 3, 2))
    loss = cnn(torch.randn(5, 1, 8, 8)).sum()
    report = memory_report(loss)
    names = {n.name for n in report.nodes}
    assert {"ConvolutionBackward0", "ReluBackward0"} <= names
    pool = next(n for n in report.nodes if n.name.startswith("MaxPool2D"))
    # arrays kept via ctx_arrays count (the tap index k of each window when the indices are
    # not returned: Note [Max pooling positions])
    assert any(e.label in ("idx", "k") for e in pool.saved)
    assert report.largest(1)[0].nbytes == max(n.nbytes for n in report.nodes)
    loss.backward()
    assert memory_report(loss).total_bytes == 0

    shared = nn.Linear(8, 8)
    x = torch.randn(4, 8, requires_grad=True)  # so both products save the weight
    out = shared(shared(x)).sum()
    report = memory_report(out)
    weight_bytes = 8 * 8 * 4
    per_node = sum(n.nbytes for n in report.nodes)
    assert per_node - report.total_bytes >= weight_bytes  # the shared weight is counted once


def test_tour_section(capsys):
    debug._tour(print)
    out = capsys.readouterr().out
    assert "retain_grad()" in out and "created under no_grad" in out and "_tour_demo.py:" in out
    assert not debug.is_provenance_enabled()
