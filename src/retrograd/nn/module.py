"""Module: the base class of layers and models.

A module owns three kinds of named members, kept in dicts so that they can be walked:
``_parameters`` (learnable ``Parameter``s), ``_buffers`` (tensors that belong to the state but
are not learned, such as BatchNorm's running mean) and ``_modules`` (sub-layers). Assigning an
attribute (``self.fc = Linear(2, 3)``) sorts the value into the right dict, and reading it back
finds it there; everything else (``parameters()``, ``state_dict()``, ``to()``, ``repr``) walks
these dicts, recursing through ``_modules``.

Calling a module runs ``forward`` between its hooks (see ``__call__``).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator

from .. import grad_mode
from ..autograd.graph import RemovableHandle
from ..dtypes import dtype as _dtype_cls
from ..dtypes import float16, float32, float64
from ..ops.reduce import type_name
from ..tensor import Tensor, device
from ._backward_hooks import _BackwardHook
from .parameter import Buffer, Parameter

__all__ = ["Module"]

_state = grad_mode.state
_hook_ids = itertools.count()


def _legacy_type(value) -> str:
    """How PyTorch names a value's type in assignment errors ('torch.FloatTensor', 'int')."""
    if isinstance(value, Tensor):
        return f"torch.{type_name(value._data)}Tensor"
    return type(value).__name__


def _add_hook(hooks: dict, hook: Callable, prepend: bool) -> RemovableHandle:
    key = next(_hook_ids)
    if prepend:  # rebuild in place: the handle keeps a reference to this very dict
        rest = list(hooks.items())
        hooks.clear()
        hooks[key] = hook
        hooks.update(rest)
    else:
        hooks[key] = hook
    return RemovableHandle(hooks, key)


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it could not match (both empty when all did)."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, "
                f"unexpected_keys={self.unexpected_keys!r})")

    __str__ = __repr__


def _forward_unimplemented(self, *args, **kwargs):
    raise NotImplementedError(
        f'Module [{type(self).__name__}] is missing the required "forward" function; subclasses '
        "of Module define forward(self, ...) to say what calling the module computes.")


class Module:
    """Base class of all layers and models: subclass it, create sub-layers and parameters in
    ``__init__`` (after ``super().__init__()``), and compute in ``forward``."""

    training: bool
    _version = 1
    forward: Callable = _forward_unimplemented

    def __init__(self, *args, **kwargs) -> None:
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected arguments; Module.__init__ "
                "takes none.")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}
        d["_forward_pre_hooks"] = {}
        d["_forward_pre_hooks_with_kwargs"] = set()
        d["_forward_hooks"] = {}
        d["_forward_hooks_with_kwargs"] = set()
        d["_forward_hooks_always_called"] = set()
        d["_backward_hooks"] = {}
        d["_backward_pre_hooks"] = {}

    # ---- registration -----------------------------------------------------------------

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a ``None`` placeholder) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name(name, "parameter", self._parameters)
        if param is None:
            self._parameters[name] = None
            return
        if not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{_legacy_type(param)}' object to parameter '{name}' "
                "(torch.nn.Parameter or None required)")
        if param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                f"created explicitly; to express '{name}' as a function of another Tensor, "
                "compute the value in the forward() method.")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is part of the module's state but not learned.

        Persistent buffers are saved in ``state_dict``; non-persistent ones are not.
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name(name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{_legacy_type(tensor)}' object to buffer '{name}' "
                "(torch Tensor or None required)")
        if isinstance(tensor, Buffer):
            tensor = tensor.detach()
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module (or a ``None`` placeholder) under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_legacy_type(module)} is not a Module subclass")
        if "_modules" not in self.__dict__:
            raise AttributeError("cannot assign module before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {type(name).__name__}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = module

    register_module = add_module

    def _check_name(self, name, kind: str, own: dict) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in own:
            raise KeyError(f"attribute '{name}' already exists")

    # ---- attribute access: members live in the three dicts ------------------------------

    def __getattr__(self, name: str):
        # Only called when normal lookup failed, i.e. for members kept in the dicts.
        d = self.__dict__
        if "_parameters" in d:
            for store in (d["_parameters"], d["_buffers"], d["_modules"]):
                if name in store:
                    return store[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep=params)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_legacy_type(value)}' as parameter '{name}' "
                    "(torch.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if d.get("_modules") is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep=d["_modules"])
            d["_modules"][name] = value
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_legacy_type(value)}' as child module '{name}' "
                    "(torch.nn.Module or None expected)")
            d["_modules"][name] = None
        elif isinstance(value, Buffer) or (params is not None and name in d["_buffers"]):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{_legacy_type(value)}' as buffer '{name}' "
                    "(torch.Tensor or None expected)")
            if isinstance(value, Buffer):
                persistent = value.persistent
                self._forget(name, keep=d["_buffers"])
            else:
                persistent = name not in d["_non_persistent_buffers_set"]
            self.register_buffer(name, value, persistent)
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: dict) -> None:
        """Drop ``name`` from every store but ``keep`` (a member changes kind)."""
        d = self.__dict__
        d.pop(name, None)
        for store in (d["_parameters"], d["_buffers"], d["_modules"]):
            if store is not keep:
                store.pop(name, None)
        if keep is not d["_buffers"]:
            d["_non_persistent_buffers_set"].discard(name)

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        if name in d.get("_parameters", ()):
            del d["_parameters"][name]
        elif name in d.get("_buffers", ()):
            del d["_buffers"][name]
            d["_non_persistent_buffers_set"].discard(name)
        elif name in d.get("_modules", ()):
            del d["_modules"][name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        members = itertools.chain(self._parameters, self._buffers, self._modules)
        return sorted(set(object.__dir__(self)) | {k for k in members if k.isidentifier()})

    # ---- walking the tree -------------------------------------------------------------

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for this module and every module below it, each once."""
        if memo is None:
            memo = set()
        stack = [(prefix, self)]  # an explicit stack: deep models must not hit recursion limits
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in memo:
                    continue
                memo.add(id(module))
            yield name, module
            children = [(f"{name}.{k}" if name else k, m)
                        for k, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, store: str, prefix: str, recurse: bool, remove_duplicate: bool):
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        seen = set()
        for mod_prefix, module in modules:
            for name, value in module.__dict__[store].items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def _members(self, store: str, recurse: bool = True) -> list:
        """The values of ``store`` over the tree, each once, in ``named_*`` order.

        The names are not needed by ``parameters()`` or ``zero_grad()``, which run every
        training step, so this walk skips building them.
        """
        if not recurse:
            return [v for v in self.__dict__[store].values() if v is not None]
        out = []
        seen_values = set()
        seen_modules = set()
        stack = [self]
        while stack:
            module = stack.pop()
            if id(module) in seen_modules:
                continue
            seen_modules.add(id(module))
            for v in module.__dict__[store].values():
                if v is not None and id(v) not in seen_values:
                    seen_values.add(id(v))
                    out.append(v)
            children = module.__dict__["_modules"]
            if children:
                stack.extend([m for m in reversed(children.values()) if m is not None])
        return out

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs; a parameter shared by two modules comes once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter of this module and (with ``recurse``) of the modules below it."""
        return iter(self._members("_parameters", recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        return iter(self._members("_buffers", recurse))

    def get_submodule(self, target: str) -> Module:
        """The module at a dotted path such as ``"encoder.0"`` ("" is this module)."""
        module = self
        for item in target.split(".") if target else ():
            sub = module._modules.get(item)
            if sub is None:
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = sub
        return module

    def get_parameter(self, target: str) -> Parameter:
        mod_path, _, name = target.rpartition(".")
        module = self.get_submodule(mod_path)
        if name not in module._parameters:
            raise AttributeError(f"{module._get_name()} has no parameter `{name}`")
        return module._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        mod_path, _, name = target.rpartition(".")
        module = self.get_submodule(mod_path)
        if name not in module._buffers:
            raise AttributeError(f"{module._get_name()} has no buffer `{name}`")
        return module._buffers[name]

    # ---- modes, gradients, conversions ------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) on all modules."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None (default) or to zeros in place."""
        for p in self._members("_parameters"):
            g = p._grad
            if g is None:
                continue
            if set_to_none:
                p._grad = None
            else:
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g.requires_grad_(False)
                g.zero_()

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule (children first) and then on this module."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _apply(self, fn: Callable[[Tensor], Tensor]) -> Module:
        """Convert every parameter and buffer with ``fn``, keeping the Parameter objects (so
        optimizers that hold them keep working) by swapping their ``data``."""
        for m in self.modules():
            with grad_mode.no_grad():
                for p in m._parameters.values():
                    if p is None:
                        continue
                    new = fn(p)
                    if new is not p:
                        p.data = new
                    g = p._grad
                    if g is not None:
                        new = fn(g)
                        if new is not g:
                            p._grad = new
                for name, b in m._buffers.items():
                    if b is not None:
                        m._buffers[name] = fn(b)
        return self

    def to(self, *args, **kwargs) -> Module:
        """Cast floating-point parameters and buffers to a dtype (retrograd runs on the cpu).

        Accepts ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)`` and the
        keywords ``device``, ``dtype``, ``non_blocking``.
        """
        dtype = kwargs.pop("dtype", None)
        dev = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
        for a in args:
            if isinstance(a, _dtype_cls):
                dtype = a
            elif isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, device)):
                dev = a
            elif not isinstance(a, bool):
                raise TypeError(f"to() received an invalid argument {a!r}; expected a device, a "
                                "dtype or a tensor")
        if dev is not None and device(dev).type != "cpu":
            raise RuntimeError(f"device {dev} is not available; retrograd runs on the cpu")
        if dtype is None:
            return self
        if not dtype.is_floating_point:
            raise TypeError(
                "nn.Module.to only accepts floating point or complex dtypes, but got desired "
                f"dtype={dtype}")
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self) -> Module:
        return self.to(float32)

    def double(self) -> Module:
        return self.to(float64)

    def half(self) -> Module:
        return self.to(float16)

    def cpu(self) -> Module:
        return self

    def type(self, dst_type) -> Module:
        return self._apply(lambda t: t.to(dst_type))

    def share_memory(self) -> Module:
        return self

    # ---- state dict -------------------------------------------------------------------

    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """An ordered dict from dotted names to parameters and persistent buffers (detached
        unless ``keep_vars``): what ``load_state_dict`` and ``retrograd.save`` take."""
        if args:  # PyTorch's old positional form: state_dict(destination, prefix, keep_vars)
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
            if len(args) > 2:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
        for name, t in self._state_items(prefix):
            destination[name] = t if keep_vars else t.detach()
        return destination

    def _state_modules(self, prefix: str = ""):
        """(key prefix, module) for every module, the prefix ending in "." below the root.

        A module reachable by two paths appears under both, as PyTorch saves it twice.
        """
        stack = [(prefix, self)]
        while stack:
            pre, module = stack.pop()
            yield pre, module
            stack.extend(reversed([(f"{pre}{name}.", m) for name, m in module._modules.items()
                                   if m is not None]))

    def _state_items(self, prefix: str = "") -> list:
        """(key, tensor) for every entry of the state dict, in PyTorch's order."""
        return [(key, m.__dict__[store][name])
                for key, (m, store, name) in self._state_owners(prefix).items()]

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy parameters and buffers from ``state_dict`` into this module.

        Every problem (missing keys, unexpected keys, shape mismatches) is reported together in
        one RuntimeError, and nothing is changed when there is one. With ``strict=False``
        missing and unexpected keys are allowed (and returned); shape mismatches still raise.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        owners = self._state_owners()
        missing, mismatched = [], []
        for key, (module, store, name) in owners.items():
            if key not in state_dict:
                missing.append(key)
                continue
            value = state_dict[key]
            current = module.__dict__[store][name]
            if not isinstance(value, Tensor):
                mismatched.append(
                    f'While copying the parameter named "{key}", expected torch.Tensor or '
                    f"Tensor-like object from checkpoint but received {type(value)}")
            elif value.shape != current.shape:
                mismatched.append(
                    f"size mismatch for {key}: copying a param with shape {value.shape} from "
                    f"checkpoint, the shape in current model is {current.shape}.")
        unexpected = [k for k in state_dict if k not in owners]
        errors = []
        if strict:
            if missing:
                errors.append("Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        errors.extend(mismatched)
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {self._get_name()}:\n\t"
                               + "\n\t".join(errors))
        with grad_mode.no_grad():
            for key, (module, store, name) in owners.items():
                if key in state_dict:
                    module._load_one(store, name, state_dict[key], assign)
        return _IncompatibleKeys(missing, unexpected)

    def _state_owners(self, prefix: str = "") -> dict:
        """state-dict key -> (owning module, store name, member name)."""
        owners = {}
        for pre, m in self._state_modules(prefix):
            for name, p in m._parameters.items():
                if p is not None:
                    owners[pre + name] = (m, "_parameters", name)
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent_buffers_set:
                    owners[pre + name] = (m, "_buffers", name)
        return owners

    def _load_one(self, store: str, name: str, value: Tensor, assign: bool) -> None:
        current = self.__dict__[store][name]
        if not assign:
            current.copy_(value)
        elif store == "_parameters":
            self._parameters[name] = Parameter(value.detach(), current.requires_grad)
        else:
            self._buffers[name] = value.detach()

    # ---- calling: forward between hooks -----------------------------------------------

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        try:
            hooked = (d["_forward_pre_hooks"] or d["_forward_hooks"] or d["_backward_hooks"]
                      or d["_backward_pre_hooks"])
        except KeyError:
            raise AttributeError(
                f"'{type(self).__name__}' object has no attribute '_forward_hooks': its "
                "__init__ must call super().__init__() before anything else.") from None
        if not hooked:
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        for key, hook in tuple(self._forward_pre_hooks.items()):
            if key in self._forward_pre_hooks_with_kwargs:
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple of (new_args, "
                            f"new_kwargs), but got {res}.")
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        bw = None
        if (self._backward_hooks or self._backward_pre_hooks) and _state.enabled:
            bw = _BackwardHook(self)
            args = bw.wrap_inputs(args)
        called = set()
        try:
            result = self.forward(*args, **kwargs)
            for key, hook in tuple(self._forward_hooks.items()):
                called.add(key)
                if key in self._forward_hooks_with_kwargs:
                    res = hook(self, args, kwargs, result)
                else:
                    res = hook(self, args, result)
                if res is not None:
                    result = res
        except Exception:
            for key, hook in tuple(self._forward_hooks.items()):
                if key in self._forward_hooks_always_called and key not in called:
                    try:
                        if key in self._forward_hooks_with_kwargs:
                            hook(self, args, kwargs, None)
                        else:
                            hook(self, args, None)
                    except Exception:  # noqa: S110 - the forward error is the one to report
                        pass
            raise
        if bw is not None:
            result = bw.wrap_outputs(result)
        return result

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args)`` runs before forward and may return replacement args
        (``hook(module, args, kwargs)`` returning ``(args, kwargs)`` with ``with_kwargs``)."""
        handle = _add_hook(self._forward_pre_hooks, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle._key)
        return handle

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """``hook(module, args, output)`` runs after forward and may return a new output."""
        handle = _add_hook(self._forward_hooks, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle._key)
        if always_call:
            self._forward_hooks_always_called.add(handle._key)
        return handle

    def register_full_backward_hook(self, hook: Callable,
                                    prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` runs once the gradients w.r.t. the
        module's inputs are computed; it may return a replacement ``grad_input`` tuple."""
        return _add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook: Callable,
                                        prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_output)`` runs when the gradients w.r.t. the module's outputs
        are known; it may return a replacement ``grad_output`` tuple."""
        return _add_hook(self._backward_pre_hooks, hook, prepend)

    # ---- printing ---------------------------------------------------------------------

    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The module's own settings, printed inside its parentheses; override it."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        child_lines = []
        for name, m in self._modules.items():
            text = repr(m).replace("\n", "\n  ")  # nest the child's own lines one level deeper
            child_lines.append(f"({name}): {text}")
        if child_lines or len(lines) > 1:
            body = "\n  " + "\n  ".join(lines + child_lines) + "\n"
        else:
            body = "".join(lines)
        return f"{self._get_name()}({body})"

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
