#!/bin/sh
# run_stream.sh - one accelerator-stream test: compiles a cascade with
# --emit stream, runs the stream in the simulator (with a trace), compares
# every output with the reference evaluator, checks that disasm then asm
# gives the same file byte for byte, and, when POLICY is set, that the
# simulator's cycles and DRAM bytes are within 5% of the mapper's plan.
#
# usage: run_stream.sh MAMBALAYA NPYCMP SIMAGREE SRCDIR FILE WORKDIR [compile options...]
# environment:
#   POLICY          the policy of the plan to agree with (the compile options
#                   must make that plan: --policy P --arch NAME)
#   ARCH            the target of that plan (default mambalaya)
#   AGREE_OPTS      options of simagree (--bytes-only: compare bytes, print
#                   cycles)
#   MAMBA_REF, MAMBA_B, MAMBA_I
#                   Mamba-1 inputs from tests/mamba_ref (realistic weights,
#                   nonzero states) at B and I; otherwise --random 1
#   TOL             output tolerance, max |x - r| / max |r| (default 1e-4,
#                   as `mambalaya run --check`)
#   SIZES           -D options (space-separated) for every command, for a
#                   cascade at other sizes than its defaults
set -eu
BIN=$1; NPYCMP=$2; SIMAGREE=$3; SRCDIR=$4; FILE=$5; WORK=$6
shift 6
for v in BIN NPYCMP SIMAGREE; do
    eval "p=\$$v"
    case $p in /*) ;; *) eval "$v=\$(pwd)/\$p" ;; esac
done
cd "$SRCDIR"
rm -rf "$WORK"
mkdir -p "$WORK"
NAME=$(basename "$FILE" .ein)
run() {
    echo "+ $*" >&2
    "$@"
}
if [ -n "${MAMBA_REF:-}" ]; then
    set -- -D B="$MAMBA_B" -D I="$MAMBA_I" "$@"
    run "$MAMBA_REF" gen --out "$WORK/in" --seed 7 -D B="$MAMBA_B" -D I="$MAMBA_I" >/dev/null
    run "$BIN" eval "$FILE" -D B="$MAMBA_B" -D I="$MAMBA_I" --in "$WORK/in" --out "$WORK/ref" >/dev/null
    DEFS="-D B=$MAMBA_B -D I=$MAMBA_I"
else
    DEFS=${SIZES:-}
    # shellcheck disable=SC2086
    set -- $DEFS "$@"
    # shellcheck disable=SC2086
    run "$BIN" eval "$FILE" $DEFS --random 1 --save-inputs "$WORK/in" --out "$WORK/ref" >/dev/null
fi
run "$BIN" compile "$FILE" -o "$WORK/c" --emit stream "$@"
MLB=$WORK/c/$NAME.mlb
run "$BIN" sim "$MLB" --in "$WORK/in" --out "$WORK/out" --json --trace "$WORK/trace.json" >"$WORK/sim.json"
outs=$(cd "$WORK/ref" && ls ./*.npy | sed 's|^\./||; s|\.npy$||')
# Word splitting of $outs is intended: the output names.
# shellcheck disable=SC2086
run "$NPYCMP" "$WORK/out" "$WORK/ref" $outs --tol "${TOL:-1e-4}"
run "$BIN" disasm "$MLB" -o "$WORK/$NAME.s"
run "$BIN" asm "$WORK/$NAME.s" -o "$WORK/$NAME.re.mlb"
run cmp "$MLB" "$WORK/$NAME.re.mlb"
grep -q '"traceEvents"' "$WORK/trace.json"
grep -q '"thread_name"' "$WORK/trace.json"
if [ -n "${POLICY:-}" ]; then
    # shellcheck disable=SC2086
    run "$BIN" plan "$FILE" $DEFS --policy "$POLICY" --arch "${ARCH:-mambalaya}" --json >"$WORK/plan.json"
    # shellcheck disable=SC2086
    run "$SIMAGREE" "$WORK/sim.json" "$WORK/plan.json" ${AGREE_OPTS:-}
fi
