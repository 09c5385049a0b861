/* lower_strips.c - strips: runs of elementwise members of a group cut
 * along a rank into strips that run in parallel (see lower_impl.h). */
#include "lower_impl.h"

#include <stdlib.h>
#include <string.h>

/* The points statements first..last-1 of group gi run (stmt_init 1: an
 * initialisation, over the output ranks only), within one tile of the
 * group's band when per_tile.  The generated code runs a parallel region
 * on one thread when this is below ML_PAR_MIN: decoding one token has
 * regions of a few thousand points, for which starting the team costs
 * more than the work. */
int64_t cgl_stmt_points(const cg *k, int gi, const int *stmt_e, const int *stmt_init,
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
	int64_t ext = cg_members_extent(k->g, members, r);
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

/* The ranks every statement of first..last-1 has, not reduced, 2 or more
 * long in a tile: those a strip of them could go one point at a time
 * along.  members is scratch space of c->neinsums bytes. */
static uint64_t run_shared(const cg *k, int gi, const int *stmt_e,
			   int first, int last, char *members)
{
	memset(members, 0, (size_t)k->c->neinsums);
	for (int i = first; i < last; i++)
		members[stmt_e[i]] = 1;
	uint64_t m = 0;
	for (int r = 0; r < k->g->nranks && r < 64; r++) {
		int ok = 1;
		for (int i = first; i < last && ok; i++) {
			const ein_einsum *es = &k->c->einsums[stmt_e[i]];
			int v = k->g->var_of[stmt_e[i]][r];
			ok = v >= 0 && !es->vars[v].reduced;
		}
		if (ok && rank_extent(k, gi, members, r) >= 2)
			m |= (uint64_t)1 << r;
	}
	return m;
}

/* Accesses of statements first..last-1 whose last index, the one that
 * runs along memory, is rank r's variable alone. */
static int contiguous_accesses(const cg *k, const int *stmt_e, int first, int last, int r)
{
	int n = 0;
	for (int i = first; i < last; i++) {
		const ein_einsum *es = &k->c->einsums[stmt_e[i]];
		int v = k->g->var_of[stmt_e[i]][r];
		for (int j = -1; v >= 0 && j < es->nreads; j++) {
			const ein_access *a = j < 0 ? &es->out : &es->reads[j];
			n += a->nidx > 0 && ein_aff_pure_var(k->c, es, &a->idx[a->nidx - 1]) == v;
		}
	}
	return n;
}

/* A strip's rank is its innermost loop, the one that vectorises: a rank
 * along memory is preferred to a longer one that is not, from this
 * extent in a tile (two strips of a 16-lane vector). */
#define CGL_STRIP_CONTIG_MIN 32

/* The strips of group gi (CPU back end with OpenMP, tile loops run
 * serially): each maximal run of members that are not matrix products and
 * that share a rank to strip along (strip_ranks) is cut into strips along
 * the longest rank that every statement of the run has as an output rank,
 * that no member carries as its generational rank, and along which
 * fusion_check finds the run legal and parallel.  The strips then run in
 * parallel, and each strip's intermediates stay in cache.  Returns the number of strips written to out. */
int cgl_find_strips(cg *k, int gi, const int *stmt_e, const int *stmt_init,
		    int ns, cg_strip *out, int max)
{
	const ein_cascade *c = k->c;
	const deps_graph *g = k->g;
	int nout = 0;
	if (!k->o->openmp || k->p->groups[gi].nband == 0)
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
		/* A statement at either end that lacks a rank all the others
		 * share (a scan's initial state, its final one, beside the
		 * steps along i) is a run of its own: the rest then go one
		 * point at a time along that rank as well. */
		if (b - a >= 2) {
			uint64_t all = run_shared(k, gi, stmt_e, a, b, members);
			if (run_shared(k, gi, stmt_e, a + 1, b, members) & ~all)
				b = a + 1;
			else if (run_shared(k, gi, stmt_e, a, b - 1, members) & ~all)
				b--;
		}
		memset(members, 0, (size_t)c->neinsums);
		for (int i = a; i < b; i++)
			members[stmt_e[i]] = 1;
		/* Candidate ranks: those along memory in the most accesses
		 * first (from CGL_STRIP_CONTIG_MIN long), then longest first:
		 * the strip's loop is the innermost, and a loop down a
		 * column neither vectorises nor uses its cache lines. */
		int cand[DEPS_MAX_RANKS], nc = 0, ccon[DEPS_MAX_RANKS];
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
			int con = ext >= CGL_STRIP_CONTIG_MIN ? contiguous_accesses(k, stmt_e, a, b, r) : 0;
			int at = nc++;
			while (at > 0 && (ccon[at - 1] < con || (ccon[at - 1] == con && cext[at - 1] < ext))) {
				cand[at] = cand[at - 1];
				cext[at] = cext[at - 1];
				ccon[at] = ccon[at - 1];
				at--;
			}
			cand[at] = r;
			cext[at] = ext;
			ccon[at] = con;
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
			st->serial = k->par_member >= 0;
			st->npoint = 0;
			/* Inside a strip, the statements go one point at a time
			 * along the other shared ranks (generational ones too)
			 * when that is legal: a point's intermediates then stay
			 * in the first-level cache.  Ranks that a member
			 * carries (its generational rank) go inside the others,
			 * so that a recurrence's state for one point of the
			 * outer ranks stays in cache across all its steps. */
			int order[DEPS_MAX_RANKS], no = 0;
			for (int pass = 0; pass < 2; pass++)
				for (int r = 0; r < g->nranks; r++) {
					int shared = r != cand[q], carried = 0;
					for (int i = a; i < b && shared; i++) {
						const ein_einsum *es = &c->einsums[stmt_e[i]];
						int v = g->var_of[stmt_e[i]][r];
						shared = v >= 0 && !es->vars[v].reduced;
						carried |= shared && v == es->gen_var;
					}
					if (shared && carried == pass &&
					    rank_extent(k, gi, members, r) >= 2)
						order[no++] = r;
				}
			for (int o = 0; o < no && req.nband < CG_MAX_BAND; o++) {
				int r = order[o];
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

/* The rank whose variable, alone and with coefficient 1, indexes dimension
 * q of every access to tensor t by the statements of strip run st (the
 * same rank in all), or -1. */
static int dim_rank(const cg *k, const cg_strip *st, const int *stmt_e, int t, int q)
{
	int rank = -1;
	for (int i = st->first; i < st->last; i++) {
		const ein_einsum *es = &k->c->einsums[stmt_e[i]];
		for (int r = -1; r < es->nreads; r++) {
			const ein_access *a = r < 0 ? &es->out : &es->reads[r];
			if (a->tensor != t)
				continue;
			int v = ein_aff_pure_var(k->c, es, &a->idx[q]);
			int rk = -1;
			for (int j = 0; j < k->g->nranks && v >= 0 && rk < 0; j++)
				if (k->g->var_of[stmt_e[i]][j] == v)
					rk = j;
			if (rk < 0 || (rank >= 0 && rank != rk))
				return -1;
			rank = rk;
		}
	}
	return rank;
}

/* Does every access of statement e to tensor t index by the variable of
 * each rank that group gi's tile loops run along for e?  Then those loops
 * never come back to an element: it is touched under one tile only. */
static int tiles_visit_once(const cg *k, int gi, int e, int t)
{
	const cg_group *gr = &k->p->groups[gi];
	const ein_einsum *es = &k->c->einsums[e];
	for (int j = 0; j < gr->nband; j++) {
		int v = k->g->var_of[e][gr->band[j]];
		if (v < 0 || gr->tile[j] >= es->vars[v].size)
			continue;
		for (int r = -1; r < es->nreads; r++) {
			const ein_access *a = r < 0 ? &es->out : &es->reads[r];
			int found = 0;
			for (int q = 0; q < a->nidx && a->tensor == t && !found; q++)
				found = ein_aff_pure_var(k->c, es, &a->idx[q]) == v;
			if (a->tensor == t && !found)
				return 0;
		}
	}
	return 1;
}

/* Tile buffer b (tensor t), touched only inside strip run st (run: its
 * index in the lowering's strips): a dimension that every access indexes
 * by exactly the strip rank's variable holds one strip's elements
 * (cg_buffer.strip) when no tile loop comes back to an element.  When the
 * strips run in parallel, each iteration of their loop then has the
 * buffer to itself, if it is small enough to be a local array there
 * (priv_run); else it keeps its slots.  An accumulator of the point's
 * vector loop takes one strip (Mamba-1's YS: 16 floats, which the C
 * compiler keeps in registers across the 16 states it sums, instead of
 * 256 in memory). */
static void contract_strip(const cg *k, int gi, const cg_strip *st, int run,
			   const int *stmt_e, cg_buffer *b, int t)
{
	const ein_cascade *c = k->c;
	if (st->size < 2 || (st->size & (st->size - 1)))
		return;
	for (int i = st->first; i < st->last; i++)
		if (ein_einsum_touches(&c->einsums[stmt_e[i]], t) &&
		    !tiles_visit_once(k, gi, stmt_e[i], t))
			return;
	cg_buffer was = *b;
	int64_t size = 1;
	int any = 0;
	for (int q = 0; q < b->ndims; q++) {
		if (b->ext[q] >= st->size && dim_rank(k, st, stmt_e, t, q) == st->rank) {
			b->mod[q] = 1;
			b->ext[q] = st->size;
			b->strip[q] = 1;
			any = 1;
		}
		size *= b->ext[q];
	}
	if (!any || st->serial)
		return;
	if (size <= CG_LOCAL_MAX)
		b->priv_run = run + 1;
	else
		*b = was;
}

/* A tile buffer of group gi touched only inside one strip run, where every
 * access indexes dimension q by exactly the variable of one of the run's
 * point ranks, holds only the current point's elements along q: each value
 * is written and read at the same point.  Such a dimension is stored with
 * one slot (modulo 1), so that the intermediates of a scan step (AD, BX)
 * take a few kilobytes instead of a tile's megabytes. */
void cgl_contract_points(cg *k, int gi, const cg_strip *strips, int nstrips,
			 const int *stmt_e, int ns)
{
	const ein_cascade *c = k->c;
	for (int t = 0; t < c->ntensors; t++) {
		cg_buffer *b = &k->buf[t];
		if (b->kind != CG_BUF_TILE || b->group != gi)
			continue;
		int run = -1, ok = 1;
		for (int i = 0; i < ns && ok; i++) {
			const ein_einsum *es = &c->einsums[stmt_e[i]];
			if (!ein_einsum_touches(es, t))
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
			int rank = dim_rank(k, st, stmt_e, t, q), point = 0;
			for (int j = 0; j < st->npoint && rank >= 0; j++)
				point |= st->point[j] == rank;
			if (!point)
				continue;
			b->mod[q] = 1;
			b->ext[q] = 1;
		}
		contract_strip(k, gi, st, k->nstrips + run, stmt_e, b, t);
		b->size = 1;
		for (int q = 0; q < b->ndims; q++)
			b->size *= b->ext[q];
	}
}

/* All the points of group gi's members (see cgl_stmt_points). */
int64_t cgl_group_points(const cg *k, int gi)
{
	int64_t pts = 0;
	for (int e = 0; e < k->c->neinsums; e++) {
		int init = 0;
		if (k->p->groups[gi].members[e]) {
			int64_t n = cgl_stmt_points(k, gi, &e, &init, 0, 1, 0);
			pts = n > INT64_MAX - pts ? INT64_MAX : pts + n;
		}
	}
	return pts;
}

uint64_t cgl_loop_ranks(const cg *k, int gi, const cg_strip *sp, int e, int init,
			uint64_t used)
{
	const ein_einsum *es = &k->c->einsums[e];
	const cg_group *gr = &k->p->groups[gi];
	uint64_t m = 0;
	for (int r = 0; r < k->g->nranks && r < 64; r++) {
		int v = k->g->var_of[e][r];
		if (v < 0 || ((used >> r) & 1) || (init && es->vars[v].reduced))
			continue;
		int64_t ext = es->vars[v].size;
		for (int j = 0; j < gr->nband; j++)
			if (gr->band[j] == r && gr->tile[j] < ext)
				ext = gr->tile[j];
		if (sp && r == sp->rank && sp->size < ext)
			ext = sp->size;
		if (ext >= 2)
			m |= (uint64_t)1 << r;
	}
	return m;
}

static int popcount64(uint64_t m)
{
	int n = 0;
	for (; m; m &= m - 1)
		n++;
	return n;
}

typedef struct nest_ctx {
	cg *k;
	int gi;
	const int *stmt_e, *stmt_init;
	cg_strip *sp;
	fusion_req req; /* the strip's band and points, then the nests' ranks */
	char *members;
} nest_ctx;

static int rank_dim(const cg *k, int e, const ein_access *a, int r);

/* May tensor t be stored in another dimension order (cgl_find_layouts)?
 * Not a product's operand or result (the BLAS takes row-major buffers),
 * nor a tensor the caller gets back or the cascade writes into the
 * caller's array. */
static int reorderable(const cg *k, int t)
{
	const ein_tensor *tt = &k->c->tensors[t];
	return !cgl_product_tensor(k, -1, t) && tt->role != EIN_ROLE_OUTPUT &&
	       (tt->role == EIN_ROLE_TEMP || tt->nwriters == 0);
}

/* Can every tensor that statements i..j-1 access across rank r be stored
 * along r? */
static int strip_rank_storable(const cg *k, const int *stmt_e, int i, int j, int r)
{
	for (int s = i; s < j; s++) {
		const ein_einsum *es = &k->c->einsums[stmt_e[s]];
		for (int q = -1; q < es->nreads; q++) {
			const ein_access *a = q < 0 ? &es->out : &es->reads[q];
			int d = rank_dim(k, stmt_e[s], a, r);
			if (d >= 0 && d != a->nidx - 1 && !k->buf[a->tensor].reg &&
			    !reorderable(k, a->tensor))
				return 0;
		}
	}
	return 1;
}

/* A strip's rank goes innermost in its nests, and buffers are stored
 * along it, from this many elements in a strip (a vector of floats). */
#define CGL_VECTOR_MIN 16

/* The rank statements i..j-1 of the strip share a loop along, checked by
 * fusion_check a point at a time, or -1. */
static int run_rank(nest_ctx *x, int i, int j, uint64_t used)
{
	cg *k = x->k;
	cg_strip *sp = x->sp;
	uint64_t shared = ~(uint64_t)0;
	for (int s = i; s < j; s++)
		shared &= cgl_loop_ranks(k, x->gi, sp, x->stmt_e[s], x->stmt_init[s] == 1, used);
	if (!shared || sp->nnest >= CG_MAX_NESTS || x->req.nband >= FUSION_MAX_BAND)
		return -1;
	/* The rank: the one whose variable comes first in the first
	 * statement (the outer loop of its own order), but not the strip's
	 * rank while another is shared: the strip's rank was chosen as the
	 * vector loop, and a loop nested inside it would run along a short
	 * rank (a scan step's 16 states, summed across the vector for every
	 * token and channel). */
	int r = -1;
	const ein_einsum *ei = &k->c->einsums[x->stmt_e[i]];
	uint64_t pick = shared;
	if (k->o->layouts && sp->size >= CGL_VECTOR_MIN && (pick & ~((uint64_t)1 << sp->rank)) &&
	    strip_rank_storable(k, x->stmt_e, i, j, sp->rank))
		pick &= ~((uint64_t)1 << sp->rank);
	for (int v = 0; v < ei->nvars && r < 0; v++)
		for (int q = 0; q < k->g->nranks && q < 64 && r < 0; q++)
			if (((pick >> q) & 1) && k->g->var_of[x->stmt_e[i]][q] == v)
				r = q;
	if (r < 0)
		return -1;
	/* Initialisations stay before their reductions: both have the rank
	 * as an output rank, and the sequence inside one point of it keeps
	 * their order. */
	memset(x->members, 0, (size_t)k->c->neinsums);
	int nm = 0;
	for (int s = i; s < j; s++)
		if (x->stmt_init[s] != 1) {
			x->members[x->stmt_e[s]] = 1;
			nm++;
		}
	if (nm > 0) {
		fusion_result res = {0};
		char err[256];
		x->req.band[x->req.nband] = r;
		x->req.tile[x->req.nband++] = 1;
		int ok = fusion_check(k->g, &x->req, 0, &res, err, sizeof(err)) == 0 && res.legal;
		x->req.nband--;
		fusion_result_clear(&res);
		if (!ok)
			return -1;
	}
	return r;
}

/* Nests at `depth` inside [a, b): maximal runs of two or more statements
 * that share a rank they loop along, all with that rank as their only
 * loop (a leaf: one loop whose body is their instances, which the C
 * compiler vectorises) or all with further loops inside (then only when
 * those fuse in turn).  Legal by fusion_check on the strip's band, its
 * points, the enclosing nests' ranks and this one, a point at a time.
 * Returns the number of nests added. */
static int nest_range(nest_ctx *x, int a, int b, uint64_t used, int depth)
{
	cg *k = x->k;
	cg_strip *sp = x->sp;
	int found = 0;
	if (depth >= CG_MAX_NEST)
		return 0;
	for (int i = a; i < b;) {
		uint64_t ri = cgl_loop_ranks(k, x->gi, sp, x->stmt_e[i], x->stmt_init[i] == 1, used);
		int leaf = popcount64(ri) == 1;
		uint64_t shared = ri;
		int j = i + 1;
		while (ri && j < b) {
			uint64_t rj = cgl_loop_ranks(k, x->gi, sp, x->stmt_e[j], x->stmt_init[j] == 1, used);
			if (!(rj & shared) || (popcount64(rj) == 1) != leaf)
				break;
			shared &= rj;
			j++;
		}
		/* The longest legal run from i: a statement at its end that
		 * may not share the loop (a read one step ahead along it)
		 * leaves the ones before it fused. */
		int r = -1;
		for (; j - i >= 2 && r < 0; j--)
			r = run_rank(x, i, j, used);
		j++;
		if (r < 0) {
			i++;
			continue;
		}
		int at = sp->nnest++;
		sp->nest[at] = (cg_nest){i, j, r, depth, leaf};
		if (!leaf) {
			x->req.band[x->req.nband] = r;
			x->req.tile[x->req.nband++] = 1;
			int inner = nest_range(x, i, j, used | (uint64_t)1 << r, depth + 1);
			x->req.nband--;
			if (!inner)
				sp->nnest = at; /* nothing fused inside: no gain */
		}
		found += sp->nnest > at;
		i = j;
	}
	return found;
}

void cgl_find_nests(cg *k, int gi, const int *stmt_e, const int *stmt_init, cg_strip *sp)
{
	sp->nnest = 0;
	char *members = calloc((size_t)k->c->neinsums, 1);
	if (!members)
		return; /* no nests: the plain strip is still right */
	nest_ctx x = {k, gi, stmt_e, stmt_init, sp, {0}, members};
	x.req.members = members;
	x.req.verdict_only = 1;
	x.req.band[x.req.nband] = sp->rank;
	x.req.tile[x.req.nband++] = sp->size;
	uint64_t used = 0;
	for (int j = 0; j < sp->npoint && x.req.nband < FUSION_MAX_BAND; j++) {
		x.req.band[x.req.nband] = sp->point[j];
		x.req.tile[x.req.nband++] = 1;
		used |= (uint64_t)1 << sp->point[j];
	}
	if (sp->npoint < CG_MAX_BAND && x.req.nband == 1 + sp->npoint)
		nest_range(&x, sp->first, sp->last, used, 0);
	free(members);
}

void cgl_size_strip(cg *k, int gi, const int *stmt_e, const int *stmt_init, cg_strip *sp)
{
	int outer = 0;
	for (int q = 0; q < sp->nnest; q++)
		outer |= !sp->nest[q].leaf;
	if (!outer || sp->size <= CGL_VECTOR_MIN)
		return;
	sp->size = CGL_VECTOR_MIN;
	cgl_find_nests(k, gi, stmt_e, stmt_init, sp);
}

int cgl_nest_path(const cg_strip *sp, int i, int *pos, int *rank)
{
	int pa = sp->first, d = 0;
	for (;;) {
		int in = -1;
		for (int q = 0; q < sp->nnest; q++)
			if (sp->nest[q].depth == d && i >= sp->nest[q].first && i < sp->nest[q].last)
				in = q;
		int target = in >= 0 ? sp->nest[in].first : i, c = 0;
		for (int x = pa; x < target; c++) {
			int skip = x + 1;
			for (int q = 0; q < sp->nnest; q++)
				if (sp->nest[q].depth == d && sp->nest[q].first == x)
					skip = sp->nest[q].last;
			x = skip;
		}
		pos[d] = c;
		if (in < 0)
			return d;
		rank[d] = sp->nest[in].rank;
		pa = sp->nest[in].first;
		d++;
	}
}

/* The rank of variable v of Einsum e, or -1. */
static int rank_of_var(const cg *k, int e, int v)
{
	for (int r = 0; r < k->g->nranks; r++)
		if (k->g->var_of[e][r] == v)
			return r;
	return -1;
}

void cgl_find_regs(cg *k, int gi, const cg_strip *strips, int nstrips, const int *stmt_e,
		   const int *stmt_init, int ns)
{
	const ein_cascade *c = k->c;
	for (int t = 0; t < c->ntensors; t++) {
		cg_buffer *b = &k->buf[t];
		if (b->kind != CG_BUF_TILE || b->group != gi)
			continue;
		/* Every statement touching t inside one leaf nest, the
		 * writer (one, not a reduction) before its readers. */
		const cg_nest *in = NULL;
		int writer = -1, ok = 1, any = 0;
		for (int i = 0; i < ns && ok; i++) {
			const ein_einsum *es = &c->einsums[stmt_e[i]];
			if (!ein_einsum_touches(es, t))
				continue;
			any = 1;
			const cg_nest *n = NULL;
			for (int q = 0; q < nstrips; q++)
				for (int m = 0; m < strips[q].nnest; m++) {
					const cg_nest *x = &strips[q].nest[m];
					if (x->leaf && i >= x->first && i < x->last)
						n = x;
				}
			ok = n && (!in || in == n) && stmt_init[i] == 0;
			in = n;
			if (ok && es->out.tensor == t) {
				ok = writer < 0 && !ein_einsum_reduces(es) && !ein_einsum_reads(es, t);
				writer = i;
			} else if (ok) {
				ok = writer >= 0;
			}
		}
		if (!ok || !any || writer < 0)
			continue;
		/* Each dimension indexed by one rank's variable, the same
		 * rank in every access: a read sees this iteration's write. */
		int rank[EIN_MAX_DIMS];
		for (int q = 0; q < b->ndims; q++)
			rank[q] = -2;
		for (int i = 0; i < ns && ok; i++) {
			const ein_einsum *es = &c->einsums[stmt_e[i]];
			for (int r = -1; r < es->nreads && ok; r++) {
				const ein_access *a = r < 0 ? &es->out : &es->reads[r];
				if (a->tensor != t)
					continue;
				for (int q = 0; q < a->nidx && ok; q++) {
					int v = ein_aff_pure_var(c, es, &a->idx[q]);
					int rk = v >= 0 ? rank_of_var(k, stmt_e[i], v) : -1;
					ok = ok && rk >= 0 && (rank[q] == -2 || rank[q] == rk);
					rank[q] = rk;
				}
			}
		}
		if (ok)
			b->reg = 1;
	}
}

/* The dimension of access a that rank r's variable indexes alone (no
 * other dimension involves it), or -1. */
static int rank_dim(const cg *k, int e, const ein_access *a, int r)
{
	const ein_einsum *es = &k->c->einsums[e];
	int v = k->g->var_of[e][r], q = -1;
	for (int d = 0; v >= 0 && d < a->nidx; d++) {
		if (!a->idx[d].vc[v])
			continue;
		if (q >= 0 || ein_aff_pure_var(k->c, es, &a->idx[d]) != v)
			return -1;
		q = d;
	}
	return q;
}

/* Is nest n of strip sp a leaf along the strip's rank, long enough to be
 * the vector loop (the loops cgl_find_layouts stores buffers for)? */
static int vector_nest(const cg_strip *sp, const cg_nest *n)
{
	return n->leaf && n->rank == sp->rank && sp->size >= CGL_VECTOR_MIN;
}

/* Copying a weight pays off when the nest reads each element this many
 * times or more per call. */
#define CGL_COPY_READS 8

/* The rank of statement i's vector loop inside a point of strip sp, or -1:
 * a leaf nest's rank along the strip (vector_nest), or, for a statement in
 * no nest, the strip's rank when its only other loops are reductions of a
 * few terms, which the C unrolls so that the loop along the strip
 * vectorises (a convolution's taps: Mamba-1's conv, reading its weight
 * [channel][tap] across its rows, spent 1.8 ms of its group's 43 on
 * gathering them into vectors). */
static int vector_rank(const cg *k, int gi, const cg_strip *sp, const int *stmt_e,
		       const int *stmt_init, int i)
{
	if (sp->size < CGL_VECTOR_MIN || i < sp->first || i >= sp->last)
		return -1;
	int in = 0;
	for (int m = 0; m < sp->nnest; m++) {
		const cg_nest *n = &sp->nest[m];
		if (i < n->first || i >= n->last)
			continue;
		if (vector_nest(sp, n))
			return n->rank;
		in = 1;
	}
	if (in)
		return -1;
	uint64_t used = 0;
	for (int j = 0; j < sp->npoint; j++)
		used |= (uint64_t)1 << sp->point[j];
	int e = stmt_e[i];
	const ein_einsum *es = &k->c->einsums[e];
	uint64_t m = cgl_loop_ranks(k, gi, sp, e, stmt_init[i] == 1, used);
	if (!((m >> sp->rank) & 1))
		return -1;
	for (int r = 0; r < k->g->nranks && r < 64; r++) {
		if (r == sp->rank || !((m >> r) & 1))
			continue;
		int v = k->g->var_of[e][r];
		if (v < 0 || !es->vars[v].reduced || es->vars[v].size > CG_UNROLL_MAX)
			return -1;
	}
	return sp->rank;
}

void cgl_find_layouts(cg *k, int gi, const cg_strip *strips, int nstrips, const int *stmt_e,
		      const int *stmt_init, int ns)
{
	const ein_cascade *c = k->c;
	/* Each statement's vector rank (vector_rank) in its strip, or -1. */
	int *vr = malloc((size_t)(ns > 0 ? ns : 1) * sizeof(*vr));
	if (!vr)
		return; /* no storage orders: the plain layouts are still right */
	for (int i = 0; i < ns; i++)
		vr[i] = -1;
	for (int q = 0; q < nstrips; q++)
		for (int i = strips[q].first; i < strips[q].last; i++)
			if (vr[i] < 0)
				vr[i] = vector_rank(k, gi, &strips[q], stmt_e, stmt_init, i);
	for (int t = 0; t < c->ntensors; t++) {
		cg_buffer *b = &k->buf[t];
		const ein_tensor *tt = &c->tensors[t];
		if (b->reg || b->transposed || b->ndims < 2 || !reorderable(k, t))
			continue;
		int user = b->kind == CG_BUF_USER;
		/* Every access to t in a vector loop of this group: want the
		 * dimension of the loop's rank last, the same one in all. */
		int want = -1, ok = 1;
		int64_t reads = 0;
		for (int i = 0; i < ns && ok; i++) {
			if (vr[i] < 0)
				continue;
			int e = stmt_e[i];
			const ein_einsum *es = &c->einsums[e];
			for (int r = -1; r < es->nreads && ok; r++) {
				const ein_access *a = r < 0 ? &es->out : &es->reads[r];
				if (a->tensor != t)
					continue;
				int d = rank_dim(k, e, a, vr[i]);
				ok = d >= 0 && (want < 0 || want == d);
				want = d;
				if (r >= 0)
					reads += cgl_stmt_points(k, gi, stmt_e, stmt_init, i, i + 1, 0);
			}
		}
		if (!ok || want < 0 || want == b->ndims - 1)
			continue;
		/* And every other statement touching t, in this group or
		 * another, runs a small fraction of those (a scan's initial
		 * and final states beside its steps): elsewhere its rows stay
		 * the ones that are read (LayerNorm's centred rows, summed
		 * along them). */
		int64_t other = 0, inside = 0;
		for (int i = 0; i < ns; i++) {
			if (!ein_einsum_touches(&c->einsums[stmt_e[i]], t))
				continue;
			int64_t pts = cgl_stmt_points(k, gi, stmt_e, stmt_init, i, i + 1, 0);
			if (vr[i] >= 0)
				inside += pts;
			else
				other += pts;
		}
		for (int e = 0; e < c->neinsums; e++)
			if (!k->p->groups[gi].members[e] && ein_einsum_touches(&c->einsums[e], t)) {
				int init = 0;
				other += cgl_stmt_points(k, k->group_of[e], &e, &init, 0, 1, 0);
			}
		if (other * CGL_COPY_READS > inside)
			continue;
		if (user && reads < CGL_COPY_READS * tt->nelems)
			continue;
		b->transposed = 1;
		b->last = want;
		b->copy = user;
	}
	free(vr);
}
