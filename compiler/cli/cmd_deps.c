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

static int print_json_text(const deps_graph *g)
{
	cJSON *j = deps_to_json(g);
	char *s = j ? cJSON_Print(j) : NULL;
	cJSON_Delete(j);
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
		if (!deps_edge_halo(&g->edges[k], &r, &h))
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
		deps_accumulations(g, per);
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
		deps_live_in(g, flags);
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
		if (print_json_text(g) < 0) {
			fprintf(stderr, "mambalaya: internal error: out of memory\n");
			status = CLI_EXIT_INTERNAL;
		}
	} else {
		print_text(g);
	}
	cli_analysis_free(c, ctx, g);
	return status;
}
