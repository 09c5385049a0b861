/* test_runtime.c - the kernels' runtime (runtime/ml_*.h) on its own: the
 * language's functions against libm in double, and every product entry
 * point (one thread, split across threads, a team) against a naive product
 * in double, for the four storage orders and the matrix-vector shapes.
 *
 * Built twice (tests/CMakeLists.txt): portable (no BLAS, no OpenMP) and
 * with -DML_BLAS, OpenBLAS and OpenMP, the way generated kernels build. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ml_alloc.h"
#include "ml_base.h"
#include "ml_gemm.h"
#include "ml_math.h"

/* Largest relative error of f against ref over [lo, hi] at n points. */
static double max_rel_err(float (*f)(float), double (*ref)(double), double lo, double hi, int n)
{
	double worst = 0;
	for (int i = 0; i <= n; i++) {
		double x = lo + (hi - lo) * i / n;
		double r = ref((double)(float)x), y = f((float)x);
		double e = fabs(y - r) / (fabs(r) > 1e-30 ? fabs(r) : 1e-30);
		if (e > worst)
			worst = e;
	}
	return worst;
}

static double d_sigmoid(double x) { return 1 / (1 + exp(-x)); }
static double d_silu(double x) { return x / (1 + exp(-x)); }
static double d_softplus(double x) { return log1p(exp(x)); }

static void test_floord_min_max(void **state)
{
	(void)state;
	assert_int_equal(floord(7, 2), 3);
	assert_int_equal(floord(-7, 2), -4);
	assert_int_equal(floord(-8, 2), -4);
	assert_int_equal(floord(7, -2), -4);
	assert_int_equal(min(3, -5), -5);
	assert_int_equal(max(3, -5), 3);
}

static void test_exp_log(void **state)
{
	(void)state;
	assert_true(max_rel_err(ml_exp, exp, -80, 80, 20000) < 2e-6);
	assert_true(max_rel_err(ml_log, log, 1e-30, 10, 20000) < 2e-6);
	assert_true(max_rel_err(ml_log, log, 10, 1e30, 20000) < 2e-6);
	/* Saturation instead of inf or a wrapped exponent. */
	assert_true(isfinite(ml_exp(1000.0f)));
	assert_true(ml_exp(-1000.0f) >= 0.0f && ml_exp(-1000.0f) < 1e-37f);
	/* The clamp works on the bits (ml_math.h): the infinities saturate
	 * like the large values, NaN of either sign stays NaN, the bounds
	 * and the zeros are left alone. */
	assert_true(ml_exp(INFINITY) == ml_exp(88.0f) && isfinite(ml_exp(INFINITY)));
	assert_true(ml_exp(-INFINITY) == ml_exp(-87.0f));
	assert_true(isnan(ml_exp(NAN)) && isnan(ml_exp(-NAN)));
	assert_true(fabs(ml_exp(88.0f) / exp(88.0) - 1) < 2e-6);
	assert_true(fabs(ml_exp(-87.0f) / exp(-87.0) - 1) < 2e-6);
	assert_true(ml_exp(89.0f) == ml_exp(88.0f) && ml_exp(-88.0f) == ml_exp(-87.0f));
	assert_true(ml_exp(0.0f) == 1.0f && ml_exp(-0.0f) == 1.0f);
	assert_true(fabs(ml_exp(-86.9f) / exp((double)-86.9f) - 1) < 2e-6);
	/* ml_log falls back to logf outside the normal range. */
	assert_true(isinf(ml_log(0.0f)) && ml_log(0.0f) < 0);
	assert_true(isnan(ml_log(-1.0f)));
}

static void test_activations(void **state)
{
	(void)state;
	assert_true(max_rel_err(ml_sigmoid, d_sigmoid, -30, 30, 20000) < 2e-6);
	assert_true(max_rel_err(ml_silu, d_silu, 0.01, 30, 20000) < 2e-6);
	assert_true(max_rel_err(ml_silu, d_silu, -30, -0.01, 20000) < 2e-5);
	/* softplus: relative error everywhere, e^x far below 0 (where
	 * log(1 + e^x) would round 1 + e^x first: 17% off at -15), x far
	 * above; NaN stays NaN. */
	assert_true(max_rel_err(ml_softplus, d_softplus, -80, -15.5, 20000) < 1e-6);
	assert_true(max_rel_err(ml_softplus, d_softplus, -15.5, 20, 200000) < 1e-6);
	assert_true(max_rel_err(ml_softplus, d_softplus, 20, 80, 20000) < 1e-6);
	assert_true(ml_softplus(100.0f) == 100.0f && isinf(ml_softplus(INFINITY)));
	assert_true(isnan(ml_softplus(NAN)) && ml_softplus(-INFINITY) < 1e-37f);
	/* tanh: both sides of the switch at 0.125, saturation, sign, NaN. */
	assert_true(max_rel_err(ml_tanh, tanh, 1e-6, 0.125, 20000) < 1e-6);
	assert_true(max_rel_err(ml_tanh, tanh, 0.125, 10, 20000) < 1e-6);
	assert_true(max_rel_err(ml_tanh, tanh, -10, -1e-6, 20000) < 1e-6);
	assert_true(ml_tanh(100.0f) == 1.0f && ml_tanh(-100.0f) == -1.0f);
	assert_true(ml_tanh(0.0f) == 0.0f && isnan(ml_tanh(NAN)));
	assert_true(ml_relu(-2.0f) == 0.0f && ml_relu(2.0f) == 2.0f);
	assert_true(ml_max(1.0f, 2.0f) == 2.0f && ml_min(1.0f, 2.0f) == 1.0f);
	assert_true(ml_rsqrt(4.0f) == 0.5f && ml_square(-3.0f) == 9.0f);
	assert_true(ml_recip(4.0f) == 0.25f && ml_neg(1.0f) == -1.0f && ml_abs(-1.0f) == 1.0f);
}

/* A product's operands in one of the four storage orders, with padding
 * between rows (leading dimensions larger than the rows). */
typedef struct prod {
	int xt, yt;
	long M, N, K, ldx, ldy, ldc;
	float *X, *Y, *C;
	double *R; /* beta * C0 + op(X) op(Y) */
} prod;

static float val(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static void prod_init(prod *p, int xt, int yt, long M, long N, long K, float beta)
{
	unsigned s = (unsigned)(M * 131 + N * 17 + K + xt * 7 + yt);
	p->xt = xt;
	p->yt = yt;
	p->M = M;
	p->N = N;
	p->K = K;
	p->ldx = (xt ? M : K) + 3;
	p->ldy = (yt ? K : N) + 5;
	p->ldc = N + 2;
	long xr = xt ? K : M, yr = yt ? N : K;
	p->X = ml_alloc(xr * p->ldx);
	p->Y = ml_alloc(yr * p->ldy);
	p->C = ml_alloc(M * p->ldc);
	p->R = calloc((size_t)(M * N > 0 ? M * N : 1), sizeof(double));
	assert_non_null(p->X);
	assert_non_null(p->Y);
	assert_non_null(p->C);
	assert_non_null(p->R);
	for (long i = 0; i < xr * p->ldx; i++)
		p->X[i] = val(&s);
	for (long i = 0; i < yr * p->ldy; i++)
		p->Y[i] = val(&s);
	for (long i = 0; i < M * p->ldc; i++)
		p->C[i] = val(&s);
	for (long i = 0; i < M; i++)
		for (long j = 0; j < N; j++) {
			double r = beta * (double)p->C[i * p->ldc + j];
			for (long q = 0; q < K; q++) {
				float x = xt ? p->X[q * p->ldx + i] : p->X[i * p->ldx + q];
				float y = yt ? p->Y[j * p->ldy + q] : p->Y[q * p->ldy + j];
				r += (double)x * (double)y;
			}
			p->R[i * N + j] = r;
		}
}

static void prod_check(prod *p)
{
	for (long i = 0; i < p->M; i++)
		for (long j = 0; j < p->N; j++) {
			double r = p->R[i * p->N + j], y = p->C[i * p->ldc + j];
			if (fabs(y - r) > 1e-4 * (1 + fabs(r)) + 1e-5 * (double)p->K) {
				fail_msg("xt=%d yt=%d M=%ld N=%ld K=%ld: C[%ld,%ld] = %g, want %g", p->xt,
					 p->yt, p->M, p->N, p->K, i, j, y, r);
			}
		}
	free(p->X);
	free(p->Y);
	free(p->C);
	free(p->R);
}

/* Shapes: a small product, thin ones, matrix-vector products both ways
 * (long enough along K that ml_sgemm splits them), one large enough to
 * split by rows or columns. */
static const long shapes[][3] = {{3, 5, 7},	{1, 700, 300}, {700, 1, 300}, {1, 40, 3000},
				 {40, 1, 3000}, {130, 90, 40}, {33, 257, 65}, {1, 1, 1}};
#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

static void test_sgemm1(void **state)
{
	(void)state;
	for (size_t s = 0; s < NSHAPES; s++)
		for (int o = 0; o < 4; o++)
			for (int b = 0; b < 2; b++) {
				prod p;
				prod_init(&p, o & 1, o >> 1, shapes[s][0], shapes[s][1], shapes[s][2],
					  (float)b);
				ml_sgemm1(p.xt, p.yt, p.M, p.N, p.K, p.X, p.ldx, p.Y, p.ldy, (float)b,
					  p.C, p.ldc);
				prod_check(&p);
			}
}

static void test_sgemm_split(void **state)
{
	(void)state;
	for (size_t s = 0; s < NSHAPES; s++)
		for (int o = 0; o < 4; o++)
			for (int b = 0; b < 2; b++) {
				prod p;
				prod_init(&p, o & 1, o >> 1, shapes[s][0], shapes[s][1], shapes[s][2],
					  (float)b);
				ml_sgemm(p.xt, p.yt, p.M, p.N, p.K, p.X, p.ldx, p.Y, p.ldy, (float)b,
					 p.C, p.ldc);
				prod_check(&p);
			}
}

/* Every thread of a team calls ml_sgemm_team; one of them arrives late.
 * Outside OpenMP it is ml_sgemm. */
static void test_sgemm_team(void **state)
{
	(void)state;
	for (size_t s = 0; s < NSHAPES; s++)
		for (int o = 0; o < 4; o++) {
			prod p;
			prod_init(&p, o & 1, o >> 1, shapes[s][0], shapes[s][1], shapes[s][2], 0.0f);
			long vlen = p.M == 1 ? p.N : p.M;
			float *part = ml_alloc(ML_TEAM * vlen);
			assert_non_null(part);
			long next = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(2)
#endif
			{
#ifdef _OPENMP
				if (omp_get_thread_num() == 0) {
					volatile double w = 0;
					for (int i = 0; i < 100000; i++)
						w += i;
				}
#endif
				ml_sgemm_team(&next, part, p.xt, p.yt, p.M, p.N, p.K, p.X, p.ldx, p.Y,
					      p.ldy, 0.0f, p.C, p.ldc);
			}
			free(part);
			prod_check(&p);
		}
}

/* ml_sgemma's alpha, and ml_sgemm_tri: for every pair of indices (i, j,
 * k) and offsets that cut the blocks at several places, against a
 * reference that applies the constraint term by term; elements of C
 * outside an (i, j) constraint must keep their value. */
static void test_sgemm_alpha_tri(void **state)
{
	(void)state;
	const long tri_shapes[][3] = {{150, 140, 70}, {7, 200, 130}, {200, 9, 66}, {64, 64, 64}};
	const long offs[] = {-70, -1, 0, 3, 65};
	for (size_t sh = 0; sh < 4; sh++)
		for (int o = 0; o < 4; o++)
			for (int r = 0; r < 6; r++)
				for (size_t od = 0; od < 5; od++) {
					static const int pairs[6][2] = {{0, 1}, {1, 0}, {0, 2},
									{2, 0}, {1, 2}, {2, 1}};
					int r1 = pairs[r][0], r2 = pairs[r][1];
					long d = offs[od];
					float beta = (float)((o + r) & 1), alpha = 0.5f;
					prod p;
					prod_init(&p, o & 1, o >> 1, tri_shapes[sh][0], tri_shapes[sh][1],
						  tri_shapes[sh][2], beta);
					/* The reference, term by term. */
					for (long i = 0; i < p.M; i++)
						for (long j = 0; j < p.N; j++) {
							long idx[3] = {i, j, 0};
							double acc = 0;
							for (long q = 0; q < p.K; q++) {
								idx[2] = q;
								if (idx[r2] > idx[r1] + d && r1 != 2 && r2 != 2)
									break;
								if (idx[r2] > idx[r1] + d)
									continue;
								float x = p.xt ? p.X[q * p.ldx + i] : p.X[i * p.ldx + q];
								float y = p.yt ? p.Y[j * p.ldy + q] : p.Y[q * p.ldy + j];
								acc += (double)x * (double)y;
							}
							int out = r1 != 2 && r2 != 2 && idx[r2] > idx[r1] + d;
							double c = p.C[i * p.ldc + j];
							p.R[i * p.N + j] = out ? c : beta * c + alpha * acc;
						}
					ml_sgemm_tri(alpha, p.xt, p.yt, p.M, p.N, p.K, p.X, p.ldx, p.Y, p.ldy,
						     beta, p.C, p.ldc, r1, r2, d);
					prod_check(&p);
				}
	prod p;
	prod_init(&p, 1, 0, 33, 257, 65, 0.0f);
	for (long i = 0; i < p.M * p.N; i++)
		p.R[i] *= 0.25;
	ml_sgemma(0.25f, p.xt, p.yt, p.M, p.N, p.K, p.X, p.ldx, p.Y, p.ldy, 0.0f, p.C, p.ldc);
	prod_check(&p);
}

static void test_add_parts(void **state)
{
	(void)state;
	float part[3 * 10], C[20];
	for (int i = 0; i < 30; i++)
		part[i] = (float)i;
	for (int i = 0; i < 20; i++)
		C[i] = 1.0f;
	/* Two "threads" of a split, each its share; stride 2 in C. */
	ml_add_parts(C, 2, part, 3, 10, 2.0f, 0, 2);
	ml_add_parts(C, 2, part, 3, 10, 2.0f, 1, 2);
	for (int j = 0; j < 10; j++) {
		assert_true(C[2 * j] == 2.0f + (float)(j + (10 + j) + (20 + j)));
		assert_true(C[2 * j + 1] == 1.0f);
	}
}

int main(void)
{
	ml_blas_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_floord_min_max), cmocka_unit_test(test_exp_log),
		cmocka_unit_test(test_activations),    cmocka_unit_test(test_sgemm1),
		cmocka_unit_test(test_sgemm_split),    cmocka_unit_test(test_sgemm_team),
		cmocka_unit_test(test_add_parts),      cmocka_unit_test(test_sgemm_alpha_tri),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
