#!/bin/sh
# The corpus side by side: for every cascade and size, the generated C
# (compile's default: the plan for this CPU, --arch host), the BLAS floor of its own matrix
# products (bench/floor.py) and PyTorch on the same math and data
# (bench/*_torch.py), in interleaved rounds; medians of the rounds.
#
# Usage: bench/corpus.sh [BUILD_DIR] [ROUNDS] [CASE...]
# CASE: NAME:DEFINES, DEFINES comma-separated (e.g. transformer:S=1024);
# default: the sizes of docs/performance.md.  2 threads, fp32.
set -eu
BUILD=${1:-build}; ROUNDS=${2:-3}
shift 2 2>/dev/null || shift $#
CASES=${*:-"mamba1:I=1024 mamba1:I=1 transformer:S=1024 transformer:S=256 mamba2:I=1024 mamba2:I=256"}
BIN=$(cd "$(dirname "$BUILD/mambalaya")" && pwd)/mambalaya
WORK=${BENCH_WORK:-$BUILD/bench-corpus}
PY=/usr/bin/python3
. bench/cpu_env.sh
mkdir -p "$WORK"

# Random inputs in the declared ranges (bench/inputs.py).
inputs() { # FILE DIR DEFINES...
    f=$1; d=$2; shift 2
    $PY bench/inputs.py "$BIN" "$f" "$d" "$@"
}

printf '%-24s %10s %10s %7s %10s %7s\n' case ours_ms floor_ms x_floor torch_ms x_torch
for c in $CASES; do
    name=${c%%:*}; defs=${c#*:}; [ "$defs" = "$c" ] && defs=""
    f=examples/$name.ein
    set --
    for kv in $(echo "$defs" | tr ',' ' '); do set -- "$@" -D "$kv"; done
    dir=$WORK/$(echo "$c" | tr ':,=' '___')
    rm -rf "$dir"; mkdir -p "$dir"
    inputs "$f" "$dir/in" "$@"
    "$BIN" compile "$f" "$@" -o "$dir/c" >/dev/null
    make -s -C "$dir/c" >/dev/null
    peer=bench/${name}_torch.py
    [ "$name" = mamba1 ] && peer=bench/mamba_torch.py
    : > "$dir/ours.txt"; : > "$dir/torch.txt"; : > "$dir/floor.txt"
    r=0
    while [ "$r" -lt "$ROUNDS" ]; do
        "$dir/c/$name" --in "$dir/in" --out "$dir/out" --bench 5 |
            sed -n 's/^bench: .*median_ms=\([0-9.]*\).*/\1/p' >> "$dir/ours.txt"
        $PY bench/floor.py "$BIN" "$f" "$@" --reps 3 |
            sed -n 's/^floor: ms=\([0-9.]*\).*/\1/p' >> "$dir/floor.txt"
        if [ -f "$peer" ]; then
            $PY "$peer" "$dir/in" 5 --threads 2 |
                sed -n 's/^torch: .*median_ms=\([0-9.]*\).*/\1/p' >> "$dir/torch.txt"
        fi
        r=$((r + 1))
    done
    ours=$(median < "$dir/ours.txt"); floor=$(median < "$dir/floor.txt")
    torch=$(median < "$dir/torch.txt"); torch=${torch:-0}
    awk -v c="$c" -v o="$ours" -v f="$floor" -v t="$torch" 'BEGIN {
        printf "%-24s %10.2f %10.2f %7.2f %10.2f %7.2f\n", c, o, f, (f > 0 ? o / f : 0), t,
               (t > 0 ? o / t : 0) }'
done
