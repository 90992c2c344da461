"""Coverage of the PyTorch API that real programs use (issue 8), from tests/data/api_inventory.json.

The inventory lists every torch name that the surveyed tutorials and examples use, with the
programs that use it (tests/data/README.md says how it was made). Every name used by two or more
programs must resolve on retrograd; the names used by one program that are still missing are
reported (a warning, not a failure) and each must be listed under ``deferred`` with its reason,
so a gap is always a decision someone wrote down.
"""

from __future__ import annotations

import importlib
import json
import warnings
from pathlib import Path

import pytest

import retrograd

INVENTORY = json.loads((Path(__file__).parent / "data" / "api_inventory.json").read_text())
NAMES = INVENTORY["names"]


def resolves(name: str, root=retrograd, root_name: str = "retrograd") -> bool:
    """Whether ``torch.a.b`` is ``<root>.a.b`` (importing submodules on the way) or
    ``Tensor.x`` is an attribute of ``<root>.Tensor``."""
    if name.startswith("Tensor."):
        return hasattr(root.Tensor, name.split(".", 1)[1])
    obj, path = root, root_name
    for part in name.split(".")[1:]:
        path += "." + part
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        try:
            obj = importlib.import_module(path)
        except ImportError:
            return False
    return True


def deferred_reason(name: str) -> str | None:
    for pattern, reason in INVENTORY["deferred"].items():
        if name == pattern or (pattern.endswith(".*") and name.startswith(pattern[:-1])):
            return reason
    return None


def missing(min_count: int = 1, max_count: int | None = None) -> list:
    return [n for n, d in NAMES.items()
            if d["count"] >= min_count and (max_count is None or d["count"] <= max_count)
            and not resolves(n)]


def test_inventory_is_consistent():
    programs = {p["program"] for p in INVENTORY["programs"]}
    assert len(programs) == len(INVENTORY["programs"]) >= 20
    for name, d in NAMES.items():
        assert d["count"] == len(d["programs"]) == len(set(d["programs"])), name
        assert set(d["programs"]) <= programs, name
        assert d["kind"] in {"torch", "Tensor method/attribute", "nn module", "nn.functional",
                             "torch.nn other", "optim", "utils.data"}, name
    counts = [d["count"] for d in NAMES.values()]
    assert counts == sorted(counts, reverse=True)


def test_every_name_used_by_two_or_more_programs_resolves():
    gaps = missing(min_count=2)
    assert not gaps, ("names used by two or more surveyed programs that retrograd lacks: "
                      + ", ".join(f"{n} ({NAMES[n]['count']})" for n in gaps))


def test_single_use_gaps_are_reported_and_each_has_a_reason():
    gaps = missing(max_count=1)
    covered = len(NAMES) - len(missing())
    warnings.warn(f"API inventory: {covered}/{len(NAMES)} names resolve on retrograd; missing "
                  f"(used by one program): {', '.join(gaps) or 'none'}", UserWarning, stacklevel=1)
    unexplained = [n for n in gaps if deferred_reason(n) is None]
    assert not unexplained, f"missing names with no entry in 'deferred': {unexplained}"


def test_deferred_entries_are_still_missing():
    """A deferred name that now resolves is done: its entry must go."""
    done = [n for n in NAMES if deferred_reason(n) is not None and resolves(n)]
    assert not done, f"now implemented, drop from 'deferred': {done}"


@pytest.mark.parametrize("name", sorted(INVENTORY["stubs"]))
def test_stubs_resolve(name):
    assert resolves(name), name


def test_tensor_names_exist_in_pytorch(torch_ref):
    """The extractor's heuristic for Tensor methods (any ``x.name`` whose name torch.Tensor
    has) can be fooled by other objects; every recorded one must be a real Tensor attribute.
    (The torch.* names are attribute chains as the programs wrote them.)"""
    absent = [n for n in NAMES if n.startswith("Tensor.") and not resolves(n, torch_ref, "torch")]
    assert not absent, f"Tensor names in the inventory that torch does not have: {absent}"


def test_accelerator_answers_as_a_cpu_only_pytorch(torch_ref):
    assert retrograd.accelerator.is_available() is torch_ref.accelerator.is_available() is False
    assert retrograd.accelerator.current_accelerator() is None
    assert torch_ref.accelerator.current_accelerator() is None
    assert retrograd.accelerator.device_count() == torch_ref.accelerator.device_count() == 0
