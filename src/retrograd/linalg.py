"""``retrograd.linalg``: the linear-algebra functions under PyTorch's ``torch.linalg`` names.

The ops themselves live with the others (``ops/matrix_functions.py``, ``ops/statistics.py``); this
module only gives them the names programs call: ``torch.linalg.eigvalsh(X)``,
``torch.linalg.det(A)``, ...
"""

from __future__ import annotations

from .ops.decompositions import linalg_cholesky as cholesky
from .ops.decompositions import linalg_qr as qr
from .ops.decompositions import linalg_slogdet_fn as slogdet
from .ops.decompositions import linalg_svd as svd
from .ops.decompositions import pinverse as pinv
from .ops.decompositions import solve, svdvals
from .ops.linalg_more import linalg_cross as cross
from .ops.linalg_more import matrix_power, multi_dot
from .ops.matrix_functions import det, eigh, eigvalsh, matrix_exp
from .ops.matrix_functions import inverse as inv
from .ops.statistics import vector_norm

__all__ = ["cholesky", "cross", "det", "eigh", "eigvalsh", "inv", "matrix_exp", "matrix_power",
           "multi_dot", "pinv", "qr", "slogdet", "solve", "svd", "svdvals",
           "vector_norm"]
