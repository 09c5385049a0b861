/* groups.c - enumeration of legal fusion groups (see groups.h). */
#include "groups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fusion.h"

void groups_result_clear(groups_result *res)
{
	for (int i = 0; i < res->ngroups; i++) {
		free(res->groups[i].members);
		free(res->groups[i].bands);
	}
	free(res->groups);
	memset(res, 0, sizeof(*res));
}

static uint32_t band_bits(const groups_band *b)
{
	uint32_t m = 0;
	for (int k = 0; k < b->n; k++)
		m |= 1u << b->rank[k];
	return m;
}

static groups_band band_from_bits(const deps_graph *g, uint32_t bits)
{
	groups_band b = {0};
	for (int r = 0; r < g->nranks; r++)
		if ((bits >> r) & 1)
			b.rank[b.n++] = r;
	return b;
}

int groups_candidate_bands(const deps_graph *g, uint32_t *cand, int max)
{
	int n = 0;
	for (int k = 0; k < g->nedges; k++) {
		const deps_edge *ed = &g->edges[k];
		uint32_t shared = (ed->p_out | ed->p_red) & (ed->c_out | ed->c_red);
		uint32_t prefix = 0;
		for (int r = 0; r < g->nranks; r++) {
			if (!((shared >> r) & 1))
				continue;
			prefix |= 1u << r;
			int seen = 0;
			for (int i = 0; i < n; i++)
				if (cand[i] == prefix)
					seen = 1;
			if (!seen && n < max)
				cand[n++] = prefix;
		}
	}
	return n;
}

/* Would members stay convex: no Einsum outside on a path between two? */
static int convex(const deps_graph *g, const char *members)
{
	int n = g->c->neinsums;
	for (int x = 0; x < n; x++) {
		if (members[x])
			continue;
		int from = 0, to = 0;
		for (int e = 0; e < n; e++) {
			if (!members[e])
				continue;
			if (g->reach[e * n + x])
				from = 1;
			if (g->reach[x * n + e])
				to = 1;
		}
		if (from && to)
			return 0;
	}
	return 1;
}

static int legal_on(const deps_graph *g, const char *members,
		    const groups_band *b, int *checked, fusion_result *out,
		    char *err, size_t errlen)
{
	fusion_req req = {0};
	req.members = members;
	req.nband = b->n;
	for (int k = 0; k < b->n; k++) {
		req.band[k] = b->rank[k];
		req.tile[k] = 1;
	}
	req.permutable = 1;
	req.verdict_only = out == NULL;
	fusion_result res;
	(*checked)++;
	int r = fusion_check(g, &req, 0, &res, err, errlen);
	if (r < 0)
		return -1;
	int legal = res.legal;
	if (out)
		*out = res;
	else
		fusion_result_clear(&res);
	return legal;
}

static int add_group(groups_result *res, const char *members, int n,
		     const groups_band *band)
{
	for (int i = 0; i < res->ngroups; i++) {
		groups_group *gr = &res->groups[i];
		if (memcmp(gr->members, members, (size_t)n) != 0)
			continue;
		groups_band *nb = realloc(gr->bands, (size_t)(gr->nbands + 1) * sizeof(*nb));
		if (!nb)
			return -1;
		gr->bands = nb;
		nb[gr->nbands++] = *band;
		return 0;
	}
	groups_group *ng = realloc(res->groups, (size_t)(res->ngroups + 1) * sizeof(*ng));
	if (!ng)
		return -1;
	res->groups = ng;
	groups_group *gr = &ng[res->ngroups];
	memset(gr, 0, sizeof(*gr));
	gr->members = malloc((size_t)n);
	gr->bands = malloc(sizeof(*gr->bands));
	if (!gr->members || !gr->bands) {
		free(gr->members);
		free(gr->bands);
		return -1;
	}
	memcpy(gr->members, members, (size_t)n);
	for (int e = 0; e < n; e++)
		gr->nmembers += members[e] != 0;
	gr->bands[0] = *band;
	gr->nbands = 1;
	res->ngroups++;
	return 0;
}

/* Grows groups for one band by merging along edges. */
static int grow(const deps_graph *g, const groups_band *band,
		groups_result *res, char *err, size_t errlen)
{
	const ein_cascade *c = g->c;
	int n = c->neinsums;
	uint32_t need = band_bits(band);
	int *gid = malloc((size_t)(n ? n : 1) * sizeof(int));
	char *merged = malloc((size_t)(n ? n : 1));
	int rc = -1;
	if (!gid || !merged) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	for (int e = 0; e < n; e++) {
		uint32_t has = g->out_ranks[e] | g->red_ranks[e];
		gid[e] = (has & need) == need ? e : -1;
	}
	for (int k = 0; k < g->nedges; k++) {
		const deps_edge *ed = &g->edges[k];
		int a = gid[ed->producer], b = gid[ed->consumer];
		if (a < 0 || b < 0 || a == b)
			continue;
		for (int e = 0; e < n; e++)
			merged[e] = gid[e] >= 0 && (gid[e] == a || gid[e] == b);
		if (!convex(g, merged))
			continue;
		int l = legal_on(g, merged, band, &res->checked, NULL, err, errlen);
		if (l < 0)
			goto done;
		if (!l)
			continue;
		int to = a < b ? a : b;
		for (int e = 0; e < n; e++)
			if (merged[e])
				gid[e] = to;
	}
	for (int e = 0; e < n; e++) {
		if (gid[e] != e)
			continue;
		int size = 0;
		for (int f = 0; f < n; f++) {
			merged[f] = gid[f] == e;
			size += merged[f];
		}
		if (size >= 2 && add_group(res, merged, n, band) < 0) {
			snprintf(err, errlen, "out of memory");
			goto done;
		}
	}
	rc = 0;
done:
	free(gid);
	free(merged);
	return rc;
}

static int cmp_group(const void *pa, const void *pb, void *n_)
{
	const groups_group *a = pa, *b = pb;
	int n = *(int *)n_;
	if (a->nmembers != b->nmembers)
		return a->nmembers > b->nmembers ? -1 : 1;
	for (int e = 0; e < n; e++)
		if (a->members[e] != b->members[e])
			return a->members[e] ? -1 : 1;
	return 0;
}

/* Sorts the groups by cmp_group (largest first, then by members): an
 * insertion sort, because qsort has no context argument for the Einsum
 * count and a file-level variable would make the library unsafe to call
 * from two threads. */
static void sort_groups(groups_group *v, int ng, int n)
{
	for (int i = 1; i < ng; i++) {
		groups_group x = v[i];
		int j = i;
		for (; j > 0 && cmp_group(&v[j - 1], &x, &n) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

int groups_enumerate(const deps_graph *g, const groups_band *only,
		     groups_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof(*res));
	uint32_t cand[256];
	int ncand;
	if (only) {
		cand[0] = band_bits(only);
		ncand = 1;
	} else {
		ncand = groups_candidate_bands(g, cand, 256);
	}
	for (int i = 0; i < ncand; i++) {
		groups_band b = only ? *only : band_from_bits(g, cand[i]);
		if (grow(g, &b, res, err, errlen) < 0)
			goto fail;
	}
	int n = g->c->neinsums;
	for (int i = 0; i < res->ngroups; i++) {
		groups_group *gr = &res->groups[i];
		/* Keep only the maximal bands. */
		int w = 0;
		for (int a = 0; a < gr->nbands; a++) {
			uint32_t ba = band_bits(&gr->bands[a]);
			int dominated = 0;
			for (int b = 0; b < gr->nbands; b++) {
				uint32_t bb = band_bits(&gr->bands[b]);
				if (b != a && (ba & bb) == ba && ba != bb)
					dominated = 1;
				if (b < a && ba == bb)
					dominated = 1;
			}
			if (!dominated)
				gr->bands[w++] = gr->bands[a];
		}
		gr->nbands = w;
		/* Fusible ranks: shared ranks legal on their own. */
		uint32_t common = ~0u;
		for (int e = 0; e < n; e++)
			if (gr->members[e])
				common &= g->out_ranks[e] | g->red_ranks[e];
		for (int r = 0; r < g->nranks; r++) {
			if (!((common >> r) & 1))
				continue;
			groups_band one = {1, {r}};
			int l = legal_on(g, gr->members, &one, &res->checked, NULL, err,
					 errlen);
			if (l < 0)
				goto fail;
			if (l)
				gr->fusible |= 1u << r;
		}
		fusion_result fr;
		int l = legal_on(g, gr->members, &gr->bands[0], &res->checked, &fr,
				 err, errlen);
		if (l < 0)
			goto fail;
		for (int k = 0; k < gr->bands[0].n; k++) {
			if ((fr.parallel >> k) & 1)
				gr->parallel |= 1u << gr->bands[0].rank[k];
			if ((fr.sequential >> k) & 1)
				gr->sequential |= 1u << gr->bands[0].rank[k];
		}
		fusion_result_clear(&fr);
	}
	sort_groups(res->groups, res->ngroups, n);
	return 0;
fail:
	groups_result_clear(res);
	return -1;
}

void groups_partition(const deps_graph *g, const groups_result *res, int *part)
{
	int n = g->c->neinsums;
	for (int e = 0; e < n; e++)
		part[e] = -1;
	for (int i = 0; i < res->ngroups; i++) {
		const groups_group *gr = &res->groups[i];
		int free_ = 1;
		for (int e = 0; e < n; e++)
			if (gr->members[e] && part[e] >= 0)
				free_ = 0;
		if (!free_)
			continue;
		for (int e = 0; e < n; e++)
			if (gr->members[e])
				part[e] = i;
	}
}

/* Time is kept out of the JSON so that it is stable. */
cJSON *groups_to_json(const deps_graph *g, const groups_result *res)
{
	const ein_cascade *c = g->c;
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "file", c->file);
	cJSON_AddNumberToObject(root, "checks", res->checked);
	cJSON *arr = cJSON_AddArrayToObject(root, "groups");
	for (int i = 0; i < res->ngroups; i++) {
		const groups_group *gr = &res->groups[i];
		cJSON *o = cJSON_CreateObject();
		cJSON *m = cJSON_AddArrayToObject(o, "einsums");
		for (int e = 0; e < c->neinsums; e++)
			if (gr->members[e])
				cJSON_AddItemToArray(m, cJSON_CreateString(c->einsums[e].name));
		cJSON *bands = cJSON_AddArrayToObject(o, "bands");
		for (int k = 0; k < gr->nbands; k++) {
			cJSON *b = cJSON_CreateArray();
			for (int j = 0; j < gr->bands[k].n; j++)
				cJSON_AddItemToArray(b, cJSON_CreateString(g->ranks[gr->bands[k].rank[j]]));
			cJSON_AddItemToArray(bands, b);
		}
		const char *keys[3] = {"fusible", "parallel", "sequential"};
		uint32_t vals[3] = {gr->fusible, gr->parallel, gr->sequential};
		for (int q = 0; q < 3; q++) {
			cJSON *a = cJSON_AddArrayToObject(o, keys[q]);
			for (int r = 0; r < g->nranks; r++)
				if ((vals[q] >> r) & 1)
					cJSON_AddItemToArray(a, cJSON_CreateString(g->ranks[r]));
		}
		cJSON *halos = cJSON_AddArrayToObject(o, "halos");
		for (int k = 0; k < g->nedges; k++) {
			const deps_edge *ed = &g->edges[k];
			if (!gr->members[ed->producer] || !gr->members[ed->consumer])
				continue;
			for (int d = 0; d < ed->ndist; d++) {
				int64_t w = deps_dist_halo(ed, d);
				if (!w)
					continue;
				cJSON *h = cJSON_CreateObject();
				cJSON_AddStringToObject(h, "tensor", c->tensors[ed->tensor].name);
				cJSON_AddStringToObject(h, "rank", g->ranks[ed->dist[d].rank]);
				cJSON_AddNumberToObject(h, "halo", (double)w);
				cJSON_AddItemToArray(halos, h);
			}
		}
		cJSON *st = cJSON_AddArrayToObject(o, "carried");
		for (int k = 0; k < g->nself; k++)
			if (gr->members[g->self[k].producer])
				cJSON_AddItemToArray(st, cJSON_CreateString(
								 c->tensors[g->self[k].tensor].name));
		cJSON_AddItemToArray(arr, o);
	}
	return root;
}
