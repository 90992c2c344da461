"""Matrix decompositions and what is built on them: ``cholesky``, ``slogdet``/``logdet``,
``linalg.solve``, ``svd``/``svdvals``, ``qr`` and ``pinverse``. Every backward (and forward-mode
rule) is written with retrograd ops, so higher orders come free."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor, _wrap
from ._registry import expose
from .elementwise import where
from .linalg_more import _mT, diag_embed, diagonal
from .matrix_functions import _check_square, inverse
from .unary import zeros_of

# ---- cholesky, slogdet, solve ------------------------------------------------------------------


def _phi(m: Tensor) -> Tensor:
    """The lower triangle of m with its diagonal halved."""
    return m.tril() - 0.5 * diag_embed(diagonal(m, 0, -2, -1))


class LinalgCholeskyEx(Function):
    """out = L with x = L L^T (L lower);  dx = sym(L^-T phi(L^T gL) L^-1), phi: the lower
    triangle with the diagonal halved, sym(S) = (S + S^T) / 2"""

    @staticmethod
    def forward(ctx, x, upper):
        try:
            low = np.linalg.cholesky(x._data)
        except np.linalg.LinAlgError:
            raise RuntimeError(
                "linalg.cholesky: The factorization could not be completed because the input "
                "is not positive-definite.") from None
        ctx.upper = upper
        out = np.swapaxes(low, -1, -2).copy() if upper else low
        ctx.save_for_backward(out)  # (the output itself: differentiable again through it)
        return out

    @staticmethod
    def backward(ctx, grad):
        (low,) = ctx.saved_tensors
        if ctx.upper:
            grad, low = _mT(grad), _mT(low)
        inv = inverse(low)
        s = _mT(inv) @ _phi(_mT(low) @ grad) @ inv
        return (s + _mT(s)) * 0.5, None

    @staticmethod
    def jvp(ctx, t, _):  # dL = L phi(L^-1 sym(t) L^-T): backward's formula, transposed
        (low,) = ctx.saved_tensors
        if ctx.upper:
            low = _mT(low)
        inv = inverse(low)
        d = low @ _phi(inv @ ((t + _mT(t)) * 0.5) @ _mT(inv))
        return _mT(d) if ctx.upper else d


class Cholesky(LinalgCholeskyEx):
    node_name = "CholeskyBackward0"


def linalg_cholesky(x: Tensor, *, upper: bool = False, out=None) -> Tensor:
    """L lower triangular with x = L L^T (``upper=True``: U = L^T)."""
    _check_square(x._data, "cholesky")
    return LinalgCholeskyEx.apply(x, bool(upper))


def cholesky(x: Tensor, upper: bool = False) -> Tensor:
    _check_square(x._data, "cholesky")
    return Cholesky.apply(x, bool(upper))


class _SignLogabsdet(tuple):
    """``(sign, logabsdet)``, like ``torch.return_types.slogdet``."""

    __slots__ = ()

    def __new__(cls, sign: Tensor, logabsdet: Tensor):
        return tuple.__new__(cls, (sign, logabsdet))

    sign = property(lambda self: self[0])
    logabsdet = property(lambda self: self[1])

    def __repr__(self) -> str:
        return (f"torch.return_types.{self._name}(\nsign={self[0]!r},\n"
                f"logabsdet={self[1]!r})")

    _name = "slogdet"


slogdet_result = type("slogdet", (_SignLogabsdet,), {"__slots__": (), "_name": "slogdet",
                                                      "__module__": __name__})
linalg_slogdet = type("linalg_slogdet", (_SignLogabsdet,),
                      {"__slots__": (), "_name": "linalg_slogdet", "__module__": __name__})


class LinalgSlogdet(Function):
    """(sign, log|det x|);  dx = glogabsdet * x^-T"""

    @staticmethod
    def forward(ctx, x):
        sign, logabs = np.linalg.slogdet(x._data)
        ctx.save_for_backward(x)
        dt = x._data.dtype
        return np.asarray(sign, dtype=dt), np.asarray(logabs, dtype=dt)

    @staticmethod
    def backward(ctx, _gsign, glog):
        (x,) = ctx.saved_tensors
        if glog is None:
            return None
        return glog.unsqueeze(-1).unsqueeze(-1) * _mT(inverse(x))

    @staticmethod
    def jvp(ctx, t):  # dlog|det x| = trace(x^-1 t) = sum(x^-T * t); the sign does not move
        (x,) = ctx.saved_tensors
        dlog = (_mT(inverse(x)) * t).sum((-2, -1))
        return zeros_of(dlog), dlog


def slogdet(x: Tensor) -> slogdet_result:
    """(sign, log |det x|) of a square matrix (batched)."""
    _check_square(x._data, "slogdet")
    sign, logabs = LinalgSlogdet.apply(x)
    return slogdet_result(sign.detach(), logabs)


def linalg_slogdet_fn(x: Tensor) -> linalg_slogdet:
    _check_square(x._data, "slogdet")
    sign, logabs = LinalgSlogdet.apply(x)
    return linalg_slogdet(sign.detach(), logabs)


def logdet(x: Tensor) -> Tensor:
    """log det x: NaN where the determinant is negative, -inf where it is 0."""
    sign, logabs = slogdet(x)
    return where(sign < 0, float("nan"), logabs)


class LinalgSolveEx(Function):
    """out = A^-1 B;  dB = A^-T grad,  dA = -dB out^T"""

    @staticmethod
    def forward(ctx, a, b, vector):
        bb = b._data[..., None] if vector else b._data
        try:
            out = np.linalg.solve(a._data, bb)
        except np.linalg.LinAlgError:
            raise RuntimeError(
                "linalg.solve: The solver failed because the input matrix is singular.") from None
        ctx.vector = vector
        out = out[..., 0] if vector else out
        ctx.save_for_backward(a, out)  # (the output itself: differentiable again through it)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad[:2]
        g = grad.unsqueeze(-1) if ctx.vector else grad
        if ctx.vector:
            out = out.unsqueeze(-1)
        gb = LinalgSolveEx.apply(_mT(a), g, False)
        ga = -(gb @ _mT(out)) if need_a else None
        if ctx.vector:
            gb = gb.squeeze(-1)
        return ga, (gb if need_b else None), None

    @staticmethod
    def jvp(ctx, ta, tb, _):  # A X = B:  dX = A^-1 (dB - dA X)
        a, out = ctx.saved_tensors
        x = out.unsqueeze(-1) if ctx.vector else out
        rhs = None if tb is None else (tb.unsqueeze(-1) if ctx.vector else tb)
        if ta is not None:
            rhs = -(ta @ x) if rhs is None else rhs - ta @ x
        dx = LinalgSolveEx.apply(a, rhs, False)
        return dx.squeeze(-1) if ctx.vector else dx


def solve(a: Tensor, b: Tensor, *, left: bool = True, out=None) -> Tensor:
    """X with A X = B (B a matrix, or a vector: then X is one)."""
    _check_square(a._data, "solve")
    if not left:
        return _mT(solve(_mT(a), _mT(b)))
    vector = b._data.ndim == 1 or b._data.ndim == a._data.ndim - 1
    return LinalgSolveEx.apply(a, b, vector)


# ---- svd and qr ---------------------------------------------------------------------------------


def _named3(name: str, fields: tuple) -> type:
    def make(cls, a, b, c):
        return tuple.__new__(cls, (a, b, c))

    def rep(self) -> str:
        inner = ",\n".join(f"{f}={t!r}" for f, t in zip(fields, self))
        return f"torch.return_types.{name}(\n{inner})"

    body = {"__slots__": (), "__new__": make, "__repr__": rep, "__module__": __name__}
    for i, f in enumerate(fields):
        body[f] = property(lambda self, i=i: self[i])
    return type(name, (tuple,), body)


linalg_svd_result = _named3("linalg_svd", ("U", "S", "Vh"))
svd_result = _named3("svd", ("U", "S", "V"))


linalg_qr_result = type("linalg_qr", (tuple,), {
    "__slots__": (), "__module__": __name__,
    "Q": property(lambda self: self[0]), "R": property(lambda self: self[1]),
    "__repr__": lambda self: f"torch.return_types.linalg_qr(\nQ={self[0]!r},\nR={self[1]!r})"})


class LinalgSvd(Function):
    """(U, S, Vh) with x = U diag(S) Vh (reduced to k = min(m, n) for the gradient);
    dx = U [(F o (U^T gU - gU^T U)) S + diag(gS) + S (F o (V^T gV - gV^T V))] Vh
         + (I - U U^T) gU S^-1 Vh + U S^-1 gV^T (I - V V^T),  F_ij = 1 / (s_j^2 - s_i^2)"""

    @staticmethod
    def forward(ctx, x, full_matrices):
        u, s, vh = np.linalg.svd(x._data, full_matrices=full_matrices)
        dt = x._data.dtype
        u, s, vh = u.astype(dt, copy=False), s.astype(dt, copy=False), vh.astype(dt, copy=False)
        ctx.save_for_backward(u, s, vh)  # (the outputs: differentiable again through them)
        ctx.k = s.shape[-1]
        return u, s, vh

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.saved_tensors
        k = ctx.k
        u, vh = u[..., :, :k], vh[..., :k, :]
        v = _mT(vh)
        if gu is not None:
            gu = gu[..., :, :k]
        if gvh is not None:
            gvh = gvh[..., :k, :]
        eye = _wrap(np.eye(k, dtype=s._data.dtype))
        inner = None
        if gs is not None:
            inner = gs.unsqueeze(-2) * eye
        if gu is not None or gvh is not None:
            s2 = s * s
            gaps = s2.unsqueeze(-2) - s2.unsqueeze(-1) + eye  # s_j^2 - s_i^2, 1 on the diagonal
            f = (1 - eye) / gaps
        if gu is not None:
            ut_gu = _mT(u) @ gu
            term = (f * (ut_gu - _mT(ut_gu))) * s.unsqueeze(-2)
            inner = term if inner is None else inner + term
        if gvh is not None:
            gv = _mT(gvh)
            vt_gv = _mT(v) @ gv
            term = s.unsqueeze(-1) * (f * (vt_gv - _mT(vt_gv)))
            inner = term if inner is None else inner + term
        out = u @ inner @ vh
        sinv = 1 / s
        m, n = u.shape[-2], v.shape[-2]
        if gu is not None and m > k:
            out = out + (gu - u @ (_mT(u) @ gu)) * sinv.unsqueeze(-2) @ vh
        if gvh is not None and n > k:
            out = out + (u * sinv.unsqueeze(-2)) @ (gvh - (gvh @ v) @ vh)
        return out, None


def _svd_check(x: Tensor, fn: str) -> None:
    a = x._data
    if a.ndim < 2:
        raise RuntimeError(f"linalg.{fn}: The input tensor A must have at least 2 dimensions.")
    if a.dtype.kind != "f":
        raise RuntimeError(f"linalg.{fn}: Expected a floating point or complex tensor as input. "
                           f"Got {str(x.dtype)[6:].title()}")


def linalg_svd(x: Tensor, full_matrices: bool = True, *, driver=None, out=None):
    """(U, S, Vh) with x = U diag(S) Vh; singular values descending."""
    _svd_check(x, "svd")
    return linalg_svd_result(*LinalgSvd.apply(x, bool(full_matrices)))


def svdvals(x: Tensor, *, driver=None, out=None) -> Tensor:
    """The singular values of x, descending."""
    _svd_check(x, "svdvals")
    return LinalgSvd.apply(x, False)[1]


def svd(x: Tensor, some: bool = True, compute_uv: bool = True):
    """(U, S, V) with x = U diag(S) V^T (the older interface of ``linalg.svd``)."""
    _svd_check(x, "svd")
    u, s, vh = LinalgSvd.apply(x, not some)
    if not compute_uv:
        return svd_result(u.detach() * 0, s, _mT(vh).detach() * 0)
    return svd_result(u, s, _mT(vh))


class LinalgQr(Function):
    """(Q, R) with x = Q R (m >= n, reduced);  dx = (gQ + Q copyltu(M)) R^-T,
    M = R gR^T - gQ^T Q,  copyltu(M) = tril(M) + tril(M, -1)^T"""

    @staticmethod
    def forward(ctx, x, mode):
        q, r = np.linalg.qr(x._data, mode=mode)
        dt = x._data.dtype
        q, r = q.astype(dt, copy=False), r.astype(dt, copy=False)
        ctx.save_for_backward(q, r)
        ctx.mode = mode
        return q, r

    @staticmethod
    def backward(ctx, gq, gr):
        q, r = ctx.saved_tensors
        m, n = q.shape[-2], r.shape[-1]
        if m < n or (ctx.mode == "complete" and m > n):
            raise NotImplementedError(
                "The derivative of linalg.qr is implemented only for mode='reduced' (or "
                "square inputs) with at least as many rows as columns.")
        mm = None
        if gr is not None:
            mm = r @ _mT(gr)
        if gq is not None:
            term = _mT(gq) @ q
            mm = -term if mm is None else mm - term
        b = q @ (mm.tril() + _mT(mm.tril(-1)))
        if gq is not None:
            b = gq + b
        return b @ _mT(inverse(r)), None


def linalg_qr(x: Tensor, mode: str = "reduced", *, out=None):
    """(Q, R) with x = Q R, Q with orthonormal columns and R upper triangular."""
    _svd_check(x, "qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    if mode == "r":
        q, r = LinalgQr.apply(x, "reduced")
        return linalg_qr_result((_wrap(np.empty((0,), x._data.dtype)), r))
    return linalg_qr_result(LinalgQr.apply(x, mode))


def qr(x: Tensor, some: bool = True):
    """(Q, R) with x = Q R (``some=False``: Q square)."""
    q, r = linalg_qr(x, "reduced" if some else "complete")
    return qr_result((q, r))


qr_result = type("qr", (tuple,), {
    "__slots__": (), "__module__": __name__,
    "Q": property(lambda self: self[0]), "R": property(lambda self: self[1]),
    "__repr__": lambda self: f"torch.return_types.qr(\nQ={self[0]!r},\nR={self[1]!r})"})


def pinverse(x: Tensor, rcond: float = 1e-15) -> Tensor:
    """The pseudo-inverse, V diag(1/s) U^T over the singular values above rcond * max(s)."""
    u, s, vh = LinalgSvd.apply(x, False)
    cutoff = s.amax(-1, keepdim=True) * rcond
    big = s > cutoff
    sinv = where(big, 1 / where(big, s, 1.0), 0.0)
    return (_mT(vh) * sinv.unsqueeze(-2)) @ _mT(u)


expose({"cholesky": cholesky, "slogdet": slogdet, "logdet": logdet, "svd": svd, "qr": qr,
        "pinverse": pinverse})
