"""Convolution (1-D and 2-D, with stride, padding, dilation and groups) as im2col and one matmul.

Note [im2col]
    out[n, o, y, x] = b[o] + sum over (c, i, j) of w[o, c, i, j] * xp[n, c, y*s + i*d, x*s + j*d]
    where xp is the zero-padded input. The input is copied once into a zero buffer; a strided
    view of that buffer lists, for every kernel tap (c, i, j), the values the tap meets at every
    output position. Copying the view gives the column matrix ``cols``, K = C*kh*kw rows (one
    per tap) by one column per output position, and the convolution is the matrix product
    w (O, K) @ cols: one BLAS matmul (NumPy's, over a stack of such matrices when the layout
    keeps a batch of them; no Python loop over samples or pixels).

Note [Two column layouts]
    Copying a strided view is fast when its innermost run of contiguous values is long. With
    the taps as rows, ``cols`` reads runs of Wo values (one output row), which is short for
    small images. With many channels it is better to go channels-last: pad the input into an
    (N, Hp, Wp, C) buffer and build the transposed matrix ``cols_t`` (N*Ho*Wo, K), K ordered
    (i, j, c), whose rows read runs of kw*C values; the product is then cols_t @ w_t^T with w_t
    the weight as (O, kh*kw*C), one matmul for the whole batch. ``ConvGeometry.cl`` picks this
    layout when kw*C >= Wo (and there is one group). Otherwise (few channels) ``cols`` is kept
    per sample, (N, K, Ho*Wo), and the product w @ cols lands directly in the output's (N, O,
    Ho*Wo) layout; with groups the batch is instead folded into the columns, (groups, K/groups,
    N*Ho*Wo), so that each group is one large product. The results are the same either way.

Note [Flat windows for stride 1]
    In the channels-first layout the input gradient adds each column of w^T @ g back onto the
    input positions its tap met (col2im): one add per kernel tap over the whole batch. With
    stride 1 a tap meets consecutive positions along a row, and row y+1 of the padded image
    starts Wp values after row y; seen as one flat run of Hp*Wp values per image, a tap's
    positions are then a single contiguous run of Ho*Wp values starting at i*d*Wp + j*d. The
    run also covers the Wp - Wo positions past the end of each output row (they wrap onto the
    start of the next row), so the gradient is first laid out with Wp columns per output row,
    the extra ones zero (their products with w are zero and add nothing). Adding long runs
    instead of Wo-long pieces makes col2im several times faster. A flat buffer has a short
    zero tail so that the last run stays inside it. (The channels-last layout does col2im with
    one product per tap, added straight into the padded gradient: see ``_input_grad_cl``.)

Note [Derivatives of convolution]
    conv(x, w) is bilinear. Its two vector-Jacobian products are again bilinear maps:
    ``ConvTranspose(g, w)`` (input gradient: w^T @ g, then col2im adds each column back onto the
    input positions it came from) and ``ConvWeight(x, g)`` (weight gradient: g @ cols^T). The
    derivatives of these two are among the three maps again (see their backward), so the three
    Functions give derivatives of any order, each step one matmul.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ...autograd.forward_ad import linear_jvp, multilinear_jvp
from ...autograd.function import Function
from ...tensor import _wrap
from .fused_grads import tie

__all__ = ["ConvBiasGrad", "ConvGeometry", "ConvTranspose", "ConvWeight", "Convolution"]

class ConvGeometry:
    """Sizes of one convolution, in 2-D terms (a 1-D conv is a 2-D one with height 1).

    ``padding`` is (top, bottom, left, right): padding='same' may pad one side more.
    """

    __slots__ = ("N", "C", "H", "W", "O", "kh", "kw", "sh", "sw", "pt", "pb", "pl", "pr",
                 "dh", "dw", "groups", "Hp", "Wp", "Ho", "Wo", "flat", "cl", "fold", "one_d",
                 "x_shape", "w_shape")

    def __init__(self, x_shape: tuple, w_shape: tuple, stride: tuple, padding: tuple,
                 dilation: tuple, groups: int) -> None:
        self.one_d = len(x_shape) == 3
        self.x_shape, self.w_shape = x_shape, w_shape
        if self.one_d:  # (N, C, L) as (N, C, 1, L)
            x_shape = x_shape[:2] + (1,) + x_shape[2:]
            w_shape = w_shape[:2] + (1,) + w_shape[2:]
        self.N, self.C, self.H, self.W = x_shape
        self.O, _, self.kh, self.kw = w_shape
        self.sh, self.sw = stride
        self.pt, self.pb, self.pl, self.pr = padding
        self.dh, self.dw = dilation
        self.groups = groups
        self.Hp = self.H + self.pt + self.pb
        self.Wp = self.W + self.pl + self.pr
        self.Ho = (self.Hp - self.dh * (self.kh - 1) - 1) // self.sh + 1
        self.Wo = (self.Wp - self.dw * (self.kw - 1) - 1) // self.sw + 1
        self.flat = self.sh == 1 and self.sw == 1  # see Note [Flat windows for stride 1]
        # see Note [Two column layouts]
        self.cl = groups == 1 and self.C * self.kw >= self.Wo and self.C > 1
        self.fold = groups > 1

    def out_shape(self) -> tuple:
        if self.one_d:
            return (self.N, self.O, self.Wo)
        return (self.N, self.O, self.Ho, self.Wo)


def _as4d(a: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    return a.reshape(a.shape[:2] + (1,) + a.shape[2:]) if geo.one_d else a


def _padded(a: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """The input in a zero buffer (N, C, Hp, Wp)."""
    buf = np.zeros((geo.N, geo.C, geo.Hp, geo.Wp), dtype=a.dtype)
    buf[:, :, geo.pt:geo.pt + geo.H, geo.pl:geo.pl + geo.W] = a
    return buf


def im2col(a: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """The column matrix of ``a`` (N, C, H, W), one (K / groups, L) block per sample and group:
    (N, groups, K / groups, Ho * Wo), or with the batch folded into the columns (see
    Note [Two column layouts]) (1, groups, K / groups, N * Ho * Wo)."""
    buf = _padded(a, geo) if geo.Hp != geo.H or geo.Wp != geo.W else a
    sn, sc, sy, sx = buf.strides
    g, kk = geo.groups, geo.C // geo.groups * geo.kh * geo.kw
    if geo.fold:
        view = as_strided(buf, (geo.C, geo.kh, geo.kw, geo.N, geo.Ho, geo.Wo),
                          (sc, geo.dh * sy, geo.dw * sx, sn, geo.sh * sy, geo.sw * sx),
                          writeable=False)
        return np.ascontiguousarray(view).reshape(1, g, kk, geo.N * geo.Ho * geo.Wo)
    view = as_strided(buf, (geo.N, geo.C, geo.kh, geo.kw, geo.Ho, geo.Wo),
                      (sn, sc, geo.dh * sy, geo.dw * sx, geo.sh * sy, geo.sw * sx),
                      writeable=False)
    return np.ascontiguousarray(view).reshape(geo.N, g, kk, geo.Ho * geo.Wo)


def _to_rows(g: np.ndarray, geo: ConvGeometry, row: int) -> np.ndarray:
    """An output gradient (N, O, Ho, Wo) in the layout of w @ cols: (N, groups, O / groups,
    Ho * row), or folded (1, groups, O / groups, N * Ho * row); past Wo (see Note [Flat
    windows for stride 1]) the columns are zero."""
    g4 = _as4d(g, geo)
    if geo.fold:
        g4 = g4.transpose(1, 0, 2, 3)
    if row != geo.Wo:
        ge = np.zeros(g4.shape[:3] + (row,), dtype=g.dtype)
        ge[..., :geo.Wo] = g4
    else:
        ge = np.ascontiguousarray(g4)
    n, last = (1, geo.N * ge.shape[2] * row) if geo.fold else (geo.N, ge.shape[2] * row)
    return ge.reshape(n, geo.groups, geo.O // geo.groups, last)  # (no -1: N may be 0)


def _weights(w: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    g = geo.groups
    return w.reshape(g, geo.O // g, -1)


def conv_forward(a: np.ndarray, w: np.ndarray, bias, geo: ConvGeometry, cols=None):
    """(output, cols) of the convolution of ``a`` with ``w`` (arrays; bias an array or None)."""
    if geo.cl:
        rows, cols = _forward_cl(a, w, geo, cols)
    else:
        if cols is None:
            cols = im2col(_as4d(a, geo), geo)
        prod = np.matmul(_weights(w, geo), cols)  # per sample (or folded) and group
        if geo.fold:
            rows = prod.reshape(geo.O, geo.N, geo.Ho, geo.Wo).transpose(1, 0, 2, 3)
        else:
            rows = prod.reshape(geo.N, geo.O, geo.Ho, geo.Wo)
            if bias is None:
                return rows.reshape(geo.out_shape()), cols
            rows += bias.reshape(-1, 1, 1)
            return rows.reshape(geo.out_shape()), cols
    out = np.empty((geo.N, geo.O, geo.Ho, geo.Wo), dtype=rows.dtype)
    if bias is None:
        np.copyto(out, rows)
    else:
        np.add(rows, bias.reshape(-1, 1, 1), out=out)
    return out.reshape(geo.out_shape()), cols


def conv_input_grad(g: np.ndarray, w: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """The input gradient for output gradient ``g``: col2im of w^T @ g."""
    if geo.cl:
        return _input_grad_cl(g, w, geo)
    N, C, Hp, Wp, kh, kw, dh, dw = geo.N, geo.C, geo.Hp, geo.Wp, geo.kh, geo.kw, geo.dh, geo.dw
    # NOTE: the zero columns of the flat layout times an infinite weight would add NaNs
    flat = geo.flat and (Wp == geo.Wo or bool(np.isfinite(w).all()))
    row = Wp if flat else geo.Wo
    gcols = np.matmul(_weights(w, geo).transpose(0, 2, 1), _to_rows(g, geo, row))
    L = geo.Ho * row
    # per tap (i, j): the (N, C, L) gradient of the input values that tap met
    if geo.fold:
        taps = gcols.reshape(C, kh, kw, N, L).transpose(1, 2, 3, 0, 4)
    else:
        taps = gcols.reshape(N, C, kh, kw, L).transpose(2, 3, 0, 1, 4)
    # NOTE: one add per kernel tap (kh * kw of them), each over the whole batch at once.
    if flat:
        out = np.zeros((N, C, Hp * Wp + dw * (kw - 1)), dtype=gcols.dtype)
        for i in range(kh):
            for j in range(kw):
                start = i * dh * Wp + j * dw
                out[:, :, start:start + L] += taps[i, j]
        full = out[:, :, :Hp * Wp].reshape(N, C, Hp, Wp)
    else:
        full = np.zeros((N, C, Hp, Wp), dtype=gcols.dtype)
        hs, ws = geo.sh * (geo.Ho - 1) + 1, geo.sw * (geo.Wo - 1) + 1
        for i in range(kh):
            for j in range(kw):
                part = taps[i, j].reshape(N, C, geo.Ho, geo.Wo)
                full[:, :, i * dh:i * dh + hs:geo.sh, j * dw:j * dw + ws:geo.sw] += part
    gx = np.ascontiguousarray(full[:, :, geo.pt:geo.pt + geo.H, geo.pl:geo.pl + geo.W])
    return gx.reshape(geo.x_shape)


def conv_weight_grad(a: np.ndarray, g: np.ndarray, geo: ConvGeometry, cols=None) -> np.ndarray:
    """The weight gradient for input ``a`` and output gradient ``g``: g @ cols^T (summed over
    the samples)."""
    if geo.cl:
        return _weight_grad_cl(a, g, geo, cols)
    if cols is None:
        cols = im2col(_as4d(a, geo), geo)
    per_sample = np.matmul(_to_rows(g, geo, geo.Wo), cols.transpose(0, 1, 3, 2))
    gw = per_sample[0] if geo.fold else per_sample.sum(axis=0)
    return gw.reshape(geo.w_shape)


# ---- channels-last columns (Note [Two column layouts]) -----------------------------------------


def _padded_cl(a: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """The input (N, C, H, W) in a zero buffer (N, Hp, Wp, C)."""
    buf = np.zeros((geo.N, geo.Hp, geo.Wp, geo.C), dtype=a.dtype)
    buf[:, geo.pt:geo.pt + geo.H, geo.pl:geo.pl + geo.W] = a.transpose(0, 2, 3, 1)
    return buf


def im2col_cl(a: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """The transposed column matrix of ``a``: (N * Ho * Wo, kh * kw * C)."""
    buf = _padded_cl(a, geo)
    sn, sy, sx, sc = buf.strides
    view = as_strided(buf, (geo.N, geo.Ho, geo.Wo, geo.kh, geo.kw, geo.C),
                      (sn, geo.sh * sy, geo.sw * sx, geo.dh * sy, geo.dw * sx, sc),
                      writeable=False)
    return np.ascontiguousarray(view).reshape(geo.N * geo.Ho * geo.Wo, geo.kh * geo.kw * geo.C)


def _weights_cl(w: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    return np.ascontiguousarray(_as4d(w, geo).transpose(0, 2, 3, 1)).reshape(geo.O, -1)


def _grad_t(g: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """An output gradient (N, O, Ho, Wo) as (O, N * Ho * Wo): a copy that moves whole
    Ho * Wo runs, about twice as fast as a channels-last copy; its transpose (a view) serves
    as the (N * Ho * Wo, O) matrix, and as the contiguous left factor it makes the weight
    gradient's product faster than a transposed channels-last one."""
    g3 = g.reshape(geo.N, geo.O, geo.Ho * geo.Wo)
    return np.ascontiguousarray(g3.transpose(1, 0, 2)).reshape(geo.O, g3.shape[0] * g3.shape[2])


def _forward_cl(a: np.ndarray, w: np.ndarray, geo: ConvGeometry, cols) -> tuple:
    if cols is None:
        cols = im2col_cl(_as4d(a, geo), geo)
    prod = cols @ _weights_cl(w, geo).T  # (N * Ho * Wo, O)
    rows = prod.reshape(geo.N, geo.Ho, geo.Wo, geo.O).transpose(0, 3, 1, 2)
    return rows, cols


def _input_grad_cl(g: np.ndarray, w: np.ndarray, geo: ConvGeometry, gt=None) -> np.ndarray:
    # col2im with one product per kernel tap: tap (i, j) sends g @ w[:, :, i, j] (channels
    # last) to the input positions it met, added straight into the padded gradient. This
    # never builds the (N * Ho * Wo, kh * kw * C) column gradient, nor (stride 1) the column
    # matrix of the padded output gradient, both kh * kw times larger than the input.
    rows = (_grad_t(g, geo) if gt is None else gt).T  # (N * Ho * Wo, O)
    taps = np.ascontiguousarray(_as4d(w, geo).transpose(2, 3, 0, 1))  # (kh, kw, O, C)
    full = np.zeros((geo.N, geo.Hp, geo.Wp, geo.C), dtype=np.result_type(g, w))
    hs, ws = geo.sh * (geo.Ho - 1) + 1, geo.sw * (geo.Wo - 1) + 1
    for i in range(geo.kh):
        for j in range(geo.kw):
            y, x = i * geo.dh, j * geo.dw
            part = (rows @ taps[i, j]).reshape(geo.N, geo.Ho, geo.Wo, geo.C)
            full[:, y:y + hs:geo.sh, x:x + ws:geo.sw] += part
    inner = full[:, geo.pt:geo.pt + geo.H, geo.pl:geo.pl + geo.W].transpose(0, 3, 1, 2)
    return np.ascontiguousarray(inner).reshape(geo.x_shape)


def _weight_grad_cl(a: np.ndarray, g: np.ndarray, geo: ConvGeometry, cols,
                    gt=None) -> np.ndarray:
    if cols is None:
        cols = im2col_cl(_as4d(a, geo), geo)
    gw = (_grad_t(g, geo) if gt is None else gt) @ cols  # (O, kh * kw * C)
    gw = gw.reshape(geo.O, geo.kh, geo.kw, geo.C).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(gw).reshape(geo.w_shape)


class Convolution(Function):
    """out = conv(x, w) + b (see Note [im2col]);  dx = ConvTranspose(grad, w),
    dw = ConvWeight(x, grad),  db = grad summed over all dims but the channels"""


    @staticmethod
    def forward(ctx, x, w, b, geo):
        out, cols = conv_forward(x._data, w._data, None if b is None else b._data, geo)
        # the weight gradient reuses the column matrix
        ctx.save_for_backward(x, w, _wrap(cols) if ctx.needs_input_grad[1] else None)
        ctx.geo = geo
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w, cols = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        geo = ctx.geo
        gx = ConvTranspose.apply(grad, w, geo) if need_x else None
        gw = ConvWeight.apply(x, grad, geo, cols._data) if need_w else None
        gb = ConvBiasGrad.apply(grad) if need_b else None
        return tie((gx, gw, gb), (grad, x, w), "ConvolutionBackwardBackward0") + (None,)

    @staticmethod
    def fast_backward(ctx, grad):
        # Note [Fast backward]: in the channels-last layout the input and weight gradients
        # share one (O, N * Ho * Wo) copy of the output gradient; otherwise as backward
        geo = ctx.geo
        if not geo.cl:
            return Convolution.backward(ctx, grad)
        x, w, cols = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        g = grad._data
        gt = _grad_t(g, geo)
        gx = _wrap(_input_grad_cl(g, w._data, geo, gt)) if need_x else None
        gw = _wrap(_weight_grad_cl(x._data, g, geo, cols._data, gt)) if need_w else None
        gb = _wrap(ConvBiasGrad.kernel(g)) if need_b else None
        return gx, gw, gb, None

    @staticmethod
    def jvp(ctx, t_x, t_w, t_b, _):  # conv(t_x, w) + conv(x, t_w) + t_b
        x, w, _cols = ctx.saved_tensors
        geo = ctx.geo
        out = None
        if t_x is not None:
            out = Convolution.apply(t_x, w, t_b, geo)
            t_b = None
        if t_w is not None:
            term = Convolution.apply(x, t_w, t_b, geo)
            out = term if out is None else out + term
            t_b = None
        if t_b is not None:  # only the bias has a tangent: it broadcasts over the channels
            out = t_b.reshape((1, -1) + (1,) * (x.ndim - 2))
        return out


class ConvTranspose(Function):
    """out = conv^T(g, w), the input gradient of a conv (col2im of w^T @ g);
    dg = conv(grad, w),  dw = ConvWeight(grad, g)"""

    node_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, g, w, geo):
        ctx.save_for_backward(g, w)
        ctx.geo = geo
        return conv_input_grad(g._data, w._data, geo)

    @staticmethod
    def backward(ctx, grad):
        g, w = ctx.saved_tensors
        need_g, need_w = ctx.needs_input_grad[:2]
        geo = ctx.geo
        gg = Convolution.apply(grad, w, None, geo) if need_g else None
        gw = ConvWeight.apply(grad, g, geo, None) if need_w else None
        return gg, gw, None

    jvp = multilinear_jvp


class ConvWeight(Function):
    """out = the weight gradient of a conv for input x and output gradient g (g @ cols^T);
    dx = ConvTranspose(g, grad),  dg = conv(x, grad)"""

    node_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, x, g, geo, cols):
        ctx.save_for_backward(x, g)
        ctx.geo = geo
        return conv_weight_grad(x._data, g._data, geo, cols)

    @staticmethod
    def backward(ctx, grad):
        x, g = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad[:2]
        geo = ctx.geo
        gx = ConvTranspose.apply(g, grad, geo) if need_x else None
        gg = Convolution.apply(x, grad, None, geo) if need_g else None
        return gx, gg, None, None

    @staticmethod
    def jvp(ctx, t_x, t_g, *_):  # bilinear in (x, g); the cached columns are x's, so not passed
        x, g = ctx.saved_tensors
        out = ConvWeight.apply(t_x, g, ctx.geo, None) if t_x is not None else None
        if t_g is not None:
            term = ConvWeight.apply(x, t_g, ctx.geo, None)
            out = term if out is None else out + term
        return out


class ConvBiasGrad(Function):
    """out[c] = sum of g over all dims but the channels (dim 1), the bias gradient of a conv;
    dg = grad broadcast back to g's shape"""

    node_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def kernel(a: np.ndarray) -> np.ndarray:
        # NOTE: einsum's summing loop is several times faster than sum over axes (0, 2, 3).
        return np.einsum("ncl->c", a.reshape(a.shape[0], a.shape[1], math.prod(a.shape[2:])))

    @staticmethod
    def forward(ctx, g):
        a = g._data
        ctx.shape = a.shape
        return ConvBiasGrad.kernel(a)

    @staticmethod
    def backward(ctx, grad):
        shape = ctx.shape
        return grad.reshape((1, shape[1]) + (1,) * (len(shape) - 2)).expand(shape)

    jvp = linear_jvp
