"""``graph(...)``: a drawing of the recorded graph, as text, DOT, SVG or an HTML page."""

from __future__ import annotations

import contextlib
import os
import sys

from ..tensor import Tensor
from . import _model, _render


class Drawing:
    """The graph behind some tensors, ready to be shown: ``text()``, ``dot()``, ``svg()``,
    ``html()``, ``save(path)``; in a notebook it displays itself."""

    def __init__(self, model: _model.Model, steps: list | None = None) -> None:
        self._model = model
        self._steps = steps or []
        self._svg = None

    @property
    def notes(self) -> list:
        """What the drawing left out (folded repetitions, the size cap)."""
        return list(self._model.notes)

    @property
    def nodes(self) -> list:
        """(kind, title) of every box drawn, in drawing order."""
        return [(b.kind, b.title) for b in self._model.boxes.values()]

    def text(self) -> str:
        return _render.text(self._model)

    def dot(self) -> str:
        return _render.dot(self._model)

    def svg(self, engine: str = "builtin") -> str:
        """Self-contained SVG. ``engine="dot"`` lays it out with Graphviz's ``dot`` program
        instead (only where it is installed)."""
        if engine == "dot":
            import shutil
            import subprocess

            exe = shutil.which("dot")
            if exe is None:
                raise RuntimeError("Graphviz's `dot` program is not installed; use "
                                   "svg() (the built-in layout) or install graphviz.")
            return subprocess.run([exe, "-Tsvg"], input=self.dot(), capture_output=True,
                                  text=True, check=True).stdout
        if engine != "builtin":
            raise ValueError(f"engine must be 'builtin' or 'dot', got {engine!r}")
        if self._svg is None:  # (the layout is the slow part: made once)
            self._svg = _render.svg(self._model)
        return self._svg

    def html(self, title: str = "retrograd graph") -> str:
        """One offline page: the SVG, details on hover/click, and the backward steps if the
        drawing came from ``explain``."""
        return _render.page(self._model, self.svg(), title, self._steps)

    def save(self, path) -> str:
        """Write by extension: .txt, .dot (or .gv), .svg, .html (or .htm). Returns the path."""
        path = os.fspath(path)
        ext = os.path.splitext(path)[1].lower()
        makers = {".txt": self.text, ".dot": self.dot, ".gv": self.dot, ".svg": self.svg,
                  ".html": self.html, ".htm": self.html}
        if ext not in makers:
            raise ValueError(f"cannot tell the format of {path!r} from its extension; use one "
                             "of .txt, .dot, .svg, .html")
        with open(path, "w", encoding="utf-8") as f:
            f.write(makers[ext]())
        return path

    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_html_(self) -> str:
        return self.html()

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        kinds = [b.kind for b in self._model.boxes.values()]
        return (f"<Drawing of {kinds.count('op')} ops and {kinds.count('leaf')} leaves"
                + (f"; {len(self._model.notes)} notes>" if self._model.notes else ">"))


def graph(*tensors, params=None, names: dict | None = None, collapse: bool = True,
          max_nodes: int | None = 300, _caller_names: bool = True, _steps=None) -> Drawing:
    """Draw the graph recorded behind ``tensors``.

    ``params``: a dict name -> tensor (``dict(model.named_parameters())``) or the model
    itself, to name the leaves and group the ops by module. ``names``: more name -> tensor
    pairs; by default tensors held in the caller's variables are named after them.
    ``collapse`` folds repeated blocks; ``max_nodes`` caps the size (None: no cap).
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise TypeError("graph() needs at least one tensor to draw")
    table, group_labels = _names(params, names, _caller_frame() if _caller_names else None)
    model = _model.build(tensors, table)
    model.groups.update(group_labels)
    if collapse:
        _model.collapse_repeats(model)
    if max_nodes is not None:
        _model.cap(model, max(int(max_nodes), 2))
    return Drawing(model, _steps)


def _caller_frame():
    frame = sys._getframe(1)
    here = os.path.dirname(__file__)
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == here:
        frame = frame.f_back
    return frame


def _names(params, names, frame) -> tuple:
    """id(tensor) -> name, ("out", id(node)) -> names of tensors a node produced; and the
    labels of module groups ("0" -> "0: Linear")."""
    table: dict = {}
    labels: dict = {}
    if frame is not None:  # the caller's variables, for leaves and intermediate results
        for name, value in list(frame.f_locals.items()):
            if isinstance(value, Tensor) and not name.startswith("_"):
                _name_tensor(table, value, name)
    if params is not None:
        if hasattr(params, "named_parameters"):
            labels = {n: f"{n}: {type(m).__name__}" for n, m in params.named_modules() if n}
            params = dict(params.named_parameters())
        for name, t in params.items():
            table[id(t)] = table[("tensor", id(t))] = name
    for name, t in (names or {}).items():
        _name_tensor(table, t, name, force=True)
    return table, labels


def _name_tensor(table: dict, t: Tensor, name: str, force: bool = False) -> None:
    if force or ("tensor", id(t)) not in table:
        table[("tensor", id(t))] = name
    fn = t.grad_fn
    if fn is None:
        if force or id(t) not in table:
            table[id(t)] = name
    else:
        table.setdefault(("out", id(fn)), [])
        if name not in table[("out", id(fn))]:
            table[("out", id(fn))].append(name)


@contextlib.contextmanager
def trace_modules(model):
    """Inside ``with trace_modules(model):`` every op run by a submodule's forward is tagged
    with the module's name, so ``graph`` draws a box around each module's ops."""
    from ..autograd.graph import sequence

    starts: dict = {}
    handles = []
    for name, module in model.named_modules():
        if not name and len(list(model.children())):
            continue  # the model itself: its children name the parts (an nn.Sequential's layers)
        label = f"{name}: {type(module).__name__}" if name else type(module).__name__
        name = name or type(module).__name__

        def pre(mod, args, _key=name):
            starts.setdefault(_key, []).append(next(sequence))

        def post(mod, args, output, _label=label, _key=name):
            start = starts[_key].pop()
            _tag(output, start, _label)

        handles.append(module.register_forward_pre_hook(pre))
        handles.append(module.register_forward_hook(post))
    try:
        yield model
    finally:
        for h in handles:
            h.remove()


def _tag(output, start: int, label: str) -> None:
    """Tag the nodes newer than ``start`` behind ``output`` (innermost module first: kept)."""
    stack = []
    todo = [output]
    while todo:  # tensors in nested outputs (tuples of tensors, as an RNN returns)
        o = todo.pop()
        if isinstance(o, Tensor):
            if o.grad_fn is not None:
                stack.append(o.grad_fn)
        elif isinstance(o, (list, tuple)):
            todo.extend(o)
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen or node._sequence_nr < start:
            continue
        seen.add(node)
        node.metadata.setdefault("module", label.split(":")[0])
        node.metadata.setdefault("module_label", label)
        for nxt, _ in node.next_functions:
            if nxt is not None:
                stack.append(nxt)
