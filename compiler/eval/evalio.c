/* evalio.c - evaluator storage to and from .npy files (see evalio.h). */
#include "evalio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ml_npy.h"

static int64_t shape_of(const ein_tensor *tt, int64_t *shape)
{
	for (int d = 0; d < tt->ndims; d++)
		shape[d] = tt->dims[d].size;
	return tt->nelems;
}

int evalio_load_inputs(const ein_cascade *c, eval_tensors *t, const char *dir)
{
	int bad = 0;
	for (int k = 0; k < c->ntensors; k++) {
		const ein_tensor *tt = &c->tensors[k];
		if (tt->role != EIN_ROLE_INPUT && tt->role != EIN_ROLE_WEIGHT)
			continue;
		char path[4096], err[256];
		snprintf(path, sizeof(path), "%s/%s.npy", dir, tt->name);
		float *data = NULL;
		int nd = 0;
		int64_t shape[NPY_MAX_DIMS], want[EIN_MAX_DIMS];
		if (npy_read_f32(path, &data, &nd, shape, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: error: %s %s: %s\n", path,
				ein_role_name(tt->role), tt->name, err);
			bad = 1;
			continue;
		}
		shape_of(tt, want);
		int same = nd == tt->ndims;
		for (int d = 0; same && d < nd; d++)
			same = shape[d] == want[d];
		if (!same) {
			char a[256], b[256];
			npy_shape_str(tt->ndims, want, a, sizeof(a));
			npy_shape_str(nd, shape, b, sizeof(b));
			fprintf(stderr,
				"%s: error: %s %s has shape %s, but the cascade "
				"expects %s\n",
				path, ein_role_name(tt->role), tt->name, b, a);
			bad = 1;
			free(data);
			continue;
		}
		for (int64_t i = 0; i < tt->nelems; i++)
			t->data[k][i] = (double)data[i];
		free(data);
	}
	return bad ? -1 : 0;
}

int evalio_write(const ein_cascade *c, const eval_tensors *t, const char *dir,
		 int inputs)
{
	for (int k = 0; k < c->ntensors; k++) {
		const ein_tensor *tt = &c->tensors[k];
		int is_in = tt->role == EIN_ROLE_INPUT || tt->role == EIN_ROLE_WEIGHT;
		if (inputs ? !is_in : tt->role != EIN_ROLE_OUTPUT)
			continue;
		float *f = malloc((size_t)(tt->nelems ? tt->nelems : 1) * sizeof(float));
		if (!f) {
			fprintf(stderr, "mambalaya: error: out of memory\n");
			return -1;
		}
		for (int64_t i = 0; i < tt->nelems; i++)
			f[i] = (float)t->data[k][i];
		char path[4096], err[256];
		int64_t shape[EIN_MAX_DIMS];
		shape_of(tt, shape);
		snprintf(path, sizeof(path), "%s/%s.npy", dir, tt->name);
		int r = npy_write_f32(path, f, tt->ndims, shape, err, sizeof(err));
		free(f);
		if (r < 0) {
			fprintf(stderr, "%s: error: %s\n", path, err);
			return -1;
		}
	}
	return 0;
}

double evalio_rel_error(const float *x, const double *ref, int64_t n)
{
	double num = 0, den = 0;
	for (int64_t i = 0; i < n; i++) {
		double r = ref[i], v = (double)x[i];
		double d = fabs(v - r);
		if (d > num)
			num = d;
		if (fabs(r) > den)
			den = fabs(r);
	}
	if (den == 0)
		return num == 0 ? 0 : INFINITY;
	return num / den;
}

int64_t evalio_nonfinite(const float *x, const double *r, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		if ((x && !isfinite(x[i])) || (r && !isfinite(r[i])))
			return i;
	return -1;
}
