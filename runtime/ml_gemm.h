/* ml_gemm.h - matrix products for generated kernels: ml_sgemm1 (one
 * thread; OpenBLAS with ML_BLAS, portable loops without), ml_sgemm (a
 * large product split across OpenMP's threads; a matrix-vector product
 * split along K), and ml_sgemm_team (a matrix-vector product that the
 * threads of a team reach at different times).  Part of the kernels'
 * runtime: see ml_base.h.
 *
 * Every function works in the caller's arrays; none allocates but
 * ml_sgemm's parts of a split product (on the stack).
 */
#ifndef ML_GEMM_H
#define ML_GEMM_H

#include "ml_base.h"

/* BEGIN EMBEDDED */
/* C[M x N] = beta C + alpha op(X)[M x K] op(Y)[K x N], row-major with
 * leading dimensions; xt/yt: X is stored K x M, Y is stored N x K; beta is
 * 0 or 1.  ml_sgemm1(a) runs on the calling thread; ml_sgemm(a) splits a
 * large product across OpenMP's threads (with BLAS); the forms without a
 * take alpha = 1. */
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef ML_BLAS
/* The CBLAS entry point, declared here: OpenBLAS's cblas.h pulls in
 * <complex.h>, whose macro I would clash with a size named I. */
void cblas_sgemm(int order, int transa, int transb, int m, int n, int k,
		 float alpha, const float *a, int lda, const float *b, int ldb,
		 float beta, float *c, int ldc);
void openblas_set_num_threads(int n);
int openblas_get_num_procs(void);
/* OpenBLAS 0.3.21's sgemm kernel for Haswell and Zen prefetches past the
 * panels it packs, into pages of its work buffer that no product has
 * touched yet.  A prefetch of an unmapped page is dropped only after a page
 * walk (under a hypervisor, a nested one), every time: products whose
 * panels are narrow (n up to 320 here) ran at a third of their rate, 14
 * against 44 GFLOP/s a thread (AMD EPYC under KVM), until one larger
 * product had mapped those pages.  So the first run of a process makes one
 * 64 x 512 x 2048 product on every thread at once (each thread's call takes
 * a buffer of its own); its operands are zeroed pages, and it costs about
 * 5 ms once. */
ML_INLINE void ml_blas_warm(void)
{
	static int warmed;
	if (__atomic_exchange_n(&warmed, 1, __ATOMIC_ACQ_REL))
		return;
	enum { WM = 64, WN = 512, WK = 2048 };
	float *ops = calloc((size_t)WK * (WM + WN), sizeof(float));
	if (!ops)
		return;
#ifdef _OPENMP
	#pragma omp parallel
#endif
	{
		float *c = malloc((size_t)WM * WN * sizeof(float));
		if (c)
			cblas_sgemm(101, 111, 111, WM, WN, WK, 1.0f, ops, WK, ops + (size_t)WM * WK,
				    WN, 0.0f, c, WN);
		free(c);
	}
	free(ops);
}
/* One threading runtime: with OpenMP, BLAS runs single-threaded (its
 * own threads would compete with OpenMP's for the cores) and a large
 * product called outside a parallel region is split across OpenMP's
 * threads, by rows or by columns, whichever is longer. */
ML_INLINE void ml_blas_init(void)
{
#ifdef _OPENMP
	openblas_set_num_threads(1);
#else
	openblas_set_num_threads(openblas_get_num_procs());
#endif
	ml_blas_warm();
}
void cblas_sgemv(int order, int trans, int m, int n, float alpha, const float *a,
		 int lda, const float *x, int incx, float beta, float *y, int incy);
ML_INLINE void ml_sgemm1a(float alpha, int xt, int yt, long M, long N, long K, const float *X,
			      long ldx, const float *Y, long ldy, float beta, float *C, long ldc)
{
	/* 101: row major; 111: no transpose; 112: transpose.  A product
	 * with one row or one column is a matrix-vector product: sgemm
	 * would copy (pack) the whole matrix first, tripling its traffic,
	 * which is what decoding one token is bound by. */
	if (M == 1 && K > 0) {
		if (yt)
			cblas_sgemv(101, 111, (int)N, (int)K, alpha, Y, (int)ldy, X,
				    xt ? (int)ldx : 1, beta, C, 1);
		else
			cblas_sgemv(101, 112, (int)K, (int)N, alpha, Y, (int)ldy, X,
				    xt ? (int)ldx : 1, beta, C, 1);
		return;
	}
	if (N == 1 && K > 0) {
		if (xt)
			cblas_sgemv(101, 112, (int)K, (int)M, alpha, X, (int)ldx, Y,
				    yt ? 1 : (int)ldy, beta, C, (int)ldc);
		else
			cblas_sgemv(101, 111, (int)M, (int)K, alpha, X, (int)ldx, Y,
				    yt ? 1 : (int)ldy, beta, C, (int)ldc);
		return;
	}
	cblas_sgemm(101, xt ? 112 : 111, yt ? 112 : 111, (int)M, (int)N, (int)K,
		    alpha, X, (int)ldx, Y, (int)ldy, beta, C, (int)ldc);
}
#else
ML_INLINE void ml_blas_init(void)
{
}
ML_INLINE void ml_sgemm1a(float alpha, int xt, int yt, long M, long N, long K, const float *X,
			      long ldx, const float *Y, long ldy, float beta, float *C, long ldc)
{
	/* Portable: the innermost loop runs along a row of C so that it
	 * vectorises when Y is not transposed.  beta is 0 or 1. */
	if (beta == 0.0f)
		for (long i = 0; i < M; i++)
			memset(C + i * ldc, 0, (size_t)N * sizeof(float));
	for (long i = 0; i < M; i++)
		for (long p = 0; p < K; p++) {
			float x = alpha * (xt ? X[p * ldx + i] : X[i * ldx + p]);
			float *c = C + i * ldc;
			if (!yt) {
				const float *y = Y + p * ldy;
				for (long j = 0; j < N; j++)
					c[j] += x * y[j];
			} else {
				for (long j = 0; j < N; j++)
					c[j] += x * Y[j * ldy + p];
			}
		}
}
#endif

ML_INLINE void ml_sgemm1(int xt, int yt, long M, long N, long K, const float *X, long ldx,
			 const float *Y, long ldy, float beta, float *C, long ldc)
{
	ml_sgemm1a(1.0f, xt, yt, M, N, K, X, ldx, Y, ldy, beta, C, ldc);
}

/* A matrix-vector product whose matrix is stored along K (a row times a
 * row-major matrix, or the mirror of that: M == 1 && !yt, or N == 1 && xt)
 * split along K: the product of K rows lo..hi-1 alone, written to part
 * (the output's length, vlen). */
ML_INLINE void ml_sgemm_kpart(float alpha, int xt, int yt, long M, long N, long lo, long hi,
			      const float *X, long ldx, const float *Y, long ldy, float *part, long vlen)
{
	if (M == 1)
		ml_sgemm1a(alpha, xt, 0, 1, N, hi - lo, xt ? X + lo * ldx : X + lo, ldx,
			   Y + lo * ldy, ldy, 0.0f, part, vlen);
	else
		ml_sgemm1a(alpha, 1, yt, M, 1, hi - lo, X + lo * ldx, ldx,
			   yt ? Y + lo : Y + lo * ldy, ldy, 0.0f, part, 1);
}

/* Rows lo..hi-1 of C (rows) or its columns lo..hi-1. */
ML_INLINE void ml_sgemm_slice(float alpha, int rows, int xt, int yt, long M, long N, long K,
			      long lo, long hi, const float *X, long ldx, const float *Y, long ldy,
			      float beta, float *C, long ldc)
{
	if (rows)
		ml_sgemm1a(alpha, xt, yt, hi - lo, N, K, xt ? X + lo : X + lo * ldx, ldx, Y, ldy,
			   beta, C + lo * ldc, ldc);
	else
		ml_sgemm1a(alpha, xt, yt, M, hi - lo, K, X, ldx, yt ? Y + lo * ldy : Y + lo, ldy,
			   beta, C + lo, ldc);
}

/* Thread t of nt's share of a product split along K: C[j * c] = beta *
 * C[j * c] + the sum of the nparts parts (each vlen long) at j. */
ML_INLINE void ml_add_parts(float *C, long c, const float *part, int nparts, long vlen,
				float beta, int t, int nt)
{
	for (long j = vlen * t / nt; j < vlen * (t + 1) / nt; j++) {
		float s = beta == 0.0f ? 0.0f : beta * C[j * c];
		for (int u = 0; u < nparts; u++)
			s += part[u * vlen + j];
		C[j * c] = s;
	}
}

/* How ml_sgemma shares a product between nt threads: 1, a matrix-vector
 * product whose matrix is stored along K, each thread summing one
 * contiguous block of the matrix's rows into a part of its own (split
 * along the output instead, the threads would take turns within every
 * row, which streams the weights of decoding a token 15 percent slower);
 * 2, by rows or by columns, whichever is longer; 0, not at all (too small
 * to pay for starting the team).  The calibration probe asks too, so that
 * it times each shape the way kernels run it. */
ML_INLINE int ml_sgemm_share(int nt, int xt, int yt, long M, long N, long K)
{
	long vlen = M == 1 ? N : M;
	if (nt > 1 && ((M == 1 && !yt) || (N == 1 && xt)) && K >= 16L * nt &&
	    (double)vlen * (double)K >= 65536.0 && nt * vlen <= 16384)
		return 1;
	if (nt > 1 && (double)M * (double)N * (double)K >= 262144.0)
		return 2;
	return 0;
}

/* C = alpha op(X) op(Y) + beta C. */
ML_INLINE void ml_sgemma(float alpha, int xt, int yt, long M, long N, long K, const float *X,
			 long ldx, const float *Y, long ldy, float beta, float *C, long ldc)
{
#if defined(ML_BLAS) && defined(_OPENMP)
	int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
	int share = ml_sgemm_share(nt, xt, yt, M, N, K);
	if (share == 1) {
		long vlen = M == 1 ? N : M;
		float part[nt * vlen];
		#pragma omp parallel num_threads(nt)
		{
			int t = omp_get_thread_num();
			ml_sgemm_kpart(alpha, xt, yt, M, N, K * t / nt, K * (t + 1) / nt, X, ldx, Y,
				       ldy, part + t * vlen, vlen);
			#pragma omp barrier
			ml_add_parts(C, M == 1 ? 1 : ldc, part, nt, vlen, beta, t, nt);
		}
		return;
	}
	if (share == 2) {
		int rows = M >= N;
		long len = rows ? M : N, chunk = ((len + nt - 1) / nt + 15) / 16 * 16;
		#pragma omp parallel for num_threads(nt) schedule(static)
		for (int t = 0; t < nt; t++) {
			long lo = t * chunk, hi = lo + chunk < len ? lo + chunk : len;
			if (lo < hi)
				ml_sgemm_slice(alpha, rows, xt, yt, M, N, K, lo, hi, X, ldx, Y, ldy,
					       beta, C, ldc);
		}
		return;
	}
#endif
	ml_sgemm1a(alpha, xt, yt, M, N, K, X, ldx, Y, ldy, beta, C, ldc);
}

ML_INLINE void ml_sgemm(int xt, int yt, long M, long N, long K, const float *X, long ldx,
		     const float *Y, long ldy, float beta, float *C, long ldc)
{
	ml_sgemma(1.0f, xt, yt, M, N, K, X, ldx, Y, ldy, beta, C, ldc);
}

/* A product over part of its index space: C = beta C + alpha op(X) op(Y)
 * where only the index triples (i, j, k) (row, column, reduction; from 0
 * in the call) with idx[r2] <= idx[r1] + d count (r1 != r2, each 0 for i,
 * 1 for j, 2 for k).  Between i and j the constraint says which elements
 * of C exist: the others are not touched.  With k it says which terms of
 * the sum count: the others are left out.  This is a causal mask (t <= s)
 * as a blocked product: the blocks the constraint keeps whole go through
 * ml_sgemma, the ML_TRI_B-wide blocks it cuts are computed in a scratch
 * or with a masked copy of an operand. */
#define ML_TRI_B 64
#define ML_XAT(i, k) (xt ? (k) * ldx + (i) : (i) * ldx + (k))
#define ML_YAT(k, j) (yt ? (j) * ldy + (k) : (k) * ldy + (j))
ML_INLINE long ml_clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Constraint between i and j: rows (r1 == 0: j <= i + d) or columns
 * (r1 == 1: i <= j + d) in blocks, the cut block through a scratch. */
ML_INLINE void ml_sgemm_tri_out(float alpha, int xt, int yt, long M, long N, long K,
				const float *X, long ldx, const float *Y, long ldy, float beta,
				float *C, long ldc, int r1, long d)
{
	float tmp[ML_TRI_B * ML_TRI_B];
	long outer = r1 == 0 ? M : N, inner = r1 == 0 ? N : M;
	for (long a0 = 0; a0 < outer; a0 += ML_TRI_B) {
		long a1 = a0 + ML_TRI_B < outer ? a0 + ML_TRI_B : outer;
		/* Whole: the other index below a0 + d + 1; cut: up to a1 + d. */
		long bf = ml_clampl(a0 + d + 1, 0, inner), be = ml_clampl(a1 + d, 0, inner);
		if (bf > 0) {
			if (r1 == 0)
				ml_sgemma(alpha, xt, yt, a1 - a0, bf, K, X + ML_XAT(a0, 0), ldx, Y, ldy,
					  beta, C + a0 * ldc, ldc);
			else
				ml_sgemma(alpha, xt, yt, bf, a1 - a0, K, X, ldx, Y + ML_YAT(0, a0), ldy,
					  beta, C + a0, ldc);
		}
		if (be <= bf)
			continue;
		long rows = r1 == 0 ? a1 - a0 : be - bf, cols = r1 == 0 ? be - bf : a1 - a0;
		long i0 = r1 == 0 ? a0 : bf, j0 = r1 == 0 ? bf : a0;
		ml_sgemm1a(alpha, xt, yt, rows, cols, K, X + ML_XAT(i0, 0), ldx, Y + ML_YAT(0, j0),
			   ldy, 0.0f, tmp, cols);
		for (long i = 0; i < rows; i++)
			for (long j = 0; j < cols; j++) {
				long gi = i0 + i, gj = j0 + j;
				if (r1 == 0 ? gj <= gi + d : gi <= gj + d) {
					float *c = C + gi * ldc + gj;
					*c = (beta == 0.0f ? 0.0f : *c) + tmp[i * cols + j];
				}
			}
	}
}

/* Constraint between the reduction and i (r1 or r2 == 0) or j: blocks of
 * rows (columns), whole range of k through ml_sgemma, the cut range with
 * the operand masked. */
ML_INLINE void ml_sgemm_tri_red(float alpha, int xt, int yt, long M, long N, long K,
				const float *X, long ldx, const float *Y, long ldy, float beta,
				float *C, long ldc, int r1, int r2, long d)
{
	float tmp[ML_TRI_B * ML_TRI_B];
	int rows = r1 == 0 || r2 == 0; /* blocks of rows (else of columns) */
	int upper = r2 == 2;		/* k <= a + d (else k >= a - d) */
	long outer = rows ? M : N;
	for (long a0 = 0; a0 < outer; a0 += ML_TRI_B) {
		long a1 = a0 + ML_TRI_B < outer ? a0 + ML_TRI_B : outer, w = a1 - a0;
		/* Whole range [wl, wh) of k for every a in the block; the cut
		 * range [cl, ch) next to it. */
		long wl = upper ? 0 : ml_clampl(a1 - 1 - d, 0, K);
		long wh = upper ? ml_clampl(a0 + d + 1, 0, K) : K;
		long cl = upper ? wh : ml_clampl(a0 - d, 0, K);
		long ch = upper ? ml_clampl(a1 + d, 0, K) : wl;
		if (wh < wl)
			wh = wl;
		if (rows)
			ml_sgemma(alpha, xt, yt, w, N, wh - wl, X + ML_XAT(a0, wl), ldx,
				  Y + ML_YAT(wl, 0), ldy, beta, C + a0 * ldc, ldc);
		else
			ml_sgemma(alpha, xt, yt, M, w, wh - wl, X + ML_XAT(0, wl), ldx,
				  Y + ML_YAT(wl, a0), ldy, beta, C + a0, ldc);
		for (long k0 = cl; k0 < ch; k0 += ML_TRI_B) {
			long k1 = k0 + ML_TRI_B < ch ? k0 + ML_TRI_B : ch, kw = k1 - k0;
			/* The operand along a, masked: a w x kw (rows) or kw x w
			 * (columns) row-major copy. */
			for (long a = 0; a < w; a++)
				for (long k = 0; k < kw; k++) {
					long ga = a0 + a, gk = k0 + k;
					int keep = upper ? gk <= ga + d : gk >= ga - d;
					float v = rows ? X[ML_XAT(ga, gk)] : Y[ML_YAT(gk, ga)];
					if (rows)
						tmp[a * kw + k] = keep ? v : 0.0f;
					else
						tmp[k * w + a] = keep ? v : 0.0f;
				}
			if (rows)
				ml_sgemm1a(alpha, 0, yt, w, N, kw, tmp, kw, Y + ML_YAT(k0, 0), ldy, 1.0f,
					   C + a0 * ldc, ldc);
			else
				ml_sgemm1a(alpha, xt, 0, M, w, kw, X + ML_XAT(0, k0), ldx, tmp, w, 1.0f,
					   C + a0, ldc);
		}
	}
}

ML_INLINE void ml_sgemm_tri(float alpha, int xt, int yt, long M, long N, long K, const float *X,
			    long ldx, const float *Y, long ldy, float beta, float *C, long ldc,
			    int r1, int r2, long d)
{
	if (M <= 0 || N <= 0)
		return;
	if (r1 != 2 && r2 != 2)
		ml_sgemm_tri_out(alpha, xt, yt, M, N, K, X, ldx, Y, ldy, beta, C, ldc, r1, d);
	else
		ml_sgemm_tri_red(alpha, xt, yt, M, N, K, X, ldx, Y, ldy, beta, C, ldc, r1, r2, d);
}
#undef ML_XAT
#undef ML_YAT

/* A matrix-vector product that the threads of a team reach at
 * different times (one of them first ran groups that do not depend on
 * it): the matrix is cut into ML_TEAM blocks, each taken by whichever
 * thread is free (*next counts the blocks handed out), so that the
 * others stream the matrix meanwhile.  Blocks cut along K sum into
 * parts of their own (part: ML_TEAM times the output's length), added
 * once every block is done.  Every thread of the team calls it; outside
 * a team of several threads it is ml_sgemm. */
#define ML_TEAM 8
ML_INLINE void ml_sgemm_team(long *next, float *part, int xt, int yt, long M, long N,
				 long K, const float *X, long ldx, const float *Y, long ldy,
				 float beta, float *C, long ldc)
{
#ifdef _OPENMP
	if (omp_get_num_threads() > 1) {
		long vlen = M == 1 ? N : M;
		int alongk = (M == 1 && !yt) || (N == 1 && xt);
		for (;;) {
			long b;
			#pragma omp atomic capture
			b = (*next)++;
			if (b >= ML_TEAM)
				break;
			long len = alongk ? K : vlen, lo = len * b / ML_TEAM, hi = len * (b + 1) / ML_TEAM;
			if (alongk)
				ml_sgemm_kpart(1.0f, xt, yt, M, N, lo, hi, X, ldx, Y, ldy,
					       part + b * vlen, vlen);
			else
				ml_sgemm_slice(1.0f, M != 1, xt, yt, M, N, K, lo, hi, X, ldx, Y, ldy,
					       beta, C, ldc);
		}
		if (alongk) {
			#pragma omp barrier
			ml_add_parts(C, M == 1 ? 1 : ldc, part, ML_TEAM, vlen, beta,
				     omp_get_thread_num(), omp_get_num_threads());
		}
		return;
	}
#endif
	(void)next;
	(void)part;
	ml_sgemm(xt, yt, M, N, K, X, ldx, Y, ldy, beta, C, ldc);
}

/* END EMBEDDED */

#endif
