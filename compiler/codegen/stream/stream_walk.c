/* stream_walk.c - walking a group's isl AST: tile loops, register loops,
 * the innermost nests that become boxes, deferred statements (see
 * stream_impl.h). */
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

static isl_ast_node *skip_marks(__isl_take isl_ast_node *n)
{
	while (n && isl_ast_node_get_type(n) == isl_ast_node_mark) {
		isl_ast_node *c = isl_ast_node_mark_get_node(n);
		isl_ast_node_free(n);
		n = c;
	}
	return n;
}

/* A loop over registers: LOOP, the body (body_fn), ENDLOOP. */
typedef void (*body_fn)(st *s, __isl_keep isl_ast_node *node, void *arg);

static void scalar_loop(st *s, __isl_keep isl_ast_node *node, body_fn fn, void *arg)
{
	int d = st_node_depth(node);
	if (d < 0) {
		st_fail(s, -1, "an isl loop iterator the stream does not understand");
		return;
	}
	int r_it = st_ralloc(s), r_hi = st_ralloc(s);
	int mark = s->rtop;
	isl_ast_expr *init = isl_ast_node_for_get_init(node);
	sx_to(s, st_ast_sx(s, init), r_it);
	isl_ast_expr_free(init);
	sx_to(s, st_loop_upper(s, node), r_hi);
	int64_t step = st_loop_step(s, node);
	s->rtop = mark;
	int at = st_emit(s, MLB_LOOP, r_it, r_hi, 0, 0, step);
	s->iter[d] = R(r_it);
	s->bound[d] = 1;
	fn(s, node, arg);
	int end = st_emit(s, MLB_ENDLOOP, r_it, r_hi, 0, (uint32_t)at, step);
	if (!s->rc)
		s->m->insns[at].x = (uint32_t)end;
	s->bound[d] = 0;
	s->rtop = r_it;
}

static void body_walk(st *s, __isl_keep isl_ast_node *node, void *arg)
{
	(void)arg;
	isl_ast_node *body = isl_ast_node_for_get_body(node);
	st_walk(s, body);
	isl_ast_node_free(body);
}

/* The body of band loop j: a new tile, its range, the windows that open
 * here, the members, the windows that close. */
static void band_body(st *s, __isl_keep isl_ast_node *node, void *arg)
{
	int j = *(int *)arg;
	st_emit(s, MLB_TILE, 0, 0, 0, 0, 0);
	int mark = s->rtop;
	int rlo = st_ralloc(s), rhi = st_ralloc(s);
	sx lo = sx_muli(s, s->iter[j], s->tile[j]);
	sx_to(s, lo, rlo);
	sx_to(s, sx_bin(s, MLB_MIN, sx_add(s, R(rlo), K(s->tile[j] - 1)), K(s->ext[j] - 1)), rhi);
	s->rtop = rhi + 1;
	sx save_lo = s->tlo[j], save_hi = s->thi[j];
	s->tlo[j] = R(rlo);
	s->thi[j] = R(rhi);
	int from = st_open_scope(s, j + 1);
	body_walk(s, node, NULL);
	st_close_scope(s, from);
	s->tlo[j] = save_lo;
	s->thi[j] = save_hi;
	s->rtop = mark;
}

typedef struct nest {
	isl_ast_node *loops[MAXDEPTH];
	int n, first;
	isl_ast_node *leaf;
} nest;

/* Emits loops i.. of the nest: scalar loops until ns->first, then the
 * statement over the box of the remaining loops. */
static void nest_level(st *s, __isl_keep isl_ast_node *node, void *arg);

typedef struct nest_at {
	nest *ns;
	int i;
} nest_at;

static void nest_emit(st *s, nest *ns, int i)
{
	if (s->rc)
		return;
	if (i < ns->first) {
		nest_at at = {ns, i + 1};
		scalar_loop(s, ns->loops[i], nest_level, &at);
		return;
	}
	st_stmt_user(s, ns->leaf, ns->n - ns->first, &ns->loops[ns->first]);
}

static void nest_level(st *s, __isl_keep isl_ast_node *node, void *arg)
{
	(void)node;
	nest_at *at = arg;
	nest_emit(s, at->ns, at->i);
}

/* The statement of a user node, for the generational check. */
static int leaf_einsum(__isl_keep isl_ast_node *user, char *kind)
{
	isl_ast_expr *call = isl_ast_node_user_get_expr(user);
	isl_ast_expr *fn = isl_ast_expr_op_get_arg(call, 0);
	isl_id *id = isl_ast_expr_get_id(fn);
	const char *name = isl_id_get_name(id);
	*kind = name[0];
	int e = atoi(name + 1);
	isl_id_free(id);
	isl_ast_expr_free(fn);
	isl_ast_expr_free(call);
	return e;
}

/* A member's loops: vectorise the innermost rectangular, affine part of a
 * perfect nest (at most MLB_MAX_DIMS loops, the generational loop first);
 * the rest are scalar loops. */
static void member_nest(st *s, __isl_keep isl_ast_node *node)
{
	nest *ns = calloc(1, sizeof(*ns));
	if (!ns) {
		st_fail(s, -1, "out of memory");
		return;
	}
	isl_ast_node *cur = isl_ast_node_copy(node);
	while (cur && isl_ast_node_get_type(cur) == isl_ast_node_for && ns->n < MAXDEPTH) {
		ns->loops[ns->n++] = cur;
		cur = skip_marks(isl_ast_node_for_get_body(cur));
	}
	if (!cur || isl_ast_node_get_type(cur) != isl_ast_node_user) {
		/* Not a perfect nest: this loop runs on registers. */
		isl_ast_node_free(cur);
		for (int i = 0; i < ns->n; i++)
			isl_ast_node_free(ns->loops[i]);
		free(ns);
		scalar_loop(s, node, body_walk, NULL);
		return;
	}
	ns->leaf = cur;
	int first = 0;
	for (int i = 0; i < ns->n; i++) {
		isl_ast_expr *init = isl_ast_node_for_get_init(ns->loops[i]);
		isl_ast_expr *cond = isl_ast_node_for_get_cond(ns->loops[i]);
		isl_ast_expr *inc = isl_ast_node_for_get_inc(ns->loops[i]);
		int64_t k = 0;
		if (isl_ast_expr_get_type(inc) != isl_ast_expr_int || st_expr_int(inc, &k) < 0 || k != 1)
			first = i + 1;
		for (int j = first; j < i; j++) {
			int d = st_node_depth(ns->loops[j]);
			if (st_ast_mentions(init, d) || st_ast_mentions(cond, d))
				first = j + 1;
		}
		isl_ast_expr_free(init);
		isl_ast_expr_free(cond);
		isl_ast_expr_free(inc);
	}
	/* Arguments must be affine in the box iterators. */
	isl_ast_expr *call = isl_ast_node_user_get_expr(ns->leaf);
	int nargs = (int)isl_ast_expr_op_get_n_arg(call) - 1;
	char kind;
	int e = leaf_einsum(ns->leaf, &kind);
	const ein_einsum *es = &s->c->einsums[e];
	for (int i = first; i < ns->n; i++) {
		int d = st_node_depth(ns->loops[i]);
		for (int v = 0; v < nargs; v++) {
			isl_ast_expr *a = isl_ast_expr_op_get_arg(call, v + 1);
			int ok = 1;
			st_ast_deriv(a, d, &ok);
			isl_ast_expr_free(a);
			if (!ok)
				first = i + 1;
		}
	}
	/* A scan's generational loop is the box's sequential dimension: it
	 * must be the box's first. */
	if (kind == 'S' && es->gen_var >= 0 && es->gen_var < nargs) {
		isl_ast_expr *a = isl_ast_expr_op_get_arg(call, es->gen_var + 1);
		for (int i = first; i < ns->n; i++) {
			int ok = 1;
			if (st_ast_deriv(a, st_node_depth(ns->loops[i]), &ok) != 0 || !ok) {
				if (i > first)
					first = i;
				break;
			}
		}
		isl_ast_expr_free(a);
	}
	isl_ast_expr_free(call);
	if (ns->n - first > MLB_MAX_DIMS)
		first = ns->n - MLB_MAX_DIMS;
	ns->first = first;
	nest_emit(s, ns, 0);
	isl_ast_node_free(ns->leaf);
	for (int i = 0; i < ns->n; i++)
		isl_ast_node_free(ns->loops[i]);
	free(ns);
}

static int has_band_loop(const st *s, __isl_keep isl_ast_node *node);

/* A block: statements outside the tile loops of their siblings (isl
 * peels a statement whose tile coordinates are constant, a reduction's
 * init in the first tile say) are deferred into those loops. */
static void walk_block(st *s, __isl_keep isl_ast_node *node)
{
	isl_ast_node_list *l = isl_ast_node_block_get_children(node);
	int n = (int)isl_ast_node_list_n_ast_node(l);
	int last = -1;
	if (s->open_upto < s->nband)
		for (int i = 0; i < n; i++) {
			isl_ast_node *c = isl_ast_node_list_get_ast_node(l, i);
			if (has_band_loop(s, c))
				last = i;
			isl_ast_node_free(c);
		}
	if (last < 0) {
		for (int i = 0; i < n; i++) {
			isl_ast_node *c = isl_ast_node_list_get_ast_node(l, i);
			st_walk(s, c);
			isl_ast_node_free(c);
		}
		isl_ast_node_list_free(l);
		return;
	}
	uint32_t mask = 0;
	for (int j = 0; j < s->nband; j++)
		if (!s->bound[j])
			mask |= 1u << j;
	defer *pre = calloc(1, sizeof(*pre)), *post = calloc(1, sizeof(*post));
	if (!pre || !post) {
		st_fail(s, -1, "out of memory");
		free(pre);
		free(post);
		isl_ast_node_list_free(l);
		return;
	}
	pre->mask = post->mask = mask;
	for (int i = last + 1; i < n && post->n < MAX_DEFER; i++)
		post->v[post->n++] = isl_ast_node_list_get_ast_node(l, i);
	if (last + 1 + post->n < n)
		st_fail(s, -1, "more than %d statements outside a tile loop", MAX_DEFER);
	defer *save_pre = s->pre, *save_post = s->post;
	for (int i = 0; i <= last && !s->rc; i++) {
		isl_ast_node *c = isl_ast_node_list_get_ast_node(l, i);
		if (!has_band_loop(s, c)) {
			if (pre->n == MAX_DEFER)
				st_fail(s, -1, "more than %d statements outside a tile loop", MAX_DEFER);
			else
				pre->v[pre->n++] = isl_ast_node_copy(c);
		} else {
			s->pre = pre;
			s->post = i == last ? post : NULL;
			st_walk(s, c);
			for (int k = 0; k < pre->n; k++)
				isl_ast_node_free(pre->v[k]);
			pre->n = 0;
		}
		isl_ast_node_free(c);
	}
	s->pre = save_pre;
	s->post = save_post;
	for (int k = 0; k < pre->n; k++)
		isl_ast_node_free(pre->v[k]);
	for (int k = 0; k < post->n; k++)
		isl_ast_node_free(post->v[k]);
	free(pre);
	free(post);
	isl_ast_node_list_free(l);
}

void st_walk(st *s, __isl_keep isl_ast_node *node)
{
	if (s->rc || !node)
		return;
	switch (isl_ast_node_get_type(node)) {
	case isl_ast_node_for: {
		int d = st_node_depth(node);
		if (d >= 0 && d < s->nband)
			scalar_loop(s, node, band_body, &d);
		else
			member_nest(s, node);
		return;
	}
	case isl_ast_node_if: {
		int mark = s->rtop;
		isl_ast_expr *cond = isl_ast_node_if_get_cond(node);
		sx c = st_ast_sx(s, cond);
		isl_ast_expr_free(cond);
		isl_ast_node *then = isl_ast_node_if_get_then_node(node);
		isl_ast_node *els = isl_ast_node_if_has_else_node(node) == isl_bool_true
					    ? isl_ast_node_if_get_else_node(node)
					    : NULL;
		if (is_const(c)) {
			s->rtop = mark;
			st_walk(s, c.c ? then : els);
		} else {
			int br = st_branch_if_zero(s, c);
			s->rtop = mark;
			st_walk(s, then);
			if (els) {
				int over = st_emit(s, MLB_JMP, 0, 0, 0, 0, 0);
				st_patch(s, br);
				st_walk(s, els);
				st_patch(s, over);
			} else {
				st_patch(s, br);
			}
		}
		isl_ast_node_free(then);
		isl_ast_node_free(els);
		return;
	}
	case isl_ast_node_block:
		walk_block(s, node);
		return;
	case isl_ast_node_mark: {
		isl_ast_node *c = isl_ast_node_mark_get_node(node);
		st_walk(s, c);
		isl_ast_node_free(c);
		return;
	}
	case isl_ast_node_user:
		st_stmt_user(s, node, 0, NULL);
		return;
	default:
		st_fail(s, -1, "unsupported isl AST node");
		return;
	}
}

/* Used with isl_ast_node_foreach_descendant_top_down: stops (error) at
 * the first loop of the band. */
typedef struct band_search {
	const st *s;
	int found;
} band_search;

static isl_bool is_band_loop(__isl_keep isl_ast_node *node, void *user)
{
	band_search *b = user;
	if (isl_ast_node_get_type(node) != isl_ast_node_for)
		return isl_bool_true;
	int d = st_node_depth(node);
	if (d >= 0 && d < b->s->nband) {
		b->found = 1;
		return isl_bool_error;
	}
	return isl_bool_true;
}

static int has_band_loop(const st *s, __isl_keep isl_ast_node *node)
{
	band_search b = {s, 0};
	if (node)
		isl_ast_node_foreach_descendant_top_down(node, is_band_loop, &b);
	return b.found;
}

/* Which band loops the AST has (isl drops a loop of one iteration). */
static isl_bool note_loop(__isl_keep isl_ast_node *node, void *user)
{
	st *s = user;
	if (isl_ast_node_get_type(node) == isl_ast_node_for) {
		int d = st_node_depth(node);
		if (d >= 0 && d < s->nband)
			s->loop_exists[d] = 1;
	}
	return isl_bool_true;
}

static void find_loops(st *s, __isl_keep isl_ast_node *node)
{
	if (node)
		isl_ast_node_foreach_descendant_top_down(node, note_loop, s);
}

/* The Einsums of every statement under node. */
static isl_bool mark_einsum(__isl_keep isl_ast_node *node, void *user)
{
	char *flags = user, kind;
	if (isl_ast_node_get_type(node) == isl_ast_node_user)
		flags[leaf_einsum(node, &kind)] = 1;
	return isl_bool_true;
}

static void mark_einsums(__isl_keep isl_ast_node *node, char *flags)
{
	isl_ast_node_foreach_descendant_top_down(node, mark_einsum, flags);
}

/* Which statements walk_block will defer (before the walk, so that the
 * buffer allocation knows their windows' live ranges): the same rule,
 * with `bound` the band loops entered so far. */
static void scan_deferred(st *s, __isl_keep isl_ast_node *node, uint32_t bound)
{
	switch (isl_ast_node_get_type(node)) {
	case isl_ast_node_for: {
		int d = st_node_depth(node);
		if (d < 0 || d >= s->nband)
			return;
		isl_ast_node *b = isl_ast_node_for_get_body(node);
		scan_deferred(s, b, bound | 1u << d);
		isl_ast_node_free(b);
		return;
	}
	case isl_ast_node_if: {
		isl_ast_node *t = isl_ast_node_if_get_then_node(node);
		scan_deferred(s, t, bound);
		isl_ast_node_free(t);
		if (isl_ast_node_if_has_else_node(node) == isl_bool_true) {
			isl_ast_node *e = isl_ast_node_if_get_else_node(node);
			scan_deferred(s, e, bound);
			isl_ast_node_free(e);
		}
		return;
	}
	case isl_ast_node_mark: {
		isl_ast_node *c = isl_ast_node_mark_get_node(node);
		scan_deferred(s, c, bound);
		isl_ast_node_free(c);
		return;
	}
	case isl_ast_node_block:
		break;
	default:
		return;
	}
	int all = 1;
	for (int j = 0; j < s->nband; j++)
		if (s->loop_exists[j] && !((bound >> j) & 1))
			all = 0;
	isl_ast_node_list *l = isl_ast_node_block_get_children(node);
	int n = (int)isl_ast_node_list_n_ast_node(l), last = -1;
	for (int i = 0; i < n && !all; i++) {
		isl_ast_node *c = isl_ast_node_list_get_ast_node(l, i);
		if (has_band_loop(s, c))
			last = i;
		isl_ast_node_free(c);
	}
	for (int i = 0; i < n; i++) {
		isl_ast_node *c = isl_ast_node_list_get_ast_node(l, i);
		if (last < 0 || has_band_loop(s, c))
			scan_deferred(s, c, bound);
		else
			mark_einsums(c, i < last ? s->defer_pre : s->defer_post);
		isl_ast_node_free(c);
	}
	isl_ast_node_list_free(l);
}

void st_emit_group(st *s, int gi)
{
	s->rtop = 0;
	s->epoch++; /* a group starts with the array's mode unknown */
	int at = st_emit(s, MLB_GROUP, 0, 0, 0, (uint32_t)gi, 0);
	isl_ast_node *ast = s->l->groups[gi].ast;
	s->nband = s->p->groups[gi].nband;
	memset(s->loop_exists, 0, sizeof(s->loop_exists));
	find_loops(s, ast);
	memset(s->defer_pre, 0, (size_t)s->c->neinsums);
	memset(s->defer_post, 0, (size_t)s->c->neinsums);
	scan_deferred(s, ast, 0);
	if (st_setup_group(s, gi) < 0)
		return;
	memset(s->bound, 0, sizeof(s->bound));
	s->m->insns[at].imm = s->alloc;
	/* A group with no Einsum on the 2D array runs every array
	 * instruction as a vexpr: one MODE at its start serves them all,
	 * instead of one after every branch target and loop boundary. */
	s->mode_fixed = 0;
	int any2d = 0;
	for (int i = 0; i < cost_group_nmembers(s->cg); i++)
		any2d |= s->unit_of[cost_group_member(s->cg, i)] == PLAN_UNIT_2D;
	if (!any2d) {
		st_ensure_mode(s, 0);
		s->mode_fixed = 1;
	}
	/* Band loops isl dropped run once, at their first tile. */
	for (int j = 0; j < s->nband; j++) {
		if (s->loop_exists[j])
			continue;
		s->iter[j] = K(s->first_tile[j]);
		s->bound[j] = 1;
		s->tlo[j] = K(s->first_tile[j] * s->tile[j]);
		int64_t hi = s->first_tile[j] * s->tile[j] + s->tile[j] - 1;
		s->thi[j] = K(hi < s->ext[j] - 1 ? hi : s->ext[j] - 1);
	}
	s->open_upto = -1;
	int from = st_open_scope(s, 0);
	st_walk(s, ast);
	st_close_scope(s, from);
	st_emit(s, MLB_SYNC, 0, 0, 0, 0, 0);
	cost_group_free(s->cg);
	s->cg = NULL;
}
