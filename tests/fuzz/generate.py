"""Random programs: the op catalog and the generator.

Each catalog entry is ``(name, weight, make)``; ``make(g)`` returns ``(code, ins)`` (or
``(code, ins, "stmt")`` for a statement) built from the variables ``g`` holds, or ``None`` when
the op does not apply to them. The generator runs every candidate step on PyTorch at once (so
it knows the shapes it builds on) and keeps a step PyTorch refuses only now and then, which then
ends the program: that is how errors and their types get compared.

The op list follows ``tests/optable.py`` (and the unary table of ``ops/unary.py``): elementwise
and unary ops, scalars and broadcasting, reductions with ``dim``/``keepdim``, shape ops and
views, basic/advanced/mask indexing and index assignment, in-place ops on non-leaves and on
views (also under ``no_grad``), the matmul family, softmax, and a few of ``nn.functional``;
``catalog_more.py`` adds scatter/index_put, the recurrent cells, losses, conv1d, pooling,
batch_norm, embedding and dtype conversions.
"""

from __future__ import annotations

import numpy as np

from .program import Input, Program, Step, namespace

# ---- inputs ----------------------------------------------------------------------------------

SPECIAL = np.array([0.0, 0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.0])


def random_shape(rng, ndim=None) -> tuple:
    if ndim is None:
        ndim = int(rng.choice(5, p=[0.15, 0.3, 0.3, 0.15, 0.1]))
    return tuple(int(rng.choice(5, p=[0.04, 0.26, 0.3, 0.25, 0.15])) for _ in range(ndim))


def random_data(rng, shape) -> np.ndarray:
    a = np.round(rng.uniform(-2.0, 2.0, shape), 4)
    if a.size and rng.random() < 0.3:  # kinks and ties: relu at 0, clamp's bounds, max ties
        mask = rng.random(shape) < 0.4
        a = np.where(mask, rng.choice(SPECIAL, shape), a)
    if a.size and rng.random() < 0.03:
        a.flat[int(rng.integers(a.size))] = rng.choice([np.nan, np.inf, -np.inf])
    return np.asarray(a, dtype=np.float64)


def broadcast_partner(rng, shape) -> tuple:
    """A shape that broadcasts with ``shape`` (dims dropped, set to 1, or prepended)."""
    s = list(shape)
    k = int(rng.integers(0, len(s) + 1))
    s = s[k:] if rng.random() < 0.4 else s
    s = [1 if rng.random() < 0.3 else d for d in s]
    if rng.random() < 0.15:
        s = [int(rng.integers(1, 3))] + s
    return tuple(s)


def fits_into(rng, shape) -> tuple:
    """A shape that broadcasts *to* ``shape`` (for in-place ops and index assignment)."""
    s = list(shape)[int(rng.integers(0, len(shape) + 1)):]
    return tuple(1 if rng.random() < 0.3 else d for d in s)


class Skip(Exception):
    """The op chosen does not fit; choose another."""


# ---- the generator's state -------------------------------------------------------------------


class Gen:
    def __init__(self, rng, torch):
        self.rng = rng
        self.torch = torch
        self.ns = namespace(torch)
        self.inputs: list = []
        self.steps: list = []
        self.views: set = set()  # variables made by a view op
        self.view_bases: set = set()  # variables a view op was applied to
        self.n_vars = 0

    # variables
    def t(self, name):
        return self.ns[name]

    def names(self) -> list:
        return [i.name for i in self.inputs] + [s.out for s in self.steps]

    def shape(self, name) -> tuple:
        return tuple(self.ns[name].shape)

    def pick(self, pred=None, recent: bool = True):
        names = [n for n in dict.fromkeys(self.names())
                 if self.ns[n].dtype == self.torch.float64 and self._holds(pred, self.ns[n])]
        if not names:
            return None
        if recent:
            w = 2.0 ** np.arange(len(names))
            return names[int(self.rng.choice(len(names), p=w / w.sum()))]
        return names[int(self.rng.integers(len(names)))]

    @staticmethod
    def _holds(pred, t) -> bool:
        try:
            return pred is None or bool(pred(t))
        except RuntimeError:  # e.g. PyTorch refuses to say the grad_fn of a stale view
            return False

    def new_input(self, shape, requires_grad=None) -> str:
        rng = self.rng
        if requires_grad is None:
            requires_grad = rng.random() < 0.75
        name = f"x{len(self.inputs)}"
        data = random_data(rng, shape)
        self.inputs.append(Input(name, data, bool(requires_grad)))
        self.ns[name] = self.torch.tensor(data, dtype=self.torch.float64,
                                          requires_grad=bool(requires_grad))
        return name

    def operand(self, pred=None, ndim=None):
        """An existing variable (usually) or a fresh input."""
        if ndim is None and self.rng.random() < 0.85:
            n = self.pick(pred)
            if n is not None:
                return n
        if ndim is not None:
            n = self.pick(lambda t: t.dim() == ndim and (pred is None or pred(t)))
            if n is not None and self.rng.random() < 0.6:
                return n
        for _ in range(20):
            shape = random_shape(self.rng, ndim)
            if pred is None or pred(self.torch.zeros(shape, dtype=self.torch.float64)):
                return self.new_input(shape)
        raise Skip

    def partner(self, shape, into: bool = False):
        """A second operand: broadcasts with ``shape`` (or into it when ``into``)."""
        rng = self.rng
        target = fits_into(rng, shape) if into else broadcast_partner(rng, shape)
        if rng.random() < 0.4:
            ok = self.pick(lambda t: tuple(t.shape) == target)
            if ok is not None:
                return ok
        if rng.random() < 0.2:
            same = self.pick(lambda t: tuple(t.shape) == tuple(shape))
            if same is not None:
                return same
        return self.new_input(target)

    # random parameters
    def dim(self, nd: int, allow_bad: bool = True) -> int:
        if allow_bad and self.rng.random() < 0.04:
            return max(nd, 1)  # out of range
        if nd == 0:
            return int(self.rng.choice([0, -1]))
        return int(self.rng.integers(-nd, nd))

    def flag(self, p: float = 0.5) -> bool:
        return bool(self.rng.random() < p)


# ---- the catalog -----------------------------------------------------------------------------

CATALOG: list = []


def op(name, weight=1.0):
    def deco(make):
        CATALOG.append((name, weight, make))
        return make
    return deco


def _unary(name, code, weight=0.4):
    op(name, weight)(lambda g: (code, (g.operand(),)))


for _m in ["neg", "abs", "exp", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh",
           "sigmoid", "relu", "sign", "floor", "ceil", "round", "trunc", "reciprocal", "square",
           "erf"]:
    _unary(_m, f"{{0}}.{_m}()")
for _name, _code in [("F.relu", "F.relu({0})"), ("F.gelu", "F.gelu({0})"),
                     ("F.gelu_tanh", "F.gelu({0}, approximate='tanh')"),
                     ("F.silu", "F.silu({0})"), ("F.elu", "F.elu({0})"),
                     ("F.leaky_relu", "F.leaky_relu({0}, 0.1)"), ("F.relu6", "F.relu6({0})"),
                     ("F.hardtanh", "F.hardtanh({0})"), ("F.softplus", "F.softplus({0})")]:
    _unary(_name, _code, 0.3)
for _name, _code in [("mul_scalar", "{0} * 2.5"), ("div_scalar", "{0} / 3"),
                     ("rdiv_scalar", "2 / {0}"), ("sub_scalar", "{0} - 1"),
                     ("rsub_scalar", "1 - {0}"), ("add_scalar", "{0} + 0.5"),
                     ("pow_2", "{0} ** 2"), ("pow_0", "{0} ** 0"), ("pow_half", "{0} ** 0.5"),
                     ("pow_-1", "{0} ** -1"), ("pow_3", "{0} ** 3"), ("rpow", "2 ** {0}"),
                     ("rpow_0", "0.0 ** {0}"), ("floordiv_scalar", "{0} // 2"),
                     ("mod_scalar", "{0} % 1.5"), ("clamp_min", "{0}.clamp(min=0)"),
                     ("clamp_max", "{0}.clamp(max=0.5)"), ("clamp", "{0}.clamp(-1, 1)"),
                     ("mul1", "{0} * 1"), ("clone", "{0}.clone()"),
                     ("detach", "{0}.detach()")]:
    _unary(_name, _code, {"mul1": 0.8, "clone": 0.8, "floordiv_scalar": 0.1,
                          "mod_scalar": 0.1}.get(_name, 0.3))


def _binary(name, code, weight=0.6):
    def make(g):
        a = g.operand()
        return code, (a, g.partner(g.shape(a)))
    op(name, weight)(make)


for _name, _code in [("add", "{0} + {1}"), ("sub", "{0} - {1}"), ("mul", "{0} * {1}"),
                     ("div", "{0} / {1}"), ("maximum", "torch.maximum({0}, {1})"),
                     ("minimum", "torch.minimum({0}, {1})"), ("pow", "{0} ** {1}"),
                     ("add_alpha", "torch.add({0}, {1}, alpha=2)"),
                     ("where", "torch.where({0} > 0, {0}, {1})"),
                     ("where_other", "torch.where({1} > {0}, {0} * 2, {1})"),
                     ("floordiv", "{0} // {1}"), ("mod", "{0} % {1}")]:
    _binary(_name, _code, 0.15 if _name in ("floordiv", "mod") else 0.6)


# reductions
def _reduction(name, method, keepdim=True, dim_optional=True, extra=""):
    def make(g):
        a = g.operand()
        nd = g.t(a).dim()
        if dim_optional and g.flag(0.3):
            return f"{{0}}.{method}({extra.lstrip(', ')})", (a,)
        kd = f", keepdim={g.flag()}" if keepdim else ""
        return f"{{0}}.{method}({g.dim(nd)}{kd}{extra})", (a,)
    op(name, 0.5)(make)


_reduction("sum", "sum")
_reduction("mean", "mean")
_reduction("prod", "prod")
_reduction("amax", "amax")
_reduction("amin", "amin")
_reduction("var", "var")
_reduction("var_c0", "var", extra=", correction=0")
_reduction("std", "std")
_reduction("logsumexp", "logsumexp", dim_optional=False)
_reduction("cumsum", "cumsum", keepdim=False, dim_optional=False)
_reduction("softmax", "softmax", keepdim=False, dim_optional=False)
_reduction("log_softmax", "log_softmax", keepdim=False, dim_optional=False)
_reduction("norm", "norm", keepdim=True, dim_optional=True, extra="")


@op("max_dim", 0.5)
def _max_dim(g):
    a = g.operand()
    which = "values" if g.flag() else "indices" if g.flag(0.2) else "values"
    fn = "max" if g.flag() else "min"
    return f"{{0}}.{fn}({g.dim(g.t(a).dim())}, keepdim={g.flag()}).{which}", (a,)


@op("max_all", 0.3)
def _max_all(g):
    return ("{0}.max()" if g.flag() else "{0}.min()"), (g.operand(),)


@op("norm_p1", 0.3)
def _norm_p1(g):
    a = g.operand()
    return f"{{0}}.norm(p=1, dim={g.dim(g.t(a).dim())})", (a,)


@op("F.softmax", 0.3)
def _fsoftmax(g):
    a = g.operand()
    fn = "softmax" if g.flag() else "log_softmax"
    return f"F.{fn}({{0}}, dim={g.dim(g.t(a).dim())})", (a,)


# shape ops and views
def _factor(rng, n) -> list:
    dims = []
    while n > 1 and len(dims) < 3:
        divs = [d for d in range(2, n + 1) if n % d == 0]
        d = int(rng.choice(divs))
        dims.append(d)
        n //= d
    if n == 0:
        dims = [0] + ([int(rng.integers(1, 3))] if rng.random() < 0.5 else [])
    if rng.random() < 0.3:
        dims.insert(int(rng.integers(0, len(dims) + 1)), 1)
    rng.shuffle(dims)
    return dims


VIEW_OPS = set()


def view_op(name, weight=0.5):
    VIEW_OPS.add(name)
    return op(name, weight)


@view_op("view")
def _view(g):
    a = g.operand()
    dims = _factor(g.rng, g.t(a).numel())
    if dims and g.flag(0.3):
        dims[int(g.rng.integers(len(dims)))] = -1
    return f"{{0}}.view({', '.join(map(str, dims))})" if dims else "{0}.view(())", (a,)


@op("reshape", 0.4)
def _reshape(g):
    a = g.operand()
    dims = _factor(g.rng, g.t(a).numel())
    return f"{{0}}.reshape({', '.join(map(str, dims)) or '()'})", (a,)


@view_op("reshape_-1", 0.3)
def _reshape_flat(g):
    return "{0}.reshape(-1)", (g.operand(),)


@view_op("flatten", 0.3)
def _flatten(g):
    a = g.operand()
    nd = g.t(a).dim()
    if nd >= 2 and g.flag():
        return f"{{0}}.flatten({g.dim(nd)}, -1)", (a,)
    return "{0}.flatten()", (a,)


@view_op("squeeze", 0.3)
def _squeeze(g):
    a = g.operand()
    return (f"{{0}}.squeeze({g.dim(g.t(a).dim())})" if g.flag() else "{0}.squeeze()"), (a,)


@view_op("unsqueeze", 0.4)
def _unsqueeze(g):
    a = g.operand()
    nd = g.t(a).dim()
    return f"{{0}}.unsqueeze({int(g.rng.integers(-nd - 1, nd + 1))})", (a,)


@view_op("transpose")
def _transpose(g):
    a = g.operand()
    nd = g.t(a).dim()
    return f"{{0}}.transpose({g.dim(nd)}, {g.dim(nd)})", (a,)


@view_op("t", 0.3)
def _t(g):
    return "{0}.t()", (g.operand(lambda t: t.dim() <= 2 or g.flag(0.1)),)


@view_op("mT", 0.3)
def _mT(g):
    return "{0}.mT", (g.operand(lambda t: t.dim() >= 2 or g.flag(0.2)),)


@view_op("permute", 0.4)
def _permute(g):
    a = g.operand()
    perm = list(g.rng.permutation(g.t(a).dim()))
    return f"{{0}}.permute({', '.join(str(int(p)) for p in perm)})", (a,)


@view_op("expand", 0.4)
def _expand(g):
    a = g.operand()
    s = [int(g.rng.integers(2, 4)) if d == 1 and g.flag() else -1 if g.flag(0.3) else d
         for d in g.shape(a)]
    if g.flag(0.4):
        s = [int(g.rng.integers(1, 3))] + s
    return f"{{0}}.expand({', '.join(map(str, s))})" if s else "{0}.expand(())", (a,)


@op("repeat", 0.3)
def _repeat(g):
    a = g.operand()
    reps = [int(g.rng.integers(1, 3)) for _ in range(g.t(a).dim() + int(g.flag(0.3)))]
    return f"{{0}}.repeat({', '.join(map(str, reps)) or '()'})", (a,)


@op("flip", 0.3)
def _flip(g):
    a = g.operand()
    return f"{{0}}.flip({g.dim(g.t(a).dim())})", (a,)


@view_op("narrow", 0.3)
def _narrow(g):
    a = g.operand(lambda t: t.dim() > 0)
    nd = g.t(a).dim()
    d = g.dim(nd, allow_bad=False) if nd else 0
    size = g.shape(a)[d] if nd else 1
    start = int(g.rng.integers(0, size + 1))
    return f"{{0}}.narrow({d}, {start}, {int(g.rng.integers(0, size - start + 1))})", (a,)


@view_op("select", 0.3)
def _select(g):
    a = g.operand(lambda t: t.dim() > 0 and 0 not in t.shape)
    nd = g.t(a).dim()
    d = g.dim(nd, allow_bad=False) if nd else 0
    size = g.shape(a)[d] if nd else 1
    return f"{{0}}.select({d}, {int(g.rng.integers(-size, max(size, 1)))})", (a,)


@view_op("split", 0.3)
def _split(g):
    a = g.operand(lambda t: t.dim() > 0)
    nd = g.t(a).dim()
    d = g.dim(nd, allow_bad=False)
    k = int(g.rng.integers(0, 2))
    if g.flag():
        return f"{{0}}.split({int(g.rng.integers(1, 3))}, {d})[{k}]", (a,)
    return f"{{0}}.chunk({int(g.rng.integers(1, 3))}, {d})[{k}]", (a,)


@view_op("unbind", 0.3)
def _unbind(g):
    a = g.operand(lambda t: t.dim() > 0 and t.shape[0] > 0)
    return "{0}.unbind(0)[0]", (a,)


@op("cat", 0.4)
def _cat(g):
    a = g.operand()
    nd = g.t(a).dim()
    s = list(g.shape(a))
    d = g.dim(nd, allow_bad=False) if nd else 0
    if s:
        s[d] = int(g.rng.integers(0, 3))
    b = g.new_input(tuple(s))
    return f"torch.cat([{{0}}, {{1}}], {d})", (a, b)


@op("stack", 0.3)
def _stack(g):
    a = g.operand()
    b = g.partner(g.shape(a)) if g.flag(0.2) else g.new_input(g.shape(a))
    nd = g.t(a).dim()
    return f"torch.stack([{{0}}, {{1}}], {int(g.rng.integers(-nd - 1, nd + 1))})", (a, b)


@op("contiguous", 0.2)
def _contiguous(g):
    return "{0}.contiguous()", (g.operand(),)


# indexing
def basic_key(g, shape) -> str:
    parts = []
    rng = g.rng
    for size in shape[:int(rng.integers(1, len(shape) + 1))] if shape else []:
        r = rng.random()
        if r < 0.3 and size > 0:
            parts.append(str(int(rng.integers(-size, size))))
        elif r < 0.75:
            lo = int(rng.integers(-size - 1, size + 1))
            hi = int(rng.integers(-size - 1, size + 2))
            step = int(rng.choice([1, 1, 2]))
            parts.append(f"{lo if rng.random() < 0.7 else ''}:{hi if rng.random() < 0.7 else ''}"
                         + (f":{step}" if step > 1 else ""))
        else:
            parts.append(":")
    if rng.random() < 0.15:
        parts.insert(int(rng.integers(0, len(parts) + 1)), "None")
    if rng.random() < 0.15:
        parts.insert(0, "...")
    return ", ".join(parts) if parts else ("..." if rng.random() < 0.5 else "None")


def adv_key(g, shape) -> str:
    rng = g.rng
    if not shape or rng.random() < 0.3:
        return "{0} > 0" if rng.random() < 0.5 else "{0} < 0.5"
    d = int(rng.integers(0, min(2, len(shape))))
    size = shape[d]
    if rng.random() < 0.3:
        mask = [bool(b) for b in rng.random(size) < 0.5]
        idx = f"torch.tensor({mask})"
    else:
        n = int(rng.integers(0, 4))
        vals = [int(v) for v in rng.integers(-size, max(size, 1), n)] if size else []
        idx = f"torch.tensor({vals}, dtype=torch.long)"
    return ", ".join([":"] * d + [idx])


@view_op("getitem", 1.2)
def _getitem(g):
    a = g.operand()
    return f"{{0}}[{basic_key(g, g.shape(a))}]", (a,)


@op("getitem_adv", 0.8)
def _getitem_adv(g):
    a = g.operand()
    return f"{{0}}[{adv_key(g, g.shape(a))}]", (a,)


@op("gather", 0.3)
def _gather(g):
    a = g.operand(lambda t: t.dim() > 0 and 0 not in t.shape)
    s = g.shape(a)
    nd = len(s)
    d = g.dim(nd, allow_bad=False)
    ishape = [int(g.rng.integers(1, n + 1)) for n in s]
    idx = g.rng.integers(0, s[d], ishape).tolist()
    return f"{{0}}.gather({d}, torch.tensor({idx}))", (a,)


@op("index_select", 0.3)
def _index_select(g):
    a = g.operand(lambda t: t.dim() > 0)
    s = g.shape(a)
    d = g.dim(len(s), allow_bad=False)
    n = int(g.rng.integers(0, 4))
    hi = s[d] + (1 if g.flag(0.05) else 0)
    idx = g.rng.integers(0, hi, n).tolist() if hi else []
    return f"{{0}}.index_select({d}, torch.tensor({idx}, dtype=torch.long))", (a,)


@op("masked_fill", 0.3)
def _masked_fill(g):
    a = g.operand()
    return "{0}.masked_fill({0} > 0, 0.5)", (a,)


# in-place ops and index assignment: on non-leaves (often views), sometimes under no_grad
def inplace_target(g):
    if g.flag(0.1):
        return g.operand()  # anything, leaves that require grad included: an error to compare
    ok = lambda t: not (t.is_leaf and t.requires_grad)  # noqa: E731
    r = g.rng.random()
    if g.views and r < 0.7:
        # a view, or the base of one (the view then has to see the write: stale views)
        pool = g.views if r < 0.4 else g.view_bases
        n = g.pick(lambda t: ok(t) and any(t is g.ns[v] for v in pool))
        if n is not None:
            return n
    return g.pick(ok)


def _inplace(name, code, other=False, weight=0.4):
    def make(g):
        a = inplace_target(g)
        if a is None:
            return None
        if other:
            return code, (a, g.partner(g.shape(a), into=True))
        return code, (a,)
    op(name, weight)(make)


for _name, _code in [("add_scalar_", "{0}.add_(1)"), ("mul_scalar_", "{0}.mul_(10)"),
                     ("div_scalar_", "{0}.div_(2)"), ("clamp_", "{0}.clamp_(min=0)"),
                     ("relu_", "{0}.relu_()"), ("exp_", "{0}.exp_()"),
                     ("sigmoid_", "{0}.sigmoid_()"), ("tanh_", "{0}.tanh_()"),
                     ("neg_", "{0}.neg_()"), ("pow_", "{0}.pow_(2)"), ("sqrt_", "{0}.sqrt_()"),
                     ("zero_", "{0}.zero_()"), ("fill_", "{0}.fill_(1.5)"),
                     ("masked_fill_", "{0}.masked_fill_({0} < 0, 0.0)")]:
    _inplace(_name, _code)
for _name, _code in [("add_", "{0}.add_({1})"), ("add_alpha_", "{0}.add_({1}, alpha=2)"),
                     ("sub_", "{0}.sub_({1})"), ("mul_", "{0}.mul_({1})"),
                     ("div_", "{0}.div_({1})"), ("copy_", "{0}.copy_({1})")]:
    _inplace(_name, _code, other=True)


@op("add_self_", 0.2)
def _add_self(g):
    a = inplace_target(g)
    return None if a is None else ("{0}.add_({0}, alpha=2)", (a,))


@op("setitem", 0.8)
def _setitem(g):
    a = inplace_target(g)
    if a is None:
        return None
    key = basic_key(g, g.shape(a)) if g.flag(0.6) else adv_key(g, g.shape(a))
    if g.flag(0.3):
        return f"{{0}}[{key}] = 1.5", (a,), "stmt"
    try:
        shape = tuple(eval(f"_a[{key.format('_a')}]", {**g.ns, "_a": g.t(a)}).shape)
    except Exception:  # noqa: BLE001 - a key that fails is still a program to compare
        shape = ()
    return f"{{0}}[{key}] = {{1}}", (a, g.partner(shape, into=True)), "stmt"


# the matmul family
@op("matmul", 0.8)
def _matmul(g):
    rng = g.rng
    a = g.operand(lambda t: 1 <= t.dim() <= 3)
    s = g.shape(a)
    if not s:
        return None
    n = s[-1]
    m = int(rng.integers(1, 4))
    r = rng.random()
    bshape = (n,) if r < 0.25 else (n, m) if r < 0.8 else (int(rng.integers(1, 3)), n, m)
    b = g.partner(bshape) if g.flag(0.05) else g.new_input(bshape)
    code = "{0} @ {1}" if g.flag() else "torch.matmul({0}, {1})"
    return code, (a, b)


@op("mm", 0.3)
def _mm(g):
    a = g.operand(lambda t: t.dim() == 2, ndim=2)
    b = g.new_input((g.shape(a)[1], int(g.rng.integers(1, 4))))
    if g.flag(0.3):
        c = g.new_input((g.shape(a)[0], g.shape(b)[1]) if g.flag() else (g.shape(b)[1],))
        return "torch.addmm({2}, {0}, {1})", (a, b, c)
    return "{0}.mm({1})", (a, b)


@op("bmm", 0.2)
def _bmm(g):
    a = g.operand(lambda t: t.dim() == 3, ndim=3)
    s = g.shape(a)
    return "torch.bmm({0}, {1})", (a, g.new_input((s[0], s[2], int(g.rng.integers(1, 3)))))


@op("dot_outer", 0.3)
def _dot(g):
    a = g.operand(lambda t: t.dim() == 1, ndim=1)
    if g.flag():
        return "torch.dot({0}, {1})", (a, g.new_input(g.shape(a)))
    return "torch.outer({0}, {1})", (a, g.new_input((int(g.rng.integers(0, 4)),)))


@op("F.linear", 0.4)
def _linear(g):
    a = g.operand(lambda t: 1 <= t.dim() <= 3)
    s = g.shape(a)
    if not s:
        return None
    o = int(g.rng.integers(1, 4))
    w = g.new_input((o, s[-1]))
    if g.flag():
        return "F.linear({0}, {1}, {2})", (a, w, g.new_input((o,)))
    return "F.linear({0}, {1})", (a, w)


# nn.functional
@op("F.cross_entropy", 0.4)
def _cross_entropy(g):
    a = g.operand(lambda t: t.dim() in (1, 2) and t.shape[-1] > 0)
    s = g.shape(a)
    if not s or s[-1] == 0:
        return None
    c = s[-1]
    if len(s) == 1:
        tgt = str(int(g.rng.integers(0, c)))
    else:
        tgt = str(g.rng.integers(0, c, s[0]).tolist())
    red = g.rng.choice(["mean", "sum", "none"])
    ls = ", label_smoothing=0.1" if g.flag(0.2) else ""
    return (f"F.cross_entropy({{0}}, torch.tensor({tgt}), reduction='{red}'{ls})", (a,))


@op("F.mse_loss", 0.3)
def _mse(g):
    a = g.operand()
    b = g.new_input(g.shape(a)) if g.flag(0.8) else g.operand()
    fn = g.rng.choice(["mse_loss", "smooth_l1_loss", "binary_cross_entropy_with_logits"])
    red = g.rng.choice(["mean", "sum", "none"])
    return f"F.{fn}({{0}}, {{1}}, reduction='{red}')", (a, b)


@op("F.layer_norm", 0.3)
def _layer_norm(g):
    a = g.operand(lambda t: t.dim() >= 1)
    s = g.shape(a)
    if not s:
        return None
    k = int(g.rng.integers(1, min(2, len(s)) + 1))
    ns = s[-k:]
    if g.flag():
        return (f"F.layer_norm({{0}}, {ns}, {{1}}, {{2}})",
                (a, g.new_input(ns), g.new_input(ns)))
    return f"F.layer_norm({{0}}, {ns})", (a,)


@op("F.conv2d", 0.3)
def _conv2d(g):
    rng = g.rng
    a = g.pick(lambda t: t.dim() == 4 and t.shape[2] >= 2 and t.shape[3] >= 2)
    if a is None or g.flag(0.5):
        a = g.new_input((int(rng.integers(1, 3)), int(rng.integers(1, 3)),
                         int(rng.integers(2, 5)), int(rng.integers(2, 5))))
    s = g.shape(a)
    k = int(rng.integers(1, 3))
    w = g.new_input((int(rng.integers(1, 3)), s[1], k, k))
    kw = ", stride=2" if g.flag(0.3) else ""
    kw += ", padding=1" if g.flag(0.3) else ""
    if g.flag():
        return f"F.conv2d({{0}}, {{1}}, {{2}}{kw})", (a, w, g.new_input((g.shape(w)[0],)))
    return f"F.conv2d({{0}}, {{1}}{kw})", (a, w)


from . import catalog_more  # noqa: E402, F401 - the rest of the catalog (uses ``op``)

# ---- generating a program --------------------------------------------------------------------

_NAMES = [c[0] for c in CATALOG]
_WEIGHTS = np.array([c[1] for c in CATALOG], dtype=float)
_WEIGHTS /= _WEIGHTS.sum()
INPLACE = {c[0] for c in CATALOG if c[0].endswith("_") or c[0] == "setitem"}


def choose_result(prog: Program, values: dict, torch) -> str | None:
    """The last float variable that requires grad: where backward starts."""
    for s in reversed(prog.steps):
        t = values.get(s.out)
        if isinstance(t, torch.Tensor) and t.dtype == torch.float64 and t.requires_grad:
            return s.out
    return None


def generate(rng, torch, n_steps=None) -> Program:
    """A random program of 3 to 8 steps; the steps run on ``torch`` as they are chosen."""
    import warnings

    if n_steps is None:
        n_steps = int(rng.integers(3, 9))
    g = Gen(rng, torch)
    for _ in range(int(rng.integers(1, 3))):
        g.new_input(random_shape(rng))
    failed = False
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for _ in range(n_steps):
            for _attempt in range(8):
                k = int(rng.choice(len(CATALOG), p=_WEIGHTS))
                name, _, make = CATALOG[k]
                n_inputs, saved = len(g.inputs), dict(g.ns)
                try:
                    made = make(g)
                except Skip:
                    made = None
                if made is None:
                    del g.inputs[n_inputs:]
                    g.ns.clear()
                    g.ns.update(saved)
                    continue
                code, ins = made[0], made[1]
                p_no_grad = 0.3 if name in INPLACE else 0.08
                step = Step(name, code, tuple(ins), f"v{g.n_vars}",
                            stmt=len(made) > 2, no_grad=g.flag(p_no_grad))
                try:
                    exec("\n".join(step.lines()), g.ns)
                except Exception:  # noqa: BLE001
                    if rng.random() < 0.12:  # keep a refused step now and then; it ends the run
                        g.steps.append(step)
                        g.n_vars += 1
                        failed = True
                        break
                    del g.inputs[n_inputs:]
                    g.ns.clear()
                    g.ns.update(saved)
                    continue
                g.steps.append(step)
                g.n_vars += 1
                if name in VIEW_OPS:
                    g.views.add(step.out)
                    g.view_bases.add(step.ins[0])
                break
            if failed:
                break
    prog = Program(g.inputs, g.steps)
    return fit(prog, torch, rng, order2=bool(rng.random() < 0.3), values=None if failed else g.ns)


def fit(prog: Program, torch, rng=None, order2=None, values=None) -> Program:
    """Sets ``result``, ``grad_out`` and the order-2 weights to match the program's shapes
    (run on ``torch``); keeps the old numbers where the shapes still match."""
    import warnings

    if values is None:
        values = {}
        ns = namespace(torch)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                exec("\n".join(prog.input_lines()), ns)
                for s in prog.steps:
                    exec("\n".join(s.lines()), ns)
                values = ns
            except Exception:  # noqa: BLE001 - a program that fails has no backward
                values = {}
    p = prog.copy()
    if order2 is not None:
        p.order2 = order2
    p.result = choose_result(p, values, torch)
    if p.result is None:
        p.grad_out = None
        return p
    shape = tuple(values[p.result].shape)
    p.grad_out = _refit(p.grad_out, shape, rng)
    if p.order2:
        p.weights = {i.name: _refit(p.weights.get(i.name), i.data.shape, rng)
                     for i in p.inputs if i.requires_grad}
    return p


def _refit(old, shape, rng) -> np.ndarray:
    if old is not None and old.shape == shape:
        return old
    if rng is not None:
        return np.round(rng.uniform(-1.0, 1.0, shape), 2)
    if old is None or old.size == 0:
        return np.ones(shape)
    return np.resize(old, shape).astype(np.float64)
