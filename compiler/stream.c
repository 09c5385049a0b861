/* stream.c - the accelerator instruction stream from a lowered plan (see
 * stream.h and docs/isa.md). */
#include "stream.h"

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

#include "cost.h"
#include "fusion.h"
#include "poly.h"

#define MAXDEPTH 64	  /* isl AST iterator depths c0.. */
#define ALIGN_VALUES 32	  /* buffer windows start on multiples of this */
#define MAX_KERNEL_UOPS 512

/* A scalar value known to the emitter: k * r[reg] + c (just c when reg <
 * 0).  Folding constants and scale factors here is what keeps the stream
 * free of instructions for values known at compile time. */
typedef struct sx {
	int reg;
	int64_t k, c;
} sx;

/* One dimension of a tensor as the group's accesses see it: the same
 * intervals the cost model computes (cost.c, add_access), so that windows
 * and DMA boxes have the model's sizes. */
typedef struct gdim {
	int slot;     /* band slot indexing it; -1 none; -2 inconsistent */
	int64_t coef; /* coefficient of the slot's variable */
	int64_t size;
	int has[3];		/* 0 touched, 1 written, 2 read */
	int64_t lo[3], hi[3];	/* without the band variable */
	int64_t flo[3], fhi[3]; /* over the whole domain */
} gdim;

/* A tensor the current group touches, and its window in the buffer. */
typedef struct gten {
	int t;
	int written;
	int ndims;
	gdim dim[EIN_MAX_DIMS];
	uint32_t slots; /* band slots indexing it */
	int level;	/* the cost model's retention level */
	int p;		/* depth (band loops fixed) at which the window opens */
	int carry;	/* dimension carried between tiles along loop p, or -1 */
	int tiled[EIN_MAX_DIMS];
	int64_t W[EIN_MAX_DIMS];   /* window extents */
	int64_t gbs[EIN_MAX_DIMS]; /* buffer strides (row-major over W) */
	int64_t slot_vals, base0;
	int nslots;
	int dram;     /* DRAM-resident: DMAs move it */
	int load_all; /* read-only here: its window is loaded */
	int has_in;   /* the part produced outside the group, as a box */
	int64_t in_lo[EIN_MAX_DIMS], in_hi[EIN_MAX_DIMS];
	int store_all; /* an output: everything written is stored */
	int has_out;   /* the part read outside the group, as a box */
	int64_t out_lo[EIN_MAX_DIMS], out_hi[EIN_MAX_DIMS];
	int spill;	       /* written, revisited by a loop not indexing it */
	uint32_t passes;       /* band slots (<= p) not indexing it */
	int lazy;	       /* loaded just before its first use in the window's scope */
	int first, last;       /* member positions its window lives through (a tile) */
	int persistent;	       /* its window lives through the whole group */
	/* Registers (group lifetime) and current values. */
	int r_orig[EIN_MAX_DIMS];
	int r_toggle, r_base, r_prev_orig, r_prev_end, r_end, r_pend;
	int pend_known;	       /* r_pend's value (0/1) is known at... */
	int64_t pend_epoch;    /* ...this control-flow epoch */
	sx orig[EIN_MAX_DIMS];
	sx base;
	int is_open;
} gten;

#define MAX_DEFER 64

typedef struct defer {
	isl_ast_node *v[MAX_DEFER];
	int n;
	uint32_t mask; /* band slots unbound where they were */
} defer;

typedef struct st {
	const deps_graph *g;
	const ein_cascade *c;
	const target *t;
	const cg_lowered *l;
	const cg_plan *p;
	const plan *choices;
	cost_model *cm;
	mlb_module *m;
	int cap_insns, cap_descs, cap_uops;
	char *need_dram; /* per tensor: spilled, so it needs DRAM space */
	int rtop;	 /* next free register (a stack) */
	/* The current group. */
	int gi, nband;
	const cg_group *gr;
	int64_t tile[CG_MAX_BAND], ext[CG_MAX_BAND], ntile[CG_MAX_BAND];
	int64_t first_tile[CG_MAX_BAND], last_tile[CG_MAX_BAND];
	int loop_exists[CG_MAX_BAND];
	cost_group *cg;
	cost_result res;
	int *unit_of; /* per Einsum */
	int ngt;
	gten gt[COST_MAX_TENSORS];
	sx iter[MAXDEPTH];
	int bound[MAXDEPTH];
	sx tlo[CG_MAX_BAND], thi[CG_MAX_BAND];
	int open_upto;
	/* Statements isl placed before (pre) or after (post) the tile loops
	 * of a block, because their tile coordinates are constant: they run
	 * in the innermost tile body, in the tile they belong to. */
	struct defer *pre, *post;
	uint32_t guard; /* band slots whose tile the current statement checks */
	char *defer_pre, *defer_post; /* per Einsum: deferred to a tile's start or end */
	int64_t alloc;
	int64_t epoch; /* advances at every branch, loop and branch target */
	int mode_known;	    /* the array's mode (0 1D, 1 2D) is known at... */
	int64_t mode_epoch; /* ...this epoch */
	int mode_fixed;	    /* ...or for the whole group (one array only) */
	int rc;
	char *err;
	size_t errlen;
} st;

static void __attribute__((format(printf, 3, 4))) fail(st *s, int rc, const char *fmt, ...)
{
	if (s->rc)
		return;
	s->rc = rc;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, s->errlen, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ tables */

static int grow(st *s, void **p, int *cap, int n, size_t size)
{
	if (n < *cap)
		return 0;
	int nc = *cap ? *cap * 2 : 256;
	void *q = realloc(*p, (size_t)nc * size);
	if (!q) {
		fail(s, -1, "out of memory");
		return -1;
	}
	*p = q;
	*cap = nc;
	return 0;
}

static int emit(st *s, int op, int a, int b, int c, uint32_t x, int64_t imm)
{
	if (s->rc)
		return 0;
	if (s->m->ninsns >= MLB_MAX_INSNS) {
		fail(s, -2, "the stream exceeds %d instructions", MLB_MAX_INSNS);
		return 0;
	}
	if (grow(s, (void **)&s->m->insns, &s->cap_insns, s->m->ninsns, sizeof(mlb_insn)) < 0)
		return 0;
	if (op == MLB_LOOP || op == MLB_ENDLOOP || op == MLB_BZ || op == MLB_JMP)
		s->epoch++;
	mlb_insn *in = &s->m->insns[s->m->ninsns];
	in->op = (uint8_t)op;
	in->a = (uint8_t)a;
	in->b = (uint8_t)b;
	in->c = (uint8_t)c;
	in->x = x;
	in->imm = imm;
	return s->m->ninsns++;
}

/* Adds a descriptor (reusing an identical one). */
static int add_desc(st *s, const mlb_desc *d)
{
	for (int i = 0; i < s->m->ndescs; i++)
		if (memcmp(&s->m->descs[i], d, sizeof(*d)) == 0)
			return i;
	if (s->m->ndescs >= MLB_MAX_DESCS) {
		fail(s, -2, "the stream exceeds %d descriptors", MLB_MAX_DESCS);
		return 0;
	}
	if (grow(s, (void **)&s->m->descs, &s->cap_descs, s->m->ndescs, sizeof(mlb_desc)) < 0)
		return 0;
	s->m->descs[s->m->ndescs] = *d;
	return s->m->ndescs++;
}

/* ------------------------------------------------------------ registers */

static int ralloc(st *s)
{
	if (s->rtop >= MLB_NREGS) {
		fail(s, -1, "out of scalar registers (a group needs more than %d)", MLB_NREGS);
		return 0;
	}
	return s->rtop++;
}

static int ralloc_block(st *s, int n)
{
	int r = s->rtop;
	if (r + n > MLB_NREGS) {
		fail(s, -1, "out of scalar registers (a group needs more than %d)", MLB_NREGS);
		return 0;
	}
	s->rtop += n;
	return r;
}

static sx K(int64_t c)
{
	sx v = {-1, 0, c};
	return v;
}

static sx R(int r)
{
	sx v = {r, 1, 0};
	return v;
}

static int is_const(sx a)
{
	return a.reg < 0;
}

static int64_t ck_add(st *s, int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r)) {
		fail(s, -2, "a compile-time address computation overflows");
		return 0;
	}
	return r;
}

static int64_t ck_mul(st *s, int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_mul_overflow(a, b, &r)) {
		fail(s, -2, "a compile-time address computation overflows");
		return 0;
	}
	return r;
}

static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* A register holding k * r[reg] (the scaled part of a). */
static int scaled(st *s, sx a)
{
	if (a.k == 1)
		return a.reg;
	int t = ralloc(s);
	emit(s, MLB_MULI, t, a.reg, 0, 0, a.k);
	return t;
}

static sx sx_add(st *s, sx a, sx b)
{
	if (is_const(a)) {
		b.c = ck_add(s, b.c, a.c);
		return b;
	}
	if (is_const(b)) {
		a.c = ck_add(s, a.c, b.c);
		return a;
	}
	if (a.reg == b.reg) {
		sx v = {a.reg, ck_add(s, a.k, b.k), ck_add(s, a.c, b.c)};
		return v.k ? v : K(v.c);
	}
	int ra = scaled(s, a), rb = scaled(s, b);
	int t = ralloc(s);
	emit(s, MLB_ADD, t, ra, rb, 0, 0);
	sx v = {t, 1, ck_add(s, a.c, b.c)};
	return v;
}

static sx sx_muli(st *s, sx a, int64_t k)
{
	if (is_const(a))
		return K(ck_mul(s, a.c, k));
	if (k == 0)
		return K(0);
	sx v = {a.reg, ck_mul(s, a.k, k), ck_mul(s, a.c, k)};
	return v;
}

static sx sx_sub(st *s, sx a, sx b)
{
	return sx_add(s, a, sx_muli(s, b, -1));
}

/* A register holding a's value. */
static int sx_reg(st *s, sx a)
{
	if (!is_const(a) && a.k == 1 && a.c == 0)
		return a.reg;
	int t = ralloc(s);
	if (is_const(a)) {
		emit(s, MLB_LI, t, 0, 0, 0, a.c);
		return t;
	}
	if (a.k == 1) {
		emit(s, MLB_ADDI, t, a.reg, 0, 0, a.c);
		return t;
	}
	emit(s, MLB_MULI, t, a.reg, 0, 0, a.k);
	if (a.c)
		emit(s, MLB_ADDI, t, t, 0, 0, a.c);
	return t;
}

/* Puts a's value into register rd. */
static void sx_to(st *s, sx a, int rd)
{
	if (is_const(a)) {
		emit(s, MLB_LI, rd, 0, 0, 0, a.c);
	} else if (a.k == 1) {
		if (a.reg != rd || a.c != 0)
			emit(s, MLB_ADDI, rd, a.reg, 0, 0, a.c);
	} else {
		emit(s, MLB_MULI, rd, a.reg, 0, 0, a.k);
		if (a.c)
			emit(s, MLB_ADDI, rd, rd, 0, 0, a.c);
	}
}

static int64_t fold(st *s, int op, int64_t a, int64_t b)
{
	switch (op) {
	case MLB_MUL:
		return ck_mul(s, a, b);
	case MLB_DIVF:
		if (b == 0 || (a == INT64_MIN && b == -1)) {
			fail(s, -1, "division by zero in a loop bound");
			return 0;
		}
		return floordiv(a, b);
	case MLB_MODF:
		if (b == 0 || (a == INT64_MIN && b == -1)) {
			fail(s, -1, "division by zero in a loop bound");
			return 0;
		}
		return a - b * floordiv(a, b);
	case MLB_MIN:
		return a < b ? a : b;
	case MLB_MAX:
		return a > b ? a : b;
	case MLB_SLT:
		return a < b;
	case MLB_SLE:
		return a <= b;
	case MLB_SEQ:
		return a == b;
	case MLB_AND:
		return a && b;
	case MLB_OR:
		return a || b;
	}
	return 0;
}

static sx sx_bin(st *s, int op, sx a, sx b)
{
	if (is_const(a) && is_const(b))
		return K(fold(s, op, a.c, b.c));
	if (op == MLB_MUL) {
		if (is_const(a))
			return sx_muli(s, b, a.c);
		if (is_const(b))
			return sx_muli(s, a, b.c);
	}
	if ((op == MLB_MIN || op == MLB_MAX) && a.reg == b.reg && a.k == b.k) {
		sx v = {a.reg, a.k, fold(s, op, a.c, b.c)};
		return v;
	}
	if ((op == MLB_AND || op == MLB_OR) && (is_const(a) || is_const(b))) {
		/* AND with a constant true, OR with a constant false. */
		sx c = is_const(a) ? a : b, o = is_const(a) ? b : a;
		if (op == MLB_AND)
			return c.c ? o : K(0);
		if (!c.c)
			return o;
		return K(1);
	}
	int ra = sx_reg(s, a), rb = sx_reg(s, b);
	int t = ralloc(s);
	emit(s, op, t, ra, rb, 0, 0);
	return R(t);
}

static sx sx_sel(st *s, sx c, sx a, sx b)
{
	if (is_const(c))
		return c.c ? a : b;
	int rc = sx_reg(s, c), ra = sx_reg(s, a), rb = sx_reg(s, b);
	int t = ralloc(s);
	emit(s, MLB_SEL, t, rc, ra, 0, rb);
	return R(t);
}

/* ------------------------------------------------------- isl AST exprs */

static int iter_depth(const char *name)
{
	if (!name || name[0] != 'c')
		return -1;
	char *end;
	long d = strtol(name + 1, &end, 10);
	if (*end || end == name + 1 || d < 0 || d >= MAXDEPTH)
		return -1;
	return (int)d;
}

static int expr_depth(__isl_keep isl_ast_expr *e)
{
	isl_id *id = isl_ast_expr_id_get_id(e);
	int d = iter_depth(isl_id_get_name(id));
	isl_id_free(id);
	return d;
}

static int expr_int(__isl_keep isl_ast_expr *e, int64_t *out)
{
	isl_val *v = isl_ast_expr_int_get_val(e);
	int ok = v && isl_val_is_int(v);
	if (ok)
		*out = isl_val_get_num_si(v);
	isl_val_free(v);
	return ok ? 0 : -1;
}

static sx ast_sx(st *s, __isl_keep isl_ast_expr *e);

static sx ast_arg(st *s, __isl_keep isl_ast_expr *e, int i)
{
	isl_ast_expr *a = isl_ast_expr_op_get_arg(e, i);
	sx v = ast_sx(s, a);
	isl_ast_expr_free(a);
	return v;
}

/* The value of an isl AST expression (iterators bound to registers). */
static sx ast_sx(st *s, __isl_keep isl_ast_expr *e)
{
	if (s->rc || !e)
		return K(0);
	switch (isl_ast_expr_get_type(e)) {
	case isl_ast_expr_int: {
		int64_t c = 0;
		if (expr_int(e, &c) < 0)
			fail(s, -1, "a non-integer constant in the isl AST");
		return K(c);
	}
	case isl_ast_expr_id: {
		int d = expr_depth(e);
		if (d < 0 || !s->bound[d]) {
			fail(s, -1, "the isl AST uses an iterator the stream does not have (depth %d)", d);
			return K(0);
		}
		return s->iter[d];
	}
	case isl_ast_expr_op:
		break;
	default:
		fail(s, -1, "unsupported isl AST expression");
		return K(0);
	}
	int n = (int)isl_ast_expr_op_get_n_arg(e);
	enum isl_ast_expr_op_type op = isl_ast_expr_op_get_type(e);
	switch (op) {
	case isl_ast_expr_op_add:
		return sx_add(s, ast_arg(s, e, 0), ast_arg(s, e, 1));
	case isl_ast_expr_op_sub:
		return sx_sub(s, ast_arg(s, e, 0), ast_arg(s, e, 1));
	case isl_ast_expr_op_mul:
		return sx_bin(s, MLB_MUL, ast_arg(s, e, 0), ast_arg(s, e, 1));
	case isl_ast_expr_op_minus:
		return sx_muli(s, ast_arg(s, e, 0), -1);
	case isl_ast_expr_op_div:
	case isl_ast_expr_op_fdiv_q:
	case isl_ast_expr_op_pdiv_q:
		return sx_bin(s, MLB_DIVF, ast_arg(s, e, 0), ast_arg(s, e, 1));
	case isl_ast_expr_op_pdiv_r:
	case isl_ast_expr_op_zdiv_r:
		/* zdiv_r is only compared with zero: the floor remainder is
		 * zero exactly when the truncated one is. */
		return sx_bin(s, MLB_MODF, ast_arg(s, e, 0), ast_arg(s, e, 1));
	case isl_ast_expr_op_min:
	case isl_ast_expr_op_max: {
		sx v = ast_arg(s, e, 0);
		for (int i = 1; i < n; i++)
			v = sx_bin(s, op == isl_ast_expr_op_min ? MLB_MIN : MLB_MAX, v, ast_arg(s, e, i));
		return v;
	}
	case isl_ast_expr_op_cond:
	case isl_ast_expr_op_select:
		return sx_sel(s, ast_arg(s, e, 0), ast_arg(s, e, 1), ast_arg(s, e, 2));
	case isl_ast_expr_op_eq:
		return sx_bin(s, MLB_SEQ, ast_arg(s, e, 0), ast_arg(s, e, 1));
	case isl_ast_expr_op_le:
		return sx_bin(s, MLB_SLE, ast_arg(s, e, 0), ast_arg(s, e, 1));
	case isl_ast_expr_op_lt:
		return sx_bin(s, MLB_SLT, ast_arg(s, e, 0), ast_arg(s, e, 1));
	case isl_ast_expr_op_ge:
		return sx_bin(s, MLB_SLE, ast_arg(s, e, 1), ast_arg(s, e, 0));
	case isl_ast_expr_op_gt:
		return sx_bin(s, MLB_SLT, ast_arg(s, e, 1), ast_arg(s, e, 0));
	case isl_ast_expr_op_and:
	case isl_ast_expr_op_and_then:
		return sx_bin(s, MLB_AND, ast_arg(s, e, 0), ast_arg(s, e, 1));
	case isl_ast_expr_op_or:
	case isl_ast_expr_op_or_else:
		return sx_bin(s, MLB_OR, ast_arg(s, e, 0), ast_arg(s, e, 1));
	default:
		fail(s, -1, "unsupported isl AST operation %d", (int)op);
		return K(0);
	}
}

/* Does e use the iterator of depth d? */
static int ast_mentions(__isl_keep isl_ast_expr *e, int d)
{
	switch (isl_ast_expr_get_type(e)) {
	case isl_ast_expr_id:
		return expr_depth(e) == d;
	case isl_ast_expr_op: {
		int n = (int)isl_ast_expr_op_get_n_arg(e);
		for (int i = 0; i < n; i++) {
			isl_ast_expr *a = isl_ast_expr_op_get_arg(e, i);
			int r = ast_mentions(a, d);
			isl_ast_expr_free(a);
			if (r)
				return 1;
		}
		return 0;
	}
	default:
		return 0;
	}
}

/* The coefficient of iterator d in e; *ok = 0 when e is not affine in it. */
static int64_t ast_deriv(__isl_keep isl_ast_expr *e, int d, int *ok)
{
	switch (isl_ast_expr_get_type(e)) {
	case isl_ast_expr_id:
		return expr_depth(e) == d;
	case isl_ast_expr_op:
		break;
	default:
		return 0;
	}
	enum isl_ast_expr_op_type op = isl_ast_expr_op_get_type(e);
	if (op != isl_ast_expr_op_add && op != isl_ast_expr_op_sub &&
	    op != isl_ast_expr_op_minus && op != isl_ast_expr_op_mul) {
		if (ast_mentions(e, d))
			*ok = 0;
		return 0;
	}
	isl_ast_expr *a = isl_ast_expr_op_get_arg(e, 0);
	isl_ast_expr *b = op == isl_ast_expr_op_minus ? NULL : isl_ast_expr_op_get_arg(e, 1);
	int64_t r = 0, k;
	if (op == isl_ast_expr_op_minus)
		r = -ast_deriv(a, d, ok);
	else if (op == isl_ast_expr_op_add)
		r = ast_deriv(a, d, ok) + ast_deriv(b, d, ok);
	else if (op == isl_ast_expr_op_sub)
		r = ast_deriv(a, d, ok) - ast_deriv(b, d, ok);
	else if (isl_ast_expr_get_type(a) == isl_ast_expr_int && expr_int(a, &k) == 0)
		r = k * ast_deriv(b, d, ok);
	else if (isl_ast_expr_get_type(b) == isl_ast_expr_int && expr_int(b, &k) == 0)
		r = k * ast_deriv(a, d, ok);
	else if (ast_mentions(a, d) || ast_mentions(b, d))
		*ok = 0;
	isl_ast_expr_free(a);
	isl_ast_expr_free(b);
	return r;
}

/* The upper bound U of `it <= U` or `it < U` (as U - 1). */
static sx loop_upper(st *s, __isl_keep isl_ast_node *node)
{
	isl_ast_expr *cond = isl_ast_node_for_get_cond(node);
	sx v = K(0);
	if (isl_ast_expr_get_type(cond) != isl_ast_expr_op) {
		fail(s, -1, "unsupported loop condition in the isl AST");
	} else {
		enum isl_ast_expr_op_type op = isl_ast_expr_op_get_type(cond);
		if (op == isl_ast_expr_op_le)
			v = ast_arg(s, cond, 1);
		else if (op == isl_ast_expr_op_lt)
			v = sx_add(s, ast_arg(s, cond, 1), K(-1));
		else
			fail(s, -1, "unsupported loop condition in the isl AST");
	}
	isl_ast_expr_free(cond);
	return v;
}

static int64_t loop_step(st *s, __isl_keep isl_ast_node *node)
{
	isl_ast_expr *inc = isl_ast_node_for_get_inc(node);
	int64_t k = 0;
	if (!inc || isl_ast_expr_get_type(inc) != isl_ast_expr_int || expr_int(inc, &k) < 0 ||
	    k < 1)
		fail(s, -1, "unsupported loop increment in the isl AST");
	isl_ast_expr_free(inc);
	return k;
}

static int node_depth(__isl_keep isl_ast_node *node)
{
	isl_ast_expr *it = isl_ast_node_for_get_iterator(node);
	int d = expr_depth(it);
	isl_ast_expr_free(it);
	return d;
}

/* --------------------------------------------------------- the group */

static int64_t clamp_width(int64_t w, int64_t size)
{
	return w > size ? size : w < 1 ? 1 : w;
}

static void merge(gdim *d, int cat, int64_t lo, int64_t hi, int64_t flo, int64_t fhi)
{
	if (!d->has[cat]) {
		d->has[cat] = 1;
		d->lo[cat] = lo;
		d->hi[cat] = hi;
		d->flo[cat] = flo;
		d->fhi[cat] = fhi;
		return;
	}
	if (lo < d->lo[cat])
		d->lo[cat] = lo;
	if (hi > d->hi[cat])
		d->hi[cat] = hi;
	if (flo < d->flo[cat])
		d->flo[cat] = flo;
	if (fhi > d->fhi[cat])
		d->fhi[cat] = fhi;
}

static gten *find_gt(st *s, int t)
{
	for (int i = 0; i < s->ngt; i++)
		if (s->gt[i].t == t)
			return &s->gt[i];
	return NULL;
}

/* Records one access of member e (mirrors cost.c's add_access). */
static void add_access(st *s, int e, const ein_access *a, int write)
{
	const ein_cascade *c = s->c;
	const cost_einsum_info *in = cost_einsum(s->cm, e);
	gten *gt = find_gt(s, a->tensor);
	if (!gt)
		return; /* the cost model's table lists every tensor */
	int64_t zero[EIN_MAX_VARS] = {0};
	for (int k = 0; k < a->nidx; k++) {
		const ein_aff *af = &a->idx[k];
		int64_t base = ein_aff_eval(c, af, zero);
		int64_t lo = base, hi = base, flo = base, fhi = base, coef = 0;
		int slot = -1;
		for (int v = 0; v < in->nvars; v++) {
			int64_t cv = af->vc[v];
			if (!cv)
				continue;
			int64_t vlo = in->lo[v], vhi = in->lo[v] + in->ext[v] - 1;
			int64_t a1 = cv * vlo, a2 = cv * vhi;
			flo += a1 < a2 ? a1 : a2;
			fhi += a1 < a2 ? a2 : a1;
			int sl = -1;
			for (int b = 0; b < s->nband; b++)
				if (s->g->var_of[e][s->gr->band[b]] == v)
					sl = b;
			if (sl >= 0 && slot == -1) {
				slot = sl;
				coef = cv;
			} else {
				lo += a1 < a2 ? a1 : a2;
				hi += a1 < a2 ? a2 : a1;
			}
		}
		gdim *d = &gt->dim[k];
		if (d->slot == -3) {
			d->slot = slot;
			d->coef = coef;
		} else if (d->slot != slot || (slot >= 0 && d->coef != coef)) {
			d->slot = -2;
		}
		merge(d, 0, lo, hi, flo, fhi);
		merge(d, write ? 1 : 2, lo, hi, flo, fhi);
		if (write)
			gt->written = 1;
	}
	if (write)
		gt->written = 1;
}

static int64_t dim_width(const gdim *d, int cat, int64_t s)
{
	if (!d->has[cat])
		return 1;
	if (d->slot == -2)
		return clamp_width(d->fhi[cat] - d->flo[cat] + 1, d->size);
	int64_t band = d->slot >= 0 ? (d->coef < 0 ? -d->coef : d->coef) * (s - 1) : 0;
	return clamp_width(d->hi[cat] - d->lo[cat] + band + 1, d->size);
}

static int64_t dim_full(const gdim *d, int cat)
{
	if (!d->has[cat])
		return 1;
	return clamp_width(d->fhi[cat] - d->flo[cat] + 1, d->size);
}

/* Elements carried into a tile along the dimension's slot (cost.c). */
static int64_t dim_halo(const gdim *d)
{
	if (d->slot < 0 || d->coef <= 0 || !d->has[1] || !d->has[2])
		return 0;
	int64_t h = d->lo[1] - d->lo[2];
	return h > 0 ? h : 0;
}

/* The bounding box of the elements of tensor t that flow across the
 * group's boundary: out (produced inside, read outside) or in.  Returns 1
 * with the box, 0 when nothing flows, -1 on an isl error. */
static int flow_box(st *s, int t, int out, int64_t *lo, int64_t *hi)
{
	const deps_graph *g = s->g;
	const char *mem = s->gr->members;
	isl_set *all = NULL;
	for (int k = 0; k < g->nedges; k++) {
		const deps_edge *ed = &g->edges[k];
		if (ed->tensor != t)
			continue;
		int pin = mem[ed->producer] != 0, qin = mem[ed->consumer] != 0;
		if (out ? !(pin && !qin) : !(!pin && qin))
			continue;
		isl_set *img = isl_set_apply(isl_map_domain(isl_map_copy(ed->rel)),
					     poly_access(g->ctx, s->c, ed->producer,
							 &s->c->einsums[ed->producer].out));
		all = all ? isl_set_union(all, img) : img;
	}
	if (!all)
		return 0;
	all = isl_set_intersect_params(all, poly_context(g->ctx, s->c));
	int rc = 1;
	isl_bool empty = isl_set_is_empty(all);
	if (empty < 0)
		rc = -1;
	else if (empty)
		rc = 0;
	for (int d = 0; rc == 1 && d < s->c->tensors[t].ndims; d++) {
		isl_val *vl = isl_set_dim_min_val(isl_set_copy(all), d);
		isl_val *vh = isl_set_dim_max_val(isl_set_copy(all), d);
		if (!vl || !vh || !isl_val_is_int(vl) || !isl_val_is_int(vh))
			rc = -1;
		else {
			lo[d] = isl_val_get_num_si(vl);
			hi[d] = isl_val_get_num_si(vh);
		}
		isl_val_free(vl);
		isl_val_free(vh);
	}
	isl_set_free(all);
	return rc;
}

/* Applies the choices of a plan for the same group, if there is one. */
static void apply_choices(st *s, cost_config *cfg)
{
	const plan *pl = s->choices;
	if (!pl)
		return;
	for (int i = 0; i < pl->ngroups; i++) {
		const plan_group *pg = &pl->groups[i];
		int same = pg->nmembers == cost_group_nmembers(s->cg);
		for (int k = 0; same && k < pg->nmembers; k++)
			same = s->gr->members[pg->members[k].einsum] != 0;
		if (!same)
			continue;
		for (int k = 0; k < pg->nmembers; k++)
			for (int j = 0; j < cost_group_nmembers(s->cg); j++)
				if (cost_group_member(s->cg, j) == pg->members[k].einsum)
					cfg->unit[j] = (signed char)pg->members[k].unit;
		for (int k = 0; k < pg->ntensors; k++)
			for (int j = 0; j < cost_group_ntensors(s->cg); j++)
				if (cost_group_tensor(s->cg, j) == pg->tensors[k].tensor) {
					if (pg->tensors[k].level >= 0)
						cfg->level[j] = (signed char)pg->tensors[k].level;
					if (pg->tensors[k].multipass >= 0)
						cfg->mp[j] = (signed char)pg->tensors[k].multipass;
				}
		return;
	}
}

static int64_t slot_size(const gten *gt)
{
	return (gt->slot_vals + ALIGN_VALUES - 1) / ALIGN_VALUES * ALIGN_VALUES;
}

/* Places the windows in the buffer: those that live through the group
 * one after the other, then those that live within a tile first-fit
 * above them, sharing space when their live ranges do not meet (as the
 * cost model counts the peak).  Returns the values allocated. */
static int64_t alloc_windows(st *s)
{
	int64_t top = 0, end = 0;
	for (int i = 0; i < s->ngt; i++) {
		gten *gt = &s->gt[i];
		if (!gt->persistent)
			continue;
		gt->base0 = top;
		top = ck_add(s, top, ck_mul(s, slot_size(gt), gt->nslots));
	}
	end = top;
	for (int i = 0; i < s->ngt; i++) {
		gten *gt = &s->gt[i];
		if (gt->persistent)
			continue;
		int64_t at = top, sz = slot_size(gt);
		for (int moved = 1; moved;) {
			moved = 0;
			for (int j = 0; j < i; j++) {
				const gten *o = &s->gt[j];
				if (o->persistent || o->last < gt->first || gt->last < o->first)
					continue;
				if (at < o->base0 + slot_size(o) && o->base0 < at + sz) {
					at = o->base0 + slot_size(o);
					moved = 1;
				}
			}
		}
		gt->base0 = at;
		if (at + sz > end)
			end = at + sz;
	}
	return end;
}

/* Sets up group gi: the model's choices, every tensor's window, the
 * buffer allocation, the group-lifetime registers. */
static int setup_group(st *s, int gi)
{
	const ein_cascade *c = s->c;
	const cg_group *gr = &s->p->groups[gi];
	s->gi = gi;
	s->gr = gr;
	s->nband = gr->nband;
	char err[512];
	s->cg = cost_group_new(s->cm, gr->members, gr->nband, gr->band, err, sizeof(err));
	if (!s->cg) {
		fail(s, -2, "group %d: %s", gi + 1, err);
		return -1;
	}
	cost_config cfg;
	cost_config_init(&cfg);
	for (int k = 0; k < gr->nband; k++) {
		cfg.order[k] = k;
		cfg.tile[k] = gr->tile[k];
	}
	apply_choices(s, &cfg);
	if (cost_eval(s->cg, &cfg, 1, &s->res) < 0) {
		fail(s, -1, "group %d: the cost model failed", gi + 1);
		return -1;
	}
	for (int k = 0; k < gr->nband; k++) {
		s->tile[k] = gr->tile[k];
		s->ext[k] = cost_group_extent(s->cg, k);
		if (s->tile[k] > s->ext[k])
			s->tile[k] = s->ext[k] > 0 ? s->ext[k] : 1;
		s->ntile[k] = (s->ext[k] + s->tile[k] - 1) / s->tile[k];
		/* The band loop's first value: the smallest tile index of any
		 * member (0 unless every domain starts later). */
		int64_t lo = INT64_MAX;
		for (int i = 0; i < cost_group_nmembers(s->cg); i++) {
			int e = cost_group_member(s->cg, i);
			int v = s->g->var_of[e][gr->band[k]];
			int64_t l = cost_einsum(s->cm, e)->lo[v];
			if (l < lo)
				lo = l;
		}
		s->first_tile[k] = floordiv(lo < 0 ? 0 : lo, gr->tile[k]);
		s->last_tile[k] = s->ntile[k] > 0 ? (s->ext[k] - 1) / gr->tile[k] : 0;
	}
	for (int i = 0; i < cost_group_nmembers(s->cg); i++)
		s->unit_of[cost_group_member(s->cg, i)] = s->res.unit[i];
	/* Tensors, in the model's order. */
	s->ngt = cost_group_ntensors(s->cg);
	for (int i = 0; i < s->ngt; i++) {
		gten *gt = &s->gt[i];
		memset(gt, 0, sizeof(*gt));
		gt->t = cost_group_tensor(s->cg, i);
		gt->ndims = c->tensors[gt->t].ndims;
		gt->level = s->res.level[i];
		gt->carry = -1;
		for (int k = 0; k < gt->ndims; k++) {
			gt->dim[k].slot = -3;
			gt->dim[k].size = c->tensors[gt->t].dims[k].size;
		}
	}
	for (int e = 0; e < c->neinsums; e++) {
		if (!gr->members[e])
			continue;
		const ein_einsum *es = &c->einsums[e];
		for (int r = 0; r < es->nreads; r++)
			add_access(s, e, &es->reads[r], 0);
		add_access(s, e, &es->out, 1);
	}
	int64_t off = 0;
	int m = s->nband;
	for (int i = 0; i < s->ngt; i++) {
		gten *gt = &s->gt[i];
		const ein_tensor *tt = &c->tensors[gt->t];
		for (int k = 0; k < gt->ndims; k++) {
			if (gt->dim[k].slot >= 0)
				gt->slots |= 1u << gt->dim[k].slot;
			else if (gt->dim[k].slot == -2)
				gt->slots |= (1u << m) - 1;
		}
		/* The window opens inside the innermost loop at or above the
		 * retention level that indexes the tensor. */
		gt->p = 0;
		for (int j = 1; j <= gt->level && j <= m; j++)
			if ((gt->slots >> (j - 1)) & 1)
				gt->p = j;
		/* Data carried between tiles along loop q stays in place when
		 * the window spans loop q, and moves when the window moves with
		 * it; it cannot move with inner loops too, so the window opens
		 * at q then. */
		for (int k = 0; k < gt->ndims; k++) {
			const gdim *d = &gt->dim[k];
			if (dim_halo(d) > 0 && d->slot + 1 <= gt->p)
				gt->p = d->slot + 1;
		}
		for (int k = 0; k < gt->ndims; k++) {
			const gdim *d = &gt->dim[k];
			if (dim_halo(d) > 0 && d->slot + 1 == gt->p) {
				if (gt->carry >= 0) {
					fail(s, -2, "group %d: '%s' is carried between tiles along two "
						    "dimensions at once, which the stream does not support",
					     gi + 1, tt->name);
					return -1;
				}
				gt->carry = k;
			}
		}
		for (int k = 0; k < gt->ndims; k++) {
			const gdim *d = &gt->dim[k];
			gt->tiled[k] = d->slot >= 0 && d->slot + 1 <= gt->p;
			gt->W[k] = gt->tiled[k] ? dim_width(d, 0, s->tile[d->slot]) : dim_full(d, 0);
		}
		gt->slot_vals = 1;
		for (int k = gt->ndims - 1; k >= 0; k--) {
			gt->gbs[k] = gt->slot_vals;
			gt->slot_vals = ck_mul(s, gt->slot_vals, gt->W[k]);
		}
		const cg_buffer *b = cg_lowered_buffer(s->l, gt->t);
		gt->dram = b->kind != CG_BUF_TILE;
		if (!gt->written) {
			gt->load_all = 1;
		} else {
			int r = flow_box(s, gt->t, 0, gt->in_lo, gt->in_hi);
			if (r < 0) {
				fail(s, -1, "isl: %s", poly_error(s->g->ctx));
				return -1;
			}
			gt->has_in = r;
			if (tt->role == EIN_ROLE_OUTPUT) {
				gt->store_all = 1;
			} else {
				r = flow_box(s, gt->t, 1, gt->out_lo, gt->out_hi);
				if (r < 0) {
					fail(s, -1, "isl: %s", poly_error(s->g->ctx));
					return -1;
				}
				gt->has_out = r;
			}
			/* A loop at or above the window that does not index
			 * the tensor comes back to it: partial results are
			 * spilled and reloaded, as the model counts. */
			for (int j = 1; j <= gt->p; j++)
				if (!((gt->slots >> (j - 1)) & 1) && s->ntile[j - 1] > 1)
					gt->passes |= 1u << (j - 1);
			if (gt->passes) {
				gt->spill = 1;
				if (!gt->dram) {
					gt->dram = 1;
					s->need_dram[gt->t] = 1;
				}
			}
		}
		if (!gt->dram)
			gt->load_all = gt->has_in = gt->has_out = gt->store_all = 0;
		int dma = gt->dram && (gt->load_all || gt->has_in || gt->has_out || gt->store_all ||
				       gt->spill);
		int reloaded = 0;
		for (int j = 1; j <= gt->p; j++)
			reloaded |= s->ntile[j - 1] > 1;
		gt->nslots = s->t->double_buffer && dma && reloaded ? 2 : 1;
		gt->lazy = gt->dram && (gt->load_all || gt->has_in || gt->spill);
		int stored = gt->written && gt->dram;
		/* A window lives through the group when several tiles use it
		 * (the loops inside its scope have more than one tile), when
		 * it is double-buffered or carries data between tiles. */
		int64_t inner_tiles = 1;
		for (int j = gt->p; j < m; j++)
			inner_tiles *= s->ntile[j];
		gt->persistent = gt->nslots == 2 || inner_tiles > 1 || gt->carry >= 0;
		/* Live range in the tile: from the first member touching it
		 * (loads are lazy) to the last, or the tile's end when it is
		 * stored then; statements run out of place stretch it. */
		gt->first = INT32_MAX;
		gt->last = -1;
		int pos = 0;
		for (int e = 0; e < c->neinsums; e++) {
			if (!gr->members[e])
				continue;
			const ein_einsum *es = &c->einsums[e];
			int touch = es->out.tensor == gt->t;
			for (int r = 0; r < es->nreads; r++)
				touch |= es->reads[r].tensor == gt->t;
			if (touch) {
				int f = s->defer_pre[e] ? 0 : pos;
				int l = s->defer_post[e] ? INT32_MAX : pos;
				if (f < gt->first)
					gt->first = f;
				if (l > gt->last)
					gt->last = l;
			}
			pos++;
		}
		if (stored)
			gt->last = INT32_MAX;
	}
	off = alloc_windows(s);
	int64_t cap = s->t->buffer_bytes / s->t->bytes_per_value;
	if (off > cap) {
		/* Too tight for second copies (the model shares the first
		 * copy of a double-buffered window by liveness; the stream
		 * keeps both for the group): single-buffer the windows. */
		for (int i = 0; i < s->ngt; i++) {
			gten *gt = &s->gt[i];
			if (gt->nslots == 2) {
				gt->nslots = 1;
				int64_t inner_tiles = 1;
				for (int j = gt->p; j < m; j++)
					inner_tiles *= s->ntile[j];
				gt->persistent = inner_tiles > 1 || gt->carry >= 0;
			}
		}
		off = alloc_windows(s);
	}
	s->alloc = off;
	if (off > cap) {
		char names[256] = "";
		size_t w = 0;
		for (int e = 0; e < c->neinsums && w < sizeof(names) - 40; e++)
			if (gr->members[e])
				w += (size_t)snprintf(names + w, sizeof(names) - w, "%s%s", w ? "," : "",
						      c->einsums[e].name);
		fail(s, -2, "group %d (%s) needs %" PRId64 " bytes of global buffer; the target "
			    "'%s' has %" PRId64 " (use smaller tiles, or a mapper policy)",
		     gi + 1, names, off * s->t->bytes_per_value, s->t->name, s->t->buffer_bytes);
		return -1;
	}
	/* Registers that live as long as the group. */
	for (int i = 0; i < s->ngt; i++) {
		gten *gt = &s->gt[i];
		for (int k = 0; k < gt->ndims; k++) {
			gt->r_orig[k] = gt->tiled[k] ? ralloc(s) : -1;
			if (!gt->tiled[k])
				gt->orig[k] = K(gt->dim[k].flo[0] > 0 ? gt->dim[k].flo[0] : 0);
		}
		gt->base = K(gt->base0);
		if (gt->nslots == 2) {
			gt->r_toggle = ralloc(s);
			gt->r_base = ralloc(s);
			emit(s, MLB_LI, gt->r_toggle, 0, 0, 0, 1);
		}
		if (gt->carry >= 0) {
			gt->r_prev_orig = ralloc(s);
			gt->r_prev_end = ralloc(s);
			gt->r_end = ralloc(s);
		}
		if (gt->lazy)
			gt->r_pend = ralloc(s);
	}
	return s->rc ? -1 : 0;
}

/* ---------------------------------------------------------- windows */

/* Range of dimension k of gt's window (cat 0) or of its written part (1)
 * in the current tile. */
static void dim_range(st *s, const gten *gt, int k, int cat, sx *lo, sx *hi)
{
	const gdim *d = &gt->dim[k];
	if (!d->has[cat]) {
		*lo = K(0);
		*hi = K(-1);
		return;
	}
	if (gt->tiled[k]) {
		int j = d->slot;
		sx a = sx_muli(s, d->coef > 0 ? s->tlo[j] : s->thi[j], d->coef);
		sx b = sx_muli(s, d->coef > 0 ? s->thi[j] : s->tlo[j], d->coef);
		*lo = sx_bin(s, MLB_MAX, sx_add(s, a, K(d->lo[cat])), K(0));
		*hi = sx_bin(s, MLB_MIN, sx_add(s, b, K(d->hi[cat])), K(d->size - 1));
	} else {
		*lo = K(d->flo[cat] > 0 ? d->flo[cat] : 0);
		*hi = K(d->fhi[cat] < d->size - 1 ? d->fhi[cat] : d->size - 1);
	}
}

/* A MODE instruction unless the array is known to be in that mode. */
static void ensure_mode(st *s, int mode)
{
	if (s->t->concurrent)
		return; /* two arrays need no switch */
	if ((s->mode_fixed || s->mode_epoch == s->epoch) && s->mode_known == mode)
		return;
	emit(s, MLB_MODE, mode, 0, 0, 0, 0);
	s->mode_known = mode;
	s->mode_epoch = s->epoch;
}

/* Box of descriptor rank n into consecutive registers, then the
 * instruction. */
static void emit_box_op(st *s, int op, int desc, int n, const sx *ext, int naddr, const sx *addr)
{
	int mark = s->rtop;
	if (op == MLB_VEXPR || op == MLB_MMA)
		ensure_mode(s, op == MLB_MMA);
	int re = ralloc_block(s, n);
	int ra = ralloc_block(s, naddr);
	for (int j = 0; j < n; j++)
		sx_to(s, ext[j], re + j);
	for (int i = 0; i < naddr; i++)
		sx_to(s, addr[i], ra + i);
	emit(s, op, re, ra, 0, (uint32_t)desc, 0);
	s->rtop = mark;
}

/* A DMA of the box [lo, hi] of gt's tensor between DRAM and the window. */
static void emit_dma(st *s, int op, gten *gt, const sx *lo, const sx *hi)
{
	mlb_desc d;
	memset(&d, 0, sizeof(d));
	d.kind = MLB_D_DMA;
	d.ndim = gt->ndims;
	d.nstreams = 1;
	d.tensor = gt->t;
	sx ext[EIN_MAX_DIMS], addr[1 + EIN_MAX_DIMS];
	sx gb = gt->base;
	for (int k = 0; k < gt->ndims; k++) {
		if (gt->gbs[k] >= MLB_MAX_STRIDE) {
			fail(s, -2, "a buffer window of '%s' is too large", s->c->tensors[gt->t].name);
			return;
		}
		d.stride[0][k] = (int32_t)gt->gbs[k];
		ext[k] = sx_add(s, sx_sub(s, hi[k], lo[k]), K(1));
		gb = sx_add(s, gb, sx_muli(s, sx_sub(s, lo[k], gt->orig[k]), gt->gbs[k]));
		addr[1 + k] = lo[k];
	}
	addr[0] = gb;
	int di = add_desc(s, &d);
	emit_box_op(s, op, di, gt->ndims, ext, 1 + gt->ndims, addr);
}

/* Intersects [lo, hi] with the static box [blo, bhi]. */
static void clip(st *s, int n, sx *lo, sx *hi, const int64_t *blo, const int64_t *bhi)
{
	for (int k = 0; k < n; k++) {
		lo[k] = sx_bin(s, MLB_MAX, lo[k], K(blo[k]));
		hi[k] = sx_bin(s, MLB_MIN, hi[k], K(bhi[k]));
	}
}

/* A flag: every band loop in mask is at its first (last) tile. */
static sx pass_flag(st *s, uint32_t mask, int last)
{
	sx f = K(1);
	for (int j = 0; j < s->nband; j++)
		if ((mask >> j) & 1)
			f = sx_bin(s, MLB_AND, f,
				   sx_bin(s, MLB_SEQ, s->iter[j],
					  K(last ? s->last_tile[j] : s->first_tile[j])));
	return f;
}

/* Emits a branch on flag (taken when it is zero); returns its index. */
static int branch_if_zero(st *s, sx flag)
{
	return emit(s, MLB_BZ, sx_reg(s, flag), 0, 0, 0, 0);
}

static void patch(st *s, int at)
{
	s->epoch++; /* a branch target: paths meet */
	if (!s->rc)
		s->m->insns[at].x = (uint32_t)s->m->ninsns;
}

/* Is gt's pending-load flag known to be v here? */
static int pend_is(const st *s, const gten *gt, int v)
{
	return gt->pend_epoch == s->epoch && gt->pend_known == v;
}

static void pend_set(st *s, gten *gt, int v)
{
	gt->pend_known = v;
	gt->pend_epoch = s->epoch;
}

static void open_tensor(st *s, gten *gt)
{
	int mark = s->rtop;
	sx lo[EIN_MAX_DIMS], hi[EIN_MAX_DIMS];
	for (int k = 0; k < gt->ndims; k++) {
		dim_range(s, gt, k, 0, &lo[k], &hi[k]);
		if (gt->tiled[k] && k == gt->carry)
			emit(s, MLB_ADDI, gt->r_prev_orig, gt->r_orig[k], 0, 0, 0);
		if (gt->tiled[k] && (k == gt->carry || !is_const(lo[k]))) {
			sx_to(s, lo[k], gt->r_orig[k]);
			gt->orig[k] = R(gt->r_orig[k]);
		} else if (gt->tiled[k]) {
			gt->orig[k] = lo[k];
		}
	}
	sx prev_base = gt->base;
	if (gt->nslots == 2) {
		/* Double buffering: alternate between the two slots. */
		int one = sx_reg(s, K(1));
		emit(s, MLB_SUB, gt->r_toggle, one, gt->r_toggle, 0, 0);
		sx off = sx_muli(s, R(gt->r_toggle), (gt->slot_vals + ALIGN_VALUES - 1) / ALIGN_VALUES *
							    ALIGN_VALUES);
		sx_to(s, sx_add(s, off, K(gt->base0)), gt->r_base);
		gt->base = R(gt->r_base);
		prev_base = sx_add(s, sx_muli(s, sx_sub(s, K(1), R(gt->r_toggle)),
					      (gt->slot_vals + ALIGN_VALUES - 1) / ALIGN_VALUES *
						      ALIGN_VALUES),
				   K(gt->base0));
	}
	if (gt->carry >= 0) {
		/* What the previous tile along loop p left at the end of the
		 * window is the beginning of this one. */
		int k = gt->carry, j = gt->dim[k].slot;
		sx later = sx_bin(s, MLB_SLT, K(s->first_tile[j]), s->iter[j]);
		int br = is_const(later) ? -1 : branch_if_zero(s, later);
		mlb_desc d;
		memset(&d, 0, sizeof(d));
		d.kind = MLB_D_MOVE;
		d.ndim = gt->ndims;
		d.nstreams = 2;
		sx ext[EIN_MAX_DIMS];
		for (int q = 0; q < gt->ndims; q++) {
			d.stride[0][q] = d.stride[1][q] = (int32_t)gt->gbs[q];
			ext[q] = q == k ? sx_add(s, sx_sub(s, R(gt->r_prev_end), lo[k]), K(1))
					: sx_add(s, sx_sub(s, hi[q], lo[q]), K(1));
		}
		sx addr[2];
		addr[0] = gt->base;
		addr[1] = sx_add(s, prev_base,
				 sx_muli(s, sx_sub(s, lo[k], R(gt->r_prev_orig)), gt->gbs[k]));
		if (br >= 0 || later.c) {
			int di = add_desc(s, &d);
			emit_box_op(s, MLB_MOVE, di, gt->ndims, ext, 2, addr);
		}
		if (br >= 0)
			patch(s, br);
		sx_to(s, hi[k], gt->r_end);
		emit(s, MLB_ADDI, gt->r_prev_end, gt->r_end, 0, 0, 0);
	}
	/* Its loads wait for its first use (ensure_loaded). */
	if (gt->lazy) {
		emit(s, MLB_LI, gt->r_pend, 0, 0, 0, 1);
		pend_set(s, gt, 1);
	}
	gt->is_open = 1;
	s->rtop = mark;
}

/* The loads of an open window: what the group reads of it from DRAM, and
 * the partial results of an earlier pass. */
static void emit_loads(st *s, gten *gt)
{
	sx lo[EIN_MAX_DIMS], hi[EIN_MAX_DIMS];
	for (int k = 0; k < gt->ndims; k++)
		dim_range(s, gt, k, 0, &lo[k], &hi[k]);
	if (gt->load_all)
		emit_dma(s, MLB_LOAD, gt, lo, hi);
	if (gt->has_in) {
		clip(s, gt->ndims, lo, hi, gt->in_lo, gt->in_hi);
		emit_dma(s, MLB_LOAD, gt, lo, hi);
	}
	if (gt->spill) {
		int br = branch_if_zero(s, sx_bin(s, MLB_SEQ, pass_flag(s, gt->passes, 0), K(0)));
		sx wl[EIN_MAX_DIMS], wh[EIN_MAX_DIMS];
		for (int k = 0; k < gt->ndims; k++)
			dim_range(s, gt, k, 1, &wl[k], &wh[k]);
		emit_dma(s, MLB_LOAD, gt, wl, wh);
		patch(s, br);
	}
}

/* Before a statement touches tensor t: the window's loads, the first time
 * in its scope. */
static void ensure_loaded(st *s, int t)
{
	gten *gt = find_gt(s, t);
	if (!gt || !gt->lazy || !gt->is_open)
		return;
	if (pend_is(s, gt, 0))
		return;
	int mark = s->rtop;
	int br = pend_is(s, gt, 1) ? -1 : emit(s, MLB_BZ, gt->r_pend, 0, 0, 0, 0);
	emit_loads(s, gt);
	emit(s, MLB_LI, gt->r_pend, 0, 0, 0, 0);
	if (br >= 0)
		patch(s, br);
	pend_set(s, gt, 0);
	s->rtop = mark;
}

static void close_tensor(st *s, gten *gt)
{
	gt->is_open = 0;
	if (!gt->written || !gt->dram)
		return;
	int mark = s->rtop;
	/* A window no statement touched in this scope holds nothing to
	 * write back. */
	if (gt->lazy && pend_is(s, gt, 1)) {
		s->rtop = mark;
		return; /* nothing touched it */
	}
	int untouched = gt->lazy && !pend_is(s, gt, 0)
				? branch_if_zero(s, sx_bin(s, MLB_SEQ, R(gt->r_pend), K(0)))
				: -1;
	sx wl[EIN_MAX_DIMS], wh[EIN_MAX_DIMS];
	for (int k = 0; k < gt->ndims; k++)
		dim_range(s, gt, k, 1, &wl[k], &wh[k]);
	int skip = -1, over = -1;
	if (gt->spill) {
		/* Not the last pass: everything written so far goes out. */
		skip = branch_if_zero(s, sx_bin(s, MLB_SEQ, pass_flag(s, gt->passes, 1), K(0)));
		emit_dma(s, MLB_STORE, gt, wl, wh);
		over = emit(s, MLB_JMP, 0, 0, 0, 0, 0);
		patch(s, skip);
	}
	if (gt->store_all) {
		emit_dma(s, MLB_STORE, gt, wl, wh);
	} else if (gt->has_out) {
		clip(s, gt->ndims, wl, wh, gt->out_lo, gt->out_hi);
		emit_dma(s, MLB_STORE, gt, wl, wh);
	}
	if (over >= 0)
		patch(s, over);
	if (untouched >= 0)
		patch(s, untouched);
	s->rtop = mark;
}

static void open_depth(st *s, int p)
{
	for (int i = 0; i < s->ngt; i++)
		if (s->gt[i].p == p)
			open_tensor(s, &s->gt[i]);
}

static void close_depth(st *s, int p)
{
	for (int i = s->ngt - 1; i >= 0; i--)
		if (s->gt[i].p == p)
			close_tensor(s, &s->gt[i]);
}

/* The smallest band loop index >= f that exists in the AST (or m). */
static int next_loop(const st *s, int f)
{
	for (int j = f; j < s->nband; j++)
		if (s->loop_exists[j])
			return j;
	return s->nband;
}

/* Opens every depth up to the next existing band loop after f fixed
 * loops; returns the first depth opened (the scope closes them). */
static void walk(st *s, __isl_keep isl_ast_node *node);

static void run_deferred(st *s, defer *d)
{
	if (!d || !d->n || s->open_upto < s->nband)
		return;
	uint32_t save = s->guard;
	s->guard = d->mask;
	for (int i = 0; i < d->n; i++)
		walk(s, d->v[i]);
	s->guard = save;
}

static int open_scope(st *s, int f)
{
	int from = s->open_upto + 1, to = next_loop(s, f);
	for (int p = from; p <= to; p++)
		open_depth(s, p);
	if (to >= from)
		s->open_upto = to;
	if (to >= from && to == s->nband)
		run_deferred(s, s->pre);
	return from;
}

static void close_scope(st *s, int from)
{
	if (s->open_upto == s->nband && from <= s->nband)
		run_deferred(s, s->post);
	for (int p = s->open_upto; p >= from; p--)
		close_depth(s, p);
	if (s->open_upto >= from)
		s->open_upto = from - 1;
}

/* ---------------------------------------------------------- statements */

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
	gten *gt = find_gt(s, a->tensor);
	if (!gt || !gt->is_open) {
		fail(s, -1, "tensor '%s' has no open window", s->c->tensors[a->tensor].name);
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
			fail(s, -2, "a stride of '%s' in the buffer is too large",
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
		fail(s, -2, "a right-hand side needs more than %d micro-ops", MAX_KERNEL_UOPS);
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
		fail(s, -2, "an Einsum reads more than %d distinct operands", MLB_MAX_STREAMS - 1);
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
			fail(s, -2, "the value of rank variable '%s' is not a plain box index",
			     es->vars[x->id].name);
			return 0;
		}
		if (k->nvar == 16) {
			fail(s, -2, "too many rank variables used as values");
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

static int has_reduction(const ein_einsum *es)
{
	for (int v = 0; v < es->nvars; v++)
		if (es->vars[v].reduced)
			return 1;
	return 0;
}

/* Appends the kernel's micro-ops; returns the first index. */
static uint32_t add_uops(st *s, const kbuild *k)
{
	if (s->m->nuops + k->n > MLB_MAX_UOPS) {
		fail(s, -2, "the stream exceeds %d micro-ops", MLB_MAX_UOPS);
		return 0;
	}
	while (s->m->nuops + k->n > s->cap_uops)
		if (grow(s, (void **)&s->m->uops, &s->cap_uops, s->cap_uops, sizeof(mlb_uop)) < 0)
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
	int di = add_desc(s, &d);
	emit_box_op(s, MLB_VEXPR, di, b->n, b->ext, k->nstreams + k->nvar, addr);
}

/* S<e> as a 1D kernel. */
static void stmt_vexpr(st *s, int e, const sbox *b, int seq)
{
	const ein_einsum *es = &s->c->einsums[e];
	kbuild *k = calloc(1, sizeof(*k));
	if (!k) {
		fail(s, -1, "out of memory");
		return;
	}
	k->nstreams = 1;
	k->acc[0] = &es->out;
	uint32_t all = es->nvars >= 32 ? ~0u : (1u << es->nvars) - 1;
	uint8_t amask = vars_mask(b, all);
	int red = has_reduction(es);
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
	const cg_gemm *gm = cg_lowered_gemm(s->l, e);
	kbuild *k = calloc(1, sizeof(*k));
	if (!k) {
		fail(s, -1, "out of memory");
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
	int mul = kput(s, k, MLB_U_BIN, EIN_OP_MUL, 0, vars_mask(b, ein_expr_vars(es, x)), lx, ly, 0);
	kput(s, k, MLB_U_ACC, EIN_OP_ADD, MLB_COST_MAC + 1, amask, mul, 0, 0);
	emit_kernel(s, k, b, overwrite ? MLB_F_OVERWRITE : 0);
	free(k);
}

/* Leaves of a product of reads and constants (cost.c's product_reads). */
static int product_leaves(const st *s, const ein_expr *x, int *acc, int *nacc, double *alpha)
{
	switch (x->kind) {
	case EIN_X_NUM:
		*alpha *= x->num;
		return 0;
	case EIN_X_PARAM:
		*alpha *= (double)s->c->params[x->id].value;
		return 0;
	case EIN_X_ACCESS:
		if (*nacc < 2)
			acc[*nacc] = x->id;
		(*nacc)++;
		return 0;
	case EIN_X_BINARY:
		if (x->op != EIN_OP_MUL)
			return -1;
		if (product_leaves(s, x->a, acc, nacc, alpha) < 0)
			return -1;
		return product_leaves(s, x->b, acc, nacc, alpha);
	default:
		return -1;
	}
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
	int di = add_desc(s, &d);
	emit_box_op(s, MLB_MMA, di, b->n, b->ext, 3, addr);
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
	int di = add_desc(s, &d);
	emit_box_op(s, MLB_FILL, di, b->n, b->ext, 1, addr);
}

static void stmt_s(st *s, int e, const sbox *b, int seq)
{
	const ein_einsum *es = &s->c->einsums[e];
	if (s->unit_of[e] == PLAN_UNIT_2D && has_reduction(es) && es->reduce_op == EIN_OP_ADD &&
	    !seq) {
		int acc[2], nacc = 0;
		double alpha = 1;
		if (product_leaves(s, es->rhs, acc, &nacc, &alpha) == 0 && nacc == 2) {
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
	const cg_gemm *gm = cg_lowered_gemm(s->l, e);
	int nargs = (int)isl_ast_expr_op_get_n_arg(call) - 1;
	sx tidx[CG_MAX_BAND];
	for (int j = 0; j < nargs && j < CG_MAX_BAND; j++)
		tidx[j] = ast_arg(s, call, j + 1);
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
			fail(s, -2, "'%s' has more than %d ranks of more than one value", es->name,
			     MLB_MAX_DIMS);
			return;
		}
		b.ext[b.n] = sx_add(s, sx_sub(s, hi, lo), K(1));
		b.dv[v][b.n++] = 1;
	}
	if (s->unit_of[e] == PLAN_UNIT_2D)
		stmt_mma(s, e, &b, gm->x, gm->y, 1.0, gm->beta0);
	else
		stmt_vmac(s, e, &b, gm->beta0);
}

/* A user statement with the box loops given (outermost first). */
static void stmt_user(st *s, __isl_keep isl_ast_node *user, int n, isl_ast_node **loops)
{
	if (s->open_upto < s->nband) {
		fail(s, -1, "group %d: a statement outside the tile loops the stream expects",
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
		sx org = ast_sx(s, init);
		isl_ast_expr_free(init);
		sx hi = loop_upper(s, loops[j]);
		b.ext[j] = sx_add(s, sx_sub(s, hi, org), K(1));
		depth[j] = node_depth(loops[j]);
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
				want = j < nargs ? ast_arg(s, call, j + 1) : K(0);
			} else if (v < 0 || v >= nargs) {
				want = K(0); /* Z<e>: inits run in the first tile */
			} else {
				isl_ast_expr *a = isl_ast_expr_op_get_arg(call, v + 1);
				want = sx_bin(s, MLB_DIVF, ast_sx(s, a), K(s->tile[j]));
				isl_ast_expr_free(a);
			}
			ok = sx_bin(s, MLB_AND, ok, sx_bin(s, MLB_SEQ, want, s->iter[j]));
		}
		if (is_const(ok) && !ok.c)
			goto out;
		if (!is_const(ok))
			skip = branch_if_zero(s, ok);
	}
	ensure_loaded(s, es->out.tensor);
	for (int r = 0; r < es->nreads; r++)
		ensure_loaded(s, es->reads[r].tensor);
	if (kind == 'G') {
		stmt_g(s, e, call);
	} else {
		int nargs = (int)isl_ast_expr_op_get_n_arg(call) - 1;
		b.nvars = es->nvars;
		for (int v = 0; v < nargs && v < EIN_MAX_VARS; v++) {
			isl_ast_expr *a = isl_ast_expr_op_get_arg(call, v + 1);
			b.argv[v] = ast_sx(s, a);
			for (int j = 0; j < n; j++) {
				int ok = 1;
				b.dv[v][j] = ast_deriv(a, depth[j], &ok);
				if (!ok)
					fail(s, -1, "a statement argument is not affine in its loops");
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
		patch(s, skip);
out:
	for (int j = 0; j < n; j++)
		s->bound[depth[j]] = 0;
	s->rtop = mark;
	isl_id_free(id);
	isl_ast_expr_free(fn);
	isl_ast_expr_free(call);
}

/* ---------------------------------------------------------- the walk */

static void walk(st *s, __isl_keep isl_ast_node *node);

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
	int d = node_depth(node);
	if (d < 0) {
		fail(s, -1, "an isl loop iterator the stream does not understand");
		return;
	}
	int r_it = ralloc(s), r_hi = ralloc(s);
	int mark = s->rtop;
	isl_ast_expr *init = isl_ast_node_for_get_init(node);
	sx_to(s, ast_sx(s, init), r_it);
	isl_ast_expr_free(init);
	sx_to(s, loop_upper(s, node), r_hi);
	int64_t step = loop_step(s, node);
	s->rtop = mark;
	int at = emit(s, MLB_LOOP, r_it, r_hi, 0, 0, step);
	s->iter[d] = R(r_it);
	s->bound[d] = 1;
	fn(s, node, arg);
	int end = emit(s, MLB_ENDLOOP, r_it, r_hi, 0, (uint32_t)at, step);
	if (!s->rc)
		s->m->insns[at].x = (uint32_t)end;
	s->bound[d] = 0;
	s->rtop = r_it;
}

static void body_walk(st *s, __isl_keep isl_ast_node *node, void *arg)
{
	(void)arg;
	isl_ast_node *body = isl_ast_node_for_get_body(node);
	walk(s, body);
	isl_ast_node_free(body);
}

/* The body of band loop j: a new tile, its range, the windows that open
 * here, the members, the windows that close. */
static void band_body(st *s, __isl_keep isl_ast_node *node, void *arg)
{
	int j = *(int *)arg;
	emit(s, MLB_TILE, 0, 0, 0, 0, 0);
	int mark = s->rtop;
	int rlo = ralloc(s), rhi = ralloc(s);
	sx lo = sx_muli(s, s->iter[j], s->tile[j]);
	sx_to(s, lo, rlo);
	sx_to(s, sx_bin(s, MLB_MIN, sx_add(s, R(rlo), K(s->tile[j] - 1)), K(s->ext[j] - 1)), rhi);
	s->rtop = rhi + 1;
	sx save_lo = s->tlo[j], save_hi = s->thi[j];
	s->tlo[j] = R(rlo);
	s->thi[j] = R(rhi);
	int from = open_scope(s, j + 1);
	body_walk(s, node, NULL);
	close_scope(s, from);
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
	stmt_user(s, ns->leaf, ns->n - ns->first, &ns->loops[ns->first]);
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
		fail(s, -1, "out of memory");
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
		if (isl_ast_expr_get_type(inc) != isl_ast_expr_int || expr_int(inc, &k) < 0 || k != 1)
			first = i + 1;
		for (int j = first; j < i; j++) {
			int d = node_depth(ns->loops[j]);
			if (ast_mentions(init, d) || ast_mentions(cond, d))
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
		int d = node_depth(ns->loops[i]);
		for (int v = 0; v < nargs; v++) {
			isl_ast_expr *a = isl_ast_expr_op_get_arg(call, v + 1);
			int ok = 1;
			ast_deriv(a, d, &ok);
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
			if (ast_deriv(a, node_depth(ns->loops[i]), &ok) != 0 || !ok) {
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
			walk(s, c);
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
		fail(s, -1, "out of memory");
		free(pre);
		free(post);
		isl_ast_node_list_free(l);
		return;
	}
	pre->mask = post->mask = mask;
	for (int i = last + 1; i < n && post->n < MAX_DEFER; i++)
		post->v[post->n++] = isl_ast_node_list_get_ast_node(l, i);
	if (last + 1 + post->n < n)
		fail(s, -1, "more than %d statements outside a tile loop", MAX_DEFER);
	defer *save_pre = s->pre, *save_post = s->post;
	for (int i = 0; i <= last && !s->rc; i++) {
		isl_ast_node *c = isl_ast_node_list_get_ast_node(l, i);
		if (!has_band_loop(s, c)) {
			if (pre->n == MAX_DEFER)
				fail(s, -1, "more than %d statements outside a tile loop", MAX_DEFER);
			else
				pre->v[pre->n++] = isl_ast_node_copy(c);
		} else {
			s->pre = pre;
			s->post = i == last ? post : NULL;
			walk(s, c);
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

static void walk(st *s, __isl_keep isl_ast_node *node)
{
	if (s->rc || !node)
		return;
	switch (isl_ast_node_get_type(node)) {
	case isl_ast_node_for: {
		int d = node_depth(node);
		if (d >= 0 && d < s->nband)
			scalar_loop(s, node, band_body, &d);
		else
			member_nest(s, node);
		return;
	}
	case isl_ast_node_if: {
		int mark = s->rtop;
		isl_ast_expr *cond = isl_ast_node_if_get_cond(node);
		sx c = ast_sx(s, cond);
		isl_ast_expr_free(cond);
		isl_ast_node *then = isl_ast_node_if_get_then_node(node);
		isl_ast_node *els = isl_ast_node_if_has_else_node(node) == isl_bool_true
					    ? isl_ast_node_if_get_else_node(node)
					    : NULL;
		if (is_const(c)) {
			s->rtop = mark;
			walk(s, c.c ? then : els);
		} else {
			int br = branch_if_zero(s, c);
			s->rtop = mark;
			walk(s, then);
			if (els) {
				int over = emit(s, MLB_JMP, 0, 0, 0, 0, 0);
				patch(s, br);
				walk(s, els);
				patch(s, over);
			} else {
				patch(s, br);
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
		walk(s, c);
		isl_ast_node_free(c);
		return;
	}
	case isl_ast_node_user:
		stmt_user(s, node, 0, NULL);
		return;
	default:
		fail(s, -1, "unsupported isl AST node");
		return;
	}
}

static int has_band_loop(const st *s, __isl_keep isl_ast_node *node)
{
	if (!node)
		return 0;
	int r = 0;
	switch (isl_ast_node_get_type(node)) {
	case isl_ast_node_for: {
		int d = node_depth(node);
		if (d >= 0 && d < s->nband)
			return 1;
		isl_ast_node *b = isl_ast_node_for_get_body(node);
		r = has_band_loop(s, b);
		isl_ast_node_free(b);
		return r;
	}
	case isl_ast_node_if: {
		isl_ast_node *t = isl_ast_node_if_get_then_node(node);
		r = has_band_loop(s, t);
		isl_ast_node_free(t);
		if (!r && isl_ast_node_if_has_else_node(node) == isl_bool_true) {
			isl_ast_node *e = isl_ast_node_if_get_else_node(node);
			r = has_band_loop(s, e);
			isl_ast_node_free(e);
		}
		return r;
	}
	case isl_ast_node_block: {
		isl_ast_node_list *l = isl_ast_node_block_get_children(node);
		isl_size n = isl_ast_node_list_n_ast_node(l);
		for (int i = 0; i < n && !r; i++) {
			isl_ast_node *c = isl_ast_node_list_get_ast_node(l, i);
			r = has_band_loop(s, c);
			isl_ast_node_free(c);
		}
		isl_ast_node_list_free(l);
		return r;
	}
	case isl_ast_node_mark: {
		isl_ast_node *c = isl_ast_node_mark_get_node(node);
		r = has_band_loop(s, c);
		isl_ast_node_free(c);
		return r;
	}
	default:
		return 0;
	}
}

/* Which band loops the AST has (isl drops a loop of one iteration). */
static void find_loops(st *s, __isl_keep isl_ast_node *node)
{
	if (!node)
		return;
	switch (isl_ast_node_get_type(node)) {
	case isl_ast_node_for: {
		int d = node_depth(node);
		if (d >= 0 && d < s->nband)
			s->loop_exists[d] = 1;
		isl_ast_node *b = isl_ast_node_for_get_body(node);
		find_loops(s, b);
		isl_ast_node_free(b);
		return;
	}
	case isl_ast_node_if: {
		isl_ast_node *t = isl_ast_node_if_get_then_node(node);
		find_loops(s, t);
		isl_ast_node_free(t);
		if (isl_ast_node_if_has_else_node(node) == isl_bool_true) {
			isl_ast_node *e = isl_ast_node_if_get_else_node(node);
			find_loops(s, e);
			isl_ast_node_free(e);
		}
		return;
	}
	case isl_ast_node_block: {
		isl_ast_node_list *l = isl_ast_node_block_get_children(node);
		isl_size n = isl_ast_node_list_n_ast_node(l);
		for (int i = 0; i < n; i++) {
			isl_ast_node *c = isl_ast_node_list_get_ast_node(l, i);
			find_loops(s, c);
			isl_ast_node_free(c);
		}
		isl_ast_node_list_free(l);
		return;
	}
	case isl_ast_node_mark: {
		isl_ast_node *c = isl_ast_node_mark_get_node(node);
		find_loops(s, c);
		isl_ast_node_free(c);
		return;
	}
	default:
		return;
	}
}

/* The Einsums of every statement under node. */
static void mark_einsums(__isl_keep isl_ast_node *node, char *flags)
{
	switch (isl_ast_node_get_type(node)) {
	case isl_ast_node_user: {
		char kind;
		flags[leaf_einsum(node, &kind)] = 1;
		return;
	}
	case isl_ast_node_for: {
		isl_ast_node *b = isl_ast_node_for_get_body(node);
		mark_einsums(b, flags);
		isl_ast_node_free(b);
		return;
	}
	case isl_ast_node_if: {
		isl_ast_node *t = isl_ast_node_if_get_then_node(node);
		mark_einsums(t, flags);
		isl_ast_node_free(t);
		if (isl_ast_node_if_has_else_node(node) == isl_bool_true) {
			isl_ast_node *e = isl_ast_node_if_get_else_node(node);
			mark_einsums(e, flags);
			isl_ast_node_free(e);
		}
		return;
	}
	case isl_ast_node_block: {
		isl_ast_node_list *l = isl_ast_node_block_get_children(node);
		isl_size n = isl_ast_node_list_n_ast_node(l);
		for (int i = 0; i < n; i++) {
			isl_ast_node *c = isl_ast_node_list_get_ast_node(l, i);
			mark_einsums(c, flags);
			isl_ast_node_free(c);
		}
		isl_ast_node_list_free(l);
		return;
	}
	case isl_ast_node_mark: {
		isl_ast_node *c = isl_ast_node_mark_get_node(node);
		mark_einsums(c, flags);
		isl_ast_node_free(c);
		return;
	}
	default:
		return;
	}
}

/* Which statements walk_block will defer (before the walk, so that the
 * buffer allocation knows their windows' live ranges): the same rule,
 * with `bound` the band loops entered so far. */
static void scan_deferred(st *s, __isl_keep isl_ast_node *node, uint32_t bound)
{
	switch (isl_ast_node_get_type(node)) {
	case isl_ast_node_for: {
		int d = node_depth(node);
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

static void emit_group(st *s, int gi)
{
	s->rtop = 0;
	s->epoch++; /* a group starts with the array's mode unknown */
	int at = emit(s, MLB_GROUP, 0, 0, 0, (uint32_t)gi, 0);
	isl_ast_node *ast = cg_lowered_ast(s->l, gi);
	s->nband = s->p->groups[gi].nband;
	memset(s->loop_exists, 0, sizeof(s->loop_exists));
	find_loops(s, ast);
	memset(s->defer_pre, 0, (size_t)s->c->neinsums);
	memset(s->defer_post, 0, (size_t)s->c->neinsums);
	scan_deferred(s, ast, 0);
	if (setup_group(s, gi) < 0)
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
		ensure_mode(s, 0);
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
	int from = open_scope(s, 0);
	walk(s, ast);
	close_scope(s, from);
	emit(s, MLB_SYNC, 0, 0, 0, 0, 0);
	cost_group_free(s->cg);
	s->cg = NULL;
}

/* ------------------------------------------------------------ module */

static void printable(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < cap; i++) {
		unsigned char ch = (unsigned char)src[i];
		dst[i] = ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\' ? '_' : (char)ch;
	}
	dst[i] = '\0';
}

void stream_target(const target *t, mlb_target *o)
{
	memset(o, 0, sizeof(*o));
	printable(o->name, sizeof(o->name), t->name);
	o->rows = t->rows;
	o->cols = t->cols;
	o->cores = t->cores;
	o->drain_cycles = t->drain_cycles;
	o->lanes = t->lanes;
	o->buffer_bytes = t->buffer_bytes;
	for (int k = 0; k < MLB_NOPS && k < TARGET_NOPS; k++)
		o->op_cycles[k] = t->op_cycles[k];
	o->concurrent = t->concurrent != 0;
	o->double_buffer = t->double_buffer != 0;
	o->bytes_per_value = t->bytes_per_value;
	o->switch_cycles = t->switch_cycles;
	o->dram_gb_per_s = t->dram_gb_per_s;
	o->clock_ghz = t->clock_ghz;
}

static int build_tables(st *s, const stream_options *o)
{
	const ein_cascade *c = s->c;
	mlb_module *m = s->m;
	printable(m->name, sizeof(m->name), o->name);
	printable(m->source, sizeof(m->source), c->file);
	stream_target(s->t, &m->target);
	m->tensors = calloc((size_t)(c->ntensors ? c->ntensors : 1), sizeof(mlb_tensor));
	m->groups = calloc((size_t)(s->p->ngroups ? s->p->ngroups : 1), sizeof(char *));
	if (!m->tensors || !m->groups) {
		fail(s, -1, "out of memory");
		return -1;
	}
	m->ntensors = c->ntensors;
	int64_t off = 0;
	for (int t = 0; t < c->ntensors; t++) {
		const ein_tensor *tt = &c->tensors[t];
		mlb_tensor *mt = &m->tensors[t];
		printable(mt->name, sizeof(mt->name), tt->name);
		mt->role = tt->role == EIN_ROLE_INPUT	 ? MLB_ROLE_INPUT
			   : tt->role == EIN_ROLE_WEIGHT ? MLB_ROLE_WEIGHT
			   : tt->role == EIN_ROLE_OUTPUT ? MLB_ROLE_OUTPUT
							 : MLB_ROLE_TEMP;
		mt->ndims = tt->ndims;
		for (int d = 0; d < tt->ndims; d++)
			mt->shape[d] = tt->dims[d].size;
		const cg_buffer *b = cg_lowered_buffer(s->l, t);
		if (b->kind != CG_BUF_TILE || s->need_dram[t]) {
			mt->dram = off;
			off = ck_add(s, off, (tt->nelems + 15) / 16 * 16);
			/* A user's sizes, not a compiler bug: say which tensor. */
			if (off > MLB_MAX_ELEMS) {
				fail(s, -2,
				     "%s:%d:%d: tensor '%s' (%lld values) does not fit in the "
				     "accelerator's DRAM address space (2^40 values for all "
				     "tensors; %lld needed up to it)",
				     c->file, tt->loc.line, tt->loc.col, tt->name,
				     (long long)tt->nelems, (long long)off);
				return -2;
			}
		} else {
			mt->dram = -1;
		}
	}
	m->dram_values = off;
	for (int gi = 0; gi < s->p->ngroups; gi++) {
		char buf[MLB_MAX_NAME + 1];
		size_t w = 0;
		buf[0] = '\0';
		for (int e = 0; e < c->neinsums; e++)
			if (s->p->groups[gi].members[e] && w + strlen(c->einsums[e].name) + 2 < sizeof(buf))
				w += (size_t)snprintf(buf + w, sizeof(buf) - w, "%s%s", w ? "," : "",
						      c->einsums[e].name);
		char clean[MLB_MAX_NAME + 1];
		printable(clean, sizeof(clean), buf);
		m->groups[gi] = strdup(clean);
		if (!m->groups[gi]) {
			fail(s, -1, "out of memory");
			return -1;
		}
		m->ngroups = gi + 1;
	}
	return 0;
}

int stream_build(const deps_graph *g, const cg_plan *p, const target *t,
		 const plan *choices, const stream_options *o, mlb_module **out,
		 char *err, size_t errlen)
{
	*out = NULL;
	st *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->g = g;
	s->c = g->c;
	s->t = t;
	s->p = p;
	s->choices = choices;
	s->err = err;
	s->errlen = errlen;
	cg_options co = {o->name, o->blas, 0};
	cg_lowered *l = NULL;
	int rc = cg_lower(g, p, &co, &l, err, errlen);
	if (rc < 0) {
		free(s);
		return rc;
	}
	s->l = l;
	char merr[512];
	s->cm = cost_model_new(g, t, merr, sizeof(merr));
	s->m = mlb_new();
	s->need_dram = calloc((size_t)(s->c->ntensors ? s->c->ntensors : 1), 1);
	s->unit_of = calloc((size_t)(s->c->neinsums ? s->c->neinsums : 1), sizeof(int));
	s->defer_pre = calloc((size_t)(s->c->neinsums ? s->c->neinsums : 1), 1);
	s->defer_post = calloc((size_t)(s->c->neinsums ? s->c->neinsums : 1), 1);
	if (!s->cm)
		fail(s, -1, "cost model: %s", merr);
	else if (!s->m || !s->need_dram || !s->unit_of || !s->defer_pre || !s->defer_post)
		fail(s, -1, "out of memory");
	for (int gi = 0; gi < p->ngroups && !s->rc; gi++)
		emit_group(s, gi);
	emit(s, MLB_HALT, 0, 0, 0, 0, 0);
	if (!s->rc)
		build_tables(s, o);
	if (!s->rc) {
		char verr[512];
		if (mlb_validate(s->m, verr, sizeof(verr)) < 0)
			fail(s, -1, "the emitted stream is invalid: %s", verr);
	}
	rc = s->rc;
	if (!rc)
		*out = s->m;
	else
		mlb_free(s->m);
	cost_group_free(s->cg);
	cost_model_free(s->cm);
	cg_lowered_free(l);
	free(s->need_dram);
	free(s->unit_of);
	free(s->defer_pre);
	free(s->defer_post);
	free(s);
	return rc;
}

int stream_emit(const deps_graph *g, const cg_plan *p, const target *t,
		const plan *choices, const stream_options *o, const char *path,
		char *err, size_t errlen)
{
	mlb_module *m = NULL;
	int rc = stream_build(g, p, t, choices, o, &m, err, errlen);
	if (rc < 0)
		return rc;
	if (mlb_write_file(m, path, err, errlen) < 0)
		rc = -1;
	mlb_free(m);
	return rc;
}
