"""``Variable``: the deprecated wrapper of PyTorch before 0.4, kept for old programs.

Tensors and Variables are one thing since then: ``Variable(t)`` returns a new tensor sharing
t's data, detached from t's history, that requires grad if ``requires_grad=True``; and every
tensor is an instance of ``Variable``.
"""

from __future__ import annotations

from ..tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """Deprecated: ``Variable(t, requires_grad=False)`` is ``t.detach().requires_grad_(...)``."""

    def __new__(cls, data=None, requires_grad: bool = False, volatile: bool = False):
        if data is None:
            from ..creation import tensor

            data = tensor([])
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)
