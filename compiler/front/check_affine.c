/* check_affine.c - index, shape and filter expressions as affine forms
 * (see check_impl.h). */
#include "check_impl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int chk_aff_has_vars(const ein_aff *a)
{
	for (int v = 0; v < EIN_MAX_VARS; v++)
		if (a->vc[v])
			return 1;
	return 0;
}

int chk_aff_is_const(const ein_aff *a)
{
	if (chk_aff_has_vars(a))
		return 0;
	for (int p = 0; p < EIN_MAX_PARAMS; p++)
		if (a->pc[p])
			return 0;
	return 1;
}

/* The variable v if a is exactly v, else -1. */
int chk_aff_plain_var(const ein_aff *a)
{
	int v = -1;
	if (a->c)
		return -1;
	for (int p = 0; p < EIN_MAX_PARAMS; p++)
		if (a->pc[p])
			return -1;
	for (int i = 0; i < EIN_MAX_VARS; i++) {
		if (!a->vc[i])
			continue;
		if (a->vc[i] != 1 || v >= 0)
			return -1;
		v = i;
	}
	return v;
}

/* The parameter p if a is exactly p, else -1. */
int chk_aff_plain_param(const ein_aff *a)
{
	int r = -1;
	if (a->c || chk_aff_has_vars(a))
		return -1;
	for (int p = 0; p < EIN_MAX_PARAMS; p++) {
		if (!a->pc[p])
			continue;
		if (a->pc[p] != 1 || r >= 0)
			return -1;
		r = p;
	}
	return r;
}

void chk_aff_add(ein_aff *r, const ein_aff *a, int64_t s)
{
	r->c += s * a->c;
	for (int p = 0; p < EIN_MAX_PARAMS; p++)
		r->pc[p] += s * a->pc[p];
	for (int v = 0; v < EIN_MAX_VARS; v++)
		r->vc[v] += s * a->vc[v];
}

void chk_aff_scale(ein_aff *r, int64_t s)
{
	ein_aff z = {0};
	chk_aff_add(&z, r, s);
	*r = z;
}

static const char *mode_what(aff_mode m)
{
	return m == AFF_SHAPE ? "an extent" : m == AFF_INDEX ? "an index" : "a condition";
}

int chk_find_var(const ein_einsum *es, const char *name)
{
	if (!es)
		return -1;
	for (int v = 0; v < es->nvars; v++)
		if (strcmp(es->vars[v].name, name) == 0)
			return v;
	return -1;
}

/* Converts n to an affine form over the parameters and (except for shapes)
 * the current Einsum's variables.  Returns 0, or -1 after an error. */
int chk_to_aff(chk *k, const ast_node *n, aff_mode mode, ein_aff *out)
{
	memset(out, 0, sizeof(*out));
	const char *what = mode_what(mode);
	switch (n->kind) {
	case AST_NUM:
		if (chk_report_big_int(k, n))
			return -1;
		if (!n->is_int) {
			diag_error(k->diag, n->loc, "%s must be an integer expression",
				   what);
			return -1;
		}
		out->c = n->ival;
		return 0;
	case AST_IDENT: {
		int p = ein_cascade_find_param(k->c, n->name);
		if (p >= 0) {
			out->pc[p] = 1;
			return 0;
		}
		int v = mode == AFF_SHAPE ? -1 : chk_find_var(k->es, n->name);
		if (v >= 0) {
			out->vc[v] = 1;
			return 0;
		}
		if (ein_cascade_find_tensor(k->c, n->name) >= 0) {
			diag_error(k->diag, n->loc,
				   "'%s' is a tensor; it cannot be used in %s",
				   n->name, what);
			return -1;
		}
		if (mode == AFF_SHAPE) {
			diag_error(k->diag, n->loc, "unknown parameter '%s'",
				   n->name);
			chk_hint_suggest(k, n->name, 1);
			return -1;
		}
		if (k->too_many_vars)
			return -1;
		diag_error(k->diag, n->loc,
			   "'%s' is neither a parameter nor a rank variable of "
			   "this Einsum",
			   n->name);
		if (chk_suggest(k, n->name, 1))
			chk_hint_suggest(k, n->name, 1);
		else
			diag_hint(k->diag, "rank variables are the names used in "
					   "the tensor indices of the Einsum");
		return -1;
	}
	case AST_NEG:
		if (chk_to_aff(k, n->a, mode, out) < 0)
			return -1;
		chk_aff_scale(out, -1);
		return 0;
	case AST_BINARY: {
		ein_aff a, b;
		if (n->op == '/') {
			diag_error(k->diag, n->loc,
				   "division is not allowed in %s", what);
			if (mode == AFF_SHAPE)
				diag_hint(k->diag, "an extent must be affine in the "
						   "parameters; compute it as a "
						   "parameter, e.g. `param M = N / 2`");
			else
				diag_hint(k->diag, "%s must be affine: sums of "
						   "integer multiples of rank variables "
						   "and parameters",
					  what);
			return -1;
		}
		int ra = chk_to_aff(k, n->a, mode, &a);
		int rb = chk_to_aff(k, n->b, mode, &b);
		if (ra < 0 || rb < 0)
			return -1;
		if (n->op == '+' || n->op == '-') {
			*out = a;
			chk_aff_add(out, &b, n->op == '+' ? 1 : -1);
			return 0;
		}
		/* '*': one side must be an integer constant. */
		if (chk_aff_is_const(&a)) {
			*out = b;
			chk_aff_scale(out, a.c);
			return 0;
		}
		if (chk_aff_is_const(&b)) {
			*out = a;
			chk_aff_scale(out, b.c);
			return 0;
		}
		diag_error(k->diag, n->loc, "%s must be affine: this product of "
					    "two non-constant terms is not",
			   what);
		if (!chk_aff_has_vars(&a) && !chk_aff_has_vars(&b)) {
			/* Parameters only: a constant, but not an affine
			 * form; a derived parameter is. */
			char txt[128];
			diag_hint(k->diag, "define the product as a parameter, "
					   "e.g. `param P = %s`, and use P",
				  chk_src_text(k, n->loc, txt, sizeof(txt)));
		} else {
			diag_hint(k->diag, "multiply rank variables and parameters "
					   "only by integer constants");
		}
		return -1;
	}
	case AST_CALL:
		diag_error(k->diag, n->loc, "a function call cannot be used in %s",
			   what);
		return -1;
	case AST_ACCESS:
		diag_error(k->diag, n->loc,
			   "a tensor element cannot be used in %s", what);
		if (mode == AFF_INDEX)
			diag_hint(k->diag, "indices must not depend on data "
					   "(gathers are not supported)");
		return -1;
	case AST_JUXT:
		diag_error(k->diag, n->loc, "missing operator in %s", what);
		return -1;
	}
	return -1;
}
