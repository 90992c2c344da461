"""The op table: one entry per differentiable op, like PyTorch's OpInfo.

Each ``OpInfo`` says how to call an op through the torch-style API (``fn(lib, *tensors,
**kwargs)``, so the same entry runs on retrograd and on torch), which inputs to try
(``Variant``s: shapes, broadcasting, 0-d, keyword variants), where to sample the inputs (a
``domain`` away from kinks, ties and poles) and the ``grad_fn`` name PyTorch gives the result.
``tests/test_optable.py`` turns every (entry, variant) pair into gradcheck, gradgradcheck,
torch-comparison and dtype tests, and fails when a Function of ``retrograd.ops`` is applied by
no entry. ``check_derivatives`` (at the end) is gradcheck and gradgradcheck for the tests of
functions outside the table.

Arguments of a variant, in the order ``fn`` takes them:
    a shape tuple        a float tensor that requires grad, sampled from the domain
    ``Fixed(shape)``     a float tensor from the domain that does not require grad
    ``Const(array)``     a constant tensor (an index tensor, a bool mask), same on both libraries
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import retrograd
from retrograd.autograd import gradcheck, gradgradcheck

# ---- describing inputs -----------------------------------------------------------------------


@dataclass(frozen=True)
class Fixed:
    """A float input that does not require grad."""

    shape: tuple


class Const:
    """A constant tensor argument (built with ``lib.tensor(value)`` on each library)."""

    def __init__(self, value) -> None:
        self.value = np.asarray(value)

    def __repr__(self) -> str:
        return f"Const({self.value.tolist()!r})"


@dataclass
class Variant:
    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    grad_fn: str | None = None  # overrides the entry's
    domain: Callable | None = None  # overrides the entry's

    def float_shapes(self) -> list:
        return [a.shape if isinstance(a, Fixed) else a for a in self.args
                if not isinstance(a, Const)]


def v(name: str, *args, grad_fn: str | None = None, domain=None, **kwargs) -> Variant:
    return Variant(name, args, kwargs, grad_fn, domain)


@dataclass
class OpInfo:
    name: str
    fn: Callable  # fn(lib, *tensors, **kwargs) -> Tensor or tuple of Tensors
    variants: tuple
    grad_fn: str | None = None  # PyTorch's grad_fn class name of the (first) output
    domain: Callable | None = None  # domain(rng, shapes) -> list of float64 arrays
    supports_gradgrad: bool = True
    binary: bool = False  # a broadcasting elementwise op of two tensors (hypothesis test)
    gradcheck_kwargs: dict = field(default_factory=dict)
    # inputs sitting on the op's kinks and ties (relu at 0, max with ties): compared with torch
    # only, since finite differences mean nothing there
    kinks: Callable | None = None

    def cases(self):
        for var in self.variants:
            yield f"{self.name}-{var.name}", self, var

    def expected_grad_fn(self, var: Variant) -> str | None:
        return var.grad_fn or self.grad_fn

    def domain_of(self, var: Variant) -> Callable:
        return var.domain or self.domain or uniform()


# ---- domains: where the inputs are sampled ---------------------------------------------------
# A domain maps (rng, list of shapes) to a list of float64 arrays of those shapes.


def _each(sample) -> Callable:
    def domain(rng, shapes):
        return [np.asarray(sample(rng, tuple(s)), dtype=np.float64) for s in shapes]

    return domain


def uniform(lo: float = -2.0, hi: float = 2.0) -> Callable:
    return _each(lambda rng, s: rng.uniform(lo, hi, s))


def nonzero(lo: float = 0.3, hi: float = 2.0) -> Callable:
    """|x| in [lo, hi] with a random sign: away from the kink of abs, relu, sign at 0."""
    return _each(lambda rng, s: rng.uniform(lo, hi, s) * rng.choice([-1.0, 1.0], s))


def off_integers(scale: float = 1.0) -> Callable:
    """Away from the jumps of floor, ceil, trunc (integers) and round (halves)."""
    def sample(rng, s):
        frac = rng.uniform(0.1, 0.4, s) + rng.choice([0.0, 0.5], s)
        return (rng.integers(-3, 3, s) + frac) * scale

    return _each(sample)


def away_from(*points: float, margin: float = 0.2) -> Callable:
    """Uniform in [-2, 2] but at least ``margin`` from each point (clamp's bounds)."""
    def sample(rng, s):
        x = rng.uniform(-2.0, 2.0, s)
        for p in points:
            near = np.abs(x - p) < margin
            x = np.where(near, p + np.copysign(margin + 0.1, x - p), x)
        return x

    return _each(sample)


def distinct(spacing: float = 0.3) -> Callable:
    """All values of all inputs distinct and ``spacing`` apart, also in absolute value.

    Keeps max/min/maximum/clamp away from ties, and norm(inf) away from ties of |x|.
    """
    def domain(rng, shapes):
        sizes = [int(np.prod(s)) for s in shapes]
        n = sum(sizes)
        # offset 1/3 of the spacing: no value is 0 and no two values are opposite
        vals = (rng.permutation(n) - n // 2 + 1 / 3) * spacing
        out, start = [], 0
        for s, k in zip(shapes, sizes):
            out.append(vals[start:start + k].reshape(s))
            start += k
        return out

    return domain


def with_zeros(count: int) -> Callable:
    """Nonzero values, except ``count`` exact zeros in the first input (prod's hard cases)."""
    base = nonzero(0.5, 1.5)

    def domain(rng, shapes):
        arrays = base(rng, shapes)
        first = arrays[0].reshape(-1)
        first[rng.choice(first.size, size=min(count, first.size), replace=False)] = 0.0
        return arrays

    return domain


def on_points(*points: float) -> Callable:
    """Every value exactly one of ``points``: many ties, and every kink hit."""
    return _each(lambda rng, s: rng.choice(np.asarray(points, dtype=np.float64), s))


def per_arg(*domains) -> Callable:
    """One domain per float input."""
    def domain(rng, shapes):
        return [d(rng, [s])[0] for d, s in zip(domains, shapes)]

    return domain


def weights_positive(rng, shapes):
    """The first input anywhere in [-2, 2], the others (class weights) in [0.5, 2]."""
    first, *rest = shapes
    return uniform()(rng, [first]) + uniform(0.5, 2.0)(rng, rest)


def clamp_bounds(rng, shapes):
    """x, lo, hi all distinct, with lo < hi elementwise."""
    x, a, b = distinct()(rng, shapes)
    return [x, np.minimum(a, b), np.maximum(a, b)]


# ---- the ops ---------------------------------------------------------------------------------

UNARY = (v("2x3", (2, 3)), v("0d", ()))
BINARY = (
    v("same", (2, 3), (2, 3)),
    v("broadcast", (2, 3), (3,)),
    v("broadcast-both", (3, 1), (1, 2)),
    v("broadcast-lhs", (3,), (2, 3)),
    v("0d", (2, 3), ()),
    v("rhs-nograd", (2, 3), Fixed((3,))),
)
SCALAR_RHS = (v("2x3", (2, 3)), v("0d", ()))
R3 = (2, 3, 4)  # the shape reductions work on


def _unary(name, method, grad_fn, domain=None, **kw) -> OpInfo:
    return OpInfo(name, lambda lib, x: getattr(x, method)(), UNARY, grad_fn, domain, **kw)


def _reduction(name, method, grad_fn, dim_grad_fn=None, domain=None, tuple_dims=True,
               kinks=None):
    dim_fn = dim_grad_fn or grad_fn
    variants = [
        v("all", R3),
        v("0d", ()),
        v("dim1", R3, dim=1, grad_fn=dim_fn),
        v("dim-neg", R3, dim=-1, grad_fn=dim_fn),
        v("dim1-keepdim", R3, dim=1, keepdim=True, grad_fn=dim_fn),
    ]
    if tuple_dims:
        variants += [v("dims02", R3, dim=(0, 2), grad_fn=dim_fn),
                     v("dims02-keepdim", R3, dim=(0, 2), keepdim=True, grad_fn=dim_fn)]
    return OpInfo(name, lambda lib, x, **kw: getattr(x, method)(**kw), tuple(variants),
                  grad_fn, domain, kinks=kinks)


def _functional(name, grad_fn, domain=None, kinks=None, **options) -> OpInfo:
    """An ``nn.functional`` activation, with defaults and with ``options`` (if any)."""
    variants = [v("2x3", (2, 3)), v("0d", ())]
    if options:
        label = "-".join(f"{k}={val}" for k, val in options.items())
        variants.append(v(label, (2, 3), **options))
    return OpInfo(name, lambda lib, x, **kw: getattr(lib.nn.functional, name)(x, **kw),
                  tuple(variants), grad_fn, domain, kinks=kinks)


def _setitem(lib, x, val, key):
    y = x.clone()
    y[key] = val
    return y


def _copy(lib, x, val):
    return x.clone().copy_(val)


# in-place writes into a view of h (Note [In-place on views] in ops/inplace.py): name ->
# (the view of h, the write into it, the shapes of the values written)
VIEW_WRITES = {
    "mul_-slice": (lambda h: h[1:], lambda v: v.mul_(2), ()),
    "add_-t": (lambda h: h.t(), lambda v: v.add_(1), ()),
    "mul_-view": (lambda h: h.view(-1), lambda v: v.mul_(3), ()),
    "mul_-select-0d": (lambda h: h[0, 1], lambda v: v.mul_(2), ()),
    "setitem-slice": (lambda h: h[1:], lambda v, y: v.__setitem__(0, y), ((4,),)),
    "setitem-unsqueeze": (lambda h: h.unsqueeze(0), lambda v, y: v.__setitem__((0, 1), y),
                          ((4,),)),
    "mul_-select-tensor": (lambda h: h[:, 1], lambda v, y: v.mul_(y), ((3,),)),
    "add_-select-narrow": (lambda h: h.select(0, 1).narrow(0, 1, 2), lambda v, y: v.add_(y),
                           ((2,),)),
    "copy_-T-slice": (lambda h: h.T[1:], lambda v, y: v.copy_(y), ((3,),)),
}


def _write_into_view(lib, x, *values, write, view_too=False):
    """h = x * 1 (not a leaf), then an in-place write into a view of h; h's history becomes
    CopySlices. With ``view_too``, the view is an output as well (it gets new history too)."""
    h = x * 1
    make_view, op, _ = VIEW_WRITES[write]
    view = make_view(h)
    op(view, *values)
    return (h, view) if view_too else h


def _cat(lib, *ts, **kw):
    return lib.cat(ts, **kw)


def _stack(lib, *ts, **kw):
    return lib.stack(ts, **kw)


OPS: list[OpInfo] = [
    # ---- elementwise arithmetic
    OpInfo("neg", lambda lib, x: -x, UNARY, "NegBackward0"),
    OpInfo("add", lambda lib, x, y, **kw: lib.add(x, y, **kw),
           BINARY + (v("alpha", (2, 3), (3,), alpha=2.0),), "AddBackward0", binary=True),
    OpInfo("add-scalar", lambda lib, x: 2.5 + x, SCALAR_RHS, "AddBackward0"),
    OpInfo("sub", lambda lib, x, y, **kw: lib.sub(x, y, **kw),
           BINARY + (v("alpha", (2, 3), (3,), alpha=2.0),), "SubBackward0", binary=True),
    OpInfo("sub-scalar", lambda lib, x: x - 2.5, SCALAR_RHS, "SubBackward0"),
    OpInfo("rsub-scalar", lambda lib, x: 2.5 - x, SCALAR_RHS, "RsubBackward1"),
    OpInfo("mul", lambda lib, x, y: x * y, BINARY, "MulBackward0", binary=True),
    OpInfo("mul-scalar", lambda lib, x: 2.5 * x, SCALAR_RHS, "MulBackward0"),
    OpInfo("div", lambda lib, x, y: x / y, BINARY, "DivBackward0",
           per_arg(uniform(), nonzero(0.5, 2.0)), binary=True),
    OpInfo("div-scalar", lambda lib, x: x / 2.5, SCALAR_RHS, "DivBackward0"),
    OpInfo("rdiv-scalar", lambda lib, x: 2.5 / x, SCALAR_RHS, "MulBackward0", nonzero(0.5, 2.0)),
    OpInfo("reciprocal", lambda lib, x: x.reciprocal(), UNARY, "ReciprocalBackward0",
           nonzero(0.5, 2.0)),
    # ---- powers
    OpInfo("pow-scalar", lambda lib, x, exponent: x ** exponent,
           (v("2.5", (2, 3), exponent=2.5), v("-1.5", (2, 3), exponent=-1.5),
            v("0.5-0d", (), exponent=0.5), v("2", (2, 3), exponent=2), v("3", (2, 3), exponent=3),
            v("0", (2, 3), exponent=0)),
           "PowBackward0", uniform(0.5, 2.0)),
    OpInfo("pow-int-negative-base", lambda lib, x, exponent: lib.pow(x, exponent),
           (v("2", (2, 3), exponent=2), v("3", (2, 3), exponent=3)), "PowBackward0"),
    OpInfo("square", lambda lib, x: x.square(), UNARY, "PowBackward0"),
    OpInfo("pow", lambda lib, x, y: x ** y, BINARY, "PowBackward1",
           per_arg(uniform(0.5, 2.0), uniform()), binary=True),
    OpInfo("rpow-scalar", lambda lib, x: 2.5 ** x, SCALAR_RHS, "PowBackward2"),
    # ---- unary math
    _unary("exp", "exp", "ExpBackward0"),
    _unary("log", "log", "LogBackward0", uniform(0.5, 2.0)),
    _unary("log1p", "log1p", "Log1PBackward0", uniform(-0.5, 2.0)),
    _unary("sqrt", "sqrt", "SqrtBackward0", uniform(0.5, 2.0), kinks=on_points(0.0, 1.0)),
    _unary("rsqrt", "rsqrt", "RsqrtBackward0", uniform(0.5, 2.0)),
    _unary("sin", "sin", "SinBackward0"),
    _unary("cos", "cos", "CosBackward0"),
    _unary("tan", "tan", "TanBackward0", uniform(-1.2, 1.2)),
    # (their backward runs one fused Function, which gradgradcheck differentiates)
    _unary("tanh", "tanh", "TanhBackward0"),
    _unary("sigmoid", "sigmoid", "SigmoidBackward0"),
    _unary("relu", "relu", "ReluBackward0", nonzero(),
           kinks=on_points(-1.0, 0.0, 1.0)),
    _unary("abs", "abs", "AbsBackward0", nonzero(), kinks=on_points(-1.0, 0.0, 1.0)),
    _unary("sign", "sign", "SignBackward0", nonzero(), kinks=on_points(-1.0, 0.0, 1.0)),
    _unary("floor", "floor", "FloorBackward0", off_integers(), kinks=on_points(-1.0, 0.0, 1.5)),
    _unary("ceil", "ceil", "CeilBackward0", off_integers(), kinks=on_points(-1.0, 0.0, 1.5)),
    _unary("round", "round", "RoundBackward0", off_integers(), kinks=on_points(-0.5, 0.5, 1.5)),
    _unary("trunc", "trunc", "TruncBackward0", off_integers(), kinks=on_points(-1.0, 0.0, 1.5)),
    OpInfo("round-decimals", lambda lib, x: x.round(decimals=1), UNARY, "RoundBackward1",
           off_integers(0.1)),
    # ---- clamping and selection
    OpInfo("clamp", lambda lib, x, **kw: x.clamp(**kw),
           (v("min-max", (2, 3), min=-0.5, max=0.5), v("min", (2, 3), min=-0.5),
            v("max", (2, 3), max=0.5), v("0d", (), min=-0.5, max=0.5)),
           "ClampBackward1", away_from(-0.5, 0.5), kinks=on_points(-0.5, 0.0, 0.5, 1.0)),
    OpInfo("clamp-tensor", lambda lib, x, lo, hi: x.clamp(lo, hi),
           (v("same", (2, 3), (2, 3), (2, 3)),), "ClampBackward0", clamp_bounds),
    OpInfo("maximum", lambda lib, x, y: lib.maximum(x, y), BINARY, "MaximumBackward0",
           distinct(), binary=True, kinks=on_points(-1.0, 1.0)),
    OpInfo("minimum", lambda lib, x, y: lib.minimum(x, y), BINARY, "MinimumBackward0",
           distinct(), binary=True, kinks=on_points(-1.0, 1.0)),
    OpInfo("where", lambda lib, c, x, y: lib.where(c, x, y),
           (v("same", Const([[True, False, True], [False, False, True]]), (2, 3), (2, 3)),
            v("broadcast", Const([True, False, True]), (2, 3), (3,)),
            v("0d-y", Const([[True, False, True], [False, True, True]]), (2, 3), ())),
           "WhereBackward0"),
    # ---- reductions
    _reduction("sum", "sum", "SumBackward0", "SumBackward1"),
    _reduction("mean", "mean", "MeanBackward0", "MeanBackward1"),
    OpInfo("sum-extra", lambda lib, x, **kw: x.sum(**kw),
           (v("keepdim-all", R3, dim=None, keepdim=True), v("empty-dims", R3, dim=())),
           "SumBackward1"),
    OpInfo("sum_to_size", lambda lib, x, size: x.sum_to_size(size),
           (v("rows", (2, 3), size=(1, 3)), v("cols", (2, 3), size=(2, 1))), "SumBackward1"),
    OpInfo("prod", lambda lib, x, **kw: x.prod(**kw),
           (v("all", R3), v("0d", ()), v("dim1", R3, dim=1, grad_fn="ProdBackward1"),
            v("dim1-keepdim", R3, dim=1, keepdim=True, grad_fn="ProdBackward1"),
            v("all-one-zero", R3, domain=with_zeros(1)),
            v("all-two-zeros", R3, domain=with_zeros(2)),
            v("dim1-one-zero", (2, 3), dim=1, domain=with_zeros(1), grad_fn="ProdBackward1"),
            v("dim0-two-zeros", (3, 2), dim=0, domain=with_zeros(2), grad_fn="ProdBackward1")),
           "ProdBackward0", nonzero(0.5, 1.5)),
    OpInfo("max", lambda lib, x, **kw: x.max(**kw),
           (v("all", R3), v("0d", ()), v("dim1", R3, dim=1, grad_fn="MaxBackward0"),
            v("dim-neg-keepdim", R3, dim=-1, keepdim=True, grad_fn="MaxBackward0")),
           "MaxBackward1", distinct(), kinks=on_points(-1.0, 1.0)),
    OpInfo("min", lambda lib, x, **kw: x.min(**kw),
           (v("all", R3), v("0d", ()), v("dim1", R3, dim=1, grad_fn="MinBackward0"),
            v("dim-neg-keepdim", R3, dim=-1, keepdim=True, grad_fn="MinBackward0")),
           "MinBackward1", distinct(), kinks=on_points(-1.0, 1.0)),
    _reduction("amax", "amax", "AmaxBackward0", domain=distinct(), kinks=on_points(-1.0, 1.0)),
    _reduction("amin", "amin", "AminBackward0", domain=distinct(), kinks=on_points(-1.0, 1.0)),
    OpInfo("var", lambda lib, x, **kw: x.var(**kw),
           (v("all", R3), v("dim1", R3, dim=1), v("dims02-keepdim", R3, dim=(0, 2), keepdim=True),
            v("correction0", R3, dim=-1, correction=0), v("unbiased-false", R3, unbiased=False)),
           "VarBackward0"),
    OpInfo("std", lambda lib, x, **kw: x.std(**kw),
           (v("all", R3), v("dim1", R3, dim=1), v("dims02-keepdim", R3, dim=(0, 2), keepdim=True),
            v("correction0", R3, dim=-1, correction=0), v("unbiased-false", R3, unbiased=False)),
           "StdBackward0"),
    OpInfo("norm", lambda lib, x, **kw: x.norm(**kw),
           (v("all", R3), v("0d", ()), v("dim1", R3, dim=1),
            v("dims02-keepdim", R3, dim=(0, 2), keepdim=True),
            v("p1", R3, p=1, domain=nonzero()), v("p3-dim1", R3, p=3, dim=1, domain=nonzero()),
            v("pinf", R3, p=float("inf"), domain=distinct())),
           "LinalgVectorNormBackward0", kinks=on_points(0.0)),
    OpInfo("cumsum", lambda lib, x, dim: x.cumsum(dim),
           (v("dim1", R3, dim=1), v("dim-neg", R3, dim=-1), v("0d", (), dim=0)),
           "CumsumBackward0"),
    OpInfo("logsumexp", lambda lib, x, **kw: x.logsumexp(**kw),
           (v("dim1", R3, dim=1), v("dims02", R3, dim=(0, 2)),
            v("dim-neg-keepdim", R3, dim=-1, keepdim=True), v("0d", (), dim=0)),
           "LogsumexpBackward0"),
    # ---- shapes
    OpInfo("reshape", lambda lib, x, shape: x.reshape(shape),
           (v("2x3x4-6x4", R3, shape=(6, 4)), v("infer", R3, shape=(-1, 3)),
            v("0d", (), shape=(1,))),
           "ViewBackward0"),
    OpInfo("reshape-copy", lambda lib, x: x.expand(2, 3).reshape(-1), (v("3", (3,)),),
           "UnsafeViewBackward0"),
    OpInfo("view", lambda lib, x, shape: x.view(shape),
           (v("2x3x4-4x6", R3, shape=(4, 6)), v("flat", R3, shape=(-1,)),
            v("0d", (), shape=(1, 1))),
           "ViewBackward0"),
    OpInfo("flatten", lambda lib, x, **kw: x.flatten(**kw),
           (v("all", R3), v("start1", R3, start_dim=1), v("0d", ())), "ViewBackward0"),
    OpInfo("squeeze", lambda lib, x, **kw: x.squeeze(**kw),
           (v("all", (2, 1, 3, 1)), v("0d", ()),
            v("dim1", (2, 1, 3, 1), dim=1, grad_fn="SqueezeBackward1"),
            v("dim-noop", (2, 1, 3), dim=0, grad_fn="SqueezeBackward1"),
            v("dims", (2, 1, 3, 1), dim=(1, 3), grad_fn="SqueezeBackward2")),
           "SqueezeBackward0"),
    OpInfo("unsqueeze", lambda lib, x, dim: x.unsqueeze(dim),
           (v("dim0", (2, 3), dim=0), v("dim-neg", (2, 3), dim=-1), v("0d", (), dim=0)),
           "UnsqueezeBackward0"),
    OpInfo("transpose", lambda lib, x, d0, d1: x.transpose(d0, d1),
           (v("0-2", R3, d0=0, d1=2), v("neg", R3, d0=-1, d1=-2)), "TransposeBackward0"),
    OpInfo("t", lambda lib, x: x.t(), (v("2d", (2, 3)), v("1d", (3,))), "TBackward0"),
    OpInfo("T", lambda lib, x: x.T, (v("2d", (2, 3)),), "PermuteBackward0"),
    OpInfo("permute", lambda lib, x, dims: x.permute(*dims),
           (v("201", R3, dims=(2, 0, 1)), v("neg", R3, dims=(-1, 0, 1))), "PermuteBackward0"),
    OpInfo("permute-tuple", lambda lib, x, dims: x.permute(dims), (v("102", R3, dims=(1, 0, 2)),),
           "PermuteBackward0"),
    OpInfo("expand", lambda lib, x, size: x.expand(*size),
           (v("row", (3,), size=(2, 3)), v("col", (3, 1), size=(3, 4)),
            v("keep", (2, 1), size=(-1, 3)), v("0d", (), size=(2, 2))),
           "ExpandBackward0"),
    OpInfo("repeat", lambda lib, x, reps: x.repeat(*reps),
           (v("2x1", (2, 3), reps=(2, 1)), v("new-dim", (2, 3), reps=(2, 1, 2))),
           "RepeatBackward0"),
    OpInfo("cat", _cat,
           (v("dim0", (2, 3), (1, 3)), v("dim1", (2, 3), (2, 2), dim=1),
            v("three-neg", (2, 1), (2, 3), (2, 2), dim=-1), v("one", (2, 3)),
            v("nograd", (2, 3), Fixed((1, 3)))),
           "CatBackward0"),
    OpInfo("stack", _stack,
           (v("dim0", (2, 3), (2, 3)), v("dim-neg", (2, 3), (2, 3), (2, 3), dim=-1),
            v("0d", (), ())),
           "StackBackward0"),
    OpInfo("split", lambda lib, x, size, **kw: x.split(size, **kw),
           (v("uneven", (5, 3), size=2), v("dim1", (2, 4), size=2, dim=1),
            v("sizes", (5, 3), size=[1, 4], grad_fn="SplitWithSizesBackward0")),
           "SplitBackward0"),
    OpInfo("chunk", lambda lib, x, chunks, **kw: x.chunk(chunks, **kw),
           (v("3", (5, 3), chunks=3), v("dim1", (2, 4), chunks=2, dim=1)), "SplitBackward0"),
    OpInfo("unbind", lambda lib, x, **kw: x.unbind(**kw),
           (v("dim0", (2, 3)), v("dim1", (2, 3), dim=1)), "UnbindBackward0"),
    OpInfo("flip", lambda lib, x, dims: x.flip(dims),
           (v("0", (2, 3), dims=(0,)), v("01", (2, 3), dims=(0, 1)), v("neg", R3, dims=(-1,))),
           "FlipBackward0"),
    # ---- indexing
    OpInfo("getitem", lambda lib, x, key: x[key],
           (v("int", (3, 4), key=1, grad_fn="SelectBackward0"),
            v("int-neg", (3, 4), key=-1, grad_fn="SelectBackward0"),
            v("slice", (3, 4), key=slice(1, None)),
            v("slice-step", (4, 3), key=slice(None, None, 2)),
            v("int-slice", R3, key=(0, slice(1, 3))),
            v("none", (3, 4), key=None, grad_fn="UnsqueezeBackward0"),
            v("ellipsis", (3, 4), key=Ellipsis, grad_fn="AliasBackward0"),
            v("ellipsis-int", R3, key=(Ellipsis, 1), grad_fn="SelectBackward0")),
           "SliceBackward0"),
    OpInfo("getitem-tensor", lambda lib, x, i: x[i],
           (v("repeats", (3, 2), Const([0, 2, 0])), v("negative", (3, 2), Const([-1, 0])),
            v("2d-index", (3, 2), Const([[0, 1], [1, 1]]))),
           "IndexBackward0"),
    OpInfo("getitem-tensor-dim1", lambda lib, x, i: x[:, i], (v("repeats", R3, Const([2, 2, 0])),),
           "IndexBackward0"),
    OpInfo("getitem-mask", lambda lib, x, m: x[m],
           (v("full", (2, 3), Const([[True, False, True], [False, True, True]])),
            v("rows", (3, 2), Const([True, False, True]))),
           "IndexBackward0"),
    OpInfo("select", lambda lib, x, dim, index: x.select(dim, index),
           (v("dim1", (3, 4), dim=1, index=2), v("neg", R3, dim=-1, index=-1)), "SelectBackward0"),
    OpInfo("narrow", lambda lib, x, dim, start, length: x.narrow(dim, start, length),
           (v("dim1", (3, 4), dim=1, start=1, length=2),), "SliceBackward0"),
    OpInfo("gather", lambda lib, x, i, dim: x.gather(dim, i),
           (v("dim1-repeats", (3, 4), Const([[0, 0], [1, 3], [2, 2]]), dim=1),
            v("dim0", (3, 2), Const([[2, 0], [1, 1]]), dim=0)),
           "GatherBackward0"),
    OpInfo("take_along_dim", lambda lib, x, i, dim: lib.take_along_dim(x, i, dim),
           (v("dim1", (3, 4), Const([[0, 0], [1, 3], [2, 2]]), dim=1),), "GatherBackward0"),
    OpInfo("index_select", lambda lib, x, i, dim: x.index_select(dim, i),
           (v("dim0-repeats", (3, 2), Const([2, 0, 2]), dim=0),
            v("dim1", R3, Const([2, 0]), dim=1)),
           "IndexSelectBackward0"),
    # ---- writing into a copy (the in-place write is recorded on the clone)
    OpInfo("setitem", _setitem,
           (v("int", (3, 4), (4,), key=1), v("slice-col-0d", (3, 4), (), key=(slice(1, None), 0)),
            v("ellipsis", (3, 4), (4,), key=Ellipsis, grad_fn="CopyBackwards"),
            v("ellipsis-0d", (3, 4), (), key=Ellipsis, grad_fn="FillBackward3")),
           "CopySlices"),
    OpInfo("setitem-number", lambda lib, x, key: _setitem(lib, x, 2.5, key),
           (v("col", (3, 4), key=(slice(None), 1)),
            v("ellipsis", (3, 4), key=Ellipsis, grad_fn="FillBackward3")),
           "CopySlices"),
    OpInfo("setitem-tensor", lambda lib, x, val, i: _setitem(lib, x, val, i),
           (v("rows", (3, 4), (4,), Const([0, 2])),
            v("mask", (3, 4), (), Const([[True, False, True, False]] * 3))),
           "IndexPutBackward0"),
    OpInfo("write-into-view", _write_into_view,
           tuple(v(name, (3, 4), *shapes, write=name)
                 for name, (_, _, shapes) in VIEW_WRITES.items())
           + (v("view-output", (3, 4), (3,), write="mul_-select-tensor", view_too=True),
              v("view-output-0d", (3, 4), write="mul_-select-0d", view_too=True)),
           "CopySlices"),
    OpInfo("fill_", lambda lib, x, val: x.clone().fill_(val), (v("0d-value", (3, 4), ()),),
           "FillBackward3"),
    OpInfo("zero_", lambda lib, x: x.clone().zero_(), (v("2x3", (2, 3)),), "ZeroBackward0"),
    OpInfo("fill_-number", lambda lib, x: x.clone().fill_(2.5), (v("2x3", (2, 3)),),
           "FillBackward2"),
    OpInfo("copy_", _copy, (v("broadcast", (3, 4), (4,)), v("same", (2, 3), (2, 3))),
           "CopyBackwards"),
    OpInfo("index_put", lambda lib, x, val, i, **kw: x.index_put((i,), val, **kw),
           (v("unique", (3, 4), (2, 4), Const([2, 0])),
            v("accumulate-repeats", (3, 4), (3, 4), Const([0, 0, 2]), accumulate=True)),
           "IndexPutBackward0"),
    OpInfo("masked_fill", lambda lib, x, m: x.masked_fill(m, 0.5),
           (v("number", (3, 4), Const([[True, False, True, False]] * 3)),
            v("broadcast-mask", (3, 4), Const([False, True, True, False]))),
           "MaskedFillBackward0"),
    OpInfo("masked_fill-tensor", lambda lib, x, m, val: x.masked_fill(m, val),
           (v("0d-value", (3, 4), Const([[True, False, True, False]] * 3), ()),),
           "MaskedFillBackward1"),
    OpInfo("scatter", lambda lib, x, i, src: x.scatter(1, i, src),
           (v("src", (3, 4), Const([[0, 1], [3, 1], [2, 0]]), (3, 2)),), "ScatterBackward0"),
    OpInfo("scatter-value", lambda lib, x, i: x.scatter(1, i, 0.5),
           (v("number", (3, 4), Const([[0, 1], [3, 1], [2, 0]])),), "ScatterBackward1"),
    OpInfo("scatter_add", lambda lib, x, i, src: x.scatter_add(1, i, src),
           (v("repeats", (3, 4), Const([[0, 0], [1, 3], [2, 2]]), (3, 2)),),
           "ScatterAddBackward0"),
    # ---- products
    OpInfo("matmul", lambda lib, a, b: a @ b,
           (v("1d-1d", (3,), (3,), grad_fn="DotBackward0"),
            v("2d-2d", (2, 3), (3, 4), grad_fn="MmBackward0"),
            v("2d-1d", (2, 3), (3,), grad_fn="MvBackward0"),
            v("1d-2d", (3,), (3, 2), grad_fn="SqueezeBackward4"),
            v("batched", (2, 2, 3), (2, 3, 4)),
            v("batch-broadcast", (2, 2, 3), (3, 2)),
            v("batch-broadcast-both", (2, 1, 2, 3), (3, 3, 2))),
           "UnsafeViewBackward0"),
    OpInfo("mm", lambda lib, a, b: lib.mm(a, b), (v("2x3-3x4", (2, 3), (3, 4)),), "MmBackward0"),
    OpInfo("bmm", lambda lib, a, b: lib.bmm(a, b), (v("2x2x3-2x3x4", (2, 2, 3), (2, 3, 4)),),
           "BmmBackward0"),
    OpInfo("dot", lambda lib, a, b: lib.dot(a, b), (v("3", (3,), (3,)),), "DotBackward0"),
    OpInfo("outer", lambda lib, a, b: lib.outer(a, b), (v("3-2", (3,), (2,)),), "MulBackward0"),
    OpInfo("addmm", lambda lib, b, x, w, **kw: lib.addmm(b, x, w, **kw),
           (v("bias-row", (4,), (2, 3), (3, 4)), v("full", (2, 4), (2, 3), (3, 4)),
            v("beta-alpha", (4,), (2, 3), (3, 4), beta=0.5, alpha=2.0)),
           "AddmmBackward0"),
    OpInfo("linear", lambda lib, x, w, *b: lib.nn.functional.linear(x, w, *b),
           (v("2d", (2, 3), (4, 3), (4,)),
            v("3d", (2, 2, 3), (4, 3), (4,), grad_fn="ViewBackward0"),
            v("1d", (3,), (4, 3), (4,), grad_fn="ViewBackward0"),
            v("no-bias", (2, 3), (4, 3), grad_fn="MmBackward0")),
           "AddmmBackward0"),
    # ---- activations
    OpInfo("softmax", lambda lib, x, dim: x.softmax(dim),
           (v("dim1", R3, dim=1), v("dim-neg", R3, dim=-1), v("0d", (), dim=0)),
           "SoftmaxBackward0"),
    OpInfo("log_softmax", lambda lib, x, dim: x.log_softmax(dim),
           (v("dim1", R3, dim=1), v("dim-neg", R3, dim=-1), v("0d", (), dim=0)),
           "LogSoftmaxBackward0"),
    OpInfo("softmax-functional", lambda lib, x, dim: lib.nn.functional.softmax(x, dim=dim),
           (v("dim1", (2, 3), dim=1),), "SoftmaxBackward0"),
    OpInfo("erf", lambda lib, x: lib.erf(x), UNARY, "ErfBackward0"),
    _functional("gelu", "GeluBackward0", approximate="tanh"),
    _functional("silu", "SiluBackward0"),
    _functional("logsigmoid", "LogSigmoidBackward0"),
    _functional("leaky_relu", "LeakyReluBackward0", nonzero(), on_points(-1.0, 0.0, 1.0),
                negative_slope=0.2),
    _functional("elu", "EluBackward0", nonzero(), on_points(-1.0, 0.0, 1.0), alpha=0.5),
    _functional("hardtanh", "HardtanhBackward0", away_from(-1.0, 1.0),
                on_points(-1.0, 0.0, 1.0)),
    # softplus switches to x itself where beta * x > threshold: stay away from x = 0.5 there
    _functional("softplus", "SoftplusBackward0", away_from(0.5), beta=2.0, threshold=1.0),
    # ---- recurrent cells: a fused gate update after two matmuls (ops/nn/rnn_cells.py)
    OpInfo("lstm_cell", lambda lib, x, h, c, w_ih, w_hh, *b: lib.lstm_cell(x, (h, c), w_ih, w_hh,
                                                                            *b),
           (v("bias", (2, 3), (2, 4), (2, 4), (16, 3), (16, 4), (16,), (16,)),
            v("no-bias", (2, 3), (2, 4), (2, 4), (16, 3), (16, 4)),
            v("state-nograd", (2, 3), Fixed((2, 4)), Fixed((2, 4)), (16, 3), (16, 4))),
           "MulBackward0"),
    OpInfo("gru_cell", lambda lib, x, h, w_ih, w_hh, *b: lib.gru_cell(x, h, w_ih, w_hh, *b),
           (v("bias", (2, 3), (2, 4), (12, 3), (12, 4), (12,), (12,)),
            v("no-bias", (2, 3), (2, 4), (12, 3), (12, 4)),
            v("state-nograd", (2, 3), Fixed((2, 4)), (12, 3), (12, 4), Fixed((12,)), (12,))),
           "AddBackward0"),
    OpInfo("rnn_tanh_cell", lambda lib, x, h, w_ih, w_hh, *b: lib.rnn_tanh_cell(x, h, w_ih, w_hh,
                                                                                *b),
           (v("bias", (2, 3), (2, 4), (4, 3), (4, 4), (4,), (4,)),), "TanhBackward0"),
    OpInfo("rnn_relu_cell", lambda lib, x, h, w_ih, w_hh, *b: lib.rnn_relu_cell(x, h, w_ih, w_hh,
                                                                                *b),
           (v("bias", (2, 3), (2, 4), (4, 3), (4, 4), (4,), (4,)),), "ReluBackward0",
           nonzero()),
    # ---- losses (ops/nn/loss.py): class targets are constants, class weights positive
    OpInfo("cross_entropy", lambda lib, x, t, *w, **kw: lib.nn.functional.cross_entropy(x, t, *w,
                                                                                         **kw),
           (v("mean", (4, 5), Const([0, 3, 1, 4])), v("sum", (4, 5), Const([0, 3, 1, 4]),
                                                      reduction="sum"),
            v("none", (4, 5), Const([0, 3, 1, 4]), reduction="none"),
            v("ignore", (4, 5), Const([0, -100, 1, 4])),
            v("ignore-in-range", (4, 5), Const([0, 2, 1, 2]), ignore_index=2),
            v("weight", (4, 5), Const([0, 3, 1, 4]), Fixed((5,))),
            v("weight-ignore-none", (4, 5), Const([0, -100, 1, 4]), Fixed((5,)),
              reduction="none"),
            v("unbatched", (5,), Const(3)),
            v("spatial", (2, 3, 2, 2), Const([[[0, 2], [1, 1]], [[2, 2], [0, 1]]]),
              grad_fn="NllLoss2DBackward0"),
            v("spatial-3d", (2, 3, 4), Const([[0, 2, 1, 1], [2, 2, 0, 1]]),
              grad_fn="NllLoss2DBackward0"),
            v("spatial-none", (2, 3, 2, 2), Const([[[0, 2], [1, 1]], [[2, 2], [0, 1]]]),
              reduction="none", grad_fn="NllLoss2DBackward0")),
           "NllLossBackward0", weights_positive),
    OpInfo("nll_loss", lambda lib, x, t, *w, **kw: lib.nn.functional.nll_loss(x, t, *w, **kw),
           (v("mean", (4, 5), Const([0, 3, 1, 4])),
            v("none-ignore", (4, 5), Const([0, -100, 1, 4]), reduction="none"),
            v("weight-sum", (4, 5), Const([0, 3, 1, 4]), Fixed((5,)), reduction="sum"),
            v("spatial", (2, 3, 2, 2), Const([[[0, 2], [1, 1]], [[2, 2], [0, 1]]]),
              grad_fn="NllLoss2DBackward0")),
           "NllLossBackward0", weights_positive),
    OpInfo("mse_loss", lambda lib, x, y, **kw: lib.nn.functional.mse_loss(x, y, **kw),
           (v("mean", (2, 3), (2, 3)), v("sum", (2, 3), (2, 3), reduction="sum"),
            v("none", (2, 3), (2, 3), reduction="none"), v("target-nograd", (2, 3), Fixed((2, 3)))),
           "MseLossBackward0"),
    OpInfo("smooth_l1_loss", lambda lib, x, y, **kw: lib.nn.functional.smooth_l1_loss(x, y, **kw),
           (v("mean", (2, 3), (2, 3)), v("beta-none", (2, 3), (2, 3), beta=0.5, reduction="none"),
            v("sum", (2, 3), (2, 3), beta=2.0, reduction="sum")),
           "SmoothL1LossBackward0"),
    OpInfo("huber_loss", lambda lib, x, y, **kw: lib.nn.functional.huber_loss(x, y, **kw),
           (v("mean", (2, 3), (2, 3)), v("delta-none", (2, 3), (2, 3), delta=0.5, reduction="none"),
            v("sum", (2, 3), (2, 3), delta=2.0, reduction="sum")),
           "HuberLossBackward0"),
    OpInfo("binary_cross_entropy",
           lambda lib, x, y, *w, **kw: lib.nn.functional.binary_cross_entropy(x, y, *w, **kw),
           (v("mean", (2, 3), (2, 3)), v("none", (2, 3), (2, 3), reduction="none"),
            v("weight-sum", (2, 3), Fixed((2, 3)), Fixed((3,)), reduction="sum")),
           "BinaryCrossEntropyBackward0", uniform(0.1, 0.9)),
    OpInfo("binary_cross_entropy_with_logits",
           lambda lib, x, y, *w, **kw: lib.nn.functional.binary_cross_entropy_with_logits(
               x, y, *w, **kw),
           (v("mean", (2, 3), (2, 3)), v("none", (2, 3), (2, 3), reduction="none"),
            v("weight-sum", (2, 3), Fixed((2, 3)), Fixed((3,)), reduction="sum")),
           "BinaryCrossEntropyWithLogitsBackward0", weights_positive),
    OpInfo("binary_cross_entropy_with_logits-pos_weight",
           lambda lib, x, y, pw: lib.nn.functional.binary_cross_entropy_with_logits(
               x, y, pos_weight=pw),
           (v("row", (2, 3), (2, 3), Fixed((3,))),),
           "BinaryCrossEntropyWithLogitsBackward0", weights_positive),
    # ---- copies and conversions
    OpInfo("clone", lambda lib, x: x.clone(), UNARY, "CloneBackward0"),
    # float32 output: the finite differences need a larger step to rise above its rounding
    OpInfo("to", lambda lib, x, dtype: x.to(getattr(lib, dtype)),
           (v("float32", (2, 3), dtype="float32"), v("float32-0d", (), dtype="float32")),
           "ToCopyBackward0", gradcheck_kwargs={"eps": 1e-3, "atol": 1e-4}),
    OpInfo("to-dtype-kwarg", lambda lib, x: x.to(dtype=lib.float32), (v("2x3", (2, 3)),),
           "ToCopyBackward0", gradcheck_kwargs={"eps": 1e-3, "atol": 1e-4}),
    # ---- convolution, pooling, normalization, embedding (ops/nn/conv.py, pooling.py, ...)
    # conv variants reach both column layouts (channels-first: one channel or groups;
    # channels-last otherwise), stride 1 and not, and the input gradient's full-conv and
    # col2im paths (padding beyond the kernel's reach)
    OpInfo("conv2d", lambda lib, x, w, *b, **kw: lib.nn.functional.conv2d(x, w, *b, **kw),
           (v("channels-last", (2, 3, 4, 4), (2, 3, 3, 3), (2,), padding=1),
            v("stride-pad", (1, 2, 5, 4), (2, 2, 3, 2), (2,), stride=2, padding=1),
            v("groups-dilation", (1, 4, 5, 5), (4, 2, 2, 3), groups=2, dilation=2,
              padding=(1, 2)),
            v("one-channel-same", (1, 1, 4, 5), (2, 1, 3, 3), (2,), padding="same",
              dilation=(1, 2)),
            v("channels-last-same", (1, 3, 4, 4), (2, 3, 2, 3), padding="same", dilation=2),
            v("pad-beyond-reach", (1, 4, 3, 3), (2, 4, 2, 2), padding=2),
            v("weight-nograd", (2, 2, 4, 4), Fixed((2, 2, 3, 3)), Fixed((2,))),
            v("input-nograd", Fixed((2, 1, 4, 4)), (2, 1, 3, 3), (2,), padding=1),
            v("unbatched", (3, 4, 4), (2, 3, 3, 3), grad_fn="SqueezeBackward1")),
           "ConvolutionBackward0"),
    OpInfo("conv1d", lambda lib, x, w, *b, **kw: lib.nn.functional.conv1d(x, w, *b, **kw),
           (v("pad", (2, 3, 5), (2, 3, 3), (2,), padding=1),
            v("stride-groups", (1, 4, 7), (2, 2, 3), stride=2, dilation=2, groups=2)),
           "ConvolutionBackward0"),
    # max pooling: distinct values (no ties) for the finite differences; ties on the kinks
    OpInfo("max_pool2d", lambda lib, x, **kw: lib.nn.functional.max_pool2d(x, **kw),
           (v("2x2", (2, 2, 4, 4), kernel_size=2),
            v("overlap-pad", (1, 2, 5, 4), kernel_size=3, stride=1, padding=1),
            v("dilation-ceil-indices", (1, 1, 6, 5), kernel_size=2, stride=2, dilation=2,
              ceil_mode=True, return_indices=True),
            v("unbatched", (2, 4, 4), kernel_size=(2, 1))),
           "MaxPool2DWithIndicesBackward0", distinct(0.1), kinks=on_points(-1.0, 0.0, 1.0)),
    OpInfo("avg_pool2d", lambda lib, x, **kw: lib.nn.functional.avg_pool2d(x, **kw),
           (v("2x2", (2, 2, 4, 4), kernel_size=2),
            v("pad-ceil", (1, 2, 5, 4), kernel_size=3, stride=2, padding=1, ceil_mode=True),
            v("exclude-pad", (1, 2, 5, 4), kernel_size=3, stride=2, padding=1,
              count_include_pad=False),
            v("divisor", (2, 4, 4), kernel_size=2, stride=1, divisor_override=3)),
           "AvgPool2DBackward0"),
    OpInfo("adaptive_avg_pool2d",
           lambda lib, x, size: lib.nn.functional.adaptive_avg_pool2d(x, size),
           (v("uneven", (2, 2, 5, 7), size=(3, 4)), v("grow", (1, 2, 3, 3), size=(4, 5)),
            v("global", (2, 3, 4, 4), size=1, grad_fn="MeanBackward1")),
           "AdaptiveAvgPool2DBackward0"),
    OpInfo("batch_norm",
           lambda lib, x, *wb, **kw: lib.nn.functional.batch_norm(x, None, None, *wb, **kw),
           (v("train-2d", (4, 3), (3,), (3,), training=True),
            v("train-4d", (2, 3, 2, 2), (3,), (3,), training=True),
            v("train-no-affine", (3, 2, 4), training=True)),
           "NativeBatchNormBackward0"),
    OpInfo("batch_norm-eval",
           lambda lib, x, mean, var, w, b: lib.nn.functional.batch_norm(x, mean, var, w, b),
           (v("3d", (2, 3, 4), Fixed((3,)), Fixed((3,)), (3,), (3,)),),
           "NativeBatchNormBackward0",
           per_arg(uniform(), uniform(), uniform(0.5, 2.0), uniform(), uniform())),
    OpInfo("layer_norm",
           lambda lib, x, *wb, shape: lib.nn.functional.layer_norm(x, shape, *wb),
           (v("last", (2, 3, 4), (4,), (4,), shape=(4,)),
            v("two-dims", (2, 3, 4), (3, 4), (3, 4), shape=(3, 4)),
            v("no-affine", (3, 5), shape=(5,))),
           "NativeLayerNormBackward0"),
    OpInfo("embedding", lambda lib, w, i: lib.nn.functional.embedding(i, w),
           (v("repeats", (5, 3), Const([[1, 4, 1], [0, 1, 2]])),
            v("1d", (4, 2), Const([3, 3, 0]))),
           "EmbeddingBackward0"),
]


def all_cases() -> list:
    """(test id, entry, variant) for every variant of every entry."""
    return [case for op in OPS for case in op.cases()]


def make_inputs(lib, op: OpInfo, var: Variant, dtype: str = "float64", seed: int = 0) -> list:
    """The variant's arguments as ``lib`` tensors (the same values for any ``lib``)."""
    arrays = sample_arrays(op, var, seed)
    return to_lib(lib, var, arrays, dtype)


def sample_arrays(op: OpInfo, var: Variant, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return op.domain_of(var)(rng, var.float_shapes())


def to_lib(lib, var: Variant, arrays: list, dtype: str = "float64") -> list:
    out, floats = [], iter(arrays)
    for a in var.args:
        if isinstance(a, Const):
            out.append(lib.tensor(a.value))
        else:
            t = lib.tensor(next(floats), dtype=getattr(lib, dtype))
            out.append(t if isinstance(a, Fixed) else t.requires_grad_())
    return out


# ---- derivatives of any function, for the tests outside the table ------------------------------


def check_derivatives(fn, *inputs, order: int = 2, seed: int = 0, **tolerances) -> None:
    """``gradcheck`` and (``order=2``) ``gradgradcheck`` of ``fn(*tensors)`` in float64.

    Each input is an array, or a shape to sample standard normal values for (from ``seed``).
    gradgradcheck's upstream gradients come from the same seeded generator, so every run checks
    the same numbers. The tolerances (``eps``, ``atol``, ``rtol``) default to 1e-6 each, tighter
    than gradcheck's own defaults.
    """
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(a) if isinstance(a, tuple) else np.asarray(a, np.float64)
              for a in inputs]
    xs = tuple(retrograd.tensor(a, dtype=retrograd.float64, requires_grad=True) for a in arrays)
    tol = {"eps": 1e-6, "atol": 1e-6, "rtol": 1e-6, **tolerances}
    assert gradcheck(fn, xs, **tol)
    if order < 2:
        return
    outs = fn(*xs)
    outs = tuple(outs) if isinstance(outs, (tuple, list)) else (outs,)
    upstream = tuple(retrograd.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype,
                                      requires_grad=True)
                     for o in outs if o.requires_grad)
    assert gradgradcheck(fn, xs, upstream, **tol)


# Entries for one area may live in their own file, tests/optable_<area>.py, defining a list
# ``OPS`` built with the helpers above; they join the table here, so that work on different
# areas does not edit one list. (At the end: those files import this module.)
def _extend_from_area_files() -> None:
    import importlib
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("optable_*.py")):
        OPS.extend(importlib.import_module(path.stem).OPS)


_extend_from_area_files()
