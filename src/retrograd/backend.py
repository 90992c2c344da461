"""Array helpers that NumPy lacks or makes slow: a cheap broadcast view, and floating-point
warnings switched off the way PyTorch never warns.

Tensors hold NumPy arrays and the ops call NumPy directly (``np.exp(x._data)``): NumPy is the
one array library retrograd runs on. A GPU backend would take the array module from each op's
inputs (CuPy arrays answer to the same calls), as Chainer does; until one exists, routing every
call through an indirection here would cost each op a lookup and buy nothing.
"""

from __future__ import annotations

import ctypes
import os

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


# Note [Keeping freed memory]
#     A training step makes many large temporaries and frees them all at its end. glibc's
#     malloc, left alone, serves a block of a few MiB from the heap once one such block was freed,
#     but hands freed heap memory back to the kernel as soon as more than twice that size is
#     free at the top of the heap. The next step then touches fresh pages again: one page fault
#     per 4 KiB, which on a virtual machine cost more than the arithmetic (ten elementwise ops
#     on 1e6 float32 values: 60 ms with faults, 20 ms without; 15,000 faults a step). PyTorch's
#     allocator does not meet this. Fixing both thresholds keeps up to ``keep`` bytes of freed
#     memory in the process for the next step and takes blocks below 32 MiB from the heap
#     (larger ones are mapped and unmapped as before; NumPy asks for huge pages for those).

_MALLOPT_TRIM_THRESHOLD = -1  # M_TRIM_THRESHOLD in glibc's malloc.h
_MALLOPT_MMAP_THRESHOLD = -3  # M_MMAP_THRESHOLD
_HEAP_BLOCKS_BELOW = 32 << 20  # glibc's own upper bound for its sliding mmap threshold
DEFAULT_KEEP_FREED = 128 << 20
_GLIBC_INITIAL = 128 << 10  # glibc's starting value of both thresholds

_kept_freed: int | None = None  # what keep_freed_memory last set; None: never called


def _mallopt():
    """glibc's ``mallopt``, or None where the C library is another (musl, macOS, Windows)."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
        return ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, ValueError):
        return None


def keep_freed_memory(nbytes: int = DEFAULT_KEEP_FREED) -> bool:
    """Let the process keep up to ``nbytes`` of freed memory for reuse (glibc only).

    retrograd calls this at import with the default (128 MiB) unless the environment sets
    ``RETROGRAD_KEEP_FREED_MEMORY`` (a byte count; ``0`` leaves malloc untouched). It sets
    process-wide malloc thresholds, so it speeds up NumPy code beside retrograd's as well:
    see Note [Keeping freed memory]. ``keep_freed_memory(0)`` returns freed memory at once
    again (glibc's starting thresholds, now fixed). Returns whether the thresholds were set
    (False where the C library is not glibc).
    """
    global _kept_freed
    if isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes < 0:
        raise ValueError(f"keep_freed_memory expects a byte count >= 0, got {nbytes!r}")
    mallopt = _mallopt()
    if mallopt is None:
        return False
    keep = min(nbytes, 2**31 - 1)  # (mallopt takes a C int)
    mmap_from = _HEAP_BLOCKS_BELOW if keep else _GLIBC_INITIAL
    ok = (mallopt(_MALLOPT_MMAP_THRESHOLD, mmap_from) == 1
          and mallopt(_MALLOPT_TRIM_THRESHOLD, keep or _GLIBC_INITIAL) == 1)
    if ok:
        _kept_freed = keep
    return ok


def _keep_freed_at_import() -> None:
    env = os.environ.get("RETROGRAD_KEEP_FREED_MEMORY", "").strip()
    if env.isdigit():
        if int(env):
            keep_freed_memory(int(env))
        return
    keep_freed_memory()


_keep_freed_at_import()
