"""The ops: each file holds Functions (forward and derivative together) and the functions and
Tensor methods built on them. Importing this package binds the methods onto ``Tensor``."""

from __future__ import annotations

from . import (  # noqa: F401
    activation,
    compare,
    conv,
    elementwise,
    embedding,
    indexing,
    inplace,
    linalg,
    loss,
    normalization,
    pooling,
    random_fill,
    reduce,
    rnn_cells,
    shape,
    unary,
)
from ._bind import bind_methods

bind_methods()
