"""safetensors files, read and written without the ``safetensors`` package.

The functions mirror ``safetensors.torch``: ``save_file(tensors, filename, metadata=None)``,
``load_file(filename)``, and ``save`` / ``load`` for bytes::

    from retrograd.safetensors import load_file, save_file
    model.load_state_dict(load_file("model.safetensors"), strict=False)

Note [The safetensors format]
    A file is an 8-byte little-endian length N, N bytes of a JSON header, and the tensors'
    bytes. The header maps each name to ``{"dtype": "F32", "shape": [2, 3], "data_offsets":
    [begin, end]}``, offsets counted from the end of the header, and may hold string-to-string
    ``"__metadata__"``. Data is little-endian and C-contiguous; the tensors' byte ranges, in
    order, tile the data exactly (no gaps, no overlaps); the header is padded with spaces to a
    multiple of 8 bytes. A file is only data, so loading runs nothing; a hostile one is
    refused with ``SafetensorError`` before loading allocates more than the file holds: the
    header length must fit the file and ``serialization.MAX_MANIFEST_BYTES`` (its JSON is
    bounded as the retrograd manifest is), names are unique, every dtype known, every shape's
    size equal to its byte range, and the ranges tile the data.
"""

from __future__ import annotations

import json
import math
import os
import struct
import warnings
from typing import IO

import numpy as np

from . import dtypes as _dt
from . import serialization as _ser
from .tensor import Tensor, _wrap

__all__ = ["SafetensorError", "load", "load_file", "save", "save_file"]

# The format's dtype names, for the dtypes retrograd has.
_NAMES = {_dt.float64: "F64", _dt.float32: "F32", _dt.float16: "F16", _dt.int64: "I64",
          _dt.int32: "I32", _dt.int16: "I16", _dt.int8: "I8", _dt.uint8: "U8", _dt.bool: "BOOL"}
_DTYPES = {v: k for k, v in _NAMES.items()}
_RANK = {d: i for i, d in enumerate((_dt.int64, _dt.float64, _dt.float32, _dt.int32, _dt.float16,
                                     _dt.int16, _dt.int8, _dt.uint8, _dt.bool))}
# Dtypes of the format retrograd has no tensors of (with their item sizes, to check ranges).
_FOREIGN = {"BF16": 2, "U16": 2, "U32": 4, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1,
            "F8_E8M0": 1, "C64": 8, "F4": 1, "F6_E2M3": 1, "F6_E3M2": 1}


class SafetensorError(_ser.UnsafeFileError):
    """A safetensors file (or bytes) that can't be loaded: damaged, or crafted to hurt."""


# ---- writing ---------------------------------------------------------------------------------


def save(tensors: dict[str, Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """The safetensors bytes of ``tensors`` (a dict of names to tensors)."""
    header, arrays = _layout(tensors, metadata)
    return b"".join([header] + [a.tobytes() for a in arrays])


def save_file(tensors: dict[str, Tensor], filename: str | os.PathLike,
              metadata: dict[str, str] | None = None) -> None:
    """Write ``tensors`` (a dict of names to tensors) to the safetensors file ``filename``."""
    header, arrays = _layout(tensors, metadata)
    with open(filename, "wb") as fh:
        fh.write(header)
        for a in arrays:
            fh.write(memoryview(a.reshape(-1)).cast("B") if a.size else b"")


def _layout(tensors, metadata) -> tuple[bytes, list[np.ndarray]]:
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, Tensor] but received {type(tensors)}")
    for k, v in tensors.items():
        if not isinstance(k, str):
            raise ValueError(f"Key {k!r} is invalid, expected a str")
        if not isinstance(v, Tensor):
            raise ValueError(f"Key `{k}` is invalid, expected a Tensor but received {type(v)}")
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise ValueError("metadata must be a dict of str to str")
    _refuse_shared(tensors)
    # the order the safetensors package writes: by dtype (widest first), then by name
    order = sorted(tensors, key=lambda k: (_RANK[_dt.from_numpy_dtype(tensors[k]._data.dtype.
                                                                      newbyteorder("="))], k))
    header: dict = {} if not metadata else {"__metadata__": dict(metadata)}
    arrays = []
    offset = 0
    for k in order:
        arr = tensors[k]._data
        arr = arr.astype(arr.dtype.newbyteorder("<"), order="C", copy=False)
        header[k] = {"dtype": _NAMES[_dt.from_numpy_dtype(arr.dtype.newbyteorder("="))],
                     "shape": list(arr.shape), "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
        arrays.append(arr)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text, arrays


def _refuse_shared(tensors: dict) -> None:
    """Tensors whose memory overlaps can't be written apart and loaded as one again."""
    by_root: dict = {}
    for k, v in tensors.items():
        root = v._data
        while isinstance(root.base, np.ndarray):
            root = root.base
        by_root.setdefault(id(root), []).append(k)
    shared = [names for names in by_root.values() if len(names) > 1 and any(
        np.shares_memory(tensors[a]._data, tensors[b]._data)
        for i, a in enumerate(names) for b in names[i + 1:])]
    if shared:
        raise RuntimeError(
            f"Some tensors share memory, this will lead to duplicate memory on disk and "
            f"potential differences when loading them again: {shared}. Save one name per "
            "memory (or .clone() the others).")


# ---- reading ---------------------------------------------------------------------------------


def load(data: bytes) -> dict[str, Tensor]:
    """The tensors of safetensors ``data`` (bytes)."""
    data = memoryview(data).cast("B")
    entries, start = _header(data[:8].tobytes(), lambda n: data[8:8 + n].tobytes(),
                             len(data), "the given bytes")
    out = {}
    for k, dtype_name, shape, begin, end in entries:
        raw = np.frombuffer(data, np.uint8, end - begin, start + begin).copy()
        out[k] = _tensor(raw, dtype_name, shape)
    return out


def load_file(filename: str | os.PathLike, device: str | int = "cpu") -> dict[str, Tensor]:
    """The tensors of the safetensors file ``filename`` (on the CPU, whatever ``device``)."""
    name = str(filename)
    with open(filename, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(0)
        entries, start = _header(fh.read(8), fh.read, size, name)
        out = {}
        for k, dtype_name, shape, begin, end in entries:
            out[k] = _tensor(_read(fh, start + begin, end - begin, name), dtype_name, shape)
    return out


def _read(fh: IO[bytes], at: int, nbytes: int, name: str) -> np.ndarray:
    out = np.empty(nbytes, np.uint8)
    fh.seek(at)
    if nbytes and fh.readinto(memoryview(out)) != nbytes:
        raise SafetensorError(f"{name}: the file ends inside a tensor's data (truncated?)")
    return out


def _tensor(raw: np.ndarray, dtype_name: str, shape: list) -> Tensor:
    if dtype_name == "BF16":  # the top half of a float32: widening it is exact
        warnings.warn("retrograd has no bfloat16: BF16 tensors are loaded as float32 (exactly)",
                      stacklevel=3)
        arr = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
    else:
        np_dtype = _DTYPES[dtype_name].np
        arr = raw.view(np_dtype.newbyteorder("<")).astype(np_dtype, copy=False)
    return _wrap(arr.reshape(shape))


def _header(first: bytes, read, size: int, name: str) -> tuple[list, int]:
    """Parse and check the header (Note [The safetensors format]); return its entries in the
    header's order, as (name, dtype, shape, begin, end), and where the data starts."""
    if len(first) < 8:
        raise SafetensorError(f"{name}: {len(first)} bytes, too short for a safetensors header")
    (n,) = struct.unpack("<Q", first)
    if n > size - 8:
        raise SafetensorError(f"{name}: the header length {n} is more than the "
                              f"{size - 8} bytes that follow it (truncated, or not safetensors)")
    if n > _ser.MAX_MANIFEST_BYTES:
        raise SafetensorError(f"{name}: the header is {n} bytes, more than the "
                              f"{_ser.MAX_MANIFEST_BYTES} allowed "
                              "(retrograd.serialization.MAX_MANIFEST_BYTES)")
    raw = read(n)
    if len(raw) != n:
        raise SafetensorError(f"{name}: the file ends inside its header (truncated?)")
    cost = len(raw) + 16 * raw.count(b",") + 500 * raw.count(b"{") + 150 * raw.count(b"[")
    if cost > _ser.MAX_MANIFEST_BYTES:
        raise SafetensorError(f"{name}: the header describes too many objects to parse")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique)
    except RecursionError:
        raise SafetensorError(f"{name}: the header is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise SafetensorError(f"{name}: the header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise SafetensorError(f"{name}: the header is not a JSON object")
    meta = header.pop("__metadata__", None)
    if meta is not None and not (isinstance(meta, dict) and all(
            isinstance(v, str) for v in meta.values())):
        raise SafetensorError(f"{name}: __metadata__ must map strings to strings")
    entries = [_entry(k, v, name) for k, v in header.items()]
    pos = 0
    for k, _, _, begin, end in sorted(entries, key=lambda e: (e[3], e[4])):
        if begin != pos:
            what = "overlaps the one before" if begin < pos else "leaves a gap before it"
            raise SafetensorError(f"{name}: tensor {k!r}'s data_offsets [{begin}, {end}] "
                                  f"{what} (it should start at {pos})")
        pos = end
    if pos != size - 8 - n:
        raise SafetensorError(f"{name}: the tensors cover {pos} bytes of data, but the file "
                              f"holds {size - 8 - n} after the header")
    return entries, 8 + n


def _unique(pairs: list) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        names = [k for k, _ in pairs]
        raise ValueError(f"duplicate name {next(k for k in names if names.count(k) > 1)!r}")
    return out


def _naturals(v, most: int) -> bool:
    return isinstance(v, list) and len(v) <= most and all(
        x.__class__ is int and x >= 0 for x in v)


def _entry(k: str, v, name: str) -> tuple:
    if not isinstance(v, dict) or set(v) != {"dtype", "shape", "data_offsets"}:
        raise SafetensorError(f"{name}: tensor {k!r:.80} is described by {v!r:.80}, not by "
                              "dtype, shape and data_offsets")
    dtype_name, shape, offsets = v["dtype"], v["shape"], v["data_offsets"]
    if dtype_name in _FOREIGN and dtype_name != "BF16":
        raise SafetensorError(f"{name}: tensor {k!r:.80} has dtype {dtype_name}, which "
                              "retrograd has no tensors of")
    if dtype_name not in _DTYPES and dtype_name != "BF16":
        raise SafetensorError(f"{name}: tensor {k!r:.80} has an unknown dtype {dtype_name!r:.40}")
    if not _naturals(shape, 64) or not _naturals(offsets, 2) or len(offsets) != 2:
        raise SafetensorError(f"{name}: tensor {k!r:.80} has shape {shape!r:.80} and "
                              f"data_offsets {offsets!r:.80}; both must be natural numbers")
    begin, end = offsets
    itemsize = 2 if dtype_name == "BF16" else _DTYPES[dtype_name].itemsize
    if end - begin != math.prod(shape) * itemsize:
        raise SafetensorError(f"{name}: tensor {k!r:.80} of shape {shape} and dtype "
                              f"{dtype_name} takes {math.prod(shape) * itemsize} bytes, but its "
                              f"data_offsets [{begin}, {end}] hold {end - begin}")
    return k, dtype_name, shape, begin, end
