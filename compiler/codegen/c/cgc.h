/* cgc.h - the C back end: C kernels from a cascade and a fusion plan.
 *
 * Prints the loop IR of lower.h as C.  Each fusion group becomes one loop
 * nest, the one isl generated from the group's schedule tree: the tile
 * loops of the fused ranks, then the members in source order, each with
 * its own loops.  A tensor produced and consumed only inside a group lives
 * in a tile buffer private to the group (and to the thread); a tensor
 * carried between tiles (a halo, a recurrence state) keeps the slots it
 * needs.  Everything else is a full array: the user's inputs, weights and
 * outputs, and the intermediates that cross groups.
 *
 * The output directory receives NAME.h (the API: a struct of tensor
 * pointers and sizes, one entry function), NAME.c (the kernel, opened by
 * the kernels' runtime, runtime/ml_*.h), NAME_main.c (a driver reading and
 * writing .npy files), npy.c/npy.h (from runtime/) and a Makefile.
 * docs/codegen.md describes the API and the build.
 *
 * Ownership: cgc_emit keeps nothing; the caller keeps the graph and plan.
 */
#ifndef MAMBALAYA_CGC_H
#define MAMBALAYA_CGC_H

#include <stddef.h>

#include "codegen/lower.h"

/* Lowers plan p (lower.h) and writes the files into dir (which must
 * exist).  Returns 0, -2 for a plan error (message in err), -1 for an
 * internal error. */
int cgc_emit(const deps_graph *g, const cg_plan *p, const cg_options *o, const char *dir,
	     char *err, size_t errlen);

#endif
