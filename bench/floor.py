#!/usr/bin/env python3
"""The BLAS floor of a cascade: the time OpenBLAS takes for the cascade's
own matrix products alone, nothing else.

Every Einsum that is a product of two tensors summed over its reduced
ranks (as the IR says: two reads, reduce +, the expression their product
and constants) counts once, with its shape taken from the IR: M the
output's ranks of the first operand only, N of the second only, K the
reduced ranks, a batch of the ranks of both.  A product with a filter
between two of its ranks (a causal mask) counts half, as an ideal blocked
product would do.  A product that reads the state of a recurrence (a
tensor a generational Einsum writes: the scan's output contraction) is
part of the scan, not of the projections, and is listed but not counted;
so are products with fewer than 16 terms in each sum (a depthwise
convolution) and batches of dot products (M = N = 1: a norm's sum of
squares), which no BLAS call would do.
Each is timed as numpy's matmul on random float32
operands (numpy's BLAS here is Debian's OpenBLAS, libblas.so.3), best of
the repetitions; the floor is the sum.

Usage: floor.py MAMBALAYA FILE [-D NAME=VALUE]... [--reps N]
Prints one line per product, then: floor: ms=X products=N
"""
import json
import re
import subprocess
import sys
import time

import numpy as np


def ir_of(mambalaya, f, defines):
    args = [mambalaya, "check", f, "--dump-ir=json"]
    for d in defines:
        args += ["-D", d]
    return json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)


def product_shape(e):
    """(batch, M, N, K, half) of a product Einsum, or None."""
    if len(e["reads"]) != 2 or e["spec"]["reduce"] != "+" or e["generational"]:
        return None
    rest = e["expr"]
    for r in e["reads"]:
        rest = rest.replace(r["text"], "", 1)
    if not re.fullmatch(r"[\s*0-9.eE+-]*", rest):
        return None  # not a plain product of the two reads and constants
    size = {r["name"]: r["size"] for r in e["ranks"]}
    red = [r["name"] for r in e["ranks"] if r["kind"] == "reduced"]
    if not red:
        return None
    # The ranks each operand uses (an index may be an expression: i+1).
    a, b = ({v for ix in r["indices"] for v in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", ix)
             if v in size} for r in e["reads"])
    out = e["output"]["indices"]
    dims = {"b": 1, "m": 1, "n": 1, "k": 1}
    for v in out:
        dims["b" if v in a and v in b else "m" if v in a else "n"] *= size[v]
    for v in red:
        dims["k"] *= size[v]
    return dims["b"], dims["m"], dims["n"], dims["k"], bool(e["filters"])


def time_product(batch, m, n, k, reps):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, m, k), dtype=np.float32)
    y = rng.standard_normal((batch, k, n), dtype=np.float32)
    c = np.empty((batch, m, n), dtype=np.float32)
    np.matmul(x, y, out=c)
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        np.matmul(x, y, out=c)
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def main():
    argv = sys.argv[1:]
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    mambalaya, f = argv[0], argv[1]
    defines, reps = [], 5
    rest = argv[2:]
    while rest:
        a = rest.pop(0)
        if a == "-D":
            defines.append(rest.pop(0))
        elif a.startswith("-D"):
            defines.append(a[2:])
        elif a == "--reps":
            reps = int(rest.pop(0))
    total, count = 0.0, 0
    ir = ir_of(mambalaya, f, defines)
    scan = {e["output"]["tensor"] for e in ir["einsums"] if e["generational"]}
    for e in ir["einsums"]:
        sh = product_shape(e)
        if not sh:
            continue
        if any(r["tensor"] in scan for r in e["reads"]):
            print("  %-8s reads a recurrence's state: part of the scan, not counted" % e["name"])
            continue
        if sh[3] < 16 or (sh[1] == 1 and sh[2] == 1):
            print("  %-8s K %d, M %d, N %d: not a matrix product, not counted"
                  % (e["name"], sh[3], sh[1], sh[2]))
            continue
        batch, m, n, k, half = sh
        ms = time_product(batch, m, n, k, reps) * (0.5 if half else 1.0)
        total += ms
        count += 1
        print("  %-8s batch %4d  M %6d  N %6d  K %6d%s  %9.3f ms"
              % (e["name"], batch, m, n, k, "  (filtered: half)" if half else "", ms))
    print("floor: ms=%.3f products=%d" % (total, count))
    return 0


if __name__ == "__main__":
    sys.exit(main())
