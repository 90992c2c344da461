"""Behaviour of the math ops of issue 8 beyond the op table (tests/optable_opsmath.py): named
results, dtypes, NaN and tie handling, views, in-place variants and errors, against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd

NAN, INF = float("nan"), float("inf")


def _same(got, want, **kw):
    assert str(got.dtype) == str(want.dtype), (got.dtype, want.dtype)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), equal_nan=True,
                               **kw)


def _both(torch, data, dtype="float64", grad=True):
    r = retrograd.tensor(data, dtype=getattr(retrograd, dtype), requires_grad=grad)
    t = torch.tensor(data, dtype=getattr(torch, dtype), requires_grad=grad)
    return r, t


@pytest.mark.parametrize("name", ["median", "nanmedian", "kthvalue", "mode", "cummax", "cummin"])
def test_named_results_match_torch(torch_ref, name):
    # NOTE: PyTorch's index among equal values is an accident of its selection algorithm for
    # median and kthvalue (we take the first in a stable order): distinct values there
    if name in ("mode", "cummax", "cummin"):
        data = [[3.0, 1.0, 1.0, 2.0, 1.0], [2.0, 2.0, 5.0, 0.0, 2.0]]
    else:
        data = [[3.0, 1.5, 1.0, 2.0, NAN if name != "kthvalue" else 0.0],
                [2.0, 2.5, 5.0, 0.0, 4.0]]
    r, t = _both(torch_ref, data)
    args = (2, 1) if name == "kthvalue" else (1,)
    got, want = getattr(retrograd, name)(r, *args), getattr(torch_ref, name)(t, *args)
    assert type(got).__name__ == type(want).__name__ == name
    assert repr(got).startswith(f"torch.return_types.{name}(\nvalues=")
    _same(got.values, want.values)
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    values, indices = got  # unpacks like a tuple
    assert values is got[0] and indices is got.indices
    got.values.sum().backward()
    want.values.sum().backward()
    _same(r.grad, t.grad)


def test_median_all_ties_and_nan_match_torch(torch_ref):
    for data in ([1.0, 2.0, 2.0, 3.0, 2.0], [4.0, NAN, 1.0], [5.0, 1.0, 2.0, 7.0]):
        for fn in ("median", "nanmedian"):
            r, t = _both(torch_ref, data)
            got, want = getattr(retrograd, fn)(r), getattr(torch_ref, fn)(t)
            _same(got, want)
            got.backward()
            want.backward()
            _same(r.grad, t.grad)


def test_median_keepdim_and_errors(torch_ref):
    r, t = _both(torch_ref, np.arange(12.0).reshape(3, 4), grad=False)
    got, want = r.median(0, keepdim=True), t.median(0, keepdim=True)
    assert tuple(got.values.shape) == tuple(want.values.shape) == (1, 4)
    assert tuple(got.indices.shape) == (1, 4)
    with pytest.raises(IndexError):
        retrograd.tensor([]).median()
    with pytest.raises(RuntimeError, match="k out of range"):
        r.kthvalue(5, 1)


def test_cumprod_with_zeros_matches_torch_to_second_order(torch_ref):
    data = [[2.0, 0.0, 3.0, 0.0, 0.5], [1.5, -1.0, 0.0, 2.0, 1.0]]
    r, t = _both(torch_ref, data)
    (gr,) = retrograd.autograd.grad(r.cumprod(1).sum(), r, create_graph=True)
    (gt,) = torch_ref.autograd.grad(t.cumprod(1).sum(), t, create_graph=True)
    _same(gr, gt)
    (ggr,) = retrograd.autograd.grad((gr * gr).sum(), r)
    (ggt,) = torch_ref.autograd.grad((gt * gt).sum(), t)
    _same(ggr, ggt)
    assert str(retrograd.tensor([1, 2, 3]).cumprod(0).dtype) == "torch.int64"


def test_nan_reductions_match_torch(torch_ref):
    data = [[1.0, NAN, 3.0], [NAN, NAN, NAN]]
    for fn, kw in (("nansum", {}), ("nansum", {"dim": 1}), ("nanmean", {}),
                   ("nanmean", {"dim": 0})):
        r, t = _both(torch_ref, data)
        got, want = getattr(retrograd, fn)(r, **kw), getattr(torch_ref, fn)(t, **kw)
        _same(got, want)
        got.sum().backward()
        want.sum().backward()
        _same(r.grad, t.grad)
    assert str(retrograd.nansum(retrograd.tensor([1, 2])).dtype) == "torch.int64"


def test_std_mean_var_mean_are_tuples_matching_torch(torch_ref):
    r, t = _both(torch_ref, [[1.0, 2.0, 4.0], [0.5, 0.5, 0.5]])
    for fn in ("std_mean", "var_mean"):
        got, want = getattr(retrograd, fn)(r, 1), getattr(torch_ref, fn)(t, 1)
        assert isinstance(got, tuple) and len(got) == 2
        for g, w in zip(got, want):
            _same(g, w)
        (got[0] + got[1]).sum().backward()
        (want[0] + want[1]).sum().backward()
        _same(r.grad, t.grad)  # a constant row: std 0, gradient 0 there
        r.grad = t.grad = None


def test_count_nonzero_signbit_nextafter_gcd_shifts(torch_ref):
    a = [[0, 1, -2], [3, 0, 0]]
    for dim in (None, 0, (0, 1)):
        got = retrograd.count_nonzero(retrograd.tensor(a), dim=dim)
        want = torch_ref.count_nonzero(torch_ref.tensor(a), dim=dim)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        assert str(got.dtype) == "torch.int64"
    f = [-0.0, 0.0, -1.5, 2.0]
    np.testing.assert_array_equal(retrograd.tensor(f).signbit().numpy(),
                                  torch_ref.tensor(f).signbit().numpy())
    _same(retrograd.nextafter(retrograd.tensor(f), retrograd.tensor(1.0)),
          torch_ref.nextafter(torch_ref.tensor(f), torch_ref.tensor(1.0)))
    x, y = [12, 18, -4], [8, 27, 6]
    for fn in ("gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
               "bitwise_right_shift"):
        got = getattr(retrograd, fn)(retrograd.tensor(x), retrograd.tensor([1, 2, 1]))
        want = getattr(torch_ref, fn)(torch_ref.tensor(x), torch_ref.tensor([1, 2, 1]))
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal((retrograd.tensor(y) << 2).numpy(),
                                  (torch_ref.tensor(y) << 2).numpy())
    np.testing.assert_array_equal((retrograd.tensor(y) >> 1).numpy(),
                                  (torch_ref.tensor(y) >> 1).numpy())
    with pytest.raises(RuntimeError):
        retrograd.gcd(retrograd.tensor([1.0]), retrograd.tensor([2.0]))


def test_integer_inputs_give_floats_and_promotion(torch_ref):
    for fn in ("sinh", "atan", "expm1", "log2", "exp2", "arcsinh"):
        got = getattr(retrograd, fn)(retrograd.tensor([1, 2]))
        want = getattr(torch_ref, fn)(torch_ref.tensor([1, 2]))
        _same(got, want, rtol=1e-6)
    for fn in ("atan2", "hypot", "logaddexp", "xlogy", "copysign", "fmax"):
        got = getattr(retrograd, fn)(retrograd.tensor([1.0, 2.0], dtype=retrograd.float32),
                                     retrograd.tensor([3, -1]))
        want = getattr(torch_ref, fn)(torch_ref.tensor([1.0, 2.0]), torch_ref.tensor([3, -1]))
        _same(got, want, rtol=1e-6)


def test_special_values_match_torch(torch_ref):
    vals = [0.0, -0.0, 1.0, -2.0, NAN, INF, -INF]
    for fn in ("sinc", "frac", "sgn", "expm1", "nan_to_num", "logit"):
        _same(getattr(retrograd, fn)(retrograd.tensor(vals)),
              getattr(torch_ref, fn)(torch_ref.tensor(vals)))
    r, t = _both(torch_ref, [0.0, 0.0, 1.0, 2.0])
    ry, ty = _both(torch_ref, [0.5, 0.0, 0.0, NAN])
    got, want = retrograd.xlogy(r, ry), torch_ref.xlogy(t, ty)
    _same(got, want)
    got.sum().backward()
    want.sum().backward()
    _same(r.grad, t.grad)
    _same(ry.grad, ty.grad)
    r, t = _both(torch_ref, [0.0, 1e-9, -0.5])
    retrograd.sinc(r).sum().backward()
    torch_ref.sinc(t).sum().backward()
    _same(r.grad, t.grad)
    for pair in ([NAN, 1.0], [2.0, NAN], [NAN, NAN], [1.0, 1.0]):
        r, t = _both(torch_ref, pair[:1])
        ro, to = _both(torch_ref, pair[1:])
        got, want = retrograd.fmax(r, ro), torch_ref.fmax(t, to)
        _same(got, want)
        got.sum().backward()
        want.sum().backward()
        _same(r.grad, t.grad)
        _same(ro.grad, to.grad)


def test_lerp_reaches_the_end_exactly_and_inplace_variants(torch_ref):
    start, end = [0.1, 1e8, -3.0], [0.7, 1.0, 2.5]
    got = retrograd.lerp(retrograd.tensor(start), retrograd.tensor(end), 1.0)
    np.testing.assert_array_equal(got.numpy(), np.asarray(end, np.float32))
    r, t = _both(torch_ref, start)
    re, te = _both(torch_ref, end, grad=False)
    ra, ta = r * 1, t * 1
    ra.lerp_(re, 0.25).addcmul_(re, re, value=0.5).addcdiv_(re, re + 2)
    ta.lerp_(te, 0.25).addcmul_(te, te, value=0.5).addcdiv_(te, te + 2)
    _same(ra, ta)
    assert type(ra.grad_fn).__name__ == type(ta.grad_fn).__name__
    ra.sum().backward()
    ta.sum().backward()
    _same(r.grad, t.grad)
    b = retrograd.tensor([NAN, INF, 1.0])
    assert b.nan_to_num_(nan=2.0) is b
    np.testing.assert_array_equal(b.numpy()[[0, 2]], [2.0, 1.0])
    with pytest.raises(RuntimeError, match="Integer division"):
        retrograd.addcdiv(retrograd.tensor([1]), retrograd.tensor([1]), retrograd.tensor([2]))


def test_clamp_min_max_and_positive(torch_ref):
    r, t = _both(torch_ref, [-1.0, 0.5, 2.0])
    _same(r.clamp_min(0.5), t.clamp_min(0.5))
    _same(retrograd.clamp_max(r, retrograd.tensor(0.0, dtype=retrograd.float64)),
          torch_ref.clamp_max(t, torch_ref.tensor(0.0, dtype=torch_ref.float64)))
    assert retrograd.positive(r) is r
    with pytest.raises(TypeError):
        retrograd.positive(retrograd.tensor([True]))


def test_diagonal_is_a_writable_view(torch_ref):
    r = retrograd.zeros(3, 4)
    t = torch_ref.zeros(3, 4)
    r.diagonal(1).fill_(2.0)
    t.diagonal(1).fill_(2.0)
    r.diagonal(-1).add_(1.0)
    t.diagonal(-1).add_(1.0)
    np.testing.assert_array_equal(r.numpy(), t.numpy())
    d = r.diagonal()
    assert d._base is r or d._base is r._base
    x = retrograd.arange(24.0).reshape(2, 3, 4)
    y = torch_ref.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(x.diagonal(0, -1, 0).numpy(), y.diagonal(0, -1, 0).numpy())
    np.testing.assert_array_equal(x.diagonal(5).numpy(), y.diagonal(5).numpy())
    with pytest.raises(RuntimeError, match="cannot be identical"):
        x.diagonal(0, 1, 1)
    np.testing.assert_array_equal(retrograd.diag(retrograd.tensor([1, 2]), -1).numpy(),
                                  torch_ref.diag(torch_ref.tensor([1, 2]), -1).numpy())
    assert str(retrograd.trace(retrograd.tensor([[1, 2], [3, 4]])).dtype) == "torch.int64"
    with pytest.raises(RuntimeError):
        retrograd.diag(retrograd.zeros(2, 2, 2))


def test_product_errors_and_cross_default_dim(torch_ref):
    a = retrograd.zeros(2, 3, 4)
    with pytest.raises(RuntimeError):
        retrograd.baddbmm(retrograd.zeros(2, 3, 3), a, a)
    with pytest.raises(RuntimeError):
        retrograd.cross(retrograd.zeros(2, 4), retrograd.zeros(2, 4))
    with pytest.raises(RuntimeError):
        retrograd.cdist(retrograd.zeros(2, 3), retrograd.zeros(2, 4))
    x = np.random.default_rng(0).standard_normal((3, 3))
    got = retrograd.cross(retrograd.tensor(x), retrograd.tensor(x[::-1].copy()))
    want = torch_ref.cross(torch_ref.tensor(x), torch_ref.tensor(x[::-1].copy()), dim=0)
    _same(got, want)
    m = retrograd.tensor([[2.0, 1.0], [1.0, 3.0]])
    _same(retrograd.matrix_power(m, 0), torch_ref.matrix_power(torch_ref.tensor(m.numpy()), 0))
    _same(retrograd.chain_matmul(m, m, m), torch_ref.linalg.multi_dot([torch_ref.tensor(
        m.numpy())] * 3))


def test_slogdet_logdet_cholesky_solve(torch_ref):
    a = [[1.0, 2.0], [3.0, 1.0]]  # det -5
    got, want = retrograd.slogdet(retrograd.tensor(a)), torch_ref.slogdet(torch_ref.tensor(a))
    assert type(got).__name__ == type(want).__name__ == "slogdet"
    _same(got.sign, want.sign)
    _same(got.logabsdet, want.logabsdet)
    assert np.isnan(retrograd.logdet(retrograd.tensor(a)).item())
    with pytest.raises(RuntimeError, match="positive-definite"):
        retrograd.linalg.cholesky(retrograd.tensor(a))
    with pytest.raises(RuntimeError, match="singular"):
        retrograd.linalg.solve(retrograd.ones(2, 2), retrograd.ones(2))
    s = [[4.0, 1.0], [1.0, 3.0]]
    _same(retrograd.cholesky(retrograd.tensor(s), upper=True),
          torch_ref.linalg.cholesky(torch_ref.tensor(s), upper=True))
    _same(retrograd.linalg.solve(retrograd.tensor(s), retrograd.tensor([[1.0, 2.0]]), left=False),
          torch_ref.linalg.solve(torch_ref.tensor(s), torch_ref.tensor([[1.0, 2.0]]), left=False))


def test_histc_bincount_bucketize_searchsorted_match_torch(torch_ref):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 5, 50)
    for kw in ({}, {"bins": 7, "min": 0, "max": 4}, {"bins": 3, "min": 1, "max": 1}):
        _same(retrograd.histc(retrograd.tensor(x), **kw), torch_ref.histc(torch_ref.tensor(x),
                                                                            **kw))
    idx = rng.integers(0, 6, 20)
    w = rng.uniform(0, 1, 20).astype(np.float32)
    for kw in ({}, {"minlength": 9}):
        np.testing.assert_array_equal(retrograd.bincount(retrograd.tensor(idx), **kw).numpy(),
                                      torch_ref.bincount(torch_ref.tensor(idx), **kw).numpy())
    _same(retrograd.bincount(retrograd.tensor(idx), retrograd.tensor(w)),
          torch_ref.bincount(torch_ref.tensor(idx), torch_ref.tensor(w)), rtol=1e-6)
    b = [1.0, 2.0, 2.0, 3.0]
    q = [[0.0, 1.0, 2.0], [2.5, 3.0, 9.0]]
    for right in (False, True):
        for fn in ("bucketize", "searchsorted"):
            args_r = (retrograd.tensor(q), retrograd.tensor(b))
            args_t = (torch_ref.tensor(q), torch_ref.tensor(b))
            if fn == "searchsorted":
                args_r, args_t = args_r[::-1], args_t[::-1]
            got = getattr(retrograd, fn)(*args_r, right=right)
            want = getattr(torch_ref, fn)(*args_t, right=right)
            np.testing.assert_array_equal(got.numpy(), want.numpy())
            assert str(got.dtype) == str(want.dtype)
    seq = [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]
    got = retrograd.searchsorted(retrograd.tensor(seq), retrograd.tensor([[3.0], [7.0]]),
                                 side="right", out_int32=True)
    want = torch_ref.searchsorted(torch_ref.tensor(seq), torch_ref.tensor([[3.0], [7.0]]),
                                  side="right", out_int32=True)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert str(got.dtype) == "torch.int32"
    with pytest.raises(RuntimeError):
        retrograd.bincount(retrograd.tensor([-1, 2]))


def test_aminmax_named_and_tie_gradients_match_torch(torch_ref):
    r, t = _both(torch_ref, [[1.0, 5.0, 5.0], [0.0, 0.0, 2.0]])
    got, want = retrograd.aminmax(r), torch_ref.aminmax(t)
    assert type(got).__name__ == "aminmax" and repr(got).startswith("torch.return_types.aminmax")
    _same(got.min, want.min)
    _same(got.max, want.max)
    (got.min + 2 * got.max).backward()
    (want.min + 2 * want.max).backward()
    _same(r.grad, t.grad)


@pytest.mark.parametrize("fn", ["quantile", "nanquantile"])
def test_quantiles_match_torch_with_nan_and_every_interpolation(torch_ref, fn):
    a = np.random.default_rng(1).standard_normal((3, 5))
    a[1, 2] = NAN
    a[2] = NAN
    for q in (0.3, [0.1, 0.5, 0.95]):
        for kw in ({}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"keepdim": True}):
            for how in ("linear", "lower", "higher", "midpoint", "nearest"):
                rq = retrograd.tensor(q, dtype=retrograd.float64) if isinstance(q, list) else q
                tq = torch_ref.tensor(q, dtype=torch_ref.float64) if isinstance(q, list) else q
                r, t = _both(torch_ref, a)
                got = getattr(retrograd, fn)(r, rq, interpolation=how, **kw)
                want = getattr(torch_ref, fn)(t, tq, interpolation=how, **kw)
                _same(got, want)
    with pytest.raises(RuntimeError, match=r"\[0, 1\]"):
        getattr(retrograd, fn)(retrograd.tensor(a), 1.5)


def test_gamma_family_special_values_and_accuracy(torch_ref):
    import math
    x = [0.0, -0.0, -1.0, -2.5, 0.5, 1.0, 2.0, 1e-3, 100.0, INF, NAN]
    for fn in ("lgamma", "digamma"):
        _same(getattr(retrograd, fn)(retrograd.tensor(x, dtype=retrograd.float64)),
              getattr(torch_ref, fn)(torch_ref.tensor(x, dtype=torch_ref.float64)), rtol=1e-12)
    for n in (1, 2, 3):
        got = retrograd.polygamma(n, retrograd.tensor([0.0, 0.75, 7.5]))
        want = torch_ref.polygamma(n, torch_ref.tensor([0.0, 0.75, 7.5]))
        _same(got, want, rtol=1e-6)
    # exact values: trigamma(2) = pi^2/6 - 1, polygamma(2, 1) = -2 zeta(3)
    t2 = retrograd.polygamma(1, retrograd.tensor(2.0, dtype=retrograd.float64)).item()
    assert abs(t2 - (math.pi ** 2 / 6 - 1)) < 1e-14
    p2 = retrograd.polygamma(2, retrograd.tensor(1.0, dtype=retrograd.float64)).item()
    assert abs(p2 + 2 * 1.2020569031595942) < 1e-14
    with pytest.raises(RuntimeError):
        retrograd.polygamma(-1, retrograd.tensor([1.0]))


def test_float_power_computes_in_float64_like_torch(torch_ref):
    r, t = _both(torch_ref, [0.5, 1.5, 2.0], dtype="float32")
    re, te = _both(torch_ref, [2.0, -1.0, 0.5], dtype="float32")
    got, want = retrograd.float_power(r, re), torch_ref.float_power(t, te)
    _same(got, want, rtol=1e-12)
    assert type(got.grad_fn).__name__ == type(want.grad_fn).__name__
    got.sum().backward()
    want.sum().backward()
    _same(r.grad, t.grad, rtol=1e-6)
    _same(re.grad, te.grad, rtol=1e-6)
    _same(r.float_power(3), t.float_power(3), rtol=1e-12)
