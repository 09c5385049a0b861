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

/* Element offset of an access in its buffer. */
void cgc_offset(sbuf *s, const cgc *k, const ein_einsum *es,
		const ein_access *a)
{
	const cg_buffer *b = &k->buf[a->tensor];
	if (a->nidx == 0) {
		sbuf_printf(s, "0");
		return;
	}
	int64_t stride = 1;
	int64_t strides[EIN_MAX_DIMS];
	for (int d = a->nidx - 1; d >= 0; d--) {
		strides[d] = stride;
		stride *= b->ext[d];
	}
	for (int d = 0; d < a->nidx; d++) {
		if (d)
			sbuf_printf(s, " + ");
		if (b->mod[d]) {
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
