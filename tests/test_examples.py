"""Smoke tests of the digits examples: a couple of epochs on a subset must lower the loss and
beat chance, with and without the optional tqdm and matplotlib."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import numpy as np
import pytest

import retrograd as rg
import retrograd.datasets  # noqa: F401  (rg.datasets)

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")


@pytest.fixture(scope="module")
def mlp_example():
    sys.path.insert(0, EXAMPLES)
    try:
        yield importlib.import_module("train_mlp_digits")
    finally:
        sys.path.remove(EXAMPLES)


@pytest.fixture(scope="module")
def cnn_example(mlp_example):
    if not hasattr(rg.nn, "Conv2d"):
        pytest.skip("retrograd.nn.Conv2d is not available yet")
    sys.path.insert(0, EXAMPLES)
    try:
        yield importlib.import_module("train_cnn_digits")
    finally:
        sys.path.remove(EXAMPLES)


def _check_learns(history, epochs):
    losses = history["losses"]
    assert history["epochs"] == epochs and len(history["test_accuracy"]) == epochs
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < first, (first, last)
    assert history["test_accuracy"][-1] > 0.3  # chance is 0.1


def test_mlp_learns_on_a_subset(mlp_example, monkeypatch):
    monkeypatch.setattr(mlp_example, "tqdm", None)  # runs without tqdm
    train_set, test_set = mlp_example.digit_splits(seed=1, limit=400)
    assert len(train_set) == 320 and len(test_set) == 80
    lines = []
    history = mlp_example.fit(mlp_example.make_mlp(), train_set, test_set, epochs=2,
                              log=lines.append)
    _check_learns(history, 2)
    assert len(lines) == 2 and lines[0].startswith("epoch  1/2")


def test_the_split_is_fixed_by_the_seed(mlp_example):
    a, _ = mlp_example.digit_splits(seed=3, limit=100)
    b, _ = mlp_example.digit_splits(seed=3, limit=100)
    c, _ = mlp_example.digit_splits(seed=4, limit=100)
    assert a.indices == b.indices and a.indices != c.indices


def test_time_budget_stops_training_early(mlp_example):
    history = mlp_example.train_digits_mlp(seconds=0.0, epochs=5, log=None)
    assert history["epochs"] == 1 and len(history["losses"]) == 1
    assert 0.0 <= history["test_accuracy"][0] <= 1.0


def test_loss_plot_is_optional(mlp_example, tmp_path, monkeypatch):
    history = {"losses": [2.0, 1.5, 1.0], "test_accuracy": [0.5]}
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    assert mlp_example.plot_losses(history, str(tmp_path / "a.png"), "MLP") is False
    assert not (tmp_path / "a.png").exists()
    monkeypatch.undo()
    pytest.importorskip("matplotlib")
    assert mlp_example.plot_losses(history, str(tmp_path / "b.png"), "MLP") is True
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mlp_script_runs_from_the_command_line(tmp_path):
    script = os.path.join(EXAMPLES, "train_mlp_digits.py")
    out = subprocess.run([sys.executable, script, "--epochs", "1", "--plot", ""],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "MLP:" in out.stdout and "test accuracy" in out.stdout


def test_cnn_learns_on_a_subset(cnn_example, mlp_example):
    train_set, test_set = mlp_example.digit_splits(seed=1, limit=300)
    history = mlp_example.fit(cnn_example.make_cnn(), train_set, test_set, epochs=2,
                              progress=False)
    _check_learns(history, 2)


def test_mlp_training_steps_match_pytorch(mlp_example, torch_ref):
    """Same init, same batches, Adam + label-smoothed cross-entropy: same losses and weights."""
    torch_ref.manual_seed(0)
    tnn = torch_ref.nn
    t_model = tnn.Sequential(tnn.Flatten(), tnn.Linear(64, 32), tnn.ReLU(), tnn.Linear(32, 10))
    model = mlp_example.make_mlp(hidden=32)
    model.load_state_dict({k: rg.tensor(v.numpy()) for k, v in t_model.state_dict().items()})
    images, labels = rg.datasets.load_digits()
    x, y = images.numpy()[:160, None], labels.numpy()[:160]
    opt = rg.optim.Adam(model.parameters(), lr=1e-2)
    t_opt = torch_ref.optim.Adam(t_model.parameters(), lr=1e-2)
    loss_fn = rg.nn.CrossEntropyLoss(label_smoothing=0.1)
    t_loss_fn = tnn.CrossEntropyLoss(label_smoothing=0.1)
    for start in range(0, 160, 32):
        xb, yb = x[start:start + 32], y[start:start + 32]
        opt.zero_grad()
        loss = loss_fn(model(rg.tensor(xb)), rg.tensor(yb))
        loss.backward()
        opt.step()
        t_opt.zero_grad()
        t_loss = t_loss_fn(t_model(torch_ref.tensor(xb)), torch_ref.tensor(yb))
        t_loss.backward()
        t_opt.step()
        assert loss.item() == pytest.approx(t_loss.item(), rel=1e-5)
    for (name, p), (_, tp) in zip(model.named_parameters(), t_model.named_parameters()):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), atol=1e-5,
                                   err_msg=name)
