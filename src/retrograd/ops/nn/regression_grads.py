"""The backward of smooth L1 and Huber loss as nodes of their own, with PyTorch's derivatives.

Note [Regression loss double backward]
    PyTorch computes the gradient of ``smooth_l1_loss``/``huber_loss`` with one op per input
    (``smooth_l1_loss_backward(grad, x, y)`` for ``x``, the same op with ``x`` and ``y``
    swapped for ``y``), and differentiates that op by multiplying with the mask ``|x - y| < beta``
    (``grad * grad_out * mask``), where a clamp's backward would select. The two differ only
    where a factor is infinite or NaN: an incoming gradient of NaN (``var`` of a single loss
    value) or infinity (a division by zero after the loss) gives NaN outside the mask in
    PyTorch, zero with a select. These Functions mirror that op, so second derivatives, node
    names (``HuberLossBackwardBackward0``) and the signs of zero gradients are PyTorch's.
"""

from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...tensor import _wrap

NONE, MEAN, SUM = 0, 1, 2


class _DifferenceLossBackward(Function):
    """out = norm * grad * f(x - y), f clamping to [-p, p] (Huber) or to [-1, 1] after / p
    (smooth L1), norm = 1/numel for the mean;  dgrad = the same op of the incoming gradient,
    dx = grad_in * grad * (|x - y| < p) [/ p] [* norm],  dy = -dx"""

    scale_inside = False  # smooth L1 divides the quadratic part's slope by beta

    @staticmethod
    def forward(ctx, grad, x, y, reduction, p):
        d = x._data - y._data
        n = d.size
        g = grad._data
        # clamp(d, -p, p) (Huber) or clamp(d / p, -1, 1) (smooth L1) times norm * grad: PyTorch's
        # three branches up to the last bit (NaN stays NaN, an infinite d its edge)
        c = np.clip(d / p, -1, 1) if type(ctx)._function.scale_inside else np.clip(d, -p, p)
        out = c * (g * (1.0 / max(n, 1)) if reduction == MEAN else g)
        ctx.save_for_backward(grad, x, y)
        ctx.reduction, ctx.p, ctx.n = reduction, p, n
        return out.astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, gg):
        fn = type(ctx)._function
        grad, x, y = ctx.saved_tensors
        need_g, need_x, need_y = ctx.needs_input_grad[:3]
        reduction, p = ctx.reduction, ctx.p
        dg = dx = dy = None
        if need_g:
            if reduction == NONE or fn.scale_inside:  # smooth L1: summed to grad's shape
                dg = fn.apply(gg, x, y, reduction, p)
            else:
                ones = _wrap(np.ones_like(grad._data))
                dg = (fn.apply(ones, x, y, reduction, p) * gg).sum()
        if need_x or need_y:
            # NOTE: a product with the mask, not a select: 0 * inf is NaN, as in PyTorch
            d = x._data - y._data
            mask = _wrap((np.abs(d) < p).astype(d.dtype))
            h = gg * grad * mask
            if fn.scale_inside:
                h = h / p
            if reduction == MEAN:
                h = h / ctx.n
            dx = h if need_x else None
            dy = -h if need_y else None
        return dg, dx, dy, None, None


class HuberLossBackward(_DifferenceLossBackward):
    """PyTorch's huber_loss_backward (see Note [Regression loss double backward])"""

    node_name = "HuberLossBackwardBackward0"


class SmoothL1LossBackward(_DifferenceLossBackward):
    """PyTorch's smooth_l1_loss_backward (see Note [Regression loss double backward])"""

    node_name = "SmoothL1LossBackwardBackward0"
    scale_inside = True
