#!/bin/sh
# run_case.sh - golden tests of the stream tools' errors (tests/stream/cases).
#
# usage: run_case.sh MAMBALAYA MLBMUT SRCDIR KIND NAME
#   asm NAME  `mambalaya asm tests/stream/cases/NAME.s`: its stderr must be
#             cases/NAME.err and its exit status cases/NAME.status
#   sim NAME  cases/NAME.s is assembled (it must assemble), then run with
#             `mambalaya sim NAME.mlb --in . --out out ARGS` (ARGS from a
#             first line `; args: ...`); stderr and status compared
#   mut NAME  cases/base.s is assembled, damaged with `mlbmut` by the
#             operations in cases/NAME.mut, and read with `mambalaya disasm`
#             (and `mambalaya sim`, which must print the same message)
# ACCEPT=1 rewrites the goldens (review them with `git diff tests/`).
set -u
BIN=$1; MUT=$2; SRCDIR=$3; KIND=$4; NAME=$5
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
case $MUT in /*) ;; *) MUT=$(pwd)/$MUT ;; esac
cd "$SRCDIR" || exit 2
C=tests/stream/cases
TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT INT TERM

compare() {
    if [ "${ACCEPT:-0}" = 1 ]; then
        cp "$1" "$2"
        echo "accepted $2"
        return 0
    fi
    if ! diff -u "$2" "$1" >"$TMP/diff" 2>&1; then
        echo "FAIL: output differs from $2 (--- golden, +++ actual):" >&2
        cat "$TMP/diff" >&2
        return 1
    fi
    return 0
}

case $KIND in
asm)
    "$BIN" asm "$C/$NAME.s" -o "$TMP/out.mlb" >"$TMP/out" 2>"$TMP/err"
    echo "$?" >"$TMP/status"
    ;;
sim)
    if ! "$BIN" asm "$C/$NAME.s" -o "$TMP/$NAME.mlb"; then
        echo "FAIL: $C/$NAME.s does not assemble" >&2
        exit 1
    fi
    args=$(sed -n '1s/^; args: //p' "$C/$NAME.s")
    # shellcheck disable=SC2086
    (cd "$TMP" && "$BIN" sim "$NAME.mlb" --in . --out out $args >out 2>err)
    echo "$?" >"$TMP/status"
    ;;
mut)
    if ! "$BIN" asm "$C/base.s" -o "$TMP/base.mlb"; then
        echo "FAIL: $C/base.s does not assemble" >&2
        exit 1
    fi
    # shellcheck disable=SC2046
    "$MUT" "$TMP/base.mlb" "$TMP/$NAME.mlb" $(cat "$C/$NAME.mut") || exit 2
    (cd "$TMP" && "$BIN" disasm "$NAME.mlb" >out 2>err)
    echo "$?" >"$TMP/status"
    (cd "$TMP" && "$BIN" sim "$NAME.mlb" --in . --out o >/dev/null 2>err.sim)
    if ! cmp -s "$TMP/err" "$TMP/err.sim"; then
        echo "FAIL: sim and disasm report differently:" >&2
        cat "$TMP/err" "$TMP/err.sim" >&2
        exit 1
    fi
    ;;
*)
    echo "$0: unknown kind $KIND" >&2
    exit 2
    ;;
esac
ok=0
compare "$TMP/err" "$C/$NAME.err" || ok=1
compare "$TMP/status" "$C/$NAME.status" || ok=1
exit $ok
