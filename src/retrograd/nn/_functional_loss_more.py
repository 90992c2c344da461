"""More losses, each composed from retrograd's differentiable ops as PyTorch composes it:
kl_div, poisson_nll_loss, gaussian_nll_loss, hinge_embedding_loss, soft_margin_loss,
multilabel_soft_margin_loss, cosine_embedding_loss, margin_ranking_loss, triplet_margin_loss,
multi_margin_loss, multilabel_margin_loss."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..ops.activation import logsigmoid
from ..ops.elementwise import where
from ..tensor import Tensor, _wrap
from ._functional_loss import _L, _reduction
from ._functional_more import pairwise_distance

__all__ = [
    "cosine_embedding_loss", "gaussian_nll_loss", "hinge_embedding_loss", "kl_div",
    "margin_ranking_loss", "multi_margin_loss", "multilabel_margin_loss",
    "multilabel_soft_margin_loss", "poisson_nll_loss", "soft_margin_loss",
    "triplet_margin_loss",
]


def _reduce(loss: Tensor, code) -> Tensor:
    if code == _L.MEAN:
        return loss.mean()
    if code == _L.SUM:
        return loss.sum()
    return loss


def _value_clamped(t: Tensor, lo: float) -> Tensor:
    """t with its values clamped below at ``lo`` but its gradient passed through unchanged (as
    PyTorch's in-place clamp under no_grad does)."""
    d = t.detach()
    return t + (d.clamp(min=lo) - d)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """target * (log(target) - input) (input holds log-probabilities; with log_target, target
    does too); 'batchmean' divides the sum by the batch size."""
    if size_average is not None or reduce is not None:
        code = _reduction("mean", size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the support "
                "size.'batchmean' divides only by the batch size, and aligns with the KL div "
                "math definition.'mean' will be changed to behave the same as 'batchmean' in "
                "the next major release.", UserWarning, stacklevel=2)
        code = _reduction("sum" if reduction == "batchmean" else reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target > 0
        safe = where(positive, target, 1.0)
        loss = where(positive, target * safe.log(), 0.0) - target * input
    out = _reduce(loss, code)
    if reduction == "batchmean" and input.ndim != 0:
        out = out / input.shape[0]
    return out


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True,  # noqa: A002
                     full: bool = False, size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """exp(input) - target * input (log_input), or input - target * log(input + eps); full adds
    Stirling's approximation of log(target!) where target > 1."""
    code = _reduction(reduction, size_average, reduce)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        big = target > 1
        t = where(big, target, 1.0)
        stirling = t * t.log() - t + (t * (2 * math.pi)).log() * 0.5
        loss = loss + where(big, stirling, 0.0)
    return _reduce(loss, code)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False,  # noqa: A002
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """0.5 * (log(var) + (input - target)^2 / var) (+ 0.5 log(2 pi) when full); var is clamped
    at eps (its value only)."""
    if not isinstance(var, Tensor):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = _wrap(np.full(tuple(input.shape), var, dtype=input._data.dtype))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    if bool((var.detach() < 0).any()):
        raise ValueError("var has negative entry/entries")
    var = _value_clamped(var, eps)
    loss = (var.log() + (input - target) ** 2 / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, _reduction(reduction))


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,  # noqa: A002
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """input where target is 1, max(0, margin - input) where target is -1."""
    code = _reduction(reduction, size_average, reduce)
    margin_part = where(target != 1, (margin - input).clamp(min=0), 0.0)
    self_part = where(target != -1, input, 0.0)
    return _reduce(margin_part + self_part, code)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None,  # noqa: A002
                     reduce=None, reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target * input))."""
    code = _reduction(reduction, size_average, reduce)
    return _reduce((-input * target).exp().log1p(), code)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor,  # noqa: A002
                                weight: Tensor | None = None, size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """-(target log sigmoid(x) + (1 - target) log sigmoid(-x)), averaged over the classes."""
    code = _reduction(reduction, size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    dim = input.ndim - 1
    loss = loss.sum(dim) / input.shape[dim]
    return _reduce(loss, code)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor,
                          margin: float = 0.0, size_average=None, reduce=None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1."""
    code = _reduction(reduction, size_average, reduce)
    if input1.ndim != input2.ndim or input1.ndim not in (1, 2):
        raise RuntimeError(f"cosine_embedding_loss: 1D or 2D inputs of the same size expected, "
                           f"got {list(input1.shape)} and {list(input2.shape)}")
    dim = 1 if input1.ndim == 2 else 0
    prod = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + 1e-12
    mag2 = (input2 * input2).sum(dim) + 1e-12
    cos = prod / (mag1 * mag2).sqrt()
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, (cos - margin).clamp(min=0),
                                                    0.0)
    return _reduce(loss, code)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, -target * (x1 - x2) + margin)."""
    code = _reduction(reduction, size_average, reduce)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, target: "
            f"{tuple(target.shape)} ")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), code)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)) with d the pairwise p-distance (swap: d(a, n) is
    replaced by d(p, n) where smaller)."""
    code = _reduction(reduction, size_average, reduce)
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number of"
            f" dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and "
            f"negative {negative.ndim}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_swap = pairwise_distance(positive, negative, p, eps)
        d_neg = d_neg.minimum(d_swap)
    return _reduce((d_pos - d_neg + margin).clamp(min=0), code)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1,  # noqa: A002
                      margin: float = 1.0, weight: Tensor | None = None, size_average=None,
                      reduce=None, reduction: str = "mean") -> Tensor:
    """sum over j != y of max(0, margin - x[y] + x[j])^p / C (times weight[y])."""
    code = _reduction(reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    idx = np.asarray(target._data).reshape(-1).astype(np.int64)
    n, c = x.shape
    if idx.shape[0] != n or (idx.size and (idx.min() < 0 or idx.max() >= c)):
        raise RuntimeError(f"multi_margin_loss: inconsistent target size or a class index out "
                           f"of [0, {c}) (input {list(input.shape)}, target "
                           f"{list(target.shape)})")
    x_y = x[np.arange(n), idx].reshape(n, 1)
    z = (x - x_y + margin).clamp(min=0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[idx].reshape(n, 1)
    own = _wrap(np.arange(c)[None, :] == idx[:, None])
    loss = where(own, 0.0, z).sum(1) / c
    if input.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, code)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None,  # noqa: A002
                           reduce=None, reduction: str = "mean") -> Tensor:
    """sum over target classes j and other classes i of max(0, 1 - (x[j] - x[i])) / C; each
    row of target lists class indices and ends at the first -1."""
    code = _reduction(reduction, size_average, reduce)
    x = input if input.ndim == 2 else input.reshape(1, -1)
    t = np.asarray(target._data).reshape(x.shape).astype(np.int64)
    n, c = x.shape
    counts = np.zeros((n, c))
    for row in range(n):
        for j in t[row]:
            if j < 0:
                break
            counts[row, j] += 1
    is_target = counts > 0
    weight = _wrap((counts[:, :, None] * ~is_target[:, None, :]).astype(x._data.dtype))
    pair = (1 - (x.unsqueeze(2) - x.unsqueeze(1))).clamp(min=0)
    loss = (pair * weight).sum((1, 2)) / c
    if input.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, code)
