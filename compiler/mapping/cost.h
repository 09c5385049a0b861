/* cost.h - the analytical cost model of a fusion group on a target.
 *
 * A group is a set of Einsums sharing a band of tiled loops (the fused
 * ranks, in a loop order, with a tile size each); inside a tile the members
 * run in source order, each over its own loops, each bound to the 2D or the
 * 1D array.  For such a mapping the model gives compute cycles on the bound
 * arrays (with how tile shapes fit them and the mode switches of a
 * reconfigurable array), DRAM traffic from the tile footprints of every
 * tensor (boxes, counted without enumeration), the peak buffer occupancy
 * (liveness of tile buffers along the member sequence, plus what stays
 * resident across tiles), and the latency with compute and memory
 * overlapped inside the group.  docs/cost-model.md states every formula.
 *
 * Sizes are doubles (a mamba-2.8b tensor at 2^20 tokens has 5.5e12
 * elements); nothing is allocated per element.
 *
 * Ownership: cost_model_new() keeps pointers to the deps graph, its cascade
 * and the target, which must outlive it.  Each *_new has its *_free.
 */
#ifndef MAMBALAYA_COST_H
#define MAMBALAYA_COST_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/deps.h"
#include "analysis/fusion.h"
#include "plan.h"
#include "target.h"

#define COST_MAX_MEMBERS 64
#define COST_MAX_TENSORS 128
#define COST_MAX_TERMS 16
#define COST_MAX_MP 4 /* multi-pass tensors searched per group */

/* What the model knows about one Einsum, independent of any group. */
typedef struct cost_einsum_info {
	int nvars;
	int64_t lo[EIN_MAX_VARS], ext[EIN_MAX_VARS]; /* bounding box of the domain */
	double density; /* points of the domain / points of its box */
	double points;	/* points of the domain */
	int gen;	/* sequential (generational) variable, or -1 */
	/* 2D array: a sum over reduced variables of a product of two tensor
	 * reads.  Variable bit sets: m (output, first operand only), n
	 * (output, second operand only), b (output, both or neither: run in
	 * time), k (reduced). */
	int gemm;
	uint32_t mvars, nvars_, bvars, kvars;
	/* On a CPU, per product dimension (0 M, 1 N, 2 K): its ranks from
	 * the innermost outwards, as the output (M, N) or the first operand
	 * (K) lays them out, and how many of them can merge into one matrix
	 * dimension of a BLAS call: each is the next dimension outwards in
	 * both tensors that hold it (QP_{b,h,s,p} = N1_{b,s,e} WQ_{e,h,p}:
	 * N is p alone, h a loop of calls). */
	int blk[3][EIN_MAX_VARS], nblk[3], nmerge[3];
	/* 1D array: work terms.  Term j costs ops[j] cycles once per distinct
	 * value of the variables in vars[j] (loop-invariant parts are
	 * hoisted). */
	int nterms;
	uint32_t term_vars[COST_MAX_TERMS];
	double term_ops[COST_MAX_TERMS];
	/* Cycles per point to read the operands into a lane (distinct tensor
	 * reads, not counting the Einsum's own output, which a lane keeps):
	 * a lane computes while it reads, so a point costs the larger of its
	 * operations and its reads. */
	double read_cycles;
	int nreads;	   /* distinct operand reads per point */
	/* On a CPU: the innermost loop's variable (the last reduced one, else
	 * the output's last index), and the cycles of the reads that stay the
	 * same along it, which code generation loads once per loop
	 * (read_inner_cycles; read_cycles keeps the others). */
	int inner;
	double read_inner_cycles;
	/* On a CPU with a register rate (target.alu_cycles): the distinct
	 * reads that move along the innermost loop, and whether it reduces
	 * (its result is stored once per output point, not per point). */
	int nmoving;
	int reduces;
	uint32_t outvars;  /* variables of the output */
	uint32_t filt;	   /* variables a filter (where ...) involves */
} cost_einsum_info;

typedef struct cost_model cost_model;

/* Builds the model of g's cascade on target t (isl: domain bounds and the
 * elements carried by every dependence edge).  Returns NULL with a message
 * in err on failure. */
cost_model *cost_model_new(const deps_graph *g, const target *t, char *err,
			   size_t errlen);
void cost_model_free(cost_model *m);

const cost_einsum_info *cost_einsum(const cost_model *m, int e);

/* One dimension of a tensor as a group's accesses see it, per category
 * (0 touched, 1 written, 2 read): the interval of positions relative to
 * the tile origin of the band slot indexing it, and over the whole
 * domain.  The cost model and the stream back end both size windows and
 * transfers from it, so that the stream moves what the model counts. */
typedef struct cost_dim {
	int slot;     /* band slot indexing it; -1 none; -2 inconsistent; -3 unset */
	int64_t coef; /* coefficient of the slot's variable */
	int64_t size; /* tensor dimension */
	int has[3];   /* the category was seen */
	int64_t lo[3], hi[3];	/* base interval (without the band variable) */
	int64_t flo[3], fhi[3]; /* full interval */
} cost_dim;

/* An unset dimension of extent size. */
void cost_dim_init(cost_dim *d, int64_t size);
/* Records index form af of an access by Einsum e (in: its model info),
 * a write or a read; slot_var[b] is e's variable of band slot b. */
void cost_dim_record(cost_dim *d, const ein_cascade *c, const cost_einsum_info *in,
		     const ein_aff *af, const int *slot_var, int nband, int write);
/* Width of category cat in a tile of s along the slot (0 if unseen). */
int64_t cost_dim_width(const cost_dim *d, int cat, int64_t s);
/* Width of category cat over the whole domain (0 if unseen). */
int64_t cost_dim_full(const cost_dim *d, int cat);
/* Elements carried into a tile along the slot: read below the first
 * element the tile writes (a halo, a recurrence state). */
int64_t cost_dim_halo(const cost_dim *d);
const target *cost_target(const cost_model *m);
const deps_graph *cost_deps(const cost_model *m);

/* Cycles of Einsum e over one box whose variable v has extent ext[v], on
 * unit u (-1 if e cannot run there, i.e. the 2D array for a non-GEMM).
 * useful (may be NULL) receives the useful MACs (2D) or lane-cycles (1D). */
double cost_box_cycles(const cost_model *m, int e, plan_unit u,
		       const int64_t *ext, double *useful);

/* A group compiled for evaluation. */
typedef struct cost_group cost_group;

/* members: flags indexed by Einsum; band: nband rank indices (deps_graph
 * ranks) that every member iterates, in any order (cost_config.order
 * chooses the loop order).  Returns NULL with a message in err. */
cost_group *cost_group_new(const cost_model *m, const char *members, int nband,
			   const int *band, char *err, size_t errlen);
void cost_group_free(cost_group *cg);

int cost_group_nmembers(const cost_group *cg);
int cost_group_member(const cost_group *cg, int i); /* Einsum, source order */
int cost_group_can_2d(const cost_group *cg, int i);
int cost_group_nband(const cost_group *cg);
int cost_group_band(const cost_group *cg, int slot); /* rank index */
int64_t cost_group_extent(const cost_group *cg, int slot);
int cost_group_ntensors(const cost_group *cg);
int cost_group_tensor(const cost_group *cg, int i);
fusion_role cost_group_role(const cost_group *cg, int i);
/* Is tensor i read in several passes inside the group? */
int cost_group_multipass(const cost_group *cg, int i);
/* Elements of tensor i in one full tile at these tile sizes (by slot):
 * the box the model counts, to compare with isl's count. */
double cost_group_tile_elems(const cost_group *cg, int i, const int64_t *tile);
/* Replaces the model's count of tensor i's tile by an exact one (isl's),
 * for the tile sizes of the next evaluations; 0 restores the model's. */
void cost_group_set_tile_elems(cost_group *cg, int i, double elems);

/* A mapping of a compiled group.  -1 in unit, level or mp: the model
 * chooses (the best binding per member, retention greedily by traffic
 * saved per buffer byte, multi-pass handling by trying every option). */
typedef struct cost_config {
	int order[PLAN_MAX_BAND];     /* loop j (outermost first) runs slot order[j] */
	int64_t tile[PLAN_MAX_BAND];  /* per slot, >= 1 */
	signed char unit[COST_MAX_MEMBERS];   /* plan_unit per member */
	signed char level[COST_MAX_TENSORS];  /* retention level 0..nband per tensor */
	signed char mp[COST_MAX_TENSORS];     /* plan_multipass per tensor */
} cost_config;

/* Sets every choice to -1 (the model's), the identity order and tiles 1. */
void cost_config_init(cost_config *cfg);

typedef struct cost_result {
	int fits; /* peak buffer within the target's */
	int64_t ntiles_i;
	double ntiles;
	double switches; /* mode switches */
	plan_cost cost;
	/* With detail: the choices made and the shares. */
	plan_unit unit[COST_MAX_MEMBERS];
	plan_cost member[COST_MAX_MEMBERS];
	signed char level[COST_MAX_TENSORS];
	signed char mp[COST_MAX_TENSORS];
	double tile_elems[COST_MAX_TENSORS];
	double buffer_bytes[COST_MAX_TENSORS]; /* allocated for the tensor */
	double dram_bytes[COST_MAX_TENSORS];
} cost_result;

/* Evaluates the group under cfg.  detail: fill the per-member and
 * per-tensor parts.  Returns 0 (res->fits says whether it fits the buffer;
 * when it does not, the costs are those of the smallest configuration). */
int cost_eval(const cost_group *cg, const cost_config *cfg, int detail,
	      cost_result *res);

/* What the search minimises: the latency plus a small weight on the time
 * the DRAM is busy, so that of two mappings with nearly the same latency
 * the one that moves less data wins (docs/cost-model.md). */
#define COST_TRAFFIC_WEIGHT 0.01
double cost_score(const plan_cost *c);

/* Lexicographic comparison of two results: fitting first (between two
 * that do not fit, the smaller buffer), then the score, DRAM bytes,
 * compute cycles, buffer.  <0 if a is better. */
int cost_compare(const cost_result *a, const cost_result *b);

/* Totals of a plan from its groups: sums, time-weighted utilisations,
 * latency in seconds. */
void cost_total(const target *t, const plan_cost *groups, int ngroups,
		plan_cost *total, double *latency_seconds);

const char *cost_unit_name(plan_unit u);	  /* "2d", "1d" */
const char *cost_multipass_name(plan_multipass mp); /* "none", "buffer", ... */

#endif
