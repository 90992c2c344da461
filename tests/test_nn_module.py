"""nn.Module, Parameter and the containers: registration, traversal, state dicts, modes, dtype
conversion, hooks and printing, compared with PyTorch where it has an opinion."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import retrograd
import retrograd.nn as nn


def _copy_weights(src, dst) -> None:
    """Copy a torch module's parameters into a retrograd one (same names), via NumPy."""
    params = dict(dst.named_parameters())
    for name, p in src.named_parameters():
        params[name].data = retrograd.tensor(p.detach().numpy().copy())


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2, bias=False)
        self.register_buffer("steps", retrograd.zeros(1))
        self.register_buffer("scratch", retrograd.ones(2), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


# ---- Parameter -----------------------------------------------------------------------------


def test_parameter_is_a_leaf_tensor_that_requires_grad():
    p = nn.Parameter(retrograd.ones(2, 3))
    assert isinstance(p, retrograd.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    assert not nn.Parameter(retrograd.ones(2), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)


def test_parameter_shares_memory_and_ops_give_plain_tensors():
    t = retrograd.zeros(3)
    p = nn.Parameter(t)
    with retrograd.no_grad():
        p.add_(1.0)
    assert t.tolist() == [1.0, 1.0, 1.0]
    y = p * 2 + 1
    assert type(y) is retrograd.Tensor and y.grad_fn is not None
    assert type(p.detach()) is retrograd.Tensor and type(p.data) is retrograd.Tensor
    y.sum().backward()
    assert p.grad.tolist() == [2.0, 2.0, 2.0]


def test_parameter_works_in_every_kind_of_op():
    w = nn.Parameter(retrograd.tensor([[1.0, 2.0], [3.0, 4.0]]))
    x = retrograd.tensor([[1.0, -1.0]])
    out = (x @ w).sum() + w.sum(0).max() + w[0, 1] + w.exp().mean() + retrograd.cat([w, w]).sum()
    out.backward()
    assert w.grad is not None and w.grad.shape == (2, 2)


def test_parameter_repr_matches_torch(torch_ref):
    for data in ([[1.0, 2.0], [3.5, 4.0]], [1.0], []):
        ours = repr(nn.Parameter(retrograd.tensor(data)))
        theirs = repr(torch_ref.nn.Parameter(torch_ref.tensor(data)))
        assert ours == theirs
    ours = repr(nn.Parameter(retrograd.tensor([1.0, 2.0], dtype=retrograd.float64), False))
    theirs = repr(torch_ref.nn.Parameter(torch_ref.tensor([1.0, 2.0], dtype=torch_ref.float64),
                                         False))
    assert ours == theirs
    assert str(nn.Parameter(retrograd.ones(1))).startswith("Parameter containing:\n")


def test_parameter_of_integers_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(retrograd.tensor([1, 2]))
    assert nn.Parameter(retrograd.tensor([1, 2]), requires_grad=False).dtype == retrograd.int64
    with pytest.raises(TypeError, match="Tensor"):
        nn.Parameter([1.0, 2.0])


def test_parameter_deepcopy_and_pickle_keep_the_class():
    p = nn.Parameter(retrograd.tensor([1.0, 2.0]))
    p.grad = retrograd.tensor([0.5, 0.5])
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad and q.grad.tolist() == [0.5, 0.5]
    assert q.data_ptr() != p.data_ptr()
    r = pickle.loads(pickle.dumps(p))
    assert type(r) is nn.Parameter and r.tolist() == [1.0, 2.0] and r.requires_grad


# ---- registration --------------------------------------------------------------------------


def test_setattr_sorts_members_into_parameters_buffers_and_modules():
    net = Net()
    assert list(net._parameters) == []
    assert list(net._modules) == ["fc1", "act", "fc2"]
    assert list(net._buffers) == ["steps", "scratch"]
    assert net.fc1.weight is net.fc1._parameters["weight"]
    assert "fc1" not in net.__dict__ and "weight" not in net.fc1.__dict__
    net.plain = 3
    assert net.plain == 3 and "plain" in net.__dict__


def test_reassigning_a_member_changes_its_kind():
    m = nn.Module()
    m.x = nn.Linear(1, 1)
    m.x = nn.Parameter(retrograd.ones(1))  # a module slot becomes a parameter
    assert "x" not in m._modules and isinstance(m.x, nn.Parameter)
    with pytest.raises(TypeError, match="Parameter or None expected"):
        m.x = nn.Linear(1, 1)  # but a parameter slot takes only parameters (as in PyTorch)
    m.x = None  # a parameter slot may hold None
    assert m.x is None and "x" in m._parameters
    m.b = nn.Buffer(retrograd.ones(2), persistent=False)
    assert "b" in m._buffers and "b" in m._non_persistent_buffers_set
    assert type(m.b) is retrograd.Tensor
    m.b = retrograd.zeros(2)  # reassigning a buffer keeps it a (non-persistent) buffer
    assert m.b.tolist() == [0.0, 0.0] and "b" in m._non_persistent_buffers_set


def test_assignment_errors_match_torch(torch_ref):
    def errors(lib):
        out = []
        m = lib.nn.Linear(2, 2)
        attempts = [
            lambda: setattr(m, "weight", lib.zeros(2, 2)),
            lambda: m.foo,
            lambda: m.register_buffer("weight", lib.zeros(1)),
            lambda: m.register_buffer("a.b", lib.zeros(1)),
            lambda: m.register_buffer("c", 3),
            lambda: m.register_parameter("c", lib.zeros(1)),
            lambda: m.register_parameter("", None),
            lambda: m.register_parameter(1, None),
            lambda: m.add_module("c", 3),
            lambda: m.add_module("a.c", None),
            lambda: m.add_module("", None),
            lambda: m.train(1),
            lambda: lib.nn.Module()(1),
            lambda: setattr(lib.nn.Sequential(lib.nn.ReLU()), "0", 3),
        ]
        for attempt in attempts:
            with pytest.raises(Exception) as info:
                attempt()
            out.append((info.type, str(info.value)))
        return out

    # the same exception types, with PyTorch's message (ours may add a hint after it)
    for (ours_type, ours), (their_type, theirs) in zip(errors(retrograd), errors(torch_ref)):
        assert ours_type is their_type and ours.startswith(theirs), (ours, theirs)


def test_assigning_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.l = nn.Linear(1, 1)

    class BadParam(nn.Module):
        def __init__(self):
            self.p = nn.Parameter(retrograd.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()
    with pytest.raises(AttributeError, match="before Module.__init__"):
        BadParam()


def test_non_leaf_parameter_is_rejected():
    m = nn.Module()
    p = nn.Parameter(retrograd.ones(2))
    with pytest.raises(ValueError, match="non-leaf"):
        q = nn.Parameter(retrograd.ones(2))
        q.grad_fn = (p * 2).grad_fn  # a Parameter that is somehow not a leaf
        m.register_parameter("q", q)
    with pytest.raises(TypeError, match="Parameter or None"):
        m.register_parameter("q", p * 2)


def test_delattr_and_dir():
    net = Net()
    assert {"fc1", "act", "steps", "forward", "training"} <= set(dir(net))
    del net.fc1
    del net.steps
    assert "fc1" not in net._modules and "steps" not in net._buffers
    with pytest.raises(AttributeError):
        _ = net.fc1
    net.plain = 1
    del net.plain
    with pytest.raises(AttributeError):
        del net.nothing


# ---- traversal -----------------------------------------------------------------------------


def test_named_parameters_buffers_modules_match_torch(torch_ref):
    def layout(lib):
        shared = lib.nn.Linear(2, 2)
        model = lib.nn.Sequential(
            lib.nn.Linear(3, 2), shared, lib.nn.ReLU(),
            lib.nn.Sequential(shared, lib.nn.Linear(2, 1, bias=False)))
        model[3].register_buffer("b", lib.zeros(1))
        return (
            [n for n, _ in model.named_parameters()],
            [n for n, _ in model.named_parameters(prefix="model")],
            [n for n, _ in model.named_parameters(recurse=False)],
            [n for n, _ in model.named_parameters(remove_duplicate=False)],
            [n for n, _ in model.named_buffers()],
            [n for n, _ in model.named_modules()],
            [n for n, _ in model.named_modules(remove_duplicate=False)],
            [n for n, _ in model.named_children()],
            len(list(model.parameters())), len(list(model.modules())),
            len(list(model.children())), len(list(model.buffers())),
            list(model.state_dict()),
        )

    assert layout(retrograd) == layout(torch_ref)


def test_parameters_are_shared_objects():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, shared)
    params = list(model.parameters())
    assert len(params) == 2 and params[0] is shared.weight


def test_get_submodule_parameter_buffer():
    net = nn.Sequential(Net())
    assert net.get_submodule("0.fc1") is net[0].fc1
    assert net.get_submodule("") is net
    assert net.get_parameter("0.fc1.bias") is net[0].fc1.bias
    assert net.get_buffer("0.steps") is net[0].steps
    with pytest.raises(AttributeError, match="no attribute `nope`"):
        net.get_submodule("0.nope")
    with pytest.raises(AttributeError, match="no parameter"):
        net.get_parameter("0.fc1.nope")


def test_very_deep_model_walks_without_recursion_error():
    model = nn.Identity()
    for _ in range(3000):
        outer = nn.Module()
        outer.inner = model
        model = outer
    assert len(list(model.modules())) == 3001
    assert list(model.parameters()) == []


# ---- state dict ----------------------------------------------------------------------------


def test_state_dict_keys_values_and_detachment():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["steps", "fc1.weight", "fc1.bias", "fc2.weight"]
    assert not sd["fc1.weight"].requires_grad
    assert sd["fc1.weight"].data_ptr() == net.fc1.weight.data_ptr()  # detached, not copied
    kept = net.state_dict(keep_vars=True)
    assert kept["fc1.weight"] is net.fc1.weight
    assert list(net.state_dict(prefix="net.")) == ["net." + k for k in sd]


def test_load_state_dict_round_trip_and_identity():
    a, b = Net(), Net()
    weight = b.fc1.weight
    result = b.load_state_dict(a.state_dict())
    assert repr(result) == "<All keys matched successfully>"
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.fc1.weight is weight  # copied in place: optimizers holding it keep working
    for (_, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    assert not b.fc1.weight.grad_fn and b.fc1.weight.requires_grad


def test_load_state_dict_errors_are_reported_together_and_change_nothing(torch_ref):
    def attempt(lib, strict):
        m = lib.nn.Linear(2, 2)
        before = m.weight.detach().numpy().copy()
        bad = {"weight": lib.zeros(3, 2), "foo": lib.zeros(1)}
        with pytest.raises(RuntimeError) as info:
            m.load_state_dict(bad, strict=strict)
        return str(info.value), before, m.weight.detach().numpy()

    for strict in (True, False):
        ours, before, after = attempt(retrograd, strict)
        theirs, _, _ = attempt(torch_ref, strict)
        assert ours == theirs
        np.testing.assert_array_equal(before, after)
    ours, _, _ = attempt(retrograd, True)
    assert 'Missing key(s) in state_dict: "bias"' in ours
    assert 'Unexpected key(s) in state_dict: "foo"' in ours
    assert "size mismatch for weight" in ours


def test_load_state_dict_non_strict_returns_the_incompatible_keys(torch_ref):
    m = nn.Linear(2, 2)
    result = m.load_state_dict({"weight": retrograd.ones(2, 2), "extra": retrograd.ones(1)},
                               strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert m.weight.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    t = torch_ref.nn.Linear(2, 2).load_state_dict(
        {"weight": torch_ref.ones(2, 2), "extra": torch_ref.ones(1)}, strict=False)
    assert repr(result) == repr(t)
    missing, unexpected = result  # a named tuple, as in PyTorch
    assert missing == ["bias"]


def test_load_state_dict_assign_and_non_persistent_buffers():
    net = Net()
    assert "scratch" not in net.state_dict()
    src = Net().state_dict()
    net.load_state_dict(src, assign=True)
    assert isinstance(net.fc1.weight, nn.Parameter) and net.fc1.weight.requires_grad
    assert net.fc1.weight.data_ptr() == src["fc1.weight"].data_ptr()
    with pytest.raises(TypeError, match="dict"):
        net.load_state_dict([1, 2])


def test_state_dict_from_torch_loads_into_the_same_architecture(torch_ref):
    t = torch_ref.nn.Sequential(torch_ref.nn.Linear(3, 4), torch_ref.nn.Linear(4, 2))
    r = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    r.load_state_dict({k: retrograd.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(r(retrograd.tensor(x)).detach().numpy(),
                               t(torch_ref.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


# ---- modes, gradients, conversions ---------------------------------------------------------


def test_train_eval_reach_every_submodule():
    net = nn.Sequential(Net(), nn.Sequential(nn.ReLU()))
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_zero_grad_to_none_and_to_zeros():
    net = Net()
    net(retrograd.randn(2, 3)).sum().backward()
    assert net.fc1.weight.grad is not None
    net.zero_grad(set_to_none=False)
    assert net.fc1.weight.grad.abs().sum().item() == 0.0
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_and_apply():
    net = Net()
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "Linear", "Net"]  # children first, as in PyTorch


def test_to_double_float_keeps_parameter_objects():
    net = Net()
    w = net.fc1.weight
    net(retrograd.randn(2, 3)).sum().backward()
    assert net.double() is net
    assert net.fc1.weight is w and w.dtype == retrograd.float64
    assert w.grad.dtype == retrograd.float64 and net.steps.dtype == retrograd.float64
    out = net(retrograd.randn(2, 3, dtype=retrograd.float64))
    out.sum().backward()  # the accumulator follows the new dtype
    assert out.dtype == retrograd.float64
    net.float()
    assert w.dtype == retrograd.float32
    net.to(retrograd.float64)
    net.to("cpu", dtype=retrograd.float32)
    net.to(retrograd.zeros(1, dtype=retrograd.float64))
    assert w.dtype == retrograd.float64
    with pytest.raises(TypeError, match="floating point"):
        net.to(retrograd.int64)
    with pytest.raises(RuntimeError, match="cpu"):
        net.to("cuda")


def test_integer_buffers_are_not_converted():
    m = nn.Module()
    m.register_buffer("count", retrograd.tensor([1, 2]))
    m.double()
    assert m.count.dtype == retrograd.int64


def test_deepcopy_module_is_independent():
    net = Net()
    clone = copy.deepcopy(net)
    assert clone.fc1.weight is not net.fc1.weight
    with retrograd.no_grad():
        clone.fc1.weight.add_(1.0)
    assert not np.allclose(clone.fc1.weight.detach().numpy(), net.fc1.weight.detach().numpy())
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(restored.fc2.weight.detach().numpy(),
                                  net.fc2.weight.detach().numpy())


# ---- hooks ---------------------------------------------------------------------------------


def test_forward_pre_hooks_and_forward_hooks_can_replace_values():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = lin(retrograd.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(),
                               np.broadcast_to(lin.bias.detach().numpy() + 1, (3, 2)))
    assert calls == [(3, 2)]
    h1.remove()
    h2.remove()
    assert not lin._forward_pre_hooks and not lin._forward_hooks
    np.testing.assert_allclose(lin(retrograd.zeros(1, 2)).detach().numpy()[0],
                               lin.bias.detach().numpy())


def test_hook_order_prepend_and_kwargs():
    m = nn.Identity()
    order = []
    m.register_forward_hook(lambda mod, a, o: order.append("a"))
    m.register_forward_hook(lambda mod, a, o: order.append("b"), prepend=True)
    m.register_forward_pre_hook(lambda mod, a, kw: ((a[0] + 1,), kw), with_kwargs=True)
    m.register_forward_hook(lambda mod, a, kw, o: order.append(("kw", kw)), with_kwargs=True)
    out = m(retrograd.zeros(1))
    assert out.tolist() == [1.0]
    assert order == ["b", "a", ("kw", {})]


def test_always_call_hook_runs_when_forward_raises():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Boom()
    seen = []
    m.register_forward_hook(lambda mod, a, o: seen.append(o), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        m(1)
    assert seen == [None]


def _backward_hook_record(lib, x_requires_grad: bool):
    lib.manual_seed(0)
    lin = lib.nn.Linear(3, 2)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]))
        lin.bias.copy_(lib.tensor([0.1, 0.2]))
    record = []

    def hook(module, grad_input, grad_output):
        record.append(([None if g is None else g.numpy().copy() for g in grad_input],
                       [g.numpy().copy() for g in grad_output]))

    lin.register_full_backward_hook(hook)
    x = lib.tensor([[1.0, 2.0, 3.0], [0.0, 1.0, -1.0]], requires_grad=x_requires_grad)
    (lin(x) * lib.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    return record, x.grad


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
@pytest.mark.parametrize("x_requires_grad", [True, False])
def test_full_backward_hook_matches_torch(torch_ref, x_requires_grad):
    ours, ours_grad = _backward_hook_record(retrograd, x_requires_grad)
    theirs, their_grad = _backward_hook_record(torch_ref, x_requires_grad)
    assert len(ours) == len(theirs) == 1
    for (gi_r, go_r), (gi_t, go_t) in zip(ours, theirs):
        assert len(gi_r) == len(gi_t) and len(go_r) == len(go_t)
        for a, b in zip(gi_r + go_r, gi_t + go_t):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-6)
    assert (ours_grad is None) == (their_grad is None)


def test_full_backward_hook_can_replace_grad_input_and_pre_hook_grad_output():
    lin = nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0 + 7,))
    x = retrograd.ones(1, 2, requires_grad=True)
    lin(x).sum().backward()
    assert x.grad.tolist() == [[7.0, 7.0]]

    lin2 = nn.Linear(2, 1)
    lin2.register_full_backward_pre_hook(lambda m, go: (go[0] * 0,))
    x2 = retrograd.ones(1, 2, requires_grad=True)
    lin2(x2).sum().backward()
    assert x2.grad.tolist() == [[0.0, 0.0]]
    assert lin2.weight.grad.tolist() == [[0.0, 0.0]]


def test_backward_hook_errors():
    lin = nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input"):
        lin(retrograd.ones(1, 2, requires_grad=True)).sum().backward()
    lin2 = nn.Linear(2, 2)
    lin2.register_full_backward_hook(lambda m, gi, go: (retrograd.ones(1, 2),))
    with pytest.raises(RuntimeError, match="no input requires gradient"), pytest.warns(
            UserWarning, match="no inputs require gradients"):
        lin2(retrograd.ones(1, 2)).sum().backward()


def test_backward_hook_handle_removal():
    lin = nn.Linear(2, 2)
    seen = []
    handle = lin.register_full_backward_hook(lambda m, gi, go: seen.append(1))
    lin(retrograd.ones(1, 2, requires_grad=True)).sum().backward()
    handle.remove()
    lin(retrograd.ones(1, 2, requires_grad=True)).sum().backward()
    assert seen == [1]


# ---- containers ----------------------------------------------------------------------------


def test_sequential_indexing_slicing_and_mutation():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub._modules) == ["1", "2"]
    seq[1] = nn.Identity()
    assert isinstance(seq[1], nn.Identity)
    del seq[0]
    assert list(seq._modules) == ["0", "1"]
    seq.append(nn.ReLU())
    seq.insert(0, nn.Tanh())
    assert [type(m).__name__ for m in seq] == ["Tanh", "Identity", "Sigmoid", "ReLU"]
    assert isinstance(seq.pop(0), nn.Tanh) and len(seq) == 3
    assert len(seq + nn.Sequential(nn.ReLU())) == 4
    with pytest.raises(IndexError, match="index 5 is out of range"):
        seq[5]
    with pytest.raises(TypeError):
        seq["a"]
    named = nn.Sequential(OrderedDict([("first", nn.ReLU()), ("second", nn.Tanh())]))
    assert list(named._modules) == ["first", "second"] and isinstance(named.second, nn.Tanh)


def test_sequential_forward_chains_modules():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = retrograd.randn(5, 3)
    want = seq[2](seq[1](seq[0](x)))
    np.testing.assert_array_equal(seq(x).detach().numpy(), want.detach().numpy())


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers += [nn.Sigmoid()]
    assert len(layers) == 6 and isinstance(layers[-1], nn.Sigmoid)
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    del layers[0]
    assert list(layers._modules) == [str(i) for i in range(5)]
    with pytest.raises(IndexError):
        layers[10]

    d = nn.ModuleDict({"a": nn.ReLU(), "b": nn.Linear(1, 1)})
    assert len(d) == 2 and "a" in d and list(d) == ["a", "b"]
    assert list(d.keys()) == ["a", "b"] and isinstance(d["b"], nn.Linear)
    d["c"] = nn.Tanh()
    d.update([("e", nn.Identity())])
    assert isinstance(d.pop("a"), nn.ReLU) and list(d) == ["b", "c", "e"]
    with pytest.raises(KeyError):
        d["zz"]
    with pytest.raises(ValueError, match="element #0"):
        d.update([1])
    assert [n for n, _ in d.named_parameters()] == ["b.weight", "b.bias"]


def test_parameter_list_and_dict():
    plist = nn.ParameterList([retrograd.ones(2), nn.Parameter(retrograd.zeros(3))])
    assert len(plist) == 2 and all(isinstance(p, nn.Parameter) for p in plist)
    assert [n for n, _ in plist.named_parameters()] == ["0", "1"]
    pdict = nn.ParameterDict({"w": retrograd.ones(2)})
    assert isinstance(pdict["w"], nn.Parameter) and "w" in pdict and len(pdict) == 1


def test_reprs_match_torch(torch_ref):
    def build(lib):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = lib.nn.Linear(1, 1)
                self.b = None

            def extra_repr(self):
                return "x=1\ny=2"

        class N(lib.nn.Module):
            def extra_repr(self):
                return "x=1"

        nested = lib.nn.Sequential(
            lib.nn.Linear(2, 3),
            lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Linear(3, 1, bias=False)),
            lib.nn.ModuleDict({"k": lib.nn.Tanh()}))
        ml = lib.nn.ModuleList([lib.nn.Linear(2, 2) for _ in range(3)]
                               + [lib.nn.ReLU(), lib.nn.Linear(1, 1), lib.nn.Linear(1, 1)])
        nolin = lib.nn.Linear(2, 2)
        nolin.bias = None
        return [nested, M(), N(), lib.nn.Module(), ml, lib.nn.ModuleList(),
                lib.nn.ModuleList([lib.nn.Sequential(lib.nn.ReLU(), lib.nn.ReLU())] * 2), nolin,
                lib.nn.Flatten(), lib.nn.Unflatten(1, (2, 3)), lib.nn.Identity()]

    for ours, theirs in zip(build(retrograd), build(torch_ref)):
        assert repr(ours) == repr(theirs)


def test_parameter_list_repr_matches_torch(torch_ref):
    ours = nn.ParameterList([retrograd.ones(2), retrograd.ones(2, 3)])
    theirs = torch_ref.nn.ParameterList([torch_ref.ones(2), torch_ref.ones(2, 3)])
    assert repr(ours) == repr(theirs)
