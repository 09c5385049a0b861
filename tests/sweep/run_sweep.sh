#!/bin/sh
# run_sweep.sh - what `mambalaya sweep` promises beyond its golden output.
#
# usage: run_sweep.sh MAMBALAYA SRCDIR WORKDIR CASE
#   shards     the rows of --shard 1/3, 2/3 and 3/3 (each with --jobs 2),
#              put back together by point number, are the rows of one run
#              with --jobs 1; so are those of --jobs 5 and of --json
#   atomic     a sweep whose point fails writes nothing: -o FILE keeps the
#              file it had, stdout stays empty, the status is the point's
#   interrupt  SIGTERM (what a scheduler sends) during a sweep with -o FILE leaves no FILE and no
#              temporary beside it
set -u
[ "$#" -eq 4 ] || { echo "usage: $0 MAMBALAYA SRCDIR WORKDIR CASE" >&2; exit 2; }
BIN=$1
SRCDIR=$2
WORK=$3
CASE=$4
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
cd "$SRCDIR" || exit 2
SRCDIR=$(pwd)
rm -rf "$WORK" && mkdir -p "$WORK" || exit 2
SPEC=tests/sweep/small.json
fail() { echo "FAIL: $*" >&2; exit 1; }

case $CASE in
shards)
    "$BIN" sweep "$SPEC" --quiet > "$WORK/one.csv" || fail "the whole sweep failed"
    [ "$(wc -l < "$WORK/one.csv")" -gt 10 ] || fail "too few rows in one.csv"
    for k in 1 2 3; do
        "$BIN" sweep "$SPEC" --shard $k/3 --jobs 2 --quiet > "$WORK/s$k.csv" ||
            fail "shard $k/3 failed"
    done
    # Every shard has the header; the rows are disjoint and cover all.
    { head -n 1 "$WORK/s1.csv"
      tail -q -n +2 "$WORK/s1.csv" "$WORK/s2.csv" "$WORK/s3.csv" | sort -t, -k1,1n
    } > "$WORK/merged.csv"
    diff "$WORK/one.csv" "$WORK/merged.csv" >&2 || fail "shards differ from one run"
    "$BIN" sweep "$SPEC" --jobs 5 --quiet > "$WORK/j5.csv" || fail "--jobs 5 failed"
    diff "$WORK/one.csv" "$WORK/j5.csv" >&2 || fail "--jobs 5 differs from --jobs 1"
    # A shard past the last point is empty, not an error.
    n=$(($(wc -l < "$WORK/one.csv") - 1))
    "$BIN" sweep "$SPEC" --shard 2/$((n + 1)) --quiet > "$WORK/far.csv" ||
        fail "a shard with one point failed"
    [ "$(wc -l < "$WORK/far.csv")" -eq 2 ] || fail "shard 2/$((n + 1)) is not one row"
    # JSON: the same latencies, point by point.
    "$BIN" sweep "$SPEC" --json --jobs 2 --quiet -o "$WORK/all.json" || fail "--json failed"
    python3 - "$WORK/all.json" "$WORK/one.csv" <<'PY' || fail "JSON and CSV rows differ"
import csv, json, sys
j = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2])))
assert j["points"] == len(rows) == len(j["rows"]), (j["points"], len(rows))
assert j["shard"] == [1, 1]
for a, b in zip(j["rows"], rows):
    assert a["point"] == int(b["point"])
    assert a["policy"] == b["policy"] and a["arch"] == b["arch"]
    assert abs(a["latency_seconds"] - float(b["latency_seconds"])) <= 1e-9 * a["latency_seconds"]
    assert a["dram_bytes"] == float(b["dram_bytes"])
PY
    ;;
atomic)
    echo keep > "$WORK/out.csv"
    # I = 0 is not a valid extent: the second point fails.
    cat > "$WORK/bad.json" <<EOF2
{"file": "$SRCDIR/examples/mamba1.ein", "defines": {"ED": [16], "I": [4, 0]}}
EOF2
    "$BIN" sweep "$WORK/bad.json" -o "$WORK/out.csv" --quiet 2> "$WORK/err"
    st=$?
    [ "$st" -eq 1 ] || fail "status $st, expected 1"
    [ "$(cat "$WORK/out.csv")" = keep ] || fail "-o FILE was changed by a failed sweep"
    grep -q "while planning point 1 (.*I=0" "$WORK/err" || fail "the failed point is not named"
    # With processes, the failing one and the others race: several runs.
    for i in 1 2 3 4 5 6; do
        "$BIN" sweep "$WORK/bad.json" --jobs 2 --quiet > "$WORK/stdout" 2> /dev/null
        st=$?
        [ "$st" -eq 1 ] || fail "--jobs 2, run $i: status $st, expected 1"
        [ ! -s "$WORK/stdout" ] || fail "--jobs 2, run $i: a failed sweep printed rows"
    done
    [ "$(ls "$WORK" | wc -l)" -eq 4 ] || fail "stray files: $(ls "$WORK")"
    ;;
interrupt)
    # A sweep long enough to be interrupted (about 100 points).
    cat > "$WORK/long.json" <<EOF2
{"file": "$SRCDIR/examples/mamba1.ein", "policy": ["unfused", "ssm-ri", "full"],
 "defines": {"ED": [64, 128, 256, 512, 768], "I": [1, 2, 3, 4, 5, 6, 7]}}
EOF2
    "$BIN" sweep "$WORK/long.json" --jobs 2 --quiet -o "$WORK/out.csv" &
    pid=$!
    sleep 1
    kill -TERM $pid 2> /dev/null
    wait $pid
    st=$?
    [ "$st" -ne 0 ] || fail "the sweep ended before the signal (make it longer)"
    [ ! -e "$WORK/out.csv" ] || fail "an interrupted sweep wrote out.csv"
    [ "$(ls "$WORK")" = long.json ] || fail "stray files: $(ls "$WORK")"
    # Its worker processes end with it.
    sleep 1
    # (/proc rather than pgrep: procps may not be installed; the bracket
    # keeps grep from finding itself.)
    left=$(grep -l "$WORK/long.jso[n]" /proc/[0-9]*/cmdline 2> /dev/null |
           sed 's|/proc/||; s|/cmdline||')
    if [ -n "$left" ]; then
        kill $left 2> /dev/null
        fail "worker processes outlived the sweep: $left"
    fi
    ;;
*)
    echo "run_sweep.sh: unknown case $CASE" >&2
    exit 2
    ;;
esac
exit 0
