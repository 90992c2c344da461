"""Op-table entries for the names real PyTorch programs reach for (issue 8): tril/triu,
sort/topk, einsum."""

from __future__ import annotations

from optable import OpInfo, distinct, v

R3 = (2, 3, 4)


def _einsum(eq):
    return lambda lib, *xs: lib.einsum(eq, *xs)


OPS = [
    OpInfo("tril", lambda lib, x, **kw: lib.tril(x, **kw),
           (v("square", (3, 3)), v("batched-above", (2, 3, 4), diagonal=1),
            v("below", (4, 3), diagonal=-1)), "TrilBackward0"),
    OpInfo("triu", lambda lib, x, **kw: x.triu(**kw),
           (v("square", (3, 3)), v("batched-below", (2, 3, 4), diagonal=-1),
            v("above", (3, 4), diagonal=2)), "TriuBackward0"),
    OpInfo("tril_", lambda lib, x, **kw: (x * 1).tril_(**kw),
           (v("square", (3, 3)), v("above", (2, 3, 4), diagonal=1)), "TrilBackward0"),
    OpInfo("triu_", lambda lib, x, **kw: (x * 1).triu_(**kw),
           (v("square", (3, 3)),), "TriuBackward0"),
    # distinct values: the order (and so the gradient's places) is unambiguous
    OpInfo("sort", lambda lib, x, **kw: lib.sort(x, **kw),
           (v("last", R3), v("dim0-desc", R3, dim=0, descending=True), v("0d", ()),
            v("1d", (5,), descending=True)), "SortBackward0", distinct()),
    OpInfo("topk", lambda lib, x, k, **kw: lib.topk(x, k, **kw),
           (v("last", R3, k=2), v("dim1-smallest", R3, k=2, dim=1, largest=False),
            v("all", (5,), k=5), v("none", (2, 3), k=0), v("0d", (), k=1)),
           "TopkBackward0", distinct()),
    OpInfo("einsum-mm", _einsum("ij,jk->ik"), (v("2x3x4", (2, 3), (3, 4)),), "ViewBackward0"),
    OpInfo("einsum-bmm", _einsum("bij,bjk->bik"), (v("batched", (2, 2, 3), (2, 3, 4)),),
           "ViewBackward0"),
    OpInfo("einsum-attention", _einsum("bhqd,bhkd->bhqk"),
           (v("scores", (2, 2, 3, 4), (2, 2, 5, 4)),), "ViewBackward0"),
    OpInfo("einsum-transpose", _einsum("ij->ji"), (v("2x3", (2, 3)),), "PermuteBackward0"),
    OpInfo("einsum-sum", _einsum("ij->"), (v("2x3", (2, 3)),), "SumBackward1"),
    OpInfo("einsum-trace", _einsum("ii"), (v("3x3", (3, 3)),), "SumBackward1"),
    OpInfo("einsum-ellipsis", _einsum("...ij,...jk"),
           (v("broadcast", (5, 2, 3), (3, 4)),), "ViewBackward0"),
]
