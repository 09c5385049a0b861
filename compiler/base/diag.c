/* diag.c - user diagnostics (see diag.h). */
#include "diag.h"

#include <stdlib.h>
#include <string.h>

#define DIAG_MAX 200 /* stop recording after this many: the rest is noise */

typedef struct diag_note_rec {
	ein_loc loc;
	char *msg;
} diag_note_rec;

typedef struct diag_rec {
	diag_level lvl;
	ein_loc loc;
	int seq;
	char *msg;
	char *hint;
	int nnotes;
	diag_note_rec *notes;
} diag_rec;

struct diag_ctx {
	char *file;
	char *src;
	size_t len;
	diag_rec *recs;
	int nrecs, cap;
	int errors, warnings, dropped, seq;
	int last_dropped; /* the last diagnostic was not recorded */
};

static char *vfmt(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	char *s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

diag_ctx *diag_new(const char *file, const char *src, size_t len)
{
	diag_ctx *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->file = strdup(file ? file : "<input>");
	d->src = malloc(len + 1);
	if (!d->file || !d->src) {
		diag_free(d);
		return NULL;
	}
	if (len)
		memcpy(d->src, src, len);
	d->src[len] = '\0';
	d->len = len;
	return d;
}

static void rec_clear(diag_rec *r)
{
	free(r->msg);
	free(r->hint);
	for (int i = 0; i < r->nnotes; i++)
		free(r->notes[i].msg);
	free(r->notes);
}

void diag_free(diag_ctx *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->nrecs; i++)
		rec_clear(&d->recs[i]);
	free(d->recs);
	free(d->file);
	free(d->src);
	free(d);
}

const char *diag_file(const diag_ctx *d)
{
	return d->file;
}

const char *diag_source(const diag_ctx *d, size_t *len)
{
	if (len)
		*len = d->len;
	return d->src;
}

void diag_report(diag_ctx *d, diag_level lvl, ein_loc loc, const char *fmt, ...)
{
	if (lvl == DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	/* Hints and notes of a diagnostic not recorded must not go to the
	 * one before it. */
	d->last_dropped = 1;
	if (d->nrecs >= DIAG_MAX) {
		d->dropped++;
		return;
	}
	if (d->nrecs == d->cap) {
		int cap = d->cap ? 2 * d->cap : 16;
		diag_rec *n = realloc(d->recs, (size_t)cap * sizeof(*n));
		if (!n)
			return;
		d->recs = n;
		d->cap = cap;
	}
	d->last_dropped = 0;
	va_list ap;
	va_start(ap, fmt);
	char *msg = vfmt(fmt, ap);
	va_end(ap);
	diag_rec *r = &d->recs[d->nrecs++];
	memset(r, 0, sizeof(*r));
	r->lvl = lvl;
	r->loc = loc;
	r->seq = d->seq++;
	r->msg = msg;
}

void diag_hint(diag_ctx *d, const char *fmt, ...)
{
	if (d->nrecs == 0 || d->last_dropped)
		return;
	diag_rec *r = &d->recs[d->nrecs - 1];
	va_list ap;
	va_start(ap, fmt);
	char *h = vfmt(fmt, ap);
	va_end(ap);
	free(r->hint);
	r->hint = h;
}

void diag_note(diag_ctx *d, ein_loc loc, const char *fmt, ...)
{
	if (d->nrecs == 0 || d->last_dropped)
		return;
	diag_rec *r = &d->recs[d->nrecs - 1];
	diag_note_rec *n =
		realloc(r->notes, (size_t)(r->nnotes + 1) * sizeof(*n));
	if (!n)
		return;
	r->notes = n;
	va_list ap;
	va_start(ap, fmt);
	n[r->nnotes].msg = vfmt(fmt, ap);
	va_end(ap);
	n[r->nnotes].loc = loc;
	r->nnotes++;
}

int diag_error_count(const diag_ctx *d)
{
	return d->errors;
}

int diag_warning_count(const diag_ctx *d)
{
	return d->warnings;
}

static int rec_cmp(const void *pa, const void *pb)
{
	const diag_rec *a = pa, *b = pb;
	if (a->loc.line != b->loc.line)
		return a->loc.line < b->loc.line ? -1 : 1;
	if (a->loc.col != b->loc.col)
		return a->loc.col < b->loc.col ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Finds line `line` (1-based) of the source; returns its start and length. */
static const char *find_line(const diag_ctx *d, int line, size_t *len)
{
	const char *p = d->src, *end = d->src + d->len;
	for (int l = 1; l < line && p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return NULL;
		p = nl + 1;
	}
	if (p > end)
		return NULL;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	*len = (size_t)((nl ? nl : end) - p);
	if (*len > 0 && p[*len - 1] == '\r')
		(*len)--;
	return p;
}

/* Is the byte at column col (1-based) of line a UTF-8 continuation byte? */
static int is_utf8_cont(const char *line, size_t len, int col)
{
	if (col < 1 || (size_t)col > len)
		return 0;
	return ((unsigned char)line[col - 1] & 0xc0) == 0x80;
}

/* Lines longer than this are shown cut to a window of this many bytes
 * around the caret, DIAG_LINE_BEFORE of them before it, with "..." where
 * text was left out: a diagnostic stays readable (and cheap to print) on a
 * generated file with one huge line. */
#define DIAG_LINE_MAX 160
#define DIAG_LINE_BEFORE 60

static void print_excerpt(const diag_ctx *d, FILE *out, ein_loc loc)
{
	size_t len;
	const char *line = find_line(d, loc.line, &len);
	if (!line)
		return;
	int col = loc.col < 1 ? 1 : loc.col;
	/* A range over several lines is marked to the end of its first. */
	int end = loc.end_line > loc.line ? (int)len
		  : loc.end_col >= col	  ? loc.end_col
					  : col;
	if ((size_t)end > len + 1)
		end = (int)len + 1;
	/* A column past the end of the line: at most the '\r' stripped by
	 * find_line, then the '\n' (a bound that keeps buf below safe). */
	if ((size_t)col > len + 2)
		col = (int)len + 2;
	/* The window [ws, we) of the line that is shown (0-based bytes). */
	size_t ws = 0, we = len;
	if (len > DIAG_LINE_MAX) {
		if ((size_t)col - 1 > DIAG_LINE_BEFORE)
			ws = (size_t)col - 1 - DIAG_LINE_BEFORE;
		if (ws > len - DIAG_LINE_MAX)
			ws = len - DIAG_LINE_MAX;
		/* Do not start inside a UTF-8 character. */
		while (ws > 0 && is_utf8_cont(line, len, (int)ws + 1))
			ws--;
		we = ws + DIAG_LINE_MAX;
		while (we < len && is_utf8_cont(line, len, (int)we + 1))
			we++;
	}
	/* Built in a buffer and written at once: stderr is unbuffered. */
	char buf[3 * DIAG_LINE_MAX + 32];
	size_t n = 0;
	if (ws > 0) {
		memcpy(buf, "...", 3);
		n = 3;
	}
	for (size_t i = ws; i < we; i++) {
		unsigned char ch = (unsigned char)line[i];
		/* Tabs become one space so that columns still line up. */
		buf[n++] = (char)(ch == '\t' ? ' ' : (ch < 32 ? '?' : ch));
	}
	if (we < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	fprintf(out, "%5d | %.*s\n      | ", loc.line, (int)n, buf);
	/* Columns count bytes; a terminal shows a UTF-8 character (allowed
	 * in comments) as one: skip its continuation bytes so that the caret
	 * stays under the right text. */
	n = 0;
	if (ws > 0) {
		memcpy(buf, "   ", 3);
		n = 3;
	}
	for (int c = (int)ws + 1; c < col; c++)
		if (!is_utf8_cont(line, len, c))
			buf[n++] = ' ';
	buf[n++] = '^';
	/* Tildes under the shown bytes only (and the end of the line). */
	size_t last = we < len ? we : we + 1;
	for (int c = col + 1; c <= end && (size_t)c <= last; c++)
		if (!is_utf8_cont(line, len, c))
			buf[n++] = '~';
	fprintf(out, "%.*s\n", (int)n, buf);
}

void diag_flush(diag_ctx *d, FILE *out)
{
	/* recs is NULL when nothing was reported: qsort must not see it. */
	if (d->nrecs > 1)
		qsort(d->recs, (size_t)d->nrecs, sizeof(*d->recs), rec_cmp);
	for (int i = 0; i < d->nrecs; i++) {
		diag_rec *r = &d->recs[i];
		const char *lvl = r->lvl == DIAG_ERROR ? "error" : "warning";
		if (r->loc.line > 0)
			fprintf(out, "%s:%d:%d: %s: %s\n", d->file, r->loc.line,
				r->loc.col, lvl, r->msg ? r->msg : "");
		else
			fprintf(out, "%s: %s: %s\n", d->file, lvl,
				r->msg ? r->msg : "");
		if (r->loc.line > 0)
			print_excerpt(d, out, r->loc);
		if (r->hint)
			fprintf(out, "  hint: %s\n", r->hint);
		for (int k = 0; k < r->nnotes; k++) {
			diag_note_rec *n = &r->notes[k];
			if (n->loc.line > 0) {
				fprintf(out, "%s:%d:%d: note: %s\n", d->file,
					n->loc.line, n->loc.col, n->msg);
				print_excerpt(d, out, n->loc);
			} else {
				fprintf(out, "  note: %s\n", n->msg);
			}
		}
		rec_clear(r);
	}
	if (d->dropped)
		fprintf(out, "%s: note: %d more diagnostics not shown\n",
			d->file, d->dropped);
	d->nrecs = 0;
	d->dropped = 0;
}

void diag_internal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("mambalaya: internal error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n(this is a bug in mambalaya, not in your input; please report "
	      "it with the input that caused it)\n",
	      stderr);
	va_end(ap);
}

void diag_escape(const char *s, char *out, size_t outlen)
{
	size_t n = 0;
	if (outlen == 0)
		return;
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		char buf[8];
		if (ch == '\n')
			snprintf(buf, sizeof(buf), "\\n");
		else if (ch == '\t')
			snprintf(buf, sizeof(buf), "\\t");
		else if (ch < 0x20 || ch == 0x7f)
			snprintf(buf, sizeof(buf), "\\u%04x", ch);
		else {
			buf[0] = (char)ch;
			buf[1] = '\0';
		}
		size_t k = strlen(buf);
		if (n + k >= outlen)
			break;
		memcpy(out + n, buf, k);
		n += k;
	}
	out[n] = '\0';
}

int diag_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return 99;
	int row[65];
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int prev = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int cur = row[j];
			int cost = a[i - 1] == b[j - 1] ? 0 : 1;
			int best = prev + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

ein_loc diag_span(ein_loc a, ein_loc b)
{
	ein_loc r = a;
	if (b.end_line > a.end_line ||
	    (b.end_line == a.end_line && b.end_col > a.end_col)) {
		r.end_line = b.end_line;
		r.end_col = b.end_col;
	}
	return r;
}

void diag_line_col(const char *text, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && text[i]; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}
