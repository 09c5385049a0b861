/* retile.c - a plan made for the accelerator adapted to a CPU (compile
 * --retile cpu; see retile.h). */
#include "retile.h"

#include <stdio.h>
#include <stdlib.h>

#include "analysis/fusion.h"
#include "lower.h"

/* Bytes of the tensors that only members of a group write and read. */
static int64_t internal_bytes(const deps_graph *g, const char *members)
{
	const ein_cascade *c = g->c;
	int64_t bytes = 0;
	for (int t = 0; t < c->ntensors; t++) {
		const ein_tensor *tt = &c->tensors[t];
		int in = tt->role == EIN_ROLE_TEMP && tt->nwriters > 0;
		for (int i = 0; i < tt->nwriters && in; i++)
			in = members[tt->writers[i]];
		for (int i = 0; i < tt->nreaders && in; i++)
			in = members[tt->readers[i]];
		if (in)
			bytes += 4 * tt->nelems;
	}
	return bytes;
}

/* A group that runs as one tile and keeps at most 1 MiB between its
 * members (decoding one token) gains nothing on a CPU from fusion: every
 * intermediate is whole in its buffer either way and fits the caches.  Its
 * members become groups of their own, so that a matrix-vector product
 * among them is a lone call that the threads share, or that runs beside
 * the small groups after it (team_end). */
static int split_one_tile_groups(const deps_graph *g, cg_plan *p)
{
	const ein_cascade *c = g->c;
	int n = c->neinsums, total = 0;
	char *split = calloc((size_t)(p->ngroups > 0 ? p->ngroups : 1), 1);
	if (!split)
		return -1;
	for (int gi = 0; gi < p->ngroups; gi++) {
		const cg_group *gr = &p->groups[gi];
		int members = 0, one = 1;
		for (int e = 0; e < n; e++)
			members += gr->members[e] != 0;
		for (int j = 0; j < gr->nband && one; j++)
			one = gr->tile[j] >= cg_members_extent(g, gr->members, gr->band[j]);
		split[gi] = members > 1 && one && internal_bytes(g, gr->members) <= (1 << 20);
		total += split[gi] ? members : 1;
	}
	/* The new list is built first: on failure the plan is unchanged.
	 * A group kept whole is moved (its members array is shared until
	 * then); fresh[i]: entry i has a members array of its own. */
	cg_group *v = calloc((size_t)(total > 0 ? total : 1), sizeof(*v));
	char *fresh = calloc((size_t)(total > 0 ? total : 1), 1);
	int w = 0, rc = -1;
	if (!v || !fresh)
		goto done;
	for (int gi = 0; gi < p->ngroups; gi++) {
		if (!split[gi]) {
			v[w++] = p->groups[gi];
			continue;
		}
		for (int e = 0; e < n; e++) {
			if (!p->groups[gi].members[e])
				continue;
			v[w].members = calloc((size_t)n, 1);
			if (!v[w].members)
				goto done;
			fresh[w] = 1;
			v[w++].members[e] = 1;
		}
	}
	for (int gi = 0; gi < p->ngroups; gi++)
		if (split[gi])
			free(p->groups[gi].members);
	free(p->groups);
	p->groups = v;
	p->ngroups = w;
	v = NULL;
	rc = cg_plan_order(g, p);
done:
	for (int i = 0; v && i < w; i++)
		if (fresh[i])
			free(v[i].members);
	free(v);
	free(fresh);
	free(split);
	return rc;
}

/* The accelerator's plans tile for a 256x256 array and a 16 MiB buffer:
 * GEMMs cut into blocks whose K is a fraction of the reduction, and the
 * SSM group into tiles of 16 or 32 tokens, which on a CPU make small BLAS
 * calls.  Keeping each group's members and order, a group that is one
 * GEMM-shaped Einsum becomes one call (split across the threads by
 * ml_sgemm), a fused rank that a GEMM member reduces over gets its whole
 * extent, a batch rank of every product of the group keeps its tile, and
 * every other fused rank with a tile below 128 gets 128 (or its extent),
 * each when fusion_check accepts the group at the new tiles. */
int cg_plan_retile_cpu(const deps_graph *g, cg_plan *p, char *err, size_t errlen)
{
	const ein_cascade *c = g->c;
	int rc = -1;
	/* Each member's product shape, matched once per group. */
	cg_gemm *gm = calloc((size_t)(c->neinsums > 0 ? c->neinsums : 1), sizeof(*gm));
	if (!gm) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int gi = 0; gi < p->ngroups; gi++) {
		cg_group *gr = &p->groups[gi];
		int n = 0, last = -1, products = 0;
		for (int e = 0; e < c->neinsums; e++) {
			gm[e] = gr->members[e] ? cg_gemm_match(c, &c->einsums[e], 1) : (cg_gemm){0};
			products += gm[e].ok;
			if (gr->members[e]) {
				n++;
				last = e;
			}
		}
		if (n == 1 && gm[last].ok) {
			gr->nband = 0;
			continue;
		}
		for (int j = 0; j < gr->nband; j++) {
			int64_t ext = cg_members_extent(g, gr->members, gr->band[j]);
			int64_t want = ext < 128 ? ext : 128;
			/* A GEMM's reduction rank is not cut at all: BLAS blocks
			 * K itself, and a thin K makes a matrix-vector product
			 * (decoding one token) too short to share between
			 * threads.  A rank that is a batch rank (heads) of every
			 * product of the group keeps its tile: the calls loop
			 * over it anyway, so a larger tile makes none of them
			 * larger and only multiplies the intermediates kept
			 * between them (a transformer's scores: one head's
			 * S x S, not all twelve). */
			int batch = 0;
			for (int e = 0; e < c->neinsums; e++) {
				int v = gm[e].ok ? g->var_of[e][gr->band[j]] : -1;
				for (int i = 0; v >= 0 && i < gm[e].nb; i++)
					batch += gm[e].b[i] == v;
				if (v >= 0 && c->einsums[e].vars[v].reduced)
					want = ext;
			}
			if (gr->tile[j] >= want || (products > 0 && batch == products))
				continue;
			fusion_req req = {0};
			fusion_result res = {0};
			req.members = gr->members;
			req.nband = gr->nband;
			for (int q = 0; q < gr->nband; q++) {
				req.band[q] = gr->band[q];
				req.tile[q] = q == j ? want : gr->tile[q];
			}
			req.verdict_only = 1;
			int frc = fusion_check(g, &req, 0, &res, err, errlen);
			int legal = frc == 0 && res.legal;
			fusion_result_clear(&res);
			if (frc == -1)
				goto done;
			if (legal)
				gr->tile[j] = want;
		}
	}
	if (split_one_tile_groups(g, p) < 0) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	rc = 0;
done:
	free(gm);
	return rc;
}
