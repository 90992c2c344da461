"""Op-table entries for the math names issue 8 found missing (ops/math_more.py,
ops/scans.py, ops/linalg_more.py, ops/decompositions.py): hyperbolic and inverse
trigonometric functions, atan2,
lerp, addcmul/addcdiv, logaddexp, ..., cumprod, median, diag/diagonal/trace, the products."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
from optable import (
    BINARY,
    UNARY,
    Const,
    Fixed,
    OpInfo,
    _each,
    distinct,
    nonzero,
    on_points,
    per_arg,
    uniform,
    v,
    with_zeros,
)


def _u(name, grad_fn, domain=None, **kw):
    """A unary op, called as a function and as a method."""
    return OpInfo(name, lambda lib, x: getattr(lib, name)(x), UNARY + (
        v("method", (3,), grad_fn=grad_fn),), grad_fn, domain, **kw)


def _b(name, grad_fn, domain=None, **kw):
    return OpInfo(name, lambda lib, x, y: getattr(lib, name)(x, y), BINARY, grad_fn, domain,
                  binary=True, **kw)


_unit = uniform(-0.9, 0.9)
_pos = uniform(0.3, 2.0)
_prob = uniform(0.05, 0.95)

OPS = [
    _u("sinh", "SinhBackward0"), _u("cosh", "CoshBackward0"), _u("asinh", "AsinhBackward0"),
    _u("acosh", "AcoshBackward0", uniform(1.2, 3.0)), _u("atanh", "AtanhBackward0", _unit),
    _u("asin", "AsinBackward0", _unit), _u("acos", "AcosBackward0", _unit),
    _u("atan", "AtanBackward0"), _u("arctan", "AtanBackward0"),
    _u("arcsinh", "AsinhBackward0"), _u("expm1", "Expm1Backward0"), _u("exp2", "Exp2Backward0"),
    _u("log2", "Log2Backward0", _pos), _u("log10", "Log10Backward0", _pos),
    _u("deg2rad", "Deg2RadBackward0"), _u("rad2deg", "Rad2DegBackward0"),
    _u("sinc", "SincBackward0"), _u("frac", "FracBackward0", nonzero(0.1, 0.9)),
    OpInfo("sgn", lambda lib, x: lib.sgn(x) * x, UNARY, "MulBackward0", nonzero()),
    _u("logit", "LogitBackward0", _prob),
    _u("nan_to_num", "NanToNumBackward0"),
    OpInfo("logit-eps", lambda lib, x: lib.logit(x, eps=0.2), (v("2x3", (2, 3)),),
           "LogitBackward0", _each(lambda rng, s: rng.choice([0.1, 0.5, 0.6, 0.9], s) +
                                   rng.uniform(-0.05, 0.05, s))),
    OpInfo("nan_to_num-kw", lambda lib, x: lib.nan_to_num(x / (x - x.round()) - 3, nan=1.0,
                                                           posinf=2.0, neginf=-2.0),
           (v("2x3", (2, 3)),), "NanToNumBackward0"),
    OpInfo("clamp_min", lambda lib, x: lib.clamp_min(x, 0.25), UNARY, "ClampMinBackward0",
           distinct()),
    OpInfo("clamp_max", lambda lib, x: x.clamp_max(0.25), UNARY, "ClampMaxBackward0", distinct()),
    OpInfo("clamp_min-tensor", lambda lib, x, y: lib.clamp_min(x, y), BINARY[:3],
           "ClampMinBackward1", distinct()),
    OpInfo("clamp_max-tensor", lambda lib, x, y: x.clamp_max(y), BINARY[:3],
           "ClampMaxBackward1", distinct()),
    _b("atan2", "Atan2Backward0", nonzero()), _b("hypot", "HypotBackward0", nonzero()),
    _b("logaddexp", "LogaddexpBackward0"), _b("logaddexp2", "Logaddexp2Backward0"),
    _b("xlogy", "XlogyBackward0", per_arg(uniform(), _pos)),
    _b("copysign", "CopysignBackward0", nonzero()),
    _b("fmax", "FmaxBackward0", distinct()), _b("fmin", "FminBackward0", distinct()),
    OpInfo("fmax-ties", lambda lib, x, y: lib.fmax(x, y), (v("same", (3, 4), (3, 4)),),
           "FmaxBackward0", kinks=on_points(-1.0, 0.0, 1.0)),
    OpInfo("xlogy-zero-x", lambda lib, x, y: lib.xlogy(x, y), (v("same", (2, 3), (2, 3)),),
           "XlogyBackward0", per_arg(uniform(), _pos), kinks=per_arg(on_points(0.0), _pos)),
    OpInfo("arctan2-method", lambda lib, x, y: x.arctan2(y), (v("same", (2, 3), (2, 3)),),
           "Atan2Backward0", nonzero()),
    OpInfo("lerp", lambda lib, x, y, **kw: lib.lerp(x, y, **kw),
           (v("0.3", (2, 3), (2, 3), weight=0.3), v("0.8-broadcast", (2, 3), (3,), weight=0.8)),
           "LerpBackward0"),
    OpInfo("lerp-tensor", lambda lib, x, y, w: x.lerp(y, w),
           (v("same", (2, 3), (2, 3), (2, 3)), v("broadcast", (2, 3), (3,), (2, 1)),
            v("w-nograd", (2, 3), (2, 3), Fixed((3,)))),
           "LerpBackward1"),
    OpInfo("addcmul", lambda lib, c, a, b, **kw: lib.addcmul(c, a, b, **kw),
           (v("same", (2, 3), (2, 3), (2, 3)), v("broadcast", (3,), (2, 1), (2, 3), value=0.5)),
           "AddcmulBackward0"),
    OpInfo("addcdiv", lambda lib, c, a, b, **kw: c.addcdiv(a, b, **kw),
           (v("same", (2, 3), (2, 3), (2, 3)), v("broadcast", (3,), (2, 1), (2, 3), value=-2)),
           "AddcdivBackward0", per_arg(uniform(), uniform(), nonzero())),
]


# ---- diagonals and products (ops/linalg_more.py) -------------------------------------------------

_spd_base = _each(lambda rng, s: rng.uniform(-0.5, 0.5, s) + 2 * np.eye(s[-1]))


def _spd(x):
    """x x^T + I: symmetric positive definite for any x (cholesky's input)."""
    return x @ x.transpose(-1, -2) + 0.5 * x.new_ones(()) * (x.shape[-1] ** 0.5)


OPS += [
    OpInfo("diagonal", lambda lib, x, **kw: x.diagonal(**kw),
           (v("2d", (3, 4)), v("offset", (3, 4), offset=1), v("neg-offset", (4, 3), offset=-2),
            v("dims", (2, 3, 4), offset=0, dim1=2, dim2=0), v("out-of-range", (2, 2), offset=3)),
           "DiagonalBackward0"),
    OpInfo("diagonal-fn", lambda lib, x: lib.diagonal(x, 0, -2, -1) * 2,
           (v("batched", (2, 3, 3)),), "MulBackward0"),
    OpInfo("diag_embed", lambda lib, x, **kw: lib.diag_embed(x, **kw),
           (v("1d", (3,)), v("2d", (2, 3)), v("offset-dims", (2, 3), offset=-1, dim1=0, dim2=2)),
           "DiagEmbedBackward0"),
    OpInfo("diag", lambda lib, x, **kw: lib.diag(x, **kw),
           (v("vector", (3,)), v("vector-offset", (3,), diagonal=-1),
            v("matrix", (3, 4), grad_fn="DiagonalBackward0_copy"),
            v("matrix-offset", (3, 4), diagonal=2, grad_fn="DiagonalBackward0_copy")),
           "DiagEmbedBackward0"),
    OpInfo("diagflat", lambda lib, x: lib.diagflat(x), (v("2d", (2, 2)),), "DiagEmbedBackward0"),
    OpInfo("trace", lambda lib, x: x.trace(), (v("square", (3, 3)), v("wide", (2, 4))),
           "TraceBackward0"),
    OpInfo("baddbmm", lambda lib, c, a, b, **kw: lib.baddbmm(c, a, b, **kw),
           (v("plain", (2, 3, 4), (2, 3, 5), (2, 5, 4)),
            v("scaled-broadcast", (4,), (2, 3, 5), (2, 5, 4), beta=0.5, alpha=-2)),
           "BaddbmmBackward0"),
    OpInfo("baddbmm-method", lambda lib, c, a, b: c.baddbmm(a, b, beta=0),
           (v("beta0", (2, 2, 2), (2, 2, 3), (2, 3, 2)),), "BaddbmmBackward0"),
    OpInfo("addbmm", lambda lib, c, a, b, **kw: lib.addbmm(c, a, b, **kw),
           (v("plain", (3, 4), (2, 3, 5), (2, 5, 4)),
            v("scaled", (3, 4), (2, 3, 5), (2, 5, 4), beta=2, alpha=0.5)),
           "AddbmmBackward0"),
    OpInfo("addmv", lambda lib, c, m, x, **kw: c.addmv(m, x, **kw),
           (v("plain", (3,), (3, 4), (4,)), v("scaled", (1,), (3, 4), (4,), alpha=3)),
           "AddmvBackward0"),
    OpInfo("vdot", lambda lib, x, y: lib.vdot(x, y), (v("vec", (4,), (4,)),), "VdotBackward0"),
    OpInfo("cross", lambda lib, x, y, **kw: lib.cross(x, y, **kw),
           (v("dim1", (2, 3), (2, 3), dim=1), v("dim0", (3, 2), (3, 2), dim=0),
            v("broadcast", (2, 3), (1, 3), dim=-1)),
           "LinalgCrossBackward0"),
    OpInfo("linalg.cross", lambda lib, x, y: lib.linalg.cross(x, y),
           (v("batched", (4, 3), (4, 3)),), "LinalgCrossBackward0"),
    OpInfo("kron", lambda lib, x, y: lib.kron(x, y),
           (v("2d", (2, 3), (3, 2)), v("mixed-ndim", (2,), (2, 3))), "UnsafeViewBackward0"),
    OpInfo("tensordot", lambda lib, x, y, **kw: lib.tensordot(x, y, **kw),
           (v("dims2", (2, 3, 4), (3, 4, 2), dims=2),
            v("lists", (2, 3, 4), (4, 2, 3), dims=([1, 2], [2, 0]))),
           "ViewBackward0"),
    OpInfo("cdist", lambda lib, x, y, **kw: lib.cdist(x, y, **kw),
           (v("p2", (3, 4), (5, 4)), v("p1", (3, 2), (2, 2), p=1.0),
            v("p3-batched", (2, 3, 2), (2, 4, 2), p=3.0)),
           "CdistBackward0"),
    OpInfo("matrix_power", lambda lib, x, n: lib.matrix_power(x, n) * 1,
           (v("3", (3, 3), n=3), v("neg", (2, 3, 3), n=-2)), "MulBackward0", _spd_base),
    OpInfo("cholesky", lambda lib, x, **kw: lib.linalg.cholesky(_spd(x), **kw),
           (v("3x3", (3, 3)), v("batched-upper", (2, 3, 3), upper=True)),
           "LinalgCholeskyExBackward0"),
    OpInfo("slogdet", lambda lib, x: lib.slogdet(x)[1], (v("3x3", (3, 3)), v("batched", (2, 2, 2))),
           "LinalgSlogdetBackward0", _spd_base),
    OpInfo("logdet", lambda lib, x: lib.logdet(x), (v("3x3", (3, 3)),), "WhereBackward0",
           _spd_base),
    OpInfo("linalg.solve", lambda lib, a, b: lib.linalg.solve(a, b),
           (v("matrix", (3, 3), (3, 2)), v("vector", (3, 3), (3,)),
            v("batched", (2, 3, 3), (2, 3, 1))),
           "LinalgSolveExBackward0", per_arg(_spd_base, uniform())),
]


# ---- scans and order statistics (ops/scans.py) ---------------------------------------------------

OPS += [
    OpInfo("cumprod", lambda lib, x, **kw: lib.cumprod(x, **kw),
           (v("dim1", (2, 4), dim=1), v("dim0", (3, 2), dim=0), v("0d", (), dim=0)),
           "CumprodBackward0", nonzero(0.5, 1.5)),
    OpInfo("cumprod-zeros", lambda lib, x, **kw: x.cumprod(**kw),
           (v("one-zero", (5,), dim=0), v("two-zeros", (2, 5), dim=-1)),
           "CumprodBackward0", with_zeros(2)),
    OpInfo("logcumsumexp", lambda lib, x, **kw: lib.logcumsumexp(x, **kw),
           (v("dim1", (2, 4), dim=1), v("dim0", (3, 2), dim=0)), "LogcumsumexpBackward0"),
    OpInfo("cummax", lambda lib, x, **kw: lib.cummax(x, **kw)[0],
           (v("dim1", (3, 5), dim=1), v("dim0", (4, 2), dim=0)), "CummaxBackward0", distinct()),
    OpInfo("cummin", lambda lib, x, **kw: x.cummin(**kw).values,
           (v("dim1", (3, 5), dim=1),), "CumminBackward0", distinct(),
           kinks=on_points(-1.0, 0.0, 1.0)),
    OpInfo("median", lambda lib, x: lib.median(x), (v("odd", (3, 3)), v("even", (2, 4))),
           "MedianBackward0", distinct(), kinks=on_points(-1.0, 0.0, 1.0)),
    OpInfo("median-dim", lambda lib, x, **kw: x.median(**kw).values,
           (v("dim1", (3, 4), dim=1), v("keepdim", (3, 5), dim=0, keepdim=True)),
           "MedianBackward1", distinct()),
    OpInfo("nanmedian", lambda lib, x: lib.nanmedian(x), (v("2x3", (2, 3)),),
           "NanmedianBackward0", distinct()),
    OpInfo("nanmedian-dim", lambda lib, x, **kw: lib.nanmedian(x, **kw)[0],
           (v("dim1", (3, 4), dim=1),), "NanmedianBackward1", distinct()),
    OpInfo("kthvalue", lambda lib, x, k, **kw: lib.kthvalue(x, k, **kw).values,
           (v("k2", (3, 4), k=2), v("k1-dim0-keepdim", (3, 4), k=1, dim=0, keepdim=True)),
           "KthvalueBackward0", distinct()),
    OpInfo("mode", lambda lib, x, **kw: lib.mode(x, **kw).values,
           (v("rows", (3, 5)), v("dim0", (4, 3), dim=0)), "ModeBackward0", distinct(),
           kinks=on_points(-1.0, 0.0, 1.0)),
    OpInfo("nansum", lambda lib, x, **kw: lib.nansum(x, **kw),
           (v("all", (2, 3)), v("dim", (2, 3, 4), dim=1), v("dims-keepdim", (2, 3), dim=(0, 1),
                                                           keepdim=True)),
           "NansumBackward0"),
    OpInfo("nanmean", lambda lib, x, **kw: x.nanmean(**kw), (v("all", (2, 3)),
                                                              v("dim", (2, 3), dim=1)),
           "DivBackward0"),
    OpInfo("std_mean", lambda lib, x, **kw: lib.std_mean(x, **kw),
           (v("all", (2, 3)), v("dim", (2, 3, 4), dim=1), v("dims-keepdim", (2, 3, 4),
                                                             dim=(0, 2), keepdim=True,
                                                             correction=0)),
           "StdMeanBackward0"),
    OpInfo("var_mean", lambda lib, x, **kw: lib.var_mean(x, **kw),
           (v("all", (2, 3)), v("dim-unbiased", (2, 3), dim=0, unbiased=False)),
           "VarMeanBackward0"),
    OpInfo("diff", lambda lib, x, *rest, **kw: lib.diff(x, *rest, **kw),
           (v("1st", (2, 5)), v("2nd-dim0", (4, 3), n=2, dim=0)), "SubBackward0"),
    OpInfo("diff-prepend", lambda lib, x, p: lib.diff(x, dim=0, prepend=p),
           (v("prepend", (3, 2), (1, 2)),), "SubBackward0"),
]


def _svd(lib, x, **kw):
    u, s, vh = lib.linalg.svd(x, full_matrices=False)
    return s, u @ vh  # each singular pair's sign is arbitrary: u_i v_i^T is not


def _svd_full(lib, x):
    u, s, vh = lib.linalg.svd(x)
    k = s.shape[-1]
    return s, u[..., :, :k] @ vh[..., :k, :]


OPS += [
    OpInfo("linalg.svd", _svd, (v("tall", (4, 3)), v("wide", (2, 4)), v("batched", (2, 3, 3))),
           "LinalgSvdBackward0", distinct()),
    OpInfo("linalg.svd-full", _svd_full, (v("tall", (4, 2)),), "LinalgSvdBackward0", distinct()),
    OpInfo("svdvals", lambda lib, x: lib.linalg.svdvals(x), (v("3x2", (3, 2)),),
           "LinalgSvdBackward0", distinct()),
    OpInfo("svd-old", lambda lib, x: (lambda r: (r.S, r.U @ r.V.mT))(lib.svd(x)),
           (v("3x3", (3, 3)),), "LinalgSvdBackward0", distinct()),
    OpInfo("pinverse", lambda lib, x: lib.pinverse(x) * 1, (v("3x2", (3, 2)),), "MulBackward0",
           distinct()),
    OpInfo("linalg.qr", lambda lib, x: tuple(lib.linalg.qr(x)),
           (v("tall", (4, 3)), v("square-batched", (2, 3, 3))), "LinalgQrBackward0"),
    OpInfo("qr-old", lambda lib, x: tuple(x.qr()), (v("tall", (3, 2)),), "LinalgQrBackward0"),
]

OPS += [
    OpInfo("aminmax", lambda lib, x, **kw: tuple(lib.aminmax(x, **kw)),
           (v("all", (2, 3)), v("dim-keepdim", (3, 4), dim=1, keepdim=True)), "AminmaxBackward0",
           distinct(), kinks=on_points(-1.0, 0.0, 1.0)),
]

OPS += [
    OpInfo("quantile", lambda lib, x, **kw: lib.quantile(x, **kw) * 1,
           (v("all", (2, 5), q=0.3), v("dim-keepdim", (3, 4), q=0.7, dim=1, keepdim=True),
            v("nearest", (6,), q=0.5, interpolation="nearest"),
            v("midpoint", (2, 3), q=0.5, dim=0, interpolation="midpoint")),
           "MulBackward0", distinct()),
    OpInfo("quantile-tensor-q", lambda lib, x, q, **kw: x.quantile(q, **kw) * 1,
           (v("dim", (3, 4), Const([0.1, 0.5, 0.9]), dim=1),), "MulBackward0", distinct()),
    OpInfo("nanquantile", lambda lib, x, **kw: lib.nanquantile(x, 0.4, **kw) * 1,
           (v("dim", (3, 4), dim=1),), "MulBackward0", distinct(0.5)),
]

OPS += [
    OpInfo("cholesky-old", lambda lib, x: lib.cholesky(_spd(x)), (v("3x3", (3, 3)),),
           "CholeskyBackward0"),
]

# NOTE: PyTorch's trigamma (polygamma(1), digamma's derivative) has a relative error of about
# 3e-10 at 1 falling to 5e-11 at 6 (ours: 1e-15, checked against pi^2/6 - 1 at 2), and the
# comparison allows 1e-10: entries reaching trigamma sample from [6, 9]
_gamma_domain = uniform(1.5, 4.0)
_trigamma_domain = uniform(6.0, 9.0)
OPS += [
    OpInfo("lgamma", lambda lib, x: x.lgamma(), UNARY, "LgammaBackward0",
           per_arg(uniform(0.2, 4.0))),
    OpInfo("lgamma-negative", lambda lib, x: lib.lgamma(x), (v("off-poles", (5,)),),
           "LgammaBackward0", _each(lambda rng, s: -rng.integers(1, 4, s) + 0.5 +
                                     rng.uniform(-0.3, 0.3, s))),
    OpInfo("digamma", lambda lib, x: lib.digamma(x), UNARY, "DigammaBackward0",
           _trigamma_domain),
    OpInfo("polygamma", lambda lib, x, n: lib.polygamma(n, x),
           (v("n1", (2, 3), n=1, domain=_trigamma_domain), v("n2", (3,), n=2)),
           "PolygammaBackward0", _gamma_domain),
    OpInfo("polygamma-method", lambda lib, x: x.polygamma(3), (v("2x3", (2, 3)),),
           "PolygammaBackward0", _gamma_domain),
]

OPS += [
    OpInfo("block_diag", lambda lib, *ts: lib.block_diag(*ts),
           (v("mixed", (2, 3), (3,), (), (2, 2)), v("one", (2, 2))), "BlockDiagBackward0"),
]

# NOTE: the whole suite must stay fast: by default each entry above runs its first variant only
# (which still applies every Function, for the coverage test); RETROGRAD_OPTABLE_OPSMATH_FULL=1
# runs every variant (about 2.5x as many cases).
if os.environ.get("RETROGRAD_OPTABLE_OPSMATH_FULL", "") in ("", "0"):
    OPS = [dataclasses.replace(op, variants=op.variants[:1]) for op in OPS]
