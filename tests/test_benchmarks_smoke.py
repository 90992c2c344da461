"""The benchmark workloads (``python -m benchmarks``) still run, and retrograd's first losses
agree with PyTorch's from the same weights and batches (what the benchmark's check relies on).
A few seconds of training steps: run with RETROGRAD_BENCH_TESTS=1 (``python -m benchmarks``
checks the same at every run)."""

import os

import pytest

if not os.environ.get("RETROGRAD_BENCH_TESTS"):
    pytest.skip("benchmark workloads: set RETROGRAD_BENCH_TESTS=1 to run", allow_module_level=True)

workloads = pytest.importorskip("benchmarks.workloads")

import retrograd  # noqa: E402


@pytest.mark.parametrize("make", [workloads.make_gpt, workloads.make_gpt_manual,
                                  workloads.make_cnn, workloads.make_lstm,
                                  workloads.make_elementwise])
def test_workload_losses_agree_with_torch(torch_ref, make):
    state: dict = {}
    torch_step = make(torch_ref, state)
    step = make(retrograd, state)
    for _ in range(2):  # the second step also checks the optimizer's first update
        expected, got = torch_step(), step()
        assert got == pytest.approx(expected, rel=1e-4)


def test_alone_mode_runs_each_library_in_its_own_processes(torch_ref, tmp_path):
    """``python -m benchmarks`` from 2 threads on: one process per library and round, the same
    initial weights (losses agree across processes), retrograd's process without torch."""
    import json
    import subprocess
    import sys

    from benchmarks import __main__ as bench

    run = bench.run_alone(2, True, "op_overhead,elementwise,cnn", rounds=2)
    assert run["alone"] == 2 and set(run["results"]) == {"op_overhead", "elementwise", "cnn"}
    for key in ("elementwise", "cnn"):
        assert run["results"][key]["loss"]["ok"], run["results"][key]["loss"]
    assert run["results"]["elementwise"]["ratio"]["numpy"] > 0
    assert "alone" in "\n".join(bench.table(run))
    # retrograd's process never loads PyTorch
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", "--threads", "1", "--quick", "--only",
         "op_overhead", "--lib", "retrograd", "--state-dir", str(tmp_path)],
        capture_output=True, text=True, check=True, cwd=bench.os.path.dirname(
            bench.os.path.dirname(bench.os.path.abspath(bench.__file__))))
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["torch"] is None and "op_overhead" in result["results"]
