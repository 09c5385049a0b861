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
/* C[M x N] += op(X)[M x K] op(Y)[K x N], row-major with leading
 * dimensions; xt/yt: X is stored K x M, Y is stored N x K.  ml_sgemm1 runs
 * on the calling thread; ml_sgemm splits a large product across OpenMP's
 * threads (with BLAS). */
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
}
void cblas_sgemv(int order, int trans, int m, int n, float alpha, const float *a,
		 int lda, const float *x, int incx, float beta, float *y, int incy);
ML_INLINE void ml_sgemm1(int xt, int yt, long M, long N, long K, const float *X, long ldx,
			     const float *Y, long ldy, float beta, float *C, long ldc)
{
	/* 101: row major; 111: no transpose; 112: transpose.  A product
	 * with one row or one column is a matrix-vector product: sgemm
	 * would copy (pack) the whole matrix first, tripling its traffic,
	 * which is what decoding one token is bound by. */
	if (M == 1 && K > 0) {
		if (yt)
			cblas_sgemv(101, 111, (int)N, (int)K, 1.0f, Y, (int)ldy, X,
				    xt ? (int)ldx : 1, beta, C, 1);
		else
			cblas_sgemv(101, 112, (int)K, (int)N, 1.0f, Y, (int)ldy, X,
				    xt ? (int)ldx : 1, beta, C, 1);
		return;
	}
	if (N == 1 && K > 0) {
		if (xt)
			cblas_sgemv(101, 112, (int)K, (int)M, 1.0f, X, (int)ldx, Y,
				    yt ? 1 : (int)ldy, beta, C, (int)ldc);
		else
			cblas_sgemv(101, 111, (int)M, (int)K, 1.0f, X, (int)ldx, Y,
				    yt ? 1 : (int)ldy, beta, C, (int)ldc);
		return;
	}
	cblas_sgemm(101, xt ? 112 : 111, yt ? 112 : 111, (int)M, (int)N, (int)K,
		    1.0f, X, (int)ldx, Y, (int)ldy, beta, C, (int)ldc);
}
#else
ML_INLINE void ml_blas_init(void)
{
}
ML_INLINE void ml_sgemm1(int xt, int yt, long M, long N, long K, const float *X, long ldx,
			     const float *Y, long ldy, float beta, float *C, long ldc)
{
	/* Portable: the innermost loop runs along a row of C so that it
	 * vectorises when Y is not transposed. */
	if (beta == 0.0f)
		for (long i = 0; i < M; i++)
			memset(C + i * ldc, 0, (size_t)N * sizeof(float));
	for (long i = 0; i < M; i++)
		for (long p = 0; p < K; p++) {
			float x = xt ? X[p * ldx + i] : X[i * ldx + p];
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

/* A matrix-vector product whose matrix is stored along K (a row times a
 * row-major matrix, or the mirror of that: M == 1 && !yt, or N == 1 && xt)
 * split along K: the product of K rows lo..hi-1 alone, written to part
 * (the output's length, vlen). */
ML_INLINE void ml_sgemm_kpart(int xt, int yt, long M, long N, long lo, long hi, const float *X,
			      long ldx, const float *Y, long ldy, float *part, long vlen)
{
	if (M == 1)
		ml_sgemm1(xt, 0, 1, N, hi - lo, xt ? X + lo * ldx : X + lo, ldx, Y + lo * ldy,
			  ldy, 0.0f, part, vlen);
	else
		ml_sgemm1(1, yt, M, 1, hi - lo, X + lo * ldx, ldx, yt ? Y + lo : Y + lo * ldy, ldy,
			  0.0f, part, 1);
}

/* Rows lo..hi-1 of C (rows) or its columns lo..hi-1. */
ML_INLINE void ml_sgemm_slice(int rows, int xt, int yt, long M, long N, long K, long lo, long hi,
			      const float *X, long ldx, const float *Y, long ldy, float beta,
			      float *C, long ldc)
{
	if (rows)
		ml_sgemm1(xt, yt, hi - lo, N, K, xt ? X + lo : X + lo * ldx, ldx, Y, ldy, beta,
			  C + lo * ldc, ldc);
	else
		ml_sgemm1(xt, yt, M, hi - lo, K, X, ldx, yt ? Y + lo * ldy : Y + lo, ldy, beta,
			  C + lo, ldc);
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

ML_INLINE void ml_sgemm(int xt, int yt, long M, long N, long K, const float *X, long ldx,
		     const float *Y, long ldy, float beta, float *C, long ldc)
{
#if defined(ML_BLAS) && defined(_OPENMP)
	int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
	/* A matrix-vector product whose matrix is stored along K: each
	 * thread sums one contiguous block of the matrix's rows into a part
	 * of its own, then the parts are added.  Split along the output
	 * instead, the threads would take turns within every row, which
	 * streams the weights of decoding a token 15 percent slower. */
	long vlen = M == 1 ? N : M;
	if (nt > 1 && ((M == 1 && !yt) || (N == 1 && xt)) && K >= 16L * nt &&
	    (double)vlen * (double)K >= 65536.0 && nt * vlen <= 16384) {
		float part[nt * vlen];
		#pragma omp parallel num_threads(nt)
		{
			int t = omp_get_thread_num();
			ml_sgemm_kpart(xt, yt, M, N, K * t / nt, K * (t + 1) / nt, X, ldx, Y, ldy,
				       part + t * vlen, vlen);
			#pragma omp barrier
			ml_add_parts(C, M == 1 ? 1 : ldc, part, nt, vlen, beta, t, nt);
		}
		return;
	}
	if (nt > 1 && (double)M * (double)N * (double)K >= 262144.0) {
		int rows = M >= N;
		long len = rows ? M : N, chunk = ((len + nt - 1) / nt + 15) / 16 * 16;
		#pragma omp parallel for num_threads(nt) schedule(static)
		for (int t = 0; t < nt; t++) {
			long lo = t * chunk, hi = lo + chunk < len ? lo + chunk : len;
			if (lo < hi)
				ml_sgemm_slice(rows, xt, yt, M, N, K, lo, hi, X, ldx, Y, ldy, beta,
					       C, ldc);
		}
		return;
	}
#endif
	ml_sgemm1(xt, yt, M, N, K, X, ldx, Y, ldy, beta, C, ldc);
}

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
				ml_sgemm_kpart(xt, yt, M, N, lo, hi, X, ldx, Y, ldy, part + b * vlen, vlen);
			else
				ml_sgemm_slice(M != 1, xt, yt, M, N, K, lo, hi, X, ldx, Y, ldy, beta, C,
					       ldc);
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
