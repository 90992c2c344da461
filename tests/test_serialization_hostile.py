"""retrograd.load under hostile and damaged files (Note [Hostile files] in serialization.py).

Each hostile file is built here, small on disk, and must be refused with UnsafeFileError while
load allocates less than 100 MB (peak measured with tracemalloc, which sees NumPy's buffers).
The zip archives are written by hand so that their directories can state any sizes.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

import retrograd as rg
from retrograd.serialization import UnsafeFileError

LIMIT = 100 << 20
GIB = 1 << 30


# ---- building files ------------------------------------------------------------------------


class Member:
    """One zip member: its stored bytes, and the sizes / CRC its directory entry states."""

    def __init__(self, name: str, data: bytes, *, deflated: bool = False, size=None,
                 stored_size=None, crc=None) -> None:
        self.name = name.encode()
        self.raw = zlib.compress(data, 9)[2:-4] if deflated and size is None else data
        self.method = zipfile.ZIP_DEFLATED if deflated else zipfile.ZIP_STORED
        self.size = len(data) if size is None else size
        self.stored_size = len(self.raw) if stored_size is None else stored_size
        self.crc = zlib.crc32(data) if crc is None else crc


def archive(*members: Member) -> bytes:
    out, central = io.BytesIO(), io.BytesIO()
    for m in members:
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, m.method, 0, 0x21, m.crc,
                              m.stored_size, m.size, len(m.name), 0) + m.name + m.raw)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, m.method, 0,
                                  0x21, m.crc, m.stored_size, m.size, len(m.name), 0, 0, 0, 0,
                                  0, offset) + m.name)
    cd = central.getvalue()
    start = out.tell()
    out.write(cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                               len(cd), start, 0))
    return out.getvalue()


def deflated_repeat(chunk: bytes, times: int) -> bytes:
    """A raw DEFLATE stream of ``chunk * times``, built without compressing all of it: a chunk
    compressed up to a byte-aligned sync point decodes the same wherever it is repeated, when
    the chunk is one repeated byte (its back-references see the same bytes)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_SYNC_FLUSH)
    return block * times + c.flush(zlib.Z_FINISH)


def manifest(root, **extra) -> Member:
    return Member("manifest.json", json.dumps({"format": "retrograd", "version": 1,
                                               "root": root, **extra}).encode())


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def npy_header(shape, dtype="<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": dtype, "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue()


def refused(data: bytes, match: str | None = None) -> UnsafeFileError:
    """Load ``data``; it must raise UnsafeFileError having allocated less than LIMIT."""
    tracemalloc.start()
    try:
        with pytest.raises(UnsafeFileError, match=match) as info:
            rg.load(io.BytesIO(data))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < LIMIT, f"load allocated {peak / 2**20:.0f} MB before refusing"
    assert isinstance(info.value, RuntimeError)  # PyTorch's type for damaged files
    return info.value


# ---- the three files of the issue ------------------------------------------------------------


def test_zip_bomb_array_is_refused_before_decompressing():
    n = 2 * GIB // 8  # 2 GiB of float64 zeros in about 2 MB
    header = npy_header((n,))
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = c.compress(header) + c.flush(zlib.Z_SYNC_FLUSH)
    stream += deflated_repeat(bytes(1 << 20), 2048)
    data = archive(manifest({"t": "tensor", "a": 0}),
                   _raw_member("arrays/0.npy", stream, len(header) + 8 * n))
    assert len(data) < 4 << 20
    assert "zip bomb" in str(refused(data))


def _raw_member(name: str, stream: bytes, size: int) -> Member:
    m = Member(name, b"", deflated=True, size=size, crc=0)
    m.raw, m.stored_size = stream, len(stream)
    return m


def test_manifest_of_a_gibibyte_of_spaces_is_refused_unread():
    stream = deflated_repeat(b" " * (1 << 20), 1024)
    data = archive(_raw_member("manifest.json", stream, GIB))
    assert len(data) < 4 << 20
    refused(data, match="manifest.json is 1073741824 bytes")


def test_one_array_referenced_2000_times_is_refused():
    arr = np.zeros(1 << 17)  # 1 MiB
    data = archive(manifest({"t": "list", "v": [{"t": "ndarray", "a": 0}] * 2000}),
                   Member("arrays/0.npy", npy(arr)))
    assert len(data) < 2 << 20
    refused(data, match="more than once")
    # also mixing kinds: a tensor, then the same array as an ndarray
    data = archive(manifest({"t": "list", "v": [{"t": "tensor", "a": 0},
                                                {"t": "npscalar", "a": 0}]}),
                   Member("arrays/0.npy", npy(arr)))
    refused(data, match="more than once")


def test_one_tensor_referenced_2000_times_is_one_tensor():
    # tied weights: the same tensor, read once (no memory per reference)
    data = archive(manifest({"t": "list", "v": [{"t": "tensor", "a": 0}] * 2000}),
                   Member("arrays/0.npy", npy(np.ones(3))))
    out = rg.load(io.BytesIO(data))
    assert len(out) == 2000 and all(t is out[0] for t in out)
    assert out[0].tolist() == [1.0, 1.0, 1.0]


# ---- sizes stated versus held ----------------------------------------------------------------


def test_moderately_compressed_member_over_the_ratio_is_refused():
    stream = deflated_repeat(b" " * (1 << 20), 32)  # 32 MiB of spaces: under the size cap
    data = archive(_raw_member("manifest.json", stream, 32 << 20))
    refused(data, match="zip bomb")


def test_directory_that_understates_a_members_size_cannot_make_load_read_more():
    # The stream holds 1 GiB of spaces; the directory says 64 bytes: reading stops there.
    stream = deflated_repeat(b" " * (1 << 20), 1024)
    data = archive(_raw_member("manifest.json", stream, 64))
    refused(data)


def test_npy_header_declaring_more_than_the_member_holds_is_refused():
    for shape in [(1 << 40,), (1 << 20, 1 << 20), (4,)]:
        data = archive(manifest({"t": "tensor", "a": 0}),
                       Member("arrays/0.npy", npy_header(shape) + bytes(16)))
        refused(data, match="declares an array of shape")


def test_stored_member_claiming_more_bytes_than_the_file_has_is_refused():
    n = 2 * GIB // 8
    header = npy_header((n,))
    m = Member("arrays/0.npy", header + bytes(64), size=len(header) + 8 * n,
               stored_size=len(header) + 8 * n)
    data = archive(manifest({"t": "tensor", "a": 0}), m)
    refused(data, match="past the end of the file")


def test_stored_member_whose_sizes_disagree_is_refused():
    body = npy(np.ones(4))
    m = Member("arrays/0.npy", body, size=len(body) + 8)
    refused(archive(manifest({"t": "tensor", "a": 0}), m), match="stored uncompressed")


def test_other_compression_methods_are_refused():
    body = npy(np.ones(4))
    m = Member("arrays/0.npy", body)
    m.method = zipfile.ZIP_BZIP2
    refused(archive(manifest({"t": "tensor", "a": 0}), m), match="compression method 12")


def test_deflated_files_within_limits_still_load():
    buf = io.BytesIO()
    sd = {"w": rg.arange(6.0).reshape(2, 3), "b": rg.zeros(1000)}
    rg.save(sd, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src:
        rezipped = io.BytesIO()
        with zipfile.ZipFile(rezipped, "w", zipfile.ZIP_DEFLATED) as dst:
            for n in src.namelist():
                dst.writestr(n, src.read(n))
    out = rg.load(io.BytesIO(rezipped.getvalue()))
    assert out["w"].tolist() == sd["w"].tolist() and out["b"].tolist() == [0.0] * 1000


# ---- the manifest's shape --------------------------------------------------------------------


def test_manifest_describing_millions_of_objects_is_refused_before_parsing():
    items = [{"t": "list", "v": []}] * 200_000
    data = archive(manifest({"t": "list", "v": items}))
    refused(data, match="too many objects")


def test_deep_nesting_is_refused():
    deep = "[" * 200_000 + "]" * 200_000  # json's own recursion limit
    data = archive(Member("manifest.json", deep.encode()))
    refused(data, match="nested too deeply")
    root = None
    for _ in range(150):  # valid JSON, but deeper than MAX_DEPTH containers
        root = {"t": "list", "v": [root]}
    refused(archive(manifest(root)), match="nested more than 100")
    root = 1
    for _ in range(50):
        root = {"t": "list", "v": [root]}
    out = rg.load(io.BytesIO(archive(manifest(root))))
    for _ in range(50):
        out = out[0]
    assert out == 1


BAD_ROOTS = {
    "no root": None,
    "tensor without array": {"t": "tensor"},
    "array number a string": {"t": "tensor", "a": "0"},
    "array number negative": {"t": "ndarray", "a": -1},
    "array number a float": {"t": "ndarray", "a": 0.0},
    "missing array": {"t": "ndarray", "a": 5},
    "list of not a list": {"t": "list", "v": {"x": 1}},
    "keys and values differ": {"t": "dict", "k": [1, 2], "v": [3]},
    "unhashable key": {"t": "dict", "k": [{"t": "list", "v": []}], "v": [1]},
    "bad base64": {"t": "bytes", "v": "***"},
    "bad float": {"t": "float", "v": "one"},
    "bad dtype": {"t": "dtype", "v": "float7"},
    "bad size": {"t": "size", "v": ["x"]},
    "unknown kind": {"t": "pickle"},
    "no kind": {"x": 1},
    "bad version": "version",
}


@pytest.mark.parametrize("what", list(BAD_ROOTS))
def test_malformed_manifest_entries_raise_one_error_type(what):
    if what == "no root":
        m = Member("manifest.json", b'{"format": "retrograd", "version": 1}')
    elif what == "bad version":
        m = manifest(None, version="1")
    else:
        m = manifest(BAD_ROOTS[what])
    refused(archive(m, Member("arrays/0.npy", npy(np.ones(2)))))


@pytest.mark.parametrize("text", [b"{", b"\xff\xfe", b'{"format": 1e99999999999}', b"[]",
                                  b'{"root": ' + b"9" * 5000 + b"}"])
def test_manifest_that_is_not_valid_json_or_not_an_object(text):
    refused(archive(Member("manifest.json", text)))


def test_object_and_structured_arrays_are_refused():
    for arr in [np.array([None, 1], dtype=object), np.zeros(2, dtype=[("a", "f4")])]:
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=True)
        data = archive(manifest({"t": "ndarray", "a": 0}), Member("arrays/0.npy",
                                                                  buf.getvalue()))
        refused(data)


# ---- damaged files ---------------------------------------------------------------------------


def _saved() -> bytes:
    buf = io.BytesIO()
    rg.save({"w": rg.arange(1000.0), "b": rg.ones(3), "step": 7}, buf)
    return buf.getvalue()


def test_truncated_files_are_refused():
    data = _saved()
    for cut in [0, 1, 3, 30, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1]:
        refused(data[:cut])


def test_a_flipped_byte_in_array_data_is_refused():
    data = bytearray(_saved())
    at = data.index(np.arange(1000, dtype=np.float32)[500:501].tobytes())
    data[at] ^= 0xFF
    refused(bytes(data), match="CRC")


def test_files_that_are_not_zips_are_refused():
    rng = np.random.default_rng(0)
    for data in [b"", b"hello", rng.bytes(4096), pickle.dumps({"w": 1}),
                 b"PK\x03\x04" + rng.bytes(100)]:
        refused(data)
