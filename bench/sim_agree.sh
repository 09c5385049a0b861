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
# small examples).  With the levels target (tests/stream/levels.json: three
# memory levels that bind, per-tile overheads) the bytes of every level are
# compared too ("levels": the largest difference; "-" for a target whose
# only level is DRAM).  Prints a Markdown table; exits 1 when a case is off
# by more than 5% or its outputs differ.
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
echo '| case | policy | sim cycles | plan cycles | diff | sim DRAM bytes | plan DRAM bytes | diff | levels | outputs |'
echo '|---|---|---:|---:|---:|---:|---:|---:|---:|---|'
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
        # DEFS: -D options for a cascade at other sizes than its defaults.
        # shellcheck disable=SC2086
        set -- ${DEFS:-}
        "$BIN" eval "$file" "$@" --random 1 --save-inputs "$d/in" --out "$d/ref" >/dev/null
    fi
    "$BIN" compile "$file" "$@" -o "$d/c" --emit stream --policy "$pol" --arch "$arch" >/dev/null
    "$BIN" sim "$d/c/$(basename "$file" .ein).mlb" --in "$d/in" --out "$d/out" --json >"$d/sim.json"
    "$BIN" plan "$file" "$@" --policy "$pol" --arch "$arch" --json >"$d/plan.json"
    outs=$(cd "$d/ref" && ls ./*.npy | sed 's|^\./||; s|\.npy$||')
    # Word splitting of $outs is intended: the output names.
    # shellcheck disable=SC2086
    if "$CMP" "$d/out" "$d/ref" $outs --tol 1e-4 >"$d/cmp.txt" 2>&1; then ok=equal; else ok=DIFFER; bad=1; fi
    # shellcheck disable=SC2086
    "$AGREE" "$d/sim.json" "$d/plan.json" ${AGREE_OPTS:-} >"$d/agree.txt" || bad=1
    # simagree prints "cycles  sim X  plan Y  (+0.00%)  ok"; the byte
    # counts, exact, are the first "dram_bytes" of each JSON (the total).
    pct() { awk -v q="$1" '$1 == q { print substr($6, 2, length($6) - 2) }' "$d/agree.txt"; }
    bytes() { sed -n 's/^[[:space:]]*"dram_bytes":[[:space:]]*\([0-9]*\),*$/\1/p' "$1" | head -n 1; }
    cyc=$(awk '$1 == "cycles" { printf "%s | %s", $3, $5 }' "$d/agree.txt")
    # The largest difference over the levels after DRAM ("level 1", ...).
    lv=$(awk '$1 == "level" && $2 > 0 { v = substr($7, 2, length($7) - 3); if (v < 0) v = -v;
              if (v > m) m = v; n++ } END { if (n) printf "%.2f%%", m; else print "-" }' "$d/agree.txt")
    echo "| $label | $pol | $cyc | $(pct cycles) | $(bytes "$d/sim.json") | $(bytes "$d/plan.json") | $(pct dram_bytes) | $lv | $ok |"
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
# Three memory levels that bind, on both arrays and three cascades.  The
# transformer's cycles are left out: on the causal mask's triangles the
# stream runs many small boxes the model counts as one (docs/isa.md,
# section 8); its bytes agree.
LV=tests/stream/levels.json
for I in 64 256 1024; do
    for p in unfused ssm-ri full; do one "mamba1 B=1 I=$I levels" examples/mamba1.ein $LV "$p" 1 "$I"; done
done
for sz in "-DI=12 -DED=32 -DH=2 -DP=8 -DN=8" "-DI=64 -DED=128 -DH=4 -DP=32 -DN=16"; do
    for p in unfused full; do DEFS=$sz one "mamba2 $sz levels" examples/mamba2.ein $LV "$p"; done
done
for p in unfused full; do
    DEFS="-DS=40 -DE=32 -DH=2 -DP=16 -DF=48" AGREE_OPTS=--bytes-only \
        one "transformer S=40 levels (bytes)" examples/transformer.ein $LV "$p"
done
exit $bad
