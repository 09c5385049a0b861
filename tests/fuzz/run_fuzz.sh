#!/bin/sh
# run_fuzz.sh - runs one libFuzzer target for a time budget.
#
# usage: run_fuzz.sh smoke|campaign FUZZER TARGET SECONDS WORKDIR SRCDIR
#
#   FUZZER   the libFuzzer binary (tests/fuzz/fuzz_TARGET.c built with
#            -DMAMBALAYA_FUZZ=ON)
#   TARGET   ein, defines, npy, target, plan, mlb or asm: picks
#            tests/fuzz/corpus/TARGET, tests/fuzz/regressions/TARGET and
#            the dictionary
#   SECONDS  the budget (-max_total_time)
#   WORKDIR  where the working corpus and the crash artifacts go:
#            WORKDIR/TARGET/corpus, WORKDIR/TARGET/artifacts, WORKDIR/TARGET/log
#
# smoke:    a fresh copy of the seed corpus every time, a fixed seed (1), so
#           that `make test` is reproducible up to timing; the seed corpus
#           and the regressions are run first, then fresh inputs.
# campaign: the working corpus is kept and grows from run to run (`make fuzz`);
#           the seed is FUZZ_SEED if set, else chosen by libFuzzer.
#
# Exit status 0 when nothing was found, 1 when the fuzzer found a crash, a
# leak, a timeout (one input over 10 s in a campaign, 20 s in a smoke run)
# or an out-of-memory (2 GB), 2 on usage errors.  The input that caused it
# is in WORKDIR/TARGET/artifacts/; make it a regression test by copying it
# to tests/fuzz/regressions/TARGET/.
set -u

if [ "$#" -ne 6 ]; then
    echo "usage: $0 smoke|campaign FUZZER TARGET SECONDS WORKDIR SRCDIR" >&2
    exit 2
fi
MODE=$1 FUZZER=$2 TARGET=$3 SECONDS_=$4 WORK=$5 SRC=$6
case $MODE in smoke|campaign) ;; *) echo "$0: bad mode '$MODE'" >&2; exit 2 ;; esac
[ -x "$FUZZER" ] || { echo "$0: $FUZZER is not an executable" >&2; exit 2; }
SEEDS=$SRC/tests/fuzz/corpus/$TARGET
REGS=$SRC/tests/fuzz/regressions/$TARGET
DICT=$SRC/tests/fuzz/$TARGET.dict
[ -d "$SEEDS" ] || { echo "$0: no seed corpus $SEEDS" >&2; exit 2; }

DIR=$WORK/$TARGET
if [ "$MODE" = smoke ]; then
    rm -rf "$DIR"
fi
mkdir -p "$DIR/corpus" "$DIR/artifacts" || exit 2
# Earlier artifacts would be reported again: keep them aside.
for a in "$DIR"/artifacts/*; do
    [ -f "$a" ] || continue
    mkdir -p "$DIR/old-artifacts" && mv "$a" "$DIR/old-artifacts/"
done

# The smoke run is part of `make test` on shared machines: the slowest
# input known (256 writers of one tensor, tests/limits) takes 3.5 s in the
# fuzz build when the machine is idle, so a loaded machine gets twice the
# campaign's margin.  A hang still fails.
timeout=10
[ "$MODE" = smoke ] && timeout=20
set -- -max_total_time="$SECONDS_" -timeout="$timeout" -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$DIR/artifacts/"
[ -f "$DICT" ] && set -- "$@" -dict="$DICT"
if [ "$MODE" = smoke ]; then
    set -- "$@" -seed=1
elif [ -n "${FUZZ_SEED:-}" ]; then
    set -- "$@" -seed="$FUZZ_SEED"
fi
dirs="$DIR/corpus $SEEDS"
[ -d "$REGS" ] && dirs="$dirs $REGS"

echo "fuzz: $TARGET for ${SECONDS_}s ($MODE), corpus $DIR/corpus"
# MAMBALAYA_SRCDIR: fuzz_defines reads examples/mamba1.ein from there.
# shellcheck disable=SC2086
MAMBALAYA_SRCDIR=$SRC "$FUZZER" "$@" $dirs >"$DIR/log" 2>&1
status=$?

# The final stats: executions, coverage, corpus.
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$DIR/log" | tail -n 1)
cov=$(grep -o 'cov: [0-9]*' "$DIR/log" | tail -n 1 | cut -d' ' -f2)
ft=$(grep -o 'ft: [0-9]*' "$DIR/log" | tail -n 1 | cut -d' ' -f2)
ncorp=$(find "$DIR/corpus" -type f | wc -l)
echo "fuzz: $TARGET: ${execs:-?} executions, cov ${cov:-?}, features ${ft:-?}, working corpus $ncorp files"

# A slow unit (over 10 s once) is reported, not a failure: a timeout is.
slow=$(find "$DIR/artifacts" -type f -name 'slow-unit-*' | head -n 5)
for a in $slow; do
    echo "fuzz: $TARGET: slow input (see the log for its time): $a"
done
found=$(find "$DIR/artifacts" -type f ! -name 'slow-unit-*' | head -n 20)
if [ "$status" -ne 0 ] || [ -n "$found" ]; then
    echo "fuzz: $TARGET: FAILED (libFuzzer exit status $status)" >&2
    # The report: from the first sanitizer/libFuzzer error line on.
    sed -n '/ERROR: \|BUG: \|==ERROR\|runtime error\|Test unit written/,$p' "$DIR/log" | head -n 80 >&2
    for a in $found; do
        echo "fuzz: input: $a" >&2
        echo "      reproduce: $FUZZER $a" >&2
        echo "      keep it:   cp $a $REGS/" >&2
    done
    echo "fuzz: full log: $DIR/log" >&2
    exit 1
fi
exit 0
