"""Functional forms of the layers: convolution, pooling, normalization, dropout, embedding.

Each function checks its arguments with PyTorch's exception types (keeping PyTorch's key phrase
in the message) and then runs one node from ``retrograd/ops/nn/`` (``conv.py``, ``pooling.py``,
``normalization.py``, ``embedding.py``). ``nn.functional`` re-exports everything in ``__all__``.
"""

from __future__ import annotations

import numpy as np

from ..creation import _Rng
from ..ops.elementwise import mul
from ..ops.nn import conv as _cv
from ..ops.nn import embedding as _emb
from ..ops.nn import normalization as _norm
from ..ops.nn import pooling as _pool
from ..ops.reduce import type_name
from ..tensor import Tensor, _wrap

__all__ = [
    "adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "conv1d", "conv2d", "dropout", "embedding",
    "layer_norm", "max_pool2d",
]


def _check_tensor(obj, fn: str, name: str) -> None:
    if not isinstance(obj, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(obj).__name__}")


def _tuple(value, n: int, fn: str, name: str) -> tuple:
    """An int or a sequence of n ints as a tuple of n ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    try:
        out = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{fn}(): argument '{name}' must be an int or a tuple of {n} ints, not "
                        f"{type(value).__name__}") from None
    if len(out) == 1:
        return out * n
    if len(out) != n:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {n} values to match the "
            f"convolution dimensions, but got {name}={list(out)}")
    return out


def _c_name(a: np.ndarray) -> str:
    """The C type name PyTorch prints in dtype mismatch messages (float, double, ...)."""
    return {"float32": "float", "float64": "double", "float16": "c10::Half",
            "int64": "long int"}.get(a.dtype.name, a.dtype.name)


def _shape(t: Tensor) -> list:
    return list(t._data.shape)


# ---- convolution --------------------------------------------------------------------------------


def _conv(fn: str, nd: int, input: Tensor, weight: Tensor, bias, stride, padding,  # noqa: A002
          dilation, groups) -> Tensor:
    _check_tensor(input, fn, "input")
    _check_tensor(weight, fn, "weight")
    if bias is not None:
        _check_tensor(bias, fn, "bias")
    x, w = input._data, weight._data
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {fn}, but got "
            f"input of size: {list(x.shape)}")
    if w.ndim != nd + 2:
        raise RuntimeError(
            f"{fn} expects a {nd + 2}-D weight (out_channels, in_channels / groups, "
            f"{'kernel' if nd == 1 else 'kH, kW'}), but got weight of size {list(w.shape)}")
    stride = _tuple(stride, nd, fn, "stride")
    dilation = _tuple(dilation, nd, fn, "dilation")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)):
        raise TypeError(f"{fn}(): argument 'groups' must be int, not {type(groups).__name__}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    kernel = w.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = ()
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pads += (total // 2, total - total // 2)  # the odd one goes to the end
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'; use 'same', 'valid' or "
                               "an int per spatial dimension")
    else:
        pads = ()
        for p in _tuple(padding, nd, fn, "padding"):
            pads += (p, p)
        if any(p < 0 for p in pads):
            raise RuntimeError("negative padding is not supported")
    batched = x.ndim == nd + 2
    if not batched:
        input = input.unsqueeze(0)  # noqa: A001
        x = input._data
    out_ch = w.shape[0]
    if out_ch == 0 or out_ch % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0"
            f" (out_channels), but got weight of size {list(w.shape)} instead")
    if x.shape[1] != w.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(w.shape)}, expected input"
            f"{list(x.shape)} to have {w.shape[1] * groups} channels, but got {x.shape[1]} "
            "channels instead")
    if bias is not None and bias._data.shape != (out_ch,):
        raise RuntimeError(
            f"Given weight of size {list(w.shape)}, expected bias to be 1-dimensional with "
            f"{out_ch} elements, but got bias of size {_shape(bias)} instead")
    for arr, what in ((w, "weight"), (None if bias is None else bias._data, "bias")):
        if arr is not None and arr.dtype != x.dtype:
            raise RuntimeError(
                f"Input type ({_c_name(x)}) and {what} type ({_c_name(arr)}) should be the same; "
                "convert one with .to(other.dtype).")
    spatial = x.shape[2:]
    padded = tuple(s + pads[2 * i] + pads[2 * i + 1] for i, s in enumerate(spatial))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < r for p, r in zip(padded, reach)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, reach))}). Kernel size can't be greater than "
            "actual input size")
    if nd == 1:
        geo = _cv.ConvGeometry(x.shape, w.shape, (1,) + stride, (0, 0) + pads,
                                 (1,) + dilation, groups)
    else:
        geo = _cv.ConvGeometry(x.shape, w.shape, stride, pads, dilation, groups)
    out = _cv.Convolution.apply(input, weight, bias, geo)
    return out if batched else out.squeeze(0)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,  # noqa: A002
           padding=0, dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation) of (N, C, L) with weight (O, C / groups, k).

    ``padding`` is an int or 'valid' / 'same' (same needs stride 1).
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,  # noqa: A002
           padding=0, dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of (N, C, H, W) with weight (O, C / groups, kH, kW).

    ``stride``, ``padding`` and ``dilation`` are an int or a pair; ``padding`` may also be
    'valid' (none) or 'same' (output size = input size; needs stride 1).
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


# ---- pooling ------------------------------------------------------------------------------------


def _pool_args(fn: str, input: Tensor, kernel_size, stride, padding, dilation,  # noqa: A002
               ceil_mode: bool) -> _pool.PoolGeometry:
    _check_tensor(input, fn, "input")
    x = input._data
    if x.ndim not in (3, 4) or x.size == 0 and (x.ndim == 3 or any(s == 0 for s in x.shape[1:])):
        raise RuntimeError(
            f"{fn}: expected a non-empty 3D (C, H, W) or 4D (N, C, H, W) input (batch mode, the "
            f"batch may be empty), but got input of size {list(x.shape)}")
    if isinstance(kernel_size, (tuple, list)) and len(kernel_size) not in (1, 2):
        raise RuntimeError(f"{fn}: kernel_size must either be a single int, or a tuple of two "
                           "ints")
    if isinstance(stride, (tuple, list)) and len(stride) not in (0, 1, 2):
        raise RuntimeError(f"{fn}: stride must either be omitted, a single int, or a tuple of "
                           "two ints")
    kernel = _tuple(kernel_size, 2, fn, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else _tuple(
        stride, 2, fn, "stride")
    padding = _tuple(padding, 2, fn, "padding")
    dilation = _tuple(dilation, 2, fn, "dilation")
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kernel[0]} "
                           f"kW: {kernel[1]}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"stride should be greater than zero, but got dH: {stride[0]} dW: "
                           f"{stride[1]}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: "
                           f"{dilation[0]} dilationW: {dilation[1]}")
    for p, k, d in zip(padding, kernel, dilation):
        if p < 0 or p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d}")
    geo = _pool.PoolGeometry(tuple(x.shape), kernel, stride, padding, dilation, bool(ceil_mode))
    if geo.Ho < 1 or geo.Wo < 1:
        raise RuntimeError(
            f"Given input size: ({geo.C}x{geo.H}x{geo.W}). Calculated output size: "
            f"({geo.C}x{geo.Ho}x{geo.Wo}). Output size is too small")
    return geo


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False):
    """The maximum over each kernel_size window (stride defaults to kernel_size; padding counts
    as -inf). With return_indices, also each maximum's flat position within its input plane."""
    geo = _pool_args("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    if input._data.dtype.kind not in "fiu":
        raise NotImplementedError(f"\"max_pool2d\" not implemented for '{type_name(input._data)}'")
    return _pool.MaxPool2d.apply(input, geo, bool(return_indices))


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean over each kernel_size window (stride defaults to kernel_size; zero padding
    counts in the mean when count_include_pad; divisor_override replaces the window size)."""
    geo = _pool_args("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    if input._data.dtype.kind not in "fiu":
        raise NotImplementedError(f"\"avg_pool2d\" not implemented for '{type_name(input._data)}'")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    divisor = _pool.avg_divisor(geo, bool(count_include_pad), divisor_override)
    return _pool.AvgPool2d.apply(input, geo, divisor)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """Average pooling to a fixed output size (H_out, W_out): output cell i averages input
    cells floor(i * H / H_out) to ceil((i + 1) * H / H_out). None keeps that input size."""
    _check_tensor(input, "adaptive_avg_pool2d", "input")
    x = input._data
    if x.ndim not in (3, 4) or any(s == 0 for s in x.shape[-3:]):
        raise RuntimeError(
            "adaptive_avg_pool2d(): Expected 3D or 4D tensor with non-zero sizes for the last "
            f"three dims, but got {list(x.shape)}")
    if x.dtype.kind != "f":
        raise NotImplementedError(
            f"\"adaptive_avg_pool2d\" not implemented for '{type_name(x)}'; convert the input "
            "with .float() first.")
    if isinstance(output_size, (int, np.integer)):
        output_size = (output_size, output_size)
    output_size = tuple(output_size)
    if len(output_size) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    size = tuple(int(x.shape[-2 + i]) if s is None else int(s) for i, s in enumerate(output_size))
    if any(s < 0 for s in size):
        raise RuntimeError(f"adaptive_avg_pool2d: elements of output_size must be greater than "
                           f"or equal to 0 but received {list(size)}")
    if size == (1, 1):  # global average pooling: PyTorch takes the mean (MeanBackward1)
        return input.mean((-2, -1), keepdim=True)
    return _pool.AdaptiveAvgPool2d.apply(input, size)


# ---- normalization ------------------------------------------------------------------------------


def _check_float_input(x: np.ndarray, fn: str) -> None:
    if x.dtype.kind != "f":
        raise NotImplementedError(
            f"\"{fn}\" not implemented for '{type_name(x)}'; convert the input with .float() "
            "first.")


def _check_same_dtype(x: np.ndarray, others: dict) -> None:
    for name, t in others.items():
        if t is not None and t._data.dtype != x.dtype:
            raise RuntimeError(
                f"mixed dtype (CPU): all inputs must share same datatype; the input is "
                f"{type_name(x)} but {name} is {type_name(t._data)}. Convert them with .to().")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dim 1) of an (N, C, ...) input to zero mean and unit variance.

    Training uses the batch's statistics and, when running_mean/running_var are given, updates
    them in place: running = (1 - momentum) * running + momentum * batch statistic (the
    unbiased variance for running_var). Evaluation uses the running statistics.
    """
    _check_tensor(input, "batch_norm", "input")
    x = input._data
    _check_float_input(x, "batch_norm")
    if x.ndim < 2:
        raise RuntimeError(
            f"batch_norm expects an input of shape (N, C) or (N, C, *), but got input of size "
            f"{list(x.shape)}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be "
                         "None")
    if running_mean is None and not training:
        raise RuntimeError("running_mean must be defined in evaluation mode (pass the running "
                           "statistics, or training=True to use the batch's)")
    channels = x.shape[1]
    params = {"weight": weight, "bias": bias, "running_mean": running_mean,
              "running_var": running_var}
    for name, t in params.items():
        if t is not None:
            _check_tensor(t, "batch_norm", name)
            if t._data.size != channels:
                raise RuntimeError(f"{name} should contain {channels} elements not "
                                   f"{t._data.size}")
    _check_same_dtype(x, params)
    if training and x.size // max(channels, 1) <= 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size "
            f"{input.shape}")
    return _norm.BatchNorm.apply(input, weight, bias, running_mean, running_var, bool(training),
                                 float(momentum), float(eps))


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the last dims (``normalized_shape``) of each sample: zero mean, unit
    (biased) variance, then weight and bias (of shape normalized_shape) elementwise."""
    _check_tensor(input, "layer_norm", "input")
    if isinstance(normalized_shape, (int, np.integer)):
        raise TypeError("layer_norm(): argument 'normalized_shape' (position 2) must be tuple of "
                        f"ints, not int; pass ({normalized_shape},)")
    shape = tuple(int(s) for s in normalized_shape)
    x = input._data
    _check_float_input(x, "LayerNormKernelImpl")
    nd = len(shape)
    if nd == 0 or x.shape[x.ndim - nd:] != shape or nd > x.ndim:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(x.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None:
            _check_tensor(t, "layer_norm", name)
            if t._data.shape != shape:
                raise RuntimeError(
                    f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                    f"shape {_shape(t)} and normalized_shape = {list(shape)}")
    _check_same_dtype(x, {"weight": weight, "bias": bias})
    return _norm.LayerNorm.apply(input, weight, bias, nd, float(eps))


# ---- dropout ------------------------------------------------------------------------------------


def dropout(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
            inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (when training;
    otherwise return the input). The mask comes from retrograd's generator (manual_seed)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    _check_tensor(input, "dropout", "input")
    if not training or p == 0 or input._data.size == 0:
        return input
    x = input._data
    _check_float_input(x, "dropout")
    if p == 1:
        noise = _wrap(np.zeros((), dtype=x.dtype))
    else:
        draw = _Rng.gen.random(x.shape, dtype=np.float64 if x.dtype == np.float64 else np.float32)
        keep = draw < 1.0 - p
        noise = _wrap(np.multiply(keep, 1.0 / (1.0 - p), dtype=x.dtype))
    return input.mul_(noise) if inplace else mul(input, noise)


# ---- embedding ----------------------------------------------------------------------------------


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,  # noqa: A002
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) picked by the integer tensor ``input``; the
    result has shape input.shape + (dim,). Row padding_idx gets no gradient; with max_norm,
    the rows looked up are first rescaled in place to norm at most max_norm."""
    _check_tensor(input, "embedding", "input")
    _check_tensor(weight, "embedding", "weight")
    idx = input._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {type_name(idx)} instead (while checking arguments for "
            "embedding); convert the indices with .long().")
    w = weight._data
    if w.ndim != 2:
        raise RuntimeError(f"'weight' must be 2-D (num_embeddings, embedding_dim), but got "
                           f"weight of size {list(w.shape)}")
    num = w.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError(f"Padding_idx must be within num_embeddings (got padding_idx="
                                 f"{padding_idx} for {num} embeddings)")
        padding_idx = int(padding_idx) % num
    if sparse:
        raise NotImplementedError("sparse gradients are not supported by retrograd; use "
                                  "sparse=False (the gradient is then a dense tensor)")
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"index out of range in self (index {bad} for an embedding of {num} "
                         "rows)")
    if max_norm is not None:
        _renorm_rows(weight, idx, float(max_norm), float(norm_type))
    return _emb.Embedding.apply(weight, idx, padding_idx, bool(scale_grad_by_freq))


def _renorm_rows(weight: Tensor, idx: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Rescale in place the looked-up rows whose norm exceeds max_norm (not recorded)."""
    w = weight._data
    rows = np.unique(idx)
    norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        rows = rows[big]
        w[rows] *= (max_norm / (norms[big] + 1e-7)).astype(w.dtype)[:, None]
    weight._bump_version()
