"""The registry of public ops (ops/_registry.py) against what users reach, and against PyTorch.

Every registered function is ``retrograd.<name>`` and every registered method is on
``retrograd.Tensor``. With torch installed, a name PyTorch offers both as ``torch.<name>`` and as
``torch.Tensor.<name>`` must be both here too: an op registered as a function but forgotten as a
method (or the reverse) fails here. ``dir(retrograd)`` lists public names only.
"""

from __future__ import annotations

import types

import retrograd
from retrograd.ops._registry import FUNCTIONS, METHODS

REGISTERED = sorted(set(FUNCTIONS) | set(METHODS))

# Names PyTorch has where retrograd deliberately does not, with the reason.
NOT_FUNCTIONS = {
    # in-place ops: PyTorch also has undocumented torch.abs_(x), ... aliases of the methods
    name: "in-place: a Tensor method only"
    for name in ("abs_", "clamp_", "exp_", "fill_", "index_put_", "log_", "neg_", "relu_",
                 "sigmoid_", "sqrt_", "tanh_", "zero_")
}
NOT_IN_TORCH = {
    "vector_norm": "PyTorch has it as torch.linalg.vector_norm; retrograd has no linalg module",
}

# The submodules PyTorch also has (under the same name, for the same purpose)
PUBLIC_SUBMODULES = {
    "accelerator",
    "autograd",
    "cuda",
    "distributed",
    "distributions",
    "func",
    "linalg",
    "nn",
    "onnx",
    "optim",
    "serialization",
    "utils",
}
# retrograd's own public submodules, which PyTorch does not have
OWN_SUBMODULES = {"datasets": "the 8x8 digits that ship with retrograd (load_digits)",
                  "viz": "drawings of the recorded graph and explain(loss)",
                  "debug": "diagnostics: why_no_grad, detect_leaks, memory_report",
                  "safetensors": "safetensors files (the safetensors package's torch API)"}


def test_registered_functions_are_exported():
    assert len(FUNCTIONS) > 50
    wrong = [name for name, fn in FUNCTIONS.items() if getattr(retrograd, name, None) is not fn]
    assert not wrong, f"registered but not retrograd.<name> (or another object): {wrong}"


def test_registered_methods_are_on_tensor():
    assert len(METHODS) > 50
    missing = [name for name in METHODS if name not in vars(retrograd.Tensor)]
    assert not missing, f"registered but not installed on Tensor: {missing}"


def test_function_and_method_as_pytorch_has_them(torch_ref):
    problems = []
    for name in REGISTERED:
        if name in NOT_FUNCTIONS:
            if hasattr(retrograd, name):
                problems.append(f"retrograd.{name} exists now: drop its entry in NOT_FUNCTIONS")
        elif callable(getattr(torch_ref, name, None)) and not hasattr(retrograd, name):
            problems.append(f"torch.{name} exists but retrograd.{name} does not: register it "
                            "as a function too")
        if hasattr(torch_ref.Tensor, name) and not hasattr(retrograd.Tensor, name):
            problems.append(f"torch.Tensor.{name} exists but retrograd.Tensor.{name} does not: "
                            "register it as a method too")
    assert not problems, "\n".join(problems)


def test_exported_functions_exist_in_pytorch(torch_ref):
    problems = []
    for name in FUNCTIONS:
        if name in NOT_IN_TORCH:
            if hasattr(torch_ref, name):
                problems.append(f"torch.{name} exists now: drop its entry in NOT_IN_TORCH")
        elif not hasattr(torch_ref, name):
            problems.append(f"retrograd.{name} has no torch.{name}")
    assert not problems, "\n".join(problems)


def test_exceptions_are_registered_names():
    assert set(NOT_FUNCTIONS) <= set(METHODS) and set(NOT_IN_TORCH) <= set(FUNCTIONS)


def test_public_submodules_are_pytorch_submodules(torch_ref):
    for name in PUBLIC_SUBMODULES:
        assert isinstance(getattr(torch_ref, name), types.ModuleType), f"torch.{name}"


def test_dir_has_no_future_import():
    assert "annotations" not in dir(retrograd)


def test_dir_lists_only_public_names_and_pytorch_submodules():
    names = [n for n in dir(retrograd) if not (n.startswith("__") and n.endswith("__"))]
    private = [n for n in names if n.startswith("_")]
    modules = [n for n in names if isinstance(getattr(retrograd, n), types.ModuleType)]
    assert not private, f"private names in dir(retrograd): {private}"
    extra = sorted(set(modules) - PUBLIC_SUBMODULES - set(OWN_SUBMODULES))
    assert not extra, f"helper modules in dir(retrograd) that PyTorch does not have: {extra}"
