/* fuzz_common.h - what the fuzz targets of tests/fuzz share: running the
 * checker on a source and, when it checks, everything downstream that a
 * user's input reaches (IR as JSON and text, the reference evaluator on a
 * small enough cascade), with oracles that turn silent misbehaviour into a
 * crash the fuzzer reports:
 *   - an "internal error" diagnostic (a bug, never the input's fault);
 *   - a checked cascade that the evaluator finds out of bounds (the checker
 *     proved it cannot happen);
 *   - errors counted but no cascade returned, or the reverse;
 *   - (sources without -D) an error printed without a file:line:col.
 * Memory errors, leaks and undefined behaviour are the sanitizers' to find.
 *
 * Header-only so that each target is one translation unit plus the
 * libraries; the same file is linked with libFuzzer (clang) or with
 * replay.c (any compiler) to replay a corpus.
 */
#ifndef MAMBALAYA_FUZZ_COMMON_H
#define MAMBALAYA_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/check.h"
#include "base/diag.h"
#include "eval/eval.h"
#include "front/ir_json.h"

/* Cascades evaluated by the fuzzers: at most this many tensor elements in
 * all, and this many points in the iteration space of every Einsum, so that
 * one input runs in milliseconds. */
#define FUZZ_EVAL_MAX_ELEMS 100000
#define FUZZ_EVAL_MAX_POINTS 200000

#define FUZZ_FILE "fuzz.ein"

static void fuzz_bug(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz: BUG: %s\n%s\n", what, detail ? detail : "");
	abort();
}

/* Prints the diagnostics of d into a new string (caller frees). */
static char *fuzz_flush(diag_ctx *d, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	if (!f)
		abort();
	diag_flush(d, f);
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

/* The oracles on the printed diagnostics of a source. */
static void fuzz_check_diags(const char *out, int need_positions)
{
	/* Every error line must be "fuzz.ein:LINE:COL: error: ..." with
	 * LINE, COL >= 1.  Messages may quote the input (which may then say
	 * "internal error" itself): look only at the start of a message. */
	const char *prefix = FUZZ_FILE ":";
	size_t pl = strlen(prefix);
	for (const char *p = out; *p;) {
		const char *nl = strchr(p, '\n');
		size_t ll = nl ? (size_t)(nl - p) : strlen(p);
		const char *m = strstr(p, ": error: ");
		if (m && m < p + ll && strncmp(p, prefix, pl) == 0 &&
		    strncmp(m + 9, "internal error", 14) == 0)
			fuzz_bug("internal error diagnostic", out);
		if (need_positions && ll > pl && strncmp(p, prefix, pl) == 0 &&
		    !(p[pl] >= '1' && p[pl] <= '9')) {
			/* "fuzz.ein: error: ..." or "fuzz.ein: note: N more
			 * diagnostics not shown" or "fuzz.ein:0:..." */
			if (strncmp(p + pl, " note: ", 7) != 0)
				fuzz_bug("diagnostic without a position", out);
		}
		p = nl ? nl + 1 : p + ll;
	}
}

/* IR text and JSON, into buffers of several sizes (truncation paths). */
static void fuzz_ir(const ein_cascade *c)
{
	cJSON *j = ir_json_cascade(c);
	if (!j)
		fuzz_bug("ir_json_cascade returned NULL", NULL);
	char *s = cJSON_PrintUnformatted(j);
	if (!s)
		fuzz_bug("cJSON_PrintUnformatted returned NULL", NULL);
	free(s);
	cJSON_Delete(j);
	static const size_t sizes[] = {1, 7, 64, 4096};
	for (int e = 0; e < c->neinsums; e++) {
		const ein_einsum *es = &c->einsums[e];
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			char buf[4096];
			memset(buf, 'x', sizeof(buf));
			ir_access_string(c, es, &es->out, buf, sizes[k]);
			if (!memchr(buf, '\0', sizes[k]))
				fuzz_bug("ir_access_string: no NUL", NULL);
			memset(buf, 'x', sizeof(buf));
			ir_expr_string(c, es, es->rhs, buf, sizes[k]);
			if (!memchr(buf, '\0', sizes[k]))
				fuzz_bug("ir_expr_string: no NUL", NULL);
		}
	}
}

/* Is the cascade small enough to evaluate quickly? */
static int fuzz_small(const ein_cascade *c)
{
	int64_t total = 0;
	for (int t = 0; t < c->ntensors; t++) {
		int64_t n = c->tensors[t].nelems;
		if (n < 0 || n > FUZZ_EVAL_MAX_ELEMS - total)
			return 0;
		total += n;
	}
	for (int e = 0; e < c->neinsums; e++) {
		int64_t pts = 1;
		const ein_einsum *es = &c->einsums[e];
		for (int v = 0; v < es->nvars; v++) {
			int64_t s = es->vars[v].size;
			if (s <= 0)
				continue;
			if (s > FUZZ_EVAL_MAX_POINTS / pts)
				return 0;
			pts *= s;
		}
	}
	return 1;
}

static void fuzz_eval(const ein_cascade *c)
{
	if (!fuzz_small(c))
		return;
	int bad = -2;
	eval_tensors *t = eval_tensors_alloc(c, FUZZ_EVAL_MAX_ELEMS, &bad);
	if (!t)
		fuzz_bug("eval_tensors_alloc failed on a small cascade", NULL);
	eval_fill_random(c, t, 1);
	char msg[512] = "";
	if (eval_run(c, t, msg, sizeof(msg)) < 0)
		fuzz_bug("eval_run failed on a checked cascade", msg);
	eval_tensors_free(t);
}

/* Checks the source (len bytes) with the given -D strings and runs
 * everything downstream.  need_positions: no -D were given, so every error
 * must have a position. */
static void fuzz_source(const char *src, size_t len, int ndefines,
			const char *const *defines, int need_positions)
{
	diag_ctx *d = diag_new(FUZZ_FILE, src, len);
	if (!d)
		abort();
	check_opts opts = {ndefines, defines};
	ein_cascade *c = check_source(d, &opts);
	int errors = diag_error_count(d);
	char *out = fuzz_flush(d, NULL);
	if ((c == NULL) != (errors > 0))
		fuzz_bug(c ? "a cascade returned with errors"
			   : "no cascade and no error",
			 out);
	fuzz_check_diags(out, need_positions);
	free(out);
	diag_free(d);
	if (!c)
		return;
	fuzz_ir(c);
	fuzz_eval(c);
	ein_cascade_free(c);
}

#endif
