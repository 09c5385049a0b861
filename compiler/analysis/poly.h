/* poly.h - the polyhedral model of a cascade, built with isl.
 *
 * Every Einsum e is an isl statement named "S<e>" whose set dimensions are
 * its rank variables (named as in the source); every tensor is a space named
 * after the tensor.  Sets and maps are parametric in the cascade's
 * parameters; poly_context() fixes them to their values.
 *
 * Ownership follows isl: __isl_give results belong to the caller.
 */
#ifndef MAMBALAYA_POLY_H
#define MAMBALAYA_POLY_H

#include <isl/ctx.h>
#include <isl/map.h>
#include <isl/set.h>
#include <isl/space.h>
#include <isl/union_map.h>
#include <isl/union_set.h>

#include "front/cascade.h"

/* A new isl context that reports errors through return values
 * (ISL_ON_ERROR_CONTINUE) instead of printing them.  Free with
 * isl_ctx_free. */
isl_ctx *poly_ctx_new(void);

/* The parameter space of the cascade. */
__isl_give isl_space *poly_param_space(isl_ctx *ctx, const ein_cascade *c);
/* { [params] : every parameter equals its value } */
__isl_give isl_set *poly_context(isl_ctx *ctx, const ein_cascade *c);
/* { [params] : every parameter >= 0 } */
__isl_give isl_set *poly_param_domain(isl_ctx *ctx, const ein_cascade *c);

/* The iteration domain of Einsum e: ranges of its variables and filters.
 * fixed: intersected with poly_context. */
__isl_give isl_set *poly_domain(isl_ctx *ctx, const ein_cascade *c, int e,
				int fixed);
/* The access relation S<e>[vars] -> T[indices] of one access of Einsum e
 * (its output or one of its reads). */
__isl_give isl_map *poly_access(isl_ctx *ctx, const ein_cascade *c, int e,
				const ein_access *a);
/* { T[x] : 0 <= x_k < extent_k } (parametric). */
__isl_give isl_set *poly_tensor_box(isl_ctx *ctx, const ein_cascade *c, int t);
/* The statement space S<e>[vars] (a set space with parameters). */
__isl_give isl_space *poly_stmt_space(isl_ctx *ctx, const ein_cascade *c,
				      int e);

/* Coordinates of some point of set (nvals entries, in set dimension order);
 * returns 0, or -1 if the set is empty or on error.  Takes the set. */
int poly_sample(__isl_take isl_set *set, int64_t *vals, int nvals);

/* Number of points of a bounded set (parameters fixed).  Exact for unions
 * of boxes and for small sets; otherwise *exact is set to 0 and *n is an
 * upper bound (the sum of bounding boxes).  Takes the set.  Returns 0 or -1
 * on an isl error. */
int poly_count(__isl_take isl_set *set, int64_t *n, int *exact);

/* The last isl error message of ctx, or "unknown isl error". */
const char *poly_error(isl_ctx *ctx);

#endif
