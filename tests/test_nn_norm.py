"""Normalization, dropout and embedding: batch_norm/BatchNorm1d/BatchNorm2d (training, running
statistics after several steps, eval mode), layer_norm/LayerNorm, dropout/Dropout and
embedding/Embedding, compared with PyTorch on the same data and weights, and bad input.

Gradcheck and gradgradcheck of every variant run from the op table (tests/optable.py)."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
import retrograd.nn as nn
import retrograd.nn.functional as F
from retrograd.autograd import gradcheck, gradgradcheck


def _t(lib, a, requires_grad=False):
    return lib.tensor(np.array(a), requires_grad=requires_grad)


def _np(t) -> np.ndarray:
    return t.detach().numpy()


def _load(ours, theirs) -> None:
    ours.load_state_dict({k: retrograd.tensor(v.detach().numpy().copy())
                          for k, v in theirs.state_dict().items()})


# ---- batch norm -----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (3, 3, 4, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_and_running_stats_match_torch(torch_ref, rng, shape, affine):
    """Three training steps (outputs, input/weight/bias gradients, running statistics), then
    eval mode with the running statistics."""
    c = shape[1]
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    results = []
    for lib in (retrograd, torch_ref):
        mean, var = _t(lib, np.zeros(c)), _t(lib, np.ones(c))
        wt, bt = (_t(lib, w, True), _t(lib, b, True)) if affine else (None, None)
        data = np.random.default_rng(1)
        steps = []
        for _ in range(3):
            x = _t(lib, data.standard_normal(shape) * 3 + 1, True)
            out = lib.nn.functional.batch_norm(x, mean, var, wt, bt, training=True, momentum=0.3)
            up = _t(lib, data.standard_normal(shape))
            grads = lib.autograd.grad(out, [x] + ([wt, bt] if affine else []), up)
            steps.append([_np(out)] + [_np(g) for g in grads] + [_np(mean).copy(),
                                                                  _np(var).copy()])
        x = _t(lib, data.standard_normal(shape), True)
        out = lib.nn.functional.batch_norm(x, mean, var, wt, bt, training=False)
        (gx,) = lib.autograd.grad(out.sum(), [x])
        steps.append([_np(out), _np(gx), type(out.grad_fn).__name__])
        results.append(steps)
    for step_r, step_t in zip(*results):
        assert step_r[-1] == step_t[-1] if isinstance(step_r[-1], str) else True
        for r, t in zip(step_r, step_t):
            if isinstance(r, str):
                assert r == t
            else:
                np.testing.assert_allclose(r, t, 1e-10, 1e-12)


def test_batch_norm_without_running_stats_and_float32(torch_ref, rng):
    x = rng.standard_normal((6, 4, 3)).astype(np.float32)
    ours = F.batch_norm(_t(retrograd, x), None, None, training=True)
    theirs = torch_ref.nn.functional.batch_norm(_t(torch_ref, x), None, None, training=True)
    assert ours.dtype == retrograd.float32
    np.testing.assert_allclose(_np(ours), _np(theirs), 1e-5, 1e-5)


def test_batch_norm_second_derivatives_match_torch(torch_ref, rng):
    x, w, b = rng.standard_normal((4, 3, 2)), rng.standard_normal(3), rng.standard_normal(3)
    g = rng.standard_normal((4, 3, 2))
    results = []
    for lib in (retrograd, torch_ref):
        ts = [_t(lib, a, True) for a in (x, w, b, g)]
        out = lib.nn.functional.batch_norm(ts[0], None, None, ts[1], ts[2], training=True)
        gx, gw, gb = lib.autograd.grad(out, ts[:3], ts[3], create_graph=True)
        s = (gx * gx).sum() + (gw * gw * gw).sum() + (gb * gx.sum()).sum()
        results.append(lib.autograd.grad(s, (ts[0], ts[1], ts[3])))  # (b is not used)
    for i, (r, t) in enumerate(zip(*results)):
        np.testing.assert_allclose(_np(r), _np(t), 1e-8, 1e-10, err_msg=f"input {i}")


@pytest.mark.parametrize("cls, shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)),
                                        ("BatchNorm2d", (4, 3, 2, 5))])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"affine": False},
                                    {"track_running_stats": False}, {"bias": False},
                                    {"eps": 1e-3, "momentum": 0.5}])
def test_batchnorm_modules_match_torch(torch_ref, rng, cls, shape, kwargs):
    ours, theirs = getattr(nn, cls)(3, **kwargs), getattr(torch_ref.nn, cls)(3, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    theirs.double()
    ours.double()
    if ours.weight is not None:  # non-trivial affine parameters
        with torch_ref.no_grad():
            theirs.weight.copy_(torch_ref.tensor(rng.standard_normal(3)))
    _load(ours, theirs)
    data = np.random.default_rng(2)
    for step in range(4):
        if step == 3:
            ours.eval()
            theirs.eval()
        x = data.standard_normal(shape) * 2 - 1
        xr, xt = _t(retrograd, x, True), _t(torch_ref, x, True)
        out_r, out_t = ours(xr), theirs(xt)
        np.testing.assert_allclose(_np(out_r), _np(out_t), 1e-10, 1e-12)
        up = data.standard_normal(shape)
        out_r.backward(_t(retrograd, up))
        out_t.backward(_t(torch_ref, up))
        np.testing.assert_allclose(_np(xr.grad), _np(xt.grad), 1e-9, 1e-11)
        for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            np.testing.assert_allclose(_np(p.grad), _np(q.grad), 1e-9, 1e-11, err_msg=name)
        for (name, r), (_, t) in zip(ours.state_dict().items(), theirs.state_dict().items()):
            np.testing.assert_allclose(_np(r), _np(t), 1e-12, 1e-14, err_msg=name)


def test_batchnorm_buffers_and_defaults():
    bn = nn.BatchNorm2d(4)
    assert bn.num_batches_tracked.dtype == retrograd.int64 and bn.num_batches_tracked.item() == 0
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.zeros(4, np.float32))
    np.testing.assert_array_equal(bn.running_var.numpy(), np.ones(4, np.float32))
    np.testing.assert_array_equal(_np(bn.weight), np.ones(4, np.float32))
    np.testing.assert_array_equal(_np(bn.bias), np.zeros(4, np.float32))
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                  "num_batches_tracked"]
    bn(retrograd.randn(2, 4, 3, 3))
    bn(retrograd.randn(2, 4, 3, 3))
    assert bn.num_batches_tracked.item() == 2
    bn.eval()
    bn(retrograd.randn(2, 4, 3, 3))
    assert bn.num_batches_tracked.item() == 2  # eval mode leaves the statistics alone
    bn.reset_running_stats()
    assert bn.num_batches_tracked.item() == 0 and bn.running_var.numpy()[0] == 1
    untracked = nn.BatchNorm1d(3, track_running_stats=False)
    assert untracked.running_mean is None and list(untracked.state_dict()) == ["weight", "bias"]
    untracked.eval()  # still normalizes with the batch's statistics
    out = untracked(retrograd.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]))
    np.testing.assert_allclose(out.detach().numpy()[:, 0], [-1, 1], atol=1e-4)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: F.batch_norm(retrograd.randn(1, 3), retrograd.zeros(3), retrograd.ones(3),
                          training=True), ValueError,
     r"Expected more than 1 value per channel when training, got input size "
     r"torch.Size\(\[1, 3\]\)"),
    (lambda: F.batch_norm(retrograd.randn(2, 4), retrograd.zeros(3), retrograd.ones(3)),
     RuntimeError, "running_mean should contain 4 elements not 3"),
    (lambda: F.batch_norm(retrograd.randn(2, 3), None, None), RuntimeError,
     "running_mean must be defined in evaluation mode"),
    (lambda: F.batch_norm(retrograd.randn(2, 3), retrograd.zeros(3), None, training=True),
     ValueError, "running_mean and running_var must either both be None or neither be None"),
    (lambda: F.batch_norm(retrograd.randn(2, 3), None, None, retrograd.ones(4), training=True),
     RuntimeError, "weight should contain 3 elements not 4"),
    (lambda: F.batch_norm(retrograd.randn(2, 3).double(), retrograd.zeros(3), retrograd.ones(3)),
     RuntimeError, "mixed dtype"),
    (lambda: F.batch_norm(retrograd.randn(3), None, None, training=True), RuntimeError,
     r"input of shape \(N, C\) or \(N, C, \*\)"),
    (lambda: nn.BatchNorm2d(3)(retrograd.randn(2, 3, 4)), ValueError,
     r"BatchNorm2d expected 4D input \(got 3D input of size \[2, 3, 4\]\)"),
    (lambda: nn.BatchNorm1d(3)(retrograd.randn(2, 3, 4, 5)), ValueError,
     r"BatchNorm1d expected 2D or 3D input \(got 4D input"),
    (lambda: nn.BatchNorm2d(3)(retrograd.randn(2, 4, 5, 5)), RuntimeError,
     r"BatchNorm2d expected input with 3 channels \(dim 1\), got 4 \(input of size "
     r"\[2, 4, 5, 5\]\)"),
])
def test_batch_norm_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_batchnorm_bad_input_leaves_state_unchanged():
    bn = nn.BatchNorm1d(3)
    before = {k: v.numpy().copy() for k, v in bn.state_dict().items() if not v.requires_grad}
    with pytest.raises(RuntimeError):
        bn(retrograd.randn(4, 5))
    for k, v in before.items():
        np.testing.assert_array_equal(bn.state_dict()[k].numpy(), v)


# ---- layer norm -----------------------------------------------------------------------------


@pytest.mark.parametrize("shape, normalized", [((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)),
                                               ((2, 3, 4), (2, 3, 4)), ((5, 4), (4,))])
@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False},
                                    {"eps": 1e-2}])
def test_layernorm_matches_torch(torch_ref, rng, shape, normalized, kwargs):
    ours, theirs = nn.LayerNorm(normalized, **kwargs), torch_ref.nn.LayerNorm(normalized,
                                                                              **kwargs)
    assert repr(ours) == repr(theirs)
    assert ours.normalized_shape == theirs.normalized_shape
    theirs.double()
    ours.double()
    if ours.weight is not None:
        with torch_ref.no_grad():
            theirs.weight.copy_(torch_ref.tensor(rng.standard_normal(normalized)))
            if theirs.bias is not None:
                theirs.bias.copy_(torch_ref.tensor(rng.standard_normal(normalized)))
    _load(ours, theirs)
    x, up = rng.standard_normal(shape) * 2 + 1, rng.standard_normal(shape)
    xr, xt = _t(retrograd, x, True), _t(torch_ref, x, True)
    out_r, out_t = ours(xr), theirs(xt)
    assert type(out_r.grad_fn).__name__ == type(out_t.grad_fn).__name__
    np.testing.assert_allclose(_np(out_r), _np(out_t), 1e-10, 1e-12)
    out_r.backward(_t(retrograd, up))
    out_t.backward(_t(torch_ref, up))
    np.testing.assert_allclose(_np(xr.grad), _np(xt.grad), 1e-9, 1e-11)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(_np(p.grad), _np(q.grad), 1e-9, 1e-11, err_msg=name)


def test_layer_norm_second_derivatives_match_torch(torch_ref, rng):
    x, w, b, g = (rng.standard_normal(s) for s in ((3, 4), (4,), (4,), (3, 4)))
    results = []
    for lib in (retrograd, torch_ref):
        ts = [_t(lib, a, True) for a in (x, w, b, g)]
        out = lib.nn.functional.layer_norm(ts[0], (4,), ts[1], ts[2])
        gx, gw = lib.autograd.grad(out, ts[:2], ts[3], create_graph=True)
        results.append(lib.autograd.grad((gx * gx * gx).sum() + (gw * gw).sum(),
                                         (ts[0], ts[1], ts[3])))
    for i, (r, t) in enumerate(zip(*results)):
        np.testing.assert_allclose(_np(r), _np(t), 1e-8, 1e-10, err_msg=f"input {i}")


@pytest.mark.parametrize("fn", ["batch_norm", "batch_norm_eval", "layer_norm"])
def test_normalization_fast_and_graph_backward_agree(rng, fn):
    """fast_backward (forward's statistics as constants; runs without create_graph) and
    backward (statistics recomputed from x with tensor ops; runs with create_graph) give the
    same gradients."""
    size = 5 if fn == "layer_norm" else 3  # of the weight and bias
    arrays = [rng.standard_normal(s) for s in ((4, 3, 5), size, size)]
    stats = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    up = rng.standard_normal((4, 3, 5))
    results = []
    for create_graph in (False, True):
        ts = [_t(retrograd, a, True) for a in arrays]
        if fn == "layer_norm":
            out = F.layer_norm(ts[0], (5,), *ts[1:])
        else:
            mean, var = (_t(retrograd, s) for s in stats)
            out = F.batch_norm(ts[0], mean, var, *ts[1:], training=fn == "batch_norm")
        grads = retrograd.autograd.grad(out, ts, _t(retrograd, up), create_graph=create_graph)
        assert grads[0].requires_grad == create_graph
        results.append([_np(g) for g in grads])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_layer_norm_errors_and_defaults():
    ln = nn.LayerNorm(4)
    np.testing.assert_array_equal(_np(ln.weight), np.ones(4, np.float32))
    np.testing.assert_array_equal(_np(ln.bias), np.zeros(4, np.float32))
    with pytest.raises(RuntimeError, match=r"LayerNorm expected input with shape \[\*, 4\] "
                                           r"\(its normalized_shape\), but got input of size "
                                           r"\[2, 3\]"):
        ln(retrograd.randn(2, 3))
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[3\], expected input with "
                                           r"shape \[\*, 3\], but got input of size\[2, 3, 4\]"):
        F.layer_norm(retrograd.randn(2, 3, 4), (3,))
    with pytest.raises(TypeError, match="must be tuple of ints, not int"):
        F.layer_norm(retrograd.randn(2, 4), 4)
    with pytest.raises(RuntimeError, match=r"Expected weight to be of same shape as "
                                           r"normalized_shape, but got weight of shape \[3\]"):
        F.layer_norm(retrograd.randn(2, 4), (4,), retrograd.ones(3))
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        F.layer_norm(retrograd.tensor([[1, 2]]), (2,))


# ---- dropout --------------------------------------------------------------------------------


def test_dropout_masks_and_scales():
    retrograd.manual_seed(0)
    x = retrograd.ones(400, 250, requires_grad=True)
    out = F.dropout(x, 0.3)
    kept = out.detach().numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(out.detach().numpy()[kept], 1 / 0.7, rtol=1e-6)
    assert type(out.grad_fn).__name__ == "MulBackward0" and out.dtype == retrograd.float32
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.detach().numpy())  # grad = mask * scale


def test_dropout_is_reproducible_with_manual_seed():
    x = retrograd.ones(50, 20)
    retrograd.manual_seed(3)
    a = F.dropout(x, 0.5)
    retrograd.manual_seed(3)
    b = F.dropout(x, 0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), F.dropout(x, 0.5).numpy())


def test_dropout_special_cases(torch_ref):
    x = retrograd.randn(4, 5, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    zero = F.dropout(x, 1.0)
    assert np.all(zero.detach().numpy() == 0) and type(zero.grad_fn).__name__ == "MulBackward0"
    y = retrograd.ones(1000)
    version = y._version
    out = F.dropout(y, 0.5, inplace=True)
    assert out is y and y._version == version + 1
    assert set(np.unique(y.numpy())) <= {0.0, 2.0}
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, "
                                             f"but got {p}"):
            F.dropout(x, p)
        with pytest.raises(ValueError, match="dropout probability"):
            nn.Dropout(p)
    assert repr(nn.Dropout()) == repr(torch_ref.nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    assert repr(nn.Dropout(0.2, True)) == repr(torch_ref.nn.Dropout(0.2, True))


def test_dropout_module_follows_train_and_eval():
    drop = nn.Dropout(0.5)
    x = retrograd.ones(200, 50)
    assert (drop(x).numpy() == 0).any()
    drop.eval()
    assert drop(x) is x
    x64 = retrograd.ones(3, 3, dtype=retrograd.float64)
    drop.train()
    assert drop(x64).dtype == retrograd.float64


# ---- embedding ------------------------------------------------------------------------------

INDEX = np.array([[1, 2, 1], [5, 0, 1]])


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 1}, {"padding_idx": -1},
                                    {"scale_grad_by_freq": True},
                                    {"padding_idx": 0, "scale_grad_by_freq": True},
                                    {"max_norm": 1.0}, {"max_norm": 1.5, "norm_type": 1.0}])
def test_embedding_matches_torch(torch_ref, rng, kwargs):
    w = rng.standard_normal((6, 3)) * 2
    up = rng.standard_normal(INDEX.shape + (3,))
    results = []
    for lib in (retrograd, torch_ref):
        weight = _t(lib, w.copy(), True)
        out = lib.nn.functional.embedding(_t(lib, INDEX), weight, **kwargs)
        (g,) = lib.autograd.grad(out, weight, _t(lib, up))
        results.append((_np(out), _np(g), _np(weight), type(out.grad_fn).__name__))
    (ro, rg, rw, rn), (to, tg, tw, tn) = results
    assert rn == tn
    for r, t in ((ro, to), (rg, tg), (rw, tw)):
        np.testing.assert_allclose(r, t, 1e-7, 1e-7)


def test_embedding_second_derivatives_match_torch(torch_ref, rng):
    w, up = rng.standard_normal((6, 3)), rng.standard_normal(INDEX.shape + (3,))
    results = []
    for lib in (retrograd, torch_ref):
        weight, g = _t(lib, w, True), _t(lib, up, True)
        out = lib.nn.functional.embedding(_t(lib, INDEX), weight, padding_idx=2)
        (gw,) = lib.autograd.grad(out, weight, g, create_graph=True)
        assert type(gw.grad_fn).__name__ == "EmbeddingDenseBackwardBackward0"
        results.append(lib.autograd.grad((gw * gw * gw).sum(), g))
    np.testing.assert_allclose(_np(results[0][0]), _np(results[1][0]), 1e-10, 1e-12)


def test_embedding_scale_grad_by_freq_second_derivative_is_exact(rng):
    """With scale_grad_by_freq the weight gradient divides each row by its index's count; its
    derivative must too (gradgradcheck). (PyTorch's double backward leaves the counts out.)"""
    w = _t(retrograd, rng.standard_normal((6, 3)), True)
    idx = retrograd.tensor(INDEX)
    assert gradgradcheck(lambda a: F.embedding(idx, a, padding_idx=0, scale_grad_by_freq=True),
                         (w,))


def test_embedding_gradcheck_and_gradgradcheck(rng):
    w = _t(retrograd, rng.standard_normal((5, 2)), True)
    idx = retrograd.tensor(INDEX % 5)
    assert gradcheck(lambda a: F.embedding(idx, a), (w,))
    # padding_idx makes the gradient a rule, not a derivative; its own derivative is exact
    assert gradgradcheck(lambda a: F.embedding(idx, a, padding_idx=1), (w,))


def test_embedding_module(torch_ref):
    retrograd.manual_seed(0)
    emb = nn.Embedding(1000, 8, padding_idx=3)
    w = emb.weight.detach().numpy()
    assert np.all(w[3] == 0) and abs(w.std() - 1) < 0.05 and abs(w.mean()) < 0.05
    assert emb.weight.dtype == retrograd.float32
    out = emb(retrograd.tensor([[3, 4], [5, 3]]))
    out.sum().backward()
    assert tuple(out.shape) == (2, 2, 8)
    assert np.all(emb.weight.grad.numpy()[3] == 0) and np.all(emb.weight.grad.numpy()[4] == 1)
    for args, kwargs in (((10, 3), {}), ((10, 3), {"padding_idx": 0, "max_norm": 1.0,
                                                   "norm_type": 1.0, "scale_grad_by_freq": True,
                                                   "sparse": True}),
                         ((10, 3), {"padding_idx": -2})):
        assert repr(nn.Embedding(*args, **kwargs)) == repr(torch_ref.nn.Embedding(*args,
                                                                                  **kwargs))
    pre = nn.Embedding.from_pretrained(retrograd.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert not pre.weight.requires_grad and pre(retrograd.tensor([1])).tolist() == [[3.0, 4.0]]
    assert nn.Embedding.from_pretrained(retrograd.ones(2, 2), freeze=False).weight.requires_grad


@pytest.mark.parametrize("call, exc, match", [
    (lambda w: F.embedding(retrograd.tensor([1.0, 2.0]), w), RuntimeError,
     "Expected tensor for argument #1 'indices' to have one of the following scalar types: "
     "Long, Int"),
    (lambda w: F.embedding(retrograd.tensor([5]), w), IndexError, "index out of range in self"),
    (lambda w: F.embedding(retrograd.tensor([-1]), w), IndexError, "index out of range in self"),
    (lambda w: F.embedding(retrograd.tensor([1]), w, padding_idx=5), AssertionError,
     "Padding_idx must be within num_embeddings"),
    (lambda w: F.embedding(retrograd.tensor([1]), w[0]), RuntimeError, "'weight' must be 2-D"),
    (lambda w: F.embedding(retrograd.tensor([1]), w, sparse=True), NotImplementedError,
     "sparse gradients are not supported"),
    (lambda w: nn.Embedding(5, 2, padding_idx=5), AssertionError,
     "Padding_idx must be within num_embeddings"),
])
def test_embedding_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call(retrograd.randn(5, 3, requires_grad=True))


def test_embedding_int32_indices_and_scalar_index(torch_ref):
    w = retrograd.randn(4, 2)
    idx32 = retrograd.tensor(np.array([3, 1], dtype=np.int32))
    np.testing.assert_array_equal(F.embedding(idx32, w).numpy(), w.numpy()[[3, 1]])
    assert tuple(F.embedding(retrograd.tensor(2), w).shape) == (2,)
