"""Gradients of a fused backward: requires_grad as PyTorch gives it.

Note [Fused backward's requires_grad]
    PyTorch computes the gradients of a convolution, a batch norm, a layer norm, a pooling or
    nll_loss with one backward op (``convolution_backward``, ``avg_pool2d_backward`` ...).
    Under ``create_graph`` every gradient that op returns requires grad as soon as any of its
    inputs does, even one that does not depend on that input: the input gradient of
    ``conv2d(x, w)`` with constant ``w`` requires grad. Differentiating it again gives such an
    input no gradient (``None``: convolution, the normalizations) or zeros (pooling, nll_loss,
    whose double backward is ``zeros_like(self)``). Our backward composes smaller ops, so such a
    gradient would not require grad and a second ``backward`` through it would raise (or give
    None where PyTorch gives zeros). ``tie`` passes each gradient through an identity node that
    also lists the fused op's inputs and gives them that answer.
"""

from __future__ import annotations

from ... import grad_mode
from ...autograd.function import Function
from ..unary import zeros_of

_state = grad_mode.state


class _Tie(Function):
    """out = g (a copy);  dg = grad, the other inputs get None"""

    zeros = False  # give the other inputs zeros instead of None

    @staticmethod
    def forward(ctx, g, *inputs):
        if type(ctx)._function.zeros:
            ctx.save_for_backward(*inputs)  # for their shapes and dtypes
        return g._data.copy()

    @staticmethod
    def backward(ctx, grad):
        if not type(ctx)._function.zeros:
            return (grad,) + (None,) * (len(ctx.needs_input_grad) - 1)
        return (grad,) + tuple(zeros_of(t) if need else None for t, need in
                               zip(ctx.saved_tensors, ctx.needs_input_grad[1:]))

    @staticmethod
    def jvp(ctx, t, *_):  # an identity in g
        return t


class _TieConv(_Tie):
    node_name = "ConvolutionBackwardBackward0"


class _TieLayerNorm(_Tie):
    node_name = "NativeLayerNormBackwardBackward0"


class _TieBatchNorm(_Tie):
    node_name = "NativeBatchNormBackwardBackward0"


class _TieNllLoss(_Tie):
    node_name = "NllLossBackwardBackward0"
    zeros = True


class _TieAvgPool(_Tie):
    node_name = "AvgPool2DBackwardBackward0"
    zeros = True


class _TieMaxPool(_Tie):
    node_name = "MaxPool2DWithIndicesBackwardBackward0"
    zeros = True


_TIES = {cls.node_name: cls for cls in (_TieConv, _TieLayerNorm, _TieBatchNorm, _TieNllLoss,
                                         _TieAvgPool, _TieMaxPool)}


def tie(grads: tuple, inputs: tuple, node_name: str) -> tuple:
    """``grads`` tied to ``inputs`` (the fused op's inputs) when grad mode is on and one of them
    requires grad (Note [Fused backward's requires_grad]): each gradient that does not require
    grad, or with a zeros tie (whose inputs get zeros, not None) each gradient."""
    if not _state.enabled or not any(t is not None and t.requires_grad for t in inputs):
        return grads
    cls = _TIES[node_name]
    return tuple(g if g is None or (g.requires_grad and not cls.zeros) else cls.apply(g, *inputs)
                 for g in grads)


class ForwardValues(Function):
    """out = values, what forward computed x to be, as a function of x now;  dx = grad.

    A fused backward that recomputes from an input it did not save (so PyTorch's chain of ops
    lets it be written in place before backward) goes through this: the values stay forward's,
    and the gradient reaches the node x had then (``autograd.graph.as_forward_met``)."""

    @staticmethod
    def forward(ctx, x, values):
        return values

    @staticmethod
    def backward(ctx, grad):
        return grad, None

    @staticmethod
    def jvp(ctx, t, _values):
        return t
