/* eval.h - the reference evaluator.
 *
 * Runs a checked cascade (cascade.h) on dense row-major storage, computing
 * every Einsum by its definition with every value held in double.  Every
 * other back end (fused C kernels, accelerator simulator) is checked against
 * it, so it favours obvious correctness over speed, but compiles each
 * right-hand side to a small postfix bytecode and walks the iteration space
 * with incrementally updated affine offsets so that a full Mamba block runs in
 * seconds.
 */
#ifndef MAMBALAYA_EVAL_H
#define MAMBALAYA_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "front/cascade.h"

/* Storage for every tensor of a cascade: data[t] has tensors[t].nelems
 * values in row-major order (NULL until allocated). */
typedef struct eval_tensors {
	int n;
	double **data;
} eval_tensors;

/* Allocates zeroed storage for every tensor of c (n = c->ntensors).  Returns
 * NULL on allocation failure (then *err_tensor = -1) or if a tensor has more
 * than max_elems elements (then *err_tensor is its index); err_tensor may be
 * NULL.  The caller owns the result and frees it with eval_tensors_free. */
eval_tensors *eval_tensors_alloc(const ein_cascade *c, int64_t max_elems,
				 int *err_tensor);

/* Frees t and all its buffers.  NULL is allowed. */
void eval_tensors_free(eval_tensors *t);

/* Fills every input and weight tensor of c with deterministic values uniform
 * in [-1, 1), or in the range its declaration gives (`~ uniform(LO, HI)`).  Each tensor's stream is seeded from seed and the tensor's name
 * only, so adding or reordering tensors does not change the others' values.
 * Other tensors are left untouched. */
void eval_fill_random(const ein_cascade *c, eval_tensors *t, uint64_t seed);

/* Runs every Einsum of c in source order over t (inputs and weights must
 * already be filled; outputs and temporaries are updated in place).  Returns
 * 0, or -1 after writing an internal-error text into msg (msglen bytes, may
 * be 0) when a read or write falls outside its tensor or the cascade or the
 * storage is inconsistent: the checker proves such things cannot happen, so
 * this is a compiler bug, reported rather than crashed on.  Evaluation stops
 * at the failing Einsum; earlier results stay in t. */
int eval_run(const ein_cascade *c, eval_tensors *t, char *msg, size_t msglen);

/* Progress of a long run: fn(ctx, points) is called every few million
 * points of the iteration space with the points done in this Einsum so far
 * (points as cli_check_limits counts them: the box of its variables). */
typedef struct eval_progress {
	void (*fn)(void *ctx, double points);
	void *ctx;
} eval_progress;

/* Runs Einsum e alone (the ones before it must have run): eval_run is
 * eval_run_einsum for every Einsum in order.  pr may be NULL. */
int eval_run_einsum(const ein_cascade *c, int e, eval_tensors *t, const eval_progress *pr,
		    char *msg, size_t msglen);

#endif
