"""Client programs: real-style PyTorch programs run unchanged with retrograd as ``torch``.

Each program in ``tests/clients/`` is written as a PyTorch user would write it (``import
torch``). The test runs it with retrograd standing in for torch (``tests/clients/as_torch.py``)
and compares what it prints with what the same program prints under PyTorch: text exactly,
numbers within a float32 tolerance, object addresses ignored. Without PyTorch installed the
comparison is against ``tests/clients/expected/<program>.txt``, PyTorch's output recorded by
``python tests/clients/record_expected.py``; with PyTorch the recording is checked too, so it
cannot go stale silently.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import retrograd

CLIENTS = Path(__file__).parent / "clients"
EXPECTED = CLIENTS / "expected"
HELPERS = {"as_torch.py", "detinit.py", "record_expected.py"}
PROGRAMS = sorted(p.name for p in CLIENTS.glob("*.py") if p.name not in HELPERS)

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
ATOL, RTOL = 1e-4, 2e-3


def run_program(name: str, as_retrograd: bool) -> str:
    """Run one client program in a fresh interpreter; return its stdout (fails on non-zero)."""
    command = [sys.executable]
    if as_retrograd:
        command.append(str(CLIENTS / "as_torch.py"))
    command.append(str(CLIENTS / name))
    # The child imports the same retrograd as this test process, wherever that comes from.
    source_root = str(Path(retrograd.__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (source_root, os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONHASHSEED="0", PYTHONPATH=path)
    done = subprocess.run(command, cwd=CLIENTS, env=env, capture_output=True, text=True,
                          timeout=600)
    who = "retrograd" if as_retrograd else "PyTorch"
    assert done.returncode == 0, f"{name} failed under {who}:\n{done.stderr[-4000:]}"
    return done.stdout


def differences(ours: str, theirs: str) -> list[str]:
    """Lines that differ: text must be equal, numbers close (|a-b| <= ATOL + RTOL*|b|)."""
    ours_lines, their_lines = ours.splitlines(), theirs.splitlines()
    found = []
    if len(ours_lines) != len(their_lines):
        found.append(f"{len(ours_lines)} lines printed, PyTorch printed {len(their_lines)}")
    for i, (a, b) in enumerate(zip(ours_lines, their_lines), 1):
        a, b = _ADDRESS.sub(" at 0x", a), _ADDRESS.sub(" at 0x", b)
        if _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
            found.append(f"line {i}: text differs\n  retrograd: {a}\n  PyTorch:   {b}")
            continue
        for x, y in zip(_NUMBER.findall(a), _NUMBER.findall(b)):
            fx, fy = float(x), float(y)
            if fx != fy and not abs(fx - fy) <= ATOL + RTOL * abs(fy):
                found.append(f"line {i}: {x} vs PyTorch's {y}\n  retrograd: {a}\n  PyTorch:   {b}")
                break
    return found


def test_comparison_catches_differences():
    assert differences("loss 0.5000\n", "loss 0.5001\n") == []
    assert differences("loss 0.52\n", "loss 0.50\n")
    assert differences("tensor([1.])\n", "tensor([1.], grad_fn=<AddBackward0>)\n")
    assert differences("a\n", "a\nb\n")
    assert differences("<Node object at 0x7f01>\n", "<Node object at 0x7f99>\n") == []


@pytest.mark.parametrize("name", PROGRAMS)
def test_client_program(name):
    ours = run_program(name, as_retrograd=True)
    recorded = EXPECTED / (Path(name).stem + ".txt")
    if importlib.util.find_spec("torch") is not None and not os.environ.get(
            "RETROGRAD_TESTS_WITHOUT_TORCH"):
        theirs = run_program(name, as_retrograd=False)
        assert recorded.exists(), f"record PyTorch's output: python {CLIENTS}/record_expected.py"
        stale = differences(recorded.read_text(), theirs)
        assert not stale, f"{recorded} is stale; re-record it:\n" + "\n".join(stale[:5])
    else:
        theirs = recorded.read_text()
    found = differences(ours, theirs)
    assert not found, f"{name} prints differently from PyTorch:\n" + "\n".join(found[:10])
