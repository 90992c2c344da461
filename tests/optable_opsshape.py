"""Op-table entries for the shape, selection and random ops of issue 8 (ops/shape_more.py,
ops/index_more.py, ops/random_more.py): roll, rot90, joins and splits, repeat_interleave,
strided views, index_add and friends, take/put, scatter_reduce, normal and the random fills."""

from __future__ import annotations

import numpy as np
from optable import Const, OpInfo, distinct, nonzero, v

R3 = (2, 3, 4)
MASK = Const([[True, False, True], [False, False, True]])
SR_INDEX = Const([[0, 1, 0, 1], [2, 0, 0, 1]])


def _scatter_reduce(reduce, include_self):
    return lambda lib, x, s, i: x.scatter_reduce(0, i, s, reduce, include_self=include_self)


# draws whose parameters make them certain (mean and std 0, probability 0 or 1, range [0, 1))
# agree with PyTorch's (their gradient is zero in both, so a constant mean keeps finite
# differences honest); the others are multiplied by 0 so that only the zero gradient counts
def _zeroed(fill):
    return lambda lib, x: fill(x * 1) * 0


OPS = [
    OpInfo("roll", lambda lib, x, **kw: lib.roll(x, **kw),
           (v("dim0", (3, 4), shifts=1, dims=0), v("two-dims", R3, shifts=(1, -2), dims=(0, 2)),
            v("flat", (3, 4), shifts=5), v("0d", (), shifts=1)), "RollBackward0"),
    OpInfo("rot90", lambda lib, x, **kw: x.rot90(**kw),
           (v("once", (3, 4)), v("twice", R3, k=2, dims=(1, 2)), v("back", (3, 4), k=-1),
            v("none", (3, 4), k=0)), "Rot90Backward0"),
    OpInfo("hstack", lambda lib, *ts: lib.hstack(ts),
           (v("2d", (3, 2), (3, 4)), v("1d", (3,), (2,))), "CatBackward0"),
    OpInfo("vstack", lambda lib, *ts: lib.vstack(ts), (v("1d-2d", (3,), (2, 3)),),
           "CatBackward0"),
    OpInfo("dstack", lambda lib, *ts: lib.dstack(ts), (v("2d", (2, 3), (2, 3)),), "CatBackward0"),
    OpInfo("column_stack", lambda lib, *ts: lib.column_stack(ts),
           (v("1d-2d", (3,), (3, 2)), v("0d", (), ())), "CatBackward0"),
    OpInfo("atleast_3d", lambda lib, x: lib.atleast_3d(x),
           (v("1d", (3,)), v("2d", (2, 3)), v("0d", (), grad_fn="ViewBackward0")),
           "UnsqueezeBackward0"),
    OpInfo("tensor_split", lambda lib, x: x.tensor_split(3, dim=1), (v("sections", (2, 7)),),
           "SliceBackward0"),
    OpInfo("tensor_split-indices", lambda lib, x: lib.tensor_split(x, [1, 4, 9]),
           (v("past-end", (6, 2)),), "SliceBackward0"),
    OpInfo("hsplit", lambda lib, x: lib.hsplit(x, 2), (v("2d", (2, 4)),), "SliceBackward0"),
    OpInfo("broadcast_tensors", lambda lib, *ts: lib.broadcast_tensors(*ts),
           (v("two", (3, 1), (4,)),), "ExpandBackward0"),
    OpInfo("repeat_interleave", lambda lib, x, *a, **kw: x.repeat_interleave(*a, **kw),
           (v("flat", (2, 3), repeats=2), v("dim", (2, 3), repeats=3, dim=1),
            v("counts", (3, 2), Const([1, 0, 3]), dim=0, grad_fn="IndexSelectBackward0")),
           "ViewBackward0"),
    OpInfo("meshgrid", lambda lib, *ts, **kw: lib.meshgrid(*ts, **kw),
           (v("ij", (3,), (4,), indexing="ij"), v("xy", (3,), (4,), (2,), indexing="xy")),
           "ExpandBackward0"),
    OpInfo("cartesian_prod", lambda lib, *ts: lib.cartesian_prod(*ts),
           (v("two", (3,), (2,)),), "StackBackward0"),
    OpInfo("combinations", lambda lib, x, **kw: lib.combinations(x, **kw),
           (v("pairs", (4,)), v("triples-repl", (3,), r=3, with_replacement=True)),
           "StackBackward0"),
    OpInfo("narrow_copy", lambda lib, x: x.narrow_copy(1, 1, 2), (v("dim1", (3, 4)),),
           "NarrowCopyBackward0"),
    OpInfo("unfold", lambda lib, x, **kw: x.unfold(**kw),
           (v("overlapping", (3, 4), dimension=1, size=2, step=1),
            v("strided", (7, 2), dimension=0, size=3, step=2)), "UnfoldBackward0"),
    OpInfo("as_strided", lambda lib, x, **kw: x.as_strided(**kw),
           (v("window", (3, 4), size=(2, 2), stride=(1, 2), storage_offset=1),
            v("overlap", (3, 4), size=(3, 3), stride=(1, 1))), "AsStridedBackward0"),
    OpInfo("squeeze_", lambda lib, x, **kw: (x * 1).squeeze_(**kw),
           (v("all", (3, 1, 2)), v("dim", (3, 1), dim=1, grad_fn="SqueezeBackward4"),
            v("dims", (1, 3, 1), dim=(0, 2), grad_fn="SqueezeBackward5")), "SqueezeBackward3"),
    OpInfo("unsqueeze_", lambda lib, x: (x * 1).unsqueeze_(1), (v("middle", (3, 4)),),
           "UnsqueezeBackward1"),
    OpInfo("transpose_", lambda lib, x: (x * 1).transpose_(0, 2), (v("3d", R3),),
           "TransposeBackward1"),
    OpInfo("t_", lambda lib, x: (x * 1).t_(), (v("2d", (3, 4)),), "TBackward1"),
    OpInfo("masked_select", lambda lib, x, m: x.masked_select(m),
           (v("same", (2, 3), MASK), v("broadcast-x", (3,), MASK)), "MaskedSelectBackward0"),
    OpInfo("masked_scatter", lambda lib, x, m, s: lib.masked_scatter(x, m, s),
           (v("spare-source", (2, 3), MASK, (7,)), v("exact", (2, 3), MASK, (3,))),
           "MaskedScatterBackward0"),
    OpInfo("masked_scatter_", lambda lib, x, m, s: (x * 1).masked_scatter_(m, s),
           (v("2d", (2, 3), MASK, (2, 2)),), "MaskedScatterBackward0"),
    OpInfo("index_add", lambda lib, x, i, s, **kw: x.index_add(0, i, s, **kw),
           (v("repeats-alpha", (3, 4), Const([0, 2, 0]), (3, 4), alpha=2),
            v("0d", (), Const([0]), ())), "IndexAddBackward0"),
    OpInfo("index_add_", lambda lib, x, i, s: (x * 1).index_add_(1, i, s),
           (v("dim1", (3, 4), Const([1, 3]), (3, 2)),), "IndexAddBackward0"),
    OpInfo("index_copy", lambda lib, x, i, s: lib.index_copy(x, 1, i, s),
           (v("dim1", (3, 4), Const([1, 3]), (3, 2)),), "IndexCopyBackward0"),
    OpInfo("index_copy_", lambda lib, x, i, s: (x * 1).index_copy_(0, i, s),
           (v("dim0", (3, 4), Const([2]), (1, 4)),), "IndexCopyBackward0"),
    OpInfo("index_fill", lambda lib, x, i, *val: x.index_fill(1, i, *val or (-1.5,)),
           (v("number", (3, 4), Const([1, 3])),
            v("tensor", (3, 4), Const([0, 0]), (), grad_fn="IndexFillBackward1")),
           "IndexFillBackward0"),
    OpInfo("index_fill_", lambda lib, x, i: (x * 1).index_fill_(0, i, 2.0),
           (v("dim0", (3, 4), Const([1])),), "IndexFillBackward0"),
    OpInfo("take", lambda lib, x, i: lib.take(x, i),
           (v("repeats-negative", (3, 4), Const([[0, 5], [5, -1]])),), "TakeBackward0"),
    OpInfo("put", lambda lib, x, i, s, **kw: x.put(i, s, **kw),
           (v("write", (3, 4), Const([0, 5]), (2,)),
            v("accumulate", (3, 4), Const([0, 0, 11]), (3,), accumulate=True)), "PutBackward0"),
    OpInfo("put_", lambda lib, x, i, s: (x * 1).put_(i, s), (v("2d", (2, 3), Const([4]), (1,)),),
           "PutBackward0"),
    OpInfo("scatter_reduce-sum", _scatter_reduce("sum", True),
           (v("2d", (3, 4), (2, 4), SR_INDEX),), "ScatterReduceBackward0"),
    OpInfo("scatter_reduce-sum-noself", _scatter_reduce("sum", False),
           (v("2d", (3, 4), (2, 4), SR_INDEX),), "ScatterReduceBackward0"),
    OpInfo("scatter_reduce-mean", _scatter_reduce("mean", True),
           (v("2d", (3, 4), (2, 4), SR_INDEX),), "ScatterReduceBackward0"),
    OpInfo("scatter_reduce-mean-noself", _scatter_reduce("mean", False),
           (v("2d", (3, 4), (2, 4), SR_INDEX),), "ScatterReduceBackward0"),
    # products of values away from zero (out / x is exact there)
    OpInfo("scatter_reduce-prod", _scatter_reduce("prod", True),
           (v("2d", (3, 4), (2, 4), SR_INDEX),), "ScatterReduceBackward0", nonzero()),
    OpInfo("scatter_reduce-prod-noself", _scatter_reduce("prod", False),
           (v("2d", (3, 4), (2, 4), SR_INDEX),), "ScatterReduceBackward0", nonzero()),
    # distinct values: no ties, so the maximum's place is unambiguous
    OpInfo("scatter_reduce-amax", _scatter_reduce("amax", True),
           (v("2d", (3, 4), (2, 4), SR_INDEX),), "ScatterReduceBackward0", distinct()),
    OpInfo("scatter_reduce-amin-noself", _scatter_reduce("amin", False),
           (v("2d", (3, 4), (2, 4), SR_INDEX),), "ScatterReduceBackward0", distinct()),
    OpInfo("scatter_reduce_", lambda lib, x, s, i: (x * 1).scatter_reduce_(1, i, s, "amax"),
           (v("2d", (2, 3), (1, 2), Const([[0, 2]])),), "ScatterReduceBackward0", distinct()),
    OpInfo("normal-mean", lambda lib, x: lib.normal(x * 0, 0.0), (v("2d", (2, 3)),),
           "NormalBackward1"),
    OpInfo("normal-std", lambda lib, x: lib.normal(2.0, x * 0), (v("2d", (2, 3)),),
           "NormalBackward2"),
    OpInfo("normal-both", lambda lib, x, y: lib.normal(x * 0, y * 0),
           (v("broadcast", (2, 1), (3,)),), "NormalBackward3"),
    OpInfo("poisson", lambda lib, x: lib.poisson(x * 0), (v("2d", (2, 3)),), "PoissonBackward0"),
    OpInfo("random_-range", lambda lib, x: (x * 1).random_(0, 1), (v("2d", (2, 3)),),
           "RandomBackward0"),
    OpInfo("random_-to", lambda lib, x: (x * 1).random_(1), (v("2d", (2, 3)),),
           "RandomBackward1"),
    OpInfo("random_", _zeroed(lambda x: x.random_()), (v("2d", (2, 3)),), "MulBackward0"),
    OpInfo("bernoulli_", lambda lib, x: (x * 1).bernoulli_(1.0), (v("2d", (2, 3)),),
           "BernoulliBackward2"),
    OpInfo("bernoulli_-tensor", lambda lib, x, p: (x * 1).bernoulli_(p),
           (v("2d", (2, 3), Const([0.0, 1.0, 1.0])),), "BernoulliBackward1"),
    OpInfo("exponential_", _zeroed(lambda x: x.exponential_(2.0)), (v("2d", (2, 3)),),
           "MulBackward0"),
    OpInfo("geometric_", _zeroed(lambda x: x.geometric_(0.3)), (v("2d", (2, 3)),),
           "MulBackward0"),
    OpInfo("cauchy_", _zeroed(lambda x: x.cauchy_()), (v("2d", (2, 3)),), "MulBackward0"),
    OpInfo("log_normal_", _zeroed(lambda x: x.log_normal_()), (v("2d", (2, 3)),),
           "MulBackward0"),
]

# zeros among the factors of a product: one zero (only it gets the product of the others) and
# two zeros (every factor gets 0) at a place; compared with torch at these exact points
OPS.append(OpInfo(
    "scatter_reduce-prod-zeros", lambda lib, x, s, i: x.scatter_reduce(0, i, s, "prod"),
    (v("2d", (3, 4), (2, 4), SR_INDEX),), "ScatterReduceBackward0", nonzero(),
    kinks=lambda rng, shapes: [np.array([[0., 2, 3, 0], [1, 0.5, 2, 1], [2, 1, 0, 3]]),
                               np.array([[2., 0, 1.5, 0], [0, 3, 0, 2]])]))
