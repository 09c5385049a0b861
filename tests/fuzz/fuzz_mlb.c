/* fuzz_mlb.c - fuzz target: the bytes are an accelerator stream (.mlb,
 * docs/isa.md), as `mambalaya sim` and `disasm` read it.
 *
 * mlb_read, on the bytes and on the bytes with their size field and
 * checksum made right (else few mutations get past them); on success the
 * round trips and a bounded simulation of fuzz_stream_common.h.  Oracles
 * besides the sanitizers: a rejection has a one-line message naming the
 * byte offset ("offset N: ..."); an accepted module validates, writes and
 * reads back to the same bytes, disassembles and assembles back to the
 * same bytes, and simulates to an end. */
#include "fuzz_stream_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size)
{
	mlb_module *m = NULL;
	char err[512];
	err[0] = '\0';
	if (mlb_read(data, size, &m, err, sizeof(err)) != 0) {
		if (m)
			stream_bug("a rejection left a module", err);
		if (!err[0] || strchr(err, '\n'))
			stream_bug("rejection message empty or not one line", err);
		if (!strstr(err, "offset "))
			stream_bug("rejection message without a byte offset", err);
		return;
	}
	stream_accepted(m);
	mlb_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The bytes as they are: mostly stopped by the size field and the
	 * checksum. */
	one(data, size);
	/* Then with the file size (bytes 12-15) and the CRC-32 (the last 4
	 * bytes) made right, so that mutations reach the sections. */
	if (size < 20 || memcmp(data, "MLB\x1a", 4) != 0 || size > UINT32_MAX)
		return 0;
	uint8_t *b = malloc(size);
	if (!b)
		abort();
	memcpy(b, data, size);
	for (int i = 0; i < 4; i++)
		b[12 + i] = (uint8_t)(size >> (8 * i));
	uint32_t crc = mlb_crc32(b, size - 4);
	for (int i = 0; i < 4; i++)
		b[size - 4 + i] = (uint8_t)(crc >> (8 * i));
	if (memcmp(b, data, size) != 0)
		one(b, size);
	free(b);
	return 0;
}
