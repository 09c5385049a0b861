/* recompute.h - recompute fusion as a rewrite of the cascade.
 *
 * A tensor that Einsums in different groups read (U: x_proj, then the scan
 * and the skip connection) must otherwise travel through DRAM between
 * them, or the groups merge and keep the whole fiber on chip.  Recompute
 * fusion gives the later readers a copy of the producers instead: the
 * chain of Einsums that makes the tensor from what is already in DRAM
 * (U = silu(conv(XP)) from TX and the conv state) is cloned, the clones
 * write tensors of their own, placed just before the first of those
 * readers, and those readers read the copy.  The copy is an ordinary part
 * of the rewritten cascade: dependence analysis, fusion legality (the
 * clones read only what is live where they run: tensors complete in DRAM
 * or made in their group), the mapper, the evaluator and both back ends
 * see Einsums as any other, so a plan made on the rewritten cascade runs
 * as it was planned.  The mapper's `recompute` policy (mapper.h) tries
 * the rewrites recompute_candidates lists against `full`.
 *
 * Names: the copy of tensor T is T_r (T_r2, ... when taken); the clone of
 * Einsum "T.k" is "T_r.k", of a labelled Einsum L is "L_r".
 *
 * Ownership: recompute_apply returns a new cascade the caller frees with
 * ein_cascade_free(); it never changes its argument.
 */
#ifndef MAMBALAYA_RECOMPUTE_H
#define MAMBALAYA_RECOMPUTE_H

#include <stddef.h>

#include "front/cascade.h"

#define RECOMPUTE_MAX_CHAIN 8	/* Einsums cloned for one tensor */
#define RECOMPUTE_MAX_READERS 16 /* readers given the copy */

/* One rewrite, in the original cascade's indices. */
typedef struct recompute_spec {
	int tensor;		/* the tensor recomputed */
	int nchain;		/* the Einsums cloned, in source order */
	int chain[RECOMPUTE_MAX_CHAIN];
	int nreaders;		/* the readers that read the copy, in source order */
	int readers[RECOMPUTE_MAX_READERS];
} recompute_spec;

/* The chain that makes tensor t from what is in DRAM before it: t's
 * writers, and the writers of what they read as long as those are cheap
 * to run again (no generational rank, reductions over at most 16 points:
 * a convolution's taps, not a projection).  Returns its length (0 when t
 * cannot be recomputed: an input, a recurrence, a projection), the
 * Einsums in source order in chain. */
int recompute_chain(const ein_cascade *c, int t, int *chain, int max);

/* Every single rewrite worth costing: for each temporary or output tensor
 * with a chain and at least two readers, the copy given to the readers
 * from the k-th on (k >= 1, source order).  Returns how many were written
 * to out (at most max). */
int recompute_candidates(const ein_cascade *c, recompute_spec *out, int max);

/* Is s a rewrite recompute_apply accepts (the chain makes the tensor,
 * the readers read it, everything the chain reads from outside is
 * complete before the first reader)?  Returns 0, or -1 with why in err. */
int recompute_check(const ein_cascade *c, const recompute_spec *s, char *err, size_t errlen);

/* The cascade with the rewrites s[0..n) applied together (each in the
 * indices of c; they must recompute different tensors).  copy (may be
 * NULL) receives, per rewrite, the index of its copy of the tensor in the
 * new cascade.  Returns NULL with a message in err when one is not valid
 * or memory runs out. */
__attribute__((warn_unused_result)) ein_cascade *
recompute_apply(const ein_cascade *c, const recompute_spec *s, int n, int *copy, char *err,
		size_t errlen);

#endif
