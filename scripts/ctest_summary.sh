#!/bin/sh
# Runs ctest in BUILD and says what a user needs: how many tests passed,
# and for each failure its name and output.  The whole log is kept in
# BUILD/Testing/ctest.log; VERBOSE=1 prints ctest's own output instead.
#
# usage: ctest_summary.sh BUILD NAME JOBS [CTEST ARG]...
set -u
BUILD=$1
NAME=$2
JOBS=$3
shift 3
cd "$BUILD" || exit 1
if [ "${VERBOSE:-0}" != 0 ]; then
    exec ctest -j "$JOBS" --output-on-failure "$@"
fi
LOG=Testing/ctest.log
mkdir -p Testing
printf '%s tests ... ' "$NAME"
t0=$(date +%s)
ctest -j "$JOBS" --output-on-failure "$@" > "$LOG" 2>&1
st=$?
secs=$(( $(date +%s) - t0 ))
summary=$(grep -E '^[0-9]+% tests passed' "$LOG" | tail -n 1)
if [ $st -eq 0 ]; then
    echo "ok: ${summary:-no tests} ($secs s)"
    exit 0
fi
echo "FAILED: ${summary:-ctest failed} ($secs s)"
# Each failure's output as ctest printed it, then the list.
awk '/^ *[0-9]+\/[0-9]+ Test +#/ { show = ($0 ~ /\*\*\*|Failed|Exception|Timeout/) }
     /^The following tests FAILED:/ { show = 0 }
     show' "$LOG"
sed -n '/^The following tests FAILED:/,$p' "$LOG"
echo "(the whole log: $BUILD/$LOG)"
exit $st
