#!/bin/sh
# Two ways of compiling the same cascade, side by side on the same data:
# for every case, `compile` with options A and with options B, both built
# as shipped, then ROUNDS interleaved rounds of each binary's `--bench 5`
# (medians of the rounds), and B / A.  Both binaries' outputs are compared
# as well (the largest difference relative to the output's largest value).
# docs/performance.md records the accelerator's plan (`--arch mambalaya`)
# against the CPU's (`--arch host`, compile's default).  BIN_A=PATH
# compiles side A with another build of mambalaya (a build of an older
# commit, say), so that two versions of the compiler go side by side:
#   BIN_A=OLD/build/mambalaya sh bench/plans.sh build 5 "" ""
# (empty options: compile's defaults on both sides).
#
# Usage: bench/plans.sh [BUILD_DIR] [ROUNDS] "OPTIONS_A" "OPTIONS_B" [CASE...]
# CASE: NAME:DEFINES (examples/NAME.ein, DEFINES comma-separated, e.g.
# mamba2:I=1024); default: the corpus at the sizes of docs/performance.md
# and Mamba-1's decode step.  2 threads, fp32.
set -eu
BUILD=${1:-build}; ROUNDS=${2:-5}; A=${3---arch mambalaya}; B=${4---arch host}
shift 4 2>/dev/null || shift $#
CASES=${*:-"mamba1:I=1024 mamba1:I=256 transformer:S=1024 transformer:S=256 mamba2:I=1024 mamba2:I=256 mamba1:I=1"}
BIN=$(cd "$(dirname "$BUILD/mambalaya")" && pwd)/mambalaya
BIN_A=${BIN_A:-$BIN}
WORK=${BENCH_WORK:-$BUILD/bench-plans}
PY=/usr/bin/python3
. bench/cpu_env.sh
mkdir -p "$WORK"
printf '# A: %s %s\n# B: %s %s\n' "$BIN_A" "$A" "$BIN" "$B"
printf '%-22s %10s %10s %6s %10s\n' case a_ms b_ms b/a max_rel_diff
for c in $CASES; do
    name=${c%%:*}; defs=${c#*:}; [ "$defs" = "$c" ] && defs=""
    f=examples/$name.ein
    set --
    for kv in $(echo "$defs" | tr ',' ' '); do set -- "$@" -D "$kv"; done
    dir=$WORK/$(echo "$c" | tr ':,=' '___')
    rm -rf "$dir"; mkdir -p "$dir"
    $PY bench/inputs.py "$BIN" "$f" "$dir/in" "$@" >/dev/null
    # The options are words as the shell splits them.
    # shellcheck disable=SC2086
    "$BIN_A" compile "$f" "$@" $A -o "$dir/a" >/dev/null
    # shellcheck disable=SC2086
    "$BIN" compile "$f" "$@" $B -o "$dir/b" >/dev/null
    make -s -C "$dir/a" >/dev/null
    make -s -C "$dir/b" >/dev/null
    : > "$dir/ta"; : > "$dir/tb"
    r=0
    while [ "$r" -lt "$ROUNDS" ]; do
        "$dir/a/$name" --in "$dir/in" --out "$dir/oa" --bench 5 |
            sed -n 's/^bench: .*median_ms=\([0-9.]*\).*/\1/p' >> "$dir/ta"
        "$dir/b/$name" --in "$dir/in" --out "$dir/ob" --bench 5 |
            sed -n 's/^bench: .*median_ms=\([0-9.]*\).*/\1/p' >> "$dir/tb"
        r=$((r + 1))
    done
    ma=$(median < "$dir/ta"); mb=$(median < "$dir/tb")
    diff=$($PY - "$dir/oa" "$dir/ob" <<'PYEOF'
import glob, os, sys
import numpy as np
m = 0.0
for f in glob.glob(os.path.join(sys.argv[1], "*.npy")):
    a = np.load(f)
    b = np.load(os.path.join(sys.argv[2], os.path.basename(f)))
    m = max(m, float(np.abs(a - b).max() / (np.abs(a).max() + 1e-30)))
print("%.1e" % m)
PYEOF
)
    printf '%-22s %10s %10s %6s %10s\n' "$c" "$ma" "$mb" \
        "$(echo "$mb $ma" | awk '{printf "%.2f", $1 / $2}')" "$diff"
done
