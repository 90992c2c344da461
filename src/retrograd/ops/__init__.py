"""The ops: each file holds Functions (forward and derivative together), the functions built
on them, and ends with its ``expose`` table (see ``_registry.py``). Importing this package
installs the registered methods on ``Tensor``."""

from ..tensor import Tensor
from . import (  # noqa: F401  (each module registers its ops on import)
    activation,
    compare,
    conv,
    elementwise,
    embedding,
    erf,
    indexing,
    inplace,
    linalg,
    loss,
    normalization,
    pooling,
    power,
    products,
    random_fill,
    reduce,
    rnn_cells,
    shape,
    unary,
)
from ._registry import FUNCTIONS, METHODS

for _name, _method in METHODS.items():
    setattr(Tensor, _name, _method)
