/* stream_code.c - the stream's tables (instructions, descriptors), scalar
 * registers, and scalar expressions folded at compile time (sx), from isl
 * AST expressions (see stream_impl.h). */
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

void st_fail(st *s, int rc, const char *fmt, ...)
{
	if (s->rc)
		return;
	s->rc = rc;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, s->errlen, fmt, ap);
	va_end(ap);
}

int st_grow(st *s, void **p, int *cap, int n, size_t size)
{
	if (n < *cap)
		return 0;
	int nc = *cap ? *cap * 2 : 256;
	void *q = realloc(*p, (size_t)nc * size);
	if (!q) {
		st_fail(s, -1, "out of memory");
		return -1;
	}
	*p = q;
	*cap = nc;
	return 0;
}

int st_emit(st *s, int op, int a, int b, int c, uint32_t x, int64_t imm)
{
	if (s->rc)
		return 0;
	if (s->m->ninsns >= MLB_MAX_INSNS) {
		st_fail(s, -2, "the stream exceeds %d instructions", MLB_MAX_INSNS);
		return 0;
	}
	if (st_grow(s, (void **)&s->m->insns, &s->cap_insns, s->m->ninsns, sizeof(mlb_insn)) < 0)
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
int st_add_desc(st *s, const mlb_desc *d)
{
	for (int i = 0; i < s->m->ndescs; i++)
		if (memcmp(&s->m->descs[i], d, sizeof(*d)) == 0)
			return i;
	if (s->m->ndescs >= MLB_MAX_DESCS) {
		st_fail(s, -2, "the stream exceeds %d descriptors", MLB_MAX_DESCS);
		return 0;
	}
	if (st_grow(s, (void **)&s->m->descs, &s->cap_descs, s->m->ndescs, sizeof(mlb_desc)) < 0)
		return 0;
	s->m->descs[s->m->ndescs] = *d;
	return s->m->ndescs++;
}

int st_ralloc(st *s)
{
	if (s->rtop >= MLB_NREGS) {
		st_fail(s, -1, "out of scalar registers (a group needs more than %d)", MLB_NREGS);
		return 0;
	}
	return s->rtop++;
}

int st_ralloc_block(st *s, int n)
{
	int r = s->rtop;
	if (r + n > MLB_NREGS) {
		st_fail(s, -1, "out of scalar registers (a group needs more than %d)", MLB_NREGS);
		return 0;
	}
	s->rtop += n;
	return r;
}

int64_t st_ck_add(st *s, int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r)) {
		st_fail(s, -2, "a compile-time address computation overflows");
		return 0;
	}
	return r;
}

int64_t st_ck_mul(st *s, int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_mul_overflow(a, b, &r)) {
		st_fail(s, -2, "a compile-time address computation overflows");
		return 0;
	}
	return r;
}

int64_t st_floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* A register holding k * r[reg] (the scaled part of a). */
static int scaled(st *s, sx a)
{
	if (a.k == 1)
		return a.reg;
	int t = st_ralloc(s);
	st_emit(s, MLB_MULI, t, a.reg, 0, 0, a.k);
	return t;
}

sx sx_add(st *s, sx a, sx b)
{
	if (is_const(a)) {
		b.c = st_ck_add(s, b.c, a.c);
		return b;
	}
	if (is_const(b)) {
		a.c = st_ck_add(s, a.c, b.c);
		return a;
	}
	if (a.reg == b.reg) {
		sx v = {a.reg, st_ck_add(s, a.k, b.k), st_ck_add(s, a.c, b.c)};
		return v.k ? v : K(v.c);
	}
	int ra = scaled(s, a), rb = scaled(s, b);
	int t = st_ralloc(s);
	st_emit(s, MLB_ADD, t, ra, rb, 0, 0);
	sx v = {t, 1, st_ck_add(s, a.c, b.c)};
	return v;
}

sx sx_muli(st *s, sx a, int64_t k)
{
	if (is_const(a))
		return K(st_ck_mul(s, a.c, k));
	if (k == 0)
		return K(0);
	sx v = {a.reg, st_ck_mul(s, a.k, k), st_ck_mul(s, a.c, k)};
	return v;
}

sx sx_sub(st *s, sx a, sx b)
{
	return sx_add(s, a, sx_muli(s, b, -1));
}

/* A register holding a's value. */
int sx_reg(st *s, sx a)
{
	if (!is_const(a) && a.k == 1 && a.c == 0)
		return a.reg;
	int t = st_ralloc(s);
	if (is_const(a)) {
		st_emit(s, MLB_LI, t, 0, 0, 0, a.c);
		return t;
	}
	if (a.k == 1) {
		st_emit(s, MLB_ADDI, t, a.reg, 0, 0, a.c);
		return t;
	}
	st_emit(s, MLB_MULI, t, a.reg, 0, 0, a.k);
	if (a.c)
		st_emit(s, MLB_ADDI, t, t, 0, 0, a.c);
	return t;
}

/* Puts a's value into register rd. */
void sx_to(st *s, sx a, int rd)
{
	if (is_const(a)) {
		st_emit(s, MLB_LI, rd, 0, 0, 0, a.c);
	} else if (a.k == 1) {
		if (a.reg != rd || a.c != 0)
			st_emit(s, MLB_ADDI, rd, a.reg, 0, 0, a.c);
	} else {
		st_emit(s, MLB_MULI, rd, a.reg, 0, 0, a.k);
		if (a.c)
			st_emit(s, MLB_ADDI, rd, rd, 0, 0, a.c);
	}
}

static int64_t fold(st *s, int op, int64_t a, int64_t b)
{
	switch (op) {
	case MLB_MUL:
		return st_ck_mul(s, a, b);
	case MLB_DIVF:
		if (b == 0 || (a == INT64_MIN && b == -1)) {
			st_fail(s, -1, "division by zero in a loop bound");
			return 0;
		}
		return st_floordiv(a, b);
	case MLB_MODF:
		if (b == 0 || (a == INT64_MIN && b == -1)) {
			st_fail(s, -1, "division by zero in a loop bound");
			return 0;
		}
		return a - b * st_floordiv(a, b);
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

sx sx_bin(st *s, int op, sx a, sx b)
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
	int t = st_ralloc(s);
	st_emit(s, op, t, ra, rb, 0, 0);
	return R(t);
}

static sx sx_sel(st *s, sx c, sx a, sx b)
{
	if (is_const(c))
		return c.c ? a : b;
	int rc = sx_reg(s, c), ra = sx_reg(s, a), rb = sx_reg(s, b);
	int t = st_ralloc(s);
	st_emit(s, MLB_SEL, t, rc, ra, 0, rb);
	return R(t);
}

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

int st_expr_int(__isl_keep isl_ast_expr *e, int64_t *out)
{
	isl_val *v = isl_ast_expr_int_get_val(e);
	int ok = v && isl_val_is_int(v);
	if (ok)
		*out = isl_val_get_num_si(v);
	isl_val_free(v);
	return ok ? 0 : -1;
}

sx st_ast_arg(st *s, __isl_keep isl_ast_expr *e, int i)
{
	isl_ast_expr *a = isl_ast_expr_op_get_arg(e, i);
	sx v = st_ast_sx(s, a);
	isl_ast_expr_free(a);
	return v;
}

/* The value of an isl AST expression (iterators bound to registers). */
sx st_ast_sx(st *s, __isl_keep isl_ast_expr *e)
{
	if (s->rc || !e)
		return K(0);
	switch (isl_ast_expr_get_type(e)) {
	case isl_ast_expr_int: {
		int64_t c = 0;
		if (st_expr_int(e, &c) < 0)
			st_fail(s, -1, "a non-integer constant in the isl AST");
		return K(c);
	}
	case isl_ast_expr_id: {
		int d = expr_depth(e);
		if (d < 0 || !s->bound[d]) {
			st_fail(s, -1, "the isl AST uses an iterator the stream does not have (depth %d)", d);
			return K(0);
		}
		return s->iter[d];
	}
	case isl_ast_expr_op:
		break;
	default:
		st_fail(s, -1, "unsupported isl AST expression");
		return K(0);
	}
	int n = (int)isl_ast_expr_op_get_n_arg(e);
	enum isl_ast_expr_op_type op = isl_ast_expr_op_get_type(e);
	switch (op) {
	case isl_ast_expr_op_add:
		return sx_add(s, st_ast_arg(s, e, 0), st_ast_arg(s, e, 1));
	case isl_ast_expr_op_sub:
		return sx_sub(s, st_ast_arg(s, e, 0), st_ast_arg(s, e, 1));
	case isl_ast_expr_op_mul:
		return sx_bin(s, MLB_MUL, st_ast_arg(s, e, 0), st_ast_arg(s, e, 1));
	case isl_ast_expr_op_minus:
		return sx_muli(s, st_ast_arg(s, e, 0), -1);
	case isl_ast_expr_op_div:
	case isl_ast_expr_op_fdiv_q:
	case isl_ast_expr_op_pdiv_q:
		return sx_bin(s, MLB_DIVF, st_ast_arg(s, e, 0), st_ast_arg(s, e, 1));
	case isl_ast_expr_op_pdiv_r:
	case isl_ast_expr_op_zdiv_r:
		/* zdiv_r is only compared with zero: the floor remainder is
		 * zero exactly when the truncated one is. */
		return sx_bin(s, MLB_MODF, st_ast_arg(s, e, 0), st_ast_arg(s, e, 1));
	case isl_ast_expr_op_min:
	case isl_ast_expr_op_max: {
		sx v = st_ast_arg(s, e, 0);
		for (int i = 1; i < n; i++)
			v = sx_bin(s, op == isl_ast_expr_op_min ? MLB_MIN : MLB_MAX, v, st_ast_arg(s, e, i));
		return v;
	}
	case isl_ast_expr_op_cond:
	case isl_ast_expr_op_select:
		return sx_sel(s, st_ast_arg(s, e, 0), st_ast_arg(s, e, 1), st_ast_arg(s, e, 2));
	case isl_ast_expr_op_eq:
		return sx_bin(s, MLB_SEQ, st_ast_arg(s, e, 0), st_ast_arg(s, e, 1));
	case isl_ast_expr_op_le:
		return sx_bin(s, MLB_SLE, st_ast_arg(s, e, 0), st_ast_arg(s, e, 1));
	case isl_ast_expr_op_lt:
		return sx_bin(s, MLB_SLT, st_ast_arg(s, e, 0), st_ast_arg(s, e, 1));
	case isl_ast_expr_op_ge:
		return sx_bin(s, MLB_SLE, st_ast_arg(s, e, 1), st_ast_arg(s, e, 0));
	case isl_ast_expr_op_gt:
		return sx_bin(s, MLB_SLT, st_ast_arg(s, e, 1), st_ast_arg(s, e, 0));
	case isl_ast_expr_op_and:
	case isl_ast_expr_op_and_then:
		return sx_bin(s, MLB_AND, st_ast_arg(s, e, 0), st_ast_arg(s, e, 1));
	case isl_ast_expr_op_or:
	case isl_ast_expr_op_or_else:
		return sx_bin(s, MLB_OR, st_ast_arg(s, e, 0), st_ast_arg(s, e, 1));
	default:
		st_fail(s, -1, "unsupported isl AST operation %d", (int)op);
		return K(0);
	}
}

/* Does e use the iterator of depth d? */
int st_ast_mentions(__isl_keep isl_ast_expr *e, int d)
{
	switch (isl_ast_expr_get_type(e)) {
	case isl_ast_expr_id:
		return expr_depth(e) == d;
	case isl_ast_expr_op: {
		int n = (int)isl_ast_expr_op_get_n_arg(e);
		for (int i = 0; i < n; i++) {
			isl_ast_expr *a = isl_ast_expr_op_get_arg(e, i);
			int r = st_ast_mentions(a, d);
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
int64_t st_ast_deriv(__isl_keep isl_ast_expr *e, int d, int *ok)
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
		if (st_ast_mentions(e, d))
			*ok = 0;
		return 0;
	}
	isl_ast_expr *a = isl_ast_expr_op_get_arg(e, 0);
	isl_ast_expr *b = op == isl_ast_expr_op_minus ? NULL : isl_ast_expr_op_get_arg(e, 1);
	int64_t r = 0, k;
	if (op == isl_ast_expr_op_minus)
		r = -st_ast_deriv(a, d, ok);
	else if (op == isl_ast_expr_op_add)
		r = st_ast_deriv(a, d, ok) + st_ast_deriv(b, d, ok);
	else if (op == isl_ast_expr_op_sub)
		r = st_ast_deriv(a, d, ok) - st_ast_deriv(b, d, ok);
	else if (isl_ast_expr_get_type(a) == isl_ast_expr_int && st_expr_int(a, &k) == 0)
		r = k * st_ast_deriv(b, d, ok);
	else if (isl_ast_expr_get_type(b) == isl_ast_expr_int && st_expr_int(b, &k) == 0)
		r = k * st_ast_deriv(a, d, ok);
	else if (st_ast_mentions(a, d) || st_ast_mentions(b, d))
		*ok = 0;
	isl_ast_expr_free(a);
	isl_ast_expr_free(b);
	return r;
}

/* The upper bound U of `it <= U` or `it < U` (as U - 1). */
sx st_loop_upper(st *s, __isl_keep isl_ast_node *node)
{
	isl_ast_expr *cond = isl_ast_node_for_get_cond(node);
	sx v = K(0);
	if (isl_ast_expr_get_type(cond) != isl_ast_expr_op) {
		st_fail(s, -1, "unsupported loop condition in the isl AST");
	} else {
		enum isl_ast_expr_op_type op = isl_ast_expr_op_get_type(cond);
		if (op == isl_ast_expr_op_le)
			v = st_ast_arg(s, cond, 1);
		else if (op == isl_ast_expr_op_lt)
			v = sx_add(s, st_ast_arg(s, cond, 1), K(-1));
		else
			st_fail(s, -1, "unsupported loop condition in the isl AST");
	}
	isl_ast_expr_free(cond);
	return v;
}

int64_t st_loop_step(st *s, __isl_keep isl_ast_node *node)
{
	isl_ast_expr *inc = isl_ast_node_for_get_inc(node);
	int64_t k = 0;
	if (!inc || isl_ast_expr_get_type(inc) != isl_ast_expr_int || st_expr_int(inc, &k) < 0 ||
	    k < 1)
		st_fail(s, -1, "unsupported loop increment in the isl AST");
	isl_ast_expr_free(inc);
	return k;
}

int st_node_depth(__isl_keep isl_ast_node *node)
{
	isl_ast_expr *it = isl_ast_node_for_get_iterator(node);
	int d = expr_depth(it);
	isl_ast_expr_free(it);
	return d;
}

/* Emits a branch on flag (taken when it is zero); returns its index. */
int st_branch_if_zero(st *s, sx flag)
{
	return st_emit(s, MLB_BZ, sx_reg(s, flag), 0, 0, 0, 0);
}

void st_patch(st *s, int at)
{
	s->epoch++; /* a branch target: paths meet */
	if (!s->rc)
		s->m->insns[at].x = (uint32_t)s->m->ninsns;
}
