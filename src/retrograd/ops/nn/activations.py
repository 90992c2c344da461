"""The pointwise activations only ``nn`` uses (hardswish, mish, the shrinks, glu, prelu, rrelu,
celu/selu, threshold): forward on arrays, derivative written with tensor ops beside it.

Derivatives at the kinks follow PyTorch's kernels: each Function's docstring says which side a
boundary point takes. The backward of each is written with ``where`` on masks of the saved
input, so higher derivatives come from the same formulas.
"""

from __future__ import annotations

import numpy as np

from ...autograd.forward_ad import elementwise_jvp
from ...autograd.function import Function
from ...backend import quiet
from ...tensor import Tensor, _wrap
from ..elementwise import where
from ..join import cat
from ..unary import sigmoid

__all__ = ["Elu", "Glu", "Hardshrink", "Hardsigmoid", "Hardswish", "Mish", "PreluKernel",
           "RreluWithNoise", "Softshrink", "Threshold"]


def _c(a: np.ndarray, value: float):
    """A Python number as a 0-d array of a's dtype (so float32 stays float32)."""
    return np.asarray(value, dtype=a.dtype)


class Hardswish(Function):
    """out = x * clamp(x + 3, 0, 6) / 6;
    dx = 0 for x <= -3, grad * (x / 3 + 1/2) for -3 < x < 3, grad for x >= 3"""

    @staticmethod
    def forward(ctx, x):
        a = x._data
        ctx.save_for_backward(x)
        return a * np.clip(a + _c(a, 3), _c(a, 0), _c(a, 6)) / _c(a, 6)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return where(x <= -3, 0.0, where(x < 3, grad * (x / 3 + 0.5), grad))

    jvp = elementwise_jvp


_ONE_SIXTH_F32 = float(np.float32(1.0) / np.float32(6.0))


class Hardsigmoid(Function):
    """out = clamp(x + 3, 0, 6) / 6;  dx = grad / 6 for -3 < x < 3, else 0"""

    @staticmethod
    def forward(ctx, x):
        a = x._data
        ctx.save_for_backward(x)
        return np.clip(a + _c(a, 3), _c(a, 0), _c(a, 6)) / _c(a, 6)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # NOTE: PyTorch's kernel multiplies by 1/6 rounded to float32, in every dtype
        return where((x > -3) & (x < 3), grad * _ONE_SIXTH_F32, 0.0)

    jvp = elementwise_jvp


class Mish(Function):
    """out = x * tanh(softplus(x));  dx = grad * (t + x * sigmoid(x) * (1 - t^2)), t = tanh(sp)"""

    @staticmethod
    def forward(ctx, x):
        a = x._data
        ctx.save_for_backward(x)
        return a * np.tanh(np.logaddexp(_c(a, 0), a))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        t = Softplus1.apply(x).tanh()
        return grad * (t + x * sigmoid(x) * (1 - t * t))

    jvp = elementwise_jvp


class Softplus1(Function):
    """out = log(1 + exp(x)) (mish's inner function);  dx = grad * sigmoid(x)"""

    node_name = "SoftplusBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(_c(x._data, 0), x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * sigmoid(x)

    jvp = elementwise_jvp


class _Shrink(Function):
    """Base of hardshrink and softshrink: the derivative is grad outside [-lambd, lambd], else 0
    (the boundary points themselves give 0, as in PyTorch)."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        lambd = ctx.lambd
        return where((x >= -lambd) & (x <= lambd), 0.0, grad), None

    jvp = elementwise_jvp


class Hardshrink(_Shrink):
    """out = x where |x| > lambd, else 0;  dx = grad where |x| > lambd, else 0"""

    @staticmethod
    def forward(ctx, x, lambd):
        a = x._data
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        return np.where((a >= -lambd) & (a <= lambd), _c(a, 0), a)


class Softshrink(_Shrink):
    """out = x - lambd for x > lambd, x + lambd for x < -lambd, else 0;
    dx = grad where |x| > lambd, else 0"""

    @staticmethod
    def forward(ctx, x, lambd):
        a = x._data
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        lam = _c(a, lambd)
        return np.where(a > lam, a - lam, np.where(a < -lam, a + lam, _c(a, 0)))


class Threshold(Function):
    """out = x where x > threshold, else value;  dx = grad where x > threshold, else 0"""

    @staticmethod
    def forward(ctx, x, threshold, value):
        a = x._data
        ctx.save_for_backward(x)
        ctx.threshold = threshold
        return np.where(a > threshold, a, np.asarray(value).astype(a.dtype))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return where(x > ctx.threshold, grad, 0.0), None, None

    jvp = elementwise_jvp


class Elu(Function):
    """out = scale * x for x > 0, else alpha * scale * (exp(input_scale * x) - 1) (elu, celu and
    selu); dx = grad * scale for x > 0, else grad * alpha * scale * input_scale * exp(is * x)"""

    node_name = "EluBackward0"

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        a = x._data
        ctx.save_for_backward(x)
        ctx.coefs = (alpha, scale, input_scale)
        neg = quiet(np.expm1, np.minimum(a, _c(a, 0)) * _c(a, input_scale))
        neg *= _c(a, alpha * scale)
        return np.where(a > 0, a * _c(a, scale), neg)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.coefs
        neg = grad * ((x * input_scale).exp() * (alpha * scale * input_scale))
        return where(x > 0, grad * scale, neg), None, None, None

    jvp = elementwise_jvp


class Celu(Elu):
    """celu: Elu with scale 1 and input_scale 1 / alpha (PyTorch names its node apart)"""

    node_name = "CeluBackward0"


class Glu(Function):
    """out = a * sigmoid(b) with (a, b) the halves of x along ``dim``;
    da = grad * sigmoid(b),  db = grad * a * sigmoid(b) * (1 - sigmoid(b))"""

    @staticmethod
    def forward(ctx, x, dim):
        a = x._data
        ctx.save_for_backward(x)
        ctx.dim = dim
        first, second = np.split(a, 2, axis=dim)
        return first * quiet(lambda s: 1 / (1 + np.exp(-s)), second)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        first, second = x.chunk(2, ctx.dim)
        s = sigmoid(second)
        return cat([grad * s, grad * first * s * (1 - s)], ctx.dim), None

    @staticmethod
    def jvp(ctx, t, _):
        (x,) = ctx.saved_tensors
        first, second = x.chunk(2, ctx.dim)
        t_first, t_second = t.chunk(2, ctx.dim)
        s = sigmoid(second)
        return t_first * s + first * s * (1 - s) * t_second


class PreluKernel(Function):
    """out = x where x > 0, else w * x (w broadcast to x);
    dx = grad where x > 0, else grad * w;  dw = grad * x where x <= 0, else 0"""

    @staticmethod
    def forward(ctx, x, w):
        a = x._data
        ctx.save_for_backward(x, w)
        return np.where(a > 0, a, a * w._data)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad
        pos = x > 0
        return (where(pos, grad, grad * w) if need_x else None,
                where(pos, 0.0, grad * x) if need_w else None)

    @staticmethod
    def jvp(ctx, t_x, t_w):
        x, w = ctx.saved_tensors
        pos = x > 0
        out = where(pos, t_x, t_x * w) if t_x is not None else None
        if t_w is not None:
            term = where(pos, 0.0, t_w * x)
            out = term if out is None else out + term
        return out


class RreluWithNoise(Function):
    """out = x * noise (noise drawn in [lower, upper] where x <= 0, 1 elsewhere);
    dx = grad * noise"""

    ctx_arrays = ("_noise",)

    @staticmethod
    def forward(ctx, x, noise):
        ctx._noise = noise
        return x._data * noise

    @staticmethod
    def backward(ctx, grad):
        return grad * _wrap(ctx._noise), None

    @staticmethod
    def jvp(ctx, t_x, _):
        return t_x * _wrap(ctx._noise)


def rrelu_noise(x: Tensor, lower: float, upper: float, gen) -> np.ndarray:
    """The multipliers of rrelu: where x <= 0, uniform in [lower, upper] in training (``gen``
    given), their mean (lower + upper) / 2 in eval; 1 elsewhere."""
    a = x._data
    if gen is None:
        draw = _c(a, (lower + upper) / 2)
    else:
        draw = gen.uniform(lower, upper, a.shape).astype(a.dtype)
    return np.where(a <= 0, draw, _c(a, 1))
