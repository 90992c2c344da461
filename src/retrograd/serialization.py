"""Saving and loading: ``retrograd.save`` / ``retrograd.load`` in a format that runs no code.

Note [The file format]
    A file is a zip archive (stored, not compressed) with
      * ``manifest.json``: ``{"format": "retrograd", "version": 1, "root": <node>}``, where a
        node is a JSON null, bool, number or string standing for itself, or an object
        ``{"t": kind, ...}`` for everything else: ``tensor`` (``"a"``: array number,
        ``"rg"``: requires_grad, ``"param"``: whether it was an ``nn.Parameter``), ``ndarray``,
        ``list``, ``tuple``, ``dict`` / ``odict`` (keys and values as two node lists, so keys
        need not be strings), ``size``, ``dtype``, ``device``, ``bytes``, ``float`` (inf and
        nan, which JSON cannot spell);
      * ``arrays/<n>.npy``: the array data, in NumPy's ``.npy`` format.
    Loading parses JSON and reads ``.npy`` files with ``allow_pickle=False``, so a file can
    only ever produce data, never run code: that is why ``load`` needs no ``weights_only``
    switch (it is accepted for PyTorch compatibility). A tensor that appears several times
    in the saved object (tied weights) is stored once and comes back as one tensor; distinct
    tensors that merely share memory (views) come back as separate copies.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import zipfile
from collections import OrderedDict
from typing import IO, Any

import numpy as np

from . import dtypes as _dt
from .tensor import Size, Tensor, _wrap, device

__all__ = ["load", "save"]

_FORMAT = "retrograd"
_VERSION = 1
_MANIFEST = "manifest.json"


def save(obj: Any, f: str | os.PathLike | IO[bytes], pickle_module=None,
         pickle_protocol: int | None = None, _use_new_zipfile_serialization: bool = True) -> None:
    """Save ``obj`` (tensors, arrays, numbers, strings, None, and dicts / lists / tuples of
    them: state dicts and optimizer states) to the path or binary file ``f``."""
    writer = _Writer()
    root = writer.encode(obj)
    manifest = json.dumps({"format": _FORMAT, "version": _VERSION, "root": root},
                          allow_nan=False, separators=(",", ":"))
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            _write_zip(fh, manifest, writer.arrays)
    else:
        _write_zip(f, manifest, writer.arrays)


def load(f: str | os.PathLike | IO[bytes], map_location=None, pickle_module=None, *,
         weights_only: bool | None = None, mmap: bool | None = None, **pickle_load_args) -> Any:
    """Load an object saved by ``retrograd.save`` from a path or binary file.

    Everything loads onto the CPU (``map_location`` is accepted and otherwise ignored); no
    code from the file is ever run, whatever ``weights_only`` says.
    """
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return _read_zip(fh, str(f))
    return _read_zip(f, getattr(f, "name", "the given file"))


# ---- writing ---------------------------------------------------------------------------------


def _write_zip(fh: IO[bytes], manifest: str, arrays: list[np.ndarray]) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(_MANIFEST, manifest)
        for i, arr in enumerate(arrays):
            with zf.open(f"arrays/{i}.npy", "w", force_zip64=True) as out:
                np.lib.format.write_array(out, arr, allow_pickle=False)


class _Writer:
    """Turns an object into a JSON-able node tree, collecting the arrays on the side."""

    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []
        self.tensors: dict[int, int] = {}  # id(tensor) -> array number (tied tensors once)
        self.keep: list[Tensor] = []  # keeps memoised tensors alive so ids stay unique
        self.active: set[int] = set()  # containers being encoded (to catch cycles)

    def array(self, arr: np.ndarray) -> int:
        if arr.dtype.kind in "OV":
            raise TypeError(f"can't save a NumPy array of dtype {arr.dtype}; only numeric and "
                            "bool arrays can be stored safely")
        self.arrays.append(arr)
        return len(self.arrays) - 1

    def encode(self, obj) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and not isinstance(obj, bool):
            return int(obj)
        if isinstance(obj, float):
            if math.isfinite(obj):
                return float(obj)
            return {"t": "float", "v": repr(obj)}
        if isinstance(obj, Tensor):
            return self.tensor(obj)
        if isinstance(obj, np.ndarray):
            return {"t": "ndarray", "a": self.array(obj)}
        if isinstance(obj, np.generic):
            return {"t": "npscalar", "a": self.array(np.asarray(obj))}
        if isinstance(obj, _dt.dtype):
            return {"t": "dtype", "v": obj.name}
        if isinstance(obj, device):
            return {"t": "device", "v": str(obj)}
        if isinstance(obj, Size):
            return {"t": "size", "v": list(obj)}
        if isinstance(obj, (bytes, bytearray)):
            return {"t": "bytes", "v": base64.b64encode(bytes(obj)).decode("ascii")}
        if isinstance(obj, (list, tuple, dict)):
            if id(obj) in self.active:
                raise ValueError("can't save a container that contains itself")
            self.active.add(id(obj))
            try:
                return self.container(obj)
            finally:
                self.active.discard(id(obj))
        hint = ""
        if hasattr(obj, "state_dict"):
            hint = (" Save its state instead: retrograd.save(obj.state_dict(), f), and restore "
                    f"it with {type(obj).__name__}(...).load_state_dict(retrograd.load(f)).")
        raise TypeError(
            f"retrograd.save can't store an object of type {type(obj).__name__}: it stores "
            "tensors, NumPy arrays, numbers, strings, None and dicts, lists and tuples of them "
            f"(so that loading never runs code).{hint}")

    def container(self, obj) -> dict:
        if isinstance(obj, tuple) and hasattr(obj, "_fields"):
            raise TypeError(f"can't save the namedtuple {type(obj).__name__}; convert it with "
                            "._asdict() or tuple(...) first")
        if isinstance(obj, list):
            return {"t": "list", "v": [self.encode(x) for x in obj]}
        if isinstance(obj, tuple):
            return {"t": "tuple", "v": [self.encode(x) for x in obj]}
        kind = "odict" if isinstance(obj, OrderedDict) else "dict"
        node = {"t": kind, "k": [self.encode(k) for k in obj],
                "v": [self.encode(v) for v in obj.values()]}
        meta = getattr(obj, "_metadata", None)  # Module.state_dict() attaches version info
        if isinstance(meta, dict):
            node["meta"] = self.encode(meta)
        return node

    def tensor(self, t: Tensor) -> dict:
        key = id(t)
        if key not in self.tensors:
            self.tensors[key] = self.array(t._data)
            self.keep.append(t)
        node = {"t": "tensor", "a": self.tensors[key], "rg": t._requires_grad}
        if type(t).__name__ == "Parameter":
            node["param"] = True
        return node


# ---- reading ---------------------------------------------------------------------------------


def _read_zip(fh: IO[bytes], name: str) -> Any:
    data = fh.read() if not fh.seekable() else None
    source = io.BytesIO(data) if data is not None else fh
    start = source.tell()
    magic = source.read(4)
    source.seek(start)
    if magic[:2] != b"PK":
        kind = "a pickle (a legacy torch.save file?)" if magic[:1] == b"\x80" else "not a zip file"
        raise RuntimeError(
            f"{name} is not a retrograd file ({kind}); retrograd.load reads only files written "
            "by retrograd.save, and never unpickles data.")
    with zipfile.ZipFile(source) as zf:
        names = set(zf.namelist())
        if _MANIFEST not in names:
            torch_like = any(n.endswith("data.pkl") for n in names)
            what = "a file written by torch.save" if torch_like else "a zip file of another kind"
            raise RuntimeError(
                f"{name} is {what}, not a retrograd file: it has no {_MANIFEST}. retrograd.load "
                "reads only files written by retrograd.save (it never runs pickle code); to "
                "bring in PyTorch weights, load them with torch, convert each tensor with "
                ".numpy(), and save them with retrograd.save.")
        manifest = json.loads(zf.read(_MANIFEST))
        if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
            raise RuntimeError(f"{name} has no retrograd manifest; was it written by "
                               "retrograd.save?")
        if manifest.get("version", 0) > _VERSION:
            raise RuntimeError(
                f"{name} was written by a newer retrograd (format version "
                f"{manifest['version']}; this one reads up to {_VERSION}); upgrade retrograd.")
        return _Reader(zf, names).decode(manifest["root"])


class _Reader:
    def __init__(self, zf: zipfile.ZipFile, names: set[str]) -> None:
        self.zf = zf
        self.names = names
        self.tensors: dict[int, Tensor] = {}

    def array(self, index) -> np.ndarray:
        entry = f"arrays/{int(index)}.npy"
        if entry not in self.names:
            raise RuntimeError(f"corrupt retrograd file: the manifest refers to {entry}, which "
                               "is missing")
        with self.zf.open(entry) as fh:
            return np.lib.format.read_array(fh, allow_pickle=False)

    def decode(self, node) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or "t" not in node:
            raise RuntimeError(f"corrupt retrograd file: unexpected manifest entry {node!r:.80}")
        kind = node["t"]
        if kind == "tensor":
            return self.tensor(node)
        if kind == "ndarray":
            return self.array(node["a"])
        if kind == "npscalar":
            return self.array(node["a"])[()]
        if kind == "list":
            return [self.decode(x) for x in node["v"]]
        if kind == "tuple":
            return tuple(self.decode(x) for x in node["v"])
        if kind in ("dict", "odict"):
            pairs = zip((self.decode(k) for k in node["k"]), (self.decode(v) for v in node["v"]))
            out = OrderedDict(pairs) if kind == "odict" else dict(pairs)
            if "meta" in node and kind == "odict":
                out._metadata = self.decode(node["meta"])
            return out
        if kind == "float":
            return float(node["v"])
        if kind == "dtype":
            return _dt._from_name(node["v"])
        if kind == "device":
            return device(node["v"])
        if kind == "size":
            return Size(int(x) for x in node["v"])
        if kind == "bytes":
            return base64.b64decode(node["v"])
        raise RuntimeError(f"corrupt retrograd file: unknown entry kind {kind!r}")

    def tensor(self, node: dict) -> Tensor:
        key = int(node["a"])
        if key in self.tensors:
            return self.tensors[key]
        arr = self.array(key)
        _dt.from_numpy_dtype(arr.dtype)  # a dtype retrograd has tensors for, or TypeError
        if node.get("param"):
            from .nn.parameter import Parameter  # nn sits above this module

            t = Parameter(_wrap(arr), requires_grad=bool(node.get("rg", True)))
        else:
            t = _wrap(arr)
            if node.get("rg"):
                t.requires_grad_(True)
        self.tensors[key] = t
        return t
