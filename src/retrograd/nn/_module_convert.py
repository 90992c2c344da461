"""Converting a module's parameters and buffers: ``to(dtype)``, ``float()``, ``double()``,
``half()`` and the device no-ops (``Module`` inherits these methods from ``_ModuleConvert``).

Parameters keep their identity through a conversion (only their ``data`` is swapped), so an
optimizer made before ``model.double()`` still updates the model's parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import grad_mode
from .._types import device
from ..cuda import check_device, no_gpu_error
from ..dtypes import dtype as _dtype_cls
from ..dtypes import float16, float32, float64
from ..tensor import Tensor

if TYPE_CHECKING:
    from .module import Module


class _ModuleConvert:
    """The conversion part of ``Module``."""

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
        check_device(dev)
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

    def cuda(self, device=None) -> Module:
        raise no_gpu_error("Module.cuda()")

    def type(self, dst_type) -> Module:
        return self._apply(lambda t: t.to(dst_type))

    def share_memory(self) -> Module:
        return self
