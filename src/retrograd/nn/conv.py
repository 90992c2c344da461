"""Convolution layers: Conv1d and Conv2d (stride, padding, dilation, groups, bias)."""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from . import init
from ._functional_layers import conv1d, conv2d
from .module import Module
from .parameter import _add_weight_and_bias

__all__ = ["Conv1d", "Conv2d"]


def _ntuple(value, n: int, name: str) -> tuple:
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    out = tuple(int(v) for v in value)
    if len(out) != n:
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    return out


class _ConvNd(Module):
    """What Conv1d and Conv2d share: the parameters, their initialisation, checks and repr.

    ``weight`` has shape (out_channels, in_channels / groups, *kernel_size) and starts
    kaiming-uniform with a = sqrt(5); ``bias`` (out_channels) uniform in ±1/sqrt(fan_in), as in
    PyTorch.
    """

    _nd = 0
    _functional = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__()
        nd = self._nd
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"padding_mode must be one of ['zeros', 'reflect', 'replicate', "
                             f"'circular'], but got padding_mode='{padding_mode}'")
        if padding_mode != "zeros":
            raise NotImplementedError(
                f"padding_mode='{padding_mode}' is not supported by retrograd yet; use "
                "padding_mode='zeros'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(kernel_size, nd, "kernel_size")
        self.stride = _ntuple(stride, nd, "stride")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string '{padding}', should be one of "
                                 "['valid', 'same']")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, nd, "padding")
        self.dilation = _ntuple(dilation, nd, "dilation")
        self.transposed = False
        self.output_padding = (0,) * nd
        self.groups = groups
        self.padding_mode = padding_mode
        shape = (out_channels, in_channels // groups) + self.kernel_size
        _add_weight_and_bias(self, shape, (out_channels,) if bias else None, dtype, device)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _check_input(self, input: Tensor) -> None:  # noqa: A002
        nd = self._nd
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a Tensor input, got "
                            f"{type(input).__name__}")
        shape = input._data.shape
        if len(shape) not in (nd + 1, nd + 2):
            raise RuntimeError(
                f"{type(self).__name__} expected {nd + 1}D (unbatched) or {nd + 2}D (batched) "
                f"input to conv{nd}d, but got input of size: {list(shape)}")
        channels = shape[-nd - 1]
        if channels != self.in_channels:
            raise RuntimeError(
                f"{type(self).__name__} expected input with {self.in_channels} channels, got "
                f"{channels} (input of size {list(shape)}; channels are dim "
                f"{len(shape) - nd - 1})")

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input(input)
        params = self._parameters
        # (a parametrized weight or bias lives in a property: nn.utils.parametrize)
        w = params["weight"] if "weight" in params else self.weight
        b = params["bias"] if "bias" in params else self.bias
        return type(self)._functional(input, w, b, self.stride, self.padding, self.dilation,
                                      self.groups)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * len(self.kernel_size):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) (or (C_in, L)) inputs: out (N, C_out, L_out)."""

    _nd = 1
    _functional = staticmethod(conv1d)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) (or (C_in, H, W)) inputs: out (N, C_out, H_out,
    W_out), with H_out = (H + 2 padding - dilation (kernel - 1) - 1) // stride + 1."""

    _nd = 2
    _functional = staticmethod(conv2d)
