"""Flatten parameters into one vector and back (for optimizers and tools that want one)."""

from __future__ import annotations

from collections.abc import Iterable

from ... import grad_mode
from ...ops.join import cat
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters' values (shapes restored)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.dim() != 1 or vec.numel() != total:
        raise RuntimeError(
            f"vector_to_parameters expects a 1-D vector with {total} elements (one per "
            f"parameter element), got shape {list(vec.shape)}")
    start = 0
    with grad_mode.no_grad():
        for p in params:
            n = p.numel()
            p.data = vec[start:start + n].view_as(p).data
            start += n
