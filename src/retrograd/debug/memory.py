"""``memory_report(loss)``: what the graph behind ``loss`` keeps alive for backward.

A node keeps what forward saved (``_packed``: tensors, or its own output's array), the arrays a
Function lists in ``ctx_arrays``, and any other array it put on ctx. Saved leaves (parameters,
inputs) are counted apart: they are alive anyway. Saved activations are what the graph adds,
and what checkpointing (recomputing a segment during backward instead of saving it) frees.
"""

from __future__ import annotations

import numpy as np

from ..autograd.graph import AccumulateGrad, SavedOutput
from ..tensor import Tensor
from . import provenance as _prov

# Ops whose results are cheap to recompute (elementwise work, no matrix products).
_CHEAP = {"Relu", "Tanh", "Sigmoid", "Gelu", "Silu", "Elu", "LeakyRelu", "Softplus", "Exp",
          "Log", "Add", "Sub", "Mul", "Div", "Neg", "Pow", "Sqrt", "Rsqrt", "Abs", "Clamp",
          "Dropout", "Softmax", "LogSoftmax", "Where", "Maximum", "Minimum", "Sin", "Cos",
          "Hardtanh", "Mean", "Sum", "View", "Reshape", "Transpose", "Permute", "Expand"}


def _cheap(node) -> bool:
    name = type(node).__name__
    base = name[:-len("Backward0")] if name.endswith("Backward0") else name
    return base in _CHEAP


class SavedEntry:
    """One array a node keeps: what it is, and its size."""

    __slots__ = ("label", "shape", "dtype", "nbytes", "kind", "key")

    def __init__(self, label: str, array: np.ndarray, kind: str) -> None:
        self.label = label
        self.shape = tuple(array.shape)
        self.dtype = str(array.dtype)
        self.nbytes = int(array.nbytes)
        self.kind = kind  # "activation" (the graph keeps it alive) or "leaf" (alive anyway)
        self.key = (array.__array_interface__["data"][0], array.nbytes)


class NodeMemory:
    """What one node keeps: ``saved`` entries, where it was made, and in which module."""

    __slots__ = ("name", "site", "module", "saved", "cheap", "sequence_nr")

    def __init__(self, node, saved: list, module_names: dict) -> None:
        self.name = type(node).__name__
        self.site = _prov.node_site(node)
        module = node.__dict__.get("_module")
        self.module = None if module is None else module_names.get(
            id(module), type(module).__name__)
        self.saved = saved
        self.cheap = _cheap(node)
        self.sequence_nr = node._sequence_nr

    @property
    def nbytes(self) -> int:
        return sum(e.nbytes for e in self.saved)


def _saved_of(node) -> list:
    out = []
    packed = node._packed
    if isinstance(packed, np.ndarray):
        out.append(SavedEntry("result", packed, "activation"))
    elif packed is not None:
        for i, s in enumerate(packed):
            if s.__class__ is SavedOutput:
                out.append(SavedEntry(f"result[{s.output_nr}]", s.data, "activation"))
            elif isinstance(s, Tensor):
                kind = "activation" if s.grad_fn is not None else "leaf"
                out.append(SavedEntry(f"saved[{i}]", s._data, kind))
    for name, value in node.__dict__.items():
        values = value if isinstance(value, (tuple, list)) else (value,)
        for j, v in enumerate(values):
            if isinstance(v, np.ndarray) and v.nbytes:
                label = name if len(values) == 1 else f"{name}[{j}]"
                out.append(SavedEntry(label.lstrip("_"), v, "activation"))
    return out


class MemoryReport:
    """Bytes held for backward, per node and in total; ``str()`` is a readable summary."""

    def __init__(self, nodes: list) -> None:
        self.nodes = nodes  # NodeMemory, in the order found (newest first)
        seen: set = set()
        self.total_bytes = self.activation_bytes = 0
        for n in nodes:
            for e in n.saved:
                if e.key in seen:  # the same memory saved twice is held once
                    continue
                seen.add(e.key)
                self.total_bytes += e.nbytes
                if e.kind == "activation":
                    self.activation_bytes += e.nbytes

    def largest(self, k: int = 5) -> list:
        return sorted((n for n in self.nodes if n.saved), key=lambda n: -n.nbytes)[:k]

    def checkpoint_candidates(self, k: int = 3) -> list:
        """Where checkpointing frees most: activation bytes per module (or per creation line,
        or per op, as known), each array counted once, for the node that saved it first (its
        producer); cheap-to-recompute places first."""
        groups: dict = {}
        owned: set = set()
        for n in sorted(self.nodes, key=lambda n: n.sequence_nr):
            act = 0
            for e in n.saved:
                if e.kind == "activation" and e.key not in owned:
                    owned.add(e.key)
                    act += e.nbytes
            if not act:
                continue
            key = n.module or (_prov.format_site(n.site) if n.site else f"the {n.name} nodes")
            g = groups.setdefault(key, {"where": key, "bytes": 0, "ops": {}, "cheap": True})
            g["bytes"] += act
            g["ops"][n.name] = g["ops"].get(n.name, 0) + 1
            g["cheap"] = g["cheap"] and n.cheap
        return sorted(groups.values(), key=lambda g: (not g["cheap"], -g["bytes"]))[:k]

    def __str__(self) -> str:
        lines = [f"saved for backward: {_fmt(self.total_bytes)} in {len(self.nodes)} nodes "
                 f"({_fmt(self.activation_bytes)} activations kept alive by the graph, "
                 f"{_fmt(self.total_bytes - self.activation_bytes)} leaves alive anyway)"]
        lines.append("largest:")
        for n in self.largest():
            shapes = ", ".join(f"{e.label} {list(e.shape)} {e.kind}" for e in n.saved)
            where = f"  at {_prov.format_site(n.site)}" if n.site else ""
            module = f" in {n.module}" if n.module else ""
            lines.append(f"  {_fmt(n.nbytes):>10}  {n.name}{module}: {shapes}{where}")
        cands = self.checkpoint_candidates()
        if cands:
            lines.append("checkpointing (recomputing in backward instead of saving) frees most at:")
            for g in cands:
                where = g["where"]
                ops = ", ".join(f"{k} x{v}" if v > 1 else k for k, v in g["ops"].items())
                cost = "cheap to recompute" if g["cheap"] else "costly to recompute"
                lines.append(f"  {_fmt(g['bytes']):>10}  {where}: {ops}, {cost}")
        if not _prov.recording():
            lines.append("(retrograd.debug.set_provenance(True) adds the line that made each node)")
        return "\n".join(lines)

    __repr__ = __str__


def _fmt(n: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def memory_report(loss, model=None) -> MemoryReport:
    """Walk the graph behind ``loss`` (a tensor or several) and count what it saved.

    With provenance on, nodes know the line and the ``nn.Module`` that made them; pass the
    ``model`` to name modules by their place in it (``layers.2``).
    """
    names = {}
    if model is not None:
        names = {id(m): f"{name} ({type(m).__name__})" for name, m in model.named_modules()
                 if name}
    roots = [loss] if isinstance(loss, Tensor) else list(loss)
    stack = [t.grad_fn for t in roots if t.grad_fn is not None]
    seen = set(stack)
    nodes = []
    while stack:
        node = stack.pop()
        if node.__class__ is not AccumulateGrad:
            nodes.append(NodeMemory(node, _saved_of(node), names))
        for nxt in node._edges:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return MemoryReport(nodes)
