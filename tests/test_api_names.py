"""The names real PyTorch programs reach for (issue 8), beyond the op table: einsum's other
equations and errors, multinomial, ``new_*``, ``autograd.Variable``, ``retrograd.cuda``."""

from __future__ import annotations

import numpy as np
import pytest
from optable import check_derivatives

import retrograd
from retrograd.autograd import Variable

# ---- einsum ------------------------------------------------------------------------------------

# equations whose PyTorch graph ends in another node than ours: values, gradients against torch
# and gradcheck of first and second order here instead of the op table
EINSUM_CASES = [
    ("ii->i", [(3, 3)]),
    ("iij->j", [(3, 3, 2)]),
    ("i,j", [(2,), (3,)]),
    ("i,i->i", [(1,), (3,)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("ijk,jl,kl->il", [(2, 3, 4), (3, 5), (4, 5)]),
    ("a...,a->...", [(3, 2, 2), (3,)]),
    ("ba", [(2, 3)]),
    ("i,i", [(4,), (4,)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
]


@pytest.mark.parametrize("eq, shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_against_torch(eq, shapes, torch_ref, rng):
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = [retrograd.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch_ref.tensor(a, requires_grad=True) for a in arrays]
    r, t = retrograd.einsum(eq, *ours), torch_ref.einsum(eq, *theirs)
    assert tuple(r.shape) == tuple(t.shape)
    np.testing.assert_allclose(r.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(tuple(t.shape))
    r.backward(retrograd.tensor(g))
    t.backward(torch_ref.tensor(g))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)
    check_derivatives(lambda *xs: retrograd.einsum(eq, *xs), *shapes)


def test_einsum_operand_list_and_sublist_forms(rng):
    a, b = retrograd.randn(2, 3), retrograd.randn(3, 4)
    expected = (a @ b).numpy()
    np.testing.assert_allclose(retrograd.einsum("ij,jk", [a, b]).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(retrograd.einsum(a, [0, 1], b, [1, 2], [0, 2]).numpy(), expected,
                               rtol=1e-6)
    np.testing.assert_allclose(retrograd.einsum(a, [0, 1], b, [1, 2]).numpy(), expected,
                               rtol=1e-6)


BAD_EINSUM = [
    ("ij,jk->ik", [(2, 3)]),
    ("ij->ik", [(2, 3)]),
    ("ij,jk", [(2, 3), (2, 3)]),
    ("i->", [(2, 3)]),
    ("i", [(2,), (2,)]),
]


@pytest.mark.parametrize("eq, shapes", BAD_EINSUM, ids=[c[0] for c in BAD_EINSUM])
def test_einsum_errors_as_torch(eq, shapes, torch_ref):
    with pytest.raises(RuntimeError) as theirs:
        torch_ref.einsum(eq, *[torch_ref.zeros(s) for s in shapes])
    with pytest.raises(RuntimeError) as ours:
        retrograd.einsum(eq, *[retrograd.zeros(s) for s in shapes])
    assert str(ours.value).startswith(str(theirs.value))


# ---- multinomial -------------------------------------------------------------------------------


def test_multinomial_with_replacement_follows_the_weights():
    g = retrograd.Generator().manual_seed(0)
    w = retrograd.tensor([1.0, 0.0, 3.0, 0.0])  # not normalised; zero weights never drawn
    draws = retrograd.multinomial(w, 40_000, replacement=True, generator=g)
    assert draws.dtype == retrograd.int64 and tuple(draws.shape) == (40_000,)
    counts = np.bincount(draws.numpy(), minlength=4) / 40_000
    np.testing.assert_allclose(counts, [0.25, 0.0, 0.75, 0.0], atol=0.01)


def test_multinomial_without_replacement_rows_and_generator():
    w = retrograd.tensor([[0.1, 0.2, 0.3, 0.4], [1.0, 0.0, 0.0, 0.0]])
    a = w.multinomial(4, generator=retrograd.Generator().manual_seed(3))
    b = retrograd.multinomial(w, 4, generator=retrograd.Generator().manual_seed(3))
    assert tuple(a.shape) == (2, 4) and a.tolist() == b.tolist()
    for row in a.tolist():
        assert sorted(row) == [0, 1, 2, 3]  # each category once
    assert a[1, 0].item() == 0  # the only category of nonzero weight comes first
    # first draws without replacement: P(first = i) = w_i / sum(w)
    g = retrograd.Generator().manual_seed(1)
    firsts = [retrograd.multinomial(w[0], 2, generator=g)[0].item() for _ in range(4000)]
    np.testing.assert_allclose(np.bincount(firsts, minlength=4) / 4000, [0.1, 0.2, 0.3, 0.4],
                               atol=0.03)


def test_multinomial_uses_the_default_generator():
    w = retrograd.ones(10)
    retrograd.manual_seed(5)
    a = retrograd.multinomial(w, 5).tolist()
    retrograd.manual_seed(5)
    assert retrograd.multinomial(w, 5).tolist() == a


BAD_MULTINOMIAL = [
    ("too-many", [0.2, 0.3, 0.5], 4, False),
    ("0d", 1.0, 1, False),
    ("3d", np.ones((2, 2, 2)), 1, False),
    ("negative", [-1.0, 2.0], 1, False),
    ("all-zero", [0.0, 0.0], 1, True),
    ("inf", [np.inf, 1.0], 1, True),
    ("int-weights", [1, 2], 1, True),
    ("no-samples", [0.5, 0.5], 0, True),
]


@pytest.mark.parametrize("case, w, n, replacement", BAD_MULTINOMIAL,
                         ids=[c[0] for c in BAD_MULTINOMIAL])
def test_multinomial_errors_as_torch(case, w, n, replacement, torch_ref):
    with pytest.raises(RuntimeError) as theirs:
        torch_ref.multinomial(torch_ref.tensor(w), n, replacement)
    with pytest.raises(RuntimeError) as ours:
        retrograd.multinomial(retrograd.tensor(w), n, replacement)
    first_words = str(theirs.value).split(",")[0].split(" (")[0]
    assert first_words.split(":")[0] in str(ours.value)


# ---- new_* -------------------------------------------------------------------------------------


NEW = [
    ("new_ones", lambda x: x.new_ones(2, 3)),
    ("new_ones-tuple", lambda x: x.new_ones((2,), requires_grad=True)),
    ("new_zeros-dtype", lambda x, lib: x.new_zeros(2, dtype=lib.int64)),
    ("new_full", lambda x: x.new_full((2, 2), 3)),
    ("new_full-float-into-int", lambda x, lib: x.long().new_full((2,), 2.5)),
    ("new_empty", lambda x: x.new_empty(0, 3)),
    ("new_tensor", lambda x: x.new_tensor([1, 2])),
    ("new_tensor-int-self", lambda x: x.long().new_tensor([1.5, -2.5])),
]


@pytest.mark.parametrize("name, make", NEW, ids=[n[0] for n in NEW])
def test_new_tensors_as_torch(name, make, torch_ref):
    results = []
    for lib in (retrograd, torch_ref):
        x = lib.ones(3, dtype=lib.float64)
        out = make(x, lib) if make.__code__.co_argcount == 2 else make(x)
        results.append(out)
    ours, theirs = results
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.requires_grad == theirs.requires_grad and ours.is_leaf
    if name != "new_empty":
        assert ours.tolist() == theirs.tolist()


def test_new_tensor_from_a_tensor_copies_and_warns():
    x = retrograd.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="detach\\(\\).clone\\(\\)"):
        y = x.new_tensor(x)
    assert y.grad_fn is None and not y.requires_grad
    y.add_(1)
    assert x.tolist() == [1.0, 1.0]


# ---- Variable ------------------------------------------------------------------------------------


def test_variable_is_a_deprecated_alias():
    t = retrograd.ones(2)
    v = Variable(t, requires_grad=True)
    assert isinstance(v, retrograd.Tensor) and isinstance(t, Variable)
    assert v is not t and v.requires_grad and v.is_leaf and not t.requires_grad
    (v * 3).sum().backward()
    assert v.grad.tolist() == [3.0, 3.0]
    y = retrograd.ones(2, requires_grad=True) * 2
    assert Variable(y).grad_fn is None and not Variable(y).requires_grad
    assert retrograd.autograd.Variable is Variable
    with pytest.raises(TypeError, match="has to be a tensor"):
        Variable([1, 2])


# ---- cuda ----------------------------------------------------------------------------------------


def test_cuda_namespace_says_no_gpu():
    cuda = retrograd.cuda
    assert cuda.is_available() is False and cuda.device_count() == 0
    assert cuda.manual_seed(0) is None and cuda.manual_seed_all(0) is None
    device = retrograd.device("cuda" if cuda.is_available() else "cpu")
    assert retrograd.ones(2, device=device).device == retrograd.device("cpu")


CUDA_USES = [
    ("to-str", lambda: retrograd.ones(2).to("cuda")),
    ("to-device", lambda: retrograd.ones(2).to(retrograd.device("cuda", 0))),
    ("to-kw", lambda: retrograd.ones(2).to(device="cuda:0")),
    ("cuda-method", lambda: retrograd.ones(2).cuda()),
    ("factory", lambda: retrograd.zeros(2, device="cuda")),
    ("module-to", lambda: retrograd.nn.Linear(2, 2).to("cuda")),
    ("module-cuda", lambda: retrograd.nn.Linear(2, 2).cuda()),
    ("synchronize", lambda: retrograd.cuda.synchronize()),
]


@pytest.mark.parametrize("case, use", CUDA_USES, ids=[c[0] for c in CUDA_USES])
def test_cuda_use_raises_as_torch_without_cuda(case, use):
    # PyTorch built without CUDA raises AssertionError("Torch not compiled with CUDA enabled");
    # ours is both an AssertionError and a RuntimeError, and says there is no GPU backend
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled") as err:
        use()
    assert isinstance(err.value, RuntimeError) and "no GPU backend" in str(err.value)


# ---- mse_loss promotion, AddmmBackward0's edges, a lazy RandomSampler ---------------------------


@pytest.mark.parametrize("target_dtype", ["int64", "float64", "float32"])
def test_mse_loss_promotes_the_target_as_torch(target_dtype, torch_ref, rng):
    x = rng.standard_normal((3, 2)).astype(np.float32)
    y = rng.integers(-2, 3, (3, 2))
    results = []
    for lib in (retrograd, torch_ref):
        xt = lib.tensor(x, requires_grad=True)
        loss = lib.nn.functional.mse_loss(xt, lib.tensor(y, dtype=getattr(lib, target_dtype)))
        loss.backward()
        results.append((loss, xt.grad))
    (ours, g_ours), (theirs, g_theirs) = results
    assert str(ours.dtype) == str(theirs.dtype)
    assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__ == "MseLossBackward0"
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-6)
    np.testing.assert_allclose(g_ours.numpy(), g_theirs.numpy(), rtol=1e-6)


def test_mse_loss_of_integer_tensors_still_refused():
    with pytest.raises(RuntimeError, match="floating point"):
        retrograd.nn.functional.mse_loss(retrograd.tensor([1, 2]), retrograd.tensor([1, 3]))


def _edges(lib, input_requires_grad: bool, shape) -> list:
    lib.manual_seed(0)
    layer = lib.nn.Linear(3, 2)
    out = layer(lib.randn(*shape, requires_grad=input_requires_grad))
    node = out.grad_fn if type(out.grad_fn).__name__ == "AddmmBackward0" else \
        out.grad_fn.next_functions[0][0]
    names = {id(layer.bias): "bias", id(layer.weight): "weight"}
    edges = []
    for fn, _ in node.next_functions:
        if fn is None:
            edges.append(None)
        elif hasattr(fn, "variable"):
            edges.append(names.get(id(fn.variable), "input"))
        elif type(fn).__name__ == "TBackward0":  # PyTorch reaches the weight through w.t()
            edges.append(names[id(fn.next_functions[0][0].variable)])
        else:  # the input's history (its reshape to rows)
            edges.append("input")
    return [type(node).__name__] + edges


@pytest.mark.parametrize("input_requires_grad", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (2, 4, 3)])
def test_addmm_edges_in_torch_order(input_requires_grad, shape, torch_ref):
    ours = _edges(retrograd, input_requires_grad, shape)
    assert ours == _edges(torch_ref, input_requires_grad, shape)
    assert ours[1] == "bias"  # a tutorial walking next_functions[0][0] reaches the bias


def test_random_sampler_draws_lazily():
    import time
    import tracemalloc

    from retrograd.utils.data import DataLoader, RandomSampler, TensorDataset

    ds = TensorDataset(retrograd.arange(10.0))
    tracemalloc.start()
    try:
        start = time.perf_counter()
        sampler = RandomSampler(ds, replacement=True, num_samples=10**10,
                                generator=retrograd.Generator().manual_seed(0))
        it = iter(sampler)
        first = [next(it) for _ in range(50_000)]  # across several chunks
        batch = next(iter(DataLoader(ds, batch_size=4, sampler=sampler)))
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(sampler) == 10**10 and elapsed < 2.0 and peak < 50e6
    assert tuple(batch[0].shape) == (4,)
    counts = np.bincount(first, minlength=10) / len(first)
    np.testing.assert_allclose(counts, 0.1, atol=0.01)  # uniform over the dataset
    # without replacement: consecutive permutations of the dataset
    it = iter(RandomSampler(ds, num_samples=10**10))
    assert sorted(next(it) for _ in range(10)) == list(range(10))
    assert sorted(next(it) for _ in range(10)) == list(range(10))


# ---- out= --------------------------------------------------------------------------------------

OUT_OPS = [
    ("add", lambda lib, x, y, out: lib.add(x, y, out=out)),
    ("add-alpha", lambda lib, x, y, out: lib.add(x, y, alpha=2, out=out)),
    ("sub", lambda lib, x, y, out: lib.sub(x, y, out=out)),
    ("mul", lambda lib, x, y, out: lib.mul(x, y, out=out)),
    ("div", lambda lib, x, y, out: lib.div(x, y, out=out)),
    ("matmul", lambda lib, x, y, out: lib.matmul(x, y.t(), out=out)),
]


@pytest.mark.parametrize("name, op", OUT_OPS, ids=[o[0] for o in OUT_OPS])
@pytest.mark.parametrize("out_shape", [(3, 3), (0,), (5,)], ids=["same", "empty", "resized"])
def test_out_argument_as_torch(name, op, out_shape, torch_ref, rng):
    import warnings

    x, y = rng.standard_normal((3, 3)), rng.uniform(0.5, 2.0, (3, 3))
    results = []
    for lib in (retrograd, torch_ref):
        out = lib.zeros(out_shape, dtype=lib.float64)
        view = out.view(-1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ret = op(lib, lib.tensor(x), lib.tensor(y), out)
        results.append((ret is out, out.numpy().copy(), tuple(out.shape), len(caught),
                        out._version > 0, view._version == out._version))
    ours, theirs = results
    assert ours[0] and theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
    assert ours[2:] == theirs[2:]


@pytest.mark.parametrize("name, op", OUT_OPS, ids=[o[0] for o in OUT_OPS])
def test_out_argument_refuses_autograd_as_torch(name, op, torch_ref):
    for lib in (retrograd, torch_ref):
        x = lib.ones(2, 2, requires_grad=True)
        with pytest.raises(RuntimeError, match="out=... arguments don't support automatic "
                                               "differentiation"):
            op(lib, x, lib.ones(2, 2), lib.zeros(2, 2))
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            op(lib, lib.ones(2, 2), lib.ones(2, 2), lib.zeros(2, 2, requires_grad=True))
        with lib.no_grad():
            out = lib.zeros(2, 2)
            op(lib, x, lib.ones(2, 2), out)
        assert not out.requires_grad and out.grad_fn is None


def test_out_argument_dtype_rules():
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        retrograd.add(retrograd.ones(2), 1, out=retrograd.zeros(2, dtype=retrograd.int64))
    out = retrograd.zeros(2, dtype=retrograd.float64)  # float32 result into a float64 out
    retrograd.mul(retrograd.ones(2), 3, out=out)
    assert out.dtype == retrograd.float64 and out.tolist() == [3.0, 3.0]
    out = retrograd.zeros(2, dtype=retrograd.int64)
    retrograd.div(retrograd.tensor([5, 7]), 2, rounding_mode="floor", out=out)
    assert out.tolist() == [2, 3]


# ---- attention and the Transformer modules, against torch with torch's weights -------------------


def _load_torch_weights(ours, theirs) -> None:
    ours.load_state_dict({k: retrograd.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})


def _lib_inputs(lib, arrays) -> list:
    """Float arrays without infinities require grad; masks (bool, or with -inf) do not."""
    return [lib.tensor(a, requires_grad=bool(a.dtype.kind == "f" and np.isfinite(a).all()))
            for a in arrays]


def _compare_with_torch(torch, make, arrays, call) -> None:
    """Same weights (torch's state dict loaded into ours), same inputs, float64: outputs, input
    gradients and parameter gradients agree."""
    torch.manual_seed(0)
    theirs = make(torch).double().eval()
    ours = make(retrograd).double().eval()
    _load_torch_weights(ours, theirs)
    results = []
    for lib, model in ((retrograd, ours), (torch, theirs)):
        inputs = _lib_inputs(lib, arrays)
        outs = call(model, *inputs)
        outs = [o for o in (outs if isinstance(outs, tuple) else (outs,)) if o is not None]
        loss = sum((o * lib.tensor(np.cos(np.arange(o.numel())).reshape(tuple(o.shape)))).sum()
                   for o in outs)
        loss.backward()
        grads = {n: p.grad.numpy() for n, p in model.named_parameters()}
        results.append(([o.detach().numpy() for o in outs],
                        [x.grad.numpy() for x in inputs if x.requires_grad], grads))
    (o1, g1, p1), (o2, g2, p2) = results
    assert len(o1) == len(o2) and p1.keys() == p2.keys()
    for a, b in zip(o1 + g1, o2 + g2):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    for name in p1:
        np.testing.assert_allclose(p1[name], p2[name], rtol=1e-8, atol=1e-10, err_msg=name)


SDPA = [
    ("plain", {}),
    ("causal", {"is_causal": True}),
    ("scale", {"scale": 0.3}),
    ("bool-mask-with-empty-row", {"mask": "bool"}),
    ("float-mask", {"mask": "float"}),
]


@pytest.mark.parametrize("case, kw", SDPA, ids=[c[0] for c in SDPA])
def test_scaled_dot_product_attention(case, kw, torch_ref, rng):
    arrays = [rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 6, 5)),
              rng.standard_normal((2, 3, 6, 5))]
    kw = dict(kw)
    mask_kind = kw.pop("mask", None)
    if mask_kind == "bool":
        mask = rng.random((4, 6)) > 0.4
        mask[1] = False  # a query that may attend to nothing: zeros, as PyTorch
        arrays.append(mask)
    elif mask_kind == "float":  # added to the scores
        arrays.append(rng.standard_normal((4, 6)))

    def call(lib, q, k, v, *mask):
        return lib.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=mask[0] if mask else None, **kw)

    outs = []
    for lib in (retrograd, torch_ref):
        inputs = [lib.tensor(a, requires_grad=i < 3) for i, a in enumerate(arrays)]
        out = call(lib, *inputs)
        out.backward(lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape))))
        outs.append([out.detach().numpy()] + [x.grad.numpy() for x in inputs[:3]])
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    check_derivatives(lambda q, k, v: call(retrograd, q, k, v), (1, 2, 3, 2), (1, 2, 4, 2),
                      (1, 2, 4, 2))


def test_scaled_dot_product_attention_refuses_mask_and_causal():
    q = retrograd.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="attn_mask should not be set when is_causal=True"):
        retrograd.nn.functional.scaled_dot_product_attention(
            q, q, q, attn_mask=retrograd.ones(3, 3, dtype=retrograd.bool), is_causal=True)


def _kpm(n, s):
    m = np.zeros((n, s), bool)
    m[0, s - 2:] = True
    return m


MODULES = [
    ("mha-self", lambda lib: lib.nn.MultiheadAttention(8, 2), ((5, 2, 8),) * 3,
     lambda m, q, k, v: m(q, k, v)),
    ("mha-masks-per-head", lambda lib: lib.nn.MultiheadAttention(8, 2),
     ((5, 2, 8), (7, 2, 8), (7, 2, 8), _kpm(2, 7), np.triu(np.ones((5, 7), bool), 1)),
     lambda m, q, k, v, p, a: m(q, k, v, key_padding_mask=p, attn_mask=a,
                                average_attn_weights=False)),
    ("mha-float-3d-mask-no-weights", lambda lib: lib.nn.MultiheadAttention(8, 2),
     ((5, 2, 8), (7, 2, 8), (7, 2, 8), "float:4,5,7"),
     lambda m, q, k, v, a: m(q, k, v, attn_mask=a, need_weights=False)),
    ("mha-batch-first-kdim-vdim",
     lambda lib: lib.nn.MultiheadAttention(8, 2, batch_first=True, kdim=3, vdim=4),
     ((2, 5, 8), (2, 7, 3), (2, 7, 4)), lambda m, q, k, v: m(q, k, v)),
    ("mha-unbatched-no-bias", lambda lib: lib.nn.MultiheadAttention(8, 4, bias=False),
     ((5, 8),) * 3, lambda m, q, k, v: m(q, k, v)),
    ("encoder-layer", lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16), ((6, 2, 8),),
     lambda m, s: m(s)),
    ("encoder-layer-norm-first-gelu",
     lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16, norm_first=True, activation="gelu"),
     ((6, 2, 8),), lambda m, s: m(s)),
    ("encoder-layer-batch-first-masks",
     lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
     ((2, 6, 8), np.triu(np.full((6, 6), -np.inf), 1), _kpm(2, 6)),
     lambda m, s, c, p: m(s, src_mask=c, src_key_padding_mask=p)),
    ("decoder-layer-callable-activation",
     lambda lib: lib.nn.TransformerDecoderLayer(8, 2, 16, norm_first=True,
                                                activation=lib.nn.functional.gelu),
     ((4, 2, 8), (6, 2, 8)), lambda m, t, s: m(t, s)),
    ("encoder-stack-with-norm",
     lambda lib: lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16), 2,
                                           lib.nn.LayerNorm(8)),
     ((6, 2, 8),), lambda m, s: m(s)),
    ("decoder-stack-causal",
     lambda lib: lib.nn.TransformerDecoder(lib.nn.TransformerDecoderLayer(8, 2, 16), 2),
     ((4, 2, 8), (6, 2, 8), np.triu(np.full((4, 4), -np.inf), 1)),
     lambda m, t, s, c: m(t, s, tgt_mask=c, tgt_is_causal=True)),
    ("transformer",
     lambda lib: lib.nn.Transformer(8, 2, 1, 1, 16),
     ((6, 2, 8), (4, 2, 8), np.triu(np.full((4, 4), -np.inf), 1), _kpm(2, 6)),
     lambda m, s, t, c, p: m(s, t, tgt_mask=c, src_key_padding_mask=p,
                             memory_key_padding_mask=p)),
    ("transformer-batch-first-norm-first",
     lambda lib: lib.nn.Transformer(8, 2, 1, 1, 16, batch_first=True, norm_first=True),
     ((2, 6, 8), (2, 4, 8)), lambda m, s, t: m(s, t)),
]


@pytest.mark.parametrize("case, make, specs, call", MODULES, ids=[m[0] for m in MODULES])
@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's notes on nested tensors
def test_attention_modules_against_torch(case, make, specs, call, torch_ref, rng):
    arrays = []
    for s in specs:
        if isinstance(s, str):  # "float:4,5,7": a float mask of that shape
            arrays.append(rng.standard_normal(tuple(int(n) for n in s[6:].split(","))))
        elif isinstance(s, tuple):
            arrays.append(rng.standard_normal(s))
        else:
            arrays.append(s)
    _compare_with_torch(torch_ref, make, arrays, call)


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's notes on nested tensors
def test_transformer_state_dicts_and_reprs_match_torch(torch_ref):
    for make in (lambda lib: lib.nn.Transformer(8, 2, 1, 1, 16),
                 lambda lib: lib.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False)):
        ours, theirs = make(retrograd), make(torch_ref)
        assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
            {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
        assert repr(ours) == repr(theirs)
    mask = retrograd.nn.Transformer.generate_square_subsequent_mask(4)
    assert mask.tolist() == torch_ref.nn.Transformer.generate_square_subsequent_mask(4).tolist()


def test_transformer_trains_with_dropout():
    retrograd.manual_seed(0)
    model = retrograd.nn.Transformer(8, 2, 1, 1, 16, dropout=0.2)
    out = model(retrograd.randn(5, 2, 8), retrograd.randn(3, 2, 8))
    out.square().mean().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_gelu_tanh_against_torch(torch_ref, rng):
    x = rng.standard_normal((3, 4))
    results = []
    for lib in (retrograd, torch_ref):
        t = lib.tensor(x, requires_grad=True)
        y = lib.nn.GELU(approximate="tanh")(t)
        y.backward(lib.tensor(np.cos(x)))
        results.append((y.detach().numpy(), t.grad.numpy(),
                        lib.nn.functional.gelu(t, approximate="tanh").detach().numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    check_derivatives(lambda t: retrograd.nn.functional.gelu(t, approximate="tanh"), (3, 4))


# ---- nn.utils.rnn ------------------------------------------------------------------------------


def _rnn_utils(lib):
    return lib.nn.utils.rnn


RNN_UTILS = [
    ("pad", lambda lib, ts: _rnn_utils(lib).pad_sequence(ts)),
    ("pad-left-batch-first", lambda lib, ts: _rnn_utils(lib).pad_sequence(
        ts, batch_first=True, padding_value=-1.0, padding_side="left")),
    ("pack-unsorted", lambda lib, ts: _rnn_utils(lib).pack_padded_sequence(
        _rnn_utils(lib).pad_sequence(ts), [3, 5, 1], enforce_sorted=False).data),
    ("pack-pad-batch-first-total-length", lambda lib, ts: _rnn_utils(lib).pad_packed_sequence(
        _rnn_utils(lib).pack_padded_sequence(
            _rnn_utils(lib).pad_sequence(ts, batch_first=True), lib.tensor([3, 5, 1]),
            batch_first=True, enforce_sorted=False), batch_first=True, total_length=6)),
    ("pack-sequence-pad-value", lambda lib, ts: _rnn_utils(lib).pad_packed_sequence(
        _rnn_utils(lib).pack_sequence(ts, enforce_sorted=False), padding_value=2.0)),
]


@pytest.mark.parametrize("case, fn", RNN_UTILS, ids=[c[0] for c in RNN_UTILS])
def test_rnn_utils_against_torch(case, fn, torch_ref, rng):
    arrays = [rng.standard_normal((3, 2)), rng.standard_normal((5, 2)),
              rng.standard_normal((1, 2))]
    results = []
    for lib in (retrograd, torch_ref):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = fn(lib, ts)
        padded = out[0] if isinstance(out, tuple) else out
        padded.backward(lib.tensor(np.cos(np.arange(padded.numel())).reshape(
            tuple(padded.shape))))
        extra = [out[1].numpy()] if isinstance(out, tuple) else []
        results.append([padded.detach().numpy()] + [t.grad.numpy() for t in ts] + extra)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_packed_sequence_fields_and_errors(torch_ref):
    arrays = [np.ones((3, 2)), np.ones((5, 2)), np.ones((1, 2))]
    packed = [_rnn_utils(lib).pack_sequence([lib.tensor(a) for a in arrays],
                                            enforce_sorted=False)
              for lib in (retrograd, torch_ref)]
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        assert getattr(packed[0], field).tolist() == getattr(packed[1], field).tolist()
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        _rnn_utils(retrograd).pack_sequence([retrograd.tensor(a) for a in arrays])


# ---- optim.LBFGS ---------------------------------------------------------------------------------


def _rosenbrock(x):
    return ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()


def _lbfgs_run(lib, steps: int, **options):
    x = lib.tensor(np.array([-1.2, 1.0, -0.5, 0.8]), dtype=lib.float64, requires_grad=True)
    opt = lib.optim.LBFGS([x], **options)

    def closure():
        opt.zero_grad()
        loss = _rosenbrock(x)
        loss.backward()
        return loss

    losses = [opt.step(closure).item() for _ in range(steps)]
    state = opt.state[x]
    return losses, x.detach().numpy(), state["func_evals"], state["n_iter"]


@pytest.mark.parametrize("options", [{}, {"lr": 0.5, "history_size": 3, "max_iter": 7}],
                         ids=["defaults", "short-history"])
def test_lbfgs_follows_torch(options, torch_ref):
    ours, theirs = _lbfgs_run(retrograd, 2, **options), _lbfgs_run(torch_ref, 2, **options)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6, atol=1e-9)
    assert ours[2:] == theirs[2:]  # the same number of evaluations and iterations


def test_lbfgs_strong_wolfe_converges():
    losses, x, evals, _ = _lbfgs_run(retrograd, 3, line_search_fn="strong_wolfe")
    assert losses[0] > 1 and _rosenbrock(retrograd.tensor(x)).item() < 1e-10
    np.testing.assert_allclose(x, 1.0, atol=1e-5)
    assert evals < 100


def test_lbfgs_fits_a_model_and_checks_its_arguments():
    retrograd.manual_seed(0)
    model = retrograd.nn.Linear(3, 1)
    x = retrograd.randn(20, 3)
    y = x @ retrograd.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    opt = retrograd.optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = retrograd.nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss

    first = opt.step(closure).item()
    opt.step(closure)
    assert closure().item() < 1e-8 < first
    with pytest.raises(TypeError, match="closure"):
        opt.step()  # (PyTorch: a missing argument)
    with pytest.raises(TypeError, match="needs a closure"):
        opt.step(None)
    with pytest.raises(ValueError, match="parameter groups"):
        retrograd.optim.LBFGS([{"params": [model.weight]}, {"params": [model.bias]}])
