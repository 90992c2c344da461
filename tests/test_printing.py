"""Tensor printing: ``retrograd._tensor_str`` must print exactly what PyTorch prints.

Literal expectations run everywhere; comparisons against real PyTorch tensors skip cleanly when
torch is not installed.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

_SRC = Path(__file__).resolve().parents[1] / "src"
if str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))


def _load_printing_module():
    """Import normally; fall back to the bare file while the package itself cannot import yet."""
    try:
        from retrograd import _tensor_str
    except Exception:  # noqa: BLE001 - any breakage of the package in progress, not just ImportError
        path = _SRC / "retrograd" / "_tensor_str.py"
        spec = importlib.util.spec_from_file_location("_retrograd_tensor_str_standalone", path)
        _tensor_str = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = _tensor_str  # dataclasses look the module up while it executes
        spec.loader.exec_module(_tensor_str)
    return _tensor_str


_printing = _load_printing_module()
tensor_repr = _printing.tensor_repr
set_printoptions = _printing.set_printoptions
get_printoptions = _printing.get_printoptions

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

DEFAULT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                   "sci_mode": None}
FLOAT_DTYPES = ["float16", "float32", "float64"]
INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8"]


@pytest.fixture(autouse=True)
def _restore_default_printoptions():
    yield
    set_printoptions(profile="default")
    if torch is not None:
        torch.set_printoptions(profile="default")


def set_both(**options) -> None:
    """Apply the same print options to retrograd and to PyTorch."""
    set_printoptions(**options)
    torch.set_printoptions(**options)


def dtype_name(array: np.ndarray) -> str:
    return array.dtype.name  # NumPy and PyTorch agree on the names of the supported dtypes


def assert_matches_torch(array, *, requires_grad: bool = False, with_grad_fn: bool = False):
    """Check our repr against PyTorch's for the same values (and autograd state)."""
    array = np.ascontiguousarray(array)  # torch.from_numpy rejects negative strides
    reference = torch.from_numpy(array.copy())
    grad_fn_name = None
    if requires_grad or with_grad_fn:
        reference.requires_grad_()
    if with_grad_fn:
        reference = reference * 1
        grad_fn_name = type(reference.grad_fn).__name__
    ours = tensor_repr(array, dtype_name(array), grad_fn_name=grad_fn_name,
                       requires_grad=requires_grad)
    expected = repr(reference)
    assert ours == expected, f"\nours:\n{ours}\ntorch:\n{expected}"
    assert str(reference) == expected


def mixed_magnitudes(rng: np.random.Generator, shape, low_exp: float, high_exp: float):
    """Random signed values whose magnitudes spread over 10**low_exp .. 10**high_exp."""
    signs = rng.choice([-1.0, 1.0], size=shape)
    return signs * 10.0 ** rng.uniform(low_exp, high_exp, size=shape)


# --- literal expectations (no PyTorch needed) ------------------------------------------------

@pytest.mark.parametrize(
    ("array", "dtype", "kwargs", "expected"),
    [
        ([[3.0, 4.0], [5.0, 6.0]], "float32", {"grad_fn_name": "AddBackward0"},
         "tensor([[3., 4.],\n        [5., 6.]], grad_fn=<AddBackward0>)"),
        (14.0, "float32", {"grad_fn_name": "SumBackward0"},
         "tensor(14., grad_fn=<SumBackward0>)"),
        ([[1.0, 1.0], [1.0, 1.0]], "float32", {"requires_grad": True},
         "tensor([[1., 1.],\n        [1., 1.]], requires_grad=True)"),
        ([[4.5, 4.5], [4.5, 4.5]], "float32", {},
         "tensor([[4.5000, 4.5000],\n        [4.5000, 4.5000]])"),
        (1 / 3, "float32", {}, "tensor(0.3333)"),
        ([113.0], "float32", {}, "tensor([113.])"),
        ([102.4, 1024.0, 0.1024], "float32", {},
         "tensor([1.0240e+02, 1.0240e+03, 1.0240e-01])"),
        ([2 / 3, -0.0, -0.0], "float32", {}, "tensor([0.6667, -0.0000, -0.0000])"),
        ([-2 / 3, 0.0, 0.0], "float32", {}, "tensor([-0.6667,  0.0000,  0.0000])"),
        ([1.0, 2.0], "float64", {}, "tensor([1., 2.], dtype=torch.float64)"),
        ([1, -20], "int64", {}, "tensor([  1, -20])"),
        ([1, 2], "int32", {}, "tensor([1, 2], dtype=torch.int32)"),
        ([True, False], "bool", {}, "tensor([ True, False])"),
        ([np.nan, -np.inf, 1.0], "float32", {}, "tensor([nan, -inf, 1.])"),
        ([], "float32", {}, "tensor([])"),
        ([], "int64", {}, "tensor([], dtype=torch.int64)"),
        (np.zeros((2, 0, 3)), "float32", {}, "tensor([], size=(2, 0, 3))"),
        ([1.0, 2.0], "float32", {"device": "cuda"}, "tensor([1., 2.], device='cuda:0')"),
        ([1.0, 2.0], "float32", {"device": "cuda:1", "requires_grad": True},
         "tensor([1., 2.], device='cuda:1', requires_grad=True)"),
        ([1.5], "float64", {"grad_fn_name": "MulBackward0", "requires_grad": True},
         "tensor([1.5000], dtype=torch.float64, grad_fn=<MulBackward0>)"),
    ],
)
def test_literal_output(array, dtype, kwargs, expected):
    assert tensor_repr(np.array(array), dtype, **kwargs) == expected


def test_long_row_wraps_with_seven_space_indent():
    expected = (
        "tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
        "        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000,\n"
        "        24.0000, 25.5000, 27.0000, 28.5000, 30.0000, 31.5000, 33.0000, 34.5000,\n"
        "        36.0000, 37.5000, 39.0000, 40.5000, 42.0000, 43.5000],\n"
        "       dtype=torch.float64)"
    )
    assert tensor_repr(np.arange(30) * 1.5, "float64") == expected


def test_summarised_literal():
    assert tensor_repr(np.arange(2000), "int64") == (
        "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])")


def test_no_edge_items_prints_only_size():
    set_printoptions(edgeitems=0)
    assert tensor_repr(np.arange(2000), "int64") == "tensor([...], size=(2000,))"
    assert tensor_repr(np.ones((40, 40)), "float32") == "tensor([...], size=(40, 40))"
    assert tensor_repr(np.array(1.5), "float32") == "tensor(1.5000, size=())"


def test_default_dtype_name_controls_dtype_suffix():
    assert tensor_repr(np.array([1.0]), "float64", default_dtype_name="float64") == "tensor([1.])"
    assert tensor_repr(np.array([1.0]), "float32", default_dtype_name="float64") == (
        "tensor([1.], dtype=torch.float32)")
    assert tensor_repr(np.array([]), "float64", default_dtype_name="float64") == "tensor([])"


def test_mismatched_array_dtype_is_converted():
    assert tensor_repr(np.array([0.1, 1e-12]), "float16") == (
        "tensor([0.1000, 0.0000], dtype=torch.float16)")
    assert tensor_repr([1, 2], "float32") == "tensor([1., 2.])"


def test_unknown_dtype_is_rejected():
    with pytest.raises(ValueError, match="complex64"):
        tensor_repr(np.array([1j]), "complex64")


def test_printoptions_round_trip():
    assert get_printoptions() == DEFAULT_OPTIONS
    set_printoptions(precision=2, linewidth=40, sci_mode=True)
    saved = get_printoptions()
    assert saved == {**DEFAULT_OPTIONS, "precision": 2, "linewidth": 40, "sci_mode": True}
    set_printoptions(profile="full")
    assert get_printoptions()["threshold"] == math.inf
    assert get_printoptions()["sci_mode"] is None  # every call resets sci_mode
    set_printoptions(**saved)
    assert get_printoptions() == saved
    set_printoptions(profile="short", precision=3)
    assert get_printoptions() == {**DEFAULT_OPTIONS, "precision": 3, "edgeitems": 2}
    set_printoptions(profile="no-such-profile")  # ignored, as in PyTorch
    assert get_printoptions()["precision"] == 3


def test_huge_tensor_is_summarised():
    values = np.random.default_rng(0).standard_normal(4_000_000).reshape(2000, 2000)
    text = tensor_repr(values.astype(np.float32), "float32")
    assert text.count("\n") == 6 and "..." in text


# --- comparisons against PyTorch ----------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(("low_exp", "high_exp"), [
    (-10, -9), (-5, -4), (-4, -3), (-2, 0), (0, 1), (0, 3), (2, 3), (3, 4), (7, 8), (8, 10),
    (-10, 10), (-6, 2), (1, 7),
])
def test_magnitudes_match_torch(dtype, low_exp, high_exp):
    rng = np.random.default_rng([low_exp + 20, high_exp + 20])
    for shape in [(), (5,), (3, 4), (2, 3, 4)]:
        with np.errstate(over="ignore"):  # float16 tops out at 65504; inf is a fine case too
            values = mixed_magnitudes(rng, shape, low_exp, high_exp).astype(dtype)
        assert_matches_torch(values)
        assert_matches_torch(np.round(values))


@needs_torch
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("values", [
    [0.0], [-0.0], [0.0, -0.0], [np.nan], [np.inf, -np.inf], [np.nan, 0.0, -0.0],
    [1.0, np.nan], [-1.5, np.inf], [1e-5, np.nan, -np.inf], [1e9, -0.0], [123456.0, 0.5],
    [0.0001, 1.0], [0.1, 100.0], [0.1, 100.1], [1.0, 1000.0], [1.0, 1001.0], [9.99996, 1.0],
    [-9.99996, 0.5], [65504.0, -65504.0], [6e-8, 1.0], [1e-4, 0.0999], [99999999.0, 1.0],
    [1e8, 2.0], [1e-100, 1e100], [-1e-300, 5e299], [2 / 3, -0.0, -0.0], [-2 / 3, 0.0, 0.0],
])
def test_special_values_match_torch(dtype, values):
    with np.errstate(over="ignore", under="ignore"):
        array = np.array(values).astype(dtype)
    assert_matches_torch(array)
    assert_matches_torch(array.reshape(-1, 1))
    if array.size == 1:
        assert_matches_torch(array.reshape(()))


@needs_torch
@pytest.mark.parametrize("dtype", [*INT_DTYPES, "uint16", "uint32", "uint64"])
def test_integers_match_torch(dtype):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(7)
    for shape in [(), (1,), (7,), (3, 5), (2, 3, 4), (2, 2, 2, 3), (40,)]:
        assert_matches_torch(rng.integers(info.min, info.max, size=shape, dtype=dtype,
                                          endpoint=True))
        assert_matches_torch(rng.integers(0, 10, size=shape, dtype=dtype))
    assert_matches_torch(np.array([info.min, info.max], dtype=dtype))


@needs_torch
def test_bools_match_torch():
    for shape in [(), (1,), (6,), (3, 4), (2, 2, 3)]:
        assert_matches_torch(np.ones(shape, dtype=bool))
        assert_matches_torch(np.random.default_rng(1).random(shape) > 0.5)
    assert_matches_torch(np.ones(50, dtype=bool))


@needs_torch
@pytest.mark.parametrize("shape", [
    (0,), (0, 3), (3, 0), (2, 0, 3), (0, 0, 0, 0), (1, 1, 1, 1), (2, 3, 4, 5), (1, 12, 1),
    (4, 1, 3), (2, 1, 2, 1), (3, 30),
])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int16", "bool"])
def test_shapes_match_torch(shape, dtype):
    values = np.random.default_rng(3).standard_normal(shape) * 50
    assert_matches_torch(values.astype(dtype))


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_autograd_suffixes_match_torch(dtype):
    rng = np.random.default_rng(11)
    for shape in [(), (3,), (2, 2), (9,), (10,), (11,), (2, 3, 4), (0,), (2, 0)]:
        values = rng.standard_normal(shape).astype(dtype)
        assert_matches_torch(values, requires_grad=True)
        assert_matches_torch(values, with_grad_fn=True)


@needs_torch
@pytest.mark.parametrize("linewidth", range(20, 100, 3))
def test_suffix_wrapping_at_every_linewidth(linewidth):
    set_both(linewidth=linewidth)
    rng = np.random.default_rng(linewidth)
    for length in [1, 3, 5, 7, 8, 12]:
        values = rng.standard_normal(length)
        assert_matches_torch(values, requires_grad=True)
        assert_matches_torch(values.astype(np.float32), with_grad_fn=True)
        assert_matches_torch(rng.integers(-99, 99, size=(2, length)).astype(np.int32))
        assert_matches_torch(np.zeros((length, 0)), requires_grad=True)


@needs_torch
@pytest.mark.parametrize("shape", [(1001,), (2000,), (7, 200), (50, 50), (10, 10, 11),
                                   (3, 4, 5, 20), (1, 1, 1200), (1200, 1)])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float16"])
def test_summarised_match_torch(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    values = (rng.standard_normal(shape) * 10).astype(dtype)
    assert_matches_torch(values)
    if dtype.startswith("float"):
        # Hidden elements must not influence the layout of the shown ones.
        flat = values.reshape(-1)
        flat[flat.size // 2] = 1e30 if dtype == "float32" else np.inf
        flat[flat.size // 2 + 1] = np.nan
        assert_matches_torch(values)
        assert_matches_torch(values, requires_grad=True)


@needs_torch
def test_huge_tensor_matches_torch():
    values = np.random.default_rng(5).standard_normal((3000, 3000)).astype(np.float32)
    assert_matches_torch(values)


@needs_torch
@pytest.mark.parametrize("options", [
    {"precision": 0}, {"precision": 1}, {"precision": 2}, {"precision": 8}, {"precision": 12},
    {"threshold": 0}, {"threshold": 5}, {"threshold": 24}, {"threshold": math.inf},
    {"edgeitems": 0}, {"edgeitems": 1}, {"edgeitems": 2}, {"edgeitems": 5},
    {"edgeitems": 0, "threshold": 5}, {"edgeitems": 1, "threshold": 5},
    {"linewidth": 1}, {"linewidth": 10}, {"linewidth": 40}, {"linewidth": 200},
    {"sci_mode": True}, {"sci_mode": False}, {"sci_mode": True, "precision": 2},
    {"profile": "default"}, {"profile": "short"}, {"profile": "full"},
    {"profile": "short", "precision": 5, "sci_mode": False},
])
def test_printoptions_match_torch(options):
    set_both(**options)
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    rng = np.random.default_rng(2)
    arrays = [
        np.array(3.14159), np.array([1.0, 2.0]), np.array([0.0, np.nan, -0.0]),
        np.array([1.5e-7, 2.0, -3e5]), np.arange(12).reshape(3, 4) / 3,
        rng.standard_normal((4, 30)), rng.standard_normal((2, 3, 9)) * 1e4,
        np.arange(1500).reshape(30, 50), rng.standard_normal(1200), np.arange(25) % 2 == 0,
        np.zeros((0, 2)),
    ]
    for values in arrays:
        assert_matches_torch(values)
        assert_matches_torch(values.astype(np.float32), requires_grad=True)


@needs_torch
def test_default_dtype_float64_matches_torch():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        for values in [np.array([1.5, 2.0]), np.array([1.5, 2.0], dtype=np.float32),
                       np.zeros(0), np.zeros((0, 2), dtype=np.float32), np.array([1, 2])]:
            expected = repr(torch.from_numpy(values))
            assert tensor_repr(values, dtype_name(values), default_dtype_name="float64") == expected
    finally:
        torch.set_default_dtype(previous)


@needs_torch
@pytest.mark.skipif(torch is None or not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_device_matches_torch():
    for values in [np.array([1.0, 2.0], dtype=np.float32), np.arange(100.0), np.zeros((0, 3))]:
        reference = torch.from_numpy(values).cuda().requires_grad_()
        ours = tensor_repr(values, dtype_name(values), device="cuda", requires_grad=True)
        assert ours == repr(reference)


@needs_torch
def test_noncontiguous_views_match_torch():
    base = np.random.default_rng(9).standard_normal((6, 8)).astype(np.float32)
    for view in [base.T, base[::2, 1::3], base[::-1], np.asfortranarray(base)]:
        expected = repr(torch.from_numpy(np.ascontiguousarray(view)))
        assert tensor_repr(view, "float32") == expected


# --- property test ------------------------------------------------------------------------

if torch is not None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    _DTYPES = st.sampled_from(FLOAT_DTYPES + INT_DTYPES + ["bool"])

    def _elements(dtype: str):
        if dtype == "bool":
            return st.booleans()
        if dtype in INT_DTYPES:
            return hnp.from_dtype(np.dtype(dtype))
        width = {"float16": 16, "float32": 32, "float64": 64}[dtype]
        # Mix arbitrary floats with "ordinary" scaled ones so that every layout mode shows up.
        scaled = st.builds(lambda m, e: _representable(m * 10.0 ** e, dtype),
                           st.floats(-10, 10), st.integers(-12, 12))
        return st.one_of(st.floats(width=width), scaled,
                         st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5]))

    def _representable(value: float, dtype: str) -> float:
        with np.errstate(over="ignore", under="ignore"):
            return float(np.dtype(dtype).type(value))

    @st.composite
    def _tensors(draw):
        dtype = draw(_DTYPES)
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6))
        with np.errstate(over="ignore"):
            return draw(hnp.arrays(np.dtype(dtype), shape, elements=_elements(dtype)))

    _OPTIONS = st.fixed_dictionaries({}, optional={
        "precision": st.integers(0, 10),
        "threshold": st.integers(0, 300),
        "edgeitems": st.integers(0, 4),
        "linewidth": st.integers(10, 120),
        "sci_mode": st.sampled_from([None, True, False]),
    })

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(values=_tensors(), options=_OPTIONS, requires_grad=st.booleans())
    def test_property_matches_torch(values, options, requires_grad):
        set_both(profile="default", **options)
        try:
            assert_matches_torch(values, requires_grad=requires_grad and values.dtype.kind == "f")
        finally:
            set_both(profile="default")
