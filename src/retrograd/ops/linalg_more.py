"""Diagonals and more products: ``diagonal`` (a view), ``diag_embed``, ``diag``, ``diagflat``,
``trace``, ``baddbmm``/``addbmm``/``addmv``, ``vdot``, ``cross``, ``kron``, ``tensordot``,
``cdist``, ``matrix_power``, ``chain_matmul``, ``block_diag`` (the decompositions are in
``decompositions.py``). Every backward is written with retrograd ops."""

from __future__ import annotations

import numpy as np

from ..autograd.forward_ad import linear_jvp, multilinear_jvp, reduction_jvp
from ..autograd.function import Function
from ..tensor import Tensor, _wrap, _wrap_dim
from ._registry import expose
from .elementwise import where
from .matrix_functions import _check_square, inverse
from .shape import Reshape

# ---- diagonals -------------------------------------------------------------------------------


def _diag_view(a: np.ndarray, offset: int, d1: int, d2: int) -> np.ndarray:
    """The diagonal of ``a`` over dims d1, d2 as a WRITABLE view (NumPy's ``diagonal`` is
    read-only): the other dims in order, then the diagonal."""
    n1, n2 = a.shape[d1], a.shape[d2]
    start = [slice(None)] * a.ndim
    if offset >= 0:
        start[d2] = slice(min(offset, n2), None)
    else:
        start[d1] = slice(min(-offset, n1), None)
    b = a[tuple(start)]
    length = max(0, min(b.shape[d1], b.shape[d2]))
    rest = [i for i in range(a.ndim) if i not in (d1, d2)]
    shape = tuple(b.shape[i] for i in rest) + (length,)
    strides = tuple(b.strides[i] for i in rest) + (b.strides[d1] + b.strides[d2],)
    return np.lib.stride_tricks.as_strided(b, shape, strides, writeable=a.flags.writeable)


def _diag_dims(ndim: int, offset, dim1, dim2) -> tuple:
    d1, d2 = _wrap_dim(dim1, ndim), _wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return int(offset), d1, d2


class Diagonal(Function):
    """out = the diagonal of x over dims d1, d2 (a view);  dx = grad placed on that diagonal
    of zeros"""

    _is_view = True

    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        ctx.args = (x._data.shape, offset, d1, d2)
        return _diag_view(x._data, offset, d1, d2)

    @staticmethod
    def backward(ctx, grad):
        return DiagonalScatter.apply(grad, *ctx.args), None, None, None

    jvp = linear_jvp


class DiagonalCopy(Diagonal):
    """out = a copy of x's diagonal (``diag`` of a matrix);  dx = grad placed on the diagonal"""

    node_name = "DiagonalBackward0_copy"
    _is_view = False

    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        ctx.args = (x._data.shape, offset, d1, d2)
        return _diag_view(x._data, offset, d1, d2).copy()


class DiagonalScatter(Function):
    """out = zeros of ``shape`` with x on the diagonal over dims d1, d2;  dx = grad's diagonal"""

    node_name = "DiagonalBackwardBackward0"

    @staticmethod
    def forward(ctx, x, shape, offset, d1, d2):
        ctx.args = (offset, d1, d2)
        out = np.zeros(shape, dtype=x._data.dtype)
        _diag_view(out, offset, d1, d2)[...] = x._data
        return out

    @staticmethod
    def backward(ctx, grad):
        return DiagonalCopy.apply(grad, *ctx.args), None, None, None, None

    jvp = linear_jvp


class DiagEmbed(DiagonalScatter):
    """out[..., i, i + offset] = x[..., i] (new dims d1, d2);  dx = grad's diagonal"""

    node_name = "DiagEmbedBackward0"


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal over dims ``dim1``, ``dim2`` (shifted by ``offset``) as a view, at the end."""
    offset, d1, d2 = _diag_dims(x._data.ndim, offset, dim1, dim2)
    return Diagonal.apply(x, offset, d1, d2)


def diag_embed(x: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices (dims ``dim1``, ``dim2`` of the result) with x's last dim on their diagonal."""
    a = x._data
    ndim = a.ndim + 1
    offset, d1, d2 = _diag_dims(ndim, offset, dim1, dim2)
    n = (a.shape[-1] if a.ndim else 1) + abs(offset)
    rest = list(a.shape[:-1])
    shape = []
    for i in range(ndim):
        shape.append(n if i in (d1, d2) else rest.pop(0))
    return DiagEmbed.apply(x if a.ndim else x.reshape(1), tuple(shape), offset, d1, d2)


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """A vector's diagonal matrix, or a matrix's diagonal (shifted by ``diagonal``)."""
    nd = x._data.ndim
    if nd == 1:
        return diag_embed(x, diagonal, 0, 1)
    if nd == 2:
        return DiagonalCopy.apply(x, int(diagonal), 0, 1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")


def diagflat(x: Tensor, offset: int = 0) -> Tensor:
    """The square matrix with x's elements (flattened) on its diagonal."""
    return diag_embed(x.reshape(-1), offset, 0, 1)


class Trace(Function):
    """out = sum_i x[i, i];  dx = grad * eye"""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x._data.shape
        a = x._data
        return np.asarray(np.trace(a), dtype=a.dtype if a.dtype.kind == "f" else np.int64)

    @staticmethod
    def backward(ctx, grad):
        return grad * _wrap(np.eye(*ctx.shape, dtype=grad._data.dtype))

    jvp = reduction_jvp


def trace(x: Tensor) -> Tensor:
    """The sum of a matrix's diagonal."""
    if x._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x._data.ndim}")
    return Trace.apply(x)


# ---- products with an added term --------------------------------------------------------------


def _mT(t: Tensor) -> Tensor:
    return t.transpose(-1, -2)


class _AddProduct(Function):
    """out = beta c + alpha P(x, y), P bilinear;  dc = beta grad, dx, dy from P's rule"""

    @staticmethod
    def product(x, y):  # on arrays and tensors alike
        raise NotImplementedError

    @staticmethod
    def grads(grad, x, y, need: tuple) -> tuple:
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx, c, x, y, beta, alpha):
        ctx.save_for_backward(x, y)
        ctx.beta, ctx.alpha = beta, alpha
        out = cls.product(x._data, y._data) * alpha
        if beta != 0:  # beta == 0 ignores c, NaNs included (PyTorch's rule)
            out = out + c._data * beta
        else:
            out = np.broadcast_to(out, np.broadcast_shapes(out.shape, c._data.shape)).copy()
        return out

    @classmethod
    def backward(cls, ctx, grad):
        x, y = ctx.saved_tensors
        need_c, need_x, need_y = ctx.needs_input_grad[:3]
        gx, gy = cls.grads(grad * ctx.alpha, x, y, (need_x, need_y))
        gc = grad * ctx.beta if need_c else None
        return gc, gx, gy, None, None

    @classmethod
    def jvp(cls, ctx, t_c, t_x, t_y, *_):
        x, y = ctx.saved_tensors
        out = None
        for term in (cls.product(t_x, y) if t_x is not None else None,
                     cls.product(x, t_y) if t_y is not None else None):
            if term is not None:
                out = term if out is None else out + term
        if out is not None:
            out = out * ctx.alpha
        if t_c is not None:
            out = t_c * ctx.beta if out is None else out + t_c * ctx.beta
        return out


class Baddbmm(_AddProduct):
    """out = beta c + alpha x @ y (batches of matrices)"""

    @staticmethod
    def product(x, y):
        return x @ y

    @staticmethod
    def grads(grad, x, y, need):
        return (grad @ _mT(y) if need[0] else None), (_mT(x) @ grad if need[1] else None)


class Addbmm(_AddProduct):
    """out = beta c + alpha sum_b x[b] @ y[b]"""

    @staticmethod
    def product(x, y):
        return (x @ y).sum(0)

    @staticmethod
    def grads(grad, x, y, need):
        g = grad.unsqueeze(0)
        return (g @ _mT(y) if need[0] else None), (_mT(x) @ g if need[1] else None)


class Addmv(_AddProduct):
    """out = beta c + alpha m @ v"""

    @staticmethod
    def product(x, y):
        return x @ y

    @staticmethod
    def grads(grad, m, v, need):
        return ((grad.unsqueeze(-1) * v if need[0] else None),
                (_mT(m) @ grad if need[1] else None))


def _check_dims(fn: str, *pairs) -> None:
    for t, nd, what in pairs:
        if t._data.ndim != nd:
            raise RuntimeError(f"{fn}: {what} must be a {nd}D tensor, but got a "
                               f"{t._data.ndim}D tensor")


def baddbmm(c: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * c + alpha * (batch1 @ batch2), batch1 and batch2 stacks of matrices."""
    _check_dims("baddbmm", (batch1, 3, "batch1"), (batch2, 3, "batch2"))
    _check_inner("baddbmm", batch1, batch2)
    return Baddbmm.apply(c, batch1, batch2, beta, alpha)


def addbmm(c: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * c + alpha * sum_b batch1[b] @ batch2[b]."""
    _check_dims("addbmm", (batch1, 3, "batch1"), (batch2, 3, "batch2"))
    _check_inner("addbmm", batch1, batch2)
    return Addbmm.apply(c, batch1, batch2, beta, alpha)


def addmv(c: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * c + alpha * (mat @ vec)."""
    _check_dims("addmv", (mat, 2, "mat"), (vec, 1, "vec"))
    _check_inner("addmv", mat, vec)
    return Addmv.apply(c, mat, vec, beta, alpha)


def _check_inner(fn: str, x: Tensor, y: Tensor) -> None:
    a, b = x._data.shape, y._data.shape
    k = b[-2] if len(b) >= 2 else b[-1]
    if a[-1] != k or (len(a) == 3 and a[0] != b[0]):
        raise RuntimeError(f"{fn}: shapes {list(a)} and {list(b)} cannot be multiplied; "
                           "the inner dimensions (and batch sizes) must agree.")


class Vdot(Function):
    """out = sum x * y (conjugating x; real here);  dx = grad y,  dy = grad x"""

    saved_names = ("self", "other")

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.asarray(np.vdot(x._data, y._data))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (grad * y if need_x else None), (grad * x if need_y else None)

    jvp = multilinear_jvp


def vdot(x: Tensor, y: Tensor) -> Tensor:
    """The dot product of two vectors (the first conjugated)."""
    if x._data.ndim != 1 or y._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {x._data.ndim}D and "
                           f"{y._data.ndim}D tensors")
    if x._data.shape != y._data.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{x._data.shape[0]}] and "
                           f"src [{y._data.shape[0]}] to have the same number of elements, but "
                           "got different sizes")
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(f"vdot : expected both vectors to have same dtype, but found "
                           f"{str(x.dtype)[6:].title()} and {str(y.dtype)[6:].title()}")
    return Vdot.apply(x, y)


class LinalgCross(Function):
    """out = x × y along ``axis``;  dx = y × grad,  dy = grad × x"""

    saved_names = ("self", "other")

    @staticmethod
    def forward(ctx, x, y, axis):
        ctx.save_for_backward(x, y)
        ctx.axis = axis
        a, b = np.broadcast_arrays(x._data, y._data)
        return np.cross(a, b, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad[:2]
        ax = ctx.axis
        return ((LinalgCross.apply(y, grad, ax) if need_x else None),
                (LinalgCross.apply(grad, x, ax) if need_y else None), None)

    jvp = multilinear_jvp


def _cross(x: Tensor, y: Tensor, dim) -> Tensor:
    if x._data.ndim != y._data.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, "
                           f"got {x._data.ndim} and {y._data.ndim}.")
    try:
        shape = np.broadcast_shapes(x._data.shape, y._data.shape)
    except ValueError:
        raise RuntimeError(f"linalg.cross: shapes {list(x._data.shape)} and "
                           f"{list(y._data.shape)} do not broadcast.") from None
    axis = _wrap_dim(dim, len(shape))
    if x._data.shape[axis] != 3 or y._data.shape[axis] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{x._data.shape[axis]} and {y._data.shape[axis]}")
    return LinalgCross.apply(x, y, axis)


def cross(x: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product along ``dim`` (default: the first dim of size 3)."""
    if dim is None:
        sizes = np.broadcast_shapes(x._data.shape, other._data.shape)
        dim = next((i for i, s in enumerate(sizes) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return _cross(x, other, dim)


def linalg_cross(x: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product along ``dim`` (default the last)."""
    return _cross(x, other, dim)


def kron(x: Tensor, y: Tensor) -> Tensor:
    """The Kronecker product: blocks x[i, j] * y."""
    nd = max(x._data.ndim, y._data.ndim)
    a = x.reshape((1,) * (nd - x._data.ndim) + tuple(x.shape))
    b = y.reshape((1,) * (nd - y._data.ndim) + tuple(y.shape))
    sa, sb = tuple(a.shape), tuple(b.shape)
    prod = a.reshape(sum(((s, 1) for s in sa), ())) * b.reshape(sum(((1, s) for s in sb), ()))
    return Reshape.apply(prod, tuple(p * q for p, q in zip(sa, sb)))


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Sum over the last ``dims`` dims of a and the first of b, or over the dims listed in
    ``dims = (dims_a, dims_b)``."""
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(na - dims, na)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    da = [_wrap_dim(d, na) for d in da]
    db = [_wrap_dim(d, nb) for d in db]
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    for i, j in zip(da, db):
        if a._data.shape[i] != b._data.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a._data.shape[i]} in dim {i} and second has size "
                               f"{b._data.shape[j]} in dim {j}")
    free_a = [i for i in range(na) if i not in da]
    free_b = [j for j in range(nb) if j not in db]
    k = int(np.prod([a._data.shape[i] for i in da]))
    m = int(np.prod([a._data.shape[i] for i in free_a]))
    n = int(np.prod([b._data.shape[j] for j in free_b]))
    left = a.permute(*(free_a + da)).reshape(m, k)
    right = b.permute(*(db + free_b)).reshape(k, n)
    shape = [a._data.shape[i] for i in free_a] + [b._data.shape[j] for j in free_b]
    return (left @ right).view(shape)


# ---- cdist --------------------------------------------------------------------------------------


def _cdist_array(a: np.ndarray, b: np.ndarray, p: float) -> np.ndarray:
    d = np.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == 0:
        return (d != 0).sum(-1).astype(a.dtype)
    if p == float("inf"):
        return d.max(-1) if d.shape[-1] else d.sum(-1)
    if p == 1:
        return d.sum(-1)
    if p == 2:
        return np.sqrt((d * d).sum(-1))
    return (d ** p).sum(-1) ** (1 / p)


class Cdist(Function):
    """out[..., i, j] = ||x[..., i, :] - y[..., j, :]||_p;
    dx_i = sum_j grad_ij sign(d) |d|^(p-1) / out_ij^(p-1), d = x_i - y_j;  dy the opposite"""

    saved_names = ("x1", "x2")

    @staticmethod
    def forward(ctx, x, y, p):
        ctx.save_for_backward(x, y)
        ctx.p = p
        return _cdist_array(x._data, y._data, p)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad[:2]
        gd = grad.unsqueeze(-1) * _cdist_weights(x, y, ctx.p)
        return (gd.sum(-2) if need_x else None), (-gd.sum(-3) if need_y else None), None

    @staticmethod
    def jvp(ctx, tx, ty, _):  # dout_ij = sum_k w_ijk (tx_ik - ty_jk), backward's weights
        x, y = ctx.saved_tensors
        if tx is None:
            td = -ty.unsqueeze(-3)
        else:
            td = tx.unsqueeze(-2) if ty is None else tx.unsqueeze(-2) - ty.unsqueeze(-3)
        return (_cdist_weights(x, y, ctx.p) * td).sum(-1)


def _cdist_weights(x: Tensor, y: Tensor, p: float) -> Tensor:
    """d out_ij / d x_ik (= -d out_ij / d y_jk), shaped [..., i, j, k]: sign(d) |d|^(p-1) /
    out^(p-1) for d = x_i - y_j (0 where out is 0; ties shared for p = inf)."""
    d = x.unsqueeze(-2) - y.unsqueeze(-3)
    if p == 0:
        return d * 0
    if p == 1:
        return d.sign()
    out = Cdist.apply(x, y, p).unsqueeze(-1)
    if p == float("inf"):
        hit = d.abs() == out
        return where(hit, d.sign(), 0.0) / hit.sum(-1, keepdim=True)
    if p == 2:
        return d / where(out == 0, 1.0, out) * (out != 0)
    safe = where(out == 0, 1.0, out)
    return d.sign() * d.abs() ** (p - 1) / safe ** (p - 1) * (out != 0)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode=None) -> Tensor:
    """The p-norm distance between each row of x1 and each row of x2 (batched)."""
    if x1._data.ndim < 2 or x2._data.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: "
                           f"{x1._data.ndim}D" if x1._data.ndim < 2 else
                           f"cdist only supports at least 2D tensors, X2 got: {x2._data.ndim}D")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1._data.shape[-1]} X2: {x2._data.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    return Cdist.apply(x1, x2, float(p))


# ---- powers and chains of matrices ----------------------------------------------------------


def matrix_power(x: Tensor, n: int) -> Tensor:
    """x multiplied by itself n times (n < 0: of the inverse; n = 0: the identity)."""
    _check_square(x._data, "matrix_power") if x._data.dtype.kind == "f" else None
    if n == 0:
        eye = _wrap(np.broadcast_to(np.eye(x._data.shape[-1], dtype=x._data.dtype),
                                    x._data.shape).copy())
        return eye
    base = inverse(x) if n < 0 else x
    n = abs(n)
    result = None
    while n:  # square and multiply
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


def chain_matmul(*matrices) -> Tensor:
    """The product of the matrices, left to right."""
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = matrices[0]
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    out = matrices[0]
    for m in matrices[1:]:
        out = out @ m
    return out


def multi_dot(tensors) -> Tensor:
    """The product of the matrices (first and last may be vectors), left to right."""
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    return chain_matmul(*tensors)


# ---- block_diag ---------------------------------------------------------------------------------


class BlockDiag(Function):
    """out = the matrices (0-d: 1x1, 1-d: one row) along the diagonal of zeros;
    d(tensor i) = its block of grad"""

    @staticmethod
    def forward(ctx, *tensors):
        from .join import _result_dtype

        mats = [np.reshape(t._data, (1, -1) if t._data.ndim < 2 else t._data.shape)
                for t in tensors]
        if not tensors:
            return np.zeros((1, 0), dtype=np.float32)
        rows = sum(m.shape[0] for m in mats)
        cols = sum(m.shape[1] for m in mats)
        out = np.zeros((rows, cols), dtype=_result_dtype(tensors))
        ctx.blocks = []
        r = c = 0
        for t, m in zip(tensors, mats):
            out[r:r + m.shape[0], c:c + m.shape[1]] = m
            ctx.blocks.append((r, c, m.shape, t._data.shape))
            r, c = r + m.shape[0], c + m.shape[1]
        return out

    @staticmethod
    def backward(ctx, grad):
        return tuple(grad[r:r + h, c:c + w].reshape(shape)
                     for r, c, (h, w), shape in ctx.blocks)

    jvp = linear_jvp


def block_diag(*tensors) -> Tensor:
    """The block-diagonal matrix of the given tensors (each at most 2-d)."""
    for i, t in enumerate(tensors):
        if t._data.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t._data.ndim} dimensions")
    return BlockDiag.apply(*tensors)


expose({
    "diagonal": diagonal, "diag_embed": diag_embed, "diag": diag, "diagflat": diagflat,
    "trace": trace, "baddbmm": baddbmm, "addbmm": addbmm, "addmv": addmv, "vdot": vdot,
    "cross": cross, "kron": kron, "matrix_power": matrix_power,
})
expose({"tensordot": tensordot, "cdist": cdist, "chain_matmul": chain_matmul,
        "block_diag": block_diag}, method=False)
