/* lower_gemm.c - Einsums lowered to matrix products, and the shape of
 * each call over a tile (see lower_impl.h). */
#include "lower_impl.h"

#include <string.h>

/* Do the vars of `block` appear in a in this order (not necessarily
 * next to each other: the ones that are not become loops)? */
static int block_in(const ein_access *a, const int *block, int nb)
{
	for (int i = 0; i < nb; i++)
		if (ein_access_dim(a, block[i]) < 0 || (i && ein_access_dim(a, block[i]) <= ein_access_dim(a, block[i - 1])))
			return 0;
	return 1;
}

/* Is a's last dimension (stride 1 in its buffer) the last var of one of
 * the two blocks?  A matrix's rows must be contiguous. */
static int last_in(const ein_access *a, const int *b1, int n1, const int *b2, int n2)
{
	int last = a->nidx - 1;
	return (n1 && ein_access_dim(a, b1[n1 - 1]) == last) || (n2 && ein_access_dim(a, b2[n2 - 1]) == last);
}

/* The variable of dimension d of a plain access. */
static int var_at(const ein_einsum *es, const ein_access *a, int d)
{
	for (int q = 0; q < es->nvars; q++)
		if (a->idx[d].vc[q])
			return q;
	return -1;
}

/* The filter of es as u <= v + c (coefficients +1 and -1 on two
 * variables, parameters folded): returns 0, or -1 for another form. */
static int filter_form(const ein_cascade *c, const ein_einsum *es, cg_gemm *g)
{
	const ein_cond *f = &es->conds[0];
	if (es->nconds != 1 || f->eq)
		return -1;
	g->fu = g->fv = -1;
	for (int v = 0; v < es->nvars; v++) {
		if (f->aff.vc[v] == 1 && g->fv < 0)
			g->fv = v;
		else if (f->aff.vc[v] == -1 && g->fu < 0)
			g->fu = v;
		else if (f->aff.vc[v])
			return -1;
	}
	if (g->fu < 0 || g->fv < 0)
		return -1;
	g->fc = f->aff.c;
	for (int p = 0; p < c->nparams; p++)
		g->fc += f->aff.pc[p] * c->params[p].value;
	return 0;
}

cg_gemm cg_gemm_match(const ein_cascade *c, const ein_einsum *es, int masked)
{
	cg_gemm g = {0};
	int acc[2], nacc = 0;
	g.alpha = 1;
	g.fu = g.fv = -1;
	if (es->nconds && (!masked || filter_form(c, es, &g) < 0))
		return g;
	if (!es->rhs || es->reduce_op != EIN_OP_ADD || es->gen_var >= 0 ||
	    !ein_einsum_reduces(es) || ein_expr_product(c, es->rhs, acc, &nacc, &g.alpha) < 0 ||
	    nacc != 2 || acc[0] == acc[1])
		return g;
	g.x = acc[0];
	g.y = acc[1];
	const ein_access *X = &es->reads[g.x], *Y = &es->reads[g.y], *C = &es->out;
	if (!ein_access_plain(X) || !ein_access_plain(Y) || !ein_access_plain(C))
		return g;
	/* Blocks in the order the vars appear in C (M, N, batch) and in X (K). */
	for (int d = 0; d < C->nidx; d++) {
		int v = var_at(es, C, d);
		int inx = ein_access_dim(X, v) >= 0, iny = ein_access_dim(Y, v) >= 0;
		if (!inx && !iny)
			return g; /* a rank of the output alone */
		if (inx && iny)
			g.b[g.nb++] = v;
		else if (inx)
			g.m[g.nm++] = v;
		else
			g.n[g.nn++] = v;
	}
	for (int d = 0; d < X->nidx; d++) {
		int v = var_at(es, X, d);
		if (es->vars[v].reduced) {
			if (ein_access_dim(Y, v) < 0)
				return g;
			g.kk[g.nk++] = v;
		}
	}
	/* Every var used exactly once per tensor, and nothing else. */
	if (X->nidx != g.nm + g.nk + g.nb || Y->nidx != g.nn + g.nk + g.nb ||
	    C->nidx != g.nm + g.nn + g.nb)
		return g;
	int nred = 0;
	for (int v = 0; v < es->nvars; v++)
		nred += es->vars[v].reduced;
	if (nred != g.nk)
		return g;
	if (!block_in(C, g.m, g.nm) || !block_in(C, g.n, g.nn) || !block_in(C, g.b, g.nb) ||
	    !block_in(X, g.m, g.nm) || !block_in(X, g.kk, g.nk) || !block_in(X, g.b, g.nb) ||
	    !block_in(Y, g.n, g.nn) || !block_in(Y, g.kk, g.nk) || !block_in(Y, g.b, g.nb))
		return g;
	if (!last_in(X, g.m, g.nm, g.kk, g.nk) || !last_in(Y, g.n, g.nn, g.kk, g.nk) ||
	    !last_in(C, g.m, g.nm, g.n, g.nn))
		return g;
	g.ok = 1;
	return g;
}

/* The largest extent of rank r among the Einsums flagged in members that
 * have it (0 when none has). */
int64_t cg_members_extent(const deps_graph *g, const char *members, int r)
{
	int64_t ext = 0;
	for (int e = 0; e < g->c->neinsums; e++) {
		int v = members[e] ? g->var_of[e][r] : -1;
		if (v >= 0 && g->c->einsums[e].vars[v].size > ext)
			ext = g->c->einsums[e].vars[v].size;
	}
	return ext;
}

int cg_band_slot(const deps_graph *g, const cg_group *gr, int e, int v)
{
	for (int j = 0; j < gr->nband; j++)
		if (g->var_of[e][gr->band[j]] == v)
			return j;
	return -1;
}

/* Is variable v of member e of the current group fused (band member
 * *j_out)? */
static int var_is_band(const cg *k, int e, int v, int *j_out)
{
	int j = cg_band_slot(k->g, &k->p->groups[k->cur], e, v);
	if (j >= 0 && j_out)
		*j_out = j;
	return j >= 0;
}

/* How many trailing vars of a block can be collapsed into one matrix
 * dimension in tensor t's buffer: inner vars must cover their whole
 * (non-modular) buffer dimension; the outermost collapsed var may be a
 * partial tile, modular only if tiles never wrap around its buffer. */
static int collapsible(const cg *k, int e, const ein_access *a,
		       const int *block, int nb)
{
	const cg_buffer *b = &k->buf[a->tensor];
	const cg_group *gr = &k->p->groups[k->cur];
	int n = 0;
	for (int i = nb - 1; i >= 0; i--) {
		int v = block[i], d = ein_access_dim(a, v), j;
		/* Collapsed vars are neighbours in the buffer. */
		if (i < nb - 1 && d != ein_access_dim(a, block[i + 1]) - 1)
			break;
		int band = var_is_band(k, e, v, &j);
		int64_t size = k->c->einsums[e].vars[v].size;
		if (b->mod[d] && (!band || b->ext[d] % gr->tile[j] != 0))
			break;
		n++;
		int full = !b->mod[d] && (!band || gr->tile[j] >= size) && size == b->ext[d];
		if (!full)
			break; /* this one may be partial; nothing outside it */
	}
	return n;
}

static int64_t stride_of(const cg *k, const ein_access *a, int v)
{
	const cg_buffer *b = &k->buf[a->tensor];
	int d = ein_access_dim(a, v);
	int64_t s = 1;
	for (int q = b->ndims - 1; q > d; q--)
		s *= b->ext[q];
	return s;
}

/* A filter variable collapsed into a matrix dimension must be that
 * dimension's only variable (the masked call works on one index per
 * dimension): nc[q] shrinks to keep the others, and the variable itself
 * when it is not the block's last, as loops. */
static void filter_collapse(const cg_gemm *g, int nc[3])
{
	const int *blocks[3] = {g->m, g->n, g->kk};
	int nb[3] = {g->nm, g->nn, g->nk};
	for (int f = 0; f < 2 && g->fu >= 0; f++) {
		int w = f ? g->fv : g->fu;
		for (int q = 0; q < 3; q++)
			for (int i = 0; i < nb[q]; i++)
				if (blocks[q][i] == w) {
					int keep = i == nb[q] - 1 ? 1 : nb[q] - 1 - i;
					if (nc[q] > keep)
						nc[q] = keep;
				}
	}
}

/* The collapsed suffix of each block of member e's GEMM (M, N, K), valid
 * in both tensors holding it; returns how many vars stay explicit loops. */
static int gemm_collapsed(const cg *k, int e, int nc[3])
{
	const ein_einsum *es = &k->c->einsums[e];
	const cg_gemm *g = &k->gemm[e];
	const ein_access *X = &es->reads[g->x], *Y = &es->reads[g->y], *C = &es->out;
	int cm = collapsible(k, e, C, g->m, g->nm), cmx = collapsible(k, e, X, g->m, g->nm);
	int cn = collapsible(k, e, C, g->n, g->nn), cny = collapsible(k, e, Y, g->n, g->nn);
	int ck = collapsible(k, e, X, g->kk, g->nk), cky = collapsible(k, e, Y, g->kk, g->nk);
	nc[0] = cm < cmx ? cm : cmx;
	nc[1] = cn < cny ? cn : cny;
	nc[2] = ck < cky ? ck : cky;
	filter_collapse(g, nc);
	return g->nm - nc[0] + g->nn - nc[1] + g->nk - nc[2] + g->nb;
}

/* Decides, per member of group gi, whether it becomes a GEMM call. */
void cgl_plan_gemms(cg *k, int gi)
{
	const cg_group *gr = &k->p->groups[gi];
	k->cur = gi;
	for (int e = 0; e < k->c->neinsums; e++) {
		if (!gr->members[e])
			continue;
		k->gemm[e].ok = 0;
		if (!k->o->blas)
			continue;
		cg_gemm g = cg_gemm_match(k->c, &k->c->einsums[e], k->o->masked_gemm);
		if (!g.ok)
			continue;
		k->gemm[e] = g;
		/* Worth a call only when the blocks are not tiny. */
		const ein_einsum *es = &k->c->einsums[e];
		int64_t work = 1;
		for (int v = 0; v < es->nvars; v++)
			work *= es->vars[v].size;
		if (work < 4096)
			k->gemm[e].ok = 0;
		/* The whole K range in each call (no reduced rank cut into
		 * several tiles by the band, every reduced rank collapsed): C
		 * is written, not updated, and needs no zeroing first. */
		int kband = 0;
		for (int i = 0, j; i < g.nk; i++)
			kband |= var_is_band(k, e, g.kk[i], &j) &&
				 gr->tile[j] < es->vars[g.kk[i]].size;
		const ein_access *X = &es->reads[g.x], *Y = &es->reads[g.y];
		int nc[3] = {g.nm, g.nn, g.nk};
		filter_collapse(&g, nc);
		int cx = collapsible(k, e, X, g.kk, g.nk), cy = collapsible(k, e, Y, g.kk, g.nk);
		k->gemm[e].beta0 = !kband && cx == g.nk && cy == g.nk && nc[2] == g.nk;
	}
}

void cgl_gemm_layout(cg *k, int e)
{
	const ein_einsum *es = &k->c->einsums[e];
	cg_gemm *g = &k->gemm[e];
	const ein_access *X = &es->reads[g->x], *Y = &es->reads[g->y], *C = &es->out;
	k->cur = k->group_of[e];
	g->nloops = gemm_collapsed(k, e, g->ncol);
	/* Leading dimensions: the stride of the innermost var of a matrix's
	 * first block (an empty block has stride 1 and size 1). */
	int64_t lda = g->nm ? stride_of(k, X, g->m[g->nm - 1]) : 1;
	int64_t ldb = g->nk ? stride_of(k, Y, g->kk[g->nk - 1]) : 1;
	int64_t ldc = g->nm ? stride_of(k, C, g->m[g->nm - 1]) : 1;
	/* Row-major: X is [M, K] (NoTrans) or [K, M] (Trans): which block
	 * holds the last dimension (cg_gemm_match made sure one does). */
	int xt = g->nm && g->nk && ein_access_dim(X, g->m[g->nm - 1]) == X->nidx - 1;
	int yt = g->nn && g->nk && ein_access_dim(Y, g->kk[g->nk - 1]) == Y->nidx - 1;
	int ct = g->nm && g->nn && ein_access_dim(C, g->m[g->nm - 1]) == C->nidx - 1;
	if (xt)
		lda = g->nk ? stride_of(k, X, g->kk[g->nk - 1]) : 1;
	if (yt)
		ldb = g->nn ? stride_of(k, Y, g->n[g->nn - 1]) : 1;
	if (ct)
		ldc = g->nn ? stride_of(k, C, g->n[g->nn - 1]) : 1;
	if (!g->nm)
		lda = xt ? lda : (g->nk ? 1 : 1);
	g->xt = xt;
	g->yt = yt;
	g->ct = ct;
	g->ldx = lda;
	g->ldy = ldb;
	g->ldc = ldc;
}
