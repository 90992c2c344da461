"""More elementwise math: hyperbolic and inverse trigonometric functions, expm1/exp2/log2/log10,
atan2, hypot, logaddexp, xlogy, copysign, fmax/fmin, lerp, addcmul/addcdiv, logit, nan_to_num,
clamp_min/clamp_max, and the integer and bit functions (gcd, lcm, shifts). Every derivative is
written with retrograd ops, so each is differentiable again; each Jacobian is diagonal, so the
forward-mode rule is ``elementwise_jvp``."""

from __future__ import annotations

import math

import numpy as np

from .. import dtypes as _dt
from ..autograd.forward_ad import elementwise_jvp
from ..autograd.function import Function
from ..backend import quiet
from ..tensor import Tensor, _wrap
from ._registry import expose
from .compare import bitwise_and, bitwise_not, bitwise_or, bitwise_xor
from .elementwise import where
from .inplace import apply_inplace
from .promotion import binary_forward, broadcast_error, float_result, lift, promote
from .unary import Clamp, ClampTensor, _piecewise_constant, _sign_array, _unary, zeros_of

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)

# ---- functions of one tensor -------------------------------------------------------------------

Sinh = _unary("Sinh", "SinhBackward0", np.sinh, lambda g, x: g * x.cosh(), "x",
              "out = sinh(x);  dx = grad * cosh(x)")
Cosh = _unary("Cosh", "CoshBackward0", np.cosh, lambda g, x: g * x.sinh(), "x",
              "out = cosh(x);  dx = grad * sinh(x)")
Asinh = _unary("Asinh", "AsinhBackward0", np.arcsinh, lambda g, x: g * (x * x + 1).rsqrt(), "x",
               "out = asinh(x);  dx = grad / sqrt(x**2 + 1)")
Acosh = _unary("Acosh", "AcoshBackward0", np.arccosh,
               lambda g, x: g * ((x - 1).rsqrt() * (x + 1).rsqrt()), "x",
               "out = acosh(x);  dx = grad / (sqrt(x - 1) sqrt(x + 1))")
Atanh = _unary("Atanh", "AtanhBackward0", np.arctanh, lambda g, x: g / (1 - x * x), "x",
               "out = atanh(x);  dx = grad / (1 - x**2)")
Asin = _unary("Asin", "AsinBackward0", np.arcsin, lambda g, x: g * (1 - x * x).rsqrt(), "x",
              "out = asin(x);  dx = grad / sqrt(1 - x**2)")
Acos = _unary("Acos", "AcosBackward0", np.arccos, lambda g, x: -g * (1 - x * x).rsqrt(), "x",
              "out = acos(x);  dx = -grad / sqrt(1 - x**2)")
Atan = _unary("Atan", "AtanBackward0", np.arctan, lambda g, x: g / (x * x + 1), "x",
              "out = atan(x);  dx = grad / (1 + x**2)")
Expm1 = _unary("Expm1", "Expm1Backward0", np.expm1, lambda g, out: g * (out + 1), "out",
               "out = exp(x) - 1;  dx = grad * (out + 1)")
Exp2 = _unary("Exp2", "Exp2Backward0", np.exp2, lambda g, out: g * out * _LN2, "out",
              "out = 2**x;  dx = grad * out * log(2)")
Log2 = _unary("Log2", "Log2Backward0", np.log2, lambda g, x: g / (x * _LN2), "x",
              "out = log2(x);  dx = grad / (x log(2))")
Log10 = _unary("Log10", "Log10Backward0", np.log10, lambda g, x: g / (x * _LN10), "x",
               "out = log10(x);  dx = grad / (x log(10))")
Deg2Rad = _unary("Deg2Rad", "Deg2RadBackward0", np.deg2rad, lambda g, x: g * (math.pi / 180),
                 "x", "out = x pi / 180;  dx = grad pi / 180", can_warn=False)
Rad2Deg = _unary("Rad2Deg", "Rad2DegBackward0", np.rad2deg, lambda g, x: g * (180 / math.pi),
                 "x", "out = x 180 / pi;  dx = grad 180 / pi", can_warn=False)
Frac = _unary("Frac", "FracBackward0", lambda a: a - np.trunc(a), lambda g, x: g, "x",
              "out = x - trunc(x);  dx = grad")


def _sinc_array(a: np.ndarray) -> np.ndarray:
    return np.sinc(a).astype(a.dtype, copy=False)  # (NumPy's sinc is the normalized one)


def _sinc_grad(g: Tensor, x: Tensor) -> Tensor:
    # d/dx sin(pi x) / (pi x) = (cos(pi x) - sinc(x)) / x, and 0 at x = 0
    zero = x == 0
    safe = where(zero, 1.0, x)
    return where(zero, 0.0, g * ((safe * math.pi).cos() - sinc(safe)) / safe)


Sinc = _unary("Sinc", "SincBackward0", _sinc_array, _sinc_grad, "x",
              "out = sin(pi x) / (pi x) (1 at 0);  dx = grad (cos(pi x) - out) / x (0 at 0)")
Sgn = _piecewise_constant("Sgn", _sign_array, "out = sgn(x) (sign for real x);  dx = 0")


class Logit(Function):
    """out = log(z / (1 - z)), z = x clamped to [eps, 1 - eps] if eps is given;
    dx = grad / (x (1 - x)) (0 outside [eps, 1 - eps]; NaN outside [0, 1] without eps)"""

    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x, eps):
        ctx.save_for_backward(x)
        ctx.eps = eps
        a = float_result(x._data)
        if eps is not None:
            a = np.clip(a, eps, 1 - eps)
        return quiet(lambda z: np.log(z / (1 - z)), a)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        eps = ctx.eps
        g = grad / (x * (1 - x))
        if eps is None:
            return where((x < 0) | (x > 1), float("nan"), g), None
        return where((x < eps) | (x > 1 - eps), 0.0, g), None

    jvp = elementwise_jvp


class NanToNum(Function):
    """out = x with NaN, +inf, -inf replaced by numbers;  dx = grad where x is finite, else 0"""

    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        a = x._data
        if a.dtype.kind != "f":
            return a.copy()
        info = np.finfo(a.dtype)
        return np.nan_to_num(a, nan=nan, posinf=info.max if posinf is None else posinf,
                             neginf=info.min if neginf is None else neginf)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return where(x.isfinite(), grad, 0.0), None, None, None

    jvp = elementwise_jvp


class ClampMin(Clamp):
    """out = max(x, lo) (a number);  dx = grad where x >= lo, else 0"""

    node_name = "ClampMinBackward0"


class ClampMax(Clamp):
    """out = min(x, hi) (a number);  dx = grad where x <= hi, else 0"""

    node_name = "ClampMaxBackward0"


class ClampMinTensor(ClampTensor):
    """out = max(x, lo) (a tensor);  dx = grad where x >= lo,  dlo = grad where x < lo"""

    node_name = "ClampMinBackward1"


class ClampMaxTensor(ClampTensor):
    """out = min(x, hi) (a tensor);  dx = grad where x <= hi,  dhi = grad where x > hi"""

    node_name = "ClampMaxBackward1"


# ---- functions of two tensors ------------------------------------------------------------------


def _float_forward(np_fn):
    """binary_forward for functions with float values: integer operands give the default
    float dtype; NumPy's warnings (overflow, log of 0) are silenced as PyTorch's are."""
    return binary_forward(lambda a, b: quiet(np_fn, float_result(a), float_result(b)),
                          save_inputs=True)


class Atan2(Function):
    """out = atan2(x, y) (the angle of the point (y, x));
    dx = grad y / (x**2 + y**2),  dy = -grad x / (x**2 + y**2)"""

    saved_names = ("self", "other")
    forward = staticmethod(_float_forward(np.arctan2))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        r2 = x * x + y * y
        return (grad * y / r2 if need_x else None), (grad * -x / r2 if need_y else None)

    jvp = elementwise_jvp


_hypot_forward = _float_forward(np.hypot)


class Hypot(Function):
    """out = sqrt(x**2 + y**2);  dx = grad x / out,  dy = grad y / out"""

    saved_names = ("self", "other")

    @staticmethod
    def forward(ctx, x, y):
        return _hypot_forward(ctx, x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        out = hypot(x, y)
        return (grad * x / out if need_x else None), (grad * y / out if need_y else None)

    jvp = elementwise_jvp


class Logaddexp(Function):
    """out = log(exp(x) + exp(y));  dx = grad / (1 + exp(y - x)),  dy = grad / (1 + exp(x - y))
    (``Logaddexp2`` the same in base 2: ``exp`` names the power each uses)"""

    saved_names = ("self", "other")
    forward = staticmethod(_float_forward(np.logaddexp))
    exp = staticmethod(lambda t: t.exp())

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        exp = ctx._function.exp
        return ((grad / (exp(y - x) + 1) if need_x else None),
                (grad / (exp(x - y) + 1) if need_y else None))

    jvp = elementwise_jvp


class Logaddexp2(Logaddexp):
    """out = log2(2**x + 2**y);  dx = grad / (1 + 2**(y - x)),  dy = grad / (1 + 2**(x - y))"""

    forward = staticmethod(_float_forward(np.logaddexp2))
    exp = staticmethod(lambda t: t.exp2())


def _xlogy_array(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # NOTE: 0 where x == 0, even where log(y) is infinite, but NaN where y is NaN (PyTorch's)
    return np.where((a == 0) & ~np.isnan(b), 0, a * np.log(b)).astype(
        np.result_type(a, b), copy=False)


class Xlogy(Function):
    """out = x log(y) (0 where x = 0 and y is not NaN);
    dx = grad log(y) (0 where x = 0 and y <= 0),  dy = grad x / y"""

    saved_names = ("self", "other")
    forward = staticmethod(_float_forward(_xlogy_array))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        gx = gy = None
        if need_x:
            gx = where((x == 0) & (y <= 0), 0.0, grad * y.log())
        if need_y:
            gy = grad * x / y
        return gx, gy

    jvp = elementwise_jvp


class Copysign(Function):
    """out = |x| with the sign of y;  dx = grad out / x (0 where x = 0),  dy = 0"""

    @staticmethod
    def forward(ctx, x, y):
        a, b = promote(x, y)
        try:
            out = np.copysign(float_result(a), b)
        except ValueError:
            raise broadcast_error(a.shape, b.shape) from None
        a = float_result(a)
        # the ratio out / x (+-1, 0 where x = 0) is piecewise constant: saved as a constant
        ctx.save_for_backward(_wrap(quiet(np.where, a == 0, 0, out / np.where(a == 0, 1, a))))
        return out

    @staticmethod
    def backward(ctx, grad):
        (ratio,) = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (grad * ratio if need_x else None), (zeros_of(grad) if need_y else None)

    jvp = elementwise_jvp


class Fmax(Function):
    """out = max(x, y), ignoring NaN;  dx = grad where x >= y or y is NaN (ties go to x),
    dy = grad elsewhere (``Fmin`` the same with <=: ``keeps_x`` names the comparison)"""

    saved_names = ("self", "other")
    forward = staticmethod(binary_forward(np.fmax, save_inputs=True))
    keeps_x = staticmethod(lambda x, y: x >= y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        pick_x = ctx._function.keeps_x(x, y) | y.isnan()
        return where(pick_x, grad, 0.0), where(pick_x, 0.0, grad)

    jvp = elementwise_jvp


class Fmin(Fmax):
    """out = min(x, y), ignoring NaN;  dx = grad where x <= y or y is NaN (ties go to x),
    dy = grad elsewhere"""

    forward = staticmethod(binary_forward(np.fmin, save_inputs=True))
    keeps_x = staticmethod(lambda x, y: x <= y)


# ---- functions of three tensors ----------------------------------------------------------------


def _common(*tensors: Tensor) -> list:
    """The arrays of ``tensors`` in their common dtype (PyTorch's promotion, pairwise)."""
    dt, scalar = None, True
    for t in tensors:
        a = t._data
        here = _dt.FROM_NUMPY[a.dtype]
        if dt is None:
            dt, scalar = here, a.ndim == 0
        else:
            dt = _dt.result_type(dt, scalar, here, a.ndim == 0)
            scalar = scalar and a.ndim == 0
    return [t._data.astype(dt.np, copy=False) for t in tensors]


def _broadcast_check(*arrays: np.ndarray) -> None:
    try:
        np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        shapes = [a.shape for a in arrays]
        raise broadcast_error(shapes[0], shapes[-1]) from None


def _lerp_array(a: np.ndarray, b: np.ndarray, w) -> np.ndarray:
    # NOTE: PyTorch's two-sided formula: from the nearer end, so lerp(a, b, 1) is exactly b
    return np.where(np.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w)).astype(
        a.dtype, copy=False)


class Lerp(Function):
    """out = x + w (y - x) (w a number);  dx = grad (1 - w),  dy = grad w"""

    @staticmethod
    def forward(ctx, x, y, w):
        a, b = _common(x, y)
        _broadcast_check(a, b)
        ctx.w = w
        return _lerp_array(a, b, np.asarray(w, dtype=a.dtype))

    @staticmethod
    def backward(ctx, grad):
        w = ctx.w
        need_x, need_y = ctx.needs_input_grad[:2]
        return (grad * (1 - w) if need_x else None), (grad * w if need_y else None), None

    jvp = elementwise_jvp


class LerpTensor(Function):
    """out = x + w (y - x) (w a tensor);  dx = grad (1 - w),  dy = grad w,  dw = grad (y - x)"""

    node_name = "LerpBackward1"
    saved_names = ("self", "end", "weight")

    @staticmethod
    def forward(ctx, x, y, w):
        ctx.save_for_backward(x, y, w)
        a, b, c = _common(x, y, w)
        _broadcast_check(a, b, c)
        return _lerp_array(a, b, c)

    @staticmethod
    def backward(ctx, grad):
        x, y, w = ctx.saved_tensors
        need_x, need_y, need_w = ctx.needs_input_grad
        return ((grad * (1 - w) if need_x else None), (grad * w if need_y else None),
                (grad * (y - x) if need_w else None))

    jvp = elementwise_jvp


class Addcmul(Function):
    """out = c + value t1 t2;  dc = grad,  dt1 = grad value t2,  dt2 = grad value t1"""

    saved_names = ("tensor1", "tensor2")

    @staticmethod
    def forward(ctx, c, t1, t2, value):
        ctx.save_for_backward(t1, t2)
        ctx.value = value
        a, b, d = _common(c, t1, t2)
        _broadcast_check(a, b, d)
        return a + np.asarray(value, dtype=a.dtype) * (b * d)

    @staticmethod
    def backward(ctx, grad):
        t1, t2 = ctx.saved_tensors
        value = ctx.value
        need_c, need_1, need_2 = ctx.needs_input_grad[:3]
        return ((grad if need_c else None), (grad * t2 * value if need_1 else None),
                (grad * t1 * value if need_2 else None), None)

    jvp = elementwise_jvp


class Addcdiv(Function):
    """out = c + value t1 / t2;  dc = grad,  dt1 = grad value / t2,
    dt2 = -grad value t1 / t2**2"""

    saved_names = ("tensor1", "tensor2")

    @staticmethod
    def forward(ctx, c, t1, t2, value):
        ctx.save_for_backward(t1, t2)
        ctx.value = value
        a, b, d = _common(c, t1, t2)
        _broadcast_check(a, b, d)
        return a + np.asarray(value, dtype=a.dtype) * quiet(np.true_divide, b, d)

    @staticmethod
    def backward(ctx, grad):
        t1, t2 = ctx.saved_tensors
        value = ctx.value
        need_c, need_1, need_2 = ctx.needs_input_grad[:3]
        return ((grad if need_c else None), (grad * value / t2 if need_1 else None),
                (-grad * value * t1 / (t2 * t2) if need_2 else None), None)

    jvp = elementwise_jvp


# ---- the functions users call -------------------------------------------------------------------


def _one(cls):
    def fn(x: Tensor) -> Tensor:
        return cls.apply(x)

    fn.__name__ = cls.__name__.lower()
    fn.__doc__ = cls.__doc__
    return fn


sinh, cosh, asinh, acosh, atanh = map(_one, (Sinh, Cosh, Asinh, Acosh, Atanh))
asin, acos, atan = map(_one, (Asin, Acos, Atan))
expm1, exp2, log2, log10 = map(_one, (Expm1, Exp2, Log2, Log10))
deg2rad, rad2deg, sinc = map(_one, (Deg2Rad, Rad2Deg, Sinc))


def frac(x: Tensor) -> Tensor:
    """x - trunc(x), the fractional part with x's sign."""
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"\"frac_cpu\" not implemented for '{str(x.dtype)[6:].title()}'; "
                           "frac needs a floating-point tensor.")
    return Frac.apply(x)


def sgn(x: Tensor) -> Tensor:
    """The sign of x (for real tensors the same as ``sign``)."""
    return Sgn.apply(x)


def fix(x: Tensor) -> Tensor:
    """Alias of ``trunc``."""
    return x.trunc()


def positive(x: Tensor) -> Tensor:
    """x itself (bool tensors are refused, as in PyTorch)."""
    if x._data.dtype.kind == "b":
        raise TypeError("The `+` operator, on a bool tensor is not supported.")
    return x


def logit(x: Tensor, eps: float | None = None) -> Tensor:
    """log(x / (1 - x)), with x first clamped to [eps, 1 - eps] when ``eps`` is given."""
    return Logit.apply(x, None if eps is None else float(eps))


def nan_to_num(x: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """x with NaN replaced by ``nan`` and infinities by ``posinf``/``neginf`` (by default the
    largest and smallest finite numbers of x's dtype)."""
    return NanToNum.apply(x, nan, posinf, neginf)


def nan_to_num_(x: Tensor, nan: float = 0.0, posinf: float | None = None,
                neginf: float | None = None) -> Tensor:
    return apply_inplace(x, lambda s: nan_to_num(s, nan, posinf, neginf))


def clamp_min(x: Tensor, min) -> Tensor:  # noqa: A002 - PyTorch's name
    """max(x, min), min a number or a tensor."""
    if isinstance(min, Tensor):
        return ClampMinTensor.apply(x, lift(min, x), None)
    return ClampMin.apply(x, min, None)


def clamp_max(x: Tensor, max) -> Tensor:  # noqa: A002 - PyTorch's name
    """min(x, max), max a number or a tensor."""
    if isinstance(max, Tensor):
        return ClampMaxTensor.apply(x, None, lift(max, x))
    return ClampMax.apply(x, None, max)


def _binary(cls, name: str):
    def fn(x: Tensor, other) -> Tensor:
        if not isinstance(x, Tensor):
            x = lift(x, other)
        return cls.apply(x, lift(other, x))

    fn.__name__ = name
    fn.__doc__ = cls.__doc__
    return fn


atan2 = _binary(Atan2, "atan2")
hypot = _binary(Hypot, "hypot")
logaddexp = _binary(Logaddexp, "logaddexp")
logaddexp2 = _binary(Logaddexp2, "logaddexp2")
xlogy = _binary(Xlogy, "xlogy")
copysign = _binary(Copysign, "copysign")
fmax = _binary(Fmax, "fmax")
fmin = _binary(Fmin, "fmin")


def lerp(x: Tensor, end: Tensor, weight) -> Tensor:
    """x + weight (end - x); weight a number or a tensor."""
    if isinstance(weight, Tensor):
        return LerpTensor.apply(x, end, weight)
    return Lerp.apply(x, end, weight)


def addcmul(x: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """x + value * tensor1 * tensor2."""
    return Addcmul.apply(x, tensor1, tensor2, value)


def addcdiv(x: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """x + value * tensor1 / tensor2."""
    if tensor1._data.dtype.kind in "biu" and tensor2._data.dtype.kind in "biu":
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future release "
            "addcdiv will perform a true division of tensor1 and tensor2. Convert tensor1 or "
            "tensor2 to a floating-point dtype first.")
    return Addcdiv.apply(x, tensor1, tensor2, value)


def lerp_(x: Tensor, end: Tensor, weight) -> Tensor:
    return apply_inplace(x, lambda s, e: lerp(s, e, weight), end)


def addcmul_(x: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    return apply_inplace(x, lambda s, a, b: addcmul(s, a, b, value=value), tensor1, tensor2)


def addcdiv_(x: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    return apply_inplace(x, lambda s, a, b: addcdiv(s, a, b, value=value), tensor1, tensor2)


def float_power(x, exponent) -> Tensor:
    """x ** exponent computed in float64."""
    if isinstance(x, Tensor):
        base = x.double()
        return base.pow(exponent.double() if isinstance(exponent, Tensor) else exponent)
    return exponent.double().__rpow__(x)


# ---- no gradient: signs, neighbours, integer and bit functions ---------------------------------


def _no_grad_binary(np_fn, name: str, kinds: str | None = None):
    forward = binary_forward(np_fn)

    def fn(x, other) -> Tensor:
        if not isinstance(x, Tensor):
            x = lift(x, other)
        y = lift(other, x)
        if kinds is not None:
            for t in (x, y):
                if t._data.dtype.kind not in kinds:
                    raise RuntimeError(f"\"{name}\" not implemented for "
                                       f"'{str(t.dtype)[6:].title()}'; {name} needs "
                                       "integer tensors.")
        return _wrap(forward(None, x, y))

    fn.__name__ = name
    return fn


def signbit(x: Tensor) -> Tensor:
    """True where x's sign bit is set (negative numbers and -0.0)."""
    return _wrap(np.signbit(x._data))


nextafter = _no_grad_binary(np.nextafter, "nextafter")
gcd = _no_grad_binary(np.gcd, "gcd", kinds="iub")
lcm = _no_grad_binary(np.lcm, "lcm", kinds="iub")
heaviside = _no_grad_binary(np.heaviside, "heaviside")
bitwise_left_shift = _no_grad_binary(np.left_shift, "bitwise_left_shift", kinds="iu")
bitwise_right_shift = _no_grad_binary(np.right_shift, "bitwise_right_shift", kinds="iu")


def _reflected(fn):
    return lambda x, other: fn(lift(other, x), x)


expose({
    "sinh": sinh, "cosh": cosh, "asinh": asinh, "acosh": acosh, "atanh": atanh,
    "arcsinh": asinh, "arccosh": acosh, "arctanh": atanh, "asin": asin, "acos": acos,
    "atan": atan, "arcsin": asin, "arccos": acos, "arctan": atan, "expm1": expm1, "exp2": exp2,
    "log2": log2, "log10": log10, "deg2rad": deg2rad, "rad2deg": rad2deg, "sinc": sinc,
    "frac": frac, "sgn": sgn, "fix": fix, "positive": positive, "logit": logit,
    "nan_to_num": nan_to_num, "nan_to_num_": nan_to_num_, "clamp_min": clamp_min,
    "clamp_max": clamp_max, "atan2": atan2, "arctan2": atan2, "hypot": hypot,
    "logaddexp": logaddexp, "logaddexp2": logaddexp2, "xlogy": xlogy, "copysign": copysign,
    "fmax": fmax, "fmin": fmin, "lerp": lerp, "addcmul": addcmul, "addcdiv": addcdiv,
    "float_power": float_power, "signbit": signbit, "nextafter": nextafter, "gcd": gcd,
    "lcm": lcm, "heaviside": heaviside, "bitwise_left_shift": bitwise_left_shift,
    "bitwise_right_shift": bitwise_right_shift, "bitwise_and": bitwise_and,
    "bitwise_or": bitwise_or, "bitwise_xor": bitwise_xor, "bitwise_not": bitwise_not,
})
expose({"lerp_": lerp_, "addcmul_": addcmul_, "addcdiv_": addcdiv_}, function=False)
expose({"__lshift__": bitwise_left_shift, "__rshift__": bitwise_right_shift,
        "__rlshift__": _reflected(bitwise_left_shift),
        "__rrshift__": _reflected(bitwise_right_shift)}, function=False)
