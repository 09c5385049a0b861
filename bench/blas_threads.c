/* blas_threads.c - one matrix product, C = A B (row-major, fp32), run the
 * ways a kernel could run it on 2 threads, side by side:
 *   openblas   OpenBLAS's own threads (openblas_set_num_threads(2)), as
 *              bench/floor.py's numpy does;
 *   omp-rows   what generated kernels do (runtime/ml_gemm.h, ml_sgemma):
 *              OpenBLAS on one thread, the rows split across OpenMP's;
 *   omp-cols   the same, split by columns;
 *   mixed-*    each of the first two after an OpenMP elementwise loop, three
 *              times, as a fused group alternates loops and products: with
 *              OpenBLAS's threads, its workers and OpenMP's spin against
 *              each other on the cores.
 * With "cold", a 256 MiB write before every timing evicts the operands,
 * as in a kernel where each weight is read once per run.
 *
 * One way per process: after a call on OpenBLAS's threads, its workers
 * spin for a while and slow down whatever runs next (measured: omp-rows
 * at 16 ms instead of 9 right after the openblas way).
 *
 * Build: cc -O2 -fopenmp bench/blas_threads.c -o blas_threads -lopenblas
 * Usage: blas_threads M N K cold|warm WAY   (2 threads; median of 9)
 * Prints "way=NAME ms=X". */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Declared here: OpenBLAS's cblas.h pulls in <complex.h>. */
void cblas_sgemm(int order, int transa, int transb, int m, int n, int k, float alpha,
		 const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
void openblas_set_num_threads(int n);

#define ELEMS (1L << 22)

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

typedef struct prod {
	int m, n, k;
	const float *a, *b;
	float *c, *e;
} prod;

/* C's rows [lo, hi) or columns, on the calling thread. */
static void part(const prod *p, int rows, int t, int nt)
{
	int len = rows ? p->m : p->n, lo = (int)((long)len * t / nt),
	    hi = (int)((long)len * (t + 1) / nt);
	if (rows)
		cblas_sgemm(101, 111, 111, hi - lo, p->n, p->k, 1.0f, p->a + (long)lo * p->k, p->k,
			    p->b, p->n, 0.0f, p->c + (long)lo * p->n, p->n);
	else
		cblas_sgemm(101, 111, 111, p->m, hi - lo, p->k, 1.0f, p->a, p->k, p->b + lo, p->n,
			    0.0f, p->c + lo, p->n);
}

static void run(const prod *p, int way)
{
	int mixed = way >= 3, reps = mixed ? 3 : 1, w = mixed ? way - 3 : way;
	for (int r = 0; r < reps; r++) {
		if (mixed) {
#pragma omp parallel for num_threads(2) schedule(static)
			for (long i = 0; i < ELEMS; i++)
				p->e[i] = p->e[i] * 0.999f + 1e-6f;
		}
		if (w == 0) {
			openblas_set_num_threads(2);
			cblas_sgemm(101, 111, 111, p->m, p->n, p->k, 1.0f, p->a, p->k, p->b, p->n,
				    0.0f, p->c, p->n);
			openblas_set_num_threads(1);
		} else {
#pragma omp parallel for num_threads(2) schedule(static)
			for (int t = 0; t < 2; t++)
				part(p, w == 1, t, 2);
		}
	}
}

int main(int argc, char **argv)
{
	static const char *const names[] = {"openblas", "omp-rows", "omp-cols", "mixed-openblas",
					    "mixed-omp-rows"};
	int way = -1;
	for (int w = 0; argc > 5 && w < 5; w++)
		if (strcmp(argv[5], names[w]) == 0)
			way = w;
	if (argc != 6 || way < 0 || (strcmp(argv[4], "cold") && strcmp(argv[4], "warm"))) {
		fprintf(stderr, "usage: blas_threads M N K cold|warm openblas|omp-rows|omp-cols|"
				"mixed-openblas|mixed-omp-rows\n");
		return 2;
	}
	prod p = {atoi(argv[1]), atoi(argv[2]), atoi(argv[3]), NULL, NULL, NULL, NULL};
	int cold = strcmp(argv[4], "cold") == 0;
	if (p.m <= 0 || p.n <= 0 || p.k <= 0) {
		fprintf(stderr, "blas_threads: M, N and K must be positive\n");
		return 2;
	}
	float *a = malloc(sizeof(float) * (size_t)p.m * (size_t)p.k);
	float *b = malloc(sizeof(float) * (size_t)p.k * (size_t)p.n);
	p.c = malloc(sizeof(float) * (size_t)p.m * (size_t)p.n);
	p.e = malloc(sizeof(float) * ELEMS);
	char *flush = cold ? malloc(256L << 20) : NULL;
	if (!a || !b || !p.c || !p.e || (cold && !flush)) {
		fprintf(stderr, "blas_threads: out of memory\n");
		return 1;
	}
	for (long i = 0; i < (long)p.m * p.k; i++)
		a[i] = (float)(i % 7) * 0.125f;
	for (long i = 0; i < (long)p.k * p.n; i++)
		b[i] = (float)(i % 5) * 0.25f;
	for (long i = 0; i < ELEMS; i++)
		p.e[i] = (float)i * 1e-6f;
	p.a = a;
	p.b = b;
	openblas_set_num_threads(1);
	double t[9];
	for (int r = 0; r < 9; r++) {
		if (cold)
			memset(flush, r, 256L << 20);
		double t0 = now();
		run(&p, way);
		t[r] = now() - t0;
	}
	qsort(t, 9, sizeof(double), cmp);
	printf("way=%s ms=%.3f\n", names[way], t[4] * 1e3);
	printf("check=%g\n", (double)(p.c[1] + p.e[1]));
	free(a);
	free(b);
	free(p.c);
	free(p.e);
	free(flush);
	return 0;
}
