/* ml_npy.h - reading and writing NumPy .npy files holding float32 data.
 *
 * Only the subset mambalaya needs: little-endian float32 ('<f4') in C order.
 * Reading accepts format versions 1.0, 2.0 and 3.0; writing produces 1.0 with
 * the same bytes numpy itself writes. */
#ifndef MAMBALAYA_NPY_H
#define MAMBALAYA_NPY_H

#include <stddef.h>
#include <stdint.h>

#define NPY_MAX_DIMS 8

/* Reads a .npy file (format version 1.0, 2.0 or 3.0) whose dtype is
 * little-endian float32 ('<f4') in C order (fortran_order False).
 *
 * On success returns 0; *data is a malloc'ed array of the elements that the
 * caller owns and frees with free() (never NULL, even for zero elements),
 * *ndim and shape[0..ndim) are set. A 0-d array (shape ()) has ndim 0 and one
 * element.
 *
 * On failure returns -1, *data is NULL, *ndim is 0, and err (size errlen,
 * always NUL-terminated when errlen > 0) holds a one-line message without the
 * path, e.g. "dtype is '<f8', expected float32 ('<f4')" or
 * "cannot open: No such file or directory".
 *
 * Never reads out of bounds on malformed input. Rejects headers longer than
 * 1 MiB, more than NPY_MAX_DIMS dimensions, negative dimensions, element
 * counts whose byte size overflows or differs from the data in the file
 * (truncation or trailing garbage). Only regular files are accepted. */
int npy_read_f32(const char *path, float **data, int *ndim, int64_t shape[NPY_MAX_DIMS], char *err,
                 size_t errlen);

/* Same as npy_read_f32, but parses the len bytes at buf (used by the file
 * reader's tests and by fuzzers). buf stays owned by the caller and is not
 * retained; *data is a fresh malloc'ed copy owned by the caller. */
int npy_parse_f32(const unsigned char *buf, size_t len, float **data, int *ndim, int64_t shape[NPY_MAX_DIMS],
                  char *err, size_t errlen);

/* Writes data (prod(shape) floats, borrowed, not retained) as a version 1.0
 * .npy file ('<f4', C order, header padded with spaces and a final '\n' so the
 * data starts at a multiple of 64 bytes, byte-identical to numpy's np.save).
 *
 * Atomic: writes to path + ".tmp.<pid>" in the same directory, fsyncs, then
 * rename()s over path. On any failure the temporary file is removed, an
 * existing file at path is left untouched, and -1 is returned with a message
 * in err (always NUL-terminated when errlen > 0). Returns 0 on success.
 * Two threads of one process must not write the same path concurrently (they
 * would share the temporary name). */
int npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape, char *err,
                  size_t errlen);

/* Formats a shape as numpy prints it, "(2, 3, 4)", "(5,)" or "()" for 0-d,
 * into buf (size len, caller owned; truncated and always NUL-terminated when
 * len > 0). An ndim outside [0, NPY_MAX_DIMS] is written as "(?)". */
void npy_shape_str(int ndim, const int64_t *shape, char *buf, size_t len);

/* Creates a new file from tmpl, whose last six characters "XXXXXX" are
 * replaced by others until the name is new: opened with O_CREAT | O_EXCL |
 * O_NOFOLLOW (nothing already there, a symbolic link included, is ever
 * opened), mode 0666 less the umask.  Returns the descriptor, or -1 with
 * errno set.  The temporaries of every atomic write use it. */
int npy_create_unique(char *tmpl);

#endif /* MAMBALAYA_NPY_H */
