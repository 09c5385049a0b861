/* lower_contract.c - array contraction: intermediates that cross groups
 * stored modulo a few slots where isl's dataflow on the whole program's
 * schedule proves it safe (see lower_impl.h). */
#include "lower_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <isl/aff.h>
#include <isl/ast.h>
#include <isl/ast_build.h>
#include <isl/flow.h>
#include <isl/id.h>
#include <isl/ilp.h>
#include <isl/local_space.h>
#include <isl/schedule.h>
#include <isl/schedule_node.h>
#include <isl/set.h>
#include <isl/space.h>
#include <isl/union_set.h>
#include <isl/val.h>

#include "analysis/poly.h"

/* The whole program's schedule at point level: S<e>/Z<e> instance ->
 * [group, tile indices, position in the group, own loops], padded. */
static __isl_give isl_union_map *global_schedule(cg *k)
{
	const ein_cascade *c = k->c;
	isl_ctx *ctx = k->ctx;
	/* [group, tiles (CG_MAX_BAND), position, strip, points (CG_MAX_BAND),
	 * its nests (cgl_nest_path: position, rank per level, then its
	 * position), own loops]: a statement outside strips has 0 for the
	 * strip, its points and the nests. */
	const int P0 = CG_MAX_BAND + 1, ST = P0 + 1, PT = ST + 1, P1 = PT + CG_MAX_BAND;
	const int L0 = P1 + 2 * CG_MAX_NEST + 1;
	int width = L0 + EIN_MAX_VARS;
	for (int r = 0; r < k->nstrips; r++)
		k->strips[r].anchor = -1;
	isl_union_map *u = isl_union_map_empty(isl_space_params_alloc(ctx, 0));
	for (int gi = 0; gi < k->p->ngroups; gi++) {
		const cg_group *gr = &k->p->groups[gi];
		int pos = 0;
		k->cur = gi;
		for (int e = 0; e < c->neinsums; e++) {
			if (!gr->members[e])
				continue;
			const ein_einsum *es = &c->einsums[e];
			for (int init = 1; init >= 0; init--) {
				if (init && !ein_einsum_reduces(es)) {
					pos++;
					continue;
				}
				isl_set *dom = cgl_stmt_domain(k, e, init);
				isl_space *sp = isl_set_get_space(dom);
				int nd = (int)isl_set_dim(dom, isl_dim_set);
				isl_space *rsp = isl_space_set_alloc(ctx, 0, (unsigned)width);
				isl_local_space *ls = isl_local_space_from_space(isl_space_copy(sp));
				isl_aff_list *l = isl_aff_list_alloc(ctx, width);
				int order[EIN_MAX_VARS], no = 0;
				int gen = es->gen_var < nd ? es->gen_var : -1;
				if (gen >= 0)
					order[no++] = gen;
				for (int v = 0; v < nd; v++)
					if (v != gen)
						order[no++] = v;
				int run = k->stmt_run[e][init];
				cg_strip *st = run >= 0 ? &k->strips[run] : NULL;
				if (st && st->anchor < 0)
					st->anchor = pos;
				int npos[CG_MAX_NEST + 1], nrank[CG_MAX_NEST], depth = 0;
				if (st)
					depth = cgl_nest_path(st, k->stmt_at[e][init], npos, nrank);
				for (int q = 0; q < width; q++) {
					isl_aff *a;
					if (q >= ST && q < L0 && st) {
						int v = -1, at = -1;
						int64_t t = 1;
						if (q == ST) {
							v = k->g->var_of[e][st->rank];
							t = st->size;
						} else if (q < P1 && q - PT < st->npoint) {
							v = k->g->var_of[e][st->point[q - PT]];
						} else if (q >= P1 && (q - P1) / 2 < depth) {
							if ((q - P1) % 2)
								v = k->g->var_of[e][nrank[(q - P1) / 2]];
							else
								at = npos[(q - P1) / 2];
						} else if (q == P1 + 2 * depth) {
							at = npos[depth];
						}
						if (at >= 0)
							a = isl_aff_val_on_domain(isl_local_space_copy(ls),
										  isl_val_int_from_si(ctx, at));
						else if (v >= 0)
							a = isl_aff_floor(isl_aff_scale_down_ui(
								isl_aff_var_on_domain(isl_local_space_copy(ls),
										      isl_dim_set, (unsigned)v),
								(unsigned)t));
						else
							a = isl_aff_zero_on_domain(isl_local_space_copy(ls));
					} else if (q >= ST && q < L0) {
						a = isl_aff_zero_on_domain(isl_local_space_copy(ls));
					} else if (q == 0) {
						a = isl_aff_val_on_domain(isl_local_space_copy(ls),
									  isl_val_int_from_si(ctx, gi));
					} else if (q <= CG_MAX_BAND) {
						int j = q - 1, v = -1;
						if (j < gr->nband) {
							v = k->g->var_of[e][gr->band[j]];
							if (init && es->vars[v].reduced)
								v = -1;
						}
						if (v >= 0) {
							a = isl_aff_var_on_domain(isl_local_space_copy(ls),
										  isl_dim_set, (unsigned)v);
							a = isl_aff_floor(isl_aff_scale_down_ui(
								a, (unsigned)gr->tile[j]));
						} else {
							a = isl_aff_zero_on_domain(isl_local_space_copy(ls));
						}
					} else if (q == P0) {
						a = isl_aff_val_on_domain(
							isl_local_space_copy(ls),
							isl_val_int_from_si(ctx, st ? st->anchor : pos));
					} else if (q - L0 < no) {
						a = isl_aff_var_on_domain(
							isl_local_space_copy(ls), isl_dim_set,
							(unsigned)order[q - L0]);
					} else {
						a = isl_aff_zero_on_domain(isl_local_space_copy(ls));
					}
					l = isl_aff_list_add(l, a);
				}
				isl_local_space_free(ls);
				isl_multi_aff *ma = isl_multi_aff_from_aff_list(
					isl_space_map_from_domain_and_range(sp, rsp), l);
				isl_map *m = isl_map_intersect_domain(isl_map_from_multi_aff(ma), dom);
				u = isl_union_map_add_map(u, m);
				pos++;
			}
		}
	}
	return u;
}

/* The accesses of tensor t (writes by S and Z statements, or reads by S
 * statements), parameters projected out. */
static __isl_give isl_union_map *accesses(cg *k, int t, int writes)
{
	const ein_cascade *c = k->c;
	isl_union_map *u = isl_union_map_empty(isl_space_params_alloc(k->ctx, 0));
	for (int e = 0; e < c->neinsums; e++) {
		const ein_einsum *es = &c->einsums[e];
		for (int r = -1; r < es->nreads; r++) {
			const ein_access *a = r < 0 ? &es->out : &es->reads[r];
			if (a->tensor != t || (r < 0) != writes)
				continue;
			for (int init = 0; init <= (r < 0 && ein_einsum_reduces(es)); init++) {
				isl_map *m = isl_map_intersect_domain(
					poly_access(k->ctx, c, e, a), poly_domain(k->ctx, c, e, 1));
				m = isl_map_project_out(m, isl_dim_param, 0,
							(unsigned)isl_map_dim(m, isl_dim_param));
				if (init) {
					int no = ein_einsum_nout(es);
					m = isl_map_project_out(m, isl_dim_in, (unsigned)no,
								(unsigned)(es->nvars - no));
					char name[32];
					snprintf(name, sizeof(name), "Z%d", e);
					m = isl_map_set_tuple_name(m, isl_dim_in, name);
				}
				u = isl_union_map_add_map(u, m);
			}
		}
	}
	return u;
}

/* What the clash test of one tensor needs whatever the dimension and the
 * extent: its writes W, the flow F (the write each read sees), the pairs
 * of writes in schedule order, and write-before-read pairs.  Computed once
 * per tensor: the flow is the costly part. */
typedef struct contract_info {
	isl_union_map *W, *F, *w_before_w, *w_before_r;
} contract_info;

static void contract_info_clear(contract_info *ci)
{
	isl_union_map_free(ci->W);
	isl_union_map_free(ci->F);
	isl_union_map_free(ci->w_before_w);
	isl_union_map_free(ci->w_before_r);
	memset(ci, 0, sizeof(*ci));
}

/* Fills ci for tensor t on schedule sched.  Returns 0 or -1. */
static int contract_info_init(cg *k, __isl_keep isl_union_map *sched, int t, contract_info *ci)
{
	isl_union_map *W = accesses(k, t, 1), *R = accesses(k, t, 0);
	isl_union_access_info *ai = isl_union_access_info_from_sink(isl_union_map_copy(R));
	ai = isl_union_access_info_set_must_source(ai, isl_union_map_copy(W));
	ai = isl_union_access_info_set_schedule_map(ai, isl_union_map_copy(sched));
	isl_union_flow *fl = isl_union_access_info_compute_flow(ai);
	ci->F = isl_union_flow_get_may_dependence(fl);
	isl_union_flow_free(fl);
	isl_union_map *sw = isl_union_map_intersect_domain(
		isl_union_map_copy(sched), isl_union_map_domain(isl_union_map_copy(W)));
	isl_union_map *sr = isl_union_map_intersect_domain(isl_union_map_copy(sched),
							   isl_union_map_domain(R));
	ci->w_before_w = isl_union_map_lex_lt_union_map(isl_union_map_copy(sw),
							isl_union_map_copy(sw));
	ci->w_before_r = isl_union_map_lex_lt_union_map(sw, sr);
	ci->W = W;
	if (!ci->W || !ci->F || !ci->w_before_w || !ci->w_before_r) {
		contract_info_clear(ci);
		return -1;
	}
	return 0;
}

/* May tensor t be stored modulo E along dimension d?  Not when some value,
 * between its write and a read of it, would be overwritten by a write to
 * another element of the same slot.  Returns 1 (safe), 0, or -1. */
static int contraction_safe(cg *k, const contract_info *ci, int t, int d, int64_t E)
{
	const ein_tensor *tt = &k->c->tensors[t];
	char buf[2048];
	size_t w = 0;
	/* x -> x': equal but on d, where x'_d - x_d is a nonzero multiple
	 * of E.  Built from text with a neutral tuple name, renamed after. */
	for (int side = 0; side < 2; side++) {
		w += (size_t)snprintf(buf + w, sizeof(buf) - w, "%s", side ? " -> T[" : "{ T[");
		for (int q = 0; q < tt->ndims; q++)
			w += (size_t)snprintf(buf + w, sizeof(buf) - w, "%s%c%d", q ? "," : "",
					      side ? 'b' : 'a', q);
		w += (size_t)snprintf(buf + w, sizeof(buf) - w, "]");
	}
	w += (size_t)snprintf(buf + w, sizeof(buf) - w, " : ");
	for (int sign = 0; sign < 2; sign++) {
		w += (size_t)snprintf(buf + w, sizeof(buf) - w, "%s(", sign ? " or " : "");
		for (int q = 0; q < tt->ndims; q++)
			if (q != d)
				w += (size_t)snprintf(buf + w, sizeof(buf) - w, "b%d = a%d and ", q, q);
		w += (size_t)snprintf(buf + w, sizeof(buf) - w,
				      "exists (kk : b%d = a%d + %" PRId64 "kk and kk %s))", d, d, E,
				      sign ? "<= -1" : ">= 1");
	}
	w += (size_t)snprintf(buf + w, sizeof(buf) - w, " }");
	if (w >= sizeof(buf))
		return 0;
	isl_map *clash = isl_map_read_from_str(k->ctx, buf);
	if (!clash)
		return -1;
	clash = isl_map_set_tuple_name(clash, isl_dim_in, tt->name);
	clash = isl_map_set_tuple_name(clash, isl_dim_out, tt->name);
	/* w1 -> w2 writing a clashing element, after w1 ... */
	isl_union_map *ww = isl_union_map_apply_range(isl_union_map_copy(ci->W),
						      isl_union_map_from_map(clash));
	ww = isl_union_map_apply_range(ww, isl_union_map_reverse(isl_union_map_copy(ci->W)));
	ww = isl_union_map_intersect(ww, isl_union_map_copy(ci->w_before_w));
	/* ... and before a read of w1's value. */
	isl_union_map *bad = isl_union_map_apply_range(ww, isl_union_map_copy(ci->w_before_r));
	bad = isl_union_map_intersect(bad, isl_union_map_copy(ci->F));
	isl_bool empty = isl_union_map_is_empty(bad);
	isl_union_map_free(bad);
	return empty < 0 ? -1 : empty == isl_bool_true;
}

/* Is dimension q of tensor t indexed, in some access, by a rank that its
 * Einsum's group runs in parallel?  Storing q modulo E could then let two
 * threads share a slot. */
static int dim_parallel(const cg *k, int t, int q)
{
	const ein_cascade *c = k->c;
	for (int e = 0; e < c->neinsums; e++) {
		const ein_einsum *es = &c->einsums[e];
		for (int r = -1; r < es->nreads; r++) {
			const ein_access *a = r < 0 ? &es->out : &es->reads[r];
			if (a->tensor != t)
				continue;
			for (int rk = 0; rk < k->g->nranks; rk++) {
				int v = k->g->var_of[e][rk];
				if (v >= 0 && a->idx[q].vc[v] && ((k->par_ranks[e] >> rk) & 1))
					return 1;
			}
		}
	}
	return 0;
}

/* Stores intermediates that cross groups modulo a small extent along one
 * dimension when that is safe on the whole program's schedule (strips
 * included): a recurrence's state (H over i) then takes one generation
 * of memory instead of all of them (E = 1: updated in place, each step
 * reading an element just before writing its next generation), a padded
 * copy (XP) a few rows.  The dimension giving the smallest buffer wins;
 * dimensions indexed by a parallel rank are not candidates. */
int cgl_contract_buffers(cg *k)
{
	const ein_cascade *c = k->c;
	isl_union_map *sched = NULL;
	for (int t = 0; t < c->ntensors; t++) {
		cg_buffer *b = &k->buf[t];
		if (b->kind != CG_BUF_FULL)
			continue;
		const ein_tensor *tt = &c->tensors[t];
		/* No GEMM call may touch the tensor (its order inside is not
		 * ours). */
		int gemm = 0;
		for (int e = 0; e < c->neinsums; e++) {
			const ein_einsum *es = &c->einsums[e];
			if (k->gemm[e].ok && (es->out.tensor == t ||
					      es->reads[k->gemm[e].x].tensor == t ||
					      es->reads[k->gemm[e].y].tensor == t))
				gemm = 1;
		}
		if (gemm)
			continue;
		int best_dim = -1;
		int64_t best_e = 0, best_size = b->size;
		contract_info ci = {0};
		for (int q = 0; q < tt->ndims; q++) {
			if (tt->dims[q].size <= 2 || dim_parallel(k, t, q))
				continue;
			if (!sched && !(sched = global_schedule(k)))
				return -1;
			if (!ci.W && contract_info_init(k, sched, t, &ci) < 0) {
				isl_union_map_free(sched);
				return -1;
			}
			for (int64_t E = 1; E < tt->dims[q].size; E *= 2) {
				if (b->size / tt->dims[q].size * E >= best_size)
					break;
				int r = contraction_safe(k, &ci, t, q, E);
				if (r < 0) {
					contract_info_clear(&ci);
					isl_union_map_free(sched);
					return -1;
				}
				if (r) {
					best_dim = q;
					best_e = E;
					best_size = b->size / tt->dims[q].size * E;
					break;
				}
			}
		}
		contract_info_clear(&ci);
		if (best_dim >= 0) {
			b->mod[best_dim] = 1;
			b->ext[best_dim] = best_e;
			b->size = best_size;
		}
	}
	isl_union_map_free(sched);
	return 0;
}
