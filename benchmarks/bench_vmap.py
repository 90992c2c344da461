"""Per-sample gradients of an MLP: retrograd's vmap vs a Python loop over the batch vs PyTorch.

    python benchmarks/bench_vmap.py [--threads N] [--repeats R] [--batches 64 256]

The model is a 64-128-128-10 MLP (relu, cross-entropy), float32. Each case computes, for
every sample of a batch, the gradient of its loss w.r.t. all parameters: with
``vmap(per_sample_grad, in_dims=(None, 0, 0))`` (``per_sample_grad`` calls
``retrograd.autograd.grad``), with ``vmap(retrograd.func.grad(loss))``, with a Python loop
over the samples, and with PyTorch's
``torch.func.vmap(torch.func.grad(loss))`` when torch is installed. Rounds are interleaved
(every implementation timed once per round, in turn) and the table shows medians and ratios.
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
    p.add_argument("--repeats", type=int, default=7, help="rounds per case")
    p.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    return p.parse_args()


ARGS = _parse()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
import retrograd  # noqa: E402
import retrograd.nn.functional as RF  # noqa: E402
from retrograd.func import vmap  # noqa: E402

try:
    import torch

    torch.set_num_threads(ARGS.threads)
except ImportError:
    torch = None

SIZES = (64, 128, 128, 10)


def _data(batch: int):
    rng = np.random.default_rng(0)
    params = []
    for i, o in zip(SIZES[:-1], SIZES[1:]):
        params.append((rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32))
        params.append(np.zeros(o, np.float32))
    x = rng.standard_normal((batch, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], batch)
    return params, x, y


def _loss(F, p, x, y):
    h = x
    for i in range(0, len(p) - 2, 2):
        h = F.relu(F.linear(h, p[i], p[i + 1]))
    return F.cross_entropy(F.linear(h, p[-2], p[-1]), y)


def retrograd_cases(batch: int) -> dict:
    params, x, y = _data(batch)
    p = [retrograd.tensor(a, requires_grad=True) for a in params]
    xs, ys = retrograd.tensor(x), retrograd.tensor(y)

    def per_sample(p, xb, yb):
        return retrograd.autograd.grad(_loss(RF, p, xb, yb), p)

    batched = vmap(per_sample, in_dims=(None, 0, 0))

    def with_vmap():
        return batched(p, xs, ys)

    def with_loop():
        grads = [per_sample(p, xs[i], ys[i]) for i in range(batch)]
        return [retrograd.stack([g[j] for g in grads]) for j in range(len(p))]

    cases = {"retrograd vmap": with_vmap, "retrograd loop": with_loop}
    func = retrograd.func
    if hasattr(func, "grad"):  # vmap(grad(loss)), the torch.func spelling
        by_grad = vmap(func.grad(lambda p, xb, yb: _loss(RF, p, xb, yb)), in_dims=(None, 0, 0))
        cases["vmap(func.grad)"] = lambda: by_grad([t.detach() for t in p], xs, ys)
    b = with_loop()
    for fn in cases.values():  # every way agrees (and this warms them up)
        for u, v in zip(fn(), b):
            np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-4, atol=1e-6)
    return cases


def torch_cases(batch: int) -> dict:
    if torch is None:
        return {}
    params, x, y = _data(batch)
    p = [torch.tensor(a) for a in params]
    xs, ys = torch.tensor(x), torch.tensor(y)
    batched = torch.func.vmap(torch.func.grad(
        lambda p, xb, yb: _loss(torch.nn.functional, p, xb, yb)), in_dims=(None, 0, 0))

    def with_vmap():
        return batched(p, xs, ys)

    with_vmap()
    return {"torch.func vmap": with_vmap}


def _time(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    print(f"per-sample gradients, MLP {'-'.join(map(str, SIZES))}, float32, "
          f"{ARGS.threads} thread(s), median of {ARGS.repeats} rounds")
    for batch in ARGS.batches:
        cases = {**retrograd_cases(batch), **torch_cases(batch)}
        times: dict = {name: [] for name in cases}
        for _ in range(ARGS.repeats):
            for name, fn in cases.items():
                times[name].append(_time(fn))
        med = {name: statistics.median(ts) for name, ts in times.items()}
        ours = med["retrograd vmap"]
        print(f"\nbatch {batch}")
        for name, t in med.items():
            print(f"  {name:<16} {t * 1e3:9.2f} ms   vmap/this = {ours / t:6.3f}")


if __name__ == "__main__":
    main()
