"""More functional activations (hardswish, mish, the shrinks, glu, prelu, rrelu, celu, selu,
threshold, softsign, tanhshrink, softmin) and ``pad``.

Where PyTorch composes an activation from other ops (softsign, tanhshrink, softmin) it is
composed here from the same ops, so values, gradients and node names agree; the others are one
node each from ``ops/nn/activations.py``. ``pad`` runs ``ops/nn/padding.py``.
"""

from __future__ import annotations

from ..creation import _Rng
from ..ops import activation as _act
from ..ops.inplace import apply_inplace
from ..ops.nn import activations as _a
from ..ops.nn import padding as _pad
from ..tensor import Tensor, _wrap_dim

__all__ = [
    "celu", "celu_", "elu_", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh_", "mish",
    "pad", "prelu", "rrelu", "rrelu_", "selu", "selu_", "softmin", "softshrink", "softsign",
    "tanhshrink", "threshold", "threshold_",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _maybe_inplace(input: Tensor, inplace: bool, fn, *args) -> Tensor:  # noqa: A002
    return apply_inplace(input, fn, *args) if inplace else fn(input, *args)


def _float(input: Tensor, fn: str) -> None:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(input).__name__}")
    _act._check_float(input, fn)


def _hardswish(x: Tensor) -> Tensor:
    return _a.Hardswish.apply(x)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * relu6(x + 3) / 6."""
    _float(input, "hardswish")
    return _maybe_inplace(input, inplace, _hardswish)


def _hardsigmoid(x: Tensor) -> Tensor:
    return _a.Hardsigmoid.apply(x)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """relu6(x + 3) / 6."""
    _float(input, "hardsigmoid")
    return _maybe_inplace(input, inplace, _hardsigmoid)


def _mish(x: Tensor) -> Tensor:
    return _a.Mish.apply(x)


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * tanh(softplus(x))."""
    _float(input, "mish")
    return _maybe_inplace(input, inplace, _mish)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """x where |x| > lambd, else 0."""
    _float(input, "hardshrink")
    return _a.Hardshrink.apply(input, float(lambd))


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """x - lambd above lambd, x + lambd below -lambd, else 0."""
    _float(input, "softshrink")
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return _a.Softshrink.apply(input, float(lambd))


def _threshold(x: Tensor, threshold: float, value: float) -> Tensor:
    return _a.Threshold.apply(x, threshold, value)


def threshold(input: Tensor, threshold: float, value: float,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """x where x > threshold, else value."""
    return _maybe_inplace(input, inplace, _threshold, threshold, value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:  # noqa: A002
    return threshold(input, threshold, value, inplace=True)


def _elu(x: Tensor, alpha: float, scale: float, input_scale: float, cls=_a.Elu) -> Tensor:
    return cls.apply(x, alpha, scale, input_scale)


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """scale * elu(x, alpha) with the self-normalising constants."""
    _float(input, "elu")
    return _maybe_inplace(input, inplace, _elu, _SELU_ALPHA, _SELU_SCALE, 1.0)


def selu_(input: Tensor) -> Tensor:  # noqa: A002
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    _float(input, "elu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _maybe_inplace(input, inplace, _elu, float(alpha), 1.0, 1.0 / alpha, _a.Celu)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    return celu(input, alpha, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    from .functional import elu

    return elu(input, alpha, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    return apply_inplace(input, _act.hardtanh, min_val, max_val)


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """a * sigmoid(b), a and b the two halves of x along ``dim``."""
    _float(input, "glu")
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _wrap_dim(dim, input.ndim)
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size "
                           f"{input.shape[d]}")
    return _a.Glu.apply(input, d)


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """x where x > 0, else weight * x, one weight per channel (dim 1) or one for all."""
    _float(input, "prelu")
    n = weight.numel()
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    if n != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if n != channels:
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter numbers ="
                f" {n} and channel size = {channels}.")
        if input.ndim >= 2:
            weight = weight.reshape((1, n) + (1,) * (input.ndim - 2))
    elif input.ndim == 0:
        weight = weight.reshape(())
    return _a.PreluKernel.apply(input, weight)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,  # noqa: A002
          training: bool = False, inplace: bool = False) -> Tensor:
    """x where x >= 0, else a * x with a drawn uniformly in [lower, upper] in training (the
    generator is retrograd's, see manual_seed), a = (lower + upper) / 2 otherwise."""
    _float(input, "rrelu")
    noise = _a.rrelu_noise(input, lower, upper, _Rng.gen if training else None)
    return _maybe_inplace(input, inplace, _a.RreluWithNoise.apply, noise)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,  # noqa: A002
           training: bool = False) -> Tensor:
    return rrelu(input, lower, upper, training, inplace=True)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """x - tanh(x)."""
    return input - input.tanh()


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
            dtype=None) -> Tensor:
    """softmax(-x) along ``dim``."""
    x = input.to(dtype) if dtype is not None else input
    return _act.softmax(-x, dim, _stacklevel + 1)


# ---- pad ----------------------------------------------------------------------------------------

_NONCONSTANT_HELP = (
    "Supported combinations for non-constant padding:\n"
    "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
    "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
    "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002
    """Pad the last len(pad) // 2 dims: ``pad`` = (left, right) of the last dim, then of the one
    before, ...; ``mode`` 'constant' (with ``value``, 0 by default), 'reflect', 'replicate' or
    'circular'. Negative pads crop."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' must be Tensor, not {type(input).__name__}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    ndim = input.ndim
    if len(pad) // 2 > ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(pad)} and input of dimension {ndim}")
    pairs = tuple((pad[i], pad[i + 1]) for i in range(0, len(pad), 2))
    if mode == "constant":
        shape = list(input.shape)
        for i, (lo, hi) in enumerate(pairs):
            size = shape[ndim - 1 - i] + lo + hi
            if size < 0:
                raise RuntimeError(
                    f"The input size {shape[ndim - 1 - i]}, plus negative padding {lo} and {hi} "
                    f"resulted in a negative output size, which is invalid. Check dimension "
                    f"{ndim - 1 - i} of your input.")
        return _pad.ConstantPadNd.apply(input, pairs, 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise AssertionError(f'Padding mode "{mode}" doesn\'t take in value argument')
    k = len(pairs)
    if k == 0 or k > 3 or ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {ndim}D input tensor.\n"
            + _NONCONSTANT_HELP)
    for i, (lo, hi) in enumerate(pairs):
        dim = ndim - 1 - i
        size = input.shape[dim]
        if mode == "reflect" and (lo >= size or hi >= size):
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input "
                f"dimension, but got: padding ({lo}, {hi}) at dimension {dim} of input "
                f"{list(input.shape)}")
        if mode == "replicate" and size == 0:
            raise RuntimeError(f"padding: input dimension {dim} is empty; replicate padding "
                               "needs at least one value to copy")
        if mode == "circular" and (lo > size or hi > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if size + lo + hi < 0:
            raise RuntimeError(f"input size {size} plus padding ({lo}, {hi}) at dimension {dim} "
                               "gives a negative output size")
    return _pad.gather_pad(input, mode, pairs)
