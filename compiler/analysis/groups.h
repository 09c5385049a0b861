/* groups.h - enumeration of a cascade's legal fusion groups.
 *
 * For every candidate band (a list of rank names: the ranks shared by some
 * producer and consumer, and their prefixes in rank order), the Einsums that
 * iterate all of its ranks are grown into groups by merging along the
 * dependence edges, in source order, whenever the merged group stays convex
 * (no dependence path leaves it and comes back) and is legal for every tile
 * size (fusion.h, permutable).  Each distinct group is reported with the
 * maximal bands it is legal on.
 *
 * Ownership: groups_enumerate fills a groups_result the caller owns and
 * frees with groups_result_clear.
 */
#ifndef MAMBALAYA_GROUPS_H
#define MAMBALAYA_GROUPS_H

#include <stdint.h>

#include "deps.h"

typedef struct groups_band {
	int n;
	int rank[DEPS_MAX_RANKS];
} groups_band;

typedef struct groups_group {
	char *members; /* flags indexed by Einsum */
	int nmembers;
	int nbands;
	groups_band *bands;  /* maximal bands it is legal on */
	uint32_t fusible;    /* ranks r with a legal one-rank band [r] */
	uint32_t parallel;   /* ranks parallel in its first band */
	uint32_t sequential; /* ranks carrying a dependence in its first band */
} groups_group;

typedef struct groups_result {
	int ngroups;
	groups_group *groups; /* largest first, then by first member */
	int checked;	      /* legality checks made */
} groups_result;

/* Enumerates the legal groups.  only (may be NULL) restricts the search to
 * that one band.  Returns 0, or -1 with a message in err. */
int groups_enumerate(const deps_graph *g, const groups_band *only,
		     groups_result *res, char *err, size_t errlen);
void groups_result_clear(groups_result *res);

/* Picks disjoint groups covering as much as possible (largest first): a
 * partition for drawing.  part[e] = group index or -1. */
void groups_partition(const deps_graph *g, const groups_result *res, int *part);

/* Candidate bands (rank sets, one bit per rank): the ranks that producer
 * and consumer of each edge share, and their prefixes in rank order; at
 * most max.  Returns how many. */
int groups_candidate_bands(const deps_graph *g, uint32_t *cand, int max);

/* The groups as JSON (`mambalaya groups --json`); the caller frees it
 * with cJSON_Delete; NULL when out of memory. */
struct cJSON *groups_to_json(const deps_graph *g, const groups_result *res);

#endif
