"""Recurrent cells: one time step of an LSTM, a GRU or a plain (Elman) RNN.

``lstm_cell``, ``gru_cell``, ``rnn_tanh_cell`` and ``rnn_relu_cell`` are PyTorch's
``torch.lstm_cell`` & co.: the functional step that ``nn.LSTMCell`` and the loops of ``nn.LSTM``
run. Gate order is PyTorch's: LSTM (i, f, g, o), GRU (r, z, n), as column blocks of the weights.

The matrix products go through the usual ``Linear`` op; what follows them, the gate
nonlinearities and the state update, is one fused op per step (``LstmCell``, ``GruCell``)
instead of about ten small ones, because a recurrence runs it once per time step and per-op
overhead is what dominates at RNN sizes.

Note [Two backward paths]
    A fused cell's backward has two implementations of the same formulas. When backward runs
    without ``create_graph`` (grad mode off: nothing will differentiate the result) it computes
    on arrays, reusing the activations forward kept. When a graph of the backward is wanted
    (``create_graph=True``, grad mode on) it recomputes the activations from the saved inputs
    with tensor ops and writes the gradient with tensor ops, so gradients of any order work.
    PyTorch does the same for its fused cells (``_thnn_fused_lstm_cell``: a fused backward, or
    a differentiable one when ``GradMode::is_enabled()``). The tests check both paths against
    finite differences and against each other.

Note [Node names of the cells]
    PyTorch on CPU computes a cell as separate ops, so the ``grad_fn`` users see on the new
    hidden state is the last of them: ``MulBackward0`` for the LSTM (h = o * tanh(c)) and
    ``AddBackward0`` for the GRU (h = (1 - z) n + z h). Our fused nodes take those names, as the
    matmul family does (see Note [Node names of matmul]), so printed tensors read the same.
"""

from __future__ import annotations

import numpy as np

from .. import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor, _wrap
from ._registry import expose
from .activation import _check_float
from .products import Linear, LinearNoBias
from .shape import Cat, Split
from .unary import Relu, SigmoidGrad, Tanh, TanhGrad, sigmoid, tanh

_state = grad_mode.state


def _sigmoid_via_tanh(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    # NOTE: sigmoid(x) = (1 + tanh(x / 2)) / 2: one tanh call, no exp to overflow. Near 0 it is
    # exact only to an absolute (not relative) rounding error, which a gate never notices.
    out = np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _lstm_activations(gates: np.ndarray, hidden: int) -> np.ndarray:
    """sigmoid, sigmoid, tanh, sigmoid of the i, f, g, o column blocks of ``gates``."""
    act = _sigmoid_via_tanh(gates)  # on all four blocks: cheaper than three separate calls
    np.tanh(gates[:, 2 * hidden:3 * hidden], out=act[:, 2 * hidden:3 * hidden])
    return act


class LstmCell(Function):
    """h, c' = o * tanh(c'), f * c + i * g, where (i, f, g, o) = (sigmoid, sigmoid, tanh,
    sigmoid) of the column blocks of ``gates``;  dc' = gc + gh * o * (1 - tanh(c')^2),
    d(i, f, g, o) = (dc' g, dc' c, dc' i, gh tanh(c')) times each activation's slope,
    dc = dc' f"""

    node_name = "MulBackward0"  # see Note [Node names of the cells]
    ctx_arrays = ("_saved_arrays",)

    @staticmethod
    def forward(ctx, gates, c):
        hidden = c._data.shape[-1]
        act = _lstm_activations(gates._data, hidden)
        i, f = act[:, :hidden], act[:, hidden:2 * hidden]
        g, o = act[:, 2 * hidden:3 * hidden], act[:, 3 * hidden:]
        c_new = f * c._data
        c_new += i * g
        tc = np.tanh(c_new)
        h = o * tc
        ctx.save_for_backward(gates, c)
        ctx._saved_arrays = (act, tc)
        ctx.set_materialize_grads(False)
        return h, c_new

    @staticmethod
    def backward(ctx, gh, gc):
        gates, c = ctx.saved_tensors
        if _state.enabled:  # see Note [Two backward paths]
            return _lstm_cell_backward_tensors(gates, c, gh, gc)
        act, tc = ctx._saved_arrays
        hidden = tc.shape[-1]
        i, f = act[:, :hidden], act[:, hidden:2 * hidden]
        g, o = act[:, 2 * hidden:3 * hidden], act[:, 3 * hidden:]
        if gh is None:
            dc = gc._data.copy()
        else:
            dh = gh._data
            dc = dh * o
            dc *= 1 - tc * tc
            if gc is not None:
                dc += gc._data
        # d(gates) = (upstream of each activation) * (its slope): s (1 - s) for a sigmoid,
        # 1 - t^2 for the tanh block
        d = np.empty_like(act)
        np.multiply(dc, g, out=d[:, :hidden])
        np.multiply(dc, c._data, out=d[:, hidden:2 * hidden])
        np.multiply(dc, i, out=d[:, 2 * hidden:3 * hidden])
        if gh is None:
            d[:, 3 * hidden:] = 0
        else:
            np.multiply(dh, tc, out=d[:, 3 * hidden:])
        slope = 1 - act
        slope *= act
        np.multiply(g, g, out=slope[:, 2 * hidden:3 * hidden])
        np.subtract(1, slope[:, 2 * hidden:3 * hidden], out=slope[:, 2 * hidden:3 * hidden])
        d *= slope
        dc *= f
        return _wrap(d), _wrap(dc)


def _lstm_cell_backward_tensors(gates: Tensor, c: Tensor, gh, gc) -> tuple:
    """LstmCell's backward with tensor ops, differentiable again (see Note [Two backward
    paths])."""
    hidden = c.shape[-1]
    i, f, g, o = Split.apply(gates, [hidden] * 4, 1)
    i, f, g, o = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
    tc = tanh(f * c + i * g)
    dc = None
    if gh is not None:
        dc = TanhGrad.apply(gh * o, tc)
    if gc is not None:
        dc = gc if dc is None else dc + gc
    d_o = SigmoidGrad.apply(gh * tc, o) if gh is not None else (o * 0)
    d_gates = Cat.apply(SigmoidGrad.apply(dc * g, i), SigmoidGrad.apply(dc * c, f),
                        TanhGrad.apply(dc * i, g), d_o, 1, None)
    return d_gates, dc * f


class GruCell(Function):
    """h' = n + z (h - n), with r, z = sigmoid(gx + gh) on the first two column blocks and
    n = tanh(gx_n + r gh_n) (``gx``, ``gh``: the input and hidden projections, biases included);
    dn = dh' (1 - z),  dz = dh' (h - n),  dh = dh' z,  dgx_n = dn (1 - n^2),
    dgh_n = dgx_n r,  dr = dgx_n gh_n, and d(gx, gh) of r, z = dr, dz times sigmoid's slope"""

    node_name = "AddBackward0"  # see Note [Node names of the cells]
    ctx_arrays = ("_saved_arrays",)

    @staticmethod
    def forward(ctx, gx, gh, h):
        hidden = h._data.shape[-1]
        a, b, hd = gx._data, gh._data, h._data
        rz = a[:, :2 * hidden] + b[:, :2 * hidden]
        _sigmoid_via_tanh(rz, out=rz)
        n = rz[:, :hidden] * b[:, 2 * hidden:]
        n += a[:, 2 * hidden:]
        np.tanh(n, out=n)
        out = hd - n
        out *= rz[:, hidden:]
        out += n
        ctx.save_for_backward(gx, gh, h)
        ctx._saved_arrays = (rz, n)
        return out

    @staticmethod
    def backward(ctx, grad):
        gx, gh, h = ctx.saved_tensors
        if _state.enabled:  # see Note [Two backward paths]
            return _gru_cell_backward_tensors(gx, gh, h, grad)
        rz, n = ctx._saved_arrays
        hidden = n.shape[-1]
        dh = grad._data
        r, z = rz[:, :hidden], rz[:, hidden:]
        d_gx = np.empty_like(rz, shape=(rz.shape[0], 3 * hidden))
        dn = d_gx[:, 2 * hidden:]
        np.multiply(dh, 1 - z, out=dn)
        dn *= 1 - n * n
        np.multiply(dn, gh._data[:, 2 * hidden:], out=d_gx[:, :hidden])
        np.multiply(dh, h._data - n, out=d_gx[:, hidden:2 * hidden])
        d_gx[:, :2 * hidden] *= rz * (1 - rz)
        d_gh = d_gx.copy()
        d_gh[:, 2 * hidden:] *= r
        need_gx, need_gh, need_h = ctx.needs_input_grad
        return (_wrap(d_gx) if need_gx else None, _wrap(d_gh) if need_gh else None,
                _wrap(dh * z) if need_h else None)


def _gru_cell_backward_tensors(gx: Tensor, gh: Tensor, h: Tensor, grad: Tensor) -> tuple:
    """GruCell's backward with tensor ops, differentiable again (see Note [Two backward
    paths])."""
    hidden = h.shape[-1]
    xr, xz, xn = Split.apply(gx, [hidden] * 3, 1)
    hr, hz, hn = Split.apply(gh, [hidden] * 3, 1)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    n = tanh(xn + r * hn)
    d_n = TanhGrad.apply(grad * (1 - z), n)
    d_r = SigmoidGrad.apply(d_n * hn, r)
    d_z = SigmoidGrad.apply(grad * (h - n), z)
    return Cat.apply(d_r, d_z, d_n, 1, None), Cat.apply(d_r, d_z, d_n * r, 1, None), grad * z


# ---- the functions users call ----------------------------------------------------------------


def check_cell_args(name: str, x: Tensor, hidden: tuple, input_size: int,
                    hidden_size: int) -> None:
    """A cell's input must be (batch, input_size) and each state (batch, hidden_size), all of
    one float dtype; the errors name the cell and the sizes expected and received."""
    for t, what in ((x, "input"),) + tuple((h, f"hx[{k}]") for k, h in enumerate(hidden)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: {what} must be a Tensor, not {type(t).__name__}")
    _check_float(x, name)
    if x._data.ndim != 2:
        raise RuntimeError(f"{name}: expected input to be 2-D (batch, input_size), got "
                           f"{x._data.ndim}-D with shape {list(x._data.shape)}")
    batch, got = x._data.shape
    if got != input_size:
        raise RuntimeError(f"{name}: input has inconsistent input_size: got {got} expected "
                           f"{input_size}")
    for k, h in enumerate(hidden):
        shape = h._data.shape
        if h._data.ndim != 2:
            raise RuntimeError(f"{name}: expected hidden{k} to be 2-D (batch, hidden_size), "
                               f"got shape {list(shape)}")
        if shape[0] != batch:
            raise RuntimeError(f"{name}: Input batch size {batch} doesn't match hidden{k} "
                               f"batch size {shape[0]}")
        if shape[1] != hidden_size:
            raise RuntimeError(f"{name}: hidden{k} has inconsistent hidden_size: got "
                               f"{shape[1]}, expected {hidden_size}")
        if h._data.dtype != x._data.dtype:
            raise RuntimeError(f"{name}: input and hidden{k} must have the same dtype, got "
                               f"{x.dtype} and {h.dtype}")


def _check_weights(name: str, w_ih: Tensor, w_hh: Tensor, chunks: int) -> tuple:
    if w_ih._data.ndim != 2 or w_hh._data.ndim != 2 or w_ih.shape[0] % chunks:
        raise RuntimeError(
            f"{name}: expected w_ih of shape ({chunks} * hidden_size, input_size) and w_hh of "
            f"shape ({chunks} * hidden_size, hidden_size), got {list(w_ih.shape)} and "
            f"{list(w_hh.shape)}")
    return w_ih.shape[1], w_ih.shape[0] // chunks


def _project(x: Tensor, w: Tensor, b) -> Tensor:
    return Linear.apply(x, w, b) if b is not None else LinearNoBias.apply(x, w)


def lstm_cell(input: Tensor, hx, w_ih: Tensor, w_hh: Tensor,  # noqa: A002
              b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> tuple:
    """One LSTM step: (h', c') from input (batch, in) and hx = (h, c), each (batch, hidden)."""
    input_size, hidden_size = _check_weights("lstm_cell", w_ih, w_hh, 4)
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError(f"lstm_cell: hx must be a pair (h, c) of tensors, got "
                        f"{type(hx).__name__}")
    h, c = hx
    check_cell_args("lstm_cell", input, (h, c), input_size, hidden_size)
    gates = _project(input, w_ih, b_ih)
    gates = Linear.apply(h, w_hh, gates if b_hh is None else gates + b_hh)
    return LstmCell.apply(gates, c)


def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,  # noqa: A002
             b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One GRU step: h' from input (batch, in) and hx (batch, hidden)."""
    input_size, hidden_size = _check_weights("gru_cell", w_ih, w_hh, 3)
    check_cell_args("gru_cell", input, (hx,), input_size, hidden_size)
    return GruCell.apply(_project(input, w_ih, b_ih), _project(hx, w_hh, b_hh), hx)


def _rnn_cell(name: str, act, input: Tensor, hx: Tensor, w_ih: Tensor,  # noqa: A002
              w_hh: Tensor, b_ih, b_hh) -> Tensor:
    input_size, hidden_size = _check_weights(name, w_ih, w_hh, 1)
    check_cell_args(name, input, (hx,), input_size, hidden_size)
    pre = _project(input, w_ih, b_ih)
    pre = Linear.apply(hx, w_hh, pre if b_hh is None else pre + b_hh)
    return act.apply(pre)


def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,  # noqa: A002
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One Elman RNN step: tanh(input @ w_ih^T + b_ih + hx @ w_hh^T + b_hh)."""
    return _rnn_cell("rnn_tanh_cell", Tanh, input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,  # noqa: A002
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One Elman RNN step with relu: relu(input @ w_ih^T + b_ih + hx @ w_hh^T + b_hh)."""
    return _rnn_cell("rnn_relu_cell", Relu, input, hx, w_ih, w_hh, b_ih, b_hh)


expose({
    "lstm_cell": lstm_cell, "gru_cell": gru_cell, "rnn_tanh_cell": rnn_tanh_cell,
    "rnn_relu_cell": rnn_relu_cell,
}, method=False)
