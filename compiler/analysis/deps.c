/* deps.c - dependences of a cascade with isl's dataflow analysis (deps.h). */
#include "deps.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isl/aff.h>
#include <isl/flow.h>
#include <isl/ilp.h>
#include <isl/id.h>
#include <isl/set.h>
#include <isl/space.h>
#include <isl/union_set.h>
#include <isl/val.h>

#include "poly.h"

const char *deps_class_name(deps_class k)
{
	switch (k) {
	case DEPS_RI:
		return "RI";
	case DEPS_RSB:
		return "RSb";
	case DEPS_RSP:
		return "RSp";
	case DEPS_RD:
		return "RD";
	}
	return "?";
}

int deps_rank(const deps_graph *g, const char *name)
{
	for (int r = 0; r < g->nranks; r++)
		if (strcmp(g->ranks[r], name) == 0)
			return r;
	return -1;
}

int deps_has_rank(const deps_graph *g, int e, int r)
{
	return r >= 0 && g->var_of[e][r] >= 0;
}

int deps_sequential(const deps_graph *g, int e, int r)
{
	for (int k = 0; k < g->nself; k++) {
		const deps_edge *s = &g->self[k];
		if (s->producer != e)
			continue;
		for (int d = 0; d < s->ndist; d++)
			if (s->dist[d].rank == r &&
			    (s->dist[d].lo != 0 || s->dist[d].hi != 0))
				return 1;
	}
	return 0;
}

void deps_rank_list(const deps_graph *g, uint32_t bits, char *buf, size_t len)
{
	size_t w = 0;
	buf[0] = '\0';
	for (int r = 0; r < g->nranks && w < len; r++)
		if ((bits >> r) & 1)
			w += (size_t)snprintf(buf + w, len - w, "%s%s", w ? "," : "", g->ranks[r]);
}

void deps_element_str(const ein_cascade *c, int e, const int64_t *x, char *buf,
		      size_t len)
{
	const ein_einsum *es = &c->einsums[e];
	const ein_tensor *tt = &c->tensors[es->out.tensor];
	int64_t vars[EIN_MAX_VARS] = {0};
	memcpy(vars, x, sizeof(int64_t) * (size_t)es->nvars);
	size_t w = (size_t)snprintf(buf, len, "%s[", tt->name);
	for (int d = 0; d < es->out.nidx && w < len; d++)
		w += (size_t)snprintf(buf + w, len - w, "%s%" PRId64, d ? ", " : "",
				      ein_aff_eval(c, &es->out.idx[d], vars));
	if (w < len)
		snprintf(buf + w, len - w, "]");
}

void deps_instance_str(const ein_cascade *c, int e, const int64_t *x,
		       char *buf, size_t len)
{
	const ein_einsum *es = &c->einsums[e];
	size_t w = (size_t)snprintf(buf, len, "%s(", es->name);
	for (int v = 0; v < es->nvars && w < len; v++)
		w += (size_t)snprintf(buf + w, len - w, "%s%s=%" PRId64,
				      v ? ", " : "", es->vars[v].name, x[v]);
	if (w < len)
		snprintf(buf + w, len - w, ")");
}

static void edge_clear(deps_edge *e)
{
	isl_map_free(e->rel);
	e->rel = NULL;
}

void deps_free(deps_graph *g)
{
	if (!g)
		return;
	for (int r = 0; r < g->nranks; r++)
		free(g->ranks[r]);
	free(g->out_ranks);
	free(g->red_ranks);
	free(g->var_of);
	for (int k = 0; k < g->nedges; k++)
		edge_clear(&g->edges[k]);
	free(g->edges);
	for (int k = 0; k < g->nself; k++)
		edge_clear(&g->self[k]);
	free(g->self);
	for (int k = 0; k < g->nmem; k++)
		edge_clear(&g->mem[k]);
	free(g->mem);
	isl_union_map_free(g->waw);
	isl_union_map_free(g->war);
	isl_union_map_free(g->live_in);
	free(g->reach);
	for (int k = 0; k < g->npasses; k++)
		free(g->passes[k].pass_of);
	free(g->passes);
	free(g);
}

/* Rank names, and each Einsum's ranks by role. */
static int collect_ranks(deps_graph *g, char *err, size_t errlen)
{
	const ein_cascade *c = g->c;
	int n = c->neinsums ? c->neinsums : 1;
	g->out_ranks = calloc((size_t)n, sizeof(uint32_t));
	g->red_ranks = calloc((size_t)n, sizeof(uint32_t));
	g->var_of = malloc((size_t)n * sizeof(*g->var_of));
	if (!g->out_ranks || !g->red_ranks || !g->var_of) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int e = 0; e < c->neinsums; e++) {
		const ein_einsum *es = &c->einsums[e];
		for (int r = 0; r < DEPS_MAX_RANKS; r++)
			g->var_of[e][r] = -1;
		for (int v = 0; v < es->nvars; v++) {
			int r = deps_rank(g, es->vars[v].name);
			if (r < 0) {
				if (g->nranks == DEPS_MAX_RANKS) {
					snprintf(err, errlen,
						 "more than %d distinct rank names",
						 DEPS_MAX_RANKS);
					return -1;
				}
				r = g->nranks;
				g->ranks[g->nranks++] = strdup(es->vars[v].name);
			}
			g->var_of[e][r] = v;
			if (es->vars[v].reduced)
				g->red_ranks[e] |= 1u << r;
			else
				g->out_ranks[e] |= 1u << r;
		}
	}
	return 0;
}

/* The program-order schedule: S<e>[x] -> [e, x_gen, x in order, 0...]. */
static __isl_give isl_union_map *program_order(isl_ctx *ctx,
					       const ein_cascade *c, int width)
{
	isl_union_map *sched = isl_union_map_empty(poly_param_space(ctx, c));
	for (int e = 0; e < c->neinsums; e++) {
		const ein_einsum *es = &c->einsums[e];
		isl_space *dsp = poly_stmt_space(ctx, c, e);
		isl_space *tsp = isl_space_add_dims(poly_param_space(ctx, c),
						    isl_dim_set, (unsigned)width);
		isl_space *msp = isl_space_map_from_domain_and_range(
			isl_space_copy(dsp), tsp);
		isl_local_space *ls = isl_local_space_from_space(dsp);
		isl_aff_list *list = isl_aff_list_alloc(ctx, width);
		int order[EIN_MAX_VARS], n = 0;
		if (es->gen_var >= 0)
			order[n++] = es->gen_var;
		for (int v = 0; v < es->nvars; v++)
			if (v != es->gen_var)
				order[n++] = v;
		for (int k = 0; k < width; k++) {
			isl_aff *a;
			if (k == 0)
				a = isl_aff_val_on_domain(isl_local_space_copy(ls),
							  isl_val_int_from_si(ctx, e));
			else if (k - 1 < n)
				a = isl_aff_var_on_domain(isl_local_space_copy(ls),
							  isl_dim_set,
							  (unsigned)order[k - 1]);
			else
				a = isl_aff_zero_on_domain(isl_local_space_copy(ls));
			list = isl_aff_list_add(list, a);
		}
		isl_local_space_free(ls);
		isl_map *m = isl_map_from_multi_aff(
			isl_multi_aff_from_aff_list(msp, list));
		sched = isl_union_map_add_map(sched, m);
	}
	return sched;
}

/* Every access of tensor t, as a union map restricted to the domains:
 * writes (is_write) or reads. */
static __isl_give isl_union_map *accesses_of(isl_ctx *ctx, const ein_cascade *c,
					     isl_set **doms, int t, int is_write)
{
	isl_union_map *u = isl_union_map_empty(poly_param_space(ctx, c));
	for (int e = 0; e < c->neinsums; e++) {
		const ein_einsum *es = &c->einsums[e];
		if (is_write) {
			if (es->out.tensor == t)
				u = isl_union_map_add_map(
					u, isl_map_intersect_domain(
						   poly_access(ctx, c, e, &es->out),
						   isl_set_copy(doms[e])));
			continue;
		}
		for (int r = 0; r < es->nreads; r++)
			if (es->reads[r].tensor == t)
				u = isl_union_map_add_map(
					u, isl_map_intersect_domain(
						   poly_access(ctx, c, e, &es->reads[r]),
						   isl_set_copy(doms[e])));
	}
	return u;
}

/* The statement index of a map's domain (tuple "S<e>"). */
static int stmt_of(__isl_keep isl_space *sp, enum isl_dim_type type)
{
	const char *n = isl_space_get_tuple_name(sp, type);
	if (!n || n[0] != 'S')
		return -1;
	return atoi(n + 1);
}

/* Distances along the ranks both ends iterate. */
static int edge_distances(deps_graph *g, deps_edge *ed)
{
	ed->ndist = 0;
	for (int r = 0; r < g->nranks; r++) {
		int vp = g->var_of[ed->producer][r];
		int vc = g->var_of[ed->consumer][r];
		if (vp < 0 || vc < 0)
			continue;
		isl_map *m = isl_map_copy(ed->rel);
		int np = g->c->einsums[ed->producer].nvars;
		int nc = g->c->einsums[ed->consumer].nvars;
		/* Keep dimension vp of the domain and vc of the range. */
		m = isl_map_project_out(m, isl_dim_out, (unsigned)(vc + 1),
					(unsigned)(nc - vc - 1));
		m = isl_map_project_out(m, isl_dim_out, 0, (unsigned)vc);
		m = isl_map_project_out(m, isl_dim_in, (unsigned)(vp + 1),
					(unsigned)(np - vp - 1));
		m = isl_map_project_out(m, isl_dim_in, 0, (unsigned)vp);
		m = isl_map_reset_tuple_id(m, isl_dim_in);
		m = isl_map_reset_tuple_id(m, isl_dim_out);
		isl_set *d = isl_map_deltas(m);
		if (!d)
			return -1;
		if (isl_set_is_empty(d) == isl_bool_true) {
			isl_set_free(d);
			continue;
		}
		isl_val *lo = isl_set_dim_min_val(isl_set_copy(d), 0);
		isl_val *hi = isl_set_dim_max_val(d, 0);
		if (!lo || !hi || !isl_val_is_int(lo) || !isl_val_is_int(hi)) {
			isl_val_free(lo);
			isl_val_free(hi);
			return -1;
		}
		deps_dist *dd = &ed->dist[ed->ndist++];
		dd->rank = r;
		dd->lo = isl_val_get_num_si(lo);
		dd->hi = isl_val_get_num_si(hi);
		isl_val_free(lo);
		isl_val_free(hi);
		if (ed->ndist == EIN_MAX_VARS)
			break;
	}
	return 0;
}

static deps_class classify(uint32_t po, uint32_t pr, uint32_t co, uint32_t cr)
{
	if (po == co && pr == cr)
		return DEPS_RI;
	int c_in_p = (co & ~po) == 0 && (cr & ~pr) == 0;
	int p_in_c = (po & ~co) == 0 && (pr & ~cr) == 0;
	if (c_in_p)
		return DEPS_RSB;
	if (p_in_c)
		return DEPS_RSP;
	return DEPS_RD;
}

typedef struct flow_cb {
	deps_graph *g;
	int tensor;
	int failed;
} flow_cb;

static isl_stat add_flow_map(__isl_take isl_map *m, void *user)
{
	flow_cb *cb = user;
	deps_graph *g = cb->g;
	isl_space *sp = isl_map_get_space(m);
	int p = stmt_of(sp, isl_dim_in), q = stmt_of(sp, isl_dim_out);
	isl_space_free(sp);
	if (p < 0 || q < 0) {
		isl_map_free(m);
		cb->failed = 1;
		return isl_stat_error;
	}
	int self = p == q;
	deps_edge **arr = self ? &g->self : &g->edges;
	int *n = self ? &g->nself : &g->nedges;
	deps_edge *na = realloc(*arr, (size_t)(*n + 1) * sizeof(**arr));
	if (!na) {
		isl_map_free(m);
		cb->failed = 1;
		return isl_stat_error;
	}
	*arr = na;
	deps_edge *ed = &na[(*n)++];
	memset(ed, 0, sizeof(*ed));
	ed->producer = p;
	ed->consumer = q;
	ed->tensor = cb->tensor;
	ed->rel = isl_map_coalesce(m);
	ed->pairs = -1;
	ed->p_out = g->out_ranks[p];
	ed->p_red = g->red_ranks[p];
	ed->c_out = g->out_ranks[q];
	ed->c_red = g->red_ranks[q];
	ed->cls = classify(ed->p_out, ed->p_red, ed->c_out, ed->c_red);
	if (edge_distances(g, ed) < 0) {
		cb->failed = 1;
		return isl_stat_error;
	}
	return isl_stat_ok;
}

static isl_stat add_mem_map(__isl_take isl_map *m, void *user)
{
	deps_graph *g = user;
	isl_space *sp = isl_map_get_space(m);
	int p = stmt_of(sp, isl_dim_in), q = stmt_of(sp, isl_dim_out);
	isl_space_free(sp);
	deps_edge *na = realloc(g->mem, (size_t)(g->nmem + 1) * sizeof(*na));
	if (!na || p < 0 || q < 0) {
		if (na)
			g->mem = na;
		isl_map_free(m);
		return isl_stat_error;
	}
	g->mem = na;
	deps_edge *ed = &na[g->nmem++];
	memset(ed, 0, sizeof(*ed));
	ed->producer = p;
	ed->consumer = q;
	ed->tensor = -1;
	ed->rel = m;
	ed->pairs = -1;
	return isl_stat_ok;
}

static int cmp_edge(const void *pa, const void *pb)
{
	const deps_edge *a = pa, *b = pb;
	if (a->consumer != b->consumer)
		return a->consumer < b->consumer ? -1 : 1;
	if (a->producer != b->producer)
		return a->producer < b->producer ? -1 : 1;
	return (a->tensor > b->tensor) - (a->tensor < b->tensor);
}

static int compute_reach(deps_graph *g)
{
	int n = g->c->neinsums;
	g->reach = calloc((size_t)(n ? n * n : 1), 1);
	if (!g->reach)
		return -1;
	for (int k = 0; k < g->nedges; k++)
		g->reach[g->edges[k].producer * n + g->edges[k].consumer] = 1;
	/* Source order is a topological order: producers come first. */
	for (int f = 0; f < n; f++)
		for (int e = f - 1; e >= 0; e--)
			if (g->reach[e * n + f])
				for (int d = 0; d < e; d++)
					if (g->reach[d * n + e])
						g->reach[d * n + f] = 1;
	return 0;
}

/* Does Einsum e read tensor t with rank r in the index? */
static int reads_over(const deps_graph *g, int e, int t, int r)
{
	const ein_einsum *es = &g->c->einsums[e];
	int v = g->var_of[e][r];
	if (v < 0)
		return 0;
	for (int k = 0; k < es->nreads; k++) {
		if (es->reads[k].tensor != t)
			continue;
		for (int d = 0; d < es->reads[k].nidx; d++)
			if (es->reads[k].idx[d].vc[v])
				return 1;
	}
	return 0;
}

/* Passes (FuseMax): the pass of an Einsum over rank r is one more than the
 * largest number of r-reductions on a dependence path leading to it.  A
 * tensor read over r by Einsums in different passes is multi-pass. */
static int compute_passes(deps_graph *g)
{
	const ein_cascade *c = g->c;
	int n = c->neinsums;
	int *level = malloc((size_t)(n ? n : 1) * sizeof(int));
	if (!level)
		return -1;
	for (int r = 0; r < g->nranks; r++) {
		for (int e = 0; e < n; e++) {
			level[e] = 1;
			for (int k = 0; k < g->nedges; k++) {
				const deps_edge *ed = &g->edges[k];
				if (ed->consumer != e)
					continue;
				int p = ed->producer;
				int l = level[p] + ((g->red_ranks[p] >> r) & 1);
				if (l > level[e])
					level[e] = l;
			}
		}
		for (int t = 0; t < c->ntensors; t++) {
			const ein_tensor *tt = &c->tensors[t];
			int lo = 0, hi = 0, distinct = 0;
			int seen[64] = {0};
			for (int i = 0; i < tt->nreaders; i++) {
				int e = tt->readers[i];
				if (!reads_over(g, e, t, r))
					continue;
				int l = level[e];
				if (!lo || l < lo)
					lo = l;
				if (l > hi)
					hi = l;
				if (l < 64 && !seen[l]) {
					seen[l] = 1;
					distinct++;
				}
			}
			if (distinct < 2)
				continue;
			deps_pass *np = realloc(g->passes, (size_t)(g->npasses + 1) *
								   sizeof(*np));
			if (!np)
				goto oom;
			g->passes = np;
			deps_pass *ps = &np[g->npasses++];
			ps->tensor = t;
			ps->rank = r;
			ps->npasses = distinct;
			ps->pass_of = calloc((size_t)(n ? n : 1), sizeof(int));
			if (!ps->pass_of)
				goto oom;
			/* Renumber the levels 1..npasses. */
			for (int i = 0; i < tt->nreaders; i++) {
				int e = tt->readers[i];
				if (!reads_over(g, e, t, r))
					continue;
				int rank = 0;
				for (int l = lo; l <= level[e] && l < 64; l++)
					rank += seen[l];
				ps->pass_of[e] = rank;
			}
		}
	}
	free(level);
	return 0;
oom:
	free(level);
	return -1;
}

deps_graph *deps_build(isl_ctx *ctx, const ein_cascade *c, char *err,
		       size_t errlen)
{
	deps_graph *g = calloc(1, sizeof(*g));
	isl_set **doms = NULL;
	isl_union_map *sched = NULL;
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->c = c;
	g->ctx = ctx;
	if (collect_ranks(g, err, errlen) < 0)
		goto fail;
	doms = calloc((size_t)(c->neinsums ? c->neinsums : 1), sizeof(*doms));
	if (!doms)
		goto oom;
	int width = 1;
	for (int e = 0; e < c->neinsums; e++) {
		doms[e] = poly_domain(ctx, c, e, 1);
		if (!doms[e])
			goto isl_fail;
		if (c->einsums[e].nvars + 1 > width)
			width = c->einsums[e].nvars + 1;
	}
	sched = program_order(ctx, c, width);
	g->waw = isl_union_map_empty(poly_param_space(ctx, c));
	g->war = isl_union_map_empty(poly_param_space(ctx, c));
	g->live_in = isl_union_map_empty(poly_param_space(ctx, c));
	for (int t = 0; t < c->ntensors; t++) {
		isl_union_map *reads = accesses_of(ctx, c, doms, t, 0);
		isl_union_map *writes = accesses_of(ctx, c, doms, t, 1);
		/* Flow: the last write before each read. */
		isl_union_access_info *ai =
			isl_union_access_info_from_sink(isl_union_map_copy(reads));
		ai = isl_union_access_info_set_must_source(ai,
							   isl_union_map_copy(writes));
		ai = isl_union_access_info_set_schedule_map(ai,
							    isl_union_map_copy(sched));
		isl_union_flow *fl = isl_union_access_info_compute_flow(ai);
		isl_union_map *dep = isl_union_flow_get_may_dependence(fl);
		isl_union_map *nosrc = isl_union_flow_get_may_no_source(fl);
		isl_union_flow_free(fl);
		if (!dep || !nosrc) {
			isl_union_map_free(dep);
			isl_union_map_free(nosrc);
			isl_union_map_free(reads);
			isl_union_map_free(writes);
			goto isl_fail;
		}
		g->live_in = isl_union_map_union(g->live_in, nosrc);
		flow_cb cb = {g, t, 0};
		isl_union_map_foreach_map(dep, add_flow_map, &cb);
		isl_union_map_free(dep);
		if (cb.failed) {
			isl_union_map_free(reads);
			isl_union_map_free(writes);
			goto isl_fail;
		}
		/* Memory dependences: later writes after writes (a reduction's
		 * accumulation) and after reads. */
		isl_union_access_info *aw =
			isl_union_access_info_from_sink(isl_union_map_copy(writes));
		aw = isl_union_access_info_set_may_source(aw, isl_union_map_copy(writes));
		aw = isl_union_access_info_set_schedule_map(aw, isl_union_map_copy(sched));
		isl_union_flow *fw = isl_union_access_info_compute_flow(aw);
		g->waw = isl_union_map_union(g->waw, isl_union_flow_get_may_dependence(fw));
		isl_union_flow_free(fw);
		isl_union_access_info *ar = isl_union_access_info_from_sink(writes);
		ar = isl_union_access_info_set_may_source(ar, reads);
		ar = isl_union_access_info_set_schedule_map(ar, isl_union_map_copy(sched));
		isl_union_flow *fr = isl_union_access_info_compute_flow(ar);
		g->war = isl_union_map_union(g->war, isl_union_flow_get_may_dependence(fr));
		isl_union_flow_free(fr);
		if (!g->waw || !g->war || !g->live_in)
			goto isl_fail;
	}
	{
		isl_union_map *mem = isl_union_map_union(isl_union_map_copy(g->waw),
							 isl_union_map_copy(g->war));
		isl_stat st = isl_union_map_foreach_map(mem, add_mem_map, g);
		isl_union_map_free(mem);
		if (st < 0)
			goto isl_fail;
	}
	/* qsort must not see a NULL array, even with no elements. */
	if (g->nedges)
		qsort(g->edges, (size_t)g->nedges, sizeof(*g->edges), cmp_edge);
	if (g->nmem)
		qsort(g->mem, (size_t)g->nmem, sizeof(*g->mem), cmp_edge);
	if (g->nself)
		qsort(g->self, (size_t)g->nself, sizeof(*g->self), cmp_edge);
	if (compute_reach(g) < 0 || compute_passes(g) < 0)
		goto oom;
	goto done;
isl_fail:
	snprintf(err, errlen, "isl: %s", poly_error(ctx));
	goto fail;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	deps_free(g);
	g = NULL;
done:
	if (doms)
		for (int e = 0; e < c->neinsums; e++)
			isl_set_free(doms[e]);
	free(doms);
	isl_union_map_free(sched);
	return g;
}

/* { S<e>[...] : e in members } as a union set of universes. */
static __isl_give isl_union_set *member_set(const deps_graph *g,
					    const char *members)
{
	isl_union_set *u = isl_union_set_empty(poly_param_space(g->ctx, g->c));
	for (int e = 0; e < g->c->neinsums; e++)
		if (members[e])
			u = isl_union_set_add_set(
				u, isl_set_universe(poly_stmt_space(g->ctx, g->c, e)));
	return u;
}

__isl_give isl_union_map *deps_restrict(const deps_graph *g,
					const char *members)
{
	isl_union_map *u = isl_union_map_empty(poly_param_space(g->ctx, g->c));
	for (int k = 0; k < g->nedges; k++) {
		const deps_edge *ed = &g->edges[k];
		if (members[ed->producer] && members[ed->consumer])
			u = isl_union_map_add_map(u, isl_map_copy(ed->rel));
	}
	for (int k = 0; k < g->nself; k++)
		if (members[g->self[k].producer])
			u = isl_union_map_add_map(u, isl_map_copy(g->self[k].rel));
	isl_union_set *m = member_set(g, members);
	isl_union_map *mem = isl_union_map_union(isl_union_map_copy(g->waw),
						 isl_union_map_copy(g->war));
	mem = isl_union_map_intersect_domain(mem, isl_union_set_copy(m));
	mem = isl_union_map_intersect_range(mem, m);
	return isl_union_map_union(u, mem);
}

int64_t deps_dist_halo(const deps_edge *ed, int k)
{
	const deps_dist *d = &ed->dist[k];
	uint32_t bit = 1u << d->rank;
	return (ed->p_out & bit) && (ed->c_out & bit) && d->hi > d->lo && d->lo >= 0 ? d->hi - d->lo
										     : 0;
}

int deps_edge_halo(const deps_edge *ed, int *rank, int64_t *halo)
{
	for (int k = 0; k < ed->ndist; k++)
		if ((*halo = deps_dist_halo(ed, k)) > 0) {
			*rank = ed->dist[k].rank;
			return 1;
		}
	return 0;
}

typedef struct count_cb {
	const ein_cascade *c;
	int *per;
} count_cb;

static isl_stat count_map(__isl_take isl_map *m, void *user)
{
	count_cb *cb = user;
	const char *n = isl_map_get_tuple_name(m, isl_dim_in);
	if (n && n[0] == 'S') {
		int e = atoi(n + 1);
		if (e >= 0 && e < cb->c->neinsums)
			cb->per[e] = 1;
	}
	isl_map_free(m);
	return isl_stat_ok;
}

void deps_accumulations(const deps_graph *g, int *per)
{
	count_cb cb = {g->c, per};
	isl_union_map_foreach_map(g->waw, count_map, &cb);
}

void deps_live_in(const deps_graph *g, char *flags)
{
	for (int t = 0; t < g->c->ntensors; t++) {
		const ein_tensor *tt = &g->c->tensors[t];
		flags[t] = (tt->role == EIN_ROLE_INPUT || tt->role == EIN_ROLE_WEIGHT) &&
			   tt->nreaders > 0;
	}
}
