/* check_impl.h - the checker's state, shared by the check_*.c files
 * (private to compiler/front; see check.h for the pass order).
 *
 *   check.c         the entry points, limits, whole-cascade rules
 *   check_params.c  parameters            check_decls.c   declarations
 *   check_einsum.c  one Einsum whole      check_expr.c    its parts
 *   check_affine.c  affine forms          check_isl.c     exact isl checks
 *   check_util.c    messages and suggestions
 *
 * Ownership: the state is a local of its public entry point, which frees
 * what it allocated before it returns.
 */
#ifndef MAMBALAYA_CHECK_IMPL_H
#define MAMBALAYA_CHECK_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <isl/set.h>

#include "check.h"

#define MAX_ELEMS_LOG2 62

typedef struct chk {
	diag_ctx *diag;
	ein_cascade *c;
	const ast_program *prog;
	const check_opts *opts;
	int oom;
	int tcap;
	/* Per tensor: declared at this statement (NULL if implicit). */
	const ast_stmt **decl;
	/* Per tensor: its declaration or first write was rejected; uses of it
	 * are not reported again. */
	char *broken;
	/* Per Einsum: has this Einsum's checking failed? */
	char *bad;
	/* Per Einsum: its statement. */
	const ast_stmt **est;
	/* The Einsum being checked. */
	ein_einsum *es;
	const ast_stmt *st;
	/* The Einsum being checked has more rank variables than allowed: the
	 * names left out are not reported as unknown. */
	int too_many_vars;
	/* check_defined, per tensor: the elements written by its first
	 * avail_n[t] writers (NULL: none yet), grown as Einsums are checked in
	 * order, so that every read does not rebuild the union. */
	isl_set **avail;
	int *avail_n;
} chk;

typedef enum aff_mode { AFF_SHAPE, AFF_INDEX, AFF_COND } aff_mode;

/* check_util.c */
char *chk_xstrdup(chk *k, const char *s);
/* The source text of loc (single line; longer ranges are cut at the end of
 * the first line), into buf. */
const char *chk_src_text(const chk *k, ein_loc loc, char *buf, size_t len);
/* The closest known name to `name` among parameters, tensors and functions
 * (what: bit 1 params, 2 tensors, 4 functions), or NULL. */
const char *chk_suggest(const chk *k, const char *name, int what);
void chk_hint_suggest(chk *k, const char *name, int what);
/* Reports an integer literal too large for 64 bits (the parser keeps it as a
 * float number, see ast_num; only the source text tells it apart from one
 * written as a float).  Returns 1 if it reported. */
int chk_report_big_int(chk *k, const ast_node *n);
int chk_find_fn(const char *name);
/* Reports name (a tensor's or a parameter's, at loc) when generated C
 * cannot use it (reserved.h).  Returns 1 if it reported. */
int chk_reserved(chk *k, const char *name, ein_loc loc, const char *what);
const char *chk_ordinal(int n, char *buf, size_t len);

/* check_affine.c */
int chk_aff_has_vars(const ein_aff *a);
int chk_aff_is_const(const ein_aff *a);
/* The variable v if a is exactly v, else -1. */
int chk_aff_plain_var(const ein_aff *a);
/* The parameter p if a is exactly p, else -1. */
int chk_aff_plain_param(const ein_aff *a);
void chk_aff_add(ein_aff *r, const ein_aff *a, int64_t s);
void chk_aff_scale(ein_aff *r, int64_t s);
int chk_find_var(const ein_einsum *es, const char *name);
/* Converts n to an affine form over the parameters and (except for shapes)
 * the current Einsum's variables.  Returns 0, or -1 after an error. */
int chk_to_aff(chk *k, const ast_node *n, aff_mode mode, ein_aff *out);

/* check_params.c */
void chk_params(chk *k);

/* check_decls.c */
int chk_add_tensor(chk *k, const char *name, ein_loc loc);
void chk_decls(chk *k);

/* check_expr.c */
/* Adds the rank variables found in index expression n (identifiers that are
 * not parameters) to the current Einsum. */
void chk_collect_vars(chk *k, const ast_node *n);
/* Collects rank variables from every access index of a value expression. */
void chk_collect_rhs_vars(chk *k, const ast_node *n);
void chk_spec(chk *k);
/* Resolves an access T_{...}: the tensor and its indices.  Returns 0 or -1. */
int chk_resolve_access(chk *k, const ast_node *n, int is_lhs,
		       ein_access *out);
/* Builds the IR expression of a right-hand side; NULL after an error. */
ein_expr *chk_build_expr(chk *k, const ast_node *n);
/* Converts a comparison chain into conditions (aff >= 0 or == 0). */
int chk_cond_to_ir(chk *k, const ast_cond *cd, ein_cond **conds, int *n);

/* check_einsum.c */
void chk_einsums(chk *k);

/* check_isl.c */
void chk_isl(chk *k);

#endif
