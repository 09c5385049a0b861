/* mlb.c - the stream's tables of names, the CRC, modules, and the helpers
 * that the reader, the writer and the validator share (see mlb.h and
 * mlb_impl.h). */
#include "mlb_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char mlb_magic[4] = {'M', 'L', 'B', 0x1a};
const char *const mlb_section_tags[MLB_NSECTIONS] = {"META", "TRGT", "TENS", "GRPS",
						     "DESC", "UOPS", "CODE"};

static const char *const opcode_names[MLB_NOPCODES] = {
	"nop", "halt", "li", "add", "sub", "mul", "addi", "muli", "divf", "modf",
	"min", "max", "slt", "sle", "seq", "and", "or", "sel", "loop", "endloop",
	"bz", "jmp", "group", "tile", "sync", "load", "store", "move", "vexpr",
	"mma", "fill", "mode"};

static const char *const fn_names[MLB_NFN] = {
	"exp", "log", "sqrt", "rsqrt", "sigmoid", "silu", "softplus", "tanh",
	"relu", "abs", "neg", "recip", "square"};

static const char *const binop_names[MLB_NBINOP] = {"add", "sub", "mul", "div", "max", "min"};

const char *mlb_opcode_name(int op)
{
	return op >= 0 && op < MLB_NOPCODES ? opcode_names[op] : NULL;
}

const char *mlb_fn_name(int fn)
{
	return fn >= 0 && fn < MLB_NFN ? fn_names[fn] : NULL;
}

const char *mlb_binop_name(int op)
{
	return op >= 0 && op < MLB_NBINOP ? binop_names[op] : NULL;
}

const char *mlb_cost_name(int cls)
{
	if (cls >= 0 && cls < MLB_NFN)
		return fn_names[cls];
	if (cls >= MLB_COST_BINOP0 && cls < MLB_COST_BINOP0 + MLB_NBINOP)
		return binop_names[cls - MLB_COST_BINOP0];
	switch (cls) {
	case MLB_COST_MAC:
		return "mac";
	case MLB_COST_COPY:
		return "copy";
	case MLB_COST_READ:
		return "read";
	}
	return NULL;
}

const char *mlb_role_name(int role)
{
	static const char *const n[] = {"input", "weight", "output", "temp"};
	return role >= 0 && role < 4 ? n[role] : NULL;
}

const char *mlb_desc_kind_name(int k)
{
	static const char *const n[] = {NULL, "dma", "move", "vexpr", "mma", "fill"};
	return k >= 1 && k <= 5 ? n[k] : NULL;
}

const char *mlb_uop_name(int op)
{
	static const char *const n[] = {NULL, "ld", "cst", "var", "un", "bin", "st", "acc"};
	return op >= 1 && op <= 7 ? n[op] : NULL;
}


uint32_t mlb_crc32(const uint8_t *p, size_t n)
{
	/* Bitwise, reflected polynomial 0xEDB88320; a table is not worth it for
	 * files of a few hundred kilobytes. */
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}


mlb_module *mlb_new(void)
{
	mlb_module *m = calloc(1, sizeof(mlb_module));
	if (m)
		m->version_minor = MLB_VERSION_MINOR;
	return m;
}

void mlb_free(mlb_module *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->ngroups; i++)
		free(m->groups[i]);
	free(m->groups);
	free(m->tensors);
	free(m->descs);
	free(m->uops);
	free(m->insns);
	free(m);
}

void mlb_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Names are printable ASCII without quotes or backslashes, so that the
 * assembler's quoted strings need no escapes. */
int mlb_text_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\')
			return 0;
	}
	return 1;
}

int mlb_is_ident(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

double mlb_pe_tile_reads(double rows, double cols, double per_pe, double mm, double nn,
			 double kk, double *blocks)
{
	double ma = ceil(mm / rows), nb = ceil(nn / cols), best = -1, bb = 1;
	for (double a = 1; a <= ma && a <= per_pe && a <= 4096; a++) {
		double b = floor(per_pe / a);
		if (b > nb)
			b = nb;
		double na = ceil(mm / (rows * a)), nbk = ceil(nn / (cols * b));
		double rd = kk * (mm * nbk + nn * na);
		if (best < 0 || rd < best) {
			best = rd;
			bb = na * nbk;
		}
	}
	*blocks = bb;
	return best;
}
