/* mlb.h - the Mambalaya accelerator instruction stream and its file format
 * (.mlb), shared by the compiler (which writes it), the assembler and
 * disassembler, and the simulator.  docs/isa.md is the specification: every
 * instruction's fields and semantics, and the file byte by byte.
 *
 * A module is a target description, a tensor table (DRAM layout), a group
 * table (names for reports), a descriptor table (the static shape of every
 * DMA and compute operation: box rank, strides, kernels), a micro-op table
 * (the 1D-array kernels) and the instructions.  Instructions are fixed
 * 16-byte words; dynamic values (loop bounds, extents, addresses) live in
 * 256 scalar registers.
 *
 * mlb_read() accepts any byte string: it checks every length, offset,
 * index and reserved field, and either returns a module that the simulator
 * can run without further structural checks, or an error naming the byte
 * offset.  Runtime faults (an address outside the buffer, a loop running
 * away) are the simulator's to detect.
 *
 * It depends on nothing else in compiler/: the stream back end, the
 * assembler and the simulator build on it.
 *
 * Ownership: mlb_read*() return a module the caller frees with mlb_free();
 * every array in it is owned by the module.
 */
#ifndef MAMBALAYA_MLB_H
#define MAMBALAYA_MLB_H

#include <stddef.h>
#include <stdint.h>

#define MLB_VERSION_MAJOR 1
#define MLB_VERSION_MINOR 1 /* 1.1: memory levels in TRGT */

#define MLB_MAX_DIMS 8	   /* dimensions of a box or of a tensor */
#define MLB_MAX_STREAMS 8  /* operand streams of one operation */
#define MLB_NREGS 256	   /* scalar registers r0..r255 */
#define MLB_NOPS 22	   /* cost classes of the 1D array (the target's) */
#define MLB_MAX_NAME 255   /* bytes of a name */
#define MLB_MAX_TEXT 4095  /* bytes of the module's free text strings */

/* Limits the reader enforces (docs/isa.md, "Limits"). */
#define MLB_MAX_TENSORS 4096
#define MLB_MAX_GROUPS 65536
#define MLB_MAX_DESCS (1 << 20)
#define MLB_MAX_UOPS (1 << 20)
#define MLB_MAX_INSNS (1 << 24)
#define MLB_MAX_ELEMS ((int64_t)1 << 40) /* elements of one tensor, of DRAM */
#define MLB_MAX_STRIDE ((int64_t)1 << 31)

/* Opcodes.  Fields a, b, c are register numbers or small operands, x an
 * index (descriptor, instruction), imm a signed 64-bit immediate. */
typedef enum mlb_opcode {
	MLB_NOP = 0,
	MLB_HALT = 1,	 /* end of the program */
	MLB_LI = 2,	 /* r[a] = imm */
	MLB_ADD = 3,	 /* r[a] = r[b] + r[c] */
	MLB_SUB = 4,	 /* r[a] = r[b] - r[c] */
	MLB_MUL = 5,	 /* r[a] = r[b] * r[c] */
	MLB_ADDI = 6,	 /* r[a] = r[b] + imm */
	MLB_MULI = 7,	 /* r[a] = r[b] * imm */
	MLB_DIVF = 8,	 /* r[a] = floor(r[b] / r[c]) */
	MLB_MODF = 9,	 /* r[a] = r[b] - r[c] * floor(r[b] / r[c]) */
	MLB_MIN = 10,	 /* r[a] = min(r[b], r[c]) */
	MLB_MAX = 11,	 /* r[a] = max(r[b], r[c]) */
	MLB_SLT = 12,	 /* r[a] = r[b] < r[c] */
	MLB_SLE = 13,	 /* r[a] = r[b] <= r[c] */
	MLB_SEQ = 14,	 /* r[a] = r[b] == r[c] */
	MLB_AND = 15,	 /* r[a] = r[b] != 0 && r[c] != 0 */
	MLB_OR = 16,	 /* r[a] = r[b] != 0 || r[c] != 0 */
	MLB_SEL = 17,	 /* r[a] = r[b] != 0 ? r[c] : r[imm] */
	MLB_LOOP = 18,	 /* if r[a] > r[b]: go to x + 1 (x: its ENDLOOP) */
	MLB_ENDLOOP = 19, /* r[a] += imm; if r[a] <= r[b]: go to x + 1 (x: its LOOP) */
	MLB_BZ = 20,	 /* if r[a] == 0: go to x */
	MLB_JMP = 21,	 /* go to x */
	MLB_GROUP = 22,	 /* fusion group x begins; imm buffer values allocated */
	MLB_TILE = 23,	 /* a tile of the current group begins */
	MLB_SYNC = 24,	 /* the group ends: wait for every unit */
	MLB_LOAD = 25,	 /* DMA DRAM -> buffer, descriptor x, extents r[a..], addresses r[b..] */
	MLB_STORE = 26,	 /* DMA buffer -> DRAM */
	MLB_MOVE = 27,	 /* buffer -> buffer (carried data) */
	MLB_VEXPR = 28,	 /* 1D array: a kernel over a box */
	MLB_MMA = 29,	 /* 2D array: C (+)= alpha X Y over a box */
	MLB_FILL = 30,	 /* a box set to a constant */
	MLB_MODE = 31,	 /* the array to mode a: 0 1D, 1 2D (a switch if it changes) */
	MLB_NOPCODES = 32
} mlb_opcode;

/* Descriptor kinds. */
typedef enum mlb_desc_kind {
	MLB_D_DMA = 1,	 /* LOAD and STORE */
	MLB_D_MOVE = 2,
	MLB_D_VEXPR = 3,
	MLB_D_MMA = 4,
	MLB_D_FILL = 5
} mlb_desc_kind;

/* Descriptor flags. */
#define MLB_F_SEQ 1	  /* VEXPR: box dimension 0 is sequential (a scan) */
#define MLB_F_OVERWRITE 2 /* VEXPR/MMA: a reduction starts from its identity */
#define MLB_F_UNIT2D 4	  /* FILL: runs on the 2D array (else the 1D array) */

/* MMA dimension classes. */
typedef enum mlb_class { MLB_C_B = 0, MLB_C_M = 1, MLB_C_N = 2, MLB_C_K = 3 } mlb_class;

/* Micro-ops of a 1D kernel. */
typedef enum mlb_uop_op {
	MLB_U_LD = 1,  /* value of stream a */
	MLB_U_CST = 2, /* the constant value */
	MLB_U_VAR = 3, /* r[rA + nstreams + b] + (index along box dim a; none if a == 255) */
	MLB_U_UN = 4,  /* fn(u[a]) */
	MLB_U_BIN = 5, /* u[a] op u[b] */
	MLB_U_ST = 6,  /* stream 0 = u[a]; last */
	MLB_U_ACC = 7  /* stream 0 = stream 0 op u[a]; last */
} mlb_uop_op;

/* Unary functions (same order as the language's). */
typedef enum mlb_fn {
	MLB_FN_EXP, MLB_FN_LOG, MLB_FN_SQRT, MLB_FN_RSQRT, MLB_FN_SIGMOID,
	MLB_FN_SILU, MLB_FN_SOFTPLUS, MLB_FN_TANH, MLB_FN_RELU, MLB_FN_ABS,
	MLB_FN_NEG, MLB_FN_RECIP, MLB_FN_SQUARE, MLB_NFN
} mlb_fn;

/* Binary operators. */
typedef enum mlb_binop {
	MLB_OP_ADD, MLB_OP_SUB, MLB_OP_MUL, MLB_OP_DIV, MLB_OP_MAX, MLB_OP_MIN,
	MLB_NBINOP
} mlb_binop;

/* Cost classes (1D array): the functions, the operators, then these. */
#define MLB_COST_BINOP0 MLB_NFN
#define MLB_COST_MAC (MLB_NFN + 6)
#define MLB_COST_COPY (MLB_NFN + 7)
#define MLB_COST_READ (MLB_NFN + 8)

typedef enum mlb_role { MLB_ROLE_INPUT, MLB_ROLE_WEIGHT, MLB_ROLE_OUTPUT, MLB_ROLE_TEMP } mlb_role;

#define MLB_MAX_LEVELS 3
#define MLB_MAX_LEVEL_NAME 31

/* A level of the memory hierarchy (format 1.1; docs/isa.md, "Timing"):
 * 0 DRAM, 1 the buffer, 2 PE storage. */
typedef struct mlb_level {
	char name[MLB_MAX_LEVEL_NAME + 1];
	int64_t bytes; /* 0 for DRAM */
	double read_gb_per_s, write_gb_per_s, tile_overhead_cycles;
} mlb_level;

typedef struct mlb_target {
	char name[MLB_MAX_NAME + 1];
	int64_t rows, cols, cores, drain_cycles, lanes, buffer_bytes;
	double op_cycles[MLB_NOPS];
	int concurrent, double_buffer, bytes_per_value;
	double switch_cycles, dram_gb_per_s, clock_ghz;
	/* 0: none given (format 1.0, or a target without memory_levels):
	 * DRAM at dram_gb_per_s both ways, the buffer unlimited. */
	int nlevels;
	mlb_level levels[MLB_MAX_LEVELS];
} mlb_target;

typedef struct mlb_tensor {
	char name[MLB_MAX_NAME + 1];
	int role;
	int ndims;
	int64_t shape[MLB_MAX_DIMS];
	int64_t dram; /* offset in values, or -1: no DRAM storage */
} mlb_tensor;

typedef struct mlb_desc {
	int kind;
	int ndim, nstreams, flags;
	int tensor;	     /* DMA: the tensor; else 0 */
	uint32_t uop, nuops; /* VEXPR: its kernel; else 0 */
	uint8_t cls[MLB_MAX_DIMS]; /* MMA: class per dimension; else 0 */
	int32_t stride[MLB_MAX_STREAMS][MLB_MAX_DIMS];
	float value; /* MMA: alpha; FILL: the value; else 0 */
} mlb_desc;

typedef struct mlb_uop {
	uint8_t op, fn, cost, mask; /* cost: class + 1, or 0 (free) */
	uint16_t a, b;		   /* operands: earlier micro-ops of the kernel */
	float value;		   /* CST */
} mlb_uop;

typedef struct mlb_insn {
	uint8_t op, a, b, c;
	uint32_t x;
	int64_t imm;
} mlb_insn;

typedef struct mlb_module {
	int version_minor; /* the file's minor version (written back as is) */
	char name[MLB_MAX_NAME + 1];
	char source[MLB_MAX_TEXT + 1];
	mlb_target target;
	int64_t dram_values;
	int ntensors;
	mlb_tensor *tensors;
	int ngroups;
	char **groups; /* names */
	int ndescs;
	mlb_desc *descs;
	int nuops;
	mlb_uop *uops;
	int ninsns;
	mlb_insn *insns;
} mlb_module;

/* Parses and validates len bytes.  Returns 0 with *out set, or -1 with a
 * message ("offset 1234: ...") in err. */
int mlb_read(const uint8_t *buf, size_t len, mlb_module **out, char *err, size_t errlen);

/* The same for a file (no more than 1 GiB). */
int mlb_read_file(const char *path, mlb_module **out, char *err, size_t errlen);

/* Validates m (the checks mlb_read makes after parsing; the writer makes
 * them too, so that nothing invalid is ever written).  Returns 0 or -1 with
 * a message. */
int mlb_validate(const mlb_module *m, char *err, size_t errlen);

/* Serialises m (validated first).  *buf is malloc'ed, owned by the caller.
 * Returns 0 or -1 with a message. */
int mlb_write(const mlb_module *m, uint8_t **buf, size_t *len, char *err, size_t errlen);

/* Writes m to path atomically (a temporary file, then rename). */
int mlb_write_file(const mlb_module *m, const char *path, char *err, size_t errlen);

void mlb_free(mlb_module *m);

/* An empty module (every count 0); NULL when out of memory. */
mlb_module *mlb_new(void);

/* CRC-32 (IEEE 802.3, the polynomial of zlib and PNG) of n bytes. */
uint32_t mlb_crc32(const uint8_t *p, size_t n);

/* Names used by the assembler and the disassembler. */
const char *mlb_opcode_name(int op);	/* "loop", or NULL */
const char *mlb_fn_name(int fn);	/* "exp" */
const char *mlb_binop_name(int op);	/* "add" */
const char *mlb_cost_name(int cls);	/* "exp", ..., "add", ..., "mac", "copy", "read" */
const char *mlb_role_name(int role);	/* "input" */
const char *mlb_desc_kind_name(int k);	/* "dma", ... */
const char *mlb_uop_name(int op);	/* "ld", ... */

/* Registers an instruction reads or writes beyond a, b, c: the extent and
 * address windows of a DMA or compute instruction.  Returns how many
 * registers starting at b hold addresses (streams and variable origins, or
 * 1 + ndim for a DMA), or 0 for other instructions. */
int mlb_addr_regs(const mlb_module *m, const mlb_insn *in);

/* The 2D array's PE tiles (docs/isa.md, "Timing"): a rows x cols array,
 * each PE holding at most per_pe accumulators, computes an mm x nn output
 * (mm along the rows) over kk as blocks of (rows a) x (cols b), a b <=
 * per_pe, the buffer sending each block its operands once per k.  Returns
 * the operand values read for the a, b that read the fewest; *blocks
 * receives the blocks.  The simulator charges it, and the mapper's cost
 * model prices it the same. */
double mlb_pe_tile_reads(double rows, double cols, double per_pe, double mm, double nn,
			 double kk, double *blocks);

#endif
