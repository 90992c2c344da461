"""Real workloads, written once against either library (``lib`` is ``retrograd`` or ``torch``).

Each ``make_*(lib, state)`` builds a model and returns ``step()``, one training step as a real
program writes it (forward, loss, ``zero_grad``, ``backward``, optimizer step) returning the
loss as a float. Both libraries start from the same weights (PyTorch's initialisation, copied
into retrograd through ``load_state_dict``) and read the same batches in the same order, so
their losses must agree step by step; the harness checks that.

``state`` is shared by the two calls for one case: the first call (PyTorch) puts its initial
state dict there and the second (retrograd) loads it.
"""

from __future__ import annotations

import math

import numpy as np


def _copy_init(lib, model, state: dict) -> None:
    """First library: remember its initial weights; second library: load them."""
    if "weights" not in state:
        state["weights"] = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    else:
        model.load_state_dict({k: lib.tensor(v) for k, v in state["weights"].items()})


def _batches(lib, arrays: list) -> list:
    return [tuple(lib.tensor(a) for a in batch) for batch in arrays]


# ---- a GPT-style transformer (nanoGPT's shape) ------------------------------------------------

GPT = dict(vocab=256, block=64, n_layer=2, n_head=4, n_embd=128, batch=8)


def gpt_model(lib, manual: bool):
    """The model classes, defined against ``lib``. ``manual``: attention and GELU written out
    as minGPT does (masked_fill + softmax, 0.5 x (1 + tanh(...x ** 3))), else
    ``F.scaled_dot_product_attention`` and ``nn.GELU(approximate='tanh')`` as nanoGPT does."""
    nn = lib.nn
    F = nn.functional
    cfg = GPT

    class NewGELU(nn.Module):
        def forward(self, x):
            return 0.5 * x * (1.0 + lib.tanh(math.sqrt(2.0 / math.pi)
                                             * (x + 0.044715 * lib.pow(x, 3.0))))

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(cfg["n_embd"], 3 * cfg["n_embd"])
            self.c_proj = nn.Linear(cfg["n_embd"], cfg["n_embd"])
            self.n_head = cfg["n_head"]
            t = cfg["block"]
            self.register_buffer("bias", lib.tril(lib.ones(t, t)).view(1, 1, t, t))

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(C, dim=2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            if manual:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
                att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
                att = F.softmax(att, dim=-1)
                y = att @ v
            else:
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.c_proj(y)

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(cfg["n_embd"], 4 * cfg["n_embd"])
            self.gelu = NewGELU() if manual else nn.GELU(approximate="tanh")
            self.c_proj = nn.Linear(4 * cfg["n_embd"], cfg["n_embd"])

        def forward(self, x):
            return self.c_proj(self.gelu(self.c_fc(x)))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(cfg["n_embd"])
            self.attn = CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(cfg["n_embd"])
            self.mlp = MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPTModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(cfg["vocab"], cfg["n_embd"]),
                wpe=nn.Embedding(cfg["block"], cfg["n_embd"]),
                h=nn.ModuleList([Block() for _ in range(cfg["n_layer"])]),
                ln_f=nn.LayerNorm(cfg["n_embd"]),
            ))
            self.lm_head = nn.Linear(cfg["n_embd"], cfg["vocab"], bias=False)
            self.transformer.wte.weight = self.lm_head.weight  # weight tying

        def forward(self, idx, targets):
            t = idx.size(1)
            pos = lib.arange(0, t, dtype=lib.long)
            x = self.transformer.wte(idx) + self.transformer.wpe(pos)
            for block in self.transformer.h:
                x = block(x)
            logits = self.lm_head(self.transformer.ln_f(x))
            return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))

    return GPTModel()


def make_gpt(lib, state: dict, manual: bool = False):
    """One AdamW step of a 2-layer GPT (d=128, 4 heads, context 64, batch 8, vocab 256)."""
    lib.manual_seed(0)
    model = gpt_model(lib, manual)
    _copy_init(lib, model, state)
    rng = np.random.default_rng(0)
    cfg = GPT
    data = rng.integers(0, cfg["vocab"], (4, cfg["batch"], cfg["block"] + 1))
    batches = _batches(lib, [(d[:, :-1].copy(), d[:, 1:].copy()) for d in data])
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = lib.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                 {"params": no_decay, "weight_decay": 0.0}],
                                lr=3e-4, betas=(0.9, 0.95))
    it = [0]

    def step():
        x, y = batches[it[0] % len(batches)]
        it[0] += 1
        loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss.item()

    return step


def make_gpt_manual(lib, state: dict):
    """The same GPT step with minGPT's hand-written attention and GELU (x ** 3, masked_fill)."""
    return make_gpt(lib, state, manual=True)


# ---- a CNN (CIFAR-sized images) ---------------------------------------------------------------


def make_cnn(lib, state: dict):
    """One SGD-momentum step of a conv-BN-ReLU-pool x2 + linear CNN on 32 3x32x32 images."""
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 8 * 8, 10))
    _copy_init(lib, model, state)
    rng = np.random.default_rng(1)
    batches = _batches(lib, [(rng.standard_normal((32, 3, 32, 32)).astype(np.float32),
                              rng.integers(0, 10, 32)) for _ in range(4)])
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    it = [0]

    def step():
        x, y = batches[it[0] % len(batches)]
        it[0] += 1
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


# ---- an LSTM language model -------------------------------------------------------------------


def make_lstm(lib, state: dict):
    """One Adam step of an embedding-LSTM(2 layers, 256)-linear language model, batch 16 x 32."""
    nn = lib.nn
    vocab, emb, hidden = 128, 128, 256

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, emb)
            self.lstm = nn.LSTM(emb, hidden, num_layers=2, batch_first=True)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, idx):
            out, _ = self.lstm(self.embed(idx))
            return self.head(out)

    lib.manual_seed(0)
    model = LM()
    _copy_init(lib, model, state)
    rng = np.random.default_rng(2)
    data = rng.integers(0, vocab, (4, 16, 33))
    batches = _batches(lib, [(d[:, :-1].copy(), d[:, 1:].copy()) for d in data])
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    F = nn.functional
    it = [0]

    def step():
        x, y = batches[it[0] % len(batches)]
        it[0] += 1
        optimizer.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()
        return loss.item()

    return step


# ---- large elementwise work -------------------------------------------------------------------

N_ELEMENTWISE = 1_000_000


def _elementwise_inputs():
    rng = np.random.default_rng(3)
    return (rng.standard_normal(N_ELEMENTWISE).astype(np.float32),
            rng.standard_normal(N_ELEMENTWISE).astype(np.float32))


def make_elementwise(lib, state: dict):
    """Ten elementwise ops on two 1e6-element float32 tensors, then sum().backward()."""
    xa, ya = _elementwise_inputs()
    x = lib.tensor(xa, requires_grad=True)
    y = lib.tensor(ya, requires_grad=True)

    def step():
        x.grad = y.grad = None
        a = x * y
        b = a + x
        c = b.sin()
        d = c * y
        e = x.exp()
        f = y * y
        g = f + 1
        h = e / g
        i = d - h
        j = i.tanh()
        loss = j.sum()
        loss.backward()
        return loss.item()

    return step


def numpy_elementwise():
    """The same forward and backward written by hand with NumPy (what a fused kernel beats)."""
    x, y = _elementwise_inputs()

    def step():
        a = x * y
        b = a + x
        c = np.sin(b)
        d = c * y
        e = np.exp(x)
        f = y * y
        g = f + 1
        h = e / g
        i = d - h
        j = np.tanh(i)
        loss = j.sum(dtype=np.float32)
        gi = 1 - j * j
        gd = gi
        gh = -gi
        ge = gh / g
        gg = -gh * h / g
        gy = 2 * y * gg + c * gd
        gc = gd * y
        gb = gc * np.cos(b)
        gx = gb + gb * y + ge * e
        gy += gb * x
        return float(loss), gx, gy

    return lambda: step()[0]
