/* mlb_write.c - writing .mlb files (see mlb.h and docs/isa.md). */
#include "mlb_impl.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsio.h"

typedef struct wr {
	uint8_t *p;
	size_t n, cap;
	int oom;
} wr;

static void wr_bytes(wr *w, const void *src, size_t n)
{
	if (w->oom)
		return;
	if (w->n + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		while (w->n + n > cap)
			cap *= 2;
		uint8_t *p = realloc(w->p, cap);
		if (!p) {
			w->oom = 1;
			return;
		}
		w->p = p;
		w->cap = cap;
	}
	memcpy(w->p + w->n, src, n);
	w->n += n;
}

static void wr_uint(wr *w, uint64_t v, int n)
{
	uint8_t b[8];
	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	wr_bytes(w, b, (size_t)n);
}

static void wr_f64(wr *w, double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof(u));
	wr_uint(w, u, 8);
}

static void wr_f32(wr *w, float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	wr_uint(w, u, 4);
}

static void wr_str(wr *w, const char *s)
{
	size_t n = strlen(s);
	wr_uint(w, n, 2);
	wr_bytes(w, s, n);
}

/* Starts section k; returns the offset of its length field. */
static size_t wr_section(wr *w, int k)
{
	wr_bytes(w, mlb_section_tags[k], 4);
	size_t at = w->n;
	wr_uint(w, 0, 4);
	return at;
}

static void wr_end_section(wr *w, size_t at)
{
	if (w->oom)
		return;
	uint32_t n = (uint32_t)(w->n - at - 4);
	for (int i = 0; i < 4; i++)
		w->p[at + (size_t)i] = (uint8_t)(n >> (8 * i));
}

int mlb_write(const mlb_module *m, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
	*buf = NULL;
	*len = 0;
	char msg[400];
	if (mlb_validate(m, msg, sizeof(msg)) < 0) {
		mlb_seterr(err, errlen, "refusing to write an invalid module: %s", msg);
		return -1;
	}
	wr w = {0};
	wr_bytes(&w, mlb_magic, 4);
	wr_uint(&w, MLB_VERSION_MAJOR, 2);
	wr_uint(&w, (uint64_t)m->version_minor, 2);
	wr_uint(&w, MLB_NSECTIONS, 4);
	wr_uint(&w, 0, 4); /* size, patched below */
	size_t at = wr_section(&w, 0);
	wr_str(&w, m->name);
	wr_str(&w, m->source);
	wr_end_section(&w, at);
	at = wr_section(&w, 1);
	const mlb_target *t = &m->target;
	wr_str(&w, t->name);
	wr_uint(&w, (uint64_t)t->rows, 8);
	wr_uint(&w, (uint64_t)t->cols, 8);
	wr_uint(&w, (uint64_t)t->cores, 8);
	wr_uint(&w, (uint64_t)t->drain_cycles, 8);
	wr_uint(&w, (uint64_t)t->lanes, 8);
	wr_uint(&w, (uint64_t)t->buffer_bytes, 8);
	wr_uint(&w, (uint64_t)t->concurrent, 1);
	wr_uint(&w, (uint64_t)t->double_buffer, 1);
	wr_uint(&w, (uint64_t)t->bytes_per_value, 1);
	wr_uint(&w, MLB_NOPS, 1);
	wr_f64(&w, t->switch_cycles);
	wr_f64(&w, t->dram_gb_per_s);
	wr_f64(&w, t->clock_ghz);
	for (int k = 0; k < MLB_NOPS; k++)
		wr_f64(&w, t->op_cycles[k]);
	if (m->version_minor >= 1) {
		wr_uint(&w, (uint64_t)t->nlevels, 1);
		for (int l = 0; l < t->nlevels; l++) {
			const mlb_level *lv = &t->levels[l];
			wr_str(&w, lv->name);
			wr_uint(&w, (uint64_t)lv->bytes, 8);
			wr_f64(&w, lv->read_gb_per_s);
			wr_f64(&w, lv->write_gb_per_s);
			wr_f64(&w, lv->tile_overhead_cycles);
		}
	}
	wr_end_section(&w, at);
	at = wr_section(&w, 2);
	wr_uint(&w, (uint64_t)m->dram_values, 8);
	wr_uint(&w, (uint64_t)m->ntensors, 4);
	for (int i = 0; i < m->ntensors; i++) {
		const mlb_tensor *tt = &m->tensors[i];
		wr_str(&w, tt->name);
		wr_uint(&w, (uint64_t)tt->role, 1);
		wr_uint(&w, (uint64_t)tt->ndims, 1);
		wr_uint(&w, 0, 2);
		wr_uint(&w, (uint64_t)tt->dram, 8);
		for (int d = 0; d < tt->ndims; d++)
			wr_uint(&w, (uint64_t)tt->shape[d], 8);
	}
	wr_end_section(&w, at);
	at = wr_section(&w, 3);
	wr_uint(&w, (uint64_t)m->ngroups, 4);
	for (int i = 0; i < m->ngroups; i++)
		wr_str(&w, m->groups[i]);
	wr_end_section(&w, at);
	at = wr_section(&w, 4);
	wr_uint(&w, (uint64_t)m->ndescs, 4);
	for (int i = 0; i < m->ndescs; i++) {
		const mlb_desc *d = &m->descs[i];
		wr_uint(&w, (uint64_t)d->kind, 1);
		wr_uint(&w, (uint64_t)d->ndim, 1);
		wr_uint(&w, (uint64_t)d->nstreams, 1);
		wr_uint(&w, (uint64_t)d->flags, 1);
		wr_uint(&w, (uint64_t)d->tensor, 2);
		wr_uint(&w, 0, 2);
		wr_uint(&w, d->uop, 4);
		wr_uint(&w, d->nuops, 4);
		for (int k = 0; k < MLB_MAX_DIMS; k++)
			wr_uint(&w, d->cls[k], 1);
		wr_f32(&w, d->value);
		wr_uint(&w, 0, 4);
		for (int s = 0; s < MLB_MAX_STREAMS; s++)
			for (int k = 0; k < MLB_MAX_DIMS; k++)
				wr_uint(&w, (uint32_t)d->stride[s][k], 4);
	}
	wr_end_section(&w, at);
	at = wr_section(&w, 5);
	wr_uint(&w, (uint64_t)m->nuops, 4);
	for (int i = 0; i < m->nuops; i++) {
		const mlb_uop *u = &m->uops[i];
		wr_uint(&w, u->op, 1);
		wr_uint(&w, u->fn, 1);
		wr_uint(&w, u->cost, 1);
		wr_uint(&w, u->mask, 1);
		wr_uint(&w, u->a, 2);
		wr_uint(&w, u->b, 2);
		wr_f32(&w, u->value);
		wr_uint(&w, 0, 4);
	}
	wr_end_section(&w, at);
	at = wr_section(&w, 6);
	wr_uint(&w, (uint64_t)m->ninsns, 4);
	for (int i = 0; i < m->ninsns; i++) {
		const mlb_insn *in = &m->insns[i];
		wr_uint(&w, in->op, 1);
		wr_uint(&w, in->a, 1);
		wr_uint(&w, in->b, 1);
		wr_uint(&w, in->c, 1);
		wr_uint(&w, in->x, 4);
		wr_uint(&w, (uint64_t)in->imm, 8);
	}
	wr_end_section(&w, at);
	size_t total = w.n + 4;
	if (!w.oom && total > 0xffffffffu) {
		free(w.p);
		mlb_seterr(err, errlen, "module of %zu bytes exceeds 4 GiB", total);
		return -1;
	}
	if (!w.oom)
		for (int i = 0; i < 4; i++)
			w.p[12 + i] = (uint8_t)(total >> (8 * i));
	uint32_t crc = w.oom ? 0 : mlb_crc32(w.p, w.n);
	wr_uint(&w, crc, 4);
	if (w.oom) {
		free(w.p);
		mlb_seterr(err, errlen, "out of memory");
		return -1;
	}
	*buf = w.p;
	*len = w.n;
	return 0;
}

int mlb_write_file(const mlb_module *m, const char *path, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	if (mlb_write(m, &buf, &len, err, errlen) < 0)
		return -1;
	int rc = fs_write_file(path, buf, len, err, errlen);
	free(buf);
	return rc;
}
