#!/usr/bin/env python3
"""Cascade.run() from Python against the standalone driver: the same
kernel (the plan for this CPU: `run` and run(arch='host')), the same inputs, timed side by side in interleaved
rounds; medians.  The Python figure is a second-or-later call (the kernel
is built and loaded once), and includes the hand-over of numpy arrays and
the allocation of the outputs; the driver's is its --bench median (the
kernel call alone, its inputs already in memory).

Usage: PYTHONPATH=python python_run.py [--rounds R] [--runs N] [CASE]...
CASE: FILE[:NAME=VALUE,...]; default: mamba1 at its default sizes and at
B=2,I=128, mlp, attention.
Prints one row per case: the two medians and their ratio.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import mambalaya

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BIN = os.environ.get("MAMBALAYA_BIN", os.path.join(ROOT, "build", "mambalaya"))
DEFAULT = ["examples/mamba1.ein", "examples/mamba1.ein:B=2,I=128", "examples/mlp.ein:M=256,D=512",
           "examples/attention.ein:M=512,P=512,E=64,F=64"]


def parse_case(s):
    f, _, p = s.partition(":")
    params = {}
    for kv in filter(None, p.split(",")):
        k, v = kv.split("=")
        params[k] = int(v)
    return os.path.join(ROOT, f), params


def driver_median(f, params, indir, runs, work):
    args = [BIN, "run", f, "--in", indir, "--out", os.path.join(work, "out"),
            "--bench", str(runs), "--quiet"]
    for k, v in params.items():
        args += ["-D", "%s=%d" % (k, v)]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return float(re.search(r"median_ms=([0-9.]+)", out).group(1))


def python_median(c, ins, runs, cache):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        c.run(ins, cache_dir=cache)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("cases", nargs="*")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="mambalaya-pyrun-")
    cache = os.path.join(work, "kernels")
    print("%-44s %12s %12s %7s" % ("case", "driver ms", "python ms", "ratio"))
    try:
        for case in a.cases or DEFAULT:
            f, params = parse_case(case)
            c = mambalaya.load(f, **params)
            indir = os.path.join(work, "in")
            shutil.rmtree(indir, ignore_errors=True)
            os.makedirs(indir)
            rng = np.random.default_rng(1)
            ins = {}
            for t in c.check()["tensors"]:
                if t["role"] in ("input", "weight"):
                    lo, hi = t.get("random", {}).get("uniform", (-1.0, 1.0))
                    ins[t["name"]] = rng.uniform(lo, hi, t["shape"]).astype(np.float32)
                    np.save(os.path.join(indir, t["name"] + ".npy"), ins[t["name"]])
            c.run(ins, cache_dir=cache)  # build and load once
            d, p = [], []
            for _ in range(a.rounds):
                d.append(driver_median(f, params, indir, a.runs, work))
                p.append(python_median(c, ins, a.runs, cache))
            dm, pm = statistics.median(d), statistics.median(p)
            print("%-44s %12.3f %12.3f %7.3f" % (case, dm, pm, pm / dm), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
