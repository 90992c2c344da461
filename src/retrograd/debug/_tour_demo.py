"""The tour's section on retrograd.debug (its frames count as user code for provenance)."""

from __future__ import annotations


def show(section) -> None:
    """The tour's part (``python -m retrograd``): why_no_grad on the tutorial example, a leaked
    graph caught by detect_leaks, and memory_report on a small MLP."""
    import warnings

    from .. import FloatTensor, manual_seed, nn, no_grad, randn
    from . import detect_leaks, is_provenance_enabled, memory_report, set_provenance, why_no_grad

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

        section("10. Leaked graphs and memory held for backward (detect_leaks, memory_report)")
        manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with detect_leaks():
                total_loss = 0
                for _ in range(6):
                    loss = model(randn(4, 8)).pow(2).mean()
                    loss.backward()
                    total_loss = total_loss + loss  # the leak: keeps every step's graph alive
        print("total_loss += loss in a training loop:")
        print(caught[0].message if caught else "(no warning)")
        print()
        print(memory_report(model(randn(32, 8)).pow(2).mean(), model))
    finally:
        set_provenance(was_on)
