"""Op-table entry for the fused LSTM layer of issue 11 (ops/nn/rnn_fused.py, ``LstmLayer``).

retrograd applies the fused op directly (nn.LSTM uses it only in float32, where PyTorch runs
its own fused layer; the table runs in float64). torch computes the same layer with
``torch.lstm`` (a reverse direction: the sequence flipped in and out). The three outputs are
returned joined, (output, h_n, c_n) along the time dim, so the first node is ``CatBackward0``
on both sides and the upstream gradient reaches all three.
"""

from __future__ import annotations

from optable import Fixed, OpInfo, v

from retrograd.ops.nn.rnn_fused import LstmLayer

T, B, IN, H = 3, 2, 3, 2
X, W_IH, W_HH, BIAS, STATE = (T, B, IN), (4 * H, IN), (4 * H, H), (4 * H,), (B, H)


def _lstm_layer(lib, x, w_ih, w_hh, *rest, reverse=False):
    *bias, h0, c0 = rest
    if lib.__name__ == "retrograd":
        out, h, c = LstmLayer.apply(x, w_ih, w_hh, *(bias or (None, None)), h0, c0, reverse)
    else:
        flip = (lambda t: t.flip(0)) if reverse else (lambda t: t)
        out, h, c = lib.lstm(flip(x), (h0[None], c0[None]), [w_ih, w_hh, *bias], bool(bias), 1,
                             0.0, True, False, False)
        out, h, c = flip(out), h[0], c[0]
    return lib.cat([out, h[None], c[None]], 0)


OPS = [
    OpInfo("lstm_layer", _lstm_layer,
           (v("forward", X, W_IH, W_HH, BIAS, BIAS, STATE, STATE),
            v("reverse", X, W_IH, W_HH, BIAS, BIAS, STATE, STATE, reverse=True),
            v("no-bias", X, W_IH, W_HH, STATE, STATE),
            v("states-nograd", X, W_IH, W_HH, BIAS, BIAS, Fixed(STATE), Fixed(STATE)),
            v("input-nograd", Fixed(X), W_IH, W_HH, BIAS, BIAS, STATE, STATE, reverse=True)),
           "CatBackward0"),
]
