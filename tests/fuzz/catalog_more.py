"""More of the op catalog (imported by ``generate.py``, which owns ``op``): sum_to_size,
take_along_dim, scatter/scatter_add/index_put, the recurrent cells, more losses, conv1d,
pooling, batch_norm (training, with and without running statistics, and evaluation),
embedding and dtype conversions. Indices are drawn so that results do not depend on which of
several writes to one place wins (PyTorch leaves that unspecified)."""

from __future__ import annotations

import numpy as np

from .generate import fits_into, op


def _shape_text(s) -> str:
    return "[" + ", ".join(map(str, s)) + "]"


@op("sum_to_size", 0.3)
def _sum_to_size(g):
    a = g.operand()
    target = fits_into(g.rng, g.shape(a))
    return f"{{0}}.sum_to_size({_shape_text(target)})", (a,)


def _index_for(g, shape, d, unique: bool) -> tuple:
    """An index tensor's text and shape for gather-like ops along ``d`` of ``shape``: each dim
    at most the input's, values in range (distinct along ``d`` when ``unique``)."""
    rng = g.rng
    ishape = [int(rng.integers(1, n + 1)) for n in shape]
    if unique:
        full = [n if i == d else ishape[i] for i, n in enumerate(shape)]
        idx = np.argsort(rng.random(full), axis=d)
        idx = np.take(idx, range(ishape[d]), axis=d)
    else:
        idx = rng.integers(0, shape[d], ishape)
    return f"torch.tensor({idx.tolist()})", tuple(ishape)


def _nonempty(t) -> bool:
    return t.dim() > 0 and 0 not in t.shape


@op("take_along_dim", 0.3)
def _take_along_dim(g):
    a = g.operand(_nonempty)
    s = g.shape(a)
    d = g.dim(len(s), allow_bad=False)
    idx, _ = _index_for(g, s, d, unique=False)
    return f"torch.take_along_dim({{0}}, {idx}, dim={d})", (a,)


@op("scatter", 0.3)
def _scatter(g):
    a = g.operand(_nonempty)
    s = g.shape(a)
    d = g.dim(len(s), allow_bad=False)
    add = g.flag()
    idx, ishape = _index_for(g, s, d, unique=not add)
    src = g.new_input(ishape) if g.flag(0.8) else g.partner(ishape, into=True)
    fn = "scatter_add" if add else "scatter"
    if g.flag(0.3):
        return f"torch.{fn}({{0}}, {d}, {idx}, {{1}})", (a, src)
    return f"{{0}}.{fn}({d}, {idx}, {{1}})", (a, src)


@op("scatter_", 0.2)
def _scatter_(g):
    from .generate import inplace_target

    a = inplace_target(g)
    if a is None or not _nonempty(g.t(a)):
        return None
    s = g.shape(a)
    d = g.dim(len(s), allow_bad=False)
    add = g.flag()
    idx, ishape = _index_for(g, s, d, unique=not add)
    fn = "scatter_add_" if add else "scatter_"
    return f"{{0}}.{fn}({d}, {idx}, {{1}})", (a, g.new_input(ishape))


@op("index_put", 0.3)
def _index_put(g):
    a = g.operand(_nonempty)
    s = g.shape(a)
    acc = g.flag()
    n = int(g.rng.integers(0, s[0] + 1))
    rows = (g.rng.integers(0, s[0], n) if acc else g.rng.permutation(s[0])[:n]).tolist()
    vals = g.partner((n,) + s[1:], into=True)
    return (f"{{0}}.index_put((torch.tensor({rows}, dtype=torch.long),), {{1}}, "
            f"accumulate={acc})", (a, vals))


# ---- recurrent cells, with weights as inputs -------------------------------------------------


@op("rnn_cell", 0.4)
def _rnn_cell(g):
    rng = g.rng
    b, i, h = (int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 3)))
    kind = str(rng.choice(["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]))
    gates = {"lstm_cell": 4, "gru_cell": 3}.get(kind, 1)
    x = g.pick(lambda t: tuple(t.shape) == (b, i)) or g.new_input((b, i))
    hx = g.new_input((b, h))
    w_ih, w_hh = g.new_input((gates * h, i)), g.new_input((gates * h, h))
    ins = [x, hx, w_ih, w_hh]
    bias = ""
    if g.flag(0.7):
        ins += [g.new_input((gates * h,)), g.new_input((gates * h,))]
        bias = ", {4}, {5}"
    if kind == "lstm_cell":
        ins.insert(2, g.new_input((b, h)))  # the cell state: {2}, weights move up one
        bias = bias.replace("{5}", "{6}").replace("{4}", "{5}")
        out = int(rng.integers(0, 2))
        return f"torch.lstm_cell({{0}}, ({{1}}, {{2}}), {{3}}, {{4}}{bias})[{out}]", tuple(ins)
    return f"torch.{kind}({{0}}, {{1}}, {{2}}, {{3}}{bias})", tuple(ins)


# ---- losses ----------------------------------------------------------------------------------


def _reduction(g) -> str:
    return str(g.rng.choice(["mean", "sum", "none"]))


@op("F.nll_loss", 0.3)
def _nll_loss(g):
    a = g.operand(lambda t: t.dim() in (1, 2) and t.shape[-1] > 0)
    s = g.shape(a)
    c = s[-1]
    tgt = str(int(g.rng.integers(0, c))) if len(s) == 1 else str(
        g.rng.integers(0, c, s[0]).tolist())
    ins, extra = [a], ""
    if g.flag(0.3):
        ins.append(g.new_input((c,), requires_grad=False))
        extra += ", weight={1}"
    if g.flag(0.2):
        extra += f", ignore_index={int(g.rng.integers(0, c))}"
    return (f"F.nll_loss({{0}}, torch.tensor({tgt}), reduction='{_reduction(g)}'{extra})",
            tuple(ins))


@op("F.regression_loss", 0.4)
def _regression_loss(g):
    a = g.operand()
    b = g.new_input(g.shape(a)) if g.flag(0.8) else g.partner(g.shape(a), into=True)
    fn = str(g.rng.choice(["huber_loss", "smooth_l1_loss", "l1_loss"]))
    extra = {"huber_loss": ", delta=0.5", "smooth_l1_loss": ", beta=0.5"}.get(fn, "")
    if not g.flag(0.5):
        extra = ""
    return f"F.{fn}({{0}}, {{1}}, reduction='{_reduction(g)}'{extra})", (a, b)


@op("F.binary_cross_entropy", 0.3)
def _bce(g):
    a = g.operand()
    b = g.new_input(g.shape(a))
    red = _reduction(g)
    if g.flag():
        return f"F.binary_cross_entropy({{0}}.sigmoid(), {{1}}.sigmoid(), reduction='{red}')", (
            a, b)
    pw = f", pos_weight={g.new_input(g.shape(a)[-1:])}" if g.flag(0.3) else ""
    ins = (a, b)
    if pw:
        ins = (a, b, g.inputs[-1].name)
        pw = ", pos_weight={2}"
    return f"F.binary_cross_entropy_with_logits({{0}}, {{1}}.sigmoid(), reduction='{red}'{pw})", ins


# ---- conv1d, pooling, batch_norm, embedding ---------------------------------------------------


@op("F.conv1d", 0.3)
def _conv1d(g):
    rng = g.rng
    a = g.pick(lambda t: t.dim() == 3 and t.shape[2] >= 2)
    if a is None or g.flag(0.5):
        a = g.new_input((int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(2, 6))))
    s = g.shape(a)
    k = int(rng.integers(1, 4))
    w = g.new_input((int(rng.integers(1, 3)), s[1], k))
    kw = ", stride=2" if g.flag(0.3) else ""
    kw += ", padding=1" if g.flag(0.3) else ""
    if g.flag():
        return f"F.conv1d({{0}}, {{1}}, {{2}}{kw})", (a, w, g.new_input((g.shape(w)[0],)))
    return f"F.conv1d({{0}}, {{1}}{kw})", (a, w)


@op("F.pool2d", 0.4)
def _pool2d(g):
    rng = g.rng
    a = g.pick(lambda t: t.dim() in (3, 4) and t.shape[-1] >= 2 and t.shape[-2] >= 2)
    if a is None or g.flag(0.5):
        a = g.new_input((int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(2, 5)),
                         int(rng.integers(2, 5))))
    k = int(rng.integers(1, 3))
    kw = f", stride={int(rng.integers(1, 3))}" if g.flag(0.4) else ""
    kw += ", padding=1" if k == 2 and g.flag(0.3) else ""
    if g.flag():
        kw += ", ceil_mode=True" if g.flag(0.2) else ""
        return f"F.max_pool2d({{0}}, {k}{kw})", (a,)
    kw += ", count_include_pad=False" if "padding" in kw and g.flag() else ""
    return f"F.avg_pool2d({{0}}, {k}{kw})", (a,)


@op("F.batch_norm", 0.4)
def _batch_norm(g):
    rng = g.rng
    a = g.pick(lambda t: t.dim() in (2, 3, 4) and t.shape[1] > 0 and t.numel() > t.shape[1])
    if a is None or g.flag(0.4):
        a = g.new_input((int(rng.integers(2, 4)), int(rng.integers(1, 4)))
                        + ((int(rng.integers(1, 4)),) if g.flag() else ()))
    c = g.shape(a)[1]
    ins = [a]
    affine = ""
    if g.flag(0.7):
        ins += [g.new_input((c,)), g.new_input((c,))]
        affine = ", {1}, {2}"
    mode = rng.random()
    if mode < 0.4:
        return f"F.batch_norm({{0}}, None, None{affine}, training=True)", tuple(ins)
    k = len(ins)
    ins += [g.new_input((c,), requires_grad=False), g.new_input((c,), requires_grad=False)]
    stats = f"{{{k}}}, {{{k + 1}}}"
    w_b = affine.replace(", {1}, {2}", ", weight={1}, bias={2}")
    if mode < 0.7:  # training: the running statistics are updated in place
        return f"F.batch_norm({{0}}, {stats}{w_b}, training=True, momentum=0.3)", tuple(ins)
    return (f"F.batch_norm({{0}}, {{{k}}}, {{{k + 1}}}.abs() + 0.1{w_b}, training=False)",
            tuple(ins))


@op("F.embedding", 0.3)
def _embedding(g):
    rng = g.rng
    w = g.pick(lambda t: t.dim() == 2 and t.shape[0] > 0)
    if w is None or g.flag(0.5):
        w = g.new_input((int(rng.integers(1, 5)), int(rng.integers(1, 4))))
    n = g.shape(w)[0]
    idx = rng.integers(0, n, [int(rng.integers(1, 4)) for _ in range(int(rng.integers(1, 3)))])
    pad = f", padding_idx={int(rng.integers(0, n))}" if g.flag(0.3) else ""
    return f"F.embedding(torch.tensor({idx.tolist()}), {{0}}{pad})", (w,)


# ---- dtype conversions -----------------------------------------------------------------------

for _name, _code in [("to_f32_f64", "{0}.to(torch.float32).to(torch.float64)"),
                     ("to_same", "{0}.to(torch.float64)"), ("double", "{0}.double()"),
                     ("float", "{0}.float() * 2"), ("to_dtype_kw", "{0}.to(dtype=torch.float32)")]:
    op(_name, 0.15)(lambda g, code=_code: (code, (g.operand(),)))
