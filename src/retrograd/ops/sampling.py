"""Drawing category indices from weights: ``multinomial`` (the sampling step of ``generate``).

With replacement, each draw inverts the cumulative distribution at a uniform number. Without
replacement, each category gets the key ``weight / E`` with ``E`` exponentially distributed and
the ``n`` largest keys win: the same law as drawing one at a time and removing each winner, in
one vectorised pass. Categories of weight zero are drawn only once the others are used up, as
in PyTorch. The numbers come from retrograd's generator, so they are not PyTorch's.
"""

from __future__ import annotations

import numpy as np

from ..creation import _numpy_generator
from ..tensor import Tensor, _wrap
from ._registry import expose


def _check(p: np.ndarray, num_samples, replacement: bool) -> None:
    if p.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim (got {p.ndim} dims); pass a vector "
                           "of weights or a matrix with one distribution per row.")
    if p.dtype.kind != "f":
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{p.dtype}; convert the weights with .float().")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
        raise TypeError("multinomial(): argument 'num_samples' must be int, not "
                        f"{type(num_samples).__name__}")
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples (got num_samples={num_samples})")
    if not replacement and num_samples > p.shape[-1]:
        raise RuntimeError(
            f"cannot sample n_sample > prob_dist.size(-1) samples without replacement "
            f"({num_samples} > {p.shape[-1]}); pass replacement=True to draw more.")
    if p.size and not (np.isfinite(p).all() and (p >= 0).all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if p.size and (p.sum(-1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")


def multinomial(x: Tensor, num_samples: int, replacement: bool = False, *,
                generator=None) -> Tensor:
    """``num_samples`` category indices per row of the weights ``x`` (1-D or 2-D, not
    necessarily normalised), with or without replacement (int64; not differentiable)."""
    p = x._data
    _check(p, num_samples, replacement)
    rows = p.reshape(-1, p.shape[-1]).astype(np.float64)
    rng = _numpy_generator(generator)
    n = int(num_samples)
    if rows.shape[0] == 0:
        out = np.zeros((0, n), dtype=np.int64)
    elif replacement:
        r, k = rows.shape
        cdf = np.cumsum(rows, axis=1)
        cdf /= cdf[:, -1:]
        # one search for all rows: row i's distribution shifted to [i, i + 1]
        offsets = np.arange(r, dtype=np.float64)[:, None]
        u = rng.random((r, n)) + offsets
        out = np.searchsorted((cdf + offsets).reshape(-1), u.reshape(-1), side="right")
        out = out.reshape(r, n) - np.arange(r)[:, None] * k
        # NOTE: rounding of u + i can step past a row's end; the row's last category of
        # nonzero weight takes such a draw (never a category of weight zero)
        last = k - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)
        out = np.minimum(out, last[:, None])
    else:
        keys = rows / rng.exponential(size=rows.shape)
        out = np.argsort(-keys, axis=1, kind="stable")[:, :n]
    return _wrap(out.astype(np.int64, copy=False).reshape(p.shape[:-1] + (n,)))


expose({"multinomial": multinomial})
