#!/bin/sh
# Regression tests of the findings of a hostile or careless user's review
# (docs/reliability.md, "Driving the system"): each case runs the tool the
# way the finding did and checks the exact message, the exit status and
# what is (not) left on disk.
# Usage: run_hardening.sh MAMBALAYA SRCDIR WORKDIR CASE
set -u
BIN=$1; SRC=$2; WORK=$3; CASE=$4
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK" || exit 2
EX=$SRC/examples

fail() { echo "FAIL ($CASE): $*" >&2; exit 1; }
# expect STATUS MESSAGE-FILE COMMAND...: the exit status, and stderr equal
# to the expected text (with $WORK written as WORK).
expect() {
	want=$1; shift
	exp=$1; shift
	"$@" >out.txt 2>err.txt
	got=$?
	[ "$got" = "$want" ] || { cat err.txt >&2; fail "exit status $got, expected $want"; }
	sed "s|$WORK|WORK|g" err.txt >err.norm
	printf '%s\n' "$exp" >err.want
	cmp -s err.norm err.want || { diff err.want err.norm >&2; fail "stderr differs"; }
}

case $CASE in
keep_quote)
	# A --keep path with a quote and $(...) is a path, never a command.
	"$BIN" run "$EX/mlp.ein" --random 1 --out o --keep "k'\$(touch X)'" >/dev/null ||
		fail "run failed"
	[ ! -e X ] || fail "the path ran a command"
	[ -f "k'\$(touch X)'/mlp.c" ] || fail "no kernel in the --keep directory"
	;;
tmpdir_quote)
	# A TMPDIR with a quote: the build and the cleanup use it as a path.
	mkdir "t'\$(touch Y)'" keepme
	TMPDIR="$WORK/t'\$(touch Y)'" "$BIN" run "$EX/mlp.ein" --random 1 --out o >/dev/null ||
		fail "run failed"
	[ ! -e Y ] || fail "TMPDIR ran a command"
	[ -d keepme ] || fail "the cleanup removed an unrelated directory"
	[ -z "$(ls -A "t'\$(touch Y)'")" ] || fail "the build directory was left behind"
	;;
apostrophe)
	# "bob's build": a path with an apostrophe works everywhere.
	mkdir "bob's build"
	TMPDIR="$WORK/bob's build" "$BIN" run "$EX/mlp.ein" --random 1 --out "bob's build/o" \
		--keep "bob's build/k" --check >/dev/null || fail "run failed"
	[ -f "bob's build/o/Y.npy" ] || fail "no output"
	;;
cflags_words)
	# --cflags is split into words like a shell does, without expanding
	# anything, applied by run's build and recorded by compile.
	"$BIN" run "$EX/matmul_relu.ein" --random 1 --out o --keep k --check \
		--cflags "-O2 -DMLQ='1' \"-DMLS=\\\"a b\\\"\" -Wall -Werror \$(touch Z)" >/dev/null 2>err.txt
	[ ! -e Z ] || fail "--cflags ran a command"
	grep -q "touch" err.txt || fail "the \$(touch Z) word did not reach the compiler as text"
	"$BIN" compile "$EX/matmul_relu.ein" -o c --cflags "-O2 -DMLQ='1' -DMLD=\$HOME#x" \
		>/dev/null || fail "compile failed"
	grep -qx "CFLAGS ?= -O2 -DMLQ=1 '-DMLD=\$\$HOME\\\\#x'" c/Makefile ||
		fail "the Makefile does not record the flags: $(grep '^CFLAGS' c/Makefile)"
	make -s -C c >/dev/null 2>&1 || fail "the recorded flags do not build"
	expect 2 "mambalaya compile: error: --cflags: the single quote at character 5 is not closed
Try 'mambalaya compile --help'." "$BIN" compile "$EX/matmul_relu.ein" -o d --cflags "-O2 'x"
	;;
symlink_tmp)
	# A symbolic link planted at the old fixed temporary name (and at
	# any name: temporaries are new files, O_EXCL) never redirects a write.
	mkdir k
	echo precious >victim
	ln -s "$WORK/victim" k/matmul_relu.c.tmp
	ln -s "$WORK/victim" k/.matmul_relu.c.XXXXXX
	"$BIN" compile "$EX/matmul_relu.ein" -o k >/dev/null || fail "compile failed"
	[ "$(cat victim)" = precious ] || fail "the victim was overwritten"
	[ -f k/matmul_relu.c ] && [ ! -L k/matmul_relu.c ] || fail "no regular kernel file"
	;;
trace_input)
	# sim --trace at an input or at the stream itself is refused before
	# anything is written.
	"$BIN" compile "$EX/matmul_relu.ein" -o s --emit stream >/dev/null || fail "compile"
	"$BIN" eval "$EX/matmul_relu.ein" --random 1 --out e --save-inputs in >/dev/null || fail "eval"
	cp in/A.npy A.keep
	expect 1 "mambalaya sim: error: in/A.npy would replace in/A.npy, an input of this command; write elsewhere" \
		"$BIN" sim s/matmul_relu.mlb --in in --out o --trace in/A.npy
	cmp -s in/A.npy A.keep || fail "the input was changed"
	cp s/matmul_relu.mlb m.keep
	expect 1 "mambalaya sim: error: s/matmul_relu.mlb would replace s/matmul_relu.mlb, an input of this command; write elsewhere" \
		"$BIN" sim s/matmul_relu.mlb --in in --out o --trace s/matmul_relu.mlb
	cmp -s s/matmul_relu.mlb m.keep || fail "the stream was changed"
	;;
trace_killed)
	# A trace is written to a temporary and renamed when the run ends
	# well: a failing run leaves none under the final name.
	"$BIN" compile "$EX/matmul_relu.ein" -o s --emit stream >/dev/null || fail "compile"
	mkdir in
	"$BIN" sim s/matmul_relu.mlb --in in --out o --trace t.json >/dev/null 2>&1 &&
		fail "sim without inputs succeeded"
	[ ! -e t.json ] || fail "a failed run left a trace"
	[ -z "$(ls -A | grep '^\.t\.json')" ] || fail "a temporary trace was left"
	;;
concurrent)
	# Two compiles into one directory take turns; both succeed and the
	# result is one consistent set.
	for i in 1 2 3 4; do
		"$BIN" compile "$EX/mlp.ein" -o k >/dev/null 2>"err$i.txt" &
	done
	wait
	for i in 1 2 3 4; do [ ! -s "err$i.txt" ] || { cat "err$i.txt" >&2; fail "a compile failed"; }; done
	make -s -C k >/dev/null || fail "the set does not build"
	[ -z "$(ls -A k | grep '^\.mlp')" ] || fail "temporaries were left"
	;;
mixed_set)
	# Parts of two different compiles (a kill between renames) do not
	# build together: NAME.c checks NAME.h's stamp.
	"$BIN" compile "$EX/mlp.ein" -o a >/dev/null || fail "compile a"
	"$BIN" compile "$EX/mlp.ein" -o b -D M=8 >/dev/null || fail "compile b"
	cp b/mlp.h a/mlp.h
	make -s -C a >/dev/null 2>err.txt && fail "a mixed set built"
	grep -q 'error: #error "mlp.c and mlp.h come from different runs of mambalaya compile: compile again"' err.txt ||
		{ cat err.txt >&2; fail "not the stamp's message"; }
	;;
disk_full)
	# A full disk is the user's error (exit 1) with the path and the
	# reason, not an internal error.
	"$BIN" compile "$EX/matmul_relu.ein" -o s --emit stream >/dev/null || fail "compile"
	expect 1 "mambalaya disasm: error: /dev/full: cannot write: No space left on device" \
		"$BIN" disasm s/matmul_relu.mlb -o /dev/full
	;;
file_too_large)
	# A write that fails (here RLIMIT_FSIZE: "File too large") leaves the
	# old set whole and no temporaries; the message names the file.
	"$BIN" compile "$EX/mlp.ein" -o k >/dev/null || fail "compile"
	cp k/mlp.c old.c
	( trap '' XFSZ; ulimit -f 8; "$BIN" compile "$EX/mlp.ein" -o k -D M=8 >out.txt 2>err.txt; echo $? >st.txt )
	[ "$(cat st.txt)" = 1 ] || { cat err.txt >&2; fail "exit status $(cat st.txt), expected 1"; }
	grep -q "^mambalaya compile: error: k/mlp.c: cannot write: File too large$" err.txt ||
		{ cat err.txt >&2; fail "not the message"; }
	cmp -s k/mlp.c old.c || fail "the old kernel was replaced"
	[ -z "$(ls -A k | grep '^\.mlp')" ] || fail "temporaries were left"
	;;
foreign_files)
	# The output directory's own files (a Makefile, npy.c) are not
	# replaced without --force.
	mkdir k
	echo "all: ; @echo mine" >k/Makefile
	expect 1 "mambalaya compile: error: k/Makefile exists and was not written by mambalaya (k/.mambalaya-manifest does not list it); remove it, write elsewhere, or give --force to replace it" \
		"$BIN" compile "$EX/mlp.ein" -o k
	[ "$(cat k/Makefile)" = "all: ; @echo mine" ] || fail "the Makefile was replaced"
	[ ! -e k/mlp.c ] || fail "part of the set was written"
	"$BIN" compile "$EX/mlp.ein" -o k --force >/dev/null || fail "--force failed"
	grep -q 'Generated by mambalaya' k/Makefile || fail "--force did not replace it"
	# Written by mambalaya: replaced freely the next time.
	"$BIN" compile "$EX/mlp.ein" -o k >/dev/null || fail "a second compile failed"
	;;
runtime_names)
	# A source named npy.ein: its kernel and the runtime's files differ
	# (ml_npy.c), and the runtime's ml_ prefix is refused as a name.
	cp "$EX/mlp.ein" npy.ein
	"$BIN" run npy.ein --random 1 --out o --keep k --check >/dev/null || fail "npy.ein failed"
	grep -q 'npy_run' k/npy.c || fail "the kernel was overwritten"
	expect 2 "mambalaya compile: error: the kernel's name 'ml_npy' starts with ml_, which the runtime's files (ml_npy.c, ml_npy.h) use; give another with --name
Try 'mambalaya compile --help'." "$BIN" compile "$EX/mlp.ein" -o k2 --name ml_npy
	;;
fifo_input)
	# A FIFO given as an input is refused at once instead of hanging.
	mkfifo src.ein
	expect 1 "src.ein: error: is a FIFO, not a regular file" timeout 20 "$BIN" check src.ein
	mkdir in
	mkfifo in/A.npy
	timeout 20 "$BIN" eval "$EX/matmul_relu.ein" --in in --out o >/dev/null 2>err.txt
	[ $? = 1 ] || fail "eval did not fail with status 1"
	grep -q "in/A.npy: error: input A: is a FIFO, not a regular file" err.txt ||
		{ cat err.txt >&2; fail "not the message"; }
	;;
nan_check)
	# --check fails when a side holds NaN, and names the Einsum where the
	# reference's values stop being finite.
	printf 'input X[8]\noutput Y[8]\nL_{i} = log(X_{i})\nY_{i} = L_{i} + 1\n' >nan.ein
	"$BIN" run nan.ein --random 1 --out o --check >out.txt 2>err.txt
	[ $? = 1 ] || fail "a NaN output passed the check"
	grep -q "FAIL: the kernel's output holds NaN at element" out.txt || { cat out.txt >&2; fail "no FAIL line"; }
	grep -q "nan.ein:3:1: error: the reference evaluator's values first stop being finite in Einsum 'L'" err.txt ||
		{ cat err.txt >&2; fail "the Einsum is not named"; }
	# The shipped example's random data keeps Mamba's scan stable.
	"$BIN" run "$EX/mamba1.ein" -D I=16 --random 1 --out m --check >out.txt 2>err.txt ||
		{ cat out.txt err.txt >&2; fail "mamba1's random check failed"; }
	;;
run_limits)
	# run has eval's guards.
	expect 1 "$SRC/examples/mamba1.ein:45:1: error: Einsum 'TX' has 75497472 points to compute, which makes more than --max-points (2000000) in all
  hint: use smaller sizes (-D), or raise --max-points" \
		"$BIN" run "$EX/mamba1.ein" --random 1 --out o --max-points 2000000
	;;
interrupted_run)
	# A run ended by a signal removes its temporary build directory.
	mkdir t
	TMPDIR="$WORK/t" "$BIN" run "$EX/mamba1.ein" --random 1 --out o --bench 100000 >/dev/null 2>&1 &
	pid=$!
	n=0
	while [ ! -e "$(ls -d t/mambalaya-run-*/mamba1 2>/dev/null | head -n 1)" ] && [ $n -lt 600 ]; do
		sleep 0.1; n=$((n + 1))
	done
	[ $n -lt 600 ] || { kill $pid; fail "the program was not built in time"; }
	sleep 1
	kill -TERM $pid
	wait $pid
	st=$?
	[ $st = 143 ] || fail "exit status $st, expected 143 (SIGTERM)"
	sleep 0.5
	[ -z "$(ls -A t)" ] || fail "left behind: $(ls -A t)"
	;;
*)
	echo "unknown case $CASE" >&2
	exit 2
	;;
esac
echo "ok: $CASE"
