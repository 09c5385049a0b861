/* decode_stack.c - decode (one token) through a stack of distinct Mamba-1
 * layers, so that every layer's weights really come from DRAM.
 *
 * Built against the kernel generated from examples/mamba1.ein with -D I=1
 * (NAME = mamba1): cc -O3 -fopenmp -I DIR decode_stack.c DIR/mamba1.c ...
 * Usage: decode_stack LAYERS PASSES
 * Prints the median time per layer over PASSES passes through the stack and
 * the bytes of weights each layer reads. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mamba1.h"

static float *fill(int64_t n, uint64_t *s)
{
	float *p = malloc((size_t)n * sizeof(float));
	if (!p)
		return NULL;
	for (int64_t i = 0; i < n; i++) {
		*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = ((float)(*s >> 40) / (float)(1 << 24) - 0.5f) * 0.05f;
	}
	return p;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

#define B mamba1_SIZE_B
#define ED mamba1_SIZE_ED
#define D mamba1_SIZE_D
#define N mamba1_SIZE_N
#define R mamba1_SIZE_R
#define W mamba1_SIZE_W

int main(int argc, char **argv)
{
	int layers = argc > 1 ? atoi(argv[1]) : 24;
	int passes = argc > 2 ? atoi(argv[2]) : 20;
	if (layers < 1 || passes < 1 || mamba1_SIZE_I != 1) {
		fprintf(stderr, "usage: decode_stack LAYERS PASSES (kernel built with I=1)\n");
		return 2;
	}
	uint64_t seed = 1;
	mamba1_args *a = calloc((size_t)layers, sizeof(*a));
	float *x = fill(B * ED, &seed), *res = fill(B * ED, &seed);
	float *lo = calloc(B * ED, sizeof(float)), *rs = calloc(B * ED, sizeof(float));
	void *ws = aligned_alloc(64, mamba1_WORKSPACE_BYTES > 0 ? mamba1_WORKSPACE_BYTES : 64);
	if (!a || !x || !res || !lo || !rs || !ws)
		return 1;
	int64_t wbytes = 4 * ((int64_t)ED + 2 * ED * D + D * W + D + D * R + 2 * D * N +
			      R * D + D + D * N + D + D * ED);
	for (int l = 0; l < layers; l++) {
		mamba1_args *p = &a[l];
		p->B = B; p->I = 1; p->ED = ED; p->D = D; p->N = N; p->R = R; p->W = W;
		p->NW = fill(ED, &seed); p->WX = fill(ED * D, &seed); p->WZ = fill(ED * D, &seed);
		p->WCV = fill(D * W, &seed); p->BCV = fill(D, &seed); p->WTTD = fill(D * R, &seed);
		p->WB = fill(D * N, &seed); p->WC = fill(D * N, &seed); p->WTD = fill(R * D, &seed);
		p->BTD = fill(D, &seed); p->A = fill(D * N, &seed); p->DS = fill(D, &seed);
		p->WO = fill(D * ED, &seed);
		p->CS = fill(B * (W - 1) * D, &seed); p->H0 = fill(B * D * N, &seed);
		p->CSO = calloc(B * (W - 1) * D, sizeof(float)); p->HF = calloc(B * D * N, sizeof(float));
		for (int i = 0; i < D * N; i++)
			((float *)p->A)[i] = -1.0f - (float)(i % N); /* a stable scan */
		if (!p->WO || !p->HF || !p->CSO)
			return 1;
		p->workspace = ws;
		p->workspace_bytes = mamba1_WORKSPACE_BYTES;
	}
	double *ms = malloc((size_t)passes * sizeof(double));
	for (int pass = -1; pass < passes; pass++) {
		double t0 = now();
		for (int l = 0; l < layers; l++) {
			mamba1_args *p = &a[l];
			p->LX = l % 2 ? lo : x;
			p->RES = l % 2 ? rs : res;
			p->LO = l % 2 ? x : lo;
			p->RS = l % 2 ? res : rs;
			if (mamba1_run(p))
				return 1;
		}
		if (pass >= 0)
			ms[pass] = 1e3 * (now() - t0) / layers;
	}
	qsort(ms, (size_t)passes, sizeof(double), cmp);
	printf("decode: layers=%d passes=%d median_ms_per_layer=%.4f min_ms_per_layer=%.4f "
	       "weight_bytes_per_layer=%lld\n",
	       layers, passes, ms[passes / 2], ms[0], (long long)wbytes);
	return 0;
}
