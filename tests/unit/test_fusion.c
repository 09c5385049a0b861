/* test_fusion.c - dependence analysis, fusion legality and footprints on
 * small cascades and on the Mamba-1 block. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <isl/set.h>
#include <isl/val.h>

#include "analysis/deps.h"
#include "analysis/fusion.h"
#include "analysis/groups.h"
#include "analysis/poly.h"
#include "front/check.h"

typedef struct fixture {
	ein_cascade *c;
	isl_ctx *ctx;
	deps_graph *g;
} fixture;

static void load(fixture *f, const char *src, int ndef, const char *const *defs)
{
	diag_ctx *d = diag_new("test.ein", src, strlen(src));
	assert_non_null(d);
	check_opts o = {ndef, defs};
	f->c = check_source(d, &o);
	if (!f->c)
		diag_flush(d, stderr);
	diag_free(d);
	assert_non_null(f->c);
	f->ctx = poly_ctx_new();
	char err[256];
	f->g = deps_build(f->ctx, f->c, err, sizeof(err));
	if (!f->g)
		fprintf(stderr, "deps: %s\n", err);
	assert_non_null(f->g);
}

static void load_file(fixture *f, const char *path, int ndef,
		      const char *const *defs)
{
	char err[256];
	diag_ctx *d = check_load_file(path, CHECK_MAX_SOURCE_BYTES, err, sizeof(err));
	assert_non_null(d);
	size_t len;
	const char *src = diag_source(d, &len);
	char *copy = strndup(src, len);
	diag_free(d);
	load(f, copy, ndef, defs);
	free(copy);
}

static void unload(fixture *f)
{
	deps_free(f->g);
	isl_ctx_free(f->ctx);
	ein_cascade_free(f->c);
}

/* A candidate from names: "A,B" and "m,n" with tiles (0 = 1). */
static int check_group(fixture *f, const char *group, const char *ranks,
		       const int64_t *tiles, uint32_t par, int permutable,
		       fusion_result *res)
{
	char *members = calloc((size_t)f->c->neinsums, 1);
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", group);
	for (char *p = strtok(buf, ","); p; p = strtok(NULL, ",")) {
		int e = ein_cascade_find_einsum(f->c, p);
		assert_true(e >= 0);
		members[e] = 1;
	}
	fusion_req req = {0};
	req.members = members;
	snprintf(buf, sizeof(buf), "%s", ranks);
	for (char *p = strtok(buf, ","); p; p = strtok(NULL, ",")) {
		int r = deps_rank(f->g, p);
		assert_true(r >= 0);
		req.band[req.nband] = r;
		req.tile[req.nband] = tiles && tiles[req.nband] ? tiles[req.nband] : 1;
		req.nband++;
	}
	req.want_parallel = par;
	req.permutable = permutable;
	char err[256];
	int rc = fusion_check(f->g, &req, 1, res, err, sizeof(err));
	free(members);
	return rc;
}

static const fusion_fp *fp_of(const fixture *f, const fusion_result *res,
			      const char *tensor)
{
	int t = ein_cascade_find_tensor(f->c, tensor);
	for (int i = 0; i < res->nfp; i++)
		if (res->fp[i].tensor == t)
			return &res->fp[i];
	return NULL;
}

static const char matmul_relu[] = "param M = 8, N = 6, K = 5\n"
				  "input A[M, K], B[K, N]\n"
				  "output R[M, N]\n"
				  "C_{m,n} = A_{m,k} * B_{k,n}\n"
				  "R_{m,n} = relu(C_{m,n})\n";

static void test_matmul_relu_legal(void **state)
{
	(void)state;
	fixture f;
	load(&f, matmul_relu, 0, NULL);
	fusion_result res;
	int64_t tiles[2] = {4, 3};
	assert_int_equal(check_group(&f, "C,R", "m,n", tiles, 0, 0, &res), 0);
	assert_true(res.legal);
	assert_int_equal(res.nwitness, 0);
	/* Both fused ranks are parallel: the reduction over k is inside. */
	assert_int_equal(res.parallel, 3);
	/* C is internal: a 4x3 tile buffer, never carried. */
	const fusion_fp *c = fp_of(&f, &res, "C");
	assert_non_null(c);
	assert_int_equal(c->role, FUSION_INTERNAL);
	assert_int_equal(c->footprint, 12);
	assert_int_equal(c->carried, 0);
	/* A tile reads a 4x5 block of A and a 5x3 block of B. */
	assert_int_equal(fp_of(&f, &res, "A")->footprint, 20);
	assert_int_equal(fp_of(&f, &res, "B")->footprint, 15);
	/* The representative tile (1,1): the block of A was read by tile (1,0). */
	assert_int_equal(fp_of(&f, &res, "A")->reread, 20);
	assert_int_equal(res.ntiles, 2 * 2);
	fusion_result_clear(&res);
	/* The edge is a reduction feeding an elementwise consumer: RSb. */
	assert_int_equal(f.g->nedges, 1);
	assert_int_equal(f.g->edges[0].cls, DEPS_RSB);
	unload(&f);
}

static void test_transposed_illegal(void **state)
{
	(void)state;
	fixture f;
	load(&f,
	     "param M = 8, K = 4\n"
	     "input A[M, K], B[K, M]\n"
	     "output T[M, M]\n"
	     "C_{m,n} = A_{m,k} * B_{k,n}\n"
	     "T_{m,n} = relu(C_{n,m})\n",
	     0, NULL);
	fusion_result res;
	assert_int_equal(check_group(&f, "C,T", "m,n", NULL, 0, 0, &res), 0);
	assert_false(res.legal);
	assert_true(res.nwitness >= 1);
	const fusion_witness *w = &res.witness[0];
	/* C(m', n', k) -> T(m, n) with m' = n, n' = m, from the last k, and
	 * the producer's tile after the consumer's: n > m. */
	int C = ein_cascade_find_einsum(f.c, "C"), T = ein_cascade_find_einsum(f.c, "T");
	assert_int_equal(w->producer, C);
	assert_int_equal(w->consumer, T);
	assert_int_equal(w->x[0], w->y[1]);
	assert_int_equal(w->x[1], w->y[0]);
	assert_int_equal(w->x[2], 3); /* k = K-1 */
	assert_true(w->y[1] > w->y[0]);
	assert_int_equal(w->band, 0);
	fusion_result_clear(&res);
	/* Fused on m alone it is still illegal; with n alone too. */
	assert_int_equal(check_group(&f, "C,T", "m", NULL, 0, 0, &res), 0);
	assert_false(res.legal);
	fusion_result_clear(&res);
	unload(&f);
}

static void test_unfinished_reduction(void **state)
{
	(void)state;
	fixture f;
	/* S reduces k; Q reads the finished sum at every k. */
	load(&f,
	     "param M = 4, K = 16\n"
	     "input A[M, K]\n"
	     "output Q[M, K]\n"
	     "S_{m} = A_{m,k}\n"
	     "Q_{m,k} = A_{m,k} / S_{m}\n",
	     0, NULL);
	fusion_result res;
	int64_t tiles[2] = {1, 4};
	assert_int_equal(check_group(&f, "S,Q", "m,k", tiles, 0, 0, &res), 0);
	assert_false(res.legal);
	const fusion_witness *w = &res.witness[0];
	assert_int_equal(w->band, 1);
	assert_int_equal(w->x[1], 15); /* the last step of the reduction */
	assert_true(w->y[1] < 12);     /* read by an earlier tile */
	fusion_result_clear(&res);
	/* Fused on m only, the whole reduction is inside the tile: legal. */
	assert_int_equal(check_group(&f, "S,Q", "m", NULL, 0, 0, &res), 0);
	assert_true(res.legal);
	fusion_result_clear(&res);
	/* Tiles of 16 hold the whole k range: legal at that tile size only. */
	tiles[1] = 16;
	assert_int_equal(check_group(&f, "S,Q", "m,k", tiles, 0, 0, &res), 0);
	assert_true(res.legal);
	fusion_result_clear(&res);
	assert_int_equal(check_group(&f, "S,Q", "m,k", tiles, 0, 1, &res), 0);
	assert_false(res.legal);
	fusion_result_clear(&res);
	unload(&f);
}

static void test_generational_parallel(void **state)
{
	(void)state;
	fixture f;
	load(&f,
	     "param I = 32, D = 4\n"
	     "input X[I, D], S0[D]\n"
	     "output HF[D]\n"
	     "H_{0,d} = S0_{d}\n"
	     "H_{i+1,d} = 0.5 * H_{i,d} + X_{i,d}  gen i until i == I\n"
	     "HF_{d} = H_{I,d}\n",
	     0, NULL);
	int H2 = ein_cascade_find_einsum(f.c, "H.2");
	assert_true(H2 >= 0);
	assert_true(deps_sequential(f.g, H2, deps_rank(f.g, "i")));
	assert_false(deps_sequential(f.g, H2, deps_rank(f.g, "d")));
	fusion_result res;
	int64_t tiles[2] = {1, 8};
	/* Sequential tiles of i: legal, and d parallel. */
	assert_int_equal(check_group(&f, "H.2", "d,i", tiles, 0, 0, &res), 0);
	assert_true(res.legal);
	assert_int_equal(res.parallel, 1);   /* d */
	assert_int_equal(res.sequential, 2); /* i */
	/* The state is carried from the previous tile: one element per d. */
	assert_int_equal(fp_of(&f, &res, "H")->carried, 1);
	fusion_result_clear(&res);
	/* Asked to run i in parallel: illegal, with the recurrence as witness. */
	assert_int_equal(check_group(&f, "H.2", "d,i", tiles, 2, 0, &res), 0);
	assert_false(res.legal);
	assert_true(res.witness[0].parallel);
	assert_int_equal(res.witness[0].producer, H2);
	assert_int_equal(res.witness[0].consumer, H2);
	/* vars of H.2 are (i, d): consecutive generations */
	assert_int_equal(res.witness[0].y[0] - res.witness[0].x[0], 1);
	fusion_result_clear(&res);
	unload(&f);
}

static void test_conv_halo(void **state)
{
	(void)state;
	fixture f;
	load(&f,
	     "param I = 64, D = 8, W = 4\n"
	     "input X[I, D], CS[W-1, D], WCV[D, W]\n"
	     "output U[I, D]\n"
	     "XP_{j,d} = CS_{j,d} where j < W-1\n"
	     "XP_{i+W-1,d} = X_{i,d}\n"
	     "CV_{i,d} = XP_{i+w,d} * WCV_{d,w}\n"
	     "U_{i,d} = silu(CV_{i,d})\n",
	     0, NULL);
	/* The conv halo is W-1 = 3 for any tile of i. */
	int64_t sizes[] = {1, 2, 5, 16, 64};
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		fusion_result res;
		int64_t tiles[1] = {sizes[s]};
		assert_int_equal(check_group(&f, "XP.2,CV,U", "i", tiles, 0, 0, &res), 0);
		assert_true(res.legal);
		const fusion_fp *xp = fp_of(&f, &res, "XP");
		int64_t t = sizes[s] < 64 ? sizes[s] : 64;
		if (res.ntiles > 1) {
			/* Carried from the previous tile: 3 rows of D. */
			assert_int_equal(xp->carried, 3 * 8);
		}
		/* A tile of t conv outputs reads t + 3 rows of XP. */
		assert_int_equal(xp->footprint, (t + 3) * 8);
		fusion_result_clear(&res);
	}
	/* The edge reports the window. */
	int found = 0;
	for (int k = 0; k < f.g->nedges; k++) {
		const deps_edge *ed = &f.g->edges[k];
		if (strcmp(f.c->einsums[ed->consumer].name, "CV") != 0 ||
		    strcmp(f.c->einsums[ed->producer].name, "XP.2") != 0)
			continue;
		for (int d = 0; d < ed->ndist; d++)
			if (strcmp(f.g->ranks[ed->dist[d].rank], "i") == 0) {
				assert_int_equal(ed->dist[d].lo, 0);
				assert_int_equal(ed->dist[d].hi, 3);
				found = 1;
			}
	}
	assert_true(found);
	unload(&f);
}

static const deps_edge *edge(const fixture *f, const char *p, const char *q)
{
	for (int k = 0; k < f->g->nedges; k++) {
		const deps_edge *ed = &f->g->edges[k];
		if (strcmp(f->c->einsums[ed->producer].name, p) == 0 &&
		    strcmp(f->c->einsums[ed->consumer].name, q) == 0)
			return ed;
	}
	return NULL;
}

static void test_mamba_classes_and_passes(void **state)
{
	(void)state;
	fixture f;
	load_file(&f, SRCDIR "/examples/mamba1.ein", 0, NULL);
	struct {
		const char *p, *q;
		deps_class cls;
	} want[] = {
		{"AD", "scan", DEPS_RI},   /* elementwise into the update */
		{"Y", "G", DEPS_RI},	   /* gate */
		{"CV", "U", DEPS_RSB},	   /* the conv reduces w before SiLU */
		{"DELTA", "AD", DEPS_RSP}, /* broadcast along n */
		{"U", "TTD", DEPS_RD},	   /* x_proj reduces d, produces r */
		{"TTD", "DT", DEPS_RD},	   /* same rank set, opposite roles */
		{"G", "LO", DEPS_RD},	   /* out_proj reduces d */
		{"SS", "NX", DEPS_RD},	   /* reduce ed, then scale over ed */
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const deps_edge *ed = edge(&f, want[i].p, want[i].q);
		assert_non_null(ed);
		if (ed->cls != want[i].cls)
			fail_msg("%s -> %s is %s", want[i].p, want[i].q,
				 deps_class_name(ed->cls));
	}
	/* The two multi-pass tensors: U over d, RS over ed. */
	int u = 0, rs = 0;
	for (int k = 0; k < f.g->npasses; k++) {
		const deps_pass *p = &f.g->passes[k];
		const char *t = f.c->tensors[p->tensor].name;
		const char *r = f.g->ranks[p->rank];
		if (strcmp(t, "U") == 0 && strcmp(r, "d") == 0 && p->npasses == 2)
			u = 1;
		else if (strcmp(t, "RS") == 0 && strcmp(r, "ed") == 0 && p->npasses == 2)
			rs = 1;
		else
			fail_msg("unexpected multi-pass tensor %s over %s", t, r);
	}
	assert_true(u && rs);
	/* The scan is sequential in i, and only in i. */
	int scan = ein_cascade_find_einsum(f.c, "scan");
	for (int r = 0; r < f.g->nranks; r++)
		assert_int_equal(deps_sequential(f.g, scan, r),
				 strcmp(f.g->ranks[r], "i") == 0);
	/* The SSM group: discretisation, scan and C contraction. */
	fusion_result res;
	int64_t tiles[4] = {1, 16, 64, 16};
	assert_int_equal(check_group(&f, "AD,BX,scan,YS", "b,i,d,n", tiles, 0, 0, &res), 0);
	assert_true(res.legal);
	assert_int_equal(fp_of(&f, &res, "AD")->role, FUSION_INTERNAL);
	assert_int_equal(fp_of(&f, &res, "BX")->role, FUSION_INTERNAL);
	/* The state crosses i-tiles: B*D*N per tile, here one d-tile of 64. */
	assert_int_equal(fp_of(&f, &res, "H")->carried, 64 * 16);
	fusion_result_clear(&res);
	/* Full-chain fusion over d breaks at the second pass of U. */
	assert_int_equal(check_group(&f, "U,BM,BX", "b,i,d", NULL, 0, 0, &res), 0);
	assert_false(res.legal);
	fusion_result_clear(&res);
	/* The enumeration finds the SSM group on (b,i,d,n). */
	groups_result gr;
	char err[256];
	assert_int_equal(groups_enumerate(f.g, NULL, &gr, err, sizeof(err)), 0);
	int ssm = 0;
	for (int i = 0; i < gr.ngroups; i++) {
		const groups_group *g = &gr.groups[i];
		int want_set = 1;
		const char *names[] = {"AD", "BX", "scan", "YS"};
		for (int e = 0; e < f.c->neinsums; e++) {
			int in = 0;
			for (int k = 0; k < 4; k++)
				in |= strcmp(f.c->einsums[e].name, names[k]) == 0;
			if (in != (g->members[e] != 0))
				want_set = 0;
		}
		if (want_set && g->nbands == 1 && g->bands[0].n == 4)
			ssm = 1;
	}
	assert_true(ssm);
	groups_result_clear(&gr);
	unload(&f);
}

/* poly_count is exact on the shapes the cost model meets (a causal
 * triangle beside free ranks, a band, a parametric triangle, a union),
 * checked against isl's enumeration of the same set. */
static void test_poly_count(void **state)
{
	(void)state;
	static const char *sets[] = {
		"{ [b, h, s, t, p] : 0 <= b < 2 and 0 <= h < 3 and 0 <= s < 40 and 0 <= t <= s and 0 <= p < 5 }",
		"{ [s, t] : 0 <= s < 50 and s - 3 <= t <= s and t >= 0 }",
		"[S] -> { [s, t] : S = 37 and 0 <= s < S and 0 <= t <= s }",
		"{ [s, t] : 0 <= s < 30 and 0 <= t < 30 and t >= 2s - 10 }",
		"{ [i, j, k] : 0 <= i < 12 and 0 <= j <= i and 0 <= k <= j }",
		"{ [i, j] : 0 <= i < 20 and 0 <= j < 20 and (i + j) mod 3 = 0 }",
		"{ [s, t] : 0 <= s < 10 and 0 <= t <= s; [s, t] : 20 <= s < 25 and 0 <= t < 4 }",
		"{ [s, t] : 0 <= s < 3000 and 0 <= t <= s }",
		"{ [i, j] : 0 <= i < 100 and 0 <= j <= 2i and exists k : j = 2k }",
		"{ [s, t] : 0 <= s < 300 and 0 <= t < 200 and t <= s + 7 and t >= s - 90 }",
	};
	isl_ctx *ctx = poly_ctx_new();
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		isl_set *s = isl_set_read_from_str(ctx, sets[i]);
		assert_non_null(s);
		isl_val *v = isl_set_count_val(s);
		assert_non_null(v);
		int64_t want = isl_val_get_num_si(v);
		isl_val_free(v);
		int64_t n = -1;
		int exact = 0;
		assert_int_equal(poly_count(s, &n, &exact), 0);
		if (n != want || !exact)
			fprintf(stderr, "set %zu: counted %lld (exact %d), isl %lld\n", i,
				(long long)n, exact, (long long)want);
		assert_int_equal(n, want);
		assert_true(exact);
	}
	isl_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matmul_relu_legal),
		cmocka_unit_test(test_transposed_illegal),
		cmocka_unit_test(test_unfinished_reduction),
		cmocka_unit_test(test_generational_parallel),
		cmocka_unit_test(test_conv_halo),
		cmocka_unit_test(test_mamba_classes_and_passes),
		cmocka_unit_test(test_poly_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
