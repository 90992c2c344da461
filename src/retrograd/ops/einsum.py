"""``einsum``: Einstein summation, built from retrograd's own ops so gradients come for free.

The equation is parsed into one list of subscripts per operand (``...`` expands to as many
broadcast dims as the operand has left over, aligned from the right). Then, with no Function
of its own:

1. a subscript repeated within one operand takes the diagonal (multiply by an identity mask,
   sum one of the two dims);
2. a subscript that appears in one operand only, and not in the output, is summed out;
3. operands are contracted left to right, two at a time, as one batched ``matmul``: the
   subscripts both share and still need are batch dims, those they share and no longer need
   are summed by the product, the rest become its rows and columns;
4. the result is permuted into the output's order.

Every step is a differentiable op (permute, reshape, expand, mul, sum, matmul), so first and
higher derivatives are the ones of those ops.
"""

from __future__ import annotations

import string

import numpy as np

from ..tensor import Tensor, _wrap
from ._registry import expose

_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # sublist ints 0..51 -> letters


def _error(msg: str) -> RuntimeError:
    return RuntimeError(f"einsum(): {msg}")


def _from_sublists(args) -> tuple:
    """``einsum(op0, [0, 1], op1, [1, 2], [0, 2])`` as an equation and its operands."""
    args = list(args)
    out = args.pop() if len(args) % 2 else None

    def letters(sub) -> str:
        try:
            return "".join("..." if s is Ellipsis else _LETTERS[s] for s in sub)
        except (IndexError, TypeError):
            raise ValueError("einsum(): subscript in subscript list is not within the valid "
                             "range [0, 52)") from None

    eq = ",".join(letters(sub) for sub in args[1::2])
    if out is not None:
        eq += "->" + letters(out)
    return eq, args[0::2]


def _tokens(term: str, ndim: int, k: int) -> list:
    """Subscripts of operand ``k`` as tokens: letters, and ``".j"`` for the ellipsis dim that
    sits j dims before the ellipsis' end (so ellipsis dims of different operands align from
    the right, as broadcasting does)."""
    if term.count("...") > 1 or term.replace("...", "").count("."):
        raise _error(f"found '.' for operand {k} that is not part of any ellipsis")
    head, dots, tail = term.partition("...")
    for ch in head + tail:
        if ch not in _LETTERS:
            raise _error(f"invalid subscript given at index {term.index(ch)} in the equation "
                         "string, subscripts must be in [a-zA-Z]")
    n_letters = len(head) + len(tail)
    if not dots:
        if n_letters != ndim:
            raise _error(f"the number of subscripts in the equation ({n_letters}) does not "
                         f"match the number of dimensions ({ndim}) for operand {k} and no "
                         "ellipsis was given")
        return list(head)
    m = ndim - n_letters
    if m < 0:
        raise _error(f"the number of subscripts in the equation ({n_letters}) is more than the "
                     f"number of dimensions ({ndim}) for operand {k}")
    return list(head) + [f".{j}" for j in range(m - 1, -1, -1)] + list(tail)


def _diagonals(x: Tensor, toks: list) -> tuple:
    """Take the diagonal of every subscript repeated within one operand."""
    while len(set(toks)) < len(toks):
        t = next(t for t in toks if toks.count(t) > 1)
        p = toks.index(t)
        q = toks.index(t, p + 1)
        n = x.shape[p]
        shape = [1] * len(toks)
        shape[p] = shape[q] = n
        eye = _wrap(np.eye(n, dtype=x._data.dtype).reshape(shape))
        x = (x * eye).sum(q)
        toks = toks[:q] + toks[q + 1:]
    return x, toks


def _contract(a: Tensor, ta: list, b: Tensor, tb: list, keep: set, sizes: dict) -> tuple:
    """``a`` and ``b`` contracted over the subscripts they share and ``keep`` does not hold,
    as one batched matmul."""
    batch = [t for t in ta if t in tb and t in keep]
    summed = [t for t in ta if t in tb and t not in keep]
    left = [t for t in ta if t not in tb]
    right = [t for t in tb if t not in ta]

    def prod(ts) -> int:
        return int(np.prod([sizes[t] for t in ts], dtype=np.int64))

    bshape = tuple(sizes[t] for t in batch)
    a = a.permute(*[ta.index(t) for t in batch + left + summed])
    a = a.reshape(bshape + (prod(left), prod(summed)))
    b = b.permute(*[tb.index(t) for t in batch + summed + right])
    b = b.reshape(bshape + (prod(summed), prod(right)))
    out = (a @ b).reshape(bshape + tuple(sizes[t] for t in left + right))
    return out, batch + left + right


def einsum(*args) -> Tensor:
    """Sum of products of the operands' elements, as the subscript ``equation`` says, e.g.
    ``einsum("bij,bjk->bik", a, b)`` (batched matmul) or ``einsum("ii", a)`` (trace)."""
    if not args:
        raise TypeError("einsum(): must specify the equation string and at least one operand, "
                        "or at least one operand and its subscripts list")
    if isinstance(args[0], str):
        equation, operands = args[0], list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
    else:
        equation, operands = _from_sublists(args)
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(operands):
        raise _error("fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise _error("more operands were provided than specified in the equation")
    for x in operands:
        if not isinstance(x, Tensor):
            raise TypeError(f"einsum(): operands must be Tensors, not {type(x).__name__}")
    toks = [_tokens(term, x._data.ndim, k) for k, (term, x) in enumerate(zip(terms, operands))]

    # the size of each subscript; size-1 dims broadcast against the others
    sizes: dict = {}
    for k, (x, ts) in enumerate(zip(operands, toks)):
        for t, n in zip(ts, x._data.shape):
            seen = sizes.get(t)
            if seen is None or seen == 1:
                sizes[t] = n
            elif n not in (1, seen):
                what = f"subscript {t}" if not t.startswith(".") else "an ellipsis dim"
                raise _error(f"{what} has size {n} for operand {k} which does not broadcast "
                             f"with previously seen size {seen}")

    ell = sorted((t for t in sizes if t.startswith(".")), key=lambda t: -int(t[1:]))
    if arrow:
        if "->" in rhs:
            raise _error("found '->' more than once in the equation")
        n_out = len(rhs.replace("...", "")) + (len(ell) if "..." in rhs else 0)
        out_toks = _tokens(rhs, n_out, len(operands))
        for t in out_toks:
            if t not in sizes:
                raise _error(f"output subscript {t} does not appear in the equation for any "
                             "input operand")
        if len(set(out_toks)) < len(out_toks):
            raise _error("output subscript appears more than once in the output")
    else:
        counts = [t for ts in toks for t in ts if not t.startswith(".")]
        out_toks = ell + sorted(t for t in set(counts) if counts.count(t) == 1)

    # per operand: diagonals, broadcast size-1 dims, sum out what nothing else needs
    xs = []
    for k, (x, ts) in enumerate(zip(operands, toks)):
        x, ts = _diagonals(x, ts)
        full = tuple(sizes[t] for t in ts)
        if tuple(x.shape) != full:
            x = x.expand(*full)
        others = set(out_toks).union(*(set(o) for j, o in enumerate(toks) if j != k))
        lone = [i for i, t in enumerate(ts) if t not in others]
        if lone:
            x = x.sum(tuple(lone))
            ts = [t for t in ts if t in others]
        xs.append((x, ts))

    x, ts = xs[0]
    for j in range(1, len(xs)):
        keep = set(out_toks).union(*(set(t) for _, t in xs[j + 1:]))
        x, ts = _contract(x, ts, *xs[j], keep, sizes)
    order = [ts.index(t) for t in out_toks]
    if order == list(range(len(order))) and x is not operands[0]:
        return x
    return x.permute(*order)  # (a view even when nothing moves, as PyTorch returns)


expose({"einsum": einsum}, method=False)
