#!/usr/bin/env python3
"""PyTorch peer of the Go trainer benchmark (issue 7).

Builds the reference resnet of DESIGN §2 (widths 16/32/64/128, depths
1/1/3/1, OPM heads GAP -> LayerNorm -> Linear(C->128) -> GELU, output layer
Linear(128->classes)) and times training on one fixed random batch, the
same shapes the Go benchmark uses (batch 32, 3x32x32, 10 classes):

  two-step  MKSMT, sync, decision KD, T = 1: update (a) CE(z3) through
            S1..S3; update (b) CE(z4) + KL(softmax(z4) || softmax(z3)),
            teacher detached. Adam after each update.
  baseline  one update, CE(z4).

Prints one line: "img/s <value>". CPU only, --threads threads (2).
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
    def __init__(self, classes, heads):
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
        self.heads = nn.ModuleDict({str(i): Head(WIDTHS[i - 1], classes) for i in heads})

    def forward(self, x, stages, heads):
        h, z = self.stem(x), {}
        for s in range(stages):
            h = self.stages[s](h)
            if s + 1 in heads:
                z[s + 1] = self.heads[str(s + 1)](h)
        return z


def kd(student, teacher, t=1.0):
    return F.kl_div(F.log_softmax(student / t, 1), F.log_softmax(teacher.detach() / t, 1),
                    reduction="batchmean", log_target=True) * t * t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schedule", choices=("two-step", "baseline"), default="two-step")
    ap.add_argument("--batches", type=int, default=20, help="timed batches")
    ap.add_argument("--warmup", type=int, default=3, help="untimed batches first")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    heads = (3, 4) if a.schedule == "two-step" else (4,)
    net = ResNet(a.classes, heads).train()
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
