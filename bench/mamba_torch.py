#!/usr/bin/env python3
"""The Mamba-1 block in PyTorch (fp32), as a performance peer for the
generated C: same formulas (../shared/brief/mamba.md), same .npy inputs.
Never a dependency of the product: bench/ only.

Usage: mamba_torch.py INDIR RUNS [--threads N] [--out DIR]
Prints: torch: runs=N median_ms=X min_ms=Y
"""
import sys

import torch
import torch.nn.functional as F

import torch_peer


def block(t):
    lx, res, cs, h0 = t["LX"], t["RES"], t["CS"], t["H0"]
    B, I, ED = lx.shape
    D, N = t["A"].shape
    W = t["WCV"].shape[1]
    rs = lx + res
    nx = rs * torch.rsqrt((rs * rs).mean(-1, keepdim=True) + 1e-5) * t["NW"]
    x = nx @ t["WX"]
    z = nx @ t["WZ"]
    xp = torch.cat([cs, x], dim=1)                      # B, I+W-1, D
    cso = xp[:, I:, :]
    cv = F.conv1d(xp.transpose(1, 2), t["WCV"].unsqueeze(1), groups=D)
    u = F.silu(cv.transpose(1, 2) + t["BCV"])           # B, I, D
    dt = u @ t["WTTD"]
    bm = u @ t["WB"]
    cm = u @ t["WC"]
    delta = F.softplus(dt @ t["WTD"] + t["BTD"])        # B, I, D
    da = torch.exp(delta.unsqueeze(-1) * t["A"])        # B, I, D, N
    dbu = delta.unsqueeze(-1) * bm.unsqueeze(2) * u.unsqueeze(-1)
    h = h0.clone()
    ys = []
    for i in range(I):
        h = da[:, i] * h + dbu[:, i]
        ys.append((h * cm[:, i].unsqueeze(1)).sum(-1))
    y = torch.stack(ys, dim=1) + t["DS"] * u
    g = y * F.silu(z)
    lo = g @ t["WO"]
    return {"LO": lo, "RS": rs, "CSO": cso, "HF": h}


NAMES = ["LX", "RES", "CS", "H0", "NW", "WX", "WZ", "WCV", "BCV", "WTTD",
         "WB", "WC", "WTD", "BTD", "A", "DS", "WO"]


def main():
    return torch_peer.main(block, NAMES, __doc__)


if __name__ == "__main__":
    sys.exit(main())
