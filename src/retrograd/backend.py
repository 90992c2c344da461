"""Array helpers that NumPy lacks or makes slow: a cheap broadcast view, and floating-point
warnings switched off the way PyTorch never warns.

Tensors hold NumPy arrays and the ops call NumPy directly (``np.exp(x._data)``): NumPy is the
one array library retrograd runs on. A GPU backend would take the array module from each op's
inputs (CuPy arrays answer to the same calls), as Chainer does; until one exists, routing every
call through an indirection here would cost each op a lookup and buy nothing.
"""

from __future__ import annotations

import numpy as np


def broadcast_view(a: np.ndarray, shape: tuple) -> np.ndarray:
    """A read-only view of ``a`` broadcast to ``shape`` (like ``np.broadcast_to``).

    ``np.broadcast_to`` costs about 3 us, a lot for the tiny arrays of a backward pass; building
    the zero-stride view directly costs a fraction of that.
    """
    if not a.flags.c_contiguous or a.size == 0:
        return np.broadcast_to(a, shape)
    lead = len(shape) - a.ndim
    strides = [0] * lead
    for old, new, step in zip(a.shape, shape[lead:], a.strides):
        strides.append(0 if old != new else step)
    out = np.ndarray(shape, a.dtype, a, 0, tuple(strides))
    out.flags.writeable = False
    return out


def _make_quiet():
    """``quiet(fn, *args)``: call a NumPy function with floating-point warnings off;
    ``quiet_begin()`` / ``quiet_end(token)``: the same around a longer stretch of code.

    PyTorch never warns about overflow or division by zero (it returns inf/nan), so neither do
    we. ``np.errstate`` costs about a microsecond per use; setting NumPy's error-state context
    variable directly costs a fifth of that, so we do that when this NumPy has it.
    """
    try:
        from numpy._core._ufunc_config import _extobj_contextvar as state
    except ImportError:  # older or newer NumPy: the public, slower way
        def quiet(fn, *args):
            with np.errstate(all="ignore"):
                return fn(*args)

        def quiet_begin():
            ctx = np.errstate(all="ignore")
            ctx.__enter__()
            return ctx

        def quiet_end(ctx) -> None:
            ctx.__exit__(None, None, None)

        return quiet, quiet_begin, quiet_end
    with np.errstate(all="ignore"):
        ignore_all = state.get()

    def quiet(fn, *args):
        token = state.set(ignore_all)
        try:
            return fn(*args)
        finally:
            state.reset(token)

    def quiet_begin():
        return state.set(ignore_all)

    def quiet_end(token) -> None:
        state.reset(token)

    return quiet, quiet_begin, quiet_end


quiet, quiet_begin, quiet_end = _make_quiet()


def matmul2d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for two matrices, C-contiguous.

    NOTE: OpenBLAS multiplies a few rows by a transposed matrix (``x @ w.T`` of a linear layer
    on a small batch, every step of a recurrent loop) about 1.6 times slower than the same
    product written the other way round, ``(w @ x.T).T``; the copy back to row-major order
    costs little beside it. The values agree up to the order of rounding inside BLAS.
    """
    if (a.shape[0] <= 32 and b.shape[1] >= 128 and b.flags.f_contiguous
            and not b.flags.c_contiguous and a.ndim == 2):
        return np.ascontiguousarray((b.T @ a.T).T)
    return a @ b
