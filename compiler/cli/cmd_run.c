/* cmd_run.c - `mambalaya run`: compile, build with the system compiler, run
 * on .npy data, and optionally check against the reference evaluator.
 *
 * No shell anywhere: the compiler and the generated program are started
 * with argument vectors (fs_spawn), the temporary build directory is
 * removed with unlinkat, also when a signal ends the run (cleanup.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsio.h"
#include "base/units.h"
#include "build.h"
#include "cleanup.h"
#include "codegen/c/cgc.h"
#include "eval/eval.h"
#include "eval/evalio.h"
#include "ml_npy.h"
#include "progress.h"

#define RUN_DEFAULT_TOL 1e-4

static void usage(void)
{
	printf("Usage: mambalaya run FILE (--in DIR | --random SEED) --out DIR [OPTIONS]\n"
	       "\n"
	       "Compiles the cascade (like `mambalaya compile`), builds it with the\n"
	       "system compiler, runs it on the inputs and writes the outputs as\n"
	       "OUT/NAME.npy.  With --check, also runs the reference evaluator on the\n"
	       "same inputs and reports the largest relative error of every output\n"
	       "(max |x - r| / max |r|); the run fails if one exceeds --tol, or if\n"
	       "either side holds NaN or infinity (the first Einsum whose values are\n"
	       "not finite is named).\n"
	       "\n"
	       "Options:\n"
	       "  --in DIR          inputs and weights as DIR/NAME.npy\n"
	       "  --random SEED     deterministic random inputs instead (as `eval`)\n"
	       "  --out DIR         where the outputs go (created if missing)\n"
	       "  --check           compare with the reference evaluator\n"
	       "  --tol T           largest relative error --check accepts (default %g)\n"
	       "  --bench N         also time N runs of the kernel (median, min)\n"
	       "  --keep DIR        build in DIR and keep it (default: a temporary\n"
	       "                    directory, removed afterwards, also when a\n"
	       "                    signal ends the run)\n"
	       "  --max-memory SIZE refuse a cascade whose tensors need more than SIZE\n"
	       "                    bytes in the evaluator (as `eval`; default 8G)\n"
	       "  --max-points N    refuse one whose Einsums have more than N points\n"
	       "                    in all (as `eval`; default 1024G)\n"
	       "  --quiet           no progress line (it shows only on a terminal,\n"
	       "                    for steps longer than a second)\n"
	       "%s"
	       "  -h, --help        show this help\n"
	       "\n"
	       "The C compiler is $CC (split into words like --cflags), or cc.\n",
	       RUN_DEFAULT_TOL, build_options_help);
}

/* The command line of `run`. */
typedef struct run_args {
	build_opts o;
	const char *in, *out, *seed_s, *keep, *tol_s, *bench_s, *mem_s, *pts_s;
	int check, quiet;
	double tol;
	int64_t bench;
	uint64_t seed;
	cli_limits lim;
	char name[128];
	cli_progress pr; /* the build's and the run's steps */
} run_args;

/* Returns CLI_CONTINUE when the arguments are good, else an exit status
 * (after --help or a usage error). */
static int parse_args(int argc, char **argv, run_args *a)
{
	for (int i = 1; i < argc;) {
		int r = build_take_option("run", argc, argv, &i, &a->o);
		if (!r)
			r = cli_take_value("run", "--in", argc, argv, &i, &a->in);
		if (!r)
			r = cli_take_value("run", "--out", argc, argv, &i, &a->out);
		if (!r)
			r = cli_take_value("run", "--random", argc, argv, &i, &a->seed_s);
		if (!r)
			r = cli_take_value("run", "--keep", argc, argv, &i, &a->keep);
		if (!r)
			r = cli_take_value("run", "--tol", argc, argv, &i, &a->tol_s);
		if (!r)
			r = cli_take_value("run", "--bench", argc, argv, &i, &a->bench_s);
		if (!r)
			r = cli_take_value("run", "--max-memory", argc, argv, &i, &a->mem_s);
		if (!r)
			r = cli_take_value("run", "--max-points", argc, argv, &i, &a->pts_s);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		if (strcmp(argv[i], "--check") == 0 || strcmp(argv[i], "--quiet") == 0) {
			*(argv[i][2] == 'c' ? &a->check : &a->quiet) = 1;
			i++;
			continue;
		}
		r = cli_take_rest("run", usage, argv, &i, &a->o.file);
		if (r != CLI_ARG_NEXT)
			return cli_rest_status(r);
	}
	if (!a->o.file || !a->out || !!a->in == !!a->seed_s) {
		cli_usage_error("run", "FILE, --out DIR and one of --in DIR, --random SEED "
				       "are required");
		return CLI_EXIT_USAGE;
	}
	a->tol = RUN_DEFAULT_TOL;
	if (a->tol_s) {
		char *end;
		a->tol = strtod(a->tol_s, &end);
		if (*end || end == a->tol_s || !(a->tol >= 0) || !isfinite(a->tol)) {
			cli_usage_error("run", "--tol: bad value '%s'", a->tol_s);
			return CLI_EXIT_USAGE;
		}
	}
	if (a->bench_s &&
	    (units_parse_size(a->bench_s, &a->bench) < 0 || a->bench > 1000000)) {
		cli_usage_error("run", "--bench: bad count '%s'", a->bench_s);
		return CLI_EXIT_USAGE;
	}
	if ((a->seed_s && cli_parse_seed("run", a->seed_s, &a->seed) < 0) ||
	    cli_parse_limits("run", a->mem_s, a->pts_s, &a->lim) < 0 ||
	    build_kernel_name("run", &a->o, a->name, sizeof(a->name)) < 0 ||
	    build_check_options("run", &a->o) < 0)
		return CLI_EXIT_USAGE;
	return CLI_CONTINUE;
}

/* The build directory: --keep DIR, or a new temporary one (*tmp set; it
 * is removed if a signal ends the run).  Returns 0, or an exit status
 * after printing why. */
static int build_dir(const run_args *a, char *dir, size_t len, int *tmp, int *slot)
{
	char err[1024];
	if (a->keep) {
		snprintf(dir, len, "%s", a->keep);
		if (fs_mkdirs(dir, err, sizeof(err)) < 0) {
			fprintf(stderr, "mambalaya run: error: %s\n", err);
			return CLI_EXIT_USER;
		}
		return 0;
	}
	const char *td = getenv("TMPDIR");
	snprintf(dir, len, "%s/mambalaya-run-XXXXXX", td && *td ? td : "/tmp");
	cli_cleanup_install();
	if (!mkdtemp(dir)) {
		fprintf(stderr, "mambalaya run: error: cannot create a temporary "
				"directory in %s: %s\n", td && *td ? td : "/tmp", strerror(errno));
		dir[0] = '\0';
		return CLI_EXIT_USER;
	}
	*tmp = 1;
	*slot = cli_cleanup_add(dir, 1);
	return 0;
}

/* Random inputs, written to indir, where the program and the check read
 * them.  Returns 0 or an exit status. */
static int random_inputs(const ein_cascade *c, uint64_t seed, const char *indir)
{
	char err[1024];
	eval_tensors *t = eval_tensors_alloc(c, INT64_MAX / 16, NULL);
	if (!t) {
		fprintf(stderr, "mambalaya run: error: out of memory\n");
		return CLI_EXIT_USER;
	}
	eval_fill_random(c, t, seed);
	int r = fs_mkdirs(indir, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "mambalaya run: error: %s\n", err);
	else
		r = evalio_write(c, t, indir, 1);
	eval_tensors_free(t);
	return r < 0 ? CLI_EXIT_USER : 0;
}

/* Generates the C files into dir (as a set: --keep DIR keeps its manifest
 * rules) and builds them.  Returns 0 or an exit status. */
static int generate(run_args *a, const deps_graph *g, const cg_plan *plan,
		    const char *dir)
{
	char err[2048];
	cg_options co = {a->name, !a->o.no_blas, !a->o.no_openmp,
			 (const char *const *)a->o.cflagv, a->o.ncflags, 0, 0};
	outset *out = outset_new(dir);
	int r = out ? cgc_emit(g, plan, &co, out, err, sizeof(err)) : -1;
	if (r == 0 && a->seed_s)
		r = outset_claim(out, "inputs");
	if (r == 0) {
		const char *inputs[] = {a->o.file, a->o.plan_file, a->o.arch};
		r = outset_check_inputs(out, inputs, 3, err, sizeof(err));
	}
	if (r == 0)
		r = outset_commit(out, a->o.force, err, sizeof(err));
	outset_free(out);
	if (r == -2) {
		fprintf(stderr, "mambalaya run: error: %s\n", err);
		return CLI_EXIT_USER;
	}
	if (r < 0) {
		fprintf(stderr, "mambalaya: internal error: code generation: %s\n",
			out ? err : "out of memory");
		return CLI_EXIT_INTERNAL;
	}
	cli_progress_step(&a->pr, "building the kernel");
	int st = build_program(dir, a->name, &a->o);
	cli_progress_end(&a->pr);
	return st;
}

/* One output against the reference: its line of the report.  Returns 0
 * when it passes. */
static int check_one(const ein_tensor *tt, const char *out, const double *ref, double tol)
{
	char path[4096], err[256];
	float *x = NULL;
	int nd;
	int64_t shape[NPY_MAX_DIMS];
	snprintf(path, sizeof(path), "%s/%s.npy", out, tt->name);
	if (npy_read_f32(path, &x, &nd, shape, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: error: %s\n", path, err);
		return 1;
	}
	int64_t ix = evalio_nonfinite(x, NULL, tt->nelems);
	int64_t ir = evalio_nonfinite(NULL, ref, tt->nelems);
	int bad = 1;
	if (ix >= 0 || ir >= 0) {
		int64_t i = ix >= 0 ? ix : ir;
		printf("  %-8s %12" PRId64 " elements  FAIL: %s holds %s at element %" PRId64
		       "\n",
		       tt->name, tt->nelems, ix >= 0 ? "the kernel's output" : "the reference",
		       isnan(ix >= 0 ? (double)x[i] : ref[i]) ? "NaN" : "infinity", i);
	} else {
		double e = evalio_rel_error(x, ref, tt->nelems);
		bad = !(e <= tol);
		printf("  %-8s %12" PRId64 " elements  rel_err %.3e  %s\n", tt->name, tt->nelems,
		       e, bad ? "FAIL" : "ok");
	}
	free(x);
	return bad;
}

/* --check: every output against the evaluator's.  Returns 0 when all pass,
 * 1 when one fails (said why), -1 when the evaluator could not run. */
static int check_outputs(const ein_cascade *c, const char *in, const char *out,
			 double tol, int quiet)
{
	eval_tensors *t = eval_tensors_alloc(c, INT64_MAX / 16, NULL);
	char msg[512] = "";
	if (!t) {
		fprintf(stderr, "mambalaya run: error: out of memory for the evaluator\n");
		return -1;
	}
	int first = -1;
	if (evalio_load_inputs(c, t, in) < 0 ||
	    cli_evaluate(c, t, quiet, &first, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "mambalaya run: error: the reference evaluator failed%s%s\n",
			msg[0] ? ": " : "", msg);
		eval_tensors_free(t);
		return -1;
	}
	printf("check against the reference evaluator (max |x - r| / max |r|, tolerance %g):\n",
	       tol);
	int bad = 0;
	for (int k = 0; k < c->ntensors; k++)
		if (c->tensors[k].role == EIN_ROLE_OUTPUT)
			bad |= check_one(&c->tensors[k], out, t->data[k], tol);
	fflush(stdout);
	if (first >= 0) {
		const ein_einsum *es = &c->einsums[first];
		fprintf(stderr, "%s:%d:%d: error: the reference evaluator's values first stop "
				"being finite in Einsum '%s' (NaN or infinity compares equal to "
				"nothing: the check cannot pass)\n",
			c->file, es->loc.line, es->loc.col, es->name);
		fprintf(stderr, "  hint: inputs in a range the cascade does not overflow (a "
				"declaration's '~ uniform(LO, HI)' sets what --random draws)\n");
		bad = 1;
	} else if (bad) {
		fprintf(stderr, "mambalaya run: error: an output differs from the "
				"reference evaluator by more than %g, or is not finite\n", tol);
	}
	eval_tensors_free(t);
	return bad;
}

/* Runs the built program on in, writing out; then the check.  Returns an
 * exit status. */
static int execute(run_args *a, const ein_cascade *c, const cg_plan *plan,
		   const char *dir, const char *in)
{
	char err[1024];
	if (fs_mkdirs(a->out, err, sizeof(err)) < 0) {
		fprintf(stderr, "mambalaya run: error: %s\n", err);
		return CLI_EXIT_USER;
	}
	char prog[4300], bench_arg[32];
	snprintf(prog, sizeof(prog), "%s/%s", dir, a->name);
	snprintf(bench_arg, sizeof(bench_arg), "%" PRId64, a->bench);
	char *args[] = {prog, "--in", (char *)in, "--out", (char *)a->out,
			a->bench ? "--bench" : NULL, bench_arg, NULL};
	fflush(stdout);
	cli_progress_step(&a->pr, a->bench ? "running the kernel (--bench)" : "running the kernel");
	int r = fs_spawn(args, NULL, 0, err, sizeof(err));
	cli_progress_end(&a->pr);
	if (r < 0) {
		fprintf(stderr, "mambalaya run: error: %s\n", err);
		return CLI_EXIT_USER;
	}
	if (r > 128) {
		fprintf(stderr, "mambalaya run: error: %s died with signal %d\n", prog, r - 128);
		return CLI_EXIT_USER;
	}
	if (r != 0) {
		fprintf(stderr, "mambalaya run: error: the generated program failed (status %d)\n", r);
		return CLI_EXIT_USER;
	}
	printf("run: %s: %d fusion group%s, outputs in %s\n", a->o.file, plan->ngroups,
	       plan->ngroups == 1 ? "" : "s", a->out);
	if (!a->check)
		return CLI_EXIT_OK;
	r = check_outputs(c, in, a->out, a->tol, a->quiet);
	return r == 0 ? CLI_EXIT_OK : r < 0 ? CLI_EXIT_INTERNAL : CLI_EXIT_USER;
}

int cmd_run(int argc, char **argv)
{
	run_args a = {0};
	int status = parse_args(argc, argv, &a);
	if (status != CLI_CONTINUE) {
		build_opts_clear(&a.o);
		return status;
	}
	ein_cascade *c = NULL;
	isl_ctx *ctx = NULL;
	deps_graph *g = NULL;
	char dir[4096] = "", indir[4200] = "";
	int tmp = 0, slot = -1;
	int64_t bytes;
	cg_plan plan = {0};
	cli_progress_start(&a.pr, "run", "steps", a.quiet);
	status = cli_analyse(a.o.file, &a.o.defs, &c, &ctx, &g);
	if (!status)
		status = cli_check_limits(a.o.file, c, &a.lim, &bytes);
	const char *in = a.in;
	if (!status)
		status = build_plan(&a.o, &c, &g, &plan);
	if (!status)
		status = build_dir(&a, dir, sizeof(dir), &tmp, &slot);
	if (!status)
		status = generate(&a, g, &plan, dir);
	if (!status && a.seed_s) {
		snprintf(indir, sizeof(indir), "%s/inputs", dir);
		status = random_inputs(c, a.seed, indir);
		in = indir;
	}
	if (!status)
		status = execute(&a, c, &plan, dir, in);
	if (tmp && dir[0]) {
		char err[1024];
		if (fs_remove_tree(dir, err, sizeof(err)) < 0)
			fprintf(stderr, "mambalaya run: warning: %s\n", err);
		cli_cleanup_forget(slot);
	}
	cg_plan_clear(&plan);
	cli_analysis_free(c, ctx, g);
	build_opts_clear(&a.o);
	return status;
}
