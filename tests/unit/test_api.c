/* test_api.c - the C API of libmambalaya.so (compiler/api/mambalaya.h),
 * linked against the shared library and nothing else of the compiler:
 * errors come back as statuses and messages (never exit or print), failing
 * calls leak nothing (10,000 failing loads; LeakSanitizer in the sanitizer
 * build), two threads planning at once get what one thread gets, and the
 * kernel cache is keyed, shared, and rebuilds a corrupted entry. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mambalaya.h"

#define MLP SRCDIR "/examples/mlp.ein"
/* Kernels built without -march=native: valgrind (make valgrind) does not
 * run AVX-512 code. */
#define KFLAGS "-O2 -fopenmp"
#define MAMBA SRCDIR "/examples/mamba1.ein"

static mambalaya_cascade *load_ok(const char *path, int n, const char *const *defs)
{
	char *err = NULL;
	mambalaya_cascade *c = mambalaya_load(path, defs, n, &err);
	if (!c)
		fail_msg("%s: %s", path, err ? err : "(no message)");
	assert_null(err);
	return c;
}

static void test_source_errors(void **state)
{
	(void)state;
	char *err = NULL;
	const char *src = "input X[4]\noutput Y[4]\nY_{i} = X_{i} * Z\n";
	assert_null(mambalaya_load_source("bad.ein", src, NULL, 0, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "bad.ein:3:17: error: unknown name 'Z'"));
	assert_non_null(strstr(err, "    3 | Y_{i} = X_{i} * Z"));
	mambalaya_free(err);
	/* err may be NULL: the call still fails cleanly. */
	assert_null(mambalaya_load_source("bad.ein", src, NULL, 0, NULL));
	assert_null(mambalaya_load("/no/such/file.ein", NULL, 0, &err));
	assert_non_null(strstr(err, "/no/such/file.ein"));
	mambalaya_free(err);
	const char *bad_define[] = {"NOPE=3"};
	assert_null(mambalaya_load(MLP, bad_define, 1, &err));
	assert_non_null(err);
	mambalaya_free(err);
}

/* 10,000 failing loads of different kinds: with LeakSanitizer (the
 * sanitizer build) any leak fails the test at exit. */
static void test_failing_loads_leak_nothing(void **state)
{
	(void)state;
	const char *srcs[] = {
		"input X[4]\noutput Y[4]\nY_{i} = X_{i} * Z\n",
		"param N = \ninput X[N]\n",
		"input X[4]\noutput Y[4]\nY_{i} = X_{i+9}\n",
		"output Y[2]\nY_{i} = Y_{i}\n",
		"\x80\x81 garbage (((",
	};
	for (int i = 0; i < 10000; i++) {
		char *err = NULL;
		mambalaya_cascade *c =
			mambalaya_load_source("leak.ein", srcs[i % 5], NULL, 0, &err);
		assert_null(c);
		assert_non_null(err);
		mambalaya_free(err);
	}
}

static void test_json_queries(void **state)
{
	(void)state;
	mambalaya_cascade *c = load_ok(MLP, 0, NULL);
	char *err = NULL;
	char *ir = mambalaya_ir_json(c, &err), *deps = mambalaya_deps_json(c, &err);
	char *groups = mambalaya_groups_json(c, &err);
	char *plan = mambalaya_plan_json(c, NULL, "unfused", 0, &err);
	assert_non_null(ir);
	assert_non_null(deps);
	assert_non_null(groups);
	assert_non_null(plan);
	assert_non_null(strstr(ir, "\"einsums\""));
	assert_non_null(strstr(plan, "\"policy\":\t\"unfused\""));
	mambalaya_free(ir);
	mambalaya_free(deps);
	mambalaya_free(groups);
	mambalaya_free(plan);
	assert_null(mambalaya_plan_json(c, NULL, "fast", 0, &err));
	assert_non_null(strstr(err, "unknown policy 'fast'"));
	mambalaya_free(err);
	assert_null(mambalaya_plan_json(c, "no-such-target", NULL, 0, &err));
	assert_non_null(strstr(err, "no-such-target"));
	mambalaya_free(err);
	char *html = mambalaya_report_html(c, NULL, NULL, 0, 1, NULL, 0, &err);
	assert_non_null(html);
	assert_non_null(strstr(html, "id=\"roofline\""));
	mambalaya_free(html);
	assert_null(mambalaya_report_html(c, NULL, NULL, 0, 99, NULL, 0, &err));
	assert_non_null(strstr(err, "sweep 99"));
	mambalaya_free(err);
	mambalaya_cascade_free(c);
}

/* The inputs of mlp.ein at its default sizes, filled. */
typedef struct mlp_io {
	float x[16 * 32], w1[32 * 128], b1[128], w2[128 * 32], b2[32], y[16 * 32], y2[16 * 32];
	mambalaya_tensor in[5], out[1];
} mlp_io;

static void mlp_io_init(mlp_io *io)
{
	float *bufs[] = {io->x, io->w1, io->b1, io->w2, io->b2};
	const char *names[] = {"X", "W1", "B1", "W2", "B2"};
	int64_t n[] = {16 * 32, 32 * 128, 128, 128 * 32, 32};
	for (int k = 0; k < 5; k++) {
		for (int64_t i = 0; i < n[k]; i++)
			bufs[k][i] = (float)((i * 7 + k * 3) % 19) / 19.0f - 0.5f;
		io->in[k] = (mambalaya_tensor){names[k], bufs[k], n[k]};
	}
	io->out[0] = (mambalaya_tensor){"Y", io->y, 16 * 32};
}

static void test_eval_errors(void **state)
{
	(void)state;
	mambalaya_cascade *c = load_ok(MLP, 0, NULL);
	mlp_io *io = calloc(1, sizeof(*io));
	mlp_io_init(io);
	char *err = NULL;
	assert_int_equal(mambalaya_eval(c, io->in, 5, io->out, 1, &err), MAMBALAYA_OK);
	assert_int_equal(mambalaya_eval(c, io->in, 4, io->out, 1, &err), MAMBALAYA_EUSER);
	assert_non_null(strstr(err, "weight 'B2' is not given"));
	mambalaya_free(err);
	io->in[0].nelems = 3;
	assert_int_equal(mambalaya_eval(c, io->in, 5, io->out, 1, &err), MAMBALAYA_EUSER);
	assert_non_null(strstr(err, "'X' has 3 elements; its shape needs 512"));
	mambalaya_free(err);
	io->in[0].nelems = 512;
	mambalaya_tensor wrong = {"X", io->x, 512};
	assert_int_equal(mambalaya_eval(c, io->in, 5, &wrong, 1, &err), MAMBALAYA_EUSER);
	assert_non_null(strstr(err, "'X' is not an output"));
	mambalaya_free(err);
	free(io);
	mambalaya_cascade_free(c);
}

typedef struct plan_job {
	const char *define;
	char *json;
} plan_job;

static void *plan_thread(void *arg)
{
	plan_job *j = arg;
	const char *defs[] = {j->define};
	mambalaya_cascade *c = mambalaya_load(MAMBA, defs, 1, NULL);
	j->json = c ? mambalaya_plan_json(c, NULL, NULL, 0, NULL) : NULL;
	mambalaya_cascade_free(c);
	return NULL;
}

/* The search time differs from run to run: cut it out. */
static void drop_seconds(char *s)
{
	char *p = strstr(s, "\"seconds\":");
	if (!p)
		return;
	char *e = p;
	while (*e && *e != ',' && *e != '\n' && *e != '}')
		e++;
	memmove(p, e, strlen(e) + 1);
}

static void test_threads_plan_as_sequential(void **state)
{
	(void)state;
	plan_job seq[2] = {{"I=8", NULL}, {"I=16", NULL}}, par[2] = {{"I=8", NULL}, {"I=16", NULL}};
	for (int i = 0; i < 2; i++)
		plan_thread(&seq[i]);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, plan_thread, &par[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 2; i++) {
		assert_non_null(seq[i].json);
		assert_non_null(par[i].json);
		drop_seconds(seq[i].json);
		drop_seconds(par[i].json);
		assert_string_equal(seq[i].json, par[i].json);
		mambalaya_free(seq[i].json);
		mambalaya_free(par[i].json);
	}
}

typedef struct kernel_job {
	const char *cache;
	int rc;
	float y[16 * 32];
} kernel_job;

static void *kernel_thread(void *arg)
{
	kernel_job *j = arg;
	mambalaya_cascade *c = mambalaya_load(MLP, NULL, 0, NULL);
	mlp_io *io = calloc(1, sizeof(*io));
	j->rc = -1;
	if (c && io) {
		mlp_io_init(io);
		mambalaya_kernel *k = mambalaya_kernel_open(c, NULL, NULL, KFLAGS, j->cache, NULL);
		if (k) {
			io->out[0].data = j->y;
			j->rc = mambalaya_kernel_run(k, io->in, 5, io->out, 1, NULL);
			mambalaya_kernel_close(k);
		}
	}
	free(io);
	mambalaya_cascade_free(c);
	return NULL;
}

static int count_entries(const char *dir, int hidden)
{
	char cmd[4300];
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep %s'^\\.' | wc -l", dir, hidden ? "" : "-v ");
	FILE *p = popen(cmd, "r");
	int n = -1;
	if (p && fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

/* Two threads open the same kernel in an empty cache: both get it, one
 * entry is left, nothing half-built.  Then a corrupted entry is rebuilt,
 * and the result matches the evaluator. */
static void test_kernel_cache(void **state)
{
	(void)state;
	char cache[] = "/tmp/mambalaya-test-api-XXXXXX";
	assert_non_null(mkdtemp(cache));
	kernel_job j[2] = {{cache, 0, {0}}, {cache, 0, {0}}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, kernel_thread, &j[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(j[0].rc, MAMBALAYA_OK);
	assert_int_equal(j[1].rc, MAMBALAYA_OK);
	assert_memory_equal(j[0].y, j[1].y, sizeof(j[0].y));
	assert_int_equal(count_entries(cache, 0), 1);
	assert_int_equal(count_entries(cache, 1), 0);

	mambalaya_cascade *c = load_ok(MLP, 0, NULL);
	char *err = NULL;
	mambalaya_kernel *k = mambalaya_kernel_open(c, NULL, NULL, KFLAGS, cache, &err);
	assert_non_null(k);
	char so[4200];
	snprintf(so, sizeof(so), "%s/libkernel.so", mambalaya_kernel_dir(k));
	mambalaya_kernel_close(k);
	FILE *f = fopen(so, "r+b");
	assert_non_null(f);
	fseek(f, 200, SEEK_SET);
	fputs("corrupted", f);
	fclose(f);
	k = mambalaya_kernel_open(c, NULL, NULL, KFLAGS, cache, &err);
	assert_non_null(k);
	mlp_io *io = calloc(1, sizeof(*io));
	mlp_io_init(io);
	assert_int_equal(mambalaya_kernel_run(k, io->in, 5, io->out, 1, &err), MAMBALAYA_OK);
	io->out[0].data = io->y2;
	assert_int_equal(mambalaya_eval(c, io->in, 5, io->out, 1, &err), MAMBALAYA_OK);
	for (int i = 0; i < 16 * 32; i++)
		assert_float_equal(io->y[i], io->y2[i], 1e-4);
	assert_memory_equal(io->y, j[0].y, sizeof(j[0].y));
	/* Wrong sizes are an error, not a crash. */
	io->in[1].nelems = 5;
	assert_int_equal(mambalaya_kernel_run(k, io->in, 5, io->out, 1, &err), MAMBALAYA_EUSER);
	assert_non_null(strstr(err, "'W1' has 5 elements"));
	mambalaya_free(err);
	mambalaya_kernel_close(k);
	assert_int_equal(count_entries(cache, 1), 0);
	assert_null(mambalaya_kernel_open(c, NULL, NULL, NULL, NULL, &err));
	assert_non_null(strstr(err, "no cache directory"));
	mambalaya_free(err);
	assert_null(mambalaya_kernel_open(c, NULL, NULL, "-O2 'unterminated", cache, &err));
	assert_non_null(strstr(err, "cflags"));
	mambalaya_free(err);
	free(io);
	mambalaya_cascade_free(c);
	char cmd[4300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache);
	assert_int_equal(system(cmd), 0);
}

static void test_simulate(void **state)
{
	(void)state;
	mambalaya_cascade *c = load_ok(MLP, 0, NULL);
	mlp_io *io = calloc(1, sizeof(*io));
	mlp_io_init(io);
	char *err = NULL, *stats = NULL;
	assert_int_equal(mambalaya_simulate(c, NULL, NULL, io->in, 5, io->out, 1, &stats, &err),
			 MAMBALAYA_OK);
	assert_non_null(strstr(stats, "\"cycles\""));
	mambalaya_free(stats);
	io->out[0].data = io->y2;
	assert_int_equal(mambalaya_eval(c, io->in, 5, io->out, 1, &err), MAMBALAYA_OK);
	for (int i = 0; i < 16 * 32; i++)
		assert_float_equal(io->y[i], io->y2[i], 1e-4);
	assert_int_equal(mambalaya_simulate(c, NULL, "nope", io->in, 5, io->out, 1, NULL, &err),
			 MAMBALAYA_EUSER);
	mambalaya_free(err);
	free(io);
	mambalaya_cascade_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_errors),
		cmocka_unit_test(test_failing_loads_leak_nothing),
		cmocka_unit_test(test_json_queries),
		cmocka_unit_test(test_eval_errors),
		cmocka_unit_test(test_threads_plan_as_sequential),
		cmocka_unit_test(test_kernel_cache),
		cmocka_unit_test(test_simulate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
