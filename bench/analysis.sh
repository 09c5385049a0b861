#!/bin/sh
# Times `deps` and `groups` on examples/mamba1.ein at mamba-2.8b sizes
# (batch 64, 2048 tokens): several interleaved runs, medians.
# Usage: bench/analysis.sh [BUILD_DIR] [RUNS]
set -eu
BUILD=${1:-build}
RUNS=${2:-7}
BIN="$BUILD/mambalaya"
SIZES="-D ED=2560 -D D=5120 -D R=160 -D B=64 -D I=2048"
ms() { # prints the wall time of "$@" in milliseconds
    t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: > /tmp/bench_deps.$$; : > /tmp/bench_groups.$$; : > /tmp/bench_both.$$
i=0
while [ $i -lt "$RUNS" ]; do
    # shellcheck disable=SC2086
    d=$(ms "$BIN" deps examples/mamba1.ein $SIZES)
    # shellcheck disable=SC2086
    g=$(ms "$BIN" groups examples/mamba1.ein $SIZES)
    echo "$d" >> /tmp/bench_deps.$$
    echo "$g" >> /tmp/bench_groups.$$
    echo $((d + g)) >> /tmp/bench_both.$$
    i=$((i + 1))
done
echo "mamba-2.8b sizes ($SIZES), $RUNS interleaved runs, median wall time:"
echo "  deps:          $(median < /tmp/bench_deps.$$) ms"
echo "  groups:        $(median < /tmp/bench_groups.$$) ms"
echo "  deps + groups: $(median < /tmp/bench_both.$$) ms (target: under 1000 ms)"
rm -f /tmp/bench_deps.$$ /tmp/bench_groups.$$ /tmp/bench_both.$$
