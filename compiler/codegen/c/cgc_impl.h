/* cgc_impl.h - the C printer's state, shared by the c_*.c files (private
 * to compiler/codegen/c).
 *
 *   c_files.c  the files: header, kernel (workspace, groups), driver, Makefile
 *   c_loops.c  a group's AST as C: loops, regions, statements, tile buffers
 *   c_gemm.c   matrix products as calls, and teams beside them
 *   c_expr.c   C text of index forms, offsets, numbers, right-hand sides
 *   c_prefetch.c  software prefetches of rows read across pages
 *
 * Ownership: the state is a local of its public entry point, which frees
 * what it allocated before it returns.
 */
#ifndef MAMBALAYA_CGC_IMPL_H
#define MAMBALAYA_CGC_IMPL_H

#include <stdint.h>

#include <isl/ast.h>

#include "base/sbuf.h"
#include "cgc.h"

/* Printing one lowered plan. */
typedef struct cgc {
	const cg_lowered *l;
	const deps_graph *g;
	const ein_cascade *c;
	const cg_plan *p;
	const cg_options *o;
	const cg_buffer *buf; /* l->buf */
	const cg_gemm *gemm;  /* l->gemm */
	/* The group being printed. */
	int cur;
	int par_member; /* band member whose loop is parallel, or -1 */
	int serial;	/* ignore the parallel marks of this group */
	int group_gemm; /* the group has GEMM members */
	int64_t ws_full;  /* workspace bytes of the full intermediates */
	int64_t ws_tiles; /* and of the largest serial group's tile buffers */
	int64_t ws_team;  /* and of the parts of a team's product */
	int64_t ws_thread; /* after those, per thread: a parallel group's tile buffers */
	int team;	  /* emit the GEMM call as ml_sgemm_team */
	int in_team;	  /* emitting the groups beside a team's product */
	/* Inside a fused loop: reductions that accumulate in acc<i>. */
	int nacc;
	int acc_e[16];
	/* Inside a simd loop: the statement's loop-invariant subexpressions,
	 * computed before the loop as hx<i> (cgc_expr prints the name). */
	int nhoist;
	const ein_expr *hoist[16];
	/* Inside a fused loop: the tensors its statements write (one flag
	 * per tensor), which no hoisted subexpression may read; or NULL. */
	const char *written;
	/* Inside a simd loop: its iterator and start, and the variable of
	 * the statement being printed that is that iterator (or -1), so that
	 * an offset in a cyclic dimension stays affine (cgc_offset). */
	/* The iterators of the loops being printed around the current one
	 * (not owned), outermost first, for cgc_prefetch. */
	isl_id *loops[16];
	isl_ast_node *loop_nodes[16]; /* and their nodes (not owned) */
	int nloops;
	isl_id *vec_it;
	isl_ast_expr *vec_init;
	int vec_var;
	sbuf out;
	char *err;
	size_t errlen;
} cgc;

/* c_expr.c */
void cgc_offset(sbuf *s, const cgc *k, const ein_einsum *es, const ein_access *a);
/* The variables (one bit each) that access a of es indexes by. */
unsigned cgc_access_vars(const ein_einsum *es, const ein_access *a);
/* Element strides of each dimension of b (its storage order). */
void cgc_strides(const cg_buffer *b, int64_t *strides);
void cgc_number(sbuf *s, double x);
void cgc_expr(sbuf *s, const cgc *k, const ein_einsum *es, const ein_expr *e);

/* c_loops.c */
void cgc_print_expr(cgc *k, __isl_keep isl_ast_expr *e);
/* C text of e (NULL: 0) appended to s. */
void cgc_print_expr_to(sbuf *s, __isl_keep isl_ast_expr *e);
/* Does AST expression e use identifier id (NULL: no)? */
int cgc_expr_uses(__isl_keep isl_ast_expr *e, __isl_keep isl_id *id);
/* Bytes of a buffer's slot in the workspace: whole cache lines, and
 * 1344 past a multiple of 4 KiB once it spans a page (c_loops.c). */
int64_t cgc_buf_bytes(const cg_buffer *b);
/* Is b a local array of the group's code rather than a slot of the
 * workspace (a small tile buffer)? */
int cgc_buf_local(const cg_buffer *b);
/* Offsets in the workspace (plan_workspace): where the team's parts start,
 * and the end of what all threads share (NAME_WORKSPACE_BYTES), after
 * which each thread has ws_thread bytes. */
int64_t cgc_ws_team(const cgc *k);
int64_t cgc_ws_shared(const cgc *k);
int cgc_group_has_tiles(const cgc *k, int gi);
/* Group gi's statements; guard: inside `if (ok)`. */
void cgc_emit_group(cgc *k, const cg_glow *gl, int gi, int guard);

/* c_prefetch.c */
/* At the top of the body of sequential loop node (at depth): prefetches
 * of the rows that a later iteration reads across pages. */
void cgc_prefetch(cgc *k, __isl_keep isl_ast_node *node, int depth);

/* c_gemm.c */
enum { CGC_TEAM_BLOCKS = 8 }; /* ML_TEAM in runtime/ml_gemm.h */
/* The call(s) of member e's product over one tile (tile indices tile_j). */
void cgc_emit_gemm(cgc *k, int e, int depth);
/* The end (exclusive) of the groups run beside group gi's product, or
 * gi + 1 for none; *vlen: its output length, *elems: its matrix's
 * elements. */
int cgc_team_end(cgc *k, const cg_glow *gls, int gi, int64_t *vlen, int64_t *elems);
void cgc_emit_team(cgc *k, const cg_glow *gls, int gi, int end, int64_t points);

#endif
