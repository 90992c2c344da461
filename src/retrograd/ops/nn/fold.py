"""``unfold`` (im2col) and ``fold`` (col2im): each is the other's adjoint, so each is the
other's backward.

Unfold pads the input (N, C, H, W) with zeros and lists, for each kernel tap (i, j) and each
output position (y, x), the value at (y s_h + i d_h, x s_w + j d_w): one gather through a flat
index into the padded plane, giving (N, C kh kw, L). Fold sums such columns back onto a zero
plane (repeated positions add up) and crops the padding.
"""

from __future__ import annotations

import numpy as np

from ...autograd.forward_ad import linear_jvp
from ...autograd.function import Function

__all__ = ["Col2Im", "FoldGeometry", "Im2Col"]


class FoldGeometry:
    """Sizes of one unfold/fold: the plane (H, W), kernel, dilation, padding, stride, and the
    flat index (kh kw, L) of each tap's values in the padded plane."""

    def __init__(self, size: tuple, kernel: tuple, dilation: tuple, padding: tuple,
                 stride: tuple) -> None:
        (self.H, self.W), (kh, kw) = size, kernel
        self.pad = padding
        self.Hp, self.Wp = self.H + 2 * padding[0], self.W + 2 * padding[1]
        self.blocks = tuple((p - d * (k - 1) - 1) // s + 1 for p, d, k, s in
                            zip((self.Hp, self.Wp), dilation, kernel, stride))
        taps_h = np.arange(kh)[:, None] * dilation[0]
        taps_w = np.arange(kw)[:, None] * dilation[1]
        rows = (taps_h[:, None, :, None] + np.arange(self.blocks[0])[None, None, :, None]
                * stride[0])  # (kh, 1, Ho, 1)
        cols = (taps_w[None, :, None, :] + np.arange(self.blocks[1])[None, None, None, :]
                * stride[1])  # (1, kw, 1, Wo)
        self.index = (rows * self.Wp + cols).reshape(kh * kw, -1)
        self.taps = kh * kw


def _im2col(a: np.ndarray, geo: FoldGeometry) -> np.ndarray:
    if a.ndim == 3:  # unbatched
        return _im2col(a[None], geo)[0]
    n, c = a.shape[:2]
    ph, pw = geo.pad
    padded = np.pad(a, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else a
    cols = padded.reshape(n, c, -1)[:, :, geo.index]  # (N, C, taps, L)
    return cols.reshape(n, c * geo.taps, -1)


def _col2im(g: np.ndarray, geo: FoldGeometry) -> np.ndarray:
    if g.ndim == 2:  # unbatched
        return _col2im(g[None], geo)[0]
    n = g.shape[0]
    c = g.shape[1] // geo.taps
    plane = geo.Hp * geo.Wp
    vals = g.reshape(n * c, -1)
    # one bincount over all planes: each plane's flat positions offset by its start
    where = (np.arange(n * c)[:, None] * plane + geo.index.reshape(1, -1)).reshape(-1)
    out = np.bincount(where, weights=vals.reshape(-1), minlength=n * c * plane)
    out = out.reshape(n, c, geo.Hp, geo.Wp)
    ph, pw = geo.pad
    return np.ascontiguousarray(out[:, :, ph:ph + geo.H, pw:pw + geo.W])


class Im2Col(Function):
    """out = the sliding blocks of x as columns (unfold);  dx = col2im(grad)"""

    @staticmethod
    def forward(ctx, x, geo):
        ctx.geo = geo
        return _im2col(x._data, geo)

    @staticmethod
    def backward(ctx, grad):
        return Col2Im.apply(grad, ctx.geo), None

    jvp = linear_jvp


class Col2Im(Function):
    """out = columns summed back into the plane (fold);  dx = im2col(grad)"""

    @staticmethod
    def forward(ctx, x, geo):
        ctx.geo = geo
        out = _col2im(x._data, geo)
        return out.astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return Im2Col.apply(grad, ctx.geo), None

    jvp = linear_jvp
