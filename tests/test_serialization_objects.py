"""Whole objects in retrograd files (Note [Files that hold a pickle]): ``save(model, f)``, loading
with ``weights_only=False`` or under ``serialization.safe_globals``, refusal by default, and
``map_location`` as PyTorch accepts it."""

from __future__ import annotations

import io
import os
import pickle
from collections import namedtuple

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.serialization import ForbiddenGlobalError


class RNNModel(nn.Module):
    """Like pytorch/examples' word_language_model, with attention beside the LSTM."""

    def __init__(self, ntoken=11, ninp=6, nhid=6, nlayers=2) -> None:
        super().__init__()
        self.drop = nn.Dropout(0.2)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=0.2)
        self.attn = nn.MultiheadAttention(nhid, 2)
        self.decoder = nn.Linear(nhid, ntoken)
        self.nhid = nhid
        self.kind = "LSTM"

    def forward(self, x):
        emb = self.drop(self.encoder(x))
        out, _ = self.rnn(emb)
        out, _ = self.attn(out, out, out)
        return self.decoder(self.drop(out))


Point = namedtuple("Point", "x y")  # noqa: PYI024

NEEDED = [RNNModel, rg.nn.modules.dropout.Dropout, rg.nn.modules.sparse.Embedding,
          rg.nn.modules.rnn.LSTM, rg.nn.modules.activation.MultiheadAttention,
          rg.nn.modules.linear.NonDynamicallyQuantizableLinear, rg.nn.modules.linear.Linear]


def _saved(obj) -> io.BytesIO:
    buf = io.BytesIO()
    rg.save(obj, buf)
    buf.seek(0)
    return buf


def _same_model(a: RNNModel, b: RNNModel) -> None:
    assert type(b) is RNNModel and b.nhid == a.nhid and b.kind == a.kind
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert np.array_equal(sa[k].numpy(), sb[k].numpy()), k
    assert all(isinstance(p, nn.Parameter) for p in b.parameters())
    x = rg.randint(0, 11, (5, 3))
    a.eval()
    b.eval()
    assert np.allclose(a(x).detach().numpy(), b(x).detach().numpy())
    b.train()
    b(x).sum().backward()  # the loaded model trains
    assert b.rnn.weight_hh_l0.grad is not None


def test_whole_model_loads_with_weights_only_false():
    model = RNNModel()
    _same_model(model, rg.load(_saved(model), weights_only=False))


def test_whole_model_loads_under_safe_globals():
    model = RNNModel()
    buf = _saved(model)
    with rg.serialization.safe_globals(NEEDED):
        back = rg.load(buf)
    _same_model(model, back)
    assert rg.serialization.get_safe_globals() == []  # the block leaves nothing behind
    buf.seek(0)
    rg.serialization.add_safe_globals(NEEDED)
    try:
        assert rg.serialization.get_safe_globals() == NEEDED
        _same_model(model, rg.load(buf, weights_only=True))
    finally:
        rg.serialization.clear_safe_globals()
    assert rg.serialization.get_safe_globals() == []


def test_whole_model_is_refused_by_default_naming_the_first_global():
    buf = _saved(RNNModel())
    with pytest.raises(pickle.UnpicklingError, match=r"global .*test_serialization_objects\."
                       r"RNNModel.*weights_only=False.*safe_globals") as info:
        rg.load(buf)
    assert isinstance(info.value, ForbiddenGlobalError)
    # one class missing from the list: that one is named
    buf.seek(0)
    with rg.serialization.safe_globals([c for c in NEEDED if c is not nn.LSTM]):
        with pytest.raises(ForbiddenGlobalError, match=r"global retrograd\.nn\.rnn\.LSTM"):
            rg.load(buf)


def test_tied_weights_stay_tied_and_parameters_keep_requires_grad():
    model = RNNModel()
    model.decoder.weight = model.encoder.weight
    model.encoder.weight.requires_grad_(False)
    back = rg.load(_saved(model), weights_only=False)
    assert back.decoder.weight is back.encoder.weight
    assert not back.encoder.weight.requires_grad
    assert back.rnn.weight_ih_l0.requires_grad


class _System:
    def __init__(self, marker) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_hostile_pickle_is_refused_under_safe_globals_that_do_not_list_it(tmp_path):
    marker = tmp_path / "marker"
    model = RNNModel()
    model.payload = _System(marker)
    buf = _saved(model)
    with rg.serialization.safe_globals(NEEDED):
        with pytest.raises(ForbiddenGlobalError, match=r"global (posix|nt)\.system"):
            rg.load(buf)
    assert not marker.exists()
    buf.seek(0)
    with pytest.raises(ForbiddenGlobalError):
        rg.load(buf, weights_only=True)
    assert not marker.exists()


def test_allowed_class_cannot_be_used_to_call_other_globals(tmp_path):
    # a hand-written pickle that constructs an allowed class, then names eval: refused
    marker = tmp_path / "marker"
    good = pickle.dumps(RNNModel(), protocol=2)
    assert b"RNNModel" in good
    evil = (b"\x80\x02c" + RNNModel.__module__.encode() + b"\nRNNModel\n)\x81}(X\x01\x00\x00\x00a"
            b"cbuiltins\neval\nX\x0b\x00\x00\x00print('ran')\x85Rub.")
    with rg.serialization.safe_globals([RNNModel]):
        from retrograd import _torch_pickle

        with pytest.raises(ForbiddenGlobalError, match="builtins.eval"):
            _torch_pickle.load(evil, "evil", None)
    assert not marker.exists()


def test_other_objects_use_pickle_and_plain_ones_do_not():
    buf = _saved({"p": Point(1, 2)})
    with pytest.raises(ForbiddenGlobalError, match="Point"):
        rg.load(buf)
    buf.seek(0)
    assert rg.load(buf, weights_only=False)["p"] == (1, 2)
    # tensors, arrays, dtypes, devices and sizes inside a pickled object are stored as data
    obj = {"s": {1, 2}, "t": rg.ones(2, dtype=rg.int32), "a": np.arange(3), "d": rg.float64,
           "dev": rg.device("cpu"), "size": rg.Size([2, 3]), "m": nn.Identity()}
    with rg.serialization.safe_globals([nn.Identity]):
        back = rg.load(_saved(obj))
    assert back["s"] == {1, 2} and back["t"].dtype is rg.int32 and back["d"] is rg.float64
    assert back["size"] == rg.Size([2, 3]) and type(back["size"]) is rg.Size
    assert np.array_equal(back["a"], np.arange(3)) and isinstance(back["m"], nn.Identity)
    # a state dict still needs no pickle: loads with no globals allowed
    plain = _saved(RNNModel().state_dict())
    assert "object.pkl" not in __import__("zipfile").ZipFile(plain).namelist()


def test_safe_globals_checks_its_argument():
    with pytest.raises(TypeError):
        rg.serialization.add_safe_globals(RNNModel)
    with pytest.raises(TypeError):
        rg.serialization.safe_globals([3])
    with rg.serialization.safe_globals([(RNNModel, "somewhere.Else")]):
        pass


@pytest.mark.parametrize("where", ["cpu", rg.device("cpu"), {"cpu": "cpu"}, {"cuda:0": "cpu"},
                                   None, lambda storage, loc: storage])
def test_map_location_forms(where):
    sd = {"w": rg.arange(3.0), "n": [rg.ones(1)]}
    back = rg.load(_saved(sd), map_location=where)
    assert np.array_equal(back["w"].numpy(), [0.0, 1.0, 2.0]) and back["n"][0].item() == 1.0


def test_map_location_function_is_applied_and_bad_values_refused():
    sd = {"w": rg.arange(3.0), "tied": None}
    sd["tied"] = sd["w"]
    seen = []

    def fn(t, loc):
        seen.append(loc)
        return t * 2

    back = rg.load(_saved(sd), map_location=fn)
    assert seen == ["cpu"] and back["w"] is back["tied"]
    assert np.array_equal(back["w"].numpy(), [0.0, 2.0, 4.0])
    with pytest.raises(TypeError, match="map_location"):
        rg.load(_saved(sd), map_location=3.5)


def test_pytorch_accepts_the_same_map_locations(torch_ref):
    torch = torch_ref
    buf = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buf)
    for where in ["cpu", torch.device("cpu"), {"cpu": "cpu"}, lambda s, loc: s]:
        buf.seek(0)
        assert torch.load(buf, map_location=where)["w"].sum().item() == 2.0
        buf.seek(0)
        assert rg.load(buf, map_location=where if not isinstance(where, torch.device)
                       else rg.device("cpu"))["w"].sum().item() == 2.0
