/* ir_json.h - the cascade IR as JSON (`check --dump-ir=json`) and as text.
 *
 * The JSON schema is documented in docs/ir.md; keys are emitted in a fixed
 * order so that the output is stable.
 */
#ifndef MAMBALAYA_IR_JSON_H
#define MAMBALAYA_IR_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cascade.h"

/* The whole cascade; caller frees with cJSON_Delete. NULL on OOM. */
cJSON *ir_json_cascade(const ein_cascade *c);

/* Source-syntax text of an expression of Einsum es (minimal parentheses). */
void ir_expr_string(const ein_cascade *c, const ein_einsum *es,
		    const ein_expr *e, char *buf, size_t len);
/* "T_{i+1,j}" */
void ir_access_string(const ein_cascade *c, const ein_einsum *es,
		      const ein_access *a, char *buf, size_t len);
/* Shortest decimal text that reads back as exactly x. */
void ir_number_string(double x, char *buf, size_t len);

#endif
