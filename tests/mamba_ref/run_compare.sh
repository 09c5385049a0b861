#!/bin/sh
# run_compare.sh - end-to-end check of one Mamba-1 block: the product's
# reference evaluator (mambalaya eval) against the independent C reference
# (mamba_ref), on the same deterministic random inputs.
#
# usage: run_compare.sh MAMBALAYA_BIN MAMBA_REF_BIN NPYCMP_BIN EIN_FILE WORKDIR B I
#
# Only B and I are passed; every other size is the mamba-130m default of both
# the .ein file and mamba_ref.  WORKDIR/in, WORKDIR/out_eval and
# WORKDIR/out_ref are recreated on every run.
set -eu

if [ "$#" -ne 7 ]; then
    echo "usage: $0 MAMBALAYA_BIN MAMBA_REF_BIN NPYCMP_BIN EIN_FILE WORKDIR B I" >&2
    exit 2
fi
MAMBALAYA=$1
MAMBA_REF=$2
NPYCMP=$3
EIN=$4
WORK=$5
B=$6
I=$7

for v in "$B" "$I"; do
    case $v in
        '' | *[!0-9]* | 0*)
            echo "$0: B and I must be positive integers (got '$B', '$I')" >&2
            exit 2
            ;;
    esac
done
if [ -z "$WORK" ]; then
    echo "$0: WORKDIR must not be empty" >&2
    exit 2
fi

# Deterministic seed derived from the sizes.
SEED=$((B * 100003 + I))
IN=$WORK/in
OUT1=$WORK/out_eval
OUT2=$WORK/out_ref

run() {
    echo "+ $*"
    "$@"
}

run rm -rf "$IN" "$OUT1" "$OUT2"
run mkdir -p "$IN" "$OUT1" "$OUT2"
run "$MAMBA_REF" gen --out "$IN" --seed "$SEED" -D "B=$B" -D "I=$I"
run "$MAMBALAYA" eval "$EIN" --in "$IN" --out "$OUT1" -D "B=$B" -D "I=$I"
run "$MAMBA_REF" run --in "$IN" --out "$OUT2" -D "B=$B" -D "I=$I"
run "$NPYCMP" "$OUT1" "$OUT2" LO RS CSO HF --tol 1e-5
echo "run_compare: B=$B I=$I OK"
