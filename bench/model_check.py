#!/usr/bin/env python3
"""The CPU cost model against reality: for every case, the plan made for a
CPU target (`plan --arch TARGET --json`: predicted seconds per group and in
total) next to the same plan compiled as a profile build (`make profile`,
`--bench N --profile`: each group's median wall time per run), in
interleaved rounds; medians of the rounds.

Usage: model_check.py [--build DIR] [--arch TARGET] [--rounds R]
                      [--runs N] [--plan-args ARGS] [CASE...]
CASE: NAME:DEFINES, DEFINES comma-separated (mamba1:I=1024); default: the
corpus at the sizes of docs/performance.md.  TARGET defaults to host (this
machine's calibration; run `mambalaya calibrate` first for a fresh one).
2 threads, fp32.  Prints per case a line per group (or team of groups run
together) and the total, with measured / predicted.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np

from inputs import make_inputs

DEFAULT_CASES = ["mamba1:I=1024", "mamba1:I=256", "transformer:S=1024", "transformer:S=256",
                 "mamba2:I=1024", "mamba2:I=256"]


def defines(case):
    name, _, defs = case.partition(":")
    args = []
    for kv in filter(None, defs.split(",")):
        args += ["-D", kv]
    return name, args


def bench_env():
    """2 threads unless OMP_NUM_THREADS says otherwise; the BLAS with as
    many; Debian 12's OpenBLAS takes Zen 4/5 for Haswell (bench/cpu_env.sh)."""
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ["OMP_NUM_THREADS"])
    # As bench/cpu_env.sh: SkylakeX on AVX-512 even when the environment
    # names another core type (this machine's says Haswell: every product
    # ran at about half speed and model_check measured 1.4-2.0x too much),
    # unless BENCH_OPENBLAS_CORETYPE says otherwise; and the session's
    # group first (Linux shares the CPU between sessions regardless of nice).
    if os.environ.get("BENCH_OPENBLAS_CORETYPE"):
        os.environ["OPENBLAS_CORETYPE"] = os.environ["BENCH_OPENBLAS_CORETYPE"]
    elif "avx512f" in open("/proc/cpuinfo").read():
        os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write("-20")
    except OSError:
        pass


def profile_run(exe, d, runs):
    out = subprocess.run([exe, "--in", f"{d}/in", "--out", f"{d}/out", "--bench", str(runs),
                          "--profile"], check=True, capture_output=True, text=True).stdout
    total, groups = None, {}
    for line in out.splitlines():
        f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
        if line.startswith("bench:"):
            total = float(f["median_ms"])
        elif line.startswith("profile:"):
            groups[(int(f["group"]), int(f["last"]))] = float(f["median_ms"])
    return total, groups


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--arch", default="host")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--min-ms", type=float, default=1.0,
                    help="groups below this (predicted and measured) are summed as 'small'")
    ap.add_argument("cases", nargs="*")
    o = ap.parse_args()
    bench_env()
    binary = os.path.abspath(os.path.join(o.build, "mambalaya"))
    work = os.environ.get("BENCH_WORK", os.path.join(o.build, "bench-model"))
    cases = o.cases or DEFAULT_CASES
    prepared = []
    for case in cases:
        name, args = defines(case)
        src = f"examples/{name}.ein"
        d = os.path.join(work, case.replace(":", "_").replace(",", "_").replace("=", "_"))
        shutil.rmtree(d, ignore_errors=True)
        make_inputs(binary, src, args, f"{d}/in")
        plan = json.loads(subprocess.run([binary, "plan", src, *args, "--arch", o.arch, "--json"],
                                         check=True, capture_output=True, text=True).stdout)
        with open(f"{d}/plan.json", "w") as fh:
            json.dump(plan, fh)
        subprocess.run([binary, "compile", src, *args, "--plan", f"{d}/plan.json", "--arch",
                        o.arch, "-o", f"{d}/c"], check=True, capture_output=True)
        subprocess.run(["make", "-s", "-C", f"{d}/c", "profile"], check=True, capture_output=True)
        prepared.append((case, name, d, plan))
    meas = {case: [] for case in cases}
    for _ in range(o.rounds):  # interleaved: every case once per round
        for case, name, d, _plan in prepared:
            meas[case].append(profile_run(f"{d}/c/{name}_profile", d, o.runs))
    print(f"target: {o.arch}; {o.rounds} rounds of {o.runs} runs, medians")
    print(f"{'case':<20} {'group':<9} {'einsums':<34} {'pred_ms':>9} {'meas_ms':>9} {'meas/pred':>9}")
    summary = []
    for case, name, d, plan in prepared:
        rounds = meas[case]
        total = float(np.median([r[0] for r in rounds]))
        spans = sorted(rounds[0][1])
        small_p = small_m = 0.0
        worst = 0.0
        for (g0, g1) in spans:
            m = float(np.median([r[1][(g0, g1)] for r in rounds]))
            p = 1e3 * sum(plan["groups"][g]["latency_seconds"] for g in range(g0, g1 + 1))
            names = " ".join(e for g in range(g0, g1 + 1) for e in plan["groups"][g]["einsums"])
            if p < o.min_ms and m < o.min_ms:
                small_p += p
                small_m += m
                continue
            gid = str(g0) if g0 == g1 else f"{g0}-{g1}"
            ratio = m / p if p > 0 else float("inf")
            if m >= o.min_ms:
                worst = max(worst, abs(ratio - 1))
            print(f"{case:<20} {gid:<9} {names[:34]:<34} {p:9.3f} {m:9.3f} {ratio:9.2f}")
        if small_p or small_m:
            print(f"{case:<20} {'small':<9} {'(each under %g ms)' % o.min_ms:<34} {small_p:9.3f} "
                  f"{small_m:9.3f} {small_m / small_p if small_p else 0:9.2f}")
        p = 1e3 * plan["total"]["latency_seconds"]
        print(f"{case:<20} {'total':<9} {'%d groups' % len(plan['groups']):<34} {p:9.3f} "
              f"{total:9.3f} {total / p:9.2f}")
        summary.append((case, p, total, worst))
    print()
    print(f"{'case':<20} {'pred_ms':>9} {'meas_ms':>9} {'meas/pred':>9} {'worst group >1ms':>17}")
    for case, p, m, w in summary:
        print(f"{case:<20} {p:9.3f} {m:9.3f} {m / p:9.2f} {100 * w:16.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
