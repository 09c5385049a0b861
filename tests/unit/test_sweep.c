/* test_sweep.c - sweep specs: the order of the points (policy fastest, the
 * file slowest, tuples of defines varying together), shards that cover the
 * points once, and specs refused with the field named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mapping/sweep.h"

static sweep_spec *parse(const char *text, char *err, size_t errlen)
{
	cJSON *j = cJSON_Parse(text);
	assert_non_null(j);
	sweep_spec *s = sweep_spec_from_json(j, err, errlen);
	cJSON_Delete(j);
	return s;
}

static void test_order(void **state)
{
	(void)state;
	char err[512] = "";
	sweep_spec *s = parse("{\"file\": [\"a.ein\", \"b.ein\"], \"policy\": [\"unfused\", \"full\"],"
			      " \"buffer\": [\"1K\", 4096], \"arch\": [\"mambalaya\"],"
			      " \"defines\": {\"I\": [1, 2, 3], \"E,F\": [[4, 5], [6, 7]]}}",
			      err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(s->npoints, 2 * 2 * 2 * 3 * 2);
	assert_int_equal(s->buffers[0], 1024);
	sweep_point p;
	/* 0: everything first; 1: the next policy; 2: the next buffer. */
	sweep_point_at(s, 0, &p);
	assert_int_equal(p.file + p.def[0] + p.def[1] + p.arch + p.buffer + p.policy, 0);
	sweep_point_at(s, 1, &p);
	assert_int_equal(p.policy, 1);
	assert_int_equal(p.buffer, 0);
	sweep_point_at(s, 2, &p);
	assert_int_equal(p.policy, 0);
	assert_int_equal(p.buffer, 1);
	/* The last defines key varies before the first. */
	sweep_point_at(s, 4, &p);
	assert_int_equal(p.def[1], 1);
	assert_int_equal(p.def[0], 0);
	sweep_point_at(s, 8, &p);
	assert_int_equal(p.def[0], 1);
	assert_int_equal(p.def[1], 0);
	sweep_point_at(s, s->npoints - 1, &p);
	assert_int_equal(p.file, 1);
	assert_int_equal(p.def[0], 2);
	/* A tuple sets its parameters together. */
	char buf[256];
	const char *argv[8];
	sweep_point_at(s, 4, &p);
	int n = sweep_point_defines(s, &p, buf, sizeof(buf), argv, 8);
	assert_int_equal(n, 3);
	assert_string_equal(argv[0], "I=1");
	assert_string_equal(argv[1], "E=6");
	assert_string_equal(argv[2], "F=7");
	/* Neighbours share an analysis unless file or defines change. */
	sweep_point q;
	sweep_point_at(s, 5, &q);
	assert_true(sweep_same_analysis(s, &p, &q));
	sweep_point_at(s, 8, &q);
	assert_false(sweep_same_analysis(s, &p, &q));
	sweep_spec_free(s);
}

static void test_shards(void **state)
{
	(void)state;
	int64_t k, n;
	assert_int_equal(sweep_parse_shard("3/8", &k, &n), 0);
	assert_int_equal(k, 3);
	assert_int_equal(n, 8);
	assert_int_equal(sweep_parse_shard("1/1", &k, &n), 0);
	const char *bad[] = {"3/2", "0/4", "1/0", "/4", "1/", "a/b", "1/4x", "-1/4", "1//4", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sweep_parse_shard(bad[i], &k, &n), -1);
	/* Shards K/N take K-1, K-1+N, ...: every point exactly once. */
	int64_t total = 37;
	for (int64_t nn = 1; nn <= 9; nn++) {
		int seen[37] = {0};
		for (int64_t kk = 1; kk <= nn; kk++)
			for (int64_t i = kk - 1; i < total; i += nn)
				seen[i]++;
		for (int i = 0; i < total; i++)
			assert_int_equal(seen[i], 1);
	}
}

static void test_errors(void **state)
{
	(void)state;
	static const struct {
		const char *spec, *msg;
	} cases[] = {
		{"{\"file\": \"a\", \"polcy\": [\"full\"]}",
		 "field \"polcy\": unknown field (did you mean \"policy\"?)"},
		{"{\"file\": \"a\", \"arch\": []}", "field \"arch\": expected a non-empty list"},
		{"{\"file\": \"a\", \"defines\": {\"I\": [1, 1]}}",
		 "field \"defines.I[1]\": expected a value not listed before"},
		{"{\"file\": \"a\", \"defines\": {\"I\": [1.5]}}",
		 "field \"defines.I[0]\": expected an integer, found 1.5"},
		{"{\"file\": \"a\", \"defines\": {\"I,J\": [[1, 2], [3]]}}",
		 "field \"defines.I,J[1]\": expected a list of 2 integers"},
		{"{\"file\": \"a\", \"defines\": {\"I\": [1], \"J,I\": [[1, 2]]}}",
		 "field \"defines.J,I\": parameter I is already set by another key"},
		{"{\"file\": \"a\", \"defines\": {\"2x\": [1]}}", "field \"defines.2x\": expected a parameter name"},
		{"{\"file\": \"a\", \"buffer\": [0]}", "field \"buffer[0]\": expected a positive"},
		{"{\"file\": \"a\", \"policy\": 3}",
		 "field \"policy\": expected a non-empty list of strings"},
		{"{\"file\": \"a\", \"policy\": [\"fused\"]}", "field \"policy[0]\": expected unfused"},
		{"[1]", "expected a JSON object at the top level"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512] = "";
		sweep_spec *s = parse(cases[i].spec, err, sizeof(err));
		if (s || strncmp(err, cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("%s: got \"%s\"", cases[i].spec, err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_shards),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
