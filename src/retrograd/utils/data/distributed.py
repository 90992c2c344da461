"""DistributedSampler: each rank visits its own share of a dataset's indices.

Every rank shuffles with the same seed (``seed + epoch``), so the ranks agree on one order,
pads it by repeating its start until its length divides by the number of replicas (or drops
the tail, with ``drop_last``), and takes every ``num_replicas``-th index from ``rank`` on.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _permutation(n: int, seed: int) -> list:
    """A permutation of range(n) that depends only on ``seed`` (the same on every rank)."""
    from ...creation import Generator, randperm

    return randperm(n, generator=Generator().manual_seed(seed)).tolist()


class DistributedSampler(Sampler):
    """Restrict data loading to this rank's share; call ``set_epoch(e)`` before each epoch so
    that the order changes from one epoch to the next."""

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from ... import distributed as dist

            if not dist.is_initialized():
                raise RuntimeError("Requires distributed package to be available (call "
                                   "retrograd.distributed.init_process_group() first, or pass "
                                   "num_replicas and rank).")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def _index_array(self) -> np.ndarray:
        n = len(self.dataset)
        indices = _permutation(n, self.seed + self.epoch) if self.shuffle else list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad <= len(indices):
                indices += indices[:pad]
            else:
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[:self.total_size]
        return np.asarray(indices[self.rank:self.total_size:self.num_replicas], np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self._index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Shuffle differently in each epoch (the same way on every rank)."""
        self.epoch = epoch
