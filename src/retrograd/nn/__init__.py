"""retrograd.nn: layers, containers, losses and the Module base class they share.

Reading order: parameter.py, module.py (the base class), containers.py, linear.py, then the
layers; functional.py holds the functional forms that the layers call.
"""

from . import functional, init, parallel, utils  # noqa: F401
from .activation import (
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
)
from .activation_more import *  # noqa: F401,F403
from .attention import MultiheadAttention
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .conv import Conv1d, Conv2d
from .conv_transpose import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .dropout import Dropout
from .dropout_more import *  # noqa: F401,F403
from .fold import Fold, Unfold
from .linear import Flatten, Identity, Linear, Unflatten
from .loss import *  # noqa: F401,F403
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .normalization_more import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .parallel import DataParallel
from .parameter import Buffer, Parameter
from .pixelshuffle import *  # noqa: F401,F403
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .pooling_more import *  # noqa: F401,F403

# Layers written alongside this package (recurrent, convolution, ...), imported last.
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .sparse import Embedding
from .sparse_more import EmbeddingBag
from .transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from .upsampling import *  # noqa: F401,F403

# PyTorch's per-file layout (``nn.modules.linear.Linear``), built from the classes above.
# isort: split
from . import modules  # noqa: E402
