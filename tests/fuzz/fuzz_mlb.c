/* fuzz_mlb.c - fuzz target: the bytes are an accelerator stream (.mlb,
 * docs/isa.md), as `mambalaya sim` and `disasm` read it.
 *
 * mlb_read; on success the round trips and a bounded simulation of
 * fuzz_stream_common.h.  Oracles besides the sanitizers: a rejection has a
 * one-line message naming the byte offset ("offset N: ..."); an accepted
 * module validates, writes and reads back to the same bytes, disassembles
 * and assembles back to the same bytes, and simulates to an end. */
#include "fuzz_stream_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
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
		return 0;
	}
	stream_accepted(m);
	mlb_free(m);
	return 0;
}
