#!/usr/bin/env python3
"""Random inputs of a cascade in the declared ranges, written by numpy as
.npy files (the reference evaluator would take minutes at benchmark sizes).
Weights without a declared range are scaled like a trained model's (1/sqrt
of the fan-in), which keeps activations in range through a block.

Usage: inputs.py MAMBALAYA FILE DIR [-D NAME=VALUE]...
"""
import json
import os
import subprocess
import sys

import numpy as np


def make_inputs(binary, src, args, d, seed=7):
    ir = json.loads(subprocess.run([binary, "check", src, *args, "--dump-ir=json"], check=True,
                                   capture_output=True, text=True).stdout)
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(seed)
    for t in ir["tensors"]:
        if t["role"] in ("input", "weight"):
            lo, hi = t.get("random", {}).get("uniform", (-1.0, 1.0))
            x = rng.uniform(lo, hi, t["shape"]).astype(np.float32)
            if t["role"] == "weight" and len(t["shape"]) > 1 and "random" not in t:
                x *= np.float32(1.0 / np.sqrt(t["shape"][0]))
            np.save(os.path.join(d, t["name"] + ".npy"), x)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    make_inputs(sys.argv[1], sys.argv[2], sys.argv[4:], sys.argv[3])
