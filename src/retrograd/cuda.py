"""``retrograd.cuda``: what ``torch.cuda`` says on a machine without a GPU backend.

Programs ask ``torch.cuda.is_available()`` and pick ``'cuda' if ... else 'cpu'``; here the
answer is always no. The queries answer as PyTorch built without CUDA does (``False``, ``0``,
seeding is a no-op), and anything that needs a GPU raises the same error as PyTorch's
(an ``AssertionError``; also a ``RuntimeError`` here, so either ``except`` catches it).
"""

from __future__ import annotations


class NoGPUBackendError(AssertionError, RuntimeError):
    """Raised for any use of a CUDA device: retrograd computes on the CPU only."""


def no_gpu_error(what="cuda") -> NoGPUBackendError:
    return NoGPUBackendError(
        f"Torch not compiled with CUDA enabled: retrograd has no GPU backend, so {what!s} is "
        "not available; it runs on the cpu only. Use device='cpu' (or pick it with "
        "device = 'cuda' if torch.cuda.is_available() else 'cpu').")


def check_device(device) -> None:
    """Raise unless ``device`` (a string, a ``retrograd.device`` or None) is the cpu."""
    if device is None:
        return
    kind = getattr(device, "type", None) or str(device).split(":")[0]
    if kind == "cpu":
        return
    if kind == "cuda":
        raise no_gpu_error(f"device '{device}'")
    raise RuntimeError(f"device {device} is not available; retrograd runs on the cpu only")


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """A no-op: there is no GPU generator to seed (as in PyTorch without CUDA)."""


def manual_seed_all(seed: int) -> None:
    """A no-op: there is no GPU generator to seed (as in PyTorch without CUDA)."""


def seed() -> None:
    """A no-op, as in PyTorch without CUDA."""


def seed_all() -> None:
    """A no-op, as in PyTorch without CUDA."""


def empty_cache() -> None:
    """A no-op: there is no GPU memory to release."""


def memory_allocated(device=None) -> int:
    return 0


def _needs_gpu(name: str):
    def fn(*args, **kwargs):
        raise no_gpu_error(f"torch.cuda.{name}()")

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = "Raises: it needs a GPU, and retrograd has none."
    return fn


synchronize = _needs_gpu("synchronize")
current_device = _needs_gpu("current_device")
get_device_name = _needs_gpu("get_device_name")
get_device_capability = _needs_gpu("get_device_capability")
get_device_properties = _needs_gpu("get_device_properties")
set_device = _needs_gpu("set_device")
initial_seed = _needs_gpu("initial_seed")
get_rng_state = _needs_gpu("get_rng_state")
set_rng_state = _needs_gpu("set_rng_state")
