#!/bin/sh
# sensitivity.sh - how the ratios of bench/compare.sh move when one
# assumption of the mambalaya target changes (docs/results.md explains why
# each is worth asking).  Nothing here is used to pick a value: the
# built-in target stays as documented in docs/target.md.
#   base      the mambalaya target as built in
#   fp32      4-byte values (the cascade's declared type) instead of 2
#   1d-256    a separate 256-lane 1D array running beside the 2D array
#             (FuseMax's organisation) instead of the 64K-lane 1D mode
#   no-dbuf   no double buffering
#   marca-geens  every policy on MARCA's silicon as Geens et al. model it
# Usage: bench/sensitivity.sh [BUILD_DIR]
set -eu
BUILD=${1:-build}
BIN="$BUILD/mambalaya"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
"$BIN" plan --dump-arch mambalaya > "$TMP/base.json"
sed 's/"bytes_per_value":[[:space:]]*2/"bytes_per_value": 4/' "$TMP/base.json" > "$TMP/fp32.json"
sed -e 's/"lanes":[[:space:]]*65536/"lanes": 256/' \
    -e 's/"concurrent":[[:space:]]*false/"concurrent": true/' "$TMP/base.json" > "$TMP/1d-256.json"
sed 's/"double_buffer":[[:space:]]*true/"double_buffer": false/' "$TMP/base.json" > "$TMP/no-dbuf.json"
for v in fp32 1d-256 no-dbuf; do
    cmp -s "$TMP/base.json" "$TMP/$v.json" && { echo "sensitivity.sh: $v did not change the target" >&2; exit 1; }
done
. bench/ratios.sh
ratios "$BIN" "$TMP" variant base fp32 1d-256 no-dbuf marca-geens
