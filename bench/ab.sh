#!/bin/sh
# Two builds of mambalaya side by side on the corpus: the C each compiles
# from the same cascade, run on the same inputs, alternately (ROUNDS rounds
# of --bench 5, medians), and whether their outputs agree.
# Usage: bench/ab.sh OLD_BIN NEW_BIN [ROUNDS] [CASE...]
#   CASE is NAME:DEFINE (examples/NAME.ein -D DEFINE), as in bench/corpus.sh.
set -eu
OLD=$1; NEW=$2; ROUNDS=${3:-5}
shift 2; [ $# -gt 0 ] && shift
CASES=${*:-"mamba1:I=1024 mamba1:I=256 transformer:S=1024 transformer:S=256 mamba2:I=1024 mamba2:I=256"}
. bench/cpu_env.sh
PY=/usr/bin/python3
W=${BENCH_WORK:-build/bench-ab}
mkdir -p "$W"
printf '%-20s %10s %10s %8s %10s\n' case old_ms new_ms new/old max_diff
for c in $CASES; do
    name=${c%%:*}; kv=${c#*:}
    d=$W/$name-$kv; rm -rf "$d"; mkdir -p "$d"
    $PY bench/inputs.py "$NEW" "examples/$name.ein" "$d/in" -D "$kv" >/dev/null
    "$OLD" compile "examples/$name.ein" -D "$kv" -o "$d/old" >/dev/null
    "$NEW" compile "examples/$name.ein" -D "$kv" -o "$d/new" >/dev/null
    make -s -C "$d/old" >/dev/null; make -s -C "$d/new" >/dev/null
    : > "$d/o.txt"; : > "$d/n.txt"
    r=0
    while [ "$r" -lt "$ROUNDS" ]; do
        "$d/old/$name" --in "$d/in" --out "$d/out_old" --bench 5 |
            sed -n 's/^bench: .*median_ms=\([0-9.]*\).*/\1/p' >> "$d/o.txt"
        "$d/new/$name" --in "$d/in" --out "$d/out_new" --bench 5 |
            sed -n 's/^bench: .*median_ms=\([0-9.]*\).*/\1/p' >> "$d/n.txt"
        r=$((r + 1))
    done
    diff=$($PY -c 'import glob, os, sys, numpy as np
m = 0.0
for f in glob.glob(sys.argv[1] + "/*.npy"):
    m = max(m, float(np.abs(np.load(f) - np.load(os.path.join(sys.argv[2], os.path.basename(f)))).max()))
print("%.3g" % m)' "$d/out_old" "$d/out_new")
    o=$(sort -n "$d/o.txt" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    n=$(sort -n "$d/n.txt" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    awk -v c="$c" -v o="$o" -v n="$n" -v x="$diff" \
        'BEGIN { printf "%-20s %10.2f %10.2f %8.3f %10s\n", c, o, n, n / o, x }'
done
