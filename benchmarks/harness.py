"""Interleaved timing of several implementations of one step, and the loss check.

Each case gives one ``step()`` per implementation (retrograd, PyTorch, sometimes hand-written
NumPy). After a warm-up, the harness picks a number of calls per sample (so a sample lasts at
least ``MIN_SAMPLE_S``) and runs rounds; in every round each implementation is timed once, in
an order that rotates from round to round, so noise from other processes hits all of them alike.
Reported: the median time per call of each, and the median over rounds of the per-round ratio
retrograd / other (paired samples: robust to the machine getting slower or faster).

Steps that return a loss (a float) are checked: the two libraries run the same number of steps
on the same batches from the same weights, so their losses must agree step by step.
"""

from __future__ import annotations

import math
import statistics
import time

MIN_SAMPLE_S = 0.02
LOSSES_KEPT = 40  # first steps' losses returned, to compare libraries run in separate processes


def _timed(step, loops: int, losses: list) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        losses.append(step())
    return time.perf_counter() - start


def compare(impls: dict, budget_s: float, quick: bool, inner: int = 1) -> dict:
    """Time ``impls`` ({name: step}) interleaved within about ``budget_s`` seconds.

    ``inner``: operations per call (times are reported per operation)."""
    names = list(impls)
    losses = {n: [] for n in names}
    for _ in range(2):  # warm-up, in lockstep
        for n in names:
            losses[n].append(impls[n]())
    one = {n: _timed(impls[n], 1, losses[n]) for n in names}
    slowest = max(one.values())
    loops = max(1, math.ceil(MIN_SAMPLE_S / max(slowest, 1e-9)))
    per_round = sum(one.values()) * loops
    lo, hi = (3, 5) if quick else (5, 41)
    rounds = int(min(hi, max(lo, budget_s // max(per_round, 1e-9))))
    times = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            times[n].append(_timed(impls[n], loops, losses[n]) / (loops * inner))
    result = {"rounds": rounds, "loops": loops,
              "seconds": {n: statistics.median(ts) for n, ts in times.items()}}
    result["ratio"] = {}
    if "retrograd" in names:
        base = times["retrograd"]
        result["ratio"] = {n: statistics.median(b / o for b, o in zip(base, times[n]))
                           for n in names if n != "retrograd"}
    if "torch" in names and "retrograd" in names:
        result["loss"] = loss_agreement(losses["retrograd"], losses["torch"])
    # (alone mode: each library's losses step by step, compared across processes)
    result["losses"] = {n: [x for x in losses[n][:LOSSES_KEPT]] for n in names if n != "numpy"}
    return result


def loss_agreement(mine: list, ref: list) -> dict | None:
    """Largest relative difference over the first steps, and over all of them."""
    pairs = [(a, b) for a, b in zip(mine, ref) if a is not None and b is not None]
    if not pairs:
        return None

    def rel(a, b):
        return abs(a - b) / max(abs(b), 1e-6)

    first = max(rel(a, b) for a, b in pairs[:3])
    every = max(rel(a, b) for a, b in pairs)
    return {"first": pairs[0][1], "steps": len(pairs), "rel_first3": first, "rel_all": every,
            "ok": first < 1e-4 and every < 1e-2}
