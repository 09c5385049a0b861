/* test_eval.c - unit tests of the reference evaluator (compiler/eval/eval.c).
 *
 * Each test builds a small checked cascade by hand, owned the way cascade.h
 * says (so ein_cascade_free releases it), runs it, and compares with values
 * computed directly in the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "front/cascade.h"

#define EPS 1e-12

/* cmocka 1.1 has no double comparison (assert_float_equal casts to float). */
#define assert_near(got, want, eps) \
	check_near((got), (want), (eps), #got, __FILE__, __LINE__)

static void check_near(double got, double want, double eps, const char *what,
		       const char *file, int line)
{
	if (!(fabs(got - want) <= eps)) {
		print_error("%s:%d: %s = %.17g, want %.17g (eps %g)\n", file,
			    line, what, got, want, eps);
		fail();
	}
}

/* ------------------------------------------------------------- builders */

static void *xcalloc(size_t n, size_t s)
{
	void *p = calloc(n ? n : 1, s);

	assert_non_null(p);
	return p;
}

/* strdup is POSIX, not C11; ein_cascade_free frees with free(). */
static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	assert_non_null(p);
	return memcpy(p, s, n);
}

static ein_cascade *cnew(void)
{
	ein_cascade *c = xcalloc(1, sizeof *c);

	c->file = xstrdup("test.ein");
	return c;
}

static int add_param(ein_cascade *c, const char *name, int64_t value)
{
	ein_param *p = &c->params[c->nparams];

	p->name = xstrdup(name);
	p->value = value;
	return c->nparams++;
}

/* A tensor of ndims dimensions with the given sizes (ndims may be 0). */
static int add_tensor(ein_cascade *c, const char *name, ein_role role,
		      int ndims, const int64_t *sizes)
{
	ein_tensor *t;

	c->tensors = realloc(c->tensors,
			     (size_t)(c->ntensors + 1) * sizeof *c->tensors);
	assert_non_null(c->tensors);
	t = &c->tensors[c->ntensors];
	memset(t, 0, sizeof *t);
	t->name = xstrdup(name);
	t->role = role;
	t->type = EIN_TY_F32;
	t->declared = true;
	t->ndims = ndims;
	t->nelems = 1;
	for (int d = 0; d < ndims; d++) {
		char rank[16];

		snprintf(rank, sizeof rank, "%s%d", name, d);
		t->dims[d].rank = xstrdup(rank);
		t->dims[d].extent.c = sizes[d];
		t->dims[d].size = sizes[d];
		t->nelems *= sizes[d];
	}
	return c->ntensors++;
}

#define T1(c, n, r, a) add_tensor(c, n, r, 1, (int64_t[]){ a })
#define T2(c, n, r, a, b) add_tensor(c, n, r, 2, (int64_t[]){ a, b })

/* The returned pointer is valid until the next add_einsum. */
static ein_einsum *add_einsum(ein_cascade *c, const char *name)
{
	ein_einsum *e;

	c->einsums = realloc(c->einsums,
			     (size_t)(c->neinsums + 1) * sizeof *c->einsums);
	assert_non_null(c->einsums);
	e = &c->einsums[c->neinsums];
	memset(e, 0, sizeof *e);
	e->index = c->neinsums++;
	e->name = xstrdup(name);
	e->gen_var = -1;
	e->reduce_op = EIN_OP_ADD;
	e->map_op = EIN_OP_MUL;
	return e;
}

static int add_var(ein_einsum *e, const char *name, int64_t size,
		   bool reduced)
{
	ein_var *v = &e->vars[e->nvars];

	v->name = xstrdup(name);
	v->extent.c = size;
	v->size = size;
	v->reduced = reduced;
	return e->nvars++;
}

/* Affine forms: k, v + k, v1 + v2 + k. */
static ein_aff ak(int64_t k)
{
	ein_aff a;

	memset(&a, 0, sizeof a);
	a.c = k;
	return a;
}

static ein_aff av(int v, int64_t k)
{
	ein_aff a = ak(k);

	a.vc[v] = 1;
	return a;
}

static ein_aff av2(int v1, int v2, int64_t k)
{
	ein_aff a = av(v1, k);

	a.vc[v2] += 1;
	return a;
}

static void set_access(const ein_cascade *c, ein_access *x, int tensor,
		       const ein_aff *idx)
{
	x->tensor = tensor;
	x->nidx = c->tensors[tensor].ndims;
	for (int d = 0; d < x->nidx; d++)
		x->idx[d] = idx[d];
}

static void set_out(const ein_cascade *c, ein_einsum *e, int tensor,
		    const ein_aff *idx)
{
	set_access(c, &e->out, tensor, idx);
}

/* Returns the read's index, for xread. */
static int add_read(const ein_cascade *c, ein_einsum *e, int tensor,
		    const ein_aff *idx)
{
	e->reads = realloc(e->reads, (size_t)(e->nreads + 1) * sizeof *e->reads);
	assert_non_null(e->reads);
	memset(&e->reads[e->nreads], 0, sizeof *e->reads);
	set_access(c, &e->reads[e->nreads], tensor, idx);
	return e->nreads++;
}

static void add_cond(ein_einsum *e, ein_aff aff, bool eq)
{
	e->conds = realloc(e->conds, (size_t)(e->nconds + 1) * sizeof *e->conds);
	assert_non_null(e->conds);
	memset(&e->conds[e->nconds], 0, sizeof *e->conds);
	e->conds[e->nconds].aff = aff;
	e->conds[e->nconds].eq = eq;
	e->nconds++;
}

#define IDX(...) ((const ein_aff[]){ __VA_ARGS__ })
#define NOIDX ((const ein_aff *)NULL)

static ein_expr *xnew(ein_xkind kind)
{
	ein_expr *x = xcalloc(1, sizeof *x);

	x->kind = kind;
	return x;
}

static ein_expr *xnum(double v)
{
	ein_expr *x = xnew(EIN_X_NUM);

	x->num = v;
	return x;
}

static ein_expr *xid(ein_xkind kind, int id)
{
	ein_expr *x = xnew(kind);

	x->id = id;
	return x;
}

#define xparam(id) xid(EIN_X_PARAM, id)
#define xvar(id) xid(EIN_X_VAR, id)
#define xread(id) xid(EIN_X_ACCESS, id)

static ein_expr *xun(ein_fn f, ein_expr *a)
{
	ein_expr *x = xnew(EIN_X_UNARY);

	x->op = f;
	x->a = a;
	return x;
}

static ein_expr *xbin(ein_binop op, ein_expr *a, ein_expr *b)
{
	ein_expr *x = xnew(EIN_X_BINARY);

	x->op = op;
	x->a = a;
	x->b = b;
	return x;
}

/* Fills writers/readers, as the checker does. */
static void finish(ein_cascade *c)
{
	for (int t = 0; t < c->ntensors; t++) {
		ein_tensor *ten = &c->tensors[t];

		ten->writers = xcalloc((size_t)c->neinsums, sizeof(int));
		ten->readers = xcalloc((size_t)c->neinsums, sizeof(int));
		for (int i = 0; i < c->neinsums; i++) {
			const ein_einsum *e = &c->einsums[i];
			bool reads = false;

			if (e->out.tensor == t)
				ten->writers[ten->nwriters++] = i;
			for (int r = 0; r < e->nreads; r++)
				reads |= e->reads[r].tensor == t;
			if (reads)
				ten->readers[ten->nreaders++] = i;
		}
	}
}

static eval_tensors *alloc_ok(const ein_cascade *c)
{
	int bad = 99;
	eval_tensors *t = eval_tensors_alloc(c, INT64_C(1) << 20, &bad);

	assert_non_null(t);
	assert_int_equal(t->n, c->ntensors);
	return t;
}

static void run_ok(const ein_cascade *c, eval_tensors *t)
{
	char msg[256] = "";
	int r = eval_run(c, t, msg, sizeof msg);

	if (r)
		print_error("eval_run: %s\n", msg);
	assert_int_equal(r, 0);
	assert_string_equal(msg, "");
}

/* A deterministic, irregular fill with values of both signs. */
static void fill(double *d, int64_t n, int salt)
{
	for (int64_t i = 0; i < n; i++)
		d[i] = (double)(((i + 1) * (7 + salt) + 3 * salt) % 23 - 11) /
		       8.0;
}

/* ---------------------------------------------------------------- tests */

static void test_matmul(void **state)
{
	enum { I = 3, J = 4, K = 5 };
	ein_cascade *c = cnew();
	int A = T2(c, "A", EIN_ROLE_INPUT, I, K);
	int B = T2(c, "B", EIN_ROLE_WEIGHT, K, J);
	int C = T2(c, "C", EIN_ROLE_OUTPUT, I, J);
	ein_einsum *e = add_einsum(c, "C");
	int i = add_var(e, "i", I, false), j = add_var(e, "j", J, false);
	int k = add_var(e, "k", K, true);
	eval_tensors *t;

	(void)state;
	set_out(c, e, C, IDX(av(i, 0), av(j, 0)));
	e->rhs = xbin(EIN_OP_MUL,
		      xread(add_read(c, e, A, IDX(av(i, 0), av(k, 0)))),
		      xread(add_read(c, e, B, IDX(av(k, 0), av(j, 0)))));
	finish(c);
	t = alloc_ok(c);
	fill(t->data[A], I * K, 1);
	fill(t->data[B], K * J, 2);
	run_ok(c, t);
	for (int x = 0; x < I; x++)
		for (int y = 0; y < J; y++) {
			double s = 0;

			for (int z = 0; z < K; z++)
				s += t->data[A][x * K + z] * t->data[B][z * J + y];
			assert_near(t->data[C][x * J + y], s, EPS);
		}
	eval_tensors_free(t);
	ein_cascade_free(c);
}

static void test_elementwise_chain(void **state)
{
	enum { N = 6 };
	ein_cascade *c = cnew();
	int X = T1(c, "X", EIN_ROLE_INPUT, N);
	int Tt = T1(c, "T", EIN_ROLE_TEMP, N);
	int Y = T1(c, "Y", EIN_ROLE_OUTPUT, N);
	ein_einsum *e;
	eval_tensors *t;
	int i;

	(void)state;
	/* T_i = exp(X_i) + 1 */
	e = add_einsum(c, "T");
	i = add_var(e, "i", N, false);
	set_out(c, e, Tt, IDX(av(i, 0)));
	e->rhs = xbin(EIN_OP_ADD,
		      xun(EIN_FN_EXP, xread(add_read(c, e, X, IDX(av(i, 0))))),
		      xnum(1));
	/* Y_i = silu(T_i) * X_i - max(X_i, 0.25) / 2 */
	e = add_einsum(c, "Y");
	i = add_var(e, "i", N, false);
	set_out(c, e, Y, IDX(av(i, 0)));
	{
		int rt = add_read(c, e, Tt, IDX(av(i, 0)));
		int rx = add_read(c, e, X, IDX(av(i, 0)));

		e->rhs = xbin(EIN_OP_SUB,
			      xbin(EIN_OP_MUL, xun(EIN_FN_SILU, xread(rt)),
				   xread(rx)),
			      xbin(EIN_OP_DIV,
				   xbin(EIN_OP_MAX, xread(rx), xnum(0.25)),
				   xnum(2)));
	}
	finish(c);
	t = alloc_ok(c);
	fill(t->data[X], N, 3);
	run_ok(c, t);
	for (int n = 0; n < N; n++) {
		double x = t->data[X][n], tv = exp(x) + 1;
		double silu = tv / (1 + exp(-tv));

		assert_near(t->data[Tt][n], tv, EPS);
		assert_near(t->data[Y][n],
				    silu * x - (x > 0.25 ? x : 0.25) / 2, EPS);
	}
	eval_tensors_free(t);
	ein_cascade_free(c);
}

/* M = max_j X, E = exp(X - M), S = sum_j E, P = E / S; then a MIN. */
static void test_softmax_max_min(void **state)
{
	enum { I = 2, J = 5 };
	ein_cascade *c = cnew();
	int X = T2(c, "X", EIN_ROLE_INPUT, I, J);
	int M = T1(c, "M", EIN_ROLE_TEMP, I);
	int E = T2(c, "E", EIN_ROLE_TEMP, I, J);
	int S = T1(c, "S", EIN_ROLE_TEMP, I);
	int P = T2(c, "P", EIN_ROLE_OUTPUT, I, J);
	int N = T1(c, "N", EIN_ROLE_OUTPUT, I);
	ein_einsum *e;
	eval_tensors *t;
	int i, j;

	(void)state;
	e = add_einsum(c, "M");
	i = add_var(e, "i", I, false);
	j = add_var(e, "j", J, true);
	e->reduce_op = EIN_OP_MAX;
	set_out(c, e, M, IDX(av(i, 0)));
	e->rhs = xread(add_read(c, e, X, IDX(av(i, 0), av(j, 0))));

	e = add_einsum(c, "E");
	i = add_var(e, "i", I, false);
	j = add_var(e, "j", J, false);
	set_out(c, e, E, IDX(av(i, 0), av(j, 0)));
	e->rhs = xun(EIN_FN_EXP,
		     xbin(EIN_OP_SUB,
			  xread(add_read(c, e, X, IDX(av(i, 0), av(j, 0)))),
			  xread(add_read(c, e, M, IDX(av(i, 0))))));

	e = add_einsum(c, "S");
	i = add_var(e, "i", I, false);
	j = add_var(e, "j", J, true);
	set_out(c, e, S, IDX(av(i, 0)));
	e->rhs = xread(add_read(c, e, E, IDX(av(i, 0), av(j, 0))));

	e = add_einsum(c, "P");
	i = add_var(e, "i", I, false);
	j = add_var(e, "j", J, false);
	set_out(c, e, P, IDX(av(i, 0), av(j, 0)));
	e->rhs = xbin(EIN_OP_DIV,
		      xread(add_read(c, e, E, IDX(av(i, 0), av(j, 0)))),
		      xread(add_read(c, e, S, IDX(av(i, 0)))));

	/* N_i = min_j (X_ij + 10): all positive, so a zero start would show */
	e = add_einsum(c, "N");
	i = add_var(e, "i", I, false);
	j = add_var(e, "j", J, true);
	e->reduce_op = EIN_OP_MIN;
	set_out(c, e, N, IDX(av(i, 0)));
	e->rhs = xbin(EIN_OP_ADD,
		      xread(add_read(c, e, X, IDX(av(i, 0), av(j, 0)))),
		      xnum(10));
	finish(c);

	t = alloc_ok(c);
	/* All negative, so a max started from 0 would show. */
	{
		static const double x[I * J] = { -3, -1.5, -2, -7, -1.75,
						 -0.5, -4, -0.25, -9, -1 };
		memcpy(t->data[X], x, sizeof x);
	}
	run_ok(c, t);
	assert_near(t->data[M][0], -1.5, 0);
	assert_near(t->data[M][1], -0.25, 0);
	assert_near(t->data[N][0], 3, 0);
	assert_near(t->data[N][1], 1, 0);
	for (int a = 0; a < I; a++) {
		double s = 0, sp = 0;

		for (int b = 0; b < J; b++)
			s += exp(t->data[X][a * J + b] - t->data[M][a]);
		for (int b = 0; b < J; b++) {
			double p = t->data[P][a * J + b];

			assert_near(
				p, exp(t->data[X][a * J + b] - t->data[M][a]) / s,
				EPS);
			sp += p;
		}
		assert_near(sp, 1, 1e-12);
	}
	eval_tensors_free(t);
	ein_cascade_free(c);
}

static void test_filter(void **state)
{
	enum { I = 3, J = 4 };
	ein_cascade *c = cnew();
	int X = T2(c, "X", EIN_ROLE_INPUT, I, J);
	int Y = T1(c, "Y", EIN_ROLE_OUTPUT, I);
	int Z = T1(c, "Z", EIN_ROLE_OUTPUT, I);
	int W = T1(c, "W", EIN_ROLE_OUTPUT, I);
	ein_einsum *e;
	eval_tensors *t;
	int i, j;

	(void)state;
	/* Y_i = sum_j X_ij  :: j < 2, i.e. 1 - j >= 0 */
	e = add_einsum(c, "Y");
	i = add_var(e, "i", I, false);
	j = add_var(e, "j", J, true);
	set_out(c, e, Y, IDX(av(i, 0)));
	e->rhs = xread(add_read(c, e, X, IDX(av(i, 0), av(j, 0))));
	{
		ein_aff f = ak(1);

		f.vc[j] = -1;
		add_cond(e, f, false);
	}
	/* Z_i = X_i0  :: i == 1: the other elements keep their values */
	e = add_einsum(c, "Z");
	i = add_var(e, "i", I, false);
	set_out(c, e, Z, IDX(av(i, 0)));
	e->rhs = xread(add_read(c, e, X, IDX(av(i, 0), ak(0))));
	add_cond(e, av(i, -1), true);
	/* W_i = max_j X_ij  :: j < i: W_0 has no point and keeps its value */
	e = add_einsum(c, "W");
	i = add_var(e, "i", I, false);
	j = add_var(e, "j", J, true);
	e->reduce_op = EIN_OP_MAX;
	set_out(c, e, W, IDX(av(i, 0)));
	e->rhs = xread(add_read(c, e, X, IDX(av(i, 0), av(j, 0))));
	{
		ein_aff f = av(i, -1);

		f.vc[j] = -1;
		add_cond(e, f, false);
	}
	finish(c);

	t = alloc_ok(c);
	fill(t->data[X], I * J, 4);
	for (int n = 0; n < I; n++)
		t->data[Z][n] = t->data[W][n] = 7;
	run_ok(c, t);
	for (int n = 0; n < I; n++) {
		const double *x = &t->data[X][n * J];
		double m = x[0];

		assert_near(t->data[Y][n], x[0] + x[1], EPS);
		assert_near(t->data[Z][n], n == 1 ? x[0] : 7, 0);
		for (int b = 1; b < n; b++)
			m = x[b] > m ? x[b] : m;
		assert_near(t->data[W][n], n == 0 ? 7 : m, 0);
	}
	eval_tensors_free(t);
	ein_cascade_free(c);
}

/* X_{i+3} = Y_i: X_0..X_2 are not written. */
static void test_lhs_offset(void **state)
{
	ein_cascade *c = cnew();
	int X = T1(c, "X", EIN_ROLE_OUTPUT, 8);
	int Y = T1(c, "Y", EIN_ROLE_INPUT, 5);
	ein_einsum *e = add_einsum(c, "X");
	int i = add_var(e, "i", 5, false);
	eval_tensors *t;

	(void)state;
	set_out(c, e, X, IDX(av(i, 3)));
	e->rhs = xread(add_read(c, e, Y, IDX(av(i, 0))));
	finish(c);
	t = alloc_ok(c);
	fill(t->data[Y], 5, 5);
	for (int n = 0; n < 8; n++)
		t->data[X][n] = -99;
	run_ok(c, t);
	for (int n = 0; n < 8; n++)
		assert_near(t->data[X][n],
				    n < 3 ? -99 : t->data[Y][n - 3], 0);
	eval_tensors_free(t);
	ein_cascade_free(c);
}

/* H_0 = H0;  H_{i+1} = a * H_i + x_i  (i generational). */
static void test_generational(void **state)
{
	enum { N = 5 };
	ein_cascade *c = cnew();
	int H0 = add_tensor(c, "H0", EIN_ROLE_INPUT, 0, NULL);
	int A = add_tensor(c, "a", EIN_ROLE_WEIGHT, 0, NULL);
	int X = T1(c, "x", EIN_ROLE_INPUT, N);
	int H = T1(c, "H", EIN_ROLE_OUTPUT, N + 1);
	ein_einsum *e;
	eval_tensors *t;
	double h;
	int i;

	(void)state;
	e = add_einsum(c, "init");
	set_out(c, e, H, IDX(ak(0)));
	e->rhs = xread(add_read(c, e, H0, NOIDX));

	e = add_einsum(c, "step");
	i = add_var(e, "i", N, false);
	e->vars[i].generational = true;
	e->gen_var = i;
	set_out(c, e, H, IDX(av(i, 1)));
	e->rhs = xbin(EIN_OP_ADD,
		      xbin(EIN_OP_MUL, xread(add_read(c, e, A, NOIDX)),
			   xread(add_read(c, e, H, IDX(av(i, 0))))),
		      xread(add_read(c, e, X, IDX(av(i, 0)))));
	finish(c);

	t = alloc_ok(c);
	t->data[H0][0] = 0.75;
	t->data[A][0] = -0.5;
	fill(t->data[X], N, 6);
	run_ok(c, t);
	h = 0.75;
	assert_near(t->data[H][0], h, 0);
	for (int n = 0; n < N; n++) {
		h = -0.5 * h + t->data[X][n];
		assert_near(t->data[H][n + 1], h, EPS);
	}
	eval_tensors_free(t);
	ein_cascade_free(c);
}

/* H_{t+1,n} = sum_m H_{t,m} W_{m,n}, with t generational but listed after n:
 * t must still be the outermost loop. */
static void test_generational_order(void **state)
{
	enum { T = 4, N = 3 };
	ein_cascade *c = cnew();
	int W = T2(c, "W", EIN_ROLE_WEIGHT, N, N);
	int H = T2(c, "H", EIN_ROLE_OUTPUT, T + 1, N);
	ein_einsum *e = add_einsum(c, "H");
	int n = add_var(e, "n", N, false), tv = add_var(e, "t", T, false);
	int m = add_var(e, "m", N, true);
	eval_tensors *t;
	double h[N], g[N];

	(void)state;
	e->vars[tv].generational = true;
	e->gen_var = tv;
	set_out(c, e, H, IDX(av(tv, 1), av(n, 0)));
	e->rhs = xbin(EIN_OP_MUL,
		      xread(add_read(c, e, H, IDX(av(tv, 0), av(m, 0)))),
		      xread(add_read(c, e, W, IDX(av(m, 0), av(n, 0)))));
	finish(c);

	t = alloc_ok(c);
	fill(t->data[W], N * N, 7);
	for (int k = 0; k < N; k++)
		h[k] = t->data[H][k] = 1 + k;
	run_ok(c, t);
	for (int s = 1; s <= T; s++) {
		for (int b = 0; b < N; b++) {
			g[b] = 0;
			for (int a = 0; a < N; a++)
				g[b] += h[a] * t->data[W][a * N + b];
		}
		for (int b = 0; b < N; b++) {
			h[b] = g[b];
			assert_near(t->data[H][s * N + b], h[b], 1e-9);
		}
	}
	eval_tensors_free(t);
	ein_cascade_free(c);
}

/* Y_i = sum_w X_{i+w} K_w, and a causal padded one guarded by a filter:
 * Z_i = sum_w X_{i+w-2} K_w  :: i+w-2 >= 0. */
static void test_conv1d(void **state)
{
	enum { N = 10, W = 3 };
	ein_cascade *c = cnew();
	int X = T1(c, "X", EIN_ROLE_INPUT, N);
	int K = T1(c, "K", EIN_ROLE_WEIGHT, W);
	int Y = T1(c, "Y", EIN_ROLE_OUTPUT, N - W + 1);
	int Z = T1(c, "Z", EIN_ROLE_OUTPUT, N);
	ein_einsum *e;
	eval_tensors *t;
	int i, w;

	(void)state;
	e = add_einsum(c, "Y");
	i = add_var(e, "i", N - W + 1, false);
	w = add_var(e, "w", W, true);
	set_out(c, e, Y, IDX(av(i, 0)));
	e->rhs = xbin(EIN_OP_MUL,
		      xread(add_read(c, e, X, IDX(av2(i, w, 0)))),
		      xread(add_read(c, e, K, IDX(av(w, 0)))));

	e = add_einsum(c, "Z");
	i = add_var(e, "i", N, false);
	w = add_var(e, "w", W, true);
	set_out(c, e, Z, IDX(av(i, 0)));
	e->rhs = xbin(EIN_OP_MUL,
		      xread(add_read(c, e, X, IDX(av2(i, w, -2)))),
		      xread(add_read(c, e, K, IDX(av(w, 0)))));
	add_cond(e, av2(i, w, -2), false);
	finish(c);

	t = alloc_ok(c);
	fill(t->data[X], N, 8);
	fill(t->data[K], W, 9);
	run_ok(c, t);
	for (int a = 0; a < N; a++) {
		double y = 0, z = 0;

		for (int b = 0; b < W; b++) {
			if (a + b < N)
				y += t->data[X][a + b] * t->data[K][b];
			if (a + b - 2 >= 0)
				z += t->data[X][a + b - 2] * t->data[K][b];
		}
		if (a < N - W + 1)
			assert_near(t->data[Y][a], y, EPS);
		assert_near(t->data[Z][a], z, EPS);
	}
	eval_tensors_free(t);
	ein_cascade_free(c);
}

/* Y_i = X_{i+Q} * P + Q, with parameters P = 3, Q = 2. */
static void test_param(void **state)
{
	ein_cascade *c = cnew();
	int P = add_param(c, "P", 3), Q = add_param(c, "Q", 2);
	int X = T1(c, "X", EIN_ROLE_INPUT, 6);
	int Y = T1(c, "Y", EIN_ROLE_OUTPUT, 4);
	ein_einsum *e = add_einsum(c, "Y");
	int i = add_var(e, "i", 4, false);
	ein_aff f = av(i, 0);
	eval_tensors *t;

	(void)state;
	f.pc[Q] = 1;
	set_out(c, e, Y, IDX(av(i, 0)));
	e->rhs = xbin(EIN_OP_ADD,
		      xbin(EIN_OP_MUL, xread(add_read(c, e, X, IDX(f))),
			   xparam(P)),
		      xparam(Q));
	finish(c);
	t = alloc_ok(c);
	fill(t->data[X], 6, 10);
	run_ok(c, t);
	for (int n = 0; n < 4; n++)
		assert_near(t->data[Y][n], t->data[X][n + 2] * 3 + 2,
				    EPS);
	eval_tensors_free(t);
	ein_cascade_free(c);
}

/* Y_ij = 10 i + j; also a scalar with no variables: S = 2.5. */
static void test_var_value(void **state)
{
	enum { I = 3, J = 4 };
	ein_cascade *c = cnew();
	int Y = T2(c, "Y", EIN_ROLE_OUTPUT, I, J);
	int S = add_tensor(c, "S", EIN_ROLE_OUTPUT, 0, NULL);
	ein_einsum *e = add_einsum(c, "Y");
	int i = add_var(e, "i", I, false), j = add_var(e, "j", J, false);
	eval_tensors *t;

	(void)state;
	set_out(c, e, Y, IDX(av(i, 0), av(j, 0)));
	e->rhs = xbin(EIN_OP_ADD, xbin(EIN_OP_MUL, xvar(i), xnum(10)),
		      xvar(j));
	e = add_einsum(c, "S");
	set_out(c, e, S, NOIDX);
	e->rhs = xnum(2.5);
	finish(c);
	t = alloc_ok(c);
	run_ok(c, t);
	for (int a = 0; a < I; a++)
		for (int b = 0; b < J; b++)
			assert_near(t->data[Y][a * J + b], 10 * a + b,
					    0);
	assert_near(t->data[S][0], 2.5, 0);
	eval_tensors_free(t);
	ein_cascade_free(c);
}

/* s = sum_ij X_ij into a scalar: every variable is reduced. */
static void test_full_reduction(void **state)
{
	enum { I = 4, J = 3 };
	ein_cascade *c = cnew();
	int X = T2(c, "X", EIN_ROLE_INPUT, I, J);
	int S = add_tensor(c, "s", EIN_ROLE_OUTPUT, 0, NULL);
	ein_einsum *e = add_einsum(c, "s");
	int i = add_var(e, "i", I, true), j = add_var(e, "j", J, true);
	eval_tensors *t;
	double s = 0;

	(void)state;
	set_out(c, e, S, NOIDX);
	e->rhs = xread(add_read(c, e, X, IDX(av(i, 0), av(j, 0))));
	finish(c);
	t = alloc_ok(c);
	fill(t->data[X], I * J, 11);
	t->data[S][0] = 1000; /* overwritten by the first contribution */
	run_ok(c, t);
	for (int n = 0; n < I * J; n++)
		s += t->data[X][n];
	assert_near(t->data[S][0], s, EPS);
	eval_tensors_free(t);
	ein_cascade_free(c);
}

/* X_{i+j} = Y_i Z_j: output points meet without a reduced variable
 * (polynomial product), combined with reduce_op. */
static void test_non_injective_output(void **state)
{
	ein_cascade *c = cnew();
	int Y = T1(c, "Y", EIN_ROLE_INPUT, 3);
	int Z = T1(c, "Z", EIN_ROLE_INPUT, 4);
	int X = T1(c, "X", EIN_ROLE_OUTPUT, 6);
	ein_einsum *e = add_einsum(c, "X");
	int i = add_var(e, "i", 3, false), j = add_var(e, "j", 4, false);
	eval_tensors *t;
	static const double y[3] = { 1, 2, 3 }, z[4] = { 1, -1, 2, 5 };
	static const double want[6] = { 1, 1, 3, 6, 16, 15 };

	(void)state;
	set_out(c, e, X, IDX(av2(i, j, 0)));
	e->rhs = xbin(EIN_OP_MUL, xread(add_read(c, e, Y, IDX(av(i, 0)))),
		      xread(add_read(c, e, Z, IDX(av(j, 0)))));
	finish(c);
	t = alloc_ok(c);
	memcpy(t->data[Y], y, sizeof y);
	memcpy(t->data[Z], z, sizeof z);
	for (int n = 0; n < 6; n++)
		t->data[X][n] = 100; /* every element is written */
	run_ok(c, t);
	for (int n = 0; n < 6; n++)
		assert_near(t->data[X][n], want[n], 0);
	eval_tensors_free(t);
	ein_cascade_free(c);
}

/* In place: X_i = X_i * 2 + 1, and X_i = sum_j (X_i + Y_ij) which sees its
 * own partial sums, point after point. */
static void test_self_read(void **state)
{
	enum { I = 3, J = 3 };
	ein_cascade *c = cnew();
	int X = T1(c, "X", EIN_ROLE_OUTPUT, I);
	int Y = T2(c, "Y", EIN_ROLE_INPUT, I, J);
	ein_einsum *e;
	eval_tensors *t;
	double x[I];
	int i, j;

	(void)state;
	e = add_einsum(c, "double");
	i = add_var(e, "i", I, false);
	set_out(c, e, X, IDX(av(i, 0)));
	e->rhs = xbin(EIN_OP_ADD,
		      xbin(EIN_OP_MUL, xread(add_read(c, e, X, IDX(av(i, 0)))),
			   xnum(2)),
		      xnum(1));
	e = add_einsum(c, "accumulate");
	i = add_var(e, "i", I, false);
	j = add_var(e, "j", J, true);
	set_out(c, e, X, IDX(av(i, 0)));
	e->rhs = xbin(EIN_OP_ADD, xread(add_read(c, e, X, IDX(av(i, 0)))),
		      xread(add_read(c, e, Y, IDX(av(i, 0), av(j, 0)))));
	finish(c);
	t = alloc_ok(c);
	fill(t->data[Y], I * J, 12);
	for (int n = 0; n < I; n++)
		x[n] = t->data[X][n] = n - 1.5;
	run_ok(c, t);
	for (int n = 0; n < I; n++) {
		x[n] = x[n] * 2 + 1;
		for (int m = 0; m < J; m++) {
			double v = x[n] + t->data[Y][n * J + m];

			x[n] = m == 0 ? v : x[n] + v;
		}
		assert_near(t->data[X][n], x[n], EPS);
	}
	eval_tensors_free(t);
	ein_cascade_free(c);
}

static void test_empty_space(void **state)
{
	ein_cascade *c = cnew();
	int X = T1(c, "X", EIN_ROLE_INPUT, 3);
	int Y = T1(c, "Y", EIN_ROLE_OUTPUT, 3);
	ein_einsum *e = add_einsum(c, "Y");
	int i = add_var(e, "i", 3, false), k = add_var(e, "k", 0, true);
	eval_tensors *t;

	(void)state;
	set_out(c, e, Y, IDX(av(i, 0)));
	e->rhs = xread(add_read(c, e, X, IDX(av(k, 0))));
	finish(c);
	t = alloc_ok(c);
	t->data[Y][1] = 4;
	run_ok(c, t);
	assert_near(t->data[Y][0], 0, 0);
	assert_near(t->data[Y][1], 4, 0);
	eval_tensors_free(t);
	ein_cascade_free(c);
}

static void test_unary_fns(void **state)
{
	enum { N = 7 };
	ein_cascade *c = cnew();
	int X = T1(c, "X", EIN_ROLE_INPUT, N);
	int Y = T2(c, "Y", EIN_ROLE_OUTPUT, EIN_FN_COUNT, N);
	eval_tensors *t;

	(void)state;
	for (int f = 0; f < EIN_FN_COUNT; f++) {
		ein_einsum *e = add_einsum(c, ein_fn_name((ein_fn)f));
		int i = add_var(e, "i", N, false);

		set_out(c, e, Y, IDX(ak(f), av(i, 0)));
		e->rhs = xun((ein_fn)f,
			     xread(add_read(c, e, X, IDX(av(i, 0)))));
	}
	finish(c);
	t = alloc_ok(c);
	{
		static const double x[N] = { 0.5, 1, 2, 3, 0.25, 4, 1.5 };
		memcpy(t->data[X], x, sizeof x);
	}
	run_ok(c, t);
	for (int n = 0; n < N; n++) {
		double x = t->data[X][n];
		const double *y = &t->data[Y][n];
		double want[EIN_FN_COUNT] = {
			[EIN_FN_EXP] = exp(x),
			[EIN_FN_LOG] = log(x),
			[EIN_FN_SQRT] = sqrt(x),
			[EIN_FN_RSQRT] = 1 / sqrt(x),
			[EIN_FN_SIGMOID] = 1 / (1 + exp(-x)),
			[EIN_FN_SILU] = x / (1 + exp(-x)),
			[EIN_FN_SOFTPLUS] = log(1 + exp(x)),
			[EIN_FN_TANH] = tanh(x),
			[EIN_FN_RELU] = x,
			[EIN_FN_ABS] = x,
			[EIN_FN_NEG] = -x,
			[EIN_FN_RECIP] = 1 / x,
			[EIN_FN_SQUARE] = x * x,
		};

		for (int f = 0; f < EIN_FN_COUNT; f++)
			assert_near(y[f * N], want[f], 1e-12);
	}
	eval_tensors_free(t);
	ein_cascade_free(c);
}

static void expect_fail(ein_cascade *c, const char *s1, const char *s2)
{
	char msg[256] = "";
	eval_tensors *t = alloc_ok(c);

	assert_int_equal(eval_run(c, t, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "internal error"));
	assert_non_null(strstr(msg, s1));
	assert_non_null(strstr(msg, s2));
	/* A tiny buffer truncates but does not overflow; none is fine too. */
	assert_int_equal(eval_run(c, t, msg, 4), -1);
	assert_int_equal(strlen(msg), 3);
	assert_int_equal(eval_run(c, t, NULL, 0), -1);
	eval_tensors_free(t);
}

static void test_out_of_bounds(void **state)
{
	ein_cascade *c;
	ein_einsum *e;
	int X, Y, i, w;

	(void)state;
	/* A read past the end: Ybad_i = X_{i+1} */
	c = cnew();
	X = T1(c, "X", EIN_ROLE_INPUT, 4);
	Y = T1(c, "Y", EIN_ROLE_OUTPUT, 4);
	e = add_einsum(c, "Ybad");
	i = add_var(e, "i", 4, false);
	set_out(c, e, Y, IDX(av(i, 0)));
	e->rhs = xread(add_read(c, e, X, IDX(av(i, 1))));
	finish(c);
	expect_fail(c, "'Ybad' reads tensor 'X'", "index 4");
	ein_cascade_free(c);

	/* A write past the end: Y_{i+1} = X_i */
	c = cnew();
	X = T1(c, "X", EIN_ROLE_INPUT, 4);
	Y = T1(c, "Y", EIN_ROLE_OUTPUT, 4);
	e = add_einsum(c, "Wbad");
	i = add_var(e, "i", 4, false);
	set_out(c, e, Y, IDX(av(i, 1)));
	e->rhs = xread(add_read(c, e, X, IDX(av(i, 0))));
	finish(c);
	expect_fail(c, "'Wbad' writes tensor 'Y'", "index 4");
	ein_cascade_free(c);

	/* A filter that guards too little: X_{i+w-2} :: i+w-1 >= 0 */
	c = cnew();
	X = T1(c, "X", EIN_ROLE_INPUT, 4);
	Y = T1(c, "Y", EIN_ROLE_OUTPUT, 4);
	e = add_einsum(c, "Fbad");
	i = add_var(e, "i", 4, false);
	w = add_var(e, "w", 3, true);
	set_out(c, e, Y, IDX(av(i, 0)));
	e->rhs = xread(add_read(c, e, X, IDX(av2(i, w, -2))));
	add_cond(e, av2(i, w, -1), false);
	finish(c);
	expect_fail(c, "'Fbad' reads tensor 'X'", "index -1");
	ein_cascade_free(c);

	/* A second dimension that would wrap into the next row. */
	c = cnew();
	X = T2(c, "X", EIN_ROLE_INPUT, 2, 3);
	Y = T2(c, "Y", EIN_ROLE_OUTPUT, 2, 3);
	e = add_einsum(c, "Rbad");
	i = add_var(e, "i", 1, false);
	w = add_var(e, "j", 3, false);
	set_out(c, e, Y, IDX(av(i, 0), av(w, 0)));
	e->rhs = xread(add_read(c, e, X, IDX(av(i, 0), av(w, 1))));
	finish(c);
	expect_fail(c, "'Rbad' reads tensor 'X'", "dimension 1");
	ein_cascade_free(c);

	/* A malformed expression: read id out of range. */
	c = cnew();
	X = T1(c, "X", EIN_ROLE_INPUT, 4);
	e = add_einsum(c, "Ebad");
	i = add_var(e, "i", 4, false);
	set_out(c, e, X, IDX(av(i, 0)));
	e->rhs = xread(3);
	finish(c);
	expect_fail(c, "'Ebad'", "malformed");
	ein_cascade_free(c);
}

static void test_alloc(void **state)
{
	ein_cascade *c = cnew();
	int err = 99;
	eval_tensors *t;

	(void)state;
	T2(c, "A", EIN_ROLE_INPUT, 3, 4);
	add_tensor(c, "s", EIN_ROLE_TEMP, 0, NULL);
	T2(c, "B", EIN_ROLE_OUTPUT, 5, 5);
	finish(c);
	t = eval_tensors_alloc(c, 24, &err);
	assert_null(t);
	assert_int_equal(err, 2);
	assert_null(eval_tensors_alloc(c, 24, NULL));
	t = eval_tensors_alloc(c, 25, &err);
	assert_non_null(t);
	assert_int_equal(err, -1);
	assert_int_equal(t->n, 3);
	for (int n = 0; n < 12; n++)
		assert_near(t->data[0][n], 0, 0);
	assert_near(t->data[1][0], 0, 0);
	for (int n = 0; n < 25; n++)
		assert_near(t->data[2][n], 0, 0);
	eval_tensors_free(t);
	eval_tensors_free(NULL);
	ein_cascade_free(c);
}

static void test_fill_random(void **state)
{
	enum { N = 1000 };
	ein_cascade *c1 = cnew(), *c2 = cnew();
	eval_tensors *a, *b, *d;
	double lo = 1, hi = -1, mean = 0;

	(void)state;
	T1(c1, "X", EIN_ROLE_INPUT, N);
	T1(c1, "W", EIN_ROLE_WEIGHT, N);
	T1(c1, "Y", EIN_ROLE_OUTPUT, N);
	T1(c1, "T", EIN_ROLE_TEMP, N);
	finish(c1);
	/* The same tensors plus one more in front, in another order. */
	T1(c2, "Extra", EIN_ROLE_INPUT, 17);
	T1(c2, "W", EIN_ROLE_WEIGHT, N);
	T1(c2, "X", EIN_ROLE_INPUT, N);
	finish(c2);

	a = alloc_ok(c1);
	b = alloc_ok(c1);
	d = alloc_ok(c2);
	eval_fill_random(c1, a, 42);
	eval_fill_random(c1, b, 42);
	eval_fill_random(c2, d, 42);
	for (int n = 0; n < N; n++) {
		double x = a->data[0][n];

		assert_true(x >= -1 && x < 1);
		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
		mean += x / N;
		assert_near(x, b->data[0][n], 0);
		assert_near(a->data[1][n], b->data[1][n], 0);
		assert_near(x, d->data[2][n], 0);
		assert_near(a->data[1][n], d->data[1][n], 0);
		assert_near(a->data[2][n], 0, 0); /* outputs untouched */
		assert_near(a->data[3][n], 0, 0);
		assert_near((double)(float)x, x, 0); /* f32 values */
	}
	assert_true(lo < -0.9 && hi > 0.9);
	assert_true(fabs(mean) < 0.1);
	assert_true(a->data[0][0] != a->data[1][0]); /* per-name streams */
	eval_fill_random(c1, b, 43);
	assert_true(a->data[0][0] != b->data[0][0] ||
		    a->data[0][1] != b->data[0][1]);
	eval_tensors_free(a);
	eval_tensors_free(b);
	eval_tensors_free(d);
	ein_cascade_free(c1);
	ein_cascade_free(c2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matmul),
		cmocka_unit_test(test_elementwise_chain),
		cmocka_unit_test(test_softmax_max_min),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_lhs_offset),
		cmocka_unit_test(test_generational),
		cmocka_unit_test(test_generational_order),
		cmocka_unit_test(test_conv1d),
		cmocka_unit_test(test_param),
		cmocka_unit_test(test_var_value),
		cmocka_unit_test(test_full_reduction),
		cmocka_unit_test(test_non_injective_output),
		cmocka_unit_test(test_self_read),
		cmocka_unit_test(test_empty_space),
		cmocka_unit_test(test_unary_fns),
		cmocka_unit_test(test_out_of_bounds),
		cmocka_unit_test(test_alloc),
		cmocka_unit_test(test_fill_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
