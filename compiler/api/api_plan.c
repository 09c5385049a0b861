/* api_plan.c - plans for an --arch and a policy, as the mapper makes them
 * and as the back ends take them (see api_impl.h). */
#include "api_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mapping/cost.h"
#include "mapping/mapper.h"

int api_policy(const char *policy, char **err)
{
	int pol = mapper_policy_from_name(policy ? policy : "full");
	if (pol < 0)
		api_fail(err, MAMBALAYA_EUSER,
			 "unknown policy '%s' (the policies are unfused, ssm-ri, full and recompute)",
			 policy);
	return pol;
}

target *api_target(const char *arch, int64_t buffer_bytes, int *status, char **err)
{
	char e[1200];
	int usage;
	target *t = target_resolve(arch ? arch : "mambalaya", e, sizeof(e), &usage);
	if (!t) {
		*status = strncmp(e, "internal error", 14) ? MAMBALAYA_EUSER : MAMBALAYA_EINTERNAL;
		api_fail(err, *status, "%s", e);
		return NULL;
	}
	if (buffer_bytes > 0)
		target_set_buffer(t, buffer_bytes);
	return t;
}

plan *api_plan(mambalaya_cascade *c, const char *arch, const char *policy,
	       int64_t buffer_bytes, target **t, int *status, char **err)
{
	*t = NULL;
	*status = MAMBALAYA_EUSER;
	int pol = api_policy(policy, err);
	if (pol < 0)
		return NULL;
	*status = MAMBALAYA_EINTERNAL;
	const deps_graph *g = api_graph(c, err);
	if (!g || !(*t = api_target(arch, buffer_bytes, status, err)))
		return NULL;
	char e[1200];
	cost_model *m = cost_model_new(g, *t, e, sizeof(e));
	mapper_opts mo = {(mapper_policy)pol, 0, 1};
	plan *p = m ? mapper_run(m, &mo, e, sizeof(e)) : NULL;
	if (!p)
		api_fail(err, MAMBALAYA_EINTERNAL, "internal error: mapper: %s", e);
	cost_model_free(m);
	if (!p) {
		target_free(*t);
		*t = NULL;
	}
	return p;
}

int api_cg_plan(mambalaya_cascade *c, const char *arch, const char *policy, cg_plan *p,
		plan **mplan, target **t, char **err)
{
	if (mplan)
		*mplan = NULL;
	*t = NULL;
	/* A recompute plan is a plan of a rewritten cascade; kernels here are
	 * built for the cascade the handle holds. */
	int pol = api_policy(policy, err);
	if (pol < 0)
		return MAMBALAYA_EUSER;
	if (pol == MAPPER_RECOMPUTE)
		return api_fail(err, MAMBALAYA_EUSER,
				"policy 'recompute' is for plans (plan_json) and the command line's "
				"compile and run, not for kernels of this API");
	int status;
	plan *pl = api_plan(c, arch ? arch : "host", policy, 0, t, &status, err);
	if (!pl)
		return status;
	char e[1024];
	int rc = MAMBALAYA_OK;
	if (cg_plan_from(pl, c->g, p, e, sizeof(e)) < 0) {
		rc = api_fail(err, MAMBALAYA_EINTERNAL, "internal error: %s", e);
		cg_plan_clear(p);
	}
	if (mplan && !rc)
		*mplan = pl;
	else
		plan_free(pl);
	return rc;
}

char *mambalaya_plan_json(mambalaya_cascade *c, const char *arch, const char *policy,
			  int64_t buffer_bytes, char **err)
{
	if (err)
		*err = NULL;
	target *t = NULL;
	int status;
	plan *p = api_plan(c, arch, policy, buffer_bytes, &t, &status, err);
	if (!p)
		return NULL;
	cJSON *j = plan_to_json(p, c->c);
	char *s = j ? cJSON_Print(j) : NULL;
	cJSON_Delete(j);
	if (!s)
		api_fail(err, MAMBALAYA_EINTERNAL, "internal error: out of memory");
	plan_free(p);
	target_free(t);
	return s;
}
