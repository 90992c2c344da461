"""The ops: each file holds Functions (forward and derivative together), the functions built
on them, and ends with its ``expose`` table (see ``_registry.py``). Importing this package
installs the registered methods on ``Tensor``. The kernels only ``retrograd.nn`` uses are in
the subpackage ``ops/nn/``."""

from ..tensor import Tensor
from . import (  # noqa: F401  (each module registers its ops on import)
    activation,
    binning,
    compare,
    copies,
    division,
    einsum,
    elementwise,
    erf,
    gather_scatter,
    indexing,
    inplace,
    inplace_methods,
    join,
    linalg,
    linalg_more,
    math_more,
    matrix_functions,
    minmax,
    misc,
    nn,
    power,
    products,
    random_fill,
    reduce,
    sampling,
    scans,
    shape,
    sorting,
    special,
    statistics,
    triangular,
    unary,
)
from ._registry import FUNCTIONS, METHODS

for _name, _method in METHODS.items():
    setattr(Tensor, _name, _method)
