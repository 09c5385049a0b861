#!/usr/bin/env python3
"""The model's choice against its runners-up: for every case, the five
best plans of the search for a CPU target (`plan --rank 1..5 --arch
TARGET --json`) compiled as they are and timed in interleaved
rounds (`--bench N`, medians of the rounds).  The model's pick (rank 1)
should be within 10% of the fastest of the five when measured.

Usage: top_plans.py [--build DIR] [--arch TARGET] [--top K] [--rounds R]
                    [--runs N] [CASE...]
CASE as in model_check.py (mamba1:I=1024); default: its corpus.  TARGET
defaults to host.  2 threads, fp32.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np

from inputs import make_inputs
from model_check import DEFAULT_CASES, bench_env, defines


def bench_run(exe, d, runs):
    out = subprocess.run([exe, "--in", f"{d}/in", "--out", f"{d}/out", "--bench", str(runs)],
                         check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("bench:"):
            f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
            return float(f["median_ms"])
    raise RuntimeError(f"{exe}: no bench line")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--arch", default="host")
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("cases", nargs="*")
    o = ap.parse_args()
    bench_env()
    binary = os.path.abspath(os.path.join(o.build, "mambalaya"))
    work = os.environ.get("BENCH_WORK", os.path.join(o.build, "bench-top"))
    cases = o.cases or DEFAULT_CASES
    prepared = []  # (case, rank, dir, exe, predicted ms, groups)
    for case in cases:
        name, args = defines(case)
        src = f"examples/{name}.ein"
        base = os.path.join(work, case.replace(":", "_").replace(",", "_").replace("=", "_"))
        shutil.rmtree(base, ignore_errors=True)
        make_inputs(binary, src, args, f"{base}/in")
        for rank in range(1, o.top + 1):
            r = subprocess.run([binary, "plan", src, *args, "--arch", o.arch, "--json",
                                "--rank", str(rank)], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{case}: {r.stderr.strip()}", file=sys.stderr)
                break
            plan = json.loads(r.stdout)
            d = f"{base}/rank{rank}"
            os.makedirs(d)
            os.symlink(os.path.abspath(f"{base}/in"), f"{d}/in")
            with open(f"{d}/plan.json", "w") as fh:
                json.dump(plan, fh)
            subprocess.run([binary, "compile", src, *args, "--plan", f"{d}/plan.json",
                            "--arch", o.arch, "-o", f"{d}/c"], check=True, capture_output=True)
            subprocess.run(["make", "-s", "-C", f"{d}/c"], check=True, capture_output=True)
            prepared.append((case, rank, d, f"{d}/c/{name}",
                             1e3 * plan["total"]["latency_seconds"], len(plan["groups"])))
    meas = {(p[0], p[1]): [] for p in prepared}
    for _ in range(o.rounds):  # interleaved: every plan once per round
        for case, rank, d, exe, _p, _g in prepared:
            meas[(case, rank)].append(bench_run(exe, d, o.runs))
    print(f"target: {o.arch}; the {o.top} best plans of the search; "
          f"{o.rounds} rounds of {o.runs} runs, medians")
    print(f"{'case':<20} {'rank':>4} {'groups':>6} {'pred_ms':>9} {'meas_ms':>9} "
          f"{'meas/best':>9}")
    summary = []
    for case in cases:
        rows = [(rank, g, p, float(np.median(meas[(c, rank)])))
                for c, rank, _d, _e, p, g in prepared if c == case]
        if not rows:
            continue
        best = min(m for _r, _g, _p, m in rows)
        for rank, g, p, m in rows:
            print(f"{case:<20} {rank:4d} {g:6d} {p:9.3f} {m:9.3f} {m / best:9.2f}")
        pick = rows[0][3]
        fastest = min(rows, key=lambda x: x[3])[0]
        summary.append((case, pick / best, fastest, len(rows)))
    print()
    print(f"{'case':<20} {'pick/best':>9} {'fastest rank':>12} {'within 10%':>10}")
    for case, ratio, fastest, n in summary:
        print(f"{case:<20} {ratio:9.2f} {fastest:12d} {'yes' if ratio <= 1.10 else 'no':>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
