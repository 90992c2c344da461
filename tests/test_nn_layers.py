"""Linear, Identity, Flatten, Unflatten, the activation modules, nn.init, the Tensor random fills
and nn.utils: compared with PyTorch on the same weights and data, and gradchecked in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest

import retrograd
import retrograd.nn as nn
from retrograd.autograd import gradcheck, gradgradcheck


def _t(lib, a, requires_grad=False):
    return lib.tensor(np.array(a), requires_grad=requires_grad)


def _same_weights(ours, theirs) -> None:
    """Give the retrograd module the torch module's parameter values (through NumPy)."""
    params = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        with retrograd.no_grad():
            params[name].copy_(retrograd.tensor(p.detach().numpy()))


def _compare_module(ours, theirs, x: np.ndarray, torch, rtol=1e-6, atol=1e-7) -> None:
    """Forward values, input gradient and parameter gradients agree with torch's."""
    xr, xt = _t(retrograd, x, True), _t(torch, x, True)
    out_r, out_t = ours(xr), theirs(xt)
    np.testing.assert_allclose(out_r.detach().numpy(), out_t.detach().numpy(), rtol, atol)
    up = np.random.default_rng(1).standard_normal(tuple(out_t.shape)).astype(x.dtype)
    out_r.backward(_t(retrograd, up))
    out_t.backward(_t(torch, up))
    np.testing.assert_allclose(xr.grad.numpy(), xt.grad.numpy(), rtol, atol)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol, atol, err_msg=name)


# ---- Linear --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(torch_ref, rng, shape, bias):
    ours, theirs = nn.Linear(3, 4, bias=bias), torch_ref.nn.Linear(3, 4, bias=bias)
    _same_weights(ours, theirs)
    _compare_module(ours, theirs, rng.standard_normal(shape).astype(np.float32), torch_ref)


def test_linear_float64_gradcheck(rng):
    lin = nn.Linear(3, 2, dtype=retrograd.float64)
    x = retrograd.tensor(rng.standard_normal((4, 3)), requires_grad=True)

    def f(x, w, b):
        return nn.functional.linear(x, w, b)

    assert lin.weight.dtype == retrograd.float64
    assert gradcheck(lambda x: lin(x), (x,))
    assert gradcheck(f, (x, lin.weight, lin.bias))
    assert gradgradcheck(f, (x, lin.weight, lin.bias))


def test_linear_is_one_addmm_node():
    lin = nn.Linear(3, 2)
    out = lin(retrograd.randn(4, 3, requires_grad=True))
    assert type(out.grad_fn).__name__ == "AddmmBackward0"
    assert len(out.grad_fn.next_functions) == 3
    assert out.dtype == retrograd.float32


def test_linear_default_init_bounds_and_shapes():
    retrograd.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert w.shape == (300, 400) and b.shape == (300,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # uniform on [-bound, bound]: variance bound^2 / 3
    assert abs(w.var() - bound ** 2 / 3) < 0.05 * bound ** 2 / 3
    assert abs(w.mean()) < 0.02 * bound
    retrograd.manual_seed(0)
    again = nn.Linear(400, 300)
    np.testing.assert_array_equal(again.weight.detach().numpy(), w)
    with pytest.warns(UserWarning, match="zero-element"):  # as PyTorch warns
        empty = nn.Linear(0, 3)  # no fan-in: bias bound 0, no error
    assert empty.bias.abs().sum().item() == 0.0


def test_linear_shape_error_names_the_layer_and_features():
    lin = nn.Linear(3, 2)
    with pytest.raises(RuntimeError) as info:
        lin(retrograd.randn(4, 5))
    msg = str(info.value)
    assert "Linear(in_features=3, out_features=2, bias=True)" in msg
    assert "3 features" in msg and "[4, 5]" in msg
    assert "mat1 and mat2 shapes cannot be multiplied (4x5 and 3x2)" in msg
    with pytest.raises(RuntimeError, match="0-d|shape \\[\\]"):
        lin(retrograd.tensor(1.0))
    with pytest.raises(TypeError, match="must be Tensor"):
        lin([[1.0, 2.0, 3.0]])
    with pytest.raises(RuntimeError, match="same dtype"):
        lin(retrograd.randn(4, 3, dtype=retrograd.float64))


def test_linear_reset_parameters_and_repr(torch_ref):
    lin = nn.Linear(3, 2)
    before = lin.weight.detach().numpy().copy()
    lin.reset_parameters()
    assert not np.array_equal(before, lin.weight.detach().numpy())
    assert repr(lin) == repr(torch_ref.nn.Linear(3, 2))
    assert repr(nn.Linear(3, 2, bias=False)) == repr(torch_ref.nn.Linear(3, 2, bias=False))


# ---- Identity, Flatten, Unflatten ----------------------------------------------------------


def test_identity_flatten_unflatten_match_torch(torch_ref, rng):
    x = rng.standard_normal((2, 3, 4, 2)).astype(np.float32)
    cases = [
        (nn.Identity(54, unused=1), torch_ref.nn.Identity(54, unused=1), x),
        (nn.Flatten(), torch_ref.nn.Flatten(), x),
        (nn.Flatten(0, 2), torch_ref.nn.Flatten(0, 2), x),
        (nn.Flatten(-2), torch_ref.nn.Flatten(-2), x),
        (nn.Unflatten(1, (2, 2)), torch_ref.nn.Unflatten(1, (2, 2)), x[:, 0]),
        (nn.Unflatten(-1, (2, -1)), torch_ref.nn.Unflatten(-1, (2, -1)), x[:, 0]),
    ]
    for ours, theirs, data in cases:
        _compare_module(ours, theirs, data, torch_ref)
        assert repr(ours) == repr(theirs)


def test_flatten_gradcheck_and_unflatten_errors(rng):
    x = retrograd.tensor(rng.standard_normal((2, 3, 2)), requires_grad=True)
    assert gradcheck(nn.Flatten(), (x,))
    assert gradcheck(nn.Unflatten(1, (3, 1)), (x,))
    with pytest.raises(TypeError, match="tuple of ints"):
        nn.Unflatten(1, 3)
    with pytest.raises(RuntimeError):
        nn.Unflatten(1, (4, 2))(retrograd.randn(2, 6))


# ---- activations ---------------------------------------------------------------------------


ACTIVATIONS = [
    ("ReLU", {}), ("LeakyReLU", {"negative_slope": 0.2}), ("GELU", {}),
    ("GELU", {"approximate": "tanh"}), ("SiLU", {}), ("Tanh", {}), ("Sigmoid", {}),
    ("Softmax", {"dim": 1}), ("LogSoftmax", {"dim": -1}),
]


@pytest.mark.parametrize("name, kwargs", ACTIVATIONS)
def test_activation_modules_match_torch(torch_ref, rng, name, kwargs):
    ours = getattr(nn, name)(**kwargs)
    theirs = getattr(torch_ref.nn, name)(**kwargs)
    x = rng.uniform(-3, 3, (4, 5))
    _compare_module(ours, theirs, x, torch_ref, rtol=1e-10, atol=1e-12)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name, kwargs", ACTIVATIONS)
def test_activation_modules_gradcheck(rng, name, kwargs):
    module = getattr(nn, name)(**kwargs)
    x = retrograd.tensor(rng.uniform(-2, 2, (3, 4)), requires_grad=True)
    assert gradcheck(module, (x,))
    assert gradgradcheck(module, (x,))


@pytest.mark.parametrize("name, kwargs", [("ReLU", {}), ("LeakyReLU", {"negative_slope": 0.1}),
                                          ("SiLU", {})])
def test_inplace_activations_write_into_the_input(torch_ref, name, kwargs):
    x_np = np.array([[-1.0, 0.5], [2.0, -0.25]])
    results = []
    for lib in (retrograd, torch_ref):
        module = getattr(lib.nn, name)(inplace=True, **kwargs)
        leaf = _t(lib, x_np, True)
        x = leaf * 1.0
        out = module(x)
        assert out is x  # the very tensor, changed in place
        out.sum().backward()
        results.append((x.detach().numpy().copy(), leaf.grad.numpy().copy()))
        assert repr(module) == repr(getattr(torch_ref.nn, name)(inplace=True, **kwargs))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_relu_kink_and_softmax_default_dim_warning(torch_ref):
    x = retrograd.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    nn.ReLU()(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]  # PyTorch's subgradient at 0
    with pytest.warns(UserWarning, match="dim"):
        nn.Softmax()(retrograd.ones(2, 3))
    with pytest.raises(RuntimeError, match="approximate"):
        nn.GELU("fast")(retrograd.ones(2))


def test_functional_activation_forms(torch_ref, rng):
    F, TF = nn.functional, torch_ref.nn.functional
    x = rng.uniform(-8, 8, (3, 4))
    for ours, theirs in [(F.relu6, TF.relu6), (F.elu, TF.elu), (F.relu, TF.relu),
                         (F.silu, TF.silu), (F.leaky_relu, TF.leaky_relu)]:
        np.testing.assert_allclose(ours(_t(retrograd, x)).numpy(), theirs(_t(torch_ref, x)).numpy(),
                                   rtol=1e-12)
    y = _t(retrograd, x)
    assert F.relu_(y) is y and y.min().item() >= 0
    z = _t(retrograd, x)
    assert F.elu(z, inplace=True) is z


# ---- nn.init -------------------------------------------------------------------------------


def test_calculate_gain_and_fans_match_torch(torch_ref):
    I, TI = nn.init, torch_ref.nn.init
    for name in ["linear", "conv1d", "conv2d", "sigmoid", "tanh", "relu", "selu", "leaky_relu"]:
        assert I.calculate_gain(name) == TI.calculate_gain(name)
    assert I.calculate_gain("leaky_relu", 0.2) == TI.calculate_gain("leaky_relu", 0.2)
    assert I.calculate_gain("leaky_relu", math.sqrt(5)) == TI.calculate_gain("leaky_relu",
                                                                               math.sqrt(5))
    for shape in [(3, 4), (8, 3, 5, 5), (2, 6, 3)]:
        assert (I._calculate_fan_in_and_fan_out(retrograd.empty(*shape))
                == TI._calculate_fan_in_and_fan_out(torch_ref.empty(*shape)))
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        I.calculate_gain("foo")
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        I._calculate_fan_in_and_fan_out(retrograd.empty(3))
    with pytest.raises(ValueError, match="Mode"):
        I.kaiming_uniform_(retrograd.empty(3, 4), mode="fan_x")


def _stats(t):
    a = t.detach().numpy().astype(np.float64)
    return a.mean(), a.std(), a.min(), a.max()


def test_init_distributions_have_the_right_scale():
    I = nn.init
    retrograd.manual_seed(0)
    w = nn.Parameter(retrograd.empty(200, 300))  # requires grad: init works anyway
    fan_in, fan_out = 300, 200

    I.uniform_(w, -0.5, 1.5)
    mean, _, lo, hi = _stats(w)
    assert lo >= -0.5 and hi < 1.5 and abs(mean - 0.5) < 0.02

    I.normal_(w, 2.0, 0.5)
    mean, std, _, _ = _stats(w)
    assert abs(mean - 2.0) < 0.01 and abs(std - 0.5) < 0.01

    I.xavier_uniform_(w, gain=2.0)
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    _, std, lo, hi = _stats(w)
    assert -bound <= lo and hi <= bound and abs(std - bound / math.sqrt(3)) < 0.02 * bound

    I.xavier_normal_(w)
    assert abs(_stats(w)[1] - math.sqrt(2 / (fan_in + fan_out))) < 0.01

    I.kaiming_uniform_(w, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / fan_in)
    _, std, lo, hi = _stats(w)
    assert -bound <= lo and hi <= bound and abs(std - bound / math.sqrt(3)) < 0.02 * bound

    I.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(_stats(w)[1] - math.sqrt(2 / fan_out)) < 0.02 * math.sqrt(2 / fan_out)

    I.trunc_normal_(w, mean=0.0, std=1.0, a=-0.5, b=1.0)
    mean, _, lo, hi = _stats(w)
    assert lo >= -0.5 and hi <= 1.0 and mean > 0  # the interval leans right

    assert w.requires_grad and w.grad_fn is None and w.dtype == retrograd.float32


def test_init_constant_fills_and_identity(torch_ref):
    I = nn.init
    w = nn.Parameter(retrograd.empty(3, 4))
    assert I.constant_(w, 0.25) is w and w.tolist() == [[0.25] * 4] * 3
    I.zeros_(w)
    assert w.abs().sum().item() == 0
    I.ones_(w)
    assert w.sum().item() == 12
    I.eye_(w)
    np.testing.assert_array_equal(w.detach().numpy(), np.eye(3, 4))
    with pytest.raises(ValueError, match="2 dimensions"):
        I.eye_(retrograd.empty(3))
    conv = retrograd.empty(4, 2, 3, 3)
    I.dirac_(conv, groups=2)
    theirs = torch_ref.empty(4, 2, 3, 3)
    torch_ref.nn.init.dirac_(theirs, groups=2)
    np.testing.assert_array_equal(conv.numpy(), theirs.numpy())


def test_orthogonal_init():
    for shape in [(5, 3), (3, 5), (4, 2, 2)]:
        w = retrograd.empty(*shape)
        nn.init.orthogonal_(w, gain=2.0)
        flat = w.numpy().reshape(shape[0], -1).astype(np.float64)
        gram = flat @ flat.T if shape[0] <= flat.shape[1] else flat.T @ flat
        np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-5)


def test_init_is_reproducible_with_manual_seed_and_warns_on_empty():
    retrograd.manual_seed(3)
    a = nn.init.kaiming_normal_(retrograd.empty(5, 5)).numpy().copy()
    retrograd.manual_seed(3)
    b = nn.init.kaiming_normal_(retrograd.empty(5, 5)).numpy()
    np.testing.assert_array_equal(a, b)
    with pytest.warns(UserWarning, match="zero-element"):
        nn.init.kaiming_uniform_(retrograd.empty(3, 0))


def test_tensor_uniform_and_normal_fills():
    retrograd.manual_seed(0)
    t = retrograd.empty(1000, dtype=retrograd.float64)
    v0 = t._version
    assert t.uniform_(2, 3) is t and 2 <= t.min().item() and t.max().item() < 3
    assert t._version > v0  # an in-place change, seen by saved-tensor checks
    t.normal_(mean=-1.0, std=0.1)
    assert abs(t.mean().item() + 1) < 0.02 and t.dtype == retrograd.float64
    with pytest.raises(RuntimeError, match="from=3.0 > to=2.0"):
        t.uniform_(3, 2)
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        t.normal_(0, -1)
    with pytest.raises(RuntimeError, match="floating point"):
        retrograd.zeros(3, dtype=retrograd.int64).uniform_()
    leaf = retrograd.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.uniform_()
    with retrograd.no_grad():
        leaf.uniform_()


# ---- nn.utils ------------------------------------------------------------------------------


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(torch_ref, rng, norm_type, max_norm):
    grads = [rng.standard_normal(s) for s in [(3, 4), (4,), (2, 2)]]
    results = []
    for lib in (retrograd, torch_ref):
        params = [lib.zeros(*g.shape, dtype=lib.float64, requires_grad=True) for g in grads]
        for p, g in zip(params, grads):
            p.grad = _t(lib, g)
        params.append(lib.zeros(2, requires_grad=True))  # no grad: skipped
        total = lib.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
        results.append((total.item(), [p.grad.numpy().copy() for p in params[:-1]]))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_clip_grad_norm_edge_cases():
    p = retrograd.zeros(2, requires_grad=True)
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0  # no gradients at all
    p.grad = retrograd.tensor([3.0, 4.0])
    total = nn.utils.clip_grad_norm_(p, 1.0)  # a single tensor is accepted too
    assert total.item() == pytest.approx(5.0) and total.dtype == retrograd.float32
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    p.grad = retrograd.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert p.grad.tolist()[1] == 1.0  # unchanged by the failed call


def test_clip_grad_value_matches_torch(torch_ref, rng):
    g = rng.standard_normal((4, 5))
    out = []
    for lib in (retrograd, torch_ref):
        p = lib.zeros(4, 5, dtype=lib.float64, requires_grad=True)
        p.grad = _t(lib, g)
        assert lib.nn.utils.clip_grad_value_([p], 0.5) is None
        out.append(p.grad.numpy())
    np.testing.assert_array_equal(out[0], out[1])


def test_parameters_to_vector_and_back(torch_ref):
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (3 * 2 + 2 + 2 + 1,)
    np.testing.assert_array_equal(vec.detach().numpy()[:6],
                                  model[0].weight.detach().numpy().ravel())
    vec.sum().backward()  # differentiable: every parameter gets ones
    assert model[0].weight.grad.tolist() == [[1.0] * 3] * 2
    w = model[0].weight
    nn.utils.vector_to_parameters(retrograd.arange(11, dtype=retrograd.float32),
                                  model.parameters())
    assert model[0].weight is w
    assert model[0].weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert model[1].bias.tolist() == [10.0]
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        nn.utils.vector_to_parameters([1.0], model.parameters())
    with pytest.raises(RuntimeError, match="11 elements"):
        nn.utils.vector_to_parameters(retrograd.zeros(3), model.parameters())


def test_layers_follow_the_default_dtype():
    """Parameters are made in the default dtype when none is given (Linear used float32)."""
    previous = retrograd.get_default_dtype()
    retrograd.set_default_dtype(retrograd.float64)
    try:
        layers = [nn.Linear(2, 3), nn.Conv1d(2, 3, 1), nn.LayerNorm(3),
                  nn.BatchNorm1d(3), nn.Embedding(4, 3), nn.LSTM(2, 3),
                  nn.GRUCell(2, 3)]
        for layer in layers:
            assert {p.dtype for p in layer.parameters()} == {retrograd.float64}, layer
    finally:
        retrograd.set_default_dtype(previous)
