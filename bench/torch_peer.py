#!/usr/bin/env python3
"""PyTorch peer of the Go trainer benchmark (issues 7 and 14).

Builds a reference backbone of DESIGN §2 and times training on one fixed
random batch, the same shapes the Go benchmark uses (batch 32, 3x32x32,
10 classes):

  --backbone resnet  widths 16/32/64/128, depths 1/1/3/1, OPM heads
                     GAP -> LayerNorm -> Linear(C->128) -> GELU.
  --backbone swin    patch 2 (16x16 tokens), embed 32, depths 2/2/6/2,
                     heads 1/2/4/8, window 4 (clamped to the stage's side;
                     then no shift), shifted windows in every second block,
                     relative position bias, MLP ratio 4 with GELU,
                     pre-LayerNorm, patch merging (2x2 concat -> LN -> Linear
                     4C->2C, no bias); OPM heads LN -> mean over tokens ->
                     Linear(C->128) -> GELU. Separate q, k, v linear layers,
                     as internal/nets declares them.

Every model has heads S2..S4 (as the Go model declares them) and output
layers Linear(128->classes); the schedule uses some of them:

  two-step  MKSMT, sync, decision KD, T = 1: update (a) CE(z3) through
            S1..S3; update (b) CE(z4) + KL(softmax(z4) || softmax(z3)),
            teacher detached. Adam after each update.
  baseline  one update, CE(z4).

Prints "params <count>" (all parameters, as the Go model counts them; with
--expect-params it exits with an error when they differ) and
"img/s <value>". CPU only, --threads threads (2).
Needs Debian's python3-torch (use /usr/bin/python3).
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

WIDTHS = (16, 32, 64, 128)
DEPTHS = (1, 1, 3, 1)
K = 128


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.n1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.n2 = nn.BatchNorm2d(cout)
        self.sc = None
        if stride != 1 or cin != cout:
            self.sc = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.n1(self.c1(x)))
        h = self.n2(self.c2(h))
        return F.relu(h + (x if self.sc is None else self.sc(x)))


class Head(nn.Module):
    """OPM_i and its output layer."""

    def __init__(self, c, classes):
        super().__init__()
        self.ln = nn.LayerNorm(c)
        self.fc = nn.Linear(c, K)
        self.out = nn.Linear(K, classes)

    def forward(self, x):
        f = F.gelu(self.fc(self.ln(x.mean(dim=(2, 3)))), approximate="tanh")
        return self.out(f)


class ResNet(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, WIDTHS[0], 3, 1, 1, bias=False), nn.BatchNorm2d(WIDTHS[0]), nn.ReLU())
        stages, cin = [], WIDTHS[0]
        for s, (w, d) in enumerate(zip(WIDTHS, DEPTHS)):
            blocks = []
            for b in range(d):
                blocks.append(Block(cin, w, 2 if s > 0 and b == 0 else 1))
                cin = w
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)
        self.heads = nn.ModuleDict({str(i): Head(WIDTHS[i - 1], classes) for i in (2, 3, 4)})

    def forward(self, x, stages, heads):
        h, z = self.stem(x), {}
        for s in range(stages):
            h = self.stages[s](h)
            if s + 1 in heads:
                z[s + 1] = self.heads[str(s + 1)](h)
        return z


class SwinAttention(nn.Module):
    """(Shifted) window attention with a relative position bias, on tokens
    (N, side*side, C); separate q, k, v projections."""

    def __init__(self, c, heads, side, win, shift):
        super().__init__()
        self.c, self.heads, self.side, self.win, self.shift = c, heads, side, win, shift
        self.q, self.k, self.v, self.proj = (nn.Linear(c, c) for _ in range(4))
        self.rpb = nn.Parameter(torch.randn((2 * win - 1) ** 2, heads) * 0.02)
        w2 = win * win
        ij = torch.arange(w2)
        dr = (ij[:, None] // win - ij[None, :] // win) + win - 1
        dc = (ij[:, None] % win - ij[None, :] % win) + win - 1
        self.register_buffer("index", (dr * (2 * win - 1) + dc).reshape(-1), persistent=False)
        mask = torch.zeros(1, 1, w2, w2)
        if shift > 0:
            def region(i):
                return 0 if i < side - win else (1 if i < side - shift else 2)
            g = side // win
            label = torch.zeros(side, side, dtype=torch.long)
            for r in range(side):
                for col in range(side):
                    label[r, col] = 3 * region(r) + region(col)
            lw = label.reshape(g, win, g, win).permute(0, 2, 1, 3).reshape(g * g, w2)
            mask = (lw[:, :, None] != lw[:, None, :]).float() * -100.0
            mask = mask[None, :, None]  # (1, nw, 1, w2, w2)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x):
        n, l, c = x.shape
        s, w, h = self.side, self.win, self.heads
        g, w2, hd = s // w, w * w, c // h
        t = x.reshape(n, s, s, c)
        if self.shift:
            t = torch.roll(t, (-self.shift, -self.shift), (1, 2))
        t = t.reshape(n, g, w, g, w, c).permute(0, 1, 3, 2, 4, 5).reshape(n * g * g, w2, c)

        def split(v):
            return v.reshape(-1, w2, h, hd).transpose(1, 2)  # (bw, heads, w2, hd)
        q = split(self.q(t)) * hd ** -0.5
        k, v = split(self.k(t)), split(self.v(t))
        a = q @ k.transpose(-2, -1)
        a = a + self.rpb[self.index].reshape(w2, w2, h).permute(2, 0, 1)[None]
        if self.shift:
            a = (a.reshape(n, g * g, h, w2, w2) + self.mask).reshape(-1, h, w2, w2)
        o = (a.softmax(-1) @ v).transpose(1, 2).reshape(-1, w2, c)
        o = self.proj(o)
        o = o.reshape(n, g, g, w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(n, s, s, c)
        if self.shift:
            o = torch.roll(o, (self.shift, self.shift), (1, 2))
        return o.reshape(n, l, c)


class SwinBlock(nn.Module):
    def __init__(self, c, heads, side, win, shift, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(c)
        self.attn = SwinAttention(c, heads, side, win, shift)
        self.norm2 = nn.LayerNorm(c)
        self.fc1 = nn.Linear(c, int(mlp_ratio * c))
        self.fc2 = nn.Linear(int(mlp_ratio * c), c)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class PatchMerge(nn.Module):
    """2x2 groups of tokens concatenated in Swin's order, LN, Linear 4C->2C."""

    def __init__(self, c, side):
        super().__init__()
        self.side = side
        self.norm = nn.LayerNorm(4 * c)
        self.lin = nn.Linear(4 * c, 2 * c, bias=False)

    def forward(self, x):
        n, _, c = x.shape
        h = self.side // 2
        t = x.reshape(n, h, 2, h, 2, c).permute(0, 1, 3, 4, 2, 5).reshape(n, h * h, 4 * c)
        return self.lin(self.norm(t))


class SwinHead(nn.Module):
    """OPM_i (LN -> mean over tokens -> Linear(C->K) -> GELU) and its output layer."""

    def __init__(self, c, classes):
        super().__init__()
        self.ln = nn.LayerNorm(c)
        self.fc = nn.Linear(c, K)
        self.out = nn.Linear(K, classes)

    def forward(self, x):
        return self.out(F.gelu(self.fc(self.ln(x).mean(1))))


class Swin(nn.Module):
    EMBED, DEPTHS, HEADS, WINDOW, PATCH, MLP, IMAGE = 32, (2, 2, 6, 2), (1, 2, 4, 8), 4, 2, 4, 32

    def __init__(self, classes):
        super().__init__()
        p, e = self.PATCH, self.EMBED
        self.embed = nn.Linear(3 * p * p, e)
        self.embed_norm = nn.LayerNorm(e)
        stages, merges = [], []
        for s in range(4):
            c, side = e << s, (self.IMAGE // p) >> s
            win, shifts = (side, False) if side <= self.WINDOW else (self.WINDOW, True)
            merges.append(PatchMerge(c // 2, 2 * side) if s > 0 else nn.Identity())
            stages.append(nn.Sequential(*(
                SwinBlock(c, self.HEADS[s], side, win, win // 2 if shifts and b % 2 == 1 else 0, self.MLP)
                for b in range(self.DEPTHS[s]))))
        self.merges, self.stages = nn.ModuleList(merges), nn.ModuleList(stages)
        self.heads = nn.ModuleDict({str(i): SwinHead(e << (i - 1), classes) for i in (2, 3, 4)})

    def forward(self, x, stages, heads):
        n, c, s, _ = x.shape
        p = self.PATCH
        g = s // p
        t = x.reshape(n, c, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(n, g * g, c * p * p)
        h, z = self.embed_norm(self.embed(t)), {}
        for i in range(stages):
            h = self.stages[i](self.merges[i](h))
            if i + 1 in heads:
                z[i + 1] = self.heads[str(i + 1)](h)
        return z


def kd(student, teacher, t=1.0):
    return F.kl_div(F.log_softmax(student / t, 1), F.log_softmax(teacher.detach() / t, 1),
                    reduction="batchmean", log_target=True) * t * t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backbone", choices=("resnet", "swin"), default="resnet")
    ap.add_argument("--expect-params", type=int, default=0,
                    help="exit with an error unless the model has this many parameters (the Go model's)")
    ap.add_argument("--schedule", choices=("two-step", "baseline"), default="two-step")
    ap.add_argument("--batches", type=int, default=20, help="timed batches")
    ap.add_argument("--warmup", type=int, default=3, help="untimed batches first")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    net = (Swin(a.classes) if a.backbone == "swin" else ResNet(a.classes)).train()
    params = sum(p.numel() for p in net.parameters())
    print(f"params {params}", flush=True)
    if a.expect_params and params != a.expect_params:
        raise SystemExit(f"torch_peer: the {a.backbone} has {params} parameters, the Go model {a.expect_params}")
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(a.batch, 3, 32, 32)
    y = torch.randint(0, a.classes, (a.batch,))

    def update(loss_of):
        opt.zero_grad(set_to_none=True)
        loss = loss_of()
        loss.backward()
        opt.step()

    def batch():
        if a.schedule == "baseline":
            update(lambda: F.cross_entropy(net(x, 4, (4,))[4], y))
            return
        update(lambda: F.cross_entropy(net(x, 3, (3,))[3], y))

        def last():
            z = net(x, 4, (3, 4))
            return F.cross_entropy(z[4], y) + kd(z[3], z[4])
        update(last)

    for _ in range(a.warmup):
        batch()
    start = time.perf_counter()
    for _ in range(a.batches):
        batch()
    elapsed = time.perf_counter() - start
    print(f"img/s {a.batch * a.batches / elapsed:.1f}")


if __name__ == "__main__":
    main()
