"""Large elementwise kernels split over threads (PyTorch splits its big elementwise loops too).

NumPy releases the GIL inside a ufunc's loop, so contiguous chunks of one large elementwise
call run at the same time on a few threads, each writing its slice of one preallocated output.
An elementwise result does not depend on how the elements are grouped, so the chunked result
is bitwise the unchunked one.

The hot path pays one comparison: callers test ``a.size >= _parallel.min_size`` first, and
``min_size`` is out of reach while ``get_num_threads()`` is 1 (``configure``) or chunking is
switched off (RETROGRAD_PARALLEL_MIN_ELEMENTS=0; ``_threshold``).
"""

from __future__ import annotations

import contextvars
import os
from concurrent.futures import ThreadPoolExecutor
from time import sleep as _sleep

import numpy as np

_NEVER = 1 << 62
DEFAULT_MIN_ELEMENTS = 262_144


def _threshold() -> int:
    """The size (elements) from which kernels are chunked: RETROGRAD_PARALLEL_MIN_ELEMENTS when
    it is a count (0: never), else 256K.

    NOTE: measured on a 2-core virtual machine (benchmarks' elementwise case, 2 threads): ten
    elementwise ops fwd+bwd on 1e6 float32 values, 20.5 ms unchunked, 16-17.5 ms chunked. Below
    about 256K elements the hand-off (tens of microseconds) eats the gain. A chunk handed to a
    core another process holds waits for it, as PyTorch's do.

    Splitting the cache-blocked fused kernels (float32 erf/GELU, GELU tanh, softmax rows) into
    one group of blocks per thread measured slower on the same machine (1e6-element erf 5.2 vs
    4.4 ms, GELU tanh 2.2 vs 1.8 ms, 8192x128 softmax 1.8 vs 1.6 ms): each block is a dozen
    short NumPy calls, and every call hands the GIL over, which on this VM wakes a sleeping
    thread late. Only few, long calls per thread pay here."""
    env = os.environ.get("RETROGRAD_PARALLEL_MIN_ELEMENTS", "").strip()
    if env.isdigit():
        return int(env) if int(env) > 0 else _NEVER
    return DEFAULT_MIN_ELEMENTS


THRESHOLD = _threshold()

# Note [Waiting for a chunk]
#     The calling thread waits for the other chunks by polling with short sleeps, not by
#     blocking on the future: on the virtual machine this was measured on, a thread blocked on
#     a lock was woken about 500 us after the chunk it waited for had finished (a 0.5 ms chunk
#     then cost as much as the whole unchunked call), while a 20 us sleep-and-check loop
#     returns within tens of microseconds.
_POLL_S = 20e-6

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


def _forget_pool_in_child() -> None:
    """A forked child has none of the parent's threads: it starts its own pool when needed."""
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)


def _simple(arrays: tuple, shape: tuple) -> bool:
    """Every array a C-contiguous ndarray of ``shape``, or zero-dim (a scalar, passed whole)."""
    for x in arrays:
        if type(x) is not np.ndarray or not (x.ndim == 0 or (x.shape == shape
                                                              and x.flags.c_contiguous)):
            return False
    return True


def _bounds(n: int, k: int) -> list:
    """(lo, hi) of k contiguous chunks of n elements, the last one possibly shorter."""
    step = -(-n // k)
    return [(i * step, min(n, (i + 1) * step)) for i in range(k)]


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
            while not f.done():  # Note [Waiting for a chunk]
                _sleep(_POLL_S)
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
    elementwise, returning an array or a tuple of arrays and Nones (its chunks are copied in);
    other kernels may use their inputs' shapes (a channel weight's reshape): one call."""
    first = max(arrays, key=np.ndim)
    shape = first.shape
    n = first.size
    is_ufunc = type(kernel) is np.ufunc
    if n < min_size or _threads < 2 or not (is_ufunc or any_kernel) or not _simple(arrays, shape):
        return kernel(*arrays)
    flat = [x.reshape(-1) if x.ndim else x for x in arrays]
    k = _threads
    bounds = _bounds(n, k)
    # the result dtypes, from one element (NumPy 2 types results by dtypes only, NEP 50)
    probe = kernel(*(x[:1] if x.ndim else x for x in flat))
    several = probe.__class__ is tuple
    probes = probe if several else (probe,)
    if not all(p is None or (isinstance(p, np.ndarray) and p.shape == (1,)) for p in probes):
        return kernel(*arrays)
    # (results are made in their shape and written through flat views, so each owns its
    # memory: the engine may keep such a gradient as .grad, Note [Stealing gradients])
    results = [None if p is None else np.empty(shape, p.dtype) for p in probes]  # (None: unwanted)
    outs = [None if r is None else r.reshape(-1) for r in results]
    if is_ufunc and kernel.nout == 1:
        out = outs[0]

        def work(i):
            lo, hi = bounds[i]
            kernel(*(x[lo:hi] if x.ndim else x for x in flat), out=out[lo:hi])
    else:
        def work(i):
            lo, hi = bounds[i]
            parts = kernel(*(x[lo:hi] if x.ndim else x for x in flat))
            for out, r in zip(outs, parts if several else (parts,)):
                if out is not None:
                    out[lo:hi] = r
    _run(work, k)
    return tuple(results) if several else results[0]


def add_into(total: np.ndarray, more: np.ndarray) -> None:
    """``total += more`` (one shape, the engine's gradient sums), chunked when large."""
    n = total.size
    if n < min_size or _threads < 2 or not _simple((total, more), total.shape):
        np.add(total, more, out=total)
        return
    flat_total, flat_more = total.reshape(-1), more.reshape(-1)
    bounds = _bounds(n, _threads)

    def work(i):
        lo, hi = bounds[i]
        np.add(flat_total[lo:hi], flat_more[lo:hi], out=flat_total[lo:hi])

    _run(work, _threads)


def _init() -> None:
    from .._threads import get_num_threads
    configure(get_num_threads())


_init()
