"""Thread counts: ``set_num_threads`` / ``get_num_threads`` (intra-op) and their interop twins.

The intra-op count is what retrograd's parallel work uses: the BLAS NumPy loaded (OpenBLAS, set
at run time through its own ``*_set_num_threads`` entry point, found in the process's loaded
libraries; threadpoolctl where that fails and it is installed) and the chunked elementwise
kernels (ops/_parallel.py). The default is PyTorch's: OMP_NUM_THREADS when it is a positive
integer (at most the cores), else the number of physical cores this process may run on.

retrograd has no interop thread pool; the interop count is kept (default: the CPUs this
process may use) so programs that set and read it run, and like PyTorch it can be set once.
"""

from __future__ import annotations

import ctypes
import os

_INT_MAX = 2**31 - 1

_num_threads: int | None = None  # None: the default, computed on first use
_interop: int | None = None
_interop_set = False
_blas = None  # (set, get) ctypes functions, False when none was found; None: not looked up


def _usable_cpus() -> list:
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def _physical_cores() -> int:
    """Cores (not hyper-threads) among the CPUs this process may run on."""
    cpus = _usable_cpus()
    cores = set()
    for cpu in cpus:
        base = f"/sys/devices/system/cpu/cpu{cpu}/topology/"
        try:
            with open(base + "physical_package_id") as f:
                package = f.read().strip()
            with open(base + "core_id") as f:
                cores.add((package, f.read().strip()))
        except OSError:
            return max(1, len(cpus))
    return max(1, len(cores))


def _default_num_threads() -> int:
    cores = _physical_cores()
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return min(int(env), cores)
    return cores


def _check(name: str, n) -> int:
    if isinstance(n, bool) or not hasattr(type(n), "__index__"):
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}")
    n = n.__index__()
    if not -_INT_MAX - 1 <= n <= _INT_MAX:
        raise ValueError(f"Overflow when unpacking long: {name} takes a 32-bit integer, got {n}")
    if n <= 0:
        raise RuntimeError(f"{name} expects a positive integer, got {n}")
    return n


def _find_blas():
    """(set, get) of the OpenBLAS NumPy loaded, as ctypes functions; False when there is none."""
    paths = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.rsplit(None, 1)[-1] if line.count(" ") >= 5 else ""
                if "openblas" in os.path.basename(path).lower() and path not in paths:
                    paths.append(path)
    except OSError:
        pass
    prefixes = ("scipy_openblas_", "openblas_")
    suffixes = ("64_", "_64_", "")
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in prefixes:
            for suffix in suffixes:
                setter = getattr(lib, f"{prefix}set_num_threads{suffix}", None)
                getter = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    setter.argtypes, setter.restype = [ctypes.c_int], None
                    getter.argtypes, getter.restype = [], ctypes.c_int
                    return setter, getter
    return False


def _blas_functions():
    global _blas
    if _blas is None:
        _blas = _find_blas()
    return _blas


def _set_blas_threads(n: int) -> None:
    blas = _blas_functions()
    if blas:
        blas[0](n)
        return
    try:  # an optional fallback, for BLAS builds found by name only there
        import threadpoolctl
    except ImportError:
        return
    threadpoolctl.threadpool_limits(n, user_api="blas")


def blas_num_threads() -> int | None:
    """The thread count the loaded OpenBLAS uses now (None when it cannot be asked)."""
    blas = _blas_functions()
    return int(blas[1]()) if blas else None


def get_num_threads() -> int:
    """The number of threads retrograd uses for parallel work within one op."""
    global _num_threads
    if _num_threads is None:
        _num_threads = _default_num_threads()
    return _num_threads


def set_num_threads(int) -> None:  # noqa: A002 - PyTorch's parameter name
    """Set the threads used for parallel work within one op (BLAS and chunked kernels)."""
    global _num_threads
    n = _check("set_num_threads", int)
    _set_blas_threads(n)
    _num_threads = n
    from .ops import _parallel
    _parallel.configure(n)


def get_num_interop_threads() -> int:
    """The interop thread count (retrograd runs no interop pool; kept for PyTorch programs)."""
    return _interop if _interop is not None else max(1, len(_usable_cpus()))


def set_num_interop_threads(int) -> None:  # noqa: A002 - PyTorch's parameter name
    """Set the interop thread count, once, before any parallel work (as PyTorch allows)."""
    global _interop, _interop_set
    n = _check("set_num_interop_threads", int)
    if _interop_set:
        raise RuntimeError(
            "Error: cannot set number of interop threads after parallel work has started or "
            "set_num_interop_threads called: it can be set once per process, before its "
            "first use.")
    _interop, _interop_set = n, True
