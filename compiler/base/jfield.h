/* jfield.h - errors about fields of a JSON input (a target, a sweep spec)
 * that name the field the way a user wrote it: "field \"cpu.threads\":
 * missing (expected a positive integer)", "field \"bufer\": unknown field
 * (did you mean \"buffer\"?)".
 *
 * Errors are written to err (errlen bytes); nothing is printed.
 */
#ifndef MAMBALAYA_JFIELD_H
#define MAMBALAYA_JFIELD_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* "field \"FIELD\": expected EXPECTED, found JSON", or "... missing
 * (expected EXPECTED)" when found is NULL. */
void jfield_error(char *err, size_t errlen, const char *field, const char *expected,
		  const cJSON *found);

/* Checks that every key of object o is one of keys[] (NULL-terminated),
 * given once; prefix names the object ("" at the top).  Returns 0, or -1
 * with an error naming the key (and the nearest valid one). */
int jfield_check_keys(const cJSON *o, const char *prefix, const char *const *keys,
		      char *err, size_t errlen);

#endif
