/* mamba_ref.c - an independent reference for one Mamba-1 block.
 *
 * Written straight from the block's formulas (numbered 1-10 below, as in
 * the test plan), not from any .ein source, so that it can check the
 * compiler's evaluator end to end.  Everything is computed in double
 * precision; only the inputs (float32 .npy) and the outputs (float32 .npy)
 * are single precision.
 *
 *   mamba_ref gen --out DIR [--seed S] [-D NAME=VALUE]...
 *       writes every input and weight as DIR/NAME.npy (deterministic).
 *   mamba_ref run --in DIR --out DIR [-D NAME=VALUE]...
 *       reads them, computes the block, writes LO, RS, CSO, HF to DIR.
 *
 * Sizes (-D): B batch, I tokens, ED d_model, D d_inner, N d_state,
 * R dt_rank, W conv width.  Missing ones default to mamba-130m:
 * B=1 I=64 ED=768 D=1536 N=16 R=48 W=4.
 *
 * Exit status: 0 on success, 1 on any error (with a message on stderr).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "eval/rng.h"
#include "ml_npy.h"

#define PROG "mamba_ref"
#define MAX_SIZE ((int64_t)1 << 20) /* per size; keeps products in int64 */
#define RMS_EPS 1e-5

/* ---------------------------------------------------------------------- */
/* Sizes                                                                   */

typedef struct sizes {
	int64_t B, I, ED, D, N, R, W;
} sizes;

static void sizes_default(sizes *s)
{
	s->B = 1;
	s->I = 64;
	s->ED = 768;
	s->D = 1536;
	s->N = 16;
	s->R = 48;
	s->W = 4;
}

/* Parses "NAME=VALUE" into s.  Returns 0, or -1 after printing a message. */
static int sizes_set(sizes *s, const char *def)
{
	static const char *const names[] = {"B", "I", "ED", "D", "N", "R", "W"};
	int64_t *const fields[] = {&s->B, &s->I, &s->ED, &s->D, &s->N, &s->R, &s->W};
	const char *eq = strchr(def, '=');
	char *end;
	long long v;
	size_t klen, k;

	if (eq == NULL) {
		fprintf(stderr, PROG ": -D %s: expected NAME=VALUE\n", def);
		return -1;
	}
	klen = (size_t)(eq - def);
	for (k = 0; k < sizeof names / sizeof names[0]; k++)
		if (strlen(names[k]) == klen && strncmp(names[k], def, klen) == 0)
			break;
	if (k == sizeof names / sizeof names[0]) {
		fprintf(stderr, PROG ": -D %s: unknown size (expected one of B I ED D N R W)\n", def);
		return -1;
	}
	errno = 0;
	v = strtoll(eq + 1, &end, 10);
	if (eq[1] == '\0' || *end != '\0' || errno != 0 || v < 1 || v > MAX_SIZE) {
		fprintf(stderr, PROG ": -D %s: value must be an integer in 1..%" PRId64 "\n", def,
			MAX_SIZE);
		return -1;
	}
	*fields[k] = (int64_t)v;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Tensors                                                                 */

enum {
	/* inputs */
	T_LX, T_RES, T_CS, T_H0,
	/* weights */
	T_NW, T_WX, T_WZ, T_WCV, T_BCV, T_WTTD, T_WB, T_WC, T_WTD, T_BTD, T_A, T_DS, T_WO,
	T_NIN,
	/* outputs */
	T_LO = T_NIN, T_RS, T_CSO, T_HF,
	T_COUNT
};

static const char *const tensor_name[T_COUNT] = {
	"LX", "RES", "CS", "H0",
	"NW", "WX", "WZ", "WCV", "BCV", "WTTD", "WB", "WC", "WTD", "BTD", "A", "DS", "WO",
	"LO", "RS", "CSO", "HF",
};

/* Fills shape[] of tensor k and returns its rank. */
static int tensor_shape(const sizes *s, int k, int64_t shape[NPY_MAX_DIMS])
{
	const int64_t B = s->B, I = s->I, ED = s->ED, D = s->D, N = s->N, R = s->R, W = s->W;
	int64_t sh[3] = {0, 0, 0};
	int nd = 0;

	switch (k) {
	case T_LX: case T_RES: case T_LO: case T_RS:
		nd = 3; sh[0] = B; sh[1] = I; sh[2] = ED; break;
	case T_CS: case T_CSO:
		nd = 3; sh[0] = B; sh[1] = W - 1; sh[2] = D; break;
	case T_H0: case T_HF:
		nd = 3; sh[0] = B; sh[1] = D; sh[2] = N; break;
	case T_NW:
		nd = 1; sh[0] = ED; break;
	case T_WX: case T_WZ:
		nd = 2; sh[0] = ED; sh[1] = D; break;
	case T_WCV:
		nd = 2; sh[0] = D; sh[1] = W; break;
	case T_BCV: case T_BTD: case T_DS:
		nd = 1; sh[0] = D; break;
	case T_WTTD:
		nd = 2; sh[0] = D; sh[1] = R; break;
	case T_WB: case T_WC: case T_A:
		nd = 2; sh[0] = D; sh[1] = N; break;
	case T_WTD:
		nd = 2; sh[0] = R; sh[1] = D; break;
	case T_WO:
		nd = 2; sh[0] = D; sh[1] = ED; break;
	default:
		break;
	}
	for (int i = 0; i < nd; i++)
		shape[i] = sh[i];
	return nd;
}

static int64_t shape_elems(int nd, const int64_t *shape)
{
	int64_t n = 1;

	for (int i = 0; i < nd; i++)
		n *= shape[i]; /* at most 3 dims of <= 2^20 each: no overflow */
	return n;
}

/* calloc of n elements of size sz, or NULL (also when n does not fit). */
static void *alloc_n(int64_t n, size_t sz)
{
	if (n < 0 || (uint64_t)n > SIZE_MAX)
		return NULL;
	return calloc(n > 0 ? (size_t)n : 1, sz);
}

/* Joins dir/name.npy into buf.  Returns 0, or -1 after printing a message. */
static int npy_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s.npy", dir, name);

	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, PROG ": path too long: %s/%s.npy\n", dir, name);
		return -1;
	}
	return 0;
}

static int make_dir(const char *dir)
{
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, PROG ": cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_tensor(const char *dir, const sizes *s, int k, const float *data)
{
	int64_t shape[NPY_MAX_DIMS];
	int nd = tensor_shape(s, k, shape);
	char path[4096], err[512];

	if (npy_path(path, sizeof path, dir, tensor_name[k]) != 0)
		return -1;
	if (npy_write_f32(path, data, nd, shape, err, sizeof err) != 0) {
		fprintf(stderr, PROG ": tensor %s (%s): %s\n", tensor_name[k], path, err);
		return -1;
	}
	return 0;
}

/* Reads dir/NAME.npy for tensor k and checks its shape.  On success *out
 * owns the data. */
static int read_tensor(const char *dir, const sizes *s, int k, float **out)
{
	int64_t want[NPY_MAX_DIMS], got[NPY_MAX_DIMS];
	int nd_want = tensor_shape(s, k, want), nd_got = 0, same;
	char path[4096], err[512], ws[256], gs[256];
	float *data = NULL;

	*out = NULL;
	if (npy_path(path, sizeof path, dir, tensor_name[k]) != 0)
		return -1;
	if (npy_read_f32(path, &data, &nd_got, got, err, sizeof err) != 0) {
		fprintf(stderr, PROG ": tensor %s (%s): %s\n", tensor_name[k], path, err);
		return -1;
	}
	same = nd_got == nd_want;
	for (int i = 0; same && i < nd_want; i++)
		same = got[i] == want[i];
	if (!same) {
		npy_shape_str(nd_want, want, ws, sizeof ws);
		npy_shape_str(nd_got, got, gs, sizeof gs);
		fprintf(stderr, PROG ": tensor %s (%s): expected shape %s, found %s\n",
			tensor_name[k], path, ws, gs);
		free(data);
		return -1;
	}
	*out = data;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* gen                                                                     */

/* Value of element i of tensor k; r is the generator's single stream. */
static float gen_value(const sizes *s, int k, int64_t i, rng *r)
{
	double u = rng_sym(r); /* U(-1, 1) */

	switch (k) {
	case T_LX: case T_RES:
		return (float)u;
	case T_CS: case T_H0:
		return (float)(0.5 * u);
	case T_NW:
		return (float)(1.0 + 0.1 * u);
	case T_WX: case T_WZ:
		return (float)(u / sqrt((double)s->ED));
	case T_WCV:
		return (float)(u / 2.0);
	case T_BCV:
		return (float)(0.1 * u);
	case T_WTTD: case T_WB: case T_WC: case T_WO:
		return (float)(u / sqrt((double)s->D));
	case T_WTD:
		return (float)(u / sqrt((double)s->R));
	case T_BTD: case T_DS:
		return (float)u;
	case T_A: /* A[d,n] = -(n+1)(1 + 0.1 U): negative, as in S4D-real init */
		return (float)(-(double)(i % s->N + 1) * (1.0 + 0.1 * u));
	default:
		return 0.0f;
	}
}

static int cmd_gen(const char *out, uint64_t seed, const sizes *s)
{
	int64_t shape[NPY_MAX_DIMS];
	float *data = NULL;
	int rc = -1;
	rng r;

	if (make_dir(out) != 0)
		goto cleanup;
	rng_seed(&r, seed);
	for (int k = 0; k < T_NIN; k++) {
		int64_t n = shape_elems(tensor_shape(s, k, shape), shape);

		data = alloc_n(n, sizeof *data);
		if (data == NULL) {
			fprintf(stderr, PROG ": out of memory for %s\n", tensor_name[k]);
			goto cleanup;
		}
		for (int64_t i = 0; i < n; i++)
			data[i] = gen_value(s, k, i, &r);
		if (write_tensor(out, s, k, data) != 0)
			goto cleanup;
		free(data);
		data = NULL;
	}
	rc = 0;
cleanup:
	free(data);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* run                                                                     */

static double sigmoid(double v)
{
	return 1.0 / (1.0 + exp(-v));
}

static double silu(double v)
{
	return v * sigmoid(v);
}

static double softplus(double v)
{
	return v > 20.0 ? v : log1p(exp(v));
}

/* Computes the block.  t[] holds the T_NIN inputs and weights, o[] the four
 * outputs (indexed by T_LO - T_NIN etc.), all dense row-major float32. */
static int mamba_block(const sizes *s, float *const t[T_NIN], float *const o[T_COUNT - T_NIN])
{
	const int64_t B = s->B, I = s->I, ED = s->ED, D = s->D, N = s->N, R = s->R, W = s->W;
	const float *LX = t[T_LX], *RES = t[T_RES], *CS = t[T_CS], *H0 = t[T_H0];
	const float *NW = t[T_NW], *WX = t[T_WX], *WZ = t[T_WZ], *WCV = t[T_WCV];
	const float *BCV = t[T_BCV], *WTTD = t[T_WTTD], *WB = t[T_WB], *WC = t[T_WC];
	const float *WTD = t[T_WTD], *BTD = t[T_BTD], *A = t[T_A], *DS = t[T_DS], *WO = t[T_WO];
	float *LO = o[T_LO - T_NIN], *RS = o[T_RS - T_NIN];
	float *CSO = o[T_CSO - T_NIN], *HF = o[T_HF - T_NIN];
	/* Per-batch-row intermediates, all double. */
	double *rs = alloc_n(ED, sizeof *rs);            /* [ED]      */
	double *nx = alloc_n(ED, sizeof *nx);            /* [ED]      */
	double *x = alloc_n(I * D, sizeof *x);           /* [I][D]    */
	double *z = alloc_n(I * D, sizeof *z);           /* [I][D]    */
	double *xp = alloc_n((I + W - 1) * D, sizeof *xp); /* [I+W-1][D] */
	double *u = alloc_n(I * D, sizeof *u);           /* [I][D]    */
	double *dtl = alloc_n(R, sizeof *dtl);           /* [R]       */
	double *Bm = alloc_n(I * N, sizeof *Bm);         /* [I][N]    */
	double *Cm = alloc_n(I * N, sizeof *Cm);         /* [I][N]    */
	double *delta = alloc_n(I * D, sizeof *delta);   /* [I][D]    */
	double *h = alloc_n(D * N, sizeof *h);           /* [D][N]    */
	double *y = alloc_n(D, sizeof *y);               /* [D]       */
	double *lo = alloc_n(ED, sizeof *lo);            /* [ED]      */
	int rc = -1;

	if (!rs || !nx || !x || !z || !xp || !u || !dtl || !Bm || !Cm || !delta || !h || !y ||
	    !lo) {
		fprintf(stderr, PROG ": out of memory\n");
		goto cleanup;
	}

	for (int64_t b = 0; b < B; b++) {
		for (int64_t tt = 0; tt < I; tt++) {
			const int64_t row = (b * I + tt) * ED; /* offset of [b,tt,:] */
			double ss = 0.0, scale;

			/* 1. residual rs = LX + RES (output RS); RMSNorm */
			for (int64_t ed = 0; ed < ED; ed++) {
				rs[ed] = (double)LX[row + ed] + (double)RES[row + ed];
				RS[row + ed] = (float)rs[ed];
				ss += rs[ed] * rs[ed];
			}
			scale = 1.0 / sqrt(ss / (double)ED + RMS_EPS);
			for (int64_t ed = 0; ed < ED; ed++)
				nx[ed] = rs[ed] * scale * (double)NW[ed];

			/* 2. x[d] = sum_ed nx[ed] WX[ed,d];  z[d] = sum_ed nx[ed] WZ[ed,d] */
			for (int64_t d = 0; d < D; d++) {
				x[tt * D + d] = 0.0;
				z[tt * D + d] = 0.0;
			}
			for (int64_t ed = 0; ed < ED; ed++)
				for (int64_t d = 0; d < D; d++) {
					x[tt * D + d] += nx[ed] * (double)WX[ed * D + d];
					z[tt * D + d] += nx[ed] * (double)WZ[ed * D + d];
				}
		}

		/* 3. causal depthwise conv over xp = concat(CS[b], x[b]) along time */
		for (int64_t j = 0; j < I + W - 1; j++)
			for (int64_t d = 0; d < D; d++)
				xp[j * D + d] = j < W - 1 ? (double)CS[(b * (W - 1) + j) * D + d]
							  : x[(j - (W - 1)) * D + d];
		for (int64_t tt = 0; tt < I; tt++)
			for (int64_t d = 0; d < D; d++) {
				double xc = (double)BCV[d];

				for (int64_t w = 0; w < W; w++)
					xc += xp[(tt + w) * D + d] * (double)WCV[d * W + w];
				/* 4. u = silu(xc) */
				u[tt * D + d] = silu(xc);
			}
		/* new conv state: CSO[b,j,d] = xp[j+I, d] */
		for (int64_t j = 0; j < W - 1; j++)
			for (int64_t d = 0; d < D; d++)
				CSO[(b * (W - 1) + j) * D + d] = (float)xp[(j + I) * D + d];

		for (int64_t tt = 0; tt < I; tt++) {
			const double *ut = &u[tt * D];

			/* 5. dt_low[r] = sum_d u[d] WTTD[d,r];
			 *    Bm[n] = sum_d u[d] WB[d,n];  Cm[n] = sum_d u[d] WC[d,n] */
			for (int64_t r = 0; r < R; r++)
				dtl[r] = 0.0;
			for (int64_t n = 0; n < N; n++) {
				Bm[tt * N + n] = 0.0;
				Cm[tt * N + n] = 0.0;
			}
			for (int64_t d = 0; d < D; d++) {
				for (int64_t r = 0; r < R; r++)
					dtl[r] += ut[d] * (double)WTTD[d * R + r];
				for (int64_t n = 0; n < N; n++) {
					Bm[tt * N + n] += ut[d] * (double)WB[d * N + n];
					Cm[tt * N + n] += ut[d] * (double)WC[d * N + n];
				}
			}

			/* 6. delta[d] = softplus(sum_r dt_low[r] WTD[r,d] + BTD[d]) */
			for (int64_t d = 0; d < D; d++)
				delta[tt * D + d] = (double)BTD[d];
			for (int64_t r = 0; r < R; r++)
				for (int64_t d = 0; d < D; d++)
					delta[tt * D + d] += dtl[r] * (double)WTD[r * D + d];
			for (int64_t d = 0; d < D; d++)
				delta[tt * D + d] = softplus(delta[tt * D + d]);
		}

		/* 8. scan: h[-1] = H0[b] */
		for (int64_t i = 0; i < D * N; i++)
			h[i] = (double)H0[b * D * N + i];
		for (int64_t tt = 0; tt < I; tt++) {
			const int64_t row = (b * I + tt) * ED;

			for (int64_t d = 0; d < D; d++) {
				const double dl = delta[tt * D + d], ud = u[tt * D + d];

				y[d] = 0.0;
				for (int64_t n = 0; n < N; n++) {
					/* 7. dA[d,n] = exp(delta[d] A[d,n]);
					 *    dBu[d,n] = delta[d] Bm[n] u[d] */
					double dA = exp(dl * (double)A[d * N + n]);
					double dBu = dl * Bm[tt * N + n] * ud;

					/* 8. h[t] = dA h[t-1] + dBu */
					h[d * N + n] = dA * h[d * N + n] + dBu;
					/* 9. y[d] = sum_n h[t][d,n] Cm[t][n] ... */
					y[d] += h[d * N + n] * Cm[tt * N + n];
				}
				/* 9. ... + DS[d] u[d] */
				y[d] += (double)DS[d] * ud;
			}

			/* 10. g = y silu(z);  LO[ed] = sum_d g[d] WO[d,ed] */
			for (int64_t ed = 0; ed < ED; ed++)
				lo[ed] = 0.0;
			for (int64_t d = 0; d < D; d++) {
				double g = y[d] * silu(z[tt * D + d]);

				for (int64_t ed = 0; ed < ED; ed++)
					lo[ed] += g * (double)WO[d * ED + ed];
			}
			for (int64_t ed = 0; ed < ED; ed++)
				LO[row + ed] = (float)lo[ed];
		}
		/* 8. HF[b] = h[I-1] */
		for (int64_t i = 0; i < D * N; i++)
			HF[b * D * N + i] = (float)h[i];
	}
	rc = 0;
cleanup:
	free(rs);
	free(nx);
	free(x);
	free(z);
	free(xp);
	free(u);
	free(dtl);
	free(Bm);
	free(Cm);
	free(delta);
	free(h);
	free(y);
	free(lo);
	return rc;
}

static int cmd_run(const char *in, const char *out, const sizes *s)
{
	float *t[T_COUNT] = {NULL};
	int64_t shape[NPY_MAX_DIMS];
	int rc = -1;

	for (int k = 0; k < T_NIN; k++)
		if (read_tensor(in, s, k, &t[k]) != 0)
			goto cleanup;
	for (int k = T_NIN; k < T_COUNT; k++) {
		t[k] = alloc_n(shape_elems(tensor_shape(s, k, shape), shape), sizeof *t[k]);
		if (t[k] == NULL) {
			fprintf(stderr, PROG ": out of memory for %s\n", tensor_name[k]);
			goto cleanup;
		}
	}
	if (mamba_block(s, t, &t[T_NIN]) != 0)
		goto cleanup;
	if (make_dir(out) != 0)
		goto cleanup;
	for (int k = T_NIN; k < T_COUNT; k++)
		if (write_tensor(out, s, k, t[k]) != 0)
			goto cleanup;
	rc = 0;
cleanup:
	for (int k = 0; k < T_COUNT; k++)
		free(t[k]);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* main                                                                    */

static void usage(void)
{
	fprintf(stderr,
		"usage: " PROG " gen --out DIR [--seed S] [-D NAME=VALUE]...\n"
		"       " PROG " run --in DIR --out DIR [-D NAME=VALUE]...\n"
		"sizes: B I ED D N R W (default mamba-130m: B=1 I=64 ED=768 D=1536 N=16 R=48 "
		"W=4)\n");
}

int main(int argc, char **argv)
{
	const char *in = NULL, *out = NULL;
	uint64_t seed = 0;
	int gen, i;
	sizes s;

	if (argc < 2 || (strcmp(argv[1], "gen") != 0 && strcmp(argv[1], "run") != 0)) {
		usage();
		return 1;
	}
	gen = strcmp(argv[1], "gen") == 0;
	sizes_default(&s);
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strncmp(a, "-D", 2) == 0 && a[2] != '\0') { /* -DNAME=VALUE */
			if (sizes_set(&s, a + 2) != 0)
				return 1;
			continue;
		}
		if (val == NULL) {
			fprintf(stderr, PROG ": %s: missing value or unknown option\n", a);
			usage();
			return 1;
		}
		if (strcmp(a, "-D") == 0) {
			if (sizes_set(&s, val) != 0)
				return 1;
		} else if (strcmp(a, "--out") == 0) {
			out = val;
		} else if (strcmp(a, "--in") == 0 && !gen) {
			in = val;
		} else if (strcmp(a, "--seed") == 0 && gen) {
			char *end;

			errno = 0;
			seed = (uint64_t)strtoull(val, &end, 0);
			if (val[0] == '\0' || val[0] == '-' || *end != '\0' || errno != 0) {
				fprintf(stderr, PROG ": --seed %s: expected a non-negative integer\n",
					val);
				return 1;
			}
		} else {
			fprintf(stderr, PROG ": unknown option %s\n", a);
			usage();
			return 1;
		}
		i++;
	}
	if (out == NULL || (!gen && in == NULL)) {
		fprintf(stderr, PROG ": %s is required\n", out == NULL ? "--out" : "--in");
		usage();
		return 1;
	}
	if (gen)
		return cmd_gen(out, seed, &s) == 0 ? 0 : 1;
	return cmd_run(in, out, &s) == 0 ? 0 : 1;
}
