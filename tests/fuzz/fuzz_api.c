/* fuzz_api.c - fuzz target: the C API (compiler/api/mambalaya.h) as an
 * embedding program calls it.
 *
 * The first byte picks what to ask of a cascade that loads (bit 0: the IR,
 * deps and groups as JSON; bit 1: a plan, with the policy from bits 2-3;
 * bit 4: the report without a sweep; bit 5: the evaluator on zeros); the
 * rest is the source, loaded with mambalaya_load_source.  Oracles: a
 * failed load gives a message and no cascade, a loaded one no message;
 * every JSON and page returned is NUL-terminated and non-empty; no
 * "internal error" in any message; the sanitizers for the rest.  Plans,
 * reports and the evaluator run only on small cascades (the IR's element
 * counts), so that an input cannot ask for hours of work. */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mambalaya.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "internal error" in a message, outside the source excerpts a
 * diagnostic quotes ("   12 | text", "      |  ^"), where a source may
 * say anything. */
static void no_internal(const char *what, const char *msg)
{
	for (const char *line = msg; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		size_t i = 0;
		while (i < n && (line[i] == ' ' || (line[i] >= '0' && line[i] <= '9')))
			i++;
		int excerpt = i > 0 && i < n && line[i] == '|';
		if (!excerpt && memmem(line, n, "internal error", 14)) {
			fprintf(stderr, "fuzz_api: %s: %s\n", what, msg);
			abort();
		}
		line = end ? end + 1 : NULL;
	}
}

static void check_text(const char *what, char *s, char *err)
{
	no_internal(what, err);
	if (s && !s[0]) {
		fprintf(stderr, "fuzz_api: %s: empty result\n", what);
		abort();
	}
	if (!s && !err) {
		fprintf(stderr, "fuzz_api: %s: failed without a message\n", what);
		abort();
	}
	mambalaya_free(s);
	mambalaya_free(err);
}

/* The sum of the tensors' element counts (a bound on the work of one
 * pass over them). */
static double elements(const cJSON *ir)
{
	double sum = 0;
	const cJSON *t;
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(ir, "tensors"))
		sum += cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "elements"));
	return sum;
}

/* The evaluator on zero inputs (every input and weight by name). */
static void eval_zeros(mambalaya_cascade *c, const cJSON *ir)
{
	mambalaya_tensor in[64];
	int n = 0;
	const cJSON *t;
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(ir, "tensors"))
	{
		const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "role"));
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "name"));
		if (n == 64 || !role || !name || (strcmp(role, "input") && strcmp(role, "weight")))
			continue;
		int64_t ne = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "elements"));
		in[n++] = (mambalaya_tensor){name, calloc((size_t)(ne > 0 ? ne : 1), sizeof(float)), ne};
	}
	char *err = NULL;
	int st = mambalaya_eval(c, in, n, NULL, 0, &err);
	no_internal("eval", err);
	if (st && !err) {
		fprintf(stderr, "fuzz_api: eval failed without a message\n");
		abort();
	}
	mambalaya_free(err);
	for (int i = 0; i < n; i++)
		free(in[i].data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1 << 16)
		return 0;
	unsigned op = data[0];
	char *src = strndup((const char *)data + 1, size - 1);
	if (!src)
		return 0;
	char *err = NULL;
	mambalaya_cascade *c = mambalaya_load_source("fuzz.ein", src, NULL, 0, &err);
	free(src);
	if (!c == !err) {
		fprintf(stderr, "fuzz_api: load: a cascade and a message, or neither\n");
		abort();
	}
	no_internal("load", err);
	mambalaya_free(err);
	if (!c)
		return 0;
	err = NULL;
	char *ir = mambalaya_ir_json(c, &err);
	if (!ir) {
		fprintf(stderr, "fuzz_api: no IR for a loaded cascade: %s\n", err ? err : "");
		abort();
	}
	cJSON *j = cJSON_Parse(ir);
	if (!j) {
		fprintf(stderr, "fuzz_api: the IR is not JSON\n");
		abort();
	}
	double work = elements(j);
	char *out;
	if (op & 1) {
		out = mambalaya_deps_json(c, &err);
		check_text("deps", out, err);
		out = mambalaya_groups_json(c, &err);
		check_text("groups", out, err);
	}
	static const char *const policies[] = {"unfused", "ssm-ri", "full", "bad"};
	if ((op & 2) && work <= 1 << 16) {
		out = mambalaya_plan_json(c, NULL, policies[(op >> 2) & 3], 0, &err);
		check_text("plan", out, err);
	}
	if ((op & 16) && work <= 1 << 14) {
		out = mambalaya_report_html(c, NULL, NULL, 0, 0, NULL, 0, &err);
		check_text("report", out, err);
	}
	if ((op & 32) && work <= 1 << 14)
		eval_zeros(c, j);
	cJSON_Delete(j);
	mambalaya_free(ir);
	mambalaya_cascade_free(c);
	return 0;
}
