"""``explain(loss)``: run backward and tell, node by node, what happened and why.

Hooks on every node (``register_prehook``: the gradient arriving, and what the node saved;
``register_hook``: what the node sends to each input) record the run; the engine is not
changed. The result prints as readable text and keeps the steps as data.
"""

from __future__ import annotations

import numpy as np

from ..autograd.graph import AccumulateGrad
from ..tensor import Tensor
from . import _model
from ._model import fmt_shape, fmt_values
from ._rules import rule
from .drawing import Drawing, _caller_frame, _names

_KEEP = 4096  # gradients up to this many elements are kept as arrays in the steps


class Step:
    """One node run by backward, in execution order."""

    __slots__ = ("index", "node", "label", "kind", "grad", "rule", "words", "saved", "sends",
                 "key", "text")

    def __init__(self, index: int, node: str, label: str, kind: str) -> None:
        self.index = index
        self.node = node  # the node's name: "MulBackward0", "AccumulateGrad"
        self.label = label  # how the text refers to it: "MulBackward0 (x3)", "x"
        self.kind = kind  # "op" or "leaf"
        self.grad = []  # the gradient arriving, per output (arrays; None when none arrived)
        self.rule = ""  # the local derivative in symbols
        self.words = ""  # ... and in words
        self.saved = []  # (name, where it came from, values) of what the node saved
        self.sends = []  # dicts: to (label), formula, grad (array or None), note
        self.key = None  # the node's box in the drawing
        self.text = ""

    def as_dict(self) -> dict:
        return {"index": self.index, "node": self.node, "label": self.label, "kind": self.kind,
                "rule": self.rule, "words": self.words, "text": self.text,
                "sends": [dict(s) for s in self.sends]}

    def __repr__(self) -> str:
        return f"<Step {self.index}: {self.label}>"


class Explanation:
    """What ``explain`` found: ``steps`` (data), ``grads`` (leaf label -> gradient), ``why``
    (one paragraph per leaf), ``drawing`` (the graph, whose HTML steps through backward)."""

    def __init__(self, steps: list, grads: dict, why: list, drawing: Drawing) -> None:
        self.steps = steps
        self.grads = grads
        self.why = why
        self.drawing = drawing

    def text(self) -> str:
        parts = ["backward, node by node (newest node first; each node runs once every "
                 "gradient for it has arrived):", ""]
        parts += [s.text for s in self.steps]
        parts += self.why
        return "\n".join(parts).rstrip() + "\n"

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"<Explanation of {len(self.steps)} backward steps>"

    def _repr_html_(self) -> str:
        return self.drawing.html("retrograd: backward step by step")


def explain(loss: Tensor, gradient=None, retain_graph: bool | None = None, params=None,
            names: dict | None = None) -> Explanation:
    """Run ``loss.backward(gradient, retain_graph)`` and return the walkthrough.

    ``params`` and ``names`` name tensors as in ``viz.graph``; by default the caller's
    variables name them.
    """
    if not isinstance(loss, Tensor):
        raise TypeError(f"explain() takes the tensor to backpropagate from, got "
                        f"{type(loss).__name__}")
    if loss.grad_fn is None:
        loss.backward(gradient)  # raises the engine's error (or fills a leaf's grad)
        raise RuntimeError("explain() needs a tensor computed by operations (with a grad_fn); "
                           "this one is a leaf, so backward only copies the gradient into it.")
    table, group_labels = _names(params, names, _caller_frame())
    model = _model.build((loss,), table)
    model.groups.update(group_labels)
    nodes = _reachable(loss.grad_fn)
    labels = _labels(nodes, table)
    before = {n: (None if n.variable is None or n.variable._grad is None
                  else n.variable._grad._data.copy())
              for n in nodes if isinstance(n, AccumulateGrad)}
    runs: list = []
    arrived: dict = {n: [] for n in nodes}  # node -> [(from label, gradient)]
    handles = []
    for node in nodes:
        handles.append(node.register_prehook(_on_arrive(node, runs, labels)))
        if not isinstance(node, AccumulateGrad):
            handles.append(node.register_hook(_on_leave(node, runs, labels, arrived)))
    try:
        loss.backward(gradient, retain_graph=retain_graph)
    finally:
        for h in handles:
            h.remove()
    root = table.get(("tensor", id(loss)), "loss")
    steps = [_finish(i + 1, node, info, labels, arrived, before.get(node), root)
             for i, (node, info) in enumerate(runs)]
    keys = getattr(model, "key_of", {})
    for step, (node, _) in zip(steps, runs):
        step.key = keys.get(id(node))
        box = model.boxes.get(step.key)
        if box is not None and box.kind == "op" and step.grad and step.grad[0] is not None:
            box.lines.append("grad in " + fmt_values(step.grad[0]))
            box.details.append(("grad arriving", fmt_values(step.grad[0])))
        elif box is not None and box.kind == "leaf":
            var = node.variable
            if var is not None and var._grad is not None:
                box.lines.append("grad " + fmt_values(var._grad._data))
                box.details.append(("grad", fmt_values(var._grad._data)))
    _model.collapse_repeats(model)
    _model.cap(model, 300)
    grads = {}
    why = []
    for node, prev in before.items():
        var = node.variable
        if var is None or var._grad is None:
            continue
        grads[labels[node]] = var._grad._data.copy() if var._grad._data.size <= _KEEP else None
        why.append(_why(node, labels[node], var, arrived[node], prev))
    json_steps = [{"key": s.key, "text": s.text} for s in steps]
    return Explanation(steps, grads, why, Drawing(model, json_steps))


def _reachable(root) -> list:
    seen = {root}
    stack = [root]
    order = []
    while stack:
        node = stack.pop()
        order.append(node)
        for nxt, _ in node.next_functions:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return order


def _labels(nodes: list, table: dict) -> dict:
    labels = {}
    taken: dict = {}
    for node in sorted(nodes, key=lambda n: -n._sequence_nr):
        if isinstance(node, AccumulateGrad):
            var = node.variable
            name = table.get(id(var)) if var is not None else None
            label = name or (f"leaf {fmt_shape(var.shape)}" if var is not None else "leaf")
        else:
            outs = table.get(("out", id(node)))
            label = type(node).__name__ + (f" ({', '.join(outs)})" if outs else "")
        n = taken[label] = taken.get(label, 0) + 1
        labels[node] = label if n == 1 else f"{label} #{n}"
    return labels


def _keep(g):
    if g is None:
        return None
    data = g._data
    return data.copy() if data.size <= _KEEP else data


def _on_arrive(node, runs: list, labels: dict):
    def hook(grads):
        info = {"grads": [_keep(g) for g in grads], "saved": [], "sends": None}
        if not isinstance(node, AccumulateGrad):
            names = getattr(node._function, "saved_names", ())
            try:
                saved = node.saved_tensors if node._packed is not None else ()
            except RuntimeError:
                saved = ()
            for i, t in enumerate(saved):
                if t is None:
                    continue
                name = names[i] if i < len(names) else f"saved{i}"
                src = t.grad_fn or (t._accumulator if t._requires_grad else None)
                if t.grad_fn is node:
                    where = "this op's output"
                elif src is None:
                    where = "a constant"
                elif isinstance(src, AccumulateGrad):
                    where = labels.get(src, "a leaf")
                else:
                    where = "the output of " + labels.get(src, type(src).__name__)
                slot = [j for j, e in enumerate(node._edges) if e is src and src is not None]
                if len(slot) == 1 and slot[0] < 3:
                    name += f" ({'uvw'[slot[0]]})"
                elif name in ("self", "other") and len(names) == 2 and names[0] == "self":
                    name += " (u)" if name == "self" else " (v)"
                info["saved"].append((name, where, _keep(t)))
            for key, attr in getattr(node._function, "saved_attrs", {}).items():
                value = node.__dict__.get(attr)
                if isinstance(value, (int, float, np.ndarray, np.generic)):
                    value = np.asarray(value)
                    info["saved"].append((key + (" (p)" if key == "exponent" else ""),
                                          None,
                                          value))
        runs.append((node, info))
    return hook


def _on_leave(node, runs: list, labels: dict, arrived: dict):
    def hook(in_grads, grad_outputs):
        sends = []
        # (in_grads has one entry per tensor argument: arguments that are not tensors have none)
        edges = [(nxt, nr) for nxt, nr in zip(node._edges, node._edge_nrs) if nr >= 0]
        for (nxt, nr), g in zip(edges, in_grads):
            if nxt is None:
                sends.append((None, None, None))
                continue
            data = None if g is None else g._data
            shape = nxt._outputs_meta[nr][0]
            summed = data is not None and data.shape != shape
            if summed:
                data = _sum_to(data, shape)
            kept = None if data is None else (data.copy() if data.size <= _KEEP else data)
            sends.append((nxt, kept, summed))
            if kept is not None:
                arrived[nxt].append((labels[node], kept))
        for n, info in reversed(runs):
            if n is node:
                info["sends"] = sends
                break
    return hook


def _sum_to(a: np.ndarray, shape: tuple) -> np.ndarray:
    lead = a.ndim - len(shape)
    a = a.sum(axis=tuple(range(lead))) if lead > 0 else a
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and a.shape[i] != 1)
    return a.sum(axis=axes, keepdims=True) if axes else a


def _finish(index: int, node, info: dict, labels: dict, arrived: dict, prev,
            root: str) -> Step:
    name = type(node).__name__
    leaf = isinstance(node, AccumulateGrad)
    step = Step(index, name, labels[node], "leaf" if leaf else "op")
    step.grad = info["grads"]
    symbols, words, formulas = rule(name, node._function)
    step.rule, step.words = symbols, words
    step.saved = info["saved"]
    lines = [f"step {index}: {labels[node]}" + (" (AccumulateGrad)" if leaf else "")]
    g = step.grad[0] if step.grad else None
    incoming = arrived.get(node, [])
    g_text = "nothing" if g is None else fmt_values(g)
    if len(incoming) > 1:
        g_text += "  = the sum of " + " and ".join(
            f"{fmt_values(v)} from {src}" for src, v in incoming)
    elif not incoming and g is not None:
        g_text += f"  (the starting gradient: d{root}/d{root} = 1)" if g.size == 1 else \
            "  (the gradient passed to backward)"
    lines.append(f"  gradient arriving:  {g_text}")
    if leaf:
        var = node.variable
        lines.append(f"  rule:               {symbols.replace('x.grad', labels[node] + '.grad')}"
                     f"  ({words})")
        if var is not None and var._grad is not None:
            was = "" if prev is None else f" (it held {fmt_values(prev)} before)"
            lines.append(f"  {labels[node]}.grad is now {fmt_values(var._grad._data)}{was}")
        step.text = "\n".join(lines) + "\n"
        return step
    lines.append(f"  local derivative:   {symbols}")
    if words:
        lines.append(f"                      ({words})")
    if step.saved:
        lines.append("  saved for backward: " + ";  ".join(
            f"{n}" + ("" if w is None else f" = {w}") + ("" if v is None else f" = {fmt_values(v)}")
            for n, w, v in step.saved))
    for i, (nxt, data, summed) in enumerate(info["sends"] or ()):
        formula = formulas[i] if i < len(formulas) else f"grad for input {i}"
        if nxt is None:
            lines.append(f"  input {i} is a constant: nothing to send")
            continue
        target = labels.get(nxt, type(nxt).__name__)
        val = "nothing (not needed)" if data is None else fmt_values(data)
        note = "  (summed to the input's shape: broadcasting undone)" if summed else ""
        lines.append(f"  sends to {target}:  {formula} = {val}{note}")
        step.sends.append({"to": target, "formula": formula, "grad": data, "summed": summed})
    step.text = "\n".join(lines) + "\n"
    return step


def _why(node, label: str, var: Tensor, incoming: list, prev) -> str:
    """Why the leaf's gradient is what it is: the sum over its uses, each a product of local
    derivatives along the path; written in terms of the leaf when a line fits exactly."""
    grad = var._grad._data
    x = var._data
    lines = [f"why {label}.grad = {fmt_values(grad)}:"]
    if len(incoming) == 1:
        src, v = incoming[0]
        lines.append(f"  {label} is used once, by {src}; the chain rule multiplies the local "
                     "derivatives along the path from the loss down to it (the steps above).")
    else:
        lines.append(f"  {label} is used {len(incoming)} times; the chain rule multiplies the "
                     "local derivatives along each path from the loss and adds the paths "
                     "(multivariable chain rule):")
    fits = []
    for src, v in incoming:
        f = _affine(x, v, label)
        fits.append(f)
        lines.append(f"    via {src}:  {fmt_values(v)}" + (f"  = {f}" if f else ""))
    total = _affine(x, grad if prev is None else grad - prev, label)
    if total and all(fits) and len(fits) > 1:
        lines.append(f"  so {label}.grad = " + " + ".join(f"({f})" for f in fits)
                     + f" = {total}   (checked elementwise on these values)")
    elif total:
        lines.append(f"  so {label}.grad = {total}   (checked elementwise on these values)")
    if prev is not None:
        lines.append(f"  {label}.grad already held {fmt_values(prev)}; backward adds to it.")
    return "\n".join(lines) + "\n"


def _num(a: float) -> str:
    a = float(np.round(a, 6))
    return f"{a:g}"


def _affine(x: np.ndarray, v: np.ndarray, name: str) -> str | None:
    """``v`` as ``a·x + b`` (a, b numbers), when that holds for every element; else None."""
    if v is None or x.shape != np.shape(v) or x.size < 2 or x.size > _KEEP:
        return None
    xs = x.astype(np.float64).ravel()
    vs = np.asarray(v, dtype=np.float64).ravel()
    if np.ptp(xs) == 0 or not np.all(np.isfinite(vs)):
        return None
    a, b = np.polyfit(xs, vs, 1)
    a, b = float(np.round(a, 6)), float(np.round(b, 6))
    if not np.allclose(a * xs + b, vs, rtol=1e-4, atol=1e-5):
        return None
    var = name if name.isidentifier() else f"({name})"
    if a == 0:
        return _num(b)
    term = var if a == 1 else f"-{var}" if a == -1 else f"{_num(a)}{var}"
    if b == 0:
        return term
    return f"{term} {'+' if b > 0 else '-'} {_num(abs(b))}"
