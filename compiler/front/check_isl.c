/* check_isl.c - exact checks with isl: accesses in bounds, no element
 * written twice, nothing read before it is written, outputs covered (see
 * check_impl.h). */
#include "check_impl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <isl/map.h>
#include <isl/set.h>
#include <isl/val.h>

#include "analysis/poly.h"

/* Formats "name=value, ..." of a statement point. */
static void point_str(const ein_einsum *es, const int64_t *x, char *buf,
		      size_t len)
{
	size_t w = 0;
	buf[0] = '\0';
	for (int v = 0; v < es->nvars && w < len; v++)
		w += (size_t)snprintf(buf + w, len - w, "%s%s=%" PRId64,
				      v ? ", " : "", es->vars[v].name, x[v]);
}

static void elem_str(const ein_tensor *tt, const int64_t *x, char *buf,
		     size_t len)
{
	size_t w = (size_t)snprintf(buf, len, "%s[", tt->name);
	for (int d = 0; d < tt->ndims && w < len; d++)
		w += (size_t)snprintf(buf + w, len - w, "%s%" PRId64, d ? ", " : "",
				      x[d]);
	if (w < len)
		snprintf(buf + w, len - w, "]");
}

static void shape_str(const ein_tensor *tt, char *buf, size_t len)
{
	size_t w = (size_t)snprintf(buf, len, "[");
	for (int d = 0; d < tt->ndims && w < len; d++)
		w += (size_t)snprintf(buf + w, len - w, "%s%" PRId64, d ? ", " : "",
				      tt->dims[d].size);
	if (w < len)
		snprintf(buf + w, len - w, "]");
}

/* Evaluates access a at point x. */
static void access_at(const ein_cascade *c, const ein_access *a,
		      const int64_t *x, int64_t *out)
{
	int64_t vars[EIN_MAX_VARS] = {0};
	memcpy(vars, x, sizeof(int64_t) * EIN_MAX_VARS);
	for (int d = 0; d < a->nidx; d++)
		out[d] = ein_aff_eval(c, &a->idx[d], vars);
}

#define ISL_OK(x)                                                            \
	do {                                                                 \
		if (!(x))                                                    \
			goto isl_fail;                                       \
	} while (0)

/* Every access stays inside its tensor. */
static int check_bounds(chk *k, isl_ctx *ctx, int e, isl_set *dom)
{
	ein_cascade *c = k->c;
	ein_einsum *es = &c->einsums[e];
	for (int r = -1; r < es->nreads; r++) {
		const ein_access *a = r < 0 ? &es->out : &es->reads[r];
		const ein_tensor *tt = &c->tensors[a->tensor];
		isl_map *acc = isl_map_intersect_domain(
			poly_access(ctx, c, e, a), isl_set_copy(dom));
		isl_set *box = isl_set_intersect_params(
			poly_tensor_box(ctx, c, a->tensor), poly_context(ctx, c));
		isl_map *bad = isl_map_subtract_range(acc, box);
		ISL_OK(bad);
		isl_bool empty = isl_map_is_empty(bad);
		if (empty < 0) {
			isl_map_free(bad);
			goto isl_fail;
		}
		if (empty) {
			isl_map_free(bad);
			continue;
		}
		/* The first bad point, so that the witness is stable. */
		int64_t x[EIN_MAX_VARS] = {0}, el[EIN_MAX_DIMS];
		if (poly_sample(isl_set_lexmin(isl_map_domain(bad)), x, es->nvars) < 0)
			goto isl_fail;
		access_at(c, a, x, el);
		char at[280], elem[256], shape[128], txt[256];
		point_str(es, x, at, sizeof(at));
		elem_str(tt, el, elem, sizeof(elem));
		shape_str(tt, shape, sizeof(shape));
		chk_src_text(k, a->loc, txt, sizeof(txt));
		diag_error(k->diag, a->loc,
			   "%s %s outside '%s': %s%s%sit is %s, but '%s' has shape %s",
			   txt, r < 0 ? "writes" : "reads", tt->name,
			   es->nvars ? "at " : "", at, es->nvars ? " " : "", elem,
			   tt->name, shape);
		if (r >= 0)
			diag_hint(k->diag, "restrict the rank variables with a "
					   "filter, e.g. `where ...`, or check the "
					   "index expressions");
		else if (tt->declared)
			diag_hint(k->diag, "check the declared shape of '%s'",
				  tt->name);
	}
	return 0;
isl_fail:
	return -1;
}

/* One point writes one element: points differing in an output variable
 * never write the same element. */
static int check_injective(chk *k, isl_ctx *ctx, int e, isl_set *dom)
{
	ein_cascade *c = k->c;
	ein_einsum *es = &c->einsums[e];
	isl_map *w = isl_map_intersect_domain(poly_access(ctx, c, e, &es->out),
					      isl_set_copy(dom));
	isl_map *rev = isl_map_reverse(isl_map_copy(w));
	isl_map *same = isl_map_apply_range(w, rev);
	/* Keep pairs whose output variables differ. */
	isl_map *eqo = isl_map_universe(isl_map_get_space(same));
	for (int v = 0; v < es->nvars; v++)
		if (!es->vars[v].reduced)
			eqo = isl_map_equate(eqo, isl_dim_in, v, isl_dim_out, v);
	isl_map *bad = isl_map_subtract(same, eqo);
	ISL_OK(bad);
	isl_bool empty = isl_map_is_empty(bad);
	if (empty < 0) {
		isl_map_free(bad);
		return -1;
	}
	if (empty) {
		isl_map_free(bad);
		return 0;
	}
	/* The first pair of points, so that the witness is stable. */
	isl_set *w2 = isl_set_lexmin(isl_map_wrap(bad));
	int64_t xy[2 * EIN_MAX_VARS];
	if (poly_sample(w2, xy, 2 * es->nvars) < 0)
		return -1;
	int64_t x[EIN_MAX_VARS] = {0}, y[EIN_MAX_VARS] = {0}, el[EIN_MAX_DIMS];
	memcpy(x, xy, sizeof(int64_t) * (size_t)es->nvars);
	memcpy(y, xy + es->nvars, sizeof(int64_t) * (size_t)es->nvars);
	access_at(c, &es->out, x, el);
	char a[256], b[256], elem[256];
	point_str(es, x, a, sizeof(a));
	point_str(es, y, b, sizeof(b));
	elem_str(&c->tensors[es->out.tensor], el, elem, sizeof(elem));
	diag_error(k->diag, es->out.loc,
		   "%s is written twice by this Einsum: at %s and at %s", elem,
		   a, b);
	diag_hint(k->diag, "the output indices must name each element once; "
			   "ranks that should be summed must not appear on the "
			   "left-hand side");
	return 0;
isl_fail:
	return -1;
}

/* Einsums writing the same tensor write disjoint elements. */
static int check_overlap(chk *k, isl_ctx *ctx, int e, isl_set **doms)
{
	ein_cascade *c = k->c;
	ein_einsum *es = &c->einsums[e];
	const ein_tensor *tt = &c->tensors[es->out.tensor];
	for (int i = 0; i < tt->nwriters; i++) {
		int f = tt->writers[i];
		if (f >= e)
			break;
		if (!doms[f])
			continue; /* skipped by check_isl */
		isl_set *a = isl_set_apply(isl_set_copy(doms[e]),
					   poly_access(ctx, c, e, &es->out));
		isl_set *b = isl_set_apply(isl_set_copy(doms[f]),
					   poly_access(ctx, c, f, &c->einsums[f].out));
		isl_set *both = isl_set_intersect(a, b);
		ISL_OK(both);
		int64_t el[EIN_MAX_DIMS];
		isl_bool empty = isl_set_is_empty(both);
		if (empty < 0) {
			isl_set_free(both);
			return -1;
		}
		if (empty) {
			isl_set_free(both);
			continue;
		}
		if (poly_sample(isl_set_lexmin(both), el, tt->ndims) < 0)
			return -1;
		char elem[256];
		elem_str(tt, el, elem, sizeof(elem));
		diag_error(k->diag, es->out.loc,
			   "conflicting writes: %s is written by this Einsum "
			   "and by '%s'",
			   elem, c->einsums[f].name);
		diag_note(k->diag, c->einsums[f].out.loc, "'%s' writes it here",
			  c->einsums[f].name);
		return 0;
	}
	return 0;
isl_fail:
	return -1;
}

/* Every element an Einsum reads from a computed tensor was written before:
 * by an earlier Einsum, or by this one at an earlier generation. */
static int check_defined(chk *k, isl_ctx *ctx, int e, isl_set **doms)
{
	ein_cascade *c = k->c;
	ein_einsum *es = &c->einsums[e];
	for (int r = 0; r < es->nreads; r++) {
		const ein_access *a = &es->reads[r];
		const ein_tensor *tt = &c->tensors[a->tensor];
		if (tt->role == EIN_ROLE_INPUT || tt->role == EIN_ROLE_WEIGHT)
			continue;
		isl_map *rd = isl_map_intersect_domain(poly_access(ctx, c, e, a),
						       isl_set_copy(doms[e]));
		int first = -1;
		for (int i = 0; i < tt->nwriters && tt->writers[i] < e; i++)
			if (doms[tt->writers[i]]) { /* else skipped by check_isl */
				first = tt->writers[i];
				break;
			}
		/* Extend the tensor's union of written elements to the writers
		 * before e, coalesced: one disjunct per writer would make the
		 * subtraction below grow with their number. */
		isl_set **av = &k->avail[a->tensor];
		int *an = &k->avail_n[a->tensor];
		for (; *an < tt->nwriters && tt->writers[*an] < e; ++*an) {
			int f = tt->writers[*an];
			if (!doms[f])
				continue;
			isl_set *img = isl_set_apply(
				isl_set_copy(doms[f]),
				poly_access(ctx, c, f, &c->einsums[f].out));
			*av = isl_set_coalesce(*av ? isl_set_union(*av, img) : img);
			if (!*av) {
				isl_map_free(rd);
				return -1;
			}
		}
		isl_set *avail = *av ? isl_set_copy(*av)
				     : isl_set_empty(isl_space_range(
					       isl_map_get_space(rd)));
		isl_map *bad = isl_map_subtract_range(rd, avail);
		if (a->tensor == es->out.tensor && es->gen_var >= 0) {
			/* Own writes at earlier generations. */
			isl_space *sp = isl_space_map_from_set(
				isl_set_get_space(doms[e]));
			isl_map *earlier = isl_map_universe(sp);
			earlier = isl_map_order_lt(earlier, isl_dim_out, es->gen_var,
						   isl_dim_in, es->gen_var);
			earlier = isl_map_intersect_domain(earlier,
							   isl_set_copy(doms[e]));
			earlier = isl_map_intersect_range(earlier,
							  isl_set_copy(doms[e]));
			isl_map *own = isl_map_apply_range(
				earlier, poly_access(ctx, c, e, &es->out));
			bad = isl_map_subtract(bad, own);
		}
		ISL_OK(bad);
		isl_bool empty = isl_map_is_empty(bad);
		if (empty < 0) {
			isl_map_free(bad);
			return -1;
		}
		if (empty) {
			isl_map_free(bad);
			continue;
		}
		int64_t x[EIN_MAX_VARS] = {0}, el[EIN_MAX_DIMS];
		if (poly_sample(isl_map_domain(isl_map_lexmin(bad)), x, es->nvars) < 0)
			return -1;
		access_at(c, a, x, el);
		char at[256], elem[256], txt[256];
		point_str(es, x, at, sizeof(at));
		elem_str(tt, el, elem, sizeof(elem));
		chk_src_text(k, a->loc, txt, sizeof(txt));
		int later = -1;
		for (int i = 0; i < tt->nwriters; i++)
			if (tt->writers[i] > e) {
				later = tt->writers[i];
				break;
			}
		if (first < 0 && a->tensor != es->out.tensor && later >= 0) {
			diag_error(k->diag, a->loc,
				   "'%s' is used before it is defined", tt->name);
			diag_hint(k->diag, "Einsums run in source order: move this "
					   "one after the Einsum that defines '%s'",
				  tt->name);
			diag_note(k->diag, c->einsums[later].out.loc,
				  "'%s' is defined here", tt->name);
		} else {
			diag_error(k->diag, a->loc,
				   "%s reads %s%s%s, but nothing writes that "
				   "element before",
				   txt, elem, es->nvars ? " at " : "", at);
			if (a->tensor == es->out.tensor)
				diag_hint(k->diag, "a generation may read only "
						   "earlier generations, and the "
						   "first one must be written by an "
						   "earlier Einsum");
			else
				diag_hint(k->diag, "check the filters and index "
						   "expressions of the Einsums that "
						   "write '%s'",
					  tt->name);
		}
	}
	return 0;
isl_fail:
	return -1;
}

static int check_outputs_covered(chk *k, isl_ctx *ctx, isl_set **doms)
{
	ein_cascade *c = k->c;
	for (int t = 0; t < c->ntensors; t++) {
		ein_tensor *tt = &c->tensors[t];
		if (tt->role != EIN_ROLE_OUTPUT || !tt->nwriters)
			continue;
		isl_set *left = isl_set_intersect_params(poly_tensor_box(ctx, c, t),
							 poly_context(ctx, c));
		for (int i = 0; i < tt->nwriters; i++) {
			int f = tt->writers[i];
			left = isl_set_subtract(
				left, isl_set_apply(isl_set_copy(doms[f]),
						    poly_access(ctx, c, f,
								&c->einsums[f].out)));
		}
		ISL_OK(left);
		isl_bool empty = isl_set_is_empty(left);
		if (empty < 0) {
			isl_set_free(left);
			return -1;
		}
		if (empty) {
			isl_set_free(left);
			continue;
		}
		int64_t el[EIN_MAX_DIMS];
		if (poly_sample(isl_set_lexmin(left), el, tt->ndims) < 0)
			return -1;
		char elem[256];
		elem_str(tt, el, elem, sizeof(elem));
		diag_warning(k->diag, tt->loc,
			     "output '%s' is not fully written: %s is never "
			     "written and stays 0",
			     tt->name, elem);
	}
	return 0;
isl_fail:
	return -1;
}

void chk_isl(chk *k)
{
	ein_cascade *c = k->c;
	isl_ctx *ctx = poly_ctx_new();
	isl_set **doms = NULL;
	char *skip = NULL, *taint = NULL;
	if (!ctx) {
		k->oom = 1;
		return;
	}
	doms = calloc((size_t)(c->neinsums ? c->neinsums : 1), sizeof(*doms));
	skip = calloc((size_t)(c->neinsums ? c->neinsums : 1), 1);
	taint = calloc((size_t)(c->ntensors ? c->ntensors : 1), 1);
	k->avail = calloc((size_t)(c->ntensors ? c->ntensors : 1), sizeof(*k->avail));
	k->avail_n = calloc((size_t)(c->ntensors ? c->ntensors : 1), sizeof(*k->avail_n));
	if (!doms || !skip || !taint || !k->avail || !k->avail_n) {
		k->oom = 1;
		goto done;
	}
	/* Skip the broken Einsums, and those reading a tensor that a skipped
	 * one writes: its shape and contents are then incomplete, and the
	 * checks would report errors that are not there.  To a fixpoint,
	 * since a later writer also shapes an implicit tensor. */
	for (int changed = 1; changed;) {
		changed = 0;
		for (int e = 0; e < c->neinsums; e++) {
			const ein_einsum *es = &c->einsums[e];
			int sk = k->bad[e];
			for (int r = 0; r < es->nreads && !sk; r++)
				sk = taint[es->reads[r].tensor];
			if (skip[e] || !sk)
				continue;
			skip[e] = 1;
			if (es->out.tensor >= 0)
				taint[es->out.tensor] = 1;
			changed = 1;
		}
	}
	for (int e = 0; e < c->neinsums; e++) {
		if (skip[e])
			continue;
		doms[e] = poly_domain(ctx, c, e, 1);
		if (!doms[e])
			goto isl_fail;
	}
	for (int e = 0; e < c->neinsums; e++) {
		if (skip[e])
			continue;
		int before = diag_error_count(k->diag);
		if (check_bounds(k, ctx, e, doms[e]) < 0)
			goto isl_fail;
		/* Out-of-bounds accesses make the other checks meaningless. */
		if (diag_error_count(k->diag) > before) {
			k->bad[e] = 1;
			continue;
		}
		if (check_injective(k, ctx, e, doms[e]) < 0 ||
		    check_overlap(k, ctx, e, doms) < 0 ||
		    check_defined(k, ctx, e, doms) < 0)
			goto isl_fail;
	}
	if (diag_error_count(k->diag) == 0 &&
	    check_outputs_covered(k, ctx, doms) < 0)
		goto isl_fail;
	goto done;
isl_fail:
	diag_error(k->diag, (ein_loc){0, 0, 0, 0},
		   "internal error in the polyhedral checks: %s", poly_error(ctx));
done:
	if (doms)
		for (int e = 0; e < c->neinsums; e++)
			isl_set_free(doms[e]);
	if (k->avail)
		for (int t = 0; t < c->ntensors; t++)
			isl_set_free(k->avail[t]);
	free(k->avail);
	free(k->avail_n);
	k->avail = NULL;
	k->avail_n = NULL;
	free(doms);
	free(skip);
	free(taint);
	isl_ctx_free(ctx);
}
