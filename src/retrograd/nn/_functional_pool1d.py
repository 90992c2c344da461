"""1-D pooling (max_pool1d, avg_pool1d, adaptive_avg_pool1d, lp_pool1d/2d) and ``bilinear``,
composed from the 2-D pooling kernels and tensor ops as PyTorch composes them (a 1-D pool is
a 2-D pool of height 1, whose result is squeezed: PyTorch's node is SqueezeBackward1 too)."""

from __future__ import annotations

from ..ops.einsum import einsum
from ..ops.nn import adaptive_max as _am
from ..tensor import Tensor, _wrap
from ._functional_layers import _check_tensor, adaptive_avg_pool2d, avg_pool2d, max_pool2d

__all__ = ["adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool1d_with_indices",
           "adaptive_max_pool2d", "adaptive_max_pool2d_with_indices", "avg_pool1d", "bilinear",
           "lp_pool1d", "lp_pool2d", "max_pool1d", "max_pool1d_with_indices"]


def _one(value, name: str) -> int:
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise RuntimeError(f"{name} must be a single int or a tuple of one int, got {value}")
        return int(value[0])
    return int(value)


def _check_1d(input: Tensor, fn: str) -> None:  # noqa: A002
    _check_tensor(input, fn, "input")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{fn}: expected 2D or 3D (batch mode) tensor with optional 0 dim "
                           f"batch size for input, but got: {list(input.shape)}")


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False):
    """The maximum over each window of the last dim (stride defaults to kernel_size)."""
    _check_1d(input, "max_pool1d")
    k = _one(kernel_size, "kernel_size")
    s = k if stride is None or stride == () or stride == [] else _one(stride, "stride")
    out = max_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, _one(padding, "padding")),
                     (1, _one(dilation, "dilation")), ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
                            dilation=1, ceil_mode: bool = False, return_indices: bool = True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """The mean over each window of the last dim."""
    _check_1d(input, "avg_pool1d")
    k = _one(kernel_size, "kernel_size")
    s = k if stride is None or stride == () or stride == [] else _one(stride, "stride")
    return avg_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, _one(padding, "padding")),
                      ceil_mode, count_include_pad).squeeze(-2)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """Average pooling of the last dim to ``output_size`` cells."""
    _check_1d(input, "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, _one(output_size, "output_size"))
                               ).squeeze(-2)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None,  # noqa: A002
              ceil_mode: bool = False) -> Tensor:
    """(sum of x^p over each window) ^ (1/p)."""
    k = _one(kernel_size, "kernel_size")
    out = avg_pool1d(input.pow(norm_type), k, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(k).pow(1.0 / norm_type)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None,  # noqa: A002
              ceil_mode: bool = False) -> Tensor:
    """(sum of x^p over each 2-D window) ^ (1/p)."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    out = avg_pool2d(input.pow(norm_type), (kh, kw), stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kh * kw).pow(1.0 / norm_type)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: Tensor | None = None) -> Tensor:
    """out[..., o] = sum_ij x1[..., i] w[o, i, j] x2[..., j] + b[o]."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(input1.shape[:-1])} and {list(input2.shape[:-1])}")
    if weight.ndim != 3 or weight.shape[1] != input1.shape[-1] or (
            weight.shape[2] != input2.shape[-1]):
        raise RuntimeError(f"bilinear(): weight of size {list(weight.shape)} does not match "
                           f"inputs of sizes {list(input1.shape)} and {list(input2.shape)}")
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else out + bias


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """The maximum of each adaptive window of (N, C, H, W) or (C, H, W) input (None in
    output_size keeps that input size); with return_indices, also each maximum's flat
    position in its plane."""
    _check_tensor(input, "adaptive_max_pool2d", "input")
    if input.ndim not in (3, 4) or any(s == 0 for s in input.shape[-2:]):
        raise RuntimeError(f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: "
                           f"{list(input.shape)}")
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    size = tuple(int(input.shape[-2 + i]) if s is None else int(s)
                 for i, s in enumerate(output_size))
    if len(size) != 2 or any(s <= 0 for s in size):
        raise RuntimeError(f"adaptive_max_pool2d: output_size must be 2 positive sizes, got "
                           f"{output_size}")
    pos = _am.adaptive_max_positions(input._data, size)
    out = _am.AdaptiveMaxPool2D.apply(input, pos)
    return (out, _wrap(pos)) if return_indices else out


def adaptive_max_pool2d_with_indices(input: Tensor, output_size,  # noqa: A002
                                     return_indices: bool = True):
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """The maximum of each adaptive window of the last dim."""
    _check_1d(input, "adaptive_max_pool1d")
    out = adaptive_max_pool2d(input.unsqueeze(-2), (1, _one(output_size, "output_size")),
                              return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size,  # noqa: A002
                                     return_indices: bool = True):
    return adaptive_max_pool1d(input, output_size, True)
