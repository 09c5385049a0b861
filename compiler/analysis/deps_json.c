/* deps_json.c - the dependence graph as JSON (`deps --json`; the schema is
 * in docs/fusion.md). */
#include "deps.h"

#include <stdlib.h>

#include <cjson/cJSON.h>
#include <isl/map.h>

static cJSON *ranks_json(const deps_graph *g, uint32_t out, uint32_t red)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *a = cJSON_AddArrayToObject(o, "output");
	cJSON *b = cJSON_AddArrayToObject(o, "reduced");
	for (int r = 0; r < g->nranks; r++) {
		if ((out >> r) & 1)
			cJSON_AddItemToArray(a, cJSON_CreateString(g->ranks[r]));
		if ((red >> r) & 1)
			cJSON_AddItemToArray(b, cJSON_CreateString(g->ranks[r]));
	}
	return o;
}

static cJSON *edge_json(const deps_graph *g, const deps_edge *ed)
{
	const ein_cascade *c = g->c;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "producer", c->einsums[ed->producer].name);
	cJSON_AddStringToObject(o, "consumer", c->einsums[ed->consumer].name);
	cJSON_AddStringToObject(o, "tensor", c->tensors[ed->tensor].name);
	cJSON_AddStringToObject(o, "class", deps_class_name(ed->cls));
	cJSON_AddItemToObject(o, "producer_ranks", ranks_json(g, ed->p_out, ed->p_red));
	cJSON_AddItemToObject(o, "consumer_ranks", ranks_json(g, ed->c_out, ed->c_red));
	cJSON *d = cJSON_AddObjectToObject(o, "distances");
	for (int k = 0; k < ed->ndist; k++) {
		cJSON *p = cJSON_CreateArray();
		cJSON_AddItemToArray(p, cJSON_CreateNumber((double)ed->dist[k].lo));
		cJSON_AddItemToArray(p, cJSON_CreateNumber((double)ed->dist[k].hi));
		cJSON_AddItemToObject(d, g->ranks[ed->dist[k].rank], p);
	}
	char *rel = isl_map_to_str(ed->rel);
	cJSON_AddStringToObject(o, "relation", rel ? rel : "");
	free(rel);
	return o;
}

cJSON *deps_to_json(const deps_graph *g)
{
	const ein_cascade *c = g->c;
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "file", c->file);
	cJSON *ranks = cJSON_AddArrayToObject(root, "ranks");
	for (int r = 0; r < g->nranks; r++)
		cJSON_AddItemToArray(ranks, cJSON_CreateString(g->ranks[r]));
	cJSON *edges = cJSON_AddArrayToObject(root, "edges");
	for (int k = 0; k < g->nedges; k++)
		cJSON_AddItemToArray(edges, edge_json(g, &g->edges[k]));
	cJSON *self = cJSON_AddArrayToObject(root, "recurrences");
	for (int k = 0; k < g->nself; k++)
		cJSON_AddItemToArray(self, edge_json(g, &g->self[k]));
	cJSON *seq = cJSON_AddArrayToObject(root, "sequential");
	for (int e = 0; e < c->neinsums; e++)
		for (int r = 0; r < g->nranks; r++)
			if (deps_sequential(g, e, r)) {
				cJSON *o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "einsum", c->einsums[e].name);
				cJSON_AddStringToObject(o, "rank", g->ranks[r]);
				cJSON_AddItemToArray(seq, o);
			}
	cJSON *halos = cJSON_AddArrayToObject(root, "halos");
	for (int k = 0; k < g->nedges; k++) {
		int r;
		int64_t h;
		if (!deps_edge_halo(&g->edges[k], &r, &h))
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "producer", c->einsums[g->edges[k].producer].name);
		cJSON_AddStringToObject(o, "consumer", c->einsums[g->edges[k].consumer].name);
		cJSON_AddStringToObject(o, "tensor", c->tensors[g->edges[k].tensor].name);
		cJSON_AddStringToObject(o, "rank", g->ranks[r]);
		cJSON_AddNumberToObject(o, "halo", (double)h);
		cJSON_AddItemToArray(halos, o);
	}
	cJSON *passes = cJSON_AddArrayToObject(root, "passes");
	for (int k = 0; k < g->npasses; k++) {
		const deps_pass *p = &g->passes[k];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "tensor", c->tensors[p->tensor].name);
		cJSON_AddStringToObject(o, "rank", g->ranks[p->rank]);
		cJSON_AddNumberToObject(o, "passes", p->npasses);
		cJSON *rd = cJSON_AddArrayToObject(o, "readers");
		for (int e = 0; e < c->neinsums; e++)
			if (p->pass_of[e]) {
				cJSON *x = cJSON_CreateObject();
				cJSON_AddStringToObject(x, "einsum", c->einsums[e].name);
				cJSON_AddNumberToObject(x, "pass", p->pass_of[e]);
				cJSON_AddItemToArray(rd, x);
			}
		cJSON_AddItemToArray(passes, o);
	}
	int *per = calloc((size_t)(c->neinsums ? c->neinsums : 1), sizeof(int));
	if (!per) {
		cJSON_Delete(root);
		return NULL;
	}
	deps_accumulations(g, per);
	cJSON *acc = cJSON_AddArrayToObject(root, "accumulations");
	for (int e = 0; e < c->neinsums; e++)
		if (per[e])
			cJSON_AddItemToArray(acc, cJSON_CreateString(c->einsums[e].name));
	free(per);
	char *flags = calloc((size_t)(c->ntensors ? c->ntensors : 1), 1);
	if (!flags) {
		cJSON_Delete(root);
		return NULL;
	}
	deps_live_in(g, flags);
	cJSON *li = cJSON_AddArrayToObject(root, "live_in");
	for (int t = 0; t < c->ntensors; t++)
		if (flags[t])
			cJSON_AddItemToArray(li, cJSON_CreateString(c->tensors[t].name));
	free(flags);
	return root;
}
