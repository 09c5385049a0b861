#!/bin/sh
# fuzz.sh - the fuzzing campaign behind `make fuzz`.
#
# usage: scripts/fuzz.sh FUZZ_BUILD SECONDS [TARGET...]
#
# Runs every libFuzzer target of tests/fuzz (built in FUZZ_BUILD with
# -DMAMBALAYA_FUZZ=ON) for SECONDS each, one after the other, each in its
# own working corpus FUZZ_BUILD/fuzz-campaign/TARGET/corpus, seeded from
# tests/fuzz/corpus/TARGET and tests/fuzz/regressions/TARGET and kept from
# one campaign to the next.  Prints executions, coverage and corpus size per
# target, and for every crash, leak, timeout or out-of-memory the input
# that caused it and how to keep it as a regression test.  Exit status 0 if
# nothing was found, 1 otherwise.  FUZZ_SEED=N fixes libFuzzer's seed.
set -u
if [ "$#" -lt 2 ]; then
    echo "usage: $0 FUZZ_BUILD SECONDS [TARGET...]" >&2
    exit 2
fi
BUILD=$1
SECS=$2
shift 2
[ "$#" -gt 0 ] || set -- ein defines npy target plan mlb asm
SRC=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
WORK=$BUILD/fuzz-campaign
mkdir -p "$WORK"
summary=$WORK/summary.txt
: >"$summary"
failed=""
for t in "$@"; do
    bin=$BUILD/tests/fuzz/fuzz_$t
    if [ ! -x "$bin" ]; then
        echo "fuzz: no fuzz target $bin (build with -DMAMBALAYA_FUZZ=ON)" >&2
        exit 2
    fi
    sh "$SRC/tests/fuzz/run_fuzz.sh" campaign "$bin" "$t" "$SECS" "$WORK" "$SRC" \
        2>&1 | tee -a "$summary" || true
    # run_fuzz.sh's status is lost in the pipe: look at its verdict.
    if grep -q "^fuzz: $t: FAILED" "$summary"; then
        failed="$failed $t"
    fi
done
echo "fuzz: summary in $summary"
if [ -n "$failed" ]; then
    echo "fuzz: FOUND PROBLEMS in:$failed" >&2
    exit 1
fi
echo "fuzz: nothing found"
