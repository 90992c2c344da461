"""Run every case at one thread count and print the results as one JSON line.

Started by ``python -m benchmarks`` in a fresh process per thread count, with
OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS already set in its environment
(BLAS reads them once, when NumPy loads it). With ``--lib`` only that library runs (and
hand-written NumPy beside retrograd): the "alone" mode of ``python -m benchmarks``, where the
first process to build a case stores its initial weights and batches in ``--state-dir`` and the
other library's process loads them, so both start from the same weights."""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

if "--lib" in sys.argv and "torch" not in sys.argv:
    # alone mode, retrograd's process: PyTorch is not even loaded (bench_core and bench_train,
    # imported by micro, then leave it out)
    sys.modules["torch"] = None
    torch = None
else:
    try:
        import torch
    except ImportError:  # pragma: no cover - the comparison needs PyTorch
        sys.exit("python -m benchmarks compares with PyTorch: install torch (CPU) to run it")

import numpy as np  # noqa: E402

import retrograd  # noqa: E402

from . import micro, workloads  # noqa: E402
from .harness import compare  # noqa: E402

# (key, title, make(lib, state) -> step, numpy step maker or None, inner, budget seconds)
CASES = [
    ("gpt", "GPT step (SDPA, GELU tanh, AdamW, clip)", workloads.make_gpt, None, 1, 14),
    ("gpt_manual", "GPT step, minGPT style (x**3, masked_fill)", workloads.make_gpt_manual,
     None, 1, 10),
    ("cnn", "CNN step (conv-BN-ReLU-pool x2, b32 3x32x32)", workloads.make_cnn, None, 1, 10),
    ("lstm", "LSTM LM step (2x256, b16 x 32, Adam)", workloads.make_lstm, None, 1, 10),
    ("elementwise", "10 elementwise ops fwd+bwd, 1e6 float32", workloads.make_elementwise,
     workloads.numpy_elementwise, 1, 8),
    ("softmax", "softmax fwd+bwd (64x128x128)", micro.make_softmax, None, 1, 5),
    ("gelu_erf", "GELU (erf) fwd+bwd, 1e6 float32", micro.make_gelu_erf, None, 1, 5),
]
_CORE_KEYS = ["op_overhead", "tiny_mlp", "mlp_step", "chain"]
for key, (title, make, np_make, inner) in zip(_CORE_KEYS, micro.core_cases()):
    CASES.append((key, title, make, np_make, inner, 6))
CASES += [
    ("digits_mlp", "digits MLP epoch (Adam, b64)", micro.make_digits("MLP"), None, 1, 6),
    ("digits_cnn", "digits CNN epoch (Adam, b64)", micro.make_digits("CNN"), None, 1, 8),
]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", default="", help="comma-separated case keys")
    p.add_argument("--memory", action="store_true", help="also measure MLP peak memory")
    p.add_argument("--lib", choices=("retrograd", "torch"), default=None,
                   help="alone mode: run only this library")
    p.add_argument("--state-dir", default=None, help="alone mode: shared weights and batches")
    p.add_argument("--rounds", type=int, default=1, help="alone mode: processes per library")
    args = p.parse_args()
    libs = {"torch": torch, "retrograd": retrograd}
    if torch is not None:
        torch.set_num_threads(args.threads)
    retrograd.set_num_threads(args.threads)
    only = {k for k in args.only.split(",") if k}
    results = {}
    for key, title, make, np_make, inner, budget in CASES:
        if only and key not in only:
            continue
        if args.lib is None:
            state: dict = {}
            impls = {"torch": make(torch, state), "retrograd": make(retrograd, state)}
        else:
            state_file = os.path.join(args.state_dir, key + ".pickle")
            state = _load(state_file)
            impls = {args.lib: make(libs[args.lib], state)}
            _store(state_file, state)
        if np_make is not None and "retrograd" in impls:
            impls["numpy"] = np_make()
        res = compare(impls, budget / (4 if args.quick else 1) / args.rounds, args.quick, inner)
        res["title"] = title
        results[key] = res
        if "torch" in res["ratio"]:
            print(f"  [{args.threads} thread(s)] {title}: {res['ratio']['torch']:.2f}x",
                  file=sys.stderr, flush=True)
    out = {"threads": args.threads, "results": results, "blas": blas_info(),
           "numpy": np.__version__, "torch": torch.__version__ if torch else None}
    if args.memory and (not only or "memory" in only):
        out["memory"] = micro.mlp_peak_memory()
    print(json.dumps(out))


def _load(path: str) -> dict:
    if not os.path.exists(path):
        return {}
    with open(path, "rb") as fh:  # (written by this benchmark's own previous process)
        return pickle.load(fh)  # noqa: S301


def _store(path: str, state: dict) -> None:
    if not os.path.exists(path):
        with open(path, "wb") as fh:
            pickle.dump(state, fh)


def blas_info() -> str:
    """The BLAS NumPy uses, and its thread count as loaded (threadpoolctl where installed)."""
    try:
        from threadpoolctl import threadpool_info

        pools = [f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads)"
                 for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return "; ".join(pools)
    except ImportError:
        pass
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # noqa: BLE001 - older NumPy: no dict form
        return "unknown"


if __name__ == "__main__":
    main()
