"""Unfold (im2col) and Fold (col2im), and their functional forms ``F.unfold``/``F.fold``."""

from __future__ import annotations

from ..ops.nn import fold as _fold
from ..tensor import Tensor
from ._functional_layers import _check_tensor, _tuple
from .module import Module

__all__ = ["Fold", "Unfold", "fold", "unfold"]


def _geometry(fn: str, size: tuple, kernel_size, dilation, padding, stride) -> tuple:
    k = _tuple(kernel_size, 2, fn, "kernel_size")
    d = _tuple(dilation, 2, fn, "dilation")
    p = _tuple(padding, 2, fn, "padding")
    s = _tuple(stride, 2, fn, "stride")
    if any(v <= 0 for v in k + d + s) or any(v < 0 for v in p):
        raise RuntimeError(f"{fn}: kernel_size, dilation and stride must be positive and "
                           f"padding non-negative, got kernel_size={k}, dilation={d}, "
                           f"padding={p}, stride={s}")
    geo = _fold.FoldGeometry(size, k, d, p, s)
    if any(b < 1 for b in geo.blocks):
        raise RuntimeError(f"Given input with spatial size {list(size)}, kernel_size={k}, "
                           f"dilation={d}, padding={p}, calculated shape of the array of sliding "
                           f"blocks as {list(geo.blocks)}, but its components must be at least "
                           "one.")
    return geo


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    """Sliding blocks of (N, C, H, W) as columns: (N, C kh kw, L)."""
    _check_tensor(input, "unfold", "input")
    if input.ndim not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got "
                                  f"{input.ndim}D)")
    geo = _geometry("unfold", tuple(input.shape[-2:]), kernel_size, dilation, padding, stride)
    return _fold.Im2Col.apply(input, geo)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0,  # noqa: A002
         stride=1) -> Tensor:
    """Columns (N, C kh kw, L) summed back into (N, C, *output_size)."""
    _check_tensor(input, "fold", "input")
    if input.ndim not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input "
                                  f"Tensors are supported (got {input.ndim}D)")
    batched = input.ndim == 3
    x = input if batched else input.unsqueeze(0)
    size = _tuple(output_size, 2, "fold", "output_size")
    geo = _geometry("fold", size, kernel_size, dilation, padding, stride)
    if x.shape[1] % geo.taps:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size={_tuple(kernel_size, 2, 'fold', 'kernel_size')}")
    if x.shape[2] != geo.index.shape[1]:
        raise RuntimeError(f"Given output_size={size}, kernel_size, dilation, padding, stride, "
                           f"expected size of input's dimension 2 to match the calculated number "
                           f"of sliding blocks {geo.blocks[0]} * {geo.blocks[1]} = "
                           f"{geo.index.shape[1]}, but got input.size(2)={x.shape[2]}.")
    return _fold.Col2Im.apply(input, geo)


class Unfold(Module):
    """Sliding local blocks of a batched input as columns (im2col)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Columns of sliding blocks summed back into an image (col2im)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
