/* evalio.h - moving evaluator storage to and from .npy files.  The caller
 * keeps the storage (eval.h); these functions only read or fill it. */
#ifndef MAMBALAYA_EVALIO_H
#define MAMBALAYA_EVALIO_H

#include "eval.h"
#include "front/cascade.h"

/* Reads every input and weight of c from DIR/NAME.npy into t (float32,
 * exactly the declared shape).  Prints one error per bad file to stderr;
 * returns 0 or -1. */
int evalio_load_inputs(const ein_cascade *c, eval_tensors *t, const char *dir);

/* Writes the inputs and weights (inputs != 0) or the outputs of c from t to
 * DIR/NAME.npy, each atomically.  Returns 0 or -1 after printing why. */
int evalio_write(const ein_cascade *c, const eval_tensors *t, const char *dir,
		 int inputs);

/* Largest relative error of a float32 result against the reference values:
 * max |x - r| / max |r| (0 when both are all zero).  Meaningful only when
 * both are finite everywhere (evalio_nonfinite): NaN compares equal to
 * nothing, so a comparison of NaN with NaN proves nothing. */
double evalio_rel_error(const float *x, const double *ref, int64_t n);

/* The first element of x (float32) or r (double) that is NaN or infinite,
 * or -1; either array may be NULL. */
int64_t evalio_nonfinite(const float *x, const double *r, int64_t n);

#endif
