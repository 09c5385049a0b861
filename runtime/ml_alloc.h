/* ml_alloc.h - tile buffers of generated kernels that run in parallel
 * (one per thread: each thread's share of the workspace, or allocated in
 * the parallel region).  Part of the kernels' runtime: see ml_base.h.
 *
 * The caller frees what ml_alloc returns (free).
 */
#ifndef ML_ALLOC_H
#define ML_ALLOC_H

#include "ml_base.h"

/* BEGIN EMBEDDED */
#ifdef _OPENMP
#include <omp.h>
#endif
/* On a cache line: malloc's 16-byte alignment halved the rate of a
 * 256-bit loop over cached arrays on an AMD EPYC (y = x + a: 7.0 against
 * 12.7 10^9/s, 2 threads), and the calibration probe, which takes its
 * arrays from here, priced every access at that rate. */
ML_INLINE float *ml_alloc(int64_t n)
{
	size_t b = (size_t)(n > 0 ? n : 1) * sizeof(float);
	return aligned_alloc(64, (b + 63) / 64 * 64);
}

/* OpenMP's threads for the next parallel region (1 without OpenMP). */
ML_INLINE int64_t ml_threads(void)
{
#ifdef _OPENMP
	return omp_get_max_threads();
#else
	return 1;
#endif
}

/* The calling thread's share (per bytes) of a workspace of `bytes`, after
 * its first `base` bytes; NULL when the workspace has no share for this
 * thread (the caller allocates instead). */
ML_INLINE char *ml_thread_ws(char *ws, int64_t bytes, int64_t base, int64_t per)
{
#ifdef _OPENMP
	int64_t t = omp_get_thread_num();
#else
	int64_t t = 0;
#endif
	return per > 0 && base + (t + 1) * per <= bytes ? ws + base + t * per : NULL;
}
/* END EMBEDDED */

#endif
