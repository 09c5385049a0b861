/* cmd_run.c - `mambalaya run`: compile, build with the system compiler, run
 * on .npy data, and optionally check against the reference evaluator. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis/poly.h"
#include "build.h"
#include "codegen/c/cgc.h"
#include "eval/eval.h"
#include "eval/evalio.h"
#include "npy.h"

#define RUN_DEFAULT_TOL 1e-4

static void usage(void)
{
	printf("Usage: mambalaya run FILE (--in DIR | --random SEED) --out DIR [OPTIONS]\n"
	       "\n"
	       "Compiles the cascade (like `mambalaya compile`), builds it with the\n"
	       "system compiler, runs it on the inputs and writes the outputs as\n"
	       "OUT/NAME.npy.  With --check, also runs the reference evaluator on the\n"
	       "same inputs and reports the largest relative error of every output\n"
	       "(max |x - r| / max |r|); the run fails if one exceeds --tol.\n"
	       "\n"
	       "Options:\n"
	       "  --in DIR          inputs and weights as DIR/NAME.npy\n"
	       "  --random SEED     deterministic random inputs instead (as `eval`)\n"
	       "  --out DIR         where the outputs go (created if missing)\n"
	       "  --check           compare with the reference evaluator\n"
	       "  --tol T           largest relative error --check accepts (default %g)\n"
	       "  --bench N         also time N runs of the kernel (median, min)\n"
	       "  --keep DIR        build in DIR and keep it (default: a temporary\n"
	       "                    directory, removed afterwards)\n"
	       "%s"
	       "  -h, --help        show this help\n",
	       RUN_DEFAULT_TOL, build_options_help);
}

/* Runs argv, waiting for it; returns its exit status or -1. */
static int run_prog(char *const *args)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execv(args[0], args);
		fprintf(stderr, "mambalaya run: error: cannot run %s: %s\n", args[0],
			strerror(errno));
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	if (WIFSIGNALED(st)) {
		fprintf(stderr, "mambalaya run: error: %s died with signal %d\n", args[0],
			WTERMSIG(st));
		return -1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void remove_tree(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "mambalaya run: warning: could not remove %s\n", dir);
}

static int check_outputs(const ein_cascade *c, const char *in, const char *out,
			 double tol)
{
	int bad = 0;
	eval_tensors *t = eval_tensors_alloc(c, INT64_MAX / 16, NULL);
	char msg[512];
	if (!t) {
		fprintf(stderr, "mambalaya run: error: out of memory for the evaluator\n");
		return -1;
	}
	if (evalio_load_inputs(c, t, in) < 0 || eval_run(c, t, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "mambalaya run: error: the reference evaluator failed%s%s\n",
			msg[0] ? ": " : "", msg);
		eval_tensors_free(t);
		return -1;
	}
	printf("check against the reference evaluator (max |x - r| / max |r|, tolerance %g):\n",
	       tol);
	for (int k = 0; k < c->ntensors; k++) {
		const ein_tensor *tt = &c->tensors[k];
		if (tt->role != EIN_ROLE_OUTPUT)
			continue;
		char path[4096], err[256];
		float *x = NULL;
		int nd;
		int64_t shape[NPY_MAX_DIMS];
		snprintf(path, sizeof(path), "%s/%s.npy", out, tt->name);
		if (npy_read_f32(path, &x, &nd, shape, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: error: %s\n", path, err);
			bad = 1;
			continue;
		}
		double e = evalio_rel_error(x, t->data[k], tt->nelems);
		printf("  %-8s %12" PRId64 " elements  rel_err %.3e  %s\n", tt->name,
		       tt->nelems, e, e <= tol ? "ok" : "FAIL");
		if (!(e <= tol))
			bad = 1;
		free(x);
	}
	eval_tensors_free(t);
	return bad ? 1 : 0;
}

/* The command line of `run`. */
typedef struct run_args {
	build_opts o;
	const char *in, *out, *seed_s, *keep, *tol_s, *bench_s;
	int check;
	double tol;
	int64_t bench;
	uint64_t seed;
	char name[128];
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
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		if (strcmp(argv[i], "--check") == 0) {
			a->check = 1;
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
		if (*end || end == a->tol_s || !(a->tol >= 0)) {
			cli_usage_error("run", "--tol: bad value '%s'", a->tol_s);
			return CLI_EXIT_USAGE;
		}
	}
	if (a->bench_s &&
	    (cli_parse_size(a->bench_s, &a->bench) < 0 || a->bench > 1000000)) {
		cli_usage_error("run", "--bench: bad count '%s'", a->bench_s);
		return CLI_EXIT_USAGE;
	}
	if (a->seed_s) {
		char *end;
		errno = 0;
		a->seed = strtoull(a->seed_s, &end, 0);
		if (errno || *end || end == a->seed_s || a->seed_s[0] == '-') {
			cli_usage_error("run", "--random needs a non-negative integer");
			return CLI_EXIT_USAGE;
		}
	}
	build_name(&a->o, a->name, sizeof(a->name));
	if (!cg_valid_name(a->name)) {
		cli_usage_error("run", "--name %s: not a C identifier", a->name);
		return CLI_EXIT_USAGE;
	}
	return CLI_CONTINUE;
}

/* The build directory: --keep DIR, or a new temporary one (*tmp set).
 * Returns 0, or an exit status after printing why. */
static int build_dir(const run_args *a, char *dir, size_t len, int *tmp)
{
	char err[1024];
	if (a->keep) {
		snprintf(dir, len, "%s", a->keep);
		if (cli_ensure_dir(dir, err, sizeof(err)) < 0) {
			fprintf(stderr, "mambalaya run: error: %s\n", err);
			return CLI_EXIT_USER;
		}
		return 0;
	}
	const char *td = getenv("TMPDIR");
	snprintf(dir, len, "%s/mambalaya-run-XXXXXX", td ? td : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "mambalaya run: error: cannot create a temporary "
				"directory: %s\n", strerror(errno));
		dir[0] = '\0';
		return CLI_EXIT_USER;
	}
	*tmp = 1;
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
	int r = cli_ensure_dir(indir, err, sizeof(err)) < 0 ? -1 : evalio_write(c, t, indir, 1);
	eval_tensors_free(t);
	return r < 0 ? CLI_EXIT_USER : 0;
}

/* Generates the C files into dir and builds them.  Returns 0 or an exit
 * status. */
static int generate(const run_args *a, const deps_graph *g, const cg_plan *plan,
		    const char *dir)
{
	char err[1024];
	cg_options co = {a->name, !a->o.no_blas, !a->o.no_openmp};
	int r = cgc_emit(g, plan, &co, dir, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, r == -2 ? "mambalaya run: error: %s\n"
					: "mambalaya: internal error: code generation: %s\n",
			err);
		return r == -2 ? CLI_EXIT_USER : CLI_EXIT_INTERNAL;
	}
	if (build_make(dir, a->o.cflags) < 0)
		return CLI_EXIT_INTERNAL;
	return 0;
}

/* Runs the built program on in, writing out; then the check.  Returns an
 * exit status. */
static int execute(const run_args *a, const ein_cascade *c, const cg_plan *plan,
		   const char *dir, const char *in)
{
	char err[1024];
	if (cli_ensure_dir(a->out, err, sizeof(err)) < 0) {
		fprintf(stderr, "mambalaya run: error: %s\n", err);
		return CLI_EXIT_USER;
	}
	char prog[4300], bench_arg[32];
	snprintf(prog, sizeof(prog), "%s/%s", dir, a->name);
	snprintf(bench_arg, sizeof(bench_arg), "%" PRId64, a->bench);
	char *args[] = {prog, "--in", (char *)in, "--out", (char *)a->out,
			a->bench ? "--bench" : NULL, bench_arg, NULL};
	fflush(stdout);
	int r = run_prog(args);
	if (r != 0) {
		fprintf(stderr, "mambalaya run: error: the generated program failed (status %d)\n", r);
		return CLI_EXIT_USER;
	}
	printf("run: %s: %d fusion group%s, outputs in %s\n", a->o.file, plan->ngroups,
	       plan->ngroups == 1 ? "" : "s", a->out);
	if (!a->check)
		return CLI_EXIT_OK;
	r = check_outputs(c, in, a->out, a->tol);
	if (r > 0)
		fprintf(stderr, "mambalaya run: error: an output differs from the "
				"reference evaluator by more than %g\n", a->tol);
	return r == 0 ? CLI_EXIT_OK : r < 0 ? CLI_EXIT_INTERNAL : CLI_EXIT_USER;
}

int cmd_run(int argc, char **argv)
{
	run_args a = {0};
	int status = parse_args(argc, argv, &a);
	if (status != CLI_CONTINUE)
		return status;
	ein_cascade *c;
	isl_ctx *ctx;
	deps_graph *g;
	char dir[4096] = "", indir[4200] = "";
	int tmp = 0;
	cg_plan plan = {0};
	status = cli_analyse(a.o.file, &a.o.defs, &c, &ctx, &g);
	if (status)
		return status;
	const char *in = a.in;
	status = build_plan(&a.o, g, &plan);
	if (!status)
		status = build_dir(&a, dir, sizeof(dir), &tmp);
	if (!status)
		status = generate(&a, g, &plan, dir);
	if (!status && a.seed_s) {
		snprintf(indir, sizeof(indir), "%s/inputs", dir);
		status = random_inputs(c, a.seed, indir);
		in = indir;
	}
	if (!status)
		status = execute(&a, c, &plan, dir, in);
	if (tmp && dir[0])
		remove_tree(dir);
	cg_plan_clear(&plan);
	cli_analysis_free(c, ctx, g);
	return status;
}
