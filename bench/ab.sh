#!/bin/sh
# Two builds of the compiler side by side on the same plans: for each case,
# the C that each makes (its `compile` default, or the options in
# BENCH_AB_ARGS) is built with `make profile` and run on the same random
# inputs (bench/inputs.py), in interleaved rounds; medians of the rounds'
# `--bench 5` medians, then the last round's time per group, old beside new.
# For a change to code generation: build the old commit in a worktree,
# then e.g.  sh bench/ab.sh /tmp/old/build/mambalaya build/mambalaya 3 \
#                mamba1:I=1024 transformer:S=256
#
# Usage: bench/ab.sh OLD_MAMBALAYA NEW_MAMBALAYA [ROUNDS] CASE...
# CASE: NAME:DEFINES as in bench/corpus.sh (examples/NAME.ein).
set -eu
if [ $# -lt 3 ]; then
    echo "usage: bench/ab.sh OLD_MAMBALAYA NEW_MAMBALAYA [ROUNDS] CASE..." >&2
    exit 2
fi
OLD=$1; NEW=$2; shift 2
ROUNDS=3
case $1 in *[!0-9]*) ;; *) ROUNDS=$1; shift ;; esac
WORK=${BENCH_WORK:-build/bench-ab}
PY=/usr/bin/python3
. bench/cpu_env.sh
mkdir -p "$WORK"

for c in "$@"; do
    name=${c%%:*}; defs=${c#*:}; [ "$defs" = "$c" ] && defs=""
    set --
    for kv in $(echo "$defs" | tr ',' ' '); do set -- "$@" -D "$kv"; done
    dir=$WORK/$(echo "$c" | tr ':,=' '___')
    rm -rf "$dir"; mkdir -p "$dir"
    $PY bench/inputs.py "$NEW" "examples/$name.ein" "$dir/in" "$@"
    for v in old new; do
        bin=$OLD; [ $v = new ] && bin=$NEW
        # shellcheck disable=SC2086 # BENCH_AB_ARGS is a list of options
        "$bin" compile "examples/$name.ein" "$@" ${BENCH_AB_ARGS:-} -o "$dir/$v" >/dev/null
        make -s -C "$dir/$v" profile >/dev/null
        : > "$dir/$v.txt"
    done
    r=0
    while [ "$r" -lt "$ROUNDS" ]; do
        for v in old new; do
            "$dir/$v/${name}_profile" --in "$dir/in" --out "$dir/out_$v" --bench 5 --profile \
                > "$dir/$v.last"
            sed -n 's/^bench: .*median_ms=\([0-9.]*\).*/\1/p' "$dir/$v.last" >> "$dir/$v.txt"
        done
        r=$((r + 1))
    done
    printf '%-24s old %10.3f ms  new %10.3f ms\n' "$c" "$(median < "$dir/old.txt")" \
        "$(median < "$dir/new.txt")"
    # The groups of the last round (the same plan gives the same groups).
    grep '^profile:' "$dir/old.last" | sed 's/.*median_ms=\([0-9.]*\) einsums=\(.*\)/\1 \2/' \
        > "$dir/old.groups"
    grep '^profile:' "$dir/new.last" | sed 's/.*median_ms=\([0-9.]*\) einsums=\(.*\)/\1/' \
        > "$dir/new.groups"
    paste -d' ' "$dir/old.groups" "$dir/new.groups" |
        awk '{ n = $NF; $NF = ""; o = $1; $1 = ""; printf "    %10.4f %10.4f %s\n", o, n, $0 }'
done
