/* stream_kernel.c - statements as box operations: VEXPR kernels of
 * micro-ops, MMA on the 2D array, FILL (see stream_impl.h). */
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

/* Box of a statement: its origin and extents, and per variable the value
 * at the origin and the coefficient of each box dimension. */
typedef struct sbox {
	int n;
	sx ext[MLB_MAX_DIMS];
	sx argv[EIN_MAX_VARS];
	int64_t dv[EIN_MAX_VARS][MLB_MAX_DIMS];
	int nvars;
} sbox;

static uint8_t vars_mask(const sbox *b, uint32_t vars)
{
	uint8_t m = 0;
	for (int j = 0; j < b->n; j++)
		for (int v = 0; v < b->nvars; v++)
			if (((vars >> v) & 1) && b->dv[v][j])
				m |= (uint8_t)(1u << j);
	return m;
}

/* The address of an access at the box origin, and its strides. */
static void access_addr(st *s, const ein_access *a, const sbox *b, sx *addr, int32_t *stride)
{
	gten *gt = st_find_gt(s, a->tensor);
	if (!gt || !gt->is_open) {
		st_fail(s, -1, "tensor '%s' has no open window", s->c->tensors[a->tensor].name);
		return;
	}
	sx ad = gt->base;
	int64_t str[MLB_MAX_DIMS] = {0};
	for (int d = 0; d < a->nidx; d++) {
		ein_aff cst = a->idx[d];
		memset(cst.vc, 0, sizeof(cst.vc));
		sx idx = K(ein_aff_eval(s->c, &cst, NULL));
		for (int v = 0; v < b->nvars; v++) {
			int64_t cv = a->idx[d].vc[v];
			if (!cv)
				continue;
			idx = sx_add(s, idx, sx_muli(s, b->argv[v], cv));
			for (int j = 0; j < b->n; j++)
				str[j] += gt->gbs[d] * cv * b->dv[v][j];
		}
		ad = sx_add(s, ad, sx_muli(s, sx_sub(s, idx, gt->orig[d]), gt->gbs[d]));
	}
	*addr = ad;
	for (int j = 0; j < MLB_MAX_DIMS; j++) {
		if (str[j] >= MLB_MAX_STRIDE || str[j] <= -MLB_MAX_STRIDE)
			st_fail(s, -2, "a stride of '%s' in the buffer is too large",
				s->c->tensors[a->tensor].name);
		stride[j] = j < b->n ? (int32_t)str[j] : 0;
	}
}

/* A 1D kernel under construction. */
typedef struct kbuild {
	mlb_uop u[MAX_KERNEL_UOPS];
	int n;
	int nstreams;
	const ein_access *acc[MLB_MAX_STREAMS];
	int ld[MLB_MAX_STREAMS];
	int nvar;
	sx varorg[16];
} kbuild;

static int kput(st *s, kbuild *k, int op, int fn, int cost, uint8_t mask, int a, int b, float v)
{
	if (k->n == MAX_KERNEL_UOPS) {
		st_fail(s, -2, "a right-hand side needs more than %d micro-ops", MAX_KERNEL_UOPS);
		return 0;
	}
	mlb_uop *u = &k->u[k->n];
	memset(u, 0, sizeof(*u));
	u->op = (uint8_t)op;
	u->fn = (uint8_t)fn;
	u->cost = (uint8_t)cost;
	u->mask = mask;
	u->a = (uint16_t)a;
	u->b = (uint16_t)b;
	u->value = v;
	return k->n++;
}

static int same_access(const ein_access *a, const ein_access *b)
{
	return a->tensor == b->tensor &&
	       memcmp(a->idx, b->idx, sizeof(ein_aff) * (size_t)a->nidx) == 0;
}

static int kstream(st *s, kbuild *k, const ein_access *a)
{
	for (int i = 1; i < k->nstreams; i++)
		if (same_access(k->acc[i], a))
			return i;
	if (k->nstreams == MLB_MAX_STREAMS) {
		st_fail(s, -2, "an Einsum reads more than %d distinct operands", MLB_MAX_STREAMS - 1);
		return 1;
	}
	k->acc[k->nstreams] = a;
	k->ld[k->nstreams] = -1;
	return k->nstreams++;
}

static int is_mul(const ein_expr *x)
{
	return x && x->kind == EIN_X_BINARY && x->op == EIN_OP_MUL;
}

/* Micro-ops of x; costs as cost.c's charge() counts them (a multiply
 * feeding an add is one multiply-accumulate). */
static int kexpr(st *s, kbuild *k, const ein_einsum *es, const sbox *b, const ein_expr *x,
		 int fused)
{
	if (s->rc)
		return 0;
	uint8_t mask = vars_mask(b, ein_expr_vars(es, x));
	switch (x->kind) {
	case EIN_X_NUM:
		return kput(s, k, MLB_U_CST, 0, 0, 0, 0, 0, (float)x->num);
	case EIN_X_PARAM:
		return kput(s, k, MLB_U_CST, 0, 0, 0, 0, 0, (float)s->c->params[x->id].value);
	case EIN_X_VAR: {
		int dim = 255, n = 0;
		for (int j = 0; j < b->n; j++)
			if (b->dv[x->id][j]) {
				if (b->dv[x->id][j] != 1)
					n = 2;
				dim = j;
				n++;
			}
		if (n > 1) {
			st_fail(s, -2, "the value of rank variable '%s' is not a plain box index",
				es->vars[x->id].name);
			return 0;
		}
		if (k->nvar == 16) {
			st_fail(s, -2, "too many rank variables used as values");
			return 0;
		}
		k->varorg[k->nvar] = b->argv[x->id];
		return kput(s, k, MLB_U_VAR, 0, 0, mask, dim, k->nvar++, 0);
	}
	case EIN_X_ACCESS: {
		const ein_access *a = &es->reads[x->id];
		int si = kstream(s, k, a);
		if (k->ld[si] < 0) {
			int rd = a->tensor != es->out.tensor;
			k->ld[si] = kput(s, k, MLB_U_LD, 0, rd ? MLB_COST_READ + 1 : 0,
					 vars_mask(b, ein_access_vars(a)), si, 0, 0);
		}
		return k->ld[si];
	}
	case EIN_X_UNARY: {
		int a = kexpr(s, k, es, b, x->a, 0);
		return kput(s, k, MLB_U_UN, x->op, x->op + 1, mask, a, 0, 0);
	}
	case EIN_X_BINARY: {
		int a, c, cost;
		if (fused) {
			a = kexpr(s, k, es, b, x->a, 0);
			c = kexpr(s, k, es, b, x->b, 0);
			cost = 0;
		} else if ((x->op == EIN_OP_ADD || x->op == EIN_OP_SUB) &&
			   (is_mul(x->a) || is_mul(x->b))) {
			int fa = is_mul(x->a);
			a = kexpr(s, k, es, b, x->a, fa);
			c = kexpr(s, k, es, b, x->b, !fa && is_mul(x->b));
			cost = MLB_COST_MAC + 1;
		} else {
			a = kexpr(s, k, es, b, x->a, 0);
			c = kexpr(s, k, es, b, x->b, 0);
			cost = MLB_COST_BINOP0 + x->op + 1;
		}
		return kput(s, k, MLB_U_BIN, x->op, cost, mask, a, c, 0);
	}
	}
	return 0;
}

/* Appends the kernel's micro-ops; returns the first index. */
static uint32_t add_uops(st *s, const kbuild *k)
{
	if (s->m->nuops + k->n > MLB_MAX_UOPS) {
		st_fail(s, -2, "the stream exceeds %d micro-ops", MLB_MAX_UOPS);
		return 0;
	}
	while (s->m->nuops + k->n > s->cap_uops)
		if (st_grow(s, (void **)&s->m->uops, &s->cap_uops, s->cap_uops, sizeof(mlb_uop)) < 0)
			return 0;
	uint32_t at = (uint32_t)s->m->nuops;
	memcpy(&s->m->uops[at], k->u, (size_t)k->n * sizeof(mlb_uop));
	s->m->nuops += k->n;
	return at;
}

/* Finishes a kernel (streams' addresses, descriptor, instruction). */
static void emit_kernel(st *s, kbuild *k, const sbox *b, int flags)
{
	mlb_desc d;
	memset(&d, 0, sizeof(d));
	d.kind = MLB_D_VEXPR;
	d.ndim = b->n;
	d.nstreams = k->nstreams;
	d.flags = flags;
	sx addr[MLB_MAX_STREAMS + 16];
	for (int i = 0; i < k->nstreams; i++)
		access_addr(s, k->acc[i], b, &addr[i], d.stride[i]);
	for (int v = 0; v < k->nvar; v++)
		addr[k->nstreams + v] = k->varorg[v];
	if (s->rc)
		return;
	d.uop = add_uops(s, k);
	d.nuops = (uint32_t)k->n;
	int di = st_add_desc(s, &d);
	st_emit_box_op(s, MLB_VEXPR, di, b->n, b->ext, k->nstreams + k->nvar, addr);
}

/* S<e> as a 1D kernel. */
static void stmt_vexpr(st *s, int e, const sbox *b, int seq)
{
	const ein_einsum *es = &s->c->einsums[e];
	kbuild *k = calloc(1, sizeof(*k));
	if (!k) {
		st_fail(s, -1, "out of memory");
		return;
	}
	k->nstreams = 1;
	k->acc[0] = &es->out;
	uint32_t all = es->nvars >= 32 ? ~0u : (1u << es->nvars) - 1;
	uint8_t amask = vars_mask(b, all);
	int red = ein_einsum_reduces(es);
	if (red) {
		int v, cost;
		if (es->reduce_op == EIN_OP_ADD && is_mul(es->rhs)) {
			v = kexpr(s, k, es, b, es->rhs, 1);
			cost = MLB_COST_MAC + 1;
		} else {
			v = kexpr(s, k, es, b, es->rhs, 0);
			cost = MLB_COST_BINOP0 + es->reduce_op + 1;
		}
		kput(s, k, MLB_U_ACC, es->reduce_op, cost, amask, v, 0, 0);
	} else {
		int v = kexpr(s, k, es, b, es->rhs, 0);
		int charged = 0;
		for (int i = 0; i < k->n; i++)
			charged |= k->u[i].op != MLB_U_LD && k->u[i].cost != 0;
		kput(s, k, MLB_U_ST, 0, charged ? 0 : MLB_COST_COPY + 1, amask, v, 0, 0);
	}
	emit_kernel(s, k, b, seq ? MLB_F_SEQ : 0);
	free(k);
}

/* G<e> bound to the 1D array: a multiply-accumulate kernel. */
static void stmt_vmac(st *s, int e, const sbox *b, int overwrite)
{
	const ein_einsum *es = &s->c->einsums[e];
	const cg_gemm *gm = &s->l->gemm[e];
	kbuild *k = calloc(1, sizeof(*k));
	if (!k) {
		st_fail(s, -1, "out of memory");
		return;
	}
	k->nstreams = 1;
	k->acc[0] = &es->out;
	uint32_t all = es->nvars >= 32 ? ~0u : (1u << es->nvars) - 1;
	uint8_t amask = vars_mask(b, all);
	const ein_expr *x = es->rhs;
	int sx_ = kstream(s, k, &es->reads[gm->x]);
	int sy = kstream(s, k, &es->reads[gm->y]);
	int lx = kput(s, k, MLB_U_LD, 0, MLB_COST_READ + 1, vars_mask(b, ein_access_vars(&es->reads[gm->x])),
		      sx_, 0, 0);
	int ly = sy == sx_ ? lx
			   : kput(s, k, MLB_U_LD, 0, MLB_COST_READ + 1,
				  vars_mask(b, ein_access_vars(&es->reads[gm->y])), sy, 0, 0);
	uint8_t xmask = vars_mask(b, ein_expr_vars(es, x));
	int mul = kput(s, k, MLB_U_BIN, EIN_OP_MUL, 0, xmask, lx, ly, 0);
	if (gm->alpha != 1.0) {
		/* The product's constant factors (cg_gemm.alpha). */
		int cst = kput(s, k, MLB_U_CST, 0, 0, 0, 0, 0, (float)gm->alpha);
		mul = kput(s, k, MLB_U_BIN, EIN_OP_MUL, 0, xmask, mul, cst, 0);
	}
	kput(s, k, MLB_U_ACC, EIN_OP_ADD, MLB_COST_MAC + 1, amask, mul, 0, 0);
	emit_kernel(s, k, b, overwrite ? MLB_F_OVERWRITE : 0);
	free(k);
}

/* Einsum e as a 2D-array product over the box: C (+)= alpha X Y. */
static int stmt_mma(st *s, int e, const sbox *b, int xr, int yr, double alpha, int overwrite)
{
	const ein_einsum *es = &s->c->einsums[e];
	const cost_einsum_info *in = cost_einsum(s->cm, e);
	mlb_desc d;
	memset(&d, 0, sizeof(d));
	d.kind = MLB_D_MMA;
	d.ndim = b->n;
	d.nstreams = 3;
	d.flags = overwrite ? MLB_F_OVERWRITE : 0;
	d.value = (float)alpha;
	for (int j = 0; j < b->n; j++) {
		int cls = MLB_C_B;
		for (int v = 0; v < b->nvars; v++)
			if (b->dv[v][j]) {
				cls = (in->mvars >> v) & 1    ? MLB_C_M
				      : (in->nvars_ >> v) & 1 ? MLB_C_N
				      : (in->kvars >> v) & 1  ? MLB_C_K
							      : MLB_C_B;
				break;
			}
		d.cls[j] = (uint8_t)cls;
	}
	sx addr[3];
	access_addr(s, &es->out, b, &addr[0], d.stride[0]);
	access_addr(s, &es->reads[xr], b, &addr[1], d.stride[1]);
	access_addr(s, &es->reads[yr], b, &addr[2], d.stride[2]);
	int di = st_add_desc(s, &d);
	st_emit_box_op(s, MLB_MMA, di, b->n, b->ext, 3, addr);
	return 0;
}

/* Z<e>: the reduction's output set to its identity. */
static void stmt_fill(st *s, int e, const sbox *b)
{
	const ein_einsum *es = &s->c->einsums[e];
	mlb_desc d;
	memset(&d, 0, sizeof(d));
	d.kind = MLB_D_FILL;
	d.ndim = b->n;
	d.nstreams = 1;
	d.value = (float)ein_reduce_identity(es->reduce_op);
	d.flags = s->unit_of[e] == PLAN_UNIT_2D ? MLB_F_UNIT2D : 0;
	sx addr[1];
	access_addr(s, &es->out, b, &addr[0], d.stride[0]);
	int di = st_add_desc(s, &d);
	st_emit_box_op(s, MLB_FILL, di, b->n, b->ext, 1, addr);
}

static void stmt_s(st *s, int e, const sbox *b, int seq)
{
	const ein_einsum *es = &s->c->einsums[e];
	if (s->unit_of[e] == PLAN_UNIT_2D && ein_einsum_reduces(es) && es->reduce_op == EIN_OP_ADD &&
	    !seq) {
		int acc[2], nacc = 0;
		double alpha = 1;
		if (ein_expr_product(s->c, es->rhs, acc, &nacc, &alpha) == 0 && nacc == 2) {
			stmt_mma(s, e, b, acc[0], acc[1], alpha, 0);
			return;
		}
	}
	stmt_vexpr(s, e, b, seq);
}

/* G<e>(t...): the tile's box over every variable of e. */
static void stmt_g(st *s, int e, __isl_keep isl_ast_expr *call)
{
	const ein_einsum *es = &s->c->einsums[e];
	const cg_gemm *gm = &s->l->gemm[e];
	int nargs = (int)isl_ast_expr_op_get_n_arg(call) - 1;
	sx tidx[CG_MAX_BAND];
	for (int j = 0; j < nargs && j < CG_MAX_BAND; j++)
		tidx[j] = st_ast_arg(s, call, j + 1);
	sbox b;
	memset(&b, 0, sizeof(b));
	b.nvars = es->nvars;
	for (int v = 0; v < es->nvars; v++) {
		int slot = -1;
		for (int j = 0; j < s->nband && j < nargs; j++)
			if (s->g->var_of[e][s->gr->band[j]] == v)
				slot = j;
		sx lo = K(0), hi = K(es->vars[v].size - 1);
		if (slot >= 0) {
			lo = sx_muli(s, tidx[slot], s->gr->tile[slot]);
			hi = sx_bin(s, MLB_MIN, sx_add(s, lo, K(s->gr->tile[slot] - 1)),
				    K(es->vars[v].size - 1));
		}
		b.argv[v] = lo;
		if (es->vars[v].size == 1 && es->nvars > MLB_MAX_DIMS)
			continue;
		if (b.n == MLB_MAX_DIMS) {
			st_fail(s, -2, "'%s' has more than %d ranks of more than one value", es->name,
				MLB_MAX_DIMS);
			return;
		}
		b.ext[b.n] = sx_add(s, sx_sub(s, hi, lo), K(1));
		b.dv[v][b.n++] = 1;
	}
	if (s->unit_of[e] == PLAN_UNIT_2D)
		stmt_mma(s, e, &b, gm->x, gm->y, gm->alpha, gm->beta0);
	else
		stmt_vmac(s, e, &b, gm->beta0);
}

/* A user statement with the box loops given (outermost first). */
void st_stmt_user(st *s, __isl_keep isl_ast_node *user, int n, isl_ast_node **loops)
{
	if (s->open_upto < s->nband) {
		st_fail(s, -1, "group %d: a statement outside the tile loops the stream expects",
			s->gi + 1);
		return;
	}
	isl_ast_expr *call = isl_ast_node_user_get_expr(user);
	isl_ast_expr *fn = isl_ast_expr_op_get_arg(call, 0);
	isl_id *id = isl_ast_expr_get_id(fn);
	const char *name = isl_id_get_name(id);
	char kind = name[0];
	int e = atoi(name + 1);
	int mark = s->rtop;
	const ein_einsum *es = &s->c->einsums[e];
	int depth[MLB_MAX_DIMS];
	sbox b;
	memset(&b, 0, sizeof(b));
	for (int v = 0; v < EIN_MAX_VARS; v++)
		b.argv[v] = K(0);
	b.n = n;
	/* Box origins (bound as the iterators' values) and extents. */
	for (int j = 0; j < n; j++) {
		isl_ast_expr *init = isl_ast_node_for_get_init(loops[j]);
		sx org = st_ast_sx(s, init);
		isl_ast_expr_free(init);
		sx hi = st_loop_upper(s, loops[j]);
		b.ext[j] = sx_add(s, sx_sub(s, hi, org), K(1));
		depth[j] = st_node_depth(loops[j]);
		s->iter[depth[j]] = org;
		s->bound[depth[j]] = 1;
	}
	int skip = -1;
	if (s->guard) {
		/* A deferred statement: it runs in its own tile only. */
		sx ok = K(1);
		int nargs = (int)isl_ast_expr_op_get_n_arg(call) - 1;
		for (int j = 0; j < s->nband; j++) {
			if (!((s->guard >> j) & 1))
				continue;
			sx want;
			int v = s->g->var_of[e][s->gr->band[j]];
			if (kind == 'G') {
				want = j < nargs ? st_ast_arg(s, call, j + 1) : K(0);
			} else if (v < 0 || v >= nargs) {
				want = K(0); /* Z<e>: inits run in the first tile */
			} else {
				isl_ast_expr *a = isl_ast_expr_op_get_arg(call, v + 1);
				want = sx_bin(s, MLB_DIVF, st_ast_sx(s, a), K(s->tile[j]));
				isl_ast_expr_free(a);
			}
			ok = sx_bin(s, MLB_AND, ok, sx_bin(s, MLB_SEQ, want, s->iter[j]));
		}
		if (is_const(ok) && !ok.c)
			goto out;
		if (!is_const(ok))
			skip = st_branch_if_zero(s, ok);
	}
	st_ensure_loaded(s, es->out.tensor);
	for (int r = 0; r < es->nreads; r++)
		st_ensure_loaded(s, es->reads[r].tensor);
	if (kind == 'G') {
		stmt_g(s, e, call);
	} else {
		int nargs = (int)isl_ast_expr_op_get_n_arg(call) - 1;
		b.nvars = es->nvars;
		for (int v = 0; v < nargs && v < EIN_MAX_VARS; v++) {
			isl_ast_expr *a = isl_ast_expr_op_get_arg(call, v + 1);
			b.argv[v] = st_ast_sx(s, a);
			for (int j = 0; j < n; j++) {
				int ok = 1;
				b.dv[v][j] = st_ast_deriv(a, depth[j], &ok);
				if (!ok)
					st_fail(s, -1, "a statement argument is not affine in its loops");
			}
			isl_ast_expr_free(a);
		}
		if (kind == 'Z') {
			stmt_fill(s, e, &b);
		} else {
			int seq = es->gen_var >= 0 && n > 0 && b.dv[es->gen_var][0] != 0;
			stmt_s(s, e, &b, seq);
		}
	}
	if (skip >= 0)
		st_patch(s, skip);
out:
	for (int j = 0; j < n; j++)
		s->bound[depth[j]] = 0;
	s->rtop = mark;
	isl_id_free(id);
	isl_ast_expr_free(fn);
	isl_ast_expr_free(call);
}
