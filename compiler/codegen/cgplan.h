/* cgplan.h - the plan the back ends take: fusion groups in execution order,
 * each with its fused ranks (the band, outermost first) and their tiles.
 *
 * The mapper's plans (mapping/plan.h) and the command line's --group specs
 * are turned into a cg_plan (cli/build.c); lowering (lower.h) validates it
 * and both back ends follow it.  A cg_plan owns its groups' member arrays:
 * free it with cg_plan_clear().
 */
#ifndef MAMBALAYA_CGPLAN_H
#define MAMBALAYA_CGPLAN_H

#include <stdint.h>

#include "analysis/deps.h"

#define CG_MAX_BAND 8

/* One group of the plan, in execution order. */
typedef struct cg_group {
	char *members; /* flags indexed by Einsum (owned) */
	int nband;
	int band[CG_MAX_BAND]; /* rank-name indices of deps_graph */
	int64_t tile[CG_MAX_BAND];
} cg_group;

typedef struct cg_plan {
	int ngroups;
	cg_group *groups;
} cg_plan;

/* One group per Einsum, in source order, no fused ranks. */
int cg_plan_unfused(const deps_graph *g, cg_plan *p);
/* Adds a group to p, removing its members from the groups they were in
 * (singletons of an unfused plan).  members is copied. */
int cg_plan_set_group(const deps_graph *g, cg_plan *p, const char *members,
		      int nband, const int *band, const int64_t *tile);
/* Orders the groups so that every dependence goes from an earlier group to
 * a later one or stays inside one (a cycle is left for lowering to
 * report).  Returns 0 or -1 (out of memory). */
int cg_plan_order(const deps_graph *g, cg_plan *p);
void cg_plan_clear(cg_plan *p);

struct plan;
/* The groups, bands and tiles of a mapper's plan (mapping/plan.h).
 * Returns 0, or -1 with a message (out of memory, a rank the graph does
 * not know); p is then cleared by the caller. */
int cg_plan_from(const struct plan *pl, const deps_graph *g, cg_plan *p, char *err,
		 size_t errlen);

#endif
