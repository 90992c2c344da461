"""The ``retrograd.<op>`` functions (``torch.add``, ``torch.sum``, ...), gathered from the ops.

Each ops module may define ``TORCH_FUNCTIONS`` (name -> function); the core ones are listed here.
"""

from __future__ import annotations

import sys

from . import compare, reduce, shape
from . import elementwise as ew
from . import unary as un

_CORE = {
    "add": ew.add, "sub": ew.sub, "subtract": ew.sub, "mul": ew.mul, "multiply": ew.mul,
    "div": ew.div, "divide": ew.div, "true_divide": ew.div, "pow": ew.pow, "neg": ew.neg,
    "negative": ew.neg, "reciprocal": ew.reciprocal, "square": lambda x: ew.pow(x, 2),
    "exp": un.exp, "log": un.log, "log1p": un.log1p, "sqrt": un.sqrt, "rsqrt": un.rsqrt,
    "sin": un.sin, "cos": un.cos, "tan": un.tan, "tanh": un.tanh, "sigmoid": un.sigmoid,
    "relu": un.relu, "abs": un.abs, "absolute": un.abs, "sign": un.sign, "floor": un.floor,
    "ceil": un.ceil, "round": un.round, "trunc": un.trunc, "clamp": un.clamp, "clip": un.clamp,
    "maximum": ew.maximum, "minimum": ew.minimum, "where": ew.where,
    "eq": compare.eq, "ne": compare.ne, "lt": compare.lt, "le": compare.le, "gt": compare.gt,
    "ge": compare.ge, "logical_not": compare.logical_not, "logical_and": compare.logical_and,
    "logical_or": compare.logical_or, "logical_xor": compare.logical_xor,
    "isnan": compare.isnan, "isinf": compare.isinf, "isfinite": compare.isfinite,
    "equal": compare.equal, "allclose": compare.allclose, "isclose": compare.isclose,
    "any": compare.any, "all": compare.all,
    "sum": reduce.sum, "mean": reduce.mean,
    "reshape": shape.reshape, "flatten": shape.flatten_dims, "clone": shape.clone,
}


def _gather() -> dict:
    found = dict(_CORE)
    package = sys.modules[__package__]
    for mod_name in sorted(vars(package)):
        funcs = getattr(getattr(package, mod_name), "TORCH_FUNCTIONS", None)
        if isinstance(funcs, dict):
            found.update(funcs)
    return found


_ALL = _gather()
globals().update(_ALL)
__all__ = sorted(_ALL)
