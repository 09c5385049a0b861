#!/bin/sh
# compare.sh - the comparison of the Mambalaya paper, with the project's own
# model: one Mamba-1 layer of mamba-1.4b and mamba-2.8b at batch 64, prefill
# at I = 2048, 8192, 65536, 1048576 tokens and decode (I = 1), on the
# mambalaya target, under the three policies:
#   unfused  MARCA-style, every Einsum alone
#   ssm-ri   the fine-grained fusion accelerator: fusion inside the SSM region
#   full     the mapper's search over every legal grouping
# and the latency ratios full/unfused and full/ssm-ri beside the paper's
# 4.9x (prefill over MARCA), 1.9x (decode over MARCA) and up to 1.5x (over
# the fusion accelerator).  Then a sweep of the buffer size from 1 to 64 MiB.
#
# Usage: bench/compare.sh [BUILD_DIR] [--separate] [--no-sweep] [-j N]
#   --separate   run every policy in its own `mambalaya plan --json` process
#                (30 processes) instead of `--policy all` (10 processes, one
#                analysis each); the numbers are the same, the time is not
#   --no-sweep   skip the buffer sweep
#   -j N         run N cases at a time (default: the number of cores)
# Run from the source directory.  Results and their discussion:
# docs/results.md; timings: docs/performance.md.
set -eu
BUILD=build
SEPARATE=0
SWEEP=1
JOBS=$(nproc 2>/dev/null || echo 1)
while [ "$#" -gt 0 ]; do
    case $1 in
        --separate) SEPARATE=1 ;;
        --no-sweep) SWEEP=0 ;;
        -j) shift; JOBS=$1 ;;
        -j*) JOBS=${1#-j} ;;
        -*) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
        *) BUILD=$1 ;;
    esac
    shift
done
BIN="$BUILD/mambalaya"
EX=examples/mamba1.ein
[ -x "$BIN" ] || { echo "compare.sh: $BIN not found (build first)" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

# The N-th number that follows "KEY": in FILE (cJSON's output).
num() {
    grep -o "\"$1\":[[:space:]]*[-0-9.e+]*" "$2" | sed -n "${3}p" | sed 's/.*:[[:space:]]*//'
}
ms() { awk -v s="$1" 'BEGIN { if (s >= 1) printf "%.4g s", s; else printf "%.4g ms", s * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# run_case ED D R I OUT [EXTRA...]: the three latencies, in seconds, to OUT.
run_case() {
    sizes="-D ED=$1 -D D=$2 -D R=$3 -D B=64 -D I=$4"
    out=$5
    shift 5
    if [ "$SEPARATE" = 1 ]; then
        : > "$out"
        for p in unfused ssm-ri full; do
            # shellcheck disable=SC2086
            "$BIN" plan "$EX" $sizes "$@" --policy $p --json > "$out.json"
            num latency_seconds "$out.json" 1 >> "$out"
        done
    else
        # shellcheck disable=SC2086
        "$BIN" plan "$EX" $sizes "$@" --policy all --json > "$out.json"
        for k in 1 2 3; do num latency_seconds "$out.json" $k; done > "$out"
    fi
}

# Runs the cases listed in $TMP/cases ("ED D R I OUT EXTRA..." per line),
# JOBS at a time.
run_cases() {
    running=0
    while read -r line; do
        # shellcheck disable=SC2086
        run_case $line &
        running=$((running + 1))
        if [ "$running" -ge "$JOBS" ]; then
            wait
            running=0
        fi
    done < "$TMP/cases"
    wait
}

# row PHASE LABEL OUT: a row of the table from the latencies in OUT.
row() {
    u=$(sed -n 1p "$3"); s=$(sed -n 2p "$3"); f=$(sed -n 3p "$3")
    [ -n "$u" ] && [ -n "$s" ] && [ -n "$f" ] || { echo "compare.sh: a plan failed ($3)" >&2; exit 1; }
    printf '%-20s %-8s %12s %12s %12s %13s %12s\n' "$1" "$2" \
        "$(ms "$u")" "$(ms "$s")" "$(ms "$f")" "$(ratio "$u" "$f")" "$(ratio "$s" "$f")"
}

MODELS="mamba-1.4b:2048:4096:128 mamba-2.8b:2560:5120:160"
echo "== latency of one layer, batch 64, on the mambalaya target (mambalaya plan --dump-arch mambalaya)"
printf '%-20s %-8s %12s %12s %12s %13s %12s\n' "model, phase" I unfused ssm-ri full full/unfused full/ssm-ri
: > "$TMP/cases"
for m in $MODELS; do
    rest=${m#*:}
    ED=${rest%%:*}; rest=${rest#*:}
    D=${rest%%:*}; R=${rest#*:}
    for I in 2048 8192 65536 1048576 1; do
        echo "$ED $D $R $I $TMP/lat.${m%%:*}.$I" >> "$TMP/cases"
    done
done
t0=$(now_ms)
run_cases
t1=$(now_ms)
for m in $MODELS; do
    for I in 2048 8192 65536 1048576 1; do
        phase=prefill
        [ "$I" = 1 ] && phase=decode
        row "${m%%:*}, $phase" "$I" "$TMP/lat.${m%%:*}.$I"
    done
done
echo "paper (arXiv 2604.03829): full/unfused 4.9x prefill, 1.9x decode (over MARCA); full/ssm-ri up to 1.5x"
if [ "$SEPARATE" = 1 ]; then
    echo "table: $((t1 - t0)) ms for 30 plan processes (one per model, length and policy), $JOBS at a time"
else
    echo "table: $((t1 - t0)) ms for 10 plan processes (--policy all: one analysis, three searches), $JOBS at a time"
fi

[ "$SWEEP" = 1 ] || exit 0
echo
echo "== buffer sweep: mamba-2.8b, batch 64, latency per policy"
printf '%-20s %-8s %12s %12s %12s %13s %12s\n' phase buffer unfused ssm-ri full full/unfused full/ssm-ri
: > "$TMP/cases"
for I in 2048 1; do
    for mib in 1 2 4 8 16 32 64; do
        echo "2560 5120 160 $I $TMP/sweep.$I.$mib --buffer ${mib}M" >> "$TMP/cases"
    done
done
t0=$(now_ms)
run_cases
t1=$(now_ms)
for I in 2048 1; do
    phase=prefill
    [ "$I" = 1 ] && phase=decode
    for mib in 1 2 4 8 16 32 64; do
        row "$phase" "${mib} MiB" "$TMP/sweep.$I.$mib"
    done
done
echo "sweep: $((t1 - t0)) ms, $JOBS at a time"
