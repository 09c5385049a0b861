#!/bin/sh
# Compiles generated kernels with clang -Wall -Wextra -Werror, with and
# without OpenMP and BLAS, so that code that only gcc accepts cleanly is
# caught (clang warns about unused static inline helpers and about `omp
# simd` loops it leaves scalar).
# Usage: clang_check.sh MAMBALAYA SRCDIR WORKDIR
set -eu
BIN=$1; SRCDIR=$2; WORK=$3
CLANG=${CLANG:-clang}
if ! command -v "$CLANG" >/dev/null 2>&1; then
    echo "clang_check: $CLANG not found" >&2
    exit 1
fi
cd "$SRCDIR"
rm -rf "$WORK"
mkdir -p "$WORK"
n=0
check() { # NAME FILE OPTIONS...
    name=$1; file=$2; shift 2
    "$BIN" compile "$file" "$@" --name "$name" -o "$WORK/$name" >/dev/null
    for omp in "" -fopenmp; do
        for blas in "" -DML_BLAS; do
            # shellcheck disable=SC2086
            "$CLANG" -O2 -Wall -Wextra -Werror $omp $blas -c "$WORK/$name/$name.c" \
                -o "$WORK/$name/$name.o"
            n=$((n + 1))
        done
    done
}
check decode examples/mamba1.ein -D I=1 --policy full
check prefill examples/mamba1.ein -D I=300 --policy full
check mapper examples/mamba1.ein -D I=64 --policy full --arch mambalaya
check unfused examples/mamba1.ein -D I=5 --policy unfused
check team tests/codegen/gemv_team.ein --policy unfused
check attention examples/attention.ein --policy full
echo "clang_check: $n builds without a warning"
