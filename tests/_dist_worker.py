"""Run by tests/test_distributed.py under ``mpiexec -n 2``: one scenario per job.

    python tests/_dist_worker.py checks OUT_DIR   # every check; rank r writes OUT_DIR/rank{r}.json,
                                                  # then rank 1 raises while rank 0 waits
    python tests/_dist_worker.py hang             # rank 1 sleeps; rank 0 times out in all_reduce
"""

from __future__ import annotations

import datetime
import json
import sys
import time
import traceback

import numpy as np

import retrograd as torch
import retrograd.distributed as dist
from retrograd import nn
from retrograd.nn.parallel import DistributedDataParallel as DDP

results: dict = {}


def check(name):
    """Run ``fn`` and record "ok" or the failure (so one failing check does not hide others)."""
    def deco(fn):
        try:
            fn()
            results[name] = "ok"
        except Exception:
            results[name] = traceback.format_exc()
        return fn
    return deco


def close(a, b, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                               rtol=1e-5, atol=atol)


def checks(out_dir: str) -> None:
    dist.init_process_group(timeout=datetime.timedelta(seconds=20))
    rank, world = dist.get_rank(), dist.get_world_size()
    mine = np.random.default_rng(rank).standard_normal((3, 4)).astype(np.float32)
    gathered = [None] * world
    dist.all_gather_object(gathered, mine)  # everyone's data, to compute expected values
    stack = np.stack(gathered)

    @check("all_reduce")
    def _():
        for op, ref in [(dist.ReduceOp.SUM, stack.sum(0)), (dist.ReduceOp.MAX, stack.max(0)),
                        (dist.ReduceOp.MIN, stack.min(0)), (dist.ReduceOp.PRODUCT, stack.prod(0)),
                        (dist.ReduceOp.AVG, stack.mean(0))]:
            t = torch.tensor(mine)
            v = t._version
            assert dist.all_reduce(t, op=op) is None
            close(t.numpy(), ref)
            assert t._version > v
        t = torch.tensor(mine).t()  # not contiguous: written back through the view
        dist.all_reduce(t)
        close(t.numpy(), stack.sum(0).T)
        ti = torch.tensor([rank + 1, 10 * rank], dtype=torch.int64)
        dist.all_reduce(ti)
        assert ti.tolist() == [sum(range(1, world + 1)), 10 * sum(range(world))]
        work = dist.all_reduce(t, async_op=True)
        work.wait()
        assert work.is_completed()
        close(t.numpy(), world * stack.sum(0).T)

    @check("broadcast_reduce")
    def _():
        for src in range(world):
            t = torch.tensor(mine)
            dist.broadcast(t, src=src)
            close(t.numpy(), stack[src])
        t = torch.tensor(mine)
        dist.reduce(t, dst=world - 1, op=dist.ReduceOp.SUM)
        close(t.numpy(), stack.sum(0) if rank == world - 1 else mine)

    @check("all_gather")
    def _():
        out = [torch.zeros(3, 4) for _ in range(world)]
        dist.all_gather(out, torch.tensor(mine))
        close(np.stack([o.numpy() for o in out]), stack)
        big = torch.zeros(3 * world, 4)
        dist.all_gather_into_tensor(big, torch.tensor(mine))
        close(big.numpy(), stack.reshape(-1, 4))
        objs = [None] * world
        dist.all_gather_object(objs, {"rank": rank, "text": "x" * rank})
        assert objs == [{"rank": r, "text": "x" * r} for r in range(world)]
        lst = [rank, f"from {rank}"]
        dist.broadcast_object_list(lst, src=world - 1)
        assert lst == [world - 1, f"from {world - 1}"]
        dist.barrier()

    @check("reduce_scatter")
    def _():
        chunks = stack[:, :world * (3 // world) or 1]  # (world, k, 4): rank r sends chunks[r]
        parts = [torch.tensor(np.ascontiguousarray(chunks[rank] + i)) for i in range(world)]
        out = torch.zeros(*parts[0].shape)
        dist.reduce_scatter(out, parts)
        close(out.numpy(), sum(chunks[r] + rank for r in range(world)))
        whole = torch.tensor(np.concatenate([chunks[rank]] * world))
        out2 = torch.zeros(*chunks[0].shape)
        dist.reduce_scatter_tensor(out2, whole, op=dist.ReduceOp.MAX)
        close(out2.numpy(), chunks.max(0))

    @check("mismatch")
    def _():
        for i, call in enumerate([
                lambda: dist.all_reduce(torch.zeros(3 + rank)),          # shapes differ
                lambda: dist.all_reduce(torch.zeros(3, dtype=torch.float64 if rank else None)),
                lambda: (dist.broadcast if rank == 0 else dist.all_reduce)(torch.zeros(3)),
                lambda: dist.broadcast(torch.zeros(2), src=rank)]):    # roots differ
            try:
                call()
            except RuntimeError as e:
                other = 1 - rank
                assert f"rank {other}" in str(e), str(e)
            else:
                raise AssertionError(f"mismatch {i} did not raise")
        t = torch.tensor(mine)
        dist.all_reduce(t)  # the group is still usable after a mismatch
        close(t.numpy(), stack.sum(0))

    # ---- DistributedDataParallel ---------------------------------------------------------
    def make_model(seed):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(),
                             nn.Linear(16, 3))

    g = np.random.default_rng(123)
    xs = torch.tensor(g.standard_normal((20, 8 * world, 6)).astype(np.float32))
    ys = torch.tensor(g.integers(0, 3, (20, 8 * world)))
    mine_rows = slice(8 * rank, 8 * (rank + 1))
    loss_fn = nn.CrossEntropyLoss()

    @check("ddp_matches_single_process")
    def _():
        ddp = DDP(make_model(100 + rank), bucket_cap_mb=0.0005)  # several small buckets
        assert len(ddp._buckets) > 1
        ref = make_model(100)  # rank 0's initial values, broadcast at construction
        for p, q in zip(ddp.module.parameters(), ref.parameters()):
            close(p.detach().numpy(), q.detach().numpy(), atol=0)
        opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
        ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
        for step in range(20):
            opt.zero_grad()
            loss_fn(ddp(xs[step][mine_rows]), ys[step][mine_rows]).backward()
            opt.step()
            ref_opt.zero_grad()
            loss_fn(ref(xs[step]), ys[step]).backward()
            ref_opt.step()
        for p, q in zip(ddp.module.parameters(), ref.parameters()):
            close(p.detach().numpy(), q.detach().numpy(), atol=2e-6)
        keys = list(ddp.module.state_dict())
        assert keys == list(ref.state_dict()), keys
        assert list(ddp.state_dict()) == ["module." + k for k in keys]
        assert ddp._comm_stats["backwards"] == 20

    @check("no_sync")
    def _():
        ddp = DDP(make_model(7))
        ref = make_model(7)
        with ddp.no_sync():
            loss_fn(ddp(xs[0][mine_rows]), ys[0][mine_rows]).backward()
        local = [p.grad.numpy().copy() for p in ddp.parameters()]
        alone = make_model(7)  # rank 0's values: what this rank's replica holds now
        loss_fn(alone(xs[0][mine_rows]), ys[0][mine_rows]).backward()
        for a, b in zip(local, alone.parameters()):
            close(a, b.grad.numpy())  # not averaged inside no_sync
        loss_fn(ddp(xs[1][mine_rows]), ys[1][mine_rows]).backward()
        (loss_fn(ref(xs[0]), ys[0]) + loss_fn(ref(xs[1]), ys[1])).backward()
        for p, q in zip(ddp.parameters(), ref.parameters()):
            close(p.grad.numpy(), q.grad.numpy())

    @check("find_unused_parameters")
    def _():
        class Branches(nn.Module):
            def __init__(self):
                super().__init__()
                self.a, self.b, self.c = nn.Linear(4, 1), nn.Linear(4, 1), nn.Linear(4, 1)

            def forward(self, x, use_b):
                return self.a(x) + self.b(x) if use_b else self.a(x)

        torch.manual_seed(0)
        model = Branches()
        ddp = DDP(model, find_unused_parameters=True)
        x = torch.ones(2, 4) * (rank + 1)
        ddp(x, use_b=rank == 1).sum().backward()
        assert model.c.weight.grad is None
        expected_b = np.full((1, 4), 2.0 * 2 / world)  # rank 1's gradient, averaged with zeros
        close(model.b.weight.grad.numpy(), expected_b)
        close(model.a.weight.grad.numpy(), np.full((1, 4), sum(2.0 * (r + 1)
                                                                for r in range(world)) / world))
        torch.manual_seed(0)
        model2 = Branches()
        ddp2 = DDP(model2, find_unused_parameters=True)
        with ddp2.no_sync():  # b is used only here: its accumulated gradient is still averaged
            ddp2(x, use_b=True).sum().backward()
        ddp2(x, use_b=False).sum().backward()
        mean = sum(2.0 * (r + 1) for r in range(world)) / world
        close(model2.b.weight.grad.numpy(), np.full((1, 4), mean))
        close(model2.a.weight.grad.numpy(), np.full((1, 4), 2 * mean))
        assert model2.c.weight.grad is None
        strict = DDP(Branches())
        try:
            strict(x, use_b=False).sum().backward()
        except RuntimeError as e:
            assert "find_unused_parameters=True" in str(e) and "b.weight" in str(e), str(e)
        else:
            raise AssertionError("unused parameters without find_unused_parameters: no error")

    with open(f"{out_dir}/rank{rank}.json", "w") as f:
        json.dump(results, f)
    # Last, a rank that raises: the job must end now, not when rank 0's all_reduce times out.
    dist.barrier()
    if rank == 1:
        raise ValueError("this rank fails on purpose")
    dist.all_reduce(torch.ones(3))


def hang() -> None:
    dist.init_process_group(timeout=datetime.timedelta(seconds=1))
    dist.barrier()
    if dist.get_rank() == 1:
        time.sleep(120)
    dist.all_reduce(torch.ones(3))


if __name__ == "__main__":
    scenario = sys.argv[1]
    if scenario == "checks":
        checks(sys.argv[2])
    else:
        hang()
