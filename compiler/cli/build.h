/* build.h - what `compile` and `run` share: choosing the plan from the
 * command line, emitting the C files, building them with the system
 * compiler, and running the result. */
#ifndef MAMBALAYA_BUILD_H
#define MAMBALAYA_BUILD_H

#include "analysis/deps.h"
#include "cli.h"
#include "codegen/lower.h"

#define BUILD_MAX_GROUPS 64

/* Options common to `compile` and `run`. */
typedef struct build_opts {
	const char *file;
	cli_defines defs;
	const char *plan_file; /* --plan */
	const char *arch;      /* --arch */
	const char *policy;    /* --policy */
	int ngroups;
	const char *groups[BUILD_MAX_GROUPS]; /* --group E1,E2:r=t,... */
	const char *name;		      /* --name */
	int no_blas, no_openmp;
	const char *cflags; /* --cflags, as given */
	char **cflagv;	    /* and split into words (build_check_options) */
	int ncflags;
	int force;	    /* --force: replace files the tool did not write */
	const char *retile; /* --retile, taken only to say it is gone */
	const char *emit;   /* --emit: "c", "stream" or "c,stream" (compile) */
} build_opts;

/* If argv[*i] is one of the options above, takes it and returns 1; 0 if
 * not; -1 after a usage error. */
int build_take_option(const char *cmd, int argc, char **argv, int *i,
		      build_opts *o);

/* Checks and prepares what the options say once all are taken: splits
 * --cflags into words (cli_split_words).  Returns 0 or -1 after a usage
 * error. */
int build_check_options(const char *cmd, build_opts *o);
/* Frees what build_check_options made. */
void build_opts_clear(build_opts *o);

/* The kernel's name (build_name) and whether it can name its files;
 * returns 0 or -1 after a usage error. */
int build_kernel_name(const char *cmd, const build_opts *o, char *buf, size_t len);

/* Text for --help describing those options. */
extern const char build_options_help[];

/* The target the mapper plans for: --arch, else "mambalaya" when an
 * instruction stream is emitted, else "host" (this CPU). */
const char *build_arch(const build_opts *o);

/* Builds the plan the options ask for.  A plan made on a cascade
 * rewritten for recompute fusion (policy recompute, or a --plan file
 * with "recompute") replaces *c and *g by the rewritten cascade and its
 * graph (the old ones freed), which generation must then use.  Returns
 * 0, or a CLI exit status after printing the error. */
int build_plan(const build_opts *o, ein_cascade **c, deps_graph **g, cg_plan *p);

struct plan;
/* The same; *kept receives the mapper's or the --plan file's plan (its
 * bindings, retention and target, for the accelerator stream), or NULL
 * for a plan made without the mapper.  The caller frees it with
 * plan_free(). */
int build_plan_keep(const build_opts *o, ein_cascade **c, deps_graph **g, cg_plan *p,
		    struct plan **kept);

/* The C identifier for the generated files: --name, or the source file's
 * base name made an identifier. */
void build_name(const build_opts *o, char *buf, size_t len);

/* Builds DIR/NAME from the generated files with the C compiler ($CC split
 * into words, or cc) and the options' flags, as the Makefile's rule does,
 * without a shell or make.  Quiet unless it fails.  Returns 0, or an exit
 * status after printing why: CLI_EXIT_USER when the compiler cannot run or
 * fails with the user's --cflags, CLI_EXIT_INTERNAL when the generated code
 * does not build with the default flags (a bug). */
int build_program(const char *dir, const char *name, const build_opts *o);

#endif
