/* cmd_asm.c - `mambalaya asm`: assembly text to an accelerator stream. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsio.h"
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
	char *buf, err[1024];
	int r = fs_read_file(path, (size_t)256 << 20, &buf, len, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s: error: %s\n", path,
			r == -2 ? "larger than 256 MiB" : fs_reason(err, path));
		return NULL;
	}
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
	const char *inputs[] = {file};
	if (cli_refuse_input("asm", out, inputs, 1))
		return CLI_EXIT_USER;
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
