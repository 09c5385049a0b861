/* test_check.c - unit tests of the checker (compiler/front/check.c) through the
 * library API: check_source on an in-memory source, diagnostics flushed to a
 * memory stream.
 *
 * Accepted programs: the cascade IR has the expected content (parameter
 * values with -D overrides and derived parameters, inferred shapes, rank
 * kinds, filters, spec operators, expression trees, names).
 * Rejected programs (the table `rejects`): the full printed diagnostics,
 * exactly, and the number of errors.  Each entry is a test of its own.
 * Also: check_load_file, and the printing rules of diag.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "front/cascade.h"
#include "front/check.h"
#include "front/ir_json.h"

#ifndef MAMBALAYA_SOURCE_DIR
#error "MAMBALAYA_SOURCE_DIR must name the source tree"
#endif

/* ------------------------------------------------------------- running */

typedef struct result {
	ein_cascade *c;
	char *text; /* every diagnostic, as printed */
	int errors, warnings;
} result;

static char *flush_to_string(diag_ctx *d)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	assert_non_null(f);
	diag_flush(d, f);
	fclose(f);
	return s;
}

static void run(const char *src, const char *const *defs, int ndefs,
		result *r)
{
	diag_ctx *d = diag_new("t.ein", src, strlen(src));
	assert_non_null(d);
	check_opts o = {ndefs, defs};
	r->c = check_source(d, &o);
	r->errors = diag_error_count(d);
	r->warnings = diag_warning_count(d);
	r->text = flush_to_string(d);
	diag_free(d);
}

static void result_free(result *r)
{
	ein_cascade_free(r->c);
	free(r->text);
}

/* Checks src, which must be accepted without any diagnostic. */
static ein_cascade *accept(const char *src, const char *const *defs,
			   int ndefs)
{
	result r;
	run(src, defs, ndefs, &r);
	assert_string_equal(r.text, "");
	assert_int_equal(r.errors, 0);
	assert_non_null(r.c);
	free(r.text);
	return r.c;
}

/* ------------------------------------------------------------- lookups */

static const ein_param *param(const ein_cascade *c, const char *name)
{
	int p = ein_cascade_find_param(c, name);
	if (p < 0)
		fail_msg("no parameter %s", name);
	return &c->params[p];
}

static const ein_tensor *tensor(const ein_cascade *c, const char *name)
{
	int t = ein_cascade_find_tensor(c, name);
	if (t < 0)
		fail_msg("no tensor %s", name);
	return &c->tensors[t];
}

static const ein_einsum *einsum(const ein_cascade *c, const char *name)
{
	int e = ein_cascade_find_einsum(c, name);
	if (e < 0)
		fail_msg("no Einsum %s", name);
	return &c->einsums[e];
}

/* "[B,I+W-1,D] = 1x67x1536" of a tensor. */
static char *shape(const ein_cascade *c, const char *name, char *buf,
		   size_t len)
{
	const ein_tensor *t = tensor(c, name);
	size_t w = (size_t)snprintf(buf, len, "[");
	for (int d = 0; d < t->ndims; d++) {
		char e[128];
		ein_aff_str(c, &t->dims[d].extent, NULL, e, sizeof(e));
		w += (size_t)snprintf(buf + w, len - w, "%s%s:%s", d ? "," : "",
				      t->dims[d].rank, e);
	}
	w += (size_t)snprintf(buf + w, len - w, "] =");
	for (int d = 0; d < t->ndims; d++)
		w += (size_t)snprintf(buf + w, len - w, "%s%lld", d ? "x" : " ",
				      (long long)t->dims[d].size);
	return buf;
}

/* "b:output:B=1 i:generational:I=64 n:reduced:N=16" of an Einsum. */
static char *ranks(const ein_cascade *c, const ein_einsum *es, char *buf,
		   size_t len)
{
	size_t w = 0;
	buf[0] = '\0';
	for (int v = 0; v < es->nvars; v++) {
		const ein_var *var = &es->vars[v];
		char e[128];
		ein_aff_str(c, &var->extent, NULL, e, sizeof(e));
		w += (size_t)snprintf(buf + w, len - w, "%s%s:%s:%s=%lld",
				      v ? " " : "", var->name,
				      var->generational ? "generational"
				      : var->reduced	? "reduced"
							: "output",
				      e, (long long)var->size);
	}
	return buf;
}

/* "i-1 >= 0, -i+N-2 >= 0" of an Einsum's filters. */
static char *filters(const ein_cascade *c, const ein_einsum *es, char *buf,
		     size_t len)
{
	size_t w = 0;
	buf[0] = '\0';
	for (int k = 0; k < es->nconds; k++) {
		char a[128];
		ein_aff_str(c, &es->conds[k].aff, es, a, sizeof(a));
		w += (size_t)snprintf(buf + w, len - w, "%s%s %s 0", k ? ", " : "",
				      a, es->conds[k].eq ? "==" : ">=");
	}
	return buf;
}

static char *expr(const ein_cascade *c, const ein_einsum *es, char *buf,
		  size_t len)
{
	ir_expr_string(c, es, es->rhs, buf, len);
	return buf;
}

/* ---------------------------------------------------- accepted programs */

static void test_params_and_defines(void **state)
{
	(void)state;
	const char *src = "param ED = 768, D = 2 * ED, R = cdiv(ED, 16)\n"
			  "param Q = ED / 5, NQ = -ED / 5, M = max(R, 50) - min(R, 7)\n"
			  "param C = cdiv(D + 1, 16) * 3 - 1\n"
			  "input X[ED]\noutput Y[ED]\nY_{e} = X_{e}\n";
	ein_cascade *c = accept(src, NULL, 0);
	assert_int_equal(c->nparams, 7);
	assert_int_equal(param(c, "ED")->value, 768);
	assert_int_equal(param(c, "D")->value, 1536);
	assert_int_equal(param(c, "R")->value, 48);
	assert_int_equal(param(c, "Q")->value, 153);
	assert_int_equal(param(c, "NQ")->value, -154); /* floor division */
	assert_int_equal(param(c, "M")->value, 50 - 7);
	assert_int_equal(param(c, "C")->value, 97 * 3 - 1);
	assert_false(param(c, "ED")->overridden);
	/* Parameters keep source order and their positions. */
	assert_string_equal(c->params[2].name, "R");
	assert_int_equal(c->params[2].loc.line, 1);
	assert_int_equal(c->params[2].loc.col, 29);
	ein_cascade_free(c);

	/* -D overrides a default; derived defaults follow it.  A -D of a
	 * derived parameter wins over its formula. */
	const char *defs[] = {"ED=64", "C=5"};
	c = accept(src, defs, 2);
	assert_int_equal(param(c, "ED")->value, 64);
	assert_true(param(c, "ED")->overridden);
	assert_int_equal(param(c, "D")->value, 128);
	assert_false(param(c, "D")->overridden);
	assert_int_equal(param(c, "R")->value, 4);
	assert_int_equal(param(c, "C")->value, 5);
	assert_true(param(c, "C")->overridden);
	/* Shapes follow the values. */
	assert_int_equal(tensor(c, "X")->dims[0].size, 64);
	assert_int_equal(tensor(c, "X")->nelems, 64);
	ein_cascade_free(c);

	/* The last -D of a name wins. */
	const char *twice[] = {"ED=32", "ED=16"};
	c = accept(src, twice, 2);
	assert_int_equal(param(c, "ED")->value, 16);
	ein_cascade_free(c);
}

static void test_declared_tensors(void **state)
{
	(void)state;
	char buf[256];
	ein_cascade *c = accept("param B = 2, W = 4, D = 8\n"
				"input CS[B, J: W-1, D]: bf16, s\n"
				"weight WT[D, 2*W + 1]: f64\n"
				"output O[B, D]: f16, o\n"
				"tensor T[D]\n"
				"T_{d} = WT_{d, 0} s\n"
				"O_{b,d} = CS_{b,j,d} T_{d}\n"
				"o = s\n",
				NULL, 0);
	assert_int_equal(c->ntensors, 6);
	const ein_tensor *cs = tensor(c, "CS");
	assert_int_equal(cs->role, EIN_ROLE_INPUT);
	assert_int_equal(cs->type, EIN_TY_BF16);
	assert_true(cs->declared);
	/* A named rank keeps its name; others are named after their
	 * extent. */
	assert_string_equal(shape(c, "CS", buf, sizeof(buf)),
			    "[B:B,J:W-1,D:D] = 2x3x8");
	assert_int_equal(cs->nelems, 48);
	assert_string_equal(shape(c, "WT", buf, sizeof(buf)),
			    "[D:D,2*W+1:2*W+1] = 8x9");
	assert_int_equal(tensor(c, "WT")->role, EIN_ROLE_WEIGHT);
	assert_int_equal(tensor(c, "WT")->type, EIN_TY_F64);
	assert_int_equal(tensor(c, "O")->role, EIN_ROLE_OUTPUT);
	assert_int_equal(tensor(c, "O")->type, EIN_TY_F16);
	assert_int_equal(tensor(c, "T")->role, EIN_ROLE_TEMP);
	assert_int_equal(tensor(c, "T")->type, EIN_TY_F32);
	/* Scalars: no ranks, one element. */
	assert_int_equal(tensor(c, "s")->ndims, 0);
	assert_int_equal(tensor(c, "s")->nelems, 1);
	assert_int_equal(tensor(c, "o")->role, EIN_ROLE_OUTPUT);
	/* Who writes and reads what, in source order. */
	const ein_tensor *t = tensor(c, "T");
	assert_int_equal(t->nwriters, 1);
	assert_int_equal(t->writers[0], 0);
	assert_int_equal(t->nreaders, 1);
	assert_int_equal(t->readers[0], 1);
	const ein_tensor *s = tensor(c, "s");
	assert_int_equal(s->nreaders, 2);
	assert_int_equal(s->readers[0], 0);
	assert_int_equal(s->readers[1], 2);
	ein_cascade_free(c);
}

static void test_inferred_shapes(void **state)
{
	(void)state;
	char buf[256];
	/* The conv pattern of mamba1.ein: XP grows to cover both writes. */
	ein_cascade *c = accept("param B = 2, I = 5, W = 4, D = 3\n"
				"input CS[B, J: W-1, D], TX[B, I, D]\n"
				"weight WCV[D, W]\n"
				"output CV[B, I, D]\n"
				"XP_{b,j,d} = CS_{b,j,d}\n"
				"XP_{b,i+W-1,d} = TX_{b,i,d}\n"
				"CV_{b,i,d} = XP_{b,i+w,d} * WCV_{d,w}\n",
				NULL, 0);
	const ein_tensor *xp = tensor(c, "XP");
	assert_false(xp->declared);
	assert_int_equal(xp->role, EIN_ROLE_TEMP);
	assert_string_equal(shape(c, "XP", buf, sizeof(buf)),
			    "[B:B,I+W-1:I+W-1,D:D] = 2x8x3");
	assert_int_equal(xp->nelems, 48);
	/* Its location is its first write. */
	assert_int_equal(xp->loc.line, 5);
	assert_int_equal(xp->loc.col, 1);
	ein_cascade_free(c);

	/* A generational output: one more generation than steps.  A scalar
	 * written by a full reduction. */
	c = accept("param I = 6, N = 2\n"
		   "input X[I, N], H0[N]\noutput HF[N], S\n"
		   "H_{0,n} = H0_{n}\n"
		   "H_{i+1,n} = H_{i,n} * X_{i,n}   gen i until i == I\n"
		   "HF_{n} = H_{I,n}\n"
		   "T = X_{i,n}\n"
		   "S = T\n",
		   NULL, 0);
	assert_string_equal(shape(c, "H", buf, sizeof(buf)),
			    "[I+1:I+1,N:N] = 7x2");
	assert_int_equal(tensor(c, "T")->ndims, 0);
	assert_int_equal(tensor(c, "T")->nelems, 1);
	ein_cascade_free(c);

	/* Reversed and strided writes: the largest index written, plus
	 * one. */
	c = accept("param N = 5\ninput A[N]\noutput O[N]\n"
		   "R_{N-1-i} = A_{i}\n"
		   "S_{2*i + 1} = A_{i}\n"
		   "O_{i} = R_{i} + S_{2*i+1}\n",
		   NULL, 0);
	assert_string_equal(shape(c, "R", buf, sizeof(buf)), "[N:N] = 5");
	assert_string_equal(shape(c, "S", buf, sizeof(buf)),
			    "[2*N:2*N] = 10");
	ein_cascade_free(c);
}

static void test_rank_kinds(void **state)
{
	(void)state;
	char buf[512];
	ein_cascade *c = accept("param I = 4, D = 3, N = 2\n"
				"input X[I, D], A[D, N], H0[D, N], C[I, N]\n"
				"output Y[I, D]\n"
				"H_{0,d,n} = H0_{d,n}\n"
				"scan: H_{i+1,d,n} = A_{d,n} * H_{i,d,n} + X_{i,d}"
				"   gen i until i == I\n"
				"Y_{i,d} = H_{i+1,d,n} * C_{i,n}\n",
				NULL, 0);
	assert_int_equal(c->neinsums, 3);
	const ein_einsum *scan = einsum(c, "scan");
	/* Output variables first, in left-hand-side order. */
	assert_string_equal(ranks(c, scan, buf, sizeof(buf)),
			    "i:generational:I=4 d:output:D=3 n:output:N=2");
	assert_int_equal(scan->gen_var, 0);
	assert_true(scan->vars[0].generational);
	assert_false(scan->vars[0].reduced);
	/* Without a reduced rank the reduce operator is the default. */
	assert_int_equal(scan->reduce_op, EIN_OP_ADD);
	const ein_einsum *y = einsum(c, "Y");
	assert_string_equal(ranks(c, y, buf, sizeof(buf)),
			    "i:output:I=4 d:output:D=3 n:reduced:N=2");
	assert_int_equal(y->gen_var, -1);
	assert_int_equal(y->reduce_op, EIN_OP_ADD);
	assert_int_equal(y->reduce_merge, EIN_MERGE_DEFAULT);
	assert_false(y->has_spec);
	/* Variables' first occurrences. */
	assert_int_equal(y->vars[2].loc.line, 6);
	assert_int_equal(y->vars[2].loc.col, 20);
	ein_cascade_free(c);
}

static void test_rank_range_from_param(void **state)
{
	(void)state;
	char buf[256];
	/* A range from a parameter named like the variable in capitals,
	 * when no tensor tells it. */
	ein_cascade *c = accept("param K = 3, N = 2\noutput O[N]\n"
				"T_{k} = 2\n"
				"O_{n} = T_{k} :: reduce(max)\n",
				NULL, 0);
	assert_string_equal(ranks(c, einsum(c, "T"), buf, sizeof(buf)),
			    "k:output:K=3");
	assert_string_equal(ranks(c, einsum(c, "O"), buf, sizeof(buf)),
			    "n:output:N=2 k:reduced:K=3");
	ein_cascade_free(c);
}

static void test_filters(void **state)
{
	(void)state;
	char buf[512];
	ein_cascade *c = accept("param N = 6, W = 3\ninput A[N]\noutput B[N]\n"
				"B_{i} = A_{i} where i < W-1, 1 <= i where 2*i >= i + 1\n"
				"B_{i} = 0 where i >= W-1, i == i\n"
				"B_{0} = 1\n",
				NULL, 0);
	const ein_einsum *e1 = &c->einsums[0];
	/* Normalised to  aff >= 0  or  aff == 0. */
	assert_int_equal(e1->nconds, 3);
	assert_string_equal(filters(c, e1, buf, sizeof(buf)),
			    "-i+W-2 >= 0, i-1 >= 0, i-1 >= 0");
	assert_int_equal(e1->conds[0].loc.col, 21);
	assert_int_equal(e1->conds[0].loc.end_col, 27);
	const ein_einsum *e2 = &c->einsums[1];
	assert_string_equal(filters(c, e2, buf, sizeof(buf)),
			    "i-W+1 >= 0, 0 == 0");
	assert_true(e2->conds[1].eq);
	ein_cascade_free(c);

	/* A chain gives one condition per comparison; > and <= too. */
	c = accept("param N = 6\ninput A[N]\noutput B[N]\n"
		   "B_{i} = A_{i} where 0 < i <= N - 2, N > i\n"
		   "B_{0} = 0\nB_{N-1} = 1\n",
		   NULL, 0);
	assert_string_equal(filters(c, &c->einsums[0], buf, sizeof(buf)),
			    "i-1 >= 0, -i+N-2 >= 0, -i+N-1 >= 0");
	ein_cascade_free(c);
}

static void test_spec(void **state)
{
	(void)state;
	char buf[512];
	ein_cascade *c = accept("param N = 4, K = 3\ninput A[N, K], V[K]\n"
				"output M1[N], M2[N], M3[N]\n"
				"M1_{n} = A_{n,k} V_{k} :: map(+, union) reduce(max, intersect)\n"
				"M2_{n} = A_{n,k} V_{k} :: reduce(min) map(max)\n"
				"M3_{n} = A_{n,k} V_{k}\n",
				NULL, 0);
	const ein_einsum *m1 = einsum(c, "M1");
	assert_true(m1->has_spec);
	assert_int_equal(m1->map_op, EIN_OP_ADD);
	assert_int_equal(m1->map_merge, EIN_MERGE_UNION);
	assert_int_equal(m1->reduce_op, EIN_OP_MAX);
	assert_int_equal(m1->reduce_merge, EIN_MERGE_INTERSECT);
	/* Juxtaposition is the map operator. */
	assert_string_equal(expr(c, m1, buf, sizeof(buf)), "A_{n,k} + V_{k}");
	const ein_einsum *m2 = einsum(c, "M2");
	assert_int_equal(m2->map_op, EIN_OP_MAX);
	assert_int_equal(m2->map_merge, EIN_MERGE_DEFAULT);
	assert_int_equal(m2->reduce_op, EIN_OP_MIN);
	assert_string_equal(expr(c, m2, buf, sizeof(buf)),
			    "max(A_{n,k}, V_{k})");
	const ein_einsum *m3 = einsum(c, "M3");
	assert_false(m3->has_spec);
	assert_int_equal(m3->map_op, EIN_OP_MUL);
	assert_int_equal(m3->reduce_op, EIN_OP_ADD);
	assert_string_equal(expr(c, m3, buf, sizeof(buf)), "A_{n,k} * V_{k}");
	ein_cascade_free(c);
}

static void test_expressions(void **state)
{
	(void)state;
	char buf[512];
	ein_cascade *c = accept("param N = 4, S = 3\ninput A[N], s\noutput B[N]\n"
				"B_{i} = -A_{i} / 2 + max(s, 1.5e-3) - exp(A_{i}) * (S - i) + min(i, S)\n",
				NULL, 0);
	const ein_einsum *e = &c->einsums[0];
	assert_string_equal(expr(c, e, buf, sizeof(buf)),
			    "-A_{i} / 2 + max(s, 0.0015) - exp(A_{i}) * (S - i) + "
			    "min(i, S)");
	/* One read per access, in source order. */
	assert_int_equal(e->nreads, 3);
	assert_string_equal(c->tensors[e->reads[1].tensor].name, "s");
	assert_int_equal(e->reads[2].loc.col, 43);
	/* The tree: ((((-A/2) + max) - (exp * (S - i))) + min). */
	const ein_expr *r = e->rhs;
	assert_int_equal(r->kind, EIN_X_BINARY);
	assert_int_equal(r->op, EIN_OP_ADD);
	assert_int_equal(r->b->kind, EIN_X_BINARY);
	assert_int_equal(r->b->op, EIN_OP_MIN);
	assert_int_equal(r->b->a->kind, EIN_X_VAR);
	assert_int_equal(r->b->b->kind, EIN_X_PARAM);
	const ein_expr *sub = r->a;
	assert_int_equal(sub->op, EIN_OP_SUB);
	assert_int_equal(sub->b->op, EIN_OP_MUL);
	assert_int_equal(sub->b->a->kind, EIN_X_UNARY);
	assert_int_equal(sub->b->a->op, EIN_FN_EXP);
	const ein_expr *neg = sub->a->a->a;
	assert_int_equal(neg->kind, EIN_X_UNARY);
	assert_int_equal(neg->op, EIN_FN_NEG);
	assert_int_equal(neg->a->kind, EIN_X_ACCESS);
	assert_int_equal(sub->a->a->b->kind, EIN_X_NUM);
	assert_true(sub->a->a->b->num == 2.0);
	ein_cascade_free(c);
}

static void test_functions(void **state)
{
	(void)state;
	static const char *const fns[] = {"exp",  "log",  "sqrt", "rsqrt",
					  "sigmoid", "silu", "softplus", "tanh",
					  "relu", "abs",  "neg",  "recip",
					  "square"};
	for (int f = 0; f < (int)(sizeof(fns) / sizeof(fns[0])); f++) {
		char src[256];
		snprintf(src, sizeof(src),
			 "param N = 2\ninput A[N]\noutput B[N]\nB_{i} = %s(A_{i})\n",
			 fns[f]);
		ein_cascade *c = accept(src, NULL, 0);
		const ein_expr *r = c->einsums[0].rhs;
		assert_int_equal(r->kind, EIN_X_UNARY);
		assert_int_equal(r->op, f);
		assert_string_equal(ein_fn_name((ein_fn)r->op), fns[f]);
		ein_cascade_free(c);
	}
}

static void test_einsum_names(void **state)
{
	(void)state;
	ein_cascade *c = accept("param N = 4\ninput A[N]\noutput B[N], C[N], D[N]\n"
				"B_{i} = A_{i} where i < 2\n"
				"mid: B_{i} = A_{i} where i == 2\n"
				"B_{i} = A_{i} where i > 2\n"
				"T: C_{i} = A_{i}\n"
				"T_{i} = B_{i}\n"
				"U_{i} = T_{i}\n"
				"D_{i} = U_{i}\n",
				NULL, 0);
	static const char *const want[] = {"B.1", "mid", "B.3", "T",
					   "T.1", "U", "D"};
	assert_int_equal(c->neinsums, 7);
	for (int e = 0; e < 7; e++) {
		assert_string_equal(c->einsums[e].name, want[e]);
		assert_int_equal(c->einsums[e].index, e);
	}
	ein_cascade_free(c);
}

static void test_warnings_do_not_reject(void **state)
{
	(void)state;
	result r;
	run("param N = 4\ninput A[N], X[N]\noutput B[N]\n"
	    "B_{i} = A_{i} where i > 0 :: reduce(max)\n", NULL, 0, &r);
	assert_non_null(r.c);
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.warnings, 3);
	assert_string_equal(r.text,
			    "t.ein:2:13: warning: input 'X' is never used\n"
			    "    2 | input A[N], X[N]\n"
			    "      |             ^\n"
			    "t.ein:3:8: warning: output 'B' is not fully written: "
			    "B[0] is never written and stays 0\n"
			    "    3 | output B[N]\n"
			    "      |        ^\n"
			    "t.ein:4:30: warning: reduce(...) has no effect: no "
			    "rank is reduced\n"
			    "    4 | B_{i} = A_{i} where i > 0 :: reduce(max)\n"
			    "      |                              ^~~~~~~~~~~\n");
	result_free(&r);
}

static void test_mamba1(void **state)
{
	(void)state;
	char err[512], buf[512];
	diag_ctx *d = check_load_file(MAMBALAYA_SOURCE_DIR "/examples/mamba1.ein",
				      CHECK_MAX_SOURCE_BYTES, err, sizeof(err));
	assert_non_null(d);
	const char *defs[] = {"I=1", "B=2"};
	check_opts o = {2, defs};
	ein_cascade *c = check_source(d, &o);
	char *text = flush_to_string(d);
	assert_string_equal(text, "");
	free(text);
	diag_free(d);
	assert_non_null(c);
	assert_int_equal(c->nparams, 7);
	assert_int_equal(c->ntensors, 39);
	assert_int_equal(c->neinsums, 24);
	assert_int_equal(param(c, "I")->value, 1);
	assert_int_equal(param(c, "D")->value, 1536);
	assert_int_equal(param(c, "R")->value, 48);
	assert_string_equal(shape(c, "H", buf, sizeof(buf)),
			    "[B:B,I+1:I+1,D:D,N:N] = 2x2x1536x16");
	assert_string_equal(shape(c, "XP", buf, sizeof(buf)),
			    "[B:B,I+W-1:I+W-1,D:D] = 2x4x1536");
	const ein_einsum *scan = einsum(c, "scan");
	assert_string_equal(ranks(c, scan, buf, sizeof(buf)),
			    "b:output:B=2 i:generational:I=1 d:output:D=1536 "
			    "n:output:N=16");
	assert_string_equal(expr(c, scan, buf, sizeof(buf)),
			    "AD_{b,i,d,n} * H_{b,i,d,n} + BX_{b,i,d,n}");
	assert_string_equal(ranks(c, einsum(c, "CV"), buf, sizeof(buf)),
			    "b:output:B=2 i:output:I=1 d:output:D=1536 "
			    "w:reduced:W=4");
	assert_string_equal(filters(c, einsum(c, "XP.1"), buf, sizeof(buf)),
			    "-j+W-2 >= 0");
	ein_cascade_free(c);
}

/* ------------------------------------------------------ check_load_file */

static char *temp_file(const char *data, size_t len)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/mambalaya_test_XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_load_file(void **state)
{
	(void)state;
	char err[512];
	err[0] = '\0';
	diag_ctx *d = check_load_file("/nonexistent/x.ein", 100, err, sizeof(err));
	assert_null(d);
	assert_string_equal(err, "/nonexistent/x.ein: cannot open: No such file "
				 "or directory");

	char *p = temp_file("a = 1\nb\0c\n", 10);
	d = check_load_file(p, 100, err, sizeof(err));
	assert_null(d);
	char want[256];
	snprintf(want, sizeof(want), "%s: the source contains a NUL byte (line "
				     "2); it is not a text file", p);
	assert_string_equal(err, want);
	unlink(p);

	p = temp_file("0123456789abcdef", 16);
	d = check_load_file(p, 15, err, sizeof(err));
	assert_null(d);
	snprintf(want, sizeof(want), "%s: the source is larger than 15 bytes", p);
	assert_string_equal(err, want);
	/* At the limit it loads, and the file name is the path given. */
	d = check_load_file(p, 16, err, sizeof(err));
	assert_non_null(d);
	size_t len;
	assert_memory_equal(diag_source(d, &len), "0123456789abcdef", 16);
	assert_int_equal(len, 16);
	assert_string_equal(diag_file(d), p);
	diag_free(d);
	unlink(p);

	/* A file larger than the first read buffer (64 KiB). */
	size_t big = 200000;
	char *data = malloc(big);
	assert_non_null(data);
	memset(data, '#', big);
	data[big - 1] = '\n';
	p = temp_file(data, big);
	free(data);
	d = check_load_file(p, CHECK_MAX_SOURCE_BYTES, err, sizeof(err));
	assert_non_null(d);
	diag_source(d, &len);
	assert_int_equal(len, big);
	diag_free(d);
	d = check_load_file(p, big - 1, err, sizeof(err));
	assert_null(d);
	unlink(p);
}

/* ---------------------------------------------------------- diag output */

static void test_diag_order_and_parts(void **state)
{
	(void)state;
	const char *src = "first line\n\tsecond\tline\nthird\r\n";
	diag_ctx *d = diag_new("f.ein", src, strlen(src));
	assert_non_null(d);
	ein_loc l3 = {3, 2, 3, 4}, l2 = {2, 2, 2, 7}, l1 = {1, 7, 2, 3};
	ein_loc none = {0, 0, 0, 0}, past = {1, 9, 1, 40};
	diag_warning(d, l3, "w%d", 3);
	diag_error(d, l2, "e%s", "2");
	diag_hint(d, "h%d", 2);
	diag_note(d, l3, "n%d", 1);
	diag_note(d, none, "n%d", 2);
	diag_error(d, l1, "e1");
	diag_error(d, none, "no position");
	diag_error(d, l2, "e2 again"); /* same place: kept in report order */
	diag_error(d, past, "past the end");
	assert_int_equal(diag_error_count(d), 5);
	assert_int_equal(diag_warning_count(d), 1);
	char *s = flush_to_string(d);
	assert_string_equal(s,
			    "f.ein: error: no position\n"
			    /* A range over several lines: marked to the end
			     * of the first. */
			    "f.ein:1:7: error: e1\n"
			    "    1 | first line\n"
			    "      |       ^~~~\n"
			    /* Clamped to just past the end of the line. */
			    "f.ein:1:9: error: past the end\n"
			    "    1 | first line\n"
			    "      |         ^~~\n"
			    /* Tabs are shown as one blank. */
			    "f.ein:2:2: error: e2\n"
			    "    2 |  second line\n"
			    "      |  ^~~~~~\n"
			    "  hint: h2\n"
			    "f.ein:3:2: note: n1\n"
			    "    3 | third\n"
			    "      |  ^~~\n"
			    "  note: n2\n"
			    "f.ein:2:2: error: e2 again\n"
			    "    2 |  second line\n"
			    "      |  ^~~~~~\n"
			    /* A '\r' before the newline is not shown. */
			    "f.ein:3:2: warning: w3\n"
			    "    3 | third\n"
			    "      |  ^~~\n");
	free(s);
	/* Flushing forgets what was printed, not the counts. */
	s = flush_to_string(d);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(diag_error_count(d), 5);
	diag_free(d);
}

static void test_diag_limit(void **state)
{
	(void)state;
	diag_ctx *d = diag_new(NULL, "x\n", 2);
	assert_non_null(d);
	ein_loc l = {1, 1, 1, 1};
	for (int i = 0; i < 205; i++) {
		diag_error(d, l, "e%d", i);
		diag_hint(d, "h%d", i);
		diag_note(d, l, "n%d", i);
	}
	assert_int_equal(diag_error_count(d), 205);
	char *s = flush_to_string(d);
	/* 200 are kept, the rest counted; the hints and notes of the rest
	 * are not given to the last one kept. */
	const char *tail = "<input>:1:1: error: e199\n    1 | x\n      | ^\n"
			   "  hint: h199\n"
			   "<input>:1:1: note: n199\n    1 | x\n      | ^\n"
			   "<input>: note: 5 more diagnostics not shown\n";
	assert_true(strlen(s) > strlen(tail));
	assert_string_equal(s + strlen(s) - strlen(tail), tail);
	free(s);
	diag_free(d);
}

static void test_diag_helpers(void **state)
{
	(void)state;
	assert_int_equal(diag_edit_distance("", ""), 0);
	assert_int_equal(diag_edit_distance("abc", "abc"), 0);
	assert_int_equal(diag_edit_distance("sigmod", "sigmoid"), 1);
	assert_int_equal(diag_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(diag_edit_distance("", "abc"), 3);
	ein_loc a = {2, 3, 2, 5}, b = {4, 1, 4, 9};
	ein_loc s = diag_span(a, b);
	assert_int_equal(s.line, 2);
	assert_int_equal(s.col, 3);
	assert_int_equal(s.end_line, 4);
	assert_int_equal(s.end_col, 9);
	s = diag_span(b, a); /* keeps the later end */
	assert_int_equal(s.line, 4);
	assert_int_equal(s.end_line, 4);
	assert_int_equal(s.end_col, 9);
}

/* ---------------------------------------------------- rejected programs */

typedef struct reject {
	const char *name;
	const char *src;
	const char *defs[4];
	int ndefs;
	int errors;
	const char *want; /* every diagnostic, as printed */
} reject;

static const reject rejects[] = {
	{"syntax_stops_checking",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = Q_{i} +\n",
		{NULL}, 0, 1,
		"t.ein:4:16: error: unexpected end of file; expected an expression\n"
		"    4 | B_{i} = Q_{i} +\n"
		"      |                ^\n"},
	{"unknown_tensor",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = AA_{i}\n",
		{NULL}, 0, 1,
		"t.ein:2:7: warning: input 'A' is never used\n"
		"    2 | input A[N]\n"
		"      |       ^\n"
		"t.ein:4:9: error: unknown tensor 'AA'\n"
		"    4 | B_{i} = AA_{i}\n"
		"      |         ^~\n"
		"  hint: did you mean 'A'?\n"},
	{"unknown_tensor_declare_hint",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = ZZZ_{i}\n",
		{NULL}, 0, 1,
		"t.ein:2:7: warning: input 'A' is never used\n"
		"    2 | input A[N]\n"
		"      |       ^\n"
		"t.ein:4:9: error: unknown tensor 'ZZZ'\n"
		"    4 | B_{i} = ZZZ_{i}\n"
		"      |         ^~~\n"
		"  hint: declare it, e.g. `input ZZZ[...]`, or define it by an earlier Einsum\n"},
	{"unknown_name_value",
		"param N = 4, ALPHA = 2\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = ALPH * A_{i}\n",
		{NULL}, 0, 1,
		"t.ein:4:9: error: unknown name 'ALPH'\n"
		"    4 | B_{i} = ALPH * A_{i}\n"
		"      |         ^~~~\n"
		"  hint: did you mean 'ALPHA'?\n"},
	{"unknown_name_rank_var",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A_{i} * j\n",
		{NULL}, 0, 1,
		"t.ein:4:17: error: unknown name 'j'\n"
		"    4 | B_{i} = A_{i} * j\n"
		"      |                 ^\n"
		"  hint: a value is a number, a parameter, a rank variable of this Einsum or a tensor element\n"},
	{"unknown_function",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = sqr(A_{i})\n",
		{NULL}, 0, 1,
		"t.ein:4:9: error: unknown function 'sqr'\n"
		"    4 | B_{i} = sqr(A_{i})\n"
		"      |         ^~~\n"
		"  hint: did you mean 'sqrt'?\n"},
	{"unknown_function_list",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = erf(A_{i})\n",
		{NULL}, 0, 1,
		"t.ein:4:9: error: unknown function 'erf'\n"
		"    4 | B_{i} = erf(A_{i})\n"
		"      |         ^~~\n"
		"  hint: the functions are exp log sqrt rsqrt sigmoid silu softplus tanh relu abs neg recip square, and max(a, b), min(a, b)\n"},
	{"arity_min",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = min(A_{i}, 0, 1)\n",
		{NULL}, 0, 1,
		"t.ein:4:9: error: min takes 2 arguments, not 3\n"
		"    4 | B_{i} = min(A_{i}, 0, 1)\n"
		"      |         ^~~~~~~~~~~~~~~~\n"},
	{"arity_sqrt",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = sqrt(A_{i}, A_{i})\n",
		{NULL}, 0, 1,
		"t.ein:4:9: error: sqrt takes 1 argument, not 2\n"
		"    4 | B_{i} = sqrt(A_{i}, A_{i})\n"
		"      |         ^~~~~~~~~~~~~~~~~~\n"},
	{"index_product",
		"param N = 4\n"
		"input A[N, N]\n"
		"output B[N]\n"
		"B_{i} = A_{i, i*i}\n",
		{NULL}, 0, 1,
		"t.ein:4:15: error: an index must be affine: this product of two non-constant terms is not\n"
		"    4 | B_{i} = A_{i, i*i}\n"
		"      |               ^~~\n"
		"  hint: multiply rank variables and parameters only by integer constants\n"},
	{"index_param_product",
		"param N = 4, M = 2\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A_{N*M - i*N}\n",
		{NULL}, 0, 2,
		"t.ein:4:12: error: an index must be affine: this product of two non-constant terms is not\n"
		"    4 | B_{i} = A_{N*M - i*N}\n"
		"      |            ^~~\n"
		"  hint: define the product as a parameter, e.g. `param P = N*M`, and use P\n"
		"t.ein:4:18: error: an index must be affine: this product of two non-constant terms is not\n"
		"    4 | B_{i} = A_{N*M - i*N}\n"
		"      |                  ^~~\n"
		"  hint: multiply rank variables and parameters only by integer constants\n"},
	{"index_float",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A_{1.0 * i}\n",
		{NULL}, 0, 1,
		"t.ein:4:12: error: an index must be an integer expression\n"
		"    4 | B_{i} = A_{1.0 * i}\n"
		"      |            ^~~\n"},
	{"index_gather",
		"param N = 4\n"
		"input A[N]\n"
		"input P[N]\n"
		"output B[N]\n"
		"B_{i} = A_{P_{i}}\n",
		{NULL}, 0, 1,
		"t.ein:5:12: error: a tensor element cannot be used in an index\n"
		"    5 | B_{i} = A_{P_{i}}\n"
		"      |            ^~~~~\n"
		"  hint: indices must not depend on data (gathers are not supported)\n"},
	{"index_tensor_name",
		"param N = 4\n"
		"input A[N], P[N]\n"
		"output B[N]\n"
		"B_{i} = A_{P}\n",
		{NULL}, 0, 1,
		"t.ein:4:12: error: 'P' is a tensor; it cannot be used in an index\n"
		"    4 | B_{i} = A_{P}\n"
		"      |            ^\n"},
	{"param_indexed",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = N_{i}\n",
		{NULL}, 0, 1,
		"t.ein:2:7: warning: input 'A' is never used\n"
		"    2 | input A[N]\n"
		"      |       ^\n"
		"t.ein:4:9: error: 'N' is a parameter, not a tensor\n"
		"    4 | B_{i} = N_{i}\n"
		"      |         ^\n"},
	{"param_written",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A_{i}\n"
		"N = 3\n",
		{NULL}, 0, 1,
		"t.ein:5:1: error: 'N' is a parameter; it cannot be assigned\n"
		"    5 | N = 3\n"
		"      | ^\n"},
	{"tensor_called",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A(i) + 1\n",
		{NULL}, 0, 1,
		"t.ein:4:9: error: 'A' is a tensor, not a function\n"
		"    4 | B_{i} = A(i) + 1\n"
		"      |         ^\n"
		"  hint: index a tensor with A_{...}\n"},
	{"rank_count",
		"param N = 4\n"
		"input A[N, K: 2, 3]\n"
		"output B[N]\n"
		"B_{i} = A_{i, 0}\n",
		{NULL}, 0, 1,
		"t.ein:4:9: error: 'A' has 3 ranks (N, K, 3) but 2 indices are given\n"
		"    4 | B_{i} = A_{i, 0}\n"
		"      |         ^~~~~~~~\n"},
	{"rank_count_scalar_use",
		"param N = 4\n"
		"input A[N, N]\n"
		"output B[N]\n"
		"B_{i} = A + 1\n",
		{NULL}, 0, 1,
		"t.ein:4:9: error: 'A' has 2 ranks (N, N); index it as A_{...}\n"
		"    4 | B_{i} = A + 1\n"
		"      |         ^\n"},
	{"read_outside_offset",
		"param N = 8, W = 3\n"
		"input X[N]\n"
		"output Y[N]\n"
		"Y_{i} = X_{i+w} :: reduce(max)\n",
		{NULL}, 0, 1,
		"t.ein:4:9: error: X_{i+w} reads outside 'X': at i=6, w=2 it is X[8], but 'X' has shape [8]\n"
		"    4 | Y_{i} = X_{i+w} :: reduce(max)\n"
		"      |         ^~~~~~~\n"
		"  hint: restrict the rank variables with a filter, e.g. `where ...`, or check the index expressions\n"},
	{"read_outside_define",
		"param N = 4, M = 8\n"
		"input A[M]\n"
		"output B[N]\n"
		"B_{i} = A_{2*i}\n",
		{"N=5"}, 1, 1,
		"t.ein:4:9: error: A_{2*i} reads outside 'A': at i=4 it is A[8], but 'A' has shape [8]\n"
		"    4 | B_{i} = A_{2*i}\n"
		"      |         ^~~~~~~\n"
		"  hint: restrict the rank variables with a filter, e.g. `where ...`, or check the index expressions\n"},
	{"write_outside_implicit_read",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"T_{i} = A_{i}\n"
		"B_{i} = T_{i+1} where i < N\n",
		{NULL}, 0, 1,
		"t.ein:5:9: error: T_{i+1} reads outside 'T': at i=3 it is T[4], but 'T' has shape [4]\n"
		"    5 | B_{i} = T_{i+1} where i < N\n"
		"      |         ^~~~~~~\n"
		"  hint: restrict the rank variables with a filter, e.g. `where ...`, or check the index expressions\n"},
	{"write_outside_declared",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N - 1]\n"
		"B_{i+1} = A_{i} where i < N - 1\n"
		"B_{0} = 0\n",
		{NULL}, 0, 1,
		"t.ein:4:1: error: B_{i+1} writes outside 'B': at i=2 it is B[3], but 'B' has shape [3]\n"
		"    4 | B_{i+1} = A_{i} where i < N - 1\n"
		"      | ^~~~~~~\n"
		"  hint: check the declared shape of 'B'\n"},
	{"conflict_two_einsums",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A_{i} where i <= 2\n"
		"B_{i} = -A_{i} where i >= 2\n",
		{NULL}, 0, 1,
		"t.ein:5:1: error: conflicting writes: B[2] is written by this Einsum and by 'B.1'\n"
		"    5 | B_{i} = -A_{i} where i >= 2\n"
		"      | ^~~~~\n"
		"t.ein:4:1: note: 'B.1' writes it here\n"
		"    4 | B_{i} = A_{i} where i <= 2\n"
		"      | ^~~~~\n"},
	{"conflict_within",
		"param N = 4, J = 3\n"
		"input A[N, J]\n"
		"output B[N, 1]\n"
		"B_{i, j - j} = A_{i, j}\n",
		{NULL}, 0, 1,
		"t.ein:4:1: error: B[0, 0] is written twice by this Einsum: at i=0, j=0 and at i=0, j=1\n"
		"    4 | B_{i, j - j} = A_{i, j}\n"
		"      | ^~~~~~~~~~~~\n"
		"  hint: the output indices must name each element once; ranks that should be summed must not appear on the left-hand side\n"},
	{"range_output_var",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i - j} = A_{i} where j <= i, j < 2\n",
		{NULL}, 0, 1,
		"t.ein:4:8: error: cannot tell the range of rank variable 'j'\n"
		"    4 | B_{i - j} = A_{i} where j <= i, j < 2\n"
		"      |        ^\n"
		"  hint: 'j' indexes no dimension of a tensor whose shape is known by itself, and there is no parameter 'J'; declare the output's shape or add `param J = ...`\n"},
	{"not_written_before",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"T_{i} = A_{i} where i >= 1\n"
		"B_{i} = T_{i}\n",
		{NULL}, 0, 1,
		"t.ein:5:9: error: T_{i} reads T[0] at i=0, but nothing writes that element before\n"
		"    5 | B_{i} = T_{i}\n"
		"      |         ^~~~~\n"
		"  hint: check the filters and index expressions of the Einsums that write 'T'\n"},
	{"defined_later",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = U_{i}\n"
		"U_{i} = A_{i}\n",
		{NULL}, 0, 1,
		"t.ein:4:9: error: 'U' is used before it is defined\n"
		"    4 | B_{i} = U_{i}\n"
		"      |         ^\n"
		"  hint: Einsums run in source order: move this one after the Einsum that defines 'U'\n"
		"t.ein:5:1: note: 'U' is defined here\n"
		"    5 | U_{i} = A_{i}\n"
		"      | ^~~~~\n"},
	{"self_reference",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"T_{i} = A_{i}\n"
		"B_{i} = B_{i} + T_{i}\n",
		{NULL}, 0, 1,
		"t.ein:5:1: error: 'B' is defined in terms of itself\n"
		"    5 | B_{i} = B_{i} + T_{i}\n"
		"      | ^~~~~\n"
		"  hint: a recurrence needs a generational rank: add `gen i until i == I` naming the rank that advances\n"},
	{"gen_var_unknown",
		"param I = 3\n"
		"input X[I]\n"
		"output Y[1]\n"
		"H_{0} = 0\n"
		"H_{i+1} = H_{i} X_{i}  gen t until t == I\n"
		"Y_{0} = H_{I}\n",
		{NULL}, 0, 1,
		"t.ein:5:28: error: 't' is not a rank variable of this Einsum\n"
		"    5 | H_{i+1} = H_{i} X_{i}  gen t until t == I\n"
		"      |                            ^\n"},
	{"gen_var_reduced",
		"param I = 3\n"
		"input X[I]\n"
		"output Y[1]\n"
		"Y_{0} = Y_{0} + X_{i}  gen i until i == I\n",
		{NULL}, 0, 1,
		"t.ein:4:28: error: the generational rank 'i' must index the output\n"
		"    4 | Y_{0} = Y_{0} + X_{i}  gen i until i == I\n"
		"      |                            ^\n"
		"  hint: a generation is a rank of the tensor being defined, e.g. H_{i+1,...} = f(H_{i,...})\n"},
	{"gen_stop_greater",
		"param I = 3\n"
		"input X[I]\n"
		"output Y[1]\n"
		"H_{0} = 0\n"
		"H_{i+1} = H_{i} X_{i}  gen i until i > I - 1 - i\n"
		"Y_{0} = H_{I}\n",
		{NULL}, 0, 1,
		"t.ein:5:36: error: a stopping condition has the form `i == E` or `i >= E`, with E free of rank variables\n"
		"    5 | H_{i+1} = H_{i} X_{i}  gen i until i > I - 1 - i\n"
		"      |                                    ^~~~~~~~~~~~~\n"
		"  hint: write `until i == E`: the generations are i = 0, 1, ..., E-1\n"},
	{"gen_stop_two",
		"param I = 3\n"
		"input X[I]\n"
		"output Y[1]\n"
		"H_{0} = 0\n"
		"H_{i+1} = H_{i} X_{i}  gen i until i == I == 3\n"
		"Y_{0} = H_{I}\n",
		{NULL}, 0, 1,
		"t.ein:5:36: error: a stopping condition is one comparison\n"
		"    5 | H_{i+1} = H_{i} X_{i}  gen i until i == I == 3\n"
		"      |                                    ^~~~~~~~~~~\n"
		"  hint: write `until i == E`: the generations are i = 0, 1, ..., E-1\n"},
	{"gen_stop_before_start",
		"param I = 3\n"
		"input X[I]\n"
		"output Y[1]\n"
		"H_{0} = 0\n"
		"H_{i+1} = H_{i} X_{i}  gen i until i == -2\n"
		"Y_{0} = H_{I}\n",
		{NULL}, 0, 1,
		"t.ein:5:36: error: the generational rank 'i' stops at -2, before its first generation i = 0\n"
		"    5 | H_{i+1} = H_{i} X_{i}  gen i until i == -2\n"
		"      |                                    ^~~~~~~\n"},
	{"gen_reads_past_end",
		"param I = 3\n"
		"input X[I]\n"
		"output Y[1]\n"
		"H_{0} = 0\n"
		"H_{i+1} = H_{i+2} X_{i}  gen i until i == I - 1\n"
		"Y_{0} = H_{I - 1}\n",
		{NULL}, 0, 1,
		"t.ein:5:11: error: H_{i+2} reads outside 'H': at i=1 it is H[3], but 'H' has shape [3]\n"
		"    5 | H_{i+1} = H_{i+2} X_{i}  gen i until i == I - 1\n"
		"      |           ^~~~~~~\n"
		"  hint: restrict the rank variables with a filter, e.g. `where ...`, or check the index expressions\n"},
	{"filter_ne",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A_{i} where i < 3, i != 1\n",
		{NULL}, 0, 1,
		"t.ein:4:28: error: '!=' is not allowed in a filter: the iteration space must stay convex\n"
		"    4 | B_{i} = A_{i} where i < 3, i != 1\n"
		"      |                            ^~~~~~\n"
		"  hint: split the Einsum into one for '<' and one for '>'\n"},
	{"filter_tensor",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A_{i} where i < A_{0}\n",
		{NULL}, 0, 1,
		"t.ein:4:25: error: a tensor element cannot be used in a condition\n"
		"    4 | B_{i} = A_{i} where i < A_{0}\n"
		"      |                         ^~~~~\n"},
	{"filter_call",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A_{i} where i < max(1, 2)\n",
		{NULL}, 0, 1,
		"t.ein:4:25: error: a function call cannot be used in a condition\n"
		"    4 | B_{i} = A_{i} where i < max(1, 2)\n"
		"      |                         ^~~~~~~~~\n"},
	{"filter_division",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A_{i} where i / 2 == 0\n",
		{NULL}, 0, 1,
		"t.ein:4:21: error: division is not allowed in a condition\n"
		"    4 | B_{i} = A_{i} where i / 2 == 0\n"
		"      |                     ^~~~~\n"
		"  hint: a condition must be affine: sums of integer multiples of rank variables and parameters\n"},
	{"spec_unknown_item",
		"param N = 4, K = 2\n"
		"input A[N, K]\n"
		"output B[N]\n"
		"B_{n} = A_{n,k} :: reduce(+) mapp(*)\n",
		{NULL}, 0, 1,
		"t.ein:4:30: error: unknown spec item 'mapp'\n"
		"    4 | B_{n} = A_{n,k} :: reduce(+) mapp(*)\n"
		"      |                              ^~~~~~~\n"
		"  hint: a spec has map(op[, merge]) and reduce(op[, merge])\n"},
	{"spec_unknown_op",
		"param N = 4, K = 2\n"
		"input A[N, K]\n"
		"output B[N]\n"
		"B_{n} = A_{n,k} :: reduce(avg)\n",
		{NULL}, 0, 1,
		"t.ein:4:27: error: unknown operator 'avg'\n"
		"    4 | B_{n} = A_{n,k} :: reduce(avg)\n"
		"      |                           ^~~\n"
		"  hint: reduce operators are + max min\n"},
	{"spec_reduce_div",
		"param N = 4, K = 2\n"
		"input A[N, K]\n"
		"output B[N]\n"
		"B_{n} = A_{n,k} :: reduce(/)\n",
		{NULL}, 0, 1,
		"t.ein:4:27: error: '/' is not a reduce operator\n"
		"    4 | B_{n} = A_{n,k} :: reduce(/)\n"
		"      |                           ^\n"
		"  hint: reduce operators are + max min\n"},
	{"spec_merge",
		"param N = 4, K = 2\n"
		"input A[N, K], V[K]\n"
		"output B[N]\n"
		"B_{n} = A_{n,k} V_{k} :: map(*, inter)\n",
		{NULL}, 0, 1,
		"t.ein:4:33: error: unknown merge operator 'inter'\n"
		"    4 | B_{n} = A_{n,k} V_{k} :: map(*, inter)\n"
		"      |                                 ^~~~~\n"
		"  hint: merge operators are union and intersect\n"},
	{"spec_twice",
		"param N = 4, K = 2\n"
		"input A[N, K], V[K]\n"
		"output B[N]\n"
		"B_{n} = A_{n,k} V_{k} :: map(*) map(+)\n",
		{NULL}, 0, 1,
		"t.ein:4:33: error: map(...) is given twice\n"
		"    4 | B_{n} = A_{n,k} V_{k} :: map(*) map(+)\n"
		"      |                                 ^~~~~~\n"},
	{"spec_args",
		"param N = 4, K = 2\n"
		"input A[N, K]\n"
		"output B[N]\n"
		"B_{n} = A_{n,k} :: reduce(max, union, union)\n",
		{NULL}, 0, 1,
		"t.ein:4:20: error: reduce takes an operator and an optional merge, not 3 arguments\n"
		"    4 | B_{n} = A_{n,k} :: reduce(max, union, union)\n"
		"      |                    ^~~~~~~~~~~~~~~~~~~~~~~~~\n"},
	{"ambiguous_log_sum",
		"param N = 4, K = 2\n"
		"input A[N, K]\n"
		"output B[N]\n"
		"B_{n} = log(A_{n,k})\n",
		{NULL}, 0, 1,
		"t.ein:4:13: error: ambiguous reduction: only 'A_{n,k}' depends on the reduced rank k, and log(...) around it does not distribute over the sum\n"
		"    4 | B_{n} = log(A_{n,k})\n"
		"      |             ^~~~~~~\n"
		"  hint: an Einsum maps, then reduces its whole right-hand side; to reduce first, split it: `B_r_{n} = A_{n,k}` then `B_{n} = log(B_r_{n})`\n"},
	{"ambiguous_div_by_reduced",
		"param N = 4, K = 2\n"
		"input A[N, K], C[N]\n"
		"output B[N]\n"
		"B_{n} = C_{n} / A_{n,k}\n",
		{NULL}, 0, 1,
		"t.ein:4:17: error: ambiguous reduction: only 'A_{n,k}' depends on the reduced rank k, and combining it by '/' with 'C_{n}' does not distribute over the sum\n"
		"    4 | B_{n} = C_{n} / A_{n,k}\n"
		"      |                 ^~~~~~~\n"
		"  hint: an Einsum maps, then reduces its whole right-hand side; to reduce first, split it: `B_r_{n} = A_{n,k}` then `B_{n} = C_{n} / B_r_{n}`\n"},
	{"ambiguous_max_plus_ok_then_mul",
		"param N = 4, K = 2\n"
		"input A[N, K], C[N]\n"
		"output B[N]\n"
		"B_{n} = C_{n} * (A_{n,k} + C_{n}) :: reduce(max)\n",
		{NULL}, 0, 1,
		"t.ein:4:18: error: ambiguous reduction: only 'A_{n,k}' depends on the reduced rank k, and combining it by '*' with 'C_{n}' does not distribute over the max\n"
		"    4 | B_{n} = C_{n} * (A_{n,k} + C_{n}) :: reduce(max)\n"
		"      |                  ^~~~~~~\n"
		"  hint: an Einsum maps, then reduces its whole right-hand side; to reduce first, split it: `B_r_{n} = A_{n,k}` then `B_{n} = C_{n} * (B_r_{n} + C_{n})`\n"},
	{"ambiguous_two_ranks",
		"param N = 4, K = 2, L = 3\n"
		"input A[N, K, L], C[N]\n"
		"output B[N]\n"
		"B_{n} = relu(A_{n,k,l}) + C_{n}\n",
		{NULL}, 0, 1,
		"t.ein:4:14: error: ambiguous reduction: only 'A_{n,k,l}' depends on the reduced ranks k, l, and combining it by '+' with 'C_{n}' does not distribute over the sum\n"
		"    4 | B_{n} = relu(A_{n,k,l}) + C_{n}\n"
		"      |              ^~~~~~~~~\n"
		"  hint: an Einsum maps, then reduces its whole right-hand side; to reduce first, split it: `B_r_{n} = A_{n,k,l}` then `B_{n} = relu(B_r_{n}) + C_{n}`\n"},
	{"input_written",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A_{i}\n"
		"A_{0} = 1\n",
		{NULL}, 0, 1,
		"t.ein:5:1: error: 'A' is an input; Einsums cannot write it\n"
		"    5 | A_{0} = 1\n"
		"      | ^\n"
		"  hint: declare it with `output` or `tensor`, or write to another tensor\n"},
	{"output_unwritten",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N], Z\n"
		"B_{i} = A_{i}\n",
		{NULL}, 0, 1,
		"t.ein:3:14: error: output 'Z' is never written\n"
		"    3 | output B[N], Z\n"
		"      |              ^\n"
		"  hint: define it with an Einsum, e.g. Z_{...} = ...\n"},
	{"decl_twice",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"tensor B[N]\n"
		"B_{i} = A_{i}\n",
		{NULL}, 0, 1,
		"t.ein:4:8: error: tensor 'B' is declared twice\n"
		"    4 | tensor B[N]\n"
		"      |        ^\n"
		"t.ein:3:8: note: first declared here\n"
		"    3 | output B[N]\n"
		"      |        ^\n"},
	{"param_twice",
		"param N = 4, N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A_{i}\n",
		{NULL}, 0, 1,
		"t.ein:1:14: error: parameter 'N' is defined twice\n"
		"    1 | param N = 4, N = 4\n"
		"      |              ^\n"
		"t.ein:1:7: note: first defined here\n"
		"    1 | param N = 4, N = 4\n"
		"      |       ^\n"},
	{"decl_is_param",
		"param N = 4\n"
		"input A[N]\n"
		"output N\n"
		"B_{i} = A_{i}\n",
		{NULL}, 0, 1,
		"t.ein:3:8: error: 'N' is already a parameter\n"
		"    3 | output N\n"
		"      |        ^\n"
		"t.ein:1:7: note: 'N' is defined here\n"
		"    1 | param N = 4\n"
		"      |       ^\n"
		"t.ein:4:1: warning: 'B' is computed but never used\n"
		"    4 | B_{i} = A_{i}\n"
		"      | ^\n"},
	{"label_twice",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"x: B_{i} = A_{i} where i < 2\n"
		"x: B_{i} = A_{i} where i >= 2\n",
		{NULL}, 0, 1,
		"t.ein:5:1: error: the label 'x' is already used\n"
		"    5 | x: B_{i} = A_{i} where i >= 2\n"
		"      | ^\n"
		"t.ein:4:1: note: first used here\n"
		"    4 | x: B_{i} = A_{i} where i < 2\n"
		"      | ^\n"},
	{"define_unknown",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A_{i}\n",
		{"M=3"}, 1, 1,
		"t.ein: error: -D M=3: this file has no parameter 'M'\n"},
	{"define_not_int",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A_{i}\n",
		{"N=4.5"}, 1, 1,
		"t.ein: error: -D N=4.5: the value must be a non-negative integer\n"},
	{"define_too_large",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A_{i}\n",
		{"N=1099511627777"}, 1, 1,
		"t.ein: error: -D N=1099511627777: value too large (the limit is 2^40)\n"},
	{"define_no_eq",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A_{i}\n",
		{"N"}, 1, 1,
		"t.ein: error: -D N: expected NAME=VALUE\n"},
	{"define_empty_name",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A_{i}\n",
		{"=3"}, 1, 1,
		"t.ein: error: -D =3: expected NAME=VALUE\n"},
	{"define_zero",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"B_{i} = A_{i}\n",
		{"N=0"}, 1, 2,
		"t.ein:2:9: error: the 1st extent of 'A' is N = 0; extents must be at least 1\n"
		"    2 | input A[N]\n"
		"      |         ^\n"
		"t.ein:3:10: error: the 1st extent of 'B' is N = 0; extents must be at least 1\n"
		"    3 | output B[N]\n"
		"      |          ^\n"},
	{"extent_negative",
		"param N = 4\n"
		"input A[N, 2 - N]\n"
		"output B[N]\n"
		"B_{i} = A_{i, 0}\n",
		{NULL}, 0, 1,
		"t.ein:2:12: error: the 2nd extent of 'A' is 2 - N = -2; extents must be at least 1\n"
		"    2 | input A[N, 2 - N]\n"
		"      |            ^~~~~\n"},
	{"too_many_dims",
		"param N = 4\n"
		"input A[N]\n"
		"output B[1,1,1,1,1,1,1,1,1]\n"
		"B_{0,0,0,0,0,0,0,0,0} = A_{0}\n",
		{NULL}, 0, 1,
		"t.ein:3:8: error: 'B' has 9 ranks; the limit is 8\n"
		"    3 | output B[1,1,1,1,1,1,1,1,1]\n"
		"      |        ^~~~~~~~~~~~~~~~~~~~\n"},
	{"too_many_vars",
		"input A[1]\n"
		"output B[1]\n"
		"B_{0} = A_{a+b+c+d+e+f+g+h+i+j+k+l+m+n+o+p+q}\n",
		{NULL}, 0, 1,
		"t.ein:3:44: error: too many rank variables in one Einsum (the limit is 16)\n"
		"    3 | B_{0} = A_{a+b+c+d+e+f+g+h+i+j+k+l+m+n+o+p+q}\n"
		"      |                                            ^\n"},
	{"unknown_type",
		"param N = 4\n"
		"input A[N]: int8\n"
		"output B[N]\n"
		"B_{i} = A_{i}\n",
		{NULL}, 0, 1,
		"t.ein:2:13: error: unknown element type 'int8'\n"
		"    2 | input A[N]: int8\n"
		"      |             ^~~~\n"
		"  hint: the element types are f32, f16, bf16 and f64\n"},
	{"range_unknown",
		"param N = 4\n"
		"input A[N]\n"
		"output B[N]\n"
		"T_{i, q} = A_{i}\n"
		"B_{i} = T_{i, 0}\n",
		{NULL}, 0, 1,
		"t.ein:4:7: error: cannot tell the range of rank variable 'q'\n"
		"    4 | T_{i, q} = A_{i}\n"
		"      |       ^\n"
		"  hint: 'q' indexes no dimension of a tensor whose shape is known by itself, and there is no parameter 'Q'; declare the output's shape or add `param Q = ...`\n"},
	{"param_errors",
		"param A = 1 / 0, B = 2.5, C = D, D = 1, E = F + 1, G = min(1), H = 2 x\n",
		{NULL}, 0, 6,
		"t.ein:1:11: error: division by zero\n"
		"    1 | param A = 1 / 0, B = 2.5, C = D, D = 1, E = F + 1, G = min(1), H = 2 x\n"
		"      |           ^~~~~\n"
		"t.ein:1:22: error: parameter values are integers\n"
		"    1 | param A = 1 / 0, B = 2.5, C = D, D = 1, E = F + 1, G = min(1), H = 2 x\n"
		"      |                      ^~~\n"
		"t.ein:1:31: error: parameter 'D' is used before it is defined\n"
		"    1 | param A = 1 / 0, B = 2.5, C = D, D = 1, E = F + 1, G = min(1), H = 2 x\n"
		"      |                               ^\n"
		"t.ein:1:34: note: 'D' is defined here\n"
		"    1 | param A = 1 / 0, B = 2.5, C = D, D = 1, E = F + 1, G = min(1), H = 2 x\n"
		"      |                                  ^\n"
		"t.ein:1:45: error: unknown parameter 'F'\n"
		"    1 | param A = 1 / 0, B = 2.5, C = D, D = 1, E = F + 1, G = min(1), H = 2 x\n"
		"      |                                             ^\n"
		"t.ein:1:56: error: min takes 2 arguments, not 1\n"
		"    1 | param A = 1 / 0, B = 2.5, C = D, D = 1, E = F + 1, G = min(1), H = 2 x\n"
		"      |                                                        ^~~~~~\n"
		"t.ein:1:68: error: missing operator in a parameter value\n"
		"    1 | param A = 1 / 0, B = 2.5, C = D, D = 1, E = F + 1, G = min(1), H = 2 x\n"
		"      |                                                                    ^~~\n"
		"  hint: write '*' to multiply\n"},
	{"param_overflow",
		"param A = 9223372036854775807 + 1\n",
		{NULL}, 0, 1,
		"t.ein:1:11: error: parameter value overflows 64 bits\n"
		"    1 | param A = 9223372036854775807 + 1\n"
		"      |           ^~~~~~~~~~~~~~~~~~~~~~~\n"},
	{"param_range",
		"param A = -1099511627777\n",
		{NULL}, 0, 1,
		"t.ein:1:11: error: parameter 'A' = -1099511627777 is out of range (|value| <= 2^40)\n"
		"    1 | param A = -1099511627777\n"
		"      |           ^~~~~~~~~~~~~~\n"},
	{"many_kinds",
		"param N = 4\n"
		"input A[N], V[N]\n"
		"output B[N], C[N]\n"
		"B_{i} = A_{i+2}\n"
		"C_{i} = V_{j}\n"
		"C_{i} = foo(A_{i})\n"
		"D_{i} = B_{i} where i != 1\n",
		{NULL}, 0, 3,
		"t.ein:4:9: error: A_{i+2} reads outside 'A': at i=2 it is A[4], but 'A' has shape [4]\n"
		"    4 | B_{i} = A_{i+2}\n"
		"      |         ^~~~~~~\n"
		"  hint: restrict the rank variables with a filter, e.g. `where ...`, or check the index expressions\n"
		"t.ein:6:9: error: unknown function 'foo'\n"
		"    6 | C_{i} = foo(A_{i})\n"
		"      |         ^~~\n"
		"  hint: the functions are exp log sqrt rsqrt sigmoid silu softplus tanh relu abs neg recip square, and max(a, b), min(a, b)\n"
		"t.ein:7:21: error: '!=' is not allowed in a filter: the iteration space must stay convex\n"
		"    7 | D_{i} = B_{i} where i != 1\n"
		"      |                     ^~~~~~\n"
		"  hint: split the Einsum into one for '<' and one for '>'\n"},
};
#define NREJECTS ((int)(sizeof(rejects) / sizeof(rejects[0])))

static void test_reject(void **state)
{
	const reject *t = *state;
	result r;
	run(t->src, t->defs, t->ndefs, &r);
	if (strcmp(r.text, t->want) != 0)
		print_error("%s: diagnostics differ.\n--- want\n%s--- got\n%s---\n",
			    t->name, t->want, r.text);
	assert_string_equal(r.text, t->want);
	assert_null(r.c);
	assert_int_equal(r.errors, t->errors);
	result_free(&r);
}

int main(void)
{
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_params_and_defines),
		cmocka_unit_test(test_declared_tensors),
		cmocka_unit_test(test_inferred_shapes),
		cmocka_unit_test(test_rank_kinds),
		cmocka_unit_test(test_rank_range_from_param),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_spec),
		cmocka_unit_test(test_expressions),
		cmocka_unit_test(test_functions),
		cmocka_unit_test(test_einsum_names),
		cmocka_unit_test(test_warnings_do_not_reject),
		cmocka_unit_test(test_mamba1),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_diag_order_and_parts),
		cmocka_unit_test(test_diag_limit),
		cmocka_unit_test(test_diag_helpers),
	};
	enum { NFIXED = sizeof(fixed) / sizeof(fixed[0]) };
	/* One test per rejected program, named after it. */
	struct CMUnitTest tests[NFIXED + NREJECTS];
	char names[NREJECTS][80];
	memcpy(tests, fixed, sizeof(fixed));
	for (int i = 0; i < NREJECTS; i++) {
		snprintf(names[i], sizeof(names[i]), "reject_%s", rejects[i].name);
		tests[NFIXED + i] = (struct CMUnitTest){
			names[i], test_reject, NULL, NULL,
			(void *)(uintptr_t)&rejects[i]};
	}
	return _cmocka_run_group_tests("test_check", tests, NFIXED + NREJECTS,
				       NULL, NULL);
}
