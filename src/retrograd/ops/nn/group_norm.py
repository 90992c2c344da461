"""Group normalization as one node (PyTorch's ``NativeGroupNormBackward0``).

y = (x - mean_g) * invstd_g * w_c + b_c, the statistics taken per sample over the channels of
each of G groups and all spatial positions. With the input viewed as (N, G, M) the derivative is
Note [Normalization backward] of ops/nn/normalization.py over the last dim:
    dx = invstd * (g - mean(g) - xhat * mean(g * xhat)),  g = grad * w
and since that Jacobian is symmetric, the same formula applied to a tangent is the jvp.
"""

from __future__ import annotations

import numpy as np

from ...autograd.function import Function

__all__ = ["NativeGroupNorm"]


def _channel_shape(ndim: int) -> tuple:
    return (1, -1) + (1,) * (ndim - 2)


def _normalized(x, groups: int, eps: float) -> tuple:
    """(xhat, invstd) of a tensor x as functions of x, grouped as (N, G, M)."""
    xg = x.reshape(x.shape[0], groups, -1)
    xc = xg - xg.mean(2, keepdim=True)
    invstd = ((xc * xc).mean(2, keepdim=True) + eps).rsqrt()
    return xc * invstd, invstd


def _input_part(g, xhat, invstd, shape):
    """invstd * (g - mean(g) - xhat * mean(g * xhat)) per group, g grouped like xhat."""
    g = g.reshape(xhat.shape)
    out = (g - g.mean(2, keepdim=True) - xhat * (g * xhat).mean(2, keepdim=True)) * invstd
    return out.reshape(shape)


class NativeGroupNorm(Function):
    """y = (x - mean_g) * invstd_g * w + b per group g of channels;
    dx = invstd * (g - mean(g) - xhat * mean(g * xhat)) with g = grad * w per group,
    dw = sum(grad * xhat),  db = sum(grad) over the batch and spatial dims"""

    @staticmethod
    def forward(ctx, x, w, b, groups, eps):
        a = x._data
        n = a.shape[0]
        ag = a.reshape(n, groups, -1)
        xc = ag - ag.mean(axis=2, keepdims=True)
        var = (xc * xc).mean(axis=2, keepdims=True)
        out = (xc / np.sqrt(var + eps)).reshape(a.shape)
        if w is not None:
            out *= w._data.reshape(_channel_shape(a.ndim))
        if b is not None:
            out += b._data.reshape(_channel_shape(a.ndim))
        ctx.save_for_backward(x, w)
        ctx.groups, ctx.eps = groups, eps
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        xhat, invstd = _normalized(x, ctx.groups, ctx.eps)
        axes = (0,) + tuple(range(2, x.ndim))
        gx = gw = gb = None
        if need_x:
            g = grad if w is None else grad * w.reshape(_channel_shape(x.ndim))
            gx = _input_part(g, xhat, invstd, x.shape)
        if need_w:
            gw = (grad * xhat.reshape(x.shape)).sum(axes)
        if need_b:
            gb = grad.sum(axes)
        return gx, gw, gb, None, None

    @staticmethod
    def jvp(ctx, t_x, t_w, t_b, *_):
        x, w = ctx.saved_tensors
        xhat, invstd = _normalized(x, ctx.groups, ctx.eps)
        shape = _channel_shape(x.ndim)
        out = None
        if t_x is not None:
            out = _input_part(t_x, xhat, invstd, x.shape)
            if w is not None:
                out = out * w.reshape(shape)
        if t_w is not None:
            term = xhat.reshape(x.shape) * t_w.reshape(shape)
            out = term if out is None else out + term
        if t_b is not None:
            term = t_b.reshape(shape)
            out = term if out is None else out + term
        return out
