/* api.c - the C API: cascades, their JSON, the evaluator (see mambalaya.h). */
#define _GNU_SOURCE /* open_memstream */
#include "api_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <isl/ctx.h>

#include "analysis/groups.h"
#include "analysis/poly.h"
#include "base/diag.h"
#include "base/hash.h"
#include "eval/eval.h"
#include "front/check.h"
#include "front/ir_json.h"

int api_fail(char **err, int status, const char *fmt, ...)
{
	if (!err)
		return status;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
	return status;
}

void mambalaya_free(void *p)
{
	free(p);
}

const char *mambalaya_version(void)
{
	return "1.0";
}

/* Checks the source held by d; on errors *err gets the diagnostics as
 * `check` prints them. */
static mambalaya_cascade *load(diag_ctx *d, const char *name, const char *const *defines,
			       int ndefines, char **err)
{
	mambalaya_cascade *mc = calloc(1, sizeof(*mc));
	if (!mc || !(mc->name = strdup(name))) {
		free(mc);
		diag_free(d);
		api_fail(err, MAMBALAYA_EINTERNAL, "internal error: out of memory");
		return NULL;
	}
	check_opts opts = {ndefines, defines};
	mc->c = check_source(d, &opts);
	int errors = diag_error_count(d);
	/* The diagnostics, errors and warnings, as the command line's. */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f) {
		diag_flush(d, f);
		if (!mc->c && errors)
			fprintf(f, "%s: %d error%s\n", name, errors, errors == 1 ? "" : "s");
		fclose(f);
	}
	if (!mc->c) {
		if (err)
			*err = text ? text : strdup("out of memory");
		else
			free(text);
		diag_free(d);
		mambalaya_cascade_free(mc);
		return NULL;
	}
	free(text);
	size_t slen;
	const char *src = diag_source(d, &slen);
	uint64_t h = hash_fnv1a(HASH_FNV0, src, slen);
	for (int p = 0; p < mc->c->nparams; p++) {
		char kv[160];
		int n = snprintf(kv, sizeof(kv), "%s=%lld;", mc->c->params[p].name,
				 (long long)mc->c->params[p].value);
		h = hash_fnv1a(h, kv, (size_t)n);
	}
	mc->identity = h;
	diag_free(d);
	return mc;
}

mambalaya_cascade *mambalaya_load(const char *path, const char *const *defines, int ndefines,
				  char **err)
{
	if (err)
		*err = NULL;
	char e[1024];
	diag_ctx *d = check_load_file(path, CHECK_MAX_SOURCE_BYTES, e, sizeof(e));
	if (!d) {
		/* "PATH: reason" becomes "PATH: error: reason", as check says. */
		size_t n = strlen(path);
		const char *why = !strncmp(e, path, n) && e[n] == ':' ? e + n + 2 : e;
		api_fail(err, MAMBALAYA_EUSER, "%s: error: %s", path, why);
		return NULL;
	}
	return load(d, path, defines, ndefines, err);
}

mambalaya_cascade *mambalaya_load_source(const char *name, const char *text,
					 const char *const *defines, int ndefines, char **err)
{
	if (err)
		*err = NULL;
	size_t n = text ? strlen(text) : 0;
	if (n > CHECK_MAX_SOURCE_BYTES) {
		api_fail(err, MAMBALAYA_EUSER, "%s: error: the source is larger than %zu bytes",
			 name ? name : "<source>", (size_t)CHECK_MAX_SOURCE_BYTES);
		return NULL;
	}
	diag_ctx *d = diag_new(name ? name : "<source>", text ? text : "", n);
	if (!d) {
		api_fail(err, MAMBALAYA_EINTERNAL, "internal error: out of memory");
		return NULL;
	}
	return load(d, name ? name : "<source>", defines, ndefines, err);
}

void mambalaya_cascade_free(mambalaya_cascade *c)
{
	if (!c)
		return;
	deps_free(c->g);
	if (c->ctx)
		isl_ctx_free(c->ctx);
	ein_cascade_free(c->c);
	free(c->name);
	free(c);
}

const deps_graph *api_graph(mambalaya_cascade *c, char **err)
{
	if (c->g)
		return c->g;
	char e[512];
	if (!c->ctx && !(c->ctx = poly_ctx_new())) {
		api_fail(err, MAMBALAYA_EINTERNAL, "internal error: out of memory");
		return NULL;
	}
	c->g = deps_build(c->ctx, c->c, e, sizeof(e));
	if (!c->g)
		api_fail(err, MAMBALAYA_EINTERNAL, "internal error: dependence analysis: %s", e);
	return c->g;
}

/* The JSON text of j (taken), or NULL after api_fail. */
static char *json_text(cJSON *j, char **err)
{
	char *s = j ? cJSON_Print(j) : NULL;
	cJSON_Delete(j);
	if (!s)
		api_fail(err, MAMBALAYA_EINTERNAL, "internal error: out of memory");
	return s;
}

char *mambalaya_ir_json(mambalaya_cascade *c, char **err)
{
	if (err)
		*err = NULL;
	return json_text(ir_json_cascade(c->c), err);
}

char *mambalaya_deps_json(mambalaya_cascade *c, char **err)
{
	if (err)
		*err = NULL;
	const deps_graph *g = api_graph(c, err);
	return g ? json_text(deps_to_json(g), err) : NULL;
}

char *mambalaya_groups_json(mambalaya_cascade *c, char **err)
{
	if (err)
		*err = NULL;
	const deps_graph *g = api_graph(c, err);
	if (!g)
		return NULL;
	groups_result res;
	char e[512];
	if (groups_enumerate(g, NULL, &res, e, sizeof(e)) < 0) {
		api_fail(err, MAMBALAYA_EINTERNAL, "internal error: groups: %s", e);
		return NULL;
	}
	char *s = json_text(groups_to_json(g, &res), err);
	groups_result_clear(&res);
	return s;
}

const mambalaya_tensor *api_find(const mambalaya_tensor *v, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (v[i].name && !strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

int api_check_tensors(const ein_cascade *c, const mambalaya_tensor *in, int nin,
		      const mambalaya_tensor *out, int nout, char **err)
{
	for (int k = 0; k < c->ntensors; k++) {
		const ein_tensor *tt = &c->tensors[k];
		if (tt->role != EIN_ROLE_INPUT && tt->role != EIN_ROLE_WEIGHT)
			continue;
		const mambalaya_tensor *x = api_find(in, nin, tt->name);
		if (!x)
			return api_fail(err, MAMBALAYA_EUSER, "%s: error: %s '%s' is not given",
					c->file, ein_role_name(tt->role), tt->name);
		if (!x->data || x->nelems != tt->nelems)
			return api_fail(err, MAMBALAYA_EUSER,
					"%s: error: %s '%s' has %lld elements; its shape needs %lld",
					c->file, ein_role_name(tt->role), tt->name,
					(long long)x->nelems, (long long)tt->nelems);
	}
	for (int i = 0; i < nin; i++) {
		int t = in[i].name ? ein_cascade_find_tensor(c, in[i].name) : -1;
		if (t < 0 || (c->tensors[t].role != EIN_ROLE_INPUT &&
			      c->tensors[t].role != EIN_ROLE_WEIGHT))
			return api_fail(err, MAMBALAYA_EUSER,
					"%s: error: '%s' is not an input or a weight of the cascade",
					c->file, in[i].name ? in[i].name : "(null)");
	}
	for (int i = 0; i < nout; i++) {
		int t = out[i].name ? ein_cascade_find_tensor(c, out[i].name) : -1;
		if (t < 0 || c->tensors[t].role != EIN_ROLE_OUTPUT)
			return api_fail(err, MAMBALAYA_EUSER,
					"%s: error: '%s' is not an output of the cascade", c->file,
					out[i].name ? out[i].name : "(null)");
		if (!out[i].data || out[i].nelems != c->tensors[t].nelems)
			return api_fail(err, MAMBALAYA_EUSER,
					"%s: error: output '%s' has room for %lld elements; its "
					"shape needs %lld",
					c->file, out[i].name, (long long)out[i].nelems,
					(long long)c->tensors[t].nelems);
	}
	return MAMBALAYA_OK;
}

int mambalaya_eval(mambalaya_cascade *mc, const mambalaya_tensor *in, int nin,
		   mambalaya_tensor *out, int nout, char **err)
{
	if (err)
		*err = NULL;
	const ein_cascade *c = mc->c;
	int rc = api_check_tensors(c, in, nin, out, nout, err);
	if (rc)
		return rc;
	int bad = -1;
	eval_tensors *t = eval_tensors_alloc(c, INT64_MAX / 16, &bad);
	if (!t)
		return api_fail(err, MAMBALAYA_EINTERNAL, "internal error: out of memory");
	for (int k = 0; k < c->ntensors; k++) {
		const mambalaya_tensor *x = api_find(in, nin, c->tensors[k].name);
		if (x && (c->tensors[k].role == EIN_ROLE_INPUT ||
			  c->tensors[k].role == EIN_ROLE_WEIGHT))
			for (int64_t i = 0; i < x->nelems; i++)
				t->data[k][i] = (double)x->data[i];
	}
	char msg[1024] = "";
	if (eval_run(c, t, msg, sizeof(msg)) < 0) {
		rc = api_fail(err, MAMBALAYA_EINTERNAL, "%s", msg);
	} else {
		for (int i = 0; i < nout; i++) {
			int k = ein_cascade_find_tensor(c, out[i].name);
			for (int64_t q = 0; q < out[i].nelems; q++)
				out[i].data[q] = (float)t->data[k][q];
		}
	}
	eval_tensors_free(t);
	return rc;
}
