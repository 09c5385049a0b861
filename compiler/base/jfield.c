/* jfield.c - errors that name a field of a JSON input (jfield.h). */
#include "jfield.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

void jfield_error(char *err, size_t errlen, const char *field, const char *expected,
		  const cJSON *found)
{
	char *s = found ? cJSON_PrintUnformatted(found) : NULL;
	char name[256]; /* keys are the input's: escape them */
	diag_escape(field, name, sizeof(name));
	if (found)
		snprintf(err, errlen, "field \"%s\": expected %s, found %s", name, expected,
			 s ? s : "?");
	else
		snprintf(err, errlen, "field \"%s\": missing (expected %s)", name, expected);
	free(s);
}

int jfield_check_keys(const cJSON *o, const char *prefix, const char *const *keys,
		      char *err, size_t errlen)
{
	for (const cJSON *it = o->child; it; it = it->next) {
		char name[256], full[300];
		diag_escape(it->string, name, sizeof(name));
		snprintf(full, sizeof(full), "%s%s%s", prefix, *prefix ? "." : "", name);
		int known = 0;
		const char *best = NULL;
		int bd = 3;
		for (int k = 0; keys[k]; k++) {
			if (strcmp(keys[k], it->string) == 0)
				known = 1;
			int d = diag_edit_distance(it->string, keys[k]);
			if (d < bd) {
				bd = d;
				best = keys[k];
			}
		}
		if (!known) {
			if (best)
				snprintf(err, errlen,
					 "field \"%s\": unknown field (did you mean \"%s%s%s\"?)",
					 full, prefix, *prefix ? "." : "", best);
			else
				snprintf(err, errlen, "field \"%s\": unknown field", full);
			return -1;
		}
		for (const cJSON *p = o->child; p != it; p = p->next)
			if (strcmp(p->string, it->string) == 0) {
				snprintf(err, errlen, "field \"%s\": given twice", full);
				return -1;
			}
	}
	return 0;
}
