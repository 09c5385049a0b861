/* stream_window.c - a group's tensors: the intervals its accesses touch,
 * the parts that flow across its boundary, and their windows in the
 * global buffer (see stream_impl.h). */
#include "stream_impl.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isl/ast.h>
#include <isl/id.h>
#include <isl/ilp.h>
#include <isl/map.h>
#include <isl/set.h>
#include <isl/val.h>

#include "analysis/fusion.h"
#include "analysis/poly.h"

gten *st_find_gt(st *s, int t)
{
	for (int i = 0; i < s->ngt; i++)
		if (s->gt[i].t == t)
			return &s->gt[i];
	return NULL;
}

/* Records one access of member e, as the cost model does. */
static void add_access(st *s, int e, const ein_access *a, int write)
{
	gten *gt = st_find_gt(s, a->tensor);
	if (!gt)
		return; /* the cost model's table lists every tensor */
	int slot_var[CG_MAX_BAND];
	for (int b = 0; b < s->nband; b++)
		slot_var[b] = s->g->var_of[e][s->gr->band[b]];
	for (int k = 0; k < a->nidx; k++)
		cost_dim_record(&gt->dim[k], s->c, cost_einsum(s->cm, e), &a->idx[k], slot_var,
				s->nband, write);
	if (write)
		gt->written = 1;
}

/* A window's extent along d: the model's width, at least 1. */
static int64_t dim_width(const cost_dim *d, int cat, int64_t s)
{
	int64_t w = cost_dim_width(d, cat, s);
	return w ? w : 1;
}

static int64_t dim_full(const cost_dim *d, int cat)
{
	int64_t w = cost_dim_full(d, cat);
	return w ? w : 1;
}

/* The bounding box of the elements of tensor t that flow across the
 * group's boundary: out (produced inside, read outside) or in.  Returns 1
 * with the box, 0 when nothing flows, -1 on an isl error. */
static int flow_box(st *s, int t, int out, int64_t *lo, int64_t *hi)
{
	const deps_graph *g = s->g;
	const char *mem = s->gr->members;
	isl_set *all = NULL;
	for (int k = 0; k < g->nedges; k++) {
		const deps_edge *ed = &g->edges[k];
		if (ed->tensor != t)
			continue;
		int pin = mem[ed->producer] != 0, qin = mem[ed->consumer] != 0;
		if (out ? !(pin && !qin) : !(!pin && qin))
			continue;
		isl_set *img = isl_set_apply(isl_map_domain(isl_map_copy(ed->rel)),
					     poly_access(g->ctx, s->c, ed->producer,
							 &s->c->einsums[ed->producer].out));
		all = all ? isl_set_union(all, img) : img;
	}
	if (!all)
		return 0;
	all = isl_set_intersect_params(all, poly_context(g->ctx, s->c));
	int rc = 1;
	isl_bool empty = isl_set_is_empty(all);
	if (empty < 0)
		rc = -1;
	else if (empty)
		rc = 0;
	for (int d = 0; rc == 1 && d < s->c->tensors[t].ndims; d++) {
		isl_val *vl = isl_set_dim_min_val(isl_set_copy(all), d);
		isl_val *vh = isl_set_dim_max_val(isl_set_copy(all), d);
		if (!vl || !vh || !isl_val_is_int(vl) || !isl_val_is_int(vh))
			rc = -1;
		else {
			lo[d] = isl_val_get_num_si(vl);
			hi[d] = isl_val_get_num_si(vh);
		}
		isl_val_free(vl);
		isl_val_free(vh);
	}
	isl_set_free(all);
	return rc;
}

/* Applies the choices of a plan for the same group, if there is one. */
static void apply_choices(st *s, cost_config *cfg)
{
	const plan *pl = s->choices;
	if (!pl)
		return;
	for (int i = 0; i < pl->ngroups; i++) {
		const plan_group *pg = &pl->groups[i];
		int same = pg->nmembers == cost_group_nmembers(s->cg);
		for (int k = 0; same && k < pg->nmembers; k++)
			same = s->gr->members[pg->members[k].einsum] != 0;
		if (!same)
			continue;
		for (int k = 0; k < pg->nmembers; k++)
			for (int j = 0; j < cost_group_nmembers(s->cg); j++)
				if (cost_group_member(s->cg, j) == pg->members[k].einsum)
					cfg->unit[j] = (signed char)pg->members[k].unit;
		for (int k = 0; k < pg->ntensors; k++)
			for (int j = 0; j < cost_group_ntensors(s->cg); j++)
				if (cost_group_tensor(s->cg, j) == pg->tensors[k].tensor) {
					if (pg->tensors[k].level >= 0)
						cfg->level[j] = (signed char)pg->tensors[k].level;
					if (pg->tensors[k].multipass >= 0)
						cfg->mp[j] = (signed char)pg->tensors[k].multipass;
				}
		return;
	}
}

static int64_t slot_size(const gten *gt)
{
	return (gt->slot_vals + ALIGN_VALUES - 1) / ALIGN_VALUES * ALIGN_VALUES;
}

/* Places the windows in the buffer: those that live through the group
 * one after the other, then those that live within a tile first-fit
 * above them, sharing space when their live ranges do not meet (as the
 * cost model counts the peak).  Returns the values allocated. */
static int64_t alloc_windows(st *s)
{
	int64_t top = 0, end = 0;
	for (int i = 0; i < s->ngt; i++) {
		gten *gt = &s->gt[i];
		if (!gt->persistent)
			continue;
		gt->base0 = top;
		top = st_ck_add(s, top, st_ck_mul(s, slot_size(gt), gt->nslots));
	}
	end = top;
	for (int i = 0; i < s->ngt; i++) {
		gten *gt = &s->gt[i];
		if (gt->persistent)
			continue;
		int64_t at = top, sz = slot_size(gt);
		for (int moved = 1; moved;) {
			moved = 0;
			for (int j = 0; j < i; j++) {
				const gten *o = &s->gt[j];
				if (o->persistent || o->last < gt->first || gt->last < o->first)
					continue;
				if (at < o->base0 + slot_size(o) && o->base0 < at + sz) {
					at = o->base0 + slot_size(o);
					moved = 1;
				}
			}
		}
		gt->base0 = at;
		if (at + sz > end)
			end = at + sz;
	}
	return end;
}

/* The cost model's view of group gi (as the mapper evaluates it, with the
 * plan's choices): its tiles, units and retention levels, and the band
 * loops' tile counts. */
static int group_model(st *s, int gi)
{
	const cg_group *gr = &s->p->groups[gi];
	s->gi = gi;
	s->gr = gr;
	s->nband = gr->nband;
	char err[512];
	s->cg = cost_group_new(s->cm, gr->members, gr->nband, gr->band, err, sizeof(err));
	if (!s->cg) {
		st_fail(s, -2, "group %d: %s", gi + 1, err);
		return -1;
	}
	cost_config cfg;
	cost_config_init(&cfg);
	for (int k = 0; k < gr->nband; k++) {
		cfg.order[k] = k;
		cfg.tile[k] = gr->tile[k];
	}
	apply_choices(s, &cfg);
	if (cost_eval(s->cg, &cfg, 1, &s->res) < 0) {
		st_fail(s, -1, "group %d: the cost model failed", gi + 1);
		return -1;
	}
	for (int k = 0; k < gr->nband; k++) {
		s->tile[k] = gr->tile[k];
		s->ext[k] = cost_group_extent(s->cg, k);
		if (s->tile[k] > s->ext[k])
			s->tile[k] = s->ext[k] > 0 ? s->ext[k] : 1;
		s->ntile[k] = (s->ext[k] + s->tile[k] - 1) / s->tile[k];
		/* The band loop's first value: the smallest tile index of any
		 * member (0 unless every domain starts later). */
		int64_t lo = INT64_MAX;
		for (int i = 0; i < cost_group_nmembers(s->cg); i++) {
			int e = cost_group_member(s->cg, i);
			int v = s->g->var_of[e][gr->band[k]];
			int64_t l = cost_einsum(s->cm, e)->lo[v];
			if (l < lo)
				lo = l;
		}
		s->first_tile[k] = st_floordiv(lo < 0 ? 0 : lo, gr->tile[k]);
		s->last_tile[k] = s->ntile[k] > 0 ? (s->ext[k] - 1) / gr->tile[k] : 0;
	}
	for (int i = 0; i < cost_group_nmembers(s->cg); i++)
		s->unit_of[cost_group_member(s->cg, i)] = s->res.unit[i];
	return 0;
}

/* The group's tensors, in the model's order, with the intervals its
 * accesses touch. */
static void group_tensors(st *s)
{
	const ein_cascade *c = s->c;
	s->ngt = cost_group_ntensors(s->cg);
	for (int i = 0; i < s->ngt; i++) {
		gten *gt = &s->gt[i];
		memset(gt, 0, sizeof(*gt));
		gt->t = cost_group_tensor(s->cg, i);
		gt->ndims = c->tensors[gt->t].ndims;
		gt->level = s->res.level[i];
		gt->carry = -1;
		for (int k = 0; k < gt->ndims; k++)
			cost_dim_init(&gt->dim[k], c->tensors[gt->t].dims[k].size);
	}
	for (int e = 0; e < c->neinsums; e++) {
		if (!s->gr->members[e])
			continue;
		const ein_einsum *es = &c->einsums[e];
		for (int r = 0; r < es->nreads; r++)
			add_access(s, e, &es->reads[r], 0);
		add_access(s, e, &es->out, 1);
	}
}

/* Where gt's window opens (loop p), the dimension it carries between
 * tiles, and its extents.  Returns 0 or -1. */
static int window_scope(st *s, gten *gt)
{
	const int m = s->nband;
	for (int k = 0; k < gt->ndims; k++) {
		if (gt->dim[k].slot >= 0)
			gt->slots |= 1u << gt->dim[k].slot;
		else if (gt->dim[k].slot == -2)
			gt->slots |= (1u << m) - 1;
	}
	/* The window opens inside the innermost loop at or above the
	 * retention level that indexes the tensor. */
	gt->p = 0;
	for (int j = 1; j <= gt->level && j <= m; j++)
		if ((gt->slots >> (j - 1)) & 1)
			gt->p = j;
	/* Data carried between tiles along loop q stays in place when
	 * the window spans loop q, and moves when the window moves with
	 * it; it cannot move with inner loops too, so the window opens
	 * at q then. */
	for (int k = 0; k < gt->ndims; k++) {
		const cost_dim *d = &gt->dim[k];
		if (cost_dim_halo(d) > 0 && d->slot + 1 <= gt->p)
			gt->p = d->slot + 1;
	}
	for (int k = 0; k < gt->ndims; k++) {
		const cost_dim *d = &gt->dim[k];
		if (cost_dim_halo(d) > 0 && d->slot + 1 == gt->p) {
			if (gt->carry >= 0) {
				st_fail(s, -2, "group %d: '%s' is carried between tiles along two "
					       "dimensions at once, which the stream does not support",
					s->gi + 1, s->c->tensors[gt->t].name);
				return -1;
			}
			gt->carry = k;
		}
	}
	for (int k = 0; k < gt->ndims; k++) {
		const cost_dim *d = &gt->dim[k];
		gt->tiled[k] = d->slot >= 0 && d->slot + 1 <= gt->p;
		gt->W[k] = gt->tiled[k] ? dim_width(d, 0, s->tile[d->slot]) : dim_full(d, 0);
	}
	gt->slot_vals = 1;
	for (int k = gt->ndims - 1; k >= 0; k--) {
		gt->gbs[k] = gt->slot_vals;
		gt->slot_vals = st_ck_mul(s, gt->slot_vals, gt->W[k]);
	}
	return 0;
}

/* What of gt moves between DRAM and its window: loaded whole, the part
 * produced outside the group, the part read outside, spills.  Returns 0
 * or -1. */
static int window_flows(st *s, gten *gt)
{
	const ein_tensor *tt = &s->c->tensors[gt->t];
	const cg_buffer *b = &s->l->buf[gt->t];
	gt->dram = b->kind != CG_BUF_TILE;
	if (!gt->written) {
		gt->load_all = 1;
	} else {
		int r = flow_box(s, gt->t, 0, gt->in_lo, gt->in_hi);
		if (r < 0) {
			st_fail(s, -1, "isl: %s", poly_error(s->g->ctx));
			return -1;
		}
		gt->has_in = r;
		if (tt->role == EIN_ROLE_OUTPUT) {
			gt->store_all = 1;
		} else {
			r = flow_box(s, gt->t, 1, gt->out_lo, gt->out_hi);
			if (r < 0) {
				st_fail(s, -1, "isl: %s", poly_error(s->g->ctx));
				return -1;
			}
			gt->has_out = r;
		}
		/* A loop at or above the window that does not index
		 * the tensor comes back to it: partial results are
		 * spilled and reloaded, as the model counts. */
		for (int j = 1; j <= gt->p; j++)
			if (!((gt->slots >> (j - 1)) & 1) && s->ntile[j - 1] > 1)
				gt->passes |= 1u << (j - 1);
		if (gt->passes) {
			gt->spill = 1;
			if (!gt->dram) {
				gt->dram = 1;
				s->need_dram[gt->t] = 1;
			}
		}
	}
	if (!gt->dram)
		gt->load_all = gt->has_in = gt->has_out = gt->store_all = 0;
	return 0;
}

/* gt's copies (double-buffered or not) and its live range: through the
 * group, or from the first to the last member touching it in a tile. */
static void window_life(st *s, gten *gt)
{
	const ein_cascade *c = s->c;
	const int m = s->nband;
	int dma = gt->dram && (gt->load_all || gt->has_in || gt->has_out || gt->store_all ||
			       gt->spill);
	int reloaded = 0;
	for (int j = 1; j <= gt->p; j++)
		reloaded |= s->ntile[j - 1] > 1;
	gt->nslots = s->t->double_buffer && dma && reloaded ? 2 : 1;
	gt->lazy = gt->dram && (gt->load_all || gt->has_in || gt->spill);
	int stored = gt->written && gt->dram;
	/* A window lives through the group when several tiles use it
	 * (the loops inside its scope have more than one tile), when
	 * it is double-buffered or carries data between tiles. */
	int64_t inner_tiles = 1;
	for (int j = gt->p; j < m; j++)
		inner_tiles *= s->ntile[j];
	gt->persistent = gt->nslots == 2 || inner_tiles > 1 || gt->carry >= 0;
	/* Live range in the tile: from the first member touching it
	 * (loads are lazy) to the last, or the tile's end when it is
	 * stored then; statements run out of place stretch it. */
	gt->first = INT32_MAX;
	gt->last = -1;
	int pos = 0;
	for (int e = 0; e < c->neinsums; e++) {
		if (!s->gr->members[e])
			continue;
		const ein_einsum *es = &c->einsums[e];
		int touch = es->out.tensor == gt->t;
		for (int r = 0; r < es->nreads; r++)
			touch |= es->reads[r].tensor == gt->t;
		if (touch) {
			int f = s->defer_pre[e] ? 0 : pos;
			int l = s->defer_post[e] ? INT32_MAX : pos;
			if (f < gt->first)
				gt->first = f;
			if (l > gt->last)
				gt->last = l;
		}
		pos++;
	}
	if (stored)
		gt->last = INT32_MAX;
}

/* Places the windows in the global buffer, single-buffered if the second
 * copies do not fit.  Returns 0, or -1 when the group does not fit. */
static int fit_windows(st *s)
{
	const ein_cascade *c = s->c;
	const int m = s->nband;
	int64_t off = alloc_windows(s);
	int64_t cap = s->t->buffer_bytes / s->t->bytes_per_value;
	if (off > cap) {
		/* Too tight for second copies (the model shares the first
		 * copy of a double-buffered window by liveness; the stream
		 * keeps both for the group): single-buffer the windows. */
		for (int i = 0; i < s->ngt; i++) {
			gten *gt = &s->gt[i];
			if (gt->nslots == 2) {
				gt->nslots = 1;
				int64_t inner_tiles = 1;
				for (int j = gt->p; j < m; j++)
					inner_tiles *= s->ntile[j];
				gt->persistent = inner_tiles > 1 || gt->carry >= 0;
			}
		}
		off = alloc_windows(s);
	}
	s->alloc = off;
	if (off > cap) {
		char names[256] = "";
		size_t w = 0;
		for (int e = 0; e < c->neinsums && w < sizeof(names) - 40; e++)
			if (s->gr->members[e])
				w += (size_t)snprintf(names + w, sizeof(names) - w, "%s%s", w ? "," : "",
						      c->einsums[e].name);
		st_fail(s, -2, "group %d (%s) needs %" PRId64 " bytes of global buffer; the target "
			    "'%s' has %" PRId64 " (use smaller tiles, or a mapper policy)",
			s->gi + 1, names, off * s->t->bytes_per_value, s->t->name, s->t->buffer_bytes);
		return -1;
	}
	return 0;
}

/* Registers that live as long as the group. */
static void group_registers(st *s)
{
	for (int i = 0; i < s->ngt; i++) {
		gten *gt = &s->gt[i];
		for (int k = 0; k < gt->ndims; k++) {
			gt->r_orig[k] = gt->tiled[k] ? st_ralloc(s) : -1;
			if (!gt->tiled[k])
				gt->orig[k] = K(gt->dim[k].flo[0] > 0 ? gt->dim[k].flo[0] : 0);
		}
		gt->base = K(gt->base0);
		if (gt->nslots == 2) {
			gt->r_toggle = st_ralloc(s);
			gt->r_base = st_ralloc(s);
			st_emit(s, MLB_LI, gt->r_toggle, 0, 0, 0, 1);
		}
		if (gt->carry >= 0) {
			gt->r_prev_orig = st_ralloc(s);
			gt->r_prev_end = st_ralloc(s);
			gt->r_end = st_ralloc(s);
		}
		if (gt->lazy)
			gt->r_pend = st_ralloc(s);
	}
}

/* Sets up group gi: the model's choices, every tensor's window, the
 * buffer allocation, the group-lifetime registers. */
int st_setup_group(st *s, int gi)
{
	if (group_model(s, gi) < 0)
		return -1;
	group_tensors(s);
	for (int i = 0; i < s->ngt; i++) {
		gten *gt = &s->gt[i];
		if (window_scope(s, gt) < 0 || window_flows(s, gt) < 0)
			return -1;
		window_life(s, gt);
	}
	if (fit_windows(s) < 0)
		return -1;
	group_registers(s);
	return s->rc ? -1 : 0;
}
