"""The pickle inside a PyTorch checkpoint, read and written without PyTorch and without running
code from the file.

Note [A pickle that can only build data]
    ``torch.save`` stores the object it is given as a pickle (``data.pkl``) whose tensors point
    at raw storages kept beside it. A pickle is a program: its GLOBAL opcode names any function
    of any module and REDUCE calls it, so ``pickle.load`` on a stranger's file runs whatever the
    file says. ``load`` below is a small pickle machine instead, fed the opcodes that
    ``pickletools.genops`` decodes (which only parses), and it
      * knows no function but those in ``_ALLOWED``: a global outside it (``os.system``,
        ``builtins.eval``, ...) stops the load with ``ForbiddenGlobalError``, naming it, before
        anything else runs; the allowed ones are ours, not PyTorch's (which is never imported):
        they rebuild tensors and Parameters over storages, ordered dicts, sets, ``Size``,
        ``device``, bytes and dtypes, and check their arguments;
      * refuses the opcodes that create or mutate objects through their classes (INST, OBJ,
        NEWOBJ, EXT*, out-of-band buffers), appends and sets items only on lists, dicts and
        sets it built, and lets BUILD set attributes only on ordered dicts (a state dict's
        ``_metadata``), never on a class or a shared object such as a dtype;
      * keeps a running estimate of the memory the objects built so far take, and stops past
        ``MAX_PICKLE_COST`` bytes: a small pickle cannot build millions of dicts.
    (The C ``pickle.Unpickler`` with a restricted ``find_class`` would refuse the same globals,
    but its BUILD sets attributes on whatever object is on the stack, classes included, and it
    allocates the lengths a file declares before reading them; hence a machine of our own.)

    Writing goes the other way: a pure-Python ``pickle._Pickler`` that emits PyTorch's reduce
    calls (``torch._utils._rebuild_tensor_v2`` and the storage types) by name through
    ``_Global`` stand-ins, so that ``torch.load(f, weights_only=True)`` reads the result.
"""

from __future__ import annotations

import math
import pickle
import pickletools
import warnings
from collections import OrderedDict
from typing import Any

import numpy as np

from . import dtypes as _dt
from ._types import Size, device
from .serialization import ForbiddenGlobalError, UnsafeFileError
from .tensor import Tensor, _wrap

# Estimated bytes of Python objects a pickle may make ``load`` build (Note [A pickle that can
# only build data]); a module attribute, so a program that trusts its files can raise it.
MAX_PICKLE_COST = 64 << 20
# A tensor may view more elements than its storage holds (a stride-0, expanded view) only up
# to this many elements: views cost nothing to load, but computing on one can.
MAX_EXPANDED_ELEMENTS = 1 << 24


# ---- what a checkpoint may name --------------------------------------------------------------

# PyTorch's dtypes by name: retrograd's own, and the ones retrograd has no tensors for (with
# their item sizes, so that storages of them can still be measured).
_FOREIGN_ITEMSIZE = {"bfloat16": 2, "complex32": 4, "complex64": 8, "complex128": 16,
                     "uint16": 2, "uint32": 4, "uint64": 8, "float8_e4m3fn": 1,
                     "float8_e5m2": 1, "float8_e4m3fnuz": 1, "float8_e5m2fnuz": 1,
                     "float8_e8m0fnu": 1}


class _ForeignDtype:
    """A PyTorch dtype retrograd has no tensors of, as it appears in a checkpoint."""

    __slots__ = ("name", "itemsize")

    def __init__(self, name: str, itemsize: int) -> None:
        self.name = name
        self.itemsize = itemsize

    def __repr__(self) -> str:
        return "torch." + self.name


_FOREIGN = {n: _ForeignDtype(n, s) for n, s in _FOREIGN_ITEMSIZE.items()}


class _StorageType:
    """``torch.FloatStorage`` and friends: the element type of a storage in a checkpoint."""

    __slots__ = ("name", "dtype")

    def __init__(self, name: str, dtype) -> None:
        self.name = name
        self.dtype = dtype  # a retrograd dtype, a _ForeignDtype, or None for UntypedStorage

    @property
    def itemsize(self) -> int:
        return 1 if self.dtype is None else self.dtype.itemsize

    def __repr__(self) -> str:
        return "torch." + self.name


def _dtype_by_name(name: str):
    return _dt._BY_NAME.get(name) or _FOREIGN[name]


_STORAGE_DTYPES = {"Float": "float32", "Double": "float64", "Half": "float16",
                   "BFloat16": "bfloat16", "Long": "int64", "Int": "int32", "Short": "int16",
                   "Char": "int8", "Byte": "uint8", "Bool": "bool", "ComplexFloat": "complex64",
                   "ComplexDouble": "complex128"}
_STORAGE_TYPES = {f"{k}Storage": _StorageType(f"{k}Storage", _dtype_by_name(v))
                  for k, v in _STORAGE_DTYPES.items()}
_UNTYPED = _StorageType("storage.UntypedStorage", None)
# retrograd dtype -> the storage type torch.save names for it
STORAGE_OF = {t.dtype: t for t in _STORAGE_TYPES.values() if isinstance(t.dtype, _dt.dtype)}


class _TensorClass:
    """``torch.Tensor`` / ``torch.nn.parameter.Parameter`` named as the type of a rebuilt
    tensor (the ``new_type`` of ``_rebuild_from_type_v2``)."""

    __slots__ = ("parameter",)

    def __init__(self, parameter: bool) -> None:
        self.parameter = parameter


# ---- rebuilding ------------------------------------------------------------------------------


class StorageRef:
    """What a persistent id in the pickle stands for: a storage and the type it is named with."""

    __slots__ = ("storage", "kind")

    def __init__(self, storage: Storage, kind: _StorageType) -> None:
        self.storage = storage
        self.kind = kind


class Storage:
    """One storage of a checkpoint: its raw bytes, read once, and typed views of them."""

    __slots__ = ("raw", "big_endian", "typed_views", "filled")

    def __init__(self, raw: np.ndarray, big_endian: bool, filled: bool = True) -> None:
        self.raw = raw  # 1-D uint8
        self.big_endian = big_endian
        self.typed_views: dict = {}
        self.filled = filled  # False while a legacy file's bytes are still to be read in

    def typed(self, dtype) -> np.ndarray:
        """The storage as a 1-D array of ``dtype`` (bfloat16 comes back as float32)."""
        out = self.typed_views.get(dtype)
        if out is not None:
            return out
        if isinstance(dtype, _ForeignDtype) and dtype.name != "bfloat16":
            raise UnsafeFileError(
                f"the checkpoint holds a tensor of dtype torch.{dtype.name}, which retrograd has "
                "no tensors of (it has float64, float32, float16, int64, int32, int16, int8, "
                "uint8 and bool); convert it in PyTorch first (e.g. .float()).")
        bf16 = isinstance(dtype, _ForeignDtype)
        np_dtype = np.dtype(np.uint16 if bf16 else dtype.np)
        raw = self.raw[:len(self.raw) - len(self.raw) % np_dtype.itemsize]
        arr = raw.view(np_dtype.newbyteorder(">" if self.big_endian else "<"))
        if (bf16 or not arr.dtype.isnative) and not self.filled:
            raise UnsafeFileError(
                "retrograd reads bfloat16 and big-endian storages only from PyTorch's zip "
                "format, not the legacy one; save the checkpoint again with torch.save's "
                "default settings.")
        if not arr.dtype.isnative:
            arr = arr.astype(np_dtype)
        if bf16:  # bfloat16 is the top half of a float32: widening it is exact
            warnings.warn("retrograd has no bfloat16: bfloat16 tensors of the checkpoint are "
                          "loaded as float32 (exactly)", stacklevel=2)
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        self.typed_views[dtype] = arr
        return arr


def _ints(value, what: str) -> tuple:
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) if what == "offset" else None
    if not isinstance(value, (tuple, list)) or len(value) > 64 or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
        raise UnsafeFileError(f"a tensor's {what} is {value!r:.80}, not a tuple of at most 64 "
                              "natural numbers")
    return tuple(value)


def _view(ref, dtype, offset, size, stride) -> np.ndarray:
    """The array of ``size`` and element ``stride`` at element ``offset`` of a storage."""
    if not isinstance(ref, StorageRef) or dtype is None:
        raise UnsafeFileError(f"a tensor is rebuilt over {type(ref).__name__}, not over a "
                              "typed storage of the checkpoint")
    (offset,) = _ints(offset, "offset")
    size, stride = _ints(size, "size"), _ints(stride, "stride")
    if len(size) != len(stride):
        raise UnsafeFileError(f"a tensor has size {list(size)} but stride {list(stride)}")
    typed = ref.storage.typed(dtype)
    numel = math.prod(size)
    if numel == 0:
        return np.empty(size, typed.dtype)
    end = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if end >= len(typed) or numel > max(len(typed), MAX_EXPANDED_ELEMENTS):
        raise UnsafeFileError(
            f"a tensor of size {list(size)}, stride {list(stride)} at offset {offset} does not "
            f"fit in its storage of {len(typed)} elements")
    item = typed.dtype.itemsize
    return np.ndarray(size, typed.dtype, buffer=typed, offset=offset * item,
                      strides=tuple(s * item for s in stride))


def _tensor(arr: np.ndarray, requires_grad) -> Tensor:
    t = _wrap(arr)
    if requires_grad is True:
        try:
            t.requires_grad_(True)
        except RuntimeError as e:
            raise UnsafeFileError(f"a tensor of the checkpoint can't require grad: {e}") from None
    return t


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None) -> Tensor:
    dtype = storage.kind.dtype if isinstance(storage, StorageRef) else None
    return _tensor(_view(storage, dtype, storage_offset, size, stride), requires_grad)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None) -> Tensor:
    if not isinstance(dtype, (_dt.dtype, _ForeignDtype)):
        raise UnsafeFileError(f"a tensor's dtype is {dtype!r:.60}, not a dtype")
    return _tensor(_view(storage, dtype, storage_offset, size, stride), requires_grad)


def _set_state(t: Tensor, state) -> Tensor:
    """Attributes a checkpoint sets on a tensor: new ones only, never the class's own."""
    if state is None:
        return t
    if isinstance(state, tuple) and len(state) == 2 and not state[1]:
        state = state[0]  # (dict state, slot state)
    if not isinstance(state, dict) or not all(
            isinstance(k, str) and not hasattr(type(t), k) for k in state):
        raise UnsafeFileError(f"a tensor's attributes in the checkpoint are {state!r:.80}; only "
                              "new attributes can be set on a loaded tensor")
    for k, v in state.items():
        t.__dict__[k] = v
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None) -> Tensor:
    from .nn.parameter import Parameter  # nn sits above this module

    if not isinstance(data, Tensor):
        raise UnsafeFileError(f"a Parameter is rebuilt from {type(data).__name__}, not a tensor")
    try:
        p = Parameter(data, requires_grad=requires_grad is True)
    except RuntimeError as e:
        raise UnsafeFileError(f"a Parameter of the checkpoint is invalid: {e}") from None
    return _set_state(p, state)


_REBUILDERS = (_rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter)


def _rebuild_from_type_v2(func, new_type, args, state) -> Tensor:
    if func not in _REBUILDERS or not isinstance(new_type, _TensorClass) or not isinstance(
            args, tuple):
        raise UnsafeFileError("a tensor of the checkpoint is rebuilt by an unexpected function "
                              "or type (only plain tensors and Parameters can be loaded)")
    t = func(*args)
    if new_type.parameter and type(t) is Tensor:
        t = _rebuild_parameter(t, t.requires_grad, None)
    return _set_state(t, state)


def _ordered_dict(*args) -> OrderedDict:
    if args and not isinstance(args[0], (list, tuple, dict)) or len(args) > 1:
        raise UnsafeFileError("collections.OrderedDict is called with unexpected arguments")
    return OrderedDict(*args)


def _size(*args) -> Size:
    if len(args) > 1 or args and not isinstance(args[0], (tuple, list)):
        raise UnsafeFileError("torch.Size is called with unexpected arguments")
    return Size(_ints(args[0], "size") if args else ())


def _device(*args) -> device:
    if not 1 <= len(args) <= 2 or not isinstance(args[0], str) or (
            len(args) == 2 and not isinstance(args[1], int)):
        raise UnsafeFileError("torch.device is called with unexpected arguments")
    return device(*args)


def _encode(text, encoding="utf-8") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafeFileError("_codecs.encode is called with unexpected arguments")
    return text.encode("latin-1")


def _set(items=()) -> set:
    if not isinstance(items, (list, tuple)):
        raise UnsafeFileError("builtins.set is called with unexpected arguments")
    return set(items)


def _bytearray(data=b"") -> bytearray:
    if not isinstance(data, (bytes, bytearray)):  # never bytearray(n): n bytes out of nothing
        raise UnsafeFileError("builtins.bytearray is called with unexpected arguments")
    return bytearray(data)


def _complex(real=0.0, imag=0.0) -> complex:
    if not all(isinstance(x, (int, float)) for x in (real, imag)):
        raise UnsafeFileError("builtins.complex is called with unexpected arguments")
    return complex(real, imag)


_ALLOWED: dict = {
    ("collections", "OrderedDict"): _ordered_dict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch", "Tensor"): _TensorClass(False),
    ("torch.nn.parameter", "Parameter"): _TensorClass(True),
    ("torch", "Size"): _size,
    ("torch", "device"): _device,
    ("_codecs", "encode"): _encode,
    ("builtins", "set"): _set,
    ("builtins", "bytearray"): _bytearray,
    ("builtins", "complex"): _complex,
    ("torch.storage", "UntypedStorage"): _UNTYPED,
    **{("torch", n): t for n, t in _STORAGE_TYPES.items()},
    **{("torch", d.name): d for d in _dt.ALL},
    **{("torch", n): d for n, d in _FOREIGN.items()},
}
_CALLABLE = frozenset(id(f) for f in _ALLOWED.values() if callable(f))


# ---- the pickle machine ----------------------------------------------------------------------

# Opcodes that push their decoded argument, as is.
_PUSH = frozenset("INT BININT BININT1 BININT2 LONG LONG1 LONG4 FLOAT BINFLOAT STRING BINSTRING "
                  "SHORT_BINSTRING UNICODE BINUNICODE SHORT_BINUNICODE BINUNICODE8 BINBYTES "
                  "SHORT_BINBYTES BINBYTES8".split())
_CONST = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False, "EMPTY_TUPLE": ()}
_EMPTY = {"EMPTY_LIST": list, "EMPTY_DICT": dict, "EMPTY_SET": set}
_GET = frozenset(("GET", "BINGET", "LONG_BINGET"))
_PUT = frozenset(("PUT", "BINPUT", "LONG_BINPUT"))
# Rough bytes of memory an opcode's result takes (the cost of Note [A pickle that can only
# build data]); anything not listed costs 64.
_COST = {"EMPTY_SET": 250, "FROZENSET": 250, "EMPTY_DICT": 250, "DICT": 250, "REDUCE": 1000,
         "BINPERSID": 200, "PERSID": 200, "PUT": 120, "BINPUT": 120, "LONG_BINPUT": 120,
         "MEMOIZE": 120}


def load(data: bytes, name: str, persistent_load, own: bool = False) -> Any:
    """Run the pickle ``data`` on the machine of Note [A pickle that can only build data]."""
    from ._object_pickle import allowed_by_user

    stack: list = []
    marks: list = []
    memo: dict = {}
    cost = 0
    user = allowed_by_user()  # Note [Globals the user allowed]
    user_ids = frozenset(id(v) for v in user.values())

    def pop_mark() -> list:
        nonlocal stack
        items = stack
        stack = marks.pop()
        return items

    for op, arg, pos in pickletools.genops(data):
        code = op.name
        cost += _COST.get(code, 64)
        if arg.__class__ in (str, bytes):
            cost += len(arg)
        if cost > MAX_PICKLE_COST:
            raise UnsafeFileError(
                f"{name}: the checkpoint's pickle builds more than about {MAX_PICKLE_COST} bytes "
                "of Python objects (retrograd._torch_pickle.MAX_PICKLE_COST); refusing it.")
        if code in _PUSH:
            stack.append(arg)
        elif code in _CONST:
            stack.append(_CONST[code])
        elif code in _EMPTY:
            stack.append(_EMPTY[code]())
        elif code in _GET:
            stack.append(memo[arg])
        elif code in _PUT:
            memo[arg] = stack[-1]
        elif code == "MEMOIZE":
            memo[len(memo)] = stack[-1]
        elif code == "MARK":
            marks.append(stack)
            stack = []
        elif code in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(code[-1])
            items = tuple(stack[-n:])
            if len(items) != n:
                raise IndexError("pop from empty stack")
            del stack[-n:]
            stack.append(items)
        elif code in ("TUPLE", "LIST", "FROZENSET"):
            items = pop_mark()
            cost += 16 * len(items)
            stack.append({"TUPLE": tuple, "LIST": list, "FROZENSET": frozenset}[code](items))
        elif code == "DICT":
            items = pop_mark()
            stack.append({items[i]: items[i + 1] for i in range(0, len(items) - 1, 2)})
        elif code in ("APPEND", "APPENDS"):
            items = [stack.pop()] if code == "APPEND" else pop_mark()
            _target(stack, list, code).extend(items)
        elif code in ("SETITEM", "SETITEMS"):
            items = stack[-2:] if code == "SETITEM" else pop_mark()
            if code == "SETITEM":
                del stack[-2:]
            if len(items) % 2:
                raise IndexError("odd number of items for SETITEMS")
            target = _target(stack, (dict, OrderedDict), code)
            for i in range(0, len(items), 2):
                target[items[i]] = items[i + 1]
        elif code == "ADDITEMS":
            _target(stack, set, code).update(pop_mark())
        elif code == "POP":
            if stack:
                stack.pop()
            else:
                pop_mark()
        elif code == "POP_MARK":
            pop_mark()
        elif code == "DUP":
            stack.append(stack[-1])
        elif code in ("GLOBAL", "STACK_GLOBAL"):
            if code == "GLOBAL":
                module, _, attr = arg.partition(" ")
            else:
                attr, module = stack.pop(), stack.pop()
            stack.append(_find_global(module, attr, name, user, own))
        elif code == "REDUCE" and id(stack[-2]) in user_ids:
            args = stack.pop()
            if args.__class__ is not tuple:
                raise UnsafeFileError(f"{name}: the pickle calls {stack[-1]!r:.60} with "
                                      f"{type(args).__name__}, not a tuple of arguments")
            stack[-1] = stack[-1](*args)
        elif code in ("NEWOBJ", "NEWOBJ_EX"):
            kwargs = stack.pop() if code == "NEWOBJ_EX" else {}
            args = stack.pop()
            stack[-1] = _new_object(stack[-1], args, kwargs, user_ids, name, code)
        elif code == "REDUCE":
            args = stack.pop()
            fn = stack[-1]
            if id(fn) not in _CALLABLE or args.__class__ is not tuple:
                raise UnsafeFileError(f"{name}: the checkpoint's pickle calls {fn!r:.60}, which "
                                      "is not a function")
            cost += sum(48 * len(a) for a in args if isinstance(a, (list, tuple, dict, str)))
            stack[-1] = fn(*args)
        elif code == "BUILD":
            state = stack.pop()
            if id(type(stack[-1])) in user_ids:
                _build_allowed(stack[-1], state)
            else:
                _build(stack[-1], state, name)
        elif code in ("BINPERSID", "PERSID"):
            stack.append(persistent_load(stack.pop() if code == "BINPERSID" else arg))
        elif code in ("PROTO", "FRAME"):
            pass
        elif code == "STOP":
            if len(stack) != 1 or marks:
                raise ValueError("the pickle stops with a malformed stack")
            return stack[0]
        else:
            raise UnsafeFileError(
                f"{name}: the checkpoint's pickle uses the opcode {code} at byte {pos}, which "
                "retrograd.load does not run (it only rebuilds tensors and plain data).")
    raise ValueError("the pickle ends without STOP")


def _find_global(module, attr, name: str, user: dict | None = None, own: bool = False):
    if module == "__builtin__":  # Python 2's name, in pickles of protocol 2
        module = "builtins"
    found = _ALLOWED.get((module, attr))
    if found is None and user:
        found = user.get(f"{module}.{attr}")
    if found is None:
        allow = (f"retrograd.serialization.add_safe_globals([{module}.{attr}]), or load inside "
                 f"`with retrograd.serialization.safe_globals([{module}.{attr}, ...]):`")
        if own:  # a retrograd file that holds a pickle (Note [Files that hold a pickle])
            how = ("If you trust where the file comes from, either (1) load it with "
                   "weights_only=False, which runs any code the file names, or (2) allow that "
                   f"global: {allow}.")
        else:  # a PyTorch checkpoint: retrograd never hands it to Python's pickle
            how = (f"If you trust that global, allow it: {allow}. (A file of torch.save(model) "
                   "holds PyTorch's own classes: save model.state_dict() in PyTorch instead.)")
        raise ForbiddenGlobalError(
            f"{name}: weights-only load failed: the pickle refers to the global "
            f"{module}.{attr}, which is not allowed by default: retrograd.load (like "
            "torch.load(weights_only=True)) only rebuilds tensors, Parameters, containers and "
            f"numbers and the globals you allowed. Nothing from the file was run. {how}")
    return found


# Note [Globals the user allowed]
#     ``serialization.add_safe_globals`` / ``safe_globals`` name classes and functions the
#     user trusts (compared by identity with what the pickle's GLOBAL resolves to through the
#     user's own list; no module is ever imported by name). Only those may be called (REDUCE),
#     constructed (NEWOBJ: ``cls.__new__``) or given state (BUILD: ``__setstate__``, or an update
#     of ``__dict__``); every other global still stops the load. What they then do is what the
#     user allowed: the restricted machine guarantees only that nothing else runs.


def _new_object(cls, args, kwargs, user_ids: frozenset, name: str, code: str):
    if id(cls) not in user_ids or not isinstance(cls, type):
        raise UnsafeFileError(
            f"{name}: the pickle uses the opcode {code} to construct an object of {cls!r:.60}, "
            "which is not a class allowed with retrograd.serialization.safe_globals")
    if args.__class__ is not tuple or kwargs.__class__ is not dict:
        raise UnsafeFileError(f"{name}: the pickle constructs {cls.__qualname__} with "
                              "arguments that are not a tuple and a dict")
    return cls.__new__(cls, *args, **kwargs)


def _build_allowed(inst, state) -> None:
    """BUILD on an instance of a class the user allowed, as pickle does it."""
    setstate = getattr(inst, "__setstate__", None)
    if setstate is not None and getattr(type(inst), "__setstate__", None) is not getattr(
            object, "__setstate__", None):
        setstate(state)
        return
    slots = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    if state:
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise UnsafeFileError(f"the pickle gives a {type(inst).__name__} the state "
                                  f"{state!r:.80}, not a dict of attributes")
        inst.__dict__.update(state)
    if slots:
        if not isinstance(slots, dict):
            raise UnsafeFileError(f"the pickle gives a {type(inst).__name__} slot state of "
                                  f"type {type(slots).__name__}")
        for k, v in slots.items():
            setattr(inst, k, v)


def _target(stack: list, kind, code: str):
    target = stack[-1]
    if not isinstance(target, kind) or type(target) not in (list, dict, OrderedDict, set):
        raise UnsafeFileError(f"the pickle's {code} applies to {type(target).__name__}")
    return target


def _build(inst, state, name: str) -> None:
    """BUILD: only a state dict's attributes (``_metadata``) on an ordered dict it made."""
    if isinstance(state, tuple) and len(state) == 2 and not state[1]:
        state = state[0]
    if type(inst) is not OrderedDict or not isinstance(state, dict) or not all(
            isinstance(k, str) and not hasattr(OrderedDict, k) for k in state):
        raise UnsafeFileError(f"{name}: the checkpoint's pickle sets attributes on a "
                              f"{type(inst).__name__}; retrograd.load only sets a state dict's "
                              "_metadata.")
    inst.__dict__.update(state)


# ---- writing ---------------------------------------------------------------------------------


class Global:
    """A global named by module and name, written as a GLOBAL opcode without importing it."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def __call__(self, *args):  # pickle's save_reduce insists that what it names is callable
        raise TypeError(f"{self.module}.{self.name} is a stand-in for writing a checkpoint")


def save_global(pickler, obj: Global) -> None:
    pickler.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
    pickler.memoize(obj)
