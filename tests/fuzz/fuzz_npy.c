/* fuzz_npy.c - fuzz target: the bytes are a .npy file.
 *
 * npy_parse_f32 is the parser behind npy_read_f32 (eval --in, the tests'
 * tools).  Oracles besides the sanitizers: a failure leaves *data NULL,
 * *ndim 0 and a one-line, NUL-terminated message that is never empty and
 * gives the byte offset of the problem; a success gives a shape whose
 * element count matches the data, and npy_shape_str formats it safely. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml_npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void bug(const char *what, const char *err)
{
	fprintf(stderr, "fuzz: BUG: %s (%s)\n", what, err);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	float *out = (float *)&out; /* must be overwritten */
	int ndim = -5;
	int64_t shape[NPY_MAX_DIMS];
	char err[256];
	memset(err, 'x', sizeof(err));
	int r = npy_parse_f32(data, size, &out, &ndim, shape, err, sizeof(err));
	if (!memchr(err, '\0', sizeof(err)))
		bug("error message not NUL-terminated", "");
	if (r != 0) {
		if (r != -1 || out != NULL || ndim != 0)
			bug("failure did not reset the outputs", err);
		if (!err[0] || strchr(err, '\n'))
			bug("failure message empty or not one line", err);
		/* Every rejection says where (an empty file has no where). */
		if (size > 0 && !strstr(err, "(at byte ") &&
		    !strstr(err, "out of memory"))
			bug("failure message without a byte offset", err);
		return 0;
	}
	if (!out || ndim < 0 || ndim > NPY_MAX_DIMS)
		bug("success with bad outputs", err);
	uint64_t n = 1;
	for (int i = 0; i < ndim; i++) {
		if (shape[i] < 0)
			bug("negative dimension accepted", err);
		n *= (uint64_t)shape[i];
	}
	if (n * sizeof(float) > size)
		bug("more elements than bytes", err);
	/* Touch every element (ASan checks the buffer's size). */
	volatile float sink = 0;
	for (uint64_t i = 0; i < n; i++)
		sink += out[i];
	(void)sink;
	char sh[8];
	npy_shape_str(ndim, shape, sh, sizeof(sh));
	free(out);
	return 0;
}
