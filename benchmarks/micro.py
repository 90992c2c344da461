"""Micro cases: per-op overhead and small models (from bench_core.py and bench_train.py), and
single large ops (softmax, GELU), each ``make(lib) -> step``; plus the peak-memory probe."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from . import bench_core, bench_train


def core_cases() -> list:
    """(title, make, numpy_make, inner) for the bench_core cases."""
    rows = []
    for title, case, np_case, _ in bench_core.CASES:
        def make(lib, state, case=case):
            return case(lib)[0]

        def np_make(np_case=np_case):
            return np_case()[0]
        inner = np_case()[1]
        rows.append((title, make, np_make, inner))
    return rows


def make_digits(kind: str):
    """One training epoch of bench_train's digits MLP or CNN (Adam, batch 64, pre-built
    batches), continuing from the previous epoch."""
    def make(lib, state):
        if "data" not in state:
            x, y = bench_train.make_data()
            state["data"] = (x, y)
        x, y = state["data"]
        lib.manual_seed(0)
        model = (bench_train.make_mlp if kind == "MLP" else bench_train.make_cnn)(lib)
        if "weights" not in state:
            state["weights"] = {k: v.detach().numpy().copy()
                                for k, v in model.state_dict().items()}
        else:
            model.load_state_dict({k: lib.tensor(v) for k, v in state["weights"].items()})
        chunks = [(x[i:i + 64], y[i:i + 64]) for i in range(0, len(y), 64)]
        batches = [(lib.tensor(a), lib.tensor(b)) for a, b in chunks]

        def step():
            return bench_train.epoch(lib, model, batches)[1][-1]
        return step
    return make


def make_softmax(lib, state):
    """softmax over the last dim of a (64, 128, 128) float32 tensor (attention-sized), fwd+bwd."""
    rng = np.random.default_rng(4)
    x = lib.tensor(rng.standard_normal((64, 128, 128)).astype(np.float32), requires_grad=True)
    w = lib.tensor(rng.standard_normal((64, 128, 128)).astype(np.float32))

    def step():
        x.grad = None
        loss = (lib.softmax(x, -1) * w).sum()
        loss.backward()
        return loss.item()
    return step


def make_gelu_erf(lib, state):
    """GELU (exact, erf form) of 1e6 float32 elements, fwd+bwd."""
    rng = np.random.default_rng(5)
    x = lib.tensor(rng.standard_normal(1_000_000).astype(np.float32), requires_grad=True)
    gelu = lib.nn.functional.gelu

    def step():
        x.grad = None
        loss = gelu(x).sum()
        loss.backward()
        return loss.item()
    return step


# ---- peak memory -------------------------------------------------------------------------------

_MEMORY_SNIPPET = r"""
import sys
sys.path.insert(0, {src!r})
sys.path.insert(0, {root!r})
lib = __import__({lib!r})
from benchmarks import bench_core

def status():
    d = {{}}
    for line in open("/proc/self/status"):
        if line.startswith(("VmRSS", "VmHWM")):
            k, v = line.split(":")
            d[k] = int(v.split()[0]) * 1024
    return d

step, _ = bench_core.case_mlp_step(lib)
base = status()["VmRSS"]  # the model and the data are in memory; no step has run yet
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current RSS
for _ in range(5):
    step()
print(status()["VmHWM"] - base)
"""


def mlp_peak_memory() -> dict | None:
    """Peak RSS growth (bytes) during 5 MLP training steps (bench_core's 784-256-256-10,
    batch 128), each library in a fresh process; None where /proc does not allow it."""
    if not os.path.exists("/proc/self/clear_refs"):
        return None
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = {}
    for lib in ("retrograd", "torch"):
        code = _MEMORY_SNIPPET.format(src=os.path.join(root, "src"), root=root, lib=lib)
        try:
            res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 timeout=120, check=True)
            out[lib] = int(res.stdout.strip().splitlines()[-1])
        except (subprocess.SubprocessError, ValueError, OSError):
            return None
    return out


if __name__ == "__main__":
    print(json.dumps(mlp_peak_memory()))
