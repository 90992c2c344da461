"""Convolution and pooling: the functional forms and the Conv1d/Conv2d/MaxPool2d/AvgPool2d/
AdaptiveAvgPool2d modules, compared with PyTorch on the same data and weights (forward values,
input and weight gradients, second derivatives), PyTorch's choices at ties, and bad input.

Gradcheck and gradgradcheck of every variant run from the op table (tests/optable.py)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import retrograd
import retrograd.nn as nn
import retrograd.nn.functional as F
from retrograd.autograd import gradcheck, gradgradcheck
from retrograd.ops.nn.conv import ConvGeometry


def _t(lib, a, requires_grad=False):
    return lib.tensor(np.array(a), requires_grad=requires_grad)


def _np(t) -> np.ndarray:
    return t.detach().numpy()


def _run(lib, fn, arrays, upstream, grad_of=None):
    """fn's output and the gradients of <output, upstream> w.r.t. the float arrays."""
    ts = [_t(lib, a, True) if a is not None else None for a in arrays]
    out = fn(lib, *ts)
    first = out[0] if isinstance(out, tuple) else out
    wrt = [t for t in ts if t is not None] if grad_of is None else [ts[i] for i in grad_of]
    grads = lib.autograd.grad(first, wrt, _t(lib, upstream))
    return out, grads


def _compare(fn, arrays, torch, rtol=1e-10, atol=1e-12, grad_of=None):
    t_out, _ = None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about 'same' padding with even kernels
        t_first = fn(torch, *[_t(torch, a) if a is not None else None for a in arrays])
    t_first = t_first[0] if isinstance(t_first, tuple) else t_first
    up = np.random.default_rng(7).standard_normal(tuple(t_first.shape))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out, t_grads = _run(torch, fn, arrays, up, grad_of)
    r_out, r_grads = _run(retrograd, fn, arrays, up, grad_of)
    r_outs = r_out if isinstance(r_out, tuple) else (r_out,)
    t_outs = t_out if isinstance(t_out, tuple) else (t_out,)
    for r, t in zip(r_outs, t_outs):
        assert tuple(r.shape) == tuple(t.shape)
        np.testing.assert_allclose(_np(r), _np(t), rtol, atol)
    for i, (r, t) in enumerate(zip(r_grads, t_grads)):
        np.testing.assert_allclose(_np(r), _np(t), rtol, atol, err_msg=f"gradient {i}")
    first_r, first_t = r_outs[0], t_outs[0]
    assert type(first_r.grad_fn).__name__ == type(first_t.grad_fn).__name__
    return r_outs, t_outs


# ---- conv1d / conv2d -----------------------------------------------------------------------

CONV2D = [
    # (input shape, weight shape, bias, kwargs)
    ((2, 3, 6, 6), (4, 3, 3, 3), True, {}),
    ((2, 3, 6, 6), (4, 3, 3, 3), True, {"padding": 1}),
    ((2, 3, 7, 6), (4, 3, 3, 2), True, {"padding": (1, 2), "stride": (2, 1)}),
    ((2, 3, 9, 8), (4, 3, 3, 2), False, {"padding": 2, "stride": 2, "dilation": (2, 1)}),
    ((2, 4, 7, 6), (6, 2, 3, 3), True, {"padding": "same", "groups": 2, "dilation": 2}),
    ((2, 4, 7, 6), (6, 2, 4, 4), False, {"padding": "same", "groups": 2}),
    ((1, 3, 5, 7), (2, 3, 4, 2), True, {"padding": "same"}),
    ((3, 7, 6), (6, 3, 3, 3), True, {"padding": "valid"}),
    ((2, 6, 7, 6), (6, 1, 3, 3), True, {"padding": 1, "groups": 6, "stride": 2}),
    ((2, 1, 8, 8), (5, 1, 3, 3), True, {"padding": 1}),
    ((1, 4, 3, 3), (2, 4, 2, 2), True, {"padding": 2}),
    ((2, 2, 12, 12), (3, 2, 1, 1), True, {}),
    ((0, 3, 5, 5), (2, 3, 3, 3), True, {}),
]


@pytest.mark.parametrize("x_shape, w_shape, bias, kwargs", CONV2D)
def test_conv2d_matches_torch(torch_ref, rng, x_shape, w_shape, bias, kwargs):
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape),
              rng.standard_normal(w_shape[0]) if bias else None]
    _compare(lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, **kwargs), arrays,
             torch_ref)


CONV1D = [
    ((2, 3, 7), (4, 3, 3), True, {"padding": 1}),
    ((2, 4, 9), (6, 4, 3), True, {"padding": 1, "stride": 3, "dilation": 2}),
    ((2, 4, 7), (6, 2, 3), False, {"padding": "same", "groups": 2}),
    ((4, 8), (2, 4, 4), True, {"padding": "same"}),
    ((2, 1, 10), (3, 1, 5), True, {"stride": 2}),
]


@pytest.mark.parametrize("x_shape, w_shape, bias, kwargs", CONV1D)
def test_conv1d_matches_torch(torch_ref, rng, x_shape, w_shape, bias, kwargs):
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape),
              rng.standard_normal(w_shape[0]) if bias else None]
    _compare(lambda lib, x, w, b: lib.nn.functional.conv1d(x, w, b, **kwargs), arrays,
             torch_ref)


def test_conv_uses_both_column_layouts():
    """The cases above reach both layouts of Note [Two column layouts] and both input-gradient
    paths; this keeps them honest if the choice rule changes."""
    def geo(x, w, pads=(0, 0, 0, 0), stride=(1, 1), groups=1):
        return ConvGeometry(x, w, stride, pads, (1, 1), groups)

    assert geo((2, 3, 6, 6), (4, 3, 3, 3)).cl  # many channels, small image
    assert not geo((2, 1, 8, 8), (5, 1, 3, 3)).cl  # one channel
    assert not geo((2, 4, 7, 6), (6, 2, 3, 3), groups=2).cl  # groups
    assert not geo((2, 3, 40, 40), (4, 3, 3, 3)).cl  # wide image
    assert geo((2, 3, 6, 6), (4, 3, 3, 3)).flat
    assert not geo((2, 3, 6, 6), (4, 3, 3, 3), stride=(2, 1)).flat


def _second_order(lib, x, w, b, g, kwargs):
    """A scalar of the first derivatives, then its gradients (runs the derivative Functions)."""
    out = lib.nn.functional.conv2d(x, w, b, **kwargs)
    gx, gw, gb = lib.autograd.grad(out, (x, w, b), g, create_graph=True)
    s = (gx * gx).sum() + (gw * gw * gw).sum() + (gb * gb).sum() + (out * out).sum()
    return lib.autograd.grad(s, (x, w, b, g))


@pytest.mark.parametrize("x_shape, w_shape, kwargs", [
    ((2, 3, 5, 5), (4, 3, 3, 3), {"padding": 1}),
    ((2, 4, 6, 5), (4, 2, 2, 3), {"stride": 2, "groups": 2, "dilation": (1, 2)}),
    ((1, 1, 6, 6), (2, 1, 3, 3), {"padding": "same"}),
])
def test_conv2d_second_derivatives_match_torch(torch_ref, rng, x_shape, w_shape, kwargs):
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    out_shape = tuple(torch_ref.nn.functional.conv2d(
        _t(torch_ref, x), _t(torch_ref, w), **kwargs).shape)
    g = rng.standard_normal(out_shape)
    results = []
    for lib in (retrograd, torch_ref):
        ts = [_t(lib, a, True) for a in (x, w, b, g)]
        results.append(_second_order(lib, *ts, kwargs))
    for i, (r, t) in enumerate(zip(*results)):
        np.testing.assert_allclose(_np(r), _np(t), 1e-9, 1e-10, err_msg=f"input {i}")


@pytest.mark.parametrize("wants", [(False, False, True), (True, False, False),
                                   (False, True, False), (True, False, True)])
def test_conv2d_gradients_when_only_some_inputs_require_grad(torch_ref, rng, wants):
    """Each subset of (x, w, b) requiring grad gets PyTorch's gradients (the bias alone too)."""
    arrays = [rng.standard_normal(s) for s in ((2, 3, 5, 5), (4, 3, 3, 3), (4,))]
    results = []
    for lib in (retrograd, torch_ref):
        ts = [_t(lib, a, want) for a, want in zip(arrays, wants)]
        out = lib.nn.functional.conv2d(*ts, padding=1)
        results.append(lib.autograd.grad((out * out).sum(),
                                         [t for t, want in zip(ts, wants) if want]))
    for r, t in zip(*results):
        np.testing.assert_allclose(_np(r), _np(t), 1e-10, 1e-12)


def test_conv2d_gradients_of_gradients_have_torchs_node_name(rng):
    x = _t(retrograd, rng.standard_normal((1, 2, 4, 4)), True)
    w = _t(retrograd, rng.standard_normal((3, 2, 3, 3)), True)
    out = F.conv2d(x, w, padding=1)
    gx, gw = retrograd.autograd.grad(out.sum(), (x, w), create_graph=True)
    assert type(out.grad_fn).__name__ == "ConvolutionBackward0"
    assert type(gx.grad_fn).__name__ == "ConvolutionBackwardBackward0"
    assert type(gw.grad_fn).__name__ == "ConvolutionBackwardBackward0"


def test_conv2d_float32_stays_float32(rng):
    x = retrograd.tensor(rng.standard_normal((2, 3, 5, 5)), dtype=retrograd.float32,
                         requires_grad=True)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    out = conv(x)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == conv.weight.grad.dtype == retrograd.float32
    assert out.is_contiguous()


def test_conv2d_without_grad_records_nothing(rng):
    conv = nn.Conv2d(2, 3, 3)
    with retrograd.no_grad():
        out = conv(retrograd.randn(1, 2, 5, 5))
    assert out.grad_fn is None and not out.requires_grad


def test_conv2d_gradcheck_on_a_module_with_stride_and_groups(rng):
    conv = nn.Conv2d(4, 2, (2, 3), stride=(2, 1), padding=(1, 0), groups=2,
                     dtype=retrograd.float64)
    x = _t(retrograd, rng.standard_normal((1, 4, 5, 4)), True)
    assert gradcheck(lambda a: conv(a), (x,))
    assert gradgradcheck(lambda a, w: F.conv2d(a, w, stride=(2, 1), padding=(1, 0), groups=2),
                         (x, conv.weight))


# ---- conv errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("call, match", [
    (lambda x, w: F.conv2d(x[0, 0], w), r"Expected 3D \(unbatched\) or 4D \(batched\) input to "
                                        r"conv2d, but got input of size: \[6, 6\]"),
    (lambda x, w: F.conv2d(retrograd.randn(2, 4, 6, 6), w),
     r"expected input\[2, 4, 6, 6\] to have 3 channels, but got 4 channels instead"),
    (lambda x, w: F.conv2d(retrograd.randn(2, 3, 2, 2), w),
     r"Kernel size: \(3 x 3\). Kernel size can't be greater than actual input size"),
    (lambda x, w: F.conv2d(x, retrograd.randn(3, 3, 3, 3), groups=2),
     "expected weight to be divisible by 2 at dimension 0"),
    (lambda x, w: F.conv2d(x, w, padding="same", stride=2),
     "padding='same' is not supported for strided convolutions"),
    (lambda x, w: F.conv2d(x, w, padding="full"), "Invalid padding string: 'full'"),
    (lambda x, w: F.conv2d(x, w, stride=0), "non-positive stride is not supported"),
    (lambda x, w: F.conv2d(x, w, padding=-1), "negative padding is not supported"),
    (lambda x, w: F.conv2d(x, w, dilation=0), "non-positive dilation is not supported"),
    (lambda x, w: F.conv2d(x, w, groups=0), "non-positive groups is not supported"),
    (lambda x, w: F.conv2d(x.double(), w), r"Input type \(double\) and weight type \(float\)"),
    (lambda x, w: F.conv2d(x, w, retrograd.randn(5)),
     r"expected bias to be 1-dimensional with 4 elements, but got bias of size \[5\]"),
    (lambda x, w: F.conv2d(x, w, stride=(1, 2, 3)),
     "expected stride to be a single integer value or a list of 2 values"),
    (lambda x, w: F.conv1d(x, w), r"input to conv1d, but got input of size: \[2, 3, 6, 6\]"),
    (lambda x, w: F.conv2d(x, w[0]), "conv2d expects a 4-D weight"),
])
def test_conv_errors(call, match):
    x, w = retrograd.randn(2, 3, 6, 6), retrograd.randn(4, 3, 3, 3)
    with pytest.raises(RuntimeError, match=match):
        call(x, w)


def test_conv_module_errors_name_the_layer():
    conv = nn.Conv2d(3, 4, 3)
    with pytest.raises(RuntimeError, match=r"Conv2d expected input with 3 channels, got 4 "
                                           r"\(input of size \[2, 4, 6, 6\]"):
        conv(retrograd.randn(2, 4, 6, 6))
    with pytest.raises(RuntimeError, match=r"Conv2d expected 3D \(unbatched\) or 4D \(batched\) "
                                           r"input to conv2d, but got input of size: \[6, 6\]"):
        conv(retrograd.randn(6, 6))
    with pytest.raises(RuntimeError, match=r"Conv1d expected input with 2 channels, got 3"):
        nn.Conv1d(2, 4, 3)(retrograd.randn(5, 3, 8))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(3, 4, 3, padding="same", stride=2)
    with pytest.raises(NotImplementedError, match="padding_mode='reflect'"):
        nn.Conv2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")


def test_conv_bad_input_leaves_weights_unchanged():
    conv = nn.Conv2d(3, 4, 3)
    before = conv.weight.detach().numpy().copy()
    with pytest.raises(RuntimeError):
        conv(retrograd.randn(1, 5, 4, 4))
    assert conv.weight.grad is None
    np.testing.assert_array_equal(conv.weight.detach().numpy(), before)


# ---- Conv modules ---------------------------------------------------------------------------


@pytest.mark.parametrize("args, kwargs", [
    ((3, 4, 3), {}),
    ((3, 4, (3, 5)), {"stride": 2, "padding": 1, "dilation": 2, "bias": False}),
    ((4, 4, 3), {"groups": 2, "padding": "same"}),
    ((4, 6, 2), {"padding": "valid", "groups": 2, "stride": (1, 2)}),
])
def test_conv2d_module_matches_torch(torch_ref, rng, args, kwargs):
    ours, theirs = nn.Conv2d(*args, **kwargs), torch_ref.nn.Conv2d(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    for name in ("kernel_size", "stride", "padding", "dilation", "groups", "output_padding",
                 "transposed", "padding_mode"):
        assert getattr(ours, name) == getattr(theirs, name), name
    state = {k: retrograd.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)
    x = rng.standard_normal((2, args[0], 7, 8)).astype(np.float32)
    xr, xt = _t(retrograd, x, True), _t(torch_ref, x, True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out_t = theirs(xt)
    out_r = ours(xr)
    np.testing.assert_allclose(_np(out_r), _np(out_t), 1e-5, 1e-5)
    up = rng.standard_normal(tuple(out_t.shape)).astype(np.float32)
    out_r.backward(_t(retrograd, up))
    out_t.backward(_t(torch_ref, up))
    np.testing.assert_allclose(_np(xr.grad), _np(xt.grad), 1e-4, 1e-4)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(_np(p.grad), _np(q.grad), 1e-4, 1e-4, err_msg=name)


def test_conv1d_module_matches_torch(torch_ref, rng):
    ours, theirs = nn.Conv1d(2, 3, 3, stride=2, padding=1), torch_ref.nn.Conv1d(2, 3, 3, stride=2,
                                                                               padding=1)
    assert repr(ours) == repr(theirs) == ("Conv1d(2, 3, kernel_size=(3,), stride=(2,), "
                                          "padding=(1,))")
    ours.load_state_dict({k: retrograd.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((4, 2, 9)).astype(np.float32)
    np.testing.assert_allclose(_np(ours(_t(retrograd, x))), _np(theirs(_t(torch_ref, x))),
                               1e-5, 1e-6)
    assert tuple(ours(_t(retrograd, x[0])).shape) == (3, 5)  # unbatched


def test_conv_default_init_is_kaiming_uniform():
    retrograd.manual_seed(0)
    conv = nn.Conv2d(8, 64, 3)
    fan_in = 8 * 9
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform with a = sqrt(5)
    w, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # uniform's std
    assert np.abs(b).max() <= bound
    assert conv.weight.dtype == retrograd.float32 and conv.weight.requires_grad
    assert nn.Conv2d(2, 2, 1, dtype=retrograd.float64).weight.dtype == retrograd.float64


def test_conv_state_dict_and_bias_false():
    conv = nn.Conv2d(2, 3, 3, bias=False)
    assert conv.bias is None
    assert list(conv.state_dict()) == ["weight"]
    out = conv(retrograd.randn(1, 2, 4, 4))
    assert tuple(out.shape) == (1, 3, 2, 2)


# ---- max pooling ----------------------------------------------------------------------------

MAXPOOL = [
    ((2, 3, 6, 6), {"kernel_size": 2}),
    ((2, 3, 7, 6), {"kernel_size": 3, "stride": 2, "padding": 1, "return_indices": True}),
    ((2, 3, 7, 6), {"kernel_size": 3, "stride": 1, "padding": 1, "return_indices": True}),
    ((2, 3, 9, 8), {"kernel_size": (3, 2), "stride": (2, 3), "padding": 1, "dilation": (2, 1),
                    "ceil_mode": True, "return_indices": True}),
    ((3, 7, 6), {"kernel_size": 2, "ceil_mode": True, "return_indices": True}),
    ((1, 2, 5, 5), {"kernel_size": 1}),
]


@pytest.mark.parametrize("shape, kwargs", MAXPOOL)
def test_max_pool2d_matches_torch(torch_ref, rng, shape, kwargs):
    r, t = _compare(lambda lib, x: lib.nn.functional.max_pool2d(x, **kwargs),
                    [rng.standard_normal(shape)], torch_ref)
    if kwargs.get("return_indices"):
        assert r[1].dtype == retrograd.int64
        np.testing.assert_array_equal(r[1].numpy(), t[1].numpy())


@pytest.mark.parametrize("data, kwargs", [
    # ties: PyTorch's CPU kernel keeps the first maximum of each window
    (np.array([[[[2., 2., 1., 2.], [2., 0., 2., 2.]]]]), {"kernel_size": 2, "stride": 1}),
    (np.zeros((1, 1, 4, 4)), {"kernel_size": 3, "stride": 1, "padding": 1}),
    (np.ones((1, 2, 4, 4)), {"kernel_size": 2}),
    # NaN: the last NaN of the window wins
    (np.array([[[[1., np.nan, 3., np.nan], [np.nan, 0., 5., 1.]]]]), {"kernel_size": 2,
                                                                      "stride": 1}),
    # a window of -inf (padding included) points at its first element inside the input
    (np.full((1, 1, 3, 3), -np.inf), {"kernel_size": 3, "stride": 1, "padding": 1}),
    (np.full((1, 1, 5, 5), -np.inf), {"kernel_size": 2, "stride": 2, "padding": 1,
                                      "dilation": 2}),
])
def test_max_pool2d_ties_nan_and_inf_follow_torch(torch_ref, data, kwargs):
    outs = []
    for lib in (retrograd, torch_ref):
        x = _t(lib, data, True)
        out, idx = lib.nn.functional.max_pool2d(x, return_indices=True, **kwargs)
        up = np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape))
        (g,) = lib.autograd.grad(out, x, _t(lib, up))
        outs.append((_np(out), idx.numpy(), _np(g)))
    (ro, ri, rg), (to, ti, tg) = outs
    np.testing.assert_array_equal(ro, to)
    np.testing.assert_array_equal(ri, ti)
    np.testing.assert_array_equal(rg, tg)


def test_max_pool2d_overlapping_windows_accumulate_gradient(torch_ref):
    data = np.array([[[[0., 1., 0.], [1., 9., 1.], [0., 1., 0.]]]])
    for lib in (retrograd, torch_ref):
        x = _t(lib, data, True)
        lib.nn.functional.max_pool2d(x, 2, stride=1).sum().backward()
        assert x.grad.numpy()[0, 0, 1, 1] == 4.0  # the 9 is every window's maximum


def test_max_pool2d_gradgrad_and_integer_input(rng):
    x = _t(retrograd, rng.permutation(50).reshape(1, 2, 5, 5) * 0.1, True)
    assert gradgradcheck(lambda a: F.max_pool2d(a, 3, stride=2, padding=1), (x,))
    out = F.max_pool2d(retrograd.tensor([[[[1, 5], [3, 2]]]]), 2)
    assert out.dtype == retrograd.int64 and out.item() == 5


# ---- average pooling ------------------------------------------------------------------------

AVGPOOL = [
    ((2, 3, 6, 6), {"kernel_size": 2}),
    ((2, 3, 7, 6), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((2, 3, 7, 6), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
    ((2, 3, 7, 8), {"kernel_size": (3, 2), "stride": (2, 3), "padding": 1, "ceil_mode": True}),
    ((2, 3, 7, 8), {"kernel_size": (3, 2), "stride": (2, 3), "padding": 1, "ceil_mode": True,
                    "count_include_pad": False}),
    ((3, 7, 6), {"kernel_size": 2, "ceil_mode": True, "divisor_override": 3}),
]


@pytest.mark.parametrize("shape, kwargs", AVGPOOL)
def test_avg_pool2d_matches_torch(torch_ref, rng, shape, kwargs):
    _compare(lambda lib, x: lib.nn.functional.avg_pool2d(x, **kwargs),
             [rng.standard_normal(shape)], torch_ref)


@pytest.mark.parametrize("shape, size", [
    ((2, 3, 7, 6), (3, 4)), ((2, 3, 7, 6), (None, 4)), ((3, 6, 6), 2), ((2, 3, 5, 5), (7, 8)),
    ((2, 3, 7, 6), 1), ((2, 3, 4, 4), (4, 4)),
])
def test_adaptive_avg_pool2d_matches_torch(torch_ref, rng, shape, size):
    _compare(lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, size),
             [rng.standard_normal(shape)], torch_ref)


@pytest.mark.parametrize("call, exc, match", [
    (lambda x: F.max_pool2d(x, 3, padding=2), RuntimeError,
     "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3"),
    (lambda x: F.avg_pool2d(x, 3, padding=2), RuntimeError, "pad should be at most half"),
    (lambda x: F.max_pool2d(x, 7), RuntimeError,
     r"Given input size: \(3x6x6\). Calculated output size: \(3x0x0\). Output size is too small"),
    (lambda x: F.max_pool2d(x[0, 0], 2), RuntimeError, r"got input of size \[6, 6\]"),
    (lambda x: F.max_pool2d(x, 0), RuntimeError, "kernel size should be greater than zero"),
    (lambda x: F.max_pool2d(x, 2, stride=0), RuntimeError, "stride should be greater than zero"),
    (lambda x: F.max_pool2d(x, 2, dilation=0), RuntimeError, "dilation should be greater"),
    (lambda x: F.max_pool2d(x, (2, 2, 2)), RuntimeError, "kernel_size must either be a single"),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=0), RuntimeError, "divisor must be not zero"),
    (lambda x: F.adaptive_avg_pool2d(x, (2, 3, 4)), RuntimeError, "output_size must be 2"),
    (lambda x: F.adaptive_avg_pool2d(x[0, 0], 2), RuntimeError, r"Expected 3D or 4D tensor"),
    (lambda x: F.adaptive_avg_pool2d(x.long(), 2), NotImplementedError,
     "\"adaptive_avg_pool2d\" not implemented for 'Long'"),
])
def test_pooling_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call(retrograd.randn(2, 3, 6, 6))


# ---- pooling modules ------------------------------------------------------------------------


@pytest.mark.parametrize("name, args, kwargs", [
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", ((2, 3),), {"stride": 1, "padding": 1, "dilation": 2, "ceil_mode": True}),
    ("AvgPool2d", (2,), {}),
    ("AvgPool2d", (3, 2, 1, True, False, 2), {}),
    ("AdaptiveAvgPool2d", ((2, None),), {}),
    ("AdaptiveAvgPool2d", (1,), {}),
])
def test_pooling_modules_match_torch(torch_ref, rng, name, args, kwargs):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch_ref.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    xr, xt = _t(retrograd, x, True), _t(torch_ref, x, True)
    out_r, out_t = ours(xr), theirs(xt)
    np.testing.assert_allclose(_np(out_r), _np(out_t), 1e-6, 1e-6)
    out_r.sum().backward()
    out_t.sum().backward()
    np.testing.assert_allclose(_np(xr.grad), _np(xt.grad), 1e-6, 1e-6)
    assert list(ours.state_dict()) == [] and list(ours.parameters()) == []


def test_maxpool_module_return_indices_and_errors(torch_ref, rng):
    x = rng.standard_normal((1, 2, 4, 4))
    out, idx = nn.MaxPool2d(2, return_indices=True)(_t(retrograd, x))
    _, t_idx = torch_ref.nn.MaxPool2d(2, return_indices=True)(_t(torch_ref, x))
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    assert nn.MaxPool2d(3).stride == 3 and nn.AvgPool2d(3, 1).stride == 1
    with pytest.raises(RuntimeError, match=r"MaxPool2d expected a 3D \(C, H, W\) or 4D "
                                           r"\(N, C, H, W\) input, but got input of size: \[4\]"):
        nn.MaxPool2d(2)(retrograd.randn(4))
    with pytest.raises(RuntimeError, match=r"AvgPool2d expected a 3D"):
        nn.AvgPool2d(2)(retrograd.randn(1, 1, 2, 2, 2))


def test_small_cnn_trains_like_torch(torch_ref, rng):
    """Conv, ReLU, MaxPool, Conv, AdaptiveAvgPool, Linear: five SGD steps on the same weights
    and data give the same parameters as PyTorch."""
    def make(lib):
        m = lib.nn
        return m.Sequential(m.Conv2d(1, 4, 3, padding=1), m.ReLU(), m.MaxPool2d(2),
                            m.Conv2d(4, 6, 3, padding=1), m.ReLU(), m.AvgPool2d(2),
                            m.AdaptiveAvgPool2d((1, 2)), m.Flatten(), m.Linear(12, 3))

    theirs = make(torch_ref).double()
    ours = make(retrograd).double()
    ours.load_state_dict({k: retrograd.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((8, 1, 8, 8))
    y = rng.integers(0, 3, 8)
    for lib, model in ((retrograd, ours), (torch_ref, theirs)):
        opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for _ in range(5):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(_t(lib, x)), _t(lib, y))
            loss.backward()
            opt.step()
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(_np(p), _np(q), 1e-9, 1e-10, err_msg=name)
