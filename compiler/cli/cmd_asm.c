/* cmd_asm.c - `mambalaya asm`: assembly text to an accelerator stream. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "isa/asm.h"
#include "isa/mlb.h"

static void usage(void)
{
	printf("Usage: mambalaya asm FILE.s -o FILE.mlb\n"
	       "\n"
	       "Assembles the text form of an accelerator stream (what `mambalaya\n"
	       "disasm` prints; docs/isa.md) into an .mlb file.  Errors are reported as\n"
	       "FILE.s:LINE:COL: error: ... with the line and a caret.\n"
	       "\n"
	       "Options:\n"
	       "  -o FILE           the .mlb file to write (required)\n"
	       "  -h, --help        show this help\n");
}

/* The whole file (at most 256 MiB); NULL after printing why. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: error: cannot open: %s\n", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		if (cap >= ((size_t)256 << 20)) {
			fprintf(stderr, "%s: error: larger than 256 MiB\n", path);
			free(buf);
			buf = NULL;
			break;
		}
		char *nb = realloc(buf, cap * 2);
		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	if (buf && ferror(f)) {
		fprintf(stderr, "%s: error: read error\n", path);
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

int cmd_asm(int argc, char **argv)
{
	const char *file = NULL, *out = NULL;
	for (int i = 1; i < argc;) {
		int r = cli_take_value("asm", "-o", argc, argv, &i, &out);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		r = cli_take_rest("asm", usage, argv, &i, &file);
		if (r != CLI_ARG_NEXT)
			return cli_rest_status(r);
	}
	if (!file || !out) {
		cli_usage_error("asm", "FILE and -o FILE.mlb are required");
		return CLI_EXIT_USAGE;
	}
	size_t len = 0;
	char *src = slurp(file, &len);
	if (!src)
		return CLI_EXIT_USER;
	mlb_module *m = NULL;
	int status = CLI_EXIT_OK;
	char err[1024];
	if (asm_assemble(file, src, len, &m) < 0) {
		status = CLI_EXIT_USER;
	} else if (mlb_write_file(m, out, err, sizeof(err)) < 0) {
		fprintf(stderr, "mambalaya asm: error: %s\n", err);
		status = CLI_EXIT_USER;
	}
	mlb_free(m);
	free(src);
	return status;
}
