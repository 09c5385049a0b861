/* ml_probe.c - what `mambalaya calibrate` measures on this machine, built
 * as generated kernels are (the same runtime, compiler, flags, OpenMP and
 * BLAS), so that the rates it reports are the ones kernels see.
 *
 * Prints one JSON object on stdout:
 *   {"threads": T, "simd_bytes": S,     OpenMP's threads, the vector width
 *    "gemm": [[d, gflops], ...]        square products d x d x d (ml_sgemm)
 *    "gemm_grid": {"sides": [s...],    every product m x n x k with sides
 *                  "gflops": [...]}    from s, m outermost, k innermost;
 *                                      all threads (probe_gemm_grid)
 *    "dram_gb_per_s": G,               a parallel copy over 2 x 256 MiB
 *    "thread_dram_gb_per_s": G1,       the same copy on one thread
 *    "dram_write_gb_per_s": W,         writing 256 MiB alone, all threads
 *    "cache_gb_per_s": C,              the copy over half the outermost cache
 *                                      (when CACHE_BYTES is given)
 *    "copy_gb_per_s": [[bytes, G], ...] the same copy over footprints of 4 to
 *                                      256 MiB (when FOOTPRINTS is 1): where
 *                                      it falls towards DRAM's is the size
 *                                      of a cache nothing else reports
 *    "fork_ns": F,                     starting and joining the threads once
 *                                      (an empty parallel loop; 2+ threads)
 *    "gelem_per_s": {"exp": R, ...},   elementwise rates, all threads, in cache
 *    "register_gelem_per_s": R}        multiply-adds on values in registers,
 *                                      all threads (the difference between
 *                                      four chains of 5 and of 3 per element)
 * and exits 0, or prints why on stderr and exits 1.  `calibrate` writes
 * the body (between the EMBEDDED markers) after the kernels' prelude; the
 * lines outside the markers make this file build on its own
 * (tests/unit/test_runtime.c).
 *
 * Usage: probe [SECONDS [CACHE_BYTES [FOOTPRINTS]]]   rough time budget
 * (default 3); the outermost cache's size, all its instances (no cache
 * probe without); 1 to measure the copy over growing footprints. 
 */
#include "ml_base.h"
#include "ml_math.h"
#include "ml_gemm.h"
#include "ml_alloc.h"

/* BEGIN EMBEDDED */
#include <stdio.h>
#include <time.h>

static double probe_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Keeps results alive without printing them. */
static volatile float probe_sink;

/* Runs fn(ctx) until it has taken `budget` seconds (at least 3 times)
 * and returns the best seconds of one run: the machine is shared, and
 * the fastest run is the one least disturbed. */
static double probe_best(double budget, void (*fn)(void *), void *ctx)
{
	double end = probe_now() + budget, best = 1e30;
	for (int r = 0; r < 3 || (probe_now() < end && r < 1000); r++) {
		double t0 = probe_now();
		fn(ctx);
		double dt = probe_now() - t0;
		if (dt < best)
			best = dt;
	}
	return best;
}

static int probe_tid(void)
{
#ifdef _OPENMP
	return omp_get_thread_num();
#else
	return 0;
#endif
}

static float *probe_alloc(int64_t n)
{
	float *p = ml_alloc(n);
	if (!p) {
		fprintf(stderr, "probe: out of memory\n");
		exit(1);
	}
	return p;
}

typedef struct probe_gemm_ctx {
	long d, reps;
	const float *a, *b;
	float *c;
} probe_gemm_ctx;

static void probe_gemm_run(void *v)
{
	probe_gemm_ctx *g = v;
	for (long r = 0; r < g->reps; r++)
		ml_sgemm(0, 0, g->d, g->d, g->d, g->a, g->d, g->b, g->d, 0.0f, g->c, g->d);
}

static void probe_gemm(double budget)
{
	static const long dims[] = {16, 32, 64, 128, 256, 512, 1024};
	int nd = (int)(sizeof(dims) / sizeof(dims[0]));
	long big = dims[nd - 1];
	float *a = probe_alloc(big * big), *b = probe_alloc(big * big), *c = probe_alloc(big * big);
	for (long i = 0; i < big * big; i++) {
		a[i] = (float)(i % 7) * 0.125f;
		b[i] = (float)(i % 5) * 0.25f;
		c[i] = 0;
	}
	printf("\"gemm\": [");
	for (int q = 0; q < nd; q++) {
		/* Small products are repeated inside one timing so that the
		 * clock's resolution does not matter. */
		long d = dims[q];
		probe_gemm_ctx g = {d, (big / d) * (big / d) / 4 + 1, a, b, c};
		double best = probe_best(budget / nd, probe_gemm_run, &g);
		probe_sink = c[d + 1];
		printf("%s[%ld, %.4g]", q ? ", " : "", d,
		       2.0 * (double)d * (double)d * (double)d * (double)g.reps / best * 1e-9);
	}
	printf("],\n");
	free(a);
	free(b);
	free(c);
}

/* The product grid: every shape m x n x k with each side from
 * PROBE_SIDES, timed as kernels run it.  A shape ml_sgemm shares between
 * the threads (ml_sgemm_share) is one call from outside a parallel region;
 * one it leaves on a single thread runs on every thread at once, each on
 * its own output, as the tiles of a parallel loop do.  Either way the rate
 * is all threads' together, the unit the cost model prices products in. */
static const long probe_sides[] = {1, 4, 16, 64, 256, 1024};
#define PROBE_NSIDES ((int)(sizeof(probe_sides) / sizeof(probe_sides[0])))
/* Outputs of the shapes ml_sgemm keeps on one thread (fewer multiply-adds
 * than it shares) fit in this many floats per thread. */
#define PROBE_SOLO_C 262144L

typedef struct probe_grid_ctx {
	long m, n, k, reps;
	int shared, threads;
	const float *a, *b;
	float *c, *solo;
} probe_grid_ctx;

/* Call r's tile of the big matrices: tile positions walk the reduction
 * fastest, then the columns, then the rows, as a tile loop does; each
 * thread of a solo run starts 7919 calls (a prime) on from the one before
 * it, so that the threads read different tiles. */
static void probe_grid_call(const probe_grid_ctx *g, long r, float *c)
{
	long big = probe_sides[PROBE_NSIDES - 1];
	long nk = big / g->k, nn = big / g->n, nm = big / g->m;
	long kb = r % nk, jb = (r / nk) % nn, ib = (r / nk / nn) % nm;
	const float *a = g->a + ib * g->m * big + kb * g->k;
	const float *b = g->b + kb * g->k * big + jb * g->n;
	if (g->shared)
		ml_sgemm(0, 0, g->m, g->n, g->k, a, big, b, big, kb ? 1.0f : 0.0f,
			 c + ib * g->m * big + jb * g->n, big);
	else
		ml_sgemm1(0, 0, g->m, g->n, g->k, a, big, b, big, kb ? 1.0f : 0.0f, c, g->n);
}

static void probe_grid_run(void *v)
{
	probe_grid_ctx *g = v;
	if (g->shared) {
		for (long r = 0; r < g->reps; r++)
			probe_grid_call(g, r, g->c);
		return;
	}
	#pragma omp parallel num_threads(g->threads)
	{
		int t = probe_tid();
		long off = (long)t * 7919;
		float *c = g->solo + (long)t * PROBE_SOLO_C;
		for (long r = 0; r < g->reps; r++)
			probe_grid_call(g, r + off, c);
	}
}

static void probe_gemm_grid(double budget, int threads)
{
	long big = probe_sides[PROBE_NSIDES - 1];
	float *a = probe_alloc(big * big), *b = probe_alloc(big * big), *c = probe_alloc(big * big);
	float *solo = probe_alloc(PROBE_SOLO_C * threads);
	for (long i = 0; i < big * big; i++) {
		a[i] = (float)(i % 7) * 0.125f;
		b[i] = (float)(i % 5) * 0.25f;
		c[i] = 0;
	}
	for (long i = 0; i < PROBE_SOLO_C * threads; i++)
		solo[i] = 0;
	int nshape = PROBE_NSIDES * PROBE_NSIDES * PROBE_NSIDES, q = 0;
	printf("\"gemm_grid\": {\"sides\": [");
	for (int i = 0; i < PROBE_NSIDES; i++)
		printf("%s%ld", i ? ", " : "", probe_sides[i]);
	printf("], \"gflops\": [");
	for (int i = 0; i < PROBE_NSIDES; i++)
		for (int j = 0; j < PROBE_NSIDES; j++)
			for (int l = 0; l < PROBE_NSIDES; l++, q++) {
				long m = probe_sides[i], n = probe_sides[j], k = probe_sides[l];
				double fl = 2.0 * (double)m * (double)n * (double)k;
				/* Repeated inside one timing to about 10^8 flops
				 * (at most 2000 calls), so that neither the clock's
				 * resolution nor the team's start dominates. */
				long reps = (long)(1e8 / fl);
				reps = reps < 1 ? 1 : reps > 2000 ? 2000 : reps;
				/* And on at least four tiles in turn (as many as
				 * there are, up to four): one large call repeated on
				 * one tile found its operands in the caches, as a
				 * kernel's tile loop does not.  256 x 1024 x 1024 ran
				 * at 72 10^9 flops/s repeated, at 61-64 in four calls
				 * on four row blocks (an AMD EPYC under KVM), and the
				 * mapper took 256-row products over whole ones that
				 * ran 4% faster. */
				long tiles = (big / m) * (big / n) * (big / k);
				if (reps < tiles && reps < 4)
					reps = tiles < 4 ? tiles : 4;
#if defined(ML_BLAS) && defined(_OPENMP)
				int shared = ml_sgemm_share(threads, 0, 0, m, n, k) != 0;
#else
				int shared = 0; /* ml_sgemm never shares a product */
#endif
				probe_grid_ctx g = {m, n, k, reps, shared, threads, a, b, c, solo};
				double best = probe_best(budget / nshape, probe_grid_run, &g);
				probe_sink = c[0] + solo[0];
				double work = fl * (double)reps * (shared ? 1 : threads);
				printf("%s%.4g", q ? ", " : "", work / best * 1e-9);
			}
	printf("]},\n");
	free(a);
	free(b);
	free(c);
	free(solo);
}

typedef struct probe_dram_ctx {
	long n;
	const float *x;
	float *y;
} probe_dram_ctx;

static void probe_dram_run(void *v)
{
	probe_dram_ctx *g = v;
	long n = g->n;
	const float *x = g->x;
	float *y = g->y;
#pragma omp parallel for schedule(static)
	for (long i = 0; i < n; i++)
		y[i] = x[i] * 1.5f;
}

/* Writing alone, all threads: each line written is fetched first (the
 * kernels' stores are ordinary ones), so a tensor only written to DRAM
 * streams slower than a copy's counted bytes suggest. */
static void probe_dram_write_run(void *v)
{
	probe_dram_ctx *g = v;
	long n = g->n;
	float *y = g->y;
#pragma omp parallel for schedule(static)
	for (long i = 0; i < n; i++)
		y[i] = (float)(i & 255) * 1.5f;
}

/* The same copy on the calling thread alone: what a loop nest too small
 * to start the team on streams. */
static void probe_dram_run1(void *v)
{
	probe_dram_ctx *g = v;
	long n = g->n;
	const float *x = g->x;
	float *y = g->y;
	for (long i = 0; i < n; i++)
		y[i] = x[i] * 1.5f;
}

/* The two arrays of n floats a copy probe reads and writes, touched
 * first by the threads that use them. */
static probe_dram_ctx probe_copy_arrays(long n)
{
	float *x = probe_alloc(n), *y = probe_alloc(n);
#pragma omp parallel for schedule(static)
	for (long i = 0; i < n; i++) {
		x[i] = (float)(i & 255);
		y[i] = 0;
	}
	probe_dram_ctx g = {n, x, y};
	return g;
}

/* GB/s of the parallel copy over two arrays of n floats each, brought in
 * first and repeated, so that what holds them is what is measured. */
static double probe_copy_rate(double budget, long n)
{
	probe_dram_ctx g = probe_copy_arrays(n);
	float *x = (float *)g.x, *y = g.y;
	probe_dram_run(&g); /* bring the arrays in */
	double best = probe_best(budget, probe_dram_run, &g);
	probe_sink = y[n / 3];
	free(x);
	free(y);
	return 2.0 * 4.0 * (double)n / best * 1e-9;
}

/* The outermost cache's bandwidth: the copy over two arrays that together
 * fill half of it (bytes: all its instances), too large for the caches
 * inside it. */
static void probe_cache(double budget, double bytes)
{
	long n = (long)(bytes / 4.0 / 4.0); /* floats per array: a quarter */
	if (n < 4096)
		return;
	printf("\"cache_gb_per_s\": %.4g,\n", probe_copy_rate(budget, n));
}

/* The copy over footprints (both arrays) of 4 to 256 MiB: the bandwidth
 * steps down where a footprint leaves a cache. */
static void probe_footprints(double budget)
{
	printf("\"copy_gb_per_s\": [");
	for (int k = 0; k < 7; k++) {
		long bytes = 4L << 20 << k;
		printf("%s[%ld, %.4g]", k ? ", " : "", bytes, probe_copy_rate(budget / 7.0, bytes / 8));
	}
	printf("],\n");
}

static void probe_dram(double budget)
{
	long n = 64L << 20; /* floats: 256 MiB each, beyond any cache */
	probe_dram_ctx g = probe_copy_arrays(n);
	float *x = (float *)g.x, *y = g.y;
	double best = probe_best(budget * 0.45, probe_dram_run, &g);
	double best1 = probe_best(budget * 0.3, probe_dram_run1, &g);
	double bestw = probe_best(budget * 0.25, probe_dram_write_run, &g);
	probe_sink = y[n / 3];
	/* A read and a write per element (the write's line fill is not
	 * counted: kernels see the same). */
	printf("\"dram_gb_per_s\": %.4g,\n", 2.0 * 4.0 * (double)n / best * 1e-9);
	printf("\"thread_dram_gb_per_s\": %.4g,\n", 2.0 * 4.0 * (double)n / best1 * 1e-9);
	printf("\"dram_write_gb_per_s\": %.4g,\n", 4.0 * (double)n / bestw * 1e-9);
	free(x);
	free(y);
}

/* A parallel region as generated kernels open one (a `parallel for` of
 * one iteration per thread), with nothing to do: starting the team and
 * the barrier at its end, timed over a batch of regions. */
#define PROBE_FORKS 2000
static void probe_forks(void *v)
{
	float *x = v;
	for (int r = 0; r < PROBE_FORKS; r++) {
		int nt = (int)ml_threads();
#pragma omp parallel for schedule(static)
		for (int t = 0; t < nt; t++)
			x[16 * t] += 1.0f;
	}
}

static void probe_fork(double budget, int threads)
{
	if (threads < 2)
		return;
	float *x = probe_alloc(16L * threads);
	for (long i = 0; i < 16L * threads; i++)
		x[i] = 0;
	probe_forks(x); /* the team's threads started */
	double best = probe_best(budget, probe_forks, x);
	probe_sink = x[0];
	printf("\"fork_ns\": %.4g,\n", best / PROBE_FORKS * 1e9);
	free(x);
}

/* Elementwise operations as generated loops write them, over arrays that
 * each thread keeps in its own cache. */
#define PROBE_N 1024
#define PROBE_REPS 1000

#define PROBE_OP(fname, ...)                                               \
	static void probe_##fname(void *v)                                 \
	{                                                                  \
		float *xs = v;                                             \
		_Pragma("omp parallel")                                    \
		{                                                          \
			float *x_ = xs + PROBE_N * 3 * probe_tid();        \
			float *a_ = x_ + PROBE_N, *y_ = a_ + PROBE_N;      \
			for (int r = 0; r < PROBE_REPS; r++) {             \
				_Pragma("omp simd")                        \
				for (int i = 0; i < PROBE_N; i++) {        \
					float x = x_[i], a = a_[i];        \
					(void)a;                           \
					__VA_ARGS__;                       \
				}                                          \
				x_[r] += 1e-7f;                            \
			}                                                  \
		}                                                          \
	}
PROBE_OP(exp, y_[i] = ml_exp(x))
PROBE_OP(log, y_[i] = ml_log(x))
PROBE_OP(sqrt, y_[i] = ml_sqrt(x))
PROBE_OP(rsqrt, y_[i] = ml_rsqrt(x))
PROBE_OP(sigmoid, y_[i] = ml_sigmoid(x))
PROBE_OP(silu, y_[i] = ml_silu(x))
PROBE_OP(softplus, y_[i] = ml_softplus(x))
PROBE_OP(tanh, y_[i] = ml_tanh(x))
PROBE_OP(relu, y_[i] = ml_relu(x))
PROBE_OP(abs, y_[i] = ml_abs(x))
PROBE_OP(neg, y_[i] = ml_neg(x))
PROBE_OP(recip, y_[i] = ml_recip(x))
PROBE_OP(square, y_[i] = ml_square(x))
PROBE_OP(add, y_[i] = x + a)
PROBE_OP(sub, y_[i] = x - a)
PROBE_OP(mul, y_[i] = x * a)
PROBE_OP(div, y_[i] = x / a)
PROBE_OP(max, y_[i] = ml_max(x, a))
PROBE_OP(min, y_[i] = ml_min(x, a))
PROBE_OP(mac, y_[i] += x * a)
PROBE_OP(copy, y_[i] = x)
/* Four dependent chains per element, vectorised across elements: chains
 * of 5 cost 8 more multiply-adds in registers than chains of 3, with the
 * same loads and stores, and both are bound by that work, not by the
 * loop's accesses.  Four chains, not one: a fused loop's operations are
 * mostly independent of each other, and one chain measured the
 * multiply-add's latency on cores that overlap few iterations (an AMD
 * EPYC: 16 10^9/s, about its add loop's rate, against 37-40 with four).
 * The chains end in products, not a sum, which compilers would fold into
 * one chain. */
#define PROBE_FMA4 z0 = z0 * a + 1.0f; z1 = z1 * a + 2.0f; z2 = z2 * a + 3.0f; z3 = z3 * a + 4.0f;
#define PROBE_Z4 float z0 = x * a + 1.0f, z1 = x * a + 2.0f, z2 = x * a + 3.0f, z3 = x * a + 4.0f;
PROBE_OP(fma3, PROBE_Z4 PROBE_FMA4 PROBE_FMA4 y_[i] = z0 * z1 + z2 * z3)
PROBE_OP(fma5, PROBE_Z4 PROBE_FMA4 PROBE_FMA4 PROBE_FMA4 PROBE_FMA4 y_[i] = z0 * z1 + z2 * z3)

/* read: operand values into registers, summed. */
static void probe_read(void *v)
{
	float *xs = v, tot = 0;
#pragma omp parallel reduction(+ : tot)
	{
		const float *x_ = xs + PROBE_N * 3 * probe_tid();
		float s = 0;
		for (int r = 0; r < PROBE_REPS; r++) {
#pragma omp simd reduction(+ : s)
			for (int i = 0; i < PROBE_N; i++)
				s += x_[i] * (float)(r + 1);
		}
		tot += s;
	}
	probe_sink = tot;
}

static void probe_elementwise(double budget, int threads)
{
	static const struct {
		const char *name;
		void (*fn)(void *);
	} ops[] = {
		{"exp", probe_exp}, {"log", probe_log}, {"sqrt", probe_sqrt},
		{"rsqrt", probe_rsqrt}, {"sigmoid", probe_sigmoid}, {"silu", probe_silu},
		{"softplus", probe_softplus}, {"tanh", probe_tanh}, {"relu", probe_relu},
		{"abs", probe_abs}, {"neg", probe_neg}, {"recip", probe_recip},
		{"square", probe_square}, {"add", probe_add}, {"sub", probe_sub},
		{"mul", probe_mul}, {"div", probe_div}, {"max", probe_max},
		{"min", probe_min}, {"mac", probe_mac}, {"copy", probe_copy},
		{"read", probe_read},
	};
	int nops = (int)(sizeof(ops) / sizeof(ops[0]));
	float *xs = probe_alloc((int64_t)PROBE_N * 3 * threads);
	for (long i = 0; i < (long)PROBE_N * 3 * threads; i++)
		xs[i] = 0.25f + (float)(i % 97) * 0.01f;
	printf("\"gelem_per_s\": {");
	for (int k = 0; k < nops; k++) {
		double best = probe_best(budget / nops, ops[k].fn, xs);
		probe_sink = xs[PROBE_N * 2 + k];
		printf("%s\"%s\": %.4g", k ? ", " : "", ops[k].name,
		       (double)PROBE_N * PROBE_REPS * threads / best * 1e-9);
	}
	printf("}\n");
	double t3 = probe_best(budget / nops, probe_fma3, xs);
	double t5 = probe_best(budget / nops, probe_fma5, xs);
	probe_sink = xs[PROBE_N * 2 + 1];
	if (t5 > t3)
		printf(", \"register_gelem_per_s\": %.4g\n",
		       8.0 * PROBE_N * PROBE_REPS * threads / (t5 - t3) * 1e-9);
	free(xs);
}

/* strided: four matrices larger than L2 walked down their columns, three
 * read and one written (each access a new cache line and every few a new
 * page: more pages than the TLB holds), as a loop whose innermost rank is
 * not the contiguous one does; every access counted. */
#define PROBE_SR 1024
#define PROBE_SC 1536
static void probe_strided_run(void *v)
{
	float *x = v, *y = x + PROBE_SR * PROBE_SC, *z = y + PROBE_SR * PROBE_SC,
	      *w = z + PROBE_SR * PROBE_SC;
#pragma omp parallel for schedule(static)
	for (long j = 0; j < PROBE_SC; j++)
		for (long i = 0; i < PROBE_SR; i++)
			w[i * PROBE_SC + j] = x[i * PROBE_SC + j] * y[i * PROBE_SC + j] + z[i * PROBE_SC + j];
}

static void probe_strided(double budget)
{
	int64_t n = (int64_t)PROBE_SR * PROBE_SC * 4;
	float *x = probe_alloc(n);
	for (long i = 0; i < (long)n; i++)
		x[i] = (float)(i % 13);
	double best = probe_best(budget, probe_strided_run, x);
	probe_sink = x[n - 1];
	printf(", \"strided_gelem_per_s\": %.4g\n", 4.0 * PROBE_SR * PROBE_SC / best * 1e-9);
	free(x);
}

int main(int argc, char **argv)
{
	double budget = argc > 1 ? atof(argv[1]) : 3.0;
	if (!(budget > 0))
		budget = 3.0;
	double cache = argc > 2 ? atof(argv[2]) : 0;
	int footprints = argc > 3 && atoi(argv[3]) == 1;
	ml_blas_init();
	int threads = (int)ml_threads();
	/* The vector width the kernels were compiled for. */
#if defined(__AVX512F__)
	int simd = 64;
#elif defined(__AVX__)
	int simd = 32;
#else
	int simd = 16;
#endif
	printf("{\"threads\": %d, \"simd_bytes\": %d,\n", threads, simd);
	probe_gemm(budget * 0.15);
	probe_gemm_grid(budget * 0.35, threads);
	probe_dram(budget * 0.15);
	if (cache > 0)
		probe_cache(budget * 0.05, cache);
	if (footprints)
		probe_footprints(budget * 0.15);
	probe_fork(budget * 0.02, threads);
	probe_elementwise(budget * 0.3, threads);
	probe_strided(budget * 0.05);
	printf("}\n");
	return 0;
}
/* END EMBEDDED */
