#!/bin/sh
# valgrind.sh - the test suite under valgrind memcheck (`make valgrind`).
#
# usage: scripts/valgrind.sh BUILD [JOBS [CTEST_REGEX]]
#
# Runs every test of BUILD (or those matching CTEST_REGEX) with each of its
# programs under memcheck: every executable of the build tree named in the
# test's command or environment (mambalaya, the unit tests, mamba_ref,
# npycmp, ...) is replaced by a wrapper that runs it under
#   valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect
# with a log per process; the shell scripts and system tools around it
# (sh, diff, cmake, cc) run natively.  A child forked to run another program
# (the C compiler a kernel build runs) is not followed
# (--child-silent-after-fork): it would leave a log without a summary.
# ctest -T memcheck would only wrap the first word of a command, which for
# most tests here is `sh`.
#
# A test fails if it fails under valgrind or if any of its processes had a
# memory error or a definite or indirect leak (its log says ERROR SUMMARY
# > 0).  Logs: BUILD/valgrind/logs/NNNN-TEST/PID.log.  Exit status 0 when
# every test is clean, 1 otherwise.
set -u
if [ "$#" -lt 1 ]; then
    echo "usage: $0 BUILD [JOBS [CTEST_REGEX]]" >&2
    exit 2
fi
BUILD=$(cd "$1" && pwd) || exit 2
JOBS=${2:-2}
REGEX=${3:-}
SRC=$(cd "$(dirname "$0")/.." && pwd)
VG=$BUILD/valgrind
command -v valgrind >/dev/null || { echo "valgrind: not installed (scripts/deps.sh)" >&2; exit 2; }

rm -rf "$VG"
mkdir -p "$VG/tests" "$VG/wrap" "$VG/logs" "$VG/status" || exit 2

# The tests and their commands.
if [ -n "$REGEX" ]; then
    ctest --test-dir "$BUILD" --show-only=json-v1 -R "$REGEX" >"$VG/tests.json" || exit 2
else
    ctest --test-dir "$BUILD" --show-only=json-v1 >"$VG/tests.json" || exit 2
fi
cmake -DJSON="$VG/tests.json" -DOUT="$VG/tests" -P "$SRC/scripts/valgrind.cmake" || exit 2

# A wrapper for every ELF executable of the build tree (not the valgrind
# directory itself, not CMake's probes).
find "$BUILD" -path "$VG" -prune -o -path "$BUILD/CMakeFiles" -prune -o \
    -type f -perm -u+x -print | while read -r exe; do
    [ "$(head -c 4 "$exe" | od -An -c | tr -d ' ')" = "177ELF" ] || continue
    w=$VG/wrap/$(printf '%s' "$exe" | sed 's|/|_|g')
    cat >"$w" <<EOW
#!/bin/sh
exec valgrind --tool=memcheck --leak-check=full --child-silent-after-fork=yes \\
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \\
    --error-exitcode=99 --num-callers=30 \\
    --log-file="\$MAMBALAYA_VG_LOGS/%p.log" '$exe' "\$@"
EOW
    chmod +x "$w"
done

# The runner each test script is sourced into: vg_arg maps a path to its
# wrapper, vg_run runs a command with every argument mapped.
cat >"$VG/runner.sh" <<EOR
VG=$VG
vg_arg() {
    w=\$VG/wrap/\$(printf '%s' "\$1" | sed 's|/|_|g')
    if [ -x "\$w" ]; then printf '%s' "\$w"; else printf '%s' "\$1"; fi
}
vg_run() {
    for a do
        shift
        set -- "\$@" "\$(vg_arg "\$a")"
    done
    "\$@"
}
n=\$1
name=\$(cat "\$VG/tests/\$n.name")
export MAMBALAYA_VG_LOGS="\$VG/logs/\$n-\$name"
mkdir -p "\$MAMBALAYA_VG_LOGS"
( . "\$VG/tests/\$n.sh" ) >"\$MAMBALAYA_VG_LOGS/output.txt" 2>&1
status=\$?
bad=\$(grep -L "ERROR SUMMARY: 0 errors" "\$MAMBALAYA_VG_LOGS"/*[0-9].log 2>/dev/null)
nproc=\$(ls "\$MAMBALAYA_VG_LOGS" | grep -c '[0-9]\.log\$')
if [ "\$status" -ne 0 ] || [ -n "\$bad" ]; then
    echo "FAIL \$name (exit status \$status, \$nproc processes under valgrind)"
    for l in \$bad; do
        echo "  \$l:"
        grep -E "Invalid|uninitialised|definitely lost|indirectly lost|ERROR SUMMARY" "\$l" | head -n 10 | sed 's/^/    /'
    done
    [ "\$status" -ne 0 ] && tail -n 15 "\$MAMBALAYA_VG_LOGS/output.txt" | sed 's/^/    | /'
    echo "\$name" >"\$VG/status/\$n.fail"
    exit 1
fi
echo "ok   \$name (\$nproc processes under valgrind)"
EOR

# Tests that bound their programs' time (tests/limits) allow for memcheck's
# slowdown.
export LIMIT_TIMEOUT="${LIMIT_TIMEOUT:-3600}"

total=$(ls "$VG/tests" | grep -c '\.sh$')
echo "valgrind: $total tests, $JOBS at a time; logs in $VG/logs"
ls "$VG/tests" | sed -n 's/\.sh$//p' | xargs -P "$JOBS" -n 1 sh "$VG/runner.sh"
nfail=$(ls "$VG/status" | wc -l)
if [ "$nfail" -ne 0 ]; then
    echo "valgrind: $nfail of $total tests FAILED:" >&2
    cat "$VG/status"/*.fail | sed 's/^/  /' >&2
    exit 1
fi
echo "valgrind: all $total tests clean (no memory errors, no definite or indirect leaks)"
