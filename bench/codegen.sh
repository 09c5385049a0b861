#!/bin/sh
# Speed and memory of the generated C for one Mamba-1 block, beside PyTorch
# on the same math and the same data (docs/performance.md records results).
#   prefill: mamba-130m and mamba-1.4b, B = 1, I = 1024, 2 threads, fp32
#   decode:  I = 1 through a stack of distinct layers (weights from DRAM)
#   memory:  peak resident set of the driver, fused plan and unfused plan
# Usage: bench/codegen.sh [BUILD_DIR] [ROUNDS] [PLAN_OPTIONS...]
# PLAN_OPTIONS default to the mapper's plan for this CPU (--policy full,
# compile's default --arch host); any `compile`
# options (e.g. --group ...) may be given instead.  Runs are interleaved:
# each round runs ours (--bench 5) then PyTorch (5 runs); medians of rounds.
set -eu
BUILD=${1:-build}; ROUNDS=${2:-5}
shift 2 2>/dev/null || shift $#
PLAN=${*:---policy full}
BIN=$(cd "$(dirname "$BUILD/mambalaya")" && pwd)/mambalaya
REF=$(cd "$BUILD/tests" && pwd)/mamba_ref
WORK=${BENCH_WORK:-$BUILD/bench-codegen}
. bench/cpu_env.sh
PY=/usr/bin/python3
if ! $PY -c 'import torch' 2>/dev/null; then
    echo "bench: installing python3-torch (the PyTorch peer)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch >/dev/null
fi
mkdir -p "$WORK"

prefill() { # NAME ED D R
    name=$1; sizes="-D B=1 -D I=1024 -D ED=$2 -D D=$3 -D R=$4"
    dir=$WORK/$name
    rm -rf "$dir"; mkdir -p "$dir"
    # shellcheck disable=SC2086
    "$REF" gen --out "$dir/in" --seed 11 $sizes >/dev/null
    # shellcheck disable=SC2086
    "$BIN" compile examples/mamba1.ein $sizes $PLAN -o "$dir/full" >/dev/null
    make -s -C "$dir/full"
    # shellcheck disable=SC2086
    "$BIN" run examples/mamba1.ein $sizes $PLAN --in "$dir/in" --out "$dir/out" --check | grep -E "rel_err" | sed 's/^/  check /'
    : > "$dir/ours.txt"; : > "$dir/torch.txt"
    r=0
    while [ $r -lt "$ROUNDS" ]; do
        "$dir/full/mamba1" --in "$dir/in" --out "$dir/out" --bench 5 > "$dir/run.txt"
        sed -n 's/^bench: .*median_ms=\([0-9.]*\).*/\1/p' "$dir/run.txt" >> "$dir/ours.txt"
        $PY bench/mamba_torch.py "$dir/in" 5 --threads 2 |
            sed -n 's/^torch: .*median_ms=\([0-9.]*\).*/\1/p' >> "$dir/torch.txt"
        r=$((r + 1))
    done
    rss=$(sed -n 's/^memory: peak_rss_kb=//p' "$dir/run.txt")
    echo "  $name prefill I=1024 B=1: ours $(median < "$dir/ours.txt") ms, PyTorch $(median < "$dir/torch.txt") ms (medians of $ROUNDS interleaved rounds); driver peak RSS $((rss / 1024)) MB"
}

echo "== prefill (plan: $PLAN; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto}, 2 threads)"
prefill mamba-130m 768 1536 48
prefill mamba-1.4b 2048 4096 128

echo "== memory of the unfused plan (mamba-130m, I=1024)"
dir=$WORK/mamba-130m
"$BIN" compile examples/mamba1.ein -D I=1024 --policy unfused -o "$dir/unfused" >/dev/null
make -s -C "$dir/unfused"
rss=$("$dir/unfused/mamba1" --in "$dir/in" --out "$dir/out-unfused" --bench 1 | sed -n 's/^memory: peak_rss_kb=//p')
echo "  unfused driver peak RSS $((rss / 1024)) MB"

echo "== decode (I=1) through 24 distinct mamba-130m layers"
# The plan under test and the unfused plan (on a CPU the best for one
# token: every projection a lone matrix-vector product, split across the
# threads or run as a team beside the small groups), interleaved with a
# probe of the read bandwidth available now.
cc -O3 -march=native -fopenmp -o "$WORK/bandwidth" bench/bandwidth.c
CFLAGS_GEN=$(make -s -C "$WORK/mamba-130m/full" -p -n 2>/dev/null | sed -n 's/^CFLAGS = //p' | head -1)
CFLAGS_GEN=${CFLAGS_GEN:-"-O3 -march=native -fopenmp"}
for v in plan unfused; do
    dir=$WORK/decode-$v
    rm -rf "$dir"
    opts=$PLAN
    [ $v = unfused ] && opts="--policy unfused"
    # shellcheck disable=SC2086
    "$BIN" compile examples/mamba1.ein -D I=1 $opts -o "$dir" >/dev/null
    # The generated Makefile's flags (without them gcc leaves some of the
    # kernel's loops scalar).
    cc $CFLAGS_GEN -DML_BLAS -I"$dir" -o "$dir/decode_stack" \
        bench/decode_stack.c "$dir/mamba1.c" -lopenblas -lm
    : > "$dir/t.txt"
done
: > "$WORK/bw.txt"
r=0
# Weights (and the probe's array) in transparent huge pages, as a
# decoding application would place them; the plan with 4 KiB pages too.
: > "$WORK/decode-plan/t4k.txt"
while [ $r -lt "$ROUNDS" ]; do
    for v in plan unfused; do
        dir=$WORK/decode-$v
        "$dir/decode_stack" 24 20 huge > "$dir/run.txt"
        sed -n 's/.*median_ms_per_layer=\([0-9.]*\).*/\1/p' "$dir/run.txt" >> "$dir/t.txt"
    done
    "$WORK/decode-plan/decode_stack" 24 20 4k |
        sed -n 's/.*median_ms_per_layer=\([0-9.]*\).*/\1/p' >> "$WORK/decode-plan/t4k.txt"
    "$WORK/bandwidth" 5 huge | sed -n 's/.*read_gbs=\([0-9.]*\).*/\1/p' >> "$WORK/bw.txt"
    r=$((r + 1))
done
wb=$(sed -n 's/.*weight_bytes_per_layer=\([0-9]*\).*/\1/p' "$WORK/decode-plan/run.txt")
bw=$(median < "$WORK/bw.txt")
echo "  weights $wb bytes per layer; read bandwidth now $bw GB/s (median of $ROUNDS probes): bound $(awk -v b="$wb" -v g="$bw" 'BEGIN{printf "%.3f", b/g/1e6}') ms; at 60 GB/s (quiet machine): $(awk -v b="$wb" 'BEGIN{printf "%.3f", b/60e9*1e3}') ms"
for v in plan unfused; do
    t=$(median < "$WORK/decode-$v/t.txt")
    echo "  $v ($([ $v = plan ] && echo "$PLAN" || echo --policy unfused)): $t ms per layer (median of $ROUNDS), $(awk -v t="$t" -v b="$wb" -v g="$bw" 'BEGIN{printf "%.2f", t/(b/g/1e6)}')x the bound measured now"
done
t=$(median < "$WORK/decode-plan/t4k.txt")
echo "  plan, weights in 4 KiB pages: $t ms per layer (median of $ROUNDS), $(awk -v t="$t" -v b="$wb" -v g="$bw" 'BEGIN{printf "%.2f", t/(b/g/1e6)}')x"
