/* decode_stack.c - decode (one token) through a stack of distinct Mamba-1
 * layers, so that every layer's weights really come from DRAM.
 *
 * Built against the kernel generated from examples/mamba1.ein with -D I=1
 * (NAME = mamba1): cc -O3 -fopenmp -I DIR decode_stack.c DIR/mamba1.c ...
 * Usage: decode_stack LAYERS PASSES [huge|4k]
 * Prints the median time per layer over PASSES passes through the stack and
 * the bytes of weights each layer reads. */
#define _DEFAULT_SOURCE /* madvise */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "mamba1.h"

/* Weights in transparent huge pages (2 MiB) unless PAGES is "4k": with
 * 4 KiB pages, streaming 15 MB per layer takes a TLB miss every 4 KiB
 * (measured: 0.35-0.42 ms per layer instead of 0.28-0.30).  This machine
 * gives huge pages only on request (transparent_hugepage=madvise). */
static int huge = 1;

/* Memory in 2 MiB-aligned regions (huge pages unless "4k"); tensors below
 * 1 MiB share a region per layer instead of taking a huge page each. */
static char *arena;
static size_t arena_left;

static void *region(size_t bytes)
{
	bytes = (bytes + (2u << 20) - 1) / (2u << 20) * (2u << 20);
	void *p = aligned_alloc(2u << 20, bytes);
#ifdef MADV_HUGEPAGE
	if (p && huge)
		madvise(p, bytes, MADV_HUGEPAGE);
#endif
	return p;
}

static float *fill(int64_t n, uint64_t *s)
{
	size_t bytes = ((size_t)n * sizeof(float) + 63) / 64 * 64;
	float *p;
	if (bytes >= (1u << 20)) {
		p = region(bytes);
	} else {
		if (bytes > arena_left) {
			arena = region(2u << 20);
			arena_left = arena ? 2u << 20 : 0;
		}
		p = bytes <= arena_left ? (float *)arena : NULL;
		arena += p ? bytes : 0;
		arena_left -= p ? bytes : 0;
	}
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

#define S_B mamba1_SIZE_B
#define S_ED mamba1_SIZE_ED
#define S_D mamba1_SIZE_D
#define S_N mamba1_SIZE_N
#define S_R mamba1_SIZE_R
#define S_W mamba1_SIZE_W

int main(int argc, char **argv)
{
	int layers = argc > 1 ? atoi(argv[1]) : 24;
	int passes = argc > 2 ? atoi(argv[2]) : 20;
	if (argc > 3)
		huge = strcmp(argv[3], "4k") != 0;
	if (layers < 1 || passes < 1 || mamba1_SIZE_I != 1) {
		fprintf(stderr, "usage: decode_stack LAYERS PASSES [huge|4k] (kernel built with I=1)\n");
		return 2;
	}
	uint64_t seed = 1;
	mamba1_args *a = calloc((size_t)layers, sizeof(*a));
	float *x = fill(S_B * S_ED, &seed), *res = fill(S_B * S_ED, &seed);
	float *lo = calloc(S_B * S_ED, sizeof(float)), *rs = calloc(S_B * S_ED, sizeof(float));
	/* The workspace for the threads too (mamba1_workspace_bytes): given
	 * only mamba1_WORKSPACE_BYTES, a group whose tiles run in parallel
	 * allocates its tile buffers at every call (page faults in every
	 * layer: 65-90 us per layer measured, 2026-12-07). */
	int64_t wsb = mamba1_workspace_bytes();
	void *ws = aligned_alloc(64, wsb > 0 ? (size_t)(wsb + 63) / 64 * 64 : 64);
	if (!a || !x || !res || !lo || !rs || !ws)
		return 1;
	int64_t wbytes = 4 * ((int64_t)S_ED + 2 * S_ED * S_D + S_D * S_W + S_D + S_D * S_R + 2 * S_D * S_N +
			      S_R * S_D + S_D + S_D * S_N + S_D + S_D * S_ED);
	for (int l = 0; l < layers; l++) {
		mamba1_args *p = &a[l];
		p->B = S_B; p->I = 1; p->ED = S_ED; p->D = S_D; p->N = S_N; p->R = S_R; p->W = S_W;
		p->NW = fill(S_ED, &seed); p->WX = fill(S_ED * S_D, &seed); p->WZ = fill(S_ED * S_D, &seed);
		p->WCV = fill(S_D * S_W, &seed); p->BCV = fill(S_D, &seed); p->WTTD = fill(S_D * S_R, &seed);
		p->WB = fill(S_D * S_N, &seed); p->WC = fill(S_D * S_N, &seed); p->WTD = fill(S_R * S_D, &seed);
		p->BTD = fill(S_D, &seed); p->A = fill(S_D * S_N, &seed); p->DS = fill(S_D, &seed);
		p->WO = fill(S_D * S_ED, &seed);
		p->CS = fill(S_B * (S_W - 1) * S_D, &seed); p->H0 = fill(S_B * S_D * S_N, &seed);
		p->CSO = calloc(S_B * (S_W - 1) * S_D, sizeof(float)); p->HF = calloc(S_B * S_D * S_N, sizeof(float));
		for (int i = 0; i < S_D * S_N; i++)
			((float *)p->A)[i] = -1.0f - (float)(i % S_N); /* a stable scan */
		if (!p->WO || !p->HF || !p->CSO)
			return 1;
		p->workspace = ws;
		p->workspace_bytes = wsb;
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
#ifdef ML_PROFILE
		else
			mamba1_profile(NULL, 0); /* the warm-up pass's times dropped */
#endif
	}
	qsort(ms, (size_t)passes, sizeof(double), cmp);
	printf("decode: layers=%d passes=%d pages=%s median_ms_per_layer=%.4f min_ms_per_layer=%.4f "
	       "weight_bytes_per_layer=%lld\n",
	       layers, passes, huge ? "huge" : "4k", ms[passes / 2], ms[0], (long long)wbytes);
#ifdef ML_PROFILE
	double g[64] = {0};
	int ng = mamba1_profile(g, 64);
	for (int i = 0; i < ng && i < 64; i++)
		printf("group %d: %.4f ms per layer\n", i + 1, 1e3 * g[i] / ((double)passes * layers));
#endif
	return 0;
}
