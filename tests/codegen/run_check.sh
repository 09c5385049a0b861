#!/bin/sh
# Compiles a cascade with `mambalaya run`, builds the generated code with
# warnings as errors (and optionally sanitizers), runs it and compares every
# output with the reference evaluator (--check).
# Usage: run_check.sh MAMBALAYA SRCDIR FILE WORKDIR MODE [run options...]
#   MODE: plain (-O2 -fopenmp -Werror, every parallel region on all threads
#   however small: -DML_PAR_MIN=0), shipped (-O2 -fopenmp -Werror, the
#   generated code's own threshold) or asan (-fsanitize=address,undefined -Werror)
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
