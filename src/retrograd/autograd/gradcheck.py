"""Checking gradients against finite differences: ``gradcheck`` and ``gradgradcheck``.

``gradcheck`` builds two Jacobians for every differentiable output and every input that requires
grad, and compares them:

* the numerical one, by central differences ``(f(x + eps) - f(x - eps)) / (2 eps)``, one input
  element at a time (the input's array is changed in place under ``no_grad`` and put back to the
  exact bits it had);
* the analytical one, one row at a time, from vector-Jacobian products: ``autograd.grad`` of the
  output with a one-hot upstream gradient.

Both are float64 NumPy matrices with one row per input element and one column per output
element (PyTorch's layout). ``gradgradcheck`` runs ``gradcheck`` on the function that maps
(inputs, grad_outputs) to the vector-Jacobian product computed with ``create_graph=True``, so it
checks the derivative of every backward formula the function went through.

``fast_mode`` compares one number per (input, output) pair instead of whole matrices:
``v^T J u`` for random vectors ``u`` (over the input) and ``v`` (over the output).

``check_forward_ad`` builds the analytical Jacobian a second way, one column per input element
from forward-mode AD (``autograd.forward_ad``: a one-hot tangent, J u out), and compares it with
the numerical one too; ``check_backward_ad=False`` then skips the reverse-mode checks.
``check_batched_grad`` compares ``autograd.grad(..., is_grads_batched=True)`` with separate
vector-Jacobian products.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..creation import from_numpy, rand
from ..dtypes import float64
from ..grad_mode import enable_grad, no_grad
from ..tensor import Tensor
from . import forward_ad as _fwad
from .engine import grad as _grad

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` and ``gradgradcheck`` when the gradients are wrong."""


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked: bool | None = None) -> bool:
    """Check the gradients ``func`` computes against finite differences, in float64.

    ``inputs`` is a tensor or a tuple of arguments for ``func``; the tensors among them that
    require grad are the ones differentiated. An analytical entry ``a`` and a numerical entry
    ``n`` agree when ``|a - n| <= atol + rtol * |n|``. Returns True, or raises ``GradcheckError``
    naming the output and input whose Jacobians differ (returns False instead when
    ``raise_exception`` is False). ``nondet_tol`` is how far two backward passes on the same
    data may differ.
    """
    _unsupported(check_batched_forward_grad=check_batched_forward_grad, masked=masked)
    inputs = _as_tuple(inputs)
    _check_inputs(inputs)
    try:
        if check_forward_ad:
            _forward_check(func, inputs, eps, atol, rtol, fast_mode)
        if not check_backward_ad:
            return True
        check = _fast_check if fast_mode else _slow_check
        check(func, inputs, eps, atol, rtol, nondet_tol, check_grad_dtypes)
        if check_batched_grad:
            _check_batched_grad(func, inputs)
        if check_undefined_grad:
            _check_zero_upstream(func, inputs)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False,
                  masked: bool = False) -> bool:
    """Check second derivatives: ``gradcheck`` of the vector-Jacobian product of ``func``.

    The product is taken with ``grad_outputs`` (random values in [-1, 1) that require grad,
    one per differentiable output, when not given) and ``create_graph=True``; both the inputs
    and the grad_outputs are then differentiated. Other arguments are as for ``gradcheck``.
    """
    _unsupported(masked=masked)
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError(
            "Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    for flag, name in ((check_undefined_grad, "check_undefined_grad"),
                       (check_batched_grad, "check_batched_grad")):
        if flag and not check_rev_over_rev:
            raise AssertionError(f"Setting {name}=True requires check_rev_over_rev to be True")
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        with enable_grad():
            outs = _differentiable(_outputs(func, inputs))
        grad_outputs = tuple(_random_like(o, gen_non_contig_grad_outputs) for _, o in outs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)

    def vjp(*args):
        xs, gs = args[:n], args[n:]
        outs = [o for _, o in _differentiable(_outputs(func, xs))]
        wrt = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        grads = _grad(outs, wrt, gs, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(vjp, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, check_batched_grad=check_batched_grad,
                     fast_mode=fast_mode, check_forward_ad=check_fwd_over_rev,
                     check_backward_ad=check_rev_over_rev)


# ---- the two modes ---------------------------------------------------------------------------


def _slow_check(func, inputs, eps, atol, rtol, nondet_tol, check_dtypes) -> None:
    wrt = _wrt(inputs)
    diff = _outputs_to_check(func, inputs, wrt, eps)
    if not diff:
        return
    analytical = {j: _analytical_jacobian(out, j, wrt, nondet_tol, check_dtypes)
                  for j, out in diff}
    out_shapes = {j: out._data.shape for j, out in diff}
    del diff  # the graph is no longer needed
    numerical = _numerical_jacobian(func, inputs, wrt, eps)
    worst = None  # (excess over the tolerance, output j, input i, numerical, analytical)
    for j, blocks in analytical.items():
        for (i, _), a, per_output in zip(wrt, blocks, numerical):
            n = per_output[j]
            if not np.allclose(a, n, rtol, atol):
                excess = np.max(_excess(a, n, atol, rtol))
                if worst is None or excess > worst[0]:
                    worst = (excess, j, i, n, a)
    if worst is not None:
        _, j, i, n, a = worst
        shapes = (wrt[[k for k, _ in wrt].index(i)][1]._data.shape, out_shapes[j])
        raise GradcheckError(
            f"Jacobian mismatch for output {j} with respect to input {i},\n"
            f"numerical:{_show(n)}\nanalytical:{_show(a)}\n"
            f"(rows are elements of input {i}, columns elements of output {j}; entries must "
            f"agree within atol={atol} + rtol={rtol} * |numerical|)\n"
            + _worst_element(a, n, atol, rtol, i, j, *shapes))


def _fast_check(func, inputs, eps, atol, rtol, nondet_tol, check_dtypes) -> None:
    wrt = _wrt(inputs)
    diff = _outputs_to_check(func, inputs, wrt, eps)
    if not diff:
        return
    us = [_random_unit(x._data.shape) for _, x in wrt]
    # analytical[j][i] = v_j . (J_ij u_i), from one vector-Jacobian product per output
    vs, analytical = [], []
    for j, out in diff:
        v = _random_unit(out._data.shape)
        vs.append(v)
        grads = _vjp(out, j, wrt, v, nondet_tol, check_dtypes)
        analytical.append([float(np.dot(g, u)) for g, u in zip(grads, us)])
    # numerical: J_ij u_i by one central difference along u_i, then the dot product with v_j
    numerical = [[0.0] * len(wrt) for _ in diff]
    for k, (_, x) in enumerate(wrt):
        arr = x._data
        saved = arr.copy()
        try:
            with no_grad():
                np.copyto(arr, saved + eps * us[k].reshape(arr.shape), casting="unsafe")
            plus = _values(func, inputs)
            with no_grad():
                np.copyto(arr, saved - eps * us[k].reshape(arr.shape), casting="unsafe")
            minus = _values(func, inputs)
        finally:
            np.copyto(arr, saved)
        for jj, (j, _) in enumerate(diff):
            jvp = (plus[j] - minus[j]).ravel() / (2 * eps)
            numerical[jj][k] = float(np.dot(vs[jj], jvp))
    for jj, (j, out) in enumerate(diff):
        for k, (i, _) in enumerate(wrt):
            a, n = analytical[jj][k], numerical[jj][k]
            # Each of the |u| |v| Jacobian entries that enter v^T J u may be off by atol.
            scaled_atol = atol * np.abs(us[k]).sum() * np.abs(vs[jj]).sum()
            if not abs(a - n) <= scaled_atol + rtol * abs(n):
                detail = _slow_detail(func, inputs, wrt, k, j, out, eps, atol, rtol, nondet_tol,
                                      check_dtypes)
                raise GradcheckError(
                    f"Jacobian mismatch for output {j} with respect to input {i},\n"
                    f"numerical:{n!r}\nanalytical:{a!r}\n\n"
                    "The above quantities relating the numerical and analytical jacobians are "
                    "computed in fast mode: v^T J u for random vectors u over the input and v "
                    "over the output. " + detail)


def _forward_check(func, inputs, eps, atol, rtol, fast_mode: bool) -> None:
    """Forward-mode Jacobians (one jvp per input element; in fast mode one per input, along a
    random u, dotted with a random v) against the numerical ones."""
    wrt = _wrt(inputs)
    numerical = None if fast_mode else _numerical_jacobian(func, inputs, wrt, eps)
    for k, (i, x) in enumerate(wrt):
        arr = x._data
        if fast_mode:
            u = _random_unit(arr.shape)
            got = _forward_jvp(func, inputs, i, u.reshape(arr.shape))
            saved = arr.copy()
            try:
                with no_grad():
                    np.copyto(arr, saved + eps * u.reshape(arr.shape), casting="unsafe")
                plus = _values(func, inputs)
                with no_grad():
                    np.copyto(arr, saved - eps * u.reshape(arr.shape), casting="unsafe")
                minus = _values(func, inputs)
            finally:
                np.copyto(arr, saved)
            for j, jvp in enumerate(got):
                if jvp is None:
                    continue
                v = _random_unit(jvp.shape)
                a = float(np.dot(v, jvp.ravel()))
                n = float(np.dot(v, (plus[j] - minus[j]).ravel() / (2 * eps)))
                if not abs(a - n) <= atol * np.abs(u).sum() * np.abs(v).sum() + rtol * abs(n):
                    raise GradcheckError(
                        f"Jacobian computed with forward mode mismatch for output {j} with "
                        f"respect to input {i},\nnumerical:{n!r}\nanalytical:{a!r}\n\n(fast "
                        "mode: v^T J u for random u over the input and v over the output; run "
                        "with fast_mode=False to see both Jacobians)")
            continue
        columns = []
        for idx in np.ndindex(arr.shape):
            onehot = np.zeros(arr.shape)
            onehot[idx] = 1.0
            columns.append(_forward_jvp(func, inputs, i, onehot))
        for j, n in enumerate(numerical[k]):
            if columns and columns[0][j] is None:  # not a float output
                continue
            a = np.stack([c[j].ravel() for c in columns]) if columns else np.zeros(n.shape)
            if not np.allclose(a, n, rtol, atol):
                out_shape = columns[0][j].shape
                raise GradcheckError(
                    f"Jacobian computed with forward mode mismatch for output {j} with respect "
                    f"to input {i},\nnumerical:{_show(n)}\nanalytical:{_show(a)}\n"
                    + _worst_element(a, n, atol, rtol, i, j, arr.shape, out_shape))


def _forward_jvp(func, inputs, i: int, tangent: np.ndarray) -> list:
    """J u of every output (float64, output-shaped; None for a non-float output), by forward
    mode with ``tangent`` on input i and none on the others."""
    x = inputs[i]
    with _fwad.dual_level(), enable_grad():
        dual = _fwad.make_dual(x, from_numpy(tangent.astype(x._data.dtype)))
        outs = _outputs(func, inputs[:i] + (dual,) + inputs[i + 1:])
        result = []
        for o in outs:
            if o._data.dtype.kind != "f":
                result.append(None)
                continue
            t = _fwad.unpack_dual(o).tangent
            result.append(np.zeros(o._data.shape) if t is None
                          else np.array(t._data, dtype=np.float64))
        return result


def _check_batched_grad(func, inputs) -> None:
    """``autograd.grad(..., is_grads_batched=True)`` with two random upstream gradients per
    output against two separate vector-Jacobian products."""
    wrt = [x for _, x in _wrt(inputs)]
    with enable_grad():
        diff = _differentiable(_outputs(func, inputs))
    for j, out in diff:
        shape = (2,) + out._data.shape
        ups = from_numpy(_random_unit(shape).reshape(shape).astype(out._data.dtype))
        expected = [_grad(out, wrt, from_numpy(ups._data[b].copy()), retain_graph=True,
                          allow_unused=True) for b in range(2)]
        try:
            batched = _grad(out, wrt, ups, retain_graph=True, allow_unused=True,
                            is_grads_batched=True)
        except RuntimeError as e:
            raise GradcheckError(f"While computing batched gradients, got: {e}") from e
        for k, (x, got) in enumerate(zip(wrt, batched)):
            want = np.stack([np.zeros(x._data.shape) if g[k] is None else g[k]._data
                             for g in expected])
            have = np.zeros(want.shape) if got is None else got._data
            if have.shape != want.shape or not np.allclose(have, want):
                raise GradcheckError(
                    f"For output {j} and input {k}: the batched gradient (is_grads_batched="
                    "True) does not match the gradients computed one upstream gradient at a "
                    f"time.\nbatched:{_show(np.asarray(have))}\nseparately:{_show(want)}")


def _slow_detail(func, inputs, wrt, k, j, out, eps, atol, rtol, nondet_tol, check_dtypes) -> str:
    """After a fast-mode failure: the full Jacobians of that one (input, output) pair, and the
    worst element, as slow mode would report them."""
    i, x = wrt[k]
    if x._data.size * out._data.size > 250_000:
        return "Run gradcheck with fast_mode=False to see both Jacobians."
    a = _analytical_jacobian(out, j, [wrt[k]], nondet_tol, check_dtypes)[0]
    n = _numerical_jacobian(func, inputs, [wrt[k]], eps)[0][j]
    if np.allclose(a, n, rtol, atol):
        return ("Element-wise the Jacobians agree within the tolerances (slow mode would pass); "
                "the vectors' sums of errors went past them. Run gradcheck with "
                "fast_mode=False to check element by element.")
    return (f"Element by element (slow mode):\nnumerical:{_show(n)}\nanalytical:{_show(a)}\n"
            + _worst_element(a, n, atol, rtol, i, j, x._data.shape, out._data.shape))


def _excess(a: np.ndarray, n: np.ndarray, atol: float, rtol: float) -> np.ndarray:
    """How far each analytical entry is past the tolerance around the numerical one."""
    return np.abs(a - n) - (atol + rtol * np.abs(n))


def _worst_element(a, n, atol, rtol, i: int, j: int, in_shape: tuple, out_shape: tuple) -> str:
    """One line naming the Jacobian entry that misses the tolerance by the most."""
    row, col = np.unravel_index(int(np.argmax(_excess(a, n, atol, rtol))), a.shape)
    at_in = tuple(int(v) for v in np.unravel_index(row, in_shape)) if in_shape else ()
    at_out = tuple(int(v) for v in np.unravel_index(col, out_shape)) if out_shape else ()
    na, an = float(n[row, col]), float(a[row, col])
    return (f"The worst mismatch is d output {j}{list(at_out)} / d input {i}{list(at_in)}: "
            f"numerical {na!r}, analytical {an!r} (difference {abs(an - na)!r}, allowed "
            f"{atol + rtol * abs(na)!r}).")


def _outputs_to_check(func, inputs, wrt, eps) -> list:
    """(position, output) of the outputs that require grad, from one call of ``func`` with grad
    mode on. When there are none, first checks that no output depends on the inputs."""
    with enable_grad():
        outs = _outputs(func, inputs)
    diff = _differentiable(outs)
    if not diff:
        _check_no_gradient(func, inputs, wrt, outs, eps)
    return diff


# ---- Jacobians -------------------------------------------------------------------------------


def _analytical_jacobian(out: Tensor, j: int, wrt, nondet_tol, check_dtypes) -> list:
    """One (numel input, numel output) block per input, filled one column per VJP."""
    n = out._data.size
    blocks = [np.zeros((x._data.size, n)) for _, x in wrt]
    for k in range(n):
        onehot = np.zeros(n)
        onehot[k] = 1.0
        for block, g in zip(blocks, _vjp(out, j, wrt, onehot, nondet_tol, check_dtypes)):
            block[:, k] = g
    return blocks


def _vjp(out: Tensor, j: int, wrt, v: np.ndarray, nondet_tol, check_dtypes) -> list:
    """Flattened float64 gradients of ``v . out`` w.r.t. each input (zeros where unused)."""
    upstream = v.reshape(out._data.shape).astype(out._data.dtype)
    first = _grad(out, [x for _, x in wrt], from_numpy(upstream), retain_graph=True,
                  allow_unused=True)
    again = _grad(out, [x for _, x in wrt], from_numpy(upstream.copy()), retain_graph=True,
                  allow_unused=True)
    flat = []
    for (i, x), g, g2 in zip(wrt, first, again):
        if g is None:
            flat.append(np.zeros(x._data.size))
            continue
        if g._data.shape != x._data.shape:
            raise GradcheckError(
                f"Gradient has wrong shape: the gradient of output {j} w.r.t. input {i} has "
                f"shape {list(g.shape)}, but the input has shape {list(x.shape)}.")
        if check_dtypes and g._data.dtype != x._data.dtype:
            raise GradcheckError(
                f"Gradient has dtype mismatch: the gradient of output {j} w.r.t. input {i} is "
                f"{g.dtype}, but the input is {x.dtype}.")
        a = g._data.astype(np.float64).ravel()
        b = np.zeros_like(a) if g2 is None else g2._data.astype(np.float64).ravel()
        if not np.all(np.abs(a - b) <= nondet_tol):
            raise GradcheckError(
                "Backward is not reentrant: two backward passes through the same graph with "
                f"the same upstream gradient gave different gradients for input {i} (largest "
                f"difference {np.abs(a - b).max()!r}, allowed nondet_tol={nondet_tol}). Make the "
                "backward deterministic, or raise nondet_tol if that is expected.")
        flat.append(a)
    return flat


def _numerical_jacobian(func, inputs, wrt, eps: float) -> list:
    """Central differences: for each input, one (numel input, numel output) block per output."""
    blocks = []
    for _, x in wrt:
        arr = x._data
        per_output = None
        for row, idx in enumerate(np.ndindex(arr.shape)):
            plus, minus = _perturbed(func, inputs, arr, idx, eps)
            if per_output is None:
                per_output = [np.zeros((arr.size, p.size)) for p in plus]
            for block, p, m in zip(per_output, plus, minus):
                block[row] = (p - m).ravel() / (2 * eps)
        if per_output is None:  # an input without elements
            per_output = [np.zeros((0, p.size)) for p in _values(func, inputs)]
        blocks.append(per_output)
    return blocks


def _perturbed(func, inputs, arr: np.ndarray, idx: tuple, eps: float):
    """Values of every output with ``arr[idx]`` moved by +eps, and by -eps."""
    orig = arr[idx].copy()  # a scalar copy: putting it back restores the exact bits
    try:
        with no_grad():
            arr[idx] = orig + eps
        plus = _values(func, inputs)
        with no_grad():
            arr[idx] = orig - eps
        minus = _values(func, inputs)
    finally:
        arr[idx] = orig
    return plus, minus


def _check_no_gradient(func, inputs, wrt, outs, eps) -> None:
    """No output requires grad: then no float output may change when an input moves."""
    floats = [j for j, o in enumerate(outs) if o._data.dtype.kind == "f"]
    for _, x in wrt:
        arr = x._data
        for idx in np.ndindex(arr.shape):
            plus, minus = _perturbed(func, inputs, arr, idx, eps)
            for j in floats:
                if np.any((plus[j] - minus[j]) != 0):
                    raise GradcheckError(
                        "Numerical gradient for function expected to be zero: no output "
                        f"requires grad, yet output {j} changes when an input does (was the "
                        "result detached, or computed under no_grad?).")


def _check_zero_upstream(func, inputs) -> None:
    """A zero upstream gradient on one output (the others left undefined) gives zero grads."""
    wrt = _wrt(inputs)
    with enable_grad():
        diff = _differentiable(_outputs(func, inputs))
    for j, out in diff:
        zeros = from_numpy(np.zeros(out._data.shape, dtype=out._data.dtype))
        grads = _grad(out, [x for _, x in wrt], zeros, retain_graph=True, allow_unused=True)
        for (i, _), g in zip(wrt, grads):
            if g is not None and np.any(g._data != 0):
                raise GradcheckError(
                    f"Expected backward to return zero (or no) gradient for input {i} when the "
                    f"gradient of output {j} is zero and the other outputs get none; it "
                    "returned nonzero values. Backward must be linear in the upstream gradient "
                    "and treat missing output gradients as zeros.")


# ---- helpers ---------------------------------------------------------------------------------


def _as_tuple(x) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _unsupported(**flags) -> None:
    for name, value in flags.items():
        if value:
            raise NotImplementedError(
                f"gradcheck: {name}=True is not supported; retrograd has no masked tensors and "
                "no vmap of forward-mode AD (check_forward_ad=True checks forward mode without "
                "batching). Leave it at its default.")


def _check_inputs(inputs: tuple) -> None:
    found = False
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            continue
        found = True
        if x._data.dtype != np.float64:
            warnings.warn(
                f"Input #{i} requires gradient and is {x.dtype}, not float64. Finite "
                "differences in lower precision are too coarse for gradcheck's tolerances, so "
                "the check will likely fail; pass float64 inputs (x.double()).",
                UserWarning, stacklevel=3)
        # (NumPy gives an empty array zero strides: it has no elements to share)
        if x._data.size and any(st == 0 and s > 1
                                for st, s in zip(x._data.strides, x._data.shape)):
            raise RuntimeError(
                f"The {i}th input has a dimension with stride 0 (it was made by expand): its "
                "elements share memory, so gradcheck cannot move one at a time. Pass "
                ".contiguous() (or .clone()) of it instead.")
    if not found:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of them "
            "have requires_grad=True.")


def _wrt(inputs: tuple) -> list:
    """(position, tensor) of the inputs that require grad."""
    return [(i, x) for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]


def _outputs(func, inputs) -> tuple:
    outs = _as_tuple(func(*inputs))
    for j, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(
                f"gradcheck: the function must return a Tensor or a sequence of Tensors; output "
                f"{j} is a {type(o).__name__}.")
    return outs


def _differentiable(outs: tuple) -> list:
    return [(j, o) for j, o in enumerate(outs) if o.requires_grad]


def _values(func, inputs) -> list:
    """Float64 copies of every output (copies: an output may be a view of an input).

    The function runs with grad mode on, as it does for the analytical pass: it may need a
    graph itself (gradgradcheck's function takes a gradient inside).
    """
    with enable_grad():
        return [np.array(o._data, dtype=np.float64) for o in _outputs(func, inputs)]


def _random_unit(shape: tuple) -> np.ndarray:
    """A flat float64 vector of unit length, drawn from retrograd's global generator."""
    v = rand(shape, dtype=float64)._data.ravel() * 2 - 1
    norm = np.linalg.norm(v)
    return v / norm if norm > 0 else v


def _random_like(out: Tensor, non_contiguous: bool) -> Tensor:
    """Uniform values in [-1, 1) of ``out``'s shape and dtype that require grad."""
    shape = out._data.shape
    arr = (rand(shape + (2,), dtype=float64)._data * 2 - 1).astype(out._data.dtype)
    # A view taking every other element is non-contiguous; the copy is contiguous.
    arr = arr[..., 0] if non_contiguous and out._data.size > 1 else arr[..., 0].copy()
    return from_numpy(arr).requires_grad_()


def _show(m: np.ndarray) -> str:
    return "\n" + np.array2string(m, precision=6, suppress_small=True, max_line_width=100)
