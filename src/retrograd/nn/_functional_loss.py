"""Loss functions (the functional forms behind ``nn.MSELoss``, ``nn.CrossEntropyLoss``, ...).

Each one checks its arguments with PyTorch's errors and messages, then runs one fused node from
``retrograd/ops/nn/loss.py`` (L1 and cross entropy with class probabilities are built from ops).
``reduction`` is "none", "mean" or "sum"; the legacy ``size_average``/``reduce`` flags are
translated as PyTorch does.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import dtypes as _dt
from ..ops.activation import log_softmax
from ..ops.nn import loss as _L
from ..tensor import Tensor

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss",
    "l1_loss", "mse_loss", "nll_loss", "smooth_l1_loss",
]

_REDUCTIONS = {"none": _L.NONE, "mean": _L.MEAN, "sum": _L.SUM}


def _reduction(reduction: str, size_average=None, reduce=None) -> int:
    if size_average is not None or reduce is not None:
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      "reduction='mean', 'sum' or 'none' instead.", UserWarning, stacklevel=3)
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    code = _REDUCTIONS.get(reduction)
    if code is None:
        raise ValueError(f"{reduction} is not a valid value for reduction; use 'none', 'mean' "
                         "or 'sum'")
    return code


def _check_tensor(obj, fn: str, name: str) -> None:
    if not isinstance(obj, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(obj).__name__}")


def _check_float(x: Tensor, fn: str) -> None:
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"{fn} expects a floating point input, got {x.dtype}; convert it with .float().")


def _promoted(input: Tensor, target: Tensor, fn: str) -> tuple:  # noqa: A002
    """Input and target converted to their common dtype, as PyTorch's regression losses do
    (a float input with an int64 target computes in the input's dtype)."""
    _check_tensor(input, fn, "input")
    _check_tensor(target, fn, "target")
    a, b = input._data, target._data
    if a.dtype == b.dtype:
        return input, target
    dt = _dt.result_type(input.dtype, a.ndim == 0, target.dtype, b.ndim == 0)
    return input.to(dt), target.to(dt)


def _pair(input: Tensor, target: Tensor, fn: str) -> None:  # noqa: A002
    """Checks for the regression losses: tensors, same float dtype, warn when broadcasting."""
    _check_tensor(input, fn, "input")
    _check_tensor(target, fn, "target")
    _check_float(input, fn)
    if target._data.shape != input._data.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", UserWarning, stacklevel=3)
        try:
            np.broadcast_shapes(input._data.shape, target._data.shape)
        except ValueError:
            raise RuntimeError(
                f"{fn}: the size of the input {list(input.shape)} and of the target "
                f"{list(target.shape)} do not broadcast; pass a target of the input's "
                "shape.") from None
    if target._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"{fn}: expected input and target of the same dtype, got {input.dtype} and "
            f"{target.dtype}; convert the target with .to(input.dtype).")


# ---- regression losses ------------------------------------------------------------------------


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
             reduction: str = "mean") -> Tensor:
    """The mean (or sum) of squared differences (input - target)^2."""
    code = _reduction(reduction, size_average, reduce)
    input, target = _promoted(input, target, "mse_loss")  # noqa: A001
    _pair(input, target, "mse_loss")
    return _L.MseLoss.apply(input, target, code)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
            reduction: str = "mean") -> Tensor:
    """The mean (or sum) of absolute differences |input - target|."""
    code = _reduction(reduction, size_average, reduce)
    _pair(input, target, "l1_loss")
    loss = (input - target).abs()
    return loss.mean() if code == _L.MEAN else loss.sum() if code == _L.SUM else loss


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Squared error / (2 beta) for |d| < beta, else |d| - beta / 2 (Huber loss / beta)."""
    code = _reduction(reduction, size_average, reduce)
    _pair(input, target, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:  # the quadratic piece vanishes: plain L1 (PyTorch builds it the same way)
        return l1_loss(input, target, reduction=reduction)
    return _L.SmoothL1Loss.apply(input, target, code, float(beta))


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0, weight=None) -> Tensor:
    """Squared error / 2 for |d| < delta, else delta (|d| - delta / 2)."""
    code = _reduction(reduction)
    _pair(input, target, "huber_loss")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is not None:
        loss = _L.HuberLoss.apply(input, target, _L.NONE, float(delta)) * weight
        return loss.mean() if code == _L.MEAN else loss.sum() if code == _L.SUM else loss
    return _L.HuberLoss.apply(input, target, code, float(delta))


# ---- binary classification -------------------------------------------------------------------


def _same_size(input: Tensor, target: Tensor, message: str) -> None:  # noqa: A002
    if target._data.shape != input._data.shape:
        raise ValueError(message.format(target=target.shape, input=input.shape))


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """-w (t log(p) + (1 - t) log(1 - p)) for probabilities p in [0, 1] (logs clamped at -100)."""
    code = _reduction(reduction, size_average, reduce)
    _check_tensor(input, "binary_cross_entropy", "input")
    _check_tensor(target, "binary_cross_entropy", "target")
    _same_size(input, target,
               "Using a target size ({target}) that is different to the input size ({input}) is "
               "deprecated. Please ensure they have the same size.")
    _check_float(input, "binary_cross_entropy")
    a = input._data
    if a.size and not ((a >= 0) & (a <= 1)).all():
        raise RuntimeError(
            "all elements of input should be between 0 and 1 (binary_cross_entropy takes "
            "probabilities; for logits use binary_cross_entropy_with_logits)")
    if weight is not None:
        _broadcast_weight(weight, input, "weight")
    return _L.BinaryCrossEntropy.apply(input, target.to(input.dtype), weight, code)


def _broadcast_weight(w: Tensor, input: Tensor, name: str) -> None:  # noqa: A002
    _check_tensor(w, "binary_cross_entropy", name)
    try:
        full = np.broadcast_shapes(w._data.shape, input._data.shape)
    except ValueError:
        full = None
    if full != input._data.shape:
        raise RuntimeError(
            f"the {name} of shape {list(w.shape)} does not broadcast to the input's shape "
            f"{list(input.shape)}")


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,  # noqa: A002
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross entropy of sigmoid(input), computed stably from the logits.

    ``pos_weight`` scales the positive term (per class, broadcast over the last dim).
    """
    code = _reduction(reduction, size_average, reduce)
    _check_tensor(input, "binary_cross_entropy_with_logits", "input")
    _check_tensor(target, "binary_cross_entropy_with_logits", "target")
    _same_size(input, target, "Target size ({target}) must be the same as input size ({input})")
    _check_float(input, "binary_cross_entropy_with_logits")
    if weight is not None:
        _broadcast_weight(weight, input, "weight")
    if pos_weight is not None:
        _broadcast_weight(pos_weight, input, "pos_weight")
    return _L.BinaryCrossEntropyWithLogits.apply(input, target.to(input.dtype), weight,
                                                 pos_weight, code)


# ---- multi-class classification --------------------------------------------------------------


def _check_class_args(input: Tensor, target: Tensor, weight, fn: str) -> int:  # noqa: A002
    """Checks shared by cross_entropy and nll_loss (class indices); returns the class count."""
    a, t = input._data, target._data
    if a.ndim == 0:
        raise RuntimeError(f"{fn}: input must have at least 1 dimension (the classes), got a "
                           "0-d tensor")
    classes = a.shape[1] if a.ndim > 1 else a.shape[0]
    if t.dtype.kind not in "iu" or t.dtype not in (np.int64, np.uint8):
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {_type_name(t)}; class indices "
            "are int64 (use .long()), class probabilities must have the input's shape.")
    if a.ndim == 1:
        if t.ndim != 0:
            raise RuntimeError(
                f"{fn}: an unbatched input of shape {list(a.shape)} takes a 0-d target (one "
                f"class index), got target of shape {list(t.shape)}")
    elif a.ndim == 2:
        if t.ndim != 1 or t.shape[0] != a.shape[0]:
            raise ValueError(
                f"Expected input batch_size ({a.shape[0]}) to match target batch_size "
                f"({t.shape[0] if t.ndim else 0}). {fn} takes input (N, C) and target (N,); "
                f"got input {list(a.shape)} and target {list(t.shape)}.")
    else:
        want = (a.shape[0],) + a.shape[2:]
        if t.shape != want:
            raise RuntimeError(f"Expected target size {list(want)}, got {list(t.shape)}")
    if weight is not None:
        _check_tensor(weight, fn, "weight")
        if weight._data.shape != (classes,):
            raise RuntimeError(
                f"weight tensor should be defined either for all {classes} classes or no "
                f"classes but got weight tensor of shape: {list(weight.shape)}")
    return classes


def _check_bounds(target: Tensor, classes: int, ignore_index: int) -> int | None:
    """Raise IndexError for a class index out of range; returns the ignore_index to pass on,
    or None when no target can equal it (the Function then skips the masking)."""
    t = target._data
    if t.size == 0:
        return ignore_index
    # One reduction checks both ends: viewed as unsigned, negative indices become huge.
    top = t.view(np.uint64).max() if t.dtype == np.int64 else t.max()
    if top < classes:
        return ignore_index if 0 <= ignore_index < classes else None
    bad = t[(t != ignore_index) & ((t < 0) | (t >= classes))]
    if bad.size:
        raise IndexError(
            f"Target {bad.flat[0]} is out of bounds. Class indices must lie in [0, "
            f"{classes - 1}] for an input with {classes} classes (or equal ignore_index="
            f"{ignore_index} to be skipped).")
    return ignore_index


def _type_name(a: np.ndarray) -> str:
    from ..ops.reduce import type_name

    return type_name(a)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
             size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean") -> Tensor:
    """Negative log likelihood of class indices, given log-probabilities (N, C, ...)."""
    code = _reduction(reduction, size_average, reduce)
    _check_tensor(input, "nll_loss", "input")
    _check_tensor(target, "nll_loss", "target")
    _check_float(input, "nll_loss")
    classes = _check_class_args(input, target, weight, "nll_loss")
    ignore = _check_bounds(target, classes, int(ignore_index))
    fn = _L.NllLoss2d if input._data.ndim > 2 else _L.NllLoss
    return fn.apply(input, target, weight, ignore, code)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy between softmax(input) over dim 1 and the target.

    The target holds class indices (shape of input without the class dim; ``ignore_index``
    rows are skipped) or class probabilities (the input's shape, floating point).
    """
    code = _reduction(reduction, size_average, reduce)
    _check_tensor(input, "cross_entropy", "input")
    _check_tensor(target, "cross_entropy", "target")
    _check_float(input, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if (target._data.dtype.kind == "f" and target._data.shape == input._data.shape
            and input._data.ndim > 0):
        return _cross_entropy_probs(input, target, weight, code, label_smoothing)
    classes = _check_class_args(input, target, weight, "cross_entropy")
    ignore = _check_bounds(target, classes, int(ignore_index))
    fn = _L.CrossEntropy2d if input._data.ndim > 2 else _L.CrossEntropy
    return fn.apply(input, target, weight, ignore, code, float(label_smoothing))


def _cross_entropy_probs(input: Tensor, target: Tensor, weight, code: int,  # noqa: A002
                         label_smoothing: float) -> Tensor:
    """Cross entropy against class probabilities, from ops (the mean is over rows, unweighted)."""
    a = input._data
    cdim = 1 if a.ndim > 1 else 0
    classes = a.shape[cdim]
    if target._data.dtype != a.dtype:
        raise RuntimeError(
            f"cross_entropy: expected target probabilities of the input's dtype {input.dtype}, "
            f"got {target.dtype}")
    if weight is not None:
        _check_tensor(weight, "cross_entropy", "weight")
        if weight._data.shape != (classes,):
            raise RuntimeError(
                f"weight tensor should be defined either for all {classes} classes or no "
                f"classes but got weight tensor of shape: {list(weight.shape)}")
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    logp = log_softmax(input, cdim)
    prod = logp * target
    if weight is not None:
        prod = prod * weight.reshape((classes,) + (1,) * (a.ndim - cdim - 1))
    loss = -prod.sum(cdim)
    if code == _L.MEAN:
        return loss.sum() / (a.size // classes) if a.size else loss.sum() / 0.0
    return loss.sum() if code == _L.SUM else loss
