/* check_expr.c - the parts of one Einsum: its rank variables, the
 * map/reduce spec, tensor accesses, the right-hand side as IR, filters
 * (see check_impl.h). */
#include "check_impl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Adds the rank variables found in index expression n (identifiers that are
 * not parameters) to the current Einsum. */
void chk_collect_vars(chk *k, const ast_node *n)
{
	if (!n)
		return;
	switch (n->kind) {
	case AST_IDENT: {
		if (ein_cascade_find_param(k->c, n->name) >= 0 ||
		    ein_cascade_find_tensor(k->c, n->name) >= 0)
			return; /* to_aff reports tensors used as indices */
		if (chk_find_var(k->es, n->name) >= 0)
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
		v->name = chk_xstrdup(k, n->name);
		v->loc = n->loc;
		return;
	}
	case AST_NEG:
	case AST_BINARY:
		chk_collect_vars(k, n->a);
		chk_collect_vars(k, n->b);
		return;
	default:
		return; /* calls, accesses, juxtapositions: errors in to_aff */
	}
}

/* Collects rank variables from every access index of a value expression. */
void chk_collect_rhs_vars(chk *k, const ast_node *n)
{
	if (!n)
		return;
	if (n->kind == AST_ACCESS) {
		for (int i = 0; i < n->args.n; i++)
			chk_collect_vars(k, n->args.v[i]);
		return;
	}
	chk_collect_rhs_vars(k, n->a);
	chk_collect_rhs_vars(k, n->b);
	if (n->kind == AST_CALL)
		for (int i = 0; i < n->args.n; i++)
			chk_collect_rhs_vars(k, n->args.v[i]);
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

void chk_spec(chk *k)
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
int chk_resolve_access(chk *k, const ast_node *n, int is_lhs,
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
		t = chk_add_tensor(k, n->name, n->name_loc);
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
		if (chk_suggest(k, n->name, 2))
			chk_hint_suggest(k, n->name, 2);
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
		if (chk_to_aff(k, n->args.v[i], AFF_INDEX, &out->idx[i]) < 0)
			bad = 1;
	return bad ? -1 : 0;
}

/* Resolves a tensor read and records it: its index in the Einsum's reads,
 * or -1.  Not inlined: its ein_access (kilobytes) must stay out of the
 * frame of build_expr, which recurses once per level of the expression. */
static __attribute__((noinline)) int read_access(chk *k, const ast_node *n)
{
	ein_access a;
	if (chk_resolve_access(k, n, 0, &a) < 0)
		return -1;
	return add_read(k, &a);
}

/* Builds the IR expression of a right-hand side; NULL after an error. */
ein_expr *chk_build_expr(chk *k, const ast_node *n)
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
		int v = chk_find_var(k->es, n->name);
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
		if (chk_suggest(k, n->name, 3))
			chk_hint_suggest(k, n->name, 3);
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
		int f = chk_find_fn(n->name);
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
			if (chk_suggest(k, n->name, 4))
				chk_hint_suggest(k, n->name, 4);
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
		ein_expr *a = chk_build_expr(k, n->args.v[0]);
		ein_expr *b = binary ? chk_build_expr(k, n->args.v[1]) : NULL;
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
		ein_expr *a = chk_build_expr(k, n->a);
		ein_expr *b = n->kind == AST_NEG ? NULL : chk_build_expr(k, n->b);
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
int chk_cond_to_ir(chk *k, const ast_cond *cd, ein_cond **conds, int *n)
{
	int bad = 0;
	for (int i = 0; i + 1 < cd->n; i++) {
		ein_aff a, b;
		if (chk_to_aff(k, cd->e[i], AFF_COND, &a) < 0 ||
		    chk_to_aff(k, cd->e[i + 1], AFF_COND, &b) < 0) {
			bad = 1;
			continue;
		}
		const char *op = cd->ops[i];
		ein_cond c = {0};
		c.loc = diag_span(cd->e[i]->loc, cd->e[i + 1]->loc);
		/* Normalise to  aff >= 0  or  aff == 0. */
		if (strcmp(op, "<") == 0) {
			c.aff = b;
			chk_aff_add(&c.aff, &a, -1);
			c.aff.c -= 1;
		} else if (strcmp(op, "<=") == 0) {
			c.aff = b;
			chk_aff_add(&c.aff, &a, -1);
		} else if (strcmp(op, ">") == 0) {
			c.aff = a;
			chk_aff_add(&c.aff, &b, -1);
			c.aff.c -= 1;
		} else if (strcmp(op, ">=") == 0) {
			c.aff = a;
			chk_aff_add(&c.aff, &b, -1);
		} else if (strcmp(op, "==") == 0) {
			c.aff = a;
			chk_aff_add(&c.aff, &b, -1);
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
