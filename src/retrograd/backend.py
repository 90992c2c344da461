"""The array backend: the one module that knows NumPy (and, later, CuPy) by name.

Everything else asks this module for the array module of a tensor (``xp``) instead of
importing NumPy directly, so a second backend only has to be taught here.
"""

from __future__ import annotations

import numpy as np

xp = np
ndarray = np.ndarray
scalar_types = np.generic  # what NumPy returns for 0-d results of ufuncs and reductions


def asarray(obj, dtype=None) -> np.ndarray:
    """Make ``obj`` an array (no copy when it already is one of the right dtype)."""
    return np.asarray(obj, dtype=dtype)


def array_module(arr):
    """The module that computes on ``arr`` (NumPy for now)."""
    return np
