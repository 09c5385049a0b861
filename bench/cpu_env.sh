# cpu_env.sh - the settings every CPU timing benchmark shares (sourced by
# codegen.sh, corpus.sh and plans.sh): 2 threads, OpenBLAS's kernel set,
# the session's scheduling priority, and median().
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
# Debian 12's OpenBLAS 0.3.21 takes Zen 4/5 for Haswell; its SkylakeX
# kernels are the right ones for AVX-512 (about 1.8x faster here).
# On AVX-512 machines SkylakeX is used even when the environment names
# another core type (BENCH_OPENBLAS_CORETYPE overrides); every peer of a
# benchmark shares it.
if [ -n "${BENCH_OPENBLAS_CORETYPE:-}" ]; then
    export OPENBLAS_CORETYPE=$BENCH_OPENBLAS_CORETYPE
elif grep -q avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
# Linux shares the CPU between sessions (autogroups) regardless of nice, so
# background jobs of other sessions take a core from a 2-thread benchmark.
# As root, give this session's group priority; every peer shares it.
if [ -w /proc/$$/autogroup ] && echo -20 2>/dev/null > /proc/$$/autogroup; then
    echo "bench: session priority raised ($(cat /proc/$$/autogroup))"
fi
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
