/* cmd_plan.c - `mambalaya plan`: map a cascade onto a target and say what
 * it costs (text, JSON, CSV or DOT), or re-cost a saved plan. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "analysis/deps.h"
#include "analysis/poly.h"
#include "base/diag.h"
#include "base/sbuf.h"
#include "base/units.h"
#include "cli.h"
#include "front/check.h"
#include "mapping/cost.h"
#include "mapping/explain.h"
#include "mapping/mapper.h"
#include "mapping/plan.h"
#include "mapping/target.h"

static const char usage[] =
	"Usage: mambalaya plan FILE [--arch NAME|FILE] [--buffer SIZE]\n"
	"                      [--policy POLICY] [-D NAME=VALUE]...\n"
	"                      [--time-budget SECONDS] [--plan PLAN.json] [--rank N]\n"
	"                      [--json | --csv | --dot]\n"
	"       mambalaya plan --dump-arch NAME|FILE\n"
	"\n"
	"Maps a cascade onto an accelerator: chooses fusion groups, fused ranks,\n"
	"loop order and tile sizes, binds every Einsum to the 2D or the 1D array,\n"
	"decides what stays in the buffer, and reports per group and in total the\n"
	"compute cycles, DRAM traffic, latency and utilisations of the analytical\n"
	"model (docs/cost-model.md).  The policies differ only in the groups the\n"
	"search may use:\n"
	"  unfused   every Einsum alone (MARCA-style)\n"
	"  ssm-ri    fusion inside the SSM region only (the fine-grained fusion\n"
	"            accelerator)\n"
	"  full      any legal grouping (the default)\n"
	"  recompute full, and full on the cascade rewritten so that a later\n"
	"            group recomputes a tensor from what is in DRAM instead of\n"
	"            reading it back (recompute fusion, docs/fusion.md): the\n"
	"            faster; never slower than full, and slower to search\n"
	"  all       unfused, ssm-ri and full, and the latency ratios of full\n"
	"            over the others\n"
	"\n"
	"Options:\n"
	"  --arch NAME|FILE     target: a built-in (mambalaya, the default, or\n"
	"                       marca-geens) or a JSON file (docs/target.md)\n"
	"  --buffer SIZE        override the target's buffer (bytes; K, M, G\n"
	"                       suffixes are powers of 1024), for sweeps\n"
	"  --policy POLICY      unfused, ssm-ri, full (the default), recompute\n"
	"                       or all\n"
	"  -D NAME=VALUE        override a parameter (repeatable)\n"
	"  --time-budget SECS   stop the search after SECS seconds and return the\n"
	"                       best plan found so far (the output says so)\n"
	"  --rank N             the N-th best plan of the search instead of the\n"
	"                       best (distinct partitions into groups, each group\n"
	"                       at its best mapping; 1 to 20), to measure the\n"
	"                       model's choice against its runners-up\n"
	"  --plan PLAN.json     do not search: read a plan saved with --json,\n"
	"                       check it, and cost it on the target (by default\n"
	"                       the plan's own target if it is a built-in)\n"
	"  --json               the whole plan as JSON (docs/plan.md); with\n"
	"                       --policy all, the three plans and the ratios\n"
	"  --csv                one row per Einsum: einsum, fusion_group,\n"
	"                       total_traffic, final_latency, mem_latency,\n"
	"                       comp_latency, compute_util, mem_util\n"
	"  --dot                a Graphviz graph with the groups as clusters\n"
	"  --explain            with --policy all (implied): why the ratios are what\n"
	"                       they are: each policy's time split by bound, the\n"
	"                       DRAM traffic by tensor, and the ratios again with\n"
	"                       each value of the target halved or doubled, with\n"
	"                       its source or assumption (docs/results.md)\n"
	"  --no-timing          report the search time as 0 (reproducible output)\n"
	"  --dump-arch NAME|FILE  print a target as JSON and exit\n"
	"  -h, --help           show this help\n"
	"\n"
	"Exit status: 0 success, 1 errors in the input (cascade, target or plan\n"
	"file), 2 bad command line, 3 internal error.\n";

typedef enum out_fmt { OUT_TEXT, OUT_JSON, OUT_CSV, OUT_DOT } out_fmt;

/* ---- Printing ----------------------------------------------------------- */

static const char *role_str(int role)
{
	return role >= 0 && role <= FUSION_OUT ? fusion_role_name((fusion_role)role) : "?";
}

/* The memory levels below DRAM (the totals line has DRAM): traffic and
 * the share of the latency each is busy. */
static void print_levels(const plan *p)
{
	const plan_cost *c = &p->total;
	for (int l = 1; l < c->nlevels && l < PLAN_MAX_LEVELS; l++) {
		char r[32], w[32];
		units_bytes(c->level_read_bytes[l], r, sizeof(r));
		units_bytes(c->level_write_bytes[l], w, sizeof(w));
		printf("level %s: read %s, written %s; busy %.1f%% of the latency\n",
		       plan_level_name(p, l), r, w,
		       c->cycles > 0 ? 100 * c->level_cycles[l] / c->cycles : 0);
	}
	if (c->overhead_cycles > 0)
		printf("per-tile overheads: %.6g cycles\n", c->overhead_cycles);
}

static void print_text(const plan *p, const ein_cascade *c, const target *t,
		       const char *plan_file)
{
	char b1[64], b2[64], b3[64];
	double hz = t->clock_ghz * 1e9;
	units_time(p->latency_seconds, b1, sizeof(b1));
	units_bytes(p->total.dram_bytes, b2, sizeof(b2));
	printf("%s on %s, policy %s: %d group%s, latency %s, DRAM %s\n", p->file,
	       t->name, p->policy, p->ngroups, p->ngroups == 1 ? "" : "s", b1, b2);
	units_mib((double)t->buffer_bytes, b1, sizeof(b1));
	if (t->kind == TARGET_CPU) {
		const target_cpu *cpu = &t->cpu;
		printf("target: CPU, %lld threads, %lld-byte vectors, caches", (long long)cpu->threads,
		       (long long)cpu->simd_bytes);
		for (int i = 0; i < cpu->ncaches; i++) {
			units_mib((double)cpu->caches[i].bytes, b2, sizeof(b2));
			printf("%s L%lld %s", i ? "," : "", (long long)cpu->caches[i].level, b2);
		}
		if (cpu->gemm_nsides >= 2)
			printf(" (%s buffer), BLAS by shape (measured, sides %g to %g: %.4g GFLOP/s "
			       "at the largest), %g GB/s",
			       b1, cpu->gemm_sides[0], cpu->gemm_sides[cpu->gemm_nsides - 1],
			       target_gemm_gflops(cpu, 1e9, 1e9, 1e9), t->dram_gb_per_s);
		else
			printf(" (%s buffer), BLAS %.4g GFLOP/s (half rate at %g), %g GB/s", b1,
			       cpu->gemm_gflops, cpu->gemm_half_dim, t->dram_gb_per_s);
		if (cpu->dram_write_gb_per_s > 0)
			printf(" (%g writing)", cpu->dram_write_gb_per_s);
		printf("\n");
	} else {
		printf("target: %lldx%lld 2D array%s, %lld-lane 1D array, %s, %s buffer, "
		       "%g GB/s, %g GHz, %d-byte values\n",
		       (long long)t->rows, (long long)t->cols, t->cores > 1 ? " per core" : "",
		       (long long)t->lanes,
		       t->concurrent ? "running concurrently" : "one array switching modes",
		       b1, t->dram_gb_per_s, t->clock_ghz, t->bytes_per_value);
		if (t->cores > 1)
			printf("        %lld cores\n", (long long)t->cores);
	}
	if (plan_file)
		printf("plan read from %s, costed on this target\n", plan_file);
	if (strcmp(p->policy, "user") != 0 && p->groups_considered > 0)
		printf("%s: %lld candidate groups, %lld mappings costed, %.3f s%s\n",
		       plan_file ? "search that made it" : "search",
		       (long long)p->groups_considered, (long long)p->candidates,
		       p->search_seconds,
		       p->complete ? "" : " (stopped by the time budget: best found so far)");
	printf("footprints: %d tile footprints counted with isl, %d differed from "
	       "the model's boxes\n", p->footprints_checked, p->footprints_differed);
	for (int i = 0; i < p->nrecompute; i++) {
		const plan_recompute *rc = &p->recompute[i];
		printf("recompute: %s for", rc->tensor);
		for (int k = 0; k < rc->nreaders; k++)
			printf(" %s", rc->readers[k]);
		printf(", as %s made again by", rc->copy);
		for (int k = 0; k < rc->nchain; k++)
			printf(" %s", rc->chain[k]);
		printf("\n");
	}
	c = plan_cascade(p, c);
	for (int i = 0; i < p->ngroups; i++) {
		const plan_group *g = &p->groups[i];
		printf("\ngroup %d:", i);
		for (int k = 0; k < g->nmembers; k++)
			printf(" %s", c->einsums[g->members[k].einsum].name);
		printf("\n  fused ranks:");
		if (!g->nband)
			printf(" none (one tile)");
		for (int k = 0; k < g->nband; k++)
			printf(" %s=%lld", g->band[k], (long long)g->tile[k]);
		printf(" (%.6g tile%s)%s\n", g->ntiles, g->ntiles == 1 ? "" : "s",
		       g->fits ? "" : "  DOES NOT FIT THE BUFFER");
		units_bytes(g->cost.dram_bytes, b1, sizeof(b1));
		units_mib(g->cost.buffer_bytes, b2, sizeof(b2));
		units_time(g->cost.cycles / hz, b3, sizeof(b3));
		printf("  latency %.6g cycles (%s): compute %.6g, memory %.6g", g->cost.cycles, b3,
		       g->cost.comp_cycles, g->cost.mem_cycles);
		if (g->cost.cache_cycles > 0)
			printf(", outermost cache %.6g", g->cost.cache_cycles);
		printf("; DRAM %s; buffer %s\n", b1, b2);
		printf("  utilisation: 2D %.1f%%, 1D %.1f%%, DRAM %.1f%%\n",
		       100 * g->cost.util_2d, 100 * g->cost.util_1d, 100 * g->cost.mem_util);
		printf("  %-8s %-4s %14s %14s %12s %7s\n", "einsum", "unit", "comp cycles",
		       "share cycles", "DRAM bytes", "util");
		for (int k = 0; k < g->nmembers; k++) {
			const plan_member *mb = &g->members[k];
			double u = mb->unit == PLAN_UNIT_2D ? mb->cost.util_2d : mb->cost.util_1d;
			printf("  %-8s %-4s %14.6g %14.6g %12.4g %6.1f%%\n",
			       c->einsums[mb->einsum].name, cost_unit_name(mb->unit),
			       mb->cost.comp_cycles, mb->cost.cycles, mb->cost.dram_bytes,
			       100 * u);
		}
		printf("  %-8s %-8s %5s %-9s %12s %12s %12s\n", "tensor", "role", "level",
		       "multipass", "tile elems", "buffer B", "DRAM B");
		for (int k = 0; k < g->ntensors; k++) {
			const plan_tensor *tt = &g->tensors[k];
			printf("  %-8s %-8s %5d %-9s %12.6g %12.6g %12.6g\n",
			       c->tensors[tt->tensor].name, role_str(tt->role), tt->level,
			       tt->multipass >= 0 ? cost_multipass_name((plan_multipass)tt->multipass)
						  : "none",
			       tt->tile_elems, tt->buffer_bytes, tt->dram_bytes);
		}
	}
	units_time(p->latency_seconds, b1, sizeof(b1));
	units_bytes(p->total.dram_bytes, b2, sizeof(b2));
	units_mib(p->total.buffer_bytes, b3, sizeof(b3));
	printf("\ntotal: latency %.6g cycles (%s); compute %.6g cycles (2D %.6g, 1D %.6g), "
	       "memory %.6g cycles; DRAM %s; peak buffer %s\n",
	       p->total.cycles, b1, p->total.comp_cycles, p->total.comp_cycles_2d,
	       p->total.comp_cycles_1d, p->total.mem_cycles, b2, b3);
	printf("utilisation (time-weighted): 2D %.1f%%, 1D %.1f%%, DRAM %.1f%%\n",
	       100 * p->total.util_2d, 100 * p->total.util_1d, 100 * p->total.mem_util);
	print_levels(p);
}

static void print_csv(const plan *p, const ein_cascade *c, const target *t)
{
	c = plan_cascade(p, c);
	double hz = t->clock_ghz * 1e9;
	printf("einsum,fusion_group,total_traffic,final_latency,mem_latency,"
	       "comp_latency,compute_util,mem_util\n");
	for (int i = 0; i < p->ngroups; i++)
		for (int k = 0; k < p->groups[i].nmembers; k++) {
			const plan_member *mb = &p->groups[i].members[k];
			double u = mb->unit == PLAN_UNIT_2D ? mb->cost.util_2d : mb->cost.util_1d;
			printf("%s,%d,%.0f,%.6g,%.6g,%.6g,%.6g,%.6g\n",
			       c->einsums[mb->einsum].name, i, mb->cost.dram_bytes,
			       mb->cost.cycles / hz, mb->cost.mem_cycles / hz,
			       mb->cost.comp_cycles / hz, u, mb->cost.mem_util);
		}
}

static void print_dot(const plan *p, const deps_graph *g, const target *t)
{
	const ein_cascade *c = g->c;
	double hz = t->clock_ghz * 1e9;
	char b1[64], b2[64];
	printf("digraph plan {\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n");
	for (int i = 0; i < p->ngroups; i++) {
		const plan_group *gr = &p->groups[i];
		units_time(gr->cost.cycles / hz, b1, sizeof(b1));
		units_bytes(gr->cost.dram_bytes, b2, sizeof(b2));
		printf("  subgraph cluster_%d {\n    label=\"group %d:", i, i);
		for (int k = 0; k < gr->nband; k++)
			printf(" %s=%lld", gr->band[k], (long long)gr->tile[k]);
		printf(" | %s, %s\";\n    style=rounded;\n", b1, b2);
		for (int k = 0; k < gr->nmembers; k++) {
			const plan_member *mb = &gr->members[k];
			printf("    e%d [label=\"%s\\n%s\"%s];\n", mb->einsum,
			       c->einsums[mb->einsum].name, cost_unit_name(mb->unit),
			       mb->unit == PLAN_UNIT_2D ? ", style=filled, fillcolor=lightblue" : "");
		}
		printf("  }\n");
	}
	for (int k = 0; k < g->nedges; k++) {
		const deps_edge *ed = &g->edges[k];
		printf("  e%d -> e%d [label=\"%s\"];\n", ed->producer, ed->consumer,
		       c->tensors[ed->tensor].name);
	}
	printf("}\n");
}

static int print_json(const plan *p, const ein_cascade *c)
{
	cJSON *j = plan_to_json(p, c);
	char *s = j ? cJSON_Print(j) : NULL;
	cJSON_Delete(j);
	if (!s)
		return -1;
	printf("%s\n", s);
	free(s);
	return 0;
}

static int dump_arch(const char *arch)
{
	int status = CLI_EXIT_OK;
	target *t = cli_target("plan", arch, &status);
	if (!t)
		return status;
	cJSON *j = target_to_json(t);
	char *s = j ? cJSON_Print(j) : NULL;
	cJSON_Delete(j);
	target_free(t);
	if (!s) {
		fprintf(stderr, "mambalaya: internal error: out of memory\n");
		return CLI_EXIT_INTERNAL;
	}
	printf("%s\n", s);
	free(s);
	return CLI_EXIT_OK;
}

/* Reads and checks a saved plan for cascade c.  NULL with a message on
 * stderr (status set) on failure. */
static plan *read_plan(const char *path, const ein_cascade *c, int *status)
{
	char err[1024];
	cJSON *j = cli_read_json(path, CHECK_MAX_SOURCE_BYTES);
	if (!j) {
		*status = CLI_EXIT_USER;
		return NULL;
	}
	plan *p = plan_from_json(j, c, err, sizeof(err));
	cJSON_Delete(j);
	if (!p) {
		fprintf(stderr, "%s: error: %s\n", path, err);
		*status = CLI_EXIT_USER;
	}
	return p;
}

/* --policy all: the three plans of one analysis, and the ratios. */
static int run_all(const cost_model *m, const ein_cascade *c, const target *t,
		   double budget, int json, int no_timing, int explain_it)
{
	plan *ps[3] = {NULL, NULL, NULL};
	explain *ex = NULL;
	sbuf why = {0};
	char err[1024];
	int status = CLI_EXIT_OK;
	for (int k = 0; k < 3; k++) {
		mapper_opts o = {(mapper_policy)k, budget, 1};
		ps[k] = mapper_run(m, &o, err, sizeof(err));
		if (!ps[k]) {
			fprintf(stderr, "mambalaya: internal error: mapper: %s\n", err);
			status = CLI_EXIT_INTERNAL;
			goto done;
		}
		if (no_timing)
			ps[k]->search_seconds = 0;
		if (!ps[k]->complete)
			fprintf(stderr, "mambalaya plan: warning: the time budget (%g s) "
					"stopped the %s search\n", budget, mapper_policy_names[k]);
	}
	if (explain_it && !(ex = explain_build(m, ps, budget, err, sizeof(err)))) {
		fprintf(stderr, "mambalaya: internal error: explain: %s\n", err);
		status = CLI_EXIT_INTERNAL;
		goto done;
	}
	double full = ps[MAPPER_FULL]->latency_seconds;
	double r_unf = full > 0 ? ps[MAPPER_UNFUSED]->latency_seconds / full : 0;
	double r_ssm = full > 0 ? ps[MAPPER_SSM_RI]->latency_seconds / full : 0;
	if (json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "file", c->file ? c->file : "");
		cJSON_AddStringToObject(j, "arch", t->name);
		cJSON *pa = cJSON_AddObjectToObject(j, "params");
		for (int k = 0; k < c->nparams; k++)
			cJSON_AddNumberToObject(pa, c->params[k].name, (double)c->params[k].value);
		cJSON *sp = cJSON_AddObjectToObject(j, "speedup");
		cJSON_AddNumberToObject(sp, "full_over_unfused", r_unf);
		cJSON_AddNumberToObject(sp, "full_over_ssm_ri", r_ssm);
		cJSON *pl = cJSON_AddObjectToObject(j, "plans");
		for (int k = 0; k < 3; k++)
			cJSON_AddItemToObject(pl, mapper_policy_names[k], plan_to_json(ps[k], c));
		if (ex)
			cJSON_AddItemToObject(j, "explain", explain_to_json(ex, c));
		char *s = cJSON_Print(j);
		cJSON_Delete(j);
		if (!s) {
			fprintf(stderr, "mambalaya: internal error: out of memory\n");
			status = CLI_EXIT_INTERNAL;
			goto done;
		}
		printf("%s\n", s);
		free(s);
		goto done;
	}
	printf("%s on %s: the three policies\n", c->file, t->name);
	printf("  %-8s %7s %14s %12s %12s %9s %8s\n", "policy", "groups", "latency",
	       "DRAM", "peak buffer", "2D util", "search");
	for (int k = 0; k < 3; k++) {
		char b1[64], b2[64], b3[64];
		units_time(ps[k]->latency_seconds, b1, sizeof(b1));
		units_bytes(ps[k]->total.dram_bytes, b2, sizeof(b2));
		units_mib(ps[k]->total.buffer_bytes, b3, sizeof(b3));
		printf("  %-8s %7d %14s %12s %12s %8.1f%% %7.3fs\n", mapper_policy_names[k],
		       ps[k]->ngroups, b1, b2, b3, 100 * ps[k]->total.util_2d,
		       ps[k]->search_seconds);
	}
	printf("latency of full: %.3gx faster than unfused, %.3gx faster than ssm-ri\n",
	       r_unf, r_ssm);
	if (ex) {
		explain_text(ex, c, &why);
		if (why.oom) {
			fprintf(stderr, "mambalaya: internal error: out of memory\n");
			status = CLI_EXIT_INTERNAL;
			goto done;
		}
		fputs(why.p, stdout);
	}
done:
	sbuf_free(&why);
	explain_free(ex);
	for (int k = 0; k < 3; k++)
		plan_free(ps[k]);
	return status;
}

/* The command line of `plan`. */
typedef struct plan_args {
	const char *file, *arch, *policy, *plan_file;
	const char *budget_s, *dump, *buffer_s, *rank_s;
	out_fmt fmt;
	int nfmt, no_timing, explain;
	cli_defines defs;
	/* From the strings above (check_args). */
	int all, pol, rank;
	int64_t buffer;
	double budget;
} plan_args;

/* Returns 0, 1 after --help, or -1 after a usage error. */
static int parse_args(int argc, char **argv, plan_args *a)
{
	for (int i = 1; i < argc;) {
		int r = cli_take_define("plan", argc, argv, &i, &a->defs);
		if (!r)
			r = cli_take_value("plan", "--arch", argc, argv, &i, &a->arch);
		if (!r)
			r = cli_take_value("plan", "--policy", argc, argv, &i, &a->policy);
		if (!r)
			r = cli_take_value("plan", "--plan", argc, argv, &i, &a->plan_file);
		if (!r)
			r = cli_take_value("plan", "--time-budget", argc, argv, &i, &a->budget_s);
		if (!r)
			r = cli_take_value("plan", "--dump-arch", argc, argv, &i, &a->dump);
		if (!r)
			r = cli_take_value("plan", "--buffer", argc, argv, &i, &a->buffer_s);
		if (!r)
			r = cli_take_value("plan", "--rank", argc, argv, &i, &a->rank_s);
		if (r < 0)
			return -1;
		if (r)
			continue;
		const char *x = argv[i];
		if (strcmp(x, "-h") == 0 || strcmp(x, "--help") == 0) {
			fputs(usage, stdout);
			return 1;
		} else if (strcmp(x, "--json") == 0) {
			a->fmt = OUT_JSON;
			a->nfmt++;
		} else if (strcmp(x, "--csv") == 0) {
			a->fmt = OUT_CSV;
			a->nfmt++;
		} else if (strcmp(x, "--dot") == 0) {
			a->fmt = OUT_DOT;
			a->nfmt++;
		} else if (strcmp(x, "--no-timing") == 0) {
			a->no_timing = 1;
		} else if (strcmp(x, "--explain") == 0) {
			a->explain = 1;
		} else if (x[0] == '-' && x[1]) {
			cli_usage_error("plan", "unknown option '%s'", x);
			return -1;
		} else if (a->file) {
			cli_usage_error("plan", "only one FILE may be given");
			return -1;
		} else {
			a->file = x;
		}
		i++;
	}
	return 0;
}

/* Checks the options' combinations and values.  Returns 0 or -1 after a
 * usage error. */
static int check_args(plan_args *a)
{
	if (!a->file) {
		cli_usage_error("plan", "FILE is required");
		return -1;
	}
	if (a->nfmt > 1) {
		cli_usage_error("plan", "--json, --csv and --dot exclude each other");
		return -1;
	}
	if (a->explain && !a->policy)
		a->policy = "all";
	if (!a->policy)
		a->policy = "full";
	if (a->explain && strcmp(a->policy, "all") != 0) {
		cli_usage_error("plan", "--explain compares the policies: it takes --policy all "
					"(or no --policy), not '%s'", a->policy);
		return -1;
	}
	a->all = strcmp(a->policy, "all") == 0;
	a->pol = a->all ? MAPPER_FULL : mapper_policy_from_name(a->policy);
	if (a->pol < 0) {
		cli_usage_error("plan", "unknown policy '%s' (valid: unfused, ssm-ri, full, recompute, all)",
				a->policy);
		return -1;
	}
	if (a->all && (a->fmt == OUT_CSV || a->fmt == OUT_DOT || a->plan_file)) {
		cli_usage_error("plan", "--policy all prints text or --json, and does not "
					"take --plan");
		return -1;
	}
	if (a->buffer_s && (units_parse_size(a->buffer_s, &a->buffer) < 0 || a->buffer < 1)) {
		cli_usage_error("plan", "--buffer needs a positive size such as 16M, not '%s'",
				a->buffer_s);
		return -1;
	}
	a->rank = 1;
	if (a->rank_s) {
		char *end;
		errno = 0;
		long r = strtol(a->rank_s, &end, 10);
		if (errno || end == a->rank_s || *end || r < 1 || r > 20) {
			cli_usage_error("plan", "--rank needs a number from 1 to 20, not '%s'",
					a->rank_s);
			return -1;
		}
		if (a->all || a->plan_file) {
			cli_usage_error("plan", "--rank picks one policy's plan: it does not go "
						"with --policy all or --plan");
			return -1;
		}
		a->rank = (int)r;
	}
	if (a->budget_s) {
		char *end;
		errno = 0;
		a->budget = strtod(a->budget_s, &end);
		if (errno || end == a->budget_s || *end || !(a->budget > 0) ||
		    !isfinite(a->budget)) {
			cli_usage_error("plan", "--time-budget needs a positive number of "
						"seconds, not '%s'", a->budget_s);
			return -1;
		}
	}
	return 0;
}

/* The target: --arch, else a --plan file's own built-in target, else the
 * default.  Returns it, or NULL with *status set. */
static target *choose_target(const plan_args *a, target *t, const plan *p, int *status)
{
	if (!t) {
		const char *name = p && p->arch && target_is_builtin(p->arch) ? p->arch : "mambalaya";
		if (!(t = cli_target("plan", name, status)))
			return NULL;
	}
	if (a->buffer)
		target_set_buffer(t, a->buffer);
	return t;
}

/* The plan: the --plan file checked and costed, or the mapper's.  Returns
 * it, or NULL with *status set. */
static plan *make_plan(const plan_args *a, cost_model *m, const deps_graph *g, plan *p,
		       int *status)
{
	char err[1024];
	if (p) {
		if (plan_validate(p, g, err, sizeof(err)) < 0 ||
		    mapper_evaluate(m, p, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: error: %s\n", a->plan_file, err);
			*status = CLI_EXIT_USER;
			plan_free(p);
			return NULL;
		}
		return p;
	}
	mapper_opts o = {(mapper_policy)a->pol, a->budget, a->rank};
	p = mapper_run(m, &o, err, sizeof(err));
	if (!p && strncmp(err, MAPPER_FEWER_PLANS, strlen(MAPPER_FEWER_PLANS)) == 0) {
		fprintf(stderr, "mambalaya plan: error: --rank %d: %s\n", a->rank, err);
		*status = CLI_EXIT_USER;
		return NULL;
	}
	if (!p) {
		fprintf(stderr, "mambalaya: internal error: mapper: %s\n", err);
		*status = CLI_EXIT_INTERNAL;
		return NULL;
	}
	if (!p->complete)
		fprintf(stderr, "mambalaya plan: warning: the time budget (%g s) "
				"stopped the search; the plan is the best found so "
				"far\n", a->budget);
	return p;
}

/* Prints p in the chosen format; returns the exit status. */
static int print_plan(const plan_args *a, plan *p, const ein_cascade *c, const deps_graph *g,
		      const target *t)
{
	if (a->no_timing)
		p->search_seconds = 0;
	switch (a->fmt) {
	case OUT_JSON:
		if (print_json(p, c) < 0) {
			fprintf(stderr, "mambalaya: internal error: out of memory\n");
			return CLI_EXIT_INTERNAL;
		}
		break;
	case OUT_CSV:
		print_csv(p, c, t);
		break;
	case OUT_DOT:
		if (g->c != plan_cascade(p, c)) {
			/* A plan of the rewritten cascade: its own edges. */
			char err[512];
			deps_graph *rg = deps_build(g->ctx, plan_cascade(p, c), err, sizeof(err));
			if (!rg) {
				fprintf(stderr, "mambalaya: internal error: dependence analysis: %s\n", err);
				return CLI_EXIT_INTERNAL;
			}
			print_dot(p, rg, t);
			deps_free(rg);
		} else {
			print_dot(p, g, t);
		}
		break;
	default:
		print_text(p, c, t, a->plan_file);
		if (a->rank > 1)
			printf("rank: plan %d of the search's best (--rank), not the best\n",
			       a->rank);
	}
	return CLI_EXIT_OK;
}

int cmd_plan(int argc, char **argv)
{
	plan_args a = {0};
	a.fmt = OUT_TEXT;
	int r = parse_args(argc, argv, &a);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (a.dump)
		return dump_arch(a.dump);
	if (check_args(&a) < 0)
		return CLI_EXIT_USAGE;
	int status = CLI_EXIT_OK;
	ein_cascade *c = NULL;
	isl_ctx *ctx = NULL;
	deps_graph *g = NULL;
	target *t = NULL;
	cost_model *m = NULL;
	plan *p = NULL;
	char err[1024];
	/* An unknown target name is a usage error: check it before the
	 * (slower) analysis. */
	if (a.arch && !(t = cli_target("plan", a.arch, &status)))
		return status;
	c = cli_load(a.file, &a.defs, &status);
	if (!c)
		goto done;
	if (a.plan_file && !(p = read_plan(a.plan_file, c, &status)))
		goto done;
	if (!(t = choose_target(&a, t, p, &status)))
		goto done;
	ctx = poly_ctx_new();
	if (!ctx) {
		fprintf(stderr, "mambalaya: internal error: out of memory\n");
		status = CLI_EXIT_INTERNAL;
		goto done;
	}
	/* A saved plan with recompute rewrites is costed on the rewritten
	 * cascade. */
	g = deps_build(ctx, plan_cascade(p, c), err, sizeof(err));
	if (!g) {
		fprintf(stderr, "mambalaya: internal error: dependence analysis: %s\n", err);
		status = CLI_EXIT_INTERNAL;
		goto done;
	}
	m = cost_model_new(g, t, err, sizeof(err));
	if (!m) {
		fprintf(stderr, "mambalaya: internal error: cost model: %s\n", err);
		status = CLI_EXIT_INTERNAL;
		goto done;
	}
	if (a.all) {
		status = run_all(m, c, t, a.budget, a.fmt == OUT_JSON, a.no_timing, a.explain);
		goto done;
	}
	p = make_plan(&a, m, g, p, &status);
	if (p)
		status = print_plan(&a, p, c, g, t);
done:
	plan_free(p);
	cost_model_free(m);
	deps_free(g);
	if (ctx)
		isl_ctx_free(ctx);
	target_free(t);
	ein_cascade_free(c);
	return status;
}
