"""Shape ops: views and copies that rearrange elements without computing new values.

View ops (``_is_view = True``) return tensors sharing memory and the version counter with their
input, as PyTorch's views do; their backward rearranges the gradient back.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import dtypes as _dt
from ..autograd.function import Function
from ..backend import broadcast_view
from ..tensor import Tensor, _wrap, _wrap_dim
from ._registry import expose


def _shape_arg(shape) -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` (and a Size)."""
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _infer_shape(shape: tuple, numel: int) -> tuple:
    """Resolve one -1 in ``shape``; RuntimeError (PyTorch's text) when it cannot fit."""
    known = 1
    unknown = None
    for i, s in enumerate(shape):
        if s == -1:
            if unknown is not None:
                raise RuntimeError("only one dimension can be inferred")
            unknown = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
        else:
            known *= s
    if unknown is not None:
        if known == 0 or numel % known:
            raise RuntimeError(
                f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:unknown] + (numel // known,) + shape[unknown + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class View(Function):
    """out = x with a new shape, sharing memory;  dx = grad reshaped back"""

    _is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        a = x._data
        ctx.in_shape = a.shape
        shape = _infer_shape(shape, a.size)
        try:
            return np.reshape(a, shape, copy=False)
        except ValueError:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead "
                "of .view(...).") from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class Reshape(Function):
    """out = a copy of x with a new shape (when a view is impossible);  dx = grad reshaped"""

    node_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._data.shape
        return np.reshape(x._data, shape).copy()

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class Expand(Function):
    """out = x broadcast to ``shape`` (a read-only view);  dx = grad summed back to x's shape"""

    _is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        a = x._data
        ctx.in_shape = a.shape
        return broadcast_view(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.sum_to_size(ctx.in_shape), None


class SumToSize(Function):
    """out = x summed down to ``shape`` (undoes broadcasting);  dx = grad expanded back"""

    node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, x, shape):
        a = x._data
        ctx.in_shape = in_shape = a.shape
        lead = a.ndim - len(shape)
        if in_shape[lead:] == shape:  # only leading dims were added (a bias): one reduction
            return _add_reduce(a, axis=0) if lead == 1 else a.sum(axis=tuple(range(lead)))
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(shape) if s == 1 and in_shape[lead + i] != 1)
        out = a.sum(axis=axes, keepdims=True) if axes else a
        return np.asarray(out.reshape(shape) if lead else out)

    @staticmethod
    def backward(ctx, grad):
        return Expand.apply(grad, ctx.in_shape), None


_add_reduce = np.add.reduce


class ToCopy(Function):
    """out = x converted to another dtype;  dx = grad converted back"""

    @staticmethod
    def forward(ctx, x, np_dtype):
        ctx.in_dtype = _dt.FROM_NUMPY[x._data.dtype]
        return x._data.astype(np_dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.in_dtype), None


class Clone(Function):
    """out = a copy of x;  dx = grad"""

    @staticmethod
    def forward(ctx, x):
        return x._data.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


# ---- the functions users call ----------------------------------------------------------------


def view(x: Tensor, *shape) -> Tensor:
    """The same memory with another shape (one size may be -1); errors if impossible."""
    if len(shape) == 1 and isinstance(shape[0], _dt.dtype):
        raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
    return View.apply(x, _shape_arg(shape))


def reshape(x: Tensor, *shape) -> Tensor:
    """Another shape for the same elements: a view when possible, else a copy."""
    shape = _infer_shape(_shape_arg(shape), x._data.size)
    if shape == x._data.shape:
        return View.apply(x, shape)
    try:
        np.reshape(x._data, shape, copy=False)
    except ValueError:
        return Reshape.apply(x, shape)
    return View.apply(x, shape)


def expand(x: Tensor, *shape) -> Tensor:
    """Broadcast x to a larger shape without copying (-1 keeps a size)."""
    shape = _shape_arg(shape)
    a = x._data
    lead = len(shape) - a.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(shape)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({a.ndim})")
    full = []
    for i, s in enumerate(shape):
        if s == -1:
            if i < lead:
                raise RuntimeError(
                    "expand: -1 is not allowed in a leading, non-existing dimension")
            s = a.shape[i - lead]
        elif i >= lead and a.shape[i - lead] != s and a.shape[i - lead] != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size "
                f"({a.shape[i - lead]}) at non-singleton dimension {i}.  Target sizes: "
                f"{list(shape)}.  Tensor sizes: {list(a.shape)}")
        full.append(s)
    return Expand.apply(x, tuple(full))


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    return expand(x, other._data.shape)


def view_as(x: Tensor, other: Tensor) -> Tensor:
    return view(x, other._data.shape)


def reshape_as(x: Tensor, other: Tensor) -> Tensor:
    return reshape(x, other._data.shape)


def sum_to_size(x: Tensor, *shape) -> Tensor:
    """Sum x down to ``shape``, which x must be broadcastable from."""
    shape = _shape_arg(shape)
    if shape == x._data.shape:
        return x
    a = x._data
    lead = a.ndim - len(shape)
    if lead < 0 or any(s != 1 and a.shape[lead + i] != s for i, s in enumerate(shape)):
        raise RuntimeError(
            f"size {list(shape)} is not expandable to size {list(a.shape)}; sum_to_size needs "
            "a shape the tensor could have been broadcast from.")
    return SumToSize.apply(x, shape)


def to(x: Tensor, *args, dtype=None, device=None, copy: bool = False, non_blocking=False):
    """Convert to a dtype (and/or device). Returns x itself when nothing changes."""
    from ..tensor import Tensor as _T

    for a in args:
        if isinstance(a, _dt.dtype) or a in (float, int, bool):
            dtype = a
        elif isinstance(a, _T):
            dtype = a.dtype
        elif isinstance(a, str) or hasattr(a, "type"):
            device = a
        else:
            dtype = a
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(f"device {device} is not available; retrograd runs on the cpu")
    if dtype is None:
        return clone(x) if copy else x
    np_dtype = _dt.to_dtype(dtype).np
    if x._data.dtype == np_dtype and not copy:
        return x
    return ToCopy.apply(x, np_dtype)


def clone(x: Tensor, *, memory_format=None) -> Tensor:
    return Clone.apply(x)


def contiguous(x: Tensor, memory_format=None) -> Tensor:
    return x if x._data.flags.c_contiguous else Clone.apply(x)


def flatten_dims(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one."""
    a = x._data
    if a.ndim == 0:
        return reshape(x, 1)
    s = _wrap_dim(start_dim, a.ndim)
    e = _wrap_dim(end_dim, a.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return x
    n = 1
    for d in a.shape[s:e + 1]:
        n *= d
    return reshape(x, a.shape[:s] + (n,) + a.shape[e + 1:])


# ---- dimension rearrangements (views) --------------------------------------------------------


def _dims_arg(dims) -> tuple:
    """Accept ``f(0, 1)``, ``f((0, 1))`` and ``f([0, 1])`` for a list of dims."""
    if len(dims) == 1 and not isinstance(dims[0], int):
        dims = dims[0]
    return tuple(int(d) for d in dims)


def _unique_dims(dims, ndim: int) -> tuple:
    """Wrap each dim; RuntimeError when one appears twice."""
    out = tuple(_wrap_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        for i, d in enumerate(out):
            if d in out[:i]:
                raise RuntimeError(
                    f"dim {d} appears multiple times in the list of dims; each dim may be "
                    "given once.")
    return out


class Squeeze(Function):
    """out = x without all its size-1 dims (a view);  dx = grad reshaped back"""

    _is_view = True

    @staticmethod
    def forward(ctx, x, axes):
        a = x._data
        ctx.in_shape = a.shape
        return np.squeeze(a, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class SqueezeDim(Squeeze):
    """out = x without dim ``d`` if it has size 1 (a view);  dx = grad reshaped back"""

    node_name = "SqueezeBackward1"


class SqueezeDims(Squeeze):
    """out = x without those of ``dims`` that have size 1 (a view);  dx = grad reshaped back"""

    node_name = "SqueezeBackward2"


class Unsqueeze(Function):
    """out = x with a new size-1 dim at ``d`` (a view);  dx = grad.squeeze(d)"""

    _is_view = True

    @staticmethod
    def forward(ctx, x, d):
        ctx.d = d
        return x._data[(slice(None),) * d + (None,)]

    @staticmethod
    def backward(ctx, grad):
        return SqueezeDim.apply(grad, (ctx.d,)), None


class Transpose(Function):
    """out = x with dims d0 and d1 swapped (a view);  dx = grad with them swapped back"""

    _is_view = True

    @staticmethod
    def forward(ctx, x, d0, d1):
        ctx.dims = (d0, d1)
        return x._data.swapaxes(d0, d1)

    @staticmethod
    def backward(ctx, grad):
        return Transpose.apply(grad, *ctx.dims), None, None


class T(Function):
    """out = x.t() for a tensor of at most 2 dims (a view);  dx = grad.t()"""

    _is_view = True

    @staticmethod
    def forward(ctx, x):
        return x._data.T

    @staticmethod
    def backward(ctx, grad):
        return T.apply(grad)


class Permute(Function):
    """out = x with its dims reordered by ``dims`` (a view);  dx = grad permuted back"""

    _is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x._data.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return Permute.apply(grad, tuple(np.argsort(ctx.dims).tolist())), None


class Repeat(Function):
    """out = x tiled ``reps`` times along each dim;  dx = sum of grad over the tiles"""

    @staticmethod
    def forward(ctx, x, reps):
        a = x._data
        ctx.in_shape = a.shape
        ctx.reps = reps
        return np.tile(a, reps)

    @staticmethod
    def backward(ctx, grad):
        reps = ctx.reps
        padded = (1,) * (len(reps) - len(ctx.in_shape)) + ctx.in_shape
        # Split each dim into (tile, original) and sum over the tile axes.
        split = []
        for r, s in zip(reps, padded):
            split += (r, s)
        summed = grad.reshape(tuple(split)).sum(tuple(range(0, 2 * len(reps), 2)))
        return summed.reshape(ctx.in_shape), None


class Flip(Function):
    """out = a copy of x reversed along ``dims``;  dx = grad flipped back"""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        a = x._data
        return a[tuple(slice(None, None, -1) if i in dims else slice(None)
                       for i in range(a.ndim))].copy()

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, ctx.dims), None


def squeeze(x: Tensor, dim=None) -> Tensor:
    """Remove size-1 dims: all of them, or those among ``dim`` (an int or a tuple)."""
    shape = x._data.shape
    if dim is None:
        return Squeeze.apply(x, tuple(i for i, s in enumerate(shape) if s == 1))
    if isinstance(dim, int):
        d = _wrap_dim(dim, len(shape))
        return SqueezeDim.apply(x, (d,) if shape and shape[d] == 1 else ())
    dims = _unique_dims(dim, len(shape))
    return SqueezeDims.apply(x, tuple(d for d in dims if shape and shape[d] == 1))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim`` (which may be x.dim(), meaning at the end)."""
    return Unsqueeze.apply(x, _wrap_dim(dim, x._data.ndim + 1))


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims (a view)."""
    n = x._data.ndim
    return Transpose.apply(x, _wrap_dim(dim0, n), _wrap_dim(dim1, n))


def t(x: Tensor) -> Tensor:
    """Transpose a matrix; 0-D and 1-D tensors come back unchanged (as views)."""
    if x._data.ndim > 2:
        raise RuntimeError(
            f"t() expects a tensor with <= 2 dimensions, but self is {x._data.ndim}D; use "
            "transpose(dim0, dim1) or mT for batches of matrices.")
    return T.apply(x)


def permute(x: Tensor, *dims) -> Tensor:
    """Reorder the dims: ``out.shape[i] == x.shape[dims[i]]`` (a view)."""
    if len(dims) == 1 and not isinstance(dims[0], int):
        dims = dims[0]
    n = x._data.ndim
    wrapped = tuple([d + n if d < 0 else d for d in dims])
    if len(wrapped) == n and sorted(wrapped) == list(range(n)):
        return Permute.apply(x, wrapped)
    dims = _dims_arg((dims,))
    if len(dims) != n:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal "
            f"to len(dims) = {len(dims)}")
    wrapped = tuple(_wrap_dim(d, n) for d in dims)
    if len(set(wrapped)) != n:
        raise RuntimeError(
            f"permute(): duplicate dims are not allowed (got {list(dims)}); give each dim once.")
    return Permute.apply(x, wrapped)


def movedim(x: Tensor, source, destination) -> Tensor:
    """Move dims ``source`` to positions ``destination``; the others keep their order."""
    n = x._data.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
            f"contain the same number of dims as destination ({list(dst)} dims)")
    src_w = tuple(_wrap_dim(d, n) for d in src)
    dst_w = tuple(_wrap_dim(d, n) for d in dst)
    if len(set(src_w)) != len(src_w):
        raise RuntimeError(f"movedim: repeated dim in `source` ({list(src)})")
    if len(set(dst_w)) != len(dst_w):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({list(dst)})")
    order = [None] * max(n, 1)
    for s, d in zip(src_w, dst_w):
        order[d] = s
    rest = iter(i for i in range(n) if i not in src_w)
    perm = tuple(o if o is not None else next(rest) for o in order[:n])
    return Permute.apply(x, perm)


def _T(x: Tensor) -> Tensor:
    n = x._data.ndim
    if n != 2:
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated; use x.permute(*torch.arange(x.ndim - 1, -1, -1)) (or x.mT for "
            "batches of matrices) instead.", UserWarning, stacklevel=3)
        if n == 0:
            return x
    return Permute.apply(x, tuple(range(n - 1, -1, -1)))


def _mT(x: Tensor) -> Tensor:
    n = x._data.ndim
    if n < 2:
        raise RuntimeError(
            f"tensor.mT is only supported on matrices or batches of matrices. Got {n}-D tensor.")
    return Transpose.apply(x, n - 2, n - 1)


def repeat(x: Tensor, *sizes) -> Tensor:
    """Tile x ``sizes[i]`` times along dim i (extra leading sizes add new dims); a copy."""
    reps = _shape_arg(sizes)
    n = x._data.ndim
    if len(reps) < n:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            f"of tensor (got {len(reps)} repeats for a {n}-D tensor).")
    for r in reps:
        if r < 0:
            padded = (1,) * (len(reps) - n) + x._data.shape
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {r}: "
                f"{[p * q for p, q in zip(padded, reps)]}")
    return Repeat.apply(x, reps)


def tile(x: Tensor, *dims) -> Tensor:
    """Like repeat, but fewer sizes than dims are padded with ones at the front."""
    reps = _shape_arg(dims)
    n = x._data.ndim
    return repeat(x, (1,) * (n - len(reps)) + reps)


def flip(x: Tensor, *dims) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch)."""
    return Flip.apply(x, _unique_dims(_dims_arg(dims), x._data.ndim))


def fliplr(x: Tensor) -> Tensor:
    if x._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return Flip.apply(x, (1,))


def flipud(x: Tensor) -> Tensor:
    if x._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return Flip.apply(x, (0,))


def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one of which may be -1); a view."""
    a = x._data
    d = _wrap_dim(dim, a.ndim)
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    try:
        new = _infer_shape(sizes, a.shape[d])
    except RuntimeError:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
            f"{dim} ({a.shape[d]}) in the input tensor") from None
    return View.apply(x, a.shape[:d] + new + a.shape[d + 1:])


# ---- joining and splitting ----------------------------------------------------------------


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
        return np.concatenate(arrays, axis=dim, dtype=_result_dtype(tensors))

    @staticmethod
    def backward(ctx, grad):
        parts = SplitWithSizes.apply(grad, ctx.sizes, ctx.dim) if len(ctx.sizes) > 1 \
            else (grad,)
        if ctx.keep is None:
            return (*parts, None, None)
        # A skipped empty tensor gets an empty gradient, as in PyTorch.
        parts = iter(parts)
        grads = [next(parts) if k else _wrap(np.zeros((0,), grad._data.dtype))
                 for k in ctx.keep]
        return (*grads, None, None)


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


class Unbind(Function):
    """outs = the slices of x along ``dim`` (views);  dx = the output grads stacked"""

    _is_view = True

    @staticmethod
    def forward(ctx, x, dim):
        a = x._data
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(a[lead + (i, Ellipsis)] for i in range(a.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return Stack.apply(*grads, ctx.dim), None


class Split(Function):
    """outs = consecutive pieces of x along ``dim`` (views);  dx = the output grads joined"""

    _is_view = True

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


expose({
    "squeeze": squeeze, "unsqueeze": unsqueeze, "transpose": transpose, "swapaxes": transpose,
    "swapdims": transpose, "t": t, "permute": permute, "movedim": movedim, "moveaxis": movedim,
    "adjoint": _mT, "tile": tile, "flip": flip, "fliplr": fliplr, "flipud": flipud,
    "unflatten": unflatten, "unbind": unbind, "split": split, "chunk": chunk,
})
expose({
    "cat": cat, "concat": cat, "concatenate": cat, "stack": stack,
}, method=False)
expose({
    "T": property(_T, doc="The dims reversed (the transpose, for a matrix)."),
    "mT": property(_mT, doc="The last two dims swapped (a batch of transposed matrices)."),
    "mH": property(_mT, doc="The conjugate transpose of the last two dims (real: mT)."),
    "H": property(_mT, doc="The conjugate transpose of a matrix (real: mT)."), "repeat": repeat,
}, function=False)


def _dtype_method(dtype_name: str):
    """``x.float()``, ``x.long()``, ...: a conversion to one dtype."""
    dt = getattr(_dt, dtype_name)

    def method(self, memory_format=None):
        return to(self, dt)

    method.__name__ = dtype_name
    return method


expose({"reshape": reshape, "flatten": flatten_dims, "clone": clone})
expose({
    "view": view, "expand": expand, "expand_as": expand_as, "view_as": view_as,
    "reshape_as": reshape_as, "sum_to_size": sum_to_size, "to": to, "contiguous": contiguous,
    "float": _dtype_method("float32"), "double": _dtype_method("float64"),
    "half": _dtype_method("float16"), "long": _dtype_method("int64"),
    "int": _dtype_method("int32"), "bool": _dtype_method("bool"),
    "cpu": lambda x, memory_format=None: x,
}, function=False)
