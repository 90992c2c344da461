"""The ``out=`` argument: ``torch.add(x, y, out=z)`` computes the result and writes it into z.

One helper serves every op that takes ``out=``: the op's function calls
``write_out(fn, out, *args)`` first thing when ``out`` is given. As in PyTorch, such a call
records no history, so it refuses to run when a gradient would be needed (grad mode on and an
argument, or ``out``, requiring grad); the result's dtype must be castable to ``out``'s (no float
into an integer tensor); and an ``out`` of another shape is resized (with PyTorch's warning
unless it was empty). The write bumps ``out``'s version, as any in-place change does.
"""

from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np

from .. import grad_mode
from ..tensor import Tensor

_state = grad_mode.state
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def write_out(fn, out, *args, **kwargs):
    """``fn(*args, **kwargs)`` written into ``out``: a tensor, or a tuple of tensors for an op
    that returns several (``max(x, dim)``, ``sort``, ``topk``); returns ``out`` (a tuple as
    the op's own result type, e.g. its namedtuple)."""
    name = fn.__name__
    several = isinstance(out, (tuple, list))
    outs = tuple(out) if several else (out,)
    for o in outs:
        if not isinstance(o, Tensor):
            what = "tuple of Tensors" if several else "Tensor"
            raise TypeError(f"{name}(): argument 'out' must be {what}, not "
                            f"{type(o).__name__ if several else type(out).__name__}")
    if _state.enabled and (any(o._requires_grad for o in outs) or _any_requires_grad(args)):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad. Call it under "
            "torch.no_grad(), or drop out= and use the returned tensor.")
    prev = _state.enabled
    _state.enabled = False
    try:
        result = fn(*args, **kwargs)
    finally:
        _state.enabled = prev
    results = tuple(result) if isinstance(result, tuple) else (result,)
    if several != isinstance(result, tuple) or len(results) != len(outs):
        want = f"a tuple of {len(results)} Tensors" if isinstance(result, tuple) else "a Tensor"
        raise TypeError(f"{name}(): argument 'out' must be {want} for this call, got "
                        f"{len(outs) if several else 'one'}")
    for o, r in zip(outs, results):
        _write(o, r._data)
    if not several:
        return out
    return tuple(outs) if type(result) is tuple else _out_type(type(result))(*outs)


_OUT_TYPES: dict = {}


def _out_type(cls: type) -> type:
    """``return_types.max`` -> ``return_types.max_out``: PyTorch names an out= result so."""
    found = _OUT_TYPES.get(cls)
    if found is None:
        found = _OUT_TYPES[cls] = type(cls.__name__ + "_out", (cls,), {"__slots__": ()})
        found.__module__ = cls.__module__
        found.__qualname__ = cls.__qualname__ + "_out"
    return found


def _any_requires_grad(args) -> bool:
    for a in args:
        if isinstance(a, Tensor):
            if a._requires_grad:
                return True
        elif isinstance(a, (list, tuple)) and _any_requires_grad(a):  # cat's list of tensors
            return True
    return False


def _write(out: Tensor, result: np.ndarray) -> None:
    dst = out._data
    if _CATEGORY[result.dtype.kind] > _CATEGORY[dst.dtype.kind]:
        raise RuntimeError(
            f"result type {_type_name(result)} can't be cast to the desired output type "
            f"{_type_name(dst)}; pass an out tensor of a floating-point dtype.")
    if result.shape != dst.shape:
        if dst.size:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(dst.shape)}, which does not match the required output shape "
                f"{list(result.shape)}. This behavior is deprecated, and in a future PyTorch "
                "release outputs will not be resized unless they have zero elements. You can "
                "explicitly reuse an out tensor t by resizing it, inplace, to zero elements "
                "with t.resize_(0).", UserWarning, stacklevel=4)
        out._data = np.array(result, dtype=dst.dtype, copy=True)
    else:
        np.copyto(dst, result, casting="unsafe")
    out._bump_version()


# Functions (``retrograd.<name>``, not the methods) that take ``out=`` through the wrapper
# below, as PyTorch's do; add, sub, mul, div and matmul take it in their own signatures.
OUT_FUNCTIONS = (
    "cat concat concatenate stack hstack vstack dstack sum mean prod nansum exp exp2 log log2 "
    "log10 log1p expm1 sqrt rsqrt abs neg negative sin cos tan asin acos atan sinh cosh tanh "
    "asinh acosh atanh sigmoid erf erfc erfinv clamp clip where mm bmm addmm addmv addbmm "
    "baddbmm mv dot outer max min amax amin argmax argmin sort topk kthvalue mode cummax "
    "cummin cumsum cumprod logsumexp std var pow float_power remainder fmod floor ceil round "
    "trunc frac sign sgn reciprocal maximum minimum fmax fmin eq ne lt le gt ge logical_and "
    "logical_or logical_xor logical_not atan2 hypot lerp addcmul addcdiv diag tril triu gather "
    "index_select masked_select kron cross square all any logaddexp xlogy floor_divide "
    "true_divide median nanmedian"
).split()


def _with_out(fn):
    def with_out(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        return write_out(fn, out, *args, **kwargs)

    functools.update_wrapper(with_out, fn)
    return with_out


def install_out(functions: dict) -> None:
    """Give each function of OUT_FUNCTIONS (in the registry's table) an ``out=`` argument."""
    for name in OUT_FUNCTIONS:
        fn = functions.get(name)
        if fn is None or getattr(fn, "__wrapped__", None) is not None:
            continue
        try:
            if "out" in inspect.signature(fn).parameters:
                continue
        except (TypeError, ValueError):
            pass
        functions[name] = _with_out(fn)


def _type_name(a: np.ndarray) -> str:
    from .reduce import type_name  # (reduce.py imports the elementwise ops, which import this)

    return type_name(a)
