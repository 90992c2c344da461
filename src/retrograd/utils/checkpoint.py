"""Activation checkpointing: keep a block's inputs, recompute its insides during backward.

``checkpoint(fn, *args, use_reentrant=False)`` runs ``fn`` under ``saved_tensors_hooks`` whose
pack hook keeps only a ticket (a number) for each tensor an op saves; the first time backward
unpacks one, ``fn`` runs again on the same inputs (with grad mode on and, by default, the random
number generator put back where it was, so dropout draws the same mask), and the tensors that
run saves are handed out by ticket, each freed once used. ``use_reentrant=True`` is the other
method: ``fn`` runs under ``no_grad`` inside a Function whose backward reruns it with grad and
backpropagates through that fresh graph. As in PyTorch, leaving ``use_reentrant`` out warns
and picks the reentrant method.
"""

from __future__ import annotations

import warnings

from .. import grad_mode
from ..autograd import engine as _engine
from ..autograd.engine import backward as _backward
from ..autograd.function import Function
from ..autograd.graph import saved_tensors_hooks
from ..creation import default_generator
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


def _warn_use_reentrant(where: str) -> None:
    warnings.warn(
        f"{where}: the use_reentrant parameter should be passed explicitly. Starting in "
        "PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
        "use_reentrant=False is recommended, but if you need to preserve the current default "
        "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
        "differences between the two variants.", stacklevel=3)


def checkpoint(function, *args, use_reentrant: bool | None = None, context_fn=None,
               determinism_check: str = "default", debug: bool = False,
               early_stop: bool = True, **kwargs):
    """Run ``function(*args, **kwargs)`` keeping only its inputs for backward, which reruns it.

    ``preserve_rng_state`` (a keyword, default True) puts the random number generator back to
    its state before the forward when rerunning, so random ops draw the same numbers.
    """
    if use_reentrant is None:
        _warn_use_reentrant("torch.utils.checkpoint")
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not None or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        return _CheckpointFunction.apply(function, preserve, *args)
    if context_fn is not None:
        raise NotImplementedError("checkpoint: context_fn is not supported by retrograd; leave "
                                  "it out.")
    return _checkpoint_hooks(function, preserve, args, kwargs)


# ---- without reentrant backward: saved tensor hooks ------------------------------------------


class _Frame:
    """One checkpointed call: how to rerun it, and the tensors the rerun saved (by ticket)."""

    def __init__(self, function, preserve: bool, args: tuple, kwargs: dict) -> None:
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rng = default_generator.get_state() if preserve else None
        self.count = 0  # tickets handed out by the first run
        self.meta: list = []  # (shape, dtype) of each, to check the rerun against
        self.recomputed: list | None = None

    def pack(self, t: Tensor) -> int:
        ticket = self.count
        self.count += 1
        self.meta.append((t._data.shape, t._data.dtype))
        return ticket

    def unpack(self, ticket: int) -> Tensor:
        if self.recomputed is None or self.recomputed[ticket] is None:
            self.recompute()
        t = self.recomputed[ticket]
        self.recomputed[ticket] = None  # each saved tensor is read once per backward
        return t

    def recompute(self) -> None:
        saved: list = []

        def keep(t: Tensor) -> Tensor:
            saved.append(t.detach() if t._requires_grad else t)
            return saved[-1]

        outer = default_generator.get_state() if self.rng is not None else None
        try:
            if self.rng is not None:
                default_generator.set_state(self.rng)
            with grad_mode.enable_grad(), saved_tensors_hooks(keep, _no_unpack):
                self.function(*self.args, **self.kwargs)
        finally:
            if outer is not None:
                default_generator.set_state(outer)
        if len(saved) != self.count:
            raise RuntimeError(
                "torch.utils.checkpoint: A different number of tensors was saved during the "
                f"original forward and recomputation (recomputation saved {len(saved)}, the "
                f"original forward {self.count}). The checkpointed function must do the same "
                "ops when it runs again on the same inputs.")
        for i, (t, (shape, dtype)) in enumerate(zip(saved, self.meta)):
            if t._data.shape != shape or t._data.dtype != dtype:
                raise RuntimeError(
                    "torch.utils.checkpoint: Recomputed values for the following tensors have "
                    f"different metadata than during the forward pass.\ntensor at position {i}:"
                    f"\nsaved metadata: shape {list(shape)}, dtype {dtype}\nrecomputed "
                    f"metadata: shape {list(t.shape)}, dtype {t._data.dtype}\nThe checkpointed "
                    "function must do the same ops when it runs again on the same inputs.")
        self.recomputed = saved


def _no_unpack(t: Tensor) -> Tensor:
    return t


def _checkpoint_hooks(function, preserve: bool, args: tuple, kwargs: dict):
    frame = _Frame(function, preserve, args, kwargs)
    with saved_tensors_hooks(frame.pack, frame.unpack):
        return function(*args, **kwargs)


# ---- reentrant: a Function whose backward reruns the forward ---------------------------------


class _CheckpointFunction(Function):
    """out = function(*args), run without a graph; backward reruns it with one and
    backpropagates through that graph."""

    @staticmethod
    def forward(ctx, function, preserve, *args):
        ctx.function = function
        ctx.rng = default_generator.get_state() if preserve else None
        ctx.tensor_slots = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.others = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        if not any(a.requires_grad for a in args if isinstance(a, Tensor)):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          stacklevel=4)
        return function(*args)

    @staticmethod
    def backward(ctx, *grads):
        if _engine._capturing and _engine._capturing[-1]:
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() "
                "or passing an `inputs` parameter to .backward(). To resolve this error, you "
                "can either set use_reentrant=False, or call .backward() without passing the "
                "`inputs` argument.")
        tensors = ctx.saved_tensors
        args = list(ctx.others)
        detached = []
        for i, t in zip(ctx.tensor_slots, tensors):
            d = t.detach()
            d.requires_grad_(t.requires_grad)
            args[i] = d
            detached.append(d)
        outer = default_generator.get_state() if ctx.rng is not None else None
        try:
            if ctx.rng is not None:
                default_generator.set_state(ctx.rng)
            with grad_mode.enable_grad():
                outs = ctx.function(*args)
        finally:
            if outer is not None:
                default_generator.set_state(outer)
        outs = outs if isinstance(outs, tuple) else (outs,)
        pairs = [(o, g) for o, g in zip(outs, grads)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not "
                               "necessary")
        _backward([o for o, _ in pairs], [g for _, g in pairs])
        result = [None] * len(args)
        for i, d in zip(ctx.tensor_slots, detached):
            result[i] = d.grad if d.requires_grad else None
        return (None, None, *result)


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool | None = None,  # noqa: A002
                          **kwargs):
    """Run ``functions`` (a list or ``nn.Sequential``) in order on ``input``, checkpointing all
    but the last of ``segments`` equal segments."""
    if use_reentrant is None:
        _warn_use_reentrant("torch.utils.checkpoint.checkpoint_sequential")
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    from ..nn import Sequential

    if isinstance(functions, Sequential):
        functions = list(functions.children())

    def run(start: int, end: int):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant,  # noqa: A001
                           preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)
