/* c_loops.c - C text of a group's isl AST: loops (parallel regions,
 * strips, simd, accumulating reductions), statements, tile buffers (see
 * cgc_impl.h). */
#include "cgc_impl.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <isl/ast.h>
#include <isl/id.h>

void cgc_print_expr_to(sbuf *s, __isl_keep isl_ast_expr *e)
{
	char *t = e ? isl_ast_expr_to_C_str(e) : NULL;
	sbuf_printf(s, "%s", t ? t : "0");
	free(t);
}

void cgc_print_expr(cgc *k, __isl_keep isl_ast_expr *e)
{
	cgc_print_expr_to(&k->out, e);
}

/* Is tensor t one of group gi's tile buffers that the group's code
 * declares (not a register, nor private to a loop of strips)? */
static int group_tile(const cgc *k, int t, int gi)
{
	const cg_buffer *b = &k->buf[t];
	return b->kind == CG_BUF_TILE && b->group == gi && !b->reg && !b->priv_run;
}

/* ... with a slot in the workspace (not a local array)? */
static int ws_tile(const cgc *k, int t, int gi)
{
	return group_tile(k, t, gi) && !cgc_buf_local(&k->buf[t]);
}

/* The line of tile buffer t: a local array, or (ws given) its slot there
 * at off, else (ws NULL) the thread's slot at off or an allocation. */
static void tile_line(cgc *k, int depth, int t, const char *ws, int64_t off)
{
	const cg_buffer *b = &k->buf[t];
	const char *name = k->c->tensors[t].name;
	sbuf_indent(&k->out, depth);
	if (cgc_buf_local(b))
		sbuf_printf(&k->out, "_Alignas(64) float t_%s[%" PRId64 "]; /* tile buffer [", name,
			    b->size);
	else if (ws)
		sbuf_printf(&k->out, "float *restrict t_%s = (float *)(%s + %" PRId64 "); /* tile buffer [",
			    name, ws, off);
	else
		sbuf_printf(&k->out,
			    "float *restrict t_%s = tws ? (float *)(tws + %" PRId64 ") : ml_alloc(%" PRId64
			    "); /* tile buffer [",
			    name, off, b->size);
	for (int d = 0; d < b->ndims; d++)
		sbuf_printf(&k->out, "%s%" PRId64 "%s", d ? "][" : "", b->ext[d],
			    b->strip[d] ? " strip" : b->mod[d] ? " mod" : "");
	sbuf_printf(&k->out, "] */\n");
	if (!cgc_buf_local(b) && !ws) {
		sbuf_indent(&k->out, depth);
		sbuf_printf(&k->out, "if (!t_%s) ok = 0;\n", name);
	}
}

/* A tile buffer of at most CG_LOCAL_MAX floats is a local array of the
 * group's code (of each thread's region in a parallel group; of the body
 * of a loop of strips in parallel for cg_buffer.priv_run): the C compiler
 * may then keep it in registers, which it cannot do with a pointer into
 * the workspace that other pointers might alias.  Mamba-1's YS, the sum
 * over 16 states of one strip (of 8 channels, by hand): its scan group
 * 22.4 ms in the workspace, 20.9 as a local (AMD EPYC). */
int cgc_buf_local(const cg_buffer *b)
{
	return b->kind == CG_BUF_TILE && !b->reg && b->size <= CG_LOCAL_MAX;
}

static void emit_tile_allocs(cgc *k, int depth, int gi)
{
	/* The thread's share of the workspace, if it was given one (no
	 * allocation, and no page faults, per call); else malloc. */
	int64_t base = cgc_ws_shared(k), off = 0;
	int ws_any = 0;
	for (int t = 0; t < k->c->ntensors; t++)
		ws_any |= ws_tile(k, t, gi);
	if (ws_any) {
		sbuf_indent(&k->out, depth);
		sbuf_printf(&k->out, "char *tws = ml_thread_ws(ws, wsb, %" PRId64 ", %" PRId64 ");\n",
			    base, k->ws_thread);
	}
	for (int t = 0; t < k->c->ntensors; t++)
		if (group_tile(k, t, gi)) {
			tile_line(k, depth, t, NULL, off);
			off += cgc_buf_bytes(&k->buf[t]);
		}
}

/* A buffer's slot in the workspace: whole cache lines and, once it spans
 * a page, a size of 21 lines past a multiple of 4 KiB, so that consecutive
 * buffers start 1344 bytes apart modulo 4 KiB (21 is odd: the first 64
 * all differ).  Buffers that started on the same 4 KiB phase made loads
 * of one wait for stores to another (the core matches them on the low
 * 12 address bits): Mamba-1's scan reads A[n+1][d] right after storing
 * H[n][d], rows 6 KiB apart, A and H 2 KiB apart; its group took 1.49-1.66
 * ms at I = 256 with that layout, 1.28-1.39 without. */
#define CGC_PAGE 4096
#define CGC_PHASE 1344

int64_t cgc_buf_bytes(const cg_buffer *b)
{
	if (b->reg || cgc_buf_local(b))
		return 0;
	int64_t bytes = (b->size * 4 + 63) / 64 * 64;
	if (bytes >= CGC_PAGE)
		bytes += (CGC_PHASE - bytes % CGC_PAGE + CGC_PAGE) % CGC_PAGE;
	return bytes;
}

/* The tile buffers of a group whose tile loops run serially live in the
 * workspace, after the full intermediates (the groups run one after the
 * other, so they share that space): no allocation, and no page faults,
 * per call. */
void cgc_emit_tile_ws(cgc *k, int depth, int gi)
{
	int64_t off = k->ws_full;
	for (int t = 0; t < k->c->ntensors; t++)
		if (group_tile(k, t, gi)) {
			tile_line(k, depth, t, "ws", off);
			off += cgc_buf_bytes(&k->buf[t]);
		}
}

/* A "pfor POINTS RUN" mark (strip_subtree in lower_sched.c): its run, and
 * its points in *points (points may be NULL); -1 for another mark. */
static int pfor_mark(const char *name, long long *points)
{
	if (strncmp(name, "pfor ", 5) != 0)
		return -1;
	char *end;
	long long n = strtoll(name + 5, &end, 10);
	if (points)
		*points = n;
	return (int)strtol(end, NULL, 10);
}

/* In the body of a loop of strips in parallel (run: its "pfor" mark's):
 * the buffers private to each of its iterations. */
static void emit_priv_locals(cgc *k, int depth, int run)
{
	for (int t = 0; t < k->c->ntensors; t++)
		if (k->buf[t].kind == CG_BUF_TILE && k->buf[t].priv_run == run + 1 && !k->buf[t].reg)
			tile_line(k, depth, t, NULL, 0);
}

static void emit_tile_frees(cgc *k, int depth, int gi)
{
	for (int t = 0; t < k->c->ntensors; t++)
		if (ws_tile(k, t, gi)) {
			sbuf_indent(&k->out, depth);
			sbuf_printf(&k->out, "if (!tws)\n");
			sbuf_indent(&k->out, depth + 1);
			sbuf_printf(&k->out, "free(t_%s);\n", k->c->tensors[t].name);
		}
}

int cgc_group_has_tiles(const cgc *k, int gi)
{
	for (int t = 0; t < k->c->ntensors; t++)
		if (group_tile(k, t, gi))
			return 1;
	return 0;
}

/* The variable of statement `call` (named name) that the loop
 * k->vec_it moves, for in_period (c_expr.c), or -1.  A product's call
 * (G<e>) takes tile indices, not points.  Reset to -1 once the
 * statement is printed: no other statement's offsets may use it. */
static void set_vec_var(cgc *k, __isl_keep isl_ast_expr *call, const char *name)
{
	int nargs = (int)isl_ast_expr_op_get_n_arg(call) - 1;
	k->vec_var = -1;
	for (int v = 0; k->vec_it && name[0] != 'G' && v < nargs; v++) {
		isl_ast_expr *a = isl_ast_expr_op_get_arg(call, v + 1);
		if (isl_ast_expr_get_type(a) == isl_ast_expr_id) {
			isl_id *x = isl_ast_expr_get_id(a);
			if (x == k->vec_it)
				k->vec_var = v;
			isl_id_free(x);
		}
		isl_ast_expr_free(a);
	}
}

/* The variables (one bit each) that the C text of e uses: none inside a
 * hoisted subexpression (hx<i>), which is computed before the loop. */
static unsigned expr_vars(const cgc *k, const ein_einsum *es, const ein_expr *e)
{
	for (int i = 0; i < k->nhoist; i++)
		if (k->hoist[i] == e)
			return 0;
	switch (e->kind) {
	case EIN_X_VAR:
		return 1u << e->id;
	case EIN_X_ACCESS: {
		const ein_access *a = &es->reads[e->id];
		return k->buf[a->tensor].reg ? 0 : cgc_access_vars(es, a);
	}
	case EIN_X_UNARY:
		return expr_vars(k, es, e->a);
	case EIN_X_BINARY:
		return expr_vars(k, es, e->a) | expr_vars(k, es, e->b);
	default:
		return 0;
	}
}

static void emit_user(cgc *k, __isl_keep isl_ast_node *node, int depth)
{
	isl_ast_expr *call = isl_ast_node_user_get_expr(node);
	isl_ast_expr *fn = isl_ast_expr_op_get_arg(call, 0);
	isl_id *id = isl_ast_expr_get_id(fn);
	const char *name = isl_id_get_name(id);
	int init = name[0] == 'Z';
	int e = atoi(name + 1);
	const ein_einsum *es = &k->c->einsums[e];
	int nargs = (int)isl_ast_expr_op_get_n_arg(call) - 1;
	sbuf *s = &k->out;
	set_vec_var(k, call, name);
	if (name[0] == 'G') {
		sbuf_indent(s, depth);
		sbuf_printf(s, "{\n");
		for (int j = 0; j < nargs; j++) {
			isl_ast_expr *a = isl_ast_expr_op_get_arg(call, j + 1);
			sbuf_indent(s, depth + 1);
			sbuf_printf(s, "const long tile_%d = ", j);
			cgc_print_expr(k, a);
			sbuf_printf(s, ";\n");
			isl_ast_expr_free(a);
		}
		cgc_emit_gemm(k, e, depth + 1);
		goto close;
	}
	const char *tn = k->c->tensors[es->out.tensor].name;
	int acc = -1;
	for (int i = 0; i < k->nacc && !init; i++)
		if (k->acc_e[i] == e)
			acc = i;
	/* With subexpressions hoisted out of the loop, the variables the
	 * statement's text still uses (an unused one is an error under
	 * -Werror). */
	unsigned need = ~0u;
	if (k->nhoist) {
		need = init ? 0 : expr_vars(k, es, es->rhs);
		if (acc < 0 && !k->buf[es->out.tensor].reg)
			need |= cgc_access_vars(es, &es->out);
	}
	sbuf_indent(s, depth);
	sbuf_printf(s, "{");
	for (int v = 0; v < nargs; v++) {
		if (!((need >> v) & 1))
			continue;
		isl_ast_expr *a = isl_ast_expr_op_get_arg(call, v + 1);
		sbuf_printf(s, " const long v_%s = ", es->vars[v].name);
		cgc_print_expr(k, a);
		sbuf_printf(s, ";");
		isl_ast_expr_free(a);
	}
	sbuf_printf(s, "\n");
	sbuf_indent(s, depth + 1);
	if (acc >= 0) {
		const char *op = es->reduce_op == EIN_OP_MAX	 ? "ml_max"
				 : es->reduce_op == EIN_OP_MIN ? "ml_min"
							       : NULL;
		if (op)
			sbuf_printf(s, "acc%d = %s(acc%d, ", acc, op, acc);
		else
			sbuf_printf(s, "acc%d = acc%d + (", acc, acc);
		cgc_expr(s, k, es, es->rhs);
		sbuf_printf(s, ");\n");
		goto close;
	}
	if (k->buf[es->out.tensor].reg) {
		sbuf_printf(s, "r_%s", tn);
	} else {
		sbuf_printf(s, "t_%s[", tn);
		cgc_offset(s, k, es, &es->out);
		sbuf_printf(s, "]");
	}
	sbuf_printf(s, " = ");
	if (init) {
		double id0 = ein_reduce_identity(es->reduce_op);
		cgc_number(s, id0);
	} else if (ein_einsum_reduces(es)) {
		const char *op = es->reduce_op == EIN_OP_MAX	 ? "ml_max"
				 : es->reduce_op == EIN_OP_MIN ? "ml_min"
							       : NULL;
		if (op)
			sbuf_printf(s, "%s(", op);
		sbuf_printf(s, "t_%s[", tn);
		cgc_offset(s, k, es, &es->out);
		sbuf_printf(s, "]%s", op ? ", " : " + ");
		cgc_expr(s, k, es, es->rhs);
		if (op)
			sbuf_printf(s, ")");
	} else {
		cgc_expr(s, k, es, es->rhs);
	}
	sbuf_printf(s, ";\n");
close:
	sbuf_indent(s, depth);
	sbuf_printf(s, "}\n");
	k->vec_var = -1;
	isl_id_free(id);
	isl_ast_expr_free(fn);
	isl_ast_expr_free(call);
}

static void emit_node(cgc *k, __isl_keep isl_ast_node *node, int depth,
		      int parallel);

static void emit_for(cgc *k, __isl_keep isl_ast_node *node, int depth,
		     int parallel);

static void emit_list(cgc *k, __isl_keep isl_ast_node_list *l, int depth,
		      int parallel)
{
	isl_size n = isl_ast_node_list_n_ast_node(l);
	for (int i = 0; i < n; i++) {
		isl_ast_node *c = isl_ast_node_list_get_ast_node(l, i);
		emit_node(k, c, depth, parallel);
		isl_ast_node_free(c);
	}
}

/* "for (long it = init; cond; it += inc) {" of a for node. */
static void for_header(cgc *k, __isl_keep isl_ast_node *node)
{
	sbuf *s = &k->out;
	isl_ast_expr *it = isl_ast_node_for_get_iterator(node);
	isl_ast_expr *init = isl_ast_node_for_get_init(node);
	isl_ast_expr *cond = isl_ast_node_for_get_cond(node);
	isl_ast_expr *inc = isl_ast_node_for_get_inc(node);
	sbuf_printf(s, "for (long ");
	cgc_print_expr(k, it);
	sbuf_printf(s, " = ");
	cgc_print_expr(k, init);
	sbuf_printf(s, "; ");
	cgc_print_expr(k, cond);
	sbuf_printf(s, "; ");
	cgc_print_expr(k, it);
	sbuf_printf(s, " += ");
	cgc_print_expr(k, inc);
	sbuf_printf(s, ") {\n");
	isl_ast_expr_free(it);
	isl_ast_expr_free(init);
	isl_ast_expr_free(cond);
	isl_ast_expr_free(inc);
}

static void vec_end(cgc *k);

/* Printing the body of loop `node` (cgc.vec_it): a simd loop, or one of
 * a tile's points (emit_for).  An inner loop replaces an outer one; after
 * it, the outer one's statements print as outside any loop (correct,
 * only not affine). */
static void vec_begin(cgc *k, __isl_keep isl_ast_node *node)
{
	vec_end(k);
	isl_ast_expr *it = isl_ast_node_for_get_iterator(node);
	k->vec_it = isl_ast_expr_get_id(it);
	k->vec_init = isl_ast_node_for_get_init(node);
	isl_ast_expr_free(it);
}

static void vec_end(cgc *k)
{
	k->vec_it = isl_id_free(k->vec_it);
	k->vec_init = isl_ast_expr_free(k->vec_init);
}

/* The integer value of e, or -1 when it is not a non-negative constant. */
static long ast_const(__isl_keep isl_ast_expr *e)
{
	long v = -1;
	if (isl_ast_expr_get_type(e) == isl_ast_expr_int) {
		isl_val *x = isl_ast_expr_get_val(e);
		if (isl_val_is_int(x) && isl_val_is_nonneg(x))
			v = isl_val_get_num_si(x);
		isl_val_free(x);
	}
	return v;
}

/* The iterations of a loop `for (it = A; it <= B; it += 1)` with
 * constant A and B, or -1. */
static long const_trips(__isl_keep isl_ast_node *node)
{
	isl_ast_expr *init = isl_ast_node_for_get_init(node);
	isl_ast_expr *cond = isl_ast_node_for_get_cond(node);
	isl_ast_expr *inc = isl_ast_node_for_get_inc(node);
	long n = -1, a = ast_const(init);
	if (a >= 0 && ast_const(inc) == 1 && isl_ast_expr_get_type(cond) == isl_ast_expr_op) {
		enum isl_ast_expr_op_type op = isl_ast_expr_op_get_type(cond);
		isl_ast_expr *hi = isl_ast_expr_op_get_arg(cond, 1);
		long b = ast_const(hi);
		if (b >= 0 && op == isl_ast_expr_op_le)
			n = b - a + 1;
		else if (b >= 0 && op == isl_ast_expr_op_lt)
			n = b - a;
		isl_ast_expr_free(hi);
	}
	isl_ast_expr_free(init);
	isl_ast_expr_free(cond);
	isl_ast_expr_free(inc);
	return n;
}

/* Does expression e use identifier id? */
int cgc_expr_uses(__isl_keep isl_ast_expr *e, __isl_keep isl_id *id)
{
	if (isl_ast_expr_get_type(e) == isl_ast_expr_id) {
		isl_id *x = isl_ast_expr_get_id(e);
		int same = x == id;
		isl_id_free(x);
		return same;
	}
	if (isl_ast_expr_get_type(e) != isl_ast_expr_op)
		return 0;
	isl_size n = isl_ast_expr_op_get_n_arg(e);
	int used = 0;
	for (int i = 0; i < n && !used; i++) {
		isl_ast_expr *a = isl_ast_expr_op_get_arg(e, i);
		used = cgc_expr_uses(a, id);
		isl_ast_expr_free(a);
	}
	return used;
}

/* May the loop `node` with body `body` carry `#pragma omp simd`?  Inside
 * OpenMP's outlined functions the compiler loses `restrict` and guards
 * each short inner loop with run-time alias checks (the SSM step's loops
 * of 16 states: 6 percent of a prefill).  Only a loop around one statement
 * instance, S<e>, whose iterator feeds one rank var of e: an output rank,
 * indexing an output dimension that is not cyclic (mod) in its buffer or
 * cyclic with a period the loop stays within, so that the iterations write
 * distinct elements; every read of e's own
 * output tensor indexes the dimensions that involve that var exactly as
 * the write does, so that no iteration reads what another writes (the
 * scan reads generation i and writes i + 1 of the same state element).
 * Other tensors never share memory with it (the API's restrict). */
static int simd_loop(const cgc *k, __isl_keep isl_ast_node *node, __isl_keep isl_ast_node *body)
{
	if (isl_ast_node_get_type(body) == isl_ast_node_block) {
		isl_ast_node_list *l = isl_ast_node_block_get_children(body);
		int ok = isl_ast_node_list_n_ast_node(l) == 1;
		isl_ast_node *c = ok ? isl_ast_node_list_get_ast_node(l, 0) : NULL;
		isl_ast_node_list_free(l);
		ok = ok && simd_loop(k, node, c);
		isl_ast_node_free(c);
		return ok;
	}
	if (isl_ast_node_get_type(body) != isl_ast_node_user)
		return 0;
	isl_ast_expr *call = isl_ast_node_user_get_expr(body);
	isl_ast_expr *fn = isl_ast_expr_op_get_arg(call, 0);
	isl_id *fid = isl_ast_expr_get_id(fn);
	isl_ast_expr *it = isl_ast_node_for_get_iterator(node);
	isl_id *iid = isl_ast_expr_get_id(it);
	const char *name = isl_id_get_name(fid);
	int ok = name[0] == 'S', var = -1;
	const ein_einsum *es = ok ? &k->c->einsums[atoi(name + 1)] : NULL;
	for (int v = 0; ok && v < es->nvars; v++) {
		isl_ast_expr *a = isl_ast_expr_op_get_arg(call, v + 1);
		if (cgc_expr_uses(a, iid)) {
			ok = var < 0 && !es->vars[v].reduced;
			var = v;
		}
		isl_ast_expr_free(a);
	}
	ok = ok && var >= 0;
	const ein_access *out = ok ? &es->out : NULL;
	int distinct = 0;
	for (int d = 0; ok && d < out->nidx; d++)
		if (out->idx[d].vc[var]) {
			/* A cyclic dimension of period > 1 is a tile buffer's:
			 * the innermost loop of one statement runs inside one
			 * tile, whose positions stay within a period (a period
			 * of 1 is a tile of 1, where the loop runs over tiles). */
			ok = !k->buf[out->tensor].mod[d] || k->buf[out->tensor].ext[d] > 1;
			distinct = 1;
		}
	ok = ok && distinct;
	for (int r = 0; ok && r < es->nreads; r++)
		for (int d = 0; ok && es->reads[r].tensor == out->tensor && d < out->nidx; d++)
			if (es->reads[r].idx[d].vc[var] || out->idx[d].vc[var])
				ok = memcmp(&es->reads[r].idx[d], &out->idx[d], sizeof(ein_aff)) == 0;
	isl_id_free(iid);
	isl_ast_expr_free(it);
	isl_id_free(fid);
	isl_ast_expr_free(fn);
	isl_ast_expr_free(call);
	return ok;
}

static void emit_var_defs(cgc *k, const ein_einsum *es, __isl_keep isl_ast_expr *call,
			  int from, int to, int depth)
{
	sbuf *s = &k->out;
	for (int v = from; v < to; v++) {
		isl_ast_expr *a = isl_ast_expr_op_get_arg(call, v + 1);
		sbuf_indent(s, depth);
		sbuf_printf(s, "const long v_%s = ", es->vars[v].name);
		cgc_print_expr(k, a);
		sbuf_printf(s, ";\n");
		isl_ast_expr_free(a);
	}
}

/* The variables of statement es (instance call) that the loop with
 * iterator iid moves (one bit each). */
static unsigned moving_vars(const ein_einsum *es, __isl_keep isl_ast_expr *call,
			    __isl_keep isl_id *iid)
{
	unsigned moving = 0;
	for (int v = 0; v < es->nvars; v++) {
		isl_ast_expr *a = isl_ast_expr_op_get_arg(call, v + 1);
		if (cgc_expr_uses(a, iid))
			moving |= 1u << v;
		isl_ast_expr_free(a);
	}
	return moving;
}

/* The variables subexpression e uses (one bit each), and whether it is
 * invariant in a loop that moves the variables of `moving`: no such
 * variable, and no read of the statement's output or of a register. */
static int expr_invariant(const cgc *k, const ein_einsum *es, const ein_expr *e,
			  unsigned moving, unsigned *used)
{
	switch (e->kind) {
	case EIN_X_NUM:
	case EIN_X_PARAM:
		return 1;
	case EIN_X_VAR:
		*used |= 1u << e->id;
		return !((moving >> e->id) & 1);
	case EIN_X_ACCESS: {
		const ein_access *a = &es->reads[e->id];
		if (a->tensor == es->out.tensor || k->buf[a->tensor].reg ||
		    (k->written && k->written[a->tensor]))
			return 0;
		int inv = 1;
		for (int d = 0; d < a->nidx; d++)
			for (int v = 0; v < es->nvars; v++)
				if (a->idx[d].vc[v]) {
					*used |= 1u << v;
					inv &= !((moving >> v) & 1);
				}
		return inv;
	}
	case EIN_X_UNARY:
		return expr_invariant(k, es, e->a, moving, used);
	case EIN_X_BINARY: {
		int a = expr_invariant(k, es, e->a, moving, used);
		int b = expr_invariant(k, es, e->b, moving, used);
		return a && b;
	}
	}
	return 0;
}

/* Collects the largest loop-invariant subexpressions of e that load or
 * compute something (not a constant) in k->hoist. */
static void find_hoists(cgc *k, const ein_einsum *es, const ein_expr *e, unsigned moving,
			unsigned *used)
{
	if (e->kind != EIN_X_UNARY && e->kind != EIN_X_BINARY && e->kind != EIN_X_ACCESS)
		return;
	unsigned u = 0;
	if (expr_invariant(k, es, e, moving, &u)) {
		if (k->nhoist < (int)(sizeof(k->hoist) / sizeof(k->hoist[0]))) {
			k->hoist[k->nhoist++] = e;
			*used |= u;
		}
		return;
	}
	if (e->kind == EIN_X_ACCESS)
		return;
	find_hoists(k, es, e->a, moving, used);
	if (e->kind == EIN_X_BINARY)
		find_hoists(k, es, e->b, moving, used);
}

/* Before a simd loop around one statement (not a reduction: its terms
 * stay in the loop): opens a block that computes the statement's
 * loop-invariant subexpressions once (hx<i>), with the variables they
 * use.  Inside OpenMP's outlined functions the compiler cannot hoist a
 * load itself (restrict is lost), and a call on it in the loop, such as
 * RMSNorm's rsqrt of the row's sum, kept GCC from vectorising the loop:
 * 1.4 ms for 1024 rows of 768 against 0.17 hoisted; a lone load (the
 * softmax's row maximum in exp(QK - GM)) costs a reload per element and
 * halves the loop's speed.  Returns 1 when it opened the block (the
 * caller closes it). */
static int hoist_begin(cgc *k, __isl_keep isl_ast_node *node, __isl_keep isl_ast_node *body,
		       int depth)
{
	/* simd_loop accepted the body: one statement, alone or in a block. */
	isl_ast_node *user = isl_ast_node_copy(body);
	if (isl_ast_node_get_type(body) == isl_ast_node_block) {
		isl_ast_node_list *l = isl_ast_node_block_get_children(body);
		isl_ast_node_free(user);
		user = isl_ast_node_list_get_ast_node(l, 0);
		isl_ast_node_list_free(l);
	}
	isl_ast_expr *call = isl_ast_node_user_get_expr(user);
	isl_ast_expr *fn = isl_ast_expr_op_get_arg(call, 0);
	isl_id *fid = isl_ast_expr_get_id(fn);
	isl_ast_expr *it = isl_ast_node_for_get_iterator(node);
	isl_id *iid = isl_ast_expr_get_id(it);
	const char *name = isl_id_get_name(fid);
	k->nhoist = 0;
	if (name[0] == 'S' && !ein_einsum_reduces(&k->c->einsums[atoi(name + 1)])) {
		const ein_einsum *es = &k->c->einsums[atoi(name + 1)];
		unsigned used = 0;
		find_hoists(k, es, es->rhs, moving_vars(es, call, iid), &used);
		if (k->nhoist) {
			sbuf *s = &k->out;
			sbuf_indent(s, depth);
			sbuf_printf(s, "{\n");
			for (int v = 0; v < es->nvars; v++)
				if ((used >> v) & 1)
					emit_var_defs(k, es, call, v, v + 1, depth + 1);
			for (int i = 0; i < k->nhoist; i++) {
				sbuf_indent(s, depth + 1);
				sbuf_printf(s, "const float hx%d = ", i);
				/* Print the subexpression itself, not its name. */
				int n = k->nhoist;
				k->nhoist = 0;
				cgc_expr(s, k, es, k->hoist[i]);
				k->nhoist = n;
				sbuf_printf(s, ";\n");
			}
		}
	}
	isl_id_free(iid);
	isl_ast_expr_free(it);
	isl_id_free(fid);
	isl_ast_expr_free(fn);
	isl_ast_expr_free(call);
	isl_ast_node_free(user);
	return k->nhoist > 0;
}


/* A loop whose body is one instance of a reduction and which runs over its
 * reduced ranks only (the output element is the same in every iteration)
 * accumulates in a local: the compiler cannot keep the element in a
 * register itself when it cannot prove that the output does not alias the
 * operands (inside OpenMP's outlined functions restrict is lost), and
 * would then neither vectorise the sum nor avoid a store per term.
 * Returns 1 when it emitted the loop. */
static int emit_acc_loop(cgc *k, __isl_keep isl_ast_node *node, int depth)
{
	isl_ast_node *body = isl_ast_node_for_get_body(node);
	int done = 0;
	if (isl_ast_node_get_type(body) != isl_ast_node_user) {
		isl_ast_node_free(body);
		return 0;
	}
	isl_ast_expr *call = isl_ast_node_user_get_expr(body);
	isl_ast_expr *fn = isl_ast_expr_op_get_arg(call, 0);
	isl_id *fid = isl_ast_expr_get_id(fn);
	const char *name = isl_id_get_name(fid);
	isl_ast_expr *it = isl_ast_node_for_get_iterator(node);
	isl_id *iid = isl_ast_expr_get_id(it);
	if (name[0] == 'S') {
		int e = atoi(name + 1);
		const ein_einsum *es = &k->c->einsums[e];
		int no = ein_einsum_nout(es), ok = ein_einsum_reduces(es);
		for (int v = 0; v < no && ok; v++) {
			isl_ast_expr *a = isl_ast_expr_op_get_arg(call, v + 1);
			ok = !cgc_expr_uses(a, iid);
			isl_ast_expr_free(a);
		}
		if (ok) {
			sbuf *s = &k->out;
			const char *tn = k->c->tensors[es->out.tensor].name;
			const char *op = es->reduce_op == EIN_OP_MAX	 ? "ml_max"
					 : es->reduce_op == EIN_OP_MIN ? "ml_min"
								       : NULL;
			sbuf_indent(s, depth);
			sbuf_printf(s, "{\n");
			set_vec_var(k, call, name);
			emit_var_defs(k, es, call, 0, no, depth + 1);
			sbuf_indent(s, depth + 1);
			sbuf_printf(s, "float acc = t_%s[", tn);
			cgc_offset(s, k, es, &es->out);
			sbuf_printf(s, "];\n");
			/* The sum as the simd lanes' partial sums (the order of the
			 * terms changes, as with the BLAS): a chain of dependent adds
			 * takes the add's latency per term, four times the vector
			 * throughput or more.  Not when a term reads the output.  A
			 * few terms (a convolution's taps) are unrolled instead, so
			 * that the loop around vectorises: Mamba-1's 4-tap conv over
			 * 1024 x 1536 took 4.1 ms as loops of 4, 1.0 unrolled. */
			long trips = const_trips(node);
			if (trips > 0 && trips <= CG_UNROLL_MAX) {
				sbuf_indent(s, depth + 1);
				sbuf_printf(s, "#pragma GCC unroll %ld\n", trips);
			} else if (k->o->openmp && !ein_einsum_reads(es, es->out.tensor)) {
				sbuf_printf(s, "#ifdef _OPENMP\n");
				sbuf_indent(s, depth + 1);
				sbuf_printf(s, "#pragma omp simd reduction(%s: acc)\n#endif\n",
					    es->reduce_op == EIN_OP_MAX	  ? "max"
					    : es->reduce_op == EIN_OP_MIN ? "min"
									  : "+");
			}
			sbuf_indent(s, depth + 1);
			for_header(k, node);
			emit_var_defs(k, es, call, no, es->nvars, depth + 2);
			sbuf_indent(s, depth + 2);
			sbuf_printf(s, op ? "acc = %s(acc, " : "acc = acc + (", op ? op : "");
			cgc_expr(s, k, es, es->rhs);
			sbuf_printf(s, ");\n");
			sbuf_indent(s, depth + 1);
			sbuf_printf(s, "}\n");
			sbuf_indent(s, depth + 1);
			sbuf_printf(s, "t_%s[", tn);
			cgc_offset(s, k, es, &es->out);
			sbuf_printf(s, "] = acc;\n");
			sbuf_indent(s, depth);
			sbuf_printf(s, "}\n");
			k->vec_var = -1;
			done = 1;
		}
	}
	isl_id_free(iid);
	isl_ast_expr_free(it);
	isl_id_free(fid);
	isl_ast_expr_free(fn);
	isl_ast_expr_free(call);
	isl_ast_node_free(body);
	return done;
}

/* The dimensions of access a that involve variable v (one bit each), or
 * -1 when one of them is not exactly v (v + 1, 2 v, v + u, ...). */
static int64_t iter_dims(const ein_einsum *es, const ein_access *a, int v, int nparams)
{
	int64_t m = 0;
	for (int d = 0; v >= 0 && d < a->nidx; d++) {
		const ein_aff *x = &a->idx[d];
		if (!x->vc[v])
			continue;
		int pure = x->vc[v] == 1 && x->c == 0;
		for (int w = 0; w < es->nvars; w++)
			pure &= w == v || !x->vc[w];
		for (int p = 0; p < nparams; p++)
			pure &= !x->pc[p];
		if (!pure)
			return -1;
		m |= (int64_t)1 << d;
	}
	return m;
}

enum { FUSED_MAX = 32 };

/* acc<a> = the element of reduction es at instance call (store: the other
 * way round), in a block of its own. */
static void acc_move(cgc *k, const ein_einsum *es, __isl_keep isl_ast_expr *call, int a,
		     int depth, int store)
{
	sbuf *s = &k->out;
	sbuf_indent(s, depth);
	sbuf_printf(s, "{\n");
	emit_var_defs(k, es, call, 0, ein_einsum_nout(es), depth + 1);
	sbuf_indent(s, depth + 1);
	if (!store)
		sbuf_printf(s, "acc%d = ", a);
	sbuf_printf(s, "t_%s[", k->c->tensors[es->out.tensor].name);
	cgc_offset(s, k, es, &es->out);
	sbuf_printf(s, "]");
	if (store)
		sbuf_printf(s, " = acc%d", a);
	sbuf_printf(s, ";\n");
	sbuf_indent(s, depth);
	sbuf_printf(s, "}\n");
}

/* Before a fused loop (emit_fused_loop) of the n statements calls (Einsums
 * se, initialisations where sinit): opens a block that computes their
 * loop-invariant subexpressions once (hx<i>, as hoist_begin does for one
 * statement), each statement's with its own variables.  None may read a
 * tensor that the loop writes.  Mamba-2's scan step (BX = DT * XC * B,
 * HS = DA * HS + BX, y += HS * C along 128 states) reloaded DT, XC and DA
 * for every vector: 11.0 ms against 10.4 hoisted.  Returns 1 when it
 * opened the block (the caller closes it and empties k->hoist). */
static int fused_hoists(cgc *k, isl_ast_expr *const *calls, const int *se, const int *sinit,
			int n, __isl_keep isl_id *iid, int depth)
{
	const ein_cascade *c = k->c;
	char *written = calloc((size_t)c->ntensors, 1);
	int first[FUSED_MAX + 1];
	unsigned used[FUSED_MAX] = {0};
	if (!written)
		return 0;
	for (int i = 0; i < n; i++)
		written[c->einsums[se[i]].out.tensor] = 1;
	k->written = written;
	k->nhoist = 0;
	for (int i = 0; i < n; i++) {
		first[i] = k->nhoist;
		if (sinit[i])
			continue;
		const ein_einsum *es = &c->einsums[se[i]];
		find_hoists(k, es, es->rhs, moving_vars(es, calls[i], iid), &used[i]);
	}
	first[n] = k->nhoist;
	k->written = NULL;
	free(written);
	if (!k->nhoist)
		return 0;
	sbuf *s = &k->out;
	sbuf_indent(s, depth);
	sbuf_printf(s, "{\n");
	sbuf_indent(s, depth + 1);
	for (int h = 0; h < k->nhoist; h++)
		sbuf_printf(s, "%shx%d", h ? ", " : "float ", h);
	sbuf_printf(s, ";\n");
	int nh = k->nhoist;
	for (int i = 0; i < n; i++) {
		if (first[i] == first[i + 1])
			continue;
		const ein_einsum *es = &c->einsums[se[i]];
		sbuf_indent(s, depth + 1);
		sbuf_printf(s, "{\n");
		for (int v = 0; v < es->nvars; v++)
			if ((used[i] >> v) & 1)
				emit_var_defs(k, es, calls[i], v, v + 1, depth + 2);
		for (int h = first[i]; h < first[i + 1]; h++) {
			sbuf_indent(s, depth + 2);
			sbuf_printf(s, "hx%d = ", h);
			/* The subexpression itself, not its name. */
			k->nhoist = 0;
			cgc_expr(s, k, es, k->hoist[h]);
			k->nhoist = nh;
			sbuf_printf(s, ";\n");
		}
		sbuf_indent(s, depth + 1);
		sbuf_printf(s, "}\n");
	}
	return 1;
}

/* A loop whose body is two or more statement instances (a fused loop of
 * lower_strips.c's nests, or a point loop whose statements have no loop
 * of their own): the values of register tensors are locals of the body;
 * a reduction whose element does not move with the loop accumulates in
 * a local (acc<i>) when no other statement of the body touches it; and
 * the loop is `omp simd` when no iteration touches what another writes:
 * every access to a tensor written in the body indexes exactly the same
 * dimensions by the loop's variable alone, the written ones not stored
 * modulo 1.  Returns 1 when it emitted the loop (0: nothing to gain, the
 * caller prints it as it is). */
static int emit_fused_loop(cgc *k, __isl_keep isl_ast_node *node, int depth)
{
	isl_ast_node *body = isl_ast_node_for_get_body(node);
	if (isl_ast_node_get_type(body) != isl_ast_node_block) {
		isl_ast_node_free(body);
		return 0;
	}
	const ein_cascade *c = k->c;
	isl_ast_node_list *l = isl_ast_node_block_get_children(body);
	isl_size n = isl_ast_node_list_n_ast_node(l);
	isl_ast_expr *it = isl_ast_node_for_get_iterator(node);
	isl_id *iid = isl_ast_expr_get_id(it);
	isl_ast_expr *calls[FUSED_MAX] = {0};
	int se[FUSED_MAX], sinit[FUSED_MAX], svar[FUSED_MAX], sacc[FUSED_MAX];
	int ok = n >= 2 && n <= FUSED_MAX, done = 0;
	for (int i = 0; ok && i < n; i++) {
		isl_ast_node *ch = isl_ast_node_list_get_ast_node(l, i);
		ok = isl_ast_node_get_type(ch) == isl_ast_node_user;
		if (ok) {
			calls[i] = isl_ast_node_user_get_expr(ch);
			isl_ast_expr *fn = isl_ast_expr_op_get_arg(calls[i], 0);
			isl_id *fid = isl_ast_expr_get_id(fn);
			const char *name = isl_id_get_name(fid);
			ok = name[0] == 'S' || name[0] == 'Z';
			se[i] = atoi(name + 1);
			sinit[i] = name[0] == 'Z';
			isl_id_free(fid);
			isl_ast_expr_free(fn);
		}
		isl_ast_node_free(ch);
		if (!ok)
			break;
		/* The variable the loop moves (-1: none, -2: several). */
		int nargs = (int)isl_ast_expr_op_get_n_arg(calls[i]) - 1;
		svar[i] = -1;
		sacc[i] = 0;
		for (int v = 0; v < nargs; v++) {
			isl_ast_expr *a = isl_ast_expr_op_get_arg(calls[i], v + 1);
			if (cgc_expr_uses(a, iid))
				svar[i] = svar[i] == -1 ? v : -2;
			isl_ast_expr_free(a);
		}
	}
	/* Accumulators. */
	k->nacc = 0;
	int simd = ok && k->o->openmp, regs = 0;
	for (int i = 0; ok && i < n; i++) {
		const ein_einsum *es = &c->einsums[se[i]];
		int t = es->out.tensor;
		regs |= !sinit[i] && k->buf[t].reg;
		if (sinit[i] || !ein_einsum_reduces(es) || svar[i] == -2 ||
		    (svar[i] >= 0 && !es->vars[svar[i]].reduced) || k->nacc >= 16)
			continue;
		int alone = 1;
		for (int j = 0; j < n && alone; j++) {
			const ein_einsum *ej = &c->einsums[se[j]];
			if (j == i)
				continue;
			alone = !ein_einsum_touches(ej, t);
		}
		alone = alone && !ein_einsum_reads(es, t);
		if (!alone)
			continue;
		sacc[i] = 1;
		k->acc_e[k->nacc++] = se[i];
		simd &= es->reduce_op == EIN_OP_ADD;
	}
	/* Is the loop free of dependences between its iterations? */
	for (int i = 0; simd && i < n; i++) {
		const ein_einsum *es = &c->einsums[se[i]];
		int t = es->out.tensor;
		if (sacc[i] || k->buf[t].reg)
			continue;
		int v = svar[i];
		simd = v >= 0 && (sinit[i] || !es->vars[v].reduced);
		int64_t wd = simd ? iter_dims(es, &es->out, v, c->nparams) : -1;
		simd = simd && wd > 0;
		for (int d = 0; simd && d < es->out.nidx; d++)
			if ((wd >> d) & 1)
				simd = !k->buf[t].mod[d] || k->buf[t].ext[d] > 1;
		for (int j = 0; simd && j < n; j++) {
			const ein_einsum *ej = &c->einsums[se[j]];
			for (int r = -1; simd && r < ej->nreads; r++) {
				const ein_access *a = r < 0 ? &ej->out : &ej->reads[r];
				if (a->tensor == t)
					simd = svar[j] >= 0 && iter_dims(ej, a, svar[j], c->nparams) == wd;
			}
		}
	}
	if (ok && (simd || k->nacc || regs)) {
		sbuf *s = &k->out;
		int hz = fused_hoists(k, calls, se, sinit, n, iid, depth);
		depth += hz;
		int d = depth;
		if (k->nacc) {
			sbuf_indent(s, d);
			sbuf_printf(s, "{\n");
			d++;
			for (int i = 0, a = 0; i < n; i++) {
				if (!sacc[i])
					continue;
				sbuf_indent(s, d);
				sbuf_printf(s, "float acc%d;\n", a);
				acc_move(k, &c->einsums[se[i]], calls[i], a++, d, 0);
			}
		}
		if (simd) {
			sbuf_printf(s, "#ifdef _OPENMP\n");
			sbuf_indent(s, d);
			sbuf_printf(s, "#pragma omp simd");
			for (int a = 0; a < k->nacc; a++)
				sbuf_printf(s, "%sacc%d", a ? ", " : " reduction(+: ", a);
			sbuf_printf(s, "%s\n#endif\n", k->nacc ? ")" : "");
		}
		sbuf_indent(s, d);
		for_header(k, node);
		for (int i = 0; i < n; i++) {
			int t = c->einsums[se[i]].out.tensor;
			if (!sinit[i] && !sacc[i] && k->buf[t].reg) {
				sbuf_indent(s, d + 1);
				sbuf_printf(s, "float r_%s;\n", c->tensors[t].name);
			}
		}
		if (simd)
			vec_begin(k, node);
		for (int i = 0; i < n; i++) {
			isl_ast_node *ch = isl_ast_node_list_get_ast_node(l, i);
			emit_user(k, ch, d + 1);
			isl_ast_node_free(ch);
		}
		vec_end(k);
		sbuf_indent(s, d);
		sbuf_printf(s, "}\n");
		for (int i = 0, a = 0; i < n && k->nacc; i++) {
			if (!sacc[i])
				continue;
			acc_move(k, &c->einsums[se[i]], calls[i], a++, d, 1);
		}
		if (k->nacc) {
			sbuf_indent(s, depth);
			sbuf_printf(s, "}\n");
		}
		if (hz) {
			k->nhoist = 0;
			sbuf_indent(s, depth - 1);
			sbuf_printf(s, "}\n");
		}
		done = 1;
	}
	k->nacc = 0;
	for (int i = 0; i < FUSED_MAX; i++)
		isl_ast_expr_free(calls[i]);
	isl_id_free(iid);
	isl_ast_expr_free(it);
	isl_ast_node_list_free(l);
	isl_ast_node_free(body);
	return done;
}

static void emit_for(cgc *k, __isl_keep isl_ast_node *node, int depth,
		     int parallel)
{
	if (!parallel && (emit_acc_loop(k, node, depth) || emit_fused_loop(k, node, depth)))
		return;
	sbuf *s = &k->out;
	isl_ast_node *body = isl_ast_node_for_get_body(node);
	int pfor = 0, hoisted = 0, vec = 0, priv = -1;
	long long pfor_points = 0;
	if (cg_is_parallel_mark(body)) {
		isl_ast_node *inner = isl_ast_node_mark_get_node(body);
		isl_ast_node_free(body);
		body = inner;
		parallel = !k->serial;
	} else if (isl_ast_node_get_type(body) == isl_ast_node_mark) {
		/* A loop of strips (cgl_find_strips): a parallel loop of its own,
		 * sharing the group's buffers (the strips touch disjoint
		 * parts of them). */
		isl_id *id = isl_ast_node_mark_get_id(body);
		const char *name = isl_id_get_name(id);
		priv = pfor_mark(name, &pfor_points);
		pfor = priv >= 0 && k->o->openmp && !k->in_team;
		isl_id_free(id);
		if (pfor) {
			isl_ast_node *inner = isl_ast_node_mark_get_node(body);
			isl_ast_node_free(body);
			body = inner;
		}
	}
	/* Beside a team's product, on one thread: no regions. */
	int region = parallel && k->o->openmp && !k->in_team;
	int tiles = k->par_member >= 0 && cgc_group_has_tiles(k, k->cur);
	/* The preprocessor decides whether a region runs in parallel (its
	 * points against ML_PAR_MIN): an OpenMP if clause would still start
	 * a team, of one thread. */
	int64_t points = region ? k->l->groups[k->cur].points : 0;
	if (region) {
		sbuf_printf(s, "#if defined(_OPENMP) && %" PRId64 " >= ML_PAR_MIN\n", points);
		sbuf_indent(s, depth);
		sbuf_printf(s, "#pragma omp parallel\n");
		sbuf_printf(s, "#endif\n");
		sbuf_indent(s, depth);
		sbuf_printf(s, "{\n");
		depth++;
		if (tiles)
			emit_tile_allocs(k, depth, k->cur);
		sbuf_printf(s, "#if defined(_OPENMP) && %" PRId64 " >= ML_PAR_MIN\n", points);
		sbuf_indent(s, depth);
		sbuf_printf(s, "#pragma omp for schedule(static)\n");
		sbuf_printf(s, "#endif\n");
	} else if (parallel && tiles) {
		emit_tile_allocs(k, depth, k->cur);
	}
	if (pfor) {
		sbuf_printf(s, "#if defined(_OPENMP) && %lld >= ML_PAR_MIN\n", pfor_points);
		sbuf_indent(s, depth);
		sbuf_printf(s, "#pragma omp parallel for schedule(static)\n");
		sbuf_printf(s, "#endif\n");
	} else if (!region && k->o->openmp && simd_loop(k, node, body)) {
		hoisted = hoist_begin(k, node, body, depth);
		depth += hoisted;
		sbuf_printf(s, "#ifdef _OPENMP\n");
		sbuf_indent(s, depth);
		sbuf_printf(s, "#pragma omp simd\n");
		sbuf_printf(s, "#endif\n");
		vec = 1;
	}
	sbuf_indent(s, depth);
	for_header(k, node);
	if (parallel && tiles) {
		sbuf_indent(s, depth + 1);
		sbuf_printf(s, "if (!ok) continue;\n");
	}
	/* (A mark left in the body declares them itself.) */
	if (priv >= 0 && pfor)
		emit_priv_locals(k, depth + 1, priv);
	if (!region && !pfor && !vec)
		cgc_prefetch(k, node, depth + 1);
	/* The enclosing loops of those inside (the AST holds the ids). */
	isl_ast_expr *itx = isl_ast_node_for_get_iterator(node);
	isl_id *itid = isl_ast_expr_get_id(itx);
	isl_ast_expr_free(itx);
	int pushed = k->nloops < (int)(sizeof(k->loops) / sizeof(k->loops[0]));
	if (pushed) {
		k->loop_nodes[k->nloops] = node;
		k->loops[k->nloops++] = itid;
	}
	isl_id_free(itid);
	/* A loop of one tile's points that is not simd (around a sum's own
	 * loop: the conv's taps) indexes cyclic buffers by affine offsets
	 * too, so that the C compiler can vectorise it (in_period in
	 * c_expr.c; Mamba-1's conv 0.5 ms of 11 at I = 256). */
	if (vec || (!region && !pfor && !k->vec_it))
		vec_begin(k, node);
	emit_node(k, body, depth + 1, 0);
	if (pushed)
		k->nloops--;
	vec_end(k);
	sbuf_indent(s, depth);
	sbuf_printf(s, "}\n");
	if (hoisted) {
		k->nhoist = 0;
		depth--;
		sbuf_indent(s, depth);
		sbuf_printf(s, "}\n");
	}
	if (region) {
		if (tiles)
			emit_tile_frees(k, depth, k->cur);
		depth--;
		sbuf_indent(s, depth);
		sbuf_printf(s, "}\n");
	} else if (parallel && tiles) {
		emit_tile_frees(k, depth, k->cur);
	}
	isl_ast_node_free(body);
}

static void emit_node(cgc *k, __isl_keep isl_ast_node *node, int depth,
		      int parallel)
{
	sbuf *s = &k->out;
	switch (isl_ast_node_get_type(node)) {
	case isl_ast_node_for:
		emit_for(k, node, depth, parallel);
		return;
	case isl_ast_node_if: {
		isl_ast_expr *cond = isl_ast_node_if_get_cond(node);
		isl_ast_node *then = isl_ast_node_if_get_then_node(node);
		sbuf_indent(s, depth);
		sbuf_printf(s, "if (");
		cgc_print_expr(k, cond);
		sbuf_printf(s, ") {\n");
		emit_node(k, then, depth + 1, parallel);
		sbuf_indent(s, depth);
		sbuf_printf(s, "}");
		if (isl_ast_node_if_has_else_node(node) == isl_bool_true) {
			isl_ast_node *el = isl_ast_node_if_get_else_node(node);
			sbuf_printf(s, " else {\n");
			emit_node(k, el, depth + 1, parallel);
			sbuf_indent(s, depth);
			sbuf_printf(s, "}");
			isl_ast_node_free(el);
		}
		sbuf_printf(s, "\n");
		isl_ast_expr_free(cond);
		isl_ast_node_free(then);
		return;
	}
	case isl_ast_node_block: {
		isl_ast_node_list *l = isl_ast_node_block_get_children(node);
		emit_list(k, l, depth, 0);
		isl_ast_node_list_free(l);
		return;
	}
	case isl_ast_node_mark: {
		isl_id *id = isl_ast_node_mark_get_id(node);
		isl_ast_node *child = isl_ast_node_mark_get_node(node);
		int par = strcmp(isl_id_get_name(id), "parallel") == 0;
		/* The mark sits on the band: its loop is the child, or several
		 * loops in a block when isl split it, or no loop at all when
		 * the band has a single iteration. */
		(void)par; /* bare marks only happen in serial groups */
		/* A loop of strips with one iteration (no loop left), or one
		 * that runs on one thread: the buffers private to it in a block
		 * of their own. */
		int priv = pfor_mark(isl_id_get_name(id), NULL);
		if (priv >= 0) {
			sbuf_indent(s, depth);
			sbuf_printf(s, "{\n");
			emit_priv_locals(k, depth + 1, priv);
		}
		emit_node(k, child, depth + (priv >= 0), 0);
		if (priv >= 0) {
			sbuf_indent(s, depth);
			sbuf_printf(s, "}\n");
		}
		isl_ast_node_free(child);
		isl_id_free(id);
		return;
	}
	case isl_ast_node_user:
		emit_user(k, node, depth);
		return;
	default:
		sbuf_indent(s, depth);
		sbuf_printf(s, "/* unsupported AST node */\n");
		return;
	}
}

/* guard: inside `if (ok)` (a team's product is not: every thread of
 * the team must reach it). */
void cgc_emit_group(cgc *k, const cg_glow *gl, int gi, int guard)
{
	const cg_group *gr = &k->p->groups[gi];
	const ein_cascade *c = k->c;
	sbuf *s = &k->out;
	k->cur = gi;
	k->par_member = gl->par_member;
	k->serial = gl->serial;
	k->group_gemm = gl->group_gemm;
	sbuf_printf(s, "\n\t/* group %d:", gi + 1);
	for (int e = 0; e < c->neinsums; e++)
		if (gr->members[e])
			sbuf_printf(s, " %s", c->einsums[e].name);
	if (gr->nband) {
		sbuf_printf(s, "; fused on");
		for (int j = 0; j < gr->nband; j++)
			sbuf_printf(s, " %s (tile %" PRId64 ")", k->g->ranks[gr->band[j]],
				    gr->tile[j]);
	}
	sbuf_printf(s, " */\n\t%s{\n", guard ? "if (ok) " : "");
	int tiles = cgc_group_has_tiles(k, gi);
	if (tiles && k->par_member < 0)
		cgc_emit_tile_ws(k, 2, gi);
	emit_node(k, gl->ast, 2, 0);
	sbuf_printf(s, "\t}\n");
}
