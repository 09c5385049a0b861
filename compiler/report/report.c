/* report.c - what the report shows, gathered: the plans of the three
 * policies, the buffer sweep, the simulation (see report.h).  The page
 * itself is report_html.c. */
#define _GNU_SOURCE /* open_memstream */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/cgplan.h"
#include "codegen/stream/stream.h"
#include "mapping/cost.h"
#include "mapping/mapper.h"

void report_data_clear(report_data *d)
{
	for (int p = 0; p < REPORT_NPOL; p++) {
		plan_free(d->plans[p]);
		free(d->sweep_latency[p]);
		free(d->sweep_dram[p]);
	}
	free(d->sweep_bytes);
	free(d->points);
	for (int i = 0; i < d->nsim_groups; i++)
		free(d->sim_groups[i]);
	free(d->sim_groups);
	sim_stats_clear(&d->sim);
	cJSON_Delete(d->trace);
	memset(d, 0, sizeof(*d));
}

/* The plan of policy pol on t (with its buffer), or NULL with err. */
static plan *plan_policy(const deps_graph *g, const target *t, int pol, double budget,
			 char *err, size_t errlen)
{
	cost_model *m = cost_model_new(g, t, err, errlen);
	mapper_opts mo = {(mapper_policy)pol, budget, 1};
	plan *p = m ? mapper_run(m, &mo, err, errlen) : NULL;
	cost_model_free(m);
	return p;
}

static void tick(const report_options *o, double done, double total)
{
	if (o->progress)
		o->progress(o->progress_ctx, done, total);
}

/* The sweep: the three policies at buffer * 2^k.  A size where the
 * mapper finds no plan records -1. */
static int sweep(report_data *d, const report_options *o, double *done, double total,
		 char *err, size_t errlen)
{
	int n = o->sweep_hi - o->sweep_lo + 1;
	if (n <= 0)
		return 0;
	d->sweep_bytes = calloc((size_t)n, sizeof(int64_t));
	for (int p = 0; p < REPORT_NPOL; p++) {
		d->sweep_latency[p] = calloc((size_t)n, sizeof(double));
		d->sweep_dram[p] = calloc((size_t)n, sizeof(double));
		if (!d->sweep_latency[p] || !d->sweep_dram[p])
			goto oom;
	}
	if (!d->sweep_bytes)
		goto oom;
	d->nsweep = n;
	/* A shallow copy with another buffer: the model only reads it. */
	target t = *d->t;
	for (int i = 0; i < n; i++) {
		int k = o->sweep_lo + i;
		int64_t b = k >= 0 ? d->t->buffer_bytes << k : d->t->buffer_bytes >> -k;
		d->sweep_bytes[i] = b > 0 ? b : 1;
		target_set_buffer(&t, d->sweep_bytes[i]);
		for (int p = 0; p < REPORT_NPOL; p++) {
			tick(o, (*done)++, total);
			plan *pl = plan_policy(d->g, &t, p, o->time_budget, err, errlen);
			int fits = pl != NULL;
			for (int gi = 0; pl && gi < pl->ngroups; gi++)
				fits &= pl->groups[gi].fits;
			d->sweep_latency[p][i] = fits ? pl->latency_seconds : -1;
			d->sweep_dram[p][i] = fits ? pl->total.dram_bytes : -1;
			plan_free(pl);
		}
	}
	return 0;
oom:
	snprintf(err, errlen, "internal error: out of memory");
	return -1;
}

int report_collect(const deps_graph *g, const target *t, const report_options *o,
		   report_data *d, char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	d->g = g;
	d->t = t;
	d->policy = o->policy;
	int nsweep = o->sweep_hi >= o->sweep_lo ? o->sweep_hi - o->sweep_lo + 1 : 0;
	double total = REPORT_NPOL * (1.0 + nsweep), done = 0;
	cost_model *m = cost_model_new(g, t, err, errlen);
	d->points = calloc((size_t)g->c->neinsums + 1, sizeof(double));
	if (!m || !d->points) {
		if (m)
			snprintf(err, errlen, "internal error: out of memory");
		cost_model_free(m);
		goto fail;
	}
	for (int e = 0; e < g->c->neinsums; e++)
		d->points[e] = cost_einsum(m, e)->points;
	cost_model_free(m);
	for (int p = 0; p < REPORT_NPOL; p++) {
		tick(o, done++, total);
		if (!(d->plans[p] = plan_policy(g, t, p, o->time_budget, err, errlen)))
			goto fail;
	}
	if (sweep(d, o, &done, total, err, errlen) < 0)
		goto fail;
	tick(o, total, total);
	return 0;
fail:
	report_data_clear(d);
	return -1;
}

/* At most this many trace events: enough for a readable timeline. */
#define REPORT_MAX_EVENTS 60000

/* Runs m on inputs with the trace into d.  Returns 0 or -2 with err. */
static int run_sim(report_data *d, const mlb_module *m, const float *const *inputs,
		   char *err, size_t errlen)
{
	const ein_cascade *c = d->g->c;
	err[0] = 0;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		snprintf(err, errlen, "internal error: out of memory");
		return -1;
	}
	sim_options so;
	memset(&so, 0, sizeof(so));
	so.trace = f;
	so.max_events = REPORT_MAX_EVENTS;
	int rc = -2;
	sim *s = sim_new(m, &so, err, errlen);
	if (!s)
		goto done;
	for (int i = 0; i < m->ntensors; i++) {
		const mlb_tensor *mt = &m->tensors[i];
		int ti = ein_cascade_find_tensor(c, mt->name);
		float *dst = sim_tensor(s, i);
		if (ti >= 0 && inputs[ti] && dst &&
		    (mt->role == MLB_ROLE_INPUT || mt->role == MLB_ROLE_WEIGHT))
			memcpy(dst, inputs[ti], (size_t)c->tensors[ti].nelems * sizeof(float));
	}
	if (sim_run(s, &d->sim, err, errlen) < 0)
		goto done;
	rc = -1;
	if (!(d->sim_groups = calloc((size_t)m->ngroups + 1, sizeof(char *))))
		goto done;
	for (d->nsim_groups = 0; d->nsim_groups < m->ngroups; d->nsim_groups++)
		if (!(d->sim_groups[d->nsim_groups] = strdup(m->groups[d->nsim_groups])))
			goto done;
	rc = 0;
done:
	sim_free(s);
	fclose(f);
	if (rc == -1 && !*err)
		snprintf(err, errlen, "internal error: out of memory");
	if (rc == 0) {
		d->trace = cJSON_ParseWithLength(text, len);
		if (!d->trace) {
			snprintf(err, errlen, "internal error: the simulator's trace is not JSON");
			rc = -1;
		} else {
			d->simulated = 1;
		}
	}
	if (rc)
		sim_stats_clear(&d->sim);
	free(text);
	return rc;
}

int report_simulate(report_data *d, const float *const *inputs, char *err, size_t errlen)
{
	const plan *mp = d->plans[d->policy];
	cg_plan p = {0};
	mlb_module *m = NULL;
	int rc = -1;
	char e[1024];
	if (cg_plan_from(mp, d->g, &p, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "internal error: %s", e);
		goto done;
	}
	stream_options so = {"report", 1};
	rc = stream_build(d->g, &p, d->t, mp, &so, &m, err, errlen);
	if (rc == 0)
		rc = run_sim(d, m, inputs, err, errlen);
done:
	mlb_free(m);
	cg_plan_clear(&p);
	return rc;
}
