"""Run every benchmark against PyTorch at 1 and 2 threads and print the table.

    python -m benchmarks [--quick] [--threads 1,2] [--only gpt,lstm] [--markdown FILE]

Each thread count runs in its own process, started with OMP_NUM_THREADS, OPENBLAS_NUM_THREADS
and MKL_NUM_THREADS set (BLAS reads them when NumPy loads it) and ``torch.set_num_threads``.
Both libraries share that process, so GOMP_SPINCOUNT is set to 10000 (unless already set):
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
import subprocess
import sys

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
    return p.parse_args()


def run_worker(threads: int, quick: bool, only: str, memory: bool) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env.setdefault("GOMP_SPINCOUNT", "10000")  # (see the module's docstring)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cmd = [sys.executable, "-m", "benchmarks.worker", "--threads", str(threads)]
    if quick:
        cmd.append("--quick")
    if only:
        cmd += ["--only", only]
    if memory:
        cmd.append("--memory")
    res = subprocess.run(cmd, env=env, cwd=root, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _fmt_time(s: float) -> str:
    return f"{s * 1e6:.1f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def _numpy(ratio: dict) -> str:
    return f"{ratio['numpy']:.2f}x" if "numpy" in ratio else "-"


def table(run: dict) -> list:
    lines = [f"### {run['threads']} thread(s)", "",
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
                     "medians of interleaved rounds (see benchmarks/harness.py).\n\n"
                     + text + "\n")


if __name__ == "__main__":
    main()
