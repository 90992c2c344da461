"""Comparing two traces of one program: the first disagreement, as a ``Mismatch``.

Kinds: ``value`` (shape, dtype or values of a step's result, NaN positions included),
``requires_grad``, ``raises`` (retrograd raises where PyTorch does not), ``no-raise`` (PyTorch
raises, retrograd does not), ``exception-type`` (both raise, different builtin types);
``final-value`` (a variable differs after all steps ran: a write through a view went astray);
``backward-raises`` / ``backward-no-raise`` / ``backward-exception-type``; ``grad`` (a leaf's
gradient, or the first-order gradients of an order-2 program), ``grad-requires_grad`` (those
first-order gradients agree but only one of them requires grad, so only one library can
differentiate them again) and ``grad2`` (a leaf's gradient after the second backward);
``grad-nan`` and ``grad2-nan`` when the gradients differ in where they are NaN or infinite.
A forward mismatch is labelled with its step's op; the others with the ops of the (shrunk)
program.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .program import Program, Snap, Trace

RTOL = 1e-6
ATOL = 1e-8


@dataclass(frozen=True)
class Mismatch:
    kind: str
    op: str | None  # the step's op for forward kinds
    detail: str

    @property
    def key(self) -> tuple:
        return (self.kind, self.op)

    def label(self, prog: Program) -> str:
        return f"{self.op or '+'.join(prog.ops()) or '-'}:{self.kind}"


def _fmt(s: Snap | None) -> str:
    if s is None:
        return "None"
    if s.array is None:
        return s.text
    text = np.array2string(s.array, precision=6, threshold=20).replace("\n", "")
    return f"{text} ({s.dtype}{', requires_grad' if s.requires_grad else ''})"


def same_values(a: Snap, b: Snap) -> bool:
    if a.array is None or b.array is None:
        return a.array is None and b.array is None and a.text == b.text
    if a.dtype != b.dtype or a.array.shape != b.array.shape:
        return False
    x, y = a.array, b.array
    if x.dtype.kind not in "fc":
        return bool(np.array_equal(x, y))
    if not np.array_equal(np.isnan(x), np.isnan(y)):
        return False
    return bool(np.allclose(x, y, rtol=RTOL, atol=ATOL, equal_nan=True))


def _nonfinite_differ(a: Snap, b: Snap) -> bool:
    x, y = a.array, b.array
    if x is None or y is None or x.shape != y.shape or x.dtype.kind != "f":
        return False
    return not (np.array_equal(np.isnan(x), np.isnan(y))
                and np.array_equal(np.isinf(x), np.isinf(y)))


def _snap_diff(ref: Snap | None, got: Snap | None, value_kind: str) -> str | None:
    """The kind of difference between two snaps (None when they agree)."""
    if (ref is None) != (got is None):
        return value_kind
    if ref is None:
        return None
    if not same_values(ref, got):
        if value_kind.startswith("grad") and _nonfinite_differ(ref, got):
            return value_kind + "-nan"
        return value_kind
    if ref.requires_grad != got.requires_grad:
        return "requires_grad"
    return None


def _error_mismatch(prog: Program, ref: Trace, got: Trace, site: int, prefix: str, op):
    re, ge = ref.error, got.error
    r = re if re is not None and re[0] == site else None
    g = ge if ge is not None and ge[0] == site else None
    if r is None and g is None:
        return None
    if r is None:
        return Mismatch(prefix + "raises", op, f"retrograd raised {g[1]}: {g[2]}")
    if g is None:
        return Mismatch(prefix + "no-raise", op, f"torch raised {r[1]}: {r[2]}; retrograd did not")
    if r[1] != g[1]:
        return Mismatch(prefix + "exception-type", op,
                        f"torch raised {r[1]}: {r[2]}; retrograd raised {g[1]}: {g[2]}")
    return "same"


def compare(prog: Program, ref: Trace, got: Trace) -> Mismatch | None:
    """The first place where retrograd's trace (``got``) differs from PyTorch's (``ref``)."""
    for i, step in enumerate(prog.steps):
        e = _error_mismatch(prog, ref, got, i, "", step.op)
        if e == "same":
            return None
        if e is not None:
            return e
        kind = _snap_diff(ref.values[i], got.values[i], "value")
        if kind:
            return Mismatch(kind, step.op, f"{step.out}: torch {_fmt(ref.values[i])}, "
                            f"retrograd {_fmt(got.values[i])}")
    for name, r in ref.final.items():
        g = got.final.get(name)
        if _snap_diff(r, g, "value") == "value":
            return Mismatch("final-value", None,
                            f"{name} after all steps: torch {_fmt(r)}, retrograd {_fmt(g)}")
    e = _error_mismatch(prog, ref, got, len(prog.steps), "backward-", None)
    if e == "same":
        return None
    if e is not None:
        return e
    if ref.grads1 is not None:
        for n, r, g in zip(prog.leaves, ref.grads1, got.grads1 or [None] * len(ref.grads1)):
            kind = _snap_diff(r, g, "grad")
            if kind:
                kind = "grad-requires_grad" if kind == "requires_grad" else kind
                return Mismatch(kind, None, f"d{prog.result}/d{n} (create_graph): "
                                f"torch {_fmt(r)}, retrograd {_fmt(g)}")
    kind = "grad2" if prog.order2 else "grad"
    for n, r in ref.grads.items():
        g = got.grads.get(n)
        if (d := _snap_diff(r, g, kind)) and d.startswith(kind):
            kind = d
            return Mismatch(kind, None, f"{n}.grad: torch {_fmt(r)}, retrograd {_fmt(g)}")
    return None
