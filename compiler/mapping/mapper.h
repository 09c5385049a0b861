/* mapper.h - the search for a plan: fusion groups, fused ranks, loop order,
 * tile sizes, bindings, retention and multi-pass handling, within the
 * target's buffer.
 *
 * Policies differ only in the groups the search may use:
 *   unfused  every Einsum alone (MARCA-style);
 *   ssm-ri   also groups inside the SSM region (the recurrence and the
 *            Einsums over its ranks that feed or read it), as the
 *            fine-grained fusion accelerator does;
 *   full     also every group grown from the legal groups of groups.h
 *            (intervals of their members in two topological orders).
 * For every candidate group the mapper searches loop orders and tile sizes
 * (powers of two up to the extent, hill-climbing from tiles of 1) with the
 * cost model making the binding, retention and multi-pass choices; a
 * dynamic program over the dependence-closed sets of Einsums then picks the
 * partition with the least total latency.  The chosen groups are checked
 * with fusion_check at their tile sizes (legality, and isl's footprint
 * counts against the model's) and the plan with plan_validate.
 *
 * The search is deterministic; a time budget stops it between candidate
 * groups (the singletons are always costed) and the plan says so.
 */
#ifndef MAMBALAYA_MAPPER_H
#define MAMBALAYA_MAPPER_H

#include <stddef.h>

#include "cost.h"
#include "plan.h"

typedef enum mapper_policy {
	MAPPER_UNFUSED,
	MAPPER_SSM_RI,
	MAPPER_FULL,
	/* full, and full on the cascade rewritten for recompute fusion
	 * (analysis/recompute.h): the plan of the lowest latency, which owns
	 * its rewritten cascade (plan.cascade) when it is one */
	MAPPER_RECOMPUTE
} mapper_policy;

/* "unfused", "ssm-ri", "full", "recompute"; NULL-terminated. */
extern const char *const mapper_policy_names[];

/* The policy named s, or -1. */
int mapper_policy_from_name(const char *s);

typedef struct mapper_opts {
	mapper_policy policy;
	double time_budget; /* seconds; 0: none */
	int rank;	    /* the rank-th best plan (distinct partitions into
			       groups; each group at its best mapping); 0 or 1:
			       the best */
} mapper_opts;

/* Searches a plan for the model's cascade and target.  Returns the plan
 * (caller frees with plan_free) or NULL with a message in err; when there
 * are fewer than o->rank distinct plans, the message starts with
 * MAPPER_FEWER_PLANS. */
#define MAPPER_FEWER_PLANS "the search found "
plan *mapper_run(const cost_model *m, const mapper_opts *o, char *err,
		 size_t errlen);

/* Costs a given plan (from plan_from_json, say) on the model's target:
 * its groups, loop orders, tiles and bindings are kept, retention and
 * multi-pass choices left at -1 are made by the model; every cost, the
 * tensors of each group and the totals are filled in.  Returns 0, or -1
 * with a message naming the offending field ("groups[2].members[0].unit")
 * in err. */
int mapper_evaluate(const cost_model *m, plan *p, char *err, size_t errlen);

#endif
