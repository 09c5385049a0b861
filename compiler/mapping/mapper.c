/* mapper.c - the plan search (see mapper.h, docs/cost-model.md). */
#include "mapper.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <isl/ilp.h>
#include <isl/map.h>
#include <isl/set.h>
#include <isl/val.h>

#include "analysis/fusion.h"
#include "analysis/groups.h"
#include "analysis/poly.h"
#include "analysis/recompute.h"

const char *const mapper_policy_names[] = {"unfused", "ssm-ri", "full", "recompute", NULL};

int mapper_policy_from_name(const char *s)
{
	for (int i = 0; mapper_policy_names[i]; i++)
		if (strcmp(s, mapper_policy_names[i]) == 0)
			return i;
	return -1;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define MAX_CAND_BANDS 8
#define MAX_ORDERS 120
#define MAX_DP_STATES (1 << 22)

/* A candidate group and the best mapping found for it. */
typedef struct cand {
	uint64_t mask;
	uint64_t pred; /* Einsums outside it that must run first */
	int nbands;
	groups_band bands[MAX_CAND_BANDS];
	int evaluated, usable;
	int band; /* the best band */
	cost_config cfg;
	plan_cost cost;
	int fits;
} cand;

typedef struct search {
	const cost_model *m;
	const deps_graph *g;
	const ein_cascade *c;
	int n; /* Einsums */
	uint64_t *pred;
	uint32_t *mem_bad; /* per memory dependence: ranks it goes back on */
	int ncand, capcand;
	cand *cands;
	int64_t evals;
	int64_t groups_costed;
	int complete;
	double t0, budget;
	char *err;
	size_t errlen;
} search;

static int popcount64(uint64_t x)
{
	return __builtin_popcountll(x);
}

static void mask_to_flags(uint64_t mask, int n, char *flags)
{
	for (int e = 0; e < n; e++)
		flags[e] = (char)((mask >> e) & 1);
}

static uint32_t band_bits(const groups_band *b)
{
	uint32_t m = 0;
	for (int k = 0; k < b->n; k++)
		m |= 1u << b->rank[k];
	return m;
}

/* Adds a band to a candidate unless an equal or larger one is there;
 * removes the bands it contains. */
static void cand_add_band(cand *c, const groups_band *b)
{
	uint32_t nb = band_bits(b);
	for (int i = 0; i < c->nbands; i++) {
		uint32_t ob = band_bits(&c->bands[i]);
		if ((nb & ob) == nb)
			return;
	}
	int w = 0;
	for (int i = 0; i < c->nbands; i++) {
		uint32_t ob = band_bits(&c->bands[i]);
		if ((ob & nb) != ob)
			c->bands[w++] = c->bands[i];
	}
	c->nbands = w;
	if (c->nbands < MAX_CAND_BANDS)
		c->bands[c->nbands++] = *b;
}

static int add_cand(search *s, uint64_t mask, const groups_band *b)
{
	for (int i = 0; i < s->ncand; i++)
		if (s->cands[i].mask == mask) {
			cand_add_band(&s->cands[i], b);
			return 0;
		}
	if (s->ncand == s->capcand) {
		int cap = s->capcand ? 2 * s->capcand : 64;
		cand *nc = realloc(s->cands, (size_t)cap * sizeof(*nc));
		if (!nc) {
			snprintf(s->err, s->errlen, "out of memory");
			return -1;
		}
		s->cands = nc;
		s->capcand = cap;
	}
	cand *c = &s->cands[s->ncand++];
	memset(c, 0, sizeof(*c));
	c->mask = mask;
	uint64_t pr = 0;
	for (int e = 0; e < s->n; e++)
		if ((mask >> e) & 1)
			pr |= s->pred[e];
	c->pred = pr & ~mask;
	cand_add_band(c, b);
	return 0;
}

/* No Einsum outside the set lies on a dependence path between two
 * members. */
static int convex(const deps_graph *g, uint64_t mask)
{
	int n = g->c->neinsums;
	for (int x = 0; x < n; x++) {
		if ((mask >> x) & 1)
			continue;
		int from = 0, to = 0;
		for (int e = 0; e < n; e++) {
			if (!((mask >> e) & 1))
				continue;
			from |= g->reach[e * n + x];
			to |= g->reach[x * n + e];
		}
		if (from && to)
			return 0;
	}
	return 1;
}

/* Connected through flow edges between members (either direction). */
static int connected(const deps_graph *g, uint64_t mask)
{
	if (!mask)
		return 0;
	uint64_t seen = mask & (~mask + 1);
	for (int changed = 1; changed;) {
		changed = 0;
		for (int k = 0; k < g->nedges; k++) {
			uint64_t a = 1ull << g->edges[k].producer;
			uint64_t b = 1ull << g->edges[k].consumer;
			if (!(mask & a) || !(mask & b))
				continue;
			if (((seen & a) != 0) != ((seen & b) != 0)) {
				seen |= a | b;
				changed = 1;
			}
		}
	}
	return seen == mask;
}

static uint32_t einsum_ranks(const deps_graph *g, int e)
{
	return g->out_ranks[e] | g->red_ranks[e];
}

static groups_band ranks_band(const deps_graph *g, uint32_t bits)
{
	groups_band b = {0};
	for (int r = 0; r < g->nranks; r++)
		if ((bits >> r) & 1)
			b.rank[b.n++] = r;
	return b;
}

/* Ranks along which a memory dependence (write after write or after
 * read) goes backwards somewhere: the distance consumer - producer has a
 * negative minimum.  The flow dependences have their distances in the
 * deps graph already. */
static int mem_distances(search *s)
{
	const deps_graph *g = s->g;
	s->mem_bad = calloc(g->nmem > 0 ? (size_t)g->nmem : 1, sizeof(uint32_t));
	if (!s->mem_bad) {
		snprintf(s->err, s->errlen, "out of memory");
		return -1;
	}
	for (int k = 0; k < g->nmem; k++) {
		const deps_edge *ed = &g->mem[k];
		int np = g->c->einsums[ed->producer].nvars;
		int nc = g->c->einsums[ed->consumer].nvars;
		for (int r = 0; r < g->nranks; r++) {
			int vp = g->var_of[ed->producer][r], vc = g->var_of[ed->consumer][r];
			if (vp < 0 || vc < 0)
				continue;
			isl_map *mm = isl_map_copy(ed->rel);
			mm = isl_map_project_out(mm, isl_dim_out, (unsigned)(vc + 1),
						 (unsigned)(nc - vc - 1));
			mm = isl_map_project_out(mm, isl_dim_out, 0, (unsigned)vc);
			mm = isl_map_project_out(mm, isl_dim_in, (unsigned)(vp + 1),
						 (unsigned)(np - vp - 1));
			mm = isl_map_project_out(mm, isl_dim_in, 0, (unsigned)vp);
			mm = isl_map_reset_tuple_id(mm, isl_dim_in);
			mm = isl_map_reset_tuple_id(mm, isl_dim_out);
			isl_set *d = isl_map_deltas(mm);
			isl_bool empty = d ? isl_set_is_empty(d) : isl_bool_error;
			if (empty < 0) {
				isl_set_free(d);
				goto isl_fail;
			}
			if (empty) {
				isl_set_free(d);
				continue;
			}
			isl_val *lo = isl_set_dim_min_val(d, 0);
			if (!lo)
				goto isl_fail;
			if (!isl_val_is_int(lo) || isl_val_is_neg(lo))
				s->mem_bad[k] |= 1u << r;
			isl_val_free(lo);
		}
	}
	return 0;
isl_fail:
	snprintf(s->err, s->errlen, "isl: %s", poly_error(g->ctx));
	return -1;
}

/* The ranks on which the members of mask can be fused for every tile
 * size: their common ranks, less those along which a dependence between
 * members has a negative distance.  This is fusion_check's permutable
 * test read off the distances of the dependence analysis; the chosen
 * groups are checked with fusion_check itself at their tile sizes. */
static uint32_t legal_ranks(const search *s, uint64_t mask)
{
	const deps_graph *g = s->g;
	uint32_t common = ~0u, bad = 0;
	for (int e = 0; e < s->n; e++)
		if ((mask >> e) & 1)
			common &= g->out_ranks[e] | g->red_ranks[e];
	for (int pass = 0; pass < 2; pass++) {
		int ne = pass ? g->nself : g->nedges;
		const deps_edge *es = pass ? g->self : g->edges;
		for (int k = 0; k < ne; k++) {
			if (!((mask >> es[k].producer) & 1) || !((mask >> es[k].consumer) & 1))
				continue;
			for (int d = 0; d < es[k].ndist; d++)
				if (es[k].dist[d].lo < 0)
					bad |= 1u << es[k].dist[d].rank;
		}
	}
	for (int k = 0; k < g->nmem; k++)
		if (((mask >> g->mem[k].producer) & 1) && ((mask >> g->mem[k].consumer) & 1))
			bad |= s->mem_bad[k];
	return common & ~bad;
}

/* The SSM region: every recurrence, the Einsums with exactly its output
 * ranks (the discretisation, AD and BX in Mamba: RI edges into the scan),
 * and the Einsums over a subset of its ranks that read or write its
 * tensor (the C contraction YS, and the state copied in and out). */
static uint64_t ssm_region(const deps_graph *g)
{
	const ein_cascade *c = g->c;
	uint64_t region = 0;
	for (int s = 0; s < c->neinsums; s++) {
		if (c->einsums[s].gen_var < 0)
			continue;
		uint32_t rs = einsum_ranks(g, s);
		int ht = c->einsums[s].out.tensor;
		for (int e = 0; e < c->neinsums; e++) {
			uint32_t re = einsum_ranks(g, e);
			int touches = c->einsums[e].out.tensor == ht;
			for (int r = 0; r < c->einsums[e].nreads; r++)
				touches |= c->einsums[e].reads[r].tensor == ht;
			if ((g->out_ranks[e] == g->out_ranks[s] && g->red_ranks[e] == 0) ||
			    (touches && (re & ~rs) == 0))
				region |= 1ull << e;
		}
	}
	return region;
}

/* Adds the set with its largest legal band (at most PLAN_MAX_BAND ranks,
 * the first in rank order). */
static int add_set(search *s, uint64_t mask)
{
	groups_band b = ranks_band(s->g, legal_ranks(s, mask));
	if (b.n > PLAN_MAX_BAND)
		b.n = PLAN_MAX_BAND;
	return add_cand(s, mask, &b);
}

static int add_singletons(search *s)
{
	for (int e = 0; e < s->n; e++)
		if (add_set(s, 1ull << e) < 0)
			return -1;
	return 0;
}

static int add_ssm_groups(search *s)
{
	uint64_t region = ssm_region(s->g);
	int idx[64], k = 0;
	for (int e = 0; e < s->n; e++)
		if ((region >> e) & 1)
			idx[k++] = e;
	if (k > 16)
		k = 16; /* 2^16 subsets at most */
	for (uint32_t sub = 1; sub < (1u << k); sub++) {
		if (__builtin_popcount(sub) < 2)
			continue;
		uint64_t mask = 0;
		for (int i = 0; i < k; i++)
			if ((sub >> i) & 1)
				mask |= 1ull << idx[i];
		if (!connected(s->g, mask) || !convex(s->g, mask))
			continue;
		if (add_set(s, mask) < 0)
			return -1;
	}
	return 0;
}

/* Members of a group in an "as late as possible" topological order: built
 * from the end, each time placing the member with the smallest index
 * whose successors in the group are all placed. */
static int alap_order(const deps_graph *g, uint64_t mask, int *order)
{
	int n = g->c->neinsums, k = popcount64(mask);
	uint64_t placed = 0;
	for (int pos = k - 1; pos >= 0; pos--) {
		int pick = -1;
		for (int e = 0; e < n && pick < 0; e++) {
			if (!((mask >> e) & 1) || ((placed >> e) & 1))
				continue;
			int ready = 1;
			for (int f = 0; f < n && ready; f++)
				if (((mask >> f) & 1) && !((placed >> f) & 1) && f != e &&
				    g->reach[e * n + f])
					ready = 0;
			if (ready)
				pick = e;
		}
		if (pick < 0)
			return -1;
		order[pos] = pick;
		placed |= 1ull << pick;
	}
	return k;
}

/* For every candidate band, the Einsums that iterate all its ranks, in
 * source order and in an as-late-as-possible order; every run of
 * consecutive ones that is connected and convex is a candidate group, on
 * its largest legal band. */
static int add_interval_groups(search *s)
{
	const deps_graph *g = s->g;
	uint32_t bands[256];
	int nb = groups_candidate_bands(g, bands, 256);
	for (int i = 0; i < nb; i++) {
		uint64_t gmask = 0;
		for (int e = 0; e < s->n; e++)
			if ((einsum_ranks(g, e) & bands[i]) == bands[i])
				gmask |= 1ull << e;
		int orders[2][64], len[2];
		len[0] = 0;
		for (int e = 0; e < s->n; e++)
			if ((gmask >> e) & 1)
				orders[0][len[0]++] = e;
		len[1] = alap_order(g, gmask, orders[1]);
		for (int o = 0; o < 2; o++)
			for (int a = 0; a < len[o]; a++) {
				uint64_t mask = 1ull << orders[o][a];
				for (int b = a + 1; b < len[o]; b++) {
					mask |= 1ull << orders[o][b];
					int seen = 0;
					for (int k = 0; k < s->ncand && !seen; k++)
						seen = s->cands[k].mask == mask;
					if (seen || !connected(g, mask) || !convex(g, mask))
						continue;
					if (add_set(s, mask) < 0)
						return -1;
				}
			}
	}
	return 0;
}

/* ---- Costing one candidate --------------------------------------------- */

static int over_budget(search *s)
{
	return s->budget > 0 && now_seconds() - s->t0 > s->budget;
}

static int64_t tile_up(int64_t t, int64_t ext)
{
	if (t >= ext)
		return ext;
	return t * 2 > ext ? ext : t * 2;
}

static int64_t tile_down(int64_t t)
{
	if (t <= 1)
		return 1;
	int64_t p = 1;
	while (p * 2 < t)
		p *= 2;
	return p; /* the largest power of two below t */
}

typedef struct best_map {
	int have;
	cost_config cfg;
	cost_result res;
} best_map;

static int eval_cfg(search *s, const cost_group *cg, const cost_config *cfg,
		    cost_result *res)
{
	s->evals++;
	return cost_eval(cg, cfg, 0, res);
}

/* Hill-climbing over tile sizes in cfg's loop order, from cfg's tiles:
 * double the tile whose doubling helps most while one does; then moves
 * that halve a tile, or double one and halve another, while one helps.
 * cfg and *res are updated to the result. */
static int climb(search *s, const cost_group *cg, cost_config *cfg,
		 cost_result *res)
{
	int m = cost_group_nband(cg);
	cost_result *trial = malloc(sizeof(*trial));
	if (!trial)
		return -1;
	int rc = -1;
	if (eval_cfg(s, cg, cfg, res) < 0)
		goto done;
	for (int phase = 0; phase < 2; phase++) {
		for (int iter = 0; iter < 400; iter++) {
			int64_t best_tiles[PLAN_MAX_BAND];
			int found = 0;
			int nmoves = phase == 0 ? m : m * m;
			for (int mv = 0; mv < nmoves; mv++) {
				cost_config t2 = *cfg;
				int a = mv % m, b = mv / m;
				if (phase == 0) {
					if (cfg->tile[a] >= cost_group_extent(cg, a))
						continue;
					t2.tile[a] = tile_up(cfg->tile[a], cost_group_extent(cg, a));
				} else if (a == b) {
					if (cfg->tile[a] <= 1)
						continue;
					t2.tile[a] = tile_down(cfg->tile[a]);
				} else {
					if (cfg->tile[a] >= cost_group_extent(cg, a) ||
					    cfg->tile[b] <= 1)
						continue;
					t2.tile[a] = tile_up(cfg->tile[a], cost_group_extent(cg, a));
					t2.tile[b] = tile_down(cfg->tile[b]);
				}
				if (eval_cfg(s, cg, &t2, trial) < 0)
					goto done;
				if (cost_compare(trial, res) < 0) {
					*res = *trial;
					memcpy(best_tiles, t2.tile, sizeof(best_tiles));
					found = 1;
				}
			}
			if (!found)
				break;
			memcpy(cfg->tile, best_tiles, sizeof(best_tiles));
		}
	}
	/* On a CPU, a tile that leaves a ragged last one is also tried as
	 * the same number of equal tiles (rounded up to 16): 1536 in tiles of
	 * 1024 runs a tile of 1024 and one of 512, and two of 768 take 0.88
	 * of the time (Mamba-1's Z G LO at I = 256).  The model prices the
	 * two about alike; at equal cost the smaller buffer wins. */
	for (int a = 0; a < m && cost_target(s->m)->kind == TARGET_CPU; a++) {
		int64_t ext = cost_group_extent(cg, a), t = cfg->tile[a];
		if (t >= ext || ext % t == 0)
			continue;
		int64_t n = (ext + t - 1) / t, even = ((ext + n - 1) / n + 15) / 16 * 16;
		if (even >= t || (ext + even - 1) / even != n)
			continue;
		cost_config t2 = *cfg;
		t2.tile[a] = even;
		if (eval_cfg(s, cg, &t2, trial) < 0)
			goto done;
		if (cost_compare(trial, res) < 0) {
			*res = *trial;
			cfg->tile[a] = even;
		}
	}
	rc = 0;
done:
	free(trial);
	return rc;
}

/* Loop orders: every permutation of the slots with more than one tile's
 * worth of extent (slots of extent 1 stay innermost, in order). */
static int loop_orders(const cost_group *cg, int orders[][PLAN_MAX_BAND])
{
	int m = cost_group_nband(cg);
	int big[PLAN_MAX_BAND], nb = 0, small[PLAN_MAX_BAND], ns = 0;
	for (int k = 0; k < m; k++) {
		if (cost_group_extent(cg, k) > 1)
			big[nb++] = k;
		else
			small[ns++] = k;
	}
	int n = 0;
	int perm[PLAN_MAX_BAND];
	for (int k = 0; k < nb; k++)
		perm[k] = k;
	for (;;) {
		for (int k = 0; k < nb; k++)
			orders[n][k] = big[perm[k]];
		for (int k = 0; k < ns; k++)
			orders[n][nb + k] = small[k];
		if (++n == MAX_ORDERS)
			break;
		/* Next permutation in lexicographic order. */
		int i = nb - 2;
		while (i >= 0 && perm[i] > perm[i + 1])
			i--;
		if (i < 0)
			break;
		int j = nb - 1;
		while (perm[j] < perm[i])
			j--;
		int t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
		for (int a = i + 1, b = nb - 1; a < b; a++, b--) {
			t = perm[a];
			perm[a] = perm[b];
			perm[b] = t;
		}
	}
	return n;
}

/* The best mapping of one band: from two starting points (tiles of 1,
 * and tiles the size of the array, capped by the extents; on a CPU also
 * one tile of the whole band, from which the climb only halves: a
 * plateau of equal predictions, e.g. a matrix-vector product streaming
 * from DRAM at any tile, otherwise leaves it in many small ones), alternate a
 * climb over tile sizes with a choice of the best loop order at those
 * tiles until the order stays. */
static int cost_band(search *s, const cost_group *cg, best_map *bm)
{
	const target *t = cost_target(s->m);
	int m = cost_group_nband(cg);
	int (*orders)[PLAN_MAX_BAND] = malloc(MAX_ORDERS * sizeof(*orders));
	cost_result *res = malloc(2 * sizeof(*res)), *trial = res + 1;
	int rc = -1;
	if (!orders || !res) {
		snprintf(s->err, s->errlen, "out of memory");
		goto done;
	}
	int no = loop_orders(cg, orders);
	/* The second start: tiles of the array's side, or on a CPU the
	 * power of two where a product dimension runs at 97% of the BLAS's
	 * rate (d / (d + h) >= 0.97). */
	int64_t side = t->rows > t->cols ? t->rows : t->cols;
	if (t->kind == TARGET_CPU)
		for (side = 16; (double)side < 32 * t->cpu.gemm_half_dim && side < 4096; side *= 2)
			;
	int starts = t->kind == TARGET_CPU ? 3 : 2;
	for (int start = 0; start < starts; start++) {
		cost_config cfg;
		cost_config_init(&cfg);
		for (int j = 0; j < m; j++) {
			int64_t ext = cost_group_extent(cg, j);
			cfg.order[j] = orders[0][j];
			cfg.tile[j] = start == 0 ? 1 : start == 2 || side > ext ? ext : side;
		}
		int cur_order = 0;
		for (int round = 0; round < 4; round++) {
			if (climb(s, cg, &cfg, res) < 0)
				goto oom;
			int best = cur_order;
			for (int o = 0; o < no; o++) {
				if (o == cur_order)
					continue;
				cost_config t2 = cfg;
				memcpy(t2.order, orders[o], sizeof(t2.order));
				if (eval_cfg(s, cg, &t2, trial) < 0)
					goto oom;
				if (cost_compare(trial, res) < 0) {
					*res = *trial;
					best = o;
				}
			}
			if (best == cur_order)
				break;
			cur_order = best;
			memcpy(cfg.order, orders[best], sizeof(cfg.order));
		}
		if (!bm->have || cost_compare(res, &bm->res) < 0) {
			bm->have = 1;
			bm->cfg = cfg;
			bm->res = *res;
		}
	}
	rc = 0;
	goto done;
oom:
	snprintf(s->err, s->errlen, "out of memory");
done:
	free(orders);
	free(res);
	return rc;
}

static int cost_cand(search *s, cand *c)
{
	char *flags = malloc((size_t)s->n);
	best_map *overall = calloc(1, sizeof(*overall));
	best_map *bm = calloc(1, sizeof(*bm));
	int rc = -1;
	if (!flags || !overall || !bm) {
		snprintf(s->err, s->errlen, "out of memory");
		goto done;
	}
	mask_to_flags(c->mask, s->n, flags);
	c->band = -1;
	for (int b = 0; b < c->nbands; b++) {
		cost_group *cg = cost_group_new(s->m, flags, c->bands[b].n,
						c->bands[b].rank, s->err, s->errlen);
		if (!cg)
			goto done;
		bm->have = 0;
		int r = cost_band(s, cg, bm);
		cost_group_free(cg);
		if (r < 0)
			goto done;
		if (bm->have && (!overall->have || cost_compare(&bm->res, &overall->res) < 0)) {
			*overall = *bm;
			c->band = b;
		}
	}
	c->evaluated = 1;
	s->groups_costed++;
	if (overall->have) {
		c->usable = 1;
		c->cfg = overall->cfg;
		c->cost = overall->res.cost;
		c->fits = overall->res.fits;
	}
	rc = 0;
done:
	free(flags);
	free(overall);
	free(bm);
	return rc;
}

/* ---- Partition: dynamic programming over dependence-closed sets -------- */

/* Each state keeps the K best ways to reach it (K = the rank asked for, 1
 * by default) that are distinct partitions of its set: two paths that run
 * the same groups in another order are one partition, told apart by an
 * order-independent hash of their candidates. */
typedef struct dp_entry {
	double cycles, bytes; /* sums of the groups' scores and DRAM bytes */
	uint64_t phash;	      /* the partition: sum of its candidates' hashes */
	int prev, prank;      /* the entry it extends (state, rank); -1: none */
	int cand;
} dp_entry;

typedef struct dp_state {
	uint64_t mask;
	int nk; /* entries, best first */
} dp_state;

typedef struct dp {
	dp_state *st;
	dp_entry *en; /* K per state */
	int n, cap, k;
	int *table; /* open addressing: state index + 1, 0 empty */
	size_t tcap;
} dp;

static uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static int dp_grow(dp *d)
{
	size_t ncap = d->tcap ? 2 * d->tcap : 1024;
	int *nt = calloc(ncap, sizeof(int));
	if (!nt)
		return -1;
	for (int i = 0; i < d->n; i++) {
		size_t h = hash64(d->st[i].mask) & (ncap - 1);
		while (nt[h])
			h = (h + 1) & (ncap - 1);
		nt[h] = i + 1;
	}
	free(d->table);
	d->table = nt;
	d->tcap = ncap;
	return 0;
}

/* The state of mask, created (with no entries) if new.  Returns its index
 * or -1. */
static int dp_get(dp *d, uint64_t mask)
{
	if ((size_t)(d->n + 1) * 2 > d->tcap && dp_grow(d) < 0)
		return -1;
	size_t h = hash64(mask) & (d->tcap - 1);
	while (d->table[h]) {
		if (d->st[d->table[h] - 1].mask == mask)
			return d->table[h] - 1;
		h = (h + 1) & (d->tcap - 1);
	}
	if (d->n == d->cap) {
		int cap = d->cap ? 2 * d->cap : 1024;
		dp_state *ns = realloc(d->st, (size_t)cap * sizeof(*ns));
		if (!ns)
			return -1;
		d->st = ns;
		dp_entry *ne = realloc(d->en, (size_t)cap * (size_t)d->k * sizeof(*ne));
		if (!ne)
			return -1;
		d->en = ne;
		d->cap = cap;
	}
	d->st[d->n].mask = mask;
	d->st[d->n].nk = 0;
	d->table[h] = d->n + 1;
	return d->n++;
}

static int entry_better(const dp_entry *a, const dp_entry *b)
{
	return a->cycles < b->cycles || (a->cycles == b->cycles && a->bytes < b->bytes);
}

/* Offers entry e to state j: it takes the place of the same partition if
 * better, else a place among the K best (ties keep the earlier entry, so
 * that the search's order decides them, as it always has). */
static void dp_offer(dp *d, int j, const dp_entry *e)
{
	dp_state *st = &d->st[j];
	dp_entry *en = d->en + (size_t)j * (size_t)d->k;
	int at = -1;
	for (int r = 0; r < st->nk; r++)
		if (en[r].phash == e->phash) {
			if (!entry_better(e, &en[r]))
				return;
			at = r;
			break;
		}
	if (at < 0) {
		if (st->nk < d->k)
			at = st->nk++;
		else if (entry_better(e, &en[st->nk - 1]))
			at = st->nk - 1;
		else
			return;
	}
	/* Move it up to its place. */
	while (at > 0 && entry_better(e, &en[at - 1])) {
		en[at] = en[at - 1];
		at--;
	}
	en[at] = *e;
}

static int cand_allowed(const cand *c)
{
	/* A group that does not fit the buffer is never chosen; a singleton
	 * always may be (there is no other way to run it). */
	return c->usable && (c->fits || popcount64(c->mask) == 1);
}

/* Fills chosen[] (candidate indices in execution order) with the rank-th
 * best partition (1: the best); returns their number (0 for a cascade
 * without Einsums), -2 with *fewer set to the number of distinct
 * partitions when there are fewer than rank, or -1. */
static int partition(search *s, int rank, int *chosen, int *fewer)
{
	dp d = {0};
	int rc = -1;
	uint64_t full = s->n == 64 ? ~0ull : (1ull << s->n) - 1;
	d.k = rank;
	int root = dp_get(&d, 0);
	if (root < 0)
		goto oom;
	d.st[root].nk = 1;
	d.en[0] = (dp_entry){0, 0, 0, -1, -1, -1};
	/* States in order of size: a state's predecessors are all smaller,
	 * so it is final when expanded. */
	for (int size = 0; size < s->n; size++) {
		for (int i = 0; i < d.n; i++) {
			if (popcount64(d.st[i].mask) != size)
				continue;
			uint64_t mask = d.st[i].mask;
			for (int k = 0; k < s->ncand; k++) {
				const cand *c = &s->cands[k];
				if (!cand_allowed(c) || (c->mask & mask) || (c->pred & ~mask))
					continue;
				int j = dp_get(&d, mask | c->mask);
				if (j < 0)
					goto oom;
				if (d.n > MAX_DP_STATES) {
					/* Many independent Einsums: the closed sets
					 * grow like 2^n.  Mamba-1 has 284. */
					snprintf(s->err, s->errlen,
						 "the partition search exceeded %d states",
						 MAX_DP_STATES);
					goto done;
				}
				for (int r = 0; r < d.st[i].nk; r++) {
					const dp_entry *from = d.en + (size_t)i * (size_t)d.k + r;
					dp_entry e = {from->cycles + cost_score(&c->cost),
						      from->bytes + c->cost.dram_bytes,
						      from->phash + hash64((uint64_t)k + 1), i, r, k};
					dp_offer(&d, j, &e);
				}
			}
		}
	}
	int end = dp_get(&d, full);
	if (end < 0)
		goto oom;
	if (d.st[end].nk == 0) {
		snprintf(s->err, s->errlen, "no partition of the cascade into groups was found");
		goto done;
	}
	if (d.st[end].nk < rank) {
		*fewer = d.st[end].nk;
		rc = -2;
		goto done;
	}
	int n = 0;
	for (int i = end, r = rank - 1; i != root;) {
		const dp_entry *e = d.en + (size_t)i * (size_t)d.k + r;
		n++;
		i = e->prev;
		r = e->prank;
	}
	int k = n;
	for (int i = end, r = rank - 1; i != root;) {
		const dp_entry *e = d.en + (size_t)i * (size_t)d.k + r;
		chosen[--k] = e->cand;
		i = e->prev;
		r = e->prank;
	}
	rc = n;
	goto done;
oom:
	snprintf(s->err, s->errlen, "out of memory");
done:
	free(d.st);
	free(d.en);
	free(d.table);
	return rc;
}

/* Puts the chosen groups in a canonical order: of the groups whose
 * predecessors have run, the one with the first Einsum in source order
 * runs next (the partition's own order depends on how it was found). */
static void canonical_order(const search *s, int *chosen, int n)
{
	uint64_t done = 0;
	for (int i = 0; i < n; i++) {
		int best = -1;
		for (int j = i; j < n; j++) {
			const cand *c = &s->cands[chosen[j]];
			if (c->pred & ~done)
				continue;
			if (best < 0 || __builtin_ctzll(c->mask) <
					       __builtin_ctzll(s->cands[chosen[best]].mask))
				best = j;
		}
		if (best < 0)
			return; /* cannot happen: the partition's order is one */
		int t = chosen[i];
		chosen[i] = chosen[best];
		chosen[best] = t;
		done |= s->cands[chosen[i]].mask;
	}
}

/* ---- Building the plan -------------------------------------------------- */

static void fill_group(const cost_group *cg, const cost_config *cfg,
		       const cost_result *res, plan_group *pg)
{
	int m = cost_group_nband(cg);
	for (int i = 0; i < cost_group_nmembers(cg); i++) {
		plan_member *mb = &pg->members[i];
		mb->einsum = cost_group_member(cg, i);
		mb->unit = res->unit[i];
		mb->cost = res->member[i];
	}
	pg->nmembers = cost_group_nmembers(cg);
	for (int j = 0; j < m; j++) {
		int slot = cfg->order[j];
		pg->tile[j] = cfg->tile[slot] < cost_group_extent(cg, slot)
				      ? cfg->tile[slot]
				      : cost_group_extent(cg, slot);
	}
	pg->cost = res->cost;
	pg->ntiles = res->ntiles;
	pg->fits = res->fits;
	for (int i = 0; i < cost_group_ntensors(cg); i++) {
		plan_tensor *t = &pg->tensors[i];
		t->tensor = cost_group_tensor(cg, i);
		t->role = cost_group_role(cg, i);
		/* Levels count loops in loop order: the same numbers. */
		t->level = res->level[i];
		t->multipass = res->mp[i];
		t->tile_elems = res->tile_elems[i];
		t->buffer_bytes = res->buffer_bytes[i];
		t->dram_bytes = res->dram_bytes[i];
	}
	pg->ntensors = cost_group_ntensors(cg);
}

/* A cost group for candidate c's chosen band, in its chosen loop order (so
 * that slot k is loop k), and the configuration translated to it. */
static cost_group *chosen_group(search *s, const cand *c, cost_config *cfg)
{
	const groups_band *b = &c->bands[c->band];
	int band[PLAN_MAX_BAND];
	int m = b->n;
	cost_config_init(cfg);
	for (int j = 0; j < m; j++) {
		int slot = c->cfg.order[j];
		band[j] = b->rank[slot];
		cfg->tile[j] = c->cfg.tile[slot];
		cfg->order[j] = j;
	}
	char *flags = malloc((size_t)s->n);
	if (!flags)
		return NULL;
	mask_to_flags(c->mask, s->n, flags);
	cost_group *cg = cost_group_new(s->m, flags, m, band, s->err, s->errlen);
	free(flags);
	return cg;
}

/* Checks the chosen group with isl: legal at its tiles, and the model's
 * tile footprints against isl's counts (replacing them where they
 * differ).  Returns 1 if usable, 0 if not (it must be dropped), -1 on
 * error. */
static int verify_group(search *s, cost_group *cg, const cost_config *cfg,
			cost_result *res, int *checked, int *differed)
{
	const deps_graph *g = s->g;
	int m = cost_group_nband(cg);
	fusion_req req = {0};
	char *flags = calloc((size_t)s->n, 1);
	if (!flags)
		return -1;
	for (int i = 0; i < cost_group_nmembers(cg); i++)
		flags[cost_group_member(cg, i)] = 1;
	req.members = flags;
	req.nband = m;
	for (int j = 0; j < m; j++) {
		req.band[j] = cost_group_band(cg, j);
		req.tile[j] = cfg->tile[j];
	}
	req.verdict_only = 1;
	fusion_result fr;
	int multi = cost_group_nmembers(cg) > 1;
	int rc = -1;
	if (fusion_check(g, &req, multi, &fr, s->err, s->errlen) < 0)
		goto done;
	if (!fr.legal) {
		rc = 0;
		fusion_result_clear(&fr);
		goto done;
	}
	int changed = 0;
	for (int f = 0; f < fr.nfp; f++) {
		for (int i = 0; i < cost_group_ntensors(cg); i++) {
			if (cost_group_tensor(cg, i) != fr.fp[f].tensor)
				continue;
			(*checked)++;
			double model = cost_group_tile_elems(cg, i, cfg->tile);
			if ((double)fr.fp[f].footprint != model) {
				(*differed)++;
				cost_group_set_tile_elems(cg, i, (double)fr.fp[f].footprint);
				changed = 1;
			}
		}
	}
	fusion_result_clear(&fr);
	if (changed) {
		if (cost_eval(cg, cfg, 1, res) < 0)
			goto done;
		if (!res->fits && multi) {
			rc = 0;
			goto done;
		}
	}
	rc = 1;
done:
	free(flags);
	return rc;
}

static plan *new_plan(const cost_model *m, const char *policy)
{
	const ein_cascade *c = cost_deps(m)->c;
	plan *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->file = strdup(c->file ? c->file : "");
	p->arch = strdup(cost_target(m)->name);
	p->policy = strdup(policy);
	p->nparams = c->nparams;
	p->param_names = calloc((size_t)(c->nparams ? c->nparams : 1), sizeof(char *));
	p->param_values = calloc((size_t)(c->nparams ? c->nparams : 1), sizeof(int64_t));
	p->target = target_to_json(cost_target(m));
	if (!p->file || !p->arch || !p->policy || !p->param_names ||
	    !p->param_values || !p->target) {
		plan_free(p);
		return NULL;
	}
	for (int k = 0; k < c->nparams; k++) {
		p->param_names[k] = strdup(c->params[k].name);
		p->param_values[k] = c->params[k].value;
		if (!p->param_names[k]) {
			plan_free(p);
			return NULL;
		}
	}
	return p;
}

static int alloc_group(plan_group *pg, int nmembers, int ntensors)
{
	pg->members = calloc((size_t)nmembers, sizeof(*pg->members));
	pg->tensors = calloc((size_t)(ntensors ? ntensors : 1), sizeof(*pg->tensors));
	return pg->members && pg->tensors ? 0 : -1;
}

static int set_band_names(const deps_graph *g, const cost_group *cg,
			  const cost_config *cfg, plan_group *pg)
{
	int m = cost_group_nband(cg);
	for (int j = 0; j < m; j++) {
		pg->band[j] = strdup(g->ranks[cost_group_band(cg, cfg->order[j])]);
		if (!pg->band[j])
			return -1;
		pg->nband = j + 1;
	}
	return 0;
}

static void plan_totals(const cost_model *m, plan *p)
{
	plan_cost *gc = malloc((size_t)(p->ngroups ? p->ngroups : 1) * sizeof(*gc));
	if (!gc)
		return;
	for (int i = 0; i < p->ngroups; i++)
		gc[i] = p->groups[i].cost;
	cost_total(cost_target(m), gc, p->ngroups, &p->total, &p->latency_seconds);
	free(gc);
}

#define MAPPER_MAX_REWRITES 64 /* single rewrites tried */
#define MAPPER_MAX_COMBINED 8	/* rewrites of different tensors together */

/* full's plan of c rewritten by s[0..n): the rewritten cascade's own
 * dependences, cost model and search.  Returns the plan, which owns the
 * rewritten cascade, or NULL with a message in err. */
static plan *plan_rewrite(const cost_model *m, const recompute_spec *s, int n,
			  const mapper_opts *fo, char *err, size_t errlen)
{
	const deps_graph *g = cost_deps(m);
	int copy[MAPPER_MAX_COMBINED];
	if (n > MAPPER_MAX_COMBINED) {
		snprintf(err, errlen, "at most %d rewrites together", MAPPER_MAX_COMBINED);
		return NULL;
	}
	ein_cascade *rc = recompute_apply(g->c, s, n, copy, err, errlen);
	deps_graph *g2 = rc ? deps_build(g->ctx, rc, err, errlen) : NULL;
	cost_model *m2 = g2 ? cost_model_new(g2, cost_target(m), err, errlen) : NULL;
	plan *p = m2 ? mapper_run(m2, fo, err, errlen) : NULL;
	cost_model_free(m2);
	deps_free(g2);
	if (!p) {
		ein_cascade_free(rc);
		return NULL;
	}
	if (plan_set_recompute(p, g->c, s, n, rc, copy) < 0) {
		snprintf(err, errlen, "out of memory");
		plan_free(p);
		return NULL;
	}
	return p;
}

/* Keeps the faster of *best and q (frees the other); 1 if q is kept.  A
 * rewrite must gain more than rounding to replace the plan without it. */
static int keep_faster(plan **best, plan *q, int64_t *evals, int64_t *considered)
{
	*evals += q->candidates;
	*considered += q->groups_considered;
	if (q->latency_seconds < (*best)->latency_seconds * (1 - 1e-9)) {
		plan_free(*best);
		*best = q;
		return 1;
	}
	plan_free(q);
	return 0;
}

/* Policy recompute: full's plan of the cascade as written, then of every
 * single rewrite recompute_candidates lists, then rewrites of other
 * tensors added one at a time to the best while each lowers the latency.
 * So it is never slower than full (the same search is among its
 * choices).  A rewrite the mapper cannot plan (too many Einsums, say) is
 * skipped. */
static plan *run_recompute(const cost_model *m, const mapper_opts *o, char *err, size_t errlen)
{
	const ein_cascade *c = cost_deps(m)->c;
	mapper_opts fo = *o;
	fo.policy = MAPPER_FULL;
	double t0 = now_seconds();
	plan *best = mapper_run(m, &fo, err, errlen);
	if (!best)
		return NULL;
	double full = best->latency_seconds;
	int64_t evals = best->candidates, considered = best->groups_considered;
	int complete = best->complete;
	recompute_spec cand[MAPPER_MAX_REWRITES], cur[MAPPER_MAX_COMBINED];
	double lat[MAPPER_MAX_REWRITES];
	int nc = recompute_candidates(c, cand, MAPPER_MAX_REWRITES), ncur = 0;
	char e[512];
	/* Only rewrites of a tensor that full's plan reads in another group
	 * than the one that makes it: elsewhere the tensor never leaves the
	 * buffer, and a copy would only add work (each rewrite costs a whole
	 * search). */
	int group_of[64];
	for (int e0 = 0; e0 < 64; e0++)
		group_of[e0] = -1;
	for (int gi = 0; gi < best->ngroups; gi++)
		for (int k = 0; k < best->groups[gi].nmembers; k++)
			if (best->groups[gi].members[k].einsum < 64)
				group_of[best->groups[gi].members[k].einsum] = gi;
	int kept = 0;
	for (int i = 0; i < nc; i++) {
		const ein_tensor *tt = &c->tensors[cand[i].tensor];
		int w = group_of[tt->writers[tt->nwriters - 1]], crosses = 0;
		for (int k = 0; k < cand[i].nreaders; k++)
			crosses |= group_of[cand[i].readers[k]] != w;
		if (crosses)
			cand[kept++] = cand[i];
	}
	nc = kept;
	/* Rewrites the budget leaves untried count as not gaining. */
	for (int i = 0; i < nc; i++)
		lat[i] = INFINITY;
	for (int i = 0; i < nc; i++) {
		if (o->time_budget > 0 && now_seconds() - t0 > o->time_budget) {
			complete = 0;
			break;
		}
		plan *q = plan_rewrite(m, &cand[i], 1, &fo, e, sizeof(e));
		if (!q)
			continue;
		lat[i] = q->latency_seconds;
		complete &= q->complete;
		if (keep_faster(&best, q, &evals, &considered)) {
			cur[0] = cand[i];
			ncur = 1;
		}
	}
	/* Rewrites of other tensors that gained alone, added greedily. */
	for (int i = 0; i < nc && ncur > 0 && ncur < MAPPER_MAX_COMBINED; i++) {
		int other = lat[i] < full;
		for (int k = 0; k < ncur && other; k++)
			other = cur[k].tensor != cand[i].tensor;
		if (!other)
			continue;
		if (o->time_budget > 0 && now_seconds() - t0 > o->time_budget) {
			complete = 0;
			break;
		}
		cur[ncur] = cand[i];
		plan *q = plan_rewrite(m, cur, ncur + 1, &fo, e, sizeof(e));
		if (q && keep_faster(&best, q, &evals, &considered))
			ncur++;
	}
	free(best->policy);
	if (!(best->policy = strdup(mapper_policy_names[MAPPER_RECOMPUTE]))) {
		snprintf(err, errlen, "out of memory");
		plan_free(best);
		return NULL;
	}
	best->search_seconds = now_seconds() - t0;
	best->candidates = evals;
	best->groups_considered = considered;
	best->complete = complete;
	return best;
}

plan *mapper_run(const cost_model *m, const mapper_opts *o, char *err,
		 size_t errlen)
{
	if (o->policy == MAPPER_RECOMPUTE)
		return run_recompute(m, o, err, errlen);
	const deps_graph *g = cost_deps(m);
	search s = {0};
	plan *p = NULL;
	int *chosen = NULL;
	cost_result *res = NULL;
	s.m = m;
	s.g = g;
	s.c = g->c;
	s.n = g->c->neinsums;
	s.err = err;
	s.errlen = errlen;
	s.t0 = now_seconds();
	s.budget = o->time_budget;
	s.complete = 1;
	if (s.n > 64) {
		snprintf(err, errlen, "the mapper handles at most 64 Einsums (this "
				      "cascade has %d)", s.n);
		return NULL;
	}
	s.pred = calloc((size_t)(s.n ? s.n : 1), sizeof(uint64_t));
	chosen = malloc((size_t)(s.n ? s.n : 1) * sizeof(int));
	res = malloc(sizeof(*res));
	if (!s.pred || !chosen || !res) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (int k = 0; k < g->nedges; k++)
		s.pred[g->edges[k].consumer] |= 1ull << g->edges[k].producer;
	for (int k = 0; k < g->nmem; k++)
		if (g->mem[k].producer != g->mem[k].consumer)
			s.pred[g->mem[k].consumer] |= 1ull << g->mem[k].producer;
	/* Candidates: singletons first, so that a plan exists whatever the
	 * budget. */
	if (mem_distances(&s) < 0 || add_singletons(&s) < 0)
		goto fail;
	if (o->policy != MAPPER_UNFUSED && add_ssm_groups(&s) < 0)
		goto fail;
	if (o->policy == MAPPER_FULL && add_interval_groups(&s) < 0)
		goto fail;
	for (int k = 0; k < s.ncand; k++) {
		if (popcount64(s.cands[k].mask) > 1 && over_budget(&s)) {
			s.complete = 0;
			break;
		}
		if (cost_cand(&s, &s.cands[k]) < 0)
			goto fail;
	}
	/* Choose, verify with isl, and choose again without what failed. */
	int checked, differed;
	int rank = o->rank > 0 ? o->rank : 1;
	for (;;) {
		int fewer = 0;
		int n = partition(&s, rank, chosen, &fewer);
		if (n == -1)
			goto fail;
		if (n == -2) {
			snprintf(err, errlen, MAPPER_FEWER_PLANS "%d distinct plan%s, not %d", fewer,
				 fewer == 1 ? "" : "s", rank);
			goto fail;
		}
		canonical_order(&s, chosen, n);
		plan_free(p);
		p = new_plan(m, mapper_policy_names[o->policy]);
		if (!p || !(p->groups = calloc((size_t)(n ? n : 1), sizeof(*p->groups)))) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		int dropped = 0;
		checked = differed = 0;
		for (int i = 0; i < n && !dropped; i++) {
			cand *c = &s.cands[chosen[i]];
			cost_config cfg;
			cost_group *cg = chosen_group(&s, c, &cfg);
			if (!cg)
				goto fail;
			int v = cost_eval(cg, &cfg, 1, res) < 0
					? -1
					: verify_group(&s, cg, &cfg, res, &checked, &differed);
			plan_group *pg = &p->groups[p->ngroups++];
			if (v > 0 &&
			    (alloc_group(pg, cost_group_nmembers(cg), cost_group_ntensors(cg)) < 0 ||
			     set_band_names(g, cg, &cfg, pg) < 0)) {
				snprintf(err, errlen, "out of memory");
				v = -1;
			}
			if (v > 0)
				fill_group(cg, &cfg, res, pg);
			cost_group_free(cg);
			if (v < 0)
				goto fail;
			if (v == 0) {
				c->usable = 0;
				dropped = 1;
			}
		}
		if (!dropped)
			break;
	}
	plan_totals(m, p);
	p->search_seconds = now_seconds() - s.t0;
	p->candidates = s.evals;
	p->groups_considered = s.groups_costed;
	p->complete = s.complete;
	p->time_budget = o->time_budget;
	p->footprints_checked = checked;
	p->footprints_differed = differed;
	if (plan_validate(p, g, err, errlen) < 0) {
		char tmp[512];
		snprintf(tmp, sizeof(tmp), "%s", err);
		snprintf(err, errlen, "the mapper produced an invalid plan: %s", tmp);
		goto fail;
	}
	goto done;
fail:
	plan_free(p);
	p = NULL;
done:
	free(s.cands);
	free(s.pred);
	free(s.mem_bad);
	free(chosen);
	free(res);
	return p;
}

int mapper_evaluate(const cost_model *m, plan *p, char *err, size_t errlen)
{
	const deps_graph *g = cost_deps(m);
	const ein_cascade *c = g->c;
	char *flags = calloc((size_t)(c->neinsums ? c->neinsums : 1), 1);
	cost_result *res = malloc(sizeof(*res));
	int rc = -1;
	if (!flags || !res) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	for (int gi = 0; gi < p->ngroups; gi++) {
		plan_group *pg = &p->groups[gi];
		int band[PLAN_MAX_BAND];
		memset(flags, 0, (size_t)c->neinsums);
		for (int k = 0; k < pg->nmembers; k++)
			flags[pg->members[k].einsum] = 1;
		for (int k = 0; k < pg->nband; k++) {
			band[k] = deps_rank(g, pg->band[k]);
			if (band[k] < 0) {
				snprintf(err, errlen, "field \"groups[%d].band[%d].rank\": no "
						      "rank named '%s'", gi, k, pg->band[k]);
				goto done;
			}
		}
		char gerr[256];
		cost_group *cg = cost_group_new(m, flags, pg->nband, band, gerr, sizeof(gerr));
		if (!cg) {
			snprintf(err, errlen, "field \"groups[%d]\": %s", gi, gerr);
			goto done;
		}
		cost_config cfg;
		cost_config_init(&cfg);
		for (int k = 0; k < pg->nband; k++)
			cfg.tile[k] = pg->tile[k];
		for (int k = 0; k < pg->nmembers; k++) {
			/* Members are in source order, as in the cost group. */
			if (pg->members[k].unit == PLAN_UNIT_2D && !cost_group_can_2d(cg, k)) {
				snprintf(err, errlen,
					 "field \"groups[%d].members[%d].unit\": '%s' cannot "
					 "run on the 2D array (it is not a sum of products of "
					 "two tensors)",
					 gi, k, c->einsums[pg->members[k].einsum].name);
				cost_group_free(cg);
				goto done;
			}
			cfg.unit[k] = (signed char)pg->members[k].unit;
		}
		for (int k = 0; k < pg->ntensors; k++) {
			const plan_tensor *t = &pg->tensors[k];
			int found = -1;
			for (int i = 0; i < cost_group_ntensors(cg); i++)
				if (cost_group_tensor(cg, i) == t->tensor)
					found = i;
			if (found < 0) {
				snprintf(err, errlen,
					 "field \"groups[%d].tensors[%d].name\": the group does "
					 "not touch '%s'",
					 gi, k, c->tensors[t->tensor].name);
				cost_group_free(cg);
				goto done;
			}
			if (t->multipass > PLAN_MP_NONE && !cost_group_multipass(cg, found)) {
				snprintf(err, errlen,
					 "field \"groups[%d].tensors[%d].multipass\": '%s' is "
					 "not read in several passes inside this group",
					 gi, k, c->tensors[t->tensor].name);
				cost_group_free(cg);
				goto done;
			}
			cfg.level[found] = (signed char)t->level;
			cfg.mp[found] = (signed char)(t->multipass > PLAN_MP_NONE ? t->multipass : -1);
		}
		if (cost_eval(cg, &cfg, 1, res) < 0) {
			cost_group_free(cg);
			snprintf(err, errlen, "out of memory");
			goto done;
		}
		plan_tensor *nt = calloc((size_t)(cost_group_ntensors(cg) ? cost_group_ntensors(cg) : 1),
					 sizeof(*nt));
		if (!nt) {
			cost_group_free(cg);
			snprintf(err, errlen, "out of memory");
			goto done;
		}
		free(pg->tensors);
		pg->tensors = nt;
		fill_group(cg, &cfg, res, pg);
		cost_group_free(cg);
	}
	plan_totals(m, p);
	cJSON_Delete(p->target);
	p->target = target_to_json(cost_target(m));
	free(p->arch);
	p->arch = strdup(cost_target(m)->name);
	if (!p->arch) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	rc = 0;
done:
	free(flags);
	free(res);
	return rc;
}
