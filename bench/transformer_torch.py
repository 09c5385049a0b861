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
import sys

import torch
import torch.nn.functional as F

import torch_peer

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
    return torch_peer.main(block, NAMES, __doc__)


if __name__ == "__main__":
    sys.exit(main())
