"""RNN / LSTM / GRU over a PackedSequence (Note [Packed sequences by length groups]), compared
with PyTorch on the same weights, gradients included; pack / pad / unpack helpers."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rg
from retrograd.nn.utils import rnn as rg_rnn

LENGTHS = [5, 3, 3, 1]


def _pair(torch, kind, **kw):
    rg.manual_seed(0)
    mine = getattr(rg.nn, kind)(3, 4, dtype=rg.float64, **kw)
    ref = getattr(torch.nn, kind)(3, 4, dtype=torch.float64, **kw)
    ref.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy())
                         for k, v in mine.state_dict().items()})
    return mine, ref


def _close(a, b, what=""):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy()
    assert a.shape == b.shape, what
    assert np.allclose(a, b, atol=1e-10), what


@pytest.mark.parametrize("kind,kw", [
    ("LSTM", {}), ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"proj_size": 2, "batch_first": True}), ("GRU", {"bidirectional": True}),
    ("RNN", {"num_layers": 2}), ("GRU", {"batch_first": True, "num_layers": 2}),
])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_matches_torch_with_gradients(torch_ref, kind, kw, enforce_sorted):
    torch = torch_ref
    mine, ref = _pair(torch, kind, **kw)
    lengths = LENGTHS if enforce_sorted else [3, 5, 1, 3]
    batch_first = kw.get("batch_first", False)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5, 3) if batch_first else (5, 4, 3))
    dirs = 2 if kw.get("bidirectional") else 1
    layers = kw.get("num_layers", 1) * dirs
    h0 = rng.standard_normal((layers, 4, kw.get("proj_size") or 4))
    c0 = rng.standard_normal((layers, 4, 4))
    xr = rg.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    hr, ht = rg.tensor(h0, requires_grad=True), torch.tensor(h0, requires_grad=True)
    cr, ct = rg.tensor(c0, requires_grad=True), torch.tensor(c0, requires_grad=True)
    pr = rg_rnn.pack_padded_sequence(xr, lengths, batch_first=batch_first,
                                     enforce_sorted=enforce_sorted)
    pt = torch.nn.utils.rnn.pack_padded_sequence(xt, lengths, batch_first=batch_first,
                                                 enforce_sorted=enforce_sorted)
    lstm = kind == "LSTM"
    out_r, st_r = mine(pr, (hr, cr) if lstm else hr)
    out_t, st_t = ref(pt, (ht, ct) if lstm else ht)
    assert isinstance(out_r, rg_rnn.PackedSequence)
    _close(out_r.data, out_t.data, "packed output")
    assert np.array_equal(out_r.batch_sizes.numpy(), out_t.batch_sizes.numpy())
    pad_r, len_r = rg_rnn.pad_packed_sequence(out_r, batch_first=batch_first)
    pad_t, len_t = torch.nn.utils.rnn.pad_packed_sequence(out_t, batch_first=batch_first)
    _close(pad_r, pad_t, "padded output")
    assert np.array_equal(len_r.numpy(), len_t.numpy())
    states_r = st_r if lstm else (st_r,)
    states_t = st_t if lstm else (st_t,)
    for a, b in zip(states_r, states_t):
        _close(a, b, "final state")
    w = rng.standard_normal(pad_t.shape)
    loss_r = (pad_r * rg.tensor(w)).sum() + sum((s * s).sum() for s in states_r)
    loss_t = (pad_t * torch.tensor(w)).sum() + sum((s * s).sum() for s in states_t)
    loss_r.backward()
    loss_t.backward()
    _close(xr.grad, xt.grad, "input grad")
    _close(hr.grad, ht.grad, "h0 grad")
    if lstm:
        _close(cr.grad, ct.grad, "c0 grad")
    for (name, p), (_, q) in zip(mine.named_parameters(), ref.named_parameters()):
        _close(p.grad, q.grad, name)


def test_packed_without_initial_state_and_pack_sequence(torch_ref):
    torch = torch_ref
    mine, ref = _pair(torch, "LSTM")
    rng = np.random.default_rng(2)
    seqs = [rng.standard_normal((n, 3)) for n in (2, 4, 1)]
    pr = rg_rnn.pack_sequence([rg.tensor(s) for s in seqs], enforce_sorted=False)
    pt = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    (out_r, (h_r, c_r)), (out_t, (h_t, c_t)) = mine(pr), ref(pt)
    _close(out_r.data, out_t.data)
    _close(h_r, h_t)
    _close(c_r, c_t)
    for a, b in zip(rg_rnn.unpack_sequence(out_r), torch.nn.utils.rnn.unpack_sequence(out_t)):
        _close(a, b)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        rg_rnn.pack_sequence([rg.tensor(s) for s in seqs])
    with pytest.raises(RuntimeError, match="Expected hidden"):
        mine(pr, (rg.zeros(1, 2, 4, dtype=rg.float64), rg.zeros(1, 2, 4, dtype=rg.float64)))


def test_unpad_sequence_and_packed_sequence_methods(torch_ref):
    torch = torch_ref
    seqs = [rg.arange(float(n)) for n in (3, 1, 2)]
    padded = rg_rnn.pad_sequence(seqs, batch_first=True)
    back = rg_rnn.unpad_sequence(padded, rg.tensor([3, 1, 2]), batch_first=True)
    ref = torch.nn.utils.rnn.unpad_sequence(
        torch.nn.utils.rnn.pad_sequence([torch.arange(float(n)) for n in (3, 1, 2)],
                                        batch_first=True), torch.tensor([3, 1, 2]),
        batch_first=True)
    for a, b in zip(back, ref):
        _close(a, b)
    packed = rg_rnn.pack_sequence(seqs, enforce_sorted=False)
    assert packed.double().data.dtype is rg.float64 and packed.to(rg.float32) is packed
    assert not packed.is_cuda
