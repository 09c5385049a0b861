/* cmd_disasm.c - `mambalaya disasm`: an accelerator stream as assembly. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "isa/asm.h"
#include "isa/mlb.h"

static void usage(void)
{
	printf("Usage: mambalaya disasm FILE.mlb [-o FILE.s]\n"
	       "\n"
	       "Prints an accelerator stream as assembly: the module, target, tensor,\n"
	       "group, descriptor and micro-op tables as directives, then the\n"
	       "instructions (docs/isa.md).  `mambalaya asm` turns the text back into\n"
	       "the same bytes.\n"
	       "\n"
	       "Options:\n"
	       "  -o FILE           write to FILE instead of standard output\n"
	       "  -h, --help        show this help\n");
}

int cmd_disasm(int argc, char **argv)
{
	const char *file = NULL, *out = NULL;
	for (int i = 1; i < argc;) {
		int r = cli_take_value("disasm", "-o", argc, argv, &i, &out);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		r = cli_take_rest("disasm", usage, argv, &i, &file);
		if (r != CLI_ARG_NEXT)
			return cli_rest_status(r);
	}
	if (!file) {
		cli_usage_error("disasm", "FILE is required");
		return CLI_EXIT_USAGE;
	}
	char err[1024];
	mlb_module *m = NULL;
	if (mlb_read_file(file, &m, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: error: %s\n", file, err);
		return CLI_EXIT_USER;
	}
	FILE *f = out ? fopen(out, "w") : stdout;
	int status = CLI_EXIT_OK;
	if (!f) {
		fprintf(stderr, "mambalaya disasm: error: cannot write %s: %s\n", out, strerror(errno));
		status = CLI_EXIT_USER;
	} else {
		if (asm_disassemble(m, f) < 0)
			status = CLI_EXIT_USER;
		if (out && fclose(f) != 0)
			status = CLI_EXIT_USER;
		if (status)
			fprintf(stderr, "mambalaya disasm: error: cannot write %s\n",
				out ? out : "standard output");
	}
	mlb_free(m);
	return status;
}
