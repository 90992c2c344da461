"""PyTorch checkpoints: ``torch.save``'s zip format read and written, its legacy format read.

Note [PyTorch's checkpoint layout]
    ``torch.save`` writes a zip archive whose members sit in one folder (``archive/``):
    ``data.pkl`` (the saved object, a pickle whose tensors name their storages by persistent
    ids ``("storage", torch.FloatStorage, key, location, numel)``), ``data/<key>`` (each
    storage's raw bytes), ``byteorder`` (``little`` or ``big``), ``version`` and a few
    bookkeeping members; storages are stored uncompressed and aligned to 64 bytes. A tensor is
    ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)``:
    a strided view of its storage, so tensors that share memory share a storage.

    Loading reads ``data.pkl`` on the machine of Note [A pickle that can only build data]
    (``_torch_pickle``) and each storage member once, checking its size in the zip directory
    against the size its persistent id declares before allocating it (Note [Hostile files] in
    serialization.py holds for these files too); tensors come back as NumPy views of their
    storages, so tensors that shared memory when saved share it after loading.

    The legacy format (``_use_new_zipfile_serialization=False``) is five pickles in a row
    (a magic number, a protocol version, system info, the object, the storage keys) followed
    by each storage as an 8-byte element count and its bytes; it is read the same way.
"""

from __future__ import annotations

import codecs
import io
import pickle
import struct
import sys
import zipfile
from collections import OrderedDict
from typing import IO, Any

import numpy as np

from . import _torch_pickle as tp
from . import serialization as _ser
from ._types import Size, device
from .dtypes import dtype as _Dtype
from .serialization import UnsafeFileError
from .tensor import Tensor

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_ALIGN = 64


def _damaged(name: str, e: Exception) -> UnsafeFileError:
    return UnsafeFileError(
        f"{name} is damaged or is not a valid PyTorch checkpoint ({type(e).__name__}: "
        f"{str(e)[:200]}); it may be truncated or corrupted.")


# ---- reading ---------------------------------------------------------------------------------


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, nbytes: int, name: str
                 ) -> np.ndarray:
    """A member's bytes as a uint8 array, once its size in the directory is ``nbytes``."""
    if info.file_size != nbytes:
        raise UnsafeFileError(
            f"{name}: {info.filename} holds {info.file_size} bytes, but the checkpoint "
            f"declares {nbytes} for it; the file is damaged or crafted.")
    _ser._check_member(zf, info, name)
    out = np.empty(nbytes, np.uint8)  # not zero-filled: every byte is read into it below
    view = memoryview(out)
    pos = 0
    with zf.open(info) as fh:
        while pos < nbytes:
            n = fh.readinto(view[pos:pos + _ser._CHUNK])
            if not n:
                raise UnsafeFileError(f"{name}: {info.filename} ends after {pos} of its "
                                      f"{nbytes} bytes (truncated?).")
            pos += n
        if fh.read(1):
            raise UnsafeFileError(f"{name}: {info.filename} is longer than the zip directory "
                                  "says.")
    view.release()
    return out


def _read_small(zf: zipfile.ZipFile, member: str, limit: int, name: str) -> bytes:
    info = zf.getinfo(member)
    if info.file_size > limit:
        raise UnsafeFileError(
            f"{name}: {member} is {info.file_size} bytes, more than the {limit} allowed "
            "(retrograd.serialization.MAX_MANIFEST_BYTES).")
    return _read_member(zf, info, info.file_size, name).tobytes()


def _storage_id(pid, name: str) -> tuple:
    """Check a persistent id; return (storage type, key, element count)."""
    if (not isinstance(pid, tuple) or len(pid) not in (5, 6) or pid[0] != "storage"
            or not isinstance(pid[1], tp._StorageType) or not isinstance(pid[2], str)
            or not isinstance(pid[4], int) or isinstance(pid[4], bool) or pid[4] < 0
            or (len(pid) == 6 and pid[5] is not None)):
        raise UnsafeFileError(f"{name}: the checkpoint refers to a storage as {pid!r:.100}, "
                              "not as ('storage', type, key, location, size)")
    return pid[1], pid[2], pid[4]


def read_zip(zf: zipfile.ZipFile, names: set, name: str) -> Any:
    """Load the object of a ``torch.save`` zip archive (Note [PyTorch's checkpoint layout])."""
    folders = sorted({n[:-len("/data.pkl")] for n in names
                      if n.endswith("/data.pkl") and n.count("/") == 1})
    if len(folders) != 1:
        raise UnsafeFileError(f"{name}: a PyTorch checkpoint has one data.pkl in one folder; "
                              f"this one has {len(folders)}.")
    top = folders[0]
    big = False
    if f"{top}/byteorder" in names:
        order = _read_small(zf, f"{top}/byteorder", 16, name)
        if order not in (b"little", b"big"):
            raise UnsafeFileError(f"{name}: its byteorder is {order!r:.30}, not little or big")
        big = order == b"big"
    data = _read_small(zf, f"{top}/data.pkl", _ser.MAX_MANIFEST_BYTES, name)
    storages: dict = {}

    def persistent_load(pid) -> tp.StorageRef:
        kind, key, numel = _storage_id(pid, name)
        nbytes = numel * kind.itemsize
        storage = storages.get(key)
        if storage is None:
            member = f"{top}/data/{key}"
            if member not in names:
                raise UnsafeFileError(f"{name}: the checkpoint refers to {member}, which is "
                                      "missing")
            storage = storages[key] = tp.Storage(
                _read_member(zf, zf.getinfo(member), nbytes, name), big)
        elif len(storage.raw) != nbytes:
            raise UnsafeFileError(f"{name}: storage {key} is declared with two sizes")
        return tp.StorageRef(storage, kind)

    return _run(data, name, persistent_load)


def _run(data, name: str, persistent_load) -> Any:
    try:
        return tp.load(data, name, persistent_load)
    except UnsafeFileError:
        raise
    except (*_ser._DAMAGED, AttributeError, pickle.UnpicklingError) as e:
        raise _damaged(name, e) from e


def read_legacy(source: IO[bytes], end: int, name: str) -> Any:
    """Load a file of ``torch.save(..., _use_new_zipfile_serialization=False)``."""
    start = source.tell()
    head = io.BytesIO(source.read(min(end - start, _ser.MAX_MANIFEST_BYTES)))

    def refuse(pid):
        raise UnsafeFileError(f"{name}: a storage outside the saved object")

    magic = _run(head, name, refuse)
    if magic != _LEGACY_MAGIC:
        raise UnsafeFileError(f"{name} is not a retrograd file nor a PyTorch checkpoint (it is "
                              "a pickle without PyTorch's magic number); retrograd.load never "
                              "runs pickles of other kinds.")
    version = _run(head, name, refuse)
    info = _run(head, name, refuse)
    if version != 1001 or not isinstance(info, dict):
        raise UnsafeFileError(f"{name}: legacy PyTorch checkpoint of protocol {version!r:.20}; "
                              "retrograd reads protocol 1001")
    big = info.get("little_endian") is False
    storages: dict = {}
    numels: dict = {}
    declared = 0

    def persistent_load(pid) -> tp.StorageRef:
        nonlocal declared
        kind, key, numel = _storage_id(pid, name)
        storage = storages.get(key)
        if storage is None:
            numels[key] = numel
            declared += numel * kind.itemsize + 8
            if declared > end - start:  # checked before allocating anything for it
                raise UnsafeFileError(f"{name}: its storages declare more bytes than the file "
                                      f"holds ({end - start} bytes).")
            storage = storages[key] = tp.Storage(np.empty(numel * kind.itemsize, np.uint8),
                                                 big, filled=False)
        return tp.StorageRef(storage, kind)

    obj = _run(head, name, persistent_load)
    keys = _run(head, name, refuse)
    if not isinstance(keys, list) or sorted(keys) != sorted(storages):
        raise UnsafeFileError(f"{name}: its list of storages does not match the saved object")
    source.seek(start + head.tell())
    for key in keys:
        storage = storages[key]
        count = source.read(8)
        if len(count) != 8:
            raise UnsafeFileError(f"{name}: truncated before storage {key}")
        (numel,) = struct.unpack(">q" if big else "<q", count)
        raw = storage.raw
        if numel != numels[key]:
            raise UnsafeFileError(f"{name}: storage {key} holds {numel} elements, but its "
                                  f"tensors declare {numels[key]}")
        if source.readinto(memoryview(raw)) != len(raw):
            raise UnsafeFileError(f"{name}: truncated inside storage {key}")
        storage.filled = True
    return obj


# ---- writing ---------------------------------------------------------------------------------


_GLOBALS: dict = {}


def _global(module: str, attr: str) -> tp.Global:
    g = _GLOBALS.get((module, attr))
    if g is None:
        g = _GLOBALS[(module, attr)] = tp.Global(module, attr)
    return g


class _StorageOut:
    """A storage to write: ``data`` (1-D uint8, contiguous) of ``numel`` items of ``kind``."""

    __slots__ = ("key", "kind", "numel", "data")

    def __init__(self, key: str, kind, numel: int, data: np.ndarray) -> None:
        self.key, self.kind, self.numel, self.data = key, kind, numel, data


class _TensorData:
    """A Parameter's data, pickled as a plain tensor (PyTorch's ``param.data``)."""

    __slots__ = ("tensor",)

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor


# Types pickled as themselves (their reductions name only globals weights_only allows).
_PLAIN = frozenset((type(None), bool, int, float, complex, str, bytes, bytearray, tuple, list,
                    dict, OrderedDict, set))
_PLAIN_CALLS = (OrderedDict, set, bytearray, complex)


class _Pickler(pickle._Pickler):
    """Writes ``data.pkl`` as torch.save would (Note [PyTorch's checkpoint layout])."""

    dispatch = pickle._Pickler.dispatch.copy()
    dispatch[tp.Global] = tp.save_global
    dispatch[_Dtype] = lambda self, d: self.save_global_name(d, "torch", d.name)

    def __init__(self, file) -> None:
        super().__init__(file, protocol=2, fix_imports=False)
        self.storages: list[_StorageOut] = []
        self.by_root: dict = {}  # (id(root array), dtype) -> _StorageOut
        self.keep: list = []  # objects whose ids the memo holds stay alive until the end

    def save_global_name(self, obj, module: str, attr: str) -> None:
        self.write(pickle.GLOBAL + f"{module}\n{attr}\n".encode())
        self.memoize(obj)

    def persistent_id(self, obj):
        if obj.__class__ is _StorageOut:
            return ("storage", _global("torch", obj.kind.name), obj.key, "cpu", obj.numel)
        return None

    def reducer_override(self, obj):
        cls = obj.__class__
        if cls in _PLAIN or cls is tp.Global or cls is _Dtype:
            return NotImplemented
        if cls is type or callable(obj) and not isinstance(obj, Tensor):
            if obj in _PLAIN_CALLS or obj is codecs.encode:
                return NotImplemented  # how protocol 2 spells ordered dicts, sets and bytes
        if isinstance(obj, Tensor):
            if type(obj).__name__ == "Parameter":
                data = _TensorData(obj)
                self.keep.append(data)
                return (_global("torch._utils", "_rebuild_parameter"),
                        (data, obj.requires_grad, OrderedDict()))
            return self.tensor(obj, obj.requires_grad)
        if cls is _TensorData:
            return self.tensor(obj.tensor, False)
        if cls is Size:
            return (_global("torch", "Size"), (tuple(obj),))
        if cls is device:
            return (_global("torch", "device"), (str(obj),))
        hint = ""
        if isinstance(obj, (np.ndarray, np.generic)):
            hint = " Convert NumPy arrays to tensors (retrograd.from_numpy) first."
        elif hasattr(obj, "state_dict"):
            hint = " Save its state_dict() instead."
        raise TypeError(
            f"retrograd.save(..., format='torch') can't store an object of type "
            f"{type(obj).__name__}: it stores what torch.load(weights_only=True) reads back: "
            f"tensors, numbers, strings, bytes, None, and dicts, lists, tuples and sets of "
            f"them.{hint}")

    def tensor(self, t: Tensor, requires_grad: bool):
        arr = t._data
        storage, offset, strides = self.storage_of(arr)
        return (_global("torch._utils", "_rebuild_tensor_v2"),
                (storage, offset, tuple(arr.shape), strides, bool(requires_grad),
                 OrderedDict()))

    def storage_of(self, arr: np.ndarray) -> tuple:
        """The storage ``arr`` views, its offset and strides in elements (shared by views of
        one array); a private contiguous copy when it can't view one."""
        kind = tp.STORAGE_OF[_dtype_of(arr)]
        item = arr.dtype.itemsize
        root = arr
        while isinstance(root.base, np.ndarray):
            root = root.base
        low = _address(root)
        start = _address(arr)
        shareable = (arr.dtype.isnative and arr.size > 0 and root.nbytes % item == 0
                     and (root.flags.c_contiguous or root.flags.f_contiguous)
                     and (start - low) % item == 0
                     and all(s >= 0 and s % item == 0 for s in arr.strides))
        if not shareable:
            copy = arr.astype(arr.dtype.newbyteorder("="), order="C")
            return self.new_storage(kind, copy), 0, _contiguous_strides(arr.shape)
        key = (id(root), arr.dtype)
        storage = self.by_root.get(key)
        if storage is None:
            storage = self.by_root[key] = self.new_storage(kind, root)
            self.keep.append(root)
        return storage, (start - low) // item, tuple(s // item for s in arr.strides)

    def new_storage(self, kind, arr: np.ndarray) -> _StorageOut:
        flat = arr.ravel(order="K")  # a view: arr is contiguous in some order
        data = flat.view(np.uint8) if flat.size else np.empty(0, np.uint8)
        numel = data.nbytes // kind.itemsize
        storage = _StorageOut(str(len(self.storages)), kind, numel, data)
        self.storages.append(storage)
        return storage


def _dtype_of(arr: np.ndarray):
    from .dtypes import from_numpy_dtype

    return from_numpy_dtype(arr.dtype.newbyteorder("="))


def _address(arr: np.ndarray) -> int:
    return arr.__array_interface__["data"][0]


def _contiguous_strides(shape) -> tuple:
    strides, n = [], 1
    for s in reversed(shape):
        strides.append(n)
        n *= s
    return tuple(reversed(strides))


def save_zip(obj: Any, fh: IO[bytes]) -> None:
    """Write ``obj`` as ``torch.save`` does (Note [PyTorch's checkpoint layout])."""
    buf = io.BytesIO()
    pickler = _Pickler(buf)
    pickler.dump(obj)
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        _put(zf, "archive/data.pkl", buf.getvalue())
        _put(zf, "archive/.format_version", b"1")
        _put(zf, "archive/.storage_alignment", str(_ALIGN).encode())
        _put(zf, "archive/byteorder", sys.byteorder.encode())
        for s in pickler.storages:
            _put(zf, f"archive/data/{s.key}", s.data)
        _put(zf, "archive/version", b"3\n")


def _put(zf: zipfile.ZipFile, member: str, data) -> None:
    """Store ``data`` uncompressed, its first byte at a multiple of 64 bytes in the file (when
    the file's position is known), as torch.save aligns storages for memory mapping."""
    info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    nbytes = len(data) if isinstance(data, bytes) else data.nbytes
    info.file_size = nbytes
    try:
        pos = zf.fp.tell()
    except (AttributeError, OSError):
        pos = None
    if pos is not None:
        zip64 = nbytes * 1.05 > zipfile.ZIP64_LIMIT  # zipfile then adds a 20-byte extra field
        header = 30 + len(member.encode()) + (20 if zip64 else 0) + 4
        pad = -(pos + header) % _ALIGN
        info.extra = struct.pack("<HH", 0x4246, pad) + bytes(pad)  # "FB": padding, as torch
    with zf.open(info, "w") as out:
        for i in range(0, nbytes, _ser._CHUNK * 64) if nbytes else ():
            out.write(data[i:i + _ser._CHUNK * 64])
