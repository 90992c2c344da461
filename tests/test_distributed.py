"""retrograd.distributed, DistributedDataParallel and DistributedSampler.

The MPI tests launch ``mpiexec -n 2`` jobs running tests/_dist_worker.py (two jobs, started
together: the checks ending with a rank that raises, and a rank that hangs) and skip cleanly
where mpi4py or mpiexec is absent (``pip install -e '.[distributed]'``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import retrograd as torch
from retrograd.autograd.engine import queue_callback
from retrograd.distributed.run import main as run_main
from retrograd.utils.data import DataLoader, DistributedSampler, TensorDataset

HERE = Path(__file__).parent
WORKER = HERE / "_dist_worker.py"
CHECKS = ["all_reduce", "broadcast_reduce", "all_gather", "reduce_scatter", "mismatch",
          "ddp_matches_single_process", "no_sync", "find_unused_parameters"]


def _mpi_command(*args) -> list:
    from retrograd.distributed.run import mpiexec_command

    return mpiexec_command(2, [str(WORKER), *args])


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    """Start the two 2-process jobs at once; return their results when all have ended."""
    pytest.importorskip("mpi4py", reason="mpi4py is not installed (pip install -e "
                        "'.[distributed]')")
    try:
        _mpi_command()
    except SystemExit:
        pytest.skip("mpiexec is not installed (pip install -e '.[distributed]')")
    out = tmp_path_factory.mktemp("dist")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(
        [str(HERE.parent / "src"), os.environ.get("PYTHONPATH", "")]))
    started = {}
    for name, args in [("checks", ("checks", str(out))), ("hang", ("hang",))]:
        proc = subprocess.Popen(_mpi_command(*args), env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        started[name] = (proc, time.perf_counter())
    done = {}
    for name, (proc, t0) in started.items():
        try:
            text, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            text, _ = proc.communicate()
        done[name] = {"rc": proc.returncode, "output": text, "seconds": time.perf_counter() - t0}
    done["results"] = [json.loads((out / f"rank{r}.json").read_text())
                       if (out / f"rank{r}.json").exists() else {} for r in range(2)]
    return done


@pytest.mark.parametrize("name", CHECKS)
def test_two_ranks(jobs, name):
    """Collectives equal NumPy on the gathered data; shapes that differ raise on every rank;
    DDP on 2 ranks with half the batch each = 1 process on the whole batch for 20 SGD steps;
    no_sync accumulates; find_unused_parameters averages with zeros."""
    for r, res in enumerate(jobs["results"]):
        assert res.get(name) == "ok", (f"rank {r}: {res.get(name)}\n"
                                       f"{jobs['checks']['output'][-3000:]}")


def test_failing_rank_ends_job(jobs):
    job = jobs["checks"]  # ends with rank 1 raising while rank 0 waits in all_reduce
    assert job["rc"] != 0
    assert "rank 1 of 2 failed with ValueError" in job["output"], job["output"]
    assert "this rank fails on purpose" in job["output"]
    assert job["seconds"] < 20  # rank 0's timeout (20 s) was not needed


def test_hanging_rank_times_out(jobs):
    job = jobs["hang"]
    assert job["rc"] != 0
    assert "Timed out after 1 s in all_reduce" in job["output"], job["output"]
    assert "rank(s) [1] never arrived" in job["output"]
    assert job["seconds"] < 60  # rank 1 sleeps 120 s: the abort ended it


def test_launcher_command(capsys):
    assert run_main(["-n", "3", "--dry-run", "train.py", "--epochs", "2"]) == 0
    cmd = capsys.readouterr().out.split()
    assert cmd[0].endswith("mpiexec") and cmd[1:3] == ["-n", "3"]
    assert cmd[-4:] == [sys.executable, "train.py", "--epochs", "2"]


# ---- DistributedSampler against PyTorch's -----------------------------------------------------

@pytest.mark.parametrize("n", [10, 11, 3])
@pytest.mark.parametrize("replicas", [1, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_matches_torch(torch_ref, monkeypatch, n, replicas, drop_last):
    """Same indices as torch's sampler, given the same permutation (the generators differ)."""
    import torch.utils.data.distributed as tdist

    from retrograd.utils.data import distributed as rdist

    data = list(range(n))
    for seed, epoch in [(0, 0), (5, 3)]:
        perm = np.random.default_rng(seed + epoch).permutation(n).tolist()
        monkeypatch.setattr(rdist, "_permutation", lambda k, s, p=perm: list(p))
        monkeypatch.setattr(tdist.torch, "randperm",
                            lambda k, generator=None, p=perm: torch_ref.tensor(p))
        for shuffle in (True, False):
            for rank in range(replicas):
                ours = DistributedSampler(data, replicas, rank, shuffle, seed, drop_last)
                theirs = tdist.DistributedSampler(data, replicas, rank, shuffle, seed, drop_last)
                ours.set_epoch(epoch)
                theirs.set_epoch(epoch)
                assert len(ours) == len(theirs)
                assert list(ours) == list(theirs), (seed, epoch, shuffle, rank)


def test_distributed_sampler_epochs_and_errors():
    data = list(range(10))
    s = DistributedSampler(data, num_replicas=2, rank=0)
    first = list(s)
    assert list(s) == first  # the same epoch gives the same order
    s.set_epoch(1)
    assert list(s) != first
    other = DistributedSampler(data, num_replicas=2, rank=1)
    other.set_epoch(1)
    assert sorted(list(s) + list(other)) == data  # the ranks split one permutation
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval"):
        DistributedSampler(data, num_replicas=2, rank=2)
    x = torch.arange(10.)
    loader = DataLoader(TensorDataset(x), batch_size=3, sampler=DistributedSampler(
        data, num_replicas=2, rank=1, shuffle=False))
    assert [b[0].tolist() for b in loader] == [[1., 3., 5.], [7., 9.]]


# ---- the engine's final callbacks (used by DistributedDataParallel) ---------------------------

def test_queue_callback_runs_after_backward():
    order = []
    x = torch.ones(3, requires_grad=True)
    y = (x * 2).sum()

    def hook(grad):
        order.append("hook")
        queue_callback(lambda: order.append(("callback", x.grad is not None)))
        return grad
    x.register_hook(hook)
    y.backward()
    assert order == ["hook", ("callback", True)]
    (x * 3).sum().backward()  # callbacks are forgotten after their backward
    assert order == ["hook", ("callback", True), "hook", ("callback", True)]
    with pytest.raises(RuntimeError, match="only be installed during backward"):
        queue_callback(lambda: None)
