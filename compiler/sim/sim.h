/* sim.h - the Mambalaya simulator: runs an instruction stream (mlb.h) on
 * real float32 data under a timing model of the target.
 *
 * Functional model: DRAM and the global buffer are arrays of float32 values
 * (whatever the target's bytes per value); every instruction does exactly
 * what docs/isa.md says.  Each operand's buffer range is checked against the
 * current group's allocation and each DMA against its tensor before
 * anything moves; a fault stops the run with a message naming the
 * instruction by its index.  Limits on executed instructions, loop trip
 * counts and box points turn a runaway stream into an error.
 *
 * Timing model (docs/isa.md, "Timing"): three units, the DMA engine, the 2D
 * array and the 1D array (one reconfigurable array unless the target says
 * concurrent), each instruction costed as the cost model costs its work
 * (docs/cost-model.md).  A group takes max(C, M) + min(C, M) / T cycles
 * for C array cycles, M DMA cycles and T tiles, the cost model's overlap
 * rule; groups run one after the other.  Alongside, a schedule that
 * respects the dependences tile by tile (the DMA engine loads tile k+1
 * while the array computes tile k, and stores tile k afterwards) gives
 * scheduled_cycles and the trace.
 *
 * Ownership: sim_new() keeps a pointer to the module, which must outlive
 * the simulator; free with sim_free().
 */
#ifndef MAMBALAYA_SIM_H
#define MAMBALAYA_SIM_H

#include <stdint.h>
#include <stdio.h>

#include "isa/mlb.h"

typedef struct sim_options {
	int64_t max_steps;   /* executed instructions; 0: 2^31 */
	int64_t max_trip;    /* iterations of one loop; 0: 2^32 */
	int64_t max_work;    /* box points over the run; 0: 2^38 */
	int64_t max_dram;    /* DRAM values the simulator allocates; 0: 2^32 */
	int64_t max_buffer;  /* buffer values it allocates; 0: 2^30 */
	FILE *trace;	     /* Chrome trace JSON written here, or NULL */
	int64_t max_events;  /* trace events; 0: 2^20 */
	/* Called at the end of every group with the groups done and the
	 * module's group count (a group run again counts again); may be
	 * NULL. */
	void (*progress)(void *ctx, double done, double total);
	void *progress_ctx;
} sim_options;

/* What one group cost (summed over its executions). */
typedef struct sim_group_stats {
	double cycles;	   /* the cost model's overlap rule on its busy times */
	double scheduled_cycles; /* the tile schedule, from its start to its sync */
	double dram_bytes;
	double dma_cycles, cycles_2d, cycles_1d, switch_cycles;
	double overhead_cycles; /* per-tile overheads of the levels */
	double level_read_bytes[MLB_MAX_LEVELS], level_write_bytes[MLB_MAX_LEVELS];
	double level_cycles[MLB_MAX_LEVELS];
	int64_t tiles, runs;
	int64_t buffer_values; /* allocation */
} sim_group_stats;

typedef struct sim_stats {
	double cycles;	       /* sum over groups of the overlap rule */
	double scheduled_cycles; /* the end of the tile schedule (the trace) */
	double seconds;	       /* cycles at the target's clock */
	double dram_bytes;     /* loads and stores, at the target's bytes per value */
	double dram_read_bytes, dram_write_bytes;
	double dma_cycles;     /* DMA engine busy */
	double cycles_2d, cycles_1d; /* array busy in each mode (without switches) */
	double switch_cycles;  /* mode switches */
	double overhead_cycles; /* per-tile overheads of the memory levels */
	/* Per memory level (0 DRAM, 1 the buffer, 2 PE storage; nlevels of
	 * them): bytes read from and written to it, busy cycles. */
	int nlevels;
	double level_read_bytes[MLB_MAX_LEVELS], level_write_bytes[MLB_MAX_LEVELS];
	double level_cycles[MLB_MAX_LEVELS];
	double macs_2d;	       /* useful multiply-accumulates of the 2D array */
	double lane_ops_1d;    /* useful lane-cycles of the 1D array */
	double util_2d, util_1d, util_dma;
	int64_t switches;
	int64_t peak_buffer_bytes;
	int64_t instructions;  /* executed */
	int64_t box_ops;       /* DMA and compute instructions executed */
	int64_t tiles;
	int64_t trace_events, trace_dropped;
	int ngroups;
	sim_group_stats *groups; /* indexed like the module's group table */
} sim_stats;

typedef struct sim sim;

/* A simulator for m with zeroed DRAM.  Returns NULL with a message in err
 * (out of memory, or a DRAM or buffer larger than the limits). */
sim *sim_new(const mlb_module *m, const sim_options *o, char *err, size_t errlen);
void sim_free(sim *s);

/* Tensor t's values in DRAM (the tensor's element count of them), for
 * reading inputs in and outputs out; NULL if it has no DRAM storage. */
float *sim_tensor(sim *s, int t);

/* Runs the program from its first instruction.  Returns 0 with *st filled
 * (st->groups malloc'ed: free with sim_stats_clear), or -1 with a message
 * (a fault names its instruction) in err; *st then holds what ran. */
int sim_run(sim *s, sim_stats *st, char *err, size_t errlen);

void sim_stats_clear(sim_stats *st);

/* The statistics as JSON (`sim --json`; host: the run's wall-clock
 * seconds).  The caller frees it with cJSON_Delete. */
struct cJSON *sim_stats_to_json(const mlb_module *m, const sim_stats *st, double host);

#endif
