/* progress.h - a progress line on the terminal for work that takes more
 * than about a second: "eval: 45%  2.1G points/s  3 s left", rewritten in
 * place on stderr and erased when the work ends.  Nothing is printed when
 * stderr is not a terminal or with --quiet, so logs and pipes stay clean.
 *
 * MAMBALAYA_PROGRESS_AFTER=SECONDS changes the one-second delay (the tests
 * set 0).
 */
#ifndef MAMBALAYA_PROGRESS_H
#define MAMBALAYA_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct cli_progress {
	const char *label; /* what runs: "eval", "sim", ... */
	const char *unit;  /* what done counts: "points", "groups" */
	int on;		   /* a terminal, not --quiet */
	double t0, after, last;
	int shown;	   /* a line is on the screen */
} cli_progress;

void cli_progress_start(cli_progress *p, const char *label, const char *unit, int quiet);
/* done of total (total <= 0: unknown). */
void cli_progress_update(cli_progress *p, double done, double total);
/* A step with no measure ("building the kernel"): shown at once. */
void cli_progress_step(cli_progress *p, const char *what);
/* Erases the line. */
void cli_progress_end(cli_progress *p);
/* Adapter for library callbacks (report_progress_fn and the like). */
void cli_progress_cb(void *ctx, double done, double total);

#include "eval/eval.h"
/* Points of Einsum es's iteration box (what --max-points counts);
 * INT64_MAX when that overflows. */
int64_t cli_einsum_points(const ein_einsum *es);
/* The reference evaluator over every Einsum in order, with a progress line
 * ("eval", in points) unless quiet.  *first_nonfinite (may be NULL): the
 * first Einsum whose output holds NaN or infinity, or -1.  Returns 0, or
 * -1 with msg set (an internal error). */
int cli_evaluate(const ein_cascade *c, eval_tensors *t, int quiet, int *first_nonfinite,
		 char *msg, size_t msglen);

#endif
