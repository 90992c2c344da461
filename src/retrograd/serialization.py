"""Saving and loading: ``retrograd.save`` / ``retrograd.load`` in a format that runs no code.

``load`` also reads PyTorch checkpoints, and ``save(..., format="torch")`` writes them: see
``_torch_zip.py`` (Note [PyTorch's checkpoint layout]) and ``_torch_pickle.py``.

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

Note [Hostile files]
    ``load`` may be handed a file crafted to hurt it. Besides never running code, it bounds
    what a file can make it allocate, checking each size against what the file really holds
    before allocating anything for it:
      * the manifest is at most ``MAX_MANIFEST_BYTES``, and is read with that cap whatever the
        zip directory says; a cheap count of its brackets and commas bounds the objects JSON
        parsing would build before parsing, and nesting deeper than ``MAX_DEPTH`` is refused;
      * each ``.npy`` member's header (shape times item size) must match the member's size in
        the zip directory exactly, and its data is read in bounded chunks into one buffer of
        that size, so a directory that lies ends the read with an error, not a larger buffer;
      * a compressed member (``save`` never compresses; someone re-zipped the file) may expand
        at most ``MAX_COMPRESSION_RATIO`` times, which stops zip bombs;
      * each array member is read once: a tensor referenced again is the same tensor (tied
        weights); any other repeated reference is refused, so 1 MB cannot become 2 GB.
    Every refusal, and every damaged file (truncated, not a zip, bad JSON, bad entries), raises
    ``UnsafeFileError`` with a message saying what is wrong with the file.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import pickle
import zipfile
import zlib
from collections import OrderedDict
from typing import IO, Any

import numpy as np

from . import dtypes as _dt
from ._object_pickle import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from ._types import Size, device
from .tensor import Tensor, _wrap

__all__ = ["ForbiddenGlobalError", "UnsafeFileError", "add_safe_globals", "clear_safe_globals",
           "get_safe_globals", "load", "safe_globals", "save"]

_FORMAT = "retrograd"
_VERSION = 2  # 1: the manifest alone; 2: also files that hold a pickle (_object_pickle.py)
_MANIFEST = "manifest.json"

# Limits on what a file may make ``load`` do (Note [Hostile files]); module attributes, so a
# program that trusts its files and needs more can raise them.
MAX_MANIFEST_BYTES = 64 << 20  # also the budget for the objects parsing it would build
MAX_DEPTH = 100  # nesting of containers in the saved object
MAX_COMPRESSION_RATIO = 100  # expansion allowed to a compressed member (save never compresses)
_SMALL = 1 << 16  # members this small may compress any amount
_CHUNK = 1 << 20  # array data is read this much at a time


class UnsafeFileError(RuntimeError, ValueError):
    """``retrograd.load`` refused a file: damaged, not a retrograd file, or crafted to make
    loading run out of memory. A RuntimeError, as PyTorch raises for damaged files (and a
    ValueError, as NumPy raises for arrays it won't unpickle)."""


class ForbiddenGlobalError(UnsafeFileError, pickle.UnpicklingError):
    """A PyTorch checkpoint's pickle names a global that ``retrograd.load`` does not call. Both
    an ``UnsafeFileError`` and the ``pickle.UnpicklingError`` that PyTorch's
    ``weights_only=True`` load raises."""


def save(obj: Any, f: str | os.PathLike | IO[bytes], pickle_module=None,
         pickle_protocol: int | None = None, _use_new_zipfile_serialization: bool = True, *,
         format: str = "retrograd") -> None:  # noqa: A002 - the name users expect
    """Save ``obj`` (tensors, arrays, numbers, strings, None, and dicts / lists / tuples of
    them: state dicts and optimizer states) to the path or binary file ``f``.

    ``format="torch"`` writes PyTorch's own checkpoint format instead, which
    ``torch.load(f, weights_only=True)`` reads (and ``retrograd.load`` too); it stores tensors,
    numbers, strings, bytes, None, and dicts, lists, tuples and sets of them, but not NumPy
    arrays. Tensors that share memory share it again after loading.

    Any other object (a whole ``nn.Module``, an instance of your own class) is stored with
    pickle, its tensors and arrays beside it as data (Note [Files that hold a pickle] in
    ``_object_pickle.py``); loading it needs ``weights_only=False`` or ``safe_globals``.
    """
    if format == "torch":
        from ._torch_zip import save_zip

        _to_file(f, lambda fh: save_zip(obj, fh))
        return
    if format != "retrograd":
        raise ValueError(f"retrograd.save: format must be 'retrograd' or 'torch', not "
                         f"{format!r}")
    writer = _Writer()
    extra = {}
    version = 1
    try:
        root = writer.encode(obj)
    except _NeedsPickle:  # Note [Files that hold a pickle]
        from . import _object_pickle

        writer = _Writer()
        extra = {_object_pickle.PICKLE_MEMBER: _object_pickle.dump(obj, writer, pickle_protocol)}
        root, version = {"t": "pickle"}, 2
    manifest = json.dumps({"format": _FORMAT, "version": version, "root": root},
                          allow_nan=False, separators=(",", ":"))
    _to_file(f, lambda fh: _write_zip(fh, manifest, writer.arrays, extra))


def _to_file(f, write) -> None:
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            write(fh)
    else:
        write(f)


def load(f: str | os.PathLike | IO[bytes], map_location=None, pickle_module=None, *,
         weights_only: bool | None = None, mmap: bool | None = None, **pickle_load_args) -> Any:
    """Load an object saved by ``retrograd.save``, or a PyTorch checkpoint written by
    ``torch.save`` (a state dict, tensors, containers of them), from a path or binary file.

    Files of tensors and containers never run code. A PyTorch checkpoint's pickle runs on a
    machine that only rebuilds tensors and plain data (as PyTorch's ``weights_only=True``),
    and one that names any other global raises ``ForbiddenGlobalError`` (a
    ``pickle.UnpicklingError``), whatever ``weights_only`` says. A retrograd file that holds a
    pickle (a whole model) loads as in PyTorch 2.6+: with ``weights_only=True`` (the default)
    only if every class it names was allowed with ``serialization.safe_globals`` /
    ``add_safe_globals``, else ``ForbiddenGlobalError`` naming the first one, having run
    nothing; with ``weights_only=False`` through Python's pickle (trusted files only: it runs
    any code the file names). A damaged or hostile file raises ``UnsafeFileError`` (a
    RuntimeError) before load allocates more than the file justifies (Note [Hostile files]).

    ``map_location`` may be a device or its name, a dict from saved location (``"cpu"``) to
    location, or a function ``(tensor, location) -> tensor``, as in PyTorch.
    """
    from ._load_location import check_map_location, relocate

    check_map_location(map_location)
    trusted = weights_only is False
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            out = _read_zip(fh, str(f), trusted)
    else:
        out = _read_zip(f, getattr(f, "name", "the given file"), trusted)
    return relocate(out, map_location)


class _NeedsPickle(Exception):
    """The object holds something the manifest cannot spell: the file must hold a pickle."""


# ---- writing ---------------------------------------------------------------------------------


def _write_zip(fh: IO[bytes], manifest: str, arrays: list[np.ndarray],
               extra: dict | None = None) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(_MANIFEST, manifest)
        for member, data in (extra or {}).items():
            zf.writestr(member, data)
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
        raise _NeedsPickle(type(obj).__name__)

    def container(self, obj) -> dict:
        if isinstance(obj, tuple) and hasattr(obj, "_fields"):
            raise _NeedsPickle(type(obj).__name__)
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

# What a damaged file makes zipfile, json, NumPy or the decoding below raise.
_DAMAGED = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, KeyError,
            IndexError, TypeError, ValueError, OverflowError, RecursionError, NotImplementedError)


def _read_zip(fh: IO[bytes], name: str, trusted: bool = False) -> Any:
    try:
        return _read_checked(fh, name, trusted)
    except UnsafeFileError:
        raise
    except _DAMAGED as e:
        raise UnsafeFileError(
            f"{name} is damaged or is not a valid retrograd file ({type(e).__name__}: "
            f"{str(e)[:200]}); it may be truncated or corrupted. Save it again with "
            "retrograd.save.") from e


def _read_checked(fh: IO[bytes], name: str, trusted: bool) -> Any:
    data = fh.read() if not fh.seekable() else None
    source = io.BytesIO(data) if data is not None else fh
    start = source.tell()
    magic = source.read(4)
    end = source.seek(0, io.SEEK_END)
    source.seek(start)
    if magic[:1] == b"\x80":  # a pickle: PyTorch's legacy format, or nothing we read
        from ._torch_zip import read_legacy

        return read_legacy(source, end, name)
    if magic[:2] != b"PK":
        raise UnsafeFileError(
            f"{name} is not a retrograd file (not a zip file); retrograd.load reads files "
            "written by retrograd.save or torch.save.")
    with zipfile.ZipFile(source) as zf:
        zf.archive_size = end  # where the data ends: members must end before
        names = set(zf.namelist())
        if _MANIFEST not in names:
            if any(n.endswith("/data.pkl") for n in names):  # written by torch.save
                from ._torch_zip import read_zip

                return read_zip(zf, names, name)
            raise UnsafeFileError(
                f"{name} is a zip file of another kind, not a retrograd file nor a PyTorch "
                f"checkpoint: it has no {_MANIFEST} and no data.pkl.")
        manifest = _read_manifest(zf, name)
        if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
            raise UnsafeFileError(f"{name} has no retrograd manifest; was it written by "
                                  "retrograd.save?")
        version = manifest.get("version", 0)
        if not isinstance(version, int) or "root" not in manifest:
            lacks = "no root" if "root" not in manifest else "a bad format version"
            raise UnsafeFileError(f"{name}: corrupt retrograd file: its manifest has {lacks}")
        if version > _VERSION:
            raise UnsafeFileError(
                f"{name} was written by a newer retrograd (format version {version}; this one "
                f"reads up to {_VERSION}); upgrade retrograd.")
        root = manifest["root"]
        if isinstance(root, dict) and root.get("t") == "pickle" and version >= 2:
            return _read_pickled(zf, names, name, trusted)
        return _Reader(zf, names, name).decode(root, 0)


def _read_pickled(zf: zipfile.ZipFile, names: set[str], name: str, trusted: bool) -> Any:
    """A file that holds a pickle (Note [Files that hold a pickle])."""
    from . import _object_pickle as op
    from . import _torch_pickle

    if op.PICKLE_MEMBER not in names:
        raise UnsafeFileError(f"{name}: corrupt retrograd file: its manifest says it holds a "
                              f"pickle, but it has no {op.PICKLE_MEMBER}")
    info = zf.getinfo(op.PICKLE_MEMBER)
    if info.file_size > MAX_MANIFEST_BYTES and not trusted:
        raise UnsafeFileError(
            f"{name}: {op.PICKLE_MEMBER} is {info.file_size} bytes, more than the "
            f"{MAX_MANIFEST_BYTES} allowed (retrograd.serialization.MAX_MANIFEST_BYTES).")
    _check_member(zf, info, name)
    data = zf.read(info)
    persistent_load = op.PersistentLoad(_Reader(zf, names, name))
    if trusted:
        return op.load_trusted(data, persistent_load)
    return _torch_pickle.load(data, name, persistent_load, own=True)


def _check_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> None:
    """Refuse a member whose stated sizes are more than the file can justify."""
    if info.header_offset + info.compress_size > zf.archive_size:
        raise UnsafeFileError(
            f"{name}: member {info.filename} would extend past the end of the file "
            f"({info.compress_size} bytes at offset {info.header_offset} in a file of "
            f"{zf.archive_size} bytes); the file is truncated or its zip directory is wrong.")
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            raise UnsafeFileError(
                f"{name}: member {info.filename} is stored uncompressed, but the zip directory "
                f"gives it {info.file_size} bytes and {info.compress_size} stored bytes.")
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise UnsafeFileError(
            f"{name}: member {info.filename} uses zip compression method {info.compress_type}; "
            "retrograd files are stored uncompressed (or DEFLATE-compressed).")
    if info.file_size > _SMALL and info.file_size > MAX_COMPRESSION_RATIO * info.compress_size:
        raise UnsafeFileError(
            f"{name}: member {info.filename} would expand from {info.compress_size} to "
            f"{info.file_size} bytes (more than {MAX_COMPRESSION_RATIO}:1): a zip bomb? "
            "retrograd.save never compresses; refusing to decompress it.")


def _read_manifest(zf: zipfile.ZipFile, name: str) -> Any:
    info = zf.getinfo(_MANIFEST)
    if info.file_size > MAX_MANIFEST_BYTES:
        raise UnsafeFileError(
            f"{name}: {_MANIFEST} is {info.file_size} bytes, more than the "
            f"{MAX_MANIFEST_BYTES} allowed (retrograd.serialization.MAX_MANIFEST_BYTES).")
    _check_member(zf, info, name)
    with zf.open(info) as fh:
        # In chunks: one large read lets zipfile decompress that much, whatever the directory
        # says the member holds.
        parts = []
        left = info.file_size + 1
        while left > 0:
            part = fh.read(min(left, _CHUNK))
            if not part:
                break
            parts.append(part)
            left -= len(part)
    raw = b"".join(parts)
    if len(raw) != info.file_size:
        raise UnsafeFileError(f"{name}: {_MANIFEST} holds {len(raw)} bytes, but the zip "
                              f"directory says {info.file_size}.")
    # Bound what json.loads and decoding will build before building it: about 8 bytes per
    # item (twice: parsed, then decoded), and a dict or list per bracket.
    cost = len(raw) + 16 * raw.count(b",") + 500 * raw.count(b"{") + 150 * raw.count(b"[")
    if cost > MAX_MANIFEST_BYTES:
        raise UnsafeFileError(
            f"{name}: {_MANIFEST} describes too many objects ({raw.count(b'{')} objects, "
            f"{raw.count(b'[')} lists, {raw.count(b',')} items in {len(raw)} bytes); loading "
            f"it would take more than about {MAX_MANIFEST_BYTES} bytes of memory.")
    try:
        return json.loads(raw)
    except RecursionError:
        raise UnsafeFileError(f"{name}: {_MANIFEST} is nested too deeply.") from None
    except ValueError as e:
        raise UnsafeFileError(f"{name}: {_MANIFEST} is not valid JSON ({e}).") from None


class _Reader:
    def __init__(self, zf: zipfile.ZipFile, names: set[str], name: str) -> None:
        self.zf = zf
        self.names = names
        self.name = name
        self.tensors: dict[int, Tensor] = {}
        self.read: set[int] = set()  # array members already read (each may be read once)

    def array(self, index) -> np.ndarray:
        if index.__class__ is not int or index < 0:
            raise UnsafeFileError(f"{self.name}: corrupt retrograd file: array number "
                                  f"{index!r:.40} in the manifest is not a natural number")
        entry = f"arrays/{index}.npy"
        if entry not in self.names:
            raise UnsafeFileError(f"{self.name}: corrupt retrograd file: the manifest refers to "
                                  f"{entry}, which is missing")
        if index in self.read:
            raise UnsafeFileError(
                f"{self.name}: the manifest refers to {entry} more than once (not as one "
                "tensor); retrograd.save writes each array once, and loading it again for "
                "every reference could take far more memory than the file holds.")
        self.read.add(index)
        return _read_npy(self.zf, self.zf.getinfo(entry), self.name)

    def decode(self, node, depth: int) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or "t" not in node:
            raise UnsafeFileError(f"{self.name}: corrupt retrograd file: unexpected manifest "
                                  f"entry {node!r:.80}")
        if depth >= MAX_DEPTH:
            raise UnsafeFileError(
                f"{self.name}: the saved object is nested more than {MAX_DEPTH} containers deep "
                "(retrograd.serialization.MAX_DEPTH).")
        kind = node["t"]
        try:
            return self._decode(node, kind, depth + 1)
        except (KeyError, TypeError, ValueError) as e:
            if isinstance(e, UnsafeFileError):
                raise
            what = f"lacks the field {e}" if isinstance(e, KeyError) else f"is invalid ({e})"
            raise UnsafeFileError(f"{self.name}: corrupt retrograd file: a manifest entry of "
                                  f"kind {kind!r:.40} {what}") from None

    def _decode(self, node: dict, kind, depth: int) -> Any:
        if kind == "tensor":
            return self.tensor(node)
        if kind == "ndarray":
            return self.array(node["a"])
        if kind == "npscalar":
            return self.array(node["a"])[()]
        if kind == "list":
            return [self.decode(x, depth) for x in _items(node["v"])]
        if kind == "tuple":
            return tuple([self.decode(x, depth) for x in _items(node["v"])])
        if kind in ("dict", "odict"):
            keys = [self.decode(k, depth) for k in _items(node["k"])]
            values = [self.decode(v, depth) for v in _items(node["v"])]
            if len(keys) != len(values):
                raise UnsafeFileError(f"{self.name}: corrupt retrograd file: a dict has "
                                      f"{len(keys)} keys and {len(values)} values")
            out = OrderedDict(zip(keys, values)) if kind == "odict" else dict(zip(keys, values))
            if "meta" in node and kind == "odict":
                out._metadata = self.decode(node["meta"], depth)
            return out
        if kind == "float":
            return float(node["v"])
        if kind == "dtype":
            try:
                return _dt._from_name(node["v"])
            except KeyError:
                raise ValueError(f"no dtype is named {node['v']!r:.40}") from None
        if kind == "device":
            return device(node["v"])
        if kind == "size":
            return Size(int(x) for x in _items(node["v"]))
        if kind == "bytes":
            return base64.b64decode(node["v"], validate=True)
        raise UnsafeFileError(f"{self.name}: corrupt retrograd file: unknown entry kind "
                              f"{kind!r:.40}")

    def tensor(self, node: dict) -> Tensor:
        key = node["a"]
        if key.__class__ is int and key in self.tensors:
            return self.tensors[key]  # tied weights: one tensor, read once
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


def _items(v) -> list:
    if not isinstance(v, list):
        raise TypeError(f"expected a list in the manifest, found {type(v).__name__}")
    return v


def _read_npy(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> np.ndarray:
    """Read one ``.npy`` member, allocating only what its size in the zip directory allows."""
    _check_member(zf, info, name)
    fmt = np.lib.format
    with zf.open(info) as fh:
        version = fmt.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(fh)
        else:
            raise UnsafeFileError(f"{name}: {info.filename} has .npy format version "
                                  f"{version}; retrograd reads versions 1.0 and 2.0")
        if dtype.hasobject:
            raise UnsafeFileError(
                f"{name}: {info.filename} holds Python objects (dtype {dtype}), which only "
                "pickle can rebuild; retrograd.load never unpickles (allow_pickle=False).")
        if dtype.kind == "V" or dtype.itemsize == 0:
            raise UnsafeFileError(f"{name}: {info.filename} has dtype {dtype}; retrograd files "
                                  "hold only numeric, bool and string arrays")
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        held = info.file_size - fh.tell()
        if nbytes != held:
            raise UnsafeFileError(
                f"{name}: {info.filename} declares an array of shape {list(shape)} and dtype "
                f"{dtype} ({nbytes} bytes), but the member holds {held} bytes of data.")
        arr = np.empty(count, dtype)  # not zero-filled: every byte is read into it below
        view = memoryview(arr.view(np.uint8))
        pos = 0
        while pos < nbytes:
            n = fh.readinto(view[pos:pos + _CHUNK])
            if not n:
                raise UnsafeFileError(f"{name}: {info.filename} ends after {pos} of its "
                                      f"{nbytes} bytes of data (truncated?).")
            pos += n
        view.release()
        if fh.read(1):
            raise UnsafeFileError(f"{name}: {info.filename} is longer than the zip directory "
                                  "says.")
    return arr.reshape(shape, order="F" if fortran else "C")
