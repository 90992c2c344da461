"""The ``out=`` wrapper of ``retrograd.<name>`` (ops/out_arg.py ``_with_out``) keeps the
function's name, signature, defaults and errors, and keeps ``out`` keyword-only."""

import inspect

import numpy as np
import pytest

import retrograd
from retrograd.ops.out_arg import _with_out


def test_wrapper_keeps_name_signature_and_defaults():
    assert retrograd.sum.__name__ == "sum"
    assert inspect.signature(retrograd.sum) == inspect.signature(retrograd.sum.__wrapped__)
    x = retrograd.tensor([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(retrograd.sum(x, 1, keepdim=True)._data, [[3.0], [7.0]])
    np.testing.assert_array_equal(retrograd.sum(x, dim=0)._data, [4.0, 6.0])


def test_out_is_written_and_returned():
    x = retrograd.tensor([0.5, -1.0])
    out = retrograd.empty(2)
    assert retrograd.tanh(x, out=out) is out
    np.testing.assert_allclose(out._data, np.tanh([0.5, -1.0]), rtol=1e-6)
    out = retrograd.empty(1)
    retrograd.sum(x, 0, True, out=out)
    np.testing.assert_allclose(out._data, [-0.5])


def test_unknown_keyword_is_a_type_error_naming_the_function():
    with pytest.raises(TypeError, match="tanh"):
        retrograd.tanh(retrograd.ones(2), foo=1)


def test_out_stays_keyword_only():
    with pytest.raises(TypeError):
        retrograd.tanh(retrograd.ones(2), retrograd.empty(2))


def test_functions_with_star_args_get_the_generic_wrapper():
    def f(*tensors, scale=1.0):
        return tensors[0] * scale

    wrapped = _with_out(f)
    out = retrograd.empty(2)
    assert wrapped(retrograd.ones(2), scale=2.0, out=out) is out
    np.testing.assert_array_equal(out._data, [2.0, 2.0])
    np.testing.assert_array_equal(wrapped(retrograd.ones(2))._data, [1.0, 1.0])
