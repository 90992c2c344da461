"""retrograd.viz: drawings of the recorded graph (text, DOT, SVG, HTML) and explain(loss).

The graphs: the tutorial examples of the seed documents, an MLP, a CNN, an RNN unrolled 100
steps and a model with tied weights. Each drawing must show every node of the graph (counted
independently by walking ``next_functions``), unless folded or capped with a note saying so.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter

import numpy as np
import pytest

import retrograd as torch
from retrograd import nn
from retrograd.viz import graph, trace_modules

CHROMIUM = "/usr/bin/chromium"


# ---- the graphs -----------------------------------------------------------------------------

def walk(*tensors) -> Counter:
    """Names of every node behind ``tensors``, counted (the reference for the drawings)."""
    seen, stack = set(), [t.grad_fn for t in tensors if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(n for n, _ in node.next_functions if n is not None)
    return Counter(type(n).__name__ for n in seen)


def drawn(d) -> Counter:
    """Node names in a drawing: ops by their title, leaves as AccumulateGrad."""
    return Counter("AccumulateGrad" if kind == "leaf" else title
                   for kind, title in d.nodes if kind in ("op", "leaf"))


def seed_000():
    x = torch.FloatTensor([[1, 2], [3, 4]]).requires_grad_(True)
    x1 = x + 2
    x2 = x - 2
    x3 = x1 * x2
    return x3.sum(), {"x": x}


def seed_001():
    inp = torch.eye(5, requires_grad=True)
    return (inp + 1).pow(2), {"inp": inp}


def seed_002():
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    return z.mean(), {"x": x}


def seed_003():
    a = torch.tensor([3.0], requires_grad=True)
    b = torch.tensor([2.0], requires_grad=True)
    return 3 * a ** 3 + 2 * b ** 4, {"a": a, "b": b}


def seed_003_mse():
    y = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    pred = torch.tensor([2.0, 2.0, 3.0], requires_grad=True)
    return torch.mean((y - pred) ** 2), {"y": y, "pred": pred}


def mlp():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    with trace_modules(model):
        loss = nn.CrossEntropyLoss()(model(torch.randn(8, 16)), torch.randint(0, 4, (8,)))
    return loss, model


def cnn():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(36, 10))
    with trace_modules(model):
        loss = model(torch.randn(2, 1, 8, 8)).pow(2).mean()
    return loss, model


def rnn(steps: int = 100):
    torch.manual_seed(0)
    cell = nn.RNNCell(3, 5)
    h = torch.zeros(2, 5)
    xs = torch.randn(steps, 2, 3)
    for t in range(steps):
        h = cell(xs[t], h)
    return h.pow(2).sum(), cell


class Tied(nn.Module):
    """The first layer's weight is used again at the end (shared weights)."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Linear(6, 4, bias=False)
        self.mid = nn.Linear(4, 4)

    def forward(self, x):
        h = torch.tanh(self.emb(x))
        return (self.mid(h) + h) @ self.emb.weight


def tied():
    torch.manual_seed(0)
    model = Tied()
    with trace_modules(model):
        loss = model(torch.randn(3, 6)).pow(2).mean()
    return loss, model


SEEDS = [seed_000, seed_001, seed_002, seed_003, seed_003_mse]
MODELS = [mlp, cnn, tied]


# ---- every format, every node ---------------------------------------------------------------

def check_formats(d, expected: Counter) -> None:
    assert drawn(d) == expected
    n_boxes = len(d.nodes)
    text = d.text()
    for name in expected:
        if name != "AccumulateGrad":
            assert name in text
    dot = d.dot()
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    assert len(re.findall(r"^\s*n\d+ \[label=", dot, re.M)) == n_boxes
    svg = d.svg()
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    groups = [g for g in root.iter("{http://www.w3.org/2000/svg}g")
              if "node" in g.get("class", "").split()]
    assert len(groups) == n_boxes
    page = d.html()
    assert page.startswith("<!DOCTYPE html>") and "http" not in page.split("<svg", 1)[0]
    inner = page[page.index("<svg"):page.index("</svg>") + 6]
    ET.fromstring(inner)
    data = re.search(r'id="rg-data">(.*?)</script>', page, re.S).group(1)
    assert len(json.loads(data)) == n_boxes
    assert d._repr_svg_() == svg and d._repr_html_() == page


@pytest.mark.parametrize("make", SEEDS, ids=lambda f: f.__name__)
def test_tutorial_graphs_show_every_node(make):
    out, leaves = make()
    d = graph(out, names=leaves)
    check_formats(d, walk(out))
    for name in leaves:
        assert ("leaf", name) in d.nodes


@pytest.mark.parametrize("make", MODELS, ids=lambda f: f.__name__)
def test_models_show_every_node_named_and_grouped(make):
    loss, model = make()
    d = graph(loss, params=model)
    check_formats(d, walk(loss))
    names = {name for name, _ in model.named_parameters()}
    assert names == {title for kind, title in d.nodes if kind == "leaf"}
    svg = d.svg()
    for name, module in model.named_children():
        if not isinstance(module, nn.Flatten) or make is cnn:
            assert f"{name}: {type(module).__name__}" in svg  # the module's box


def test_sequential_reads_as_its_layers():
    loss, model = mlp()
    text = graph(loss, params=model).text()
    assert re.search(r"ReluBackward0 .*<1: ReLU>", text)
    assert re.search(r"AddmmBackward0 .*<0: Linear>", text)
    assert re.search(r"0\.weight .*<0: Linear>", text)


def test_without_tracing_parameter_names_group_the_ops():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    d = graph(model(torch.randn(2, 4)).sum(), params=dict(model.named_parameters()))
    assert re.search(r"AddmmBackward0 .*<2>", d.text())


def test_shared_weight_is_one_leaf_with_two_uses():
    loss, model = tied()
    d = graph(loss, params=model)
    leaves = [title for kind, title in d.nodes if kind == "leaf"]
    assert leaves.count("emb.weight") == 1
    model_ = d._model
    key = next(b.key for b in model_.boxes.values() if b.title == "emb.weight")
    assert len({b for a, b in model_.edges if a == key}) == 2
    assert "emb.weight [#" in d.text() and "(drawn above)" in d.text()


def test_gradients_after_backward_values_small_norm_big():
    loss, model = mlp()
    loss.backward()
    text = graph(loss, params=model).text()
    w = model[2].bias.grad
    assert re.search(r"2\.bias .*grad \[", text)  # 4 values
    norm = float(np.linalg.norm(model[0].weight.grad.numpy()))
    assert f"grad norm {norm:.4g}, shape [32, 16]" in text
    assert w.shape == (4,)


def test_saved_tensors_and_their_bytes():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = ((x + 2) * (x - 2)).sum()
    d = graph(y)
    assert "saved self, other (24 B)" in d.text()
    svg = d.svg()
    assert "saved self: [3] float32, 12 B" in svg  # the tooltip
    y.backward()
    assert "freed by backward" in graph(y).svg()


def test_rnn_unrolled_100_steps_collapses():
    loss, cell = rnn(100)
    full = graph(loss, params=cell, collapse=False, max_nodes=None)
    check_formats(full, walk(loss))
    d = graph(loss, params=cell)
    assert len(d.nodes) < 40
    assert any("repetitions" in note for note in d.notes)
    folded = sum(n for n in walk(loss).values()) - sum(drawn(d).values())
    assert f"({folded} ops)" in d.notes[0]
    root = ET.fromstring(d.svg())
    assert "note: folded" in "".join(root.itertext())
    assert "× " in d.text()


def test_size_cap_notes_what_was_left_out():
    loss, cell = rnn(30)
    d = graph(loss, collapse=False, max_nodes=25)
    assert len(d.nodes) == 25
    assert any("not drawn" in n for n in d.notes)
    ET.fromstring(d.svg())


def test_deep_chain_without_recursion():
    x = torch.ones(3, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    d = graph(y.sum())
    assert len(d.nodes) < 20 and d.notes
    ET.fromstring(d.svg())
    assert graph(y.sum(), collapse=False, max_nodes=50).text().count("MulBackward0") >= 40


def test_several_tensors_and_tensors_without_graph():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 2, x.exp()
    d = graph(a, b)
    assert drawn(d) == walk(a, b)
    assert [t for k, t in d.nodes if k == "tensor"] == ["a", "b"]
    plain = graph(torch.ones(2))
    assert "requires_grad=False" in plain.text()


def test_save_by_extension(tmp_path):
    out, _ = seed_002()
    d = graph(out)
    for ext, start in ((".txt", "out"), (".dot", "digraph"), (".svg", "<svg"),
                       (".html", "<!DOCTYPE")):
        path = d.save(tmp_path / f"g{ext}")
        with open(path, encoding="utf-8") as f:
            assert f.read().startswith(start)
    with pytest.raises(ValueError, match="extension"):
        d.save(tmp_path / "g.png")


# ---- explain --------------------------------------------------------------------------------

def test_explain_tutorial_arrives_at_2x_and_says_why():
    for values in ([1.0, 2.0, 3.0], [-0.5, 4.0, 10.0, 7.25]):
        x = torch.tensor(values, requires_grad=True)
        y = ((x + 2) * (x - 2)).sum()
        e = torch.explain(y)
        np.testing.assert_allclose(x.grad.numpy(), 2 * np.array(values, dtype=np.float32))
        assert [s.node for s in e.steps] == ["SumBackward0", "MulBackward0", "SubBackward0",
                                             "AddBackward0", "AccumulateGrad"]
        text = str(e)
        assert "d(u·v)/du = v,  d(u·v)/dv = u" in text
        assert "x.grad = (x + 2) + (x - 2) = 2x" in text
        mul = e.steps[1]
        np.testing.assert_allclose(mul.sends[0]["grad"], np.array(values) - 2, rtol=1e-6)
        np.testing.assert_allclose(mul.sends[1]["grad"], np.array(values) + 2, rtol=1e-6)
        np.testing.assert_allclose(e.grads["x"], x.grad.numpy())


def test_explain_matches_plain_backward_and_leaves_no_hooks():
    loss, model = mlp()
    e = torch.explain(loss, retain_graph=True)
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    for p in model.parameters():
        p.grad = None
    loss.backward()
    for g, p in zip(grads, model.parameters()):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-6)
    assert len(e.steps) == sum(walk(loss).values())
    node = loss.grad_fn
    assert not node._pre_hooks and not node._post_hooks
    assert "grad @ Bᵀ" in str(e) or "matrix product" in str(e)


def test_explain_steps_in_execution_order_with_broadcast_and_generic_rule():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = torch.tensor([0.5], requires_grad=True)
    loss = (x * b).clamp(0, 3).sum()
    e = torch.explain(loss)
    seqs = [s.index for s in e.steps]
    assert seqs == sorted(seqs)
    text = str(e)
    assert "broadcasting undone" in text  # b's gradient summed to shape [1]
    clamp = next(s for s in e.steps if s.node.startswith("Clamp"))
    assert clamp.rule  # a generic line from the Function's docstring
    assert len(e.drawing.html().split('"key"')) - 1 == len(e.steps)
    np.testing.assert_allclose(b.grad.numpy(), [10.0])


def test_explain_refuses_what_backward_refuses():
    with pytest.raises(RuntimeError):
        torch.explain(torch.ones(2))
    with pytest.raises(TypeError):
        torch.explain(3.0)


def test_explain_against_torch(torch_ref):
    values = [1.5, -2.0, 0.25]
    x = torch.tensor(values, requires_grad=True)
    e = torch.explain(((x + 2) * (x - 2)).sum())
    xt = torch_ref.tensor(values, requires_grad=True)
    ((xt + 2) * (xt - 2)).sum().backward()
    np.testing.assert_allclose(e.grads["x"], xt.grad.numpy())


# ---- a real browser -------------------------------------------------------------------------

@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")
def test_headless_browser_renders_without_errors(tmp_path):
    loss, model = mlp()
    page = torch.explain(loss, params=model).drawing.save(tmp_path / "mlp.html")
    n = sum(walk(loss).values()) + 1  # and the box of the loss tensor
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                          "--dump-dom", f"file://{page}"],
                         capture_output=True, text=True, timeout=60).stdout
    assert "<title>retrograd graph</title>" in dom  # the script ran, no error hook fired
    # the page's own check: every box drawn inside the picture, no two overlapping
    assert f'data-check="nodes={n} inside={n} overlaps=0"' in dom
    # stepping through backward: the page opened at its last step shows that step's text
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                          "--dump-dom", f"file://{page}#step={n - 1}"],
                         capture_output=True, text=True, timeout=60).stdout
    assert f"{n - 1} / {n - 1}" in dom and "weight.grad is now" in dom
