/* cmd_deps.c - `mambalaya deps`: the dependence graph with edge classes,
 * passes, halos and sequential ranks. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <isl/union_map.h>

#include "analysis/deps.h"
#include "analysis/poly.h"
#include "cli.h"

static const char usage_text[] =
	"Usage: mambalaya deps FILE [-D NAME=VALUE]... [--json]\n"
	"\n"
	"Computes the exact dataflow dependences between the Einsums of a cascade\n"
	"with isl (parameters fixed to their values) and prints:\n"
	"  - every producer -> consumer edge with its tensor, its class (RI, RSb,\n"
	"    RSp, RD; docs/fusion.md) and the distance along each shared rank;\n"
	"  - recurrences (sequential ranks) and sliding windows (halos);\n"
	"  - tensors read in more than one pass over a rank;\n"
	"  - memory dependences (reduction accumulations) and live-in tensors.\n"
	"\n"
	"Options:\n"
	"  -D NAME=VALUE   override a parameter (repeatable)\n"
	"  --json          print the graph as JSON (schema in docs/fusion.md)\n"
	"  -h, --help      show this help\n";

static void usage(void)
{
	fputs(usage_text, stdout);
}

static void dist_str(const deps_graph *g, const deps_edge *ed, char *buf,
		     size_t len)
{
	size_t w = 0;
	buf[0] = '\0';
	for (int k = 0; k < ed->ndist && w < len; k++) {
		const deps_dist *d = &ed->dist[k];
		if (d->lo == d->hi)
			w += (size_t)snprintf(buf + w, len - w, "%s%s:%" PRId64,
					      w ? " " : "", g->ranks[d->rank], d->lo);
		else
			w += (size_t)snprintf(buf + w, len - w,
					      "%s%s:%" PRId64 "..%" PRId64, w ? " " : "",
					      g->ranks[d->rank], d->lo, d->hi);
	}
}

/* A sliding window: a rank both ends iterate as an output rank, along which
 * one consumer instance needs several producer instances. */
static int edge_halo(const deps_graph *g __attribute__((unused)), const deps_edge *ed, int *rank,
		     int64_t *halo)
{
	for (int k = 0; k < ed->ndist; k++) {
		const deps_dist *d = &ed->dist[k];
		uint32_t bit = 1u << d->rank;
		if ((ed->p_out & bit) && (ed->c_out & bit) && d->hi > d->lo &&
		    d->lo >= 0) {
			*rank = d->rank;
			*halo = d->hi - d->lo;
			return 1;
		}
	}
	return 0;
}

typedef struct count_cb {
	const ein_cascade *c;
	int *per;
} count_cb;

static isl_stat count_map(__isl_take isl_map *m, void *user)
{
	count_cb *cb = user;
	const char *n = isl_map_get_tuple_name(m, isl_dim_in);
	if (n && n[0] == 'S') {
		int e = atoi(n + 1);
		if (e >= 0 && e < cb->c->neinsums)
			cb->per[e] = 1;
	}
	isl_map_free(m);
	return isl_stat_ok;
}

static int live_in_tensors(const deps_graph *g, char *flags)
{
	for (int t = 0; t < g->c->ntensors; t++) {
		const ein_tensor *tt = &g->c->tensors[t];
		flags[t] = (tt->role == EIN_ROLE_INPUT || tt->role == EIN_ROLE_WEIGHT) &&
			   tt->nreaders > 0;
	}
	return 0;
}

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

static int print_json(const deps_graph *g)
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
		if (!edge_halo(g, &g->edges[k], &r, &h))
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
		return -1;
	}
	count_cb cb = {c, per};
	isl_union_map_foreach_map(g->waw, count_map, &cb);
	cJSON *acc = cJSON_AddArrayToObject(root, "accumulations");
	for (int e = 0; e < c->neinsums; e++)
		if (per[e])
			cJSON_AddItemToArray(acc, cJSON_CreateString(c->einsums[e].name));
	free(per);
	char *flags = calloc((size_t)(c->ntensors ? c->ntensors : 1), 1);
	if (!flags) {
		cJSON_Delete(root);
		return -1;
	}
	live_in_tensors(g, flags);
	cJSON *li = cJSON_AddArrayToObject(root, "live_in");
	for (int t = 0; t < c->ntensors; t++)
		if (flags[t])
			cJSON_AddItemToArray(li, cJSON_CreateString(c->tensors[t].name));
	free(flags);
	char *s = cJSON_Print(root);
	cJSON_Delete(root);
	if (!s)
		return -1;
	printf("%s\n", s);
	free(s);
	return 0;
}

static void print_text(const deps_graph *g)
{
	const ein_cascade *c = g->c;
	char a[600], b[600], d[512];
	printf("%s: %d Einsums, %d flow edges, %d recurrences\n", c->file,
	       c->neinsums, g->nedges, g->nself);
	printf("\nedges (producer -> consumer, tensor, class, ranks of each side, "
	       "distance consumer-producer per shared rank):\n");
	for (int k = 0; k < g->nedges; k++) {
		const deps_edge *ed = &g->edges[k];
		char pr[128], cr[128], po[128], co[128];
		deps_rank_list(g, ed->p_out, po, sizeof(po));
		deps_rank_list(g, ed->p_red, pr, sizeof(pr));
		deps_rank_list(g, ed->c_out, co, sizeof(co));
		deps_rank_list(g, ed->c_red, cr, sizeof(cr));
		snprintf(a, sizeof(a), "(%s%s%s)", po, pr[0] ? " | reduces " : "", pr);
		snprintf(b, sizeof(b), "(%s%s%s)", co, cr[0] ? " | reduces " : "", cr);
		dist_str(g, ed, d, sizeof(d));
		printf("  %-6s -> %-6s %-6s %-3s  %s -> %s  %s\n",
		       c->einsums[ed->producer].name, c->einsums[ed->consumer].name,
		       c->tensors[ed->tensor].name, deps_class_name(ed->cls), a, b, d);
	}
	printf("\nsequential ranks (recurrences):\n");
	int any = 0;
	for (int k = 0; k < g->nself; k++) {
		const deps_edge *ed = &g->self[k];
		dist_str(g, ed, d, sizeof(d));
		for (int r = 0; r < g->nranks; r++)
			if (deps_sequential(g, ed->producer, r)) {
				printf("  %s: %s (through %s, distance %s)\n",
				       c->einsums[ed->producer].name, g->ranks[r],
				       c->tensors[ed->tensor].name, d);
				any = 1;
				break;
			}
	}
	if (!any)
		printf("  none\n");
	printf("\nsliding windows (halos):\n");
	any = 0;
	for (int k = 0; k < g->nedges; k++) {
		int r;
		int64_t h;
		if (!edge_halo(g, &g->edges[k], &r, &h))
			continue;
		printf("  %s -> %s via %s: halo %" PRId64 " along %s (a tile of T "
		       "%s-values of %s needs T+%" PRId64 " of %s)\n",
		       c->einsums[g->edges[k].producer].name,
		       c->einsums[g->edges[k].consumer].name,
		       c->tensors[g->edges[k].tensor].name, h, g->ranks[r], g->ranks[r],
		       c->einsums[g->edges[k].consumer].name, h,
		       c->tensors[g->edges[k].tensor].name);
		any = 1;
	}
	if (!any)
		printf("  none\n");
	printf("\nmulti-pass tensors:\n");
	if (!g->npasses)
		printf("  none\n");
	for (int k = 0; k < g->npasses; k++) {
		const deps_pass *p = &g->passes[k];
		printf("  %s: %d passes over %s:", c->tensors[p->tensor].name,
		       p->npasses, g->ranks[p->rank]);
		for (int q = 1; q <= p->npasses; q++) {
			printf(" pass %d (", q);
			int first = 1;
			for (int e = 0; e < c->neinsums; e++)
				if (p->pass_of[e] == q) {
					printf("%s%s", first ? "" : " ", c->einsums[e].name);
					first = 0;
				}
			printf(")%s", q < p->npasses ? "," : "\n");
		}
	}
	int *per = calloc((size_t)(c->neinsums ? c->neinsums : 1), sizeof(int));
	if (per) {
		count_cb cb = {c, per};
		isl_union_map_foreach_map(g->waw, count_map, &cb);
		printf("\nreduction accumulations (write-after-write):");
		any = 0;
		for (int e = 0; e < c->neinsums; e++)
			if (per[e]) {
				printf(" %s", c->einsums[e].name);
				any = 1;
			}
		printf("%s\n", any ? "" : " none");
		free(per);
	}
	char *flags = calloc((size_t)(c->ntensors ? c->ntensors : 1), 1);
	if (flags) {
		live_in_tensors(g, flags);
		printf("live-in tensors:");
		for (int t = 0; t < c->ntensors; t++)
			if (flags[t])
				printf(" %s", c->tensors[t].name);
		printf("\n");
		free(flags);
	}
}

int cmd_deps(int argc, char **argv)
{
	const char *file = NULL;
	int json = 0;
	cli_defines defs = {0};
	for (int i = 1; i < argc;) {
		int r = cli_take_define("deps", argc, argv, &i, &defs);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
			i++;
			continue;
		}
		r = cli_take_rest("deps", usage, argv, &i, &file);
		if (r != CLI_ARG_NEXT)
			return cli_rest_status(r);
	}
	if (!file) {
		cli_usage_error("deps", "no FILE given");
		return CLI_EXIT_USAGE;
	}
	ein_cascade *c;
	isl_ctx *ctx;
	deps_graph *g;
	int status = cli_analyse(file, &defs, &c, &ctx, &g);
	if (status)
		return status;
	if (json) {
		if (print_json(g) < 0) {
			fprintf(stderr, "mambalaya: internal error: out of memory\n");
			status = CLI_EXIT_INTERNAL;
		}
	} else {
		print_text(g);
	}
	cli_analysis_free(c, ctx, g);
	return status;
}
