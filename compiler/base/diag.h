/* diag.h - user diagnostics: `file:line:col: error: message`, the source
 * line, a caret under the range, and an optional hint.
 *
 * Diagnostics are collected, then printed sorted by position so that the
 * output does not depend on the order in which passes found them.  Internal
 * errors (bugs, isl failures) do not go through here: see diag_internal().
 */
#ifndef MAMBALAYA_DIAG_H
#define MAMBALAYA_DIAG_H

#include <stdarg.h>
#include <stdio.h>

#include "front/cascade.h"

typedef struct diag_ctx diag_ctx;

typedef enum diag_level { DIAG_ERROR, DIAG_WARNING } diag_level;

/* Exit statuses of the program. */
#define DIAG_EXIT_USER 1     /* the input is wrong */
#define DIAG_EXIT_INTERNAL 3 /* the tool is wrong */

/* A context for one source file.  src (len bytes) is copied; file is the
 * name printed in diagnostics.  __isl_give-style: caller frees. */
diag_ctx *diag_new(const char *file, const char *src, size_t len);
void diag_free(diag_ctx *d);

const char *diag_file(const diag_ctx *d);
const char *diag_source(const diag_ctx *d, size_t *len);
/* 1-based line and column of byte offset off in text (for positions that
 * a parser reports as offsets, e.g. cJSON's). */
void diag_line_col(const char *text, size_t off, int *line, int *col);

/* Records a diagnostic at loc (loc.line == 0: no position, e.g. a -D
 * option).  Returns nothing; the message is formatted now. */
void diag_report(diag_ctx *d, diag_level lvl, ein_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define diag_error(d, loc, ...) diag_report(d, DIAG_ERROR, loc, __VA_ARGS__)
#define diag_warning(d, loc, ...) diag_report(d, DIAG_WARNING, loc, __VA_ARGS__)
/* Attaches a hint to the last diagnostic recorded. */
void diag_hint(diag_ctx *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Attaches a note with its own position to the last diagnostic. */
void diag_note(diag_ctx *d, ein_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int diag_error_count(const diag_ctx *d);
int diag_warning_count(const diag_ctx *d);

/* Prints every diagnostic recorded so far (sorted by position, stable), then
 * forgets them. */
void diag_flush(diag_ctx *d, FILE *out);

/* Prints "mambalaya: internal error: ..." to stderr.  The caller then exits
 * with DIAG_EXIT_INTERNAL. */
void diag_internal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copies s into out (outlen bytes, always terminated, cut short if need
 * be) with control characters escaped as in JSON (\n, \t, \u001b), so
 * that text taken from the input keeps a message on one line. */
void diag_escape(const char *s, char *out, size_t outlen);

/* Edit distance, for "did you mean" hints. */
int diag_edit_distance(const char *a, const char *b);

/* A location covering a and b. */
ein_loc diag_span(ein_loc a, ein_loc b);

#endif
