/* mlb.c - reading, validating and writing .mlb files (see mlb.h and
 * docs/isa.md, which gives the layout byte by byte). */
#include "mlb.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_BYTES 16
#define NSECTIONS 7
#define DESC_BYTES 288
#define UOP_BYTES 16
#define INSN_BYTES 16
#define MAX_FILE_BYTES ((size_t)1 << 30)

static const char magic[4] = {'M', 'L', 'B', 0x1a};
static const char *const section_tags[NSECTIONS] = {"META", "TRGT", "TENS", "GRPS",
						     "DESC", "UOPS", "CODE"};

/* ------------------------------------------------------------- names */

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

/* --------------------------------------------------------------- CRC */

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

/* ----------------------------------------------------------- modules */

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

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
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
static int text_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\')
			return 0;
	}
	return 1;
}

static int is_ident(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* ---------------------------------------------------------- validate */

/* Unused float fields must be +0.0 bit for bit (-0.0 compares equal to 0,
 * but would not survive a round trip through the assembler). */
static int nonzero_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	return u != 0;
}

/* The fields of one micro-op, on its own (check_uops checks its place in
 * a kernel). */
static int check_uop(const mlb_uop *u, int ui, char *err, size_t errlen)
{
	int ok = u->cost <= MLB_NOPS;
	switch (u->op) {
	case MLB_U_LD:
		ok = ok && !u->fn && !u->b && !nonzero_bits(u->value) && u->a >= 1 &&
		     u->a < MLB_MAX_STREAMS;
		break;
	case MLB_U_CST:
		ok = ok && !u->fn && !u->a && !u->b && isfinite(u->value);
		break;
	case MLB_U_VAR:
		ok = ok && !u->fn && !nonzero_bits(u->value) && (u->a < MLB_MAX_DIMS || u->a == 255) &&
		     u->b < 64;
		break;
	case MLB_U_UN:
		ok = ok && u->fn < MLB_NFN && !u->b && !nonzero_bits(u->value);
		break;
	case MLB_U_BIN:
		ok = ok && u->fn < MLB_NBINOP && !nonzero_bits(u->value);
		break;
	case MLB_U_ST:
		ok = ok && !u->fn && !u->b && !nonzero_bits(u->value);
		break;
	case MLB_U_ACC:
		ok = ok && (u->fn == MLB_OP_ADD || u->fn == MLB_OP_MAX || u->fn == MLB_OP_MIN) &&
		     !u->b && !nonzero_bits(u->value);
		break;
	default:
		ok = 0;
	}
	if (!ok) {
		seterr(err, errlen, "micro-op %d: unknown operation, function or cost, an operand out "
				    "of range, or a nonzero unused field", ui);
		return -1;
	}
	return 0;
}

/* Registers of a VEXPR's address window: the streams, then one per
 * variable origin used by its kernel. */
static int vexpr_vars(const mlb_module *m, const mlb_desc *d)
{
	int nv = 0;
	for (uint32_t i = 0; i < d->nuops; i++) {
		const mlb_uop *u = &m->uops[d->uop + i];
		if (u->op == MLB_U_VAR && u->b + 1 > nv)
			nv = u->b + 1;
	}
	return nv;
}

int mlb_addr_regs(const mlb_module *m, const mlb_insn *in)
{
	if (in->op < MLB_LOAD || in->op > MLB_FILL || in->x >= (uint32_t)m->ndescs)
		return 0;
	const mlb_desc *d = &m->descs[in->x];
	if (in->op == MLB_LOAD || in->op == MLB_STORE)
		return 1 + d->ndim;
	if (in->op == MLB_VEXPR)
		return d->nstreams + vexpr_vars(m, d);
	return d->nstreams;
}

static int check_target(const mlb_target *t, char *err, size_t errlen)
{
	if (!text_ok(t->name, strlen(t->name))) {
		seterr(err, errlen, "target name: not printable ASCII without quotes");
		return -1;
	}
	const struct {
		const char *name;
		int64_t v, hi;
	} ints[] = {
		{"rows", t->rows, 1 << 20},
		{"cols", t->cols, 1 << 20},
		{"cores", t->cores, 1 << 20},
		{"drain_cycles", t->drain_cycles, 1 << 30},
		{"lanes", t->lanes, (int64_t)1 << 30},
		{"buffer_bytes", t->buffer_bytes, (int64_t)1 << 40},
	};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (ints[i].v < (i == 3 ? 0 : 1) || ints[i].v > ints[i].hi) {
			seterr(err, errlen, "target %s: %lld is outside [%d, %lld]", ints[i].name,
			       (long long)ints[i].v, i == 3 ? 0 : 1, (long long)ints[i].hi);
			return -1;
		}
	if (t->concurrent < 0 || t->concurrent > 1 || t->double_buffer < 0 ||
	    t->double_buffer > 1) {
		seterr(err, errlen, "target concurrent/double_buffer: not 0 or 1");
		return -1;
	}
	if (t->bytes_per_value < 1 || t->bytes_per_value > 8) {
		seterr(err, errlen, "target bytes_per_value: %d is outside [1, 8]", t->bytes_per_value);
		return -1;
	}
	if (!(t->switch_cycles >= 0 && t->switch_cycles < 1e12) ||
	    !(t->dram_gb_per_s > 0 && t->dram_gb_per_s < 1e9) ||
	    !(t->clock_ghz > 0 && t->clock_ghz < 1e6)) {
		seterr(err, errlen, "target switch_cycles, dram_gb_per_s or clock_ghz: "
				    "not a positive finite number in range");
		return -1;
	}
	for (int k = 0; k < MLB_NOPS; k++)
		if (!(t->op_cycles[k] >= 0 && t->op_cycles[k] < 1e9)) {
			seterr(err, errlen, "target op_cycles.%s: not a finite number >= 0",
			       mlb_cost_name(k));
			return -1;
		}
	return 0;
}

static int check_tensors(const mlb_module *m, char *err, size_t errlen)
{
	if (m->dram_values < 0 || m->dram_values > MLB_MAX_ELEMS) {
		seterr(err, errlen, "DRAM size %lld values is outside [0, 2^40]",
		       (long long)m->dram_values);
		return -1;
	}
	for (int i = 0; i < m->ntensors; i++) {
		const mlb_tensor *t = &m->tensors[i];
		size_t n = strlen(t->name);
		if (!n || !text_ok(t->name, n)) {
			seterr(err, errlen, "tensor %d: empty or non-printable name", i);
			return -1;
		}
		if (!is_ident(t->name)) {
			/* The assembly names tensors by words, and the compiler
			 * by the language's identifiers: anything else (';' starts
			 * a comment) would disassemble to a file asm rejects. */
			seterr(err, errlen,
			       "tensor %d: name '%s' is not an identifier (a letter or '_', then "
			       "letters, digits or '_')", i, t->name);
			return -1;
		}
		for (int j = 0; j < i; j++)
			if (strcmp(m->tensors[j].name, t->name) == 0) {
				seterr(err, errlen, "tensor %d: name '%s' used twice", i, t->name);
				return -1;
			}
		if (t->role < 0 || t->role > MLB_ROLE_TEMP) {
			seterr(err, errlen, "tensor '%s': unknown role %d", t->name, t->role);
			return -1;
		}
		if (t->ndims < 0 || t->ndims > MLB_MAX_DIMS) {
			seterr(err, errlen, "tensor '%s': %d dimensions (at most %d)", t->name,
			       t->ndims, MLB_MAX_DIMS);
			return -1;
		}
		int64_t n_el = 1;
		for (int d = 0; d < t->ndims; d++) {
			if (t->shape[d] < 1 || t->shape[d] > MLB_MAX_ELEMS ||
			    n_el > MLB_MAX_ELEMS / t->shape[d]) {
				seterr(err, errlen, "tensor '%s': dimension %d of size %lld is out of range",
				       t->name, d, (long long)t->shape[d]);
				return -1;
			}
			n_el *= t->shape[d];
		}
		if (t->dram < -1 || (t->dram >= 0 && (t->dram > m->dram_values ||
						       n_el > m->dram_values - t->dram))) {
			seterr(err, errlen, "tensor '%s': DRAM offset %lld with %lld values does not "
					    "fit the DRAM of %lld values",
			       t->name, (long long)t->dram, (long long)n_el, (long long)m->dram_values);
			return -1;
		}
		if (t->dram < 0 && t->role != MLB_ROLE_TEMP) {
			seterr(err, errlen, "tensor '%s': an %s must have DRAM storage", t->name,
			       mlb_role_name(t->role));
			return -1;
		}
	}
	return 0;
}

static int check_uops(const mlb_module *m, const mlb_desc *d, int di, char *err, size_t errlen)
{
	if (d->nuops == 0 || d->uop > (uint32_t)m->nuops || d->nuops > (uint32_t)m->nuops - d->uop) {
		seterr(err, errlen, "descriptor %d: micro-ops %u+%u outside the table of %d", di,
		       d->uop, d->nuops, m->nuops);
		return -1;
	}
	unsigned dimmask = (1u << d->ndim) - 1;
	for (uint32_t i = 0; i < d->nuops; i++) {
		const mlb_uop *u = &m->uops[d->uop + i];
		unsigned ui = d->uop + i;
		int last = i + 1 == d->nuops;
		if ((u->mask & ~dimmask) != 0) {
			seterr(err, errlen, "micro-op %u (descriptor %d): mask 0x%x names a dimension "
					    "beyond the box's %d", ui, di, u->mask, d->ndim);
			return -1;
		}
		if (u->cost > MLB_NOPS) {
			seterr(err, errlen, "micro-op %u: cost class %d unknown", ui, u->cost);
			return -1;
		}
		int need_a = 0, need_b = 0;
		switch (u->op) {
		case MLB_U_LD:
			if (u->a < 1 || u->a >= d->nstreams || u->fn || u->b || u->value != 0) {
				seterr(err, errlen, "micro-op %u (descriptor %d): ld of stream %u "
						    "(streams 1..%d) or a nonzero unused field",
				       ui, di, u->a, d->nstreams - 1);
				return -1;
			}
			break;
		case MLB_U_CST:
			if (u->fn || u->a || u->b || !isfinite(u->value)) {
				seterr(err, errlen, "micro-op %u: cst with a nonzero unused field or a "
						    "non-finite value", ui);
				return -1;
			}
			break;
		case MLB_U_VAR:
			if ((u->a != 255 && u->a >= d->ndim) || u->b > 64 || u->fn || u->value != 0) {
				seterr(err, errlen, "micro-op %u: var of dimension %u or slot %u out of range",
				       ui, u->a, u->b);
				return -1;
			}
			break;
		case MLB_U_UN:
			if (u->fn >= MLB_NFN || u->b || u->value != 0) {
				seterr(err, errlen, "micro-op %u: unknown function %u or nonzero unused field",
				       ui, u->fn);
				return -1;
			}
			need_a = 1;
			break;
		case MLB_U_BIN:
			if (u->fn >= MLB_NBINOP || u->value != 0) {
				seterr(err, errlen, "micro-op %u: unknown operator %u", ui, u->fn);
				return -1;
			}
			need_a = need_b = 1;
			break;
		case MLB_U_ST:
		case MLB_U_ACC:
			if (!last || u->b || u->value != 0 ||
			    (u->op == MLB_U_ST ? u->fn != 0
					       : (u->fn != MLB_OP_ADD && u->fn != MLB_OP_MAX &&
						  u->fn != MLB_OP_MIN))) {
				seterr(err, errlen, "micro-op %u (descriptor %d): %s must be the kernel's "
						    "last micro-op, with add/max/min for acc",
				       ui, di, mlb_uop_name(u->op));
				return -1;
			}
			need_a = 1;
			break;
		default:
			seterr(err, errlen, "micro-op %u: unknown operation %u", ui, u->op);
			return -1;
		}
		if ((need_a && u->a >= i) || (need_b && u->b >= i) || (!need_b && u->op != MLB_U_VAR && u->op != MLB_U_LD && u->b)) {
			seterr(err, errlen, "micro-op %u (descriptor %d): operand refers to micro-op "
					    "%u/%u, not an earlier one of the kernel",
			       ui, di, u->a, u->b);
			return -1;
		}
		if (last && u->op != MLB_U_ST && u->op != MLB_U_ACC) {
			seterr(err, errlen, "descriptor %d: kernel does not end with st or acc", di);
			return -1;
		}
	}
	return 0;
}

static int check_desc(const mlb_module *m, int di, char *err, size_t errlen)
{
	const mlb_desc *d = &m->descs[di];
	if (d->ndim < 0 || d->ndim > MLB_MAX_DIMS || d->nstreams < 1 ||
	    d->nstreams > MLB_MAX_STREAMS) {
		seterr(err, errlen, "descriptor %d: %d dimensions, %d streams (at most %d and %d)",
		       di, d->ndim, d->nstreams, MLB_MAX_DIMS, MLB_MAX_STREAMS);
		return -1;
	}
	for (int s = 0; s < MLB_MAX_STREAMS; s++)
		for (int k = 0; k < MLB_MAX_DIMS; k++) {
			if (d->stride[s][k] == INT32_MIN) {
				seterr(err, errlen, "descriptor %d: stride of stream %d, dimension %d is "
						    "-2^31; strides lie in (-2^31, 2^31)", di, s, k);
				return -1;
			}
			if ((s >= d->nstreams || k >= d->ndim) && d->stride[s][k]) {
				seterr(err, errlen, "descriptor %d: stride of stream %d, dimension %d is "
						    "beyond its %d streams and %d dimensions",
				       di, s, k, d->nstreams, d->ndim);
				return -1;
			}
		}
	int allowed_flags = 0, want_streams = -1;
	int uses_tensor = 0, uses_uops = 0, uses_cls = 0, uses_value = 0;
	switch (d->kind) {
	case MLB_D_DMA:
		want_streams = 1;
		uses_tensor = 1;
		break;
	case MLB_D_MOVE:
		want_streams = 2;
		break;
	case MLB_D_VEXPR:
		allowed_flags = MLB_F_SEQ | MLB_F_OVERWRITE;
		uses_uops = 1;
		break;
	case MLB_D_MMA:
		want_streams = 3;
		allowed_flags = MLB_F_OVERWRITE;
		uses_cls = uses_value = 1;
		break;
	case MLB_D_FILL:
		want_streams = 1;
		allowed_flags = MLB_F_UNIT2D;
		uses_value = 1;
		break;
	default:
		seterr(err, errlen, "descriptor %d: unknown kind %d", di, d->kind);
		return -1;
	}
	if (want_streams >= 0 && d->nstreams != want_streams) {
		seterr(err, errlen, "descriptor %d (%s): %d streams, expected %d", di,
		       mlb_desc_kind_name(d->kind), d->nstreams, want_streams);
		return -1;
	}
	if (d->flags & ~allowed_flags) {
		seterr(err, errlen, "descriptor %d (%s): flags 0x%x not allowed", di,
		       mlb_desc_kind_name(d->kind), d->flags);
		return -1;
	}
	if ((d->flags & MLB_F_SEQ) && d->ndim < 1) {
		seterr(err, errlen, "descriptor %d: sequential with no dimension", di);
		return -1;
	}
	if (uses_tensor) {
		if (d->tensor < 0 || d->tensor >= m->ntensors) {
			seterr(err, errlen, "descriptor %d: tensor %d (the table has %d)", di,
			       d->tensor, m->ntensors);
			return -1;
		}
		const mlb_tensor *t = &m->tensors[d->tensor];
		if (t->dram < 0 || t->ndims != d->ndim) {
			seterr(err, errlen, "descriptor %d: DMA of tensor '%s' (%d dimensions, %s) "
					    "with %d dimensions",
			       di, t->name, t->ndims, t->dram < 0 ? "no DRAM storage" : "in DRAM",
			       d->ndim);
			return -1;
		}
	} else if (d->tensor) {
		seterr(err, errlen, "descriptor %d: tensor field set on a %s", di,
		       mlb_desc_kind_name(d->kind));
		return -1;
	}
	if (uses_uops) {
		if (check_uops(m, d, di, err, errlen) < 0)
			return -1;
	} else if (d->uop || d->nuops) {
		seterr(err, errlen, "descriptor %d: micro-ops on a %s", di, mlb_desc_kind_name(d->kind));
		return -1;
	}
	for (int k = 0; k < MLB_MAX_DIMS; k++)
		if ((!uses_cls || k >= d->ndim) ? d->cls[k] != 0 : d->cls[k] > MLB_C_K) {
			seterr(err, errlen, "descriptor %d: class of dimension %d invalid", di, k);
			return -1;
		}
	if (uses_value ? (d->kind == MLB_D_MMA && !isfinite(d->value)) || isnan(d->value)
		       : nonzero_bits(d->value)) {
		seterr(err, errlen, "descriptor %d: value invalid for a %s", di,
		       mlb_desc_kind_name(d->kind));
		return -1;
	}
	return 0;
}

static int desc_kind_for(int op)
{
	switch (op) {
	case MLB_LOAD:
	case MLB_STORE:
		return MLB_D_DMA;
	case MLB_MOVE:
		return MLB_D_MOVE;
	case MLB_VEXPR:
		return MLB_D_VEXPR;
	case MLB_MMA:
		return MLB_D_MMA;
	case MLB_FILL:
		return MLB_D_FILL;
	}
	return 0;
}

static int check_code(const mlb_module *m, char *err, size_t errlen)
{
	int rc = -1;
	int *stack = malloc((size_t)(m->ninsns ? m->ninsns : 1) * sizeof(int));
	int depth = 0, in_group = 0;
	if (!stack) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	if (m->ninsns == 0 || m->insns[m->ninsns - 1].op != MLB_HALT) {
		seterr(err, errlen, "the code does not end with halt");
		goto done;
	}
	for (int i = 0; i < m->ninsns; i++) {
		const mlb_insn *in = &m->insns[i];
		int a = 0, b = 0, c = 0, x = 0, imm = 0; /* fields the opcode uses */
		switch (in->op) {
		case MLB_NOP:
		case MLB_HALT:
		case MLB_TILE:
		case MLB_SYNC:
			break;
		case MLB_LI:
			a = imm = 1;
			break;
		case MLB_ADD: case MLB_SUB: case MLB_MUL: case MLB_DIVF: case MLB_MODF:
		case MLB_MIN: case MLB_MAX: case MLB_SLT: case MLB_SLE: case MLB_SEQ:
		case MLB_AND: case MLB_OR:
			a = b = c = 1;
			break;
		case MLB_SEL:
			a = b = c = imm = 1;
			if (in->imm < 0 || in->imm >= MLB_NREGS) {
				seterr(err, errlen, "instruction %d: sel's else register %lld is not r0..r255",
				       i, (long long)in->imm);
				goto done;
			}
			break;
		case MLB_ADDI:
		case MLB_MULI:
			a = b = imm = 1;
			break;
		case MLB_LOOP:
		case MLB_ENDLOOP:
			a = b = x = imm = 1;
			if (in->imm < 1 || in->imm > ((int64_t)1 << 40)) {
				seterr(err, errlen, "instruction %d: %s step %lld is not in [1, 2^40]", i,
				       mlb_opcode_name(in->op), (long long)in->imm);
				goto done;
			}
			if (in->op == MLB_LOOP) {
				stack[depth++] = i;
				if (in->x <= (uint32_t)i || in->x >= (uint32_t)m->ninsns) {
					seterr(err, errlen, "instruction %d: loop's end %u is not a later "
							    "instruction", i, in->x);
					goto done;
				}
			} else {
				if (depth == 0 || in->x != (uint32_t)stack[depth - 1]) {
					seterr(err, errlen, "instruction %d: endloop does not close the "
							    "innermost open loop", i);
					goto done;
				}
				const mlb_insn *lp = &m->insns[stack[--depth]];
				if (lp->x != (uint32_t)i || lp->a != in->a || lp->b != in->b ||
				    lp->imm != in->imm) {
					seterr(err, errlen, "instruction %d: endloop's registers, step or "
							    "target differ from its loop's (instruction %u)",
					       i, in->x);
					goto done;
				}
			}
			break;
		case MLB_BZ:
		case MLB_JMP:
			a = in->op == MLB_BZ;
			x = 1;
			if (in->x <= (uint32_t)i || in->x >= (uint32_t)m->ninsns) {
				seterr(err, errlen, "instruction %d: branch target %u is not a later "
						    "instruction (branches go forward; loops go back)",
				       i, in->x);
				goto done;
			}
			break;
		case MLB_GROUP:
			x = imm = 1;
			if (in->x >= (uint32_t)m->ngroups) {
				seterr(err, errlen, "instruction %d: group %u (the table has %d)", i,
				       in->x, m->ngroups);
				goto done;
			}
			if (in->imm < 0 || in->imm > (int64_t)1 << 40) {
				seterr(err, errlen, "instruction %d: group allocates %lld values", i,
				       (long long)in->imm);
				goto done;
			}
			break;
		case MLB_MODE:
			a = 1;
			if (in->a > 1) {
				seterr(err, errlen, "instruction %d: mode %u is neither 0 (1D) nor 1 (2D)", i,
				       in->a);
				goto done;
			}
			break;
		case MLB_LOAD: case MLB_STORE: case MLB_MOVE: case MLB_VEXPR: case MLB_MMA:
		case MLB_FILL: {
			a = b = x = 1;
			if (in->x >= (uint32_t)m->ndescs ||
			    m->descs[in->x].kind != desc_kind_for(in->op)) {
				seterr(err, errlen, "instruction %d: %s needs a %s descriptor; %u is %s", i,
				       mlb_opcode_name(in->op), mlb_desc_kind_name(desc_kind_for(in->op)),
				       in->x,
				       in->x < (uint32_t)m->ndescs
					       ? mlb_desc_kind_name(m->descs[in->x].kind)
					       : "out of range");
				goto done;
			}
			const mlb_desc *d = &m->descs[in->x];
			int na = mlb_addr_regs(m, in);
			if (in->a + d->ndim > MLB_NREGS || in->b + na > MLB_NREGS) {
				seterr(err, errlen, "instruction %d: register window r%u+%d or r%u+%d "
						    "runs past r255", i, in->a, d->ndim, in->b, na);
				goto done;
			}
			break;
		}
		default:
			seterr(err, errlen, "instruction %d: unknown opcode %u", i, in->op);
			goto done;
		}
		if ((!a && in->a) || (!b && in->b) || (!c && in->c) || (!x && in->x) ||
		    (!imm && in->imm)) {
			seterr(err, errlen, "instruction %d (%s): a field it does not use is nonzero", i,
			       mlb_opcode_name(in->op));
			goto done;
		}
		if (in->op == MLB_GROUP) {
			if (in_group) {
				seterr(err, errlen, "instruction %d: group begins before the previous "
						    "one's sync", i);
				goto done;
			}
			in_group = 1;
		} else if (in->op == MLB_SYNC) {
			if (!in_group) {
				seterr(err, errlen, "instruction %d: sync outside a group", i);
				goto done;
			}
			in_group = 0;
		} else if (!in_group &&
			   (in->op == MLB_TILE || in->op == MLB_MODE || desc_kind_for(in->op))) {
			seterr(err, errlen, "instruction %d: %s outside a group", i,
			       mlb_opcode_name(in->op));
			goto done;
		}
	}
	if (depth) {
		seterr(err, errlen, "instruction %d: loop never closed", stack[depth - 1]);
		goto done;
	}
	if (in_group) {
		seterr(err, errlen, "the last group has no sync");
		goto done;
	}
	rc = 0;
done:
	free(stack);
	return rc;
}

int mlb_validate(const mlb_module *m, char *err, size_t errlen)
{
	if (m->version_minor < 0 || m->version_minor > 0xffff) {
		seterr(err, errlen, "minor version %d is not a 16-bit number", m->version_minor);
		return -1;
	}
	if (!text_ok(m->name, strlen(m->name)) || !text_ok(m->source, strlen(m->source))) {
		seterr(err, errlen, "module name or source: not printable ASCII without quotes");
		return -1;
	}
	if (m->ntensors < 0 || m->ntensors > MLB_MAX_TENSORS || m->ngroups < 0 ||
	    m->ngroups > MLB_MAX_GROUPS || m->ndescs < 0 || m->ndescs > MLB_MAX_DESCS ||
	    m->nuops < 0 || m->nuops > MLB_MAX_UOPS || m->ninsns < 0 ||
	    m->ninsns > MLB_MAX_INSNS) {
		seterr(err, errlen, "a table exceeds its limit (tensors %d, groups %d, descriptors "
				    "%d, micro-ops %d, instructions %d)",
		       m->ntensors, m->ngroups, m->ndescs, m->nuops, m->ninsns);
		return -1;
	}
	if (check_target(&m->target, err, errlen) < 0 || check_tensors(m, err, errlen) < 0)
		return -1;
	for (int i = 0; i < m->ngroups; i++)
		if (!m->groups[i] || strlen(m->groups[i]) > MLB_MAX_NAME ||
		    !text_ok(m->groups[i], strlen(m->groups[i]))) {
			seterr(err, errlen, "group %d: name not printable ASCII", i);
			return -1;
		}
	for (int i = 0; i < m->nuops; i++)
		if (check_uop(&m->uops[i], i, err, errlen) < 0)
			return -1;
	for (int i = 0; i < m->ndescs; i++)
		if (check_desc(m, i, err, errlen) < 0)
			return -1;
	return check_code(m, err, errlen);
}

/* ------------------------------------------------------------ reader */

typedef struct rd {
	const uint8_t *p;
	size_t len, pos;
	size_t sec[NSECTIONS]; /* payload offsets, for semantic errors */
	size_t *tens;	       /* offset of each tensor record */
	char *err;
	size_t errlen;
	int failed;
} rd;

static void __attribute__((format(printf, 2, 3))) rd_fail(rd *r, const char *fmt, ...)
{
	if (r->failed)
		return;
	r->failed = 1;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	seterr(r->err, r->errlen, "offset %zu: %s", r->pos, msg);
}

static int rd_need(rd *r, size_t n, const char *what)
{
	if (r->failed)
		return -1;
	if (n > r->len - r->pos) {
		rd_fail(r, "truncated: %s needs %zu bytes, %zu left", what, n, r->len - r->pos);
		return -1;
	}
	return 0;
}

static uint64_t rd_uint(rd *r, int n, const char *what)
{
	if (rd_need(r, (size_t)n, what) < 0)
		return 0;
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | r->p[r->pos + (size_t)i];
	r->pos += (size_t)n;
	return v;
}

static double rd_f64(rd *r, const char *what)
{
	uint64_t u = rd_uint(r, 8, what);
	double d;
	memcpy(&d, &u, sizeof(d));
	return d;
}

static float rd_f32(rd *r, const char *what)
{
	uint32_t u = (uint32_t)rd_uint(r, 4, what);
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}

/* A u16 length and that many bytes into buf (room for max + 1). */
static void rd_str(rd *r, char *buf, size_t max, const char *what)
{
	size_t start = r->pos;
	size_t n = (size_t)rd_uint(r, 2, what);
	if (r->failed)
		return;
	if (n > max) {
		r->pos = start;
		rd_fail(r, "%s: length %zu exceeds %zu", what, n, max);
		return;
	}
	if (rd_need(r, n, what) < 0)
		return;
	if (!text_ok((const char *)r->p + r->pos, n)) {
		rd_fail(r, "%s: not printable ASCII without quotes or backslashes", what);
		return;
	}
	memcpy(buf, r->p + r->pos, n);
	buf[n] = '\0';
	r->pos += n;
}

static void rd_zero(rd *r, int n, const char *what)
{
	size_t at = r->pos;
	if (rd_uint(r, n, what) != 0 && !r->failed) {
		r->pos = at;
		rd_fail(r, "%s: reserved bytes are not zero", what);
	}
}

static int64_t rd_i64(rd *r, const char *what)
{
	return (int64_t)rd_uint(r, 8, what);
}

/* The count of a table whose records take at least min_bytes each. */
static int rd_count(rd *r, int max, size_t min_bytes, const char *what)
{
	size_t at = r->pos;
	uint32_t n = (uint32_t)rd_uint(r, 4, what);
	if (r->failed)
		return -1;
	if (n > (uint32_t)max) {
		r->pos = at;
		rd_fail(r, "%s: %u entries exceed the limit of %d", what, n, max);
		return -1;
	}
	if (min_bytes && (size_t)n > (r->len - r->pos) / min_bytes) {
		rd_fail(r, "truncated: %u %s need at least %zu bytes, %zu left", n, what,
			n * min_bytes, r->len - r->pos);
		return -1;
	}
	return (int)n;
}

static void *rd_calloc(rd *r, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		rd_fail(r, "out of memory");
	return p;
}

/* Reads section tag and length; returns the end offset of its payload. */
static size_t rd_section(rd *r, int k)
{
	if (rd_need(r, 8, "a section header") < 0)
		return 0;
	if (memcmp(r->p + r->pos, section_tags[k], 4) != 0) {
		char got[5];
		for (int i = 0; i < 4; i++) {
			unsigned char ch = r->p[r->pos + (size_t)i];
			got[i] = ch >= 0x20 && ch <= 0x7e ? (char)ch : '?';
		}
		got[4] = '\0';
		rd_fail(r, "expected section '%s', found '%s'", section_tags[k], got);
		return 0;
	}
	r->pos += 4;
	size_t at = r->pos;
	uint32_t n = (uint32_t)rd_uint(r, 4, "a section length");
	if (r->failed)
		return 0;
	if (n > r->len - r->pos) {
		r->pos = at;
		rd_fail(r, "section '%s' claims %u bytes, only %zu remain", section_tags[k], n,
			r->len - r->pos - 4);
		return 0;
	}
	return r->pos + n;
}

static void rd_end_section(rd *r, size_t end, int k)
{
	if (!r->failed && r->pos != end)
		rd_fail(r, "section '%s' has %zu bytes left over after its last entry",
			section_tags[k], end - r->pos);
}

static void read_target(rd *r, mlb_target *t)
{
	rd_str(r, t->name, MLB_MAX_NAME, "target name");
	t->rows = rd_i64(r, "target rows");
	t->cols = rd_i64(r, "target cols");
	t->cores = rd_i64(r, "target cores");
	t->drain_cycles = rd_i64(r, "target drain_cycles");
	t->lanes = rd_i64(r, "target lanes");
	t->buffer_bytes = rd_i64(r, "target buffer_bytes");
	t->concurrent = (int)rd_uint(r, 1, "target concurrent");
	t->double_buffer = (int)rd_uint(r, 1, "target double_buffer");
	t->bytes_per_value = (int)rd_uint(r, 1, "target bytes_per_value");
	size_t at = r->pos;
	int nops = (int)rd_uint(r, 1, "target op count");
	if (!r->failed && nops != MLB_NOPS) {
		r->pos = at;
		rd_fail(r, "target has %d operation costs, version 1 has %d", nops, MLB_NOPS);
	}
	t->switch_cycles = rd_f64(r, "target switch_cycles");
	t->dram_gb_per_s = rd_f64(r, "target dram_gb_per_s");
	t->clock_ghz = rd_f64(r, "target clock_ghz");
	for (int k = 0; k < MLB_NOPS; k++)
		t->op_cycles[k] = rd_f64(r, "target op_cycles");
}

static void read_tensors(rd *r, mlb_module *m)
{
	m->dram_values = rd_i64(r, "DRAM size");
	int n = rd_count(r, MLB_MAX_TENSORS, 14, "tensors");
	if (n < 0)
		return;
	m->tensors = rd_calloc(r, (size_t)n, sizeof(mlb_tensor));
	if (!m->tensors)
		return;
	m->ntensors = n;
	r->tens = calloc((size_t)(n ? n : 1), sizeof(size_t));
	if (!r->tens) {
		rd_fail(r, "out of memory");
		return;
	}
	for (int i = 0; i < n && !r->failed; i++) {
		mlb_tensor *t = &m->tensors[i];
		r->tens[i] = r->pos;
		rd_str(r, t->name, MLB_MAX_NAME, "tensor name");
		t->role = (int)rd_uint(r, 1, "tensor role");
		size_t at = r->pos;
		t->ndims = (int)rd_uint(r, 1, "tensor dimensions");
		if (!r->failed && t->ndims > MLB_MAX_DIMS) {
			r->pos = at;
			rd_fail(r, "tensor '%s': %d dimensions (at most %d)", t->name, t->ndims,
				MLB_MAX_DIMS);
			return;
		}
		rd_zero(r, 2, "tensor reserved");
		t->dram = rd_i64(r, "tensor DRAM offset");
		for (int d = 0; d < t->ndims; d++)
			t->shape[d] = rd_i64(r, "tensor shape");
	}
}

static void read_groups(rd *r, mlb_module *m)
{
	int n = rd_count(r, MLB_MAX_GROUPS, 2, "groups");
	if (n < 0)
		return;
	m->groups = rd_calloc(r, (size_t)n, sizeof(char *));
	if (!m->groups)
		return;
	for (int i = 0; i < n && !r->failed; i++) {
		char buf[MLB_MAX_NAME + 1];
		rd_str(r, buf, MLB_MAX_NAME, "group name");
		if (r->failed)
			return;
		m->groups[i] = strdup(buf);
		if (!m->groups[i]) {
			rd_fail(r, "out of memory");
			return;
		}
		m->ngroups = i + 1;
	}
}

static void read_descs(rd *r, mlb_module *m)
{
	int n = rd_count(r, MLB_MAX_DESCS, DESC_BYTES, "descriptors");
	if (n < 0)
		return;
	m->descs = rd_calloc(r, (size_t)n, sizeof(mlb_desc));
	if (!m->descs)
		return;
	m->ndescs = n;
	for (int i = 0; i < n && !r->failed; i++) {
		mlb_desc *d = &m->descs[i];
		d->kind = (int)rd_uint(r, 1, "descriptor kind");
		d->ndim = (int)rd_uint(r, 1, "descriptor dimensions");
		d->nstreams = (int)rd_uint(r, 1, "descriptor streams");
		d->flags = (int)rd_uint(r, 1, "descriptor flags");
		d->tensor = (int)rd_uint(r, 2, "descriptor tensor");
		rd_zero(r, 2, "descriptor reserved");
		d->uop = (uint32_t)rd_uint(r, 4, "descriptor micro-op");
		d->nuops = (uint32_t)rd_uint(r, 4, "descriptor micro-op count");
		for (int k = 0; k < MLB_MAX_DIMS; k++)
			d->cls[k] = (uint8_t)rd_uint(r, 1, "descriptor class");
		d->value = rd_f32(r, "descriptor value");
		rd_zero(r, 4, "descriptor reserved");
		for (int s = 0; s < MLB_MAX_STREAMS; s++)
			for (int k = 0; k < MLB_MAX_DIMS; k++)
				d->stride[s][k] = (int32_t)(uint32_t)rd_uint(r, 4, "descriptor stride");
	}
}

static void read_uops(rd *r, mlb_module *m)
{
	int n = rd_count(r, MLB_MAX_UOPS, UOP_BYTES, "micro-ops");
	if (n < 0)
		return;
	m->uops = rd_calloc(r, (size_t)n, sizeof(mlb_uop));
	if (!m->uops)
		return;
	m->nuops = n;
	for (int i = 0; i < n && !r->failed; i++) {
		mlb_uop *u = &m->uops[i];
		u->op = (uint8_t)rd_uint(r, 1, "micro-op");
		u->fn = (uint8_t)rd_uint(r, 1, "micro-op function");
		u->cost = (uint8_t)rd_uint(r, 1, "micro-op cost");
		u->mask = (uint8_t)rd_uint(r, 1, "micro-op mask");
		u->a = (uint16_t)rd_uint(r, 2, "micro-op operand");
		u->b = (uint16_t)rd_uint(r, 2, "micro-op operand");
		u->value = rd_f32(r, "micro-op value");
		rd_zero(r, 4, "micro-op reserved");
	}
}

static void read_code(rd *r, mlb_module *m)
{
	int n = rd_count(r, MLB_MAX_INSNS, INSN_BYTES, "instructions");
	if (n < 0)
		return;
	m->insns = rd_calloc(r, (size_t)n, sizeof(mlb_insn));
	if (!m->insns)
		return;
	m->ninsns = n;
	for (int i = 0; i < n && !r->failed; i++) {
		mlb_insn *in = &m->insns[i];
		in->op = (uint8_t)rd_uint(r, 1, "opcode");
		in->a = (uint8_t)rd_uint(r, 1, "field a");
		in->b = (uint8_t)rd_uint(r, 1, "field b");
		in->c = (uint8_t)rd_uint(r, 1, "field c");
		in->x = (uint32_t)rd_uint(r, 4, "field x");
		in->imm = rd_i64(r, "immediate");
	}
}

/* The offset of the entry a validation message names (the section's
 * start for anything else). */
static size_t entry_offset(const rd *r, const mlb_module *m, const char *msg)
{
	unsigned k;
	char name[MLB_MAX_NAME + 1];
	if (sscanf(msg, "instruction %u", &k) == 1 && k < (unsigned)m->ninsns)
		return r->sec[6] + 4 + (size_t)k * INSN_BYTES;
	if (sscanf(msg, "descriptor %u", &k) == 1 && k < (unsigned)m->ndescs)
		return r->sec[4] + 4 + (size_t)k * DESC_BYTES;
	if (sscanf(msg, "micro-op %u", &k) == 1 && k < (unsigned)m->nuops)
		return r->sec[5] + 4 + (size_t)k * UOP_BYTES;
	if (sscanf(msg, "tensor %u", &k) == 1 && k < (unsigned)m->ntensors && r->tens)
		return r->tens[k];
	if (sscanf(msg, "tensor '%255[^']'", name) == 1 && r->tens)
		for (int i = 0; i < m->ntensors; i++)
			if (strcmp(m->tensors[i].name, name) == 0)
				return r->tens[i];
	if (strncmp(msg, "target", 6) == 0)
		return r->sec[1];
	if (strncmp(msg, "group", 5) == 0)
		return r->sec[3];
	if (strncmp(msg, "the code", 8) == 0 || strncmp(msg, "the last group", 14) == 0)
		return r->sec[6];
	if (strncmp(msg, "DRAM", 4) == 0)
		return r->sec[2];
	return r->sec[0];
}

int mlb_read(const uint8_t *buf, size_t len, mlb_module **out, char *err, size_t errlen)
{
	*out = NULL;
	rd r;
	memset(&r, 0, sizeof(r));
	r.p = buf;
	r.len = len;
	r.err = err;
	r.errlen = errlen;
	mlb_module *m = NULL;
	if (len < HEADER_BYTES + 4) {
		rd_fail(&r, "truncated: %zu bytes is shorter than a header and a checksum", len);
		return -1;
	}
	if (memcmp(buf, magic, 4) != 0) {
		rd_fail(&r, "not an .mlb file (bad magic number)");
		return -1;
	}
	r.pos = 4;
	unsigned major = (unsigned)rd_uint(&r, 2, "version"), minor = (unsigned)rd_uint(&r, 2, "version");
	if (major != MLB_VERSION_MAJOR) {
		r.pos = 4;
		rd_fail(&r, "version %u.%u; this reader handles %d.x", major, minor, MLB_VERSION_MAJOR);
		return -1;
	}
	uint32_t nsec = (uint32_t)rd_uint(&r, 4, "section count");
	if (nsec != NSECTIONS) {
		r.pos = 8;
		rd_fail(&r, "%u sections; version 1 has %d", nsec, NSECTIONS);
		return -1;
	}
	uint32_t size = (uint32_t)rd_uint(&r, 4, "file size");
	if (size != len) {
		r.pos = 12;
		rd_fail(&r, "the header says %u bytes, the file has %zu (truncated or extended)",
			size, len);
		return -1;
	}
	uint32_t want = (uint32_t)buf[len - 4] | (uint32_t)buf[len - 3] << 8 |
			(uint32_t)buf[len - 2] << 16 | (uint32_t)buf[len - 1] << 24;
	uint32_t got = mlb_crc32(buf, len - 4);
	if (want != got) {
		r.pos = len - 4;
		rd_fail(&r, "checksum mismatch (stored 0x%08x, computed 0x%08x): the file is "
			    "corrupt", want, got);
		return -1;
	}
	r.len = len - 4; /* the sections end before the checksum */
	m = mlb_new();
	if (!m) {
		rd_fail(&r, "out of memory");
		return -1;
	}
	m->version_minor = (int)minor;
	for (int k = 0; k < NSECTIONS && !r.failed; k++) {
		size_t end = rd_section(&r, k);
		if (r.failed)
			break;
		size_t outer = r.len;
		r.sec[k] = r.pos;
		r.len = end; /* a section's entries may not run past it */
		switch (k) {
		case 0:
			rd_str(&r, m->name, MLB_MAX_NAME, "module name");
			rd_str(&r, m->source, MLB_MAX_TEXT, "module source");
			break;
		case 1:
			read_target(&r, &m->target);
			break;
		case 2:
			read_tensors(&r, m);
			break;
		case 3:
			read_groups(&r, m);
			break;
		case 4:
			read_descs(&r, m);
			break;
		case 5:
			read_uops(&r, m);
			break;
		case 6:
			read_code(&r, m);
			break;
		}
		rd_end_section(&r, end, k);
		r.len = outer;
	}
	if (!r.failed && r.pos != r.len)
		rd_fail(&r, "%zu bytes after the last section", r.len - r.pos);
	if (r.failed) {
		mlb_free(m);
		free(r.tens);
		return -1;
	}
	char msg[400];
	if (mlb_validate(m, msg, sizeof(msg)) < 0) {
		/* Semantic errors name the entry: its offset follows from the
		 * layout. */
		seterr(err, errlen, "offset %zu: invalid module: %s", entry_offset(&r, m, msg), msg);
		mlb_free(m);
		free(r.tens);
		return -1;
	}
	free(r.tens);
	*out = m;
	return 0;
}

int mlb_read_file(const char *path, mlb_module **out, char *err, size_t errlen)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		seterr(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		seterr(err, errlen, "not a regular file");
		fclose(f);
		return -1;
	}
	if ((uint64_t)st.st_size > MAX_FILE_BYTES) {
		seterr(err, errlen, "file of %lld bytes exceeds the limit of 1 GiB",
		       (long long)st.st_size);
		fclose(f);
		return -1;
	}
	size_t n = (size_t)st.st_size;
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf) {
		seterr(err, errlen, "out of memory");
		fclose(f);
		return -1;
	}
	size_t got = fread(buf, 1, n, f);
	fclose(f);
	if (got != n) {
		seterr(err, errlen, "read error");
		free(buf);
		return -1;
	}
	int rc = mlb_read(buf, n, out, err, errlen);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------ writer */

typedef struct wr {
	uint8_t *p;
	size_t n, cap;
	int oom;
} wr;

static void wr_bytes(wr *w, const void *src, size_t n)
{
	if (w->oom)
		return;
	if (w->n + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		while (w->n + n > cap)
			cap *= 2;
		uint8_t *p = realloc(w->p, cap);
		if (!p) {
			w->oom = 1;
			return;
		}
		w->p = p;
		w->cap = cap;
	}
	memcpy(w->p + w->n, src, n);
	w->n += n;
}

static void wr_uint(wr *w, uint64_t v, int n)
{
	uint8_t b[8];
	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	wr_bytes(w, b, (size_t)n);
}

static void wr_f64(wr *w, double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof(u));
	wr_uint(w, u, 8);
}

static void wr_f32(wr *w, float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	wr_uint(w, u, 4);
}

static void wr_str(wr *w, const char *s)
{
	size_t n = strlen(s);
	wr_uint(w, n, 2);
	wr_bytes(w, s, n);
}

/* Starts section k; returns the offset of its length field. */
static size_t wr_section(wr *w, int k)
{
	wr_bytes(w, section_tags[k], 4);
	size_t at = w->n;
	wr_uint(w, 0, 4);
	return at;
}

static void wr_end_section(wr *w, size_t at)
{
	if (w->oom)
		return;
	uint32_t n = (uint32_t)(w->n - at - 4);
	for (int i = 0; i < 4; i++)
		w->p[at + (size_t)i] = (uint8_t)(n >> (8 * i));
}

int mlb_write(const mlb_module *m, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
	*buf = NULL;
	*len = 0;
	char msg[400];
	if (mlb_validate(m, msg, sizeof(msg)) < 0) {
		seterr(err, errlen, "refusing to write an invalid module: %s", msg);
		return -1;
	}
	wr w = {0};
	wr_bytes(&w, magic, 4);
	wr_uint(&w, MLB_VERSION_MAJOR, 2);
	wr_uint(&w, (uint64_t)m->version_minor, 2);
	wr_uint(&w, NSECTIONS, 4);
	wr_uint(&w, 0, 4); /* size, patched below */
	size_t at = wr_section(&w, 0);
	wr_str(&w, m->name);
	wr_str(&w, m->source);
	wr_end_section(&w, at);
	at = wr_section(&w, 1);
	const mlb_target *t = &m->target;
	wr_str(&w, t->name);
	wr_uint(&w, (uint64_t)t->rows, 8);
	wr_uint(&w, (uint64_t)t->cols, 8);
	wr_uint(&w, (uint64_t)t->cores, 8);
	wr_uint(&w, (uint64_t)t->drain_cycles, 8);
	wr_uint(&w, (uint64_t)t->lanes, 8);
	wr_uint(&w, (uint64_t)t->buffer_bytes, 8);
	wr_uint(&w, (uint64_t)t->concurrent, 1);
	wr_uint(&w, (uint64_t)t->double_buffer, 1);
	wr_uint(&w, (uint64_t)t->bytes_per_value, 1);
	wr_uint(&w, MLB_NOPS, 1);
	wr_f64(&w, t->switch_cycles);
	wr_f64(&w, t->dram_gb_per_s);
	wr_f64(&w, t->clock_ghz);
	for (int k = 0; k < MLB_NOPS; k++)
		wr_f64(&w, t->op_cycles[k]);
	wr_end_section(&w, at);
	at = wr_section(&w, 2);
	wr_uint(&w, (uint64_t)m->dram_values, 8);
	wr_uint(&w, (uint64_t)m->ntensors, 4);
	for (int i = 0; i < m->ntensors; i++) {
		const mlb_tensor *tt = &m->tensors[i];
		wr_str(&w, tt->name);
		wr_uint(&w, (uint64_t)tt->role, 1);
		wr_uint(&w, (uint64_t)tt->ndims, 1);
		wr_uint(&w, 0, 2);
		wr_uint(&w, (uint64_t)tt->dram, 8);
		for (int d = 0; d < tt->ndims; d++)
			wr_uint(&w, (uint64_t)tt->shape[d], 8);
	}
	wr_end_section(&w, at);
	at = wr_section(&w, 3);
	wr_uint(&w, (uint64_t)m->ngroups, 4);
	for (int i = 0; i < m->ngroups; i++)
		wr_str(&w, m->groups[i]);
	wr_end_section(&w, at);
	at = wr_section(&w, 4);
	wr_uint(&w, (uint64_t)m->ndescs, 4);
	for (int i = 0; i < m->ndescs; i++) {
		const mlb_desc *d = &m->descs[i];
		wr_uint(&w, (uint64_t)d->kind, 1);
		wr_uint(&w, (uint64_t)d->ndim, 1);
		wr_uint(&w, (uint64_t)d->nstreams, 1);
		wr_uint(&w, (uint64_t)d->flags, 1);
		wr_uint(&w, (uint64_t)d->tensor, 2);
		wr_uint(&w, 0, 2);
		wr_uint(&w, d->uop, 4);
		wr_uint(&w, d->nuops, 4);
		for (int k = 0; k < MLB_MAX_DIMS; k++)
			wr_uint(&w, d->cls[k], 1);
		wr_f32(&w, d->value);
		wr_uint(&w, 0, 4);
		for (int s = 0; s < MLB_MAX_STREAMS; s++)
			for (int k = 0; k < MLB_MAX_DIMS; k++)
				wr_uint(&w, (uint32_t)d->stride[s][k], 4);
	}
	wr_end_section(&w, at);
	at = wr_section(&w, 5);
	wr_uint(&w, (uint64_t)m->nuops, 4);
	for (int i = 0; i < m->nuops; i++) {
		const mlb_uop *u = &m->uops[i];
		wr_uint(&w, u->op, 1);
		wr_uint(&w, u->fn, 1);
		wr_uint(&w, u->cost, 1);
		wr_uint(&w, u->mask, 1);
		wr_uint(&w, u->a, 2);
		wr_uint(&w, u->b, 2);
		wr_f32(&w, u->value);
		wr_uint(&w, 0, 4);
	}
	wr_end_section(&w, at);
	at = wr_section(&w, 6);
	wr_uint(&w, (uint64_t)m->ninsns, 4);
	for (int i = 0; i < m->ninsns; i++) {
		const mlb_insn *in = &m->insns[i];
		wr_uint(&w, in->op, 1);
		wr_uint(&w, in->a, 1);
		wr_uint(&w, in->b, 1);
		wr_uint(&w, in->c, 1);
		wr_uint(&w, in->x, 4);
		wr_uint(&w, (uint64_t)in->imm, 8);
	}
	wr_end_section(&w, at);
	size_t total = w.n + 4;
	if (!w.oom && total > 0xffffffffu) {
		free(w.p);
		seterr(err, errlen, "module of %zu bytes exceeds 4 GiB", total);
		return -1;
	}
	if (!w.oom)
		for (int i = 0; i < 4; i++)
			w.p[12 + i] = (uint8_t)(total >> (8 * i));
	uint32_t crc = w.oom ? 0 : mlb_crc32(w.p, w.n);
	wr_uint(&w, crc, 4);
	if (w.oom) {
		free(w.p);
		seterr(err, errlen, "out of memory");
		return -1;
	}
	*buf = w.p;
	*len = w.n;
	return 0;
}

int mlb_write_file(const mlb_module *m, const char *path, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	if (mlb_write(m, &buf, &len, err, errlen) < 0)
		return -1;
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "wb");
	int rc = -1;
	if (!f) {
		seterr(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		goto done;
	}
	size_t w = fwrite(buf, 1, len, f);
	if (fclose(f) != 0 || w != len) {
		seterr(err, errlen, "cannot write %s", tmp);
		remove(tmp);
		goto done;
	}
	if (rename(tmp, path) != 0) {
		seterr(err, errlen, "cannot rename %s: %s", tmp, strerror(errno));
		remove(tmp);
		goto done;
	}
	rc = 0;
done:
	free(buf);
	return rc;
}
