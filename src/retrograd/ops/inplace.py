"""How in-place ops (``add_``, ``mul_``, ``x[i] = v``, ...) enter the graph: the version counter,
writes through views, and views whose base changed (the methods users call are in
inplace_methods.py).

Note [In-place ops in the graph]
    An in-place op writes its result into the tensor's own memory (so views see the change) and
    bumps the version counter shared by the tensor and its views; a node that saved the tensor
    earlier then refuses to run backward (see ``Node.saved_tensors``).
    When the op must be recorded, it is computed out of place on a snapshot of the old values,
    the result is written back, and the tensor takes the new node as its ``grad_fn``. The
    snapshot keeps the old values alive for backward formulas that need them (as PyTorch keeps
    ``original_self``).
    A leaf that requires grad may not be changed in place while grad mode is on: its ``.grad``
    would no longer describe the values it holds.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.array_utils import byte_bounds as _byte_bounds

from .. import grad_mode
from .._base_views import follow_base
from ..autograd.forward_ad import linear_jvp, set_tangent, without_dual
from ..autograd.function import Function, dual
from ..autograd.graph import SavedOutput
from ..tensor import Tensor, _wrap
from .promotion import broadcast_error

_state = grad_mode.state


def _check_leaf(x: Tensor) -> None:
    base = x._base
    if base is None:
        fn = x._grad_fn
    else:  # the view's node as last set, not rebuilt (PyTorch's check); a view of a leaf that
        fn = x._view_fn  # requires grad gets its own error (in _inplace_on_view)
        if fn is None and base._grad_fn is None and base._requires_grad:
            return
    if fn is None and x._requires_grad:
        if base is not None and base._grad_fn is None:  # made a leaf by requires_grad_()
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation (requires_grad_() made this view a leaf). Do the update under "
                "`with torch.no_grad():`, or clone() the view first.")
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation. Do the "
            "update under `with torch.no_grad():` (as optimizers do), or use an out-of-place "
            "op.")


def _write(x: Tensor, result: np.ndarray, overlap_ok: bool = False) -> None:
    """Copy ``result`` into x's memory, with PyTorch's shape and dtype checks."""
    dst = x._data
    if result.shape != dst.shape:
        check_broadcasts_to(result.shape, dst.shape)
    if result.dtype != dst.dtype and not np.can_cast(result.dtype, dst.dtype, "same_kind"):
        raise RuntimeError(
            f"result type {_type_name(result.dtype)} can't be cast to the desired output type "
            f"{_type_name(dst.dtype)}; convert the tensor first (e.g. .float()) or use an "
            "out-of-place op.")
    np.copyto(writable_array(x, overlap_ok), result, casting="unsafe")


def check_broadcasts_to(shape: tuple, target: tuple) -> None:
    """Raise PyTorch's error unless ``shape`` broadcasts to exactly ``target`` (the shape of
    the tensor an in-place op or ``copy_`` writes to)."""
    try:
        full = np.broadcast_shapes(shape, target)
    except ValueError:
        raise broadcast_error(target, shape) from None
    if full != target:
        raise RuntimeError(
            f"output with shape {list(target)} doesn't match the broadcast shape {list(full)}; "
            "an in-place op cannot change the shape of the tensor it writes to.")


def _overlaps(a: np.ndarray) -> bool:
    """Whether two elements of ``a`` share one memory location (a dim expanded from size 1)."""
    return any(st == 0 and n > 1 for n, st in zip(a.shape, a.strides)) and a.size > 1


def _overlap_error() -> RuntimeError:
    return RuntimeError(
        "unsupported operation: more than one element of the written-to tensor refers to a "
        "single memory location (it was made by expand()). Please clone() the tensor before "
        "performing the operation.")


def _dense(a: np.ndarray) -> bool:
    """Whether ``a``'s elements fill a block of memory once each (in some order of dims)."""
    size = a.itemsize
    for st, n in sorted((abs(st), n) for n, st in zip(a.shape, a.strides) if n > 1):
        if st != size:
            return False
        size *= n
    return True


def torch_strides(a: np.ndarray) -> tuple:
    """``a``'s strides as PyTorch would give the same view: a size-1 dim made by indexing
    with None has stride 0 in NumPy, and unsqueeze's (the next dim's size times its stride)
    in PyTorch, whose overlap checks compare strides as given."""
    out = list(a.strides)
    nxt = a.itemsize
    for i in range(a.ndim - 1, -1, -1):
        if a.shape[i] == 1 and out[i] == 0:
            out[i] = nxt
        nxt = out[i] * a.shape[i]
    return tuple(out)


def _steps(a: np.ndarray) -> tuple:
    return tuple(st for n, st in zip(a.shape, a.strides) if n > 1)


def check_source_overlap(dst: np.ndarray, src, full_ok: bool = True) -> None:
    """Raise PyTorch's error when an in-place write reads ``src`` from memory that partly
    overlaps the destination ``dst`` (or, unless ``full_ok``, is exactly it). As in PyTorch,
    only dense layouts are compared (anything else is too hard to tell, and allowed)."""
    if not isinstance(src, np.ndarray) or not dst.size or not src.size:
        return
    if not (_dense(dst) and _dense(src)) or not np.may_share_memory(dst, src):
        return
    lo_d, hi_d = _byte_bounds(dst)
    lo_s, hi_s = _byte_bounds(src)
    if lo_d == lo_s and hi_d == hi_s and dst.size == src.size and full_ok and (
            _steps(dst) == _steps(src)):
        return
    if lo_d < hi_s and lo_s < hi_d:
        raise overlap_error()


def overlap_error() -> RuntimeError:
    """PyTorch's error for an operand that overlaps the memory an in-place op writes."""
    return RuntimeError(
        "unsupported operation: some elements of the input tensor and the written-to tensor "
        "refer to a single memory location. Please clone() the tensor before performing the "
        "operation.")


def _writable(a: np.ndarray, overlap_ok: bool = False) -> np.ndarray | None:
    """``a``, or a writable alias of its memory; None when a write can't be allowed.

    NumPy marks every broadcast view read-only, but PyTorch refuses a write only where two
    elements share a memory location (``arange(4.).expand(1, 4).mul_(2)`` is allowed), and
    not even there for a fill, which writes one value everywhere (``overlap_ok``).
    """
    if a.flags.writeable:
        return a
    if not overlap_ok and _overlaps(a):
        return None
    alias = a.view()
    try:
        alias.flags.writeable = True
    except ValueError:  # memory that is read-only itself
        return None
    return alias


def broadcasts_to(shape: tuple, target: tuple) -> bool:
    """Whether ``shape`` broadcasts to exactly ``target`` (as an in-place write needs)."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def needs_record(x: Tensor, value) -> bool:
    """Whether writing ``value`` (a tensor or a number) into x must be recorded in the graph."""
    if dual.level and _dual_write(x, (value,)):  # (a tangent to update: apply_inplace does)
        return True
    if not _state.enabled:
        return False
    record = x._requires_grad or (isinstance(value, Tensor) and value._requires_grad)
    if x._no_grad_view and (record or x._base._requires_grad):
        raise _no_grad_view_error("is being modified inplace")
    return record


def writable_array(x: Tensor, overlap_ok: bool = False) -> np.ndarray:
    """x's memory as an array to write to; raises PyTorch's error for an overlapping x."""
    dst = _writable(x._data, overlap_ok)
    if dst is None:
        raise _overlap_error()
    return dst


def _type_name(np_dtype) -> str:
    names = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
             "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
    return names.get(np.dtype(np_dtype).name, str(np_dtype))


def apply_inplace(x: Tensor, fn, *args, overlap_ok: bool = False) -> Tensor:
    """Run the out-of-place ``fn(x, *args)`` and make its result x's new value (and history).

    ``overlap_ok``: the op writes one value everywhere (a fill), so x may be an expanded view
    whose elements share memory locations.
    """
    if dual.level and _dual.results is None and _dual_write(x, args):  # Note [In-place dual]
        return inplace_dual(x, fn, args, overlap_ok)
    record = False
    if _state.enabled:
        record = x._requires_grad or any(
            isinstance(a, Tensor) and a._requires_grad for a in args)
        if x._no_grad_view and (record or x._base._requires_grad):
            raise _no_grad_view_error("is being modified inplace")
        _check_leaf(x)
    if not record:
        result = _without_grad(fn, x, *args)
        if _dual.results is not None:
            _dual.results.append(result)
        _write(x, result._data, overlap_ok)
        x._bump_version()
        return x
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"an in-place op that needs a gradient can't write into a {x.dtype} tensor; "
            "convert it to a floating-point dtype first.")
    if x._base is not None:
        return _inplace_on_view(x, fn, args, overlap_ok)
    snapshot = _snapshot(x)
    result = fn(snapshot, *args)
    if _dual.results is not None:
        _dual.results.append(result)
    _write(x, result._data)
    x._bump_version()
    _take_history(x, result)
    _saved_output_follows(result, x)
    return x


def _dual_write(x: Tensor, args) -> bool:
    """Whether an in-place op on x changes a tangent: x, its base or a value written has one."""
    return (x._fw_grad is not None or (x._base is not None and x._base._fw_grad is not None)
            or any(isinstance(a, Tensor) and a._fw_grad is not None for a in args))


class _DualInplace:
    """While ``inplace_dual`` runs ``apply_inplace``'s own path: the list that path appends its
    out-of-place result to (None otherwise)."""

    results = None


_dual = _DualInplace()


def inplace_dual(x: Tensor, fn, args, overlap_ok: bool) -> Tensor:
    """``apply_inplace`` while a dual level is active.

    Note [In-place dual]
        The op runs ``apply_inplace``'s usual path with forward mode on: the snapshot of the old
        values carries a copy of the old tangent, so the result (and every node recorded for
        it) carries tangents too, and a backward run in the level through that graph
        (forward-over-reverse) sees them. The result's tangent, the tangent of ``fn(x, *args)``
        at x's old value, is then written into x's tangent in place, so views of x (and x's
        base, if x is a view: its tangent is made first, zeros, when it has none) follow.
    """
    base = x._base
    if base is not None and x._fw_grad is None:
        _tangent_as_view_of_base(x, base)
    _dual.results = results = []
    try:
        apply_inplace(x, fn, *args, overlap_ok=overlap_ok)
    finally:
        _dual.results = None
    new_tangent = results[-1]._fw_grad
    tangent = x._fw_grad
    if tangent is None:
        if new_tangent is not None:
            set_tangent(x, new_tangent)
    elif new_tangent is None:
        without_dual(tangent.zero_)
    else:
        without_dual(tangent.copy_, new_tangent)
    return x


def _tangent_as_view_of_base(x: Tensor, base: Tensor) -> None:
    """Give the view x (without a tangent) the same view of its base's tangent (zeros made for
    a base without one)."""
    if base._fw_grad is None:
        set_tangent(base, _wrap(np.zeros_like(base._data)))
    set_tangent(x, without_dual(replay, base._fw_grad, view_chain(x)))


def _base_snapshot(base: Tensor, x: Tensor, chain: tuple) -> Tensor:
    """The snapshot of a view's base; in a dual level, where only the view has a tangent (a
    dual from make_dual is a view of its primal), one that is x's tangent in x's region."""
    snapshot = _snapshot(base)
    if dual.level and snapshot._fw_grad is None and x._fw_grad is not None:
        zeros = _wrap(np.zeros_like(base._data))
        set_tangent(snapshot, without_dual(CopyViewIntoBase.apply, zeros, x._fw_grad, chain))
    return snapshot


def _without_grad(fn, *args):
    """``fn(*args)`` with grad mode off (what ``no_grad`` does, without a context object)."""
    prev = _state.enabled
    _state.enabled = False
    try:
        return fn(*args)
    finally:
        _state.enabled = prev


def _snapshot(x: Tensor) -> Tensor:
    """A copy of x's values that carries x's place in the graph (its grad_fn), and a copy of
    its tangent while a dual level is active (Note [In-place dual])."""
    s = _wrap(x._data.copy(), x.grad_fn, x._requires_grad, x._output_nr)
    if dual.level and x._fw_grad is not None:
        set_tangent(s, without_dual(x._fw_grad.clone))
    return s


def _take_history(x: Tensor, t: Tensor) -> None:
    """x takes t's place in the graph (x now holds t's values)."""
    x.grad_fn = t.grad_fn
    x._output_nr = t._output_nr
    x._requires_grad = t._requires_grad
    if x._views is not None:  # Note [Views of a base that needs no grad]
        follow_base(x)


def _saved_output_follows(result: Tensor, x: Tensor) -> None:
    """If result's node saved result (exp_, tanh_, ...), check x's memory from now on.

    The in-place op wrote result's values into x, so x is the output the node saved: a later
    in-place change of x (or of a view sharing its memory) must make backward raise, as it does
    for an out-of-place output (Note [Saved outputs] in autograd/graph.py).
    """
    node = result.grad_fn
    saved = None if node is None else node._packed
    if saved is None or result._version_counter is None:
        return
    counter = x._version_counter
    if saved.__class__ is np.ndarray:  # only the output was saved
        node._packed = (SavedOutput(saved, result._output_nr, counter),)
        node._packed_versions = (counter[0],)
        return
    old = result._version_counter
    versions = list(node._packed_versions or (0,) * len(saved))
    packed = list(saved)
    for j, s in enumerate(saved):
        if s.__class__ is SavedOutput and s.version_counter is old:
            packed[j] = SavedOutput(s.data, s.output_nr, counter)
            versions[j] = counter[0]
    node._packed = tuple(packed)
    node._packed_versions = tuple(versions)


# ---- in-place ops on views ---------------------------------------------------------------------
#
# Note [In-place on views]
#     Writing into a view changes its base too, so the base's history must change: the base
#     becomes CopyViewIntoBase(old base, new view values), whose node PyTorch names CopySlices.
#     Every view remembers how it was made from its parent (``_view_src``), so the same chain of
#     view ops can be replayed on a snapshot of the base (to compute the new values), on the
#     result array (to find the region to write) and on gradients (in CopyViewIntoBase's
#     backward).


def view_chain(view: Tensor) -> tuple:
    """The view ops that make ``view`` from its base, base first: (Function, args, output)."""
    chain = []
    t = view
    while t._view_src is not None:
        cls, parent, rest, i = t._view_src
        chain.append((cls, rest, i))
        t = parent
    return tuple(reversed(chain))


def replay(t: Tensor, chain: tuple) -> Tensor:
    """Apply the view ops of ``chain`` to ``t`` (recorded when grad mode is on)."""
    for cls, rest, i in chain:
        out = cls.apply(t, *rest)
        t = out[i] if isinstance(out, tuple) else out
    return t


# Note [Views made under no_grad]
#     A view made with grad mode off (or a view of such a view) records no node. As in PyTorch,
#     it still requires grad when its base does, but it is a leaf without an AccumulateGrad: a
#     gradient reaching it is dropped. Whether an in-place op through it, or on its base, should
#     then be recorded is ambiguous, so a recorded in-place write into it raises, and so does
#     reading its grad_fn once its memory has changed while the base requires grad.


def view_history(view: Tensor):
    """A view's grad_fn rebuilt from its base's current history: the view ops replayed on the
    base (Note [Stale views] in tensor.py). Recorded whatever the grad mode, as in PyTorch."""
    if view._no_grad_view:
        raise _no_grad_view_error("its base or another view of its base has been modified "
                                  "inplace")
    if _of_multi_output(view):
        raise _multi_output_error(view, "its base or another view of its base has been "
                                        "modified inplace")
    prev = _state.enabled
    _state.enabled = True
    try:
        t = _view_of_base(view._base, view_chain(view), view._data)
    finally:
        _state.enabled = prev
    old, old_nr = view._view_fn, view._output_nr
    ref = None if old is None or not old._retained else old._retained.get(old_nr)
    fn = t.grad_fn
    view._view_fn = fn
    view._fn_version = view._version_counter[0]
    view._output_nr = t._output_nr
    view._requires_grad = t._requires_grad
    if ref is not None and ref() is view:  # retain_grad() moves to the new node
        del old._retained[old_nr]
        view.retain_grad()
    return fn


def _of_multi_output(view: Tensor) -> bool:
    """Whether a view op on the way from the base returned several views (split, unbind)."""
    t = view
    while t._view_src is not None:
        cls, t = t._view_src[:2]
        if getattr(cls, "_multi_output_view", False):
            return True
    return False


def _no_grad_view_error(what: str) -> RuntimeError:
    """See Note [Views made under no_grad]."""
    return RuntimeError(
        f"A view was created in no_grad mode and {what} with grad mode enabled. Given that "
        "this use case is ambiguous and error-prone, it is forbidden. You can clarify your code "
        "by moving both the view and the inplace either both inside the no_grad block (if you "
        "don't want the inplace to be tracked) or both outside (if you want the inplace to be "
        "tracked).")


def _multi_output_error(view: Tensor, what: str) -> RuntimeError:
    cls, _, _, i = view._view_src
    name = cls._backward_cls.__name__
    name = name[:name.rindex("Backward")] if "Backward" in name else name
    return RuntimeError(
        f"Output {i} of {name} is a view and {what}. This view is the output of a function "
        "that returns multiple views. Such functions do not allow the output views to be "
        "modified inplace. You should replace the inplace operation by an out-of-place one.")


def _view_of_base(base: Tensor, chain: tuple, view_data: np.ndarray) -> Tensor:
    """The view that ``chain`` makes of ``base``, recorded as one node (AsStridedBackward0, as
    PyTorch names a view's rebuilt history) unless its elements overlap (an expand): then as
    the chain of view ops itself, whose backward sums over the repeats."""
    if _overlaps(view_data):
        return replay(base, chain)
    return ViewOfBase.apply(base, chain)


class ViewOfBase(Function):
    """out = the view of base that a chain of view ops makes (elements that don't overlap);
    dbase = zeros with grad written into that view's places"""

    node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, base, chain):
        ctx.chain = chain
        ctx.base_meta = (base._data.shape, base._data.dtype)
        return _without_grad(replay, _wrap(base._data), chain)._data

    @staticmethod
    def backward(ctx, grad):
        shape, dtype = ctx.base_meta
        zeros = _wrap(np.zeros(shape, np.result_type(dtype, grad._data.dtype)))
        if not grad._data.size:  # an empty view: zeros, outside any graph (as PyTorch)
            return zeros, None
        return CopyViewIntoBase.apply(zeros, grad, ctx.chain), None

    jvp = linear_jvp


class CopyViewIntoBase(Function):
    """out = base with the region given by a view chain replaced by v;
    dbase = grad with that region zeroed,  dv = grad's region"""

    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, v, chain):
        out = base._data.copy()
        region = _without_grad(replay, _wrap(out), chain)._data
        ctx.overlaps = _overlaps(region)  # only a fill writes there (see apply_inplace)
        region = _writable(region, overlap_ok=True)
        if region is None:
            raise _overlap_error()
        if region.size and not np.shares_memory(region, out):
            raise RuntimeError(
                "unsupported operation: this view can't be written to in place (an op on the "
                "way from its base copies). Please clone() the tensor before performing the "
                "operation.")
        np.copyto(region, v._data, casting="unsafe")
        ctx.chain = chain
        ctx.v_shape = v._data.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        need_base, need_v = ctx.needs_input_grad[:2]
        gbase = gv = None
        if not grad._data.flags.c_contiguous:  # the layout forward replayed the views on
            grad = grad.contiguous()  # (PyTorch copies grad into the base's strides first)
        if need_base:
            if ctx.overlaps:  # which write won, where elements share memory? (PyTorch too)
                raise _overlap_error()
            region_shape = replay(grad.detach(), ctx.chain)._data.shape
            zeros = _wrap(np.zeros(region_shape, grad._data.dtype))
            gbase = CopyViewIntoBase.apply(grad, zeros, ctx.chain)
        if need_v:
            gv = replay(grad, ctx.chain)
        return gbase, gv, None

    jvp = linear_jvp


def _inplace_on_view(x: Tensor, fn, args, overlap_ok: bool) -> Tensor:
    """An in-place op on a view: the view's base gets the new history (Note [In-place on views])."""
    base = x._base
    if base.grad_fn is None and base._requires_grad:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place "
            "operation. Do the update under `with torch.no_grad():`, or clone() the leaf first.")
    if _of_multi_output(x):
        raise _multi_output_error(x, "is being modified inplace")
    if not overlap_ok and _overlaps(x._data):
        raise _overlap_error()
    chain = view_chain(x)
    base_snapshot = _base_snapshot(base, x, chain)
    result = fn(replay(base_snapshot, chain), *args)
    if _dual.results is not None:
        _dual.results.append(result)
    if result._data.shape != x._data.shape:
        _write(x, result._data)  # raises the shape error
    new_base = CopyViewIntoBase.apply(base_snapshot, result, chain)
    np.copyto(base._data, new_base._data)
    base._bump_version()
    _take_history(base, new_base)
    _take_history(x, _view_of_base(base, chain, x._data))  # a view of the new base
    _saved_output_follows(result, base)
    return x
