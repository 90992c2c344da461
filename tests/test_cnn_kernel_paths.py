"""The fast paths of the CNN kernels (issue 11) against PyTorch and against their slow paths.

Max pooling whose windows fit the input keeps only each window's tap index when the indices
are not returned (Note [Max pooling positions]); batch norm's statistics come from einsum for
contiguous float inputs; a channels-last convolution's fast_backward shares one copy of the
output gradient between the input and weight gradients.
"""

from __future__ import annotations

import numpy as np
import pytest

import retrograd

F = retrograd.nn.functional


def _t(lib, a, grad=False):
    return lib.tensor(np.array(a), requires_grad=grad)


TIE_CASES = [
    # many ties (integers), windows 2x2 stride 2 (the CNN's pooling)
    ("ties", lambda rng: rng.integers(-2, 3, (2, 3, 6, 8)).astype(float), {"kernel_size": 2}),
    # odd sizes: the last row and column belong to no window
    ("odd", lambda rng: rng.integers(-1, 2, (2, 2, 7, 5)).astype(float), {"kernel_size": 2}),
    # unbatched input, rectangular windows
    ("rect", lambda rng: rng.integers(-1, 2, (3, 6, 9)).astype(float),
     {"kernel_size": (2, 3), "stride": (2, 3)}),
    # dilation and stride other than the kernel, windows still inside the input
    ("dilated", lambda rng: rng.integers(-1, 2, (1, 2, 9, 9)).astype(float),
     {"kernel_size": 2, "stride": 3, "dilation": 2}),
    # NaN (the last NaN of a window wins) and infinities
    ("nan", lambda rng: np.where(rng.random((2, 2, 6, 6)) < 0.2, np.nan, np.array(
        [-np.inf, 1.0, np.inf])[rng.integers(0, 3, (2, 2, 6, 6))]), {"kernel_size": 2}),
]


@pytest.mark.parametrize("name, make, kwargs", TIE_CASES, ids=[c[0] for c in TIE_CASES])
def test_max_pool_without_indices_routes_gradient_as_torch(torch_ref, name, make, kwargs):
    rng = np.random.default_rng(0)
    data = make(rng)
    results = []
    for lib in (retrograd, torch_ref):
        x = _t(lib, data, True)
        out = lib.nn.functional.max_pool2d(x, **kwargs)  # no indices: the tap-index path
        up = np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape))
        (g,) = lib.autograd.grad(out, x, _t(lib, up))
        _, idx = lib.nn.functional.max_pool2d(x, return_indices=True, **kwargs)
        results.append((out.detach().numpy(), g.numpy(), idx.numpy()))
    (ro, rg, ri), (to, tg, ti) = results
    np.testing.assert_array_equal(ro, to)
    np.testing.assert_array_equal(rg, tg)
    np.testing.assert_array_equal(ri, ti)


def test_max_pool_tap_index_path_twice_differentiable_and_forward_mode(torch_ref):
    rng = np.random.default_rng(1)
    data = rng.permutation(96).reshape(2, 3, 4, 4) * 0.5
    tangent = rng.standard_normal(data.shape)
    results = []
    for lib in (retrograd, torch_ref):
        x = _t(lib, data, True)
        out = lib.nn.functional.max_pool2d(x, 2)
        (g,) = lib.autograd.grad((out * out).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * _t(lib, tangent)).sum(), x)
        pool = lib.nn.functional.max_pool2d
        jf = lib.func.jacfwd(lambda a, pool=pool: pool(a, 2))(_t(lib, data))
        per_sample = lib.func.vmap(lib.func.grad(
            lambda a, pool=pool: pool(a, 2).pow(2).sum()))(_t(lib, data))
        results.append([a.detach().numpy() for a in (g, gg, jf, per_sample)])
    for r, t in zip(*results):
        np.testing.assert_allclose(r, t, rtol=1e-12, atol=0)


def test_max_pool_backward_twice_needs_retain_graph():
    x = _t(retrograd, np.arange(16.0).reshape(1, 1, 4, 4), True)
    out = F.max_pool2d(x, 2).sum()
    out.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()


@pytest.mark.parametrize("shape, contiguous", [((8, 3, 5, 4), True), ((8, 3, 5, 4), False),
                                               ((6, 4), True), ((5, 3, 7), True)])
def test_batch_norm_statistics_layout_and_values_follow_torch(torch_ref, shape, contiguous):
    rng = np.random.default_rng(2)
    data = rng.standard_normal(shape) * 3 + 5
    grad = rng.standard_normal(shape)
    results = []
    for lib in (retrograd, torch_ref):
        x = _t(lib, data, True)
        # not contiguous: channels last, a layout PyTorch's batch norm keeps
        xin = x if contiguous else x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
        bn = lib.nn.BatchNorm1d(shape[1]) if len(shape) < 4 else lib.nn.BatchNorm2d(shape[1])
        bn = bn.double()
        out = bn(xin)
        out.backward(_t(lib, grad))
        results.append((out.detach().numpy(), out.stride(), x.grad.numpy(),
                        bn.weight.grad.numpy(), bn.running_mean.numpy(), bn.running_var.numpy()))
    r, t = results
    assert r[1] == t[1]  # the output's layout is PyTorch's
    for a, b in zip(r[:1] + r[2:], t[:1] + t[2:]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("x_shape, w_shape, kwargs", [
    ((2, 4, 5, 5), (3, 4, 3, 3), {"padding": 1}),
    ((2, 6, 7, 6), (5, 6, 3, 2), {"stride": 2, "padding": (1, 0)}),
    ((3, 8, 4), (5, 8, 3), {"padding": 2, "dilation": 2}),
])
def test_channels_last_conv_fast_backward_equals_backward_and_torch(torch_ref, x_shape, w_shape,
                                                                      kwargs):
    one_d = len(x_shape) == 3
    rng = np.random.default_rng(3)
    xs, ws, bs = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(
        w_shape[0])
    grads = {}
    for key, lib, create in (("fast", retrograd, False), ("tensor", retrograd, True),
                             ("torch", torch_ref, False)):
        x, w, b = _t(lib, xs, True), _t(lib, ws, True), _t(lib, bs, True)
        conv = lib.nn.functional.conv1d if one_d else lib.nn.functional.conv2d
        out = conv(x, w, b, **kwargs)
        g = np.random.default_rng(4).standard_normal(tuple(out.shape))
        out.backward(_t(lib, g), create_graph=create)
        # the channels-last layout (ConvGeometry.cl), whose fast_backward shares the copy
        assert x_shape[1] * w_shape[-1] >= out.shape[-1] and x_shape[1] > 1
        grads[key] = [t.grad.detach().numpy() for t in (x, w, b)]
    for a, b in zip(grads["fast"], grads["tensor"]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(grads["fast"], grads["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
