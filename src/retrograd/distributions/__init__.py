"""``retrograd.distributions``: probability distributions with differentiable ``log_prob`` and
``entropy`` (PyTorch's ``torch.distributions`` API). The policy-gradient programs sample an
action from ``Categorical(probs)`` and backpropagate through ``log_prob(action)``."""

from .categorical import Categorical
from .distribution import Distribution

__all__ = ["Categorical", "Distribution"]
