/* fuzz_stream_common.h - what fuzz_mlb.c and fuzz_asm.c share: the round
 * trips of an accepted accelerator stream (binary -> text -> binary must
 * give the same bytes, docs/isa.md) and a run of the simulator under small
 * limits, which must end (with a result or a fault) whatever the program
 * does. */
#ifndef MAMBALAYA_FUZZ_STREAM_COMMON_H
#define MAMBALAYA_FUZZ_STREAM_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isa/asm.h"
#include "isa/mlb.h"
#include "sim/sim.h"

static void stream_bug(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz: BUG: %s\n%s\n", what, detail ? detail : "");
	abort();
}

/* Runs f(arg) with stderr going to a temporary file; returns what it
 * printed (caller frees). */
static char *stream_capture_stderr(int (*f)(void *), void *arg, int *ret)
{
	static FILE *tmp;
	if (!tmp && !(tmp = tmpfile()))
		abort();
	fflush(stderr);
	int saved = dup(2);
	if (saved < 0 || ftruncate(fileno(tmp), 0) != 0 ||
	    dup2(fileno(tmp), 2) < 0)
		abort();
	rewind(tmp);
	*ret = f(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	off_t end = lseek(fileno(tmp), 0, SEEK_END);
	char *buf = end < 0 ? NULL : malloc((size_t)end + 1);
	if (!buf)
		abort();
	if (pread(fileno(tmp), buf, (size_t)end, 0) != (ssize_t)end)
		abort();
	buf[end] = '\0';
	return buf;
}

/* A rejection says why, and where: there is an error line, and every
 * error line is FILE:LINE:COL: error: with LINE, COL >= 1 (also for the
 * checks the assembler makes after parsing: regressions/asm/). */
static __attribute__((unused)) void stream_check_positions(const char *out,
							   const char *file)
{
	size_t fl = strlen(file);
	int errors = 0;
	for (const char *p = out; *p;) {
		const char *nl = strchr(p, '\n');
		size_t ll = nl ? (size_t)(nl - p) : strlen(p);
		const char *m = strstr(p, ": error: ");
		if (m && m < p + ll && strncmp(p, file, fl) == 0) {
			int line = 0, col = 0;
			if (sscanf(p + fl, ":%d:%d: error: ", &line, &col) != 2 ||
			    line < 1 || col < 1)
				stream_bug("an error without a valid line and column", out);
			errors++;
		}
		p = nl ? nl + 1 : p + ll;
	}
	if (!errors)
		stream_bug("rejected without an error message", out);
}

struct asm_call {
	const char *file, *src;
	size_t len;
	mlb_module *m;
};

static int call_assemble(void *arg)
{
	struct asm_call *a = arg;
	return asm_assemble(a->file, a->src, a->len, &a->m);
}

/* The serialised form of m, or abort. */
static uint8_t *stream_write(const mlb_module *m, size_t *len)
{
	uint8_t *buf = NULL;
	char err[512];
	if (mlb_write(m, &buf, len, err, sizeof(err)) != 0)
		stream_bug("an accepted module cannot be written", err);
	return buf;
}

/* m was accepted: it writes, reads back, disassembles and assembles back to
 * the same bytes, and the simulator runs it to an end. */
static void stream_accepted(const mlb_module *m)
{
	char err[512];
	if (mlb_validate(m, err, sizeof(err)) != 0)
		stream_bug("an accepted module does not validate", err);
	size_t len;
	uint8_t *bytes = stream_write(m, &len);
	mlb_module *m2 = NULL;
	if (mlb_read(bytes, len, &m2, err, sizeof(err)) != 0)
		stream_bug("a written module is rejected", err);
	size_t len2;
	uint8_t *bytes2 = stream_write(m2, &len2);
	if (len2 != len || memcmp(bytes, bytes2, len) != 0)
		stream_bug("write(read(write(m))) differs from write(m)", NULL);
	free(bytes2);
	mlb_free(m2);

	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	if (!f || asm_disassemble(m, f) != 0)
		stream_bug("disassembly failed", NULL);
	fclose(f);
	struct asm_call a = {"fuzz.s", text, tlen, NULL};
	int r;
	char *diags = stream_capture_stderr(call_assemble, &a, &r);
	if (r != 0)
		stream_bug("the disassembly of an accepted module does not assemble",
			   diags);
	free(diags);
	bytes2 = stream_write(a.m, &len2);
	if (len2 != len || memcmp(bytes, bytes2, len) != 0)
		stream_bug("assemble(disassemble(m)) differs from m", text);
	free(bytes2);
	mlb_free(a.m);
	free(text);
	free(bytes);

	/* The simulator, under small limits: it must stop, with a result or
	 * a fault, never crash or hang. */
	sim_options o = {0};
	o.max_steps = 100000;
	o.max_trip = 10000;
	o.max_work = 1000000;
	o.max_dram = 1 << 20;
	o.max_buffer = 1 << 20;
	sim *s = sim_new(m, &o, err, sizeof(err));
	if (!s) {
		if (!err[0])
			stream_bug("sim_new failed without a message", NULL);
		return;
	}
	sim_stats st;
	memset(&st, 0, sizeof(st));
	if (sim_run(s, &st, err, sizeof(err)) != 0 && !err[0])
		stream_bug("sim_run failed without a message", NULL);
	sim_stats_clear(&st);
	sim_free(s);
}

#endif
