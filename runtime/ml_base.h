/* ml_base.h - the base of every generated kernel: the headers it needs,
 * the threshold below which a parallel region runs on one thread
 * (ML_PAR_MIN), ML_INLINE, and the loop-bound helpers (floord, min, max)
 * that isl's generated loops call.
 *
 * Part of the kernels' runtime (runtime/README.md): the text between the
 * EMBEDDED markers of ml_base.h, ml_math.h, ml_gemm.h and ml_alloc.h, in
 * that order, opens every generated NAME.c (cmake/embed.cmake makes it the
 * compiler's rt_prelude).  The lines outside the markers make each file a
 * header of its own, for the unit tests (tests/unit/test_runtime.c).
 *
 * Pure functions: no state, no memory of their own.
 */
#ifndef ML_BASE_H
#define ML_BASE_H

/* BEGIN EMBEDDED */
/* The full vector width the machine has.  GCC vectorises with 256-bit
 * vectors on AVX-512 machines unless told otherwise, and with 128-bit ones
 * on the AMD cores it tunes as znver1; Mamba-2's scan runs 1.3x faster
 * with 512-bit ones on an AVX-512 Xeon (docs/performance.md, "The scan's
 * state in place, and 512-bit vectors"), and Mamba-2's block 5% faster
 * with 256-bit ones on an AMD EPYC (session 25).  First, so that every
 * function of the kernel, inline helpers included, is compiled alike (a
 * tuning option, not an instruction set: no target attribute is needed
 * to call the C library). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__AVX512F__)
#pragma GCC target("prefer-vector-width=512")
#elif defined(__GNUC__) && !defined(__clang__) && defined(__tune_znver1__)
/* znver1's tuning also splits every unaligned 256-bit store in two
 * (vextractf128 and a 128-bit store); znver2's, of the same family, does
 * not.  Mamba-1's scan runs 4-5% faster unsplit on an AMD EPYC of
 * family 23, model 1 (session 26). */
#pragma GCC target("prefer-vector-width=256,tune=znver2")
#elif defined(__GNUC__) && !defined(__clang__) && defined(__AVX__)
#pragma GCC target("prefer-vector-width=256")
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A parallel region of fewer points than this runs on one thread:
 * starting the team would cost more than the work (-DML_PAR_MIN=0
 * runs every region on all threads). */
#ifndef ML_PAR_MIN
#define ML_PAR_MIN 32768
#endif

/* The helpers below are not all used by every kernel (clang warns
 * about unused static inline functions in a .c file). */
#if defined(__GNUC__)
#define ML_INLINE static inline __attribute__((unused))
#else
#define ML_INLINE static inline
#endif

/* `omp simd` marks loops that may be vectorised, not loops that must
 * be: clang warns when it leaves one scalar. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

/* Loop-bound helpers used by isl's generated code. */
ML_INLINE long floord(long a, long b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}
ML_INLINE long min(long a, long b) { return a < b ? a : b; }
ML_INLINE long max(long a, long b) { return a > b ? a : b; }

/* END EMBEDDED */

#endif
