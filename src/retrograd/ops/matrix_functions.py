"""Functions of square matrices: ``det``, ``inverse``, ``matrix_exp`` and the symmetric
eigendecomposition (``eigh``, ``eigvalsh``; PyTorch's ``torch.linalg`` names are in
``retrograd/linalg.py``). Each backward is written with retrograd ops on the saved input or
outputs, so each is differentiable again.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..creation import zeros_like
from ..tensor import Tensor, _wrap
from ._registry import expose
from .join import cat
from .reduce import type_name

# ---- det and inverse ---------------------------------------------------------------------------


def _check_square(a: np.ndarray, fn: str) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(
            f"linalg.{fn}: A must be batches of square matrices, but they are "
            f"{' by '.join(map(str, a.shape[-2:])) if a.ndim >= 2 else a.ndim} matrices; "
            "the last two dimensions must be equal.")
    if a.dtype.kind != "f":
        raise RuntimeError(f"linalg.{fn}: Expected a floating point or complex tensor as input. "
                           f"Got {type_name(a)}; convert it with .float() first.")


class Inverse(Function):
    """out = x^-1 (batched);  dx = -out^T grad out^T"""

    node_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, x):
        a = x._data
        try:
            out = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise RuntimeError(
                "linalg.inv: The input matrix is singular, so it has no inverse; check for "
                "linearly dependent rows (or solve a least-squares problem instead).") from None
        ctx.save_for_backward(out)
        return out.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        t = out.transpose(-1, -2)
        return -(t @ grad @ t)

    @staticmethod
    def jvp(ctx, t):  # d(x^-1) = -x^-1 t x^-1
        (out,) = ctx.saved_tensors
        return -(out @ t @ out)


def inverse(x: Tensor) -> Tensor:
    """The inverse of a square matrix (or of each matrix in a batch)."""
    _check_square(x._data, "inv")
    return Inverse.apply(x)


class Det(Function):
    """out = det(x) (batched);  dx = grad * out * (x^-1)^T"""

    node_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, x):
        out = np.asarray(np.linalg.det(x._data), dtype=x._data.dtype)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # NOTE: written through the inverse, so a singular matrix (det 0) raises in backward;
        # PyTorch's gradient there goes through an SVD instead.
        x, out = ctx.saved_tensors
        scale = (grad * out).unsqueeze(-1).unsqueeze(-1)
        return scale * inverse(x).transpose(-1, -2)

    @staticmethod
    def jvp(ctx, t):  # d det(x) = det(x) tr(x^-1 t)
        x, out = ctx.saved_tensors
        return out * (inverse(x) * t.transpose(-1, -2)).sum((-2, -1))


def det(x: Tensor) -> Tensor:
    """The determinant of a square matrix (or of each matrix in a batch)."""
    _check_square(x._data, "det")
    return Det.apply(x)


# ---- matrix_exp ------------------------------------------------------------------------------


def _expm_array(a: np.ndarray) -> np.ndarray:
    """exp of each square matrix in ``a``: scale until the norm is at most 1/2, sum the Taylor
    series (its terms then shrink by 1/2 at least), and square back."""
    if a.size == 0:
        return a.copy()
    norm = np.abs(a).sum(-2).max()  # the 1-norm bounds the spectral radius
    squarings = max(0, int(np.ceil(np.log2(norm / 0.5)))) if norm > 0.5 else 0
    x = a / 2.0 ** squarings
    term = np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape).copy()
    out = term.copy()
    for k in range(1, 30):
        term = term @ x / k
        out += term
        if np.abs(term).max() <= np.finfo(a.dtype).eps * np.abs(out).max():
            break
    for _ in range(squarings):
        out = out @ out
    return out


class MatrixExp(Function):
    """out = exp(x) = sum_k x^k / k! (batched);  dx = the upper-right block of
    exp([[x^T, grad], [0, x^T]]) (the Frechet derivative of exp at x^T in the direction grad)"""

    node_name = "LinalgMatrixExpBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _expm_array(x._data)

    @staticmethod
    def backward(ctx, grad):
        # NOTE: the block matrix is differentiated by matrix_exp itself, so every order of
        # derivative is one more matrix_exp (of a matrix twice as large)
        (x,) = ctx.saved_tensors
        n = x.shape[-1]
        xt = x.transpose(-1, -2)
        block = cat([cat([xt, grad], -1), cat([zeros_like(xt), xt], -1)], -2)
        return MatrixExp.apply(block)[..., :n, n:]

    @staticmethod
    def jvp(ctx, t):  # the Frechet derivative at x in the direction t, the same block trick
        (x,) = ctx.saved_tensors
        n = x.shape[-1]
        block = cat([cat([x, t], -1), cat([zeros_like(x), x], -1)], -2)
        return MatrixExp.apply(block)[..., :n, n:]


def matrix_exp(x: Tensor) -> Tensor:
    """The matrix exponential of a square matrix (or of each matrix in a batch)."""
    _check_square(x._data, "matrix_exp")
    return MatrixExp.apply(x)


# ---- eigh: eigenvalues and eigenvectors of symmetric matrices --------------------------------


class linalg_eigh(tuple):  # noqa: N801 - PyTorch's name (torch.return_types.linalg_eigh)
    """``(eigenvalues, eigenvectors)``; unpacks like a tuple, with the fields named."""

    __slots__ = ()

    def __new__(cls, eigenvalues: Tensor, eigenvectors: Tensor):
        return tuple.__new__(cls, (eigenvalues, eigenvectors))

    @property
    def eigenvalues(self) -> Tensor:
        return self[0]

    @property
    def eigenvectors(self) -> Tensor:
        return self[1]

    def __repr__(self) -> str:
        return (f"torch.return_types.linalg_eigh(\neigenvalues={self[0]!r},\n"
                f"eigenvectors={self[1]!r})")


class Eigh(Function):
    """(w, V) with x = V diag(w) V^T (x symmetric; only the ``uplo`` triangle is read);
    dx = V (diag(gw) + F * (V^T gV)) V^T with F_ij = 1 / (w_j - w_i) off the diagonal"""

    node_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx, x, uplo):
        w, v = np.linalg.eigh(x._data, UPLO=uplo)
        w, v = w.astype(x._data.dtype, copy=False), v.astype(x._data.dtype, copy=False)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        # NOTE: written with eigh's own outputs, so it is differentiable again; repeated
        # eigenvalues make F infinite (the eigenvectors are not unique there), as in PyTorch
        w, v = ctx.saved_tensors
        n = w.shape[-1]
        eye = _wrap(np.eye(n, dtype=w._data.dtype))
        vt = v.transpose(-1, -2)
        inner = None
        if gv is not None:
            gaps = w.unsqueeze(-2) - w.unsqueeze(-1) + eye  # w_j - w_i, 1 on the diagonal
            inner = (vt @ gv) * ((1 - eye) / gaps)
        if gw is not None:
            diag = gw.unsqueeze(-2) * eye
            inner = diag if inner is None else inner + diag
        if inner is None:
            return None, None
        return v @ inner @ vt, None

    @staticmethod
    def jvp(ctx, t, _):
        # dw = diag(V^T t V),  dV = V (F * (V^T t V)) with F as above (t taken as symmetric,
        # as PyTorch takes it)
        w, v = ctx.saved_tensors
        n = w.shape[-1]
        eye = _wrap(np.eye(n, dtype=w._data.dtype))
        inner = v.transpose(-1, -2) @ t @ v
        gaps = w.unsqueeze(-2) - w.unsqueeze(-1) + eye
        return (inner * eye).sum(-1), v @ (inner * ((1 - eye) / gaps))


def _eigh_args(x: Tensor, UPLO: str) -> None:  # noqa: N803 - PyTorch's name
    _check_square(x._data, "eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def eigh(x: Tensor, UPLO: str = "L") -> linalg_eigh:  # noqa: N803 - PyTorch's name
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix (batched),
    read from its lower (``UPLO='L'``) or upper triangle."""
    _eigh_args(x, UPLO)
    return linalg_eigh(*Eigh.apply(x, UPLO))


def eigvalsh(x: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803 - PyTorch's name
    """The eigenvalues (ascending) of a symmetric matrix (batched)."""
    _eigh_args(x, UPLO)
    return Eigh.apply(x, UPLO)[0]


expose({"det": det, "inverse": inverse, "matrix_exp": matrix_exp})
