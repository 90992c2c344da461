"""Joins and splits: cat and stack, and their inverses unbind, split and chunk.

A join's gradient is the matching slice of the output gradient; a split's is the output
gradients joined back. The splits return views of their input.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..autograd.forward_ad import linear_jvp
from ..autograd.function import Function
from ..tensor import Tensor, _wrap, _wrap_dim
from ._registry import expose


def _result_dtype(tensors) -> np.dtype:
    """The promoted dtype of a list of tensors (PyTorch's rules, as for a binary op)."""
    first = tensors[0]._data.dtype
    if len({t._data.dtype for t in tensors}) == 1:
        return first
    dt = _dt.FROM_NUMPY[first]
    for t in tensors[1:]:
        dt = _dt.promote_types(dt, _dt.FROM_NUMPY[t._data.dtype])
    return dt.np


class Cat(Function):
    """out = tensors joined along ``dim``;  d(tensor i) = the matching slice of grad"""

    @staticmethod
    def forward(ctx, *args):
        tensors, dim, keep = args[:-2], args[-2], args[-1]
        if keep is None:
            arrays = [t._data for t in tensors]
        else:
            arrays = [t._data for t, k in zip(tensors, keep) if k]
        ctx.dim = dim
        ctx.keep = keep
        ctx.sizes = [a.shape[dim] for a in arrays]
        # 1-D empty inputs get a fresh empty gradient, outside any graph (as PyTorch)
        ctx.flat_empty = [a.shape == (0,) for a in arrays] if 0 in ctx.sizes else None
        return np.concatenate(arrays, axis=dim, dtype=_result_dtype(tensors))

    @staticmethod
    def backward(ctx, grad):
        parts = SplitWithSizes.apply(grad, ctx.sizes, ctx.dim) if len(ctx.sizes) > 1 \
            else (grad,)
        if ctx.flat_empty is not None:
            parts = [_wrap(np.zeros((0,), grad._data.dtype)) if empty else part
                     for part, empty in zip(parts, ctx.flat_empty)]
        if ctx.keep is None:
            return (*parts, None, None)
        # A skipped empty tensor gets an empty gradient, as in PyTorch.
        parts = iter(parts)
        grads = [next(parts) if k else _wrap(np.zeros((0,), grad._data.dtype))
                 for k in ctx.keep]
        return (*grads, None, None)

    jvp = linear_jvp


class Stack(Function):
    """out = tensors stacked along a new dim;  d(tensor i) = grad.select(dim, i)"""

    @staticmethod
    def forward(ctx, *args):
        tensors, dim = args[:-1], args[-1]
        ctx.dim = dim
        dtype = _result_dtype(tensors)
        new_axis = (slice(None),) * dim + (None,)
        return np.concatenate([t._data[new_axis] for t in tensors], axis=dim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        return (*Unbind.apply(grad, ctx.dim), None)

    jvp = linear_jvp


class Unbind(Function):
    """outs = the slices of x along ``dim`` (views);  dx = the output grads stacked"""

    _is_view = True
    _multi_output_view = True  # its outputs may not be changed in place (ops/inplace.py)

    @staticmethod
    def forward(ctx, x, dim):
        a = x._data
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(a[lead + (i, Ellipsis)] for i in range(a.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return Stack.apply(*grads, ctx.dim), None

    jvp = linear_jvp


class Split(Function):
    """outs = consecutive pieces of x along ``dim`` (views);  dx = the output grads joined"""

    _is_view = True
    _multi_output_view = True  # its outputs may not be changed in place (ops/inplace.py)

    @staticmethod
    def forward(ctx, x, sizes, dim):
        a = x._data
        ctx.dim = dim
        lead = (slice(None),) * dim
        out = []
        start = 0
        for s in sizes:
            out.append(a[lead + (slice(start, start + s),)])
            start += s
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads):
        if len(grads) == 1:
            return grads[0], None, None
        return Cat.apply(*grads, ctx.dim, None), None, None

    jvp = linear_jvp


class SplitWithSizes(Split):
    """outs = pieces of x of the given sizes along ``dim`` (views);  dx = the grads joined"""

    node_name = "SplitWithSizesBackward0"


def _tensor_list(tensors, fn_name: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"{fn_name}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
            f"{type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{fn_name}(): expected Tensor as element {i} in argument 0, but got "
                f"{type(t).__name__}")
    return list(tensors)


def cat(tensors, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing dim; their other sizes must match.

    As in PyTorch, 1-D tensors with no elements are skipped when joined with others.
    """
    if axis is not None:
        dim = axis
    if not isinstance(tensors, (list, tuple)) or not all(isinstance(t, Tensor) for t in tensors):
        _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    shapes = [t._data.shape for t in tensors]
    if () in shapes:
        raise RuntimeError(
            f"zero-dimensional tensor (at position {shapes.index(())}) cannot be concatenated; "
            "unsqueeze it or use stack() instead.")
    keep = None  # which tensors take part: None means all
    if (0,) in shapes and any(s != (0,) for s in shapes):
        keep = tuple(s != (0,) for s in shapes)
    ref = shapes[0] if keep is None else shapes[keep.index(True)]
    n = len(ref)
    d = _wrap_dim(dim, n)
    for i, s in enumerate(shapes):
        if s == ref or (keep is not None and not keep[i]):
            continue
        if len(s) != n:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {n} and {len(s)}")
        for j in range(n):
            if j != d and s[j] != ref[j]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ref[j]} but got size {s[j]} for tensor number {i} in the list.")
    return Cat.apply(*tensors, d, keep)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dim ``dim``."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    ref = tensors[0]._data.shape
    for i, t in enumerate(tensors[1:], 1):
        if t._data.shape != ref:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(ref)} at entry 0 and "
                f"{list(t._data.shape)} at entry {i}")
    return Stack.apply(*tensors, _wrap_dim(dim, len(ref) + 1))


def unbind(x: Tensor, dim: int = 0) -> tuple:
    """The slices of x along ``dim``, as a tuple of views."""
    if x._data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return Unbind.apply(x, _wrap_dim(dim, x._data.ndim))


def split(x: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of x along ``dim``: of size ``split_size`` each (the last may be smaller), or of
    the sizes in a list. Returns a tuple of views."""
    if x._data.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, x._data.ndim)
    n = x._data.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes):
            raise RuntimeError(
                "split_with_sizes expects split_sizes have only non-negative entries, but got "
                f"split_sizes={sizes}")
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                f"size at dimension {d}), but got split_sizes={sizes}")
        return SplitWithSizes.apply(x, sizes, d)
    size = int(split_size_or_sections)
    if size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
    if size == 0 and n != 0:
        raise RuntimeError(
            f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
    if n == 0:
        return Split.apply(x, [0], d)
    return Split.apply(x, [size] * (n // size) + ([n % size] if n % size else []), d)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split x into at most ``chunks`` pieces of equal size (the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if x._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, x._data.ndim)
    n = x._data.shape[d]
    if n == 0:
        return Split.apply(x, [0] * chunks, d)
    return split(x, -(-n // chunks), d)


expose({"unbind": unbind, "split": split, "chunk": chunk})
expose({"cat": cat, "concat": cat, "concatenate": cat, "stack": stack}, method=False)
