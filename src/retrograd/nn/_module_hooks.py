"""Calling a module: ``forward`` between its forward hooks, and the registration of forward
and full backward hooks.

``Module`` inherits these methods from ``_ModuleHooks``; the hook dicts themselves are made by
``Module.__init__``. The backward hooks run from identity nodes around the call
(``_backward_hooks.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from .. import grad_mode
from ..autograd.graph import RemovableHandle
from ._backward_hooks import _BackwardHook

_state = grad_mode.state
_hook_ids = itertools.count()


def _add_hook(hooks: dict, hook: Callable, prepend: bool) -> RemovableHandle:
    key = next(_hook_ids)
    if prepend:  # rebuild in place: the handle keeps a reference to this very dict
        rest = list(hooks.items())
        hooks.clear()
        hooks[key] = hook
        hooks.update(rest)
    else:
        hooks[key] = hook
    return RemovableHandle(hooks, key)


class _ModuleHooks:
    """The calling and hook half of ``Module``."""

    # ---- calling: forward between hooks -----------------------------------------------

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        try:
            hooked = (d["_forward_pre_hooks"] or d["_forward_hooks"] or d["_backward_hooks"]
                      or d["_backward_pre_hooks"])
        except KeyError:
            raise AttributeError(
                f"'{type(self).__name__}' object has no attribute '_forward_hooks': its "
                "__init__ must call super().__init__() before anything else.") from None
        if not hooked:
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        for key, hook in tuple(self._forward_pre_hooks.items()):
            if key in self._forward_pre_hooks_with_kwargs:
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple of (new_args, "
                            f"new_kwargs), but got {res}.")
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        bw = None
        if (self._backward_hooks or self._backward_pre_hooks) and _state.enabled:
            bw = _BackwardHook(self)
            args = bw.wrap_inputs(args)
        called = set()
        try:
            result = self.forward(*args, **kwargs)
            for key, hook in tuple(self._forward_hooks.items()):
                called.add(key)
                if key in self._forward_hooks_with_kwargs:
                    res = hook(self, args, kwargs, result)
                else:
                    res = hook(self, args, result)
                if res is not None:
                    result = res
        except Exception:
            for key, hook in tuple(self._forward_hooks.items()):
                if key in self._forward_hooks_always_called and key not in called:
                    try:
                        if key in self._forward_hooks_with_kwargs:
                            hook(self, args, kwargs, None)
                        else:
                            hook(self, args, None)
                    except Exception:  # noqa: S110 - the forward error is the one to report
                        pass
            raise
        if bw is not None:
            result = bw.wrap_outputs(result)
        return result

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args)`` runs before forward and may return replacement args
        (``hook(module, args, kwargs)`` returning ``(args, kwargs)`` with ``with_kwargs``)."""
        handle = _add_hook(self._forward_pre_hooks, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle._key)
        return handle

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """``hook(module, args, output)`` runs after forward and may return a new output."""
        handle = _add_hook(self._forward_hooks, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle._key)
        if always_call:
            self._forward_hooks_always_called.add(handle._key)
        return handle

    def register_full_backward_hook(self, hook: Callable,
                                    prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` runs once the gradients w.r.t. the
        module's inputs are computed; it may return a replacement ``grad_input`` tuple."""
        return _add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook: Callable,
                                        prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_output)`` runs when the gradients w.r.t. the module's outputs
        are known; it may return a replacement ``grad_output`` tuple."""
        return _add_hook(self._backward_pre_hooks, hook, prepend)
