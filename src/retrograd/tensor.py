"""The Tensor: an array, and the autograd bookkeeping that lets gradients flow back to it.

A tensor holds its values in ``_data`` (a NumPy array) and, when it was produced by a
recorded operation, the node that produced it in ``grad_fn``. Leaves (tensors the user made)
have ``grad_fn = None``; when they require grad, backward accumulates into their ``grad``.

Operators and most methods (``x + y``, ``x.sum()``, ``x.view(...)``) are defined next to their
derivatives in ``retrograd/ops/`` and bound onto this class there; this file holds what every
tensor has regardless of the ops: its attributes, conversions, printing and the autograd API.
"""

from __future__ import annotations

import warnings
import weakref

import numpy as np

from . import dtypes as _dt
from . import grad_mode
from ._base_views import follow_base
from ._tensor_str import tensor_repr
from ._types import CPU, Size, device

_state = grad_mode.state


_engine_backward = None
_new = object.__new__
_ndarray = np.ndarray
_from_np = _dt.FROM_NUMPY


class Tensor:
    """A multi-dimensional array that can record the operations made on it.

    ``Tensor(data)`` builds a float32 tensor like ``torch.Tensor``; use ``retrograd.tensor``
    to infer the dtype from the data.
    """

    __slots__ = ("_data", "_requires_grad", "_grad_fn", "_version_counter", "__weakref__",
                 "__dict__")

    # Set on few tensors, so class-level defaults rather than slots every tensor must fill.
    _grad = None  # the accumulated gradient (leaves, and non-leaves that retain_grad)
    _output_nr = 0  # which output of grad_fn this tensor is
    _base = None  # for views: the tensor whose memory this one shares
    _accumulator = None  # for leaves that require grad: their AccumulateGrad node
    _view_src = None  # for views: (view Function, parent, other args, output index)
    _view_fn = None  # for views: their grad_fn (Note [Stale views]); ``_grad_fn`` stays None
    _fn_version = 0  # for views: the version of their memory when ``_view_fn`` was set
    _no_grad_view = False  # for views: made with grad mode off (or from such a view)
    _fw_grad = None  # the tangent, while a forward-mode dual level is active (forward_ad.py)
    _views = None  # for bases that need no grad: weak references to their views (_base_views.py)
    _own_grad = False  # for views: made to require grad by requires_grad_() (_base_views.py)

    def __init__(self, *args, dtype=None, requires_grad: bool = False) -> None:
        if len(args) == 1 and not isinstance(args[0], int):
            arr = np.array(args[0], dtype=np.float32 if dtype is None else _dt.to_dtype(dtype).np)
        else:  # Tensor(2, 3): uninitialised (here: zeroed) storage of that shape
            arr = np.zeros(args, dtype=np.float32 if dtype is None else _dt.to_dtype(dtype).np)
        _init(self, arr)
        if requires_grad:
            self.requires_grad_(True)

    # ---- what the tensor is -------------------------------------------------------------

    @property
    def dtype(self) -> _dt.dtype:
        return _from_np[self._data.dtype]

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape, or the length of one dimension."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def device(self) -> device:
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def stride(self, dim: int | None = None):
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_wrap_dim(dim, self._data.ndim)]

    def is_contiguous(self) -> bool:
        return self._data.flags.c_contiguous

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    @property
    def _version(self) -> int:
        """How many times this tensor's memory was changed in place (shared with its views)."""
        counter = self._version_counter
        return 0 if counter is None else counter[0]

    def _bump_version(self) -> None:
        """Record an in-place change (see ``Node.saved_tensors``)."""
        counter = self._version_counter
        if counter is None:
            self._version_counter = [1]
        else:
            counter[0] += 1

    # ---- autograd attributes ------------------------------------------------------------
    #
    # Note [Stale views]
    #     A view's history is "the view op applied to its base's history". When the base (or
    #     another view of it) is changed in place, the base's history moves on and the view's
    #     old grad_fn describes values the view no longer holds. So a view keeps its node in
    #     ``_view_fn`` with the version of its memory at that moment (``_fn_version``), and
    #     reading ``grad_fn`` rebuilds the node from the base's current history when the shared
    #     version counter has moved since (as PyTorch does; ``view_history`` in ops/inplace.py).
    #     Non-views keep their node in the plain slot ``_grad_fn``; a view's slot stays None,
    #     so the hot path in ``Function.apply`` (``a._grad_fn or a._accumulator or ...``) reads
    #     one slot for non-views and reaches the check through ``_gradient_edge`` for views.

    @property
    def grad_fn(self):
        """The node that produced this tensor (None for leaves)."""
        fn = self._grad_fn
        if fn is None and self._base is not None:
            return _view_grad_fn(self)
        return fn

    @grad_fn.setter
    def grad_fn(self, fn) -> None:
        if self._base is None:
            self._grad_fn = fn
        else:
            self._view_fn = fn
            self._fn_version = self._version_counter[0]

    def _gradient_edge(self):
        """The node a gradient for this tensor flows into when ``_grad_fn`` is not set: a view's
        (current) grad_fn, else the leaf's AccumulateGrad."""
        if self._base is not None:
            fn = _view_grad_fn(self)
            if fn is not None:
                return fn
            if (self._no_grad_view or self._base._requires_grad) and not self._own_grad:
                return None  # no node, no AccumulateGrad: its gradient is dropped (Note [Views
                # of a base that needs no grad]), unless requires_grad_() made it a leaf
        return self._accumulator or self._get_accumulator()

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Switch recording on (or off) for this leaf, in place; returns self."""
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "requires_grad can only be switched off on leaf tensors; this tensor was "
                f"produced by {type(self.grad_fn).__name__}. Use .detach() to get a copy "
                "of it that does not require grad.")
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients "
                f"(this one is {self.dtype}); convert it first, e.g. with .float().")
        self._requires_grad = bool(requires_grad)
        if self._base is not None:  # Note [Views of a base that needs no grad]
            self._own_grad = self._requires_grad
            self._requires_grad |= self._base._requires_grad
        if self._views is not None:
            follow_base(self)
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self) -> Tensor | None:
        if self.grad_fn is not None and not self.retains_grad:
            warnings.warn(
                "The .grad of a non-leaf tensor is being read; backward() does not fill it "
                "in. Call .retain_grad() on the tensor before backward() if you want its "
                "gradient, or read .grad of the leaf tensor you meant.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad must be a Tensor or None, not {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"assigned grad has shape {list(value.shape)} but the tensor has shape "
                    f"{list(self.shape)}; a gradient must have the shape of its tensor.")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"assigned grad has dtype {value.dtype} but the tensor has dtype "
                    f"{self.dtype}; convert it with .to({self.dtype}) first.")
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        fn = self.grad_fn
        if fn is None or not fn._retained:
            return False
        ref = fn._retained.get(self._output_nr)
        return ref is not None and ref() is self

    def retain_grad(self) -> None:
        """Ask backward to fill in ``.grad`` for this non-leaf tensor too."""
        if not self._requires_grad:
            raise RuntimeError(
                "can't retain_grad on a tensor that has requires_grad=False; it gets no gradient.")
        fn = self.grad_fn
        if fn is None:
            return  # leaves keep their grad anyway
        from .autograd.graph import node_dict

        node_dict(fn, "_retained")[self._output_nr] = weakref.ref(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever the gradient for this tensor is computed.

        The hook may return a new gradient to use instead. Returns a handle whose
        ``remove()`` unregisters it.
        """
        if not self._requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient; call "
                ".requires_grad_() on the leaf first.")
        node = self.grad_fn if self.grad_fn is not None else self._get_accumulator()
        return node._add_tensor_pre_hook(self._output_nr, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after backward has accumulated into this leaf's ``.grad``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        return self._get_accumulator()._add_post_accumulate_hook(hook)

    def _get_accumulator(self):
        """The AccumulateGrad node of this leaf, made on first use (and kept with the tensor)."""
        acc = self._accumulator
        if acc is None:
            from .autograd.graph import AccumulateGrad, registration_lock

            with registration_lock:  # one node even when threads race here (Note [Threads])
                acc = self._accumulator
                if acc is None:
                    acc = self._accumulator = AccumulateGrad(self)
        return acc

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False,
                 inputs=None) -> None:
        """Compute the gradient of this tensor w.r.t. the leaves, accumulating into ``.grad``.

        A non-scalar tensor needs ``gradient`` (the vector of the vector-Jacobian product).
        """
        global _engine_backward
        if _engine_backward is None:  # the engine sits above this module; import it late
            from .autograd.engine import backward as _engine_backward
        _engine_backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """A tensor sharing this one's memory, cut from the graph (never requires grad)."""
        out = _wrap(self._data)
        if self._version_counter is None:  # shared from now on, so it must exist
            self._version_counter = [0]
        out._version_counter = self._version_counter
        return out

    def detach_(self) -> Tensor:
        """Cut this tensor from its graph, in place: it becomes a leaf that needs no grad."""
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError(
                "can't detach_() a view of a tensor that requires grad in place; use "
                ".detach() to get a detached copy instead.")
        self.grad_fn = None
        self._output_nr = 0
        self._requires_grad = False
        if self._views is not None:  # Note [Views of a base that needs no grad]
            follow_base(self)
        return self

    @property
    def data(self) -> Tensor:
        """The values as a tensor outside the graph (shares memory, not the version counter)."""
        return _wrap(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be set to a Tensor, not {type(value).__name__}")
        self._data = value._data
        if self._accumulator is not None:  # gradients must now match the new shape/dtype
            self._accumulator._outputs_meta = ((value._data.shape, value._data.dtype),)

    # ---- conversions ------------------------------------------------------------------

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar; "
                "item() needs exactly one element (index or reduce the tensor first).")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as a NumPy array sharing memory with this tensor."""
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)``: the tensor's own array (no copy) unless ``dtype`` or ``copy``
        ask for one; like ``numpy()``, refused for a tensor that requires grad."""
        if self._requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead.")
        arr = self._data
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            if copy is False:
                raise ValueError(f"Unable to avoid copy while creating an array of dtype "
                                 f"{np.dtype(dtype)} from a tensor of dtype {self.dtype}.")
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """A DLPack capsule of the values, sharing memory (``torch.from_dlpack(t)``,
        ``np.from_dlpack(t)``); made by NumPy's exporter."""
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        if stream not in (None, -1):
            raise BufferError(f"stream must be None (or -1) for a CPU tensor, not {stream!r}")
        arr = self._data
        if any(s < 0 for s in arr.strides):  # no negative strides in DLPack consumers we know
            if copy is False:
                raise BufferError("a tensor with negative strides can't be exported without a "
                                  "copy; call .contiguous() first")
            arr = arr.copy()
        extra = {k: v for k, v in (("max_version", max_version), ("dl_device", dl_device),
                                   ("copy", copy)) if v is not None}
        return arr.__dlpack__(**extra)

    def __dlpack_device__(self) -> tuple:
        return (1, 0)  # (kDLCPU, device 0)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} elements is ambiguous; use "
                ".any() or .all() to reduce it first.")
        return bool(self._data.reshape(()).item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        if self._data.__class__ is not _ndarray and hasattr(self._data, "batched_repr"):
            return self._data.batched_repr()  # inside vmap (retrograd/func/_batched_array.py)
        try:
            fn = self.grad_fn
            name = None if fn is None else type(fn).__name__
        except RuntimeError:  # a view whose history can't be rebuilt (PyTorch prints this too)
            name = "Invalid"
        return tensor_repr(self._data, self.dtype.name, grad_fn_name=name,
                           requires_grad=self._requires_grad,
                           default_dtype_name=_dt.get_default_dtype().name,
                           tangent=None if self._fw_grad is None else _tangent_str(self._fw_grad))

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and spec:
            return format(self.item(), spec)
        return repr(self)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._data, self._requires_grad))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol; detach() the tensor first.")
        out = _wrap(self._data.copy(), requires_grad=self._requires_grad)
        if self._grad is not None:
            out._grad = _wrap(self._grad._data.copy())
        memo[id(self)] = out
        return out


def _tangent_str(t: Tensor) -> str:
    """A dual tensor's tangent as its repr shows it (a 0-d one as a number, as PyTorch)."""
    return str(t._data.item()) if t._data.ndim == 0 else repr(t)


def _init(t: Tensor, data) -> None:
    t._data = data
    t._requires_grad = False
    t._grad_fn = None
    t._version_counter = None


_view_history = None


def _view_grad_fn(view: Tensor):
    """A view's grad_fn, rebuilt if its memory changed since it was set (Note [Stale views])."""
    fn = view._view_fn
    if view._fn_version == view._version_counter[0] or (
            fn is None and not view._base._requires_grad):
        return fn
    global _view_history
    if _view_history is None:  # the ops sit above this module; import them late
        from .ops.inplace import view_history as _view_history
    return _view_history(view)


def _wrap(data, grad_fn=None, requires_grad: bool = False, output_nr: int = 0,
          cls=Tensor) -> Tensor:
    """Make a tensor around an array without copying (the fast path every op uses)."""
    if data.__class__ is not _ndarray:
        data = np.asarray(data)
    t = _new(cls)
    t._data = data
    t._requires_grad = requires_grad
    t._grad_fn = grad_fn
    t._version_counter = None  # made on the first in-place change or view (see _bump_version)
    if output_nr:
        t._output_nr = output_nr
    return t


def _rebuild(data, requires_grad):
    return _wrap(data, requires_grad=requires_grad)


def _wrap_dim(dim: int, ndim: int) -> int:
    """Turn a possibly negative dim into an index, with PyTorch's IndexError when out of range."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim
