/* mlb_read.c - reading .mlb files: every length, offset, index and
 * reserved field checked, errors at their byte offset (see mlb.h and
 * docs/isa.md). */
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

typedef struct rd {
	const uint8_t *p;
	size_t len, pos;
	size_t sec[MLB_NSECTIONS]; /* payload offsets, for semantic errors */
	size_t *tens;	       /* offset of each tensor record */
	char *err;
	size_t errlen;
	int failed;
} rd;

static void __attribute__((format(printf, 2, 3))) rd_fail(rd *r, const char *fmt, ...)
{
	if (r->failed)
		return;
	r->failed = 1;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mlb_seterr(r->err, r->errlen, "offset %zu: %s", r->pos, msg);
}

static int rd_need(rd *r, size_t n, const char *what)
{
	if (r->failed)
		return -1;
	if (n > r->len - r->pos) {
		rd_fail(r, "truncated: %s needs %zu bytes, %zu left", what, n, r->len - r->pos);
		return -1;
	}
	return 0;
}

static uint64_t rd_uint(rd *r, int n, const char *what)
{
	if (rd_need(r, (size_t)n, what) < 0)
		return 0;
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | r->p[r->pos + (size_t)i];
	r->pos += (size_t)n;
	return v;
}

static double rd_f64(rd *r, const char *what)
{
	uint64_t u = rd_uint(r, 8, what);
	double d;
	memcpy(&d, &u, sizeof(d));
	return d;
}

static float rd_f32(rd *r, const char *what)
{
	uint32_t u = (uint32_t)rd_uint(r, 4, what);
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}

/* A u16 length and that many bytes into buf (room for max + 1). */
static void rd_str(rd *r, char *buf, size_t max, const char *what)
{
	size_t start = r->pos;
	size_t n = (size_t)rd_uint(r, 2, what);
	if (r->failed)
		return;
	if (n > max) {
		r->pos = start;
		rd_fail(r, "%s: length %zu exceeds %zu", what, n, max);
		return;
	}
	if (rd_need(r, n, what) < 0)
		return;
	if (!mlb_text_ok((const char *)r->p + r->pos, n)) {
		rd_fail(r, "%s: not printable ASCII without quotes or backslashes", what);
		return;
	}
	memcpy(buf, r->p + r->pos, n);
	buf[n] = '\0';
	r->pos += n;
}

static void rd_zero(rd *r, int n, const char *what)
{
	size_t at = r->pos;
	if (rd_uint(r, n, what) != 0 && !r->failed) {
		r->pos = at;
		rd_fail(r, "%s: reserved bytes are not zero", what);
	}
}

static int64_t rd_i64(rd *r, const char *what)
{
	return (int64_t)rd_uint(r, 8, what);
}

/* The count of a table whose records take at least min_bytes each. */
static int rd_count(rd *r, int max, size_t min_bytes, const char *what)
{
	size_t at = r->pos;
	uint32_t n = (uint32_t)rd_uint(r, 4, what);
	if (r->failed)
		return -1;
	if (n > (uint32_t)max) {
		r->pos = at;
		rd_fail(r, "%s: %u entries exceed the limit of %d", what, n, max);
		return -1;
	}
	if (min_bytes && (size_t)n > (r->len - r->pos) / min_bytes) {
		rd_fail(r, "truncated: %u %s need at least %zu bytes, %zu left", n, what,
			n * min_bytes, r->len - r->pos);
		return -1;
	}
	return (int)n;
}

static void *rd_calloc(rd *r, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		rd_fail(r, "out of memory");
	return p;
}

/* Reads section tag and length; returns the end offset of its payload. */
static size_t rd_section(rd *r, int k)
{
	if (rd_need(r, 8, "a section header") < 0)
		return 0;
	if (memcmp(r->p + r->pos, mlb_section_tags[k], 4) != 0) {
		char got[5];
		for (int i = 0; i < 4; i++) {
			unsigned char ch = r->p[r->pos + (size_t)i];
			got[i] = ch >= 0x20 && ch <= 0x7e ? (char)ch : '?';
		}
		got[4] = '\0';
		rd_fail(r, "expected section '%s', found '%s'", mlb_section_tags[k], got);
		return 0;
	}
	r->pos += 4;
	size_t at = r->pos;
	uint32_t n = (uint32_t)rd_uint(r, 4, "a section length");
	if (r->failed)
		return 0;
	if (n > r->len - r->pos) {
		r->pos = at;
		rd_fail(r, "section '%s' claims %u bytes, only %zu remain", mlb_section_tags[k], n,
			r->len - r->pos - 4);
		return 0;
	}
	return r->pos + n;
}

static void rd_end_section(rd *r, size_t end, int k)
{
	if (!r->failed && r->pos != end)
		rd_fail(r, "section '%s' has %zu bytes left over after its last entry",
			mlb_section_tags[k], end - r->pos);
}

static void read_target(rd *r, mlb_target *t, int minor)
{
	rd_str(r, t->name, MLB_MAX_NAME, "target name");
	t->rows = rd_i64(r, "target rows");
	t->cols = rd_i64(r, "target cols");
	t->cores = rd_i64(r, "target cores");
	t->drain_cycles = rd_i64(r, "target drain_cycles");
	t->lanes = rd_i64(r, "target lanes");
	t->buffer_bytes = rd_i64(r, "target buffer_bytes");
	t->concurrent = (int)rd_uint(r, 1, "target concurrent");
	t->double_buffer = (int)rd_uint(r, 1, "target double_buffer");
	t->bytes_per_value = (int)rd_uint(r, 1, "target bytes_per_value");
	size_t at = r->pos;
	int nops = (int)rd_uint(r, 1, "target op count");
	if (!r->failed && nops != MLB_NOPS) {
		r->pos = at;
		rd_fail(r, "target has %d operation costs, version 1 has %d", nops, MLB_NOPS);
	}
	t->switch_cycles = rd_f64(r, "target switch_cycles");
	t->dram_gb_per_s = rd_f64(r, "target dram_gb_per_s");
	t->clock_ghz = rd_f64(r, "target clock_ghz");
	for (int k = 0; k < MLB_NOPS; k++)
		t->op_cycles[k] = rd_f64(r, "target op_cycles");
	if (minor < 1)
		return;
	/* Format 1.1: the memory levels (0, or 2 to MLB_MAX_LEVELS). */
	at = r->pos;
	int n = (int)rd_uint(r, 1, "target level count");
	if (!r->failed && (n == 1 || n > MLB_MAX_LEVELS)) {
		r->pos = at;
		rd_fail(r, "target has %d memory levels (0, or 2 to %d)", n, MLB_MAX_LEVELS);
		return;
	}
	t->nlevels = r->failed ? 0 : n;
	for (int l = 0; l < t->nlevels && !r->failed; l++) {
		mlb_level *lv = &t->levels[l];
		rd_str(r, lv->name, MLB_MAX_LEVEL_NAME, "level name");
		lv->bytes = rd_i64(r, "level bytes");
		lv->read_gb_per_s = rd_f64(r, "level read_gb_per_s");
		lv->write_gb_per_s = rd_f64(r, "level write_gb_per_s");
		lv->tile_overhead_cycles = rd_f64(r, "level tile_overhead_cycles");
	}
}

static void read_tensors(rd *r, mlb_module *m)
{
	m->dram_values = rd_i64(r, "DRAM size");
	int n = rd_count(r, MLB_MAX_TENSORS, 14, "tensors");
	if (n < 0)
		return;
	m->tensors = rd_calloc(r, (size_t)n, sizeof(mlb_tensor));
	if (!m->tensors)
		return;
	m->ntensors = n;
	r->tens = calloc((size_t)(n ? n : 1), sizeof(size_t));
	if (!r->tens) {
		rd_fail(r, "out of memory");
		return;
	}
	for (int i = 0; i < n && !r->failed; i++) {
		mlb_tensor *t = &m->tensors[i];
		r->tens[i] = r->pos;
		rd_str(r, t->name, MLB_MAX_NAME, "tensor name");
		t->role = (int)rd_uint(r, 1, "tensor role");
		size_t at = r->pos;
		t->ndims = (int)rd_uint(r, 1, "tensor dimensions");
		if (!r->failed && t->ndims > MLB_MAX_DIMS) {
			r->pos = at;
			rd_fail(r, "tensor '%s': %d dimensions (at most %d)", t->name, t->ndims,
				MLB_MAX_DIMS);
			return;
		}
		rd_zero(r, 2, "tensor reserved");
		t->dram = rd_i64(r, "tensor DRAM offset");
		for (int d = 0; d < t->ndims; d++)
			t->shape[d] = rd_i64(r, "tensor shape");
	}
}

static void read_groups(rd *r, mlb_module *m)
{
	int n = rd_count(r, MLB_MAX_GROUPS, 2, "groups");
	if (n < 0)
		return;
	m->groups = rd_calloc(r, (size_t)n, sizeof(char *));
	if (!m->groups)
		return;
	for (int i = 0; i < n && !r->failed; i++) {
		char buf[MLB_MAX_NAME + 1];
		rd_str(r, buf, MLB_MAX_NAME, "group name");
		if (r->failed)
			return;
		m->groups[i] = strdup(buf);
		if (!m->groups[i]) {
			rd_fail(r, "out of memory");
			return;
		}
		m->ngroups = i + 1;
	}
}

static void read_descs(rd *r, mlb_module *m)
{
	int n = rd_count(r, MLB_MAX_DESCS, MLB_DESC_BYTES, "descriptors");
	if (n < 0)
		return;
	m->descs = rd_calloc(r, (size_t)n, sizeof(mlb_desc));
	if (!m->descs)
		return;
	m->ndescs = n;
	for (int i = 0; i < n && !r->failed; i++) {
		mlb_desc *d = &m->descs[i];
		d->kind = (int)rd_uint(r, 1, "descriptor kind");
		d->ndim = (int)rd_uint(r, 1, "descriptor dimensions");
		d->nstreams = (int)rd_uint(r, 1, "descriptor streams");
		d->flags = (int)rd_uint(r, 1, "descriptor flags");
		d->tensor = (int)rd_uint(r, 2, "descriptor tensor");
		rd_zero(r, 2, "descriptor reserved");
		d->uop = (uint32_t)rd_uint(r, 4, "descriptor micro-op");
		d->nuops = (uint32_t)rd_uint(r, 4, "descriptor micro-op count");
		for (int k = 0; k < MLB_MAX_DIMS; k++)
			d->cls[k] = (uint8_t)rd_uint(r, 1, "descriptor class");
		d->value = rd_f32(r, "descriptor value");
		rd_zero(r, 4, "descriptor reserved");
		for (int s = 0; s < MLB_MAX_STREAMS; s++)
			for (int k = 0; k < MLB_MAX_DIMS; k++)
				d->stride[s][k] = (int32_t)(uint32_t)rd_uint(r, 4, "descriptor stride");
	}
}

static void read_uops(rd *r, mlb_module *m)
{
	int n = rd_count(r, MLB_MAX_UOPS, MLB_UOP_BYTES, "micro-ops");
	if (n < 0)
		return;
	m->uops = rd_calloc(r, (size_t)n, sizeof(mlb_uop));
	if (!m->uops)
		return;
	m->nuops = n;
	for (int i = 0; i < n && !r->failed; i++) {
		mlb_uop *u = &m->uops[i];
		u->op = (uint8_t)rd_uint(r, 1, "micro-op");
		u->fn = (uint8_t)rd_uint(r, 1, "micro-op function");
		u->cost = (uint8_t)rd_uint(r, 1, "micro-op cost");
		u->mask = (uint8_t)rd_uint(r, 1, "micro-op mask");
		u->a = (uint16_t)rd_uint(r, 2, "micro-op operand");
		u->b = (uint16_t)rd_uint(r, 2, "micro-op operand");
		u->value = rd_f32(r, "micro-op value");
		rd_zero(r, 4, "micro-op reserved");
	}
}

static void read_code(rd *r, mlb_module *m)
{
	int n = rd_count(r, MLB_MAX_INSNS, MLB_INSN_BYTES, "instructions");
	if (n < 0)
		return;
	m->insns = rd_calloc(r, (size_t)n, sizeof(mlb_insn));
	if (!m->insns)
		return;
	m->ninsns = n;
	for (int i = 0; i < n && !r->failed; i++) {
		mlb_insn *in = &m->insns[i];
		in->op = (uint8_t)rd_uint(r, 1, "opcode");
		in->a = (uint8_t)rd_uint(r, 1, "field a");
		in->b = (uint8_t)rd_uint(r, 1, "field b");
		in->c = (uint8_t)rd_uint(r, 1, "field c");
		in->x = (uint32_t)rd_uint(r, 4, "field x");
		in->imm = rd_i64(r, "immediate");
	}
}

/* The offset of the entry a validation message names (the section's
 * start for anything else). */
static size_t entry_offset(const rd *r, const mlb_module *m, const char *msg)
{
	unsigned k;
	char name[MLB_MAX_NAME + 1];
	if (sscanf(msg, "instruction %u", &k) == 1 && k < (unsigned)m->ninsns)
		return r->sec[6] + 4 + (size_t)k * MLB_INSN_BYTES;
	if (sscanf(msg, "descriptor %u", &k) == 1 && k < (unsigned)m->ndescs)
		return r->sec[4] + 4 + (size_t)k * MLB_DESC_BYTES;
	if (sscanf(msg, "micro-op %u", &k) == 1 && k < (unsigned)m->nuops)
		return r->sec[5] + 4 + (size_t)k * MLB_UOP_BYTES;
	if (sscanf(msg, "tensor %u", &k) == 1 && k < (unsigned)m->ntensors && r->tens)
		return r->tens[k];
	if (sscanf(msg, "tensor '%255[^']'", name) == 1 && r->tens)
		for (int i = 0; i < m->ntensors; i++)
			if (strcmp(m->tensors[i].name, name) == 0)
				return r->tens[i];
	if (strncmp(msg, "target", 6) == 0)
		return r->sec[1];
	if (strncmp(msg, "group", 5) == 0)
		return r->sec[3];
	if (strncmp(msg, "the code", 8) == 0 || strncmp(msg, "the last group", 14) == 0)
		return r->sec[6];
	if (strncmp(msg, "DRAM", 4) == 0)
		return r->sec[2];
	return r->sec[0];
}

int mlb_read(const uint8_t *buf, size_t len, mlb_module **out, char *err, size_t errlen)
{
	*out = NULL;
	rd r;
	memset(&r, 0, sizeof(r));
	r.p = buf;
	r.len = len;
	r.err = err;
	r.errlen = errlen;
	mlb_module *m = NULL;
	if (len < MLB_HEADER_BYTES + 4) {
		rd_fail(&r, "truncated: %zu bytes is shorter than a header and a checksum", len);
		return -1;
	}
	if (memcmp(buf, mlb_magic, 4) != 0) {
		rd_fail(&r, "not an .mlb file (bad magic number)");
		return -1;
	}
	r.pos = 4;
	unsigned major = (unsigned)rd_uint(&r, 2, "version"), minor = (unsigned)rd_uint(&r, 2, "version");
	if (major != MLB_VERSION_MAJOR) {
		r.pos = 4;
		rd_fail(&r, "version %u.%u; this reader handles %d.x", major, minor, MLB_VERSION_MAJOR);
		return -1;
	}
	uint32_t nsec = (uint32_t)rd_uint(&r, 4, "section count");
	if (nsec != MLB_NSECTIONS) {
		r.pos = 8;
		rd_fail(&r, "%u sections; version 1 has %d", nsec, MLB_NSECTIONS);
		return -1;
	}
	uint32_t size = (uint32_t)rd_uint(&r, 4, "file size");
	if (size != len) {
		r.pos = 12;
		rd_fail(&r, "the header says %u bytes, the file has %zu (truncated or extended)",
			size, len);
		return -1;
	}
	uint32_t want = (uint32_t)buf[len - 4] | (uint32_t)buf[len - 3] << 8 |
			(uint32_t)buf[len - 2] << 16 | (uint32_t)buf[len - 1] << 24;
	uint32_t got = mlb_crc32(buf, len - 4);
	if (want != got) {
		r.pos = len - 4;
		rd_fail(&r, "checksum mismatch (stored 0x%08x, computed 0x%08x): the file is "
			    "corrupt", want, got);
		return -1;
	}
	r.len = len - 4; /* the sections end before the checksum */
	m = mlb_new();
	if (!m) {
		rd_fail(&r, "out of memory");
		return -1;
	}
	m->version_minor = (int)minor;
	for (int k = 0; k < MLB_NSECTIONS && !r.failed; k++) {
		size_t end = rd_section(&r, k);
		if (r.failed)
			break;
		size_t outer = r.len;
		r.sec[k] = r.pos;
		r.len = end; /* a section's entries may not run past it */
		switch (k) {
		case 0:
			rd_str(&r, m->name, MLB_MAX_NAME, "module name");
			rd_str(&r, m->source, MLB_MAX_TEXT, "module source");
			break;
		case 1:
			read_target(&r, &m->target, m->version_minor);
			break;
		case 2:
			read_tensors(&r, m);
			break;
		case 3:
			read_groups(&r, m);
			break;
		case 4:
			read_descs(&r, m);
			break;
		case 5:
			read_uops(&r, m);
			break;
		case 6:
			read_code(&r, m);
			break;
		}
		rd_end_section(&r, end, k);
		r.len = outer;
	}
	if (!r.failed && r.pos != r.len)
		rd_fail(&r, "%zu bytes after the last section", r.len - r.pos);
	if (r.failed) {
		mlb_free(m);
		free(r.tens);
		return -1;
	}
	char msg[400];
	if (mlb_validate(m, msg, sizeof(msg)) < 0) {
		/* Semantic errors name the entry: its offset follows from the
		 * layout. */
		mlb_seterr(err, errlen, "offset %zu: invalid module: %s", entry_offset(&r, m, msg), msg);
		mlb_free(m);
		free(r.tens);
		return -1;
	}
	free(r.tens);
	*out = m;
	return 0;
}

int mlb_read_file(const char *path, mlb_module **out, char *err, size_t errlen)
{
	*out = NULL;
	char *buf, ferr[1024];
	size_t n;
	int r = fs_read_file(path, MLB_MAX_FILE_BYTES, &buf, &n, ferr, sizeof(ferr));
	if (r == -2) {
		mlb_seterr(err, errlen, "the file exceeds the limit of 1 GiB");
		return -1;
	}
	if (r < 0) {
		mlb_seterr(err, errlen, "%s", fs_reason(ferr, path));
		return -1;
	}
	int rc = mlb_read((const uint8_t *)buf, n, out, err, errlen);
	free(buf);
	return rc;
}
