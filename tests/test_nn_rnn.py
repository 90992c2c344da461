"""Recurrent layers (nn.RNN, nn.LSTM, nn.GRU) and cells (RNNCell, LSTMCell, GRUCell).

Against torch on the same float64 weights and data: outputs, final states, and the gradients
of the input, the initial states and every parameter, over the options that change the
computation (layers, directions, batch_first, unbatched input, given or zero initial states,
no bias, projections). Then float64 gradcheck and gradgradcheck, fast_backward and backward of the
fused cells against each other, parameter names and shapes, repr, initialisation, dropout
between layers, and the errors for bad input.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import retrograd
import retrograd.nn as nn
from retrograd.autograd import gradcheck, gradgradcheck

MODES = {"RNN_TANH": ("RNN", {}), "RNN_RELU": ("RNN", {"nonlinearity": "relu"}),
         "LSTM": ("LSTM", {}), "GRU": ("GRU", {})}

# (num_layers, bidirectional, batch_first, unbatched, initial state given, extra options)
CONFIGS = {
    "1-layer": (1, False, False, False, False, {}),
    "1-layer-h0": (1, False, False, False, True, {}),
    "2-layer-bidir-h0": (2, True, False, False, True, {}),
    "2-layer-batch-first-h0": (2, False, True, False, True, {}),
    "bidir-batch-first": (1, True, True, False, False, {}),
    "unbatched": (1, False, False, True, False, {}),
    "unbatched-2-layer-bidir-h0": (2, True, False, True, True, {}),
    "no-bias-2-layer": (2, False, False, False, True, {"bias": False}),
}

T, B, I, H = 4, 3, 5, 6  # sequence length, batch, input size, hidden size


def _module(lib, mode: str, *args, **kwargs):
    cls, extra = MODES[mode]
    return getattr(lib.nn, cls)(*args, **{**extra, **kwargs})


def _twins(torch, mode: str, *args, **kwargs):
    """A retrograd module in float64 and a torch one with the very same parameters."""
    r = _module(retrograd, mode, *args, dtype=retrograd.float64, **kwargs)
    t = _module(torch, mode, *args, **kwargs).double()
    r_names = [n for n, _ in r.named_parameters()]
    t_names = [n for n, _ in t.named_parameters()]
    assert r_names == t_names
    with torch.no_grad():
        for name, p in r.named_parameters():
            getattr(t, name).copy_(torch.from_numpy(p.detach().numpy().copy()))
    return r, t


def _states(mode: str, lib, arrays):
    if arrays is None:
        return None
    ts = [lib.tensor(a, requires_grad=True) for a in arrays]
    return tuple(ts) if mode == "LSTM" else ts[0]


def _flat(out) -> list:
    """(output, h_n) or (output, (h_n, c_n)) as a flat list of tensors."""
    output, hidden = out
    return [output, *(hidden if isinstance(hidden, tuple) else (hidden,))]


def _run(lib, module, mode: str, x_arr, state_arrays, seed: int = 1):
    x = lib.tensor(x_arr, requires_grad=True)
    hx = _states(mode, lib, state_arrays)
    outs = _flat(module(x, hx) if hx is not None else module(x))
    rng = np.random.default_rng(seed)
    loss = sum((o * lib.tensor(rng.standard_normal(tuple(o.shape)))).sum() for o in outs)
    wrt = [x, *(() if hx is None else (hx if isinstance(hx, tuple) else (hx,)))]
    params = list(module.parameters())
    grads = lib.autograd.grad(loss, wrt + params)
    return outs, grads


def _np(t) -> np.ndarray:
    return t.detach().numpy()


def _assert_close(got, want, what: str, rtol: float = 1e-9, atol: float = 1e-11) -> None:
    assert tuple(got.shape) == tuple(want.shape), f"{what}: shape {got.shape} != {want.shape}"
    np.testing.assert_allclose(_np(got), _np(want), rtol=rtol, atol=atol, err_msg=what)


def _compare(torch, r, t, mode: str, x_arr, state_arrays) -> None:
    r_outs, r_grads = _run(retrograd, r, mode, x_arr, state_arrays)
    t_outs, t_grads = _run(torch, t, mode, x_arr, state_arrays)
    for k, (a, b) in enumerate(zip(r_outs, t_outs)):
        _assert_close(a, b, f"output {k}")
    names = ["input", "h0", "c0"][:len(r_grads) - len(list(r.parameters()))]
    names += [n for n, _ in r.named_parameters()]
    assert len(r_grads) == len(t_grads) == len(names)
    for name, a, b in zip(names, r_grads, t_grads):
        _assert_close(a, b, f"gradient of {name}")


def _input_arrays(rng, mode, layers, bidirectional, batch_first, unbatched, with_h0,
                  hidden=H, proj=0):
    x_shape = (T, I) if unbatched else ((B, T, I) if batch_first else (T, B, I))
    lead = layers * (2 if bidirectional else 1)
    h_shape = (lead, proj or hidden) if unbatched else (lead, B, proj or hidden)
    c_shape = (lead, hidden) if unbatched else (lead, B, hidden)
    states = None
    if with_h0:
        states = [rng.standard_normal(h_shape)]
        if mode == "LSTM":
            states.append(rng.standard_normal(c_shape))
    return rng.standard_normal(x_shape), states


# ---- against torch ---------------------------------------------------------------------------


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("mode", list(MODES))
def test_layer_matches_torch(mode, config, torch_ref, rng):
    layers, bidirectional, batch_first, unbatched, with_h0, extra = CONFIGS[config]
    r, t = _twins(torch_ref, mode, I, H, layers, bidirectional=bidirectional,
                  batch_first=batch_first, **extra)
    x, states = _input_arrays(rng, mode, layers, bidirectional, batch_first, unbatched, with_h0)
    _compare(torch_ref, r, t, mode, x, states)


@pytest.mark.parametrize("config", ["1-layer", "2-layer-bidir-h0", "unbatched-2-layer-bidir-h0",
                                    "no-bias-2-layer"])
def test_lstm_with_projections_matches_torch(config, torch_ref, rng):
    layers, bidirectional, batch_first, unbatched, with_h0, extra = CONFIGS[config]
    r, t = _twins(torch_ref, "LSTM", I, H, layers, bidirectional=bidirectional,
                  batch_first=batch_first, proj_size=3, **extra)
    assert r.weight_hr_l0.shape == (3, H) and r.weight_hh_l0.shape == (4 * H, 3)
    x, states = _input_arrays(rng, "LSTM", layers, bidirectional, batch_first, unbatched,
                              with_h0, proj=3)
    _compare(torch_ref, r, t, "LSTM", x, states)


def test_output_shapes_and_node_names(torch_ref):
    x = retrograd.randn(T, B, I)
    out, (h, c) = nn.LSTM(I, H, 2, bidirectional=True)(x)
    assert out.shape == (T, B, 2 * H) and h.shape == c.shape == (4, B, H)
    assert type(out.grad_fn).__name__ == "CatBackward0"
    assert type(h.grad_fn).__name__ == type(c.grad_fn).__name__ == "StackBackward0"
    out, h = nn.GRU(I, H, batch_first=True)(retrograd.randn(B, T, I))
    assert out.shape == (B, T, H) and h.shape == (1, B, H)
    out, h = nn.RNN(I, H, 3)(retrograd.randn(T, I))
    assert out.shape == (T, H) and h.shape == (3, H)


def test_float32_matches_torch(torch_ref, rng):
    r = nn.LSTM(I, H, 2, bidirectional=True)
    t = torch_ref.nn.LSTM(I, H, 2, bidirectional=True)
    t.load_state_dict({k: torch_ref.from_numpy(v.numpy().copy())
                       for k, v in r.state_dict().items()})
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    out, (h, c) = r(retrograd.tensor(x))
    t_out, (t_h, t_c) = t(torch_ref.tensor(x))
    assert out.dtype == retrograd.float32 and h.dtype == retrograd.float32
    for a, b in ((out, t_out), (h, t_h), (c, t_c)):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-5, atol=1e-6)


def test_double_backward_matches_torch(torch_ref, rng):
    """A gradient penalty through an LSTM and a GRU: the backward of the backward."""
    for mode in ("LSTM", "GRU"):
        r, t = _twins(torch_ref, mode, I, H, 2, bidirectional=True)
        x_arr = rng.standard_normal((T, B, I))
        results = []
        for lib, m in ((retrograd, r), (torch_ref, t)):
            x = lib.tensor(x_arr, requires_grad=True)
            out, _ = m(x)
            (gx,) = lib.autograd.grad((out * out).sum(), x, create_graph=True)
            penalty = (gx * gx).sum()
            results.append(lib.autograd.grad(penalty, [x, *m.parameters()]))
        for a, b in zip(*results):
            _assert_close(a, b, f"{mode}: second-order gradient")


def test_state_dict_from_torch_loads(torch_ref, rng):
    t = torch_ref.nn.GRU(I, H, 2, bidirectional=True, batch_first=True).double()
    r = nn.GRU(I, H, 2, bidirectional=True, batch_first=True, dtype=retrograd.float64)
    r.load_state_dict({k: retrograd.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = rng.standard_normal((B, T, I))
    out, h = r(retrograd.tensor(x))
    t_out, t_h = t(torch_ref.tensor(x))
    _assert_close(out, t_out, "output")
    _assert_close(h, t_h, "h_n")


# ---- cells -----------------------------------------------------------------------------------

CELLS = {"RNNCell": {}, "RNNCell-relu": {"nonlinearity": "relu"}, "LSTMCell": {},
         "GRUCell": {}, "LSTMCell-no-bias": {"bias": False}, "GRUCell-no-bias": {"bias": False}}


def _cell(lib, key: str, dtype=None):
    cls = key.split("-")[0]
    kwargs = CELLS[key]
    return getattr(lib.nn, cls)(I, H, **kwargs, **({} if dtype is None else {"dtype": dtype}))


@pytest.mark.parametrize("with_hx", [True, False], ids=["hx", "no-hx"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("key", list(CELLS))
def test_cell_matches_torch(key, batched, with_hx, torch_ref, rng):
    torch = torch_ref
    r = _cell(retrograd, key, retrograd.float64)
    t = _cell(torch, key).double()
    t.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in r.state_dict().items()})
    lstm = key.startswith("LSTM")
    lead = (B,) if batched else ()
    x_arr = rng.standard_normal(lead + (I,))
    state_arrays = [rng.standard_normal(lead + (H,)) for _ in range(2 if lstm else 1)]
    results = []
    for lib, m in ((retrograd, r), (torch, t)):
        x = lib.tensor(x_arr, requires_grad=True)
        states = [lib.tensor(a, requires_grad=True) for a in state_arrays]
        if with_hx:
            out = m(x, tuple(states) if lstm else states[0])
        else:
            out = m(x)
        outs = list(out) if lstm else [out]
        loss = sum((o * lib.tensor(np.linspace(-1, 1, o.numel()).reshape(tuple(o.shape))))
                   .sum() for o in outs)
        wrt = [x, *(states if with_hx else []), *m.parameters()]
        results.append((outs, lib.autograd.grad(loss, wrt)))
    (r_outs, r_grads), (t_outs, t_grads) = results
    for k, (a, b) in enumerate(zip(r_outs, t_outs)):
        _assert_close(a, b, f"output {k}")
    for k, (a, b) in enumerate(zip(r_grads, t_grads)):
        _assert_close(a, b, f"gradient {k}")


@pytest.mark.parametrize("name", ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"])
def test_functional_cells_match_torch(name, torch_ref, rng):
    chunks = {"lstm_cell": 4, "gru_cell": 3}.get(name, 1)
    arrays = [rng.standard_normal(s) for s in ((B, I), (B, H), (B, H), (chunks * H, I),
                                               (chunks * H, H), (chunks * H,), (chunks * H,))]
    results = []
    for lib in (retrograd, torch_ref):
        x, h, c, *w = [lib.tensor(a, requires_grad=True) for a in arrays]
        fn = getattr(lib, name)
        outs = list(fn(x, (h, c), *w)) if name == "lstm_cell" else [fn(x, h, *w)]
        wrt = [x, h, *([c] if name == "lstm_cell" else []), *w]
        loss = sum((o * o.detach().cos()).sum() for o in outs)
        results.append((outs, lib.autograd.grad(loss, wrt)))
    for a, b in zip(results[0][0] + list(results[0][1]), results[1][0] + list(results[1][1])):
        _assert_close(a, b, name)
    assert type(results[0][0][0].grad_fn).__name__ == type(results[1][0][0].grad_fn).__name__


# ---- finite differences ----------------------------------------------------------------------


def _small(mode: str, **kwargs):
    retrograd.manual_seed(0)
    m = _module(retrograd, mode, 2, 3, dtype=retrograd.float64, **kwargs)
    with retrograd.no_grad():  # larger weights than the default init: a stronger test
        for p in m.parameters():
            p.mul_(2.0)
    return m


def _gradcheck_layer(mode: str, fast: bool, second: bool, **kwargs) -> None:
    m = _small(mode, **kwargs)
    rng = np.random.default_rng(1)
    lead = m.num_layers * (2 if m.bidirectional else 1)
    x = retrograd.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    states = [retrograd.tensor(rng.standard_normal((lead, 2, m.proj_size or 3)),
                               requires_grad=True)]
    if mode == "LSTM":
        states.append(retrograd.tensor(rng.standard_normal((lead, 2, 3)), requires_grad=True))
    params = list(m.parameters())

    def fn(x, *rest):
        hx = tuple(rest[:2]) if mode == "LSTM" else rest[0]
        return tuple(_flat(m(x, hx)))

    inputs = (x, *states, *params)
    assert gradcheck(fn, inputs, fast_mode=fast)
    if second:
        assert gradgradcheck(fn, inputs, fast_mode=True)


@pytest.mark.parametrize("mode", list(MODES))
def test_gradcheck_one_layer(mode):
    _gradcheck_layer(mode, fast=False, second=True)


@pytest.mark.parametrize("mode", list(MODES))
def test_gradcheck_two_layers_bidirectional(mode):
    _gradcheck_layer(mode, fast=True, second=True, num_layers=2, bidirectional=True)


def test_gradcheck_lstm_projection_no_bias():
    _gradcheck_layer("LSTM", fast=False, second=True, proj_size=2, bias=False)


@pytest.mark.parametrize("name", ["lstm_cell", "gru_cell", "rnn_tanh_cell"])
def test_gradcheck_functional_cells(name, rng):
    chunks = {"lstm_cell": 4, "gru_cell": 3}.get(name, 1)
    shapes = ((2, 3), (2, 2), (2, 2), (chunks * 2, 3), (chunks * 2, 2), (chunks * 2,),
              (chunks * 2,))
    inputs = [retrograd.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    fn = getattr(retrograd, name)

    def f(x, h, c, *w):
        return fn(x, (h, c), *w) if name == "lstm_cell" else fn(x, h, *w) * c

    assert gradcheck(f, inputs)
    assert gradgradcheck(f, inputs)


@pytest.mark.parametrize("which", ["h", "c", "both"])
def test_fused_lstm_cell_fast_and_graph_backward_agree(which, rng):
    """fast_backward (arrays; runs without create_graph) and backward (tensor ops; runs with
    create_graph) give the same gradient, also when only one of the cell's outputs is used."""
    arrays = [rng.standard_normal(s) for s in ((3, 16), (3, 4))]
    results = []
    for create_graph in (False, True):
        gates, c = [retrograd.tensor(a, requires_grad=True) for a in arrays]
        h2, c2 = retrograd.ops.nn.rnn_cells.LstmCell.apply(gates, c)
        used = {"h": [h2], "c": [c2], "both": [h2, c2]}[which]
        loss = sum((u * retrograd.tensor(np.arange(12.0).reshape(3, 4))).sum() for u in used)
        grads = retrograd.autograd.grad(loss, [gates, c], create_graph=create_graph)
        assert all(g.requires_grad == create_graph for g in grads)
        results.append(grads)
    for a, b in zip(*results):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12, atol=1e-14)


def test_fused_gru_cell_fast_and_graph_backward_agree(rng):
    """As for the LSTM cell: fast_backward and backward (create_graph) agree."""
    arrays = [rng.standard_normal(s) for s in ((3, 12), (3, 12), (3, 4))]
    results = []
    for create_graph in (False, True):
        ts = [retrograd.tensor(a, requires_grad=True) for a in arrays]
        out = retrograd.ops.nn.rnn_cells.GruCell.apply(*ts)
        loss = (out * retrograd.tensor(np.arange(12.0).reshape(3, 4))).sum()
        results.append(retrograd.autograd.grad(loss, ts, create_graph=create_graph))
    for a, b in zip(*results):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12, atol=1e-14)


# ---- parameters, repr, init ------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, {"num_layers": 3, "bidirectional": True},
                                    {"bias": False, "num_layers": 2},
                                    {"proj_size": 2, "bidirectional": True}])
@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_parameter_names_and_shapes_match_torch(cls, kwargs, torch_ref):
    if "proj_size" in kwargs and cls != "LSTM":
        with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
            getattr(nn, cls)(I, H, **kwargs)
        return
    r = getattr(nn, cls)(I, H, **kwargs)
    t = getattr(torch_ref.nn, cls)(I, H, **kwargs)
    assert [(n, tuple(p.shape)) for n, p in r.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    assert r._flat_weights_names == t._flat_weights_names
    assert r._all_weights == t._all_weights
    assert [[tuple(w.shape) for w in ws] for ws in r.all_weights] == \
        [[tuple(w.shape) for w in ws] for ws in t.all_weights]
    assert all(p.dtype == retrograd.float32 and p.requires_grad for p in r.parameters())


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.RNN(4, 5),
    lambda lib: lib.nn.RNN(4, 5, 2, nonlinearity="relu", batch_first=True),
    lambda lib: lib.nn.LSTM(4, 5, num_layers=2, bidirectional=True),
    lambda lib: lib.nn.LSTM(4, 5, 2, bias=False, batch_first=True, dropout=0.5, proj_size=2),
    lambda lib: lib.nn.GRU(4, 5, dropout=0.25, num_layers=3),
    lambda lib: lib.nn.RNNCell(3, 4, bias=False, nonlinearity="relu"),
    lambda lib: lib.nn.LSTMCell(3, 4),
    lambda lib: lib.nn.GRUCell(3, 4, bias=False),
    lambda lib: lib.nn.Sequential(lib.nn.LSTM(3, 4), lib.nn.GRUCell(4, 4)),
])
def test_repr_matches_torch(make, torch_ref):
    assert repr(make(retrograd)) == repr(make(torch_ref))


@pytest.mark.parametrize("make", [lambda: nn.LSTM(4, 16, 2, bidirectional=True),
                                  lambda: nn.GRUCell(4, 16), lambda: nn.RNN(3, 16)])
def test_default_init_is_uniform_in_one_over_sqrt_hidden(make):
    m = make()
    bound = 1 / math.sqrt(16)
    values = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert np.all(np.abs(values) <= bound)
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)
    m2 = make()
    assert not np.array_equal(values, np.concatenate(
        [p.detach().numpy().ravel() for p in m2.parameters()]))


def test_seeded_init_is_reproducible():
    retrograd.manual_seed(3)
    a = nn.GRU(3, 4, 2).state_dict()
    retrograd.manual_seed(3)
    b = nn.GRU(3, 4, 2).state_dict()
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)


def test_dtype_and_double_conversion(rng):
    m = nn.LSTM(3, 4, dtype=retrograd.float64)
    assert all(p.dtype == retrograd.float64 for p in m.parameters())
    m = nn.GRU(3, 4).double()
    out, h = m(retrograd.tensor(rng.standard_normal((2, 1, 3))))
    assert out.dtype == h.dtype == retrograd.float64


# ---- dropout, modes, edge cases --------------------------------------------------------------


def test_dropout_between_layers_only_in_training(rng):
    x = retrograd.tensor(rng.standard_normal((T, B, I)).astype(np.float32))
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(I, H, 1, dropout=0.5)
    m = nn.LSTM(I, H, 3, dropout=0.5)
    ref = nn.LSTM(I, H, 3)
    ref.load_state_dict(m.state_dict())
    m.eval()
    np.testing.assert_array_equal(_np(m(x)[0]), _np(ref(x)[0]))  # eval: no dropout
    m.train()
    retrograd.manual_seed(5)
    first = _np(m(x)[0])
    retrograd.manual_seed(5)
    again = _np(m(x)[0])
    np.testing.assert_array_equal(first, again)  # reproducible from the seed
    assert not np.allclose(first, _np(ref(x)[0]))  # training: dropped out
    # the first layer sees no dropout: a 1-layer model's h_n equals the 3-layer's layer-0 h_n
    m1 = nn.LSTM(I, H, 1)
    m1.load_state_dict({k: v for k, v in m.state_dict().items() if k.endswith("l0")})
    np.testing.assert_allclose(_np(m(x)[1][0][0]), _np(m1(x)[1][0][0]), rtol=1e-6)


def test_dropout_one_zeroes_the_input_of_deeper_layers():
    m = nn.GRU(I, H, 2, dropout=1.0, bias=False)
    out, h = m(retrograd.randn(T, B, I))
    # the second layer sees only zeros, and without biases its state stays exactly zero
    assert np.all(_np(out) == 0) and np.all(_np(h[1]) == 0)


def test_no_grad_forward_records_nothing():
    m = nn.LSTM(I, H, 2, bidirectional=True)
    with retrograd.no_grad():
        out, (h, c) = m(retrograd.randn(T, B, I))
    assert not out.requires_grad and out.grad_fn is None and h.grad_fn is None


def test_training_step_updates_parameters():
    retrograd.manual_seed(0)
    m = nn.GRU(I, H, 2, batch_first=True)
    x = retrograd.randn(B, T, I)
    loss = m(x)[0].pow(2).mean()
    loss.backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in m.parameters())
    assert all(np.abs(p.grad.numpy()).sum() > 0 for p in m.parameters())


def test_empty_batch_and_empty_sequence():
    out, h = nn.RNN(I, H)(retrograd.randn(T, 0, I))
    assert out.shape == (T, 0, H) and h.shape == (1, 0, H)
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0"):
        nn.LSTM(I, H)(retrograd.randn(0, B, I))


# ---- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_input_errors_name_the_layer_and_sizes(cls):
    m = getattr(nn, cls)(4, 5, 2)
    with pytest.raises(RuntimeError, match=rf"{cls}: input.size\(-1\) must be equal to "
                                           r"input_size. Expected 4, got 3"):
        m(retrograd.randn(6, 2, 3))
    with pytest.raises(ValueError, match=f"{cls}: Expected input to be 2D or 3D, got 4D"):
        m(retrograd.randn(6, 2, 3, 4))
    with pytest.raises(ValueError, match=f"{cls}: Expected input to be 2D or 3D, got 1D"):
        m(retrograd.randn(4))
    with pytest.raises(ValueError, match=r"input dtype \(torch.float64\) does not match weight "
                                         r"dtype \(torch.float32\)"):
        m(retrograd.randn(6, 2, 4, dtype=retrograd.float64))
    with pytest.raises(TypeError, match="input must be a Tensor"):
        m(np.zeros((6, 2, 4), np.float32))


def test_state_errors_name_the_expected_and_received_sizes():
    x = retrograd.randn(6, 2, 4)
    gru = nn.GRU(4, 5, 2)
    with pytest.raises(RuntimeError, match=r"GRU: Expected hidden size \(2, 2, 5\), got "
                                           r"\[2, 3, 5\]"):
        gru(x, retrograd.zeros(2, 3, 5))
    with pytest.raises(RuntimeError, match="For batched 3-D input, hx should also be 3-D but "
                                           r"got \(2-D\) tensor"):
        gru(x, retrograd.zeros(2, 5))
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx should also be 2-D"):
        gru(retrograd.randn(6, 4), retrograd.zeros(2, 1, 5))
    with pytest.raises(RuntimeError, match="not the same dtype"):
        gru(x, retrograd.zeros(2, 2, 5, dtype=retrograd.float64))
    lstm = nn.LSTM(4, 5, 2, proj_size=3)
    with pytest.raises(RuntimeError, match=r"LSTM: Expected hidden\[0\] size \(2, 2, 3\), got "
                                           r"\[2, 2, 5\]"):
        lstm(x, (retrograd.zeros(2, 2, 5), retrograd.zeros(2, 2, 5)))
    with pytest.raises(RuntimeError, match=r"LSTM: Expected hidden\[1\] size \(2, 2, 5\), got "
                                           r"\[2, 2, 3\]"):
        lstm(x, (retrograd.zeros(2, 2, 3), retrograd.zeros(2, 2, 3)))
    with pytest.raises(RuntimeError, match=r"hx and cx should also be 3-D but got \(3-D, 2-D\)"):
        lstm(x, (retrograd.zeros(2, 2, 3), retrograd.zeros(2, 5)))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h_0, c_0\)"):
        lstm(x, retrograd.zeros(2, 2, 3))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"dropout": 1.5}, ValueError, r"dropout should be a number in range \[0, 1\]"),
    ({"dropout": True}, ValueError, "dropout should be a number"),
    ({"bias": 1}, TypeError, "bias should be of type bool, got: int"),
    ({"batch_first": None}, TypeError, "batch_first should be of type bool"),
    ({"num_layers": 0}, ValueError, "num_layers must be greater than zero"),
    ({"num_layers": 1.5}, TypeError, "num_layers should be of type int"),
    ({"proj_size": -1}, ValueError, "proj_size should be a positive integer or zero"),
    ({"proj_size": 5}, ValueError, "proj_size has to be smaller than hidden_size"),
])
def test_constructor_errors(kwargs, error, message):
    with pytest.raises(error, match=message), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nn.LSTM(4, 5, **kwargs)


def test_constructor_size_and_mode_errors():
    with pytest.raises(TypeError, match="input_size should be of type int, got: float"):
        nn.GRU(4.0, 5)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.RNN(4, 0)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        nn.RNN(4, 5, nonlinearity="gelu")
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        nn.RNNCell(4, 5, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="Unrecognized RNN mode: LSTMX"):
        nn.RNNBase("LSTMX", 4, 5)
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.RNN(4, 5, proj_size=2)


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_errors_name_the_cell_and_sizes(cls):
    m = getattr(nn, cls)(4, 5)
    lstm = cls == "LSTMCell"

    def state(*shape):
        return (retrograd.zeros(*shape), retrograd.zeros(*shape)) if lstm else \
            retrograd.zeros(*shape)

    with pytest.raises(RuntimeError, match=f"{cls}: input has inconsistent input_size: got 3 "
                                           "expected 4"):
        m(retrograd.randn(2, 3))
    with pytest.raises(ValueError, match=f"{cls}: Expected input to be 1D or 2D, got 3D"):
        m(retrograd.randn(2, 3, 4))
    with pytest.raises(RuntimeError, match=f"{cls}: Input batch size 2 doesn't match hidden0 "
                                           "batch size 3"):
        m(retrograd.randn(2, 4), state(3, 5))
    with pytest.raises(RuntimeError, match=f"{cls}: hidden0 has inconsistent hidden_size: got "
                                           "6, expected 5"):
        m(retrograd.randn(2, 4), state(2, 6))
    with pytest.raises(ValueError, match=f"{cls}: Expected .* to be 1D like the input"):
        m(retrograd.randn(4), state(2, 5))
    with pytest.raises(ValueError, match="input dtype .* does not match weight dtype"):
        m(retrograd.randn(2, 4, dtype=retrograd.float64))


def test_functional_cell_errors():
    x, h = retrograd.randn(2, 4), retrograd.zeros(2, 5)
    w_ih, w_hh = retrograd.randn(15, 4), retrograd.randn(15, 5)
    with pytest.raises(RuntimeError, match="gru_cell: hidden0 has inconsistent hidden_size"):
        retrograd.gru_cell(x, retrograd.zeros(2, 6), w_ih, w_hh)
    with pytest.raises(RuntimeError, match="lstm_cell: expected w_ih of shape"):
        retrograd.lstm_cell(x, (h, h), w_ih, w_hh)
    with pytest.raises(TypeError, match=r"lstm_cell: hx must be a pair \(h, c\)"):
        retrograd.lstm_cell(x, h, retrograd.randn(20, 4), retrograd.randn(20, 5))
