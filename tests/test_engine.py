"""The engine: graph shapes, ordering, accumulation, freeing, hooks, higher order, errors."""

import gc
import weakref

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import grad


def leaf(values, dtype=rg.float64):
    return rg.tensor(values, dtype=dtype, requires_grad=True)


def test_a_plus_a_counts_the_edge_twice():
    a = leaf([1.0, 2.0])
    (a + a).sum().backward()
    assert a.grad.tolist() == [2.0, 2.0]


def test_a_times_a():
    a = leaf([3.0, -2.0])
    (a * a).sum().backward()
    assert a.grad.tolist() == [6.0, -4.0]


def test_diamond():
    a = leaf([1.0, 2.0])
    b = a * 2
    c = b * 3 + b * 4  # dc/da = 14
    c.sum().backward()
    assert a.grad.tolist() == [14.0, 14.0]


def test_fan_out_to_many_consumers():
    a = leaf([1.0])
    total = a * 0
    for k in range(1, 11):
        total = total + a * k
    total.backward()
    assert a.grad.tolist() == [55.0]


def test_broadcasting_gradients_are_summed_to_input_shape():
    a = leaf(np.ones((2, 3)))
    b = leaf([1.0, 2.0, 3.0])
    c = leaf(5.0)
    (a * b + c).sum().backward()
    assert b.grad.shape == (3,) and b.grad.tolist() == [2.0, 2.0, 2.0]
    assert c.grad.shape == () and c.grad.item() == 6.0
    assert a.grad.tolist() == [[1.0, 2.0, 3.0]] * 2


def test_keepdim_broadcast_gradient():
    a = leaf(np.arange(6.0).reshape(2, 3))
    b = leaf([[1.0], [2.0]])
    (a * b).sum().backward()
    assert b.grad.shape == (2, 1)
    assert b.grad.tolist() == [[3.0], [12.0]]


def test_very_deep_chain_backpropagates_and_is_freed():
    x = leaf(1.0, dtype=rg.float32)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    ref = weakref.ref(y.grad_fn)
    y.backward()
    assert x.grad.item() == 1.0
    del y
    assert ref() is None  # freed by reference counting, no recursion error


def test_mixed_dtypes_gradients_come_back_in_each_inputs_dtype():
    a = rg.tensor([1.0, 2.0], dtype=rg.float32, requires_grad=True)
    b = rg.tensor(3.0, dtype=rg.float64, requires_grad=True)  # 0-d: float32 result
    out = a * b
    assert out.dtype == rg.float32
    out.sum().backward()
    assert a.grad.dtype == rg.float32 and b.grad.dtype == rg.float64
    assert b.grad.item() == 3.0


def test_accumulation_and_zero():
    x = leaf([1.0, 2.0])
    for _ in range(3):
        (x * x).sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]
    g = x.grad
    g.zero_()
    (x * x).sum().backward()
    assert x.grad is g  # accumulated in place after the first store
    assert x.grad.tolist() == [2.0, 4.0]


def test_first_grad_is_not_an_alias_of_the_users_gradient():
    x = leaf([1.0, 2.0])
    v = rg.tensor([1.0, 1.0], dtype=rg.float64)
    (x + 0).backward(v)
    x.grad.zero_()
    assert v.tolist() == [1.0, 1.0]


def test_add_gradients_of_two_leaves_are_independent():
    a, b = leaf([1.0]), leaf([2.0])
    (a + b).sum().backward()
    a.grad.zero_()
    assert b.grad.tolist() == [1.0]


def test_second_backward_without_retain_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    assert x.grad.tolist() == [2.0, 4.0]  # the failed call added nothing


def test_retain_graph_allows_second_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_saved_tensors_are_released_after_backward():
    x = leaf([1.0, 2.0])
    h = x * 3
    hidden_ref = weakref.ref(h)
    y = (h * h).sum()  # MulBackward0 saves h twice
    del h
    gc.collect()
    assert hidden_ref() is not None  # kept alive by the graph
    y.backward()
    gc.collect()
    assert hidden_ref() is None  # released once backward used it


def test_saved_output_creates_no_reference_cycle():
    gc.disable()
    try:
        x = leaf([0.5])
        y = x.exp()
        ref = weakref.ref(y)
        node_ref = weakref.ref(y.grad_fn)
        del y
        assert ref() is None and node_ref() is None
    finally:
        gc.enable()


def test_graph_memory_is_flat_in_a_training_loop():
    w = leaf(np.ones(4))
    counts = []
    for step in range(30):
        loss = ((w * 2 - 1) ** 2).sum()
        loss.backward()
        with rg.no_grad():
            w -= 0.01 * w.grad
        w.grad.zero_()
        if step in (5, 29):
            gc.collect()
            counts.append(sum(type(o) is rg.Tensor for o in gc.get_objects()))
    assert counts[1] <= counts[0]


def test_backward_on_non_scalar_needs_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (x * 2).backward()
    assert x.grad is None


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        rg.ones(2).sum().backward()


def test_gradient_of_wrong_shape_raises_and_changes_nothing():
    x = leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        y.backward(rg.ones(3, dtype=rg.float64))
    y.backward(rg.ones(2, dtype=rg.float64))
    assert x.grad.tolist() == [2.0, 2.0]


def test_backward_of_a_leaf_itself():
    x = leaf([1.0, 2.0])
    x.backward(rg.tensor([3.0, 4.0], dtype=rg.float64))
    assert x.grad.tolist() == [3.0, 4.0]


def test_autograd_grad_does_not_touch_dot_grad():
    x = leaf([1.0, 2.0])
    y = (x ** 2).sum()
    (g,) = grad(y, x)
    assert g.tolist() == [2.0, 4.0]
    assert x.grad is None


def test_autograd_grad_of_intermediate_and_leaf():
    x = leaf([2.0])
    h = x * 3
    y = (h * h).sum()
    gh, gx = grad(y, [h, x])
    assert gh.tolist() == [12.0] and gx.tolist() == [36.0]


def test_autograd_grad_unused_input():
    x, z = leaf([1.0]), leaf([1.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="not have been used"):
        grad(y, [x, z])
    y = (x * 2).sum()
    gx, gz = grad(y, [x, z], allow_unused=True)
    assert gx.tolist() == [2.0] and gz is None
    y = (x * 2).sum()
    gx, gz = grad(y, [x, z], materialize_grads=True)
    assert gz.tolist() == [0.0]


def test_autograd_grad_with_grad_outputs():
    x = leaf([1.0, 2.0])
    y = x * x
    (g,) = grad(y, x, grad_outputs=rg.tensor([1.0, 10.0], dtype=rg.float64))
    assert g.tolist() == [2.0, 40.0]


def test_second_and_third_derivatives():
    x = leaf(2.0)
    y = x ** 4
    (g1,) = grad(y, x, create_graph=True)
    (g2,) = grad(g1, x, create_graph=True)
    (g3,) = grad(g2, x)
    assert (g1.item(), g2.item(), g3.item()) == (32.0, 48.0, 48.0)


def test_create_graph_backward_gives_grad_with_graph():
    x = leaf([1.0, 2.0])
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (g2,) = grad(x.grad.sum(), x)
    assert g2.tolist() == [6.0, 12.0]


def test_backward_inputs_only_fills_those():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    h = x * w
    (h * 2).sum().backward(inputs=[w, h])
    assert x.grad is None
    assert w.grad.tolist() == [2.0, 4.0]
    assert h._grad.tolist() == [2.0, 2.0]


def test_tensor_hooks_run_in_order_and_can_replace_grad():
    x = leaf([1.0, 2.0])
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(("first", g.tolist())))
    y.register_hook(lambda g: g * 10)
    y.register_hook(lambda g: seen.append(("third", g.tolist())))
    y.sum().backward()
    assert seen == [("first", [1.0, 1.0]), ("third", [10.0, 10.0])]
    assert x.grad.tolist() == [20.0, 20.0]


def test_leaf_hook_runs_before_accumulation_and_handle_removes():
    x = leaf([1.0])
    h = x.register_hook(lambda g: g * 3)
    (x * 2).sum().backward()
    assert x.grad.tolist() == [6.0]
    h.remove()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [8.0]


def test_retain_grad_sees_hooked_gradient():
    x = leaf([1.0])
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 5)
    (y * 3).sum().backward()
    assert y.grad.tolist() == [15.0]  # retain_grad runs after the tensor's other hooks
    assert x.grad.tolist() == [30.0]


def test_nonleaf_grad_warns_without_retain_grad():
    x = leaf([1.0])
    y = x * 2
    y.sum().backward()
    with pytest.warns(UserWarning, match="non-leaf"):
        assert y.grad is None


def test_node_hooks():
    x = leaf([1.0, 2.0])
    y = x * 3
    calls = []
    y.grad_fn.register_prehook(lambda gouts: calls.append("pre"))
    y.grad_fn.register_hook(lambda gins, gouts: calls.append(("post", gins[0].tolist())))
    y.sum().backward()
    assert calls == ["pre", ("post", [3.0, 3.0])]


def test_next_functions_and_accumulate_grad_variable():
    x = leaf([1.0])
    y = x * 2 + 1
    add = y.grad_fn
    assert type(add).__name__ == "AddBackward0"
    (mul, nr), (none, _) = add.next_functions
    assert type(mul).__name__ == "MulBackward0" and none is None and nr == 0
    acc = mul.next_functions[0][0]
    assert type(acc).__name__ == "AccumulateGrad" and acc.variable is x
    assert x.grad_fn is None and x._get_accumulator() is acc  # one node per leaf


def test_no_recursion_when_collecting_a_wide_and_deep_graph():
    x = leaf(np.ones(3))
    parts = [x * float(i) for i in range(200)]
    y = parts[0]
    for p in parts[1:]:
        y = y + p
    y.sum().backward()
    assert x.grad.tolist() == [float(sum(range(200)))] * 3


def test_grad_mode_is_restored_after_error_in_backward():
    class Boom(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom")

    x = leaf([1.0])
    with pytest.raises(ValueError):
        Boom.apply(x).sum().backward(create_graph=True)
    assert rg.is_grad_enabled()
    assert x.grad is None


def test_nodes_name_what_they_saved():
    x = leaf([1.0, -2.0, 3.0])
    y = x.pow(2)
    assert y.grad_fn._saved_self is x
    assert (x ** 3).grad_fn._saved_exponent == 3
    e = x.exp()
    assert e.grad_fn._saved_result.tolist() == e.tolist()
    m = x * e
    assert m.grad_fn._saved_self is x and m.grad_fn._saved_other is e
    assert "_saved_other" in dir(m.grad_fn)
    m.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        _ = m.grad_fn._saved_self
    with pytest.raises(AttributeError):
        _ = m.grad_fn._saved_nothing


def test_arrays_kept_on_ctx_are_freed_after_backward():
    x = leaf([[1.0, 5.0], [7.0, 2.0]])
    values, _ = x.max(dim=1)
    node = values.grad_fn
    values.sum().backward()
    assert "_saved_idx" not in node.__dict__
    assert x.grad.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    with pytest.raises(RuntimeError, match="second time"):
        values.sum().backward()
