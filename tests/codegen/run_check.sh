#!/bin/sh
# Compiles a cascade with `mambalaya run`, builds the generated code with
# warnings as errors (and optionally sanitizers), runs it and compares every
# output with the reference evaluator (--check).
# Usage: run_check.sh MAMBALAYA SRCDIR FILE WORKDIR MODE [run options...]
#   MODE: plain (-O2 -fopenmp -Werror, every parallel region on all threads
#   however small: -DML_PAR_MIN=0), shipped (-O2 -fopenmp -Werror, the
#   generated code's own threshold), asan (-fsanitize=address,undefined -Werror)
#   or profile (shipped with -DML_PROFILE; then --bench 3 --profile must time
#   every group once, in order)
# Inputs: --random 1, or set MAMBA_REF=path to generate Mamba-1 inputs with
# tests/mamba_ref (realistic weights, nonzero states) for B and I given as
# MAMBA_B and MAMBA_I.
set -eu
BIN=$1; SRCDIR=$2; FILE=$3; WORK=$4; MODE=$5
shift 5
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
cd "$SRCDIR"
rm -rf "$WORK"
mkdir -p "$WORK"
WARN="-Wall -Wextra -Werror"
case $MODE in
    plain) CFLAGS="-O2 -fopenmp -DML_PAR_MIN=0 $WARN" ;;
    shipped) CFLAGS="-O2 -fopenmp $WARN" ;;
    profile) CFLAGS="-O2 -fopenmp -DML_PROFILE $WARN" ;;
    asan) CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all $WARN" ;;
    *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
if [ -n "${MAMBA_REF:-}" ]; then
    "$MAMBA_REF" gen --out "$WORK/in" --seed 7 -D B="$MAMBA_B" -D I="$MAMBA_I" >/dev/null
    set -- --in "$WORK/in" -D B="$MAMBA_B" -D I="$MAMBA_I" "$@"
else
    set -- --random 1 "$@"
fi
echo "+ mambalaya run $FILE $* --out $WORK/out --check --cflags '$CFLAGS'"
"$BIN" run "$FILE" "$@" --out "$WORK/out" --keep "$WORK/build" --check --cflags "$CFLAGS"
if [ "$MODE" = profile ]; then
    # One line per group or team, in plan order, covering every group once.
    name=$(basename "$FILE" .ein)
    IN=$WORK/build/inputs; [ -d "$WORK/in" ] && IN=$WORK/in
    "$WORK/build/$name" --in "$IN" --out "$WORK/out2" --bench 3 --profile \
        >"$WORK/profile.txt"
    cat "$WORK/profile.txt"
    awk -v want="$(grep -c '^	/\* group [0-9]*:' "$WORK/build/$name.c")" '
        /^profile: / {
            split($2, g, "="); split($3, l, "="); split($4, t, "=")
            if (g[2] != next_group || l[2] < g[2] || t[2] < 0) bad = 1
            next_group = l[2] + 1
        }
        END { if (bad || next_group != want) { print "FAIL: groups not covered in order"; exit 1 } }
    ' next_group=0 "$WORK/profile.txt"
    # Without -DML_PROFILE the driver refuses --profile (exit status 2).
    make -s -C "$WORK/build" clean
    make -s -C "$WORK/build" CFLAGS="-O2 -fopenmp $WARN" >/dev/null
    if "$WORK/build/$name" --in "$IN" --out "$WORK/out3" --bench 1 \
        --profile 2>"$WORK/err.txt"; then
        echo "FAIL: --profile accepted without ML_PROFILE"; exit 1
    fi
    grep -q "needs a build with -DML_PROFILE" "$WORK/err.txt"
fi
