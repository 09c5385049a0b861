/* cmd_sweep.c - `mambalaya sweep`: the plan of every point of a
 * design-space spec (mapping/sweep.h), one row each, as CSV or JSON, for
 * one shard of the points, in parallel processes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "analysis/deps.h"
#include "base/diag.h"
#include "base/fsio.h"
#include "base/sbuf.h"
#include "cli.h"
#include "front/check.h"
#include "mapping/cost.h"
#include "mapping/mapper.h"
#include "mapping/sweep.h"
#include "mapping/target.h"
#include "progress.h"

#define SPEC_MAX_BYTES (1 << 20)

static void usage(void)
{
	fputs("Usage: mambalaya sweep SPEC.json [--csv | --json] [--shard K/N]\n"
	      "                       [--jobs J] [-o FILE] [--quiet]\n"
	      "\n"
	      "Plans every point of a design-space sweep and prints one row per point:\n"
	      "the point's values, then the model's latency_seconds, cycles, DRAM bytes,\n"
	      "peak buffer and utilisations.  SPEC.json lists the values of each axis;\n"
	      "the points are their cartesian product:\n"
	      "  {\"file\": \"mamba1.ein\",              a cascade, or a list of them\n"
	      "   \"arch\": [\"mambalaya\", \"t.json\"],   targets (default: mambalaya)\n"
	      "   \"policy\": [\"unfused\", \"full\"],     policies (default: full)\n"
	      "   \"buffer\": [\"4M\", 16777216],        buffer sizes (default: the target's)\n"
	      "   \"defines\": {\"I\": [1, 2048],        parameter values; \"A,B\": [[1, 2]]\n"
	      "               \"ED\": [2048, 2560]}}   sets A and B together\n"
	      "Relative paths in the spec are relative to the spec's directory; an arch\n"
	      "is a file when it has a slash or ends in .json, else a built-in.  Points\n"
	      "are numbered from 0 with policy varying fastest, then buffer, arch, the\n"
	      "defines from the last key to the first, and file (docs/sweep.md).\n"
	      "\n"
	      "Options:\n"
	      "  --csv          CSV with a header line (the default)\n"
	      "  --json         one JSON object: {\"spec\", \"points\", \"shard\", \"rows\"}\n"
	      "  --shard K/N    only the points numbered K-1, K-1+N, K-1+2N, ... (1 <= K\n"
	      "                 <= N): N such runs, on any hosts, cover the sweep once;\n"
	      "                 rows are the same whatever K/N and J are\n"
	      "  --jobs J       run the points in J processes (default 1)\n"
	      "  -o FILE        write FILE (replaced only when the sweep is complete)\n"
	      "  --quiet        no progress line on the terminal\n"
	      "  -h, --help     show this help\n"
	      "\n"
	      "Nothing is written until every point has run: an interrupted or failed\n"
	      "sweep leaves no partial output.  A point that fails (a parameter value the\n"
	      "cascade rejects, say) stops the sweep with its diagnostics and the point.\n"
	      "\n"
	      "Exit status: 0 success, 1 errors in the input (spec, cascade or target),\n"
	      "2 bad command line, 3 internal error.\n",
	      stdout);
}

typedef struct sweep_args {
	const char *spec, *shard_s, *jobs_s, *out;
	int json, nfmt, quiet;
	int64_t k, n;
	long jobs;
} sweep_args;

/* Returns CLI_CONTINUE or an exit status. */
static int parse_args(int argc, char **argv, sweep_args *a)
{
	for (int i = 1; i < argc;) {
		int r = cli_take_value("sweep", "--shard", argc, argv, &i, &a->shard_s);
		if (!r)
			r = cli_take_value("sweep", "--jobs", argc, argv, &i, &a->jobs_s);
		if (!r)
			r = cli_take_value("sweep", "-o", argc, argv, &i, &a->out);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		if (strcmp(argv[i], "--csv") == 0 || strcmp(argv[i], "--json") == 0) {
			a->json = argv[i][2] == 'j';
			a->nfmt++;
			i++;
			continue;
		}
		if (strcmp(argv[i], "--quiet") == 0) {
			a->quiet = 1;
			i++;
			continue;
		}
		r = cli_take_rest("sweep", usage, argv, &i, &a->spec);
		if (r != CLI_ARG_NEXT)
			return cli_rest_status(r);
	}
	if (!a->spec) {
		cli_usage_error("sweep", "SPEC.json is required");
		return CLI_EXIT_USAGE;
	}
	if (a->nfmt > 1) {
		cli_usage_error("sweep", "--csv and --json exclude each other");
		return CLI_EXIT_USAGE;
	}
	a->k = a->n = 1;
	if (a->shard_s && sweep_parse_shard(a->shard_s, &a->k, &a->n) < 0) {
		cli_usage_error("sweep", "--shard needs K/N with 1 <= K <= N, such as 3/8, not '%s'",
				a->shard_s);
		return CLI_EXIT_USAGE;
	}
	a->jobs = 1;
	if (a->jobs_s) {
		char *end;
		errno = 0;
		a->jobs = strtol(a->jobs_s, &end, 10);
		if (errno || end == a->jobs_s || *end || a->jobs < 1 || a->jobs > 1024) {
			cli_usage_error("sweep", "--jobs needs a number of processes from 1 to "
						 "1024, not '%s'", a->jobs_s);
			return CLI_EXIT_USAGE;
		}
	}
	return CLI_CONTINUE;
}

/* Reads the spec file.  NULL after printing why (a user error). */
static sweep_spec *read_spec(const char *path)
{
	char err[1024];
	cJSON *j = cli_read_json(path, SPEC_MAX_BYTES);
	sweep_spec *s = j ? sweep_spec_from_json(j, err, sizeof(err)) : NULL;
	if (j && !s)
		fprintf(stderr, "%s: error: %s\n", path, err);
	cJSON_Delete(j);
	return s;
}

/* What every process of a sweep shares: the spec, paths resolved against
 * the spec's directory, the targets (loaded once, before any fork). */
typedef struct sweep_run {
	const sweep_args *a;
	sweep_spec *s;
	char **paths;	  /* per file */
	target **targets; /* per arch */
	int fd_progress;  /* a child's end of the progress pipe, or -1 */
	cli_progress *progress;
	int64_t done, total;
} sweep_run;

/* rel resolved against the directory of spec (rel itself when absolute or
 * when spec has no directory).  Caller frees. */
static char *resolve(const char *spec, const char *rel)
{
	const char *slash = strrchr(spec, '/');
	if (rel[0] == '/' || !slash)
		return strdup(rel);
	size_t dn = (size_t)(slash - spec) + 1, rn = strlen(rel);
	char *p = malloc(dn + rn + 1);
	if (p) {
		memcpy(p, spec, dn);
		memcpy(p + dn, rel, rn + 1);
	}
	return p;
}

/* The -D arguments of point p into *d (their text in buf).  Returns
 * CLI_EXIT_OK, or a user error after printing why. */
static int point_defines(const sweep_run *r, const sweep_point *p, char *buf, size_t len,
			 cli_defines *d)
{
	memset(d, 0, sizeof(*d));
	d->n = sweep_point_defines(r->s, p, buf, len, d->v, CLI_MAX_DEFINES);
	if (d->n >= 0)
		return CLI_EXIT_OK;
	fprintf(stderr, "%s: error: field \"defines\": more than %d parameters, or values "
			"too long\n", r->a->spec, CLI_MAX_DEFINES);
	return CLI_EXIT_USER;
}

/* Resolves the paths and loads the targets.  Returns CLI_EXIT_OK or a
 * status after printing why. */
static int prepare(sweep_run *r)
{
	const sweep_spec *s = r->s;
	if (!(r->paths = calloc((size_t)s->nfiles, sizeof(char *))) ||
	    !(r->targets = calloc((size_t)s->narchs, sizeof(target *))))
		goto oom;
	for (int i = 0; i < s->nfiles; i++)
		if (!(r->paths[i] = resolve(r->a->spec, s->files[i])))
			goto oom;
	for (int i = 0; i < s->narchs; i++) {
		const char *name = s->archs[i];
		int status = CLI_EXIT_OK;
		if (strcmp(name, TARGET_HOST) == 0) {
			r->targets[i] = cli_target("sweep", name, &status);
			if (!r->targets[i])
				return status;
			continue;
		}
		/* A name with a slash or a .json suffix is a file; any other
		 * is a built-in's, misspelt or not. */
		size_t nl = strlen(name);
		int file = strchr(name, '/') || (nl > 5 && strcmp(name + nl - 5, ".json") == 0);
		char *path = file ? resolve(r->a->spec, name) : strdup(name);
		if (!path)
			goto oom;
		char err[1200];
		int unknown = 0;
		r->targets[i] = target_resolve(path, err, sizeof(err), &unknown);
		free(path);
		if (!r->targets[i]) {
			/* An unknown name is the spec's error; a bad target file
			 * is the file's, which the message names. */
			if (unknown)
				fprintf(stderr, "%s: error: field \"arch[%d]\": %s\n", r->a->spec, i,
					err);
			else
				fprintf(stderr, "%s\n%s: note: in field \"arch[%d]\"\n", err,
					r->a->spec, i);
			return strncmp(err, "internal error", 14) == 0 ? CLI_EXIT_INTERNAL
								       : CLI_EXIT_USER;
		}
	}
	/* Every cascade read and checked once with the first values of the
	 * defines, so that a missing file or a misspelt parameter stops the
	 * sweep before the work, not at the first point that uses it. */
	for (int i = 0; i < s->nfiles; i++) {
		sweep_point p;
		sweep_point_at(s, (int64_t)i * (s->npoints / s->nfiles), &p);
		char buf[2048];
		cli_defines d;
		int status = point_defines(r, &p, buf, sizeof(buf), &d);
		if (status != CLI_EXIT_OK)
			return status;
		ein_cascade *c = cli_load(r->paths[i], &d, &status);
		if (!c) {
			fprintf(stderr, "%s: note: checking field \"file\"%s with the first "
					"values of the defines\n",
				r->a->spec, s->nfiles > 1 ? " (a list: see the path above)" : "");
			return status;
		}
		ein_cascade_free(c);
	}
	return CLI_EXIT_OK;
oom:
	fprintf(stderr, "mambalaya: internal error: out of memory\n");
	return CLI_EXIT_INTERNAL;
}

/* "I=2048, arch mambalaya, policy full" for messages about point p. */
static void describe(const sweep_run *r, const sweep_point *p, char *buf, size_t len)
{
	const sweep_spec *s = r->s;
	char defs[2048];
	const char *argv[CLI_MAX_DEFINES];
	int n = sweep_point_defines(s, p, defs, sizeof(defs), argv, CLI_MAX_DEFINES);
	size_t used = (size_t)snprintf(buf, len, "point %lld (%s", (long long)p->index,
				       s->files[p->file]);
	for (int i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, ", %s", argv[i]);
	if (used < len)
		snprintf(buf + used, len - used, ", arch %s, policy %s)", s->archs[p->arch],
			 s->policies[p->policy]);
}

/* The analysis of one cascade at one set of defines, kept while
 * consecutive points share it. */
typedef struct analysis {
	int valid;
	sweep_point at;
	ein_cascade *c;
	isl_ctx *ctx;
	deps_graph *g;
	/* A cost model per target, made when first needed: it reads the
	 * buffer size from the target at every evaluation, so one serves
	 * every buffer and policy of the target. */
	int nmodels;
	cost_model **models;
} analysis;

static void analysis_clear(analysis *an)
{
	for (int i = 0; i < an->nmodels; i++)
		cost_model_free(an->models[i]);
	free(an->models);
	if (an->valid)
		cli_analysis_free(an->c, an->ctx, an->g);
	memset(an, 0, sizeof(*an));
}

/* Plans point p into *res.  Returns CLI_EXIT_OK or a status after
 * printing why. */
static int run_point(sweep_run *r, const sweep_point *p, analysis *an, sweep_result *res)
{
	const sweep_spec *s = r->s;
	char err[1024];
	if (!an->valid || !sweep_same_analysis(s, &an->at, p)) {
		analysis_clear(an);
		char buf[2048];
		cli_defines d;
		int status = point_defines(r, p, buf, sizeof(buf), &d);
		if (status == CLI_EXIT_OK)
			status = cli_analyse(r->paths[p->file], &d, &an->c, &an->ctx, &an->g);
		if (status != CLI_EXIT_OK)
			return status;
		an->valid = 1;
		an->at = *p;
		if (!(an->models = calloc((size_t)s->narchs, sizeof(cost_model *)))) {
			fprintf(stderr, "mambalaya: internal error: out of memory\n");
			return CLI_EXIT_INTERNAL;
		}
		an->nmodels = s->narchs;
	}
	target *t = r->targets[p->arch];
	int64_t own = t->buffer_bytes;
	if (p->buffer >= 0)
		target_set_buffer(t, s->buffers[p->buffer]);
	res->buffer_bytes = t->buffer_bytes;
	int status = CLI_EXIT_OK;
	plan *pl = NULL;
	cost_model *m = an->models[p->arch];
	if (!m && !(m = an->models[p->arch] = cost_model_new(an->g, t, err, sizeof(err)))) {
		fprintf(stderr, "mambalaya: internal error: cost model: %s\n", err);
		status = CLI_EXIT_INTERNAL;
		goto done;
	}
	mapper_opts o = {(mapper_policy)mapper_policy_from_name(s->policies[p->policy]), 0, 1};
	if (!(pl = mapper_run(m, &o, err, sizeof(err)))) {
		fprintf(stderr, "mambalaya: internal error: mapper: %s\n", err);
		status = CLI_EXIT_INTERNAL;
		goto done;
	}
	res->groups = pl->ngroups;
	res->latency_seconds = pl->latency_seconds;
	res->total = pl->total;
done:
	plan_free(pl);
	target_set_buffer(t, own);
	return status;
}

static void count_done(sweep_run *r)
{
	r->done++;
	if (r->fd_progress >= 0) {
		char c = 1;
		/* Progress only: a lost byte is a slower bar, not an error. */
		if (write(r->fd_progress, &c, 1) < 0)
			r->fd_progress = -1;
	} else if (r->progress) {
		cli_progress_update(r->progress, (double)r->done, (double)r->total);
	}
}

/* Runs the shard's points number lo to hi-1 (counted within the shard),
 * appending their rows (one line each) to out.  Returns an exit status. */
static int run_range(sweep_run *r, int64_t lo, int64_t hi, sbuf *out)
{
	const sweep_args *a = r->a;
	analysis an = {0};
	int status = CLI_EXIT_OK;
	for (int64_t q = lo; q < hi && status == CLI_EXIT_OK; q++) {
		sweep_point p;
		sweep_point_at(r->s, (a->k - 1) + q * a->n, &p);
		sweep_result res = {0};
		status = run_point(r, &p, &an, &res);
		if (status != CLI_EXIT_OK) {
			char what[2600];
			describe(r, &p, what, sizeof(what));
			fprintf(stderr, "%s: note: while planning %s\n", a->spec, what);
			break;
		}
		if (a->json) {
			cJSON *row = sweep_json_row(r->s, &p, &res);
			char *txt = row ? cJSON_PrintUnformatted(row) : NULL;
			cJSON_Delete(row);
			if (!txt) {
				out->oom = 1;
				break;
			}
			sbuf_printf(out, "%s\n", txt);
			free(txt);
		} else {
			sweep_csv_row(r->s, &p, &res, out);
		}
		count_done(r);
	}
	analysis_clear(&an);
	if (status == CLI_EXIT_OK && out->oom) {
		fprintf(stderr, "mambalaya: internal error: out of memory\n");
		status = CLI_EXIT_INTERNAL;
	}
	return status;
}

/* Reads what a child wrote to f (from its start) onto out. */
static int slurp(FILE *f, sbuf *out)
{
	char buf[65536];
	size_t n;
	if (fseek(f, 0, SEEK_SET) != 0)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sbuf_printf(out, "%.*s", (int)n, buf);
	return ferror(f) || out->oom ? -1 : 0;
}

/* Runs the shard's m points in J child processes, each on a contiguous
 * range (consecutive points mostly share one analysis), writing to an
 * anonymous temporary file; their rows are put together in order.
 * Returns an exit status; the worst of the children's. */
static int run_children(sweep_run *r, int64_t m, long jobs, sbuf *rows)
{
	FILE **tmp = calloc((size_t)jobs, sizeof(FILE *));
	pid_t *pid = calloc((size_t)jobs, sizeof(pid_t));
	int pfd[2] = {-1, -1};
	int status = CLI_EXIT_OK;
	long started = 0;
	if (!tmp || !pid || pipe(pfd) < 0) {
		fprintf(stderr, "mambalaya: internal error: %s\n",
			!tmp || !pid ? "out of memory" : strerror(errno));
		status = CLI_EXIT_INTERNAL;
		goto done;
	}
	fflush(NULL); /* nothing buffered may be written twice */
	for (long w = 0; w < jobs; w++) {
		if (!(tmp[w] = tmpfile()) || (pid[w] = fork()) < 0) {
			fprintf(stderr, "mambalaya: internal error: cannot start a process: %s\n",
				strerror(errno));
			status = CLI_EXIT_INTERNAL;
			break;
		}
		if (pid[w] == 0) {
			/* A child outlives no parent: a sweep killed by its
			 * scheduler must not go on computing. */
			if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() == 1)
				_exit(CLI_EXIT_INTERNAL);
			close(pfd[0]);
			r->fd_progress = pfd[1];
			sbuf out = {0};
			int st = run_range(r, m * w / jobs, m * (w + 1) / jobs, &out);
			if (st == CLI_EXIT_OK &&
			    (fwrite(out.p ? out.p : "", 1, out.n, tmp[w]) != out.n ||
			     fflush(tmp[w]) != 0)) {
				fprintf(stderr, "mambalaya sweep: error: cannot write a temporary "
						"file: %s\n", strerror(errno));
				st = CLI_EXIT_USER;
			}
			fflush(stderr);
			if (st != CLI_EXIT_OK) {
				/* Tell the parent, which stops every child (this
				 * one too, perhaps before it exits: the byte
				 * carries the status). */
				unsigned char stop = (unsigned char)(0x80 | st);
				if (write(pfd[1], &stop, 1) < 0)
					st = CLI_EXIT_INTERNAL;
			}
			_exit(st);
		}
		started++;
	}
	close(pfd[1]);
	pfd[1] = -1;
	/* Progress: a byte 1 per point, until every child has closed its end;
	 * a byte 0x80 | status from a child that failed. */
	int stopped = 0;
	unsigned char buf[256];
	ssize_t got;
	while ((got = read(pfd[0], buf, sizeof(buf))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		for (ssize_t i = 0; i < got; i++) {
			if (!(buf[i] & 0x80)) {
				r->done++;
				continue;
			}
			if ((buf[i] & 0x7f) > status)
				status = buf[i] & 0x7f;
			if (!stopped) {
				/* The sweep will write nothing: the other
				 * points need not finish. */
				for (long w = 0; w < started; w++)
					kill(pid[w], SIGTERM);
				stopped = 1;
			}
		}
		if (r->progress)
			cli_progress_update(r->progress, (double)r->done, (double)r->total);
	}
	for (long w = 0; w < started; w++) {
		int ws;
		while (waitpid(pid[w], &ws, 0) < 0 && errno == EINTR)
			;
		int st = WIFEXITED(ws) ? WEXITSTATUS(ws) : CLI_EXIT_INTERNAL;
		if (WIFSIGNALED(ws) && stopped)
			continue; /* we stopped it; the failure's status is in */
		if (WIFSIGNALED(ws))
			fprintf(stderr, "mambalaya: internal error: a sweep process ended by "
					"signal %d\n", WTERMSIG(ws));
		if (st > status)
			status = st;
	}
	for (long w = 0; w < started && status == CLI_EXIT_OK; w++)
		if (slurp(tmp[w], rows) < 0) {
			fprintf(stderr, "mambalaya: internal error: reading back a temporary file\n");
			status = CLI_EXIT_INTERNAL;
		}
done:
	for (long w = 0; tmp && w < jobs; w++)
		if (tmp[w])
			fclose(tmp[w]);
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	free(tmp);
	free(pid);
	return status;
}

/* The whole output: the CSV header and rows, or the JSON document with one
 * row per line. */
static int assemble(const sweep_run *r, const sbuf *rows, sbuf *out)
{
	const sweep_args *a = r->a;
	if (!a->json) {
		sweep_csv_header(r->s, out);
		sbuf_printf(out, "%s", rows->p ? rows->p : "");
		return out->oom ? -1 : 0;
	}
	cJSON *spec = cJSON_CreateString(a->spec);
	char *spec_s = spec ? cJSON_PrintUnformatted(spec) : NULL;
	cJSON_Delete(spec);
	if (!spec_s)
		return -1;
	sbuf_printf(out, "{\"spec\": %s, \"points\": %lld, \"shard\": [%lld, %lld], \"rows\": [",
		    spec_s, (long long)r->s->npoints, (long long)a->k, (long long)a->n);
	free(spec_s);
	/* Rows are one per line: separate them with commas. */
	const char *p = rows->p ? rows->p : "";
	int first = 1;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		sbuf_printf(out, "%s\n  %.*s", first ? "" : ",", (int)n, p);
		first = 0;
		p += n + (nl != NULL);
	}
	sbuf_printf(out, "\n]}\n");
	return out->oom ? -1 : 0;
}

static int write_output(const sweep_args *a, const sbuf *out)
{
	char err[1024];
	const char *text = out->p ? out->p : "";
	if (!a->out || strcmp(a->out, "-") == 0) {
		if (fwrite(text, 1, out->n, stdout) != out->n || fflush(stdout) != 0) {
			fprintf(stderr, "mambalaya sweep: error: cannot write standard output\n");
			return CLI_EXIT_USER;
		}
		return CLI_EXIT_OK;
	}
	if (fs_write_file(a->out, text, out->n, err, sizeof(err)) < 0) {
		fprintf(stderr, "mambalaya sweep: error: %s\n", err);
		return CLI_EXIT_USER;
	}
	return CLI_EXIT_OK;
}

int cmd_sweep(int argc, char **argv)
{
	sweep_args a = {0};
	int status = parse_args(argc, argv, &a);
	if (status != CLI_CONTINUE)
		return status;
	const char *inputs[] = {a.spec};
	if (a.out && strcmp(a.out, "-") != 0 &&
	    (status = cli_refuse_input("sweep", a.out, inputs, 1)) != CLI_EXIT_OK)
		return status;
	sweep_run r = {&a, NULL, NULL, NULL, -1, NULL, 0, 0};
	sbuf rows = {0}, out = {0};
	cli_progress prog;
	int progress_on = 0;
	if (!(r.s = read_spec(a.spec))) {
		status = CLI_EXIT_USER;
		goto done;
	}
	if ((status = prepare(&r)) != CLI_EXIT_OK)
		goto done;
	/* Points K-1, K-1+N, ... below npoints. */
	int64_t m = r.s->npoints >= a.k ? (r.s->npoints - a.k) / a.n + 1 : 0;
	r.total = m;
	long jobs = a.jobs < m ? a.jobs : (long)(m > 0 ? m : 1);
	cli_progress_start(&prog, "sweep", "points", a.quiet);
	r.progress = &prog;
	progress_on = 1;
	status = jobs > 1 ? run_children(&r, m, jobs, &rows) : run_range(&r, 0, m, &rows);
	cli_progress_end(&prog);
	progress_on = 0;
	if (status != CLI_EXIT_OK)
		goto done;
	if (assemble(&r, &rows, &out) < 0) {
		fprintf(stderr, "mambalaya: internal error: out of memory\n");
		status = CLI_EXIT_INTERNAL;
		goto done;
	}
	status = write_output(&a, &out);
done:
	if (progress_on)
		cli_progress_end(&prog);
	sbuf_free(&rows);
	sbuf_free(&out);
	if (r.s) {
		for (int i = 0; r.paths && i < r.s->nfiles; i++)
			free(r.paths[i]);
		for (int i = 0; r.targets && i < r.s->narchs; i++)
			target_free(r.targets[i]);
	}
	free(r.paths);
	free(r.targets);
	sweep_spec_free(r.s);
	return status;
}
