/* fuzz_asm.c - fuzz target: the bytes are the text form of an accelerator
 * stream (.s, docs/isa.md), as `mambalaya asm` reads it.
 *
 * asm_assemble; on success the round trips and a bounded simulation of
 * fuzz_stream_common.h.  Oracles besides the sanitizers: a rejection prints
 * at least one `fuzz.s:LINE:COL: error:` and every error has its line and
 * column; an accepted module validates, round-trips through its binary and
 * text forms, and simulates to an end. */
#include "fuzz_stream_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct asm_call a = {"fuzz.s", (const char *)data, size, NULL};
	int r;
	char *diags = stream_capture_stderr(call_assemble, &a, &r);
	if (r != 0) {
		if (a.m)
			stream_bug("a rejection left a module", diags);
		stream_check_positions(diags, "fuzz.s");
		free(diags);
		return 0;
	}
	free(diags);
	stream_accepted(a.m);
	mlb_free(a.m);
	return 0;
}
