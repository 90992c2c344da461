"""Train the digits MLP on several processes with DistributedDataParallel (MPI).

Each process holds a replica of the model and trains on its own share of every batch (a
``DistributedSampler`` splits the data); gradients are averaged across processes during
backward, so all replicas stay equal. Rank 0 prints progress and saves the model.

    python -m retrograd.distributed.run -n 2 examples/train_ddp_digits.py
    mpiexec -n 2 python examples/train_ddp_digits.py --epochs 10
    mpiexec -n 8 --host node1:4,node2:4 python examples/train_ddp_digits.py   # two machines

Run as a plain ``python examples/train_ddp_digits.py`` it trains on one process. Needs
``pip install 'retrograd[distributed]'`` (mpi4py and Open MPI).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import retrograd as torch
import retrograd.distributed as dist
from retrograd import nn
from retrograd.nn.parallel import DistributedDataParallel as DDP
from retrograd.utils.data import DataLoader, DistributedSampler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_mlp_digits import digit_splits, evaluate, make_mlp  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64,
                        help="global batch size, split evenly between the processes")
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", default="ddp_digits.pt", help="where rank 0 saves the model")
    args = parser.parse_args()

    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    train_set, test_set = digit_splits(args.seed)  # the same split on every rank (seeded)
    sampler = DistributedSampler(train_set, shuffle=True, seed=args.seed)
    loader = DataLoader(train_set, batch_size=max(1, args.batch_size // world), sampler=sampler)

    torch.manual_seed(args.seed + rank)  # replicas start different; DDP copies rank 0's values
    model = DDP(make_mlp(args.hidden))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    if rank == 0:
        print(f"training on {world} process(es), {len(loader)} steps of "
              f"{loader.batch_size} images per process per epoch")

    start = time.perf_counter()
    steps = 0
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        total = torch.zeros(2)  # summed loss and batch count on this rank
        for images, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()  # gradients are averaged across ranks here
            optimizer.step()
            total += torch.tensor([loss.item(), 1.0])
            steps += 1
        scheduler.step()
        dist.all_reduce(total)  # the mean loss over every rank's batches
        if rank == 0:
            accuracy = evaluate(model.module, DataLoader(test_set, batch_size=512))
            print(f"epoch {epoch + 1:2d}/{args.epochs}  loss {(total[0] / total[1]).item():.4f}"
                  f"  test accuracy {accuracy:.2%}", flush=True)

    seconds = time.perf_counter() - start
    if rank == 0:
        stats = model._comm_stats
        print(f"{seconds:.1f} s, {1000 * seconds / max(steps, 1):.2f} ms per step; gradient "
              f"communication: {1000 * stats['wait_s'] / max(steps, 1):.2f} ms waiting, "
              f"{1000 * (stats['launch_s'] + stats['copy_s']) / max(steps, 1):.2f} ms "
              "starting and copying, per step")
        if args.save:
            torch.save(model.module.state_dict(), args.save)  # only rank 0 writes
            print(f"model saved to {args.save}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
