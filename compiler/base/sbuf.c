/* sbuf.c - a growing string buffer (see sbuf.h). */
#include "sbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbuf_vprintf(sbuf *s, const char *fmt, va_list ap)
{
	if (s->oom)
		return;
	va_list ap2;
	va_copy(ap2, ap);
	int need = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (need < 0) {
		s->oom = 1;
		return;
	}
	if (s->n + (size_t)need + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (s->n + (size_t)need + 1 > cap)
			cap *= 2;
		char *p = realloc(s->p, cap);
		if (!p) {
			s->oom = 1;
			return;
		}
		s->p = p;
		s->cap = cap;
	}
	vsnprintf(s->p + s->n, (size_t)need + 1, fmt, ap);
	s->n += (size_t)need;
}

void sbuf_printf(sbuf *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sbuf_vprintf(s, fmt, ap);
	va_end(ap);
}

void sbuf_indent(sbuf *s, int depth)
{
	for (int i = 0; i < depth; i++)
		sbuf_printf(s, "\t");
}

void sbuf_indented(sbuf *s, const char *text, size_t n, int depth)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && text[j] != '\n')
			j++;
		if (j > i && text[i] != '#')
			sbuf_indent(s, depth);
		sbuf_printf(s, "%.*s%s", (int)(j - i), text + i, j < n ? "\n" : "");
		i = j + 1;
	}
}

void sbuf_free(sbuf *s)
{
	free(s->p);
	memset(s, 0, sizeof(*s));
}
