/* lower_impl.h - lowering's working state, shared by the lower_*.c files
 * (private to compiler/codegen; the back ends see only lower.h).
 *
 *   lower.c           the entry point: validation, then the steps below
 *   lower_buffers.c   where each tensor lives (cg_buffer)
 *   lower_gemm.c      which Einsums become matrix products (cg_gemm)
 *   lower_strips.c    strips: runs of elementwise members cut along a rank
 *                     that run in parallel, and their point-sized buffers
 *   lower_sched.c     per group: the parallel loop, the schedule tree, the AST
 *   lower_contract.c  intermediates stored modulo a few slots (isl flow)
 */
#ifndef MAMBALAYA_LOWER_IMPL_H
#define MAMBALAYA_LOWER_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <isl/ast.h>
#include <isl/set.h>
#include <isl/union_map.h>

#include "analysis/fusion.h"
#include "lower.h"

/* Inside one point of a strip, a run of statements [first, last) whose
 * loops along `rank` are fused into one (cgl_find_nests); depth 0 is
 * directly below the points.  A leaf nest has no nest inside: `rank` is
 * the only loop left to its statements, and its body is their instances
 * one after the other. */
#define CG_MAX_NEST 3
#define CG_MAX_NESTS 16
typedef struct cg_nest {
	int first, last;
	int rank;
	int depth;
	int leaf;
} cg_nest;

/* A run of statements [first, last) of a group strip-mined along a rank:
 * one band of strips of `size` along `rank` above the run's statements. */
typedef struct cg_strip {
	int first, last;
	int anchor; /* global_schedule: position of its first statement */
	int rank;
	int64_t size;
	int serial; /* inside a thread's tile of a parallel group: no region */
	int npoint; /* further ranks, one point at a time, inside a strip */
	int point[CG_MAX_BAND];
	int nnest; /* fused loops inside a point, outer ones first */
	cg_nest nest[CG_MAX_NESTS];
} cg_strip;

/* The lowering of one plan in progress. */
typedef struct cg {
	const deps_graph *g;
	const ein_cascade *c;
	const cg_plan *p;
	const cg_options *o;
	isl_ctx *ctx;
	/* The arrays of the cg_lowered being built (it owns them). */
	cg_buffer *buf;
	int *group_of;
	cg_gemm *gemm;
	/* The group being lowered. */
	int cur;
	fusion_req req;
	fusion_result res;
	int par_member; /* band member whose loop is parallel, or -1 */
	int par_stmt;	/* unfused: parallelise the statement's first loop */
	int par_split;	/* ... which is its par_split-th dimension */
	int serial;	/* ignore the parallel marks of this group */
	int group_gemm; /* the group has GEMM members */
	/* Strips (cgl_find_strips) of all groups, and per Einsum the strip
	 * run of its statement [0] and of its initialisation [1], or -1. */
	cg_strip *strips;
	int nstrips;
	int (*stmt_run)[2];
	int (*stmt_at)[2]; /* and the statement's index in the group's order */
	/* Per Einsum: bit r set when its group runs rank r in parallel. */
	uint32_t *par_ranks;
	char *err;
	size_t errlen;
} cg;

/* lower_buffers.c */
fusion_req cgl_group_req(const cg *k, int gi);
/* Is tensor t carried (a dependence between members crosses tiles) along
 * band member j of group gi? */
int cgl_carried_along(const cg *k, int gi, int t, int j);
/* Is tensor t an operand or the result of a member of group gi (any
 * group when gi < 0) that may become a BLAS call? */
int cgl_product_tensor(const cg *k, int gi, int t);
/* Fills k->buf: the caller's arrays, full arrays, tile buffers. */
int cgl_plan_buffers(cg *k);

/* lower_gemm.c */
/* Decides, per member of group gi, whether it becomes a GEMM call. */
void cgl_plan_gemms(cg *k, int gi);
/* Sets the call fields of k->gemm[e] (ncol, nloops, xt, ..., ldc). */
void cgl_gemm_layout(cg *k, int e);

/* lower_strips.c */
int64_t cgl_stmt_points(const cg *k, int gi, const int *stmt_e, const int *stmt_init,
			int first, int last, int per_tile);
int64_t cgl_group_points(const cg *k, int gi);
int cgl_find_strips(cg *k, int gi, const int *stmt_e, const int *stmt_init, int ns,
		    cg_strip *out, int max);
void cgl_contract_points(cg *k, int gi, const cg_strip *strips, int nstrips,
			 const int *stmt_e, int ns);
/* The ranks that statement e (init: its initialisation) of group gi still
 * loops along inside one point of strip sp (NULL: inside a tile), beyond
 * those in `used` (one bit per rank): its ranks of extent 2 or more there,
 * output ranks only for an initialisation. */
uint64_t cgl_loop_ranks(const cg *k, int gi, const cg_strip *sp, int e, int init,
			uint64_t used);
/* The fused loops inside one point of strip sp (sp->nest). */
void cgl_find_nests(cg *k, int gi, const int *stmt_e, const int *stmt_init, cg_strip *sp);
/* After cgl_find_nests: a strip whose points loop along another rank
 * around the vector loop (a nest that is not a leaf) takes one vector's
 * lanes at most (CGL_VECTOR_MIN), and its nests are found again.  What
 * the inner loop accumulates for a point (a scan's sum over its states)
 * then fits in registers across the outer loop: Mamba-1's scan group
 * took 25.3 ms with strips of 64 channels, 21.0 with strips of 16 and
 * its sum a local array of one strip (AMD EPYC, I = 1024). */
void cgl_size_strip(cg *k, int gi, const int *stmt_e, const int *stmt_init, cg_strip *sp);
/* Statement i of strip sp: its position among the children of each nest
 * around it (pos[0] in the point's sequence) and those nests' ranks.
 * Returns its depth d: pos[0..d], rank[0..d-1] are set. */
int cgl_nest_path(const cg_strip *sp, int i, int *pos, int *rank);
/* Tile buffers of group gi that may live in a register: written and read
 * only inside one leaf nest, each read in the iteration of its write
 * (cg_buffer.reg, before cgl_check_regs confirms it on the AST). */
void cgl_find_regs(cg *k, int gi, const cg_strip *strips, int nstrips, const int *stmt_e,
		   const int *stmt_init, int ns);

/* Buffers that group gi's leaf nests read across their rows, stored
 * transposed where nothing else wants them otherwise (cg_buffer.last). */
void cgl_find_layouts(cg *k, int gi, const cg_strip *strips, int nstrips, const int *stmt_e,
		      const int *stmt_init, int ns);

/* lower_sched.c */
/* The domain of statement S<e> (init 1: Z<e>, the output points of a
 * reduction; 2: G<e>, one point per tile), without parameters. */
__isl_give isl_set *cgl_stmt_domain(cg *k, int e, int init);
/* Lowers group gi: GEMM members, the parallel loop, the AST. */
int cgl_lower_group(cg *k, cg_glow *gl, int gi);

/* lower_contract.c */
/* Stores intermediates that cross groups modulo a small extent where the
 * whole program's schedule allows it. */
int cgl_contract_buffers(cg *k);

#endif
