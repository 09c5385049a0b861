#!/bin/sh
# compare.sh - the comparison of the Mambalaya paper, with the project's own
# model: one Mamba-1 layer of mamba-1.4b (ED=2048) and mamba-2.8b (ED=2560)
# at batch 64, prefill at I = 2048, 8192, 65536, 1048576 tokens and decode
# (I = 1), on the mambalaya target, under the three policies:
#   unfused  MARCA-style, every Einsum alone
#   ssm-ri   the fine-grained fusion accelerator: fusion inside the SSM region
#   full     the mapper's search over every legal grouping
# and the latency ratios full/unfused and full/ssm-ri beside the paper's
# 4.9x (prefill over MARCA), 1.9x (decode over MARCA) and up to 1.5x (over
# the fusion accelerator).  Then a sweep of the buffer size from 1 to 64 MiB.
# Both are sweep specs (bench/specs/paper.json, paper_buffer.json) run by
# `mambalaya sweep`; this script only lays their rows out as tables.
#
# Usage: bench/compare.sh [BUILD_DIR] [--no-sweep] [-j N]
#   --no-sweep   skip the buffer sweep
#   -j N         run N points at a time (default: the number of cores)
# Run from the source directory.  Results and their discussion:
# docs/results.md; timings: docs/performance.md.
set -eu
BUILD=build
SWEEP=1
JOBS=$(nproc 2>/dev/null || echo 1)
while [ "$#" -gt 0 ]; do
    case $1 in
        --no-sweep) SWEEP=0 ;;
        -j) shift; JOBS=$1 ;;
        -j*) JOBS=${1#-j} ;;
        -*) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
        *) BUILD=$1 ;;
    esac
    shift
done
BIN="$BUILD/mambalaya"
[ -x "$BIN" ] || { echo "compare.sh: $BIN not found (build first)" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# table KEYCOL... < CSV: one line per (KEYCOLs) with the three policies'
# latencies and the ratios, in the order the rows come.  The CSV's columns
# are found by name in its header.
table() {
    awk -F, -v keys="$*" '
    function ms(s) { return s >= 1 ? sprintf("%.4g s", s) : sprintf("%.4g ms", s * 1000) }
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; nk = split(keys, k, " "); next }
    {
        key = ""
        for (i = 1; i <= nk; i++) key = key (i > 1 ? " " : "") $(col[k[i]])
        if (!(key in seen)) { seen[key] = 1; order[++n] = key }
        lat[key, $(col["policy"])] = $(col["latency_seconds"])
    }
    END {
        for (r = 1; r <= n; r++) {
            key = order[r]; u = lat[key, "unfused"]; s = lat[key, "ssm-ri"]; f = lat[key, "full"]
            if (u == "" || s == "" || f == "") { print "compare.sh: a policy is missing for " key > "/dev/stderr"; exit 1 }
            printf "%-24s %12s %12s %12s %12.2fx %11.2fx\n", key, ms(u), ms(s), ms(f), u / f, s / f
        }
    }'
}

echo "== latency of one layer, batch 64, on the mambalaya target (mambalaya plan --dump-arch mambalaya)"
printf '%-24s %12s %12s %12s %13s %12s\n' "ED B I" unfused ssm-ri full full/unfused full/ssm-ri
t0=$(now_ms)
"$BIN" sweep bench/specs/paper.json --jobs "$JOBS" --quiet -o "$TMP/paper.csv"
t1=$(now_ms)
table ED B I < "$TMP/paper.csv"
echo "(ED=2048: mamba-1.4b, ED=2560: mamba-2.8b; I=1 is decode)"
echo "paper (arXiv 2604.03829): full/unfused 4.9x prefill, 1.9x decode (over MARCA); full/ssm-ri up to 1.5x"
echo "table: $((t1 - t0)) ms for $(($(wc -l < "$TMP/paper.csv") - 1)) points, $JOBS processes (mambalaya sweep bench/specs/paper.json)"

[ "$SWEEP" = 1 ] || exit 0
echo
echo "== buffer sweep: mamba-2.8b, batch 64, latency per policy"
printf '%-24s %12s %12s %12s %13s %12s\n' "I buffer_bytes" unfused ssm-ri full full/unfused full/ssm-ri
t0=$(now_ms)
"$BIN" sweep bench/specs/paper_buffer.json --jobs "$JOBS" --quiet -o "$TMP/buffer.csv"
t1=$(now_ms)
table I buffer_bytes < "$TMP/buffer.csv"
echo "sweep: $((t1 - t0)) ms for $(($(wc -l < "$TMP/buffer.csv") - 1)) points, $JOBS processes (mambalaya sweep bench/specs/paper_buffer.json)"
