"""Parameter: a tensor that a Module registers as one of its learnable weights.

A Parameter is an ordinary Tensor (every op accepts it) with two differences: it requires grad
unless told otherwise, and assigning one as an attribute of a ``Module`` registers it in the
module's ``parameters()``. Results of ops on a Parameter are plain Tensors.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
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


# ---- making a layer's parameters --------------------------------------------------------------


def _check_device(device) -> None:
    """Layers take PyTorch's ``device`` argument; the cpu is the only device here."""
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(f"device {device} is not available; retrograd runs on the cpu")


def _np_dtype(dtype) -> np.dtype:
    """The array dtype for a layer's ``dtype`` argument (None: the default dtype)."""
    return _dt.get_default_dtype().np if dtype is None else _dt.to_dtype(dtype).np


def _empty(shape: tuple, dtype=None, device=None) -> Tensor:
    """Uninitialised storage for a parameter, which the layer's ``reset_parameters`` fills."""
    _check_device(device)
    return _wrap(np.empty(shape, dtype=_np_dtype(dtype)))


def _add_weight_and_bias(module, weight_shape: tuple, bias_shape: tuple | None, dtype,
                         device) -> None:
    """Register ``module.weight`` and ``module.bias`` (a None placeholder when ``bias_shape``
    is None), both uninitialised."""
    module.weight = Parameter(_empty(weight_shape, dtype, device))
    if bias_shape is None:
        module.register_parameter("bias", None)
    else:
        module.bias = Parameter(_empty(bias_shape, dtype, device))
