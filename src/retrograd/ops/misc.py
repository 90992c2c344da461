"""Names real programs use that fit no other ops file (the API inventory of issue 8,
tests/data/api_inventory.json): ``dist``, ``det``, ``inverse``, ``matrix_exp`` and the
symmetric eigendecomposition (``retrograd.linalg.eigh``/``eigvalsh``), ``bernoulli``
sampling, and the ``Tensor.type`` conversion.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..autograd.function import Function
from ..creation import _Rng, zeros_like
from ..tensor import Tensor, _wrap
from ._registry import expose
from .join import cat
from .reduce import type_name
from .statistics import norm_grad, vector_norm
from .unary import zeros_of

# ---- dist: the p-norm of a difference --------------------------------------------------------


class Dist(Function):
    """out = ||x - y||_p over all elements (x, y broadcast);
    dx = grad * sign(d) |d|^(p-1) / out^(p-1) with d = x - y,  dy = -dx"""

    @staticmethod
    def forward(ctx, x, y, p):
        ctx.p = p
        d = np.subtract(x._data, y._data)
        out = vector_norm(_wrap(d), p)._data
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y, out = ctx.saved_tensors
        if ctx.p == 0:
            return None, None, None  # counts nonzeros: piecewise constant, as in PyTorch
        gd = norm_grad(x - y, grad, out, ctx.p, None)
        return (gd if ctx.needs_input_grad[0] else None,
                -gd if ctx.needs_input_grad[1] else None, None)


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:  # noqa: A002
    """The p-norm of ``input - other`` (broadcast), over all elements."""
    for t in (input, other):
        if t._data.dtype.kind != "f":
            raise RuntimeError(
                "norm(): input dtype should be either floating point or complex. Got "
                f"{type_name(t._data)} instead; convert the tensors with .float() first.")
    return Dist.apply(input, other, float(p))


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


# ---- bernoulli ---------------------------------------------------------------------------------


class Bernoulli(Function):
    """out = 1 with probability x, else 0 (a draw);  dx = 0"""

    @staticmethod
    def forward(ctx, x, gen):
        a = x._data
        return (gen.random(a.shape) < a).astype(a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return zeros_of(grad), None  # (not grad * 0, which is NaN where grad is infinite)


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:  # noqa: A002
    """Draw 0 or 1 for each element, 1 with probability ``input`` (or the number ``p``); the
    result has input's dtype, and its gradient is zero, as in PyTorch."""
    a = input._data
    if a.dtype.kind != "f":
        raise NotImplementedError(
            f"bernoulli is only implemented for floating point tensors, not {input.dtype}; "
            "convert the probabilities with .float() first.")
    probs = input if p is None else _wrap(np.full(a.shape, p, dtype=a.dtype))
    q = probs._data
    if q.size and not (np.all(q >= 0) and np.all(q <= 1)):
        raise RuntimeError("bernoulli: the probabilities must lie in [0, 1], but some do not "
                           "(clamp them, or apply sigmoid to logits first).")
    gen = _Rng.gen if generator is None else getattr(generator, "gen", generator)
    return Bernoulli.apply(probs, gen)


# ---- Tensor.type -------------------------------------------------------------------------------

_TENSOR_TYPES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
                 "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}
_BY_TYPE_NAME = {f"torch.{name}": dtype for dtype, name in _TENSOR_TYPES.items()}


def type_(x: Tensor, dtype=None, non_blocking: bool = False, **kwargs):
    """With no dtype, the tensor's type name (``'torch.FloatTensor'``); otherwise x converted
    to ``dtype`` (a dtype or such a name), or x itself when it already has it."""
    if dtype is None:
        return "torch." + _TENSOR_TYPES.get(x._data.dtype.name, x._data.dtype.name)
    if isinstance(dtype, str):
        if dtype not in _BY_TYPE_NAME:
            raise ValueError(f"invalid type: '{dtype}'; use a dtype or one of "
                             f"{', '.join(sorted(_BY_TYPE_NAME))}")
        dtype = _dt.to_dtype(_BY_TYPE_NAME[dtype])
    return x.to(dtype)


expose({"dist": dist, "det": det, "inverse": inverse, "matrix_exp": matrix_exp,
        "bernoulli": bernoulli})
expose({"type": type_}, function=False)
