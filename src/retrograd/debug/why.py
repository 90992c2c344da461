"""``why_no_grad(t, loss)``: why ``t.grad`` is None, or why ``loss`` has no ``grad_fn``."""

from __future__ import annotations

from ..tensor import Tensor
from . import provenance as _prov

FIXES = {
    "detach": "Use the tensor itself where the gradient should flow; detach() only what must be "
              "a constant to autograd.",
    "no_grad": "Compute it outside torch.no_grad() (no_grad is for evaluation and for updating "
               "parameters).",
    "created_under_no_grad": "Compute it outside torch.no_grad() (no_grad is for evaluation and "
                             "for updating parameters).",
    "to_python": "Keep computing with tensor ops: a value taken out with .item(), .tolist() or "
                 ".numpy() is a constant to autograd (use those only for logging).",
    "integer_cast": "Integer tensors carry no gradient; keep the computation in floating point.",
    "non_differentiable": "That op has no gradient for this result; use a differentiable op.",
}


class Explanation:
    """What ``why_no_grad`` found: ``str()`` is the explanation, ``.cause`` a short code.

    Causes: ``non_leaf``, ``not_on_path``, ``detach``, ``no_grad``, ``to_python`` (``.item()``,
    ``.tolist()``, ``.numpy()``), ``integer_cast``, ``non_differentiable``,
    ``created_under_no_grad``, ``requires_grad_false``, ``integer_dtype``, ``unused``,
    ``no_backward``, ``loss_no_grad`` and ``has_grad`` (nothing is wrong).
    """

    def __init__(self, cause: str, text: str, site=None) -> None:
        self.cause = cause
        self.text = text
        self.site = site  # (file, line, function) where the graph was cut, when known

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<why_no_grad: {self.cause}>"


def _hint() -> str:
    if _prov.recording():
        return ""
    return (" To see the line where the graph was cut, call "
            "retrograd.debug.set_provenance(True) before building it and run again.")


def _from_cut(cut, subject: str, own: bool = False) -> Explanation:
    cause = cut.kind
    if cause == "no_grad" and own:
        cause = "created_under_no_grad"
        text = (f"{subject} was created under no_grad ({cut.op} at "
                f"{_prov.format_site(cut.site)}), so it has no graph.")
    else:
        text = f"{subject}: {cut.describe()}."
    return Explanation(cause, f"{text} {FIXES[cause]}", cut.site)


def _reaches(root, target) -> bool:
    """Is ``target`` reachable from node ``root`` (iteratively)?"""
    if root is None or target is None:
        return False
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        if node is target:
            return True
        for nxt in node._edges:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _cut_behind(node):
    """The newest logged cut that ``node`` lay behind, if any."""
    for cut in _prov.recent_cuts():
        if cut.covers(node):
            return cut
    return None


def _without_grad(t: Tensor) -> Explanation:
    """t itself does not require grad: say why."""
    cut = t.__dict__.get("_cut")
    if cut is not None:
        own = cut.tensor is not None and cut.tensor() is t
        return _from_cut(cut, "t does not require grad" if not own else "t", own)
    if t._data.dtype.kind != "f":
        return Explanation("integer_dtype", (
            f"t has dtype {t.dtype}: only floating-point tensors can require grad, so it never "
            "gets a .grad. Convert it first (t.float()) if it should be learned."))
    return Explanation("requires_grad_false", (
        "t does not require grad, so backward computes no gradient for it. Create it with "
        "requires_grad=True or call t.requires_grad_() before using it. If it was computed "
        "from a tensor that requires grad, the graph was cut (detach(), no_grad, .item(), an "
        "integer cast)." + _hint()))


def why_no_grad(t: Tensor, loss: Tensor | None = None) -> Explanation:
    """Explain why ``t.grad`` is None (given ``loss``, also whether and how t reaches it)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"why_no_grad expects a Tensor, got {type(t).__name__}")
    if loss is not None and not isinstance(loss, Tensor):
        raise TypeError(f"loss must be a Tensor, got {type(loss).__name__}")
    if not t._requires_grad:
        return _without_grad(t)
    node = t.grad_fn if t.grad_fn is not None else t._accumulator
    non_leaf = t.grad_fn is not None and not t.retains_grad
    if loss is not None and loss is not t:
        if not loss._requires_grad:
            return _loss_without_grad(loss, node)
        if not _reaches(loss.grad_fn, node):
            cut = _cut_behind(node)
            if cut is not None:
                return _from_cut(cut, "t is not on any path to loss because the path was cut")
            return Explanation("not_on_path", (
                f"loss does not depend on t: no path in loss's graph (from "
                f"{type(loss.grad_fn).__name__}) leads to t, so backward never reaches it. "
                "Check that t is used in computing loss (a different tensor of the same name, "
                "a copy made with .clone().detach(), a module not called?)." + _hint()))
    if non_leaf:
        where = _prov.node_site(t.grad_fn)
        at = f" at {_prov.format_site(where)}" if where else ""
        return Explanation("non_leaf", (
            f"t is not a leaf: it was computed by {type(t.grad_fn).__name__}{at}, and backward "
            "fills .grad only for leaves (tensors created with requires_grad=True). Call "
            "t.retain_grad() before backward() to keep its gradient, or read .grad of the "
            "leaf you meant."), where)
    if t._grad is not None:
        return Explanation("has_grad", "t.grad is not None: t already has its gradient.")
    if node is None:
        return Explanation("unused", (
            "t requires grad but has not been used in any recorded operation yet, so no "
            "backward can reach it. Use it in computing the loss (with grad mode on)."))
    if loss is None:
        return Explanation("no_backward", (
            "t is a leaf that requires grad and has been used, but no backward has filled its "
            ".grad: call loss.backward() (if you did, optimizer.zero_grad() or t.grad = None "
            "reset it since). Pass loss= to check that loss depends on t."))
    return Explanation("no_backward", (
        "t is on a path to loss, but backward has not run: call loss.backward() (if you did, "
        "optimizer.zero_grad() or t.grad = None reset it since, or backward(inputs=...) left t "
        "out)."))


def _loss_without_grad(loss: Tensor, node) -> Explanation:
    """loss has no grad_fn: find the cut, preferring one that t lay behind."""
    cut = loss.__dict__.get("_cut")
    if cut is None and node is not None:
        cut = _cut_behind(node)
    if cut is not None:
        own = cut.kind == "no_grad" and cut.tensor is not None and cut.tensor() is loss
        subject = "loss has no grad_fn"
        if own:
            text = (f"loss has no grad_fn: it was computed under no_grad ({cut.op} at "
                    f"{_prov.format_site(cut.site)}).")
            return Explanation("no_grad", f"{text} {FIXES['no_grad']}", cut.site)
        return _from_cut(cut, subject)
    return Explanation("loss_no_grad", (
        "loss has no grad_fn, so nothing can flow back from it: it was not computed from any "
        "tensor that requires grad with grad mode on (inputs made without requires_grad=True, "
        "a computation under no_grad, or values taken out with .item()/.numpy()/.detach())."
        + _hint()))
