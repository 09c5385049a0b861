#!/bin/sh
# simd_rank.sh C_FILE GROUP RANK: how many `omp simd` loops of the group
# whose comment line starts "group N: GROUP" run along rank RANK (the
# statement right inside the loop sets v_RANK to the loop's variable).
# A strip's innermost loop should run along memory (docs/codegen.md).
set -eu
sed -n "/group [0-9]*: $2/,/ML_PROF_MARK/p" "$1" | awk -v r="$3" '
/omp simd/ { s = 1; next }
s == 1 && /for \(long c/ { match($0, /c[0-9]+/); v = substr($0, RSTART, RLENGTH); s = 2; next }
s == 2 { if (index($0, "v_" r " = " v ";")) n++; s = 0 }
END { print n + 0 }'
