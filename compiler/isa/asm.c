/* asm.c - disassembly and assembly of accelerator streams (see asm.h and
 * docs/isa.md, "Assembly"). */
#include "asm.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"

/* ------------------------------------------------------- disassembly */

/* Shortest text that reads back as exactly f (9 significant digits always
 * suffice for a float; inf prints as inf). */
static void pfloat(FILE *o, float f)
{
	fprintf(o, "%.9g", (double)f);
}

static void pdouble(FILE *o, double d)
{
	fprintf(o, "%.17g", d);
}

static const char *const target_keys[] = {"rows", "cols", "cores", "drain", "lanes",
					  "buffer", "bpv", "concurrent", "double_buffer",
					  "switch", "dram_gbps", "clock_ghz"};
#define NTARGET_KEYS 12

static void pstrides(FILE *o, const mlb_desc *d, int s)
{
	fprintf(o, " s%d=[", s);
	for (int k = 0; k < d->ndim; k++)
		fprintf(o, "%s%" PRId32, k ? "," : "", d->stride[s][k]);
	fprintf(o, "]");
}

static const char *cost_text(int cost)
{
	return cost ? mlb_cost_name(cost - 1) : "none";
}

/* The header comment, .version, .module, .target, .cycles, .dram. */
static void dis_header(const mlb_module *m, FILE *o)
{
	const mlb_target *t = &m->target;
	fprintf(o, "; %s: Mambalaya accelerator stream, format %d.%d (docs/isa.md)\n", m->name,
		MLB_VERSION_MAJOR, m->version_minor);
	fprintf(o, "; %d tensors, %d groups, %d descriptors, %d micro-ops, %d instructions\n",
		m->ntensors, m->ngroups, m->ndescs, m->nuops, m->ninsns);
	fprintf(o, ".version %d.%d\n", MLB_VERSION_MAJOR, m->version_minor);
	fprintf(o, ".module \"%s\" \"%s\"\n", m->name, m->source);
	fprintf(o, ".target \"%s\" rows=%" PRId64 " cols=%" PRId64 " cores=%" PRId64
		   " drain=%" PRId64 " lanes=%" PRId64 " buffer=%" PRId64
		   " bpv=%d concurrent=%d double_buffer=%d switch=",
		t->name, t->rows, t->cols, t->cores, t->drain_cycles, t->lanes, t->buffer_bytes,
		t->bytes_per_value, t->concurrent, t->double_buffer);
	pdouble(o, t->switch_cycles);
	fprintf(o, " dram_gbps=");
	pdouble(o, t->dram_gb_per_s);
	fprintf(o, " clock_ghz=");
	pdouble(o, t->clock_ghz);
	for (int l = 0; l < t->nlevels; l++) {
		const mlb_level *lv = &t->levels[l];
		fprintf(o, "\n.level \"%s\" bytes=%" PRId64 " read_gbps=", lv->name, lv->bytes);
		pdouble(o, lv->read_gb_per_s);
		fprintf(o, " write_gbps=");
		pdouble(o, lv->write_gb_per_s);
		fprintf(o, " overhead=");
		pdouble(o, lv->tile_overhead_cycles);
	}
	fprintf(o, "\n.cycles");
	for (int k = 0; k < MLB_NOPS; k++) {
		fprintf(o, " %s=", mlb_cost_name(k));
		pdouble(o, t->op_cycles[k]);
	}
	fprintf(o, "\n.dram %" PRId64 "\n", m->dram_values);
}

/* The tensor and group tables. */
static void dis_tables(const mlb_module *m, FILE *o)
{
	for (int i = 0; i < m->ntensors; i++) {
		const mlb_tensor *tt = &m->tensors[i];
		fprintf(o, ".tensor %s %s [", tt->name, mlb_role_name(tt->role));
		for (int d = 0; d < tt->ndims; d++)
			fprintf(o, "%s%" PRId64, d ? "," : "", tt->shape[d]);
		if (tt->dram >= 0)
			fprintf(o, "] @%" PRId64 "\n", tt->dram);
		else
			fprintf(o, "] @none\n");
	}
	for (int i = 0; i < m->ngroups; i++)
		fprintf(o, ".group %d \"%s\"\n", i, m->groups[i]);
}

/* One .desc line. */
static void dis_desc(const mlb_module *m, int i, FILE *o)
{
	const mlb_desc *d = &m->descs[i];
	fprintf(o, ".desc %d %s dims=%d", i, mlb_desc_kind_name(d->kind), d->ndim);
	switch (d->kind) {
	case MLB_D_DMA:
		fprintf(o, " tensor=%s", m->tensors[d->tensor].name);
		break;
	case MLB_D_VEXPR:
		fprintf(o, " streams=%d flags=%s uops=%u+%u", d->nstreams,
			(d->flags & 3) == 3   ? "seq,overwrite"
			: (d->flags & 3) == 1 ? "seq"
			: (d->flags & 3) == 2 ? "overwrite"
					      : "none",
			d->uop, d->nuops);
		break;
	case MLB_D_MMA:
		fprintf(o, " classes=[");
		for (int k = 0; k < d->ndim; k++)
			fprintf(o, "%s%c", k ? "," : "", "bmnk"[d->cls[k]]);
		fprintf(o, "] flags=%s alpha=", d->flags ? "overwrite" : "none");
		pfloat(o, d->value);
		break;
	case MLB_D_FILL:
		fprintf(o, " unit=%s value=", d->flags ? "2d" : "1d");
		pfloat(o, d->value);
		break;
	}
	for (int s = 0; s < d->nstreams; s++)
		pstrides(o, d, s);
	fprintf(o, "\n");
}

/* One .uop line. */
static void dis_uop(const mlb_module *m, int i, FILE *o)
{
	const mlb_uop *u = &m->uops[i];
	fprintf(o, ".uop %d %s", i, mlb_uop_name(u->op));
	switch (u->op) {
	case MLB_U_LD:
		fprintf(o, " s%u", u->a);
		break;
	case MLB_U_CST:
		fprintf(o, " ");
		pfloat(o, u->value);
		break;
	case MLB_U_VAR:
		if (u->a == 255)
			fprintf(o, " dim=none slot=%u", u->b);
		else
			fprintf(o, " dim=%u slot=%u", u->a, u->b);
		break;
	case MLB_U_UN:
		fprintf(o, " %s #%u", mlb_fn_name(u->fn), u->a);
		break;
	case MLB_U_BIN:
		fprintf(o, " %s #%u #%u", mlb_binop_name(u->fn), u->a, u->b);
		break;
	case MLB_U_ST:
		fprintf(o, " #%u", u->a);
		break;
	case MLB_U_ACC:
		fprintf(o, " %s #%u", mlb_binop_name(u->fn), u->a);
		break;
	}
	fprintf(o, " mask=0x%02x cost=%s\n", u->mask, cost_text(u->cost));
}

/* One instruction (without its indentation); a loop deepens *depth. */
static void dis_insn(const mlb_module *m, const mlb_insn *in, int *depth, FILE *o)
{
	const char *nm = mlb_opcode_name(in->op);
	switch (in->op) {
	case MLB_NOP:
	case MLB_HALT:
	case MLB_TILE:
	case MLB_SYNC:
	case MLB_ENDLOOP:
		fprintf(o, "%s", nm);
		break;
	case MLB_LI:
		fprintf(o, "li r%u, %" PRId64, in->a, in->imm);
		break;
	case MLB_ADDI:
	case MLB_MULI:
		fprintf(o, "%s r%u, r%u, %" PRId64, nm, in->a, in->b, in->imm);
		break;
	case MLB_SEL:
		fprintf(o, "sel r%u, r%u, r%u, r%" PRId64, in->a, in->b, in->c, in->imm);
		break;
	case MLB_LOOP:
		fprintf(o, "loop r%u, r%u, %" PRId64, in->a, in->b, in->imm);
		(*depth)++;
		break;
	case MLB_BZ:
		fprintf(o, "bz r%u, L%u", in->a, in->x);
		break;
	case MLB_JMP:
		fprintf(o, "jmp L%u", in->x);
		break;
	case MLB_GROUP:
		fprintf(o, "group %u, %" PRId64 "\t; %s", in->x, in->imm, m->groups[in->x]);
		break;
	case MLB_MODE:
		fprintf(o, "mode %s", in->a ? "2d" : "1d");
		break;
	case MLB_LOAD:
	case MLB_STORE:
	case MLB_MOVE:
	case MLB_VEXPR:
	case MLB_MMA:
	case MLB_FILL:
		fprintf(o, "%s d%u, r%u, r%u", nm, in->x, in->a, in->b);
		if (in->op == MLB_LOAD || in->op == MLB_STORE)
			fprintf(o, "\t; %s", m->tensors[m->descs[in->x].tensor].name);
		break;
	default:
		fprintf(o, "%s r%u, r%u, r%u", nm, in->a, in->b, in->c);
	}
}

int asm_disassemble(const mlb_module *m, FILE *o)
{
	dis_header(m, o);
	dis_tables(m, o);
	for (int i = 0; i < m->ndescs; i++)
		dis_desc(m, i, o);
	for (int i = 0; i < m->nuops; i++)
		dis_uop(m, i, o);
	fprintf(o, ".code\n");
	char *target = calloc((size_t)(m->ninsns ? m->ninsns : 1), 1);
	if (!target)
		return -1;
	for (int i = 0; i < m->ninsns; i++)
		if (m->insns[i].op == MLB_BZ || m->insns[i].op == MLB_JMP)
			target[m->insns[i].x] = 1;
	int depth = 1;
	for (int i = 0; i < m->ninsns; i++) {
		const mlb_insn *in = &m->insns[i];
		if (target[i])
			fprintf(o, "L%d:\n", i);
		if (in->op == MLB_ENDLOOP && depth > 1)
			depth--;
		for (int k = 0; k < depth; k++)
			fputc('\t', o);
		dis_insn(m, in, &depth, o);
		fputc('\n', o);
	}
	free(target);
	return ferror(o) ? -1 : 0;
}

/* --------------------------------------------------------- assembly */

typedef enum tkind { T_END, T_WORD, T_STR, T_PUNCT } tkind;

typedef struct tok {
	tkind kind;
	const char *s;
	int len;
	int col;
} tok;

typedef struct label {
	char *name;
	int at;
	ein_loc loc;
} label;

typedef struct fixup {
	int insn;
	char *name;
	ein_loc loc;
} fixup;

typedef struct as {
	diag_ctx *dg;
	const char *line; /* the current line */
	int lineno, len;
	int pos;
	int errors;
	mlb_module *m;
	int cap_t, cap_g, cap_d, cap_u, cap_i;
	int *line_d, *line_u, *line_i, *line_t;
	int cap_ld, cap_lu, cap_li, cap_lt;
	int have_module, have_target, have_cycles, have_dram, have_version, in_code;
	label *labels;
	int nlabels, cap_labels;
	fixup *fixups;
	int nfixups, cap_fixups;
	int loops[256];
	int nloops;
	int line_err; /* the current line has an error: report only the first */
	int line_target, line_module, line_dram, line_code;
	int *line_g;
	int cap_lg;
} as;

static ein_loc tok_loc(const as *a, const tok *t)
{
	ein_loc l = {a->lineno, t->col, a->lineno, t->col + (t->len > 0 ? t->len - 1 : 0)};
	return l;
}

static void __attribute__((format(printf, 3, 4))) err_at(as *a, const tok *t, const char *fmt, ...)
{
	if (a->line_err)
		return;
	a->line_err = 1;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(a->dg, tok_loc(a, t), "%s", msg);
	a->errors++;
}

static int is_sep(char c)
{
	return c == ',' || c == '=' || c == '[' || c == ']' || c == ':';
}

/* The next token of the current line; a ';' starts a comment. */
static void next(as *a, tok *t)
{
	while (a->pos < a->len && (a->line[a->pos] == ' ' || a->line[a->pos] == '\t' ||
				   a->line[a->pos] == '\r'))
		a->pos++;
	t->col = a->pos + 1;
	t->s = a->line + a->pos;
	t->len = 0;
	if (a->pos >= a->len || a->line[a->pos] == ';') {
		t->kind = T_END;
		return;
	}
	char c = a->line[a->pos];
	if (is_sep(c)) {
		t->kind = T_PUNCT;
		t->len = 1;
		a->pos++;
		return;
	}
	if (c == '"') {
		int q = a->pos + 1;
		while (q < a->len && a->line[q] != '"')
			q++;
		t->kind = T_STR;
		t->s = a->line + a->pos + 1;
		t->len = q - a->pos - 1;
		if (q >= a->len) {
			tok e = {T_STR, NULL, a->len - a->pos, a->pos + 1};
			err_at(a, &e, "unterminated string");
			a->pos = a->len;
			return;
		}
		a->pos = q + 1;
		return;
	}
	int q = a->pos;
	while (q < a->len && !is_sep(a->line[q]) && a->line[q] != ' ' && a->line[q] != '\t' &&
	       a->line[q] != ';' && a->line[q] != '"' && a->line[q] != '\r')
		q++;
	t->kind = T_WORD;
	t->len = q - a->pos;
	a->pos = q;
}

static int word_is(const tok *t, const char *w)
{
	return t->kind == T_WORD && (size_t)t->len == strlen(w) && strncmp(t->s, w, (size_t)t->len) == 0;
}

static const char *what(const tok *t)
{
	return t->kind == T_END ? "the end of the line" : t->kind == T_STR ? "a string" : "'";
}

/* "expected X, found Y" with the token. */
static void expected(as *a, const tok *t, const char *x)
{
	if (t->kind == T_WORD || t->kind == T_PUNCT)
		err_at(a, t, "expected %s, found '%.*s'", x, t->len, t->s);
	else
		err_at(a, t, "expected %s, found %s", x, what(t));
}

static int punct(as *a, char c)
{
	tok t;
	next(a, &t);
	if (t.kind != T_PUNCT || t.s[0] != c) {
		char x[8];
		snprintf(x, sizeof(x), "'%c'", c);
		expected(a, &t, x);
		return -1;
	}
	return 0;
}

/* An integer word (decimal, or 0x hex), in [lo, hi]. */
static int parse_int(as *a, const tok *t, int64_t lo, int64_t hi, int64_t *out, const char *x)
{
	if (t->kind != T_WORD || t->len == 0 || t->len > 40) {
		expected(a, t, x);
		return -1;
	}
	char buf[48];
	memcpy(buf, t->s, (size_t)t->len);
	buf[t->len] = '\0';
	char *end;
	errno = 0;
	long long v = strtoll(buf, &end, 0);
	if (*end || errno || !(isdigit((unsigned char)buf[0]) || buf[0] == '-' || buf[0] == '+')) {
		expected(a, t, x);
		return -1;
	}
	if (v < lo || v > hi) {
		err_at(a, t, "%s %lld is out of range [%lld, %lld]", x, v, (long long)lo, (long long)hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int get_int(as *a, int64_t lo, int64_t hi, int64_t *out, const char *x)
{
	tok t;
	next(a, &t);
	return parse_int(a, &t, lo, hi, out, x);
}

/* The text of a number token, into buf (64 bytes).  Returns 0 or -1
 * after an error. */
static int number_text(as *a, const tok *t, char *buf)
{
	if (t->kind != T_WORD || t->len == 0 || t->len > 60) {
		expected(a, t, "a number");
		return -1;
	}
	memcpy(buf, t->s, (size_t)t->len);
	buf[t->len] = '\0';
	return 0;
}

static int parse_double(as *a, const tok *t, double *out)
{
	char buf[64], *end;
	if (number_text(a, t, buf) < 0)
		return -1;
	double v = strtod(buf, &end);
	if (*end || end == buf) {
		expected(a, t, "a number");
		return -1;
	}
	*out = v;
	return 0;
}

/* strtof, not (float)strtod: a float printed with %.9g reads back exactly. */
static int parse_float(as *a, const tok *t, float *out)
{
	char buf[64], *end;
	if (number_text(a, t, buf) < 0)
		return -1;
	float v = strtof(buf, &end);
	if (*end || end == buf) {
		expected(a, t, "a number");
		return -1;
	}
	*out = v;
	return 0;
}

/* A word with a one-letter prefix and a number: r12, d3, s1, #4. */
static int get_pref(as *a, char p, int64_t hi, int64_t *out, const char *x)
{
	tok t;
	next(a, &t);
	if (t.kind != T_WORD || t.len < 2 || t.s[0] != p) {
		expected(a, &t, x);
		return -1;
	}
	tok n = t;
	n.s++;
	n.len--;
	n.col++;
	if (!isdigit((unsigned char)n.s[0])) {
		expected(a, &t, x);
		return -1;
	}
	int64_t v;
	if (parse_int(a, &n, 0, INT64_MAX, &v, x) < 0)
		return -1;
	if (v > hi) {
		err_at(a, &t, "'%.*s' is out of range: expected %s", t.len, t.s, x);
		return -1;
	}
	*out = v;
	return 0;
}

static int get_reg(as *a, int64_t *r)
{
	return get_pref(a, 'r', MLB_NREGS - 1, r, "a register r0..r255");
}

/* key=VALUE: checks the key, returns the value token. */
static int keyval(as *a, const char *key, tok *v)
{
	tok t;
	next(a, &t);
	if (!word_is(&t, key)) {
		char x[64];
		snprintf(x, sizeof(x), "'%s='", key);
		expected(a, &t, x);
		return -1;
	}
	if (punct(a, '=') < 0)
		return -1;
	next(a, v);
	return 0;
}

static int end_of_line(as *a)
{
	tok t;
	next(a, &t);
	if (t.kind != T_END) {
		err_at(a, &t, "unexpected '%.*s' at the end of the line", t.len, t.s);
		return -1;
	}
	return 0;
}

static int get_str(as *a, char *buf, size_t cap, const char *x)
{
	tok t;
	next(a, &t);
	if (t.kind != T_STR) {
		expected(a, &t, x);
		return -1;
	}
	if ((size_t)t.len >= cap) {
		err_at(a, &t, "%s is longer than %zu bytes", x, cap - 1);
		return -1;
	}
	memcpy(buf, t.s, (size_t)t.len);
	buf[t.len] = '\0';
	return 0;
}

static int grow(as *a, void **p, int *cap, int n, size_t sz)
{
	if (n < *cap)
		return 0;
	int nc = *cap ? *cap * 2 : 64;
	void *q = realloc(*p, (size_t)nc * sz);
	if (!q) {
		diag_internal("out of memory");
		a->errors++;
		return -1;
	}
	*p = q;
	*cap = nc;
	return 0;
}

/* Appends a line number to a per-entry table. */
static void note_line(as *a, int **tab, int *cap, int n)
{
	if (grow(a, (void **)tab, cap, n, sizeof(int)) == 0)
		(*tab)[n] = a->lineno;
}

/* An index directive's number, which must be the next entry. */
static int get_index(as *a, int expect, const char *what_)
{
	tok t;
	next(a, &t);
	int64_t v;
	if (parse_int(a, &t, 0, INT32_MAX, &v, "an index") < 0)
		return -1;
	if (v != expect) {
		err_at(a, &t, "%s %lld out of order: the next one is %d", what_, (long long)v, expect);
		return -1;
	}
	return 0;
}

static int find_tensor(const mlb_module *m, const tok *t)
{
	for (int i = 0; i < m->ntensors; i++)
		if ((size_t)t->len == strlen(m->tensors[i].name) &&
		    strncmp(m->tensors[i].name, t->s, (size_t)t->len) == 0)
			return i;
	return -1;
}

/* The next KEY=VALUE of a directive's line: *key is the index of KEY
 * among n names (name(i) gives each; seen counts them, a key may come
 * once), *v the value's token.  Returns 1, 0 at the end of the line, or
 * -1 after an error (what: the keys expected). */
static int get_key(as *a, const char *(*name)(int), int n, int *seen, const char *what,
		   int *key, tok *v)
{
	tok k;
	next(a, &k);
	if (k.kind == T_END)
		return 0;
	*key = -1;
	for (int i = 0; i < n; i++)
		if (word_is(&k, name(i)))
			*key = i;
	if (*key < 0) {
		expected(a, &k, what);
		return -1;
	}
	if (seen[*key]++) {
		err_at(a, &k, "'%s' given twice", name(*key));
		return -1;
	}
	if (punct(a, '=') < 0)
		return -1;
	next(a, v);
	return 1;
}

static const char *target_key(int i)
{
	return target_keys[i];
}

static void dir_target(as *a)
{
	mlb_target *t = &a->m->target;
	if (get_str(a, t->name, sizeof(t->name), "the target's name in quotes") < 0)
		return;
	int seen[NTARGET_KEYS] = {0}, key, more;
	tok v;
	while ((more = get_key(a, target_key, NTARGET_KEYS, seen,
			       "a target field (rows, cols, cores, drain, lanes, buffer, bpv, "
			       "concurrent, double_buffer, switch, dram_gbps, clock_ghz)",
			       &key, &v)) > 0) {
		int64_t iv = 0;
		int r = 0;
		switch (key) {
		case 0: r = parse_int(a, &v, 0, INT64_MAX, &t->rows, "rows"); break;
		case 1: r = parse_int(a, &v, 0, INT64_MAX, &t->cols, "cols"); break;
		case 2: r = parse_int(a, &v, 0, INT64_MAX, &t->cores, "cores"); break;
		case 3: r = parse_int(a, &v, 0, INT64_MAX, &t->drain_cycles, "drain"); break;
		case 4: r = parse_int(a, &v, 0, INT64_MAX, &t->lanes, "lanes"); break;
		case 5: r = parse_int(a, &v, 0, INT64_MAX, &t->buffer_bytes, "buffer"); break;
		case 6: r = parse_int(a, &v, 1, 255, &iv, "bpv"); t->bytes_per_value = (int)iv; break;
		case 7: r = parse_int(a, &v, 0, 1, &iv, "concurrent"); t->concurrent = (int)iv; break;
		case 8: r = parse_int(a, &v, 0, 1, &iv, "double_buffer"); t->double_buffer = (int)iv; break;
		case 9: r = parse_double(a, &v, &t->switch_cycles); break;
		case 10: r = parse_double(a, &v, &t->dram_gb_per_s); break;
		case 11: r = parse_double(a, &v, &t->clock_ghz); break;
		}
		if (r < 0)
			return;
	}
	if (more < 0)
		return;
	for (int i = 0; i < NTARGET_KEYS; i++)
		if (!seen[i]) {
			tok e = {T_END, NULL, 1, 1};
			err_at(a, &e, ".target lacks '%s'", target_keys[i]);
			return;
		}
	a->have_target = 1;
}

static const char *const level_keys[] = {"bytes", "read_gbps", "write_gbps", "overhead"};

static const char *level_key(int i)
{
	return level_keys[i];
}

/* .level "NAME" bytes=N read_gbps=X write_gbps=Y overhead=Z: the next
 * memory level, from DRAM inwards (format 1.1). */
static void dir_level(as *a)
{
	mlb_target *t = &a->m->target;
	tok d = {T_END, NULL, 1, 1};
	if (t->nlevels >= MLB_MAX_LEVELS) {
		err_at(a, &d, "more than %d .level lines", MLB_MAX_LEVELS);
		return;
	}
	mlb_level *lv = &t->levels[t->nlevels];
	if (get_str(a, lv->name, sizeof(lv->name), "the level's name in quotes") < 0)
		return;
	int seen[4] = {0}, key, more;
	tok v;
	while ((more = get_key(a, level_key, 4, seen,
			       "a level field (bytes, read_gbps, write_gbps, overhead)", &key,
			       &v)) > 0) {
		int r = 0;
		switch (key) {
		case 0: r = parse_int(a, &v, 0, INT64_MAX, &lv->bytes, "bytes"); break;
		case 1: r = parse_double(a, &v, &lv->read_gb_per_s); break;
		case 2: r = parse_double(a, &v, &lv->write_gb_per_s); break;
		case 3: r = parse_double(a, &v, &lv->tile_overhead_cycles); break;
		}
		if (r < 0)
			return;
	}
	if (more < 0)
		return;
	for (int i = 0; i < 4; i++)
		if (!seen[i]) {
			tok e = {T_END, NULL, 1, 1};
			err_at(a, &e, ".level lacks '%s'", level_keys[i]);
			return;
		}
	t->nlevels++;
}

static void dir_cycles(as *a)
{
	int seen[MLB_NOPS] = {0}, key, more;
	tok v;
	while ((more = get_key(a, mlb_cost_name, MLB_NOPS, seen,
			       "an operation of the 1D array (exp, ..., mac, copy, read)", &key,
			       &v)) > 0)
		if (parse_double(a, &v, &a->m->target.op_cycles[key]) < 0)
			return;
	if (more < 0)
		return;
	for (int i = 0; i < MLB_NOPS; i++)
		if (!seen[i]) {
			tok e = {T_END, NULL, 1, 1};
			err_at(a, &e, ".cycles lacks '%s'", mlb_cost_name(i));
			return;
		}
	a->have_cycles = 1;
}

static void dir_tensor(as *a)
{
	mlb_module *m = a->m;
	if (grow(a, (void **)&m->tensors, &a->cap_t, m->ntensors, sizeof(mlb_tensor)) < 0)
		return;
	mlb_tensor *t = &m->tensors[m->ntensors];
	memset(t, 0, sizeof(*t));
	tok n;
	next(a, &n);
	if (n.kind != T_WORD || n.len > MLB_MAX_NAME) {
		expected(a, &n, "a tensor name");
		return;
	}
	memcpy(t->name, n.s, (size_t)n.len);
	t->name[n.len] = '\0';
	if (find_tensor(m, &n) >= 0) {
		err_at(a, &n, "tensor '%s' declared twice", t->name);
		return;
	}
	tok r;
	next(a, &r);
	t->role = -1;
	for (int k = 0; k < 4; k++)
		if (word_is(&r, mlb_role_name(k)))
			t->role = k;
	if (t->role < 0) {
		expected(a, &r, "a role (input, weight, output, temp)");
		return;
	}
	if (punct(a, '[') < 0)
		return;
	tok v;
	next(a, &v);
	while (!(v.kind == T_PUNCT && v.s[0] == ']')) {
		if (t->ndims == MLB_MAX_DIMS) {
			err_at(a, &v, "more than %d dimensions", MLB_MAX_DIMS);
			return;
		}
		if (parse_int(a, &v, 1, MLB_MAX_ELEMS, &t->shape[t->ndims++], "a dimension size") < 0)
			return;
		next(a, &v);
		if (v.kind == T_PUNCT && v.s[0] == ',')
			next(a, &v);
		else if (!(v.kind == T_PUNCT && v.s[0] == ']')) {
			expected(a, &v, "',' or ']'");
			return;
		}
	}
	tok at;
	next(a, &at);
	if (at.kind != T_WORD || at.s[0] != '@' || at.len < 2) {
		expected(a, &at, "'@OFFSET' or '@none'");
		return;
	}
	tok off = at;
	off.s++;
	off.len--;
	off.col++;
	if (word_is(&off, "none"))
		t->dram = -1;
	else if (parse_int(a, &off, 0, MLB_MAX_ELEMS, &t->dram, "a DRAM offset") < 0)
		return;
	if (end_of_line(a) < 0)
		return;
	note_line(a, &a->line_t, &a->cap_lt, m->ntensors);
	m->ntensors++;
}

/* s<k>=[v,...] with exactly n values. */
static int strides(as *a, mlb_desc *d, int s)
{
	char key[16];
	snprintf(key, sizeof(key), "s%d", s);
	tok v;
	if (keyval(a, key, &v) < 0)
		return -1;
	if (v.kind != T_PUNCT || v.s[0] != '[') {
		expected(a, &v, "'['");
		return -1;
	}
	for (int k = 0; k < d->ndim; k++) {
		int64_t x;
		if (k && punct(a, ',') < 0)
			return -1;
		if (get_int(a, -MLB_MAX_STRIDE + 1, MLB_MAX_STRIDE - 1, &x, "a stride") < 0)
			return -1;
		d->stride[s][k] = (int32_t)x;
	}
	return punct(a, ']');
}

static void dir_desc(as *a)
{
	mlb_module *m = a->m;
	if (get_index(a, m->ndescs, "descriptor") < 0)
		return;
	if (grow(a, (void **)&m->descs, &a->cap_d, m->ndescs, sizeof(mlb_desc)) < 0)
		return;
	mlb_desc *d = &m->descs[m->ndescs];
	memset(d, 0, sizeof(*d));
	tok k;
	next(a, &k);
	for (int i = 1; i <= 5; i++)
		if (word_is(&k, mlb_desc_kind_name(i)))
			d->kind = i;
	if (!d->kind) {
		expected(a, &k, "a descriptor kind (dma, move, vexpr, mma, fill)");
		return;
	}
	tok v;
	int64_t x;
	if (keyval(a, "dims", &v) < 0 || parse_int(a, &v, 0, MLB_MAX_DIMS, &x, "dims") < 0)
		return;
	d->ndim = (int)x;
	d->nstreams = d->kind == MLB_D_MOVE ? 2 : d->kind == MLB_D_MMA ? 3 : 1;
	switch (d->kind) {
	case MLB_D_DMA:
		if (keyval(a, "tensor", &v) < 0)
			return;
		d->tensor = find_tensor(m, &v);
		if (d->tensor < 0) {
			err_at(a, &v, "no tensor named '%.*s' (declare it with .tensor first)", v.len, v.s);
			return;
		}
		break;
	case MLB_D_VEXPR: {
		if (keyval(a, "streams", &v) < 0 ||
		    parse_int(a, &v, 1, MLB_MAX_STREAMS, &x, "streams") < 0)
			return;
		d->nstreams = (int)x;
		if (keyval(a, "flags", &v) < 0)
			return;
		if (word_is(&v, "seq"))
			d->flags = MLB_F_SEQ;
		else if (word_is(&v, "overwrite"))
			d->flags = MLB_F_OVERWRITE;
		else if (!word_is(&v, "none")) {
			expected(a, &v, "flags none, seq, overwrite or seq,overwrite");
			return;
		}
		if (d->flags == MLB_F_SEQ) {
			/* seq,overwrite */
			int save = a->pos;
			tok c;
			next(a, &c);
			if (c.kind == T_PUNCT && c.s[0] == ',') {
				tok w;
				next(a, &w);
				if (!word_is(&w, "overwrite")) {
					expected(a, &w, "'overwrite'");
					return;
				}
				d->flags |= MLB_F_OVERWRITE;
			} else {
				a->pos = save;
			}
		}
		if (keyval(a, "uops", &v) < 0)
			return;
		/* FIRST+COUNT */
		const char *plus = memchr(v.s, '+', (size_t)v.len);
		if (v.kind != T_WORD || !plus) {
			expected(a, &v, "FIRST+COUNT");
			return;
		}
		tok f = v, c = v;
		f.len = (int)(plus - v.s);
		c.s = plus + 1;
		c.len = v.len - f.len - 1;
		c.col = v.col + f.len + 1;
		int64_t fi, ci;
		if (parse_int(a, &f, 0, MLB_MAX_UOPS, &fi, "a micro-op index") < 0 ||
		    parse_int(a, &c, 0, MLB_MAX_UOPS, &ci, "a micro-op count") < 0)
			return;
		d->uop = (uint32_t)fi;
		d->nuops = (uint32_t)ci;
		break;
	}
	case MLB_D_MMA: {
		if (keyval(a, "classes", &v) < 0)
			return;
		if (v.kind != T_PUNCT || v.s[0] != '[') {
			expected(a, &v, "'['");
			return;
		}
		for (int j = 0; j < d->ndim; j++) {
			if (j && punct(a, ',') < 0)
				return;
			tok c;
			next(a, &c);
			const char *cl = c.kind == T_WORD && c.len == 1 ? strchr("bmnk", c.s[0]) : NULL;
			if (!cl || !c.s[0]) {
				expected(a, &c, "a class (b, m, n or k)");
				return;
			}
			d->cls[j] = (uint8_t)(cl - "bmnk");
		}
		if (punct(a, ']') < 0)
			return;
		if (keyval(a, "flags", &v) < 0)
			return;
		if (word_is(&v, "overwrite"))
			d->flags = MLB_F_OVERWRITE;
		else if (!word_is(&v, "none")) {
			expected(a, &v, "flags none or overwrite");
			return;
		}
		if (keyval(a, "alpha", &v) < 0 || parse_float(a, &v, &d->value) < 0)
			return;
		break;
	}
	case MLB_D_FILL:
		if (keyval(a, "unit", &v) < 0)
			return;
		if (word_is(&v, "2d"))
			d->flags = MLB_F_UNIT2D;
		else if (!word_is(&v, "1d")) {
			expected(a, &v, "unit 1d or 2d");
			return;
		}
		if (keyval(a, "value", &v) < 0 || parse_float(a, &v, &d->value) < 0)
			return;
		break;
	}
	for (int s = 0; s < d->nstreams; s++)
		if (strides(a, d, s) < 0)
			return;
	if (end_of_line(a) < 0)
		return;
	note_line(a, &a->line_d, &a->cap_ld, m->ndescs);
	m->ndescs++;
}

static int get_ref(as *a, uint16_t *out)
{
	int64_t v;
	if (get_pref(a, '#', 65535, &v, "a micro-op operand #N") < 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static void dir_uop(as *a)
{
	mlb_module *m = a->m;
	if (get_index(a, m->nuops, "micro-op") < 0)
		return;
	if (grow(a, (void **)&m->uops, &a->cap_u, m->nuops, sizeof(mlb_uop)) < 0)
		return;
	mlb_uop *u = &m->uops[m->nuops];
	memset(u, 0, sizeof(*u));
	tok k;
	next(a, &k);
	for (int i = 1; i <= 7; i++)
		if (word_is(&k, mlb_uop_name(i)))
			u->op = (uint8_t)i;
	if (!u->op) {
		expected(a, &k, "a micro-op (ld, cst, var, un, bin, st, acc)");
		return;
	}
	tok v;
	int64_t x;
	switch (u->op) {
	case MLB_U_LD:
		if (get_pref(a, 's', MLB_MAX_STREAMS - 1, &x, "a stream s1..s7") < 0)
			return;
		u->a = (uint16_t)x;
		break;
	case MLB_U_CST:
		next(a, &v);
		if (parse_float(a, &v, &u->value) < 0)
			return;
		break;
	case MLB_U_VAR:
		if (keyval(a, "dim", &v) < 0)
			return;
		if (word_is(&v, "none"))
			u->a = 255;
		else if (parse_int(a, &v, 0, MLB_MAX_DIMS - 1, &x, "a box dimension") < 0)
			return;
		else
			u->a = (uint16_t)x;
		if (keyval(a, "slot", &v) < 0 || parse_int(a, &v, 0, 63, &x, "a slot") < 0)
			return;
		u->b = (uint16_t)x;
		break;
	case MLB_U_UN: {
		next(a, &v);
		int fn = -1;
		for (int i = 0; i < MLB_NFN; i++)
			if (word_is(&v, mlb_fn_name(i)))
				fn = i;
		if (fn < 0) {
			expected(a, &v, "a function (exp, log, ...)");
			return;
		}
		u->fn = (uint8_t)fn;
		if (get_ref(a, &u->a) < 0)
			return;
		break;
	}
	case MLB_U_BIN:
	case MLB_U_ACC: {
		next(a, &v);
		int op = -1;
		for (int i = 0; i < MLB_NBINOP; i++)
			if (word_is(&v, mlb_binop_name(i)))
				op = i;
		if (op < 0) {
			expected(a, &v, "an operator (add, sub, mul, div, max, min)");
			return;
		}
		u->fn = (uint8_t)op;
		if (get_ref(a, &u->a) < 0 || (u->op == MLB_U_BIN && get_ref(a, &u->b) < 0))
			return;
		break;
	}
	case MLB_U_ST:
		if (get_ref(a, &u->a) < 0)
			return;
		break;
	}
	if (keyval(a, "mask", &v) < 0 || parse_int(a, &v, 0, 255, &x, "a mask") < 0)
		return;
	u->mask = (uint8_t)x;
	if (keyval(a, "cost", &v) < 0)
		return;
	if (word_is(&v, "none")) {
		u->cost = 0;
	} else {
		int c = -1;
		for (int i = 0; i < MLB_NOPS; i++)
			if (word_is(&v, mlb_cost_name(i)))
				c = i;
		if (c < 0) {
			expected(a, &v, "a cost class (none, exp, ..., mac, copy, read)");
			return;
		}
		u->cost = (uint8_t)(c + 1);
	}
	if (end_of_line(a) < 0)
		return;
	note_line(a, &a->line_u, &a->cap_lu, m->nuops);
	m->nuops++;
}

static mlb_insn *new_insn(as *a, int op)
{
	mlb_module *m = a->m;
	if (m->ninsns >= MLB_MAX_INSNS) {
		tok e = {T_END, NULL, 1, 1};
		err_at(a, &e, "more than %d instructions", MLB_MAX_INSNS);
		return NULL;
	}
	if (grow(a, (void **)&m->insns, &a->cap_i, m->ninsns, sizeof(mlb_insn)) < 0)
		return NULL;
	mlb_insn *in = &m->insns[m->ninsns];
	memset(in, 0, sizeof(*in));
	in->op = (uint8_t)op;
	return in;
}

static int label_ref(as *a, int insn)
{
	tok t;
	next(a, &t);
	if (t.kind != T_WORD) {
		expected(a, &t, "a label");
		return -1;
	}
	if (grow(a, (void **)&a->fixups, &a->cap_fixups, a->nfixups, sizeof(fixup)) < 0)
		return -1;
	fixup *f = &a->fixups[a->nfixups];
	f->insn = insn;
	f->name = strndup(t.s, (size_t)t.len);
	f->loc = tok_loc(a, &t);
	if (!f->name)
		return -1;
	a->nfixups++;
	return 0;
}

static void instruction(as *a, const tok *mn)
{
	int op = -1;
	for (int i = 0; i < MLB_NOPCODES; i++)
		if (word_is(mn, mlb_opcode_name(i)))
			op = i;
	if (op < 0) {
		err_at(a, mn, "unknown instruction '%.*s'", mn->len, mn->s);
		return;
	}
	mlb_insn *in = new_insn(a, op);
	if (!in)
		return;
	int idx = a->m->ninsns;
	int64_t r1 = 0, r2 = 0, r3 = 0, v = 0;
	switch (op) {
	case MLB_NOP:
	case MLB_HALT:
	case MLB_TILE:
	case MLB_SYNC:
		break;
	case MLB_LI:
		if (get_reg(a, &r1) < 0 || punct(a, ',') < 0 ||
		    get_int(a, INT64_MIN, INT64_MAX, &v, "an immediate") < 0)
			return;
		in->a = (uint8_t)r1;
		in->imm = v;
		break;
	case MLB_ADDI:
	case MLB_MULI:
		if (get_reg(a, &r1) < 0 || punct(a, ',') < 0 || get_reg(a, &r2) < 0 ||
		    punct(a, ',') < 0 || get_int(a, INT64_MIN, INT64_MAX, &v, "an immediate") < 0)
			return;
		in->a = (uint8_t)r1;
		in->b = (uint8_t)r2;
		in->imm = v;
		break;
	case MLB_SEL:
		if (get_reg(a, &r1) < 0 || punct(a, ',') < 0 || get_reg(a, &r2) < 0 ||
		    punct(a, ',') < 0 || get_reg(a, &r3) < 0 || punct(a, ',') < 0 ||
		    get_reg(a, &v) < 0)
			return;
		in->a = (uint8_t)r1;
		in->b = (uint8_t)r2;
		in->c = (uint8_t)r3;
		in->imm = v;
		break;
	case MLB_LOOP:
		if (get_reg(a, &r1) < 0 || punct(a, ',') < 0 || get_reg(a, &r2) < 0 ||
		    punct(a, ',') < 0 || get_int(a, 1, (int64_t)1 << 40, &v, "a step") < 0)
			return;
		in->a = (uint8_t)r1;
		in->b = (uint8_t)r2;
		in->imm = v;
		if (a->nloops == 256) {
			err_at(a, mn, "loops nested more than 256 deep");
			return;
		}
		a->loops[a->nloops++] = idx;
		break;
	case MLB_ENDLOOP: {
		if (!a->nloops) {
			err_at(a, mn, "endloop without a loop");
			return;
		}
		int lp = a->loops[--a->nloops];
		mlb_insn *l = &a->m->insns[lp];
		in->a = l->a;
		in->b = l->b;
		in->imm = l->imm;
		in->x = (uint32_t)lp;
		l->x = (uint32_t)idx;
		break;
	}
	case MLB_BZ:
		if (get_reg(a, &r1) < 0 || punct(a, ',') < 0 || label_ref(a, idx) < 0)
			return;
		in->a = (uint8_t)r1;
		break;
	case MLB_JMP:
		if (label_ref(a, idx) < 0)
			return;
		break;
	case MLB_MODE: {
		tok t;
		next(a, &t);
		if (word_is(&t, "2d"))
			in->a = 1;
		else if (!word_is(&t, "1d")) {
			expected(a, &t, "a mode, 1d or 2d");
			return;
		}
		break;
	}
	case MLB_GROUP:
		if (get_int(a, 0, UINT32_MAX, &v, "a group index") < 0)
			return;
		in->x = (uint32_t)v;
		if (punct(a, ',') < 0 || get_int(a, INT64_MIN, INT64_MAX, &v, "an allocation") < 0)
			return;
		in->imm = v;
		break;
	case MLB_LOAD:
	case MLB_STORE:
	case MLB_MOVE:
	case MLB_VEXPR:
	case MLB_MMA:
	case MLB_FILL:
		if (get_pref(a, 'd', UINT32_MAX, &v, "a descriptor dN") < 0 || punct(a, ',') < 0 ||
		    get_reg(a, &r1) < 0 || punct(a, ',') < 0 || get_reg(a, &r2) < 0)
			return;
		in->x = (uint32_t)v;
		in->a = (uint8_t)r1;
		in->b = (uint8_t)r2;
		break;
	default:
		if (get_reg(a, &r1) < 0 || punct(a, ',') < 0 || get_reg(a, &r2) < 0 ||
		    punct(a, ',') < 0 || get_reg(a, &r3) < 0)
			return;
		in->a = (uint8_t)r1;
		in->b = (uint8_t)r2;
		in->c = (uint8_t)r3;
	}
	if (end_of_line(a) < 0)
		return;
	note_line(a, &a->line_i, &a->cap_li, idx);
	a->m->ninsns++;
}

static void directive(as *a, const tok *d)
{
	mlb_module *m = a->m;
	if (a->in_code) {
		err_at(a, d, "directive '%.*s' after .code (tables come first)", d->len, d->s);
		return;
	}
	if (word_is(d, ".version")) {
		tok v;
		next(a, &v);
		int maj = 0, min = 0;
		char buf[32];
		int n = v.len < 31 ? v.len : 31;
		memcpy(buf, v.s ? v.s : "", (size_t)n);
		buf[n] = '\0';
		char tail;
		if (v.kind != T_WORD || sscanf(buf, "%d.%d%c", &maj, &min, &tail) != 2 ||
		    maj != MLB_VERSION_MAJOR || min < 0 || min > 0xffff) {
			err_at(a, &v, "expected version %d.N", MLB_VERSION_MAJOR);
			return;
		}
		m->version_minor = min;
		a->have_version = 1;
		end_of_line(a);
	} else if (word_is(d, ".module")) {
		a->line_module = a->lineno;
		if (get_str(a, m->name, sizeof(m->name), "the module's name in quotes") < 0 ||
		    get_str(a, m->source, sizeof(m->source), "the source file in quotes") < 0)
			return;
		a->have_module = 1;
		end_of_line(a);
	} else if (word_is(d, ".target")) {
		a->line_target = a->lineno;
		dir_target(a);
	} else if (word_is(d, ".level")) {
		dir_level(a);
	} else if (word_is(d, ".cycles")) {
		dir_cycles(a);
	} else if (word_is(d, ".dram")) {
		a->line_dram = a->lineno;
		if (get_int(a, 0, MLB_MAX_ELEMS, &m->dram_values, "a DRAM size in values") < 0)
			return;
		a->have_dram = 1;
		end_of_line(a);
	} else if (word_is(d, ".tensor")) {
		dir_tensor(a);
	} else if (word_is(d, ".group")) {
		if (get_index(a, m->ngroups, "group") < 0)
			return;
		char buf[MLB_MAX_NAME + 1];
		if (get_str(a, buf, sizeof(buf), "the group's name in quotes") < 0 || end_of_line(a) < 0)
			return;
		if (grow(a, (void **)&m->groups, &a->cap_g, m->ngroups, sizeof(char *)) < 0)
			return;
		m->groups[m->ngroups] = strdup(buf);
		note_line(a, &a->line_g, &a->cap_lg, m->ngroups);
		if (m->groups[m->ngroups])
			m->ngroups++;
	} else if (word_is(d, ".desc")) {
		dir_desc(a);
	} else if (word_is(d, ".uop")) {
		dir_uop(a);
	} else if (word_is(d, ".code")) {
		a->line_code = a->lineno;
		a->in_code = 1;
		end_of_line(a);
	} else {
		err_at(a, d, "unknown directive '%.*s'", d->len, d->s);
	}
}

static void one_line(as *a)
{
	tok t;
	next(a, &t);
	if (t.kind == T_END)
		return;
	if (t.kind == T_WORD && t.s[0] == '.') {
		directive(a, &t);
		return;
	}
	if (!a->in_code) {
		err_at(a, &t, "instruction before .code");
		return;
	}
	int save = a->pos;
	tok c;
	next(a, &c);
	if (t.kind == T_WORD && c.kind == T_PUNCT && c.s[0] == ':') {
		for (int i = 0; i < a->nlabels; i++)
			if (strlen(a->labels[i].name) == (size_t)t.len &&
			    strncmp(a->labels[i].name, t.s, (size_t)t.len) == 0) {
				err_at(a, &t, "label '%.*s' defined twice", t.len, t.s);
				return;
			}
		if (grow(a, (void **)&a->labels, &a->cap_labels, a->nlabels, sizeof(label)) < 0)
			return;
		label *l = &a->labels[a->nlabels];
		l->name = strndup(t.s, (size_t)t.len);
		l->at = a->m->ninsns;
		l->loc = tok_loc(a, &t);
		if (l->name)
			a->nlabels++;
		next(a, &t);
		if (t.kind == T_END)
			return;
	} else {
		a->pos = save;
	}
	if (t.kind != T_WORD) {
		expected(a, &t, "an instruction");
		return;
	}
	instruction(a, &t);
}

/* The line of the entry a validator message names, or 0. */
static int message_line(const as *a, const char *msg)
{
	unsigned k;
	if (sscanf(msg, "instruction %u", &k) == 1 && k < (unsigned)a->m->ninsns)
		return a->line_i[k];
	if (sscanf(msg, "descriptor %u", &k) == 1 && k < (unsigned)a->m->ndescs)
		return a->line_d[k];
	if (sscanf(msg, "micro-op %u", &k) == 1 && k < (unsigned)a->m->nuops)
		return a->line_u[k];
	if (sscanf(msg, "tensor %u", &k) == 1 && k < (unsigned)a->m->ntensors)
		return a->line_t[k];
	char name[MLB_MAX_NAME + 1];
	if (sscanf(msg, "tensor '%255[^']'", name) == 1)
		for (int i = 0; i < a->m->ntensors; i++)
			if (strcmp(a->m->tensors[i].name, name) == 0)
				return a->line_t[i];
	if (sscanf(msg, "group %u", &k) == 1 && k < (unsigned)a->m->ngroups)
		return a->line_g[k];
	if (strncmp(msg, "target", 6) == 0 && a->line_target)
		return a->line_target;
	if (strncmp(msg, "module", 6) == 0 && a->line_module)
		return a->line_module;
	if (strncmp(msg, "DRAM", 4) == 0 && a->line_dram)
		return a->line_dram;
	if (strncmp(msg, "the code", 8) == 0 && a->m->ninsns)
		return a->line_i[a->m->ninsns - 1];
	return a->line_code ? a->line_code : a->lineno; /* the code, or the end */
}

int asm_assemble(const char *file, const char *src, size_t len, mlb_module **out)
{
	*out = NULL;
	as a;
	memset(&a, 0, sizeof(a));
	a.dg = diag_new(file, src, len);
	a.m = mlb_new();
	if (!a.dg || !a.m) {
		diag_internal("out of memory");
		diag_free(a.dg);
		mlb_free(a.m);
		return -1;
	}
	size_t at = 0;
	while (at < len && a.errors < 20) {
		size_t e = at;
		while (e < len && src[e] != '\n')
			e++;
		a.lineno++;
		a.line = src + at;
		a.len = (int)(e - at);
		a.pos = 0;
		a.line_err = 0;
		if (memchr(a.line, '\0', (size_t)a.len)) {
			tok z = {T_END, NULL, 1, 1};
			err_at(&a, &z, "a NUL byte in the line");
		} else {
			one_line(&a);
		}
		at = e + 1;
	}
	tok eof = {T_END, NULL, 1, 1};
	a.lineno = a.lineno ? a.lineno : 1;
	a.line_err = 0;
	if (!a.errors) {
		if (!a.have_module || !a.have_target || !a.have_cycles || !a.have_dram)
			err_at(&a, &eof, "the file lacks %s", !a.have_module ? ".module"
								: !a.have_target ? ".target"
								: !a.have_cycles ? ".cycles"
										 : ".dram");
		else if (a.nloops)
			err_at(&a, &eof, "a loop (instruction %d) has no endloop", a.loops[a.nloops - 1]);
	}
	for (int i = 0; i < a.nfixups && !a.errors; i++) {
		fixup *f = &a.fixups[i];
		int found = -1;
		for (int k = 0; k < a.nlabels; k++)
			if (strcmp(a.labels[k].name, f->name) == 0)
				found = a.labels[k].at;
		if (found < 0) {
			/* (several may be undefined: each is reported) */
			diag_error(a.dg, f->loc, "undefined label '%s'", f->name);
			a.errors++;
		} else {
			a.m->insns[f->insn].x = (uint32_t)found;
		}
	}
	if (!a.errors) {
		char msg[512];
		if (mlb_validate(a.m, msg, sizeof(msg)) < 0) {
			int ln = message_line(&a, msg);
			ein_loc loc = {ln, 1, ln, 1};
			diag_error(a.dg, loc, "%s", msg);
			a.errors++;
		}
	}
	diag_flush(a.dg, stderr);
	diag_free(a.dg);
	for (int i = 0; i < a.nlabels; i++)
		free(a.labels[i].name);
	for (int i = 0; i < a.nfixups; i++)
		free(a.fixups[i].name);
	free(a.labels);
	free(a.fixups);
	free(a.line_d);
	free(a.line_u);
	free(a.line_i);
	free(a.line_t);
	free(a.line_g);
	if (a.errors) {
		mlb_free(a.m);
		return -1;
	}
	*out = a.m;
	return 0;
}
