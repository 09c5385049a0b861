/* c_expr.c - C text of the IR: affine index forms, element offsets in
 * buffers, numbers, right-hand sides (see cgc_impl.h). */
#include "cgc_impl.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void aff_c(sbuf *s, const ein_cascade *c, const ein_einsum *es,
		  const ein_aff *a)
{
	int64_t cst = ein_aff_eval(c, a, NULL);
	int any = 0;
	for (int v = 0; v < es->nvars; v++) {
		int64_t co = a->vc[v];
		if (!co)
			continue;
		if (any)
			sbuf_printf(s, co < 0 ? " - " : " + ");
		else if (co < 0)
			sbuf_printf(s, "-");
		int64_t m = co < 0 ? -co : co;
		if (m != 1)
			sbuf_printf(s, "%" PRId64 " * ", m);
		sbuf_printf(s, "v_%s", es->vars[v].name);
		any = 1;
	}
	if (!any)
		sbuf_printf(s, "%" PRId64, cst);
	else if (cst)
		sbuf_printf(s, " %c %" PRId64, cst < 0 ? '-' : '+', cst < 0 ? -cst : cst);
}

void cgc_strides(const cg_buffer *b, int64_t *strides)
{
	int64_t stride = 1;
	if (b->transposed) {
		strides[b->last] = 1;
		stride = b->ext[b->last];
	}
	for (int d = b->ndims - 1; d >= 0; d--) {
		if (b->transposed && d == b->last)
			continue;
		strides[d] = stride;
		stride *= b->ext[d];
	}
}

/* Is dimension d of access a, cyclic in its buffer, indexed by the
 * variable that the enclosing simd loop moves, alone, in a buffer whose
 * period is a multiple of that rank's tile in the group (or one strip of
 * it, cg_buffer.strip)?  Then the loop, which runs inside one tile (tiles
 * start at multiples of the tile, the tile loops are outside; strips
 * likewise), stays inside one period. */
static int in_period(const cgc *k, const ein_einsum *es, const ein_access *a, int d)
{
	const cg_buffer *b = &k->buf[a->tensor];
	int v = k->vec_var;
	if (!k->vec_it || v < 0 || b->ext[d] <= 1 || ein_aff_pure_var(k->c, es, &a->idx[d]) != v)
		return 0;
	/* One strip's slots: the loop runs inside one strip. */
	if (b->strip[d])
		return 1;
	const cg_group *gr = &k->p->groups[k->cur];
	int j = cg_band_slot(k->g, gr, (int)(es - k->c->einsums), v);
	/* A tile of 1 has no loop of its own: a loop along v is the tile
	 * loop, which crosses periods. */
	return j >= 0 && gr->tile[j] >= 2 && b->ext[d] % gr->tile[j] == 0;
}

unsigned cgc_access_vars(const ein_einsum *es, const ein_access *a)
{
	unsigned m = 0;
	for (int d = 0; d < a->nidx; d++)
		for (int v = 0; v < es->nvars; v++)
			if (a->idx[d].vc[v])
				m |= 1u << v;
	return m;
}

/* Element offset of an access in its buffer. */
void cgc_offset(sbuf *s, const cgc *k, const ein_einsum *es,
		const ein_access *a)
{
	const cg_buffer *b = &k->buf[a->tensor];
	if (a->nidx == 0) {
		sbuf_printf(s, "0");
		return;
	}
	int64_t strides[EIN_MAX_DIMS];
	cgc_strides(b, strides);
	for (int d = 0; d < a->nidx; d++) {
		if (d)
			sbuf_printf(s, " + ");
		if (b->mod[d] && in_period(k, es, a, d)) {
			/* x & (E - 1) is x less the period's start, which the
			 * loop's start gives: an affine offset vectorises, a
			 * masked one becomes a gather or a scatter per vector
			 * (Mamba-1's scan step: 8.7 ms against 7.4). */
			sbuf_printf(s, "(");
			aff_c(s, k->c, es, &a->idx[d]);
			sbuf_printf(s, " - ((");
			cgc_print_expr((cgc *)k, k->vec_init);
			sbuf_printf(s, ") & -%" PRId64 "))", b->ext[d]);
		} else if (b->mod[d]) {
			sbuf_printf(s, "((");
			aff_c(s, k->c, es, &a->idx[d]);
			sbuf_printf(s, ") & %" PRId64 ")", b->ext[d] - 1);
		} else {
			sbuf_printf(s, "(");
			aff_c(s, k->c, es, &a->idx[d]);
			sbuf_printf(s, ")");
		}
		if (strides[d] != 1)
			sbuf_printf(s, " * %" PRId64, strides[d]);
	}
}

void cgc_number(sbuf *s, double x)
{
	if (isinf(x)) {
		sbuf_printf(s, x > 0 ? "INFINITY" : "(-INFINITY)");
		return;
	}
	if (isnan(x)) {
		sbuf_printf(s, "NAN");
		return;
	}
	char buf[64];
	snprintf(buf, sizeof(buf), "%.9g", x);
	if (!strpbrk(buf, ".eEn"))
		strcat(buf, ".0");
	sbuf_printf(s, "%s%sf%s", x < 0 ? "(" : "", buf, x < 0 ? ")" : "");
}

void cgc_expr(sbuf *s, const cgc *k, const ein_einsum *es, const ein_expr *e)
{
	for (int i = 0; i < k->nhoist; i++)
		if (k->hoist[i] == e) {
			sbuf_printf(s, "hx%d", i);
			return;
		}
	switch (e->kind) {
	case EIN_X_NUM:
		cgc_number(s, e->num);
		return;
	case EIN_X_PARAM:
		cgc_number(s, (double)k->c->params[e->id].value);
		return;
	case EIN_X_VAR:
		sbuf_printf(s, "(float)v_%s", es->vars[e->id].name);
		return;
	case EIN_X_ACCESS: {
		const ein_access *a = &es->reads[e->id];
		if (k->buf[a->tensor].reg) {
			/* Written in this iteration of the fused loop. */
			sbuf_printf(s, "r_%s", k->c->tensors[a->tensor].name);
			return;
		}
		sbuf_printf(s, "t_%s[", k->c->tensors[a->tensor].name);
		cgc_offset(s, k, es, a);
		sbuf_printf(s, "]");
		return;
	}
	case EIN_X_UNARY:
		sbuf_printf(s, "ml_%s(", ein_fn_name((ein_fn)e->op));
		cgc_expr(s, k, es, e->a);
		sbuf_printf(s, ")");
		return;
	case EIN_X_BINARY:
		if (e->op == EIN_OP_MAX || e->op == EIN_OP_MIN) {
			sbuf_printf(s, "ml_%s(", e->op == EIN_OP_MAX ? "max" : "min");
			cgc_expr(s, k, es, e->a);
			sbuf_printf(s, ", ");
			cgc_expr(s, k, es, e->b);
			sbuf_printf(s, ")");
			return;
		}
		sbuf_printf(s, "(");
		cgc_expr(s, k, es, e->a);
		sbuf_printf(s, " %s ", ein_binop_name((ein_binop)e->op));
		cgc_expr(s, k, es, e->b);
		sbuf_printf(s, ")");
		return;
	}
}
