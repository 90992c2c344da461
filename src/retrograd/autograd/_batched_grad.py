"""``autograd.grad(..., is_grads_batched=True)``: many vector-Jacobian products in one call.

Each ``grad_outputs[i]`` carries a leading batch dimension; row ``b`` of every result is the
gradient for the ``b``-th slice of every ``grad_outputs[i]``. PyTorch runs the backward once
under vmap; retrograd has no batching rule for its backward formulas, so it runs one backward
per row through the same retained graph and stacks the rows. The values are the same.
"""

from __future__ import annotations

import numpy as np

from ..ops.join import stack
from ..tensor import Tensor, _wrap


def grad_batched(grad, outputs, inputs, grad_outputs, retain_graph, create_graph: bool,
                 allow_unused, materialize_grads: bool) -> tuple:
    """``grad`` (the engine's ``autograd.grad``) called once per row of the batched gradients."""
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    grad_outputs = tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"got {len(grad_outputs)} gradients for {len(outputs)} outputs; pass one batched "
            "gradient per output.")
    batch = None
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(g, Tensor):
            raise RuntimeError(
                f"is_grads_batched=True needs a Tensor in grad_outputs[{i}] (the gradients of "
                f"output {i} stacked along a new first dimension), got {type(g).__name__}.")
        if tuple(g.shape[1:]) != tuple(out.shape):
            raise RuntimeError(
                f"with is_grads_batched=True the first dimension of each grad_output is the "
                f"batch and the rest must be the output's shape, but grad_output[{i}] has shape "
                f"{list(g.shape)} and output[{i}] has shape {list(out.shape)}.")
        if batch is None:
            batch = g.shape[0]
        elif g.shape[0] != batch:
            raise ValueError(
                f"with is_grads_batched=True every grad_output must have the same batch size "
                f"(first dimension), got {batch} and {g.shape[0]} (grad_output[{i}]).")
    if retain_graph is None:
        retain_graph = create_graph
    rows = []
    for b in range(batch):
        keep = retain_graph or b < batch - 1  # the last row may free the graph
        rows.append(grad(outputs, inputs, tuple(g[b] for g in grad_outputs), retain_graph=keep,
                         create_graph=create_graph, allow_unused=allow_unused,
                         materialize_grads=materialize_grads))
    if not rows:
        return tuple(_wrap(np.zeros((0,) + t._data.shape, t._data.dtype))
                     for t in (inputs if isinstance(inputs, (tuple, list)) else (inputs,)))
    return tuple(None if col[0] is None else stack(col) for col in zip(*rows))
