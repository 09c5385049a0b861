/* poly.c - isl sets and maps of a cascade (see poly.h). */
#include "poly.h"

#include <stdio.h>

#include <isl/aff.h>
#include <isl/id.h>
#include <isl/local_space.h>
#include <isl/options.h>
#include <isl/point.h>
#include <isl/ilp.h>
#include <isl/val.h>

isl_ctx *poly_ctx_new(void)
{
	isl_ctx *ctx = isl_ctx_alloc();
	if (ctx)
		isl_options_set_on_error(ctx, ISL_ON_ERROR_CONTINUE);
	return ctx;
}

const char *poly_error(isl_ctx *ctx)
{
	const char *m = ctx ? isl_ctx_last_error_msg(ctx) : NULL;
	return m ? m : "unknown isl error";
}

__isl_give isl_space *poly_param_space(isl_ctx *ctx, const ein_cascade *c)
{
	isl_space *sp = isl_space_params_alloc(ctx, (unsigned)c->nparams);
	for (int p = 0; p < c->nparams; p++)
		sp = isl_space_set_dim_id(
			sp, isl_dim_param, (unsigned)p,
			isl_id_alloc(ctx, c->params[p].name, NULL));
	return sp;
}

__isl_give isl_set *poly_context(isl_ctx *ctx, const ein_cascade *c)
{
	isl_set *s = isl_set_universe(poly_param_space(ctx, c));
	for (int p = 0; p < c->nparams; p++)
		s = isl_set_fix_val(s, isl_dim_param, (unsigned)p,
				    isl_val_int_from_si(ctx, c->params[p].value));
	return s;
}

__isl_give isl_set *poly_param_domain(isl_ctx *ctx, const ein_cascade *c)
{
	isl_set *s = isl_set_universe(poly_param_space(ctx, c));
	for (int p = 0; p < c->nparams; p++)
		s = isl_set_lower_bound_si(s, isl_dim_param, (unsigned)p, 0);
	return s;
}

__isl_give isl_space *poly_stmt_space(isl_ctx *ctx, const ein_cascade *c,
				      int e)
{
	const ein_einsum *es = &c->einsums[e];
	isl_space *sp = isl_space_add_dims(poly_param_space(ctx, c),
					   isl_dim_set, (unsigned)es->nvars);
	for (int v = 0; v < es->nvars; v++)
		sp = isl_space_set_dim_id(
			sp, isl_dim_set, (unsigned)v,
			isl_id_alloc(ctx, es->vars[v].name, NULL));
	char name[32];
	snprintf(name, sizeof(name), "S%d", e);
	return isl_space_set_tuple_id(sp, isl_dim_set,
				      isl_id_alloc(ctx, name, NULL));
}

/* The affine form a on the (set) space sp; nvars variables are used. */
static __isl_give isl_aff *aff_on(__isl_keep isl_space *sp,
				  const ein_cascade *c, const ein_aff *a,
				  int nvars)
{
	isl_ctx *ctx = isl_space_get_ctx(sp);
	isl_aff *r = isl_aff_zero_on_domain(
		isl_local_space_from_space(isl_space_copy(sp)));
	r = isl_aff_set_constant_val(r, isl_val_int_from_si(ctx, a->c));
	for (int p = 0; p < c->nparams; p++)
		if (a->pc[p])
			r = isl_aff_set_coefficient_val(
				r, isl_dim_param, p,
				isl_val_int_from_si(ctx, a->pc[p]));
	for (int v = 0; v < nvars; v++)
		if (a->vc[v])
			r = isl_aff_set_coefficient_val(
				r, isl_dim_in, v,
				isl_val_int_from_si(ctx, a->vc[v]));
	return r;
}

/* { x in sp : a(x) >= 0 } or { a(x) == 0 }. */
static __isl_give isl_set *aff_cond(__isl_take isl_aff *a, int eq)
{
	isl_aff *zero = isl_aff_zero_on_domain(isl_aff_get_domain_local_space(a));
	if (eq)
		return isl_aff_eq_set(a, zero);
	return isl_aff_ge_set(a, zero);
}

__isl_give isl_set *poly_domain(isl_ctx *ctx, const ein_cascade *c, int e,
				int fixed)
{
	const ein_einsum *es = &c->einsums[e];
	isl_space *sp = poly_stmt_space(ctx, c, e);
	isl_set *dom = isl_set_universe(isl_space_copy(sp));
	for (int v = 0; v < es->nvars; v++) {
		ein_aff x = {0};
		x.vc[v] = 1;
		dom = isl_set_intersect(dom,
					aff_cond(aff_on(sp, c, &x, es->nvars), 0));
		/* extent - 1 - v >= 0 */
		ein_aff hi = es->vars[v].extent;
		hi.c -= 1;
		hi.vc[v] = -1;
		dom = isl_set_intersect(dom,
					aff_cond(aff_on(sp, c, &hi, es->nvars), 0));
	}
	for (int k = 0; k < es->nconds; k++)
		dom = isl_set_intersect(
			dom, aff_cond(aff_on(sp, c, &es->conds[k].aff, es->nvars),
				      es->conds[k].eq));
	isl_space_free(sp);
	if (fixed)
		dom = isl_set_intersect_params(dom, poly_context(ctx, c));
	return dom;
}

static __isl_give isl_space *tensor_space(isl_ctx *ctx, const ein_cascade *c,
					  int t)
{
	const ein_tensor *tt = &c->tensors[t];
	isl_space *sp = isl_space_add_dims(poly_param_space(ctx, c),
					   isl_dim_set, (unsigned)tt->ndims);
	return isl_space_set_tuple_id(sp, isl_dim_set,
				      isl_id_alloc(ctx, tt->name, NULL));
}

__isl_give isl_map *poly_access(isl_ctx *ctx, const ein_cascade *c, int e,
				const ein_access *a)
{
	const ein_einsum *es = &c->einsums[e];
	isl_space *dsp = poly_stmt_space(ctx, c, e);
	isl_space *tsp = tensor_space(ctx, c, a->tensor);
	isl_space *msp = isl_space_map_from_domain_and_range(
		isl_space_copy(dsp), tsp);
	isl_aff_list *list = isl_aff_list_alloc(ctx, a->nidx);
	for (int k = 0; k < a->nidx; k++)
		list = isl_aff_list_add(list,
					aff_on(dsp, c, &a->idx[k], es->nvars));
	isl_space_free(dsp);
	isl_multi_aff *ma = isl_multi_aff_from_aff_list(msp, list);
	return isl_map_from_multi_aff(ma);
}

__isl_give isl_set *poly_tensor_box(isl_ctx *ctx, const ein_cascade *c, int t)
{
	const ein_tensor *tt = &c->tensors[t];
	isl_space *sp = tensor_space(ctx, c, t);
	isl_set *box = isl_set_universe(isl_space_copy(sp));
	for (int d = 0; d < tt->ndims; d++) {
		box = isl_set_lower_bound_si(box, isl_dim_set, (unsigned)d, 0);
		/* extent - 1 - x_d >= 0, built as an aff over the tensor space. */
		ein_aff hi = tt->dims[d].extent;
		hi.c -= 1;
		for (int k = 0; k < EIN_MAX_VARS; k++)
			hi.vc[k] = 0;
		hi.vc[d] = -1;
		box = isl_set_intersect(box,
					aff_cond(aff_on(sp, c, &hi, tt->ndims), 0));
	}
	isl_space_free(sp);
	return box;
}

int poly_sample(__isl_take isl_set *set, int64_t *vals, int nvals)
{
	isl_point *pt = isl_set_sample_point(set);
	if (!pt)
		return -1;
	if (isl_point_is_void(pt) == isl_bool_true) {
		isl_point_free(pt);
		return -1;
	}
	for (int k = 0; k < nvals; k++) {
		isl_val *v = isl_point_get_coordinate_val(pt, isl_dim_set, k);
		vals[k] = v ? isl_val_get_num_si(v) : 0;
		isl_val_free(v);
	}
	isl_point_free(pt);
	return 0;
}

typedef struct count_acc {
	int64_t n;
	int exact;
	int failed;
} count_acc;

/* Adds the size of one basic set: its bounding box when it is a box,
 * else an enumeration when small, else the box as an upper bound. */
static isl_stat count_piece(__isl_take isl_basic_set *bs, void *user)
{
	count_acc *acc = user;
	isl_set *s = isl_set_from_basic_set(bs);
	isl_size nd = isl_set_dim(s, isl_dim_set);
	int64_t prod = 1;
	int overflow = 0;
	for (int d = 0; d < nd; d++) {
		isl_val *lo = isl_set_dim_min_val(isl_set_copy(s), d);
		isl_val *hi = isl_set_dim_max_val(isl_set_copy(s), d);
		if (!lo || !hi || !isl_val_is_int(lo) || !isl_val_is_int(hi)) {
			isl_val_free(lo);
			isl_val_free(hi);
			isl_set_free(s);
			acc->failed = 1;
			return isl_stat_error;
		}
		int64_t ext = isl_val_get_num_si(hi) - isl_val_get_num_si(lo) + 1;
		isl_val_free(lo);
		isl_val_free(hi);
		if (ext < 0)
			ext = 0;
		if (__builtin_mul_overflow(prod, ext, &prod))
			overflow = 1;
	}
	isl_bool box = isl_set_is_box(s);
	if (box == isl_bool_true && !overflow) {
		acc->n += prod;
	} else if (!overflow && prod <= ((int64_t)1 << 20)) {
		isl_val *v = isl_set_count_val(s);
		if (!v) {
			isl_set_free(s);
			acc->failed = 1;
			return isl_stat_error;
		}
		acc->n += isl_val_get_num_si(v);
		isl_val_free(v);
	} else {
		acc->n += overflow ? INT64_MAX / 4 : prod;
		acc->exact = 0;
	}
	isl_set_free(s);
	return isl_stat_ok;
}

int poly_count(__isl_take isl_set *set, int64_t *n, int *exact)
{
	count_acc acc = {0, 1, 0};
	set = isl_set_make_disjoint(isl_set_coalesce(set));
	if (!set)
		return -1;
	if (isl_set_foreach_basic_set(set, count_piece, &acc) < 0 || acc.failed) {
		isl_set_free(set);
		return -1;
	}
	isl_set_free(set);
	*n = acc.n;
	if (exact)
		*exact = acc.exact;
	return 0;
}
