"""Losses (functional forms and modules) against PyTorch on the same data: values, input
gradients, second derivatives, PyTorch's semantics at the edges (ignored rows, label smoothing,
weights, clamped logs) and its errors; plus float64 gradchecks."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import retrograd
import retrograd.nn as nn
from retrograd.autograd import gradcheck, gradgradcheck

F = nn.functional


def _t(lib, a, requires_grad=False):
    a = np.asarray(a)
    return lib.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f")


def _run(lib, fn, arrays, grad_args, kwargs, upstream_seed=5):
    """fn(*tensors, **kwargs) on lib; returns the output and the grads of ``grad_args``."""
    ts = [_t(lib, a, i in grad_args) for i, a in enumerate(arrays)]
    kw = {k: (_t(lib, v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
    out = fn(lib)(*ts, **kw)
    up = np.random.default_rng(upstream_seed).standard_normal(tuple(out.shape))
    wrt = [ts[i] for i in grad_args]
    grads = lib.autograd.grad(out, wrt, _t(lib, up)) if wrt else ()
    return out, grads


def _check(torch, fn, arrays, grad_args=(0,), rtol=1e-10, atol=1e-12, **kwargs):
    ours, ours_g = _run(retrograd, fn, arrays, grad_args, kwargs)
    theirs, theirs_g = _run(torch, fn, arrays, grad_args, kwargs)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol, atol)
    for a, b in zip(ours_g, theirs_g):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol, atol)
    return ours


def _f(name):
    return lambda lib: getattr(lib.nn.functional, name)


# ---- cross entropy with class indices ------------------------------------------------------


CE_SHAPES = [((6, 5), (6,)), ((2, 4, 3), (2, 3)), ((2, 3, 2, 2), (2, 2, 2)), ((5,), ())]


@pytest.mark.parametrize("shapes", CE_SHAPES, ids=["2d", "3d", "4d", "unbatched"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", ["plain", "weight", "ignore", "smooth", "all"])
def test_cross_entropy_indices_match_torch(torch_ref, shapes, reduction, options):
    rng = np.random.default_rng(0)
    x_shape, t_shape = shapes
    classes = x_shape[1] if len(x_shape) > 1 else x_shape[0]
    x = rng.standard_normal(x_shape)
    t = rng.integers(0, classes, t_shape)
    kwargs = {"reduction": reduction}
    if options in ("weight", "all"):
        kwargs["weight"] = rng.uniform(0.5, 2.0, classes)
    if options in ("ignore", "all") and t.ndim:
        t.flat[1] = 2
        kwargs["ignore_index"] = 2
    if options in ("smooth", "all"):
        kwargs["label_smoothing"] = 0.15
    _check(torch_ref, _f("cross_entropy"), [x, t], **kwargs)


def test_cross_entropy_float32_and_node(torch_ref):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 10)).astype(np.float32)
    t = rng.integers(0, 10, 8)
    out = _check(torch_ref, _f("cross_entropy"), [x, t], rtol=1e-5, atol=1e-6)
    assert out.dtype == retrograd.float32
    assert type(out.grad_fn).__name__ == "NllLossBackward0"
    big = np.array([[1000.0, -1000.0, 0.0]], dtype=np.float32)  # stable for huge logits
    _check(torch_ref, _f("cross_entropy"), [big, np.array([1])], rtol=1e-6)


def test_cross_entropy_all_ignored_gives_nan_mean_and_zero_sum(torch_ref):
    x = np.random.default_rng(0).standard_normal((3, 4))
    t = np.full(3, -100)
    for reduction, want in [("mean", np.nan), ("sum", 0.0)]:
        ours = F.cross_entropy(_t(retrograd, x, True), _t(retrograd, t), reduction=reduction)
        theirs = torch_ref.nn.functional.cross_entropy(_t(torch_ref, x), _t(torch_ref, t),
                                                       reduction=reduction)
        np.testing.assert_equal(ours.item(), theirs.item())
        np.testing.assert_equal(ours.item(), want)


@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.2}, {"reduction": "none"},
                                    {"reduction": "sum", "label_smoothing": 0.1}])
def test_cross_entropy_probabilities_match_torch(torch_ref, kwargs):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3, 2))
    p = rng.uniform(0, 1, (4, 3, 2))
    p /= p.sum(1, keepdims=True)
    _check(torch_ref, _f("cross_entropy"), [x, p], grad_args=(0, 1), **kwargs)
    _check(torch_ref, _f("cross_entropy"), [x, p], weight=rng.uniform(0.5, 2, 3), **kwargs)


def test_cross_entropy_second_derivative_matches_torch(torch_ref):
    """Hessian-vector products (create_graph path), with weights and smoothing."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5))
    t = np.array([0, 3, -100, 1])
    v = rng.standard_normal((4, 5))
    w = rng.uniform(0.5, 2, 5)
    for kwargs in [{}, {"label_smoothing": 0.3, "weight": w}, {"reduction": "none"}]:
        results = []
        for lib in (retrograd, torch_ref):
            xt = _t(lib, x, True)
            kw = {k: _t(lib, a) if isinstance(a, np.ndarray) else a for k, a in kwargs.items()}
            loss = lib.nn.functional.cross_entropy(xt, _t(lib, t), **kw).sum()
            (g,) = lib.autograd.grad(loss, [xt], create_graph=True)
            (hv,) = lib.autograd.grad((g * _t(lib, v)).sum(), [xt])
            results.append((g.detach().numpy(), hv.numpy()))
        np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 5), (5,), (3, 5, 2)])
@pytest.mark.parametrize("kwargs", [{}, {"reduction": "none"}, {"reduction": "sum"},
                                    {"label_smoothing": 0.3, "ignore_index": 1},
                                    {"weight": "w", "ignore_index": 0}])
def test_cross_entropy_fast_and_graph_backward_agree(shape, kwargs):
    """fast_backward (arrays, from forward's log-softmax; runs without create_graph) and
    backward (tensor ops; runs with create_graph) give the same input gradient."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape)
    t = rng.integers(0, 5, shape[:1] + shape[2:] if len(shape) > 1 else ())
    kw = {k: _t(retrograd, rng.uniform(0.5, 2, 5)) if v == "w" else v for k, v in kwargs.items()}
    up = rng.standard_normal(t.shape if kwargs.get("reduction") == "none" else ())
    grads = []
    for create_graph in (False, True):
        xt = _t(retrograd, x, True)
        loss = F.cross_entropy(xt, _t(retrograd, t), **kw)
        (g,) = retrograd.autograd.grad(loss, [xt], _t(retrograd, up), create_graph=create_graph)
        assert g.requires_grad == create_graph
        grads.append(g.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.2, "ignore_index": 1},
                                    {"reduction": "none"}])
def test_cross_entropy_gradcheck(kwargs):
    rng = np.random.default_rng(4)
    x = retrograd.tensor(rng.standard_normal((3, 4, 2)), requires_grad=True)
    t = retrograd.tensor(rng.integers(0, 4, (3, 2)))
    w = retrograd.tensor(rng.uniform(0.5, 2, 4))

    def f(x):
        return F.cross_entropy(x, t, weight=w, **kwargs)

    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))
    p = retrograd.tensor(rng.uniform(0, 1, (3, 4)), requires_grad=True)
    x2 = retrograd.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, label_smoothing=0.1), (x2, p))


def test_nll_loss_matches_torch_and_gradchecks(torch_ref):
    rng = np.random.default_rng(5)
    logp = np.log(rng.dirichlet(np.ones(4), size=6))
    t = rng.integers(0, 4, 6)
    t[2] = -100
    for kwargs in [{}, {"reduction": "none"}, {"weight": rng.uniform(0.5, 2, 4)},
                   {"reduction": "sum", "ignore_index": 0}]:
        target = np.where(t < 0, 0, t) if "ignore_index" in kwargs else t
        _check(torch_ref, _f("nll_loss"), [logp, target], **kwargs)
    x4 = rng.standard_normal((2, 4, 3, 2))
    t4 = rng.integers(0, 4, (2, 3, 2))
    _check(torch_ref, _f("nll_loss"), [x4, t4], reduction="none")
    xt = retrograd.tensor(x4, requires_grad=True)
    assert gradcheck(lambda a: F.nll_loss(a, retrograd.tensor(t4)), (xt,))
    assert gradgradcheck(lambda a: F.nll_loss(a, retrograd.tensor(t4), reduction="none"), (xt,))


# ---- class-index errors --------------------------------------------------------------------


def _error(lib, fn, *args, **kwargs):
    with pytest.raises(Exception) as info:
        fn(lib)(*args, **kwargs)
    return info.type, str(info.value)


@pytest.mark.parametrize("case", [
    "index-high", "index-negative", "batch-mismatch", "spatial-mismatch", "int32-target",
    "float-target-wrong-shape", "weight-shape", "reduction", "smoothing",
])
def test_cross_entropy_errors_match_torch(torch_ref, case):
    x = np.zeros((3, 4))
    t = np.array([0, 1, 3])
    args, kwargs = {
        "index-high": ([x, np.array([0, 1, 4])], {}),
        "index-negative": ([x, np.array([0, -2, 1])], {}),
        "batch-mismatch": ([x, np.array([0, 1])], {}),
        "spatial-mismatch": ([np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=np.int64)], {}),
        "int32-target": ([x, t.astype(np.int32)], {}),
        "float-target-wrong-shape": ([x, t.astype(np.float64)], {}),
        "weight-shape": ([x, t], {"weight": np.ones(3)}),
        "reduction": ([x, t], {"reduction": "avg"}),
        "smoothing": ([x, t], {"label_smoothing": 1.5}),
    }[case]
    results = []
    for lib in (retrograd, torch_ref):
        ts = [_t(lib, a) for a in args]
        kw = {k: _t(lib, v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        results.append(_error(lib, _f("cross_entropy"), *ts, **kw))
    (ours_type, ours), (their_type, theirs) = results
    assert ours_type is their_type
    key = theirs.split(" (")[0].split(";")[0].rstrip(".")
    assert key in ours, (ours, theirs)


def test_out_of_range_index_message_is_clear():
    x = retrograd.zeros(3, 4, requires_grad=True)
    with pytest.raises(IndexError, match=r"Target 7 is out of bounds.*\[0, 3\]"):
        F.cross_entropy(x, retrograd.tensor([0, 7, 1]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.nll_loss(x, retrograd.tensor([0, -1, 1]))
    # ignore_index outside the class range is not an error
    assert F.cross_entropy(x, retrograd.tensor([0, -100, 1])).item() == pytest.approx(np.log(4))
    assert x.grad is None  # nothing was recorded by the failed calls


# ---- regression losses ---------------------------------------------------------------------


@pytest.mark.parametrize("name, extra", [
    ("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.3}),
    ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {}), ("huber_loss", {"delta": 0.4}),
])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_match_torch(torch_ref, name, extra, reduction):
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    _check(torch_ref, _f(name), [x, y], grad_args=(0, 1), reduction=reduction, **extra)
    xr = retrograd.tensor(x, requires_grad=True)
    yr = retrograd.tensor(y, requires_grad=True)
    fn = getattr(F, name)
    assert gradcheck(lambda a, b: fn(a, b, reduction=reduction, **extra), (xr, yr))
    if not (name == "smooth_l1_loss" and extra.get("beta") == 0.0) and name != "l1_loss":
        assert gradgradcheck(lambda a, b: fn(a, b, reduction=reduction, **extra), (xr, yr))


def test_regression_kinks_match_torch(torch_ref):
    # differences exactly 0 and exactly at beta / delta: PyTorch's choice of (sub)gradient
    x = np.array([0.0, 1.0, -1.0, 0.5, 2.0])
    y = np.array([0.0, 0.0, 0.0, 0.0, 1.5])
    for name, kw in [("l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
                     ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {"delta": 0.5}),
                     ("mse_loss", {})]:
        _check(torch_ref, _f(name), [x, y], grad_args=(0, 1), **kw)


def test_regression_float32_broadcast_warning_and_errors():
    x = retrograd.randn(3, 4, requires_grad=True)
    out = F.mse_loss(x, retrograd.randn(3, 4))
    assert out.dtype == retrograd.float32 and type(out.grad_fn).__name__ == "MseLossBackward0"
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(x, retrograd.randn(4))
    with pytest.raises(RuntimeError, match="do not broadcast"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        F.l1_loss(x, retrograd.randn(5))
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(x, x.detach(), beta=-1.0)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        F.huber_loss(x, x.detach(), delta=0.0)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(x, x.detach(), reduction="avg")
    with pytest.raises(TypeError, match="must be Tensor"):
        F.mse_loss(x, [1.0])


def test_legacy_size_average_and_reduce_flags(torch_ref):
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    for flags in [{"size_average": False}, {"reduce": False}, {"size_average": True}]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _check(torch_ref, _f("mse_loss"), [x, y], **flags)
            ours = nn.MSELoss(**flags)
            theirs = torch_ref.nn.MSELoss(**flags)
        assert ours.reduction == theirs.reduction


# ---- binary cross entropy ------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_matches_torch(torch_ref, reduction):
    rng = np.random.default_rng(8)
    p, y = rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3))
    _check(torch_ref, _f("binary_cross_entropy"), [p, y], grad_args=(0, 1), reduction=reduction)
    _check(torch_ref, _f("binary_cross_entropy"), [p, y], weight=rng.uniform(0.5, 2, 3),
           reduction=reduction)
    pr = retrograd.tensor(p, requires_grad=True)
    yr = retrograd.tensor(y, requires_grad=True)
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), (pr, yr))
    assert gradgradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
                         (pr, yr))


def test_binary_cross_entropy_clamps_the_log_at_minus_100(torch_ref):
    p = np.array([0.0, 1.0, 0.5, 0.0, 1.0])
    y = np.array([0.0, 1.0, 0.5, 1.0, 0.0])
    # gradients there are +-1e12 (the 1e-12 floor of x (1 - x)): compare them relatively
    out = _check(torch_ref, _f("binary_cross_entropy"), [p, y], reduction="none", rtol=1e-8)
    assert out.tolist()[3:] == [100.0, 100.0]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_matches_torch(torch_ref, reduction):
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((4, 3)) * 3, rng.uniform(0, 1, (4, 3))
    fn = _f("binary_cross_entropy_with_logits")
    _check(torch_ref, fn, [x, y], grad_args=(0, 1), reduction=reduction)
    _check(torch_ref, fn, [x, y], grad_args=(0, 1), reduction=reduction,
           weight=rng.uniform(0.5, 2, 3), pos_weight=rng.uniform(0.5, 3, 3))
    xr = retrograd.tensor(x, requires_grad=True)
    yr = retrograd.tensor(y, requires_grad=True)
    w = retrograd.tensor(rng.uniform(0.5, 2, 3), requires_grad=True)
    pw = retrograd.tensor(rng.uniform(0.5, 3, 3), requires_grad=True)

    def f(a, b, w, pw):
        return F.binary_cross_entropy_with_logits(a, b, weight=w, pos_weight=pw,
                                                  reduction=reduction)

    # retrograd also differentiates the weights (PyTorch refuses): checked by differences
    assert gradcheck(f, (xr, yr, w, pw))
    assert gradgradcheck(f, (xr, yr, w, pw))


def test_bce_with_logits_is_stable_and_exact_at_zero(torch_ref):
    x = np.array([0.0, 0.0, 100.0, -100.0, 800.0, -800.0])
    y = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.0])
    fn = _f("binary_cross_entropy_with_logits")
    out = _check(torch_ref, fn, [x, y], grad_args=(0, 1), reduction="none")
    assert np.isfinite(out.detach().numpy()).all()
    _check(torch_ref, fn, [x.astype(np.float32), y.astype(np.float32)], reduction="none",
           rtol=1e-6)


def test_binary_errors_match_torch(torch_ref):
    for name, args in [
        ("binary_cross_entropy", [np.array([0.5, 1.5]), np.array([0.0, 1.0])]),
        ("binary_cross_entropy", [np.full((2, 1), 0.5), np.array([0.0, 1.0])]),
        ("binary_cross_entropy_with_logits", [np.zeros((2, 1)), np.array([0.0, 1.0])]),
    ]:
        ours = _error(retrograd, _f(name), *[_t(retrograd, a) for a in args])
        theirs = _error(torch_ref, _f(name), *[_t(torch_ref, a) for a in args])
        assert ours[0] is theirs[0] and theirs[1].split(" (")[0] in ours[1]


# ---- modules -------------------------------------------------------------------------------


MODULES = [
    ("MSELoss", {}, "reg"), ("L1Loss", {"reduction": "sum"}, "reg"),
    ("SmoothL1Loss", {"beta": 0.5}, "reg"), ("HuberLoss", {"delta": 0.5}, "reg"),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 0}, "cls"),
    ("CrossEntropyLoss", {"weight": "w"}, "cls"), ("NLLLoss", {"weight": "w"}, "cls"),
    ("BCELoss", {"reduction": "none"}, "prob"), ("BCEWithLogitsLoss", {"pos_weight": "w"}, "bin"),
]


@pytest.mark.parametrize("name, kwargs, kind", MODULES)
def test_loss_modules_match_torch(torch_ref, name, kwargs, kind):
    rng = np.random.default_rng(10)
    w = rng.uniform(0.5, 2, 3)
    x = rng.standard_normal((4, 3))
    target = {"reg": rng.standard_normal((4, 3)), "cls": rng.integers(0, 3, 4),
              "prob": rng.uniform(0, 1, (4, 3)), "bin": rng.uniform(0, 1, (4, 3))}[kind]
    if kind == "prob":
        x = rng.uniform(0.1, 0.9, (4, 3))
    outs = []
    for lib in (retrograd, torch_ref):
        kw = {k: (_t(lib, w) if v == "w" else v) for k, v in kwargs.items()}
        module = getattr(lib.nn, name)(**kw)
        xt = _t(lib, x, True)
        loss = module(xt, _t(lib, target))
        loss.sum().backward()
        outs.append((loss.detach().numpy(), xt.grad.numpy(), repr(module),
                     list(module.state_dict())))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-10)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-10, atol=1e-12)
    assert outs[0][2] == outs[1][2]  # repr
    assert outs[0][3] == outs[1][3]  # the weight buffers are state


def test_loss_module_rejects_bad_reduction_early():
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.CrossEntropyLoss(reduction="avg")


def test_training_step_with_cross_entropy_reduces_the_loss():
    retrograd.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    x = retrograd.randn(32, 4)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(60):
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        with retrograd.no_grad():
            for p in model.parameters():
                p.sub_(p.grad * 0.5)
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_every_combination_of_options_is_finite():
    rng = np.random.default_rng(11)
    x = retrograd.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    t = retrograd.tensor([0, 1, -100, 3, 2])
    w = retrograd.tensor(rng.uniform(0.5, 2, 4))
    for weight, smooth, red in itertools.product([None, w], [0.0, 0.5, 1.0],
                                                 ["mean", "sum", "none"]):
        out = F.cross_entropy(x, t, weight=weight, label_smoothing=smooth, reduction=red)
        (g,) = retrograd.autograd.grad(out.sum(), [x])
        assert np.isfinite(out.detach().numpy()).all() and np.isfinite(g.numpy()).all()
        assert g.numpy()[2].tolist() == [0.0] * 4  # the ignored row gets no gradient
