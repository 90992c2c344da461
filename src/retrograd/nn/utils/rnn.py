"""Batches of sequences of different lengths: ``pad_sequence``, and ``PackedSequence`` with
``pack_padded_sequence`` / ``pad_packed_sequence`` / ``pack_sequence``.

A packed sequence stores, time step after time step, the entries of the sequences still
running at that step (longest sequences first): ``data`` (sum of lengths, *), and
``batch_sizes[t]`` how many sequences have a step t. Packing and padding are made of
differentiable ops (index_select, slicing, cat, stack), so gradients flow through both.
RNN, LSTM and GRU take a PackedSequence (``nn/_rnn_packed.py``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ... import creation
from ...ops.join import cat, stack
from ...tensor import Tensor, _wrap

__all__ = ["PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence",
           "pad_sequence", "unpack_sequence", "unpad_sequence"]


class PackedSequence(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs) -> PackedSequence:
        """``data`` converted by ``Tensor.to``; the indices stay as they are."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._replace(data=data)

    def cpu(self) -> PackedSequence:
        return self

    def double(self) -> PackedSequence:
        return self._replace(data=self.data.double())

    def float(self) -> PackedSequence:  # noqa: A003
        return self._replace(data=self.data.float())

    def half(self) -> PackedSequence:
        return self._replace(data=self.data.half())

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False


def _pad_to(x: Tensor, length: int, value: float, left: bool = False) -> Tensor:
    """``x`` (L, *) padded with ``value`` to (length, *) at the end (or the start)."""
    missing = length - x.shape[0]
    if missing == 0:
        return x
    fill = creation.full((missing,) + tuple(x.shape[1:]), value, dtype=x.dtype)
    return cat([fill, x] if left else [x, fill])


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shapes (L_i, *) into (L_max, B, *) (or (B, L_max, *)), padding the
    shorter ones with ``padding_value`` on the right (or the left)."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    length = max(s.shape[0] for s in sequences)
    padded = [_pad_to(s, length, padding_value, padding_side == "left") for s in sequences]
    return stack(padded, 0 if batch_first else 1)


def _lengths_array(lengths) -> np.ndarray:
    arr = lengths._data if isinstance(lengths, Tensor) else np.asarray(lengths)
    return np.asarray(arr, dtype=np.int64).reshape(-1)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,  # noqa: A002
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *)) whose sequences have ``lengths``."""
    n = _lengths_array(lengths)
    if enforce_sorted:
        if (np.diff(n) > 0).any():
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
        sorted_idx = unsorted_idx = None
        order = np.arange(len(n))
    else:
        order = np.argsort(-n, kind="stable")
        sorted_idx = _wrap(order.astype(np.int64))
        unsorted_idx = _wrap(np.argsort(order).astype(np.int64))
        input = input.index_select(0 if batch_first else 1, sorted_idx)  # noqa: A001
    if batch_first:
        input = input.transpose(0, 1)  # noqa: A001
    n_sorted = n[order]
    if len(n_sorted) and n_sorted[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    steps = int(n_sorted[0]) if len(n_sorted) else 0
    if steps > input.shape[0]:
        raise RuntimeError(f"the longest length ({steps}) exceeds the padded length "
                           f"({input.shape[0]})")
    batch_sizes = np.array([(n_sorted > t).sum() for t in range(steps)], dtype=np.int64)
    data = cat([input[t, :int(b)] for t, b in enumerate(batch_sizes)])
    return PackedSequence(data, _wrap(batch_sizes), sorted_idx, unsorted_idx)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None) -> tuple:
    """The inverse of ``pack_padded_sequence``: ``(padded, lengths)``."""
    data, batch_sizes = sequence.data, sequence.batch_sizes._data
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                f"Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{steps}")
        steps = total_length
    batch = int(batch_sizes[0]) if len(batch_sizes) else 0
    rows, start = [], 0
    for b in batch_sizes:
        rows.append(_pad_to(data[start:start + int(b)], batch, padding_value))
        start += int(b)
    tail = tuple(data.shape[1:])
    for _ in range(steps - len(batch_sizes)):
        rows.append(creation.full((batch,) + tail, padding_value, dtype=data.dtype))
    padded = stack(rows, 0)  # (T, B, *)
    lengths = np.array([(batch_sizes > i).sum() for i in range(batch)], dtype=np.int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices._data]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, _wrap(lengths)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors (L_i, *) (longest first unless ``enforce_sorted=False``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of tensors (L_i, *) that ``pack_sequence`` packed, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """The list of tensors (L_i, *) that ``pad_sequence`` padded to (L_max, B, *)."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(_lengths_array(lengths))]
