"""Thread counts (retrograd/_threads.py) and the chunked elementwise kernels (ops/_parallel.py).

set/get round trips, PyTorch's errors for bad counts, the BLAS really using the count set, and
chunked kernels giving bitwise the one-call results (odd sizes, views, broadcasts, scalars,
promotion, out=, NumPy's error state)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import retrograd
from retrograd import _threads
from retrograd.ops import _parallel


@pytest.fixture
def restore_threads():
    before = retrograd.get_num_threads()
    yield
    retrograd.set_num_threads(before)


@pytest.fixture
def chunked(monkeypatch, restore_threads):
    """Chunk over 3 threads from 1,000 elements on (small arrays keep the tests fast)."""
    retrograd.set_num_threads(3)
    monkeypatch.setattr(_parallel, "min_size", 1000)
    yield
    monkeypatch.setattr(_parallel, "min_size", _parallel._NEVER)


# ---- set_num_threads / get_num_threads -----------------------------------------------------

def test_default_is_a_positive_count():
    assert retrograd.get_num_threads() >= 1
    assert retrograd.get_num_interop_threads() >= 1


def test_default_follows_omp_num_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert _threads._default_num_threads() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "nonsense")
    assert _threads._default_num_threads() == _threads._physical_cores()
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert _threads._default_num_threads() == _threads._physical_cores()


@pytest.mark.parametrize("n", [1, 2, 3, np.int64(2)])
def test_set_get_round_trip(restore_threads, n):
    retrograd.set_num_threads(n)
    got = retrograd.get_num_threads()
    assert got == n and type(got) is int


def test_blas_runs_with_the_count_set(restore_threads):
    if _threads.blas_num_threads() is None:
        pytest.skip("no OpenBLAS entry point found in this process")
    retrograd.set_num_threads(1)
    assert _threads.blas_num_threads() == 1
    retrograd.set_num_threads(2)
    assert _threads.blas_num_threads() == 2


def test_one_thread_never_chunks(restore_threads):
    retrograd.set_num_threads(1)
    assert _parallel.min_size == _parallel._NEVER
    retrograd.set_num_threads(2)
    assert _parallel.min_size == _parallel.THRESHOLD


def test_threshold_from_the_environment(monkeypatch):
    monkeypatch.delenv("RETROGRAD_PARALLEL_MIN_ELEMENTS", raising=False)
    assert _parallel._threshold() == _parallel.DEFAULT_MIN_ELEMENTS == 262144
    monkeypatch.setenv("RETROGRAD_PARALLEL_MIN_ELEMENTS", "262144")
    assert _parallel._threshold() == 262144
    monkeypatch.setenv("RETROGRAD_PARALLEL_MIN_ELEMENTS", "0")
    assert _parallel._threshold() == _parallel._NEVER


BAD = [0, -1, 1.5, "2", True, None, 2**31, -2**31 - 1]


def _error(fn, arg):
    try:
        fn(arg)
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return type(e), str(e)
    return None


@pytest.mark.parametrize("arg", BAD, ids=repr)
@pytest.mark.parametrize("name", ["set_num_threads", "set_num_interop_threads"])
def test_errors_as_pytorch(torch_ref, restore_threads, name, arg):
    before = retrograd.get_num_threads(), retrograd.get_num_interop_threads()
    ours, theirs = _error(getattr(retrograd, name), arg), _error(getattr(torch_ref, name), arg)
    assert ours is not None and theirs is not None
    assert ours[0] is theirs[0], (ours, theirs)
    # PyTorch's message first (ours says more, after it)
    assert ours[1].startswith(theirs[1].split(": ")[0]), (ours, theirs)
    assert (retrograd.get_num_threads(), retrograd.get_num_interop_threads()) == before


def test_interop_threads_set_once(monkeypatch):
    monkeypatch.setattr(_threads, "_interop", None)
    monkeypatch.setattr(_threads, "_interop_set", False)
    retrograd.set_num_interop_threads(3)
    assert retrograd.get_num_interop_threads() == 3
    with pytest.raises(RuntimeError, match="cannot set number of interop threads"):
        retrograd.set_num_interop_threads(2)
    assert retrograd.get_num_interop_threads() == 3


def test_names_exported_as_pytorch(torch_ref):
    for name in ("set_num_threads", "get_num_threads", "set_num_interop_threads",
                 "get_num_interop_threads"):
        assert callable(getattr(torch_ref, name)) and callable(getattr(retrograd, name))
        assert name in dir(retrograd)


# ---- chunked elementwise kernels -----------------------------------------------------------

def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("n", [1000, 1001, 4099, 30011])
@pytest.mark.parametrize("fn", [np.add, np.multiply, np.true_divide, np.sin, np.exp, np.tanh,
                                lambda g, y: g * (1 - y * y)], ids=str)
def test_chunked_is_bitwise_the_one_call(chunked, fn, n):
    rng = np.random.default_rng(n)
    arrays = [rng.standard_normal(n).astype(np.float32) for _ in range(
        fn.nin if isinstance(fn, np.ufunc) else 2)]
    with np.errstate(all="ignore"):
        assert _same(_parallel.elementwise(fn, *arrays, any_kernel=True), fn(*arrays))


def test_other_kernels_run_as_one_call(chunked):
    """A function that is not a ufunc may use its inputs' shapes: not chunked unless vouched."""
    a = np.arange(6000.0).reshape(2, 3000)
    seen = []

    def kernel(x, y):
        seen.append(x.shape)
        return x * y.reshape(2, 3000).sum(1, keepdims=True)

    assert _same(_parallel.elementwise(kernel, a, a), kernel(a, a))
    assert seen == [(2, 3000)] * 2


def test_chunked_shapes_views_scalars_and_promotion(chunked):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((37, 61))
    b = rng.standard_normal((37, 61)).astype(np.float32)
    cases = [
        (a, b),  # promotion float64 x float32
        (a, np.float32(2.5) * np.ones((), np.float32)),  # a zero-dim operand
        (a.T, a.T),  # not C-contiguous: one call
        (a[:, ::2], a[:, ::2]),  # strided view
        (a, a[0]),  # broadcast: one call
        (a.astype(np.int32), b),
    ]
    for x, y in cases:
        assert _same(_parallel.elementwise(np.multiply, x, y), np.multiply(x, y))
        assert _same(_parallel.elementwise(np.subtract, y, x), np.subtract(y, x))


def test_error_state_reaches_the_threads(chunked):
    a = np.zeros(5000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="ignore"):
            out = _parallel.elementwise(np.log, a)
    assert np.isneginf(out).all()
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        _parallel.elementwise(np.log, a)


def _step(x, y):
    a = x * y
    c = (a + x).sin() * y
    h = x.exp() / (y * y + 1)
    j = (c - h).tanh() + a.sigmoid() + (x - 0.5).relu() + (y * y + 1).log()
    return j.sum()


def test_forward_and_backward_bitwise_as_one_thread(chunked, restore_threads, monkeypatch):
    rng = np.random.default_rng(1)
    xa, ya = rng.standard_normal(5003).astype(np.float32), rng.standard_normal(5003)
    results = []
    calls = []
    run = _parallel._run
    monkeypatch.setattr(_parallel, "_run", lambda work, k: (calls.append(k), run(work, k)))
    for threads in (3, 1):
        retrograd.set_num_threads(threads)
        if threads > 1:
            _parallel.min_size = 1000
        x = retrograd.tensor(xa, requires_grad=True)
        y = retrograd.tensor(ya.astype(np.float32), requires_grad=True)
        loss = _step(x, y)
        loss.backward()
        results.append((loss.detach().numpy(), x.grad.numpy(), y.grad.numpy()))
    assert len(calls) > 10 and set(calls) == {3}  # forward and backward kernels were chunked
    for chunk, one in zip(*results):
        assert _same(chunk, one)


def test_out_argument_aliasing(chunked):
    rng = np.random.default_rng(2)
    a = rng.standard_normal(7001).astype(np.float32)
    b = rng.standard_normal(7001).astype(np.float32)
    x, y = retrograd.tensor(a), retrograd.tensor(b)
    retrograd.mul(x, y, out=x)  # the output is an input
    assert _same(x.numpy(), a * b)
    retrograd.add(y, y, out=y)
    assert _same(y.numpy(), b + b)


def test_against_torch_at_the_same_threads(chunked, torch_ref):
    rng = np.random.default_rng(3)
    xa, ya = rng.standard_normal(4001), rng.standard_normal(4001)
    x = retrograd.tensor(xa, requires_grad=True)
    y = retrograd.tensor(ya, requires_grad=True)
    tx = torch_ref.tensor(xa, requires_grad=True)
    ty = torch_ref.tensor(ya, requires_grad=True)
    _step(x, y).backward()
    # (a warm-up first: after test_errors_as_pytorch, PyTorch's first call of this step came
    # out wrong by up to 6e-8 in about one run of ten, its second call right; measured)
    _step(tx, ty).backward()
    tx.grad = ty.grad = None
    _step(tx, ty).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_kernels_with_several_results_and_unwanted_ones(chunked):
    rng = np.random.default_rng(3)
    g, a, b = (rng.standard_normal(6007).astype(np.float32) for _ in range(3))
    both = _parallel.elementwise(lambda g, a, b: (g / b, -g * (a / b / b)), g, a, b,
                                 any_kernel=True)
    assert _same(both[0], g / b) and _same(both[1], -g * (a / b / b))
    first = _parallel.elementwise(lambda g, b: (g / b, None), g, b, any_kernel=True)
    assert _same(first[0], g / b) and first[1] is None
    for out in both + first[:1]:  # each result owns its memory (the engine may keep it)
        assert out.base is None and out.flags.c_contiguous


def test_division_backward_chunked_is_bitwise_one_call(chunked):
    rng = np.random.default_rng(4)
    xa, ya = rng.standard_normal(5003), rng.standard_normal(5003) + 3
    grads = []
    for min_size in (1000, _parallel._NEVER):
        _parallel.min_size = min_size
        for need in ((True, True), (True, False), (False, True)):
            x = retrograd.tensor(xa, requires_grad=need[0])
            y = retrograd.tensor(ya, requires_grad=need[1])
            (x / y).sum().backward()
            grads.append((x.grad, y.grad))
    for (gx, gy), (hx, hy) in zip(grads[:3], grads[3:]):
        for chunked_grad, one in ((gx, hx), (gy, hy)):
            assert (chunked_grad is None) == (one is None)
            if one is not None:
                assert _same(chunked_grad.numpy(), one.numpy())


def test_add_into_sums_in_place(chunked):
    rng = np.random.default_rng(5)
    total, more = rng.standard_normal((71, 73)), rng.standard_normal((71, 73))
    expected = total + more
    _parallel.add_into(total, more)
    assert _same(total, expected)
    view = np.zeros((80, 80))[:71, :73]  # not contiguous: one call, same sum
    _parallel.add_into(view, more)
    assert _same(view, more)


def test_a_forked_child_starts_its_own_pool(chunked):
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    retrograd.set_num_threads(2)  # (one pool thread: idle in the parent when forked)
    _parallel.min_size = 1000
    a = np.arange(5000.0)
    _parallel.elementwise(np.multiply, a, a)  # the parent's pool exists now
    assert _parallel._pool is not None
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:  # (a child reusing the parent's pool would wait forever)
        result = pool.apply_async(_chunked_square_sum, (5000,)).get(timeout=20)
    assert result == float((a * a).sum())


def _chunked_square_sum(n: int) -> float:
    a = np.arange(float(n))
    return float(_parallel.elementwise(np.multiply, a, a).sum())
