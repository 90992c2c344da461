"""The leak detector: graphs that outlive their training iteration.

Note [What an iteration is]
    Each call of ``Tensor.backward`` / ``autograd.backward`` ends an iteration (``autograd.grad``
    does not: it is often called inside one, e.g. for a gradient penalty). While the detector is
    on, every recorded node is tagged with the number of backward calls made before it was
    created, and kept in a weak set (it costs nothing to the graph's lifetime). At the start of
    backward number n it checks two things:

    - **carried**: the graph about to be backpropagated reaches nodes recorded before the
      previous backward. A tensor was carried from one iteration into the next (an RNN hidden
      state that was not detached). Backpropagating through it either fails (its saved tensors
      were freed) or costs more every iteration.
    - **kept**: nodes recorded before backward n-1 are still alive. In a correct loop nothing of
      iteration i survives past iteration i+1: the names that held its tensors are rebound.
      (One iteration of slack lets a loop compute, say, a metric with grad on after backward.)
      A tensor that keeps old graphs alive is typically a running sum (``total_loss += loss``)
      or a list of losses.

    It also watches the number of live nodes at each backward: if it rises at every one of
    ``window`` calls in a row and has at least doubled, the graph is growing.
"""

from __future__ import annotations

import os
import warnings
import weakref

from .. import autograd as _autograd
from ..tensor import Tensor
from . import provenance as _prov


class GraphLeakWarning(UserWarning):
    """Graph-carrying tensors survive from one training iteration to the next."""


_FIX_KEPT = ("If you keep the value for logging or a running total, keep a number or a "
             "detached tensor instead: total_loss += loss.item() (or loss.detach()).")
_FIX_CARRIED = ("If the tensor carries state into the next iteration (an RNN hidden state), "
                "detach it there: hidden = hidden.detach().")


class detect_leaks:
    """Context manager: warn with ``GraphLeakWarning`` when graphs leak across iterations.

    ``RETROGRAD_DETECT_LEAKS=1`` in the environment turns it on for the whole program.
    """

    def __init__(self, window: int = 4) -> None:
        self.window = window
        self.iteration = 0  # backward calls seen
        self.live = weakref.WeakSet()
        self.counts: list = []  # live nodes at each backward
        self.warned: set = set()
        self.warnings: list = []  # the messages given, for tests and tools
        self._saved = None

    # ---- switching on and off ---------------------------------------------------------

    def __enter__(self):
        _prov.acquire()
        _prov._node_hooks.append(self._track)
        self._saved = (Tensor.__dict__["backward"], _autograd.backward)
        tensor_backward, autograd_backward = self._saved

        def backward(t, *args, **kwargs):
            self._tick((t,))
            return tensor_backward(t, *args, **kwargs)

        def autograd_backward_(tensors, *args, **kwargs):
            self._tick((tensors,) if isinstance(tensors, Tensor) else tuple(tensors))
            return autograd_backward(tensors, *args, **kwargs)

        backward.__doc__ = tensor_backward.__doc__
        Tensor.backward = backward
        _autograd.backward = autograd_backward_
        return self

    def __exit__(self, *exc) -> None:
        Tensor.backward, _autograd.backward = self._saved
        _prov._node_hooks.remove(self._track)
        _prov.release()

    def _track(self, node) -> None:
        node.__dict__["_leak_iter"] = self.iteration
        self.live.add(node)

    # ---- the checks (Note [What an iteration is]) --------------------------------------

    def _tick(self, outputs: tuple) -> None:
        n = self.iteration
        carried = self._check_carried(outputs, n)
        live = list(self.live)
        if not carried:
            self._check_kept(live, n)
        self._check_growth(len(live))
        self.iteration = n + 1

    def _check_carried(self, outputs: tuple, n: int) -> bool:
        """Does the graph being backpropagated reach nodes of an earlier iteration?"""
        stack = [t.grad_fn for t in outputs if isinstance(t, Tensor) and t.grad_fn is not None]
        seen = set(stack)
        boundary = None  # (old node, the newer node that uses it)
        old = 0
        while stack:
            node = stack.pop()
            for nxt in node._edges:
                if nxt is None or nxt in seen:
                    continue
                seen.add(nxt)
                tag = nxt.__dict__.get("_leak_iter")
                if tag is None:
                    continue  # a leaf's AccumulateGrad, or a node made before the detector
                if tag < n:
                    old += 1
                    if boundary is None and node.__dict__.get("_leak_iter", n) >= n:
                        boundary = (nxt, node)
                stack.append(nxt)
        if boundary is None:
            return False
        carried, user = boundary
        self._warn(("carried", _prov.node_site(carried)), (
            f"this backward reaches {old} graph nodes recorded in an earlier iteration: the "
            f"tensor made by {type(carried).__name__} at "
            f"{_prov.format_site(_prov.node_site(carried))} was carried into this iteration "
            f"and used by {type(user).__name__} at {_prov.format_site(_prov.node_site(user))}. "
            + _FIX_CARRIED))
        return True

    def _check_kept(self, live: list, n: int) -> None:
        """Are nodes recorded before the last two backward calls still alive?"""
        old = [node for node in live if node.__dict__.get("_leak_iter", n) <= n - 2]
        if not old:
            return
        # The holder: follow users (reverse edges among live nodes) up to a node nobody uses,
        # the grad_fn of the tensor that keeps all this alive.
        users: dict = {}
        for node in live:
            for nxt in node._edges:
                if nxt is not None:
                    users.setdefault(nxt, node)
        oldest = min(old, key=lambda node: node._sequence_nr)
        holder = oldest
        steps = 0
        while holder in users and steps < len(live):
            holder = users[holder]
            steps += 1
        head = max((node for node in old if node not in users or users[node] not in old),
                   key=lambda node: node._sequence_nr)
        self._warn(("kept", _prov.node_site(holder)), (
            f"{len(old)} graph nodes recorded {n - oldest.__dict__['_leak_iter']} backward calls "
            f"ago are still alive ({len(live)} live in all): the graph of the tensor made by "
            f"{type(head).__name__} at {_prov.format_site(_prov.node_site(head))} is kept by "
            f"the tensor made by {type(holder).__name__} at "
            f"{_prov.format_site(_prov.node_site(holder))}. " + _FIX_KEPT))

    def _check_growth(self, count: int) -> None:
        counts = self.counts
        counts.append(count)
        del counts[:-self.window]
        if len(counts) == self.window and counts[0] > 0 and counts[-1] >= 2 * counts[0] and all(
                a < b for a, b in zip(counts, counts[1:])):
            self._warn(("growing", None), (
                f"the number of live graph nodes grows at every backward "
                f"({', '.join(map(str, counts))}): graphs of past iterations are kept. "
                + _FIX_KEPT + " " + _FIX_CARRIED))

    def _warn(self, key, message: str) -> None:
        if key in self.warned:
            return
        self.warned.add(key)
        self.warnings.append(message)
        warnings.warn(message, GraphLeakWarning, stacklevel=5)  # at the backward() call


_global_detector = None


def _from_environment() -> None:
    """``RETROGRAD_DETECT_LEAKS=1``: the detector is on for the whole program."""
    global _global_detector
    if os.environ.get("RETROGRAD_DETECT_LEAKS", "") not in ("", "0") and _global_detector is None:
        _global_detector = detect_leaks().__enter__()
