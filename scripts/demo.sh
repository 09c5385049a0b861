#!/bin/sh
# The main job on the shipped example, examples/mamba1.ein (a Mamba-1 block
# at mamba-130m sizes, 64 tokens): check it, analyse its dependences and
# fusion groups, map it onto the Mambalaya target, generate C for the plan,
# run it on data and check it against the reference evaluator; emit the
# accelerator's instruction stream for the same plan, disassemble it and
# run it in the simulator.
set -eu
BUILD=${1:-build}
BIN="$BUILD/mambalaya"
EX=examples/mamba1.ein
OUT=${DEMO_OUT:-$BUILD/demo}
rm -rf "$OUT"
mkdir -p "$OUT"
echo "== mambalaya check $EX"
"$BIN" check "$EX"
echo
echo "== mambalaya deps $EX (dependence summary)"
"$BIN" deps "$EX" | sed -n '/^sequential ranks/,$p'
echo
echo "== mambalaya groups $EX (legal fusion groups)"
"$BIN" groups "$EX" | head -n 30
echo
echo "== mambalaya plan $EX (the mapping onto the default target, mambalaya)"
"$BIN" plan "$EX"
echo
echo "== mambalaya plan $EX --policy all, a mamba-2.8b layer at batch 64 and 2048 tokens"
"$BIN" plan "$EX" -D ED=2560 -D D=5120 -D R=160 -D B=64 -D I=2048 --policy all
echo
echo "== inputs: random weights at realistic scales, nonzero conv and SSM states (tests/mamba_ref gen)"
"$BUILD/tests/mamba_ref" gen --out "$OUT/in" --seed 1
echo
echo "== mambalaya eval $EX (reference evaluator, double precision)"
"$BIN" eval "$EX" --in "$OUT/in" --out "$OUT/eval"
echo
echo "== mambalaya compile $EX -o $OUT/c (C kernels for the full plan on this CPU; the first use calibrates it)"
"$BIN" compile "$EX" -o "$OUT/c"
echo
echo "== mambalaya run $EX --check (built with the system compiler, run, compared with the evaluator)"
"$BIN" run "$EX" --in "$OUT/in" --out "$OUT/run" --check
echo
echo "== mambalaya compile $EX --emit stream -o $OUT/stream (the accelerator's instruction stream)"
"$BIN" compile "$EX" --emit stream -o "$OUT/stream"
echo
echo "== mambalaya disasm $OUT/stream/mamba1.mlb (the first lines of the code)"
"$BIN" disasm "$OUT/stream/mamba1.mlb" -o "$OUT/stream/mamba1.s"
sed -n '1,2p' "$OUT/stream/mamba1.s"
sed -n '/^\.code$/,$p' "$OUT/stream/mamba1.s" | sed -n '1,24p'
echo "   ... ($(grep -c '' "$OUT/stream/mamba1.s") lines in $OUT/stream/mamba1.s)"
echo
echo "== mambalaya sim (the stream on the same inputs; trace in $OUT/stream/trace.json)"
"$BIN" sim "$OUT/stream/mamba1.mlb" --in "$OUT/in" --out "$OUT/sim" --trace "$OUT/stream/trace.json"
"$BUILD/tests/npycmp" "$OUT/sim" "$OUT/eval" LO RS CSO HF --tol 1e-4
echo
echo "== mambalaya report $EX (the plan as one HTML page, with the simulator's timeline)"
"$BIN" report "$EX" --sim "$OUT/in" -o "$OUT/report.html"
echo "   open $OUT/report.html in a browser"
