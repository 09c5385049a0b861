/* ast.c - syntax tree constructors and destructors (see ast.h). */
#include "ast.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ast_grow(void *v, int n, size_t elem)
{
	void **p = v;
	if (n > 0 && (n < 4 || (n & (n - 1)) != 0))
		return 0; /* 1 to 3, or not a power of two: there is room */
	void *b = realloc(*p, (n > 0 ? 2 * (size_t)n : 4) * elem);
	if (!b)
		return -1;
	*p = b;
	return 0;
}

static ast_node *node_new(ast_kind kind, ein_loc loc)
{
	ast_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->kind = kind;
	n->loc = loc;
	n->depth = 1;
	return n;
}

ast_node *ast_num(ein_loc loc, const char *text)
{
	ast_node *n = node_new(AST_NUM, loc);
	if (!n)
		return NULL;
	n->num = strtod(text, NULL);
	n->is_int = strpbrk(text, ".eE") == NULL;
	if (n->is_int) {
		errno = 0;
		long long v = strtoll(text, NULL, 10);
		/* An integer too large for int64 stays a (float) number: the
		 * checker then rejects it where an integer is needed. */
		if (errno == ERANGE)
			n->is_int = false;
		else
			n->ival = v;
	}
	return n;
}

ast_node *ast_ident(ein_loc loc, char *name)
{
	ast_node *n = node_new(AST_IDENT, loc);
	if (!n) {
		free(name);
		return NULL;
	}
	n->name = name;
	n->name_loc = loc;
	return n;
}

ast_node *ast_access(ein_loc loc, char *name, ein_loc name_loc)
{
	ast_node *n = node_new(AST_ACCESS, loc);
	if (!n) {
		free(name);
		return NULL;
	}
	n->name = name;
	n->name_loc = name_loc;
	return n;
}

ast_node *ast_call(ein_loc loc, char *name, ein_loc name_loc)
{
	ast_node *n = ast_access(loc, name, name_loc);
	if (n)
		n->kind = AST_CALL;
	return n;
}

ast_node *ast_unary_neg(ein_loc loc, ast_node *a)
{
	ast_node *n = node_new(AST_NEG, loc);
	if (!n) {
		ast_node_free(a);
		return NULL;
	}
	n->a = a;
	n->depth = (a ? a->depth : 0) + 1;
	return n;
}

ast_node *ast_binary(ein_loc loc, char op, ast_node *a, ast_node *b)
{
	ast_node *n = node_new(AST_BINARY, loc);
	if (!n) {
		ast_node_free(a);
		ast_node_free(b);
		return NULL;
	}
	n->op = op;
	n->a = a;
	n->b = b;
	int da = a ? a->depth : 0, db = b ? b->depth : 0;
	n->depth = (da > db ? da : db) + 1;
	return n;
}

ast_node *ast_juxt(ein_loc loc, ast_node *a, ast_node *b)
{
	ast_node *n = ast_binary(loc, ' ', a, b);
	if (n)
		n->kind = AST_JUXT;
	return n;
}

int ast_list_push(ast_list *l, ast_node *n)
{
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 4;
		ast_node **v = realloc(l->v, (size_t)cap * sizeof(*v));
		if (!v) {
			ast_node_free(n);
			return -1;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = n;
	return 0;
}

void ast_node_free(ast_node *n)
{
	if (!n)
		return;
	ast_node_free(n->a);
	ast_node_free(n->b);
	for (int i = 0; i < n->args.n; i++)
		ast_node_free(n->args.v[i]);
	free(n->args.v);
	free(n->name);
	free(n);
}

ast_cond *ast_cond_new(ast_node *a, const char *op, ast_node *b)
{
	ast_cond *c = calloc(1, sizeof(*c));
	if (!c)
		goto fail;
	if (ast_grow(&c->e, 0, sizeof(*c->e)) < 0)
		goto fail;
	c->e[0] = a;
	c->n = 1;
	c->loc = a ? a->loc : (ein_loc){0, 0, 0, 0};
	a = NULL;
	if (ast_cond_push(c, op, b) < 0) {
		ast_cond_free(c);
		return NULL;
	}
	return c;
fail:
	free(c);
	ast_node_free(a);
	ast_node_free(b);
	return NULL;
}

int ast_cond_push(ast_cond *c, const char *op, ast_node *b)
{
	/* n operands and n - 1 operators so far */
	if (ast_grow(&c->e, c->n, sizeof(*c->e)) < 0 ||
	    ast_grow(&c->ops, c->n - 1, sizeof(*c->ops)) < 0)
		goto fail;
	snprintf(c->ops[c->n - 1], 3, "%s", op);
	c->e[c->n++] = b;
	if (b) {
		c->loc.end_line = b->loc.end_line;
		c->loc.end_col = b->loc.end_col;
	}
	return 0;
fail:
	ast_node_free(b);
	return -1;
}

void ast_cond_free(ast_cond *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->n; i++)
		ast_node_free(c->e[i]);
	free(c->e);
	free(c->ops);
	free(c);
}

ast_stmt *ast_stmt_new(ast_stmt_kind kind, ein_loc loc)
{
	ast_stmt *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->kind = kind;
	s->loc = loc;
	s->ndims = -1;
	return s;
}

int ast_stmt_add_dim(ast_stmt *s, char *rank, ein_loc rank_loc, ast_node *extent)
{
	int n = s->ndims < 0 ? 0 : s->ndims;
	if (ast_grow(&s->dims, n, sizeof(*s->dims)) < 0) {
		free(rank);
		ast_node_free(extent);
		return -1;
	}
	s->dims[n].rank = rank;
	s->dims[n].rank_loc = rank_loc;
	s->dims[n].extent = extent;
	s->ndims = n + 1;
	return 0;
}

int ast_stmt_add_spec(ast_stmt *s, ast_spec_item *item)
{
	if (ast_grow(&s->spec, s->nspec, sizeof(*s->spec)) < 0) {
		ast_spec_item_clear(item);
		return -1;
	}
	s->spec[s->nspec++] = *item;
	return 0;
}

int ast_stmt_add_filter(ast_stmt *s, ast_cond *c)
{
	if (ast_grow(&s->filters, s->nfilters, sizeof(*s->filters)) < 0) {
		ast_cond_free(c);
		return -1;
	}
	s->filters[s->nfilters++] = c;
	return 0;
}

void ast_spec_item_clear(ast_spec_item *it)
{
	free(it->name);
	for (int i = 0; i < it->nargs; i++)
		free(it->args[i]);
	free(it->args);
	free(it->arg_locs);
	memset(it, 0, sizeof(*it));
}

void ast_stmt_free(ast_stmt *s)
{
	if (!s)
		return;
	free(s->name);
	ast_node_free(s->value);
	free(s->role);
	for (int i = 0; i < s->ndims; i++) {
		free(s->dims[i].rank);
		ast_node_free(s->dims[i].extent);
	}
	free(s->dims);
	free(s->type);
	free(s->draw);
	ast_node_free(s->draw_lo);
	ast_node_free(s->draw_hi);
	free(s->label);
	ast_node_free(s->lhs);
	ast_node_free(s->rhs);
	for (int i = 0; i < s->nspec; i++)
		ast_spec_item_clear(&s->spec[i]);
	free(s->spec);
	for (int i = 0; i < s->nfilters; i++)
		ast_cond_free(s->filters[i]);
	free(s->filters);
	free(s->gen_var);
	ast_cond_free(s->until);
	free(s);
}

int ast_program_push(ast_program *p, ast_stmt *s)
{
	if (p->n == p->cap) {
		int cap = p->cap ? 2 * p->cap : 16;
		ast_stmt **v = realloc(p->stmts, (size_t)cap * sizeof(*v));
		if (!v) {
			ast_stmt_free(s);
			return -1;
		}
		p->stmts = v;
		p->cap = cap;
	}
	p->stmts[p->n++] = s;
	return 0;
}

void ast_program_free(ast_program *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->n; i++)
		ast_stmt_free(p->stmts[i]);
	free(p->stmts);
	free(p);
}
