"""Shape ops: views and reshapes that rearrange elements without computing new values.

View ops (``_is_view = True``) return tensors sharing memory and the version counter with their
input, as PyTorch's views do; their backward rearranges the gradient back. Joins and splits
(cat, stack, split, ...) live in ``join.py``; ops that copy (to, clone, repeat, flip) in
``copies.py``.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import dtypes as _dt
from ..autograd.forward_ad import linear_jvp
from ..autograd.function import Function
from ..backend import broadcast_view
from ..tensor import Tensor, _wrap_dim
from ._registry import expose


def int_args(args) -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` (and a Size) for sizes or dims."""
    if len(args) == 1 and not isinstance(args[0], int):
        args = args[0]
    return tuple(int(s) for s in args)


def unique_dims(dims, ndim: int) -> tuple:
    """Wrap each dim; RuntimeError when one appears twice."""
    out = tuple(_wrap_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        for i, d in enumerate(out):
            if d in out[:i]:
                raise RuntimeError(
                    f"dim {d} appears multiple times in the list of dims; each dim may be "
                    "given once.")
    return out


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


# ---- reshapes: the gradient is reshaped back ----------------------------------------------


class _ReshapedBack(Function):
    """Base of the ops whose output holds x's elements in order under another shape; forward
    sets ``ctx.in_shape``;  dx = grad reshaped back to x's shape"""

    _is_view = True

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None

    jvp = linear_jvp


class View(_ReshapedBack):
    """out = x with a new shape, sharing memory;  dx = grad reshaped back"""

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


class Reshape(_ReshapedBack):
    """out = a copy of x with a new shape (when a view is impossible);  dx = grad reshaped"""

    node_name = "UnsafeViewBackward0"
    _is_view = False

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._data.shape
        return np.reshape(x._data, shape).copy()


class Squeeze(_ReshapedBack):
    """out = x without all its size-1 dims (a view);  dx = grad reshaped back"""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.in_shape = x._data.shape
        return np.squeeze(x._data, axis=axes)


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

    jvp = linear_jvp


# ---- broadcasting and its inverse ---------------------------------------------------------

_add_reduce = np.add.reduce


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

    jvp = linear_jvp


def sum_to_array(a: np.ndarray, shape: tuple):
    """SumToSize's kernel: ``a`` summed down to ``shape`` (also used by the engine directly)."""
    in_shape = a.shape
    lead = a.ndim - len(shape)
    if in_shape[lead:] == shape:  # only leading dims were added (a bias): one reduction
        return _add_reduce(a, axis=0) if lead == 1 else a.sum(axis=tuple(range(lead)))
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and in_shape[lead + i] != 1)
    out = a.sum(axis=axes, keepdims=True) if axes else a
    return np.asarray(out.reshape(shape) if lead else out)


class SumToSize(Function):
    """out = x summed down to ``shape`` (undoes broadcasting);  dx = grad expanded back"""

    node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._data.shape
        return sum_to_array(x._data, shape)

    @staticmethod
    def backward(ctx, grad):
        return Expand.apply(grad, ctx.in_shape), None

    jvp = linear_jvp


# ---- dimension swaps (views) ----------------------------------------------------------------


class Transpose(Function):
    """out = x with dims d0 and d1 swapped (a view);  dx = grad with them swapped back"""

    _is_view = True

    @staticmethod
    def forward(ctx, x, d0, d1):
        ctx.dims = (d0, d1)
        if x._data.ndim == 0:  # (dims 0 and -1 of a 0-d tensor: nothing to swap)
            return x._data.view()
        return x._data.swapaxes(d0, d1)

    @staticmethod
    def backward(ctx, grad):
        return Transpose.apply(grad, *ctx.dims), None, None

    jvp = linear_jvp


class T(Function):
    """out = x.t() for a tensor of at most 2 dims (a view);  dx = grad.t()"""

    _is_view = True

    @staticmethod
    def forward(ctx, x):
        return x._data.T

    @staticmethod
    def backward(ctx, grad):
        return T.apply(grad)

    jvp = linear_jvp


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

    jvp = linear_jvp


# ---- the functions users call ----------------------------------------------------------------


def view(x: Tensor, *shape) -> Tensor:
    """The same memory with another shape (one size may be -1); errors if impossible."""
    if len(shape) == 1 and isinstance(shape[0], _dt.dtype):
        raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
    return View.apply(x, int_args(shape))


def reshape(x: Tensor, *shape) -> Tensor:
    """Another shape for the same elements: a view when possible, else a copy."""
    shape = _infer_shape(int_args(shape), x._data.size)
    if shape == x._data.shape:
        return View.apply(x, shape)
    try:
        np.reshape(x._data, shape, copy=False)
    except ValueError:
        return Reshape.apply(x, shape)
    return View.apply(x, shape)


def expand(x: Tensor, *shape) -> Tensor:
    """Broadcast x to a larger shape without copying (-1 keeps a size)."""
    shape = int_args(shape)
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
    shape = int_args(shape)
    if not shape:  # everything: a plain sum (a new tensor even for a 0-d x), as in PyTorch
        return x.sum()
    if shape == x._data.shape:
        return x
    a = x._data
    lead = a.ndim - len(shape)
    if lead < 0 or any(s != 1 and a.shape[lead + i] != s for i, s in enumerate(shape)):
        raise RuntimeError(
            f"size {list(shape)} is not expandable to size {list(a.shape)}; sum_to_size needs "
            "a shape the tensor could have been broadcast from.")
    return SumToSize.apply(x, shape)


def flatten_dims(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one."""
    a = x._data
    if a.ndim == 0:  # (the dims must still be valid: -1 or 0)
        _wrap_dim(start_dim, 0)
        _wrap_dim(end_dim, 0)
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


def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one of which may be -1); a view."""
    a = x._data
    if a.ndim == 0:
        raise RuntimeError(
            f"unflatten: Dimension specified as {dim} but tensor has no dimensions")
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


def squeeze(x: Tensor, dim=None) -> Tensor:
    """Remove size-1 dims: all of them, or those among ``dim`` (an int or a tuple)."""
    shape = x._data.shape
    if dim is None:
        return Squeeze.apply(x, tuple(i for i, s in enumerate(shape) if s == 1))
    if isinstance(dim, int):
        d = _wrap_dim(dim, len(shape))
        return SqueezeDim.apply(x, (d,) if shape and shape[d] == 1 else ())
    dims = unique_dims(dim, len(shape))
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
    if not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    if len(dims) == 1 and not isinstance(dims[0], int):
        dims = dims[0]
    n = x._data.ndim
    wrapped = tuple([d + n if d < 0 else d for d in dims])
    if len(wrapped) == n and sorted(wrapped) == list(range(n)):
        return Permute.apply(x, wrapped)
    dims = int_args((dims,))
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
    if n == 0:
        warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity in "
                      "these cases.", UserWarning, stacklevel=2)
    elif n != 2:
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated; use x.permute(*torch.arange(x.ndim - 1, -1, -1)) (or x.mT for "
            "batches of matrices) instead.", UserWarning, stacklevel=2)
    return Permute.apply(x, tuple(range(n - 1, -1, -1)))


def _identity_0d(x: Tensor, name: str, hint: str) -> Tensor:
    """mT, mH, H and adjoint() of a 0-d tensor: x itself, with PyTorch's deprecation warning."""
    warnings.warn(f"{name} is deprecated on 0-D tensors. {hint}", UserWarning, stacklevel=3)
    return x


def _mT(x: Tensor) -> Tensor:
    n = x._data.ndim
    if n == 0:
        return _identity_0d(x, "Tensor.mT", "This function is the identity in these cases.")
    if n < 2:
        raise RuntimeError(
            f"tensor.mT is only supported on matrices or batches of matrices. Got {n}-D tensor.")
    return Transpose.apply(x, n - 2, n - 1)


expose({
    "squeeze": squeeze, "unsqueeze": unsqueeze, "transpose": transpose, "swapaxes": transpose,
    "swapdims": transpose, "t": t, "permute": permute, "movedim": movedim, "moveaxis": movedim,
    "adjoint": lambda x: (_identity_0d(x, "adjoint()", "Consider using x.conj().")
                          if x._data.ndim == 0 else _mT(x)),
    "unflatten": unflatten, "reshape": reshape, "flatten": flatten_dims,
})
expose({
    "T": property(_T, doc="The dims reversed (the transpose, for a matrix)."),
    "mT": property(_mT, doc="The last two dims swapped (a batch of transposed matrices)."),
    "mH": property(lambda x: (_identity_0d(x, "Tensor.mH", "Consider using x.conj().")
                              if x._data.ndim == 0 else _mT(x)),
                   doc="The conjugate transpose of the last two dims (real: mT)."),
    "H": property(lambda x: (_identity_0d(x, "Tensor.H", "Consider using x.conj().")
                             if x._data.ndim == 0 else _mT(x)),
                  doc="The conjugate transpose of a matrix (real: mT)."),
    "view": view, "expand": expand, "expand_as": expand_as, "view_as": view_as,
    "reshape_as": reshape_as, "sum_to_size": sum_to_size,
}, function=False)
