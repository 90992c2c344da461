"""retrograd.debug: diagnostics for graphs.

- ``why_no_grad(t, loss=None)``: why ``t.grad`` is None (or ``loss`` has no ``grad_fn``).
- ``detect_leaks()``: warns with ``GraphLeakWarning`` when graphs survive their iteration
  (``RETROGRAD_DETECT_LEAKS=1`` turns it on for the whole program).
- ``set_provenance(True)``: nodes remember the line of user code that created them, and
  errors (in-place change, backward twice, no grad) name it (``RETROGRAD_PROVENANCE=1``).
- ``memory_report(loss)``: bytes the graph keeps for backward, and where checkpointing helps.

Provenance is off by default: walking the stack for every op costs too much (see the README).
"""

from __future__ import annotations

import os

from . import provenance as _provenance
from .leaks import GraphLeakWarning, detect_leaks
from .memory import MemoryReport, memory_report
from .why import Explanation, why_no_grad

__all__ = ["why_no_grad", "Explanation", "detect_leaks", "GraphLeakWarning", "set_provenance",
           "is_provenance_enabled", "memory_report", "MemoryReport"]

_provenance_on = False


def set_provenance(mode: bool = True) -> None:
    """Record, for every new node, the file and line of user code that created it."""
    global _provenance_on
    mode = bool(mode)
    if mode != _provenance_on:
        _provenance_on = mode
        (_provenance.acquire if mode else _provenance.release)()


def is_provenance_enabled() -> bool:
    """True while nodes record where they were created (also while detect_leaks is on)."""
    return _provenance.recording()


if os.environ.get("RETROGRAD_PROVENANCE", "") not in ("", "0"):
    set_provenance(True)
from .leaks import _from_environment  # noqa: E402

_from_environment()



def _tour(section) -> None:
    """The tour's part (``python -m retrograd``)."""
    from ._tour_demo import show

    show(section)
