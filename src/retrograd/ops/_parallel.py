"""Large elementwise kernels split over threads (PyTorch splits its big elementwise loops too).

NumPy releases the GIL inside a ufunc's loop, so contiguous chunks of one large elementwise
call run at the same time on a few threads, each writing its slice of one preallocated output.
An elementwise result does not depend on how the elements are grouped, so the chunked result
is bitwise the unchunked one.

The hot path pays one comparison: callers test ``a.size >= _parallel.min_size`` first, and
``min_size`` is out of reach while ``get_num_threads()`` is 1 (``configure``) or chunking is
off (the default; ``_threshold``).
"""

from __future__ import annotations

import contextvars
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

_NEVER = 1 << 62


def _threshold() -> int:
    """Off unless RETROGRAD_PARALLEL_MIN_ELEMENTS names a size (elements) to chunk from.

    NOTE: measured on a shared 2-core machine (benchmarks' elementwise case), chunking lost: a
    chunk handed to a second thread waits whenever another process holds that core, and the
    hand-off costs tens of microseconds. Below about 256K elements it loses even on an idle
    core. Enable it where cores are free, e.g. RETROGRAD_PARALLEL_MIN_ELEMENTS=262144."""
    env = os.environ.get("RETROGRAD_PARALLEL_MIN_ELEMENTS", "").strip()
    return int(env) if env.isdigit() and int(env) > 0 else _NEVER


THRESHOLD = _threshold()

min_size = _NEVER  # the size from which kernels are chunked; _NEVER at one thread
_threads = 1
_pool: ThreadPoolExecutor | None = None


def configure(n: int) -> None:
    """Chunk over ``n`` threads from now on (n == 1: never chunk)."""
    global min_size, _threads, _pool
    n = max(1, min(int(n), 64))
    if _pool is not None and n != _threads:
        _pool.shutdown(wait=True)
        _pool = None
    _threads = n
    min_size = THRESHOLD if n > 1 else _NEVER


def _simple(arrays: tuple, shape: tuple) -> bool:
    """Every array a C-contiguous ndarray of ``shape``, or zero-dim (a scalar, passed whole)."""
    for x in arrays:
        if type(x) is not np.ndarray or not (x.ndim == 0 or (x.shape == shape
                                                              and x.flags.c_contiguous)):
            return False
    return True


def _run(work, k: int) -> None:
    """work(0) ... work(k - 1): k - 1 on the pool, the first on this thread, in NumPy's error
    state of the caller (np.errstate is a context variable: copied into each task)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_threads - 1, thread_name_prefix="retrograd")
    futures = [_pool.submit(contextvars.copy_context().run, work, i) for i in range(1, k)]
    try:
        work(0)
    finally:
        errors = []
        for f in futures:
            try:
                f.result()
            except BaseException as e:  # noqa: BLE001 - re-raised below, the first one
                errors.append(e)
    if errors:
        raise errors[0]


def elementwise(kernel, *arrays, any_kernel: bool = False):
    """``kernel(*arrays)``, chunked over the threads when the arrays are large C-contiguous
    NumPy arrays of one shape, zero-dim ones aside (else one call). ``kernel`` is a ufunc (written
    with ``out=``), or with ``any_kernel=True`` any function of arrays the caller knows to be
    elementwise (its chunks are copied in); other kernels may use their inputs' shapes (a
    channel weight's reshape), so they run as one call."""
    first = max(arrays, key=np.ndim)
    shape = first.shape
    n = first.size
    is_ufunc = type(kernel) is np.ufunc
    if n < min_size or _threads < 2 or not (is_ufunc or any_kernel) or not _simple(arrays, shape):
        return kernel(*arrays)
    flat = [x.reshape(-1) if x.ndim else x for x in arrays]
    k = _threads
    step = -(-n // k)
    bounds = [(i * step, min(n, (i + 1) * step)) for i in range(k)]
    # the result dtype, from one element (NumPy 2 types results by dtypes only, NEP 50)
    probe = kernel(*(x[:1] if x.ndim else x for x in flat))
    if not isinstance(probe, np.ndarray):
        return kernel(*arrays)
    out = np.empty(n, probe.dtype)
    if is_ufunc and kernel.nout == 1:
        def work(i):
            lo, hi = bounds[i]
            kernel(*(x[lo:hi] if x.ndim else x for x in flat), out=out[lo:hi])
    else:
        def work(i):
            lo, hi = bounds[i]
            out[lo:hi] = kernel(*(x[lo:hi] if x.ndim else x for x in flat))
    _run(work, k)
    return out.reshape(shape)


def _init() -> None:
    from .._threads import get_num_threads
    configure(get_num_threads())


_init()
