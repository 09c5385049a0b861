#!/bin/sh
# bench/sim_agree.sh - the simulator against the mapper's plan (docs/isa.md,
# section 8).
#
# usage: sh bench/sim_agree.sh [BUILD]
#
# For every example under every policy, and for the Mamba-1 block at several
# batch sizes and lengths, on the two built-in targets and with a 64 KiB
# buffer: compiles the stream of the mapper's plan (--emit stream --policy P
# --arch A), runs it in the simulator on data (tests/mamba_ref's realistic
# inputs for Mamba-1, the evaluator's --random 1 otherwise), compares the
# outputs with the reference evaluator, and compares the simulator's cycles
# and DRAM bytes with the plan's (tests/simagree: the plan's cycles from
# total.latency_seconds, its integer total.cycles being too coarse for the
# small examples).  Prints a Markdown table; exits 1 when a case is off by
# more than 5% or its outputs differ.
set -eu
BUILD=${1:-build}
BIN=$BUILD/mambalaya
REF=$BUILD/tests/mamba_ref
CMP=$BUILD/tests/npycmp
AGREE=$BUILD/tests/simagree
W=${BENCH_OUT:-$BUILD/bench_sim_agree}
for t in "$BIN" "$REF" "$CMP" "$AGREE"; do
    [ -x "$t" ] || { echo "bench/sim_agree.sh: $t missing: build first (make build)" >&2; exit 2; }
done
rm -rf "$W"
mkdir -p "$W"
bad=0
echo '| case | policy | sim cycles | plan cycles | diff | sim DRAM bytes | plan DRAM bytes | diff | outputs |'
echo '|---|---|---:|---:|---:|---:|---:|---:|---|'
# one LABEL FILE ARCH POLICY [B I]: a row of the table.
one() {
    label=$1 file=$2 arch=$3 pol=$4
    d=$W/$(echo "$label" | tr ' ,=/' '____')_$pol
    mkdir -p "$d"
    if [ $# -ge 6 ]; then
        set -- -D B="$5" -D I="$6"
        "$REF" gen --out "$d/in" --seed 7 "$@" >/dev/null
        "$BIN" eval "$file" "$@" --in "$d/in" --out "$d/ref" >/dev/null
    else
        set --
        "$BIN" eval "$file" --random 1 --save-inputs "$d/in" --out "$d/ref" >/dev/null
    fi
    "$BIN" compile "$file" "$@" -o "$d/c" --emit stream --policy "$pol" --arch "$arch" >/dev/null
    "$BIN" sim "$d/c/$(basename "$file" .ein).mlb" --in "$d/in" --out "$d/out" --json >"$d/sim.json"
    "$BIN" plan "$file" "$@" --policy "$pol" --arch "$arch" --json >"$d/plan.json"
    outs=$(cd "$d/ref" && ls ./*.npy | sed 's|^\./||; s|\.npy$||')
    # Word splitting of $outs is intended: the output names.
    # shellcheck disable=SC2086
    if "$CMP" "$d/out" "$d/ref" $outs --tol 1e-4 >"$d/cmp.txt" 2>&1; then ok=equal; else ok=DIFFER; bad=1; fi
    "$AGREE" "$d/sim.json" "$d/plan.json" >"$d/agree.txt" || bad=1
    # simagree prints "cycles  sim X  plan Y  (+0.00%)  ok"; the byte
    # counts, exact, are the first "dram_bytes" of each JSON (the total).
    pct() { awk -v q="$1" '$1 == q { print substr($6, 2, length($6) - 2) }' "$d/agree.txt"; }
    bytes() { sed -n 's/^[[:space:]]*"dram_bytes":[[:space:]]*\([0-9]*\),*$/\1/p' "$1" | head -n 1; }
    cyc=$(awk '$1 == "cycles" { printf "%s | %s", $3, $5 }' "$d/agree.txt")
    echo "| $label | $pol | $cyc | $(pct cycles) | $(bytes "$d/sim.json") | $(bytes "$d/plan.json") | $(pct dram_bytes) | $ok |"
}
for ex in matmul_relu transposed mlp attention attention_1pass; do
    for p in unfused ssm-ri full; do one "$ex" "examples/$ex.ein" mambalaya "$p"; done
done
for bi in "1 1" "1 5" "1 64" "2 1" "2 5" "2 64" "1 256" "1 1024"; do
    # shellcheck disable=SC2086
    set -- $bi
    for p in unfused ssm-ri full; do one "mamba1 B=$1 I=$2" examples/mamba1.ein mambalaya "$p" "$1" "$2"; done
done
for p in unfused ssm-ri full; do
    one "mamba1 B=1 I=64 marca-geens" examples/mamba1.ein marca-geens "$p" 1 64
done
for p in unfused ssm-ri full; do
    one "mamba1 B=1 I=64 64 KiB buffer" examples/mamba1.ein tests/stream/small_buffer.json "$p" 1 64
done
exit $bad
