/* lower.c - lowering a plan to the loop IR (see lower.h): validation,
 * then buffers, products, strips, schedules and contraction
 * (lower_*.c). */
#include "lower_impl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/poly.h"

int cg_valid_name(const char *name)
{
	if (!name || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
		return 0;
	for (const char *q = name; *q; q++)
		if (!isalnum((unsigned char)*q) && *q != '_')
			return 0;
	return strlen(name) < 64;
}

/* Every group legal, and the order respecting the dependences: every edge
 * goes from an earlier group (or inside one). */
static int validate(cg *k)
{
	const ein_cascade *c = k->c;
	for (int e = 0; e < c->neinsums; e++)
		k->group_of[e] = -1;
	for (int gi = 0; gi < k->p->ngroups; gi++)
		for (int e = 0; e < c->neinsums; e++)
			if (k->p->groups[gi].members[e]) {
				if (k->group_of[e] >= 0) {
					snprintf(k->err, k->errlen,
						 "'%s' is in two groups", c->einsums[e].name);
					return -2;
				}
				k->group_of[e] = gi;
			}
	for (int e = 0; e < c->neinsums; e++)
		if (k->group_of[e] < 0) {
			snprintf(k->err, k->errlen, "'%s' is in no group", c->einsums[e].name);
			return -2;
		}
	for (int i = 0; i < k->g->nedges; i++) {
		const deps_edge *ed = &k->g->edges[i];
		if (k->group_of[ed->producer] > k->group_of[ed->consumer]) {
			snprintf(k->err, k->errlen,
				 "group order: '%s' (group %d) needs '%s' (group %d), "
				 "which runs later",
				 c->einsums[ed->consumer].name, k->group_of[ed->consumer] + 1,
				 c->einsums[ed->producer].name, k->group_of[ed->producer] + 1);
			return -2;
		}
	}
	for (int gi = 0; gi < k->p->ngroups; gi++) {
		fusion_req req = cgl_group_req(k, gi);
		fusion_result res;
		int r = fusion_check(k->g, &req, 0, &res, k->err, k->errlen);
		if (r == -2)
			return -2;
		if (r < 0)
			return -1;
		int legal = res.legal;
		fusion_result_clear(&res);
		if (!legal) {
			snprintf(k->err, k->errlen,
				 "group %d is not legal at its tile sizes (see `mambalaya fuse`)",
				 gi + 1);
			return -2;
		}
	}
	return 0;
}

void cg_lowered_free(cg_lowered *l)
{
	if (!l)
		return;
	if (l->groups)
		for (int gi = 0; gi < l->p->ngroups; gi++)
			isl_ast_node_free(l->groups[gi].ast);
	free(l->groups);
	free(l->gemm);
	free(l->buf);
	free(l->group_of);
	free(l);
}

/* The steps after validation (lower_impl.h); k's arrays belong to l. */
static int lower_steps(cg *k, cg_lowered *l)
{
	const cg_plan *p = k->p;
	int rc = cgl_plan_buffers(k);
	l->buf = k->buf;
	if (rc < 0) {
		snprintf(k->err, k->errlen, "isl: %s", poly_error(k->ctx));
		return -1;
	}
	for (int gi = 0; gi < p->ngroups; gi++)
		cgl_plan_gemms(k, gi);
	/* Contraction needs the strips and parallel loops lowering chose. */
	for (int gi = 0; gi < p->ngroups; gi++)
		if (cgl_lower_group(k, &l->groups[gi], gi) < 0)
			return -1;
	if (cgl_contract_buffers(k) < 0) {
		snprintf(k->err, k->errlen, "isl (array contraction): %s", poly_error(k->ctx));
		return -1;
	}
	for (int gi = 0; gi < p->ngroups; gi++)
		l->groups[gi].points = cgl_group_points(k, gi);
	for (int e = 0; e < k->c->neinsums; e++)
		if (k->gemm[e].ok)
			cgl_gemm_layout(k, e);
	return 0;
}

int cg_lower(const deps_graph *g, const cg_plan *p, const cg_options *o,
	     cg_lowered **out, char *err, size_t errlen)
{
	*out = NULL;
	cg_lowered *l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	l->g = g;
	l->p = p;
	l->o = o;
	cg kk = {0}, *k = &kk;
	k->g = g;
	k->c = g->c;
	k->p = p;
	k->o = o;
	k->ctx = g->ctx;
	k->err = err;
	k->errlen = errlen;
	int rc = -1;
	if (!cg_valid_name(o->name)) {
		snprintf(err, errlen, "'%s' is not a valid C identifier", o->name);
		rc = -2;
		goto done;
	}
	size_t n = (size_t)(k->c->neinsums ? k->c->neinsums : 1);
	l->group_of = k->group_of = malloc(n * sizeof(int));
	l->gemm = k->gemm = calloc(n, sizeof(*k->gemm));
	k->stmt_run = malloc(n * sizeof(*k->stmt_run));
	k->stmt_at = calloc(n, sizeof(*k->stmt_at));
	k->par_ranks = calloc(n, sizeof(*k->par_ranks));
	if (k->stmt_run)
		for (int e = 0; e < k->c->neinsums; e++)
			k->stmt_run[e][0] = k->stmt_run[e][1] = -1;
	l->groups = calloc((size_t)(p->ngroups ? p->ngroups : 1), sizeof(*l->groups));
	if (!k->group_of || !k->gemm || !l->groups || !k->stmt_run || !k->stmt_at || !k->par_ranks) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	rc = validate(k);
	if (rc < 0)
		goto done;
	rc = lower_steps(k, l);
done:
	free(k->strips);
	free(k->stmt_run);
	free(k->stmt_at);
	free(k->par_ranks);
	if (rc < 0) {
		cg_lowered_free(l);
		return rc;
	}
	*out = l;
	return 0;
}
