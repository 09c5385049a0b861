#!/bin/sh
# run_limits.sh - the resource limits of the tool, through the CLI, on
# generated inputs (docs/reliability.md lists them).
#
# usage: run_limits.sh MAMBALAYA WORKDIR
#
# Every input over a limit must be refused with `FILE:LINE:COL: error:`
# (or `FILE: error:` for whole-file limits), exit status 1, quickly and in
# bounded memory; an input at the limit must be accepted.  Each run is
# bounded by `timeout` (LIMIT_TIMEOUT seconds, default 120) and by ulimit -v
# (LIMIT_MEM_KB, default 4 GB; not under ASan, which reserves terabytes of
# address space).
set -u
if [ "$#" -ne 2 ]; then
    echo "usage: $0 MAMBALAYA WORKDIR" >&2
    exit 2
fi
BIN=$1
W=$2
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
TIMEOUT=${LIMIT_TIMEOUT:-120}
rm -rf "$W"
mkdir -p "$W" || exit 2
cd "$W" || exit 2
fails=0

# run NAME STATUS PATTERN CMD...: runs CMD, expects exit status STATUS and
# (when PATTERN is not empty) a line of stderr matching the grep -E PATTERN.
run() {
    name=$1 want=$2 pat=$3
    shift 3
    (
        if [ -z "${ASAN_OPTIONS:-}" ] && [ -n "${LIMIT_MEM_KB:-4000000}" ]; then
            ulimit -v "${LIMIT_MEM_KB:-4000000}" 2>/dev/null
        fi
        exec timeout "$TIMEOUT" "$@"
    ) >"$name.out" 2>"$name.err"
    got=$?
    ok=1
    [ "$got" -eq "$want" ] || ok=0
    if [ -n "$pat" ] && ! grep -Eq "$pat" "$name.err"; then ok=0; fi
    # Diagnostics stay readable: no megabyte lines.
    if [ "$(wc -c <"$name.err")" -gt 150000 ]; then ok=0; fi
    if [ "$ok" = 1 ]; then
        echo "ok   $name"
    else
        echo "FAIL $name: exit status $got (want $want), stderr:"
        head -c 2000 "$name.err" | sed 's/^/    /'
        [ -n "$pat" ] && echo "    (wanted a line matching: $pat)"
        fails=$((fails + 1))
    fi
}

HEAD='param N = 4
input A[N]
output C[N]
C_{i} = A_{i}'
printf '%s\n' "$HEAD" >d.ein

# The source: at most 10 MiB.
{ echo "$HEAD"; awk 'BEGIN { s = "#"; for (i = 0; i < 10; i++) s = s s; for (i = 0; i < 10240; i++) print s }'; } >big.ein
truncate -s 10485760 big.ein
run source_at_limit 0 '' "$BIN" check big.ein --quiet
echo "#" >>big.ein
run source_over_limit 1 '^big\.ein: error: the source is larger than 10485760 bytes' "$BIN" check big.ein
# 10 MiB of content, not comments, under 1 GB of address space: the worst
# case for memory found (statements `x=1;`: 1.4 s, 160 MB in a release
# build, stopped by the token limit), and a million one-line errors (each
# reported, 200 printed).
big10() {
    { echo "$HEAD"; awk -v p="$1" 'BEGIN { s = p; while (length(out) < 100000) out = out s; for (i = 0; i < 106; i++) printf "%s", out }'; } >"$2"
    truncate -s 10485760 "$2"
}
mem_saved=${LIMIT_MEM_KB:-4000000}
LIMIT_MEM_KB=1000000
big10 'x=1;' big_stmts.ein
run source_10mib_statements 1 '^big_stmts\.ein:5:[0-9]+: error: the source has more than 1048576 tokens' "$BIN" check big_stmts.ein
big10 'x
' big_errors.ein
run source_10mib_errors 1 '^big_errors\.ein:5:2: error: unexpected end of line' "$BIN" check big_errors.ein
LIMIT_MEM_KB=$mem_saved

# Nesting: 100000 open parentheses, a sum of 1001 terms, 1001 nested calls.
awk 'BEGIN { printf "param N = 4\ninput A[N]\noutput C[N]\nC_{i} = "; for (i = 0; i < 100000; i++) printf "("; print "A_{i}" }' >parens.ein
run parens_100000 1 '^parens\.ein:4:[0-9]+: error: brackets or operators nested too deeply' "$BIN" check parens.ein
# (Depth counts every node from the root to a leaf: a sum of n accesses
# T_{i} is n - 1 additions, the access and its index, n + 1 levels.)
awk 'BEGIN { printf "param N = 4\ninput A[N]\noutput C[N]\nC_{i} = A_{i}"; for (i = 0; i < 999; i++) printf " + A_{i}"; print "" }' >sum.ein
run sum_1000_terms 1 '^sum\.ein:4:7999: error: expression nested too deeply \(more than 1000' "$BIN" check sum.ein
awk 'BEGIN { printf "param N = 4\ninput A[N]\noutput C[N]\nC_{i} = A_{i}"; for (i = 0; i < 998; i++) printf " + A_{i}"; print "" }' >sum999.ein
run sum_999_terms 0 '' "$BIN" check sum999.ein --quiet
# Long flat chains are deep trees: before the depth limit, 300000 terms
# overflowed the C stack in the checker's recursive walks (a crash).
awk 'BEGIN { printf "param N = 4\ninput A[N]\noutput C[N]\nC_{i} = A_{i}"; for (i = 0; i < 300000; i++) printf " + A_{i}"; print "" }' >sum300k.ein
run sum_300000_terms 1 '^sum300k\.ein:4:7999: error: expression nested too deeply' "$BIN" check sum300k.ein
awk 'BEGIN { printf "param N = 4\ninput A[N]\ninput x\noutput C[N]\nC_{i} = A_{i}"; for (i = 0; i < 300000; i++) printf " x"; print "" }' >juxt300k.ein
run juxt_300000_terms 1 '^juxt300k\.ein:5:[0-9]+: error: expression nested too deeply' "$BIN" check juxt300k.ein
awk 'BEGIN { printf "param N = 4\ninput A[N]\noutput C[N]\nC_{i} = "; for (i = 0; i < 1001; i++) printf "exp("; printf "A_{i}"; for (i = 0; i < 1001; i++) printf ")"; print "" }' >calls.ein
run calls_1001_deep 1 '^calls\.ein:4:[0-9]+: error: expression nested too deeply' "$BIN" check calls.ein
awk 'BEGIN { printf "param N = 4\ninput A[N]\noutput C[N]\nC_{i} = "; for (i = 0; i < 200000; i++) printf "-"; print "A_{i}" }' >minus.ein
run minus_200000 1 '^minus\.ein:4:[0-9]+: error: brackets or operators nested too deeply' "$BIN" check minus.ein

# Long lists: they grew one element at a time (quadratic: minutes under
# ASan); now by doubling.  400000 comparisons in one chain, 400001
# dimensions, 200001 filters, 400001 spec arguments.
awk 'BEGIN { printf "param N = 4\ninput A[N]\noutput C[N]\nC_{i} = A_{i} where "; for (i = 0; i < 400000; i++) printf "0<"; print "1" }' >chain.ein
run comparison_chain_400000 1 '^chain\.ein:4:1: error: too many comparisons in filters' "$BIN" check chain.ein
awk 'BEGIN { printf "input A["; for (i = 0; i < 400000; i++) printf "1,"; print "1]" }' >dims.ein
run dims_400001 1 "^dims\\.ein:1:7: error: 'A' has 400001 ranks; the limit is 8" "$BIN" check dims.ein
awk 'BEGIN { printf "param N = 4\ninput A[N]\noutput C[N]\nC_{i} = A_{i} where i < 4"; for (i = 0; i < 200000; i++) printf ", i < 4"; print "" }' >filters.ein
run filters_200001 1 '^filters\.ein:4:1: error: too many comparisons in filters' "$BIN" check filters.ein
awk 'BEGIN { printf "output C[4]\nC_{i} = 1 :: map(+"; for (i = 0; i < 400000; i++) printf ",+"; print ")" }' >specargs.ein
run spec_args_400001 1 '^specargs\.ein:2:[0-9]+: error: ' "$BIN" check specargs.ein
# Tokens: at most 2^20 (else a 10 MiB file of one-character expressions
# makes a syntax tree of a gigabyte).
awk 'BEGIN { printf "input A["; for (i = 0; i < 600000; i++) printf "1,"; print "1]" }' >tokens.ein
run tokens_over_2_20 1 '^tokens\.ein:1:[0-9]+: error: the source has more than 1048576 tokens' "$BIN" check tokens.ein

# A long name, a long line, huge numbers.
awk 'BEGIN { n = "T"; for (i = 0; i < 255; i++) n = n "x"; printf "param N = 4\ninput A[N]\noutput %s[N]\n%s_{i} = A_{i}\n", n, n }' >name256.ein
run name_256 1 '^name256\.ein:3:8: error: this name has 256 characters; the limit is 255' "$BIN" check name256.ein
awk 'BEGIN { n = "T"; for (i = 0; i < 254; i++) n = n "x"; printf "param N = 4\ninput A[N]\noutput %s[N]\n%s_{i} = A_{i}\n", n, n }' >name255.ein
run name_255 0 '' "$BIN" check name255.ein --quiet
awk 'BEGIN { printf "param N = 4\ninput A[N]\noutput C[N]\nC_{i} = A_{i}"; for (i = 0; i < 900; i++) printf "   +A_{i}"; print " + B_{i}" }' >longline.ein
run long_line 1 '^longline\.ein:4:[0-9]+: error: unknown tensor .B.' "$BIN" check longline.ein
awk 'BEGIN { printf "param N = "; for (i = 0; i < 100000; i++) printf "9"; print "\ninput A[N]\noutput C[N]\nC_{i} = A_{i}" }' >bignum.ein
run huge_integer 1 '^bignum\.ein:1:11: error: the integer [0-9]+ is too large' "$BIN" check bignum.ein
printf 'param N = 1099511627777\ninput A[N]\noutput C[N]\nC_{i} = A_{i}\n' >param41.ein
run param_over_2_40 1 '^param41\.ein:1:11: error: parameter .N. = 1099511627777 is out of range' "$BIN" check param41.ein

# Tensors of 2^40 elements: checked (the analyses are symbolic), but the
# evaluator refuses to materialise them, naming the tensor at its
# declaration; 2^62 elements are refused by the checker.
printf 'param N = 1048576\ninput A[N, N]\noutput C[N, N]\nC_{i,j} = A_{i,j} * 2\n' >t40.ein
run tensor_2_40_check 0 '' "$BIN" check t40.ein --quiet
run tensor_2_40_eval 1 "^t40\\.ein:2:7: error: tensor 'A' has 1099511627776 elements, more than --max-memory" "$BIN" eval t40.ein --random 1 --out out40
run tensor_2_40_stream 1 "error: t40\\.ein:3:8: tensor 'C' \\(1099511627776 values\\) does not fit in the accelerator's DRAM" "$BIN" compile t40.ein --emit stream -o out40s
run tensor_2_40_eval_huge_budget 1 "^t40\\.ein:2:7: error: tensor 'A' has 1099511627776 elements" "$BIN" eval t40.ein --random 1 --out out40 --max-memory 4G
printf 'param N = 1048576\ninput A[N, N, N, N]\noutput C[N, N, N, N]\nC_{i,j,k,l} = A_{i,j,k,l}\n' >t80.ein
run tensor_2_80 1 "^t80\\.ein:2:7: error: 'A' has more than 2\\^62 elements" "$BIN" check t80.ein

# Work: tiny tensors, 16 rank variables of 16 values: 2^64 points.
awk 'BEGIN { v = "abcdefghijklmnop"; print "param N = 16"; printf "input "; for (i = 1; i <= 16; i++) printf "%sX%s[N]", (i > 1 ? ", " : ""), substr(v, i, 1); print "\noutput S"; printf "S ="; for (i = 1; i <= 16; i++) printf " X%s_{%s}", substr(v, i, 1), substr(v, i, 1); print "" }' >work.ein
run work_2_64_points 1 "^work\\.ein:4:1: error: Einsum 'S' has 9223372036854775807 or more points to compute" "$BIN" eval work.ein --random 1 --out outw
run work_budget 1 "^d\\.ein:4:1: error: Einsum 'C' has 4 points to compute, which makes more than --max-points \\(3\\)" "$BIN" eval d.ein --random 1 --out outd --max-points 3

# Counts: Einsums, declarations, operands, comparisons, writers.
awk 'BEGIN { print "param N = 4\ninput A[N]"; for (i = 0; i < 1025; i++) printf "T%d_{i} = A_{i}\n", i }' >einsums.ein
run einsums_1025 1 '^einsums\.ein:1027:1: error: too many Einsums \(the limit is 1024\)' "$BIN" check einsums.ein
awk 'BEGIN { print "param N = 4\ninput A[N]"; for (i = 0; i < 1024; i++) printf "T%d_{i} = A_{i}\n", i }' >einsums1024.ein
run einsums_1024 0 '' "$BIN" check einsums1024.ein --quiet
awk 'BEGIN { print "param N = 4"; for (i = 0; i < 4097; i++) printf "input A%d[N]\n", i }' >decls.ein
run decls_4097 1 '^decls\.ein:4098:7: error: too many tensor declarations \(the limit is 4096\)' "$BIN" check decls.ein
awk 'BEGIN { print "param N = 4\ninput A[N]"; for (i = 0; i < 1000; i++) { printf "T%d_{i} = A_{i}", i; for (j = 0; j < 8; j++) printf " + A_{i}"; print "" } }' >operands.ein
run operands_over_16384 1 '^operands\.ein:[0-9]+:1: error: too many names and tensor elements in the Einsums' "$BIN" check operands.ein
awk 'BEGIN { print "param N = 4\ninput A[N]"; for (i = 0; i < 1000; i++) { printf "T%d_{i} = A_{i} where i < 4", i; for (j = 0; j < 16; j++) printf ", i >= 0"; print "" } }' >conds.ein
run conds_over_16384 1 '^conds\.ein:[0-9]+:1: error: too many comparisons in filters' "$BIN" check conds.ein
awk 'BEGIN { print "param N = 257\ninput A[N]\noutput T[N]"; for (i = 0; i < 257; i++) printf "T_{%d} = A_{%d}\n", i, i }' >writers.ein
run writers_257 1 '^writers\.ein:260:1: error: too many Einsums writing the same tensor \(the limit is 256\)' "$BIN" check writers.ein
# At the limits together: 256 writers of one tensor, 768 Einsums reading
# it (about 13000 operands): accepted, in seconds.
awk 'BEGIN { print "param N = 256\ninput A[N]\noutput T[N]"; for (i = 0; i < 256; i++) printf "T_{%d} = A_{%d}\n", i, i; for (i = 0; i < 768; i++) printf "S%d_{i} = T_{i} + T_{(i + 1) / 2} + T_{i / 2} + T_{i / 4}\n", i }' >stress.ein
run stress_at_limits 1 'error' "$BIN" check stress.ein --quiet
awk 'BEGIN { print "param N = 256\ninput A[N]\noutput T[N]"; for (i = 0; i < 256; i++) printf "T_{%d} = A_{%d}\n", i, i; for (i = 0; i < 768; i++) printf "S%d_{i} = T_{i} + T_{255 - i} + T_{i} T_{255 - i}\n", i }' >stress2.ein
run stress_at_limits_ok 0 '' "$BIN" check stress2.ein --quiet

# -D: at most 64 on a command line.
defs=""
i=0
while [ $i -lt 65 ]; do defs="$defs -D N=4"; i=$((i + 1)); done
# shellcheck disable=SC2086
run defines_65 2 'too many -D options \(the limit is 64\)' "$BIN" check d.ein $defs

# Accelerator streams: a loop of 2^62 iterations is refused by the
# simulator before it runs (its limit is 2^32 a loop), naming the
# instruction; a damaged .mlb is refused with the byte offset.  The stream
# is the compiler's own for a small matrix product (so that its header
# follows the current format), its code replaced by the loop.
if "$BIN" asm --help >/dev/null 2>&1; then
    printf 'input A[16, 32]\nweight B[32, 16]\noutput R[16, 16]\nC_{m,n} = A_{m,k} * B_{k,n}\nR_{m,n} = relu(C_{m,n})\n' >mm.ein
    run mm_compile 0 '' "$BIN" compile mm.ein -o mmc --emit stream
    run mm_inputs 0 '' "$BIN" eval mm.ein --random 1 --out mmout --save-inputs mmin
    "$BIN" disasm mmc/mm.mlb >mm.s 2>/dev/null
    { sed '/^\.code/q' mm.s
      printf '\tli r1, 0\n\tli r2, 4611686018427387904\n\tloop r1, r2, 1\n\tnop\n\tendloop\n\thalt\n'; } >loop62.s
    run asm_loop_2_62 0 '' "$BIN" asm loop62.s -o loop62.mlb
    run sim_loop_2_62 1 '^loop62\.mlb: error: instruction 2 \(loop\): the loop would run 4611686018427387905 times; the limit is' "$BIN" sim loop62.mlb --in mmin --out simout
    head -c 100 mmc/mm.mlb >trunc.mlb
    run mlb_truncated 1 '^trunc\.mlb: error: offset 12: the header says [0-9]+ bytes, the file has 100' "$BIN" sim trunc.mlb --in mmin --out simout
fi

if [ "$fails" -ne 0 ]; then
    echo "$fails limit test(s) FAILED" >&2
    exit 1
fi
echo "all limit tests passed"
