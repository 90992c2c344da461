"""nn.MultiheadAttention's options and F.multi_head_attention_forward, compared with PyTorch on
the same weights, gradients included."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rg

E, H, L, S, N = 6, 2, 3, 4, 2


def _pair(torch, **kw):
    rg.manual_seed(0)
    mine = rg.nn.MultiheadAttention(E, H, dtype=rg.float64, **kw)
    ref = torch.nn.MultiheadAttention(E, H, dtype=torch.float64, **kw)
    sd = mine.state_dict()
    assert list(sd) == list(ref.state_dict())
    ref.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy()) for k, v in sd.items()})
    return mine, ref


def _close(a, b, what=""):
    if b is None:
        assert a is None, what
        return
    a, b = a.detach().numpy(), b.detach().numpy()
    assert a.shape == b.shape, what
    assert np.allclose(a, b, atol=1e-10), what


def _masks(torch, rng, kind):
    """(retrograd mask, torch mask) pairs for key padding and attention masks."""
    out = {}
    if kind in ("bool", "float"):
        kpm = np.zeros((N, S), dtype=bool)
        kpm[0, -1] = kpm[1, 1] = True
        am = np.triu(np.ones((L, S), dtype=bool), 2)
        if kind == "float":
            kpm = np.where(kpm, -np.inf, 0.0)
            am = rng.standard_normal((L, S))
        out = {"key_padding_mask": kpm, "attn_mask": am}
    elif kind == "3d":
        out = {"attn_mask": rng.standard_normal((N * H, L, S))}
    return ({k: rg.tensor(v) for k, v in out.items()},
            {k: torch.tensor(v) for k, v in out.items()})


CASES = [
    ({}, {}, "none"),
    ({"add_bias_kv": True}, {}, "bool"),
    ({"add_zero_attn": True}, {}, "float"),
    ({"add_bias_kv": True, "add_zero_attn": True}, {}, "3d"),
    ({"kdim": 5, "vdim": 3}, {}, "bool"),
    ({"kdim": 5, "vdim": 3, "batch_first": True, "bias": False}, {}, "float"),
    ({}, {"need_weights": False}, "bool"),
    ({}, {"average_attn_weights": False}, "3d"),
    ({"batch_first": True}, {"average_attn_weights": False}, "bool"),
]


@pytest.mark.parametrize("kw,call,masks", CASES)
def test_mha_matches_torch_with_gradients(torch_ref, kw, call, masks):
    torch = torch_ref
    mine, ref = _pair(torch, **kw)
    rng = np.random.default_rng(3)
    kdim, vdim = kw.get("kdim", E), kw.get("vdim", E)
    first = kw.get("batch_first", False)

    def shape(n, d):
        return (N, n, d) if first else (n, N, d)

    arrays = [rng.standard_normal(shape(L, E)), rng.standard_normal(shape(S, kdim)),
              rng.standard_normal(shape(S, vdim))]
    xs = [rg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    mr, mt = _masks(torch, rng, masks)
    out_r, w_r = mine(*xs, **mr, **call)
    out_t, w_t = ref(*ts, **mt, **call)
    _close(out_r, out_t, "output")
    _close(w_r, w_t, "weights")
    g = rng.standard_normal(tuple(out_t.shape))
    loss_r = (out_r * rg.tensor(g)).sum() + (0 if w_r is None else (w_r * w_r).sum())
    loss_t = (out_t * torch.tensor(g)).sum() + (0 if w_t is None else (w_t * w_t).sum())
    loss_r.backward()
    loss_t.backward()
    for a, b in zip(xs, ts):
        _close(a.grad, b.grad, "input grad")
    for (name, p), (_, q) in zip(mine.named_parameters(), ref.named_parameters()):
        _close(p.grad, q.grad, name)


def test_is_causal_and_unbatched(torch_ref):
    torch = torch_ref
    mine, ref = _pair(torch)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((L, N, E))
    causal = np.triu(np.ones((L, L), dtype=bool), 1)
    for need in (True, False):
        out_r, _ = mine(*[rg.tensor(x)] * 3, attn_mask=rg.tensor(causal), is_causal=True,
                        need_weights=need)
        out_t, _ = ref(*[torch.tensor(x)] * 3, attn_mask=torch.tensor(causal), is_causal=True,
                       need_weights=need)
        _close(out_r, out_t, f"causal need_weights={need}")
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        mine(*[rg.tensor(x)] * 3, is_causal=True)
    out_r, w_r = mine(*[rg.tensor(x[:, 0])] * 3)
    out_t, w_t = ref(*[torch.tensor(x[:, 0])] * 3)
    _close(out_r, out_t, "unbatched")
    _close(w_r, w_t, "unbatched weights")
    with pytest.raises(RuntimeError, match="shape of the 2D attn_mask"):
        mine(*[rg.tensor(x)] * 3, attn_mask=rg.zeros(2, 2, dtype=rg.bool))


def test_functional_form_matches_torch(torch_ref):
    torch = torch_ref
    rng = np.random.default_rng(5)
    arrays = {"q": rng.standard_normal((L, N, E)), "k": rng.standard_normal((S, N, E)),
              "v": rng.standard_normal((S, N, E)), "w": rng.standard_normal((3 * E, E)),
              "b": rng.standard_normal(3 * E), "bk": rng.standard_normal((1, 1, E)),
              "bv": rng.standard_normal((1, 1, E)), "ow": rng.standard_normal((E, E)),
              "ob": rng.standard_normal(E)}
    rt = {k: rg.tensor(v, requires_grad=True) for k, v in arrays.items()}
    tt = {k: torch.tensor(v, requires_grad=True) for k, v in arrays.items()}
    kpm = np.zeros((N, S), dtype=bool)
    kpm[1, 0] = True

    def run(lib, t, mask):
        return lib.nn.functional.multi_head_attention_forward(
            t["q"], t["k"], t["v"], E, H, t["w"], t["b"], t["bk"], t["bv"], True, 0.0, t["ow"],
            t["ob"], training=True, key_padding_mask=mask, average_attn_weights=False)

    out_r, w_r = run(rg, rt, rg.tensor(kpm))
    out_t, w_t = run(torch, tt, torch.tensor(kpm))
    _close(out_r, out_t)
    _close(w_r, w_t)
    (out_r.sum() + w_r.pow(2).sum()).backward()
    (out_t.sum() + w_t.pow(2).sum()).backward()
    for k in arrays:
        _close(rt[k].grad, tt[k].grad, k)


def test_mha_gradcheck():
    rg.manual_seed(1)
    mha = rg.nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True, kdim=3,
                                   dtype=rg.float64)
    q = rg.randn(2, 1, 4, dtype=rg.float64, requires_grad=True)
    k = rg.randn(3, 1, 3, dtype=rg.float64, requires_grad=True)
    v = rg.randn(3, 1, 4, dtype=rg.float64, requires_grad=True)

    def f(q, k, v):
        out, w = mha(q, k, v)
        return out.sum() + (w * w).sum()

    assert rg.autograd.gradcheck(f, (q, k, v))
    assert rg.autograd.gradgradcheck(f, (q, k, v))
