/* cli.c - helpers shared by the subcommands (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "deps.h"
#include "diag.h"
#include "poly.h"

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

int cli_parse_size(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	int shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || v > (1ULL << 62) >> shift)
		return -1;
	*out = (int64_t)(v << shift);
	return 0;
}

int cli_ensure_dir(const char *path, char *err, size_t errlen)
{
	char buf[4096];
	struct stat st;
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		snprintf(err, errlen, "path too long: %s", path);
		return -1;
	}
	/* Like mkdir -p: create each missing component. */
	for (char *p = buf + 1;; p++) {
		char saved = *p;
		if (saved != '/' && saved != '\0')
			continue;
		*p = '\0';
		if (stat(buf, &st) != 0) {
			if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
				snprintf(err, errlen, "cannot create directory %s: %s",
					 buf, strerror(errno));
				return -1;
			}
		} else if (!S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a directory", buf);
			return -1;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	return 0;
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
