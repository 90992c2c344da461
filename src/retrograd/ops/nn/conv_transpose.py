"""Transposed convolution (``conv_transpose1d``/``2d``) as one node.

A transposed convolution of x with weight w (Cin, Cout / groups, k...) is the input gradient of
the convolution that maps an (N, Cout, Hout, ...) tensor to x's shape with the same weight,
stride, padding, dilation and groups (Note [Derivatives of convolution] in ops/nn/conv.py):
that kernel (``conv_input_grad``) is the forward, and the derivatives are the convolution
itself (for x) and the convolution's weight gradient with the roles of input and output
gradient swapped (for w).
"""

from __future__ import annotations

from ...autograd.function import Function
from .conv import ConvBiasGrad, ConvGeometry, Convolution, ConvWeight, conv_input_grad

__all__ = ["ConvTransposeNd", "transpose_geometry"]


def transpose_geometry(x_shape: tuple, w_shape: tuple, stride: tuple, padding: tuple,
                       output_padding: tuple, dilation: tuple, groups: int) -> ConvGeometry:
    """The geometry of the convolution whose input gradient is this transposed convolution
    (sizes as for a 2-D one: a 1-D one passes height 1 values first)."""
    out = x_shape[:1] + (w_shape[1] * groups,)
    k = len(x_shape) - 2
    for i in range(k):
        s, p, op, d = stride[-k + i], padding[-k + i], output_padding[-k + i], dilation[-k + i]
        kernel = w_shape[2 + i]
        out += ((x_shape[2 + i] - 1) * s - 2 * p + d * (kernel - 1) + op + 1,)
    pads = ()
    for p in padding:
        pads += (p, p)
    return ConvGeometry(out, w_shape, stride, pads, dilation, groups)


class ConvTransposeNd(Function):
    """out = conv^T(x, w) + b;  dx = conv(grad, w),  dw = ConvWeight(grad, x),
    db = grad summed over all dims but the channels"""

    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, geo):
        ctx.save_for_backward(x, w)
        ctx.geo = geo
        out = conv_input_grad(x._data, w._data, geo)
        if b is not None:
            out += b._data.reshape((1, -1) + (1,) * (out.ndim - 2))
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        geo = ctx.geo
        gx = Convolution.apply(grad, w, None, geo) if need_x else None
        gw = ConvWeight.apply(grad, x, geo, None) if need_w else None
        gb = ConvBiasGrad.apply(grad) if need_b else None
        return gx, gw, gb, None

    @staticmethod
    def jvp(ctx, t_x, t_w, t_b, _):  # conv^T(t_x, w) + conv^T(x, t_w) + t_b
        x, w = ctx.saved_tensors
        geo = ctx.geo
        out = None
        if t_x is not None:
            out = ConvTransposeNd.apply(t_x, w, t_b, geo)
            t_b = None
        if t_w is not None:
            term = ConvTransposeNd.apply(x, t_w, t_b, geo)
            out = term if out is None else out + term
            t_b = None
        if t_b is not None:
            out = t_b.reshape((1, -1) + (1,) * (x.ndim - 2))
        return out
