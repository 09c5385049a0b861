#!/bin/sh
# levels.sh - what the global buffer's bandwidth and per-tile set-up do to
# the value of fusion, on three cascades at two sizes each (docs/results.md,
# "Memory levels across cascades").  The mambalaya target as built in, then
# with its buffer (memory_levels[1]) at 1/2 and 1/8 of its bandwidth both
# ways, then with 1000 cycles of set-up per buffer tile; every policy
# searched again on each (one `mambalaya sweep` per cascade).  Prints the
# latency of full and its ratio over unfused.
#   mamba1       mamba-2.8b layer, batch 64: prefill 2048 tokens, decode
#   mamba2       Mamba-2 block (ED 768, 24 heads of 64, N 128), batch 8:
#                1024 and 256 tokens
#   transformer  pre-LN block (E 768, 12 heads, F 3072), batch 8: 1024 and
#                256 tokens
# Usage: bench/levels.sh [BUILD_DIR]
set -eu
. bench/targets.sh
targets_begin "${1:-build}"
for v in glb-half glb-8th tile-oh; do variant "$v"; done
ARCHS="\"$TMP/base.json\", \"$TMP/glb-half.json\", \"$TMP/glb-8th.json\", \"$TMP/tile-oh.json\""
# sweep NAME FILE DEFINES: rows in TMP/NAME.csv
sweep() {
    cat > "$TMP/$1.spec.json" <<SPEC
{"file": "$(pwd)/$2", "arch": [$ARCHS], "policy": ["unfused", "full"], "defines": $3}
SPEC
    "$BIN" sweep "$TMP/$1.spec.json" --jobs "$(nproc 2>/dev/null || echo 1)" --quiet -o "$TMP/$1.csv"
}
sweep mamba1 examples/mamba1.ein '{"ED": [2560], "B": [64], "I": [2048, 1]}'
sweep mamba2 examples/mamba2.ein '{"B": [8], "I": [1024, 256]}'
sweep transformer examples/transformer.ein '{"B": [8], "S": [1024, 256]}'
printf '%-12s %-8s %-9s %12s %13s %8s %8s\n' cascade size variant "full" full/unfused "GLB util" "PE util"
for c in mamba1 mamba2 transformer; do
    awk -F, -v c="$c" -v dir="$TMP/" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    {
        v = $(col["arch"]); sub(dir, "", v); sub(/\.json$/, "", v)
        size = (c == "transformer") ? "S=" $(col["S"]) : "I=" $(col["I"])
        key = size " " v
        if (!(key in seen)) { seen[key] = 1; order[n++] = key; sz[key] = size; var[key] = v }
        lat[key, $(col["policy"])] = $(col["latency_seconds"])
        if ($(col["policy"]) == "full") { g[key] = $(col["level1_util"]); p[key] = $(col["level2_util"]) }
    }
    END {
        for (k = 0; k < n; k++) {
            key = order[k]
            printf "%-12s %-8s %-9s %10.4g ms %12.2fx %7.1f%% %7.1f%%\n", c, sz[key], var[key],
                1000 * lat[key, "full"], lat[key, "unfused"] / lat[key, "full"],
                100 * g[key], 100 * p[key]
        }
    }' "$TMP/$c.csv"
done
