/* calibrate.h - the CPU target of this machine, measured: caches from
 * sysfs, and a probe program (runtime/ml_probe.c) built and run as
 * generated kernels are, for the BLAS's rate by product shape, DRAM
 * bandwidth and the rate of every elementwise operation.  `mambalaya
 * calibrate` writes the result; `--arch host` reads it from a cache,
 * calibrating once when there is none (docs/target.md, "CPU targets").
 *
 * What cannot be measured (no sysfs cache data, no C compiler or BLAS,
 * one core) falls back to target_cpu_defaults() and the result says so in
 * its assumptions and in the note.
 *
 * Ownership: returned JSON and targets belong to the caller.
 */
#ifndef MAMBALAYA_CALIBRATE_H
#define MAMBALAYA_CALIBRATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "target.h"

/* Measures this machine for about `seconds` of probing and returns a CPU
 * target named "host" as JSON.  note receives "" or one line per value
 * that fell back to a default, saying why.  Returns NULL with a message
 * in err only on an internal failure (out of memory, no temporary
 * directory). */
__attribute__((warn_unused_result)) cJSON *calibrate_measure(double seconds, char *note,
							     size_t notelen, char *err,
							     size_t errlen);

/* The file --arch host reads: $MAMBALAYA_HOST_TARGET when set, else
 * $XDG_CACHE_HOME/mambalaya/host.json (~/.cache when XDG_CACHE_HOME is
 * unset).  Returns 0, or -1 when neither HOME nor XDG_CACHE_HOME is set
 * or the path does not fit. */
int calibrate_cache_path(char *buf, size_t len);

/* What calibrate_host did besides reading the cache. */
enum { CALIBRATE_CACHED = 0, CALIBRATE_NEW = 1, CALIBRATE_STALE = 2 };

/* The host target: the cached calibration, or a new one measured and
 * written to the cache when there is none (*measured = CALIBRATE_NEW) or
 * when the cached one was measured with another kernels' runtime (its
 * "runtime" field differs: *measured = CALIBRATE_STALE).  NULL with a
 * message in err ("PATH: error: ..." for a bad cache file). */
target *calibrate_host(int *measured, char *err, size_t errlen);

#endif
