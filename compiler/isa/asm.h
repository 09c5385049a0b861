/* asm.h - the text form of an accelerator stream (docs/isa.md, "Assembly").
 *
 * The disassembler prints every field of a module: the module, target,
 * tensor, group, descriptor and micro-op tables as directives, then the
 * instructions with labels for branch targets.  The assembler reads that
 * text back; assembling a disassembly gives the original bytes exactly
 * (the reader rejects any file whose unused fields are not zero, so nothing
 * the text leaves out can differ).
 *
 * Ownership: asm_assemble() returns a module the caller frees with
 * mlb_free(); it keeps nothing of src.
 */
#ifndef MAMBALAYA_ASM_H
#define MAMBALAYA_ASM_H

#include <stddef.h>
#include <stdio.h>

#include "mlb.h"

/* Prints m as assembly.  Returns 0, or -1 on a write error. */
int asm_disassemble(const mlb_module *m, FILE *out);

/* Assembles len bytes of text from file (the name used in diagnostics).
 * Returns 0 with *out set, or -1 after printing `file:line:col: error: ...`
 * diagnostics (with the source line and a caret) to stderr. */
int asm_assemble(const char *file, const char *src, size_t len, mlb_module **out);

#endif
