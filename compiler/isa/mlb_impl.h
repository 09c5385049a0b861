/* mlb_impl.h - what the files of the .mlb module share (private to
 * compiler/isa; see mlb.h).
 *
 *   mlb.c        names, CRC, modules, these helpers
 *   mlb_read.c   the reader          mlb_write.c  the writer
 *   mlb_check.c  the validator (mlb_validate)
 *
 * Ownership: the state is a local of its public entry point, which frees
 * what it allocated before it returns.
 */
#ifndef MAMBALAYA_MLB_IMPL_H
#define MAMBALAYA_MLB_IMPL_H

#include <stddef.h>

#include "mlb.h"

/* The file layout (docs/isa.md). */
#define MLB_HEADER_BYTES 16
#define MLB_NSECTIONS 7
#define MLB_DESC_BYTES 288
#define MLB_UOP_BYTES 16
#define MLB_INSN_BYTES 16
#define MLB_MAX_FILE_BYTES ((size_t)1 << 30)

/* The file's first bytes, and its sections' tags in order. */
extern const char mlb_magic[4];
extern const char *const mlb_section_tags[MLB_NSECTIONS];

void mlb_seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Names are printable ASCII without quotes or backslashes, so that the
 * assembler's quoted strings need no escapes. */
int mlb_text_ok(const char *s, size_t n);
/* Is s a C identifier ([A-Za-z_][A-Za-z0-9_]*)?  Tensor names must be:
 * the disassembler prints them bare. */
int mlb_is_ident(const char *s);

#endif
