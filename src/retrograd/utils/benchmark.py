"""``retrograd.utils.benchmark``: time a statement, as ``torch.utils.benchmark.Timer``.

``Timer(stmt, setup, globals=...)`` compiles the statement once; ``timeit(number)`` runs it
``number`` times as one measurement, ``blocked_autorange(min_run_time)`` picks a block size
that takes at least 10 ms and measures blocks until ``min_run_time`` has passed. The result
prints the median time per run in readable units, like PyTorch's ``Measurement``.
"""

from __future__ import annotations

import statistics
import timeit as _timeit

__all__ = ["Measurement", "Timer"]


def _readable(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            return f"{seconds / scale:.2f} {unit}"
    return f"{seconds:.2f} s"  # (not reached)


class Measurement:
    """The times of one statement: ``raw_times`` per block of ``number_per_run`` runs."""

    def __init__(self, number_per_run: int, raw_times: list, stmt: str, label=None,
                 sub_label=None, description=None, num_threads: int = 1) -> None:
        self.number_per_run = number_per_run
        self.raw_times = list(raw_times)
        self.stmt = stmt
        self.label, self.sub_label, self.description = label, sub_label, description
        self.num_threads = num_threads

    @property
    def times(self) -> list:
        """Seconds per run, one value per measured block."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def iqr(self) -> float:
        times = sorted(self.times)
        if len(times) < 2:
            return 0.0
        q = statistics.quantiles(times, n=4, method="inclusive")
        return q[2] - q[0]

    @property
    def title(self) -> str:
        return self.label or self.stmt

    def __repr__(self) -> str:
        n = len(self.raw_times)
        lines = [f"<{type(self).__module__}.{type(self).__name__} object at {id(self):#x}>",
                 self.title]
        if n == 1:
            lines += [f"  {_readable(self.median)}",
                      f"  1 measurement, {self.number_per_run} runs , "
                      f"{self.num_threads} thread"]
        else:
            lines += [f"  Median: {_readable(self.median)}",
                      f"  {n} measurements, {self.number_per_run} runs per measurement, "
                      f"{self.num_threads} thread"]
        return "\n".join(lines)

    __str__ = __repr__


class Timer:
    """Times ``stmt`` (a string of Python code) run with ``globals`` after ``setup``."""

    def __init__(self, stmt: str = "pass", setup: str = "pass", global_setup: str = "",
                 timer=_timeit.default_timer, globals: dict | None = None,  # noqa: A002
                 label=None, sub_label=None, description=None, env=None,
                 num_threads: int = 1, language=None) -> None:
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        self._stmt = stmt
        self._label, self._sub_label, self._description = label, sub_label, description
        self._num_threads = num_threads
        namespace = dict(globals or {})
        if global_setup:
            exec(global_setup, namespace)  # noqa: S102 - the caller's own setup code
        self._timer = _timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=namespace)

    def _measurement(self, number: int, raw_times: list) -> Measurement:
        return Measurement(number, raw_times, self._stmt, self._label, self._sub_label,
                           self._description, self._num_threads)

    def timeit(self, number: int = 1000000) -> Measurement:
        """One measurement of ``number`` runs (after a warm-up run)."""
        self._timer.timeit(number=1)
        return self._measurement(number, [self._timer.timeit(number=number)])

    def _block_size(self) -> int:
        number = 1
        while True:  # grow until one block takes at least 10 ms
            if self._timer.timeit(number=number) >= 0.01 or number >= 10**9:
                return number
            number *= 10

    def blocked_autorange(self, callback=None, min_run_time: float = 0.2) -> Measurement:
        """Blocks of a size that takes at least 10 ms, until ``min_run_time`` has passed."""
        number = self._block_size()
        raw, total = [], 0.0
        while total < min_run_time or not raw:
            t = self._timer.timeit(number=number)
            raw.append(t)
            total += t
            if callback is not None:
                callback(number, t)
        return self._measurement(number, raw)

    def autorange(self, callback=None) -> Measurement:
        """One block of a size that takes at least 0.2 s (as ``timeit.Timer.autorange``)."""
        number, t = self._timer.autorange(callback)
        return self._measurement(number, [t])
