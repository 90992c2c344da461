"""Parameter: a tensor that a Module registers as one of its learnable weights.

A Parameter is an ordinary Tensor (every op accepts it) with two differences: it requires grad
unless told otherwise, and assigning one as an attribute of a ``Module`` registers it in the
module's ``parameters()``. Results of ops on a Parameter are plain Tensors.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _wrap

__all__ = ["Buffer", "Parameter"]

_new = object.__new__


class Parameter(Tensor):
    """A leaf tensor that is a module's learnable weight; ``requires_grad`` defaults to True.

    ``Parameter(data)`` shares memory with ``data`` (like PyTorch) and is always a leaf.
    """

    __slots__ = ()

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            arr = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            raise TypeError(
                f"Parameter expects a Tensor as data, got {type(data).__name__}; wrap it with "
                "retrograd.tensor(...) first.")
        p = _new(cls)
        p._data = arr
        p._requires_grad = False
        p.grad_fn = None
        p._version_counter = None
        if isinstance(data, Tensor):  # a second name for the same memory: share the counter
            if data._version_counter is None:
                data._version_counter = [0]
            p._version_counter = data._version_counter
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass  # everything happens in __new__ (Tensor.__init__ would build a new array)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._data, self._requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(_wrap(self._data.copy()), self._requires_grad)
        if self._grad is not None:
            out._grad = _wrap(self._grad._data.copy())
        memo[id(self)] = out
        return out


def _rebuild_parameter(data, requires_grad):
    return Parameter(_wrap(data), requires_grad)


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute.

    ``module.name = Buffer(t)`` is ``module.register_buffer("name", t)``; the module stores
    the plain tensor ``t`` itself, so this class is only a tag.
    """

    __slots__ = ("persistent",)

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            data = _wrap(np.empty((0,), dtype=np.float32))
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer expects a Tensor as data, got {type(data).__name__}")
        b = _new(cls)
        b._data = data._data
        b._requires_grad = data._requires_grad
        b.grad_fn = None
        b._version_counter = data._version_counter
        b.persistent = persistent
        return b

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True) -> None:
        pass
