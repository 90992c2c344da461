"""Batch normalization and layer normalization, each one fused node.

Both compute  y = (x - mean) * invstd * weight + bias  with invstd = 1 / sqrt(var + eps) and var
the biased variance, over the batch and spatial dims per channel (batch norm, training), over
the last dims per sample (layer norm), or from running statistics (batch norm, evaluation).

Note [Normalization backward]
    With xhat = (x - mean) * invstd, g = grad * weight, and means taken over the normalized
    dims (M values each), the input gradient is
        dx = invstd * (g - mean(g) - xhat * mean(g * xhat))
    when the statistics come from x, and dx = invstd * g when they are constants (running
    statistics). ``_normalize_backward`` writes it once, with tensor ops, given the statistics.
    ``backward`` passes them as functions of x (recomputed with tensor ops), so the result can
    be differentiated again; ``fast_backward`` (Note [Fast backward], for a backward that
    records nothing) runs the same function on arrays, with forward's statistics as constants,
    which saves recomputing them and the cost of an op per term.
"""

from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...tensor import _wrap
from .fused_grads import tie
from .layer_norm_rows import backward_rows, forward_rows, rows_fit

__all__ = ["BatchNorm", "LayerNorm"]


def _normalize(ctx, x, w, b, xc, mean, var, eps: float, axes: tuple, shape: tuple,
               from_x: bool, fold: bool = False) -> np.ndarray:
    """Forward of both: y from the centred input xc = x - mean and the statistics (arrays
    shaped to broadcast against x; ``shape`` is how weight and bias broadcast)."""
    invstd = 1.0 / np.sqrt(var + eps)
    out = xc  # (a new array each caller made: updated in place)
    if fold:  # batch norm: x * alpha + beta per channel, PyTorch's kernel's form
        _fold_affine(out, x._data, w, b, mean, invstd, shape)
    elif w is None:
        out *= invstd
    elif invstd.size * w._data.size <= out.size:  # per channel (batch norm): scale first
        out *= invstd * w._data.reshape(shape)
    else:  # per sample and per feature (layer norm): no full-size scale array
        out *= invstd
        out *= w._data.reshape(shape)
    if b is not None and not fold:
        out += b._data.reshape(shape)
    ctx.save_for_backward(x, w)
    ctx.bias = None  # LayerNorm's backward also ties its gradients to b (below)
    ctx.stats = (mean, invstd)
    ctx.axes, ctx.shape, ctx.eps, ctx.from_x = axes, shape, eps, from_x
    return out


def _fold_affine(out: np.ndarray, a: np.ndarray, w, b, mean, invstd, shape: tuple) -> None:
    """out = a * alpha + beta with per-channel alpha = invstd * w, beta = b - mean * alpha:
    batch norm's affine map folded as PyTorch computes it, so its roundings (a constant
    channel normalizes to 0 or to a last-bit difference) and its infinities and NaNs (an
    infinite weight) are PyTorch's."""
    alpha = invstd if w is None else invstd * w._data.reshape(shape)
    beta = -(mean * alpha) if b is None else b._data.reshape(shape) - mean * alpha
    np.multiply(a, alpha, out=out)
    out += beta


def _sum_over(t, axes: tuple):
    return t.sum(axes) if axes else t  # (an empty tuple would mean "all dims" to sum)


def _mean_over(t, axes: tuple):
    """The mean over ``axes``, kept as size-1 dims, of a tensor or (fast_backward) an array."""
    if isinstance(t, np.ndarray):
        return t.mean(axes, keepdims=True)
    return t.mean(axes, keepdim=True)


def _normalize_backward(ctx, grad, x, mean, invstd, w) -> tuple:
    """Gradients of x, weight and bias given the statistics (Note [Normalization backward]);
    weight's and bias's are summed over the normalized dims here, so the engine only reshapes
    them. Written once for tensors (``backward``) and arrays (``fast_backward``)."""
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    axes = ctx.axes
    if ctx.from_x and ctx.param_axes == axes:
        return _batch_norm_backward(ctx, grad, x - mean, invstd, w)
    if ctx.from_x:
        return _layer_norm_backward(ctx, grad, x, mean, invstd, w)
    # fixed statistics (batch norm in eval mode): an affine map of x
    xhat = _times(x - mean, invstd)
    gx = gw = gb = None
    if need_w:
        gw = _sum_over(grad * xhat, ctx.param_axes).reshape(w.shape)
    if need_b:
        gb = _sum_over(grad, ctx.param_axes).reshape(ctx.b_shape)
    if need_x:
        gx = (grad if w is None else grad * w.reshape(ctx.shape)) * invstd
    return gx, gw, gb


def _layer_norm_backward(ctx, grad, x, mean, invstd, w) -> tuple:
    """``_normalize_backward`` of layer norm, in the form PyTorch's kernel computes it. Per row
    (the N values of the normalized dims), with a = invstd and g = grad * w:
        dx = a g + b x + c,  b = (sum(g) mean - sum(g x)) a^3 / N,  c = -b mean - sum(g) a / N
    (Note [Normalization backward]'s formula expanded), dw = sum over rows of
    grad (a x - a mean), db = sum over rows of grad. The values agree with the centred form
    up to rounding; where the weight is infinite this form's infinities and NaNs are PyTorch's
    (an infinite g reaches every element of its row through b and c)."""
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    axes = ctx.axes
    gx = gw = gb = None
    if need_w:
        gw = _sum_over(grad * (x * invstd - invstd * mean), ctx.param_axes).reshape(w.shape)
    if need_b:
        gb = _sum_over(grad, ctx.param_axes).reshape(ctx.b_shape)
    if need_x:
        g = grad if w is None else grad * w.reshape(ctx.shape)
        n = 1
        for d in axes:
            n *= x.shape[d]
        scale = 1.0 / n if n else np.inf
        sum_g = _sum_kept(g, axes)
        b = (sum_g * mean - _sum_kept_product(g, x, axes)) * invstd * invstd * invstd * scale
        c = -b * mean - sum_g * invstd * scale
        if isinstance(g, np.ndarray):
            gx = g * invstd
            gx += b * x
            gx += c
        else:
            gx = g * invstd + b * x + c
    return gx, gw, gb


def _sum_kept(t, axes: tuple):
    """The sum over ``axes``, kept as size-1 dims, of a tensor or an array."""
    if isinstance(t, np.ndarray):
        return t.sum(axes, keepdims=True)
    return t.sum(axes, keepdim=True)


def _sum_kept_product(a, b, axes: tuple):
    """sum(a * b) over ``axes`` (the last dims) kept as size-1 dims; for arrays as row dot
    products, without the product's temporary."""
    if isinstance(a, np.ndarray) and a.size:
        k = int(np.prod(a.shape[a.ndim - len(axes):]))
        rows = np.einsum("rk,rk->r", a.reshape(-1, k), b.reshape(-1, k))
        return rows.reshape(a.shape[:a.ndim - len(axes)] + (1,) * len(axes))
    return _sum_kept(a * b, axes)


def _times(a, b):
    """a * b, of tensors, or of arrays with ``a`` (a temporary) updated in place."""
    if isinstance(a, np.ndarray):
        a *= b
        return a
    return a * b


def _batch_norm_backward(ctx, grad, xc, invstd, w) -> tuple:
    """``_normalize_backward`` when weight's dims are the normalized ones' complement (batch
    norm with the batch's statistics), from xc = x - mean. Then gw = invstd * sum(grad * xc)
    and gb = sum(grad) are the sums the input gradient needs: mean(g) = w gb / M and
    mean(g xhat) = w gw / M, so dx = (grad - gb / M - xc * K) * A with per-channel
    K = invstd gw / M, A = w invstd (PyTorch's kernel's form: two passes fewer than the
    general formula, no full-size xhat, and PyTorch's infinities where w is infinite)."""
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    axes = ctx.axes
    m = xc.numel() // invstd.numel() if not isinstance(xc, np.ndarray) else xc.size // invstd.size
    gb = _channel_sum(grad, axes)
    gw = _sum_over_product(grad, xc, axes) * invstd.reshape(gb.shape)
    gx = None
    if need_x:
        scale = invstd.reshape(gb.shape) if w is None else w.reshape(gb.shape) * invstd.reshape(
            gb.shape)
        k = (gw * invstd.reshape(gb.shape) / m).reshape(ctx.shape)
        gx = _sub_scale(grad, (gb / m).reshape(ctx.shape), xc, k, scale.reshape(ctx.shape))
    return (gx, gw.reshape(w.shape) if need_w else None,
            gb.reshape(ctx.b_shape) if need_b else None)


def _channel_sum(a, axes: tuple):
    """The sum over ``axes`` (all but the channel dim 1), of a tensor or (einsum, faster than
    reducing over axes (0, 2, ...)) a float array."""
    if (isinstance(a, np.ndarray) and a.dtype in (np.float32, np.float64) and a.ndim > 1
            and a.size):
        return np.einsum("ncs->c", a.reshape(a.shape[0], a.shape[1], -1))
    return _sum_over(a, axes)


def _sum_over_product(a, b, axes: tuple):
    """sum(a * b) over ``axes`` (the channel dim 1 kept), of tensors or, without the product's
    temporary, arrays."""
    if isinstance(a, np.ndarray):
        n, c = a.shape[:2]
        return np.einsum("ncs,ncs->c", a.reshape(n, c, -1), b.reshape(n, c, -1))
    return (a * b).sum(axes)


def _sub_scale(g, gm, xc, k, a):
    """(g - gm - xc * k) * a, of tensors or arrays (xc, a temporary, updated in place): the
    order of PyTorch's kernel, whose infinities and NaNs it then has where a weight is
    infinite (an infinite a times a finite difference, not inf - inf)."""
    if isinstance(g, np.ndarray):
        xc *= k
        out = g - gm
        out -= xc
        out *= a
        return out
    return (g - gm - xc * k) * a


def _stats_of_x(ctx, x) -> tuple:
    """(mean, invstd) as functions of x, or forward's constants when they did not come from x."""
    if not ctx.from_x:
        return tuple(_wrap(s) for s in ctx.stats)
    mean = x.mean(ctx.axes, keepdim=True)
    xc = x - mean
    return mean, ((xc * xc).mean(ctx.axes, keepdim=True) + ctx.eps).rsqrt()


class _Normalization(Function):
    """The backward shared by BatchNorm and LayerNorm (Note [Normalization backward]); the
    forward arguments after (x, weight, bias) get no gradient."""

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors[:2]
        grads = _normalize_backward(ctx, grad, x, *_stats_of_x(ctx, x), w)
        # PyTorch's fused backward also takes the saved statistics, which require grad when
        # any of x, weight, bias does: so do all the gradients under create_graph
        grads = tie(grads, (grad, x, w, ctx.bias), ctx._function.tie_name)
        return grads + (None,) * (len(ctx.needs_input_grad) - 3)

    @staticmethod
    def fast_backward(ctx, grad):  # the same formula on arrays, forward's statistics constant
        x, w = ctx.saved_tensors[:2]
        grads = _normalize_backward(ctx, grad._data, x._data, *ctx.stats,
                                    None if w is None else w._data)
        return tuple(None if g is None else _wrap(g) for g in grads) + (
            (None,) * (len(ctx.needs_input_grad) - 3))

    @staticmethod
    def jvp(ctx, tx, tw, tb, *_):
        # y = xhat w + b: dy = dxhat w + xhat dw + db, where the Jacobian of xhat in x is
        # symmetric (Note [Normalization backward]), so dxhat is backward's formula with g = tx
        x, w = ctx.saved_tensors[:2]
        mean, invstd = _stats_of_x(ctx, x)
        xhat = (x - mean) * invstd
        out = None
        if tx is not None:
            if ctx.from_x:
                out = (tx - _mean_over(tx, ctx.axes)
                       - xhat * _mean_over(tx * xhat, ctx.axes)) * invstd
            else:
                out = tx * invstd
            if w is not None:
                out = out * w.reshape(ctx.shape)
        for term in (None if tw is None else xhat * tw.reshape(ctx.shape),
                     None if tb is None else tb.reshape(ctx.shape)):
            if term is not None:
                out = term if out is None else out + term
        return out


class BatchNorm(_Normalization):
    """y = (x - mean_c) * invstd_c * w_c + b_c per channel c, with the batch's statistics when
    training (and the running ones updated in place), else the running ones;
    see Note [Normalization backward]"""

    node_name = "NativeBatchNormBackward0"
    tie_name = "NativeBatchNormBackwardBackward0"

    @staticmethod
    def forward(ctx, x, w, b, running_mean, running_var, training, momentum, eps):
        a = x._data
        axes = (0,) + tuple(range(2, a.ndim))
        shape = (1, -1) + (1,) * (a.ndim - 2)
        if training:
            mean, xc, var = _channel_stats(a, axes)
            if running_mean is not None:
                count = a.size // a.shape[1]
                _blend(running_mean, mean, momentum)
                _blend(running_var, var * (count / (count - 1)), momentum)
        else:
            mean = running_mean._data.reshape(shape)
            var = running_var._data.reshape(shape)
            xc = a - mean
        ctx.param_axes = axes
        ctx.b_shape = None if b is None else b._data.shape
        out = _normalize(ctx, x, w, b, xc, mean, var, eps, axes, shape, training, fold=True)
        # PyTorch saves the running statistics (training or not): writing them is reported
        ctx.save_for_backward(x, w, running_mean, running_var)
        return out


def _channel_stats(a: np.ndarray, axes: tuple) -> tuple:
    """(mean, a - mean, biased variance) over all dims but the channels (dim 1), the
    statistics shaped to broadcast against ``a``. For contiguous float32/64 the sums are
    einsum's (one pass each, no temporary for the squares; several times faster than reducing
    over axes (0, 2, ...), and as accurate for these sizes); other layouts keep theirs."""
    if a.dtype not in (np.float32, np.float64) or not a.size or not a.flags.c_contiguous:
        mean = a.mean(axis=axes, keepdims=True)
        xc = a - mean
        return mean, xc, (xc * xc).mean(axis=axes, keepdims=True)
    n, c = a.shape[:2]
    a3 = a.reshape(n, c, -1)
    m = a3.shape[0] * a3.shape[2]
    shape = (1, c) + (1,) * (a.ndim - 2)
    mean = np.einsum("ncs->c", a3)
    mean /= m
    xc = a3 - mean[:, None]
    var = np.einsum("ncs,ncs->c", xc, xc)
    var /= m
    return mean.reshape(shape), xc.reshape(a.shape), var.reshape(shape)


def _blend(running, batch: np.ndarray, momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * batch, in place (a buffer update, not
    recorded; like PyTorch's kernel, it leaves the buffer's version alone, so a node that saved
    the buffer, this one included, does not refuse backward after later training steps)."""
    r = running._data
    r *= 1 - momentum
    r += (momentum * batch.reshape(-1)).astype(r.dtype, copy=False)


class LayerNorm(_Normalization):
    """y = (x - mean) * invstd * w + b with statistics over the last ``nd`` dims of each
    sample;  see Note [Normalization backward]"""

    node_name = "NativeLayerNormBackward0"
    tie_name = "NativeLayerNormBackwardBackward0"
    ctx_arrays = ("xhat",)  # the normalized rows, kept by the row kernels for fast_backward

    @staticmethod
    def forward(ctx, x, w, b, nd, eps):
        a = x._data
        axes = tuple(range(a.ndim - nd, a.ndim))
        ctx.param_axes = tuple(range(a.ndim - nd))
        ctx.b_shape = None if b is None else b._data.shape
        if rows_fit(a, nd):  # Note [Layer norm as rows]
            out, ctx.xhat, mean, invstd = forward_rows(a, None if w is None else w._data,
                                                       None if b is None else b._data, nd, eps)
            ctx.stats = (mean, invstd)
            ctx.axes, ctx.shape, ctx.eps, ctx.from_x = axes, a.shape[a.ndim - nd:], eps, True
        else:
            mean = a.mean(axis=axes, keepdims=True)
            xc = a - mean
            var = (xc * xc).mean(axis=axes, keepdims=True)
            out = _normalize(ctx, x, w, b, xc, mean, var, eps, axes, a.shape[a.ndim - nd:], True)
            ctx.xhat = None
        ctx.save_for_backward(x, w, b)  # b too: PyTorch saves it, so writing to it is caught
        # its saved statistics require grad when b does (Note [Fused backward's requires_grad])
        ctx.bias = b if b is not None and b.requires_grad else None
        return out

    @staticmethod
    def fast_backward(ctx, grad):
        rows = None
        if ctx.xhat is not None:
            x, w = ctx.saved_tensors[:2]  # (checks their versions)
            rows = backward_rows(grad._data, ctx.xhat, ctx.stats[1],
                                 None if w is None else w._data, ctx.needs_input_grad[:3])
        if rows is None:  # no rows kept, or infinities: PyTorch's kernel form
            return _Normalization.fast_backward(ctx, grad)
        dx, dw, db = rows
        return (None if dx is None else _wrap(dx.reshape(x.shape)),
                None if dw is None else _wrap(dw.reshape(w.shape)),
                None if db is None else _wrap(db.reshape(ctx.b_shape)), None, None)

