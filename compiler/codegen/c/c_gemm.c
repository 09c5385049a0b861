/* c_gemm.c - matrix products as calls: one per tile (ml_sgemm), or shared
 * by a team beside the groups that do not need it (ml_sgemm_team; see
 * cgc_impl.h). */
#include "cgc_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Range of var v of member e in the tile whose indices are the C
 * expressions tj_0.. (names "tile_j"): prints lo and hi into buffers. */
static void var_range(const cgc *k, int e, int v, char *lo, char *hi, size_t len)
{
	const cg_group *gr = &k->p->groups[k->cur];
	const ein_var *var = &k->c->einsums[e].vars[v];
	for (int j = 0; j < gr->nband; j++)
		if (k->g->var_of[e][gr->band[j]] == v) {
			snprintf(lo, len, "tile_%d * %" PRId64, j, gr->tile[j]);
			snprintf(hi, len, "min(tile_%d * %" PRId64 " + %" PRId64 ", %" PRId64 ")",
				 j, gr->tile[j], gr->tile[j] - 1, var->size - 1);
			return;
		}
	snprintf(lo, len, "0");
	snprintf(hi, len, "%" PRId64, var->size - 1);
}

/* Emits the GEMM of member e for one tile (tile indices tile_j). */
void cgc_emit_gemm(cgc *k, int e, int depth)
{
	const ein_einsum *es = &k->c->einsums[e];
	const cg_gemm *g = &k->gemm[e];
	const ein_access *X = &es->reads[g->x], *Y = &es->reads[g->y], *C = &es->out;
	sbuf *s = &k->out;
	const int *nc = g->ncol;
	char lo[160], hi[200];
	int loops = 0;
	/* Explicit loops over the vars not collapsed. */
	const int *blocks[3] = {g->m, g->n, g->kk};
	int nb[3] = {g->nm, g->nn, g->nk};
	for (int q = 0; q < 3; q++)
		for (int i = 0; i < nb[q] - nc[q]; i++) {
			int v = blocks[q][i];
			var_range(k, e, v, lo, hi, sizeof(lo));
			sbuf_indent(s, depth + loops);
			sbuf_printf(s, "for (long v_%s = %s; v_%s <= %s; v_%s++)\n",
				    es->vars[v].name, lo, es->vars[v].name, hi, es->vars[v].name);
			loops++;
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
			var_range(k, e, blocks[q][i], lo, hi, sizeof(lo));
			sbuf_printf(s, " * (%s - (%s) + 1)", hi, lo);
		}
		sbuf_printf(s, ";\n");
		for (int i = nb[q] - nc[q]; i < nb[q]; i++) {
			int v = blocks[q][i];
			var_range(k, e, v, lo, hi, sizeof(lo));
			sbuf_indent(s, d2);
			sbuf_printf(s, "const long v_%s = %s;\n", es->vars[v].name, lo);
		}
	}
	int xt = g->xt, yt = g->yt, ct = g->ct;
	int64_t lda = g->ldx, ldb = g->ldy, ldc = g->ldc;
	sbuf_indent(s, d2);
	const char *xn = k->c->tensors[X->tensor].name, *yn = k->c->tensors[Y->tensor].name,
		   *cname = k->c->tensors[C->tensor].name;
	if (k->team)
		sbuf_printf(s, "ml_sgemm_team(&team_next, (float *)(ws + %" PRId64 "), ",
			    k->ws_full + k->ws_tiles);
	else
		sbuf_printf(s, "ml_sgemm(");
	if (!ct) {
		sbuf_printf(s, "%d, %d, M, N, K, t_%s + (", xt, yt, xn);
		cgc_offset(s, k, es, X);
		sbuf_printf(s, "), %" PRId64 ", t_%s + (", lda, yn);
		cgc_offset(s, k, es, Y);
		sbuf_printf(s, "), %" PRId64 ", %s, t_%s + (", ldb, g->beta0 ? "0.0f" : "1.0f", cname);
		cgc_offset(s, k, es, C);
		sbuf_printf(s, "), %" PRId64 ");\n", ldc);
	} else {
		/* C^T = Y^T X^T. */
		sbuf_printf(s, "%d, %d, N, M, K, t_%s + (", !yt, !xt, yn);
		cgc_offset(s, k, es, Y);
		sbuf_printf(s, "), %" PRId64 ", t_%s + (", ldb, xn);
		cgc_offset(s, k, es, X);
		sbuf_printf(s, "), %" PRId64 ", %s, t_%s + (", lda, g->beta0 ? "0.0f" : "1.0f", cname);
		cgc_offset(s, k, es, C);
		sbuf_printf(s, "), %" PRId64 ");\n", ldc);
	}
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
	    !k->gemm[e].beta0)
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
