"""Op-table entries for what the differential fuzzer found (issue 7): gradients of fused
backwards that require grad as PyTorch's do (Note [Fused backward's requires_grad]), used
again in a forward computation."""

from __future__ import annotations

from optable import Fixed, OpInfo, v


def _input_grad_times(lib, x, const, *, op):
    """d sum(op)/dx taken with create_graph, where op is linear in x (so the gradient requires
    grad only through the tie), times x: a function of x whose gradient reaches the tie."""
    F = lib.nn.functional
    y = {"conv2d": lambda: F.conv2d(x, const),
         "layer_norm": lambda: F.layer_norm(const, const.shape[-1:], None, x),
         "batch_norm": lambda: F.batch_norm(const, None, None, x, training=True)}[op]()
    (g,) = lib.autograd.grad(y.sum(), [x], create_graph=True)
    return g * x


OPS = [
    OpInfo("fused-grad-tie", _input_grad_times,
           (v("conv2d", (1, 2, 3, 3), Fixed((2, 2, 2, 2)), op="conv2d"),
            v("layer_norm", (3,), Fixed((2, 3)), op="layer_norm"),
            v("batch_norm", (2,), Fixed((3, 2)), op="batch_norm")),
           "MulBackward0"),
]
