/* deps.h - exact dependences of a cascade, and what they say about fusion.
 *
 * Built with isl's dataflow analysis on the polyhedral model (poly.h) with
 * the parameters fixed to their values:
 *   - flow (read-after-write) dependences between statement instances, one
 *     edge per producer, consumer and tensor, each classified RI, RSb, RSp or
 *     RD (docs/fusion.md), with the distance along every shared rank;
 *   - memory dependences: write-after-read and write-after-write (the
 *     accumulation of a reduction is a WAW self-dependence);
 *   - live-in data (elements read and never written by the cascade);
 *   - passes: tensors read in more than one pass over a rank;
 *   - sequential ranks: ranks that carry a self-dependence.
 *
 * Ownership: a deps_graph owns its isl objects; free it with deps_free()
 * before freeing the isl context.
 */
#ifndef MAMBALAYA_DEPS_H
#define MAMBALAYA_DEPS_H

#include <stdint.h>

#include <isl/ctx.h>
#include <isl/map.h>
#include <isl/union_map.h>

#include "front/cascade.h"

#define DEPS_MAX_RANKS 32 /* distinct rank-variable names in a cascade */

typedef enum deps_class {
	DEPS_RI,  /* rank-isomorphic: same ranks, same roles */
	DEPS_RSB, /* rank-subsetted: the consumer's ranks are a subset */
	DEPS_RSP, /* rank-supersetted: the consumer's ranks are a superset */
	DEPS_RD	  /* rank-disjoint: each side has a rank the other lacks */
} deps_class;

/* Distance (consumer index minus producer index) along a rank both Einsums
 * iterate, over all dependent instance pairs. */
typedef struct deps_dist {
	int rank; /* index into deps_graph.ranks */
	int64_t lo, hi;
} deps_dist;

typedef struct deps_edge {
	int producer, consumer; /* Einsum indices; equal for a self-dependence */
	int tensor;
	deps_class cls;
	isl_map *rel; /* S<producer>[..] -> S<consumer>[..] */
	/* Rank-name bit sets, role-aware: bit r of *_out is rank r as an output
	 * rank, of *_red as a reduced rank. */
	uint32_t p_out, p_red, c_out, c_red;
	int ndist;
	deps_dist dist[EIN_MAX_VARS];
	int64_t pairs; /* dependent instance pairs (-1: not counted) */
} deps_edge;

/* A tensor read in several passes over a rank. */
typedef struct deps_pass {
	int tensor;
	int rank;
	int npasses;
	/* For every reader of the tensor (Einsum index), its pass (1-based),
	 * or 0 if it does not iterate the rank. */
	int *pass_of; /* indexed by Einsum */
} deps_pass;

typedef struct deps_graph {
	const ein_cascade *c;
	isl_ctx *ctx;
	int nranks;
	char *ranks[DEPS_MAX_RANKS]; /* rank-variable names, first use order */
	/* Per Einsum: its rank names (bits) as output and as reduced. */
	uint32_t *out_ranks, *red_ranks;
	/* Per Einsum and rank name: the variable index, or -1. */
	int (*var_of)[DEPS_MAX_RANKS];
	int nedges;
	deps_edge *edges; /* flow edges, producer != consumer */
	int nself;
	deps_edge *self; /* flow self-dependences (recurrences) */
	isl_union_map *waw, *war; /* memory-based */
	int nmem;
	deps_edge *mem; /* the same, one map per statement pair (no classes) */
	isl_union_map *live_in;	  /* S -> T: reads of data nobody writes */
	/* reach[e * n + f]: f depends on e, directly or not (e != f). */
	char *reach;
	int npasses;
	deps_pass *passes;
} deps_graph;

/* Builds the dependence graph of c in ctx.  Returns NULL on an isl failure
 * or allocation failure, with a message in err. */
deps_graph *deps_build(isl_ctx *ctx, const ein_cascade *c, char *err,
		       size_t errlen);
void deps_free(deps_graph *g);

const char *deps_class_name(deps_class k); /* "RI", "RSb", "RSp", "RD" */

/* The rank-name index of name, or -1. */
int deps_rank(const deps_graph *g, const char *name);

/* Does Einsum e iterate (have a variable named) rank r? */
int deps_has_rank(const deps_graph *g, int e, int r);

/* Is e sequential along rank r (it carries a recurrence on r)? */
int deps_sequential(const deps_graph *g, int e, int r);

/* The union of every dependence among the Einsums in `members` (a set of
 * Einsum indices; flags indexed by Einsum): flow edges between members,
 * their self-dependences, and their memory dependences.  __isl_give. */
__isl_give isl_union_map *deps_restrict(const deps_graph *g,
					const char *members);

/* The names of the ranks in bits, comma-separated ("" for none). */
void deps_rank_list(const deps_graph *g, uint32_t bits, char *buf, size_t len);

/* Formats the element that instance S<e>[x] writes as "T[1, 2]". */
void deps_element_str(const ein_cascade *c, int e, const int64_t *x, char *buf,
		      size_t len);

/* Formats an instance S<e>[x] as "NAME(i=1, j=2)". */
void deps_instance_str(const ein_cascade *c, int e, const int64_t *x,
		       char *buf, size_t len);

/* A sliding window on edge ed along its distance k: a rank both ends
 * iterate as an output rank, along which one consumer instance needs
 * several producer instances.  Returns its width, or 0. */
int64_t deps_dist_halo(const deps_edge *ed, int k);
/* The first of them: returns 1 with the rank and the halo's width, else
 * 0. */
int deps_edge_halo(const deps_edge *ed, int *rank, int64_t *halo);
/* per[e] = 1 for every Einsum that accumulates into its output (a memory
 * dependence: a reduction); per has one entry per Einsum, zeroed. */
void deps_accumulations(const deps_graph *g, int *per);
/* flags[t] = 1 for every input or weight that some Einsum reads. */
void deps_live_in(const deps_graph *g, char *flags);

/* The graph as JSON (`mambalaya deps --json`; docs/fusion.md).  The caller
 * frees it with cJSON_Delete; NULL when out of memory. */
struct cJSON *deps_to_json(const deps_graph *g);

#endif
