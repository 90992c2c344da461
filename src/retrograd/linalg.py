"""``retrograd.linalg``: the linear-algebra functions under PyTorch's ``torch.linalg`` names.

The ops themselves live with the others (``ops/matrix_functions.py``, ``ops/statistics.py``); this
module only gives them the names programs call: ``torch.linalg.eigvalsh(X)``,
``torch.linalg.det(A)``, ...
"""

from __future__ import annotations

from .ops.matrix_functions import det, eigh, eigvalsh, matrix_exp
from .ops.matrix_functions import inverse as inv
from .ops.statistics import vector_norm

__all__ = ["det", "eigh", "eigvalsh", "inv", "matrix_exp", "vector_norm"]
