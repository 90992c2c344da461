"""Backward from several threads at once: accumulation into a shared ``.grad`` loses nothing.

Each test runs a race many times with a tiny GIL switch interval (so threads interleave inside
the engine as often as possible) and checks exact sums: with two contributions per leaf the sum
does not depend on the order in which they arrive.
"""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn

REPS = 1000


@pytest.fixture
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def _run_together(*fns) -> None:
    """Start one thread per function, released together by a barrier; re-raise any error."""
    barrier = threading.Barrier(len(fns))
    errors = []

    def body(fn):
        try:
            barrier.wait()
            fn()
        except BaseException as e:  # noqa: BLE001 - reported in the main thread
            errors.append(e)

    threads = [threading.Thread(target=body, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_two_threads_backward_into_one_fresh_leaf(fast_switching):
    expected = np.full(3, 3.0, np.float32)
    lost = 0
    for _ in range(REPS):
        w = rg.ones(3, requires_grad=True)  # fresh: no .grad, no AccumulateGrad node yet
        _run_together(lambda w=w: (w * 1.0).sum().backward(),
                      lambda w=w: (w * 2.0).sum().backward())
        lost += not np.array_equal(w.grad.numpy(), expected)
    assert lost == 0, f"{lost} of {REPS} concurrent backward calls lost a gradient"


def test_shared_model_zero_grad_then_two_concurrent_backward_calls(fast_switching):
    rg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    x1, x2 = rg.randn(2, 3, dtype=rg.float64), rg.randn(2, 3, dtype=rg.float64)
    params = list(model.parameters())
    # The reference: the same two backward calls, one after the other.
    expected = []
    for set_to_none in (True, False):
        model.zero_grad(set_to_none=set_to_none)
        model(x1).sum().backward()
        model(x2).sum().backward()
        expected.append([p.grad.numpy().copy() for p in params])
    wrong = 0
    for step in range(REPS):
        set_to_none = step % 2 == 0  # both the first-gradient path and in-place addition
        model.zero_grad(set_to_none=set_to_none)
        _run_together(lambda: model(x1).sum().backward(), lambda: model(x2).sum().backward())
        want = expected[0 if set_to_none else 1]
        wrong += not all(np.array_equal(p.grad.numpy(), e) for p, e in zip(params, want))
    assert wrong == 0, f"{wrong} of {REPS} steps ended with a wrong .grad"


def test_concurrent_create_graph_and_retain_grad_accumulation(fast_switching):
    # The out-of-place paths: .grad that requires grad (create_graph) and a retained non-leaf.
    for _ in range(REPS // 5):
        w = rg.tensor([1.0, 2.0], dtype=rg.float64, requires_grad=True)
        h = w * w
        h.retain_grad()

        def run(k, h=h):
            return lambda: (h * k).sum().backward(retain_graph=True, create_graph=True)

        _run_together(run(1.0), run(2.0))
        np.testing.assert_array_equal(h.grad.detach().numpy(), [3.0, 3.0])
        np.testing.assert_array_equal(w.grad.detach().numpy(), [6.0, 12.0])
        assert w.grad.requires_grad  # the out-of-place path: current + g


def test_backward_with_inputs_from_two_threads(fast_switching):
    for _ in range(REPS // 2):
        w = rg.ones(2, requires_grad=True)
        u = w * 1.0
        def run(k, u=u, w=w):
            return lambda: (u * k).sum().backward(inputs=[w], retain_graph=True)

        _run_together(run(2.0), run(5.0))
        np.testing.assert_array_equal(w.grad.numpy(), [7.0, 7.0])


def test_hook_registered_while_hooks_of_the_same_node_run():
    # Hooks run from a snapshot of the hook dicts: a hook registered meanwhile (here by a hook,
    # as another thread could) on another output of the same node is not an error.
    w = rg.ones(2, requires_grad=True)
    a, b = (w * 2.0).unbind()
    assert a.grad_fn is b.grad_fn
    seen = []

    def first(g):
        seen.append("a")
        b.register_hook(lambda g: seen.append("b"))

    a.register_hook(first)
    (a + b).backward()
    assert seen[0] == "a"
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0])


def test_grad_mode_is_per_thread():
    seen = {}

    def worker():
        seen["worker"] = rg.is_grad_enabled()

    with rg.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        seen["main"] = rg.is_grad_enabled()
    assert seen == {"worker": True, "main": False}


# ---- registration races: check-then-set of a leaf's AccumulateGrad node and of hook dicts ----


def _race_many(make, n_threads: int = 4, reps: int = REPS) -> int:
    """Runs ``make()`` (which returns (per-thread functions, check)) ``reps`` times with its
    functions racing; returns how many times ``check()`` failed."""
    failed = 0
    for _ in range(reps):
        fns, check = make(n_threads)
        _run_together(*fns)
        failed += not check()
    return failed


def test_hooks_registered_at_once_on_a_fresh_leaf_all_run(fast_switching):
    """Each thread's first hook on a fresh leaf makes (or finds) its AccumulateGrad node: one
    node, so every hook runs."""
    def make(n):
        w = rg.ones(2, requires_grad=True)  # no AccumulateGrad node yet
        calls = []
        fns = [lambda w=w, i=i: w.register_hook(lambda g, i=i: calls.append(i)) for i in range(n)]
        return fns, lambda: ((w * 1).sum().backward(), sorted(calls) == list(range(n)))[1]
    assert _race_many(make) == 0


def test_hooks_and_retain_grad_at_once_on_a_fresh_node(fast_switching):
    """Tensor hooks, retain_grad, node pre-hooks and post-hooks registered by racing threads on
    a node that has none yet: none is lost."""
    def make(n):
        x = rg.ones(2, requires_grad=True)
        y = x * 2
        calls = []
        fns = [lambda: y.register_hook(lambda g: calls.append("tensor")),
               lambda: y.retain_grad(),
               lambda: y.grad_fn.register_prehook(lambda gs: calls.append("pre")),
               lambda: y.grad_fn.register_hook(lambda gi, go: calls.append("post")),
               lambda: y.register_hook(lambda g: calls.append("tensor"))][:n + 1]

        def check():
            y.sum().backward()
            return sorted(calls) == ["post", "pre", "tensor", "tensor"] and y.grad is not None
        return fns, check
    assert _race_many(make) == 0
