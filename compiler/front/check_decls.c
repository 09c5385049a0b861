/* check_decls.c - tensor declarations: roles, types, shapes (see
 * check_impl.h). */
#include "check_impl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int chk_add_tensor(chk *k, const char *name, ein_loc loc)
{
	ein_cascade *c = k->c;
	if (c->ntensors == k->tcap) {
		int cap = k->tcap ? 2 * k->tcap : 16;
		ein_tensor *t = realloc(c->tensors, (size_t)cap * sizeof(*t));
		const ast_stmt **d = realloc(k->decl, (size_t)cap * sizeof(*d));
		char *b = realloc(k->broken, (size_t)cap);
		if (t)
			c->tensors = t;
		if (d)
			k->decl = d;
		if (b)
			k->broken = b;
		if (!t || !d || !b) {
			k->oom = 1;
			return -1;
		}
		k->tcap = cap;
	}
	chk_reserved(k, name, loc, "tensor");
	ein_tensor *t = &c->tensors[c->ntensors];
	memset(t, 0, sizeof(*t));
	t->name = chk_xstrdup(k, name);
	t->loc = loc;
	t->type = EIN_TY_F32;
	t->role = EIN_ROLE_TEMP;
	k->decl[c->ntensors] = NULL;
	k->broken[c->ntensors] = 0;
	return c->ntensors++;
}

/* Rank name of a dimension whose extent is e (a parameter's name when e is
 * one, else the source text without blanks). */
static char *dim_rank_name(chk *k, const ast_dim *d, const ein_aff *e)
{
	if (d && d->rank)
		return chk_xstrdup(k, d->rank);
	int p = chk_aff_plain_param(e);
	if (p >= 0)
		return chk_xstrdup(k, k->c->params[p].name);
	char buf[128], out[128];
	ein_aff_str(k->c, e, NULL, buf, sizeof(buf));
	size_t j = 0;
	for (size_t i = 0; buf[i] && j + 1 < sizeof(out); i++)
		if (buf[i] != ' ')
			out[j++] = buf[i];
	out[j] = '\0';
	return chk_xstrdup(k, out);
}

/* A constant real number: numbers and parameters with + - * / and
 * unary minus.  Returns 0, or -1 after an error. */
static int const_value(chk *k, const ast_node *n, double *out)
{
	double a, b;
	switch (n->kind) {
	case AST_NUM:
		*out = n->num;
		return 0;
	case AST_IDENT: {
		int p = ein_cascade_find_param(k->c, n->name);
		if (p >= 0) {
			*out = (double)k->c->params[p].value;
			return 0;
		}
		break;
	}
	case AST_NEG:
		if (const_value(k, n->a, &a) < 0)
			return -1;
		*out = -a;
		return 0;
	case AST_BINARY:
		if (const_value(k, n->a, &a) < 0 || const_value(k, n->b, &b) < 0)
			return -1;
		*out = n->op == '+' ? a + b : n->op == '-' ? a - b : n->op == '*' ? a * b : a / b;
		return 0;
	default:
		break;
	}
	diag_error(k->diag, n->loc, "expected a number here (numbers and parameters, "
				    "combined with + - * /)");
	return -1;
}

/* `~ uniform(LO, HI)`: the values --random draws for an input or a
 * weight. */
static void check_draw(chk *k, const ast_stmt *s, ein_tensor *tt)
{
	if (strcmp(s->draw, "uniform") != 0) {
		diag_error(k->diag, s->draw_loc, "unknown distribution '%s'", s->draw);
		diag_hint(k->diag, "the distribution is uniform(LO, HI)");
		return;
	}
	if (tt->role != EIN_ROLE_INPUT && tt->role != EIN_ROLE_WEIGHT) {
		diag_error(k->diag, s->draw_loc,
			   "only an input or a weight is drawn (by --random); '%s' is %s %s",
			   s->name, tt->role == EIN_ROLE_OUTPUT ? "an" : "a",
			   ein_role_name(tt->role));
		return;
	}
	double lo, hi;
	if (const_value(k, s->draw_lo, &lo) < 0 || const_value(k, s->draw_hi, &hi) < 0)
		return;
	if (!isfinite(lo) || !isfinite(hi) || !(lo < hi)) {
		diag_error(k->diag, s->draw_loc,
			   "uniform(%g, %g) is empty: it needs finite bounds with LO < HI", lo, hi);
		return;
	}
	tt->has_draw = true;
	tt->draw_lo = lo;
	tt->draw_hi = hi;
}

void chk_decls(chk *k)
{
	ein_cascade *c = k->c;
	for (int i = 0; i < k->prog->n; i++) {
		const ast_stmt *s = k->prog->stmts[i];
		if (s->kind != AST_S_DECL)
			continue;
		int prev = ein_cascade_find_tensor(c, s->name);
		if (prev >= 0) {
			diag_error(k->diag, s->name_loc,
				   "tensor '%s' is declared twice", s->name);
			diag_note(k->diag, c->tensors[prev].loc,
				  "first declared here");
			continue;
		}
		int p = ein_cascade_find_param(c, s->name);
		if (p >= 0) {
			diag_error(k->diag, s->name_loc,
				   "'%s' is already a parameter", s->name);
			diag_note(k->diag, c->params[p].loc, "'%s' is defined here",
				  s->name);
			continue;
		}
		if (s->ndims > EIN_MAX_DIMS) {
			diag_error(k->diag, s->loc,
				   "'%s' has %d ranks; the limit is %d", s->name,
				   s->ndims, EIN_MAX_DIMS);
			/* Keep the name, so that its uses are not reported
			 * as unknown tensors. */
			int t = chk_add_tensor(k, s->name, s->name_loc);
			if (t < 0)
				return;
			k->broken[t] = 1;
			c->tensors[t].declared = true;
			continue;
		}
		int t = chk_add_tensor(k, s->name, s->name_loc);
		if (t < 0)
			return;
		int errors = diag_error_count(k->diag);
		ein_tensor *tt = &c->tensors[t];
		k->decl[t] = s;
		tt->declared = true;
		tt->role = strcmp(s->role, "input") == 0    ? EIN_ROLE_INPUT
			   : strcmp(s->role, "weight") == 0 ? EIN_ROLE_WEIGHT
			   : strcmp(s->role, "output") == 0 ? EIN_ROLE_OUTPUT
							    : EIN_ROLE_TEMP;
		if (s->type) {
			static const char *const tn[] = {"f32", "f16", "bf16", "f64"};
			int found = -1;
			for (int q = 0; q < 4; q++)
				if (strcmp(s->type, tn[q]) == 0)
					found = q;
			if (found < 0) {
				diag_error(k->diag, s->type_loc,
					   "unknown element type '%s'", s->type);
				diag_hint(k->diag,
					  "the element types are f32, f16, bf16 and f64");
			} else {
				tt->type = (ein_type)found;
			}
		}
		tt->ndims = s->ndims < 0 ? 0 : s->ndims;
		for (int d = 0; d < tt->ndims; d++) {
			ein_dim *dim = &tt->dims[d];
			if (chk_to_aff(k, s->dims[d].extent, AFF_SHAPE, &dim->extent) < 0) {
				memset(&dim->extent, 0, sizeof(dim->extent));
				dim->extent.c = 1;
			}
			dim->rank = dim_rank_name(k, &s->dims[d], &dim->extent);
			dim->size = ein_aff_eval(c, &dim->extent, NULL);
			if (dim->size < 1) {
				char o[16], txt[128];
				diag_error(k->diag, s->dims[d].extent->loc,
					   "the %s extent of '%s' is %s = %" PRId64
					   "; extents must be at least 1",
					   chk_ordinal(d + 1, o, sizeof(o)), s->name,
					   chk_src_text(k, s->dims[d].extent->loc, txt,
							sizeof(txt)),
					   dim->size);
				dim->size = 1;
			}
		}
		if (s->draw)
			check_draw(k, s, tt);
		/* A declaration with an error: its uses and its being unused
		 * are not reported again. */
		if (diag_error_count(k->diag) > errors)
			k->broken[t] = 1;
	}
}
