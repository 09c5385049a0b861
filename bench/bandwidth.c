/* bandwidth.c - the DRAM read bandwidth available right now: a sum over
 * 400 MB with OpenMP's threads, median of ROUNDS passes.  Decode is bound
 * by streaming weights, so bench/codegen.sh reports it beside this figure
 * (on a shared machine the bandwidth others leave varies from run to run).
 * The array is in transparent huge pages unless PAGES is "4k", as
 * decode_stack places the weights.
 * Usage: bandwidth [ROUNDS] [huge|4k] -> "bandwidth: read_gbs=X" */
#define _DEFAULT_SOURCE /* madvise */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* 16 floats: one AVX-512 register, or several narrower ones. */
typedef float v16 __attribute__((vector_size(64)));

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

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 7;
	long n = 100L << 20;
	if (rounds < 1 || rounds > 1000) {
		fprintf(stderr, "usage: bandwidth [ROUNDS] [huge|4k]\n");
		return 2;
	}
	float *a = aligned_alloc(2u << 20, (size_t)n * sizeof(float)); /* n: 2 MiB multiple */
#ifdef MADV_HUGEPAGE
	if (a && !(argc > 2 && strcmp(argv[2], "4k") == 0))
		madvise(a, (size_t)n * sizeof(float), MADV_HUGEPAGE);
#endif
	double *gbs = malloc((size_t)rounds * sizeof(double));
	if (!a || !gbs) {
		fprintf(stderr, "bandwidth: out of memory\n");
		return 1;
	}
#pragma omp parallel for
	for (long i = 0; i < n; i++)
		a[i] = (float)(i & 7);
	float sink = 0;
	for (int r = 0; r < rounds; r++) {
		double t = now();
		float s = 0;
		/* Four independent vector accumulators per thread (GCC vector
		 * extensions), so that the loop is bound by memory, not by the
		 * latency of an add chain.  `omp parallel for simd reduction`
		 * with one accumulator read about 44 GB/s where this reads
		 * 55-75 on the same machine. */
#pragma omp parallel reduction(+ : s)
		{
			v16 x0 = {0}, x1 = {0}, x2 = {0}, x3 = {0};
#pragma omp for schedule(static)
			for (long i = 0; i < n; i += 64) {
				v16 y0, y1, y2, y3;
				memcpy(&y0, a + i, sizeof(y0));
				memcpy(&y1, a + i + 16, sizeof(y1));
				memcpy(&y2, a + i + 32, sizeof(y2));
				memcpy(&y3, a + i + 48, sizeof(y3));
				x0 += y0;
				x1 += y1;
				x2 += y2;
				x3 += y3;
			}
			x0 += x1 + x2 + x3;
			for (int j = 0; j < 16; j++)
				s += x0[j];
		}
		t = now() - t;
		sink += s;
		gbs[r] = (double)n * sizeof(float) / t / 1e9;
	}
	qsort(gbs, (size_t)rounds, sizeof(double), cmp);
	printf("bandwidth: read_gbs=%.1f (checksum %g)\n", gbs[rounds / 2], (double)sink);
	free(a);
	free(gbs);
	return 0;
}
