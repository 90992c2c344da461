"""DataLoader: iterate over a dataset in (shuffled) batches, collated into tensors.

Note [The batch fast path]
    PyTorch's loader fetches each sample of a batch with ``dataset[i]`` and stacks them. For a
    ``TensorDataset`` (or a ``Subset`` of one) with the default collate function that is one
    gather per tensor: ``t[indices]``. The loader takes that path when it can; the result is
    the same list of stacked tensors ``default_collate`` would build, only without a Python call
    per sample. Any other dataset, sampler or collate function goes the general way.
"""

from __future__ import annotations

import collections.abc as abc
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ...ops.join import stack
from ...tensor import Tensor, _wrap
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert"]


def default_collate(batch: list):
    """Merge a list of samples into a batch: tensors, arrays and numbers are stacked into one
    tensor with a new first dimension; dicts, tuples and lists are collated field by field."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        shapes = {t.shape for t in batch}
        if len(shapes) > 1:
            first = list(elem.shape)
            bad = next(i for i, t in enumerate(batch) if t.shape != elem.shape)
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {first} at entry 0 and "
                f"{list(batch[bad].shape)} at entry {bad}; pad the samples or write a "
                "collate_fn.")
        if any(t._requires_grad for t in batch):
            return stack(batch, 0)
        return _wrap(np.stack([t._data for t in batch]))
    if isinstance(elem, np.ndarray) and elem.dtype.kind not in "USO":
        return _wrap(np.stack(batch))
    if isinstance(elem, np.generic) and elem.dtype.kind not in "USO":
        return _wrap(np.array(batch))
    if isinstance(elem, bool):
        return _wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, float):
        return _wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        return _wrap(np.array(batch, dtype=np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return columns  # PyTorch returns a list for tuples too
        try:
            return type(elem)(columns)
        except TypeError:
            return columns
    raise TypeError(
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(elem).__name__}. Pass a collate_fn that knows how to batch it.")


def default_convert(data):
    """What the loader does to samples when it does not batch: arrays become tensors."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "USO":
        return _wrap(data)
    if isinstance(data, abc.Mapping):
        return type(data)({k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return type(data)(default_convert(d) for d in data)
    return data


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples.

    ``shuffle`` visits the samples in a fresh random order every epoch (drawn from
    ``generator``, or from the global generator that ``retrograd.manual_seed`` seeds);
    ``drop_last`` skips a final incomplete batch; ``collate_fn`` merges a list of samples
    into a batch (``default_collate``: stacked tensors). ``num_workers``, ``pin_memory`` and
    the other multiprocessing options are accepted and ignored: loading runs in this process.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | None = None, batch_sampler=None, num_workers: int = 0,
                 collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        iterable = isinstance(dataset, IterableDataset)
        if not iterable and hasattr(dataset, "__len__") and len(dataset) == 0:
            raise ValueError(
                "DataLoader got an empty dataset (len(dataset) == 0): there is nothing to "
                "iterate over; check how the dataset was built or split.")
        if iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 "and batch_sampler options")
        elif sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        elif batch_size is not None and (isinstance(batch_size, bool) or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.generator = generator
        self._auto_collation = batch_sampler is not None
        if collate_fn is None:
            collate_fn = default_collate if batch_size is not None or batch_sampler is not None \
                else default_convert
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self) -> Iterator:
        if isinstance(self.dataset, IterableDataset):
            return self._iter_stream()
        if not self._auto_collation:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        fast = self._fast_batches()
        if fast is not None:
            return fast
        return self._iter_batches()

    def _iter_batches(self) -> Iterator:
        getitems = getattr(self.dataset, "__getitems__", None)
        for indices in self.batch_sampler:
            if getitems is not None:
                samples = getitems(indices)
            else:
                samples = [self.dataset[i] for i in indices]
            yield self.collate_fn(samples)

    def _fast_batches(self) -> Iterator | None:
        """Batches by one gather per tensor (see Note [The batch fast path]), or None."""
        bs = self.batch_sampler
        if (self.collate_fn is not default_collate or type(bs) is not BatchSampler
                or not hasattr(self.dataset, "_get_batch")):
            return None
        order = bs.sampler._index_array() if isinstance(bs.sampler, Sampler) else None
        if order is None or self.dataset._get_batch(order[:0]) is None:
            return None
        return self._gather(order, bs.batch_size, bs.drop_last)

    def _gather(self, order: np.ndarray, size: int, drop_last: bool) -> Iterator:
        n = len(order)
        stop = n - n % size if drop_last else n
        get = self.dataset._get_batch
        for start in range(0, stop, size):
            yield get(order[start:start + size])

    def _iter_stream(self) -> Iterator:
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)
