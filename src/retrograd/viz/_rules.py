"""The local derivative of the common ops, in symbols and in words, keyed by node name.

Each row: (symbols, words, what each input receives). ``u`` and ``v`` are the op's inputs in
order, ``grad`` the gradient arriving at the op's output. Ops not listed get the first line of
their Function's docstring (every built-in states its derivative there).
"""

from __future__ import annotations

_SAME_SHAPE = "the gradient is reshaped back to the input's shape; values are unchanged"

RULES: dict = {
    "AddBackward0": ("d(u + v)/du = 1,  d(u + v)/dv = 1",
                     "addition passes the gradient unchanged to both inputs",
                     ("grad · 1", "grad · 1")),
    "SubBackward0": ("d(u - v)/du = 1,  d(u - v)/dv = -1",
                     "subtraction passes the gradient to u and its negative to v",
                     ("grad · 1", "grad · (-1)")),
    "RsubBackward1": ("d(c - u)/du = -1", "the gradient comes back negated", ("-grad",)),
    "MulBackward0": ("d(u·v)/du = v,  d(u·v)/dv = u",
                     "each factor receives the gradient times the other factor",
                     ("grad · v", "grad · u")),
    "DivBackward0": ("d(u/v)/du = 1/v,  d(u/v)/dv = -u/v²",
                     "the numerator receives grad / v; the denominator -grad·u / v²",
                     ("grad / v", "-grad · u / v²")),
    "NegBackward0": ("d(-u)/du = -1", "negation flips the gradient's sign", ("-grad",)),
    "SumBackward0": ("d(sum(u))/du_i = 1",
                     "a sum hands the same gradient to every element it added up",
                     ("grad copied to every element",)),
    "SumBackward1": ("d(sum(u, dim))/du_i = 1",
                     "a sum over a dimension copies the gradient along that dimension",
                     ("grad expanded along the summed dims",)),
    "MeanBackward0": ("d(mean(u))/du_i = 1/n",
                      "a mean spreads the gradient evenly: each of the n elements gets grad / n",
                      ("grad / n to every element",)),
    "MeanBackward1": ("d(mean(u, dim))/du_i = 1/n",
                      "a mean over a dimension gives each element grad / n along it",
                      ("grad / n along the averaged dims",)),
    "PowBackward0": ("d(u^p)/du = p·u^(p-1)", "the power rule", ("grad · p·u^(p-1)",)),
    "PowBackward1": ("d(u^v)/du = v·u^(v-1),  d(u^v)/dv = u^v·ln(u)",
                     "the power rule for the base, the exponential rule for the exponent",
                     ("grad · v·u^(v-1)", "grad · u^v·ln(u)")),
    "PowBackward2": ("d(c^u)/du = c^u·ln(c)", "the exponential rule", ("grad · c^u·ln(c)",)),
    "ExpBackward0": ("d(e^u)/du = e^u", "the exponential is its own derivative",
                     ("grad · e^u",)),
    "LogBackward0": ("d(ln u)/du = 1/u", "the logarithm's slope is 1/u", ("grad / u",)),
    "SqrtBackward0": ("d(√u)/du = 1/(2√u)", "the square root's slope", ("grad / (2√u)",)),
    "SinBackward0": ("d(sin u)/du = cos u", "", ("grad · cos u",)),
    "CosBackward0": ("d(cos u)/du = -sin u", "", ("grad · (-sin u)",)),
    "AbsBackward0": ("d|u|/du = sign(u)", "the gradient keeps its sign where u > 0 and flips "
                     "it where u < 0 (0 at 0)", ("grad · sign(u)",)),
    "TanhBackward0": ("d(tanh u)/du = 1 - tanh²(u)", "tanh passes less gradient the more it "
                      "saturates", ("grad · (1 - tanh²(u))",)),
    "SigmoidBackward0": ("d(σ(u))/du = σ(u)·(1 - σ(u))",
                         "the sigmoid passes at most a quarter of the gradient",
                         ("grad · σ(u)(1 - σ(u))",)),
    "ReluBackward0": ("d(relu u)/du = 1 if u > 0 else 0",
                      "relu lets the gradient through where its input was positive and blocks "
                      "it elsewhere", ("grad · [u > 0]",)),
    "MmBackward0": ("d(A@B)/dA = grad @ Bᵀ,  d(A@B)/dB = Aᵀ @ grad",
                    "each factor of a matrix product receives the gradient multiplied by the "
                    "other factor, transposed", ("grad @ Bᵀ", "Aᵀ @ grad")),
    "AddmmBackward0": ("out = u @ W + b:  d/du = grad @ Wᵀ,  d/dW = uᵀ @ grad,  "
                       "d/db = Σ_rows grad",
                       "a linear layer: the matrix product rule for input and weight, and the "
                       "bias gets the gradient summed over the batch", ()),
    "TBackward0": ("d(uᵀ)/du: the gradient is transposed back", "", ("gradᵀ",)),
    "PermuteBackward0": ("the gradient's dimensions are permuted back", "",
                         ("grad permuted back",)),
    "ViewBackward0": ("view: " + _SAME_SHAPE, "", ("grad reshaped",)),
    "UnsafeViewBackward0": ("view: " + _SAME_SHAPE, "", ("grad reshaped",)),
    "UnsqueezeBackward0": ("unsqueeze: the added dimension is squeezed out of the gradient", "",
                           ("grad squeezed",)),
    "SqueezeBackward0": ("squeeze: " + _SAME_SHAPE, "", ("grad reshaped",)),
    "ExpandBackward0": ("expand: the gradient is summed over the copies", "",
                        ("grad summed over expanded dims",)),
    "SelectBackward0": ("select: the gradient goes to the selected entries, zeros elsewhere", "",
                        ("grad placed into zeros",)),
    "SliceBackward0": ("slice: the gradient goes to the sliced entries, zeros elsewhere", "",
                       ("grad placed into zeros",)),
    "IndexBackward0": ("indexing: the gradient is added at the indexed entries, zeros elsewhere",
                       "", ("grad scattered into zeros",)),
    "CatBackward0": ("cat: the gradient is split back into the pieces", "", ()),
    "StackBackward0": ("stack: the gradient is unstacked into the pieces", "", ()),
    "SoftmaxBackward0": ("d softmax: s ⊙ (grad - Σ grad ⊙ s)", "", ()),
    "LogSoftmaxBackward0": ("d log_softmax: grad - softmax(u)·Σ grad", "", ()),
    "NllLossBackward0": ("d nll/du[i, target_i] = -1/N (mean) and 0 elsewhere", "", ()),
    "MseLossBackward0": ("d mean((u - t)²)/du = 2(u - t)/n", "", ()),
    "AccumulateGrad": ("x.grad += grad", "a leaf adds what arrives into its .grad", ()),
}


def rule(node_name: str, function) -> tuple:
    """(symbols, words, per-input formulas) for a node, with a generic line for the rest."""
    row = RULES.get(node_name)
    if row is not None:
        return row
    doc = (getattr(function, "__doc__", None) or "").strip().splitlines()
    if doc and ";" in doc[0]:
        return (doc[0], "", ())
    return ("(no rule written for this op: its backward computes the vector-Jacobian "
            "product of its inputs)", "", ())
