"""``python -m tests.fuzz -n 10000 [--seed S] [-j 2] [--show 3]`` from the repository root
(with ``src`` on ``PYTHONPATH``): runs that many random programs on retrograd and PyTorch and
prints the mismatch counts by class, each class marked known (``known.py``) or NEW, and the
shrunk reproducers (``--show`` per class)."""

from __future__ import annotations

import argparse
import os
import sys

from .known import KNOWN_MISMATCHES, match_known
from .runner import run_many


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    ap.add_argument("-n", "--programs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-j", "--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--show", type=int, default=1, help="reproducers printed per class")
    ap.add_argument("--no-shrink", action="store_true")
    args = ap.parse_args(argv)
    rep = run_many(args.programs, args.seed, args.jobs, not args.no_shrink)
    by = rep.by_label()
    print(f"# {rep.programs} programs (seed {args.seed}) in {rep.seconds:.0f} s: "
          f"{len(rep.failures)} mismatched ({100 * len(rep.failures) / rep.programs:.2f}%), "
          f"{len(by)} classes")
    groups: dict = {}
    for f in rep.failures:
        groups.setdefault(match_known(f.label), []).append(f)
    print("\n# by known class (tests/fuzz/known.py)")
    for k in KNOWN_MISMATCHES:
        n = len(groups.get(k, []))
        print(f"{n:6d}  {k.key:26s} {k.reason[:100]}")
    new = groups.get(None, [])
    print(f"{len(new):6d}  NOT KNOWN")
    print("\n# by label")
    for label, fails in sorted(by.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        k = match_known(label)
        print(f"{len(fails):6d}  {label:60s} {k.key if k else 'NOT KNOWN'}")
    for _label, fails in sorted(by.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        for f in fails[:args.show]:
            print(f"\n# ---- program {f.index} ----\n{f.code}")
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
