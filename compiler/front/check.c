/* check.c - the checker: parsed program -> cascade IR (see check.h).
 *
 * Passes over the program, in order:
 *   1. parameters (defaults, -D overrides): check_params.c;
 *   2. tensor declarations (roles, shapes, types): check_decls.c;
 *   3. Einsums in source order: names, rank variables and their extents,
 *      the right-hand side, filters, generational ranks, the map/reduce spec,
 *      the reduction-scope rule, and the shapes of implicit tensors:
 *      check_einsum.c, check_expr.c, check_affine.c;
 *   4. whole-cascade rules: unused and unwritten tensors (here);
 *   5. exact checks with isl: bounds, conflicting writes, reads of elements
 *      not yet written: check_isl.c.
 * Every error is reported; a pass that depends on a broken earlier result
 * skips the broken part rather than stopping.  Resource limits come first
 * (here), so that a hostile source cannot exhaust memory or time.
 */
#include "check_impl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analysis/poly.h"
#include "base/fsio.h"

/* Names for unlabelled Einsums: the output tensor's name, with ".k" when
 * several unlabelled Einsums write it. */
static void name_einsums(chk *k)
{
	ein_cascade *c = k->c;
	for (int e = 0; e < c->neinsums; e++) {
		ein_einsum *es = &c->einsums[e];
		if (es->name || es->out.tensor < 0)
			continue;
		int total = 0, mine = 0;
		for (int f = 0; f < c->neinsums; f++) {
			if (c->einsums[f].out.tensor != es->out.tensor)
				continue;
			if (f < e || (f == e))
				mine += 1;
			total++;
		}
		char nm[160];
		const char *tn = c->tensors[es->out.tensor].name;
		if (total == 1)
			snprintf(nm, sizeof(nm), "%s", tn);
		else
			snprintf(nm, sizeof(nm), "%s.%d", tn, mine);
		/* A label may be the name of another Einsum's tensor: names
		 * must stay unique (labels have no '.', so one suffix does). */
		if (ein_cascade_find_einsum(c, nm) >= 0)
			snprintf(nm, sizeof(nm), "%s.%d", tn, mine);
		es->name = chk_xstrdup(k, nm);
	}
}

/* Does the syntax tree n name `name` (as a value, tensor or function)? */
static int node_mentions(const ast_node *n, const char *name)
{
	if (!n)
		return 0;
	if (n->name && strcmp(n->name, name) == 0)
		return 1;
	if (node_mentions(n->a, name) || node_mentions(n->b, name))
		return 1;
	for (int i = 0; i < n->args.n; i++)
		if (node_mentions(n->args.v[i], name))
			return 1;
	return 0;
}

static int stmt_mentions(const ast_stmt *s, const char *name)
{
	return s && (node_mentions(s->lhs, name) || node_mentions(s->rhs, name));
}

static void check_usage(chk *k)
{
	ein_cascade *c = k->c;
	for (int t = 0; t < c->ntensors; t++) {
		ein_tensor *tt = &c->tensors[t];
		/* Tensors used by broken Einsums: say nothing more.  Their
		 * statements tell, since their IR may be incomplete. */
		int touched = k->broken[t];
		for (int e = 0; e < c->neinsums; e++)
			if (k->bad[e] && stmt_mentions(k->est[e], tt->name))
				touched = 1;
		if (touched)
			continue;
		switch (tt->role) {
		case EIN_ROLE_INPUT:
		case EIN_ROLE_WEIGHT:
			if (!tt->nreaders)
				diag_warning(k->diag, tt->loc,
					     "%s '%s' is never used",
					     ein_role_name(tt->role), tt->name);
			break;
		case EIN_ROLE_OUTPUT:
			if (!tt->nwriters) {
				diag_error(k->diag, tt->loc,
					   "output '%s' is never written",
					   tt->name);
				diag_hint(k->diag, "define it with an Einsum, "
						   "e.g. %s_{...} = ...",
					  tt->name);
			}
			break;
		case EIN_ROLE_TEMP:
			if (!tt->nwriters && tt->declared && !tt->nreaders)
				diag_warning(k->diag, tt->loc,
					     "tensor '%s' is never used", tt->name);
			else if (!tt->nreaders && tt->nwriters)
				diag_warning(k->diag, tt->loc,
					     "'%s' is computed but never used",
					     tt->name);
			break;
		}
	}
	/* Elements counts. */
	for (int t = 0; t < c->ntensors; t++) {
		ein_tensor *tt = &c->tensors[t];
		if (tt->nelems < 0)
			continue;
		int64_t n = 1;
		int over = 0;
		for (int d = 0; d < tt->ndims; d++)
			if (__builtin_mul_overflow(n, tt->dims[d].size, &n) ||
			    n > ((int64_t)1 << MAX_ELEMS_LOG2))
				over = 1;
		if (over) {
			diag_error(k->diag, tt->loc,
				   "'%s' has more than 2^%d elements", tt->name,
				   MAX_ELEMS_LOG2);
			n = 1;
		}
		tt->nelems = n;
	}
}

/* Size limits of one source (docs/reliability.md), checked on the syntax
 * tree before anything is built: in the IR every index expression and
 * filter is a fixed-size affine form of several hundred bytes, and the isl
 * checks compare every pair of writers of a tensor, so without them a
 * 10 MiB source could need gigabytes or hours. */
#define CHECK_MAX_EINSUMS 1024

#define CHECK_MAX_DECLS 4096

#define CHECK_MAX_OPERANDS 16384 /* names and accesses in all Einsums */

#define CHECK_MAX_CONDS 16384	 /* comparisons in filters and `until` */

#define CHECK_MAX_WRITERS 256	 /* Einsums writing one tensor */

static long count_operands(const ast_node *n)
{
	if (!n)
		return 0;
	long r = n->kind == AST_IDENT || n->kind == AST_ACCESS;
	r += count_operands(n->a) + count_operands(n->b);
	for (int i = 0; i < n->args.n; i++)
		r += count_operands(n->args.v[i]);
	return r;
}

static int over_limit(chk *k, ein_loc loc, long n, long limit,
		      const char *what, const char *hint)
{
	if (n <= limit)
		return 0;
	diag_error(k->diag, loc, "too many %s (the limit is %ld)", what, limit);
	diag_hint(k->diag, "%s", hint);
	return 1;
}

/* Reports the first limit exceeded; returns -1 if one is. */
static int check_limits(chk *k)
{
	const ast_program *p = k->prog;
	long neinsums = 0, ndecls = 0, nops = 0, nconds = 0;
	const char *split = "split the cascade into several files";
	/* The Einsums so far, for the writers of a tensor. */
	const ast_stmt **es = malloc(CHECK_MAX_EINSUMS * sizeof(*es));
	if (!es) {
		diag_error(k->diag, (ein_loc){0, 0, 0, 0}, "out of memory");
		return -1;
	}
	int r = -1;
	for (int i = 0; i < p->n; i++) {
		const ast_stmt *s = p->stmts[i];
		if (s->kind == AST_S_DECL &&
		    over_limit(k, s->name_loc, ++ndecls, CHECK_MAX_DECLS,
			       "tensor declarations", split))
			goto done;
		if (s->kind != AST_S_EINSUM)
			continue;
		if (over_limit(k, s->loc, ++neinsums, CHECK_MAX_EINSUMS,
			       "Einsums", split))
			goto done;
		nops += count_operands(s->lhs) + count_operands(s->rhs);
		if (over_limit(k, s->loc, nops, CHECK_MAX_OPERANDS,
			       "names and tensor elements in the Einsums, "
			       "counted together",
			       split))
			goto done;
		for (int f = 0; f < s->nfilters; f++)
			nconds += s->filters[f]->n - 1;
		if (s->until)
			nconds += s->until->n - 1;
		if (over_limit(k, s->loc, nconds, CHECK_MAX_CONDS,
			       "comparisons in filters, counted together",
			       split))
			goto done;
		/* Writers of the same tensor: by name, before resolution. */
		long nw = 1;
		for (long j = 0; j < neinsums - 1; j++)
			nw += strcmp(es[j]->lhs->name, s->lhs->name) == 0;
		if (over_limit(k, s->lhs->name_loc, nw, CHECK_MAX_WRITERS,
			       "Einsums writing the same tensor",
			       "write a larger part of the tensor in each "
			       "Einsum, with more rank variables or filters"))
			goto done;
		es[neinsums - 1] = s;
	}
	r = 0;
done:
	free(es);
	return r;
}

ein_cascade *check_program(const ast_program *prog, diag_ctx *diag,
			   const check_opts *opts)
{
	chk k = {0};
	k.diag = diag;
	k.prog = prog;
	k.opts = opts;
	k.c = calloc(1, sizeof(*k.c));
	if (!k.c)
		return NULL;
	k.c->file = strdup(diag_file(diag));
	if (check_limits(&k) < 0) {
		ein_cascade_free(k.c);
		return NULL;
	}
	chk_params(&k);
	chk_decls(&k);
	/* The exact checks need sound sizes: after an error in a parameter or
	 * a declaration, they would report errors that are not there. */
	int early_errors = diag_error_count(diag);
	if (!k.oom)
		chk_einsums(&k);
	if (!k.oom) {
		name_einsums(&k);
		if (ein_cascade_link(k.c, k.bad) < 0)
			k.oom = 1;
	}
	if (!k.oom)
		check_usage(&k);
	if (!k.oom && early_errors == 0)
		chk_isl(&k);
	if (k.oom)
		diag_error(diag, (ein_loc){0, 0, 0, 0}, "out of memory");
	free(k.decl);
	free(k.broken);
	free(k.bad);
	free(k.est);
	if (diag_error_count(diag) > 0 || k.oom) {
		ein_cascade_free(k.c);
		return NULL;
	}
	return k.c;
}

ein_cascade *check_source(diag_ctx *diag, const check_opts *opts)
{
	ast_program *prog = ast_parse(diag);
	if (!prog) {
		diag_error(diag, (ein_loc){0, 0, 0, 0}, "out of memory");
		return NULL;
	}
	ein_cascade *c = NULL;
	if (diag_error_count(diag) == 0)
		c = check_program(prog, diag, opts);
	ast_program_free(prog);
	return c;
}

diag_ctx *check_load_file(const char *path, size_t max_bytes, char *errbuf,
			  size_t errlen)
{
	char *buf = NULL;
	size_t len;
	int r = fs_read_file(path, max_bytes, &buf, &len, errbuf, errlen);
	if (r == -2)
		snprintf(errbuf, errlen, "%s: the source is larger than %zu bytes", path,
			 max_bytes);
	if (r < 0)
		return NULL;
	diag_ctx *d = NULL;
	const char *nul = memchr(buf, '\0', len);
	if (nul) {
		int line = 1;
		for (const char *p = buf; p < nul; p++)
			line += *p == '\n';
		snprintf(errbuf, errlen,
			 "%s: the source contains a NUL byte (line %d); it is not "
			 "a text file",
			 path, line);
	} else if (!(d = diag_new(path, buf, len))) {
		snprintf(errbuf, errlen, "%s: out of memory", path);
	}
	free(buf);
	return d;
}
