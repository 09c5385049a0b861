#!/bin/sh
# run.sh - diagnostics of bad target and plan files (and bad --arch and
# --policy names) against their goldens.
#
# usage: run.sh MAMBALAYA SRCDIR NAME ARGS...
#   Runs `mambalaya ARGS` from SRCDIR and compares its stderr with
#   tests/targets/NAME.err and its exit status with tests/targets/NAME.status.
#   (Bad sweep specs, tests/sweep/bad_*.json, use it too.)
#   stdout must be empty.  ACCEPT=1 rewrites the goldens (check them first!).
set -u
if [ "$#" -lt 4 ]; then
    echo "usage: $0 MAMBALAYA SRCDIR NAME ARGS..." >&2
    exit 2
fi
BIN=$1
SRCDIR=$2
NAME=$3
shift 3
case $BIN in
    /*) ;;
    *) BIN=$(pwd)/$BIN ;;
esac
cd "$SRCDIR" || exit 2
TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT INT TERM
"$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
echo "$?" >"$TMP/status"
# NAME may name its directory under tests/ (sweep/bad_key); the default
# is tests/targets.
case $NAME in
    */*) base=tests/$NAME ;;
    *) base=tests/targets/$NAME ;;
esac
if [ "${ACCEPT:-0}" = 1 ]; then
    cp "$TMP/err" "$base.err"
    cp "$TMP/status" "$base.status"
    echo "accepted $base.err, $base.status"
    exit 0
fi
ok=0
for f in err status; do
    if [ ! -f "$base.$f" ]; then
        echo "FAIL: golden $base.$f is missing; actual:" >&2
        cat "$TMP/$f" >&2
        ok=1
    elif ! diff -u "$base.$f" "$TMP/$f" >&2; then
        echo "FAIL: $f differs from $base.$f (--- golden, +++ actual)" >&2
        ok=1
    fi
done
if [ -s "$TMP/out" ]; then
    echo "FAIL: stdout is not empty:" >&2
    cat "$TMP/out" >&2
    ok=1
fi
exit $ok
