/* fuzz_target.c - fuzz target: the bytes are a target description (JSON,
 * docs/target.md), as `--arch FILE` reads it.
 *
 * The bytes go through target_load_file (the loader users reach: size and
 * NUL checks, JSON with line:col on syntax errors, every field checked) by
 * way of a private temporary file, then target_to_json on success.
 * Oracles besides the sanitizers: a failure leaves a non-empty message;
 * a success describes a usable machine (positive array sizes,
 * clock, bandwidth and bytes per value, finite costs), and its JSON form
 * loads back to the same JSON. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <math.h>

#include "mapping/target.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void bug(const char *what, const char *err)
{
	fprintf(stderr, "fuzz: BUG: %s (%s)\n", what, err);
	abort();
}

static void cleanup(void)
{
	if (path[0])
		unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "/tmp/mambalaya-fuzz-target-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
	atexit(cleanup);
	return 0;
}

static target *load(const void *data, size_t size, char *err, size_t errlen)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	err[0] = '\0';
	return target_load_file(path, err, errlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!path[0])
		LLVMFuzzerInitialize(NULL, NULL);
	char err[1024];
	target *t = load(data, size, err, sizeof(err));
	if (!t) {
		/* One line, whatever names the input holds. */
		if (!err[0] || strchr(err, '\n'))
			bug("failure message empty or not one line", err);
		return 0;
	}
	if (t->rows <= 0 || t->cols <= 0 || t->cores <= 0 || t->lanes <= 0 ||
	    t->bytes_per_value <= 0 || !(t->clock_ghz > 0) ||
	    !(t->dram_gb_per_s > 0) || t->buffer_bytes <= 0)
		bug("accepted a target that cannot run", "");
	for (int i = 0; i < TARGET_NOPS; i++)
		if (!isfinite(t->op_cycles[i]) || t->op_cycles[i] < 0)
			bug("accepted a non-finite or negative cost", target_op_name(i));
	(void)target_bytes_per_cycle(t);
	/* Round trip: the JSON of the loaded target loads back the same. */
	cJSON *j = target_to_json(t);
	char *s = j ? cJSON_PrintUnformatted(j) : NULL;
	if (!s)
		bug("target_to_json failed", "");
	target *t2 = load(s, strlen(s), err, sizeof(err));
	if (!t2)
		bug("the JSON of an accepted target is rejected", err);
	cJSON *j2 = target_to_json(t2);
	char *s2 = j2 ? cJSON_PrintUnformatted(j2) : NULL;
	if (!s2 || strcmp(s, s2) != 0)
		bug("round trip changed the target", s2 ? s2 : "");
	free(s2);
	cJSON_Delete(j2);
	target_free(t2);
	free(s);
	cJSON_Delete(j);
	target_free(t);
	return 0;
}
