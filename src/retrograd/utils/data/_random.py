"""Which NumPy generator shuffles: the one passed in, or retrograd's global one."""

from __future__ import annotations

import numpy as np

from ...creation import default_generator as _default


def numpy_generator(generator=None) -> np.random.Generator:
    """The NumPy generator behind ``generator``.

    ``None`` means retrograd's global generator (so ``retrograd.manual_seed`` makes shuffling
    reproducible); a retrograd generator object exposes its NumPy generator as ``.gen``; a
    ``numpy.random.Generator`` is used as it is.
    """
    if generator is None:
        return _default.gen
    if isinstance(generator, np.random.Generator):
        return generator
    inner = getattr(generator, "gen", None)
    if isinstance(inner, np.random.Generator):
        return inner
    raise TypeError(
        f"generator must be a retrograd.Generator (e.g. retrograd.Generator().manual_seed(0)) "
        f"or a numpy.random.Generator, not {type(generator).__name__}")
