"""The ops: each file holds Functions (forward and derivative together) and the functions and
Tensor methods built on them. Importing this package binds the methods onto ``Tensor``."""

from __future__ import annotations

from . import activation, compare, elementwise, indexing, inplace, linalg, reduce, shape  # noqa: F401
from ._bind import bind_methods

bind_methods()
