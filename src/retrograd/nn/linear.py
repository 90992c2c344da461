"""Linear layers and the shape helpers that sit between them: Identity, Linear, Flatten,
Unflatten."""

from __future__ import annotations

import math

from ..ops.linalg import linear as _linear
from ..ops.products import Linear as _LinearFn
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import _add_weight_and_bias, _check_device

__all__ = ["Flatten", "Identity", "Linear", "Unflatten"]


class Identity(Module):
    """Returns its input unchanged (arguments are accepted and ignored, as in PyTorch)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input):  # noqa: A002
        return input


class Linear(Module):
    """y = x @ weight^T + bias over the last dimension of x.

    ``weight`` has shape (out_features, in_features); both it and ``bias`` start uniform in
    ±1/sqrt(in_features), PyTorch's default.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        _check_device(device)
        self.in_features = in_features
        self.out_features = out_features
        _add_weight_and_bias(self, (out_features, in_features), (out_features,) if bias else None,
                             dtype, device)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # kaiming_uniform with a=sqrt(5) amounts to uniform(±1/sqrt(fan_in)), as for the bias
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        params = self._parameters
        # (a parametrized weight or bias lives in a property: nn.utils.parametrize)
        w = params["weight"] if "weight" in params else self.weight
        b = params["bias"] if "bias" in params else self.bias
        if input.__class__ is Tensor and b is not None:
            a = input._data
            wa = w._data
            # the training-loop case, straight to the fused product (one AddmmBackward0 node)
            if (a.ndim == 2 and a.shape[1] == wa.shape[1] and a.dtype is wa.dtype
                    and b._data.dtype is wa.dtype and a.dtype.kind == "f"
                    and wa.ndim == 2 and b._data.shape == (wa.shape[0],)):
                return _LinearFn.apply(b, input, w)
        if not isinstance(input, Tensor):
            raise TypeError(
                f"linear(): argument 'input' (position 1) must be Tensor, not "
                f"{type(input).__name__}")
        shape = input._data.shape
        if not shape or shape[-1] != self.in_features:
            raise RuntimeError(
                f"{self._get_name()}({self.extra_repr()}) expects input with "
                f"{self.in_features} features in its last dimension, but got input of shape "
                f"{list(shape)}: mat1 and mat2 shapes cannot be multiplied "
                f"({math.prod(shape[:-1]) if shape else 1}x{shape[-1] if shape else 0} and "
                f"{self.in_features}x{self.out_features})")
        return _linear(input, w, b)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Merge dims start_dim..end_dim into one (by default everything but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (the inverse of Flatten)."""

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)) or not all(
                isinstance(s, int) for s in unflattened_size):
            raise TypeError(
                "unflattened_size must be a tuple of ints, but found type "
                f"{type(unflattened_size).__name__}")
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
