/* reserved.h - names generated C cannot give a tensor or a parameter:
 * C keywords, names C reserves (_X, __x), the runtime's ML_ prefix, the
 * object-like macros of the headers generated code includes (NULL, EOF,
 * INFINITY, M_PI, SIZE_MAX, ...), and the generated code's own names.
 * Tensor and parameter names become struct fields and variables of the
 * generated C, so the checker refuses these (check_decls, check_params).
 * Pure lookups: no state, nothing to free.
 */
#ifndef MAMBALAYA_RESERVED_H
#define MAMBALAYA_RESERVED_H

/* Why name is reserved ("is a C keyword", ...), or NULL when it is not. */
const char *ein_reserved(const char *name);

#endif
