#!/bin/sh
# One step of `make demo` or `make test`, told in one line: what it does,
# then "ok" or "FAILED" and how long it took.  Its output goes to a log
# (shown in full when the step fails); VERBOSE=1 shows it as it runs.
#
# usage: step.sh LOG "WHAT" COMMAND [ARG]...
set -u
LOG=$1
WHAT=$2
shift 2
mkdir -p "$(dirname "$LOG")"
if [ "${VERBOSE:-0}" != 0 ]; then
    echo "== $WHAT"
    exec "$@"
fi
printf '%s ... ' "$WHAT"
t0=$(date +%s)
if "$@" > "$LOG" 2>&1; then
    echo "ok ($(( $(date +%s) - t0 )) s)"
    exit 0
fi
st=$?
echo "FAILED ($(( $(date +%s) - t0 )) s); its output ($LOG):"
cat "$LOG"
exit $st
