/* mambalaya.h - the compiler as a library: the C API that the Python
 * package (python/mambalaya) binds, built as libmambalaya.so beside the
 * command line's static library.
 *
 * A cascade is loaded once (a file or a text, with parameter overrides)
 * and then checked, analysed, planned, evaluated, compiled and run, or
 * simulated.  What the command line prints as JSON comes back as the same
 * JSON text; tensors go in and out as float32 arrays in C order that the
 * caller owns (no copies for kernels: the kernel reads and writes them).
 *
 * Errors: a function that fails returns NULL or a nonzero status
 * (MAMBALAYA_EUSER: the input is wrong; MAMBALAYA_EINTERNAL: a bug, an
 * out-of-memory) and sets *err to the message, which the caller frees
 * with mambalaya_free.  For an error in a source the message is the
 * compiler's diagnostics, as `mambalaya check` prints them
 * (`file:line:col: error: ...`, the line, a caret, hints).  err may be
 * NULL.  Nothing here exits, aborts or prints.
 *
 * Threads: there is no global state.  Different cascades may be used from
 * different threads at once; one cascade (and the kernels opened from it)
 * from one thread at a time.
 *
 * Ownership: mambalaya_load* give a cascade freed with
 * mambalaya_cascade_free; strings returned (char *) are freed with
 * mambalaya_free; a kernel is closed with mambalaya_kernel_close.
 */
#ifndef MAMBALAYA_H
#define MAMBALAYA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility: these are its exports. */
#if defined(__GNUC__)
#define MAMBALAYA_API __attribute__((visibility("default")))
#else
#define MAMBALAYA_API
#endif

#define MAMBALAYA_OK 0
#define MAMBALAYA_EUSER 1
#define MAMBALAYA_EINTERNAL 3

typedef struct mambalaya_cascade mambalaya_cascade;
typedef struct mambalaya_kernel mambalaya_kernel;

/* A tensor handed over: its name and nelems float32 values in C order
 * (exactly the tensor's shape, which the IR gives). */
typedef struct mambalaya_tensor {
	const char *name;
	float *data;
	int64_t nelems;
} mambalaya_tensor;

/* Loads and checks a cascade from a file, or from text (name: what
 * diagnostics call it).  defines: ndefines "NAME=VALUE" overrides. */
MAMBALAYA_API mambalaya_cascade *mambalaya_load(const char *path, const char *const *defines, int ndefines,
				  char **err);
MAMBALAYA_API mambalaya_cascade *mambalaya_load_source(const char *name, const char *text,
					 const char *const *defines, int ndefines, char **err);
MAMBALAYA_API void mambalaya_cascade_free(mambalaya_cascade *c);
MAMBALAYA_API void mambalaya_free(void *p);

/* The checked IR (`check --dump-ir=json`), the dependences (`deps
 * --json`), the legal groups (`groups --json`). */
MAMBALAYA_API char *mambalaya_ir_json(mambalaya_cascade *c, char **err);
MAMBALAYA_API char *mambalaya_deps_json(mambalaya_cascade *c, char **err);
MAMBALAYA_API char *mambalaya_groups_json(mambalaya_cascade *c, char **err);

/* The mapper's plan (`plan --json`): arch a built-in target or a JSON file
 * (NULL: mambalaya); policy unfused, ssm-ri or full (NULL: full);
 * buffer_bytes > 0 overrides the target's buffer. */
MAMBALAYA_API char *mambalaya_plan_json(mambalaya_cascade *c, const char *arch, const char *policy,
			  int64_t buffer_bytes, char **err);

/* The HTML report (`mambalaya report`): one self-contained page, for the
 * same arch, policy and buffer_bytes as mambalaya_plan_json.  sweep: the
 * buffer sweep's reach, the buffer halved and doubled up to sweep times
 * (0: no sweep).  in (nin tensors: every input and weight), or NULL: the
 * plan's stream simulated on them (timeline, occupancy). */
MAMBALAYA_API char *mambalaya_report_html(mambalaya_cascade *c, const char *arch, const char *policy,
			    int64_t buffer_bytes, int sweep, const mambalaya_tensor *in,
			    int nin, char **err);

/* The reference evaluator: in holds every input and weight (by name),
 * out the outputs to fill (any subset).  Returns a status. */
MAMBALAYA_API int mambalaya_eval(mambalaya_cascade *c, const mambalaya_tensor *in, int nin,
		   mambalaya_tensor *out, int nout, char **err);

/* A compiled kernel, loaded in this process: the mapper's plan for arch
 * (NULL or "host": this CPU, as calibrated by `mambalaya calibrate`) and
 * policy (NULL: full).  cflags: the C compiler's flags (NULL: the default, as
 * compile's); cache_dir: where built kernels are kept, one directory per
 * hash of the source, the parameters, the plan, the flags and this
 * library's version, written atomically and checked before use (a
 * corrupted entry is rebuilt).  The C compiler is $CC or cc. */
MAMBALAYA_API mambalaya_kernel *mambalaya_kernel_open(mambalaya_cascade *c, const char *arch,
					const char *policy, const char *cflags,
					const char *cache_dir, char **err);
/* Runs it: in every input and weight, out every output (by name, any
 * order).  Returns a status. */
MAMBALAYA_API int mambalaya_kernel_run(mambalaya_kernel *k, const mambalaya_tensor *in, int nin,
			 mambalaya_tensor *out, int nout, char **err);
/* The directory of its cache entry (its files: NAME.c, libNAME.so, ...). */
MAMBALAYA_API const char *mambalaya_kernel_dir(const mambalaya_kernel *k);
MAMBALAYA_API void mambalaya_kernel_close(mambalaya_kernel *k);

/* The accelerator: the stream of the plan (arch, policy as above; NULL:
 * mambalaya, full) run by the simulator on in; out filled; *stats the
 * simulator's statistics as JSON (`sim --json`).  Returns a status. */
MAMBALAYA_API int mambalaya_simulate(mambalaya_cascade *c, const char *arch, const char *policy,
		       const mambalaya_tensor *in, int nin, mambalaya_tensor *out, int nout,
		       char **stats, char **err);

/* The library's version ("major.minor"). */
MAMBALAYA_API const char *mambalaya_version(void);

#ifdef __cplusplus
}
#endif

#endif
