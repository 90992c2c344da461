"""A differential fuzzer: random programs run on retrograd and on PyTorch, compared.

``generate.py`` makes programs (data: inputs and steps), ``program.py`` prints and runs them,
``compare.py`` finds the first disagreement, ``runner.py`` shrinks it to a reproducer and counts
the mismatch classes, ``known.py`` lists the classes tolerated while their fixes are pending.
``python -m tests.fuzz -n 10000`` runs many; ``tests/test_fuzz.py`` runs a fixed-seed budget.
"""
