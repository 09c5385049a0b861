/* npycmp.c - compare float32 .npy tensors of two directories.
 *
 *   npycmp DIR_A DIR_B NAME... [--tol T]
 *
 * For each NAME, compares DIR_A/NAME.npy with DIR_B/NAME.npy (B is the
 * reference).  The shapes must match.  Over the elements that are finite in
 * both files,
 *     max_abs_err = max_i |a_i - b_i|
 *     rel_err     = max_abs_err / max(max_i |b_i|, 1e-30)
 * A NaN or infinity is accepted only where both files hold the same
 * non-finite value (NaN and NaN, +inf and +inf, -inf and -inf); anywhere
 * else it is a failure.  One line per tensor:
 *     NAME: shape (..) max_abs_err=.. rel_err=.. worst=[i,j,..] a=.. b=.. OK|FAIL
 *
 * Exit status: 0 if every tensor passes, 1 if any fails (rel_err > T, default
 * 1e-5; non-finite mismatch; shape mismatch; unreadable or missing file),
 * 2 on a usage error.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml_npy.h"

#define PROG "npycmp"
#define DEFAULT_TOL 1e-5

/* Same non-finite class: both NaN, or both the same infinity. */
static int same_nonfinite(float a, float b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return isinf(a) && isinf(b) && signbit(a) == signbit(b);
}

/* Writes the multi-index of flat element i as "[i0,i1,..]" into buf. */
static void index_str(int64_t i, int ndim, const int64_t *shape, char *buf, size_t len)
{
	int64_t idx[NPY_MAX_DIMS];
	size_t pos = 0;

	for (int k = ndim - 1; k >= 0; k--) {
		idx[k] = shape[k] > 0 ? i % shape[k] : 0;
		i = shape[k] > 0 ? i / shape[k] : 0;
	}
	buf[0] = '\0';
	for (int k = 0; k < ndim && pos < len; k++) {
		int n = snprintf(buf + pos, len - pos, "%s%" PRId64, k ? "," : "[", idx[k]);

		if (n < 0)
			return;
		pos += (size_t)n;
	}
	if (pos < len)
		snprintf(buf + pos, len - pos, "%s", ndim > 0 ? "]" : "[]");
}

static int npy_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s.npy", dir, name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Compares one tensor and prints its line.  Returns 0 if it passes. */
static int compare_one(const char *dir_a, const char *dir_b, const char *name, double tol)
{
	char path_a[4096], path_b[4096], err[512], sa[256], sb[256], widx[256];
	float *a = NULL, *b = NULL;
	int64_t shape_a[NPY_MAX_DIMS], shape_b[NPY_MAX_DIMS];
	int nd_a = 0, nd_b = 0, same, rc = -1;
	int64_t n = 1, worst = -1, bad_nonfinite = 0, first_bad = -1;
	double max_abs = 0.0, max_ref = 0.0, rel;

	if (npy_path(path_a, sizeof path_a, dir_a, name) != 0 ||
	    npy_path(path_b, sizeof path_b, dir_b, name) != 0) {
		printf("%s: path too long FAIL\n", name);
		goto cleanup;
	}
	if (npy_read_f32(path_a, &a, &nd_a, shape_a, err, sizeof err) != 0) {
		printf("%s: cannot read %s: %s FAIL\n", name, path_a, err);
		goto cleanup;
	}
	if (npy_read_f32(path_b, &b, &nd_b, shape_b, err, sizeof err) != 0) {
		printf("%s: cannot read %s: %s FAIL\n", name, path_b, err);
		goto cleanup;
	}
	npy_shape_str(nd_a, shape_a, sa, sizeof sa);
	npy_shape_str(nd_b, shape_b, sb, sizeof sb);
	same = nd_a == nd_b;
	for (int k = 0; same && k < nd_a; k++)
		same = shape_a[k] == shape_b[k];
	if (!same) {
		printf("%s: shape mismatch %s vs %s FAIL\n", name, sa, sb);
		goto cleanup;
	}
	for (int k = 0; k < nd_a; k++)
		n *= shape_a[k];

	for (int64_t i = 0; i < n; i++) {
		double d;

		if (!isfinite(a[i]) || !isfinite(b[i])) {
			if (!same_nonfinite(a[i], b[i])) {
				if (bad_nonfinite++ == 0)
					first_bad = i;
			}
			continue;
		}
		d = fabs((double)a[i] - (double)b[i]);
		if (worst < 0 || d > max_abs) {
			max_abs = d;
			worst = i;
		}
		if (fabs((double)b[i]) > max_ref)
			max_ref = fabs((double)b[i]);
	}
	rel = max_abs / (max_ref > 1e-30 ? max_ref : 1e-30);

	printf("%s: shape %s max_abs_err=%.3e rel_err=%.3e", name, sa, max_abs, rel);
	if (worst >= 0) {
		index_str(worst, nd_a, shape_a, widx, sizeof widx);
		printf(" worst=%s a=%.9g b=%.9g", widx, (double)a[worst], (double)b[worst]);
	}
	if (bad_nonfinite > 0) {
		index_str(first_bad, nd_a, shape_a, widx, sizeof widx);
		printf(" nonfinite_mismatch=%" PRId64 " first=%s a=%g b=%g", bad_nonfinite, widx,
		       (double)a[first_bad], (double)b[first_bad]);
	}
	if (rel > tol || bad_nonfinite > 0) {
		printf(" FAIL\n");
		goto cleanup;
	}
	printf(" OK\n");
	rc = 0;
cleanup:
	free(a);
	free(b);
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: " PROG " DIR_A DIR_B NAME... [--tol T]\n");
}

int main(int argc, char **argv)
{
	const char *pos[2] = {NULL, NULL};
	double tol = DEFAULT_TOL;
	int npos = 0, nnames = 0, failed = 0;

	/* First pass: options and the two directories. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tol") == 0) {
			char *end;

			if (i + 1 >= argc) {
				fprintf(stderr, PROG ": --tol needs a value\n");
				usage();
				return 2;
			}
			errno = 0;
			tol = strtod(argv[++i], &end);
			if (argv[i][0] == '\0' || *end != '\0' || errno != 0 || !(tol >= 0.0) ||
			    !isfinite(tol)) {
				fprintf(stderr, PROG ": --tol %s: expected a finite number >= 0\n",
					argv[i]);
				return 2;
			}
		} else if (strncmp(argv[i], "--", 2) == 0) {
			fprintf(stderr, PROG ": unknown option %s\n", argv[i]);
			usage();
			return 2;
		} else if (npos < 2) {
			pos[npos++] = argv[i];
		} else {
			nnames++;
		}
	}
	if (npos < 2 || nnames == 0) {
		usage();
		return 2;
	}
	/* Second pass: the tensor names, in order. */
	npos = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tol") == 0) {
			i++;
			continue;
		}
		if (npos < 2) {
			npos++;
			continue;
		}
		if (compare_one(pos[0], pos[1], argv[i], tol) != 0)
			failed = 1;
	}
	return failed;
}
