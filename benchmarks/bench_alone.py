"""The real-model workloads with each library alone in its own process, as a user runs them.

    python -m benchmarks.bench_alone [--threads 1,2] [--only gpt,cnn] [--rounds 3]

``python -m benchmarks`` times retrograd and PyTorch side by side in one process, which pairs
their noise but lets each disturb the other: whichever allocates first shapes glibc's malloc
for both, and PyTorch's OpenMP threads spin on a core after their work. Here every round starts
one fresh process per library (in alternating order) that runs a workload's step from
workloads.py for about ``--seconds`` and reports its median step time and page faults per step;
the ratio is the median over rounds of retrograd / PyTorch. A last row per workload runs
retrograd with RETROGRAD_KEEP_FREED_MEMORY=0 (glibc's own malloc thresholds: Note [Keeping
freed memory] in backend.py). Each process builds its model from its own library's
initialisation, so losses are not compared here (``python -m benchmarks`` does that).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORKLOADS = {  # key: (title, maker in workloads.py)
    "gpt": ("GPT step (SDPA, GELU tanh, AdamW, clip)", "make_gpt"),
    "gpt_manual": ("GPT step, minGPT style", "make_gpt_manual"),
    "cnn": ("CNN step (conv-BN-ReLU-pool x2)", "make_cnn"),
    "lstm": ("LSTM LM step (2x256, Adam)", "make_lstm"),
    "elementwise": ("10 elementwise ops fwd+bwd, 1e6 float32", "make_elementwise"),
}

_CHILD = """
import json, resource, statistics, sys, time
sys.path.insert(0, {root!r}); sys.path.insert(0, {src!r})
if {lib!r} == "torch":
    import torch as lib
else:
    import retrograd as lib
lib.set_num_threads({threads})
from benchmarks import workloads
step = getattr(workloads, {maker!r})(lib, {{}})
for _ in range(3):
    step()
start = time.perf_counter()
step()
once = time.perf_counter() - start
n = max(5, int({seconds} / max(once, 1e-6)))
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
times = []
for _ in range(n):
    start = time.perf_counter()
    step()
    times.append(time.perf_counter() - start)
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / n
print(json.dumps({{"s": statistics.median(times), "faults": faults}}))
"""


def run_alone(lib: str, maker: str, threads: int, seconds: float, keep_freed: bool = True):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env.pop("RETROGRAD_KEEP_FREED_MEMORY", None)
    if not keep_freed:
        env["RETROGRAD_KEEP_FREED_MEMORY"] = "0"
    code = _CHILD.format(root=ROOT, src=os.path.join(ROOT, "src"), lib=lib, maker=maker,
                         threads=threads, seconds=seconds)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", default="1,2")
    p.add_argument("--only", default="")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=2.0, help="timed seconds per process")
    args = p.parse_args()
    only = [k for k in args.only.split(",") if k] or list(WORKLOADS)
    for threads in [int(t) for t in args.threads.split(",")]:
        print(f"\n{threads} thread(s), each library alone in a fresh process, "
              f"{args.rounds} rounds\n")
        print("| workload | retrograd | PyTorch | vs PyTorch | faults/step (retrograd, PyTorch) "
              "| retrograd, malloc untouched |")
        print("|---|---:|---:|---:|---:|---:|")
        for key in only:
            title, maker = WORKLOADS[key]
            mine, ref, ratios = [], [], []
            for r in range(args.rounds):
                order = ("retrograd", "torch") if r % 2 == 0 else ("torch", "retrograd")
                res = {lib: run_alone(lib, maker, threads, args.seconds) for lib in order}
                mine.append(res["retrograd"])
                ref.append(res["torch"])
                ratios.append(res["retrograd"]["s"] / res["torch"]["s"])
            untouched = run_alone("retrograd", maker, threads, args.seconds, keep_freed=False)
            ms = statistics.median(m["s"] for m in mine) * 1e3
            ts = statistics.median(t["s"] for t in ref) * 1e3
            print(f"| {title} | {ms:.2f} ms | {ts:.2f} ms | {statistics.median(ratios):.2f}x "
                  f"| {statistics.median(m['faults'] for m in mine):.0f}, "
                  f"{statistics.median(t['faults'] for t in ref):.0f} "
                  f"| {untouched['s'] * 1e3:.2f} ms ({untouched['faults']:.0f} faults) |",
                  flush=True)


if __name__ == "__main__":
    main()
