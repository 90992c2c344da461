"""Running programs on both libraries, shrinking the ones that disagree, counting classes."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .compare import Mismatch, compare
from .generate import fit, generate
from .program import Program, run


def check(prog: Program, torch, rg) -> Mismatch | None:
    return compare(prog, run(prog, torch), run(prog, rg))


# ---- shrinking -------------------------------------------------------------------------------


def _without_step(prog: Program, i: int) -> Program | None:
    """``prog`` without step ``i``; later uses of its result use its first input instead."""
    step = prog.steps[i]
    if not step.ins:
        return None
    sub = step.ins[0]
    steps = []
    for s in prog.steps[:i] + prog.steps[i + 1:]:
        ins = tuple(sub if n == step.out else n for n in s.ins)
        steps.append(s if ins == s.ins else type(s)(s.op, s.code, ins, s.out, s.stmt, s.no_grad))
    return prog.copy(steps=steps)


def _used(prog: Program) -> set:
    return {n for s in prog.steps for n in s.ins}


def _candidates(prog: Program, steps_only: bool = False):
    """Smaller or simpler variants of ``prog``, most promising first."""
    for i in reversed(range(len(prog.steps))):
        p = _without_step(prog, i)
        if p is not None:
            yield p
    if steps_only:
        return
    used = _used(prog)
    unused = [x for x in prog.inputs if x.name not in used]
    if unused:
        yield prog.copy(inputs=[x for x in prog.inputs if x.name in used])
    for i, s in enumerate(prog.steps):
        if s.no_grad:
            steps = list(prog.steps)
            steps[i] = type(s)(s.op, s.code, s.ins, s.out, s.stmt, False)
            yield prog.copy(steps=steps)
    if prog.order2:
        yield prog.copy(order2=False)
    for k, x in enumerate(prog.inputs):
        variants = []
        if x.requires_grad:
            variants.append(type(x)(x.name, x.data, False))
        a = x.data
        for d, size in enumerate(a.shape):
            if size > 1:
                variants.append(type(x)(x.name, np.take(a, [0], axis=d), x.requires_grad))
                variants.append(type(x)(x.name, np.take(a, range(size - 1), axis=d),
                                        x.requires_grad))
        for d, size in enumerate(a.shape):
            if size == 1:
                variants.append(type(x)(x.name, np.take(a, 0, axis=d), x.requires_grad))
        with np.errstate(all="ignore"):
            for simple in (np.round(a), np.round(a, 1)):
                if not np.array_equal(simple, a, equal_nan=True):
                    variants.append(type(x)(x.name, simple, x.requires_grad))
        for v in variants:
            inputs = list(prog.inputs)
            inputs[k] = v
            yield prog.copy(inputs=inputs)
    if prog.grad_out is not None and not np.all(prog.grad_out == 1):
        yield prog.copy(grad_out=np.ones_like(prog.grad_out))
    if prog.order2 and any(not np.all(w == 1) for w in prog.weights.values()):
        yield prog.copy(weights={n: np.ones_like(w) for n, w in prog.weights.items()})


def shrink(prog: Program, mismatch: Mismatch, torch, rg, budget: int = 400, check_fn=check,
           steps_only: bool = False):
    """Removes steps, inputs, dimensions and digits while the same kind of mismatch persists
    (same kind, and the same op for a forward mismatch); returns the smallest program found
    and its mismatch. ``steps_only`` removes steps only: enough to find the class label."""
    tries = 0
    changed = True
    while changed and tries < budget:
        changed = False
        for cand in _candidates(prog, steps_only):
            tries += 1
            if tries > budget:
                break
            cand = fit(cand, torch)
            m = check_fn(cand, torch, rg)
            if m is not None and m.key == mismatch.key:
                prog, mismatch, changed = cand, m, True
                break
    return prog, mismatch


def reproducer(prog: Program, mismatch: Mismatch) -> str:
    head = f"# {mismatch.label(prog)}: {mismatch.detail}\n"
    return head + prog.to_code()


# ---- many programs ---------------------------------------------------------------------------


@dataclass
class Failure:
    index: int
    label: str
    code: str


@dataclass
class Report:
    programs: int = 0
    seconds: float = 0.0
    failures: list = field(default_factory=list)

    def counts(self) -> Counter:
        return Counter(f.label for f in self.failures)

    def by_label(self) -> dict:
        out: dict = {}
        for f in self.failures:
            out.setdefault(f.label, []).append(f)
        return out


def program_rng(seed: int, index: int):
    return np.random.default_rng([seed, index])


def run_one(seed: int, index: int, torch, rg, do_shrink=True) -> Failure | None:
    """Generates program ``index`` of ``seed``, compares, and on a mismatch shrinks it:
    fully when ``do_shrink`` is True; when it is "unknown", only as far as needed to tell
    whether its class is known (``known.py``), fully otherwise (the test's budget)."""
    prog = generate(program_rng(seed, index), torch)
    m = check(prog, torch, rg)
    if m is None:
        return None
    if do_shrink == "unknown":
        from .known import match_known

        if m.op is None:
            prog, m = shrink(prog, m, torch, rg, steps_only=True)
        if match_known(m.label(prog)) is not None:
            return Failure(index, m.label(prog), reproducer(prog, m))
    if do_shrink:
        prog, m = shrink(prog, m, torch, rg)
    return Failure(index, m.label(prog), reproducer(prog, m))


def run_range(seed: int, start: int, stop: int, do_shrink=True) -> list:
    import torch

    import retrograd

    out = []
    for i in range(start, stop):
        f = run_one(seed, i, torch, retrograd, do_shrink)
        if f is not None:
            out.append(f)
    return out


def _run_range_args(args):
    import torch

    torch.set_num_threads(1)  # in a worker process: one thread each
    return run_range(*args)


def run_many(n: int, seed: int = 0, jobs: int = 1, do_shrink=True) -> Report:
    t0 = time.perf_counter()
    if jobs <= 1:
        failures = run_range(seed, 0, n, do_shrink)
    else:
        import multiprocessing as mp

        chunk = max(1, min(250, n // (jobs * 4) or 1))
        parts = [(seed, a, min(a + chunk, n), do_shrink) for a in range(0, n, chunk)]
        with mp.get_context("spawn").Pool(jobs) as pool:
            failures = [f for part in pool.imap(_run_range_args, parts) for f in part]
    return Report(n, time.perf_counter() - t0, failures)
