/* api_report.c - the HTML report of a plan (see mambalaya.h). */
#include "api_impl.h"

#include <stdlib.h>
#include <string.h>

#include "mapping/mapper.h"
#include "report/report.h"

char *mambalaya_report_html(mambalaya_cascade *mc, const char *arch, const char *policy,
			    int64_t buffer_bytes, int sweep, const mambalaya_tensor *in,
			    int nin, char **err)
{
	if (err)
		*err = NULL;
	int pol = api_policy(policy, err);
	if (pol < 0)
		return NULL;
	if (pol == MAPPER_RECOMPUTE) {
		api_fail(err, MAMBALAYA_EUSER,
			 "policy 'recompute' is not in reports (they compare unfused, ssm-ri and "
			 "full); plan_json gives its plan");
		return NULL;
	}
	if (sweep < 0 || sweep > 20) {
		api_fail(err, MAMBALAYA_EUSER, "sweep %d is outside 0..20", sweep);
		return NULL;
	}
	if (in && api_check_tensors(mc->c, in, nin, NULL, 0, err))
		return NULL;
	const deps_graph *g = api_graph(mc, err);
	int status;
	target *t = g ? api_target(arch, buffer_bytes, &status, err) : NULL;
	if (!t)
		return NULL;
	char e[1200];
	report_options o = {pol, -sweep, sweep, 0, NULL, NULL};
	if (!sweep)
		o.sweep_lo = 1, o.sweep_hi = 0;
	report_data d;
	char *html = NULL;
	float **by = NULL;
	if (report_collect(g, t, &o, &d, e, sizeof(e)) < 0) {
		api_fail(err, MAMBALAYA_EINTERNAL, "internal error: %s", e);
		goto done;
	}
	if (in) {
		by = calloc((size_t)mc->c->ntensors + 1, sizeof(float *));
		if (!by) {
			api_fail(err, MAMBALAYA_EINTERNAL, "internal error: out of memory");
			goto done;
		}
		for (int i = 0; i < mc->c->ntensors; i++) {
			const mambalaya_tensor *x = api_find(in, nin, mc->c->tensors[i].name);
			by[i] = x ? x->data : NULL;
		}
		int r = report_simulate(&d, (const float *const *)by, e, sizeof(e));
		if (r < 0) {
			api_fail(err, r == -2 ? MAMBALAYA_EUSER : MAMBALAYA_EINTERNAL, "%s", e);
			goto done;
		}
	}
	if (!(html = report_html(&d)))
		api_fail(err, MAMBALAYA_EINTERNAL, "internal error: out of memory");
done:
	free(by);
	report_data_clear(&d);
	target_free(t);
	return html;
}
