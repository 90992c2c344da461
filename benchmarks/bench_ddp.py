"""Step time of DistributedDataParallel on 1, 2, ... processes, and where communication goes.

    python -m retrograd.distributed.run -n 1 benchmarks/bench_ddp.py
    python -m retrograd.distributed.run -n 2 benchmarks/bench_ddp.py

For each model, with the global batch split between the processes, rank 0 prints the median
time of a training step (forward, backward, Adam) with DDP, the same step on the local batch
without DDP (no communication), DDP's own counters per step (copying gradients into buckets,
starting the non-blocking all-reduces, waiting for them at the end of backward), and a bare
MPI all-reduce of all the gradients at once, for comparison. "with a barrier after it" is the
step without DDP followed by a barrier: it shows what waiting for the slowest rank costs alone.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import retrograd as torch
import retrograd.distributed as dist
from retrograd import nn
from retrograd.nn.parallel import DistributedDataParallel as DDP

MODELS = {
    "digits MLP 64-256-10, batch 64": ([64, 256, 10], 64),
    "MLP 784-1024-1024-10, batch 256": ([784, 1024, 1024, 10], 256),
}


def mlp(sizes: list) -> nn.Module:
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def median_step(model, params, x, y, steps: int, sync: bool = False) -> tuple:
    """Median seconds of a training step, and (for DDP) the median per-step seconds spent
    copying gradients, starting the all-reduces and waiting for them."""
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(params, lr=1e-3)
    stats = getattr(model, "_comm_stats", None)
    times, parts = [], []
    for i in range(steps + 3):
        dist.barrier()  # start every step together, so waits measure communication
        before = dict(stats) if stats else None
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        if sync:
            dist.barrier()
        if i >= 3:
            times.append(time.perf_counter() - t0)
            if stats:
                parts.append([stats[k] - before[k] for k in ("copy_s", "launch_s", "wait_s")])
    parts = np.median(parts, axis=0) if parts else np.zeros(3)
    return float(np.median(times)), parts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--bucket-cap-mb", type=float, default=None)
    args = parser.parse_args()
    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    for name, (sizes, batch) in MODELS.items():
        torch.manual_seed(0)
        local = batch // world
        x, y = torch.randn(local, sizes[0]), torch.randint(0, sizes[-1], (local,))
        plain = mlp(sizes)
        t_plain = median_step(plain, plain.parameters(), x, y, args.steps)[0]
        t_plain_sync = median_step(plain, plain.parameters(), x, y, args.steps, sync=True)[0]
        ddp = DDP(mlp(sizes), bucket_cap_mb=args.bucket_cap_mb)
        for k in ddp._comm_stats:
            ddp._comm_stats[k] = 0 if k in ("backwards", "bytes") else 0.0
        t_ddp, (copy, start, wait) = median_step(ddp, ddp.parameters(), x, y, args.steps)
        s = ddp._comm_stats
        n = max(s["backwards"], 1)
        flat = torch.zeros(sum(p.numel() for p in ddp.parameters()))
        reps = []
        for _ in range(10):
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce(flat)
            reps.append(time.perf_counter() - t0)
        if rank == 0:
            ms = 1000
            print(f"{name} on {world} process(es): step {t_ddp * ms:.2f} ms with DDP, "
                  f"{t_plain * ms:.2f} ms without (local batch {local}), "
                  f"{t_plain_sync * ms:.2f} ms without but with a barrier after it; per step: "
                  f"{len(ddp._buckets)} bucket(s), {s['bytes'] / n / 1e6:.2f} MB, copy "
                  f"{copy * ms:.2f} ms, start {start * ms:.2f} ms, wait {wait * ms:.2f} ms "
                  f"(medians); one bare all_reduce of all gradients "
                  f"{np.median(reps) * ms:.2f} ms", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
