"""``out=`` on the functions of ``ops/out_arg.OUT_FUNCTIONS``, compared with PyTorch: values,
dtypes, tuple outs (``max(x, dim)``, ``sort``, ``topk``), resizing with its warning, and the
refusals (a float result into an integer out; anything requiring grad)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd.ops.out_arg import OUT_FUNCTIONS

RNG = np.random.default_rng(7)
A = RNG.uniform(0.1, 0.9, (3, 4))  # inside every unary op's domain
B = RNG.uniform(0.1, 0.9, (3, 4))
C = RNG.uniform(1.1, 2.0, (3, 4))  # acosh
SQ = RNG.standard_normal((3, 3))
BATCH = RNG.standard_normal((2, 3, 3))
V = RNG.standard_normal(3)
MASK = A > 0.5
IDX = np.array([[0, 2], [1, 1], [3, 0]])

UNARY = ("exp exp2 log log2 log10 log1p expm1 sqrt rsqrt abs neg negative sin cos tan asin acos "
         "atan sinh cosh tanh asinh atanh sigmoid erf erfc erfinv floor ceil round trunc frac "
         "sign sgn reciprocal logical_not square").split()
BINARY = ("maximum minimum fmax fmin eq ne lt le gt ge logical_and logical_or logical_xor atan2 "
          "hypot remainder fmod logaddexp xlogy floor_divide true_divide float_power pow").split()


def _spec(name):
    """(positional arrays / values, keyword arguments) of a call of ``name``."""
    if name in UNARY:
        return (A,), {}
    if name == "acosh":
        return (C,), {}
    if name in BINARY:
        return (A, B), {}
    table = {
        "cat": (([A, B],), {}), "concat": (([A, B], 1), {}), "concatenate": (([A, B],), {}),
        "stack": (([A, B],), {}), "hstack": (([A, B],), {}), "vstack": (([A, B],), {}),
        "dstack": (([A, B],), {}), "sum": ((A, 1), {}), "mean": ((A, 0), {}),
        "prod": ((A, 1), {}), "nansum": ((A, 1), {}), "clamp": ((A, 0.3, 0.6), {}),
        "clip": ((A,), {"min": 0.4}), "where": ((MASK, A, B), {}), "mm": ((SQ, SQ), {}),
        "bmm": ((BATCH, BATCH), {}), "addmm": ((SQ, SQ, SQ), {}), "addmv": ((V, SQ, V), {}),
        "addbmm": ((SQ, BATCH, BATCH), {}), "baddbmm": ((BATCH, BATCH, BATCH), {}),
        "mv": ((SQ, V), {}), "dot": ((V, V), {}), "outer": ((V, V), {}),
        "max": ((A, 1), {}), "min": ((A, 0), {}), "amax": ((A, 1), {}), "amin": ((A, 0), {}),
        "argmax": ((A, 1), {}), "argmin": ((A, 0), {}), "sort": ((A, 1), {}),
        "topk": ((A, 2), {}), "kthvalue": ((A, 2, 1), {}), "mode": ((np.round(A * 3), 1), {}),
        "cummax": ((A, 1), {}), "cummin": ((A, 0), {}), "cumsum": ((A, 1), {}),
        "cumprod": ((A, 0), {}), "logsumexp": ((A, 1), {}), "std": ((A, 1), {}),
        "var": ((A, 0), {}), "lerp": ((A, B, 0.3), {}), "addcmul": ((A, A, B), {}),
        "addcdiv": ((A, A, B), {"value": 0.5}), "diag": ((SQ,), {}), "tril": ((SQ,), {}),
        "triu": ((SQ, 1), {}), "gather": ((A, 1, IDX), {}), "index_select": ((A, 1, IDX[0]), {}),
        "masked_select": ((A, MASK), {}), "kron": ((SQ, SQ), {}), "cross": ((SQ, SQ), {"dim": 1}),
        "all": ((MASK, 1), {}), "any": ((MASK, 0), {}), "median": ((A, 1), {}),
        "nanmedian": ((A, 1), {}),
    }
    return table[name]


def _convert(lib, x):
    if isinstance(x, np.ndarray):
        return lib.tensor(x)
    if isinstance(x, list):
        return [_convert(lib, v) for v in x]
    return x


def _call(lib, name, out=None):
    args, kwargs = _spec(name)
    args = [_convert(lib, a) for a in args]
    if out is not None:
        kwargs = {**kwargs, "out": out}
    return getattr(lib, name)(*args, **kwargs)


def _empty_like_result(lib, result):
    if isinstance(result, tuple):
        return tuple(lib.empty(0, dtype=r.dtype) for r in result)
    return lib.empty(0, dtype=result.dtype)


@pytest.mark.parametrize("name", OUT_FUNCTIONS)
def test_out_matches_torch(torch_ref, name):
    torch = torch_ref
    if name in ("add", "sub", "mul", "div", "matmul"):
        pytest.skip("out= in the op's own signature: tests/test_api_*.py")
    if not hasattr(rg, name):
        pytest.skip(f"retrograd has no {name}")
    expected = _call(torch, name)
    t_out = _empty_like_result(torch, expected)
    t_ret = _call(torch, name, out=t_out)  # PyTorch takes out= here too
    mine = _call(rg, name)
    r_out = tuple(rg.empty(0, dtype=getattr(rg, str(t.dtype).split(".")[1])) for t in t_out) \
        if isinstance(t_out, tuple) else rg.empty(0, dtype=getattr(rg, str(t_out.dtype)[6:]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty out is resized without a warning
        r_ret = _call(rg, name, out=r_out)
    pairs = list(zip(r_out, t_out)) if isinstance(t_out, tuple) else [(r_out, t_out)]
    for r, t in pairs:
        assert str(r.dtype) == str(t.dtype)
        assert np.allclose(r.numpy(), t.numpy(), equal_nan=True), name
    if isinstance(t_ret, tuple):
        assert all(a is b for a, b in zip(r_ret, r_out)) and type(r_ret).__name__ == type(
            t_ret).__name__
        assert np.allclose(r_ret[0].numpy(), mine[0].numpy())
    else:
        assert r_ret is r_out and np.allclose(r_ret.numpy(), mine.numpy(), equal_nan=True)


def test_out_rules_match_torch(torch_ref):
    torch = torch_ref
    for lib in (torch, rg):
        x = lib.tensor(A)
        wrong = lib.zeros(2)
        with pytest.warns(UserWarning, match="was resized"):
            lib.exp(x, out=wrong)
        assert tuple(wrong.shape) == (3, 4)
        assert np.allclose(wrong.numpy(), np.exp(A))
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
            lib.sqrt(x, out=lib.zeros(3, 4, dtype=lib.int64))
        wide = lib.zeros(3, dtype=lib.float64)
        lib.sum(lib.ones(3, 4, dtype=lib.int64), 1, out=wide)  # int into float: allowed
        assert wide.tolist() == [4.0, 4.0, 4.0]
        g = lib.tensor(A, requires_grad=True)
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            lib.cat([g, x], out=lib.empty(0))
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            lib.max(g, 1, out=(lib.empty(0), lib.empty(0, dtype=lib.int64)))
        with lib.no_grad():
            o = lib.empty(0)
            lib.tanh(g, out=o)
        assert not o.requires_grad
        v0 = o._version
        lib.tanh(x, out=o)
        assert o._version > v0


def test_out_is_only_a_function_argument():
    x = rg.tensor(A)
    with pytest.raises(TypeError):
        x.exp(out=rg.empty(0))
    with pytest.raises(TypeError, match="must be Tensor"):
        rg.exp(x, out=np.empty(3))
    with pytest.raises(TypeError, match="tuple of 2 Tensors"):
        rg.max(x, 1, out=rg.empty(0))
    assert rg.exp.__name__ == "exp" and rg.exp.__doc__ == rg.Tensor.exp.__doc__
