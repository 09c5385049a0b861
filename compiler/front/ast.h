/* ast.h - the syntax tree the parser builds (grammar/parser.y).
 *
 * Nothing here is checked: names are strings, index expressions are plain
 * expressions.  The checker (check.h) resolves and validates everything and
 * produces the cascade IR.  Every node carries its source range.
 */
#ifndef MAMBALAYA_AST_H
#define MAMBALAYA_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "cascade.h"

typedef enum ast_kind {
	AST_NUM,    /* num; is_int and ival when written without '.' or 'e' */
	AST_IDENT,  /* name: parameter, rank variable or 0-d tensor */
	AST_ACCESS, /* name_{args}: tensor element */
	AST_CALL,   /* name(args): function */
	AST_NEG,    /* -a */
	AST_BINARY, /* a op b, op one of + - * / */
	AST_JUXT    /* a b: operands combined by the map operator */
} ast_kind;

typedef struct ast_node ast_node;

typedef struct ast_list {
	int n, cap;
	ast_node **v;
} ast_list;

struct ast_node {
	ast_kind kind;
	ein_loc loc;
	double num;
	bool is_int;
	int64_t ival;
	char *name;
	char op;
	ein_loc name_loc;
	ast_node *a, *b;
	ast_list args;
	int depth; /* 1 + the largest depth of a, b and args */
};

/* Expressions deeper than this are refused by the parser: every pass walks
 * expressions recursively, so depth must be bounded (docs/reliability.md). */
#define AST_MAX_DEPTH 1000

/* A comparison chain  e0 op0 e1 op1 e2 ...  (ops: "<" "<=" ">" ">=" "==" "!="). */
typedef struct ast_cond {
	ein_loc loc;
	int n;          /* number of operands */
	ast_node **e;   /* n operands */
	char (*ops)[3]; /* n-1 operators */
} ast_cond;

typedef struct ast_spec_item {
	char *name; /* "map" or "reduce" (checked later) */
	ein_loc loc;
	int nargs;
	char **args;
	ein_loc *arg_locs;
} ast_spec_item;

typedef enum ast_stmt_kind { AST_S_PARAM, AST_S_DECL, AST_S_EINSUM } ast_stmt_kind;

typedef struct ast_dim {
	char *rank; /* NULL when not named */
	ein_loc rank_loc;
	ast_node *extent;
} ast_dim;

typedef struct ast_stmt {
	ast_stmt_kind kind;
	ein_loc loc;
	/* AST_S_PARAM */
	char *name;
	ein_loc name_loc;
	ast_node *value;
	/* AST_S_DECL: role keyword ("input" ...), name, dims, type */
	char *role;
	int ndims; /* -1: no brackets (scalar) */
	ast_dim *dims;
	char *type;
	ein_loc type_loc;
	char *draw; /* `~ NAME(lo, hi)`: what --random draws, or NULL */
	ein_loc draw_loc;
	ast_node *draw_lo, *draw_hi;
	/* AST_S_EINSUM */
	char *label;
	ein_loc label_loc;
	ast_node *lhs; /* AST_ACCESS or AST_IDENT */
	ast_node *rhs;
	int nspec;
	ast_spec_item *spec;
	int nfilters;
	ast_cond **filters;
	char *gen_var; /* NULL if no gen clause */
	ein_loc gen_loc;
	ast_cond *until;
} ast_stmt;

typedef struct ast_program {
	int n, cap;
	ast_stmt **stmts;
} ast_program;

/* Constructors return NULL only on allocation failure; they take ownership
 * of the nodes and strings passed in (and free them on failure). */
ast_node *ast_num(ein_loc loc, const char *text);
ast_node *ast_ident(ein_loc loc, char *name);
ast_node *ast_access(ein_loc loc, char *name, ein_loc name_loc);
ast_node *ast_call(ein_loc loc, char *name, ein_loc name_loc);
ast_node *ast_unary_neg(ein_loc loc, ast_node *a);
ast_node *ast_binary(ein_loc loc, char op, ast_node *a, ast_node *b);
ast_node *ast_juxt(ein_loc loc, ast_node *a, ast_node *b);
int ast_list_push(ast_list *l, ast_node *n);

/* Makes room for element n of *v, an array of n elements of elem bytes
 * that is appended to one element at a time and stores no capacity: its
 * block is doubled when full (room for 4, 8, 16, ... elements), so that
 * appending stays linear (growing it by one element at a time made long
 * lists quadratic: minutes for a few megabytes of source under ASan).
 * Returns -1 if out of memory, *v unchanged.  For the syntax tree and the
 * checker's IR lists (reads, filters). */
int ast_grow(void *v, int n, size_t elem);

ast_cond *ast_cond_new(ast_node *a, const char *op, ast_node *b);
int ast_cond_push(ast_cond *c, const char *op, ast_node *b);

ast_stmt *ast_stmt_new(ast_stmt_kind kind, ein_loc loc);
int ast_stmt_add_dim(ast_stmt *s, char *rank, ein_loc rank_loc, ast_node *extent);
int ast_stmt_add_spec(ast_stmt *s, ast_spec_item *item);
int ast_stmt_add_filter(ast_stmt *s, ast_cond *c);
int ast_program_push(ast_program *p, ast_stmt *s);

void ast_node_free(ast_node *n);
void ast_cond_free(ast_cond *c);
void ast_spec_item_clear(ast_spec_item *it);
void ast_stmt_free(ast_stmt *s);
void ast_program_free(ast_program *p);

/* Parses a whole source.  Syntax errors go to diag; returns the program
 * (possibly partial when there were errors) or NULL on allocation failure.
 * Defined in grammar/parser.y. */
struct diag_ctx;
ast_program *ast_parse(struct diag_ctx *diag);

#endif
