#!/bin/sh
# bench/sim.sh - speed of the accelerator simulator (docs/isa.md, "Simulator speed").
#
# usage: sh bench/sim.sh [BUILD] [I]
#
# Compiles the mamba-130m block (examples/mamba1.ein, B = 1, I tokens,
# default 1024) to an accelerator stream under each mapper policy, runs it
# in the simulator on realistic inputs (tests/mamba_ref), checks the outputs
# against the reference evaluator once, and reports per policy the stream's
# size, the instructions executed, the simulated cycles and DRAM bytes, and
# the host time: the simulator's own (`host_seconds`, the run without file
# I/O) and the whole command's (best of three).
set -eu
BUILD=${1:-build}
I=${2:-1024}
BIN=$BUILD/mambalaya
REF=$BUILD/tests/mamba_ref
CMP=$BUILD/tests/npycmp
W=${BENCH_OUT:-$BUILD/bench_sim}
for t in "$BIN" "$REF" "$CMP"; do
    [ -x "$t" ] || { echo "bench/sim.sh: $t missing: build first (make build)" >&2; exit 2; }
done
rm -rf "$W"
mkdir -p "$W"
"$REF" gen --out "$W/in" --seed 7 -D B=1 -D I="$I" >/dev/null
"$BIN" eval examples/mamba1.ein -D I="$I" --in "$W/in" --out "$W/ref" >/dev/null
now() { date +%s.%N; }
printf '%-8s %8s %12s %12s %14s %12s %10s %10s\n' policy program executed cycles dram_bytes check sim_s wall_s
for p in full ssm-ri unfused; do
    "$BIN" compile examples/mamba1.ein -D I="$I" -o "$W/$p" --emit stream --policy "$p" --arch mambalaya >/dev/null
    best=
    for _ in 1 2 3; do
        t0=$(now)
        "$BIN" sim "$W/$p/mamba1.mlb" --in "$W/in" --out "$W/out_$p" --json >"$W/sim_$p.json"
        t1=$(now)
        t=$(echo "$t1 - $t0" | bc)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
    done
    if "$CMP" "$W/out_$p" "$W/ref" LO RS CSO HF --tol 1e-4 >"$W/cmp_$p.txt"; then ok=ok; else ok=FAIL; fi
    get() { sed -n "s/^[[:space:]]*\"$1\":[[:space:]]*\([-0-9.e+]*\),*$/\1/p" "$W/sim_$p.json" | head -n 1; }
    printf '%-8s %8s %12s %12.0f %14.0f %12s %10.2f %10.2f\n' "$p" "$(get program_instructions)" \
        "$(get instructions)" "$(get cycles)" "$(get dram_bytes)" "$ok" "$(get host_seconds)" "$best"
done
