/* c_gemm.c - matrix products as calls: one per tile (ml_sgemm), or shared
 * by a team beside the groups that do not need it (ml_sgemm_team; see
 * cgc_impl.h). */
#include "cgc_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The band member of the current group that var v of member e is fused
 * on, or -1. */
static int band_of(const cgc *k, int e, int v)
{
	const cg_group *gr = &k->p->groups[k->cur];
	for (int j = 0; j < gr->nband; j++)
		if (k->g->var_of[e][gr->band[j]] == v)
			return j;
	return -1;
}

/* Range of var v of member e in the tile whose indices are the C
 * expressions tj_0.. (names "tile_j"): prints lo and hi into buffers. */
static void var_range(const cgc *k, int e, int v, char *lo, char *hi, size_t len)
{
	const cg_group *gr = &k->p->groups[k->cur];
	const ein_var *var = &k->c->einsums[e].vars[v];
	int j = band_of(k, e, v);
	if (j >= 0) {
		snprintf(lo, len, "tile_%d * %" PRId64, j, gr->tile[j]);
		snprintf(hi, len, "min(tile_%d * %" PRId64 " + %" PRId64 ", %" PRId64 ")", j,
			 gr->tile[j], gr->tile[j] - 1, var->size - 1);
		return;
	}
	snprintf(lo, len, "0");
	snprintf(hi, len, "%" PRId64, var->size - 1);
}

/* Which matrix dimension (0 M, 1 N, 2 K) holds var v of the call, or -1
 * when v is a loop around it. */
static int collapsed_role(const cg_gemm *g, int v)
{
	const int *blocks[3] = {g->m, g->n, g->kk};
	int nb[3] = {g->nm, g->nn, g->nk};
	for (int q = 0; q < 3; q++)
		for (int i = nb[q] - g->ncol[q]; i < nb[q]; i++)
			if (blocks[q][i] == v)
				return q;
	return -1;
}

/* The range of collapsed var v of member e in this call: the tile's, cut
 * by the filter u <= v + fc when the other side of it is a loop. */
static void call_range(const cgc *k, int e, int v, char *lo, char *hi, size_t len)
{
	const cg_gemm *g = &k->gemm[e];
	const ein_einsum *es = &k->c->einsums[e];
	char l0[160], h0[200];
	var_range(k, e, v, l0, h0, sizeof(l0));
	snprintf(lo, len, "%s", l0);
	snprintf(hi, len, "%s", h0);
	if (g->fu < 0)
		return;
	if (v == g->fv && collapsed_role(g, g->fu) < 0) /* v >= u - fc */
		snprintf(lo, len, "max(%s, v_%s - (%" PRId64 "))", l0, es->vars[g->fu].name, g->fc);
	else if (v == g->fu && collapsed_role(g, g->fv) < 0) /* u <= v + fc */
		snprintf(hi, len, "min(%s, v_%s + (%" PRId64 "))", h0, es->vars[g->fv].name, g->fc);
}

/* Extent of var v of member e in one tile of the current group. */
static int64_t tile_extent(const cgc *k, int e, int v)
{
	int64_t n = k->c->einsums[e].vars[v].size;
	int j = band_of(k, e, v);
	return j >= 0 && k->p->groups[k->cur].tile[j] < n ? k->p->groups[k->cur].tile[j] : n;
}

/* Products with a batch (heads) share the threads by batch element: each
 * thread makes whole products, one after another (ml_sgemma sees it is in
 * a parallel region and stays on its thread), instead of every product
 * being split across the threads, a region each.  Only when there are at
 * least two batch elements and the call's work would be split anyway
 * (ml_sgemma's threshold). */
static void batch_pragma(cgc *k, int e, int depth)
{
	const ein_einsum *es = &k->c->einsums[e];
	const cg_gemm *g = &k->gemm[e];
	if (!k->o->openmp || k->team || k->in_team || g->nb == 0)
		return;
	double batch = 1, work = 1;
	for (int i = 0; i < g->nb; i++)
		batch *= (double)tile_extent(k, e, g->b[i]);
	for (int v = 0; v < es->nvars; v++)
		work *= (double)tile_extent(k, e, v);
	if (batch < 2 || work < 262144.0)
		return;
	sbuf_printf(&k->out, "#ifdef _OPENMP\n");
	sbuf_indent(&k->out, depth);
	sbuf_printf(&k->out, "#pragma omp parallel for collapse(%d) schedule(static)\n", g->nb);
	sbuf_printf(&k->out, "#endif\n");
}

/* Loops around the call over the vars not collapsed, the batch vars
 * first; returns how many. */
static int gemm_loops(cgc *k, int e, int depth)
{
	const ein_einsum *es = &k->c->einsums[e];
	const cg_gemm *g = &k->gemm[e];
	sbuf *s = &k->out;
	char lo[160], hi[200];
	int loops = 0;
	const int *blocks[4] = {g->m, g->n, g->kk, g->b};
	int nb[4] = {g->nm, g->nn, g->nk, g->nb};
	batch_pragma(k, e, depth);
	for (int qq = 0; qq < 4; qq++) {
		int q = (qq + 3) % 4, ncol = q < 3 ? g->ncol[q] : 0;
		for (int i = 0; i < nb[q] - ncol; i++) {
			int v = blocks[q][i];
			var_range(k, e, v, lo, hi, sizeof(lo));
			sbuf_indent(s, depth + loops);
			sbuf_printf(s, "for (long v_%s = %s; v_%s <= %s; v_%s++)\n",
				    es->vars[v].name, lo, es->vars[v].name, hi, es->vars[v].name);
			loops++;
		}
	}
	return loops;
}

/* The function called and its first arguments: a team's share, a masked
 * product (the filter across two matrix dimensions), or a plain one. */
static void gemm_callee(cgc *k, int e, int rf[2])
{
	const cg_gemm *g = &k->gemm[e];
	sbuf *s = &k->out;
	if (rf[0] >= 0) {
		sbuf_printf(s, "ml_sgemm_tri(");
		cgc_number(s, g->alpha);
		sbuf_printf(s, ", ");
	} else if (k->team) {
		sbuf_printf(s, "ml_sgemm_team(&team_next, (float *)(ws + %" PRId64 "), ",
			    cgc_ws_team(k));
	} else if (g->alpha != 1.0) {
		sbuf_printf(s, "ml_sgemma(");
		cgc_number(s, g->alpha);
		sbuf_printf(s, ", ");
	} else {
		sbuf_printf(s, "ml_sgemm(");
	}
}

/* Emits the GEMM of member e for one tile (tile indices tile_j). */
void cgc_emit_gemm(cgc *k, int e, int depth)
{
	const ein_einsum *es = &k->c->einsums[e];
	const cg_gemm *g = &k->gemm[e];
	const ein_access *X = &es->reads[g->x], *Y = &es->reads[g->y], *C = &es->out;
	sbuf *s = &k->out;
	const int *nc = g->ncol;
	char lo[400], hi[400];
	int loops = gemm_loops(k, e, depth);
	const int *blocks[3] = {g->m, g->n, g->kk};
	int nb[3] = {g->nm, g->nn, g->nk};
	/* The filter u <= v + fc: both sides loops (a test), one a loop (a
	 * cut range, call_range), or both matrix dimensions (a masked call:
	 * rf = the dimensions of v and u). */
	int rf[2] = {-1, -1};
	if (g->fu >= 0) {
		int ru = collapsed_role(g, g->fu), rv = collapsed_role(g, g->fv);
		if (ru < 0 && rv < 0) {
			sbuf_indent(s, depth + loops);
			sbuf_printf(s, "if (v_%s <= v_%s + (%" PRId64 "))\n", es->vars[g->fu].name,
				    es->vars[g->fv].name, g->fc);
			loops++;
		} else if (ru >= 0 && rv >= 0) {
			rf[0] = rv;
			rf[1] = ru;
		}
	}
	sbuf_indent(s, depth + loops);
	sbuf_printf(s, "{\n");
	int d2 = depth + loops + 1;
	/* Start of each collapsed block, and the sizes. */
	const char *dimname[3] = {"M", "N", "K"};
	for (int q = 0; q < 3; q++) {
		sbuf_indent(s, d2);
		sbuf_printf(s, "long %s = 1", dimname[q]);
		for (int i = nb[q] - nc[q]; i < nb[q]; i++) {
			call_range(k, e, blocks[q][i], lo, hi, sizeof(lo));
			sbuf_printf(s, " * max(%s - (%s) + 1, 0)", hi, lo);
		}
		sbuf_printf(s, ";\n");
		for (int i = nb[q] - nc[q]; i < nb[q]; i++) {
			int v = blocks[q][i];
			call_range(k, e, v, lo, hi, sizeof(lo));
			sbuf_indent(s, d2);
			sbuf_printf(s, "const long v_%s = %s;\n", es->vars[v].name, lo);
		}
	}
	int xt = g->xt, yt = g->yt, ct = g->ct;
	int64_t lda = g->ldx, ldb = g->ldy, ldc = g->ldc;
	sbuf_indent(s, d2);
	/* A cut range may leave no rows or columns (an empty K still sets a
	 * C that the call overwrites). */
	sbuf_printf(s, "if (M > 0 && N > 0)\n");
	sbuf_indent(s, d2 + 1);
	const char *xn = k->c->tensors[X->tensor].name, *yn = k->c->tensors[Y->tensor].name,
		   *cname = k->c->tensors[C->tensor].name;
	gemm_callee(k, e, rf);
	if (!ct) {
		sbuf_printf(s, "%d, %d, M, N, K, t_%s + (", xt, yt, xn);
		cgc_offset(s, k, es, X);
		sbuf_printf(s, "), %" PRId64 ", t_%s + (", lda, yn);
		cgc_offset(s, k, es, Y);
		sbuf_printf(s, "), %" PRId64 ", %s, t_%s + (", ldb, g->beta0 ? "0.0f" : "1.0f", cname);
		cgc_offset(s, k, es, C);
		sbuf_printf(s, "), %" PRId64, ldc);
	} else {
		/* C^T = Y^T X^T: the call's rows are N, its columns M. */
		sbuf_printf(s, "%d, %d, N, M, K, t_%s + (", !yt, !xt, yn);
		cgc_offset(s, k, es, Y);
		sbuf_printf(s, "), %" PRId64 ", t_%s + (", ldb, xn);
		cgc_offset(s, k, es, X);
		sbuf_printf(s, "), %" PRId64 ", %s, t_%s + (", lda, g->beta0 ? "0.0f" : "1.0f", cname);
		cgc_offset(s, k, es, C);
		sbuf_printf(s, "), %" PRId64, ldc);
		for (int i = 0; i < 2; i++)
			if (rf[i] == 0 || rf[i] == 1)
				rf[i] = 1 - rf[i];
	}
	if (rf[0] >= 0)
		/* Local indices: u - lo_u <= v - lo_v + (lo_v - lo_u + fc). */
		sbuf_printf(s, ", %d, %d, v_%s - v_%s + (%" PRId64 ")", rf[0], rf[1],
			    es->vars[g->fv].name, es->vars[g->fu].name, g->fc);
	sbuf_printf(s, ");\n");
	sbuf_indent(s, depth + loops);
	sbuf_printf(s, "}\n");
}

/* Does Einsum f touch a tensor that Einsum e writes, or write one that e
 * reads?  (Then they cannot run at the same time.) */
static int einsums_conflict(const ein_einsum *e, const ein_einsum *f)
{
	if (f->out.tensor == e->out.tensor)
		return 1;
	for (int i = 0; i < f->nreads; i++)
		if (f->reads[i].tensor == e->out.tensor)
			return 1;
	for (int i = 0; i < e->nreads; i++)
		if (e->reads[i].tensor == f->out.tensor)
			return 1;
	return 0;
}

/* Decoding one token, the weights of a matrix-vector product stream from
 * memory while the small groups between the products leave memory idle
 * (and each core reads only about half the machine's bandwidth).  When
 * group gi is one matrix-vector product and the groups after it neither
 * read its result nor write its operands, one thread runs those groups
 * while the others start on the matrix, and it joins them when done
 * (ml_sgemm_team).  Returns the end (exclusive) of the groups run beside
 * gi, or gi + 1 for none; *vlen: the product's output length, *elems: its
 * matrix's elements.  The groups
 * beside it must be small: at most half the matrix's elements in
 * statement instances, so that a large product is never run by one
 * thread. */
int cgc_team_end(cgc *k, const cg_glow *gls, int gi, int64_t *vlen, int64_t *elems)
{
	const ein_cascade *c = k->c;
	const cg_group *gr = &k->p->groups[gi];
	int e = -1, n = 0;
	*vlen = *elems = 0;
	for (int f = 0; f < c->neinsums; f++)
		if (gr->members[f]) {
			e = f;
			n++;
		}
	if (!k->o->openmp || n != 1 || gr->nband || !gls[gi].group_gemm || !k->gemm[e].ok ||
	    !k->gemm[e].beta0 || k->gemm[e].alpha != 1.0)
		return gi + 1;
	const ein_einsum *es = &c->einsums[e];
	const cg_gemm *g = &k->gemm[e];
	if (g->nloops != 0)
		return gi + 1;
	int64_t ext[3] = {1, 1, 1};
	const int *blocks[3] = {g->m, g->n, g->kk};
	int nb[3] = {g->nm, g->nn, g->nk};
	for (int q = 0; q < 3; q++)
		for (int i = 0; i < nb[q]; i++)
			ext[q] *= es->vars[blocks[q][i]].size;
	if (ext[0] != 1 && ext[1] != 1)
		return gi + 1;
	*vlen = ext[0] == 1 ? ext[1] : ext[0];
	*elems = *vlen * ext[2];
	/* Blocks of K of at least 16, and a product worth sharing. */
	if (ext[2] < 16 * CGC_TEAM_BLOCKS || *elems < 65536)
		return gi + 1;
	int64_t budget = *elems / 2, used = 0;
	int end = gi + 1;
	for (; end < k->p->ngroups; end++) {
		const cg_group *o = &k->p->groups[end];
		int free_of = 1;
		for (int f = 0; f < c->neinsums && free_of; f++)
			if (o->members[f] && einsums_conflict(es, &c->einsums[f]))
				free_of = 0;
		int64_t pts = k->l->groups[end].points;
		if (!free_of || pts > budget - used)
			break;
		used += pts;
	}
	return end;
}

/* Group gi's product with groups gi+1..end-1 beside it (cgc_team_end). */
void cgc_emit_team(cgc *k, const cg_glow *gls, int gi, int end, int64_t points)
{
	sbuf outer = k->out;
	if (end == gi + 2)
		sbuf_printf(&outer, "\n\t/* Group %d runs beside group %d's matrix-vector product: one\n"
				    "\t * thread takes it while the others start on the matrix. */\n",
			    gi + 2, gi + 1);
	else
		sbuf_printf(&outer, "\n\t/* Groups %d-%d run beside group %d's matrix-vector product: one\n"
				    "\t * thread takes them while the others start on the matrix. */\n",
			    gi + 2, end, gi + 1);
	sbuf_printf(&outer, "\t{\n\t\tlong team_next = 0;\n"
			    "#if defined(_OPENMP) && %" PRId64 " >= ML_PAR_MIN\n"
			    "\t\t#pragma omp parallel\n#endif\n\t\t{\n"
			    "#if defined(_OPENMP) && %" PRId64 " >= ML_PAR_MIN\n"
			    "\t\t\t#pragma omp single nowait\n#endif\n\t\t\t{",
		    points, points);
	/* Each part printed apart, then indented into place. */
	memset(&k->out, 0, sizeof(k->out));
	k->in_team = 1;
	for (int j = gi + 1; j < end; j++)
		cgc_emit_group(k, &gls[j], j, 1);
	k->in_team = 0;
	sbuf_indented(&outer, k->out.p, k->out.n, 3);
	sbuf_printf(&outer, "\t\t\t}\n");
	k->out.n = 0;
	k->team = 1;
	cgc_emit_group(k, &gls[gi], gi, 0);
	k->team = 0;
	sbuf_indented(&outer, k->out.p, k->out.n, 2);
	sbuf_printf(&outer, "\t\t}\n\t}\n");
	if (k->out.oom)
		outer.oom = 1;
	free(k->out.p);
	k->out = outer;
}
