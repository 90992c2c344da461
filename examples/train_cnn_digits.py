"""Train a small convolutional network on the 8x8 handwritten digits with retrograd.

Two 3x3 convolutions with max pooling, then a linear classifier: about 99% accuracy on the
held-out 20% of the digits. The data split, the training loop (Adam, label smoothing, cosine
schedule, tqdm progress bar) and the loss plot are shared with ``train_mlp_digits.py``.

    python examples/train_cnn_digits.py [--epochs 15] [--seconds S] [--plot cnn_loss.png]
"""

from __future__ import annotations

import argparse

from train_mlp_digits import digit_splits, fit, plot_losses

from retrograd import nn


def make_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1),   # (N, 16, 8, 8)
        nn.ReLU(),
        nn.MaxPool2d(2),                              # (N, 16, 4, 4)
        nn.Conv2d(16, 32, kernel_size=3, padding=1),  # (N, 32, 4, 4)
        nn.ReLU(),
        nn.MaxPool2d(2),                              # (N, 32, 2, 2)
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 10),
    )


def train_digits_cnn(seconds: float | None = None, epochs: int = 15, seed: int = 0,
                     plot: str | None = None, progress: bool = True, log=print) -> dict:
    """Train the CNN on the digits (for at most ``seconds``, if given); returns the history
    with ``test_accuracy`` (a list, one entry per epoch) and ``seconds``."""
    train_set, test_set = digit_splits(seed)
    history = fit(make_cnn(), train_set, test_set, epochs=epochs, seconds=seconds,
                  progress=progress, log=log)
    if log is not None:
        log(f"CNN: {history['test_accuracy'][-1]:.2%} test accuracy after "
            f"{history['epochs']} epochs in {history['seconds']:.1f} s")
    if plot and plot_losses(history, plot, "CNN on digits") and log is not None:
        log(f"loss curve saved to {plot}")
    return history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="cnn_digits_loss.png",
                        help="where to save the loss curve (needs matplotlib)")
    args = parser.parse_args()
    train_digits_cnn(args.seconds, args.epochs, args.seed, args.plot)


if __name__ == "__main__":
    main()
