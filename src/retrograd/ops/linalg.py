"""Matrix products users call: matmul (``@``), mm, bmm, mv, dot, outer, addmm and linear.

Each checks its inputs as PyTorch does, with PyTorch's messages naming the shapes, and picks
a Function of products.py (see Note [Node names of matmul] there for why the choice shows in
``grad_fn``). Inputs must share a dtype, as in PyTorch (no promotion).
"""

from __future__ import annotations

import math

import numpy as np

from .. import grad_mode
from ..tensor import Tensor
from ._registry import expose
from .elementwise import mul
from .out_arg import write_out
from .products import (
    Addmm,
    Bmm,
    Dot,
    Linear,
    LinearNoBias,
    Matmul,
    Mm,
    Mv,
    VecMat,
    _mT,
    matmul_operands,
)
from .promotion import broadcast_error
from .reduce import type_name

# C type names, as PyTorch's "expected m1 and m2 to have the same dtype" message prints them.
_C_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char",
            "uint8": "unsigned char", "bool": "bool"}


_grad_state = grad_mode.state


# ---- checks: PyTorch's messages, naming the shapes ------------------------------------------


def _arrays(fn: str, x, y, y_name: str) -> tuple:
    """The arrays of ``x`` and ``y``, after PyTorch's TypeError for an argument not a Tensor."""
    for obj, name, pos in ((x, "input", 1), (y, y_name, 2)):
        if not isinstance(obj, Tensor):
            raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not "
                            f"{type(obj).__name__}")
    return x._data, y._data


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


def matmul(x: Tensor, y: Tensor, *, out=None) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics: dot, mv, mm or batched with broadcasting."""
    if out is not None:
        return write_out(matmul, out, x, y)
    if x.__class__ is Tensor and y.__class__ is Tensor:  # the common case first: two matrices
        a, b = x._data, y._data
        if (a.ndim == 2 and b.ndim == 2 and a.dtype is b.dtype and a.shape[1] == b.shape[0]
                and a.dtype.kind == "f"):
            return Mm.apply(x, y)
    a, b = _arrays("matmul", x, y, "other")
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
    if _grad_state.enabled and (x._requires_grad or y._requires_grad):
        x, y = matmul_operands(x, y)  # Note [What matmul saves]
    return Matmul.apply(x, y)


def mm(x: Tensor, y: Tensor) -> Tensor:
    """Product of two matrices."""
    a, b = _arrays("mm", x, y, "mat2")
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
    a, b = _arrays("bmm", x, y, "mat2")
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
    a, b = _arrays("dot", x, y, "tensor")
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
    a, b = _arrays("mv", x, y, "vec")
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
            return Linear.apply(bias, x, weight)
        # fold the batch into rows, as PyTorch does: (..., in) -> (rows, in) -> (..., out)
        out = Linear.apply(bias, x.reshape(math.prod(a.shape[:-1]), a.shape[-1]), weight)
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
