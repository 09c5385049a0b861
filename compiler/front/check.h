/* check.h - the checker: from a parsed program to the cascade IR.
 *
 * Resolves names, infers rank extents and tensor shapes, checks every rule of
 * the language (docs/language.md), and proves with isl that every access stays
 * inside its tensor, that no element is written twice, and that nothing is
 * read before it is written.  Reports every error of the file through diag.
 */
#ifndef MAMBALAYA_CHECK_H
#define MAMBALAYA_CHECK_H

#include "ast.h"
#include "base/diag.h"
#include "cascade.h"

/* Parameter overrides from the command line: "NAME=VALUE" strings. */
typedef struct check_opts {
	int ndefines;
	const char *const *defines;
} check_opts;

/* Checks prog.  Returns the cascade (caller frees with ein_cascade_free), or
 * NULL when diag holds errors (or on allocation failure: then diag holds an
 * error saying so).  prog is only read. */
ein_cascade *check_program(const ast_program *prog, diag_ctx *diag,
			   const check_opts *opts);

/* Parses and checks the source held by diag. */
ein_cascade *check_source(diag_ctx *diag, const check_opts *opts);

/* Reads a whole file (at most max_bytes) into a new diag context.  On failure
 * returns NULL and writes a message to errbuf. */
diag_ctx *check_load_file(const char *path, size_t max_bytes, char *errbuf,
			  size_t errlen);

#define CHECK_MAX_SOURCE_BYTES ((size_t)10 << 20) /* 10 MiB */

#endif
