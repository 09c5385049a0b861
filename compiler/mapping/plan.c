/* plan.c - plans as JSON, and their checks (see plan.h, docs/plan.md). */
#include "plan.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/deps.h"
#include "analysis/fusion.h"
#include "analysis/recompute.h"
#include "base/diag.h"

#define PLAN_SCHEMA 1

static const char *const unit_names[] = {"2d", "1d"};
static const char *const mp_names[] = {"none", "buffer", "spill", "recompute"};
static const char *const role_names[] = {"internal", "in", "out"};

static void group_clear(plan_group *g)
{
	free(g->members);
	for (int k = 0; k < g->nband; k++)
		free(g->band[k]);
	free(g->tensors);
	memset(g, 0, sizeof(*g));
}

void plan_free(plan *p)
{
	if (!p)
		return;
	free(p->file);
	free(p->arch);
	free(p->policy);
	for (int i = 0; i < p->nparams; i++)
		free(p->param_names[i]);
	free(p->param_names);
	free(p->param_values);
	for (int i = 0; i < p->ngroups; i++)
		group_clear(&p->groups[i]);
	free(p->groups);
	cJSON_Delete(p->target);
	for (int i = 0; i < p->nrecompute; i++) {
		plan_recompute *rc = &p->recompute[i];
		free(rc->tensor);
		free(rc->copy);
		for (int k = 0; k < rc->nchain; k++)
			free(rc->chain[k]);
		free(rc->chain);
		for (int k = 0; k < rc->nreaders; k++)
			free(rc->readers[k]);
		free(rc->readers);
	}
	free(p->recompute);
	ein_cascade_free(p->cascade);
	free(p);
}

const ein_cascade *plan_cascade(const plan *p, const ein_cascade *c)
{
	return p && p->cascade ? p->cascade : c;
}

static char **names_of(const ein_cascade *c, const int *idx, int n)
{
	char **v = calloc((size_t)(n ? n : 1), sizeof(*v));
	for (int k = 0; v && k < n; k++)
		if (!(v[k] = strdup(c->einsums[idx[k]].name))) {
			for (int q = 0; q < k; q++)
				free(v[q]);
			free(v);
			return NULL;
		}
	return v;
}

int plan_set_recompute(plan *p, const ein_cascade *c, const recompute_spec *s, int n,
		       ein_cascade *rc, const int *copy)
{
	ein_cascade_free(p->cascade);
	p->cascade = rc;
	p->recompute = calloc((size_t)(n ? n : 1), sizeof(*p->recompute));
	if (!p->recompute)
		return -1;
	for (int i = 0; i < n; i++) {
		plan_recompute *r = &p->recompute[p->nrecompute++];
		r->tensor = strdup(c->tensors[s[i].tensor].name);
		r->copy = strdup(rc->tensors[copy[i]].name);
		if ((r->chain = names_of(c, s[i].chain, s[i].nchain)))
			r->nchain = s[i].nchain;
		if ((r->readers = names_of(c, s[i].readers, s[i].nreaders)))
			r->nreaders = s[i].nreaders;
		if (!r->tensor || !r->copy || !r->chain || !r->readers)
			return -1;
	}
	return 0;
}

static cJSON *names_json(char *const *names, int n)
{
	cJSON *a = cJSON_CreateArray();
	for (int k = 0; a && k < n; k++)
		cJSON_AddItemToArray(a, cJSON_CreateString(names[k]));
	return a;
}

/* ---- Output ------------------------------------------------------------- */

/* Numbers: integers print as integers; others with 6 significant digits
 * so that the output is stable across platforms. */
static void add_num(cJSON *o, const char *key, double v)
{
	if (!isfinite(v)) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		cJSON_AddNumberToObject(o, key, v);
		return;
	}
	char buf[64];
	snprintf(buf, sizeof(buf), "%.6g", v);
	cJSON_AddNumberToObject(o, key, strtod(buf, NULL));
}

const char *plan_level_name(const plan *p, int l)
{
	const cJSON *ls = p->target ? cJSON_GetObjectItemCaseSensitive(p->target, "memory_levels")
				    : NULL;
	const cJSON *lv = ls ? cJSON_GetArrayItem(ls, l) : NULL;
	const cJSON *nm = lv ? cJSON_GetObjectItemCaseSensitive(lv, "name") : NULL;
	if (cJSON_IsString(nm))
		return nm->valuestring;
	return l == 0 ? "DRAM" : l == 1 ? "buffer" : "PE";
}

/* Per level: bytes read and written, busy cycles, and the share of the
 * latency they take. */
static void levels_json(cJSON *o, const plan *p, const plan_cost *c)
{
	cJSON *ls = cJSON_AddArrayToObject(o, "levels");
	for (int l = 0; l < c->nlevels && l < PLAN_MAX_LEVELS; l++) {
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "name", plan_level_name(p, l));
		add_num(r, "read_bytes", round(c->level_read_bytes[l]));
		add_num(r, "write_bytes", round(c->level_write_bytes[l]));
		add_num(r, "cycles", round(c->level_cycles[l]));
		add_num(r, "util", c->cycles > 0 ? c->level_cycles[l] / c->cycles : 0);
		cJSON_AddItemToArray(ls, r);
	}
}

static void cost_json(cJSON *parent, const char *key, const plan *p, const plan_cost *c)
{
	cJSON *o = cJSON_AddObjectToObject(parent, key);
	add_num(o, "cycles", round(c->cycles));
	add_num(o, "comp_cycles", round(c->comp_cycles));
	add_num(o, "comp_cycles_2d", round(c->comp_cycles_2d));
	add_num(o, "comp_cycles_1d", round(c->comp_cycles_1d));
	add_num(o, "mem_cycles", round(c->mem_cycles));
	add_num(o, "cache_cycles", round(c->cache_cycles));
	add_num(o, "dram_bytes", round(c->dram_bytes));
	add_num(o, "buffer_bytes", round(c->buffer_bytes));
	add_num(o, "util_2d", c->util_2d);
	add_num(o, "util_1d", c->util_1d);
	add_num(o, "mem_util", c->mem_util);
	add_num(o, "overhead_cycles", round(c->overhead_cycles));
	levels_json(o, p, c);
}

cJSON *plan_to_json(const plan *p, const ein_cascade *c)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	cJSON_AddNumberToObject(j, "schema", PLAN_SCHEMA);
	cJSON_AddStringToObject(j, "file", p->file ? p->file : "");
	cJSON_AddStringToObject(j, "arch", p->arch ? p->arch : "");
	cJSON_AddStringToObject(j, "policy", p->policy ? p->policy : "");
	cJSON *pa = cJSON_AddObjectToObject(j, "params");
	for (int i = 0; i < p->nparams; i++)
		cJSON_AddNumberToObject(pa, p->param_names[i], (double)p->param_values[i]);
	cJSON *tot = cJSON_AddObjectToObject(j, "total");
	add_num(tot, "cycles", round(p->total.cycles));
	add_num(tot, "latency_seconds", p->latency_seconds);
	add_num(tot, "dram_bytes", round(p->total.dram_bytes));
	add_num(tot, "comp_cycles", round(p->total.comp_cycles));
	add_num(tot, "comp_cycles_2d", round(p->total.comp_cycles_2d));
	add_num(tot, "comp_cycles_1d", round(p->total.comp_cycles_1d));
	add_num(tot, "mem_cycles", round(p->total.mem_cycles));
	add_num(tot, "cache_cycles", round(p->total.cache_cycles));
	add_num(tot, "buffer_bytes", round(p->total.buffer_bytes));
	add_num(tot, "util_2d", p->total.util_2d);
	add_num(tot, "util_1d", p->total.util_1d);
	add_num(tot, "mem_util", p->total.mem_util);
	add_num(tot, "overhead_cycles", round(p->total.overhead_cycles));
	levels_json(tot, p, &p->total);
	cJSON_AddNumberToObject(tot, "groups", p->ngroups);
	cJSON *se = cJSON_AddObjectToObject(j, "search");
	add_num(se, "seconds", p->search_seconds);
	cJSON_AddNumberToObject(se, "mappings", (double)p->candidates);
	cJSON_AddNumberToObject(se, "groups_considered", (double)p->groups_considered);
	cJSON_AddBoolToObject(se, "complete", p->complete);
	if (p->time_budget > 0)
		add_num(se, "time_budget_seconds", p->time_budget);
	else
		cJSON_AddNullToObject(se, "time_budget_seconds");
	cJSON_AddNumberToObject(se, "footprints_checked", p->footprints_checked);
	cJSON_AddNumberToObject(se, "footprints_differed", p->footprints_differed);
	if (p->nrecompute) {
		cJSON *ra = cJSON_AddArrayToObject(j, "recompute");
		for (int i = 0; ra && i < p->nrecompute; i++) {
			const plan_recompute *rc = &p->recompute[i];
			cJSON *o = cJSON_CreateObject();
			cJSON_AddItemToArray(ra, o);
			cJSON_AddStringToObject(o, "tensor", rc->tensor);
			cJSON_AddItemToObject(o, "einsums", names_json(rc->chain, rc->nchain));
			cJSON_AddItemToObject(o, "readers", names_json(rc->readers, rc->nreaders));
			cJSON_AddStringToObject(o, "copy", rc->copy);
		}
	}
	c = plan_cascade(p, c);
	cJSON *gs = cJSON_AddArrayToObject(j, "groups");
	for (int i = 0; i < p->ngroups; i++) {
		const plan_group *g = &p->groups[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToArray(gs, o);
		cJSON_AddNumberToObject(o, "id", i);
		cJSON *es = cJSON_AddArrayToObject(o, "einsums");
		for (int k = 0; k < g->nmembers; k++)
			cJSON_AddItemToArray(es, cJSON_CreateString(
							 c->einsums[g->members[k].einsum].name));
		cJSON *b = cJSON_AddArrayToObject(o, "band");
		for (int k = 0; k < g->nband; k++) {
			cJSON *r = cJSON_CreateObject();
			cJSON_AddStringToObject(r, "rank", g->band[k]);
			cJSON_AddNumberToObject(r, "tile", (double)g->tile[k]);
			cJSON_AddItemToArray(b, r);
		}
		add_num(o, "tiles", g->ntiles);
		cJSON_AddBoolToObject(o, "fits", g->fits);
		/* Seconds at the target's clock (the plan keeps the total's). */
		add_num(o, "latency_seconds", p->total.cycles > 0
			? g->cost.cycles * (p->latency_seconds / p->total.cycles) : 0);
		cost_json(o, "cost", p, &g->cost);
		cJSON *ms = cJSON_AddArrayToObject(o, "members");
		for (int k = 0; k < g->nmembers; k++) {
			const plan_member *mb = &g->members[k];
			cJSON *r = cJSON_CreateObject();
			cJSON_AddStringToObject(r, "einsum", c->einsums[mb->einsum].name);
			cJSON_AddStringToObject(r, "unit", unit_names[mb->unit]);
			cost_json(r, "cost", p, &mb->cost);
			cJSON_AddItemToArray(ms, r);
		}
		cJSON *ts = cJSON_AddArrayToObject(o, "tensors");
		for (int k = 0; k < g->ntensors; k++) {
			const plan_tensor *t = &g->tensors[k];
			cJSON *r = cJSON_CreateObject();
			cJSON_AddStringToObject(r, "name", c->tensors[t->tensor].name);
			cJSON_AddStringToObject(r, "role",
						t->role >= 0 && t->role < 3 ? role_names[t->role] : "?");
			if (t->level >= 0)
				cJSON_AddNumberToObject(r, "level", t->level);
			else
				cJSON_AddNullToObject(r, "level");
			cJSON_AddStringToObject(r, "multipass",
						t->multipass >= 0 && t->multipass < 4
							? mp_names[t->multipass]
							: "none");
			add_num(r, "tile_elements", t->tile_elems);
			add_num(r, "buffer_bytes", round(t->buffer_bytes));
			add_num(r, "dram_bytes", round(t->dram_bytes));
			cJSON_AddItemToArray(ts, r);
		}
	}
	if (p->target)
		cJSON_AddItemToObject(j, "target", cJSON_Duplicate(p->target, 1));
	return j;
}

/* ---- Input -------------------------------------------------------------- */

typedef struct reader {
	char *err;
	size_t errlen;
} reader;

static void ferr(reader *r, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ferr(reader *r, const char *field, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Both may hold the input's names: one line whatever they are. */
	char name[256], line[1024];
	diag_escape(field, name, sizeof(name));
	diag_escape(msg, line, sizeof(line));
	snprintf(r->err, r->errlen, "field \"%s\": %s", name, line);
}

static void ftype(reader *r, const char *field, const char *what,
		  const cJSON *found)
{
	char *s = found ? cJSON_PrintUnformatted(found) : NULL;
	if (found)
		ferr(r, field, "expected %s, found %s", what, s ? s : "?");
	else
		ferr(r, field, "missing (expected %s)", what);
	free(s);
}

static const cJSON *item(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static int name_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

static int read_params(reader *r, const cJSON *j, const ein_cascade *c,
		       plan *p)
{
	const cJSON *pa = item(j, "params");
	if (!cJSON_IsObject(pa)) {
		ftype(r, "params", "an object", pa);
		return -1;
	}
	for (const cJSON *it = pa->child; it; it = it->next) {
		char f[256];
		snprintf(f, sizeof(f), "params.%s", it->string);
		int k = ein_cascade_find_param(c, it->string);
		if (k < 0) {
			ferr(r, f, "the cascade has no parameter '%s'", it->string);
			return -1;
		}
		if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) ||
		    fabs(it->valuedouble) > 9007199254740992.0) {
			ftype(r, f, "an integer", it);
			return -1;
		}
		if ((int64_t)it->valuedouble != c->params[k].value) {
			ferr(r, f,
			     "the plan was made for %s = %lld, the cascade has %s = %lld "
			     "(use -D %s=%lld)",
			     it->string, (long long)it->valuedouble, it->string,
			     (long long)c->params[k].value, it->string,
			     (long long)it->valuedouble);
			return -1;
		}
	}
	for (int k = 0; k < c->nparams; k++) {
		if (!item(pa, c->params[k].name)) {
			char f[256];
			snprintf(f, sizeof(f), "params.%s", c->params[k].name);
			ferr(r, f, "missing (the plan must give every parameter's value)");
			return -1;
		}
	}
	p->nparams = c->nparams;
	p->param_names = calloc((size_t)(c->nparams ? c->nparams : 1), sizeof(char *));
	p->param_values = calloc((size_t)(c->nparams ? c->nparams : 1), sizeof(int64_t));
	if (!p->param_names || !p->param_values)
		goto oom;
	for (int k = 0; k < c->nparams; k++) {
		if (!(p->param_names[k] = strdup(c->params[k].name)))
			goto oom;
		p->param_values[k] = c->params[k].value;
	}
	return 0;
oom:
	snprintf(r->err, r->errlen, "out of memory");
	return -1;
}

/* Does Einsum e iterate a rank variable named rank? */
static int has_var(const ein_einsum *es, const char *rank)
{
	for (int v = 0; v < es->nvars; v++)
		if (strcmp(es->vars[v].name, rank) == 0)
			return 1;
	return 0;
}

/* The members of group gi, each with its unit. */
static int read_members(reader *r, const cJSON *go, int gi, const ein_cascade *c,
			plan_group *g, int *group_of)
{
	char f[256];
	const cJSON *ms = item(go, "members");
	snprintf(f, sizeof(f), "groups[%d].members", gi);
	if (!cJSON_IsArray(ms) || cJSON_GetArraySize(ms) == 0) {
		ftype(r, f, "a non-empty array", ms);
		return -1;
	}
	int n = cJSON_GetArraySize(ms);
	g->members = calloc((size_t)n, sizeof(*g->members));
	if (!g->members) {
		snprintf(r->err, r->errlen, "out of memory");
		return -1;
	}
	int k = 0, last = -1;
	for (const cJSON *it = ms->child; it; it = it->next, k++) {
		snprintf(f, sizeof(f), "groups[%d].members[%d].einsum", gi, k);
		const cJSON *nm = cJSON_IsObject(it) ? item(it, "einsum") : NULL;
		if (!cJSON_IsString(nm)) {
			ftype(r, f, "an Einsum name", nm);
			return -1;
		}
		int e = ein_cascade_find_einsum(c, nm->valuestring);
		if (e < 0) {
			const char *best = NULL;
			int bd = 3;
			for (int x = 0; x < c->neinsums; x++) {
				int d = diag_edit_distance(nm->valuestring, c->einsums[x].name);
				if (d < bd) {
					bd = d;
					best = c->einsums[x].name;
				}
			}
			if (best)
				ferr(r, f, "no Einsum named '%s' (did you mean '%s'?)",
				     nm->valuestring, best);
			else
				ferr(r, f, "no Einsum named '%s'", nm->valuestring);
			return -1;
		}
		if (group_of[e] >= 0) {
			ferr(r, f, "'%s' is already in group %d: every Einsum is in "
				   "exactly one group",
			     nm->valuestring, group_of[e]);
			return -1;
		}
		if (e < last) {
			ferr(r, f, "members must be listed in source order ('%s' comes "
				   "before '%s')",
			     nm->valuestring, c->einsums[last].name);
			return -1;
		}
		last = e;
		group_of[e] = gi;
		plan_member *mb = &g->members[g->nmembers++];
		mb->einsum = e;
		snprintf(f, sizeof(f), "groups[%d].members[%d].unit", gi, k);
		const cJSON *u = item(it, "unit");
		int ui = cJSON_IsString(u) ? name_index(unit_names, 2, u->valuestring) : -1;
		if (ui < 0) {
			ftype(r, f, "\"2d\" or \"1d\"", u);
			return -1;
		}
		mb->unit = (plan_unit)ui;
	}
	return 0;
}

/* The fused ranks of group gi with their tiles (after its members). */
static int read_band(reader *r, const cJSON *go, int gi, const ein_cascade *c, plan_group *g)
{
	char f[256];
	const cJSON *b = item(go, "band");
	snprintf(f, sizeof(f), "groups[%d].band", gi);
	if (!cJSON_IsArray(b)) {
		ftype(r, f, "an array of {\"rank\", \"tile\"}", b);
		return -1;
	}
	if (cJSON_GetArraySize(b) > PLAN_MAX_BAND) {
		ferr(r, f, "at most %d fused ranks", PLAN_MAX_BAND);
		return -1;
	}
	int k = 0;
	for (const cJSON *it = b->child; it; it = it->next, k++) {
		snprintf(f, sizeof(f), "groups[%d].band[%d].rank", gi, k);
		const cJSON *rk = cJSON_IsObject(it) ? item(it, "rank") : NULL;
		if (!cJSON_IsString(rk)) {
			ftype(r, f, "a rank name", rk);
			return -1;
		}
		for (int m = 0; m < g->nmembers; m++) {
			const ein_einsum *es = &c->einsums[g->members[m].einsum];
			if (!has_var(es, rk->valuestring)) {
				ferr(r, f, "'%s' has no rank '%s': every Einsum of a "
					   "group must iterate every fused rank",
				     es->name, rk->valuestring);
				return -1;
			}
		}
		for (int x = 0; x < g->nband; x++)
			if (strcmp(g->band[x], rk->valuestring) == 0) {
				ferr(r, f, "rank '%s' is listed twice", rk->valuestring);
				return -1;
			}
		if (!(g->band[g->nband] = strdup(rk->valuestring))) {
			snprintf(r->err, r->errlen, "out of memory");
			return -1;
		}
		snprintf(f, sizeof(f), "groups[%d].band[%d].tile", gi, k);
		const cJSON *tl = item(it, "tile");
		if (!cJSON_IsNumber(tl) || tl->valuedouble < 1 ||
		    tl->valuedouble != floor(tl->valuedouble) ||
		    tl->valuedouble > 9007199254740992.0) {
			ftype(r, f, "a positive integer", tl);
			g->nband++;
			return -1;
		}
		g->tile[g->nband++] = (int64_t)tl->valuedouble;
	}
	return 0;
}

/* Entry k of group gi's optional "tensors": a retention level and a
 * multi-pass choice (after its band). */
static int read_tensor(reader *r, const cJSON *it, int gi, int k, const ein_cascade *c,
		       plan_group *g)
{
	char f[256];
	plan_tensor *t = &g->tensors[g->ntensors];
	snprintf(f, sizeof(f), "groups[%d].tensors[%d].name", gi, k);
	const cJSON *nm = cJSON_IsObject(it) ? item(it, "name") : NULL;
	if (!cJSON_IsString(nm)) {
		ftype(r, f, "a tensor name", nm);
		return -1;
	}
	t->tensor = ein_cascade_find_tensor(c, nm->valuestring);
	if (t->tensor < 0) {
		ferr(r, f, "no tensor named '%s'", nm->valuestring);
		return -1;
	}
	t->level = -1;
	t->multipass = -1;
	t->role = -1;
	snprintf(f, sizeof(f), "groups[%d].tensors[%d].level", gi, k);
	const cJSON *lv = item(it, "level");
	if (lv && !cJSON_IsNull(lv)) {
		if (!cJSON_IsNumber(lv) || lv->valuedouble < 0 || lv->valuedouble > g->nband ||
		    lv->valuedouble != floor(lv->valuedouble)) {
			char what[64];
			snprintf(what, sizeof(what), "an integer from 0 to %d or null", g->nband);
			ftype(r, f, what, lv);
			return -1;
		}
		t->level = (int)lv->valuedouble;
	}
	snprintf(f, sizeof(f), "groups[%d].tensors[%d].multipass", gi, k);
	const cJSON *mp = item(it, "multipass");
	if (mp && !cJSON_IsNull(mp)) {
		int mi = cJSON_IsString(mp) ? name_index(mp_names, 4, mp->valuestring) : -1;
		if (mi < 0) {
			ftype(r, f, "\"none\", \"buffer\", \"spill\" or \"recompute\"", mp);
			return -1;
		}
		t->multipass = mi == PLAN_MP_NONE ? -1 : mi;
	}
	g->ntensors++;
	return 0;
}

static int read_group(reader *r, const cJSON *go, int gi, const ein_cascade *c,
		      plan_group *g, int *group_of)
{
	char f[256];
	if (!cJSON_IsObject(go)) {
		snprintf(f, sizeof(f), "groups[%d]", gi);
		ftype(r, f, "an object", go);
		return -1;
	}
	if (read_members(r, go, gi, c, g, group_of) < 0 || read_band(r, go, gi, c, g) < 0)
		return -1;
	const cJSON *ts = item(go, "tensors");
	if (!ts)
		return 0;
	snprintf(f, sizeof(f), "groups[%d].tensors", gi);
	if (!cJSON_IsArray(ts)) {
		ftype(r, f, "an array", ts);
		return -1;
	}
	int nt = cJSON_GetArraySize(ts);
	g->tensors = calloc((size_t)(nt ? nt : 1), sizeof(*g->tensors));
	if (!g->tensors) {
		snprintf(r->err, r->errlen, "out of memory");
		return -1;
	}
	int k = 0;
	for (const cJSON *it = ts->child; it; it = it->next, k++)
		if (read_tensor(r, it, gi, k, c, g) < 0)
			return -1;
	return 0;
}

/* Group order against the tensors' writers and readers in source order: a
 * conservative check that needs no dependence analysis (plan_validate makes
 * the exact one). */
static int check_order(reader *r, const ein_cascade *c, const int *group_of)
{
	for (int t = 0; t < c->ntensors; t++) {
		const ein_tensor *tt = &c->tensors[t];
		for (int w = 0; w < tt->nwriters; w++) {
			int a = tt->writers[w];
			for (int q = 0; q < tt->nreaders; q++) {
				int b = tt->readers[q];
				if (b <= a || group_of[a] <= group_of[b])
					continue;
				char f[64];
				snprintf(f, sizeof(f), "groups[%d]", group_of[b]);
				ferr(r, f,
				     "'%s' reads %s, which '%s' writes in the later group "
				     "%d: groups must run in dependence order",
				     c->einsums[b].name, tt->name, c->einsums[a].name,
				     group_of[a]);
				return -1;
			}
		}
	}
	return 0;
}

/* Is v a whole number in [0, max]?  (A count of the search record.) */
static int record_count(const cJSON *v, int64_t max)
{
	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= (double)max &&
	       v->valuedouble == floor(v->valuedouble);
}

/* Names in the array v (field f) as Einsum indices of c, at most max. */
static int read_names(reader *r, const cJSON *v, const char *f, const ein_cascade *c, int *out,
		      int max)
{
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 || cJSON_GetArraySize(v) > max) {
		char what[64];
		snprintf(what, sizeof(what), "an array of 1 to %d Einsum names", max);
		ftype(r, f, what, v);
		return -1;
	}
	int n = 0;
	for (const cJSON *it = v->child; it; it = it->next) {
		int e = cJSON_IsString(it) ? ein_cascade_find_einsum(c, it->valuestring) : -1;
		if (e < 0) {
			if (cJSON_IsString(it))
				ferr(r, f, "no Einsum named '%s'", it->valuestring);
			else
				ftype(r, f, "an array of Einsum names", v);
			return -1;
		}
		out[n++] = e;
	}
	return n;
}

/* "recompute": the rewrites, applied to c (the result kept in p). */
static int read_recompute(reader *r, const cJSON *ra, const ein_cascade *c, plan *p)
{
	int n = cJSON_IsArray(ra) ? cJSON_GetArraySize(ra) : -1;
	if (n < 0 || n > c->ntensors) {
		ftype(r, "recompute", "an array of rewrites", ra);
		return -1;
	}
	recompute_spec *s = calloc((size_t)(n ? n : 1), sizeof(*s));
	int *copy = calloc((size_t)(n ? n : 1), sizeof(int));
	int rc = -1, i = 0;
	char f[64], e[512];
	if (!s || !copy) {
		snprintf(r->err, r->errlen, "out of memory");
		goto done;
	}
	for (const cJSON *it = ra->child; it; it = it->next, i++) {
		const cJSON *t = item(it, "tensor");
		snprintf(f, sizeof(f), "recompute[%d].tensor", i);
		if (!cJSON_IsObject(it) || !cJSON_IsString(t)) {
			ftype(r, f, "a tensor name", t);
			goto done;
		}
		if ((s[i].tensor = ein_cascade_find_tensor(c, t->valuestring)) < 0) {
			ferr(r, f, "no tensor named '%s'", t->valuestring);
			goto done;
		}
		snprintf(f, sizeof(f), "recompute[%d].einsums", i);
		if ((s[i].nchain = read_names(r, item(it, "einsums"), f, c, s[i].chain,
					      RECOMPUTE_MAX_CHAIN)) < 0)
			goto done;
		snprintf(f, sizeof(f), "recompute[%d].readers", i);
		if ((s[i].nreaders = read_names(r, item(it, "readers"), f, c, s[i].readers,
						RECOMPUTE_MAX_READERS)) < 0)
			goto done;
		if (recompute_check(c, &s[i], e, sizeof(e)) < 0) {
			snprintf(f, sizeof(f), "recompute[%d]", i);
			ferr(r, f, "%s", e);
			goto done;
		}
	}
	ein_cascade *rw = recompute_apply(c, s, n, copy, e, sizeof(e));
	if (!rw) {
		ferr(r, "recompute", "%s", e);
		goto done;
	}
	if (plan_set_recompute(p, c, s, n, rw, copy) < 0) {
		snprintf(r->err, r->errlen, "out of memory");
		goto done;
	}
	rc = 0;
done:
	free(s);
	free(copy);
	return rc;
}

plan *plan_from_json(const cJSON *j, const ein_cascade *c, char *err,
		     size_t errlen)
{
	reader r = {err, errlen};
	plan *p = calloc(1, sizeof(*p));
	int *group_of = NULL;
	if (!p) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!cJSON_IsObject(j)) {
		snprintf(err, errlen, "expected a JSON object at the top level");
		goto fail;
	}
	const cJSON *sc = item(j, "schema");
	if (sc && (!cJSON_IsNumber(sc) || sc->valuedouble != PLAN_SCHEMA)) {
		ftype(&r, "schema", "1", sc);
		goto fail;
	}
	static const char *const str_keys[] = {"file", "arch", "policy"};
	char **dst[] = {&p->file, &p->arch, &p->policy};
	for (int k = 0; k < 3; k++) {
		const cJSON *v = item(j, str_keys[k]);
		if (v && !cJSON_IsString(v)) {
			ftype(&r, str_keys[k], "a string", v);
			goto fail;
		}
		*dst[k] = strdup(v ? v->valuestring : k == 2 ? "user" : "");
		if (!*dst[k]) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (read_params(&r, j, c, p) < 0)
		goto fail;
	const cJSON *ra = item(j, "recompute");
	if (ra && read_recompute(&r, ra, c, p) < 0)
		goto fail;
	/* The groups name the rewritten cascade's Einsums. */
	c = plan_cascade(p, c);
	group_of = malloc((size_t)(c->neinsums ? c->neinsums : 1) * sizeof(int));
	if (!group_of) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (int e = 0; e < c->neinsums; e++)
		group_of[e] = -1;
	const cJSON *gs = item(j, "groups");
	if (!cJSON_IsArray(gs) || cJSON_GetArraySize(gs) == 0) {
		ftype(&r, "groups", "a non-empty array", gs);
		goto fail;
	}
	int ng = cJSON_GetArraySize(gs);
	p->groups = calloc((size_t)ng, sizeof(*p->groups));
	if (!p->groups) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	int gi = 0;
	for (const cJSON *it = gs->child; it; it = it->next, gi++) {
		p->ngroups++;
		if (read_group(&r, it, gi, c, &p->groups[gi], group_of) < 0)
			goto fail;
	}
	for (int e = 0; e < c->neinsums; e++)
		if (group_of[e] < 0) {
			ferr(&r, "groups", "'%s' is in no group: every Einsum is in "
					   "exactly one group",
			     c->einsums[e].name);
			goto fail;
		}
	if (check_order(&r, c, group_of) < 0)
		goto fail;
	/* The record of the search that made it, kept across a round trip. */
	p->complete = 1;
	const cJSON *se = item(j, "search");
	if (cJSON_IsObject(se)) {
		const cJSON *v;
		if (cJSON_IsNumber(v = item(se, "seconds")))
			p->search_seconds = v->valuedouble;
		/* Counts out of range (a hand-edited file) are not kept:
		 * converting them would be undefined. */
		if (record_count(v = item(se, "mappings"), INT64_C(1) << 53))
			p->candidates = (int64_t)v->valuedouble;
		if (record_count(v = item(se, "groups_considered"), INT64_C(1) << 53))
			p->groups_considered = (int64_t)v->valuedouble;
		if (cJSON_IsBool(v = item(se, "complete")))
			p->complete = cJSON_IsTrue(v);
		if (cJSON_IsNumber(v = item(se, "time_budget_seconds")))
			p->time_budget = v->valuedouble;
		if (record_count(v = item(se, "footprints_checked"), INT_MAX))
			p->footprints_checked = (int)v->valuedouble;
		if (record_count(v = item(se, "footprints_differed"), INT_MAX))
			p->footprints_differed = (int)v->valuedouble;
	}
	free(group_of);
	return p;
fail:
	free(group_of);
	plan_free(p);
	return NULL;
}

/* ---- Validation --------------------------------------------------------- */

static void group_names(const ein_cascade *c, const plan_group *g, char *buf,
			size_t len)
{
	size_t w = 0;
	buf[0] = '\0';
	for (int k = 0; k < g->nmembers && w < len; k++)
		w += (size_t)snprintf(buf + w, len - w, "%s%s", k ? " " : "",
				      c->einsums[g->members[k].einsum].name);
}

int plan_validate(const plan *p, const struct deps_graph *g, char *err,
		  size_t errlen)
{
	const ein_cascade *c = g->c;
	int n = c->neinsums;
	int *group_of = malloc((size_t)(n ? n : 1) * sizeof(int));
	char *members = calloc((size_t)(n ? n : 1), 1);
	char names[1024];
	int rc = -1;
	if (!group_of || !members) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	for (int e = 0; e < n; e++)
		group_of[e] = -1;
	for (int i = 0; i < p->ngroups; i++)
		for (int k = 0; k < p->groups[i].nmembers; k++) {
			int e = p->groups[i].members[k].einsum;
			if (e < 0 || e >= n || group_of[e] >= 0) {
				snprintf(err, errlen, "group %d: Einsum %d is not in exactly "
						      "one group", i, e);
				goto done;
			}
			group_of[e] = i;
		}
	for (int e = 0; e < n; e++)
		if (group_of[e] < 0) {
			snprintf(err, errlen, "'%s' is in no group", c->einsums[e].name);
			goto done;
		}
	/* Every dependence between groups goes forward. */
	for (int pass = 0; pass < 2; pass++) {
		int ne = pass ? g->nmem : g->nedges;
		const deps_edge *es = pass ? g->mem : g->edges;
		for (int k = 0; k < ne; k++) {
			int a = es[k].producer, b = es[k].consumer;
			if (group_of[a] <= group_of[b])
				continue;
			snprintf(err, errlen,
				 "group %d runs before group %d, but '%s' depends on '%s'%s%s",
				 group_of[b], group_of[a], c->einsums[b].name,
				 c->einsums[a].name, es[k].tensor >= 0 ? " through " : "",
				 es[k].tensor >= 0 ? c->tensors[es[k].tensor].name : "");
			goto done;
		}
	}
	/* Every group legal at its tile sizes, in its loop order. */
	for (int i = 0; i < p->ngroups; i++) {
		const plan_group *gr = &p->groups[i];
		fusion_req req = {0};
		memset(members, 0, (size_t)n);
		for (int k = 0; k < gr->nmembers; k++)
			members[gr->members[k].einsum] = 1;
		req.members = members;
		req.verdict_only = 1;
		group_names(c, gr, names, sizeof(names));
		for (int k = 0; k < gr->nband; k++) {
			int r = deps_rank(g, gr->band[k]);
			if (r < 0) {
				snprintf(err, errlen, "group %d (%s): no rank named '%s'", i,
					 names, gr->band[k]);
				goto done;
			}
			req.band[req.nband] = r;
			req.tile[req.nband++] = gr->tile[k] < 1 ? 1 : gr->tile[k];
		}
		fusion_result res;
		char ferr_[512];
		int r = fusion_check(g, &req, 0, &res, ferr_, sizeof(ferr_));
		if (r < 0) {
			snprintf(err, errlen, "group %d (%s): %s", i, names, ferr_);
			goto done;
		}
		if (!res.legal) {
			char a[256] = "?", b[256] = "?", el[256] = "?";
			if (res.nwitness > 0) {
				const fusion_witness *w = &res.witness[0];
				deps_instance_str(c, w->producer, w->x, a, sizeof(a));
				deps_instance_str(c, w->consumer, w->y, b, sizeof(b));
				deps_element_str(c, w->producer, w->x, el, sizeof(el));
			}
			snprintf(err, errlen,
				 "group %d (%s) is illegal at its tile sizes: %s needs %s "
				 "from %s, which the fused schedule runs later",
				 i, names, b, el, a);
			fusion_result_clear(&res);
			goto done;
		}
		fusion_result_clear(&res);
	}
	rc = 0;
done:
	free(group_of);
	free(members);
	return rc;
}
