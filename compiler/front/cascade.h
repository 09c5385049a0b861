/* cascade.h - the checked cascade IR.
 *
 * The checker (check.h) turns a parsed source into an ein_cascade; every
 * later pass (evaluator, polyhedral model, fusion analysis, mapper, back
 * ends) reads only this structure.  Names are resolved to indices, every
 * index expression is an affine form, every size has a concrete value (after
 * -D overrides) as well as its parametric form.
 *
 * Semantics of one Einsum (docs/language.md is the user-facing statement):
 *   - Its iteration space is the set of integer points of its rank variables
 *     vars[0..nvars) with 0 <= v < extent(v) for each variable, that satisfy
 *     every filter (conds).  vars[] lists the output variables first (in the
 *     order they first appear on the left-hand side), then the reduced ones.
 *   - At every point the right-hand side is computed ("map").  Points that
 *     write the same output element (they differ only in reduced variables)
 *     are combined with reduce_op ("reduce"); an element no point writes is
 *     left as it was.
 *   - A generational variable (gen_var >= 0) is traversed in increasing order
 *     and the Einsum may read its own output at earlier generations.
 *   - Einsums run in source order, each to completion.
 *
 * Ownership: an ein_cascade owns everything it points to; free it with
 * ein_cascade_free().
 */
#ifndef MAMBALAYA_CASCADE_H
#define MAMBALAYA_CASCADE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EIN_MAX_PARAMS 64 /* parameters in one source */
#define EIN_MAX_VARS 16   /* rank variables in one Einsum */
#define EIN_MAX_DIMS 8    /* dimensions of one tensor */

/* A source range: 1-based line and column of the first and last character. */
typedef struct ein_loc {
	int line, col;
	int end_line, end_col;
} ein_loc;

/* Affine form  c + sum pc[p] * param[p] + sum vc[v] * var[v].
 * vc is meaningful only inside an Einsum (variables are per Einsum). */
typedef struct ein_aff {
	int64_t c;
	int64_t pc[EIN_MAX_PARAMS];
	int64_t vc[EIN_MAX_VARS];
} ein_aff;

typedef enum ein_role {
	EIN_ROLE_INPUT,  /* read from the user's data */
	EIN_ROLE_WEIGHT, /* read from the user's data; constant across calls */
	EIN_ROLE_OUTPUT, /* written to the user's data (may also be read) */
	EIN_ROLE_TEMP    /* intermediate: declared with `tensor` or implicit */
} ein_role;

typedef enum ein_type {
	EIN_TY_F32,
	EIN_TY_F16,
	EIN_TY_BF16,
	EIN_TY_F64
} ein_type;

typedef struct ein_param {
	char *name;
	int64_t value;   /* after -D overrides and evaluation of defaults */
	bool overridden; /* set by -D */
	ein_loc loc;
} ein_param;

typedef struct ein_dim {
	char *rank;     /* rank name, e.g. "ED"; never NULL */
	ein_aff extent; /* parametric extent (only pc and c are used) */
	int64_t size;   /* its value */
} ein_dim;

typedef struct ein_tensor {
	char *name;
	ein_role role;
	ein_type type;
	bool declared; /* false: shape inferred from the Einsums that write it */
	int ndims;
	ein_dim dims[EIN_MAX_DIMS];
	int64_t nelems;
	ein_loc loc; /* declaration, or first write if implicit */
	/* `~ uniform(draw_lo, draw_hi)`: what --random draws (inputs and
	 * weights); otherwise [-1, 1). */
	bool has_draw;
	double draw_lo, draw_hi;
	int nwriters; /* Einsums writing it, in source order */
	int *writers;
	int nreaders; /* Einsums reading it (each once), in source order */
	int *readers;
} ein_tensor;

/* One tensor reference T_{idx0, idx1, ...}. */
typedef struct ein_access {
	int tensor;
	int nidx; /* == tensors[tensor].ndims */
	ein_aff idx[EIN_MAX_DIMS];
	ein_loc loc;
} ein_access;

typedef enum ein_xkind {
	EIN_X_NUM,    /* literal: num */
	EIN_X_PARAM,  /* parameter value: id */
	EIN_X_VAR,    /* rank variable value: id */
	EIN_X_ACCESS, /* tensor element: id indexes einsum->reads */
	EIN_X_UNARY,  /* op is an ein_fn applied to a */
	EIN_X_BINARY  /* op is an ein_binop applied to a, b */
} ein_xkind;

typedef enum ein_binop {
	EIN_OP_ADD,
	EIN_OP_SUB,
	EIN_OP_MUL,
	EIN_OP_DIV,
	EIN_OP_MAX,
	EIN_OP_MIN
} ein_binop;

/* Unary functions.  Definitions (x real):
 *   exp, log (natural), sqrt, rsqrt = 1/sqrt(x), sigmoid = 1/(1+exp(-x)),
 *   silu = x*sigmoid(x), softplus = log(1+exp(x)), tanh, relu = max(x,0),
 *   abs, neg = -x, recip = 1/x, square = x*x. */
typedef enum ein_fn {
	EIN_FN_EXP,
	EIN_FN_LOG,
	EIN_FN_SQRT,
	EIN_FN_RSQRT,
	EIN_FN_SIGMOID,
	EIN_FN_SILU,
	EIN_FN_SOFTPLUS,
	EIN_FN_TANH,
	EIN_FN_RELU,
	EIN_FN_ABS,
	EIN_FN_NEG,
	EIN_FN_RECIP,
	EIN_FN_SQUARE,
	EIN_FN_COUNT
} ein_fn;

typedef enum ein_merge {
	EIN_MERGE_DEFAULT, /* not written: intersect for * and /, union otherwise */
	EIN_MERGE_INTERSECT,
	EIN_MERGE_UNION
} ein_merge;

typedef struct ein_expr {
	ein_xkind kind;
	ein_loc loc;
	double num;
	int id; /* parameter, variable or read index */
	int op; /* ein_fn or ein_binop */
	struct ein_expr *a, *b;
} ein_expr;

typedef struct ein_var {
	char *name;
	ein_aff extent; /* parametric (pc and c only) */
	int64_t size;   /* its value: the variable ranges over [0, size) */
	bool reduced;   /* absent from the left-hand side */
	bool generational;
	ein_loc loc; /* first occurrence */
} ein_var;

/* Affine condition  aff >= 0  (ge) or  aff == 0  (eq), over the Einsum's
 * variables and the parameters. */
typedef struct ein_cond {
	ein_aff aff;
	bool eq;
	ein_loc loc;
} ein_cond;

typedef struct ein_einsum {
	int index;
	char *name; /* the label, or the output tensor's name; unique */
	ein_loc loc;
	ein_access out;
	ein_expr *rhs;
	int nreads;
	ein_access *reads;
	int nvars;
	ein_var vars[EIN_MAX_VARS];
	int nconds;
	ein_cond *conds; /* filters; a `!=` filter is not allowed */
	int gen_var;     /* index into vars, or -1 */
	ein_binop reduce_op; /* ADD, MAX or MIN; meaningful when a var is reduced */
	ein_merge reduce_merge;
	ein_binop map_op; /* combines juxtaposed operands (default MUL) */
	ein_merge map_merge;
	bool has_spec; /* a `::` spec was written */
} ein_einsum;

typedef struct ein_cascade {
	char *file;
	int nparams;
	ein_param params[EIN_MAX_PARAMS];
	int ntensors;
	ein_tensor *tensors;
	int neinsums;
	ein_einsum *einsums;
} ein_cascade;

/* Frees an expression tree (an Einsum's rhs).  NULL is allowed. */
void ein_expr_free(ein_expr *e);

/* Frees the cascade and everything it owns.  NULL is allowed. */
void ein_cascade_free(ein_cascade *c);

/* Value of an affine form for the given variable values (NULL when the form
 * has no variables), using the cascade's parameter values. */
int64_t ein_aff_eval(const ein_cascade *c, const ein_aff *a,
		     const int64_t *vars);

/* Prints an affine form in source syntax ("I+W-1") into buf; es names the
 * variables (NULL when the form has none). */
void ein_aff_str(const ein_cascade *c, const ein_aff *a, const ein_einsum *es,
		 char *buf, size_t len);

/* Fills every tensor's writers and readers (empty before) from the
 * Einsums, in source order, skipping Einsum e when skip (may be NULL) has
 * skip[e] set; a reader is listed once however many times it reads.
 * Returns 0, or -1 when memory runs out. */
int ein_cascade_link(ein_cascade *c, const char *skip);

/* Name lookups: the index, or -1. */
int ein_cascade_find_tensor(const ein_cascade *c, const char *name);
int ein_cascade_find_einsum(const ein_cascade *c, const char *name);
int ein_cascade_find_param(const ein_cascade *c, const char *name);

const char *ein_role_name(ein_role r);
const char *ein_type_name(ein_type t);
const char *ein_fn_name(ein_fn f);
const char *ein_binop_name(ein_binop op); /* "+", "-", "*", "/", "max", "min" */
int ein_type_bytes(ein_type t);

/* Does the Einsum reduce (has a variable absent from the left-hand
 * side)?  Its output variables come first: vars[0..ein_einsum_nout). */
int ein_einsum_reduces(const ein_einsum *es);
int ein_einsum_nout(const ein_einsum *es);
/* Does the Einsum read tensor t?  Read or write it? */
int ein_einsum_reads(const ein_einsum *es, int t);
int ein_einsum_touches(const ein_einsum *es, int t);

/* Is x a product of tensor reads and constants?  Returns 0 with the reads
 * (indices into the Einsum's reads; the first two stored in acc, all
 * counted in *nacc) and *alpha multiplied by the constants, or -1.
 * alpha may be NULL (c is then not used). */
int ein_expr_product(const ein_cascade *c, const ein_expr *x, int *acc, int *nacc,
		     double *alpha);

/* Applies a unary function or a binary operator, in double. */
double ein_apply_fn(ein_fn f, double x);
double ein_apply_binop(ein_binop op, double x, double y);
/* Identity of a reduction operator: 0, -inf or +inf. */
double ein_reduce_identity(ein_binop op);
/* The variables (bit v) an access indexes with, and an expression
 * depends on. */
uint32_t ein_access_vars(const ein_access *a);
uint32_t ein_expr_vars(const ein_einsum *es, const ein_expr *x);
/* Is every index of a one variable with coefficient 1 and nothing added
 * (A[i, k], not A[i + w, k] or A[2 * i])?  Only such accesses are the
 * strided matrices a BLAS call takes. */
int ein_access_plain(const ein_access *a);
/* The variable of Einsum es that index form x is, alone, with
 * coefficient 1 (no parameter, no constant), or -1. */
int ein_aff_pure_var(const ein_cascade *c, const ein_einsum *es, const ein_aff *x);
/* The first dimension of access a indexed by variable v with coefficient
 * 1, or -1: in a plain access, the one dimension v indexes. */
int ein_access_dim(const ein_access *a, int v);

#endif
