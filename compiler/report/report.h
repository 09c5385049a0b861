/* report.h - the visual report: one self-contained HTML page (inline SVG,
 * a little JS, nothing fetched) that shows where a plan's time and
 * traffic go.
 *
 * What it gathers (report_collect): the plans of the three policies on the
 * target, a sweep of the target's buffer size, and optionally
 * (report_simulate) the simulator's run of the chosen plan's stream with its
 * trace.  What it shows (report_html): the cascade as a graph coloured by
 * fusion group; per group the latency split into compute and memory, the
 * traffic by tensor and level and the units' utilisation; a roofline of
 * every Einsum; the policies side by side; the buffer sweep; with a
 * simulation, its timeline and buffer occupancy.  Every name from the
 * source is HTML-escaped.
 *
 * Ownership: report_data owns its plans, sweep and simulation; free with
 * report_data_clear.  It keeps pointers to the graph and the target, which
 * must outlive it.
 */
#ifndef MAMBALAYA_REPORT_H
#define MAMBALAYA_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "analysis/deps.h"
#include "mapping/plan.h"
#include "mapping/target.h"
#include "sim/sim.h"

#define REPORT_NPOL 3 /* unfused, ssm-ri, full: mapper_policy order */

/* Called between steps of long work (done of total); may be NULL. */
typedef void (*report_progress_fn)(void *ctx, double done, double total);

typedef struct report_options {
	int policy;	 /* mapper_policy the page is about */
	int sweep_lo;	 /* the sweep: buffer * 2^k for k in [lo, hi]; */
	int sweep_hi;	 /* lo > hi: no sweep */
	double time_budget; /* per mapper run, seconds; 0: none */
	report_progress_fn progress;
	void *progress_ctx;
} report_options;

typedef struct report_data {
	const deps_graph *g;
	const target *t;
	int policy;
	plan *plans[REPORT_NPOL];
	double *points; /* each Einsum's domain points (its operations) */
	/* The sweep: n buffer sizes, each policy's latency (seconds) and DRAM
	 * bytes there (negative: no plan). */
	int nsweep;
	int64_t *sweep_bytes;
	double *sweep_latency[REPORT_NPOL], *sweep_dram[REPORT_NPOL];
	/* The simulation, when there is one. */
	int simulated;
	sim_stats sim;
	cJSON *trace; /* the parsed Chrome trace */
	int nsim_groups;
	char **sim_groups; /* the stream's group names, by plan group */
} report_data;

/* Plans the three policies and sweeps the buffer.  Returns 0, or -1 with a
 * message in err (d is then cleared). */
int report_collect(const deps_graph *g, const target *t, const report_options *o,
		   report_data *d, char *err, size_t errlen);

/* Simulates the chosen plan's stream on inputs (indexed by cascade tensor;
 * every input and weight given, at its element count) and keeps the
 * statistics and the trace.  Returns 0, -1 with a message in err (-2 for
 * a problem of the input, such as a plan the stream cannot express). */
int report_simulate(report_data *d, const float *const *inputs, char *err, size_t errlen);

/* The page.  __isl_give-style: the caller frees it; NULL when out of
 * memory. */
char *report_html(const report_data *d);

void report_data_clear(report_data *d);

#endif
