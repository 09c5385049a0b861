/* explain.c - the policies' comparison taken apart (see explain.h). */
#include "explain.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/units.h"
#include "mapper.h"

void explain_free(explain *e)
{
	if (!e)
		return;
	free(e->tensors);
	for (int i = 0; i < EXPLAIN_MAX_VARIANTS; i++)
		free(e->status[i]);
	free(e);
}

static void take_time(const plan *p, const target *t, explain_time *out)
{
	double hz = t->clock_ghz * 1e9;
	memset(out, 0, sizeof(*out));
	out->latency_seconds = p->latency_seconds;
	out->groups = p->ngroups;
	for (int i = 0; i < p->ngroups; i++) {
		const plan_cost *c = &p->groups[i].cost;
		double onchip = 0;
		for (int l = 1; l < c->nlevels && l < PLAN_MAX_LEVELS; l++)
			if (c->level_cycles[l] > onchip)
				onchip = c->level_cycles[l];
		if (onchip > c->comp_cycles && onchip > c->mem_cycles)
			out->level_bound_seconds += c->cycles / hz;
		else if (c->comp_cycles >= c->mem_cycles)
			out->compute_bound_seconds += c->cycles / hz;
		else
			out->memory_bound_seconds += c->cycles / hz;
	}
	out->nlevels = p->total.nlevels < PLAN_MAX_LEVELS ? p->total.nlevels : PLAN_MAX_LEVELS;
	for (int l = 0; l < out->nlevels; l++) {
		snprintf(out->level_name[l], sizeof(out->level_name[l]), "%s", plan_level_name(p, l));
		out->level_bytes[l] = p->total.level_read_bytes[l] + p->total.level_write_bytes[l];
		out->level_seconds[l] = p->total.level_cycles[l] / hz;
	}
	out->comp_seconds_2d = p->total.comp_cycles_2d / hz;
	out->comp_seconds_1d = p->total.comp_cycles_1d / hz;
	out->mem_seconds = p->total.mem_cycles / hz;
	out->dram_bytes = p->total.dram_bytes;
	out->peak_buffer_bytes = p->total.buffer_bytes;
}

static int by_saving(const void *a, const void *b)
{
	const explain_tensor *x = a, *y = b;
	double sx = x->bytes[MAPPER_UNFUSED] - x->bytes[MAPPER_FULL];
	double sy = y->bytes[MAPPER_UNFUSED] - y->bytes[MAPPER_FULL];
	if (sx != sy)
		return sx > sy ? -1 : 1;
	/* Then what full still moves, largest first. */
	if (x->bytes[MAPPER_FULL] != y->bytes[MAPPER_FULL])
		return x->bytes[MAPPER_FULL] > y->bytes[MAPPER_FULL] ? -1 : 1;
	return x->tensor - y->tensor;
}

static int take_tensors(explain *e, const ein_cascade *c, plan *const ps[])
{
	e->ntensors = c->ntensors;
	if (!(e->tensors = calloc((size_t)c->ntensors + 1, sizeof(explain_tensor))))
		return -1;
	for (int i = 0; i < c->ntensors; i++) {
		e->tensors[i].tensor = i;
		e->tensors[i].full_group = -1;
	}
	for (int k = 0; k < EXPLAIN_POLICIES; k++)
		for (int g = 0; g < ps[k]->ngroups; g++) {
			const plan_group *gr = &ps[k]->groups[g];
			for (int q = 0; q < gr->ntensors; q++) {
				const plan_tensor *pt = &gr->tensors[q];
				if (pt->tensor < 0 || pt->tensor >= c->ntensors)
					continue;
				explain_tensor *x = &e->tensors[pt->tensor];
				x->bytes[k] += pt->dram_bytes;
				if (k == MAPPER_FULL && pt->role != FUSION_IN) {
					x->full_group = g;
					x->full_on_chip = pt->role == FUSION_INTERNAL;
				}
			}
		}
	qsort(e->tensors, (size_t)e->ntensors, sizeof(explain_tensor), by_saving);
	return 0;
}

/* Overheads start at 0: their variants add to them rather than scale. */
static int additive(const char *field)
{
	size_t n = strlen(field);
	return n > 15 && strcmp(field + n - 15, "overhead_cycles") == 0;
}

/* The values varied, in the order printed, with their factors (for an
 * additive value, what is added). */
static const struct {
	const char *field;
	double factor;
} variant_list[] = {
	{"bytes_per_value", 2},	  {"bytes_per_value", 0.5}, {"dram_gb_per_s", 0.5},
	{"dram_gb_per_s", 2},	  {"buffer_bytes", 0.25},   {"buffer_bytes", 4},
	{"clock_ghz", 0.5},	  {"clock_ghz", 2},	    {"array2d", 0.5},
	{"array2d", 2},		  {"array1d.lanes", 1.0 / 256}, {"array1d.lanes", 0.25},
	{"array1d.cycles", 2},	  {"switch_cycles", 0},	    {"switch_cycles", 4},
	{"memory_levels[1].read_gb_per_s", 0.5}, {"memory_levels[1].read_gb_per_s", 0.125},
	{"memory_levels[1].tile_overhead_cycles", 1000},
};

/* Applies variant v to t (a copy); writes the new value into buf.
 * Returns 0, or -1 when it does not apply (1-byte values halved). */
static int apply(target *t, const char *field, double f, char *buf, size_t len)
{
	if (strcmp(field, "bytes_per_value") == 0) {
		double v = t->bytes_per_value * f;
		if (v < 1 || v != floor(v))
			return -1;
		t->bytes_per_value = (int)v;
		snprintf(buf, len, "%d", t->bytes_per_value);
	} else if (strcmp(field, "dram_gb_per_s") == 0) {
		t->dram_gb_per_s *= f;
		t->levels[0].read_gb_per_s *= f;
		t->levels[0].write_gb_per_s *= f;
		snprintf(buf, len, "%g GB/s", t->dram_gb_per_s);
	} else if (strcmp(field, "buffer_bytes") == 0) {
		int64_t b = (int64_t)((double)t->buffer_bytes * f);
		if (b < 1)
			return -1;
		target_set_buffer(t, b);
		units_mib((double)t->buffer_bytes, buf, len);
	} else if (strcmp(field, "clock_ghz") == 0) {
		t->clock_ghz *= f;
		snprintf(buf, len, "%g GHz", t->clock_ghz);
	} else if (strcmp(field, "array2d") == 0) {
		int64_t r = (int64_t)((double)t->rows * f), c = (int64_t)((double)t->cols * f);
		if (r < 1 || c < 1)
			return -1;
		t->rows = r;
		t->cols = c;
		t->drain_cycles = (int64_t)ceil((double)t->drain_cycles * f);
		snprintf(buf, len, "%lldx%lld", (long long)r, (long long)c);
	} else if (strcmp(field, "array1d.lanes") == 0) {
		int64_t l = (int64_t)((double)t->lanes * f);
		if (l < 1)
			return -1;
		t->lanes = l;
		snprintf(buf, len, "%lld lanes", (long long)l);
	} else if (strcmp(field, "array1d.cycles") == 0) {
		for (int i = 0; i < TARGET_NOPS; i++)
			t->op_cycles[i] *= f;
		snprintf(buf, len, "every op x%g", f);
	} else if (strcmp(field, "memory_levels[1].read_gb_per_s") == 0) {
		/* The buffer's bandwidth both ways (a target without levels
		 * does not model it). */
		if (!t->declared_levels)
			return -1;
		t->levels[1].read_gb_per_s *= f;
		t->levels[1].write_gb_per_s *= f;
		snprintf(buf, len, "%g GB/s", t->levels[1].read_gb_per_s);
	} else if (strcmp(field, "memory_levels[1].tile_overhead_cycles") == 0) {
		/* Factor: the cycles added per buffer tile. */
		if (!t->declared_levels)
			return -1;
		t->levels[1].tile_overhead_cycles += f;
		snprintf(buf, len, "%g cycles", t->levels[1].tile_overhead_cycles);
	} else if (strcmp(field, "switch_cycles") == 0) {
		if (t->concurrent)
			return -1;
		t->switch_cycles *= f;
		snprintf(buf, len, "%g cycles", t->switch_cycles);
	} else {
		return -1;
	}
	return 0;
}

/* "source: TEXT", "assumption: TEXT" or "given, no source" for a field
 * (the target's sources and assumptions name fields by their JSON
 * path; a group such as array2d matches its members). */
static char *status_of(const target *t, const char *field)
{
	/* With memory_levels, the levels carry these two. */
	if (t->declared_levels && strcmp(field, "buffer_bytes") == 0)
		field = "memory_levels[1].bytes";
	else if (t->declared_levels && strcmp(field, "dram_gb_per_s") == 0)
		field = "memory_levels[0].read_gb_per_s";
	size_t n = strlen(field);
	char buf[1024];
	/* Pass 0: the field itself; pass 1: a member of it (array2d.rows). */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < t->nsources; i++) {
			const char *f = t->source_fields[i];
			if (strncmp(f, field, n) == 0 && f[n] == (pass ? '.' : 0)) {
				snprintf(buf, sizeof(buf), "source (%s): %s", f,
					 t->source_texts[i]);
				return strdup(buf);
			}
		}
		for (int i = 0; i < t->nassumptions; i++) {
			const char *a = t->assumptions[i];
			if (strncmp(a, field, n) == 0 && a[n] == (pass ? '.' : ':')) {
				snprintf(buf, sizeof(buf), "assumption: %s", a);
				return strdup(buf);
			}
		}
	}
	return strdup("no source and not listed among the assumptions");
}

/* A deep copy, through the JSON form that the loader checks. */
static target *copy_target(const target *t, char *err, size_t errlen)
{
	cJSON *j = target_to_json(t);
	target *c = j ? target_from_json(j, err, errlen) : NULL;
	cJSON_Delete(j);
	if (!j)
		snprintf(err, errlen, "out of memory");
	return c;
}

static int run_variant(const cost_model *base, const char *field, double f, double budget,
		       explain_variant *v, char *err, size_t errlen)
{
	int status = -1;
	cost_model *m = NULL;
	target *t = copy_target(cost_target(base), err, errlen);
	if (!t)
		return -1;
	/* The copy keeps the buffer the caller may have overridden. */
	target_set_buffer(t, cost_target(base)->buffer_bytes);
	if (apply(t, field, f, v->value, sizeof(v->value)) < 0) {
		status = 1;
		goto done;
	}
	if (!(m = cost_model_new(cost_deps(base), t, err, errlen)))
		goto done;
	for (int k = 0; k < EXPLAIN_POLICIES; k++) {
		mapper_opts o = {(mapper_policy)k, budget, 1};
		plan *p = mapper_run(m, &o, err, errlen);
		if (!p)
			goto done;
		v->latency[k] = p->latency_seconds;
		plan_free(p);
	}
	v->field = field;
	v->factor = f;
	v->ratio_unfused = v->latency[MAPPER_UNFUSED] / v->latency[MAPPER_FULL];
	v->ratio_ssm_ri = v->latency[MAPPER_SSM_RI] / v->latency[MAPPER_FULL];
	status = 0;
done:
	cost_model_free(m);
	target_free(t);
	return status;
}

explain *explain_build(const cost_model *m, plan *const ps[EXPLAIN_POLICIES],
		       double time_budget, char *err, size_t errlen)
{
	const target *t = cost_target(m);
	const ein_cascade *c = cost_deps(m)->c;
	explain *e = calloc(1, sizeof(*e));
	if (!e || take_tensors(e, c, ps) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (int k = 0; k < EXPLAIN_POLICIES; k++)
		take_time(ps[k], t, &e->time[k]);
	double full = e->time[MAPPER_FULL].latency_seconds;
	e->ratio_unfused = e->time[MAPPER_UNFUSED].latency_seconds / full;
	e->ratio_ssm_ri = e->time[MAPPER_SSM_RI].latency_seconds / full;
	/* A CPU target's fields are measured rates, not design choices. */
	e->cpu = t->kind == TARGET_CPU;
	for (size_t i = 0; !e->cpu && i < sizeof(variant_list) / sizeof(variant_list[0]); i++) {
		explain_variant *v = &e->variants[e->nvariants];
		int r = run_variant(m, variant_list[i].field, variant_list[i].factor, time_budget,
				    v, err, errlen);
		if (r < 0)
			goto fail;
		if (r > 0)
			continue;
		if (!(e->status[e->nvariants] = status_of(t, v->field))) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		e->nvariants++;
	}
	return e;
fail:
	explain_free(e);
	return NULL;
}

static const char *const pol_names[EXPLAIN_POLICIES] = {"unfused", "ssm-ri", "full"};

void explain_text(const explain *e, const ein_cascade *c, sbuf *out)
{
	char b[EXPLAIN_POLICIES + 1][64];
	const explain_time *tu = &e->time[MAPPER_UNFUSED], *tf = &e->time[MAPPER_FULL];
	sbuf_printf(out, "\nwhy: full is %.3gx faster than unfused and %.3gx faster than "
			 "ssm-ri\n", e->ratio_unfused, e->ratio_ssm_ri);

	sbuf_printf(out, "\ntime by bound (groups bound by compute or by DRAM; the arrays' "
			 "and DRAM's busy time, not overlapped):\n");
	sbuf_printf(out, "  %-8s %7s %12s %14s %13s %12s %12s %12s %12s %12s\n", "policy",
		    "groups", "latency", "compute-bound", "memory-bound", "2D busy", "1D busy",
		    "DRAM busy", "DRAM bytes", "peak buffer");
	for (int k = 0; k < EXPLAIN_POLICIES; k++) {
		const explain_time *x = &e->time[k];
		char s[7][64];
		units_time(x->latency_seconds, s[0], 64);
		units_time(x->compute_bound_seconds, s[1], 64);
		units_time(x->memory_bound_seconds, s[2], 64);
		units_time(x->comp_seconds_2d, s[3], 64);
		units_time(x->comp_seconds_1d, s[4], 64);
		units_time(x->mem_seconds, s[5], 64);
		units_bytes(x->dram_bytes, s[6], 64);
		units_mib(x->peak_buffer_bytes, b[0], 64);
		sbuf_printf(out, "  %-8s %7d %12s %14s %13s %12s %12s %12s %12s %12s\n",
			    pol_names[k], x->groups, s[0], s[1], s[2], s[3], s[4], s[5], s[6], b[0]);
	}

	if (tf->nlevels > 1) {
		sbuf_printf(out, "\ntraffic by memory level (bytes read and written; busy time, "
				 "not overlapped; groups bound by an on-chip level: ");
		for (int k = 0; k < EXPLAIN_POLICIES; k++) {
			units_time(e->time[k].level_bound_seconds, b[0], 64);
			sbuf_printf(out, "%s%s %s", k ? ", " : "", pol_names[k], b[0]);
		}
		sbuf_printf(out, "):\n  %-8s", "level");
		for (int k = 0; k < EXPLAIN_POLICIES; k++)
			sbuf_printf(out, " %12s %10s", pol_names[k], "busy");
		sbuf_printf(out, "\n");
		for (int l = 0; l < tf->nlevels; l++) {
			sbuf_printf(out, "  %-8s", tf->level_name[l]);
			for (int k = 0; k < EXPLAIN_POLICIES; k++) {
				units_bytes(e->time[k].level_bytes[l], b[0], 64);
				units_time(e->time[k].level_seconds[l], b[1], 64);
				sbuf_printf(out, " %12s %10s", b[0], b[1]);
			}
			sbuf_printf(out, "\n");
		}
	}

	double saved = tu->dram_bytes - tf->dram_bytes;
	sbuf_printf(out, "\nDRAM traffic by tensor (the saving of full over unfused, largest "
			 "first):\n");
	sbuf_printf(out, "  %-8s %12s %12s %12s %12s %7s  %s\n", "tensor", "unfused", "ssm-ri",
		    "full", "saved", "share", "where full keeps it");
	for (int i = 0; i < e->ntensors; i++) {
		const explain_tensor *x = &e->tensors[i];
		if (x->bytes[0] == 0 && x->bytes[1] == 0 && x->bytes[2] == 0)
			continue;
		for (int k = 0; k < EXPLAIN_POLICIES; k++)
			units_bytes(x->bytes[k], b[k], 64);
		double s = x->bytes[MAPPER_UNFUSED] - x->bytes[MAPPER_FULL];
		units_bytes(fabs(s), b[3], 64);
		char where[96] = "DRAM";
		int fewer = x->bytes[MAPPER_FULL] < x->bytes[MAPPER_UNFUSED];
		if (x->full_group >= 0 && x->full_on_chip)
			snprintf(where, sizeof(where), "on chip in group %d", x->full_group);
		else if (x->full_group >= 0 && fewer)
			snprintf(where, sizeof(where), "group %d, which sends out only what "
						       "others read", x->full_group);
		else if (fewer)
			snprintf(where, sizeof(where), "DRAM, read fewer times");
		sbuf_printf(out, "  %-8s %12s %12s %12s %s%11s %6.1f%%  %s\n",
			    c->tensors[x->tensor].name, b[0], b[1], b[2], s < 0 ? "-" : " ", b[3],
			    saved > 0 ? 100 * s / saved : 0.0, where);
	}
	units_bytes(tu->dram_bytes, b[0], 64);
	units_bytes(e->time[MAPPER_SSM_RI].dram_bytes, b[1], 64);
	units_bytes(tf->dram_bytes, b[2], 64);
	units_bytes(fabs(saved), b[3], 64);
	sbuf_printf(out, "  %-8s %12s %12s %12s %s%11s\n", "total", b[0], b[1], b[2],
		    saved < 0 ? "-" : " ", b[3]);

	if (e->cpu) {
		sbuf_printf(out, "\nassumptions: a CPU target's values are measured "
				 "(mambalaya calibrate), not varied here\n");
		return;
	}
	sbuf_printf(out, "\nassumptions: the ratios with one value of the target changed "
			 "(every policy searched again)\n");
	sbuf_printf(out, "  %-38s %-8s %-18s %13s %12s  %s\n", "value", "change", "becomes",
		    "full/unfused", "full/ssm-ri", "where the value comes from");
	sbuf_printf(out, "  %-38s %-8s %-18s %12.3gx %11.3gx\n", "(as given)", "", "",
		    e->ratio_unfused, e->ratio_ssm_ri);
	for (int i = 0; i < e->nvariants; i++) {
		const explain_variant *v = &e->variants[i];
		char f[16];
		if (additive(v->field))
			snprintf(f, sizeof(f), "+%g", v->factor);
		else if (v->factor > 0 && v->factor < 1 && 1 / v->factor == floor(1 / v->factor))
			snprintf(f, sizeof(f), "x1/%g", 1 / v->factor);
		else
			snprintf(f, sizeof(f), "x%g", v->factor);
		sbuf_printf(out, "  %-38s %-8s %-18s %12.3gx %11.3gx  %s\n", v->field, f, v->value,
			    v->ratio_unfused, v->ratio_ssm_ri, e->status[i]);
	}
}

cJSON *explain_to_json(const explain *e, const ein_cascade *c)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	cJSON_AddNumberToObject(j, "full_over_unfused", e->ratio_unfused);
	cJSON_AddNumberToObject(j, "full_over_ssm_ri", e->ratio_ssm_ri);
	cJSON *tm = cJSON_AddObjectToObject(j, "time");
	for (int k = 0; tm && k < EXPLAIN_POLICIES; k++) {
		const explain_time *x = &e->time[k];
		cJSON *o = cJSON_AddObjectToObject(tm, pol_names[k]);
		cJSON_AddNumberToObject(o, "groups", x->groups);
		cJSON_AddNumberToObject(o, "latency_seconds", x->latency_seconds);
		cJSON_AddNumberToObject(o, "compute_bound_seconds", x->compute_bound_seconds);
		cJSON_AddNumberToObject(o, "memory_bound_seconds", x->memory_bound_seconds);
		cJSON_AddNumberToObject(o, "busy_2d_seconds", x->comp_seconds_2d);
		cJSON_AddNumberToObject(o, "busy_1d_seconds", x->comp_seconds_1d);
		cJSON_AddNumberToObject(o, "busy_dram_seconds", x->mem_seconds);
		cJSON_AddNumberToObject(o, "dram_bytes", x->dram_bytes);
		cJSON_AddNumberToObject(o, "peak_buffer_bytes", x->peak_buffer_bytes);
		cJSON_AddNumberToObject(o, "level_bound_seconds", x->level_bound_seconds);
		cJSON *ls = cJSON_AddArrayToObject(o, "levels");
		for (int l = 0; ls && l < x->nlevels; l++) {
			cJSON *r = cJSON_CreateObject();
			cJSON_AddStringToObject(r, "name", x->level_name[l]);
			cJSON_AddNumberToObject(r, "bytes", x->level_bytes[l]);
			cJSON_AddNumberToObject(r, "busy_seconds", x->level_seconds[l]);
			cJSON_AddItemToArray(ls, r);
		}
	}
	cJSON *ts = cJSON_AddArrayToObject(j, "tensors");
	for (int i = 0; ts && i < e->ntensors; i++) {
		const explain_tensor *x = &e->tensors[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "tensor", c->tensors[x->tensor].name);
		cJSON *by = cJSON_AddObjectToObject(o, "dram_bytes");
		for (int k = 0; by && k < EXPLAIN_POLICIES; k++)
			cJSON_AddNumberToObject(by, pol_names[k], x->bytes[k]);
		if (x->full_group >= 0)
			cJSON_AddNumberToObject(o, "full_group", x->full_group);
		else
			cJSON_AddNullToObject(o, "full_group");
		cJSON_AddBoolToObject(o, "full_on_chip", x->full_on_chip);
		cJSON_AddItemToArray(ts, o);
	}
	cJSON *vs = cJSON_AddArrayToObject(j, "assumptions");
	for (int i = 0; vs && i < e->nvariants; i++) {
		const explain_variant *v = &e->variants[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "field", v->field);
		cJSON_AddNumberToObject(o, additive(v->field) ? "add" : "factor", v->factor);
		cJSON_AddStringToObject(o, "value", v->value);
		cJSON_AddNumberToObject(o, "full_over_unfused", v->ratio_unfused);
		cJSON_AddNumberToObject(o, "full_over_ssm_ri", v->ratio_ssm_ri);
		cJSON_AddStringToObject(o, "status", e->status[i]);
		cJSON_AddItemToArray(vs, o);
	}
	return j;
}
