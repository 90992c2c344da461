"""Recurrent cells: one time step of an LSTM, a GRU or a plain (Elman) RNN.

``lstm_cell``, ``gru_cell``, ``rnn_tanh_cell`` and ``rnn_relu_cell`` are PyTorch's
``torch.lstm_cell`` & co.: the functional step that ``nn.LSTMCell`` and the loops of ``nn.LSTM``
run. Gate order is PyTorch's: LSTM (i, f, g, o), GRU (r, z, n), as column blocks of the weights.

The matrix products go through the usual ``Linear`` op; what follows them, the gate
nonlinearities and the state update, is one fused op per step (``LstmCell``, ``GruCell``)
instead of about ten small ones, because a recurrence runs it once per time step and per-op
overhead is what dominates at RNN sizes.

Note [Cell backward]
    A fused cell's derivative is written once, in ``_lstm_grads`` / ``_gru_grads``, over the
    gate activations and two derivative primitives (sigmoid's and tanh's slope from their
    output). ``backward`` runs it on tensors: the activations recomputed from the saved inputs
    with tensor ops, the primitives ``SigmoidGrad``/``TanhGrad``, so a graph of it can be
    recorded (``create_graph``) and gradients of any order work. ``fast_backward`` (Note [Fast
    backward] in autograd/function.py) runs the same function on arrays: the activations
    forward kept, the primitives' array ``kernel``s (for the LSTM, sigmoid's kernel over all
    four gate blocks at once, then tanh's over the g block: fewer, larger array ops). A
    recurrence runs a cell once per time step, so skipping the recomputation and the per-op
    overhead pays: measured on nn.LSTM(32, 64) / nn.GRU(32, 64) over a (20, 16, 32) batch, a
    forward and backward step is 1.7x (LSTM) and 1.8x (GRU) faster with ``fast_backward``. The
    tests check both against each other and against finite differences.

Note [Node names of the cells]
    PyTorch on CPU computes a cell as separate ops, so the ``grad_fn`` users see on the new
    hidden state is the last of them: ``MulBackward0`` for the LSTM (h = o * tanh(c)) and
    ``AddBackward0`` for the GRU (h = (1 - z) n + z h). Our fused nodes take those names, as the
    matmul family does (see Note [Node names of matmul]), so printed tensors read the same.
"""

from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...autograd.graph import as_forward_met
from ...tensor import Tensor, _wrap
from .._registry import expose
from ..activation import _check_float
from ..join import Cat, Split
from ..products import Linear, LinearNoBias
from ..unary import Relu, SigmoidGrad, Tanh, TanhGrad, sigmoid, tanh, zeros_of
from .fused_grads import ForwardValues


def _sigmoid_via_tanh(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    # NOTE: sigmoid(x) = (1 + tanh(x / 2)) / 2: one tanh call, no exp to overflow. Near 0 it is
    # exact only to an absolute (not relative) rounding error, which a gate never notices.
    out = np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _blocks(a: np.ndarray, hidden: int) -> list:
    """The column blocks of ``a``, each ``hidden`` wide (views)."""
    return [a[:, k:k + hidden] for k in range(0, a.shape[1], hidden)]


def _lstm_activations(gates: np.ndarray, hidden: int) -> np.ndarray:
    """sigmoid, sigmoid, tanh, sigmoid of the i, f, g, o column blocks of ``gates``."""
    act = _sigmoid_via_tanh(gates)  # on all four blocks: cheaper than three separate calls
    np.tanh(gates[:, 2 * hidden:3 * hidden], out=act[:, 2 * hidden:3 * hidden])
    return act


def _lstm_grads(i, f, g, o, tc, c, gh, gc, tanh_grad, gate_grad) -> tuple:
    """LstmCell's derivative (Note [Cell backward]): (d gates, d c) from the activations i, f,
    g, o, tc = tanh(c'), the old cell state c and the incoming gh, gc (either may be None).
    ``gate_grad`` turns the gradients of the four activations into those of the gates."""
    dc = None if gh is None else tanh_grad(gh * o, tc)
    if gc is not None:
        dc = gc if dc is None else dc + gc
    # NOTE: no gh: the o gate's gradient is exactly 0 (None here), as PyTorch's split of the
    # gates fills it with zeros: not 0 * slope, which is NaN where the gate is NaN
    d_o = None if gh is None else gh * tc
    return gate_grad(dc * g, dc * c, dc * i, d_o), dc * f


def lstm_cell_grads(gates, c, gh, gc) -> tuple:
    """LstmCell's derivative on tensors, (d gates, d c), the activations recomputed from the
    cell's inputs with tensor ops (Note [Cell backward]); also used by ``LstmLayer``."""
    i, f, g, o = Split.apply(gates, [c.shape[-1]] * 4, 1)
    i, f, g, o = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
    tc = tanh(f * c + i * g)

    def gate_grad(d_i, d_f, d_g, d_o):
        return Cat.apply(SigmoidGrad.apply(d_i, i), SigmoidGrad.apply(d_f, f),
                         TanhGrad.apply(d_g, g),
                         zeros_of(o) if d_o is None else SigmoidGrad.apply(d_o, o), 1, None)

    return _lstm_grads(i, f, g, o, tc, c, gh, gc, TanhGrad.apply, gate_grad)


class LstmCell(Function):
    """h, c' = o * tanh(c'), f * c + i * g, where (i, f, g, o) = (sigmoid, sigmoid, tanh,
    sigmoid) of the column blocks of ``gates``;  dc' = gc + gh * o * (1 - tanh(c')^2),
    d(i, f, g, o) = (dc' g, dc' c, dc' i, gh tanh(c')) times each activation's slope,
    dc = dc' f  (Note [Cell backward])"""

    node_name = "MulBackward0"  # see Note [Node names of the cells]
    ctx_arrays = ("_saved_arrays",)

    @staticmethod
    def forward(ctx, gates, c):
        hidden = c._data.shape[-1]
        act = _lstm_activations(gates._data, hidden)
        i, f, g, o = _blocks(act, hidden)
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
        return lstm_cell_grads(*ctx.saved_tensors, gh, gc)

    @staticmethod
    def fast_backward(ctx, gh, gc):
        gates, c = ctx.saved_tensors
        act, tc = ctx._saved_arrays
        hidden = tc.shape[-1]

        def gate_grad(*d):  # the same kernels, on the four blocks at once but for the tanh one
            no_o = d[3] is None
            d = np.concatenate(d[:3] + (np.zeros_like(d[0]) if no_o else d[3],), 1)
            out = SigmoidGrad.kernel(d, act)
            tanh_block = slice(2 * hidden, 3 * hidden)
            out[:, tanh_block] = TanhGrad.kernel(d[:, tanh_block], act[:, tanh_block])
            if no_o:
                out[:, 3 * hidden:] = 0
            return out

        d_gates, dc = _lstm_grads(*_blocks(act, hidden), tc, c._data, _array(gh), _array(gc),
                                  TanhGrad.kernel, gate_grad)
        return _wrap(d_gates), _wrap(dc)

    @staticmethod
    def jvp(ctx, t_gates, t_c):  # dc' = df c + f dc + di g + i dg,  dh = do tc + o dtc
        gates, c = ctx.saved_tensors
        hidden = c.shape[-1]
        i, f, g, o = Split.apply(gates, [hidden] * 4, 1)
        i, f, g, o = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
        tc = tanh(f * c + i * g)
        dc = None if t_c is None else f * t_c
        if t_gates is not None:
            ti, tf, tg, to = Split.apply(t_gates, [hidden] * 4, 1)
            di, df, dg = SigmoidGrad.apply(ti, i), SigmoidGrad.apply(tf, f), TanhGrad.apply(tg, g)
            term = df * c + di * g + i * dg
            dc = term if dc is None else dc + term
        dh = o * TanhGrad.apply(dc, tc)
        if t_gates is not None:
            dh = dh + SigmoidGrad.apply(to, o) * tc
        return dh, dc


def _array(t):
    return None if t is None else t._data


def _gru_grads(rz, n, h_minus_n, hn, grad, needs, sigmoid_grad, tanh_grad, cat) -> tuple:
    """GruCell's derivative (Note [Cell backward]): (d gx, d gh, d h) from the activations
    rz = (r, z) and n, the old state minus n, the hidden projection's n block hn and the
    incoming grad; ``cat`` joins column blocks."""
    hidden = n.shape[-1]
    r, z = rz[:, :hidden], rz[:, hidden:]
    d_n = tanh_grad(grad * (1 - z), n)
    d_rz = sigmoid_grad(cat(d_n * hn, grad * h_minus_n), rz)
    need_gx, need_gh, need_h = needs
    return (cat(d_rz, d_n) if need_gx else None,
            cat(d_rz, d_n * r) if need_gh else None,
            grad * z if need_h else None)


class GruCell(Function):
    """h' = n + z (h - n), with r, z = sigmoid(gx + gh) on the first two column blocks and
    n = tanh(gx_n + r gh_n) (``gx``, ``gh``: the input and hidden projections, biases included);
    dn = dh' (1 - z),  dz = dh' (h - n),  dh = dh' z,  dgx_n = dn (1 - n^2),
    dgh_n = dgx_n r,  dr = dgx_n gh_n, and d(gx, gh) of r, z = dr, dz times sigmoid's slope
    (Note [Cell backward])"""

    node_name = "AddBackward0"  # see Note [Node names of the cells]
    ctx_arrays = ("_saved_arrays", "h")

    @staticmethod
    def forward(ctx, gx, gh, h):
        hidden = h._data.shape[-1]
        a, b, hd = gx._data, gh._data, h._data
        rz = a[:, :2 * hidden] + b[:, :2 * hidden]
        _sigmoid_via_tanh(rz, out=rz)
        n = rz[:, :hidden] * b[:, 2 * hidden:]
        n += a[:, 2 * hidden:]
        np.tanh(n, out=n)
        h_minus_n = hd - n
        out = h_minus_n * rz[:, hidden:]
        out += n
        # NOTE: h is neither saved nor version-checked, only h - n is kept: PyTorch's chain of
        # ops saves h only in the hidden product (when w_hh needs a gradient), so h may be
        # written in place before backward
        ctx.save_for_backward(gx, gh)
        ctx.h = h
        ctx._saved_arrays = (rz, n, h_minus_n)
        return out

    @staticmethod
    def backward(ctx, grad):
        gx, gh = ctx.saved_tensors
        hidden = ctx.h.shape[-1]
        x_rz, x_n = Split.apply(gx, [2 * hidden, hidden], 1)
        h_rz, hn = Split.apply(gh, [2 * hidden, hidden], 1)
        rz = sigmoid(x_rz + h_rz)
        n = tanh(x_n + rz[:, :hidden] * hn)
        h = as_forward_met(ctx, 2, ctx.h)  # (h may have been written in place since)
        h_minus_n = ForwardValues.apply(h - n, ctx._saved_arrays[2])
        return _gru_grads(rz, n, h_minus_n, hn, grad, ctx.needs_input_grad, SigmoidGrad.apply,
                          TanhGrad.apply, lambda *parts: Cat.apply(*parts, 1, None))

    @staticmethod
    def fast_backward(ctx, grad):
        gx, gh = ctx.saved_tensors
        rz, n, h_minus_n = ctx._saved_arrays
        grads = _gru_grads(rz, n, h_minus_n, gh._data[:, 2 * n.shape[-1]:], grad._data,
                           ctx.needs_input_grad, SigmoidGrad.kernel, TanhGrad.kernel,
                           lambda *parts: np.concatenate(parts, 1))
        return tuple(None if d is None else _wrap(d) for d in grads)

    @staticmethod
    def jvp(ctx, t_gx, t_gh, t_h):  # drz; dn through r and gh_n; dh' = dn + dz (h-n) + z (dh-dn)
        gx, gh = ctx.saved_tensors
        h = ctx.h  # (forward has just run: h is as forward met it)
        hidden = h.shape[-1]
        x_rz, x_n = Split.apply(gx, [2 * hidden, hidden], 1)
        h_rz, hn = Split.apply(gh, [2 * hidden, hidden], 1)
        rz = sigmoid(x_rz + h_rz)
        r, z = rz[:, :hidden], rz[:, hidden:]
        n = tanh(x_n + r * hn)
        zero = h * 0
        tx_rz, tx_n = (zero.repeat(1, 2), zero) if t_gx is None else Split.apply(
            t_gx, [2 * hidden, hidden], 1)
        th_rz, th_n = (zero.repeat(1, 2), zero) if t_gh is None else Split.apply(
            t_gh, [2 * hidden, hidden], 1)
        drz = SigmoidGrad.apply(tx_rz + th_rz, rz)
        dr, dz = drz[:, :hidden], drz[:, hidden:]
        dn = TanhGrad.apply(tx_n + dr * hn + r * th_n, n)
        out = dn + dz * (h - n) - z * dn
        return out if t_h is None else out + z * t_h


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
    return Linear.apply(b, x, w) if b is not None else LinearNoBias.apply(x, w)


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
    gates = Linear.apply(gates if b_hh is None else gates + b_hh, h, w_hh)
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
    pre = Linear.apply(pre if b_hh is None else pre + b_hh, hx, w_hh)
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
