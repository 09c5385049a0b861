#!/usr/bin/env python3
"""The pre-LN transformer block of examples/transformer.ein in PyTorch
(fp32), as a performance peer and a cross-check for the generated C: the
same formulas, the same .npy inputs.  Never a dependency of the product:
bench/ and the tests only.

Attention is PyTorch's own causal scaled_dot_product_attention when the
installed version has it (2.0 and later), else the explicit masked
softmax; both compute the same values.

Usage: transformer_torch.py INDIR RUNS [--threads N] [--out DIR]
Prints: torch: runs=N median_ms=X min_ms=Y
"""
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

NAMES = ["X", "LN1W", "LN1B", "WQ", "WK", "WV", "BQ", "BK", "BV", "WO", "BO",
         "LN2W", "LN2B", "W1", "B1", "W2", "B2"]


def block(t):
    x = t["X"]
    B, S, E = x.shape
    H, P = t["BQ"].shape
    n1 = F.layer_norm(x, (E,), t["LN1W"], t["LN1B"], eps=1e-5)
    # [B, S, H, P] -> [B, H, S, P]
    q = (n1 @ t["WQ"].reshape(E, H * P)).reshape(B, S, H, P).transpose(1, 2) + t["BQ"][:, None, :]
    k = (n1 @ t["WK"].reshape(E, H * P)).reshape(B, S, H, P).transpose(1, 2) + t["BK"][:, None, :]
    v = (n1 @ t["WV"].reshape(E, H * P)).reshape(B, S, H, P).transpose(1, 2) + t["BV"][:, None, :]
    if hasattr(F, "scaled_dot_product_attention"):
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.125)
    else:
        s = (q @ k.transpose(-1, -2)) * 0.125
        mask = torch.ones(S, S, dtype=torch.bool).tril()
        s = s.masked_fill(~mask, float("-inf"))
        o = torch.softmax(s, dim=-1) @ v
    at = o.transpose(1, 2).reshape(B, S, H * P) @ t["WO"].reshape(H * P, E)
    r1 = x + at + t["BO"]
    n2 = F.layer_norm(r1, (E,), t["LN2W"], t["LN2B"], eps=1e-5)
    g = F.gelu(n2 @ t["W1"] + t["B1"], approximate="tanh")
    return {"Y": r1 + g @ t["W2"] + t["B2"]}


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    d, runs = sys.argv[1], int(sys.argv[2])
    threads, out = 2, None
    args = sys.argv[3:]
    while args:
        a = args.pop(0)
        if a == "--threads":
            threads = int(args.pop(0))
        elif a == "--out":
            out = args.pop(0)
    torch.set_num_threads(threads)
    t = {n: torch.from_numpy(np.load(os.path.join(d, n + ".npy"))) for n in NAMES}
    with torch.no_grad():
        r = block(t)  # warm-up
        ms = []
        for _ in range(runs):
            t0 = time.perf_counter()
            r = block(t)
            ms.append(1e3 * (time.perf_counter() - t0))
    ms.sort()
    print("torch: runs=%d median_ms=%.3f min_ms=%.3f" % (runs, ms[len(ms) // 2], ms[0]))
    if out:
        os.makedirs(out, exist_ok=True)
        for k, v in r.items():
            np.save(os.path.join(out, k + ".npy"), v.numpy().astype(np.float32))
    return 0


if __name__ == "__main__":
    sys.exit(main())
