/* api_impl.h - what the files of the C API share (private to compiler/api;
 * see mambalaya.h).
 *
 *   api.c         cascades, JSON queries, the evaluator
 *   api_plan.c    plans for an --arch and a policy, in both forms
 *   api_kernel.c  kernels: the cache, the build, dlopen, runs
 *   api_sim.c     the accelerator's stream run by the simulator
 *   api_report.c  the HTML report
 *
 * Ownership: a cascade owns its IR and, once made, its isl context and
 * dependence graph; everything else is made and freed per call.
 */
#ifndef MAMBALAYA_API_IMPL_H
#define MAMBALAYA_API_IMPL_H

#include <stdint.h>

#include "analysis/deps.h"
#include "codegen/cgplan.h"
#include "front/cascade.h"
#include "mambalaya.h"
#include "mapping/plan.h"
#include "mapping/target.h"

struct mambalaya_cascade {
	char *name;	    /* the file, for messages */
	ein_cascade *c;
	uint64_t identity;  /* hash of the source text and the parameter values */
	isl_ctx *ctx;	    /* made by api_graph */
	deps_graph *g;
};

/* Sets *err (if err) to a new message; returns status. */
int api_fail(char **err, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The cascade's dependence graph, made once.  NULL after api_fail. */
const deps_graph *api_graph(mambalaya_cascade *c, char **err);

/* Tensor hand-over: the position of every non-temp tensor in the order of
 * the generated NAME_args (-1 for temps); and finding a given tensor. */
const mambalaya_tensor *api_find(const mambalaya_tensor *v, int n, const char *name);
/* Checks that in gives every input and weight with the right size, and
 * that out names outputs with the right sizes.  Returns a status. */
int api_check_tensors(const ein_cascade *c, const mambalaya_tensor *in, int nin,
		      const mambalaya_tensor *out, int nout, char **err);

/* api_plan.c: the mapper_policy named (NULL: full), or -1 after
 * api_fail; the target arch names (NULL: mambalaya) with buffer_bytes > 0
 * overriding its buffer, or NULL after api_fail with *status. */
int api_policy(const char *policy, char **err);
target *api_target(const char *arch, int64_t buffer_bytes, int *status, char **err);

/* api_plan.c: the mapper's plan for arch (NULL: mambalaya) and policy
 * (NULL: full), buffer_bytes > 0 overriding the buffer; *t receives the
 * target (the caller frees both).  NULL after api_fail, with *status. */
plan *api_plan(mambalaya_cascade *c, const char *arch, const char *policy,
	       int64_t buffer_bytes, target **t, int *status, char **err);
/* The plan the back ends take: api_plan's for arch (NULL: host, this
 * CPU) and policy.  *mplan (may be NULL) receives the mapper's plan.
 * Returns a status. */
int api_cg_plan(mambalaya_cascade *c, const char *arch, const char *policy, cg_plan *p,
		plan **mplan, target **t, char **err);

#endif
