"""A whole LSTM layer (one direction) as one fused op: ``LstmLayer``.

``nn.LSTM`` runs each layer and direction through this op where PyTorch's CPU build runs its
own fused layer (oneDNN: float32 without projections), so the graph a user sees has PyTorch's
nodes: ``MkldnnRnnLayerBackward0`` with the inputs (input, w_ih, w_hh, b_ih, b_hh, h_0, c_0)
and the outputs (output, h_n, c_n). Elsewhere (float64, ``proj_size``, forward-mode AD, vmap)
nn.LSTM records the loop op by op (``nn/rnn.py``), as PyTorch does there. (A PackedSequence in
float32 takes this op too, per group of equal lengths; PyTorch's packed loop is op by op, but
neither graph is the other's there anyway.)

How it computes, on arrays, time-major (T, B, .) with gates (i, f, g, o) of width H each:
    forward   the input projection of all steps, ``x @ W_ih^T + b_ih + b_hh``, is one matmul;
              each step adds ``h @ W_hh^T`` and updates the cell on its (B, 4H) slice.
    backward  one loop back through time carries dh and dc and writes each step's gate
              gradient into one (T, B, 4H) array dG; then every weight gradient is one product
              of stacked arrays (dW_hh = dG^T [h_0 .. h_{T-1}], dW_ih = dG^T x, dx = dG W_ih)
              and the biases' one sum.
The op-by-op loop pays, per step, several nodes, their Python overhead and a (4H x H) weight
gradient product of only B rows; here the per-step work is the recurrent product and a few
array operations.

Note [Sigmoid gates through one tanh]
    sigmoid(z) = (1 + tanh(z / 2)) / 2 (as ``_sigmoid_via_tanh`` in rnn_cells.py). The weights
    and biases of the sigmoid gates (i, f, o) are halved once per forward (exact: a power of
    two), so one tanh over all four gate blocks gives tanh(z / 2) there and tanh(z) on g, and
    one multiply-add per step (by 1/2, 1/2, 1, 1/2 and 1/2, 1/2, 0, 1/2) finishes them: the
    same values as the cell's, with fewer and larger array operations.

Note [Layer backward]
    d(output) at a step, plus dh carried from the step after, is dh; with the activations
    i, f, g, o and tc = tanh(c_t) that forward kept,
        dc += dh * o * (1 - tc^2)
        dG = (dc g si, dc c_{t-1} sf, dc i sg, dh tc so)   (s: each activation's slope)
        dc = dc * f,   dh = dG @ W_hh.
    Everything in it that does not depend on dh or dc (the products beside them) is computed
    for all steps at once before the loop, so a step costs about six array operations and one
    product. ``fast_backward`` is this, on arrays. ``backward`` (used with ``create_graph`` and
    under forward-mode AD) recomputes the steps with the op-by-op ops and runs the same loop
    with the cell's tensor derivative (``lstm_cell_grads``), so higher orders are correct.
"""

from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...tensor import _wrap
from ..join import Stack, Unbind
from ..linalg import linear
from ..products import Linear, Mm, MmTN
from .rnn_cells import LstmCell, lstm_cell_grads


def _gate_scales(hidden: int, dtype) -> tuple:
    """(scale, shift) per gate column, (1/2, 1/2, 1, 1/2) and (1/2, 1/2, 0, 1/2) on the blocks
    i, f, g, o: Note [Sigmoid gates through one tanh]."""
    scale = np.full(4 * hidden, 0.5, dtype)
    scale[2 * hidden:3 * hidden] = 1
    shift = np.full(4 * hidden, 0.5, dtype)
    shift[2 * hidden:3 * hidden] = 0
    return scale, shift


class LstmLayer(Function):
    """output, h_n, c_n of one LSTM direction over time-major ``x`` (T, B, in) from h_0, c_0:
    per step (i, f, g, o) = (sigmoid, sigmoid, tanh, sigmoid) of x_t W_ih^T + h W_hh^T + b,
    c = f c + i g, h = o tanh(c) (``reverse``: the steps run from T - 1 down to 0);
    gradients by one loop back through time (Note [Layer backward])"""

    node_name = "MkldnnRnnLayerBackward0"  # PyTorch's fused CPU layer
    ctx_arrays = ("_arrays",)

    @staticmethod
    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse):
        xa, w_ih_a, w_hh_a = x._data, w_ih._data, w_hh._data
        steps, batch, _ = xa.shape
        hidden = w_hh_a.shape[1]
        scale, shift = _gate_scales(hidden, xa.dtype)
        # acts: the gate pre-activations, overwritten step by step by the activations
        acts = np.matmul(xa.reshape(steps * batch, xa.shape[2]), (w_ih_a * scale[:, None]).T)
        acts = acts.reshape(steps, batch, 4 * hidden)
        if b_ih is not None:
            acts += (b_ih._data + b_hh._data) * scale
        w_hh_s = w_hh_a * scale[:, None]
        # states by slot: step t reads slot t + back and writes slot t + 1 - back
        back = 1 if reverse else 0
        h_all = np.empty((steps + 1, batch, hidden), xa.dtype)
        c_all = np.empty((steps + 1, batch, hidden), xa.dtype)
        tc_all = np.empty((steps, batch, hidden), xa.dtype)
        h_all[steps * back] = h0._data
        c_all[steps * back] = c0._data
        rec = np.empty((4 * hidden, batch), xa.dtype)  # (W_hh h^T: faster than h W_hh^T)
        ig = np.empty((batch, hidden), xa.dtype)
        for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
            a = acts[t]
            np.matmul(w_hh_s, h_all[t + back].T, out=rec)
            a += rec.T
            np.tanh(a, out=a)
            a *= scale
            a += shift
            i, f, g, o = (a[:, k * hidden:(k + 1) * hidden] for k in range(4))
            c = c_all[t + 1 - back]
            np.multiply(f, c_all[t + back], out=c)
            np.multiply(i, g, out=ig)
            c += ig
            np.tanh(c, out=tc_all[t])
            np.multiply(o, tc_all[t], out=h_all[t + 1 - back])
        out = h_all[1:] if back == 0 else h_all[:steps]
        h_n = h_all[steps * (1 - back)].copy()
        c_n = c_all[steps * (1 - back)].copy()
        if any(ctx.needs_input_grad):
            # (the output too: its memory is h_all's, so changing it in place must be caught)
            ctx.save_for_backward(x, w_ih, w_hh, b_ih, b_hh, h0, c0, out)
            ctx._arrays = (acts, h_all, c_all, tc_all)
            ctx.reverse = reverse
            ctx.set_materialize_grads(False)
        return out, h_n, c_n

    @staticmethod
    def fast_backward(ctx, g_out, g_h, g_c):
        grads = (g_out, g_h, g_c)
        if any(g is not None and g._data.__class__ is not np.ndarray for g in grads):
            return LstmLayer.backward(ctx, *grads)  # (per-sample gradients of vmap)
        x, w_ih, w_hh = ctx.saved_tensors[:3]  # (checks the versions of all)
        acts, h_all, c_all, tc_all = ctx._arrays
        back = 1 if ctx.reverse else 0
        steps, batch, gates = acts.shape
        hidden = gates // 4
        dtype = acts.dtype
        a4 = acts.reshape(steps, batch, 4, hidden)
        # Note [Layer backward]: m = the gate gradients per unit of (dc, dc, dc, dh)
        m = 1 - acts
        m *= acts  # sigmoid's slope; g's is 1 - g^2
        m4 = m.reshape(steps, batch, 4, hidden)
        np.multiply(a4[:, :, 2], a4[:, :, 2], out=m4[:, :, 2])
        np.subtract(1, m4[:, :, 2], out=m4[:, :, 2])
        m4[:, :, 0] *= a4[:, :, 2]
        m4[:, :, 1] *= c_all[back:steps + back]
        m4[:, :, 2] *= a4[:, :, 0]
        m4[:, :, 3] *= tc_all
        k = 1 - tc_all * tc_all  # dc += dh * k
        k *= a4[:, :, 3]
        f = a4[:, :, 1]
        d_gates = np.empty((steps, batch, 4, hidden), dtype)
        dh = np.zeros((batch, hidden), dtype) if g_h is None else g_h._data.copy()
        dc = np.zeros((batch, hidden), dtype) if g_c is None else g_c._data.copy()
        g_out = None if g_out is None else g_out._data
        tmp = np.empty((batch, hidden), dtype)
        w_hh_a = w_hh._data
        for t in (range(steps) if back else range(steps - 1, -1, -1)):
            if g_out is not None:
                dh += g_out[t]
            np.multiply(dh, k[t], out=tmp)
            dc += tmp
            d = d_gates[t]
            np.multiply(m4[t, :, :3], dc[:, None, :], out=d[:, :3])
            np.multiply(m4[t, :, 3], dh, out=d[:, 3])
            dc *= f[t]
            np.matmul(d.reshape(batch, gates), w_hh_a, out=dh)
        needs = ctx.needs_input_grad
        d2 = d_gates.reshape(steps * batch, gates)
        dx = dw_ih = dw_hh = db = None
        if needs[0]:
            dx = _wrap(np.matmul(d2, w_ih._data).reshape(x._data.shape))
        if needs[1]:
            dw_ih = _wrap(d2.T @ x._data.reshape(steps * batch, x._data.shape[2]))
        if needs[2]:
            h_prev = h_all[back:steps + back].reshape(steps * batch, hidden)
            dw_hh = _wrap(d2.T @ h_prev)
        if needs[3] or needs[4]:
            db = _wrap(d2.sum(0))
        return (dx, dw_ih, dw_hh, db if needs[3] else None, db if needs[4] else None,
                _wrap(dh) if needs[5] else None, _wrap(dc) if needs[6] else None, None)

    @staticmethod
    def backward(ctx, g_out, g_h, g_c):
        x, w_ih, w_hh, b_ih, b_hh, h0, c0, _ = ctx.saved_tensors
        steps = x.shape[0]
        order = range(steps - 1, -1, -1) if ctx.reverse else range(steps)
        # the steps again, op by op: their gates and previous states (recorded when create_graph)
        xw = Unbind.apply(linear(x, w_ih, None if b_ih is None else b_ih + b_hh), 0)
        h, c = h0, c0
        gates, h_prev, c_prev = [None] * steps, [None] * steps, [None] * steps
        for t in order:
            h_prev[t], c_prev[t] = h, c
            gates[t] = Linear.apply(xw[t], h, w_hh)
            h, c = LstmCell.apply(gates[t], c)
        # back through time (Note [Layer backward])
        dh, dc = g_h, g_c
        d_gates = [None] * steps
        for t in reversed(order):
            if g_out is not None:
                dh = g_out[t] if dh is None else dh + g_out[t]
            d_gates[t], dc = lstm_cell_grads(gates[t], c_prev[t], dh, dc)
            dh = Mm.apply(d_gates[t], w_hh)
        needs = ctx.needs_input_grad
        d3 = Stack.apply(*d_gates, 0)
        rows = steps * x.shape[1]
        d2 = d3.reshape(rows, d3.shape[-1])
        dx = Mm.apply(d2, w_ih).reshape(x.shape) if needs[0] else None
        dw_ih = MmTN.apply(d2, x.reshape(rows, x.shape[-1])) if needs[1] else None
        dw_hh = None
        if needs[2]:
            dw_hh = MmTN.apply(d2, Stack.apply(*h_prev, 0).reshape(rows, h0.shape[-1]))
        db = d2.sum(0) if needs[3] or needs[4] else None
        return (dx, dw_ih, dw_hh, db if needs[3] else None, db if needs[4] else None,
                dh if needs[5] else None, dc if needs[6] else None, None)
