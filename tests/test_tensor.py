"""Tensor basics: creation, dtypes and promotion, attributes, conversions, printing, errors."""

import itertools
import pickle

import numpy as np
import pytest

import retrograd as rg

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def test_default_dtypes_of_tensor():
    assert rg.tensor([1.0, 2.0]).dtype == rg.float32
    assert rg.tensor([1, 2]).dtype == rg.int64
    assert rg.tensor([True]).dtype == rg.bool
    assert rg.tensor(np.zeros(2)).dtype == rg.float64  # NumPy arrays keep their dtype
    assert rg.tensor([1, 2.5]).dtype == rg.float32
    assert rg.float is rg.float32 and rg.double is rg.float64 and rg.long is rg.int64
    assert repr(rg.float32) == "torch.float32"


def test_legacy_constructors_and_tensor_class():
    assert rg.FloatTensor([[1, 2]]).dtype == rg.float32
    assert rg.DoubleTensor([1]).dtype == rg.float64
    assert rg.LongTensor([1.7]).tolist() == [1]
    assert rg.Tensor([1, 2]).dtype == rg.float32
    assert rg.FloatTensor(2, 3).shape == (2, 3)


def test_creation_functions():
    assert rg.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert rg.ones((2,), dtype=rg.int64).tolist() == [1, 1]
    assert rg.full((2,), 7).dtype == rg.int64
    assert rg.full((2,), 7.5).tolist() == [7.5, 7.5]
    assert rg.empty(3).shape == (3,)
    assert rg.eye(2, 3).tolist() == [[1, 0, 0], [0, 1, 0]]
    assert rg.arange(5).tolist() == [0, 1, 2, 3, 4] and rg.arange(5).dtype == rg.int64
    assert rg.arange(1, 2, 0.25).tolist() == [1.0, 1.25, 1.5, 1.75]
    assert rg.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    x = rg.ones(2, 2, dtype=rg.float64)
    assert rg.zeros_like(x).dtype == rg.float64 and rg.ones_like(x).tolist() == [[1.0] * 2] * 2
    assert rg.full_like(x, 3).tolist() == [[3.0] * 2] * 2
    assert rg.ones(2, requires_grad=True).requires_grad


def test_random_creation_is_seeded():
    rg.manual_seed(3)
    a = rg.randn(4)
    rg.manual_seed(3)
    assert rg.randn(4).tolist() == a.tolist()
    assert a.dtype == rg.float32
    u = rg.rand(1000)
    assert 0 <= u.min().item() and u.max().item() < 1
    r = rg.randint(0, 5, (100,))
    assert r.dtype == rg.int64 and set(r.tolist()) <= set(range(5))
    assert sorted(rg.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    assert rg.randn_like(rg.zeros(2, 3, dtype=rg.float64)).dtype == rg.float64


def test_attributes():
    x = rg.zeros(2, 3)
    assert x.shape == (2, 3) and isinstance(x.shape, rg.Size)
    assert repr(x.shape) == "torch.Size([2, 3])"
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.dim() == 2 and x.ndim == 2 and x.numel() == 6
    assert x.device == rg.device("cpu") and str(x.device) == "cpu"
    assert x.is_leaf and not x.requires_grad and x.grad is None and x.grad_fn is None
    assert x.is_floating_point() and not rg.zeros(1, dtype=rg.int64).is_floating_point()
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.size(2)


def test_conversions():
    x = rg.tensor([[1.5, 2.0]])
    assert x.tolist() == [[1.5, 2.0]]
    assert rg.tensor(2.5).item() == 2.5 and float(rg.tensor([2.5])) == 2.5
    assert int(rg.tensor(3)) == 3 and len(x) == 1
    assert [t.tolist() for t in rg.tensor([1.0, 2.0])] == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(rg.tensor([1.0, 2.0]))
    assert bool(rg.tensor([1.0]))
    with pytest.raises(TypeError):
        len(rg.tensor(1.0))


def test_to_and_dtype_methods():
    x = rg.tensor([1.7, -2.2])
    assert x.to(rg.float32) is x
    assert x.double().dtype == rg.float64
    assert x.long().tolist() == [1, -2]
    assert x.int().dtype == rg.int32
    assert x.half().dtype == rg.float16
    assert x.bool().tolist() == [True, True]
    assert x.to("cpu") is x
    with pytest.raises(RuntimeError, match="not available"):
        x.to("cuda")


def test_clone_is_a_copy_and_contiguous():
    x = rg.tensor([1.0, 2.0])
    c = x.clone()
    c.add_(1)
    assert x.tolist() == [1.0, 2.0]
    assert x.contiguous() is x


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_type_promotion_matches_torch(a, b):
    torch = pytest.importorskip("torch")
    for a0, b0 in itertools.product([False, True], repeat=2):
        ta = torch.ones(() if a0 else (2,), dtype=getattr(torch, a))
        tb = torch.ones(() if b0 else (2,), dtype=getattr(torch, b))
        ra = rg.ones(() if a0 else (2,), dtype=getattr(rg, a))
        rb = rg.ones(() if b0 else (2,), dtype=getattr(rg, b))
        assert str((ra * rb).dtype) == str((ta * tb).dtype)
        assert str((ra + rb).dtype) == str((ta + tb).dtype)


@pytest.mark.parametrize("scalar", [2, 2.5, True])
@pytest.mark.parametrize("name", DTYPES)
def test_scalar_promotion_matches_torch(name, scalar):
    torch = pytest.importorskip("torch")
    for shape in [(), (2,)]:
        t = torch.ones(shape, dtype=getattr(torch, name)) * scalar
        r = rg.ones(shape, dtype=getattr(rg, name)) * scalar
        assert str(r.dtype) == str(t.dtype)


def test_int_division_gives_float():
    out = rg.tensor([1, 2]) / 2
    assert out.dtype == rg.float32 and out.tolist() == [0.5, 1.0]


def test_comparisons_and_logic():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == rg.bool and m.tolist() == [False, True, True] and not m.requires_grad
    assert (x == 2).tolist() == [False, True, False]
    assert ((x > 1) & (x < 3)).tolist() == [False, True, False]
    assert (~m).tolist() == [True, False, False]
    assert rg.equal(rg.tensor([1, 2]), rg.tensor([1, 2]))


def test_broadcast_error_names_shapes():
    with pytest.raises(RuntimeError,
                       match=r"size of tensor a \(2\) must match the size of tensor b \(3\)"):
        rg.ones(2) + rg.ones(3)


def test_unsupported_operand_type():
    with pytest.raises(TypeError):
        rg.ones(2) + "a"


def test_repr_matches_torch_for_common_cases():
    torch = pytest.importorskip("torch")
    cases = [
        lambda L: L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True) + 2,
        lambda L: L.tensor([1e-5, 1.0, 1e5]),
        lambda L: L.tensor([1, 2, 3]),
        lambda L: L.tensor([True, False]),
        lambda L: L.tensor([0.1, 0.2], dtype=L.float64),
        lambda L: L.tensor([0.5, -0.0]) * 1,
        lambda L: L.arange(2000).float(),
        lambda L: L.zeros(0, 3),
        lambda L: (L.tensor([2.0], requires_grad=True) * 3).sum(),
    ]
    for make in cases:
        assert repr(make(rg)) == repr(make(torch))


def test_set_printoptions():
    try:
        rg.set_printoptions(precision=2)
        assert repr(rg.tensor([1.23456])) == "tensor([1.23])"
    finally:
        rg.set_printoptions(profile="default")
    assert repr(rg.tensor([1.23456])) == "tensor([1.2346])"


def test_pickle_round_trip():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = pickle.loads(pickle.dumps(x))
    assert y.tolist() == [1.0, 2.0] and y.requires_grad and y.is_leaf


def test_from_numpy_rejects_unsupported_dtype():
    with pytest.raises(TypeError, match="can't convert"):
        rg.from_numpy(np.array(["a"]))


def test_tensor_from_list_of_tensors():
    t = rg.tensor([rg.tensor(1.0), rg.tensor(2.0)])
    assert t.tolist() == [1.0, 2.0]


def test_default_dtype_switch_changes_inference_and_printing():
    try:
        rg.set_default_dtype(rg.float64)
        t = rg.tensor([1.5, 2.0])
        assert t.dtype == rg.float64 and repr(t) == "tensor([1.5000, 2.0000])"
        assert repr(rg.tensor([1.5], dtype=rg.float32)) == "tensor([1.5000], dtype=torch.float32)"
        assert (rg.tensor([1, 2]) * 0.5).dtype == rg.float64
    finally:
        rg.set_default_dtype(rg.float32)
    with pytest.raises(TypeError):
        rg.set_default_dtype(rg.int64)


def test_generator_objects_give_reproducible_streams():
    g = rg.Generator().manual_seed(3)
    a = rg.randn(4, generator=g)
    assert rg.randn(4, generator=g).tolist() != a.tolist()
    g.manual_seed(3)
    assert rg.randn(4, generator=g).tolist() == a.tolist()
    state = g.get_state()
    first = rg.rand(2, generator=g).tolist()
    g.set_state(state)
    assert rg.rand(2, generator=g).tolist() == first
    assert g.initial_seed() == 3
    assert rg.manual_seed(5) is rg.default_generator and rg.initial_seed() == 5
    w = rg.empty(3)
    w.uniform_(0, 1, generator=rg.Generator().manual_seed(1))
    v = rg.empty(3)
    v.uniform_(0, 1, generator=rg.Generator().manual_seed(1))
    assert w.tolist() == v.tolist()
