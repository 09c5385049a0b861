/* cgplan.c - the plan the back ends take (see cgplan.h). */
#include "cgplan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping/plan.h"

void cg_plan_clear(cg_plan *p)
{
	for (int i = 0; i < p->ngroups; i++)
		free(p->groups[i].members);
	free(p->groups);
	memset(p, 0, sizeof(*p));
}

int cg_plan_unfused(const deps_graph *g, cg_plan *p)
{
	int n = g->c->neinsums;
	memset(p, 0, sizeof(*p));
	p->groups = calloc((size_t)(n ? n : 1), sizeof(*p->groups));
	if (!p->groups)
		return -1;
	for (int e = 0; e < n; e++) {
		cg_group *gr = &p->groups[p->ngroups++];
		gr->members = calloc((size_t)n, 1);
		if (!gr->members) {
			cg_plan_clear(p);
			return -1;
		}
		gr->members[e] = 1;
	}
	return 0;
}

/* Orders the groups so that every dependence goes from an earlier group to
 * a later one (or stays inside one): repeatedly takes the first group, in
 * the current order, whose producers outside it have all been placed.  When
 * none can be placed the groups depend on each other in a cycle; the order
 * is left as it is and lowering reports the cycle. */
int cg_plan_order(const deps_graph *g, cg_plan *p)
{
	int n = g->c->neinsums, ng = p->ngroups;
	int *group_of = malloc((size_t)(n ? n : 1) * sizeof(int));
	char *placed = calloc((size_t)(ng ? ng : 1), 1);
	cg_group *sorted = malloc((size_t)(ng ? ng : 1) * sizeof(*sorted));
	if (!group_of || !placed || !sorted) {
		free(group_of);
		free(placed);
		free(sorted);
		return -1;
	}
	for (int i = 0; i < ng; i++)
		for (int e = 0; e < n; e++)
			if (p->groups[i].members[e])
				group_of[e] = i;
	int done = 0;
	while (done < ng) {
		int pick = -1;
		for (int i = 0; i < ng && pick < 0; i++) {
			if (placed[i])
				continue;
			int ready = 1;
			for (int k = 0; k < g->nedges && ready; k++) {
				const deps_edge *ed = &g->edges[k];
				int pg = group_of[ed->producer];
				if (group_of[ed->consumer] == i && pg != i && !placed[pg])
					ready = 0;
			}
			if (ready)
				pick = i;
		}
		if (pick < 0)
			break; /* a cycle: keep the rest in order */
		placed[pick] = 1;
		sorted[done++] = p->groups[pick];
	}
	for (int i = 0; i < ng; i++)
		if (!placed[i])
			sorted[done++] = p->groups[i];
	memcpy(p->groups, sorted, (size_t)ng * sizeof(*sorted));
	free(group_of);
	free(placed);
	free(sorted);
	return 0;
}

int cg_plan_set_group(const deps_graph *g, cg_plan *p, const char *members,
		      int nband, const int *band, const int64_t *tile)
{
	int n = g->c->neinsums;
	int first = -1;
	for (int e = 0; e < n && first < 0; e++)
		if (members[e])
			first = e;
	if (first < 0 || nband > CG_MAX_BAND)
		return -1;
	/* Take the members out of their groups; drop emptied groups. */
	int w = 0, at = -1;
	for (int i = 0; i < p->ngroups; i++) {
		cg_group *gr = &p->groups[i];
		int left = 0, had_first = gr->members[first];
		for (int e = 0; e < n; e++) {
			if (members[e])
				gr->members[e] = 0;
			left += gr->members[e] != 0;
		}
		if (had_first && at < 0)
			at = w;
		if (!left) {
			free(gr->members);
			continue;
		}
		p->groups[w++] = *gr;
	}
	p->ngroups = w;
	if (at < 0)
		at = w;
	cg_group ng = {0};
	ng.members = malloc((size_t)n);
	if (!ng.members)
		return -1;
	memcpy(ng.members, members, (size_t)n);
	ng.nband = nband;
	for (int k = 0; k < nband; k++) {
		ng.band[k] = band[k];
		ng.tile[k] = tile[k];
	}
	cg_group *v = realloc(p->groups, (size_t)(p->ngroups + 1) * sizeof(*v));
	if (!v) {
		free(ng.members);
		return -1;
	}
	p->groups = v;
	memmove(&v[at + 1], &v[at], (size_t)(p->ngroups - at) * sizeof(*v));
	v[at] = ng;
	p->ngroups++;
	return cg_plan_order(g, p);
}

/* Converts a mapper plan into the back end's groups. */
int cg_plan_from(const plan *pl, const deps_graph *g, cg_plan *p, char *err, size_t errlen)
{
	int n = g->c->neinsums;
	memset(p, 0, sizeof(*p));
	p->groups = calloc((size_t)(pl->ngroups ? pl->ngroups : 1), sizeof(*p->groups));
	if (!p->groups) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < pl->ngroups; i++) {
		const plan_group *pg = &pl->groups[i];
		cg_group *gr = &p->groups[p->ngroups++];
		gr->members = calloc((size_t)(n ? n : 1), 1);
		if (!gr->members) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		for (int m = 0; m < pg->nmembers; m++)
			gr->members[pg->members[m].einsum] = 1;
		if (pg->nband > CG_MAX_BAND) {
			snprintf(err, errlen, "group %d has more than %d fused ranks", i + 1,
				 CG_MAX_BAND);
			return -1;
		}
		gr->nband = pg->nband;
		for (int j = 0; j < pg->nband; j++) {
			gr->band[j] = deps_rank(g, pg->band[j]);
			gr->tile[j] = pg->tile[j] > 0 ? pg->tile[j] : 1;
			if (gr->band[j] < 0) {
				snprintf(err, errlen, "group %d: no rank named '%s'", i + 1,
					 pg->band[j]);
				return -1;
			}
		}
	}
	return 0;
}
