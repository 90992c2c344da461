"""retrograd.save / retrograd.load: round trips of tensors, state dicts and optimizer states, and
a file format that never runs code on load."""

from __future__ import annotations

import io
import json
import math
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import retrograd as rg
from retrograd import optim


def _round_trip(obj, tmp_path=None):
    if tmp_path is None:
        buf = io.BytesIO()
        rg.save(obj, buf)
        buf.seek(0)
        return rg.load(buf)
    path = tmp_path / "obj.pt"
    rg.save(obj, path)
    return rg.load(path)


def test_tensor_round_trip_keeps_values_dtype_shape_and_requires_grad(tmp_path):
    for t in [rg.randn(3, 4), rg.arange(6).reshape(2, 3), rg.tensor(2.5, dtype=rg.float64),
              rg.tensor([True, False]), rg.zeros(0, 3), rg.ones(2, dtype=rg.float16)]:
        out = _round_trip(t, tmp_path)
        assert isinstance(out, rg.Tensor) and out.dtype == t.dtype and out.shape == t.shape
        np.testing.assert_array_equal(out.numpy(), t.numpy())
        assert out.is_leaf and not out.requires_grad
    w = rg.randn(2, requires_grad=True)
    out = _round_trip(w)
    assert out.requires_grad and out.is_leaf and out.grad is None


def test_non_contiguous_tensor_is_saved_by_value():
    t = rg.arange(12, dtype=rg.float32).reshape(3, 4).t()
    out = _round_trip(t)
    np.testing.assert_array_equal(out.numpy(), t.numpy())


def test_nested_containers_and_scalars_round_trip():
    obj = {
        "epoch": 3, "loss": 0.25, "name": "mlp", "flag": True, "nothing": None,
        "inf": math.inf, "nan": math.nan, "shape": rg.Size([2, 3]), "dtype": rg.float64,
        "ints": (1, 2, [3, 4]), 7: "int key", (1, 2): "tuple key", "bytes": b"\x00\xff",
        "arr": np.arange(4, dtype=np.int32), "np_scalar": np.float32(1.5),
        "device": rg.device("cpu"),
    }
    out = _round_trip(obj)
    assert out["epoch"] == 3 and isinstance(out["epoch"], int)
    assert out["loss"] == 0.25 and out["name"] == "mlp" and out["flag"] is True
    assert out["nothing"] is None and out["inf"] == math.inf and math.isnan(out["nan"])
    assert out["shape"] == rg.Size([2, 3]) and isinstance(out["shape"], rg.Size)
    assert out["dtype"] is rg.float64 and out[7] == "int key" and out[(1, 2)] == "tuple key"
    assert out["ints"] == (1, 2, [3, 4]) and isinstance(out["ints"], tuple)
    assert out["bytes"] == b"\x00\xff" and out["device"] == rg.device("cpu")
    assert out["arr"].dtype == np.int32 and out["arr"].tolist() == [0, 1, 2, 3]
    assert out["np_scalar"] == np.float32(1.5) and out["np_scalar"].dtype == np.float32
    assert list(out) == list(obj)


def test_ordered_dict_and_its_metadata_survive():
    sd = OrderedDict([("b", rg.ones(2)), ("a", rg.zeros(1))])
    sd._metadata = OrderedDict([("", {"version": 1})])
    out = _round_trip(sd)
    assert isinstance(out, OrderedDict) and list(out) == ["b", "a"]
    assert out._metadata == {"": {"version": 1}}


def test_a_tensor_saved_twice_comes_back_as_one_tensor():
    w = rg.randn(3)
    out = _round_trip({"encoder.weight": w, "decoder.weight": w, "other": rg.randn(3)})
    assert out["encoder.weight"] is out["decoder.weight"]
    assert out["other"] is not out["encoder.weight"]


def test_parameter_comes_back_as_a_parameter():
    from retrograd.nn import Parameter

    p = Parameter(rg.randn(2, 2))
    out = _round_trip([p, Parameter(rg.ones(1), requires_grad=False)])
    assert isinstance(out[0], Parameter) and out[0].requires_grad
    assert isinstance(out[1], Parameter) and not out[1].requires_grad
    np.testing.assert_array_equal(out[0].detach().numpy(), p.detach().numpy())


def test_optimizer_state_round_trip_resumes_training(tmp_path):
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((6, 4))

    def make():
        p = rg.tensor(np.linspace(-1, 1, 4), requires_grad=True)
        return p, optim.Adam([p], lr=0.1, amsgrad=True)

    p, opt = make()
    for g in grads[:3]:
        p.grad = rg.tensor(g)
        opt.step()
    rg.save({"param": p, "optimizer": opt.state_dict()}, tmp_path / "ckpt.pt")
    for g in grads[3:]:
        p.grad = rg.tensor(g)
        opt.step()

    ckpt = rg.load(tmp_path / "ckpt.pt", weights_only=True)
    q, opt2 = make()
    with rg.no_grad():
        q.copy_(ckpt["param"])
    opt2.load_state_dict(ckpt["optimizer"])
    assert opt2.state[q]["step"].item() == 3.0
    for g in grads[3:]:
        q.grad = rg.tensor(g)
        opt2.step()
    np.testing.assert_array_equal(q.detach().numpy(), p.detach().numpy())


def test_module_state_dict_round_trip():
    nn = rg.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    buf = io.BytesIO()
    rg.save(model.state_dict(), buf)
    buf.seek(0)
    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    other.load_state_dict(rg.load(buf))
    x = rg.randn(5, 3)
    np.testing.assert_array_equal(other(x).detach().numpy(), model(x).detach().numpy())


def test_the_file_is_a_zip_of_json_and_npy():
    buf = io.BytesIO()
    rg.save({"w": rg.ones(2)}, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        assert set(zf.namelist()) == {"manifest.json", "arrays/0.npy"}
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest["format"] == "retrograd" and manifest["version"] == 1
        arr = np.load(io.BytesIO(zf.read("arrays/0.npy")), allow_pickle=False)
        assert arr.tolist() == [1.0, 1.0]


class _Boom:
    def __reduce__(self):
        return (print, ("pickle code ran",))


def test_load_never_unpickles(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(_Boom()))
    # read as a legacy torch.save file: its pickle names a global load refuses to call
    with pytest.raises(pickle.UnpicklingError, match="global builtins.print"):
        rg.load(path)
    # a zip that looks like torch.save's, with a pickle inside
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps(_Boom()))
    buf.seek(0)
    with pytest.raises(RuntimeError, match="global builtins.print"):
        rg.load(buf, weights_only=False)
    # an .npy entry holding a pickled object array is refused by NumPy (allow_pickle=False)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", json.dumps(
            {"format": "retrograd", "version": 1, "root": {"t": "ndarray", "a": 0}}))
        inner = io.BytesIO()
        np.save(inner, np.array([_Boom()], dtype=object), allow_pickle=True)
        zf.writestr("arrays/0.npy", inner.getvalue())
    buf.seek(0)
    with pytest.raises(ValueError, match="allow_pickle"):
        rg.load(buf)
    assert "pickle code ran" not in capsys.readouterr().out


def test_save_rejects_what_it_cannot_store_safely():
    # objects of other classes go to a pickle (test_serialization_objects.py); object arrays never
    with pytest.raises(TypeError, match="dtype object"):
        rg.save(np.array([1, "a"], dtype=object), io.BytesIO())
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        rg.save(loop, io.BytesIO())


def test_load_reports_damaged_or_newer_files():
    def archive(manifest, arrays=()):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("manifest.json", json.dumps(manifest))
            for name in arrays:
                zf.writestr(name, b"")
        buf.seek(0)
        return buf

    with pytest.raises(RuntimeError, match="newer retrograd"):
        rg.load(archive({"format": "retrograd", "version": 99, "root": None}))
    with pytest.raises(RuntimeError, match="is missing"):
        rg.load(archive({"format": "retrograd", "version": 1, "root": {"t": "tensor", "a": 3}}))
    with pytest.raises(RuntimeError, match="unknown entry kind"):
        rg.load(archive({"format": "retrograd", "version": 1, "root": {"t": "pickle"}}))
    with pytest.raises(RuntimeError, match="no retrograd manifest"):
        rg.load(archive({"format": "other"}))
    with pytest.raises(RuntimeError, match="not a zip file"):
        rg.load(io.BytesIO(b"hello"))
