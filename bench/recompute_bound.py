#!/usr/bin/env python3
"""recompute_bound.py - how much recompute fusion could gain at most.

Recompute fusion (issue 15: a consumer's group recomputes a multi-pass
tensor's producer instead of reading the tensor from DRAM) can at best
remove the DRAM traffic of the multi-pass tensors that cross group
boundaries in the `full` plan: U (the conv output), RS (the residual) and
DELTA.  This script takes full's plan for a Mamba-1 layer (mamba-1.4b and
mamba-2.8b, batch 64, prefill at 2048 tokens) at several buffer sizes, on
the mambalaya target with 2-byte and 4-byte values, removes that traffic
from every group that reads or writes one of them from outside, charges
no compute for recomputing them, and applies the model's overlap rule
(max(C, M) + min(C, M) / tiles) again.  The result is an upper bound on
recompute's gain over full.

usage: python3 bench/recompute_bound.py [BUILD_DIR]
"""
import json
import os
import subprocess
import sys
import tempfile

MULTIPASS = ("U", "RS", "DELTA")


def plan(binary, arch, ed, buf):
    out = subprocess.check_output(
        [binary, "plan", "examples/mamba1.ein", "-D", "ED=%d" % ed, "-D", "B=64",
         "-D", "I=2048", "--buffer", buf, "--arch", arch, "--json"])
    return json.loads(out)


def bound(p):
    """(full's latency, the bound without the multi-pass tensors' traffic), s."""
    t = p["target"]
    clock = t["clock_ghz"] * 1e9
    levels = t.get("memory_levels")
    rd = (levels[0]["read_gb_per_s"] if levels else t["dram_gb_per_s"]) * 1e9 / clock
    wr = (levels[0]["write_gb_per_s"] if levels else t["dram_gb_per_s"]) * 1e9 / clock
    now = new = 0.0
    for g in p["groups"]:
        c = g["cost"]
        tiles = max(g["tiles"], 1)
        # Written tensors' traffic leaves at the write rate, the rest is read.
        saved = 0.0
        for x in g["tensors"]:
            if x["name"] in MULTIPASS and x["role"] != "internal":
                saved += x["dram_bytes"] / (wr if x["role"] == "out" else rd)
        mem = max(c["mem_cycles"] - saved, 0.0)
        comp = c["comp_cycles"]
        # The on-chip levels overlap with compute (docs/cost-model.md 7).
        for lv in c.get("levels", [])[1:]:
            comp = max(comp, lv["cycles"])
        hi, lo = max(comp, mem), min(comp, mem)
        now += c["cycles"]
        new += hi + lo / tiles
    return now / clock, new / clock


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    binary = os.path.join(build, "mambalaya")
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "base.json")
        with open(base, "w") as f:
            f.write(subprocess.check_output([binary, "plan", "--dump-arch", "mambalaya"],
                                            text=True))
        fp32 = os.path.join(tmp, "fp32.json")
        subprocess.check_call(
            [sys.executable, "bench/retarget.py", base, fp32, "bytes_per_value=4"] +
            ["memory_levels[%d].%s_gb_per_s*=2" % (l, d) for l in (1, 2)
             for d in ("read", "write")])
        print("%-10s %-6s %-6s %10s %12s %7s" % ("model", "values", "buffer", "full",
                                                "bound", "gain"))
        for ed, model in ((2048, "mamba-1.4b"), (2560, "mamba-2.8b")):
            for arch, width in ((base, "2 B"), (fp32, "4 B")):
                for buf in ("256K", "1M", "4M", "16M", "64M"):
                    now, new = bound(plan(binary, arch, ed, buf))
                    print("%-10s %-6s %-6s %8.2f ms %9.2f ms %6.2f%%" %
                          (model, width, buf, now * 1e3, new * 1e3, 100 * (now - new) / now))


if __name__ == "__main__":
    main()
