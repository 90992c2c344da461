"""Containers: modules that hold other modules (Sequential, ModuleList, ModuleDict) or
parameters (ParameterList). Their children are registered under the names "0", "1", ...
(or the dict's keys), which is how they appear in ``state_dict`` and ``repr``."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

from .module import Module
from .parameter import Parameter

__all__ = ["ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential"]


def _index(idx, n: int) -> int:
    """An int index into n items, negative allowed, with PyTorch's IndexError."""
    idx = operator.index(idx)
    if not -n <= idx < n:
        raise IndexError(f"index {idx} is out of range")
    return idx + n if idx < 0 else idx


class _IndexedModules(Module):
    """What Sequential and ModuleList share: children named "0".."n-1", indexable as a list."""

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def _renumber(self) -> None:
        # Names follow positions, so removing or inserting renames the children after it.
        mods = list(self._modules.values())
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[_index(idx, len(self._modules))]
        self.add_module(key, module)

    def __delitem__(self, idx) -> None:
        keys = list(self._modules)
        if isinstance(idx, slice):
            for key in keys[idx]:
                del self._modules[key]
        else:
            del self._modules[keys[_index(idx, len(keys))]]
        self._renumber()

    def append(self, module: Module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        n = len(self._modules)
        index = operator.index(index)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        if index < 0:
            index += n
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)

    def pop(self, key: int = -1) -> Module:
        mod = self[key]
        del self[key]
        return mod

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]


class Sequential(_IndexedModules):
    """Modules applied one after the other: ``Sequential(a, b)(x)`` is ``b(a(x))``.

    Also accepts one ``OrderedDict`` of name -> module, to choose the children's names.
    """

    def __init__(self, *args: Module) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def __getitem__(self, idx):
        if isinstance(idx, slice):  # keeps the original names, as PyTorch does
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_index(idx, len(self._modules))]

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        return Sequential(*self, *other)

    def forward(self, input):  # noqa: A002 - PyTorch's argument name
        for m in self._modules.values():
            input = m(input)  # noqa: A001
        return input


class ModuleList(_IndexedModules):
    """A list of modules, registered so their parameters belong to the owner (no forward)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return list(self._modules.values())[_index(idx, len(self._modules))]

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def __iadd__(self, other: Iterable[Module]) -> ModuleList:
        return self.extend(other)

    def __repr__(self) -> str:
        # Runs of children that print the same are folded: "(0-2): 3 x Linear(...)".
        if not self._modules:
            return f"{self._get_name()}()"
        entries = [(k, repr(m)) for k, m in self._modules.items()]
        lines = []
        start = 0
        while start < len(entries):
            end = start
            while end + 1 < len(entries) and entries[end + 1][1] == entries[start][1]:
                end += 1
            text = entries[start][1].replace("\n", "\n  ")
            if end == start:
                lines.append(f"({entries[start][0]}): {text}")
            else:
                lines.append(f"({entries[start][0]}-{entries[end][0]}): {end - start + 1} x {text}")
            start = end + 1
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"


class _DictView:
    """The mapping methods of ModuleDict and ParameterDict: a view of the module's own store
    named by ``_store``; each class adds how a value is stored (``__setitem__``)."""

    _store: str

    def __getitem__(self, key: str):
        return self.__dict__[self._store][key]

    def __delitem__(self, key: str) -> None:
        del self.__dict__[self._store][key]

    def __len__(self) -> int:
        return len(self.__dict__[self._store])

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__[self._store])

    def __contains__(self, key: str) -> bool:
        return key in self.__dict__[self._store]

    def keys(self):
        return self.__dict__[self._store].keys()

    def items(self):
        return self.__dict__[self._store].items()

    def values(self):
        return self.__dict__[self._store].values()


class ModuleDict(_DictView, Module):
    """A dict of modules, registered so their parameters belong to the owner (no forward)."""

    _store = "_modules"

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        mod = self[key]
        del self[key]
        return mod

    def update(self, modules) -> None:
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs = modules.items()
        else:
            pairs = []
            for j, pair in enumerate(modules):
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    raise ValueError(
                        f"ModuleDict update sequence element #{j} should be a (name, module) "
                        "pair")
                pairs.append(pair)
        for key, m in pairs:
            self[key] = m


class ParameterList(Module):
    """A list of parameters, registered under "0", "1", ... (tensors are made Parameters)."""

    def __init__(self, values: Iterable | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(self._size)[idx]])
        return getattr(self, str(_index(idx, self._size)))

    def __setitem__(self, idx: int, value) -> None:
        idx = _index(idx, self._size)
        if not isinstance(value, Parameter) and hasattr(value, "_data"):
            value = Parameter(value)
        setattr(self, str(idx), value)

    def __iter__(self):
        return (self[i] for i in range(self._size))

    def append(self, value):
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        lines = []
        for i, p in enumerate(self):
            kind = "Parameter containing" if isinstance(p, Parameter) else "Tensor"
            lines.append(f"  ({i}): {kind}: [{p.dtype} of size {'x'.join(map(str, p.shape))}]")
        return "\n".join(lines)


class ParameterDict(_DictView, Module):
    """A dict of parameters, registered under their keys (tensors are made Parameters)."""

    _store = "_parameters"

    def __init__(self, parameters=None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __setitem__(self, key: str, value) -> None:
        if not isinstance(value, Parameter) and hasattr(value, "_data"):
            value = Parameter(value)
        self.register_parameter(key, value)

    def update(self, parameters) -> None:
        pairs = parameters.items() if isinstance(parameters, (Mapping, ParameterDict)) \
            else parameters
        for key, value in pairs:
            self[key] = value
