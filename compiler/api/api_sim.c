/* api_sim.c - the accelerator's stream of a plan, run by the simulator on
 * the caller's arrays (see mambalaya.h). */
#include "api_impl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "codegen/stream/stream.h"
#include "sim/sim.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The module's inputs from in; then the run; then out from the outputs.
 * Returns a status. */
static int run_module(const mlb_module *m, const mambalaya_tensor *in, int nin,
		      mambalaya_tensor *out, int nout, char **stats, char **err)
{
	char e[1024];
	sim_options so;
	memset(&so, 0, sizeof(so));
	sim *s = sim_new(m, &so, e, sizeof(e));
	if (!s)
		return api_fail(err, MAMBALAYA_EUSER, "the simulator: %s", e);
	for (int i = 0; i < m->ntensors; i++) {
		const mlb_tensor *t = &m->tensors[i];
		if (t->role != MLB_ROLE_INPUT && t->role != MLB_ROLE_WEIGHT)
			continue;
		const mambalaya_tensor *x = api_find(in, nin, t->name);
		float *dst = sim_tensor(s, i);
		if (x && dst)
			memcpy(dst, x->data, (size_t)x->nelems * sizeof(float));
	}
	sim_stats st;
	memset(&st, 0, sizeof(st));
	double t0 = now();
	int rc = MAMBALAYA_OK;
	if (sim_run(s, &st, e, sizeof(e)) < 0) {
		rc = api_fail(err, MAMBALAYA_EUSER, "the simulator: %s", e);
		goto done;
	}
	double host = now() - t0;
	for (int i = 0; i < m->ntensors; i++) {
		const mlb_tensor *t = &m->tensors[i];
		const mambalaya_tensor *x = t->role == MLB_ROLE_OUTPUT ? api_find(out, nout, t->name)
								       : NULL;
		if (x)
			memcpy(x->data, sim_tensor(s, i), (size_t)x->nelems * sizeof(float));
	}
	if (stats) {
		cJSON *j = sim_stats_to_json(m, &st, host);
		*stats = j ? cJSON_Print(j) : NULL;
		cJSON_Delete(j);
		if (!*stats)
			rc = api_fail(err, MAMBALAYA_EINTERNAL, "internal error: out of memory");
	}
done:
	sim_stats_clear(&st);
	sim_free(s);
	return rc;
}

int mambalaya_simulate(mambalaya_cascade *mc, const char *arch, const char *policy,
		       const mambalaya_tensor *in, int nin, mambalaya_tensor *out, int nout,
		       char **stats, char **err)
{
	if (err)
		*err = NULL;
	if (stats)
		*stats = NULL;
	int rc = api_check_tensors(mc->c, in, nin, out, nout, err);
	if (rc)
		return rc;
	cg_plan p = {0};
	plan *mplan = NULL;
	target *t = NULL;
	mlb_module *m = NULL;
	char e[1024];
	rc = api_cg_plan(mc, arch ? arch : "mambalaya", policy, &p, &mplan, &t, err);
	if (rc)
		goto done;
	stream_options so = {"kernel", 1};
	int r = stream_build(mc->g, &p, t, mplan, &so, &m, e, sizeof(e));
	if (r < 0) {
		rc = api_fail(err, r == -2 ? MAMBALAYA_EUSER : MAMBALAYA_EINTERNAL, "%s%s",
			      r == -2 ? "" : "internal error: stream: ", e);
		goto done;
	}
	rc = run_module(m, in, nin, out, nout, stats, err);
done:
	mlb_free(m);
	plan_free(mplan);
	target_free(t);
	cg_plan_clear(&p);
	return rc;
}
