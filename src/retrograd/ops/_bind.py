"""Bind the ops onto ``Tensor`` as methods and operators.

Each ops module may define ``TENSOR_METHODS`` (name -> function taking the tensor first); this
file adds the operators and the methods of the core modules, then installs them all.
"""

from __future__ import annotations

import sys

from ..tensor import Tensor
from . import compare, inplace, reduce, shape
from . import elementwise as ew
from . import unary as un


def _commuted(fn):
    """``3 * x`` calls ``x.__rmul__(3)``: PyTorch records it as ``mul(x, 3)``."""
    def method(self, other):
        if not isinstance(other, (Tensor, bool, int, float)):
            return NotImplemented
        return fn(self, other)

    return method


def _forward_only(fn):
    def method(self, other):
        if not isinstance(other, (Tensor, bool, int, float)):
            import numpy as np

            if not isinstance(other, (np.ndarray, np.generic)):
                return NotImplemented
        return fn(self, other)

    return method


def _rsub(self, other):
    if not isinstance(other, (Tensor, bool, int, float)):
        return NotImplemented
    if isinstance(other, Tensor):
        return ew.sub(other, self)
    return ew.RsubScalar.apply(self, other)


def _rtruediv(self, other):
    if not isinstance(other, (Tensor, bool, int, float)):
        return NotImplemented
    if isinstance(other, Tensor):
        return ew.div(other, self)
    return ew.reciprocal(self) * other


def _rpow(self, other):
    if not isinstance(other, (bool, int, float)):
        return NotImplemented
    return ew.pow(other, self)


def _dtype_method(dtype_name: str):
    from .. import dtypes

    dt = getattr(dtypes, dtype_name)

    def method(self, memory_format=None):
        return shape.to(self, dt)

    method.__name__ = dtype_name
    return method


def _square(x):
    return ew.pow(x, 2)


CORE_METHODS = {
    # arithmetic
    "__add__": ew.add, "__radd__": _commuted(ew.add),
    "__sub__": ew.sub, "__rsub__": _rsub,
    "__mul__": ew.mul, "__rmul__": _commuted(ew.mul),
    "__truediv__": ew.div, "__rtruediv__": _rtruediv,
    "__pow__": _forward_only(ew.pow), "__rpow__": _rpow,
    "__neg__": ew.neg, "__pos__": lambda x: x, "__abs__": un.abs,
    "__iadd__": inplace.add_, "__isub__": inplace.sub_, "__imul__": inplace.mul_,
    "__itruediv__": inplace.div_, "__ipow__": inplace.pow_,
    "add": ew.add, "sub": ew.sub, "subtract": ew.sub, "mul": ew.mul, "multiply": ew.mul,
    "div": ew.div, "divide": ew.div, "true_divide": ew.div, "pow": ew.pow, "neg": ew.neg,
    "negative": ew.neg, "square": _square, "reciprocal": lambda x: ew.reciprocal(x),
    "exp": un.exp, "log": un.log, "log1p": un.log1p, "sqrt": un.sqrt, "rsqrt": un.rsqrt,
    "sin": un.sin, "cos": un.cos, "tan": un.tan, "tanh": un.tanh, "sigmoid": un.sigmoid,
    "relu": un.relu, "abs": un.abs, "absolute": un.abs, "sign": un.sign, "floor": un.floor,
    "ceil": un.ceil, "round": un.round, "trunc": un.trunc, "clamp": un.clamp, "clip": un.clamp,
    "maximum": ew.maximum, "minimum": ew.minimum,
    "where": lambda x, condition, y: ew.where(condition, x, y),
    # comparisons and logic
    "__eq__": compare.eq, "__ne__": compare.ne, "__lt__": compare.lt, "__le__": compare.le,
    "__gt__": compare.gt, "__ge__": compare.ge, "eq": compare.eq, "ne": compare.ne,
    "lt": compare.lt, "le": compare.le, "gt": compare.gt, "ge": compare.ge,
    "__and__": compare.bitwise_and, "__or__": compare.bitwise_or,
    "__xor__": compare.bitwise_xor, "__invert__": compare.bitwise_not,
    "logical_not": compare.logical_not, "logical_and": compare.logical_and,
    "logical_or": compare.logical_or, "logical_xor": compare.logical_xor,
    "isnan": compare.isnan, "isinf": compare.isinf, "isfinite": compare.isfinite,
    "equal": compare.equal, "allclose": compare.allclose, "isclose": compare.isclose,
    "any": compare.any, "all": compare.all,
    # reductions
    "sum": reduce.sum, "mean": reduce.mean,
    # shapes and conversions
    "view": shape.view, "reshape": shape.reshape, "expand": shape.expand,
    "expand_as": shape.expand_as, "view_as": shape.view_as, "reshape_as": shape.reshape_as,
    "sum_to_size": shape.sum_to_size, "to": shape.to, "clone": shape.clone,
    "contiguous": shape.contiguous, "flatten": shape.flatten_dims,
    "float": _dtype_method("float32"), "double": _dtype_method("float64"),
    "half": _dtype_method("float16"), "long": _dtype_method("int64"),
    "int": _dtype_method("int32"), "bool": _dtype_method("bool"),
    "cpu": lambda x, memory_format=None: x,
    # in place
    "add_": inplace.add_, "sub_": inplace.sub_, "mul_": inplace.mul_, "div_": inplace.div_,
    "pow_": inplace.pow_, "clamp_": inplace.clamp_, "neg_": inplace.neg_,
    "zero_": inplace.zero_, "fill_": inplace.fill_, "copy_": inplace.copy_,
    "exp_": inplace._unary_inplace("exp"), "log_": inplace._unary_inplace("log"),
    "sqrt_": inplace._unary_inplace("sqrt"), "tanh_": inplace._unary_inplace("tanh"),
    "sigmoid_": inplace._unary_inplace("sigmoid"), "relu_": inplace._unary_inplace("relu"),
    "abs_": inplace._unary_inplace("abs"),
}


def bind_methods() -> None:
    """Install every ops module's methods on Tensor (core first, then the others)."""
    for name, fn in CORE_METHODS.items():
        setattr(Tensor, name, fn)
    package = sys.modules[__package__]
    for mod_name in sorted(vars(package)):
        mod = getattr(package, mod_name)
        methods = getattr(mod, "TENSOR_METHODS", None)
        if isinstance(methods, dict):
            for name, fn in methods.items():
                setattr(Tensor, name, fn)
