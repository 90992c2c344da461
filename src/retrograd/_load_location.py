"""``load(f, map_location=...)``: where loaded tensors go, as PyTorch spells it.

Every tensor of a file is saved (and loaded) on the CPU, so its saved location is ``"cpu"``.
``map_location`` may be ``None`` or a device (or its name, or a device index) to move every
tensor there; a dict from saved location to location (``{"cuda:0": "cpu"}``: only the entry
for ``"cpu"`` can apply); or a function called as ``fn(tensor, "cpu")`` for each tensor, whose
result replaces the tensor unless it is ``None`` (PyTorch passes a storage; retrograd has none,
so ``lambda storage, loc: storage`` works the same).
"""

from __future__ import annotations

from typing import Any

from ._types import device
from .tensor import Tensor


def check_map_location(where) -> None:
    if where is None or isinstance(where, (str, device, dict, int)) or callable(where):
        if isinstance(where, bool):
            raise TypeError("map_location must be a device, a dict or a function, not a bool")
        if isinstance(where, dict):
            for k, v in where.items():
                if not isinstance(k, str) or not isinstance(v, (str, device)):
                    raise TypeError(f"map_location maps saved locations (strings) to devices; "
                                    f"got {k!r:.40}: {v!r:.40}")
        return
    raise TypeError(f"map_location must be a device, a string, a dict or a function "
                    f"(storage, location) -> storage, not {type(where).__name__}")


def _target(where):
    """The device every tensor goes to, a function to apply, or None to leave them."""
    if where is None:
        return None
    if isinstance(where, dict):
        where = where.get("cpu")
        if where is None:
            return None
    if isinstance(where, int):
        where = device("cuda", where)
    if isinstance(where, (str, device)):
        d = device(where) if isinstance(where, str) else where
        return None if d.type == "cpu" else d
    return where  # a function


def relocate(obj: Any, where) -> Any:
    target = _target(where)
    if target is None:
        return obj
    if isinstance(target, device):
        def move(t: Tensor) -> Tensor:
            return t.to(target)
    else:
        def move(t: Tensor) -> Tensor:
            out = target(t, "cpu")
            return t if out is None else out
    return _walk(obj, move)


def _walk(obj: Any, move) -> Any:
    """``obj`` with each tensor in its containers (and each module's tensors) moved; no
    recursion, memoised so tied tensors stay tied."""
    from .nn.module import Module  # nn sits above this module

    done: dict[int, Any] = {}

    def one(x):
        if isinstance(x, Tensor):
            if id(x) not in done:
                done[id(x)] = move(x)
            return done[id(x)]
        if isinstance(x, Module):
            if id(x) not in done:
                done[id(x)] = x._apply(lambda t: one(t))
            return done[id(x)]
        return x

    if not isinstance(obj, (dict, list, tuple)):
        return one(obj)
    # containers are rebuilt bottom-up: an explicit stack of (container, finished?)
    rebuilt: dict[int, Any] = {}
    stack = [(obj, False)]
    seen = set()
    while stack:
        c, finished = stack.pop()
        if not finished:
            if id(c) in seen:
                continue
            seen.add(id(c))
            stack.append((c, True))
            children = c.values() if isinstance(c, dict) else c
            stack.extend((v, False) for v in children if isinstance(v, (dict, list, tuple)))
            continue

        def get(v):
            return rebuilt.get(id(v), v) if isinstance(v, (dict, list, tuple)) else one(v)
        if isinstance(c, dict):
            new = type(c)() if type(c) is not dict else {}
            for k, v in c.items():
                new[k] = get(v)
            if hasattr(c, "_metadata"):
                new._metadata = c._metadata
        elif isinstance(c, list):
            new = [get(v) for v in c]
        else:
            items = [get(v) for v in c]
            new = type(c)(*items) if hasattr(c, "_fields") else type(c)(items)
        rebuilt[id(c)] = new
    return rebuilt[id(obj)]
