/* lower.h - lowering: a plan to the loop IR that both back ends print.
 *
 * Lowering validates the plan (every group legal at its tiles, the order
 * respecting the dependences), decides where every tensor lives (cg_buffer:
 * the caller's array, a full array, or a tile buffer private to a group,
 * stored modulo a few slots where that is safe), which Einsums become
 * matrix products (cg_gemm), which loop of each group runs in parallel, and
 * builds per group an isl schedule tree and from it an isl AST.  The C
 * printer (c/cgc.h) and the accelerator stream (stream/stream.h) walk the
 * same cg_lowered, so that they cannot disagree.
 *
 * The AST of a group: loops, ifs, blocks, marks, user statements.  A user
 * statement is a call whose first argument names it and whose other
 * arguments are its coordinates:
 *   S<e>(x...)  one instance of Einsum e at its rank values x (in the
 *               order of ein_einsum.vars): out = rhs, or out = out (+) rhs
 *               for a reduction;
 *   Z<e>(x...)  the initialisation of reduction e's output element at its
 *               output ranks x: out = identity of the reduce operator;
 *   G<e>(t...)  Einsum e as one matrix product over the tile whose tile
 *               indices are t (one per fused rank; none when unfused):
 *               see cg_gemm.
 * A mark "parallel" sits below the band member whose loop runs in parallel
 * (it is the body of that loop); a mark "pfor N" is the body of a loop of
 * strips that run in parallel, N points in all.
 *
 * Ownership: cg_lower() gives a cg_lowered that the caller frees with
 * cg_lowered_free(); it keeps pointers to the graph, plan and options,
 * which must outlive it.
 */
#ifndef MAMBALAYA_LOWER_H
#define MAMBALAYA_LOWER_H

#include <stdint.h>

#include <isl/ast.h>

#include "analysis/deps.h"
#include "cgplan.h"

/* A reduction of at most this many terms is unrolled inside the loop
 * around it (the C back end's emit_acc_loop), which then vectorises along
 * its own rank: lowering stores operands for that loop (cgl_find_layouts). */
#define CG_UNROLL_MAX 8

typedef struct cg_options {
	const char *name; /* C identifier prefix and file names */
	int blas;	  /* call sgemm for GEMM-shaped Einsums */
	int openmp;	  /* emit OpenMP pragmas */
	/* The C compiler flags the Makefile records (ncflags words), or none
	 * for the default flags. */
	const char *const *cflags;
	int ncflags;
	/* Products with a filter u <= v + c as masked calls (ml_sgemm_tri):
	 * the C back end sets it; the stream has no masked product. */
	int masked_gemm;
	/* Loop orders and storage orders for a CPU's vectors (the C back
	 * end): a strip's rank stays the innermost loop of its nests, and an
	 * intermediate read across its rows there is stored transposed
	 * (cg_buffer.transposed, last). */
	int layouts;
} cg_options;

typedef enum cg_buf_kind {
	CG_BUF_USER, /* an input, weight or output: the caller's array */
	CG_BUF_FULL, /* an intermediate crossing groups: a full array */
	CG_BUF_TILE  /* internal to one group: a tile buffer (per thread) */
} cg_buf_kind;

/* A tile buffer of at most this many floats is a local array in C (the C
 * compiler may keep it in registers; see c_loops.c). */
#define CG_LOCAL_MAX 64

/* Where a tensor lives.  Element x of the tensor is at row-major position
 * (x_d mod ext[d] when mod[d], else x_d) in a buffer of extents ext[]. */
typedef struct cg_buffer {
	cg_buf_kind kind;
	int group; /* CG_BUF_TILE: the owning group */
	int ndims;
	int64_t ext[EIN_MAX_DIMS];
	int mod[EIN_MAX_DIMS]; /* ext[d] is a power of two */
	/* CG_BUF_TILE touched inside one strip run only, no tile loop coming
	 * back to an element (cgl_contract_points): dimension d, indexed by
	 * the strip's rank, holds one strip (mod[d], ext[d] the strip's size;
	 * strips start at multiples of it). */
	int strip[EIN_MAX_DIMS];
	/* ... and the strips run in parallel: each iteration of the loop of
	 * strips has the buffer to itself, a local array of that loop's body
	 * (CG_LOCAL_MAX elements at most).  1 + the run's index in the
	 * lowering's strips (its "pfor" mark says the same), else 0. */
	int priv_run;
	int64_t size;	       /* elements */
	/* CG_BUF_TILE written and read in one iteration of a fused loop
	 * only (lower_strips.c): a local of that loop's body, no memory. */
	int reg;
	/* Stored with dimension `last` innermost, the others in order
	 * (cg_options.layouts): a strip's vector loop runs along it.  copy:
	 * an input or weight that the kernel copies so into its workspace
	 * at the start of every call. */
	int transposed, last, copy;
} cg_buffer;

/* A GEMM-shaped Einsum C = sum_K X * Y: X = reads[x], Y = reads[y]; the
 * rank variables in blocks M (output ranks of X), N (output ranks of Y),
 * K (reduced), each contiguous in every tensor it appears in. */
typedef struct cg_gemm {
	int ok; /* lowered to G<e> statements */
	int x, y;
	double alpha; /* the constant factors of the product */
	int nm, nn, nk, nb;
	/* Blocks of variables, each in the order of its tensors' dimensions:
	 * M (of C and X), N (of C and Y), K (reduced, of X and Y), and the
	 * batch variables of all three, always loops around the call. */
	int m[EIN_MAX_VARS], n[EIN_MAX_VARS], kk[EIN_MAX_VARS], b[EIN_MAX_VARS];
	int beta0; /* each call covers the whole reduction (no Z<e>) */
	/* The Einsum's filter, u <= v + fc, when it has one (fu >= 0): the
	 * product runs over that part of its space only. */
	int fu, fv;
	int64_t fc;
	/* The call over one tile, in the buffers (set when ok): the trailing
	 * ncol[q] variables of block q (M, N, K) are collapsed into the
	 * matrix dimension, the others are loops around the call (nloops in
	 * all); X is stored K x M when xt, Y N x K when yt, C N x M when ct;
	 * ldx, ldy, ldc are the leading dimensions. */
	int ncol[3];
	int nloops;
	int xt, yt, ct;
	int64_t ldx, ldy, ldc;
} cg_gemm;

/* What lowering decided for one group. */
typedef struct cg_glow {
	isl_ast_node *ast;
	int par_member;	   /* the band member whose loop runs in parallel, or -1 */
	int serial;	   /* its parallel marks are to be ignored */
	int group_gemm;	   /* it has members lowered to G<e> */
	uint32_t parallel; /* band members that may run in parallel */
	int64_t points;	   /* statement instances of all its members */
} cg_glow;

/* The loop IR: read-only for the back ends. */
typedef struct cg_lowered {
	const deps_graph *g;
	const cg_plan *p;
	const cg_options *o;
	cg_buffer *buf;	 /* per tensor */
	cg_gemm *gemm;	 /* per Einsum */
	int *group_of;	 /* per Einsum */
	cg_glow *groups; /* per group of p */
} cg_lowered;

/* Lowers plan p.  Returns 0 with *out set, -2 with a message for a plan
 * error (an Einsum in no or two groups, an illegal group, a bad order, a
 * name that C cannot use), -1 for an internal error. */
int cg_lower(const deps_graph *g, const cg_plan *p, const cg_options *o,
	     cg_lowered **out, char *err, size_t errlen);
void cg_lowered_free(cg_lowered *l);

/* Is name usable as a C identifier prefix? */
int cg_valid_name(const char *name);

/* Helpers both lowering and the back ends use. */

/* The GEMM shape of an Einsum (ok set when it has one); see cg_gemm. */
/* Is es a matrix product (cg_gemm.ok)?  masked: a filter u <= v + c is
 * allowed (cg_options.masked_gemm). */
cg_gemm cg_gemm_match(const ein_cascade *c, const ein_einsum *es, int masked);
/* The largest extent of rank r among the Einsums flagged in members that
 * have it (0 when none has). */
int64_t cg_members_extent(const deps_graph *g, const char *members, int r);
/* The band member of group gr that fuses variable v of Einsum e, or -1. */
int cg_band_slot(const deps_graph *g, const cg_group *gr, int e, int v);
/* Is node a mark named "parallel"? */
int cg_is_parallel_mark(__isl_keep isl_ast_node *node);

#endif
