/* stream.c - the accelerator instruction stream from a lowered plan (see
 * stream.h and docs/isa.md): the module's tables, then each group. */
#include "stream_impl.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isl/ast.h>
#include <isl/id.h>
#include <isl/ilp.h>
#include <isl/map.h>
#include <isl/set.h>
#include <isl/val.h>

#include "analysis/fusion.h"
#include "analysis/poly.h"

static void printable(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < cap; i++) {
		unsigned char ch = (unsigned char)src[i];
		dst[i] = ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\' ? '_' : (char)ch;
	}
	dst[i] = '\0';
}

void stream_target(const target *t, mlb_target *o)
{
	memset(o, 0, sizeof(*o));
	printable(o->name, sizeof(o->name), t->name);
	o->rows = t->rows;
	o->cols = t->cols;
	o->cores = t->cores;
	o->drain_cycles = t->drain_cycles;
	o->lanes = t->lanes;
	o->buffer_bytes = t->buffer_bytes;
	for (int k = 0; k < MLB_NOPS && k < TARGET_NOPS; k++)
		o->op_cycles[k] = t->op_cycles[k];
	o->concurrent = t->concurrent != 0;
	o->double_buffer = t->double_buffer != 0;
	o->bytes_per_value = t->bytes_per_value;
	o->switch_cycles = t->switch_cycles;
	o->dram_gb_per_s = t->dram_gb_per_s;
	o->clock_ghz = t->clock_ghz;
	/* The hierarchy the plan was costed on, when the target gave one. */
	o->nlevels = t->declared_levels ? t->nlevels : 0;
	for (int l = 0; l < o->nlevels && l < MLB_MAX_LEVELS; l++) {
		const target_level *lv = &t->levels[l];
		printable(o->levels[l].name, sizeof(o->levels[l].name), lv->name);
		o->levels[l].bytes = l == 1 ? t->buffer_bytes : lv->bytes;
		o->levels[l].read_gb_per_s = lv->read_gb_per_s;
		o->levels[l].write_gb_per_s = lv->write_gb_per_s;
		o->levels[l].tile_overhead_cycles = lv->tile_overhead_cycles;
	}
}

static int build_tables(st *s, const stream_options *o)
{
	const ein_cascade *c = s->c;
	mlb_module *m = s->m;
	printable(m->name, sizeof(m->name), o->name);
	printable(m->source, sizeof(m->source), c->file);
	stream_target(s->t, &m->target);
	m->tensors = calloc((size_t)(c->ntensors ? c->ntensors : 1), sizeof(mlb_tensor));
	m->groups = calloc((size_t)(s->p->ngroups ? s->p->ngroups : 1), sizeof(char *));
	if (!m->tensors || !m->groups) {
		st_fail(s, -1, "out of memory");
		return -1;
	}
	m->ntensors = c->ntensors;
	int64_t off = 0;
	for (int t = 0; t < c->ntensors; t++) {
		const ein_tensor *tt = &c->tensors[t];
		mlb_tensor *mt = &m->tensors[t];
		printable(mt->name, sizeof(mt->name), tt->name);
		mt->role = tt->role == EIN_ROLE_INPUT	 ? MLB_ROLE_INPUT
			   : tt->role == EIN_ROLE_WEIGHT ? MLB_ROLE_WEIGHT
			   : tt->role == EIN_ROLE_OUTPUT ? MLB_ROLE_OUTPUT
							 : MLB_ROLE_TEMP;
		mt->ndims = tt->ndims;
		for (int d = 0; d < tt->ndims; d++)
			mt->shape[d] = tt->dims[d].size;
		const cg_buffer *b = &s->l->buf[t];
		if (b->kind != CG_BUF_TILE || s->need_dram[t]) {
			mt->dram = off;
			off = st_ck_add(s, off, (tt->nelems + 15) / 16 * 16);
			/* A user's sizes, not a compiler bug: say which tensor. */
			if (off > MLB_MAX_ELEMS) {
				st_fail(s, -2,
					"%s:%d:%d: tensor '%s' (%lld values) does not fit in the "
					"accelerator's DRAM address space (2^40 values for all "
					"tensors; %lld needed up to it)",
					c->file, tt->loc.line, tt->loc.col, tt->name,
					(long long)tt->nelems, (long long)off);
				return -2;
			}
		} else {
			mt->dram = -1;
		}
	}
	m->dram_values = off;
	for (int gi = 0; gi < s->p->ngroups; gi++) {
		char buf[MLB_MAX_NAME + 1];
		size_t w = 0;
		buf[0] = '\0';
		for (int e = 0; e < c->neinsums; e++)
			if (s->p->groups[gi].members[e] && w + strlen(c->einsums[e].name) + 2 < sizeof(buf))
				w += (size_t)snprintf(buf + w, sizeof(buf) - w, "%s%s", w ? "," : "",
						      c->einsums[e].name);
		char clean[MLB_MAX_NAME + 1];
		printable(clean, sizeof(clean), buf);
		m->groups[gi] = strdup(clean);
		if (!m->groups[gi]) {
			st_fail(s, -1, "out of memory");
			return -1;
		}
		m->ngroups = gi + 1;
	}
	return 0;
}

int stream_build(const deps_graph *g, const cg_plan *p, const target *t,
		 const plan *choices, const stream_options *o, mlb_module **out,
		 char *err, size_t errlen)
{
	*out = NULL;
	st *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->g = g;
	s->c = g->c;
	s->t = t;
	s->p = p;
	s->choices = choices;
	s->err = err;
	s->errlen = errlen;
	cg_options co = {o->name, o->blas, 0, NULL, 0, 0, 0}; /* no masked products, no CPU layouts */
	cg_lowered *l = NULL;
	int rc = cg_lower(g, p, &co, &l, err, errlen);
	if (rc < 0) {
		free(s);
		return rc;
	}
	s->l = l;
	char merr[512];
	s->cm = cost_model_new(g, t, merr, sizeof(merr));
	s->m = mlb_new();
	s->need_dram = calloc((size_t)(s->c->ntensors ? s->c->ntensors : 1), 1);
	s->unit_of = calloc((size_t)(s->c->neinsums ? s->c->neinsums : 1), sizeof(int));
	s->defer_pre = calloc((size_t)(s->c->neinsums ? s->c->neinsums : 1), 1);
	s->defer_post = calloc((size_t)(s->c->neinsums ? s->c->neinsums : 1), 1);
	if (!s->cm)
		st_fail(s, -1, "cost model: %s", merr);
	else if (!s->m || !s->need_dram || !s->unit_of || !s->defer_pre || !s->defer_post)
		st_fail(s, -1, "out of memory");
	for (int gi = 0; gi < p->ngroups && !s->rc; gi++)
		st_emit_group(s, gi);
	st_emit(s, MLB_HALT, 0, 0, 0, 0, 0);
	if (!s->rc)
		build_tables(s, o);
	if (!s->rc) {
		char verr[512];
		if (mlb_validate(s->m, verr, sizeof(verr)) < 0)
			st_fail(s, -1, "the emitted stream is invalid: %s", verr);
	}
	rc = s->rc;
	if (!rc)
		*out = s->m;
	else
		mlb_free(s->m);
	cost_group_free(s->cg);
	cost_model_free(s->cm);
	cg_lowered_free(l);
	free(s->need_dram);
	free(s->unit_of);
	free(s->defer_pre);
	free(s->defer_post);
	free(s);
	return rc;
}

int stream_emit(const deps_graph *g, const cg_plan *p, const target *t,
		const plan *choices, const stream_options *o, outset *out, char *err,
		size_t errlen)
{
	mlb_module *m = NULL;
	int rc = stream_build(g, p, t, choices, o, &m, err, errlen);
	if (rc < 0)
		return rc;
	uint8_t *buf = NULL;
	size_t len = 0;
	char name[160];
	snprintf(name, sizeof(name), "%s.mlb", o->name);
	if (mlb_write(m, &buf, &len, err, errlen) < 0 || outset_add(out, name, buf, len) < 0) {
		if (!buf)
			snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	free(buf);
	mlb_free(m);
	return rc;
}
