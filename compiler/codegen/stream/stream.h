/* stream.h - the accelerator instruction stream (docs/isa.md) from a plan.
 *
 * The stream is lowered from the same program as the C back end: cg_lower()
 * gives, per fusion group, the isl AST (tile loops of the fused ranks, the
 * members' own loops, S<e>/Z<e>/G<e> statements); stream.c walks it.
 *   - Tile loops become LOOP/ENDLOOP over scalar registers, and so do the
 *     members' loops that are not vectorised: the stream's length does not
 *     depend on the problem size.
 *   - The innermost rectangular nest of a statement becomes one box
 *     operation: S<e> a 1D-array kernel (VEXPR, the right-hand side as
 *     micro-ops; a scan's generational rank as its sequential dimension) or
 *     a 2D-array MMA when the Einsum is bound to the 2D array; Z<e> a FILL;
 *     G<e> an MMA (or a VEXPR multiply-accumulate) over the tile.
 *   - Every tensor a group touches has a window in the global buffer at the
 *     retention level the cost model chose (the data swept by the inner
 *     tile loops stays resident); DRAM-resident tensors (the user's, and
 *     intermediates crossing groups) are loaded when their window opens and
 *     the part needed outside the group stored when it closes; data carried
 *     between tiles (a halo, a recurrence state) is moved on chip.
 * Bindings (2D or 1D array), retention levels and multi-pass handling come
 * from the cost model (cost.h) evaluated on each group, as the mapper makes
 * them, or from a plan that says them.
 *
 * Ownership: the caller keeps everything it passes; stream_build() returns
 * a module the caller frees with mlb_free().
 */
#ifndef MAMBALAYA_STREAM_H
#define MAMBALAYA_STREAM_H

#include <stddef.h>

#include "analysis/deps.h"
#include "base/outset.h"
#include "codegen/lower.h"
#include "isa/mlb.h"
#include "mapping/plan.h"
#include "mapping/target.h"

typedef struct stream_options {
	const char *name; /* module name (the C back end's NAME) */
	int blas;	  /* lower GEMM-shaped Einsums as G<e>, as the C back end */
} stream_options;

/* Builds the stream of plan p on target t.  choices: the plan p was made
 * from (its bindings, retention levels and multi-pass choices are used for
 * the groups with the same members), or NULL: the cost model makes them.
 * Returns 0 with *out set, -2 with a message in err for a plan the target
 * cannot run (a group larger than the buffer, an illegal group), or -1 for
 * an internal error. */
int stream_build(const deps_graph *g, const cg_plan *p, const target *t,
		 const plan *choices, const stream_options *o, mlb_module **out,
		 char *err, size_t errlen);

/* stream_build(), then adds the module to out as NAME.mlb. */
int stream_emit(const deps_graph *g, const cg_plan *p, const target *t,
		const plan *choices, const stream_options *o, outset *out, char *err,
		size_t errlen);

/* The target in the module's form (names made printable). */
void stream_target(const target *t, mlb_target *out);

#endif
