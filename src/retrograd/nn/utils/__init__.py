"""retrograd.nn.utils: gradient clipping, flattening parameters into one vector, and
parametrizations (``parametrize``)."""

from . import parametrize, prune, rnn
from .clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "parametrize", "prune", "rnn", "vector_to_parameters"]
