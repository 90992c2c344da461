"""Pooling: max_pool2d, avg_pool2d and adaptive_avg_pool2d, with their derivatives.

A pooling window at output (y, x) covers input rows y*s - p + i*d for i < k (and likewise for
columns). Forward copies the input once into a buffer padded with -inf (max) or 0 (average) and
reads the windows through one strided view per kernel tap (all windows at once).

Note [Max pooling ties]
    Within a window the gradient goes to one element, the one PyTorch's CPU kernel picks: the
    first maximum in row-major order (np.argmax), except that a window holding NaN picks its
    last NaN, and a window whose elements are all -inf picks its first element inside the input
    (never padding). ``indices`` are flat positions within each input plane (y * W + x).
"""

from __future__ import annotations

import numpy as np

from ...autograd.forward_ad import linear_jvp
from ...autograd.function import Function
from ...tensor import _wrap
from .fused_grads import tie

__all__ = ["AdaptiveAvgPool2d", "AdaptiveAvgPoolGrad", "AvgPool2d", "AvgPoolGrad",
           "MaxPool2d", "MaxPoolGrad", "PoolGeometry", "pool_out_size"]

def pool_out_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's output length of a pooling window sweep (ceil mode drops a last window that
    would start in the right padding)."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


class PoolGeometry:
    """Sizes of one 2-D pooling: kernel, stride, padding, dilation and the output size."""

    __slots__ = ("N", "C", "H", "W", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw", "Ho", "Wo",
                 "Hb", "Wb", "x_shape", "batched")

    def __init__(self, x_shape: tuple, kernel: tuple, stride: tuple, padding: tuple,
                 dilation: tuple, ceil_mode: bool) -> None:
        self.x_shape = x_shape  # (N, C, H, W), or (C, H, W) for an unbatched input
        self.batched = len(x_shape) == 4
        self.N, self.C, self.H, self.W = x_shape if self.batched else (1,) + x_shape
        self.kh, self.kw = kernel
        self.sh, self.sw = stride
        self.ph, self.pw = padding
        self.dh, self.dw = dilation
        self.Ho = pool_out_size(self.H, self.kh, self.sh, self.ph, self.dh, ceil_mode)
        self.Wo = pool_out_size(self.W, self.kw, self.sw, self.pw, self.dw, ceil_mode)
        # the buffer spans from -p to the end of the last window (or of the input, if later)
        self.Hb = max((self.Ho - 1) * self.sh + self.dh * (self.kh - 1) + 1, self.H + self.ph)
        self.Wb = max((self.Wo - 1) * self.sw + self.dw * (self.kw - 1) + 1, self.W + self.pw)

    def fits(self) -> bool:
        """Whether every window lies inside the input (no buffer needed)."""
        return not self.ph and not self.pw and self.Hb == self.H and self.Wb == self.W

    def in4d(self, a: np.ndarray) -> np.ndarray:
        return a if self.batched else a.reshape((1,) + a.shape)

    def out_shape(self) -> tuple:
        return (self.N, self.C, self.Ho, self.Wo)[0 if self.batched else 1:]


def _buffer(a: np.ndarray, geo: PoolGeometry, fill) -> np.ndarray:
    buf = np.full((geo.N, geo.C, geo.Hb, geo.Wb), fill, dtype=a.dtype)
    buf[:, :, geo.ph:geo.ph + geo.H, geo.pw:geo.pw + geo.W] = a
    return buf


def _taps(buf: np.ndarray, geo: PoolGeometry) -> list:
    """One strided view (N, C, Ho, Wo) per kernel tap (i, j): the element at that tap of every
    window. Reducing tap by tap runs a few whole-array ops instead of a reduction over tiny
    window axes, which NumPy does slowly."""
    hs, ws = geo.sh * (geo.Ho - 1) + 1, geo.sw * (geo.Wo - 1) + 1
    return [buf[:, :, i * geo.dh:i * geo.dh + hs:geo.sh, j * geo.dw:j * geo.dw + ws:geo.sw]
            for i in range(geo.kh) for j in range(geo.kw)]


def _spread(g: np.ndarray, geo: PoolGeometry, out_dtype) -> np.ndarray:
    """Add ``g`` (N, C, Ho, Wo) onto every element of its window: the adjoint of a window sum."""
    full = np.zeros((geo.N, geo.C, geo.Hb, geo.Wb), dtype=out_dtype)
    hs, ws = geo.sh * (geo.Ho - 1) + 1, geo.sw * (geo.Wo - 1) + 1
    for i in range(geo.kh):  # one add per kernel tap, over the whole batch at once
        for j in range(geo.kw):
            y, x = i * geo.dh, j * geo.dw
            full[:, :, y:y + hs:geo.sh, x:x + ws:geo.sw] += g
    return full[:, :, geo.ph:geo.ph + geo.H, geo.pw:geo.pw + geo.W]


# ---- max pooling -----------------------------------------------------------------------------


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _max_over_taps(taps: list, want_tap: bool) -> tuple:
    """(max, index of the tap holding it) over the taps (Note [Max pooling ties]); the index
    is None unless wanted."""
    # a tie keeps best (its zero sign, as PyTorch's first maximum); NaN propagates
    best = np.maximum(taps[1], taps[0]) if len(taps) > 1 else taps[0].copy()
    for tap in taps[2:]:
        np.maximum(tap, best, out=best)
    if not want_tap:
        return best, None
    n = len(taps)
    small = np.int8 if n < 128 else np.int32
    if n == 1:
        return best, np.zeros(best.shape, dtype=small)
    if best.dtype.kind == "f" and np.isnan(best).any():
        return best, _last_nan_rule(taps)
    # The first tap equal to the max, without a pass per tap over two full index arrays:
    # k = ne0 * (1 + ne1 * (1 + ... ne_{n-2})) with ne_t = (tap_t != max) is 0 if tap 0 holds
    # the max, else 1 if tap 1 does, ..., else n - 1.
    k = np.not_equal(taps[-2], best).view(np.int8)  # (a new array: updated in place)
    if small is not np.int8:
        k = k.astype(small)
    for tap in taps[-3::-1]:
        k += 1
        k *= np.not_equal(tap, best)
    return best, k


def _last_nan_rule(taps: list) -> np.ndarray:
    """The tap PyTorch's kernel keeps, scanning in order: a later tap replaces the current one
    if it is greater, or NaN."""
    best = taps[0].copy()
    k = np.zeros(best.shape, dtype=np.int32)
    for t, tap in enumerate(taps[1:], 1):
        wins = (tap > best) | np.isnan(tap)
        np.copyto(best, tap, where=wins)
        k[wins] = t
    return k


def _plane_positions(k: np.ndarray, out: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Flat in-plane index (y * W + x) of tap k of each window. A window whose elements are all
    -inf kept its first tap, which may be padding: it points at its first element inside the
    input instead, as in PyTorch."""
    W = geo.W
    y0 = np.arange(geo.Ho) * geo.sh - geo.ph
    x0 = np.arange(geo.Wo) * geo.sw - geo.pw
    offsets = (np.arange(geo.kh)[:, None] * (geo.dh * W) + np.arange(geo.kw) * geo.dw).ravel()
    pos = (y0[:, None] * W + x0) + offsets.take(k)
    if not geo.fits():
        low = out == _lowest(out.dtype)
        if low.any():
            ki, kj = np.divmod(k, geo.kw)
            y = y0[:, None] + ki * geo.dh
            x = x0 + kj * geo.dw
            outside = (y < 0) | (y >= geo.H) | (x < 0) | (x >= W)
            # first in-bounds row of a window starting at y0 < 0: y0 + dh * ceil(-y0 / dh)
            first_y = y0 + geo.dh * (-(np.minimum(y0, 0) // geo.dh))
            first_x = x0 + geo.dw * (-(np.minimum(x0, 0) // geo.dw))
            pos = np.where(outside, first_y[:, None] * W + first_x, pos)
    return pos


class MaxPool2d(Function):
    """out = max over each window, indices = where it was;  dx = grad routed to those indices"""

    node_name = "MaxPool2DWithIndicesBackward0"
    ctx_arrays = ("idx", "k")

    @staticmethod
    def forward(ctx, x, geo, want_indices):
        a = geo.in4d(x._data)
        taps = _taps(a if geo.fits() else _buffer(a, geo, _lowest(a.dtype)), geo)
        # the indices are found only when returned or needed for backward (needs_input_grad
        # is all False when nothing is recorded)
        out4, k = _max_over_taps(taps, want_indices or ctx.needs_input_grad[0])
        out = out4.reshape(geo.out_shape())
        if k is None:
            return out
        ctx.geo = geo
        ctx.save_for_backward(x)  # as PyTorch: for its version check, and tie (below)
        if not want_indices and geo.fits():  # Note [Max pooling positions]
            ctx.k, ctx.idx = k, None
            return out
        idx = _plane_positions(k, out4, geo).reshape(geo.out_shape())
        ctx.idx = idx
        return (out, idx) if want_indices else out

    @staticmethod
    def backward(ctx, grad, *_grad_of_indices):
        if ctx.idx is None:  # Note [Max pooling positions]
            gx = MaxPoolGrad.apply(grad, None, ctx.geo, ctx.k)
        else:
            gx = MaxPoolGrad.apply(grad, ctx.idx, ctx.geo)
        (x,) = ctx.saved_tensors  # Note [Fused backward's requires_grad]
        return tie((gx,), (x,), "MaxPool2DWithIndicesBackwardBackward0")[0], None, None

    @staticmethod
    def jvp(ctx, t, *_):  # the tangent at the positions forward picked (not the indices)
        if ctx.idx is None:
            flat = _flat_positions(ctx.k, ctx.geo)
        else:
            flat = (ctx.idx + _plane_offsets(ctx.geo)).reshape(-1)
        return t.reshape(-1)[_wrap(flat)].reshape(ctx.geo.out_shape())


# Note [Max pooling positions]
#     When every window lies inside the input and the indices are not returned, forward keeps
#     only the tap index k of each window's maximum (int8) and backward turns it into flat
#     positions in the whole input at once, ``_window_starts`` (cached per geometry) plus the
#     tap's offset: one gather and one add, instead of building in-plane indices in forward
#     and adding the plane offsets in backward. Both give the same positions.

_STARTS: dict = {}


def _window_starts(geo: PoolGeometry) -> np.ndarray:
    """Flat position in the whole (N, C, H, W) input of the first element of every window,
    (N, C, Ho, Wo) int64; cached per geometry (a few of them)."""
    key = (geo.N, geo.C, geo.H, geo.W, geo.Ho, geo.Wo, geo.sh, geo.sw)
    starts = _STARTS.get(key)
    if starts is None:
        plane = np.arange(geo.Ho)[:, None] * (geo.sh * geo.W) + np.arange(geo.Wo) * geo.sw
        starts = _plane_offsets(geo) + plane
        starts.flags.writeable = False
        if len(_STARTS) >= 8:
            _STARTS.clear()
        _STARTS[key] = starts
    return starts


def _flat_positions(k: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Flat positions in the whole input of tap k of every window (Note [Max pooling
    positions]; windows inside the input)."""
    offsets = (np.arange(geo.kh)[:, None] * (geo.dh * geo.W)
               + np.arange(geo.kw) * geo.dw).ravel()
    flat = np.take(offsets, k)  # (the function, not the method: vmap can run it per sample)
    flat += _window_starts(geo)
    return flat.reshape(-1)


def _plane_offsets(geo: PoolGeometry) -> np.ndarray:
    return (np.arange(geo.N * geo.C) * (geo.H * geo.W)).reshape(geo.N, geo.C, 1, 1)


class MaxPoolGrad(Function):
    """out = g scattered onto the positions max pooling picked (zeros elsewhere);
    dg = grad gathered at those positions"""

    node_name = "MaxPool2DWithIndicesBackwardBackward0"
    ctx_arrays = ("flat",)

    @staticmethod
    def forward(ctx, g, idx, geo, k=None):
        ctx.geo = geo
        if idx is None:  # given the tap index k instead (Note [Max pooling positions])
            ctx.flat = flat = _flat_positions(k, geo)
        else:
            ctx.flat = flat = (idx + _plane_offsets(geo)).reshape(-1)
        gx = np.zeros(geo.N * geo.C * geo.H * geo.W, dtype=g._data.dtype)
        gv = g._data.reshape(-1)
        overlap = geo.sh < geo.dh * (geo.kh - 1) + 1 or geo.sw < geo.dw * (geo.kw - 1) + 1
        if overlap:  # two windows may pick the same element: accumulate
            np.add.at(gx, flat, gv)
        else:
            gx[flat] = gv
        return gx.reshape(geo.x_shape)

    @staticmethod
    def backward(ctx, grad):
        geo = ctx.geo
        picked = grad.reshape(-1)[_wrap(ctx.flat)]
        return picked.reshape(geo.out_shape()), None, None, None

    jvp = linear_jvp


# ---- average pooling -------------------------------------------------------------------------


def avg_divisor(geo: PoolGeometry, count_include_pad: bool, divisor_override) -> np.ndarray:
    """The number each window's sum is divided by, (Ho, Wo) (PyTorch's rules: a window is cut at
    the end of the padding; without count_include_pad padding does not count at all)."""
    if divisor_override:
        return np.asarray(divisor_override)

    def sizes(n_out, s, p, k, size):
        start = np.arange(n_out) * s - p
        end = np.minimum(start + k, size + p)
        if count_include_pad:
            return end - start
        return np.minimum(end, size) - np.maximum(start, 0)

    return np.outer(sizes(geo.Ho, geo.sh, geo.ph, geo.kh, geo.H),
                    sizes(geo.Wo, geo.sw, geo.pw, geo.kw, geo.W))


class AvgPool2d(Function):
    """out = sum over each window / divisor;  dx = AvgPoolGrad(grad)"""

    node_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, geo, divisor):
        a = geo.in4d(x._data)
        taps = _taps(a if geo.fits() else _buffer(a, geo, 0), geo)
        ctx.geo = geo
        ctx.divisor = divisor
        ctx.save_for_backward(x)  # as PyTorch: for its version check, and tie (below)
        total = taps[0].astype(a.dtype if a.dtype.kind == "f" else np.int64)
        for tap in taps[1:]:
            total += tap
        if a.dtype.kind != "f":  # integer average: truncated, as PyTorch does
            total = np.trunc(total / divisor).astype(a.dtype)
        else:
            total /= divisor.astype(a.dtype)
        return total.reshape(geo.out_shape())

    @staticmethod
    def backward(ctx, grad):
        gx = AvgPoolGrad.apply(grad, ctx.geo, ctx.divisor)
        (x,) = ctx.saved_tensors  # Note [Fused backward's requires_grad]
        return tie((gx,), (x,), "AvgPool2DBackwardBackward0")[0], None, None

    jvp = linear_jvp


class AvgPoolGrad(Function):
    """out = (g / divisor) spread over each window (the adjoint of avg pooling);
    dg = AvgPool2d(grad)"""

    node_name = "AvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, g, geo, divisor):
        ctx.geo = geo
        ctx.divisor = divisor
        a = geo.in4d(g._data)
        gx = _spread(a / divisor.astype(a.dtype), geo, a.dtype)
        return np.ascontiguousarray(gx).reshape(geo.x_shape)

    @staticmethod
    def backward(ctx, grad):
        return AvgPool2d.apply(grad, ctx.geo, ctx.divisor), None, None

    jvp = linear_jvp


# ---- adaptive average pooling ----------------------------------------------------------------


def adaptive_windows(size: int, out: int) -> tuple:
    """Per output cell i, the input cells [floor(i*size/out), ceil((i+1)*size/out))."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def adaptive_matrix(size: int, out: int, dtype) -> np.ndarray:
    """(out, size) matrix averaging each output cell's window of input cells."""
    start, end = adaptive_windows(size, out)
    cols = np.arange(size)
    inside = (cols >= start[:, None]) & (cols < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


# NOTE: the matrix products multiply every cell by the zeros outside its windows, so one NaN or
# inf would reach every output (0 * inf is NaN). Arrays that are not all finite take the loops
# below instead, which touch each window alone (as PyTorch's kernel does).


def _mean_windows(a: np.ndarray, axis: int, out: int) -> np.ndarray:
    """Means of the adaptive windows along ``axis`` (of size ``out`` in the result)."""
    start, end = adaptive_windows(a.shape[axis], out)
    parts = [np.take(a, range(s, e), axis=axis).mean(axis=axis, keepdims=True)
             for s, e in zip(start.tolist(), end.tolist())]
    return np.concatenate(parts, axis=axis)


def _spread_windows(g: np.ndarray, axis: int, size: int) -> np.ndarray:
    """The adjoint of ``_mean_windows``: each window's gradient shared among its cells."""
    start, end = adaptive_windows(size, g.shape[axis])
    shape = list(g.shape)
    shape[axis] = size
    out = np.zeros(shape, dtype=g.dtype)
    moved = np.moveaxis(out, axis, 0)  # (a view: writes land in out)
    gm = np.moveaxis(g, axis, 0)
    for i, (s, e) in enumerate(zip(start.tolist(), end.tolist())):
        moved[s:e] += gm[i] / (e - s)
    return out


class AdaptiveAvgPool2d(Function):
    """out = A_h @ x @ A_w^T (each output cell the mean of its window; A_h, A_w averaging
    matrices);  dx = A_h^T @ grad @ A_w"""

    node_name = "AdaptiveAvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, out_size):
        a = x._data
        ah = adaptive_matrix(a.shape[-2], out_size[0], a.dtype)
        aw = adaptive_matrix(a.shape[-1], out_size[1], a.dtype)
        ctx.mats = (ah, aw)
        if not np.isfinite(a).all():
            return _mean_windows(_mean_windows(a, -2, out_size[0]), -1, out_size[1])
        return np.matmul(np.matmul(ah, a), aw.T)

    @staticmethod
    def backward(ctx, grad):
        return AdaptiveAvgPoolGrad.apply(grad, ctx.mats), None

    jvp = linear_jvp


class AdaptiveAvgPoolGrad(Function):
    """out = A_h^T @ g @ A_w (the adjoint of adaptive average pooling);
    dg = A_h @ grad @ A_w^T"""

    node_name = "AdaptiveAvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, g, mats):
        ah, aw = mats
        ctx.mats = mats
        if not np.isfinite(g._data).all():
            return _spread_windows(_spread_windows(g._data, -2, ah.shape[1]), -1, aw.shape[1])
        return np.matmul(np.matmul(ah.T, g._data), aw)

    @staticmethod
    def backward(ctx, grad):
        ah, aw = ctx.mats
        return AdaptiveAvgPool2d.apply(grad, (ah.shape[0], aw.shape[0])), None

    jvp = linear_jvp
