#!/bin/sh
# The main job on the shipped example: check examples/mamba1.ein and print
# its summary, then run it with the reference evaluator on random data.
set -eu
BUILD=${1:-build}
BIN="$BUILD/mambalaya"
EX=examples/mamba1.ein
OUT=${DEMO_OUT:-$BUILD/demo}
echo "== mambalaya check $EX"
"$BIN" check "$EX"
echo
echo "== mambalaya deps $EX (dependence summary)"
"$BIN" deps "$EX" | sed -n '/^sequential ranks/,$p'
echo
echo "== mambalaya groups $EX (legal fusion groups)"
"$BIN" groups "$EX" | head -n 30
echo
echo "== mambalaya eval $EX --random 1 (reference evaluator)"
"$BIN" eval "$EX" --random 1 --save-inputs "$OUT/in" --out "$OUT/out"
