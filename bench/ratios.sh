# ratios.sh - sourced by sensitivity.sh and walk.sh: the ratios full/unfused
# and full/ssm-ri of one Mamba-1 layer (mamba-1.4b and mamba-2.8b, batch 64,
# prefill at 2048 tokens and decode) on several targets, from one
# `mambalaya sweep`.
#
# ratios BIN TMP LABEL NAME...: NAME is a target file TMP/NAME.json, or a
# built-in target's name; one table row per target, model and phase, in the
# order of the NAMEs; LABEL heads the first column.
ratios() {
    _bin=$1 _tmp=$2 _label=$3
    shift 3
    _archs=
    for _n in "$@"; do
        if [ -f "$_tmp/$_n.json" ]; then _a="$_tmp/$_n.json"; else _a=$_n; fi
        _archs="$_archs${_archs:+, }\"$_a\""
    done
    cat > "$_tmp/spec.json" <<SPEC
{"file": "$(pwd)/examples/mamba1.ein",
 "defines": {"ED": [2048, 2560], "B": [64], "I": [2048, 1]},
 "arch": [$_archs],
 "policy": ["unfused", "ssm-ri", "full"]}
SPEC
    "$_bin" sweep "$_tmp/spec.json" --jobs "$(nproc 2>/dev/null || echo 1)" --quiet \
        -o "$_tmp/rows.csv"
    printf '%-12s %-11s %-8s %13s %12s\n' "$_label" model phase full/unfused full/ssm-ri
    # Columns by name; rows in the order of the targets, then models.
    awk -F, -v dir="$_tmp/" -v names="$*" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    {
        v = $(col["arch"]); sub(dir, "", v); sub(/\.json$/, "", v)
        key = v " " $(col["ED"]) " " $(col["I"])
        lat[key, $(col["policy"])] = $(col["latency_seconds"])
    }
    END {
        ns = split(names, st, " ")
        for (s = 1; s <= ns; s++)
            for (e = 2048; e <= 2560; e += 512)
                for (ph = 0; ph < 2; ph++) {
                    key = st[s] " " e " " (ph ? 1 : 2048)
                    if (lat[key, "full"] == "") { print "ratios: no rows for " key > "/dev/stderr"; exit 1 }
                    printf "%-12s %-11s %-8s %12.2fx %11.2fx\n", st[s],
                        e == 2048 ? "mamba-1.4b" : "mamba-2.8b", ph ? "decode" : "prefill",
                        lat[key, "unfused"] / lat[key, "full"], lat[key, "ssm-ri"] / lat[key, "full"]
                }
    }' "$_tmp/rows.csv"
}
