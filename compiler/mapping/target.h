/* target.h - the description of an accelerator the mapper plans for.
 *
 * A target is a 2D array of MACs (rows x cols per cycle, optionally several
 * cores), a 1D array of lanes with a cost in cycles for every operation and
 * function, whether the two run concurrently or are one reconfigurable array
 * that switches between modes (and what a switch costs), a global buffer,
 * DRAM bandwidth, a clock and the bytes of one value.  docs/target.md
 * documents the JSON form, every field and the sources of the built-in
 * targets' values.
 *
 * Built-in targets are JSON texts parsed by the same loader as user files,
 * so that they carry their own sources and assumptions.
 *
 * Ownership: a target owns its strings; free it with target_free().
 */
#ifndef MAMBALAYA_TARGET_H
#define MAMBALAYA_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "front/cascade.h"

/* Operations with a cost on the 1D array: the unary functions of
 * cascade.h (ein_fn, same order), then the binary operators (ein_binop,
 * same order), then a multiply-accumulate, a plain copy, and the read of
 * one operand value from the buffer into a lane. */
#define TARGET_OP_BINOP0 EIN_FN_COUNT
#define TARGET_OP_MAC (EIN_FN_COUNT + 6)
#define TARGET_OP_COPY (EIN_FN_COUNT + 7)
#define TARGET_OP_READ (EIN_FN_COUNT + 8)
#define TARGET_NOPS (EIN_FN_COUNT + 9)

/* What a target is: an accelerator (the arrays below are its own), or a
 * CPU (docs/target.md, "CPU targets"): measured rates that the loader
 * turns into the same fields, one model cycle being one nanosecond. */
typedef enum target_kind { TARGET_ACCEL, TARGET_CPU } target_kind;

#define TARGET_MAX_CACHES 4

typedef struct target_cache {
	int64_t level;
	int64_t bytes;	   /* one instance */
	int64_t shared_by; /* threads sharing one instance */
} target_cache;

/* Sides of the measured product grid (cpu.gemm_grid), at most. */
#define TARGET_GEMM_MAX_SIDES 8

/* A CPU as calibrate measures it (all threads together). */
typedef struct target_cpu {
	int64_t threads;
	int64_t simd_bytes;
	int ncaches;
	target_cache caches[TARGET_MAX_CACHES]; /* innermost first */
	double gemm_gflops;   /* the BLAS on large products */
	double gemm_half_dim; /* a product dimension d runs at d / (d + h) of it */
	double call_ns;	      /* fixed cost of one BLAS call */
	/* The BLAS's rate measured by shape (0 sides: none, the two numbers
	 * above price every shape): gemm_rate[(i * n + j) * n + l], 10^9
	 * flops per second, for an m x n x k product with m, n, k =
	 * gemm_sides[i], [j], [l] (increasing); target_gemm_gflops reads it. */
	int gemm_nsides;
	double gemm_sides[TARGET_GEMM_MAX_SIDES];
	double gemm_rate[TARGET_GEMM_MAX_SIDES * TARGET_GEMM_MAX_SIDES * TARGET_GEMM_MAX_SIDES];
	double op_gelem[TARGET_NOPS]; /* 10^9 elements per second, per operation */
	double strided_gelem; /* 10^9 accesses per second across cache lines */
	/* DRAM bandwidth one thread reaches alone, 10^9 bytes per second (0:
	 * unknown, the target's dram_gb_per_s / threads). */
	double thread_dram_gb_per_s;
	/* DRAM bandwidth of writing alone, all threads, 10^9 bytes per
	 * second (0: unknown, writes stream at dram_gb_per_s): a group's
	 * DRAM time is at least its written bytes at this rate. */
	double dram_write_gb_per_s;
	/* Bandwidth of the outermost cache, all threads, 10^9 bytes per
	 * second (0: unknown, its traffic is not charged). */
	double cache_gb_per_s;
	/* Starting the threads on a parallel region and joining them, ns
	 * (0: unknown, not charged). */
	double fork_ns;
	/* Multiply-adds on values in registers, 10^9 per second (0: unknown;
	 * each operation is then priced at its whole loop's rate). */
	double register_gelem;
} target_cpu;

/* May cache c follow cache prev (innermost first)?  A deeper level,
 * holding at least as much with all its instances. */
int target_cache_nests(const target_cache *prev, const target_cache *c);

/* Fills *cpu with the values a CPU target takes where calibrate cannot
 * measure them or a target file leaves them out (docs/target.md). */
void target_cpu_defaults(target_cpu *cpu);

/* The BLAS's rate on an m x n x k product, all threads, 10^9 flops per
 * second: interpolated in the measured grid (log rate, linear in the log
 * of each side, the edges' rate beyond them) when there is one, else
 * gemm_gflops scaled by d / (d + gemm_half_dim) for each side. */
double target_gemm_gflops(const target_cpu *cpu, double m, double n, double k);

/* Reads g, a cpu.gemm_grid object ({"sides": [2 to TARGET_GEMM_MAX_SIDES
 * increasing positive integers], "gflops": [sides^3 positive numbers, m
 * outermost]}), into cpu's grid.  NULL: nothing to read, 0 and cpu
 * unchanged.  Returns -1 with an error naming the field (jfield.h). */
int target_read_gemm_grid(target_cpu *cpu, const cJSON *g, char *err, size_t errlen);

/* One level of the memory hierarchy (docs/target.md, "Memory levels"):
 * level 0 is DRAM, level 1 the global buffer, level 2 (when there is one)
 * the storage inside the PEs.  A level's traffic is what it sends to the
 * level inside it and takes back (for the innermost, what the datapath
 * reads and writes), charged at its read and write bandwidths; a zero
 * bandwidth is not modelled (the buffer of a target without
 * memory_levels). */
#define TARGET_MAX_LEVELS 3
#define TARGET_MAX_LEVEL_NAME 32

typedef struct target_level {
	char name[TARGET_MAX_LEVEL_NAME];
	int64_t bytes;	/* all its instances together; 0 for DRAM */
	double read_gb_per_s, write_gb_per_s;
	double tile_overhead_cycles; /* per tile held at this level */
} target_level;

typedef struct target {
	char *name;
	char *description;
	/* TARGET_CPU: the fingerprint of the kernels' runtime its rates were
	 * measured with (calibrate writes it), or NULL. */
	char *runtime;
	target_kind kind;
	target_cpu cpu; /* TARGET_CPU only */
	/* 2D array: output-stationary MAC array (docs/cost-model.md). */
	int64_t rows, cols;
	int64_t cores;	      /* identical 2D arrays working on separate tiles */
	int64_t drain_cycles; /* cycles to drain one output tile */
	/* 1D array. */
	int64_t lanes;
	double op_cycles[TARGET_NOPS]; /* cycles per element per lane */
	/* A CPU with cpu.register_gelem (else 0): an operation's work inside
	 * a loop, apart from the loop's loads and stores, and one load or
	 * store of a float (docs/cost-model.md, "Loops on a CPU"). */
	double alu_cycles[TARGET_NOPS];
	double access_cycles;
	/* Both arrays at once (1), or one array switching modes (0). */
	int concurrent;
	double switch_cycles; /* cost of one mode switch */
	/* Memory. */
	int64_t buffer_bytes;
	double dram_gb_per_s; /* 10^9 bytes per second */
	double clock_ghz;
	int bytes_per_value;
	int double_buffer; /* streamed tiles get a second copy */
	/* The hierarchy: declared_levels when the JSON gave memory_levels
	 * (nlevels 2 or 3); otherwise nlevels is 1, DRAM at dram_gb_per_s
	 * both ways.  levels[1].bytes is always buffer_bytes, levels[0]'s
	 * read bandwidth dram_gb_per_s. */
	int nlevels, declared_levels;
	target_level levels[TARGET_MAX_LEVELS];
	/* Documentation carried with the target: free text. */
	int nassumptions;
	char **assumptions;
	int nsources;
	char **source_fields, **source_texts;
} target;

/* The name of the calibrated target of this machine (--arch host). */
#define TARGET_HOST "host"

/* The names of the built-in targets, NULL-terminated. */
extern const char *const target_builtin_names[];

/* A built-in target by name, or NULL if there is none of that name.
 * Caller frees. */
target *target_builtin(const char *name);

#define TARGET_MAX_FILE_BYTES ((size_t)1 << 20)

/* Loads a target from a JSON file (at most TARGET_MAX_FILE_BYTES).  On error returns NULL with a message in
 * err of the form `field "array2d.rows": expected a positive integer, found
 * "abc"` (or `LINE:COL: invalid JSON` for a syntax error); the caller
 * prefixes the file name.  Caller frees. */
target *target_load_file(const char *path, char *err, size_t errlen);

/* Builds a target from parsed JSON, with the same checks. */
target *target_from_json(const cJSON *j, char *err, size_t errlen);

/* Is name one of target_builtin_names? */
int target_is_builtin(const char *name);
/* The target an --arch names: a built-in, else a JSON file.  Returns it,
 * or NULL with a message: *usage = 1 when the name is neither ("unknown
 * target 'x' (did you mean ...)"), else 0 and the message is the file's
 * error ("PATH:LINE:COL: error: ..." or "PATH: error: ..."). */
target *target_resolve(const char *arch, char *err, size_t errlen, int *usage);

/* The target as JSON, every field explicit (docs/target.md).  Caller
 * deletes. */
cJSON *target_to_json(const target *t);

void target_free(target *t);

/* The name of operation op in the "array1d.cycles" object ("exp", "add",
 * "mac", ...). */
const char *target_op_name(int op);

/* MACs per cycle of the 2D array at full rate (a CPU: its BLAS's on
 * large products, per nanosecond). */
double target_peak_macs(const target *t);

/* DRAM bytes per cycle. */
double target_bytes_per_cycle(const target *t);

/* Cycles that level l of t takes for these bytes read from it and written
 * to it (0 for a bandwidth it does not model). */
double target_level_cycles(const target *t, int l, double read_bytes, double write_bytes);

/* Sets the buffer's capacity (--buffer, sweeps): buffer_bytes and the
 * level that holds it; a level inside it that would hold more shrinks to
 * it. */
void target_set_buffer(target *t, int64_t bytes);

#endif
