/* fuzz_ein.c - fuzz target: the bytes are a .ein source.
 *
 * Scanner, parser, checker (with its isl proofs), the IR as JSON and text,
 * diagnostics printing, and the reference evaluator on small cascades.  See
 * fuzz_common.h for the oracles. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_source((const char *)data, size, 0, NULL, 1);
	return 0;
}
