/* test_recompute.c - recompute fusion's rewrite of the cascade: which
 * tensors it offers to recompute, what the rewritten cascade holds, that
 * it computes the same outputs as the original, and the rewrites it
 * refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/recompute.h"
#include "eval/eval.h"
#include "front/check.h"

static ein_cascade *load_src(const char *src)
{
	diag_ctx *d = diag_new("test.ein", src, strlen(src));
	assert_non_null(d);
	check_opts o = {0, NULL};
	ein_cascade *c = check_source(d, &o);
	if (!c)
		diag_flush(d, stderr);
	diag_free(d);
	assert_non_null(c);
	return c;
}

static ein_cascade *load_mamba1(void)
{
	char err[256];
	diag_ctx *d = check_load_file(SRCDIR "/examples/mamba1.ein", CHECK_MAX_SOURCE_BYTES, err,
				      sizeof(err));
	assert_non_null(d);
	/* Few tokens: the outputs are compared by evaluating both (with the
	 * model's widths, so that dt_proj's 48-long reduction is not cheap). */
	static const char *const defs[] = {"I=6", "B=2"};
	check_opts o = {2, defs};
	ein_cascade *c = check_source(d, &o);
	diag_free(d);
	assert_non_null(c);
	return c;
}

static int einsum(const ein_cascade *c, const char *name)
{
	int e = ein_cascade_find_einsum(c, name);
	assert_true(e >= 0);
	return e;
}

/* A spec from names: the tensor, its chain and its readers. */
static recompute_spec spec(const ein_cascade *c, const char *t, const char *const *chain,
			   const char *const *readers)
{
	recompute_spec s = {.tensor = ein_cascade_find_tensor(c, t)};
	for (; *chain; chain++)
		s.chain[s.nchain++] = einsum(c, *chain);
	for (; *readers; readers++)
		s.readers[s.nreaders++] = einsum(c, *readers);
	return s;
}

/* Every output of a and b (same names) over the same random inputs. */
static void assert_same_outputs(const ein_cascade *a, const ein_cascade *b)
{
	char msg[256];
	eval_tensors *ta = eval_tensors_alloc(a, 1 << 24, NULL), *tb = eval_tensors_alloc(b, 1 << 24, NULL);
	assert_non_null(ta);
	assert_non_null(tb);
	eval_fill_random(a, ta, 3);
	eval_fill_random(b, tb, 3);
	assert_int_equal(eval_run(a, ta, msg, sizeof(msg)), 0);
	assert_int_equal(eval_run(b, tb, msg, sizeof(msg)), 0);
	int outs = 0;
	for (int t = 0; t < a->ntensors; t++) {
		if (a->tensors[t].role != EIN_ROLE_OUTPUT)
			continue;
		int u = ein_cascade_find_tensor(b, a->tensors[t].name);
		assert_true(u >= 0);
		for (int64_t i = 0; i < a->tensors[t].nelems; i++)
			assert_true(ta->data[t][i] == tb->data[u][i]);
		outs++;
	}
	assert_true(outs > 0);
	eval_tensors_free(ta);
	eval_tensors_free(tb);
}

/* Mamba-1: U (conv and SiLU, from TX and the conv state) and DELTA
 * (softplus) can be made again; the state H (a recurrence) and BM (a
 * projection over d) cannot. */
static void test_candidates(void **state)
{
	(void)state;
	ein_cascade *c = load_mamba1();
	recompute_spec s[64];
	int n = recompute_candidates(c, s, 64);
	int u_late = 0, delta = 0;
	for (int i = 0; i < n; i++) {
		const char *t = c->tensors[s[i].tensor].name;
		assert_true(strcmp(t, "H") != 0 && strcmp(t, "BM") != 0 && strcmp(t, "TX") != 0);
		if (strcmp(t, "U") == 0 && s[i].nreaders == 2) {
			assert_int_equal(s[i].nchain, 4); /* XP.1 XP.2 CV U */
			assert_int_equal(s[i].chain[0], einsum(c, "XP.1"));
			assert_int_equal(s[i].chain[3], einsum(c, "U"));
			assert_int_equal(s[i].readers[0], einsum(c, "BX"));
			assert_int_equal(s[i].readers[1], einsum(c, "Y"));
			u_late = 1;
		}
		if (strcmp(t, "DELTA") == 0) {
			assert_int_equal(s[i].nchain, 1);
			delta = 1;
		}
	}
	assert_true(u_late && delta);
	int chain[RECOMPUTE_MAX_CHAIN];
	assert_int_equal(recompute_chain(c, ein_cascade_find_tensor(c, "H"), chain, RECOMPUTE_MAX_CHAIN), 0);
	assert_int_equal(recompute_chain(c, ein_cascade_find_tensor(c, "LX"), chain, RECOMPUTE_MAX_CHAIN), 0);
	ein_cascade_free(c);
}

/* The rewrite of U for BX and Y: the clones come just before BX, write
 * U_r (and XP_r, CV_r), BX and Y read U_r, the others still read U, and
 * the outputs are those of the cascade as written, to the bit. */
static void test_apply_mamba1(void **state)
{
	(void)state;
	ein_cascade *c = load_mamba1();
	static const char *const chain[] = {"XP.1", "XP.2", "CV", "U", NULL};
	static const char *const readers[] = {"BX", "Y", NULL};
	recompute_spec s = spec(c, "U", chain, readers);
	char err[256];
	int copy = -1;
	ein_cascade *r = recompute_apply(c, &s, 1, &copy, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(r->neinsums, c->neinsums + 4);
	assert_string_equal(r->tensors[copy].name, "U_r");
	assert_int_equal(r->tensors[copy].role, EIN_ROLE_TEMP);
	int bx = einsum(r, "BX");
	assert_int_equal(einsum(r, "XP_r.1"), bx - 4);
	assert_int_equal(einsum(r, "U_r"), bx - 1);
	assert_true(ein_einsum_reads(&r->einsums[bx], copy));
	assert_false(ein_einsum_reads(&r->einsums[bx], ein_cascade_find_tensor(r, "U")));
	assert_true(ein_einsum_reads(&r->einsums[einsum(r, "Y")], copy));
	assert_true(ein_einsum_reads(&r->einsums[einsum(r, "TTD")], ein_cascade_find_tensor(r, "U")));
	/* The clone of CV reads the clone of XP. */
	assert_true(ein_einsum_reads(&r->einsums[einsum(r, "CV_r")], ein_cascade_find_tensor(r, "XP_r")));
	const ein_tensor *u = &r->tensors[ein_cascade_find_tensor(r, "U")];
	assert_int_equal(u->nreaders, 3); /* TTD BM CM */
	for (int e = 0; e < r->neinsums; e++)
		assert_int_equal(r->einsums[e].index, e);
	assert_same_outputs(c, r);
	ein_cascade_free(r);
	ein_cascade_free(c);
}

/* A name that is taken moves the copy to the next suffix; two rewrites
 * compose. */
static void test_names_and_two(void **state)
{
	(void)state;
	ein_cascade *c = load_src("param M = 8, K = 8\n"
				  "input X[M, K]\n"
				  "weight W[K, K]\n"
				  "output Y[M, K], U_r[M, K]\n"
				  "U_{m,k} = relu(X_{m,k})\n"
				  "V_{m,k} = exp(X_{m,k})\n"
				  "P_{m,n} = U_{m,k} * V_{m,k} * W_{k,n}\n"
				  "U_r_{m,k} = P_{m,k} + V_{m,k}\n"
				  "Y_{m,k} = U_r_{m,k} + U_{m,k} * V_{m,k}\n");
	static const char *const cu[] = {"U", NULL}, *const cv[] = {"V", NULL};
	static const char *const ry[] = {"Y", NULL}, *const rur[] = {"U_r", "Y", NULL};
	recompute_spec s[2] = {spec(c, "U", cu, ry), spec(c, "V", cv, rur)};
	char err[256];
	int copy[2];
	ein_cascade *r = recompute_apply(c, s, 2, copy, err, sizeof(err));
	assert_non_null(r);
	assert_string_equal(r->tensors[copy[0]].name, "U_r2");
	assert_string_equal(r->tensors[copy[1]].name, "V_r");
	assert_int_equal(r->neinsums, c->neinsums + 2);
	assert_same_outputs(c, r);
	ein_cascade_free(r);
	/* The same tensor twice is refused. */
	recompute_spec twice[2] = {s[0], s[0]};
	assert_null(recompute_apply(c, twice, 2, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "recomputed twice"));
	ein_cascade_free(c);
}

/* What recompute_check refuses, with the reason. */
static void test_refused(void **state)
{
	(void)state;
	ein_cascade *c = load_mamba1();
	char err[256];
	static const char *const part[] = {"XP.2", "CV", "U", NULL}, *const whole[] = {"XP.1", "XP.2", "CV", "U", NULL};
	static const char *const bx[] = {"BX", NULL}, *const lo[] = {"LO", NULL};
	static const char *const scan[] = {"h0", "scan", NULL}, *const hf[] = {"HF", NULL};
	static const char *const early[] = {"CV", NULL}, *const u[] = {"U", NULL};
	recompute_spec s = spec(c, "U", part, bx);
	assert_int_equal(recompute_check(c, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'XP.1' also writes 'XP'"));
	s = spec(c, "U", whole, lo);
	assert_int_equal(recompute_check(c, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "readers must be"));
	s = spec(c, "H", scan, hf);
	assert_int_equal(recompute_check(c, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "recurrence"));
	s = spec(c, "CV", early, u);
	s.chain[0] = einsum(c, "CV");
	s.readers[0] = einsum(c, "XP.2"); /* XP.2 does not read CV */
	assert_int_equal(recompute_check(c, &s, err, sizeof(err)), -1);
	ein_cascade_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_candidates),
		cmocka_unit_test(test_apply_mamba1),
		cmocka_unit_test(test_names_and_two),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
