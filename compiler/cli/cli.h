/* cli.h - what the subcommands of the `mambalaya` program share: option
 * parsing helpers, loading and checking a source, and exit statuses.
 *
 * Exit statuses: 0 success, 1 the input is wrong (diagnostics say why),
 * 2 the command line is wrong, 3 internal error (a bug).
 *
 * Ownership: what cli_load and cli_analyse return belongs to the caller
 * (ein_cascade_free, cli_analysis_free); option values point into argv.
 */
#ifndef MAMBALAYA_CLI_H
#define MAMBALAYA_CLI_H

#include "front/cascade.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_USER 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_INTERNAL 3
/* Not an exit status: what a command's argument parser returns when the
 * command goes on. */
#define CLI_CONTINUE (-1)

#define CLI_MAX_DEFINES 64

typedef struct cli_defines {
	int n;
	const char *v[CLI_MAX_DEFINES];
} cli_defines;

/* If argv[*i] is -D NAME=VALUE (or -DNAME=VALUE, --define NAME=VALUE),
 * records it, advances *i past it and returns 1; returns 0 if argv[*i] is
 * something else, -1 after printing a usage error. */
int cli_take_define(const char *cmd, int argc, char **argv, int *i,
		    cli_defines *d);

/* If argv[*i] is `--name VALUE` or `--name=VALUE`, sets *value, advances
 * *i and returns 1; 0 if it is not; -1 (after a usage error) if the value is
 * missing. */
int cli_take_value(const char *cmd, const char *name, int argc, char **argv,
		   int *i, const char **value);

/* Prints "mambalaya CMD: error: ...", then a pointer to --help. */
void cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Reads, parses and checks file with the -D overrides.  Prints the
 * diagnostics (errors and warnings) to stderr.  Returns the cascade, or NULL
 * with *status set to CLI_EXIT_USER or CLI_EXIT_INTERNAL. */
ein_cascade *cli_load(const char *file, const cli_defines *d, int *status);

/* Parses --random's SEED (a non-negative integer).  Returns 0, or -1
 * after a usage error. */
int cli_parse_seed(const char *cmd, const char *s, uint64_t *seed);

/* What the reference evaluator may use: bytes of tensors (held in double)
 * and points of the Einsums' iteration spaces in all. */
typedef struct cli_limits {
	int64_t max_memory;
	int64_t max_points;
} cli_limits;
/* --max-memory and --max-points (either may be NULL: the defaults, 8G
 * and 1024G).  Returns 0, or -1 after a usage error. */
int cli_parse_limits(const char *cmd, const char *mem_s, const char *pts_s, cli_limits *l);
/* Refuses a cascade that needs more: the error is at the tensor or Einsum
 * that crosses the limit, with a hint.  Returns CLI_EXIT_OK with *bytes
 * the tensors' size in double, or CLI_EXIT_USER. */
int cli_check_limits(const char *file, const ein_cascade *c, const cli_limits *l,
		     int64_t *bytes);

/* An output path that is one of the command's inputs (the same file)
 * is refused before anything is written: returns CLI_EXIT_USER after
 * printing "mambalaya CMD: error: OUT would replace INPUT, an input of
 * this command", else 0. */
int cli_refuse_input(const char *cmd, const char *out, const char *const *inputs, int n);

/* What a command does with an argument none of its own options took:
 * -h/--help prints the usage (CLI_ARG_HELP), an unknown option or a second
 * FILE is a usage error (CLI_ARG_BAD), anything else is the FILE
 * (CLI_ARG_NEXT, *i advanced). */
enum { CLI_ARG_NEXT, CLI_ARG_HELP, CLI_ARG_BAD };
int cli_take_rest(const char *cmd, void (*usage)(void), char **argv, int *i,
		  const char **file);

/* The status a command returns for a cli_take_rest result other than
 * CLI_ARG_NEXT. */
int cli_rest_status(int r);

struct deps_graph;
typedef struct isl_ctx isl_ctx;
/* Reads, checks and analyses FILE (cli_load, then the dependences).  Returns
 * 0 with *c, *ctx and *g set (free them with cli_analysis_free), or an exit
 * status after printing why. */
int cli_analyse(const char *file, const cli_defines *d, ein_cascade **c,
		isl_ctx **ctx, struct deps_graph **g);
void cli_analysis_free(ein_cascade *c, isl_ctx *ctx, struct deps_graph *g);

typedef struct cJSON cJSON;
/* Reads a JSON file of at most max bytes (a plan, a sweep spec).  Returns
 * it (cJSON_Delete), or NULL after printing "PATH: error: ..." or
 * "PATH:LINE:COL: error: invalid JSON" (a user error). */
cJSON *cli_read_json(const char *path, size_t max);

struct target;
/* The target --arch names (a built-in or a JSON file; target_resolve).
 * NULL after printing why, with *status CLI_EXIT_USAGE for an unknown
 * name, CLI_EXIT_USER for a bad file. */
struct target *cli_target(const char *cmd, const char *arch, int *status);

/* Subcommands: each returns an exit status. */
int cmd_check(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_deps(int argc, char **argv);
int cmd_fuse(int argc, char **argv);
int cmd_groups(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_asm(int argc, char **argv);
int cmd_disasm(int argc, char **argv);

#endif
