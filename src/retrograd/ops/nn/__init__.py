"""The kernels ``retrograd.nn.functional`` is built on: convolution, pooling, normalization,
losses, recurrent cells and embedding lookup.

Each is a fused Function (forward on arrays, backward with tensor ops; see
``autograd/function.py``) that only the neural-network layer uses; the general tensor ops live
one level up, in ``retrograd.ops``. Of these only the recurrent cells are public functions
(``torch.lstm_cell`` & co., registered by ``rnn_cells.py``'s ``expose`` table).
"""

from . import (  # noqa: F401  (rnn_cells registers its functions on import)
    activations,
    adaptive_max,
    attention,
    conv,
    conv_transpose,
    embedding,
    fold,
    group_norm,
    loss,
    normalization,
    padding,
    pooling,
    resample,
    rnn_cells,
)
