"""retrograd.distributed: PyTorch's ``torch.distributed`` API on MPI (mpi4py + Open MPI).

    import retrograd.distributed as dist
    dist.init_process_group()              # rank and world size come from mpiexec
    dist.all_reduce(t, op=dist.ReduceOp.SUM)

Run with ``mpiexec -n 2 python train.py`` or ``python -m retrograd.distributed.run -n 2
train.py``. Install the backend with ``pip install 'retrograd[distributed]'``.
"""

from .collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_gather_into_tensor,
    all_gather_object,
    all_reduce,
    barrier,
    broadcast,
    broadcast_object_list,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
)
from .process_group import (
    GroupMember,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
)

__all__ = ["GroupMember", "ReduceOp", "Work", "all_gather", "all_gather_into_tensor",
           "all_gather_object", "all_reduce", "barrier", "broadcast", "broadcast_object_list",
           "destroy_process_group", "get_backend", "get_rank", "get_world_size",
           "init_process_group", "is_available", "is_initialized", "is_mpi_available", "reduce",
           "reduce_scatter", "reduce_scatter_tensor"]
