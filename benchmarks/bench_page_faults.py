"""Large elementwise work run alone in its process: time and page faults per step.

    python -m benchmarks.bench_page_faults [--threads 1]

``python -m benchmarks`` times retrograd and PyTorch in one process, where whichever allocates
first shapes glibc's malloc for both. Here each library runs the ten-op elementwise step
(workloads.make_elementwise) in a fresh process of its own, as a user's program would: PyTorch,
hand-written NumPy, retrograd as imported (freed memory kept: Note [Keeping freed memory] in
backend.py), and retrograd with RETROGRAD_KEEP_FREED_MEMORY=0 (glibc's own thresholds).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_CHILD = """
import json, resource, statistics, sys, time
sys.path.insert(0, {root!r}); sys.path.insert(0, {src!r})
which, threads = {which!r}, {threads}
if which == "torch":
    import torch as lib
    lib.set_num_threads(threads)
elif which.startswith("retrograd"):
    import retrograd as lib
    lib.set_num_threads(threads)
from benchmarks import workloads
step = (workloads.numpy_elementwise() if which == "numpy"
        else workloads.make_elementwise(lib, {{}}))
for _ in range(5):
    step()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
times = []
for _ in range(30):
    start = time.perf_counter()
    step()
    times.append(time.perf_counter() - start)
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / 30
print(json.dumps({{"ms": statistics.median(times) * 1e3, "faults": faults}}))
"""


def run(which: str, threads: int) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env.pop("RETROGRAD_KEEP_FREED_MEMORY", None)
    if which == "retrograd, malloc untouched":
        env["RETROGRAD_KEEP_FREED_MEMORY"] = "0"
    code = _CHILD.format(root=ROOT, src=os.path.join(ROOT, "src"), which=which, threads=threads)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    print(f"10 elementwise ops fwd+bwd on 1e6 float32, each alone in a process, "
          f"{args.threads} thread(s)")
    print("| run | ms per step (median of 30) | page faults per step |")
    print("|---|---:|---:|")
    for which in ("torch", "numpy", "retrograd", "retrograd, malloc untouched"):
        res = run(which, args.threads)
        if "error" in res:
            print(f"| {which} | {res['error']} | |")
        else:
            print(f"| {which} | {res['ms']:.2f} | {res['faults']:.0f} |")


if __name__ == "__main__":
    main()
