"""A fuzz program as data, printed as Python, and run on one library.

A ``Program`` is a list of inputs (float64 arrays, with or without ``requires_grad``) and a
list of ``Step``s. Each step is one line of torch-style Python: ``code`` is a template whose
``{0}``, ``{1}`` ... are the names of earlier variables (``ins``), and the step binds its result
to ``out``. A ``stmt`` step is a statement (``x[1:] = y``) after which ``out`` aliases ``ins[0]``.
The same text is what runs on each library (``torch`` bound to retrograd or to PyTorch, ``F``
to its ``nn.functional``) and what a reproducer prints, so a printed program is exactly the one
that mismatched.

After the forward steps, when ``result`` is set, the program differentiates: first order with
``result.backward(grad_out)``, or, when ``order2``, ``autograd.grad(..., create_graph=True)``
followed by the backward of a weighted sum of those gradients.
"""

from __future__ import annotations

import builtins
import functools
import warnings
from dataclasses import dataclass, field, replace

import numpy as np


@dataclass(frozen=True)
class Input:
    name: str
    data: np.ndarray  # float64
    requires_grad: bool


@dataclass(frozen=True)
class Step:
    op: str  # short label of the op (the mismatch classes are keyed on it)
    code: str  # template: "{0}.exp()", "torch.matmul({0}, {1})", "{0}[1:] = {1}"
    ins: tuple
    out: str
    stmt: bool = False
    no_grad: bool = False

    def lines(self) -> list:
        body = self.code.format(*self.ins)
        lines = [body, f"{self.out} = {self.ins[0]}"] if self.stmt else [f"{self.out} = {body}"]
        if self.no_grad:
            return ["with torch.no_grad():"] + ["    " + ln for ln in lines]
        return lines


@dataclass
class Program:
    inputs: list
    steps: list
    result: str | None = None  # the variable backward starts from
    grad_out: np.ndarray | None = None
    order2: bool = False
    weights: dict = field(default_factory=dict)  # leaf name -> weight of its grad (order 2)

    def copy(self, **changes) -> Program:
        p = replace(self, **changes)
        p.inputs = list(p.inputs)
        p.steps = list(p.steps)
        p.weights = dict(p.weights)
        return p

    @property
    def leaves(self) -> list:
        return [i.name for i in self.inputs if i.requires_grad]

    def ops(self) -> list:
        seen = []
        for s in self.steps:
            if s.op not in seen:
                seen.append(s.op)
        return seen

    # ---- text ------------------------------------------------------------------------------

    def input_lines(self) -> list:
        return [f"{i.name} = {tensor_literal(i.data, i.requires_grad)}" for i in self.inputs]

    def backward_lines(self) -> list:
        if self.result is None or not self.leaves:
            return []
        gy = tensor_literal(self.grad_out)
        if not self.order2:
            return [f"{self.result}.backward({gy})"]
        leaves = ", ".join(self.leaves)
        ws = ", ".join(tensor_literal(self.weights[n]) for n in self.leaves)
        return [
            f"gs = torch.autograd.grad({self.result}, [{leaves}], {gy}, create_graph=True, "
            "allow_unused=True)",
            f"second = [(g * w).sum() for g, w in zip(gs, [{ws}]) "
            "if g is not None and g.requires_grad]",
            "if second:",
            "    sum(second).backward()",
        ]

    def to_code(self, module: str = "retrograd") -> str:
        out = [f"import {module} as torch", f"import {module}.nn.functional as F",
               "from math import inf, nan", ""]
        out += self.input_lines()
        for s in self.steps:
            out += s.lines()
        back = self.backward_lines()
        out += back
        if back:
            if self.order2:
                out.append("print(gs)")
            out += [f"print({n}.grad)" for n in self.leaves]
        elif self.steps:
            out.append(f"print({self.steps[-1].out})")
        return "\n".join(out) + "\n"


def tensor_literal(a: np.ndarray, requires_grad: bool = False) -> str:
    rg = ", requires_grad=True" if requires_grad else ""
    if a.size == 0:
        dims = ", ".join(str(d) for d in a.shape)
        return f"torch.zeros({dims}, dtype=torch.float64{rg})"
    return f"torch.tensor({a.tolist()!r}, dtype=torch.float64{rg})"


# ---- running ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snap:
    """What a tensor (or other value) looked like at one moment."""

    array: np.ndarray | None
    dtype: str
    requires_grad: bool
    text: str = ""  # for a value that is not a tensor


@dataclass
class Trace:
    values: list = field(default_factory=list)  # Snap per completed step
    error: tuple | None = None  # (site index, builtin exception type name, message)
    final: dict = field(default_factory=dict)  # var -> Snap after the forward
    grads1: list | None = None  # order 2: the Snaps of autograd.grad's results
    grads: dict = field(default_factory=dict)  # leaf -> Snap or None after backward


@functools.lru_cache(maxsize=8192)
def _compiled(text: str):
    return compile(text, "<fuzz>", "exec")


def builtin_type(exc: BaseException) -> str:
    """The nearest builtin class of an exception (torch raises subclasses of RuntimeError)."""
    for cls in type(exc).__mro__:
        if getattr(builtins, cls.__name__, None) is cls:
            return cls.__name__
    return type(exc).__name__


def snap(lib, x) -> Snap | None:
    if x is None:
        return None
    if isinstance(x, lib.Tensor):
        d = x.detach()
        try:
            a = np.array(d.numpy(), copy=True)
        except RuntimeError:  # PyTorch's ZeroTensor (a gradient known to be zero)
            a = np.zeros(tuple(d.shape))
        return Snap(a, str(x.dtype), bool(x.requires_grad))
    return Snap(None, type(x).__name__, False, repr(x))


def namespace(lib) -> dict:
    import math

    return {"torch": lib, "F": lib.nn.functional, "inf": math.inf, "nan": math.nan}


def run(prog: Program, lib) -> Trace:
    """Runs ``prog`` with ``torch`` bound to ``lib``; stops at the first exception."""
    tr = Trace()
    ns = namespace(lib)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        exec(_compiled("\n".join(prog.input_lines())), ns)
        for i, step in enumerate(prog.steps):
            try:
                exec(_compiled("\n".join(step.lines())), ns)
            except Exception as e:  # noqa: BLE001 - the exception is the observation
                tr.error = (i, builtin_type(e), str(e).split("\n")[0][:200])
                return tr
            tr.values.append(snap(lib, ns[step.out]))
        names = [i.name for i in prog.inputs] + [s.out for s in prog.steps]
        tr.final = {n: snap(lib, ns[n]) for n in dict.fromkeys(names)}
        back = prog.backward_lines()
        if not back:
            return tr
        try:
            exec(_compiled("\n".join(back)), ns)
        except Exception as e:  # noqa: BLE001
            tr.error = (len(prog.steps), builtin_type(e), str(e).split("\n")[0][:200])
            return tr
        if prog.order2:
            tr.grads1 = [snap(lib, g) for g in ns["gs"]]
        tr.grads = {n: snap(lib, ns[n].grad) for n in prog.leaves}
    return tr
