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
