"""The layers added for issue 8 (activations, padding, transposed convolution, group / instance /
RMS norm, upsampling, shuffles, distances, feature dropout, more losses): each module against
torch's on the same weights and data (forward, input and parameter gradients, repr, state_dict
keys), the losses against torch's functional forms with gradchecks, and PyTorch's error types.
The functional forms with a node of their own are also in tests/optable_nnlayers.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from optable import check_derivatives

import retrograd
import retrograd.nn as nn
import retrograd.nn.functional as F


def _t(lib, a, requires_grad=False):
    return lib.tensor(np.array(a), requires_grad=requires_grad)


def _same_weights(ours, theirs) -> None:
    params = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        with retrograd.no_grad():
            params[name].copy_(retrograd.tensor(p.detach().numpy()))


def _compare(ours, theirs, torch, *inputs, rtol=1e-6, atol=1e-7) -> None:
    """Forward values, every input's gradient and every parameter's gradient agree with
    torch's; so do the repr and the state_dict keys."""
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _same_weights(ours, theirs)
    xr = [_t(retrograd, x, x.dtype.kind == "f") for x in inputs]
    xt = [_t(torch, x, x.dtype.kind == "f") for x in inputs]
    out_r, out_t = ours(*xr), theirs(*xt)
    np.testing.assert_allclose(out_r.detach().numpy(), out_t.detach().numpy(), rtol, atol)
    up = np.random.default_rng(1).standard_normal(tuple(out_t.shape)).astype(out_t.detach()
                                                                             .numpy().dtype)
    out_r.backward(_t(retrograd, up))
    out_t.backward(_t(torch, up))
    for a, b in zip(xr, xt):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol, atol)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol, atol, err_msg=name)


def _x(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ---- modules against torch ----------------------------------------------------------------------

ACTIVATIONS = [
    ("Threshold", (0.1, 20.0), {}), ("Threshold", (0.1, 20.0, True), {}),
    ("Hardtanh", (), {}), ("Hardtanh", (-2.0, 0.5), {}), ("ReLU6", (), {}),
    ("ReLU6", (True,), {}), ("ELU", (), {"alpha": 0.5}), ("ELU", (1.0, True), {}),
    ("CELU", (2.0,), {}), ("SELU", (), {}), ("SELU", (True,), {}), ("GLU", (1,), {}),
    ("Hardshrink", (0.3,), {}), ("Softshrink", (), {}), ("LogSigmoid", (), {}),
    ("Softplus", (2.0, 1.0), {}), ("Softsign", (), {}), ("Tanhshrink", (), {}),
    ("Softmin", (1,), {}), ("Softmax2d", (), {}), ("Mish", (), {}), ("Mish", (True,), {}),
    ("Hardswish", (), {}), ("Hardswish", (True,), {}), ("Hardsigmoid", (), {}),
    ("PReLU", (), {}), ("PReLU", (4,), {"init": 0.1}), ("RReLU", (0.1, 0.3), {}),
]


@pytest.mark.parametrize("name, args, kwargs", ACTIVATIONS,
                         ids=[f"{n}{a}{k}" for n, a, k in ACTIVATIONS])
def test_activation_modules_match_torch(torch_ref, name, args, kwargs):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch_ref.nn, name)(*args, **kwargs)
    ours.eval(), theirs.eval()  # (RReLU: deterministic in eval)
    x = _x(2, 4, 3, 3) * 3
    if args and args[-1] is True:  # in place: run on a non-leaf copy
        xr, xt = _t(retrograd, x, True), _t(torch_ref, x, True)
        out_r, out_t = ours(xr * 1), theirs(xt * 1)
        np.testing.assert_allclose(out_r.detach().numpy(), out_t.detach().numpy(), 1e-6, 1e-6)
        out_r.sum().backward(), out_t.sum().backward()
        np.testing.assert_allclose(xr.grad.numpy(), xt.grad.numpy(), 1e-6, 1e-6)
        assert repr(ours) == repr(theirs)
        return
    _compare(ours, theirs, torch_ref, x, rtol=1e-5, atol=1e-6)


PADS = [
    ("ConstantPad1d", ((1, 2), 3.5), (2, 3, 4)), ("ConstantPad2d", (1, -1.0), (2, 3, 4)),
    ("ConstantPad3d", ((1, 0, 0, 1, 2, 0), 0.5), (1, 2, 3, 2, 2)), ("ZeroPad1d", (2,), (3, 4)),
    ("ZeroPad2d", ((1, 2, 0, 1),), (1, 2, 3, 4)), ("ZeroPad3d", (1,), (1, 2, 2, 2)),
    ("ReflectionPad1d", ((2, 1),), (2, 3, 4)), ("ReflectionPad2d", (2,), (1, 2, 3, 4)),
    ("ReflectionPad3d", (1,), (1, 1, 2, 3, 4)), ("ReplicationPad1d", (3,), (2, 3, 4)),
    ("ReplicationPad2d", ((1, 0, 2, 3),), (2, 3, 4)), ("ReplicationPad3d", (1,), (1, 2, 2, 2)),
    ("CircularPad1d", (2,), (2, 3, 4)), ("CircularPad2d", ((1, 2, 0, 1),), (1, 1, 3, 4)),
    ("CircularPad3d", (1,), (1, 1, 2, 3, 2)),
]


@pytest.mark.parametrize("name, args, shape", PADS, ids=[p[0] for p in PADS])
def test_padding_modules_match_torch(torch_ref, name, args, shape):
    _compare(getattr(nn, name)(*args), getattr(torch_ref.nn, name)(*args), torch_ref,
             _x(*shape), rtol=1e-5, atol=1e-6)


LAYERS = [
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1},
     [(2, 4, 5, 5)]),
    ("ConvTranspose2d", (4, 6, (2, 3)), {"groups": 2, "bias": False, "dilation": 2},
     [(2, 4, 3, 4)]),
    ("ConvTranspose1d", (3, 2, 4), {"stride": 3}, [(2, 3, 5)]),
    ("ConvTranspose1d", (3, 2, 4), {}, [(3, 5)]),
    ("GroupNorm", (2, 4), {}, [(2, 4, 3, 3)]),
    ("GroupNorm", (3, 6), {"affine": False, "eps": 1e-3}, [(2, 6, 5)]),
    ("InstanceNorm1d", (3,), {}, [(2, 3, 5)]),
    ("InstanceNorm2d", (3,), {"affine": True}, [(2, 3, 4, 4)]),
    ("InstanceNorm2d", (3,), {"affine": True}, [(3, 4, 4)]),
    ("RMSNorm", (4,), {}, [(2, 3, 4)]),
    ("RMSNorm", ((3, 4),), {"eps": 1e-3, "elementwise_affine": False}, [(2, 3, 4)]),
    ("LocalResponseNorm", (3,), {}, [(2, 5, 3, 3)]),
    ("LocalResponseNorm", (2, 1e-2, 0.5, 2.0), {}, [(2, 4, 3)]),
    ("CosineSimilarity", (), {}, [(3, 4), (3, 4)]),
    ("CosineSimilarity", (-1, 1e-6), {}, [(2, 3, 4), (4,)]),
    ("PairwiseDistance", (), {}, [(3, 4), (3, 4)]),
    ("PairwiseDistance", (1.0, 1e-5, True), {}, [(3, 4), (3, 4)]),
    ("PixelShuffle", (2,), {}, [(2, 8, 2, 3)]),
    ("PixelUnshuffle", (2,), {}, [(2, 2, 4, 6)]),
    ("ChannelShuffle", (2,), {}, [(2, 6, 2, 2)]),
    ("Upsample", (), {"scale_factor": 2}, [(1, 2, 3, 4)]),
    ("Upsample", ((4, 7),), {"mode": "bilinear", "align_corners": True}, [(1, 2, 3, 4)]),
    ("Upsample", (), {"scale_factor": (1.5, 2.5), "mode": "bilinear"}, [(2, 1, 3, 4)]),
    ("Upsample", (), {"scale_factor": 3, "mode": "linear"}, [(2, 2, 4)]),
    ("UpsamplingNearest2d", (), {"scale_factor": 2}, [(1, 2, 3, 4)]),
    ("UpsamplingBilinear2d", ((5, 6),), {}, [(1, 2, 3, 4)]),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}, [(2, 3, 9)]),
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, [(2, 3, 9)]),
    ("AdaptiveAvgPool1d", (4,), {}, [(3, 10)]),
    ("LPPool1d", (2, 3), {}, [(2, 3, 9)]),
    ("LPPool2d", (3, (2, 3)), {"stride": 2}, [(1, 2, 6, 7)]),
    ("Bilinear", (3, 4, 5), {}, [(6, 3), (6, 4)]),
    ("AdaptiveMaxPool2d", ((3, None),), {}, [(2, 3, 7, 5)]),
    ("AdaptiveMaxPool1d", (4,), {}, [(2, 3, 9)]),
    ("Unfold", ((2, 3),), {"padding": 1, "stride": 2}, [(2, 3, 5, 6)]),
    ("Fold", ((4, 5), 2), {}, [(2, 8, 12)]),
    ("Bilinear", (3, 2, 4), {"bias": False}, [(2, 5, 3), (2, 5, 2)]),
]


@pytest.mark.parametrize("name, args, kwargs, shapes", LAYERS,
                         ids=[f"{n}-{i}" for i, (n, *_) in enumerate(LAYERS)])
def test_layers_match_torch(torch_ref, name, args, kwargs, shapes):
    torch_ref.manual_seed(0)
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch_ref.nn, name)(*args, **kwargs)
    if name == "ChannelShuffle":  # torch's runs only in eval
        ours.eval(), theirs.eval()
    if ours._parameters:  # random weights where they start constant, to test the wiring
        with torch_ref.no_grad():
            for p in theirs.parameters():
                p.copy_(torch_ref.randn(p.shape))
    _compare(ours, theirs, torch_ref, *(_x(*s, seed=i) for i, s in enumerate(shapes)),
             rtol=1e-5, atol=1e-5)


def test_conv_transpose_output_size_and_init(torch_ref):
    m = nn.ConvTranspose2d(3, 2, 3, stride=2)
    out = m(retrograd.randn(1, 3, 4, 4), output_size=[10, 10])
    assert tuple(out.shape) == (1, 2, 10, 10)
    with pytest.raises(ValueError):
        m(retrograd.randn(1, 3, 4, 4), output_size=[12, 12])
    # the weight is (in, out / groups, k...) and its init bound uses fan_in = weight.shape[1] k
    big = nn.ConvTranspose2d(64, 8, 3)
    assert tuple(big.weight.shape) == (64, 8, 3, 3)
    assert float(big.weight.abs().max()) <= 1 / np.sqrt(8 * 9) + 1e-6
    assert float(big.bias.abs().max()) <= 1 / np.sqrt(8 * 9) + 1e-6


def test_instance_norm_running_stats_match_torch(torch_ref):
    ours = nn.InstanceNorm1d(3, track_running_stats=True, momentum=0.3)
    theirs = torch_ref.nn.InstanceNorm1d(3, track_running_stats=True, momentum=0.3)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = _x(4, 3, 5)
    for _ in range(2):
        ours(_t(retrograd, x)), theirs(_t(torch_ref, x))
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), 1e-6)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), 1e-6)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(_t(retrograd, x)).numpy(), theirs(_t(torch_ref, x)).numpy(),
                               1e-5, 1e-6)


def test_group_norm_higher_order_and_float32(torch_ref):
    check_derivatives(lambda x, w, b: F.group_norm(x, 2, w, b), (2, 4, 3), (4,), (4,))
    x = retrograd.randn(2, 4, 3)
    assert F.group_norm(x, 2).dtype == retrograd.float32


# ---- feature dropout, rrelu in training ---------------------------------------------------------


def test_channel_dropout_zeroes_whole_channels_and_scales():
    retrograd.manual_seed(0)
    x = retrograd.ones(8, 16, 5, 5, requires_grad=True)
    out = F.dropout2d(x, 0.5)
    per_channel = out.detach().numpy().reshape(8, 16, -1)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(-1) == per_channel.max(-1)).all()  # whole channels
    out.sum().backward()
    assert np.array_equal(x.grad.numpy(), out.detach().numpy())
    assert F.dropout2d(x, 0.5, training=False) is x
    y = F.dropout1d(retrograd.ones(4, 6, 7), 0.3).numpy()
    assert (y.min(-1) == y.max(-1)).all()
    with pytest.raises(RuntimeError):
        F.dropout1d(retrograd.ones(2, 3, 4, 5))
    with pytest.raises(ValueError):
        nn.Dropout2d(1.5)


def test_alpha_dropout_keeps_mean_and_variance():
    retrograd.manual_seed(0)
    x = retrograd.randn(200000)
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    assert F.alpha_dropout(x, 0.2) is x  # training defaults to False
    z = F.feature_alpha_dropout(retrograd.randn(4, 8, 3), 0.5, training=True).numpy()
    assert (np.isclose(z.min(-1), z.max(-1)) | (np.ptp(z, -1) > 0)).all()


def test_rrelu_training_draws_slopes_in_range():
    retrograd.manual_seed(0)
    x = (-retrograd.rand(1000) - 0.1).requires_grad_()
    out = F.rrelu(x, 0.1, 0.3, training=True)
    slope = (out / x).detach().numpy()
    assert slope.min() >= 0.1 and slope.max() <= 0.3 and slope.std() > 0.03
    assert type(out.grad_fn).__name__ == "RreluWithNoiseBackward0"
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slope, 1e-6)
    pos = retrograd.rand(5) + 0.1
    assert np.array_equal(F.rrelu(pos, training=True).numpy(), pos.numpy())


# ---- losses -------------------------------------------------------------------------------------


def _loss_inputs(name, rng):
    x = rng.standard_normal((4, 5))
    if name == "kl_div":
        p = rng.random((4, 5)) + 0.05
        return [np.log(p / p.sum(1, keepdims=True)), rng.dirichlet(np.ones(5), 4)], {}
    if name == "poisson_nll_loss":
        return [x, rng.poisson(2.0, (4, 5)).astype(np.float64)], {}
    if name == "gaussian_nll_loss":
        return [x, rng.standard_normal((4, 5)), rng.random((4, 5)) + 0.1], {}
    if name in ("hinge_embedding_loss", "soft_margin_loss"):
        return [x, rng.choice([-1.0, 1.0], (4, 5))], {}
    if name == "multilabel_soft_margin_loss":
        return [x, rng.integers(0, 2, (4, 5)).astype(np.float64)], {}
    if name == "cosine_embedding_loss":
        return [x, rng.standard_normal((4, 5)), rng.choice([-1.0, 1.0], 4)], {"margin": 0.1}
    if name == "margin_ranking_loss":
        return [x[:, 0], x[:, 1], rng.choice([-1.0, 1.0], 4)], {"margin": 0.2}
    if name == "triplet_margin_loss":
        return [x, rng.standard_normal((4, 5)), rng.standard_normal((4, 5))], {}
    if name == "multi_margin_loss":
        return [x, rng.integers(0, 5, 4)], {}
    if name == "multilabel_margin_loss":
        return [x, np.array([[3, 0, -1, 1, 1], [1, 2, 3, -1, 0], [-1, 1, 1, 1, 1],
                             [4, 3, 2, 1, 0]])], {}
    raise AssertionError(name)


LOSSES = [("kl_div", {}), ("kl_div", {"reduction": "batchmean"}), ("kl_div", {"reduction": "sum"}),
          ("kl_div", {"reduction": "none", "log_target": True}),
          ("poisson_nll_loss", {}), ("poisson_nll_loss", {"log_input": False, "full": True}),
          ("gaussian_nll_loss", {}), ("gaussian_nll_loss", {"full": True, "reduction": "sum"}),
          ("hinge_embedding_loss", {"margin": 0.5}), ("soft_margin_loss", {}),
          ("multilabel_soft_margin_loss", {}), ("cosine_embedding_loss", {}),
          ("margin_ranking_loss", {"reduction": "none"}), ("triplet_margin_loss", {}),
          ("triplet_margin_loss", {"swap": True, "p": 1.0}), ("multi_margin_loss", {}),
          ("multi_margin_loss", {"p": 2, "margin": 0.5}), ("multilabel_margin_loss", {})]


@pytest.mark.parametrize("name, kwargs", LOSSES, ids=[f"{n}-{k}" for n, k in LOSSES])
def test_losses_match_torch(torch_ref, name, kwargs):
    arrays, extra = _loss_inputs(name, np.random.default_rng(0))
    kwargs = {**extra, **kwargs}
    if kwargs.get("log_input") is False:  # a rate, not its log: positive
        arrays[0] = np.abs(arrays[0]) + 0.1
    grads = [a.dtype.kind == "f" and i < (2 if name != "triplet_margin_loss" else 3)
             for i, a in enumerate(arrays)]
    if name in ("cosine_embedding_loss", "margin_ranking_loss"):
        grads[2] = False
    if name in ("kl_div", "poisson_nll_loss", "hinge_embedding_loss", "soft_margin_loss",
                "multilabel_soft_margin_loss"):
        grads[1] = False
    rs = [_t(retrograd, a, g) for a, g in zip(arrays, grads)]
    ts = [_t(torch_ref, a, g) for a, g in zip(arrays, grads)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out_r = getattr(F, name)(*rs, **kwargs)
        out_t = getattr(torch_ref.nn.functional, name)(*ts, **kwargs)
    np.testing.assert_allclose(out_r.detach().numpy(), out_t.detach().numpy(), 1e-10, 1e-12)
    out_r.sum().backward(), out_t.sum().backward()
    for r, t in zip(rs, ts):
        if t.grad is not None:
            np.testing.assert_allclose(r.grad.numpy(), t.grad.numpy(), 1e-9, 1e-11)
    # derivatives of the first input, first and second order
    consts = [_t(retrograd, a) for a in arrays[1:]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_derivatives(lambda x: getattr(F, name)(x, *consts, **kwargs), arrays[0])


LOSS_MODULES = [("KLDivLoss", {"reduction": "batchmean"}, "kl_div"),
                ("PoissonNLLLoss", {}, "poisson_nll_loss"),
                ("HingeEmbeddingLoss", {"margin": 2.0}, "hinge_embedding_loss"),
                ("SoftMarginLoss", {}, "soft_margin_loss"),
                ("MultiLabelSoftMarginLoss", {}, "multilabel_soft_margin_loss"),
                ("CosineEmbeddingLoss", {}, "cosine_embedding_loss"),
                ("MarginRankingLoss", {"margin": 0.3}, "margin_ranking_loss"),
                ("TripletMarginLoss", {"margin": 0.5}, "triplet_margin_loss"),
                ("MultiMarginLoss", {}, "multi_margin_loss"),
                ("MultiLabelMarginLoss", {}, "multilabel_margin_loss")]


@pytest.mark.parametrize("name, kwargs, fn", LOSS_MODULES, ids=[m[0] for m in LOSS_MODULES])
def test_loss_modules_match_torch(torch_ref, name, kwargs, fn):
    arrays, _ = _loss_inputs(fn, np.random.default_rng(1))
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch_ref.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    out_r = ours(*(_t(retrograd, a) for a in arrays))
    out_t = theirs(*(_t(torch_ref, a) for a in arrays))
    np.testing.assert_allclose(out_r.numpy(), out_t.numpy(), 1e-10)


def test_gaussian_nll_loss_module_and_var_shapes(torch_ref):
    rng = np.random.default_rng(2)
    x, y, var = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.random(3) + 0.1
    ours, theirs = nn.GaussianNLLLoss(), torch_ref.nn.GaussianNLLLoss()
    a = ours(_t(retrograd, x), _t(retrograd, y), _t(retrograd, var))
    b = theirs(_t(torch_ref, x), _t(torch_ref, y), _t(torch_ref, var))
    np.testing.assert_allclose(a.numpy(), b.numpy(), 1e-10)
    with pytest.raises(ValueError):
        ours(_t(retrograd, x), _t(retrograd, y), _t(retrograd, rng.random(4)))


# ---- errors of PyTorch's types ------------------------------------------------------------------


ERRORS = [
    (lambda lib, x: lib.nn.functional.pad(x, (1, 2, 3)), RuntimeError),
    (lambda lib, x: lib.nn.functional.pad(x, (1,) * 10), RuntimeError),
    (lambda lib, x: lib.nn.functional.pad(x, (1, 1), mode="reflect"), NotImplementedError),
    (lambda lib, x: lib.nn.functional.pad(x, (1, 1, 1, 1), mode="wrap"), NotImplementedError),
    (lambda lib, x: lib.nn.functional.pad(x, (4, 4, 0, 0), mode="reflect"), RuntimeError),
    (lambda lib, x: lib.nn.functional.pad(x, (9, 9, 0, 0), mode="circular"), RuntimeError),
    (lambda lib, x: lib.nn.functional.glu(x, 1), RuntimeError),
    (lambda lib, x: lib.nn.functional.group_norm(x, 2), RuntimeError),
    (lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2), RuntimeError),
    (lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2, align_corners=True),
     ValueError),
    (lambda lib, x: lib.nn.functional.interpolate(x), ValueError),
    (lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2, mode="linear"),
     NotImplementedError),
    (lambda lib, x: lib.nn.functional.prelu(x, lib.ones(2)), RuntimeError),
    (lambda lib, x: lib.nn.GroupNorm(2, 3), ValueError),
    (lambda lib, x: lib.nn.functional.rms_norm(x, (5,)), RuntimeError),
]


@pytest.mark.parametrize("fn, error", ERRORS, ids=range(len(ERRORS)))
def test_errors_are_pytorchs(torch_ref, fn, error):
    x = np.random.default_rng(0).standard_normal((1, 3, 3, 4)).astype(np.float32)
    with pytest.raises(error):
        fn(torch_ref, _t(torch_ref, x))
    with pytest.raises(error):
        fn(retrograd, _t(retrograd, x))


def test_new_names_are_in_nn_modules_layout():
    from retrograd.nn.modules import activation, padding, upsampling

    assert activation.Hardswish is nn.Hardswish
    assert padding.ReflectionPad2d is nn.ReflectionPad2d
    assert upsampling.Upsample is nn.Upsample


BAGS = [({"mode": "sum"}, "offsets"), ({"mode": "mean"}, "offsets"), ({"mode": "max"}, "offsets"),
        ({"mode": "mean", "padding_idx": 2}, "offsets"), ({"mode": "sum"}, "2d"),
        ({"mode": "sum"}, "weights"), ({"mode": "mean", "include_last_offset": True}, "last")]


@pytest.mark.parametrize("kwargs, form", BAGS, ids=[f"{k}-{f}" for k, f in BAGS])
def test_embedding_bag_matches_torch(torch_ref, kwargs, form):
    torch_ref.manual_seed(0)
    ours = nn.EmbeddingBag(10, 3, **kwargs)
    theirs = torch_ref.nn.EmbeddingBag(10, 3, **kwargs)
    assert repr(ours) == repr(theirs)
    _same_weights(ours, theirs)
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9])
    args = {"offsets": ([np.array([0, 4, 4, 6])], {}), "2d": ([], {}),
            "last": ([np.array([0, 4, 4, 8])], {}),
            "weights": ([np.array([0, 3, 3])], {"w": np.linspace(0.5, 2, 8)})}[form]
    if form == "2d":
        idx = idx.reshape(2, 4)
    extra_r, extra_t = {}, {}
    if "w" in args[1]:
        extra_r["per_sample_weights"] = _t(retrograd, args[1]["w"].astype(np.float32))
        extra_t["per_sample_weights"] = _t(torch_ref, args[1]["w"].astype(np.float32))
    out_r = ours(_t(retrograd, idx), *(_t(retrograd, a) for a in args[0]), **extra_r)
    out_t = theirs(_t(torch_ref, idx), *(_t(torch_ref, a) for a in args[0]), **extra_t)
    np.testing.assert_allclose(out_r.detach().numpy(), out_t.detach().numpy(), 1e-6, 1e-6)
    up = np.random.default_rng(0).standard_normal(tuple(out_t.shape)).astype(np.float32)
    out_r.backward(_t(retrograd, up)), out_t.backward(_t(torch_ref, up))
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), 1e-6, 1e-6)


def test_adaptive_max_pool_indices_match_torch(torch_ref):
    x = _x(2, 3, 7, 6)
    out_r, idx_r = F.adaptive_max_pool2d(_t(retrograd, x), (3, 4), return_indices=True)
    out_t, idx_t = torch_ref.nn.functional.adaptive_max_pool2d(_t(torch_ref, x), (3, 4), True)
    np.testing.assert_array_equal(idx_r.numpy(), idx_t.numpy())
    np.testing.assert_allclose(out_r.numpy(), out_t.numpy())
    assert idx_r.dtype == retrograd.int64
