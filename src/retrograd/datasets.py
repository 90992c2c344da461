"""Small real datasets that ship with retrograd, for examples and tests.

``load_digits()``: 1,797 handwritten digits as 8x8 images (the test set of the UCI *Optical
Recognition of Handwritten Digits* data by E. Alpaydin and C. Kaynak, CC BY 4.0; see
``retrograd/data/README.md``).
"""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np

from .tensor import Tensor, _wrap

__all__ = ["load_digits"]

_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    if "digits" not in _cache:
        source = resources.files(__package__).joinpath("data", "digits.csv.gz")
        with source.open("rb") as raw, gzip.open(raw, "rt") as text:
            table = np.loadtxt(text, delimiter=",", dtype=np.int64)
        if table.shape != (1797, 65):
            raise RuntimeError(f"digits.csv.gz has shape {table.shape}, expected (1797, 65); "
                               "the installed data file is damaged")
        images = (table[:, :64].astype(np.float32) / np.float32(16.0)).reshape(-1, 8, 8)
        _cache["digits"] = (images, table[:, 64].copy())
    return _cache["digits"]


def load_digits() -> tuple[Tensor, Tensor]:
    """The digits as ``(images, labels)``: float32 images of shape (1797, 8, 8) with values in
    [0, 1], and int64 labels 0..9. Each call returns new tensors (free to modify)."""
    images, labels = _digits_arrays()
    return _wrap(images.copy()), _wrap(labels.copy())
