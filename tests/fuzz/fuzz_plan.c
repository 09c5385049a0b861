/* fuzz_plan.c - fuzz target: the bytes are a saved plan (JSON,
 * docs/plan.md), as `plan --plan FILE` and `compile --plan FILE` read it,
 * for examples/mamba1.ein with -D ED=16 -D I=4 (checked once, with its
 * dependence graph; the sizes of the plans in tests/targets/).
 *
 * JSON parsing as the commands do it, plan_from_json (names, ranks,
 * parameters, every Einsum in exactly one group), then plan_validate
 * (legality of every group at its tile sizes, order of the groups) and
 * plan_to_json.  Oracles besides the sanitizers: a failure leaves a
 * non-empty message; an accepted plan's JSON is accepted again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "analysis/deps.h"
#include "analysis/poly.h"
#include "front/check.h"
#include "mapping/plan.h"

#ifndef MAMBALAYA_SRCDIR
#define MAMBALAYA_SRCDIR "."
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ein_cascade *casc;
static isl_ctx *ctx;
static deps_graph *graph;

static void bug(const char *what, const char *err)
{
	fprintf(stderr, "fuzz: BUG: %s (%s)\n", what, err);
	abort();
}

static void cleanup(void)
{
	deps_free(graph);
	isl_ctx_free(ctx);
	ein_cascade_free(casc);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[512], path[4096];
	const char *dir = getenv("MAMBALAYA_SRCDIR");
	snprintf(path, sizeof(path), "%s/examples/mamba1.ein",
		 dir ? dir : MAMBALAYA_SRCDIR);
	diag_ctx *d = check_load_file(path, CHECK_MAX_SOURCE_BYTES, err,
				      sizeof(err));
	if (!d)
		bug("cannot read the cascade", err);
	static const char *const defs[] = {"ED=16", "I=4"};
	check_opts opts = {2, defs};
	casc = check_source(d, &opts);
	diag_free(d);
	ctx = poly_ctx_new();
	graph = casc && ctx ? deps_build(ctx, casc, err, sizeof(err)) : NULL;
	if (!graph)
		bug("cannot analyse the cascade", err);
	atexit(cleanup);
	return 0;
}

/* Parses and reads a plan; NULL with a message. */
static plan *read_plan(const char *text, size_t len, char *err, size_t errlen)
{
	err[0] = '\0';
	cJSON *j = cJSON_ParseWithLength(text, len);
	if (!j) {
		snprintf(err, errlen, "invalid JSON");
		return NULL;
	}
	plan *p = plan_from_json(j, casc, err, errlen);
	cJSON_Delete(j);
	if (p && plan_validate(p, graph, err, errlen) < 0) {
		plan_free(p);
		p = NULL;
	}
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!graph)
		LLVMFuzzerInitialize(NULL, NULL);
	char err[2048];
	plan *p = read_plan((const char *)data, size, err, sizeof(err));
	if (!p) {
		/* One line, whatever names the input holds. */
		if (!err[0] || strchr(err, '\n'))
			bug("failure message empty or not one line", err);
		return 0;
	}
	cJSON *j = plan_to_json(p, casc);
	char *s = j ? cJSON_PrintUnformatted(j) : NULL;
	if (!s)
		bug("plan_to_json failed", "");
	plan *p2 = read_plan(s, strlen(s), err, sizeof(err));
	if (!p2)
		bug("the JSON of an accepted plan is rejected", err);
	plan_free(p2);
	free(s);
	cJSON_Delete(j);
	plan_free(p);
	return 0;
}
