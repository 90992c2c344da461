"""retrograd.utils.data: datasets, samplers and the DataLoader that batches them.

    train_set, test_set = random_split(TensorDataset(x, y), [0.8, 0.2])
    for xb, yb in DataLoader(train_set, batch_size=64, shuffle=True):
        ...
"""

from .dataloader import DataLoader, default_collate, default_convert
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .distributed import DistributedSampler
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler

__all__ = ["BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "Subset",
           "SubsetRandomSampler", "TensorDataset", "default_collate", "default_convert",
           "random_split"]
