"""PyTorch's older API that tutorials still use: per-dtype tensor types, ``Tensor.type``,
``Tensor.new``, ``autograd.Variable`` and the ``nn.modules`` file layout."""

from __future__ import annotations

import pytest

import retrograd as rg

LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
          "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_types_build_and_check_like_pytorch(name, torch_ref):
    ours, theirs = getattr(rg, name), getattr(torch_ref, name)
    assert repr(ours([1, 0, 1])) == repr(theirs([1, 0, 1]))
    assert ours(2, 3).shape == tuple(theirs(2, 3).shape)
    assert ours(rg.Size([2])).shape == (2,)
    for dtype in ("float32", "int64", "bool"):
        t, tt = rg.zeros(2, dtype=getattr(rg, dtype)), torch_ref.zeros(2, dtype=getattr(
            torch_ref, dtype))
        assert isinstance(t, ours) == isinstance(tt, theirs)
        assert t.type() == tt.type()
        converted, expected = t.type(ours), tt.type(theirs)
        assert converted.dtype.name == str(expected.dtype).split(".")[1]
        assert t.type(f"torch.{name}").dtype == converted.dtype


def test_type_returns_self_when_unchanged_and_refuses_bad_names():
    t = rg.zeros(2)
    assert t.type(rg.float32) is t
    with pytest.raises(ValueError, match="invalid type"):
        t.type("torch.NoSuchTensor")
    with pytest.raises(TypeError):
        t.type(3)


def test_new_follows_the_tensors_dtype(torch_ref):
    for dtype in ("float64", "int32"):
        t, tt = rg.zeros(1, dtype=getattr(rg, dtype)), torch_ref.zeros(
            1, dtype=getattr(torch_ref, dtype))
        assert repr(t.new([1, 2])) == repr(tt.new([1, 2]))
        assert t.new(2, 3).shape == tuple(tt.new(2, 3).shape)
        assert t.new().shape == tuple(tt.new().shape)


def test_variable_and_data_behave_as_a_tensor():
    v = rg.autograd.Variable(rg.ones(2), requires_grad=True)
    (v * 3).sum().backward()
    assert v.grad.tolist() == [3.0, 3.0]
    assert v.data.requires_grad is False


def test_nn_modules_layout_holds_the_same_classes(torch_ref):
    import importlib

    for sub, cls in (("linear", "Linear"), ("rnn", "LSTM"), ("activation", "MultiheadAttention"),
                     ("container", "ModuleList"), ("sparse", "Embedding"),
                     ("transformer", "TransformerEncoderLayer"), ("dropout", "Dropout"),
                     ("normalization", "LayerNorm"), ("linear", "NonDynamicallyQuantizableLinear")):
        module = importlib.import_module(f"retrograd.nn.modules.{sub}")
        assert hasattr(importlib.import_module(f"torch.nn.modules.{sub}"), cls)
        ours = getattr(module, cls)
        assert ours is getattr(rg.nn, cls, ours)
    assert rg.nn.modules.Module is rg.nn.Module
    with pytest.raises(AttributeError):
        rg.nn.modules.linear.NoSuchLayer  # noqa: B018


def test_onnx_export_says_it_is_unsupported():
    import retrograd.onnx

    with pytest.raises(NotImplementedError, match="ONNX"):
        retrograd.onnx.export(rg.nn.Linear(2, 2), rg.zeros(1, 2), "model.onnx")
