/* cmd_eval.c - `mambalaya eval`: run a cascade with the reference evaluator
 * on .npy inputs (or deterministic random ones) and write .npy outputs. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "eval.h"
#include "evalio.h"

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
	"                      uniform in [-1, 1) instead (SEED: an integer)\n"
	"  --save-inputs DIR   also write the inputs and weights used to DIR\n"
	"  --out DIR           where to write the outputs (created if missing)\n"
	"  -D NAME=VALUE       override a parameter (repeatable)\n"
	"  --max-memory SIZE   refuse to run if the tensors need more than SIZE\n"
	"                      bytes (suffix K, M or G; default 8G)\n"
	"  --max-points N      refuse to run if the iteration spaces of the\n"
	"                      Einsums have more than N points in all (filters\n"
	"                      not counted; suffix K, M or G; default 1024G)\n"
	"  -h, --help          show this help\n"
	"\n"
	"Each output file is written to a temporary name and renamed, so a\n"
	"failed run never leaves a half-written file.\n";

static void usage(void)
{
	fputs(usage_text, stdout);
}

int cmd_eval(int argc, char **argv)
{
	const char *file = NULL, *in = NULL, *out = NULL, *save = NULL;
	const char *seed_s = NULL, *mem_s = NULL, *pts_s = NULL;
	cli_defines defs = {0};
	for (int i = 1; i < argc;) {
		int r = cli_take_define("eval", argc, argv, &i, &defs);
		if (!r)
			r = cli_take_value("eval", "--in", argc, argv, &i, &in);
		if (!r)
			r = cli_take_value("eval", "--out", argc, argv, &i, &out);
		if (!r)
			r = cli_take_value("eval", "--save-inputs", argc, argv, &i, &save);
		if (!r)
			r = cli_take_value("eval", "--random", argc, argv, &i, &seed_s);
		if (!r)
			r = cli_take_value("eval", "--max-memory", argc, argv, &i, &mem_s);
		if (!r)
			r = cli_take_value("eval", "--max-points", argc, argv, &i, &pts_s);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		r = cli_take_rest("eval", usage, argv, &i, &file);
		if (r != CLI_ARG_NEXT)
			return cli_rest_status(r);
	}
	if (!file) {
		cli_usage_error("eval", "no FILE given");
		return CLI_EXIT_USAGE;
	}
	if (!out) {
		cli_usage_error("eval", "--out DIR is required");
		return CLI_EXIT_USAGE;
	}
	if (!!in == !!seed_s) {
		cli_usage_error("eval", "give exactly one of --in DIR and --random SEED");
		return CLI_EXIT_USAGE;
	}
	uint64_t seed = 0;
	if (seed_s) {
		char *end;
		errno = 0;
		seed = strtoull(seed_s, &end, 0);
		if (errno || end == seed_s || *end || seed_s[0] == '-') {
			cli_usage_error("eval", "--random needs a non-negative integer, not '%s'",
					seed_s);
			return CLI_EXIT_USAGE;
		}
	}
	int64_t max_mem = (int64_t)8 << 30;
	if (mem_s && cli_parse_size(mem_s, &max_mem) < 0) {
		cli_usage_error("eval", "--max-memory: bad size '%s'", mem_s);
		return CLI_EXIT_USAGE;
	}
	int64_t max_pts = (int64_t)1 << 40;
	if (pts_s && cli_parse_size(pts_s, &max_pts) < 0) {
		cli_usage_error("eval", "--max-points: bad number '%s'", pts_s);
		return CLI_EXIT_USAGE;
	}

	int status = CLI_EXIT_OK;
	eval_tensors *t = NULL;
	ein_cascade *c = cli_load(file, &defs, &status);
	if (!c)
		return status;
	/* Every tensor is held in double: refuse early rather than fail in
	 * malloc or swap. */
	int64_t total = 0;
	for (int k = 0; k < c->ntensors; k++) {
		int64_t b = c->tensors[k].nelems;
		if (b > max_mem / 8 || total > max_mem - b * 8) {
			/* At the tensor's declaration (or first write). */
			const ein_tensor *tt = &c->tensors[k];
			fprintf(stderr,
				b > max_mem / 8
					? "%s:%d:%d: error: tensor '%s' has %" PRId64
					  " elements, more than --max-memory (%" PRId64
					  " bytes) holds: the reference evaluator "
					  "stores every tensor in double\n"
					: "%s:%d:%d: error: with tensor '%s' (%" PRId64
					  " elements), the tensors need more than "
					  "--max-memory (%" PRId64 " bytes): the "
					  "reference evaluator stores every tensor in "
					  "double\n",
				file, tt->loc.line, tt->loc.col, tt->name, b,
				max_mem);
			fprintf(stderr, "  hint: use smaller sizes (-D), or raise "
					"--max-memory\n");
			status = CLI_EXIT_USER;
			goto done;
		}
		total += b * 8;
	}
	/* Work: small tensors with many rank variables can still make an
	 * iteration space that takes years; refuse it at its Einsum. */
	int64_t work = 0;
	for (int e = 0; e < c->neinsums; e++) {
		const ein_einsum *es = &c->einsums[e];
		int64_t pts = 1;
		for (int v = 0; v < es->nvars && pts > 0; v++) {
			int64_t s = es->vars[v].size;
			pts = s <= 0 ? 0 : pts > INT64_MAX / s ? INT64_MAX : pts * s;
		}
		if (pts > max_pts - work) {
			fprintf(stderr,
				"%s:%d:%d: error: Einsum '%s' has %" PRId64
				"%s points to compute, which makes more than "
				"--max-points (%" PRId64 ") in all\n",
				file, es->loc.line, es->loc.col, es->name, pts,
				pts == INT64_MAX ? " or more" : "", max_pts);
			fprintf(stderr, "  hint: use smaller sizes (-D), or raise "
					"--max-points\n");
			status = CLI_EXIT_USER;
			goto done;
		}
		work += pts;
	}
	int bad_t = -1;
	t = eval_tensors_alloc(c, max_mem / 8, &bad_t);
	if (!t) {
		fprintf(stderr, "%s: error: out of memory allocating %" PRId64
				" bytes of tensors\n",
			file, total);
		status = CLI_EXIT_USER;
		goto done;
	}
	if (in) {
		if (evalio_load_inputs(c, t, in) < 0) {
			status = CLI_EXIT_USER;
			goto done;
		}
	} else {
		eval_fill_random(c, t, seed);
	}
	char err[512];
	if (save) {
		if (cli_ensure_dir(save, err, sizeof(err)) < 0) {
			fprintf(stderr, "mambalaya eval: error: %s\n", err);
			status = CLI_EXIT_USER;
			goto done;
		}
		if (evalio_write(c, t, save, 1) < 0) {
			status = CLI_EXIT_USER;
			goto done;
		}
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char msg[1024] = "";
	if (eval_run(c, t, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "mambalaya: internal error: %s\n", msg);
		status = CLI_EXIT_INTERNAL;
		goto done;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (cli_ensure_dir(out, err, sizeof(err)) < 0) {
		fprintf(stderr, "mambalaya eval: error: %s\n", err);
		status = CLI_EXIT_USER;
		goto done;
	}
	if (evalio_write(c, t, out, 0) < 0) {
		status = CLI_EXIT_USER;
		goto done;
	}
	int nout = 0;
	for (int k = 0; k < c->ntensors; k++)
		nout += c->tensors[k].role == EIN_ROLE_OUTPUT;
	printf("eval: %s: %d Einsums, wrote %d output%s to %s (%.3f s)\n", file,
	       c->neinsums, nout, nout == 1 ? "" : "s", out,
	       (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
done:
	eval_tensors_free(t);
	ein_cascade_free(c);
	return status;
}
