/* lower_sched.c - per group: the parallel loop, the schedule tree and the
 * isl AST (see lower_impl.h). */
#include "lower_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The domain of statement S<e> (init: Z<e>, the output points of a
 * reduction), without parameters. */
__isl_give isl_set *cgl_stmt_domain(cg *k, int e, int init)
{
	const ein_einsum *es = &k->c->einsums[e];
	isl_set *d = poly_domain(k->ctx, k->c, e, 1);
	d = isl_set_project_out(d, isl_dim_param, 0,
				(unsigned)isl_set_dim(d, isl_dim_param));
	if (init == 2) {
		/* G<e>: one instance per tile (the tile indices). */
		const cg_group *gr = &k->p->groups[k->cur];
		isl_space *sp = isl_set_get_space(d);
		isl_space *rsp = isl_space_set_alloc(k->ctx, 0, (unsigned)gr->nband);
		char name[32];
		snprintf(name, sizeof(name), "G%d", e);
		rsp = isl_space_set_tuple_name(rsp, isl_dim_set, name);
		isl_local_space *ls = isl_local_space_from_space(isl_space_copy(sp));
		isl_aff_list *l = isl_aff_list_alloc(k->ctx, gr->nband);
		for (int j = 0; j < gr->nband; j++) {
			int v = k->g->var_of[e][gr->band[j]];
			isl_aff *a = isl_aff_var_on_domain(isl_local_space_copy(ls),
							   isl_dim_set, (unsigned)v);
			a = isl_aff_floor(isl_aff_scale_down_ui(a, (unsigned)gr->tile[j]));
			l = isl_aff_list_add(l, a);
		}
		isl_local_space_free(ls);
		isl_multi_aff *ma = isl_multi_aff_from_aff_list(
			isl_space_map_from_domain_and_range(sp, rsp), l);
		return isl_set_apply(d, isl_map_from_multi_aff(ma));
	}
	if (init) {
		int no = ein_einsum_nout(es);
		d = isl_set_project_out(d, isl_dim_set, (unsigned)no,
					(unsigned)(es->nvars - no));
		char name[32];
		snprintf(name, sizeof(name), "Z%d", e);
		d = isl_set_set_tuple_name(d, name);
	}
	return d;
}

/* floor(x_v / t) on the space of set dom (or 0 when v < 0). */
static __isl_give isl_union_pw_aff *tile_upa(__isl_keep isl_set *dom, int v,
					     int64_t t)
{
	isl_local_space *ls = isl_local_space_from_space(isl_set_get_space(dom));
	isl_aff *a;
	if (v < 0) {
		a = isl_aff_zero_on_domain(ls);
	} else {
		a = isl_aff_var_on_domain(ls, isl_dim_set, (unsigned)v);
		a = isl_aff_scale_down_ui(a, (unsigned)t);
		a = isl_aff_floor(a);
	}
	isl_pw_aff *pa = isl_pw_aff_intersect_domain(isl_pw_aff_from_aff(a),
						     isl_set_copy(dom));
	return isl_union_pw_aff_from_pw_aff(pa);
}

/* The identity schedule of a statement: its dimensions in program order
 * (generational rank first). */
static __isl_give isl_multi_union_pw_aff *own_band(__isl_keep isl_set *dom,
						   int gen)
{
	isl_size n = isl_set_dim(dom, isl_dim_set);
	isl_space *sp = isl_set_get_space(dom);
	isl_space *rsp = isl_space_set_alloc(isl_set_get_ctx(dom), 0, (unsigned)n);
	isl_space *msp = isl_space_map_from_domain_and_range(isl_space_copy(sp), rsp);
	isl_local_space *ls = isl_local_space_from_space(sp);
	isl_aff_list *l = isl_aff_list_alloc(isl_set_get_ctx(dom), n);
	int order[EIN_MAX_VARS], no = 0;
	if (gen >= 0 && gen < n)
		order[no++] = gen;
	for (int v = 0; v < n; v++)
		if (v != gen)
			order[no++] = v;
	for (int j = 0; j < n; j++)
		l = isl_aff_list_add(l, isl_aff_var_on_domain(isl_local_space_copy(ls),
							      isl_dim_set, (unsigned)order[j]));
	isl_local_space_free(ls);
	isl_multi_aff *ma = isl_multi_aff_from_aff_list(msp, l);
	isl_pw_multi_aff *pma = isl_pw_multi_aff_intersect_domain(
		isl_pw_multi_aff_from_multi_aff(ma), isl_set_copy(dom));
	return isl_multi_union_pw_aff_from_union_pw_multi_aff(
		isl_union_pw_multi_aff_from_pw_multi_aff(pma));
}

#define MAX_STMTS (2 * 64 + 2)

/* The statements of a group in order: for each member, its init (Z<e>,
 * if it reduces and no single product call covers the reduction) then
 * itself (S<e>, or G<e> for a product); their domains (owned). */
typedef struct gstmts {
	int ns;
	isl_set *doms[MAX_STMTS];
	int stmt_e[MAX_STMTS], stmt_init[MAX_STMTS];
} gstmts;

static void gstmts_free(gstmts *st)
{
	for (int i = 0; i < st->ns; i++)
		isl_set_free(st->doms[i]);
	st->ns = 0;
}

static int collect_stmts(cg *k, const cg_group *gr, gstmts *st)
{
	const ein_cascade *c = k->c;
	st->ns = 0;
	for (int e = 0; e < c->neinsums; e++) {
		if (!gr->members[e])
			continue;
		if (st->ns + 2 > MAX_STMTS) {
			gstmts_free(st);
			snprintf(k->err, k->errlen, "a group of more than 64 Einsums");
			return -1;
		}
		if (ein_einsum_reduces(&c->einsums[e]) && !(k->gemm[e].ok && k->gemm[e].beta0)) {
			st->stmt_e[st->ns] = e;
			st->stmt_init[st->ns] = 1;
			st->doms[st->ns++] = cgl_stmt_domain(k, e, 1);
		}
		st->stmt_e[st->ns] = e;
		st->stmt_init[st->ns] = k->gemm[e].ok ? 2 : 0;
		st->doms[st->ns] = cgl_stmt_domain(k, e, st->stmt_init[st->ns]);
		st->ns++;
	}
	return 0;
}

/* Records group gi's strips in k (for contraction and the parallel
 * ranks).  Returns 0 or -1. */
static int record_strips(cg *k, const gstmts *st, const cg_strip *strips, int nstrips)
{
	if (!nstrips)
		return 0;
	cg_strip *all_st = realloc(k->strips, (size_t)(k->nstrips + nstrips) * sizeof(*all_st));
	if (!all_st) {
		snprintf(k->err, k->errlen, "out of memory");
		return -1;
	}
	k->strips = all_st;
	for (int q = 0; q < nstrips; q++) {
		for (int i = strips[q].first; i < strips[q].last; i++) {
			k->stmt_run[st->stmt_e[i]][st->stmt_init[i] == 1] = k->nstrips;
			k->stmt_at[st->stmt_e[i]][st->stmt_init[i] == 1] = i;
			k->par_ranks[st->stmt_e[i]] |= 1u << strips[q].rank;
		}
		k->strips[k->nstrips++] = strips[q];
	}
	return 0;
}

/* The generational variable of statement i's own band, or -1. */
static int stmt_gen(const cg *k, const gstmts *st, int i)
{
	const ein_einsum *es = &k->c->einsums[st->stmt_e[i]];
	if (!st->stmt_init[i])
		return es->gen_var;
	return es->gen_var < ein_einsum_nout(es) ? es->gen_var : -1;
}

/* At node (a leaf below a filter): the sequence of the children of
 * [a, b) at nest depth d of strip sp (nests as one child each, with a
 * band of their rank above their own sequence; statements with their own
 * band).  Returns the sequence node. */
static __isl_give isl_schedule_node *nest_tree(cg *k, __isl_take isl_schedule_node *node,
					       const gstmts *st, const cg_strip *sp, int a, int b,
					       int d)
{
	isl_ctx *ctx = k->ctx;
	int cfirst[MAX_STMTS], clast[MAX_STMTS], cnest[MAX_STMTS], nc = 0;
	for (int i = a; i < b; nc++) {
		cfirst[nc] = i;
		cnest[nc] = -1;
		for (int q = 0; q < sp->nnest; q++)
			if (sp->nest[q].depth == d && sp->nest[q].first == i)
				cnest[nc] = q;
		i = clast[nc] = cnest[nc] >= 0 ? sp->nest[cnest[nc]].last : i + 1;
	}
	isl_union_set_list *sub = isl_union_set_list_alloc(ctx, nc);
	for (int c = 0; c < nc; c++) {
		isl_union_set *f = isl_union_set_empty(isl_space_params_alloc(ctx, 0));
		for (int i = cfirst[c]; i < clast[c]; i++)
			f = isl_union_set_add_set(f, isl_set_copy(st->doms[i]));
		sub = isl_union_set_list_add(sub, f);
	}
	node = isl_schedule_node_insert_sequence(node, sub);
	for (int c = 0; c < nc; c++) {
		node = isl_schedule_node_child(isl_schedule_node_child(node, c), 0);
		if (cnest[c] < 0) {
			int i = cfirst[c];
			node = isl_schedule_node_insert_partial_schedule(
				node, own_band(st->doms[i], stmt_gen(k, st, i)));
		} else {
			const cg_nest *n = &sp->nest[cnest[c]];
			node = nest_tree(k, node, st, sp, n->first, n->last, d + 1);
			isl_union_pw_aff *pu = NULL;
			for (int i = n->first; i < n->last; i++) {
				isl_union_pw_aff *u =
					tile_upa(st->doms[i], k->g->var_of[st->stmt_e[i]][n->rank], 1);
				pu = pu ? isl_union_pw_aff_union_add(pu, u) : u;
			}
			node = isl_schedule_node_insert_partial_schedule(
				node, isl_multi_union_pw_aff_from_union_pw_aff(pu));
		}
		node = isl_schedule_node_parent(isl_schedule_node_parent(node));
	}
	return node;
}

/* Below the filter node of a strip run (child ci of the group's
 * sequence): the sequence of its statements and nests (nest_tree), one
 * band per point rank, the "pfor" mark and the strip band.  Returns the
 * group's sequence node again. */
static __isl_give isl_schedule_node *strip_subtree(cg *k, int gi, __isl_take isl_schedule_node *node,
						   const gstmts *st, const cg_strip *sp, int ci, int run)
{
	isl_ctx *ctx = k->ctx;
	isl_union_pw_aff *upa = NULL;
	for (int i = sp->first; i < sp->last; i++) {
		isl_union_pw_aff *u = tile_upa(st->doms[i], k->g->var_of[st->stmt_e[i]][sp->rank],
					       sp->size);
		upa = upa ? isl_union_pw_aff_union_add(upa, u) : u;
	}
	node = isl_schedule_node_child(isl_schedule_node_child(node, ci), 0);
	node = nest_tree(k, node, st, sp, sp->first, sp->last, 0);
	for (int j = sp->npoint - 1; j >= 0; j--) {
		isl_union_pw_aff *pu = NULL;
		for (int i = sp->first; i < sp->last; i++) {
			isl_union_pw_aff *u =
				tile_upa(st->doms[i], k->g->var_of[st->stmt_e[i]][sp->point[j]], 1);
			pu = pu ? isl_union_pw_aff_union_add(pu, u) : u;
		}
		node = isl_schedule_node_insert_partial_schedule(
			node, isl_multi_union_pw_aff_from_union_pw_aff(pu));
	}
	/* The strips' loop runs in parallel: its body is the mark,
	 * whose name carries the points of one tile's strips and the run
	 * (cg_buffer.priv_run).  Inside a thread's tile (a parallel group)
	 * it runs on that thread. */
	if (!sp->serial) {
		char pname[64];
		snprintf(pname, sizeof(pname), "pfor %" PRId64 " %d",
			 cgl_stmt_points(k, gi, st->stmt_e, st->stmt_init, sp->first, sp->last, 1),
			 run);
		node = isl_schedule_node_insert_mark(node, isl_id_alloc(ctx, pname, NULL));
	}
	node = isl_schedule_node_insert_partial_schedule(
		node, isl_multi_union_pw_aff_from_union_pw_aff(upa));
	return isl_schedule_node_parent(isl_schedule_node_parent(node));
}

/* Below the filter of statement i (child ci of the group's sequence): its
 * own band, and in an unfused group the "parallel" mark on the body of
 * its first loop.  Returns the sequence node again. */
static __isl_give isl_schedule_node *stmt_subtree(cg *k, __isl_take isl_schedule_node *node,
						  const cg_group *gr, const gstmts *st, int i, int ci)
{
	node = isl_schedule_node_child(isl_schedule_node_child(node, ci), 0);
	node = isl_schedule_node_insert_partial_schedule(node,
							 own_band(st->doms[i], stmt_gen(k, st, i)));
	int depth_below = 0;
	if (gr->nband == 0 && k->par_stmt && st->stmt_init[i] == 0) {
		/* Mark the body of the first loop: that loop is parallel. */
		if (isl_set_dim(st->doms[i], isl_dim_set) > k->par_split)
			node = isl_schedule_node_band_split(node, k->par_split);
		node = isl_schedule_node_child(node, 0);
		depth_below = 1;
		node = isl_schedule_node_insert_mark(node, isl_id_alloc(k->ctx, "parallel", NULL));
	}
	/* Back up to the sequence: (mark, inner band,) band, filter. */
	for (int up = 0; up < depth_below; up++)
		node = isl_schedule_node_parent(node);
	return isl_schedule_node_parent(isl_schedule_node_parent(node));
}

/* Above the group's sequence: the tile band, one member per node so that
 * a mark can say which loop runs in parallel. */
static __isl_give isl_schedule_node *tile_band(cg *k, __isl_take isl_schedule_node *node,
					       const cg_group *gr, const gstmts *st)
{
	const ein_cascade *c = k->c;
	for (int j = gr->nband - 1; j >= 0; j--) {
		isl_union_pw_aff *upa = NULL;
		for (int i = 0; i < st->ns; i++) {
			int e = st->stmt_e[i];
			int v = k->g->var_of[e][gr->band[j]];
			int64_t t = gr->tile[j];
			if (st->stmt_init[i] == 1 && c->einsums[e].vars[v].reduced)
				v = -1; /* inits run in the first tile */
			if (st->stmt_init[i] == 2) {
				v = j; /* G<e> is already in tile indices */
				t = 1;
			}
			isl_union_pw_aff *u = tile_upa(st->doms[i], v, t);
			upa = upa ? isl_union_pw_aff_union_add(upa, u) : u;
		}
		/* The mark goes below band member j: the loop whose body it
		 * is runs in parallel (if isl keeps that loop at all). */
		if (j == k->par_member)
			node = isl_schedule_node_insert_mark(node,
							     isl_id_alloc(k->ctx, "parallel", NULL));
		node = isl_schedule_node_insert_partial_schedule(
			node, isl_multi_union_pw_aff_from_union_pw_aff(upa));
	}
	return node;
}

/* Statement `from` moves to position `to`; those between shift by one. */
static void move_stmt(gstmts *st, int from, int to)
{
	int e = st->stmt_e[from], init = st->stmt_init[from];
	isl_set *d = st->doms[from];
	int step = to < from ? -1 : 1;
	for (int j = from; j != to; j += step) {
		st->stmt_e[j] = st->stmt_e[j + step];
		st->stmt_init[j] = st->stmt_init[j + step];
		st->doms[j] = st->doms[j + step];
	}
	st->stmt_e[to] = e;
	st->stmt_init[to] = init;
	st->doms[to] = d;
}

/* Whether Einsums a and b may not swap places: one writes a tensor the
 * other touches. */
static int stmt_conflict(const cg *k, int a, int b)
{
	const ein_einsum *ea = &k->c->einsums[a], *eb = &k->c->einsums[b];
	return ein_einsum_touches(eb, ea->out.tensor) || ein_einsum_touches(ea, eb->out.tensor);
}

static uint64_t stmt_ranks(const cg *k, int gi, const gstmts *st, int i)
{
	return cgl_loop_ranks(k, gi, NULL, st->stmt_e[i], st->stmt_init[i] == 1, 0);
}

/* A statement that lacks a rank its neighbour loops along (a scan's
 * initial state, h0, and its final one, HF, beside the steps along i)
 * moves, where no dependence stands in the way, up to the first place
 * whose predecessor loops along nothing it lacks, else down to the last
 * such place: the statements along that rank then stand together, and a
 * strip of them can go one point at a time along it (cgl_find_strips).
 * Initialisations and products stay. */
static void place_narrow(const cg *k, int gi, gstmts *st)
{
	for (int i = 1; i < st->ns; i++) {
		uint64_t ri = stmt_ranks(k, gi, st, i);
		if (st->stmt_init[i] != 0 || !(stmt_ranks(k, gi, st, i - 1) & ~ri))
			continue;
		int lo = i;
		while (lo > 0 && !stmt_conflict(k, st->stmt_e[lo - 1], st->stmt_e[i]))
			lo--;
		for (int p = lo; p < i; p++)
			if (p == 0 || !(stmt_ranks(k, gi, st, p - 1) & ~ri)) {
				move_stmt(st, i, p);
				break;
			}
	}
	for (int i = st->ns - 2; i >= 0; i--) {
		uint64_t ri = stmt_ranks(k, gi, st, i);
		if (st->stmt_init[i] != 0 || !(stmt_ranks(k, gi, st, i + 1) & ~ri))
			continue;
		int hi = i;
		while (hi < st->ns - 1 && !stmt_conflict(k, st->stmt_e[hi + 1], st->stmt_e[i]))
			hi++;
		for (int p = hi; p > i; p--)
			if (p == st->ns - 1 || !(stmt_ranks(k, gi, st, p + 1) & ~ri)) {
				move_stmt(st, i, p);
				break;
			}
	}
}

/* Inside strip sp, each initialisation goes up to just after the last
 * statement before it that touches its tensor: the statements that
 * follow a reduction's initialisation and precede the reduction (the
 * scan before YS's sum) may then share a loop with the reduction. */
static void hoist_inits(const cg *k, gstmts *st, const cg_strip *sp)
{
	for (int i = sp->first; i < sp->last; i++) {
		if (st->stmt_init[i] != 1)
			continue;
		int t = k->c->einsums[st->stmt_e[i]].out.tensor, to = i;
		while (to > sp->first) {
			if (ein_einsum_touches(&k->c->einsums[st->stmt_e[to - 1]], t))
				break;
			to--;
		}
		move_stmt(st, i, to);
	}
}

/* Builds the schedule tree of group gi and generates its AST: a sequence
 * of its statements (strip runs as one child each) below the tile band. */
static __isl_give isl_ast_node *group_ast(cg *k, int gi)
{
	const cg_group *gr = &k->p->groups[gi];
	isl_ctx *ctx = k->ctx;
	gstmts st;
	if (collect_stmts(k, gr, &st) < 0)
		return NULL;
	if (k->o->openmp && gr->nband > 0)
		place_narrow(k, gi, &st);
	cg_strip strips[MAX_STMTS];
	int nstrips = cgl_find_strips(k, gi, st.stmt_e, st.stmt_init, st.ns, strips, MAX_STMTS);
	for (int q = 0; q < nstrips; q++) {
		hoist_inits(k, &st, &strips[q]);
		cgl_find_nests(k, gi, st.stmt_e, st.stmt_init, &strips[q]);
		if (k->o->layouts)
			cgl_size_strip(k, gi, st.stmt_e, st.stmt_init, &strips[q]);
	}
	cgl_contract_points(k, gi, strips, nstrips, st.stmt_e, st.ns);
	cgl_find_regs(k, gi, strips, nstrips, st.stmt_e, st.stmt_init, st.ns);
	if (k->o->layouts)
		cgl_find_layouts(k, gi, strips, nstrips, st.stmt_e, st.stmt_init, st.ns);
	if (record_strips(k, &st, strips, nstrips) < 0) {
		gstmts_free(&st);
		return NULL;
	}
	/* Children of the group's sequence: a statement, or a strip-mined run
	 * of statements (child_strip >= 0). */
	int child_first[MAX_STMTS], child_strip[MAX_STMTS], nchild = 0;
	isl_union_set *all = isl_union_set_empty(isl_space_params_alloc(ctx, 0));
	isl_union_set_list *filters = isl_union_set_list_alloc(ctx, st.ns);
	for (int i = 0, q = 0; i < st.ns;) {
		child_first[nchild] = i;
		child_strip[nchild] = q < nstrips && strips[q].first == i ? q : -1;
		int end = child_strip[nchild] >= 0 ? strips[q++].last : i + 1;
		isl_union_set *f = isl_union_set_empty(isl_space_params_alloc(ctx, 0));
		for (; i < end; i++)
			f = isl_union_set_add_set(f, isl_set_copy(st.doms[i]));
		all = isl_union_set_union(all, isl_union_set_copy(f));
		filters = isl_union_set_list_add(filters, f);
		nchild++;
	}
	isl_schedule *s = isl_schedule_from_domain(all);
	isl_schedule_node *node = isl_schedule_get_root(s);
	isl_schedule_free(s);
	node = isl_schedule_node_child(node, 0);
	node = isl_schedule_node_insert_sequence(node, filters);
	for (int ci = 0; ci < nchild; ci++)
		if (child_strip[ci] >= 0)
			node = strip_subtree(k, gi, node, &st, &strips[child_strip[ci]], ci,
					     k->nstrips - nstrips + child_strip[ci]);
	for (int ci = 0; ci < nchild; ci++) {
		int i = child_first[ci];
		if (child_strip[ci] >= 0 || isl_set_dim(st.doms[i], isl_dim_set) == 0 ||
		    st.stmt_init[i] == 2)
			continue;
		node = stmt_subtree(k, node, gr, &st, i, ci);
	}
	node = tile_band(k, node, gr, &st);
	gstmts_free(&st);
	isl_schedule *sched = isl_schedule_node_get_schedule(node);
	isl_schedule_node_free(node);
	isl_ast_build *build = isl_ast_build_from_context(isl_set_universe(
		isl_space_params_alloc(ctx, 0)));
	isl_ast_node *ast = isl_ast_build_node_from_schedule(build, sched);
	isl_ast_build_free(build);
	if (!ast)
		snprintf(k->err, k->errlen, "isl AST generation: %s", poly_error(ctx));
	return ast;
}

/* Chooses the parallel loop of a group: the outermost parallel band member
 * such that no tile buffer carries data along a member outside it (the
 * buffers are private to each thread). */
static void choose_parallel(cg *k, int gi)
{
	const cg_group *gr = &k->p->groups[gi];
	const ein_cascade *c = k->c;
	k->par_member = -1;
	k->par_stmt = 0;
	if (gr->nband == 0) {
		int e = -1;
		for (int i = 0; i < c->neinsums; i++)
			if (gr->members[i])
				e = i;
		const ein_einsum *es = &c->einsums[e];
		/* The first loop isl generates: the first variable, in program
		 * order, whose extent is not 1.  It may run in parallel when it
		 * is an output rank that carries nothing (not generational). */
		if (es->gen_var >= 0)
			return;
		for (int v = 0; v < es->nvars; v++) {
			if (es->vars[v].size == 1)
				continue;
			if (!es->vars[v].reduced) {
				k->par_stmt = 1;
				k->par_split = v + 1;
			}
			return;
		}
		return;
	}
	for (int j = 0; j < gr->nband; j++) {
		if (!((k->res.parallel >> j) & 1))
			continue;
		/* A band member of one tile has no loop: the mark below it
		 * would land in an outer loop's body. */
		int64_t ext = cg_members_extent(k->g, gr->members, gr->band[j]);
		if (ext <= gr->tile[j])
			continue;
		int ok = 1;
		for (int t = 0; t < c->ntensors && ok; t++) {
			if (k->buf[t].kind != CG_BUF_TILE || k->buf[t].group != gi)
				continue;
			for (int j0 = 0; j0 < j && ok; j0++)
				if (cgl_carried_along(k, gi, t, j0))
					ok = 0;
		}
		if (ok) {
			k->par_member = j;
			return;
		}
	}
}

typedef struct mark_count {
	int loops; /* parallel marks that are the body of a for loop */
	int bare;  /* parallel marks reached without a loop */
} mark_count;

/* Counts every parallel mark in bare, and in loops those that are the
 * body of a for loop (bare then subtracts them). */
static isl_bool count_mark(__isl_keep isl_ast_node *node, void *user)
{
	mark_count *mc = user;
	if (cg_is_parallel_mark(node)) {
		mc->bare++;
	} else if (isl_ast_node_get_type(node) == isl_ast_node_for) {
		isl_ast_node *b = isl_ast_node_for_get_body(node);
		mc->loops += cg_is_parallel_mark(b);
		isl_ast_node_free(b);
	}
	return isl_bool_true;
}

static void count_marks(__isl_keep isl_ast_node *node, mark_count *mc)
{
	isl_ast_node_foreach_descendant_top_down(node, count_mark, mc);
	mc->bare -= mc->loops;
}

int cg_is_parallel_mark(__isl_keep isl_ast_node *node)
{
	if (isl_ast_node_get_type(node) != isl_ast_node_mark)
		return 0;
	isl_id *id = isl_ast_node_mark_get_id(node);
	int par = strcmp(isl_id_get_name(id), "parallel") == 0;
	isl_id_free(id);
	return par;
}

/* Confirming a register tensor t on the AST (see cgl_find_regs): every
 * instance of a statement that touches it sits in the body of a for loop
 * made of statement instances only, together with all the others. */
typedef struct reg_check {
	const cg *k;
	int t;
	int need;     /* members touching t */
	int seen;     /* statement instances touching t in the AST */
	int in_loops; /* of those, in a body with all the others */
} reg_check;

static int user_touches(const reg_check *rc, __isl_keep isl_ast_node *n, int *e)
{
	isl_ast_expr *call = isl_ast_node_user_get_expr(n);
	isl_ast_expr *fn = isl_ast_expr_op_get_arg(call, 0);
	isl_id *id = isl_ast_expr_get_id(fn);
	const char *name = isl_id_get_name(id);
	*e = atoi(name + 1);
	const ein_einsum *es = &rc->k->c->einsums[*e];
	int hit = (es->out.tensor == rc->t && name[0] != 'G') || ein_einsum_reads(es, rc->t);
	isl_id_free(id);
	isl_ast_expr_free(fn);
	isl_ast_expr_free(call);
	return hit;
}

static isl_bool reg_visit(__isl_keep isl_ast_node *node, void *user)
{
	reg_check *rc = user;
	int e;
	if (isl_ast_node_get_type(node) == isl_ast_node_user) {
		rc->seen += user_touches(rc, node, &e);
		return isl_bool_true;
	}
	if (isl_ast_node_get_type(node) != isl_ast_node_for)
		return isl_bool_true;
	isl_ast_node *body = isl_ast_node_for_get_body(node);
	if (isl_ast_node_get_type(body) == isl_ast_node_block) {
		isl_ast_node_list *l = isl_ast_node_block_get_children(body);
		isl_size n = isl_ast_node_list_n_ast_node(l);
		int users = 1, hits = 0, distinct = 0, last = -1;
		for (int i = 0; i < n; i++) {
			isl_ast_node *ch = isl_ast_node_list_get_ast_node(l, i);
			if (isl_ast_node_get_type(ch) != isl_ast_node_user) {
				users = 0;
			} else if (user_touches(rc, ch, &e)) {
				hits++;
				distinct += e != last;
				last = e;
			}
			isl_ast_node_free(ch);
		}
		isl_ast_node_list_free(l);
		if (users && hits == rc->need && distinct == rc->need)
			rc->in_loops += hits;
	}
	isl_ast_node_free(body);
	return isl_bool_true;
}

/* Drops the register tensors of group gi that the AST does not keep in
 * one loop body (isl split the loop, or guarded a statement). */
static void check_regs(cg *k, int gi, __isl_keep isl_ast_node *ast)
{
	const ein_cascade *c = k->c;
	for (int t = 0; t < c->ntensors; t++) {
		cg_buffer *b = &k->buf[t];
		if (!b->reg || b->group != gi)
			continue;
		reg_check rc = {k, t, 0, 0, 0};
		for (int e = 0; e < c->neinsums; e++)
			rc.need += k->p->groups[gi].members[e] && ein_einsum_touches(&c->einsums[e], t);
		isl_ast_node_foreach_descendant_top_down(ast, reg_visit, &rc);
		if (rc.seen == 0 || rc.seen != rc.in_loops)
			b->reg = 0;
	}
}

/* Lowers group gi: GEMM members, the parallel loop, the AST. */
int cgl_lower_group(cg *k, cg_glow *gl, int gi)
{
	const ein_cascade *c = k->c;
	const cg_group *gr = &k->p->groups[gi];
	k->cur = gi;
	k->req = cgl_group_req(k, gi);
	if (fusion_check(k->g, &k->req, 0, &k->res, k->err, k->errlen) < 0)
		return -1;
	gl->parallel = k->res.parallel;
	cgl_plan_gemms(k, gi);
	k->group_gemm = 0;
	for (int e = 0; e < c->neinsums; e++)
		if (gr->members[e])
			k->group_gemm |= k->gemm[e].ok;
	choose_parallel(k, gi);
	fusion_result_clear(&k->res);
	isl_ast_node *ast = group_ast(k, gi);
	if (!ast)
		return -1;
	check_regs(k, gi, ast);
	/* When isl did not keep the parallel loop everywhere (a band of a
	 * single iteration), run the group serially with its buffers
	 * allocated once: the marks may then sit apart on each statement. */
	mark_count mc = {0, 0};
	count_marks(ast, &mc);
	k->serial = mc.bare > 0 || mc.loops == 0;
	if (k->serial)
		k->par_member = -1;
	for (int e = 0; e < c->neinsums; e++) {
		if (!gr->members[e])
			continue;
		if (k->par_member >= 0)
			k->par_ranks[e] |= 1u << gr->band[k->par_member];
		for (int r = 0; r < k->g->nranks && k->par_stmt && !k->serial; r++)
			if (k->g->var_of[e][r] == k->par_split - 1)
				k->par_ranks[e] |= 1u << r;
	}
	gl->ast = ast;
	gl->par_member = k->par_member;
	gl->serial = k->serial;
	gl->group_gemm = k->group_gemm;
	return 0;
}
