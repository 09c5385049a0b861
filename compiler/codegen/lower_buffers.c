/* lower_buffers.c - where each tensor lives: the caller's array, a full
 * array, or a tile buffer private to a group (see lower_impl.h). */
#include "lower_impl.h"

#include <stdlib.h>

#include <isl/ilp.h>
#include <isl/set.h>
#include <isl/val.h>

#include "analysis/poly.h"

static int64_t next_pow2(int64_t x)
{
	int64_t p = 1;
	while (p < x)
		p <<= 1;
	return p;
}

int cgl_product_tensor(const cg *k, int gi, int t)
{
	const ein_cascade *c = k->c;
	for (int e = 0; e < c->neinsums && k->o->blas; e++) {
		if (gi >= 0 && !k->p->groups[gi].members[e])
			continue;
		const ein_einsum *es = &c->einsums[e];
		cg_gemm m = cg_gemm_match(c, es, k->o->masked_gemm);
		if (m.ok && (es->out.tensor == t || es->reads[m.x].tensor == t ||
			     es->reads[m.y].tensor == t))
			return 1;
	}
	return 0;
}

fusion_req cgl_group_req(const cg *k, int gi)
{
	const cg_group *gr = &k->p->groups[gi];
	fusion_req req = {0};
	req.members = gr->members;
	req.nband = gr->nband;
	for (int j = 0; j < gr->nband; j++) {
		req.band[j] = gr->band[j];
		req.tile[j] = gr->tile[j];
	}
	return req;
}

/* Is tensor t carried (a dependence between members crosses tiles) along
 * band member j of group gi? */
int cgl_carried_along(const cg *k, int gi, int t, int j)
{
	const cg_group *gr = &k->p->groups[gi];
	const deps_graph *g = k->g;
	for (int pass = 0; pass < 2; pass++) {
		int n = pass ? g->nself : g->nedges;
		const deps_edge *arr = pass ? g->self : g->edges;
		for (int i = 0; i < n; i++) {
			const deps_edge *ed = &arr[i];
			if (ed->tensor != t || !gr->members[ed->producer] ||
			    !gr->members[ed->consumer])
				continue;
			for (int d = 0; d < ed->ndist; d++)
				if (ed->dist[d].rank == gr->band[j] &&
				    (ed->dist[d].lo != 0 || ed->dist[d].hi != 0))
					return 1;
		}
	}
	return 0;
}

/* The band member (innermost) whose rank appears in dimension d of any
 * access to t inside group gi, or -1. */
static int dim_band_member(const cg *k, int gi, int t, int d)
{
	const cg_group *gr = &k->p->groups[gi];
	const ein_cascade *c = k->c;
	int best = -1;
	for (int e = 0; e < c->neinsums; e++) {
		if (!gr->members[e])
			continue;
		const ein_einsum *es = &c->einsums[e];
		for (int r = -1; r < es->nreads; r++) {
			const ein_access *a = r < 0 ? &es->out : &es->reads[r];
			if (a->tensor != t)
				continue;
			for (int v = 0; v < es->nvars; v++) {
				if (!a->idx[d].vc[v])
					continue;
				for (int j = 0; j < gr->nband; j++)
					if (k->g->var_of[e][gr->band[j]] == v && j > best)
						best = j;
			}
		}
	}
	return best;
}

/* Extent of each dimension of t touched by one (steady-state) tile. */
static int tile_extents(cg *k, int gi, int t, int64_t *ext)
{
	const ein_cascade *c = k->c;
	const cg_group *gr = &k->p->groups[gi];
	fusion_req req = cgl_group_req(k, gi);
	int64_t tile[CG_MAX_BAND];
	for (int j = 0; j < gr->nband; j++) {
		int64_t e_max = 0;
		for (int e = 0; e < c->neinsums; e++)
			if (gr->members[e]) {
				int v = k->g->var_of[e][gr->band[j]];
				if (c->einsums[e].vars[v].size > e_max)
					e_max = c->einsums[e].vars[v].size;
			}
		/* The middle tile (halos full), not a partial last one. */
		int64_t nt = (e_max + gr->tile[j] - 1) / gr->tile[j], full = e_max / gr->tile[j];
		tile[j] = nt / 2;
		if (full >= 1 && tile[j] > full - 1)
			tile[j] = full - 1;
	}
	isl_set *touched = NULL;
	for (int e = 0; e < c->neinsums; e++) {
		if (!gr->members[e])
			continue;
		const ein_einsum *es = &c->einsums[e];
		for (int r = -1; r < es->nreads; r++) {
			const ein_access *a = r < 0 ? &es->out : &es->reads[r];
			if (a->tensor != t)
				continue;
			isl_set *img = isl_set_apply(fusion_tile_domain(k->g, &req, e, tile, 0),
						     poly_access(k->ctx, c, e, a));
			touched = touched ? isl_set_union(touched, img) : img;
		}
	}
	if (!touched)
		return -1;
	for (int d = 0; d < c->tensors[t].ndims; d++) {
		isl_val *lo = isl_set_dim_min_val(isl_set_copy(touched), d);
		isl_val *hi = isl_set_dim_max_val(isl_set_copy(touched), d);
		if (!lo || !hi || !isl_val_is_int(lo) || !isl_val_is_int(hi)) {
			/* An empty steady tile (tiny sizes): use the whole dim. */
			ext[d] = c->tensors[t].dims[d].size;
		} else {
			ext[d] = isl_val_get_num_si(hi) - isl_val_get_num_si(lo) + 1;
		}
		isl_val_free(lo);
		isl_val_free(hi);
	}
	isl_set_free(touched);
	return 0;
}

int cgl_plan_buffers(cg *k)
{
	const ein_cascade *c = k->c;
	k->buf = calloc((size_t)(c->ntensors ? c->ntensors : 1), sizeof(*k->buf));
	if (!k->buf)
		return -1;
	for (int t = 0; t < c->ntensors; t++) {
		const ein_tensor *tt = &c->tensors[t];
		cg_buffer *b = &k->buf[t];
		b->ndims = tt->ndims;
		b->group = -1;
		b->size = tt->nelems;
		for (int d = 0; d < tt->ndims; d++)
			b->ext[d] = tt->dims[d].size;
		if (tt->role != EIN_ROLE_TEMP) {
			b->kind = CG_BUF_USER;
			continue;
		}
		b->kind = CG_BUF_FULL;
		/* Internal: every writer and reader in one group with a band. */
		int gi = -1, internal = tt->nwriters > 0 && tt->nreaders > 0;
		for (int i = 0; i < tt->nwriters && internal; i++) {
			int gw = k->group_of[tt->writers[i]];
			if (gi < 0)
				gi = gw;
			internal = gw == gi;
		}
		for (int i = 0; i < tt->nreaders && internal; i++)
			internal = k->group_of[tt->readers[i]] == gi;
		if (!internal || k->p->groups[gi].nband == 0)
			continue;
		int64_t ext[EIN_MAX_DIMS];
		if (tile_extents(k, gi, t, ext) < 0)
			return -1;
		const cg_group *gr = &k->p->groups[gi];
		b->kind = CG_BUF_TILE;
		b->group = gi;
		b->size = 1;
		for (int d = 0; d < tt->ndims; d++) {
			int j = dim_band_member(k, gi, t, d);
			int full = j < 0;
			for (int j0 = 0; j0 < j && !full; j0++)
				if (cgl_carried_along(k, gi, t, j0))
					full = 1;
			int64_t e = next_pow2(ext[d]);
			/* A tile that does not divide its modular extent wraps
			 * around the buffer: a product's operand would be cut
			 * into one call per element (collapsible in
			 * lower_gemm.c; Mamba-1's `Z G LO` at d = 768: 52 ms
			 * against 4.4), so it keeps the whole dimension. */
			if (!full && j >= 0 && e % gr->tile[j] != 0 && cgl_product_tensor(k, gi, t))
				full = 1;
			if (full || e >= tt->dims[d].size) {
				b->ext[d] = tt->dims[d].size;
				b->mod[d] = 0;
			} else {
				b->ext[d] = e;
				b->mod[d] = 1;
			}
			b->size *= b->ext[d];
		}
	}
	return 0;
}
