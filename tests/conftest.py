"""Fixtures shared by the test files: a seeded NumPy generator and the torch reference."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A NumPy generator with a fixed seed, so every run samples the same data."""
    return np.random.default_rng(0)


@pytest.fixture
def torch_ref():
    """Real PyTorch, the reference the tests compare against; skips when it is not installed."""
    return pytest.importorskip("torch")
