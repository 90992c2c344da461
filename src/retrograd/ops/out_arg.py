"""The ``out=`` argument: ``torch.add(x, y, out=z)`` computes the result and writes it into z.

One helper serves every op that takes ``out=``: the op's function calls
``write_out(fn, out, *args)`` first thing when ``out`` is given. As in PyTorch, such a call
records no history, so it refuses to run when a gradient would be needed (grad mode on and an
argument, or ``out``, requiring grad); the result's dtype must be castable to ``out``'s (no float
into an integer tensor); and an ``out`` of another shape is resized (with PyTorch's warning
unless it was empty). The write bumps ``out``'s version, as any in-place change does.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import grad_mode
from ..tensor import Tensor

_state = grad_mode.state
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def write_out(fn, out, *args, **kwargs) -> Tensor:
    """``fn(*args, **kwargs)`` written into the tensor ``out``; returns ``out``."""
    name = fn.__name__
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if _state.enabled and (out._requires_grad or any(
            isinstance(a, Tensor) and a._requires_grad for a in args)):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad. Call it under "
            "torch.no_grad(), or drop out= and use the returned tensor.")
    prev = _state.enabled
    _state.enabled = False
    try:
        result = fn(*args, **kwargs)._data
    finally:
        _state.enabled = prev
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
                "with t.resize_(0).", UserWarning, stacklevel=3)
        out._data = result.astype(dst.dtype, copy=True)
    else:
        np.copyto(dst, result, casting="unsafe")
    out._bump_version()
    return out


def _type_name(a: np.ndarray) -> str:
    from .reduce import type_name  # (reduce.py imports the elementwise ops, which import this)

    return type_name(a)
