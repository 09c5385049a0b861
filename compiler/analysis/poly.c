/* poly.c - isl sets and maps of a cascade (see poly.h). */
#include "poly.h"

#include <stdio.h>

#include <isl/aff.h>
#include <isl/id.h>
#include <isl/local_space.h>
#include <isl/options.h>
#include <isl/point.h>
#include <isl/constraint.h>
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
	long slices; /* isl slices left for the coupled parts (count_coupled) */
} count_acc;

/* Set dimensions poly_count handles (more than any Einsum or tensor has). */
#define COUNT_MAX_DIMS 64

/* Bounding box of s: lo[d], ext[d] per set dimension, and their product
 * in *prod (*overflow when it does not fit).  Returns -1 on an isl error
 * or an unbounded dimension. */
static int bounds(__isl_keep isl_set *s, int nd, int64_t *lo, int64_t *ext, int64_t *prod,
		  int *overflow)
{
	*prod = 1;
	*overflow = 0;
	for (int d = 0; d < nd; d++) {
		isl_val *l = isl_set_dim_min_val(isl_set_copy(s), d);
		isl_val *h = isl_set_dim_max_val(isl_set_copy(s), d);
		int ok = l && h && isl_val_is_int(l) && isl_val_is_int(h);
		if (ok) {
			lo[d] = isl_val_get_num_si(l);
			ext[d] = isl_val_get_num_si(h) - lo[d] + 1;
			if (ext[d] < 0)
				ext[d] = 0;
			if (__builtin_mul_overflow(*prod, ext[d], prod))
				*overflow = 1;
		}
		isl_val_free(l);
		isl_val_free(h);
		if (!ok)
			return -1;
	}
	return 0;
}

typedef struct sum_acc {
	int64_t n;
	int ok;
} sum_acc;

/* Adds sum over c in [a, b] of f(c), for one piece of a fiber length f
 * that is affine in c with integer coefficients on an interval; clears
 * ok for any other piece (a stride, a rational coefficient). */
static isl_stat sum_piece(__isl_take isl_set *dom, __isl_take isl_aff *f, void *user)
{
	sum_acc *sa = user;
	int64_t lo[1], ext[1], prod = 0;
	int overflow = 0;
	isl_val *k1 = NULL, *k0 = NULL;
	isl_bool box = isl_set_is_box(dom);
	if (!sa->ok || box != isl_bool_true ||
	    isl_aff_dim(f, isl_dim_div) != 0 ||
	    isl_aff_involves_dims(f, isl_dim_param, 0,
				  (unsigned)isl_aff_dim(f, isl_dim_param)) != isl_bool_false ||
	    bounds(dom, 1, lo, ext, &prod, &overflow) < 0 || overflow)
		goto bad;
	k1 = isl_aff_get_coefficient_val(f, isl_dim_in, 0);
	k0 = isl_aff_get_constant_val(f);
	if (!k1 || !k0 || !isl_val_is_int(k1) || !isl_val_is_int(k0))
		goto bad;
	{
		/* sum_{c=a}^{b} (k1 c + k0), n = b - a + 1 terms. */
		int64_t a = lo[0], n = ext[0];
		int64_t c1 = isl_val_get_num_si(k1), c0 = isl_val_get_num_si(k0);
		sa->n += c1 * (a * n + n * (n - 1) / 2) + c0 * n;
	}
	isl_val_free(k1);
	isl_val_free(k0);
	isl_set_free(dom);
	isl_aff_free(f);
	return isl_stat_ok;
bad:
	sa->ok = 0;
	isl_val_free(k1);
	isl_val_free(k0);
	isl_set_free(dom);
	isl_aff_free(f);
	return isl_stat_ok;
}

/* Clears *user when basic set bs has local variables. */
static isl_stat no_divs(__isl_take isl_basic_set *bs, void *user)
{
	isl_size nd = isl_basic_set_dim(bs, isl_dim_div);
	isl_basic_set_free(bs);
	if (nd != 0)
		*(int *)user = 0;
	return isl_stat_ok;
}

/* Points of a set of two coupled dimensions with no local variables, in
 * closed form: the second dimension's extent as a piecewise affine
 * function of the first, summed over each piece.  Returns 1 when counted,
 * 0 when a piece has no closed form, -1 on an isl error.  Keeps s. */
static int count_pair(__isl_keep isl_set *s, int64_t *n)
{
	/* Without local variables: a stride (j even) would leave holes
	 * between a fiber's ends. */
	int plain = 1;
	if (isl_set_dim(s, isl_dim_set) != 2 || isl_set_dim(s, isl_dim_param) != 0 ||
	    isl_set_n_basic_set(s) != 1 || isl_set_foreach_basic_set(s, no_divs, &plain) < 0 ||
	    !plain)
		return 0;
	isl_map *m = isl_map_from_range(isl_set_copy(s));
	m = isl_map_move_dims(m, isl_dim_in, 0, isl_dim_out, 0, 1);
	isl_pw_aff *hi = isl_map_dim_max(isl_map_copy(m), 0);
	isl_pw_aff *lo = isl_map_dim_min(m, 0);
	isl_pw_aff *len = isl_pw_aff_sub(hi, lo);
	if (!len)
		return -1;
	sum_acc sa = {0, 1};
	isl_stat st = isl_pw_aff_foreach_piece(len, sum_piece, &sa);
	/* len is the extent minus one: add one per nonempty fiber, the
	 * points of len's domain (an interval when the set is convex). */
	int64_t fibers = 0;
	int r = st < 0 ? -1 : 0;
	if (r == 0 && sa.ok) {
		isl_set *d = isl_set_coalesce(isl_pw_aff_domain(isl_pw_aff_copy(len)));
		int64_t l[1], e[1], p = 0;
		int ov = 0;
		isl_bool box = isl_set_is_box(d);
		if (box < 0 || (box && (bounds(d, 1, l, e, &p, &ov) < 0 || ov)))
			r = -1;
		else if (box)
			fibers = e[0], r = 1;
		isl_set_free(d);
	}
	isl_pw_aff_free(len);
	if (r == 1)
		*n = sa.n + fibers;
	return r;
}

/* Points of a set whose dimensions are all bound together: a box is its
 * product, a small set is enumerated, a larger one is cut into slices
 * along its shortest dimension and each slice counted the same way (a
 * triangle t <= s becomes one box per s).  Returns 1 when counted, 0 when
 * the slice budget ran out, -1 on an isl error.  Takes s. */
static int count_coupled(__isl_take isl_set *s, count_acc *acc, int64_t *n)
{
	int nd = (int)isl_set_dim(s, isl_dim_set);
	int64_t lo[COUNT_MAX_DIMS], ext[COUNT_MAX_DIMS], prod = 1;
	int overflow = 0, r = -1;
	*n = 0;
	isl_bool empty = isl_set_is_empty(s);
	if (empty != isl_bool_false) {
		r = empty == isl_bool_true ? 1 : -1;
		goto out;
	}
	if (nd > COUNT_MAX_DIMS || bounds(s, nd, lo, ext, &prod, &overflow) < 0)
		goto out;
	isl_bool box = isl_set_is_box(s);
	if (box < 0)
		goto out;
	if (box && !overflow) {
		*n = prod;
		r = 1;
		goto out;
	}
	if (!overflow && prod <= 4096) {
		/* small enough to enumerate */
		isl_val *v = isl_set_count_val(s);
		if (v)
			*n = isl_val_get_num_si(v);
		isl_val_free(v);
		r = v ? 1 : -1;
		goto out;
	}
	r = count_pair(s, n);
	if (r != 0)
		goto out;
	int cut = -1;
	for (int d = 0; d < nd; d++)
		if (ext[d] > 1 && (cut < 0 || ext[d] < ext[cut]))
			cut = d;
	if (cut < 0 || ext[cut] > acc->slices) {
		r = 0;
		goto out;
	}
	acc->slices -= ext[cut];
	r = 1;
	for (int64_t v = 0; v < ext[cut] && r == 1; v++) {
		int64_t k = 0;
		r = count_coupled(isl_set_fix_si(isl_set_copy(s), isl_dim_set, (unsigned)cut,
						 (int)(lo[cut] + v)),
				  acc, &k);
		*n += k;
	}
out:
	isl_set_free(s);
	return r;
}

static int find_root(int *parent, int d)
{
	while (parent[d] != d)
		d = parent[d] = parent[parent[d]];
	return d;
}

typedef struct link_acc {
	int nd;
	int *parent;
} link_acc;

/* Joins the set dimensions one constraint involves (all of them when it
 * involves a local variable, which may stand for any of them). */
static isl_stat link_dims(__isl_take isl_constraint *c, void *user)
{
	link_acc *la = user;
	int first = -1;
	int all = isl_constraint_involves_dims(c, isl_dim_div, 0,
					       (unsigned)isl_constraint_dim(c, isl_dim_div)) ==
		  isl_bool_true;
	for (int d = 0; d < la->nd; d++) {
		if (!all && isl_constraint_involves_dims(c, isl_dim_set, (unsigned)d, 1) !=
				    isl_bool_true)
			continue;
		if (first < 0)
			first = d;
		else
			la->parent[find_root(la->parent, d)] = find_root(la->parent, first);
	}
	isl_constraint_free(c);
	return isl_stat_ok;
}

/* Adds the size of one basic set.  Its dimensions split into groups that
 * no constraint joins; the set is the product of its projections on the
 * groups, each a box (its extent) or counted by count_coupled.  When a
 * coupled part is too large to count, its bounding box is an upper bound
 * and the count is not exact. */
static isl_stat count_piece(__isl_take isl_basic_set *bs, void *user)
{
	count_acc *acc = user;
	int nd = (int)isl_basic_set_dim(bs, isl_dim_set);
	int parent[COUNT_MAX_DIMS];
	int64_t lo[COUNT_MAX_DIMS], ext[COUNT_MAX_DIMS], prod = 1, total = 1;
	int overflow = 0, exact = 1;
	isl_set *s = NULL;
	if (nd < 0 || nd > COUNT_MAX_DIMS)
		goto fail;
	for (int d = 0; d < nd; d++)
		parent[d] = d;
	link_acc la = {nd, parent};
	if (isl_basic_set_foreach_constraint(bs, link_dims, &la) < 0)
		goto fail;
	s = isl_set_from_basic_set(bs);
	bs = NULL;
	if (bounds(s, nd, lo, ext, &prod, &overflow) < 0)
		goto fail;
	for (int root = 0; root < nd && total > 0; root++) {
		if (find_root(parent, root) != root)
			continue;
		int64_t part = 1;
		int members = 0, pov = 0;
		for (int d = 0; d < nd; d++)
			if (find_root(parent, d) == root) {
				members++;
				if (__builtin_mul_overflow(part, ext[d], &part))
					pov = 1;
			}
		if (members > 1) {
			/* The projection on this group: project the others out,
			 * from the last so that indices stay valid. */
			isl_set *g = isl_set_copy(s);
			for (int d = nd - 1; d >= 0; d--)
				if (find_root(parent, d) != root)
					g = isl_set_project_out(g, isl_dim_set, (unsigned)d, 1);
			int64_t k = 0;
			int r = count_coupled(g, acc, &k);
			if (r < 0)
				goto fail;
			if (r == 1) {
				part = k;
				pov = 0;
			} else {
				exact = 0;
			}
		}
		if (pov || __builtin_mul_overflow(total, part, &total)) {
			total = INT64_MAX / 4;
			exact = 0;
			break;
		}
	}
	acc->n += total;
	if (!exact)
		acc->exact = 0;
	isl_set_free(s);
	return isl_stat_ok;
fail:
	isl_basic_set_free(bs);
	isl_set_free(s);
	acc->failed = 1;
	return isl_stat_error;
}

int poly_count(__isl_take isl_set *set, int64_t *n, int *exact)
{
	count_acc acc = {0, 1, 0, 1L << 16};
	/* Parameters fixed to values (the usual case) are substituted, so
	 * that the pieces count_pair sums are over the set dimensions alone. */
	isl_size np = isl_set_dim(set, isl_dim_param);
	int fixed = np >= 0;
	for (int i = 0; i < np && fixed; i++) {
		isl_val *v = isl_set_plain_get_val_if_fixed(set, isl_dim_param, (unsigned)i);
		fixed = v && isl_val_is_int(v);
		isl_val_free(v);
	}
	if (fixed && np > 0)
		set = isl_set_project_out(set, isl_dim_param, 0, (unsigned)np);
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
