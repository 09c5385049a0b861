/* sweep.h - design-space sweeps: a spec names lists of cascades, targets,
 * policies, buffer sizes and parameter values; its points are their
 * cartesian product, numbered in a fixed order so that a sweep can be cut
 * into shards (every N-th point from K) that separate processes or hosts
 * run, and the rows put back together by point number.
 *
 * A spec (docs/sweep.md):
 *   {"file": "mamba1.ein" | [...],          required
 *    "arch": ["mambalaya", "t.json"],        default ["mambalaya"]
 *    "policy": ["unfused", "full"],          default ["full"]
 *    "buffer": [1048576, "16M"],             default: each target's own
 *    "defines": {"I": [1, 2048], "ED,D": [[768, 1536], [1024, 2048]]}}
 * A defines key that names several parameters, separated by commas, takes
 * a list of tuples: those parameters vary together.  Points are numbered
 * from 0 with the axes nested in the order file, defines (in the spec's
 * order), arch, buffer, policy: policy varies fastest.
 *
 * This module reads specs and formats rows; running a point (loading the
 * cascade and the target, the mapper) is the caller's business.
 *
 * Ownership: sweep_spec_from_json gives a spec freed with
 * sweep_spec_free; rows are appended to the caller's sbuf.
 */
#ifndef MAMBALAYA_SWEEP_H
#define MAMBALAYA_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/sbuf.h"
#include "plan.h"

#define SWEEP_MAX_AXES 32

/* One key of "defines". */
typedef struct sweep_define {
	char *key;	 /* as written: "I" or "ED,D" */
	int nnames;
	char **names;	 /* the parameters it sets */
	int nvalues;	 /* tuples */
	int64_t *values; /* nvalues x nnames, row-major */
} sweep_define;

typedef struct sweep_spec {
	int nfiles;
	char **files;
	int narchs;
	char **archs;
	int npolicies;
	char **policies;
	int nbuffers;	  /* 0: the key was absent (each target's buffer) */
	int64_t *buffers;
	int ndefines;
	sweep_define *defines;
	int64_t npoints;
} sweep_spec;

/* A point: an index into each axis. */
typedef struct sweep_point {
	int64_t index;
	int file, arch, buffer, policy; /* buffer: -1 when the spec has none */
	int def[SWEEP_MAX_AXES];	/* into defines[k].values */
} sweep_point;

/* What the model says at a point. */
typedef struct sweep_result {
	int64_t buffer_bytes; /* the buffer the plan was made for */
	int groups;
	double latency_seconds;
	plan_cost total; /* the plan's totals (buffer_bytes: its peak) */
} sweep_result;

/* Reads a spec.  Returns it, or NULL with an error naming the field
 * ("field \"defines.I\": expected a non-empty list ...") in err.  Points
 * are limited to 2^40. */
sweep_spec *sweep_spec_from_json(const cJSON *j, char *err, size_t errlen);
void sweep_spec_free(sweep_spec *s);

/* Point number idx (0 <= idx < npoints). */
void sweep_point_at(const sweep_spec *s, int64_t idx, sweep_point *p);

/* Do points a and b share file and defines (one analysis of the
 * cascade)? */
int sweep_same_analysis(const sweep_spec *s, const sweep_point *a, const sweep_point *b);

/* The -D arguments of a point, "NAME=VALUE", into buf (one string after
 * another, each NUL-terminated); returns how many, or -1 when buf is too
 * small. */
int sweep_point_defines(const sweep_spec *s, const sweep_point *p, char *buf, size_t len,
			const char **argv, int max);

/* Parses "K/N" (1 <= K <= N).  Returns 0 or -1. */
int sweep_parse_shard(const char *s, int64_t *k, int64_t *n);

/* CSV: the header line, and one row per point (each ends with '\n'). */
void sweep_csv_header(const sweep_spec *s, sbuf *out);
void sweep_csv_row(const sweep_spec *s, const sweep_point *p, const sweep_result *r,
		   sbuf *out);
/* A row as a JSON object: {"point": 3, "file": ..., "defines": {...},
 * "latency_seconds": ...}.  Caller deletes; NULL when out of memory. */
cJSON *sweep_json_row(const sweep_spec *s, const sweep_point *p, const sweep_result *r);

#endif
