"""Op-table entries for the names the API inventory found missing (issue 8,
tests/data/api_inventory.json): dist, det, inverse, matrix_exp, eigh/eigvalsh, bernoulli."""

from __future__ import annotations

import numpy as np
from optable import OpInfo, _each, distinct, nonzero, on_points, v


def _sym(x):
    """x + x^T: eigh reads one triangle, so entries compare through a symmetric input."""
    return x + x.transpose(-1, -2)


def _eigh(lib, x, **kw):
    w, vecs = lib.linalg.eigh(_sym(x), **kw)
    return w, vecs * vecs  # each eigenvector's sign is arbitrary: compare its squares


# Well-conditioned square matrices (2 I + noise): det and inverse are smooth there.
_square = _each(lambda rng, s: rng.uniform(-0.5, 0.5, s) + 2 * np.eye(s[-1]))

OPS = [
    OpInfo("dist", lambda lib, x, y, **kw: lib.dist(x, y, **kw),
           (v("p2", (2, 3), (2, 3)), v("broadcast", (2, 3), (3,)), v("0d", (), ()),
            v("p1", (2, 3), (2, 3), p=1), v("p3", (4,), (4,), p=3),
            v("p1.5-broadcast", (3, 1), (1, 4), p=1.5),
            v("pinf", (5,), (5,), p=float("inf"), domain=distinct())),
           "DistBackward0", nonzero()),
    OpInfo("det", lambda lib, x: lib.det(x),
           (v("3x3", (3, 3)), v("batched", (2, 4, 4)), v("1x1", (1, 1))),
           "LinalgDetBackward0", _square),
    OpInfo("det-method", lambda lib, x: x.det(), (v("2x2", (2, 2)),), "LinalgDetBackward0",
           _square),
    OpInfo("inverse", lambda lib, x: lib.inverse(x),
           (v("3x3", (3, 3)), v("batched", (2, 3, 3))), "LinalgInvExBackward0", _square),
    OpInfo("matrix_exp", lambda lib, x: lib.matrix_exp(x),
           (v("3x3", (3, 3)), v("batched", (2, 2, 2)), v("1x1", (1, 1)),
            v("large-norm", (3, 3), domain=_each(lambda rng, s: rng.uniform(-3, 3, s)))),
           "LinalgMatrixExpBackward0"),
    OpInfo("matrix_exp-method", lambda lib, x: x.matrix_exp(), (v("2x2", (2, 2)),),
           "LinalgMatrixExpBackward0"),
    OpInfo("linalg.eigvalsh", lambda lib, x, **kw: lib.linalg.eigvalsh(_sym(x), **kw),
           (v("3x3", (3, 3)), v("batched", (2, 3, 3)), v("upper", (4, 4), UPLO="U")),
           "LinalgEighBackward0"),
    OpInfo("linalg.eigh", _eigh, (v("3x3", (3, 3)), v("batched-upper", (2, 3, 3), UPLO="U")),
           "LinalgEighBackward0"),
    # probabilities 0 and 1 make the draw certain, so both libraries agree on the values; the
    # gradient is zero in both (clamp keeps finite differences inside [0, 1])
    OpInfo("bernoulli", lambda lib, x: lib.bernoulli(x.clamp(0, 1)),
           (v("certain", (3, 4)), v("0d", ())), "BernoulliBackward0", on_points(0.0, 1.0)),
]
