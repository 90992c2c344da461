"""Adaptive max pooling (``adaptive_max_pool1d``/``2d``): the maximum of each adaptive window
(the windows of ops/nn/pooling.py's ``adaptive_windows``: cell i spans floor(i H / Ho) to
ceil((i + 1) H / Ho)), with the first maximum's flat position in its plane as the index.

Given those positions the op is a gather, so its derivative scatters grad back onto them and
that scatter's derivative is the gather again (``AdaptiveMaxPoolGather``)."""

from __future__ import annotations

import numpy as np

from ...autograd.forward_ad import linear_jvp
from ...autograd.function import Function
from .pooling import adaptive_windows

__all__ = ["AdaptiveMaxPool2D", "AdaptiveMaxPool2DGrad", "adaptive_max_positions"]


def adaptive_max_positions(a: np.ndarray, size: tuple) -> np.ndarray:
    """The flat position (in its H x W plane) of each window's first maximum, (..., Ho, Wo)."""
    h, w = a.shape[-2:]
    (hs, he), (ws, we) = adaptive_windows(h, size[0]), adaptive_windows(w, size[1])
    pos = np.empty(a.shape[:-2] + size, dtype=np.int64)
    for i in range(size[0]):
        for j in range(size[1]):
            win = a[..., hs[i]:he[i], ws[j]:we[j]]
            flat = win.reshape(win.shape[:-2] + (-1,))
            k = np.argmax(flat, axis=-1)
            width = we[j] - ws[j]
            pos[..., i, j] = (hs[i] + k // width) * w + ws[j] + k % width
    return pos


def _gather(a: np.ndarray, pos: np.ndarray) -> np.ndarray:
    plane = a.reshape(a.shape[:-2] + (-1,))
    return np.take_along_axis(plane, pos.reshape(pos.shape[:-2] + (-1,)), -1).reshape(pos.shape)


def _scatter(g: np.ndarray, pos: np.ndarray, shape: tuple) -> np.ndarray:
    lead = int(np.prod(shape[:-2]))
    plane = shape[-2] * shape[-1]
    where = (np.arange(lead)[:, None] * plane + pos.reshape(lead, -1)).reshape(-1)
    out = np.bincount(where, weights=g.reshape(-1), minlength=lead * plane)
    return out.reshape(shape).astype(g.dtype, copy=False)


class AdaptiveMaxPool2D(Function):
    """out = x at each window's first maximum;  dx = grad scattered back onto those places"""

    @staticmethod
    def forward(ctx, x, pos):
        ctx.pos, ctx.shape = pos, x._data.shape
        return _gather(x._data, pos)

    @staticmethod
    def backward(ctx, grad):
        return AdaptiveMaxPool2DGrad.apply(grad, ctx.pos, ctx.shape), None

    jvp = linear_jvp


class AdaptiveMaxPool2DGrad(Function):
    """out = grad scattered onto the maxima's places;  dgrad = the gather at those places"""

    node_name = "AdaptiveMaxPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, pos, shape):
        ctx.pos = pos
        return _scatter(grad._data, pos, shape)

    @staticmethod
    def backward(ctx, gg):
        return AdaptiveMaxPool2D.apply(gg, ctx.pos), None, None

    jvp = linear_jvp
