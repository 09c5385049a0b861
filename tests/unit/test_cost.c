/* test_cost.c - the cost model on hand-computed cases: one GEMM, an
 * elementwise chain, the SSM group; the array fit of the shapes that fit
 * badly; targets from JSON.  Every expected number below is worked out in
 * the comment above it from the formulas of docs/cost-model.md, not read
 * off the program. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/deps.h"
#include "analysis/fusion.h"
#include "analysis/poly.h"
#include "front/check.h"
#include "mapping/cost.h"
#include "mapping/target.h"

typedef struct fixture {
	ein_cascade *c;
	isl_ctx *ctx;
	deps_graph *g;
	target *t;
	cost_model *m;
} fixture;

/* A small target: 128x128 array (drain 128), 1024 lanes, 1 GHz, 100 GB/s
 * (100 bytes per cycle), 1 MiB buffer, 2-byte values, no double
 * buffering, one array switching modes at no cost. */
static const char small_target[] =
	"{\"name\": \"small\", \"array2d\": {\"rows\": 128, \"cols\": 128},"
	" \"array1d\": {\"lanes\": 1024}, \"buffer_bytes\": 1048576,"
	" \"dram_gb_per_s\": 100, \"clock_ghz\": 1, \"bytes_per_value\": 2,"
	" \"double_buffer\": false}";

static target *parse_target(const char *text, char *err, size_t errlen)
{
	cJSON *j = cJSON_Parse(text);
	assert_non_null(j);
	target *t = target_from_json(j, err, errlen);
	cJSON_Delete(j);
	return t;
}

static void load(fixture *f, const char *src, const char *target_json)
{
	diag_ctx *d = diag_new("test.ein", src, strlen(src));
	assert_non_null(d);
	check_opts o = {0, NULL};
	f->c = check_source(d, &o);
	if (!f->c)
		diag_flush(d, stderr);
	diag_free(d);
	assert_non_null(f->c);
	f->ctx = poly_ctx_new();
	char err[256];
	f->g = deps_build(f->ctx, f->c, err, sizeof(err));
	assert_non_null(f->g);
	f->t = parse_target(target_json, err, sizeof(err));
	if (!f->t)
		fprintf(stderr, "target: %s\n", err);
	assert_non_null(f->t);
	f->m = cost_model_new(f->g, f->t, err, sizeof(err));
	assert_non_null(f->m);
}

static void unload(fixture *f)
{
	cost_model_free(f->m);
	target_free(f->t);
	deps_free(f->g);
	isl_ctx_free(f->ctx);
	ein_cascade_free(f->c);
}

/* A group from Einsum names and rank names (in loop order). */
static cost_group *group(fixture *f, const char *names, const char *ranks)
{
	char *members = calloc((size_t)f->c->neinsums, 1);
	char buf[256];
	int band[PLAN_MAX_BAND], nb = 0;
	snprintf(buf, sizeof(buf), "%s", names);
	for (char *p = strtok(buf, ","); p; p = strtok(NULL, ",")) {
		int e = ein_cascade_find_einsum(f->c, p);
		assert_true(e >= 0);
		members[e] = 1;
	}
	snprintf(buf, sizeof(buf), "%s", ranks);
	for (char *p = strtok(buf, ","); p; p = strtok(NULL, ",")) {
		band[nb] = deps_rank(f->g, p);
		assert_true(band[nb] >= 0);
		nb++;
	}
	char err[256];
	cost_group *cg = cost_group_new(f->m, members, nb, band, err, sizeof(err));
	if (!cg)
		fprintf(stderr, "group: %s\n", err);
	free(members);
	assert_non_null(cg);
	return cg;
}

static int tensor_slot(fixture *f, const cost_group *cg, const char *name)
{
	int t = ein_cascade_find_tensor(f->c, name);
	for (int i = 0; i < cost_group_ntensors(cg); i++)
		if (cost_group_tensor(cg, i) == t)
			return i;
	return -1;
}

#define assert_close(a, b) assert_true(fabs((double)(a) - (double)(b)) <= 1e-9 * (fabs((double)(b)) + 1))

/* ---- One GEMM ------------------------------------------------------------ */

static const char gemm_src[] =
	"param M = 512, K = 1024, N = 384\n"
	"input A[M, K]\n"
	"weight B[K, N]\n"
	"output C[M, N]\n"
	"C_{m,n} = A_{m,k} * B_{k,n}\n";

/* Band (m, n, k), tiles 128 x 128 x 1024: 4 x 3 x 1 = 12 tiles.
 * 2D: one 128x128 output tile per band tile, max(K = 1024, drain 128) =
 * 1024 cycles each: 12288 cycles, 512*384*1024 MACs at 100%.
 * 1D instead: a MAC and two operand reads per point: 2 cycles for 1024
 * points: 16.7M points per tile -> 32768 cycles per tile.  2D wins.
 * Traffic (elements): A is indexed by m and k; loop n (not indexing it)
 * is inside m, so at level 3 every n-tile refetches A (3 |A|), at level 2
 * the 128 x 1024 slice stays: |A| = 524288 with no more buffer.  B is
 * indexed by k and n; keeping it across m needs all of B (768 KiB), which
 * with A's 256 KiB and C's 32 KiB does not fit 1 MiB: B is fetched once
 * per m-tile, 4 |B| = 1572864.  C written once: 196608.
 * Total 2293760 elements = 4587520 bytes = 45875.2 cycles at 100 B/cycle;
 * latency = max(12288, 45875.2) + 12288 / 12 = 46899.2. */
static void test_gemm(void **state)
{
	(void)state;
	fixture f;
	load(&f, gemm_src, small_target);
	cost_group *cg = group(&f, "C", "m,n,k");
	cost_config cfg;
	cost_config_init(&cfg);
	cfg.tile[0] = 128;
	cfg.tile[1] = 128;
	cfg.tile[2] = 1024;
	cost_result *r = malloc(sizeof(*r));
	assert_int_equal(cost_eval(cg, &cfg, 1, r), 0);
	assert_true(r->fits);
	assert_close(r->ntiles, 12);
	assert_int_equal(r->unit[0], PLAN_UNIT_2D);
	assert_close(r->cost.comp_cycles_2d, 12288);
	assert_close(r->cost.comp_cycles, 12288);
	assert_close(r->cost.dram_bytes, 4587520);
	assert_close(r->cost.mem_cycles, 45875.2);
	assert_close(r->cost.cycles, 46899.2);
	int a = tensor_slot(&f, cg, "A"), b = tensor_slot(&f, cg, "B");
	int c = tensor_slot(&f, cg, "C");
	assert_int_equal(r->level[a], 2);
	assert_int_equal(r->level[b], 3);
	assert_close(r->dram_bytes[a], 2 * 524288.0);
	assert_close(r->dram_bytes[b], 2 * 1572864.0);
	assert_close(r->dram_bytes[c], 2 * 196608.0);
	assert_int_equal(cost_group_role(cg, c), FUSION_OUT);
	assert_int_equal(cost_group_role(cg, a), FUSION_IN);
	/* 2D utilisation over the latency: useful MACs / (cycles * 128 * 128). */
	assert_close(r->cost.util_2d, 201326592.0 / (46899.2 * 16384));
	assert_close(r->member[0].util_2d, 1.0);
	/* Forced onto the 1D array: 12 tiles of 32768 cycles. */
	cfg.unit[0] = PLAN_UNIT_1D;
	assert_int_equal(cost_eval(cg, &cfg, 1, r), 0);
	assert_close(r->cost.comp_cycles_1d, 12 * 32768.0);
	/* Tiles of k = 64: the drain (128 cycles) bounds each output tile,
	 * 16 k-tiles of 128 cycles for every output tile: 12 * 16 * 128;
	 * and C's partial sums stay in the tile (k is innermost). */
	cfg.unit[0] = -1;
	cfg.tile[2] = 64;
	assert_int_equal(cost_eval(cg, &cfg, 1, r), 0);
	assert_close(r->cost.comp_cycles_2d, 12 * 16 * 128.0);
	assert_close(r->dram_bytes[c], 2 * 196608.0);
	/* With k outermost and C held to one tile (level 3), every k-tile
	 * revisits all of C: the partial sums go out and come back, 2 * (16 -
	 * 1) extra passes over C. */
	cfg.order[0] = 2;
	cfg.order[1] = 0;
	cfg.order[2] = 1;
	cfg.level[c] = 3;
	assert_int_equal(cost_eval(cg, &cfg, 1, r), 0);
	assert_close(r->dram_bytes[c], 2 * (196608.0 + 2 * 15 * 196608.0));
	free(r);
	cost_group_free(cg);
	unload(&f);
}

/* ---- An elementwise chain ------------------------------------------------ */

static const char chain_src[] =
	"param N = 4096\n"
	"input X[N]\n"
	"weight W[N]\n"
	"output Z[N]\n"
	"Y_{i} = exp(X_{i})\n"
	"Z_{i} = Y_{i} * W_{i}\n";

/* Group {Y, Z} on i, tile 1024: 4 tiles of 1024 points = one lane each.
 * Y: exp (4 cycles) per point, one read: 4 cycles a tile.  Z: a multiply
 * and two reads: 2 cycles a tile.  Compute 4 * (4 + 2) = 24 cycles.
 * Traffic: X, W read and Z written once, Y stays on chip: 3 * 4096
 * elements = 24576 bytes = 245.76 cycles.  Latency 245.76 + 24 / 4.
 * Buffer: X, W, Y, Z tiles of 1024 values (2 KiB each), live from the
 * first member that touches them to the last: at Y, X and Y; at Z, Y, W
 * and Z: the peak is 3 * 2048 bytes. */
static void test_chain(void **state)
{
	(void)state;
	fixture f;
	load(&f, chain_src, small_target);
	cost_group *cg = group(&f, "Y,Z", "i");
	cost_config cfg;
	cost_config_init(&cfg);
	cfg.tile[0] = 1024;
	cost_result *r = malloc(sizeof(*r));
	assert_int_equal(cost_eval(cg, &cfg, 1, r), 0);
	assert_true(r->fits);
	assert_close(r->cost.comp_cycles_1d, 24);
	assert_close(r->cost.comp_cycles_2d, 0);
	assert_close(r->member[0].comp_cycles, 16);
	assert_close(r->member[1].comp_cycles, 8);
	assert_close(r->cost.dram_bytes, 24576);
	assert_close(r->cost.cycles, 245.76 + 6);
	assert_close(r->cost.buffer_bytes, 3 * 2048.0);
	assert_int_equal(cost_group_role(cg, tensor_slot(&f, cg, "Y")), FUSION_INTERNAL);
	assert_close(r->dram_bytes[tensor_slot(&f, cg, "Y")], 0);
	/* Unfused, Y alone writes Y and Z alone reads it back: 2 * 4096 more
	 * elements than the fused pair, over both groups. */
	cost_group *gy = group(&f, "Y", "i"), *gz = group(&f, "Z", "i");
	cost_result *ry = malloc(sizeof(*ry)), *rz = malloc(sizeof(*rz));
	assert_int_equal(cost_eval(gy, &cfg, 0, ry), 0);
	assert_int_equal(cost_eval(gz, &cfg, 0, rz), 0);
	assert_close(ry->cost.dram_bytes + rz->cost.dram_bytes, 24576 + 2 * 2 * 4096.0);
	/* A sub-lane tile: 100 points still take a whole lane pass each. */
	cfg.tile[0] = 100;
	assert_int_equal(cost_eval(cg, &cfg, 0, r), 0);
	/* 40 full tiles and one of 96: 41 tiles * (4 + 2) cycles. */
	assert_close(r->cost.comp_cycles_1d, 41 * 6.0);
	free(r);
	free(ry);
	free(rz);
	cost_group_free(cg);
	cost_group_free(gy);
	cost_group_free(gz);
	unload(&f);
}

/* ---- The SSM group ------------------------------------------------------- */

static const char ssm_src[] =
	"param B = 2, I = 8, D = 4, N = 2\n"
	"input DELTA[B, I, D], U[B, I, D], BM[B, I, N], CM[B, I, N]\n"
	"input H0[B, D, N]\n"
	"weight A[D, N]\n"
	"output YS[B, I, D], HF[B, D, N]\n"
	"AD_{b,i,d,n} = exp(DELTA_{b,i,d} * A_{d,n})\n"
	"BX_{b,i,d,n} = DELTA_{b,i,d} * BM_{b,i,n} * U_{b,i,d}\n"
	"h0: H_{b,0,d,n} = H0_{b,d,n}\n"
	"scan: H_{b,i+1,d,n} = AD_{b,i,d,n} * H_{b,i,d,n} + BX_{b,i,d,n}   gen i until i == I\n"
	"HF_{b,d,n} = H_{b,I,d,n}\n"
	"YS_{b,i,d} = H_{b,i+1,d,n} * CM_{b,i,n}\n";

/* {AD, BX, scan, YS} on (b, i, d, n) in that order, tiles (2, 1, 4, 2):
 * 8 tiles, one per token, 16 points each (one lane pass).
 * Per tile: AD multiply + exp = 5 ops, 2 reads: 5 cycles; BX two
 * multiplies, 3 reads: 3; scan one MAC, reads AD and BX (the state stays
 * in the lane): 2, one step; YS one MAC, reads H and CM: 2 (on the 2D
 * array it would take max(2, 128) cycles for 2 x 4 outputs).  12 cycles a
 * tile, 96 in all.
 * Traffic (elements): DELTA 64, U 64, BM 32, CM 32 once each; A (d, n)
 * stays across the tiles: 8; YS written: 64; H: its last generation read
 * by HF outside (16) and its first written by h0 outside (16): 32.
 * 296 elements = 592 bytes = 5.92 cycles; latency 96 + 5.92 / 8.
 * H's tile holds 2 generations of 16 (32 elements); 16 are carried from
 * the previous token. */
static void test_ssm(void **state)
{
	(void)state;
	fixture f;
	load(&f, ssm_src, small_target);
	cost_group *cg = group(&f, "AD,BX,scan,YS", "b,i,d,n");
	cost_config cfg;
	cost_config_init(&cfg);
	cfg.tile[0] = 2;
	cfg.tile[1] = 1;
	cfg.tile[2] = 4;
	cfg.tile[3] = 2;
	cost_result *r = malloc(sizeof(*r));
	assert_int_equal(cost_eval(cg, &cfg, 1, r), 0);
	assert_true(r->fits);
	assert_close(r->ntiles, 8);
	for (int i = 0; i < 4; i++)
		assert_int_equal(r->unit[i], PLAN_UNIT_1D);
	assert_close(r->member[0].comp_cycles, 40);
	assert_close(r->member[1].comp_cycles, 24);
	assert_close(r->member[2].comp_cycles, 16);
	assert_close(r->member[3].comp_cycles, 16);
	assert_close(r->cost.comp_cycles, 96);
	int h = tensor_slot(&f, cg, "H");
	assert_int_equal(cost_group_role(cg, h), FUSION_OUT);
	assert_close(r->dram_bytes[h], 2 * 32.0);
	assert_close(r->tile_elems[h], 32);
	assert_close(r->dram_bytes[tensor_slot(&f, cg, "A")], 2 * 8.0);
	assert_close(r->dram_bytes[tensor_slot(&f, cg, "AD")], 0);
	assert_close(r->cost.dram_bytes, 592);
	assert_close(r->cost.cycles, 96 + 5.92 / 8);
	/* The model's tile footprints are isl's exact counts (fusion_check
	 * on a full tile): 2 x 2 x 4 x 2 for H, 2 x 4 for A, ... */
	int64_t tiles[4] = {2, 1, 4, 2};
	char *members = calloc((size_t)f.c->neinsums, 1);
	for (int i = 0; i < cost_group_nmembers(cg); i++)
		members[cost_group_member(cg, i)] = 1;
	fusion_req req = {0};
	req.members = members;
	req.nband = 4;
	for (int k = 0; k < 4; k++) {
		req.band[k] = cost_group_band(cg, k);
		req.tile[k] = tiles[k];
	}
	fusion_result fr;
	char err[256];
	assert_int_equal(fusion_check(f.g, &req, 1, &fr, err, sizeof(err)), 0);
	assert_true(fr.legal);
	assert_int_equal(fr.nfp, cost_group_ntensors(cg));
	for (int q = 0; q < fr.nfp; q++) {
		int i = -1;
		for (int k = 0; k < cost_group_ntensors(cg); k++)
			if (cost_group_tensor(cg, k) == fr.fp[q].tensor)
				i = k;
		assert_true(i >= 0);
		assert_close(cost_group_tile_elems(cg, i, tiles), (double)fr.fp[q].footprint);
		assert_int_equal(cost_group_role(cg, i), fr.fp[q].role);
	}
	assert_close(cost_group_tile_elems(cg, h, tiles), 32);
	fusion_result_clear(&fr);
	free(members);
	/* The whole sequence in one tile (i not tiled): the state never
	 * leaves, AD and BX are whole (b, i, d, n) buffers; the scan runs 8
	 * steps of 16 lanes: 8 * 2 cycles. */
	cfg.tile[1] = 8;
	assert_int_equal(cost_eval(cg, &cfg, 1, r), 0);
	assert_close(r->member[2].comp_cycles, 16);
	assert_close(r->tile_elems[h], 2 * 9 * 4 * 2);
	free(r);
	cost_group_free(cg);
	unload(&f);
}

/* ---- The array fit ------------------------------------------------------- */

/* Shapes that fit the 2D array badly, on the mambalaya target (256 x 256,
 * drain 256, 65536 lanes): the model must show it. */
static void test_array_fit(void **state)
{
	(void)state;
	fixture f;
	char path[4096];
	snprintf(path, sizeof(path), "%s/examples/mamba1.ein", SRCDIR);
	char err[256];
	diag_ctx *d = check_load_file(path, CHECK_MAX_SOURCE_BYTES, err, sizeof(err));
	assert_non_null(d);
	size_t len;
	const char *src = diag_source(d, &len);
	char *copy = strndup(src, len);
	diag_free(d);
	target *t = target_builtin("mambalaya");
	assert_non_null(t);
	cJSON *tj = target_to_json(t);
	char *tjs = cJSON_PrintUnformatted(tj);
	cJSON_Delete(tj);
	target_free(t);
	load(&f, copy, tjs);
	free(copy);
	free(tjs);
	int64_t ext[EIN_MAX_VARS];
	double useful;
	/* dt_proj DT(b,i,d | r) with K = R = 48 on a 256 x 256 tile of
	 * (b,i) x d: one output tile, max(48, 256) = 256 cycles: 18.75%. */
	int dt = ein_cascade_find_einsum(f.c, "DT");
	const cost_einsum_info *in = cost_einsum(f.m, dt);
	assert_true(in->gemm);
	for (int v = 0; v < in->nvars; v++)
		ext[v] = in->ext[v];
	ext[0] = 1;   /* b */
	ext[1] = 256; /* i */
	ext[2] = 256; /* d */
	double cy = cost_box_cycles(f.m, dt, PLAN_UNIT_2D, ext, &useful);
	assert_close(cy, 256);
	assert_close(useful / (cy * 65536), 48.0 / 256);
	/* YS(b,i,d | n), the contraction with C over N = 16: d on the rows,
	 * nothing on the columns, (b, i) in time: 1/256 of the columns and
	 * 16/256 of the drain time. */
	int ys = ein_cascade_find_einsum(f.c, "YS");
	in = cost_einsum(f.m, ys);
	assert_true(in->gemm);
	for (int v = 0; v < in->nvars; v++)
		ext[v] = in->ext[v];
	ext[1] = 64; /* i */
	cy = cost_box_cycles(f.m, ys, PLAN_UNIT_2D, ext, &useful);
	/* 64 (b,i) x ceil(1536/256) x 1 output tiles of 256 cycles. */
	assert_close(cy, 64 * 6 * 256.0);
	assert_close(useful / (cy * 65536), 16.0 / 256 / 256);
	/* On the 1D array: a MAC and two reads per point. */
	cy = cost_box_cycles(f.m, ys, PLAN_UNIT_1D, ext, &useful);
	assert_close(cy, ceil(64 * 1536 * 16 / 65536.0) * 2);
	/* The depthwise conv CV(b,i,d | w): d in both operands runs in time,
	 * N = 1, K = 4: 1 x 1/256 of the array for 4/256 of the time. */
	int cv = ein_cascade_find_einsum(f.c, "CV");
	in = cost_einsum(f.m, cv);
	assert_true(in->gemm);
	assert_int_equal(in->nvars_, 0);
	for (int v = 0; v < in->nvars; v++)
		ext[v] = in->ext[v];
	cy = cost_box_cycles(f.m, cv, PLAN_UNIT_2D, ext, &useful);
	assert_true(useful / (cy * 65536) < 0.001);
	/* Elementwise Einsums do not run on the 2D array. */
	int ad = ein_cascade_find_einsum(f.c, "AD");
	assert_false(cost_einsum(f.m, ad)->gemm);
	assert_true(cost_box_cycles(f.m, ad, PLAN_UNIT_2D, cost_einsum(f.m, ad)->ext, NULL) < 0);
	/* The RMSNorm scale hoists rsqrt(SS/ED + eps) out of the ed loop:
	 * its terms are per (b, i), not per (b, i, ed). */
	int nx = ein_cascade_find_einsum(f.c, "NX");
	in = cost_einsum(f.m, nx);
	int hoisted = 0;
	for (int j = 0; j < in->nterms; j++)
		if (in->term_vars[j] == 3u) /* b and i */
			hoisted = 1;
	assert_true(hoisted);
	unload(&f);
}

/* ---- Targets ------------------------------------------------------------- */

static void test_targets(void **state)
{
	(void)state;
	char err[512];
	for (int i = 0; target_builtin_names[i]; i++) {
		target *t = target_builtin(target_builtin_names[i]);
		assert_non_null(t);
		assert_string_equal(t->name, target_builtin_names[i]);
		assert_true(t->nassumptions > 0);
		/* JSON round trip. */
		cJSON *j = target_to_json(t);
		target *t2 = target_from_json(j, err, sizeof(err));
		cJSON_Delete(j);
		assert_non_null(t2);
		assert_int_equal(t2->rows, t->rows);
		assert_int_equal(t2->lanes, t->lanes);
		assert_true(t2->op_cycles[EIN_FN_EXP] == t->op_cycles[EIN_FN_EXP]);
		target_free(t2);
		target_free(t);
	}
	target *m = target_builtin("mambalaya");
	assert_int_equal(m->rows, 256);
	assert_int_equal(m->cols, 256);
	assert_int_equal(m->buffer_bytes, 16 << 20);
	assert_int_equal(m->bytes_per_value, 2);
	assert_true(m->clock_ghz == 1.75);
	assert_true(m->dram_gb_per_s == 2039);
	assert_false(m->concurrent);
	assert_close(target_bytes_per_cycle(m), 2039 / 1.75);
	target_free(m);
	assert_null(target_builtin("nosuch"));
	/* Errors name the field. */
	target *t = parse_target("{\"name\": \"x\", \"array2d\": {\"rows\": \"abc\", "
				 "\"cols\": 4}, \"array1d\": {\"lanes\": 4}}",
				 err, sizeof(err));
	assert_null(t);
	assert_string_equal(err, "field \"array2d.rows\": expected a positive integer, "
				 "found \"abc\"");
	t = parse_target("{\"name\": \"x\", \"array2d\": {\"rows\": 4, \"cols\": 4}, "
			 "\"array1d\": {\"lanes\": 4, \"cycles\": {\"exq\": 2}}}",
			 err, sizeof(err));
	assert_null(t);
	assert_string_equal(err, "field \"array1d.cycles.exq\": unknown field (did you "
				 "mean \"array1d.cycles.exp\"?)");
}

/* ---- A causal product on a CPU ------------------------------------------ */

static const char causal_src[] =
	"param S = 256, P = 64\n"
	"input Q[S, P], K[S, P]\n"
	"output QK[S, S]\n"
	"QK_{s,t} = Q_{s,p} * K_{t,p}   where t <= s\n";

/* The group of names (comma-separated) fused on one rank in tiles of
 * tile, evaluated with detail (the caller frees the result). */
static cost_result *eval_tiled(fixture *f, const char *names, const char *rank, int64_t tile)
{
	cost_group *cg = group(f, names, rank);
	cost_config cfg;
	cost_config_init(&cfg);
	cfg.tile[0] = tile;
	cost_result *r = malloc(sizeof(*r));
	assert_non_null(r);
	assert_int_equal(cost_eval(cg, &cfg, 1, r), 0);
	cost_group_free(cg);
	return r;
}

/* One thread, 100 GFLOP/s at every shape (gemm_half_dim 0), free calls. */
static const char cpu_target[] =
	"{\"name\": \"cpu1\", \"kind\": \"cpu\", \"dram_gb_per_s\": 10,"
	" \"cpu\": {\"threads\": 1, \"gemm_gflops\": 100, \"gemm_half_dim\": 0,"
	" \"call_ns\": 0,"
	" \"caches\": [{\"level\": 1, \"bytes\": 1048576, \"shared_by\": 1}]}}";

/* The domain is the triangle: 64 * 256 * 257 / 2 points, exactly (the
 * bounding box has 2^22).  The product is costed as ml_sgemm_tri runs it:
 * the cut 64 x 64 blocks on the diagonal computed whole add half of one
 * block per 64 rows, 0.5 * 64 / 256 of the box: 2 * 256 * 256 * 64 *
 * (257 / 512 + 0.125) flops at 100 per ns. */
static void test_causal_cpu(void **state)
{
	(void)state;
	fixture f;
	load(&f, causal_src, cpu_target);
	int e = ein_cascade_find_einsum(f.c, "QK");
	const cost_einsum_info *in = cost_einsum(f.m, e);
	assert_close(in->points, 64.0 * 256 * 257 / 2);
	assert_close(in->density, 257.0 / 512);
	cost_result *r = eval_tiled(&f, "QK", "s", 256);
	assert_int_equal(r->unit[0], PLAN_UNIT_2D);
	assert_close(r->cost.comp_cycles_2d, 2.0 * 256 * 256 * 64 * (257.0 / 512 + 0.125) / 100);
	free(r);
	unload(&f);
}

/* Heads laid out before the tokens: QP_{h,s,p} = N1_{s,e} WQ_{e,h,p}
 * runs as one call per head (N = p; h and p are not neighbours in QP),
 * QT_{s,h,p} as one call (N = h p).  One thread, 100 GFLOP/s scaled by
 * d / (d + 8) per dimension, free calls. */
static const char heads_src[] =
	"param S = 64, E = 128, H = 4, P = 32\n"
	"input N1[S, E]\n"
	"weight WQ[E, H, P]\n"
	"output QP[H, S, P], QT[S, H, P]\n"
	"QP_{h,s,p} = N1_{s,e} * WQ_{e,h,p}\n"
	"QT_{s,h,p} = N1_{s,e} * WQ_{e,h,p}\n";

static const char cpu_target_h8[] =
	"{\"name\": \"cpu1\", \"kind\": \"cpu\", \"dram_gb_per_s\": 10,"
	" \"cpu\": {\"threads\": 1, \"gemm_gflops\": 100, \"gemm_half_dim\": 8,"
	" \"call_ns\": 0,"
	" \"caches\": [{\"level\": 1, \"bytes\": 1048576, \"shared_by\": 1}]}}";

static double eff8(double m, double n, double k)
{
	return m / (m + 8) * n / (n + 8) * k / (k + 8);
}

static void test_heads_cpu(void **state)
{
	(void)state;
	fixture f;
	load(&f, heads_src, cpu_target_h8);
	const char *names[2] = {"QP", "QT"};
	double n[2] = {32, 128};
	for (int q = 0; q < 2; q++) {
		cost_result *r = eval_tiled(&f, names[q], "s", 64);
		assert_int_equal(r->unit[0], PLAN_UNIT_2D);
		assert_close(r->cost.comp_cycles_2d, 2.0 * 64 * 128 * 128 / 100 / eff8(64, n[q], 128));
		free(r);
	}
	unload(&f);
}

/* Loops on a CPU with a register rate (docs/cost-model.md, "Loops on a
 * CPU"): at the default rates (exp 3, add and mul 8 G/s) and 32 G/s in
 * registers, an access costs 1/24 ns, exp its whole loop (1/3 ns), a
 * multiply 1/32 ns; a member costs the larger of its work and its
 * accesses.  A made in the group and read by B over the same ranks stays
 * in a register: A pays no store, B no load of it. */
static const char loops_src[] =
	"param I = 64, D = 256\n"
	"input X[I, D], Y[I, D]\n"
	"weight W[D]\n"
	"output B[I, D]\n"
	"A_{i,d} = exp(X_{i,d} * W_{d})\n"
	"B_{i,d} = A_{i,d} * Y_{i,d}\n";

#define CPU_LOOPS_TARGET(reg)                                                        \
	"{\"name\": \"cpu1\", \"kind\": \"cpu\", \"dram_gb_per_s\": 10,"                \
	" \"cpu\": {\"threads\": 1, \"gemm_gflops\": 100, \"gemm_half_dim\": 8,"         \
	" \"call_ns\": 0" reg ","                                                    \
	" \"caches\": [{\"level\": 1, \"bytes\": 1048576, \"shared_by\": 1}]}}"

static double loops_cycles(fixture *f, const char *names)
{
	cost_result *r = eval_tiled(f, names, "i", 64);
	double cy = r->cost.comp_cycles_1d;
	free(r);
	return cy;
}

static void test_loops_cpu(void **state)
{
	(void)state;
	const double pts = 64.0 * 256, acc = 1.0 / 24;
	fixture f;
	load(&f, loops_src, CPU_LOOPS_TARGET(", \"register_gelem_per_s\": 32"));
	double a = fmax(1.0 / 3 + 1.0 / 32, 2 * acc); /* X, W; A's store in a register */
	double b = fmax(1.0 / 32, 2 * acc);	       /* Y, B's store; A in a register */
	assert_close(loops_cycles(&f, "A,B"), pts * (a + b));
	/* Apart, A is stored and B loads it. */
	assert_close(loops_cycles(&f, "B"), pts * fmax(1.0 / 32, 3 * acc));
	unload(&f);
	/* Without the rate: every operation at its whole loop's rate. */
	load(&f, loops_src, CPU_LOOPS_TARGET(""));
	assert_close(loops_cycles(&f, "A,B"), pts * (1.0 / 3 + 1.0 / 8 + 1.0 / 8));
	unload(&f);
}

/* A reduction in a strip wide enough to be the vector loop (d, 64 wide)
 * adds into its output in memory at every point: two more accesses per
 * point.  P stays in a register; S's C moves along n, its store is per
 * (i, d); its neighbour P hides its accumulator's chain. */
static const char vstrip_src[] =
	"param I = 64, D = 256, N = 16\n"
	"input X[I, D, N], C[I, N]\n"
	"output S[I, D]\n"
	"P_{i,d,n} = X_{i,d,n} * X_{i,d,n}\n"
	"S_{i,d} = P_{i,d,n} * C_{i,n}\n";

static void test_vector_strip_cpu(void **state)
{
	(void)state;
	const double pts = 64.0 * 256 * 16, outs = 64.0 * 256, acc = 1.0 / 24;
	fixture f;
	load(&f, vstrip_src, CPU_LOOPS_TARGET(", \"register_gelem_per_s\": 32"));
	double p = fmax(1.0 / 32, acc);			/* X */
	double s = fmax(pts / 32, pts * acc + outs * acc); /* C, the stores */
	assert_close(loops_cycles(&f, "P,S"), pts * p + s + pts * 2 * acc);
	unload(&f);
}

/* Horizontal sums: with 8 tokens and 8 channels, too few for a vector
 * strip, S's vector loop runs along n (16 states, two vectors of 8 lanes
 * at 32 bytes) and ends each output (i, d) by adding up a vector's lanes:
 * 3 shuffles and 3 adds on 8 lanes, 48 multiply-adds in registers at 32
 * G/s.  (test_vector_strip_cpu: in a strip, none.) */
static const char hsum_src[] =
	"param I = 8, D = 8, N = 16\n"
	"input X[I, D, N], C[I, N]\n"
	"output S[I, D]\n"
	"P_{i,d,n} = X_{i,d,n} * X_{i,d,n}\n"
	"S_{i,d} = P_{i,d,n} * C_{i,n}\n";

static void test_hsum_cpu(void **state)
{
	(void)state;
	const double outs = 8.0 * 8;
	fixture f;
	load(&f, hsum_src,
	     CPU_LOOPS_TARGET(", \"register_gelem_per_s\": 32, \"simd_bytes\": 32"));
	double wide = loops_cycles(&f, "P,S");
	unload(&f);
	/* 4-byte vectors: one lane, nothing to add up; all else the same. */
	load(&f, hsum_src,
	     CPU_LOOPS_TARGET(", \"register_gelem_per_s\": 32, \"simd_bytes\": 4"));
	double one = loops_cycles(&f, "P,S");
	unload(&f);
	assert_close(wide - one, outs * 2 * 3 * 8 / 32.0);
}

/* A measured product grid (cpu.gemm_grid): sides 16 and 256, each corner
 * at 50 (m n k / 16^3)^(1/4) GFLOP/s, a rate the interpolation (linear in
 * the log of the rate and of each side) reproduces exactly inside the
 * grid; outside it the edge's rate holds. */
#define GRID_RATE(m, n, k) (50.0 * pow((double)(m) * (n) * (k) / 4096.0, 0.25))
static const char cpu_target_grid[] =
	"{\"name\": \"cpu1\", \"kind\": \"cpu\", \"dram_gb_per_s\": 10,"
	" \"cpu\": {\"threads\": 1, \"gemm_gflops\": 100, \"gemm_half_dim\": 8,"
	" \"call_ns\": 0, \"gemm_grid\": {\"sides\": [16, 256], \"gflops\":"
	" [50, 100, 100, 200, 100, 200, 200, 400]},"
	" \"caches\": [{\"level\": 1, \"bytes\": 1048576, \"shared_by\": 1}]}}";

static void test_grid_cpu(void **state)
{
	(void)state;
	fixture f;
	load(&f, heads_src, cpu_target_grid);
	const target_cpu *cpu = &f.t->cpu;
	assert_int_equal(cpu->gemm_nsides, 2);
	assert_close(target_gemm_gflops(cpu, 16, 16, 16), 50);
	assert_close(target_gemm_gflops(cpu, 256, 256, 256), 400);
	assert_close(target_gemm_gflops(cpu, 64, 32, 128), GRID_RATE(64, 32, 128));
	/* Beyond the sides: the edge's rate. */
	assert_close(target_gemm_gflops(cpu, 4096, 1, 16), GRID_RATE(256, 16, 16));
	/* The products of test_heads_cpu, at the grid's rates. */
	const char *names[2] = {"QP", "QT"};
	double n[2] = {32, 128};
	for (int q = 0; q < 2; q++) {
		cost_result *r = eval_tiled(&f, names[q], "s", 64);
		assert_int_equal(r->unit[0], PLAN_UNIT_2D);
		assert_close(r->cost.comp_cycles_2d,
			     2.0 * 64 * 128 * 128 / GRID_RATE(64, n[q], 128));
		free(r);
	}
	unload(&f);
}

/* Writes to DRAM (cpu.dram_write_gb_per_s) and members one after another.
 * B = exp(X) Y Y written out: 64 x 256 floats, 64 KiB at 1 GB/s, longer
 * than all the group's reads and writes at the copy's 10 GB/s.  B's
 * stream does not hide A's work (A runs first in each tile): the group
 * takes the sum of each member's longer side. */
static const char write_src[] =
	"param I = 64, D = 256\n"
	"input X[I, D], Y[I, D]\n"
	"output B[I, D]\n"
	"A_{i,d} = exp(X_{i,d})\n"
	"B_{i,d} = A_{i,d} * Y_{i,d} * Y_{i,d}\n";

static void test_write_cpu(void **state)
{
	(void)state;
	fixture f;
	load(&f, write_src, CPU_LOOPS_TARGET(", \"dram_write_gb_per_s\": 1"));
	cost_result *r = eval_tiled(&f, "A,B", "i", 64);
	double w = 64.0 * 256 * 4; /* ns at 1 GB/s */
	/* X and Y read, B written: 192 KiB at 10 GB/s, less than B alone. */
	assert_close(r->cost.level_cycles[0], w);
	/* A (its exp, or reading X at 10 GB/s), then B's stream. */
	double a = fmax(r->member[0].comp_cycles, 64.0 * 256 * 4 / 10);
	assert_true(r->member[0].comp_cycles > 0);
	assert_close(r->cost.cycles, a + w);
	free(r);
	unload(&f);
}

/* A window over a tensor the group writes (a conv's padded input: CV at
 * i reads XP at i .. i + 3, which earlier tiles along i wrote) carries a
 * dependence along i, so code generation runs the tiles along i in
 * order: the group's tiles do not share the threads, and its small loops
 * (under CPU_PAR_POINTS each) run on one thread. */
static const char conv_src[] =
	"param I = 64, D = 256, W = 4\n"
	"input X[I, D], X0[J: W-1, D]\n"
	"weight K[D, W]\n"
	"output CV[I, D]\n"
	"XP_{j,d} = X0_{j,d}   where j < W-1\n"
	"XP_{i+W-1,d} = X_{i,d}\n"
	"CV_{i,d} = XP_{i+w,d} * K_{d,w}\n";

#define CPU_THREADS_TARGET(n)                                                        \
	"{\"name\": \"cpu2\", \"kind\": \"cpu\", \"dram_gb_per_s\": 10,"               \
	" \"cpu\": {\"threads\": " #n ", \"gemm_gflops\": 100, \"gemm_half_dim\": 8,"    \
	" \"call_ns\": 0,"                                                           \
	" \"caches\": [{\"level\": 1, \"bytes\": 1048576, \"shared_by\": 1}]}}"

static double conv_cycles(const char *tgt)
{
	fixture f;
	load(&f, conv_src, tgt);
	cost_result *r = eval_tiled(&f, "XP.2,CV", "i", 16);
	double cy = r->cost.comp_cycles_1d;
	free(r);
	unload(&f);
	return cy;
}

static void test_halo_serial_cpu(void **state)
{
	(void)state;
	/* Rates are all threads' together: on two threads, each small loop
	 * on one thread takes twice as long as on a one-thread machine. */
	double one = conv_cycles(CPU_THREADS_TARGET(1));
	assert_true(one > 0);
	assert_close(conv_cycles(CPU_THREADS_TARGET(2)), 2 * one);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gemm),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_ssm),
		cmocka_unit_test(test_array_fit),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_causal_cpu),
		cmocka_unit_test(test_heads_cpu),
		cmocka_unit_test(test_grid_cpu),
		cmocka_unit_test(test_write_cpu),
		cmocka_unit_test(test_halo_serial_cpu),
		cmocka_unit_test(test_loops_cpu),
		cmocka_unit_test(test_vector_strip_cpu),
		cmocka_unit_test(test_hsum_cpu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
