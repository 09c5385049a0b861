#!/usr/bin/env python3
"""The Mamba-2 block of examples/mamba2.ein in PyTorch (fp32), as a peer
and a cross-check for the generated C: the same formulas (one group of B
and C, a scalar decay per head), the same .npy inputs, the scan as a loop
over tokens in eager mode (the reference formulation).  Never a dependency
of the product: bench/ and the tests only.

Usage: mamba2_torch.py INDIR RUNS [--threads N] [--out DIR]
Prints: torch: runs=N median_ms=X min_ms=Y
"""
import sys

import torch
import torch.nn.functional as F

import torch_peer

NAMES = ["LX", "RES", "CX0", "CB0", "CC0", "H0", "NW", "WZ", "WX", "WB", "WC", "WDT", "KX",
         "KB", "KC", "BKX", "BKB", "BKC", "DTB", "A", "DS", "NW2", "WO"]


def conv(state, x, k, b):
    """Causal depthwise conv over the token axis of x [B, I, C...] after
    state [B, W-1, C...]; k [C..., W]; returns silu(conv + b) and the new
    state."""
    B, I = x.shape[:2]
    W = k.shape[-1]
    xp = torch.cat([state, x], dim=1)
    y = sum(xp[:, w:w + I] * k[..., w] for w in range(W))
    return F.silu(y + b), xp[:, I:]


def block(t):
    rs = t["LX"] + t["RES"]
    B, I, ED = rs.shape
    H, P = t["NW2"].shape
    nx = rs * torch.rsqrt((rs * rs).mean(-1, keepdim=True) + 1e-5) * t["NW"]
    z = (nx @ t["WZ"].reshape(ED, H * P)).reshape(B, I, H, P)
    tx = (nx @ t["WX"].reshape(ED, H * P)).reshape(B, I, H, P)
    tb = nx @ t["WB"]
    tc = nx @ t["WC"]
    tdt = nx @ t["WDT"]
    xc, cx1 = conv(t["CX0"], tx, t["KX"], t["BKX"])
    bc, cb1 = conv(t["CB0"], tb, t["KB"], t["BKB"])
    cc, cc1 = conv(t["CC0"], tc, t["KC"], t["BKC"])
    dt = F.softplus(tdt + t["DTB"])                        # B, I, H
    da = torch.exp(dt * t["A"])                            # B, I, H
    h = t["H0"].clone()                                    # B, H, P, N
    ys = []
    for i in range(I):
        bx = (dt[:, i, :, None, None] * xc[:, i, :, :, None]) * bc[:, i, None, None, :]
        h = da[:, i, :, None, None] * h + bx
        ys.append((h * cc[:, i, None, None, :]).sum(-1))  # B, H, P
    y = torch.stack(ys, dim=1) + t["DS"][:, None] * xc
    gy = y * F.silu(z)
    ny = gy * torch.rsqrt((gy * gy).mean((-1, -2), keepdim=True) + 1e-5) * t["NW2"]
    lo = ny.reshape(B, I, H * P) @ t["WO"].reshape(H * P, ED)
    return {"LO": lo, "RS": rs, "CX1": cx1, "CB1": cb1, "CC1": cc1, "HF": h}


def main():
    return torch_peer.main(block, NAMES, __doc__)


if __name__ == "__main__":
    sys.exit(main())
