"""Transposed convolution layers: ConvTranspose1d and ConvTranspose2d."""

from __future__ import annotations

from ..tensor import Tensor
from ._functional_more import conv_transpose1d, conv_transpose2d
from .conv import _ConvNd, _ntuple
from .module import Module
from .parameter import _add_weight_and_bias

__all__ = ["ConvTranspose1d", "ConvTranspose2d"]


class _ConvTransposeNd(_ConvNd):
    """``weight`` has shape (in_channels, out_channels / groups, *kernel_size), initialised as
    a convolution's (kaiming-uniform, a = sqrt(5); bias uniform in ±1/sqrt(fan_in) with fan_in
    from weight's dim 1), as in PyTorch."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        Module.__init__(self)
        nd = self._nd
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _ntuple(kernel_size, nd, "kernel_size")
        self.stride = _ntuple(stride, nd, "stride")
        self.padding = _ntuple(padding, nd, "padding")
        self.dilation = _ntuple(dilation, nd, "dilation")
        self.transposed = True
        self.output_padding = _ntuple(output_padding, nd, "output_padding")
        self.groups = groups
        self.padding_mode = padding_mode
        shape = (in_channels, out_channels // groups) + self.kernel_size
        _add_weight_and_bias(self, shape, (out_channels,) if bias else None, dtype, device)
        self.reset_parameters()

    def _output_padding(self, input: Tensor, output_size) -> tuple:  # noqa: A002
        if output_size is None:
            return self.output_padding
        nd = self._nd
        size = list(output_size)[-nd:]
        if len(size) != nd:
            raise ValueError(f"ConvTranspose{nd}D: for {input.ndim}D input, output_size must "
                             f"have {nd} or {nd + 2} elements (got {len(output_size)})")
        extra = []
        for i in range(nd):
            smallest = ((input.shape[input.ndim - nd + i] - 1) * self.stride[i]
                        - 2 * self.padding[i] + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            largest = smallest + self.stride[i] - 1
            if not smallest <= size[i] <= largest:
                raise ValueError(f"requested an output size of {size}, but valid sizes range "
                                 f"from {smallest} to {largest} (for an input of "
                                 f"{list(input.shape[2:])})")
            extra.append(size[i] - smallest)
        return tuple(extra)

    def forward(self, input: Tensor, output_size=None) -> Tensor:  # noqa: A002
        params = self._parameters
        w = params["weight"] if "weight" in params else self.weight
        b = params["bias"] if "bias" in params else self.bias
        return type(self)._functional(input, w, b, self.stride, self.padding,
                                      self._output_padding(input, output_size), self.groups,
                                      self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution over (N, C_in, L) (or (C_in, L)) inputs."""

    _nd = 1
    _functional = staticmethod(conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution over (N, C_in, H, W) (or (C_in, H, W)) inputs: H_out =
    (H - 1) stride - 2 padding + dilation (kernel - 1) + output_padding + 1."""

    _nd = 2
    _functional = staticmethod(conv_transpose2d)
