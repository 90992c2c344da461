"""``retrograd.nn.modules``: PyTorch's file layout of layer classes, for programs that name a
class by its full path (``torch.nn.modules.linear.Linear``, often in
``torch.serialization.safe_globals([...])`` lists or ``isinstance`` checks).

retrograd keeps its layers in fewer files; each submodule here (``linear``, ``conv``, ``rnn``,
...) is a namespace holding the same class objects as ``retrograd.nn``, so
``nn.modules.linear.Linear is nn.Linear``. A class retrograd does not have is simply absent
from its submodule (AttributeError), as it is from ``retrograd.nn``.
"""

from __future__ import annotations

import sys
import types

# PyTorch's submodule of torch.nn.modules -> the layer classes it holds.
_LAYOUT = {
    "activation": (
        "Threshold ReLU RReLU Hardtanh ReLU6 Sigmoid Hardsigmoid Tanh SiLU Mish Hardswish ELU "
        "CELU SELU GLU GELU Hardshrink LeakyReLU LogSigmoid Softplus Softshrink "
        "MultiheadAttention PReLU Softsign Tanhshrink Softmin Softmax Softmax2d LogSoftmax"
    ),
    "adaptive": "AdaptiveLogSoftmaxWithLoss",
    "batchnorm": (
        "BatchNorm1d LazyBatchNorm1d BatchNorm2d LazyBatchNorm2d BatchNorm3d LazyBatchNorm3d "
        "SyncBatchNorm"
    ),
    "channelshuffle": "ChannelShuffle",
    "container": "Container Sequential ModuleList ModuleDict ParameterList ParameterDict",
    "conv": (
        "Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d ConvTranspose3d LazyConv1d "
        "LazyConv2d LazyConv3d LazyConvTranspose1d LazyConvTranspose2d LazyConvTranspose3d"
    ),
    "distance": "PairwiseDistance CosineSimilarity",
    "dropout": "Dropout Dropout1d Dropout2d Dropout3d AlphaDropout FeatureAlphaDropout",
    "flatten": "Flatten Unflatten",
    "fold": "Fold Unfold",
    "instancenorm": (
        "InstanceNorm1d InstanceNorm2d InstanceNorm3d LazyInstanceNorm1d LazyInstanceNorm2d "
        "LazyInstanceNorm3d"
    ),
    "lazy": "LazyModuleMixin",
    "linear": "Bilinear Identity LazyLinear Linear NonDynamicallyQuantizableLinear",
    "linear_cross_entropy_options": "LinearCrossEntropyOptions",
    "loss": (
        "L1Loss NLLLoss NLLLoss2d PoissonNLLLoss GaussianNLLLoss KLDivLoss MSELoss BCELoss "
        "BCEWithLogitsLoss HingeEmbeddingLoss MultiLabelMarginLoss SmoothL1Loss HuberLoss "
        "SoftMarginLoss CrossEntropyLoss LinearCrossEntropyLoss MultiLabelSoftMarginLoss "
        "CosineEmbeddingLoss MarginRankingLoss MultiMarginLoss TripletMarginLoss "
        "TripletMarginWithDistanceLoss CTCLoss"
    ),
    "module": "Module",
    "normalization": "LocalResponseNorm CrossMapLRN2d LayerNorm GroupNorm RMSNorm",
    "padding": (
        "CircularPad1d CircularPad2d CircularPad3d ConstantPad1d ConstantPad2d ConstantPad3d "
        "ReflectionPad1d ReflectionPad2d ReflectionPad3d ReplicationPad1d ReplicationPad2d "
        "ReplicationPad3d ZeroPad1d ZeroPad2d ZeroPad3d"
    ),
    "pixelshuffle": "PixelShuffle PixelUnshuffle",
    "pooling": (
        "MaxPool1d MaxPool2d MaxPool3d MaxUnpool1d MaxUnpool2d MaxUnpool3d AvgPool1d AvgPool2d "
        "AvgPool3d FractionalMaxPool2d FractionalMaxPool3d LPPool1d LPPool2d LPPool3d "
        "AdaptiveMaxPool1d AdaptiveMaxPool2d AdaptiveMaxPool3d AdaptiveAvgPool1d "
        "AdaptiveAvgPool2d AdaptiveAvgPool3d"
    ),
    "rnn": "RNNBase RNN LSTM GRU RNNCellBase RNNCell LSTMCell GRUCell",
    "sparse": "Embedding EmbeddingBag",
    "transformer": (
        "Transformer TransformerEncoder TransformerDecoder TransformerEncoderLayer "
        "TransformerDecoderLayer"
    ),
    "upsampling": "Upsample UpsamplingNearest2d UpsamplingBilinear2d",
}


def _build(name: str, class_names: str) -> types.ModuleType:
    import retrograd.nn as nn

    module = types.ModuleType(f"{__name__}.{name}", f"Layers PyTorch keeps in nn.modules.{name}.")
    for class_name in class_names.split():
        if hasattr(nn, class_name):
            setattr(module, class_name, getattr(nn, class_name))
    sys.modules[module.__name__] = module
    return module


for _name, _classes in _LAYOUT.items():
    globals()[_name] = _build(_name, _classes)
del _name, _classes

# Not in ``torch.nn`` itself, only in its file (MultiheadAttention's out_proj class).
from ..attention import NonDynamicallyQuantizableLinear  # noqa: E402

linear.NonDynamicallyQuantizableLinear = NonDynamicallyQuantizableLinear  # noqa: F821

from .. import Module  # noqa: E402  (``nn.modules.Module``, as in PyTorch)
