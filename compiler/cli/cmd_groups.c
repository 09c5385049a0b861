/* cmd_groups.c - `mambalaya groups`: the legal fusion groups of a cascade,
 * as text, JSON or a DOT graph with the groups as clusters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "analysis/deps.h"
#include "analysis/groups.h"
#include "analysis/poly.h"
#include "cli.h"

static const char usage_text[] =
	"Usage: mambalaya groups FILE [-D NAME=VALUE]... [--ranks R1,R2,...]\n"
	"                        [--json | --dot]\n"
	"\n"
	"Enumerates the legal fusion groups of a cascade: connected, convex sets\n"
	"of Einsums that admit a fused band legal for every tile size.  For every\n"
	"band worth trying (the ranks a producer and its consumer share, and\n"
	"their prefixes in rank order), Einsums are merged along the dependence\n"
	"edges in source order while the group stays legal; each distinct group is\n"
	"listed with the maximal bands it is legal on, the ranks it can fuse on\n"
	"alone, and which band ranks are parallel or sequential.\n"
	"\n"
	"Options:\n"
	"  --ranks LIST   try only this band (comma-separated rank names)\n"
	"  --json         print the groups as JSON (docs/fusion.md)\n"
	"  --dot          print a Graphviz graph of the cascade; a partition of\n"
	"                 the Einsums into the largest groups is drawn as clusters\n"
	"  -D NAME=VALUE  override a parameter (repeatable)\n"
	"  -h, --help     show this help\n";

static void usage(void)
{
	fputs(usage_text, stdout);
}

/* The rank names in bits, or "-" for none. */
static void bits_str(const deps_graph *g, uint32_t bits, char *buf, size_t len)
{
	deps_rank_list(g, bits, buf, len);
	if (!buf[0])
		snprintf(buf, len, "-");
}

static void band_str(const deps_graph *g, const groups_band *b, char *buf,
		     size_t len)
{
	size_t w = 0;
	buf[0] = '\0';
	for (int k = 0; k < b->n && w < len; k++)
		w += (size_t)snprintf(buf + w, len - w, "%s%s", k ? "," : "",
				      g->ranks[b->rank[k]]);
}

static void print_text(const deps_graph *g, const groups_result *res,
		       double secs)
{
	const ein_cascade *c = g->c;
	char buf[512];
	printf("%s: %d legal fusion groups (%d legality checks, %.3f s)\n",
	       c->file, res->ngroups, res->checked, secs);
	for (int i = 0; i < res->ngroups; i++) {
		const groups_group *gr = &res->groups[i];
		printf("\n%2d. ", i + 1);
		for (int e = 0; e < c->neinsums; e++)
			if (gr->members[e])
				printf("%s ", c->einsums[e].name);
		printf("\n    bands:");
		for (int k = 0; k < gr->nbands; k++) {
			band_str(g, &gr->bands[k], buf, sizeof(buf));
			printf(" (%s)", buf);
		}
		bits_str(g, gr->fusible, buf, sizeof(buf));
		printf("\n    fusible ranks: %s", buf);
		bits_str(g, gr->parallel, buf, sizeof(buf));
		printf("; parallel: %s", buf);
		bits_str(g, gr->sequential, buf, sizeof(buf));
		printf("; sequential: %s\n", buf);
		for (int k = 0; k < g->nedges; k++) {
			const deps_edge *ed = &g->edges[k];
			if (!gr->members[ed->producer] || !gr->members[ed->consumer])
				continue;
			for (int d = 0; d < ed->ndist; d++)
				if (deps_dist_halo(ed, d))
					printf("    halo: %s %s -> %s, %lld along %s\n",
					       c->tensors[ed->tensor].name,
					       c->einsums[ed->producer].name,
					       c->einsums[ed->consumer].name,
					       (long long)deps_dist_halo(ed, d),
					       g->ranks[ed->dist[d].rank]);
		}
		for (int k = 0; k < g->nself; k++)
			if (gr->members[g->self[k].producer])
				printf("    carried state: %s (recurrence of %s)\n",
				       c->tensors[g->self[k].tensor].name,
				       c->einsums[g->self[k].producer].name);
	}
}

static int print_json(const deps_graph *g, const groups_result *res)
{
	cJSON *j = groups_to_json(g, res);
	char *s = j ? cJSON_Print(j) : NULL;
	cJSON_Delete(j);
	if (!s)
		return -1;
	printf("%s\n", s);
	free(s);
	return 0;
}

static int print_dot(const deps_graph *g, const groups_result *res)
{
	const ein_cascade *c = g->c;
	int n = c->neinsums;
	int *part = malloc((size_t)(n ? n : 1) * sizeof(int));
	if (!part)
		return -1;
	groups_partition(g, res, part);
	char buf[512];
	printf("digraph cascade {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n");
	printf("  edge [fontname=\"Helvetica\", fontsize=10];\n");
	for (int i = 0; i < res->ngroups; i++) {
		int any = 0;
		for (int e = 0; e < n; e++)
			any |= part[e] == i;
		if (!any)
			continue;
		band_str(g, &res->groups[i].bands[0], buf, sizeof(buf));
		printf("  subgraph cluster_%d {\n    label=\"group %d: fused on %s\";\n"
		       "    style=filled; color=\"#dde8f5\";\n",
		       i + 1, i + 1, buf);
		for (int e = 0; e < n; e++)
			if (part[e] == i)
				printf("    e%d;\n", e);
		printf("  }\n");
	}
	for (int e = 0; e < n; e++) {
		uint32_t all = g->out_ranks[e] | g->red_ranks[e];
		char out[256], red[256];
		bits_str(g, g->out_ranks[e], out, sizeof(out));
		bits_str(g, g->red_ranks[e], red, sizeof(red));
		(void)all;
		printf("  e%d [label=\"%s\\n(%s%s%s)\"];\n", e, c->einsums[e].name, out,
		       g->red_ranks[e] ? " | " : "", g->red_ranks[e] ? red : "");
	}
	for (int k = 0; k < g->nedges; k++) {
		const deps_edge *ed = &g->edges[k];
		printf("  e%d -> e%d [label=\"%s %s\"];\n", ed->producer, ed->consumer,
		       c->tensors[ed->tensor].name, deps_class_name(ed->cls));
	}
	for (int k = 0; k < g->nself; k++)
		printf("  e%d -> e%d [label=\"%s (recurrence)\", style=dashed];\n",
		       g->self[k].producer, g->self[k].consumer,
		       c->tensors[g->self[k].tensor].name);
	printf("}\n");
	free(part);
	return 0;
}

int cmd_groups(int argc, char **argv)
{
	const char *file = NULL, *ranks = NULL;
	int json = 0, dot = 0;
	cli_defines defs = {0};
	for (int i = 1; i < argc;) {
		int r = cli_take_define("groups", argc, argv, &i, &defs);
		if (!r)
			r = cli_take_value("groups", "--ranks", argc, argv, &i, &ranks);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "--dot") == 0) {
			json |= argv[i][2] == 'j';
			dot |= argv[i][2] == 'd';
			i++;
			continue;
		}
		r = cli_take_rest("groups", usage, argv, &i, &file);
		if (r != CLI_ARG_NEXT)
			return cli_rest_status(r);
	}
	if (!file) {
		cli_usage_error("groups", "no FILE given");
		return CLI_EXIT_USAGE;
	}
	if (json && dot) {
		cli_usage_error("groups", "--json and --dot exclude each other");
		return CLI_EXIT_USAGE;
	}
	ein_cascade *c;
	isl_ctx *ctx;
	deps_graph *g;
	char err[512];
	groups_result res = {0};
	int status = cli_analyse(file, &defs, &c, &ctx, &g);
	if (status)
		return status;
	groups_band only = {0}, *onlyp = NULL;
	if (ranks) {
		char buf[512];
		snprintf(buf, sizeof(buf), "%s", ranks);
		for (char *p = strtok(buf, ","); p; p = strtok(NULL, ",")) {
			int r = deps_rank(g, p);
			if (r < 0 || only.n == DEPS_MAX_RANKS) {
				cli_usage_error("groups", "no rank named '%s' in this cascade", p);
				status = CLI_EXIT_USAGE;
				goto done;
			}
			only.rank[only.n++] = r;
		}
		onlyp = &only;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (groups_enumerate(g, onlyp, &res, err, sizeof(err)) < 0) {
		fprintf(stderr, "mambalaya: internal error: group enumeration: %s\n", err);
		status = CLI_EXIT_INTERNAL;
		goto done;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) +
		      1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
	int r = json ? print_json(g, &res) : dot ? print_dot(g, &res) : 0;
	if (!json && !dot)
		print_text(g, &res, secs);
	if (r < 0) {
		fprintf(stderr, "mambalaya: internal error: out of memory\n");
		status = CLI_EXIT_INTERNAL;
	}
done:
	groups_result_clear(&res);
	cli_analysis_free(c, ctx, g);
	return status;
}
