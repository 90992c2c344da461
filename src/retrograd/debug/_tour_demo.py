"""The tour's section on retrograd.debug (its frames count as user code for provenance)."""

from __future__ import annotations


def show(section) -> None:
    """The tour's part (``python -m retrograd``): why_no_grad on the tutorial example."""
    from .. import FloatTensor, no_grad
    from . import is_provenance_enabled, set_provenance, why_no_grad

    section("9. Why is my .grad None? retrograd.debug.why_no_grad")
    was_on = is_provenance_enabled()
    set_provenance(True)
    try:
        x = FloatTensor([[1, 2], [3, 4]]).requires_grad_(True)
        x1 = x + 2
        y = (x1 * (x - 2)).sum()
        y.backward()
        print("x1.grad is None:", why_no_grad(x1, y))
        with no_grad():
            z = x * 2
        print("z.grad is None: ", why_no_grad(z))
    finally:
        set_provenance(was_on)
