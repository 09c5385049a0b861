/* cmd_eval.c - `mambalaya eval`: run a cascade with the reference evaluator
 * on .npy inputs (or deterministic random ones) and write .npy outputs. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fsio.h"
#include "cli.h"
#include "progress.h"
#include "eval/eval.h"
#include "eval/evalio.h"

static const char usage_text[] =
	"Usage: mambalaya eval FILE (--in DIR | --random SEED) --out DIR\n"
	"                      [--save-inputs DIR] [-D NAME=VALUE]... [--max-memory SIZE]\n"
	"\n"
	"Computes every Einsum of the cascade by its definition, accumulating in\n"
	"double, and writes every output tensor as OUT/NAME.npy (float32, C order).\n"
	"\n"
	"Options:\n"
	"  --in DIR            read each input and weight tensor from DIR/NAME.npy\n"
	"                      (float32, C order, exactly the declared shape)\n"
	"  --random SEED       fill inputs and weights with deterministic values\n"
	"                      instead (SEED: an integer): uniform in [-1, 1), or\n"
	"                      in what a declaration's `~ uniform(LO, HI)` says\n"
	"  --save-inputs DIR   also write the inputs and weights used to DIR\n"
	"  --out DIR           where to write the outputs (created if missing)\n"
	"  -D NAME=VALUE       override a parameter (repeatable)\n"
	"  --max-memory SIZE   refuse to run if the tensors need more than SIZE\n"
	"                      bytes (suffix K, M or G; default 8G)\n"
	"  --max-points N      refuse to run if the iteration spaces of the\n"
	"                      Einsums have more than N points in all (filters\n"
	"                      not counted; suffix K, M or G; default 1024G)\n"
	"  --quiet             no progress line (shown only on a terminal, when\n"
	"                      the run takes more than a second)\n"
	"  -h, --help          show this help\n"
	"\n"
	"Each output file is written to a temporary name and renamed, so a\n"
	"failed run never leaves a half-written file.\n";

static void usage(void)
{
	fputs(usage_text, stdout);
}

/* The command line of `eval`. */
typedef struct eval_args {
	const char *file, *in, *out, *save;
	const char *seed_s, *mem_s, *pts_s;
	cli_defines defs;
	uint64_t seed;
	cli_limits lim;
	int quiet;
} eval_args;

/* Returns CLI_CONTINUE when the arguments are good, else an exit status
 * (after --help or a usage error). */
static int parse_args(int argc, char **argv, eval_args *a)
{
	for (int i = 1; i < argc;) {
		int r = cli_take_define("eval", argc, argv, &i, &a->defs);
		if (!r)
			r = cli_take_value("eval", "--in", argc, argv, &i, &a->in);
		if (!r)
			r = cli_take_value("eval", "--out", argc, argv, &i, &a->out);
		if (!r)
			r = cli_take_value("eval", "--save-inputs", argc, argv, &i, &a->save);
		if (!r)
			r = cli_take_value("eval", "--random", argc, argv, &i, &a->seed_s);
		if (!r)
			r = cli_take_value("eval", "--max-memory", argc, argv, &i, &a->mem_s);
		if (!r)
			r = cli_take_value("eval", "--max-points", argc, argv, &i, &a->pts_s);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		if (!strcmp(argv[i], "--quiet")) {
			a->quiet = 1;
			i++;
			continue;
		}
		r = cli_take_rest("eval", usage, argv, &i, &a->file);
		if (r != CLI_ARG_NEXT)
			return cli_rest_status(r);
	}
	if (!a->file) {
		cli_usage_error("eval", "no FILE given");
		return CLI_EXIT_USAGE;
	}
	if (!a->out) {
		cli_usage_error("eval", "--out DIR is required");
		return CLI_EXIT_USAGE;
	}
	if (!!a->in == !!a->seed_s) {
		cli_usage_error("eval", "give exactly one of --in DIR and --random SEED");
		return CLI_EXIT_USAGE;
	}
	if (a->seed_s && cli_parse_seed("eval", a->seed_s, &a->seed) < 0)
		return CLI_EXIT_USAGE;
	if (cli_parse_limits("eval", a->mem_s, a->pts_s, &a->lim) < 0)
		return CLI_EXIT_USAGE;
	return CLI_CONTINUE;
}

/* The inputs (read or random), saved if asked; the run; the outputs.
 * Returns an exit status. */
static int evaluate(const eval_args *a, const ein_cascade *c, eval_tensors *t)
{
	if (a->in) {
		if (evalio_load_inputs(c, t, a->in) < 0)
			return CLI_EXIT_USER;
	} else {
		eval_fill_random(c, t, a->seed);
	}
	char err[512];
	if (a->save) {
		if (fs_mkdirs(a->save, err, sizeof(err)) < 0) {
			fprintf(stderr, "mambalaya eval: error: %s\n", err);
			return CLI_EXIT_USER;
		}
		if (evalio_write(c, t, a->save, 1) < 0)
			return CLI_EXIT_USER;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char msg[1024] = "";
	if (cli_evaluate(c, t, a->quiet, NULL, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "mambalaya: internal error: %s\n", msg);
		return CLI_EXIT_INTERNAL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (fs_mkdirs(a->out, err, sizeof(err)) < 0) {
		fprintf(stderr, "mambalaya eval: error: %s\n", err);
		return CLI_EXIT_USER;
	}
	if (evalio_write(c, t, a->out, 0) < 0)
		return CLI_EXIT_USER;
	int nout = 0;
	for (int k = 0; k < c->ntensors; k++)
		nout += c->tensors[k].role == EIN_ROLE_OUTPUT;
	printf("eval: %s: %d Einsums, wrote %d output%s to %s (%.3f s)\n", a->file,
	       c->neinsums, nout, nout == 1 ? "" : "s", a->out,
	       (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
	return CLI_EXIT_OK;
}

/* The files eval writes (OUT/T.npy for every output, SAVE/T.npy for every
 * input with --save-inputs) must not be its inputs (IN/T.npy, FILE):
 * refused before anything is written.  Returns an exit status. */
static int refuse_overlaps(const eval_args *a, const ein_cascade *c)
{
	int n = 0, status = CLI_EXIT_OK;
	const char **inputs = calloc((size_t)c->ntensors + 1, sizeof(*inputs));
	char *paths = malloc(((size_t)c->ntensors + 1) * 4096);
	if (!inputs || !paths) {
		free(inputs);
		free(paths);
		fprintf(stderr, "mambalaya: internal error: out of memory\n");
		return CLI_EXIT_INTERNAL;
	}
	inputs[n++] = a->file;
	for (int k = 0; k < c->ntensors && a->in; k++) {
		const ein_tensor *tt = &c->tensors[k];
		if (tt->role != EIN_ROLE_INPUT && tt->role != EIN_ROLE_WEIGHT)
			continue;
		snprintf(paths + (size_t)n * 4096, 4096, "%s/%s.npy", a->in, tt->name);
		inputs[n] = paths + (size_t)n * 4096;
		n++;
	}
	for (int k = 0; k < c->ntensors && !status; k++) {
		const ein_tensor *tt = &c->tensors[k];
		char out[4096];
		const char *dir = tt->role == EIN_ROLE_OUTPUT ? a->out
				  : tt->role != EIN_ROLE_TEMP ? a->save
							    : NULL;
		if (!dir)
			continue;
		snprintf(out, sizeof(out), "%s/%s.npy", dir, tt->name);
		status = cli_refuse_input("eval", out, inputs, n);
	}
	free(inputs);
	free(paths);
	return status;
}

int cmd_eval(int argc, char **argv)
{
	eval_args a = {0};
	int status = parse_args(argc, argv, &a);
	if (status != CLI_CONTINUE)
		return status;
	status = CLI_EXIT_OK;
	eval_tensors *t = NULL;
	ein_cascade *c = cli_load(a.file, &a.defs, &status);
	if (!c)
		return status;
	int64_t total;
	status = refuse_overlaps(&a, c);
	if (status == CLI_EXIT_OK)
		status = cli_check_limits(a.file, c, &a.lim, &total);
	if (status != CLI_EXIT_OK)
		goto done;
	int bad_t = -1;
	t = eval_tensors_alloc(c, a.lim.max_memory / 8, &bad_t);
	if (!t) {
		fprintf(stderr, "%s: error: out of memory allocating %" PRId64
				" bytes of tensors\n",
			a.file, total);
		status = CLI_EXIT_USER;
		goto done;
	}
	status = evaluate(&a, c, t);
done:
	eval_tensors_free(t);
	ein_cascade_free(c);
	return status;
}
