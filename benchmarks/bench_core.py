"""Core benchmarks: retrograd vs PyTorch (CPU) vs hand-written NumPy, interleaved, in one run.

    python benchmarks/bench_core.py [--threads N] [--repeats R] [--quick]

Each case runs as rounds; in every round each implementation is timed once, in turn, so machine
noise hits all of them alike. The table reports the median time per iteration and the ratios
retrograd / PyTorch and retrograd / NumPy. Targets (from the core issue): tiny MLP and chain
<= 1.0x PyTorch, op overhead <= 1.5x, MLP training step <= 1.2x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def _parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--repeats", type=int, default=15, help="rounds per case")
    p.add_argument("--quick", action="store_true", help="fewer iterations (smoke test)")
    return p.parse_args()


if __name__ == "__main__":  # (imported by ``python -m benchmarks``, which sets the threads)
    ARGS = _parse()
    # BLAS thread counts must be fixed before NumPy loads its BLAS.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
import retrograd  # noqa: E402

try:
    import torch
except ImportError:  # the table then shows retrograd and NumPy only
    torch = None


# ---- the cases: each returns {name: (setup -> step function)} -----------------------------


def case_op_overhead(lib):
    """One elementwise multiply of two 2x2 tensors that require grad (graph recorded)."""
    a = lib.ones(2, 2, requires_grad=True)
    b = lib.ones(2, 2, requires_grad=True)

    def step():
        for _ in range(100):
            a * b

    return step, 100


def numpy_op_overhead():
    a = np.ones((2, 2), np.float32)
    b = np.ones((2, 2), np.float32)

    def step():
        for _ in range(100):
            a * b

    return step, 100


def _tiny_params(lib, rng):
    shapes = [(4, 8), (8,), (8, 8), (8,), (8, 1), (1,)]
    return [lib.tensor(rng.standard_normal(s).astype(np.float32) * 0.5, requires_grad=True)
            for s in shapes]


def case_tiny_mlp(lib):
    """Forward + backward of a 4-8-8-1 tanh MLP on one 1x4 input with an MSE loss."""
    rng = np.random.default_rng(0)
    w1, b1, w2, b2, w3, b3 = _tiny_params(lib, rng)
    x = lib.tensor(rng.standard_normal((1, 4)).astype(np.float32))
    y = lib.tensor(np.array([[0.5]], np.float32))

    def step():
        h = (x @ w1 + b1).tanh()
        h = (h @ w2 + b2).tanh()
        out = h @ w3 + b3
        loss = ((out - y) ** 2).mean()
        loss.backward()

    return step, 1


def numpy_tiny_mlp():
    rng = np.random.default_rng(0)
    w1, b1, w2, b2, w3, b3 = [p.detach().numpy().copy() for p in _tiny_params(retrograd, rng)]
    x = rng.standard_normal((1, 4)).astype(np.float32)
    y = np.array([[0.5]], np.float32)

    def step():
        h1 = np.tanh(x @ w1 + b1)
        h2 = np.tanh(h1 @ w2 + b2)
        out = h2 @ w3 + b3
        diff = out - y
        _loss = (diff ** 2).mean()
        g_out = 2 * diff / diff.size
        g_w3 = h2.T @ g_out
        g_b3 = g_out.sum(0)
        g_h2 = (g_out @ w3.T) * (1 - h2 * h2)
        g_w2 = h1.T @ g_h2
        g_b2 = g_h2.sum(0)
        g_h1 = (g_h2 @ w2.T) * (1 - h1 * h1)
        g_w1 = x.T @ g_h1
        g_b1 = g_h1.sum(0)
        return g_w1, g_b1, g_w2, g_b2, g_w3, g_b3

    return step, 1


def _mlp_data(rng):
    x = rng.standard_normal((128, 784)).astype(np.float32)
    labels = rng.integers(0, 10, 128)
    onehot = np.eye(10, dtype=np.float32)[labels]
    params = []
    for fan_in, fan_out in ((784, 256), (256, 256), (256, 10)):
        bound = 1 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (fan_out,)).astype(np.float32))
    return x, onehot, params


def case_mlp_step(lib):
    """One SGD step of a 784-256-256-10 ReLU MLP, batch 128, log_softmax cross-entropy."""
    x_np, onehot_np, params_np = _mlp_data(np.random.default_rng(1))
    x, onehot = lib.tensor(x_np), lib.tensor(onehot_np)
    w1, b1, w2, b2, w3, b3 = params = [lib.tensor(p, requires_grad=True) for p in params_np]

    def step():
        h = (x @ w1 + b1).relu()
        h = (h @ w2 + b2).relu()
        logits = h @ w3 + b3
        loss = -(logits.log_softmax(1) * onehot).sum(1).mean()
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= 0.01 * p.grad
                p.grad = None

    return step, 1


def numpy_mlp_step():
    x, onehot, (w1, b1, w2, b2, w3, b3) = _mlp_data(np.random.default_rng(1))

    def step():
        z1 = x @ w1 + b1
        h1 = np.maximum(z1, 0)
        z2 = h1 @ w2 + b2
        h2 = np.maximum(z2, 0)
        logits = h2 @ w3 + b3
        shifted = logits - logits.max(1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
        _loss = -(logp * onehot).sum(1).mean()
        g_logits = (np.exp(logp) - onehot) / len(x)
        g_w3 = h2.T @ g_logits
        g_b3 = g_logits.sum(0)
        g_z2 = (g_logits @ w3.T) * (z2 > 0)
        g_w2 = h1.T @ g_z2
        g_b2 = g_z2.sum(0)
        g_z1 = (g_z2 @ w2.T) * (z1 > 0)
        g_w1 = x.T @ g_z1
        g_b1 = g_z1.sum(0)
        for p, g in ((w1, g_w1), (b1, g_b1), (w2, g_w2), (b2, g_b2), (w3, g_w3), (b3, g_b3)):
            p -= 0.01 * g

    return step, 1


CHAIN_LENGTH = 10_000


def case_chain(lib):
    """A chain of 10,000 elementwise ops on a 2x2 tensor, then backward."""
    x = lib.ones(2, 2, requires_grad=True)

    def step():
        y = x
        for _ in range(CHAIN_LENGTH // 2):
            y = y * 1.0001
            y = y + 0.0001
        y.sum().backward()

    return step, 1


def numpy_chain():
    x = np.ones((2, 2), np.float32)

    def step():
        y = x
        for _ in range(CHAIN_LENGTH // 2):
            y = y * np.float32(1.0001)
            y = y + np.float32(0.0001)
        g = np.ones_like(x)
        for _ in range(CHAIN_LENGTH // 2):
            g = g * np.float32(1.0001)
        return g

    return step, 1


CASES = [
    ("op overhead (2x2 mul, requires grad)", case_op_overhead, numpy_op_overhead, 200),
    ("tiny MLP fwd+bwd (4-8-8-1 tanh, MSE)", case_tiny_mlp, numpy_tiny_mlp, 300),
    ("MLP train step (784-256-256-10, b128)", case_mlp_step, numpy_mlp_step, 5),
    ("10,000-op chain + backward", case_chain, numpy_chain, 1),
]


def _time(step, inner: int, loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        step()
    return (time.perf_counter() - start) / (loops * inner)


def run() -> list:
    rows = []
    for title, make, make_np, loops in CASES:
        if ARGS.quick:
            loops = max(1, loops // 10)
        impls = [("retrograd", make(retrograd)), ("numpy", make_np())]
        if torch is not None:
            impls.insert(1, ("torch", make(torch)))
        for _, (step, inner) in impls:  # warm up
            _time(step, inner, max(1, loops // 5))
        times = {name: [] for name, _ in impls}
        for _ in range(3 if ARGS.quick else ARGS.repeats):
            for name, (step, inner) in impls:
                times[name].append(_time(step, inner, loops))
        med = {name: statistics.median(ts) for name, ts in times.items()}
        rows.append((title, med))
    return rows


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.2f} us"
    return f"{seconds * 1e3:8.2f} ms"


def main() -> None:
    if torch is not None:
        torch.set_num_threads(ARGS.threads)
    print(f"retrograd benchmarks: {ARGS.threads} thread(s), median of "
          f"{3 if ARGS.quick else ARGS.repeats} interleaved rounds; numpy {np.__version__}, "
          f"torch {torch.__version__ if torch else 'absent'}")
    rows = run()
    print(f"{'case':40s} {'retrograd':>11s} {'torch':>11s} {'numpy':>11s} {'vs torch':>9s} "
          f"{'vs numpy':>9s}")
    for title, med in rows:
        r = med["retrograd"]
        t = med.get("torch")
        n = med["numpy"]
        print(f"{title:40s} {_fmt(r):>11s} {_fmt(t) if t else '-':>11s} {_fmt(n):>11s} "
              f"{(r / t if t else float('nan')):8.2f}x {r / n:8.2f}x")


if __name__ == "__main__":
    main()
