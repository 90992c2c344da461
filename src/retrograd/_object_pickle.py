"""Whole objects (a model, any class) in a retrograd file, and the allow-list of globals that
``load(weights_only=True)`` may use: ``serialization.safe_globals`` and friends.

Note [Files that hold a pickle]
    ``save`` stores what its JSON manifest can spell (tensors, arrays, numbers, strings and
    containers of them) without pickle. Anything else (an ``nn.Module``, an instance of a user's
    class) needs pickle, as in PyTorch: the file is then the same zip, with manifest version 2,
    root ``{"t": "pickle"}``, and a member ``object.pkl``. Tensors, arrays, dtypes, devices and
    ``Size`` never enter the pickle as classes: they are persistent ids (``("tensor", n,
    requires_grad, is_parameter)`` with the data in ``arrays/<n>.npy`` as usual, ``("dtype",
    name)``, ...), so a file names no global of retrograd's own and depends on no private layout.

    Loading such a file follows PyTorch 2.6+:
      * ``weights_only=True`` (the default) runs the pickle on the restricted machine of Note [A
        pickle that can only build data] (``_torch_pickle``). It knows no class of the user's,
        so it stops at the first global the pickle names (``__main__.Net``) with
        ``ForbiddenGlobalError`` naming it, having run nothing, unless the user allowed that
        global with ``add_safe_globals`` / ``safe_globals``. An allowed class may be
        constructed (``cls.__new__``, then ``__setstate__`` or an update of ``__dict__``) and
        an allowed function called; nothing else is.
      * ``weights_only=False`` runs Python's pickle: any code the file names runs, so only for
        files from a trusted source (PyTorch documents the same).
"""

from __future__ import annotations

import contextlib
import io
import pickle
import threading
from typing import Any

import numpy as np

from . import dtypes as _dt
from ._types import Size, device
from .tensor import Tensor

PICKLE_MEMBER = "object.pkl"

# ---- the allow-list --------------------------------------------------------------------------

_lock = threading.Lock()
_added: list = []  # add_safe_globals, for the whole process
_local = threading.local()  # safe_globals(...) blocks, per thread


def _check_entries(entries) -> list:
    if not isinstance(entries, (list, tuple)):
        raise TypeError(f"safe globals must be a list of classes or functions (or (object, "
                        f"'module.name') pairs), not {type(entries).__name__}")
    for e in entries:
        if isinstance(e, tuple):
            if len(e) != 2 or not isinstance(e[1], str) or "." not in e[1]:
                raise TypeError(f"a safe global given as a tuple must be (object, "
                                f"'module.name'), not {e!r:.80}")
        elif not hasattr(e, "__qualname__") or not hasattr(e, "__module__"):
            raise TypeError(f"{e!r:.80} is not a class or function; safe globals are the "
                            "classes and functions a pickle may name")
    return list(entries)


def add_safe_globals(safe_globals: list) -> None:
    """Allow ``load(weights_only=True)`` to use these classes and functions, from now on."""
    entries = _check_entries(safe_globals)
    with _lock:
        _added.extend(entries)


def get_safe_globals() -> list:
    """The globals added with ``add_safe_globals``."""
    with _lock:
        return list(_added)


def clear_safe_globals() -> None:
    """Forget every global added with ``add_safe_globals``."""
    with _lock:
        _added.clear()


class safe_globals(contextlib.ContextDecorator):  # noqa: N801 - PyTorch's name
    """``with safe_globals([Net, nn.LSTM]):`` allows those globals in ``load`` inside the block
    (in this thread only)."""

    def __init__(self, safe_globals: list) -> None:
        self.entries = _check_entries(safe_globals)

    def __enter__(self) -> safe_globals:
        stack = getattr(_local, "stack", None)
        if stack is None:
            stack = _local.stack = []
        stack.append(self.entries)
        return self

    def __exit__(self, *exc) -> None:
        _local.stack.pop()


def allowed_by_user() -> dict:
    """'module.qualname' -> object, for every global the user allowed (in force now)."""
    with _lock:
        entries = list(_added)
    for block in getattr(_local, "stack", ()):
        entries.extend(block)
    out = {}
    for e in entries:
        if isinstance(e, tuple):
            out[e[1]] = e[0]
        else:
            out[f"{e.__module__}.{e.__qualname__}"] = e
    return out


# ---- writing ---------------------------------------------------------------------------------


class _Pickler(pickle.Pickler):
    def __init__(self, fh, protocol: int, writer) -> None:
        super().__init__(fh, protocol=protocol)
        self.writer = writer  # serialization._Writer: collects the arrays
        self.ndarrays: dict[int, int] = {}
        self.keep: list = []

    def persistent_id(self, obj):
        cls = obj.__class__
        if isinstance(obj, Tensor):
            node = self.writer.tensor(obj)
            return ("tensor", node["a"], bool(node["rg"]), bool(node.get("param", False)))
        if cls is np.ndarray or isinstance(obj, np.generic):
            key = id(obj)
            if key not in self.ndarrays:
                self.ndarrays[key] = self.writer.array(np.asarray(obj))
                self.keep.append(obj)
            return ("ndarray" if cls is np.ndarray else "npscalar", self.ndarrays[key])
        if cls is _dt.dtype:
            return ("dtype", obj.name)
        if cls is device:
            return ("device", str(obj))
        if cls is Size:
            return ("size", tuple(int(n) for n in obj))
        return None


def dump(obj: Any, writer, protocol: int | None) -> bytes:
    """The pickle of ``obj``, its tensors and arrays collected by ``writer``."""
    buf = io.BytesIO()
    _Pickler(buf, 2 if protocol is None else protocol, writer).dump(obj)
    return buf.getvalue()


# ---- reading ---------------------------------------------------------------------------------


class PersistentLoad:
    """Turns the persistent ids of Note [Files that hold a pickle] back into objects."""

    def __init__(self, reader) -> None:
        self.reader = reader  # serialization._Reader: reads each array member once
        self.arrays: dict[int, Any] = {}

    def __call__(self, pid) -> Any:
        from .serialization import UnsafeFileError

        if not isinstance(pid, tuple) or not pid or not isinstance(pid[0], str):
            raise UnsafeFileError(f"{self.reader.name}: corrupt retrograd file: the pickle "
                                  f"holds an unknown persistent id {pid!r:.80}")
        kind, args = pid[0], pid[1:]
        if kind == "tensor" and len(args) == 3:
            return self.reader.tensor({"a": args[0], "rg": args[1] is True,
                                       "param": args[2] is True})
        if kind in ("ndarray", "npscalar") and len(args) == 1:
            if args[0] not in self.arrays:
                arr = self.reader.array(args[0])
                self.arrays[args[0]] = arr if kind == "ndarray" else arr[()]
            return self.arrays[args[0]]
        if kind in ("dtype", "device", "size") and len(args) == 1:
            return self.reader._decode({"t": kind, "v": args[0] if kind != "size" else
                                        list(args[0])}, kind, 1)
        raise UnsafeFileError(f"{self.reader.name}: corrupt retrograd file: the pickle holds an "
                              f"unknown persistent id {pid!r:.80}")


class _TrustedUnpickler(pickle.Unpickler):
    def __init__(self, fh, persistent_load) -> None:
        super().__init__(fh)
        self._persistent = persistent_load

    def persistent_load(self, pid):
        return self._persistent(pid)


def load_trusted(data: bytes, persistent_load) -> Any:
    """``weights_only=False``: Python's pickle, which runs whatever the file names."""
    return _TrustedUnpickler(io.BytesIO(data), persistent_load).load()
