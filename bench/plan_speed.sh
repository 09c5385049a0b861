#!/bin/sh
# plan_speed.sh - times `mambalaya plan` (policy full) on examples/mamba1.ein
# at mamba-2.8b sizes, batch 64: prefill at 2048 and 1048576 tokens and
# decode; then the whole comparison table (bench/compare.sh --no-sweep).
# Several interleaved runs, median wall time of the whole command (process
# start, parsing, checking, dependence analysis, search, verification with
# isl, printing).
# Usage: bench/plan_speed.sh [BUILD_DIR] [RUNS]
set -eu
BUILD=${1:-build}
RUNS=${2:-7}
BIN="$BUILD/mambalaya"
SIZES="-D ED=2560 -D D=5120 -D R=160 -D B=64"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
ms() { # prints the wall time of "$@" in milliseconds
    t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
i=0
while [ $i -lt "$RUNS" ]; do
    # shellcheck disable=SC2086
    ms "$BIN" plan examples/mamba1.ein $SIZES -D I=2048 >> "$TMP/p2048"
    # shellcheck disable=SC2086
    ms "$BIN" plan examples/mamba1.ein $SIZES -D I=1048576 >> "$TMP/p1m"
    # shellcheck disable=SC2086
    ms "$BIN" plan examples/mamba1.ein $SIZES -D I=1 >> "$TMP/p1"
    # shellcheck disable=SC2086
    ms "$BIN" plan examples/mamba1.ein $SIZES -D I=2048 --policy all >> "$TMP/all"
    i=$((i + 1))
done
echo "mamba-2.8b, batch 64, policy full, $RUNS interleaved runs, median wall time:"
echo "  plan, prefill I=2048:     $(median < "$TMP/p2048") ms (target: under 1000 ms)"
echo "  plan, prefill I=1048576:  $(median < "$TMP/p1m") ms"
echo "  plan, decode I=1:         $(median < "$TMP/p1") ms"
echo "  plan --policy all, I=2048: $(median < "$TMP/all") ms"
j=0
while [ $j -lt 3 ]; do
    ms sh bench/compare.sh "$BUILD" --no-sweep >> "$TMP/table"
    j=$((j + 1))
done
echo "  the comparison table (bench/compare.sh --no-sweep), 3 runs: $(median < "$TMP/table") ms (target: under 10000 ms)"
