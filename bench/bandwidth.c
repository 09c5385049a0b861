/* bandwidth.c - the DRAM read bandwidth available right now: a sum over
 * 400 MB with OpenMP's threads, median of ROUNDS passes.  Decode is bound
 * by streaming weights, so bench/codegen.sh reports it beside this figure
 * (on a shared machine the bandwidth others leave varies from run to run).
 * Usage: bandwidth [ROUNDS] -> "bandwidth: read_gbs=X" */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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
		fprintf(stderr, "usage: bandwidth [ROUNDS]\n");
		return 2;
	}
	float *a = malloc((size_t)n * sizeof(float));
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
		/* simd: the sum may be reassociated, so that it is vectorised
		 * and bound by memory, not by the latency of one add chain. */
#pragma omp parallel for simd reduction(+ : s)
		for (long i = 0; i < n; i++)
			s += a[i];
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
