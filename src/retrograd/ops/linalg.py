"""Matrix products: matmul (``@``), mm, bmm, mv, dot, outer, addmm and linear.

Each forward is one NumPy matmul (BLAS); each backward is the two products
``dx = grad @ y^T`` and ``dy = x^T @ grad``, written with these same ops so they can be
differentiated again. Inputs must share a dtype, as in PyTorch (no promotion).

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

from ..autograd.function import Function
from ..tensor import Tensor, _wrap
from ._registry import expose
from .elementwise import broadcast_error, mul
from .reduce import type_name
from .shape import Transpose

# C type names, as PyTorch's "expected m1 and m2 to have the same dtype" message prints them.
_C_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char",
            "uint8": "unsigned char", "bool": "bool"}


def _mT(t: Tensor) -> Tensor:
    """t with its last two dims swapped (a view), for the backward formulas."""
    return Transpose.apply(t, -2, -1)


class Dot(Function):
    """out = sum_i x_i y_i (two vectors);  dx = grad * y,  dy = grad * x"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.asarray(np.dot(x._data, y._data))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (grad * y if need_x else None), (grad * x if need_y else None)


class Mv(Function):
    """out = M @ v (matrix, vector);  dM = outer(grad, v),  dv = grad @ M"""

    @staticmethod
    def forward(ctx, m, v):
        ctx.save_for_backward(m, v)
        return m._data @ v._data

    @staticmethod
    def backward(ctx, grad):
        m, v = ctx.saved_tensors
        need_m, need_v = ctx.needs_input_grad
        gm = mul(grad.reshape(-1, 1), v) if need_m else None
        gv = VecMat.apply(grad, m) if need_v else None
        return gm, gv


class VecMat(Function):
    """out = v @ M (vector, matrix);  dv = M @ grad,  dM = outer(v, grad)"""

    node_name = "SqueezeBackward4"  # see Note [Node names of matmul]

    @staticmethod
    def forward(ctx, v, m):
        ctx.save_for_backward(v, m)
        return v._data @ m._data

    @staticmethod
    def backward(ctx, grad):
        v, m = ctx.saved_tensors
        need_v, need_m = ctx.needs_input_grad
        gv = Mv.apply(m, grad) if need_v else None
        gm = mul(v.reshape(-1, 1), grad) if need_m else None
        return gv, gm


class Mm(Function):
    """out = x @ y (two matrices);  dx = grad @ y^T,  dy = x^T @ grad"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x._data @ y._data

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        gx = MmNT.apply(grad, y) if need_x else None
        gy = MmTN.apply(x, grad) if need_y else None
        return gx, gy

    @staticmethod
    def fast_backward(ctx, grad):  # MmNT's and MmTN's products on arrays
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        g = grad._data
        return ((_wrap(g @ y._data.T) if need_x else None),
                (_wrap(x._data.T @ g) if need_y else None))


class MmNT(Function):
    """out = x @ y^T as one op (mm's input gradient);  dx = grad @ y,  dy = grad^T @ x"""

    node_name = "MmBackward0"  # PyTorch records mm(grad, y.t()): MmBackward0 on top

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x._data @ y._data.T

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (Mm.apply(grad, y) if need_x else None), (MmTN.apply(grad, x) if need_y else None)


class MmTN(Function):
    """out = x^T @ y as one op (mm's weight gradient);  dx = y @ grad^T,  dy = x @ grad"""

    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x._data.T @ y._data

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (MmNT.apply(y, grad) if need_x else None), (Mm.apply(x, grad) if need_y else None)


class Matmul(Function):
    """out = x @ y with batch dims broadcast (a 1-D side acts as a row or column vector);
    dx = grad @ y^T,  dy = x^T @ grad, summed over broadcast batch dims"""

    node_name = "UnsafeViewBackward0"  # see Note [Node names of matmul]

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        a, b = x._data, y._data
        if b.ndim <= 2 < a.ndim:
            # Fold the batch dims of x into its rows: one large matmul instead of many small.
            out = a.reshape(math.prod(a.shape[:-1]), a.shape[-1]) @ b
            return out.reshape(a.shape[:-1] + b.shape[1:])
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        # View a 1-D side as a matrix (row vector x, column vector y), and grad to match.
        # (Both 1-D is Dot, so at most one side is 1-D here, and the other has batch dims.)
        xm = x if x.ndim > 1 else x.reshape(1, -1)
        ym = y if y.ndim > 1 else y.reshape(-1, 1)
        if x.ndim == 1:
            g = grad.reshape(grad.shape[:-1] + (1, grad.shape[-1]))
        elif y.ndim == 1:
            g = grad.reshape(grad.shape + (1,))
        else:
            g = grad
        gx = gy = None
        if need_x:
            gx = Matmul.apply(g, _mT(ym))  # the engine sums broadcast batch dims away
        if need_y:
            if ym.ndim == 2 and xm.ndim > 2:
                # y was shared by the whole batch: fold the batch into one product
                rows = math.prod(g.shape[:-1])
                gy = Mm.apply(_mT(xm.reshape(rows, xm.shape[-1])), g.reshape(rows, g.shape[-1]))
            else:
                gy = Matmul.apply(_mT(xm), g)
            if y.ndim == 1:
                gy = gy.reshape(gy.shape[:-1])
        if gx is not None and x.ndim == 1:
            gx = gx.reshape(gx.shape[:-2] + gx.shape[-1:])
        return gx, gy


class Bmm(Matmul):
    """out[b] = x[b] @ y[b] (two stacks of matrices);  dx = grad @ y^T,  dy = x^T @ grad"""

    node_name = "BmmBackward0"


class Addmm(Function):
    """out = beta * c + alpha * (x @ y);  dc = beta * grad,  dx = alpha * grad @ y^T,
    dy = alpha * x^T @ grad"""


    @staticmethod
    def forward(ctx, c, x, y, beta, alpha):
        ctx.save_for_backward(x, y)
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
            gx = Mm.apply(grad, _mT(y))
            gx = gx if alpha == 1 else gx * alpha
        if need_y:
            gy = Mm.apply(_mT(x), grad)
            gy = gy if alpha == 1 else gy * alpha
        return gc, gx, gy, None, None


class Linear(Function):
    """out = x @ w^T + b (x a matrix; nn.Linear's product);  dx = grad @ w,  dw = grad^T @ x,
    db = grad summed over rows"""

    node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        out = x._data @ w._data.T
        out += b._data
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = Mm.apply(grad, w) if need_x else None
        gw = Mm.apply(_mT(grad), x) if need_w else None
        return gx, gw, (grad if need_b else None)


class LinearNoBias(Function):
    """out = x @ w^T (x a matrix);  dx = grad @ w,  dw = grad^T @ x"""

    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x._data @ w._data.T

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad
        gx = Mm.apply(grad, w) if need_x else None
        gw = Mm.apply(_mT(grad), x) if need_w else None
        return gx, gw


# ---- checks: PyTorch's messages, naming the shapes ------------------------------------------


def _check_tensor(obj, fn: str, name: str, pos: int) -> None:
    if not isinstance(obj, Tensor):
        raise TypeError(
            f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not {type(obj).__name__}")


def _check_same_dtype(a: np.ndarray, b: np.ndarray) -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_C_NAMES[a.dtype.name]} != "
            f"{_C_NAMES[b.dtype.name]}. Matrix products do not promote; convert one side "
            "with .to(other.dtype).")


def _check_not_bool(a: np.ndarray, fn: str) -> None:
    if a.dtype.kind == "b":
        raise NotImplementedError(
            f"\"{fn}\" not implemented for 'Bool'; convert the tensors with .float() or .long().")


def _mat_mismatch(m: int, k: int, k2: int, n: int) -> RuntimeError:
    return RuntimeError(
        f"mat1 and mat2 shapes cannot be multiplied ({m}x{k} and {k2}x{n}); the columns of the "
        "first must equal the rows of the second.")


def _batch_mismatch(batch: int, k: int, got_batch: int, got_k: int) -> RuntimeError:
    return RuntimeError(
        f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {k}] but "
        f"got: [{got_batch}, {got_k}].")


def _check_vec_sizes(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] "
            f"to have the same number of elements, but got {a.shape[0]} and {b.shape[0]} "
            "elements respectively")


def _check_mv_sizes(m: np.ndarray, v: np.ndarray) -> None:
    if m.shape[1] != v.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({m.shape[0]}), mat ({m.shape[0]}x{m.shape[1]}), vec "
            f"({v.shape[0]}); the vector's length must equal the matrix's columns.")


def _nd_checks(a: np.ndarray, b: np.ndarray) -> None:
    """Batched matmul: the batch dims must broadcast and the inner sizes agree."""
    if b.ndim <= 2 < a.ndim:  # x's batch is folded into rows, as PyTorch does
        rows = math.prod(a.shape[:-1])
        if b.ndim == 1:
            if a.shape[-1] != b.shape[0]:
                raise RuntimeError(
                    f"size mismatch, got input ({rows}), mat ({rows}x{a.shape[-1]}), vec "
                    f"({b.shape[0]}); the vector's length must equal the matrix's columns.")
        elif a.shape[-1] != b.shape[0]:
            raise _mat_mismatch(rows, a.shape[-1], b.shape[0], b.shape[1])
        return
    a_batch = a.shape[:-2]
    b_batch = b.shape[:-2] if b.ndim > 1 else ()
    try:
        batch = np.broadcast_shapes(a_batch, b_batch)
    except ValueError:
        raise broadcast_error(a_batch, b_batch) from None
    k = a.shape[-1]
    k2 = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if k != k2:
        n = math.prod(batch)
        raise _batch_mismatch(n, k, n, k2)


# ---- the functions users call ----------------------------------------------------------------


def matmul(x: Tensor, y: Tensor) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics: dot, mv, mm or batched with broadcasting."""
    if x.__class__ is Tensor and y.__class__ is Tensor:  # the common case first: two matrices
        a, b = x._data, y._data
        if (a.ndim == 2 and b.ndim == 2 and a.dtype is b.dtype and a.shape[1] == b.shape[0]
                and a.dtype.kind == "f"):
            return Mm.apply(x, y)
    _check_tensor(x, "matmul", "input", 1)
    _check_tensor(y, "matmul", "other", 2)
    a, b = x._data, y._data
    da, db = a.ndim, b.ndim
    if da == 0 or db == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D; "
            "use * to multiply by a scalar.")
    if da == 1 and db == 1:
        return dot(x, y)
    if da == 2 and db == 1:
        return mv(x, y)
    if a.dtype != b.dtype:
        if da > 2 and db > 2:
            raise RuntimeError(
                f"expected scalar type {type_name(a)} but found {type_name(b)}; matrix products "
                "do not promote, convert one side with .to(other.dtype).")
        _check_same_dtype(a, b)
    _check_not_bool(a, "addmm_impl_cpu_")
    if da <= 2 and db == 2:
        if a.shape[-1] != b.shape[0]:
            raise _mat_mismatch(1 if da == 1 else a.shape[0], a.shape[-1], b.shape[0],
                                b.shape[1])
        return (VecMat if da == 1 else Mm).apply(x, y)
    _nd_checks(a, b)
    return Matmul.apply(x, y)


def mm(x: Tensor, y: Tensor) -> Tensor:
    """Product of two matrices."""
    _check_tensor(x, "mm", "input", 1)
    _check_tensor(y, "mm", "mat2", 2)
    a, b = x._data, y._data
    if a.ndim != 2:
        raise RuntimeError(f"self must be a matrix, but got a {a.ndim}-D tensor")
    if b.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, but got a {b.ndim}-D tensor")
    if a.shape[1] != b.shape[0]:
        raise _mat_mismatch(a.shape[0], a.shape[1], b.shape[0], b.shape[1])
    _check_same_dtype(a, b)
    _check_not_bool(a, "addmm_impl_cpu_")
    return Mm.apply(x, y)


def bmm(x: Tensor, y: Tensor) -> Tensor:
    """Batched product of two stacks of matrices, (b, n, m) @ (b, m, p) -> (b, n, p)."""
    _check_tensor(x, "bmm", "input", 1)
    _check_tensor(y, "bmm", "mat2", 2)
    a, b = x._data, y._data
    if a.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor, but got a {a.ndim}-D tensor")
    if b.ndim != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor, but got a {b.ndim}-D tensor")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise _batch_mismatch(a.shape[0], a.shape[2], b.shape[0], b.shape[1])
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"expected scalar type {type_name(a)} but found {type_name(b)}; matrix products do "
            "not promote, convert one side with .to(other.dtype).")
    _check_not_bool(a, "bmm")
    return Bmm.apply(x, y)


def dot(x: Tensor, y: Tensor) -> Tensor:
    """Inner product of two vectors of the same length."""
    _check_tensor(x, "dot", "input", 1)
    _check_tensor(y, "dot", "tensor", 2)
    a, b = x._data, y._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {type_name(a)} and "
            f"{type_name(b)}")
    _check_vec_sizes(a, b)
    _check_not_bool(a, "dot")
    return Dot.apply(x, y)


def mv(x: Tensor, y: Tensor) -> Tensor:
    """Matrix-vector product."""
    _check_tensor(x, "mv", "input", 1)
    _check_tensor(y, "mv", "vec", 2)
    a, b = x._data, y._data
    if a.ndim != 2 or b.ndim != 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got {a.ndim}D matrix and {b.ndim}D vector; "
            "mv needs a 2-D and a 1-D tensor.")
    _check_mv_sizes(a, b)
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"addmv input tensors must have the same dtype, but got {type_name(a)} and "
            f"{type_name(b)}")
    _check_not_bool(a, "addmv_impl_cpu")
    return Mv.apply(x, y)


def outer(x: Tensor, y: Tensor) -> Tensor:
    """Outer product of two vectors: out[i, j] = x[i] * y[j]."""
    for name, t in (("vec1", x), ("vec2", y)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    return mul(x.reshape(-1, 1), y)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """beta * input + alpha * (mat1 @ mat2); input broadcasts to the product's shape."""
    a, b, c = mat1._data, mat2._data, input._data
    if a.ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {a.ndim}-D tensor")
    if b.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {b.ndim}-D tensor")
    if a.shape[1] != b.shape[0]:
        raise _mat_mismatch(a.shape[0], a.shape[1], b.shape[0], b.shape[1])
    for arr in (a, b):
        if arr.dtype != c.dtype:
            raise RuntimeError(
                f"self and mat2 must have the same dtype, but got {type_name(c)} and "
                f"{type_name(arr)}")
    _check_bias(c, (a.shape[0], b.shape[1]))
    _check_not_bool(a, "addmm_impl_cpu_")
    return Addmm.apply(input, mat1, mat2, beta, alpha)


def _check_bias(c: np.ndarray, target: tuple) -> None:
    lead = len(target) - c.ndim
    if lead < 0 or any(s != 1 and s != target[lead + i] for i, s in enumerate(c.shape)):
        for i, s in enumerate(c.shape):
            if lead >= 0 and s != 1 and s != target[lead + i]:
                raise RuntimeError(
                    f"The expanded size of the tensor ({target[lead + i]}) must match the "
                    f"existing size ({s}) at non-singleton dimension {lead + i}.  Target sizes: "
                    f"{list(target)}.  Tensor sizes: {list(c.shape)}")
        raise RuntimeError(f"the bias of shape {list(c.shape)} does not broadcast to the "
                           f"output shape {list(target)}")


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight^T + bias, over the last dim of x (what nn.Linear computes)."""
    a, w = x._data, weight._data
    if w.ndim == 2 and a.ndim >= 1:
        if a.shape[-1] != w.shape[1]:
            rows = math.prod(a.shape[:-1])
            raise _mat_mismatch(rows, a.shape[-1], w.shape[1], w.shape[0])
        _check_same_dtype(a, w)
        _check_not_bool(a, "addmm_impl_cpu_")
        if bias is None:
            if a.ndim == 2:
                return LinearNoBias.apply(x, weight)
            return matmul(x, _mT(weight))
        _check_bias(bias._data, (w.shape[0],))
        if bias._data.dtype != a.dtype:
            raise RuntimeError(
                f"self and mat2 must have the same dtype, but got {type_name(bias._data)} and "
                f"{type_name(a)}")
        if a.ndim == 2:
            return Linear.apply(x, weight, bias)
        # fold the batch into rows, as PyTorch does: (..., in) -> (rows, in) -> (..., out)
        out = Linear.apply(x.reshape(math.prod(a.shape[:-1]), a.shape[-1]), weight, bias)
        return out.view(a.shape[:-1] + (w.shape[0],))
    if bias is not None:
        if w.ndim != 2:
            raise RuntimeError(f"mat2 must be a matrix, got {w.ndim}-D tensor")
    out = matmul(x, weight if w.ndim < 2 else _mT(weight))
    return out if bias is None else out + bias


def _matmul_method(x: Tensor, other):
    if other.__class__ is Tensor:  # two matrices: straight to Mm (as matmul's first check)
        a, b = x._data, other._data
        if (a.ndim == 2 and b.ndim == 2 and a.dtype is b.dtype and a.shape[1] == b.shape[0]
                and a.dtype.kind == "f" and x.__class__ is Tensor):
            return Mm.apply(x, other)
    elif not isinstance(other, Tensor):
        return NotImplemented
    return matmul(x, other)


def _rmatmul_method(x: Tensor, other):
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul(other, x)


expose({
    "matmul": matmul, "mm": mm, "bmm": bmm, "dot": dot, "mv": mv, "outer": outer, "ger": outer,
    "addmm": addmm,
})
expose({
    "__matmul__": _matmul_method, "__rmatmul__": _rmatmul_method,
}, function=False)
