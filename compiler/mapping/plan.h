/* plan.h - a mapping of a cascade onto a target: the fusion groups, in the
 * order they run, each with its fused ranks, tile sizes, bindings and
 * modelled costs.
 *
 * The mapper (mapper.h) produces a plan; the back ends (C kernels,
 * accelerator stream) consume one, either directly or read back from the
 * JSON that `mambalaya plan --json` writes (`--plan FILE`).  The JSON schema
 * is documented in docs/plan.md.
 *
 * Ownership: a plan owns everything it points to; free with plan_free().
 */
#ifndef MAMBALAYA_PLAN_H
#define MAMBALAYA_PLAN_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "analysis/recompute.h"
#include "front/cascade.h"

#define PLAN_MAX_BAND 8

typedef enum plan_unit {
	PLAN_UNIT_2D, /* the 2D (MAC) array: GEMM-like Einsums */
	PLAN_UNIT_1D  /* the 1D (vector) array: elementwise, functions, scans */
} plan_unit;

/* How a tensor read in several passes over a fused rank is handled. */
typedef enum plan_multipass {
	PLAN_MP_NONE,	  /* not multi-pass inside this group */
	PLAN_MP_BUFFER,	  /* the whole fiber stays on chip */
	PLAN_MP_SPILL,	  /* written to DRAM and read back */
	PLAN_MP_RECOMPUTE /* recomputed for the second pass */
} plan_multipass;

#define PLAN_MAX_LEVELS 3 /* TARGET_MAX_LEVELS */

typedef struct plan_cost {
	double comp_cycles_2d; /* cycles the 2D array is busy */
	double comp_cycles_1d; /* cycles the 1D array is busy */
	double comp_cycles;    /* compute cycles (with mode switches) */
	double mem_cycles;     /* DRAM transfer cycles */
	double cache_cycles;   /* CPU: traffic through the outermost cache */
	double cycles;	       /* latency in cycles (compute and memory overlapped) */
	double dram_bytes;     /* DRAM traffic */
	double buffer_bytes;   /* peak global-buffer occupancy */
	double util_2d, util_1d, mem_util; /* 0..1 */
	/* The memory hierarchy (target.h): per level, the bytes read from it
	 * and written to it, and the cycles they take at its bandwidths
	 * (level 0 is DRAM: dram_bytes split, mem_cycles); the per-tile
	 * overhead cycles of every level, part of comp_cycles. */
	int nlevels;
	double level_read_bytes[PLAN_MAX_LEVELS], level_write_bytes[PLAN_MAX_LEVELS];
	double level_cycles[PLAN_MAX_LEVELS];
	double overhead_cycles;
} plan_cost;

/* How a group holds one tensor it touches (an extension of the lead's
 * plan: the choices the cost model made or was given). */
typedef struct plan_tensor {
	int tensor;	  /* index in the cascade */
	int role;	  /* fusion_role (fusion.h): internal, in, out */
	int level;	  /* retention: the data swept by the band loops below the
			     first `level` loops stays resident; level == nband
			     keeps one tile (docs/cost-model.md); -1: the
			     model's choice */
	int multipass;	  /* plan_multipass, or -1: the model's choice */
	double tile_elems;   /* elements of one tile */
	double buffer_bytes; /* buffer allocated to it */
	double dram_bytes;   /* its DRAM traffic */
} plan_tensor;

typedef struct plan_member {
	int einsum;	/* index in the cascade */
	plan_unit unit; /* where it is bound */
	plan_cost cost; /* its share of the group's cost */
} plan_member;

typedef struct plan_group {
	int nmembers;
	plan_member *members; /* in source order */
	int nband;
	char *band[PLAN_MAX_BAND]; /* fused rank names, outermost first */
	int64_t tile[PLAN_MAX_BAND];
	plan_cost cost;
	/* Extensions. */
	double ntiles;	  /* tiles of the band */
	int fits;	  /* its peak buffer fits the target's */
	int ntensors;
	plan_tensor *tensors; /* every tensor the group touches; a level or
				 multi-pass choice of -1 is left to the cost
				 model */
} plan_group;

/* A rewrite of the cascade for recompute fusion (analysis/recompute.h),
 * in the names of the cascade the plan is for: the tensor, the Einsums
 * cloned to make its copy, the readers that read the copy, and the
 * copy's name in the rewritten cascade. */
typedef struct plan_recompute {
	char *tensor;
	char *copy;
	int nchain;
	char **chain;
	int nreaders;
	char **readers;
} plan_recompute;

typedef struct plan {
	char *file;   /* the cascade it maps */
	char *arch;   /* target name */
	char *policy; /* "unfused", "ssm-ri", "full", or "user" */
	int nparams;  /* the parameter values it was made for */
	char **param_names;
	int64_t *param_values;
	int ngroups;
	plan_group *groups; /* in execution order; together they hold every
			       Einsum exactly once */
	plan_cost total;
	double latency_seconds;
	double search_seconds; /* how long the mapper searched */
	int64_t candidates;    /* how many mappings it evaluated */
	/* Extensions. */
	int64_t groups_considered; /* candidate groups costed */
	int complete;		   /* 0: the time budget stopped the search */
	double time_budget;	   /* seconds, 0 for none */
	int footprints_checked;	   /* tensors whose tile isl counted */
	int footprints_differed;   /* of which the model's box differed */
	cJSON *target;		   /* the target description (owned) */
	/* Recompute fusion: the rewrites, and the rewritten cascade (owned)
	 * that every Einsum and tensor index of the groups refers to; none
	 * and NULL for a plan of the cascade as written. */
	int nrecompute;
	plan_recompute *recompute;
	ein_cascade *cascade;
} plan;

/* The cascade p's groups refer to: its rewritten cascade, else c (the
 * cascade it was made for). */
const ein_cascade *plan_cascade(const plan *p, const ein_cascade *c);

/* Records the rewrites s[0..n) of c (names) in p, and takes rc, the
 * cascade recompute_apply made of them (__isl_take: p owns it even on
 * failure); copy: recompute_apply's copy indices.  Returns 0 or -1 (out
 * of memory). */
int plan_set_recompute(plan *p, const ein_cascade *c, const recompute_spec *s, int n,
		       ein_cascade *rc, const int *copy);

void plan_free(plan *p);

/* The name of memory level l of the plan's target ("DRAM", ...). */
const char *plan_level_name(const plan *p, int l);

/* The plan as JSON (docs/plan.md).  __isl_give-style: caller deletes. */
cJSON *plan_to_json(const plan *p, const ein_cascade *c);

/* Reads a plan for cascade c from JSON.  A plan with "recompute" rewrites
 * c (recompute_apply) and keeps the result (p->cascade), which its groups
 * must then name.  Checks that it names c's Einsums
 * and ranks, that every Einsum is in exactly one group, that the parameter
 * values match, and that the groups' order respects the dependences; on any
 * problem returns NULL with a message naming the offending field in err. */
plan *plan_from_json(const cJSON *j, const ein_cascade *c, char *err,
		     size_t errlen);

struct deps_graph;
/* Checks that every group of p is legal (fusion.h, at its tile sizes) and
 * that the group order respects every dependence between groups.  Returns 0,
 * or -1 with a message (naming the group and the witness) in err. */
int plan_validate(const plan *p, const struct deps_graph *g, char *err,
		  size_t errlen);

#endif
