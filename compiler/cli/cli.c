/* cli.c - helpers shared by the subcommands (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "analysis/deps.h"
#include "analysis/poly.h"
#include "base/diag.h"
#include "base/fsio.h"
#include "base/units.h"
#include "front/check.h"
#include "mapping/calibrate.h"
#include "mapping/target.h"
#include "progress.h"

void cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "mambalaya %s: error: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry 'mambalaya %s --help'.\n", cmd);
	va_end(ap);
}

int cli_take_define(const char *cmd, int argc, char **argv, int *i,
		    cli_defines *d)
{
	const char *a = argv[*i];
	const char *val = NULL;
	int used = 1;
	if (strcmp(a, "-D") == 0 || strcmp(a, "--define") == 0) {
		if (*i + 1 >= argc) {
			cli_usage_error(cmd, "%s needs NAME=VALUE", a);
			return -1;
		}
		val = argv[*i + 1];
		used = 2;
	} else if (strncmp(a, "-D", 2) == 0) {
		val = a + 2;
	} else if (strncmp(a, "--define=", 9) == 0) {
		val = a + 9;
	} else {
		return 0;
	}
	if (d->n == CLI_MAX_DEFINES) {
		cli_usage_error(cmd, "too many -D options (the limit is %d)",
				CLI_MAX_DEFINES);
		return -1;
	}
	d->v[d->n++] = val;
	*i += used;
	return 1;
}

int cli_take_value(const char *cmd, const char *name, int argc, char **argv,
		   int *i, const char **value)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strcmp(a, name) == 0) {
		if (*i + 1 >= argc) {
			cli_usage_error(cmd, "%s needs a value", name);
			return -1;
		}
		*value = argv[*i + 1];
		*i += 2;
		return 1;
	}
	if (strncmp(a, name, n) == 0 && a[n] == '=') {
		*value = a + n + 1;
		*i += 1;
		return 1;
	}
	return 0;
}

ein_cascade *cli_load(const char *file, const cli_defines *d, int *status)
{
	char err[512];
	diag_ctx *dg = check_load_file(file, CHECK_MAX_SOURCE_BYTES, err,
				       sizeof(err));
	if (!dg) {
		fprintf(stderr, "%s: error: %s\n", file,
			strncmp(err, file, strlen(file)) == 0
				? err + strlen(file) + 2
				: err);
		*status = CLI_EXIT_USER;
		return NULL;
	}
	check_opts opts = {d ? d->n : 0, d ? d->v : NULL};
	ein_cascade *c = check_source(dg, &opts);
	int errors = diag_error_count(dg);
	diag_flush(dg, stderr);
	if (!c) {
		if (errors)
			fprintf(stderr, "%s: %d error%s\n", file, errors,
				errors == 1 ? "" : "s");
		*status = CLI_EXIT_USER;
	}
	diag_free(dg);
	return c;
}

int cli_take_rest(const char *cmd, void (*usage)(void), char **argv, int *i,
		  const char **file)
{
	const char *a = argv[*i];
	if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
		usage();
		return CLI_ARG_HELP;
	}
	if (a[0] == '-' && a[1]) {
		cli_usage_error(cmd, "unknown option '%s'", a);
		return CLI_ARG_BAD;
	}
	if (*file) {
		cli_usage_error(cmd, "only one FILE may be given");
		return CLI_ARG_BAD;
	}
	*file = a;
	(*i)++;
	return CLI_ARG_NEXT;
}

int cli_rest_status(int r)
{
	return r == CLI_ARG_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

int cli_analyse(const char *file, const cli_defines *d, ein_cascade **c,
		isl_ctx **ctx, deps_graph **g)
{
	int status = CLI_EXIT_OK;
	char err[512];
	*ctx = NULL;
	*g = NULL;
	*c = cli_load(file, d, &status);
	if (!*c)
		return status;
	*ctx = poly_ctx_new();
	*g = *ctx ? deps_build(*ctx, *c, err, sizeof(err)) : NULL;
	if (!*g) {
		fprintf(stderr, "mambalaya: internal error: dependence analysis: %s\n",
			*ctx ? err : "out of memory");
		cli_analysis_free(*c, *ctx, NULL);
		*c = NULL;
		*ctx = NULL;
		return CLI_EXIT_INTERNAL;
	}
	return CLI_EXIT_OK;
}

void cli_analysis_free(ein_cascade *c, isl_ctx *ctx, deps_graph *g)
{
	deps_free(g);
	isl_ctx_free(ctx);
	ein_cascade_free(c);
}

int cli_parse_seed(const char *cmd, const char *s, uint64_t *seed)
{
	char *end;
	errno = 0;
	*seed = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-') {
		cli_usage_error(cmd, "--random needs a non-negative integer, not '%s'", s);
		return -1;
	}
	return 0;
}

int cli_parse_limits(const char *cmd, const char *mem_s, const char *pts_s, cli_limits *l)
{
	l->max_memory = (int64_t)8 << 30;
	l->max_points = (int64_t)1 << 40;
	if (mem_s && units_parse_size(mem_s, &l->max_memory) < 0) {
		cli_usage_error(cmd, "--max-memory: bad size '%s'", mem_s);
		return -1;
	}
	if (pts_s && units_parse_size(pts_s, &l->max_points) < 0) {
		cli_usage_error(cmd, "--max-points: bad number '%s'", pts_s);
		return -1;
	}
	return 0;
}

int cli_check_limits(const char *file, const ein_cascade *c, const cli_limits *l,
		     int64_t *bytes)
{
	const int64_t max_mem = l->max_memory, max_pts = l->max_points;
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
			return CLI_EXIT_USER;
		}
		total += b * 8;
	}
	/* Work: small tensors with many rank variables can still make an
	 * iteration space that takes years; refuse it at its Einsum. */
	int64_t work = 0;
	for (int e = 0; e < c->neinsums; e++) {
		const ein_einsum *es = &c->einsums[e];
		int64_t pts = cli_einsum_points(es);
		if (pts > max_pts - work) {
			fprintf(stderr,
				"%s:%d:%d: error: Einsum '%s' has %" PRId64
				"%s points to compute, which makes more than "
				"--max-points (%" PRId64 ") in all\n",
				file, es->loc.line, es->loc.col, es->name, pts,
				pts == INT64_MAX ? " or more" : "", max_pts);
			fprintf(stderr, "  hint: use smaller sizes (-D), or raise "
					"--max-points\n");
			return CLI_EXIT_USER;
		}
		work += pts;
	}
	*bytes = total;
	return CLI_EXIT_OK;
}

int cli_refuse_input(const char *cmd, const char *out, const char *const *inputs, int n)
{
	for (int i = 0; out && i < n; i++)
		if (inputs[i] && fs_same_file(out, inputs[i])) {
			fprintf(stderr, "mambalaya %s: error: %s would replace %s, an input of this "
					"command; write elsewhere\n",
				cmd, out, inputs[i]);
			return CLI_EXIT_USER;
		}
	return 0;
}

cJSON *cli_read_json(const char *path, size_t max)
{
	char err[1024];
	/* The checker's file reader: size limit, NUL bytes, read errors; its
	 * messages start with the path. */
	diag_ctx *d = check_load_file(path, max, err, sizeof(err));
	if (!d) {
		size_t n = strlen(path);
		fprintf(stderr, "%s: error: %s\n", path,
			strncmp(err, path, n) == 0 && err[n] == ':' ? err + n + 2 : err);
		return NULL;
	}
	size_t len;
	const char *text = diag_source(d, &len);
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!j) {
		int line, col;
		diag_line_col(text, end ? (size_t)(end - text) : 0, &line, &col);
		fprintf(stderr, "%s:%d:%d: error: invalid JSON\n", path, line, col);
	}
	diag_free(d);
	return j;
}

target *cli_target(const char *cmd, const char *arch, int *status)
{
	char err[1200];
	int usage = 0, measured = 0;
	/* The host's calibration is made once, on first use: say so, it
	 * takes a few seconds. */
	target *t = strcmp(arch, TARGET_HOST) == 0
			    ? calibrate_host(&measured, err, sizeof(err))
			    : target_resolve(arch, err, sizeof(err), &usage);
	if (measured) {
		char path[1024];
		if (calibrate_cache_path(path, sizeof(path)) == 0)
			fprintf(stderr, "mambalaya %s: note: calibrated this machine into %s "
					"(%s; `mambalaya calibrate` measures again)\n", cmd, path,
				measured == CALIBRATE_STALE
					? "again: the kernels' runtime changed since the last time"
					: "once");
	}
	if (!t && usage) {
		cli_usage_error(cmd, "%s", err);
		*status = CLI_EXIT_USAGE;
	} else if (!t) {
		int internal = strncmp(err, "internal error", 14) == 0;
		fprintf(stderr, "%s%s\n", internal ? "mambalaya: " : "", err);
		*status = internal ? CLI_EXIT_INTERNAL : CLI_EXIT_USER;
	}
	return t;
}
