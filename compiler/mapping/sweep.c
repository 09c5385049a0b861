/* sweep.c - sweep specs, their points and their rows (see sweep.h). */
#include "sweep.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/jfield.h"
#include "base/units.h"
#include "mapper.h"

/* Large enough for any real sweep, small enough that point numbers and
 * their products never overflow. */
#define SWEEP_MAX_POINTS (INT64_C(1) << 40)

static const char *const spec_keys[] = {"file", "arch", "policy", "buffer", "defines", NULL};

void sweep_spec_free(sweep_spec *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nfiles; i++)
		free(s->files[i]);
	free(s->files);
	for (int i = 0; i < s->narchs; i++)
		free(s->archs[i]);
	free(s->archs);
	for (int i = 0; i < s->npolicies; i++)
		free(s->policies[i]);
	free(s->policies);
	free(s->buffers);
	for (int i = 0; i < s->ndefines; i++) {
		sweep_define *d = &s->defines[i];
		free(d->key);
		for (int k = 0; k < d->nnames; k++)
			free(d->names[k]);
		free(d->names);
		free(d->values);
	}
	free(s->defines);
	free(s);
}

/* A non-empty array at key (a single string is taken as a list of one
 * when one_ok).  Returns the array or the string item, NULL with err set
 * on an error, and *absent = 1 with no error when the key is missing. */
static const cJSON *get_list(const cJSON *j, const char *key, const char *field, int one_ok,
			     const char *what, int *absent, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	*absent = !v;
	if (!v)
		return NULL;
	if (one_ok && cJSON_IsString(v))
		return v;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
		char exp[200];
		snprintf(exp, sizeof(exp), "a non-empty list of %s", what);
		jfield_error(err, errlen, field, exp, v);
		return NULL;
	}
	return v;
}

/* A list of strings (or one string) at key into *out; when the key is
 * absent, the list of dflt, or an error if dflt is NULL (a required key).
 * Returns 0 or -1. */
static int get_strings(const cJSON *j, const char *key, const char *dflt, char ***out, int *n,
		       char *err, size_t errlen)
{
	int absent;
	const cJSON *v = get_list(j, key, key, 1, "strings", &absent, err, errlen);
	if (absent && !dflt) {
		jfield_error(err, errlen, key, "a string or a non-empty list of strings", NULL);
		return -1;
	}
	if (absent) {
		if (!(*out = calloc(1, sizeof(char *))) || !((*out)[0] = strdup(dflt)))
			goto oom;
		*n = 1;
		return 0;
	}
	if (!v)
		return -1;
	int cnt = cJSON_IsString(v) ? 1 : cJSON_GetArraySize(v);
	*out = calloc((size_t)cnt, sizeof(char *));
	if (!*out)
		goto oom;
	*n = cnt;
	for (int i = 0; i < cnt; i++) {
		const cJSON *it = cJSON_IsString(v) ? v : cJSON_GetArrayItem(v, i);
		char field[64];
		snprintf(field, sizeof(field), "%s[%d]", key, i);
		if (!cJSON_IsString(it) || !it->valuestring[0]) {
			jfield_error(err, errlen, cJSON_IsString(v) ? key : field,
				     "a non-empty string", it);
			return -1;
		}
		if (!((*out)[i] = strdup(it->valuestring)))
			goto oom;
		for (int k = 0; k < i; k++)
			if (strcmp((*out)[k], (*out)[i]) == 0) {
				jfield_error(err, errlen, field, "a value not listed before", it);
				return -1;
			}
	}
	return 0;
oom:
	snprintf(err, errlen, "internal error: out of memory");
	return -1;
}

static int read_policies(sweep_spec *s, const cJSON *j, char *err, size_t errlen)
{
	if (get_strings(j, "policy", "full", &s->policies, &s->npolicies, err, errlen) < 0)
		return -1;
	for (int i = 0; i < s->npolicies; i++)
		if (mapper_policy_from_name(s->policies[i]) < 0) {
			char field[64];
			snprintf(field, sizeof(field), "policy[%d]", i);
			cJSON *v = cJSON_CreateString(s->policies[i]);
			jfield_error(err, errlen, field, "unfused, ssm-ri, full or recompute", v);
			cJSON_Delete(v);
			return -1;
		}
	return 0;
}

/* Buffer sizes: positive integers (bytes) or strings with a K, M or G
 * suffix, as --buffer takes them. */
static int read_buffers(sweep_spec *s, const cJSON *j, char *err, size_t errlen)
{
	int absent;
	const char *what = "a positive number of bytes or a size such as \"16M\"";
	const cJSON *v = get_list(j, "buffer", "buffer", 0, "sizes", &absent, err, errlen);
	if (absent)
		return 0;
	if (!v)
		return -1;
	int n = cJSON_GetArraySize(v);
	if (!(s->buffers = calloc((size_t)n, sizeof(int64_t)))) {
		snprintf(err, errlen, "internal error: out of memory");
		return -1;
	}
	s->nbuffers = n;
	for (int i = 0; i < n; i++) {
		const cJSON *it = cJSON_GetArrayItem(v, i);
		char field[64];
		snprintf(field, sizeof(field), "buffer[%d]", i);
		int64_t b = 0;
		int ok = 0;
		if (cJSON_IsNumber(it)) {
			double d = it->valuedouble;
			ok = d >= 1 && d == floor(d) && d <= (double)(INT64_C(1) << 62);
			b = ok ? (int64_t)d : 0;
		} else if (cJSON_IsString(it)) {
			ok = units_parse_size(it->valuestring, &b) == 0 && b >= 1;
		}
		if (!ok) {
			jfield_error(err, errlen, field, what, it);
			return -1;
		}
		s->buffers[i] = b;
	}
	return 0;
}

/* A parameter name as the language spells one. */
static int is_name(const char *s)
{
	if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
		return 0;
	for (s++; *s; s++)
		if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/* Splits key "ED, D" into d->names.  Returns 0 or -1. */
static int split_names(sweep_define *d, const char *field, char *err, size_t errlen)
{
	char *copy = strdup(d->key);
	int status = -1;
	if (!copy || !(d->names = calloc(strlen(d->key) / 2 + 1, sizeof(char *)))) {
		snprintf(err, errlen, "internal error: out of memory");
		goto done;
	}
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		size_t n = strlen(tok);
		while (n && tok[n - 1] == ' ')
			tok[--n] = 0;
		if (!is_name(tok))
			break;
		if (!(d->names[d->nnames++] = strdup(tok))) {
			snprintf(err, errlen, "internal error: out of memory");
			goto done;
		}
	}
	/* Every comma must separate two names. */
	int commas = 0;
	for (const char *c = d->key; *c; c++)
		commas += *c == ',';
	if (d->nnames != commas + 1) {
		char name[256];
		diag_escape(field, name, sizeof(name));
		snprintf(err, errlen, "field \"%s\": expected a parameter name, or names "
				      "separated by commas", name);
		goto done;
	}
	status = 0;
done:
	free(copy);
	return status;
}

/* An integer value of a parameter. */
static int get_value(const cJSON *it, const char *field, int64_t *out, char *err, size_t errlen)
{
	double d = cJSON_IsNumber(it) ? it->valuedouble : NAN;
	if (!cJSON_IsNumber(it) || d != floor(d) || fabs(d) > 9007199254740992.0) {
		jfield_error(err, errlen, field, "an integer", it);
		return -1;
	}
	*out = (int64_t)d;
	return 0;
}

static int read_define(sweep_define *d, const cJSON *v, char *err, size_t errlen)
{
	char field[300];
	snprintf(field, sizeof(field), "defines.%s", d->key);
	if (split_names(d, field, err, errlen) < 0)
		return -1;
	int tuple = d->nnames > 1;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
		jfield_error(err, errlen, field,
			     tuple ? "a non-empty list of lists of integers"
				   : "a non-empty list of integers", v);
		return -1;
	}
	d->nvalues = cJSON_GetArraySize(v);
	if (!(d->values = calloc((size_t)d->nvalues * (size_t)d->nnames, sizeof(int64_t)))) {
		snprintf(err, errlen, "internal error: out of memory");
		return -1;
	}
	for (int i = 0; i < d->nvalues; i++) {
		const cJSON *it = cJSON_GetArrayItem(v, i);
		char f[320];
		snprintf(f, sizeof(f), "%s[%d]", field, i);
		int64_t *row = d->values + (size_t)i * (size_t)d->nnames;
		if (tuple) {
			if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != d->nnames) {
				char exp[64];
				snprintf(exp, sizeof(exp), "a list of %d integers", d->nnames);
				jfield_error(err, errlen, f, exp, it);
				return -1;
			}
			for (int k = 0; k < d->nnames; k++) {
				char fk[340];
				snprintf(fk, sizeof(fk), "%s[%d]", f, k);
				if (get_value(cJSON_GetArrayItem(it, k), fk, &row[k], err, errlen) < 0)
					return -1;
			}
		} else if (get_value(it, f, &row[0], err, errlen) < 0) {
			return -1;
		}
		for (int p = 0; p < i; p++)
			if (memcmp(d->values + (size_t)p * (size_t)d->nnames, row,
				   (size_t)d->nnames * sizeof(int64_t)) == 0) {
				jfield_error(err, errlen, f, "a value not listed before", it);
				return -1;
			}
	}
	return 0;
}

static int read_defines(sweep_spec *s, const cJSON *j, char *err, size_t errlen)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "defines");
	if (!o)
		return 0;
	if (!cJSON_IsObject(o)) {
		jfield_error(err, errlen, "defines", "an object of parameter lists", o);
		return -1;
	}
	int n = cJSON_GetArraySize(o);
	if (n > SWEEP_MAX_AXES) {
		snprintf(err, errlen, "field \"defines\": more than %d keys", SWEEP_MAX_AXES);
		return -1;
	}
	if (n && !(s->defines = calloc((size_t)n, sizeof(sweep_define)))) {
		snprintf(err, errlen, "internal error: out of memory");
		return -1;
	}
	for (const cJSON *it = o->child; it; it = it->next) {
		sweep_define *d = &s->defines[s->ndefines++];
		if (!(d->key = strdup(it->string))) {
			snprintf(err, errlen, "internal error: out of memory");
			return -1;
		}
		if (read_define(d, it, err, errlen) < 0)
			return -1;
		/* A parameter set by two keys would make points that
		 * contradict each other. */
		for (int k = 0; k < d->nnames; k++)
			for (int e = 0; e < s->ndefines; e++)
				for (int q = 0; q < s->defines[e].nnames; q++)
					if ((e != s->ndefines - 1 || q < k) &&
					    strcmp(s->defines[e].names[q], d->names[k]) == 0) {
						char name[256];
						diag_escape(d->key, name, sizeof(name));
						snprintf(err, errlen,
							 "field \"defines.%s\": parameter %s is "
							 "already set by another key",
							 name, d->names[k]);
						return -1;
					}
	}
	return 0;
}

sweep_spec *sweep_spec_from_json(const cJSON *j, char *err, size_t errlen)
{
	sweep_spec *s = NULL;
	if (!cJSON_IsObject(j)) {
		snprintf(err, errlen, "expected a JSON object at the top level");
		return NULL;
	}
	if (jfield_check_keys(j, "", spec_keys, err, errlen) < 0)
		return NULL;
	if (!(s = calloc(1, sizeof(*s)))) {
		snprintf(err, errlen, "internal error: out of memory");
		return NULL;
	}
	if (get_strings(j, "file", NULL, &s->files, &s->nfiles, err, errlen) < 0 ||
	    read_defines(s, j, err, errlen) < 0 ||
	    get_strings(j, "arch", "mambalaya", &s->archs, &s->narchs, err, errlen) < 0 ||
	    read_buffers(s, j, err, errlen) < 0 || read_policies(s, j, err, errlen) < 0)
		goto fail;
	int64_t n = (int64_t)s->nfiles * s->narchs * s->npolicies * (s->nbuffers ? s->nbuffers : 1);
	for (int i = 0; i < s->ndefines && n <= SWEEP_MAX_POINTS; i++)
		n *= s->defines[i].nvalues;
	if (n > SWEEP_MAX_POINTS) {
		snprintf(err, errlen, "the spec has more than 2^40 points");
		goto fail;
	}
	s->npoints = n;
	return s;
fail:
	sweep_spec_free(s);
	return NULL;
}

void sweep_point_at(const sweep_spec *s, int64_t idx, sweep_point *p)
{
	memset(p, 0, sizeof(*p));
	p->index = idx;
	/* Innermost first: policy, buffer, arch, defines backwards, file. */
	p->policy = (int)(idx % s->npolicies);
	idx /= s->npolicies;
	if (s->nbuffers) {
		p->buffer = (int)(idx % s->nbuffers);
		idx /= s->nbuffers;
	} else {
		p->buffer = -1;
	}
	p->arch = (int)(idx % s->narchs);
	idx /= s->narchs;
	for (int k = s->ndefines - 1; k >= 0; k--) {
		p->def[k] = (int)(idx % s->defines[k].nvalues);
		idx /= s->defines[k].nvalues;
	}
	p->file = (int)idx;
}

int sweep_same_analysis(const sweep_spec *s, const sweep_point *a, const sweep_point *b)
{
	if (a->file != b->file)
		return 0;
	for (int k = 0; k < s->ndefines; k++)
		if (a->def[k] != b->def[k])
			return 0;
	return 1;
}

int sweep_point_defines(const sweep_spec *s, const sweep_point *p, char *buf, size_t len,
			const char **argv, int max)
{
	int n = 0;
	size_t used = 0;
	for (int k = 0; k < s->ndefines; k++) {
		const sweep_define *d = &s->defines[k];
		for (int q = 0; q < d->nnames; q++) {
			int w = snprintf(buf + used, len - used, "%s=%" PRId64, d->names[q],
					 d->values[(size_t)p->def[k] * (size_t)d->nnames + (size_t)q]);
			if (n >= max || w < 0 || (size_t)w >= len - used)
				return -1;
			argv[n++] = buf + used;
			used += (size_t)w + 1;
		}
	}
	return n;
}

int sweep_parse_shard(const char *s, int64_t *k, int64_t *n)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	long long a = strtoll(s, &end, 10);
	if (errno || *end != '/' || end[1] < '0' || end[1] > '9')
		return -1;
	const char *t = end + 1;
	long long b = strtoll(t, &end, 10);
	if (errno || *end || a < 1 || b < 1 || a > b)
		return -1;
	*k = a;
	*n = b;
	return 0;
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static void csv_str(sbuf *out, const char *v)
{
	if (!strpbrk(v, ",\"\r\n")) {
		sbuf_printf(out, "%s", v);
		return;
	}
	sbuf_printf(out, "\"");
	for (const char *c = v; *c; c++)
		sbuf_printf(out, *c == '"' ? "\"\"" : "%c", *c);
	sbuf_printf(out, "\"");
}

/* The figures of a row, in the order of the header: the totals, then the
 * on-chip levels (level 1 the buffer, level 2 PE storage; 0 when the
 * target has no such level), bytes read and written and the share of the
 * latency busy. */
#define NFIGURES 15
static const char *const figure_names[NFIGURES + 1] = {
	"groups",     "latency_seconds", "cycles",  "comp_cycles", "mem_cycles", "dram_bytes",
	"peak_buffer_bytes", "util_2d",	 "util_1d", "mem_util", "overhead_cycles",
	"level1_bytes", "level1_util", "level2_bytes", "level2_util", NULL};

static void figures(const sweep_result *r, double v[NFIGURES])
{
	v[0] = r->groups;
	v[1] = r->latency_seconds;
	v[2] = r->total.cycles;
	v[3] = r->total.comp_cycles;
	v[4] = r->total.mem_cycles;
	v[5] = r->total.dram_bytes;
	v[6] = r->total.buffer_bytes;
	v[7] = r->total.util_2d;
	v[8] = r->total.util_1d;
	v[9] = r->total.mem_util;
	v[10] = r->total.overhead_cycles;
	for (int l = 1; l <= 2; l++) {
		int on = l < r->total.nlevels;
		v[9 + 2 * l] = on ? r->total.level_read_bytes[l] + r->total.level_write_bytes[l] : 0;
		v[10 + 2 * l] = on && r->total.cycles > 0
					? r->total.level_cycles[l] / r->total.cycles : 0;
	}
}

void sweep_csv_header(const sweep_spec *s, sbuf *out)
{
	sbuf_printf(out, "point,file,arch,policy,buffer_bytes");
	for (int k = 0; k < s->ndefines; k++)
		for (int q = 0; q < s->defines[k].nnames; q++)
			sbuf_printf(out, ",%s", s->defines[k].names[q]);
	for (int i = 0; figure_names[i]; i++)
		sbuf_printf(out, ",%s", figure_names[i]);
	sbuf_printf(out, "\n");
}

void sweep_csv_row(const sweep_spec *s, const sweep_point *p, const sweep_result *r,
		   sbuf *out)
{
	sbuf_printf(out, "%" PRId64 ",", p->index);
	csv_str(out, s->files[p->file]);
	sbuf_printf(out, ",");
	csv_str(out, s->archs[p->arch]);
	sbuf_printf(out, ",%s,%" PRId64, s->policies[p->policy], r->buffer_bytes);
	for (int k = 0; k < s->ndefines; k++) {
		const sweep_define *d = &s->defines[k];
		for (int q = 0; q < d->nnames; q++)
			sbuf_printf(out, ",%" PRId64,
				    d->values[(size_t)p->def[k] * (size_t)d->nnames + (size_t)q]);
	}
	double v[NFIGURES];
	figures(r, v);
	for (int i = 0; figure_names[i]; i++)
		sbuf_printf(out, ",%.10g", v[i]);
	sbuf_printf(out, "\n");
}

cJSON *sweep_json_row(const sweep_spec *s, const sweep_point *p, const sweep_result *r)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	cJSON_AddNumberToObject(j, "point", (double)p->index);
	cJSON_AddStringToObject(j, "file", s->files[p->file]);
	cJSON_AddStringToObject(j, "arch", s->archs[p->arch]);
	cJSON_AddStringToObject(j, "policy", s->policies[p->policy]);
	cJSON_AddNumberToObject(j, "buffer_bytes", (double)r->buffer_bytes);
	cJSON *d = cJSON_AddObjectToObject(j, "defines");
	for (int k = 0; d && k < s->ndefines; k++) {
		const sweep_define *df = &s->defines[k];
		for (int q = 0; q < df->nnames; q++)
			cJSON_AddNumberToObject(
				d, df->names[q],
				(double)df->values[(size_t)p->def[k] * (size_t)df->nnames + (size_t)q]);
	}
	double v[NFIGURES];
	figures(r, v);
	for (int i = 0; figure_names[i]; i++)
		cJSON_AddNumberToObject(j, figure_names[i], v[i]);
	/* cJSON's adders fail quietly: count what arrived. */
	if (!d || cJSON_GetArraySize(j) != 6 + NFIGURES) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}
