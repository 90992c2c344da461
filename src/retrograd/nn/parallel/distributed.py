"""DistributedDataParallel: one model replica per process, gradients averaged during backward.

Note [Gradient buckets]
    Parameters are grouped, in reverse registration order (roughly the order backward produces
    their gradients), into buckets of about ``bucket_cap_mb`` (the first one at most 1 MiB, so
    communication starts early). A post hook on each parameter's ``AccumulateGrad`` node counts
    the bucket's gradients in; when a bucket is full its gradients are copied into one flat
    array (divided by the world size on the way) and all-reduced with a non-blocking MPI
    request while backward goes on with the earlier layers. Buckets are started strictly in
    index order on every rank, as MPI requires of collectives. MPI moves the data of a
    non-blocking collective only while some MPI call runs, so each later hook tests the
    requests in flight. The first hook of a backward queues a final callback on the engine
    (``queue_callback``, Note [Final callbacks] in autograd/engine.py) that starts any bucket
    still waiting, waits for all of them (with the group's timeout) and copies the averages
    back into ``.grad``.

Note [Unused parameters]
    A parameter that gets no gradient in a backward would hold its bucket back forever. With
    ``find_unused_parameters=True`` the final callback reduces such buckets anyway (with the
    parameter's ``.grad`` as it stands, zeros if None), and all-reduces a flag per parameter
    saying which ranks used it (in this backward or in the ``no_sync`` ones before it); a
    parameter no rank used keeps its ``.grad`` as it was. Without it, the final callback
    raises, naming the parameters.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

from ... import grad_mode
from ...autograd.engine import queue_callback
from ...tensor import _wrap
from ..module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024


class _Bucket:
    __slots__ = ("index", "params", "buffer", "pending", "reqs", "record", "peers")

    def __init__(self, index: int, params: list, dtype) -> None:
        self.index = index
        self.params = params  # [(parameter index, offset, numel)]
        total = sum(n for _, _, n in params)
        self.buffer = np.zeros(total, dtype)
        self.pending = len(params)
        self.reqs = None  # MPI requests while the bucket is being reduced
        self.record = None  # the arrival records (Note [Collectives that cannot hang])
        self.peers = ()  # the other ranks, in the order of the first requests (their records)


class DistributedDataParallel(Module):
    """Wrap ``module`` so that ``backward`` averages its gradients across all ranks.

    Rank 0's parameters and buffers are copied to every rank at construction (and buffers at
    every forward, with ``broadcast_buffers``). ``no_sync()`` skips the averaging, for gradient
    accumulation. The wrapped model is ``.module``; its ``state_dict()`` is unchanged.
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False, **kwargs) -> None:
        super().__init__()
        from ...distributed.collectives import _group_of

        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 2**20)
        g = self._pg = _group_of(process_group)
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have "
                               "any parameter that requires a gradient.")
        self._names = [n for n, _ in named]
        self._params = [p for _, p in named]
        self._check_same_model(g)
        self._sync_states([*self._params, *(b for _, b in module.named_buffers())])
        self._build_buckets(g)
        self._hooks = [p.register_post_accumulate_grad_hook(self._make_hook(i))
                       for i, p in enumerate(self._params)]
        self._armed = False
        self._queued = False
        self._inflight: list = []  # requests of the buckets being reduced
        self._next_bucket = 0
        self._used = np.zeros(len(self._params), np.int32)
        self._used_unsynced = np.zeros(len(self._params), np.int32)
        # Seconds and bytes spent communicating gradients (for measuring, not PyTorch's API).
        self._comm_stats = {"backwards": 0, "bytes": 0, "launch_s": 0.0, "wait_s": 0.0,
                            "copy_s": 0.0}

    # ---- construction ---------------------------------------------------------------------

    def _check_same_model(self, g) -> None:
        from ... import distributed as dist

        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in zip(self._names, self._params)]
        everyone = [None] * g.size
        dist.all_gather_object(everyone, mine)
        for r, theirs in enumerate(everyone):
            if theirs == mine:
                continue
            if len(theirs) != len(mine):
                raise RuntimeError(
                    f"DistributedDataParallel: rank {r} has {len(theirs)} parameters that "
                    f"require grad, rank {g.rank} has {len(mine)}; every rank must wrap the "
                    "same model.")
            first = next(i for i, (a, b) in enumerate(zip(theirs, mine)) if a != b)
            raise RuntimeError(
                f"DistributedDataParallel: parameter {first} is {theirs[first]} on rank {r} but "
                f"{mine[first]} on rank {g.rank}; every rank must wrap the same model.")

    def _sync_states(self, tensors: list) -> None:
        """Copy rank 0's values of ``tensors`` to every rank, one broadcast per dtype."""
        from ... import distributed as dist

        if self._pg.size == 1 or not tensors:
            return
        by_dtype: dict = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        for dtype, group in by_dtype.items():
            flat = np.concatenate([t._data.reshape(-1) for t in group]).astype(dtype, copy=False)
            dist.broadcast(_wrap(flat), src=0)
            offset = 0
            for t in group:
                n = t._data.size
                t._data[...] = flat[offset:offset + n].reshape(t._data.shape)
                t._bump_version()
                offset += n

    def _build_buckets(self, g) -> None:
        """Note [Gradient buckets]."""
        self._buckets: list = []
        self._bucket_of = [0] * len(self._params)
        current: list = []
        size = offset = 0
        dtype = None
        cap = min(_FIRST_BUCKET_BYTES, self.bucket_bytes_cap)
        for i in reversed(range(len(self._params))):
            a = self._params[i]._data
            if current and (a.dtype != dtype or size + a.nbytes > cap):
                self._buckets.append(_Bucket(len(self._buckets), current, dtype))
                current, size, offset, cap = [], 0, 0, self.bucket_bytes_cap
            dtype = a.dtype
            current.append((i, offset, a.size))
            self._bucket_of[i] = len(self._buckets)
            size += a.nbytes
            offset += a.size
        self._buckets.append(_Bucket(len(self._buckets), current, dtype))

    # ---- forward --------------------------------------------------------------------------

    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers:
            buffers = [b for _, b in self.module.named_buffers()]
            if buffers:
                self._sync_states(buffers)
        self._armed = (grad_mode.is_grad_enabled() and self.require_backward_grad_sync
                       and self._pg.size > 1)  # a group of one has nothing to average
        if self._armed:
            self._queued = False
            self._inflight = []
            self._next_bucket = 0
            self._used[:] = 0
            for b in self._buckets:
                b.pending = len(b.params)
                b.reqs = None
        return self.module(*inputs, **kwargs)

    @contextmanager
    def no_sync(self):
        """Inside, backward only accumulates local gradients; the next synced one averages."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # ---- backward (Note [Gradient buckets]) -------------------------------------------------

    def _make_hook(self, i: int):
        def hook(_variable) -> None:
            if self._armed:
                self._grad_ready(i)
            else:  # inside no_sync: remember the use for the next synced backward
                self._used_unsynced[i] = 1
        return hook

    def _grad_ready(self, i: int) -> None:
        if not self._queued:
            queue_callback(self._finish)
            self._queued = True
        if self._used[i]:
            return
        self._used[i] = 1
        if self._inflight:  # MPI progresses non-blocking collectives only inside MPI calls
            from mpi4py import MPI

            MPI.Request.Testall(self._inflight)
        bucket = self._buckets[self._bucket_of[i]]
        bucket.pending -= 1
        while (self._next_bucket < len(self._buckets)
               and self._buckets[self._next_bucket].pending == 0):
            self._launch(self._buckets[self._next_bucket])
            self._next_bucket += 1

    def _launch(self, bucket: _Bucket) -> None:
        t0 = time.perf_counter()
        buf = bucket.buffer
        g = self._pg
        for i, offset, n in bucket.params:  # copy in, divided by the world size, in one pass
            grad = self._params[i]._grad
            if grad is None:
                buf[offset:offset + n] = 0
            else:
                np.divide(grad._data.reshape(-1), g.size, out=buf[offset:offset + n],
                          casting="unsafe")
        t1 = time.perf_counter()
        if g.size > 1:
            from mpi4py import MPI

            record = g.record("DDP gradient all_reduce", buf)
            bucket.record, reqs, bucket.peers = g.post_arrival(record)
            bucket.reqs = reqs + [g.comm.Iallreduce(MPI.IN_PLACE, buf, op=MPI.SUM)]
            self._inflight += bucket.reqs
        else:
            bucket.reqs = []
        stats = self._comm_stats
        stats["copy_s"] += t1 - t0
        stats["launch_s"] += time.perf_counter() - t1
        stats["bytes"] += buf.nbytes

    def _finish(self) -> None:
        """The final callback: reduce what is left, wait, write the averages into ``.grad``."""
        self._armed = False
        missing = [i for i in range(len(self._params)) if not self._used[i]]
        if missing and not self.find_unused_parameters:
            names = ", ".join(self._names[i] for i in missing[:10])
            raise RuntimeError(
                f"DistributedDataParallel: {len(missing)} parameter(s) received no gradient in "
                f"this backward ({names}), so their gradients cannot be averaged. Pass "
                "find_unused_parameters=True to DistributedDataParallel, or make every "
                "parameter take part in computing the loss.")
        while self._next_bucket < len(self._buckets):  # Note [Unused parameters]
            self._launch(self._buckets[self._next_bucket])
            self._next_bucket += 1
        g = self._pg
        used = self._used
        t0 = time.perf_counter()
        if self.find_unused_parameters and g.size > 1:
            from ...distributed.collectives import ReduceOp, all_reduce

            flags = _wrap(np.maximum(used, self._used_unsynced))
            all_reduce(flags, op=ReduceOp.MAX)
            used = flags._data
        self._used_unsynced[:] = 0
        for bucket in self._buckets:
            if bucket.reqs:
                g.wait(bucket.reqs, "DDP gradient all_reduce", pending_ranks=lambda b=bucket: [
                    p for p, q in zip(b.peers, b.reqs) if not q.Test()],
                    number=int(bucket.record[g.rank][0]))
                g.check_arrival(bucket.record, "DDP gradient all_reduce")
        t1 = time.perf_counter()
        for bucket in self._buckets:
            buf = bucket.buffer
            for i, offset, n in bucket.params:
                if self.find_unused_parameters and not used[i]:
                    continue
                p = self._params[i]
                avg = buf[offset:offset + n].reshape(p._data.shape)
                if p._grad is None:
                    p._grad = _wrap(avg.copy())
                else:
                    p._grad._data[...] = avg
        stats = self._comm_stats
        stats["wait_s"] += t1 - t0
        stats["copy_s"] += time.perf_counter() - t1
        stats["backwards"] += 1
