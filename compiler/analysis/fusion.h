/* fusion.h - legality and footprints of a fused group of Einsums.
 *
 * A candidate is a set of Einsums, an ordered list of fused ranks (by name)
 * with a tile size each, and optionally the fused ranks asked to run in
 * parallel.  Its schedule is: the tile loops of the fused ranks (a band
 * shared by every member), then the members in source order, each with its
 * own loops inside the tile.  It is legal exactly when every dependence among
 * the members goes forward in that schedule; otherwise a witness (a pair of
 * dependent instances that would run in the wrong order) says why.
 *
 * Footprints are computed with isl on a representative tile (the second
 * along every fused rank that has one): what each tensor needs on chip,
 * what is carried from earlier tiles (a halo, a recurrence state), what is
 * read again.
 *
 * Ownership: fusion_check fills a fusion_result the caller owns and frees
 * with fusion_result_clear; the request only points at the caller's data.
 */
#ifndef MAMBALAYA_FUSION_H
#define MAMBALAYA_FUSION_H

#include <stdint.h>

#include "deps.h"

#define FUSION_MAX_BAND 8
#define FUSION_MAX_WITNESS 4

typedef struct fusion_req {
	const char *members; /* flags indexed by Einsum */
	int nband;
	int band[FUSION_MAX_BAND];	 /* rank-name indices (deps_graph.ranks) */
	int64_t tile[FUSION_MAX_BAND];	 /* >= 1; larger than the extent is fine */
	uint32_t want_parallel;		 /* bit j: band member j must be parallel */
	int permutable;			 /* require every band distance >= 0 (legal
					    for every tile size) instead of the
					    exact check at these tiles */
	int verdict_only;		 /* skip the parallel/sequential analysis */
} fusion_req;

typedef enum fusion_dep_kind { FUSION_FLOW, FUSION_MEMORY } fusion_dep_kind;

typedef struct fusion_witness {
	int producer, consumer; /* Einsums */
	int tensor;		/* -1 for memory dependences */
	int band;		/* band member where it goes backwards, or -1 */
	int parallel;		/* 1: it breaks the requested parallel member */
	int64_t x[EIN_MAX_VARS], y[EIN_MAX_VARS];
} fusion_witness;

typedef enum fusion_role {
	FUSION_INTERNAL, /* produced and consumed inside the group only */
	FUSION_IN,	 /* read by the group, produced outside */
	FUSION_OUT,	 /* produced by the group, needed outside */
} fusion_role;

typedef struct fusion_fp {
	int tensor;
	fusion_role role;
	int64_t footprint; /* elements touched in the tile */
	int64_t written;   /* elements written in the tile */
	int64_t carried;   /* read in the tile, written by earlier tiles */
	int64_t reread;	   /* read in the tile and in earlier tiles */
	int exact;	   /* 0: counts are upper bounds */
} fusion_fp;

typedef struct fusion_result {
	int legal;
	int nwitness;
	fusion_witness witness[FUSION_MAX_WITNESS];
	uint32_t parallel;   /* bit j: band member j is parallel */
	uint32_t sequential; /* bit j: band member j carries a dependence */
	int64_t ntiles;
	int64_t tile_index[FUSION_MAX_BAND]; /* the representative tile */
	int nfp;
	fusion_fp *fp;
	int64_t buffer_elems; /* sum of footprints */
	int64_t buffer_bytes; /* with each tensor's element type */
} fusion_result;

/* Checks a candidate.  Returns 0 with *res filled (res->legal says the
 * verdict), or -1 on an isl or allocation failure (message in err).
 * A member lacking a fused rank is a user error: returns -2 with a message
 * naming it in err.  Footprints are computed when footprints != 0 and the
 * candidate is legal.  Free with fusion_result_clear. */
int fusion_check(const deps_graph *g, const fusion_req *req, int footprints,
		 fusion_result *res, char *err, size_t errlen);
void fusion_result_clear(fusion_result *res);

const char *fusion_role_name(fusion_role r);

/* The instances of member e in the tile with the given tile indices (one per
 * band member), or in every tile before it in lexicographic order (before
 * != 0).  Parameters fixed.  __isl_give. */
__isl_give isl_set *fusion_tile_domain(const deps_graph *g,
				       const fusion_req *req, int e,
				       const int64_t *tile, int before);

#endif
