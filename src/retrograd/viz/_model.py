"""What a drawing shows: the recorded graph read into plain data (boxes and edges).

``build`` walks the graph from the tensors given (iteratively: an explicit stack), and makes
one box per node: the op (``grad_fn``) with its outputs' shapes and dtypes and what it saved,
each leaf (``AccumulateGrad``) with its name and ``.grad``, and one box per tensor drawn from.
Edges point forward, from an input to the op that used it. Then ``collapse_repeats`` folds
repeated blocks (an RNN unrolled over many steps) and ``cap`` keeps the drawing to a size a
reader can take in; both leave a note of what they left out.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ..autograd.graph import AccumulateGrad
from ..tensor import Tensor

SMALL = 8  # tensors with at most this many elements show their values, larger ones a norm


class Box:
    """One box of the drawing: ``kind`` is "op", "leaf", "tensor", "repeat" or "more"."""

    __slots__ = ("key", "kind", "title", "lines", "details", "group", "seq", "node")

    def __init__(self, key: int, kind: str, title: str, seq: int = -1, node=None) -> None:
        self.key = key
        self.kind = kind
        self.title = title
        self.lines: list = []  # short lines shown inside the box
        self.details: list = []  # (label, text) pairs: tooltips, the HTML panel
        self.group = None  # module name the box belongs to, if known
        self.seq = seq  # the node's sequence number (execution order of backward)
        self.node = node  # the graph node (only while building; dropped afterwards)


class Model:
    """Boxes, forward edges (input key, consumer key) and notes on what was left out."""

    def __init__(self) -> None:
        self.boxes: dict = {}
        self.edges: list = []
        self.notes: list = []
        self.groups: dict = {}  # group name -> label shown ("0: Linear")
        self.key_of: dict = {}  # id(graph node) -> box key (while the nodes live)

    def add(self, kind: str, title: str, seq: int = -1, node=None) -> Box:
        box = Box(len(self.boxes), kind, title, seq, node)
        self.boxes[box.key] = box
        return box

    def inputs_of(self) -> dict:
        ins: dict = {k: [] for k in self.boxes}
        for a, b in self.edges:
            ins[b].append(a)
        return ins

    def consumers_of(self) -> dict:
        outs: dict = {k: [] for k in self.boxes}
        for a, b in self.edges:
            outs[a].append(b)
        return outs


# ---- formatting -----------------------------------------------------------------------------

def fmt_shape(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def fmt_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def fmt_values(a: np.ndarray) -> str:
    """Values for a small array, else its shape and norm."""
    a = np.asarray(a)
    if a.size <= SMALL:
        if a.ndim == 0:
            return f"{float(a):.4g}"
        return np.array2string(a, precision=4, separator=", ", suppress_small=True,
                               max_line_width=1000).replace("\n", "")
    with np.errstate(all="ignore"):
        norm = float(np.linalg.norm(a.astype(np.float64).ravel()))
    return f"norm {norm:.4g}, shape {fmt_shape(a.shape)}"


def _saved(node) -> tuple:
    """(name, shape, dtype name, bytes) of each tensor ``node`` keeps for backward; None once
    backward freed them."""
    packed = node._packed
    if packed is None:  # nothing saved, or freed by backward
        fn = node._function
        return None if getattr(fn, "saved_names", ()) or node._ctx_arrays else ()
    names = getattr(node._function, "saved_names", ())
    items = [packed] if packed.__class__ is np.ndarray else list(packed)
    out = []
    for i, s in enumerate(items):
        if s is None:
            continue
        data = s if isinstance(s, np.ndarray) else getattr(s, "_data", getattr(s, "data", None))
        if data is None:
            continue
        if packed.__class__ is np.ndarray:
            name = names[0] if names else "result"
        else:
            name = names[i] if i < len(names) else f"saved{i}"
        out.append((name, tuple(data.shape), data.dtype.name, int(data.nbytes)))
    for attr in node._ctx_arrays:  # arrays a Function keeps on ctx
        a = node.__dict__.get(attr)
        if isinstance(a, np.ndarray):
            out.append((attr, tuple(a.shape), a.dtype.name, int(a.nbytes)))
    return tuple(out)


def _retained_grad(node) -> str | None:
    retained = node._retained
    if not retained:
        return None
    for ref in retained.values():
        t = ref()
        if t is not None and t._grad is not None:
            return fmt_values(t._grad._data)
    return None


# ---- building -------------------------------------------------------------------------------

def build(tensors: tuple, names: dict, groups_of_params: bool = True) -> Model:
    """Read the graph behind ``tensors`` into a Model; ``names`` maps id(tensor) -> name."""
    model = Model()
    of_node: dict = {}  # graph node -> box
    stack = []
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"graph() draws tensors, got {type(t).__name__}")
        name = names.get(("tensor", id(t))) or ("output" if len(tensors) == 1 else f"output {i}")
        fn = t.grad_fn
        if fn is None and t._requires_grad:  # a leaf: draw its accumulator's box
            fn = t._get_accumulator()
        box = model.add("tensor", name)
        box.lines.append(f"{fmt_shape(t.shape)} {t._data.dtype.name}")
        if fn is None:
            box.lines.append("no graph: requires_grad=False")
            box.details.append(("why", "this tensor was not computed from a tensor that "
                                       "requires grad (or was computed under no_grad)"))
            continue
        box.details.append(("grad_fn", type(fn).__name__))
        if t._grad is not None:
            box.lines.append("grad " + fmt_values(t._grad._data))
        if fn not in of_node:
            of_node[fn] = _node_box(model, fn, names)
            stack.append(fn)
        model.edges.append((of_node[fn].key, box.key))
    while stack:  # every node once; edges in next_functions order
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            if nxt not in of_node:
                of_node[nxt] = _node_box(model, nxt, names)
                stack.append(nxt)
            model.edges.append((of_node[nxt].key, of_node[node].key))
    _assign_groups(model, of_node, groups_of_params)
    model.key_of = {id(node): box.key for node, box in of_node.items()}
    for box in model.boxes.values():
        box.node = None
    return model


def _node_box(model: Model, node, names: dict) -> Box:
    meta = node._outputs_meta
    if isinstance(node, AccumulateGrad):
        var = node.variable
        name = names.get(id(var)) if var is not None else None
        box = model.add("leaf", name or "leaf", node._sequence_nr, node)
        if var is None:
            box.lines.append("(tensor freed)")
            return box
        box.lines.append(f"{fmt_shape(var.shape)} {var._data.dtype.name}")
        box.lines.append("leaf, requires_grad")
        if var._grad is not None:
            box.lines.append("grad " + fmt_values(var._grad._data))
        box.details += [("node", "AccumulateGrad: adds the arriving gradient into .grad"),
                        ("tensor", f"{fmt_shape(var.shape)} {var._data.dtype.name}, "
                                   "leaf, requires_grad=True"),
                        ("grad", "None (no backward yet)" if var._grad is None
                         else fmt_values(var._grad._data))]
        return box
    box = model.add("op", type(node).__name__, node._sequence_nr, node)
    outs = ", ".join(f"{fmt_shape(m[0])} {m[1].name}" for m in meta if m is not None)
    box.lines.append("→ " + outs if outs else "(no outputs)")
    out_names = names.get(("out", id(node)), ())
    if out_names:
        box.lines.append("= " + ", ".join(out_names))
    saved = _saved(node)
    box.details.append(("outputs", outs + "  (non-leaf)"))
    if saved is None:
        box.details.append(("saved", "freed by backward (pass retain_graph=True to keep)"))
    elif saved:
        total = sum(s[3] for s in saved)
        box.lines.append("saved " + ", ".join(s[0] for s in saved) + f" ({fmt_bytes(total)})")
        for name, shape, dtype, nbytes in saved:
            box.details.append((f"saved {name}", f"{fmt_shape(shape)} {dtype}, "
                                                 f"{fmt_bytes(nbytes)}"))
    doc = (node._function.__doc__ or "").strip().splitlines()
    if doc:
        box.details.append(("rule", doc[0]))
    box.details.append(("sequence", str(node._sequence_nr)))
    g = _retained_grad(node)
    if g is not None:
        box.lines.append("grad " + g)
        box.details.append(("grad (retained)", g))
    return box


def _assign_groups(model: Model, of_node: dict, by_params: bool) -> None:
    """Module names: from ``trace_modules`` (node metadata), else from parameter names."""
    for node, box in of_node.items():
        if "_metadata" in node.__dict__:
            meta = node.__dict__["_metadata"]
            mod = meta.get("module")
            if mod:
                box.group = mod
                model.groups.setdefault(mod, meta.get("module_label", mod))
    if not by_params:
        return
    traced = any(b.group is not None for b in model.boxes.values())
    for box in of_node.values():
        if box.kind == "leaf" and box.group is None and "." in box.title:
            box.group = box.title.rsplit(".", 1)[0]
    if traced:  # trace_modules said which ops ran inside modules; the others ran outside
        return
    ins = model.inputs_of()
    for box in model.boxes.values():
        if box.kind == "op" and box.group is None:
            prefixes = {model.boxes[k].group for k in ins[box.key]
                        if model.boxes[k].kind == "leaf" and model.boxes[k].group}
            if len(prefixes) == 1:
                box.group = prefixes.pop()


# ---- repeated blocks ------------------------------------------------------------------------

def collapse_repeats(model: Model, min_repeats: int = 4, max_period: int = 40) -> None:
    """Fold runs of identical blocks of ops (same ops, shapes and wiring) to first, summary, last.

    Ops are read in recording order; a block of ``p`` ops repeats when each op has the same
    name and output shapes as the one ``p`` earlier, and reads its inputs from the same
    relative places (or from the same leaf). Runs of ``min_repeats`` or more keep their first
    and last block; the ones between become one box saying how many were folded.
    """
    ops = sorted((b for b in model.boxes.values() if b.kind == "op"), key=lambda b: b.seq)
    n = len(ops)
    if n < min_repeats:
        return
    pos = {b.key: i for i, b in enumerate(ops)}
    ins = model.inputs_of()
    cache: dict = {}

    def sig(i: int, p: int):
        key = (i, p)
        s = cache.get(key)
        if s is None:
            b = ops[i]
            refs = []
            for k in ins[b.key]:
                j = pos.get(k)
                if j is not None and 0 < i - j < 2 * p:
                    refs.append(i - j)
                elif j is not None:
                    refs.append(("far", k))
                else:
                    refs.append(("box", k))
            s = cache[key] = (b.title, b.lines[0], tuple(refs))
        return s

    runs = []
    i = 0
    while i < n:
        best = None
        for p in range(1, min(max_period, (n - i) // min_repeats) + 1):
            if best is not None and best[0] * best[1] > n - i - p:
                break  # no longer period can cover more
            k = 1
            while i + (k + 1) * p <= n and all(sig(i + k * p + m, p) == sig(i + m, p)
                                               for m in range(p)):
                k += 1
            if k >= min_repeats and (best is None or p * k > best[0] * best[1]):
                best = (p, k)
        if best is None:
            i += 1
            continue
        runs.append((i, *best))
        i += best[0] * best[1]
    if not runs:
        return
    hidden: set = set()
    for start, p, k in runs:
        middle = [ops[start + m].key for m in range(p, (k - 1) * p)]
        block = " → ".join(ops[start + m].title for m in range(p))
        box = model.add("repeat", f"× {k - 2} more repetitions")
        box.lines.append(f"of a block of {p} op{'s' if p > 1 else ''}:")
        box.lines.append(block if len(block) <= 60 else block[:57] + "...")
        box.details.append(("folded", f"{len(middle)} ops in {k - 2} identical blocks (the run "
                                      f"has {k}; the first and last are drawn)"))
        box.group = ops[start].group if ops[start].group == ops[start + k * p - 1].group else None
        _hide(model, set(middle), box.key)
        hidden |= set(middle)
        model.notes.append(f"folded {k - 2} of {k} repetitions of [{block}] ({len(middle)} ops)")


def _hide(model: Model, keys: set, into: int) -> None:
    """Remove boxes ``keys``; edges touching them now touch box ``into`` (once each)."""
    edges = []
    seen = set()
    for a, b in model.edges:
        a2 = into if a in keys else a
        b2 = into if b in keys else b
        if a2 == b2 == into and (a in keys or b in keys):
            continue
        if (a in keys or b in keys):
            if (a2, b2) in seen:
                continue
            seen.add((a2, b2))
        edges.append((a2, b2))
    model.edges = edges
    for k in keys:
        del model.boxes[k]


# ---- size cap -------------------------------------------------------------------------------

def cap(model: Model, max_nodes: int) -> None:
    """Keep the ``max_nodes`` boxes nearest the outputs; one box says how many were left out."""
    if len(model.boxes) <= max_nodes:
        return
    ins = model.inputs_of()
    outs = model.consumers_of()
    roots = [k for k in model.boxes if not outs[k]]
    keep: set = set()
    queue = deque(roots)
    seen = set(roots)
    while queue and len(keep) < max_nodes - 1:
        k = queue.popleft()
        keep.add(k)
        for j in ins[k]:
            if j not in seen:
                seen.add(j)
                queue.append(j)
    dropped = set(model.boxes) - keep
    box = model.add("more", f"… {len(dropped)} more nodes")
    box.lines.append(f"not drawn (max_nodes={max_nodes})")
    model.notes.append(f"{len(dropped)} nodes farther from the output were not drawn "
                       f"(max_nodes={max_nodes}; pass max_nodes=None to draw all)")
    _hide(model, dropped, box.key)
