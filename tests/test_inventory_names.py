"""The names the API inventory (tests/data/api_inventory.json) found missing, beyond their
op-table entries (tests/optable_inventory.py): distributions.Categorical, nn.DataParallel,
accelerator and set_default_device, bernoulli's draws, dist with p=0, Tensor.type."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import retrograd
from retrograd.distributions import Categorical


def _pair(torch_ref, arr, requires_grad=True):
    return (retrograd.tensor(arr, requires_grad=requires_grad),
            torch_ref.tensor(arr, requires_grad=requires_grad))


@pytest.mark.parametrize("given", ["probs", "logits"])
def test_categorical_log_prob_and_entropy_match_torch(torch_ref, rng, given):
    arr = rng.uniform(0.1, 1.0, (4, 3)) if given == "probs" else rng.normal(size=(4, 3))
    values = np.array([0, 2, 1, 2])
    grads = []
    for lib, param in zip((retrograd, torch_ref), _pair(torch_ref, arr)):
        dist = (Categorical if lib is retrograd else torch_ref.distributions.Categorical)(
            **{given: param})
        lp = dist.log_prob(lib.tensor(values))
        ent = dist.entropy()
        (lp.sum() + 0.5 * ent.sum()).backward()
        grads.append((lp.detach().numpy(), ent.detach().numpy(), param.grad.numpy(),
                      dist.probs.detach().numpy(), dist.logits.detach().numpy(),
                      tuple(dist.batch_shape), tuple(dist.event_shape), repr(dist),
                      type(lp.grad_fn).__name__))
    mine, ref = grads
    for a, b in zip(mine[:5], ref[:5]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    assert mine[5:] == ref[5:]


def test_categorical_log_prob_broadcasts_and_is_twice_differentiable(torch_ref, rng):
    arr = rng.normal(size=(2, 3))
    value = np.array([[0], [2], [1]])  # (3, 1) against batch (2,): result (3, 2)
    out = []
    for lib, logits in zip((retrograd, torch_ref), _pair(torch_ref, arr)):
        cls = Categorical if lib is retrograd else torch_ref.distributions.Categorical
        lp = cls(logits=logits).log_prob(lib.tensor(value))
        (g,) = lib.autograd.grad(lp.exp().sum(), logits, create_graph=True)
        (g2,) = lib.autograd.grad((g * g).sum(), logits)
        out.append((lp.detach().numpy(), g.detach().numpy(), g2.numpy()))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    assert retrograd.autograd.gradcheck(
        lambda t: Categorical(logits=t).log_prob(retrograd.tensor(value)),
        retrograd.tensor(arr, requires_grad=True))


def test_categorical_samples_follow_the_probabilities():
    retrograd.manual_seed(0)
    probs = retrograd.tensor([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]])
    dist = Categorical(probs)
    one = dist.sample()
    assert one.shape == (2,) and one.dtype == retrograd.int64 and not one.requires_grad
    many = dist.sample((4000,))
    assert many.shape == (4000, 2)
    freq = np.stack([(many.numpy() == k).mean(0) for k in range(3)], axis=1)
    np.testing.assert_allclose(freq, probs.numpy(), atol=0.03)
    assert (many.numpy()[:, 1] != 2).all()  # probability 0 is never drawn
    assert dist.enumerate_support().tolist() == [[0, 0], [1, 1], [2, 2]]
    assert dist.mode.tolist() == [2, 0]


def test_categorical_errors_match_torch(torch_ref):
    for lib, cls in ((retrograd, Categorical), (torch_ref, torch_ref.distributions.Categorical)):
        with pytest.raises(ValueError, match="Either `probs` or `logits`"):
            cls()
        with pytest.raises(ValueError, match="Simplex"):
            cls(probs=lib.tensor([0.2, -1.0]))
        with pytest.raises(ValueError, match="within the support"):
            cls(probs=lib.tensor([0.5, 0.5])).log_prob(lib.tensor(2))
    with pytest.raises(NotImplementedError, match="rsample"):
        Categorical(logits=retrograd.zeros(3)).rsample()


def test_policy_gradient_step_as_the_reinforce_example_writes_it():
    """pytorch/examples reinforcement_learning/reinforce.py: sample, keep -log_prob * return."""
    retrograd.manual_seed(1)
    policy = retrograd.nn.Sequential(retrograd.nn.Linear(4, 8), retrograd.nn.ReLU(),
                                     retrograd.nn.Linear(8, 2), retrograd.nn.Softmax(dim=1))
    state = retrograd.randn(1, 4)
    m = Categorical(policy(state))
    action = m.sample()
    loss = -m.log_prob(action) * 1.5
    loss.sum().backward()
    assert all(p.grad is not None and np.isfinite(p.grad.numpy()).all()
               for p in policy.parameters())


def test_data_parallel_runs_the_module_as_pytorch_does_without_gpus(torch_ref):
    inner = retrograd.nn.Linear(2, 3)
    model = retrograd.nn.DataParallel(inner, device_ids=[0])
    ref = torch_ref.nn.DataParallel(torch_ref.nn.Linear(2, 3), device_ids=[0])
    assert list(model.state_dict()) == list(ref.state_dict()) == ["module.weight", "module.bias"]
    assert model.device_ids == ref.device_ids == []
    x = retrograd.randn(5, 2)
    np.testing.assert_array_equal(model(x).detach().numpy(), inner(x).detach().numpy())
    assert repr(model).splitlines()[0] == "DataParallel("


def test_set_default_device_accepts_the_cpu_only():
    retrograd.set_default_device("cpu")
    retrograd.set_default_device(None)
    assert str(retrograd.get_default_device()) == "cpu"
    with pytest.raises(AssertionError, match="not compiled with CUDA"):
        retrograd.set_default_device("cuda")


def test_bernoulli_draws_with_the_given_probabilities():
    retrograd.manual_seed(3)
    p = retrograd.tensor([0.0, 0.25, 0.9, 1.0], dtype=retrograd.float64)
    draws = np.stack([retrograd.bernoulli(p).numpy() for _ in range(3000)])
    assert draws.dtype == np.float64 and set(np.unique(draws)) <= {0.0, 1.0}
    np.testing.assert_allclose(draws.mean(0), p.numpy(), atol=0.03)
    retrograd.manual_seed(5)
    a = p.bernoulli()
    retrograd.manual_seed(5)
    assert a.tolist() == retrograd.bernoulli(p).tolist()
    assert retrograd.bernoulli(retrograd.zeros(3), 1.0).tolist() == [1.0, 1.0, 1.0]


def test_bernoulli_errors(torch_ref):
    for lib in (retrograd, torch_ref):
        with pytest.raises(RuntimeError):
            lib.bernoulli(lib.tensor([1.5]))
        with pytest.raises(NotImplementedError):
            lib.bernoulli(lib.tensor([1]))


def test_dist_p0_counts_nonzeros_with_a_zero_gradient(torch_ref, rng):
    arr = rng.normal(size=(2, 3))
    arr[0, 1] = 0.0
    out = []
    for lib, x in zip((retrograd, torch_ref), _pair(torch_ref, arr)):
        d = lib.dist(x, lib.zeros(3, dtype=x.dtype), 0)
        d.backward()
        out.append((d.item(), x.grad if x.grad is None else x.grad.numpy().tolist()))
    assert out[0][0] == out[1][0] == 5.0
    assert out[0][1] is None or not np.any(out[0][1])


def test_dist_of_integer_tensors_raises_as_torch(torch_ref):
    for lib in (retrograd, torch_ref):
        with pytest.raises(RuntimeError, match="floating point"):
            lib.dist(lib.tensor([1, 2]), lib.tensor([3, 4]))


def test_tensor_type_matches_torch(torch_ref):
    for arr in (np.array([1.5]), np.array([1]), np.array([True]), np.array([1.0], np.float32)):
        assert retrograd.tensor(arr).type() == torch_ref.tensor(arr).type()
    x = retrograd.ones(2)
    assert x.type(retrograd.float32) is x
    assert x.type(retrograd.float64).dtype == retrograd.float64
    assert x.type("torch.LongTensor").dtype == retrograd.int64
    with pytest.raises(ValueError, match="invalid type"):
        x.type("torch.NoSuchTensor")


def test_det_of_a_singular_matrix_and_of_a_non_square_one(torch_ref):
    singular = [[1.0, 2.0], [2.0, 4.0]]
    assert retrograd.det(retrograd.tensor(singular)).item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(RuntimeError, match="singular"):
        retrograd.inverse(retrograd.tensor(singular))
    for lib in (retrograd, torch_ref):
        with pytest.raises(RuntimeError, match="square"):
            lib.det(lib.ones(2, 3))


def _parametrize_tour(lib):
    """The parametrizations tutorial's steps, recorded as plain data."""
    nn, P = lib.nn, lib.nn.utils.parametrize

    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

    class Skew(nn.Module):
        def forward(self, X):
            A = X.triu(1)
            return A - A.transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu(1)

    layer = nn.Linear(3, 3)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(np.arange(9.0).reshape(3, 3) / 10))
        layer.bias.zero_()
    P.register_parametrization(layer, "weight", Symmetric())
    out = [repr(layer), [k for k, _ in layer.named_parameters()], list(layer.state_dict()),
           layer.weight.detach().numpy().tolist()]
    layer(lib.ones(2, 3)).sum().backward()
    out += [layer.parametrizations.weight.original.grad.numpy().tolist(),
            type(layer.weight.grad_fn).__name__]
    skew = nn.Linear(3, 3)
    P.register_parametrization(skew, "weight", Skew())
    skew.weight = lib.tensor([[0.0, 1, 2], [-1, 0, 3], [-2, -3, 0]])  # through right_inverse
    out += [skew.weight.detach().numpy().tolist(),
            skew.parametrizations.weight.original.detach().numpy().tolist()]
    P.remove_parametrizations(skew, "weight")
    out += [repr(skew), [k for k, _ in skew.named_parameters()],
            skew.weight.detach().numpy().tolist()]
    chained = nn.Linear(2, 2)
    P.register_parametrization(chained, "weight", Skew())
    P.register_parametrization(chained, "weight", Symmetric())
    out.append(repr(chained))
    P.remove_parametrizations(chained, "weight", leave_parametrized=False)
    out.append(P.is_parametrized(chained))
    cnn = nn.Conv2d(in_channels=5, out_channels=8, kernel_size=3)
    P.register_parametrization(cnn, "weight", Skew())
    out += [tuple(cnn(lib.ones(1, 5, 4, 4)).shape), P.type_before_parametrizations(cnn).__name__,
            type(cnn).__name__]
    return out


def test_parametrize_follows_the_tutorial_as_torch_does(torch_ref):
    mine, ref = _parametrize_tour(retrograd), _parametrize_tour(torch_ref)
    for step, (a, b) in enumerate(zip(mine, ref)):
        assert a == b, f"step {step}: {a!r} != {b!r}"


def test_parametrize_cached_computes_once_and_errors():
    nn, P = retrograd.nn, retrograd.nn.utils.parametrize
    calls = []

    class Noisy(nn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 1

    layer = nn.Linear(4, 4)
    P.register_parametrization(layer, "weight", Noisy())
    calls.clear()
    _ = layer.weight + layer.weight.T
    assert len(calls) == 2
    calls.clear()
    with P.cached():
        _ = layer.weight + layer.weight.T
        _ = layer.weight.sum()
    assert len(calls) == 1
    _ = layer.weight
    assert len(calls) == 2  # the cache is gone after the block

    class Halve(nn.Module):
        def forward(self, X):
            return X[:, :2]

    with pytest.raises(ValueError, match="shape"):
        P.register_parametrization(nn.Linear(4, 4), "weight", Halve())
    with pytest.raises(ValueError, match="does not have a parameter"):
        P.register_parametrization(nn.Linear(4, 4), "nothing", Noisy())
    with pytest.raises(ValueError, match="does not have a parametrization"):
        P.remove_parametrizations(nn.Linear(4, 4), "weight")


def test_parametrized_weight_trains_through_an_optimizer():
    nn, P = retrograd.nn, retrograd.nn.utils.parametrize

    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

    retrograd.manual_seed(0)
    layer = nn.Linear(3, 3)
    P.register_parametrization(layer, "weight", Symmetric())
    opt = retrograd.optim.SGD(layer.parameters(), lr=0.1)
    x = retrograd.randn(8, 3)
    for _ in range(3):
        opt.zero_grad()
        ((layer(x) - x) ** 2).mean().backward()
        opt.step()
    w = layer.weight.detach().numpy()
    np.testing.assert_allclose(w, w.T)


def _prune_tour(lib):
    """The pruning tutorial's steps on a LeNet with fixed, distinct weights."""
    nn, F = lib.nn, lib.nn.functional
    prune = importlib.import_module(f"{lib.__name__}.nn.utils.prune")

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 3)
            self.conv2 = nn.Conv2d(6, 16, 3)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = F.relu(self.fc1(x.flatten(start_dim=1)))
            return self.fc3(F.relu(self.fc2(x)))

    def fresh():
        # distinct magnitudes across all parameters (no ties for global pruning to break)
        model = LeNet()
        shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        total = sum(int(np.prod(s)) for s in shapes.values())
        values = (np.random.default_rng(0).permutation(total) + 1 / 3) / total - 0.4
        state, start = {}, 0
        for k, shape in shapes.items():
            n = int(np.prod(shape))
            state[k] = lib.tensor(values[start:start + n].reshape(shape), dtype=lib.float32)
            start += n
        model.load_state_dict(state)
        return model

    model = fresh()
    module = model.conv1
    prune.l1_unstructured(module, name="bias", amount=3)
    out = [[k for k, _ in module.named_parameters()], [k for k, _ in module.named_buffers()],
           module.bias.detach().numpy().tolist()]
    prune.l1_unstructured(module, name="weight", amount=0.3)
    prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
    hook = next(h for h in module._forward_pre_hooks.values() if h._tensor_name == "weight")
    out += [module.weight_mask.numpy().tolist(), type(hook).__name__,
            [type(m).__name__ for m in hook], list(model.state_dict())]
    model(lib.linspace(-1, 1, 784).reshape(1, 1, 28, 28)).sum().backward()
    out.append(module.weight_orig.grad.numpy())
    prune.remove(module, "weight")
    out += [[k for k, _ in module.named_parameters()], [k for k, _ in module.named_buffers()],
            len(module._forward_pre_hooks), module.weight.detach().numpy().tolist()]
    model = fresh()
    params = [(model.conv1, "weight"), (model.conv2, "weight"), (model.fc1, "weight"),
              (model.fc2, "weight"), (model.fc3, "weight")]
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=0.2)
    out += [[float(lib.sum(m.weight == 0)) for m, _ in params],
            model.fc3.weight_mask.numpy().tolist()]
    return out


def test_prune_follows_the_tutorial_as_torch_does(torch_ref):
    mine, ref = _prune_tour(retrograd), _prune_tour(torch_ref)
    grad, ref_grad = mine.pop(7), ref.pop(7)  # weight_orig.grad after a backward
    assert np.any(grad) and not np.any(grad[np.asarray(mine[3]) == 0])  # pruned: no gradient
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-5)
    for step, (a, b) in enumerate(zip(mine, ref)):
        assert a == b, f"step {step}: {a!r} != {b!r}"


def test_prune_random_methods():
    prune = retrograd.nn.utils.prune
    retrograd.manual_seed(0)
    layer = retrograd.nn.Linear(5, 4)
    prune.random_unstructured(layer, "weight", amount=0.25)
    assert int((layer.weight_mask == 0).sum()) == 5
    prune.random_structured(layer, "weight", amount=1, dim=1)  # one more whole column
    zero_cols = (layer.weight_mask.sum(0) == 0).numpy()
    assert zero_cols.sum() == 1
    assert prune.is_pruned(layer)
    prune.remove(layer, "weight")
    assert not prune.is_pruned(layer)


def test_prune_errors_as_torch(torch_ref):
    ref_prune = importlib.import_module("torch.nn.utils.prune")
    for lib, p in ((retrograd, retrograd.nn.utils.prune), (torch_ref, ref_prune)):
        m = lib.nn.Linear(3, 4)
        with pytest.raises(ValueError, match="float in the range"):
            p.l1_unstructured(m, "weight", amount=1.5)
        with pytest.raises(ValueError, match="smaller than the number"):
            p.l1_unstructured(m, "weight", amount=20)
        with pytest.raises(ValueError, match="has to be pruned"):
            p.remove(m, "weight")
        # left as it was (the weight registered again, last, in both)
        assert [k for k, _ in m.named_parameters()] == ["bias", "weight"]
        assert not m._forward_pre_hooks and not list(m.named_buffers())


def test_linalg_names_and_eigh_result_as_torch(torch_ref):
    for name in retrograd.linalg.__all__:
        assert hasattr(torch_ref.linalg, name), name
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    mine, ref = retrograd.linalg.eigh(retrograd.tensor(a)), torch_ref.linalg.eigh(
        torch_ref.tensor(a))
    assert repr(mine.eigenvalues) == repr(ref.eigenvalues)
    assert repr(mine).splitlines()[0] == repr(ref).splitlines()[0]
    w, vecs = mine
    np.testing.assert_allclose(((vecs * w) @ vecs.T).numpy(), a, atol=1e-12)
    for lib in (retrograd, torch_ref):
        with pytest.raises(RuntimeError, match="square"):
            lib.linalg.eigvalsh(lib.ones(2, 3))
        with pytest.raises(RuntimeError, match="UPLO"):
            lib.linalg.eigh(lib.eye(2), UPLO="X")


def test_benchmark_timer_measures_a_statement():
    from retrograd.utils.benchmark import Measurement, Timer

    calls = []
    timer = Timer(stmt="f(x)", globals={"f": calls.append, "x": retrograd.ones(2)})
    m = timer.timeit(50)
    assert isinstance(m, Measurement) and m.number_per_run == 50 and len(calls) == 51
    assert len(m.times) == 1 and m.mean == m.median == m.times[0] > 0
    text = repr(m).splitlines()
    assert text[1] == "f(x)" and text[2].strip().split()[1] in ("s", "ms", "us", "ns")
    assert text[3] == "  1 measurement, 50 runs , 1 thread"
    blocked = Timer("sum(range(100))").blocked_autorange(min_run_time=0.02)
    assert sum(blocked.raw_times) >= 0.02 and blocked.iqr >= 0
    with pytest.raises(ValueError, match="str"):
        Timer(stmt=calls.append)


def test_pruned_norm_layers_use_the_masked_weight(torch_ref):
    outs = []
    for lib in (retrograd, torch_ref):
        prune = importlib.import_module(f"{lib.__name__}.nn.utils.prune")
        bn, ln = lib.nn.BatchNorm1d(4), lib.nn.LayerNorm(4)
        with lib.no_grad():
            for layer in (bn, ln):
                layer.weight.copy_(lib.tensor([0.1, -2.0, 3.0, 0.5]))
        prune.l1_unstructured(bn, "weight", amount=2)
        prune.l1_unstructured(ln, "bias", amount=1)
        x = lib.tensor(np.arange(12.0).reshape(3, 4), dtype=lib.float32)
        outs.append((bn(x).detach().numpy(), ln(x).detach().numpy()))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, atol=1e-6)
