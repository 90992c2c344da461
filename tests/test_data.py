"""retrograd.utils.data: datasets, samplers, DataLoader batching and shuffling, random_split,
and the digits dataset."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import retrograd as rg
from retrograd.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    random_split,
)


class Squares(Dataset):
    """A map-style dataset without the batch fast path: sample i is (i, i*i) as numbers."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return {"x": rg.tensor([float(i), 1.0]), "y": i * i}


def _xy(n=10):
    x = rg.arange(n * 3, dtype=rg.float32).reshape(n, 3)
    y = rg.arange(n)
    return x, y


# ---- datasets ---------------------------------------------------------------------------------


def test_tensor_dataset_indexing_and_length():
    x, y = _xy()
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    xi, yi = ds[4]
    assert xi.tolist() == [12.0, 13.0, 14.0] and yi.item() == 4
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(x, rg.arange(9))


def test_subset_and_concat():
    x, y = _xy()
    ds = TensorDataset(x, y)
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and sub[1][1].item() == 2
    both = ds + Squares(4)
    assert isinstance(both, ConcatDataset) and len(both) == 14
    assert both[11]["y"] == 1 and both[-1]["y"] == 9 and both[3][1].item() == 3
    with pytest.raises(ValueError, match="should not be an empty"):
        ConcatDataset([])


def test_random_split_lengths_fractions_and_reproducibility():
    ds = Squares(10)
    a, b = random_split(ds, [3, 7], generator=np.random.default_rng(0))
    assert len(a) == 3 and len(b) == 7
    assert sorted(a.indices + b.indices) == list(range(10))
    a2, _ = random_split(ds, [3, 7], generator=np.random.default_rng(0))
    assert a.indices == a2.indices
    parts = random_split(Squares(11), [0.5, 0.3, 0.2], generator=np.random.default_rng(1))
    assert [len(p) for p in parts] == [6, 3, 2]  # floors 5, 3, 2; the remaining 1 goes first
    rg.manual_seed(5)
    first = random_split(ds, [5, 5])[0].indices
    rg.manual_seed(5)
    assert random_split(ds, [5, 5])[0].indices == first  # the global generator is seeded
    assert random_split(ds, [5, 5], generator=rg.manual_seed(5))[0].indices == first


def test_random_split_bad_lengths():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(Squares(10), [3, 3])
    with pytest.raises(ValueError, match="not between 0 and 1"):
        random_split(Squares(10), [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(Squares(2), [0.9, 0.1])
    with pytest.raises(TypeError, match="generator must be"):
        random_split(Squares(4), [2, 2], generator=42)


# ---- DataLoader -------------------------------------------------------------------------------


def test_loader_batches_in_order_with_a_short_last_batch():
    x, y = _xy(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    xb, yb = batches[0]
    assert isinstance(batches[0], list)  # like PyTorch's default_collate for tuple samples
    assert xb.shape == rg.Size([4, 3]) and xb.dtype == rg.float32 and yb.dtype == rg.int64
    assert xb.tolist()[1] == [3.0, 4.0, 5.0]


def test_loader_drop_last():
    x, y = _xy(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [b[1].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_shuffle_is_a_fresh_permutation_each_epoch_and_reproducible_with_a_generator():
    x, y = _xy(20)
    ds = TensorDataset(x, y)

    def epochs(gen):
        loader = DataLoader(ds, batch_size=6, shuffle=True, generator=gen)
        return [np.concatenate([b[1].numpy() for b in loader]).tolist() for _ in range(2)]

    e1, e2 = epochs(np.random.default_rng(7))
    assert sorted(e1) == list(range(20)) and sorted(e2) == list(range(20))
    assert e1 != e2 and e1 != list(range(20))
    assert epochs(np.random.default_rng(7)) == [e1, e2]
    rg.manual_seed(3)
    g1 = epochs(None)
    rg.manual_seed(3)
    assert epochs(None) == g1


def test_fast_path_and_general_path_give_the_same_batches():
    """TensorDataset batches are gathered in one go; a general dataset goes sample by sample;
    a custom collate_fn or sampler disables the fast path. All must agree."""
    x, y = _xy(13)
    ds = TensorDataset(x, y)
    fast = list(DataLoader(ds, batch_size=5, shuffle=True, generator=np.random.default_rng(1)))
    slow = list(DataLoader(ds, batch_size=5, shuffle=True, generator=np.random.default_rng(1),
                           collate_fn=lambda b: default_collate(b)))
    assert len(fast) == len(slow) == 3
    for (fx, fy), (sx, sy) in zip(fast, slow):
        np.testing.assert_array_equal(fx.numpy(), sx.numpy())
        np.testing.assert_array_equal(fy.numpy(), sy.numpy())
    sub = Subset(ds, [12, 0, 5, 3])
    assert [b[1].tolist() for b in DataLoader(sub, batch_size=3)] == [[12, 0, 5], [3]]


def test_dict_samples_numbers_and_general_datasets():
    loader = DataLoader(Squares(5), batch_size=2)
    first = next(iter(loader))
    assert set(first) == {"x", "y"}
    assert first["x"].tolist() == [[0.0, 1.0], [1.0, 1.0]]
    assert first["y"].tolist() == [0, 1] and first["y"].dtype == rg.int64
    assert len(list(loader)) == 3


def test_default_collate_kinds():
    Point = namedtuple("Point", "a b")
    out = default_collate([Point(1.0, True), Point(2.5, False)])
    assert isinstance(out, Point) and out.a.dtype == rg.float64 and out.b.dtype == rg.bool
    arrays = default_collate([np.ones((2, 2), np.float32), np.zeros((2, 2), np.float32)])
    assert arrays.shape == rg.Size([2, 2, 2]) and arrays.dtype == rg.float32
    assert default_collate(["a", "b"]) == ["a", "b"]
    assert [t.tolist() for t in default_collate([[1, 2], [3, 4]])] == [[1, 3], [2, 4]]
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([rg.zeros(2), rg.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])


def test_collate_keeps_the_graph_for_tensors_that_require_grad():
    w = rg.ones(3, requires_grad=True)
    batch = default_collate([w * 2, w * 3])
    batch.sum().backward()
    assert w.grad.tolist() == [5.0, 5.0, 5.0]


def test_batch_size_none_and_custom_samplers():
    x, y = _xy(4)
    ds = TensorDataset(x, y)
    unbatched = list(DataLoader(ds, batch_size=None))
    assert len(unbatched) == 4 and unbatched[2][1].item() == 2
    loader = DataLoader(ds, sampler=SubsetRandomSampler([3, 1], generator=np.random.default_rng(0)))
    assert sorted(b[1].item() for b in loader) == [1, 3]
    bs = BatchSampler(SequentialSampler(ds), batch_size=3, drop_last=False)
    assert [b[1].tolist() for b in DataLoader(ds, batch_sampler=bs)] == [[0, 1, 2], [3]]
    assert list(bs) == [[0, 1, 2], [3]] and len(bs) == 2


def test_random_sampler_with_replacement_and_more_samples_than_data():
    ds = Squares(5)
    s = RandomSampler(ds, replacement=True, num_samples=50, generator=np.random.default_rng(0))
    draws = list(s)
    assert len(draws) == 50 and set(draws) <= set(range(5))
    s = RandomSampler(ds, num_samples=12, generator=np.random.default_rng(0))
    draws = list(s)
    assert len(draws) == 12 and sorted(draws[:5]) == list(range(5))


def test_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(rg.tensor([float(i)]) for i in range(7))

    batches = list(DataLoader(Stream(), batch_size=3))
    assert [b.shape[0] for b in batches] == [3, 3, 1]
    assert [b.shape[0] for b in DataLoader(Stream(), batch_size=3, drop_last=True)] == [3, 3]
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(), shuffle=True)


def test_num_workers_is_accepted_and_loading_stays_in_process():
    x, y = _xy(6)
    loader = DataLoader(TensorDataset(x, y), batch_size=3, num_workers=4, pin_memory=True,
                        persistent_workers=False)
    assert [b[1].tolist() for b in loader] == [[0, 1, 2], [3, 4, 5]]


def test_loader_bad_input():
    x, y = _xy(4)
    ds = TensorDataset(x, y)
    with pytest.raises(ValueError, match="empty dataset"):
        DataLoader(TensorDataset(rg.zeros(0, 3)), batch_size=2)
    with pytest.raises(ValueError, match="empty dataset"):
        DataLoader(Subset(ds, []), shuffle=True)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_sampler=BatchSampler(SequentialSampler(ds), 2, False), batch_size=3)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="mutually exclusive with drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)


def test_loader_matches_torch_batching(torch_ref):
    """Same dataset, same index order (sequential): same batches as PyTorch's DataLoader."""
    xs = np.random.default_rng(0).standard_normal((11, 2, 3)).astype(np.float32)
    ys = np.arange(11)
    ours = list(DataLoader(TensorDataset(rg.tensor(xs), rg.tensor(ys)), batch_size=4))
    ref = list(torch_ref.utils.data.DataLoader(
        torch_ref.utils.data.TensorDataset(torch_ref.tensor(xs), torch_ref.tensor(ys)),
        batch_size=4))
    assert len(ours) == len(ref)
    for (ox, oy), (tx, ty) in zip(ours, ref):
        np.testing.assert_array_equal(ox.numpy(), tx.numpy())
        np.testing.assert_array_equal(oy.numpy(), ty.numpy())
        assert str(ox.dtype) == str(tx.dtype) and str(oy.dtype) == str(ty.dtype)


# ---- the digits dataset -----------------------------------------------------------------------


def test_load_digits():
    from retrograd.datasets import load_digits

    images, labels = load_digits()
    assert images.shape == rg.Size([1797, 8, 8]) and images.dtype == rg.float32
    assert labels.shape == rg.Size([1797]) and labels.dtype == rg.int64
    arr = images.numpy()
    assert arr.min() == 0.0 and arr.max() == 1.0
    assert np.all(np.isclose(arr * 16, np.round(arr * 16)))  # pixel counts 0..16, scaled
    counts = np.bincount(labels.numpy(), minlength=10)
    assert counts.sum() == 1797 and counts.min() >= 170  # about 180 images per digit
    again, _ = load_digits()
    again.numpy()[0, 0, 0] = 5.0  # each call returns fresh tensors
    assert load_digits()[0].numpy()[0, 0, 0] == arr[0, 0, 0]
