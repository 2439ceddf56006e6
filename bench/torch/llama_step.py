"""The PyTorch contender of bench/train-step.ts: the tiny LLaMA of
examples/llama/src/model.ts and the AdamW of the main job's adam config,
written with PyTorch's eager ops, one training step per request.

The model, op for op as model.ts and autodiff's nn.ts write it: token
embedding; per block x += attention(rms_norm(x)), x += swiglu(rms_norm(x));
a final rms_norm and an untied head. rms_norm is x * rsqrt(mean(x^2) + 1e-6)
* w; attention splits D into H heads of D/H, rotates q and k by rotary
position embedding in the "rotate half" form (pairs (x_i, x_{i+d/2}),
angle t * 10000^(-2i/d), tables computed in float64 and stored as float32),
scores q.k^T / sqrt(d) with the causal mask filled by -1e9, softmax, times
v, heads merged, times wo; swiglu is (silu(x w1) * (x w3)) w2; the loss is
the mean cross-entropy of tokens[:, 1:] given tokens[:, :-1]. Initial
weights come from the TS side (so the init rules are ours by construction),
and so do the batches.

The optimizer: torch.optim.AdamW with the main job's betas, eps and weight
decay, the learning rate set before each step from the same schedule as
examples/llama/src/optimizers.ts (linear warmup from 0 over
round(warmup * steps) steps, then cosine decay to end_fraction * lr),
evaluated at the 0-based step count as optax and frugal-ts do.

Protocol (stdin/stdout, one JSON object per line): started with
`llama_step.py THREADS INIT_JSON INIT_BIN`; it answers `{"ready": ...}` (or
`{"skip": reason}` when torch cannot be imported, then exits 0); each
request `step` runs the next step on the next batch and answers
`{"loss", "lr", "ms"}` (ms: the step inside this process); `quit` ends it.
"""

import json
import math
import sys
import time


def main():
    threads, header_path, bin_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    try:
        import torch
        import torch.nn.functional as F
    except Exception as e:  # ImportError, or a broken BLAS underneath
        print(json.dumps({"skip": f"PyTorch is not importable here ({type(e).__name__}: {e})"}), flush=True)
        return
    import numpy as np

    torch.set_num_threads(threads)
    with open(header_path) as f:
        h = json.load(f)
    raw = open(bin_path, "rb").read()
    m = h["model"]
    vocab, layers, width, heads, context = m["vocab"], m["layers"], m["width"], m["heads"], m["context"]
    batch = h["batch"]
    params = {}
    for p in h["params"]:
        n = math.prod(p["shape"])
        a = np.frombuffer(raw, dtype=np.float32, count=n, offset=p["offset"]).reshape(p["shape"])
        params[p["name"]] = torch.tensor(a.copy(), requires_grad=True)
    nb = h["batches"]["count"]
    tokens = np.frombuffer(raw, dtype=np.int32, count=nb * batch * (context + 1), offset=h["batches"]["offset"])
    batches = torch.tensor(tokens.astype(np.int64)).reshape(nb, batch, context + 1)

    dh = width // heads
    half = dh // 2
    cos = torch.tensor([[math.cos(t * 10000.0 ** (-2 * i / dh)) for i in range(half)] for t in range(context)], dtype=torch.float32)
    sin = torch.tensor([[math.sin(t * 10000.0 ** (-2 * i / dh)) for i in range(half)] for t in range(context)], dtype=torch.float32)
    mask = torch.ones(context, context, dtype=torch.bool).tril()
    scale = 1 / math.sqrt(dh)

    def rms_norm(x, w):
        return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + 1e-6) * w

    def rope(x):
        x1, x2 = x[..., :half], x[..., half:]
        return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1)

    def attention(x, i):
        b, t, d = x.shape
        p = lambda n: params[f"layers.{i}.attn.{n}"]
        split = lambda y: y.reshape(b, t, heads, dh).transpose(1, 2)
        q, k, v = split(x @ p("wq")), split(x @ p("wk")), split(x @ p("wv"))
        q, k = rope(q), rope(k)
        s = (q @ k.transpose(-1, -2)) * scale
        s = s.masked_fill(~mask[:t, :t], -1e9)
        o = torch.softmax(s, -1) @ v
        return o.transpose(1, 2).reshape(b, t, d) @ p("wo")

    def loss_of(ids):
        x_ids, y_ids = ids[:, :-1], ids[:, 1:]
        x = F.embedding(x_ids, params["embed"])
        for i in range(layers):
            x = x + attention(rms_norm(x, params[f"layers.{i}.attn_norm"]), i)
            y = rms_norm(x, params[f"layers.{i}.mlp_norm"])
            mp = lambda n: params[f"layers.{i}.mlp.{n}"]
            x = x + (F.silu(y @ mp("w1")) * (y @ mp("w3"))) @ mp("w2")
        logits = rms_norm(x, params["final_norm"]) @ params["head"]
        return F.cross_entropy(logits.reshape(-1, vocab), y_ids.reshape(-1))

    a = h["adam"]
    opt = torch.optim.AdamW(params.values(), lr=0.0, betas=(a["b1"], a["b2"]), eps=a["eps"], weight_decay=a["weightDecay"])
    s = h["schedule"]
    # JS Math.round (halves up), as optimizers.ts rounds the warmup
    warmup = min(math.floor(s["warmup"] * s["steps"] + 0.5), s["steps"] - 1)
    decay = max(s["steps"], warmup + 1) - warmup
    peak, end = s["lr"], s["lr"] * s["endFraction"]
    alpha = 0.0 if peak == 0 else end / peak

    def lr_at(k):
        if k < warmup:
            return peak * k / warmup
        t = min(k - warmup, decay)
        return peak * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * t / decay)) + alpha)

    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    k = 0
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "quit":
            break
        if cmd != "step":
            print(json.dumps({"error": f"unknown request {cmd!r} (expected step or quit)"}), flush=True)
            continue
        if k >= nb:
            print(json.dumps({"error": f"no batch left: {nb} were handed over"}), flush=True)
            continue
        t0 = time.perf_counter()
        lr = lr_at(k)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss = loss_of(batches[k])
        loss.backward()
        opt.step()
        value = loss.item()
        ms = (time.perf_counter() - t0) * 1000
        k += 1
        print(json.dumps({"loss": value, "lr": lr, "ms": ms}), flush=True)


if __name__ == "__main__":
    main()
