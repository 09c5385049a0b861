/* codegen.c - C kernels from a cascade and a fusion plan (see codegen.h). */
#include "codegen.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isl/aff.h>
#include <isl/ast.h>
#include <isl/ast_build.h>
#include <isl/flow.h>
#include <isl/id.h>
#include <isl/ilp.h>
#include <isl/local_space.h>
#include <isl/schedule.h>
#include <isl/schedule_node.h>
#include <isl/set.h>
#include <isl/space.h>
#include <isl/union_set.h>
#include <isl/val.h>

#include "fusion.h"
#include "poly.h"
#include "runtime_sources.h"

/* ------------------------------------------------------------- strings */

typedef struct sb {
	char *p;
	size_t n, cap;
	int oom;
} sb;

static void sb_vprintf(sb *s, const char *fmt, va_list ap)
{
	if (s->oom)
		return;
	va_list ap2;
	va_copy(ap2, ap);
	int need = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (need < 0) {
		s->oom = 1;
		return;
	}
	if (s->n + (size_t)need + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (s->n + (size_t)need + 1 > cap)
			cap *= 2;
		char *p = realloc(s->p, cap);
		if (!p) {
			s->oom = 1;
			return;
		}
		s->p = p;
		s->cap = cap;
	}
	vsnprintf(s->p + s->n, (size_t)need + 1, fmt, ap);
	s->n += (size_t)need;
}

static void __attribute__((format(printf, 2, 3))) sb_printf(sb *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(s, fmt, ap);
	va_end(ap);
}

static void sb_indent(sb *s, int depth)
{
	for (int i = 0; i < depth; i++)
		sb_printf(s, "\t");
}

/* Appends text (n bytes) with `depth` more tabs on each line that is not
 * empty or a preprocessor line. */
static void sb_indented(sb *s, const char *text, size_t n, int depth)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && text[j] != '\n')
			j++;
		if (j > i && text[i] != '#')
			sb_indent(s, depth);
		sb_printf(s, "%.*s%s", (int)(j - i), text + i, j < n ? "\n" : "");
		i = j + 1;
	}
}

/* ---------------------------------------------------------------- plans */

void cg_plan_clear(cg_plan *p)
{
	for (int i = 0; i < p->ngroups; i++)
		free(p->groups[i].members);
	free(p->groups);
	memset(p, 0, sizeof(*p));
}

int cg_plan_unfused(const deps_graph *g, cg_plan *p)
{
	int n = g->c->neinsums;
	memset(p, 0, sizeof(*p));
	p->groups = calloc((size_t)(n ? n : 1), sizeof(*p->groups));
	if (!p->groups)
		return -1;
	for (int e = 0; e < n; e++) {
		cg_group *gr = &p->groups[p->ngroups++];
		gr->members = calloc((size_t)n, 1);
		if (!gr->members) {
			cg_plan_clear(p);
			return -1;
		}
		gr->members[e] = 1;
	}
	return 0;
}

/* Orders the groups so that every dependence goes from an earlier group to
 * a later one (or stays inside one): repeatedly takes the first group, in
 * the current order, whose producers outside it have all been placed.  When
 * none can be placed the groups depend on each other in a cycle; the order
 * is left as it is and cg_emit reports the cycle. */
static int plan_order(const deps_graph *g, cg_plan *p)
{
	int n = g->c->neinsums, ng = p->ngroups;
	int *group_of = malloc((size_t)(n ? n : 1) * sizeof(int));
	char *placed = calloc((size_t)(ng ? ng : 1), 1);
	cg_group *sorted = malloc((size_t)(ng ? ng : 1) * sizeof(*sorted));
	if (!group_of || !placed || !sorted) {
		free(group_of);
		free(placed);
		free(sorted);
		return -1;
	}
	for (int i = 0; i < ng; i++)
		for (int e = 0; e < n; e++)
			if (p->groups[i].members[e])
				group_of[e] = i;
	int done = 0;
	while (done < ng) {
		int pick = -1;
		for (int i = 0; i < ng && pick < 0; i++) {
			if (placed[i])
				continue;
			int ready = 1;
			for (int k = 0; k < g->nedges && ready; k++) {
				const deps_edge *ed = &g->edges[k];
				int pg = group_of[ed->producer];
				if (group_of[ed->consumer] == i && pg != i && !placed[pg])
					ready = 0;
			}
			if (ready)
				pick = i;
		}
		if (pick < 0)
			break; /* a cycle: keep the rest in order */
		placed[pick] = 1;
		sorted[done++] = p->groups[pick];
	}
	for (int i = 0; i < ng; i++)
		if (!placed[i])
			sorted[done++] = p->groups[i];
	memcpy(p->groups, sorted, (size_t)ng * sizeof(*sorted));
	free(group_of);
	free(placed);
	free(sorted);
	return 0;
}

int cg_plan_set_group(const deps_graph *g, cg_plan *p, const char *members,
		      int nband, const int *band, const int64_t *tile)
{
	int n = g->c->neinsums;
	int first = -1;
	for (int e = 0; e < n && first < 0; e++)
		if (members[e])
			first = e;
	if (first < 0 || nband > CG_MAX_BAND)
		return -1;
	/* Take the members out of their groups; drop emptied groups. */
	int w = 0, at = -1;
	for (int i = 0; i < p->ngroups; i++) {
		cg_group *gr = &p->groups[i];
		int left = 0, had_first = gr->members[first];
		for (int e = 0; e < n; e++) {
			if (members[e])
				gr->members[e] = 0;
			left += gr->members[e] != 0;
		}
		if (had_first && at < 0)
			at = w;
		if (!left) {
			free(gr->members);
			continue;
		}
		p->groups[w++] = *gr;
	}
	p->ngroups = w;
	if (at < 0)
		at = w;
	cg_group ng = {0};
	ng.members = malloc((size_t)n);
	if (!ng.members)
		return -1;
	memcpy(ng.members, members, (size_t)n);
	ng.nband = nband;
	for (int k = 0; k < nband; k++) {
		ng.band[k] = band[k];
		ng.tile[k] = tile[k];
	}
	cg_group *v = realloc(p->groups, (size_t)(p->ngroups + 1) * sizeof(*v));
	if (!v) {
		free(ng.members);
		return -1;
	}
	p->groups = v;
	memmove(&v[at + 1], &v[at], (size_t)(p->ngroups - at) * sizeof(*v));
	v[at] = ng;
	p->ngroups++;
	return plan_order(g, p);
}

int cg_valid_name(const char *name)
{
	if (!name || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
		return 0;
	for (const char *q = name; *q; q++)
		if (!isalnum((unsigned char)*q) && *q != '_')
			return 0;
	return strlen(name) < 64;
}

/* ------------------------------------------------------------- buffers */

typedef cg_buffer buf_info;
#define BUF_USER CG_BUF_USER
#define BUF_FULL CG_BUF_FULL
#define BUF_TILE CG_BUF_TILE

typedef struct cg {
	const deps_graph *g;
	const ein_cascade *c;
	const cg_plan *p;
	const cg_options *o;
	isl_ctx *ctx;
	buf_info *buf;
	int *group_of;
	/* The group being emitted. */
	int cur;
	fusion_req req;
	fusion_result res;
	int par_member; /* band member whose loop is parallel, or -1 */
	int par_stmt;	/* unfused: parallelise the statement's first loop */
	int par_split;	/* ... which is its par_split-th dimension */
	int serial;	/* ignore the parallel marks of this group */
	int group_gemm; /* the group has GEMM members */
	int64_t ws_full;  /* workspace bytes of the full intermediates */
	int64_t ws_tiles; /* and of the largest serial group's tile buffers */
	int64_t ws_team;  /* and of the parts of a team's product */
	int team;	  /* emit the GEMM call as ml_sgemm_team */
	int in_team;	  /* emitting the groups beside a team's product */
	/* Strips (find_strips) of all groups, and per Einsum the strip run
	 * of its statement [0] and of its initialisation [1], or -1. */
	struct cg_strip *strips;
	int nstrips;
	int (*stmt_run)[2];
	/* Per Einsum: bit r set when its group runs rank r in parallel. */
	uint32_t *par_ranks;
	cg_gemm *gemm; /* per Einsum: lowered to a GEMM call */
	sb out;
	char *err;
	size_t errlen;
} cg;

static int64_t next_pow2(int64_t x)
{
	int64_t p = 1;
	while (p < x)
		p <<= 1;
	return p;
}

static fusion_req group_req(const cg *k, int gi)
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
static int carried_along(const cg *k, int gi, int t, int j)
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
	fusion_req req = group_req(k, gi);
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


static int plan_buffers(cg *k)
{
	const ein_cascade *c = k->c;
	k->buf = calloc((size_t)(c->ntensors ? c->ntensors : 1), sizeof(*k->buf));
	if (!k->buf)
		return -1;
	for (int t = 0; t < c->ntensors; t++) {
		const ein_tensor *tt = &c->tensors[t];
		buf_info *b = &k->buf[t];
		b->ndims = tt->ndims;
		b->group = -1;
		b->size = tt->nelems;
		for (int d = 0; d < tt->ndims; d++)
			b->ext[d] = tt->dims[d].size;
		if (tt->role != EIN_ROLE_TEMP) {
			b->kind = BUF_USER;
			continue;
		}
		b->kind = BUF_FULL;
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
		b->kind = BUF_TILE;
		b->group = gi;
		b->size = 1;
		for (int d = 0; d < tt->ndims; d++) {
			int j = dim_band_member(k, gi, t, d);
			int full = j < 0;
			for (int j0 = 0; j0 < j && !full; j0++)
				if (carried_along(k, gi, t, j0))
					full = 1;
			int64_t e = next_pow2(ext[d]);
			if (full || e >= tt->dims[d].size) {
				b->ext[d] = tt->dims[d].size;
				b->mod[d] = 0;
			} else {
				b->ext[d] = e;
				b->mod[d] = 1;
			}
			b->size *= b->ext[d];
		}
		(void)gr;
	}
	return 0;
}

/* ------------------------------------------------- C text of the IR */

static void aff_c(sb *s, const ein_cascade *c, const ein_einsum *es,
		  const ein_aff *a)
{
	int64_t cst = ein_aff_eval(c, a, NULL);
	int any = 0;
	for (int v = 0; v < es->nvars; v++) {
		int64_t co = a->vc[v];
		if (!co)
			continue;
		if (any)
			sb_printf(s, co < 0 ? " - " : " + ");
		else if (co < 0)
			sb_printf(s, "-");
		int64_t m = co < 0 ? -co : co;
		if (m != 1)
			sb_printf(s, "%" PRId64 " * ", m);
		sb_printf(s, "v_%s", es->vars[v].name);
		any = 1;
	}
	if (!any)
		sb_printf(s, "%" PRId64, cst);
	else if (cst)
		sb_printf(s, " %c %" PRId64, cst < 0 ? '-' : '+', cst < 0 ? -cst : cst);
}

/* Element offset of an access in its buffer. */
static void offset_c(sb *s, const cg *k, const ein_einsum *es,
		     const ein_access *a)
{
	const buf_info *b = &k->buf[a->tensor];
	if (a->nidx == 0) {
		sb_printf(s, "0");
		return;
	}
	int64_t stride = 1;
	int64_t strides[EIN_MAX_DIMS];
	for (int d = a->nidx - 1; d >= 0; d--) {
		strides[d] = stride;
		stride *= b->ext[d];
	}
	for (int d = 0; d < a->nidx; d++) {
		if (d)
			sb_printf(s, " + ");
		if (b->mod[d]) {
			sb_printf(s, "((");
			aff_c(s, k->c, es, &a->idx[d]);
			sb_printf(s, ") & %" PRId64 ")", b->ext[d] - 1);
		} else {
			sb_printf(s, "(");
			aff_c(s, k->c, es, &a->idx[d]);
			sb_printf(s, ")");
		}
		if (strides[d] != 1)
			sb_printf(s, " * %" PRId64, strides[d]);
	}
}

static void number_c(sb *s, double x)
{
	if (isinf(x)) {
		sb_printf(s, x > 0 ? "INFINITY" : "(-INFINITY)");
		return;
	}
	if (isnan(x)) {
		sb_printf(s, "NAN");
		return;
	}
	char buf[64];
	snprintf(buf, sizeof(buf), "%.9g", x);
	if (!strpbrk(buf, ".eEn"))
		strcat(buf, ".0");
	sb_printf(s, "%s%sf%s", x < 0 ? "(" : "", buf, x < 0 ? ")" : "");
}

static void expr_c(sb *s, const cg *k, const ein_einsum *es, const ein_expr *e)
{
	switch (e->kind) {
	case EIN_X_NUM:
		number_c(s, e->num);
		return;
	case EIN_X_PARAM:
		number_c(s, (double)k->c->params[e->id].value);
		return;
	case EIN_X_VAR:
		sb_printf(s, "(float)v_%s", es->vars[e->id].name);
		return;
	case EIN_X_ACCESS: {
		const ein_access *a = &es->reads[e->id];
		sb_printf(s, "t_%s[", k->c->tensors[a->tensor].name);
		offset_c(s, k, es, a);
		sb_printf(s, "]");
		return;
	}
	case EIN_X_UNARY:
		sb_printf(s, "ml_%s(", ein_fn_name((ein_fn)e->op));
		expr_c(s, k, es, e->a);
		sb_printf(s, ")");
		return;
	case EIN_X_BINARY:
		if (e->op == EIN_OP_MAX || e->op == EIN_OP_MIN) {
			sb_printf(s, "ml_%s(", e->op == EIN_OP_MAX ? "max" : "min");
			expr_c(s, k, es, e->a);
			sb_printf(s, ", ");
			expr_c(s, k, es, e->b);
			sb_printf(s, ")");
			return;
		}
		sb_printf(s, "(");
		expr_c(s, k, es, e->a);
		sb_printf(s, " %s ", ein_binop_name((ein_binop)e->op));
		expr_c(s, k, es, e->b);
		sb_printf(s, ")");
		return;
	}
}

/* ------------------------------------------------------ schedule trees */

static int has_reduction(const ein_einsum *es)
{
	for (int v = 0; v < es->nvars; v++)
		if (es->vars[v].reduced)
			return 1;
	return 0;
}

static int n_out_vars(const ein_einsum *es)
{
	int n = 0;
	for (int v = 0; v < es->nvars; v++)
		n += !es->vars[v].reduced;
	return n;
}


/* ---------------------------------------------------------------- GEMMs */

/* An Einsum C = sum_K X * Y whose operands and output are indexed by plain
 * rank variables in three blocks (M: output ranks of X, N: output ranks of
 * Y, K: the reduced ranks), each block contiguous and in the same order in
 * every tensor it appears in: a matrix product, called through BLAS. */
typedef cg_gemm gemm_info;

/* Position of var v among the dims of access a (plain vars), or -1. */
static int dim_of(const ein_access *a, int v)
{
	for (int d = 0; d < a->nidx; d++)
		if (a->idx[d].vc[v] == 1)
			return d;
	return -1;
}

static int plain_access(const ein_access *a)
{
	for (int d = 0; d < a->nidx; d++) {
		int nz = 0, one = -1;
		for (int v = 0; v < EIN_MAX_VARS; v++)
			if (a->idx[d].vc[v]) {
				nz++;
				one = a->idx[d].vc[v];
			}
		if (nz != 1 || one != 1 || a->idx[d].c)
			return 0;
		for (int p = 0; p < EIN_MAX_PARAMS; p++)
			if (a->idx[d].pc[p])
				return 0;
	}
	return 1;
}

/* Do the vars of `block` appear in a as consecutive dims, in this order? */
static int block_in(const ein_access *a, const int *block, int nb)
{
	if (nb == 0)
		return 1;
	int d0 = dim_of(a, block[0]);
	if (d0 < 0)
		return 0;
	for (int i = 1; i < nb; i++)
		if (dim_of(a, block[i]) != d0 + i)
			return 0;
	return 1;
}

static gemm_info gemm_match(const ein_einsum *es)
{
	gemm_info g = {0};
	const ein_expr *r = es->rhs;
	if (!r || r->kind != EIN_X_BINARY || r->op != EIN_OP_MUL ||
	    r->a->kind != EIN_X_ACCESS || r->b->kind != EIN_X_ACCESS ||
	    es->reduce_op != EIN_OP_ADD || es->nconds || es->gen_var >= 0 ||
	    !has_reduction(es))
		return g;
	g.x = r->a->id;
	g.y = r->b->id;
	const ein_access *X = &es->reads[g.x], *Y = &es->reads[g.y], *C = &es->out;
	if (!plain_access(X) || !plain_access(Y) || !plain_access(C))
		return g;
	/* Blocks in the order the vars appear in C (M, N) and in X (K). */
	for (int d = 0; d < C->nidx; d++) {
		int v = -1;
		for (int q = 0; q < es->nvars; q++)
			if (C->idx[d].vc[q])
				v = q;
		int inx = dim_of(X, v) >= 0, iny = dim_of(Y, v) >= 0;
		if (inx == iny)
			return g; /* a batch rank, or a rank of neither */
		if (inx)
			g.m[g.nm++] = v;
		else
			g.n[g.nn++] = v;
	}
	for (int d = 0; d < X->nidx; d++) {
		int v = -1;
		for (int q = 0; q < es->nvars; q++)
			if (X->idx[d].vc[q])
				v = q;
		if (es->vars[v].reduced) {
			if (dim_of(Y, v) < 0)
				return g;
			g.kk[g.nk++] = v;
		}
	}
	/* Every var used exactly once per tensor, and nothing else. */
	if (X->nidx != g.nm + g.nk || Y->nidx != g.nn + g.nk || C->nidx != g.nm + g.nn)
		return g;
	int nred = 0;
	for (int v = 0; v < es->nvars; v++)
		nred += es->vars[v].reduced;
	if (nred != g.nk)
		return g;
	if (!block_in(C, g.m, g.nm) || !block_in(C, g.n, g.nn) ||
	    !block_in(X, g.m, g.nm) || !block_in(X, g.kk, g.nk) ||
	    !block_in(Y, g.n, g.nn) || !block_in(Y, g.kk, g.nk))
		return g;
	g.ok = 1;
	return g;
}

/* The largest extent of rank r among the Einsums flagged in members that
 * have it (0 when none has). */
static int64_t members_extent(const deps_graph *g, const char *members, int r)
{
	int64_t ext = 0;
	for (int e = 0; e < g->c->neinsums; e++) {
		int v = members[e] ? g->var_of[e][r] : -1;
		if (v >= 0 && g->c->einsums[e].vars[v].size > ext)
			ext = g->c->einsums[e].vars[v].size;
	}
	return ext;
}

/* ------------------------------------------------------ CPU retiling */

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
			one = gr->tile[j] >= members_extent(g, gr->members, gr->band[j]);
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
	rc = plan_order(g, p);
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
 * extent, and every other fused rank with a tile below 128 gets 128 (or
 * its extent), each when fusion_check accepts the group at the new tiles. */
int cg_plan_retile_cpu(const deps_graph *g, cg_plan *p, char *err, size_t errlen)
{
	const ein_cascade *c = g->c;
	for (int gi = 0; gi < p->ngroups; gi++) {
		cg_group *gr = &p->groups[gi];
		int n = 0, last = -1;
		for (int e = 0; e < c->neinsums; e++)
			if (gr->members[e]) {
				n++;
				last = e;
			}
		if (n == 1 && gemm_match(&c->einsums[last]).ok) {
			gr->nband = 0;
			continue;
		}
		for (int j = 0; j < gr->nband; j++) {
			int64_t ext = members_extent(g, gr->members, gr->band[j]);
			int64_t want = ext < 128 ? ext : 128;
			/* A GEMM's reduction rank is not cut at all: BLAS blocks
			 * K itself, and a thin K makes a matrix-vector product
			 * (decoding one token) too short to share between
			 * threads. */
			for (int e = 0; e < c->neinsums; e++) {
				int v = gr->members[e] ? g->var_of[e][gr->band[j]] : -1;
				if (v >= 0 && c->einsums[e].vars[v].reduced &&
				    gemm_match(&c->einsums[e]).ok)
					want = ext;
			}
			if (gr->tile[j] >= want)
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
			int rc = fusion_check(g, &req, 0, &res, err, errlen);
			int legal = rc == 0 && res.legal;
			fusion_result_clear(&res);
			if (rc == -1)
				return -1;
			if (legal)
				gr->tile[j] = want;
		}
	}
	if (split_one_tile_groups(g, p) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* Range of var v of member e in the tile whose indices are the C
 * expressions tj_0.. (names "tile_j"): prints lo and hi into buffers. */
static void var_range(const cg *k, int e, int v, char *lo, char *hi, size_t len)
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

static int var_is_band(const cg *k, int e, int v, int *j_out)
{
	const cg_group *gr = &k->p->groups[k->cur];
	for (int j = 0; j < gr->nband; j++)
		if (k->g->var_of[e][gr->band[j]] == v) {
			if (j_out)
				*j_out = j;
			return 1;
		}
	return 0;
}

/* How many trailing vars of a block can be collapsed into one matrix
 * dimension in tensor t's buffer: inner vars must cover their whole
 * (non-modular) buffer dimension; the outermost collapsed var may be a
 * partial tile, modular only if tiles never wrap around its buffer. */
static int collapsible(const cg *k, int e, const ein_access *a,
		       const int *block, int nb)
{
	const buf_info *b = &k->buf[a->tensor];
	const cg_group *gr = &k->p->groups[k->cur];
	int n = 0;
	for (int i = nb - 1; i >= 0; i--) {
		int v = block[i], d = dim_of(a, v), j;
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
	const buf_info *b = &k->buf[a->tensor];
	int d = dim_of(a, v);
	int64_t s = 1;
	for (int q = b->ndims - 1; q > d; q--)
		s *= b->ext[q];
	return s;
}

/* The collapsed suffix of each block of member e's GEMM (M, N, K), valid
 * in both tensors holding it; returns how many vars stay explicit loops. */
static int gemm_collapsed(const cg *k, int e, int nc[3])
{
	const ein_einsum *es = &k->c->einsums[e];
	const gemm_info *g = &k->gemm[e];
	const ein_access *X = &es->reads[g->x], *Y = &es->reads[g->y], *C = &es->out;
	int cm = collapsible(k, e, C, g->m, g->nm), cmx = collapsible(k, e, X, g->m, g->nm);
	int cn = collapsible(k, e, C, g->n, g->nn), cny = collapsible(k, e, Y, g->n, g->nn);
	int ck = collapsible(k, e, X, g->kk, g->nk), cky = collapsible(k, e, Y, g->kk, g->nk);
	nc[0] = cm < cmx ? cm : cmx;
	nc[1] = cn < cny ? cn : cny;
	nc[2] = ck < cky ? ck : cky;
	return g->nm - nc[0] + g->nn - nc[1] + g->nk - nc[2];
}

/* Emits the GEMM of member e for one tile (tile indices tile_j). */
static void emit_gemm(cg *k, int e, int depth)
{
	const ein_einsum *es = &k->c->einsums[e];
	const gemm_info *g = &k->gemm[e];
	const ein_access *X = &es->reads[g->x], *Y = &es->reads[g->y], *C = &es->out;
	sb *s = &k->out;
	int nc[3];
	gemm_collapsed(k, e, nc);
	char lo[160], hi[200];
	int loops = 0;
	/* Explicit loops over the vars not collapsed. */
	const int *blocks[3] = {g->m, g->n, g->kk};
	int nb[3] = {g->nm, g->nn, g->nk};
	for (int q = 0; q < 3; q++)
		for (int i = 0; i < nb[q] - nc[q]; i++) {
			int v = blocks[q][i];
			var_range(k, e, v, lo, hi, sizeof(lo));
			sb_indent(s, depth + loops);
			sb_printf(s, "for (long v_%s = %s; v_%s <= %s; v_%s++)\n",
				  es->vars[v].name, lo, es->vars[v].name, hi, es->vars[v].name);
			loops++;
		}
	sb_indent(s, depth + loops);
	sb_printf(s, "{\n");
	int d2 = depth + loops + 1;
	/* Start of each collapsed block, and the sizes. */
	const char *dimname[3] = {"M", "N", "K"};
	for (int q = 0; q < 3; q++) {
		sb_indent(s, d2);
		sb_printf(s, "long %s = 1", dimname[q]);
		for (int i = nb[q] - nc[q]; i < nb[q]; i++) {
			var_range(k, e, blocks[q][i], lo, hi, sizeof(lo));
			sb_printf(s, " * (%s - (%s) + 1)", hi, lo);
		}
		sb_printf(s, ";\n");
		for (int i = nb[q] - nc[q]; i < nb[q]; i++) {
			int v = blocks[q][i];
			var_range(k, e, v, lo, hi, sizeof(lo));
			sb_indent(s, d2);
			sb_printf(s, "const long v_%s = %s;\n", es->vars[v].name, lo);
		}
	}
	/* Leading dimensions: the stride of the innermost var of a matrix's
	 * first block (an empty block has stride 1 and size 1). */
	int64_t lda = g->nm ? stride_of(k, X, g->m[g->nm - 1]) : 1;
	int64_t ldb = g->nk ? stride_of(k, Y, g->kk[g->nk - 1]) : 1;
	int64_t ldc = g->nm ? stride_of(k, C, g->m[g->nm - 1]) : 1;
	/* Row-major: X is [M, K] (NoTrans) or [K, M] (Trans). */
	int xt = g->nm && g->nk && dim_of(X, g->kk[0]) < dim_of(X, g->m[0]);
	int yt = g->nn && g->nk && dim_of(Y, g->n[0]) < dim_of(Y, g->kk[0]);
	int ct = g->nm && g->nn && dim_of(C, g->n[0]) < dim_of(C, g->m[0]);
	if (xt)
		lda = g->nk ? stride_of(k, X, g->kk[g->nk - 1]) : 1;
	if (yt)
		ldb = g->nn ? stride_of(k, Y, g->n[g->nn - 1]) : 1;
	if (ct)
		ldc = g->nn ? stride_of(k, C, g->n[g->nn - 1]) : 1;
	if (!g->nm)
		lda = xt ? lda : (g->nk ? 1 : 1);
	sb_indent(s, d2);
	const char *xn = k->c->tensors[X->tensor].name, *yn = k->c->tensors[Y->tensor].name,
		   *cname = k->c->tensors[C->tensor].name;
	if (k->team)
		sb_printf(s, "ml_sgemm_team(&team_next, (float *)(ws + %" PRId64 "), ",
			  k->ws_full + k->ws_tiles);
	else
		sb_printf(s, "ml_sgemm(");
	if (!ct) {
		sb_printf(s, "%d, %d, M, N, K, t_%s + (", xt, yt, xn);
		offset_c(s, k, es, X);
		sb_printf(s, "), %" PRId64 ", t_%s + (", lda, yn);
		offset_c(s, k, es, Y);
		sb_printf(s, "), %" PRId64 ", %s, t_%s + (", ldb, g->beta0 ? "0.0f" : "1.0f", cname);
		offset_c(s, k, es, C);
		sb_printf(s, "), %" PRId64 ");\n", ldc);
	} else {
		/* C^T = Y^T X^T. */
		sb_printf(s, "%d, %d, N, M, K, t_%s + (", !yt, !xt, yn);
		offset_c(s, k, es, Y);
		sb_printf(s, "), %" PRId64 ", t_%s + (", ldb, xn);
		offset_c(s, k, es, X);
		sb_printf(s, "), %" PRId64 ", %s, t_%s + (", lda, g->beta0 ? "0.0f" : "1.0f", cname);
		offset_c(s, k, es, C);
		sb_printf(s, "), %" PRId64 ");\n", ldc);
	}
	sb_indent(s, depth + loops);
	sb_printf(s, "}\n");
}

/* Decides, per member of group gi, whether it becomes a GEMM call. */
static void plan_gemms(cg *k, int gi)
{
	const cg_group *gr = &k->p->groups[gi];
	k->cur = gi;
	for (int e = 0; e < k->c->neinsums; e++) {
		if (!gr->members[e])
			continue;
		k->gemm[e].ok = 0;
		if (!k->o->blas)
			continue;
		gemm_info g = gemm_match(&k->c->einsums[e]);
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
		/* The whole K range in each call (no reduced rank in the band,
		 * every reduced rank collapsed): C is written, not updated. */
		int kband = 0;
		for (int i = 0; i < g.nk; i++)
			kband |= var_is_band(k, e, g.kk[i], NULL);
		const ein_access *X = &es->reads[g.x], *Y = &es->reads[g.y];
		int cx = collapsible(k, e, X, g.kk, g.nk), cy = collapsible(k, e, Y, g.kk, g.nk);
		k->gemm[e].beta0 = !kband && cx == g.nk && cy == g.nk;
	}
}

/* The domain of statement S<e> (init: Z<e>, the output points of a
 * reduction), without parameters. */
static __isl_give isl_set *stmt_domain(cg *k, int e, int init)
{
	const ein_einsum *es = &k->c->einsums[e];
	isl_set *d = poly_domain(k->ctx, k->c, e, 1);
	d = isl_set_project_out(d, isl_dim_param, 0,
				(unsigned)isl_set_dim(d, isl_dim_param));
	if (init == 2) {
		/* G<e>: one instance per tile (the tile indices). */
		const cg_group *gr = &k->p->groups[k->cur];
		isl_space *sp = isl_set_get_space(d);
		isl_space *rsp = isl_space_set_alloc(k->ctx, 0, (unsigned)gr->nband);
		char name[32];
		snprintf(name, sizeof(name), "G%d", e);
		rsp = isl_space_set_tuple_name(rsp, isl_dim_set, name);
		isl_local_space *ls = isl_local_space_from_space(isl_space_copy(sp));
		isl_aff_list *l = isl_aff_list_alloc(k->ctx, gr->nband);
		for (int j = 0; j < gr->nband; j++) {
			int v = k->g->var_of[e][gr->band[j]];
			isl_aff *a = isl_aff_var_on_domain(isl_local_space_copy(ls),
							   isl_dim_set, (unsigned)v);
			a = isl_aff_floor(isl_aff_scale_down_ui(a, (unsigned)gr->tile[j]));
			l = isl_aff_list_add(l, a);
		}
		isl_local_space_free(ls);
		isl_multi_aff *ma = isl_multi_aff_from_aff_list(
			isl_space_map_from_domain_and_range(sp, rsp), l);
		return isl_set_apply(d, isl_map_from_multi_aff(ma));
	}
	if (init) {
		int no = n_out_vars(es);
		d = isl_set_project_out(d, isl_dim_set, (unsigned)no,
					(unsigned)(es->nvars - no));
		char name[32];
		snprintf(name, sizeof(name), "Z%d", e);
		d = isl_set_set_tuple_name(d, name);
	}
	return d;
}

/* floor(x_v / t) on the space of set dom (or 0 when v < 0). */
static __isl_give isl_union_pw_aff *tile_upa(__isl_keep isl_set *dom, int v,
					     int64_t t)
{
	isl_local_space *ls = isl_local_space_from_space(isl_set_get_space(dom));
	isl_aff *a;
	if (v < 0) {
		a = isl_aff_zero_on_domain(ls);
	} else {
		a = isl_aff_var_on_domain(ls, isl_dim_set, (unsigned)v);
		a = isl_aff_scale_down_ui(a, (unsigned)t);
		a = isl_aff_floor(a);
	}
	isl_pw_aff *pa = isl_pw_aff_intersect_domain(isl_pw_aff_from_aff(a),
						     isl_set_copy(dom));
	return isl_union_pw_aff_from_pw_aff(pa);
}

/* The identity schedule of a statement: its dimensions in program order
 * (generational rank first). */
static __isl_give isl_multi_union_pw_aff *own_band(__isl_keep isl_set *dom,
						   int gen)
{
	isl_size n = isl_set_dim(dom, isl_dim_set);
	isl_space *sp = isl_set_get_space(dom);
	isl_space *rsp = isl_space_set_alloc(isl_set_get_ctx(dom), 0, (unsigned)n);
	isl_space *msp = isl_space_map_from_domain_and_range(isl_space_copy(sp), rsp);
	isl_local_space *ls = isl_local_space_from_space(sp);
	isl_aff_list *l = isl_aff_list_alloc(isl_set_get_ctx(dom), n);
	int order[EIN_MAX_VARS], no = 0;
	if (gen >= 0 && gen < n)
		order[no++] = gen;
	for (int v = 0; v < n; v++)
		if (v != gen)
			order[no++] = v;
	for (int j = 0; j < n; j++)
		l = isl_aff_list_add(l, isl_aff_var_on_domain(isl_local_space_copy(ls),
							     isl_dim_set, (unsigned)order[j]));
	isl_local_space_free(ls);
	isl_multi_aff *ma = isl_multi_aff_from_aff_list(msp, l);
	isl_pw_multi_aff *pma = isl_pw_multi_aff_intersect_domain(
		isl_pw_multi_aff_from_multi_aff(ma), isl_set_copy(dom));
	return isl_multi_union_pw_aff_from_union_pw_multi_aff(
		isl_union_pw_multi_aff_from_pw_multi_aff(pma));
}

/* A run of statements [first, last) of a group strip-mined along a rank:
 * one band of strips of `size` along `rank` above the run's statements. */
typedef struct cg_strip {
	int first, last;
	int anchor; /* global_schedule: position of its first statement */
	int rank;
	int64_t size;
	int npoint; /* further ranks, one point at a time, inside a strip */
	int point[CG_MAX_BAND];
} cg_strip;

/* The points statements first..last-1 of group gi run (stmt_init 1: an
 * initialisation, over the output ranks only), within one tile of the
 * group's band when per_tile.  The generated code runs a parallel region
 * on one thread when this is below ML_PAR_MIN: decoding one token has
 * regions of a few thousand points, for which starting the team costs
 * more than the work. */
static int64_t stmt_points(const cg *k, int gi, const int *stmt_e, const int *stmt_init,
			   int first, int last, int per_tile)
{
	const cg_group *gr = &k->p->groups[gi];
	double pts = 0;
	for (int i = first; i < last; i++) {
		const ein_einsum *es = &k->c->einsums[stmt_e[i]];
		double n = 1;
		for (int v = 0; v < es->nvars; v++) {
			int64_t size = es->vars[v].size;
			if (stmt_init[i] == 1 && es->vars[v].reduced)
				continue;
			for (int j = 0; per_tile && j < gr->nband; j++)
				if (k->g->var_of[stmt_e[i]][gr->band[j]] == v && gr->tile[j] < size)
					size = gr->tile[j];
			n *= (double)size;
		}
		pts += n;
	}
	return pts >= 9e18 ? INT64_MAX : (int64_t)pts;
}

/* Extent of rank r inside one tile of group gi (the tile when r is fused,
 * else the largest extent among the members). */
static int64_t rank_extent(const cg *k, int gi, const char *members, int r)
{
	const cg_group *gr = &k->p->groups[gi];
	int64_t ext = members_extent(k->g, members, r);
	for (int j = 0; j < gr->nband; j++)
		if (gr->band[j] == r && gr->tile[j] < ext)
			ext = gr->tile[j];
	return ext;
}

/* The ranks Einsum e could be strip-mined along in group gi: output ranks,
 * not generational, of extent 2 or more in a tile (one bit per rank).
 * members is scratch space of c->neinsums bytes. */
static uint64_t strip_ranks(const cg *k, int gi, int e, char *members)
{
	const ein_einsum *es = &k->c->einsums[e];
	uint64_t m = 0;
	memset(members, 0, (size_t)k->c->neinsums);
	members[e] = 1;
	for (int r = 0; r < k->g->nranks && r < 64; r++) {
		int v = k->g->var_of[e][r];
		if (v >= 0 && !es->vars[v].reduced && v != es->gen_var &&
		    rank_extent(k, gi, members, r) >= 2)
			m |= (uint64_t)1 << r;
	}
	return m;
}

/* The strips of group gi (CPU back end with OpenMP, tile loops run
 * serially): each maximal run of members that are not matrix products and
 * that share a rank to strip along (strip_ranks) is cut into strips along
 * the longest rank that every statement of the run has as an output rank,
 * that no member carries as its generational rank, and along which
 * fusion_check finds the run legal and parallel.  The strips then run in
 * parallel, and each strip's intermediates stay in cache.  Returns the number of strips written to out. */
static int find_strips(cg *k, int gi, const int *stmt_e, const int *stmt_init,
		       int ns, cg_strip *out, int max)
{
	const ein_cascade *c = k->c;
	const deps_graph *g = k->g;
	int nout = 0;
	if (!k->o->openmp || k->par_member >= 0 || k->p->groups[gi].nband == 0)
		return 0;
	char *members = calloc((size_t)c->neinsums, 1);
	if (!members)
		return 0;
	for (int a = 0; a < ns && nout < max;) {
		if (stmt_init[a] == 2) {
			a++;
			continue;
		}
		/* The run: from a, the statements (no GEMM) that still share
		 * a rank they could be strip-mined along.  A statement with
		 * none of the run's ranks (zeroing an output that the next
		 * GEMM accumulates into, say) starts a run of its own. */
		uint64_t shared = ~(uint64_t)0;
		int b = a;
		while (b < ns && stmt_init[b] != 2) {
			uint64_t m = strip_ranks(k, gi, stmt_e[b], members);
			if (!(m & shared))
				break;
			shared &= m;
			b++;
		}
		if (b == a) {
			a++;
			continue;
		}
		memset(members, 0, (size_t)c->neinsums);
		for (int i = a; i < b; i++)
			members[stmt_e[i]] = 1;
		/* Candidate ranks, longest first. */
		int cand[DEPS_MAX_RANKS], nc = 0;
		int64_t cext[DEPS_MAX_RANKS];
		for (int r = 0; r < g->nranks; r++) {
			int ok = 1;
			for (int i = a; i < b && ok; i++) {
				const ein_einsum *es = &c->einsums[stmt_e[i]];
				int v = g->var_of[stmt_e[i]][r];
				ok = v >= 0 && !es->vars[v].reduced && v != es->gen_var;
			}
			int64_t ext = ok ? rank_extent(k, gi, members, r) : 0;
			if (ext < 2)
				continue;
			int at = nc++;
			while (at > 0 && cext[at - 1] < ext) {
				cand[at] = cand[at - 1];
				cext[at] = cext[at - 1];
				at--;
			}
			cand[at] = r;
			cext[at] = ext;
		}
		for (int q = 0; q < nc; q++) {
			fusion_req req = {0};
			fusion_result res = {0};
			req.members = members;
			req.nband = 1;
			req.band[0] = cand[q];
			req.tile[0] = cext[q] >= 128 ? 64 : (cext[q] + 1) / 2;
			req.want_parallel = 1;
			char err[256];
			int rc = fusion_check(g, &req, 0, &res, err, sizeof(err));
			int ok = rc == 0 && res.legal && (res.parallel & 1);
			fusion_result_clear(&res);
			if (!ok)
				continue;
			cg_strip *st = &out[nout++];
			st->first = a;
			st->last = b;
			st->rank = cand[q];
			st->size = req.tile[0];
			st->npoint = 0;
			/* Inside a strip, the statements go one point at a time
			 * along the other shared ranks (generational ones too)
			 * when that is legal: a point's intermediates then stay
			 * in the first-level cache. */
			for (int r = 0; r < g->nranks && req.nband < CG_MAX_BAND; r++) {
				int shared = r != cand[q];
				for (int i = a; i < b && shared; i++) {
					const ein_einsum *es = &c->einsums[stmt_e[i]];
					int v = g->var_of[stmt_e[i]][r];
					shared = v >= 0 && !es->vars[v].reduced;
				}
				if (!shared || rank_extent(k, gi, members, r) < 2)
					continue;
				req.band[req.nband] = r;
				req.tile[req.nband++] = 1;
				rc = fusion_check(g, &req, 0, &res, err, sizeof(err));
				ok = rc == 0 && res.legal && (res.parallel & 1);
				fusion_result_clear(&res);
				if (ok)
					st->point[st->npoint++] = r;
				else
					req.nband--;
			}
			break;
		}
		a = b;
	}
	free(members);
	return nout;
}

/* A tile buffer of group gi touched only inside one strip run, where every
 * access indexes dimension q by exactly the variable of one of the run's
 * point ranks, holds only the current point's elements along q: each value
 * is written and read at the same point.  Such a dimension is stored with
 * one slot (modulo 1), so that the intermediates of a scan step (AD, BX)
 * take a few kilobytes instead of a tile's megabytes. */
static void contract_points(cg *k, int gi, const cg_strip *strips, int nstrips,
			    const int *stmt_e, int ns)
{
	const ein_cascade *c = k->c;
	for (int t = 0; t < c->ntensors; t++) {
		buf_info *b = &k->buf[t];
		if (b->kind != BUF_TILE || b->group != gi)
			continue;
		int run = -1, ok = 1;
		for (int i = 0; i < ns && ok; i++) {
			const ein_einsum *es = &c->einsums[stmt_e[i]];
			int touches = es->out.tensor == t;
			for (int r = 0; r < es->nreads; r++)
				touches |= es->reads[r].tensor == t;
			if (!touches)
				continue;
			int in = -1;
			for (int q = 0; q < nstrips; q++)
				if (i >= strips[q].first && i < strips[q].last)
					in = q;
			ok = in >= 0 && (run < 0 || run == in);
			run = in;
		}
		if (!ok || run < 0)
			continue;
		const cg_strip *st = &strips[run];
		for (int q = 0; q < b->ndims; q++) {
			int rank = -1, pure = 1;
			for (int i = st->first; i < st->last && pure; i++) {
				const ein_einsum *es = &c->einsums[stmt_e[i]];
				for (int r = -1; r < es->nreads && pure; r++) {
					const ein_access *a = r < 0 ? &es->out : &es->reads[r];
					if (a->tensor != t)
						continue;
					/* idx[q] must be one variable, coefficient 1. */
					const ein_aff *x = &a->idx[q];
					int v = -1, n = 0;
					for (int w = 0; w < es->nvars; w++)
						if (x->vc[w]) {
							v = w;
							n++;
						}
					for (int p = 0; p < c->nparams; p++)
						pure &= x->pc[p] == 0;
					pure &= n == 1 && x->vc[v] == 1 && x->c == 0;
					int rk = -1;
					for (int j = 0; j < st->npoint && pure; j++)
						if (k->g->var_of[stmt_e[i]][st->point[j]] == v)
							rk = st->point[j];
					pure &= rk >= 0 && (rank < 0 || rank == rk);
					rank = rk;
				}
			}
			if (!pure || rank < 0)
				continue;
			b->mod[q] = 1;
			b->ext[q] = 1;
		}
		b->size = 1;
		for (int q = 0; q < b->ndims; q++)
			b->size *= b->ext[q];
	}
}

/* Builds the schedule tree of group gi and generates its AST. */
static __isl_give isl_ast_node *group_ast(cg *k, int gi)
{
	const ein_cascade *c = k->c;
	const cg_group *gr = &k->p->groups[gi];
	isl_ctx *ctx = k->ctx;
	int n = c->neinsums;
	/* Statements in order: for each member, its init (if it reduces)
	 * then itself. */
	isl_set *doms[2 * 64 + 2];
	int stmt_e[2 * 64 + 2], stmt_init[2 * 64 + 2], ns = 0;
	for (int e = 0; e < n; e++) {
		if (!gr->members[e])
			continue;
		if (ns + 2 > (int)(sizeof(doms) / sizeof(doms[0]))) {
			for (int i = 0; i < ns; i++)
				isl_set_free(doms[i]);
			snprintf(k->err, k->errlen, "a group of more than 64 Einsums");
			return NULL;
		}
		if (has_reduction(&c->einsums[e]) && !(k->gemm[e].ok && k->gemm[e].beta0)) {
			stmt_e[ns] = e;
			stmt_init[ns] = 1;
			doms[ns++] = stmt_domain(k, e, 1);
		}
		stmt_e[ns] = e;
		stmt_init[ns] = k->gemm[e].ok ? 2 : 0;
		doms[ns] = stmt_domain(k, e, stmt_init[ns]);
		ns++;
	}
	cg_strip strips[2 * 64 + 2];
	int nstrips = find_strips(k, gi, stmt_e, stmt_init, ns, strips, 2 * 64 + 2);
	contract_points(k, gi, strips, nstrips, stmt_e, ns);
	if (nstrips) {
		cg_strip *all_st = realloc(k->strips, (size_t)(k->nstrips + nstrips) * sizeof(*all_st));
		if (!all_st) {
			for (int i = 0; i < ns; i++)
				isl_set_free(doms[i]);
			snprintf(k->err, k->errlen, "out of memory");
			return NULL;
		}
		k->strips = all_st;
		for (int q = 0; q < nstrips; q++) {
			for (int i = strips[q].first; i < strips[q].last; i++) {
				k->stmt_run[stmt_e[i]][stmt_init[i] == 1] = k->nstrips;
				k->par_ranks[stmt_e[i]] |= 1u << strips[q].rank;
			}
			k->strips[k->nstrips++] = strips[q];
		}
	}
	/* Children of the group's sequence: a statement, or a strip-mined run
	 * of statements (strip_of >= 0). */
	int child_first[2 * 64 + 2], child_strip[2 * 64 + 2], nchild = 0;
	isl_union_set *all = isl_union_set_empty(isl_space_params_alloc(ctx, 0));
	isl_union_set_list *filters = isl_union_set_list_alloc(ctx, ns);
	for (int i = 0, q = 0; i < ns;) {
		child_first[nchild] = i;
		child_strip[nchild] = q < nstrips && strips[q].first == i ? q : -1;
		int end = child_strip[nchild] >= 0 ? strips[q++].last : i + 1;
		isl_union_set *f = isl_union_set_empty(isl_space_params_alloc(ctx, 0));
		for (; i < end; i++)
			f = isl_union_set_add_set(f, isl_set_copy(doms[i]));
		all = isl_union_set_union(all, isl_union_set_copy(f));
		filters = isl_union_set_list_add(filters, f);
		nchild++;
	}
	isl_schedule *s = isl_schedule_from_domain(all);
	isl_schedule_node *node = isl_schedule_get_root(s);
	isl_schedule_free(s);
	node = isl_schedule_node_child(node, 0);
	node = isl_schedule_node_insert_sequence(node, filters);
	for (int ci = 0; ci < nchild; ci++) {
		if (child_strip[ci] < 0)
			continue;
		const cg_strip *st = &strips[child_strip[ci]];
		isl_union_set_list *sub = isl_union_set_list_alloc(ctx, st->last - st->first);
		isl_union_pw_aff *upa = NULL;
		for (int i = st->first; i < st->last; i++) {
			sub = isl_union_set_list_add(sub, isl_union_set_from_set(isl_set_copy(doms[i])));
			isl_union_pw_aff *u = tile_upa(doms[i], k->g->var_of[stmt_e[i]][st->rank],
						       st->size);
			upa = upa ? isl_union_pw_aff_union_add(upa, u) : u;
		}
		node = isl_schedule_node_child(isl_schedule_node_child(node, ci), 0);
		node = isl_schedule_node_insert_sequence(node, sub);
		for (int i = st->first; i < st->last; i++) {
			const ein_einsum *es = &c->einsums[stmt_e[i]];
			int gen = stmt_init[i] ? (es->gen_var < n_out_vars(es) ? es->gen_var : -1)
					       : es->gen_var;
			node = isl_schedule_node_child(isl_schedule_node_child(node, i - st->first), 0);
			node = isl_schedule_node_insert_partial_schedule(node, own_band(doms[i], gen));
			node = isl_schedule_node_parent(isl_schedule_node_parent(node));
		}
		for (int j = st->npoint - 1; j >= 0; j--) {
			isl_union_pw_aff *pu = NULL;
			for (int i = st->first; i < st->last; i++) {
				isl_union_pw_aff *u = tile_upa(
					doms[i], k->g->var_of[stmt_e[i]][st->point[j]], 1);
				pu = pu ? isl_union_pw_aff_union_add(pu, u) : u;
			}
			node = isl_schedule_node_insert_partial_schedule(
				node, isl_multi_union_pw_aff_from_union_pw_aff(pu));
		}
		/* The strips' loop runs in parallel: its body is the mark,
		 * whose name carries the points of one tile's strips. */
		char pname[48];
		snprintf(pname, sizeof(pname), "pfor %" PRId64,
			 stmt_points(k, gi, stmt_e, stmt_init, st->first, st->last, 1));
		node = isl_schedule_node_insert_mark(node, isl_id_alloc(ctx, pname, NULL));
		node = isl_schedule_node_insert_partial_schedule(
			node, isl_multi_union_pw_aff_from_union_pw_aff(upa));
		node = isl_schedule_node_parent(isl_schedule_node_parent(node));
	}
	for (int ci = 0; ci < nchild; ci++) {
		int i = child_first[ci];
		const ein_einsum *es = &c->einsums[stmt_e[i]];
		int gen = stmt_init[i] ? (es->gen_var < n_out_vars(es) ? es->gen_var : -1)
				       : es->gen_var;
		if (child_strip[ci] >= 0 || isl_set_dim(doms[i], isl_dim_set) == 0 ||
		    stmt_init[i] == 2)
			continue;
		node = isl_schedule_node_child(isl_schedule_node_child(node, ci), 0);
		node = isl_schedule_node_insert_partial_schedule(node, own_band(doms[i], gen));
		int depth_below = 0;
		if (gr->nband == 0 && k->par_stmt && stmt_init[i] == 0) {
			/* Mark the body of the first loop: that loop is parallel. */
			if (isl_set_dim(doms[i], isl_dim_set) > k->par_split) {
				node = isl_schedule_node_band_split(node, k->par_split);
				node = isl_schedule_node_child(node, 0);
				depth_below = 1;
			} else {
				node = isl_schedule_node_child(node, 0);
				depth_below = 1;
			}
			node = isl_schedule_node_insert_mark(node,
							     isl_id_alloc(ctx, "parallel", NULL));
		}
		/* Back up to the sequence: (mark, inner band,) band, filter. */
		for (int up = 0; up < depth_below; up++)
			node = isl_schedule_node_parent(node);
		node = isl_schedule_node_parent(isl_schedule_node_parent(node));
	}
	/* The tile band, one member per node so that a mark can say which
	 * loop runs in parallel. */
	for (int j = gr->nband - 1; j >= 0; j--) {
		isl_union_pw_aff *upa = NULL;
		for (int i = 0; i < ns; i++) {
			int e = stmt_e[i];
			int v = k->g->var_of[e][gr->band[j]];
			int64_t t = gr->tile[j];
			if (stmt_init[i] == 1 && c->einsums[e].vars[v].reduced)
				v = -1; /* inits run in the first tile */
			if (stmt_init[i] == 2) {
				v = j; /* G<e> is already in tile indices */
				t = 1;
			}
			isl_union_pw_aff *u = tile_upa(doms[i], v, t);
			upa = upa ? isl_union_pw_aff_union_add(upa, u) : u;
		}
		/* The mark goes below band member j: the loop whose body it
		 * is runs in parallel (if isl keeps that loop at all). */
		if (j == k->par_member)
			node = isl_schedule_node_insert_mark(node,
							     isl_id_alloc(ctx, "parallel", NULL));
		node = isl_schedule_node_insert_partial_schedule(
			node, isl_multi_union_pw_aff_from_union_pw_aff(upa));
	}
	for (int i = 0; i < ns; i++)
		isl_set_free(doms[i]);
	isl_schedule *sched = isl_schedule_node_get_schedule(node);
	isl_schedule_node_free(node);
	isl_ast_build *build = isl_ast_build_from_context(isl_set_universe(
		isl_space_params_alloc(ctx, 0)));
	isl_ast_node *ast = isl_ast_build_node_from_schedule(build, sched);
	isl_ast_build_free(build);
	if (!ast)
		snprintf(k->err, k->errlen, "isl AST generation: %s", poly_error(ctx));
	return ast;
}

/* ------------------------------------------------------- AST printing */

static void print_expr(cg *k, __isl_keep isl_ast_expr *e)
{
	char *s = isl_ast_expr_to_C_str(e);
	sb_printf(&k->out, "%s", s ? s : "0");
	free(s);
}

static void emit_tile_allocs(cg *k, int depth, int gi)
{
	for (int t = 0; t < k->c->ntensors; t++) {
		const buf_info *b = &k->buf[t];
		if (b->kind != BUF_TILE || b->group != gi)
			continue;
		sb_indent(&k->out, depth);
		sb_printf(&k->out,
			  "float *restrict t_%s = ml_alloc(%" PRId64 "); /* tile buffer [",
			  k->c->tensors[t].name, b->size);
		for (int d = 0; d < b->ndims; d++)
			sb_printf(&k->out, "%s%" PRId64 "%s", d ? "][" : "", b->ext[d],
				  b->mod[d] ? " mod" : "");
		sb_printf(&k->out, "] */\n");
		sb_indent(&k->out, depth);
		sb_printf(&k->out, "if (!t_%s) ok = 0;\n", k->c->tensors[t].name);
	}
}

static int64_t buf_bytes(const buf_info *b)
{
	return (b->size * 4 + 63) / 64 * 64;
}

/* The tile buffers of a group whose tile loops run serially live in the
 * workspace, after the full intermediates (the groups run one after the
 * other, so they share that space): no allocation, and no page faults,
 * per call. */
static void emit_tile_ws(cg *k, int depth, int gi)
{
	int64_t off = k->ws_full;
	for (int t = 0; t < k->c->ntensors; t++) {
		const buf_info *b = &k->buf[t];
		if (b->kind != BUF_TILE || b->group != gi)
			continue;
		sb_indent(&k->out, depth);
		sb_printf(&k->out,
			  "float *restrict t_%s = (float *)(ws + %" PRId64 "); /* tile buffer [",
			  k->c->tensors[t].name, off);
		for (int d = 0; d < b->ndims; d++)
			sb_printf(&k->out, "%s%" PRId64 "%s", d ? "][" : "", b->ext[d],
				  b->mod[d] ? " mod" : "");
		sb_printf(&k->out, "] */\n");
		off += buf_bytes(b);
	}
}

static void emit_tile_frees(cg *k, int depth, int gi)
{
	for (int t = 0; t < k->c->ntensors; t++)
		if (k->buf[t].kind == BUF_TILE && k->buf[t].group == gi) {
			sb_indent(&k->out, depth);
			sb_printf(&k->out, "free(t_%s);\n", k->c->tensors[t].name);
		}
}

static int group_has_tiles(const cg *k, int gi)
{
	for (int t = 0; t < k->c->ntensors; t++)
		if (k->buf[t].kind == BUF_TILE && k->buf[t].group == gi)
			return 1;
	return 0;
}

static void emit_user(cg *k, __isl_keep isl_ast_node *node, int depth)
{
	isl_ast_expr *call = isl_ast_node_user_get_expr(node);
	isl_ast_expr *fn = isl_ast_expr_op_get_arg(call, 0);
	isl_id *id = isl_ast_expr_get_id(fn);
	const char *name = isl_id_get_name(id);
	int init = name[0] == 'Z';
	int e = atoi(name + 1);
	const ein_einsum *es = &k->c->einsums[e];
	int nargs = (int)isl_ast_expr_op_get_n_arg(call) - 1;
	sb *s = &k->out;
	if (name[0] == 'G') {
		sb_indent(s, depth);
		sb_printf(s, "{\n");
		for (int j = 0; j < nargs; j++) {
			isl_ast_expr *a = isl_ast_expr_op_get_arg(call, j + 1);
			sb_indent(s, depth + 1);
			sb_printf(s, "const long tile_%d = ", j);
			print_expr(k, a);
			sb_printf(s, ";\n");
			isl_ast_expr_free(a);
		}
		emit_gemm(k, e, depth + 1);
		sb_indent(s, depth);
		sb_printf(s, "}\n");
		isl_id_free(id);
		isl_ast_expr_free(fn);
		isl_ast_expr_free(call);
		return;
	}
	sb_indent(s, depth);
	sb_printf(s, "{");
	for (int v = 0; v < nargs; v++) {
		isl_ast_expr *a = isl_ast_expr_op_get_arg(call, v + 1);
		sb_printf(s, "%sconst long v_%s = ", v ? " " : " ", es->vars[v].name);
		print_expr(k, a);
		sb_printf(s, ";");
		isl_ast_expr_free(a);
	}
	sb_printf(s, "\n");
	sb_indent(s, depth + 1);
	const char *tn = k->c->tensors[es->out.tensor].name;
	sb_printf(s, "t_%s[", tn);
	offset_c(s, k, es, &es->out);
	sb_printf(s, "] = ");
	if (init) {
		double id0 = ein_reduce_identity(es->reduce_op);
		number_c(s, id0);
	} else if (has_reduction(es)) {
		const char *op = es->reduce_op == EIN_OP_MAX	 ? "ml_max"
				 : es->reduce_op == EIN_OP_MIN ? "ml_min"
							       : NULL;
		if (op)
			sb_printf(s, "%s(", op);
		sb_printf(s, "t_%s[", tn);
		offset_c(s, k, es, &es->out);
		sb_printf(s, "]%s", op ? ", " : " + ");
		expr_c(s, k, es, es->rhs);
		if (op)
			sb_printf(s, ")");
	} else {
		expr_c(s, k, es, es->rhs);
	}
	sb_printf(s, ";\n");
	sb_indent(s, depth);
	sb_printf(s, "}\n");
	isl_id_free(id);
	isl_ast_expr_free(fn);
	isl_ast_expr_free(call);
}

static void emit_node(cg *k, __isl_keep isl_ast_node *node, int depth,
		      int parallel);
static void emit_for(cg *k, __isl_keep isl_ast_node *node, int depth,
		     int parallel);

static void emit_list(cg *k, __isl_keep isl_ast_node_list *l, int depth,
		      int parallel)
{
	isl_size n = isl_ast_node_list_n_ast_node(l);
	for (int i = 0; i < n; i++) {
		isl_ast_node *c = isl_ast_node_list_get_ast_node(l, i);
		emit_node(k, c, depth, parallel);
		isl_ast_node_free(c);
	}
}

static int is_parallel_mark(__isl_keep isl_ast_node *node)
{
	if (isl_ast_node_get_type(node) != isl_ast_node_mark)
		return 0;
	isl_id *id = isl_ast_node_mark_get_id(node);
	int par = strcmp(isl_id_get_name(id), "parallel") == 0;
	isl_id_free(id);
	return par;
}

/* "for (long it = init; cond; it += inc) {" of a for node. */
static void for_header(cg *k, __isl_keep isl_ast_node *node)
{
	sb *s = &k->out;
	isl_ast_expr *it = isl_ast_node_for_get_iterator(node);
	isl_ast_expr *init = isl_ast_node_for_get_init(node);
	isl_ast_expr *cond = isl_ast_node_for_get_cond(node);
	isl_ast_expr *inc = isl_ast_node_for_get_inc(node);
	sb_printf(s, "for (long ");
	print_expr(k, it);
	sb_printf(s, " = ");
	print_expr(k, init);
	sb_printf(s, "; ");
	print_expr(k, cond);
	sb_printf(s, "; ");
	print_expr(k, it);
	sb_printf(s, " += ");
	print_expr(k, inc);
	sb_printf(s, ") {\n");
	isl_ast_expr_free(it);
	isl_ast_expr_free(init);
	isl_ast_expr_free(cond);
	isl_ast_expr_free(inc);
}

/* Does expression e use identifier id? */
static int expr_uses(__isl_keep isl_ast_expr *e, __isl_keep isl_id *id)
{
	if (isl_ast_expr_get_type(e) == isl_ast_expr_id) {
		isl_id *x = isl_ast_expr_get_id(e);
		int same = x == id;
		isl_id_free(x);
		return same;
	}
	if (isl_ast_expr_get_type(e) != isl_ast_expr_op)
		return 0;
	isl_size n = isl_ast_expr_op_get_n_arg(e);
	int used = 0;
	for (int i = 0; i < n && !used; i++) {
		isl_ast_expr *a = isl_ast_expr_op_get_arg(e, i);
		used = expr_uses(a, id);
		isl_ast_expr_free(a);
	}
	return used;
}

/* May the loop `node` with body `body` carry `#pragma omp simd`?  Inside
 * OpenMP's outlined functions the compiler loses `restrict` and guards
 * each short inner loop with run-time alias checks (the SSM step's loops
 * of 16 states: 6 percent of a prefill).  Only a loop around one statement
 * instance, S<e>, whose iterator feeds one rank var of e: an output rank,
 * indexing an output dimension that is not cyclic (mod) in its buffer, so
 * that the iterations write distinct elements; every read of e's own
 * output tensor indexes the dimensions that involve that var exactly as
 * the write does, so that no iteration reads what another writes (the
 * scan reads generation i and writes i + 1 of the same state element).
 * Other tensors never share memory with it (the API's restrict). */
static int simd_loop(const cg *k, __isl_keep isl_ast_node *node, __isl_keep isl_ast_node *body)
{
	if (isl_ast_node_get_type(body) == isl_ast_node_block) {
		isl_ast_node_list *l = isl_ast_node_block_get_children(body);
		int ok = isl_ast_node_list_n_ast_node(l) == 1;
		isl_ast_node *c = ok ? isl_ast_node_list_get_ast_node(l, 0) : NULL;
		isl_ast_node_list_free(l);
		ok = ok && simd_loop(k, node, c);
		isl_ast_node_free(c);
		return ok;
	}
	if (isl_ast_node_get_type(body) != isl_ast_node_user)
		return 0;
	isl_ast_expr *call = isl_ast_node_user_get_expr(body);
	isl_ast_expr *fn = isl_ast_expr_op_get_arg(call, 0);
	isl_id *fid = isl_ast_expr_get_id(fn);
	isl_ast_expr *it = isl_ast_node_for_get_iterator(node);
	isl_id *iid = isl_ast_expr_get_id(it);
	const char *name = isl_id_get_name(fid);
	int ok = name[0] == 'S', var = -1;
	const ein_einsum *es = ok ? &k->c->einsums[atoi(name + 1)] : NULL;
	for (int v = 0; ok && v < es->nvars; v++) {
		isl_ast_expr *a = isl_ast_expr_op_get_arg(call, v + 1);
		if (expr_uses(a, iid)) {
			ok = var < 0 && !es->vars[v].reduced;
			var = v;
		}
		isl_ast_expr_free(a);
	}
	ok = ok && var >= 0;
	const ein_access *out = ok ? &es->out : NULL;
	int distinct = 0;
	for (int d = 0; ok && d < out->nidx; d++)
		if (out->idx[d].vc[var]) {
			ok = !k->buf[out->tensor].mod[d];
			distinct = 1;
		}
	ok = ok && distinct;
	for (int r = 0; ok && r < es->nreads; r++)
		for (int d = 0; ok && es->reads[r].tensor == out->tensor && d < out->nidx; d++)
			if (es->reads[r].idx[d].vc[var] || out->idx[d].vc[var])
				ok = memcmp(&es->reads[r].idx[d], &out->idx[d], sizeof(ein_aff)) == 0;
	isl_id_free(iid);
	isl_ast_expr_free(it);
	isl_id_free(fid);
	isl_ast_expr_free(fn);
	isl_ast_expr_free(call);
	return ok;
}

static void emit_var_defs(cg *k, const ein_einsum *es, __isl_keep isl_ast_expr *call,
			  int from, int to, int depth)
{
	sb *s = &k->out;
	for (int v = from; v < to; v++) {
		isl_ast_expr *a = isl_ast_expr_op_get_arg(call, v + 1);
		sb_indent(s, depth);
		sb_printf(s, "const long v_%s = ", es->vars[v].name);
		print_expr(k, a);
		sb_printf(s, ";\n");
		isl_ast_expr_free(a);
	}
}

/* A loop whose body is one instance of a reduction and which runs over its
 * reduced ranks only (the output element is the same in every iteration)
 * accumulates in a local: the compiler cannot keep the element in a
 * register itself when it cannot prove that the output does not alias the
 * operands (inside OpenMP's outlined functions restrict is lost), and
 * would then neither vectorise the sum nor avoid a store per term.
 * Returns 1 when it emitted the loop. */
static int emit_acc_loop(cg *k, __isl_keep isl_ast_node *node, int depth)
{
	isl_ast_node *body = isl_ast_node_for_get_body(node);
	int done = 0;
	if (isl_ast_node_get_type(body) != isl_ast_node_user) {
		isl_ast_node_free(body);
		return 0;
	}
	isl_ast_expr *call = isl_ast_node_user_get_expr(body);
	isl_ast_expr *fn = isl_ast_expr_op_get_arg(call, 0);
	isl_id *fid = isl_ast_expr_get_id(fn);
	const char *name = isl_id_get_name(fid);
	isl_ast_expr *it = isl_ast_node_for_get_iterator(node);
	isl_id *iid = isl_ast_expr_get_id(it);
	if (name[0] == 'S') {
		int e = atoi(name + 1);
		const ein_einsum *es = &k->c->einsums[e];
		int no = n_out_vars(es), ok = has_reduction(es);
		for (int v = 0; v < no && ok; v++) {
			isl_ast_expr *a = isl_ast_expr_op_get_arg(call, v + 1);
			ok = !expr_uses(a, iid);
			isl_ast_expr_free(a);
		}
		if (ok) {
			sb *s = &k->out;
			const char *tn = k->c->tensors[es->out.tensor].name;
			const char *op = es->reduce_op == EIN_OP_MAX	 ? "ml_max"
					 : es->reduce_op == EIN_OP_MIN ? "ml_min"
								       : NULL;
			sb_indent(s, depth);
			sb_printf(s, "{\n");
			emit_var_defs(k, es, call, 0, no, depth + 1);
			sb_indent(s, depth + 1);
			sb_printf(s, "float acc = t_%s[", tn);
			offset_c(s, k, es, &es->out);
			sb_printf(s, "];\n");
			sb_indent(s, depth + 1);
			for_header(k, node);
			emit_var_defs(k, es, call, no, es->nvars, depth + 2);
			sb_indent(s, depth + 2);
			sb_printf(s, op ? "acc = %s(acc, " : "acc = acc + (", op ? op : "");
			expr_c(s, k, es, es->rhs);
			sb_printf(s, ");\n");
			sb_indent(s, depth + 1);
			sb_printf(s, "}\n");
			sb_indent(s, depth + 1);
			sb_printf(s, "t_%s[", tn);
			offset_c(s, k, es, &es->out);
			sb_printf(s, "] = acc;\n");
			sb_indent(s, depth);
			sb_printf(s, "}\n");
			done = 1;
		}
	}
	isl_id_free(iid);
	isl_ast_expr_free(it);
	isl_id_free(fid);
	isl_ast_expr_free(fn);
	isl_ast_expr_free(call);
	isl_ast_node_free(body);
	return done;
}

/* All the points of group gi's members (see stmt_points). */
static int64_t group_points(const cg *k, int gi)
{
	int64_t pts = 0;
	for (int e = 0; e < k->c->neinsums; e++) {
		int init = 0;
		if (k->p->groups[gi].members[e]) {
			int64_t n = stmt_points(k, gi, &e, &init, 0, 1, 0);
			pts = n > INT64_MAX - pts ? INT64_MAX : pts + n;
		}
	}
	return pts;
}

static void emit_for(cg *k, __isl_keep isl_ast_node *node, int depth,
		     int parallel)
{
	if (!parallel && emit_acc_loop(k, node, depth))
		return;
	sb *s = &k->out;
	isl_ast_node *body = isl_ast_node_for_get_body(node);
	int pfor = 0;
	long long pfor_points = 0;
	if (is_parallel_mark(body)) {
		isl_ast_node *inner = isl_ast_node_mark_get_node(body);
		isl_ast_node_free(body);
		body = inner;
		parallel = !k->serial;
	} else if (isl_ast_node_get_type(body) == isl_ast_node_mark) {
		/* A loop of strips (find_strips): a parallel loop of its own,
		 * sharing the group's buffers (the strips touch disjoint
		 * parts of them). */
		isl_id *id = isl_ast_node_mark_get_id(body);
		const char *name = isl_id_get_name(id);
		pfor = strncmp(name, "pfor ", 5) == 0 && k->o->openmp && !k->in_team;
		if (pfor)
			pfor_points = strtoll(name + 5, NULL, 10);
		isl_id_free(id);
		if (pfor) {
			isl_ast_node *inner = isl_ast_node_mark_get_node(body);
			isl_ast_node_free(body);
			body = inner;
		}
	}
	/* Beside a team's product, on one thread: no regions. */
	int region = parallel && k->o->openmp && !k->in_team;
	int tiles = k->par_member >= 0 && group_has_tiles(k, k->cur);
	/* The preprocessor decides whether a region runs in parallel (its
	 * points against ML_PAR_MIN): an OpenMP if clause would still start
	 * a team, of one thread. */
	int64_t points = region ? group_points(k, k->cur) : 0;
	if (region) {
		sb_printf(s, "#if defined(_OPENMP) && %" PRId64 " >= ML_PAR_MIN\n", points);
		sb_indent(s, depth);
		sb_printf(s, "#pragma omp parallel\n");
		sb_printf(s, "#endif\n");
		sb_indent(s, depth);
		sb_printf(s, "{\n");
		depth++;
		if (tiles)
			emit_tile_allocs(k, depth, k->cur);
		sb_printf(s, "#if defined(_OPENMP) && %" PRId64 " >= ML_PAR_MIN\n", points);
		sb_indent(s, depth);
		sb_printf(s, "#pragma omp for schedule(static)\n");
		sb_printf(s, "#endif\n");
	} else if (parallel && tiles) {
		emit_tile_allocs(k, depth, k->cur);
	}
	if (pfor) {
		sb_printf(s, "#if defined(_OPENMP) && %lld >= ML_PAR_MIN\n", pfor_points);
		sb_indent(s, depth);
		sb_printf(s, "#pragma omp parallel for schedule(static)\n");
		sb_printf(s, "#endif\n");
	} else if (!region && k->o->openmp && simd_loop(k, node, body)) {
		sb_printf(s, "#ifdef _OPENMP\n");
		sb_indent(s, depth);
		sb_printf(s, "#pragma omp simd\n");
		sb_printf(s, "#endif\n");
	}
	sb_indent(s, depth);
	for_header(k, node);
	if (parallel && tiles) {
		sb_indent(s, depth + 1);
		sb_printf(s, "if (!ok) continue;\n");
	}
	emit_node(k, body, depth + 1, 0);
	sb_indent(s, depth);
	sb_printf(s, "}\n");
	if (region) {
		if (tiles)
			emit_tile_frees(k, depth, k->cur);
		depth--;
		sb_indent(s, depth);
		sb_printf(s, "}\n");
	} else if (parallel && tiles) {
		emit_tile_frees(k, depth, k->cur);
	}
	isl_ast_node_free(body);
}

static void emit_node(cg *k, __isl_keep isl_ast_node *node, int depth,
		      int parallel)
{
	sb *s = &k->out;
	switch (isl_ast_node_get_type(node)) {
	case isl_ast_node_for:
		emit_for(k, node, depth, parallel);
		return;
	case isl_ast_node_if: {
		isl_ast_expr *cond = isl_ast_node_if_get_cond(node);
		isl_ast_node *then = isl_ast_node_if_get_then_node(node);
		sb_indent(s, depth);
		sb_printf(s, "if (");
		print_expr(k, cond);
		sb_printf(s, ") {\n");
		emit_node(k, then, depth + 1, parallel);
		sb_indent(s, depth);
		sb_printf(s, "}");
		if (isl_ast_node_if_has_else_node(node) == isl_bool_true) {
			isl_ast_node *el = isl_ast_node_if_get_else_node(node);
			sb_printf(s, " else {\n");
			emit_node(k, el, depth + 1, parallel);
			sb_indent(s, depth);
			sb_printf(s, "}");
			isl_ast_node_free(el);
		}
		sb_printf(s, "\n");
		isl_ast_expr_free(cond);
		isl_ast_node_free(then);
		return;
	}
	case isl_ast_node_block: {
		isl_ast_node_list *l = isl_ast_node_block_get_children(node);
		emit_list(k, l, depth, 0);
		isl_ast_node_list_free(l);
		return;
	}
	case isl_ast_node_mark: {
		isl_id *id = isl_ast_node_mark_get_id(node);
		isl_ast_node *child = isl_ast_node_mark_get_node(node);
		int par = strcmp(isl_id_get_name(id), "parallel") == 0;
		/* The mark sits on the band: its loop is the child, or several
		 * loops in a block when isl split it, or no loop at all when
		 * the band has a single iteration. */
		(void)par; /* bare marks only happen in serial groups */
		emit_node(k, child, depth, 0);
		isl_ast_node_free(child);
		isl_id_free(id);
		return;
	}
	case isl_ast_node_user:
		emit_user(k, node, depth);
		return;
	default:
		sb_indent(s, depth);
		sb_printf(s, "/* unsupported AST node */\n");
		return;
	}
}

/* ------------------------------------------------------------- groups */

/* Chooses the parallel loop of a group: the outermost parallel band member
 * such that no tile buffer carries data along a member outside it (the
 * buffers are private to each thread). */
static void choose_parallel(cg *k, int gi)
{
	const cg_group *gr = &k->p->groups[gi];
	const ein_cascade *c = k->c;
	k->par_member = -1;
	k->par_stmt = 0;
	if (gr->nband == 0) {
		int e = -1;
		for (int i = 0; i < c->neinsums; i++)
			if (gr->members[i])
				e = i;
		const ein_einsum *es = &c->einsums[e];
		/* The first loop isl generates: the first variable, in program
		 * order, whose extent is not 1.  It may run in parallel when it
		 * is an output rank that carries nothing (not generational). */
		if (es->gen_var >= 0)
			return;
		for (int v = 0; v < es->nvars; v++) {
			if (es->vars[v].size == 1)
				continue;
			if (!es->vars[v].reduced) {
				k->par_stmt = 1;
				k->par_split = v + 1;
			}
			return;
		}
		return;
	}
	for (int j = 0; j < gr->nband; j++) {
		if (!((k->res.parallel >> j) & 1))
			continue;
		/* A band member of one tile has no loop: the mark below it
		 * would land in an outer loop's body. */
		int64_t ext = members_extent(k->g, gr->members, gr->band[j]);
		if (ext <= gr->tile[j])
			continue;
		int ok = 1;
		for (int t = 0; t < c->ntensors && ok; t++) {
			if (k->buf[t].kind != BUF_TILE || k->buf[t].group != gi)
				continue;
			for (int j0 = 0; j0 < j && ok; j0++)
				if (carried_along(k, gi, t, j0))
					ok = 0;
		}
		if (ok) {
			k->par_member = j;
			return;
		}
	}
}

typedef struct mark_count {
	int loops; /* parallel marks that are the body of a for loop */
	int bare;  /* parallel marks reached without a loop */
} mark_count;

static void count_marks(__isl_keep isl_ast_node *node, int in_for_body,
			mark_count *mc)
{
	switch (isl_ast_node_get_type(node)) {
	case isl_ast_node_for: {
		isl_ast_node *b = isl_ast_node_for_get_body(node);
		count_marks(b, 1, mc);
		isl_ast_node_free(b);
		return;
	}
	case isl_ast_node_if: {
		isl_ast_node *t = isl_ast_node_if_get_then_node(node);
		count_marks(t, 0, mc);
		isl_ast_node_free(t);
		if (isl_ast_node_if_has_else_node(node) == isl_bool_true) {
			isl_ast_node *e = isl_ast_node_if_get_else_node(node);
			count_marks(e, 0, mc);
			isl_ast_node_free(e);
		}
		return;
	}
	case isl_ast_node_block: {
		isl_ast_node_list *l = isl_ast_node_block_get_children(node);
		isl_size n = isl_ast_node_list_n_ast_node(l);
		for (int i = 0; i < n; i++) {
			isl_ast_node *c = isl_ast_node_list_get_ast_node(l, i);
			count_marks(c, 0, mc);
			isl_ast_node_free(c);
		}
		isl_ast_node_list_free(l);
		return;
	}
	case isl_ast_node_mark: {
		if (is_parallel_mark(node)) {
			if (in_for_body)
				mc->loops++;
			else
				mc->bare++;
		}
		isl_ast_node *c = isl_ast_node_mark_get_node(node);
		count_marks(c, 0, mc);
		isl_ast_node_free(c);
		return;
	}
	default:
		return;
	}
}

/* ------------------------------------------------- array contraction */

/* The whole program's schedule at point level: S<e>/Z<e> instance ->
 * [group, tile indices, position in the group, own loops], padded. */
static __isl_give isl_union_map *global_schedule(cg *k)
{
	const ein_cascade *c = k->c;
	isl_ctx *ctx = k->ctx;
	/* [group, tiles (CG_MAX_BAND), position, strip, points (CG_MAX_BAND),
	 * position in the strip run, own loops]: a statement outside strips
	 * has 0 for the strip, its points and the position in the run. */
	const int P0 = CG_MAX_BAND + 1, ST = P0 + 1, PT = ST + 1, P1 = PT + CG_MAX_BAND;
	int width = P1 + 1 + EIN_MAX_VARS;
	for (int r = 0; r < k->nstrips; r++)
		k->strips[r].anchor = -1;
	isl_union_map *u = isl_union_map_empty(isl_space_params_alloc(ctx, 0));
	for (int gi = 0; gi < k->p->ngroups; gi++) {
		const cg_group *gr = &k->p->groups[gi];
		int pos = 0;
		k->cur = gi;
		for (int e = 0; e < c->neinsums; e++) {
			if (!gr->members[e])
				continue;
			const ein_einsum *es = &c->einsums[e];
			for (int init = 1; init >= 0; init--) {
				if (init && !has_reduction(es)) {
					pos++;
					continue;
				}
				isl_set *dom = stmt_domain(k, e, init);
				isl_space *sp = isl_set_get_space(dom);
				int nd = (int)isl_set_dim(dom, isl_dim_set);
				isl_space *rsp = isl_space_set_alloc(ctx, 0, (unsigned)width);
				isl_local_space *ls = isl_local_space_from_space(isl_space_copy(sp));
				isl_aff_list *l = isl_aff_list_alloc(ctx, width);
				int order[EIN_MAX_VARS], no = 0;
				int gen = es->gen_var < nd ? es->gen_var : -1;
				if (gen >= 0)
					order[no++] = gen;
				for (int v = 0; v < nd; v++)
					if (v != gen)
						order[no++] = v;
				int run = k->stmt_run[e][init];
				cg_strip *st = run >= 0 ? &k->strips[run] : NULL;
				if (st && st->anchor < 0)
					st->anchor = pos;
				for (int q = 0; q < width; q++) {
					isl_aff *a;
					if (q >= ST && q <= P1 && st) {
						int v = -1;
						int64_t t = 1;
						if (q == ST) {
							v = k->g->var_of[e][st->rank];
							t = st->size;
						} else if (q < P1 && q - PT < st->npoint) {
							v = k->g->var_of[e][st->point[q - PT]];
						}
						if (q == P1)
							a = isl_aff_val_on_domain(isl_local_space_copy(ls),
										  isl_val_int_from_si(ctx, pos));
						else if (v >= 0)
							a = isl_aff_floor(isl_aff_scale_down_ui(
								isl_aff_var_on_domain(isl_local_space_copy(ls),
										      isl_dim_set, (unsigned)v),
								(unsigned)t));
						else
							a = isl_aff_zero_on_domain(isl_local_space_copy(ls));
					} else if (q >= ST && q <= P1) {
						a = isl_aff_zero_on_domain(isl_local_space_copy(ls));
					} else if (q == 0) {
						a = isl_aff_val_on_domain(isl_local_space_copy(ls),
									  isl_val_int_from_si(ctx, gi));
					} else if (q <= CG_MAX_BAND) {
						int j = q - 1, v = -1;
						if (j < gr->nband) {
							v = k->g->var_of[e][gr->band[j]];
							if (init && es->vars[v].reduced)
								v = -1;
						}
						if (v >= 0) {
							a = isl_aff_var_on_domain(isl_local_space_copy(ls),
										  isl_dim_set, (unsigned)v);
							a = isl_aff_floor(isl_aff_scale_down_ui(
								a, (unsigned)gr->tile[j]));
						} else {
							a = isl_aff_zero_on_domain(isl_local_space_copy(ls));
						}
					} else if (q == P0) {
						a = isl_aff_val_on_domain(
							isl_local_space_copy(ls),
							isl_val_int_from_si(ctx, st ? st->anchor : pos));
					} else if (q - P1 - 1 < no) {
						a = isl_aff_var_on_domain(
							isl_local_space_copy(ls), isl_dim_set,
							(unsigned)order[q - P1 - 1]);
					} else {
						a = isl_aff_zero_on_domain(isl_local_space_copy(ls));
					}
					l = isl_aff_list_add(l, a);
				}
				isl_local_space_free(ls);
				isl_multi_aff *ma = isl_multi_aff_from_aff_list(
					isl_space_map_from_domain_and_range(sp, rsp), l);
				isl_map *m = isl_map_intersect_domain(isl_map_from_multi_aff(ma), dom);
				u = isl_union_map_add_map(u, m);
				pos++;
			}
		}
	}
	return u;
}

/* The accesses of tensor t (writes by S and Z statements, or reads by S
 * statements), parameters projected out. */
static __isl_give isl_union_map *accesses(cg *k, int t, int writes)
{
	const ein_cascade *c = k->c;
	isl_union_map *u = isl_union_map_empty(isl_space_params_alloc(k->ctx, 0));
	for (int e = 0; e < c->neinsums; e++) {
		const ein_einsum *es = &c->einsums[e];
		for (int r = -1; r < es->nreads; r++) {
			const ein_access *a = r < 0 ? &es->out : &es->reads[r];
			if (a->tensor != t || (r < 0) != writes)
				continue;
			for (int init = 0; init <= (r < 0 && has_reduction(es)); init++) {
				isl_map *m = isl_map_intersect_domain(
					poly_access(k->ctx, c, e, a), poly_domain(k->ctx, c, e, 1));
				m = isl_map_project_out(m, isl_dim_param, 0,
							(unsigned)isl_map_dim(m, isl_dim_param));
				if (init) {
					int no = n_out_vars(es);
					m = isl_map_project_out(m, isl_dim_in, (unsigned)no,
								(unsigned)(es->nvars - no));
					char name[32];
					snprintf(name, sizeof(name), "Z%d", e);
					m = isl_map_set_tuple_name(m, isl_dim_in, name);
				}
				u = isl_union_map_add_map(u, m);
			}
		}
	}
	return u;
}

/* May tensor t be stored modulo E along dimension d?  Not when some value,
 * between its write and a read of it, would be overwritten by a write to
 * another element of the same slot.  Returns 1 (safe), 0, or -1. */
static int contraction_safe(cg *k, __isl_keep isl_union_map *sched, int t,
			    int d, int64_t E)
{
	const ein_tensor *tt = &k->c->tensors[t];
	char buf[2048];
	size_t w = 0;
	/* x -> x': equal but on d, where x'_d - x_d is a nonzero multiple
	 * of E.  Built from text with a neutral tuple name, renamed after. */
	for (int side = 0; side < 2; side++) {
		w += (size_t)snprintf(buf + w, sizeof(buf) - w, "%s", side ? " -> T[" : "{ T[");
		for (int q = 0; q < tt->ndims; q++)
			w += (size_t)snprintf(buf + w, sizeof(buf) - w, "%s%c%d", q ? "," : "",
					      side ? 'b' : 'a', q);
		w += (size_t)snprintf(buf + w, sizeof(buf) - w, "]");
	}
	w += (size_t)snprintf(buf + w, sizeof(buf) - w, " : ");
	for (int sign = 0; sign < 2; sign++) {
		w += (size_t)snprintf(buf + w, sizeof(buf) - w, "%s(", sign ? " or " : "");
		for (int q = 0; q < tt->ndims; q++)
			if (q != d)
				w += (size_t)snprintf(buf + w, sizeof(buf) - w, "b%d = a%d and ", q, q);
		w += (size_t)snprintf(buf + w, sizeof(buf) - w,
				      "exists (kk : b%d = a%d + %" PRId64 "kk and kk %s))", d, d, E,
				      sign ? "<= -1" : ">= 1");
	}
	w += (size_t)snprintf(buf + w, sizeof(buf) - w, " }");
	if (w >= sizeof(buf))
		return 0;
	isl_map *clash = isl_map_read_from_str(k->ctx, buf);
	if (!clash)
		return -1;
	clash = isl_map_set_tuple_name(clash, isl_dim_in, tt->name);
	clash = isl_map_set_tuple_name(clash, isl_dim_out, tt->name);
	isl_union_map *W = accesses(k, t, 1), *R = accesses(k, t, 0);
	/* Flow: the write each read sees. */
	isl_union_access_info *ai = isl_union_access_info_from_sink(isl_union_map_copy(R));
	ai = isl_union_access_info_set_must_source(ai, isl_union_map_copy(W));
	ai = isl_union_access_info_set_schedule_map(ai, isl_union_map_copy(sched));
	isl_union_flow *fl = isl_union_access_info_compute_flow(ai);
	isl_union_map *F = isl_union_flow_get_may_dependence(fl);
	isl_union_flow_free(fl);
	/* w1 -> w2 writing a clashing element, after w1. */
	isl_union_map *ww = isl_union_map_apply_range(isl_union_map_copy(W),
						      isl_union_map_from_map(clash));
	ww = isl_union_map_apply_range(ww, isl_union_map_reverse(isl_union_map_copy(W)));
	isl_union_map *sw = isl_union_map_intersect_domain(
		isl_union_map_copy(sched), isl_union_map_domain(isl_union_map_copy(W)));
	isl_union_map *sr = isl_union_map_intersect_domain(
		isl_union_map_copy(sched), isl_union_map_domain(isl_union_map_copy(R)));
	ww = isl_union_map_intersect(ww, isl_union_map_lex_lt_union_map(
						 isl_union_map_copy(sw), isl_union_map_copy(sw)));
	/* ... and before a read of w1's value. */
	isl_union_map *w2r = isl_union_map_lex_lt_union_map(sw, sr);
	isl_union_map *bad = isl_union_map_apply_range(ww, w2r);
	bad = isl_union_map_intersect(bad, F);
	isl_bool empty = isl_union_map_is_empty(bad);
	isl_union_map_free(bad);
	isl_union_map_free(W);
	isl_union_map_free(R);
	return empty < 0 ? -1 : empty == isl_bool_true;
}

/* Is dimension q of tensor t indexed, in some access, by a rank that its
 * Einsum's group runs in parallel?  Storing q modulo E could then let two
 * threads share a slot. */
static int dim_parallel(const cg *k, int t, int q)
{
	const ein_cascade *c = k->c;
	for (int e = 0; e < c->neinsums; e++) {
		const ein_einsum *es = &c->einsums[e];
		for (int r = -1; r < es->nreads; r++) {
			const ein_access *a = r < 0 ? &es->out : &es->reads[r];
			if (a->tensor != t)
				continue;
			for (int rk = 0; rk < k->g->nranks; rk++) {
				int v = k->g->var_of[e][rk];
				if (v >= 0 && a->idx[q].vc[v] && ((k->par_ranks[e] >> rk) & 1))
					return 1;
			}
		}
	}
	return 0;
}

/* Stores intermediates that cross groups modulo a small extent along one
 * dimension when that is safe on the whole program's schedule (strips
 * included): a recurrence's state (H over i) then takes a few generations
 * of memory instead of all of them, a padded copy (XP) a few rows.  The
 * dimension giving the smallest buffer wins; dimensions indexed by a
 * parallel rank are not candidates. */
static int contract_buffers(cg *k)
{
	const ein_cascade *c = k->c;
	isl_union_map *sched = NULL;
	for (int t = 0; t < c->ntensors; t++) {
		buf_info *b = &k->buf[t];
		if (b->kind != BUF_FULL)
			continue;
		const ein_tensor *tt = &c->tensors[t];
		/* No GEMM call may touch the tensor (its order inside is not
		 * ours). */
		int gemm = 0;
		for (int e = 0; e < c->neinsums; e++) {
			const ein_einsum *es = &c->einsums[e];
			if (k->gemm[e].ok && (es->out.tensor == t ||
					      es->reads[k->gemm[e].x].tensor == t ||
					      es->reads[k->gemm[e].y].tensor == t))
				gemm = 1;
		}
		if (gemm)
			continue;
		int best_dim = -1;
		int64_t best_e = 0, best_size = b->size;
		for (int q = 0; q < tt->ndims; q++) {
			if (tt->dims[q].size <= 2 || dim_parallel(k, t, q))
				continue;
			if (!sched && !(sched = global_schedule(k)))
				return -1;
			for (int64_t E = 2; E < tt->dims[q].size; E *= 2) {
				if (b->size / tt->dims[q].size * E >= best_size)
					break;
				int r = contraction_safe(k, sched, t, q, E);
				if (r < 0) {
					isl_union_map_free(sched);
					return -1;
				}
				if (r) {
					best_dim = q;
					best_e = E;
					best_size = b->size / tt->dims[q].size * E;
					break;
				}
			}
		}
		if (best_dim >= 0) {
			b->mod[best_dim] = 1;
			b->ext[best_dim] = best_e;
			b->size = best_size;
		}
	}
	isl_union_map_free(sched);
	return 0;
}

/* Per group: what lowering decided. */
typedef struct cg_glow {
	isl_ast_node *ast;
	int par_member;
	int serial;
	int group_gemm;
	uint32_t parallel; /* band members that may run in parallel */
} cg_glow;

struct cg_lowered {
	cg k;
	cg_glow *groups;
	char err[512];
};

/* Lowers group gi: GEMM members, the parallel loop, the AST. */
static int lower_group(cg *k, cg_glow *gl, int gi)
{
	const ein_cascade *c = k->c;
	const cg_group *gr = &k->p->groups[gi];
	k->cur = gi;
	k->req = group_req(k, gi);
	if (fusion_check(k->g, &k->req, 0, &k->res, k->err, k->errlen) < 0)
		return -1;
	gl->parallel = k->res.parallel;
	plan_gemms(k, gi);
	k->group_gemm = 0;
	for (int e = 0; e < c->neinsums; e++)
		if (gr->members[e])
			k->group_gemm |= k->gemm[e].ok;
	choose_parallel(k, gi);
	fusion_result_clear(&k->res);
	isl_ast_node *ast = group_ast(k, gi);
	if (!ast)
		return -1;
	/* When isl did not keep the parallel loop everywhere (a band of a
	 * single iteration), run the group serially with its buffers
	 * allocated once: the marks may then sit apart on each statement. */
	mark_count mc = {0, 0};
	count_marks(ast, 0, &mc);
	k->serial = mc.bare > 0 || mc.loops == 0;
	if (k->serial)
		k->par_member = -1;
	for (int e = 0; e < c->neinsums; e++) {
		if (!gr->members[e])
			continue;
		if (k->par_member >= 0)
			k->par_ranks[e] |= 1u << gr->band[k->par_member];
		for (int r = 0; r < k->g->nranks && k->par_stmt && !k->serial; r++)
			if (k->g->var_of[e][r] == k->par_split - 1)
				k->par_ranks[e] |= 1u << r;
	}
	gl->ast = ast;
	gl->par_member = k->par_member;
	gl->serial = k->serial;
	gl->group_gemm = k->group_gemm;
	return 0;
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
enum { TEAM_BLOCKS = 8 }; /* ML_TEAM in the prelude */

static int team_end(cg *k, const cg_glow *gls, int gi, int64_t *vlen, int64_t *elems)
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
	const gemm_info *g = &k->gemm[e];
	int nc[3];
	k->cur = gi;
	if (gemm_collapsed(k, e, nc) != 0)
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
	if (ext[2] < 16 * TEAM_BLOCKS || *elems < 65536)
		return gi + 1;
	int64_t budget = *elems / 2, used = 0;
	int end = gi + 1;
	for (; end < k->p->ngroups; end++) {
		const cg_group *o = &k->p->groups[end];
		int free_of = 1;
		for (int f = 0; f < c->neinsums && free_of; f++)
			if (o->members[f] && einsums_conflict(es, &c->einsums[f]))
				free_of = 0;
		int64_t pts = group_points(k, end);
		if (!free_of || pts > budget - used)
			break;
		used += pts;
	}
	return end;
}

/* guard: inside `if (ok)` (a team's product is not: every thread of
 * the team must reach it). */
static void emit_group(cg *k, const cg_glow *gl, int gi, int guard)
{
	const cg_group *gr = &k->p->groups[gi];
	const ein_cascade *c = k->c;
	sb *s = &k->out;
	k->cur = gi;
	k->par_member = gl->par_member;
	k->serial = gl->serial;
	k->group_gemm = gl->group_gemm;
	sb_printf(s, "\n\t/* group %d:", gi + 1);
	for (int e = 0; e < c->neinsums; e++)
		if (gr->members[e])
			sb_printf(s, " %s", c->einsums[e].name);
	if (gr->nband) {
		sb_printf(s, "; fused on");
		for (int j = 0; j < gr->nband; j++)
			sb_printf(s, " %s (tile %" PRId64 ")", k->g->ranks[gr->band[j]],
				  gr->tile[j]);
	}
	sb_printf(s, " */\n\t%s{\n", guard ? "if (ok) " : "");
	int tiles = group_has_tiles(k, gi);
	if (tiles && k->par_member < 0)
		emit_tile_ws(k, 2, gi);
	emit_node(k, gl->ast, 2, 0);
	sb_printf(s, "\t}\n");
}

/* Group gi's product with groups gi+1..end-1 beside it (team_end). */
static void emit_team(cg *k, const cg_glow *gls, int gi, int end, int64_t points)
{
	sb outer = k->out;
	if (end == gi + 2)
		sb_printf(&outer, "\n\t/* Group %d runs beside group %d's matrix-vector product: one\n"
				  "\t * thread takes it while the others start on the matrix. */\n",
			  gi + 2, gi + 1);
	else
		sb_printf(&outer, "\n\t/* Groups %d-%d run beside group %d's matrix-vector product: one\n"
				  "\t * thread takes them while the others start on the matrix. */\n",
			  gi + 2, end, gi + 1);
	sb_printf(&outer, "\t{\n\t\tlong team_next = 0;\n"
			  "#if defined(_OPENMP) && %" PRId64 " >= ML_PAR_MIN\n"
			  "\t\t#pragma omp parallel\n#endif\n\t\t{\n"
			  "#if defined(_OPENMP) && %" PRId64 " >= ML_PAR_MIN\n"
			  "\t\t\t#pragma omp single nowait\n#endif\n\t\t\t{",
		  points, points);
	/* Each part printed apart, then indented into place. */
	memset(&k->out, 0, sizeof(k->out));
	k->in_team = 1;
	for (int j = gi + 1; j < end; j++)
		emit_group(k, &gls[j], j, 1);
	k->in_team = 0;
	sb_indented(&outer, k->out.p, k->out.n, 3);
	sb_printf(&outer, "\t\t\t}\n");
	k->out.n = 0;
	k->team = 1;
	emit_group(k, &gls[gi], gi, 0);
	k->team = 0;
	sb_indented(&outer, k->out.p, k->out.n, 2);
	sb_printf(&outer, "\t\t}\n\t}\n");
	if (k->out.oom)
		outer.oom = 1;
	free(k->out.p);
	k->out = outer;
}

/* ----------------------------------------------------------- the files */

static const char prelude[] =
	"#include <math.h>\n"
	"#include <stdint.h>\n"
	"#include <stdlib.h>\n"
	"#include <string.h>\n"
	"\n"
	"/* A parallel region of fewer points than this runs on one thread:\n"
	" * starting the team would cost more than the work (-DML_PAR_MIN=0\n"
	" * runs every region on all threads). */\n"
	"#ifndef ML_PAR_MIN\n"
	"#define ML_PAR_MIN 32768\n"
	"#endif\n"
	"\n"
	"/* The helpers below are not all used by every kernel (clang warns\n"
	" * about unused static inline functions in a .c file). */\n"
	"#if defined(__GNUC__)\n"
	"#define ML_INLINE static inline __attribute__((unused))\n"
	"#else\n"
	"#define ML_INLINE static inline\n"
	"#endif\n"
	"\n"
	"/* `omp simd` marks loops that may be vectorised, not loops that must\n"
	" * be: clang warns when it leaves one scalar. */\n"
	"#if defined(__clang__)\n"
	"#pragma clang diagnostic ignored \"-Wpass-failed\"\n"
	"#endif\n"
	"\n"
	"/* Loop-bound helpers used by isl's generated code. */\n"
	"ML_INLINE long floord(long a, long b)\n"
	"{\n"
	"\treturn a / b - ((a % b != 0) && ((a < 0) != (b < 0)));\n"
	"}\n"
	"ML_INLINE long min(long a, long b) { return a < b ? a : b; }\n"
	"ML_INLINE long max(long a, long b) { return a > b ? a : b; }\n"
	"\n"
	"/* The language's functions, in float.  exp is a polynomial that the\n"
	" * compiler can vectorise (see docs/codegen.md for its accuracy). */\n"
	"ML_INLINE float ml_exp(float x)\n"
	"{\n"
	"\t/* exp(x) = 2^n * exp(r), |r| <= ln(2)/2, exp(r) by its Taylor\n"
	"\t * polynomial of degree 7 (truncation error below 6e-9). */\n"
	"\tx = x > 88.0f ? 88.0f : x;\n"
	"\tx = x < -87.0f ? -87.0f : x;\n"
	"\tfloat n = rintf(x * 1.44269504088896341f);\n"
	"\tfloat r = x - n * 0.693145751953125f;\n"
	"\tr = r - n * 1.42860682030941723e-6f;\n"
	"\tfloat p = 1.0f / 5040.0f;\n"
	"\tp = p * r + 1.0f / 720.0f;\n"
	"\tp = p * r + 1.0f / 120.0f;\n"
	"\tp = p * r + 1.0f / 24.0f;\n"
	"\tp = p * r + 1.0f / 6.0f;\n"
	"\tp = p * r + 0.5f;\n"
	"\tp = p * r + 1.0f;\n"
	"\tp = p * r + 1.0f;\n"
	"\tunion { float f; int32_t i; } u;\n"
	"\tu.f = p;\n"
	"\tu.i += (int32_t)n * (1 << 23);\n"
	"\treturn u.f;\n"
	"}\n"
	"/* log of a normal, finite x > 0, without branches (vectorisable). */\n"
	"ML_INLINE float ml_log_pos(float x)\n"
	"{\n"
	"\t/* x = m 2^e with m in [sqrt(1/2), sqrt(2)); log(m) = 2 atanh(s),\n"
	"\t * s = (m-1)/(m+1), |s| < 0.172, by its series to s^9. */\n"
	"\tunion { float f; int32_t i; } u;\n"
	"\tu.f = x;\n"
	"\tint32_t e = ((u.i >> 23) & 255) - 127;\n"
	"\tu.i = (u.i & 0x007fffff) | 0x3f800000;\n"
	"\tfloat m = u.f;\n"
	"\tint big = m > 1.41421356f;\n"
	"\tm = big ? m * 0.5f : m;\n"
	"\te += big;\n"
	"\tfloat f = m - 1.0f, sv = f / (2.0f + f), z = sv * sv;\n"
	"\tfloat p = 2.0f / 9.0f;\n"
	"\tp = p * z + 2.0f / 7.0f;\n"
	"\tp = p * z + 2.0f / 5.0f;\n"
	"\tp = p * z + 2.0f / 3.0f;\n"
	"\tp = p * z + 2.0f;\n"
	"\treturn sv * p + (float)e * 0.693147180559945f;\n"
	"}\n"
	"ML_INLINE float ml_log(float x)\n"
	"{\n"
	"\tif (!(x > 1.17549435e-38f) || x > 3.4e38f)\n"
	"\t\treturn logf(x);\n"
	"\treturn ml_log_pos(x);\n"
	"}\n"
	"ML_INLINE float ml_sqrt(float x) { return sqrtf(x); }\n"
	"ML_INLINE float ml_rsqrt(float x) { return 1.0f / sqrtf(x); }\n"
	"ML_INLINE float ml_sigmoid(float x) { return 1.0f / (1.0f + ml_exp(-x)); }\n"
	"ML_INLINE float ml_silu(float x) { return x / (1.0f + ml_exp(-x)); }\n"
	"ML_INLINE float ml_softplus(float x)\n"
	"{\n"
	"\t/* log(1 + e^x): x itself above 20, e^x itself below -15 (where\n"
	"\t * 1 + e^x rounds to 1). */\n"
	"\tfloat ex = ml_exp(x);\n"
	"\t/* 1 + ex is in [1, 2^127]: normal and finite. */\n"
	"\tfloat l = ml_log_pos(1.0f + ex);\n"
	"\t/* Chosen by bit masks: gcc moves the log of a ?: into a branch\n"
	"\t * and then leaves the loop scalar (10x slower). */\n"
	"\tunion { float f; int32_t i; } vx, ve, vl;\n"
	"\tvx.f = x;\n"
	"\tve.f = ex;\n"
	"\tvl.f = l;\n"
	"\tint32_t big = -(int32_t)(x > 20.0f), tiny = -(int32_t)(x < -15.0f);\n"
	"\tvl.i = (vx.i & big) | (ve.i & tiny & ~big) | (vl.i & ~(big | tiny));\n"
	"\treturn vl.f;\n"
	"}\n"
	"ML_INLINE float ml_tanh(float x) { return tanhf(x); }\n"
	"ML_INLINE float ml_relu(float x) { return x > 0.0f ? x : 0.0f; }\n"
	"ML_INLINE float ml_abs(float x) { return fabsf(x); }\n"
	"ML_INLINE float ml_neg(float x) { return -x; }\n"
	"ML_INLINE float ml_recip(float x) { return 1.0f / x; }\n"
	"ML_INLINE float ml_square(float x) { return x * x; }\n"
	"ML_INLINE float ml_max(float a, float b) { return a > b ? a : b; }\n"
	"ML_INLINE float ml_min(float a, float b) { return a < b ? a : b; }\n"
	"\n"
	"/* C[M x N] += op(X)[M x K] op(Y)[K x N], row-major with leading\n"
	" * dimensions; xt/yt: X is stored K x M, Y is stored N x K.  ml_sgemm1 runs\n"
	" * on the calling thread; ml_sgemm splits a large product across OpenMP's\n"
	" * threads (with BLAS). */\n"
	"#ifdef _OPENMP\n"
	"#include <omp.h>\n"
	"#endif\n"
	"#ifdef ML_BLAS\n"
	"/* The CBLAS entry point, declared here: OpenBLAS's cblas.h pulls in\n"
	" * <complex.h>, whose macro I would clash with a size named I. */\n"
	"void cblas_sgemm(int order, int transa, int transb, int m, int n, int k,\n"
	"\t\t float alpha, const float *a, int lda, const float *b, int ldb,\n"
	"\t\t float beta, float *c, int ldc);\n"
	"void openblas_set_num_threads(int n);\n"
	"int openblas_get_num_procs(void);\n"
	"/* One threading runtime: with OpenMP, BLAS runs single-threaded (its\n"
	" * own threads would compete with OpenMP's for the cores) and a large\n"
	" * product called outside a parallel region is split across OpenMP's\n"
	" * threads, by rows or by columns, whichever is longer. */\n"
	"ML_INLINE void ml_blas_init(void)\n"
	"{\n"
	"#ifdef _OPENMP\n"
	"\topenblas_set_num_threads(1);\n"
	"#else\n"
	"\topenblas_set_num_threads(openblas_get_num_procs());\n"
	"#endif\n"
	"}\n"
	"void cblas_sgemv(int order, int trans, int m, int n, float alpha, const float *a,\n"
	"\t\t int lda, const float *x, int incx, float beta, float *y, int incy);\n"
	"ML_INLINE void ml_sgemm1(int xt, int yt, long M, long N, long K, const float *X, long ldx,\n"
	"\t\t\t     const float *Y, long ldy, float beta, float *C, long ldc)\n"
	"{\n"
	"\t/* 101: row major; 111: no transpose; 112: transpose.  A product\n"
	"\t * with one row or one column is a matrix-vector product: sgemm\n"
	"\t * would copy (pack) the whole matrix first, tripling its traffic,\n"
	"\t * which is what decoding one token is bound by. */\n"
	"\tif (M == 1 && K > 0) {\n"
	"\t\tif (yt)\n"
	"\t\t\tcblas_sgemv(101, 111, (int)N, (int)K, 1.0f, Y, (int)ldy, X,\n"
	"\t\t\t\t    xt ? (int)ldx : 1, beta, C, 1);\n"
	"\t\telse\n"
	"\t\t\tcblas_sgemv(101, 112, (int)K, (int)N, 1.0f, Y, (int)ldy, X,\n"
	"\t\t\t\t    xt ? (int)ldx : 1, beta, C, 1);\n"
	"\t\treturn;\n"
	"\t}\n"
	"\tif (N == 1 && K > 0) {\n"
	"\t\tif (xt)\n"
	"\t\t\tcblas_sgemv(101, 112, (int)K, (int)M, 1.0f, X, (int)ldx, Y,\n"
	"\t\t\t\t    yt ? 1 : (int)ldy, beta, C, (int)ldc);\n"
	"\t\telse\n"
	"\t\t\tcblas_sgemv(101, 111, (int)M, (int)K, 1.0f, X, (int)ldx, Y,\n"
	"\t\t\t\t    yt ? 1 : (int)ldy, beta, C, (int)ldc);\n"
	"\t\treturn;\n"
	"\t}\n"
	"\tcblas_sgemm(101, xt ? 112 : 111, yt ? 112 : 111, (int)M, (int)N, (int)K,\n"
	"\t\t    1.0f, X, (int)ldx, Y, (int)ldy, beta, C, (int)ldc);\n"
	"}\n"
	"#else\n"
	"ML_INLINE void ml_blas_init(void)\n"
	"{\n"
	"}\n"
	"ML_INLINE void ml_sgemm1(int xt, int yt, long M, long N, long K, const float *X, long ldx,\n"
	"\t\t\t     const float *Y, long ldy, float beta, float *C, long ldc)\n"
	"{\n"
	"\t/* Portable: the innermost loop runs along a row of C so that it\n"
	"\t * vectorises when Y is not transposed. */\n"
	"\tif (beta == 0.0f)\n"
	"\t\tfor (long i = 0; i < M; i++)\n"
	"\t\t\tmemset(C + i * ldc, 0, (size_t)N * sizeof(float));\n"
	"\tfor (long i = 0; i < M; i++)\n"
	"\t\tfor (long p = 0; p < K; p++) {\n"
	"\t\t\tfloat x = xt ? X[p * ldx + i] : X[i * ldx + p];\n"
	"\t\t\tfloat *c = C + i * ldc;\n"
	"\t\t\tif (!yt) {\n"
	"\t\t\t\tconst float *y = Y + p * ldy;\n"
	"\t\t\t\tfor (long j = 0; j < N; j++)\n"
	"\t\t\t\t\tc[j] += x * y[j];\n"
	"\t\t\t} else {\n"
	"\t\t\t\tfor (long j = 0; j < N; j++)\n"
	"\t\t\t\t\tc[j] += x * Y[j * ldy + p];\n"
	"\t\t\t}\n"
	"\t\t}\n"
	"}\n"
	"#endif\n"
	"\n"
	"/* A matrix-vector product whose matrix is stored along K (a row times a\n"
	" * row-major matrix, or the mirror of that: M == 1 && !yt, or N == 1 && xt)\n"
	" * split along K: the product of K rows lo..hi-1 alone, written to part\n"
	" * (the output's length, vlen). */\n"
	"ML_INLINE void ml_sgemm_kpart(int xt, int yt, long M, long N, long lo, long hi, const float *X,\n"
	"\t\t\t      long ldx, const float *Y, long ldy, float *part, long vlen)\n"
	"{\n"
	"\tif (M == 1)\n"
	"\t\tml_sgemm1(xt, 0, 1, N, hi - lo, xt ? X + lo * ldx : X + lo, ldx, Y + lo * ldy,\n"
	"\t\t\t  ldy, 0.0f, part, vlen);\n"
	"\telse\n"
	"\t\tml_sgemm1(1, yt, M, 1, hi - lo, X + lo * ldx, ldx, yt ? Y + lo : Y + lo * ldy, ldy,\n"
	"\t\t\t  0.0f, part, 1);\n"
	"}\n"
	"\n"
	"/* Rows lo..hi-1 of C (rows) or its columns lo..hi-1. */\n"
	"ML_INLINE void ml_sgemm_slice(int rows, int xt, int yt, long M, long N, long K, long lo, long hi,\n"
	"\t\t\t      const float *X, long ldx, const float *Y, long ldy, float beta,\n"
	"\t\t\t      float *C, long ldc)\n"
	"{\n"
	"\tif (rows)\n"
	"\t\tml_sgemm1(xt, yt, hi - lo, N, K, xt ? X + lo : X + lo * ldx, ldx, Y, ldy, beta,\n"
	"\t\t\t  C + lo * ldc, ldc);\n"
	"\telse\n"
	"\t\tml_sgemm1(xt, yt, M, hi - lo, K, X, ldx, yt ? Y + lo * ldy : Y + lo, ldy, beta,\n"
	"\t\t\t  C + lo, ldc);\n"
	"}\n"
	"\n"
	"/* Thread t of nt's share of a product split along K: C[j * c] = beta *\n"
	" * C[j * c] + the sum of the nparts parts (each vlen long) at j. */\n"
	"ML_INLINE void ml_add_parts(float *C, long c, const float *part, int nparts, long vlen,\n"
	"\t\t\t\tfloat beta, int t, int nt)\n"
	"{\n"
	"\tfor (long j = vlen * t / nt; j < vlen * (t + 1) / nt; j++) {\n"
	"\t\tfloat s = beta == 0.0f ? 0.0f : beta * C[j * c];\n"
	"\t\tfor (int u = 0; u < nparts; u++)\n"
	"\t\t\ts += part[u * vlen + j];\n"
	"\t\tC[j * c] = s;\n"
	"\t}\n"
	"}\n"
	"\n"
	"ML_INLINE void ml_sgemm(int xt, int yt, long M, long N, long K, const float *X, long ldx,\n"
	"\t\t     const float *Y, long ldy, float beta, float *C, long ldc)\n"
	"{\n"
	"#if defined(ML_BLAS) && defined(_OPENMP)\n"
	"\tint nt = omp_in_parallel() ? 1 : omp_get_max_threads();\n"
	"\t/* A matrix-vector product whose matrix is stored along K: each\n"
	"\t * thread sums one contiguous block of the matrix's rows into a part\n"
	"\t * of its own, then the parts are added.  Split along the output\n"
	"\t * instead, the threads would take turns within every row, which\n"
	"\t * streams the weights of decoding a token 15 percent slower. */\n"
	"\tlong vlen = M == 1 ? N : M;\n"
	"\tif (nt > 1 && ((M == 1 && !yt) || (N == 1 && xt)) && K >= 16L * nt &&\n"
	"\t    (double)vlen * (double)K >= 65536.0 && nt * vlen <= 16384) {\n"
	"\t\tfloat part[nt * vlen];\n"
	"\t\t#pragma omp parallel num_threads(nt)\n"
	"\t\t{\n"
	"\t\t\tint t = omp_get_thread_num();\n"
	"\t\t\tml_sgemm_kpart(xt, yt, M, N, K * t / nt, K * (t + 1) / nt, X, ldx, Y, ldy,\n"
	"\t\t\t\t       part + t * vlen, vlen);\n"
	"\t\t\t#pragma omp barrier\n"
	"\t\t\tml_add_parts(C, M == 1 ? 1 : ldc, part, nt, vlen, beta, t, nt);\n"
	"\t\t}\n"
	"\t\treturn;\n"
	"\t}\n"
	"\tif (nt > 1 && (double)M * (double)N * (double)K >= 262144.0) {\n"
	"\t\tint rows = M >= N;\n"
	"\t\tlong len = rows ? M : N, chunk = ((len + nt - 1) / nt + 15) / 16 * 16;\n"
	"\t\t#pragma omp parallel for num_threads(nt) schedule(static)\n"
	"\t\tfor (int t = 0; t < nt; t++) {\n"
	"\t\t\tlong lo = t * chunk, hi = lo + chunk < len ? lo + chunk : len;\n"
	"\t\t\tif (lo < hi)\n"
	"\t\t\t\tml_sgemm_slice(rows, xt, yt, M, N, K, lo, hi, X, ldx, Y, ldy, beta,\n"
	"\t\t\t\t\t       C, ldc);\n"
	"\t\t}\n"
	"\t\treturn;\n"
	"\t}\n"
	"#endif\n"
	"\tml_sgemm1(xt, yt, M, N, K, X, ldx, Y, ldy, beta, C, ldc);\n"
	"}\n"
	"\n"
	"/* A matrix-vector product that the threads of a team reach at\n"
	" * different times (one of them first ran groups that do not depend on\n"
	" * it): the matrix is cut into ML_TEAM blocks, each taken by whichever\n"
	" * thread is free (*next counts the blocks handed out), so that the\n"
	" * others stream the matrix meanwhile.  Blocks cut along K sum into\n"
	" * parts of their own (part: ML_TEAM times the output's length), added\n"
	" * once every block is done.  Every thread of the team calls it; outside\n"
	" * a team of several threads it is ml_sgemm. */\n"
	"#define ML_TEAM 8\n"
	"ML_INLINE void ml_sgemm_team(long *next, float *part, int xt, int yt, long M, long N,\n"
	"\t\t\t\t long K, const float *X, long ldx, const float *Y, long ldy,\n"
	"\t\t\t\t float beta, float *C, long ldc)\n"
	"{\n"
	"#ifdef _OPENMP\n"
	"\tif (omp_get_num_threads() > 1) {\n"
	"\t\tlong vlen = M == 1 ? N : M;\n"
	"\t\tint alongk = (M == 1 && !yt) || (N == 1 && xt);\n"
	"\t\tfor (;;) {\n"
	"\t\t\tlong b;\n"
	"\t\t\t#pragma omp atomic capture\n"
	"\t\t\tb = (*next)++;\n"
	"\t\t\tif (b >= ML_TEAM)\n"
	"\t\t\t\tbreak;\n"
	"\t\t\tlong len = alongk ? K : vlen, lo = len * b / ML_TEAM, hi = len * (b + 1) / ML_TEAM;\n"
	"\t\t\tif (alongk)\n"
	"\t\t\t\tml_sgemm_kpart(xt, yt, M, N, lo, hi, X, ldx, Y, ldy, part + b * vlen, vlen);\n"
	"\t\t\telse\n"
	"\t\t\t\tml_sgemm_slice(M != 1, xt, yt, M, N, K, lo, hi, X, ldx, Y, ldy, beta, C,\n"
	"\t\t\t\t\t       ldc);\n"
	"\t\t}\n"
	"\t\tif (alongk) {\n"
	"\t\t\t#pragma omp barrier\n"
	"\t\t\tml_add_parts(C, M == 1 ? 1 : ldc, part, ML_TEAM, vlen, beta,\n"
	"\t\t\t\t     omp_get_thread_num(), omp_get_num_threads());\n"
	"\t\t}\n"
	"\t\treturn;\n"
	"\t}\n"
	"#endif\n"
	"\t(void)next;\n"
	"\t(void)part;\n"
	"\tml_sgemm(xt, yt, M, N, K, X, ldx, Y, ldy, beta, C, ldc);\n"
	"}\n"
	"\n"
	"ML_INLINE float *ml_alloc(int64_t n)\n"
	"{\n"
	"\treturn malloc((size_t)(n > 0 ? n : 1) * sizeof(float));\n"
	"}\n";

static int write_file(const char *dir, const char *name, const char *text,
		      size_t len, char *err, size_t errlen)
{
	char path[4096], tmp[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		return -1;
	}
	size_t w = fwrite(text, 1, len, f);
	if (fclose(f) != 0 || w != len) {
		snprintf(err, errlen, "cannot write %s", tmp);
		remove(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot rename %s: %s", tmp, strerror(errno));
		remove(tmp);
		return -1;
	}
	return 0;
}

static void emit_header(cg *k, sb *h)
{
	const ein_cascade *c = k->c;
	const char *n = k->o->name;
	sb_printf(h, "/* %s.h - generated by mambalaya from %s; do not edit.\n"
		     " *\n"
		     " * Call %s_run() with every input, weight and output array\n"
		     " * (float32, row-major, the shapes below) and the sizes it was\n"
		     " * compiled for.  It allocates its own scratch memory and frees\n"
		     " * it; it keeps no state between calls (no globals) and may run\n"
		     " * in several threads (OpenMP) when built with -fopenmp.\n"
		     " */\n",
		  n, c->file, n);
	sb_printf(h, "#ifndef MAMBALAYA_GENERATED_%s_H\n#define MAMBALAYA_GENERATED_%s_H\n\n"
		     "#include <stdint.h>\n\n/* The sizes it was compiled for. */\n",
		  n, n);
	for (int p = 0; p < c->nparams; p++)
		sb_printf(h, "#define %s_SIZE_%s %" PRId64 "\n", n, c->params[p].name,
			  c->params[p].value);
	sb_printf(h, "\ntypedef struct %s_args {\n", n);
	sb_printf(h, "\t/* sizes: must equal the values above */\n");
	for (int p = 0; p < c->nparams; p++)
		sb_printf(h, "\tint64_t %s;\n", c->params[p].name);
	for (int t = 0; t < c->ntensors; t++) {
		const ein_tensor *tt = &c->tensors[t];
		if (tt->role == EIN_ROLE_TEMP)
			continue;
		sb_printf(h, "\t%sfloat *%s; /* %s [", tt->role == EIN_ROLE_OUTPUT ? "" : "const ",
			  tt->name, ein_role_name(tt->role));
		for (int d = 0; d < tt->ndims; d++)
			sb_printf(h, "%s%" PRId64, d ? "][" : "", tt->dims[d].size);
		sb_printf(h, "] */\n");
	}
	sb_printf(h, "\t/* optional scratch memory of at least %s_WORKSPACE_BYTES bytes,\n"
		     "\t * 64-byte aligned; NULL: the kernel allocates its own */\n"
		     "\tvoid *workspace;\n\tint64_t workspace_bytes;\n", n);
	sb_printf(h, "} %s_args;\n\n", n);
	int64_t ws = k->ws_full + k->ws_tiles + k->ws_team;
	sb_printf(h, "/* Scratch memory for the intermediates that cross fusion groups,\n"
		     " * the tile buffers of the groups that run serially, and the parts\n"
		     " * of a matrix-vector product shared by a team. */\n"
		     "#define %s_WORKSPACE_BYTES %" PRId64 "\n\n", n, ws);
	sb_printf(h, "/* Returns 0, 1 if a size differs from the compiled one, 2 if\n"
		     " * scratch memory cannot be allocated. */\n"
		     "int %s_run(const %s_args *a);\n\n#endif\n",
		  n, n);
}

static void emit_kernel(cg *k)
{
	const ein_cascade *c = k->c;
	const char *n = k->o->name;
	sb *s = &k->out;
	sb_printf(s, "/* %s.c - generated by mambalaya from %s; do not edit. */\n",
		  n, c->file);
	sb_printf(s, "%s\n#include \"%s.h\"\n\n", prelude, n);
	sb_printf(s, "int %s_run(const %s_args *a)\n{\n\tint ok = 1;\n\tml_blas_init();\n", n, n);
	for (int p = 0; p < c->nparams; p++)
		sb_printf(s, "\tif (a->%s != %" PRId64 ")\n\t\treturn 1;\n",
			  c->params[p].name, c->params[p].value);
	int64_t ws = k->ws_full + k->ws_tiles + k->ws_team;
	sb_printf(s, "\tchar *ws = a->workspace;\n"
		     "\tint own = !ws || a->workspace_bytes < %" PRId64 ";\n"
		     "\tif (own && !(ws = aligned_alloc(64, %" PRId64 ")))\n"
		     "\t\treturn 2;\n",
		  ws, ws ? ws : 64);
	int64_t off = 0;
	for (int t = 0; t < c->ntensors; t++) {
		const ein_tensor *tt = &c->tensors[t];
		if (k->buf[t].kind == BUF_USER)
			sb_printf(s, "\tfloat *restrict t_%s = (float *)a->%s;\n", tt->name,
				  tt->name);
		else if (k->buf[t].kind == BUF_FULL) {
			sb_printf(s, "\tfloat *restrict t_%s = (float *)(ws + %" PRId64 ");\n", tt->name, off);
			off += buf_bytes(&k->buf[t]);
		}
	}
}

static int emit_all(cg *k, const cg_glow *gls, const char *dir)
{
	const ein_cascade *c = k->c;
	const char *n = k->o->name;
	k->ws_full = 0;
	for (int t = 0; t < c->ntensors; t++)
		if (k->buf[t].kind == BUF_FULL)
			k->ws_full += buf_bytes(&k->buf[t]);
	k->ws_tiles = 0;
	for (int gi = 0; gi < k->p->ngroups; gi++) {
		int64_t sum = 0;
		for (int t = 0; t < c->ntensors && gls[gi].par_member < 0; t++)
			if (k->buf[t].kind == BUF_TILE && k->buf[t].group == gi)
				sum += buf_bytes(&k->buf[t]);
		if (sum > k->ws_tiles)
			k->ws_tiles = sum;
	}
	/* Per group: where the groups run beside its product end, and the
	 * product's matrix elements (team_end). */
	int ng = k->p->ngroups > 0 ? k->p->ngroups : 1;
	int *team = malloc((size_t)ng * sizeof(int));
	int64_t *elems = malloc((size_t)ng * sizeof(int64_t));
	if (!team || !elems) {
		free(team);
		free(elems);
		snprintf(k->err, k->errlen, "out of memory");
		return -1;
	}
	k->ws_team = 0;
	for (int gi = 0; gi < k->p->ngroups; gi++) {
		int64_t vlen;
		team[gi] = team_end(k, gls, gi, &vlen, &elems[gi]);
		int64_t bytes = (TEAM_BLOCKS * vlen * 4 + 63) / 64 * 64;
		if (team[gi] > gi + 1 && bytes > k->ws_team)
			k->ws_team = bytes;
	}
	emit_kernel(k);
	for (int gi = 0; gi < k->p->ngroups; gi++) {
		if (team[gi] > gi + 1) {
			emit_team(k, gls, gi, team[gi], elems[gi]);
			gi = team[gi] - 1;
		} else {
			emit_group(k, &gls[gi], gi, 1);
		}
	}
	free(team);
	free(elems);
	sb *s = &k->out;
	sb_printf(s, "\tif (own)\n\t\tfree(ws);\n");
	sb_printf(s, "\treturn ok ? 0 : 2;\n}\n");
	sb h = {0};
	emit_header(k, &h);
	/* The driver: reads .npy inputs, runs, writes .npy outputs. */
	sb d = {0};
	sb_printf(&d, "/* %s_main.c - generated by mambalaya: runs %s on .npy files.\n"
		      " * Usage: %s --in DIR --out DIR [--bench N] */\n",
		  n, n, n);
	sb_printf(&d, "#define _POSIX_C_SOURCE 200809L\n#include <stdio.h>\n#include <stdlib.h>\n"
		      "#include <string.h>\n#include <sys/resource.h>\n#include <sys/stat.h>\n#include <time.h>\n\n"
		      "#include \"npy.h\"\n#include \"%s.h\"\n\n",
		  n);
	sb_printf(&d, "static double now(void)\n{\n\tstruct timespec t;\n"
		      "\tclock_gettime(CLOCK_MONOTONIC, &t);\n"
		      "\treturn (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;\n}\n\n"
		      "static int cmp(const void *a, const void *b)\n{\n"
		      "\tdouble x = *(const double *)a, y = *(const double *)b;\n"
		      "\treturn (x > y) - (x < y);\n}\n\n");
	sb_printf(&d, "static int load(const char *dir, const char *name, float **p, int nd,\n"
		      "\t\tconst int64_t *want)\n{\n"
		      "\tchar path[4096], err[256], a[256], b[256];\n"
		      "\tint64_t shape[NPY_MAX_DIMS];\n\tint got;\n"
		      "\tsnprintf(path, sizeof(path), \"%%s/%%s.npy\", dir, name);\n"
		      "\tif (npy_read_f32(path, p, &got, shape, err, sizeof(err)) < 0) {\n"
		      "\t\tfprintf(stderr, \"%%s: error: %%s\\n\", path, err);\n\t\treturn -1;\n\t}\n"
		      "\tint same = got == nd;\n"
		      "\tfor (int i = 0; same && i < nd; i++)\n\t\tsame = shape[i] == want[i];\n"
		      "\tif (!same) {\n\t\tnpy_shape_str(nd, want, a, sizeof(a));\n"
		      "\t\tnpy_shape_str(got, shape, b, sizeof(b));\n"
		      "\t\tfprintf(stderr, \"%%s: error: %%s has shape %%s, expected %%s\\n\", path, name, b, a);\n"
		      "\t\tfree(*p);\n\t\t*p = NULL;\n\t\treturn -1;\n\t}\n\treturn 0;\n}\n\n");
	sb_printf(&d, "int main(int argc, char **argv)\n{\n"
		      "\tconst char *in = NULL, *out = NULL;\n\tint bench = 0, status = 1;\n"
		      "\tfor (int i = 1; i < argc; i++) {\n"
		      "\t\tif (!strcmp(argv[i], \"--in\") && i + 1 < argc)\n\t\t\tin = argv[++i];\n"
		      "\t\telse if (!strcmp(argv[i], \"--out\") && i + 1 < argc)\n\t\t\tout = argv[++i];\n"
		      "\t\telse if (!strcmp(argv[i], \"--bench\") && i + 1 < argc)\n\t\t\tbench = atoi(argv[++i]);\n"
		      "\t\telse {\n\t\t\tfprintf(stderr, \"usage: %%s --in DIR --out DIR [--bench N]\\n\", argv[0]);\n"
		      "\t\t\treturn 2;\n\t\t}\n\t}\n"
		      "\tif (!in || !out || bench < 0) {\n"
		      "\t\tfprintf(stderr, \"usage: %%s --in DIR --out DIR [--bench N]\\n\", argv[0]);\n"
		      "\t\treturn 2;\n\t}\n"
		      "\t%s_args a;\n\tmemset(&a, 0, sizeof(a));\n",
		  n);
	for (int p = 0; p < c->nparams; p++)
		sb_printf(&d, "\ta.%s = %" PRId64 ";\n", c->params[p].name,
			  c->params[p].value);
	int ntens = 0;
	for (int t = 0; t < c->ntensors; t++) {
		const ein_tensor *tt = &c->tensors[t];
		if (tt->role == EIN_ROLE_TEMP)
			continue;
		ntens++;
		sb_printf(&d, "\tfloat *p_%s = NULL;\n\tconst int64_t s_%s[%d] = {", tt->name,
			  tt->name, tt->ndims ? tt->ndims : 1);
		for (int dd = 0; dd < tt->ndims; dd++)
			sb_printf(&d, "%s%" PRId64, dd ? ", " : "", tt->dims[dd].size);
		if (!tt->ndims)
			sb_printf(&d, "1");
		sb_printf(&d, "};\n");
	}
	(void)ntens;
	for (int t = 0; t < c->ntensors; t++) {
		const ein_tensor *tt = &c->tensors[t];
		if (tt->role == EIN_ROLE_INPUT || tt->role == EIN_ROLE_WEIGHT)
			sb_printf(&d, "\tif (load(in, \"%s\", &p_%s, %d, s_%s) < 0)\n\t\tgoto done;\n",
				  tt->name, tt->name, tt->ndims, tt->name);
		else if (tt->role == EIN_ROLE_OUTPUT)
			sb_printf(&d, "\tp_%s = calloc(%" PRId64 ", sizeof(float));\n"
				      "\tif (!p_%s) {\n\t\tfprintf(stderr, \"out of memory\\n\");\n\t\tgoto done;\n\t}\n",
				  tt->name, tt->nelems ? tt->nelems : 1, tt->name);
		if (tt->role != EIN_ROLE_TEMP)
			sb_printf(&d, "\ta.%s = p_%s;\n", tt->name, tt->name);
	}
	sb_printf(&d, "\t/* Scratch memory allocated once, reused by every run. */\n"
		      "\ta.workspace = aligned_alloc(64, %s_WORKSPACE_BYTES > 0 ? %s_WORKSPACE_BYTES : 64);\n"
		      "\ta.workspace_bytes = a.workspace ? %s_WORKSPACE_BYTES : 0;\n",
		  n, n, n);
	sb_printf(&d, "\tint r = %s_run(&a);\n"
		      "\tif (r) {\n\t\tfprintf(stderr, \"%s_run failed (%%d)\\n\", r);\n\t\tgoto done;\n\t}\n",
		  n, n);
	sb_printf(&d, "\tif (bench > 0) {\n"
		      "\t\tdouble *ms = malloc((size_t)bench * sizeof(double));\n"
		      "\t\tif (!ms)\n\t\t\tgoto done;\n"
		      "\t\tfor (int i = 0; i < bench; i++) {\n"
		      "\t\t\tdouble t0 = now();\n\t\t\t%s_run(&a);\n"
		      "\t\t\tms[i] = 1e3 * (now() - t0);\n\t\t}\n"
		      "\t\tqsort(ms, (size_t)bench, sizeof(double), cmp);\n"
		      "\t\tprintf(\"bench: runs=%%d median_ms=%%.3f min_ms=%%.3f\\n\", bench, ms[bench / 2], ms[0]);\n"
		      "\t\tstruct rusage ru;\n"
		      "\t\tif (getrusage(RUSAGE_SELF, &ru) == 0)\n"
		      "\t\t\tprintf(\"memory: peak_rss_kb=%%ld\\n\", ru.ru_maxrss);\n"
		      "\t\tfree(ms);\n\t}\n",
		  n);
	sb_printf(&d, "\tmkdir(out, 0777);\n");
	for (int t = 0; t < c->ntensors; t++) {
		const ein_tensor *tt = &c->tensors[t];
		if (tt->role != EIN_ROLE_OUTPUT)
			continue;
		sb_printf(&d, "\t{\n\t\tchar path[4096], err[256];\n"
			      "\t\tsnprintf(path, sizeof(path), \"%%s/%s.npy\", out);\n"
			      "\t\tif (npy_write_f32(path, p_%s, %d, s_%s, err, sizeof(err)) < 0) {\n"
			      "\t\t\tfprintf(stderr, \"%%s: error: %%s\\n\", path, err);\n\t\t\tgoto done;\n\t\t}\n\t}\n",
			  tt->name, tt->name, tt->ndims, tt->name);
	}
	sb_printf(&d, "\tstatus = 0;\ndone:\n\tfree(a.workspace);\n");
	for (int t = 0; t < c->ntensors; t++)
		if (c->tensors[t].role != EIN_ROLE_TEMP)
			sb_printf(&d, "\tfree(p_%s);\n", c->tensors[t].name);
	sb_printf(&d, "\treturn status;\n}\n");
	/* Makefile */
	sb mk = {0};
	sb_printf(&mk,
		  "# Generated by mambalaya.  `make` builds ./%s; CC, CFLAGS and LDLIBS\n"
		  "# may be overridden (e.g. make CFLAGS='-O2 -fsanitize=address').\n"
		  "CC ?= cc\n"
		  "# Sums may be reassociated (vectorised reductions); NaN and inf keep\n"
		  "# their meaning (no -ffinite-math-only).\n"
		  "CFLAGS ?= -O3 -march=native -fopenmp -fno-math-errno -fno-trapping-math \\\n"
		  "\t-fassociative-math -fno-signed-zeros -Wall -Wextra\n",
		  n);
	if (k->o->blas)
		sb_printf(&mk, "# GEMM-shaped Einsums call cblas_sgemm (OpenBLAS).\n"
			       "CPPFLAGS += -DML_BLAS\n"
			       "LDLIBS ?= -lopenblas -lm\n\n");
	else
		sb_printf(&mk, "LDLIBS ?= -lm\n\n");
	sb_printf(&mk,
		  "%s: %s.c %s_main.c npy.c %s.h npy.h\n"
		  "\t$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ %s.c %s_main.c npy.c $(LDLIBS)\n\n"
		  "clean:\n\trm -f %s\n\n.PHONY: clean\n",
		  n, n, n, n, n, n, n);
	int rc = -1;
	if (k->out.oom || h.oom || d.oom || mk.oom) {
		snprintf(k->err, k->errlen, "out of memory");
		goto done;
	}
	char fname[128];
	snprintf(fname, sizeof(fname), "%s.c", n);
	if (write_file(dir, fname, k->out.p, k->out.n, k->err, k->errlen) < 0)
		goto done;
	snprintf(fname, sizeof(fname), "%s.h", n);
	if (write_file(dir, fname, h.p, h.n, k->err, k->errlen) < 0)
		goto done;
	snprintf(fname, sizeof(fname), "%s_main.c", n);
	if (write_file(dir, fname, d.p, d.n, k->err, k->errlen) < 0)
		goto done;
	if (write_file(dir, "Makefile", mk.p, mk.n, k->err, k->errlen) < 0 ||
	    write_file(dir, "npy.c", rt_npy_c, strlen(rt_npy_c), k->err, k->errlen) < 0 ||
	    write_file(dir, "npy.h", rt_npy_h, strlen(rt_npy_h), k->err, k->errlen) < 0)
		goto done;
	rc = 0;
done:
	free(h.p);
	free(d.p);
	free(mk.p);
	return rc;
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
		fusion_req req = group_req(k, gi);
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

static const char *const c_keywords[] = {
	"auto", "break", "case", "char", "const", "continue", "default", "do",
	"double", "else", "enum", "extern", "float", "for", "goto", "if",
	"inline", "int", "long", "register", "restrict", "return", "short",
	"signed", "sizeof", "static", "struct", "switch", "typedef", "union",
	"unsigned", "void", "volatile", "while", "a", NULL};

/* Tensor and parameter names become struct fields: they must not be C
 * keywords (or `a`, the argument's name in the generated driver). */
static int check_names(const ein_cascade *c, char *err, size_t errlen)
{
	for (int i = 0; c_keywords[i]; i++) {
		const char *kw = c_keywords[i];
		if (ein_cascade_find_tensor(c, kw) >= 0 ||
		    ein_cascade_find_param(c, kw) >= 0) {
			snprintf(err, errlen,
				 "'%s' cannot be a tensor or parameter name in generated C; "
				 "rename it",
				 kw);
			return -1;
		}
	}
	return 0;
}

void cg_lowered_free(cg_lowered *l)
{
	if (!l)
		return;
	if (l->groups)
		for (int gi = 0; gi < l->k.p->ngroups; gi++)
			isl_ast_node_free(l->groups[gi].ast);
	free(l->groups);
	free(l->k.out.p);
	free(l->k.gemm);
	free(l->k.buf);
	free(l->k.group_of);
	free(l->k.strips);
	free(l->k.stmt_run);
	free(l->k.par_ranks);
	free(l);
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
	cg *k = &l->k;
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
		goto fail;
	}
	if (check_names(k->c, err, errlen) < 0) {
		rc = -2;
		goto fail;
	}
	k->group_of = malloc((size_t)(k->c->neinsums ? k->c->neinsums : 1) * sizeof(int));
	k->gemm = calloc((size_t)(k->c->neinsums ? k->c->neinsums : 1), sizeof(*k->gemm));
	k->stmt_run = malloc((size_t)(k->c->neinsums ? k->c->neinsums : 1) * sizeof(*k->stmt_run));
	k->par_ranks = calloc((size_t)(k->c->neinsums ? k->c->neinsums : 1), sizeof(*k->par_ranks));
	if (k->stmt_run)
		for (int e = 0; e < k->c->neinsums; e++)
			k->stmt_run[e][0] = k->stmt_run[e][1] = -1;
	l->groups = calloc((size_t)(p->ngroups ? p->ngroups : 1), sizeof(*l->groups));
	if (!k->group_of || !k->gemm || !l->groups || !k->stmt_run || !k->par_ranks) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	rc = validate(k);
	if (rc < 0)
		goto fail;
	rc = -1;
	if (plan_buffers(k) < 0) {
		snprintf(err, errlen, "isl: %s", poly_error(k->ctx));
		goto fail;
	}
	for (int gi = 0; gi < p->ngroups; gi++)
		plan_gemms(k, gi);
	/* Contraction needs the strips and parallel loops lowering chose. */
	for (int gi = 0; gi < p->ngroups; gi++)
		if (lower_group(k, &l->groups[gi], gi) < 0)
			goto fail;
	if (contract_buffers(k) < 0) {
		snprintf(err, errlen, "isl (array contraction): %s", poly_error(k->ctx));
		goto fail;
	}
	*out = l;
	return 0;
fail:
	cg_lowered_free(l);
	return rc;
}

int cg_emit(const deps_graph *g, const cg_plan *p, const cg_options *o,
	    const char *dir, char *err, size_t errlen)
{
	cg_lowered *l = NULL;
	int rc = cg_lower(g, p, o, &l, err, errlen);
	if (rc < 0)
		return rc;
	rc = emit_all(&l->k, l->groups, dir) < 0 ? -1 : 0;
	cg_lowered_free(l);
	return rc;
}

const cg_buffer *cg_lowered_buffer(const cg_lowered *l, int tensor)
{
	return &l->k.buf[tensor];
}

const cg_gemm *cg_lowered_gemm(const cg_lowered *l, int einsum)
{
	return &l->k.gemm[einsum];
}

__isl_keep isl_ast_node *cg_lowered_ast(const cg_lowered *l, int group)
{
	return l->groups[group].ast;
}

int cg_lowered_parallel_member(const cg_lowered *l, int group)
{
	return l->groups[group].par_member;
}

const cg_plan *cg_lowered_plan(const cg_lowered *l)
{
	return l->k.p;
}
