"""Training-epoch benchmark: the digits MLP and CNN, retrograd vs PyTorch (CPU), in one run.

    python benchmarks/bench_train.py [--threads N] [--rounds R] [--quick] [--json FILE]

Both libraries train the same architecture from the same initial weights (PyTorch's init,
copied into retrograd) on the same batches in the same order, with Adam and cross-entropy,
using the same number of threads. Each case runs as rounds; in every round each library trains
one epoch from scratch, in alternating order, so machine noise hits both alike. Reported: the
median epoch time and the ratio retrograd / PyTorch, for two variants:

* ``loader``: the loop as users write it, batches from each library's DataLoader
  (shuffled with a fixed seed: retrograd and PyTorch see the same index order);
* ``batched``: model + loss + backward + optimizer only, over the same pre-built batch tensors.

Targets (issue 3): MLP epoch <= 1.1x PyTorch, CNN epoch <= 1.5x. The first epoch's losses are
compared too, as a check that both sides really do the same computation.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time


def _parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1, help="threads for BLAS and for PyTorch")
    p.add_argument("--rounds", type=int, default=15, help="epochs timed per library and case")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--quick", action="store_true", help="3 rounds (smoke test)")
    p.add_argument("--json", default=None, help="also write the results to this file")
    return p.parse_args()


if __name__ == "__main__":  # (imported by ``python -m benchmarks``, which sets the threads)
    ARGS = _parse()
    # BLAS thread counts must be fixed before NumPy loads its BLAS.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
import retrograd  # noqa: E402
from retrograd.datasets import load_digits  # noqa: E402

try:
    import torch
except ImportError:
    torch = None  # (imported by python -m benchmarks' retrograd-only processes: main needs it)

TARGETS = {"MLP": 1.1, "CNN": 1.5}


# ---- models, written once against either library ----------------------------------------------


def make_mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))


def make_cnn(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10))


def copy_init(torch_model, rg_model) -> None:
    """Load the PyTorch model's initial weights into the retrograd model."""
    state = {k: retrograd.tensor(v.detach().numpy().copy())
             for k, v in torch_model.state_dict().items()}
    rg_model.load_state_dict(state)


# ---- one epoch -------------------------------------------------------------------------------


def epoch(lib, model, batches, lr=1e-3):
    """Train ``model`` for one pass over ``batches``; returns (seconds, losses)."""
    optimizer = lib.optim.Adam(model.parameters(), lr=lr)
    loss_fn = lib.nn.CrossEntropyLoss()
    losses = []
    start = time.perf_counter()
    for images, labels in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return time.perf_counter() - start, losses


def make_data(seed=0):
    images, labels = load_digits()
    x = images.numpy()[:, None]  # (N, 1, 8, 8)
    y = labels.numpy()
    order = np.random.default_rng(seed).permutation(len(y))
    train = order[: int(0.8 * len(y))]
    return x[train], y[train]


def loaders(x, y, batch_size, seed):
    """Each library's DataLoader over the same (pre-shuffled) data, in the same order."""
    # Shuffling inside each loader would draw different permutations from the two RNGs, so the
    # data is shuffled once here (with a per-round seed) and both loaders read it in order.
    perm = np.random.default_rng(seed).permutation(len(y))
    xs, ys = np.ascontiguousarray(x[perm]), y[perm]
    rg_loader = retrograd.utils.data.DataLoader(
        retrograd.utils.data.TensorDataset(retrograd.tensor(xs), retrograd.tensor(ys)),
        batch_size=batch_size)
    t_loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(xs), torch.tensor(ys)), batch_size=batch_size)
    return rg_loader, t_loader


def prebatched(x, y, batch_size):
    chunks = [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(y), batch_size)]
    return ([(retrograd.tensor(a), retrograd.tensor(b)) for a, b in chunks],
            [(torch.tensor(a), torch.tensor(b)) for a, b in chunks])


def run_case(name, make, x, y, rounds, batch_size):
    results = {}
    max_loss_diff = 0.0
    for variant in ("loader", "batched"):
        times = {"retrograd": [], "torch": []}
        for r in range(rounds + 1):  # round 0 warms both up and is not timed
            torch.manual_seed(r)
            t_model = make(torch)
            rg_model = make(retrograd)
            copy_init(t_model, rg_model)
            if variant == "loader":
                rg_batches, t_batches = loaders(x, y, batch_size, seed=r)
            else:
                rg_batches, t_batches = prebatched(x, y, batch_size)
            runs = [("retrograd", retrograd, rg_model, rg_batches),
                    ("torch", torch, t_model, t_batches)]
            if r % 2:
                runs.reverse()
            losses = {}
            for lib_name, lib, model, batches in runs:
                seconds, losses[lib_name] = epoch(lib, model, batches)
                if r:
                    times[lib_name].append(seconds)
            diff = float(np.max(np.abs(np.subtract(losses["retrograd"], losses["torch"]))))
            max_loss_diff = max(max_loss_diff, diff)
        rg_med = statistics.median(times["retrograd"])
        t_med = statistics.median(times["torch"])
        results[variant] = {"retrograd_ms": rg_med * 1e3, "torch_ms": t_med * 1e3,
                            "ratio": rg_med / t_med}
    results["max_loss_diff"] = max_loss_diff
    return results


def main() -> None:
    if torch is None:
        sys.exit("bench_train.py compares with PyTorch: install torch (CPU) to run it")
    torch.set_num_threads(ARGS.threads)
    rounds = 3 if ARGS.quick else ARGS.rounds
    x, y = make_data()
    cases = [("MLP", make_mlp)]
    if hasattr(retrograd.nn, "Conv2d") and hasattr(retrograd.nn, "MaxPool2d"):
        cases.append(("CNN", make_cnn))
    else:
        print("CNN skipped: retrograd.nn has no Conv2d / MaxPool2d yet")
    n_batches = -(-len(y) // ARGS.batch_size)
    print(f"digits: {len(y)} training images, batch size {ARGS.batch_size} ({n_batches} steps "
          f"per epoch), {ARGS.threads} thread(s), {rounds} rounds, torch {torch.__version__}, "
          f"numpy {np.__version__}")
    header = f"{'case':<22}{'retrograd ms':>14}{'PyTorch ms':>12}{'ratio':>8}{'target':>8}"
    print(header)
    print("-" * len(header))
    report = {"threads": ARGS.threads, "rounds": rounds, "batch_size": ARGS.batch_size,
              "torch": torch.__version__, "cases": {}}
    for name, make in cases:
        res = run_case(name, make, x, y, rounds, ARGS.batch_size)
        report["cases"][name] = res
        for variant in ("loader", "batched"):
            v = res[variant]
            print(f"{name + ' epoch (' + variant + ')':<22}{v['retrograd_ms']:>14.2f}"
                  f"{v['torch_ms']:>12.2f}{v['ratio']:>7.2f}x{TARGETS[name]:>7.1f}x")
        print(f"{'':<4}largest difference between the two libraries' losses: "
              f"{res['max_loss_diff']:.2e}")
    if ARGS.json:
        with open(ARGS.json, "w") as fh:
            json.dump(report, fh, indent=2)


if __name__ == "__main__":
    main()
