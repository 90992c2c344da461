"""Optimizers and lr schedulers: parameters after 20 steps and lr sequences vs. PyTorch, state
dicts, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd import optim

# ---- the optimizers against torch ------------------------------------------------------------

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "maximize": True}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "betas": (0.3, 0.6), "eps": 1e-3}),
    ("Adam", {"lr": 0.05, "maximize": True, "amsgrad": True, "weight_decay": 0.05}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.3, "centered": True, "momentum": 0.5,
                 "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "maximize": True, "eps": 1e-2}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "maximize": True, "eps": 1e-3}),
]

SHAPES = [(4, 3), (3,), ()]


def _grad(p: np.ndarray, step: int, noise: np.ndarray) -> np.ndarray:
    """A gradient that depends on the parameter (so divergence would grow) and changes sign."""
    return np.sin(3.0 * p) + 0.5 * p + noise * math.cos(step)


def _run(module, name, kwargs, inits, noises, steps, *, to_tensor, groups=None):
    params = [to_tensor(a) for a in inits]
    spec = params if groups is None else groups(params)
    opt = getattr(module, name)(spec, **kwargs)
    for step in range(steps):
        opt.zero_grad()
        for i, p in enumerate(params):
            if i == 2 and step % 3 == 0:
                continue  # a parameter without a gradient this step is left alone
            p.grad = to_tensor(_grad(p.detach().numpy(), step, noises[i][step]), grad=False)
        opt.step()
    return [p.detach().numpy().copy() for p in params], opt


def _converters(torch, dtype):
    def rg_t(a, grad=True):
        return rg.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)

    def torch_t(a, grad=True):
        return torch.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)

    return rg_t, torch_t


def _data(dtype, steps=20):
    rng = np.random.default_rng(1)
    inits = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    noises = [rng.standard_normal((steps, *s)).astype(dtype) for s in SHAPES]
    return inits, noises


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_matches_torch_after_20_steps_float64(torch_ref, name, kwargs):
    inits, noises = _data(np.float64)
    rg_t, torch_t = _converters(torch_ref, np.float64)
    ours, _ = _run(optim, name, kwargs, inits, noises, 20, to_tensor=rg_t)
    ref, _ = _run(torch_ref.optim, name, kwargs, inits, noises, 20, to_tensor=torch_t)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)  # same formulas, same order


@pytest.mark.parametrize("name, kwargs", CASES[::3], ids=[f"{n}-{k}" for n, k in CASES[::3]])
def test_matches_torch_after_20_steps_float32(torch_ref, name, kwargs):
    inits, noises = _data(np.float32)
    rg_t, torch_t = _converters(torch_ref, np.float32)
    ours, opt = _run(optim, name, kwargs, inits, noises, 20, to_tensor=rg_t)
    ref, _ = _run(torch_ref.optim, name, kwargs, inits, noises, 20, to_tensor=torch_t)
    for a, b in zip(ours, ref):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for state in opt.state.values():  # state follows the parameter's dtype; step is float32
        for key, value in state.items():
            if isinstance(value, rg.Tensor):
                assert value.dtype == rg.float32, key


def test_param_groups_with_their_own_options_match_torch(torch_ref):
    inits, noises = _data(np.float64)
    rg_t, torch_t = _converters(torch_ref, np.float64)

    def groups(params):
        return [{"params": params[:1], "lr": 0.2, "momentum": 0.5},
                {"params": params[1:], "weight_decay": 0.1}]

    kwargs = {"lr": 0.05, "momentum": 0.9}
    ours, opt = _run(optim, "SGD", kwargs, inits, noises, 20, to_tensor=rg_t, groups=groups)
    ref, topt = _run(torch_ref.optim, "SGD", kwargs, inits, noises, 20, to_tensor=torch_t,
                     groups=groups)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert opt.param_groups[0]["lr"] == 0.2 and opt.param_groups[1]["lr"] == 0.05
    assert opt.param_groups[1]["momentum"] == 0.9
    ours_sd, ref_sd = opt.state_dict(), topt.state_dict()
    assert [g["params"] for g in ours_sd["param_groups"]] == [[0], [1, 2]]
    assert sorted(ours_sd["state"]) == sorted(ref_sd["state"])
    for gs, gt in zip(ours_sd["param_groups"], ref_sd["param_groups"]):
        for key in ("lr", "momentum", "dampening", "weight_decay", "nesterov", "params"):
            assert gs[key] == gt[key], key


@pytest.mark.parametrize("name, kwargs", [("SGD", {"lr": 0.1, "momentum": 0.9}),
                                          ("Adam", {"lr": 0.05, "amsgrad": True}),
                                          ("RMSprop", {"lr": 0.01, "centered": True,
                                                       "momentum": 0.5}),
                                          ("Adagrad", {"lr": 0.1, "lr_decay": 0.1})])
def test_state_dict_from_torch_resumes_identically(torch_ref, name, kwargs):
    """Ten torch steps, its state dict loaded into ours, ten more steps each: same result."""
    inits, noises = _data(np.float64)
    rg_t, torch_t = _converters(torch_ref, np.float64)
    tparams = [torch_t(a) for a in inits]
    topt = getattr(torch_ref.optim, name)(tparams, **kwargs)

    def steps(params, opt, to_tensor, begin, end):
        for step in range(begin, end):
            opt.zero_grad()
            for i, p in enumerate(params):
                p.grad = to_tensor(_grad(p.detach().numpy(), step, noises[i][step]), grad=False)
            opt.step()

    steps(tparams, topt, torch_t, 0, 10)
    params = [rg_t(p.detach().numpy()) for p in tparams]
    opt = getattr(optim, name)(params, **kwargs)
    sd = topt.state_dict()
    converted = {
        "state": {k: {n: rg.tensor(v.numpy()) if isinstance(v, torch_ref.Tensor) else v
                      for n, v in s.items()} for k, s in sd["state"].items()},
        "param_groups": sd["param_groups"]}
    opt.load_state_dict(converted)
    steps(tparams, topt, torch_t, 10, 20)
    steps(params, opt, rg_t, 10, 20)
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-12)


def test_state_dict_round_trip_continues_like_an_uninterrupted_run():
    rng = np.random.default_rng(3)
    init = rng.standard_normal(5)
    grads = rng.standard_normal((20, 5))

    def run(split):
        p = rg.tensor(init.copy(), requires_grad=True)
        opt = optim.Adam([p], lr=0.1, amsgrad=True)
        for i in range(20):
            if i == split:
                saved = opt.state_dict()
                p = rg.tensor(p.detach().numpy().copy(), requires_grad=True)
                opt = optim.Adam([p], lr=0.5)
                opt.load_state_dict(saved)
            p.grad = rg.tensor(grads[i])
            opt.step()
        return p.detach().numpy(), opt

    whole, _ = run(-1)
    resumed, opt = run(10)
    np.testing.assert_array_equal(whole, resumed)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["amsgrad"] is True
    assert opt.state_dict()["state"][0]["step"].item() == 20.0


def test_load_state_dict_does_not_alias_the_given_dict():
    p = rg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = rg.tensor([1.0, 1.0])
    opt.step()
    sd = opt.state_dict()
    other = optim.SGD([p], lr=0.1, momentum=0.9)
    other.load_state_dict(sd)
    other.step()
    assert sd["state"][0]["momentum_buffer"].tolist() == [1.0, 1.0]


def test_load_state_dict_casts_state_to_the_parameter_dtype_but_not_step():
    p = rg.tensor([1.0, 2.0], dtype=rg.float32, requires_grad=True)
    opt = optim.Adam([p])
    sd = {"state": {0: {"step": rg.tensor(3.0), "exp_avg": rg.tensor([0.1, 0.2],
                                                                      dtype=rg.float64),
                        "exp_avg_sq": rg.tensor([0.1, 0.2], dtype=rg.float64)}},
          "param_groups": [dict(opt.state_dict()["param_groups"][0])]}
    opt.load_state_dict(sd)
    state = opt.state[p]
    assert state["exp_avg"].dtype == rg.float32 and state["step"].dtype == rg.float32


def test_load_state_dict_rejects_mismatched_groups():
    a, b = rg.zeros(2, requires_grad=True), rg.zeros(3, requires_grad=True)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        optim.SGD([a], lr=0.1).load_state_dict({"params": []})


def test_step_with_closure_returns_the_loss_and_runs_under_grad():
    w = rg.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with rg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0
    assert w.tolist() == [0.5, -1.0]


def test_step_bumps_the_version_so_stale_graphs_refuse_backward():
    w = rg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    out = (w * w).sum()  # saves w
    w.grad = rg.tensor([1.0, 1.0])
    before = w._version
    opt.step()
    assert w._version > before
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


def test_zero_grad_to_none_and_to_zeros():
    w = rg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.grad = rg.tensor([3.0, 4.0])
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad and grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert w.grad is None


def test_step_skips_parameters_without_grad_and_keeps_no_state_for_them():
    a, b = rg.tensor([1.0], requires_grad=True), rg.tensor([1.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = rg.tensor([1.0])
    opt.step()
    assert b.tolist() == [1.0] and b not in opt.state
    assert a.tolist()[0] == pytest.approx(0.9)


def test_named_parameters_and_add_param_group():
    a, b = rg.zeros(2, requires_grad=True), rg.zeros(3, requires_grad=True)
    opt = optim.SGD([("a", a)], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["param_names"] == ["a"]
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": [b]})
    opt.add_param_group({"params": [("b", b)], "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
    assert opt.state_dict()["param_groups"][1]["params"] == [1]
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [("a", a)]})
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group([a])


def test_repr_lists_each_group():
    opt = optim.SGD([rg.zeros(1, requires_grad=True)], lr=0.1)
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1" in text


# ---- bad input --------------------------------------------------------------------------------


def test_empty_parameter_list():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.Adam(iter(()))


def test_non_leaf_tensor():
    w = rg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([w * 2], lr=0.1)


def test_duplicate_and_wrongly_typed_params():
    w = rg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="duplicate parameters"):
        optim.SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {w}}], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([w, np.zeros(2)], lr=0.1)


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=-1.0), "Invalid learning rate"),
    (lambda p: optim.SGD(p, momentum=-0.1), "Invalid momentum value"),
    (lambda p: optim.SGD(p, nesterov=True), "Nesterov momentum requires"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.9)), "beta parameter at index 0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "beta parameter at index 1"),
    (lambda p: optim.Adam(p, eps=-1.0), "Invalid epsilon value"),
    (lambda p: optim.AdamW(p, weight_decay=-1.0), "Invalid weight_decay value"),
    (lambda p: optim.RMSprop(p, alpha=-0.5), "Invalid alpha value"),
    (lambda p: optim.Adagrad(p, lr_decay=-0.5), "Invalid lr_decay value"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-1), "initial_accumulator_value"),
])
def test_invalid_hyper_parameters(make, message):
    with pytest.raises(ValueError, match=message):
        make([rg.zeros(1, requires_grad=True)])


# ---- lr schedulers against torch --------------------------------------------------------------

SCHEDULERS = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 9], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 7}),
    ("CosineAnnealingLR", {"T_max": 5, "eta_min": 0.01}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 1.0 / (1 + epoch) ** 0.5}),
]


def _two_group_optimizer(module, make_param):
    return module.optim.SGD([{"params": [make_param()]}, {"params": [make_param()], "lr": 0.3}],
                            lr=0.1, momentum=0.9)


@pytest.mark.parametrize("name, kwargs", SCHEDULERS, ids=[s[0] for s in SCHEDULERS])
def test_scheduler_lr_sequence_matches_torch(torch_ref, name, kwargs):
    opt = _two_group_optimizer(rg, lambda: rg.zeros(2, requires_grad=True))
    topt = _two_group_optimizer(torch_ref, lambda: torch_ref.zeros(2, requires_grad=True))
    sched = getattr(optim.lr_scheduler, name)(opt, **kwargs)
    tsched = getattr(torch_ref.optim.lr_scheduler, name)(topt, **kwargs)
    ours, ref = [sched.get_last_lr()], [tsched.get_last_lr()]
    for _ in range(25):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        ours.append(sched.get_last_lr())
        ref.append(tsched.get_last_lr())
        assert [g["lr"] for g in opt.param_groups] == ours[-1]
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)
    assert opt.param_groups[0]["initial_lr"] == 0.1


@pytest.mark.parametrize("kwargs", [
    {},
    {"mode": "max", "factor": 0.5, "patience": 1},
    {"patience": 0, "cooldown": 2, "threshold": 0.1, "threshold_mode": "abs"},
    {"patience": 1, "min_lr": [0.02, 0.05], "factor": 0.2},
])
def test_reduce_lr_on_plateau_matches_torch(torch_ref, kwargs):
    opt = _two_group_optimizer(rg, lambda: rg.zeros(2, requires_grad=True))
    topt = _two_group_optimizer(torch_ref, lambda: torch_ref.zeros(2, requires_grad=True))
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch_ref.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.89, 0.9, 0.9, 0.9, 0.5, 0.6] * 3
    for m in metrics:
        sched.step(rg.tensor(m, dtype=rg.float64))  # a 0-d tensor works as the metric
        tsched.step(m)
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
    assert sched.num_bad_epochs == tsched.num_bad_epochs and sched.best == tsched.best


def test_scheduler_step_with_epoch_uses_the_closed_form_and_warns(torch_ref):
    opt = optim.SGD([rg.zeros(1, requires_grad=True)], lr=1.0)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(5)
    assert sched.get_last_lr() == [0.25] and sched.last_epoch == 5


def test_scheduler_state_dict_round_trip():
    opt = optim.SGD([rg.zeros(1, requires_grad=True)], lr=1.0)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        sched.step()
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 4
    opt2 = optim.SGD([rg.zeros(1, requires_grad=True)], lr=1.0)
    sched2 = optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=3)
    sched2.load_state_dict(sd)
    assert sched2.T_max == 10 and sched2.last_epoch == 4


def test_lambda_lr_state_dict_skips_plain_functions():
    opt = optim.SGD([rg.zeros(1, requires_grad=True)], lr=1.0)

    class Warmup:
        def __init__(self, n):
            self.n = n

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.n)

    sched = optim.lr_scheduler.LambdaLR(opt, [Warmup(4)])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"n": 4}]
    sched.lr_lambdas[0].n = 9
    sched.load_state_dict(sd)
    assert sched.lr_lambdas[0].n == 4
    plain = optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0)
    assert plain.state_dict()["lr_lambdas"] == [None]


def test_scheduler_bad_input():
    opt = optim.SGD([rg.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        optim.lr_scheduler.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas"):
        optim.lr_scheduler.LambdaLR(opt, [lambda e: 1.0, lambda e: 1.0])
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="unknown"):
        optim.lr_scheduler.ReduceLROnPlateau(opt, mode="up")
    with pytest.raises(KeyError, match="initial_lr"):
        optim.lr_scheduler.StepLR(optim.SGD([rg.zeros(1, requires_grad=True)]), 2, last_epoch=3)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_param_group_defaults_print_as_pytorchs(name, torch_ref):
    """A printed ``optimizer.state_dict()`` shows the same keys, order and values."""
    ours = getattr(rg.optim, name)([rg.nn.Parameter(rg.zeros(2))], lr=0.1)
    theirs = getattr(torch_ref.optim, name)([torch_ref.nn.Parameter(torch_ref.zeros(2))], lr=0.1)
    assert repr(ours.state_dict()["param_groups"]) == repr(theirs.state_dict()["param_groups"])


@pytest.mark.parametrize("flag", ["fused", "differentiable"])
def test_device_only_optimizer_flags_are_refused(flag):
    with pytest.raises(RuntimeError, match=flag):
        rg.optim.SGD([rg.nn.Parameter(rg.zeros(2))], lr=0.1, **{flag: True})
