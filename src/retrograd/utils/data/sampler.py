"""Samplers: the order in which a DataLoader visits a dataset's indices."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from ._random import numpy_generator

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler"]


class Sampler:
    """Base class: iterating yields dataset indices (or lists of them, for batch samplers)."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError

    def _index_array(self) -> np.ndarray | None:
        """All indices of one pass as an array (for the DataLoader's fast path), or None."""
        return None


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)

    def _index_array(self) -> np.ndarray:
        return np.arange(len(self.data_source))


_EAGER_MAX = 1 << 22  # up to this many indices per pass, RandomSampler draws them all at once
_CHUNK = 1 << 14  # beyond, it draws this many at a time


class RandomSampler(Sampler):
    """A fresh random order every pass; with ``replacement``, ``num_samples`` random draws.

    Without replacement, a ``num_samples`` larger than the dataset chains several
    permutations.
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator=None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got "
                f"num_samples={self.num_samples} (is the dataset empty?)")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[int]:
        if self.num_samples > _EAGER_MAX:
            return self._draw_lazily()
        return iter(self._index_array().tolist())

    def _draw_lazily(self) -> Iterator[int]:
        """Many samples (``num_samples=10**10``): drawn a chunk at a time as they are used,
        so memory stays small and the first index comes at once (as PyTorch draws them)."""
        rng = numpy_generator(self.generator)
        n, k = len(self.data_source), self.num_samples
        if self.replacement:
            for start in range(0, k, _CHUNK):
                yield from rng.integers(0, n, size=min(_CHUNK, k - start)).tolist()
            return
        for _ in range(k // n):
            yield from rng.permutation(n).tolist()
        if k % n:
            yield from rng.permutation(n)[:k % n].tolist()

    def _index_array(self) -> np.ndarray | None:
        """All the indices of one pass at once (None when there are too many for that)."""
        if self.num_samples > _EAGER_MAX:
            return None
        rng = numpy_generator(self.generator)
        n, k = len(self.data_source), self.num_samples
        if self.replacement:
            return rng.integers(0, n, size=k)
        parts = [rng.permutation(n) for _ in range(k // n)]
        if k % n:
            parts.append(rng.permutation(n)[:k % n])
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


class SubsetRandomSampler(Sampler):
    """The given indices, in a fresh random order every pass."""

    def __init__(self, indices: Sequence[int], generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self) -> Iterator[int]:
        return iter(self._index_array().tolist())

    def _index_array(self) -> np.ndarray:
        order = numpy_generator(self.generator).permutation(len(self.indices))
        return np.asarray(self.indices, dtype=np.int64)[order]


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``)."""

    def __init__(self, sampler, batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
