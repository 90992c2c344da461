"""Normalization layers: BatchNorm1d, BatchNorm2d and LayerNorm."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _wrap
from . import init
from ._functional_layers import batch_norm, layer_norm
from .module import Module
from .parameter import _add_weight_and_bias, _np_dtype

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


def _add_affine(module: Module, affine: bool, shape: tuple, bias: bool, dtype, device) -> None:
    """``weight`` and ``bias`` of the given shape (``bias`` only with bias=True), or None
    placeholders for both when not affine."""
    if affine:
        _add_weight_and_bias(module, shape, shape if bias else None, dtype, device)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _reset_affine(weight, bias) -> None:
    """The affine map starts as the identity: weight ones, bias zeros."""
    if weight is not None:
        init.ones_(weight)
    if bias is not None:
        init.zeros_(bias)


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share.

    Parameters ``weight`` (ones) and ``bias`` (zeros) when affine; buffers ``running_mean``
    (zeros), ``running_var`` (ones) and ``num_batches_tracked`` when track_running_stats.
    Training normalizes with the batch's statistics and updates the running ones
    (momentum=None: a cumulative average over the batches seen); eval uses the running ones.
    """

    _dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _add_affine(self, affine, (num_features,), bias, dtype, device)
        if track_running_stats:
            np_dtype = _np_dtype(dtype)
            self.register_buffer("running_mean", _wrap(np.zeros(num_features, dtype=np_dtype)))
            self.register_buffer("running_var", _wrap(np.ones(num_features, dtype=np_dtype)))
            self.register_buffer("num_batches_tracked", _wrap(np.zeros((), dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0
            for t in (self.running_mean, self.running_var, self.num_batches_tracked):
                t._bump_version()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            _reset_affine(self.weight, self.bias)

    def _check_input(self, input: Tensor) -> None:  # noqa: A002
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a Tensor input, got "
                            f"{type(input).__name__}")
        shape = input._data.shape
        if len(shape) not in self._dims:
            want = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(f"{type(self).__name__} expected {want} input (got {len(shape)}D "
                             f"input of size {list(shape)})")
        if shape[1] != self.num_features:
            raise RuntimeError(
                f"{type(self).__name__} expected input with {self.num_features} channels (dim 1),"
                f" got {shape[1]} (input of size {list(shape)})")

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        buffers = self._buffers
        if self.training and self.track_running_stats:
            tracked = buffers["num_batches_tracked"]
            if tracked is not None:
                tracked._data += 1
                tracked._bump_version()
                factor = 1.0 / float(tracked._data) if self.momentum is None else self.momentum
        mean, var = buffers["running_mean"], buffers["running_var"]
        training = self.training or (mean is None and var is None)
        use_running = not self.training or self.track_running_stats
        params = self._parameters
        # (a parametrized or pruned weight or bias lives outside _parameters)
        w = params["weight"] if "weight" in params else self.weight
        b = params["bias"] if "bias" in params else self.bias
        return batch_norm(input, mean if use_running else None, var if use_running else None,
                          w, b, training, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) inputs, per channel C."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W) inputs, per channel C."""

    _dims = (4,)


class LayerNorm(Module):
    """Normalize each sample over its last dims (``normalized_shape``), then scale by
    ``weight`` (ones) and shift by ``bias`` (zeros), both of shape normalized_shape."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _add_affine(self, elementwise_affine, self.normalized_shape, bias, dtype, device)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            _reset_affine(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if not isinstance(input, Tensor):
            raise TypeError(f"LayerNorm: expected a Tensor input, got {type(input).__name__}")
        shape = input._data.shape
        nd = len(self.normalized_shape)
        if shape[len(shape) - nd:] != self.normalized_shape or len(shape) < nd:
            raise RuntimeError(
                f"LayerNorm expected input with shape [*, "
                f"{', '.join(map(str, self.normalized_shape))}] (its normalized_shape), but got "
                f"input of size {list(shape)}")
        params = self._parameters
        # (a parametrized or pruned weight or bias lives outside _parameters)
        w = params["weight"] if "weight" in params else self.weight
        b = params["bias"] if "bias" in params else self.bias
        return layer_norm(input, self.normalized_shape, w, b, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")
