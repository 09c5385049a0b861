/* check.c - the checker: parsed program -> cascade IR (see check.h).
 *
 * Passes over the program, in order:
 *   1. parameters (defaults, -D overrides);
 *   2. tensor declarations (roles, shapes, types);
 *   3. Einsums in source order: names, rank variables and their extents,
 *      the right-hand side, filters, generational ranks, the map/reduce spec,
 *      the reduction-scope rule, and the shapes of implicit tensors;
 *   4. whole-cascade rules: unused and unwritten tensors;
 *   5. exact checks with isl: bounds, conflicting writes, reads of elements
 *      not yet written.
 * Every error is reported; a pass that depends on a broken earlier result
 * skips the broken part rather than stopping.
 */
#include "check.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <isl/val.h>

#include "poly.h"

#define MAX_ELEMS_LOG2 62

typedef struct chk {
	diag_ctx *diag;
	ein_cascade *c;
	const ast_program *prog;
	const check_opts *opts;
	int oom;
	int tcap;
	/* Per tensor: declared at this statement (NULL if implicit). */
	const ast_stmt **decl;
	/* Per tensor: its declaration or first write was rejected; uses of it
	 * are not reported again. */
	char *broken;
	/* Per Einsum: has this Einsum's checking failed? */
	char *bad;
	/* Per Einsum: its statement. */
	const ast_stmt **est;
	/* The Einsum being checked. */
	ein_einsum *es;
	const ast_stmt *st;
	/* The Einsum being checked has more rank variables than allowed: the
	 * names left out are not reported as unknown. */
	int too_many_vars;
	/* check_defined, per tensor: the elements written by its first
	 * avail_n[t] writers (NULL: none yet), grown as Einsums are checked in
	 * order, so that every read does not rebuild the union. */
	isl_set **avail;
	int *avail_n;
} chk;

static const char *const fn_names[] = {
	"exp",	"log",	"sqrt", "rsqrt", "sigmoid", "silu",  "softplus",
	"tanh", "relu", "abs",	"neg",	 "recip",   "square", "max", "min"};
#define NFN_NAMES ((int)(sizeof(fn_names) / sizeof(fn_names[0])))

/* ---------------------------------------------------------------- utils */

static char *xstrdup(chk *k, const char *s)
{
	char *r = strdup(s ? s : "");
	if (!r)
		k->oom = 1;
	return r;
}

/* The source text of loc (single line; longer ranges are cut at the end of
 * the first line), into buf. */
static const char *src_text(const chk *k, ein_loc loc, char *buf, size_t len)
{
	size_t slen;
	const char *src = diag_source(k->diag, &slen);
	const char *p = src;
	buf[0] = '\0';
	for (int l = 1; l < loc.line && p; l++) {
		p = memchr(p, '\n', slen - (size_t)(p - src));
		if (p)
			p++;
	}
	if (!p || loc.col < 1)
		return buf;
	const char *end = src + slen;
	const char *s = p + loc.col - 1;
	if (s >= end)
		return buf;
	const char *e;
	if (loc.end_line == loc.line)
		e = p + loc.end_col;
	else {
		e = memchr(s, '\n', (size_t)(end - s));
		if (!e)
			e = end;
	}
	if (e > end)
		e = end;
	if (e <= s)
		return buf;
	size_t n = (size_t)(e - s);
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

/* Keeps cand as the best suggestion for name if it is closer.  An edit as
 * long as the name itself (any other one-letter name for "j") is a guess,
 * not a suggestion, unless only the case differs ("i" for "I"). */
static void consider(const char *name, const char *cand, const char **best,
		     int *bestd)
{
	int d = diag_edit_distance(name, cand);
	if (d >= *bestd)
		return;
	if (d >= (int)strlen(name) && strcasecmp(name, cand) != 0)
		return;
	*bestd = d;
	*best = cand;
}

/* The closest known name to `name` among parameters, tensors and functions
 * (what: bit 1 params, 2 tensors, 4 functions), or NULL. */
static const char *suggest(const chk *k, const char *name, int what)
{
	const char *best = NULL;
	int bestd = (int)strlen(name) <= 3 ? 1 : 2;
	bestd++;
	if (what & 1)
		for (int p = 0; p < k->c->nparams; p++)
			consider(name, k->c->params[p].name, &best, &bestd);
	if (what & 2)
		for (int t = 0; t < k->c->ntensors; t++)
			consider(name, k->c->tensors[t].name, &best, &bestd);
	if (what & 4)
		for (int f = 0; f < NFN_NAMES; f++)
			consider(name, fn_names[f], &best, &bestd);
	return best;
}

static void hint_suggest(chk *k, const char *name, int what)
{
	const char *s = suggest(k, name, what);
	if (s)
		diag_hint(k->diag, "did you mean '%s'?", s);
}

/* Reports an integer literal too large for 64 bits (the parser keeps it as a
 * float number, see ast_num; only the source text tells it apart from one
 * written as a float).  Returns 1 if it reported. */
static int report_big_int(chk *k, const ast_node *n)
{
	char txt[128];
	if (n->kind != AST_NUM || n->is_int)
		return 0;
	src_text(k, n->loc, txt, sizeof(txt));
	if (!txt[0] || strpbrk(txt, ".eE"))
		return 0;
	diag_error(k->diag, n->loc, "the integer %s is too large (64 bits)", txt);
	return 1;
}

static int find_fn(const char *name)
{
	for (int f = 0; f < NFN_NAMES; f++)
		if (strcmp(name, fn_names[f]) == 0)
			return f;
	return -1;
}

static const char *ordinal(int n, char *buf, size_t len)
{
	const char *suf = "th";
	if (n % 100 < 11 || n % 100 > 13) {
		if (n % 10 == 1)
			suf = "st";
		else if (n % 10 == 2)
			suf = "nd";
		else if (n % 10 == 3)
			suf = "rd";
	}
	snprintf(buf, len, "%d%s", n, suf);
	return buf;
}

static int aff_has_vars(const ein_aff *a)
{
	for (int v = 0; v < EIN_MAX_VARS; v++)
		if (a->vc[v])
			return 1;
	return 0;
}

static int aff_is_const(const ein_aff *a)
{
	if (aff_has_vars(a))
		return 0;
	for (int p = 0; p < EIN_MAX_PARAMS; p++)
		if (a->pc[p])
			return 0;
	return 1;
}

/* The variable v if a is exactly v, else -1. */
static int aff_plain_var(const ein_aff *a)
{
	int v = -1;
	if (a->c)
		return -1;
	for (int p = 0; p < EIN_MAX_PARAMS; p++)
		if (a->pc[p])
			return -1;
	for (int i = 0; i < EIN_MAX_VARS; i++) {
		if (!a->vc[i])
			continue;
		if (a->vc[i] != 1 || v >= 0)
			return -1;
		v = i;
	}
	return v;
}

/* The parameter p if a is exactly p, else -1. */
static int aff_plain_param(const ein_aff *a)
{
	int r = -1;
	if (a->c || aff_has_vars(a))
		return -1;
	for (int p = 0; p < EIN_MAX_PARAMS; p++) {
		if (!a->pc[p])
			continue;
		if (a->pc[p] != 1 || r >= 0)
			return -1;
		r = p;
	}
	return r;
}

static void aff_add(ein_aff *r, const ein_aff *a, int64_t s)
{
	r->c += s * a->c;
	for (int p = 0; p < EIN_MAX_PARAMS; p++)
		r->pc[p] += s * a->pc[p];
	for (int v = 0; v < EIN_MAX_VARS; v++)
		r->vc[v] += s * a->vc[v];
}

static void aff_scale(ein_aff *r, int64_t s)
{
	ein_aff z = {0};
	aff_add(&z, r, s);
	*r = z;
}

/* ------------------------------------------------------------ parameters */

/* Integer value of a parameter default; only parameters before `upto` may
 * be used.  Returns 0, or -1 after reporting an error. */
static int param_eval(chk *k, const ast_node *n, int upto, int64_t *out)
{
	int64_t a, b;
	switch (n->kind) {
	case AST_NUM:
		if (report_big_int(k, n))
			return -1;
		if (!n->is_int) {
			diag_error(k->diag, n->loc,
				   "parameter values are integers");
			return -1;
		}
		*out = n->ival;
		return 0;
	case AST_IDENT: {
		int p = ein_cascade_find_param(k->c, n->name);
		if (p >= 0 && p < upto) {
			*out = k->c->params[p].value;
			return 0;
		}
		if (p >= upto) {
			diag_error(k->diag, n->loc,
				   "parameter '%s' is used before it is defined",
				   n->name);
			diag_note(k->diag, k->c->params[p].loc, "'%s' is defined here",
				  n->name);
			return -1;
		}
		diag_error(k->diag, n->loc, "unknown parameter '%s'", n->name);
		hint_suggest(k, n->name, 1);
		return -1;
	}
	case AST_NEG:
		if (param_eval(k, n->a, upto, &a) < 0)
			return -1;
		if (__builtin_sub_overflow((int64_t)0, a, out))
			goto overflow;
		return 0;
	case AST_BINARY:
		if (param_eval(k, n->a, upto, &a) < 0 ||
		    param_eval(k, n->b, upto, &b) < 0)
			return -1;
		switch (n->op) {
		case '+':
			if (__builtin_add_overflow(a, b, out))
				goto overflow;
			return 0;
		case '-':
			if (__builtin_sub_overflow(a, b, out))
				goto overflow;
			return 0;
		case '*':
			if (__builtin_mul_overflow(a, b, out))
				goto overflow;
			return 0;
		default:
			if (b == 0) {
				diag_error(k->diag, n->loc, "division by zero");
				return -1;
			}
			if (a == INT64_MIN && b == -1)
				goto overflow;
			/* Floor division, as isl and Python do. */
			*out = a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
			return 0;
		}
	case AST_CALL: {
		int isc = strcmp(n->name, "cdiv") == 0;
		int ismin = strcmp(n->name, "min") == 0;
		int ismax = strcmp(n->name, "max") == 0;
		if (!isc && !ismin && !ismax) {
			diag_error(k->diag, n->name_loc,
				   "'%s' cannot be used in a parameter value",
				   n->name);
			diag_hint(k->diag, "parameter values use integers, other "
					   "parameters, + - * /, cdiv, min and max");
			return -1;
		}
		if (n->args.n != 2) {
			diag_error(k->diag, n->loc, "%s takes 2 arguments, not %d",
				   n->name, n->args.n);
			return -1;
		}
		if (param_eval(k, n->args.v[0], upto, &a) < 0 ||
		    param_eval(k, n->args.v[1], upto, &b) < 0)
			return -1;
		if (ismin)
			*out = a < b ? a : b;
		else if (ismax)
			*out = a > b ? a : b;
		else {
			if (b <= 0) {
				diag_error(k->diag, n->loc,
					   "cdiv needs a positive divisor");
				return -1;
			}
			*out = a / b + (a % b > 0);
		}
		return 0;
	}
	case AST_ACCESS:
		diag_error(k->diag, n->loc,
			   "a tensor element cannot be used in a parameter value");
		return -1;
	case AST_JUXT:
		diag_error(k->diag, n->loc,
			   "missing operator in a parameter value");
		diag_hint(k->diag, "write '*' to multiply");
		return -1;
	}
	return -1;
overflow:
	diag_error(k->diag, n->loc, "parameter value overflows 64 bits");
	return -1;
}

#define PARAM_MAX ((int64_t)1 << 40)

/* Parses a -D value: a decimal integer.  Returns 0 or -1. */
static int parse_define_value(const char *s, int64_t *out)
{
	if (!*s)
		return -1;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -1;
	errno = 0;
	unsigned long long v = strtoull(s, NULL, 10);
	if (errno == ERANGE || v > (unsigned long long)PARAM_MAX)
		return -2;
	*out = (int64_t)v;
	return 0;
}

static void check_params(chk *k)
{
	ein_cascade *c = k->c;
	const ein_loc none = {0, 0, 0, 0};
	/* Collect names first so that -D can be matched and later uses can
	 * say "defined later". */
	for (int i = 0; i < k->prog->n; i++) {
		const ast_stmt *s = k->prog->stmts[i];
		if (s->kind != AST_S_PARAM)
			continue;
		int prev = ein_cascade_find_param(c, s->name);
		if (prev >= 0) {
			diag_error(k->diag, s->name_loc,
				   "parameter '%s' is defined twice", s->name);
			diag_note(k->diag, c->params[prev].loc,
				  "first defined here");
			continue;
		}
		if (c->nparams == EIN_MAX_PARAMS) {
			diag_error(k->diag, s->name_loc,
				   "too many parameters (the limit is %d)",
				   EIN_MAX_PARAMS);
			continue;
		}
		ein_param *p = &c->params[c->nparams++];
		p->name = xstrdup(k, s->name);
		p->loc = s->name_loc;
	}
	/* -D overrides: NAME=VALUE, each NAME a parameter of this file. */
	int64_t ov[EIN_MAX_PARAMS];
	for (int i = 0; k->opts && i < k->opts->ndefines; i++) {
		const char *d = k->opts->defines[i];
		const char *eq = strchr(d, '=');
		if (!eq || eq == d) {
			diag_error(k->diag, none,
				   "-D %s: expected NAME=VALUE", d);
			continue;
		}
		char name[128];
		snprintf(name, sizeof(name), "%.*s", (int)(eq - d), d);
		/* A longer name was cut: it is none of the parameters, even
		 * if its first 127 characters are one. */
		int p = (size_t)(eq - d) < sizeof(name)
				? ein_cascade_find_param(c, name)
				: -1;
		if (p < 0) {
			diag_error(k->diag, none,
				   "-D %s: this file has no parameter '%s'", d,
				   name);
			hint_suggest(k, name, 1);
			continue;
		}
		int64_t v;
		int r = parse_define_value(eq + 1, &v);
		if (r < 0) {
			diag_error(k->diag, none,
				   r == -2 ? "-D %s: value too large (the limit is 2^40)"
					   : "-D %s: the value must be a non-negative integer",
				   d);
			continue;
		}
		ov[p] = v;
		c->params[p].overridden = true;
	}
	/* Values, in order: each default may use the parameters before it. */
	int np = 0;
	for (int i = 0; i < k->prog->n; i++) {
		const ast_stmt *s = k->prog->stmts[i];
		if (s->kind != AST_S_PARAM)
			continue;
		int p = ein_cascade_find_param(c, s->name);
		if (p < 0 || p < np || c->params[p].loc.line != s->name_loc.line ||
		    c->params[p].loc.col != s->name_loc.col)
			continue; /* a duplicate */
		np = p + 1;
		int64_t v = 0;
		if (param_eval(k, s->value, p, &v) < 0)
			v = 1; /* keep going with a harmless value */
		if (c->params[p].overridden)
			v = ov[p];
		if (v > PARAM_MAX || v < -PARAM_MAX) {
			diag_error(k->diag, s->value->loc,
				   "parameter '%s' = %" PRId64
				   " is out of range (|value| <= 2^40)",
				   s->name, v);
			v = 1;
		}
		c->params[p].value = v;
	}
}

/* ---------------------------------------------------- affine expressions */

typedef enum aff_mode { AFF_SHAPE, AFF_INDEX, AFF_COND } aff_mode;

static const char *mode_what(aff_mode m)
{
	return m == AFF_SHAPE ? "an extent" : m == AFF_INDEX ? "an index" : "a condition";
}

static int find_var(const ein_einsum *es, const char *name)
{
	if (!es)
		return -1;
	for (int v = 0; v < es->nvars; v++)
		if (strcmp(es->vars[v].name, name) == 0)
			return v;
	return -1;
}

/* Converts n to an affine form over the parameters and (except for shapes)
 * the current Einsum's variables.  Returns 0, or -1 after an error. */
static int to_aff(chk *k, const ast_node *n, aff_mode mode, ein_aff *out)
{
	memset(out, 0, sizeof(*out));
	const char *what = mode_what(mode);
	switch (n->kind) {
	case AST_NUM:
		if (report_big_int(k, n))
			return -1;
		if (!n->is_int) {
			diag_error(k->diag, n->loc, "%s must be an integer expression",
				   what);
			return -1;
		}
		out->c = n->ival;
		return 0;
	case AST_IDENT: {
		int p = ein_cascade_find_param(k->c, n->name);
		if (p >= 0) {
			out->pc[p] = 1;
			return 0;
		}
		int v = mode == AFF_SHAPE ? -1 : find_var(k->es, n->name);
		if (v >= 0) {
			out->vc[v] = 1;
			return 0;
		}
		if (ein_cascade_find_tensor(k->c, n->name) >= 0) {
			diag_error(k->diag, n->loc,
				   "'%s' is a tensor; it cannot be used in %s",
				   n->name, what);
			return -1;
		}
		if (mode == AFF_SHAPE) {
			diag_error(k->diag, n->loc, "unknown parameter '%s'",
				   n->name);
			hint_suggest(k, n->name, 1);
			return -1;
		}
		if (k->too_many_vars)
			return -1;
		diag_error(k->diag, n->loc,
			   "'%s' is neither a parameter nor a rank variable of "
			   "this Einsum",
			   n->name);
		if (suggest(k, n->name, 1))
			hint_suggest(k, n->name, 1);
		else
			diag_hint(k->diag, "rank variables are the names used in "
					   "the tensor indices of the Einsum");
		return -1;
	}
	case AST_NEG:
		if (to_aff(k, n->a, mode, out) < 0)
			return -1;
		aff_scale(out, -1);
		return 0;
	case AST_BINARY: {
		ein_aff a, b;
		if (n->op == '/') {
			diag_error(k->diag, n->loc,
				   "division is not allowed in %s", what);
			if (mode == AFF_SHAPE)
				diag_hint(k->diag, "an extent must be affine in the "
						   "parameters; compute it as a "
						   "parameter, e.g. `param M = N / 2`");
			else
				diag_hint(k->diag, "%s must be affine: sums of "
						   "integer multiples of rank variables "
						   "and parameters",
					  what);
			return -1;
		}
		int ra = to_aff(k, n->a, mode, &a);
		int rb = to_aff(k, n->b, mode, &b);
		if (ra < 0 || rb < 0)
			return -1;
		if (n->op == '+' || n->op == '-') {
			*out = a;
			aff_add(out, &b, n->op == '+' ? 1 : -1);
			return 0;
		}
		/* '*': one side must be an integer constant. */
		if (aff_is_const(&a)) {
			*out = b;
			aff_scale(out, a.c);
			return 0;
		}
		if (aff_is_const(&b)) {
			*out = a;
			aff_scale(out, b.c);
			return 0;
		}
		diag_error(k->diag, n->loc, "%s must be affine: this product of "
					    "two non-constant terms is not",
			   what);
		if (!aff_has_vars(&a) && !aff_has_vars(&b)) {
			/* Parameters only: a constant, but not an affine
			 * form; a derived parameter is. */
			char txt[128];
			diag_hint(k->diag, "define the product as a parameter, "
					   "e.g. `param P = %s`, and use P",
				  src_text(k, n->loc, txt, sizeof(txt)));
		} else {
			diag_hint(k->diag, "multiply rank variables and parameters "
					   "only by integer constants");
		}
		return -1;
	}
	case AST_CALL:
		diag_error(k->diag, n->loc, "a function call cannot be used in %s",
			   what);
		return -1;
	case AST_ACCESS:
		diag_error(k->diag, n->loc,
			   "a tensor element cannot be used in %s", what);
		if (mode == AFF_INDEX)
			diag_hint(k->diag, "indices must not depend on data "
					   "(gathers are not supported)");
		return -1;
	case AST_JUXT:
		diag_error(k->diag, n->loc, "missing operator in %s", what);
		return -1;
	}
	return -1;
}

/* ---------------------------------------------------------- declarations */

static int add_tensor(chk *k, const char *name, ein_loc loc)
{
	ein_cascade *c = k->c;
	if (c->ntensors == k->tcap) {
		int cap = k->tcap ? 2 * k->tcap : 16;
		ein_tensor *t = realloc(c->tensors, (size_t)cap * sizeof(*t));
		const ast_stmt **d = realloc(k->decl, (size_t)cap * sizeof(*d));
		char *b = realloc(k->broken, (size_t)cap);
		if (t)
			c->tensors = t;
		if (d)
			k->decl = d;
		if (b)
			k->broken = b;
		if (!t || !d || !b) {
			k->oom = 1;
			return -1;
		}
		k->tcap = cap;
	}
	ein_tensor *t = &c->tensors[c->ntensors];
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(k, name);
	t->loc = loc;
	t->type = EIN_TY_F32;
	t->role = EIN_ROLE_TEMP;
	k->decl[c->ntensors] = NULL;
	k->broken[c->ntensors] = 0;
	return c->ntensors++;
}

/* Rank name of a dimension whose extent is e (a parameter's name when e is
 * one, else the source text without blanks). */
static char *dim_rank_name(chk *k, const ast_dim *d, const ein_aff *e)
{
	if (d && d->rank)
		return xstrdup(k, d->rank);
	int p = aff_plain_param(e);
	if (p >= 0)
		return xstrdup(k, k->c->params[p].name);
	char buf[128], out[128];
	ein_aff_str(k->c, e, NULL, buf, sizeof(buf));
	size_t j = 0;
	for (size_t i = 0; buf[i] && j + 1 < sizeof(out); i++)
		if (buf[i] != ' ')
			out[j++] = buf[i];
	out[j] = '\0';
	return xstrdup(k, out);
}

static void check_decls(chk *k)
{
	ein_cascade *c = k->c;
	for (int i = 0; i < k->prog->n; i++) {
		const ast_stmt *s = k->prog->stmts[i];
		if (s->kind != AST_S_DECL)
			continue;
		int prev = ein_cascade_find_tensor(c, s->name);
		if (prev >= 0) {
			diag_error(k->diag, s->name_loc,
				   "tensor '%s' is declared twice", s->name);
			diag_note(k->diag, c->tensors[prev].loc,
				  "first declared here");
			continue;
		}
		int p = ein_cascade_find_param(c, s->name);
		if (p >= 0) {
			diag_error(k->diag, s->name_loc,
				   "'%s' is already a parameter", s->name);
			diag_note(k->diag, c->params[p].loc, "'%s' is defined here",
				  s->name);
			continue;
		}
		if (s->ndims > EIN_MAX_DIMS) {
			diag_error(k->diag, s->loc,
				   "'%s' has %d ranks; the limit is %d", s->name,
				   s->ndims, EIN_MAX_DIMS);
			/* Keep the name, so that its uses are not reported
			 * as unknown tensors. */
			int t = add_tensor(k, s->name, s->name_loc);
			if (t < 0)
				return;
			k->broken[t] = 1;
			c->tensors[t].declared = true;
			continue;
		}
		int t = add_tensor(k, s->name, s->name_loc);
		if (t < 0)
			return;
		int errors = diag_error_count(k->diag);
		ein_tensor *tt = &c->tensors[t];
		k->decl[t] = s;
		tt->declared = true;
		tt->role = strcmp(s->role, "input") == 0    ? EIN_ROLE_INPUT
			   : strcmp(s->role, "weight") == 0 ? EIN_ROLE_WEIGHT
			   : strcmp(s->role, "output") == 0 ? EIN_ROLE_OUTPUT
							    : EIN_ROLE_TEMP;
		if (s->type) {
			static const char *const tn[] = {"f32", "f16", "bf16", "f64"};
			int found = -1;
			for (int q = 0; q < 4; q++)
				if (strcmp(s->type, tn[q]) == 0)
					found = q;
			if (found < 0) {
				diag_error(k->diag, s->type_loc,
					   "unknown element type '%s'", s->type);
				diag_hint(k->diag,
					  "the element types are f32, f16, bf16 and f64");
			} else {
				tt->type = (ein_type)found;
			}
		}
		tt->ndims = s->ndims < 0 ? 0 : s->ndims;
		for (int d = 0; d < tt->ndims; d++) {
			ein_dim *dim = &tt->dims[d];
			if (to_aff(k, s->dims[d].extent, AFF_SHAPE, &dim->extent) < 0) {
				memset(&dim->extent, 0, sizeof(dim->extent));
				dim->extent.c = 1;
			}
			dim->rank = dim_rank_name(k, &s->dims[d], &dim->extent);
			dim->size = ein_aff_eval(c, &dim->extent, NULL);
			if (dim->size < 1) {
				char o[16], txt[128];
				diag_error(k->diag, s->dims[d].extent->loc,
					   "the %s extent of '%s' is %s = %" PRId64
					   "; extents must be at least 1",
					   ordinal(d + 1, o, sizeof(o)), s->name,
					   src_text(k, s->dims[d].extent->loc, txt,
						    sizeof(txt)),
					   dim->size);
				dim->size = 1;
			}
		}
		/* A declaration with an error: its uses and its being unused
		 * are not reported again. */
		if (diag_error_count(k->diag) > errors)
			k->broken[t] = 1;
	}
}

/* --------------------------------------------------------------- Einsums */

/* Adds the rank variables found in index expression n (identifiers that are
 * not parameters) to the current Einsum. */
static void collect_vars(chk *k, const ast_node *n)
{
	if (!n)
		return;
	switch (n->kind) {
	case AST_IDENT: {
		if (ein_cascade_find_param(k->c, n->name) >= 0 ||
		    ein_cascade_find_tensor(k->c, n->name) >= 0)
			return; /* to_aff reports tensors used as indices */
		if (find_var(k->es, n->name) >= 0)
			return;
		if (k->es->nvars == EIN_MAX_VARS) {
			if (!k->too_many_vars)
				diag_error(k->diag, n->loc,
					   "too many rank variables in one Einsum "
					   "(the limit is %d)",
					   EIN_MAX_VARS);
			k->too_many_vars = 1;
			k->bad[k->es->index] = 1;
			return;
		}
		ein_var *v = &k->es->vars[k->es->nvars++];
		memset(v, 0, sizeof(*v));
		v->name = xstrdup(k, n->name);
		v->loc = n->loc;
		return;
	}
	case AST_NEG:
	case AST_BINARY:
		collect_vars(k, n->a);
		collect_vars(k, n->b);
		return;
	default:
		return; /* calls, accesses, juxtapositions: errors in to_aff */
	}
}

/* Collects rank variables from every access index of a value expression. */
static void collect_rhs_vars(chk *k, const ast_node *n)
{
	if (!n)
		return;
	if (n->kind == AST_ACCESS) {
		for (int i = 0; i < n->args.n; i++)
			collect_vars(k, n->args.v[i]);
		return;
	}
	collect_rhs_vars(k, n->a);
	collect_rhs_vars(k, n->b);
	if (n->kind == AST_CALL)
		for (int i = 0; i < n->args.n; i++)
			collect_rhs_vars(k, n->args.v[i]);
}

static int has_juxt(const ast_node *n)
{
	if (!n)
		return 0;
	if (n->kind == AST_JUXT)
		return 1;
	if (has_juxt(n->a) || has_juxt(n->b))
		return 1;
	if (n->kind == AST_CALL)
		for (int i = 0; i < n->args.n; i++)
			if (has_juxt(n->args.v[i]))
				return 1;
	return 0;
}

static int parse_binop(const char *s, ein_binop *op)
{
	static const char *const names[] = {"+", "-", "*", "/", "max", "min"};
	for (int i = 0; i < 6; i++)
		if (strcmp(s, names[i]) == 0) {
			*op = (ein_binop)i;
			return 0;
		}
	return -1;
}

static void check_spec(chk *k)
{
	ein_einsum *es = k->es;
	const ast_stmt *s = k->st;
	int seen_map = 0, seen_reduce = 0;
	es->map_op = EIN_OP_MUL;
	es->reduce_op = EIN_OP_ADD;
	for (int i = 0; i < s->nspec; i++) {
		const ast_spec_item *it = &s->spec[i];
		int is_map = strcmp(it->name, "map") == 0;
		int is_red = strcmp(it->name, "reduce") == 0;
		es->has_spec = true;
		if (!is_map && !is_red) {
			diag_error(k->diag, it->loc, "unknown spec item '%s'",
				   it->name);
			diag_hint(k->diag, "a spec has map(op[, merge]) and "
					   "reduce(op[, merge])");
			continue;
		}
		if ((is_map && seen_map) || (is_red && seen_reduce)) {
			diag_error(k->diag, it->loc, "%s(...) is given twice",
				   it->name);
			continue;
		}
		seen_map |= is_map;
		seen_reduce |= is_red;
		if (it->nargs > 2) {
			diag_error(k->diag, it->loc,
				   "%s takes an operator and an optional merge, "
				   "not %d arguments",
				   it->name, it->nargs);
			continue;
		}
		ein_binop op;
		if (parse_binop(it->args[0], &op) < 0) {
			diag_error(k->diag, it->arg_locs[0],
				   "unknown operator '%s'", it->args[0]);
			diag_hint(k->diag, is_map ? "map operators are + - * / max min"
						  : "reduce operators are + max min");
			continue;
		}
		if (is_red && op != EIN_OP_ADD && op != EIN_OP_MAX &&
		    op != EIN_OP_MIN) {
			diag_error(k->diag, it->arg_locs[0],
				   "'%s' is not a reduce operator", it->args[0]);
			diag_hint(k->diag, "reduce operators are + max min");
			continue;
		}
		ein_merge mg = EIN_MERGE_DEFAULT;
		if (it->nargs == 2) {
			if (strcmp(it->args[1], "union") == 0)
				mg = EIN_MERGE_UNION;
			else if (strcmp(it->args[1], "intersect") == 0)
				mg = EIN_MERGE_INTERSECT;
			else {
				diag_error(k->diag, it->arg_locs[1],
					   "unknown merge operator '%s'",
					   it->args[1]);
				diag_hint(k->diag, "merge operators are union and "
						   "intersect");
				continue;
			}
		}
		if (is_map) {
			es->map_op = op;
			es->map_merge = mg;
			if (!has_juxt(s->rhs))
				diag_warning(k->diag, it->loc,
					     "map(%s) has no effect: the "
					     "right-hand side has no juxtaposed "
					     "operands",
					     it->args[0]);
		} else {
			es->reduce_op = op;
			es->reduce_merge = mg;
		}
	}
}

static int add_read(chk *k, const ein_access *a)
{
	ein_einsum *es = k->es;
	/* An access is kilobytes: growing the list one at a time was
	 * quadratic (seconds for 1000 reads). */
	if (ast_grow(&es->reads, es->nreads, sizeof(*es->reads)) < 0) {
		k->oom = 1;
		return -1;
	}
	es->reads[es->nreads] = *a;
	return es->nreads++;
}

static ein_expr *new_expr(chk *k, ein_xkind kind, ein_loc loc)
{
	ein_expr *e = calloc(1, sizeof(*e));
	if (!e) {
		k->oom = 1;
		return NULL;
	}
	e->kind = kind;
	e->loc = loc;
	return e;
}

static void free_expr(ein_expr *e)
{
	if (!e)
		return;
	free_expr(e->a);
	free_expr(e->b);
	free(e);
}

/* A read of a tensor that no earlier statement defines: if a later Einsum
 * writes it, says so (rather than "unknown tensor") and returns 1. */
static int report_later_def(chk *k, const ast_node *n)
{
	for (int i = 0; i < k->prog->n; i++) {
		const ast_stmt *s = k->prog->stmts[i];
		if (s->kind != AST_S_EINSUM || s == k->st ||
		    strcmp(s->lhs->name, n->name) != 0)
			continue;
		diag_error(k->diag, n->name_loc, "'%s' is used before it is defined",
			   n->name);
		diag_note(k->diag, s->lhs->loc, "'%s' is defined here", n->name);
		diag_hint(k->diag, "Einsums run in source order: move this one "
				   "after the Einsum that defines '%s'",
			  n->name);
		return 1;
	}
	return 0;
}

/* Resolves an access T_{...}: the tensor and its indices.  Returns 0 or -1. */
static int resolve_access(chk *k, const ast_node *n, int is_lhs,
			  ein_access *out)
{
	memset(out, 0, sizeof(*out));
	out->loc = n->loc;
	out->tensor = -1;
	int t = ein_cascade_find_tensor(k->c, n->name);
	int nargs = n->kind == AST_ACCESS ? n->args.n : 0;
	if (t < 0 && ein_cascade_find_param(k->c, n->name) >= 0) {
		diag_error(k->diag, n->name_loc,
			   "'%s' is a parameter, not a tensor", n->name);
		return -1;
	}
	if (t < 0 && is_lhs) {
		t = add_tensor(k, n->name, n->name_loc);
		if (t < 0)
			return -1;
		out->tensor = t;
		if (nargs > EIN_MAX_DIMS) {
			diag_error(k->diag, n->loc,
				   "'%s' has %d ranks; the limit is %d", n->name,
				   nargs, EIN_MAX_DIMS);
			k->broken[t] = 1;
			return -1;
		}
		k->c->tensors[t].ndims = nargs;
		k->c->tensors[t].nelems = -1; /* shape not known yet */
	}
	if (t < 0 && report_later_def(k, n))
		return -1;
	if (t < 0) {
		diag_error(k->diag, n->name_loc, "unknown tensor '%s'", n->name);
		if (suggest(k, n->name, 2))
			hint_suggest(k, n->name, 2);
		else
			diag_hint(k->diag, "declare it, e.g. `input %s[...]`, or "
					   "define it by an earlier Einsum",
				  n->name);
		return -1;
	}
	out->tensor = t;
	if (k->broken[t])
		return -1; /* already reported */
	ein_tensor *tt = &k->c->tensors[t];
	if (tt->ndims != nargs) {
		char ranks[256] = "";
		size_t w = 0;
		for (int d = 0; d < tt->ndims && w < sizeof(ranks) - 32; d++)
			w += (size_t)snprintf(ranks + w, sizeof(ranks) - w, "%s%s",
					      d ? ", " : "", tt->dims[d].rank);
		if (n->kind == AST_IDENT)
			diag_error(k->diag, n->loc,
				   "'%s' has %d rank%s (%s); index it as %s_{...}",
				   n->name, tt->ndims, tt->ndims == 1 ? "" : "s",
				   ranks, n->name);
		else
			diag_error(k->diag, n->loc,
				   "'%s' has %d rank%s%s%s%s but %d ind%s given",
				   n->name, tt->ndims, tt->ndims == 1 ? "" : "s",
				   tt->ndims && tt->nelems >= 0 ? " (" : "",
				   tt->nelems >= 0 ? ranks : "",
				   tt->ndims && tt->nelems >= 0 ? ")" : "", nargs,
				   nargs == 1 ? "ex is" : "ices are");
		return -1;
	}
	out->tensor = t;
	out->nidx = nargs;
	int bad = 0;
	for (int i = 0; i < nargs; i++)
		if (to_aff(k, n->args.v[i], AFF_INDEX, &out->idx[i]) < 0)
			bad = 1;
	return bad ? -1 : 0;
}

/* Resolves a tensor read and records it: its index in the Einsum's reads,
 * or -1.  Not inlined: its ein_access (kilobytes) must stay out of the
 * frame of build_expr, which recurses once per level of the expression. */
static __attribute__((noinline)) int read_access(chk *k, const ast_node *n)
{
	ein_access a;
	if (resolve_access(k, n, 0, &a) < 0)
		return -1;
	return add_read(k, &a);
}

/* Builds the IR expression of a right-hand side; NULL after an error. */
static ein_expr *build_expr(chk *k, const ast_node *n)
{
	ein_expr *e = NULL;
	switch (n->kind) {
	case AST_NUM:
		e = new_expr(k, EIN_X_NUM, n->loc);
		if (e)
			e->num = n->num;
		return e;
	case AST_IDENT: {
		int p = ein_cascade_find_param(k->c, n->name);
		if (p >= 0) {
			e = new_expr(k, EIN_X_PARAM, n->loc);
			if (e)
				e->id = p;
			return e;
		}
		int v = find_var(k->es, n->name);
		if (v >= 0) {
			e = new_expr(k, EIN_X_VAR, n->loc);
			if (e)
				e->id = v;
			return e;
		}
		int t = ein_cascade_find_tensor(k->c, n->name);
		if (t >= 0) {
			int r = read_access(k, n);
			if (r < 0)
				return NULL;
			e = new_expr(k, EIN_X_ACCESS, n->loc);
			if (e)
				e->id = r;
			return e;
		}
		if (k->too_many_vars)
			return NULL;
		diag_error(k->diag, n->loc, "unknown name '%s'", n->name);
		if (suggest(k, n->name, 3))
			hint_suggest(k, n->name, 3);
		else
			diag_hint(k->diag, "a value is a number, a parameter, a rank "
					   "variable of this Einsum or a tensor "
					   "element");
		return NULL;
	}
	case AST_ACCESS: {
		int r = read_access(k, n);
		if (r < 0)
			return NULL;
		e = new_expr(k, EIN_X_ACCESS, n->loc);
		if (e)
			e->id = r;
		return e;
	}
	case AST_CALL: {
		int f = find_fn(n->name);
		if (f < 0) {
			if (ein_cascade_find_tensor(k->c, n->name) >= 0) {
				diag_error(k->diag, n->name_loc,
					   "'%s' is a tensor, not a function",
					   n->name);
				diag_hint(k->diag, "index a tensor with %s_{...}",
					  n->name);
				return NULL;
			}
			diag_error(k->diag, n->name_loc, "unknown function '%s'",
				   n->name);
			if (suggest(k, n->name, 4))
				hint_suggest(k, n->name, 4);
			else
				diag_hint(k->diag,
					  "the functions are exp log sqrt rsqrt "
					  "sigmoid silu softplus tanh relu abs neg "
					  "recip square, and max(a, b), min(a, b)");
			return NULL;
		}
		int binary = f >= EIN_FN_COUNT; /* max, min */
		int want = binary ? 2 : 1;
		if (n->args.n != want) {
			diag_error(k->diag, n->loc, "%s takes %d argument%s, not %d",
				   n->name, want, want == 1 ? "" : "s", n->args.n);
			return NULL;
		}
		ein_expr *a = build_expr(k, n->args.v[0]);
		ein_expr *b = binary ? build_expr(k, n->args.v[1]) : NULL;
		if (!a || (binary && !b)) {
			free_expr(a);
			free_expr(b);
			return NULL;
		}
		e = new_expr(k, binary ? EIN_X_BINARY : EIN_X_UNARY, n->loc);
		if (!e) {
			free_expr(a);
			free_expr(b);
			return NULL;
		}
		e->op = binary ? (f == EIN_FN_COUNT ? EIN_OP_MAX : EIN_OP_MIN) : f;
		e->a = a;
		e->b = b;
		return e;
	}
	case AST_NEG:
	case AST_BINARY:
	case AST_JUXT: {
		ein_expr *a = build_expr(k, n->a);
		ein_expr *b = n->kind == AST_NEG ? NULL : build_expr(k, n->b);
		if (!a || (n->kind != AST_NEG && !b)) {
			free_expr(a);
			free_expr(b);
			return NULL;
		}
		e = new_expr(k, n->kind == AST_NEG ? EIN_X_UNARY : EIN_X_BINARY,
			     n->loc);
		if (!e) {
			free_expr(a);
			free_expr(b);
			return NULL;
		}
		e->a = a;
		e->b = b;
		if (n->kind == AST_NEG)
			e->op = EIN_FN_NEG;
		else if (n->kind == AST_JUXT)
			e->op = k->es->map_op;
		else
			e->op = n->op == '+'   ? EIN_OP_ADD
				: n->op == '-' ? EIN_OP_SUB
				: n->op == '*' ? EIN_OP_MUL
					       : EIN_OP_DIV;
		return e;
	}
	}
	return NULL;
}

/* Converts a comparison chain into conditions (aff >= 0 or == 0). */
static int cond_to_ir(chk *k, const ast_cond *cd, ein_cond **conds, int *n)
{
	int bad = 0;
	for (int i = 0; i + 1 < cd->n; i++) {
		ein_aff a, b;
		if (to_aff(k, cd->e[i], AFF_COND, &a) < 0 ||
		    to_aff(k, cd->e[i + 1], AFF_COND, &b) < 0) {
			bad = 1;
			continue;
		}
		const char *op = cd->ops[i];
		ein_cond c = {0};
		c.loc = diag_span(cd->e[i]->loc, cd->e[i + 1]->loc);
		/* Normalise to  aff >= 0  or  aff == 0. */
		if (strcmp(op, "<") == 0) {
			c.aff = b;
			aff_add(&c.aff, &a, -1);
			c.aff.c -= 1;
		} else if (strcmp(op, "<=") == 0) {
			c.aff = b;
			aff_add(&c.aff, &a, -1);
		} else if (strcmp(op, ">") == 0) {
			c.aff = a;
			aff_add(&c.aff, &b, -1);
			c.aff.c -= 1;
		} else if (strcmp(op, ">=") == 0) {
			c.aff = a;
			aff_add(&c.aff, &b, -1);
		} else if (strcmp(op, "==") == 0) {
			c.aff = a;
			aff_add(&c.aff, &b, -1);
			c.eq = true;
		} else {
			diag_error(k->diag, c.loc,
				   "'!=' is not allowed in a filter: the iteration "
				   "space must stay convex");
			diag_hint(k->diag, "split the Einsum into one for '<' "
					   "and one for '>'");
			bad = 1;
			continue;
		}
		if (ast_grow(conds, *n, sizeof(**conds)) < 0) {
			k->oom = 1;
			return -1;
		}
		(*conds)[(*n)++] = c;
	}
	return bad ? -1 : 0;
}

/* The generational rank: `gen v until v == E` (or >=, >) bounds v to
 * [0, E).  Sets the variable's extent. */
static void check_gen(chk *k)
{
	ein_einsum *es = k->es;
	const ast_stmt *s = k->st;
	int v = find_var(es, s->gen_var);
	if (v < 0) {
		diag_error(k->diag, s->gen_loc,
			   "'%s' is not a rank variable of this Einsum",
			   s->gen_var);
		k->bad[es->index] = 1;
		return;
	}
	if (es->vars[v].reduced) {
		diag_error(k->diag, s->gen_loc,
			   "the generational rank '%s' must index the output",
			   s->gen_var);
		diag_hint(k->diag, "a generation is a rank of the tensor being "
				   "defined, e.g. H_{i+1,...} = f(H_{i,...})");
		k->bad[es->index] = 1;
		return;
	}
	es->gen_var = v;
	es->vars[v].generational = true;
	ein_cond *cs = NULL;
	int n = 0;
	if (cond_to_ir(k, s->until, &cs, &n) < 0 || n != 1) {
		if (n > 1) {
			diag_error(k->diag, s->until->loc,
				   "a stopping condition is one comparison");
			diag_hint(k->diag, "write `until %s == E`: the generations "
					   "are %s = 0, 1, ..., E-1",
				  s->gen_var, s->gen_var);
		}
		free(cs);
		k->bad[es->index] = 1;
		return;
	}
	/* cs[0].aff >= 0 (or == 0) must be  +-(v - E)  with E free of vars. */
	ein_aff a = cs[0].aff;
	int eq = cs[0].eq;
	ein_loc loc = cs[0].loc;
	free(cs);
	int64_t co = a.vc[v];
	a.vc[v] = 0;
	if (aff_has_vars(&a) || (co != 1 && !(eq && co == -1))) {
		diag_error(k->diag, loc,
			   "a stopping condition has the form `%s == E` or `%s >= E`, "
			   "with E free of rank variables",
			   s->gen_var, s->gen_var);
		diag_hint(k->diag, "write `until %s == E`: the generations are %s "
				   "= 0, 1, ..., E-1",
			  s->gen_var, s->gen_var);
		k->bad[es->index] = 1;
		return;
	}
	/* co*v + rest >= 0 (co == 1): v >= -rest, stop at E = -rest.
	 * co == -1 with eq: v == rest. */
	ein_aff ext = a;
	if (co == 1)
		aff_scale(&ext, -1);
	for (int i = 0; i < EIN_MAX_VARS; i++)
		ext.vc[i] = 0;
	es->vars[v].extent = ext;
	es->vars[v].size = ein_aff_eval(k->c, &ext, NULL);
	if (es->vars[v].size < 0) {
		char buf[128], val[64];
		ein_aff_str(k->c, &ext, NULL, buf, sizeof(buf));
		snprintf(val, sizeof(val), "%" PRId64, es->vars[v].size);
		/* "stops at N-5 = -1", but not "stops at -1 = -1". */
		diag_error(k->diag, loc,
			   "the generational rank '%s' stops at %s%s%s, before "
			   "its first generation %s = 0",
			   s->gen_var, buf, aff_is_const(&ext) ? "" : " = ",
			   aff_is_const(&ext) ? "" : val, s->gen_var);
		k->bad[es->index] = 1;
	}
}

/* Is tensor t's shape known when Einsum e is checked? */
static int shape_known(const chk *k, int t, int e)
{
	const ein_tensor *tt = &k->c->tensors[t];
	if (tt->declared)
		return 1;
	(void)e;
	return tt->nelems >= 0;
}

/* Picks each variable's extent: the generational bound, else a dimension it
 * indexes alone (output first, then the reads in order), else a parameter
 * named like it in capitals. */
static void infer_extents(chk *k)
{
	ein_einsum *es = k->es;
	for (int v = 0; v < es->nvars; v++) {
		ein_var *var = &es->vars[v];
		if (var->generational)
			continue;
		int found = 0;
		for (int r = -1; r < es->nreads && !found; r++) {
			const ein_access *a = r < 0 ? &es->out : &es->reads[r];
			if (r >= 0 && a->tensor == es->out.tensor &&
			    !k->c->tensors[a->tensor].declared)
				continue; /* its shape is still being inferred */
			if (!shape_known(k, a->tensor, es->index))
				continue;
			for (int d = 0; d < a->nidx && !found; d++)
				if (aff_plain_var(&a->idx[d]) == v) {
					const ein_dim *dim =
						&k->c->tensors[a->tensor].dims[d];
					var->extent = dim->extent;
					var->size = dim->size;
					found = 1;
				}
		}
		if (found)
			continue;
		char up[64];
		size_t i;
		for (i = 0; var->name[i] && i + 1 < sizeof(up); i++)
			up[i] = (char)toupper((unsigned char)var->name[i]);
		up[i] = '\0';
		int p = ein_cascade_find_param(k->c, up);
		if (p >= 0) {
			memset(&var->extent, 0, sizeof(var->extent));
			var->extent.pc[p] = 1;
			var->size = k->c->params[p].value;
			continue;
		}
		diag_error(k->diag, var->loc,
			   "cannot tell the range of rank variable '%s'",
			   var->name);
		diag_hint(k->diag, "'%s' indexes no dimension of a tensor whose "
				   "shape is known by itself, and there is no "
				   "parameter '%s'; declare the output's shape or "
				   "add `param %s = ...`",
			  var->name, up, up);
		k->bad[es->index] = 1;
		var->size = 0;
	}
}

/* Which variables does an expression depend on (bit v). */
static uint32_t expr_vars(const ein_einsum *es, const ein_expr *e)
{
	if (!e)
		return 0;
	uint32_t m = 0;
	if (e->kind == EIN_X_VAR)
		m |= 1u << e->id;
	if (e->kind == EIN_X_ACCESS) {
		const ein_access *a = &es->reads[e->id];
		for (int d = 0; d < a->nidx; d++)
			for (int v = 0; v < es->nvars; v++)
				if (a->idx[d].vc[v])
					m |= 1u << v;
	}
	return m | expr_vars(es, e->a) | expr_vars(es, e->b);
}

static const char *expr_desc(const ein_expr *e)
{
	if (e->kind == EIN_X_UNARY)
		return ein_fn_name((ein_fn)e->op);
	return ein_binop_name((ein_binop)e->op);
}

/* The scope rule (docs/language.md, "Reductions"): an Einsum reduces its
 * whole right-hand side.  When only a part of it depends on the reduced
 * ranks, and what surrounds that part does not distribute over the
 * reduction, the user may have meant to reduce the part first: reject, and
 * show the split. */
static void check_reduction_scope(chk *k)
{
	ein_einsum *es = k->es;
	uint32_t red = 0;
	for (int v = 0; v < es->nvars; v++)
		if (es->vars[v].reduced)
			red |= 1u << v;
	if (!red || !es->rhs)
		return;
	const ein_expr *n = es->rhs;
	const ein_expr *bad = NULL, *other = NULL;
	for (;;) {
		uint32_t ma = n->a ? expr_vars(es, n->a) & red : 0;
		uint32_t mb = n->b ? expr_vars(es, n->b) & red : 0;
		const ein_expr *next = NULL, *sib = NULL;
		int left = 0;
		if (n->kind == EIN_X_UNARY && ma) {
			next = n->a;
			left = 1;
		} else if (n->kind == EIN_X_BINARY && ma && !mb) {
			next = n->a;
			sib = n->b;
			left = 1;
		} else if (n->kind == EIN_X_BINARY && mb && !ma) {
			next = n->b;
			sib = n->a;
		}
		if (!next)
			break;
		/* Does n distribute over the reduction? */
		int ok;
		if (es->reduce_op == EIN_OP_ADD)
			ok = (n->kind == EIN_X_UNARY && n->op == EIN_FN_NEG) ||
			     (n->kind == EIN_X_BINARY &&
			      (n->op == EIN_OP_MUL || (n->op == EIN_OP_DIV && left)));
		else
			ok = n->kind == EIN_X_BINARY &&
			     (n->op == EIN_OP_ADD || (n->op == EIN_OP_SUB && left));
		if (!ok && !bad) {
			bad = n;
			other = sib;
		}
		n = next;
	}
	if (!bad)
		return;
	/* n is now the smallest part holding every reduced rank. */
	char rnames[128] = "", part[256], sibt[256], whole[512];
	size_t w = 0;
	for (int v = 0; v < es->nvars; v++)
		if ((red >> v) & 1)
			w += (size_t)snprintf(rnames + w, sizeof(rnames) - w, "%s%s",
					      w ? ", " : "", es->vars[v].name);
	src_text(k, n->loc, part, sizeof(part));
	const char *opname = es->reduce_op == EIN_OP_ADD   ? "sum"
			     : es->reduce_op == EIN_OP_MAX ? "max"
							   : "min";
	if (bad->kind == EIN_X_UNARY)
		diag_error(k->diag, n->loc,
			   "ambiguous reduction: only '%s' depends on the "
			   "reduced rank%s %s, and %s(...) around it does not "
			   "distribute over the %s",
			   part, strchr(rnames, ',') ? "s" : "", rnames,
			   expr_desc(bad), opname);
	else
		diag_error(k->diag, n->loc,
			   "ambiguous reduction: only '%s' depends on the "
			   "reduced rank%s %s, and combining it by '%s' with "
			   "'%s' does not distribute over the %s",
			   part, strchr(rnames, ',') ? "s" : "", rnames,
			   expr_desc(bad),
			   src_text(k, other->loc, sibt, sizeof(sibt)), opname);
	/* Suggest the split, when the texts are on one line. */
	const ast_stmt *s = k->st;
	char lhs[256];
	src_text(k, s->lhs->loc, lhs, sizeof(lhs));
	src_text(k, s->rhs->loc, whole, sizeof(whole));
	if (s->rhs->loc.line == s->rhs->loc.end_line && n->loc.line == s->rhs->loc.line) {
		const ein_tensor *out = &k->c->tensors[es->out.tensor];
		char tmp[300];
		char idx[256];
		const char *brace = strstr(lhs, "_{");
		snprintf(idx, sizeof(idx), "%s", brace ? brace : "");
		snprintf(tmp, sizeof(tmp), "%s_r%s", out->name, idx);
		int off = n->loc.col - s->rhs->loc.col;
		int len = n->loc.end_col - n->loc.col + 1;
		if (off >= 0 && (size_t)(off + len) <= strlen(whole))
			diag_hint(k->diag,
				  "an Einsum maps, then reduces its whole "
				  "right-hand side; to reduce first, split it: "
				  "`%s = %s` then `%s = %.*s%s%s`",
				  tmp, part, lhs, off, whole, tmp, whole + off + len);
	} else {
		diag_hint(k->diag, "an Einsum maps, then reduces its whole "
				   "right-hand side; to reduce first, compute the "
				   "reduction in an Einsum of its own");
	}
	k->bad[es->index] = 1;
}

/* Extent (parametric and value) of output dimension d implied by this
 * Einsum's writes: the largest index written, plus one. */
static void write_extent(chk *k, const ein_access *a, int d, ein_aff *ext,
			 int64_t *size)
{
	const ein_einsum *es = k->es;
	ein_aff r = a->idx[d];
	for (int v = 0; v < es->nvars; v++) {
		int64_t co = r.vc[v];
		r.vc[v] = 0;
		if (co > 0) {
			/* co * (extent - 1) */
			ein_aff t = es->vars[v].extent;
			t.c -= 1;
			aff_add(&r, &t, co);
		}
	}
	for (int v = 0; v < EIN_MAX_VARS; v++)
		r.vc[v] = 0;
	r.c += 1;
	*ext = r;
	*size = ein_aff_eval(k->c, &r, NULL);
}

/* Grows the shape of an implicit output tensor to cover this Einsum's
 * writes. */
static void infer_output_shape(chk *k)
{
	ein_einsum *es = k->es;
	ein_tensor *tt = &k->c->tensors[es->out.tensor];
	if (tt->declared)
		return;
	for (int d = 0; d < tt->ndims; d++) {
		ein_aff ext;
		int64_t size;
		write_extent(k, &es->out, d, &ext, &size);
		if (tt->nelems < 0 || size > tt->dims[d].size) {
			tt->dims[d].extent = ext;
			tt->dims[d].size = size;
			free(tt->dims[d].rank);
			int p = aff_plain_param(&ext);
			char nm[128];
			if (p >= 0)
				snprintf(nm, sizeof(nm), "%s", k->c->params[p].name);
			else
				ein_aff_str(k->c, &ext, NULL, nm, sizeof(nm));
			tt->dims[d].rank = xstrdup(k, nm);
		}
	}
	int64_t n = 1;
	for (int d = 0; d < tt->ndims; d++) {
		if (tt->dims[d].size < 1)
			tt->dims[d].size = 1;
		if (__builtin_mul_overflow(n, tt->dims[d].size, &n) ||
		    n > ((int64_t)1 << MAX_ELEMS_LOG2))
			n = (int64_t)1 << MAX_ELEMS_LOG2;
	}
	tt->nelems = n;
}

static int reads_tensor(const ein_einsum *es, int t)
{
	for (int r = 0; r < es->nreads; r++)
		if (es->reads[r].tensor == t)
			return 1;
	return 0;
}

/* First Einsum (index) writing t, or -1. */
static int __attribute__((unused)) first_writer(const chk *k, int t, int before)
{
	for (int i = 0; i < before; i++)
		if (k->c->einsums[i].out.tensor == t)
			return i;
	return -1;
}

static void check_einsum(chk *k, const ast_stmt *s)
{
	ein_cascade *c = k->c;
	ein_einsum *es = &c->einsums[c->neinsums];
	memset(es, 0, sizeof(*es));
	es->index = c->neinsums++;
	es->loc = s->loc;
	es->gen_var = -1;
	es->out.tensor = -1; /* until resolved */
	k->es = es;
	k->st = s;
	k->est[es->index] = s;
	k->bad[es->index] = 0;
	k->too_many_vars = 0;

	/* The output tensor. */
	const ast_node *lhs = s->lhs;
	int t = ein_cascade_find_tensor(c, lhs->name);
	if (t < 0 && ein_cascade_find_param(c, lhs->name) >= 0) {
		diag_error(k->diag, lhs->name_loc,
			   "'%s' is a parameter; it cannot be assigned",
			   lhs->name);
		k->bad[es->index] = 1;
		return;
	}
	if (t >= 0 && (c->tensors[t].role == EIN_ROLE_INPUT ||
		       c->tensors[t].role == EIN_ROLE_WEIGHT)) {
		diag_error(k->diag, lhs->name_loc,
			   "'%s' is %s %s; Einsums cannot write it", lhs->name,
			   c->tensors[t].role == EIN_ROLE_INPUT ? "an" : "a",
			   ein_role_name(c->tensors[t].role));
		diag_hint(k->diag, "declare it with `output` or `tensor`, or "
				   "write to another tensor");
		k->bad[es->index] = 1;
	}
	/* Rank variables: the output's first, then the reads'. */
	if (lhs->kind == AST_ACCESS)
		for (int i = 0; i < lhs->args.n; i++)
			collect_vars(k, lhs->args.v[i]);
	int nout = es->nvars;
	collect_rhs_vars(k, s->rhs);
	for (int v = 0; v < es->nvars; v++)
		es->vars[v].reduced = v >= nout;
	if (k->oom)
		return;
	if (resolve_access(k, lhs, 1, &es->out) < 0)
		k->bad[es->index] = 1;
	t = es->out.tensor;
	if (k->bad[es->index] && t < 0)
		return;

	/* Name: the label, or the tensor's name (made unique later). */
	if (s->label) {
		int prev = ein_cascade_find_einsum(c, s->label);
		int par = ein_cascade_find_param(c, s->label);
		if (prev >= 0) {
			diag_error(k->diag, s->label_loc,
				   "the label '%s' is already used", s->label);
			diag_note(k->diag, k->est[prev]->label_loc,
				  "first used here");
			k->bad[es->index] = 1;
		} else if (par >= 0) {
			diag_error(k->diag, s->label_loc,
				   "the label '%s' is already a parameter's name",
				   s->label);
			diag_note(k->diag, c->params[par].loc,
				  "'%s' is defined here", s->label);
			k->bad[es->index] = 1;
		}
		es->name = xstrdup(k, s->label);
	}

	check_spec(k);
	es->rhs = build_expr(k, s->rhs);
	if (!es->rhs)
		k->bad[es->index] = 1;
	for (int i = 0; i < s->nfilters; i++)
		if (cond_to_ir(k, s->filters[i], &es->conds, &es->nconds) < 0)
			k->bad[es->index] = 1;
	if (s->gen_var)
		check_gen(k);
	if (k->oom)
		return;

	/* Recurrences: an Einsum may read its own output only across
	 * generations. */
	if (reads_tensor(es, es->out.tensor) && es->gen_var < 0 &&
	    !k->bad[es->index]) {
		diag_error(k->diag, lhs->loc, "'%s' is defined in terms of itself",
			   lhs->name);
		diag_hint(k->diag, "a recurrence needs a generational rank: add "
				   "`gen i until i == I` naming the rank that "
				   "advances");
		k->bad[es->index] = 1;
	} else if (es->gen_var >= 0 && !reads_tensor(es, es->out.tensor)) {
		diag_warning(k->diag, s->gen_loc,
			     "'%s' is marked generational but '%s' does not read "
			     "itself",
			     s->gen_var, lhs->name);
	}
	int reduced = 0;
	for (int v = 0; v < es->nvars; v++)
		reduced |= es->vars[v].reduced;
	for (int i = 0; i < s->nspec; i++)
		if (strcmp(s->spec[i].name, "reduce") == 0 && !reduced)
			diag_warning(k->diag, s->spec[i].loc,
				     "reduce(...) has no effect: no rank is "
				     "reduced");
	if (k->bad[es->index])
		return;
	infer_extents(k);
	check_reduction_scope(k);
	if (k->bad[es->index])
		return;
	infer_output_shape(k);
}

static void check_einsums(chk *k)
{
	ein_cascade *c = k->c;
	int n = 0;
	for (int i = 0; i < k->prog->n; i++)
		n += k->prog->stmts[i]->kind == AST_S_EINSUM;
	c->einsums = calloc((size_t)(n ? n : 1), sizeof(*c->einsums));
	k->bad = calloc((size_t)(n ? n : 1), 1);
	k->est = calloc((size_t)(n ? n : 1), sizeof(*k->est));
	if (!c->einsums || !k->bad || !k->est) {
		k->oom = 1;
		return;
	}
	for (int i = 0; i < k->prog->n && !k->oom; i++)
		if (k->prog->stmts[i]->kind == AST_S_EINSUM)
			check_einsum(k, k->prog->stmts[i]);
}

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
		es->name = xstrdup(k, nm);
	}
}

/* ------------------------------------------------- whole-cascade checks */

static int push_int(int **v, int *n, int x)
{
	int *r = realloc(*v, (size_t)(*n + 1) * sizeof(int));
	if (!r)
		return -1;
	*v = r;
	r[(*n)++] = x;
	return 0;
}

static void link_tensors(chk *k)
{
	ein_cascade *c = k->c;
	for (int e = 0; e < c->neinsums; e++) {
		ein_einsum *es = &c->einsums[e];
		if (k->bad[e])
			continue;
		if (push_int(&c->tensors[es->out.tensor].writers,
			     &c->tensors[es->out.tensor].nwriters, e) < 0)
			k->oom = 1;
		for (int r = 0; r < es->nreads; r++) {
			ein_tensor *tt = &c->tensors[es->reads[r].tensor];
			if (tt->nreaders && tt->readers[tt->nreaders - 1] == e)
				continue;
			if (push_int(&tt->readers, &tt->nreaders, e) < 0)
				k->oom = 1;
		}
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

/* Formats "name=value, ..." of a statement point. */
static void point_str(const ein_einsum *es, const int64_t *x, char *buf,
		      size_t len)
{
	size_t w = 0;
	buf[0] = '\0';
	for (int v = 0; v < es->nvars && w < len; v++)
		w += (size_t)snprintf(buf + w, len - w, "%s%s=%" PRId64,
				      v ? ", " : "", es->vars[v].name, x[v]);
}

static void elem_str(const ein_tensor *tt, const int64_t *x, char *buf,
		     size_t len)
{
	size_t w = (size_t)snprintf(buf, len, "%s[", tt->name);
	for (int d = 0; d < tt->ndims && w < len; d++)
		w += (size_t)snprintf(buf + w, len - w, "%s%" PRId64, d ? ", " : "",
				      x[d]);
	if (w < len)
		snprintf(buf + w, len - w, "]");
}

static void shape_str(const ein_tensor *tt, char *buf, size_t len)
{
	size_t w = (size_t)snprintf(buf, len, "[");
	for (int d = 0; d < tt->ndims && w < len; d++)
		w += (size_t)snprintf(buf + w, len - w, "%s%" PRId64, d ? ", " : "",
				      tt->dims[d].size);
	if (w < len)
		snprintf(buf + w, len - w, "]");
}

/* Evaluates access a at point x. */
static void access_at(const ein_cascade *c, const ein_access *a,
		      const int64_t *x, int64_t *out)
{
	int64_t vars[EIN_MAX_VARS] = {0};
	memcpy(vars, x, sizeof(int64_t) * EIN_MAX_VARS);
	for (int d = 0; d < a->nidx; d++)
		out[d] = ein_aff_eval(c, &a->idx[d], vars);
}

#define ISL_OK(x)                                                            \
	do {                                                                 \
		if (!(x))                                                    \
			goto isl_fail;                                       \
	} while (0)

/* Every access stays inside its tensor. */
static int check_bounds(chk *k, isl_ctx *ctx, int e, isl_set *dom)
{
	ein_cascade *c = k->c;
	ein_einsum *es = &c->einsums[e];
	for (int r = -1; r < es->nreads; r++) {
		const ein_access *a = r < 0 ? &es->out : &es->reads[r];
		const ein_tensor *tt = &c->tensors[a->tensor];
		isl_map *acc = isl_map_intersect_domain(
			poly_access(ctx, c, e, a), isl_set_copy(dom));
		isl_set *box = isl_set_intersect_params(
			poly_tensor_box(ctx, c, a->tensor), poly_context(ctx, c));
		isl_map *bad = isl_map_subtract_range(acc, box);
		ISL_OK(bad);
		isl_bool empty = isl_map_is_empty(bad);
		if (empty < 0) {
			isl_map_free(bad);
			goto isl_fail;
		}
		if (empty) {
			isl_map_free(bad);
			continue;
		}
		/* The first bad point, so that the witness is stable. */
		int64_t x[EIN_MAX_VARS] = {0}, el[EIN_MAX_DIMS];
		if (poly_sample(isl_set_lexmin(isl_map_domain(bad)), x, es->nvars) < 0)
			goto isl_fail;
		access_at(c, a, x, el);
		char at[280], elem[256], shape[128], txt[256];
		point_str(es, x, at, sizeof(at));
		elem_str(tt, el, elem, sizeof(elem));
		shape_str(tt, shape, sizeof(shape));
		src_text(k, a->loc, txt, sizeof(txt));
		diag_error(k->diag, a->loc,
			   "%s %s outside '%s': %s%s%sit is %s, but '%s' has shape %s",
			   txt, r < 0 ? "writes" : "reads", tt->name,
			   es->nvars ? "at " : "", at, es->nvars ? " " : "", elem,
			   tt->name, shape);
		if (r >= 0)
			diag_hint(k->diag, "restrict the rank variables with a "
					   "filter, e.g. `where ...`, or check the "
					   "index expressions");
		else if (tt->declared)
			diag_hint(k->diag, "check the declared shape of '%s'",
				  tt->name);
	}
	return 0;
isl_fail:
	return -1;
}

/* One point writes one element: points differing in an output variable
 * never write the same element. */
static int check_injective(chk *k, isl_ctx *ctx, int e, isl_set *dom)
{
	ein_cascade *c = k->c;
	ein_einsum *es = &c->einsums[e];
	isl_map *w = isl_map_intersect_domain(poly_access(ctx, c, e, &es->out),
					      isl_set_copy(dom));
	isl_map *rev = isl_map_reverse(isl_map_copy(w));
	isl_map *same = isl_map_apply_range(w, rev);
	/* Keep pairs whose output variables differ. */
	isl_map *eqo = isl_map_universe(isl_map_get_space(same));
	for (int v = 0; v < es->nvars; v++)
		if (!es->vars[v].reduced)
			eqo = isl_map_equate(eqo, isl_dim_in, v, isl_dim_out, v);
	isl_map *bad = isl_map_subtract(same, eqo);
	ISL_OK(bad);
	isl_bool empty = isl_map_is_empty(bad);
	if (empty < 0) {
		isl_map_free(bad);
		return -1;
	}
	if (empty) {
		isl_map_free(bad);
		return 0;
	}
	/* The first pair of points, so that the witness is stable. */
	isl_set *w2 = isl_set_lexmin(isl_map_wrap(bad));
	int64_t xy[2 * EIN_MAX_VARS];
	if (poly_sample(w2, xy, 2 * es->nvars) < 0)
		return -1;
	int64_t x[EIN_MAX_VARS] = {0}, y[EIN_MAX_VARS] = {0}, el[EIN_MAX_DIMS];
	memcpy(x, xy, sizeof(int64_t) * (size_t)es->nvars);
	memcpy(y, xy + es->nvars, sizeof(int64_t) * (size_t)es->nvars);
	access_at(c, &es->out, x, el);
	char a[256], b[256], elem[256];
	point_str(es, x, a, sizeof(a));
	point_str(es, y, b, sizeof(b));
	elem_str(&c->tensors[es->out.tensor], el, elem, sizeof(elem));
	diag_error(k->diag, es->out.loc,
		   "%s is written twice by this Einsum: at %s and at %s", elem,
		   a, b);
	diag_hint(k->diag, "the output indices must name each element once; "
			   "ranks that should be summed must not appear on the "
			   "left-hand side");
	return 0;
isl_fail:
	return -1;
}

/* Einsums writing the same tensor write disjoint elements. */
static int check_overlap(chk *k, isl_ctx *ctx, int e, isl_set **doms)
{
	ein_cascade *c = k->c;
	ein_einsum *es = &c->einsums[e];
	const ein_tensor *tt = &c->tensors[es->out.tensor];
	for (int i = 0; i < tt->nwriters; i++) {
		int f = tt->writers[i];
		if (f >= e)
			break;
		if (!doms[f])
			continue; /* skipped by check_isl */
		isl_set *a = isl_set_apply(isl_set_copy(doms[e]),
					   poly_access(ctx, c, e, &es->out));
		isl_set *b = isl_set_apply(isl_set_copy(doms[f]),
					   poly_access(ctx, c, f, &c->einsums[f].out));
		isl_set *both = isl_set_intersect(a, b);
		ISL_OK(both);
		int64_t el[EIN_MAX_DIMS];
		isl_bool empty = isl_set_is_empty(both);
		if (empty < 0) {
			isl_set_free(both);
			return -1;
		}
		if (empty) {
			isl_set_free(both);
			continue;
		}
		if (poly_sample(isl_set_lexmin(both), el, tt->ndims) < 0)
			return -1;
		char elem[256];
		elem_str(tt, el, elem, sizeof(elem));
		diag_error(k->diag, es->out.loc,
			   "conflicting writes: %s is written by this Einsum "
			   "and by '%s'",
			   elem, c->einsums[f].name);
		diag_note(k->diag, c->einsums[f].out.loc, "'%s' writes it here",
			  c->einsums[f].name);
		return 0;
	}
	return 0;
isl_fail:
	return -1;
}

/* Every element an Einsum reads from a computed tensor was written before:
 * by an earlier Einsum, or by this one at an earlier generation. */
static int check_defined(chk *k, isl_ctx *ctx, int e, isl_set **doms)
{
	ein_cascade *c = k->c;
	ein_einsum *es = &c->einsums[e];
	for (int r = 0; r < es->nreads; r++) {
		const ein_access *a = &es->reads[r];
		const ein_tensor *tt = &c->tensors[a->tensor];
		if (tt->role == EIN_ROLE_INPUT || tt->role == EIN_ROLE_WEIGHT)
			continue;
		isl_map *rd = isl_map_intersect_domain(poly_access(ctx, c, e, a),
						       isl_set_copy(doms[e]));
		int first = -1;
		for (int i = 0; i < tt->nwriters && tt->writers[i] < e; i++)
			if (doms[tt->writers[i]]) { /* else skipped by check_isl */
				first = tt->writers[i];
				break;
			}
		/* Extend the tensor's union of written elements to the writers
		 * before e, coalesced: one disjunct per writer would make the
		 * subtraction below grow with their number. */
		isl_set **av = &k->avail[a->tensor];
		int *an = &k->avail_n[a->tensor];
		for (; *an < tt->nwriters && tt->writers[*an] < e; ++*an) {
			int f = tt->writers[*an];
			if (!doms[f])
				continue;
			isl_set *img = isl_set_apply(
				isl_set_copy(doms[f]),
				poly_access(ctx, c, f, &c->einsums[f].out));
			*av = isl_set_coalesce(*av ? isl_set_union(*av, img) : img);
			if (!*av) {
				isl_map_free(rd);
				return -1;
			}
		}
		isl_set *avail = *av ? isl_set_copy(*av)
				     : isl_set_empty(isl_space_range(
					       isl_map_get_space(rd)));
		isl_map *bad = isl_map_subtract_range(rd, avail);
		if (a->tensor == es->out.tensor && es->gen_var >= 0) {
			/* Own writes at earlier generations. */
			isl_space *sp = isl_space_map_from_set(
				isl_set_get_space(doms[e]));
			isl_map *earlier = isl_map_universe(sp);
			earlier = isl_map_order_lt(earlier, isl_dim_out, es->gen_var,
						   isl_dim_in, es->gen_var);
			earlier = isl_map_intersect_domain(earlier,
							   isl_set_copy(doms[e]));
			earlier = isl_map_intersect_range(earlier,
							  isl_set_copy(doms[e]));
			isl_map *own = isl_map_apply_range(
				earlier, poly_access(ctx, c, e, &es->out));
			bad = isl_map_subtract(bad, own);
		}
		ISL_OK(bad);
		isl_bool empty = isl_map_is_empty(bad);
		if (empty < 0) {
			isl_map_free(bad);
			return -1;
		}
		if (empty) {
			isl_map_free(bad);
			continue;
		}
		int64_t x[EIN_MAX_VARS] = {0}, el[EIN_MAX_DIMS];
		if (poly_sample(isl_map_domain(isl_map_lexmin(bad)), x, es->nvars) < 0)
			return -1;
		access_at(c, a, x, el);
		char at[256], elem[256], txt[256];
		point_str(es, x, at, sizeof(at));
		elem_str(tt, el, elem, sizeof(elem));
		src_text(k, a->loc, txt, sizeof(txt));
		int later = -1;
		for (int i = 0; i < tt->nwriters; i++)
			if (tt->writers[i] > e) {
				later = tt->writers[i];
				break;
			}
		if (first < 0 && a->tensor != es->out.tensor && later >= 0) {
			diag_error(k->diag, a->loc,
				   "'%s' is used before it is defined", tt->name);
			diag_hint(k->diag, "Einsums run in source order: move this "
					   "one after the Einsum that defines '%s'",
				  tt->name);
			diag_note(k->diag, c->einsums[later].out.loc,
				  "'%s' is defined here", tt->name);
		} else {
			diag_error(k->diag, a->loc,
				   "%s reads %s%s%s, but nothing writes that "
				   "element before",
				   txt, elem, es->nvars ? " at " : "", at);
			if (a->tensor == es->out.tensor)
				diag_hint(k->diag, "a generation may read only "
						   "earlier generations, and the "
						   "first one must be written by an "
						   "earlier Einsum");
			else
				diag_hint(k->diag, "check the filters and index "
						   "expressions of the Einsums that "
						   "write '%s'",
					  tt->name);
		}
	}
	return 0;
isl_fail:
	return -1;
}

static int check_outputs_covered(chk *k, isl_ctx *ctx, isl_set **doms)
{
	ein_cascade *c = k->c;
	for (int t = 0; t < c->ntensors; t++) {
		ein_tensor *tt = &c->tensors[t];
		if (tt->role != EIN_ROLE_OUTPUT || !tt->nwriters)
			continue;
		isl_set *left = isl_set_intersect_params(poly_tensor_box(ctx, c, t),
							 poly_context(ctx, c));
		for (int i = 0; i < tt->nwriters; i++) {
			int f = tt->writers[i];
			left = isl_set_subtract(
				left, isl_set_apply(isl_set_copy(doms[f]),
						    poly_access(ctx, c, f,
								&c->einsums[f].out)));
		}
		ISL_OK(left);
		isl_bool empty = isl_set_is_empty(left);
		if (empty < 0) {
			isl_set_free(left);
			return -1;
		}
		if (empty) {
			isl_set_free(left);
			continue;
		}
		int64_t el[EIN_MAX_DIMS];
		if (poly_sample(isl_set_lexmin(left), el, tt->ndims) < 0)
			return -1;
		char elem[256];
		elem_str(tt, el, elem, sizeof(elem));
		diag_warning(k->diag, tt->loc,
			     "output '%s' is not fully written: %s is never "
			     "written and stays 0",
			     tt->name, elem);
	}
	return 0;
isl_fail:
	return -1;
}

static void check_isl(chk *k)
{
	ein_cascade *c = k->c;
	isl_ctx *ctx = poly_ctx_new();
	isl_set **doms = NULL;
	char *skip = NULL, *taint = NULL;
	if (!ctx) {
		k->oom = 1;
		return;
	}
	doms = calloc((size_t)(c->neinsums ? c->neinsums : 1), sizeof(*doms));
	skip = calloc((size_t)(c->neinsums ? c->neinsums : 1), 1);
	taint = calloc((size_t)(c->ntensors ? c->ntensors : 1), 1);
	k->avail = calloc((size_t)(c->ntensors ? c->ntensors : 1), sizeof(*k->avail));
	k->avail_n = calloc((size_t)(c->ntensors ? c->ntensors : 1), sizeof(*k->avail_n));
	if (!doms || !skip || !taint || !k->avail || !k->avail_n) {
		k->oom = 1;
		goto done;
	}
	/* Skip the broken Einsums, and those reading a tensor that a skipped
	 * one writes: its shape and contents are then incomplete, and the
	 * checks would report errors that are not there.  To a fixpoint,
	 * since a later writer also shapes an implicit tensor. */
	for (int changed = 1; changed;) {
		changed = 0;
		for (int e = 0; e < c->neinsums; e++) {
			const ein_einsum *es = &c->einsums[e];
			int sk = k->bad[e];
			for (int r = 0; r < es->nreads && !sk; r++)
				sk = taint[es->reads[r].tensor];
			if (skip[e] || !sk)
				continue;
			skip[e] = 1;
			if (es->out.tensor >= 0)
				taint[es->out.tensor] = 1;
			changed = 1;
		}
	}
	for (int e = 0; e < c->neinsums; e++) {
		if (skip[e])
			continue;
		doms[e] = poly_domain(ctx, c, e, 1);
		if (!doms[e])
			goto isl_fail;
	}
	for (int e = 0; e < c->neinsums; e++) {
		if (skip[e])
			continue;
		int before = diag_error_count(k->diag);
		if (check_bounds(k, ctx, e, doms[e]) < 0)
			goto isl_fail;
		/* Out-of-bounds accesses make the other checks meaningless. */
		if (diag_error_count(k->diag) > before) {
			k->bad[e] = 1;
			continue;
		}
		if (check_injective(k, ctx, e, doms[e]) < 0 ||
		    check_overlap(k, ctx, e, doms) < 0 ||
		    check_defined(k, ctx, e, doms) < 0)
			goto isl_fail;
	}
	if (diag_error_count(k->diag) == 0 &&
	    check_outputs_covered(k, ctx, doms) < 0)
		goto isl_fail;
	goto done;
isl_fail:
	diag_error(k->diag, (ein_loc){0, 0, 0, 0},
		   "internal error in the polyhedral checks: %s", poly_error(ctx));
done:
	if (doms)
		for (int e = 0; e < c->neinsums; e++)
			isl_set_free(doms[e]);
	if (k->avail)
		for (int t = 0; t < c->ntensors; t++)
			isl_set_free(k->avail[t]);
	free(k->avail);
	free(k->avail_n);
	k->avail = NULL;
	k->avail_n = NULL;
	free(doms);
	free(skip);
	free(taint);
	isl_ctx_free(ctx);
}

/* ---------------------------------------------------------------- limits */

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

/* ------------------------------------------------------------------ API */

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
	check_params(&k);
	check_decls(&k);
	/* The exact checks need sound sizes: after an error in a parameter or
	 * a declaration, they would report errors that are not there. */
	int early_errors = diag_error_count(diag);
	if (!k.oom)
		check_einsums(&k);
	if (!k.oom) {
		name_einsums(&k);
		link_tensors(&k);
	}
	if (!k.oom)
		check_usage(&k);
	if (!k.oom && early_errors == 0)
		check_isl(&k);
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
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	diag_ctx *d = NULL;
	if (!f) {
		snprintf(errbuf, errlen, "%s: cannot open: %s", path,
			 strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, len = 0;
	buf = malloc(cap);
	if (!buf)
		goto oom;
	for (;;) {
		if (len == cap) {
			if (cap > max_bytes) {
				snprintf(errbuf, errlen,
					 "%s: the source is larger than %zu bytes",
					 path, max_bytes);
				goto done;
			}
			cap *= 2;
			char *n = realloc(buf, cap);
			if (!n)
				goto oom;
			buf = n;
		}
		size_t r = fread(buf + len, 1, cap - len, f);
		len += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(errbuf, errlen, "%s: read error: %s", path, strerror(errno));
		goto done;
	}
	if (len > max_bytes) {
		snprintf(errbuf, errlen, "%s: the source is larger than %zu bytes",
			 path, max_bytes);
		goto done;
	}
	const char *nul = memchr(buf, '\0', len);
	if (nul) {
		int line = 1;
		for (const char *p = buf; p < nul; p++)
			line += *p == '\n';
		snprintf(errbuf, errlen,
			 "%s: the source contains a NUL byte (line %d); it is not "
			 "a text file",
			 path, line);
		goto done;
	}
	d = diag_new(path, buf, len);
	if (!d)
		goto oom;
	goto done;
oom:
	snprintf(errbuf, errlen, "%s: out of memory", path);
done:
	free(buf);
	fclose(f);
	return d;
}
