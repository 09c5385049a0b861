/* explain.h - why the policies' latencies differ: the comparison of
 * `plan --policy all --explain` taken apart.
 *
 * Three parts (docs/results.md shows them on the paper's cases):
 *   - traffic by tensor: the DRAM bytes each tensor costs under each
 *     policy, so the saving of full over unfused and ssm-ri is split by the
 *     tensors it comes from, and where full keeps them (the group that
 *     holds a tensor on chip);
 *   - time by bound: each policy's latency split into the groups bound by
 *     compute and those bound by memory, with the compute cycles of each
 *     array and the DRAM cycles, at each level of the memory (today: DRAM
 *     and the global buffer);
 *   - the assumptions: the ratios again with one value of the target
 *     halved or doubled (the search run again each time), and whether the
 *     target sources that value or lists it among its assumptions.
 * Nothing is fitted: the variants are fixed factors of the target's own
 * values.
 *
 * Ownership: explain_build gives an explanation freed with explain_free;
 * it keeps no pointer to its arguments.
 */
#ifndef MAMBALAYA_EXPLAIN_H
#define MAMBALAYA_EXPLAIN_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "base/sbuf.h"
#include "cost.h"
#include "plan.h"
#include "target.h"

#define EXPLAIN_POLICIES 3 /* unfused, ssm-ri, full (mapper_policy order) */

/* One tensor's DRAM bytes under each policy. */
typedef struct explain_tensor {
	int tensor;			     /* index in the cascade */
	double bytes[EXPLAIN_POLICIES];
	int full_group;	 /* full's group that writes it, or -1 */
	int full_on_chip; /* ... and keeps it there (internal) */
} explain_tensor;

/* A policy's latency taken apart. */
typedef struct explain_time {
	double latency_seconds;
	double compute_bound_seconds; /* groups whose compute exceeds their DRAM time */
	double memory_bound_seconds;
	double comp_seconds_2d, comp_seconds_1d, mem_seconds; /* not overlapped */
	double dram_bytes, peak_buffer_bytes;
	int groups;
	/* Groups bound by an on-chip memory level (its busy time exceeds
	 * their compute and DRAM time); part of neither figure above. */
	double level_bound_seconds;
	/* Per memory level (DRAM first): bytes read and written, busy time. */
	int nlevels;
	char level_name[PLAN_MAX_LEVELS][32];
	double level_bytes[PLAN_MAX_LEVELS], level_seconds[PLAN_MAX_LEVELS];
} explain_time;

/* The ratios with one target value changed. */
typedef struct explain_variant {
	const char *field;  /* "bytes_per_value", "array2d" (rows and cols), ... */
	double factor;	    /* what it was multiplied by */
	char value[64];	    /* the new value, as printed */
	double latency[EXPLAIN_POLICIES];
	double ratio_unfused, ratio_ssm_ri; /* full over them */
} explain_variant;

#define EXPLAIN_MAX_VARIANTS 24

typedef struct explain {
	explain_time time[EXPLAIN_POLICIES];
	double ratio_unfused, ratio_ssm_ri;
	int ntensors;
	explain_tensor *tensors; /* sorted by the saving of full over unfused */
	int nvariants;
	explain_variant variants[EXPLAIN_MAX_VARIANTS];
	int cpu; /* a CPU target: no variants */
	/* Copied from the target: where each varied value comes from. */
	char *status[EXPLAIN_MAX_VARIANTS]; /* "source: ..." or "assumption: ..." */
} explain;

/* The three plans ps (unfused, ssm-ri, full, made on m's target) taken
 * apart, and the variants searched again on m's analysis (time_budget as
 * the mapper's).  Returns NULL with a message in err. */
explain *explain_build(const cost_model *m, plan *const ps[EXPLAIN_POLICIES],
		       double time_budget, char *err, size_t errlen);
void explain_free(explain *e);

/* As text (the tables of `plan --policy all --explain`) and JSON (the
 * "explain" member of its --json). */
void explain_text(const explain *e, const ein_cascade *c, sbuf *out);
cJSON *explain_to_json(const explain *e, const ein_cascade *c);

#endif
