"""Random draws: ``normal`` (all its overloads), ``poisson``, the in-place fills
(``bernoulli_``, ``exponential_``, ``geometric_``, ``cauchy_``, ``log_normal_``, ``random_``) and
``empty_strided``.

The numbers come from retrograd's generator (seeded by ``retrograd.manual_seed``), so they are
not PyTorch's; shapes, dtypes and ranges are. A draw's gradient is zero with respect to its
parameters, as in PyTorch (whose derivatives for these are zeros too).
"""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..autograd.function import Function
from ..creation import _numpy_generator
from ..tensor import Tensor, _wrap
from ._registry import expose
from .inplace import apply_inplace
from .unary import zeros_of


class _Draw(Function):
    """out = values drawn beforehand (shaped like the inputs' broadcast);  d(inputs) = 0"""

    @staticmethod
    def forward(ctx, *args):
        ctx.out_shape = np.shape(args[-1])
        return args[-1]

    @staticmethod
    def backward(ctx, grad):
        return tuple(zeros_of(grad) if need else None for need in ctx.needs_input_grad)

    @staticmethod
    def jvp(ctx, *tangents):  # the draws do not move with the parameters
        t = next(t for t in tangents if t is not None)
        return _wrap(np.zeros(ctx.out_shape, dtype=t._data.dtype))


class Normal(_Draw):
    """out ~ N(mean, std^2) for a tensor mean and a number std;  dmean = 0"""

    node_name = "NormalBackward1"


class NormalStd(_Draw):
    """out ~ N(mean, std^2) for a number mean and a tensor std;  dstd = 0"""

    node_name = "NormalBackward2"


class NormalBoth(_Draw):
    """out ~ N(mean, std^2) for tensors mean and std;  dmean = dstd = 0"""

    node_name = "NormalBackward3"


class Poisson(_Draw):
    """out ~ Poisson(rate);  drate = 0"""


class _Fill(_Draw):
    """x filled in place with drawn values (the op recorded by apply_inplace);  dx = 0"""


class Exponential(_Fill):
    """out = x filled with draws from Exp(lambd);  dx = 0"""


class Geometric(_Fill):
    """out = x filled with draws from Geometric(p);  dx = 0"""


class Cauchy(_Fill):
    """out = x filled with Cauchy draws;  dx = 0"""


class LogNormal(_Fill):
    """out = x filled with exp of normal draws;  dx = 0"""


class RandomRange(_Fill):
    """out = x filled with integers from [from, to);  dx = 0"""

    node_name = "RandomBackward0"


class RandomTo(_Fill):
    """out = x filled with integers from [0, to);  dx = 0"""

    node_name = "RandomBackward1"


class RandomAll(_Fill):
    """out = x filled with integers the dtype holds exactly;  dx = 0"""

    node_name = "RandomBackward2"


class BernoulliTensor(_Fill):
    """out = x filled with 1 with probability p[i] (a tensor);  dx = 0"""

    node_name = "BernoulliBackward1"


class BernoulliNumber(_Fill):
    """out = x filled with 1 with probability p (a number);  dx = 0"""

    node_name = "BernoulliBackward2"


def _check_std(std) -> None:
    s = std._data if isinstance(std, Tensor) else np.asarray(std)
    if s.size and (s < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0" if isinstance(std, Tensor)
                           else f"normal expects std >= 0.0, but found std {float(s)}")


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, pin_memory=False, requires_grad: bool = False) -> Tensor:
    """Draws from N(mean, std^2): ``mean`` and ``std`` tensors (broadcast) or numbers; with two
    numbers, ``size`` gives the shape."""
    rng = _numpy_generator(generator)
    _check_std(std)
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: with a "
                            "number mean and std, give the size of the result")
        from .shape import int_args

        np_dtype = (_dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)).np
        vals = rng.normal(float(mean), float(std), int_args((size,))).astype(np_dtype)
        t = _wrap(vals)
        return t.requires_grad_() if requires_grad else t
    m = mean._data if mt else np.asarray(float(mean))
    s = std._data if st else np.asarray(float(std))
    try:
        shape = np.broadcast_shapes(m.shape, s.shape)
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({list(m.shape)}) must match the size of "
                           f"tensor b ({list(s.shape)}); normal broadcasts mean with std."
                           ) from None
    ref = mean if mt else std
    if ref._data.dtype.kind != "f":
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for "
                                  f"'{ref.dtype}'")
    vals = (m + s * rng.standard_normal(shape)).astype(ref._data.dtype)
    if mt and st:
        return NormalBoth.apply(mean, std, vals)
    return Normal.apply(mean, vals) if mt else NormalStd.apply(std, vals)


def poisson(x: Tensor, generator=None) -> Tensor:
    """A draw from Poisson(rate) for each rate in x (x's dtype; zero gradient)."""
    a = x._data
    if a.size and (a < 0).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    vals = _numpy_generator(generator).poisson(a).astype(a.dtype)
    return Poisson.apply(x, vals)


def _draw_into(x: Tensor, cls, values: np.ndarray) -> Tensor:
    vals = values.astype(x._data.dtype)
    return apply_inplace(x, lambda s: cls.apply(s, vals))


def _float_only(x: Tensor, fn: str) -> None:
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"\"{fn}\" not implemented for '{x.dtype}'; convert the "
                                  "tensor with .float() first.")


def exponential_(x: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    """Fill x with draws from Exp(lambd) (density lambd * exp(-lambd * v)); returns x."""
    _float_only(x, "exponential_cpu")
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    vals = _numpy_generator(generator).exponential(1.0 / lambd, x._data.shape)
    return _draw_into(x, Exponential, vals)


def geometric_(x: Tensor, p: float, *, generator=None) -> Tensor:
    """Fill x with the number of Bernoulli(p) trials up to the first success; returns x."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    vals = _numpy_generator(generator).geometric(p, x._data.shape)
    return _draw_into(x, Geometric, vals)


def cauchy_(x: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator=None) -> Tensor:
    """Fill x with draws from the Cauchy distribution; returns x."""
    _float_only(x, "cauchy_cpu")
    if sigma <= 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    vals = median + sigma * _numpy_generator(generator).standard_cauchy(x._data.shape)
    return _draw_into(x, Cauchy, vals)


def log_normal_(x: Tensor, mean: float = 1.0, std: float = 2.0, *, generator=None) -> Tensor:
    """Fill x with exp of draws from N(mean, std^2); returns x."""
    _float_only(x, "log_normal_cpu")
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    vals = _numpy_generator(generator).lognormal(mean, std, x._data.shape)
    return _draw_into(x, LogNormal, vals)


def _random_top(dt: np.dtype) -> int:
    """The top of random_()'s default range: every integer the dtype holds exactly."""
    if dt.kind == "f":
        return 2 ** (np.finfo(dt).nmant + 1)
    if dt == np.bool_:
        return 1
    return int(np.iinfo(dt).max)


def random_(x: Tensor, *args, generator=None, **kwargs) -> Tensor:
    """Fill x with integers drawn uniformly from [from, to - 1] (``random_(to)``: from 0;
    ``random_()``: from 0 to the largest integer the dtype holds exactly); returns x."""
    args = args + tuple(kwargs[k] for k in ("from", "to") if k in kwargs)
    rng = _numpy_generator(generator)
    dt = x._data.dtype
    if not args:
        lo, hi, cls = 0, _random_top(dt) + 1, RandomAll
    elif len(args) == 1 or args[1] is None:
        lo, hi, cls = (0, int(args[0]), RandomTo) if len(args) == 1 else \
            (int(args[0]), _random_top(dt) + 1, RandomRange)
    else:
        lo, hi, cls = int(args[0]), int(args[1]), RandomRange
    if lo >= hi:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= "
                           f"to={hi}")
    vals = rng.integers(lo, hi, x._data.shape, dtype=np.int64, endpoint=False)
    return _draw_into(x, cls, vals)


def bernoulli_(x: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fill x with 1 with probability p (a number, or a tensor broadcast to x), else 0."""
    rng = _numpy_generator(generator)
    q = p._data if isinstance(p, Tensor) else np.asarray(float(p))
    if q.size and not ((q >= 0) & (q <= 1)).all():
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    vals = rng.random(x._data.shape) < q
    return _draw_into(x, (BernoulliTensor if isinstance(p, Tensor) else BernoulliNumber), vals)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None,
                  requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """An (here zero-filled) tensor with the given sizes and strides (in elements)."""
    from .shape_more import _storage_view

    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: got {len(size)} sizes and "
                           f"{len(stride)} strides")
    np_dtype = (_dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)).np
    need = 1 + sum((s - 1) * st for s, st in zip(size, stride)) if all(size) else 0
    t = _wrap(_storage_view(np.zeros(max(need, 1), np_dtype), size, stride, 0))
    return t.requires_grad_() if requires_grad else t


def new_empty_strided(x: Tensor, size, stride, *, dtype=None, layout=None, device=None,
                      requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """``empty_strided`` with x's dtype unless ``dtype`` is given."""
    return empty_strided(size, stride, dtype=x.dtype if dtype is None else dtype,
                         requires_grad=requires_grad)


expose({"normal": normal, "poisson": poisson, "empty_strided": empty_strided}, method=False)
expose({
    "exponential_": exponential_, "geometric_": geometric_, "cauchy_": cauchy_,
    "log_normal_": log_normal_, "random_": random_, "bernoulli_": bernoulli_,
    "new_empty_strided": new_empty_strided,
}, function=False)
