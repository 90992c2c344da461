"""Mismatch classes the fuzzer tolerates, each under a key of the README's section "Deliberate
differences from PyTorch": a deliberate difference (with its reason there) or an open defect
(listed there until fixed). ``tests/test_fuzz.py`` checks that every key here is in the README
and every open defect of the README has an entry here.

Every entry was observed in a 10,000-program run of seed 0 (entries that no longer occurred
were removed).
A label is ``op:kind`` for a forward mismatch and ``op+op+...:kind`` (the ops of the shrunk
program) otherwise; an entry matches a label when the kind is one of ``kinds`` and, where given,
some op of the label matches one of ``ops`` and some op matches one of ``also`` (fnmatch
patterns). Remove an entry when its fix merges: ``tests/test_fuzz.py`` fails on a run of 5,000
programs or more when an entry matches nothing (so the list cannot rot) and on any mismatch no
entry matches.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

INPLACE = ("*_", "setitem")  # op names of in-place steps end with "_"
VIEWS = ("getitem", "view", "reshape_-1", "flatten", "squeeze", "unsqueeze", "transpose", "t",
         "mT", "permute", "expand", "narrow", "select", "split", "unbind", "detach")
# (the ops of the nan-select class, whose entry went when seed 0 stopped showing it)
MASKING = ("floor", "ceil", "round", "trunc", "sign", "*relu*", "clamp*", "maximum", "minimum",
           "where*", "pow_0", "max_all", "max_dim", "amax", "amin", "F.hardtanh", "abs",
           "norm*", "std", "var*", "sqrt*", "rsqrt", "pow*", "rpow*", "log*", "F.cross_entropy")


@dataclass(frozen=True)
class Known:
    kinds: tuple
    ops: tuple | None
    reason: str
    key: str  # its item in the README's "Deliberate differences from PyTorch"
    also: tuple | None = None
    only: bool = False  # every op of the label must match ``ops``
    rare: bool = False  # seen only by other seeds: exempt from the stale check of seed 0

    @property
    def pattern(self) -> str:
        ops = "|".join(self.ops) if self.ops else "*"
        also = f" & {'|'.join(self.also)}" if self.also else ""
        return f"[{ops}{also}]:{'|'.join(self.kinds)}"

    def matches(self, label: str) -> bool:
        ops_text, _, kind = label.rpartition(":")
        if kind not in self.kinds:
            return False
        ops = ops_text.split("+")

        def any_of(pats):
            return any(fnmatch.fnmatchcase(o, p) for o in ops for p in pats)

        if self.only and not all(any(fnmatch.fnmatchcase(o, p) for p in self.ops) for o in ops):
            return False
        return (self.ops is None or any_of(self.ops)) and (self.also is None or any_of(self.also))


KNOWN_MISMATCHES: list = [  # the first entry that matches a label takes it
    # ---- deliberate differences (README: the reason) ----
    Known(("raises",), ("setitem", "masked_fill_", "index_put_"),
          "index assignment or masked_fill_ into an expand()ed tensor whose elements share "
          "memory: refused", "expand-write"),
    Known(("value",), ("pow_-1", "div", "reciprocal", "rsqrt", "log*", "sqrt*", "F.batch_norm",
                       "floor", "ceil", "round"),
          "a result that is zero up to rounding (a sum, a normalized value, batch_norm's "
          "multiply-add that PyTorch fuses) or an infinity reached by another order of "
          "operations: its sign, inf vs NaN, or floor's unit differs", "rounding"),
    Known(("no-raise",), ("F.binary_cross_entropy",),
          "binary_cross_entropy_with_logits differentiates pos_weight (PyTorch refuses)",
          "bce-weight-grads"),
    Known(("value",), ("F.conv1d", "F.conv2d"),
          "convolution over 0 input channels: the bias (PyTorch: an empty result)",
          "conv-empty-channels"),
    Known(("backward-no-raise",), ("norm",),
          "a branch that gets no gradient (norm(p=0)) is not run, so the tensors it saved are "
          "not version-checked (PyTorch runs it and raises)", "pruned-branch-checks"),
    Known(("grad-nan",), ("F.cross_entropy",),
          "cross_entropy's fused backward (softmax - target) * grad: -inf where PyTorch's "
          "log_softmax/nll_loss chain gives inf - inf = NaN (an infinite incoming gradient)",
          "fused-cross-entropy"),
    Known(("grad", "grad-nan"), ("F.relu6", "F.hardtanh"),
          "hardtanh/relu6 at a NaN input pass the incoming gradient (PyTorch's vectorized "
          "kernel zeroes it in full SIMD chunks only)", "hardtanh-nan", rare=True),
    Known(("grad-nan",), ("F.conv1d", "F.conv2d", "matmul", "mm", "F.linear"),
          "a single-term BLAS product gives +0.0 where PyTorch's kernel keeps -0.0; a "
          "following sqrt/pow/log turns the zero's sign into an infinity's", "rounding",
          also=("pow*", "sqrt*", "rsqrt", "log*", "reciprocal", "div*", "rdiv*"), rare=True),
    Known(("grad", "grad-nan"), ("F.layer_norm", "F.batch_norm", "F.group_norm",
                                 "F.instance_norm"),
          "a mean of normalized values is 0 here and about 1e-17 in PyTorch; log/sqrt/1/x of "
          "it then gives an infinite gradient against a finite one", "rounding",
          also=("mean*", "sum*"), rare=True),
    Known(("grad",), ("F.conv1d", "F.conv2d", "matmul", "mm", "F.linear"),
          "a sum that is zero up to rounding: its sign (norm(1), abs) picks another subgradient",
          "rounding", also=("norm*", "abs", "sign", "sgn"), rare=True),
    Known(("grad",), ("amax", "amin", "max*", "min*"),
          "the maximum of 0.0 and -0.0: which zero is kept (then sqrt or 1/x of it)",
          "rounding", also=("pow*", "sqrt*", "rsqrt", "reciprocal", "div*", "rdiv*", "log*"),
          rare=True),
    Known(("requires_grad",), ("contiguous",),
          "an elementwise result of a transposed input is C-contiguous here (NumPy's layout), "
          "so contiguous() returns it where PyTorch copies", "layout", rare=True),
    # ---- open defects (README: what is left to fix) ----
    Known(("grad2-nan",), ("abs", "norm_p1"),
          "abs's double backward: PyTorch's sgn derivative is a zero tensor that turns a NaN "
          "downstream into 0", "nan-select", rare=True),
    Known(("grad2-nan",), ("F.batch_norm",),
          "batch_norm's double backward with an infinite weight", "nan-select", rare=True),
    Known(("grad-nan",), ("rnn_cell",),
          "an RNN cell's fused backward with an infinite incoming gradient: inf against NaN "
          "from another order of products", "nan-select", rare=True),
    Known(("grad-nan",), ("F.binary_cross_entropy",),
          "binary_cross_entropy_with_logits with an infinite pos_weight: -inf against NaN",
          "nan-select", rare=True),
    Known(("no-raise",), INPLACE,
          "sum_to_size under no_grad returns a new tensor; PyTorch's is a view of its sum, so "
          "writing it in place with grad enabled raises", "layout", only=True, rare=True),
    Known(("grad-requires_grad",), ("sum_to_size",),
          "sum_to_size returns a new tensor, PyTorch a view of its sum: an in-place write then "
          "keeps the sum's history there", "layout", also=INPLACE, rare=True),
]


def match_known(label: str) -> Known | None:
    for k in KNOWN_MISMATCHES:
        if k.matches(label):
            return k
    return None
