/* main.c - the `mambalaya` program: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define MAMBALAYA_VERSION "0.1.0"

typedef struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} command;

static const command commands[] = {
	{"check", cmd_check, "check a source; print a summary or the IR as JSON"},
	{"eval", cmd_eval, "run a cascade with the reference evaluator on .npy data"},
	{"deps", cmd_deps, "dependences: edge classes, passes, halos, sequential ranks"},
	{"fuse", cmd_fuse, "legality of a fusion group, with witness, and its tile footprints"},
	{"groups", cmd_groups, "the legal fusion groups of a cascade (text, JSON, DOT)"},
	{"compile", cmd_compile, "generate C kernels, a driver and a Makefile from a plan"},
	{"run", cmd_run, "compile, build, run on .npy data and check against the evaluator"},
	{"calibrate", cmd_calibrate, "measure this machine as a CPU target (what --arch host uses)"},
	{"plan", cmd_plan, "map a cascade onto an accelerator: groups, tiles, bindings, costs"},
	{"sweep", cmd_sweep, "plan every point of a design-space spec: one CSV or JSON row each"},
	{"report", cmd_report, "the plan as one HTML page: graph, latency, traffic, roofline, sweep"},
	{"sim", cmd_sim, "run an accelerator stream (.mlb) on .npy data under the timing model"},
	{"disasm", cmd_disasm, "print an accelerator stream (.mlb) as assembly"},
	{"asm", cmd_asm, "assemble the text form of an accelerator stream into an .mlb"},
};
#define NCOMMANDS ((int)(sizeof(commands) / sizeof(commands[0])))

static void usage(FILE *out)
{
	fputs("Usage: mambalaya COMMAND [ARGS]...\n"
	      "\n"
	      "A compiler for cascades of extended Einsums (state-space models such\n"
	      "as Mamba): checks them, analyses fusion, maps them onto an\n"
	      "accelerator and generates code.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (int i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'mambalaya COMMAND --help' describes a command.  The language is\n"
	      "described in docs/language.md.\n",
	      out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "help") == 0) {
		if (argc > 2 && strcmp(cmd, "help") == 0) {
			for (int i = 0; i < NCOMMANDS; i++)
				if (strcmp(argv[2], commands[i].name) == 0) {
					char *av[] = {argv[2], "--help", NULL};
					return commands[i].run(2, av);
				}
		}
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("mambalaya %s\n", MAMBALAYA_VERSION);
		return CLI_EXIT_OK;
	}
	for (int i = 0; i < NCOMMANDS; i++)
		if (strcmp(cmd, commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "mambalaya: error: unknown command '%s'\n", cmd);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
