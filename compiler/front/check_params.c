/* check_params.c - parameters: defaults, -D overrides, their values (see
 * check_impl.h). */
#include "check_impl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Integer value of a parameter default; only parameters before `upto` may
 * be used.  Returns 0, or -1 after reporting an error. */
static int param_eval(chk *k, const ast_node *n, int upto, int64_t *out)
{
	int64_t a, b;
	switch (n->kind) {
	case AST_NUM:
		if (chk_report_big_int(k, n))
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
		chk_hint_suggest(k, n->name, 1);
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

void chk_params(chk *k)
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
		chk_reserved(k, s->name, s->name_loc, "parameter");
		ein_param *p = &c->params[c->nparams++];
		p->name = chk_xstrdup(k, s->name);
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
			chk_hint_suggest(k, name, 1);
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
