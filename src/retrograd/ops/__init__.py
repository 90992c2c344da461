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
    decompositions,
    division,
    einsum,
    elementwise,
    erf,
    gather_scatter,
    index_more,
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
    random_more,
    reduce,
    sampling,
    scans,
    shape,
    shape_more,
    sorting,
    special,
    statistics,
    tensor_info,
    triangular,
    unary,
)
from ._registry import FUNCTIONS, METHODS
from .out_arg import install_out

install_out(FUNCTIONS)  # out= on the functions of out_arg.OUT_FUNCTIONS

for _name, _method in METHODS.items():
    setattr(Tensor, _name, _method)
