/* retile.h - a plan made for the accelerator adapted to a CPU (compile
 * --retile cpu): the same groups in the same order, with tiles for caches
 * and BLAS calls instead of a 256x256 array and a 16 MiB buffer
 * (docs/codegen.md).  It changes the caller's plan in place.
 */
#ifndef MAMBALAYA_RETILE_H
#define MAMBALAYA_RETILE_H

#include <stddef.h>

#include "cgplan.h"

/* Retiles p in place: a lone GEMM-shaped Einsum untiled, a GEMM's
 * reduction rank whole, other tiles raised to 128 where still legal; a
 * group left as one tile with at most 1 MiB inside split into one group
 * per Einsum.  Returns 0 or -1 (message in err; p unchanged on failure of
 * the split). */
int cg_plan_retile_cpu(const deps_graph *g, cg_plan *p, char *err, size_t errlen);

#endif
