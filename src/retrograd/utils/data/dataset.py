"""Datasets: anything indexable by an integer, plus the ones built from tensors and splits."""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Sequence

import numpy as np

from ...tensor import Tensor, _wrap
from ._random import numpy_generator

__all__ = ["ConcatDataset", "Dataset", "IterableDataset", "Subset", "TensorDataset",
           "random_split"]


class Dataset:
    """A map-style dataset: ``dataset[i]`` is the i-th sample and ``len(dataset)`` the count.

    Subclasses implement ``__getitem__`` (and ``__len__``, which samplers need).
    """

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: subclasses implement ``__iter__`` instead of indexing."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        raise TypeError("IterableDatasets cannot be concatenated with +")


class TensorDataset(Dataset):
    """Samples are the rows of tensors: ``dataset[i] == (t[i] for t in tensors)``.

    All tensors need the same size in dimension 0.
    """

    def __init__(self, *tensors: Tensor) -> None:
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset takes tensors, got {type(t).__name__}")
        if tensors and any(t.ndim == 0 for t in tensors):
            raise ValueError("TensorDataset needs tensors with at least one dimension (the "
                             "samples); got a 0-d tensor")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) > 1:
            raise ValueError(
                f"Size mismatch between tensors: their sizes in dimension 0 are {sizes}, but "
                "every tensor must hold one row per sample.")
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0] if self.tensors else 0

    def _get_batch(self, indices: np.ndarray) -> list[Tensor] | None:
        """The collated batch for an index array in one gather per tensor (the DataLoader's fast
        path); None when the rows must go through the graph because a tensor requires grad."""
        if any(t._requires_grad for t in self.tensors):
            return None
        return [_wrap(t._data[indices]) for t in self.tensors]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        self._cache = None  # (indices object, its index array) for the batch fast path

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list:
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is not None:
            return getitems([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def _get_batch(self, indices: np.ndarray):
        inner = getattr(self.dataset, "_get_batch", None)
        if inner is None:
            return None
        if self._cache is None or self._cache[0] is not self.indices:
            self._cache = (self.indices, np.asarray(self.indices, dtype=np.int64))
        return inner(self._cache[1][indices])


class ConcatDataset(Dataset):
    """Several datasets one after another."""

    def __init__(self, datasets) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][idx - start]


def random_split(dataset: Dataset, lengths: Sequence[int | float], generator=None) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping subsets of the given lengths.

    ``lengths`` may be fractions summing to 1: each gets ``floor(fraction * len)`` samples
    and the remainder is dealt out one by one from the first split on. Pass ``generator``
    for a split that does not depend on the global seed.
    """
    n = len(dataset)
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(math.floor(n * frac))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty "
                              "dataset.", UserWarning, stacklevel=2)
        lengths = counts
    if any(int(x) != x or x < 0 for x in lengths):
        raise ValueError(f"lengths must be non-negative integers or fractions summing to 1, got "
                         f"{list(lengths)}")
    if sum(lengths) != n:
        raise ValueError(
            f"Sum of input lengths does not equal the length of the input dataset! (lengths sum "
            f"to {sum(lengths)}, the dataset has {n} samples)")
    order = numpy_generator(generator).permutation(n).tolist()
    splits, offset = [], 0
    for length in lengths:
        length = int(length)
        splits.append(Subset(dataset, order[offset:offset + length]))
        offset += length
    return splits
