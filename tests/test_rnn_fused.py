"""nn.LSTM's fused layers (ops/nn/rnn_fused.py, ``LstmLayer``) against the op-by-op loop and
against torch.

The fused op runs only in float32 (where PyTorch runs its fused CPU layer); here the tests also
switch it on in float64 (``rnn._FUSED_DTYPES``) to compare it with the loop to rounding, over
every option nn.LSTM has (layers, directions, batch_first, unbatched, initial states, no bias,
dropout between layers, packed sequences), to first and second order. In float32: values,
gradients and the nodes users see against torch. Then the cases that must take the loop
(forward-mode AD, vmap, projections), and the saved tensors' version checks.
"""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
import retrograd.nn as nn
from retrograd.autograd import gradcheck, gradgradcheck
from retrograd.nn import rnn
from retrograd.nn.utils.rnn import pack_padded_sequence

T, B, I, H = 4, 3, 5, 6

# (num_layers, bidirectional, batch_first, unbatched, initial states given, extra options)
CONFIGS = {
    "1-layer": (1, False, False, False, False, {}),
    "1-layer-states": (1, False, False, False, True, {}),
    "2-layer-bidir-states": (2, True, False, False, True, {}),
    "2-layer-batch-first": (2, False, True, False, True, {}),
    "bidir-batch-first": (1, True, True, False, False, {}),
    "unbatched-bidir": (2, True, False, True, True, {}),
    "no-bias": (2, True, False, False, True, {"bias": False}),
}


@pytest.fixture
def fused64(monkeypatch):
    """Let nn.LSTM take the fused op in float64 too."""
    monkeypatch.setattr(rnn, "_FUSED_DTYPES", (np.float32, np.float64))


def _loop(monkeypatch):
    monkeypatch.setattr(rnn, "_fused_layers", lambda *args: False)


def _arrays(rng, config, dtype=np.float64):
    layers, bidirectional, batch_first, unbatched, with_states, _ = CONFIGS[config]
    x_shape = (T, I) if unbatched else ((B, T, I) if batch_first else (T, B, I))
    lead = layers * (2 if bidirectional else 1)
    s_shape = (lead, H) if unbatched else (lead, B, H)
    states = [rng.standard_normal(s_shape).astype(dtype) for _ in range(2)] if with_states \
        else None
    return rng.standard_normal(x_shape).astype(dtype), states


def _module(lib, config, dtype):
    layers, bidirectional, batch_first, _, _, extra = CONFIGS[config]
    lib.manual_seed(3)
    m = lib.nn.LSTM(I, H, layers, bidirectional=bidirectional, batch_first=batch_first, **extra)
    return m.to(dtype)


def _run(lib, m, x_arr, states, seed=1):
    """Outputs (output, h_n, c_n) and the gradients of a random projection of them with respect
    to the input, the initial states and every parameter."""
    x = lib.tensor(x_arr, requires_grad=True)
    hx = None if states is None else tuple(lib.tensor(s, requires_grad=True) for s in states)
    out, (h, c) = m(x) if hx is None else m(x, hx)
    rng = np.random.default_rng(seed)
    loss = sum((o * lib.tensor(rng.standard_normal(tuple(o.shape)).astype(x_arr.dtype))).sum()
               for o in (out, h, c))
    wrt = [x, *(hx or ()), *m.parameters()]
    return (out, h, c), lib.autograd.grad(loss, wrt)


def _close(got, want, rtol, atol, what=""):
    for k, (a, b) in enumerate(zip(got, want, strict=True)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"{what} {k}")


def _names(node) -> list:
    return [None if n is None else type(n).__name__ for n, _ in node.next_functions]


# ---- the fused op against the loop, float64 ---------------------------------------------------


@pytest.mark.parametrize("config", list(CONFIGS))
def test_fused_matches_loop(config, fused64, monkeypatch, rng):
    x, states = _arrays(rng, config)
    m = _module(retrograd, config, retrograd.float64)
    fused_outs, fused_grads = _run(retrograd, m, x, states)
    node = fused_outs[0].grad_fn
    while type(node).__name__ in ("TransposeBackward0", "CatBackward0", "SqueezeBackward1"):
        node = node.next_functions[0][0]  # (down to a layer's node)
    assert type(node).__name__ == "MkldnnRnnLayerBackward0"
    _loop(monkeypatch)
    loop_outs, loop_grads = _run(retrograd, m, x, states)
    assert type(loop_outs[0].grad_fn).__name__ != "MkldnnRnnLayerBackward0"
    _close(fused_outs, loop_outs, 1e-12, 1e-13, "output")
    _close(fused_grads, loop_grads, 1e-10, 1e-12, "gradient")


def test_dropout_between_layers_matches_loop(fused64, monkeypatch, rng):
    m = nn.LSTM(I, H, 3, dropout=0.5, dtype=retrograd.float64)
    x = rng.standard_normal((T, B, I))
    retrograd.manual_seed(5)
    fused = _run(retrograd, m, x, None)
    _loop(monkeypatch)
    retrograd.manual_seed(5)
    loop = _run(retrograd, m, x, None)
    _close(fused[0] + fused[1], loop[0] + loop[1], 1e-10, 1e-12)
    assert np.any(fused[0][0].detach().numpy() != 0)


@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_sequence_matches_loop(batch_first, fused64, monkeypatch, rng):
    m = nn.LSTM(I, H, 2, bidirectional=True, batch_first=batch_first, dtype=retrograd.float64)
    lengths = [2, T, 3]
    padded = rng.standard_normal((B, T, I) if batch_first else (T, B, I))
    states = [rng.standard_normal((4, B, H)) for _ in range(2)]

    def run():
        x = retrograd.tensor(padded, requires_grad=True)
        hx = tuple(retrograd.tensor(s, requires_grad=True) for s in states)
        packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
        out, (h, c) = m(packed, hx)
        loss = (out.data ** 2).sum() + (h * c).sum()
        return [out.data, h, c], retrograd.autograd.grad(loss, [x, *hx, *m.parameters()])

    fused = run()
    _loop(monkeypatch)
    loop = run()
    _close(fused[0] + list(fused[1]), loop[0] + list(loop[1]), 1e-10, 1e-12)


def test_double_backward_matches_loop(fused64, monkeypatch, rng):
    """A gradient penalty: the fused op's tensor backward (create_graph) recomputes the steps."""
    m = nn.LSTM(I, H, 2, bidirectional=True, dtype=retrograd.float64)
    x_arr = rng.standard_normal((T, B, I))
    states = [rng.standard_normal((4, B, H)) for _ in range(2)]

    def run():
        x = retrograd.tensor(x_arr, requires_grad=True)
        hx = tuple(retrograd.tensor(s, requires_grad=True) for s in states)
        out, (h, c) = m(x, hx)
        gx, gh = retrograd.autograd.grad((out * out).sum() + (c * h).sum(), [x, hx[0]],
                                         create_graph=True)
        return retrograd.autograd.grad((gx * gx).sum() + gh.pow(3).sum(),
                                       [x, *hx, *m.parameters()])

    fused = run()
    _loop(monkeypatch)
    _close(fused, run(), 1e-9, 1e-11, "second-order gradient")


def test_gradcheck_through_the_module(fused64):
    m = nn.LSTM(2, 2, 2, bidirectional=True, dtype=retrograd.float64)
    x = retrograd.randn(3, 2, 2, dtype=retrograd.float64, requires_grad=True)
    h0 = retrograd.randn(4, 2, 2, dtype=retrograd.float64, requires_grad=True)
    c0 = retrograd.randn(4, 2, 2, dtype=retrograd.float64, requires_grad=True)
    w = m.weight_hh_l1_reverse

    def f(x, h0, c0, w):
        out, (h, c) = retrograd.func.functional_call(m, {"weight_hh_l1_reverse": w},
                                                     (x, (h0, c0)))
        return out, h, c

    assert type(f(x, h0, c0, w)[0].grad_fn).__name__ == "CatBackward0"
    assert gradcheck(f, (x, h0, c0, w))
    assert gradgradcheck(lambda x, c0: f(x, h0, c0, w)[2], (x, c0))


def test_fast_and_tensor_backward_agree(rng):
    """The array backward (no graph) and the recomputing tensor one give the same gradients."""
    from retrograd.ops.nn.rnn_fused import LstmLayer

    arrays = [rng.standard_normal(s) for s in ((T, B, I), (4 * H, I), (4 * H, H), (4 * H,),
                                               (4 * H,), (B, H), (B, H))]
    for reverse in (False, True):
        grads = []
        for create_graph in (False, True):
            args = [retrograd.tensor(a, requires_grad=True) for a in arrays]
            out, h, c = LstmLayer.apply(*args, reverse)
            loss = (out * out).sum() + h.sum() + (c * c * c).sum()
            grads.append(retrograd.autograd.grad(loss, args, create_graph=create_graph))
        _close(grads[0], grads[1], 1e-12, 1e-13, f"reverse={reverse}: gradient")


# ---- float32 against torch: values, gradients, nodes ------------------------------------------


@pytest.mark.parametrize("config", list(CONFIGS))
def test_float32_matches_torch(config, torch_ref, rng):
    x, states = _arrays(rng, config, np.float32)
    r = _module(retrograd, config, retrograd.float32)
    t = _module(torch_ref, config, torch_ref.float32)
    t.load_state_dict({k: torch_ref.from_numpy(v.numpy().copy())
                       for k, v in r.state_dict().items()})
    (r_outs, r_grads), (t_outs, t_grads) = _run(retrograd, r, x, states), _run(torch_ref, t, x,
                                                                                 states)
    _close(r_outs, t_outs, 1e-4, 1e-5, "output")
    _close(r_grads, t_grads, 1e-4, 1e-5, "gradient")
    for a, b in zip(r_outs, t_outs):  # the nodes users see, and the ones next to them
        assert type(a.grad_fn).__name__ == type(b.grad_fn).__name__
        assert _names(a.grad_fn) == _names(b.grad_fn)


def test_layer_node_inputs_and_outputs_as_torch(torch_ref):
    r = nn.LSTM(I, H, 2)
    out, (h, c) = r(retrograd.randn(T, B, I, requires_grad=True))
    t = torch_ref.nn.LSTM(I, H, 2)
    t_out, (t_h, t_c) = t(torch_ref.randn(T, B, I, requires_grad=True))
    for a, b in ((out, t_out), (h, t_h), (c, t_c)):
        assert [(type(n).__name__, k) for n, k in a.grad_fn.next_functions] == \
            [(type(n).__name__, k) for n, k in b.grad_fn.next_functions]
    first = out.grad_fn.next_functions[0][0]  # layer 0, whose input is a leaf
    assert _names(first) == _names(t_out.grad_fn.next_functions[0][0])


# ---- where the loop runs instead --------------------------------------------------------------


def test_forward_mode_ad_takes_the_loop(fused64, rng):
    m = nn.LSTM(I, H, 2, bidirectional=True, dtype=retrograd.float64)
    x = retrograd.tensor(rng.standard_normal((T, B, I)))
    tangent = retrograd.tensor(rng.standard_normal((T, B, I)))
    fwAD = retrograd.autograd.forward_ad
    with fwAD.dual_level():
        out, (h, c) = m(fwAD.make_dual(x, tangent))
        jvp = fwAD.unpack_dual(out).tangent
    eps = 1e-6
    with retrograd.no_grad():
        numeric = (m(x + eps * tangent)[0] - m(x - eps * tangent)[0]) / (2 * eps)
    np.testing.assert_allclose(jvp.detach().numpy(), numeric.numpy(), rtol=1e-6, atol=1e-8)


def test_vmap_per_sample_gradients_take_the_loop(rng):
    m = nn.LSTM(I, H)
    params = {k: p.detach() for k, p in m.named_parameters()}
    xs = retrograd.tensor(rng.standard_normal((B, T, I)).astype(np.float32))

    def loss(params, x):
        out, _ = retrograd.func.functional_call(m, params, (x[:, None],))
        return (out * out).sum()

    per_sample = retrograd.func.vmap(retrograd.func.grad(loss), in_dims=(None, 0))(params, xs)
    for k in range(B):  # one sample at a time: the fused op
        one = retrograd.func.grad(loss)(params, xs[k])
        for name in params:
            np.testing.assert_allclose(per_sample[name][k].numpy(), one[name].numpy(),
                                       rtol=1e-4, atol=1e-6)


def test_projections_take_the_loop():
    out, (h, c) = nn.LSTM(I, H, proj_size=2)(retrograd.randn(T, B, I))
    assert type(out.grad_fn).__name__ == "StackBackward0"
    out, (h, c) = nn.LSTM(I, H, dtype=retrograd.float64)(retrograd.randn(T, B, I,
                                                                         dtype=retrograd.float64))
    assert type(out.grad_fn).__name__ == "StackBackward0"  # float64, as PyTorch


# ---- the graph's bookkeeping ------------------------------------------------------------------


def test_changed_output_or_weight_is_caught():
    m = nn.LSTM(I, H)
    out, _ = m(retrograd.randn(T, B, I))
    out.mul_(2)  # the saved output shares its memory with the states backward reads
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
    out, _ = m(retrograd.randn(T, B, I))
    with retrograd.no_grad():
        m.weight_hh_l0.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_retain_graph_and_no_grad():
    m = nn.LSTM(I, H, 2)
    x = retrograd.randn(T, B, I)
    out, (h, c) = m(x)
    (out.sum() + c.sum()).backward(retain_graph=True)
    first = m.weight_ih_l0.grad.clone()
    (out.sum() + c.sum()).backward()
    np.testing.assert_allclose(m.weight_ih_l0.grad.numpy(), 2 * first.numpy(), rtol=1e-6)
    with retrograd.no_grad():
        out2, (h2, c2) = m(x)
    assert out2.grad_fn is None and h2.grad_fn is None
    np.testing.assert_array_equal(out2.numpy(), out.detach().numpy())
    np.testing.assert_array_equal(c2.numpy(), c.detach().numpy())
