#!/bin/sh
# run_golden.sh - golden-file tests of what `mambalaya check` prints.
#
# usage:
#   run_golden.sh diag MAMBALAYA SRCDIR tests/diag/NAME.ein
#       Runs `mambalaya check tests/diag/NAME.ein ARGS` from SRCDIR and
#       compares its stderr with tests/diag/NAME.err and its exit status with
#       the number in tests/diag/NAME.status.  ARGS come from a first line
#       `# args: ...` of the .ein file (e.g. `# args: -D N=0`); a line
#       `# file: PATH` checks PATH instead of the .ein file (for a missing
#       file).  stdout is not compared (it holds the summary on success).
#   run_golden.sh out MAMBALAYA SRCDIR GOLDEN ARGS...
#       Runs `mambalaya ARGS` from SRCDIR and compares its stdout with the
#       file GOLDEN (relative to SRCDIR); it must exit 0 with empty stderr.
#
# Running from SRCDIR with relative paths keeps the file names in the
# goldens stable.
#
# To accept the current output as the new goldens (after checking that it
# is right!), run with ACCEPT=1, e.g. from the source directory:
#   ACCEPT=1 sh tests/run_golden.sh diag build/mambalaya . tests/diag/NAME.ein
# or for all of them:
#   ACCEPT=1 ctest --test-dir build -R '^(diag|golden)\.'
# then review the changes with `git diff tests/`.
set -u

if [ "$#" -lt 4 ]; then
    echo "usage: $0 diag|out MAMBALAYA SRCDIR FILE [ARGS...]" >&2
    exit 2
fi
MODE=$1
BIN=$2
SRCDIR=$3
FILE=$4
shift 4
ACCEPT=${ACCEPT:-0}

case $BIN in
    /*) ;;
    *) BIN=$(pwd)/$BIN ;;
esac
cd "$SRCDIR" || exit 2

TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT INT TERM

# Compares file $1 (actual) with golden $2, or rewrites $2 when accepting.
compare() {
    if [ "$ACCEPT" = 1 ]; then
        cp "$1" "$2"
        echo "accepted $2"
        return 0
    fi
    if [ ! -f "$2" ]; then
        echo "FAIL: golden $2 is missing; actual output:" >&2
        cat "$1" >&2
        return 1
    fi
    if ! diff -u "$2" "$1" >"$TMP/diff"; then
        echo "FAIL: output differs from $2 (--- golden, +++ actual):" >&2
        cat "$TMP/diff" >&2
        return 1
    fi
    return 0
}

case $MODE in
diag)
    base=${FILE%.ein}
    if [ ! -f "$FILE" ]; then
        echo "FAIL: $FILE not found in $SRCDIR" >&2
        exit 1
    fi
    args=$(sed -n '1s/^# args: //p' "$FILE")
    target=$(sed -n '1,2s/^# file: //p' "$FILE")
    [ -n "$target" ] || target=$FILE
    # Word splitting of $args is intended: the options of the test.
    # shellcheck disable=SC2086
    "$BIN" check "$target" $args >"$TMP/out" 2>"$TMP/err"
    echo "$?" >"$TMP/status"
    ok=0
    compare "$TMP/err" "$base.err" || ok=1
    compare "$TMP/status" "$base.status" || ok=1
    exit $ok
    ;;
out)
    "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
    status=$?
    ok=0
    if [ "$status" -ne 0 ]; then
        echo "FAIL: mambalaya $* exited with $status" >&2
        ok=1
    fi
    if [ -s "$TMP/err" ]; then
        echo "FAIL: mambalaya $* wrote to stderr:" >&2
        cat "$TMP/err" >&2
        ok=1
    fi
    compare "$TMP/out" "$FILE" || ok=1
    exit $ok
    ;;
*)
    echo "$0: unknown mode '$MODE'" >&2
    exit 2
    ;;
esac
