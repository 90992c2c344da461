"""retrograd.nn.parallel: ``DistributedDataParallel`` (data parallelism across processes) and
``DataParallel`` (across GPUs: with none, it runs the module as it is)."""

from .data_parallel import DataParallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
