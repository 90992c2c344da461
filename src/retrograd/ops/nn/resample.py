"""Pixel shuffles and upsampling, each a linear map whose adjoint is its backward.

Note [Upsampling as per-axis maps]
    Nearest upsampling copies, along each spatial axis, input position ``src[j]`` to output
    position j: a gather (ops/nn/padding.py, Note [Padding as a gather]). Bilinear (and linear)
    upsampling is separable: along each axis the output is ``A @ x`` with A an (out, in)
    matrix holding two weights per row, so the forward applies one small matrix per axis and
    the backward applies their transposes. Both are closed under differentiation.
"""

from __future__ import annotations

import numpy as np

from ...autograd.forward_ad import linear_jvp
from ...autograd.function import Function
from .padding import gather_pair

__all__ = ["PixelShuffle", "PixelUnshuffle", "nearest_sources", "linear_matrix"]


def _shuffle(a: np.ndarray, r: int) -> np.ndarray:
    *lead, c, h, w = a.shape
    k = len(lead)
    out = a.reshape(*lead, c // (r * r), r, r, h, w)
    out = out.transpose(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return out.reshape(*lead, c // (r * r), h * r, w * r)


def _unshuffle(a: np.ndarray, r: int) -> np.ndarray:
    *lead, c, h, w = a.shape
    k = len(lead)
    out = a.reshape(*lead, c, h // r, r, w // r, r)
    out = out.transpose(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return out.reshape(*lead, c * r * r, h // r, w // r)


class PixelShuffle(Function):
    """out[c, h r + i, w r + j] = x[c r^2 + i r + j, h, w];  dx = pixel_unshuffle(grad)"""

    @staticmethod
    def forward(ctx, x, r):
        ctx.r = r
        return _shuffle(x._data, r)

    @staticmethod
    def backward(ctx, grad):
        return PixelUnshuffle.apply(grad, ctx.r), None

    jvp = linear_jvp


class PixelUnshuffle(Function):
    """The inverse of PixelShuffle;  dx = pixel_shuffle(grad)"""

    @staticmethod
    def forward(ctx, x, r):
        ctx.r = r
        return _unshuffle(x._data, r)

    @staticmethod
    def backward(ctx, grad):
        return PixelShuffle.apply(grad, ctx.r), None

    jvp = linear_jvp


def _scale(size: int, out: int, scale, align_corners: bool = False) -> float:
    """PyTorch's source-per-output step along one axis."""
    if align_corners:
        return (size - 1) / (out - 1) if out > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else size / out


def nearest_sources(size: int, out: int, scale) -> np.ndarray:
    """Input position of each output position for mode 'nearest' (the step in float32, as in
    PyTorch's kernel)."""
    step = np.float32(_scale(size, out, scale))
    return np.minimum(np.floor(np.arange(out, dtype=np.float32) * step).astype(np.int64),
                      size - 1)


def linear_matrix(size: int, out: int, scale, align_corners: bool) -> np.ndarray:
    """The (out, size) matrix of linear interpolation along one axis (Note [Upsampling as
    per-axis maps])."""
    step = _scale(size, out, scale, align_corners)
    j = np.arange(out, dtype=np.float64)
    src = j * step if align_corners else np.maximum((j + 0.5) * step - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), size - 1)
    hi = lo + (lo < size - 1)
    lam = src - lo
    m = np.zeros((out, size))
    np.add.at(m, (np.arange(out), lo), 1.0 - lam)
    np.add.at(m, (np.arange(out), hi), lam)
    return m


def _apply_matrices(a: np.ndarray, mats: tuple, transpose: bool) -> np.ndarray:
    k = len(mats)
    for axis, m in zip(range(a.ndim - k, a.ndim), mats):
        m = (m.T if transpose else m).astype(a.dtype, copy=False)
        a = np.moveaxis(np.tensordot(m, a, axes=([1], [axis])), 0, axis)
    return np.ascontiguousarray(a)


class _Interpolate(Function):
    """out = x with one interpolation matrix applied along each of its last dims;
    dx = the transposed matrices applied to grad"""

    @classmethod
    def forward(cls, ctx, x, mats):
        ctx.mats = mats
        return _apply_matrices(x._data, mats, False)

    @classmethod
    def backward(cls, ctx, grad):
        return cls.grad_op.apply(grad, ctx.mats), None

    jvp = linear_jvp


class _InterpolateGrad(Function):
    """out = the transposed interpolation matrices applied to grad;  dgrad = the matrices"""

    @classmethod
    def forward(cls, ctx, grad, mats):
        ctx.mats = mats
        return _apply_matrices(grad._data, mats, True)

    @classmethod
    def backward(cls, ctx, gg):
        return cls.op.apply(gg, ctx.mats), None

    jvp = linear_jvp


def _linear_pair(name: str) -> tuple:
    op = type(name, (_Interpolate,), {"node_name": f"{name}Backward0", "__module__": __name__,
                                      "__doc__": _Interpolate.__doc__})
    grad = type(f"{name}Grad", (_InterpolateGrad,), {
        "node_name": f"{name}BackwardBackward0", "__module__": __name__,
        "__doc__": _InterpolateGrad.__doc__})
    op.grad_op, grad.op = grad, op
    return op, grad


UpsampleNearest1D, UpsampleNearest1DGrad = gather_pair("UpsampleNearest1D", __name__)
UpsampleNearest2D, UpsampleNearest2DGrad = gather_pair("UpsampleNearest2D", __name__)
UpsampleNearest3D, UpsampleNearest3DGrad = gather_pair("UpsampleNearest3D", __name__)
UpsampleLinear1D, UpsampleLinear1DGrad = _linear_pair("UpsampleLinear1D")
UpsampleBilinear2D, UpsampleBilinear2DGrad = _linear_pair("UpsampleBilinear2D")
UpsampleTrilinear3D, UpsampleTrilinear3DGrad = _linear_pair("UpsampleTrilinear3D")

NEAREST = {1: UpsampleNearest1D, 2: UpsampleNearest2D, 3: UpsampleNearest3D}
LINEAR = {"linear": UpsampleLinear1D, "bilinear": UpsampleBilinear2D,
          "trilinear": UpsampleTrilinear3D}
