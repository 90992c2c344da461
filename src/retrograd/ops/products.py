"""The matrix products as Functions: Dot, Mv, VecMat, Mm (with MmNT and MmTN, its
derivatives), Matmul and Bmm, Addmm and Linear. linalg.py checks the inputs with PyTorch's
messages and picks one of these.

Each forward is one NumPy matmul (BLAS); each backward is the two products
``dx = grad @ y^T`` and ``dy = x^T @ grad``, written with these same ops so they can be
differentiated again. As in PyTorch, a product saves y only if x needs a gradient and x only
if y does (``save_crossed``): ``x @ W`` with a constant W keeps just W, so x may change in
place afterwards.

Note [Node names of matmul]
    PyTorch's ``matmul`` dispatches on the inputs' dims to dot, mv, mm or a batched mm
    wrapped in reshapes, so the node a user sees depends on the shapes: ``DotBackward0``,
    ``MvBackward0``, ``MmBackward0``; for vector @ matrix a squeeze after mm
    (``SqueezeBackward4``); with batch dims a reshape after bmm (``UnsafeViewBackward0``).
    We record one node for the whole product and give it the name PyTorch shows outermost,
    so printed tensors read the same. (One exception: matrix @ batch, where PyTorch's chain
    ends in a copy, ``CloneBackward0``, when the matrix requires grad; we say UnsafeView.)
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.forward_ad import multilinear_jvp
from ..autograd.function import Function
from ..backend import matmul2d
from ..tensor import Tensor, _wrap
from .elementwise import mul
from .shape import Transpose


def save_crossed(ctx, x: Tensor, y: Tensor) -> None:
    """Save (x, y) for the derivatives of a product: y only if x needs a gradient (dx uses y),
    x only if y does; an unsaved one is None."""
    need_x, need_y = ctx.needs_input_grad[:2]
    ctx.save_for_backward(x if need_y else None, y if need_x else None)


def _mT(t: Tensor) -> Tensor:
    """t with its last two dims swapped (a view), for the backward formulas."""
    return Transpose.apply(t, -2, -1)


class _Bilinear(Function):
    """A product, linear in each input: forward is ``kernel`` on the arrays; backward is
    ``grads(grad, x, y, need)``, itself made of products, so it differentiates again."""

    @classmethod
    def forward(cls, ctx, x, y):
        save_crossed(ctx, x, y)
        return cls.kernel(x._data, y._data)

    @classmethod
    def backward(cls, ctx, grad):
        x, y = ctx.saved_tensors
        return cls.grads(grad, x, y, ctx.needs_input_grad)

    jvp = multilinear_jvp


class Dot(_Bilinear):
    """out = sum_i x_i y_i (two vectors);  dx = grad * y,  dy = grad * x"""

    @staticmethod
    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.asarray(np.dot(a, b))

    @staticmethod
    def grads(grad, x, y, need: tuple) -> tuple:
        return (grad * y if need[0] else None), (grad * x if need[1] else None)


class Mv(_Bilinear):
    """out = M @ v (matrix, vector);  dM = outer(grad, v),  dv = grad @ M"""

    kernel = staticmethod(np.matmul)

    @staticmethod
    def grads(grad, m, v, need: tuple) -> tuple:
        return ((mul(grad.reshape(-1, 1), v) if need[0] else None),
                (VecMat.apply(grad, m) if need[1] else None))


class VecMat(_Bilinear):
    """out = v @ M (vector, matrix);  dv = M @ grad,  dM = outer(v, grad)"""

    node_name = "SqueezeBackward4"  # see Note [Node names of matmul]
    kernel = staticmethod(np.matmul)

    @staticmethod
    def grads(grad, v, m, need: tuple) -> tuple:
        return ((Mv.apply(m, grad) if need[0] else None),
                (mul(v.reshape(-1, 1), grad) if need[1] else None))


class Mm(_Bilinear):
    """out = x @ y (two matrices);  dx = grad @ y^T,  dy = x^T @ grad"""

    kernel = staticmethod(np.matmul)

    @staticmethod
    def grads(grad, x, y, need: tuple) -> tuple:
        return ((MmNT.apply(grad, y) if need[0] else None),
                (MmTN.apply(x, grad) if need[1] else None))

    @staticmethod
    def fast_backward(ctx, grad):  # Note [Fast backward]: MmNT's and MmTN's kernels
        x, y = ctx.saved_tensors  # (y saved only if need_x, x only if need_y)
        need_x, need_y = ctx.needs_input_grad
        g = grad._data
        return ((_wrap(MmNT.kernel(g, y._data)) if need_x else None),
                (_wrap(MmTN.kernel(x._data, g)) if need_y else None))


class MmNT(_Bilinear):
    """out = x @ y^T as one op (mm's input gradient; linear without bias);  dx = grad @ y,
    dy = grad^T @ x"""

    node_name = "MmBackward0"  # PyTorch records mm(grad, y.t()): MmBackward0 on top

    @staticmethod
    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return matmul2d(a, b.T)

    @staticmethod
    def grads(grad, x, y, need: tuple) -> tuple:
        return ((Mm.apply(grad, y) if need[0] else None),
                (MmTN.apply(grad, x) if need[1] else None))


class MmTN(_Bilinear):
    """out = x^T @ y as one op (mm's weight gradient);  dx = y @ grad^T,  dy = x @ grad"""

    node_name = "MmBackward0"

    @staticmethod
    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a.T @ b

    @staticmethod
    def grads(grad, x, y, need: tuple) -> tuple:
        return ((MmNT.apply(y, grad) if need[0] else None),
                (Mm.apply(x, grad) if need[1] else None))


class Matmul(Function):
    """out = x @ y with batch dims broadcast (a 1-D side acts as a row or column vector);
    dx = grad @ y^T,  dy = x^T @ grad, summed over broadcast batch dims"""

    node_name = "UnsafeViewBackward0"  # see Note [Node names of matmul]

    @staticmethod
    def forward(ctx, x, y):
        save_crossed(ctx, x, y)
        a, b = x._data, y._data
        ctx.shapes = (a.shape, b.shape)  # (for the side that is not saved)
        if b.ndim <= 2 < a.ndim:
            # Fold the batch dims of x into its rows: one large matmul instead of many small.
            out = a.reshape(math.prod(a.shape[:-1]), a.shape[-1]) @ b
            return out.reshape(a.shape[:-1] + b.shape[1:])
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors  # (y saved only if need_x, x only if need_y)
        need_x, need_y = ctx.needs_input_grad
        x_shape, y_shape = ctx.shapes
        x_ndim, y_ndim = len(x_shape), len(y_shape)
        # View a 1-D side as a matrix (row vector x, column vector y), and grad to match.
        # (Both 1-D is Dot, so at most one side is 1-D here, and the other has batch dims.)
        if x_ndim == 1:
            g = grad.reshape(grad.shape[:-1] + (1, grad.shape[-1]))
        elif y_ndim == 1:
            g = grad.reshape(grad.shape + (1,))
        else:
            g = grad
        gx = gy = None
        if need_x:
            ym = y if y_ndim > 1 else y.reshape(-1, 1)
            gx = Matmul.apply(g, _mT(ym))  # the engine sums broadcast batch dims away
            if x_ndim == 1:
                gx = gx.reshape(gx.shape[:-2] + gx.shape[-1:])
        if need_y:
            xm = x if x_ndim > 1 else x.reshape(1, -1)
            if y_ndim <= 2 and xm.ndim > 2:
                # y was shared by the whole batch: fold the batch into one product
                rows = math.prod(g.shape[:-1])
                gy = Mm.apply(_mT(xm.reshape(rows, xm.shape[-1])), g.reshape(rows, g.shape[-1]))
            else:
                gy = Matmul.apply(_mT(xm), g)
            if y_ndim == 1:
                gy = gy.reshape(gy.shape[:-1])
        return gx, gy

    jvp = multilinear_jvp


def _merges_as_view(shape: tuple, strides: tuple, k: int) -> bool:
    """Whether dims [0, k) of an array with these sizes and strides merge into one without a
    copy (dims of size 1 skipped, as a view's strides allow)."""
    if 0 in shape:
        return True
    dims = [(n, st) for n, st in zip(shape[:k], strides[:k]) if n != 1]
    return all(st == n2 * st2 for (_, st), (n2, st2) in zip(dims, dims[1:]))


def matmul_operands(x: Tensor, y: Tensor) -> tuple:
    """The operands of a batched matmul as PyTorch saves them for backward: each one, or a
    copy of it where PyTorch's saved tensor is a copy (so writing the operand in place before
    backward is no error). Called while grad mode is on and one of them requires grad.

    Note [What matmul saves]
        PyTorch reshapes each operand into the matrix or stack of matrices it multiplies
        (``expand(batch + (n, m)).reshape(B, n, m)``; with a 1-D or 2-D other side that
        requires grad, the larger side's batch dims folded into rows, after a transpose when
        it is the right one) and saves that for the other side's gradient. The reshape is a
        view unless those dims cannot merge (a transposed or partly broadcast operand): then
        PyTorch saves a copy. Matmul then gets a ``clone`` of the operand exactly there (a
        node of the graph, so gradients and tangents pass through it) and saves that.
    """
    a, b = x._data, y._data
    x_saved = y._requires_grad and not _merges(a, b, True)
    y_saved = x._requires_grad and not _merges(a, b, False)
    return (x.clone() if x_saved else x), (y.clone() if y_saved else y)


def _merges(a: np.ndarray, b: np.ndarray, first: bool) -> bool:
    """Whether PyTorch's reshape of operand ``a`` (``first``) or ``b`` of ``a @ b`` into the
    matrices it multiplies is a view (see Note [What matmul saves])."""
    if (a.ndim > 2) != (b.ndim > 2):  # one side has batch dims, the other is 1-D or 2-D
        if (a.ndim > 2) != first:  # the smaller side: a view (its batch is a broadcast)
            return True
        m = a if first else np.swapaxes(b, -1, -2)  # folded into (rows, k)
        return _merges_as_view(m.shape, m.strides, m.ndim - 1)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    m = a if first else b
    m = np.broadcast_to(m, batch + m.shape[-2:])
    return _merges_as_view(m.shape, m.strides, len(batch))


class Bmm(Matmul):
    """out[b] = x[b] @ y[b] (two stacks of matrices);  dx = grad @ y^T,  dy = x^T @ grad"""

    node_name = "BmmBackward0"


class Addmm(Function):
    """out = beta * c + alpha * (x @ y);  dc = beta * grad,  dx = alpha * grad @ y^T,
    dy = alpha * x^T @ grad"""

    @staticmethod
    def forward(ctx, c, x, y, beta, alpha):
        need_x, need_y = ctx.needs_input_grad[1:3]
        ctx.save_for_backward(x if need_y else None, y if need_x else None)
        ctx.beta = beta
        ctx.alpha = alpha
        out = x._data @ y._data
        if alpha != 1:
            out *= alpha
        if beta == 1:
            out += c._data
        elif beta != 0:  # beta == 0 ignores c entirely, NaNs included (PyTorch's rule)
            out += c._data * beta
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_c, need_x, need_y = ctx.needs_input_grad[:3]
        beta, alpha = ctx.beta, ctx.alpha
        gc = gx = gy = None
        if need_c:
            gc = grad if beta == 1 else grad * beta  # the engine sums it to c's shape
        if need_x:
            gx = MmNT.apply(grad, y)
            gx = gx if alpha == 1 else gx * alpha
        if need_y:
            gy = MmTN.apply(x, grad)
            gy = gy if alpha == 1 else gy * alpha
        return gc, gx, gy, None, None

    @staticmethod
    def jvp(ctx, t_c, t_x, t_y, *_):  # beta t_c + alpha (t_x @ y + x @ t_y)
        x, y = ctx.saved_tensors
        terms = [Mm.apply(t_x, y) if t_x is not None else None,
                 Mm.apply(x, t_y) if t_y is not None else None]
        out = None
        for term in terms:
            if term is not None:
                out = term if out is None else out + term
        if out is not None and ctx.alpha != 1:
            out = out * ctx.alpha
        if t_c is not None and ctx.beta != 0:
            term = t_c if ctx.beta == 1 else t_c * ctx.beta
            out = term if out is None else out + term
        return out


class Linear(Function):
    """out = x @ w^T + b (x a matrix; nn.Linear's product);  dx = grad @ w,  dw = grad^T @ x,
    db = grad.  Inputs in PyTorch's order (bias, input, weight), so that
    ``grad_fn.next_functions`` lists them as PyTorch's ``AddmmBackward0`` does."""

    node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, b, x, w):
        _, need_x, need_w = ctx.needs_input_grad  # save only what the needed gradients use
        ctx.save_for_backward(x if need_w else None, w if need_x else None)
        out = matmul2d(x._data, w._data.T)
        if out.__class__ is np.ndarray and b._data.__class__ is np.ndarray:
            out += b._data  # into the fresh product: no second temporary
        else:  # a vmap batched operand may carry the batch (an in-place add cannot grow out)
            out = out + b._data
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need_b, need_x, need_w = ctx.needs_input_grad
        gx = Mm.apply(grad, w) if need_x else None
        gw = MmTN.apply(grad, x) if need_w else None
        return (grad if need_b else None), gx, gw

    @staticmethod
    def jvp(ctx, t_b, t_x, t_w):  # t_x @ w^T + x @ t_w^T + t_b
        x, w = ctx.saved_tensors
        out = None
        for term in (MmNT.apply(t_x, w) if t_x is not None else None,
                     MmNT.apply(x, t_w) if t_w is not None else None, t_b):
            if term is not None:
                out = term if out is None else out + term
        return out


LinearNoBias = MmNT  # x @ w^T without a bias is mm(x, w.t()): MmBackward0, as in PyTorch
