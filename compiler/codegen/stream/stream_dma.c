/* stream_dma.c - opening and closing tensor windows: DMA loads and
 * stores, data carried between tiles, the scopes of the tile loops (see
 * stream_impl.h). */
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

/* Range of dimension k of gt's window (cat 0) or of its written part (1)
 * in the current tile. */
static void dim_range(st *s, const gten *gt, int k, int cat, sx *lo, sx *hi)
{
	const cost_dim *d = &gt->dim[k];
	if (!d->has[cat]) {
		*lo = K(0);
		*hi = K(-1);
		return;
	}
	if (gt->tiled[k]) {
		int j = d->slot;
		sx a = sx_muli(s, d->coef > 0 ? s->tlo[j] : s->thi[j], d->coef);
		sx b = sx_muli(s, d->coef > 0 ? s->thi[j] : s->tlo[j], d->coef);
		*lo = sx_bin(s, MLB_MAX, sx_add(s, a, K(d->lo[cat])), K(0));
		*hi = sx_bin(s, MLB_MIN, sx_add(s, b, K(d->hi[cat])), K(d->size - 1));
	} else {
		*lo = K(d->flo[cat] > 0 ? d->flo[cat] : 0);
		*hi = K(d->fhi[cat] < d->size - 1 ? d->fhi[cat] : d->size - 1);
	}
}

/* A MODE instruction unless the array is known to be in that mode. */
void st_ensure_mode(st *s, int mode)
{
	if (s->t->concurrent)
		return; /* two arrays need no switch */
	if ((s->mode_fixed || s->mode_epoch == s->epoch) && s->mode_known == mode)
		return;
	st_emit(s, MLB_MODE, mode, 0, 0, 0, 0);
	s->mode_known = mode;
	s->mode_epoch = s->epoch;
}

/* Box of descriptor rank n into consecutive registers, then the
 * instruction. */
void st_emit_box_op(st *s, int op, int desc, int n, const sx *ext, int naddr, const sx *addr)
{
	int mark = s->rtop;
	if (op == MLB_VEXPR || op == MLB_MMA)
		st_ensure_mode(s, op == MLB_MMA);
	int re = st_ralloc_block(s, n);
	int ra = st_ralloc_block(s, naddr);
	for (int j = 0; j < n; j++)
		sx_to(s, ext[j], re + j);
	for (int i = 0; i < naddr; i++)
		sx_to(s, addr[i], ra + i);
	st_emit(s, op, re, ra, 0, (uint32_t)desc, 0);
	s->rtop = mark;
}

/* A DMA of the box [lo, hi] of gt's tensor between DRAM and the window. */
static void emit_dma(st *s, int op, gten *gt, const sx *lo, const sx *hi)
{
	mlb_desc d;
	memset(&d, 0, sizeof(d));
	d.kind = MLB_D_DMA;
	d.ndim = gt->ndims;
	d.nstreams = 1;
	d.tensor = gt->t;
	sx ext[EIN_MAX_DIMS], addr[1 + EIN_MAX_DIMS];
	sx gb = gt->base;
	for (int k = 0; k < gt->ndims; k++) {
		if (gt->gbs[k] >= MLB_MAX_STRIDE) {
			st_fail(s, -2, "a buffer window of '%s' is too large", s->c->tensors[gt->t].name);
			return;
		}
		d.stride[0][k] = (int32_t)gt->gbs[k];
		ext[k] = sx_add(s, sx_sub(s, hi[k], lo[k]), K(1));
		gb = sx_add(s, gb, sx_muli(s, sx_sub(s, lo[k], gt->orig[k]), gt->gbs[k]));
		addr[1 + k] = lo[k];
	}
	addr[0] = gb;
	int di = st_add_desc(s, &d);
	st_emit_box_op(s, op, di, gt->ndims, ext, 1 + gt->ndims, addr);
}

/* Intersects [lo, hi] with the static box [blo, bhi]. */
static void clip(st *s, int n, sx *lo, sx *hi, const int64_t *blo, const int64_t *bhi)
{
	for (int k = 0; k < n; k++) {
		lo[k] = sx_bin(s, MLB_MAX, lo[k], K(blo[k]));
		hi[k] = sx_bin(s, MLB_MIN, hi[k], K(bhi[k]));
	}
}

/* A flag: every band loop in mask is at its first (last) tile. */
static sx pass_flag(st *s, uint32_t mask, int last)
{
	sx f = K(1);
	for (int j = 0; j < s->nband; j++)
		if ((mask >> j) & 1)
			f = sx_bin(s, MLB_AND, f,
				   sx_bin(s, MLB_SEQ, s->iter[j],
					  K(last ? s->last_tile[j] : s->first_tile[j])));
	return f;
}

/* Is gt's pending-load flag known to be v here? */
static int pend_is(const st *s, const gten *gt, int v)
{
	return gt->pend_epoch == s->epoch && gt->pend_known == v;
}

static void pend_set(st *s, gten *gt, int v)
{
	gt->pend_known = v;
	gt->pend_epoch = s->epoch;
}

static void open_tensor(st *s, gten *gt)
{
	int mark = s->rtop;
	sx lo[EIN_MAX_DIMS], hi[EIN_MAX_DIMS];
	for (int k = 0; k < gt->ndims; k++) {
		dim_range(s, gt, k, 0, &lo[k], &hi[k]);
		if (gt->tiled[k] && k == gt->carry)
			st_emit(s, MLB_ADDI, gt->r_prev_orig, gt->r_orig[k], 0, 0, 0);
		if (gt->tiled[k] && (k == gt->carry || !is_const(lo[k]))) {
			sx_to(s, lo[k], gt->r_orig[k]);
			gt->orig[k] = R(gt->r_orig[k]);
		} else if (gt->tiled[k]) {
			gt->orig[k] = lo[k];
		}
	}
	sx prev_base = gt->base;
	if (gt->nslots == 2) {
		/* Double buffering: alternate between the two slots. */
		int one = sx_reg(s, K(1));
		st_emit(s, MLB_SUB, gt->r_toggle, one, gt->r_toggle, 0, 0);
		sx off = sx_muli(s, R(gt->r_toggle), (gt->slot_vals + ALIGN_VALUES - 1) / ALIGN_VALUES *
							    ALIGN_VALUES);
		sx_to(s, sx_add(s, off, K(gt->base0)), gt->r_base);
		gt->base = R(gt->r_base);
		prev_base = sx_add(s, sx_muli(s, sx_sub(s, K(1), R(gt->r_toggle)),
					      (gt->slot_vals + ALIGN_VALUES - 1) / ALIGN_VALUES *
						      ALIGN_VALUES),
				   K(gt->base0));
	}
	if (gt->carry >= 0) {
		/* What the previous tile along loop p left at the end of the
		 * window is the beginning of this one. */
		int k = gt->carry, j = gt->dim[k].slot;
		sx later = sx_bin(s, MLB_SLT, K(s->first_tile[j]), s->iter[j]);
		int br = is_const(later) ? -1 : st_branch_if_zero(s, later);
		mlb_desc d;
		memset(&d, 0, sizeof(d));
		d.kind = MLB_D_MOVE;
		d.ndim = gt->ndims;
		d.nstreams = 2;
		sx ext[EIN_MAX_DIMS];
		for (int q = 0; q < gt->ndims; q++) {
			d.stride[0][q] = d.stride[1][q] = (int32_t)gt->gbs[q];
			ext[q] = q == k ? sx_add(s, sx_sub(s, R(gt->r_prev_end), lo[k]), K(1))
					: sx_add(s, sx_sub(s, hi[q], lo[q]), K(1));
		}
		sx addr[2];
		addr[0] = gt->base;
		addr[1] = sx_add(s, prev_base,
				 sx_muli(s, sx_sub(s, lo[k], R(gt->r_prev_orig)), gt->gbs[k]));
		if (br >= 0 || later.c) {
			int di = st_add_desc(s, &d);
			st_emit_box_op(s, MLB_MOVE, di, gt->ndims, ext, 2, addr);
		}
		if (br >= 0)
			st_patch(s, br);
		sx_to(s, hi[k], gt->r_end);
		st_emit(s, MLB_ADDI, gt->r_prev_end, gt->r_end, 0, 0, 0);
	}
	/* Its loads wait for its first use (ensure_loaded). */
	if (gt->lazy) {
		st_emit(s, MLB_LI, gt->r_pend, 0, 0, 0, 1);
		pend_set(s, gt, 1);
	}
	gt->is_open = 1;
	s->rtop = mark;
}

/* The loads of an open window: what the group reads of it from DRAM, and
 * the partial results of an earlier pass. */
static void emit_loads(st *s, gten *gt)
{
	sx lo[EIN_MAX_DIMS], hi[EIN_MAX_DIMS];
	for (int k = 0; k < gt->ndims; k++)
		dim_range(s, gt, k, 0, &lo[k], &hi[k]);
	if (gt->load_all)
		emit_dma(s, MLB_LOAD, gt, lo, hi);
	if (gt->has_in) {
		clip(s, gt->ndims, lo, hi, gt->in_lo, gt->in_hi);
		emit_dma(s, MLB_LOAD, gt, lo, hi);
	}
	if (gt->spill) {
		int br = st_branch_if_zero(s, sx_bin(s, MLB_SEQ, pass_flag(s, gt->passes, 0), K(0)));
		sx wl[EIN_MAX_DIMS], wh[EIN_MAX_DIMS];
		for (int k = 0; k < gt->ndims; k++)
			dim_range(s, gt, k, 1, &wl[k], &wh[k]);
		emit_dma(s, MLB_LOAD, gt, wl, wh);
		st_patch(s, br);
	}
}

/* Before a statement touches tensor t: the window's loads, the first time
 * in its scope. */
void st_ensure_loaded(st *s, int t)
{
	gten *gt = st_find_gt(s, t);
	if (!gt || !gt->lazy || !gt->is_open)
		return;
	if (pend_is(s, gt, 0))
		return;
	int mark = s->rtop;
	int br = pend_is(s, gt, 1) ? -1 : st_emit(s, MLB_BZ, gt->r_pend, 0, 0, 0, 0);
	emit_loads(s, gt);
	st_emit(s, MLB_LI, gt->r_pend, 0, 0, 0, 0);
	if (br >= 0)
		st_patch(s, br);
	pend_set(s, gt, 0);
	s->rtop = mark;
}

static void close_tensor(st *s, gten *gt)
{
	gt->is_open = 0;
	if (!gt->written || !gt->dram)
		return;
	int mark = s->rtop;
	/* A window no statement touched in this scope holds nothing to
	 * write back. */
	if (gt->lazy && pend_is(s, gt, 1)) {
		s->rtop = mark;
		return; /* nothing touched it */
	}
	int untouched = gt->lazy && !pend_is(s, gt, 0)
				? st_branch_if_zero(s, sx_bin(s, MLB_SEQ, R(gt->r_pend), K(0)))
				: -1;
	sx wl[EIN_MAX_DIMS], wh[EIN_MAX_DIMS];
	for (int k = 0; k < gt->ndims; k++)
		dim_range(s, gt, k, 1, &wl[k], &wh[k]);
	int skip = -1, over = -1;
	if (gt->spill) {
		/* Not the last pass: everything written so far goes out. */
		skip = st_branch_if_zero(s, sx_bin(s, MLB_SEQ, pass_flag(s, gt->passes, 1), K(0)));
		emit_dma(s, MLB_STORE, gt, wl, wh);
		over = st_emit(s, MLB_JMP, 0, 0, 0, 0, 0);
		st_patch(s, skip);
	}
	if (gt->store_all) {
		emit_dma(s, MLB_STORE, gt, wl, wh);
	} else if (gt->has_out) {
		clip(s, gt->ndims, wl, wh, gt->out_lo, gt->out_hi);
		emit_dma(s, MLB_STORE, gt, wl, wh);
	}
	if (over >= 0)
		st_patch(s, over);
	if (untouched >= 0)
		st_patch(s, untouched);
	s->rtop = mark;
}

static void open_depth(st *s, int p)
{
	for (int i = 0; i < s->ngt; i++)
		if (s->gt[i].p == p)
			open_tensor(s, &s->gt[i]);
}

static void close_depth(st *s, int p)
{
	for (int i = s->ngt - 1; i >= 0; i--)
		if (s->gt[i].p == p)
			close_tensor(s, &s->gt[i]);
}

/* The smallest band loop index >= f that exists in the AST (or m). */
static int next_loop(const st *s, int f)
{
	for (int j = f; j < s->nband; j++)
		if (s->loop_exists[j])
			return j;
	return s->nband;
}

static void run_deferred(st *s, defer *d)
{
	if (!d || !d->n || s->open_upto < s->nband)
		return;
	uint32_t save = s->guard;
	s->guard = d->mask;
	for (int i = 0; i < d->n; i++)
		st_walk(s, d->v[i]);
	s->guard = save;
}

int st_open_scope(st *s, int f)
{
	int from = s->open_upto + 1, to = next_loop(s, f);
	for (int p = from; p <= to; p++)
		open_depth(s, p);
	if (to >= from)
		s->open_upto = to;
	if (to >= from && to == s->nband)
		run_deferred(s, s->pre);
	return from;
}

void st_close_scope(st *s, int from)
{
	if (s->open_upto == s->nband && from <= s->nband)
		run_deferred(s, s->post);
	for (int p = s->open_upto; p >= from; p--)
		close_depth(s, p);
	if (s->open_upto >= from)
		s->open_upto = from - 1;
}
