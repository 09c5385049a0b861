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
 * writing .npy files), ml_npy.c/ml_npy.h (from runtime/) and a Makefile
 * that records the compile's C flags.  NAME.h defines NAME_GENERATION, a
 * hash of the three generated texts, and NAME.c and NAME_main.c refuse to
 * build with another (#error): parts of two compiles never build together.
 * docs/codegen.md describes the API and the build.
 *
 * Ownership: cgc_emit keeps nothing; the caller keeps the graph and plan.
 */
#ifndef MAMBALAYA_CGC_H
#define MAMBALAYA_CGC_H

#include <stddef.h>

#include "base/outset.h"
#include "codegen/lower.h"

/* Lowers plan p (lower.h) and adds the files to out (base/outset.h),
 * claiming the executable NAME.  Returns 0, -2 for a plan error or a
 * kernel name the files cannot have (message in err), -1 for an internal
 * error. */
int cgc_emit(const deps_graph *g, const cg_plan *p, const cg_options *o, outset *out,
	     char *err, size_t errlen);

/* The C compiler flags of the Makefile when the compile gives none
 * (NULL-terminated). */
extern const char *const cgc_default_cflags[];

/* The argument vector that builds DIR/NAME as the Makefile's rule does
 * (shared: DIR/libNAME.so from NAME.c alone, -shared -fPIC, for loading
 * in a process), with the compiler cc (ncc words: "cc", or $CC split into
 * words) and the options' flags; NULL-terminated, NULL when out of
 * memory.  Free it with cgc_argv_free. */
char **cgc_build_argv(const char *dir, const char *name, const cg_options *o,
		      const char *const *cc, int ncc, int shared);
void cgc_argv_free(char **v);

/* Why name cannot name a kernel's files (not a C identifier, the
 * Makefile, the runtime's ml_ prefix), or NULL when it can. */
const char *cgc_name_problem(const char *name);

#endif
