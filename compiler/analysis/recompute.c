/* recompute.c - recompute fusion as a rewrite of the cascade (see
 * recompute.h). */
#include "recompute.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A reduction over at most this many points is cheap to run again (a
 * convolution's taps); more is a projection, which a copy would repeat. */
#define RECOMPUTE_CHEAP_REDUCTION 16

/* May Einsum e run again in a copy? */
static int cheap(const ein_cascade *c, int e)
{
	const ein_einsum *es = &c->einsums[e];
	if (es->gen_var >= 0 || ein_einsum_reads(es, es->out.tensor))
		return 0;
	int64_t red = 1;
	for (int v = 0; v < es->nvars; v++)
		if (es->vars[v].reduced)
			red *= es->vars[v].size;
	return red <= RECOMPUTE_CHEAP_REDUCTION;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int recompute_chain(const ein_cascade *c, int t, int *chain, int max)
{
	const ein_tensor *tt = &c->tensors[t];
	if (tt->role == EIN_ROLE_INPUT || tt->role == EIN_ROLE_WEIGHT || tt->nwriters == 0)
		return 0;
	int n = 0, ntodo = 0;
	char *seen = calloc((size_t)c->ntensors, 1);
	int *todo = malloc((size_t)c->ntensors * sizeof(int));
	if (!seen || !todo) {
		free(seen);
		free(todo);
		return 0;
	}
	todo[ntodo++] = t;
	seen[t] = 1;
	while (ntodo > 0) {
		int x = todo[--ntodo];
		const ein_tensor *xt = &c->tensors[x];
		/* The tensor itself must be recomputable; anything else is read
		 * as it is unless all its writers are cheap (outputs, inputs and
		 * weights are in DRAM anyway). */
		int all = xt->nwriters > 0 && xt->nwriters <= max - n;
		for (int i = 0; i < xt->nwriters && all; i++)
			all = cheap(c, xt->writers[i]);
		if (x != t && (xt->role != EIN_ROLE_TEMP || !all))
			continue;
		if (x == t && !all) {
			n = 0;
			break;
		}
		for (int i = 0; i < xt->nwriters; i++) {
			const ein_einsum *w = &c->einsums[xt->writers[i]];
			chain[n++] = xt->writers[i];
			for (int r = 0; r < w->nreads; r++) {
				int y = w->reads[r].tensor;
				if (!seen[y]) {
					seen[y] = 1;
					todo[ntodo++] = y;
				}
			}
		}
	}
	free(seen);
	free(todo);
	qsort(chain, (size_t)n, sizeof(int), cmp_int);
	return n;
}

int recompute_candidates(const ein_cascade *c, recompute_spec *out, int max)
{
	int n = 0;
	for (int t = 0; t < c->ntensors && n < max; t++) {
		const ein_tensor *tt = &c->tensors[t];
		if (tt->nreaders < 2 || tt->nreaders > RECOMPUTE_MAX_READERS)
			continue;
		recompute_spec s = {.tensor = t};
		s.nchain = recompute_chain(c, t, s.chain, RECOMPUTE_MAX_CHAIN);
		if (s.nchain == 0)
			continue;
		for (int k = 1; k < tt->nreaders && n < max; k++) {
			s.nreaders = 0;
			for (int i = k; i < tt->nreaders; i++)
				s.readers[s.nreaders++] = tt->readers[i];
			char e[160];
			if (recompute_check(c, &s, e, sizeof(e)) == 0)
				out[n++] = s;
		}
	}
	return n;
}

/* Is Einsum e in list l[0..n)? */
static int in_list(const int *l, int n, int e)
{
	for (int i = 0; i < n; i++)
		if (l[i] == e)
			return 1;
	return 0;
}

int recompute_check(const ein_cascade *c, const recompute_spec *s, char *err, size_t errlen)
{
	if (s->tensor < 0 || s->tensor >= c->ntensors) {
		snprintf(err, errlen, "no such tensor");
		return -1;
	}
	const ein_tensor *tt = &c->tensors[s->tensor];
	if (s->nchain < 1 || s->nchain > RECOMPUTE_MAX_CHAIN || s->nreaders < 1 ||
	    s->nreaders > RECOMPUTE_MAX_READERS) {
		snprintf(err, errlen, "'%s': the chain needs 1 to %d Einsums and 1 to %d readers",
			 tt->name, RECOMPUTE_MAX_CHAIN, RECOMPUTE_MAX_READERS);
		return -1;
	}
	for (int i = 0; i < s->nchain; i++) {
		int e = s->chain[i];
		if (e < 0 || e >= c->neinsums || (i && e <= s->chain[i - 1])) {
			snprintf(err, errlen, "'%s': the chain's Einsums must be distinct, in source order",
				 tt->name);
			return -1;
		}
		if (c->einsums[e].gen_var >= 0 || ein_einsum_reads(&c->einsums[e], c->einsums[e].out.tensor)) {
			snprintf(err, errlen, "'%s': '%s' is a recurrence and cannot be recomputed",
				 tt->name, c->einsums[e].name);
			return -1;
		}
		/* A tensor the chain makes must be made by it whole. */
		const ein_tensor *w = &c->tensors[c->einsums[e].out.tensor];
		for (int k = 0; k < w->nwriters; k++)
			if (!in_list(s->chain, s->nchain, w->writers[k])) {
				snprintf(err, errlen, "'%s': '%s' also writes '%s' and is not in the chain",
					 tt->name, c->einsums[w->writers[k]].name, w->name);
				return -1;
			}
	}
	for (int k = 0; k < tt->nwriters; k++)
		if (!in_list(s->chain, s->nchain, tt->writers[k])) {
			snprintf(err, errlen, "'%s': the chain does not make it", tt->name);
			return -1;
		}
	for (int i = 0; i < s->nreaders; i++) {
		int e = s->readers[i];
		if (e < 0 || e >= c->neinsums || (i && e <= s->readers[i - 1]) ||
		    !ein_einsum_reads(&c->einsums[e], s->tensor) || in_list(s->chain, s->nchain, e)) {
			snprintf(err, errlen,
				 "'%s': the readers must be distinct Einsums that read it, in source order, "
				 "outside the chain",
				 tt->name);
			return -1;
		}
	}
	/* The copy runs just before the first reader: what the chain reads
	 * from outside must be complete by then. */
	int first = s->readers[0];
	if (s->chain[s->nchain - 1] >= first) {
		snprintf(err, errlen, "'%s': the readers must come after the chain", tt->name);
		return -1;
	}
	for (int i = 0; i < s->nchain; i++) {
		const ein_einsum *es = &c->einsums[s->chain[i]];
		for (int r = 0; r < es->nreads; r++) {
			const ein_tensor *in = &c->tensors[es->reads[r].tensor];
			int made = 0;
			for (int k = 0; k < in->nwriters && !made; k++)
				made = in_list(s->chain, s->nchain, in->writers[k]);
			for (int k = 0; k < in->nwriters && !made; k++)
				if (in->writers[k] >= first) {
					snprintf(err, errlen,
						 "'%s': '%s' reads '%s', which '%s' writes after the first reader",
						 tt->name, es->name, in->name, c->einsums[in->writers[k]].name);
					return -1;
				}
		}
	}
	return 0;
}

static ein_expr *copy_expr(const ein_expr *x)
{
	ein_expr *y = malloc(sizeof(*y));
	if (!y)
		return NULL;
	*y = *x;
	y->a = y->b = NULL;
	if (x->a && !(y->a = copy_expr(x->a)))
		goto fail;
	if (x->b && !(y->b = copy_expr(x->b)))
		goto fail;
	return y;
fail:
	ein_expr_free(y);
	return NULL;
}

/* Deep copy of Einsum *src into *dst (dst->index and links set later).
 * Returns 0 or -1 (out of memory; *dst is then freeable). */
static int copy_einsum(ein_einsum *dst, const ein_einsum *src)
{
	*dst = *src;
	dst->name = NULL;
	dst->rhs = NULL;
	dst->reads = NULL;
	dst->conds = NULL;
	for (int v = 0; v < src->nvars; v++)
		dst->vars[v].name = NULL;
	dst->name = strdup(src->name);
	if (src->rhs)
		dst->rhs = copy_expr(src->rhs);
	if (src->nreads) {
		dst->reads = malloc((size_t)src->nreads * sizeof(*dst->reads));
		if (dst->reads)
			memcpy(dst->reads, src->reads, (size_t)src->nreads * sizeof(*dst->reads));
	}
	if (src->nconds) {
		dst->conds = malloc((size_t)src->nconds * sizeof(*dst->conds));
		if (dst->conds)
			memcpy(dst->conds, src->conds, (size_t)src->nconds * sizeof(*dst->conds));
	}
	int ok = dst->name && (!src->rhs || dst->rhs) && (!src->nreads || dst->reads) &&
		 (!src->nconds || dst->conds);
	for (int v = 0; v < src->nvars; v++)
		ok = (dst->vars[v].name = strdup(src->vars[v].name)) && ok;
	return ok ? 0 : -1;
}

static int copy_tensor(ein_tensor *dst, const ein_tensor *src)
{
	*dst = *src;
	dst->writers = dst->readers = NULL;
	dst->nwriters = dst->nreaders = 0;
	dst->name = strdup(src->name);
	int ok = dst->name != NULL;
	for (int d = 0; d < src->ndims; d++)
		ok = (dst->dims[d].rank = strdup(src->dims[d].rank)) && ok;
	return ok ? 0 : -1;
}

/* Is name taken by a tensor or an Einsum of the cascade under
 * construction (nt tensors, ne Einsums so far)? */
static int taken(const ein_cascade *c, int nt, int ne, const char *name)
{
	for (int t = 0; t < nt; t++)
		if (c->tensors[t].name && strcmp(c->tensors[t].name, name) == 0)
			return 1;
	for (int e = 0; e < ne; e++)
		if (c->einsums[e].name && strcmp(c->einsums[e].name, name) == 0)
			return 1;
	return 0;
}

/* base + "_r", or "_r2", "_r3", ... when taken in c or in o. */
static void fresh_name(const ein_cascade *o, const ein_cascade *c, int nt, int ne,
		       const char *base, char *buf, size_t len)
{
	for (int k = 1;; k++) {
		if (k == 1)
			snprintf(buf, len, "%s_r", base);
		else
			snprintf(buf, len, "%s_r%d", base, k);
		if (!taken(c, nt, ne, buf) && ein_cascade_find_tensor(o, buf) < 0 &&
		    ein_cascade_find_einsum(o, buf) < 0)
			return;
	}
}

ein_cascade *recompute_apply(const ein_cascade *c, const recompute_spec *s, int n, int *copy,
			     char *err, size_t errlen)
{
	ein_cascade *r = NULL;
	int *map = NULL; /* map[k * ntensors + t]: spec k's copy of t, or -1 */
	char e[256];
	for (int k = 0; k < n; k++) {
		if (recompute_check(c, &s[k], e, sizeof(e)) < 0) {
			snprintf(err, errlen, "recompute: %s", e);
			return NULL;
		}
		for (int q = 0; q < k; q++)
			if (s[q].tensor == s[k].tensor) {
				snprintf(err, errlen, "recompute: '%s' is recomputed twice",
					 c->tensors[s[k].tensor].name);
				return NULL;
			}
	}
	int ncopy = 0, nclone = 0;
	for (int k = 0; k < n; k++) {
		nclone += s[k].nchain;
		for (int i = 0; i < s[k].nchain; i++) {
			int out = c->einsums[s[k].chain[i]].out.tensor, first = 1;
			for (int q = 0; q < i; q++)
				first &= c->einsums[s[k].chain[q]].out.tensor != out;
			ncopy += first;
		}
	}
	r = calloc(1, sizeof(*r));
	map = malloc((size_t)(n ? n : 1) * (size_t)c->ntensors * sizeof(int));
	if (!r || !map)
		goto oom;
	memset(map, -1, (size_t)(n ? n : 1) * (size_t)c->ntensors * sizeof(int));
	r->nparams = c->nparams;
	for (int p = 0; p < c->nparams; p++) {
		r->params[p] = c->params[p];
		r->params[p].name = NULL;
	}
	for (int p = 0; p < c->nparams; p++)
		if (!(r->params[p].name = strdup(c->params[p].name)))
			goto oom;
	if (!(r->file = strdup(c->file ? c->file : "")))
		goto oom;
	r->tensors = calloc((size_t)(c->ntensors + ncopy), sizeof(*r->tensors));
	r->einsums = calloc((size_t)(c->neinsums + nclone), sizeof(*r->einsums));
	if (!r->tensors || !r->einsums)
		goto oom;
	for (int t = 0; t < c->ntensors; t++) {
		r->ntensors++;
		if (copy_tensor(&r->tensors[t], &c->tensors[t]) < 0)
			goto oom;
	}
	/* The copies of the tensors each chain makes, in chain order. */
	for (int k = 0; k < n; k++)
		for (int i = 0; i < s[k].nchain; i++) {
			int out = c->einsums[s[k].chain[i]].out.tensor;
			if (map[k * c->ntensors + out] >= 0)
				continue;
			int nt = r->ntensors;
			char name[256];
			fresh_name(c, r, nt, 0, c->tensors[out].name, name, sizeof(name));
			r->ntensors++;
			if (copy_tensor(&r->tensors[nt], &c->tensors[out]) < 0)
				goto oom;
			free(r->tensors[nt].name);
			if (!(r->tensors[nt].name = strdup(name)))
				goto oom;
			r->tensors[nt].role = EIN_ROLE_TEMP;
			r->tensors[nt].declared = 0;
			map[k * c->ntensors + out] = nt;
		}
	if (copy)
		for (int k = 0; k < n; k++)
			copy[k] = map[k * c->ntensors + s[k].tensor];
	/* Einsums in source order, each chain's clones just before its first
	 * reader. */
	for (int e0 = 0; e0 < c->neinsums; e0++) {
		for (int k = 0; k < n; k++) {
			if (s[k].readers[0] != e0)
				continue;
			for (int i = 0; i < s[k].nchain; i++) {
				const ein_einsum *src = &c->einsums[s[k].chain[i]];
				ein_einsum *d = &r->einsums[r->neinsums++];
				if (copy_einsum(d, src) < 0)
					goto oom;
				const char *tname = c->tensors[src->out.tensor].name;
				const char *cname = r->tensors[map[k * c->ntensors + src->out.tensor]].name;
				size_t tl = strlen(tname);
				char name[300];
				if (strcmp(src->name, tname) == 0)
					snprintf(name, sizeof(name), "%s", cname);
				else if (strncmp(src->name, tname, tl) == 0 && src->name[tl] == '.')
					snprintf(name, sizeof(name), "%s%s", cname, src->name + tl);
				else
					fresh_name(c, r, r->ntensors, r->neinsums - 1, src->name, name,
						   sizeof(name));
				free(d->name);
				if (!(d->name = strdup(name)))
					goto oom;
				d->out.tensor = map[k * c->ntensors + src->out.tensor];
				for (int q = 0; q < d->nreads; q++) {
					int m = map[k * c->ntensors + d->reads[q].tensor];
					if (m >= 0)
						d->reads[q].tensor = m;
				}
			}
		}
		ein_einsum *d = &r->einsums[r->neinsums++];
		if (copy_einsum(d, &c->einsums[e0]) < 0)
			goto oom;
		for (int k = 0; k < n; k++)
			if (in_list(s[k].readers, s[k].nreaders, e0))
				for (int q = 0; q < d->nreads; q++)
					if (d->reads[q].tensor == s[k].tensor)
						d->reads[q].tensor = map[k * c->ntensors + s[k].tensor];
	}
	for (int e0 = 0; e0 < r->neinsums; e0++)
		r->einsums[e0].index = e0;
	if (ein_cascade_link(r, NULL) < 0)
		goto oom;
	free(map);
	return r;
oom:
	snprintf(err, errlen, "out of memory");
	free(map);
	ein_cascade_free(r);
	return NULL;
}
