/* build.c - plans from the command line, building generated code (build.h). */
#include "build.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "base/diag.h"
#include "base/fsio.h"
#include "base/units.h"
#include "codegen/c/cgc.h"
#include "mapping/cost.h"
#include "mapping/mapper.h"
#include "mapping/plan.h"
#include "mapping/target.h"

const char build_options_help[] =
	"  --policy P        the mapper's plan for policy P: full (default),\n"
	"                    recompute, ssm-ri or unfused (see `mambalaya plan`)\n"
	"  --plan FILE       use a plan saved by `mambalaya plan --json`\n"
	"  --arch NAME|FILE  the target the mapper plans for: default host (this\n"
	"                    CPU, calibrated once: `mambalaya calibrate`) for C,\n"
	"                    mambalaya when an instruction stream is emitted\n"
	"  --group SPEC      fuse a group: E1,E2,...:R1=T1,R2=T2 (Einsums, then the\n"
	"                    fused ranks with their tile sizes, outermost first);\n"
	"                    repeatable; the other Einsums keep the policy's plan\n"
	"  --name NAME       C name of the kernel and its files (default: the\n"
	"                    source file's base name)\n"
	"  --no-blas         never call a BLAS (portable loops only)\n"
	"  --no-openmp       no OpenMP pragmas\n"
	"  --cflags FLAGS    C compiler flags, recorded in the generated Makefile\n"
	"                    (and used by run's build): words as a shell splits\n"
	"                    them, quotes and backslashes included, nothing\n"
	"                    expanded (docs/codegen.md)\n"
	"  --force           replace files in the output directory that\n"
	"                    mambalaya did not write\n"
	"  -D NAME=VALUE     override a parameter (repeatable)\n";

int build_take_option(const char *cmd, int argc, char **argv, int *i,
		      build_opts *o)
{
	const char *v = NULL;
	int r = cli_take_define(cmd, argc, argv, i, &o->defs);
	if (r)
		return r;
	if ((r = cli_take_value(cmd, "--plan", argc, argv, i, &o->plan_file)))
		return r;
	if ((r = cli_take_value(cmd, "--arch", argc, argv, i, &o->arch)))
		return r;
	if ((r = cli_take_value(cmd, "--policy", argc, argv, i, &o->policy)))
		return r;
	if ((r = cli_take_value(cmd, "--name", argc, argv, i, &o->name)))
		return r;
	if ((r = cli_take_value(cmd, "--retile", argc, argv, i, &o->retile)))
		return r;
	if ((r = cli_take_value(cmd, "--cflags", argc, argv, i, &o->cflags)))
		return r;
	if (strcmp(cmd, "compile") == 0 &&
	    (r = cli_take_value(cmd, "--emit", argc, argv, i, &o->emit)))
		return r;
	if ((r = cli_take_value(cmd, "--group", argc, argv, i, &v))) {
		if (r < 0)
			return r;
		if (o->ngroups == BUILD_MAX_GROUPS) {
			cli_usage_error(cmd, "too many --group options");
			return -1;
		}
		o->groups[o->ngroups++] = v;
		return 1;
	}
	if (strcmp(argv[*i], "--no-blas") == 0) {
		o->no_blas = 1;
		(*i)++;
		return 1;
	}
	if (strcmp(argv[*i], "--no-openmp") == 0) {
		o->no_openmp = 1;
		(*i)++;
		return 1;
	}
	if (strcmp(argv[*i], "--force") == 0) {
		o->force = 1;
		(*i)++;
		return 1;
	}
	return 0;
}

int build_check_options(const char *cmd, build_opts *o)
{
	if (!o->cflags)
		return 0;
	char err[256];
	int n = fs_split_words(o->cflags, &o->cflagv, err, sizeof(err));
	if (n < 0) {
		cli_usage_error(cmd, "--cflags: %s", err);
		return -1;
	}
	o->ncflags = n;
	return 0;
}

void build_opts_clear(build_opts *o)
{
	fs_words_free(o->cflagv);
	o->cflagv = NULL;
	o->ncflags = 0;
}

int build_kernel_name(const char *cmd, const build_opts *o, char *buf, size_t len)
{
	build_name(o, buf, len);
	const char *why = cgc_name_problem(buf);
	if (why) {
		cli_usage_error(cmd, "the kernel's name '%s' %s; give another with --name", buf,
				why);
		return -1;
	}
	return 0;
}

void build_name(const build_opts *o, char *buf, size_t len)
{
	if (o->name) {
		snprintf(buf, len, "%s", o->name);
		return;
	}
	const char *b = strrchr(o->file, '/');
	b = b ? b + 1 : o->file;
	size_t j = 0;
	for (size_t i = 0; b[i] && b[i] != '.' && j + 1 < len; i++)
		buf[j++] = isalnum((unsigned char)b[i]) ? b[i] : '_';
	buf[j] = '\0';
	if (!j || isdigit((unsigned char)buf[0]))
		snprintf(buf, len, "kernel");
}

/* Parses "E1,E2:r=t,q=u" into a group of p. */
static int parse_group(const char *spec, const deps_graph *g, cg_plan *p)
{
	const ein_cascade *c = g->c;
	char buf[1024];
	char *members = calloc((size_t)(c->neinsums ? c->neinsums : 1), 1);
	int band[CG_MAX_BAND];
	int64_t tile[CG_MAX_BAND];
	int nband = 0, rc = -1;
	if (!members)
		return -1;
	snprintf(buf, sizeof(buf), "%s", spec);
	char *colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	for (char *s = strtok(buf, ","); s; s = strtok(NULL, ",")) {
		int e = ein_cascade_find_einsum(c, s);
		if (e < 0) {
			cli_usage_error("compile", "--group %s: no Einsum named '%s'", spec, s);
			goto done;
		}
		members[e] = 1;
	}
	if (colon) {
		char *save = NULL;
		for (char *s = strtok_r(colon + 1, ",", &save); s;
		     s = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(s, '=');
			int64_t t = 1;
			if (eq) {
				*eq = '\0';
				if (units_parse_size(eq + 1, &t) < 0 || t < 1) {
					cli_usage_error("compile", "--group %s: bad tile size '%s'",
							spec, eq + 1);
					goto done;
				}
			}
			int r = deps_rank(g, s);
			if (r < 0 || nband == CG_MAX_BAND) {
				cli_usage_error("compile", "--group %s: no rank named '%s'", spec, s);
				goto done;
			}
			band[nband] = r;
			tile[nband++] = t;
		}
	}
	if (cg_plan_set_group(g, p, members, nband, band, tile) < 0) {
		fprintf(stderr, "mambalaya: internal error: out of memory\n");
		goto done;
	}
	rc = 0;
done:
	free(members);
	return rc;
}

/* A plan of a cascade rewritten for recompute fusion: the caller's
 * cascade and graph are replaced by the rewritten cascade (taken from the
 * plan) and its graph, in the same isl context, so that generation sees
 * the Einsums the plan names.  Returns 0, or -1 with a message in err. */
static int adopt_rewrite(plan *pl, ein_cascade **c, deps_graph **g, char *err, size_t errlen)
{
	if (!pl->cascade)
		return 0;
	deps_graph *ng = deps_build((*g)->ctx, pl->cascade, err, errlen);
	if (!ng)
		return -1;
	deps_free(*g);
	ein_cascade_free(*c);
	*c = pl->cascade;
	pl->cascade = NULL;
	*g = ng;
	return 0;
}

static plan *read_plan(const char *path, ein_cascade **c, deps_graph **g, char *err,
		       size_t errlen)
{
	char *buf = NULL;
	size_t len;
	plan *pl = NULL;
	cJSON *j = NULL;
	char ferr[1024];
	int r = fs_read_file(path, (size_t)64 << 20, &buf, &len, ferr, sizeof(ferr));
	if (r < 0) {
		/* The caller prefixes the path. */
		snprintf(err, errlen, "%s", r == -2 ? "larger than 64 MiB" : fs_reason(ferr, path));
		return NULL;
	}
	const char *end = NULL;
	j = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (!j) {
		/* Where the parser stopped, as line:col (the caller prefixes
		 * the path). */
		int line, col;
		diag_line_col(buf, end ? (size_t)(end - buf) : 0, &line, &col);
		snprintf(err, errlen, "%d:%d: error: invalid JSON", line, col);
		goto done;
	}
	pl = plan_from_json(j, *c, err, errlen);
	if (pl && (adopt_rewrite(pl, c, g, err, errlen) < 0 || plan_validate(pl, *g, err, errlen) < 0)) {
		plan_free(pl);
		pl = NULL;
	}
done:
	cJSON_Delete(j);
	free(buf);
	return pl;
}

int build_plan(const build_opts *o, ein_cascade **c, deps_graph **g, cg_plan *p)
{
	return build_plan_keep(o, c, g, p, NULL);
}

const char *build_arch(const build_opts *o)
{
	if (o->arch)
		return o->arch;
	return o->emit && strstr(o->emit, "stream") ? "mambalaya" : "host";
}

int build_plan_keep(const build_opts *o, ein_cascade **c, deps_graph **gp, cg_plan *p,
		    plan **kept)
{
	const deps_graph *g = *gp;
	char err[1024];
	plan *pl = NULL;
	target *t = NULL;
	cost_model *m = NULL;
	int status = CLI_EXIT_INTERNAL;
	if (o->retile) {
		cli_usage_error("compile", "--retile is gone: C is planned for this CPU by default "
					"(--arch host); see docs/codegen.md");
		return CLI_EXIT_USAGE;
	}
	if (o->plan_file) {
		pl = read_plan(o->plan_file, c, gp, err, sizeof(err));
		g = *gp;
		if (!pl) {
			/* "L:C: error: ..." for a JSON syntax error. */
			int pos = err[0] >= '0' && err[0] <= '9';
			fprintf(stderr, pos ? "%s:%s\n" : "%s: error: %s\n", o->plan_file, err);
			return CLI_EXIT_USER;
		}
	} else {
		const char *policy = o->policy ? o->policy : "full";
		int pol = mapper_policy_from_name(policy);
		if (pol < 0) {
			cli_usage_error("compile", "unknown policy '%s' (the policies are "
						   "full, recompute, ssm-ri and unfused)", policy);
			return CLI_EXIT_USAGE;
		}
		if (pol == MAPPER_UNFUSED && !o->arch) {
			/* No target needed: one group per Einsum. */
			if (cg_plan_unfused(g, p) < 0)
				goto oom;
			goto groups;
		}
		int st = CLI_EXIT_OK;
		t = cli_target("compile", build_arch(o), &st);
		if (!t)
			return st;
		m = cost_model_new(g, t, err, sizeof(err));
		mapper_opts mo = {(mapper_policy)pol, 0, 1};
		pl = m ? mapper_run(m, &mo, err, sizeof(err)) : NULL;
		if (!pl || adopt_rewrite(pl, c, gp, err, sizeof(err)) < 0) {
			fprintf(stderr, "mambalaya: internal error: mapper: %s\n", err);
			goto done;
		}
		g = *gp;
	}
	if (cg_plan_from(pl, g, p, err, sizeof(err)) < 0) {
		fprintf(stderr, "mambalaya compile: error: %s\n", err);
		status = CLI_EXIT_USER;
		cg_plan_clear(p);
		goto done;
	}
groups:
	for (int i = 0; i < o->ngroups; i++)
		if (parse_group(o->groups[i], g, p) < 0) {
			cg_plan_clear(p);
			status = CLI_EXIT_USAGE;
			goto done;
		}
	status = 0;
	goto done;
oom:
	fprintf(stderr, "mambalaya: internal error: out of memory\n");
done:
	if (kept) {
		*kept = status ? NULL : pl;
		if (!status)
			pl = NULL;
	}
	plan_free(pl);
	cost_model_free(m);
	target_free(t);
	return status;
}

int build_program(const char *dir, const char *name, const build_opts *o)
{
	char err[1024], **cc = NULL, **argv = NULL;
	const char *env = getenv("CC");
	int ncc = fs_split_words(env && *env ? env : "cc", &cc, err, sizeof(err));
	if (ncc <= 0) {
		fprintf(stderr, "mambalaya: error: $CC: %s\n", ncc < 0 ? err : "empty");
		fs_words_free(cc);
		return CLI_EXIT_USER;
	}
	cg_options co = {name, !o->no_blas, !o->no_openmp, (const char *const *)o->cflagv,
			 o->ncflags, 0, 0};
	argv = cgc_build_argv(dir, name, &co, (const char *const *)cc, ncc, 0);
	fs_words_free(cc);
	if (!argv) {
		fprintf(stderr, "mambalaya: internal error: out of memory\n");
		return CLI_EXIT_INTERNAL;
	}
	char *log = malloc(65536);
	int status = CLI_EXIT_OK;
	int r = log ? fs_spawn(argv, log, 65536, err, sizeof(err)) : -1;
	if (!log) {
		fprintf(stderr, "mambalaya: internal error: out of memory\n");
		status = CLI_EXIT_INTERNAL;
	} else if (r < 0) {
		fprintf(stderr, "mambalaya: error: building the generated code: %s\n", err);
		status = CLI_EXIT_USER;
	} else if (r != 0) {
		fprintf(stderr, "mambalaya: error: building the generated code in %s failed "
				"(%s exited with status %d):\n%s",
			dir, argv[0], r, log);
		/* With the default flags, generated code that does not build
		 * is a bug; with the user's, the flags may be at fault. */
		status = o->ncflags ? CLI_EXIT_USER : CLI_EXIT_INTERNAL;
	}
	free(log);
	cgc_argv_free(argv);
	return status;
}
