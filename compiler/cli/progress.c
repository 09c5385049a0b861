/* progress.c - the progress line (see progress.h). */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "eval/evalio.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void cli_progress_start(cli_progress *p, const char *label, const char *unit, int quiet)
{
	memset(p, 0, sizeof(*p));
	p->label = label;
	p->unit = unit;
	p->on = !quiet && isatty(STDERR_FILENO);
	p->t0 = now();
	p->after = 1.0;
	const char *a = getenv("MAMBALAYA_PROGRESS_AFTER");
	if (a && *a) {
		char *end;
		double v = strtod(a, &end);
		if (!*end && v >= 0)
			p->after = v;
	}
}

/* 1234567 as "1.23M". */
static void si(double v, char *buf, size_t len)
{
	const char *pre = " kMGTP";
	int k = 0;
	while (v >= 1000 && k < 5) {
		v /= 1000;
		k++;
	}
	if (k)
		snprintf(buf, len, "%.3g%c", v, pre[k]);
	else
		snprintf(buf, len, "%.3g", v);
}

static void show(cli_progress *p, const char *text)
{
	/* \r, the text, then erase what a longer previous line left. */
	fprintf(stderr, "\r%s: %s\033[K", p->label, text);
	fflush(stderr);
	p->shown = 1;
}

void cli_progress_update(cli_progress *p, double done, double total)
{
	if (!p->on)
		return;
	double t = now(), el = t - p->t0;
	if (el < p->after || (p->shown && t - p->last < 0.1))
		return;
	p->last = t;
	char line[160], rate[32];
	si(el > 0 ? done / el : 0, rate, sizeof(rate));
	if (total > 0) {
		double f = done / total;
		if (f > 1)
			f = 1;
		double left = f > 0 ? el * (1 - f) / f : 0;
		snprintf(line, sizeof(line), "%3.0f%%  %s %s/s  %.0f s left", 100 * f, rate, p->unit,
			 left);
	} else {
		snprintf(line, sizeof(line), "%s %s/s", rate, p->unit);
	}
	show(p, line);
}

void cli_progress_step(cli_progress *p, const char *what)
{
	if (p->on)
		show(p, what);
}

void cli_progress_end(cli_progress *p)
{
	if (p->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->shown = 0;
}

void cli_progress_cb(void *ctx, double done, double total)
{
	cli_progress_update(ctx, done, total);
}

int64_t cli_einsum_points(const ein_einsum *es)
{
	int64_t pts = 1;
	for (int v = 0; v < es->nvars && pts > 0; v++) {
		int64_t s = es->vars[v].size;
		pts = s <= 0 ? 0 : pts > INT64_MAX / s ? INT64_MAX : pts * s;
	}
	return pts;
}

typedef struct eval_tick {
	cli_progress *p;
	double before, total;
} eval_tick;

static void eval_cb(void *ctx, double points)
{
	eval_tick *k = ctx;
	cli_progress_update(k->p, k->before + points, k->total);
}

int cli_evaluate(const ein_cascade *c, eval_tensors *t, int quiet, int *first_nonfinite,
		 char *msg, size_t msglen)
{
	cli_progress p;
	cli_progress_start(&p, "eval", "points", quiet);
	eval_tick k = {&p, 0, 0};
	for (int e = 0; e < c->neinsums; e++)
		k.total += (double)cli_einsum_points(&c->einsums[e]);
	eval_progress pr = {eval_cb, &k};
	if (first_nonfinite)
		*first_nonfinite = -1;
	int rc = 0;
	for (int e = 0; e < c->neinsums && !rc; e++) {
		cli_progress_update(&p, k.before, k.total);
		if (eval_run_einsum(c, e, t, &pr, msg, msglen) < 0) {
			rc = -1;
			break;
		}
		k.before += (double)cli_einsum_points(&c->einsums[e]);
		int o = c->einsums[e].out.tensor;
		if (first_nonfinite && *first_nonfinite < 0 &&
		    evalio_nonfinite(NULL, t->data[o], c->tensors[o].nelems) >= 0)
			*first_nonfinite = e;
	}
	cli_progress_end(&p);
	return rc;
}
