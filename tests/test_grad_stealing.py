"""The engine stores a fresh gradient in ``.grad`` without copying it when nothing else can
reach it, and copies it otherwise (Note [Stealing gradients] in autograd/engine.py)."""

import numpy as np

import retrograd


class _Times3(retrograd.autograd.Function):
    """Backward returns a new array and records its id (not a reference to it)."""

    ids: list = []

    @staticmethod
    def forward(ctx, w):
        return w * 1

    @staticmethod
    def backward(ctx, g):
        out = g * 3
        _Times3.ids.append(id(out._data))
        return out


def test_fresh_gradient_is_taken_without_a_copy():
    _Times3.ids.clear()
    w = retrograd.ones(3, requires_grad=True)
    _Times3.apply(w).sum().backward()
    assert id(w.grad._data) == _Times3.ids[0]
    g = w.grad._data
    assert g.base is None and g.flags.c_contiguous and g.flags.writeable
    np.testing.assert_array_equal(g, [3.0, 3.0, 3.0])


def test_gradient_kept_by_a_hook_is_copied():
    w = retrograd.ones(3, requires_grad=True)
    kept = []
    w.register_hook(lambda g: kept.append(g))
    (w * 2).sum().backward()
    assert w.grad._data is not kept[0]._data
    (w * 2).sum().backward()  # adds into w.grad in place
    np.testing.assert_array_equal(kept[0]._data, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(w.grad._data, [4.0, 4.0, 4.0])


def test_one_tensor_sent_to_two_leaves_is_not_shared():
    class Both(retrograd.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            out = g * 5
            return out, out

    a = retrograd.ones(2, requires_grad=True)
    b = retrograd.ones(2, requires_grad=True)
    Both.apply(a, b).sum().backward()
    assert not np.shares_memory(a.grad._data, b.grad._data)
    Both.apply(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad._data, [10.0, 10.0])
    np.testing.assert_array_equal(b.grad._data, [10.0, 10.0])


def test_broadcast_gradient_is_copied():
    # mean's gradient is a read-only zero-stride view: .grad must be a real, writable array
    w = retrograd.ones(2, 3, requires_grad=True)
    w.mean().backward()
    assert w.grad._data.base is None and w.grad._data.flags.writeable
    w.mean().backward()
    np.testing.assert_allclose(w.grad._data, np.full((2, 3), 2 / 6), rtol=1e-6)


def test_user_gradient_is_never_aliased():
    w = retrograd.ones(2, requires_grad=True)
    given = retrograd.tensor([1.0, 2.0])
    w.backward(given)
    assert not np.shares_memory(w.grad._data, given._data)
    w.backward(given)
    np.testing.assert_array_equal(given._data, [1.0, 2.0])


def test_mlp_gradients_match_torch_over_two_backwards(torch_ref):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((5, 4), (4, 3), (3,))]
    x_np = rng.standard_normal((6, 5)).astype(np.float32)
    grads = []
    for lib in (retrograd, torch_ref):
        w1, w2, b2 = [lib.tensor(a, requires_grad=True) for a in arrays]
        x = lib.tensor(x_np)
        for _ in range(2):
            ((x @ w1).tanh() @ w2 + b2).pow(2).mean().backward()
        grads.append([p.grad.detach().numpy().copy() for p in (w1, w2, b2)])
    for mine, ref in zip(*grads):
        np.testing.assert_allclose(mine, ref, rtol=1e-5, atol=1e-6)
