"""Keeping freed memory for the next step (backend.keep_freed_memory, Note [Keeping freed
memory] in backend.py): a loop that makes and frees a step's worth of 4 MB temporaries stops
page-faulting after its first pass; RETROGRAD_KEEP_FREED_MEMORY=0 leaves malloc alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from retrograd import backend

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")

# Fifteen 4 MB arrays alive at once, freed together, five times over: the pattern of a step
# of large elementwise work. Prints the page faults of the last four passes and what
# keep_freed_memory last set.
_PROBE = """
import json, resource
import numpy as np
import retrograd
from retrograd import backend
def one_pass():
    arrays = [np.ones(1_000_000, np.float32) for _ in range(15)]
    return sum(float(a[0]) for a in arrays)
one_pass()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
    one_pass()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"faults": faults, "kept": backend._kept_freed}))
"""

needs_glibc = pytest.mark.skipif(backend._mallopt() is None,
                                 reason="malloc thresholds are glibc's (this C library is another)")


def _probe(env_value: str | None) -> dict:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("RETROGRAD_KEEP_FREED_MEMORY", None)
    if env_value is not None:
        env["RETROGRAD_KEEP_FREED_MEMORY"] = env_value
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@needs_glibc
def test_freed_temporaries_are_reused_without_page_faults():
    kept = _probe(None)
    assert kept["kept"] == backend.DEFAULT_KEEP_FREED
    # 4 passes x 15 arrays x ~1,000 pages each would be 60,000 faults if memory went back
    assert kept["faults"] < 2_000, kept


@needs_glibc
def test_zero_in_the_environment_leaves_malloc_alone():
    untouched = _probe("0")
    assert untouched["kept"] is None
    # glibc's own thresholds return the freed heap top every pass: the pages fault again
    assert untouched["faults"] > 20_000, untouched


@needs_glibc
def test_a_byte_count_in_the_environment_is_the_amount_kept():
    assert _probe(str(256 << 20))["kept"] == 256 << 20


@needs_glibc
def test_keep_freed_memory_sets_and_restores():
    try:
        assert backend.keep_freed_memory(0) is True
        assert backend._kept_freed == 0
        assert backend.keep_freed_memory(64 << 20) is True
        assert backend._kept_freed == 64 << 20
        assert backend.keep_freed_memory(1 << 40) is True  # capped at what mallopt takes
        assert backend._kept_freed == 2**31 - 1
    finally:
        backend.keep_freed_memory()
    assert backend._kept_freed == backend.DEFAULT_KEEP_FREED


@pytest.mark.parametrize("bad", [-1, 1.5, "128", True, None])
def test_bad_byte_counts_are_refused_and_change_nothing(bad):
    before = backend._kept_freed
    with pytest.raises(ValueError, match="byte count"):
        backend.keep_freed_memory(bad)
    assert backend._kept_freed == before
