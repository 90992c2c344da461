"""Anomaly mode: ``detect_anomaly()`` and ``set_detect_anomaly(mode)``.

Note [Anomaly mode]
    While it is on, every recorded node remembers the user code that made it: anomaly mode
    switches on retrograd.debug's provenance recording (Note [Sites] in debug/provenance.py),
    the same mechanism that names lines in other errors, and adds a node hook there that also
    keeps the user frames of the whole call stack (as PyTorch shows them). In backward, each
    gradient a node returns is checked for NaN (with ``check_nan``), raising PyTorch's error;
    and when any node fails, a warning shows the forward call that made the failing node.
    The engine reads the switch once per backward, so when it is off the loop tests one local
    flag per node.
"""

from __future__ import annotations

import functools
import linecache
import sys
import threading
import warnings

import numpy as np

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "set_anomaly_enabled"]


class _State:
    enabled = False
    check_nan = True


state = _State()
_lock = threading.Lock()


def is_anomaly_enabled() -> bool:
    return state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return state.check_nan


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Switch anomaly mode on or off (with provenance recording, Note [Anomaly mode])."""
    from ..debug import provenance

    enabled = bool(enabled)
    with _lock:
        if enabled and not state.enabled:
            provenance.acquire()
            provenance._node_hooks.append(_record_stack)
        elif state.enabled and not enabled:
            provenance._node_hooks.remove(_record_stack)
            provenance.release()
        state.enabled = enabled
        state.check_nan = bool(check_nan)


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly detection on: backward raises when a
    node returns NaN (``check_nan``), and a failing node's forward line is shown. Slow: for
    debugging only."""

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = state.enabled
        self.prev_check_nan = state.check_nan
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self) -> None:
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan)

    def __call__(self, fn):
        check_nan = self.check_nan

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = (state.enabled, state.check_nan)
            set_anomaly_enabled(True, check_nan)
            try:
                return fn(*args, **kwargs)
            finally:
                set_anomaly_enabled(*prev)

        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off, as a function call or as a context manager (which
    puts the previous setting back on exit)."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = state.enabled
        self.prev_check_nan = state.check_nan
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan)


# ---- what the engine calls while anomaly mode is on ----------------------------------------


def check(node, in_grads: tuple) -> None:
    """Raise PyTorch's error when a gradient ``node`` returned holds NaN."""
    if not state.check_nan:
        return
    for i, g in enumerate(in_grads):
        if g is not None and g._data.dtype.kind in "fc" and np.isnan(g._data).any():
            raise RuntimeError(
                f"Function '{type(node).__name__}' returned nan values in its {i}th output.")


def _record_stack(node) -> None:
    """Called by provenance for each new node while anomaly mode is on: keep the user frames of
    the forward call (outermost first), as (filename, line number, function)."""
    from ..debug.provenance import _is_ours

    frames = []
    f = sys._getframe(2)
    while f is not None:
        if not _is_ours(f):
            frames.append((f.f_code.co_filename, f.f_lineno, f.f_code.co_name))
        f = f.f_back
    node.__dict__["_anomaly_stack"] = tuple(reversed(frames))


def report(node) -> None:
    """Warn with the forward call that made ``node`` (the node whose backward failed)."""
    if node is None:
        return
    frames = node.__dict__.get("_anomaly_stack")
    if frames is None:
        where = ("  (not recorded: the node was made before anomaly detection was enabled)\n")
    else:
        where = ""
        for filename, lineno, function in frames:
            where += f'  File "{filename}", line {lineno}, in {function}\n'
            line = linecache.getline(filename, lineno).strip()
            if line:
                where += f"    {line}\n"
    from ..debug.provenance import _is_ours

    level, f = 1, sys._getframe(0)
    while f is not None and _is_ours(f):  # point the warning at the user's backward call
        level, f = level + 1, f.f_back
    warnings.warn(f"Error detected in {type(node).__name__}. Traceback of forward call that "
                  f"caused the error:\n{where}", UserWarning, stacklevel=level)
