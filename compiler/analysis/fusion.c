/* fusion.c - legality and footprints of a fused group (see fusion.h). */
#include "fusion.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isl/aff.h>
#include <isl/id.h>
#include <isl/local_space.h>
#include <isl/point.h>
#include <isl/set.h>
#include <isl/space.h>
#include <isl/union_set.h>
#include <isl/val.h>

#include "poly.h"

const char *fusion_role_name(fusion_role r)
{
	switch (r) {
	case FUSION_INTERNAL:
		return "internal";
	case FUSION_IN:
		return "in";
	case FUSION_OUT:
		return "out";
	}
	return "?";
}

void fusion_result_clear(fusion_result *res)
{
	free(res->fp);
	memset(res, 0, sizeof(*res));
}

/* One dependence relation to respect. */
typedef struct dep_item {
	isl_map *rel;
	int p, q, tensor;
} dep_item;

typedef struct dep_list {
	int n, cap;
	dep_item *v;
	int failed;
} dep_list;

static void dep_list_clear(dep_list *l)
{
	for (int i = 0; i < l->n; i++)
		isl_map_free(l->v[i].rel);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int dep_list_add(dep_list *l, __isl_take isl_map *m, int p, int q,
			int tensor)
{
	if (!m)
		return -1;
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 16;
		dep_item *v = realloc(l->v, (size_t)cap * sizeof(*v));
		if (!v) {
			isl_map_free(m);
			return -1;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (dep_item){m, p, q, tensor};
	return 0;
}

static int collect_deps(const deps_graph *g, const char *members, dep_list *l)
{
	for (int k = 0; k < g->nedges; k++) {
		const deps_edge *ed = &g->edges[k];
		if (members[ed->producer] && members[ed->consumer] &&
		    dep_list_add(l, isl_map_copy(ed->rel), ed->producer,
				 ed->consumer, ed->tensor) < 0)
			return -1;
	}
	for (int k = 0; k < g->nself; k++) {
		const deps_edge *ed = &g->self[k];
		if (members[ed->producer] &&
		    dep_list_add(l, isl_map_copy(ed->rel), ed->producer,
				 ed->consumer, ed->tensor) < 0)
			return -1;
	}
	for (int k = 0; k < g->nmem; k++) {
		const deps_edge *ed = &g->mem[k];
		if (members[ed->producer] && members[ed->consumer] &&
		    dep_list_add(l, isl_map_copy(ed->rel), ed->producer,
				 ed->consumer, -1) < 0)
			return -1;
	}
	return 0;
}

/* The schedule of member e: [tile_0 .. tile_{m-1}, pos, loops..., 0...]
 * over `width` output dimensions; only the first `upto` are kept when
 * upto >= 0. */
static __isl_give isl_map *member_schedule(const deps_graph *g,
					   const fusion_req *req, int e, int pos,
					   int width, int upto)
{
	const ein_cascade *c = g->c;
	const ein_einsum *es = &c->einsums[e];
	isl_ctx *ctx = g->ctx;
	isl_space *dsp = poly_stmt_space(ctx, c, e);
	int n = upto >= 0 ? upto : width;
	isl_space *tsp = isl_space_add_dims(poly_param_space(ctx, c), isl_dim_set,
					    (unsigned)n);
	isl_space *msp = isl_space_map_from_domain_and_range(isl_space_copy(dsp), tsp);
	isl_local_space *ls = isl_local_space_from_space(dsp);
	isl_aff_list *list = isl_aff_list_alloc(ctx, n);
	int order[EIN_MAX_VARS], no = 0;
	if (es->gen_var >= 0)
		order[no++] = es->gen_var;
	for (int v = 0; v < es->nvars; v++)
		if (v != es->gen_var)
			order[no++] = v;
	for (int k = 0; k < n; k++) {
		isl_aff *a;
		if (k < req->nband) {
			int v = g->var_of[e][req->band[k]];
			a = isl_aff_var_on_domain(isl_local_space_copy(ls),
						  isl_dim_set, (unsigned)v);
			a = isl_aff_scale_down_ui(a, (unsigned)req->tile[k]);
			a = isl_aff_floor(a);
		} else if (k == req->nband) {
			a = isl_aff_val_on_domain(isl_local_space_copy(ls),
						  isl_val_int_from_si(ctx, pos));
		} else if (k - req->nband - 1 < no) {
			a = isl_aff_var_on_domain(isl_local_space_copy(ls), isl_dim_set,
						  (unsigned)order[k - req->nband - 1]);
		} else {
			a = isl_aff_zero_on_domain(isl_local_space_copy(ls));
		}
		list = isl_aff_list_add(list, a);
	}
	isl_local_space_free(ls);
	return isl_map_from_multi_aff(isl_multi_aff_from_aff_list(msp, list));
}

/* Schedule dimension k only: S<e> -> [floor(x/t)]. */
static __isl_give isl_map *band_dim(const deps_graph *g, const fusion_req *req,
				    int e, int k)
{
	isl_map *full = member_schedule(g, req, e, 0, req->nband, req->nband);
	full = isl_map_project_out(full, isl_dim_out, (unsigned)(k + 1),
				   (unsigned)(req->nband - k - 1));
	return isl_map_project_out(full, isl_dim_out, 0, (unsigned)k);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* Records a witness from a non-empty relation. */
static int add_witness(const deps_graph *g, const fusion_req *req,
		       fusion_result *res, const dep_item *it,
		       __isl_take isl_map *bad, int parallel)
{
	const ein_cascade *c = g->c;
	if (res->nwitness == FUSION_MAX_WITNESS) {
		isl_map_free(bad);
		return 0;
	}
	int np = c->einsums[it->p].nvars, nq = c->einsums[it->q].nvars;
	int64_t xy[2 * EIN_MAX_VARS];
	if (poly_sample(isl_map_wrap(isl_map_lexmin(bad)), xy, np + nq) < 0)
		return -1;
	fusion_witness *w = &res->witness[res->nwitness++];
	memset(w, 0, sizeof(*w));
	w->producer = it->p;
	w->consumer = it->q;
	w->tensor = it->tensor;
	w->parallel = parallel;
	memcpy(w->x, xy, sizeof(int64_t) * (size_t)np);
	memcpy(w->y, xy + np, sizeof(int64_t) * (size_t)nq);
	w->band = -1;
	for (int k = 0; k < req->nband; k++) {
		int64_t a = floor_div(w->x[g->var_of[it->p][req->band[k]]], req->tile[k]);
		int64_t b = floor_div(w->y[g->var_of[it->q][req->band[k]]], req->tile[k]);
		if (a != b) {
			w->band = k;
			break;
		}
	}
	return 0;
}

static int empty_or_witness(const deps_graph *g, const fusion_req *req,
			    fusion_result *res, const dep_item *it,
			    __isl_take isl_map *bad, int parallel, int *found)
{
	isl_bool empty = isl_map_is_empty(bad);
	if (empty < 0) {
		isl_map_free(bad);
		return -1;
	}
	if (empty) {
		isl_map_free(bad);
		return 0;
	}
	*found = 1;
	return add_witness(g, req, res, it, bad, parallel);
}

/* Pairs of the dependence whose band prefix (members < k) is equal and whose
 * member k differs: the dependences member k carries. */
static __isl_give isl_map *carried_at(const deps_graph *g,
				      const fusion_req *req, const dep_item *it,
				      int k)
{
	isl_map *rel = isl_map_copy(it->rel);
	if (k > 0) {
		isl_map *sp = member_schedule(g, req, it->p, 0, req->nband, k);
		isl_map *sq = member_schedule(g, req, it->q, 0, req->nband, k);
		isl_map *same = isl_map_apply_range(sp, isl_map_reverse(sq));
		rel = isl_map_intersect(rel, same);
	}
	isl_map *lt = isl_map_lex_lt_map(band_dim(g, req, it->p, k),
					 band_dim(g, req, it->q, k));
	isl_map *gt = isl_map_lex_gt_map(band_dim(g, req, it->p, k),
					 band_dim(g, req, it->q, k));
	return isl_map_intersect(rel, isl_map_union(lt, gt));
}

static int check_legality(const deps_graph *g, const fusion_req *req,
			  const int *pos, int width, dep_list *deps,
			  fusion_result *res)
{
	fusion_req points = *req;
	for (int k = 0; k < req->nband; k++)
		points.tile[k] = 1;
	res->legal = 1;
	for (int i = 0; i < deps->n; i++) {
		const dep_item *it = &deps->v[i];
		int found = 0;
		/* Backwards in the whole schedule.  With every band distance
		 * non-negative (permutable) this cannot happen: dependences go
		 * forward in source order, which the sequence inside a tile and
		 * each member's own loops keep. */
		if (!req->permutable) {
			isl_map *sp = member_schedule(g, req, it->p, pos[it->p], width, -1);
			isl_map *sq = member_schedule(g, req, it->q, pos[it->q], width, -1);
			isl_map *bad = isl_map_intersect(isl_map_copy(it->rel),
							 isl_map_lex_ge_map(sp, sq));
			if (empty_or_witness(g, req, res, it, bad, 0, &found) < 0)
				return -1;
		}
		/* For every tile size: no band member may go backwards, even
		 * point by point (tiles of 1). */
		for (int k = 0; k < req->nband && req->permutable && !found; k++) {
			isl_map *b = isl_map_intersect(
				isl_map_copy(it->rel),
				isl_map_lex_gt_map(band_dim(g, &points, it->p, k),
						   band_dim(g, &points, it->q, k)));
			if (empty_or_witness(g, req, res, it, b, 0, &found) < 0)
				return -1;
		}
		if (found) {
			res->legal = 0;
			if (req->verdict_only)
				break;
		}
		/* Parallel and sequential band members. */
		for (int k = 0; k < req->nband && !(req->verdict_only && !req->want_parallel); k++) {
			isl_map *cm = carried_at(g, req, it, k);
			isl_bool empty = isl_map_is_empty(cm);
			if (empty < 0) {
				isl_map_free(cm);
				return -1;
			}
			if (!empty) {
				res->sequential |= 1u << k;
				if ((req->want_parallel >> k) & 1) {
					res->legal = 0;
					if (add_witness(g, req, res, it, cm, 1) < 0)
						return -1;
					continue;
				}
			}
			isl_map_free(cm);
		}
	}
	res->parallel = 0;
	for (int k = 0; k < req->nband; k++)
		if (!((res->sequential >> k) & 1))
			res->parallel |= 1u << k;
	return 0;
}

/* { S<e> : floor(x_r / t) == tile } (cmp 0) or the tiles before it in
 * lexicographic order (cmp < 0). */
__isl_give isl_set *fusion_tile_domain(const deps_graph *g,
				       const fusion_req *req, int e,
				       const int64_t *tile, int before)
{
	isl_ctx *ctx = g->ctx;
	isl_set *dom = poly_domain(ctx, g->c, e, 1);
	isl_map *bm = member_schedule(g, req, e, 0, req->nband, req->nband);
	isl_space *bsp = isl_space_range(isl_map_get_space(bm));
	isl_set *sel;
	if (!before) {
		sel = isl_set_universe(bsp);
		for (int k = 0; k < req->nband; k++)
			sel = isl_set_fix_si(sel, isl_dim_set, (unsigned)k, (int)tile[k]);
	} else {
		sel = isl_set_empty(isl_space_copy(bsp));
		for (int k = 0; k < req->nband; k++) {
			isl_set *p = isl_set_universe(isl_space_copy(bsp));
			for (int j = 0; j < k; j++)
				p = isl_set_fix_si(p, isl_dim_set, (unsigned)j, (int)tile[j]);
			p = isl_set_upper_bound_si(p, isl_dim_set, (unsigned)k,
						   (int)tile[k] - 1);
			sel = isl_set_union(sel, p);
		}
		isl_space_free(bsp);
	}
	isl_set *pre = isl_set_apply(sel, isl_map_reverse(bm));
	return isl_set_intersect(dom, pre);
}

typedef struct tensor_sets {
	isl_set *rn, *wn, *rb, *wb; /* reads/writes now, before */
} tensor_sets;

static __isl_give isl_set *add_image(__isl_take isl_set *acc,
				     __isl_take isl_set *dom,
				     __isl_take isl_map *access)
{
	isl_set *img = isl_set_apply(dom, access);
	if (!acc)
		return img;
	return isl_set_union(acc, img);
}

static int count_into(__isl_take isl_set *s, int64_t *n, int *exact)
{
	if (!s) {
		*n = 0;
		return 0;
	}
	int ex = 1;
	if (poly_count(s, n, &ex) < 0)
		return -1;
	if (!ex)
		*exact = 0;
	return 0;
}

static int compute_footprints(const deps_graph *g, const fusion_req *req,
			      fusion_result *res)
{
	const ein_cascade *c = g->c;
	isl_ctx *ctx = g->ctx;
	tensor_sets *ts = calloc((size_t)(c->ntensors ? c->ntensors : 1), sizeof(*ts));
	if (!ts)
		return -1;
	int rc = -1;
	/* The representative tile and the number of tiles. */
	res->ntiles = 1;
	for (int k = 0; k < req->nband; k++) {
		int64_t ext = 0;
		for (int e = 0; e < c->neinsums; e++)
			if (req->members[e]) {
				int v = g->var_of[e][req->band[k]];
				if (c->einsums[e].vars[v].size > ext)
					ext = c->einsums[e].vars[v].size;
			}
		int64_t nt = (ext + req->tile[k] - 1) / req->tile[k];
		if (nt < 1)
			nt = 1;
		/* A steady-state tile: in the middle, so that halos are full,
		 * but never the last tile when it is a partial one. */
		int64_t full = ext / req->tile[k];
		res->tile_index[k] = nt / 2;
		if (full >= 1 && res->tile_index[k] > full - 1)
			res->tile_index[k] = full - 1;
		if (__builtin_mul_overflow(res->ntiles, nt, &res->ntiles))
			res->ntiles = INT64_MAX;
	}
	for (int e = 0; e < c->neinsums; e++) {
		if (!req->members[e])
			continue;
		const ein_einsum *es = &c->einsums[e];
		isl_set *now = fusion_tile_domain(g, req, e, res->tile_index, 0);
		isl_set *bef = fusion_tile_domain(g, req, e, res->tile_index, 1);
		if (!now || !bef) {
			isl_set_free(now);
			isl_set_free(bef);
			goto done;
		}
		for (int r = -1; r < es->nreads; r++) {
			const ein_access *a = r < 0 ? &es->out : &es->reads[r];
			tensor_sets *s = &ts[a->tensor];
			if (r < 0) {
				s->wn = add_image(s->wn, isl_set_copy(now),
						  poly_access(ctx, c, e, a));
				s->wb = add_image(s->wb, isl_set_copy(bef),
						  poly_access(ctx, c, e, a));
			} else {
				s->rn = add_image(s->rn, isl_set_copy(now),
						  poly_access(ctx, c, e, a));
				s->rb = add_image(s->rb, isl_set_copy(bef),
						  poly_access(ctx, c, e, a));
			}
		}
		isl_set_free(now);
		isl_set_free(bef);
	}
	res->fp = calloc((size_t)(c->ntensors ? c->ntensors : 1), sizeof(*res->fp));
	if (!res->fp)
		goto done;
	for (int t = 0; t < c->ntensors; t++) {
		tensor_sets *s = &ts[t];
		if (!s->rn && !s->wn)
			continue;
		const ein_tensor *tt = &c->tensors[t];
		fusion_fp *f = &res->fp[res->nfp++];
		f->tensor = t;
		f->exact = 1;
		if (!s->wn) {
			f->role = FUSION_IN;
		} else {
			int outside = tt->role == EIN_ROLE_OUTPUT;
			for (int i = 0; i < tt->nreaders; i++)
				if (!req->members[tt->readers[i]])
					outside = 1;
			f->role = outside ? FUSION_OUT : FUSION_INTERNAL;
		}
		isl_set *touched = s->rn ? isl_set_copy(s->rn) : NULL;
		if (s->wn)
			touched = touched ? isl_set_union(touched, isl_set_copy(s->wn))
					  : isl_set_copy(s->wn);
		if (count_into(touched, &f->footprint, &f->exact) < 0 ||
		    count_into(s->wn ? isl_set_copy(s->wn) : NULL, &f->written,
			       &f->exact) < 0)
			goto done;
		if (s->rn && s->wb &&
		    count_into(isl_set_intersect(isl_set_copy(s->rn), isl_set_copy(s->wb)),
			       &f->carried, &f->exact) < 0)
			goto done;
		if (s->rn && s->rb && !s->wn &&
		    count_into(isl_set_intersect(isl_set_copy(s->rn), isl_set_copy(s->rb)),
			       &f->reread, &f->exact) < 0)
			goto done;
		res->buffer_elems += f->footprint;
		res->buffer_bytes += f->footprint * ein_type_bytes(tt->type);
	}
	rc = 0;
done:
	for (int t = 0; t < c->ntensors; t++) {
		isl_set_free(ts[t].rn);
		isl_set_free(ts[t].wn);
		isl_set_free(ts[t].rb);
		isl_set_free(ts[t].wb);
	}
	free(ts);
	return rc;
}

int fusion_check(const deps_graph *g, const fusion_req *req, int footprints,
		 fusion_result *res, char *err, size_t errlen)
{
	const ein_cascade *c = g->c;
	dep_list deps = {0};
	int *pos = NULL;
	int rc = -1;
	memset(res, 0, sizeof(*res));
	int width = 0, n = 0;
	for (int e = 0; e < c->neinsums; e++) {
		if (!req->members[e])
			continue;
		for (int k = 0; k < req->nband; k++)
			if (g->var_of[e][req->band[k]] < 0) {
				snprintf(err, errlen,
					 "'%s' has no rank '%s': every Einsum of a "
					 "group must iterate every fused rank",
					 c->einsums[e].name, g->ranks[req->band[k]]);
				return -2;
			}
		if (c->einsums[e].nvars > width)
			width = c->einsums[e].nvars;
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen, "the group is empty");
		return -2;
	}
	for (int k = 0; k < req->nband; k++)
		if (req->tile[k] < 1) {
			snprintf(err, errlen, "tile sizes must be at least 1");
			return -2;
		}
	width += req->nband + 1;
	pos = calloc((size_t)c->neinsums, sizeof(int));
	if (!pos)
		goto oom;
	for (int e = 0, p = 0; e < c->neinsums; e++)
		if (req->members[e])
			pos[e] = p++;
	if (collect_deps(g, req->members, &deps) < 0)
		goto isl_fail;
	if (check_legality(g, req, pos, width, &deps, res) < 0)
		goto isl_fail;
	if (footprints && res->legal && compute_footprints(g, req, res) < 0)
		goto isl_fail;
	rc = 0;
	goto done;
isl_fail:
	snprintf(err, errlen, "isl: %s", poly_error(g->ctx));
	goto done;
oom:
	snprintf(err, errlen, "out of memory");
done:
	dep_list_clear(&deps);
	free(pos);
	if (rc < 0)
		fusion_result_clear(res);
	return rc;
}
