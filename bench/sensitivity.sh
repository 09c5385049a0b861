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
#   marca     every policy on MARCA's silicon as Geens et al. model it
# Usage: bench/sensitivity.sh [BUILD_DIR]
set -eu
BUILD=${1:-build}
BIN="$BUILD/mambalaya"
EX=examples/mamba1.ein
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
# One sweep: every variant, both models, prefill and decode, three
# policies; rows come policy fastest, so each three lines make one ratio.
cat > "$TMP/spec.json" <<SPEC
{"file": "$(pwd)/$EX",
 "defines": {"ED": [2048, 2560], "B": [64], "I": [2048, 1]},
 "arch": ["$TMP/base.json", "$TMP/fp32.json", "$TMP/1d-256.json", "$TMP/no-dbuf.json",
          "marca-geens"],
 "policy": ["unfused", "ssm-ri", "full"]}
SPEC
"$BIN" sweep "$TMP/spec.json" --jobs "$(nproc 2>/dev/null || echo 1)" --quiet -o "$TMP/rows.csv"
printf '%-9s %-11s %-8s %13s %12s\n' variant model phase full/unfused full/ssm-ri
# Columns by name; the table in the order of the variants, then models.
awk -F, -v dir="$TMP/" '
NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
{
    v = $(col["arch"]); sub(dir, "", v); sub(/\.json$/, "", v); if (v == "marca-geens") v = "marca"
    m = $(col["ED"]) == 2048 ? "mamba-1.4b" : "mamba-2.8b"
    ph = $(col["I"]) == 1 ? "decode" : "prefill"
    key = v " " m " " ph
    if (!(key in seen)) { seen[key] = 1; order[++n] = key; name[n] = v; mod[n] = m; pha[n] = ph }
    lat[key, $(col["policy"])] = $(col["latency_seconds"])
}
END {
    nv = split("base fp32 1d-256 no-dbuf marca", vs, " ")
    for (a = 1; a <= nv; a++)
        for (r = 1; r <= n; r++) {
            if (name[r] != vs[a]) continue
            key = order[r]
            printf "%-9s %-11s %-8s %12.2fx %11.2fx\n", name[r], mod[r], pha[r],
                lat[key, "unfused"] / lat[key, "full"], lat[key, "ssm-ri"] / lat[key, "full"]
        }
}' "$TMP/rows.csv"
