"""Pooling layers: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d."""

from __future__ import annotations

from ..tensor import Tensor
from ._functional_layers import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from .module import Module

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d"]


def _check_input(module: Module, input: Tensor) -> None:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{type(module).__name__}: expected a Tensor input, got "
                        f"{type(input).__name__}")
    if input._data.ndim not in (3, 4):
        raise RuntimeError(
            f"{type(module).__name__} expected a 3D (C, H, W) or 4D (N, C, H, W) input, but got "
            f"input of size: {list(input._data.shape)}")


class MaxPool2d(Module):
    """The maximum over each kernel_size window of an (N, C, H, W) input (stride defaults to
    kernel_size); with return_indices, also where each maximum was (for MaxUnpool)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor):  # noqa: A002
        _check_input(self, input)
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """The mean over each kernel_size window of an (N, C, H, W) input (stride defaults to
    kernel_size; zero padding counts when count_include_pad)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        _check_input(self, input)
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (an int, or a pair where None keeps that input
    size), whatever the input's size."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        _check_input(self, input)
        return adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
