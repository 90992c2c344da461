"""Op-table entries for integer-style division: remainder (``%``), fmod and floor_divide (``//``).

remainder and fmod jump where x / y crosses an integer, so their inputs are sampled with the
quotient away from integers (``quotient_off_integers``); their kinks put x on multiples of y.
floor_divide, and ``number % tensor``, have no derivative in PyTorch (backward raises): their
entries use them on inputs that need no gradient, as factors of a differentiable product.
"""

from __future__ import annotations

import numpy as np
from optable import Const, Fixed, OpInfo, nonzero, off_integers, on_points, per_arg, v


def quotient_off_integers(rng, shapes):
    """y with |y| in [0.5, 2], and x = q * y with q at least 0.15 away from every integer (x's
    shape must hold the broadcast of both)."""
    x_shape, y_shape = shapes[0], shapes[1]
    y = nonzero(0.5, 2.0)(rng, [y_shape])[0]
    q = rng.integers(-3, 3, x_shape) + rng.uniform(0.15, 0.85, x_shape)
    arrays = [q * np.broadcast_to(y, x_shape), y]
    return arrays + [nonzero(0.5, 2.0)(rng, [s])[0] for s in shapes[2:]]


MODULO = (
    v("same", (2, 3), (2, 3)),
    v("broadcast", (2, 3), (3,)),
    v("0d", (2, 3), ()),
    v("rhs-nograd", (2, 3), Fixed((3,))),
    v("lhs-nograd", Fixed((2, 3)), (3,)),
)
SCALAR = (v("2x3", (2, 3)), v("0d", ()))
# on the jumps: x a multiple of y (and x = 0)
MODULO_KINKS = per_arg(on_points(-2.0, 0.0, 1.0, 3.0), on_points(-1.0, 1.0, 2.0))

OPS = [
    OpInfo("remainder", lambda lib, x, y: lib.remainder(x, y), MODULO, "RemainderBackward1",
           quotient_off_integers, kinks=MODULO_KINKS),
    OpInfo("mod-operator", lambda lib, x, y: x % y, MODULO, "RemainderBackward1",
           quotient_off_integers, kinks=MODULO_KINKS),
    OpInfo("remainder-scalar", lambda lib, x, c: x.remainder(c),
           (v("1.5", (2, 3), c=1.5), v("-1.5-0d", (), c=-1.5)), "RemainderBackward0",
           off_integers(1.5), kinks=on_points(-3.0, -1.5, 0.0, 1.5)),
    OpInfo("mod-scalar", lambda lib, x: x % 1.5, SCALAR, "RemainderBackward0",
           off_integers(1.5), kinks=on_points(-3.0, -1.5, 0.0, 1.5)),
    OpInfo("fmod", lambda lib, x, y: lib.fmod(x, y), MODULO, "FmodBackward1",
           quotient_off_integers, kinks=MODULO_KINKS),
    OpInfo("fmod-scalar", lambda lib, x, c: x.fmod(c),
           (v("1.5", (2, 3), c=1.5), v("-1.5-0d", (), c=-1.5)), "FmodBackward0",
           off_integers(1.5), kinks=on_points(-3.0, -1.5, 0.0, 1.5)),
    # no derivative in PyTorch: applied to constants, times a differentiable x
    OpInfo("floor_divide-factor", lambda lib, x, y, z: x * lib.floor_divide(y, z),
           (v("same", (2, 3), Fixed((2, 3)), Fixed((2, 3))),
            v("broadcast", (2, 3), Fixed((2, 3)), Fixed((3,)))),
           "MulBackward0", per_arg(nonzero(), nonzero(0.5, 4.0), nonzero(0.5, 2.0))),
    OpInfo("floordiv-operators", lambda lib, x, y: x * (y // 0.7) + x * (2.5 // y),
           (v("2x3", (2, 3), Fixed((2, 3))),), "AddBackward0", per_arg(nonzero(), nonzero())),
    OpInfo("rmod-factor", lambda lib, x, y: x * (2.5 % y),
           (v("2x3", (2, 3), Fixed((2, 3))),), "MulBackward0", per_arg(nonzero(), nonzero())),
    OpInfo("floor_divide-int", lambda lib, x, i, j: x * (i // j).to(x.dtype),
           (v("ints", (4,), Const([7, -7, 7, -7]), Const([2, 2, -2, -3])),), "MulBackward0"),
]
