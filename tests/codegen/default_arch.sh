#!/bin/sh
# default_arch.sh BIN WORK: compile's default targets.  Without --arch, the C
# is the host plan's (the same files as --arch host, and different from the
# accelerator's), the instruction stream the accelerator's (the same as
# --arch mambalaya); --retile is a usage error that says what replaced it.
# Run from the source tree, with MAMBALAYA_HOST_TARGET set (tests/CMakeLists.txt).
set -eu
BIN=$1 WORK=$2
EX=examples/mamba1.ein
fail() { echo "default_arch: $*" >&2; exit 1; }
rm -rf "$WORK"
mkdir -p "$WORK"
"$BIN" compile $EX -o "$WORK/default" >/dev/null
"$BIN" compile $EX --arch host -o "$WORK/host" >/dev/null
"$BIN" compile $EX --arch mambalaya -o "$WORK/accel" >/dev/null
cmp -s "$WORK/default/mamba1.c" "$WORK/host/mamba1.c" || fail "default C is not the host plan's"
cmp -s "$WORK/default/mamba1.c" "$WORK/accel/mamba1.c" && fail "host and accelerator C are the same"
"$BIN" compile $EX --emit stream -o "$WORK/sdefault" >/dev/null
"$BIN" compile $EX --emit stream --arch mambalaya -o "$WORK/saccel" >/dev/null
cmp -s "$WORK/sdefault/mamba1.mlb" "$WORK/saccel/mamba1.mlb" || fail "default stream is not the accelerator plan's"
st=0
"$BIN" compile $EX --retile cpu -o "$WORK/retile" >/dev/null 2>"$WORK/err.txt" || st=$?
[ "$st" -eq 2 ] || fail "--retile: exit status $st, expected 2"
grep -q -- "--retile is gone: C is planned for this CPU by default (--arch host)" "$WORK/err.txt" ||
	fail "--retile: no hint: $(cat "$WORK/err.txt")"
[ ! -e "$WORK/retile" ] || fail "--retile wrote output"
echo "default_arch: ok"
