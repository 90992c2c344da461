"""Run every benchmark against PyTorch at 1 and 2 threads and print the table.

    python -m benchmarks [--quick] [--threads 1,2] [--only gpt,lstm] [--markdown FILE]
                         [--alone-from 2] [--rounds 3]

Each thread count runs in its own process, started with OMP_NUM_THREADS, OPENBLAS_NUM_THREADS
and MKL_NUM_THREADS set (BLAS reads them when NumPy loads it) and ``torch.set_num_threads``.
From ``--alone-from`` threads on (default 2) the libraries run apart instead ("alone" mode):
each round starts one process per library (in alternating order) that runs every case, and a
case's ratio is the median over ``--rounds`` rounds of the per-round ratio; the first process
stores each case's initial weights and batches for the others, and losses are compared step by
step across processes. Side by side, each library's helper threads disturb the other's: after
a BLAS call OpenBLAS's threads spin for a while, and PyTorch's OpenMP threads after each
parallel region, each on the core the other library then needs (measured at 2 threads:
PyTorch's GPT step took 40-45 ms beside retrograd and 16 ms alone). One thread has no helper
threads, so there the paired in-process timing is kept.

In the shared process, GOMP_SPINCOUNT is set to 10000 (unless already set):
PyTorch's OpenMP threads otherwise spin for about 20 ms after each parallel region (300,000
PAUSEs), and while they spin they hold the second core that retrograd's chunked kernels (and
hand-written NumPy's BLAS) then run in. A program using one library never meets this. Measured:
PyTorch's own times unchanged (elementwise at 2 threads 11.4-12.4 ms either way); retrograd's
elementwise case 19.5-21.5 ms beside spinning threads, 17-17.5 ms without.
Times are medians of interleaved rounds; ratios are retrograd / PyTorch (or / NumPy), the
median of the per-round ratios, so both sides of a ratio met the same machine noise.
``--markdown FILE`` writes the table with the machine, threads and BLAS named (RESULTS.md).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

from .harness import loss_agreement

# Targets of issue 11, retrograd / PyTorch (median ratio); memory: peak bytes ratio.
TARGETS = {"gpt": 1.2, "gpt_manual": 1.2, "cnn": 1.1, "lstm": 1.5, "elementwise": 1.5,
           "op_overhead": 1.2, "tiny_mlp": 0.6, "mlp_step": 1.05, "chain": 0.8, "memory": 0.3}


def _parse():
    p = argparse.ArgumentParser(prog="python -m benchmarks",
                                description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a quarter of the time (smoke test)")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--only", default="", help="comma-separated case keys (see worker.py)")
    p.add_argument("--markdown", default=None, help="also write the tables to this file")
    p.add_argument("--alone-from", type=int, default=2,
                   help="from this thread count on, each library runs in its own processes")
    p.add_argument("--rounds", type=int, default=3, help="alone mode: processes per library")
    return p.parse_args()


def run_worker(threads: int, quick: bool, only: str, memory: bool, extra: tuple = ()) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    if not extra:  # one shared process (alone, each library keeps its defaults)
        env.setdefault("GOMP_SPINCOUNT", "10000")  # (see the module's docstring)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cmd = [sys.executable, "-m", "benchmarks.worker", "--threads", str(threads)]
    if quick:
        cmd.append("--quick")
    if only:
        cmd += ["--only", only]
    if memory:
        cmd.append("--memory")
    cmd += list(extra)
    res = subprocess.run(cmd, env=env, cwd=root, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_alone(threads: int, quick: bool, only: str, rounds: int, memory: bool = False) -> dict:
    """Each library in its own fresh processes, ``rounds`` of them in alternating order; the
    per-case results merged into one run (the format of ``run_worker``'s)."""
    per_lib: dict = {"retrograd": [], "torch": []}
    with tempfile.TemporaryDirectory() as state_dir:
        for r in range(rounds):
            for lib in (("retrograd", "torch") if r % 2 == 0 else ("torch", "retrograd")):
                extra = ("--lib", lib, "--state-dir", state_dir, "--rounds", str(rounds))
                first = memory and r == 0 and lib == "retrograd"  # (its own subprocesses)
                per_lib[lib].append(run_worker(threads, quick, only, first, extra))
    mine, ref = per_lib["retrograd"], per_lib["torch"]
    results = {}
    for key, first in mine[0]["results"].items():
        rounds_mine = [run["results"][key] for run in mine]
        rounds_ref = [run["results"][key] for run in ref]
        sec = {"retrograd": statistics.median(r["seconds"]["retrograd"] for r in rounds_mine),
               "torch": statistics.median(r["seconds"]["torch"] for r in rounds_ref)}
        ratio = {"torch": statistics.median(m["seconds"]["retrograd"] / t["seconds"]["torch"]
                                            for m, t in zip(rounds_mine, rounds_ref))}
        if "numpy" in first["seconds"]:
            sec["numpy"] = statistics.median(r["seconds"]["numpy"] for r in rounds_mine)
            ratio["numpy"] = statistics.median(r["ratio"]["numpy"] for r in rounds_mine)
        losses_mine = rounds_mine[0]["losses"]["retrograd"]
        losses_ref = rounds_ref[0]["losses"]["torch"]
        results[key] = {"title": first["title"], "seconds": sec, "ratio": ratio,
                        "loss": loss_agreement(losses_mine, losses_ref)}
    run = {"threads": threads, "results": results, "blas": mine[0]["blas"],
           "numpy": mine[0]["numpy"], "torch": ref[0]["torch"], "alone": rounds}
    if "memory" in mine[0]:
        run["memory"] = mine[0]["memory"]
    return run


def _fmt_time(s: float) -> str:
    return f"{s * 1e6:.1f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def _numpy(ratio: dict) -> str:
    return f"{ratio['numpy']:.2f}x" if "numpy" in ratio else "-"


def table(run: dict) -> list:
    how = (f"each library alone in fresh processes, median of {run['alone']} rounds"
           if run.get("alone") else "both libraries in one process, interleaved")
    lines = [f"### {run['threads']} thread(s) ({how})", "",
             "| case | retrograd | PyTorch | vs PyTorch | target | vs NumPy | losses agree |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for key, r in run["results"].items():
        sec = r["seconds"]
        ratio = r["ratio"]
        target = TARGETS.get(key)
        mark = "" if target is None else (" ✓" if ratio["torch"] <= target else " ✗")
        loss = r.get("loss")
        agree = "-" if not loss else (
            f"{'yes' if loss['ok'] else 'NO'} (rel {loss['rel_first3']:.0e} / "
            f"{loss['rel_all']:.0e} over {loss['steps']})")
        lines.append(
            f"| {r['title']} | {_fmt_time(sec['retrograd'])} | {_fmt_time(sec['torch'])} | "
            f"{ratio['torch']:.2f}x{mark} | {'' if target is None else f'≤{target}x'} | "
            f"{_numpy(ratio)} | {agree} |")
    mem = run.get("memory")
    if mem:
        ratio = mem["retrograd"] / max(mem["torch"], 1)
        lines.append(f"| MLP training peak memory (RSS growth) | "
                     f"{mem['retrograd'] / 2**20:.1f} MiB | {mem['torch'] / 2**20:.1f} MiB | "
                     f"{ratio:.2f}x"
                     f"{' ✓' if ratio <= TARGETS['memory'] else ' ✗'} | ≤{TARGETS['memory']}x "
                     "| - | - |")
    return lines


def machine(runs: list) -> list:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as fh:
            names = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
        if names:
            cpu = names[0]
    except OSError:
        pass
    first = runs[0]
    lines = [f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
             f"- machine: {cpu}, {os.cpu_count()} logical CPUs, {platform.system()} "
             f"{platform.release()}, Python {platform.python_version()}",
             f"- NumPy {first['numpy']}, PyTorch {first['torch']}"]
    for run in runs:
        lines.append(f"- {run['threads']} thread(s): BLAS {run['blas']}")
    return lines


def main() -> None:
    args = _parse()
    runs = []
    for i, n in enumerate(int(t) for t in args.threads.split(",") if t):
        print(f"running at {n} thread(s)...", file=sys.stderr, flush=True)
        if n >= args.alone_from:
            runs.append(run_alone(n, args.quick, args.only, args.rounds, memory=(i == 0)))
        else:
            runs.append(run_worker(n, args.quick, args.only, memory=(i == 0)))
    lines = machine(runs) + [""]
    for run in runs:
        lines += table(run) + [""]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write("# Benchmark results (`python -m benchmarks"
                     f"{' --quick' if args.quick else ''}`)\n\n"
                     "retrograd / PyTorch on the CPU, same weights, batches and thread count; "
                     "medians of interleaved rounds (see benchmarks/harness.py), or of rounds "
                     "of separate processes (alone mode: see benchmarks/__main__.py).\n\n"
                     + text + "\n")


if __name__ == "__main__":
    main()
