#!/bin/sh
# Progress lines: on a terminal (a pty from script(1)), eval, sim, run and
# report show "LABEL: NN%  RATE UNIT/s  N s left" and erase it at the end;
# with --quiet, or when stderr is not a terminal, nothing of it appears.
# MAMBALAYA_PROGRESS_AFTER=0 shows it at once (the default waits a second).
#
# usage: run_progress.sh MAMBALAYA SRCDIR WORKDIR
set -eu
M=$1
SRC=$2
W=$3
rm -rf "$W"
mkdir -p "$W"
cd "$W"
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
export MAMBALAYA_PROGRESS_AFTER=0
F="$SRC/examples/mamba1.ein"
"$M" compile "$F" -DI=8 --emit stream -o st >/dev/null
"$M" eval "$F" -DI=8 --random 1 --save-inputs in --out ref >/dev/null

# LABEL COMMAND...: the line shows on a pty, and not with --quiet.
check() {
    label=$1
    shift
    script -qec "$*" /dev/null > tty.txt || fail "$label failed on a terminal"
    grep -q "$label: .*%.*/s.* s left" tty.txt || fail "$label: no progress line on a terminal"
    grep -q "$(printf '\r\033\\[K')" tty.txt || fail "$label: the line is not erased"
    script -qec "$* --quiet" /dev/null > quiet.txt || fail "$label --quiet failed"
    if grep -q "s left" quiet.txt; then fail "$label: progress despite --quiet"; fi
    "$@" > pipe.txt 2>&1 || fail "$label failed in a pipe"
    if grep -q "s left" pipe.txt; then fail "$label: progress when not on a terminal"; fi
}
check eval "$M" eval "$F" -DI=8 --random 1 --out o1
check sim "$M" sim st/mamba1.mlb --in in --out o2
check report "$M" report "$F" -DI=8 --sweep 1 -o r.html
check eval "$M" run "$F" -DI=8 --random 1 --out o3 --check
echo "ok: progress"
