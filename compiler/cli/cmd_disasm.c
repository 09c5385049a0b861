/* cmd_disasm.c - `mambalaya disasm`: an accelerator stream as assembly. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/fsio.h"
#include "cleanup.h"
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
	const char *inputs[] = {file};
	if (cli_refuse_input("disasm", out, inputs, 1))
		return CLI_EXIT_USER;
	char err[1024];
	mlb_module *m = NULL;
	if (mlb_read_file(file, &m, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: error: %s\n", file, err);
		return CLI_EXIT_USER;
	}
	int status = CLI_EXIT_OK;
	if (!out) {
		if (asm_disassemble(m, stdout) < 0 || fflush(stdout) != 0) {
			fprintf(stderr, "mambalaya disasm: error: cannot write standard output\n");
			status = CLI_EXIT_USER;
		}
	} else {
		/* Through a temporary: a failed write leaves no half file. */
		fs_out o;
		int slot = -1;
		cli_cleanup_install();
		if (fs_out_open(&o, out, err, sizeof(err)) < 0) {
			status = CLI_EXIT_USER;
		} else {
			slot = cli_cleanup_add(o.tmp, 0);
			if (asm_disassemble(m, o.f) < 0) {
				snprintf(err, sizeof(err), "%s: cannot write: %s", out, strerror(errno));
				fs_out_abort(&o);
				status = CLI_EXIT_USER;
			} else if (fs_out_commit(&o, err, sizeof(err)) < 0) {
				status = CLI_EXIT_USER;
			}
			cli_cleanup_forget(slot);
		}
		if (status)
			fprintf(stderr, "mambalaya disasm: error: %s\n", err);
	}
	mlb_free(m);
	return status;
}
