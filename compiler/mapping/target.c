/* target.c - target descriptions: built-ins, JSON loading with errors that
 * name the field, JSON output (see target.h, docs/target.md). */
#include "target.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/diag.h"
#include "base/jfield.h"
#include "calibrate.h"
#include "front/check.h"

/* Names of the binary operators and the extra operations, in the order of
 * target.h (the unary functions use ein_fn_name). */
static const char *const extra_op_names[] = {"add", "sub", "mul", "div",
					     "max", "min", "mac", "copy", "read"};

const char *target_op_name(int op)
{
	if (op >= 0 && op < EIN_FN_COUNT)
		return ein_fn_name((ein_fn)op);
	if (op >= TARGET_OP_BINOP0 && op < TARGET_NOPS)
		return extra_op_names[op - TARGET_OP_BINOP0];
	return "?";
}

double target_peak_macs(const target *t)
{
	if (t->kind == TARGET_CPU)
		return t->cpu.gemm_gflops / 2;
	return (double)t->rows * (double)t->cols * (double)(t->cores > 0 ? t->cores : 1);
}

double target_bytes_per_cycle(const target *t)
{
	return t->dram_gb_per_s / t->clock_ghz;
}

double target_level_cycles(const target *t, int l, double read_bytes, double write_bytes)
{
	const target_level *lv = &t->levels[l];
	double c = 0;
	if (lv->read_gb_per_s > 0)
		c += read_bytes / (lv->read_gb_per_s / t->clock_ghz);
	if (lv->write_gb_per_s > 0)
		c += write_bytes / (lv->write_gb_per_s / t->clock_ghz);
	/* A CPU's DRAM: reads and writes share the copy's rate, and the
	 * writes alone take no less than writing does on its own. */
	if (t->kind == TARGET_CPU && l == 0 && t->cpu.dram_write_gb_per_s > 0) {
		double w = write_bytes / (t->cpu.dram_write_gb_per_s / t->clock_ghz);
		if (w > c)
			c = w;
	}
	return c;
}

void target_set_buffer(target *t, int64_t bytes)
{
	t->buffer_bytes = bytes;
	t->levels[1].bytes = bytes;
	/* Levels still nest: PE storage larger than the new buffer shrinks to
	 * it (docs/target.md). */
	for (int l = 2; l < t->nlevels; l++)
		if (t->levels[l].bytes > bytes)
			t->levels[l].bytes = bytes;
}

/* Default costs of the 1D array, cycles per element per lane.  These are
 * the built-in targets' values; every one is an assumption documented in
 * docs/target.md (the method comes from MARCA for exp and SiLU, the counts
 * are ours). */
static const struct {
	const char *name;
	double cycles;
} default_costs[] = {
	{"exp", 4},	{"log", 4},  {"sqrt", 4},  {"rsqrt", 4}, {"sigmoid", 3},
	{"silu", 4},	{"softplus", 9}, {"tanh", 4}, {"relu", 1}, {"abs", 1},
	{"neg", 1},	{"recip", 4}, {"square", 1}, {"add", 1},  {"sub", 1},
	{"mul", 1},	{"div", 5},  {"max", 1},   {"min", 1},   {"mac", 1},
	{"copy", 1},	{"read", 1},
};

/* The built-in targets.  Every value either names its source or is listed
 * under "assumptions"; docs/target.md explains each one. */
static const char mambalaya_json[] =
	"{\n"
	"  \"name\": \"mambalaya\",\n"
	"  \"description\": \"Mambalaya (Odemuyiwa, Owens, Emer, Pellauer, arXiv 2604.03829): one reconfigurable 256x256 PE array with a 2D (GEMM) mode and a 1D (elementwise) mode, as described by secondary summaries; unpublished values are assumptions\",\n"
	"  \"array2d\": {\"rows\": 256, \"cols\": 256, \"cores\": 1, \"drain_cycles\": 256},\n"
	"  \"array1d\": {\"lanes\": 65536, \"cycles\": {\"exp\": 4, \"log\": 4, \"sqrt\": 4, \"rsqrt\": 4, \"sigmoid\": 3, \"silu\": 4, \"softplus\": 9, \"tanh\": 4, \"relu\": 1, \"abs\": 1, \"neg\": 1, \"recip\": 4, \"square\": 1, \"add\": 1, \"sub\": 1, \"mul\": 1, \"div\": 5, \"max\": 1, \"min\": 1, \"mac\": 1, \"copy\": 1, \"read\": 1}},\n"
	"  \"concurrent\": false,\n"
	"  \"switch_cycles\": 256,\n"
	"  \"memory_levels\": [\n"
	"    {\"name\": \"DRAM\", \"read_gb_per_s\": 2039, \"write_gb_per_s\": 2039},\n"
	"    {\"name\": \"GLB\", \"bytes\": 16777216, \"read_gb_per_s\": 458752, \"write_gb_per_s\": 458752, \"tile_overhead_cycles\": 0},\n"
	"    {\"name\": \"PE\", \"bytes\": 2097152, \"read_gb_per_s\": 917504, \"write_gb_per_s\": 458752, \"tile_overhead_cycles\": 0}\n"
	"  ],\n"
	"  \"clock_ghz\": 1.75,\n"
	"  \"bytes_per_value\": 2,\n"
	"  \"double_buffer\": true,\n"
	"  \"sources\": {\n"
	"    \"array2d.rows\": \"secondary summary of the Mambalaya paper: 64K PEs as a 256 x 256 array\",\n"
	"    \"array2d.cols\": \"secondary summary of the Mambalaya paper: 64K PEs as a 256 x 256 array\",\n"
	"    \"concurrent\": \"secondary summary: one array reconfigured between a 2D and a 1D mode\",\n"
	"    \"memory_levels[0].read_gb_per_s\": \"secondary summary; default of the authors' plotting code\",\n"
	"    \"memory_levels[0].write_gb_per_s\": \"secondary summary; default of the authors' plotting code\",\n"
	"    \"clock_ghz\": \"secondary summary of the Mambalaya paper\",\n"
	"    \"array1d.cycles.exp\": \"method from MARCA (biased-exponent decomposition plus a shift); the count is an assumption\",\n"
	"    \"array1d.cycles.silu\": \"method from MARCA (range detection and a piecewise approximation); the count is an assumption\"\n"
	"  },\n"
	"  \"assumptions\": [\n"
	"    \"array2d.cores: one array\",\n"
	"    \"array2d.drain_cycles: an output-stationary tile drains one row per cycle (rows cycles), overlapped with the next tile's accumulation\",\n"
	"    \"array1d.lanes: in 1D mode every one of the 64K PEs is an independent lane (the reduction network bypassed, as in MARCA), fed at full rate by the buffer\",\n"
	"    \"array1d.cycles: per-element costs of the functions on a PE (exp 4, log 4, sqrt 4, rsqrt 4, sigmoid 3, silu 4, softplus 9 = exp + add + log, tanh 4, recip 4, div 5 = recip + mul, others 1; a multiply feeding an add is one MAC)\",\n"
	"    \"array1d.cycles.read: a lane reads one operand value per cycle from the buffer while it computes; unlike the 2D array, 1D lanes do not share operands\",\n"
	"    \"switch_cycles: the array drains (rows cycles) before changing modes\",\n"
	"    \"memory_levels[1].bytes: not published; 16 MiB, FuseMax's global buffer\",\n"
	"    \"memory_levels[1].read_gb_per_s: not published; two values per 1D lane per cycle (65536 x 2 x 2 bytes x 1.75 GHz), so that the buffer never limits an array that reads one operand per cycle (array1d.cycles.read), as the model without levels assumed\",\n"
	"    \"memory_levels[1].write_gb_per_s: not published; two values per lane per cycle (65536 x 2 x 2 bytes x 1.75 GHz), as read_gb_per_s\",\n"
	"    \"memory_levels[1].tile_overhead_cycles: not published; 0, DMA set-up and configuration overlap with the previous tile\",\n"
	"    \"memory_levels[2].bytes: not published; 32 bytes of registers per PE (65536 x 32): 16 accumulators of 2-byte values\",\n"
	"    \"memory_levels[2].read_gb_per_s: not published; four values per PE per cycle (65536 x 4 x 2 bytes x 1.75 GHz): a MAC's two operands with room for its result's port\",\n"
	"    \"memory_levels[2].write_gb_per_s: not published; two values per PE per cycle (65536 x 2 x 2 bytes x 1.75 GHz)\",\n"
	"    \"memory_levels[2].tile_overhead_cycles: not published; 0, a PE tile's configuration overlaps with the previous one (drain is array2d.drain_cycles)\",\n"
	"    \"bytes_per_value: not published; 16-bit values as in FuseMax\",\n"
	"    \"double_buffer: streamed tiles are double-buffered so that transfers overlap compute\"\n"
	"  ]\n"
	"}\n";

static const char marca_geens_json[] =
	"{\n"
	"  \"name\": \"marca-geens\",\n"
	"  \"description\": \"MARCA (Li et al., arXiv 2409.11440) as modelled by the fine-grained fusion paper (Geens, Symons, Verhelst, arXiv 2504.17333): 32 cores of 16x16 PEs, 24 MB SRAM, 256 GB/s DRAM, 1 GHz\",\n"
	"  \"array2d\": {\"rows\": 16, \"cols\": 16, \"cores\": 32, \"drain_cycles\": 16},\n"
	"  \"array1d\": {\"lanes\": 8192, \"cycles\": {\"exp\": 4, \"log\": 4, \"sqrt\": 4, \"rsqrt\": 4, \"sigmoid\": 3, \"silu\": 4, \"softplus\": 9, \"tanh\": 4, \"relu\": 1, \"abs\": 1, \"neg\": 1, \"recip\": 4, \"square\": 1, \"add\": 1, \"sub\": 1, \"mul\": 1, \"div\": 5, \"max\": 1, \"min\": 1, \"mac\": 1, \"copy\": 1, \"read\": 1}},\n"
	"  \"concurrent\": false,\n"
	"  \"switch_cycles\": 16,\n"
	"  \"memory_levels\": [\n"
	"    {\"name\": \"DRAM\", \"read_gb_per_s\": 256, \"write_gb_per_s\": 256},\n"
	"    {\"name\": \"SRAM\", \"bytes\": 25165824, \"read_gb_per_s\": 32768, \"write_gb_per_s\": 32768, \"tile_overhead_cycles\": 0},\n"
	"    {\"name\": \"PE\", \"bytes\": 262144, \"read_gb_per_s\": 65536, \"write_gb_per_s\": 32768, \"tile_overhead_cycles\": 0}\n"
	"  ],\n"
	"  \"clock_ghz\": 1,\n"
	"  \"bytes_per_value\": 2,\n"
	"  \"double_buffer\": true,\n"
	"  \"sources\": {\n"
	"    \"array2d.rows\": \"Geens et al.'s MARCA model: cores of 16 x 16 PEs\",\n"
	"    \"array2d.cols\": \"Geens et al.'s MARCA model: cores of 16 x 16 PEs\",\n"
	"    \"array2d.cores\": \"Geens et al.'s MARCA model: 32 cores\",\n"
	"    \"concurrent\": \"MARCA: the same PEs do matrix and elementwise work (the reduction tree is bypassed)\",\n"
	"    \"memory_levels[1].bytes\": \"Geens et al.'s MARCA model: 24 MB SRAM (read as 24 MiB)\",\n"
	"    \"memory_levels[0].read_gb_per_s\": \"Geens et al.'s MARCA model: 256 GB/s\",\n"
	"    \"memory_levels[0].write_gb_per_s\": \"Geens et al.'s MARCA model: 256 GB/s\",\n"
	"    \"clock_ghz\": \"Geens et al.'s MARCA model: 1 GHz\",\n"
	"    \"array1d.cycles.exp\": \"MARCA: biased-exponent decomposition plus a shift; the count is an assumption\",\n"
	"    \"array1d.cycles.silu\": \"MARCA: range detection and a piecewise approximation; the count is an assumption\"\n"
	"  },\n"
	"  \"assumptions\": [\n"
	"    \"array2d.drain_cycles: an output tile drains one row per cycle (rows cycles)\",\n"
	"    \"array1d.lanes: in elementwise mode every PE is a lane (8192 = 32 x 16 x 16)\",\n"
	"    \"array1d.cycles: the same per-element costs as the mambalaya target\",\n"
	"    \"switch_cycles: a core drains (rows cycles) before changing modes\",\n"
	"    \"bytes_per_value: 16-bit values\",\n"
	"    \"memory_levels[1].read_gb_per_s: two values per lane per cycle (8192 x 2 x 2 bytes x 1 GHz), as for the mambalaya target\",\n"
	"    \"memory_levels[1].write_gb_per_s: two values per lane per cycle (8192 x 2 x 2 bytes x 1 GHz)\",\n"
	"    \"memory_levels[1].tile_overhead_cycles: 0, as for the mambalaya target\",\n"
	"    \"memory_levels[2].bytes: 32 bytes of registers per PE (8192 x 32), as for the mambalaya target\",\n"
	"    \"memory_levels[2].read_gb_per_s: four values per PE per cycle (8192 x 4 x 2 bytes x 1 GHz), as for the mambalaya target\",\n"
	"    \"memory_levels[2].write_gb_per_s: two values per PE per cycle (8192 x 2 x 2 bytes x 1 GHz)\",\n"
	"    \"memory_levels[2].tile_overhead_cycles: 0, as for the mambalaya target\",\n"
	"    \"double_buffer: streamed tiles are double-buffered\"\n"
	"  ]\n"
	"}\n";

const char *const target_builtin_names[] = {"mambalaya", "marca-geens", NULL};

static const char *const builtin_texts[] = {mambalaya_json, marca_geens_json};

void target_free(target *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->description);
	free(t->runtime);
	for (int i = 0; i < t->nassumptions; i++)
		free(t->assumptions[i]);
	free(t->assumptions);
	for (int i = 0; i < t->nsources; i++) {
		free(t->source_fields[i]);
		free(t->source_texts[i]);
	}
	free(t->source_fields);
	free(t->source_texts);
	free(t);
}

/* ---- JSON checking ------------------------------------------------------ */

/* A number that is an integer in [lo, 2^53]. */
static int get_int(const cJSON *o, const char *key, const char *field,
		   int required, int64_t lo, int64_t *out, char *err,
		   size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	const char *what = lo > 0 ? "a positive integer" : "a non-negative integer";
	if (!v) {
		if (!required)
			return 0;
		jfield_error(err, errlen, field, what, NULL);
		return -1;
	}
	double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (!cJSON_IsNumber(v) || d != floor(d) || d < (double)lo ||
	    d > 9007199254740992.0) {
		jfield_error(err, errlen, field, what, v);
		return -1;
	}
	*out = (int64_t)d;
	return 0;
}

/* A finite number > 0 (positive) or >= 0. */
static int get_num(const cJSON *o, const char *key, const char *field,
		   int required, int positive, double *out, char *err,
		   size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	const char *what = positive ? "a positive number" : "a non-negative number";
	if (!v) {
		if (!required)
			return 0;
		jfield_error(err, errlen, field, what, NULL);
		return -1;
	}
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
	    (positive ? v->valuedouble <= 0 : v->valuedouble < 0)) {
		jfield_error(err, errlen, field, what, v);
		return -1;
	}
	*out = v->valuedouble;
	return 0;
}

static int get_bool(const cJSON *o, const char *key, const char *field,
		    int *out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v)
		return 0;
	if (!cJSON_IsBool(v)) {
		jfield_error(err, errlen, field, "true or false", v);
		return -1;
	}
	*out = cJSON_IsTrue(v);
	return 0;
}

static int get_object(const cJSON *o, const char *key, int required,
		      const cJSON **out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	*out = NULL;
	if (!v) {
		if (!required)
			return 0;
		jfield_error(err, errlen, key, "an object", NULL);
		return -1;
	}
	if (!cJSON_IsObject(v)) {
		jfield_error(err, errlen, key, "an object", v);
		return -1;
	}
	*out = v;
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int read_docs(target *t, const cJSON *j, char *err, size_t errlen)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "assumptions");
	if (a) {
		if (!cJSON_IsArray(a)) {
			jfield_error(err, errlen, "assumptions", "an array of strings", a);
			return -1;
		}
		int n = cJSON_GetArraySize(a);
		t->assumptions = calloc((size_t)(n ? n : 1), sizeof(char *));
		if (!t->assumptions)
			goto oom;
		int i = 0;
		for (const cJSON *it = a->child; it; it = it->next, i++) {
			if (!cJSON_IsString(it)) {
				char f[64];
				snprintf(f, sizeof(f), "assumptions[%d]", i);
				jfield_error(err, errlen, f, "a string", it);
				return -1;
			}
			if (!(t->assumptions[t->nassumptions++] = strdup(it->valuestring)))
				goto oom;
		}
	}
	const cJSON *s = NULL;
	if (get_object(j, "sources", 0, &s, err, errlen) < 0)
		return -1;
	if (s) {
		int n = cJSON_GetArraySize(s);
		t->source_fields = calloc((size_t)(n ? n : 1), sizeof(char *));
		t->source_texts = calloc((size_t)(n ? n : 1), sizeof(char *));
		if (!t->source_fields || !t->source_texts)
			goto oom;
		for (const cJSON *it = s->child; it; it = it->next) {
			if (!cJSON_IsString(it)) {
				char f[256];
				snprintf(f, sizeof(f), "sources.%s", it->string);
				jfield_error(err, errlen, f, "a string", it);
				return -1;
			}
			t->source_fields[t->nsources] = strdup(it->string);
			t->source_texts[t->nsources] = strdup(it->valuestring);
			if (!t->source_fields[t->nsources++] || !t->source_texts[t->nsources - 1])
				goto oom;
		}
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int read_cycles(target *t, const cJSON *c1, char *err, size_t errlen)
{
	const char *keys[TARGET_NOPS + 1];
	for (int op = 0; op < TARGET_NOPS; op++)
		keys[op] = target_op_name(op);
	keys[TARGET_NOPS] = NULL;
	for (int op = 0; op < TARGET_NOPS; op++)
		for (size_t k = 0; k < sizeof(default_costs) / sizeof(default_costs[0]); k++)
			if (strcmp(default_costs[k].name, keys[op]) == 0)
				t->op_cycles[op] = default_costs[k].cycles;
	const cJSON *cy = NULL;
	if (get_object(c1, "cycles", 0, &cy, err, errlen) < 0) {
		/* Re-word the field name with its full path. */
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(c1, "cycles");
		jfield_error(err, errlen, "array1d.cycles", "an object", v);
		return -1;
	}
	if (!cy)
		return 0;
	if (jfield_check_keys(cy, "array1d.cycles", keys, err, errlen) < 0)
		return -1;
	for (int op = 0; op < TARGET_NOPS; op++) {
		char f[64];
		snprintf(f, sizeof(f), "array1d.cycles.%s", keys[op]);
		if (get_num(cy, keys[op], f, 0, 1, &t->op_cycles[op], err, errlen) < 0)
			return -1;
	}
	return 0;
}

static void default_levels(target *t);

/* ---- CPU targets (docs/target.md, "CPU targets") ------------------------ */

/* Rates of the operations, 10^9 elements per second with every thread,
 * when a CPU target does not give one: documented defaults of the order
 * of a two-core AVX-512 machine (docs/target.md), used by calibrate when
 * it cannot measure. */
static const struct {
	const char *name;
	double gelem;
} cpu_default_rates[] = {
	{"exp", 3},   {"log", 2},   {"sqrt", 4},  {"rsqrt", 4}, {"sigmoid", 2},
	{"silu", 2},  {"softplus", 1.5}, {"tanh", 2}, {"relu", 8}, {"abs", 8},
	{"neg", 8},   {"recip", 4}, {"square", 8}, {"add", 8},  {"sub", 8},
	{"mul", 8},   {"div", 4},   {"max", 8},   {"min", 8},   {"mac", 8},
	{"copy", 8},  {"read", 16},
};

void target_cpu_defaults(target_cpu *cpu)
{
	static const target_cpu d = {
		.threads = 1,
		.simd_bytes = 16,
		.ncaches = 2,
		.caches = {{1, 32768, 1}, {2, 262144, 1}},
		.gemm_gflops = 50,
		.gemm_half_dim = 32,
		.call_ns = 1000,
		.strided_gelem = 0.5,
	};
	*cpu = d;
	for (int op = 0; op < TARGET_NOPS; op++)
		for (size_t k = 0; k < sizeof(cpu_default_rates) / sizeof(cpu_default_rates[0]); k++)
			if (strcmp(cpu_default_rates[k].name, target_op_name(op)) == 0)
				cpu->op_gelem[op] = cpu_default_rates[k].gelem;
}

/* Where x falls among n increasing sides, in the log: between sides[*i]
 * and sides[*i + 1] at weight *w of the way (clamped at the edges). */
static void grid_pos(const double *sides, int n, double x, int *i, double *w)
{
	if (x <= sides[0]) {
		*i = 0;
		*w = 0;
		return;
	}
	if (x >= sides[n - 1]) {
		*i = n - 2;
		*w = 1;
		return;
	}
	int j = 0;
	while (x > sides[j + 1])
		j++;
	*i = j;
	*w = log(x / sides[j]) / log(sides[j + 1] / sides[j]);
}

double target_gemm_gflops(const target_cpu *cpu, double m, double n, double k)
{
	int ns = cpu->gemm_nsides;
	if (ns < 2) {
		double h = cpu->gemm_half_dim;
		return cpu->gemm_gflops * m / (m + h) * n / (n + h) * k / (k + h);
	}
	double d[3] = {m, n, k}, w[3];
	int ix[3];
	for (int q = 0; q < 3; q++)
		grid_pos(cpu->gemm_sides, ns, d[q], &ix[q], &w[q]);
	/* Trilinear in the log of the rate: a rate that halves from one side
	 * to the next halves geometrically between them. */
	double lr = 0;
	for (int c = 0; c < 8; c++) {
		double wt = 1;
		int at[3];
		for (int q = 0; q < 3; q++) {
			int hi = (c >> q) & 1;
			wt *= hi ? w[q] : 1 - w[q];
			at[q] = ix[q] + hi;
		}
		if (wt > 0)
			lr += wt * log(cpu->gemm_rate[(at[0] * ns + at[1]) * ns + at[2]]);
	}
	return exp(lr);
}

int target_cache_nests(const target_cache *prev, const target_cache *c)
{
	return c->level > prev->level && c->bytes * c->shared_by >= prev->bytes * prev->shared_by;
}

static int read_cache(const cJSON *c, int i, target_cache *out, char *err, size_t errlen)
{
	static const char *const keys[] = {"level", "bytes", "shared_by", NULL};
	char pre[64], f[96];
	snprintf(pre, sizeof(pre), "cpu.caches[%d]", i);
	if (!cJSON_IsObject(c)) {
		jfield_error(err, errlen, pre, "an object", c);
		return -1;
	}
	if (jfield_check_keys(c, pre, keys, err, errlen) < 0)
		return -1;
	out->shared_by = 1;
	snprintf(f, sizeof(f), "%s.level", pre);
	if (get_int(c, "level", f, 1, 1, &out->level, err, errlen) < 0)
		return -1;
	snprintf(f, sizeof(f), "%s.bytes", pre);
	if (get_int(c, "bytes", f, 1, 1, &out->bytes, err, errlen) < 0)
		return -1;
	snprintf(f, sizeof(f), "%s.shared_by", pre);
	return get_int(c, "shared_by", f, 0, 1, &out->shared_by, err, errlen);
}

static int read_caches(target_cpu *cpu, const cJSON *o, char *err, size_t errlen)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "caches");
	if (!a) {
		jfield_error(err, errlen, "cpu.caches", "an array of caches", NULL);
		return -1;
	}
	int n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
	if (n < 1 || n > TARGET_MAX_CACHES) {
		char what[64];
		snprintf(what, sizeof(what), "an array of 1 to %d caches", TARGET_MAX_CACHES);
		jfield_error(err, errlen, "cpu.caches", what, a);
		return -1;
	}
	cpu->ncaches = 0;
	for (const cJSON *c = a->child; c; c = c->next) {
		int i = cpu->ncaches;
		if (read_cache(c, i, &cpu->caches[i], err, errlen) < 0)
			return -1;
		if (i && !target_cache_nests(&cpu->caches[i - 1], &cpu->caches[i])) {
			char f[64];
			snprintf(f, sizeof(f), "cpu.caches[%d]", i);
			jfield_error(err, errlen, f,
				    "a deeper level holding at least as much as the one before it", c);
			return -1;
		}
		cpu->ncaches++;
	}
	return 0;
}

int target_read_gemm_grid(target_cpu *cpu, const cJSON *g, char *err, size_t errlen)
{
	static const char *const keys[] = {"sides", "gflops", NULL};
	if (!g)
		return 0;
	if (!cJSON_IsObject(g)) {
		jfield_error(err, errlen, "cpu.gemm_grid", "an object", g);
		return -1;
	}
	if (jfield_check_keys(g, "cpu.gemm_grid", keys, err, errlen) < 0)
		return -1;
	const cJSON *sd = cJSON_GetObjectItemCaseSensitive(g, "sides");
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(g, "gflops");
	char what[96], f[64];
	snprintf(what, sizeof(what), "an array of 2 to %d increasing positive integers",
		 TARGET_GEMM_MAX_SIDES);
	int ns = cJSON_IsArray(sd) ? cJSON_GetArraySize(sd) : 0;
	if (ns < 2 || ns > TARGET_GEMM_MAX_SIDES) {
		jfield_error(err, errlen, "cpu.gemm_grid.sides", what, sd);
		return -1;
	}
	for (int i = 0; i < ns; i++) {
		const cJSON *v = cJSON_GetArrayItem(sd, i);
		double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
		if (!(x >= 1) || x != floor(x) || x > 1e9 || (i > 0 && x <= cpu->gemm_sides[i - 1])) {
			snprintf(f, sizeof(f), "cpu.gemm_grid.sides[%d]", i);
			jfield_error(err, errlen, f,
				     i ? "a positive integer larger than the side before it"
				       : "a positive integer",
				     v);
			return -1;
		}
		cpu->gemm_sides[i] = x;
	}
	int nr = ns * ns * ns;
	if (!cJSON_IsArray(rt) || cJSON_GetArraySize(rt) != nr) {
		snprintf(what, sizeof(what), "an array of %d positive numbers (one per shape: %d sides cubed)",
			 nr, ns);
		jfield_error(err, errlen, "cpu.gemm_grid.gflops", what, rt);
		return -1;
	}
	for (int i = 0; i < nr; i++) {
		const cJSON *v = cJSON_GetArrayItem(rt, i);
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble <= 0) {
			snprintf(f, sizeof(f), "cpu.gemm_grid.gflops[%d]", i);
			jfield_error(err, errlen, f, "a positive number", v);
			return -1;
		}
		cpu->gemm_rate[i] = v->valuedouble;
	}
	cpu->gemm_nsides = ns;
	return 0;
}

static int read_rates(target_cpu *cpu, const cJSON *o, char *err, size_t errlen)
{
	const char *keys[TARGET_NOPS + 1];
	for (int op = 0; op < TARGET_NOPS; op++)
		keys[op] = target_op_name(op);
	keys[TARGET_NOPS] = NULL;
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "gelem_per_s");
	if (!r)
		return 0;
	if (!cJSON_IsObject(r)) {
		jfield_error(err, errlen, "cpu.gelem_per_s", "an object", r);
		return -1;
	}
	if (jfield_check_keys(r, "cpu.gelem_per_s", keys, err, errlen) < 0)
		return -1;
	for (int op = 0; op < TARGET_NOPS; op++) {
		char f[64];
		snprintf(f, sizeof(f), "cpu.gelem_per_s.%s", keys[op]);
		if (get_num(r, keys[op], f, 0, 1, &cpu->op_gelem[op], err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* Splits the probe's loop rates (docs/cost-model.md, "Loops on a CPU"):
 * a loop of one cheap operation (add) is bound by its loads and stores,
 * two operands and one result, each access a third of it; an operation
 * whose loop runs well below that rate is bound by its own work, which
 * takes the whole loop's time; a cheap one costs a multiply-add in
 * registers. */
#define CPU_BOUND_BY_WORK 1.5
static void cpu_loop_costs(target *t)
{
	memset(t->alu_cycles, 0, sizeof(t->alu_cycles));
	t->access_cycles = 0;
	if (t->cpu.register_gelem <= 0)
		return;
	double loop = t->op_cycles[TARGET_OP_BINOP0 + EIN_OP_ADD];
	double reg = 1.0 / t->cpu.register_gelem;
	t->access_cycles = loop / 3;
	for (int op = 0; op < TARGET_NOPS; op++) {
		double c = t->op_cycles[op];
		t->alu_cycles[op] = c > CPU_BOUND_BY_WORK * loop ? c : reg;
	}
	t->alu_cycles[TARGET_OP_COPY] = 0;
	t->alu_cycles[TARGET_OP_READ] = t->op_cycles[TARGET_OP_READ];
}

/* The accelerator fields the cost model reads, from the CPU's: one cycle
 * is a nanosecond; the "2D array" is the BLAS (cost.c prices a product
 * by its shape from gemm_gflops), the "1D array" one lane whose cost per
 * element is the time of an element with every thread at work; the two
 * never overlap; the buffer is the outermost cache (what all threads hold
 * together); values are floats. */
static void cpu_derive(target *t)
{
	const target_cpu *cpu = &t->cpu;
	t->rows = t->cols = t->cores = 1;
	t->drain_cycles = 0;
	t->lanes = 1;
	for (int op = 0; op < TARGET_NOPS; op++)
		t->op_cycles[op] = 1.0 / cpu->op_gelem[op];
	cpu_loop_costs(t);
	t->concurrent = 0;
	t->switch_cycles = 0;
	t->clock_ghz = 1;
	t->bytes_per_value = 4;
	t->double_buffer = 0;
	/* One thread alone never streams faster than all of them. */
	if (cpu->thread_dram_gb_per_s <= 0 || cpu->thread_dram_gb_per_s > t->dram_gb_per_s)
		t->cpu.thread_dram_gb_per_s =
			cpu->thread_dram_gb_per_s > 0 ? t->dram_gb_per_s
						       : t->dram_gb_per_s / (double)cpu->threads;
	if (t->buffer_bytes == 0) {
		const target_cache *c = &cpu->caches[cpu->ncaches - 1];
		int64_t inst = (cpu->threads + c->shared_by - 1) / c->shared_by;
		t->buffer_bytes = c->bytes * inst;
	}
}

static int read_cpu(target *t, const cJSON *j, char *err, size_t errlen)
{
	static const char *const keys[] = {"threads", "simd_bytes", "caches", "gemm_gflops",
					   "gemm_half_dim", "call_ns", "gemm_grid", "gelem_per_s",
					   "strided_gelem_per_s", "thread_dram_gb_per_s",
					   "dram_write_gb_per_s", "cache_gb_per_s", "fork_ns",
					   "register_gelem_per_s", NULL};
	const cJSON *o;
	target_cpu *cpu = &t->cpu;
	target_cpu_defaults(cpu);
	if (get_object(j, "cpu", 1, &o, err, errlen) < 0 ||
	    jfield_check_keys(o, "cpu", keys, err, errlen) < 0 ||
	    get_int(o, "threads", "cpu.threads", 1, 1, &cpu->threads, err, errlen) < 0 ||
	    get_int(o, "simd_bytes", "cpu.simd_bytes", 0, 1, &cpu->simd_bytes, err, errlen) < 0 ||
	    read_caches(cpu, o, err, errlen) < 0 ||
	    get_num(o, "gemm_gflops", "cpu.gemm_gflops", 1, 1, &cpu->gemm_gflops, err,
		    errlen) < 0 ||
	    get_num(o, "gemm_half_dim", "cpu.gemm_half_dim", 0, 0, &cpu->gemm_half_dim, err,
		    errlen) < 0 ||
	    get_num(o, "call_ns", "cpu.call_ns", 0, 0, &cpu->call_ns, err, errlen) < 0 ||
	    target_read_gemm_grid(cpu, cJSON_GetObjectItemCaseSensitive(o, "gemm_grid"), err,
				  errlen) < 0 ||
	    read_rates(cpu, o, err, errlen) < 0 ||
	    get_num(o, "strided_gelem_per_s", "cpu.strided_gelem_per_s", 0, 1,
		    &cpu->strided_gelem, err, errlen) < 0 ||
	    get_num(o, "thread_dram_gb_per_s", "cpu.thread_dram_gb_per_s", 0, 1,
		    &cpu->thread_dram_gb_per_s, err, errlen) < 0 ||
	    get_num(o, "dram_write_gb_per_s", "cpu.dram_write_gb_per_s", 0, 1,
		    &cpu->dram_write_gb_per_s, err, errlen) < 0 ||
	    get_num(o, "cache_gb_per_s", "cpu.cache_gb_per_s", 0, 1, &cpu->cache_gb_per_s, err,
		    errlen) < 0 ||
	    get_num(o, "fork_ns", "cpu.fork_ns", 0, 0, &cpu->fork_ns, err, errlen) < 0 ||
	    get_num(o, "register_gelem_per_s", "cpu.register_gelem_per_s", 0, 1,
		    &cpu->register_gelem, err, errlen) < 0)
		return -1;
	if (get_int(j, "buffer_bytes", "buffer_bytes", 0, 1, &t->buffer_bytes, err, errlen) < 0 ||
	    get_num(j, "dram_gb_per_s", "dram_gb_per_s", 1, 1, &t->dram_gb_per_s, err,
		    errlen) < 0)
		return -1;
	cpu_derive(t);
	default_levels(t);
	return 0;
}

/* ---- Memory levels (docs/target.md, "Memory levels") ------------------- */

/* The hierarchy of a target without memory_levels: DRAM at its bandwidth;
 * the buffer keeps its capacity in levels[1] but is not a modelled level. */
static void default_levels(target *t)
{
	memset(t->levels, 0, sizeof(t->levels));
	t->nlevels = 1; /* the buffer is not modelled: only its bytes */
	t->declared_levels = 0;
	snprintf(t->levels[0].name, TARGET_MAX_LEVEL_NAME, "DRAM");
	t->levels[0].read_gb_per_s = t->levels[0].write_gb_per_s = t->dram_gb_per_s;
	snprintf(t->levels[1].name, TARGET_MAX_LEVEL_NAME, "buffer");
	t->levels[1].bytes = t->buffer_bytes;
}

static int read_level(const cJSON *o, int i, target_level *lv, char *err, size_t errlen)
{
	static const char *const keys[] = {"name", "bytes", "read_gb_per_s", "write_gb_per_s",
					   "tile_overhead_cycles", NULL};
	static const char *const dram_keys[] = {"name", "bytes", "read_gb_per_s",
						"write_gb_per_s", NULL};
	char pre[64], f[96];
	snprintf(pre, sizeof(pre), "memory_levels[%d]", i);
	if (!cJSON_IsObject(o)) {
		jfield_error(err, errlen, pre, "an object", o);
		return -1;
	}
	if (jfield_check_keys(o, pre, i ? keys : dram_keys, err, errlen) < 0)
		return -1;
	const cJSON *nm = cJSON_GetObjectItemCaseSensitive(o, "name");
	snprintf(f, sizeof(f), "%s.name", pre);
	if (!cJSON_IsString(nm) || !nm->valuestring[0] ||
	    strlen(nm->valuestring) >= TARGET_MAX_LEVEL_NAME ||
	    strspn(nm->valuestring, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				    "0123456789_-") != strlen(nm->valuestring)) {
		jfield_error(err, errlen, f, "a name of 1 to 31 letters, digits, '_' or '-'", nm);
		return -1;
	}
	snprintf(lv->name, sizeof(lv->name), "%s", nm->valuestring);
	snprintf(f, sizeof(f), "%s.bytes", pre);
	if (get_int(o, "bytes", f, i > 0, 1, &lv->bytes, err, errlen) < 0)
		return -1;
	snprintf(f, sizeof(f), "%s.read_gb_per_s", pre);
	if (get_num(o, "read_gb_per_s", f, 1, 1, &lv->read_gb_per_s, err, errlen) < 0)
		return -1;
	snprintf(f, sizeof(f), "%s.write_gb_per_s", pre);
	if (get_num(o, "write_gb_per_s", f, 1, 1, &lv->write_gb_per_s, err, errlen) < 0)
		return -1;
	snprintf(f, sizeof(f), "%s.tile_overhead_cycles", pre);
	return get_num(o, "tile_overhead_cycles", f, 0, 0, &lv->tile_overhead_cycles, err,
		       errlen);
}

/* memory_levels, from DRAM inwards; buffer_bytes and dram_gb_per_s, when
 * given too, must agree with it.  have_buffer, have_dram: they were. */
static int read_levels(target *t, const cJSON *j, int have_buffer, int have_dram, char *err,
		       size_t errlen)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "memory_levels");
	if (!a) {
		if (!have_buffer || !have_dram) {
			jfield_error(err, errlen, have_buffer ? "dram_gb_per_s" : "buffer_bytes",
				    have_buffer ? "a positive number" : "a positive integer", NULL);
			return -1;
		}
		default_levels(t);
		return 0;
	}
	int n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
	if (n < 2 || n > TARGET_MAX_LEVELS) {
		jfield_error(err, errlen, "memory_levels",
			    "an array of 2 or 3 levels (DRAM, the global buffer, PE-local storage)",
			    a);
		return -1;
	}
	memset(t->levels, 0, sizeof(t->levels));
	int i = 0;
	for (const cJSON *o = a->child; o; o = o->next, i++) {
		target_level *lv = &t->levels[i];
		if (read_level(o, i, lv, err, errlen) < 0)
			return -1;
		for (int k = 0; k < i; k++)
			if (strcmp(t->levels[k].name, lv->name) == 0) {
				char f[64];
				snprintf(f, sizeof(f), "memory_levels[%d].name", i);
				jfield_error(err, errlen, f, "a name no other level has",
					    cJSON_GetObjectItemCaseSensitive(o, "name"));
				return -1;
			}
		/* Inner levels hold no more than the ones around them. */
		if (i > 0 && t->levels[i - 1].bytes > 0 && lv->bytes > t->levels[i - 1].bytes) {
			char f[64], what[160];
			snprintf(f, sizeof(f), "memory_levels[%d].bytes", i);
			snprintf(what, sizeof(what), "at most %" PRId64 " (memory_levels[%d].bytes: an "
				 "inner level holds no more than the one around it)",
				 t->levels[i - 1].bytes, i - 1);
			jfield_error(err, errlen, f, what, cJSON_GetObjectItemCaseSensitive(o, "bytes"));
			return -1;
		}
	}
	t->nlevels = n;
	t->declared_levels = 1;
	if (have_buffer && t->buffer_bytes != t->levels[1].bytes) {
		char what[128];
		snprintf(what, sizeof(what), "%" PRId64 " as memory_levels[1].bytes says, or "
			 "left out", t->levels[1].bytes);
		jfield_error(err, errlen, "buffer_bytes", what,
			    cJSON_GetObjectItemCaseSensitive(j, "buffer_bytes"));
		return -1;
	}
	if (have_dram && t->dram_gb_per_s != t->levels[0].read_gb_per_s) {
		char what[128];
		snprintf(what, sizeof(what), "%g as memory_levels[0].read_gb_per_s says, or left out",
			 t->levels[0].read_gb_per_s);
		jfield_error(err, errlen, "dram_gb_per_s", what,
			    cJSON_GetObjectItemCaseSensitive(j, "dram_gb_per_s"));
		return -1;
	}
	t->buffer_bytes = t->levels[1].bytes;
	t->dram_gb_per_s = t->levels[0].read_gb_per_s;
	return 0;
}

/* "kind": "accelerator" (the default) or "cpu". */
static int read_kind(target *t, const cJSON *j, char *err, size_t errlen)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "kind");
	t->kind = TARGET_ACCEL;
	if (!k)
		return 0;
	if (cJSON_IsString(k) && strcmp(k->valuestring, "cpu") == 0)
		t->kind = TARGET_CPU;
	else if (!cJSON_IsString(k) || strcmp(k->valuestring, "accelerator") != 0) {
		jfield_error(err, errlen, "kind", "\"accelerator\" or \"cpu\"", k);
		return -1;
	}
	return 0;
}

static int read_accel(target *t, const cJSON *j, char *err, size_t errlen)
{
	static const char *const a2_keys[] = {"rows", "cols", "cores",
					      "drain_cycles", NULL};
	static const char *const a1_keys[] = {"lanes", "cycles", NULL};
	const cJSON *a2, *a1;
	if (get_object(j, "array2d", 1, &a2, err, errlen) < 0 ||
	    jfield_check_keys(a2, "array2d", a2_keys, err, errlen) < 0 ||
	    get_int(a2, "rows", "array2d.rows", 1, 1, &t->rows, err, errlen) < 0 ||
	    get_int(a2, "cols", "array2d.cols", 1, 1, &t->cols, err, errlen) < 0)
		return -1;
	t->cores = 1;
	t->drain_cycles = t->rows;
	if (get_int(a2, "cores", "array2d.cores", 0, 1, &t->cores, err, errlen) < 0 ||
	    get_int(a2, "drain_cycles", "array2d.drain_cycles", 0, 0,
		    &t->drain_cycles, err, errlen) < 0)
		return -1;
	if (get_object(j, "array1d", 1, &a1, err, errlen) < 0 ||
	    jfield_check_keys(a1, "array1d", a1_keys, err, errlen) < 0 ||
	    get_int(a1, "lanes", "array1d.lanes", 1, 1, &t->lanes, err, errlen) < 0 ||
	    read_cycles(t, a1, err, errlen) < 0)
		return -1;
	t->double_buffer = 1;
	int64_t bpv = 0;
	if (get_bool(j, "concurrent", "concurrent", &t->concurrent, err, errlen) < 0 ||
	    get_num(j, "switch_cycles", "switch_cycles", 0, 0, &t->switch_cycles,
		    err, errlen) < 0 ||
	    get_int(j, "buffer_bytes", "buffer_bytes", 0, 1, &t->buffer_bytes, err,
		    errlen) < 0 ||
	    get_num(j, "dram_gb_per_s", "dram_gb_per_s", 0, 1, &t->dram_gb_per_s,
		    err, errlen) < 0 ||
	    read_levels(t, j, t->buffer_bytes > 0, t->dram_gb_per_s > 0, err, errlen) < 0 ||
	    get_num(j, "clock_ghz", "clock_ghz", 1, 1, &t->clock_ghz, err, errlen) < 0 ||
	    get_int(j, "bytes_per_value", "bytes_per_value", 1, 1, &bpv, err,
		    errlen) < 0 ||
	    get_bool(j, "double_buffer", "double_buffer", &t->double_buffer, err,
		     errlen) < 0)
		return -1;
	if (bpv > 64) {
		jfield_error(err, errlen, "bytes_per_value", "an integer from 1 to 64",
			    cJSON_GetObjectItemCaseSensitive(j, "bytes_per_value"));
		return -1;
	}
	t->bytes_per_value = (int)bpv;
	return 0;
}

target *target_from_json(const cJSON *j, char *err, size_t errlen)
{
	static const char *const top_keys[] = {
		"name", "description", "kind", "array2d", "array1d", "concurrent",
		"switch_cycles", "buffer_bytes", "dram_gb_per_s", "memory_levels", "clock_ghz",
		"bytes_per_value", "double_buffer", "sources", "assumptions", NULL};
	static const char *const cpu_keys[] = {
		"name", "description", "kind", "cpu", "buffer_bytes", "dram_gb_per_s",
		"runtime", "sources", "assumptions", NULL};
	target *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!cJSON_IsObject(j)) {
		snprintf(err, errlen, "expected a JSON object at the top level");
		goto fail;
	}
	if (read_kind(t, j, err, errlen) < 0 ||
	    jfield_check_keys(j, "", t->kind == TARGET_CPU ? cpu_keys : top_keys, err, errlen) < 0)
		goto fail;
	const cJSON *nm = cJSON_GetObjectItemCaseSensitive(j, "name");
	if (!cJSON_IsString(nm) || !nm->valuestring[0]) {
		jfield_error(err, errlen, "name", "a non-empty string", nm);
		goto fail;
	}
	const cJSON *ds = cJSON_GetObjectItemCaseSensitive(j, "description");
	if (ds && !cJSON_IsString(ds)) {
		jfield_error(err, errlen, "description", "a string", ds);
		goto fail;
	}
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(j, "runtime");
	if (rt && (!cJSON_IsString(rt) || !rt->valuestring[0])) {
		jfield_error(err, errlen, "runtime", "a non-empty string", rt);
		goto fail;
	}
	t->name = strdup(nm->valuestring);
	t->description = dup_or_null(ds ? ds->valuestring : "");
	t->runtime = rt ? strdup(rt->valuestring) : NULL;
	if (!t->name || !t->description || (rt && !t->runtime)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((t->kind == TARGET_CPU ? read_cpu(t, j, err, errlen) : read_accel(t, j, err, errlen)) < 0)
		goto fail;
	if (read_docs(t, j, err, errlen) < 0)
		goto fail;
	return t;
fail:
	target_free(t);
	return NULL;
}

static target *from_text(const char *text, size_t len, char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!j) {
		int line, col;
		size_t off = end ? (size_t)(end - text) : 0;
		diag_line_col(text, off, &line, &col);
		snprintf(err, errlen, "%d:%d: invalid JSON", line, col);
		return NULL;
	}
	target *t = target_from_json(j, err, errlen);
	cJSON_Delete(j);
	return t;
}

target *target_builtin(const char *name)
{
	for (int i = 0; target_builtin_names[i]; i++)
		if (strcmp(name, target_builtin_names[i]) == 0) {
			char err[256];
			return from_text(builtin_texts[i], strlen(builtin_texts[i]), err,
					 sizeof(err));
		}
	return NULL;
}

target *target_load_file(const char *path, char *err, size_t errlen)
{
	/* The checker's file reader: size limit, NUL bytes, read errors. */
	char msg[512];
	diag_ctx *d = check_load_file(path, TARGET_MAX_FILE_BYTES, msg, sizeof(msg));
	if (!d) {
		size_t n = strlen(path);
		/* Its messages start with "PATH: ", which the caller prints. */
		snprintf(err, errlen, "%s",
			 strncmp(msg, path, n) == 0 && msg[n] == ':' ? msg + n + 2 : msg);
		return NULL;
	}
	size_t len;
	const char *text = diag_source(d, &len);
	target *t = from_text(text, len, err, errlen);
	diag_free(d);
	return t;
}

static void cpu_to_json(cJSON *j, const target *t)
{
	const target_cpu *cpu = &t->cpu;
	cJSON_AddStringToObject(j, "kind", "cpu");
	cJSON *o = cJSON_AddObjectToObject(j, "cpu");
	cJSON_AddNumberToObject(o, "threads", (double)cpu->threads);
	cJSON_AddNumberToObject(o, "simd_bytes", (double)cpu->simd_bytes);
	cJSON *cs = cJSON_AddArrayToObject(o, "caches");
	for (int i = 0; i < cpu->ncaches; i++) {
		cJSON *c = cJSON_CreateObject();
		cJSON_AddNumberToObject(c, "level", (double)cpu->caches[i].level);
		cJSON_AddNumberToObject(c, "bytes", (double)cpu->caches[i].bytes);
		cJSON_AddNumberToObject(c, "shared_by", (double)cpu->caches[i].shared_by);
		cJSON_AddItemToArray(cs, c);
	}
	cJSON_AddNumberToObject(o, "gemm_gflops", cpu->gemm_gflops);
	cJSON_AddNumberToObject(o, "gemm_half_dim", cpu->gemm_half_dim);
	cJSON_AddNumberToObject(o, "call_ns", cpu->call_ns);
	if (cpu->gemm_nsides >= 2) {
		cJSON *g = cJSON_AddObjectToObject(o, "gemm_grid");
		cJSON *sd = cJSON_AddArrayToObject(g, "sides"), *rt = cJSON_AddArrayToObject(g, "gflops");
		int ns = cpu->gemm_nsides;
		for (int i = 0; i < ns; i++)
			cJSON_AddItemToArray(sd, cJSON_CreateNumber(cpu->gemm_sides[i]));
		for (int i = 0; i < ns * ns * ns; i++)
			cJSON_AddItemToArray(rt, cJSON_CreateNumber(cpu->gemm_rate[i]));
	}
	cJSON *r = cJSON_AddObjectToObject(o, "gelem_per_s");
	for (int op = 0; op < TARGET_NOPS; op++)
		cJSON_AddNumberToObject(r, target_op_name(op), cpu->op_gelem[op]);
	cJSON_AddNumberToObject(o, "strided_gelem_per_s", cpu->strided_gelem);
	cJSON_AddNumberToObject(o, "thread_dram_gb_per_s", cpu->thread_dram_gb_per_s);
	if (cpu->dram_write_gb_per_s > 0)
		cJSON_AddNumberToObject(o, "dram_write_gb_per_s", cpu->dram_write_gb_per_s);
	if (cpu->cache_gb_per_s > 0)
		cJSON_AddNumberToObject(o, "cache_gb_per_s", cpu->cache_gb_per_s);
	if (cpu->register_gelem > 0)
		cJSON_AddNumberToObject(o, "register_gelem_per_s", cpu->register_gelem);
	if (cpu->fork_ns > 0)
		cJSON_AddNumberToObject(o, "fork_ns", cpu->fork_ns);
	cJSON_AddNumberToObject(j, "buffer_bytes", (double)t->buffer_bytes);
	cJSON_AddNumberToObject(j, "dram_gb_per_s", t->dram_gb_per_s);
}

static void accel_to_json(cJSON *j, const target *t)
{
	cJSON *a2 = cJSON_AddObjectToObject(j, "array2d");
	cJSON_AddNumberToObject(a2, "rows", (double)t->rows);
	cJSON_AddNumberToObject(a2, "cols", (double)t->cols);
	cJSON_AddNumberToObject(a2, "cores", (double)t->cores);
	cJSON_AddNumberToObject(a2, "drain_cycles", (double)t->drain_cycles);
	cJSON *a1 = cJSON_AddObjectToObject(j, "array1d");
	cJSON_AddNumberToObject(a1, "lanes", (double)t->lanes);
	cJSON *cy = cJSON_AddObjectToObject(a1, "cycles");
	for (int op = 0; op < TARGET_NOPS; op++)
		cJSON_AddNumberToObject(cy, target_op_name(op), t->op_cycles[op]);
	cJSON_AddBoolToObject(j, "concurrent", t->concurrent);
	cJSON_AddNumberToObject(j, "switch_cycles", t->switch_cycles);
	cJSON_AddNumberToObject(j, "buffer_bytes", (double)t->buffer_bytes);
	cJSON_AddNumberToObject(j, "dram_gb_per_s", t->dram_gb_per_s);
	if (t->declared_levels) {
		cJSON *ls = cJSON_AddArrayToObject(j, "memory_levels");
		for (int i = 0; i < t->nlevels; i++) {
			const target_level *lv = &t->levels[i];
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", lv->name);
			if (i > 0)
				cJSON_AddNumberToObject(o, "bytes", (double)lv->bytes);
			cJSON_AddNumberToObject(o, "read_gb_per_s", lv->read_gb_per_s);
			cJSON_AddNumberToObject(o, "write_gb_per_s", lv->write_gb_per_s);
			if (i > 0)
				cJSON_AddNumberToObject(o, "tile_overhead_cycles",
							lv->tile_overhead_cycles);
			cJSON_AddItemToArray(ls, o);
		}
	}
	cJSON_AddNumberToObject(j, "clock_ghz", t->clock_ghz);
	cJSON_AddNumberToObject(j, "bytes_per_value", t->bytes_per_value);
	cJSON_AddBoolToObject(j, "double_buffer", t->double_buffer);
}

cJSON *target_to_json(const target *t)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "name", t->name);
	cJSON_AddStringToObject(j, "description", t->description ? t->description : "");
	if (t->runtime)
		cJSON_AddStringToObject(j, "runtime", t->runtime);
	if (t->kind == TARGET_CPU)
		cpu_to_json(j, t);
	else
		accel_to_json(j, t);
	cJSON *s = cJSON_AddObjectToObject(j, "sources");
	for (int i = 0; i < t->nsources; i++)
		cJSON_AddStringToObject(s, t->source_fields[i], t->source_texts[i]);
	cJSON *a = cJSON_AddArrayToObject(j, "assumptions");
	for (int i = 0; i < t->nassumptions; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(t->assumptions[i]));
	return j;
}

int target_is_builtin(const char *name)
{
	for (int i = 0; target_builtin_names[i]; i++)
		if (strcmp(name, target_builtin_names[i]) == 0)
			return 1;
	return 0;
}

target *target_resolve(const char *arch, char *err, size_t errlen, int *usage)
{
	*usage = 0;
	if (strcmp(arch, TARGET_HOST) == 0) {
		int measured;
		return calibrate_host(&measured, err, errlen);
	}
	if (target_is_builtin(arch)) {
		target *t = target_builtin(arch);
		if (!t)
			snprintf(err, errlen, "internal error: built-in target '%s' does not load",
				 arch);
		return t;
	}
	struct stat st;
	size_t n = strlen(arch);
	int looks_like_file = strchr(arch, '/') || (n > 5 && strcmp(arch + n - 5, ".json") == 0);
	if (!looks_like_file && stat(arch, &st) != 0) {
		char names[256];
		size_t w = (size_t)snprintf(names, sizeof(names), "%s", TARGET_HOST);
		const char *best = diag_edit_distance(arch, TARGET_HOST) < 3 ? TARGET_HOST : NULL;
		int bd = best ? diag_edit_distance(arch, TARGET_HOST) : 3;
		for (int i = 0; target_builtin_names[i]; i++) {
			if (w < sizeof(names))
				w += (size_t)snprintf(names + w, sizeof(names) - w, ", %s",
						      target_builtin_names[i]);
			int d = diag_edit_distance(arch, target_builtin_names[i]);
			if (d < bd) {
				bd = d;
				best = target_builtin_names[i];
			}
		}
		if (best)
			snprintf(err, errlen, "unknown target '%s' (did you mean '%s'? built-in "
					      "targets: %s; or give a JSON file)", arch, best, names);
		else
			snprintf(err, errlen, "unknown target '%s' (built-in targets: %s; or give "
					      "a JSON file)", arch, names);
		*usage = 1;
		return NULL;
	}
	char e[1024];
	target *t = target_load_file(arch, e, sizeof(e));
	if (!t) {
		/* Syntax errors come as "LINE:COL: message". */
		int line, col, off = 0;
		if (sscanf(e, "%d:%d: %n", &line, &col, &off) == 2 && off > 0)
			snprintf(err, errlen, "%s:%d:%d: error: %s", arch, line, col, e + off);
		else
			snprintf(err, errlen, "%s: error: %s", arch, e);
	}
	return t;
}
