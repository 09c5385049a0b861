/* sbuf.h - a growing string buffer for printers (generated C, reports).
 *
 * An sbuf starts zeroed ({0}); every append grows it, and a failed
 * allocation sets oom and makes later appends do nothing, so a printer
 * checks oom once at the end.  The caller owns p and frees it (sbuf_free).
 */
#ifndef MAMBALAYA_SBUF_H
#define MAMBALAYA_SBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct sbuf {
	char *p;  /* the text, NUL-terminated once anything was appended */
	size_t n; /* its length */
	size_t cap;
	int oom; /* an append failed: the text is incomplete */
} sbuf;

void sbuf_vprintf(sbuf *s, const char *fmt, va_list ap);
void sbuf_printf(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* depth tabs. */
void sbuf_indent(sbuf *s, int depth);
/* Appends text (n bytes) with depth more tabs on each line that is not
 * empty or a preprocessor line. */
void sbuf_indented(sbuf *s, const char *text, size_t n, int depth);
/* Frees the text and zeroes s. */
void sbuf_free(sbuf *s);

#endif
