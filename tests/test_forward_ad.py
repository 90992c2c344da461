"""retrograd.autograd.forward_ad: the API and its errors, custom Functions with jvp, views and
in-place ops on dual tensors, reverse-over-forward, and a small network, compared with torch.
(Every op's rule is checked by tests/test_forward_ad_optable.py.)"""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
from retrograd.autograd.function import dual

fwAD = retrograd.autograd.forward_ad


def _np(t):
    return None if t is None else t.detach().numpy()


def _raises(lib, fn):
    """The type and message of what fn(lib) raises (None if nothing)."""
    try:
        fn(lib)
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return type(e), str(e)
    return None


def _close(a, b, **tol) -> None:
    assert (a is None) == (b is None), (a, b)
    if a is not None:
        np.testing.assert_allclose(a, b, **{"rtol": 1e-7, "atol": 1e-10, **tol})


# ---- the API -------------------------------------------------------------------------------------


def test_make_dual_and_unpack_dual():
    x = retrograd.tensor([1.0, 2.0, 3.0])
    t = retrograd.tensor([0.5, -1.0, 2.0])
    with fwAD.dual_level() as level:
        assert level == 0 and dual.level
        d = fwAD.make_dual(x, t)
        assert d._base is x and np.shares_memory(d._data, x._data)
        unpacked = fwAD.unpack_dual(d)
        assert isinstance(unpacked, fwAD.UnpackedDualTensor)
        primal, tangent = unpacked
        assert unpacked.primal is primal and unpacked.tangent is t  # the tangent kept as is
        assert fwAD.unpack_dual(primal).tangent is None  # the primal carries no tangent
        assert primal._base is x
        out = d * d
        assert fwAD.unpack_dual(x).tangent is None
    assert not dual.level
    assert fwAD.unpack_dual(out) == (out, None)  # dropped when the level ends
    assert fwAD.unpack_dual(d).tangent is None


def test_enter_and_exit_by_hand_and_as_decorator():
    assert fwAD.enter_dual_level() == 0
    y = fwAD.make_dual(retrograd.tensor([1.0, 2.0]), retrograd.ones(2)) * 3
    assert fwAD.unpack_dual(y).tangent.tolist() == [3.0, 3.0]
    fwAD.exit_dual_level()
    assert fwAD.unpack_dual(y).tangent is None

    @fwAD.dual_level()
    def jvp_of_square(x, v):
        return fwAD.unpack_dual(fwAD.make_dual(x, v) ** 2).tangent

    assert jvp_of_square(retrograd.tensor([3.0]), retrograd.tensor([1.0])).tolist() == [6.0]
    assert not dual.level


def test_an_error_inside_the_level_leaves_it():
    with pytest.raises(KeyError):
        with fwAD.dual_level():
            fwAD.make_dual(retrograd.ones(2), retrograd.ones(2))
            raise KeyError("inside")
    assert not dual.level
    with fwAD.dual_level():  # a new level can start
        pass


def test_tangents_flow_under_no_grad_and_record_a_graph_with_grad(torch_ref):
    def run(lib):
        ad = lib.autograd.forward_ad
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        v = lib.tensor([1.0, 2.0, -1.0], dtype=lib.float64)
        with ad.dual_level():
            with lib.no_grad():
                quiet = ad.unpack_dual(ad.make_dual(x, v).sin()).tangent
            y = (ad.make_dual(x, v).sin() * x).sum()
            jvp = ad.unpack_dual(y).tangent
        assert not quiet.requires_grad and jvp.requires_grad
        jvp.backward()  # reverse over forward: d/dx of (J v)
        return quiet.numpy(), jvp.detach().numpy(), x.grad.numpy()

    for a, b in zip(run(retrograd), run(torch_ref)):
        _close(a, b)


@pytest.mark.parametrize("create_graph", [True, False])
def test_forward_over_reverse_gives_hessian_vector_products(create_graph, torch_ref):
    """A backward run inside the level carries tangents: the tangent of the gradient is H v
    (saved outputs, as exp's and tanh's, keep theirs)."""
    def run(lib):
        ad = lib.autograd.forward_ad
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0]], dtype=lib.float64)
        with ad.dual_level():
            d = ad.make_dual(x, lib.tensor([1.0, 2.0, -1.0], dtype=lib.float64))
            y = (lib.tanh(w @ d) ** 2).sum() + (d.exp() * d.sigmoid()).sum()
            (g,) = lib.autograd.grad(y, d, create_graph=create_graph)
            return ad.unpack_dual(g).tangent.detach().numpy()

    _close(run(retrograd), run(torch_ref))


# ---- errors, as torch raises them ----------------------------------------------------------------


ERRORS = {
    "make_dual-outside-level": lambda lib: lib.autograd.forward_ad.make_dual(
        lib.ones(2), lib.ones(2)),
    "nested-level": lambda lib: _nested(lib),
    "tangent-shape": lambda lib: _in_level(lib, lambda ad: ad.make_dual(lib.ones(2), lib.ones(3))),
    "tangent-int": lambda lib: _in_level(
        lib, lambda ad: ad.make_dual(lib.ones(2), lib.ones(2, dtype=lib.int64))),
    "primal-int": lambda lib: _in_level(
        lib, lambda ad: ad.make_dual(lib.ones(2, dtype=lib.int64), lib.ones(2))),
    "dual-of-dual": lambda lib: _in_level(
        lib, lambda ad: ad.make_dual(ad.make_dual(lib.ones(2), lib.ones(2)), lib.ones(2))),
    "exit-other-level": lambda lib: _in_level(lib, lambda ad: ad.exit_dual_level(level=3)),
    "exit-no-level": lambda lib: lib.autograd.forward_ad.exit_dual_level(),
    "custom-without-jvp": lambda lib: _in_level(
        lib, lambda ad: _double(lib).apply(ad.make_dual(lib.ones(2), lib.ones(2)))),
}


def _in_level(lib, fn):
    ad = lib.autograd.forward_ad
    with ad.dual_level():
        return fn(ad)


def _nested(lib):
    with lib.autograd.forward_ad.dual_level():
        with lib.autograd.forward_ad.dual_level():
            pass


def _double(lib):
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    return Double


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_match_torch(case, torch_ref):
    got = _raises(retrograd, ERRORS[case])
    want = _raises(torch_ref, ERRORS[case])
    assert got is not None and want is not None
    assert got[0] is want[0], (got, want)
    assert not dual.level  # the failed call left no level behind


def test_error_messages_say_what_to_do():
    with pytest.raises(RuntimeError, match="no level exists, make sure to enter_dual_level"):
        fwAD.make_dual(retrograd.ones(2), retrograd.ones(2))
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fwAD.enter_dual_level()
        with pytest.raises(RuntimeError, match=r"size \[2\] while the given forward gradient is "
                                               r"of size \[3\]"):
            fwAD.make_dual(retrograd.ones(2), retrograd.ones(3))
        with pytest.raises(ValueError, match="Expected tangent to be floating point"):
            fwAD.make_dual(retrograd.ones(2), retrograd.ones(2, dtype=retrograd.int64))


def test_an_op_without_a_rule_names_itself_and_leaves_the_level_working(monkeypatch):
    monkeypatch.setattr(retrograd.ops.nn.normalization.LayerNorm, "jvp", None)
    with fwAD.dual_level():
        x = fwAD.make_dual(retrograd.randn(2, 4, dtype=retrograd.float64),
                           retrograd.randn(2, 4, dtype=retrograd.float64))
        with pytest.raises(NotImplementedError,
                           match="Trying to use forward AD with nativelayernorm that does not "
                                 "support it"):
            retrograd.nn.functional.layer_norm(x, (4,))
        assert fwAD.unpack_dual(x * 2).tangent is not None  # still on


# ---- custom Functions with jvp -------------------------------------------------------------------


def _scaled_product(lib, calls: list):
    class ScaledProduct(lib.autograd.Function):
        """out = z * x * y, z a number."""

        @staticmethod
        def forward(ctx, x, y, z):
            ctx.save_for_backward(x, y)
            ctx.save_for_forward(x, y)
            ctx.z = z
            return x * y * z

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return grad * y * ctx.z, grad * x * ctx.z, None

        @staticmethod
        def jvp(ctx, x_t, y_t, z_t):
            calls.append((x_t.tolist(), y_t.tolist(), z_t))
            x, y = ctx.saved_tensors
            return ctx.z * (x_t * y + x * y_t)

    return ScaledProduct


def test_custom_function_jvp_as_torch_calls_it(torch_ref):
    def run(lib):
        calls = []
        fn = _scaled_product(lib, calls)
        ad = lib.autograd.forward_ad
        x = lib.tensor([1.0, 2.0], dtype=lib.float64)
        y = lib.tensor([3.0, -1.0], dtype=lib.float64)
        with ad.dual_level():
            a = fn.apply(ad.make_dual(x, lib.tensor([1.0, 0.5], dtype=lib.float64)), y, 3)
            b = fn.apply(x, ad.make_dual(y, lib.tensor([2.0, 1.0], dtype=lib.float64)), 3)
            c = fn.apply(x, y, 3)  # no tangent: jvp is not called
            tangents = [ad.unpack_dual(t).tangent for t in (a, b, c)]
        return calls, [None if t is None else t.tolist() for t in tangents]

    got, want = run(retrograd), run(torch_ref)
    assert got == want
    assert got[1][0] == [9.0, -1.5]  # 3 * (x_t * y)


def test_custom_function_backward_still_works_inside_a_level():
    calls = []
    fn = _scaled_product(retrograd, calls)
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    with fwAD.dual_level():
        out = fn.apply(fwAD.make_dual(x, retrograd.ones(2)), retrograd.tensor([3.0, 4.0]), 2)
        out.sum().backward()
    assert x.grad.tolist() == [6.0, 8.0]
    assert fwAD.unpack_dual(out).tangent is None  # dropped with the level


# ---- views and in-place ops ----------------------------------------------------------------------

# Each: (lib, dual tensor d of shape (4,), a plain tensor p of shape (4,)) -> tensors whose
# primal and tangent are compared with torch's.
INPLACE = {
    "view-shares-tangent": lambda lib, d, p: _view_then(d, lambda b, v: v.mul_(2)),
    "view-of-view": lambda lib, d, p: _view_then(d, lambda b, v: v[:2].view(2, 1)[0].add_(5.0)),
    "base-changes-view": lambda lib, d, p: _view_then(d, lambda b, v: b.exp_()),
    "copy_-into-plain": lambda lib, d, p: (p.copy_(d),),
    "add_-plain": lambda lib, d, p: (p.add_(d),),
    "mul_-dual": lambda lib, d, p: ((d * 1).mul_(p),),
    "mul_-dual-by-dual": lambda lib, d, p: ((d * 1).mul_(d),),
    "setitem-slice": lambda lib, d, p: _set(p, slice(1, 3), d[:2]),
    "setitem-index": lambda lib, d, p: _set(p, lib.tensor([0, 3]), d[1:3]),
    "setitem-number": lambda lib, d, p: _set(d * 1, 1, 7.0),
    "write-into-view-of-plain": lambda lib, d, p: _view_then(p, lambda b, v: v.mul_(d[1:])),
    "plain-into-view-of-dual": lambda lib, d, p: _view_then(d * 1, lambda b, v: v.copy_(p[:3])),
    "fill_": lambda lib, d, p: ((d * 1).fill_(2.0),),
    "zero_": lambda lib, d, p: ((d * 1).zero_(),),
    "relu_-on-view": lambda lib, d, p: _view_then(d - 1, lambda b, v: v.relu_()),
    "transpose-then-write": lambda lib, d, p: _transposed(lib, d),
    "detach-drops": lambda lib, d, p: (d.detach() * 2,),
}


def _view_then(base, write):
    v = base[1:]
    write(base, v)
    return base, v


def _set(x, key, value):
    x[key] = value
    return (x,)


def _transposed(lib, d):
    m = d.reshape(2, 2) * 1
    m.t()[0].mul_(3.0)
    return (m,)


@pytest.mark.parametrize("case", sorted(INPLACE))
def test_inplace_and_views_match_torch(case, torch_ref):
    def run(lib):
        ad = lib.autograd.forward_ad
        x = lib.tensor([0.5, -1.0, 2.0, 1.5], dtype=lib.float64)
        v = lib.tensor([1.0, 2.0, -0.5, 3.0], dtype=lib.float64)
        p = lib.tensor([4.0, 3.0, 2.0, 1.0], dtype=lib.float64)
        with ad.dual_level():
            outs = INPLACE[case](lib, ad.make_dual(x, v), p)
            return [(o.detach().numpy().copy(), _np(ad.unpack_dual(o).tangent)) for o in outs]

    for (a, ta), (b, tb) in zip(run(retrograd), run(torch_ref)):
        _close(a, b)
        _close(ta, tb)


def test_a_tangent_written_in_place_does_not_reach_the_input():
    with fwAD.dual_level():
        t = retrograd.tensor([1.0, 2.0])
        d = fwAD.make_dual(retrograd.tensor([3.0, 4.0]), t)
        c = d.clone()
        c.mul_(2)
        assert t.tolist() == [1.0, 2.0]
        assert fwAD.unpack_dual(c).tangent.tolist() == [2.0, 4.0]


def test_repr_shows_the_tangent_as_torch(torch_ref):
    def run(lib):
        ad = lib.autograd.forward_ad
        with ad.dual_level():
            a = ad.make_dual(lib.tensor([1.0, 2.0]), lib.tensor([0.5, 1.0]))
            b = ad.make_dual(lib.tensor(2.0, dtype=lib.float64), lib.tensor(3.0, dtype=lib.float64))
            w = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
            c = ad.make_dual(w, lib.ones(2, 2)) * lib.tensor([[1.0, -2.5], [3.0, 1e-3]])
            return [repr(a), repr(b), repr(c)]

    assert run(retrograd) == run(torch_ref)


# ---- a network -----------------------------------------------------------------------------------


def test_jvp_through_a_small_network_matches_torch_and_finite_differences(torch_ref):
    rng = np.random.default_rng(0)
    arrays = {name: rng.standard_normal(shape) for name, shape in
              [("x", (5, 4)), ("w1", (8, 4)), ("b1", (8,)), ("w2", (3, 8)), ("b2", (3,)),
               ("v", (5, 4)), ("vw1", (8, 4))]}
    target = np.array([0, 2, 1, 1, 0])

    def loss(lib, x, w1):
        f = lib.nn.functional
        t = {k: lib.tensor(a, dtype=lib.float64) for k, a in arrays.items()}
        h = lib.tanh(f.linear(x, w1, t["b1"]))
        logits = f.linear(lib.softmax(h, -1) * h, t["w2"], t["b2"])
        return f.cross_entropy(logits, lib.tensor(target))

    def jvp(lib):
        ad = lib.autograd.forward_ad
        t = {k: lib.tensor(a, dtype=lib.float64) for k, a in arrays.items()}
        with ad.dual_level():
            out = loss(lib, ad.make_dual(t["x"], t["v"]), ad.make_dual(t["w1"], t["vw1"]))
            return ad.unpack_dual(out).tangent.item()

    eps = 1e-6

    def at(s):
        t = {k: retrograd.tensor(a, dtype=retrograd.float64) for k, a in arrays.items()}
        return loss(retrograd, t["x"] + s * eps * t["v"], t["w1"] + s * eps * t["vw1"]).item()

    got = jvp(retrograd)
    assert got == pytest.approx(jvp(torch_ref), rel=1e-9, abs=1e-12)
    assert got == pytest.approx((at(1) - at(-1)) / (2 * eps), rel=1e-5, abs=1e-8)


# ---- custom Functions that change an input in place (mark_dirty) ---------------------------------


def _dirty_run(lib, where: str, in_place_jvp: bool, setup_context: bool = False):
    """A user Function doubling its input in place, applied to a dual tensor (or a view of one):
    the tangents of the output and of the whole tensor, and whether the output is the input."""
    ad = lib.autograd.forward_ad

    class Double_(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

        @staticmethod
        def jvp(ctx, t):
            return t.mul_(2) if in_place_jvp else t * 2

    with ad.dual_level():
        d = ad.make_dual(lib.ones(4, dtype=lib.float64),
                         lib.arange(4.0, dtype=lib.float64))
        x = d * 1
        before = ad.unpack_dual(x).tangent
        target = {"whole": x, "view": x[1:]}[where]
        out = Double_.apply(target)
        return (out is target, ad.unpack_dual(out).tangent.numpy().copy(),
                ad.unpack_dual(x).tangent.numpy().copy(), ad.unpack_dual(x).tangent is before,
                x.detach().numpy().copy())


@pytest.mark.parametrize("where", ["whole", "view"])
def test_mark_dirty_changes_tangents_in_place_as_torch(where, torch_ref):
    got, want = _dirty_run(retrograd, where, True), _dirty_run(torch_ref, where, True)
    assert got[0] is want[0] is True
    assert got[3] is want[3] is True  # the tangent object was changed, not replaced
    for a, b in zip(got[1:3] + got[4:], want[1:3] + want[4:]):
        _close(a, b)


@pytest.mark.parametrize("where", ["whole", "view"])
def test_mark_dirty_with_a_jvp_that_does_not_work_in_place_raises_as_torch(where, torch_ref):
    got = _raises(retrograd, lambda lib: _dirty_run(lib, where, False))
    want = _raises(torch_ref, lambda lib: _dirty_run(lib, where, False))
    assert got is not None and want is not None
    assert got[0] is want[0]
    assert got[1].startswith(want[1].split(" If ")[0])
