/* test_mlb.c - the .mlb format (compiler/isa/mlb*.c), its text form
 * (compiler/isa/asm.c) and the simulator (compiler/sim/sim.c) on a small program:
 * the CRC, byte-exact round trips through the writer and the assembler,
 * every truncation and every damaged byte refused or run without a crash
 * (run this under ASan), the program's results and timing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "isa/asm.h"
#include "isa/mlb.h"
#include "sim/sim.h"

/* Y = relu(X W) with X 4x8, W 8x4: both loaded, C zeroed, two MMAs over
 * halves of k in a loop (2D mode), a relu kernel (1D mode: one switch), a
 * skipped branch, an empty move, the store. */
static const char program[] =
	".version 1.0\n"
	".module \"t\" \"test_mlb.c\"\n"
	".target \"mambalaya\" rows=256 cols=256 cores=1 drain=256 lanes=65536 buffer=16777216 "
	"bpv=2 concurrent=0 double_buffer=1 switch=256 dram_gbps=2039 clock_ghz=1.75\n"
	".cycles exp=4 log=4 sqrt=4 rsqrt=4 sigmoid=3 silu=4 softplus=9 tanh=4 relu=1 abs=1 "
	"neg=1 recip=4 square=1 add=1 sub=1 mul=1 div=5 max=1 min=1 mac=1 copy=1 read=1\n"
	".dram 80\n"
	".tensor X input [4,8] @0\n"
	".tensor W weight [8,4] @32\n"
	".tensor Y output [4,4] @64\n"
	".group 0 \"relu(XW)\"\n"
	".desc 0 dma dims=2 tensor=X s0=[8,1]\n"
	".desc 1 dma dims=2 tensor=W s0=[4,1]\n"
	".desc 2 fill dims=2 unit=2d value=0 s0=[4,1]\n"
	".desc 3 mma dims=3 classes=[m,n,k] flags=none alpha=1 s0=[4,1,0] s1=[8,0,1] s2=[0,1,4]\n"
	".desc 4 vexpr dims=2 streams=2 flags=none uops=0+3 s0=[4,1] s1=[4,1]\n"
	".desc 5 dma dims=2 tensor=Y s0=[4,1]\n"
	".desc 6 move dims=1 s0=[1] s1=[1]\n"
	".uop 0 ld s1 mask=0x03 cost=read\n"
	".uop 1 un relu #0 mask=0x03 cost=relu\n"
	".uop 2 st #1 mask=0x03 cost=none\n"
	".code\n"
	"\tgroup 0, 128\n"
	"\tli r0, 4\n\tli r1, 8\n\tli r2, 0\n\tli r3, 0\n\tli r4, 0\n"
	"\tload d0, r0, r2\n"
	"\tli r0, 8\n\tli r1, 4\n\tli r2, 32\n"
	"\tload d1, r0, r2\n"
	"\tli r0, 4\n\tli r1, 4\n\tli r2, 64\n"
	"\tfill d2, r0, r2\n"
	"\tli r10, 0\n\tli r11, 1\n"
	"\tmode 2d\n"
	"\tloop r10, r11, 1\n"
	"\t\ttile\n"
	"\t\tli r0, 4\n\t\tli r1, 4\n\t\tli r2, 4\n\t\tli r3, 64\n"
	"\t\tmuli r4, r10, 4\n\t\tmuli r5, r10, 16\n\t\taddi r5, r5, 32\n"
	"\t\tmma d3, r0, r3\n"
	"\tendloop\n"
	"\tli r0, 4\n\tli r1, 4\n\tli r2, 80\n\tli r3, 64\n"
	"\tmode 1d\n"
	"\tvexpr d4, r0, r2\n"
	"\tli r6, 0\n"
	"\tbz r6, Lskip\n"
	"\tli r7, 1\n"
	"Lskip:\n"
	"\tli r0, 0\n\tli r1, 0\n\tli r2, 0\n"
	"\tmove d6, r0, r1\n"
	"\tli r0, 4\n\tli r1, 4\n\tli r2, 80\n\tli r3, 0\n\tli r4, 0\n"
	"\tstore d5, r0, r2\n"
	"\tsync\n"
	"\thalt\n";

static mlb_module *assemble(void)
{
	mlb_module *m = NULL;
	assert_int_equal(asm_assemble("program.s", program, strlen(program), &m), 0);
	assert_non_null(m);
	return m;
}

static uint8_t *bytes_of(const mlb_module *m, size_t *len)
{
	uint8_t *buf = NULL;
	char err[256];
	assert_int_equal(mlb_write(m, &buf, len, err, sizeof(err)), 0);
	return buf;
}

static void test_crc(void **state)
{
	(void)state;
	/* The standard check value of CRC-32/ISO-HDLC. */
	assert_int_equal(mlb_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u);
	assert_int_equal(mlb_crc32(NULL, 0), 0);
}

static void test_roundtrip(void **state)
{
	(void)state;
	mlb_module *m = assemble();
	size_t len, len2;
	uint8_t *a = bytes_of(m, &len);
	mlb_module *r = NULL;
	char err[256];
	assert_int_equal(mlb_read(a, len, &r, err, sizeof(err)), 0);
	uint8_t *b = bytes_of(r, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(a, b, len);
	/* Through the text form. */
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	assert_non_null(f);
	assert_int_equal(asm_disassemble(r, f), 0);
	fclose(f);
	mlb_module *r2 = NULL;
	assert_int_equal(asm_assemble("re.s", text, tlen, &r2), 0);
	uint8_t *c = bytes_of(r2, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(a, c, len);
	free(text);
	free(a);
	free(b);
	free(c);
	mlb_free(m);
	mlb_free(r);
	mlb_free(r2);
}

static void test_truncations(void **state)
{
	(void)state;
	mlb_module *m = assemble();
	size_t len;
	uint8_t *a = bytes_of(m, &len);
	for (size_t n = 0; n < len; n++) {
		/* A copy of exactly n bytes, so that ASan sees any read past it. */
		uint8_t *p = malloc(n ? n : 1);
		memcpy(p, a, n);
		mlb_module *r = NULL;
		char err[256] = "";
		assert_int_equal(mlb_read(p, n, &r, err, sizeof(err)), -1);
		assert_null(r);
		assert_true(strncmp(err, "offset ", 7) == 0);
		free(p);
	}
	free(a);
	mlb_free(m);
}

/* Runs a module with small limits; faults are fine, crashes are not. */
static void run_quietly(const mlb_module *m)
{
	sim_options o;
	memset(&o, 0, sizeof(o));
	o.max_steps = 10000;
	o.max_trip = 1000;
	o.max_work = 1 << 20;
	o.max_dram = 1 << 20;
	o.max_buffer = 1 << 24;
	char err[512];
	sim *s = sim_new(m, &o, err, sizeof(err));
	if (!s)
		return;
	sim_stats st;
	sim_run(s, &st, err, sizeof(err));
	sim_stats_clear(&st);
	sim_free(s);
}

static void test_damage(void **state)
{
	(void)state;
	mlb_module *m = assemble();
	size_t len;
	uint8_t *a = bytes_of(m, &len);
	uint8_t *p = malloc(len);
	int accepted = 0;
	const uint8_t masks[] = {0x01, 0x80, 0xff};
	for (size_t i = 0; i < len; i++)
		for (size_t k = 0; k < sizeof(masks); k++) {
			memcpy(p, a, len);
			p[i] ^= masks[k];
			mlb_module *r = NULL;
			char err[256];
			/* The checksum catches every damaged byte... */
			assert_int_equal(mlb_read(p, len, &r, err, sizeof(err)), -1);
			if (i + 4 >= len)
				continue;
			/* ...and with the checksum made right, the parser and the
			 * checks either refuse it or accept a valid module. */
			uint32_t c = mlb_crc32(p, len - 4);
			for (int q = 0; q < 4; q++)
				p[len - 4 + (size_t)q] = (uint8_t)(c >> (8 * q));
			if (mlb_read(p, len, &r, err, sizeof(err)) == 0) {
				accepted++;
				/* A small buffer keeps the thousands of runs quick;
				 * the program needs 128 values. */
				if (r->target.buffer_bytes > 4096)
					r->target.buffer_bytes = 4096;
				run_quietly(r);
				mlb_free(r);
			}
		}
	assert_true(accepted > 0); /* some damage is harmless: a stride, a value */
	free(p);
	free(a);
	mlb_free(m);
}

static void test_run(void **state)
{
	(void)state;
	mlb_module *m = assemble();
	char err[512];
	sim *s = sim_new(m, NULL, err, sizeof(err));
	assert_non_null(s);
	float *x = sim_tensor(s, 0), *w = sim_tensor(s, 1);
	for (int i = 0; i < 32; i++) {
		x[i] = (float)((i * 7) % 11) - 5.0f;
		w[i] = (float)((i * 5) % 7) - 3.0f;
	}
	sim_stats st;
	assert_int_equal(sim_run(s, &st, err, sizeof(err)), 0);
	const float *y = sim_tensor(s, 2);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++) {
			float c = 0;
			for (int k = 0; k < 8; k++)
				c += x[i * 8 + k] * w[k * 4 + j];
			assert_float_equal(y[i * 4 + j], c > 0 ? c : 0, 1e-5);
		}
	/* 32 + 32 values in, 16 out, 2 bytes each. */
	assert_float_equal(st.dram_bytes, 160, 1e-9);
	assert_float_equal(st.dram_read_bytes, 128, 1e-9);
	/* Two MMAs of one 256x256 tile each: max(K = 4, drain 256) cycles;
	 * the relu: one cycle of ops, one of reads; one mode switch. */
	assert_float_equal(st.cycles_2d, 512, 1e-9);
	assert_float_equal(st.cycles_1d, 1, 1e-9);
	assert_int_equal(st.switches, 1);
	assert_int_equal(st.tiles, 2);
	assert_int_equal(st.peak_buffer_bytes, 256);
	double comp = 512 + 1 + 256, mem = 160 / (2039 / 1.75);
	assert_float_equal(st.cycles, comp + mem / 2, 1e-6);
	assert_true(st.scheduled_cycles >= st.cycles - 1e-9);
	sim_stats_clear(&st);
	sim_free(s);
	mlb_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
