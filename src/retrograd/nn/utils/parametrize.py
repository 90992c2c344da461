"""Parametrizations: a module's tensor computed from another one by modules of your own.

``register_parametrization(layer, "weight", Symmetric())`` moves ``layer.weight`` to
``layer.parametrizations.weight.original`` and makes ``layer.weight`` a property that returns
``Symmetric()(original)`` at each access, so gradients reach ``original`` through the
parametrization. Registering another one on the same tensor chains it (applied after the
first). Assigning ``layer.weight = X`` stores ``right_inverse(X)`` (of each parametrization that
has one, last first) in ``original``. ``cached()`` computes each parametrized tensor once
inside the block. As in PyTorch, the module's class is swapped for a subclass named
``Parametrized<Class>`` that holds the properties, and ``remove_parametrizations`` undoes it.
"""

from __future__ import annotations

from contextlib import contextmanager

from ... import grad_mode
from ...tensor import Tensor
from ..containers import ModuleDict, ModuleList
from ..module import Module
from ..parameter import Parameter

__all__ = ["ParametrizationList", "cached", "is_parametrized", "register_parametrization",
           "remove_parametrizations", "type_before_parametrizations"]

_cache_depth = 0
_cache: dict = {}


@contextmanager
def cached():
    """Inside the block, each parametrized tensor is computed on its first access only."""
    global _cache_depth
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache.clear()


def _store(module: Module, name: str, value: Tensor) -> None:
    """Register ``value`` on ``module`` as a parameter if it is one, else as a buffer."""
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _set_values(target: Tensor, value: Tensor) -> None:
    """Give ``target`` the values (and shape) of ``value``, keeping the object (an optimizer
    may hold it)."""
    with grad_mode.no_grad():
        target.data = value.detach().clone()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order to ``original``."""

    def __init__(self, modules, original: Tensor, unsafe: bool = False) -> None:
        super().__init__(modules)
        self.unsafe = unsafe
        with grad_mode.no_grad():
            new = original
            for m in reversed(list(self)):
                if hasattr(m, "right_inverse"):
                    new = m.right_inverse(new)
        if not isinstance(new, Tensor):
            raise ValueError("'right_inverse' must return a Tensor; parametrizations whose "
                             "right_inverse returns several tensors are not supported here.")
        if new is not original:
            _set_values(original, new)
        _store(self, "original", original)

    def right_inverse(self, value: Tensor) -> None:
        """Store the ``original`` that the parametrizations map to ``value``."""
        with grad_mode.no_grad():
            for m in reversed(list(self)):
                if hasattr(m, "right_inverse"):
                    value = m.right_inverse(value)
            if not self.unsafe and (value.shape != self.original.shape
                                    or value.dtype != self.original.dtype):
                raise RuntimeError(
                    f"the assigned value maps to an original of shape {tuple(value.shape)} and "
                    f"dtype {value.dtype}, but the original is {tuple(self.original.shape)} "
                    f"{self.original.dtype}; give a right_inverse that returns the original's "
                    "shape and dtype.")
            _set_values(self.original, value)

    def forward(self) -> Tensor:
        x = self.original
        for m in self:
            x = m(x)
        return x


def _parametrized_class(module: Module) -> type:
    """Swap ``module``'s class for a fresh subclass (where the properties will live)."""
    cls = type(module)
    if getattr(cls, "_is_parametrized_class", False):
        return cls

    def getstate(self):
        raise RuntimeError("Serialization of parametrized modules is only supported through "
                           "state_dict(); save and load the state dict instead.")

    new = type(f"Parametrized{cls.__name__}", (cls,),
               {"_is_parametrized_class": True, "__getstate__": getstate,
                "__module__": cls.__module__})
    module.__class__ = new
    return new


def _add_property(cls: type, name: str) -> None:
    def get(self):
        plist = self.parametrizations[name]
        if not _cache_depth:
            return plist()
        key = (id(self), name)
        if key not in _cache:
            _cache[key] = plist()
        return _cache[key]

    def set_(self, value):
        self.parametrizations[name].right_inverse(value)

    setattr(cls, name, property(get, set_))


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` the output of ``parametrization`` (after any already
    registered on it) applied to the stored original; returns ``module``."""
    if not isinstance(parametrization, Module):
        raise TypeError(f"the parametrization must be an nn.Module, not "
                        f"{type(parametrization).__name__}")
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            current = getattr(module, tensor_name)
            out = parametrization(current)
            if not isinstance(out, Tensor) or out.shape != current.shape \
                    or out.dtype != current.dtype:
                raise ValueError(
                    f"Registering a parametrization may not change the shape or dtype of the "
                    f"tensor ({tuple(current.shape)} {current.dtype}); pass unsafe=True to "
                    "allow it.")
        plist.append(parametrization)
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"Module '{module._get_name()}' does not have a parameter, a buffer, "
                         f"or a parametrized element with name '{tensor_name}'")
    original = getattr(module, tensor_name)
    if not unsafe:
        out = parametrization(original)
        if not isinstance(out, Tensor) or out.shape != original.shape \
                or out.dtype != original.dtype:
            raise ValueError(
                f"Registering a parametrization may not change the shape or dtype of the tensor "
                f"({tuple(original.shape)} {original.dtype}); pass unsafe=True to allow it.")
    delattr(module, tensor_name)
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    if not is_parametrized(module):
        module.parametrizations = ModuleDict()
        cls = _parametrized_class(module)
    else:
        cls = type(module)
    module.parametrizations[tensor_name] = plist
    _add_property(cls, tensor_name)
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has parametrizations (on ``tensor_name``, when given)."""
    plists = module._modules.get("parametrizations")
    if not isinstance(plists, ModuleDict):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Make ``module.<tensor_name>`` a plain parameter (or buffer) again: with the current
    parametrized value (``leave_parametrized``), or with the stored original."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module._get_name()} does not have a parametrization on "
                         f"{tensor_name}")
    plist = module.parametrizations[tensor_name]
    original = plist.original
    if leave_parametrized:
        with grad_mode.no_grad():
            value = getattr(module, tensor_name)
        _set_values(original, value)
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _store(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class as it was before any parametrization was registered."""
    cls = type(module)
    return cls.__bases__[0] if getattr(cls, "_is_parametrized_class", False) else cls
