#!/bin/sh
# The HTML report (mambalaya report) checked in a real browser: headless
# Chromium loads the page, its script runs without an error (it sets
# data-ready on <body>; an error sets data-errors on <html>), and the sections and
# shapes a reader needs are there.  Also: names are escaped, bad command
# lines and inputs fail with a message and leave no page behind.
#
# usage: run_report.sh MAMBALAYA SRCDIR WORKDIR CASE
set -eu
M=$1
SRC=$2
W=$3
CASE=$4
rm -rf "$W"
mkdir -p "$W"
cd "$W"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# The DOM after the page's scripts ran.
dom() {
    command -v chromium >/dev/null || fail "chromium is not installed (scripts/deps.sh installs it)"
    # HOME: chromium writes its profile there; keep it in the work dir.
    HOME="$W" timeout 120 chromium --headless --no-sandbox --disable-gpu \
        --user-data-dir="$W/chromium" --dump-dom "file://$1" 2>/dev/null
}

# The page loaded and its script ran to the end without an error.
loads_clean() {
    dom "$1" > "$1.dom"
    grep -q '<body[^>]*data-ready="1"' "$1.dom" || fail "$1: the script did not finish"
    if grep -q '<html[^>]*data-errors' "$1.dom"; then fail "$1: a script error"; fi
}

has() { # FILE PATTERN WHAT
    grep -q -- "$2" "$1" || fail "$1: no $3"
}

case $CASE in
page)
    # Mamba-1 with a simulation: every section, a node per Einsum.
    "$M" report "$SRC/examples/mamba1.ein" --random 1 --quiet -o "$W/m1.html"
    loads_clean "$W/m1.html"
    for id in graph groups latency utilisation traffic-bars roofline policies \
              policy-latency policy-dram sweep-latency sweep-dram timeline simulation levels; do
        has "$W/m1.html.dom" "id=\"$id\"" "element #$id"
    done
    n=$(grep -o 'class="node"' "$W/m1.html.dom" | wc -l)
    [ "$n" = 24 ] || fail "graph has $n nodes, not mamba1's 24 Einsums"
    # Nothing fetched: no external URL other than the SVG namespace.
    if grep -o 'src="[^"]*"\|href="[^"]*"\|url(http[^)]*)' "$W/m1.html" | grep -v '^url(#' | grep -q .; then
        fail "the page refers to an external resource"
    fi
    # The detector works: a page with a failing script is caught.
    sed 's|<div id="tip">|<script>no_such_function();</script><div id="tip">|' "$W/m1.html" > "$W/bad.html"
    dom "$W/bad.html" > "$W/bad.dom"
    grep -q '<html[^>]*data-errors="1"' "$W/bad.dom" || fail "a script error went unnoticed"
    ;;
examples)
    # Every example, without a simulation or a sweep, loads clean; each
    # graph has one node per Einsum.
    for f in "$SRC"/examples/*.ein; do
        b=$(basename "$f" .ein)
        "$M" report "$f" --sweep 1 --quiet -o "$W/$b.html"
        loads_clean "$W/$b.html"
        want=$("$M" check "$f" --dump-ir=json | grep -c '"generational":' || true)
        n=$(grep -o 'class="node"' "$W/$b.html.dom" | wc -l)
        [ "$n" = "$want" ] || fail "$b: graph has $n nodes, expected $want"
    done
    ;;
escape)
    # A file name with markup is escaped wherever it shows.
    cp "$SRC/examples/mlp.ein" "$W/a<b>&\"q'.ein"
    "$M" report "$W/a<b>&\"q'.ein" --sweep 0 --quiet -o "$W/e.html"
    has "$W/e.html" 'a&lt;b&gt;&amp;&quot;q&#39;.ein' "escaped file name"
    if grep -q 'a<b>' "$W/e.html"; then fail "raw markup from the file name"; fi
    loads_clean "$W/e.html"
    # The issue's example: markup in a file name renders as text, no
    # element is made of it.
    cp "$SRC/examples/mlp.ein" "$W/<img src=x onerror=alert(1)>.ein"
    "$M" report "$W/<img src=x onerror=alert(1)>.ein" --sweep 0 --quiet -o "$W/img.html"
    has "$W/img.html" '&lt;img src=x onerror=alert(1)&gt;.ein' "escaped file name"
    loads_clean "$W/img.html"
    if grep -qi '<img' "$W/img.html.dom"; then fail "an <img> element from the file name"; fi
    ;;
errors)
    st=0; "$M" report "$SRC/examples/mlp.ein" 2> err.txt || st=$?
    [ $st = 2 ] && grep -q "report: error: -o FILE is required" err.txt || fail "missing -o: $st"
    st=0; "$M" report "$SRC/examples/mlp.ein" -o x.html --policy fast 2> err.txt || st=$?
    [ $st = 2 ] && grep -q "unknown policy 'fast'" err.txt || fail "bad policy: $st"
    st=0; "$M" report "$SRC/examples/mlp.ein" -o x.html --sweep 30 2> err.txt || st=$?
    [ $st = 2 ] && grep -q "sweep needs a number from 0 to 20" err.txt || fail "bad sweep: $st"
    st=0; "$M" report "$SRC/examples/mlp.ein" -o x.html --sim nodir 2> err.txt || st=$?
    [ $st = 1 ] && grep -q "nodir/.*\.npy: error: cannot open" err.txt || fail "missing --sim dir: $st"
    [ ! -e x.html ] || fail "a page was written after an error"
    st=0; "$M" report "$SRC/examples/mlp.ein" -o "$SRC/examples/mlp.ein" 2> err.txt || st=$?
    [ $st = 1 ] && grep -q "an input of this command" err.txt || fail "output over the input: $st"
    # --sim with .npy files from eval: the same page as --random.
    "$M" eval "$SRC/examples/mlp.ein" --random 5 --save-inputs in --out out >/dev/null
    "$M" report "$SRC/examples/mlp.ein" --sim in --sweep 0 --quiet -o s.html
    has s.html 'id="timeline"' "timeline with --sim"
    ;;
*)
    fail "unknown case $CASE"
    ;;
esac
echo "ok: report.$CASE"
