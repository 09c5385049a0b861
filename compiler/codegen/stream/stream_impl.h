/* stream_impl.h - the stream back end's state, shared by its files
 * (private to compiler/codegen/stream; see stream.h).
 *
 *   stream.c         the module: target, tensor table, groups in order
 *   stream_walk.c    a group's AST: tile loops, register loops, box nests
 *   stream_kernel.c  statements as box operations (VEXPR, MMA, FILL)
 *   stream_dma.c     tensor windows opened and closed: DMAs, carried data
 *   stream_window.c  the windows' sizes and places in the global buffer
 *   stream_code.c    instructions, registers, scalar expressions (sx)
 *
 * Ownership: the state is a local of its public entry point, which frees
 * what it allocated before it returns.
 */
#ifndef MAMBALAYA_STREAM_IMPL_H
#define MAMBALAYA_STREAM_IMPL_H

#include <stdint.h>

#include <isl/ast.h>

#include "mapping/cost.h"
#include "stream.h"

#define MAXDEPTH 64	  /* isl AST iterator depths c0.. */

#define ALIGN_VALUES 32	  /* buffer windows start on multiples of this */

#define MAX_KERNEL_UOPS 512

/* A scalar value known to the emitter: k * r[reg] + c (just c when reg <
 * 0).  Folding constants and scale factors here is what keeps the stream
 * free of instructions for values known at compile time. */
typedef struct sx {
	int reg;
	int64_t k, c;
} sx;

/* A tensor the current group touches, and its window in the buffer. */
typedef struct gten {
	int t;
	int written;
	int ndims;
	cost_dim dim[EIN_MAX_DIMS]; /* as the cost model sees them */
	uint32_t slots; /* band slots indexing it */
	int level;	/* the cost model's retention level */
	int p;		/* depth (band loops fixed) at which the window opens */
	int carry;	/* dimension carried between tiles along loop p, or -1 */
	int tiled[EIN_MAX_DIMS];
	int64_t W[EIN_MAX_DIMS];   /* window extents */
	int64_t gbs[EIN_MAX_DIMS]; /* buffer strides (row-major over W) */
	int64_t slot_vals, base0;
	int nslots;
	int dram;     /* DRAM-resident: DMAs move it */
	int load_all; /* read-only here: its window is loaded */
	int has_in;   /* the part produced outside the group, as a box */
	int64_t in_lo[EIN_MAX_DIMS], in_hi[EIN_MAX_DIMS];
	int store_all; /* an output: everything written is stored */
	int has_out;   /* the part read outside the group, as a box */
	int64_t out_lo[EIN_MAX_DIMS], out_hi[EIN_MAX_DIMS];
	int spill;	       /* written, revisited by a loop not indexing it */
	uint32_t passes;       /* band slots (<= p) not indexing it */
	int lazy;	       /* loaded just before its first use in the window's scope */
	int first, last;       /* member positions its window lives through (a tile) */
	int persistent;	       /* its window lives through the whole group */
	/* Registers (group lifetime) and current values. */
	int r_orig[EIN_MAX_DIMS];
	int r_toggle, r_base, r_prev_orig, r_prev_end, r_end, r_pend;
	int pend_known;	       /* r_pend's value (0/1) is known at... */
	int64_t pend_epoch;    /* ...this control-flow epoch */
	sx orig[EIN_MAX_DIMS];
	sx base;
	int is_open;
} gten;

#define MAX_DEFER 64

typedef struct defer {
	isl_ast_node *v[MAX_DEFER];
	int n;
	uint32_t mask; /* band slots unbound where they were */
} defer;

typedef struct st {
	const deps_graph *g;
	const ein_cascade *c;
	const target *t;
	const cg_lowered *l;
	const cg_plan *p;
	const plan *choices;
	cost_model *cm;
	mlb_module *m;
	int cap_insns, cap_descs, cap_uops;
	char *need_dram; /* per tensor: spilled, so it needs DRAM space */
	int rtop;	 /* next free register (a stack) */
	/* The current group. */
	int gi, nband;
	const cg_group *gr;
	int64_t tile[CG_MAX_BAND], ext[CG_MAX_BAND], ntile[CG_MAX_BAND];
	int64_t first_tile[CG_MAX_BAND], last_tile[CG_MAX_BAND];
	int loop_exists[CG_MAX_BAND];
	cost_group *cg;
	cost_result res;
	int *unit_of; /* per Einsum */
	int ngt;
	gten gt[COST_MAX_TENSORS];
	sx iter[MAXDEPTH];
	int bound[MAXDEPTH];
	sx tlo[CG_MAX_BAND], thi[CG_MAX_BAND];
	int open_upto;
	/* Statements isl placed before (pre) or after (post) the tile loops
	 * of a block, because their tile coordinates are constant: they run
	 * in the innermost tile body, in the tile they belong to. */
	struct defer *pre, *post;
	uint32_t guard; /* band slots whose tile the current statement checks */
	char *defer_pre, *defer_post; /* per Einsum: deferred to a tile's start or end */
	int64_t alloc;
	int64_t epoch; /* advances at every branch, loop and branch target */
	int mode_known;	    /* the array's mode (0 1D, 1 2D) is known at... */
	int64_t mode_epoch; /* ...this epoch */
	int mode_fixed;	    /* ...or for the whole group (one array only) */
	int rc;
	char *err;
	size_t errlen;
} st;

static inline sx K(int64_t c)
{
	sx v = {-1, 0, c};
	return v;
}

static inline sx R(int r)
{
	sx v = {r, 1, 0};
	return v;
}

static inline int is_const(sx a)
{
	return a.reg < 0;
}

/* stream_code.c */
void st_fail(st *s, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int st_grow(st *s, void **p, int *cap, int n, size_t size);
int st_emit(st *s, int op, int a, int b, int c, uint32_t x, int64_t imm);
/* Adds a descriptor (reusing an identical one). */
int st_add_desc(st *s, const mlb_desc *d);
int st_ralloc(st *s);
int st_ralloc_block(st *s, int n);
int64_t st_ck_add(st *s, int64_t a, int64_t b);
int64_t st_ck_mul(st *s, int64_t a, int64_t b);
int64_t st_floordiv(int64_t a, int64_t b);
sx sx_add(st *s, sx a, sx b);
sx sx_muli(st *s, sx a, int64_t k);
sx sx_sub(st *s, sx a, sx b);
/* A register holding a's value. */
int sx_reg(st *s, sx a);
/* Puts a's value into register rd. */
void sx_to(st *s, sx a, int rd);
sx sx_bin(st *s, int op, sx a, sx b);
int st_expr_int(__isl_keep isl_ast_expr *e, int64_t *out);
sx st_ast_arg(st *s, __isl_keep isl_ast_expr *e, int i);
/* The value of an isl AST expression (iterators bound to registers). */
sx st_ast_sx(st *s, __isl_keep isl_ast_expr *e);
/* Does e use the iterator of depth d? */
int st_ast_mentions(__isl_keep isl_ast_expr *e, int d);
/* The coefficient of iterator d in e; *ok = 0 when e is not affine in it. */
int64_t st_ast_deriv(__isl_keep isl_ast_expr *e, int d, int *ok);
/* The upper bound U of `it <= U` or `it < U` (as U - 1). */
sx st_loop_upper(st *s, __isl_keep isl_ast_node *node);
int64_t st_loop_step(st *s, __isl_keep isl_ast_node *node);
int st_node_depth(__isl_keep isl_ast_node *node);
/* Emits a branch on flag (taken when it is zero); returns its index. */
int st_branch_if_zero(st *s, sx flag);
void st_patch(st *s, int at);

/* stream_window.c */
gten *st_find_gt(st *s, int t);
/* Sets up group gi: the model's choices, every tensor's window, the
 * buffer allocation, the group-lifetime registers. */
int st_setup_group(st *s, int gi);

/* stream_dma.c */
/* A MODE instruction unless the array is known to be in that mode. */
void st_ensure_mode(st *s, int mode);
/* Box of descriptor rank n into consecutive registers, then the
 * instruction. */
void st_emit_box_op(st *s, int op, int desc, int n, const sx *ext, int naddr, const sx *addr);
/* Before a statement touches tensor t: the window's loads, the first time
 * in its scope. */
void st_ensure_loaded(st *s, int t);
int st_open_scope(st *s, int f);
void st_close_scope(st *s, int from);

/* stream_kernel.c */
/* A user statement with the box loops given (outermost first). */
void st_stmt_user(st *s, __isl_keep isl_ast_node *user, int n, isl_ast_node **loops);

/* stream_walk.c */
void st_walk(st *s, __isl_keep isl_ast_node *node);
void st_emit_group(st *s, int gi);

#endif
