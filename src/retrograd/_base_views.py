"""Views whose ``requires_grad`` follows their base's.

Note [Views of a base that needs no grad]
    A view of a floating-point tensor requires grad when its base does, whenever the view was
    made: ``v = x.view(2); x.mul_(w)`` (``w`` requiring grad) makes x require grad, and v with
    it; v's grad_fn is then rebuilt from x's history when read (Note [Stale views] in
    tensor.py), and ``requires_grad_()`` on a leaf base switches its views' flag too (a
    gradient reaching such a view, which has no node, is dropped, as PyTorch drops it).
    ``Function.apply`` reads the flag from a slot, so rather than asking every view's base
    there, a base that needs no grad keeps weak references to the views made of it (in
    ``_views``, filled by ``Function.apply``'s view outputs), and the few places that make a
    base start (or stop) requiring grad set the flag of those views with ``follow_base``: an
    in-place op taking its new history (``_take_history`` in ops/inplace.py), a custom
    Function's ``mark_dirty``, ``requires_grad_()``, ``detach_()``. A view that has a node of
    its own (``_view_fn``) keeps its flag. So does a view that ``requires_grad_()`` made
    require grad (``_own_grad``): it is a leaf of its own until its base is written in place,
    and a gradient reaching it is accumulated in its ``.grad`` rather than dropped
    (``requires_grad_(False)`` on a view leaves it requiring grad while its base does; its
    AccumulateGrad is dropped when the base takes a history in place, but not when a base that
    is a leaf requiring grad is written under no_grad, where PyTorch rebuilds its node). The
    list is kept once the base requires grad (no view is added to it then), since
    ``detach_()`` makes the base stop requiring grad and its views that have no node of their
    own follow it there too; a list is pruned of dead references each time its length reaches
    a power of two.
"""

from __future__ import annotations

import weakref

_ref = weakref.ref


def note_view(root, view) -> None:
    """Remember ``view``, a floating-point view made of ``root`` while it needs no grad."""
    views = root._views
    if views is None:
        root._views = [_ref(view)]
        return
    n = len(views)
    if n >= 16 and not n & (n - 1):  # at each power of two: drop the views that are gone
        views[:] = [r for r in views if r() is not None]
    views.append(_ref(view))


def follow_base(root) -> None:
    """The views ``note_view`` remembered for ``root`` take its ``requires_grad``."""
    flag = root._requires_grad
    history = root._grad_fn is not None  # taken in place: each view's node is now rebuilt
    for r in root._views:
        v = r()
        if v is not None and v._view_fn is None and v._base is root:
            v._requires_grad = flag or v._own_grad
            if history and v._accumulator is not None:  # a leaf by requires_grad_() until now
                v._accumulator = None
