/* ml_alloc.h - tile buffers of generated kernels that run in parallel
 * (one per thread, allocated in the parallel region).  Part of the
 * kernels' runtime: see ml_base.h.
 *
 * The caller frees what ml_alloc returns (free).
 */
#ifndef ML_ALLOC_H
#define ML_ALLOC_H

#include "ml_base.h"

/* BEGIN EMBEDDED */
ML_INLINE float *ml_alloc(int64_t n)
{
	return malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
}
/* END EMBEDDED */

#endif
