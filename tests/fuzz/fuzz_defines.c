/* fuzz_defines.c - fuzz target: the bytes are -D options.
 *
 * The first byte picks a fixed, valid source: examples/mamba1.ein (read
 * once, from MAMBALAYA_SRCDIR) or a small convolution/scan cascade that uses
 * every form of parameter default (derived, cdiv, min, max, negative) and of
 * extent (I + W - 1, W - 1, named ranks).  The rest, split at newlines, are
 * the -D NAME=VALUE strings (at most 64, as on the command line; a NUL ends
 * a string as it would in argv).  Parameter values change every extent, so
 * this fuzzes the checker's arithmetic and isl proofs over parameter space,
 * and, when the sizes are small, compares the checker with the evaluator
 * (fuzz_common.h). */
#include "fuzz_common.h"

#ifndef MAMBALAYA_SRCDIR
#define MAMBALAYA_SRCDIR "."
#endif

#define MAX_DEFINES 64 /* CLI_MAX_DEFINES */

static const char conv_src[] =
	"param B = 2, I = 8, W = 3\n"
	"param D = 2 * B + 1\n"
	"param H = cdiv(I, 2)\n"
	"param L = max(I - W, 1) + min(W, 2)\n"
	"param S = -3\n"
	"input X[B, I, D]\n"
	"weight K[W, D]\n"
	"input CS[B, J: W - 1, D]\n"
	"tensor XP[B, I + W - 1, D]\n"
	"output Y[B, I, D], Z[B, H], P[D, L]\n"
	"output G[B, I + 1], M[B]\n"
	"XP_{b,j,d} = CS_{b,j,d}   where j < W - 1\n"
	"XP_{b,i+W-1,d} = X_{b,i,d}\n"
	"Y_{b,i,d} = XP_{b,i+w,d} * K_{w,d}\n"
	"Z_{b,h} = Y_{b,2*h,d} where 2*h < I\n"
	"P_{d,l} = K_{0,d} l + S :: map(+)\n"
	"G_{b,0} = 0\n"
	"G_{b,i+1} = G_{b,i} + Y_{b,i,0}   gen i until i == I\n"
	"M_{b} = Y_{b,i,d} :: reduce(max)\n"
	;

static char *mamba_src;
static size_t mamba_len;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[512];
	const char *dir = getenv("MAMBALAYA_SRCDIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/examples/mamba1.ein",
		 dir ? dir : MAMBALAYA_SRCDIR);
	diag_ctx *d = check_load_file(path, CHECK_MAX_SOURCE_BYTES, err,
				      sizeof(err));
	if (!d) {
		fprintf(stderr, "fuzz_defines: %s\n", err);
		abort();
	}
	size_t len;
	const char *src = diag_source(d, &len);
	mamba_src = malloc(len + 1);
	if (!mamba_src)
		abort();
	memcpy(mamba_src, src, len + 1);
	mamba_len = len;
	diag_free(d);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!mamba_src)
		LLVMFuzzerInitialize(NULL, NULL);
	if (size == 0)
		return 0;
	const char *src = conv_src;
	size_t len = sizeof(conv_src) - 1;
	if (data[0] & 1) {
		src = mamba_src;
		len = mamba_len;
	}
	/* A private copy, NUL-terminated, cut into strings at newlines. */
	char *buf = malloc(size);
	if (!buf)
		abort();
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	const char *defs[MAX_DEFINES];
	int n = 0;
	for (char *p = buf; size > 1 && n < MAX_DEFINES;) {
		defs[n++] = p;
		char *nl = memchr(p, '\n', (size_t)(buf + size - 1 - p));
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	fuzz_source(src, len, n, defs, 0);
	free(buf);
	return 0;
}
