"""The differential fuzzer (``tests/fuzz/``) on a fixed-seed budget.

Runs ``RETROGRAD_FUZZ_PROGRAMS`` random programs (default 200, a few seconds) from seed
``RETROGRAD_FUZZ_SEED`` (default 0; ``RETROGRAD_FUZZ_JOBS`` worker processes) on retrograd and
on PyTorch, and fails listing the shrunk reproducers of every mismatch whose class is not in
``fuzz/known.py``. A run of at least ``STALE_CHECK_MIN`` programs also fails when a listed
class no longer occurs (except ``rare`` ones, which only other seeds reach), so the list can
only shrink as fixes land. ``python -m tests.fuzz -n 10000`` prints the counts by class.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
from fuzz.generate import generate
from fuzz.known import KNOWN_MISMATCHES, match_known
from fuzz.program import run
from fuzz.runner import run_many

PROGRAMS = int(os.environ.get("RETROGRAD_FUZZ_PROGRAMS", "200"))
SEED = int(os.environ.get("RETROGRAD_FUZZ_SEED", "0"))
JOBS = int(os.environ.get("RETROGRAD_FUZZ_JOBS", "1"))  # worker processes for long local runs
STALE_CHECK_MIN = 5000


def _report(fails) -> str:
    seen, out = set(), []
    for f in fails:
        if f.label not in seen:
            seen.add(f.label)
            out.append(f"# ---- program {f.index} (seed {SEED}) ----\n{f.code}")
    return "\n".join(out)


def test_fuzz_budget(torch_ref):
    rep = run_many(PROGRAMS, SEED, jobs=JOBS, do_shrink="unknown")
    new = [f for f in rep.failures if match_known(f.label) is None]
    counts = rep.counts()
    print(f"\nfuzz: {PROGRAMS} programs, {len(rep.failures)} mismatches "
          f"({len(new)} not known): {dict(counts.most_common())}")
    assert not new, (f"{len(new)} of {PROGRAMS} programs disagree with PyTorch in a way "
                     f"fuzz/known.py does not list; shrunk reproducers:\n\n{_report(new)}")
    unseen = [k.pattern for k in KNOWN_MISMATCHES
              if not k.rare and not any(match_known(label) is k for label in counts)]
    if PROGRAMS >= STALE_CHECK_MIN:
        assert not unseen, (f"known mismatch classes that no longer occur in {PROGRAMS} "
                            f"programs; remove them from tests/fuzz/known.py: {unseen}")
    elif unseen:
        print(f"fuzz: {len(unseen)} known classes not seen in this short run (checked from "
              f"{STALE_CHECK_MIN} programs on)")


def test_printed_program_is_the_program_run(torch_ref):
    """A reproducer's text, executed as a script, does what ``run`` did."""
    for i in range(30):
        prog = generate(np.random.default_rng([12345, i]), torch_ref)
        trace = run(prog, torch_ref)
        code = prog.to_code("torch").replace("print(", "_show(")
        ns = {"_show": lambda *a: None}
        if trace.error is None:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                exec(code, ns)  # noqa: S102 - our own generated program
            for name, snap in trace.final.items():
                got = ns[name]
                assert tuple(got.shape) == snap.array.shape
            for leaf, g in trace.grads.items():
                assert (ns[leaf].grad is None) == (g is None)
                if g is not None:
                    np.testing.assert_array_equal(ns[leaf].grad.detach().numpy(), g.array)


def test_shrinker_keeps_the_mismatch_and_drops_the_rest(torch_ref):
    """With a stand-in comparison that flags every program applying ``exp`` to a tensor of
    more than one element, shrinking leaves one input and the one ``exp`` step."""
    from fuzz.compare import Mismatch
    from fuzz.program import Input, Program, Step
    from fuzz.runner import shrink

    def flags(prog, torch, rg):
        trace = run(prog, torch)
        for step, snap in zip(prog.steps, trace.values):
            if step.op == "exp" and snap.array.size > 1:
                return Mismatch("value", "exp", "stand-in")
        return None

    rng = np.random.default_rng(0)
    inputs = [Input("x0", rng.uniform(-1, 1, (3, 4)), True), Input("x1", rng.uniform(-1, 1, 4),
                                                                      False)]
    steps = [Step("mul", "{0} * {1}", ("x0", "x1"), "v0"), Step("sin", "{0}.sin()", ("v0",), "v1"),
             Step("exp", "{0}.exp()", ("v1",), "v2"), Step("sum", "{0}.sum(0)", ("v2",), "v3")]
    prog = Program(inputs, steps)
    small, m = shrink(prog, flags(prog, torch_ref, None), torch_ref, None, check_fn=flags)
    assert m.key == ("value", "exp")
    assert [s.op for s in small.steps] == ["exp"]
    assert len(small.inputs) == 1 and small.inputs[0].data.size == 2
    assert "v2 = x0.exp()" in small.to_code()


def _readme_keys() -> tuple:
    """(deliberate keys, open-defect keys) of the README's "Deliberate differences from
    PyTorch" section: its bold-keyed items before and after the "Open defects" paragraph."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split("## Deliberate differences from PyTorch", 1)[1].split("\n## ", 1)[0]
    deliberate, _, open_part = section.partition("\nOpen defects")
    keys = re.compile(r"^- \*\*([a-z0-9-]+)\*\* ", re.M)
    unseen = re.compile(r"^- \*\*([a-z0-9-]+)\*\* (?:(?!^- ).)*Not seen in the last run",
                        re.M | re.S)
    return keys.findall(deliberate), keys.findall(open_part), unseen.findall(open_part)


def test_known_classes_are_the_readme_list():
    """Every tolerated class carries a key of the README's list, and every open defect listed
    there is tolerated by some entry unless the README says the last run did not see it."""
    deliberate, open_defects, unseen = _readme_keys()
    assert deliberate and open_defects
    assert not set(deliberate) & set(open_defects)
    used = {k.key for k in KNOWN_MISMATCHES}
    assert used <= set(deliberate) | set(open_defects), used - set(deliberate) - set(open_defects)
    assert set(open_defects) - set(unseen) <= used, set(open_defects) - set(unseen) - used
    common = {k.key for k in KNOWN_MISMATCHES if not k.rare}  # rare ones: other seeds only
    assert not set(unseen) & common, set(unseen) & common
