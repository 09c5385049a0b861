/* eval.c - the reference evaluator (see eval.h).
 *
 * One Einsum is run in four steps:
 *   1. its right-hand side is compiled to postfix bytecode, parameters folded
 *      to constants;
 *   2. every access (the reads and the output) and every filter becomes an
 *      affine "tracker"  value = base + sum stride[level] * var(level),  the
 *      parameter terms folded into base; for an access the value is the
 *      row-major element offset;
 *   3. every access is bounds-checked once over the box of variable ranges;
 *      an access that fails (it is in bounds only thanks to a filter, like a
 *      padded convolution) is checked instead at every point that passes the
 *      filters;
 *   4. the iteration space is walked with nested loops (generational variable
 *      outermost, then the other output variables, reduced ones innermost),
 *      trackers updated incrementally by the outer levels and as
 *      cur + x * stride in the innermost one, the bytecode run at every
 *      point that passes the filters, and the results combined with
 *      reduce_op.
 *
 * Writes go straight to the output tensor in loop order, because a
 * generational Einsum reads its own output at earlier generations.  When an
 * Einsum does not read its own output, the contributions to one output
 * element from the innermost reduced loops are accumulated in a local double
 * and stored once: the same operations in the same order, fewer stores.
 */
#include "eval.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* Bytecode operations.  ADD..DIV are done inline because they are the bulk
 * of the work and unambiguous in IEEE arithmetic; everything else goes
 * through cascade.c so that all back ends share one definition. */
enum {
	OP_NUM,   /* push num (a literal or a folded parameter) */
	OP_VAR,   /* push the value of variable arg */
	OP_LOAD,  /* push the element of read arg at its tracked offset */
	OP_UNARY, /* top = ein_apply_fn(arg, top) */
	OP_ADD,   /* top2 = top2 op top, pop */
	OP_SUB,
	OP_MUL,
	OP_DIV,
	OP_BINOP, /* top2 = ein_apply_binop(arg, top2, top), pop */
	/* top = top op (element of read arg): LOAD arg followed by ADD..DIV,
	 * fused because dispatch dominates the cost of small bodies. */
	OP_ADD_L,
	OP_SUB_L,
	OP_MUL_L,
	OP_DIV_L
};

typedef struct insn {
	int op;
	int arg;
	double num;
} insn;

typedef struct prog {
	insn *code;
	int n, cap;
	int depth, maxdepth;
} prog;

/* Everything the point loops need for one Einsum. */
typedef struct run {
	/* The right-hand side. */
	const insn *code;
	int ncode;
	double *stack; /* maxdepth values */
	const double **rp; /* [nreads] storage of each read */
	double *out;
	/* Trackers: reads [0, nreads), the output at nreads, filters after. */
	int nreads, nconds, ntrack;
	const bool *ceq;    /* [nconds] filter is  == 0  (else  >= 0) */
	int64_t *cur;       /* [ntrack] values at the current outer point */
	const int64_t *sin; /* [ntrack] strides of the innermost level */
	int64_t nin;        /* extent of the innermost level */
	int invar;          /* variable of the innermost level, or -1 */
	bool need_vals;     /* the code or the bounds checks read vals[] */
	int64_t vals[EIN_MAX_VARS]; /* current variable values */
	/* Combining. */
	ein_binop rop;
	bool direct;       /* combine every point into memory */
	unsigned char *bm; /* [out nelems] written by this Einsum, or NULL */
	bool has;          /* acc holds a pending contribution */
	double acc;
	/* Per-point bounds checks of the accesses the box check left open.
	 * Access a in [0, nreads], dimension d: index = cbase[a][d] +
	 * sum_v ccoef[a][d][v] * vals[v], must lie in [0, csize[a][d]). */
	/* Progress: points done, the next report's threshold. */
	const eval_progress *pr;
	int64_t done, next_report;
	int nunsafe;
	const int *unsafe; /* [nunsafe] access indices */
	const int64_t *cbase, *ccoef, *csize;
	const int *cndims;
	int bad_acc, bad_dim; /* set when a per-point check fails */
	int64_t bad_idx;
} run;

#define CB(a, d) ((size_t)(a) * EIN_MAX_DIMS + (size_t)(d))
#define CC(a, d, v) (CB(a, d) * EIN_MAX_VARS + (size_t)(v))

static void fail(char *msg, size_t msglen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (!msg || msglen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- storage */

eval_tensors *eval_tensors_alloc(const ein_cascade *c, int64_t max_elems,
				 int *err_tensor)
{
	eval_tensors *t;

	if (err_tensor)
		*err_tensor = -1;
	t = calloc(1, sizeof *t);
	if (!t)
		goto fail;
	/* calloc(0) may return NULL, which is no failure here. */
	t->data = calloc(c->ntensors > 0 ? (size_t)c->ntensors : 1,
			 sizeof *t->data);
	if (!t->data)
		goto fail;
	t->n = c->ntensors;
	for (int i = 0; i < c->ntensors; i++) {
		int64_t ne = c->tensors[i].nelems;

		if (ne < 0 || ne > max_elems ||
		    (uint64_t)ne > SIZE_MAX / sizeof(double)) {
			if (err_tensor)
				*err_tensor = i;
			goto fail;
		}
		t->data[i] = calloc(ne > 0 ? (size_t)ne : 1, sizeof(double));
		if (!t->data[i])
			goto fail;
	}
	return t;
fail:
	eval_tensors_free(t);
	return NULL;
}

void eval_tensors_free(eval_tensors *t)
{
	if (!t)
		return;
	if (t->data)
		for (int i = 0; i < t->n; i++)
			free(t->data[i]);
	free(t->data);
	free(t);
}

/* FNV-1a: a stream per name, independent of the tensor's position. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

void eval_fill_random(const ein_cascade *c, eval_tensors *t, uint64_t seed)
{
	for (int i = 0; i < c->ntensors && i < t->n; i++) {
		const ein_tensor *ten = &c->tensors[i];
		rng r;

		if (ten->role != EIN_ROLE_INPUT && ten->role != EIN_ROLE_WEIGHT)
			continue;
		if (!t->data[i])
			continue;
		rng_seed(&r, fnv1a(ten->name) ^ seed);
		/* One draw per element either way: a declared range only maps
		 * [-1, 1) onto [lo, hi). */
		double lo = ten->has_draw ? ten->draw_lo : -1, hi = ten->has_draw ? ten->draw_hi : 1;
		for (int64_t k = 0; k < ten->nelems; k++) {
			double u = (double)rng_sym(&r);
			t->data[i][k] = ten->has_draw ? lo + (hi - lo) * (u + 1) / 2 : u;
		}
	}
}

/* --------------------------------------------------------------- bytecode */

/* Appends one instruction; push is its effect on the stack depth. */
static int emit(prog *p, int op, int arg, double num, int push)
{
	if (p->n == p->cap) {
		int cap = p->cap ? 2 * p->cap : 16;
		insn *code = realloc(p->code, (size_t)cap * sizeof *code);

		if (!code)
			return -1;
		p->code = code;
		p->cap = cap;
	}
	p->code[p->n++] = (insn){ .op = op, .arg = arg, .num = num };
	p->depth += push;
	if (p->depth > p->maxdepth)
		p->maxdepth = p->depth;
	return 0;
}

/* Appends the postfix code of x.  Returns 0, or -1 with msg set. */
static int compile(const ein_cascade *c, const ein_einsum *e,
		   const ein_expr *x, prog *p, char *msg, size_t msglen)
{
	int r;

	if (!x) {
		fail(msg, msglen, "internal error: Einsum '%s': missing "
		     "expression operand", e->name);
		return -1;
	}
	switch (x->kind) {
	case EIN_X_NUM:
		r = emit(p, OP_NUM, 0, x->num, 1);
		break;
	case EIN_X_PARAM:
		if (x->id < 0 || x->id >= c->nparams)
			goto bad;
		r = emit(p, OP_NUM, 0, (double)c->params[x->id].value, 1);
		break;
	case EIN_X_VAR:
		if (x->id < 0 || x->id >= e->nvars)
			goto bad;
		r = emit(p, OP_VAR, x->id, 0, 1);
		break;
	case EIN_X_ACCESS:
		if (x->id < 0 || x->id >= e->nreads)
			goto bad;
		r = emit(p, OP_LOAD, x->id, 0, 1);
		break;
	case EIN_X_UNARY:
		if (x->op < 0 || x->op >= EIN_FN_COUNT)
			goto bad;
		if (compile(c, e, x->a, p, msg, msglen))
			return -1;
		r = emit(p, OP_UNARY, x->op, 0, 0);
		break;
	case EIN_X_BINARY: {
		static const int inl[] = { [EIN_OP_ADD] = OP_ADD,
					   [EIN_OP_SUB] = OP_SUB,
					   [EIN_OP_MUL] = OP_MUL,
					   [EIN_OP_DIV] = OP_DIV };
		int op;

		if (x->op < EIN_OP_ADD || x->op > EIN_OP_MIN)
			goto bad;
		if (compile(c, e, x->a, p, msg, msglen) ||
		    compile(c, e, x->b, p, msg, msglen))
			return -1;
		if (x->op > EIN_OP_DIV) {
			r = emit(p, OP_BINOP, x->op, 0, -1);
		} else if (x->b->kind == EIN_X_ACCESS) {
			/* The right operand is the LOAD just emitted: fuse. */
			op = inl[x->op] - OP_ADD + OP_ADD_L;
			p->code[p->n - 1].op = op;
			p->depth--;
			r = 0;
		} else {
			r = emit(p, inl[x->op], x->op, 0, -1);
		}
		break;
	}
	default:
		goto bad;
	}
	if (r)
		fail(msg, msglen, "internal error: out of memory compiling "
		     "Einsum '%s'", e->name);
	return r;
bad:
	fail(msg, msglen, "internal error: Einsum '%s': malformed expression "
	     "node (kind %d, id %d, op %d)", e->name, (int)x->kind, x->id,
	     x->op);
	return -1;
}

/* ------------------------------------------------------------ point loops */

static inline double combine(ein_binop op, double a, double b)
{
	return op == EIN_OP_ADD ? a + b : ein_apply_binop(op, a, b);
}

/* Runs the bytecode [in, end) at point x of the innermost loop, where
 * tracker a has the value  cur[a] + x * sin[a]  (computed at each use rather
 * than carried in memory from point to point, which would chain every point
 * to the previous one) and the variables have the values vals[]; stack holds
 * the code's maximum depth. */
static inline double exec(const insn *in, const insn *end, double *stack,
			  const double *const *rp, const int64_t *cur,
			  const int64_t *sin, int64_t x, const int64_t *vals)
{
	double *sp = stack;

#define ELEM(a) rp[a][cur[a] + x * sin[a]]
	for (; in < end; in++) {
		switch (in->op) {
		case OP_NUM:
			*sp++ = in->num;
			break;
		case OP_VAR:
			*sp++ = (double)vals[in->arg];
			break;
		case OP_LOAD:
			*sp++ = ELEM(in->arg);
			break;
		case OP_UNARY:
			sp[-1] = ein_apply_fn((ein_fn)in->arg, sp[-1]);
			break;
		case OP_ADD:
			sp--;
			sp[-1] += sp[0];
			break;
		case OP_SUB:
			sp--;
			sp[-1] -= sp[0];
			break;
		case OP_MUL:
			sp--;
			sp[-1] *= sp[0];
			break;
		case OP_DIV:
			sp--;
			sp[-1] /= sp[0];
			break;
		case OP_BINOP:
			sp--;
			sp[-1] = ein_apply_binop((ein_binop)in->arg, sp[-1],
						 sp[0]);
			break;
		case OP_ADD_L:
			sp[-1] += ELEM(in->arg);
			break;
		case OP_SUB_L:
			sp[-1] -= ELEM(in->arg);
			break;
		case OP_MUL_L:
			sp[-1] *= ELEM(in->arg);
			break;
		default: /* OP_DIV_L */
			sp[-1] /= ELEM(in->arg);
			break;
		}
	}
#undef ELEM
	return stack[0];
}

/* Checks the accesses the box check left open at the current point.
 * Returns 0, or -1 with bad_* set. */
static int check_point(run *r)
{
	for (int u = 0; u < r->nunsafe; u++) {
		int a = r->unsafe[u];

		for (int d = 0; d < r->cndims[a]; d++) {
			int64_t ix = r->cbase[CB(a, d)];

			for (int v = 0; v < EIN_MAX_VARS; v++)
				ix += r->ccoef[CC(a, d, v)] * r->vals[v];
			if (ix < 0 || ix >= r->csize[CB(a, d)]) {
				r->bad_acc = a;
				r->bad_dim = d;
				r->bad_idx = ix;
				return -1;
			}
		}
	}
	return 0;
}

/* Stores the pending contribution of the current output element. */
static void flush(run *r)
{
	int64_t off = r->cur[r->nreads];

	if (!r->has)
		return;
	if (r->bm && r->bm[off])
		r->out[off] = combine(r->rop, r->out[off], r->acc);
	else
		r->out[off] = r->acc;
	if (r->bm)
		r->bm[off] = 1;
	r->has = false;
}

/* Runs the innermost loop from the current outer point.  Returns 0, or -1
 * when a per-point bounds check fails.  The fields used at every point are
 * copied to locals: stores through the stack pointer could otherwise alias
 * them and force reloads. */
static int inner(run *r)
{
	const int64_t *cur = r->cur, *sin = r->sin, n = r->nin;
	const int oi = r->nreads, ci = r->nreads + 1, nc = r->nconds;
	const int invar = r->need_vals ? r->invar : -1;
	const insn *code = r->code, *end = r->code + r->ncode;
	const double *const *rp = r->rp;
	double *stack = r->stack, *out = r->out, acc = r->acc;
	const bool direct = r->direct;
	bool has = r->has;
	int ret = 0;

	for (int64_t x = 0; x < n; x++) {
		double v;

		if (invar >= 0)
			r->vals[invar] = x;
		for (int k = 0; k < nc; k++) {
			int64_t cv = cur[ci + k] + x * sin[ci + k];

			if (r->ceq[k] ? cv != 0 : cv < 0)
				goto next;
		}
		if (r->nunsafe && check_point(r)) {
			ret = -1;
			break;
		}
		v = exec(code, end, stack, rp, cur, sin, x, r->vals);
		if (direct) {
			int64_t off = cur[oi] + x * sin[oi];

			if (r->bm) {
				if (r->bm[off])
					v = combine(r->rop, out[off], v);
				r->bm[off] = 1;
			}
			out[off] = v;
		} else {
			acc = has ? combine(r->rop, acc, v) : v;
			has = true;
		}
next:;
	}
	r->acc = acc;
	r->has = has;
	return ret;
}

/* ---------------------------------------------------------------- Einsums */

/* Row-major strides of tensor t into rs[]; checks nelems.  Returns 0/-1. */
static int row_strides(const ein_tensor *t, int64_t *rs)
{
	int64_t n = 1;

	if (t->ndims < 0 || t->ndims > EIN_MAX_DIMS)
		return -1;
	for (int d = t->ndims - 1; d >= 0; d--) {
		if (t->dims[d].size < 0)
			return -1;
		rs[d] = n;
		n *= t->dims[d].size;
	}
	return n == t->nelems ? 0 : -1;
}

/* Is  sum s[i] * x[i]  (0 <= x[i] < n[i])  injective?  A sufficient test:
 * sorted by |s|, every stride exceeds the span of all smaller ones (mixed
 * radix).  Variables of extent 1 do not matter. */
static bool injective(int k, const int64_t *s, const int64_t *n)
{
	int64_t as[EIN_MAX_VARS], an[EIN_MAX_VARS];
	int m = 0;
	int64_t span = 0;

	for (int i = 0; i < k; i++) {
		if (n[i] <= 1)
			continue;
		as[m] = s[i] < 0 ? -s[i] : s[i];
		an[m++] = n[i];
	}
	for (int i = 1; i < m; i++) /* insertion sort: m <= 16 */
		for (int j = i; j > 0 && as[j] < as[j - 1]; j--) {
			int64_t ts = as[j], tn = an[j];

			as[j] = as[j - 1];
			an[j] = an[j - 1];
			as[j - 1] = ts;
			an[j - 1] = tn;
		}
	for (int i = 0; i < m; i++) {
		if (as[i] <= span)
			return false;
		span += as[i] * (an[i] - 1);
	}
	return true;
}

static const char *tensor_name(const ein_cascade *c, const ein_access *a)
{
	return c->tensors[a->tensor].name;
}

/* How one Einsum runs: its accesses and filters as trackers (a base value
 * and a stride per loop level), its loop levels, and the block of
 * innermost levels whose points accumulate together. */
typedef struct eplan {
	const ein_einsum *e;
	int nr, nacc;
	const ein_access **acc; /* [nacc] the reads, then the output */
	int order[EIN_MAX_VARS + 1]; /* variable of each level, or -1 */
	int64_t size[EIN_MAX_VARS + 1];
	int nlev, nb;
	int64_t *base, *stride; /* per tracker; stride per level too */
	int64_t *cbase, *csize, *ccoef; /* per access and dimension (run) */
	int *cndims, *unsafe;
	bool *ceq;
} eplan;

static void eplan_free(eplan *pl)
{
	free(pl->acc);
	free(pl->base);
	free(pl->stride);
	free(pl->cbase);
	free(pl->csize);
	free(pl->ccoef);
	free(pl->cndims);
	free(pl->unsafe);
	free(pl->ceq);
}

/* Checks what the checker guarantees (a violation is a bug to report, not
 * a reason to read wild memory) and allocates the plan and r's arrays.
 * Returns 0 or -1 with msg set. */
static int eplan_init(eplan *pl, run *r, const ein_cascade *c, const ein_einsum *e,
		      const eval_tensors *t, char *msg, size_t msglen)
{
	pl->e = e;
	if (e->nvars < 0 || e->nvars > EIN_MAX_VARS || e->nreads < 0 ||
	    e->nconds < 0 || (e->nreads && !e->reads) ||
	    (e->nconds && !e->conds) || e->gen_var < -1 ||
	    e->gen_var >= e->nvars) {
		fail(msg, msglen, "internal error: Einsum '%s' is malformed",
		     e->name);
		return -1;
	}
	const int nacc = pl->nacc = e->nreads + 1;
	pl->nr = e->nreads;
	pl->acc = malloc((size_t)nacc * sizeof *pl->acc);
	pl->base = calloc((size_t)nacc + (size_t)e->nconds, sizeof *pl->base);
	pl->stride = calloc(((size_t)nacc + (size_t)e->nconds) *
				    (EIN_MAX_VARS + 1), sizeof *pl->stride);
	pl->cbase = calloc((size_t)nacc * EIN_MAX_DIMS, sizeof *pl->cbase);
	pl->csize = calloc((size_t)nacc * EIN_MAX_DIMS, sizeof *pl->csize);
	pl->ccoef = calloc((size_t)nacc * EIN_MAX_DIMS * EIN_MAX_VARS,
			   sizeof *pl->ccoef);
	pl->cndims = calloc((size_t)nacc, sizeof *pl->cndims);
	pl->unsafe = calloc((size_t)nacc, sizeof *pl->unsafe);
	pl->ceq = calloc((size_t)e->nconds + 1, sizeof *pl->ceq);
	r->cur = calloc((size_t)nacc + (size_t)e->nconds, sizeof *r->cur);
	r->rp = calloc((size_t)nacc, sizeof *r->rp);
	if (!pl->acc || !pl->base || !pl->stride || !pl->cbase || !pl->csize ||
	    !pl->ccoef || !pl->cndims || !pl->unsafe || !pl->ceq || !r->cur ||
	    !r->rp) {
		fail(msg, msglen, "internal error: out of memory running "
		     "Einsum '%s'", e->name);
		return -1;
	}
	for (int a = 0; a < nacc; a++) {
		const ein_access *x = a < pl->nr ? &e->reads[a] : &e->out;

		if (x->tensor < 0 || x->tensor >= c->ntensors ||
		    x->tensor >= t->n || !t->data[x->tensor] ||
		    x->nidx != c->tensors[x->tensor].ndims) {
			fail(msg, msglen, "internal error: Einsum '%s': "
			     "malformed access %d", e->name, a);
			return -1;
		}
		pl->acc[a] = x;
	}
	return 0;
}

/* Loop levels: generational variable, output variables, reduced.  Returns
 * 1 when the iteration space is empty (nothing to write), else 0. */
static int eplan_levels(eplan *pl)
{
	const ein_einsum *e = pl->e;

	if (e->gen_var >= 0)
		pl->order[pl->nlev++] = e->gen_var;
	for (int pass = 0; pass < 2; pass++)
		for (int v = 0; v < e->nvars; v++)
			if (v != e->gen_var && e->vars[v].reduced == pass)
				pl->order[pl->nlev++] = v;
	for (int l = 0; l < pl->nlev; l++) {
		pl->size[l] = e->vars[pl->order[l]].size;
		if (pl->size[l] <= 0)
			return 1;
	}
	if (pl->nlev == 0) { /* no variables: one point, a level of extent 1 */
		pl->order[0] = -1;
		pl->size[0] = 1;
		pl->nlev = 1;
	}
	return 0;
}

/* The trackers of the accesses and filters, and the box bounds check of
 * every access (those it cannot prove in bounds are checked per point).
 * Returns 0 or -1 with msg set. */
static int eplan_trackers(eplan *pl, run *r, const ein_cascade *c, char *msg,
			  size_t msglen)
{
	const ein_einsum *e = pl->e;
	const int64_t zeros[EIN_MAX_VARS] = { 0 };

	r->ntrack = pl->nacc + e->nconds;
	for (int a = 0; a < pl->nacc; a++) {
		const ein_tensor *ten = &c->tensors[pl->acc[a]->tensor];
		int64_t rs[EIN_MAX_DIMS];
		bool safe = true;

		if (row_strides(ten, rs)) {
			fail(msg, msglen, "internal error: tensor '%s' has "
			     "inconsistent dimensions", ten->name);
			return -1;
		}
		pl->cndims[a] = ten->ndims;
		for (int d = 0; d < ten->ndims; d++) {
			const ein_aff *f = &pl->acc[a]->idx[d];
			int64_t k0 = ein_aff_eval(c, f, zeros), lo = k0, hi = k0;

			pl->cbase[CB(a, d)] = k0;
			pl->csize[CB(a, d)] = ten->dims[d].size;
			pl->base[a] += k0 * rs[d];
			for (int v = 0; v < e->nvars; v++)
				pl->ccoef[CC(a, d, v)] = f->vc[v];
			for (int l = 0; l < pl->nlev; l++) {
				int64_t k;

				if (pl->order[l] < 0)
					continue;
				k = f->vc[pl->order[l]];
				pl->stride[(size_t)l * r->ntrack + a] += k * rs[d];
				if (k > 0)
					hi += k * (pl->size[l] - 1);
				else
					lo += k * (pl->size[l] - 1);
			}
			if (lo < 0 || hi >= ten->dims[d].size)
				safe = false;
		}
		if (!safe)
			pl->unsafe[r->nunsafe++] = a;
	}
	for (int k = 0; k < e->nconds; k++) {
		const ein_cond *f = &e->conds[k];

		pl->base[pl->nacc + k] = ein_aff_eval(c, &f->aff, zeros);
		pl->ceq[k] = f->eq;
		for (int l = 0; l < pl->nlev; l++)
			if (pl->order[l] >= 0)
				pl->stride[(size_t)l * r->ntrack + pl->nacc + k] =
					f->aff.vc[pl->order[l]];
	}
	return 0;
}

/* The block: the innermost levels that do not move the output element
 * (the reduced variables); its points accumulate together.  Decides
 * direct mode and the written map (r->bm).  Returns 0 or -1. */
static int eplan_block(eplan *pl, run *r, const ein_cascade *c, char *msg,
		       size_t msglen)
{
	const ein_einsum *e = pl->e;
	int nb = pl->nlev;
	bool self_read = false, need_bm;

	for (int a = 0; a < pl->nr; a++)
		if (pl->acc[a]->tensor == e->out.tensor)
			self_read = true;
	while (nb > 0) {
		bool moves = false;

		for (int d = 0; d < e->out.nidx && pl->order[nb - 1] >= 0; d++)
			moves |= e->out.idx[d].vc[pl->order[nb - 1]] != 0;
		if (moves)
			break;
		nb--;
	}
	pl->nb = nb;
	/* Direct mode when there is nothing to accumulate, or when the
	 * Einsum reads its own output and must see every store at once. */
	r->direct = self_read || nb == pl->nlev;
	/* Without the written map, the first contribution to an element
	 * would have to be told apart by other means; it is needed when an
	 * element can be reached from two outer points, or, in direct mode,
	 * from two points of one block. */
	{
		int64_t os[EIN_MAX_VARS + 1];

		for (int l = 0; l < nb; l++)
			os[l] = pl->stride[(size_t)l * r->ntrack + pl->nr];
		need_bm = !injective(nb, os, pl->size) ||
			  (r->direct && nb < pl->nlev);
	}
	/* reduce_op matters only where two contributions can meet. */
	{
		bool meet = need_bm;

		for (int l = nb; l < pl->nlev; l++)
			meet |= !r->direct && pl->size[l] > 1;
		if (meet && e->reduce_op != EIN_OP_ADD &&
		    e->reduce_op != EIN_OP_MAX && e->reduce_op != EIN_OP_MIN) {
			fail(msg, msglen, "internal error: Einsum '%s' has "
			     "reduction operator %d", e->name, (int)e->reduce_op);
			return -1;
		}
	}
	if (need_bm) {
		int64_t ne = c->tensors[e->out.tensor].nelems;

		r->bm = calloc(ne > 0 ? (size_t)ne : 1, 1);
		if (!r->bm) {
			fail(msg, msglen, "internal error: out of memory "
			     "running Einsum '%s'", e->name);
			return -1;
		}
	}
	return 0;
}

/* Fills the rest of r: the right-hand side's code p, storage, the
 * innermost level, the per-point checks. */
static void eplan_bind(const eplan *pl, run *r, const prog *p, const eval_tensors *t)
{
	const ein_einsum *e = pl->e;
	const int nlev = pl->nlev;

	r->code = p->code;
	r->ncode = p->n;
	for (int a = 0; a < pl->nr; a++)
		r->rp[a] = t->data[pl->acc[a]->tensor];
	r->out = t->data[e->out.tensor];
	r->nreads = pl->nr;
	r->nconds = e->nconds;
	r->ceq = pl->ceq;
	r->sin = &pl->stride[(size_t)(nlev - 1) * r->ntrack];
	r->nin = pl->size[nlev - 1];
	r->invar = pl->order[nlev - 1];
	r->need_vals = r->nunsafe > 0;
	for (int k = 0; k < p->n; k++)
		r->need_vals |= p->code[k].op == OP_VAR;
	r->rop = e->reduce_op;
	r->unsafe = pl->unsafe;
	r->cbase = pl->cbase;
	r->ccoef = pl->ccoef;
	r->csize = pl->csize;
	r->cndims = pl->cndims;
	memcpy(r->cur, pl->base, (size_t)r->ntrack * sizeof *r->cur);
}

/* The odometer over the outer levels; inner() does the last one.
 * Returns 0 or -1 with msg set. */
static int run_levels(const eplan *pl, run *r, const ein_cascade *c, char *msg,
		      size_t msglen)
{
	const ein_einsum *e = pl->e;
	int64_t idx[EIN_MAX_VARS + 1] = { 0 };

	for (;;) {
		int l;

		if (inner(r)) {
			const ein_access *x = pl->acc[r->bad_acc];

			fail(msg, msglen, "internal error: Einsum '%s' %s "
			     "tensor '%s' out of bounds (dimension %d, index "
			     "%lld, size %lld)", e->name,
			     r->bad_acc == pl->nr ? "writes" : "reads",
			     tensor_name(c, x), r->bad_dim,
			     (long long)r->bad_idx,
			     (long long)r->csize[CB(r->bad_acc, r->bad_dim)]);
			return -1;
		}
		if (r->pr) {
			r->done += r->nin;
			if (r->done >= r->next_report) {
				r->pr->fn(r->pr->ctx, (double)r->done);
				r->next_report = r->done + ((int64_t)1 << 22);
			}
		}
		for (l = pl->nlev - 2; l >= 0; l--) {
			const int64_t *s = &pl->stride[(size_t)l * r->ntrack];

			if (!r->direct && l < pl->nb)
				flush(r); /* leaving the element */
			idx[l]++;
			r->vals[pl->order[l]] = idx[l];
			if (idx[l] < pl->size[l]) {
				for (int a = 0; a < r->ntrack; a++)
					r->cur[a] += s[a];
				break;
			}
			for (int a = 0; a < r->ntrack; a++)
				r->cur[a] -= s[a] * (pl->size[l] - 1);
			idx[l] = 0;
			r->vals[pl->order[l]] = 0;
		}
		if (l < 0)
			break;
	}
	if (!r->direct)
		flush(r);
	return 0;
}

/* Runs Einsum ei.  Returns 0, or -1 with msg set. */
static int run_einsum(const ein_cascade *c, int ei, eval_tensors *t,
		      const eval_progress *pr, char *msg, size_t msglen)
{
	const ein_einsum *e = &c->einsums[ei];
	eplan pl = { 0 };
	prog p = { 0 };
	run r = { 0 };
	int ret = -1, empty;

	r.pr = pr && pr->fn ? pr : NULL;
	r.next_report = (int64_t)1 << 22;
	if (eplan_init(&pl, &r, c, e, t, msg, msglen))
		goto out;
	empty = eplan_levels(&pl);
	if (empty) { /* an empty iteration space writes nothing */
		ret = 0;
		goto out;
	}
	if (eplan_trackers(&pl, &r, c, msg, msglen) ||
	    eplan_block(&pl, &r, c, msg, msglen))
		goto out;
	/* The right-hand side. */
	if (compile(c, e, e->rhs, &p, msg, msglen))
		goto out;
	r.stack = malloc((size_t)(p.maxdepth > 0 ? p.maxdepth : 1) *
			 sizeof *r.stack);
	if (!r.stack) {
		fail(msg, msglen, "internal error: out of memory running "
		     "Einsum '%s'", e->name);
		goto out;
	}
	eplan_bind(&pl, &r, &p, t);
	ret = run_levels(&pl, &r, c, msg, msglen);
out:
	free(p.code);
	free(r.stack);
	free(r.bm);
	free(r.cur);
	free(r.rp);
	eplan_free(&pl);
	return ret;
}

int eval_run_einsum(const ein_cascade *c, int e, eval_tensors *t, const eval_progress *pr,
		    char *msg, size_t msglen)
{
	if (msg && msglen)
		msg[0] = '\0';
	if (!t || t->n != c->ntensors || e < 0 || e >= c->neinsums) {
		fail(msg, msglen, "internal error: storage does not match "
		     "the cascade");
		return -1;
	}
	return run_einsum(c, e, t, pr, msg, msglen);
}

int eval_run(const ein_cascade *c, eval_tensors *t, char *msg, size_t msglen)
{
	if (msg && msglen)
		msg[0] = '\0';
	for (int i = 0; i < c->neinsums; i++)
		if (eval_run_einsum(c, i, t, NULL, msg, msglen))
			return -1;
	if (!c->neinsums && (!t || t->n != c->ntensors)) {
		fail(msg, msglen, "internal error: storage does not match "
		     "the cascade");
		return -1;
	}
	return 0;
}
