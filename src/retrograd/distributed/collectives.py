"""Collectives on tensors, in place on their arrays, over MPI.

Each one first checks that every rank arrived with a tensor of the same shape and dtype, then
moves the data with MPI's non-blocking collective, both waited with the group's timeout
(Note [Collectives that cannot hang] in process_group.py). ``async_op=True`` returns a ``Work``
whose ``wait()`` finishes the data step.
"""

from __future__ import annotations

import pickle
from enum import IntEnum

import numpy as np

from ..tensor import Tensor
from .process_group import _default_group, _Group

__all__ = ["ReduceOp", "Work", "all_gather", "all_gather_into_tensor", "all_gather_object",
           "all_reduce", "barrier", "broadcast", "broadcast_object_list", "reduce",
           "reduce_scatter", "reduce_scatter_tensor"]


class ReduceOp:
    """How collectives combine values: ``ReduceOp.SUM``, ``AVG``, ``PRODUCT``, ``MIN``, ..."""

    class RedOpType(IntEnum):
        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7
        PREMUL_SUM = 8
        UNUSED = 9

    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR


def _mpi_op(op):
    from mpi4py import MPI

    table = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
             ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND,
             ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}
    if op not in table:
        raise ValueError(f"reduce op {op!r} is not supported by the MPI backend; use one of "
                         "ReduceOp.SUM, AVG, PRODUCT, MIN, MAX, BAND, BOR, BXOR.")
    return table[op]


class Work:
    """A collective started with ``async_op=True``: ``wait()`` completes it."""

    def __init__(self, group: _Group, name: str, reqs: list, finish=None) -> None:
        self._group, self._name, self._reqs, self._finish = group, name, reqs, finish
        self._done = False

    def is_completed(self) -> bool:
        if not self._done:
            from mpi4py import MPI

            if MPI.Request.Testall(self._reqs):
                self._complete()
        return self._done

    def wait(self, timeout=None) -> bool:
        if not self._done:
            self._group.wait(self._reqs, self._name)
            self._complete()
        return True

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            self._finish()


def _group_of(group) -> _Group:
    if group is not None and not isinstance(group, _Group):
        raise ValueError("retrograd.distributed has only the default group (group=None).")
    return _default_group() if group is None else group


def _array(t, what: str) -> np.ndarray:
    if not isinstance(t, Tensor):
        raise TypeError(f"{what} must be a Tensor, got {type(t).__name__}")
    return t._data


def _contiguous(arr: np.ndarray) -> np.ndarray:
    return arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)


def _run(g: _Group, name: str, reqs: list, finish, async_op: bool):
    work = Work(g, name, reqs, finish)
    if async_op:
        return work
    work.wait()
    return None


def _written(t: Tensor, arr: np.ndarray, buf: np.ndarray) -> None:
    """Put a result computed in ``buf`` into ``t``'s array (if not already there)."""
    if buf is not arr:
        arr[...] = buf
    t._bump_version()


def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Combine ``tensor`` across ranks with ``op``; every rank gets the result, in place."""
    g = _group_of(group)
    arr = _array(tensor, "tensor")
    mpi_op = _mpi_op(op)
    g.arrive("all_reduce", arr, int(op))
    buf = _contiguous(arr)
    reqs = []
    if g.size > 1:
        from mpi4py import MPI

        reqs = [g.comm.Iallreduce(MPI.IN_PLACE, buf, op=mpi_op)]

    def finish():
        if op == ReduceOp.AVG:
            np.divide(buf, g.size, out=buf, casting="unsafe")
        _written(tensor, arr, buf)
    return _run(g, "all_reduce", reqs, finish, async_op)


def broadcast(tensor: Tensor, src: int = 0, group=None, async_op: bool = False,
              group_src=None):
    """Copy rank ``src``'s ``tensor`` into every rank's ``tensor``."""
    g = _group_of(group)
    src = src if group_src is None else group_src
    arr = _array(tensor, "tensor")
    _check_rank(g, src, "src")
    g.arrive("broadcast", arr, root=src)
    buf = _contiguous(arr)
    reqs = [g.comm.Ibcast(buf, root=src)] if g.size > 1 else []
    return _run(g, "broadcast", reqs, lambda: _written(tensor, arr, buf), async_op)


def reduce(tensor: Tensor, dst: int = 0, op=ReduceOp.SUM, group=None, async_op: bool = False,
           group_dst=None):
    """Combine ``tensor`` across ranks into rank ``dst``'s ``tensor`` (others unchanged)."""
    g = _group_of(group)
    dst = dst if group_dst is None else group_dst
    arr = _array(tensor, "tensor")
    mpi_op = _mpi_op(op)
    _check_rank(g, dst, "dst")
    g.arrive("reduce", arr, int(op), dst)
    buf = _contiguous(arr)
    reqs = []
    if g.size > 1:
        from mpi4py import MPI

        send, recv = (MPI.IN_PLACE, buf) if g.rank == dst else (buf, None)
        reqs = [g.comm.Ireduce(send, recv, op=mpi_op, root=dst)]

    def finish():
        if g.rank == dst:
            if op == ReduceOp.AVG:
                np.divide(buf, g.size, out=buf, casting="unsafe")
            _written(tensor, arr, buf)
    return _run(g, "reduce", reqs, finish, async_op)


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """Fill ``tensor_list[r]`` with rank r's ``tensor``, on every rank."""
    g = _group_of(group)
    arr = _array(tensor, "tensor")
    _check_outputs(g, tensor_list, arr, "all_gather", "tensor_list")
    g.arrive("all_gather", arr)
    out = np.empty((g.size, *arr.shape), arr.dtype)
    buf = _contiguous(arr)
    reqs = [g.comm.Iallgather(buf, out)] if g.size > 1 else []
    if g.size == 1:
        out[0] = buf

    def finish():
        for r, t in enumerate(tensor_list):
            _written(t, t._data, out[r])
    return _run(g, "all_gather", reqs, finish, async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group=None,
                           async_op: bool = False):
    """Rank r's ``input_tensor`` lands in ``output_tensor``'s r-th block along dim 0."""
    g = _group_of(group)
    arr = _array(input_tensor, "input_tensor")
    out = _array(output_tensor, "output_tensor")
    if out.dtype != arr.dtype or out.size != arr.size * g.size:
        raise RuntimeError(
            f"all_gather_into_tensor: output_tensor must have world_size ({g.size}) times the "
            f"elements of input_tensor ({arr.size}) and its dtype; got {out.size} elements of "
            f"{out.dtype}.")
    g.arrive("all_gather", arr)
    buf, obuf = _contiguous(arr), _contiguous(out)
    reqs = [g.comm.Iallgather(buf, obuf)] if g.size > 1 else []
    if g.size == 1:
        obuf.reshape(-1)[...] = buf.reshape(-1)
    return _run(g, "all_gather", reqs, lambda: _written(output_tensor, out, obuf), async_op)


def reduce_scatter(output: Tensor, input_list: list, op=ReduceOp.SUM, group=None,
                   async_op: bool = False):
    """``output`` on rank r = ``input_list[r]`` combined across ranks with ``op``."""
    g = _group_of(group)
    arr = _array(output, "output")
    _check_outputs(g, input_list, arr, "reduce_scatter", "input_list")
    send = np.stack([t._data for t in input_list]) if input_list else np.empty(0, arr.dtype)
    return _reduce_scatter(g, output, arr, send, op, async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor,  # noqa: A002 (PyTorch's name)
                          op=ReduceOp.SUM, group=None, async_op: bool = False):
    """``output`` on rank r = the r-th block (along dim 0) of ``input`` combined across ranks."""
    g = _group_of(group)
    arr = _array(output, "output")
    send = _array(input, "input")
    if send.dtype != arr.dtype or send.size != arr.size * g.size:
        raise RuntimeError(
            f"reduce_scatter_tensor: input must have world_size ({g.size}) times the elements "
            f"of output ({arr.size}) and its dtype; got {send.size} elements of {send.dtype}.")
    return _reduce_scatter(g, output, arr, _contiguous(send), op, async_op)


def _reduce_scatter(g: _Group, output: Tensor, arr, send, op, async_op):
    mpi_op = _mpi_op(op)
    g.arrive("reduce_scatter", arr, int(op))
    buf = _contiguous(arr)
    if g.size > 1:
        reqs = [g.comm.Ireduce_scatter_block(send, buf, op=mpi_op)]
    else:
        reqs = []
        buf.reshape(-1)[...] = send.reshape(-1)

    def finish():
        if op == ReduceOp.AVG:
            np.divide(buf, g.size, out=buf, casting="unsafe")
        _written(output, arr, buf)
    return _run(g, "reduce_scatter", reqs, finish, async_op)


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Wait until every rank has called ``barrier`` (or time out naming those that did not)."""
    g = _group_of(group)
    g.arrive("barrier")
    return _run(g, "barrier", [], None, async_op)


def all_gather_object(object_list: list, obj, group=None) -> None:
    """``object_list[r]`` = rank r's ``obj`` (pickled: only for ranks of the same job)."""
    g = _group_of(group)
    if len(object_list) != g.size:
        raise ValueError(f"all_gather_object: object_list must have world_size ({g.size}) "
                         f"entries, got {len(object_list)}.")
    data = np.frombuffer(pickle.dumps(obj), np.uint8)
    g.arrive("all_gather_object")
    sizes = np.zeros(g.size, np.int64)
    sizes[g.rank] = data.size
    if g.size > 1:
        from mpi4py import MPI

        g.wait([g.comm.Iallgather(MPI.IN_PLACE, sizes)], "all_gather_object")
        out = np.empty(int(sizes.sum()), np.uint8)
        displs = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        g.wait([g.comm.Iallgatherv(data, [out, (sizes, displs), MPI.BYTE])],
               "all_gather_object")
    else:
        out, displs = data, np.zeros(1, np.int64)
    for r in range(g.size):
        object_list[r] = pickle.loads(out[displs[r]:displs[r] + sizes[r]].tobytes())


def broadcast_object_list(object_list: list, src: int = 0, group=None, device=None) -> None:
    """Replace ``object_list``'s entries by rank ``src``'s (same length on every rank)."""
    g = _group_of(group)
    _check_rank(g, src, "src")
    g.arrive("broadcast_object_list", np.empty(len(object_list), np.uint8), root=src)
    if g.size == 1:
        return
    data = pickle.dumps(list(object_list)) if g.rank == src else b""
    size = np.array([len(data)], np.int64)
    g.wait([g.comm.Ibcast(size, root=src)], "broadcast_object_list")
    buf = np.frombuffer(data, np.uint8).copy() if g.rank == src else np.empty(size[0], np.uint8)
    g.wait([g.comm.Ibcast(buf, root=src)], "broadcast_object_list")
    if g.rank != src:
        object_list[:] = pickle.loads(buf.tobytes())


def _check_rank(g: _Group, r: int, what: str) -> None:
    if not 0 <= r < g.size:
        raise ValueError(f"{what}={r} is not a rank of this group of {g.size} processes "
                         f"(ranks 0 to {g.size - 1}).")


def _check_outputs(g: _Group, tensors: list, arr: np.ndarray, name: str, what: str) -> None:
    if len(tensors) != g.size:
        raise ValueError(f"{name}: {what} must hold world_size ({g.size}) tensors, "
                         f"got {len(tensors)}.")
    for i, t in enumerate(tensors):
        a = _array(t, f"{what}[{i}]")
        if a.shape != arr.shape or a.dtype != arr.dtype:
            raise RuntimeError(
                f"{name}: {what}[{i}] has shape {list(a.shape)} and dtype {a.dtype}, but every "
                f"entry must match the tensor's shape {list(arr.shape)} and dtype {arr.dtype}.")
