"""The leak detector: graphs that outlive their training iteration.

Note [What an iteration is]
    Each call of ``Tensor.backward`` / ``autograd.backward`` ends an iteration (``autograd.grad``
    does not: it is often called inside one, e.g. for a gradient penalty). While the detector is
    on, every recorded node is tagged with the number of backward calls made before it was
    created, and kept in a weak set (it costs nothing to the graph's lifetime). At the start of
    backward number n it checks:

    - **carried**: the graph about to be backpropagated goes from a fresh node into an old one:
      a node that an earlier backward already ran through and freed (the backward is about to
      fail with "backward through the graph a second time"), or one recorded before backward
      n-1 (it would then grow every iteration). A tensor was carried from one iteration into
      the next: an RNN hidden state that was not detached. Several backward calls in one
      iteration on graphs that share a part (a GAN, multi-task losses with retain_graph=True)
      are not flagged: what they share was recorded since the previous backward, and retained.
    - **kept**: nodes recorded before backward n-1 are still alive, and there are more of them
      than at the previous check, which had some too. In a correct loop nothing of iteration i
      survives past iteration i+1 (one iteration of slack lets a loop compute, say, a metric
      with grad on after backward; one stale graph kept on purpose does not grow). A running
      sum (``total_loss += loss``) or a list of losses grows at every iteration.
    - **growing**: the number of live nodes rose at every one of ``window`` backward calls in a
      row and at least doubled.
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
        self._old_count = 0  # live nodes older than the last two backward calls, at the last one
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
            self._tick((t,), _retains(args, kwargs))
            return tensor_backward(t, *args, **kwargs)

        def autograd_backward_(tensors, *args, **kwargs):
            outputs = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
            self._tick(outputs, _retains(args, kwargs))
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

    def _tick(self, outputs: tuple, retain: bool) -> None:
        n = self.iteration
        carried = self._check_carried(outputs, n, retain)
        live = list(self.live)
        old = [node for node in live if node.__dict__.get("_leak_iter", n) <= n - 2]
        if not carried and old and self._old_count and len(old) > self._old_count:
            self._report_kept(live, old, n)
        self._old_count = len(old)
        self._check_growth(len(live))
        self.iteration = n + 1

    def _check_carried(self, outputs: tuple, n: int, retain: bool) -> bool:
        """Does the graph being backpropagated go from a fresh node into an old one?"""
        stack = [t.grad_fn for t in outputs if isinstance(t, Tensor) and t.grad_fn is not None]
        seen = set(stack)
        boundary = None  # (old node, the fresh node that uses it)
        n_old = 0
        while stack:
            node = stack.pop()
            d = node.__dict__
            fresh = not _stale(d, n)
            if not retain and "_leak_iter" in d:
                d["_leak_freed"] = True  # this backward frees it
            for nxt in node._edges:
                if nxt is None or nxt in seen or "_leak_iter" not in nxt.__dict__:
                    continue  # a leaf's AccumulateGrad, or a node made before the detector
                seen.add(nxt)
                if _stale(nxt.__dict__, n):
                    n_old += 1
                    if boundary is None and fresh:
                        boundary = (nxt, node)
                stack.append(nxt)
        if boundary is None:
            return False
        carried, user = boundary
        made = (f"the tensor made by {type(carried).__name__} at "
                f"{_prov.format_site(_prov.node_site(carried))}")
        used = f"{type(user).__name__} at {_prov.format_site(_prov.node_site(user))}"
        if carried.__dict__.get("_leak_freed"):
            message = (
                f"this backward goes through {n_old} graph nodes that an earlier backward "
                f"already ran and freed, so it will fail: {made} was kept from an earlier "
                f"iteration and used by {used}. " + _FIX_CARRIED + " (To backpropagate through "
                "the same graph twice on purpose, pass retain_graph=True to the first "
                "backward.)")
        else:
            message = (
                f"this backward reaches {n_old} graph nodes of an earlier iteration: {made} was "
                f"carried into a later iteration and used by {used}. " + _FIX_CARRIED)
        self._warn(("carried", _prov.node_site(carried)), message)
        return True

    def _report_kept(self, live: list, old: list, n: int) -> None:
        # The holder: follow users (reverse edges among live nodes) up to a node nobody uses,
        # the grad_fn of the tensor that keeps all this alive.
        users: dict = {}
        for node in live:
            for nxt in node._edges:
                if nxt is not None:
                    users.setdefault(nxt, node)
        olds = set(old)
        oldest = min(old, key=lambda node: node._sequence_nr)
        holder = oldest  # follow users up to the grad_fn of a tensor nobody uses: the holder
        steps = 0
        while holder in users and steps < len(live):
            holder = users[holder]
            steps += 1
        # The stale graph's own top: up from the oldest node, while still old and not yet on
        # the holder's line (``total_loss += loss`` holds graphs made on the ``loss =`` line).
        where = _prov.node_site(holder)
        head = oldest
        steps = 0
        while (users.get(head) in olds and _prov.node_site(users[head]) != where
               and steps < len(live)):
            head = users[head]
            steps += 1
        if _prov.node_site(head) == where:
            head = holder
        made = (f"the tensor made by {type(head).__name__} at "
                f"{_prov.format_site(_prov.node_site(head))}")
        if holder is head:
            kept = f"{made} is still alive and holds its graph"
        else:
            kept = (f"the graph of {made} is kept by the tensor made by {type(holder).__name__} "
                    f"at {_prov.format_site(_prov.node_site(holder))}")
        self._warn(("kept", _prov.node_site(holder)), (
            f"{len(old)} graph nodes recorded {n - oldest.__dict__['_leak_iter']} backward calls "
            f"ago are still alive ({len(live)} live in all), more at every iteration: {kept}. "
            + _FIX_KEPT))

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


def _stale(d: dict, n: int) -> bool:
    """Is a node (its __dict__) from an earlier iteration, in the sense of "carried"?"""
    return d.get("_leak_freed", False) or d.get("_leak_iter", n) <= n - 2


def _retains(args: tuple, kwargs: dict) -> bool:
    """Does this backward call keep the graph (``retain_graph``, default ``create_graph``)?"""
    retain = kwargs.get("retain_graph", args[1] if len(args) > 1 else None)
    create = kwargs.get("create_graph", args[2] if len(args) > 2 else False)
    return bool(create if retain is None else retain)


_global_detector = None


def _from_environment() -> None:
    """``RETROGRAD_DETECT_LEAKS=1``: the detector is on for the whole program."""
    global _global_detector
    if os.environ.get("RETROGRAD_DETECT_LEAKS", "") not in ("", "0") and _global_detector is None:
        _global_detector = detect_leaks().__enter__()
