"""RNN, LSTM and GRU over a ``PackedSequence``: each sequence runs for its own length.

Note [Packed sequences by length groups]
    In a packed batch (sorted longest first) the sequences of one length form a contiguous
    group. Each group runs through the layer's ordinary loop (``RNNBase._run``) on its padded
    steps cut to that length, so a forward direction stops at the sequence's last step (its
    final state is ``h_n``) and a reverse direction starts there, exactly as PyTorch runs
    packed input. The groups' outputs, padded back to the longest length, are packed again
    with the batch sizes of the input. It costs one loop per distinct length (all of them
    over at most the longest length), and the core loop stays the one every input takes.
    The initial state is given in the caller's batch order, so it is permuted by
    ``sorted_indices``, and ``h_n`` (``c_n``) back by ``unsorted_indices``.
"""

from __future__ import annotations

import numpy as np

from ..ops.join import cat
from ..tensor import Tensor
from .utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence


def run_packed(module, packed: PackedSequence, hx):
    """``module(packed, hx)`` for an RNNBase: ``(PackedSequence, h_n)`` (LSTM: ``(h_n, c_n)``)."""
    name = module._get_name()
    lstm = module.mode == "LSTM"
    data, batch_sizes = packed.data, packed.batch_sizes
    if not isinstance(data, Tensor) or data._data.ndim != 2:
        raise ValueError(f"{name}: a PackedSequence's data must be 2-D (sum of lengths, "
                         f"input_size), got {getattr(data, 'shape', type(data).__name__)}")
    module._check_input(name, data)
    sizes = np.asarray(batch_sizes._data, dtype=np.int64)
    batch = int(sizes[0])
    states = module._unpack_hx(name, hx, True, lstm)
    layers = module.num_layers * (2 if module.bidirectional else 1)
    widths = [module.proj_size or module.hidden_size, module.hidden_size]
    for k, s in enumerate(states):
        if s is not None and tuple(s._data.shape) != (layers, batch, widths[k]):
            what = f"hidden[{k}]" if lstm else "hidden"
            raise RuntimeError(f"{name}: Expected {what} size {(layers, batch, widths[k])}, got "
                               f"{list(s._data.shape)}")
        if s is not None and s._data.dtype != data._data.dtype:
            raise RuntimeError(f"{name}: Input and hidden tensors are not the same dtype, found "
                               f"input tensor with {data.dtype} and hidden tensor with "
                               f"{s.dtype}")
    if packed.sorted_indices is not None:
        states = [s if s is None else s.index_select(1, packed.sorted_indices) for s in states]
    padded, _ = pad_packed_sequence(PackedSequence(data, batch_sizes))  # (T, B, *), sorted
    lengths = (sizes[None, :] > np.arange(batch)[:, None]).sum(1)  # per sorted sequence
    outs, hs, cs = [], [], []
    start = 0
    while start < batch:  # Note [Packed sequences by length groups]
        length = int(lengths[start])
        stop = start + int((lengths[start:] == length).sum())
        x = padded[:length, start:stop]
        if module.batch_first:
            x = x.transpose(0, 1)
        h0, c0 = (s if s is None else s[:, start:stop] for s in (states + [None])[:2])
        out, h_n, c_n = module._run(x, h0, c0 if lstm else None)
        if module.batch_first:
            out = out.transpose(0, 1)
        if length < padded._data.shape[0]:
            fill = out.new_zeros((padded._data.shape[0] - length,) + tuple(out.shape[1:]))
            out = cat([out, fill])
        outs.append(out)
        hs.append(h_n)
        cs.append(c_n)
        start = stop
    out = outs[0] if len(outs) == 1 else cat(outs, 1)
    h_n = hs[0] if len(hs) == 1 else cat(hs, 1)
    c_n = (cs[0] if len(cs) == 1 else cat(cs, 1)) if lstm else None
    result = PackedSequence(pack_padded_sequence(out, lengths).data, batch_sizes,
                            packed.sorted_indices, packed.unsorted_indices)
    if packed.unsorted_indices is not None:
        h_n = h_n.index_select(1, packed.unsorted_indices)
        c_n = c_n.index_select(1, packed.unsorted_indices) if lstm else None
    return (result, (h_n, c_n)) if lstm else (result, h_n)
