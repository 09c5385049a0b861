"""What the PyTorch peers of bench/ share: the command line
(INDIR RUNS [--threads N] [--out DIR]), loading the .npy inputs, timing
the block (one warm-up, then RUNS calls; median and minimum) and saving its
outputs for comparison with ours.  Never a dependency of the product.
"""
import os
import sys
import time

import numpy as np
import torch


def load(d, name):
    return torch.from_numpy(np.load(os.path.join(d, name + ".npy")))


def main(block, names, doc):
    """Runs block on the inputs names of INDIR as the usage in doc says;
    returns the exit status."""
    if len(sys.argv) < 3:
        print(doc, file=sys.stderr)
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
    t = {n: load(d, n) for n in names}
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
            np.save(os.path.join(out, k + ".npy"), v.contiguous().numpy().astype(np.float32))
    return 0
