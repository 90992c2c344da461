"""Questions a tensor answers about itself, and the small methods that go with them: sizes in
bytes, the storage offset, layout and device queries, complex-number helpers for real tensors
(``conj`` is x itself), ``char``/``byte``/``short`` conversions, ``__contains__``, and
``resize_``, ``map_`` and ``apply_``.

retrograd tensors are real, strided, CPU, never shared or pinned; the answers say so in
PyTorch's words, so code that asks runs unchanged.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ._registry import expose
from .copies import _dtype_method


class _Layout:
    """A tensor memory layout; retrograd has one, ``strided`` (dense, with strides)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self):
        return self.name


strided = _Layout("strided")


def _storage_offset(x: Tensor) -> int:
    """How many elements into its memory (its base's, for a view) x starts."""
    from .shape_more import _offset

    return _offset(x)


def _real(x: Tensor) -> Tensor:
    return x


def _imag(x: Tensor):
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def _bfloat16(x: Tensor, memory_format=None):
    raise TypeError("retrograd has no bfloat16 dtype (NumPy has none); use .half() for 16-bit "
                    "floats or .float() for 32-bit.")


def _contains(x: Tensor, element) -> bool:
    if isinstance(element, Tensor):
        return bool((x._data == element._data).any())
    if isinstance(element, (bool, int, float, np.number)):
        return bool((x._data == element).any())
    raise RuntimeError("Tensor.__contains__ only supports Tensor or scalar, but you passed in "
                       f"a {type(element)}.")


def _reversed(x: Tensor) -> Tensor:
    return x if x._data.ndim == 0 else x.flip(0)


def _resize_check(x: Tensor) -> None:
    if x._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")


def resize_(x: Tensor, *size, memory_format=None) -> Tensor:
    """Give x the shape ``size`` in place: its leading elements kept (in memory order), new
    ones zero; not recorded, and refused on a tensor that requires grad (as PyTorch)."""
    from .shape import int_args

    _resize_check(x)
    shape = int_args(size)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(shape)}")
    n = int(np.prod(shape, dtype=np.int64))
    old = x._data.reshape(-1)
    if n <= old.size and x._data.flags.c_contiguous and x._base is None:
        x._data = old[:n].reshape(shape)
    else:
        new = np.zeros(n, x._data.dtype)
        new[:min(n, old.size)] = old[:n]
        x._data = new.reshape(shape)
    x._bump_version()
    return x


def resize_as_(x: Tensor, other: Tensor, memory_format=None) -> Tensor:
    return resize_(x, other._data.shape)


def map_(x: Tensor, other: Tensor, callable) -> Tensor:  # noqa: A002 - PyTorch's name
    """x[i] = callable(x[i], other[i]) for every element (other broadcast to x), in place."""
    b = np.broadcast_to(other._data, x._data.shape)
    vals = [callable(p, q) for p, q in zip(x._data.reshape(-1).tolist(), b.reshape(-1).tolist())]
    x._data[...] = np.asarray(vals, x._data.dtype).reshape(x._data.shape)
    x._bump_version()
    return x


def apply_(x: Tensor, callable) -> Tensor:  # noqa: A002
    """x[i] = callable(x[i]) for every element, in place (slow: Python per element)."""
    if x._requires_grad:
        raise RuntimeError("Can't call apply_() on Variable that requires grad. Use "
                           "var.detach().apply_() instead.")
    vals = [callable(p) for p in x._data.reshape(-1).tolist()]
    x._data[...] = np.asarray(vals, x._data.dtype).reshape(x._data.shape)
    x._bump_version()
    return x


def is_nonzero(x: Tensor) -> bool:
    """Whether a one-element tensor's value is nonzero."""
    if x._data.size == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if x._data.size > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(x._data.reshape(()))


def _get_device(x: Tensor) -> int:
    return -1  # (the CPU)


def _false(x: Tensor, *args) -> bool:
    return False


expose({
    "is_complex": lambda x: False, "is_signed": lambda x: x.dtype.is_signed,
    "is_inference": _false, "is_nonzero": is_nonzero, "conj": _real, "resolve_conj": _real,
    "resolve_neg": _real,
    "conj_physical": lambda x: x.clone(), "is_conj": _false, "is_neg": _false,
})
expose({"real": _real, "imag": _imag, "strided": strided, "layout": _Layout,
        "get_device": _get_device, "resize_as_": resize_as_}, method=False)
expose({
    "real": property(_real, doc="A real tensor's real part: the tensor itself."),
    "imag": property(_imag, doc="Only complex tensors have an imaginary part."),
    "nbytes": property(lambda x: x._data.nbytes, doc="The bytes x's elements take."),
    "itemsize": property(lambda x: x._data.itemsize, doc="The bytes one element takes."),
    "layout": property(lambda x: strided, doc="The memory layout (always strided here)."),
    "is_nested": property(_false), "is_meta": property(_false),
    "is_quantized": property(_false), "is_sparse": property(_false),
    "storage_offset": _storage_offset, "is_shared": _false, "share_memory_": lambda x: x,
    "pin_memory": lambda x, device=None: x, "is_pinned": _false,
    "get_device": _get_device, "bfloat16": _bfloat16,
    "char": _dtype_method("int8"), "byte": _dtype_method("uint8"),
    "short": _dtype_method("int16"),
    "__contains__": _contains, "__reversed__": _reversed,
    "resize_": resize_, "resize_as_": resize_as_, "map_": map_, "apply_": apply_,
}, function=False)
