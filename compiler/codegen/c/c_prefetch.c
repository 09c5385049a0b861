/* c_prefetch.c - software prefetches for rows read across pages (see
 * cgc_impl.h).
 *
 * A loop of tokens around a strip of a wide tensor reads, per token, a
 * short run of a row that lies one row (kilobytes) after the previous
 * token's: the hardware's stride prefetcher follows strides of up to
 * 2 KB, its stream prefetcher stays inside a 4 KB page, so every row is
 * a miss to DRAM (Mamba-1's scan: 15% of its samples on the load of
 * silu(Z)'s row; its group went from 17.4-18.2 ms to 16.3-16.5 at
 * I = 1024).  At the top of such a loop, the runs that a later
 * iteration reads are prefetched: for each read in an innermost loop of
 * the body whose offset moves by a row (CGC_PREFETCH_MIN_STRIDE elements
 * or more) with the loop and by one element (or not at all) with the
 * innermost loop, the run of CGC_PREFETCH_AHEAD iterations later, one
 * cache line at a time.  Not runs that a loop around reads again, when
 * they fit in L1 (reread).
 */
#include "cgc_impl.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <isl/ast.h>
#include <isl/id.h>
#include <isl/id_to_ast_expr.h>
#include <isl/val.h>

/* Iterations ahead: far enough for DRAM's latency behind one token's
 * work (a few hundred ns), near enough to stay in L1/L2 (Mamba-1's scan
 * at I = 1024: 2 and 8 measured alike). */
enum { CGC_PREFETCH_AHEAD = 4 };
/* Rows farther apart than the stride prefetcher's reach (2 KB). */
enum { CGC_PREFETCH_MIN_STRIDE = 512 };
/* Loops nested between the outer loop and an innermost one. */
enum { PF_MAX_INTER = 8 };

typedef struct pf_walk {
	cgc *k;
	isl_ast_node *outer; /* the loop being prefetched for */
	isl_id *it;	     /* its iterator */
	isl_id *inter[PF_MAX_INTER];
	int ninter;
	int depth;
	int64_t trips; /* of the outer loop, if constant, else -1 */
	sbuf done; /* the blocks emitted so far, to skip repeats (seen) */
} pf_walk;

static int expr_is_id(__isl_keep isl_ast_expr *e, __isl_keep isl_id *id)
{
	if (isl_ast_expr_get_type(e) != isl_ast_expr_id)
		return 0;
	isl_id *x = isl_ast_expr_get_id(e);
	int r = x == id;
	isl_id_free(x);
	return r;
}

static int uses_inter(const pf_walk *w, __isl_keep isl_ast_expr *e)
{
	for (int i = 0; i < w->ninter; i++)
		if (cgc_expr_uses(e, w->inter[i]))
			return 1;
	return 0;
}

/* A linear form over the AST's identifiers, to tell a constant number
 * of points (64 * c3 + 63 - 64 * c3 + 1) from a varying one. */
enum { PF_LIN_IDS = 16 };
typedef struct pf_lin {
	int64_t c;
	int n;
	isl_id *id[PF_LIN_IDS]; /* not owned: alive as long as the AST */
	int64_t co[PF_LIN_IDS];
} pf_lin;

static int lin_add(pf_lin *r, const pf_lin *a, int64_t f)
{
	r->c += f * a->c;
	for (int i = 0; i < a->n; i++) {
		int j = 0;
		while (j < r->n && r->id[j] != a->id[i])
			j++;
		if (j == r->n) {
			if (r->n == PF_LIN_IDS)
				return 0;
			r->id[r->n] = a->id[i];
			r->co[r->n++] = 0;
		}
		r->co[j] += f * a->co[i];
	}
	return 1;
}

/* e as a linear form in *r; 0 if it is not one (min, max, division). */
static int lin_of(__isl_keep isl_ast_expr *e, pf_lin *r)
{
	memset(r, 0, sizeof(*r));
	switch (isl_ast_expr_get_type(e)) {
	case isl_ast_expr_int: {
		isl_val *v = isl_ast_expr_get_val(e);
		int ok = v && isl_val_is_int(v) == isl_bool_true;
		if (ok)
			r->c = isl_val_get_num_si(v);
		isl_val_free(v);
		return ok;
	}
	case isl_ast_expr_id: {
		isl_id *id = isl_ast_expr_get_id(e);
		r->id[0] = id;
		r->co[0] = 1;
		r->n = 1;
		isl_id_free(id); /* the AST keeps a reference */
		return 1;
	}
	case isl_ast_expr_op:
		break;
	default:
		return 0;
	}
	enum isl_ast_expr_op_type t = isl_ast_expr_op_get_type(e);
	int n = (int)isl_ast_expr_op_get_n_arg(e), ok = 1;
	pf_lin a[2];
	if (n < 1 || n > 2)
		return 0;
	for (int i = 0; i < n && ok; i++) {
		isl_ast_expr *x = isl_ast_expr_op_get_arg(e, i);
		ok = lin_of(x, &a[i]);
		isl_ast_expr_free(x);
	}
	if (!ok)
		return 0;
	if (t == isl_ast_expr_op_minus && n == 1)
		return lin_add(r, &a[0], -1);
	if (n != 2)
		return 0;
	if (t == isl_ast_expr_op_add || t == isl_ast_expr_op_sub)
		return lin_add(r, &a[0], 1) && lin_add(r, &a[1], t == isl_ast_expr_op_add ? 1 : -1);
	if (t == isl_ast_expr_op_mul && (a[0].n == 0 || a[1].n == 0))
		return a[0].n == 0 ? lin_add(r, &a[1], a[0].c) : lin_add(r, &a[0], a[1].c);
	return 0;
}

/* The value of e if it is a constant (its identifiers cancel), or -1. */
static int64_t const_of(__isl_keep isl_ast_expr *e)
{
	pf_lin l;
	if (!e || !lin_of(e, &l))
		return -1;
	for (int i = 0; i < l.n; i++)
		if (l.co[i])
			return -1;
	return l.c;
}

/* Element stride of access a along the statement variables in mask. */
static int64_t var_stride(const cgc *k, const ein_access *a, uint64_t mask)
{
	const cg_buffer *b = &k->buf[a->tensor];
	int64_t strides[EIN_MAX_DIMS], st = 0;
	cgc_strides(b, strides);
	for (int d = 0; d < a->nidx; d++)
		for (int v = 0; v < EIN_MAX_VARS && v < 64; v++)
			if ((mask >> v) & 1)
				st += a->idx[d].vc[v] * strides[d];
	return st;
}

/* Does loop node's start or end use id? */
static int bounds_use(__isl_keep isl_ast_node *node, __isl_keep isl_id *id)
{
	isl_ast_expr *init = isl_ast_node_for_get_init(node);
	isl_ast_expr *cond = isl_ast_node_for_get_cond(node);
	int r = cgc_expr_uses(init, id) || cgc_expr_uses(cond, id);
	isl_ast_expr_free(init);
	isl_ast_expr_free(cond);
	return r;
}

/* Does a loop around the outer one leave the offsets of access a of
 * statement call (innermost loop in) where they are?  A loop moves them
 * when they use its iterator, or when the bounds of a loop inside it that
 * moves them do (the tile loop around a loop of strips). */
static int reread(const pf_walk *w, __isl_keep isl_ast_expr *call, const ein_access *a,
		  const ein_einsum *es, int nargs, __isl_keep isl_ast_node *in)
{
	const cgc *k = w->k;
	unsigned used = cgc_access_vars(es, a);
	int moves[16] = {0}, r = 0;
	for (int l = k->nloops - 1; l >= 0; l--) {
		isl_id *id = k->loops[l];
		moves[l] = (in && bounds_use(in, id)) || bounds_use(w->outer, id);
		for (int v = 0; v < nargs && v < es->nvars && !moves[l]; v++) {
			if (!((used >> v) & 1))
				continue;
			isl_ast_expr *arg = isl_ast_expr_op_get_arg(call, v + 1);
			moves[l] = cgc_expr_uses(arg, id);
			isl_ast_expr_free(arg);
		}
		for (int l2 = l + 1; l2 < k->nloops && !moves[l]; l2++)
			moves[l] = moves[l2] && bounds_use(k->loop_nodes[l2], id);
		r |= !moves[l];
	}
	return r;
}

/* The number of points of loop `in` (1 for none), or NULL if its
 * condition is not an upper bound on its iterator or it steps by more
 * than one. */
static __isl_give isl_ast_expr *trip_count(isl_ctx *ctx, __isl_keep isl_ast_node *in)
{
	if (!in)
		return isl_ast_expr_from_val(isl_val_one(ctx));
	isl_ast_expr *inc = isl_ast_node_for_get_inc(in);
	isl_val *iv = isl_ast_expr_get_val(inc);
	int one = iv && isl_val_is_one(iv) == isl_bool_true;
	isl_val_free(iv);
	isl_ast_expr_free(inc);
	if (!one)
		return NULL;
	isl_ast_expr *it = isl_ast_node_for_get_iterator(in);
	isl_ast_expr *cond = isl_ast_node_for_get_cond(in);
	isl_ast_expr *n = NULL;
	if (isl_ast_expr_get_type(cond) == isl_ast_expr_op) {
		enum isl_ast_expr_op_type t = isl_ast_expr_op_get_type(cond);
		isl_ast_expr *lhs = isl_ast_expr_op_get_arg(cond, 0);
		if ((t == isl_ast_expr_op_le || t == isl_ast_expr_op_lt) &&
		    isl_ast_expr_is_equal(lhs, it) == isl_bool_true) {
			isl_ast_expr *ub = isl_ast_expr_op_get_arg(cond, 1);
			n = isl_ast_expr_sub(ub, isl_ast_node_for_get_init(in));
			if (t == isl_ast_expr_op_le)
				n = isl_ast_expr_add(
				    n, isl_ast_expr_from_val(isl_val_one(isl_ast_expr_get_ctx(cond))));
		}
		isl_ast_expr_free(lhs);
	}
	isl_ast_expr_free(it);
	isl_ast_expr_free(cond);
	return n;
}

/* The substitution of the outer loop's iterator by e (taken) and of the
 * innermost loop's (if any) by its start. */
static __isl_give isl_id_to_ast_expr *subst_map(const pf_walk *w, __isl_keep isl_ast_node *in,
						__isl_take isl_ast_expr *e)
{
	isl_ctx *ctx = isl_ast_node_get_ctx(w->outer);
	isl_id_to_ast_expr *m = isl_id_to_ast_expr_alloc(ctx, 2);
	m = isl_id_to_ast_expr_set(m, isl_id_copy(w->it), e);
	if (in) {
		isl_ast_expr *iit = isl_ast_node_for_get_iterator(in);
		isl_id *iid = isl_ast_expr_get_id(iit);
		isl_ast_expr_free(iit);
		isl_ast_expr *init = isl_ast_node_for_get_init(in);
		init = isl_ast_expr_substitute_ids(init, isl_id_to_ast_expr_copy(m));
		m = isl_id_to_ast_expr_set(m, iid, init);
	}
	return m;
}

static void print_sub(sbuf *s, __isl_keep isl_ast_expr *e, __isl_keep isl_id_to_ast_expr *m)
{
	isl_ast_expr *x = isl_ast_expr_substitute_ids(isl_ast_expr_copy(e), isl_id_to_ast_expr_copy(m));
	cgc_print_expr_to(s, x);
	isl_ast_expr_free(x);
}

/* Has this block been emitted already (another statement's read of the
 * same run)?  Else remember it. */
static int seen(pf_walk *w, const char *text)
{
	/* done is "\n" then each block and "\n": one block per line. */
	sbuf needle = {0};
	sbuf_printf(&needle, "\n%s\n", text);
	int r = w->done.p && needle.p && strstr(w->done.p, needle.p);
	if (!r)
		sbuf_printf(&w->done, "%s%s\n", w->done.n ? "" : "\n", text);
	sbuf_free(&needle);
	return r;
}

/* The prefetches of statement `call`'s reads, for innermost loop in
 * (or NULL: the statement sits in the outer loop's body). */
static void prefetch_call(pf_walk *w, __isl_keep isl_ast_expr *call, __isl_keep isl_ast_node *in)
{
	cgc *k = w->k;
	isl_ast_expr *fn = isl_ast_expr_op_get_arg(call, 0);
	isl_id *fid = isl_ast_expr_get_id(fn);
	const char *name = isl_id_get_name(fid);
	isl_ast_expr *iit = in ? isl_ast_node_for_get_iterator(in) : NULL;
	isl_id *iid = iit ? isl_ast_expr_get_id(iit) : NULL;
	isl_ast_expr *n = NULL, *cond = NULL, *ahead = NULL;
	isl_id_to_ast_expr *m = NULL;
	isl_id *pf_it = NULL;
	sbuf blk = {0};
	if (name[0] != 'S')
		goto done;
	const ein_einsum *es = &k->c->einsums[atoi(name + 1)];
	int nargs = (int)isl_ast_expr_op_get_n_arg(call) - 1;
	/* Variables that move with the outer loop (its iterator, alone) and
	 * with the innermost loop; any other use of either, or of a loop in
	 * between, and the run is not one this prefetch can find. */
	uint64_t vout = 0, vin = 0, vbad = 0;
	for (int v = 0; v < nargs && v < 64; v++) {
		isl_ast_expr *a = isl_ast_expr_op_get_arg(call, v + 1);
		if (expr_is_id(a, w->it))
			vout |= 1ull << v;
		else if (iid && expr_is_id(a, iid))
			vin |= 1ull << v;
		else if (cgc_expr_uses(a, w->it) || cgc_expr_uses(a, iid) || uses_inter(w, a))
			vbad |= 1ull << v;
		isl_ast_expr_free(a);
	}
	if (!vout)
		goto done;
	n = trip_count(isl_ast_expr_get_ctx(call), in);
	if (!n || cgc_expr_uses(n, w->it) || uses_inter(w, n))
		goto done;
	int64_t nc = const_of(n);
	isl_ctx *ctx = isl_ast_expr_get_ctx(call);
	pf_it = isl_id_alloc(ctx, "pf_it", NULL);
	m = subst_map(w, in, isl_ast_expr_from_id(isl_id_copy(pf_it)));
	/* The loop's condition at it + AHEAD: past the loop's end, the
	 * prefetch repeats the current iteration's run (a branch there costs
	 * Mamba-1's scan 0.6 ms of 17, a selection nothing measurable). */
	ahead = isl_ast_expr_add(isl_ast_expr_from_id(isl_id_copy(w->it)),
				 isl_ast_expr_from_val(isl_val_int_from_si(ctx, CGC_PREFETCH_AHEAD)));
	cond = isl_ast_node_for_get_cond(w->outer);
	cond = isl_ast_expr_substitute_ids(cond, subst_map(w, NULL, isl_ast_expr_copy(ahead)));
	for (int r = 0; r < es->nreads; r++) {
		const ein_access *a = &es->reads[r];
		const cg_buffer *b = &k->buf[a->tensor];
		unsigned used = cgc_access_vars(es, a);
		int mod = 0;
		for (int d = 0; d < b->ndims; d++)
			mod |= b->mod[d];
		if (b->reg || mod || (used & vbad))
			continue;
		int64_t so = var_stride(k, a, vout), si = var_stride(k, a, vin);
		if (so < CGC_PREFETCH_MIN_STRIDE || (si != 0 && si != 1))
			continue;
		/* A run of most of a row: the rows make one stream, which the
		 * hardware follows. */
		int64_t run = si ? nc : 1;
		if (run >= 0 && 2 * run >= so)
			continue;
		/* Few iterations; or runs that an enclosing loop reads again
		 * (their offsets do not move with it), all of them within
		 * L1: cached since that loop's first iteration. */
		if (w->trips >= 0 && (w->trips <= 2 * CGC_PREFETCH_AHEAD ||
				      (w->trips * (run < 0 ? 16 : run) * 4 <= 32768 &&
				       reread(w, call, a, es, nargs, in))))
			continue;
		/* One block per run: its variables at it + AHEAD and at the
		 * innermost loop's start, then a prefetch per cache line. */
		sbuf_free(&blk);
		sbuf_printf(&blk, "{ const long pf_it = (");
		cgc_print_expr_to(&blk, cond);
		sbuf_printf(&blk, ") ? ");
		cgc_print_expr_to(&blk, ahead);
		sbuf_printf(&blk, " : %s;", isl_id_get_name(w->it));
		for (int v = 0; v < nargs; v++) {
			if (!((used >> v) & 1))
				continue;
			isl_ast_expr *arg = isl_ast_expr_op_get_arg(call, v + 1);
			sbuf_printf(&blk, " const long v_%s = ", es->vars[v].name);
			print_sub(&blk, arg, m);
			sbuf_printf(&blk, ";");
			isl_ast_expr_free(arg);
		}
		sbuf_printf(&blk, " const float *pf_p = &t_%s[", k->c->tensors[a->tensor].name);
		cgc_offset(&blk, k, es, a);
		sbuf_printf(&blk, "]; const long pf_n = ");
		if (run >= 0)
			sbuf_printf(&blk, "%" PRId64, run);
		else
			print_sub(&blk, n, m);
		sbuf_printf(&blk, "; for (long pf_q = 0; pf_q < pf_n; pf_q += 16) "
				  "__builtin_prefetch(pf_p + pf_q); __builtin_prefetch(pf_p + pf_n - 1); }");
		if (blk.oom || seen(w, blk.p))
			continue;
		sbuf_indent(&k->out, w->depth);
		sbuf_printf(&k->out, "%s\n", blk.p);
	}
done:
	sbuf_free(&blk);
	isl_id_to_ast_expr_free(m);
	isl_ast_expr_free(cond);
	isl_ast_expr_free(ahead);
	isl_id_free(pf_it);
	isl_ast_expr_free(n);
	isl_id_free(iid);
	isl_ast_expr_free(iit);
	isl_id_free(fid);
	isl_ast_expr_free(fn);
}

static __isl_give isl_ast_node *strip_marks(__isl_take isl_ast_node *n)
{
	while (n && isl_ast_node_get_type(n) == isl_ast_node_mark) {
		isl_ast_node *in = isl_ast_node_mark_get_node(n);
		isl_ast_node_free(n);
		n = in;
	}
	return n;
}

/* The statements of node, if it holds nothing else: in (a loop) or the
 * outer loop's body holds them directly. */
static isl_bool is_user(__isl_keep isl_ast_node *node, void *user)
{
	(void)user;
	return isl_bool_ok(isl_ast_node_get_type(node) == isl_ast_node_user);
}

static int only_users(__isl_keep isl_ast_node *node)
{
	if (isl_ast_node_get_type(node) == isl_ast_node_user)
		return 1;
	if (isl_ast_node_get_type(node) != isl_ast_node_block)
		return 0;
	isl_ast_node_list *l = isl_ast_node_block_get_children(node);
	int r = isl_ast_node_list_every(l, &is_user, NULL) == isl_bool_true;
	isl_ast_node_list_free(l);
	return r;
}

/* The statements below node: in, the innermost loop they sit in (NULL:
 * not yet inside one, or the outer loop's own body). */
static void walk(pf_walk *w, __isl_keep isl_ast_node *node, __isl_keep isl_ast_node *in)
{
	switch (isl_ast_node_get_type(node)) {
	case isl_ast_node_user: {
		isl_ast_expr *call = isl_ast_node_user_get_expr(node);
		prefetch_call(w, call, in);
		isl_ast_expr_free(call);
		return;
	}
	case isl_ast_node_block: {
		isl_ast_node_list *l = isl_ast_node_block_get_children(node);
		int n = isl_ast_node_list_n_ast_node(l);
		for (int i = 0; i < n; i++) {
			isl_ast_node *c = isl_ast_node_list_get_ast_node(l, i);
			walk(w, c, in);
			isl_ast_node_free(c);
		}
		isl_ast_node_list_free(l);
		return;
	}
	case isl_ast_node_if: {
		isl_ast_node *t = isl_ast_node_if_get_then_node(node);
		walk(w, t, NULL);
		isl_ast_node_free(t);
		if (isl_ast_node_if_has_else_node(node) == isl_bool_true) {
			isl_ast_node *e = isl_ast_node_if_get_else_node(node);
			walk(w, e, NULL);
			isl_ast_node_free(e);
		}
		return;
	}
	case isl_ast_node_mark: {
		isl_ast_node *m = isl_ast_node_mark_get_node(node);
		walk(w, m, NULL);
		isl_ast_node_free(m);
		return;
	}
	case isl_ast_node_for: {
		isl_ast_node *body = strip_marks(isl_ast_node_for_get_body(node));
		if (body && only_users(body)) {
			walk(w, body, node);
		} else if (body && w->ninter < PF_MAX_INTER) {
			isl_ast_expr *x = isl_ast_node_for_get_iterator(node);
			w->inter[w->ninter++] = isl_ast_expr_get_id(x);
			isl_ast_expr_free(x);
			walk(w, body, NULL);
			isl_id_free(w->inter[--w->ninter]);
		}
		isl_ast_node_free(body);
		return;
	}
	default:
		return;
	}
}

void cgc_prefetch(cgc *k, __isl_keep isl_ast_node *node, int depth)
{
	/* A loop stepping by one with an upper bound (its trips, if they
	 * are constant, for the rules above). */
	isl_ast_expr *tn = trip_count(isl_ast_node_get_ctx(node), node);
	if (!tn)
		return;
	isl_ast_expr *x = isl_ast_node_for_get_iterator(node);
	pf_walk w = {.k = k, .outer = node, .it = isl_ast_expr_get_id(x), .depth = depth};
	isl_ast_expr_free(x);
	w.trips = const_of(tn);
	isl_ast_expr_free(tn);
	isl_ast_node *body = strip_marks(isl_ast_node_for_get_body(node));
	if (body)
		walk(&w, body, NULL);
	isl_ast_node_free(body);
	isl_id_free(w.it);
	sbuf_free(&w.done);
}
