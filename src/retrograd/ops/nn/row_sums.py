"""Adding rows of an array into the rows of another at repeated indices (embedding's
backward), faster than ``np.add.at``.

Note [Rows added by levels]
    ``np.add.at(out, idx, rows)`` adds the rows one at a time, in the order given, through a
    slow per-element loop. Sorting the lookups by index (stably) and numbering each one's rank
    among the lookups of the same index splits them into levels: level k holds the k-th lookup
    of every index that has at least k + 1 of them, so within a level no index repeats and
    ``out[u] += rows`` is correct. Adding level 0, then 1, ... adds each index's rows in their
    original order, onto zero: the same additions in the same order as ``np.add.at``, so the
    result is bitwise the same. A few levels cost a few vectorized gathers each; past
    ``MAX_LEVELS`` (one index looked up very often, e.g. padding) the rest goes to
    ``np.add.at``, which keeps that same order.
"""

from __future__ import annotations

import numpy as np

MAX_LEVELS = 16
MIN_ROWS = 32
MIN_WIDTH = 32  # elements per row


def add_rows_at(out: np.ndarray, idx: np.ndarray, rows: np.ndarray) -> None:
    """``out[idx[k]] += rows[k]`` for every k in order, repeated indices adding up, in place
    (``idx`` 1-d integers, ``rows`` of shape (len(idx), ...)); Note [Rows added by levels]."""
    n = idx.size
    if (n < MIN_ROWS or rows.__class__ is not np.ndarray or rows.ndim < 2
            or rows.size < MIN_WIDTH * n):
        np.add.at(out, idx, rows)  # few or narrow rows: np.add.at is as fast
        return
    order = np.argsort(idx, kind="stable")
    ids = idx[order]
    first = np.empty(n, dtype=bool)  # the first lookup of each index, in sorted order
    first[0] = True
    np.not_equal(ids[1:], ids[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    rank = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))
    by_level = np.argsort(rank, kind="stable")  # level 0 first, each in sorted-index order
    level_of = rank[by_level]
    bounds = np.flatnonzero(level_of[1:] != level_of[:-1]) + 1
    edges = [0, *bounds.tolist(), n]
    done = min(len(edges) - 1, MAX_LEVELS)
    for lo, hi in zip(edges[:done], edges[1:done + 1]):
        sel = by_level[lo:hi]
        out[ids[sel]] += rows[order[sel]]
    if done < len(edges) - 1:  # the rest, in level order: np.add.at keeps it
        sel = by_level[edges[done]:]
        np.add.at(out, ids[sel], rows[order[sel]])
