"""Activation checkpointing: the same gradients as without it (dropout included, through the
restored random state), far fewer bytes held for backward, and PyTorch's API and errors."""

import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import gradcheck
from retrograd.debug import memory_report
from retrograd.utils.checkpoint import checkpoint, checkpoint_sequential


def _mlp(depth: int, width: int, dropout: float) -> nn.Sequential:
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.Tanh()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers).double()


def _grads(segments, use_reentrant, dropout=0.3, depth=6, width=16):
    rg.manual_seed(0)
    net = _mlp(depth, width, dropout)
    x = rg.randn(8, width, dtype=rg.float64, requires_grad=True)
    rg.manual_seed(1)  # the same dropout masks in every variant
    if segments:
        y = checkpoint_sequential(net, segments, x, use_reentrant=use_reentrant)
    else:
        y = net(x)
    (y * y).sum().backward()
    return [x.grad.numpy().copy()] + [p.grad.numpy().copy() for p in net.parameters()]


@pytest.mark.parametrize("use_reentrant", [False, True])
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_checkpointed_gradients_equal_plain_ones(use_reentrant, dropout):
    plain = _grads(0, use_reentrant, dropout)
    for segments in (2, 3):
        checked = _grads(segments, use_reentrant, dropout)
        for a, b in zip(plain, checked):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_without_preserving_rng_state_dropout_differs():
    rg.manual_seed(0)
    net = _mlp(2, 8, 0.5)
    x = rg.randn(4, 8, dtype=rg.float64, requires_grad=True)
    rg.manual_seed(1)
    y = checkpoint(net, x, use_reentrant=False)
    y.sum().backward()
    good = x.grad.numpy().copy()
    x.grad = None
    rg.manual_seed(1)
    y = checkpoint(net, x, use_reentrant=False, preserve_rng_state=False)
    y.sum().backward()
    assert not np.allclose(good, x.grad.numpy())  # the rerun drew other masks


def test_checkpointing_a_deep_mlp_holds_fewer_bytes():
    rg.manual_seed(0)
    net = _mlp(depth=16, width=64, dropout=0.0)
    x = rg.randn(32, 64, dtype=rg.float64, requires_grad=True)
    plain = (net(x) ** 2).sum()
    layers = list(net.children())
    blocks = [nn.Sequential(*layers[i:i + 8]) for i in range(0, len(layers), 8)]
    h = x
    kept = 0  # what the checkpoints keep themselves: each block's input
    for block in blocks:
        kept += h.numel() * 8
        h = checkpoint(block, h, use_reentrant=False)
    checked = (h ** 2).sum()
    before = memory_report(plain).activation_bytes
    after = memory_report(checked).activation_bytes + kept
    activation = 32 * 64 * 8
    assert before >= 15 * activation  # every layer's output is saved (once, for two nodes)
    assert after <= 5 * activation  # the blocks' inputs and the last output
    plain.backward()
    expected = [p.grad.numpy().copy() for p in net.parameters()]
    net.zero_grad()
    checked.backward()
    for p, g in zip(net.parameters(), expected):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-12)


def test_checkpoint_passes_kwargs_and_non_tensor_outputs_gradcheck():
    w = rg.tensor([0.3, -1.2, 2.0], dtype=rg.float64, requires_grad=True)

    def block(a, scale=1.0):
        return (a * w).sin() * scale + a.tanh()

    x = rg.tensor([1.0, 0.5, -0.7], dtype=rg.float64, requires_grad=True)
    assert gradcheck(lambda a, ww: checkpoint(block, a, use_reentrant=False, scale=2.0),
                     (x, w))
    # the reentrant method runs its own backward into .grad, so it is checked through
    # .backward() against central differences (autograd.grad is refused, as in PyTorch)
    checkpoint(block, x, use_reentrant=True).sum().backward()
    eps, base = 1e-6, x.detach().numpy()
    numerical = [(block(rg.tensor(base + eps * e)).sum().item()
                  - block(rg.tensor(base - eps * e)).sum().item()) / (2 * eps)
                 for e in np.eye(3)]
    np.testing.assert_allclose(x.grad.numpy(), numerical, rtol=1e-6)
    with pytest.raises(RuntimeError, match="incompatible with .grad()"):
        rg.autograd.grad(checkpoint(block, x, use_reentrant=True).sum(), x)


def test_checkpoint_api_matches_pytorch(torch_ref):
    def scenario(lib, cp):
        out = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            x = lib.tensor([1.0, 2.0], requires_grad=True)
            y = cp.checkpoint(lambda a: a.sin() * 2, x)  # no use_reentrant: warns, reentrant
            y.sum().backward()
            out["default"] = (x.grad.tolist(), y.grad_fn.name().split("Backward")[0][-8:])
            out["warning"] = [str(w.message).split(":", 1)[1] for w in caught]
        try:
            cp.checkpoint(lambda a: a, x, use_reentrant=True, foo=1)
        except ValueError as e:
            out["kwargs"] = str(e)
        try:
            lib.autograd.grad(cp.checkpoint(lambda a: a * 2, x, use_reentrant=True).sum(), x)
        except RuntimeError as e:
            out["grad"] = str(e)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            z = cp.checkpoint(lambda a: a * 2, lib.ones(2), use_reentrant=True)
            out["no grad"] = (z.requires_grad, [str(w.message) for w in caught])
        return out

    import torch.utils.checkpoint as tcp

    from retrograd.utils import checkpoint as rcp

    ours, theirs = scenario(rg, rcp), scenario(torch_ref, tcp)
    np.testing.assert_allclose(ours.pop("default")[0], theirs.pop("default")[0], rtol=1e-6)
    assert ours == theirs


def test_checkpoint_sequential_with_pytorch_values(torch_ref):
    rg.manual_seed(0)
    net = _mlp(4, 6, 0.0)
    tnet = torch_ref.nn.Sequential(*[
        torch_ref.nn.Linear(6, 6) if isinstance(m, nn.Linear) else torch_ref.nn.Tanh()
        for m in net]).double()
    with torch_ref.no_grad():
        for p, q in zip(net.parameters(), tnet.parameters()):
            q.copy_(torch_ref.from_numpy(p.detach().numpy()))
    x = np.random.default_rng(0).standard_normal((3, 6))
    xr = rg.tensor(x, requires_grad=True)
    xt = torch_ref.tensor(x, requires_grad=True)
    checkpoint_sequential(net, 2, xr, use_reentrant=False).sum().backward()
    torch_ref.utils.checkpoint.checkpoint_sequential(tnet, 2, xt, use_reentrant=False).sum() \
        .backward()
    np.testing.assert_allclose(xr.grad.numpy(), xt.grad.numpy(), rtol=1e-10)
    for p, q in zip(net.parameters(), tnet.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10)


def test_a_rerun_that_saves_differently_is_reported():
    calls = []

    def moody(a):
        calls.append(1)
        return a.exp() if len(calls) == 1 else a * 2  # different ops on the rerun

    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = checkpoint(moody, x, use_reentrant=False)
    with pytest.raises(RuntimeError, match="different metadata"):
        (y * y).sum().backward()
    calls.clear()
    y = checkpoint(lambda a: a.exp() if not calls.append(1) and len(calls) == 1 else a.sin().exp(),
                   x, use_reentrant=False)
    with pytest.raises(RuntimeError, match="different number of tensors"):
        y.sum().backward()
