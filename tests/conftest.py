"""Fixtures shared by the test files: a seeded NumPy generator and the torch reference.

Tests that compare with PyTorch take the ``torch_ref`` fixture (never ``import torch`` at module
level), so that without torch only they skip and everything else still runs. To check that,
run the suite as if torch were not installed::

    RETROGRAD_TESTS_WITHOUT_TORCH=1 python -m pytest

With that variable set (to anything but "" or "0"), ``import torch`` raises
``ModuleNotFoundError`` for the whole run (CI runs the suite both ways).
"""

from __future__ import annotations

import importlib.abc
import os
import sys

import numpy as np
import pytest

HIDE_TORCH = os.environ.get("RETROGRAD_TESTS_WITHOUT_TORCH", "") not in ("", "0")


class _HideTorch(importlib.abc.MetaPathFinder):
    """Makes ``import torch`` (and its submodules) fail as if it were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(
                f"No module named {name!r} (hidden by RETROGRAD_TESTS_WITHOUT_TORCH)", name=name)
        return None


if HIDE_TORCH:
    if "torch" in sys.modules:
        raise RuntimeError("RETROGRAD_TESTS_WITHOUT_TORCH is set but torch was already imported "
                           "before the tests' conftest.py ran (by a plugin?)")
    sys.meta_path.insert(0, _HideTorch())


@pytest.fixture
def rng() -> np.random.Generator:
    """A NumPy generator with a fixed seed, so every run samples the same data."""
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def torch_ref():
    """Real PyTorch, the reference the tests compare against; skips when it is not installed.

    Session-scoped so that hypothesis tests may take it too.
    """
    return pytest.importorskip("torch")
