"""Weights that move both ways: PyTorch checkpoints (retrograd.load / save(format="torch")),
safetensors files (retrograd.safetensors) and DLPack / NumPy views.

Checkpoints are compared bit for bit (NaN, -0.0 and inf included) with what real PyTorch writes
and reads; the tests that need torch or safetensors skip cleanly without them. Hostile
checkpoints are built here by hand and must be refused, running nothing and allocating less than
100 MB (peak measured by tracemalloc, as in test_serialization_hostile.py).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import tracemalloc
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
from test_serialization_hostile import Member, archive, deflated_repeat

import retrograd as rg
import retrograd._torch_pickle
import retrograd.safetensors
from retrograd._torch_pickle import Global, save_global
from retrograd.serialization import ForbiddenGlobalError, UnsafeFileError

LIMIT = 100 << 20
SPECIAL = [0.0, -0.0, 1.5, -2.25, np.inf, -np.inf, np.nan, 1e-7]


def _bits(arr) -> bytes:
    arr = np.asarray(arr)
    return arr.dtype.str.encode() + str(arr.shape).encode() + np.ascontiguousarray(arr).tobytes()


def _torch_bits(t) -> bytes:
    return _bits(t.detach().numpy())


def _rg_bits(t) -> bytes:
    return _bits(t.detach().numpy())


def _torch_state(torch):
    """A state dict with every dtype both libraries have, views, 0-d and empty tensors."""
    g = torch.Generator().manual_seed(0)
    base = torch.randn(4, 8, generator=g)
    base[0, :len(SPECIAL)] = torch.tensor(SPECIAL)
    sd = OrderedDict()
    sd["weight"] = base
    sd["weight_t"] = base.t()  # the same storage, transposed
    sd["row"] = base[2, 1:5]  # a view at an offset
    sd["every_other"] = base[:, ::2]
    sd["double"] = torch.tensor(SPECIAL, dtype=torch.float64)
    sd["half"] = torch.tensor(SPECIAL[:6] + [65504.0, 6e-8], dtype=torch.float16)
    for dt in (torch.int64, torch.int32, torch.int16, torch.int8):
        info = torch.iinfo(dt)
        sd[str(dt)] = torch.tensor([info.min, -1, 0, 1, info.max], dtype=dt)
    sd["uint8"] = torch.tensor([0, 1, 255], dtype=torch.uint8)
    sd["mask"] = torch.tensor([[True, False], [False, True]])
    sd["step"] = torch.tensor(7)
    sd["scalar"] = torch.tensor(-0.0, dtype=torch.float64)
    sd["empty"] = torch.empty(0, 3)
    sd["param"] = torch.nn.Parameter(torch.randn(3, generator=g))
    sd["frozen"] = torch.nn.Parameter(torch.randn(2, generator=g), requires_grad=False)
    sd._metadata = OrderedDict([("", {"version": 1})])
    return sd


def _check_same(rg_sd, torch_sd):
    assert list(rg_sd) == list(torch_sd)
    for k, t in torch_sd.items():
        r = rg_sd[k]
        assert _rg_bits(r) == _torch_bits(t), k
        assert r.dtype.name == str(t.dtype).split(".")[1], k
        assert r.requires_grad == t.requires_grad, k
        assert (type(r).__name__ == "Parameter") == isinstance(t, __import__("torch").nn.Parameter)


def test_torch_checkpoint_loads_bit_exactly_and_views_share_memory(torch_ref, tmp_path):
    torch = torch_ref
    sd = _torch_state(torch)
    path = tmp_path / "sd.pt"
    torch.save(sd, path)
    out = rg.load(path)
    _check_same(out, sd)
    assert isinstance(out, OrderedDict) and out._metadata == {"": {"version": 1}}
    w = out["weight"].numpy()
    for k in ("weight_t", "row", "every_other"):
        assert np.shares_memory(w, out[k].numpy()), k
    out["weight"].data[2, 1] = 123.0  # tensors of one storage share memory, as in PyTorch
    assert out["row"][0].item() == 123.0 and out["weight_t"][1, 2].item() == 123.0
    assert out["param"].is_leaf and out["param"].grad is None


def test_torch_to_retrograd_to_torch_is_bit_exact(torch_ref, tmp_path):
    torch = torch_ref
    sd = _torch_state(torch)
    torch.save(sd, tmp_path / "a.pt")
    rg.save(rg.load(tmp_path / "a.pt"), tmp_path / "b.pt", format="torch")
    back = torch.load(tmp_path / "b.pt", weights_only=True)
    assert list(back) == list(sd) and back._metadata == sd._metadata
    for k, t in sd.items():
        b = back[k]
        assert _torch_bits(b) == _torch_bits(t), k
        assert b.dtype == t.dtype and b.requires_grad == t.requires_grad, k
        assert type(b) is type(t), k
        if t.numel():
            assert b.stride() == t.stride() and b.storage_offset() == t.storage_offset(), k
    ptr = back["weight"].untyped_storage().data_ptr()
    for k in ("weight_t", "row", "every_other"):
        assert back[k].untyped_storage().data_ptr() == ptr, k
    back = torch.load(tmp_path / "b.pt", weights_only=True, mmap=True)  # aligned storages
    assert _torch_bits(back["double"]) == _torch_bits(sd["double"])


def test_retrograd_to_torch_to_retrograd_is_bit_exact(torch_ref, tmp_path):
    torch = torch_ref
    a = rg.tensor(SPECIAL, dtype=rg.float32)
    grid = rg.arange(24, dtype=rg.float64).reshape(4, 6)
    sd = OrderedDict([
        ("a", a), ("grid", grid), ("grid_t", grid.t()), ("col", grid[:, 1]),
        ("tied", a), ("half", rg.tensor(SPECIAL, dtype=rg.float16)),
        ("i64", rg.tensor([-(2 ** 63), 2 ** 63 - 1])), ("i32", rg.tensor([1, -2], dtype=rg.int32)),
        ("i16", rg.tensor([3], dtype=rg.int16)), ("i8", rg.tensor([-128], dtype=rg.int8)),
        ("u8", rg.tensor([255], dtype=rg.uint8)), ("b", rg.tensor([True, False])),
        ("zero_d", rg.tensor(2.5)), ("empty", rg.zeros(2, 0)),
        ("w", rg.nn.Parameter(rg.randn(3))), ("g", rg.randn(2, requires_grad=True)),
        ("flipped", rg.from_numpy(np.arange(5.0)[::-1])),
    ])
    extra = {"epoch": 3, "lr": 0.5, "name": "run", "blob": b"\x00\xff", "shape": rg.Size([2, 3]),
             "dtype": rg.float16, "nested": [(1, 2), {"x": None, "y": True}], "set": {1, 2}}
    rg.save({"sd": sd, **extra}, tmp_path / "a.pt", format="torch")
    mid = torch.load(tmp_path / "a.pt", weights_only=True)
    for k, t in sd.items():
        assert _torch_bits(mid["sd"][k]) == _rg_bits(t), k
        assert mid["sd"][k].requires_grad == t.requires_grad, k
    assert isinstance(mid["sd"]["w"], torch.nn.Parameter)
    assert mid["sd"]["tied"] is mid["sd"]["a"]
    assert mid["sd"]["grid_t"].untyped_storage().data_ptr() == \
        mid["sd"]["grid"].untyped_storage().data_ptr()
    assert mid["shape"] == torch.Size([2, 3]) and mid["dtype"] is torch.float16
    assert {k: mid[k] for k in ("epoch", "lr", "name", "blob", "nested", "set")} == \
        {k: extra[k] for k in ("epoch", "lr", "name", "blob", "nested", "set")}
    torch.save(mid, tmp_path / "b.pt")
    back = rg.load(tmp_path / "b.pt")
    for k, t in sd.items():
        assert _rg_bits(back["sd"][k]) == _rg_bits(t), k
        assert back["sd"][k].dtype is t.dtype and back["sd"][k].requires_grad == t.requires_grad
    assert back["sd"]["tied"] is back["sd"]["a"] and type(back["sd"]["w"]).__name__ == "Parameter"
    assert back["shape"] == rg.Size([2, 3]) and back["dtype"] is rg.float16
    assert back["nested"] == extra["nested"] and back["blob"] == extra["blob"]


def test_module_weights_move_between_libraries(torch_ref, tmp_path):
    torch = torch_ref
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    net.eval()
    torch.save(net.state_dict(), tmp_path / "net.pt")
    mine = rg.nn.Sequential(rg.nn.Linear(3, 4), rg.nn.BatchNorm1d(4), rg.nn.Linear(4, 2))
    mine.load_state_dict(rg.load(tmp_path / "net.pt"))
    mine.eval()
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(mine(rg.from_numpy(x)).detach().numpy(),
                               net(torch.from_numpy(x)).detach().numpy(), atol=1e-6)
    rg.save(mine.state_dict(), tmp_path / "mine.pt", format="torch")
    again = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                torch.nn.Linear(4, 2))
    again.load_state_dict(torch.load(tmp_path / "mine.pt", weights_only=True))
    for k, v in again.state_dict().items():
        assert _torch_bits(v) == _torch_bits(net.state_dict()[k]), k


def test_legacy_torch_format_loads(torch_ref, tmp_path):
    torch = torch_ref
    base = torch.arange(6.0).reshape(2, 3)
    obj = {"a": base, "v": base[1], "n": 3, "p": torch.nn.Parameter(torch.ones(2))}
    torch.save(obj, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    out = rg.load(tmp_path / "old.pt")
    assert out["a"].tolist() == base.tolist() and out["v"].tolist() == [3.0, 4.0, 5.0]
    assert np.shares_memory(out["a"].numpy(), out["v"].numpy()) and out["n"] == 3
    assert out["p"].requires_grad and type(out["p"]).__name__ == "Parameter"
    data = (tmp_path / "old.pt").read_bytes()
    for cut in (10, len(data) // 2, len(data) - 3):
        refused(data[:cut])


def test_other_torch_objects_load(torch_ref):
    torch = torch_ref

    def round_trip(obj):
        buf = io.BytesIO()
        torch.save(obj, buf)
        return rg.load(io.BytesIO(buf.getvalue()))

    assert round_trip(torch.arange(3)).tolist() == [0, 1, 2]
    tagged = torch.ones(2)
    tagged.note = "kept"  # an attribute: saved through _rebuild_from_type_v2
    assert round_trip(tagged).note == "kept"
    # an optimizer's state dict, as Adam's looks (torch.optim's first step is slow to import)
    adam = {"state": {0: {"step": torch.tensor(1.0), "exp_avg": torch.randn(2, 2),
                          "exp_avg_sq": torch.rand(2)}},
            "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "foreach": None,
                              "amsgrad": False, "params": [0]}]}
    state = round_trip(adam)
    assert state["param_groups"] == adam["param_groups"]
    for k, v in adam["state"][0].items():
        assert _rg_bits(state["state"][0][k]) == _torch_bits(v), k
    net = torch.nn.Linear(2, 2)
    with pytest.raises(ForbiddenGlobalError, match=r"torch\.nn\.modules\.linear\.Linear.*"
                                                   r"state_dict"):
        round_trip(net)


def test_bfloat16_loads_as_float32_exactly(torch_ref):
    torch = torch_ref
    t = torch.tensor([1.0, -3.140625, 1e30, float("inf")], dtype=torch.bfloat16)
    buf = io.BytesIO()
    torch.save({"t": t}, buf)
    with pytest.warns(UserWarning, match="bfloat16"):
        out = rg.load(io.BytesIO(buf.getvalue()))
    assert out["t"].dtype is rg.float32 and out["t"].tolist() == t.float().tolist()


def test_dtypes_retrograd_lacks_are_refused_by_name(torch_ref):
    torch = torch_ref
    for t in (torch.ones(2, dtype=torch.complex64), torch.ones(2, dtype=torch.uint16)):
        buf = io.BytesIO()
        torch.save({"t": t}, buf)
        with pytest.raises(UnsafeFileError, match=str(t.dtype)):
            rg.load(io.BytesIO(buf.getvalue()))


def test_save_for_torch_refuses_what_weights_only_cannot_read():
    with pytest.raises(TypeError, match="NumPy arrays"):
        rg.save({"a": np.ones(2)}, io.BytesIO(), format="torch")
    with pytest.raises(TypeError, match="state_dict"):
        rg.save(rg.nn.Linear(2, 2), io.BytesIO(), format="torch")
    with pytest.raises(ValueError, match="format must be"):
        rg.save({}, io.BytesIO(), format="pickle")


def test_checkpoint_written_for_torch_loads_back_without_torch():
    a = rg.arange(6.0).reshape(2, 3)
    buf = io.BytesIO()
    rg.save({"a": a, "at": a.t(), "p": rg.nn.Parameter(rg.ones(2))}, buf, format="torch")
    out = rg.load(io.BytesIO(buf.getvalue()))
    assert out["at"].tolist() == a.t().tolist()
    assert np.shares_memory(out["a"].numpy(), out["at"].numpy())
    assert type(out["p"]).__name__ == "Parameter" and out["p"].requires_grad


# ---- hostile checkpoints -------------------------------------------------------------------


class _Call:
    """Pickled as a call of ``fn`` (a Global) on ``args``."""

    def __init__(self, fn, *args) -> None:
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


class _Pid:
    def __init__(self, *pid) -> None:
        self.pid = pid


class _Pickler(pickle._Pickler):
    dispatch = pickle._Pickler.dispatch.copy()
    dispatch[Global] = save_global

    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, _Pid) else None


def _dumps(obj) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def _tensor(key="0", numel=4, offset=0, size=(4,), stride=(1,), kind="FloatStorage"):
    return _Call(Global("torch._utils", "_rebuild_tensor_v2"),
                 _Pid("storage", Global("torch", kind), key, "cpu", numel), offset, size, stride,
                 False, _Call(Global("collections", "OrderedDict")))


def _checkpoint(pkl: bytes, storages=None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pkl)
        zf.writestr("archive/byteorder", "little")
        for key, data in (storages or {}).items():
            zf.writestr(f"archive/data/{key}", data)
        zf.writestr("archive/version", "3\n")
    return buf.getvalue()


def refused(data: bytes, match: str | None = None, kind=UnsafeFileError):
    tracemalloc.start()
    try:
        with pytest.raises(kind, match=match) as info:
            rg.load(io.BytesIO(data))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < LIMIT, f"load allocated {peak / 2**20:.0f} MB before refusing"
    assert isinstance(info.value, RuntimeError)
    return info.value


FLOATS = np.arange(4, dtype=np.float32).tobytes()


def test_hand_made_checkpoint_loads():
    out = rg.load(io.BytesIO(_checkpoint(_dumps({"w": _tensor()}), {"0": FLOATS})))
    assert out["w"].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_big_endian_checkpoint_loads():
    data = np.arange(4, dtype=">f4").tobytes()
    raw = _checkpoint(_dumps({"w": _tensor(), "v": _tensor(offset=1, size=(2,), stride=(2,))}),
                      {"0": data})
    with zipfile.ZipFile(io.BytesIO(raw)) as src:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as dst:
            for n in src.namelist():
                dst.writestr(n, b"big" if n.endswith("byteorder") else src.read(n))
    loaded = rg.load(io.BytesIO(out.getvalue()))
    assert loaded["w"].tolist() == [0.0, 1.0, 2.0, 3.0] and loaded["v"].tolist() == [1.0, 3.0]
    assert loaded["w"].numpy().dtype.isnative


def test_checkpoint_of_pickle_protocol_4_loads(torch_ref):
    torch = torch_ref
    buf = io.BytesIO()
    sd = {"w": torch.randn(3), "nested": [{"a": torch.ones(1, dtype=torch.int8)}]}
    torch.save(sd, buf, pickle_protocol=4)  # STACK_GLOBAL, MEMOIZE and FRAME
    out = rg.load(io.BytesIO(buf.getvalue()))
    assert _rg_bits(out["w"]) == _torch_bits(sd["w"])
    assert out["nested"][0]["a"].dtype is rg.int8


class _System:
    def __init__(self, marker) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_checkpoint_calling_os_system_is_refused_and_runs_nothing(torch_ref, tmp_path):
    torch = torch_ref
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pt"
    torch.save({"w": torch.ones(2), "evil": _System(marker)}, path)
    for load in (rg.load, lambda p: rg.load(p, weights_only=False)):
        with pytest.raises(ForbiddenGlobalError, match=r"global posix\.system") as info:
            load(path)
        assert isinstance(info.value, pickle.UnpicklingError)
        assert isinstance(info.value, UnsafeFileError)
    with pytest.raises(pickle.UnpicklingError):  # PyTorch's weights_only refuses it too
        torch.load(path, weights_only=True)
    assert not marker.exists()


def test_forbidden_globals_are_refused_in_every_spelling(tmp_path):
    marker = tmp_path / "marker"
    evil = _System(marker)
    for proto in (0, 2, 4, 5):  # GLOBAL, and STACK_GLOBAL from protocol 4 on
        data = _checkpoint(pickle.dumps({"w": 1, "x": evil}, protocol=proto))
        e = refused(data, match="posix.system", kind=ForbiddenGlobalError)
        assert "Nothing from the file was run" in str(e)
    refused(pickle.dumps(evil, protocol=2), kind=ForbiddenGlobalError)  # a legacy-style file
    refused(_checkpoint(_dumps(_Call(Global("builtins", "eval"), "1"))), match="builtins.eval")
    refused(_checkpoint(_dumps(_Call(Global("torch", "load"), "x"))), match="torch.load")
    assert not marker.exists()


def _op(code: bytes, *parts: bytes) -> bytes:
    return b"".join((code, *parts))


@pytest.mark.parametrize("pkl, match", [
    # INST, OBJ and NEWOBJ build objects through their classes
    (b"(ios\nsystem\nS'true'\no.", "global os.system|opcode INST"),
    (b"\x80\x02cbuiltins\nset\n)\x81.", "opcode NEWOBJ"),
    (b"\x80\x02ctorch\nfloat32\n}X\x02\x00\x00\x00npK\x01sb.", "sets attributes on a dtype"),
    (b"\x80\x02ctorch\nfloat32\n(N}X\x02\x00\x00\x00npK\x01stb.", "sets attributes on a dtype"),
    (b"\x80\x02ccollections\nOrderedDict\n}X\x01\x00\x00\x00aK\x01sb.",
     "sets attributes on a function"),
    (b"\x80\x02ctorch\nfloat32\nK\x01a.", "APPEND applies to dtype"),
    (b"\x80\x02X\x01\x00\x00\x00aK\x01K\x02s.", "SETITEM applies to str"),
    (b"\x80\x02K\x01)R.", "calls 1, which is not a function"),
    (b"\x80\x02\x82\x01.", "opcode EXT1"),
])
def test_hostile_opcodes_are_refused(pkl, match):
    refused(_checkpoint(pkl), match=match)
    assert rg.float32.np == np.float32 and rg.float32.name == "float32"


@pytest.mark.parametrize("pkl", [b"", b"\x80\x02", b"\x80\x02(K\x01", b"\x80\x02h\x05.",
                                 b"\x80\x02K\x01K\x02.", b"\x80\x02\xff.", b"\x80\x02X\xff\xff"])
def test_malformed_pickles_raise_one_error_type(pkl):
    refused(_checkpoint(pkl), match="damaged|malformed")


def _mutations(data: bytes, count: int, span: int):
    """``count`` copies of ``data`` with a few bytes changed, removed or inserted in its first
    ``span`` bytes (seeded)."""
    rnd = np.random.default_rng(0)
    for _ in range(count):
        p = bytearray(data)
        for _ in range(rnd.integers(1, 4)):
            i, op = int(rnd.integers(min(len(p), span))), rnd.random()
            if op < 0.6:
                p[i] = int(rnd.integers(256))
            elif op < 0.8:
                del p[i:i + int(rnd.integers(1, 5))]
            else:
                p[i:i] = rnd.bytes(int(rnd.integers(1, 4)))
        yield bytes(p)


def test_mutated_checkpoints_raise_one_error_type():
    sd = OrderedDict([("w", rg.randn(3, 2)), ("wt", None), ("n", [1, 2.5, "s", b"b", (3,)]),
                      ("p", rg.nn.Parameter(rg.ones(2))), ("m", rg.tensor([True]))])
    sd["wt"] = sd["w"].t()
    buf = io.BytesIO()
    rg.save(sd, buf, format="torch")
    with zipfile.ZipFile(buf) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    for pkl in _mutations(members["archive/data.pkl"], 300, 10_000):
        try:
            rg.load(io.BytesIO(_checkpoint(pkl, {k[13:]: v for k, v in members.items()
                                                 if k.startswith("archive/data/")})))
        except UnsafeFileError:
            pass
    data = rg.safetensors.save({k: v for k, v in sd.items() if isinstance(v, rg.Tensor)
                                and k != "wt"}, {"k": "v"})
    for blob in _mutations(data, 300, 300):
        try:
            rg.safetensors.load(blob)
        except UnsafeFileError:
            pass


def test_truncated_and_corrupt_torch_files_are_refused():
    a = rg.arange(1000.0)
    buf = io.BytesIO()
    rg.save({"a": a, "b": a[::2]}, buf, format="torch")
    data = buf.getvalue()
    for cut in (0, 1, 3, 30, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1):
        refused(data[:cut])
    flipped = bytearray(data)
    flipped[flipped.index(np.float32(500).tobytes())] ^= 0xFF
    refused(bytes(flipped), match="CRC")


@pytest.mark.parametrize("tensor, match", [
    (_tensor(numel=1 << 40), "declares 4398046511104"),  # far more than the member holds
    (_tensor(numel=5), "declares 20"),
    (_tensor(key="7"), "data/7, which is missing"),
    (_tensor(offset=1), "does not fit"),
    (_tensor(size=(2, 3), stride=(3, 1)), "does not fit"),
    (_tensor(size=(1 << 40,), stride=(0,)), "does not fit"),
    (_tensor(size=(2,), stride=(1, 1)), "size \\[2\\] but stride"),
    (_tensor(size=(-1,)), "natural numbers"),
    (_tensor(kind="QInt8Storage"), "global torch.QInt8Storage"),
])
def test_tensors_that_do_not_fit_their_storage_are_refused(tensor, match):
    refused(_checkpoint(_dumps({"w": tensor}), {"0": FLOATS}), match=match)


def test_one_storage_referenced_many_times_is_read_once():
    big = np.zeros(1 << 18, np.float32).tobytes()  # 1 MiB
    one = _tensor(numel=1 << 18, size=(1 << 18,))
    pkl = _dumps([_Call(one.fn, *one.args) for _ in range(1000)])
    tracemalloc.start()
    try:
        out = rg.load(io.BytesIO(_checkpoint(pkl, {"0": big})))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(out) == 1000 and np.shares_memory(out[0].numpy(), out[-1].numpy())
    assert peak < 10 << 20, f"{peak / 2**20:.0f} MB for 1000 views of 1 MiB"


def test_zip_bomb_storage_is_refused():
    n = 1 << 31  # 2 GiB of zeros in about 2 MB
    stream = deflated_repeat(bytes(1 << 20), 2048)
    bomb = Member("archive/data/0", b"", deflated=True, size=n, crc=0)
    bomb.raw, bomb.stored_size = stream, len(stream)
    pkl = Member("archive/data.pkl", _dumps(_tensor(numel=n // 4, size=(n // 4,))))
    refused(archive(pkl, bomb), match="zip bomb")


def test_pickle_building_millions_of_objects_is_refused(monkeypatch):
    # (under a lower limit than the default 64 MB, to keep the test fast under tracemalloc)
    monkeypatch.setattr(retrograd._torch_pickle, "MAX_PICKLE_COST", 2 << 20)
    pkl = b"\x80\x02(" + b"}" * (1 << 20) + b"l."  # a list of a million dicts in 1 MB
    refused(_checkpoint(pkl), match="MAX_PICKLE_COST")
    deep = b"\x80\x02" + b"]" * 500_000 + b"a" * 499_999 + b"."
    refused(_checkpoint(deep), match="MAX_PICKLE_COST")
    huge = b"\x80\x02\x8e" + (1 << 62).to_bytes(8, "little") + b"xx."  # BINBYTES8 of 4 EiB
    refused(_checkpoint(huge), match="damaged")


def test_data_pkl_of_a_gibibyte_is_refused_unread():
    stream = deflated_repeat(b" " * (1 << 20), 1024)
    m = Member("archive/data.pkl", b"", deflated=True, size=1 << 30, crc=0)
    m.raw, m.stored_size = stream, len(stream)
    refused(archive(m), match="data.pkl is 1073741824 bytes")


def test_legacy_file_declaring_more_storage_than_it_holds_is_refused():
    head = b"".join(pickle.dumps(x, protocol=2) for x in (
        0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}))
    obj = _dumps(_tensor(numel=1 << 40, size=(4,)))
    refused(head + obj + pickle.dumps(["0"], protocol=2) + bytes(64), match="more bytes")


def test_compressed_checkpoint_within_limits_still_loads():
    raw = _checkpoint(_dumps({"w": _tensor()}), {"0": FLOATS})
    with zipfile.ZipFile(io.BytesIO(raw)) as src:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for n in src.namelist():
                dst.writestr(n, src.read(n))
    assert rg.load(io.BytesIO(out.getvalue()))["w"].tolist() == [0.0, 1.0, 2.0, 3.0]


# ---- safetensors -----------------------------------------------------------------------------


def _rg_state() -> dict:
    grid = rg.arange(12, dtype=rg.float64).reshape(3, 4)
    return {
        "f32": rg.tensor(SPECIAL, dtype=rg.float32), "f64_t": grid.t(),
        "f16": rg.tensor(SPECIAL, dtype=rg.float16), "i64": rg.tensor([-(2 ** 63), 2 ** 63 - 1]),
        "i32": rg.tensor([-5, 7], dtype=rg.int32), "i16": rg.tensor([1], dtype=rg.int16),
        "i8": rg.tensor([-128, 127], dtype=rg.int8), "u8": rg.tensor([0, 255], dtype=rg.uint8),
        "mask": rg.tensor([[True], [False]]), "zero_d": rg.tensor(1.5), "empty": rg.zeros(0, 2),
    }


def test_safetensors_round_trip_bit_exact(tmp_path):
    from retrograd import safetensors as st

    sd = _rg_state()
    st.save_file(sd, tmp_path / "m.safetensors", metadata={"format": "pt"})
    for out in (st.load_file(tmp_path / "m.safetensors"), st.load(st.save(sd))):
        assert set(out) == set(sd)
        for k, t in sd.items():
            assert _rg_bits(out[k]) == _rg_bits(t) and out[k].dtype is t.dtype, k
    data = (tmp_path / "m.safetensors").read_bytes()
    n = int.from_bytes(data[:8], "little")
    assert n % 8 == 0 and b'"__metadata__":{"format":"pt"}' in data[8:8 + n]


def test_safetensors_save_refuses_shared_memory_and_non_tensors():
    from retrograd import safetensors as st

    w = rg.randn(3)
    with pytest.raises(RuntimeError, match="share memory"):
        st.save({"a": w, "b": w})
    base = rg.arange(4.0)
    st.save({"a": base[:2], "b": base[2:]})  # disjoint views of one buffer are fine
    with pytest.raises(ValueError, match="expected a Tensor"):
        st.save({"a": np.ones(2)})
    with pytest.raises(ValueError, match="metadata"):
        st.save({"a": w}, metadata={"k": 1})


def test_safetensors_interop_with_the_safetensors_package(tmp_path):
    snp = pytest.importorskip("safetensors.numpy")
    from retrograd import safetensors as st

    sd = _rg_state()
    arrays = {k: t.numpy().copy() for k, t in sd.items()}  # (it saves views' memory as is)
    assert st.save(sd, {"a": "b"}) == snp.save(arrays, {"a": "b"})  # byte for byte
    st.save_file(sd, tmp_path / "mine.safetensors")
    theirs = snp.load_file(tmp_path / "mine.safetensors")
    for k, a in arrays.items():
        assert _bits(theirs[k]) == _bits(a), k
    snp.save_file(arrays, tmp_path / "theirs.safetensors", metadata={"x": "y"})
    out = st.load_file(tmp_path / "theirs.safetensors")
    for k, a in arrays.items():
        assert _rg_bits(out[k]) == _bits(a), k


def test_safetensors_from_torch_including_bfloat16(torch_ref, tmp_path):
    stt = pytest.importorskip("safetensors.torch")
    torch = torch_ref
    sd = {"w": torch.randn(3, 2), "bf": torch.tensor([1.0, -2.5, 3e38], dtype=torch.bfloat16)}
    stt.save_file(sd, tmp_path / "t.safetensors")
    with pytest.warns(UserWarning, match="bfloat16"):
        out = rg.safetensors.load_file(tmp_path / "t.safetensors")
    assert _rg_bits(out["w"]) == _torch_bits(sd["w"])
    assert out["bf"].dtype is rg.float32 and out["bf"].tolist() == sd["bf"].float().tolist()
    rg.safetensors.save_file({"w": out["w"]}, tmp_path / "back.safetensors")
    assert torch.equal(stt.load_file(tmp_path / "back.safetensors")["w"], sd["w"])


def _safetensors(header, data: bytes = b"", length=None) -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return (len(text) if length is None else length).to_bytes(8, "little") + text + data


def _entry(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


@pytest.mark.parametrize("blob, match", [
    (b"", "too short"),
    (_safetensors({}, length=1 << 63), "header length"),
    (_safetensors({}, length=100), "header length"),
    (_safetensors(b"[1, 2]"), "not a JSON object"),
    (_safetensors(b"{nope"), "not valid JSON"),
    (_safetensors(b'{"a":' * 50_000 + b"1" + b"}" * 50_000), "nested too deeply"),
    (_safetensors(b"[" + b"{}," * 200_000 + b"{}]"), "too many objects"),
    (_safetensors({"a": _entry()}, bytes(4)), "takes 8 bytes|cover"),
    (_safetensors({"a": _entry(offsets=(0, 1 << 40))}, bytes(8)), "takes 8 bytes"),
    (_safetensors({"a": _entry(shape=(1 << 62, 4), offsets=(0, 8))}, bytes(8)), "takes"),
    (_safetensors({"a": _entry(), "b": _entry(offsets=(4, 12))}, bytes(12)), "overlaps"),
    (_safetensors({"a": _entry(), "b": _entry(offsets=(12, 20))}, bytes(20)), "gap"),
    (_safetensors({"a": _entry()}, bytes(16)), "cover 8 bytes"),
    (_safetensors({"a": _entry(dtype="X99")}, bytes(8)), "unknown dtype"),
    (_safetensors({"a": _entry(dtype="C64", shape=(1,))}, bytes(8)), "dtype C64"),
    (_safetensors({"a": _entry(shape=(-2,))}, bytes(8)), "natural numbers"),
    (_safetensors({"a": _entry(shape=(2.0,))}, bytes(8)), "natural numbers"),
    (_safetensors({"a": {"dtype": "F32"}}, bytes(8)), "described by"),
    (_safetensors({"__metadata__": {"k": 1}}), "strings to strings"),
    (_safetensors(b'{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, '
                  b'"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}', bytes(8)),
     "duplicate"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_hostile_safetensors_are_refused(blob, match, tmp_path):
    from retrograd.safetensors import SafetensorError, load, load_file

    path = tmp_path / "x.safetensors"
    path.write_bytes(blob)
    tracemalloc.start()
    try:
        for read in (lambda: load(blob), lambda: load_file(path)):
            with pytest.raises(SafetensorError, match=match) as info:
                read()
            assert isinstance(info.value, UnsafeFileError)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < LIMIT


def test_truncated_safetensors_are_refused():
    from retrograd.safetensors import SafetensorError, load

    data = rg.safetensors.save(_rg_state())
    for cut in (0, 7, 8, 20, len(data) // 2, len(data) - 1):
        with pytest.raises(SafetensorError):
            load(data[:cut])


# ---- DLPack and NumPy --------------------------------------------------------------------------


def test_numpy_views_are_zero_copy_both_ways():
    t = rg.arange(6.0).reshape(2, 3)
    for view in (np.asarray(t), np.from_dlpack(t), t.numpy()):
        view[0, 0] += 10
    assert t[0, 0].item() == 30.0
    arr = np.arange(12, dtype=np.int32).reshape(3, 4)[:, ::2]  # not contiguous
    for r in (rg.from_dlpack(arr), rg.utils.dlpack.from_dlpack(arr)):
        arr[1, 1] = -1
        assert r[1, 1].item() == -1 and r.dtype is rg.int32 and r.shape == (3, 2)
        r.data[0, 0] = 99
        assert arr[0, 0] == 99
    copied = rg.from_dlpack(np.ones(2), copy=True)
    assert not np.shares_memory(copied.numpy(), np.ones(2))
    mask = rg.from_dlpack(np.array([True, False]))
    assert mask.dtype is rg.bool and mask.tolist() == [True, False]
    assert t.__dlpack_device__() == (1, 0)


def test_array_protocol_dtype_and_copy():
    t = rg.arange(3, dtype=rg.float32)
    assert np.asarray(t) is t.numpy()
    assert np.asarray(t, dtype=np.float32) is t.numpy()
    d = np.asarray(t, dtype=np.float64)
    assert d.dtype == np.float64 and not np.shares_memory(d, t.numpy())
    c = np.array(t, copy=True)
    assert not np.shares_memory(c, t.numpy()) and c.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="avoid copy"):
        np.asarray(t, dtype=np.float64, copy=False)


def test_tensors_that_require_grad_are_not_exported(torch_ref):
    torch = torch_ref
    mine, theirs = rg.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    for exc, call in ((RuntimeError, np.asarray), (BufferError, lambda x: x.__dlpack__())):
        with pytest.raises(exc) as a:
            call(mine)
        with pytest.raises(exc) as b:
            call(theirs)
        assert str(a.value) == str(b.value)
    assert np.asarray(mine.detach()).tolist() == [1.0, 1.0]


def test_dlpack_with_torch_is_zero_copy(torch_ref):
    torch = torch_ref
    t = rg.arange(6.0).reshape(2, 3).t()
    tt = torch.from_dlpack(t)
    tt[0, 1] = 42.0
    assert t[0, 1].item() == 42.0 and tt.stride() == (1, 3)
    back = rg.from_dlpack(tt)
    back.data[2, 0] = -7.0
    assert tt[2, 0].item() == -7.0
    src = torch.arange(4, dtype=torch.int16)
    r = rg.from_dlpack(torch.utils.dlpack.to_dlpack(src))  # a bare capsule
    src[0] = 9
    assert r.tolist() == [9, 1, 2, 3] and r.dtype is rg.int16
    assert torch.from_dlpack(rg.utils.dlpack.to_dlpack(rg.tensor([True]))).tolist() == [True]
    flipped = rg.from_numpy(np.arange(4.0)[::-1])  # PyTorch has no negative strides: a copy
    assert torch.from_dlpack(flipped).tolist() == [3.0, 2.0, 1.0, 0.0]
    with pytest.raises(BufferError, match="negative strides"):
        flipped.__dlpack__(copy=False)
