/* cmd_report.c - `mambalaya report`: the plan of a cascade as one
 * self-contained HTML page (report/report.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isl/ctx.h>

#include "analysis/deps.h"
#include "base/fsio.h"
#include "base/units.h"
#include "cli.h"
#include "eval/eval.h"
#include "mapping/mapper.h"
#include "ml_npy.h"
#include "progress.h"
#include "report/report.h"

static void usage(void)
{
	printf("Usage: mambalaya report FILE -o REPORT.html [-D NAME=VALUE]...\n"
	       "                        [--arch NAME|FILE] [--policy POLICY] [--buffer SIZE]\n"
	       "                        [--sweep N] [--sim DIR | --random SEED] [--quiet]\n"
	       "\n"
	       "Maps a cascade as `plan` does and writes one self-contained HTML page\n"
	       "(inline SVG and a little script; nothing is fetched) that shows where\n"
	       "the plan's time and traffic go:\n"
	       "  - the cascade as a graph, its Einsums coloured by fusion group;\n"
	       "  - per group: latency split into compute and memory, DRAM traffic by\n"
	       "    tensor (read in, written out, internal, spilled), unit utilisation;\n"
	       "  - a roofline of every Einsum;\n"
	       "  - the three policies side by side;\n"
	       "  - the buffer sweep: latency and traffic of each policy as the\n"
	       "    global buffer is halved and doubled;\n"
	       "  - with --sim or --random: the simulator's run of the plan's stream,\n"
	       "    its timeline per unit and the buffer's occupancy over time.\n"
	       "Hovering a shape shows its figures.\n"
	       "\n"
	       "Options:\n"
	       "  -o, --output FILE  the page (required; written whole or not at all)\n"
	       "  -D NAME=VALUE      override a parameter (repeatable)\n"
	       "  --arch NAME|FILE   target: a built-in (mambalaya, the default, or\n"
	       "                     marca-geens) or a JSON file (docs/target.md)\n"
	       "  --policy POLICY    the plan the page is about: unfused, ssm-ri or\n"
	       "                     full (the default); all three are compared\n"
	       "  --buffer SIZE      override the target's buffer (K, M, G suffixes)\n"
	       "  --sweep N          sweep the buffer from 2^-N to 2^N times its size\n"
	       "                     (default 3; 0: no sweep)\n"
	       "  --sim DIR          simulate on DIR/NAME.npy (every input and weight,\n"
	       "                     float32, exactly its shape)\n"
	       "  --random SEED      simulate on inputs drawn as eval --random draws them\n"
	       "  --time-budget SECS stop each mapper search after SECS seconds\n"
	       "  --quiet            no progress line\n"
	       "  -h, --help         show this help\n"
	       "\n"
	       "Exit status: 0 success, 1 errors in the input, 2 bad command line,\n"
	       "3 internal error.\n");
}

typedef struct report_args {
	const char *file, *out, *arch, *policy, *buffer_s, *sweep_s, *sim_dir, *seed_s, *budget_s;
	cli_defines defs;
	int quiet;
	report_options o;
	int64_t buffer;
	uint64_t seed;
} report_args;

static int parse_args(int argc, char **argv, report_args *a)
{
	for (int i = 1; i < argc;) {
		int r = cli_take_define("report", argc, argv, &i, &a->defs);
		if (!r)
			r = cli_take_value("report", "--output", argc, argv, &i, &a->out);
		if (!r)
			r = cli_take_value("report", "-o", argc, argv, &i, &a->out);
		if (!r)
			r = cli_take_value("report", "--arch", argc, argv, &i, &a->arch);
		if (!r)
			r = cli_take_value("report", "--policy", argc, argv, &i, &a->policy);
		if (!r)
			r = cli_take_value("report", "--buffer", argc, argv, &i, &a->buffer_s);
		if (!r)
			r = cli_take_value("report", "--sweep", argc, argv, &i, &a->sweep_s);
		if (!r)
			r = cli_take_value("report", "--sim", argc, argv, &i, &a->sim_dir);
		if (!r)
			r = cli_take_value("report", "--random", argc, argv, &i, &a->seed_s);
		if (!r)
			r = cli_take_value("report", "--time-budget", argc, argv, &i, &a->budget_s);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		if (!strcmp(argv[i], "--quiet")) {
			a->quiet = 1;
			i++;
			continue;
		}
		r = cli_take_rest("report", usage, argv, &i, &a->file);
		if (r != CLI_ARG_NEXT)
			return cli_rest_status(r);
	}
	return CLI_CONTINUE;
}

static int check_args(report_args *a)
{
	if (!a->file || !a->out) {
		cli_usage_error("report", a->file ? "-o FILE is required" : "FILE is required");
		return -1;
	}
	a->o.policy = mapper_policy_from_name(a->policy ? a->policy : "full");
	if (a->o.policy == MAPPER_RECOMPUTE) {
		cli_usage_error("report", "the report compares unfused, ssm-ri and full; "
					  "'mambalaya plan --policy recompute' shows a recompute plan");
		return -1;
	}
	if (a->o.policy < 0) {
		cli_usage_error("report", "unknown policy '%s' (valid: unfused, ssm-ri, full)",
				a->policy);
		return -1;
	}
	if (a->buffer_s && (units_parse_size(a->buffer_s, &a->buffer) < 0 || a->buffer < 1)) {
		cli_usage_error("report", "--buffer needs a positive size such as 16M, not '%s'",
				a->buffer_s);
		return -1;
	}
	long n = 3;
	if (a->sweep_s) {
		char *end;
		errno = 0;
		n = strtol(a->sweep_s, &end, 10);
		if (errno || end == a->sweep_s || *end || n < 0 || n > 20) {
			cli_usage_error("report", "--sweep needs a number from 0 to 20, not '%s'",
					a->sweep_s);
			return -1;
		}
	}
	a->o.sweep_lo = n ? -(int)n : 1;
	a->o.sweep_hi = n ? (int)n : 0;
	if (a->sim_dir && a->seed_s) {
		cli_usage_error("report", "--sim and --random exclude each other");
		return -1;
	}
	if (a->seed_s && cli_parse_seed("report", a->seed_s, &a->seed) < 0)
		return -1;
	if (a->budget_s) {
		char *end;
		errno = 0;
		a->o.time_budget = strtod(a->budget_s, &end);
		if (errno || end == a->budget_s || *end || !(a->o.time_budget > 0) ||
		    !isfinite(a->o.time_budget)) {
			cli_usage_error("report", "--time-budget needs a positive number of seconds, "
						  "not '%s'",
					a->budget_s);
			return -1;
		}
	}
	return 0;
}

/* The simulation's inputs, indexed by tensor: read from DIR or drawn.
 * Returns 0, or an exit status after printing why. */
static int sim_inputs(const report_args *a, const ein_cascade *c, float **by)
{
	int bad = 0;
	eval_tensors *et = NULL;
	if (a->seed_s) {
		int which;
		et = eval_tensors_alloc(c, (int64_t)1 << 32, &which);
		if (!et) {
			fprintf(stderr, "mambalaya report: error: %s\n",
				which < 0 ? "out of memory" : "a tensor is too large to draw");
			return CLI_EXIT_USER;
		}
		eval_fill_random(c, et, a->seed);
	}
	for (int k = 0; k < c->ntensors && !bad; k++) {
		const ein_tensor *tt = &c->tensors[k];
		if (tt->role != EIN_ROLE_INPUT && tt->role != EIN_ROLE_WEIGHT)
			continue;
		if (et) {
			if (!(by[k] = malloc((size_t)(tt->nelems ? tt->nelems : 1) * sizeof(float)))) {
				fprintf(stderr, "mambalaya report: error: out of memory\n");
				bad = CLI_EXIT_INTERNAL;
				break;
			}
			for (int64_t i = 0; i < tt->nelems; i++)
				by[k][i] = (float)et->data[k][i];
			continue;
		}
		char path[4096], err[256], want[256], got[256];
		int nd;
		int64_t shape[NPY_MAX_DIMS], n = 1;
		snprintf(path, sizeof(path), "%s/%s.npy", a->sim_dir, tt->name);
		if (npy_read_f32(path, &by[k], &nd, shape, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: error: %s\n", path, err);
			bad = CLI_EXIT_USER;
			break;
		}
		int same = nd == tt->ndims;
		for (int d = 0; d < nd; d++) {
			n *= shape[d];
			same = same && shape[d] == tt->dims[d].size;
		}
		if (!same || n != tt->nelems) {
			int64_t wshape[NPY_MAX_DIMS];
			for (int d = 0; d < tt->ndims && d < NPY_MAX_DIMS; d++)
				wshape[d] = tt->dims[d].size;
			npy_shape_str(tt->ndims, wshape, want, sizeof(want));
			npy_shape_str(nd, shape, got, sizeof(got));
			fprintf(stderr, "%s: error: %s has shape %s, expected %s\n", path, tt->name, got,
				want);
			bad = CLI_EXIT_USER;
		}
	}
	eval_tensors_free(et);
	return bad;
}

/* Gathers, simulates and writes.  Returns an exit status. */
static int make_report(report_args *a, const deps_graph *g, const target *t)
{
	const ein_cascade *c = g->c;
	char err[1200];
	cli_progress pr;
	cli_progress_start(&pr, "report", "plans", a->quiet);
	a->o.progress = cli_progress_cb;
	a->o.progress_ctx = &pr;
	report_data d;
	int status = CLI_EXIT_OK;
	char *html = NULL;
	float **by = calloc((size_t)c->ntensors + 1, sizeof(float *));
	if (!by || report_collect(g, t, &a->o, &d, err, sizeof(err)) < 0) {
		cli_progress_end(&pr);
		fprintf(stderr, "mambalaya: internal error: %s\n", by ? err : "out of memory");
		free(by);
		return CLI_EXIT_INTERNAL;
	}
	if (a->sim_dir || a->seed_s) {
		cli_progress_step(&pr, "simulating");
		if ((status = sim_inputs(a, c, by)) != 0)
			goto done;
		int r = report_simulate(&d, (const float *const *)by, err, sizeof(err));
		if (r < 0) {
			cli_progress_end(&pr);
			fprintf(stderr, r == -2 ? "mambalaya report: error: %s\n"
						: "mambalaya: internal error: %s\n",
				err);
			status = r == -2 ? CLI_EXIT_USER : CLI_EXIT_INTERNAL;
			goto done;
		}
	}
	if (!(html = report_html(&d))) {
		fprintf(stderr, "mambalaya: internal error: out of memory\n");
		status = CLI_EXIT_INTERNAL;
		goto done;
	}
	if (fs_write_file(a->out, html, strlen(html), err, sizeof(err)) < 0) {
		fprintf(stderr, "mambalaya report: error: %s\n", err);
		status = CLI_EXIT_USER;
	}
done:
	cli_progress_end(&pr);
	for (int k = 0; k < c->ntensors; k++)
		free(by[k]);
	free(by);
	free(html);
	report_data_clear(&d);
	return status;
}

int cmd_report(int argc, char **argv)
{
	report_args a;
	memset(&a, 0, sizeof(a));
	int r = parse_args(argc, argv, &a);
	if (r != CLI_CONTINUE)
		return r;
	if (check_args(&a) < 0)
		return CLI_EXIT_USAGE;
	const char *inputs[] = {a.file, a.arch};
	if (cli_refuse_input("report", a.out, inputs, a.arch ? 2 : 1))
		return CLI_EXIT_USER;
	int status = CLI_EXIT_OK;
	target *t = cli_target("report", a.arch ? a.arch : "mambalaya", &status);
	if (!t)
		return status;
	if (a.buffer)
		target_set_buffer(t, a.buffer);
	ein_cascade *c = NULL;
	isl_ctx *ctx = NULL;
	deps_graph *g = NULL;
	status = cli_analyse(a.file, &a.defs, &c, &ctx, &g);
	if (status == CLI_EXIT_OK)
		status = make_report(&a, g, t);
	cli_analysis_free(c, ctx, g);
	target_free(t);
	return status;
}
