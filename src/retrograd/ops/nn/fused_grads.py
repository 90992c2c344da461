"""Gradients of a fused backward: requires_grad as PyTorch gives it.

Note [Fused backward's requires_grad]
    PyTorch computes the gradients of a convolution, a batch norm or a layer norm with one
    backward op (``convolution_backward``, ``native_layer_norm_backward`` ...). Under
    ``create_graph`` every gradient that op returns requires grad as soon as any of its inputs
    does, even one that does not depend on that input: the input gradient of ``conv2d(x, w)``
    with constant ``w`` requires grad, and differentiating it again gives ``x`` no gradient
    (``None``). Our backward composes smaller ops, so such a gradient would not require grad
    and a second ``backward`` through it would raise. ``tie`` passes each gradient through an
    identity node that also lists the fused op's inputs, which gives them no gradient.
"""

from __future__ import annotations

from ... import grad_mode
from ...autograd.function import Function

_state = grad_mode.state


class _Tie(Function):
    """out = g (a copy);  dg = grad, the other inputs get None"""

    @staticmethod
    def forward(ctx, g, *inputs):
        return g._data.copy()

    @staticmethod
    def backward(ctx, grad):
        return (grad,) + (None,) * (len(ctx.needs_input_grad) - 1)


class _TieConv(_Tie):
    node_name = "ConvolutionBackwardBackward0"


class _TieLayerNorm(_Tie):
    node_name = "NativeLayerNormBackwardBackward0"


class _TieBatchNorm(_Tie):
    node_name = "NativeBatchNormBackwardBackward0"


_TIES = {cls.node_name: cls for cls in (_TieConv, _TieLayerNorm, _TieBatchNorm)}


def tie(grads: tuple, inputs: tuple, node_name: str) -> tuple:
    """``grads`` with each one that does not require grad tied to ``inputs`` (the fused
    op's inputs) when grad mode is on and one of them requires grad
    (Note [Fused backward's requires_grad])."""
    if not _state.enabled or not any(t is not None and t.requires_grad for t in inputs):
        return grads
    cls = _TIES[node_name]
    return tuple(g if g is None or g.requires_grad else cls.apply(g, *inputs) for g in grads)
