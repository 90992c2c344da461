"""Module: the base class of layers and models.

A module owns three kinds of named members, kept in dicts so that they can be walked:
``_parameters`` (learnable ``Parameter``s), ``_buffers`` (tensors that belong to the state but
are not learned, such as BatchNorm's running mean) and ``_modules`` (sub-layers). Assigning an
attribute (``self.fc = Linear(2, 3)``) sorts the value into the right dict, and reading it back
finds it there; everything else (``parameters()``, ``state_dict()``, ``to()``, ``repr``) walks
these dicts, recursing through ``_modules``.

This file holds the members, their registration and attribute access, the walks over the
tree, train/eval, ``apply`` and printing. The rest lives next to it in three mixins:
``_module_hooks.py`` (``__call__``: ``forward`` between its hooks, and the hook registrations),
``_module_state.py`` (``state_dict``/``load_state_dict``) and ``_module_convert.py`` (``to``,
``float``, ``double``, ...).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

from ..ops.reduce import type_name
from ..tensor import Tensor
from ._module_convert import _ModuleConvert
from ._module_hooks import _ModuleHooks
from ._module_state import _ModuleState
from .parameter import Buffer, Parameter

__all__ = ["Module"]


def _legacy_type(value) -> str:
    """How PyTorch names a value's type in assignment errors ('torch.FloatTensor', 'int')."""
    if isinstance(value, Tensor):
        return f"torch.{type_name(value._data)}Tensor"
    return type(value).__name__


def _forward_unimplemented(self, *args, **kwargs):
    raise NotImplementedError(
        f'Module [{type(self).__name__}] is missing the required "forward" function; subclasses '
        "of Module define forward(self, ...) to say what calling the module computes.")


class Module(_ModuleHooks, _ModuleState, _ModuleConvert):
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
        """The parameter at a dotted path such as ``"encoder.0.weight"``."""
        return self._get_member(target, "_parameters", "parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted path such as ``"bn.running_mean"``."""
        return self._get_member(target, "_buffers", "buffer")

    def _get_member(self, target: str, store: str, kind: str):
        mod_path, _, name = target.rpartition(".")
        module = self.get_submodule(mod_path)
        members = module.__dict__[store]
        if name not in members:
            raise AttributeError(f"{module._get_name()} has no {kind} `{name}`")
        return members[name]

    # ---- modes and gradients ----------------------------------------------------------

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
