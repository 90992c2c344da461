"""User-defined Functions, grad mode, in-place ops and version counters, detach/data."""

import threading

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import Function, grad


def leaf(values, dtype=rg.float64):
    return rg.tensor(values, dtype=dtype, requires_grad=True)


# ---- custom Functions ------------------------------------------------------------------------


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 3 * x ** 2


class MulConst(Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out * ctx.k, None


class ExpOut(Function):
    @staticmethod
    def forward(ctx, x):
        out = x.exp()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        (out,) = ctx.saved_tensors
        return grad_out * out


class SplitTwo(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, g1, g2):
        return g1 * 2 + g2 * 3


def test_custom_function_forward_backward_and_name():
    x = leaf([1.0, 2.0])
    y = Cube.apply(x)
    assert type(y.grad_fn).__name__ == "CubeBackward"
    assert not y.requires_grad or y.grad_fn is not None
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]


def test_custom_function_forward_runs_without_recording():
    seen = []

    class Spy(Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(rg.is_grad_enabled())
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g

    Spy.apply(leaf([1.0]))
    assert seen == [False]


def test_custom_function_with_non_tensor_argument():
    x = leaf([1.0, 2.0])
    y = MulConst.apply(x, 5.0)
    assert len(y.grad_fn.next_functions) == 1
    y.sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_custom_function_needs_input_grad():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b):
            seen.append(ctx.needs_input_grad)
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g, g

    Probe.apply(leaf([1.0]), rg.tensor([2.0], dtype=rg.float64))
    assert seen == [(True, False)]


def test_custom_function_saving_its_output_is_twice_differentiable():
    x = leaf([0.5, 1.0])
    y = ExpOut.apply(x)
    (g,) = grad(y.sum(), x, create_graph=True)
    (g2,) = grad(g.sum(), x)
    np.testing.assert_allclose(g2.detach().numpy(), np.exp([0.5, 1.0]))


def test_custom_function_multiple_outputs_missing_grad_is_zeros():
    x = leaf([1.0])
    a, b = SplitTwo.apply(x)
    a.sum().backward()  # b receives no gradient: materialised as zeros
    assert x.grad.tolist() == [2.0]


def test_custom_function_wrong_number_of_grads():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g

    out = Bad.apply(leaf([1.0]), leaf([2.0]))
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        out.sum().backward()


def test_custom_function_gradcheck():
    x = leaf([0.3, -0.7, 1.1])
    assert rg.autograd.gradcheck(Cube.apply, (x,))
    assert rg.autograd.gradgradcheck(Cube.apply, (x,))


def test_once_differentiable_refuses_double_backward():
    class Sq(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @rg.autograd.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return rg.tensor(2 * x.detach().numpy() * g.detach().numpy())

    x = leaf([3.0])
    Sq.apply(x).sum().backward()
    assert x.grad.tolist() == [6.0]
    (g,) = grad((Sq.apply(x) * x).sum(), x, create_graph=True)  # first order still works
    assert g.tolist() == [27.0]
    with pytest.raises(RuntimeError, match="once_differentiable"):
        grad(g.sum(), x)


def test_mark_non_differentiable():
    class ArgSort(Function):
        @staticmethod
        def forward(ctx, x):
            idx = rg.tensor(np.argsort(x.detach().numpy()).astype(np.float64))
            ctx.mark_non_differentiable(idx)
            return x * 1, idx

        @staticmethod
        def backward(ctx, g, g_idx):
            return g

    y, idx = ArgSort.apply(leaf([3.0, 1.0]))
    assert y.requires_grad and not idx.requires_grad


# ---- grad mode -----------------------------------------------------------------------------


def test_no_grad_context_and_decorator():
    x = leaf([1.0])
    with rg.no_grad():
        assert not (x * 2).requires_grad
        with rg.enable_grad():
            assert (x * 2).requires_grad
    assert (x * 2).requires_grad

    @rg.no_grad()
    def f():
        return x * 2

    @rg.no_grad
    def g():
        return x * 2

    assert not f().requires_grad and not g().requires_grad
    assert rg.is_grad_enabled()


def test_set_grad_enabled_function_and_context():
    x = leaf([1.0])
    with rg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert rg.is_grad_enabled()
    rg.set_grad_enabled(False)
    try:
        assert not rg.is_grad_enabled()
    finally:
        rg.set_grad_enabled(True)


def test_inference_mode():
    x = leaf([1.0])
    with rg.inference_mode():
        assert not (x * 2).requires_grad
        assert rg.is_inference_mode_enabled()
    with rg.inference_mode(False):
        assert (x * 2).requires_grad


def test_grad_mode_is_thread_local():
    results = []

    def worker():
        results.append(rg.is_grad_enabled())

    with rg.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert results == [True]


# ---- in-place ops and versions ----------------------------------------------------------------


def test_inplace_on_leaf_requiring_grad_raises_and_changes_nothing():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    assert x.tolist() == [1.0, 2.0] and x._version == 0


def test_inplace_on_leaf_under_no_grad_is_allowed():
    x = leaf([1.0, 2.0])
    with rg.no_grad():
        x.mul_(2).add_(1)
        x[0] = 10.0
    assert x.is_leaf and x.requires_grad
    assert x.tolist() == [10.0, 5.0]


def test_version_counter_and_saved_tensor_check():
    x = leaf([1.0, 2.0])
    y = x * 1
    z = y * y
    assert y._version == 0
    y.add_(1)
    assert y._version == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_inplace_on_nonleaf_is_recorded():
    x = leaf([1.0, 2.0])
    y = x * 1
    y.mul_(3)
    assert type(y.grad_fn).__name__ == "MulBackward0"
    y.add_(x)  # y = 3x + x
    y.sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]


def test_inplace_with_grad_requiring_argument_on_plain_tensor():
    w = leaf([2.0, 3.0])
    buf = rg.zeros(2, dtype=rg.float64)
    buf.add_(w * w)
    assert buf.requires_grad and not buf.is_leaf
    buf.sum().backward()
    assert w.grad.tolist() == [4.0, 6.0]


def test_inplace_dtype_and_shape_errors():
    i = rg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.add_(0.5)
    f = rg.zeros(2)
    with pytest.raises(RuntimeError):
        f.add_(rg.ones(3, 2))
    assert f.tolist() == [0.0, 0.0]


def test_iadd_operators_are_inplace():
    t = rg.zeros(2)
    alias = t
    t += 1
    t *= 3
    assert alias is t and t.tolist() == [3.0, 3.0]


def test_zero_fill_copy_clamp():
    t = rg.tensor([-1.0, 0.5, 2.0])
    assert t.clamp_(0, 1) is t and t.tolist() == [0.0, 0.5, 1.0]
    assert t.fill_(7).tolist() == [7.0] * 3
    assert t.zero_().tolist() == [0.0] * 3
    assert t.copy_(rg.tensor([1.0, 2.0, 3.0])).tolist() == [1.0, 2.0, 3.0]
    assert t.copy_(rg.tensor(4.0)).tolist() == [4.0] * 3


def test_copy_into_tracked_tensor_gives_gradient_to_source():
    src = leaf([1.0, 2.0])
    dst = rg.zeros(2, dtype=rg.float64)
    dst.copy_(src * 2)
    dst.sum().backward()
    assert src.grad.tolist() == [2.0, 2.0]


# ---- detach, data, requires_grad ----------------------------------------------------------------


def test_detach_shares_memory_and_version():
    x = leaf([1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    d.add_(1)
    assert x.tolist() == [2.0, 3.0]
    assert x._version == 1


def test_data_shares_memory_but_not_graph():
    x = leaf([1.0, 2.0])
    y = x * 2
    assert not y.data.requires_grad
    x.data.mul_(10)
    assert x.tolist() == [10.0, 20.0]
    y.sum().backward()  # mul by a constant saved nothing of x
    assert x.grad.tolist() == [2.0, 2.0]


def test_detach_inplace():
    x = leaf([1.0])
    y = x * 2
    assert y.detach_() is y
    assert y.is_leaf and not y.requires_grad


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="floating point"):
        rg.tensor([1, 2], requires_grad=True)
    x = leaf([1.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    z = rg.ones(2)
    z.requires_grad = True
    assert z.requires_grad and z.is_leaf


def test_numpy_conversion_rules():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    arr = np.array([1.0, 2.0])
    t = rg.from_numpy(arr)
    arr[0] = 5.0
    assert t.tolist() == [5.0, 2.0]
    assert np.asarray(t) is t.numpy()


def test_untracked_inplace_arithmetic_writes_in_place_and_bumps_version():
    w = leaf([1.0, 2.0])
    data = w._data
    y = w * w  # saves w at version 0
    with rg.no_grad():
        w -= 0.5 * rg.ones(2, dtype=rg.float64)
        w.mul_(2).add_(1).div_(2)
    assert w._data is data and w._version == 4
    assert w.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    f = rg.zeros(2, dtype=rg.float32)
    f += rg.ones(2, dtype=rg.float64)  # computed in float64, stored as float32
    assert f.dtype == rg.float32 and f.tolist() == [1.0, 1.0]
