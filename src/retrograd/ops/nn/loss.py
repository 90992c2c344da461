"""Fused loss Functions: each loss is one node whose forward computes the per-element loss and
its reduction together (as PyTorch's kernels do), which is both faster and gives PyTorch's
``grad_fn`` names (``NllLossBackward0``, ``MseLossBackward0``, ...).

Arguments are validated by the functional forms in ``retrograd/nn/_functional_loss.py``; these
Functions assume valid input. ``reduction`` is 0 (none), 1 (mean) or 2 (sum); an
``ignore_index`` of None says that no target equals the ignored index.

Note [Class rows]
    Classification losses take the class dim at position 1 (or 0 for an unbatched input). They
    work on a (rows, classes) matrix: the input with the class dim moved last and the others
    flattened. ``_rows`` makes that matrix and ``_unrows`` puts a gradient back in the input's
    layout.
"""

from __future__ import annotations

import numpy as np

from ...autograd.forward_ad import elementwise_jvp, reduction_jvp
from ...autograd.function import Function
from ...autograd.graph import as_forward_met
from ...tensor import Tensor, _wrap
from ..activation import Softmax, logsigmoid
from ..elementwise import where
from ..softmax_rows import log_softmax_rows
from ..unary import sigmoid
from .fused_grads import ForwardValues, tie
from .regression_grads import HuberLossBackward, SmoothL1LossBackward

NONE, MEAN, SUM = 0, 1, 2


def _rows(a: np.ndarray) -> np.ndarray:
    """The input as a (rows, classes) matrix (see Note [Class rows])."""
    if a.ndim == 2:
        return a
    if a.ndim == 1:
        return a[None]
    return np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _unrows(m: np.ndarray, shape: tuple) -> np.ndarray:
    """Inverse of ``_rows``: a (rows, classes) matrix back in a tensor of ``shape``."""
    if len(shape) == 2:
        return m
    if len(shape) == 1:
        return m[0]
    moved = (shape[0],) + shape[2:] + (shape[1],)
    return np.ascontiguousarray(np.moveaxis(m.reshape(moved), -1, 1))


def _reduce(loss: np.ndarray, reduction: int, dtype) -> np.ndarray:
    if reduction == MEAN:
        return np.asarray(loss.mean(), dtype=dtype)
    if reduction == SUM:
        return np.asarray(loss.sum(), dtype=dtype)
    return loss


def _scale(grad: Tensor, ctx) -> Tensor:
    """The incoming gradient with the mean's 1/n folded in."""
    return grad / ctx.n if ctx.reduction == MEAN else grad


class _ClassLoss(Function):
    """Shared bookkeeping of CrossEntropy and NllLoss: targets, ignored rows, class weights."""

    ctx_arrays = ("tc", "valid", "wrow")

    @staticmethod
    def _targets(ctx, a2: np.ndarray, target: Tensor, weight, ignore_index: int):
        t = target._data.reshape(-1)
        valid = None if ignore_index is None else t != ignore_index
        if valid is None or valid.all():
            valid = None  # the common case: every row counts with weight 1
            tc = t
        else:
            tc = np.where(valid, t, 0)
        dtype = a2.dtype
        if weight is not None:
            wrow = weight._data[tc]
            if valid is not None:
                wrow = wrow * valid
        else:
            wrow = None if valid is None else valid.astype(dtype)
        ctx.tc, ctx.valid, ctx.wrow = tc, valid, wrow
        ctx.w = None if weight is None else weight._data
        return tc, valid, wrow

    @staticmethod
    def _finish(ctx, loss_rows: np.ndarray, target: Tensor, reduction: int, dtype):
        ctx.reduction = reduction
        if reduction == NONE:
            out = loss_rows.reshape(target._data.shape).astype(dtype, copy=False)
            # an unbatched loss is PyTorch's sum over its one row: -0.0 comes out as +0.0
            return out + out.dtype.type(0) if out.ndim == 0 else out
        total = loss_rows.sum()
        if reduction == SUM:
            return np.asarray(total, dtype=dtype)
        d = loss_rows.shape[0] if ctx.wrow is None else ctx.wrow.sum()
        ctx.n = float(d)
        # NOTE: every row ignored (or weighted 0) gives 0 / 0 = nan, as in PyTorch.
        return np.asarray(total / d if d else np.nan, dtype=dtype)

    @staticmethod
    def _coef_like(ctx, grad: Tensor, shape: tuple) -> Tensor:
        """The incoming gradient shaped to broadcast over the input (class dim of size 1)."""
        if ctx.reduction == NONE:
            cdim = 1 if len(shape) > 1 else 0
            return grad.reshape(shape[:cdim] + (1,) + shape[cdim + 1:])
        return grad / ctx.n if ctx.reduction == MEAN else grad

    @staticmethod
    def _coef(ctx, grad: Tensor) -> Tensor:
        """The incoming gradient per row, shaped to broadcast over the (rows, classes) matrix."""
        if ctx.reduction == NONE:
            return grad.reshape(-1, 1)
        return grad / ctx.n if ctx.reduction == MEAN else grad


class CrossEntropy(_ClassLoss):
    """out = reduce(w[t] * -log_softmax(x)[t]) with label smoothing eps mixing in
    eps/C * sum_c w_c * -log_softmax(x)_c;  dx = grad * (softmax(x) * rowsum(T) - T), T the
    weighted target distribution"""

    node_name = "NllLossBackward0"
    ctx_arrays = ("tc", "valid", "wrow", "logp", "logits")

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, label_smoothing):
        a = x._data
        a2 = _rows(a)
        rows, classes = a2.shape
        logp = log_softmax_rows(a2)  # Note [Softmax rows]
        tc, valid, wrow = CrossEntropy._targets(ctx, a2, target, weight, ignore_index)
        loss = -logp[np.arange(rows), tc]
        if wrow is not None:
            loss *= wrow
        if label_smoothing:
            smooth = -(logp.sum(axis=1) if weight is None else logp @ ctx.w)
            if valid is not None:
                smooth *= valid
            loss = (1 - label_smoothing) * loss + (label_smoothing / classes) * smooth
        # NOTE: x itself is not saved (nor version-checked): PyTorch's log_softmax saves its
        # result, so x may be written in place before backward (see backward). Only
        # the class weights are (nll_loss saves them).
        ctx.save_for_backward(weight)
        ctx.logits, ctx.shape = x, a.shape
        ctx.logp = logp
        ctx.eps = label_smoothing
        return CrossEntropy._finish(ctx, loss, target, reduction, a.dtype)

    @staticmethod
    def _target_dist(ctx, rows: int, classes: int, dtype) -> tuple:
        """(T, rowsum(T)): per row, the weighted distribution the gradient pulls softmax(x)
        towards, and its total (None where every row's is 1: no weights, no smoothing)."""
        dist = np.zeros((rows, classes), dtype=dtype)
        dist[np.arange(rows), ctx.tc] = (1 - ctx.eps) * (1 if ctx.wrow is None else ctx.wrow)
        if ctx.eps:
            spread = np.full((1, classes), ctx.eps / classes, dtype=dtype)
            if ctx.w is not None:
                spread = spread * ctx.w
            dist += spread if ctx.valid is None else spread * ctx.valid[:, None]
        elif ctx.wrow is None:
            return dist, None
        return dist, dist.sum(axis=1, keepdims=True)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.needs_input_grad[0]:
            return None, None, None, None, None, None
        _ = ctx.saved_tensors  # (the weights' version check)
        shape = ctx.shape
        cdim = 1 if len(shape) > 1 else 0
        # softmax recomputed as an op of x, at forward's values, so the result differentiates
        x = as_forward_met(ctx, 0, ctx.logits)  # (x may have been written in place since)
        p = Softmax.apply(ForwardValues.apply(x, _unrows(ctx.logp, shape)), cdim)
        dist, mass = CrossEntropy._target_dist(ctx, *ctx.logp.shape, ctx.logp.dtype)
        if mass is not None:
            p = p * _wrap(_unrows(mass, shape[:cdim] + (1,) + shape[cdim + 1:]))
        d = p - _wrap(_unrows(dist, shape))
        coef = _drop_ignored(ctx, CrossEntropy._coef_like(ctx, grad, shape), None, shape)
        return d * coef, None, None, None, None, None

    jvp = reduction_jvp
    jvp_axes = (1,)  # the class dim, summed where reduction='none'

    @staticmethod
    def fast_backward(ctx, grad):
        # The same formula on arrays, in place, from forward's log-softmax: on a batch of 256
        # rows of 1,000 classes this is 2.5x faster than the tensor ops, which allocate (and
        # fault in) a new array per op and recompute the softmax.
        if not ctx.needs_input_grad[0]:
            return None, None, None, None, None, None
        _ = ctx.saved_tensors  # (the weights' version check)
        d = np.exp(ctx.logp)
        rows, classes = d.shape
        if ctx.eps == 0 and ctx.wrow is None:  # T is one-hot: subtract 1 at the targets
            d[np.arange(rows), ctx.tc] -= 1
        else:
            dist, mass = CrossEntropy._target_dist(ctx, rows, classes, d.dtype)
            d *= mass
            d -= dist
        d *= CrossEntropy._coef(ctx, grad)._data
        if ctx.valid is not None:  # see _drop_ignored
            d[~ctx.valid] = 0
        return _wrap(_unrows(d, ctx.shape)), None, None, None, None, None


def _drop_ignored(ctx, coef: Tensor, at, shape: tuple) -> Tensor:
    """``coef`` (the gradient, or its factor grad / total weight) set to 0 in the ignored rows
    (and off the positions ``at``, a (rows, classes) mask, when given): PyTorch gives those
    exactly 0, not 0 times 1 / total weight (NaN when every row is ignored)."""
    if ctx.valid is None and at is None:
        return coef
    if at is None:
        at = np.broadcast_to(ctx.valid[:, None], ctx.logp.shape)
    elif ctx.valid is not None:
        at = at & ctx.valid[:, None]
    return where(_wrap(_unrows(at, shape)), coef, 0.0)


class NllLoss(_ClassLoss):
    """out = reduce(-w[t] * x[t]) (x holds log-probabilities);  dx[t] = -w[t] * grad"""

    node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        a = x._data
        a2 = _rows(a)
        tc, valid, wrow = NllLoss._targets(ctx, a2, target, weight, ignore_index)
        loss = -a2[np.arange(a2.shape[0]), tc]
        if wrow is not None:
            loss = loss * wrow
        if valid is not None:  # ignored rows are 0 even when they hold NaN or inf (not 0 * NaN)
            loss = np.where(valid, loss, 0.0).astype(loss.dtype, copy=False)
        ctx.shape = a.shape
        # x only to tie the gradient to it, weight only for its version check: PyTorch saves both
        ctx.save_for_backward(x, weight)
        return NllLoss._finish(ctx, loss, target, reduction, a.dtype)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.needs_input_grad[0]:
            return None, None, None, None, None
        shape = ctx.shape
        rows = ctx.tc.shape[0]
        pick = np.zeros((rows, shape[1] if len(shape) > 1 else shape[0]), dtype=grad._data.dtype)
        pick[np.arange(rows), ctx.tc] = -1 if ctx.wrow is None else -ctx.wrow
        at = np.zeros(pick.shape, dtype=bool)
        at[np.arange(rows), ctx.tc] = True
        gx = _wrap(_unrows(pick, shape)) * _ClassLoss._coef_like(ctx, grad, shape)
        gx = _drop_ignored(ctx, gx, at, shape)  # (on gx: +0.0 there, not -1 * 0)
        # PyTorch's fused backward: gx requires grad with x, its derivative is zeros
        x, _ = ctx.saved_tensors
        return tie((gx,), (x,), "NllLossBackwardBackward0")[0], None, None, None, None

    jvp = reduction_jvp
    jvp_axes = (1,)  # the class dim, summed where reduction='none'


class CrossEntropy2d(CrossEntropy):
    """CrossEntropy of an input with spatial dims (N, C, d1, ...): PyTorch's 2-D node name"""

    node_name = "NllLoss2DBackward0"


class NllLoss2d(NllLoss):
    """NllLoss of an input with spatial dims (N, C, d1, ...): PyTorch's 2-D node name"""

    node_name = "NllLoss2DBackward0"


class _DifferenceLoss(Function):
    """Shared by the losses of d = x - y (MSE, smooth L1, Huber): forward keeps x, y and the
    loss's parameter; backward gives x the gradient g and y its negative."""

    @staticmethod
    def _finish(ctx, x, y, loss: np.ndarray, reduction: int, param=None) -> np.ndarray:
        ctx.save_for_backward(x, y)
        ctx.reduction, ctx.n, ctx.param = reduction, loss.size, param
        return _reduce(loss, reduction, loss.dtype)

    @staticmethod
    def _grads(ctx, g: Tensor) -> tuple:
        need_x, need_y = ctx.needs_input_grad[:2]
        rest = (None,) * (len(ctx.needs_input_grad) - 2)
        return (g if need_x else None, -g if need_y else None) + rest


class MseLoss(_DifferenceLoss):
    """out = reduce((x - y)^2);  dx = 2 (x - y) grad,  dy = -dx"""

    @staticmethod
    def forward(ctx, x, y, reduction):
        d = x._data - y._data
        return MseLoss._finish(ctx, x, y, d * d, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return MseLoss._grads(ctx, (x - y) * (_scale(grad, ctx) * 2))

    jvp = reduction_jvp


def _regression_grads(ctx, grad, x, y, fn) -> tuple:
    """Smooth L1's or Huber's gradients: PyTorch's backward op once per input, the other
    input's role swapped (Note [Regression loss double backward] in regression_grads.py)."""
    need_x, need_y = ctx.needs_input_grad[:2]
    return (fn.apply(grad, x, y, ctx.reduction, ctx.param) if need_x else None,
            fn.apply(grad, y, x, ctx.reduction, ctx.param) if need_y else None, None, None)


class SmoothL1Loss(_DifferenceLoss):
    """out = reduce(0.5 d^2 / beta where |d| < beta else |d| - beta / 2), d = x - y;
    dx = clamp(d / beta, -1, 1) grad,  dy = -dx  (beta > 0)"""

    @staticmethod
    def forward(ctx, x, y, reduction, beta):
        d = x._data - y._data
        ad = np.abs(d)
        loss = np.where(ad < beta, (0.5 / beta) * d * d, ad - 0.5 * beta)
        return SmoothL1Loss._finish(ctx, x, y, loss, reduction, beta)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return _regression_grads(ctx, grad, x, y, SmoothL1LossBackward)

    jvp = reduction_jvp


class HuberLoss(_DifferenceLoss):
    """out = reduce(0.5 d^2 where |d| < delta else delta (|d| - delta / 2)), d = x - y;
    dx = clamp(d, -delta, delta) grad,  dy = -dx"""

    @staticmethod
    def forward(ctx, x, y, reduction, delta):
        d = x._data - y._data
        ad = np.abs(d)
        loss = np.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
        return HuberLoss._finish(ctx, x, y, loss, reduction, delta)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return _regression_grads(ctx, grad, x, y, HuberLossBackward)

    jvp = reduction_jvp


class BinaryCrossEntropy(Function):
    """out = reduce(-w (t max(log x, -100) + (1 - t) max(log(1 - x), -100)));
    dx = grad w (x - t) / max(x (1 - x), 1e-12),  dt = grad w (log(1 - x) - log x)"""

    @staticmethod
    def forward(ctx, x, t, weight, reduction):
        a, b = x._data, t._data
        with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped at -100
            log_x = np.maximum(np.log(a), -100)
            log_1mx = np.maximum(np.log1p(-a), -100)
        loss = -(b * log_x + (1 - b) * log_1mx)
        if weight is not None:
            loss = loss * weight._data
        ctx.save_for_backward(x, t, weight)
        ctx.reduction, ctx.n = reduction, loss.size
        return _reduce(loss, reduction, a.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, t, weight = ctx.saved_tensors
        g = _scale(grad, ctx)
        if weight is not None:
            g = g * weight
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = BinaryCrossEntropyGrad.apply(g, x, t)
        if ctx.needs_input_grad[1]:
            gt = g * ((-x).log1p() - x.log())
        return gx, gt, None, None

    jvp = reduction_jvp


_BCE_EPS = 1e-12


class BinaryCrossEntropyGrad(Function):
    """out = g (x - t) / max(x (1 - x), 1e-12) (binary_cross_entropy's dx), as one op;
    dg = gg (x - t) / max(x (1 - x), 1e-12),  dt = -gg g / max(x (1 - x), 1e-12),
    dx = gg g (x^2 - 2 x t + t) / ((x + 1e-12)^2 (1 - x + 1e-12)^2): PyTorch's own second
    derivative (the derivative of the quotient, with the clamp replaced by those shifts)"""

    node_name = "BinaryCrossEntropyBackwardBackward0"

    @staticmethod
    def forward(ctx, g, x, t):
        ctx.save_for_backward(g, x, t)
        a, b = x._data, t._data
        with np.errstate(divide="ignore", invalid="ignore"):
            return g._data * (a - b) / np.maximum(a * (1 - a), _BCE_EPS)

    @staticmethod
    def backward(ctx, gg):
        g, x, t = ctx.saved_tensors
        need_g, need_x, need_t = ctx.needs_input_grad[:3]
        denom = (x * (1 - x)).clamp(min=_BCE_EPS) if need_g or need_t else None
        dg = gg * (x - t) / denom if need_g else None
        dt = -gg * g / denom if need_t else None
        dx = None
        if need_x:
            shifted = (x + _BCE_EPS) ** 2 * (1 - x + _BCE_EPS) ** 2
            dx = gg * g * (x * x - 2 * x * t + t) / shifted
        return dg, dx, dt

    jvp = elementwise_jvp


class BinaryCrossEntropyWithLogits(Function):
    """out = reduce(w ((1 - t) x + l softplus(-x))), l = 1 + (pos_weight - 1) t;
    dx = grad w ((1 - t) - l sigmoid(-x)),  dt = grad w (-x + (pos_weight - 1) softplus(-x)),
    dw = grad * (unweighted loss),  dpos_weight = grad w t softplus(-x)"""

    @staticmethod
    def forward(ctx, x, t, weight, pos_weight, reduction):
        a, b = x._data, t._data
        # softplus(-x) = log(1 + exp(-x)) without overflow for large |x|
        sp = np.log1p(np.exp(-np.abs(a))) + np.maximum(-a, 0)
        if pos_weight is None:
            loss = (1 - b) * a + sp
        else:
            loss = (1 - b) * a + (1 + (pos_weight._data - 1) * b) * sp
        if weight is not None:
            loss = loss * weight._data
        ctx.save_for_backward(x, t, weight, pos_weight)
        ctx.reduction, ctx.n = reduction, loss.size
        return _reduce(loss, reduction, a.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, t, weight, pos_weight = ctx.saved_tensors
        need_x, need_t, need_w, need_pw = ctx.needs_input_grad[:4]
        g = _scale(grad, ctx)
        gw = g * weight if weight is not None else g
        gx = gt = g_weight = g_pw = None
        if need_x:
            if pos_weight is None:
                gx = gw * (sigmoid(x) - t)
            else:
                gx = gw * ((1 - t) - (1 + (pos_weight - 1) * t) * sigmoid(-x))
        if need_t or need_w or need_pw:
            sp = -logsigmoid(x)  # softplus(-x)
            if need_t:
                gt = gw * (-x) if pos_weight is None else gw * ((pos_weight - 1) * sp - x)
            if need_w:
                lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
                g_weight = g * ((1 - t) * x + lw * sp)
            if need_pw:
                g_pw = gw * t * sp
        return gx, gt, g_weight, g_pw, None

    jvp = reduction_jvp
