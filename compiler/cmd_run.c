/* cmd_run.c - `mambalaya run`: compile, build with the system compiler, run
 * on .npy data, and optionally check against the reference evaluator. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build.h"
#include "eval.h"
#include "evalio.h"
#include "npy.h"
#include "poly.h"

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

int cmd_run(int argc, char **argv)
{
	build_opts o = {0};
	const char *in = NULL, *out = NULL, *seed_s = NULL, *keep = NULL;
	const char *tol_s = NULL, *bench_s = NULL;
	int check = 0;
	for (int i = 1; i < argc;) {
		int r = build_take_option("run", argc, argv, &i, &o);
		if (!r)
			r = cli_take_value("run", "--in", argc, argv, &i, &in);
		if (!r)
			r = cli_take_value("run", "--out", argc, argv, &i, &out);
		if (!r)
			r = cli_take_value("run", "--random", argc, argv, &i, &seed_s);
		if (!r)
			r = cli_take_value("run", "--keep", argc, argv, &i, &keep);
		if (!r)
			r = cli_take_value("run", "--tol", argc, argv, &i, &tol_s);
		if (!r)
			r = cli_take_value("run", "--bench", argc, argv, &i, &bench_s);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		if (strcmp(argv[i], "--check") == 0) {
			check = 1;
			i++;
			continue;
		}
		r = cli_take_rest("run", usage, argv, &i, &o.file);
		if (r != CLI_ARG_NEXT)
			return cli_rest_status(r);
	}
	if (!o.file || !out || !!in == !!seed_s) {
		cli_usage_error("run", "FILE, --out DIR and one of --in DIR, --random SEED "
				       "are required");
		return CLI_EXIT_USAGE;
	}
	double tol = RUN_DEFAULT_TOL;
	if (tol_s) {
		char *end;
		tol = strtod(tol_s, &end);
		if (*end || end == tol_s || !(tol >= 0)) {
			cli_usage_error("run", "--tol: bad value '%s'", tol_s);
			return CLI_EXIT_USAGE;
		}
	}
	int64_t bench = 0;
	if (bench_s && (cli_parse_size(bench_s, &bench) < 0 || bench > 1000000)) {
		cli_usage_error("run", "--bench: bad count '%s'", bench_s);
		return CLI_EXIT_USAGE;
	}
	uint64_t seed = 0;
	if (seed_s) {
		char *end;
		errno = 0;
		seed = strtoull(seed_s, &end, 0);
		if (errno || *end || end == seed_s || seed_s[0] == '-') {
			cli_usage_error("run", "--random needs a non-negative integer");
			return CLI_EXIT_USAGE;
		}
	}
	char name[128];
	build_name(&o, name, sizeof(name));
	if (!cg_valid_name(name)) {
		cli_usage_error("run", "--name %s: not a C identifier", name);
		return CLI_EXIT_USAGE;
	}
	ein_cascade *c;
	isl_ctx *ctx;
	deps_graph *g;
	char err[1024], dir[4096] = "", indir[4200] = "";
	int tmp = 0;
	cg_plan plan = {0};
	int status = cli_analyse(o.file, &o.defs, &c, &ctx, &g);
	if (status)
		return status;
	status = build_plan(&o, g, &plan);
	if (status)
		goto done;
	if (keep) {
		snprintf(dir, sizeof(dir), "%s", keep);
		if (cli_ensure_dir(dir, err, sizeof(err)) < 0) {
			fprintf(stderr, "mambalaya run: error: %s\n", err);
			status = CLI_EXIT_USER;
			goto done;
		}
	} else {
		const char *td = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/mambalaya-run-XXXXXX", td ? td : "/tmp");
		if (!mkdtemp(dir)) {
			fprintf(stderr, "mambalaya run: error: cannot create a temporary "
					"directory: %s\n", strerror(errno));
			status = CLI_EXIT_USER;
			dir[0] = '\0';
			goto done;
		}
		tmp = 1;
	}
	cg_options co = {name, !o.no_blas, !o.no_openmp};
	int r = cg_emit(g, &plan, &co, dir, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, r == -2 ? "mambalaya run: error: %s\n"
					: "mambalaya: internal error: code generation: %s\n",
			err);
		status = r == -2 ? CLI_EXIT_USER : CLI_EXIT_INTERNAL;
		goto done;
	}
	if (build_make(dir, o.cflags) < 0) {
		status = CLI_EXIT_INTERNAL;
		goto done;
	}
	if (seed_s) {
		/* Random inputs, written where the program and the check read
		 * them. */
		snprintf(indir, sizeof(indir), "%s/inputs", dir);
		eval_tensors *t = eval_tensors_alloc(c, INT64_MAX / 16, NULL);
		if (!t) {
			fprintf(stderr, "mambalaya run: error: out of memory\n");
			status = CLI_EXIT_USER;
			goto done;
		}
		eval_fill_random(c, t, seed);
		r = cli_ensure_dir(indir, err, sizeof(err)) < 0 ? -1 : evalio_write(c, t, indir, 1);
		eval_tensors_free(t);
		if (r < 0) {
			status = CLI_EXIT_USER;
			goto done;
		}
		in = indir;
	}
	if (cli_ensure_dir(out, err, sizeof(err)) < 0) {
		fprintf(stderr, "mambalaya run: error: %s\n", err);
		status = CLI_EXIT_USER;
		goto done;
	}
	char prog[4300], bench_arg[32];
	snprintf(prog, sizeof(prog), "%s/%s", dir, name);
	snprintf(bench_arg, sizeof(bench_arg), "%" PRId64, bench);
	char *args[] = {prog, "--in", (char *)in, "--out", (char *)out,
			bench ? "--bench" : NULL, bench_arg, NULL};
	fflush(stdout);
	r = run_prog(args);
	if (r != 0) {
		fprintf(stderr, "mambalaya run: error: the generated program failed (status %d)\n", r);
		status = CLI_EXIT_USER;
		goto done;
	}
	printf("run: %s: %d fusion group%s, outputs in %s\n", o.file, plan.ngroups,
	       plan.ngroups == 1 ? "" : "s", out);
	if (check) {
		r = check_outputs(c, in, out, tol);
		if (r != 0)
			status = r < 0 ? CLI_EXIT_INTERNAL : CLI_EXIT_USER;
		if (r > 0)
			fprintf(stderr, "mambalaya run: error: an output differs from the "
					"reference evaluator by more than %g\n", tol);
	}
done:
	if (tmp && dir[0])
		remove_tree(dir);
	cg_plan_clear(&plan);
	cli_analysis_free(c, ctx, g);
	return status;
}
