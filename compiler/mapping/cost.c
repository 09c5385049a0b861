/* cost.c - the analytical cost model (see cost.h, docs/cost-model.md). */
#include "cost.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isl/ilp.h>
#include <isl/map.h>
#include <isl/set.h>
#include <isl/val.h>

#include "analysis/poly.h"
#include "isa/mlb.h"

struct cost_model {
	const deps_graph *g;
	const ein_cascade *c;
	const target *t;
	cost_einsum_info *es;
	double *edge_elems; /* per flow edge: elements of the tensor it carries */
};

const char *cost_unit_name(plan_unit u)
{
	return u == PLAN_UNIT_2D ? "2d" : "1d";
}

const char *cost_multipass_name(plan_multipass mp)
{
	switch (mp) {
	case PLAN_MP_NONE:
		return "none";
	case PLAN_MP_BUFFER:
		return "buffer";
	case PLAN_MP_SPILL:
		return "spill";
	case PLAN_MP_RECOMPUTE:
		return "recompute";
	}
	return "?";
}

const cost_einsum_info *cost_einsum(const cost_model *m, int e)
{
	return &m->es[e];
}

const target *cost_target(const cost_model *m)
{
	return m->t;
}

const deps_graph *cost_deps(const cost_model *m)
{
	return m->g;
}

void cost_model_free(cost_model *m)
{
	if (!m)
		return;
	free(m->es);
	free(m->edge_elems);
	free(m);
}

/* ---- Per-Einsum analysis ------------------------------------------------ */

/* Is t a CPU whose loops are priced as work plus accesses (its register
 * rate known: docs/cost-model.md, "Loops on a CPU")? */
static int cpu_loops(const target *t)
{
	return t->kind == TARGET_CPU && t->cpu.register_gelem > 0;
}

static void add_term(cost_einsum_info *in, uint32_t vars, double ops)
{
	for (int j = 0; j < in->nterms; j++)
		if (in->term_vars[j] == vars) {
			in->term_ops[j] += ops;
			return;
		}
	if (in->nterms < COST_MAX_TERMS) {
		in->term_vars[in->nterms] = vars;
		in->term_ops[in->nterms++] = ops;
		return;
	}
	/* Out of slots: charge it with the first term over a superset of
	 * its variables (an over-estimate, never an under-estimate). */
	for (int j = 0; j < in->nterms; j++)
		if ((in->term_vars[j] & vars) == vars) {
			in->term_ops[j] += ops;
			return;
		}
	in->term_vars[0] |= vars;
	in->term_ops[0] += ops;
}

static int is_mul(const ein_expr *x)
{
	return x && x->kind == EIN_X_BINARY && x->op == EIN_OP_MUL;
}

/* What operation op costs per element on target t's 1D array: on a CPU
 * whose register rate is known, its work apart from its loop's loads and
 * stores (those are charged per access: box_cycles), else its loop's. */
static double op_cost(const target *t, int op)
{
	return cpu_loops(t) ? t->alu_cycles[op] : t->op_cycles[op];
}

/* Charges the operations of x to the 1D work terms.  fused: x is a
 * multiply whose add was charged as one multiply-accumulate. */
static void charge(cost_einsum_info *in, const target *t, const ein_einsum *es,
		   const ein_expr *x, int fused)
{
	if (!x)
		return;
	if (x->kind == EIN_X_UNARY) {
		add_term(in, ein_expr_vars(es, x), op_cost(t, x->op));
		charge(in, t, es, x->a, 0);
		return;
	}
	if (x->kind != EIN_X_BINARY)
		return;
	if (fused) {
		charge(in, t, es, x->a, 0);
		charge(in, t, es, x->b, 0);
		return;
	}
	if ((x->op == EIN_OP_ADD || x->op == EIN_OP_SUB) &&
	    (is_mul(x->a) || is_mul(x->b))) {
		add_term(in, ein_expr_vars(es, x), op_cost(t, TARGET_OP_MAC));
		int fa = is_mul(x->a);
		charge(in, t, es, x->a, fa);
		charge(in, t, es, x->b, !fa && is_mul(x->b));
		return;
	}
	add_term(in, ein_expr_vars(es, x), op_cost(t, TARGET_OP_BINOP0 + x->op));
	charge(in, t, es, x->a, 0);
	charge(in, t, es, x->b, 0);
}

/* Product dimension q of a BLAS call over the variables in mask, held by
 * tensors p (whose order lists them) and o: in->blk[q], innermost first,
 * and in->nmerge[q], how many of them are each the next dimension
 * outwards in both tensors (code generation merges those only:
 * lower_gemm.c's collapsible). */
static void gemm_block(cost_einsum_info *in, int q, uint32_t mask, const ein_access *p,
		       const ein_access *o)
{
	int n = 0, merge = 0, chain = 1, pd = -1, od = -1;
	for (int d = p->nidx - 1; d >= 0; d--)
		for (int v = 0; v < in->nvars; v++)
			if (((mask >> v) & 1) && ein_access_dim(p, v) == d && n < EIN_MAX_VARS)
				in->blk[q][n++] = v;
	/* A variable that no dimension takes with coefficient 1: the order
	 * of the variables (such a product is not a BLAS call on a CPU). */
	if (n != __builtin_popcount(mask)) {
		n = 0;
		for (int v = in->nvars - 1; v >= 0; v--)
			if ((mask >> v) & 1)
				in->blk[q][n++] = v;
		in->nblk[q] = in->nmerge[q] = n;
		return;
	}
	for (int i = 0; i < n && chain; i++) {
		int a = ein_access_dim(p, in->blk[q][i]), b = ein_access_dim(o, in->blk[q][i]);
		chain = b >= 0 && (i == 0 || (a == pd - 1 && b == od - 1));
		merge += chain;
		pd = a;
		od = b;
	}
	in->nblk[q] = n;
	in->nmerge[q] = merge;
}

static void analyse_ops(cost_einsum_info *in, const target *t,
			const ein_einsum *es)
{
	uint32_t all = 0, red = 0;
	for (int v = 0; v < es->nvars; v++) {
		all |= 1u << v;
		if (es->vars[v].reduced)
			red |= 1u << v;
	}
	for (int k = 0; k < es->nconds; k++)
		for (int v = 0; v < es->nvars; v++)
			if (es->conds[k].aff.vc[v])
				in->filt |= 1u << v;
	int acc[2], nacc = 0;
	if (red && es->reduce_op == EIN_OP_ADD && es->rhs &&
	    ein_expr_product(NULL, es->rhs, acc, &nacc, NULL) == 0 && nacc == 2) {
		uint32_t va = ein_access_vars(&es->reads[acc[0]]);
		uint32_t vb = ein_access_vars(&es->reads[acc[1]]);
		uint32_t out = all & ~red;
		in->gemm = 1;
		in->mvars = out & va & ~vb;
		in->nvars_ = out & vb & ~va;
		in->bvars = out & ~(in->mvars | in->nvars_);
		in->kvars = red;
		const ein_access *ta = &es->reads[acc[0]], *tb = &es->reads[acc[1]];
		gemm_block(in, 0, in->mvars, &es->out, ta);
		gemm_block(in, 1, in->nvars_, &es->out, tb);
		gemm_block(in, 2, in->kvars, ta, tb);
	}
	if (red) {
		if (es->reduce_op == EIN_OP_ADD && is_mul(es->rhs)) {
			add_term(in, all, op_cost(t, TARGET_OP_MAC));
			charge(in, t, es, es->rhs, 1);
		} else {
			add_term(in, all, op_cost(t, TARGET_OP_BINOP0 + es->reduce_op));
			charge(in, t, es, es->rhs, 0);
		}
	} else {
		charge(in, t, es, es->rhs, 0);
	}
	if (in->nterms == 0)
		add_term(in, all, op_cost(t, TARGET_OP_COPY));
	/* The innermost loop on a CPU: a reduction's last reduced variable
	 * (its simd loop), else the variable of the output's last index. */
	in->inner = -1;
	for (int v = 0; v < es->nvars; v++)
		if (es->vars[v].reduced)
			in->inner = v;
	if (in->inner < 0 && es->out.nidx > 0) {
		const ein_aff *x = &es->out.idx[es->out.nidx - 1];
		for (int v = es->nvars - 1; v >= 0 && in->inner < 0; v--)
			if (x->vc[v])
				in->inner = v;
	}
	/* Distinct operand reads. */
	int nr = 0, ninv = 0;
	for (int r = 0; r < es->nreads; r++) {
		const ein_access *a = &es->reads[r];
		if (a->tensor == es->out.tensor)
			continue;
		int dup = 0;
		for (int q = 0; q < r && !dup; q++)
			dup = es->reads[q].tensor == a->tensor &&
			      memcmp(es->reads[q].idx, a->idx, sizeof(ein_aff) * (size_t)a->nidx) == 0;
		nr += !dup;
		ninv += !dup && t->kind == TARGET_CPU && in->inner >= 0 &&
			!((ein_access_vars(a) >> in->inner) & 1);
	}
	int moving = nr - ninv;
	/* On a CPU, an Einsum that reads its own tensor without reducing
	 * (a recurrence: the previous generation) loads it from memory. */
	int own = 0;
	for (int r = 0; r < es->nreads && !red; r++)
		own |= es->reads[r].tensor == es->out.tensor;
	in->nmoving = moving + own;
	in->reduces = red != 0;
	if (cpu_loops(t)) {
		/* Loads and stores are charged per access (box_cycles). */
		moving = 0;
	} else if (t->kind == TARGET_CPU) {
		/* A CPU's op rates were measured reading two operands per
		 * element (docs/target.md): an elementwise member's reads
		 * beyond those cost `read` each; a reduction's chain into its
		 * accumulator takes one `read` step per point, which is what
		 * that probe measures (a sum). */
		if (red)
			moving = 1;
		else
			moving = moving > 2 ? moving - 2 : 0;
	}
	in->read_cycles = moving * t->op_cycles[TARGET_OP_READ];
	in->read_inner_cycles = ninv * (cpu_loops(t) ? t->access_cycles : t->op_cycles[TARGET_OP_READ]);
	in->nreads = nr;
	in->outvars = all & ~red;
}

static int val_to_i64(__isl_take isl_val *v, int64_t *out)
{
	if (!v || !isl_val_is_int(v)) {
		isl_val_free(v);
		return -1;
	}
	*out = isl_val_get_num_si(v);
	isl_val_free(v);
	return 0;
}

static int analyse_domain(cost_einsum_info *in, const deps_graph *g, int e)
{
	const ein_cascade *c = g->c;
	const ein_einsum *es = &c->einsums[e];
	isl_set *dom = poly_domain(g->ctx, c, e, 1);
	if (!dom)
		return -1;
	isl_bool empty = isl_set_is_empty(dom);
	if (empty < 0) {
		isl_set_free(dom);
		return -1;
	}
	double box = 1;
	for (int v = 0; v < es->nvars; v++) {
		int64_t lo = 0, hi = 0;
		if (!empty &&
		    (val_to_i64(isl_set_dim_min_val(isl_set_copy(dom), v), &lo) < 0 ||
		     val_to_i64(isl_set_dim_max_val(isl_set_copy(dom), v), &hi) < 0)) {
			isl_set_free(dom);
			return -1;
		}
		in->lo[v] = lo;
		in->ext[v] = empty ? 1 : hi - lo + 1;
		box *= (double)in->ext[v];
	}
	int64_t n = 0;
	int exact = 1;
	if (empty) {
		isl_set_free(dom);
	} else if (poly_count(dom, &n, &exact) < 0) {
		return -1;
	}
	in->points = (double)n;
	in->density = box > 0 ? (double)n / box : 0;
	if (in->density > 1)
		in->density = 1;
	return 0;
}

static int edge_elements(const deps_graph *g, const deps_edge *ed, double *out)
{
	const ein_cascade *c = g->c;
	isl_set *dom = isl_map_domain(isl_map_copy(ed->rel));
	isl_map *acc = poly_access(g->ctx, c, ed->producer,
				   &c->einsums[ed->producer].out);
	isl_set *img = isl_set_apply(dom, acc);
	int64_t n = 0;
	int exact = 1;
	if (!img || poly_count(img, &n, &exact) < 0)
		return -1;
	*out = (double)n;
	return 0;
}

cost_model *cost_model_new(const deps_graph *g, const target *t, char *err,
			   size_t errlen)
{
	const ein_cascade *c = g->c;
	cost_model *m = calloc(1, sizeof(*m));
	if (!m)
		goto oom;
	m->g = g;
	m->c = c;
	m->t = t;
	m->es = calloc((size_t)(c->neinsums ? c->neinsums : 1), sizeof(*m->es));
	m->edge_elems = calloc((size_t)(g->nedges ? g->nedges : 1), sizeof(double));
	if (!m->es || !m->edge_elems)
		goto oom;
	for (int e = 0; e < c->neinsums; e++) {
		cost_einsum_info *in = &m->es[e];
		const ein_einsum *es = &c->einsums[e];
		in->nvars = es->nvars;
		in->gen = es->gen_var;
		if (analyse_domain(in, g, e) < 0)
			goto isl_fail;
		analyse_ops(in, t, es);
	}
	for (int k = 0; k < g->nedges; k++)
		if (edge_elements(g, &g->edges[k], &m->edge_elems[k]) < 0)
			goto isl_fail;
	return m;
isl_fail:
	snprintf(err, errlen, "isl: %s", poly_error(g->ctx));
	cost_model_free(m);
	return NULL;
oom:
	snprintf(err, errlen, "out of memory");
	cost_model_free(m);
	return NULL;
}

static double prod_mask(const int64_t *ext, uint32_t mask, int nvars)
{
	double p = 1;
	for (int v = 0; v < nvars; v++)
		if ((mask >> v) & 1)
			p *= (double)ext[v];
	return p;
}

/* The extent of one product dimension of a BLAS call over the ranks in
 * mask (outermost first, as the tensors are laid out): from the innermost
 * rank outwards, a rank joins while every rank inside it is whole in the
 * tile; the ranks left outside multiply the calls (*batch). */
static void cpu_gemm_dim(const cost_einsum_info *in, int q, const int64_t *ext, double *dim,
			 double *batch)
{
	double d = 1;
	int whole = 1;
	for (int i = 0; i < in->nblk[q]; i++) {
		int v = in->blk[q][i];
		if (whole && i < in->nmerge[q])
			d *= (double)ext[v];
		else
			*batch *= (double)ext[v];
		whole = whole && ext[v] == in->ext[v];
	}
	*dim = d;
}

_Static_assert(PLAN_MAX_LEVELS == TARGET_MAX_LEVELS, "plan.h and target.h count levels alike");

/* Values one box moves at the on-chip levels (target.h, docs/cost-model.md
 * section 7): rd[l], wr[l] read from and written to level l (1: the
 * buffer, 2: the PE storage), and the PE tiles (blocks) of the 2D array. */
typedef struct box_lv {
	double rd[TARGET_MAX_LEVELS], wr[TARGET_MAX_LEVELS];
	double blocks;
} box_lv;

/* The 2D array's PE tile (docs/cost-model.md section 7): the tiling the
 * simulator charges (mlb_pe_tile_reads), with each PE's share of the PE
 * level.  Returns the operand values the buffer sends an mm x nn output
 * (mm along the rows); *blocks receives the PE tiles. */
static double pe_tile_reads(const target *t, double mm, double nn, double kk, double *blocks)
{
	double r = (double)t->rows, c = (double)t->cols;
	double per_pe = 1;
	if (t->nlevels > 2) {
		double pes = r * c * (double)(t->cores > 0 ? t->cores : 1);
		per_pe = floor((double)t->levels[2].bytes / pes / (double)t->bytes_per_value);
		if (per_pe < 1)
			per_pe = 1;
	}
	return mlb_pe_tile_reads(r, c, per_pe, mm, nn, kk, blocks);
}

static void mma_traffic(const target *t, double bt, double mm, double nn, double kk,
			box_lv *lv)
{
	double r = (double)t->rows, c = (double)t->cols;
	/* The orientation the compute takes (box_cycles). */
	double a = ceil(mm / r) * ceil(nn / c), b = ceil(nn / r) * ceil(mm / c);
	double bl;
	double rd = a <= b ? pe_tile_reads(t, mm, nn, kk, &bl) : pe_tile_reads(t, nn, mm, kk, &bl);
	lv->rd[1] = bt * rd;
	lv->wr[1] = bt * mm * nn;
	lv->rd[2] = bt * 2 * mm * nn * kk;
	lv->wr[2] = bt * mm * nn;
	lv->blocks = bt * bl;
}

/* The block of ml_sgemm_tri's masked products (ML_TRI_B in
 * runtime/ml_gemm.h). */
#define COST_TRI_BLOCK 64.0

/* A member's place in the loops code generation makes on a CPU
 * (cpu_registers): how many of its distinct reads come from registers,
 * whether its result stays in one, and whether it shares its innermost
 * loop with another member. */
typedef struct loop_regs {
	int reads, out, fused;
} loop_regs;

/* A reduction whose innermost loop, the vector loop, runs along its
 * reduced rank ends every output point by adding up one vector's lanes:
 * log2(lanes) shuffles and adds, each on a whole vector (lanes elements of
 * work in registers), a chain the next point's work barely overlaps.
 * Measured on Mamba-1's scan (an AMD EPYC, 8 lanes): the sum over 16
 * states, one output per channel and token, took 26.2 ms along the states
 * and 24.0 along 16 channels, where the model said 25.7 and 27.3. */
static double cpu_hsum_cycles(const target *t, const cost_einsum_info *in, const int64_t *ext)
{
	double lanes = (double)t->cpu.simd_bytes / 4;
	if (!in->reduces || in->inner < 0 || lanes < 2 || (double)ext[in->inner] < lanes)
		return 0;
	double steps = log2(lanes);
	return prod_mask(ext, in->outvars, in->nvars) * 2 * steps * lanes * t->alu_cycles[TARGET_OP_MAC];
}

/* With cpu_loops: the loads and stores of a member's loop, each at
 * access_cycles, over p points (steps of a generational loop).  A
 * reduction stores once per output point; alone in its loop, it runs no
 * faster than the probe's sum (`read`: its accumulator's chain), which
 * other members' work hides when they share the loop. */
static double cpu_accesses(const target *t, const cost_einsum_info *in, const loop_regs *lr,
			   const int64_t *ext, double p)
{
	int nr = in->nmoving - (lr ? lr->reads : 0);
	double per = (nr > 0 ? nr : 0) + (in->reduces || (lr && lr->out) ? 0 : 1);
	double cy = p * per * t->access_cycles;
	if (in->reduces) {
		cy += prod_mask(ext, in->outvars, in->nvars) * t->access_cycles;
		if (!(lr && lr->fused) && cy < p * t->op_cycles[TARGET_OP_READ])
			cy = p * t->op_cycles[TARGET_OP_READ];
	}
	return cy;
}

static double box_cycles(const cost_model *m, const cost_einsum_info *in, const loop_regs *lr,
			 plan_unit u, const int64_t *ext, double *useful, box_lv *lv)
{
	const target *t = m->t;
	uint32_t all = in->nvars >= 32 ? ~0u : (1u << in->nvars) - 1;
	if (u == PLAN_UNIT_2D) {
		if (!in->gemm)
			return -1;
		double bt = prod_mask(ext, in->bvars, in->nvars);
		double mm = prod_mask(ext, in->mvars, in->nvars);
		double nn = prod_mask(ext, in->nvars_, in->nvars);
		double kk = prod_mask(ext, in->kvars, in->nvars);
		if (useful)
			*useful = bt * mm * nn * kk * in->density;
		if (lv && t->kind != TARGET_CPU)
			mma_traffic(t, bt, mm, nn, kk, lv);
		if (t->kind == TARGET_CPU) {
			/* One BLAS call per batch element, at its shape's rate
			 * (target_gemm_gflops: the measured grid, else a factor
			 * per short dimension; docs/cost-model.md); ranks
			 * of a product dimension merge only while they are
			 * neighbours in both tensors and the ones inside them
			 * are whole, the rest are calls. */
			double k0 = kk;
			cpu_gemm_dim(in, 0, ext, &mm, &bt);
			cpu_gemm_dim(in, 1, ext, &nn, &bt);
			cpu_gemm_dim(in, 2, ext, &kk, &bt);
			double dens = in->density, calls = bt, em = mm, en = nn;
			if (dens < 1 && (in->filt & (in->mvars | in->nvars_))) {
				/* A masked product (ml_sgemm_tri): calls on blocks
				 * of COST_TRI_BLOCK rows (columns when the filter
				 * has no row rank), and the blocks the filter cuts
				 * computed whole, about half of each wasted. */
				int on_rows = (in->filt & in->mvars) != 0;
				double *cut = on_rows ? &em : &en;
				double other = prod_mask(ext, in->filt & ~(on_rows ? in->mvars : in->nvars_),
							 in->nvars);
				if (*cut > COST_TRI_BLOCK) {
					calls *= ceil(*cut / COST_TRI_BLOCK);
					*cut = COST_TRI_BLOCK;
				}
				if (other > 1)
					dens += 0.5 * fmin(COST_TRI_BLOCK, other) / other;
				if (dens > 1)
					dens = 1;
			}
			double rate = target_gemm_gflops(&t->cpu, em, en, kk);
			double cy = bt * 2 * mm * nn * kk * dens / rate + calls * t->cpu.call_ns;
			/* A sum split over tiles: the output is zeroed, then read
			 * and written again by each call (beta = 1). */
			if (k0 < prod_mask(in->ext, in->kvars, in->nvars))
				cy += bt * mm * nn * 2 / t->cpu.op_gelem[TARGET_OP_COPY];
			return cy;
		}
		double r = (double)t->rows, cl = (double)t->cols;
		/* Output-stationary: an output tile of rows x cols values takes
		 * max(K, drain) cycles; the operands may be swapped. */
		double a = ceil(mm / r) * ceil(nn / cl);
		double b = ceil(nn / r) * ceil(mm / cl);
		double tiles = bt * (a < b ? a : b);
		double kc = kk > (double)t->drain_cycles ? kk : (double)t->drain_cycles;
		return ceil(tiles / (double)t->cores) * kc;
	}
	double cyc = 0, use = 0;
	double lanes = (double)t->lanes;
	for (int j = 0; j < in->nterms; j++) {
		uint32_t tv = in->term_vars[j];
		double p = prod_mask(ext, tv, in->nvars);
		if ((tv & all) == all)
			p *= in->density;
		double ops = in->term_ops[j];
		if (in->gen >= 0 && ((tv >> in->gen) & 1)) {
			/* Sequential: one step per generation. */
			double steps = (double)ext[in->gen];
			cyc += steps * ceil(p / steps / lanes) * ops;
		} else {
			cyc += ceil(p / lanes) * ops;
		}
		use += p * ops;
	}
	/* Operand reads, overlapped with the operations. */
	double p = prod_mask(ext, all, in->nvars) * in->density;
	double rd;
	if (in->gen >= 0) {
		double steps = (double)ext[in->gen];
		rd = steps * ceil(p / steps / lanes) * in->read_cycles;
	} else {
		rd = ceil(p / lanes) * in->read_cycles;
	}
	/* Reads the innermost loop does not move (a CPU's only): once per
	 * run of that loop. */
	if (in->read_inner_cycles > 0)
		rd += ceil(p / (double)ext[in->inner] / lanes) * in->read_inner_cycles;
	if (cpu_loops(t))
		rd += cpu_accesses(t, in, lr, ext, p);
	if (rd > cyc)
		cyc = rd;
	/* The horizontal sums follow each output's work, not beside it. */
	if (cpu_loops(t))
		cyc += cpu_hsum_cycles(t, in, ext);
	if (useful)
		*useful = use;
	if (lv) {
		/* Operands from the buffer into the lanes, one result per
		 * output position back; the datapath reads the same operands
		 * and writes a result per point. */
		lv->rd[1] = lv->rd[2] = p * in->nreads;
		lv->wr[1] = prod_mask(ext, in->outvars, in->nvars);
		lv->wr[2] = p;
		lv->blocks = 0;
	}
	return cyc;
}

double cost_box_cycles(const cost_model *m, int e, plan_unit u,
		       const int64_t *ext, double *useful)
{
	return box_cycles(m, &m->es[e], NULL, u, ext, useful, NULL);
}

/* ---- Access intervals (cost.h) ------------------------------------------ */

void cost_dim_init(cost_dim *d, int64_t size)
{
	memset(d, 0, sizeof(*d));
	d->slot = -3;
	d->size = size;
}

static void merge_interval(cost_dim *d, int cat, int64_t lo, int64_t hi,
			   int64_t flo, int64_t fhi)
{
	if (!d->has[cat]) {
		d->has[cat] = 1;
		d->lo[cat] = lo;
		d->hi[cat] = hi;
		d->flo[cat] = flo;
		d->fhi[cat] = fhi;
		return;
	}
	if (lo < d->lo[cat])
		d->lo[cat] = lo;
	if (hi > d->hi[cat])
		d->hi[cat] = hi;
	if (flo < d->flo[cat])
		d->flo[cat] = flo;
	if (fhi > d->fhi[cat])
		d->fhi[cat] = fhi;
}

void cost_dim_record(cost_dim *d, const ein_cascade *c, const cost_einsum_info *in,
		     const ein_aff *af, const int *slot_var, int nband, int write)
{
	int64_t zero[EIN_MAX_VARS] = {0};
	int64_t base = ein_aff_eval(c, af, zero);
	int64_t lo = base, hi = base, flo = base, fhi = base;
	int slot = -1;
	int64_t coef = 0;
	for (int v = 0; v < in->nvars; v++) {
		int64_t cv = af->vc[v];
		if (!cv)
			continue;
		int64_t vlo = in->lo[v], vhi = in->lo[v] + in->ext[v] - 1;
		int64_t a1 = cv * vlo, a2 = cv * vhi;
		flo += a1 < a2 ? a1 : a2;
		fhi += a1 < a2 ? a2 : a1;
		int s = -1;
		for (int b = 0; b < nband; b++)
			if (slot_var[b] == v)
				s = b;
		if (s >= 0 && slot == -1) {
			slot = s;
			coef = cv;
		} else {
			/* A second band variable in one index: count its
			 * whole range (an upper bound). */
			lo += a1 < a2 ? a1 : a2;
			hi += a1 < a2 ? a2 : a1;
		}
	}
	if (d->slot == -3) {
		d->slot = slot;
		d->coef = coef;
	} else if (d->slot != slot || (slot >= 0 && d->coef != coef)) {
		d->slot = -2;
	}
	merge_interval(d, 0, lo, hi, flo, fhi);
	merge_interval(d, write ? 1 : 2, lo, hi, flo, fhi);
}

static int64_t clamp_width(int64_t w, int64_t size)
{
	if (w > size)
		return size;
	return w < 1 ? 1 : w;
}

int64_t cost_dim_width(const cost_dim *d, int cat, int64_t s)
{
	if (!d->has[cat])
		return 0;
	if (d->slot == -2)
		return clamp_width(d->fhi[cat] - d->flo[cat] + 1, d->size);
	int64_t band = d->slot >= 0 ? (d->coef < 0 ? -d->coef : d->coef) * (s - 1) : 0;
	return clamp_width(d->hi[cat] - d->lo[cat] + band + 1, d->size);
}

int64_t cost_dim_full(const cost_dim *d, int cat)
{
	if (!d->has[cat])
		return 0;
	return clamp_width(d->fhi[cat] - d->flo[cat] + 1, d->size);
}

int64_t cost_dim_halo(const cost_dim *d)
{
	if (d->slot < 0 || d->coef <= 0 || !d->has[1] || !d->has[2])
		return 0;
	int64_t h = d->lo[1] - d->lo[2];
	return h > 0 ? h : 0;
}

/* ---- Groups ------------------------------------------------------------- */


typedef struct cg_tensor {
	int t;
	fusion_role role;
	int written;
	int ndims;
	cost_dim dim[EIN_MAX_DIMS];
	uint32_t slots; /* band slots indexing it */
	double out_elems;      /* written here, read outside (or an output) */
	double ext_read_elems; /* read here, written by an Einsum outside */
	double written_elems;
	int first, last;   /* member positions touching it */
	int reader, writer; /* first reading, last writing position */
	/* Multi-pass: readers in npass passes, pass p at [plo[p], phi[p]]. */
	int npass;
	int plo[COST_MAX_MP], phi[COST_MAX_MP];
	double override_elems;
} cg_tensor;

typedef struct cg_member {
	int e;
	int var[PLAN_MAX_BAND]; /* its variable of each band slot */
	int can2d;
	int nreads;
	int reads[COST_MAX_TENSORS / 4]; /* group tensors it reads */
	loop_regs regs; /* on a CPU (cpu_registers) */
} cg_member;

typedef struct tile_shape {
	int m;			    /* band size */
	int64_t s[PLAN_MAX_BAND];   /* full tile size per slot */
	double n[PLAN_MAX_BAND];    /* tiles per slot */
	int pos[PLAN_MAX_BAND];	    /* loop position (1 = outermost) per slot */
	int order[PLAN_MAX_BAND];
	double ntiles;
} tile_shape;

/* Per tensor and retention level 0..m: bytes kept, DRAM elements, loads. */
typedef struct tensor_opts {
	double tile;			/* elements of one tile */
	double buf[PLAN_MAX_BAND + 1];	/* elements allocated */
	double traffic[PLAN_MAX_BAND + 1];
	double traffic_w[PLAN_MAX_BAND + 1]; /* the part written to DRAM */
	double loads[PLAN_MAX_BAND + 1];
	double carried;			/* elements persisting across tiles */
	double all_tiles;		/* sum over tiles of the tile's data */
} tensor_opts;

/* A strip run as code generation forms it (lower_strips.c): cut along
 * rank `strip` into strips of `width`, its other shared ranks (`points`,
 * one bit each) one point at a time. */
typedef struct cpu_run {
	int strip;
	int64_t width;
	uint64_t points;
} cpu_run;

/* Everything one evaluation needs after the tile shape is fixed. */
struct eval_ctx {
	const cost_group *cg;
	const tile_shape *sh;
	const target *t;
	double bpv;
	tensor_opts opts[COST_MAX_TENSORS];
	plan_unit unit[COST_MAX_MEMBERS];
	double cyc[COST_MAX_MEMBERS];
	double useful[COST_MAX_MEMBERS];
	box_lv lv[COST_MAX_MEMBERS]; /* on-chip level traffic per member */
	double comp2d, comp1d, switches;
	int serial; /* a CPU group that runs on one thread (cpu_serial) */
	int par;    /* a CPU group whose tiles run in parallel (cpu_imbalance) */
	double regions; /* parallel regions it opens (cpu_regions) */
	int matvec;	/* every member a matrix-vector product (cpu_members) */
	char shared[COST_MAX_MEMBERS]; /* shared between the threads in a tile */
	/* On a CPU, once the units are chosen: the strip runs (cpu_runs),
	 * and each member's run or -1. */
	int nrun;
	cpu_run runs[COST_MAX_MEMBERS];
	int run_of[COST_MAX_MEMBERS];
};
typedef struct eval_ctx eval_ctx;

struct cost_group {
	const cost_model *m;
	struct eval_ctx *scratch; /* evaluation workspace: cost_eval is not
				     reentrant for one group */
	int capts;
	int nm;
	cg_member *mem;
	int nband;
	int band[PLAN_MAX_BAND];
	int64_t ext[PLAN_MAX_BAND];
	int nt;
	cg_tensor *ts;
	int nmp;
	int mp[COST_MAX_MP]; /* multi-pass tensors */
};

int cost_group_nmembers(const cost_group *cg) { return cg->nm; }
int cost_group_member(const cost_group *cg, int i) { return cg->mem[i].e; }
int cost_group_can_2d(const cost_group *cg, int i) { return cg->mem[i].can2d; }
int cost_group_nband(const cost_group *cg) { return cg->nband; }
int cost_group_band(const cost_group *cg, int slot) { return cg->band[slot]; }
int64_t cost_group_extent(const cost_group *cg, int slot) { return cg->ext[slot]; }
int cost_group_ntensors(const cost_group *cg) { return cg->nt; }
int cost_group_tensor(const cost_group *cg, int i) { return cg->ts[i].t; }
fusion_role cost_group_role(const cost_group *cg, int i) { return cg->ts[i].role; }
int cost_group_multipass(const cost_group *cg, int i) { return cg->ts[i].npass >= 2; }

void cost_group_set_tile_elems(cost_group *cg, int i, double elems)
{
	cg->ts[i].override_elems = elems;
}

void cost_group_free(cost_group *cg)
{
	if (!cg)
		return;
	free(cg->mem);
	free(cg->ts);
	free(cg->scratch);
	free(cg);
}

static int find_tensor(cost_group *cg, int t)
{
	for (int i = 0; i < cg->nt; i++)
		if (cg->ts[i].t == t)
			return i;
	return -1;
}


/* Records one access of member mi to the group's tensor table. */
static int add_access(cost_group *cg, int mi, const ein_access *a, int write)
{
	const cost_model *m = cg->m;
	const ein_cascade *c = m->c;
	const cg_member *mb = &cg->mem[mi];
	const cost_einsum_info *in = &m->es[mb->e];
	int ti = find_tensor(cg, a->tensor);
	if (ti < 0) {
		if (cg->nt == cg->capts)
			return -1;
		ti = cg->nt++;
		cg_tensor *nt = &cg->ts[ti];
		memset(nt, 0, sizeof(*nt));
		nt->t = a->tensor;
		nt->ndims = c->tensors[a->tensor].ndims;
		nt->first = mi;
		nt->reader = -1;
		nt->writer = -1;
		for (int k = 0; k < nt->ndims; k++)
			cost_dim_init(&nt->dim[k], c->tensors[a->tensor].dims[k].size);
	}
	cg_tensor *ts = &cg->ts[ti];
	ts->last = mi;
	if (write) {
		ts->written = 1;
		ts->writer = mi;
	} else {
		if (ts->reader < 0)
			ts->reader = mi;
		if (mb->nreads < (int)(sizeof(mb->reads) / sizeof(mb->reads[0]))) {
			int seen = 0;
			for (int r = 0; r < mb->nreads; r++)
				seen |= mb->reads[r] == ti;
			if (!seen)
				cg->mem[mi].reads[cg->mem[mi].nreads++] = ti;
		}
	}
	for (int k = 0; k < a->nidx; k++)
		cost_dim_record(&ts->dim[k], c, in, &a->idx[k], mb->var, cg->nband, write);
	return 0;
}


/* The members of the group, with their variable of each band slot, and
 * the band's extents.  Returns 0 or -1 with a message. */
static int group_members(cost_group *cg, const char *members, char *err, size_t errlen)
{
	const cost_model *m = cg->m;
	const deps_graph *g = m->g;
	const ein_cascade *c = m->c;
	int mi = 0;
	for (int e = 0; e < c->neinsums; e++) {
		if (!members[e])
			continue;
		cg_member *mb = &cg->mem[mi++];
		mb->e = e;
		mb->can2d = m->es[e].gemm;
		/* On a CPU the "2D array" is a BLAS call, which takes only
		 * strided matrices: an operand indexed i + w (a convolution's
		 * window) is a loop nest, as codegen lowers it
		 * (cg_gemm_match). */
		if (m->t->kind == TARGET_CPU && mb->can2d) {
			const ein_einsum *es = &c->einsums[e];
			for (int r = 0; r < es->nreads; r++)
				mb->can2d &= ein_access_plain(&es->reads[r]);
			mb->can2d &= ein_access_plain(&es->out);
		}
		for (int k = 0; k < cg->nband; k++) {
			mb->var[k] = g->var_of[e][cg->band[k]];
			if (mb->var[k] < 0) {
				snprintf(err, errlen,
					 "'%s' has no rank '%s': every Einsum of a "
					 "group must iterate every fused rank",
					 c->einsums[e].name, g->ranks[cg->band[k]]);
				return -1;
			}
			int64_t hi = m->es[e].lo[mb->var[k]] + m->es[e].ext[mb->var[k]];
			if (hi > cg->ext[k])
				cg->ext[k] = hi;
		}
	}
	return 0;
}

/* Data crossing the group boundary, from the dependence edges: what
 * outside readers take from the group, and what members read that outside
 * writers produced; then the tensor's role. */
static void tensor_flows(cost_group *cg, cg_tensor *ts, const char *members)
{
	const cost_model *m = cg->m;
	const deps_graph *g = m->g;
	const ein_tensor *tt = &m->c->tensors[ts->t];
	if (ts->written) {
		double w = 1;
		for (int k = 0; k < ts->ndims; k++)
			w *= (double)cost_dim_full(&ts->dim[k], 1);
		ts->written_elems = w;
	}
	for (int k = 0; k < g->nedges; k++) {
		const deps_edge *ed = &g->edges[k];
		if (ed->tensor != ts->t)
			continue;
		int pin = members[ed->producer] != 0, qin = members[ed->consumer] != 0;
		if (pin && !qin && m->edge_elems[k] > ts->out_elems)
			ts->out_elems = m->edge_elems[k];
		if (!pin && qin && ts->written) {
			/* One read per outside producer: the largest of its
			 * edges into the group. */
			double best = 0;
			int first = 1;
			for (int j = 0; j < g->nedges; j++) {
				const deps_edge *o = &g->edges[j];
				if (o->tensor != ts->t || o->producer != ed->producer ||
				    !members[o->consumer])
					continue;
				if (j < k)
					first = 0;
				if (m->edge_elems[j] > best)
					best = m->edge_elems[j];
			}
			if (first)
				ts->ext_read_elems += best;
		}
	}
	if (ts->written && tt->role == EIN_ROLE_OUTPUT)
		ts->out_elems = ts->written_elems;
	if (ts->out_elems > ts->written_elems && ts->written)
		ts->out_elems = ts->written_elems;
	ts->role = !ts->written ? FUSION_IN : ts->out_elems > 0 ? FUSION_OUT : FUSION_INTERNAL;
}

/* Multi-pass: readers in different passes over a rank that is not fused
 * (on a fused rank the group would be illegal). */
static void tensor_passes(cost_group *cg, cg_tensor *ts, int i)
{
	const deps_graph *g = cg->m->g;
	for (int p = 0; p < g->npasses && ts->npass < 2; p++) {
		const deps_pass *ps = &g->passes[p];
		if (ps->tensor != ts->t)
			continue;
		int inband = 0;
		for (int k = 0; k < cg->nband; k++)
			inband |= cg->band[k] == ps->rank;
		if (inband)
			continue;
		int np = 0;
		for (int pass = 1; pass <= ps->npasses; pass++) {
			int lo = -1, hi = -1;
			for (int j = 0; j < cg->nm; j++)
				if (ps->pass_of[cg->mem[j].e] == pass) {
					if (lo < 0)
						lo = j;
					hi = j;
				}
			if (lo < 0 || np == COST_MAX_MP)
				continue;
			ts->plo[np] = lo;
			ts->phi[np++] = hi;
		}
		ts->npass = np >= 2 ? np : 0;
	}
	if (ts->npass >= 2 && cg->nmp < COST_MAX_MP)
		cg->mp[cg->nmp++] = i;
	else
		ts->npass = 0;
}

/* Ranks member position j of cg iterates (one bit per rank). */
static uint64_t member_ranks(const cost_group *cg, int j)
{
	const deps_graph *g = cg->m->g;
	uint64_t m = 0;
	for (int r = 0; r < g->nranks && r < 64; r++)
		if (g->var_of[cg->mem[j].e][r] >= 0)
			m |= (uint64_t)1 << r;
	return m;
}

static int member_reads(const cg_member *mb, int i)
{
	for (int r = 0; r < mb->nreads; r++)
		if (mb->reads[r] == i)
			return 1;
	return 0;
}

/* On a CPU: the tensors code generation keeps in a register
 * (lower_strips.c), made in the group by one elementwise member that
 * does not read it, not generational, and read only in the group, by
 * the members after it that iterate the same ranks, as does every member
 * in between (one innermost loop holds them all); and the members that
 * share their innermost loop (a neighbour iterating the same ranks). */
static void cpu_registers(cost_group *cg)
{
	const cost_model *m = cg->m;
	if (m->t->kind != TARGET_CPU)
		return;
	uint64_t rk[COST_MAX_MEMBERS];
	for (int j = 0; j < cg->nm; j++)
		rk[j] = member_ranks(cg, j);
	for (int j = 0; j < cg->nm; j++)
		cg->mem[j].regs.fused = (j > 0 && rk[j - 1] == rk[j]) ||
					(j + 1 < cg->nm && rk[j + 1] == rk[j]);
	for (int i = 0; i < cg->nt; i++) {
		const cg_tensor *ts = &cg->ts[i];
		int w = ts->first;
		if (ts->role != FUSION_INTERNAL || ts->writer != w || ts->last <= w ||
		    m->es[cg->mem[w].e].reduces || m->es[cg->mem[w].e].gen >= 0 ||
		    member_reads(&cg->mem[w], i))
			continue;
		int ok = 1;
		for (int j = w + 1; j <= ts->last && ok; j++)
			ok = rk[j] == rk[w] && m->c->einsums[cg->mem[j].e].out.tensor != ts->t;
		if (!ok)
			continue;
		cg->mem[w].regs.out = 1;
		for (int j = w + 1; j <= ts->last; j++)
			cg->mem[j].regs.reads += member_reads(&cg->mem[j], i);
	}
}

cost_group *cost_group_new(const cost_model *m, const char *members, int nband,
			   const int *band, char *err, size_t errlen)
{
	const ein_cascade *c = m->c;
	cost_group *cg = calloc(1, sizeof(*cg));
	if (!cg)
		goto oom;
	cg->m = m;
	if (nband > PLAN_MAX_BAND) {
		snprintf(err, errlen, "at most %d fused ranks", PLAN_MAX_BAND);
		goto fail;
	}
	cg->nband = nband;
	for (int k = 0; k < nband; k++)
		cg->band[k] = band[k];
	for (int e = 0; e < c->neinsums; e++)
		cg->nm += members[e] != 0;
	if (cg->nm == 0 || cg->nm > COST_MAX_MEMBERS) {
		snprintf(err, errlen, "a group has 1 to %d Einsums", COST_MAX_MEMBERS);
		goto fail;
	}
	cg->mem = calloc((size_t)cg->nm, sizeof(*cg->mem));
	int naccess = 0;
	for (int e = 0; e < c->neinsums; e++)
		if (members[e])
			naccess += c->einsums[e].nreads + 1;
	cg->capts = naccess < COST_MAX_TENSORS ? naccess : COST_MAX_TENSORS;
	cg->ts = calloc((size_t)cg->capts, sizeof(*cg->ts));
	cg->scratch = malloc(sizeof(*cg->scratch));
	if (!cg->mem || !cg->ts || !cg->scratch)
		goto oom;
	if (group_members(cg, members, err, errlen) < 0)
		goto fail;
	for (int i = 0; i < cg->nm; i++) {
		const ein_einsum *es = &c->einsums[cg->mem[i].e];
		for (int r = 0; r < es->nreads; r++)
			if (add_access(cg, i, &es->reads[r], 0) < 0)
				goto too_many;
		if (add_access(cg, i, &es->out, 1) < 0)
			goto too_many;
	}
	for (int i = 0; i < cg->nt; i++) {
		cg_tensor *ts = &cg->ts[i];
		for (int k = 0; k < ts->ndims; k++)
			if (ts->dim[k].slot >= 0)
				ts->slots |= 1u << ts->dim[k].slot;
			else if (ts->dim[k].slot == -2)
				ts->slots |= (1u << nband) - 1;
		tensor_flows(cg, ts, members);
		tensor_passes(cg, ts, i);
	}
	cpu_registers(cg);
	return cg;
too_many:
	snprintf(err, errlen, "a group touches more than %d tensors", COST_MAX_TENSORS);
	goto fail;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	cost_group_free(cg);
	return NULL;
}

double cost_group_tile_elems(const cost_group *cg, int i, const int64_t *tile)
{
	const cg_tensor *ts = &cg->ts[i];
	double p = 1;
	for (int k = 0; k < ts->ndims; k++) {
		const cost_dim *d = &ts->dim[k];
		int64_t s = 1;
		if (d->slot >= 0)
			s = tile[d->slot] < cg->ext[d->slot] ? tile[d->slot] : cg->ext[d->slot];
		p *= (double)cost_dim_width(d, 0, s);
	}
	return p;
}

void cost_config_init(cost_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (int k = 0; k < PLAN_MAX_BAND; k++) {
		cfg->order[k] = k;
		cfg->tile[k] = 1;
	}
	memset(cfg->unit, -1, sizeof(cfg->unit));
	memset(cfg->level, -1, sizeof(cfg->level));
	memset(cfg->mp, -1, sizeof(cfg->mp));
}

/* ---- Evaluation --------------------------------------------------------- */

/* On a CPU, the accesses of member mb in one tile box (extents ext) that
 * step across cache lines: an access moved by its innermost loop (the
 * last of the member's ranks it depends on that is wider than one in the
 * tile, else the innermost band loop it depends on with more than one
 * tile) along a dimension that is not its contiguous one neither
 * vectorises nor reuses a line; each distinct element it touches costs a
 * strided access (and moved along its contiguous one in runs that stop
 * short of the dimension's end, each run does: a page and a line away;
 * docs/cost-model.md, "On a CPU").  Tensors made and used only inside the
 * group live in tile buffers, where the dimensions one wide in the tile
 * vanish; the others keep the tensor's layout. */
static double strided_accesses(const cost_group *cg, const cg_member *mb, const tile_shape *sh,
			       const int64_t *ext)
{
	const ein_einsum *es = &cg->m->c->einsums[mb->e];
	const cost_einsum_info *in = &cg->m->es[mb->e];
	double n = 0;
	for (int a = -1; a < es->nreads; a++) {
		const ein_access *ac = a < 0 ? &es->out : &es->reads[a];
		int buffer = 0;
		for (int i = 0; i < cg->nt; i++)
			if (cg->ts[i].t == ac->tensor)
				buffer = cg->ts[i].role == FUSION_INTERNAL &&
					 cg->ts[i].ext_read_elems == 0 && cg->ts[i].out_elems == 0;
		const ein_tensor *tt = &cg->m->c->tensors[ac->tensor];
		uint32_t dep = 0;
		for (int d = 0; d < ac->nidx; d++)
			for (int u = 0; u < in->nvars; u++)
				if (ac->idx[d].vc[u])
					dep |= 1u << u;
		int v = -1;
		for (int k = in->nvars - 1; k >= 0 && v < 0; k--)
			if (((dep >> k) & 1) && ext[k] > 1)
				v = k;
		for (int j = sh->m - 1; j >= 0 && v < 0; j--) {
			int u = mb->var[sh->order[j]];
			if (u >= 0 && ((dep >> u) & 1) && sh->n[sh->order[j]] > 1)
				v = u;
		}
		if (v < 0)
			continue;
		/* The loop around it, if the access has one wider than one. */
		int v2 = -1;
		for (int k = v - 1; k >= 0 && v2 < 0; k--)
			if (((dep >> k) & 1) && ext[k] > 1)
				v2 = k;
		int last = -1, nmoved = 0, unit = 0;
		for (int d = 0; d < ac->nidx; d++) {
			int64_t w = tt->dims[d].size;
			if (buffer) {
				w = 1;
				for (int u = 0; u < in->nvars; u++)
					w += llabs(ac->idx[d].vc[u]) * (ext[u] - 1);
			}
			if (w > 1)
				last = d;
		}
		for (int d = 0; d < ac->nidx; d++)
			if (ac->idx[d].vc[v]) {
				nmoved++;
				unit = d == last && llabs(ac->idx[d].vc[v]) == 1;
			}
		double distinct = prod_mask(ext, dep, in->nvars);
		/* A short inner loop across lines (a convolution's taps) whose
		 * enclosing loop walks the contiguous dimension reuses its
		 * lines from the first-level cache at the next step, and the
		 * compiler vectorises along that loop: not strided. */
		int reused = 0;
		if (v2 >= 0 && last >= 0 && llabs(ac->idx[last].vc[v2]) == 1 &&
		    cg->m->t->cpu.ncaches > 0 &&
		    (double)ext[v] * 64 <= 0.5 * (double)cg->m->t->cpu.caches[0].bytes) {
			reused = 1;
			for (int d = 0; d < ac->nidx; d++)
				if (d != last && ac->idx[d].vc[v2])
					reused = 0;
		}
		if (reused)
			continue;
		if (nmoved > 1 || !unit)
			n += distinct;
		else if (!buffer && ext[v] < tt->dims[last].size)
			/* Runs along the contiguous dimension that stop short
			 * of its end: the next run is a stride away. */
			n += distinct / (double)ext[v];
	}
	return n;
}

/* Member compute over every tile: the full tiles and the partial last
 * tiles of each band slot, each class counted once. */
static double member_cycles(const cost_group *cg, const cg_member *mb,
			    const tile_shape *sh, plan_unit u, double *useful, box_lv *lv)
{
	const cost_einsum_info *in = &cg->m->es[mb->e];
	int64_t ext[EIN_MAX_VARS];
	int64_t size[PLAN_MAX_BAND][2];
	double count[PLAN_MAX_BAND][2];
	int ncls[PLAN_MAX_BAND];
	memcpy(ext, in->ext, sizeof(ext));
	for (int k = 0; k < sh->m; k++) {
		int64_t e = in->ext[mb->var[k]];
		int64_t s = sh->s[k] < e ? sh->s[k] : e;
		size[k][0] = s;
		count[k][0] = (double)(e / s);
		ncls[k] = 1;
		if (e % s) {
			size[k][1] = e % s;
			count[k][1] = 1;
			ncls[k] = 2;
		}
	}
	double total = 0, use = 0;
	int idx[PLAN_MAX_BAND] = {0};
	memset(lv, 0, sizeof(*lv));
	/* Only a target with on-chip levels needs their traffic. */
	int levels = cg->m->t->nlevels > 1;
	for (;;) {
		double cnt = 1;
		for (int k = 0; k < sh->m; k++) {
			ext[mb->var[k]] = size[k][idx[k]];
			cnt *= count[k][idx[k]];
		}
		double us = 0;
		box_lv b = {{0}, {0}, 0};
		double cy = box_cycles(cg->m, in, &mb->regs, u, ext, &us, levels ? &b : NULL);
		if (cy < 0)
			return -1;
		for (int l = 1; l < TARGET_MAX_LEVELS; l++) {
			lv->rd[l] += cnt * b.rd[l];
			lv->wr[l] += cnt * b.wr[l];
		}
		lv->blocks += cnt * b.blocks;
		const target *t = cg->m->t;
		if (t->kind == TARGET_CPU && u == PLAN_UNIT_1D)
			cy += strided_accesses(cg, mb, sh, ext) / t->cpu.strided_gelem;
		total += cnt * cy;
		use += cnt * us;
		int k = 0;
		while (k < sh->m && ++idx[k] == ncls[k])
			idx[k++] = 0;
		if (k == sh->m)
			break;
	}
	if (useful)
		*useful = use;
	return total;
}

static void tensor_options(const cost_group *cg, const cg_tensor *ts,
			   const tile_shape *sh, tensor_opts *o)
{
	int m = sh->m;
	double tw[EIN_MAX_DIMS], fw[EIN_MAX_DIMS], sum[EIN_MAX_DIMS];
	double fww[EIN_MAX_DIMS], sumw[EIN_MAX_DIMS];
	o->tile = 1;
	for (int k = 0; k < ts->ndims; k++) {
		const cost_dim *d = &ts->dim[k];
		fw[k] = (double)cost_dim_full(d, 0);
		fww[k] = ts->written ? (double)cost_dim_full(d, 1) : 0;
		if (d->slot >= 0) {
			int64_t e = cg->ext[d->slot], s = sh->s[d->slot];
			double nf = (double)(e / s);
			int64_t r = e % s;
			tw[k] = (double)cost_dim_width(d, 0, s);
			sum[k] = nf * tw[k] + (r ? (double)cost_dim_width(d, 0, r) : 0);
			if (ts->written)
				sumw[k] = nf * (double)cost_dim_width(d, 1, s) +
					  (r ? (double)cost_dim_width(d, 1, r) : 0);
		} else {
			tw[k] = fw[k];
			sum[k] = fw[k];
			sumw[k] = fww[k];
		}
		o->tile *= tw[k];
	}
	if (ts->override_elems > 0)
		o->tile = ts->override_elems;
	o->all_tiles = 1;
	for (int k = 0; k < ts->ndims; k++)
		o->all_tiles *= sum[k];
	for (int l = 0; l <= m; l++) {
		/* p: the innermost loop at or above l that indexes the tensor. */
		int p = 0;
		for (int j = 1; j <= l; j++)
			if ((ts->slots >> sh->order[j - 1]) & 1)
				p = j;
		double mult = 1, loads = 1;
		for (int j = 1; j <= p; j++) {
			double n = sh->n[sh->order[j - 1]];
			loads *= n;
			if (!((ts->slots >> sh->order[j - 1]) & 1))
				mult *= n;
		}
		double data = 1, dataw = 1, buf = 1;
		for (int k = 0; k < ts->ndims; k++) {
			int slot = ts->dim[k].slot;
			int inner = slot >= 0 && sh->pos[slot] > l;
			data *= inner ? fw[k] : sum[k];
			dataw *= inner ? fww[k] : sumw[k];
			buf *= inner ? fw[k] : tw[k];
		}
		if (l == m)
			buf = o->tile;
		o->buf[l] = buf;
		o->loads[l] = loads;
		if (!ts->written) {
			o->traffic[l] = mult * data;
			o->traffic_w[l] = 0;
		} else {
			o->traffic[l] = ts->out_elems + ts->ext_read_elems +
					2 * (mult - 1) * dataw;
			o->traffic_w[l] = ts->out_elems + (mult - 1) * dataw;
		}
	}
	/* Carried data (halos, recurrence states): the tile's part written
	 * by earlier tiles along a slot, kept for every inner tile that
	 * indexes the tensor. */
	o->carried = 0;
	if (ts->written) {
		for (int k = 0; k < ts->ndims; k++) {
			int64_t h = cost_dim_halo(&ts->dim[k]);
			if (!h)
				continue;
			int slot = ts->dim[k].slot;
			double c = (double)h;
			for (int k2 = 0; k2 < ts->ndims; k2++)
				if (k2 != k)
					c *= tw[k2];
			for (int j = sh->pos[slot] + 1; j <= m; j++)
				if ((ts->slots >> sh->order[j - 1]) & 1)
					c *= sh->n[sh->order[j - 1]];
			o->carried += c;
		}
	}
}

/* One complete choice of levels and multi-pass handling, and its costs. */
typedef struct eval_state {
	signed char level[COST_MAX_TENSORS];
	signed char mp[COST_MAX_TENSORS];
	double peak;   /* bytes */
	double traffic; /* elements */
	double traffic_w; /* of which written to DRAM */
	double extra2d, extra1d; /* recomputation cycles */
	box_lv extra_lv; /* recomputation's on-chip traffic */
} eval_state;

/* Is the tensor live at member position pos under multi-pass choice mp? */
static int live_at(const cg_tensor *ts, int mp, int pos)
{
	if (pos < ts->first || pos > ts->last)
		return 0;
	if (ts->npass < 2 || mp == PLAN_MP_BUFFER || mp == PLAN_MP_NONE)
		return 1;
	/* Spilled or recomputed: free between the passes. */
	if (pos <= ts->phi[0])
		return 1;
	for (int p = 1; p < ts->npass; p++) {
		int hi = p == ts->npass - 1 ? ts->last : ts->phi[p];
		if (pos >= ts->plo[p] && pos <= hi)
			return 1;
	}
	return 0;
}

static double state_peak(const eval_ctx *x, const eval_state *st)
{
	const cost_group *cg = x->cg;
	int m = x->sh->m;
	double persistent = 0;
	double at[COST_MAX_MEMBERS] = {0};
	for (int i = 0; i < cg->nt; i++) {
		const cg_tensor *ts = &cg->ts[i];
		const tensor_opts *o = &x->opts[i];
		int l = st->level[i];
		double bytes = o->buf[l] * x->bpv;
		persistent += o->carried * x->bpv;
		if (x->t->double_buffer && o->traffic[l] > 0 && o->loads[l] > 1)
			persistent += bytes;
		/* A block that several consecutive tiles use (retained, or
		 * indexed by no loop inside its last load) stays in the buffer
		 * between them: it is live throughout. */
		if (l < m || o->loads[l] < x->sh->ntiles) {
			persistent += bytes;
			continue;
		}
		for (int pos = ts->first; pos <= ts->last; pos++)
			if (live_at(ts, st->mp[i], pos))
				at[pos] += bytes;
	}
	/* Recomputation keeps the producer's inputs for the later passes. */
	for (int i = 0; i < cg->nt; i++) {
		const cg_tensor *ts = &cg->ts[i];
		if (st->mp[i] != PLAN_MP_RECOMPUTE || ts->writer < 0)
			continue;
		const cg_member *pm = &cg->mem[ts->writer];
		for (int r = 0; r < pm->nreads; r++) {
			int j = pm->reads[r];
			const cg_tensor *in = &cg->ts[j];
			if (st->level[j] < m)
				continue;
			double bytes = x->opts[j].buf[m] * x->bpv;
			for (int pos = in->last + 1; pos < cg->nm; pos++) {
				int need = 0;
				for (int p = 1; p < ts->npass; p++)
					need |= pos <= ts->plo[p];
				if (need)
					at[pos] += bytes;
			}
		}
	}
	double peak = 0;
	for (int pos = 0; pos < cg->nm; pos++)
		if (at[pos] > peak)
			peak = at[pos];
	return persistent + peak;
}

/* Tensor i's DRAM traffic in elements; *written (may be NULL) receives
 * the part written. */
static double tensor_traffic(const eval_ctx *x, const eval_state *st, int i, double *written)
{
	const cg_tensor *ts = &x->cg->ts[i];
	const tensor_opts *o = &x->opts[i];
	double tr = o->traffic[st->level[i]];
	double w = o->traffic_w[st->level[i]];
	if (ts->npass >= 2 && st->mp[i] == PLAN_MP_SPILL) {
		/* Read back for every later pass; an internal tensor is also
		 * written out once. */
		tr += (ts->npass - 1) * o->all_tiles;
		if (ts->written && ts->out_elems == 0) {
			tr += o->all_tiles;
			w += o->all_tiles;
		}
	}
	if (written)
		*written = w;
	if (ts->npass >= 2 && st->mp[i] == PLAN_MP_RECOMPUTE && ts->writer >= 0) {
		/* The producer's DRAM inputs are fetched again. */
		const cg_member *pm = &x->cg->mem[ts->writer];
		for (int r = 0; r < pm->nreads; r++) {
			int j = pm->reads[r];
			if (!x->cg->ts[j].written)
				tr += (ts->npass - 1) * x->opts[j].all_tiles;
		}
	}
	return tr;
}

static void state_totals(const eval_ctx *x, eval_state *st)
{
	st->traffic = st->traffic_w = 0;
	st->extra2d = st->extra1d = 0;
	memset(&st->extra_lv, 0, sizeof(st->extra_lv));
	for (int i = 0; i < x->cg->nt; i++) {
		double w;
		st->traffic += tensor_traffic(x, st, i, &w);
		st->traffic_w += w;
		const cg_tensor *ts = &x->cg->ts[i];
		if (ts->npass >= 2 && st->mp[i] == PLAN_MP_RECOMPUTE && ts->writer >= 0) {
			double n = ts->npass - 1;
			double more = n * x->cyc[ts->writer];
			if (x->unit[ts->writer] == PLAN_UNIT_2D)
				st->extra2d += more;
			else
				st->extra1d += more;
			const box_lv *p = &x->lv[ts->writer];
			for (int l = 1; l < TARGET_MAX_LEVELS; l++) {
				st->extra_lv.rd[l] += n * p->rd[l];
				st->extra_lv.wr[l] += n * p->wr[l];
			}
			st->extra_lv.blocks += n * p->blocks;
		}
	}
	st->peak = state_peak(x, st);
}

/* Greedy retention: from tile-only buffers, repeatedly take the level
 * change that saves the most traffic per byte of buffer while the peak
 * stays within the buffer. */
static void choose_levels(const eval_ctx *x, const cost_config *cfg,
			  eval_state *st)
{
	const cost_group *cg = x->cg;
	int m = x->sh->m;
	double cap = (double)x->t->buffer_bytes;
	for (int i = 0; i < cg->nt; i++) {
		int l = cfg->level[i];
		st->level[i] = (signed char)(l >= 0 && l <= m ? l : m);
	}
	state_totals(x, st);
	for (int iter = 0; iter < cg->nt * (m + 1); iter++) {
		int bi = -1, bl = -1;
		double best = 0;
		for (int i = 0; i < cg->nt; i++) {
			if (cfg->level[i] >= 0)
				continue;
			const tensor_opts *o = &x->opts[i];
			int cur = st->level[i];
			/* From the innermost level out: of equal ratios, the
			 * least retention wins. */
			for (int l = cur - 1; l >= 0; l--) {
				double saved = o->traffic[cur] - o->traffic[l];
				if (saved <= 0)
					continue;
				double more = (o->buf[l] - o->buf[cur]) * x->bpv;
				double ratio = saved / (more > 1 ? more : 1);
				if (ratio > best) {
					eval_state t2 = *st;
					t2.level[i] = (signed char)l;
					if (state_peak(x, &t2) > cap)
						continue;
					best = ratio;
					bi = i;
					bl = l;
				}
			}
		}
		if (bi < 0)
			break;
		st->level[bi] = (signed char)bl;
		state_totals(x, st);
	}
}

/* Bytes of the caches that every thread has to itself (the outermost
 * cache level that no two threads share, times the threads). */
static double cpu_private_bytes(const target *t)
{
	double b = 0;
	for (int i = 0; i < t->cpu.ncaches; i++)
		if (t->cpu.caches[i].shared_by <= 1)
			b = (double)t->cpu.caches[i].bytes * (double)t->cpu.threads;
	return b;
}

/* Members of group cg that read or write its tensor i. */
static int tensor_touches(const cost_group *cg, int i)
{
	int n = 0, t = cg->ts[i].t;
	for (int j = 0; j < cg->nm; j++) {
		const cg_member *mb = &cg->mem[j];
		int in = cg->m->c->einsums[mb->e].out.tensor == t;
		for (int r = 0; r < mb->nreads && !in; r++)
			in = mb->reads[r] == i;
		n += in;
	}
	return n;
}

/* Extent of rank r for member j in one tile (1 when it lacks r). */
static int64_t cpu_rank_extent(const eval_ctx *x, int j, int r)
{
	const cost_group *cg = x->cg;
	int e = cg->mem[j].e;
	int v = cg->m->g->var_of[e][r];
	if (v < 0)
		return 1;
	int64_t w = cg->m->es[e].ext[v];
	for (int k = 0; k < x->sh->m; k++)
		if (cg->band[k] == r && x->sh->s[k] < w)
			w = x->sh->s[k];
	return w;
}

/* The ranks member j of a CPU group could be strip-mined along, as code
 * generation sees them (lower_strips.c): output ranks, not its
 * generational one, at least two wide in the tile (one bit per rank). */
static uint64_t cpu_strip_ranks(const eval_ctx *x, int j)
{
	const cost_group *cg = x->cg;
	const deps_graph *g = cg->m->g;
	int e = cg->mem[j].e;
	const ein_einsum *es = &cg->m->c->einsums[e];
	uint64_t m = 0;
	for (int r = 0; r < g->nranks && r < 64; r++) {
		int v = g->var_of[e][r];
		if (v >= 0 && !es->vars[v].reduced && v != cg->m->es[e].gen &&
		    cpu_rank_extent(x, j, r) >= 2)
			m |= (uint64_t)1 << r;
	}
	return m;
}

/* The ranks every member j..b-1 of group x has, not reduced, 2 or more
 * long in a tile (generational ones too): lower_strips.c's run_shared. */
static uint64_t cpu_run_shared(const eval_ctx *x, int j, int b)
{
	const cost_group *cg = x->cg;
	const deps_graph *g = cg->m->g;
	uint64_t m = 0;
	for (int r = 0; r < g->nranks && r < 64; r++) {
		int ok = 1;
		int64_t w = 0;
		for (int i = j; i < b && ok; i++) {
			int e = cg->mem[i].e;
			int v = g->var_of[e][r];
			ok = v >= 0 && !cg->m->c->einsums[e].vars[v].reduced;
			if (ok && cpu_rank_extent(x, i, r) > w)
				w = cpu_rank_extent(x, i, r);
		}
		if (ok && w >= 2)
			m |= (uint64_t)1 << r;
	}
	return m;
}

/* Accesses of members j..b-1 whose last index, the one along memory, is
 * rank r's variable alone (lower_strips.c's contiguous_accesses). */
static int cpu_contiguous(const eval_ctx *x, int j, int b, int r)
{
	const cost_group *cg = x->cg;
	int n = 0;
	for (int i = j; i < b; i++) {
		const ein_einsum *es = &cg->m->c->einsums[cg->mem[i].e];
		int v = cg->m->g->var_of[cg->mem[i].e][r];
		for (int k = -1; v >= 0 && k < es->nreads; k++) {
			const ein_access *a = k < 0 ? &es->out : &es->reads[k];
			n += a->nidx > 0 && ein_aff_pure_var(cg->m->c, es, &a->idx[a->nidx - 1]) == v;
		}
	}
	return n;
}

/* A strip's rank along memory is preferred to a longer one from this
 * extent (lower_strips.c, CGL_STRIP_CONTIG_MIN). */
#define CPU_STRIP_CONTIG_MIN 32

/* The runs of group x, greedily in member order, as code generation forms
 * them (lower_strips.c, cgl_find_strips; it also checks that the strips
 * are legal and parallel, which the model takes for granted): a member at
 * either end of a run that lacks a rank all the others share is a run of
 * its own; the strip's rank is the one along memory in the most accesses
 * (from CPU_STRIP_CONTIG_MIN long), then the longest.  run_of[j] is
 * member j's run or -1 (a product, or no rank to cut along).  Returns the
 * count. */
static int cpu_runs(const eval_ctx *x, cpu_run *runs, int *run_of)
{
	const cost_group *cg = x->cg;
	const deps_graph *g = cg->m->g;
	int n = 0;
	for (int j = 0; j < cg->nm;) {
		uint64_t shared = x->unit[j] == PLAN_UNIT_1D ? cpu_strip_ranks(x, j) : 0;
		run_of[j] = -1;
		if (!shared) {
			j++;
			continue;
		}
		int b = j + 1;
		for (; b < cg->nm && x->unit[b] == PLAN_UNIT_1D; b++) {
			uint64_t m = cpu_strip_ranks(x, b);
			if (!(m & shared))
				break;
			shared &= m;
		}
		if (b - j >= 2) {
			uint64_t all = cpu_run_shared(x, j, b);
			if (cpu_run_shared(x, j + 1, b) & ~all)
				b = j + 1;
			else if (cpu_run_shared(x, j, b - 1) & ~all)
				b--;
			shared = cpu_strip_ranks(x, j);
			for (int i = j + 1; i < b; i++)
				shared &= cpu_strip_ranks(x, i);
		}
		cpu_run *ru = &runs[n];
		ru->strip = -1;
		int64_t best = 0;
		int best_con = -1;
		for (int r = 0; r < g->nranks && r < 64; r++) {
			if (!((shared >> r) & 1))
				continue;
			int64_t w = 0;
			for (int i = j; i < b; i++)
				if (cpu_rank_extent(x, i, r) > w)
					w = cpu_rank_extent(x, i, r);
			int con = w >= CPU_STRIP_CONTIG_MIN ? cpu_contiguous(x, j, b, r) : 0;
			if (con > best_con || (con == best_con && w > best)) {
				best = w;
				best_con = con;
				ru->strip = r;
			}
		}
		ru->width = best >= 128 ? 64 : (best + 1) / 2;
		ru->points = 0;
		for (int r = 0; r < g->nranks && r < 64; r++) {
			int all = r != ru->strip;
			for (int i = j; i < b && all; i++) {
				int e = cg->mem[i].e;
				int v = g->var_of[e][r];
				all = v >= 0 && !cg->m->c->einsums[e].vars[v].reduced &&
				      cpu_rank_extent(x, i, r) >= 2;
			}
			if (all)
				ru->points |= (uint64_t)1 << r;
		}
		for (int i = j; i < b; i++)
			run_of[i] = n;
		n++;
		j = b;
	}
	return n;
}

/* The part of tensor i's tile that one point of a strip of run ru holds:
 * its ranks (those of the member at its first touch) cut to the strip's
 * width and to one point. */
static double cpu_strip_share(const eval_ctx *x, int i, const cpu_run *ru)
{
	const cost_group *cg = x->cg;
	const cg_tensor *ts = &cg->ts[i];
	int j = ts->first, e = cg->mem[j].e;
	const ein_einsum *es = &cg->m->c->einsums[e];
	const ein_access *ac = NULL;
	if (es->out.tensor == ts->t)
		ac = &es->out;
	for (int r = 0; r < es->nreads && !ac; r++)
		if (es->reads[r].tensor == ts->t)
			ac = &es->reads[r];
	if (!ac)
		return 1;
	uint32_t vars = ein_access_vars(ac);
	double f = 1;
	for (int r = 0; r < cg->m->g->nranks && r < 64; r++) {
		int v = cg->m->g->var_of[e][r];
		if (v < 0 || !((vars >> v) & 1))
			continue;
		double w = (double)cpu_rank_extent(x, j, r);
		if (r == ru->strip)
			f *= (double)ru->width < w ? (double)ru->width / w : 1;
		else if ((ru->points >> r) & 1)
			f /= w;
	}
	return f;
}

/* On a CPU the buffer is the outermost cache, shared by the threads; the
 * elementwise rates are those of loops in the first-level cache.  Code
 * generation strip-mines each run of elementwise members that share a
 * rank to cut along (cpu_runs): a tensor made and used inside one run
 * lives a strip's point at a time.  The others cross the whole tile.
 * When what the threads hold at once (each thread its own tile in a
 * parallel group, its own strip in a serial one: the tensors crossing the
 * tile, and the largest strip's share of its run's tensors) outgrows the
 * caches private to the threads, every touch of every tile of those
 * tensors by a member comes from the outermost cache at its bandwidth,
 * or from DRAM when they outgrow half of it (what calibrate measures).
 * Returns the cycles of that traffic (0 when they fit, or the cache's
 * bandwidth is unknown). */
static double cpu_cache_cycles(const eval_ctx *x, const eval_state *st)
{
	const cost_group *cg = x->cg;
	const target *t = x->t;
	if (t->cpu.cache_gb_per_s <= 0)
		return 0;
	const cpu_run *runs = x->runs;
	const int *run_of = x->run_of;
	int nrun = x->nrun;
	double cross = 0, cross_bytes = 0;
	double local[COST_MAX_MEMBERS] = {0}, local_bytes = 0;
	for (int i = 0; i < cg->nt; i++) {
		const cg_tensor *ts = &cg->ts[i];
		double buf = x->opts[i].buf[st->level[i]] * x->bpv;
		double moved = x->opts[i].all_tiles * tensor_touches(cg, i) * x->bpv;
		int q = ts->first >= 0 ? run_of[ts->first] : -1;
		if (q >= 0 && run_of[ts->last] == q) {
			local[q] += buf * cpu_strip_share(x, i, &runs[q]);
			local_bytes += moved;
		} else {
			cross += buf;
			cross_bytes += moved;
		}
	}
	double most = 0;
	for (int q = 0; q < nrun; q++)
		if (local[q] > most)
			most = local[q];
	double threads = (double)t->cpu.threads, priv = cpu_private_bytes(t);
	double held = (x->par ? cross * threads : cross) + most * threads;
	if (held <= priv)
		return 0;
	double bytes = cross_bytes + (most * threads > priv ? local_bytes : 0);
	double bw = held <= 0.5 * (double)t->buffer_bytes ? t->cpu.cache_gb_per_s
							   : t->dram_gb_per_s;
	return bytes / (bw / t->clock_ghz);
}

/* How much slower a group's DRAM traffic streams than at dram_gb_per_s:
 * at one thread's bandwidth when all of it runs on one thread
 * (cpu_serial), else 1. */
static double cpu_serial_dram(const eval_ctx *x)
{
	const target *t = x->t;
	return x->serial && t->cpu.thread_dram_gb_per_s < t->dram_gb_per_s
		       ? t->dram_gb_per_s / t->cpu.thread_dram_gb_per_s
		       : 1;
}

/* Each member's DRAM traffic in elements (mem_of) and the part of it
 * written (wr_of): reads of data produced outside are charged to the
 * first reader, everything else of a written tensor to its last writer. */
static void member_traffic(const eval_ctx *x, const eval_state *st, double *mem_of,
			   double *wr_of)
{
	const cost_group *cg = x->cg;
	for (int i = 0; i < cg->nm; i++)
		mem_of[i] = wr_of[i] = 0;
	for (int i = 0; i < cg->nt; i++) {
		const cg_tensor *ts = &cg->ts[i];
		double w;
		double tr = tensor_traffic(x, st, i, &w);
		double rd = ts->written ? ts->ext_read_elems : tr;
		if (rd > tr)
			rd = tr;
		if (ts->reader >= 0)
			mem_of[ts->reader] += rd;
		else
			rd = 0;
		mem_of[ts->writer >= 0 ? ts->writer : 0] += tr - rd;
		wr_of[ts->writer >= 0 ? ts->writer : 0] += w;
	}
}

/* On a CPU the members of a tile run one after another: a member's DRAM
 * streams overlap its own work, not the next member's (a product that
 * computes, then a loop that writes a large tensor, take the sum of the
 * two).  The group takes at least the sum over members of the longer of
 * each member's compute and its own DRAM traffic (a product's writes
 * added to its compute, not overlapped). */
static double cpu_member_sum(const eval_ctx *x, const eval_state *st)
{
	const target *t = x->t;
	double mem_of[COST_MAX_MEMBERS], wr_of[COST_MAX_MEMBERS], sum = 0;
	member_traffic(x, st, mem_of, wr_of);
	double slow = cpu_serial_dram(x);
	for (int i = 0; i < x->cg->nm; i++) {
		if (x->unit[i] == PLAN_UNIT_2D && wr_of[i] * x->bpv > cpu_private_bytes(t)) {
			/* A BLAS call stores each block of its output once,
			 * at the end of the block's sum, in a burst the core
			 * waits for once the output outgrows the private
			 * caches (each line fetched first): its DRAM writes
			 * add to its compute (the grid was timed with outputs
			 * that stay in cache).  Measured: Mamba-1's DT, 1024 x
			 * 1536 x 48 in 256 x 256 tiles, took 3.1 ms for 2.0
			 * of compute. */
			double rd = slow * target_level_cycles(t, 0, (mem_of[i] - wr_of[i]) * x->bpv, 0);
			double wr = slow * target_level_cycles(t, 0, 0, wr_of[i] * x->bpv);
			sum += (x->cyc[i] > rd ? x->cyc[i] : rd) + wr;
			continue;
		}
		double mem = slow * target_level_cycles(t, 0, (mem_of[i] - wr_of[i]) * x->bpv,
							wr_of[i] * x->bpv);
		sum += x->cyc[i] > mem ? x->cyc[i] : mem;
	}
	return sum;
}

static void fill_cost(const eval_ctx *x, const eval_state *st, plan_cost *c,
		      double *latency_out)
{
	const target *t = x->t;
	double c2 = x->comp2d + st->extra2d, c1 = x->comp1d + st->extra1d;
	memset(c, 0, sizeof(*c));
	/* The on-chip levels: each member's traffic on its array, and the
	 * per-tile overheads (a buffer tile per band tile, a PE tile per
	 * block of the 2D array). */
	c->nlevels = t->nlevels;
	double blocks = st->extra_lv.blocks;
	for (int l = 1; l < t->nlevels; l++) {
		c->level_read_bytes[l] = st->extra_lv.rd[l] * x->bpv;
		c->level_write_bytes[l] = st->extra_lv.wr[l] * x->bpv;
	}
	for (int i = 0; i < x->cg->nm; i++) {
		for (int l = 1; l < t->nlevels; l++) {
			c->level_read_bytes[l] += x->lv[i].rd[l] * x->bpv;
			c->level_write_bytes[l] += x->lv[i].wr[l] * x->bpv;
		}
		blocks += x->lv[i].blocks;
	}
	double ov = x->sh->ntiles * t->levels[1].tile_overhead_cycles;
	if (t->nlevels > 2)
		ov += blocks * t->levels[2].tile_overhead_cycles;
	double comp;
	if (t->concurrent)
		comp = c2 > c1 ? c2 : c1;
	else
		comp = c2 + c1 + x->switches * t->switch_cycles;
	comp += ov;
	double bytes = st->traffic * x->bpv, wbytes = st->traffic_w * x->bpv;
	c->level_read_bytes[0] = bytes - wbytes;
	c->level_write_bytes[0] = wbytes;
	/* The on-chip levels stream operands to the arrays as they compute
	 * (at the grain of a PE tile): the array side takes the longest of
	 * the three.  It overlaps with DRAM tile by tile: the longer, plus
	 * the shorter's fill and drain (section 7). */
	double inner = comp;
	if (t->kind == TARGET_CPU) {
		c->cache_cycles = cpu_cache_cycles(x, st);
		if (c->cache_cycles > inner)
			inner = c->cache_cycles;
	}
	for (int l = 0; l < t->nlevels; l++) {
		c->level_cycles[l] = target_level_cycles(t, l, c->level_read_bytes[l],
							 c->level_write_bytes[l]);
		if (l > 0 && c->level_cycles[l] > inner)
			inner = c->level_cycles[l];
	}
	double mem = c->level_cycles[0] *= cpu_serial_dram(x);
	double hi = inner > mem ? inner : mem, lo = inner > mem ? mem : inner;
	double lat = hi + lo / (x->sh->ntiles > 1 ? x->sh->ntiles : 1);
	/* On a CPU, a tile that stays in the threads' private caches has its
	 * DRAM streams overlapped with its work by the prefetchers: no fill
	 * or drain (decoding one token as one tile streams its weights
	 * while it computes).  A larger tile keeps the accelerator's fill
	 * and drain: measured, dropping it there too makes the mapper fuse
	 * whole blocks into one tile that runs slower than predicted
	 * (docs/cost-model.md, "On a CPU"). */
	if (t->kind == TARGET_CPU && (st->peak <= cpu_private_bytes(t) || x->matvec))
		lat = hi;
	if (t->kind == TARGET_CPU) {
		double seq = cpu_member_sum(x, st) + (comp - x->comp2d - x->comp1d);
		if (seq > lat)
			lat = seq;
	}
	/* Starting and joining the threads: no stream runs meanwhile. */
	double fork = t->kind == TARGET_CPU ? x->regions * t->cpu.fork_ns * t->clock_ghz : 0;
	lat += fork;
	ov += fork;
	c->comp_cycles_2d = c2;
	c->comp_cycles_1d = c1;
	c->comp_cycles = comp;
	c->overhead_cycles = ov;
	c->mem_cycles = mem;
	c->cycles = lat;
	c->dram_bytes = bytes;
	c->buffer_bytes = st->peak;
	double u2 = 0, u1 = 0;
	for (int i = 0; i < x->cg->nm; i++) {
		if (x->unit[i] == PLAN_UNIT_2D)
			u2 += x->useful[i];
		else
			u1 += x->useful[i];
	}
	if (lat > 0) {
		c->util_2d = u2 / (lat * target_peak_macs(t));
		c->util_1d = u1 / (lat * (double)t->lanes);
		c->mem_util = mem / lat;
	}
	*latency_out = lat;
}

static int better(double lat_a, double tr_a, double buf_a, double lat_b,
		  double tr_b, double buf_b)
{
	if (lat_a != lat_b)
		return lat_a < lat_b;
	if (tr_a != tr_b)
		return tr_a < tr_b;
	return buf_a < buf_b;
}

static void fill_detail(const eval_ctx *x, const eval_state *st,
			cost_result *res)
{
	const cost_group *cg = x->cg;
	const target *t = x->t;
	double mem_of[COST_MAX_MEMBERS], wr_of[COST_MAX_MEMBERS];
	member_traffic(x, st, mem_of, wr_of);
	for (int i = 0; i < cg->nm; i++) {
		mem_of[i] *= x->bpv;
		wr_of[i] *= x->bpv;
	}
	for (int i = 0; i < cg->nt; i++) {
		const cg_tensor *ts = &cg->ts[i];
		const tensor_opts *o = &x->opts[i];
		int l = st->level[i];
		res->level[i] = st->level[i];
		res->mp[i] = ts->npass >= 2 ? st->mp[i] : PLAN_MP_NONE;
		res->tile_elems[i] = o->tile;
		double bytes = o->buf[l] * x->bpv;
		if (t->double_buffer && o->traffic[l] > 0 && o->loads[l] > 1)
			bytes *= 2;
		res->buffer_bytes[i] = bytes + o->carried * x->bpv;
		res->dram_bytes[i] = tensor_traffic(x, st, i, NULL) * x->bpv;
	}
	double wsum = 0, wts[COST_MAX_MEMBERS], mem_cyc[COST_MAX_MEMBERS];
	for (int i = 0; i < cg->nm; i++) {
		double comp = x->cyc[i];
		double mem = mem_cyc[i] = target_level_cycles(t, 0, mem_of[i] - wr_of[i], wr_of[i]);
		wts[i] = comp > mem ? comp : mem;
		wsum += wts[i];
	}
	for (int i = 0; i < cg->nm; i++) {
		plan_cost *c = &res->member[i];
		memset(c, 0, sizeof(*c));
		res->unit[i] = x->unit[i];
		if (x->unit[i] == PLAN_UNIT_2D)
			c->comp_cycles_2d = x->cyc[i];
		else
			c->comp_cycles_1d = x->cyc[i];
		c->comp_cycles = x->cyc[i];
		c->dram_bytes = mem_of[i];
		c->mem_cycles = c->level_cycles[0] = mem_cyc[i];
		c->nlevels = t->nlevels;
		c->level_read_bytes[0] = mem_of[i] - wr_of[i];
		c->level_write_bytes[0] = wr_of[i];
		for (int l = 1; l < t->nlevels; l++) {
			c->level_read_bytes[l] = x->lv[i].rd[l] * x->bpv;
			c->level_write_bytes[l] = x->lv[i].wr[l] * x->bpv;
			c->level_cycles[l] = target_level_cycles(t, l, c->level_read_bytes[l],
								 c->level_write_bytes[l]);
		}
		c->cycles = wsum > 0 ? res->cost.cycles * wts[i] / wsum
				     : res->cost.cycles / cg->nm;
		if (x->cyc[i] > 0) {
			if (x->unit[i] == PLAN_UNIT_2D)
				c->util_2d = x->useful[i] / (x->cyc[i] * target_peak_macs(t));
			else
				c->util_1d = x->useful[i] / (x->cyc[i] * (double)t->lanes);
		}
		if (c->cycles > 0)
			c->mem_util = c->mem_cycles / c->cycles > 1 ? 1 : c->mem_cycles / c->cycles;
	}
}

/* On a CPU the threads share the tiles of the outermost band member with
 * more than one tile that no member carries (an output rank of every
 * member, not its generational one: code generation's parallel loop):
 * with n tiles over P threads the last round runs short, and the group
 * takes the busiest thread's tiles for a P-th of the work, where a
 * ragged last tile counts as its part of a tile.  Returns that factor, or
 * 0 when no band member runs in parallel (the BLAS calls and strips then
 * share the threads inside each tile: cpu_serial). */
static int cpu_par_slot(const cost_group *cg, const tile_shape *sh)
{
	for (int j = 0; j < sh->m; j++) {
		int k = sh->order[j];
		if (sh->n[k] <= 1)
			continue;
		int par = 1;
		for (int i = 0; i < cg->nm && par; i++) {
			const cost_einsum_info *in = cost_einsum(cg->m, cg->mem[i].e);
			int v = cg->mem[i].var[k];
			par = v < 0 || (((in->outvars >> v) & 1) && v != in->gen);
		}
		/* A tensor that a tile reads where earlier tiles along k wrote
		 * it (a halo: the conv's window over its input) carries a
		 * dependence along k, and code generation runs that loop in
		 * order (choose_parallel in lower_sched.c). */
		for (int i = 0; i < cg->nt && par; i++)
			for (int d = 0; d < cg->ts[i].ndims && par; d++)
				if (cg->ts[i].written && cg->ts[i].dim[d].slot == k &&
				    cost_dim_halo(&cg->ts[i].dim[d]) > 0)
					par = 0;
		if (par)
			return j;
	}
	return -1;
}

static double cpu_imbalance(const cost_group *cg, const tile_shape *sh, int64_t threads)
{
	int j = cpu_par_slot(cg, sh);
	if (j < 0)
		return 0;
	int k = sh->order[j];
	/* schedule(static): the first n % P threads take ceil(n / P) tiles,
	 * the rest floor(n / P), the last thread the ragged tile. */
	double n = sh->n[k], p = (double)threads;
	double last = (double)(cg->ext[k] - (int64_t)(n - 1) * sh->s[k]) / (double)sh->s[k];
	double q = floor(n / p);
	double busiest = fmod(n, p) > 0 ? q + 1 : p > 1 ? q : q - 1 + last;
	return busiest / ((n - 1 + last) / p);
}

/* The extents of member mb's variables in one full tile of the band. */
static void member_tile_ext(const cost_group *cg, const cg_member *mb, const tile_shape *sh,
			    int64_t *ext)
{
	const cost_einsum_info *in = cost_einsum(cg->m, mb->e);
	memcpy(ext, in->ext, sizeof(in->ext));
	for (int k = 0; k < sh->m; k++) {
		int v = mb->var[k];
		if (v >= 0 && sh->s[k] < ext[v])
			ext[v] = sh->s[k];
	}
}

/* Inside the tiles of a group whose tile loop runs serially, code
 * generation shares the threads only in parallel regions large enough to
 * pay for starting the team: a BLAS call of at least CPU_PAR_GEMM
 * multiply-adds (ml_sgemm), a loop of at least CPU_PAR_POINTS points
 * (ML_PAR_MIN).  A member below that runs on one thread: its compute takes
 * threads times as long.  Returns 1 when every member does (the group's
 * DRAM traffic then streams at one thread's bandwidth). */
#define CPU_PAR_GEMM 262144.0
#define CPU_PAR_POINTS 32768.0
/* A matrix-vector product (ml_sgemma) is shared by summing blocks of its
 * reduction on each thread from this many matrix elements, with at least
 * CPU_PAR_KBLOCK of the reduction per thread. */
#define CPU_PAR_MATVEC 65536.0
#define CPU_PAR_KBLOCK 16.0
/* Per member of group x, whether code generation shares it between the
 * threads inside a tile (shared[i]: a loop of CPU_PAR_POINTS points, a
 * BLAS call of CPU_PAR_GEMM multiply-adds, or a matrix-vector product as
 * above).  Returns whether every member is a matrix-vector product in its
 * tiles: such a group reuses no operand, the BLAS streams the matrix
 * through the caches without packing it first, and the prefetchers
 * overlap that stream with the work from its first line, so it has no
 * fill and drain however large its tile. */
static int cpu_members(eval_ctx *x, int64_t threads)
{
	const cost_group *cg = x->cg;
	int matvec = 1;
	for (int i = 0; i < cg->nm; i++) {
		const cost_einsum_info *in = cost_einsum(cg->m, cg->mem[i].e);
		int64_t ext[EIN_MAX_VARS];
		member_tile_ext(cg, &cg->mem[i], x->sh, ext);
		double pts = 1;
		for (int v = 0; v < in->nvars; v++)
			pts *= (double)ext[v];
		if (x->unit[i] != PLAN_UNIT_2D) {
			matvec = 0;
			x->shared[i] = pts >= CPU_PAR_POINTS;
			continue;
		}
		double mm = prod_mask(ext, in->mvars, in->nvars),
		       nn = prod_mask(ext, in->nvars_, in->nvars),
		       kk = prod_mask(ext, in->kvars, in->nvars);
		int vec = mm == 1 || nn == 1;
		matvec &= vec;
		x->shared[i] = pts >= CPU_PAR_GEMM ||
			       (vec && kk >= CPU_PAR_KBLOCK * (double)threads &&
				mm * nn * kk >= CPU_PAR_MATVEC);
	}
	return matvec;
}

static int cpu_serial(eval_ctx *x, int64_t threads)
{
	const cost_group *cg = x->cg;
	int all = 1;
	for (int i = 0; i < cg->nm; i++) {
		if (x->shared[i]) {
			all = 0;
			continue;
		}
		double more = x->cyc[i] * (double)(threads - 1);
		x->cyc[i] += more;
		if (x->unit[i] == PLAN_UNIT_2D)
			x->comp2d += more;
		else
			x->comp1d += more;
	}
	return all;
}

/* The parallel regions group x opens, each costing cpu.fork_ns to start
 * and join the threads: with its tiles shared, one per iteration of the
 * serial tile loops outside the shared one; with its tiles serial, one
 * per tile for every product and every strip run (or lone loop) that
 * code generation shares between the threads (cpu_members). */
static double cpu_regions(const eval_ctx *x)
{
	const cost_group *cg = x->cg;
	const tile_shape *sh = x->sh;
	int j = cpu_par_slot(cg, sh);
	if (j >= 0) {
		double n = 1;
		for (int q = 0; q < j; q++)
			n *= sh->n[sh->order[q]];
		return n;
	}
	const int *run_of = x->run_of;
	char run_par[COST_MAX_MEMBERS] = {0};
	double per = 0;
	for (int i = 0; i < cg->nm; i++) {
		if (!x->shared[i])
			continue;
		if (run_of[i] < 0)
			per++;
		else if (!run_par[run_of[i]]++)
			per++;
	}
	return per * sh->ntiles;
}

/* A strip at least this wide is the vector loop of the statements it
 * holds (lower_strips.c, CGL_VECTOR_MIN). */
#define CPU_VECTOR_MIN 16
/* Code generation makes a strip's rank the innermost loop of the members
 * of its run when the strip is wide enough to vectorise along: a
 * reduction over another rank then adds into its output in memory at
 * every point (a load and a store), not into a register. */
static void cpu_vector_strips(eval_ctx *x)
{
	const cost_group *cg = x->cg;
	if (!cpu_loops(x->t))
		return;
	for (int i = 0; i < cg->nm; i++) {
		int q = x->run_of[i];
		const cost_einsum_info *in = &cg->m->es[cg->mem[i].e];
		if (q < 0 || x->runs[q].width < CPU_VECTOR_MIN || x->unit[i] != PLAN_UNIT_1D ||
		    !in->reduces)
			continue;
		/* ...and its lanes are outputs: no horizontal sums. */
		double c = in->points * 2 * x->t->access_cycles - cpu_hsum_cycles(x->t, in, in->ext);
		x->cyc[i] += c;
		x->comp1d += c;
	}
}

int cost_eval(const cost_group *cg, const cost_config *cfg, int detail,
	      cost_result *res)
{
	const target *t = cg->m->t;
	tile_shape sh;
	eval_ctx *x = cg->scratch;
	memset(&sh, 0, sizeof(sh));
	sh.m = cg->nband;
	sh.ntiles = 1;
	for (int j = 0; j < sh.m; j++) {
		int k = cfg->order[j];
		sh.order[j] = k;
		sh.pos[k] = j + 1;
	}
	for (int k = 0; k < sh.m; k++) {
		int64_t tl = cfg->tile[k] < 1 ? 1 : cfg->tile[k];
		sh.s[k] = tl < cg->ext[k] ? tl : cg->ext[k];
		if (sh.s[k] < 1)
			sh.s[k] = 1;
		sh.n[k] = ceil((double)cg->ext[k] / (double)sh.s[k]);
		if (sh.n[k] < 1)
			sh.n[k] = 1;
		sh.ntiles *= sh.n[k];
	}
	x->cg = cg;
	x->sh = &sh;
	x->t = t;
	x->bpv = (double)t->bytes_per_value;
	x->comp2d = x->comp1d = 0;
	/* Compute: each member on its array. */
	for (int i = 0; i < cg->nm; i++) {
		const cg_member *mb = &cg->mem[i];
		double u1 = 0, u2 = 0;
		box_lv l1, l2;
		double c1 = member_cycles(cg, mb, &sh, PLAN_UNIT_1D, &u1, &l1);
		double c2 = mb->can2d ? member_cycles(cg, mb, &sh, PLAN_UNIT_2D, &u2, &l2) : -1;
		int want = cfg->unit[i];
		plan_unit u;
		if (want == PLAN_UNIT_2D && c2 >= 0)
			u = PLAN_UNIT_2D;
		else if (want == PLAN_UNIT_1D || c2 < 0)
			u = PLAN_UNIT_1D;
		else /* the model's choice: GEMMs stay on the 2D array unless
		      * the 1D array is faster */
			u = c1 < c2 ? PLAN_UNIT_1D : PLAN_UNIT_2D;
		x->unit[i] = u;
		x->cyc[i] = u == PLAN_UNIT_2D ? c2 : c1;
		x->useful[i] = u == PLAN_UNIT_2D ? u2 : u1;
		x->lv[i] = u == PLAN_UNIT_2D ? l2 : l1;
		if (u == PLAN_UNIT_2D)
			x->comp2d += x->cyc[i];
		else
			x->comp1d += x->cyc[i];
	}
	if (t->kind == TARGET_CPU) {
		x->nrun = cpu_runs(x, x->runs, x->run_of);
		cpu_vector_strips(x);
	}
	x->serial = 0;
	x->par = 0;
	x->regions = 0;
	x->matvec = t->kind == TARGET_CPU && cpu_members(x, t->cpu.threads);
	if (t->kind == TARGET_CPU && t->cpu.threads > 1) {
		x->regions = cpu_regions(x);
		double f = cpu_imbalance(cg, &sh, t->cpu.threads);
		x->par = f > 0;
		if (f == 0) {
			x->serial = cpu_serial(x, t->cpu.threads);
		} else if (f > 1) {
			for (int i = 0; i < cg->nm; i++)
				x->cyc[i] *= f;
			x->comp2d *= f;
			x->comp1d *= f;
		}
	}
	int inside = 0;
	for (int i = 0; i + 1 < cg->nm; i++)
		inside += x->unit[i] != x->unit[i + 1];
	int wrap = cg->nm > 1 && x->unit[cg->nm - 1] != x->unit[0];
	x->switches = t->concurrent ? 0 : sh.ntiles * inside + (sh.ntiles - 1) * wrap;
	for (int i = 0; i < cg->nt; i++)
		tensor_options(cg, &cg->ts[i], &sh, &x->opts[i]);
	/* Multi-pass handling: every combination of the free choices. */
	int nopt[COST_MAX_MP], idx[COST_MAX_MP] = {0};
	plan_multipass opts[COST_MAX_MP][3];
	for (int q = 0; q < cg->nmp; q++) {
		int i = cg->mp[q];
		const cg_tensor *ts = &cg->ts[i];
		if (cfg->mp[i] >= PLAN_MP_BUFFER) {
			opts[q][0] = (plan_multipass)cfg->mp[i];
			nopt[q] = 1;
			continue;
		}
		opts[q][0] = PLAN_MP_BUFFER;
		opts[q][1] = PLAN_MP_SPILL;
		nopt[q] = 2;
		if (ts->writer >= 0)
			opts[q][nopt[q]++] = PLAN_MP_RECOMPUTE;
	}
	eval_state best, cur;
	double best_lat = 0;
	int have = 0, best_fits = 0;
	plan_cost best_cost;
	for (;;) {
		memset(cur.mp, PLAN_MP_NONE, sizeof(cur.mp));
		for (int q = 0; q < cg->nmp; q++)
			cur.mp[cg->mp[q]] = (signed char)opts[q][idx[q]];
		choose_levels(x, cfg, &cur);
		plan_cost pc;
		double lat;
		fill_cost(x, &cur, &pc, &lat);
		int fits = cur.peak <= (double)t->buffer_bytes;
		if (!have || (fits && !best_fits) ||
		    (fits == best_fits &&
		     (fits ? better(lat, cur.traffic, cur.peak, best_lat, best.traffic, best.peak)
			   : cur.peak < best.peak))) {
			best = cur;
			best_lat = lat;
			best_cost = pc;
			best_fits = fits;
			have = 1;
		}
		int q = 0;
		while (q < cg->nmp && ++idx[q] == nopt[q])
			idx[q++] = 0;
		if (q == cg->nmp)
			break;
	}
	res->fits = best_fits;
	res->ntiles = sh.ntiles;
	res->ntiles_i = sh.ntiles > 9e18 ? INT64_MAX : (int64_t)sh.ntiles;
	res->switches = x->switches;
	res->cost = best_cost;
	if (detail)
		fill_detail(x, &best, res);
	return 0;
}

double cost_score(const plan_cost *c)
{
	return c->cycles + COST_TRAFFIC_WEIGHT * c->mem_cycles;
}

int cost_compare(const cost_result *a, const cost_result *b)
{
	if (a->fits != b->fits)
		return a->fits ? -1 : 1;
	/* Neither fits: the closer to fitting is better, so that a search
	 * from too large a start moves towards fitting. */
	if (!a->fits && a->cost.buffer_bytes != b->cost.buffer_bytes)
		return a->cost.buffer_bytes < b->cost.buffer_bytes ? -1 : 1;
	double sa = cost_score(&a->cost), sb = cost_score(&b->cost);
	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (a->cost.dram_bytes != b->cost.dram_bytes)
		return a->cost.dram_bytes < b->cost.dram_bytes ? -1 : 1;
	/* Hidden under memory, compute still should not be wasted. */
	if (a->cost.comp_cycles != b->cost.comp_cycles)
		return a->cost.comp_cycles < b->cost.comp_cycles ? -1 : 1;
	if (a->cost.buffer_bytes != b->cost.buffer_bytes)
		return a->cost.buffer_bytes < b->cost.buffer_bytes ? -1 : 1;
	return 0;
}

void cost_total(const target *t, const plan_cost *groups, int ngroups,
		plan_cost *total, double *latency_seconds)
{
	memset(total, 0, sizeof(*total));
	total->nlevels = t->nlevels;
	double w2 = 0, w1 = 0, wm = 0;
	for (int i = 0; i < ngroups; i++) {
		const plan_cost *g = &groups[i];
		total->comp_cycles_2d += g->comp_cycles_2d;
		total->comp_cycles_1d += g->comp_cycles_1d;
		total->comp_cycles += g->comp_cycles;
		total->mem_cycles += g->mem_cycles;
		total->cache_cycles += g->cache_cycles;
		total->cycles += g->cycles;
		total->dram_bytes += g->dram_bytes;
		total->overhead_cycles += g->overhead_cycles;
		for (int l = 0; l < PLAN_MAX_LEVELS; l++) {
			total->level_read_bytes[l] += g->level_read_bytes[l];
			total->level_write_bytes[l] += g->level_write_bytes[l];
			total->level_cycles[l] += g->level_cycles[l];
		}
		if (g->buffer_bytes > total->buffer_bytes)
			total->buffer_bytes = g->buffer_bytes;
		w2 += g->util_2d * g->cycles;
		w1 += g->util_1d * g->cycles;
		wm += g->mem_util * g->cycles;
	}
	if (total->cycles > 0) {
		total->util_2d = w2 / total->cycles;
		total->util_1d = w1 / total->cycles;
		total->mem_util = wm / total->cycles;
	}
	*latency_seconds = total->cycles / (t->clock_ghz * 1e9);
}
