"""More functional layers: transposed convolution, group / instance / RMS / local response
normalization, ``normalize``, distances, pixel and channel shuffles, ``interpolate``, feature
and alpha dropout.

Where PyTorch composes a function from other ops (instance_norm, rms_norm, normalize,
cosine_similarity, local_response_norm, channel_shuffle) it is composed here from retrograd's
ops, so gradients of every order come from theirs; the others are one node from ``ops/nn/``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..creation import _Rng
from ..grad_mode import no_grad
from ..ops.nn import conv_transpose as _ct
from ..ops.nn import group_norm as _gn
from ..ops.nn import resample as _rs
from ..ops.nn.padding import ConstantPadNd
from ..tensor import Tensor, _wrap
from ._functional_layers import _check_float_input, _check_tensor, _tuple, batch_norm

__all__ = [
    "alpha_dropout", "channel_shuffle", "conv_transpose1d", "conv_transpose2d",
    "cosine_similarity", "dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout",
    "group_norm", "instance_norm", "interpolate", "local_response_norm", "normalize",
    "pairwise_distance", "pixel_shuffle", "pixel_unshuffle", "rms_norm", "upsample",
    "upsample_bilinear", "upsample_nearest",
]


# ---- transposed convolution -----------------------------------------------------------------


def _conv_transpose(fn: str, nd: int, input: Tensor, weight: Tensor, bias, stride,  # noqa: A002
                    padding, output_padding, groups, dilation) -> Tensor:
    _check_tensor(input, fn, "input")
    _check_tensor(weight, fn, "weight")
    x, w = input._data, weight._data
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {fn},"
                           f" but got input of size: {list(x.shape)}")
    if w.ndim != nd + 2:
        raise RuntimeError(f"{fn} expects a {nd + 2}-D weight (in_channels, out_channels / "
                           f"groups, kernel...), but got weight of size {list(w.shape)}")
    stride, padding = _tuple(stride, nd, fn, "stride"), _tuple(padding, nd, fn, "padding")
    output_padding = _tuple(output_padding, nd, fn, "output_padding")
    dilation = _tuple(dilation, nd, fn, "dilation")
    if any(s <= 0 for s in stride) or any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive stride or dilation is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError("output padding must be smaller than either stride or dilation, but "
                           f"got output_padding={output_padding}, stride={stride}, "
                           f"dilation={dilation}")
    batched = x.ndim == nd + 2
    if not batched:
        input = input.unsqueeze(0)  # noqa: A001
        x = input._data
    if x.shape[1] != w.shape[0] or w.shape[0] % groups:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(w.shape)}, expected input"
            f"{list(x.shape)} to have {w.shape[0]} channels, but got {x.shape[1]} channels "
            "instead")
    if bias is not None and bias._data.shape != (w.shape[1] * groups,):
        raise RuntimeError(f"Given transposed=1, weight of size {list(w.shape)}, expected bias "
                           f"to be 1-dimensional with {w.shape[1] * groups} elements, but got "
                           f"bias of size {list(bias.shape)} instead")
    if w.dtype != x.dtype:
        raise RuntimeError(f"Input type and weight type should be the same (got {x.dtype} and "
                           f"{w.dtype})")
    if nd == 1:
        stride, padding = (1,) + stride, (0,) + padding
        output_padding, dilation = (0,) + output_padding, (1,) + dilation
    geo = _ct.transpose_geometry(x.shape, w.shape, stride, padding, output_padding, dilation,
                                 groups)
    if any(s <= 0 for s in geo.x_shape[2:]):
        raise RuntimeError(f"{fn}: the output would have a non-positive size "
                           f"{list(geo.x_shape)}; reduce the padding")
    out = _ct.ConvTransposeNd.apply(input, weight, bias, geo)
    return out if batched else out.squeeze(0)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1) -> Tensor:
    """Transposed 1-D convolution of (N, Cin, L) with weight (Cin, Cout / groups, k)."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1) -> Tensor:
    """Transposed 2-D convolution of (N, Cin, H, W) with weight (Cin, Cout / groups, kH, kW)."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


# ---- normalization ------------------------------------------------------------------------------


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize each of ``num_groups`` groups of channels of each sample (over the group's
    channels and all positions), then scale and shift per channel."""
    _check_tensor(input, "group_norm", "input")
    x = input._data
    if x.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{x.ndim}")
    _check_float_input(x, "group_norm")
    channels = x.shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups,"
                           f" but got input of shape {list(x.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.shape[0] != channels):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape {list(t.shape)} and "
                               f"input of shape {list(x.shape)}")
    return _gn.NativeGroupNorm.apply(input, weight, bias, int(num_groups), float(eps))


def instance_norm(input: Tensor, running_mean: Tensor | None = None,  # noqa: A002
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel of each sample over its positions: batch norm of the input seen
    as one sample of N * C channels (as PyTorch computes it)."""
    _check_tensor(input, "instance_norm", "input")
    shape = tuple(input.shape)
    if len(shape) < 3:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{list(shape)}")
    n, c = shape[:2]
    if use_input_stats and math.prod(shape[2:]) <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{list(shape)}")

    def rep(t):
        return None if t is None else t.repeat(n)

    rm, rv = rep(running_mean), rep(running_var)
    if rm is not None:
        rm, rv = rm.detach(), rv.detach()
    out = batch_norm(input.reshape((1, n * c) + shape[2:]), rm, rv, rep(weight), rep(bias),
                     use_input_stats, momentum, eps)
    if use_input_stats and running_mean is not None:
        with no_grad():
            running_mean.copy_(rm.reshape(n, c).mean(0))
            running_var.copy_(rv.reshape(n, c).mean(0))
    return out.reshape(shape)


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,  # noqa: A002
             eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x^2) + eps) over the last dims (``normalized_shape``), times weight;
    eps defaults to the machine epsilon of x's dtype."""
    _check_tensor(input, "rms_norm", "input")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    nd = len(shape)
    if nd > input.ndim or tuple(input.shape[input.ndim - nd:]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(input.ndim - nd, input.ndim))
    out = input * (input.pow(2).mean(dims, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4,  # noqa: A002
                        beta: float = 0.75, k: float = 1.0) -> Tensor:
    """x / (k + alpha * mean of x^2 over ``size`` neighbouring channels) ** beta."""
    _check_tensor(input, "local_response_norm", "input")
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} "
                         "dimensions)")
    if input.numel() == 0:
        return input
    sq = input * input
    c = input.shape[1]
    pads = ((0, 0),) * (input.ndim - 2) + ((size // 2, (size - 1) // 2),)
    padded = ConstantPadNd.apply(sq, pads, 0.0)
    total = padded.narrow(1, 0, c)
    for i in range(1, size):
        total = total + padded.narrow(1, i, c)
    div = (total / size * alpha + k).pow(beta)
    return input / div


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,  # noqa: A002
              out: Tensor | None = None) -> Tensor:
    """x / max(||x||_p, eps) along ``dim``."""
    denom = input.norm(p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    if out is None:
        return input / denom
    from ..ops.division import div

    return div(input, denom, out=out)


# ---- distances ----------------------------------------------------------------------------------


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) along ``dim`` (after
    broadcasting). As in PyTorch, each norm is clamped as a value only: the gradient flows
    through the unclamped norm."""
    shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    x1, x2 = x1.expand(shape), x2.expand(shape)
    if not x1._data.dtype.kind == "f":
        raise RuntimeError("cosine_similarity requires floating point inputs")

    def clamped_norm(x):
        n = x.norm(2, dim, keepdim=True)
        d = n.detach()
        return n + (d.clamp(min=eps) - d)

    return ((x1 / clamped_norm(x1)) * (x2 / clamped_norm(x2))).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim."""
    ndim = max(x1.ndim, x2.ndim)
    diff = x1 - x2 + eps
    if ndim == 0:
        return diff.abs()
    return diff.norm(p, -1, keepdim=keepdim)


# ---- shuffles -----------------------------------------------------------------------------------


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    _check_tensor(input, "pixel_shuffle", "input")
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    if input.shape[-3] % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible"
                           f" by the square of upscale_factor, but input.size(-3)="
                           f"{input.shape[-3]} is not divisible by {r * r}")
    return _rs.PixelShuffle.apply(input, r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    _check_tensor(input, "pixel_unshuffle", "input")
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    for d, what in ((-2, "height"), (-1, "width")):
        if input.shape[d] % r:
            raise RuntimeError(f"pixel_unshuffle expects {what} to be divisible by "
                               f"downscale_factor, but input.size({d})={input.shape[d]} is not "
                               f"divisible by {r}")
    return _rs.PixelUnshuffle.apply(input, r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:  # noqa: A002
    """Interleave the channels (dim 1) of ``groups`` groups: (N, g * k, ...) read as (N, g, k,
    ...), transposed to (N, k, g, ...)."""
    if input.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    n, c = input.shape[:2]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")
    rest = tuple(input.shape[2:])
    out = input.reshape((n, groups, c // groups) + rest).transpose(1, 2)
    return out.reshape((n, c) + rest)


# ---- interpolate --------------------------------------------------------------------------------

_MODE_DIMS = {"linear": 1, "bilinear": 2, "trilinear": 3}


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",  # noqa: A002
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims (all dims after the first two) to ``size`` or by
    ``scale_factor``; modes 'nearest', 'linear', 'bilinear', 'trilinear'."""
    _check_tensor(input, "interpolate", "input")
    nd = input.ndim - 2
    if mode not in ("nearest", "linear", "bilinear", "trilinear"):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported by retrograd "
                                  "(nearest, linear, bilinear and trilinear are)")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by retrograd")
    if nd < 1 or nd > 3 or (mode != "nearest" and _MODE_DIMS[mode] != nd):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the"
            f" modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
            f"(got {mode})")
    if (size is None) == (scale_factor is None):
        raise ValueError("either size or scale_factor should be defined" if size is None else
                         "only one of size or scale_factor should be defined")
    spatial = tuple(input.shape[2:])
    if size is not None:
        sizes = (size,) * nd if isinstance(size, int) else tuple(size)
        if len(sizes) != nd:
            raise ValueError(f"Input and output must have the same number of spatial dimensions,"
                             f" but got input with spatial dimensions of {list(spatial)} and "
                             f"output size of {list(sizes)}. Please provide input tensor in "
                             "(N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                             "format.")
        scales = (None,) * nd
    else:
        scales = ((float(scale_factor),) * nd if isinstance(scale_factor, (int, float))
                  else tuple(float(s) for s in scale_factor))
        if len(scales) != nd:
            raise ValueError(f"Input and scale_factor must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(spatial)} and scale_factor of shape {list(scales)}.")
        sizes = tuple(int(math.floor(s * f)) for s, f in zip(spatial, scales))
        if recompute_scale_factor:
            scales = (None,) * nd
    if mode == "nearest":
        sources = tuple(_rs.nearest_sources(s, o, f) for s, o, f in zip(spatial, sizes, scales))
        return _rs.NEAREST[nd].apply(input, sources)
    _check_float_input(input._data, f"upsample_{mode}{nd}d")
    mats = tuple(_rs.linear_matrix(s, o, f, bool(align_corners))
                 for s, o, f in zip(spatial, sizes, scales))
    return _rs.LINEAR[mode].apply(input, mats)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",  # noqa: A002
             align_corners: bool | None = None) -> Tensor:
    """The old name of interpolate (deprecated in PyTorch)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:  # noqa: A002
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:  # noqa: A002
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- feature and alpha dropout ------------------------------------------------------------------


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _draw_keep(shape: tuple, p: float) -> np.ndarray:
    return _Rng.gen.random(shape) < 1.0 - p


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool,  # noqa: A002
                     batched: bool, alpha: bool = False) -> Tensor:
    _check_p(p)
    if not training or p == 0 or input.numel() == 0:
        return input
    x = input._data
    _check_float_input(x, "dropout")
    shape = x.shape[:2] + (1,) * (x.ndim - 2) if batched else x.shape[:1] + (1,) * (x.ndim - 1)
    if alpha is None:  # plain elementwise alpha dropout
        shape = x.shape
    keep = _draw_keep(shape, p)
    if alpha is False:
        scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
        noise = _wrap((keep * scale).astype(x.dtype))
        return input.mul_(noise) if inplace else input * noise
    # alpha dropout: dropped values become alpha' (the SELU saturation value) and an affine
    # map a * x + b keeps the mean and variance
    alpha_p = -1.7580993408473766
    if p == 1:
        return input.mul_(0) if inplace else input * 0
    a = 1.0 / math.sqrt((alpha_p * alpha_p * p + 1) * (1 - p))
    b = _wrap(((~keep) * (alpha_p * a) + alpha_p * a * -p).astype(x.dtype))
    noise = _wrap((keep * a).astype(x.dtype))
    if inplace:
        return input.mul_(noise).add_(b)
    return input * noise + b


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) input with probability p."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           "input. Note that dropout1d exists to provide channel-wise dropout on "
                           "inputs with 1 spatial dimension, a channel dimension, and an "
                           "optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, input.ndim == 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zero whole channels (dim 1) of (N, C, H, W) input with probability p."""
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      "deprecated and will result in an error in a future release.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, input.ndim > 2)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p."""
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is "
                      "deprecated and will result in an error in a future release.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, input.ndim == 5)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,  # noqa: A002
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: keeps mean and variance (elementwise)."""
    return _feature_dropout(input, p, training, inplace, True, alpha=None)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,  # noqa: A002
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels."""
    return _feature_dropout(input, p, training, inplace, True, alpha=True)
