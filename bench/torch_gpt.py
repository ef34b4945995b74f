"""Benchmark peer: the same GPT as src/model/gpt.ts (nanochat's: rotary, QK-norm, ReLU^2 MLP, soft-capped
logits) trained with PyTorch CPU eager, for `nanochat bench train`.

Prints one JSON line: {"tokens_per_sec": ..., "threads": ...}. Written for this project;
run by src/bench/train.ts only when `import torch` works (Debian: apt-get install python3-torch).
Usage: python3 torch_gpt.py DEPTH HEAD_DIM VOCAB SEQ ROWS STEPS
"""
import json, math, os, sys, time
import torch
import torch.nn.functional as F

depth, head_dim, vocab, seq, rows, steps = map(int, sys.argv[1:7])
torch.manual_seed(0)
torch.set_num_threads(os.cpu_count() or 1)  # Debian's build may default to 1
C = 64 * depth
H = max(1, math.ceil(C / head_dim))
D = C // H
Vp = (vocab + 63) // 64 * 64

def rms(x):
    return F.rms_norm(x, (x.size(-1),)) if hasattr(F, "rms_norm") else x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1.1920929e-07)

freq = 10000.0 ** (-torch.arange(0, D, 2).float() / D)
ang = torch.arange(seq).float()[:, None] * freq[None, :]
cos, sin = ang.cos()[None, :, None, :], ang.sin()[None, :, None, :]

def rope(x):
    x1, x2 = x[..., : D // 2], x[..., D // 2 :]
    return torch.cat([x1 * cos + x2 * sin, -x1 * sin + x2 * cos], -1)

mask = torch.ones(seq, seq).triu(1).bool()

def attend(q, k, v):
    # PyTorch >= 2.0 has a fused kernel; Debian's 1.13 gets the plain composition
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    s = (q @ k.transpose(-2, -1)) / math.sqrt(D)
    return s.masked_fill(mask, float("-inf")).softmax(-1) @ v

def lin(o, i, zero=False):
    w = torch.zeros(o, i) if zero else torch.randn(o, i) * (1 / math.sqrt(i)) * min(1, math.sqrt(o / i))
    return w.requires_grad_()

wte = torch.randn(Vp, C).requires_grad_()
blocks = [dict(q=lin(C, C), k=lin(C, C), v=lin(C, C), o=lin(C, C, True), fc=lin(4 * C, C), proj=lin(C, 4 * C, True)) for _ in range(depth)]
head = (torch.randn(Vp, C) * 0.01).requires_grad_()
params = [wte, head] + [w for b in blocks for w in b.values()]
opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.8, 0.95), eps=1e-10, weight_decay=0.0)

def step(idx, tgt):
    B, T = idx.shape
    x = rms(F.embedding(idx, wte))
    for b in blocks:
        h = rms(x)
        q = rope((h @ b["q"].t()).view(B, T, H, D))
        k = rope((h @ b["k"].t()).view(B, T, H, D))
        v = (h @ b["v"].t()).view(B, T, H, D)
        q, k = rms(q), rms(k)
        y = attend(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        x = x + y.transpose(1, 2).reshape(B, T, C) @ b["o"].t()
        x = x + F.relu(rms(x) @ b["fc"].t()).square() @ b["proj"].t()
    logits = 15 * torch.tanh((rms(x) @ head.t()).float() / 15)
    loss = F.cross_entropy(logits[..., :vocab].reshape(-1, vocab), tgt.reshape(-1))
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss.item()

idx = torch.randint(0, vocab, (rows, seq))
tgt = torch.randint(0, vocab, (rows, seq))
step(idx, tgt)  # warm-up
t0 = time.perf_counter()
for _ in range(steps):
    step(idx, tgt)
dt = (time.perf_counter() - t0) / steps
print(json.dumps({"tokens_per_sec": rows * seq / dt, "threads": torch.get_num_threads(), "torch": torch.__version__}))
