"""Provenance: where user code created each node, and where a graph was cut.

Nothing here runs unless asked: ``set_provenance(True)`` (or ``RETROGRAD_PROVENANCE=1``, or the
leak detector) swaps in a recording ``Function.apply`` and wraps the few Tensor methods that cut
a graph (``detach``, ``.data``, ``item``, ``tolist``, ``numpy``, ...); switching off puts the
originals back. The ordinary ``apply`` is never touched, so when provenance is off the hot path
costs exactly what it did.

Note [Sites]
    A site is ``(filename, lineno, function)`` of the first frame outside the retrograd package
    (the tour, ``retrograd.__main__``, counts as user code). Nodes keep theirs in
    ``node.__dict__["_provenance"]`` (and the innermost ``nn.Module`` being called, if any, in
    ``_module``); graph.py reads it to name the line in its errors.

Note [Cuts]
    A tensor that does not require grad although it was computed from one that does carries a
    ``Cut`` in ``t.__dict__["_cut"]``: how the graph was cut (``detach``, ``no_grad``, an
    integer result, ...), where, and a weak set of the nodes the cut tensor came from, so
    ``why_no_grad`` can tell later whether a given tensor lay behind that cut. Ops on a cut
    tensor pass its Cut on. ``item()``/``tolist()``/``numpy()`` give values that cannot carry
    anything, so every cut also goes into a short log (``CUTS``, one entry per place).
"""

from __future__ import annotations

import os
import sys
import weakref

from .. import grad_mode
from ..autograd import graph as _graph
from ..autograd.function import Function
from ..tensor import Tensor

_state = grad_mode.state
_PKG = __name__.split(".")[0]  # "retrograd"
_USER_MODULES = {_PKG + ".__main__", _PKG + ".debug._tour_demo"}  # the tour is user code
_REACH_CAP = 50_000  # nodes remembered behind one cut


_inside: dict = {}  # code object -> is it retrograd's own code (a frame to skip)?


def _is_ours(f) -> bool:
    """Whether frame ``f`` runs retrograd's own code (cached per code object)."""
    code = f.f_code
    skip = _inside.get(code)
    if skip is None:
        name = f.f_globals.get("__name__", "")
        skip = _inside[code] = ((name == _PKG or name.startswith(_PKG + "."))
                                and name not in _USER_MODULES)
    return skip


def find_site(depth: int = 2, via: bool = False):
    """(filename, lineno, function) of the first caller frame outside retrograd; with ``via``,
    also the name of the retrograd function the user called (``mul_``, ``step``)."""
    f = sys._getframe(depth)
    last = None
    while f is not None:
        code = f.f_code
        if not _is_ours(f):
            site = (code.co_filename, f.f_lineno, code.co_name)
            return (site, last) if via else site
        last = code.co_name
        f = f.f_back
    return (None, last) if via else None


def _site_and_module():
    """find_site(), and the innermost nn.Module being called there (or None)."""
    f = sys._getframe(2)
    module = None
    call = _module_call_code()
    while f is not None:
        code = f.f_code
        if code is call and module is None:
            module = f.f_locals.get("self")
        if not _is_ours(f):
            return (code.co_filename, f.f_lineno, code.co_name), module
        f = f.f_back
    return None, module


_call_code = []


def _module_call_code():
    if not _call_code:
        from ..nn import Module

        _call_code.append(Module.__call__.__code__)
    return _call_code[0]


def format_site(site) -> str:
    if site is None:
        return "an unknown place"
    path = site[0]
    try:  # files under the working directory read best relative to it
        rel = os.path.relpath(path)
        if not rel.startswith(".."):
            path = rel
    except ValueError:
        pass
    return f"{path}:{site[1]} (in {site[2]})"


def node_site(node):
    return None if node is None else node.__dict__.get("_provenance")


class Cut:
    """Where and how a graph was cut (Note [Cuts])."""

    __slots__ = ("kind", "op", "site", "reach", "tensor", "__weakref__")

    def __init__(self, kind: str, op: str, site, sources, tensor=None) -> None:
        self.kind = kind  # "detach", "no_grad", "to_python", "integer_cast", "non_differentiable"
        self.op = op  # what did it: "detach()", "item()", "ToCopyBackward0", ...
        self.site = site
        self.reach = _reach(sources)
        self.tensor = None if tensor is None else weakref.ref(tensor)

    def covers(self, node) -> bool:
        """Was ``node`` behind this cut (one of the nodes the cut tensor came from)?"""
        return node is not None and node in self.reach

    def describe(self) -> str:
        what = {
            "detach": f"{self.op} cut the graph",
            "no_grad": f"{self.op} ran under no_grad, so it was not recorded",
            "to_python": f"{self.op} turned a graph tensor into plain values with no history",
            "integer_cast": f"{self.op} gave an integer or bool result, which carries no "
                            "gradient",
            "non_differentiable": f"{self.op} has a result that carries no gradient",
        }[self.kind]
        return f"{what} at {format_site(self.site)}"


def _reach(sources) -> weakref.WeakSet:
    """The nodes reachable from ``sources`` (tensors), iteratively, at most _REACH_CAP."""
    seen = weakref.WeakSet()
    stack = []
    for t in sources:
        node = t.grad_fn if t.grad_fn is not None else t._get_accumulator()
        if node is not None and node not in seen:
            seen.add(node)
            stack.append(node)
    while stack and len(seen) < _REACH_CAP:
        for nxt in stack.pop()._edges:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


CUTS: dict = {}  # (kind, op, site) -> the newest Cut made there; in order of arrival
INPLACE_SITES: dict = {}  # id(version counter) -> (counter, site, op) of the last change


def _log(cut: Cut) -> Cut:
    key = (cut.kind, cut.op, cut.site)
    CUTS.pop(key, None)  # one entry per place, so a loop's cuts don't crowd out the others
    CUTS[key] = cut
    if len(CUTS) > 256:
        del CUTS[next(iter(CUTS))]
    return cut


def recent_cuts() -> list:
    """The logged cuts, newest first."""
    return list(reversed(CUTS.values()))


# ---- the recording apply and the wrapped Tensor methods -------------------------------------

_orig_apply = Function.__dict__["apply"].__func__
_node_hooks: list = []  # called with each new node (the leak detector registers here)


def _recording_apply(cls, *args):
    out = _orig_apply(cls, *args)
    site = module = None
    outs = out if out.__class__ is tuple else (out,)
    for o in outs:
        if not isinstance(o, Tensor):
            continue
        fn = o.grad_fn
        if fn is not None:
            d = fn.__dict__
            if "_provenance" not in d:
                if site is None:
                    site, module = _site_and_module()
                d["_provenance"] = site
                if module is not None:
                    d["_module"] = module
                for hook in _node_hooks:
                    hook(fn)
        elif "_cut" not in o.__dict__:
            cut = _cut_for(cls, args, o)
            if cut is not None:
                o.__dict__["_cut"] = cut
    return out


def _cut_for(cls, args, out: Tensor):
    """Why ``out`` has no grad although its inputs did (or came from a cut)."""
    sources = [a for a in args if isinstance(a, Tensor) and a._requires_grad]
    if not sources:
        for a in args:
            if isinstance(a, Tensor):
                cut = a.__dict__.get("_cut")
                if cut is not None:
                    return cut  # passed on: Note [Cuts]
        return None
    op = cls._backward_cls.__name__
    if not _state.enabled:
        kind = "no_grad"
    elif out._data.dtype.kind in "iub":
        kind = "integer_cast"
        op = f"{op} (result {out.dtype})"
    else:
        kind = "non_differentiable"
    return _log(Cut(kind, op, find_site(3), sources, out))


def _remember_inplace(counter: list) -> None:
    if len(INPLACE_SITES) > 10_000:
        INPLACE_SITES.clear()
    site, via = find_site(3, via=True)
    INPLACE_SITES[id(counter)] = (counter, site, f"{via}()" if via else "an in-place operation")


def inplace_site(t: Tensor):
    entry = INPLACE_SITES.get(id(t._version_counter))
    if entry is None or entry[0] is not t._version_counter:
        return None
    return entry[1], entry[2]


_orig = {name: Tensor.__dict__[name] for name in (
    "detach", "detach_", "item", "tolist", "numpy", "__array__", "_bump_version", "data")}


def _detach(self):
    out = _orig["detach"](self)
    if self._requires_grad:
        out.__dict__["_cut"] = _log(Cut("detach", "detach()", find_site(), (self,), out))
    return out


def _detach_(self):
    cut = Cut("detach", "detach_()", find_site(), (self,), self) if self._requires_grad else None
    out = _orig["detach_"](self)
    if cut is not None:
        self.__dict__["_cut"] = _log(cut)
    return out


def _data_get(self):
    out = _orig["data"].fget(self)
    if self._requires_grad:
        out.__dict__["_cut"] = _log(Cut("detach", ".data", find_site(), (self,), out))
    return out


def _to_python(name: str):
    method = _orig[name]

    def wrapper(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        if self._requires_grad:
            label = "numpy()" if name == "__array__" else f"{name}()"
            _log(Cut("to_python", label, find_site(), (self,)))
        return result

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


def _bump_version(self):
    _orig["_bump_version"](self)
    _remember_inplace(self._version_counter)


_replacements = {
    "detach": _detach, "detach_": _detach_,
    "data": property(_data_get, _orig["data"].fset, doc=_orig["data"].__doc__),
    "item": _to_python("item"), "tolist": _to_python("tolist"), "numpy": _to_python("numpy"),
    "__array__": _to_python("__array__"), "_bump_version": _bump_version,
}

_users = 0  # how many switches want recording on (set_provenance, detect_leaks)


def _install() -> None:
    Function.apply = classmethod(_recording_apply)
    for name, value in _replacements.items():
        setattr(Tensor, name, value)
    _graph.error_note = error_note


def _uninstall() -> None:
    Function.apply = classmethod(_orig_apply)
    for name, value in _orig.items():
        setattr(Tensor, name, value)
    _graph.error_note = None


def acquire() -> None:
    global _users
    _users += 1
    if _users == 1:
        _install()


def release() -> None:
    global _users
    _users = max(0, _users - 1)
    if _users == 0:
        _uninstall()


def recording() -> bool:
    return _users > 0


# ---- what graph.py and the engine add to their errors ---------------------------------------


def error_note(kind: str, obj) -> str:
    """Extra lines for an error: where the node (or cut) came from, and the fix."""
    if kind == "node":  # a node whose saved tensors are gone (backward twice)
        site = node_site(obj)
        return "" if site is None else (
            f"\n{type(obj).__name__} was created at {format_site(site)}.")
    if kind == "modified":  # (node, saved tensor)
        node, t = obj
        lines = []
        site = node_site(node)
        if site is not None:
            lines.append(f"The tensor was saved by {type(node).__name__}, created at "
                         f"{format_site(site)}.")
        changed = inplace_site(t)
        if changed is not None:
            lines.append(f"It was then changed in place by {changed[1]} at "
                         f"{format_site(changed[0])}.")
        return "".join("\n" + line for line in lines)
    if kind == "no_grad_output":  # a tensor handed to backward that has no graph
        cut = obj.__dict__.get("_cut")
        if cut is None:
            return ""
        from .why import FIXES

        return f"\nIts graph was cut: {cut.describe()}. {FIXES[cut.kind]}"
    return ""
