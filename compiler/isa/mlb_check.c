/* mlb_check.c - mlb_validate(): every table and instruction of a module
 * checked, so that the simulator can run it without structural checks
 * (see mlb.h). */
#include "mlb_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
		mlb_seterr(err, errlen, "micro-op %d: unknown operation, function or cost, an operand out "
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

/* The memory levels (format 1.1): none, or DRAM, the buffer (its bytes
 * the buffer's) and maybe PE storage, nested, with positive bandwidths
 * (DRAM's read bandwidth is dram_gb_per_s). */
static int check_levels(const mlb_target *t, char *err, size_t errlen)
{
	if (t->nlevels == 0)
		return 0;
	if (t->nlevels < 2 || t->nlevels > MLB_MAX_LEVELS) {
		mlb_seterr(err, errlen, "target levels: %d (0, or 2 to %d)", t->nlevels,
			   MLB_MAX_LEVELS);
		return -1;
	}
	for (int l = 0; l < t->nlevels; l++) {
		const mlb_level *lv = &t->levels[l];
		if (!lv->name[0] || !mlb_text_ok(lv->name, strlen(lv->name))) {
			mlb_seterr(err, errlen, "target level %d: an empty or unprintable name", l);
			return -1;
		}
		if (!(lv->read_gb_per_s > 0 && lv->read_gb_per_s < 1e12) ||
		    !(lv->write_gb_per_s > 0 && lv->write_gb_per_s < 1e12) ||
		    !(lv->tile_overhead_cycles >= 0 && lv->tile_overhead_cycles < 1e12)) {
			mlb_seterr(err, errlen, "target level %d (%s): bandwidths must be positive "
				   "and overheads non-negative, finite and in range", l, lv->name);
			return -1;
		}
		if (l == 0 ? lv->bytes < 0 || lv->tile_overhead_cycles != 0
			   : lv->bytes < 1 || (t->levels[l - 1].bytes > 0 &&
					       lv->bytes > t->levels[l - 1].bytes)) {
			mlb_seterr(err, errlen, "target level %d (%s): %" PRId64 " bytes do not nest "
				   "inside the level around it", l, lv->name, lv->bytes);
			return -1;
		}
	}
	if (t->levels[0].read_gb_per_s != t->dram_gb_per_s ||
	    t->levels[1].bytes != t->buffer_bytes) {
		mlb_seterr(err, errlen, "target levels: DRAM's read bandwidth and the buffer's "
			   "bytes must be dram_gb_per_s and buffer_bytes");
		return -1;
	}
	return 0;
}

static int check_target(const mlb_target *t, char *err, size_t errlen)
{
	if (!mlb_text_ok(t->name, strlen(t->name))) {
		mlb_seterr(err, errlen, "target name: not printable ASCII without quotes");
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
			mlb_seterr(err, errlen, "target %s: %lld is outside [%d, %lld]", ints[i].name,
			       (long long)ints[i].v, i == 3 ? 0 : 1, (long long)ints[i].hi);
			return -1;
		}
	if (t->concurrent < 0 || t->concurrent > 1 || t->double_buffer < 0 ||
	    t->double_buffer > 1) {
		mlb_seterr(err, errlen, "target concurrent/double_buffer: not 0 or 1");
		return -1;
	}
	if (t->bytes_per_value < 1 || t->bytes_per_value > 8) {
		mlb_seterr(err, errlen, "target bytes_per_value: %d is outside [1, 8]", t->bytes_per_value);
		return -1;
	}
	if (!(t->switch_cycles >= 0 && t->switch_cycles < 1e12) ||
	    !(t->dram_gb_per_s > 0 && t->dram_gb_per_s < 1e9) ||
	    !(t->clock_ghz > 0 && t->clock_ghz < 1e6)) {
		mlb_seterr(err, errlen, "target switch_cycles, dram_gb_per_s or clock_ghz: "
				    "not a positive finite number in range");
		return -1;
	}
	for (int k = 0; k < MLB_NOPS; k++)
		if (!(t->op_cycles[k] >= 0 && t->op_cycles[k] < 1e9)) {
			mlb_seterr(err, errlen, "target op_cycles.%s: not a finite number >= 0",
			       mlb_cost_name(k));
			return -1;
		}
	return check_levels(t, err, errlen);
}

static int check_tensors(const mlb_module *m, char *err, size_t errlen)
{
	if (m->dram_values < 0 || m->dram_values > MLB_MAX_ELEMS) {
		mlb_seterr(err, errlen, "DRAM size %lld values is outside [0, 2^40]",
		       (long long)m->dram_values);
		return -1;
	}
	for (int i = 0; i < m->ntensors; i++) {
		const mlb_tensor *t = &m->tensors[i];
		size_t n = strlen(t->name);
		if (!n || !mlb_text_ok(t->name, n)) {
			mlb_seterr(err, errlen, "tensor %d: empty or non-printable name", i);
			return -1;
		}
		if (!mlb_is_ident(t->name)) {
			/* The assembly names tensors by words, and the compiler
			 * by the language's identifiers: anything else (';' starts
			 * a comment) would disassemble to a file asm rejects. */
			mlb_seterr(err, errlen,
			       "tensor %d: name '%s' is not an identifier (a letter or '_', then "
			       "letters, digits or '_')", i, t->name);
			return -1;
		}
		for (int j = 0; j < i; j++)
			if (strcmp(m->tensors[j].name, t->name) == 0) {
				mlb_seterr(err, errlen, "tensor %d: name '%s' used twice", i, t->name);
				return -1;
			}
		if (t->role < 0 || t->role > MLB_ROLE_TEMP) {
			mlb_seterr(err, errlen, "tensor '%s': unknown role %d", t->name, t->role);
			return -1;
		}
		if (t->ndims < 0 || t->ndims > MLB_MAX_DIMS) {
			mlb_seterr(err, errlen, "tensor '%s': %d dimensions (at most %d)", t->name,
			       t->ndims, MLB_MAX_DIMS);
			return -1;
		}
		int64_t n_el = 1;
		for (int d = 0; d < t->ndims; d++) {
			if (t->shape[d] < 1 || t->shape[d] > MLB_MAX_ELEMS ||
			    n_el > MLB_MAX_ELEMS / t->shape[d]) {
				mlb_seterr(err, errlen, "tensor '%s': dimension %d of size %lld is out of range",
				       t->name, d, (long long)t->shape[d]);
				return -1;
			}
			n_el *= t->shape[d];
		}
		if (t->dram < -1 || (t->dram >= 0 && (t->dram > m->dram_values ||
						       n_el > m->dram_values - t->dram))) {
			mlb_seterr(err, errlen, "tensor '%s': DRAM offset %lld with %lld values does not "
					    "fit the DRAM of %lld values",
			       t->name, (long long)t->dram, (long long)n_el, (long long)m->dram_values);
			return -1;
		}
		if (t->dram < 0 && t->role != MLB_ROLE_TEMP) {
			mlb_seterr(err, errlen, "tensor '%s': an %s must have DRAM storage", t->name,
			       mlb_role_name(t->role));
			return -1;
		}
	}
	return 0;
}

static int check_uops(const mlb_module *m, const mlb_desc *d, int di, char *err, size_t errlen)
{
	if (d->nuops == 0 || d->uop > (uint32_t)m->nuops || d->nuops > (uint32_t)m->nuops - d->uop) {
		mlb_seterr(err, errlen, "descriptor %d: micro-ops %u+%u outside the table of %d", di,
		       d->uop, d->nuops, m->nuops);
		return -1;
	}
	unsigned dimmask = (1u << d->ndim) - 1;
	for (uint32_t i = 0; i < d->nuops; i++) {
		const mlb_uop *u = &m->uops[d->uop + i];
		unsigned ui = d->uop + i;
		int last = i + 1 == d->nuops;
		if ((u->mask & ~dimmask) != 0) {
			mlb_seterr(err, errlen, "micro-op %u (descriptor %d): mask 0x%x names a dimension "
					    "beyond the box's %d", ui, di, u->mask, d->ndim);
			return -1;
		}
		if (u->cost > MLB_NOPS) {
			mlb_seterr(err, errlen, "micro-op %u: cost class %d unknown", ui, u->cost);
			return -1;
		}
		int need_a = 0, need_b = 0;
		switch (u->op) {
		case MLB_U_LD:
			if (u->a < 1 || u->a >= d->nstreams || u->fn || u->b || u->value != 0) {
				mlb_seterr(err, errlen, "micro-op %u (descriptor %d): ld of stream %u "
						    "(streams 1..%d) or a nonzero unused field",
				       ui, di, u->a, d->nstreams - 1);
				return -1;
			}
			break;
		case MLB_U_CST:
			if (u->fn || u->a || u->b || !isfinite(u->value)) {
				mlb_seterr(err, errlen, "micro-op %u: cst with a nonzero unused field or a "
						    "non-finite value", ui);
				return -1;
			}
			break;
		case MLB_U_VAR:
			if ((u->a != 255 && u->a >= d->ndim) || u->b > 64 || u->fn || u->value != 0) {
				mlb_seterr(err, errlen, "micro-op %u: var of dimension %u or slot %u out of range",
				       ui, u->a, u->b);
				return -1;
			}
			break;
		case MLB_U_UN:
			if (u->fn >= MLB_NFN || u->b || u->value != 0) {
				mlb_seterr(err, errlen, "micro-op %u: unknown function %u or nonzero unused field",
				       ui, u->fn);
				return -1;
			}
			need_a = 1;
			break;
		case MLB_U_BIN:
			if (u->fn >= MLB_NBINOP || u->value != 0) {
				mlb_seterr(err, errlen, "micro-op %u: unknown operator %u", ui, u->fn);
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
				mlb_seterr(err, errlen, "micro-op %u (descriptor %d): %s must be the kernel's "
						    "last micro-op, with add/max/min for acc",
				       ui, di, mlb_uop_name(u->op));
				return -1;
			}
			need_a = 1;
			break;
		default:
			mlb_seterr(err, errlen, "micro-op %u: unknown operation %u", ui, u->op);
			return -1;
		}
		if ((need_a && u->a >= i) || (need_b && u->b >= i) || (!need_b && u->op != MLB_U_VAR && u->op != MLB_U_LD && u->b)) {
			mlb_seterr(err, errlen, "micro-op %u (descriptor %d): operand refers to micro-op "
					    "%u/%u, not an earlier one of the kernel",
			       ui, di, u->a, u->b);
			return -1;
		}
		if (last && u->op != MLB_U_ST && u->op != MLB_U_ACC) {
			mlb_seterr(err, errlen, "descriptor %d: kernel does not end with st or acc", di);
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
		mlb_seterr(err, errlen, "descriptor %d: %d dimensions, %d streams (at most %d and %d)",
		       di, d->ndim, d->nstreams, MLB_MAX_DIMS, MLB_MAX_STREAMS);
		return -1;
	}
	for (int s = 0; s < MLB_MAX_STREAMS; s++)
		for (int k = 0; k < MLB_MAX_DIMS; k++) {
			if (d->stride[s][k] == INT32_MIN) {
				mlb_seterr(err, errlen, "descriptor %d: stride of stream %d, dimension %d is "
						    "-2^31; strides lie in (-2^31, 2^31)", di, s, k);
				return -1;
			}
			if ((s >= d->nstreams || k >= d->ndim) && d->stride[s][k]) {
				mlb_seterr(err, errlen, "descriptor %d: stride of stream %d, dimension %d is "
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
		mlb_seterr(err, errlen, "descriptor %d: unknown kind %d", di, d->kind);
		return -1;
	}
	if (want_streams >= 0 && d->nstreams != want_streams) {
		mlb_seterr(err, errlen, "descriptor %d (%s): %d streams, expected %d", di,
		       mlb_desc_kind_name(d->kind), d->nstreams, want_streams);
		return -1;
	}
	if (d->flags & ~allowed_flags) {
		mlb_seterr(err, errlen, "descriptor %d (%s): flags 0x%x not allowed", di,
		       mlb_desc_kind_name(d->kind), d->flags);
		return -1;
	}
	if ((d->flags & MLB_F_SEQ) && d->ndim < 1) {
		mlb_seterr(err, errlen, "descriptor %d: sequential with no dimension", di);
		return -1;
	}
	if (uses_tensor) {
		if (d->tensor < 0 || d->tensor >= m->ntensors) {
			mlb_seterr(err, errlen, "descriptor %d: tensor %d (the table has %d)", di,
			       d->tensor, m->ntensors);
			return -1;
		}
		const mlb_tensor *t = &m->tensors[d->tensor];
		if (t->dram < 0 || t->ndims != d->ndim) {
			mlb_seterr(err, errlen, "descriptor %d: DMA of tensor '%s' (%d dimensions, %s) "
					    "with %d dimensions",
			       di, t->name, t->ndims, t->dram < 0 ? "no DRAM storage" : "in DRAM",
			       d->ndim);
			return -1;
		}
	} else if (d->tensor) {
		mlb_seterr(err, errlen, "descriptor %d: tensor field set on a %s", di,
		       mlb_desc_kind_name(d->kind));
		return -1;
	}
	if (uses_uops) {
		if (check_uops(m, d, di, err, errlen) < 0)
			return -1;
	} else if (d->uop || d->nuops) {
		mlb_seterr(err, errlen, "descriptor %d: micro-ops on a %s", di, mlb_desc_kind_name(d->kind));
		return -1;
	}
	for (int k = 0; k < MLB_MAX_DIMS; k++)
		if ((!uses_cls || k >= d->ndim) ? d->cls[k] != 0 : d->cls[k] > MLB_C_K) {
			mlb_seterr(err, errlen, "descriptor %d: class of dimension %d invalid", di, k);
			return -1;
		}
	if (uses_value ? (d->kind == MLB_D_MMA && !isfinite(d->value)) || isnan(d->value)
		       : nonzero_bits(d->value)) {
		mlb_seterr(err, errlen, "descriptor %d: value invalid for a %s", di,
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

/* The fields of an instruction that its opcode uses. */
enum { F_A = 1, F_B = 2, F_C = 4, F_X = 8, F_IMM = 16 };

/* LOOP and ENDLOOP at i: the step, and the nesting (stack: the open
 * loops).  Returns 0 or -1 with a message. */
static int check_loop(const mlb_module *m, int i, int *stack, int *depth, char *err,
		      size_t errlen)
{
	const mlb_insn *in = &m->insns[i];
	if (in->imm < 1 || in->imm > ((int64_t)1 << 40)) {
		mlb_seterr(err, errlen, "instruction %d: %s step %lld is not in [1, 2^40]", i,
		       mlb_opcode_name(in->op), (long long)in->imm);
		return -1;
	}
	if (in->op == MLB_LOOP) {
		stack[(*depth)++] = i;
		if (in->x <= (uint32_t)i || in->x >= (uint32_t)m->ninsns) {
			mlb_seterr(err, errlen, "instruction %d: loop's end %u is not a later "
					    "instruction", i, in->x);
			return -1;
		}
		return 0;
	}
	if (*depth == 0 || in->x != (uint32_t)stack[*depth - 1]) {
		mlb_seterr(err, errlen, "instruction %d: endloop does not close the "
				    "innermost open loop", i);
		return -1;
	}
	const mlb_insn *lp = &m->insns[stack[--*depth]];
	if (lp->x != (uint32_t)i || lp->a != in->a || lp->b != in->b || lp->imm != in->imm) {
		mlb_seterr(err, errlen, "instruction %d: endloop's registers, step or "
				    "target differ from its loop's (instruction %u)",
		       i, in->x);
		return -1;
	}
	return 0;
}

/* A box operation at i: its descriptor's kind, its register windows. */
static int check_box(const mlb_module *m, int i, char *err, size_t errlen)
{
	const mlb_insn *in = &m->insns[i];
	if (in->x >= (uint32_t)m->ndescs || m->descs[in->x].kind != desc_kind_for(in->op)) {
		mlb_seterr(err, errlen, "instruction %d: %s needs a %s descriptor; %u is %s", i,
		       mlb_opcode_name(in->op), mlb_desc_kind_name(desc_kind_for(in->op)), in->x,
		       in->x < (uint32_t)m->ndescs ? mlb_desc_kind_name(m->descs[in->x].kind)
						   : "out of range");
		return -1;
	}
	const mlb_desc *d = &m->descs[in->x];
	int na = mlb_addr_regs(m, in);
	if (in->a + d->ndim > MLB_NREGS || in->b + na > MLB_NREGS) {
		mlb_seterr(err, errlen, "instruction %d: register window r%u+%d or r%u+%d "
				    "runs past r255", i, in->a, d->ndim, in->b, na);
		return -1;
	}
	return 0;
}

/* The operands of instruction i; *fields: the fields its opcode uses.
 * Returns 0 or -1 with a message. */
static int check_operands(const mlb_module *m, int i, int *stack, int *depth, int *fields,
			  char *err, size_t errlen)
{
	const mlb_insn *in = &m->insns[i];
	switch (in->op) {
	case MLB_NOP:
	case MLB_HALT:
	case MLB_TILE:
	case MLB_SYNC:
		*fields = 0;
		return 0;
	case MLB_LI:
		*fields = F_A | F_IMM;
		return 0;
	case MLB_ADD: case MLB_SUB: case MLB_MUL: case MLB_DIVF: case MLB_MODF:
	case MLB_MIN: case MLB_MAX: case MLB_SLT: case MLB_SLE: case MLB_SEQ:
	case MLB_AND: case MLB_OR:
		*fields = F_A | F_B | F_C;
		return 0;
	case MLB_SEL:
		*fields = F_A | F_B | F_C | F_IMM;
		if (in->imm < 0 || in->imm >= MLB_NREGS) {
			mlb_seterr(err, errlen, "instruction %d: sel's else register %lld is not r0..r255",
			       i, (long long)in->imm);
			return -1;
		}
		return 0;
	case MLB_ADDI:
	case MLB_MULI:
		*fields = F_A | F_B | F_IMM;
		return 0;
	case MLB_LOOP:
	case MLB_ENDLOOP:
		*fields = F_A | F_B | F_X | F_IMM;
		return check_loop(m, i, stack, depth, err, errlen);
	case MLB_BZ:
	case MLB_JMP:
		*fields = (in->op == MLB_BZ ? F_A : 0) | F_X;
		if (in->x <= (uint32_t)i || in->x >= (uint32_t)m->ninsns) {
			mlb_seterr(err, errlen, "instruction %d: branch target %u is not a later "
					    "instruction (branches go forward; loops go back)",
			       i, in->x);
			return -1;
		}
		return 0;
	case MLB_GROUP:
		*fields = F_X | F_IMM;
		if (in->x >= (uint32_t)m->ngroups) {
			mlb_seterr(err, errlen, "instruction %d: group %u (the table has %d)", i, in->x,
			       m->ngroups);
			return -1;
		}
		if (in->imm < 0 || in->imm > (int64_t)1 << 40) {
			mlb_seterr(err, errlen, "instruction %d: group allocates %lld values", i,
			       (long long)in->imm);
			return -1;
		}
		return 0;
	case MLB_MODE:
		*fields = F_A;
		if (in->a > 1) {
			mlb_seterr(err, errlen, "instruction %d: mode %u is neither 0 (1D) nor 1 (2D)", i,
			       in->a);
			return -1;
		}
		return 0;
	case MLB_LOAD: case MLB_STORE: case MLB_MOVE: case MLB_VEXPR: case MLB_MMA:
	case MLB_FILL:
		*fields = F_A | F_B | F_X;
		return check_box(m, i, err, errlen);
	default:
		mlb_seterr(err, errlen, "instruction %d: unknown opcode %u", i, in->op);
		return -1;
	}
}

/* Groups do not nest, and units work only inside one. */
static int check_in_group(const mlb_insn *in, int i, int *in_group, char *err, size_t errlen)
{
	if (in->op == MLB_GROUP) {
		if (*in_group) {
			mlb_seterr(err, errlen, "instruction %d: group begins before the previous "
					    "one's sync", i);
			return -1;
		}
		*in_group = 1;
	} else if (in->op == MLB_SYNC) {
		if (!*in_group) {
			mlb_seterr(err, errlen, "instruction %d: sync outside a group", i);
			return -1;
		}
		*in_group = 0;
	} else if (!*in_group &&
		   (in->op == MLB_TILE || in->op == MLB_MODE || desc_kind_for(in->op))) {
		mlb_seterr(err, errlen, "instruction %d: %s outside a group", i,
		       mlb_opcode_name(in->op));
		return -1;
	}
	return 0;
}

static int check_code(const mlb_module *m, char *err, size_t errlen)
{
	int rc = -1;
	int *stack = malloc((size_t)(m->ninsns ? m->ninsns : 1) * sizeof(int));
	int depth = 0, in_group = 0;
	if (!stack) {
		mlb_seterr(err, errlen, "out of memory");
		return -1;
	}
	if (m->ninsns == 0 || m->insns[m->ninsns - 1].op != MLB_HALT) {
		mlb_seterr(err, errlen, "the code does not end with halt");
		goto done;
	}
	for (int i = 0; i < m->ninsns; i++) {
		const mlb_insn *in = &m->insns[i];
		int f = 0;
		if (check_operands(m, i, stack, &depth, &f, err, errlen) < 0)
			goto done;
		if ((!(f & F_A) && in->a) || (!(f & F_B) && in->b) || (!(f & F_C) && in->c) ||
		    (!(f & F_X) && in->x) || (!(f & F_IMM) && in->imm)) {
			mlb_seterr(err, errlen, "instruction %d (%s): a field it does not use is nonzero", i,
			       mlb_opcode_name(in->op));
			goto done;
		}
		if (check_in_group(in, i, &in_group, err, errlen) < 0)
			goto done;
	}
	if (depth) {
		mlb_seterr(err, errlen, "instruction %d: loop never closed", stack[depth - 1]);
		goto done;
	}
	if (in_group) {
		mlb_seterr(err, errlen, "the last group has no sync");
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
		mlb_seterr(err, errlen, "minor version %d is not a 16-bit number", m->version_minor);
		return -1;
	}
	if (m->version_minor < 1 && m->target.nlevels) {
		mlb_seterr(err, errlen, "target levels need format 1.1 (the module is 1.%d)",
			   m->version_minor);
		return -1;
	}
	if (!mlb_text_ok(m->name, strlen(m->name)) || !mlb_text_ok(m->source, strlen(m->source))) {
		mlb_seterr(err, errlen, "module name or source: not printable ASCII without quotes");
		return -1;
	}
	if (m->ntensors < 0 || m->ntensors > MLB_MAX_TENSORS || m->ngroups < 0 ||
	    m->ngroups > MLB_MAX_GROUPS || m->ndescs < 0 || m->ndescs > MLB_MAX_DESCS ||
	    m->nuops < 0 || m->nuops > MLB_MAX_UOPS || m->ninsns < 0 ||
	    m->ninsns > MLB_MAX_INSNS) {
		mlb_seterr(err, errlen, "a table exceeds its limit (tensors %d, groups %d, descriptors "
				    "%d, micro-ops %d, instructions %d)",
		       m->ntensors, m->ngroups, m->ndescs, m->nuops, m->ninsns);
		return -1;
	}
	if (check_target(&m->target, err, errlen) < 0 || check_tensors(m, err, errlen) < 0)
		return -1;
	for (int i = 0; i < m->ngroups; i++)
		if (!m->groups[i] || strlen(m->groups[i]) > MLB_MAX_NAME ||
		    !mlb_text_ok(m->groups[i], strlen(m->groups[i]))) {
			mlb_seterr(err, errlen, "group %d: name not printable ASCII", i);
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
